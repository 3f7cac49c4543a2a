//! `Issue4368Live` (`support/issues/issue_4368.ex`): an auto-upload whose `UploadWriter`
//! refuses a chunk `"error"` (`:invalid_pdf`) and sleeps 500 ms on a chunk `"delay"`
//! (`chunk_size: 5`); the failed entry stays, with `{:writer_failure, :invalid_pdf}`, until it
//! is cancelled, and a submit scheduled during its upload is cancelled. The progress callback
//! consumes each finished entry.

use std::time::Duration;

use livefire::upload::{CloseReason, UploadConfig, UploadEntry, UploadWriter, live_file_input};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};
use serde_json::{Map, Value, json};

use crate::components::inspect_upload_error;
use crate::eval;
use crate::layout;

/// `Issue4368Live.Writer`: its state is the entry's client name.
#[derive(Debug)]
pub struct Writer {
    name: String,
}

impl UploadWriter for Writer {
    async fn write_chunk(&mut self, chunk: &[u8]) -> std::result::Result<(), Value> {
        match chunk {
            b"error" => Err(json!("invalid_pdf")),
            b"delay" => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn close(
        &mut self,
        _reason: CloseReason,
    ) -> std::result::Result<Map<String, Value>, Value> {
        let mut meta = Map::new();
        meta.insert("name".into(), Value::from(self.name.as_str()));
        Ok(meta)
    }
}

/// `Issue4368Live`.
#[derive(Debug, Default)]
pub struct Issue4368Live {
    consumed: Vec<String>,
    submitted: bool,
}

impl LiveView for Issue4368Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        let documents = UploadConfig::any()
            .auto_upload(true)
            .chunk_size(5)
            .max_entries(2)
            .writer(|entry| Writer {
                name: entry.client_name().to_owned(),
            });
        socket.allow_upload("documents", documents)?;
        Ok(())
    }

    async fn handle_progress(
        &mut self,
        _name: &str,
        entry: &UploadEntry,
        socket: &mut Socket,
    ) -> Result {
        if entry.is_done() {
            let file = socket.consume_uploaded_entry(entry)?;
            self.consumed
                .insert(0, file.entry().client_name().to_owned());
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {}
            "cancel" => {
                let entry_ref = event.get("ref").unwrap_or_default().to_owned();
                socket.cancel_upload("documents", &entry_ref)?;
            }
            "submit" => self.submitted = true,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let Some(documents) = socket.upload("documents") else {
            return layout::live(socket, html!());
        };
        layout::live(
            socket,
            html!(
                <div id="issue-4368">
                    <form id="upload-form" phx-change="validate" phx-submit="submit">
                        {live_file_input(documents)}
                        <button type="submit">"Submit"</button>
                    </form>
                    <p id="submitted">"submitted: " {self.submitted.to_string()}</p>
                    <p id="consumed">"consumed: " {self.consumed.join(",")}</p>
                    @for entry in documents.entries() {
                        <article class="upload-entry" data-name={entry.client_name()}>
                            <span>{entry.client_name()} ": " {entry.progress()} "%"</span>
                            <button type="button" phx-click="cancel" phx-value-ref={entry.entry_ref()}>"Cancel"</button>
                            @for error in documents.entry_errors(entry) {
                                <p class="upload-error">{inspect_upload_error(error)}</p>
                            }
                        </article>
                    }
                </div>
            ),
        )
    }
}
