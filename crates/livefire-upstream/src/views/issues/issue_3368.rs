//! `Issue3368Live` (`support/issues/issue_3368.ex`): an upload inside a live component
//! (`UploadComponent`, its form targets `@myself`); a drop of one file replaces the entries
//! of a single-file upload that failed with `too_many_files`.
//!
//! Upstream's component allows the upload in its own `mount`. livefire keeps uploads on the
//! view's socket: the view allows `:file` in `mount` and passes the upload to the component
//! as its assigns; the component's events (the client sends them, and the upload's preflight
//! and progress, with the component's `cid`) reach it through its `ComponentSocket`, which
//! consumes from the view's socket.

use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::upload::{Upload, UploadConfig, live_file_input};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::components::inspect_upload_error;
use crate::eval;
use crate::layout;

/// `Issue3368Live`.
#[derive(Debug, Default)]
pub struct Issue3368Live;

impl LiveView for Issue3368Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        let file = UploadConfig::new([".jpg", ".jpeg", ".png", ".gif"])?.max_entries(1);
        socket.allow_upload("file", file)?;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        Err(eval::fallback(&event))
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let Some(file) = socket.upload("file") else {
            return layout::live(socket, html!());
        };
        layout::live(
            socket,
            html!({ live_component::<UploadComponent>("uploader", file.clone()) }),
        )
    }
}

/// `Issue3368Live.UploadComponent`: its assigns are the view's `:file` upload.
#[derive(Debug)]
pub struct UploadComponent {
    upload: Upload,
    saved_files: Vec<String>,
}

impl LiveComponent for UploadComponent {
    type Assigns = Upload;

    fn new(upload: &Upload) -> Self {
        Self {
            upload: upload.clone(),
            saved_files: Vec::new(),
        }
    }

    async fn update(&mut self, upload: Upload, _socket: &mut ComponentSocket<'_>) -> Result {
        self.upload = upload;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "validate" => {}
            "save" => {
                self.saved_files = socket
                    .consume_uploaded_entries("file")?
                    .iter()
                    .map(|file| file.entry().client_name().to_owned())
                    .collect();
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        let file = &self.upload;
        html!(
            <div>
                <form id="upload-form" phx-change="validate" phx-submit="save" phx-target={myself}>
                    <div id="dropzone" phx-drop-target={file.upload_ref()}>"Drop files here"</div>
                    {live_file_input(file)}
                    <button type="submit">"Upload"</button>
                </form>
                @for entry in file.entries() {
                    <p class="upload-entry">{entry.client_name()}</p>
                }
                @for error in file.errors() {
                    <p class="upload-error">{inspect_upload_error(error)}</p>
                }
                <p id="saved-files">{self.saved_files.join(",")}</p>
            </div>
        )
    }
}
