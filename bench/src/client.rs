//! The browser-like client: dead render, WebSocket upgrade with cookie and CSRF token,
//! `phx_join`, heartbeats, clicks and form changes; plus a small adapter for the
//! dioxus-liveview protocol (binary edit frames, JSON `user_event`s).

use std::io;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::http::{self, LivePage};
use crate::stats::Latency;

/// Which protocol a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// livefire: Phoenix channels V2 + LiveView 1.2 payloads.
    Livefire,
    /// pyview: Phoenix channels V2 + LiveView 0.20 payloads (`_target` inside the form value).
    Pyview,
    /// dioxus-liveview: its own protocol on `/ws`.
    Dioxus,
}

/// Where and how to reach one server.
#[derive(Debug, Clone)]
pub struct Target {
    pub flavor: Flavor,
    pub port: u16,
    /// The page a browser loads first.
    pub page_path: String,
    /// dioxus: the element id of the `+` button.
    pub dx_element: u64,
}

/// A reply to one click or form change.
#[derive(Debug, Clone)]
pub struct Sample {
    pub rtt: Duration,
    /// Length of the reply frame's payload (the full JSON text, or the binary edits).
    pub bytes: usize,
    /// The reply frame (JSON text; binary frames are shown as hex).
    pub frame: String,
}

pub type Ws = WebSocketStream<TcpStream>;

/// Frame timeout for any single expected reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(15);
/// Heartbeat period (the Phoenix client's default).
const HEARTBEAT: Duration = Duration::from_secs(30);

fn err(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

fn ws_err(e: tokio_tungstenite::tungstenite::Error) -> io::Error {
    io::Error::other(e.to_string())
}

/// Client WebSocket settings: small buffers so 20k client sockets stay cheap.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

/// The `source` address for connection number `i`: 127.0.0.2 .. 127.0.0.(1 + spread).
pub fn source_ip(i: usize, spread: usize) -> Ipv4Addr {
    let spread = spread.clamp(1, 250);
    Ipv4Addr::new(127, 0, 0, 2 + (i % spread) as u8)
}

/// One joined WebSocket with one or more live views on it.
#[derive(Debug)]
pub struct Session {
    ws: Ws,
    flavor: Flavor,
    /// (topic, join_ref) of each joined view.
    views: Vec<(String, String)>,
    next_ref: u64,
    dx_element: u64,
    /// Bytes of the (first) join reply.
    pub join_bytes: usize,
    /// The (first) join reply itself, if the opener was asked to keep it.
    pub join_reply: Option<String>,
    form_seq: u64,
}

/// Opens sessions; holds one keep-alive HTTP connection for the dead renders.
#[derive(Debug)]
pub struct Opener {
    target: Arc<Target>,
    http: http::KeepAlive,
    keep_join_reply: bool,
}

impl Opener {
    pub fn new(target: Arc<Target>, src: Ipv4Addr) -> Self {
        Self {
            http: http::KeepAlive::new(src, target.port),
            target,
            keep_join_reply: false,
        }
    }

    /// Sessions opened from now on keep their first join reply (`Session::join_reply`).
    pub fn keep_join_reply(mut self) -> Self {
        self.keep_join_reply = true;
        self
    }

    /// Drops the keep-alive HTTP connection.
    pub fn close_http(&mut self) {
        self.http.close();
    }

    async fn get(&mut self, path: &str, cookie: Option<&str>) -> io::Result<http::Response> {
        self.http.send(&http::Req::get(path, cookie)).await
    }

    /// Dead render(s), WebSocket from `ws_src`, join of `views` live views on that socket.
    pub async fn open(&mut self, views: usize, ws_src: Ipv4Addr) -> io::Result<Session> {
        let port = self.target.port;
        let path = self.target.page_path.clone();
        if self.target.flavor == Flavor::Dioxus {
            // The page is a static shell (no per-session state); a browser still loads it.
            let res = self.get(&path, None).await?;
            if res.status != 200 {
                return Err(err(format!("GET {path}: {}", res.status)));
            }
            let stream = http::connect(ws_src, port).await?;
            let req = format!("ws://127.0.0.1:{port}/ws")
                .into_client_request()
                .map_err(ws_err)?;
            let (ws, _) =
                tokio_tungstenite::client_async_with_config(req, stream, Some(ws_config()))
                    .await
                    .map_err(ws_err)?;
            let mut session = Session {
                ws,
                flavor: Flavor::Dioxus,
                views: Vec::new(),
                next_ref: 1,
                dx_element: self.target.dx_element,
                join_bytes: 0,
                join_reply: None,
                form_seq: 0,
            };
            // "Joined" = the first binary edits frame (the initial render) arrived.
            session.join_bytes = session.next_binary().await?.len();
            return Ok(session);
        }

        let mut cookie: Option<String> = None;
        let mut pages = Vec::with_capacity(views);
        for _ in 0..views.max(1) {
            let res = self.get(&path, cookie.as_deref()).await?;
            if res.status != 200 {
                return Err(err(format!("GET {path}: {}", res.status)));
            }
            if !res.cookies.is_empty() {
                cookie = Some(res.cookies.join("; "));
            }
            pages.push(LivePage::parse(&res.body).ok_or_else(|| err("no live container"))?);
        }
        let csrf = http::encode_query(&pages[0].csrf);
        let mut req =
            format!("ws://127.0.0.1:{port}/live/websocket?_csrf_token={csrf}&_mounts=0&vsn=2.0.0")
                .into_client_request()
                .map_err(ws_err)?;
        if let Some(cookie) = &cookie {
            req.headers_mut()
                .insert("cookie", cookie.parse().map_err(|_| err("cookie header"))?);
        }
        let stream = http::connect(ws_src, port).await?;
        let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(ws_config()))
            .await
            .map_err(ws_err)?;
        let mut session = Session {
            ws,
            flavor: self.target.flavor,
            views: Vec::with_capacity(pages.len()),
            next_ref: 1,
            dx_element: 0,
            join_bytes: 0,
            join_reply: None,
            form_seq: 0,
        };
        for page in &pages {
            let join_ref = session.take_ref();
            let topic = format!("lv:{}", page.id);
            let payload = json!({
                "url": format!("http://127.0.0.1:{port}{path}"),
                "params": {"_csrf_token": page.csrf, "_mounts": 0, "_mount_attempts": 0},
                "session": page.session,
                "static": page.static_token,
                "sticky": false
            });
            let frame = json!([join_ref, join_ref, topic, "phx_join", payload]).to_string();
            session.send_text(frame).await?;
            let reply = session.reply_to(&join_ref).await?;
            let value: Value =
                serde_json::from_str(&reply).map_err(|_| err("join reply is not JSON"))?;
            if value[4]["status"] != "ok" {
                return Err(err(format!("join refused: {}", value[4])));
            }
            if session.join_bytes == 0 {
                session.join_bytes = reply.len();
                if self.keep_join_reply {
                    session.join_reply = Some(reply);
                }
            }
            session.views.push((topic, join_ref));
        }
        Ok(session)
    }
}

/// The `[join_ref, ref` of a V2 frame, whatever the whitespace.
fn frame_refs(text: &str) -> Option<(Option<&str>, Option<&str>)> {
    fn item(s: &str) -> Option<(Option<&str>, &str)> {
        let s = s.trim_start();
        if let Some(rest) = s.strip_prefix("null") {
            return Some((None, rest));
        }
        let rest = s.strip_prefix('"')?;
        let end = rest.find('"')?;
        Some((Some(&rest[..end]), &rest[end + 1..]))
    }
    let s = text.trim_start().strip_prefix('[')?;
    let (jr, rest) = item(s)?;
    let rest = rest.trim_start().strip_prefix(',')?;
    let (r, _) = item(rest)?;
    Some((jr, r))
}

impl Session {
    fn take_ref(&mut self) -> String {
        let r = self.next_ref;
        self.next_ref += 1;
        r.to_string()
    }

    async fn send_text(&mut self, text: String) -> io::Result<()> {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .map_err(ws_err)
    }

    async fn next_msg(&mut self) -> io::Result<Message> {
        match timeout(REPLY_TIMEOUT, self.ws.next()).await {
            Err(_) => Err(err("timed out waiting for a frame")),
            Ok(None) => Err(err("socket closed")),
            Ok(Some(Err(e))) => Err(ws_err(e)),
            Ok(Some(Ok(Message::Close(frame)))) => Err(err(format!("closed: {frame:?}"))),
            Ok(Some(Ok(msg))) => Ok(msg),
        }
    }

    /// Reads until the `phx_reply` whose ref is `msg_ref`; returns its text.
    async fn reply_to(&mut self, msg_ref: &str) -> io::Result<String> {
        loop {
            if let Message::Text(text) = self.next_msg().await? {
                let is_reply = frame_refs(&text).is_some_and(|(_, r)| r == Some(msg_ref))
                    && text.contains("\"phx_reply\"");
                if is_reply {
                    return Ok(text.as_str().to_owned());
                }
            }
        }
    }

    async fn next_binary(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Message::Binary(bytes) = self.next_msg().await? {
                return Ok(bytes.to_vec());
            }
        }
    }

    /// One `+` click (or, with `form`, one change of the text input) on view `view`;
    /// waits for its reply.
    pub async fn click(&mut self, view: usize, form: bool) -> io::Result<Sample> {
        if self.flavor == Flavor::Dioxus {
            let t0 = Instant::now();
            let bytes = self.click_raw().await?;
            let rtt = t0.elapsed();
            return Ok(Sample {
                rtt,
                bytes: bytes.len(),
                frame: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            });
        }
        self.phoenix_event(view, form).await
    }

    /// dioxus: one click on the `+` element; returns the binary edits that answer it.
    pub async fn click_raw(&mut self) -> io::Result<Vec<u8>> {
        let data = json!({
            "alt_key": false, "button": 0, "buttons": 0, "client_x": 10, "client_y": 10,
            "ctrl_key": false, "meta_key": false, "offset_x": 5, "offset_y": 5,
            "page_x": 10, "page_y": 10, "screen_x": 10, "screen_y": 10, "shift_key": false
        });
        let frame = json!({"method": "user_event", "params": {
                "name": "click", "element": self.dx_element, "data": data, "bubbles": true}})
        .to_string();
        self.send_text(frame).await?;
        self.next_binary().await
    }

    /// Any next message (for draining).
    pub async fn next_any(&mut self) -> io::Result<Message> {
        self.next_msg().await
    }

    async fn phoenix_event(&mut self, view: usize, form: bool) -> io::Result<Sample> {
        let (topic, join_ref) = self.views[view % self.views.len()].clone();
        let msg_ref = self.take_ref();
        let payload = if form {
            self.form_seq += 1;
            let text = format!("hello{}", self.form_seq);
            match self.flavor {
                // LiveView 1.2: `_target` in meta.
                Flavor::Livefire => json!({"type": "form", "event": "echo",
                    "value": format!("text={text}"), "meta": {"_target": "text"}, "uploads": {}}),
                // LiveView 0.20: `_target` appended to the URL-encoded value.
                _ => json!({"type": "form", "event": "echo",
                    "value": format!("text={text}&_target=text"), "uploads": {}}),
            }
        } else {
            json!({"type": "click", "event": "inc", "value": {"value": ""}})
        };
        self.push_as(topic, join_ref, msg_ref, payload).await
    }

    /// Sends one `event` with this payload to view `view` (Phoenix flavours); waits for its
    /// reply, which must be `ok`.
    pub async fn push(&mut self, view: usize, payload: Value) -> io::Result<Sample> {
        let (topic, join_ref) = self.views[view % self.views.len()].clone();
        let msg_ref = self.take_ref();
        self.push_as(topic, join_ref, msg_ref, payload).await
    }

    async fn push_as(
        &mut self,
        topic: String,
        join_ref: String,
        msg_ref: String,
        payload: Value,
    ) -> io::Result<Sample> {
        let frame = json!([join_ref, msg_ref, topic, "event", payload]).to_string();
        let t0 = Instant::now();
        self.send_text(frame).await?;
        let reply = self.reply_to(&msg_ref).await?;
        let rtt = t0.elapsed();
        if !reply.contains("\"ok\"") {
            return Err(err(format!("event refused: {reply}")));
        }
        Ok(Sample {
            rtt,
            bytes: reply.len(),
            frame: reply,
        })
    }

    async fn heartbeat(&mut self) -> io::Result<()> {
        let frame = match self.flavor {
            Flavor::Dioxus => "__ping__".to_owned(),
            _ => {
                let r = self.take_ref();
                format!("[null,\"{r}\",\"phoenix\",\"heartbeat\",{{}}]")
            }
        };
        self.send_text(frame).await
    }
}

/// A dead-rendered live page and a WebSocket to it, not joined yet: the upload and
/// nested-view scenarios drive their frames themselves (see [`Raw`]).
#[derive(Debug)]
pub struct Raw {
    pub ws: Ws,
    /// The root live container of the dead render.
    pub page: LivePage,
    /// The dead render's whole HTML (nested containers and their static tokens).
    pub html: String,
    port: u16,
    path: String,
}

impl Raw {
    /// `GET path` (new connection from `src`, cookie kept), then the WebSocket upgrade with
    /// the cookie and CSRF token, as the official client does.
    pub async fn open(port: u16, path: &str, src: Ipv4Addr) -> io::Result<Self> {
        let mut http = http::connect(src, port).await?;
        let res = http::get(&mut http, port, path, None).await?;
        drop(http);
        if res.status != 200 {
            return Err(err(format!("GET {path}: {}", res.status)));
        }
        let page = LivePage::parse(&res.body).ok_or_else(|| err("no live container"))?;
        let csrf = http::encode_query(&page.csrf);
        let mut req =
            format!("ws://127.0.0.1:{port}/live/websocket?_csrf_token={csrf}&_mounts=0&vsn=2.0.0")
                .into_client_request()
                .map_err(ws_err)?;
        if !res.cookies.is_empty() {
            let cookie = res.cookies.join("; ");
            req.headers_mut()
                .insert("cookie", cookie.parse().map_err(|_| err("cookie header"))?);
        }
        let stream = http::connect(src, port).await?;
        let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, None)
            .await
            .map_err(ws_err)?;
        Ok(Self {
            ws,
            page,
            html: res.body,
            port,
            path: path.to_owned(),
        })
    }

    /// The topic of the root view.
    pub fn topic(&self) -> String {
        format!("lv:{}", self.page.id)
    }

    /// The root view's `phx_join` frame.
    pub fn join_frame(&self, join_ref: &str) -> String {
        let payload = json!({
            "url": format!("http://127.0.0.1:{}{}", self.port, self.path),
            "params": {"_csrf_token": self.page.csrf, "_mounts": 0, "_mount_attempts": 0},
            "session": self.page.session,
            "static": self.page.static_token,
            "sticky": false
        });
        json!([join_ref, join_ref, self.topic(), "phx_join", payload]).to_string()
    }

    /// A nested view's `phx_join` frame, as the client sends it: no URL, the session token
    /// of the child's container in the parent's connected render, the static token of the
    /// dead render.
    pub fn child_join_frame(&self, join_ref: &str, id: &str, session: &str) -> String {
        let static_token = container_attr(&self.html, id, "data-phx-static");
        let payload = json!({
            "params": {"_csrf_token": self.page.csrf, "_mounts": 0, "_mount_attempts": 0},
            "session": session,
            "static": static_token,
            "sticky": false
        });
        json!([join_ref, join_ref, format!("lv:{id}"), "phx_join", payload]).to_string()
    }

    /// Sends a text frame.
    pub async fn send(&mut self, text: String) -> io::Result<()> {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .map_err(ws_err)
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> io::Result<()> {
        self.ws
            .send(Message::Binary(bytes.into()))
            .await
            .map_err(ws_err)
    }

    /// The next JSON text frame (binary frames and pings are skipped).
    pub async fn next_json(&mut self) -> io::Result<Value> {
        loop {
            let msg = match timeout(REPLY_TIMEOUT, self.ws.next()).await {
                Err(_) => return Err(err("timed out waiting for a frame")),
                Ok(None) => return Err(err("socket closed")),
                Ok(Some(Err(e))) => return Err(ws_err(e)),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Err(err(format!("closed: {frame:?}")));
                }
                Ok(Some(Ok(msg))) => msg,
            };
            if let Message::Text(text) = msg {
                return serde_json::from_str(text.as_str())
                    .map_err(|_| err(format!("not JSON: {}", text.as_str())));
            }
        }
    }

    /// Reads until the `phx_reply` to `msg_ref` on `topic`; returns its payload.
    pub async fn reply(&mut self, topic: &str, msg_ref: &str) -> io::Result<Value> {
        loop {
            let frame = self.next_json().await?;
            if frame[1] == msg_ref && frame[2] == topic && frame[3] == "phx_reply" {
                return Ok(frame[4].clone());
            }
        }
    }

    /// Keeps the socket open in a task of its own (heartbeats every 30 s, incoming frames
    /// read and dropped) until the handle is aborted.
    pub fn hold(mut self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut beat = tokio::time::interval(HEARTBEAT);
            beat.tick().await;
            let mut n = 0u64;
            loop {
                tokio::select! {
                    msg = self.ws.next() => match msg {
                        Some(Ok(_)) => {}
                        _ => break,
                    },
                    _ = beat.tick() => {
                        n += 1;
                        let frame = format!("[null,\"hb{n}\",\"phoenix\",\"heartbeat\",{{}}]");
                        if self.send(frame).await.is_err() {
                            break;
                        }
                    }
                }
            }
        })
    }
}

/// The value of attribute `name` on the element with DOM id `id` in `html` (HTML-escaped
/// quotes undone); `None` when either is missing.
pub fn container_attr(html: &str, id: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let tag_end = html[start..].find('>')? + start;
    let tag = &html[start..tag_end];
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[at..].find('"')? + at;
    Some(tag[at..end].replace("&quot;", "\"").replace("&amp;", "&"))
}

/// The HTML text of a rendered tree (join reply `rendered` or a `diff`): the JSON text with
/// its string escapes undone, enough to find attributes in it.
pub fn rendered_text(rendered: &Value) -> String {
    rendered.to_string().replace("\\\"", "\"")
}

/// A Phoenix V2 binary push frame, as the client's serializer encodes it: kind 0, the
/// lengths of join ref, ref, topic and event (one byte each), those four strings, the payload.
pub fn binary_push(
    join_ref: &str,
    msg_ref: &str,
    topic: &str,
    event: &str,
    payload: &[u8],
) -> io::Result<Vec<u8>> {
    let parts = [join_ref, msg_ref, topic, event];
    let mut out =
        Vec::with_capacity(5 + parts.iter().map(|p| p.len()).sum::<usize>() + payload.len());
    out.push(0);
    for part in parts {
        let len = u8::try_from(part.len())
            .map_err(|_| err(format!("{part:?} is longer than 255 bytes")))?;
        out.push(len);
    }
    for part in parts {
        out.extend_from_slice(part.as_bytes());
    }
    out.extend_from_slice(payload);
    Ok(out)
}

/// A command for a running session task.
#[derive(Debug)]
pub enum Cmd {
    /// One click (or form change); the result goes to `done`.
    Click {
        form: bool,
        done: mpsc::UnboundedSender<io::Result<Sample>>,
    },
    /// One `event` with this payload (Phoenix flavours); the result goes to `done`.
    Push {
        payload: Value,
        done: mpsc::UnboundedSender<io::Result<Sample>>,
    },
    /// Clicks back to back until `until`; the round trips (ns) go to `done`.
    Loop {
        until: Instant,
        done: mpsc::UnboundedSender<Vec<u64>>,
    },
    /// From now on, every server-pushed `diff` frame sends (arrival instant, frame length) to
    /// `arrivals`; `ready` is told once the watch is in place.
    Watch {
        arrivals: mpsc::UnboundedSender<(Instant, usize)>,
        ready: mpsc::UnboundedSender<()>,
    },
}

/// A server push (no ref) of event `diff`.
fn is_diff_push(text: &str) -> bool {
    frame_refs(text).is_some_and(|(_, r)| r.is_none()) && text.contains(",\"diff\",")
}

/// A handle to a session task; dropping it closes the session.
#[derive(Debug, Clone)]
pub struct Handle {
    pub tx: mpsc::Sender<Cmd>,
}

/// The open-loop senders' pick: offers one click to a session chosen by the xorshift state
/// `rng`, trying up to 8 sessions while the chosen one's queue is full. False if none took it
/// (the click is then not sent, and not counted).
pub fn offer_click(
    handles: &[Handle],
    rng: &mut u64,
    done: &mpsc::UnboundedSender<io::Result<Sample>>,
) -> bool {
    for _ in 0..8 {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        let h = &handles[(*rng % handles.len() as u64) as usize];
        let cmd = Cmd::Click {
            form: false,
            done: done.clone(),
        };
        if h.tx.try_send(cmd).is_ok() {
            return true;
        }
    }
    false
}

/// Runs `session` in its own task: answers commands, heartbeats every 30 s, reads (and drops)
/// server pushes while idle.
pub fn spawn(mut session: Session) -> Handle {
    let (tx, mut rx) = mpsc::channel::<Cmd>(4);
    tokio::spawn(async move {
        let mut hb = tokio::time::interval_at(Instant::now() + HEARTBEAT, HEARTBEAT);
        let mut view = 0usize;
        let mut watch: Option<mpsc::UnboundedSender<(Instant, usize)>> = None;
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(Cmd::Click { form, done }) => {
                        view += 1;
                        let res = session.click(view, form).await;
                        let failed = res.is_err();
                        let _ = done.send(res);
                        if failed {
                            break;
                        }
                    }
                    Some(Cmd::Push { payload, done }) => {
                        let res = session.push(0, payload).await;
                        let failed = res.is_err();
                        let _ = done.send(res);
                        if failed {
                            break;
                        }
                    }
                    Some(Cmd::Loop { until, done }) => {
                        let mut rtts = Vec::with_capacity(4096);
                        while Instant::now() < until {
                            view += 1;
                            match session.click(view, false).await {
                                Ok(s) => rtts.push(s.rtt.as_nanos() as u64),
                                Err(_) => break,
                            }
                        }
                        let _ = done.send(rtts);
                    }
                    Some(Cmd::Watch { arrivals, ready }) => {
                        watch = Some(arrivals);
                        let _ = ready.send(());
                    }
                    None => break,
                },
                msg = session.ws.next() => match msg {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(arrivals) = &watch
                            && is_diff_push(&text)
                        {
                            let _ = arrivals.send((Instant::now(), text.len()));
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                },
                _ = hb.tick() => {
                    if session.heartbeat().await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    Handle { tx }
}

/// Gathers the answers to `sent` clicks (for up to 30 s): their round trips, and the errors:
/// failed clicks and `expected` ones that got no answer (or were never sent).
pub async fn collect(
    mut rx: mpsc::UnboundedReceiver<io::Result<Sample>>,
    sent: usize,
    expected: usize,
) -> (Latency, usize) {
    let mut ns = Vec::with_capacity(sent);
    let mut errors = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Ok(Some(res)) = timeout(
        deadline.saturating_duration_since(Instant::now()),
        rx.recv(),
    )
    .await
    {
        match res {
            Ok(s) => ns.push(s.rtt.as_nanos() as u64),
            Err(_) => errors += 1,
        }
    }
    errors += expected.saturating_sub(ns.len() + errors);
    (Latency::from_ns(ns), errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_frame_refs() {
        assert_eq!(
            frame_refs(r#"["4","10","lv:x","phx_reply",{}]"#),
            Some((Some("4"), Some("10")))
        );
        assert_eq!(
            frame_refs(r#"[null, "8", "phoenix", "phx_reply", {}]"#),
            Some((None, Some("8")))
        );
        assert_eq!(
            frame_refs(r#"["4", null, "lv:x", "diff", {}]"#),
            Some((Some("4"), None))
        );
        assert_eq!(frame_refs("{}"), None);
    }

    #[test]
    fn recognizes_diff_pushes() {
        assert!(is_diff_push(r#"["4",null,"lv:phx-a","diff",{"5":"7"}]"#));
        assert!(!is_diff_push(
            r#"["4","9","lv:phx-a","phx_reply",{"status":"ok","response":{"diff":{}}}]"#
        ));
    }

    #[test]
    fn spreads_source_addresses_over_loopback() {
        assert_eq!(source_ip(0, 8), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source_ip(9, 8), Ipv4Addr::new(127, 0, 0, 3));
        assert!((0..1000).all(|i| source_ip(i, 250).is_loopback()));
    }

    #[test]
    fn encodes_binary_pushes_like_the_client() {
        let frame = binary_push("12", "7", "lvu:0", "chunk", &[0xff, 0, 1]).unwrap();
        let mut want = vec![0u8, 2, 1, 5, 5];
        want.extend_from_slice(b"127lvu:0chunk");
        want.extend_from_slice(&[0xff, 0, 1]);
        assert_eq!(frame, want);
        let long = "x".repeat(256);
        assert!(binary_push("1", "1", &long, "chunk", b"").is_err());
    }

    #[test]
    fn reads_container_attributes_and_rendered_text() {
        let html = r#"<div id="child-1" data-phx-session="S&amp;1" data-phx-static="T.2"><p id="x"></p></div>"#;
        assert_eq!(
            container_attr(html, "child-1", "data-phx-session").as_deref(),
            Some("S&1")
        );
        assert_eq!(
            container_attr(html, "child-1", "data-phx-static").as_deref(),
            Some("T.2")
        );
        assert_eq!(container_attr(html, "child-2", "data-phx-static"), None);
        assert_eq!(container_attr(html, "x", "data-phx-static"), None);
        let rendered = json!({"0": "<div id=\"c\" data-phx-session=\"S\">"});
        assert_eq!(
            container_attr(&rendered_text(&rendered), "c", "data-phx-session").as_deref(),
            Some("S")
        );
    }
}
