//! `Issue3391Live` (`support/issues/issue_3391.ex`): an invalid file of a single-file
//! auto-upload cancels the form's submit without locking it; after cancelling it, a valid file
//! uploads (its progress callback consumes it) and the form submits.

use livefire::upload::{UploadConfig, UploadEntry, live_file_input};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::components::inspect_upload_error;
use crate::eval;
use crate::layout;

/// `Issue3391Live`.
#[derive(Debug, Default)]
pub struct Issue3391Live {
    submitted: bool,
    uploaded: bool,
}

impl LiveView for Issue3391Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        let document = UploadConfig::new([".txt"])?
            .auto_upload(true)
            .max_entries(1);
        socket.allow_upload("document", document)?;
        Ok(())
    }

    async fn handle_progress(
        &mut self,
        _name: &str,
        entry: &UploadEntry,
        socket: &mut Socket,
    ) -> Result {
        if entry.is_done() {
            socket.consume_uploaded_entry(entry)?;
            self.uploaded = true;
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {}
            "cancel" => {
                let entry_ref = event.get("ref").unwrap_or_default().to_owned();
                socket.cancel_upload("document", &entry_ref)?;
            }
            "submit" => self.submitted = true,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let Some(document) = socket.upload("document") else {
            return layout::live(socket, html!());
        };
        layout::live(
            socket,
            html!(
                <form id="upload-form" phx-change="validate" phx-submit="submit">
                    {live_file_input(document)}
                    <button type="submit">"Submit"</button>
                    @for entry in document.entries() {
                        <article class="upload-entry">
                            <span>{entry.client_name()} ": " {entry.progress()} "%"</span>
                            <button type="button" phx-click="cancel" phx-value-ref={entry.entry_ref()}>"Cancel"</button>
                            @for error in document.entry_errors(entry) {
                                <p class="upload-error">{inspect_upload_error(error)}</p>
                            }
                        </article>
                    }
                </form>
                <p id="uploaded">"uploaded: " {self.uploaded.to_string()}</p>
                <p id="submitted">"submitted: " {self.submitted.to_string()}</p>
            ),
        )
    }
}
