//! [`UploadWriter`]: where the chunks of an upload go when not to a temporary file
//! (Phoenix's `Phoenix.LiveView.UploadWriter`, set with [`UploadConfig::writer`](super::UploadConfig::writer)).

use std::future::Future;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

/// Receives the chunks of one upload entry instead of livefire's temporary file: stream them
/// to another service, check their content as they arrive, or drop them.
///
/// One writer is made per entry when its upload channel starts; its chunks come in order,
/// one at a time. When every announced byte was written, [`close`](Self::close) runs with
/// [`CloseReason::Done`] and its metadata is what
/// [`consume_uploaded_entries`](crate::SocketCore::consume_uploaded_entries) hands out
/// ([`UploadedFile::meta`](super::UploadedFile::meta), no local file). An error from
/// [`write_chunk`](Self::write_chunk) or from that close stops the upload: the entry keeps an
/// [`EntryError::Writer`](super::EntryError::Writer) with the reason, and stays (uploading
/// nothing more) until the view cancels it. An upload that stops early (cancelled, timed out,
/// oversized, its view gone) is closed with [`CloseReason::Cancel`] (or
/// [`CloseReason::Error`] after a failed write), except when the whole connection's tasks
/// are aborted.
///
/// ```
/// use livefire::upload::{CloseReason, UploadConfig, UploadWriter};
/// use serde_json::{json, Map, Value};
///
/// /// Counts the bytes and refuses files that contain a NUL byte.
/// struct TextOnly { name: String, bytes: usize }
///
/// impl UploadWriter for TextOnly {
///     async fn write_chunk(&mut self, chunk: &[u8]) -> Result<(), Value> {
///         if chunk.contains(&0) {
///             return Err(json!("binary"));
///         }
///         self.bytes += chunk.len();
///         Ok(())
///     }
///
///     async fn close(&mut self, _reason: CloseReason) -> Result<Map<String, Value>, Value> {
///         let meta = json!({"name": self.name, "bytes": self.bytes});
///         Ok(meta.as_object().unwrap().clone())
///     }
/// }
///
/// let notes = UploadConfig::new([".txt"])?.writer(|entry| TextOnly {
///     name: entry.client_name().to_owned(),
///     bytes: 0,
/// });
/// assert!(notes.has_writer());
/// # Ok::<(), livefire::upload::UploadConfigError>(())
/// ```
pub trait UploadWriter: Send + 'static {
    /// Takes the next chunk. `Err(reason)` stops the upload (the entry fails with the reason).
    fn write_chunk(&mut self, chunk: &[u8]) -> impl Future<Output = Result<(), Value>> + Send;

    /// Ends the writer: every byte was written ([`CloseReason::Done`]: the metadata returned
    /// is handed to the view on consume; `Err(reason)` fails the entry), or the upload stopped
    /// early (the result is ignored).
    fn close(
        &mut self,
        reason: CloseReason,
    ) -> impl Future<Output = Result<Map<String, Value>, Value>> + Send;
}

/// Why an [`UploadWriter`] is closed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CloseReason {
    /// Every announced byte was written.
    Done,
    /// The upload stopped early (cancelled, timed out, oversized, the view went away).
    Cancel,
    /// [`write_chunk`](UploadWriter::write_chunk) failed with this reason.
    Error(Value),
}

/// An [`UploadWriter`] behind a pointer (its futures boxed).
pub(crate) trait ErasedWriter: Send {
    fn write_chunk<'a>(&'a mut self, chunk: &'a [u8]) -> BoxFuture<'a, Result<(), Value>>;
    fn close(&mut self, reason: CloseReason) -> BoxFuture<'_, Result<Map<String, Value>, Value>>;
}

impl<W: UploadWriter> ErasedWriter for W {
    fn write_chunk<'a>(&'a mut self, chunk: &'a [u8]) -> BoxFuture<'a, Result<(), Value>> {
        Box::pin(UploadWriter::write_chunk(self, chunk))
    }

    fn close(&mut self, reason: CloseReason) -> BoxFuture<'_, Result<Map<String, Value>, Value>> {
        Box::pin(UploadWriter::close(self, reason))
    }
}

/// Makes the writer of an entry.
pub(crate) type MakeWriter = dyn Fn(&super::UploadEntry) -> Box<dyn ErasedWriter> + Send + Sync;
