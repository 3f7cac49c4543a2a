//! `lvu:<entry ref>`: the channel of one uploading file (docs/protocol.md §7.6).
//!
//! The join presents the entry's sealed token from the preflight; the entry's view (joined
//! on this connection) registers the entry once, and answers how many bytes it may send.
//! Then each binary `chunk` push is appended to a temporary file (or given to the config's
//! `UploadWriter`) and acknowledged. The channel stops, and its file is deleted (its writer
//! closed with `Cancel`), when it sends more than announced, stops sending for the chunk
//! timeout, the entry is cancelled or the view ends; a failed write is answered with
//! `writer_error` and fails the entry. When every byte is written it hands the file (the
//! writer's metadata) to the view before acknowledging the last chunk (so the client's
//! 100 % progress event finds it there), then closes.

use std::sync::Arc;

use serde_json::Value;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::oneshot;
use tokio::time::{Instant, sleep_until};

use super::Connection;
use super::views::Slot;
use crate::message::{Ended, Inbound, InboundTx, Outbound, ViewMsg};
use crate::queue;
use crate::upload::writer::ErasedWriter;
use crate::upload::{
    CloseReason, EntryClaims, Finished, Registration, UploadJoin, open_entry_token,
};
use crate::wire::frame;

/// Chunks waiting for one upload channel: the client sends the next only after the last was
/// acknowledged, so more than this is a flood (the connection is closed with 1008).
const UPLOAD_INBOX: usize = 4;

pub(super) fn join(
    conn: &mut Connection,
    topic: &str,
    join_ref: String,
    msg_ref: Option<String>,
    payload: &Value,
    replies: &mut Vec<String>,
) {
    let refuse = |reason: &str| {
        frame::reply(
            Some(&join_ref),
            msg_ref.as_deref(),
            topic,
            false,
            &frame::reason(reason),
        )
    };
    let claims = payload
        .get("token")
        .and_then(Value::as_str)
        .and_then(|token| open_entry_token(&conn.endpoint.keyring, token).ok())
        .filter(|claims| topic[4..] == *claims.entry);
    let Some(claims) = claims else {
        tracing::debug!(%topic, "upload join refused: bad token");
        replies.push(refuse("invalid_token"));
        return;
    };
    // One channel per entry: a second join does not replace the running one.
    if conn.views.contains_key(topic) {
        replies.push(refuse("already_registered"));
        return;
    }
    let view_topic = format!("lv:{}", claims.view);
    let Some(view) = conn.views.get(&view_topic) else {
        replies.push(refuse("disallowed"));
        return;
    };
    let view_inbox = view.inbox.clone_box();
    let (cancel_tx, cancel_rx) = oneshot::channel();
    let (reply_tx, reply_rx) = oneshot::channel();
    let ask = UploadJoin {
        upload_ref: claims.upload.clone(),
        entry_ref: claims.entry.clone(),
        cancel: cancel_tx,
        reply: reply_tx,
    };
    if view_inbox.try_send(Inbound::UploadJoin(ask)).is_err() {
        replies.push(refuse("disallowed"));
        return;
    }
    let (tx, rx) = queue::channel::<ViewMsg<()>>(UPLOAD_INBOX);
    let topic: Arc<str> = Arc::from(topic);
    let join_ref: Arc<str> = Arc::from(join_ref.as_str());
    let channel = Channel {
        topic: topic.clone(),
        join_ref: join_ref.clone(),
        out: conn.out_tx.clone(),
        dir: conn.endpoint.upload_dir.clone(),
    };
    let guard = Guard {
        view: view_inbox,
        claims,
        how: Some(Finished::Stopped),
    };
    let task = tokio::spawn(run(channel, guard, msg_ref, rx, reply_rx, cancel_rx));
    conn.views.insert(
        topic,
        Slot {
            join_ref,
            inbox: Box::new(tx),
            task: task.abort_handle(),
            parent: Some(Arc::from(view_topic.as_str())),
        },
    );
}

/// Tells the view how the channel ended, when it ends (also if its task is aborted).
struct Guard {
    view: Box<dyn InboundTx>,
    claims: EntryClaims,
    /// `None` once the view was told (or must not be).
    how: Option<Finished>,
}

impl Guard {
    fn tell(&mut self, how: Finished) -> bool {
        self.how = None;
        self.view
            .try_send(Inbound::UploadFinished {
                upload_ref: self.claims.upload.clone(),
                entry_ref: self.claims.entry.clone(),
                how,
            })
            .is_ok()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(how) = self.how.take() {
            self.tell(how);
        }
    }
}

struct Channel {
    topic: Arc<str>,
    join_ref: Arc<str>,
    out: queue::Sender<Outbound>,
    dir: std::path::PathBuf,
}

impl Channel {
    async fn reply(&self, msg_ref: Option<&str>, ok: bool, body: &str) -> bool {
        let frame = frame::reply(Some(&self.join_ref), msg_ref, &self.topic, ok, body);
        self.out.send(Outbound::Frame(frame)).await.is_ok()
    }

    async fn ended(&self, close: bool) {
        let ended = Ended {
            topic: self.topic.clone(),
            join_ref: self.join_ref.clone(),
            close,
            linked_crash: false,
        };
        let _ = self.out.send(Outbound::Ended(Box::new(ended))).await;
    }
}

async fn run(
    channel: Channel,
    mut guard: Guard,
    join_msg_ref: Option<String>,
    mut rx: queue::Receiver<ViewMsg<()>>,
    registered: oneshot::Receiver<Result<Registration, &'static str>>,
    mut cancel: oneshot::Receiver<()>,
) {
    let join_ref = join_msg_ref.as_deref();
    let registration = match registered.await {
        Ok(Ok(registration)) => registration,
        refused => {
            guard.how = None;
            let reason = match refused {
                Ok(Err(reason)) => reason,
                _ => "disallowed",
            };
            tracing::debug!(topic = %channel.topic, reason, "upload join refused");
            channel.reply(join_ref, false, &frame::reason(reason)).await;
            channel.ended(false).await;
            return;
        }
    };
    let Registration {
        size,
        chunk_timeout,
        writer,
    } = registration;
    let mut sink = match writer {
        Some(writer) => Sink::Writer {
            writer,
            closed: false,
        },
        None => match temp_file(&channel.dir).await {
            Some((file, path)) => Sink::File {
                file: Some(file),
                path: Some(path),
            },
            None => {
                guard.how = Some(Finished::WriterFailed(None));
                channel
                    .reply(join_ref, false, &frame::reason("writer_error"))
                    .await;
                channel.ended(false).await;
                return;
            }
        },
    };
    if !channel.reply(join_ref, true, "{}").await {
        sink.abandon(CloseReason::Cancel).await;
        return;
    }
    let mut written: u64 = 0;
    if size == 0 {
        // Nothing to send: done at once.
        match sink.finish().await {
            Ok(done) => {
                guard.tell(done);
            }
            Err(reason) => guard.how = Some(Finished::WriterFailed(reason)),
        }
        drop(guard);
        channel.ended(true).await;
        return;
    }
    let mut deadline = Instant::now() + chunk_timeout;
    let mut stop = CloseReason::Cancel;
    loop {
        tokio::select! {
            msg = rx.recv() => {
                let Some(ViewMsg::Inbound(inbound)) = msg else {
                    if msg.is_none() {
                        break;
                    }
                    continue;
                };
                let Inbound::Chunk { msg_ref, data } = *inbound else {
                    continue;
                };
                deadline = Instant::now() + chunk_timeout;
                let msg_ref = msg_ref.as_deref();
                let len = data.len() as u64;
                if written.saturating_add(len) > size {
                    tracing::debug!(topic = %channel.topic, size, "upload sent more than announced");
                    let body = format!("{{\"reason\":\"file_size_limit_exceeded\",\"limit\":{size}}}");
                    channel.reply(msg_ref, false, &body).await;
                    break;
                }
                if let Err(reason) = sink.write(&data).await {
                    if let Some(reason) = &reason {
                        stop = CloseReason::Error(reason.clone());
                    }
                    guard.how = Some(Finished::WriterFailed(reason));
                    channel.reply(msg_ref, false, &frame::reason("writer_error")).await;
                    break;
                }
                written += len;
                if written == size {
                    let handed = match sink.finish().await {
                        Ok(done) => guard.tell(done),
                        Err(reason) => {
                            guard.how = Some(Finished::WriterFailed(reason));
                            false
                        }
                    };
                    if handed {
                        channel.reply(msg_ref, true, "{}").await;
                    } else {
                        if guard.how.is_none() {
                            guard.how = Some(Finished::WriterFailed(None));
                        }
                        channel.reply(msg_ref, false, &frame::reason("writer_error")).await;
                    }
                    break;
                }
                if !channel.reply(msg_ref, true, "{}").await {
                    break;
                }
            }
            // Cancelled by the view, or the entry is gone.
            _ = &mut cancel => break,
            () = sleep_until(deadline) => {
                tracing::debug!(topic = %channel.topic, "upload chunk timeout");
                break;
            }
        }
    }
    // An unfinished temporary file is deleted here, an unfinished writer closed; the guard
    // tells the view.
    sink.abandon(stop).await;
    drop(sink);
    drop(guard);
    channel.ended(true).await;
}

/// Creates the temporary file of an upload in `dir`.
async fn temp_file(dir: &std::path::Path) -> Option<(tokio::fs::File, tempfile::TempPath)> {
    let owned = dir.to_owned();
    let created = tokio::task::spawn_blocking(move || {
        tempfile::Builder::new()
            .prefix("livefire-upload-")
            .tempfile_in(owned)
    })
    .await;
    match created {
        Ok(Ok(named)) => {
            let (file, path) = named.into_parts();
            Some((tokio::fs::File::from_std(file), path))
        }
        Ok(Err(err)) => {
            tracing::error!(%err, dir = %dir.display(), "cannot create an upload file");
            None
        }
        Err(err) => {
            tracing::error!(%err, "upload file task failed");
            None
        }
    }
}

/// Where an entry's bytes go: a temporary file, or the config's [`UploadWriter`](crate::upload::UploadWriter).
enum Sink {
    File {
        file: Option<tokio::fs::File>,
        path: Option<tempfile::TempPath>,
    },
    Writer {
        writer: Box<dyn ErasedWriter>,
        closed: bool,
    },
}

impl Sink {
    /// Writes a chunk; `Err(None)` for an I/O error, `Err(Some(reason))` from a writer.
    async fn write(&mut self, data: &[u8]) -> Result<(), Option<Value>> {
        match self {
            Self::File { file, .. } => {
                let Some(out) = file.as_mut() else {
                    return Err(None);
                };
                out.write_all(data).await.map_err(|err| {
                    tracing::error!(%err, "cannot write an upload file");
                    None
                })
            }
            Self::Writer { writer, .. } => writer.write_chunk(data).await.map_err(Some),
        }
    }

    /// Every byte was written: the file, or the writer's metadata once closed.
    async fn finish(&mut self) -> Result<Finished, Option<Value>> {
        match self {
            Self::File { file, path } => {
                if let Some(mut out) = file.take()
                    && let Err(err) = out.flush().await
                {
                    tracing::error!(%err, "cannot write an upload file");
                    return Err(None);
                }
                path.take().map(Finished::Written).ok_or(None)
            }
            Self::Writer { writer, closed } => {
                *closed = true;
                writer
                    .close(CloseReason::Done)
                    .await
                    .map(Finished::Closed)
                    .map_err(Some)
            }
        }
    }

    /// The upload stopped early: a writer not yet closed is closed with `reason` (its answer
    /// ignored); a temporary file is deleted when the sink is dropped.
    async fn abandon(&mut self, reason: CloseReason) {
        if let Self::Writer { writer, closed } = self
            && !*closed
        {
            *closed = true;
            let _ = writer.close(reason).await;
        }
    }
}
