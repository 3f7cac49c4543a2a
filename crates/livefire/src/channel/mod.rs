//! One WebSocket connection: Phoenix channel multiplexing over V2 JSON frames
//! (docs/protocol.md §1).
//!
//! The connection task reads frames, answers heartbeats and leaves itself, starts a view task
//! per joined `lv:` topic, routes events to them, and writes what they send back. Hard limits
//! come from [`Limits`](crate::Limits): message size (set on the upgrade), frame rate, views
//! per socket, per-view inbox (a flooding client is closed with 1008), bad frames (closed
//! after a few), idle time and a write timeout (a client that stops reading is closed).

mod join;
mod longpoll;
mod rate;
mod upgrade;
mod upload;
mod views;

pub(crate) use self::longpoll::{LongPolls, poll, post};
pub(crate) use self::upgrade::websocket;

use std::sync::Arc;

use futures_util::{SinkExt as _, StreamExt as _};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use self::rate::Bucket;
use self::views::Views;
use crate::endpoint::Endpoint;
use crate::message::{Inbound, Outbound, SendFailure};
use crate::queue;
use crate::serve::{ConnectionSlot, SHUTDOWN_CLOSE_CODE, shutting_down};
use crate::wire::frame::{self, Frame, FrameError};

/// The server side of an upgraded connection.
type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// What the upgrade request established for this connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnInfo {
    /// The cookie session, present only if the CSRF token matched it.
    pub(crate) session: Option<Arc<Map<String, Value>>>,
    /// The browser's session id (binds flash tokens).
    pub(crate) session_id: Option<Arc<str>>,
    /// A masked CSRF token of that session, for forms the views render.
    pub(crate) csrf_token: Option<Arc<str>>,
    /// The session's `live_socket_id`, if any: logout can disconnect this socket.
    pub(crate) live_socket_id: Option<String>,
    /// The client's address ([`crate::ClientAddr`]).
    pub(crate) client_addr: Option<std::net::IpAddr>,
}

/// The state of one connection.
pub(crate) struct Connection {
    endpoint: Arc<Endpoint>,
    info: ConnInfo,
    views: Views,
    out_tx: queue::Sender<Outbound>,
    bad_frames: u32,
    /// Frames of any kind.
    bucket: Bucket,
    /// `phx_join`s.
    joins: Bucket,
}

/// The timeouts the connection loop reads (from [`Limits`](crate::Limits)).
#[derive(Clone, Copy)]
struct Timeouts {
    /// Until the first frame: the handshake timeout (at most the idle timeout).
    first: std::time::Duration,
    idle_timeout: std::time::Duration,
    write_timeout: std::time::Duration,
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
/// `slot` is the server's connection slot ([`crate::serve`]), held until the socket closes;
/// when that server shuts down the socket closes with 1012 (the client reconnects).
pub(crate) fn serve(
    mut ws: Ws,
    endpoint: Arc<Endpoint>,
    info: ConnInfo,
    slot: Option<Arc<ConnectionSlot>>,
) -> impl Future<Output = ()> + Send {
    // The three timeouts, not the whole `Limits` (152 bytes): the future keeps what it
    // captures for the connection's whole life.
    let limits = Timeouts {
        first: endpoint
            .limits
            .handshake_timeout
            .min(endpoint.limits.idle_timeout),
        idle_timeout: endpoint.limits.idle_timeout,
        write_timeout: endpoint.limits.write_timeout,
    };
    let (mut conn, mut out_rx, registration) = Connection::new(endpoint, info);
    async move {
        // Until its first frame the client gets the (shorter) handshake timeout.
        let mut deadline = Instant::now() + limits.first;
        let mut shutdown = std::pin::pin!(shutting_down(slot.clone()));
        let close = loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break Some((SHUTDOWN_CLOSE_CODE, "service restart")),
                out = out_rx.recv() => match out.map(|out| conn.outbound(out)) {
                    Some(Out::Frame(text)) => {
                        if !Box::pin(send(&mut ws, text, limits.write_timeout)).await {
                            break None;
                        }
                    }
                    Some(Out::Nothing) => {}
                    Some(Out::Disconnect) => break Some((1001, "disconnected")),
                    None => break None,
                },
                incoming = ws.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        deadline = Instant::now() + limits.idle_timeout;
                        let (next, replies) = conn.handle_text(text.as_str());
                        let mut ok = true;
                        for reply in replies {
                            if !Box::pin(send(&mut ws, reply, limits.write_timeout)).await {
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
                    Some(Ok(Message::Binary(bytes))) => {
                        deadline = Instant::now() + limits.idle_timeout;
                        let (next, replies) = conn.handle_binary(&bytes);
                        let mut ok = true;
                        for reply in replies {
                            if !Box::pin(send(&mut ws, reply, limits.write_timeout)).await {
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
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
                        deadline = Instant::now() + limits.idle_timeout;
                    }
                    Some(Ok(Message::Close(_))) => {
                        // tungstenite queued the closing handshake's answer: send it.
                        let _ = timeout(limits.write_timeout, ws.flush()).await;
                        break None;
                    }
                    None => break None,
                    Some(Err(err)) => {
                        tracing::debug!(%err, "websocket read failed");
                        break read_error_close(&err);
                    }
                },
                // 1001, not 1000: a client that was only slow (a throttled background tab)
                // reconnects at once instead of reloading the page.
                () = sleep_until(deadline) => break Some((1001, "idle timeout")),
            }
        };
        conn.stop_views();
        if let Some((code, reason)) = close {
            tracing::debug!(code, reason, "closing websocket");
            let frame = CloseFrame {
                code: CloseCode::from(code),
                reason: reason.into(),
            };
            let sent = Box::pin(timeout(
                limits.write_timeout,
                ws.send(Message::Close(Some(frame))),
            ))
            .await;
            if matches!(sent, Ok(Ok(()))) {
                Box::pin(linger(&mut ws)).await;
            }
        }
        // Registered (under the session's live socket id) until the connection ends.
        drop(registration);
        drop(slot);
    }
}

/// The close code for a read error the client caused (threat model §5, cases 42-46): a
/// protocol violation (unmasked frame, reserved bits, unknown opcode, oversized or fragmented
/// control frame) is 1002, invalid UTF-8 in a text message 1007, a frame or message over
/// [`Limits::max_message_size`](crate::Limits::max_message_size) 1009. Other errors (I/O, a
/// reset) just end the connection.
fn read_error_close(err: &tungstenite::Error) -> Option<(u16, &'static str)> {
    match err {
        tungstenite::Error::Utf8(_) => Some((1007, "invalid UTF-8")),
        tungstenite::Error::Capacity(_) => Some((1009, "message too big")),
        tungstenite::Error::Protocol(
            ProtocolError::ResetWithoutClosingHandshake
            | ProtocolError::SendAfterClosing
            | ProtocolError::ReceivedAfterClosing,
        ) => None,
        tungstenite::Error::Protocol(_) => Some((1002, "protocol error")),
        _ => None,
    }
}

/// A lingering close: after the server's close frame, reads and drops whatever the client
/// still sends (at most 1 MiB, for at most 1 s, or until it closes), so the kernel does not
/// answer unread data with a reset that would destroy the close frame before the client reads
/// its code (an oversized or flooding client is usually still sending).
///
/// The client's own close frame ends the linger at once: the closing handshake is complete and
/// the server drops the connection, which is when a browser reports the close to the page (it
/// waits for the server to end the TCP connection). Frames are read through the WebSocket
/// first; after a frame error (an oversized message, say) the rest is drained as raw bytes.
async fn linger(ws: &mut Ws) {
    use tokio::io::AsyncReadExt as _;
    const MAX: usize = 1 << 20;
    let deadline = Instant::now() + std::time::Duration::from_secs(1);
    let mut total = 0;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) | Ok(None | Some(Ok(Message::Close(_)))) => return,
            Ok(Some(Ok(message))) => {
                total += message.len();
                if total >= MAX {
                    return;
                }
            }
            Ok(Some(Err(
                tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
            ))) => return,
            Ok(Some(Err(_))) => break,
        }
    }
    let io = ws.get_mut();
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout_at(deadline, async {
        while total < MAX {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
}

async fn send(ws: &mut Ws, text: String, write_timeout: std::time::Duration) -> bool {
    match timeout(write_timeout, ws.send(Message::Text(text.into()))).await {
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

/// The `cids` of a `cids_will_destroy`/`cids_destroyed` payload (at most 10,000; anything
/// that is not a cid is skipped).
fn cids_of(payload: &Value) -> Vec<u32> {
    payload
        .get("cids")
        .and_then(Value::as_array)
        .map(|cids| {
            cids.iter()
                .take(10_000)
                .filter_map(Value::as_u64)
                .filter_map(|cid| u32::try_from(cid).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// What to do with a message of the outbox.
enum Out {
    /// Send this frame.
    Frame(String),
    /// Nothing to send.
    Nothing,
    /// Close the connection (1001): a logout elsewhere.
    Disconnect,
}

impl Connection {
    /// A connection with its outbox receiver and its registration under the session's
    /// `live_socket_id` (kept until the connection ends).
    fn new(
        endpoint: Arc<Endpoint>,
        info: ConnInfo,
    ) -> (
        Self,
        queue::Receiver<Outbound>,
        Option<crate::sockets::Registration>,
    ) {
        let limits = endpoint.limits;
        let (out_tx, out_rx) = queue::channel(limits.socket_outbox);
        let registration = info
            .live_socket_id
            .clone()
            .map(|id| endpoint.sockets.register(id, out_tx.clone()));
        let conn = Connection {
            endpoint,
            info,
            views: Views::default(),
            out_tx,
            bad_frames: 0,
            bucket: Bucket::new(limits.rate),
            joins: Bucket::new(limits.joins),
        };
        (conn, out_rx, registration)
    }

    /// Handles a message of the outbox: a view's frame, a view that ended (`phx_close` if it
    /// stopped on purpose), or a disconnect.
    fn outbound(&mut self, out: Outbound) -> Out {
        match out {
            Outbound::Frame(text) => Out::Frame(text),
            Outbound::Ended(ended) => {
                let current = self
                    .views
                    .get(&ended.topic)
                    .is_some_and(|slot| slot.join_ref == ended.join_ref);
                if !current {
                    return Out::Nothing;
                }
                let slot = self.views.remove(&ended.topic);
                // A view's nested views end with it.
                self.stop_children(&ended.topic);
                if ended.linked_crash
                    && let Some(parent) = slot.and_then(|s| s.parent)
                    && let Some(parent_slot) = self.views.remove(&parent)
                {
                    // Linked: the parent crashes too, and the client rejoins it.
                    parent_slot.task.abort();
                    self.stop_children(&parent);
                    return Out::Frame(frame::error(&parent_slot.join_ref, &parent));
                }
                if ended.close {
                    return Out::Frame(frame::close(&ended.join_ref, &ended.topic));
                }
                Out::Nothing
            }
            Outbound::Disconnect => Out::Disconnect,
        }
    }

    /// Stops the nested views of `topic`.
    fn stop_children(&mut self, topic: &str) {
        for (_, slot) in self.views.remove_children(topic) {
            slot.task.abort();
        }
    }

    /// Stops every view of the connection.
    fn stop_views(&mut self) {
        for (_, slot) in self.views.drain() {
            slot.task.abort();
        }
    }

    /// Handles one text frame; returns frames to send right away.
    fn handle_text(&mut self, text: &str) -> (Next, Vec<String>) {
        if !self.bucket.take() {
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

    /// Handles one binary frame: an upload `chunk` for a joined `lvu:` channel.
    fn handle_binary(&mut self, bytes: &[u8]) -> (Next, Vec<String>) {
        if !self.bucket.take() {
            tracing::warn!("client exceeds the frame rate limit; closing");
            return (Next::Close(1008, "rate limit exceeded"), Vec::new());
        }
        let frame = match frame::BinaryFrame::parse(bytes) {
            Ok(frame) => frame,
            Err(err) => {
                self.bad_frames += 1;
                tracing::debug!(%err, "bad binary frame");
                if self.bad_frames > self.endpoint.limits.max_bad_frames {
                    return (Next::Close(1003, "malformed binary frames"), Vec::new());
                }
                return (Next::Continue, Vec::new());
            }
        };
        let reply = |body: &str| {
            vec![frame::reply(
                frame.join_ref,
                frame.msg_ref,
                frame.topic,
                false,
                &frame::reason(body),
            )]
        };
        let upload = frame.topic.starts_with("lvu:") && frame.event == "chunk";
        let Some(slot) = self
            .views
            .member(frame.topic, frame.join_ref)
            .filter(|_| upload)
        else {
            return (Next::Continue, reply("unmatched topic"));
        };
        let chunk = Inbound::Chunk {
            msg_ref: frame.msg_ref.map(str::to_owned),
            data: frame.payload.to_vec(),
        };
        match slot.inbox.try_send(chunk) {
            Ok(()) => (Next::Continue, Vec::new()),
            Err(SendFailure::Full) => {
                tracing::warn!(topic = frame.topic, "client floods an upload; closing");
                (Next::Close(1008, "too many chunks"), Vec::new())
            }
            Err(SendFailure::Closed) => (Next::Continue, reply("unmatched topic")),
        }
    }

    fn bad_frame(&mut self, err: FrameError) -> (Next, Vec<String>) {
        self.bad_frames += 1;
        tracing::debug!(%err, "bad frame");
        if self.bad_frames > self.endpoint.limits.max_bad_frames {
            return (Next::Close(1008, "too many malformed frames"), Vec::new());
        }
        match err {
            // A frame with a ref gets an error reply for it, even with a null or non-string
            // topic (answered with a null topic); the socket lives on.
            FrameError::BadEnvelope {
                join_ref,
                msg_ref: Some(msg_ref),
                topic,
            } => {
                let reply = frame::reply_any_topic(
                    join_ref.as_deref(),
                    Some(&msg_ref),
                    topic.as_deref(),
                    false,
                    &frame::reason("malformed frame"),
                );
                (Next::Continue, vec![reply])
            }
            FrameError::NotJson => (Next::Close(1003, "frame is not JSON"), Vec::new()),
            FrameError::BadEnvelope { msg_ref: None, .. } => {
                (Next::Close(1003, "malformed frame"), Vec::new())
            }
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
            "phx_join"
                if (topic.starts_with("lv:") && topic.len() > 3)
                    || (topic.starts_with("lvu:") && topic.len() > 4) =>
            {
                if !self.joins.take() {
                    tracing::warn!("client exceeds the join rate limit; closing");
                    return Next::Close(1008, "too many joins");
                }
                let Some(join_ref) = join_ref.clone() else {
                    replies.push(reply(false, &frame::reason("join without join_ref")));
                    return Next::Continue;
                };
                let max_views = self.endpoint.limits.max_views_per_socket;
                if self.views.len() >= max_views && !self.views.contains_key(topic.as_str()) {
                    replies.push(reply(false, &frame::reason("too many views")));
                    return Next::Continue;
                }
                if topic.starts_with("lvu:") {
                    upload::join(self, &topic, join_ref, msg_ref.clone(), &payload, replies);
                } else {
                    join::join(self, &topic, join_ref, msg_ref.clone(), payload, replies);
                }
                Next::Continue
            }
            "phx_join" => {
                replies.push(reply(false, &frame::reason("unmatched topic")));
                Next::Continue
            }
            "phx_leave" => {
                // Also for topics never joined (the client's dummy "lv:" view): always ok.
                replies.push(reply(true, "{}"));
                if self.views.member(&topic, join_ref.as_deref()).is_some()
                    && let Some(slot) = self.views.remove(&topic)
                {
                    slot.task.abort();
                    self.stop_children(&topic);
                    // As Phoenix after a channel stops: the client drops the channel.
                    replies.push(frame::close(&slot.join_ref, &topic));
                }
                Next::Continue
            }
            _ => {
                let Some(slot) = self.views.member(&topic, join_ref.as_deref()) else {
                    replies.push(reply(false, &frame::reason("unmatched topic")));
                    return Next::Continue;
                };
                // An upload channel takes only binary chunks (and its join and leave).
                if topic.starts_with("lvu:") {
                    replies.push(reply(false, &frame::reason("unsupported event")));
                    return Next::Continue;
                }
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
                        cids: cids_of(&payload),
                    },
                    "cids_destroyed" => Inbound::CidsDestroyed {
                        msg_ref: msg_ref.clone(),
                        cids: cids_of(&payload),
                    },
                    "allow_upload" => Inbound::AllowUpload {
                        msg_ref: msg_ref.clone(),
                        payload,
                    },
                    "progress" => Inbound::Progress {
                        msg_ref: msg_ref.clone(),
                        payload,
                    },
                    _ => {
                        replies.push(reply(false, &frame::reason("unsupported event")));
                        return Next::Continue;
                    }
                };
                match slot.inbox.try_send(inbound) {
                    Ok(()) => Next::Continue,
                    Err(SendFailure::Full) => {
                        tracing::warn!(%topic, "client floods a live view; closing");
                        Next::Close(1008, "too many events")
                    }
                    Err(SendFailure::Closed) => {
                        replies.push(reply(false, &frame::reason("unmatched topic")));
                        Next::Continue
                    }
                }
            }
        }
    }
}
