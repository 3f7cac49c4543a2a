//! What a view sees of its uploads: [`Upload`], its [`UploadEntry`]s and their [`EntryError`]s,
//! and the finished files it consumes ([`UploadedFile`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::UploadConfig;

/// One file the client selected for an upload, as the client described it, with its
/// progress.
///
/// The `client_*` values come from the browser and are not to be trusted (the name in
/// particular is any string: never use it as a path; [`uuid`](Self::uuid) is a safe name).
#[derive(Debug, Clone, PartialEq)]
pub struct UploadEntry {
    pub(crate) entry_ref: String,
    pub(crate) upload_ref: String,
    pub(crate) upload_name: Arc<str>,
    pub(crate) uuid: String,
    pub(crate) client_name: String,
    pub(crate) client_relative_path: Option<String>,
    pub(crate) client_size: u64,
    pub(crate) client_type: String,
    pub(crate) client_last_modified: Option<u64>,
    pub(crate) client_meta: Option<Value>,
    pub(crate) progress: u8,
    pub(crate) preflighted: bool,
    pub(crate) valid: bool,
    pub(crate) done: bool,
    pub(crate) cancelled: bool,
}

impl UploadEntry {
    /// The client's ref of this entry (`phx-value-ref` of a cancel button).
    pub fn entry_ref(&self) -> &str {
        &self.entry_ref
    }

    /// The ref of the upload it belongs to.
    pub fn upload_ref(&self) -> &str {
        &self.upload_ref
    }

    /// The name of the upload it belongs to.
    pub fn upload_name(&self) -> &str {
        &self.upload_name
    }

    /// A random UUID (v4) made by the server for this entry: a safe file name.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The file name the browser reported.
    pub fn client_name(&self) -> &str {
        &self.client_name
    }

    /// The path within a selected directory (`webkitRelativePath`), if any.
    pub fn client_relative_path(&self) -> Option<&str> {
        self.client_relative_path.as_deref()
    }

    /// The size the browser announced, in bytes (the upload may not send more).
    pub fn client_size(&self) -> u64 {
        self.client_size
    }

    /// The MIME type the browser reported (may be empty).
    pub fn client_type(&self) -> &str {
        &self.client_type
    }

    /// The file's last modification time (milliseconds since the Unix epoch), if reported.
    pub fn client_last_modified(&self) -> Option<u64> {
        self.client_last_modified
    }

    /// Metadata the client attached (a `File`'s `meta()` function), if any.
    pub fn client_meta(&self) -> Option<&Value> {
        self.client_meta.as_ref()
    }

    /// Upload progress, 0 to 100.
    pub fn progress(&self) -> u8 {
        self.progress
    }

    /// Whether the server has answered the preflight for it.
    pub fn is_preflighted(&self) -> bool {
        self.preflighted
    }

    /// Whether it passed validation (type, size).
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// Whether the upload finished (100 %).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Whether it was cancelled while uploading (it disappears once the upload has stopped).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }
}

/// Why an entry (or a whole upload, for [`EntryError::TooManyFiles`]) is in error.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EntryError {
    /// Larger than [`UploadConfig::max_file_size`].
    TooLarge,
    /// Not matched by the accept list.
    NotAccepted,
    /// More files than [`UploadConfig::max_entries`] (an error of the upload, not an entry).
    TooManyFiles,
    /// An external uploader reported a failure from the browser.
    ExternalClientFailure,
    /// The server could not store the file (disk full, temporary directory missing, …).
    WriterFailure,
    /// The upload's [`UploadWriter`](super::UploadWriter) failed with this reason (the entry
    /// stays, failed, until it is cancelled). Its [`code`](Self::code) is `writer_failure` too.
    Writer(Value),
    /// The external presigner refused the entry, with this value.
    External(Value),
}

impl EntryError {
    /// The reason as Phoenix names it on the wire (`"too_large"`, …).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::NotAccepted => "not_accepted",
            Self::TooManyFiles => "too_many_files",
            Self::ExternalClientFailure => "external_client_failure",
            Self::WriterFailure | Self::Writer(_) => "writer_failure",
            Self::External(_) => "external_metadata_failure",
        }
    }

    /// The reason as sent to the client in preflight replies.
    pub(crate) fn to_wire(&self) -> Value {
        match self {
            Self::External(meta) => meta.clone(),
            other => Value::String(other.code().to_owned()),
        }
    }
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::TooLarge => "the file is too large",
            Self::NotAccepted => "this file type is not accepted",
            Self::TooManyFiles => "too many files were selected",
            Self::ExternalClientFailure => "the upload failed in the browser",
            Self::WriterFailure | Self::Writer(_) => "the server could not store the file",
            Self::External(_) => "the upload was refused",
        })
    }
}

/// One allowed upload of a view, as the view renders it: its config, entries and errors.
///
/// It is `Clone + PartialEq`, so a view can pass it to a live component as an assign.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub(crate) name: Arc<str>,
    pub(crate) upload_ref: String,
    pub(crate) config: UploadConfig,
    pub(crate) entries: Vec<UploadEntry>,
    /// `(entry ref or upload ref, error)`, in the order they happened.
    pub(crate) errors: Vec<(String, EntryError)>,
}

impl Upload {
    /// The upload's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its ref: the file input's id, and the value of `phx-drop-target`. A fresh one is made
    /// each time the upload is allowed.
    pub fn upload_ref(&self) -> &str {
        &self.upload_ref
    }

    /// Its config.
    pub fn config(&self) -> &UploadConfig {
        &self.config
    }

    /// The selected files, in the order they were selected.
    pub fn entries(&self) -> &[UploadEntry] {
        &self.entries
    }

    /// Errors of the upload as a whole (today only [`EntryError::TooManyFiles`]).
    pub fn errors(&self) -> Vec<&EntryError> {
        self.errors
            .iter()
            .filter(|(r, _)| *r == self.upload_ref)
            .map(|(_, e)| e)
            .collect()
    }

    /// Errors of one entry.
    pub fn entry_errors(&self, entry: &UploadEntry) -> Vec<&EntryError> {
        self.errors
            .iter()
            .filter(|(r, _)| *r == entry.entry_ref)
            .map(|(_, e)| e)
            .collect()
    }

    /// Whether any entry or the upload has an error.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub(crate) fn entry(&self, entry_ref: &str) -> Option<&UploadEntry> {
        self.entries.iter().find(|e| e.entry_ref == entry_ref)
    }

    pub(crate) fn entry_mut(&mut self, entry_ref: &str) -> Option<&mut UploadEntry> {
        self.entries.iter_mut().find(|e| e.entry_ref == entry_ref)
    }
}

/// A finished upload entry, handed over by
/// [`consume_uploaded_entries`](crate::SocketCore::consume_uploaded_entries): the file in a
/// temporary location (deleted when this value is dropped, unless persisted), or for an
/// external upload the presigner's metadata, for an upload with an
/// [`UploadWriter`](super::UploadWriter) the metadata its writer returned on close.
#[derive(Debug)]
pub struct UploadedFile {
    pub(crate) entry: UploadEntry,
    pub(crate) file: Option<tempfile::TempPath>,
    pub(crate) meta: Option<Map<String, Value>>,
}

impl UploadedFile {
    /// The entry as the client described it.
    pub fn entry(&self) -> &UploadEntry {
        &self.entry
    }

    /// The temporary file (channel uploads; `None` for external ones and custom writers).
    pub fn path(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The presigner's metadata (external uploads), or the writer's (uploads with an
    /// [`UploadWriter`](super::UploadWriter)).
    pub fn meta(&self) -> Option<&Map<String, Value>> {
        self.meta.as_ref()
    }

    /// Reads the whole file (on a blocking thread).
    pub async fn read(&self) -> std::io::Result<Vec<u8>> {
        match self.path() {
            Some(path) => tokio::fs::read(path).await,
            None => Err(no_file()),
        }
    }

    /// Moves the file to `dest` (a rename, or a copy when `dest` is on another file system),
    /// on a blocking thread. Returns the destination.
    pub async fn persist(self, dest: impl AsRef<Path>) -> std::io::Result<PathBuf> {
        let Some(file) = self.file else {
            return Err(no_file());
        };
        let dest = dest.as_ref().to_owned();
        tokio::task::spawn_blocking(move || {
            match file.persist(&dest) {
                Ok(()) => {}
                Err(err) => {
                    // Another file system: copy, then the temporary file is deleted on drop.
                    let file = err.path;
                    std::fs::copy(&file, &dest)?;
                }
            }
            Ok(dest)
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

fn no_file() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "an external upload has no local file",
    )
}
