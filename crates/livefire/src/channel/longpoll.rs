//! The long-poll transport (`/live/longpoll`, docs/protocol.md §1.2): the same channels as
//! the WebSocket, over plain HTTP requests, for browsers behind proxies that block
//! WebSockets (the client falls back to it with `longPollFallbackMs`).
//!
//! * `GET /live/longpoll?vsn=2.0.0&_csrf_token=…` without a token opens a session (the same
//!   checks as the WebSocket upgrade: version, Origin, CSRF for the cookie session) and
//!   answers `{"status":410,"token":T,"messages":[]}`.
//! * `GET …&token=T` waits up to [`POLL_WAIT`] for frames: `{"status":200,"token":T,
//!   "messages":[…]}`, or `{"status":204,"token":T}` when nothing came.
//! * `POST …&token=T` with `application/x-ndjson` (one frame per line, at most
//!   [`MAX_BATCH`]) hands the frames to the session's connection: `{"status":200}`.
//!
//! Behind the token is the same [`Connection`](super::Connection) as a WebSocket's, with the
//! same limits and view tasks; its replies wait for the next poll. The token is 256 random
//! bits and is only accepted with the cookie session it was opened with. A session that has
//! not polled for [`Limits::idle_timeout`](crate::Limits::idle_timeout) is closed (its views
//! stopped); a poll for it answers `410`, and the client connects again.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::upgrade::conn_info;
use super::{Connection, Next, Out};
use crate::client_addr::ClientAddr;
use crate::endpoint::Endpoint;
use crate::message::Outbound;
use crate::queue;
use crate::session::Session;
use crate::wire::json::write_json_str;

/// How long a poll waits for frames before answering `204` (below the client's 20 s, and
/// at most half the idle timeout).
fn poll_wait(idle: Duration) -> Duration {
    Duration::from_secs(15).min(idle / 2)
}

/// Most frames in one POST (the client sends at most 100).
pub(crate) const MAX_BATCH: usize = 100;

/// The long-poll sessions of one router.
#[derive(Debug, Default)]
pub(crate) struct LongPolls {
    sessions: Mutex<HashMap<String, Arc<LongPoll>>>,
}

/// One long-poll session: a connection whose frames are collected by polls.
struct LongPoll {
    token: String,
    /// The browser's session id when it opened (None: no session); later requests must
    /// carry the same.
    session_id: Option<String>,
    client_addr: Option<IpAddr>,
    conn: Mutex<Connection>,
    /// The connection's outbox; one poll at a time reads it.
    outbox: tokio::sync::Mutex<queue::Receiver<Outbound>>,
    /// Frames for the next poll: replies to POSTed frames and frames taken from the outbox.
    pending: Mutex<Vec<String>>,
    /// Wakes a waiting poll when a POST adds frames.
    wake: Notify,
    state: Mutex<PollState>,
    /// Keeps the connection registered under the session's `live_socket_id`.
    _registration: Option<crate::sockets::Registration>,
}

struct PollState {
    last_seen: Instant,
    polling: bool,
    closed: bool,
}

impl std::fmt::Debug for LongPoll {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LongPoll").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LongPoll {
    /// Closes the session: its views stop, polls answer 410.
    fn close(&self) {
        lock(&self.state).closed = true;
        lock(&self.conn).stop_views();
        self.wake.notify_waiters();
    }

    fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// Takes the frames waiting for a poll, draining the outbox without waiting.
    fn take_ready(&self, outbox: &mut queue::Receiver<Outbound>) -> Vec<String> {
        let mut frames = std::mem::take(&mut *lock(&self.pending));
        while let Some(out) = outbox.try_recv() {
            match lock(&self.conn).outbound(out) {
                Out::Frame(text) => frames.push(text),
                Out::Nothing => {}
                Out::Disconnect => {
                    self.close();
                    break;
                }
            }
        }
        frames
    }
}

impl LongPolls {
    fn get(&self, token: &str) -> Option<Arc<LongPoll>> {
        lock(&self.sessions).get(token).cloned()
    }

    fn remove(&self, token: &str) {
        lock(&self.sessions).remove(token);
    }

    /// Sessions from `addr`, and in all.
    fn counts(&self, addr: Option<IpAddr>) -> (usize, usize) {
        let sessions = lock(&self.sessions);
        let from = sessions
            .values()
            .filter(|s| addr.is_some() && s.client_addr == addr)
            .count();
        (from, sessions.len())
    }
}

/// The query of a long-poll request.
struct Query {
    vsn: Option<String>,
    csrf: Option<String>,
    token: Option<String>,
}

fn query(req: &Request) -> Query {
    let mut q = Query {
        vsn: None,
        csrf: None,
        token: None,
    };
    if let Some(raw) = req.uri().query() {
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            match &*key {
                "vsn" => q.vsn = Some(value.into_owned()),
                "_csrf_token" => q.csrf = Some(value.into_owned()),
                "token" => q.token = Some(value.into_owned()),
                _ => {}
            }
        }
    }
    q
}

/// `{"status":N,"token":T?,"messages":[…]?}` as the client reads it (always HTTP 200).
fn answer(status: u16, token: Option<&str>, messages: Option<&[String]>) -> Response {
    let mut body = format!("{{\"status\":{status}");
    if let Some(token) = token {
        body.push_str(",\"token\":");
        write_json_str(token, &mut body);
    }
    if let Some(messages) = messages {
        body.push_str(",\"messages\":[");
        for (i, message) in messages.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            // Each message is a frame as text, the same text a WebSocket would carry.
            write_json_str(message, &mut body);
        }
        body.push(']');
    }
    body.push('}');
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The session of a request's token, if it is alive and the request carries the cookie
/// session it was opened with.
fn session_for(polls: &LongPolls, token: &str, req: &Request) -> Option<Arc<LongPoll>> {
    let lp = polls.get(token)?;
    let current = req
        .extensions()
        .get::<Session>()
        .and_then(Session::existing_id);
    if lp.session_id.is_some() && lp.session_id != current {
        tracing::debug!("long-poll token presented with another session");
        return None;
    }
    (!lp.is_closed()).then_some(lp)
}

/// `GET /live/longpoll`.
pub(crate) async fn poll(
    State((endpoint, polls)): State<(Arc<Endpoint>, Arc<LongPolls>)>,
    req: Request,
) -> Response {
    let q = query(&req);
    if q.vsn.as_deref() != Some("2.0.0") {
        return (
            StatusCode::BAD_REQUEST,
            "unsupported serializer version (vsn must be 2.0.0)",
        )
            .into_response();
    }
    let secure = req
        .extensions()
        .get::<Session>()
        .is_some_and(Session::is_secure);
    if !endpoint.origin_allowed(req.headers(), secure) {
        tracing::warn!(origin = ?req.headers().get(header::ORIGIN), "long poll refused: foreign origin");
        return answer(403, None, None);
    }
    let Some(token) = q.token else {
        return open(endpoint, polls, &req, q.csrf.as_deref());
    };
    let Some(lp) = session_for(&polls, &token, &req) else {
        return answer(410, None, None);
    };
    {
        let mut state = lock(&lp.state);
        state.last_seen = Instant::now();
        state.polling = true;
    }
    let frames = wait_for_frames(&lp, poll_wait(endpoint.limits.idle_timeout)).await;
    {
        let mut state = lock(&lp.state);
        state.last_seen = Instant::now();
        state.polling = false;
    }
    if lp.is_closed() && frames.is_empty() {
        polls.remove(&token);
        return answer(410, None, None);
    }
    if frames.is_empty() {
        answer(204, Some(&token), None)
    } else {
        answer(200, Some(&token), Some(&frames))
    }
}

/// Waits up to `wait` for frames of the session.
async fn wait_for_frames(lp: &LongPoll, wait: Duration) -> Vec<String> {
    // One poll at a time reads the outbox; a second one waits its turn.
    let mut outbox = lp.outbox.lock().await;
    let deadline = Instant::now() + wait;
    loop {
        let frames = lp.take_ready(&mut outbox);
        if !frames.is_empty() || lp.is_closed() {
            return frames;
        }
        let notified = lp.wake.notified();
        tokio::select! {
            out = outbox.recv() => match out {
                Some(out) => {
                    let out = lock(&lp.conn).outbound(out);
                    match out {
                        Out::Frame(text) => {
                            let mut frames = vec![text];
                            frames.extend(lp.take_ready(&mut outbox));
                            return frames;
                        }
                        Out::Nothing => {}
                        Out::Disconnect => lp.close(),
                    }
                }
                None => {
                    lp.close();
                    return Vec::new();
                }
            },
            () = notified => {}
            () = tokio::time::sleep_until(deadline) => return Vec::new(),
        }
    }
}

/// Opens a session (the first poll).
fn open(
    endpoint: Arc<Endpoint>,
    polls: Arc<LongPolls>,
    req: &Request,
    csrf: Option<&str>,
) -> Response {
    let limits = endpoint.limits;
    let client_addr = ClientAddr::of(req.extensions());
    let (from_addr, total) = polls.counts(client_addr);
    if from_addr >= limits.max_connections_per_address || total >= limits.max_connections {
        tracing::warn!(?client_addr, "long poll refused: session limit");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let session = req.extensions().get::<Session>();
    let mut info = conn_info(&endpoint, session, csrf);
    info.client_addr = client_addr;
    let session_id = session.and_then(Session::existing_id);
    let (conn, outbox, registration) = Connection::new(endpoint, info);
    let token = URL_SAFE_NO_PAD.encode(crate::token::random_bytes::<32>());
    let lp = Arc::new(LongPoll {
        token: token.clone(),
        session_id,
        client_addr,
        conn: Mutex::new(conn),
        outbox: tokio::sync::Mutex::new(outbox),
        pending: Mutex::new(Vec::new()),
        wake: Notify::new(),
        state: Mutex::new(PollState {
            last_seen: Instant::now(),
            polling: false,
            closed: false,
        }),
        _registration: registration,
    });
    lock(&polls.sessions).insert(token.clone(), lp.clone());
    spawn_reaper(Arc::downgrade(&polls), lp, limits.idle_timeout);
    answer(410, Some(&token), Some(&[]))
}

/// Closes the session once it has not polled for `idle`.
fn spawn_reaper(polls: std::sync::Weak<LongPolls>, lp: Arc<LongPoll>, idle: Duration) {
    let lp = Arc::downgrade(&lp);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5).min(idle / 2));
        loop {
            every.tick().await;
            let Some(session) = lp.upgrade() else {
                return;
            };
            let idle = {
                let state = lock(&session.state);
                state.closed || (!state.polling && state.last_seen.elapsed() > idle)
            };
            if idle {
                tracing::debug!("long-poll session closed (idle)");
                session.close();
                if let Some(polls) = polls.upgrade() {
                    polls.remove(&session.token);
                }
                return;
            }
        }
    });
}

/// `POST /live/longpoll?token=T`: frames, one per line.
pub(crate) async fn post(
    State((endpoint, polls)): State<(Arc<Endpoint>, Arc<LongPolls>)>,
    req: Request,
) -> Response {
    let q = query(&req);
    let secure = req
        .extensions()
        .get::<Session>()
        .is_some_and(Session::is_secure);
    if !endpoint.origin_allowed(req.headers(), secure) {
        return answer(403, None, None);
    }
    let Some(token) = q.token else {
        return answer(410, None, None);
    };
    let Some(lp) = session_for(&polls, &token, &req) else {
        return answer(410, None, None);
    };
    // Binary frames (upload chunks) arrive in base64: 4 bytes per 3.
    let max_line = endpoint.limits.max_message_size.saturating_mul(4) / 3 + 4;
    let limit = max_line.saturating_mul(MAX_BATCH);
    let body: Bytes = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(body) => body,
        Err(_) => {
            tracing::warn!("long-poll batch too large; closing the session");
            lp.close();
            polls.remove(&token);
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        lp.close();
        polls.remove(&token);
        return answer(400, None, None);
    };
    let mut replies = Vec::new();
    let mut close = false;
    {
        let mut conn = lock(&lp.conn);
        for line in text.split('\n').filter(|l| !l.is_empty()).take(MAX_BATCH) {
            let (next, frames) = if line.starts_with('[') {
                if line.len() > endpoint.limits.max_message_size {
                    close = true;
                    break;
                }
                conn.handle_text(line)
            } else {
                // A binary frame, base64-encoded by the client.
                use base64::Engine as _;
                let decoded = base64::engine::general_purpose::STANDARD.decode(line);
                match decoded {
                    Ok(bytes) if bytes.len() <= endpoint.limits.max_message_size => {
                        conn.handle_binary(&bytes)
                    }
                    _ => {
                        close = true;
                        break;
                    }
                }
            };
            replies.extend(frames);
            if let Next::Close(code, reason) = next {
                tracing::debug!(code, reason, "long-poll session closed by a limit");
                close = true;
                break;
            }
        }
    }
    if !replies.is_empty() {
        lock(&lp.pending).extend(replies);
        lp.wake.notify_waiters();
    }
    if close {
        lp.close();
        polls.remove(&token);
    }
    answer(200, None, None)
}
