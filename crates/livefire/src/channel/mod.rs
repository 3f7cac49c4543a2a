//! One WebSocket connection: Phoenix channel multiplexing over V2 JSON frames.
//!
//! The connection task reads frames, answers heartbeats and leaves itself, starts a view task
//! per joined `lv:` topic, routes events to them, and writes what they send back. Hard limits:
//! message size (set on the upgrade), per-view inbox (a flooding client is closed with 1008),
//! bad frames (closed after a few), idle time (closed after 60 s without a frame) and a write
//! timeout (a client that stops reading is closed).

pub(crate) mod frame;
mod join;
pub(crate) mod queue;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::{Instant, sleep_until, timeout};

use self::frame::{Frame, FrameError};
use crate::router::{LiveShared, RateLimit};
use crate::view::{Inbound, InboundTx, Outbound};

/// Close after this long without any frame from the client (it heartbeats every 30 s).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Close a client that does not read a frame within this time.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames queued from views to the socket writer.
const OUTBOX: usize = 64;
/// Bad frames tolerated before the connection is closed with 1008.
const MAX_BAD_FRAMES: u32 = 8;
/// Views joined at once on one connection.
const MAX_VIEWS: usize = 64;
/// A token bucket: the per-connection frame rate limit (security.md R8, cases 38 and 52).
struct Bucket {
    tokens: f32,
    last: Instant,
}

impl Bucket {
    fn new(limit: RateLimit) -> Self {
        Self {
            tokens: limit.burst,
            last: Instant::now(),
        }
    }

    /// Takes one token; false when the client is over its rate.
    fn take(&mut self, limit: RateLimit) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f32() * limit.per_second;
        self.tokens = (self.tokens + refill).min(limit.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What the upgrade request established for this connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    /// The cookie session, present only if the CSRF token matched it.
    pub(crate) session: Option<Arc<Map<String, Value>>>,
    /// The browser's session id (binds flash tokens).
    pub(crate) session_id: Option<String>,
    /// A masked CSRF token of that session, for forms the views render.
    pub(crate) csrf_token: Option<Arc<str>>,
    /// The session's `live_socket_id`, if any: logout can disconnect this socket.
    pub(crate) live_socket_id: Option<String>,
}

struct Slot {
    join_ref: Arc<str>,
    inbox: Box<dyn InboundTx>,
    task: AbortHandle,
}

/// The views joined on one connection, by topic. Almost always one entry: a list that grows
/// one slot at a time is smaller than a hash map's minimum table (4 buckets, 244 bytes), and
/// a scan of at most [`MAX_VIEWS`] topics is cheap.
#[derive(Default)]
struct Views(Vec<(Arc<str>, Slot)>);

impl Views {
    fn position(&self, topic: &str) -> Option<usize> {
        self.0.iter().position(|(t, _)| **t == *topic)
    }

    fn get(&self, topic: &str) -> Option<&Slot> {
        self.position(topic).map(|i| &self.0[i].1)
    }

    fn contains_key(&self, topic: &str) -> bool {
        self.position(topic).is_some()
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn remove(&mut self, topic: &str) -> Option<Slot> {
        let i = self.position(topic)?;
        Some(self.0.swap_remove(i).1)
    }

    fn insert(&mut self, topic: Arc<str>, slot: Slot) -> Option<Slot> {
        if let Some(i) = self.position(&topic) {
            return Some(std::mem::replace(&mut self.0[i].1, slot));
        }
        if self.0.len() == self.0.capacity() {
            self.0.reserve_exact(1);
        }
        self.0.push((topic, slot));
        None
    }

    fn drain(&mut self) -> std::vec::Drain<'_, (Arc<str>, Slot)> {
        self.0.drain(..)
    }
}

/// The state of one connection.
pub(crate) struct Connection {
    live: Arc<LiveShared>,
    info: ConnInfo,
    views: Views,
    out_tx: queue::Sender<Outbound>,
    bad_frames: u32,
    bucket: Bucket,
}

/// How handling one frame ended.
enum Next {
    Continue,
    Close(u16, &'static str),
}

/// Runs one connection until the client leaves or a limit is hit.
///
/// The state is built before the future, and the future captures it once: an `async fn`
/// with `mut` parameters stores each of them twice for the connection's whole life (the
/// WebSocket alone is 368 bytes). Frame writes are boxed for the same reason (their future,
/// with its write timeout, is the largest state of the loop). Together: ~700 bytes less per
/// idle connection.
pub(crate) fn serve(
    mut ws: WebSocket,
    live: Arc<LiveShared>,
    info: ConnInfo,
) -> impl Future<Output = ()> + Send {
    let (out_tx, mut out_rx) = queue::channel(OUTBOX);
    let registration = info
        .live_socket_id
        .clone()
        .map(|id| live.sockets.register(id, out_tx.clone()));
    let bucket = Bucket::new(live.rate_limit);
    let mut conn = Connection {
        live,
        info,
        views: Views::default(),
        out_tx,
        bad_frames: 0,
        bucket,
    };
    async move {
        let mut deadline = Instant::now() + IDLE_TIMEOUT;
        let close = loop {
            tokio::select! {
                biased;
                out = out_rx.recv() => match out {
                    Some(Outbound::Frame(text)) => {
                        if !Box::pin(send(&mut ws, text)).await {
                            break None;
                        }
                    }
                    Some(Outbound::Ended(ended)) => {
                        let (topic, join_ref) = *ended;
                        if conn.views.get(&topic).is_some_and(|s| s.join_ref == join_ref) {
                            conn.views.remove(&topic);
                        }
                    }
                    Some(Outbound::Disconnect) => break Some((1001, "disconnected")),
                    None => break None,
                },
                incoming = ws.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        deadline = Instant::now() + IDLE_TIMEOUT;
                        let (next, replies) = conn.handle_text(text.as_str());
                        let mut ok = true;
                        for reply in replies {
                            if !Box::pin(send(&mut ws, reply)).await {
                                ok = false;
                                break;
                            }
                        }
                        if !ok {
                            break None;
                        }
                        if let Next::Close(code, reason) = next {
                            break Some((code, reason));
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        // Uploads (binary chunk frames) are not supported: refuse politely.
                        deadline = Instant::now() + IDLE_TIMEOUT;
                        conn.bad_frames += 1;
                        if conn.bad_frames > MAX_BAD_FRAMES {
                            break Some((1003, "binary frames are not supported"));
                        }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                        deadline = Instant::now() + IDLE_TIMEOUT;
                    }
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(err)) => {
                        tracing::debug!(%err, "websocket read failed");
                        break read_error_close(&err);
                    }
                },
                () = sleep_until(deadline) => break Some((1000, "idle timeout")),
            }
        };
        for (_, slot) in conn.views.drain() {
            slot.task.abort();
        }
        if let Some((code, reason)) = close {
            tracing::debug!(code, reason, "closing websocket");
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ = Box::pin(timeout(WRITE_TIMEOUT, ws.send(Message::Close(Some(frame))))).await;
        }
        // Registered (under the session's live socket id) until the connection ends.
        drop(registration);
    }
}

/// The close frame for a read error the client caused (security.md §5, cases 42-43): invalid
/// UTF-8 in a text message is 1007, a frame or message over [`MAX_MESSAGE_SIZE`] is 1009. Other
/// errors (I/O, a reset) just end the connection.
///
/// [`MAX_MESSAGE_SIZE`]: crate::router::MAX_MESSAGE_SIZE
fn read_error_close(err: &axum::Error) -> Option<(u16, &'static str)> {
    use std::error::Error as _;
    match err.source()?.downcast_ref::<tungstenite::Error>()? {
        tungstenite::Error::Utf8(_) => Some((1007, "invalid UTF-8")),
        tungstenite::Error::Capacity(_) => Some((1009, "message too big")),
        _ => None,
    }
}

async fn send(ws: &mut WebSocket, text: String) -> bool {
    match timeout(WRITE_TIMEOUT, ws.send(Message::Text(text.into()))).await {
        Ok(Ok(())) => true,
        Ok(Err(err)) => {
            tracing::debug!(%err, "websocket write failed");
            false
        }
        Err(_) => {
            tracing::warn!("websocket client stopped reading; closing");
            false
        }
    }
}

impl Connection {
    /// Handles one text frame; returns frames to send right away.
    fn handle_text(&mut self, text: &str) -> (Next, Vec<String>) {
        if !self.bucket.take(self.live.rate_limit) {
            tracing::warn!("client exceeds the frame rate limit; closing");
            return (Next::Close(1008, "rate limit exceeded"), Vec::new());
        }
        let frame = match Frame::parse(text) {
            Ok(frame) => frame,
            Err(err) => return self.bad_frame(err),
        };
        let mut replies = Vec::new();
        let next = self.dispatch(frame, &mut replies);
        (next, replies)
    }

    fn bad_frame(&mut self, err: FrameError) -> (Next, Vec<String>) {
        self.bad_frames += 1;
        tracing::debug!(%err, "bad frame");
        if self.bad_frames > MAX_BAD_FRAMES {
            return (Next::Close(1008, "too many malformed frames"), Vec::new());
        }
        match err {
            FrameError::BadEnvelope {
                join_ref,
                msg_ref: Some(msg_ref),
                topic: Some(topic),
            } => {
                let reply = frame::reply(
                    join_ref.as_deref(),
                    Some(&msg_ref),
                    &topic,
                    false,
                    &frame::reason("malformed frame"),
                );
                (Next::Continue, vec![reply])
            }
            FrameError::NotJson => (Next::Close(1003, "frame is not JSON"), Vec::new()),
            FrameError::BadEnvelope { .. } => (Next::Close(1003, "malformed frame"), Vec::new()),
        }
    }

    fn dispatch(&mut self, frame: Frame, replies: &mut Vec<String>) -> Next {
        let Frame {
            join_ref,
            msg_ref,
            topic,
            event,
            payload,
        } = frame;
        let reply = |ok: bool, body: &str| {
            frame::reply(join_ref.as_deref(), msg_ref.as_deref(), &topic, ok, body)
        };
        match event.as_str() {
            "heartbeat" if topic == "phoenix" => {
                replies.push(reply(true, "{}"));
                Next::Continue
            }
            "phx_join" if topic.starts_with("lv:") && topic.len() > 3 => {
                let Some(join_ref) = join_ref.clone() else {
                    replies.push(reply(false, &frame::reason("join without join_ref")));
                    return Next::Continue;
                };
                if self.views.len() >= MAX_VIEWS && !self.views.contains_key(topic.as_str()) {
                    replies.push(reply(false, &frame::reason("too many views")));
                    return Next::Continue;
                }
                join::join(self, &topic, join_ref, msg_ref.clone(), payload, replies);
                Next::Continue
            }
            "phx_join" => {
                replies.push(reply(false, &frame::reason("unmatched topic")));
                Next::Continue
            }
            "phx_leave" => {
                // Also for topics never joined (the client's dummy "lv:" view): always ok.
                let owned = self
                    .views
                    .get(topic.as_str())
                    .is_some_and(|slot| join_ref.as_deref().is_none_or(|jr| *jr == *slot.join_ref));
                if owned && let Some(slot) = self.views.remove(topic.as_str()) {
                    slot.task.abort();
                }
                replies.push(reply(true, "{}"));
                Next::Continue
            }
            _ => {
                let member = self
                    .views
                    .get(topic.as_str())
                    .filter(|slot| join_ref.as_deref().is_none_or(|jr| *jr == *slot.join_ref));
                let Some(slot) = member else {
                    replies.push(reply(false, &frame::reason("unmatched topic")));
                    return Next::Continue;
                };
                let inbound = match event.as_str() {
                    "event" => Inbound::Event {
                        msg_ref: msg_ref.clone(),
                        payload,
                    },
                    "live_patch" => match payload.get("url").and_then(Value::as_str) {
                        Some(url) => Inbound::LivePatch {
                            msg_ref: msg_ref.clone(),
                            url: url.to_owned(),
                        },
                        None => {
                            replies.push(reply(false, &frame::reason("live_patch needs a url")));
                            return Next::Continue;
                        }
                    },
                    "cids_will_destroy" => Inbound::CidsWillDestroy {
                        msg_ref: msg_ref.clone(),
                    },
                    "cids_destroyed" => Inbound::CidsDestroyed {
                        msg_ref: msg_ref.clone(),
                        cids: payload
                            .get("cids")
                            .cloned()
                            .unwrap_or(Value::Array(Vec::new())),
                    },
                    _ => {
                        replies.push(reply(false, &frame::reason("unsupported event")));
                        return Next::Continue;
                    }
                };
                match slot.inbox.try_send(inbound) {
                    Ok(()) => Next::Continue,
                    Err(mpsc::error::TrySendError::Full(())) => {
                        tracing::warn!(%topic, "client floods a live view; closing");
                        Next::Close(1008, "too many events")
                    }
                    Err(mpsc::error::TrySendError::Closed(())) => {
                        replies.push(reply(false, &frame::reason("unmatched topic")));
                        Next::Continue
                    }
                }
            }
        }
    }
}
