//! [`UploadConfig`]: what one named upload accepts (types, count, size) and how it is sent.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::UploadEntry;
use super::writer::{ErasedWriter, MakeWriter, UploadWriter};

/// Default [`UploadConfig::max_file_size`]: 8 MB, as Phoenix.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 8_000_000;
/// Default [`UploadConfig::chunk_size`]: 64,000 bytes, as Phoenix (one chunk per WebSocket
/// frame, under the default [`Limits::max_message_size`](crate::Limits::max_message_size)).
pub const DEFAULT_CHUNK_SIZE: u32 = 64_000;
/// Default [`UploadConfig::chunk_timeout`]: 10 s, as Phoenix.
pub const DEFAULT_CHUNK_TIMEOUT: Duration = Duration::from_secs(10);

/// Presigns one entry for an external uploader: the metadata the client's uploader receives
/// (it must have an `"uploader"` key naming a `LiveSocket` `uploaders` entry), or an error
/// value shown to the client.
pub type ExternalFn = dyn Fn(&UploadEntry) -> Result<Map<String, Value>, Value> + Send + Sync;

/// What one named upload of a live view accepts, and how files get to the server.
///
/// The accept list takes file extensions (`.jpg`, matched case-insensitively against the file
/// name, and their MIME type against the type the browser reports), MIME types (`image/png`)
/// and the wildcards `image/*`, `audio/*`, `video/*`; [`UploadConfig::any`] accepts every type.
/// An unknown extension or type is a configuration error, as in Phoenix.
///
/// ```
/// use livefire::upload::UploadConfig;
/// use std::time::Duration;
///
/// let avatar = UploadConfig::new([".jpg", ".png", "image/webp"])?
///     .max_entries(3)
///     .max_file_size(2_000_000)
///     .chunk_timeout(Duration::from_secs(30))
///     .auto_upload(true);
/// assert_eq!(avatar.accept_attr(), Some(".jpg,.png,image/webp"));
/// assert_eq!(avatar.get_max_entries(), 3);
///
/// // Unknown extensions are refused when the upload is declared.
/// assert!(UploadConfig::new([".notatype"]).is_err());
/// assert_eq!(UploadConfig::any().accept_attr(), None);
/// # Ok::<(), livefire::upload::UploadConfigError>(())
/// ```
#[derive(Clone)]
pub struct UploadConfig {
    pub(crate) accept: Accept,
    pub(crate) max_entries: usize,
    pub(crate) max_entries_mode: MaxEntriesMode,
    pub(crate) max_file_size: u64,
    pub(crate) chunk_size: u32,
    pub(crate) chunk_timeout: Duration,
    pub(crate) auto_upload: bool,
    pub(crate) external: Option<Arc<ExternalFn>>,
    pub(crate) writer: Option<Arc<MakeWriter>>,
}

/// What [`UploadConfig::max_entries`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MaxEntriesMode {
    /// The files selected at the same time (the default): consuming an entry makes room for
    /// another.
    #[default]
    Selected,
    /// Every file of the upload, the consumed ones included: once `max_entries` files were
    /// consumed, further files are refused with `too_many_files` (until the upload is allowed
    /// again). Phoenix's `max_entries_mode: :total`.
    Total,
}

/// The accept filter of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Accept {
    Any,
    List {
        /// The `accept` attribute: the filters as given, comma-separated.
        attr: String,
        /// Lowercase MIME types (and `image/*`-style wildcards).
        types: Vec<String>,
        /// Lowercase extensions with their dot.
        exts: Vec<String>,
    },
}

/// A bad [`UploadConfig`]: an accept filter livefire does not know, or a zero limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UploadConfigError {
    /// An extension without a known MIME type, or a MIME type without a known extension.
    #[error(
        "unknown accept filter {0:?}: use a known extension (\".jpg\"), MIME type (\"image/png\") or image/*, audio/*, video/*"
    )]
    UnknownAccept(String),
    /// The accept list is empty (use [`UploadConfig::any`] to accept every type).
    #[error("the accept list is empty; use UploadConfig::any() to accept every file type")]
    EmptyAccept,
    /// `max_entries`, `max_file_size`, `chunk_size` or `chunk_timeout` is zero.
    #[error("upload option {0} must be positive")]
    Zero(&'static str),
}

const WILDCARDS: [&str; 3] = ["image/*", "audio/*", "video/*"];

impl UploadConfig {
    /// An upload accepting the given extensions, MIME types and wildcards; one file of at
    /// most 8 MB by default.
    pub fn new<I, S>(accept: I) -> Result<Self, UploadConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut attr = String::new();
        let (mut types, mut exts) = (Vec::new(), Vec::new());
        for filter in accept {
            let filter = filter.as_ref().trim();
            let lower = filter.to_ascii_lowercase();
            if let Some(ext) = lower.strip_prefix('.') {
                let Some(mime) = mime_guess::from_ext(ext).first() else {
                    return Err(UploadConfigError::UnknownAccept(filter.to_owned()));
                };
                types.push(mime.essence_str().to_owned());
                exts.push(lower.clone());
            } else if WILDCARDS.contains(&lower.as_str())
                || (lower.contains('/')
                    && !lower.contains(';')
                    && mime_guess::get_mime_extensions_str(&lower).is_some())
            {
                types.push(lower.clone());
            } else {
                return Err(UploadConfigError::UnknownAccept(filter.to_owned()));
            }
            if !attr.is_empty() {
                attr.push(',');
            }
            attr.push_str(filter);
        }
        if attr.is_empty() {
            return Err(UploadConfigError::EmptyAccept);
        }
        Ok(Self::with_accept(Accept::List { attr, types, exts }))
    }

    /// An upload accepting every file type.
    pub fn any() -> Self {
        Self::with_accept(Accept::Any)
    }

    fn with_accept(accept: Accept) -> Self {
        Self {
            accept,
            max_entries: 1,
            max_entries_mode: MaxEntriesMode::Selected,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            chunk_size: DEFAULT_CHUNK_SIZE,
            chunk_timeout: DEFAULT_CHUNK_TIMEOUT,
            auto_upload: false,
            external: None,
            writer: None,
        }
    }

    /// How many files may be selected at once (default 1; more renders `multiple`).
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = n;
        self
    }

    /// What `max_entries` counts: the files selected at once (default), or every file of
    /// the upload including consumed ones ([`MaxEntriesMode::Total`]).
    ///
    /// ```
    /// use livefire::upload::{MaxEntriesMode, UploadConfig};
    /// let once = UploadConfig::any().max_entries(3).max_entries_mode(MaxEntriesMode::Total);
    /// assert_eq!(once.get_max_entries_mode(), MaxEntriesMode::Total);
    /// ```
    pub fn max_entries_mode(mut self, mode: MaxEntriesMode) -> Self {
        self.max_entries_mode = mode;
        self
    }

    /// The largest file accepted, in bytes (default 8 MB). Larger files are refused at
    /// preflight (`too_large`), and an upload that sends more than it announced is stopped.
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// Bytes per chunk frame (default 64,000). livefire lowers it to fit the socket's
    /// [`Limits::max_message_size`](crate::Limits::max_message_size).
    pub fn chunk_size(mut self, bytes: u32) -> Self {
        self.chunk_size = bytes;
        self
    }

    /// How long the server waits for the next chunk before it drops the upload (default 10 s).
    pub fn chunk_timeout(mut self, timeout: Duration) -> Self {
        self.chunk_timeout = timeout;
        self
    }

    /// Upload as soon as files are selected, instead of on form submit.
    pub fn auto_upload(mut self, auto: bool) -> Self {
        self.auto_upload = auto;
        self
    }

    /// Sends files straight from the browser to another service (a presigned URL): `presign`
    /// returns the metadata the client-side uploader named by its `"uploader"` key receives.
    /// Entries of an external upload are done when the client reports 100 % progress, and
    /// [`consume_uploaded_entries`](crate::SocketCore::consume_uploaded_entries) hands out their
    /// metadata instead of a file.
    ///
    /// ```
    /// use livefire::upload::UploadConfig;
    /// use serde_json::json;
    /// let s3 = UploadConfig::new([".pdf"])?.external(|entry| {
    ///     let key = format!("uploads/{}", entry.uuid());
    ///     Ok(json!({"uploader": "S3", "key": key}).as_object().unwrap().clone())
    /// });
    /// # Ok::<(), livefire::upload::UploadConfigError>(())
    /// ```
    pub fn external<F>(mut self, presign: F) -> Self
    where
        F: Fn(&UploadEntry) -> Result<Map<String, Value>, Value> + Send + Sync + 'static,
    {
        self.external = Some(Arc::new(presign));
        self
    }

    /// Sends each entry's chunks to a writer made by `make` (see [`UploadWriter`]) instead
    /// of a temporary file: consuming an entry then hands out the metadata its writer returned
    /// on close. Ignored by [`external`](Self::external) uploads, which the browser sends
    /// elsewhere.
    pub fn writer<W, F>(mut self, make: F) -> Self
    where
        W: UploadWriter,
        F: Fn(&UploadEntry) -> W + Send + Sync + 'static,
    {
        self.writer = Some(Arc::new(move |entry: &UploadEntry| {
            Box::new(make(entry)) as Box<dyn ErasedWriter>
        }));
        self
    }

    /// The `accept` attribute of the file input (`None` when every type is accepted).
    pub fn accept_attr(&self) -> Option<&str> {
        match &self.accept {
            Accept::Any => None,
            Accept::List { attr, .. } => Some(attr),
        }
    }

    /// How many files may be selected at once.
    pub fn get_max_entries(&self) -> usize {
        self.max_entries
    }

    /// What `max_entries` counts.
    pub fn get_max_entries_mode(&self) -> MaxEntriesMode {
        self.max_entries_mode
    }

    /// The largest file accepted, in bytes.
    pub fn get_max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// Whether files upload as soon as they are selected.
    pub fn is_auto_upload(&self) -> bool {
        self.auto_upload
    }

    /// Whether files go to an external service ([`external`](Self::external)).
    pub fn is_external(&self) -> bool {
        self.external.is_some()
    }

    /// Whether entries go to an [`UploadWriter`] ([`writer`](Self::writer)).
    pub fn has_writer(&self) -> bool {
        self.writer.is_some()
    }

    pub(crate) fn validate(&self) -> Result<(), UploadConfigError> {
        if self.max_entries == 0 {
            return Err(UploadConfigError::Zero("max_entries"));
        }
        if self.max_file_size == 0 {
            return Err(UploadConfigError::Zero("max_file_size"));
        }
        if self.chunk_size == 0 {
            return Err(UploadConfigError::Zero("chunk_size"));
        }
        if self.chunk_timeout.is_zero() {
            return Err(UploadConfigError::Zero("chunk_timeout"));
        }
        Ok(())
    }

    /// Whether a file of this client type and name passes the accept filter (as Phoenix: a
    /// wildcard's family, an exact type, or the name's extension).
    pub(crate) fn accepts(&self, client_type: &str, client_name: &str) -> bool {
        let Accept::List { types, exts, .. } = &self.accept else {
            return true;
        };
        let client_type = client_type.to_ascii_lowercase();
        for family in ["image/", "audio/", "video/"] {
            if client_type.starts_with(family)
                && types.iter().any(|t| t.strip_suffix('*') == Some(family))
            {
                return true;
            }
        }
        if types.contains(&client_type) {
            return true;
        }
        match client_name.rfind('.') {
            Some(dot) => exts.contains(&client_name[dot..].to_ascii_lowercase()),
            None => false,
        }
    }
}

impl std::fmt::Debug for UploadConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadConfig")
            .field("accept", &self.accept)
            .field("max_entries", &self.max_entries)
            .field("max_entries_mode", &self.max_entries_mode)
            .field("max_file_size", &self.max_file_size)
            .field("chunk_size", &self.chunk_size)
            .field("chunk_timeout", &self.chunk_timeout)
            .field("auto_upload", &self.auto_upload)
            .field("external", &self.external.is_some())
            .field("writer", &self.writer.is_some())
            .finish()
    }
}

/// Two configs are equal when their options are; external presigners and writers compare by
/// identity.
impl PartialEq for UploadConfig {
    fn eq(&self, other: &Self) -> bool {
        self.accept == other.accept
            && self.max_entries == other.max_entries
            && self.max_entries_mode == other.max_entries_mode
            && self.max_file_size == other.max_file_size
            && self.chunk_size == other.chunk_size
            && self.chunk_timeout == other.chunk_timeout
            && self.auto_upload == other.auto_upload
            && match (&self.external, &other.external) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
            && match (&self.writer, &other.writer) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_filters_match_like_phoenix() {
        let c = UploadConfig::new([".txt", ".MD", "image/*", "application/pdf"]).unwrap();
        assert!(c.accepts("text/plain", "notes.txt"));
        // The extension alone is enough (browsers report odd types for .md).
        assert!(c.accepts("", "README.md"));
        assert!(c.accepts("application/octet-stream", "x.Md"));
        assert!(c.accepts("image/heic", "photo"));
        assert!(c.accepts("APPLICATION/PDF", "doc"));
        assert!(!c.accepts("application/zip", "a.zip"));
        assert!(!c.accepts("video/mp4", "clip.mp4"));
        assert!(!c.accepts("", "txt"));
        assert!(UploadConfig::any().accepts("application/zip", "a.zip"));
    }

    #[test]
    fn bad_configs_are_refused() {
        assert_eq!(
            UploadConfig::new(["text/nonsense"]).unwrap_err(),
            UploadConfigError::UnknownAccept("text/nonsense".into())
        );
        assert_eq!(
            UploadConfig::new(["image/png; q=1"]).unwrap_err(),
            UploadConfigError::UnknownAccept("image/png; q=1".into())
        );
        assert_eq!(
            UploadConfig::new(Vec::<&str>::new()).unwrap_err(),
            UploadConfigError::EmptyAccept
        );
        let zero = UploadConfig::any().max_entries(0);
        assert_eq!(zero.validate(), Err(UploadConfigError::Zero("max_entries")));
        assert!(UploadConfig::any().validate().is_ok());
    }
}
