//! File uploads: the browser sends files to a live view over its socket, in chunks, with
//! progress, validation and cancellation, the way Phoenix LiveView's uploads work (the official
//! client does the browser side unchanged).
//!
//! 1. **Allow** an upload in `mount`: [`SocketCore::allow_upload`](crate::SocketCore::allow_upload)
//!    with a name and an [`UploadConfig`] (accepted types, how many files, how large).
//! 2. **Render** its input inside a form with `phx-change` (and `phx-submit`):
//!    [`live_file_input`] (and [`live_img_preview`] per entry, progress from
//!    [`UploadEntry::progress`], errors from [`Upload::errors`] / [`Upload::entry_errors`]).
//! 3. The client announces the selected files in each change event (livefire validates them
//!    against the config: `too_large`, `not_accepted`, `too_many_files`), asks for a preflight
//!    (`allow_upload`: livefire answers with one sealed token per valid file), then joins one
//!    `lvu:` channel per file and sends it in binary chunk frames. Each chunk is written to a
//!    temporary file before it is acknowledged; a file that sends more than it announced, stops
//!    sending for [`chunk_timeout`](UploadConfig::chunk_timeout), or whose view goes away is
//!    dropped and its temporary file deleted.
//! 4. **Consume** on submit: [`SocketCore::consume_uploaded_entries`](crate::SocketCore::consume_uploaded_entries)
//!    hands over the finished files ([`UploadedFile`]: move them with
//!    [`persist`](UploadedFile::persist), or read them); files not taken are deleted when the
//!    entry is cancelled or the view ends.
//!
//! ```
//! use livefire::upload::{live_file_input, UploadConfig};
//! use livefire::{html, Event, LiveView, Mount, Rendered, Result, Socket};
//!
//! #[derive(Default)]
//! struct Avatar { saved: Vec<String> }
//!
//! impl LiveView for Avatar {
//!     type Message = ();
//!     async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
//!         socket.allow_upload("avatar", UploadConfig::new([".jpg", ".png"])?.max_entries(2))?;
//!         Ok(())
//!     }
//!     async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
//!         match event.name() {
//!             "validate" => Ok(()),
//!             "save" => {
//!                 for file in socket.consume_uploaded_entries("avatar")? {
//!                     let dest = std::env::temp_dir().join(file.entry().uuid());
//!                     file.persist(&dest).await.map_err(livefire::Error::app)?;
//!                     self.saved.push(dest.display().to_string());
//!                 }
//!                 Ok(())
//!             }
//!             other => Err(livefire::Error::UnknownEvent(other.to_owned())),
//!         }
//!     }
//!     fn render(&self, socket: &Socket) -> Rendered {
//!         let Some(avatar) = socket.upload("avatar") else { return html!() };
//!         html!(
//!             <form id="avatar-form" phx-change="validate" phx-submit="save">
//!                 {live_file_input(avatar)}
//!                 @for entry in avatar.entries() {
//!                     <progress value={entry.progress()} max="100"></progress>
//!                 }
//!                 <button>"Upload"</button>
//!             </form>
//!         )
//!     }
//! }
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let (mut view, mut socket) = (Avatar::default(), Socket::disconnected());
//! view.mount(&Mount::default(), &mut socket).await.unwrap();
//! let html = view.render(&socket).to_html();
//! assert!(html.contains(r#"data-phx-hook="Phoenix.LiveFileUpload""#));
//! assert!(html.contains(r#"accept=".jpg,.png""#) && html.contains(" multiple"));
//! # }
//! ```

mod config;
mod entry;
mod input;
pub(crate) mod state;
mod token;
pub(crate) mod writer;

pub use self::config::{
    DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_TIMEOUT, DEFAULT_MAX_FILE_SIZE, ExternalFn, MaxEntriesMode,
    UploadConfig, UploadConfigError,
};
pub use self::entry::{EntryError, Upload, UploadEntry, UploadedFile};
pub use self::input::{LiveFileInput, LiveImgPreview, live_file_input, live_img_preview};
pub(crate) use self::state::{Finished, Registration, UploadJoin, Uploads};
pub(crate) use self::token::{EntryClaims, open_entry_token, seal_entry_token};
pub use self::writer::{CloseReason, UploadWriter};

/// A failed upload operation of a view ([`SocketCore::allow_upload`](crate::SocketCore::allow_upload),
/// [`cancel_upload`](crate::SocketCore::cancel_upload),
/// [`consume_uploaded_entries`](crate::SocketCore::consume_uploaded_entries)).
///
/// It converts into [`crate::Error`]; [`UploadError::UnknownEntry`] and
/// [`UploadError::InProgress`] count as bad client input (the event gets an error reply and the
/// view keeps running), the others as application errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] UploadConfigError),
    /// No upload of this name is allowed.
    #[error("no upload named {0:?} is allowed")]
    NotAllowed(String),
    /// The upload has entries: cancel or consume them before allowing or disallowing it again.
    #[error("upload {0:?} still has entries; cancel or consume them first")]
    ActiveEntries(String),
    /// The upload has no entry with this ref (a stale or forged ref from the client).
    #[error("upload has no entry {0:?}")]
    UnknownEntry(String),
    /// Some entries are still uploading (or failed): they cannot be consumed yet.
    #[error("uploads are still in progress")]
    InProgress,
}

impl UploadError {
    /// True for errors a client causes (a stale entry ref, a submit before the files are
    /// uploaded).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::UnknownEntry(_) | Self::InProgress)
    }
}
