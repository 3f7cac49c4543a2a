//! `Issue2835Live` (`support/issues/issue_2835.ex`): an auto-upload of at most two files in
//! total (`max_entries_mode: :total`); its progress callback consumes each finished entry, and
//! the consumed files keep counting, so a third and a fourth file stay pending with
//! `too_many_files`.

use livefire::upload::{MaxEntriesMode, UploadConfig, UploadEntry, live_file_input};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::components::inspect_upload_error;
use crate::eval;
use crate::layout;

/// `Issue2835Live`.
#[derive(Debug, Default)]
pub struct Issue2835Live {
    uploaded_files: Vec<String>,
}

impl LiveView for Issue2835Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        let documents = UploadConfig::any()
            .auto_upload(true)
            .max_entries(2)
            .max_entries_mode(MaxEntriesMode::Total);
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
            self.uploaded_files
                .push(file.entry().client_name().to_owned());
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => Ok(()),
            _ => Err(eval::fallback(&event)),
        }
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let Some(documents) = socket.upload("documents") else {
            return layout::live(socket, html!());
        };
        layout::live(
            socket,
            html!(
                <form id="upload-form" phx-change="validate">
                    {live_file_input(documents)}
                    @for entry in documents.entries() {
                        <article class="upload-entry" data-name={entry.client_name()}>
                            {entry.client_name()} ": " {entry.progress()} "%"
                        </article>
                    }
                    @for error in documents.errors() {
                        <p class="upload-error">{inspect_upload_error(error)}</p>
                    }
                </form>
                <ul id="uploaded-files">
                    @for name in &self.uploaded_files { <li>{name.as_str()}</li> }
                </ul>
            ),
        )
    }
}
