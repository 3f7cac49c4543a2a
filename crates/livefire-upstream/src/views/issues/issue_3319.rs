//! `Issue3319Live` (`support/issues/issue_3319.ex`): a `required` file input of a two-file
//! upload; submitting two selected files consumes both.

use livefire::upload::{UploadConfig, live_file_input};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::eval;
use crate::layout;

/// `Issue3319Live`.
#[derive(Debug, Default)]
pub struct Issue3319Live {
    submitted: Vec<String>,
}

impl LiveView for Issue3319Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        socket.allow_upload("documents", UploadConfig::any().max_entries(2))?;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {}
            "submit" => {
                self.submitted = socket
                    .consume_uploaded_entries("documents")?
                    .iter()
                    .map(|file| file.entry().client_name().to_owned())
                    .collect();
            }
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
                <form id="upload-form" phx-change="validate" phx-submit="submit">
                    {live_file_input(documents).attr("required", "")}
                    <button type="submit">"Submit"</button>
                    @for entry in documents.entries() {
                        <p class="upload-entry">{entry.client_name()}</p>
                    }
                </form>
                <p id="submitted">{self.submitted.join(",")}</p>
            ),
        )
    }
}
