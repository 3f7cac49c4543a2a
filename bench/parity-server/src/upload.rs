//! `/upload`: [`UploadSink`], one auto-upload of any file type (up to [`MAX_UPLOAD`] bytes, in
//! [`CHUNK_SIZE`] chunks) whose progress callback consumes the finished entry: it reads the
//! received file's length from the file system, shows it, and drops the file (its temporary
//! file is deleted at once). Nothing of the file is kept in memory.

use livefire::upload::{UploadConfig, UploadEntry, live_file_input};
use livefire::{Error, Event, LiveView, Mount, Rendered, Result, Socket, html};

/// The largest file `/upload` accepts: 256 MiB.
pub const MAX_UPLOAD: u64 = 256 << 20;

/// Bytes per chunk frame the view asks for: 64 KiB (the server's
/// [`Limits::max_message_size`](livefire::Limits::max_message_size) must leave 1 KiB more for
/// the frame's header, or livefire lowers it: see [`crate::limits`]).
pub const CHUNK_SIZE: u32 = 64 * 1024;

/// The upload view: every finished file is consumed and listed as `name: bytes`.
///
/// ```
/// use bench_parity_server::UploadSink;
/// use livefire::{LiveView, Mount, Socket};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (mut view, mut socket) = (UploadSink::default(), Socket::disconnected());
/// view.mount(&Mount::default(), &mut socket).await.unwrap();
/// let upload = socket.upload("file").unwrap();
/// assert_eq!(upload.config().get_max_file_size(), bench_parity_server::upload::MAX_UPLOAD);
/// assert!(upload.config().is_auto_upload());
/// assert!(view.render(&socket).to_html().contains(r#"data-phx-hook="Phoenix.LiveFileUpload""#));
/// # }
/// ```
#[derive(Debug, Default)]
pub struct UploadSink {
    received: Vec<(String, u64)>,
}

impl LiveView for UploadSink {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        socket.allow_upload(
            "file",
            UploadConfig::any()
                .max_entries(1)
                .max_file_size(MAX_UPLOAD)
                .chunk_size(CHUNK_SIZE)
                .auto_upload(true),
        )?;
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
            let bytes = match file.path() {
                Some(path) => tokio::fs::metadata(path).await.map_err(Error::app)?.len(),
                None => 0,
            };
            self.received
                .push((file.entry().client_name().to_owned(), bytes));
            // Dropping the file deletes the temporary file.
            drop(file);
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => Ok(()),
            other => Err(Error::UnknownEvent(other.to_owned())),
        }
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let Some(file) = socket.upload("file") else {
            return html!(<p>"no upload"</p>);
        };
        html! {
            <form id="upload-form" phx-change="validate">
                {live_file_input(file)}
                @for entry in file.entries() {
                    <progress value={entry.progress()} max="100">{entry.progress()} "%"</progress>
                }
            </form>
            <ul id="received">
                @for (name, bytes) in &self.received {
                    <li>{name.as_str()} ": " {*bytes} " bytes"</li>
                }
            </ul>
        }
    }
}
