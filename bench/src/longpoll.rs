//! `--scenario longpoll`: click round trips over Phoenix's long-poll transport
//! (`/live/longpoll`), side by side with the WebSocket, against one `bench-counter-server`.
//!
//! The long-poll client does what phoenix.js's `LongPoll` does (phoenix 1.8): a first `GET
//! /live/longpoll?…&vsn=2.0.0` without a token gets the session token (`status` 410 in the
//! JSON body); then one outstanding poll `GET` at a time carrying the token (taken again from
//! each answer); frames go out by `POST` with the token, `application/x-ndjson`, the frames
//! queued while the previous `POST` awaits its answer batched into the next one (at most 100
//! per `POST`). The dead render, cookie and CSRF token are the same as the WebSocket client's;
//! the poll and the `POST`s use one keep-alive connection each, as a browser's pool does. No
//! heartbeats (phoenix.js skips them on long polling).
//!
//! Measured, against one fresh server: (1) one session of each transport, clicking
//! alternately (one long-poll click, one WebSocket click), so both see the same machine load;
//! (2) server RSS per idle session of each transport (warm-up sessions, RSS, N long-poll
//! sessions, RSS, N WebSocket sessions, RSS); (3) with the N + N sessions open, clicks at
//! `rate` per second per transport spread at random over each transport's sessions,
//! interleaved (open loop). Click round trip: from handing the `event` frame to the batcher
//! (long poll) or the socket (WebSocket) to its `phx_reply` arriving (through a poll answer).

use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};

use crate::client::{self, Cmd, Flavor, Handle, Opener, Sample, Target, source_ip};
use crate::http::{self, KeepAlive, LivePage, Req};
use crate::open;
use crate::server::{Server, Spec};
use crate::stats::Latency;

/// At most this many frames in one `POST` (phoenix.js's `MAX_LONGPOLL_BATCH_SIZE`).
pub const MAX_BATCH: usize = 100;
/// A poll answer waits up to 15 s on the server; the client gives up after 20 s
/// (`longpollerTimeout`).
const POLL_TIMEOUT: Duration = Duration::from_secs(20);
/// Time allowed for any one expected reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(15);

/// Poll answers received in this process, with frames (`200`) and empty (`204`, the server's
/// wait ran out): how often the idle re-poll cycle happened.
static POLLS_WITH_FRAMES: AtomicUsize = AtomicUsize::new(0);
static POLLS_EMPTY: AtomicUsize = AtomicUsize::new(0);

/// Knobs of the scenario.
#[derive(Debug, Clone)]
pub struct Cfg {
    /// How to start `bench-counter-server`.
    pub server: Spec,
    pub out: PathBuf,
    pub port_base: u16,
    /// Sessions of each transport in the "N sessions" run (0 skips it).
    pub sessions: usize,
    /// Sessions of each transport opened before the baseline RSS read.
    pub warmup: usize,
    /// Sequential clicks of the one-session run, per transport (after `seq_warm` warm-up).
    pub seq_clicks: usize,
    pub seq_warm: usize,
    /// Clicks per second per transport in the N-sessions run, for `rate_secs`.
    pub rate: f64,
    pub rate_secs: f64,
    /// After the rate run, every session idles this long, then clicks once (0 skips it):
    /// longer than the server's poll wait (15 s) and its idle timeout (60 s), so a session
    /// that expired or lost its poll shows up as an error.
    pub idle_secs: u64,
    /// Sessions opened at once.
    pub concurrency: usize,
    /// Source addresses 127.0.0.2 .. 127.0.0.(1 + spread).
    pub spread: usize,
}

impl Cfg {
    pub fn new(server: Spec, out: PathBuf) -> Self {
        Self {
            server,
            out,
            port_base: 4700,
            sessions: 1000,
            warmup: 100,
            seq_clicks: 3000,
            seq_warm: 300,
            rate: 500.0,
            rate_secs: 10.0,
            idle_secs: 65,
            concurrency: 32,
            spread: 16,
        }
    }

    /// Small counts: a smoke test.
    pub fn quick(&mut self) {
        self.sessions = self.sessions.min(200);
        self.warmup = 20;
        self.seq_clicks = 500;
        self.seq_warm = 100;
        self.rate_secs = 3.0;
        self.idle_secs = 0;
    }
}

fn log(msg: &str) {
    eprintln!("[longpoll] {msg}");
}

fn err(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

/// An answer of `/live/longpoll` (always HTTP 200; the status is in the body).
#[derive(Debug, Clone, PartialEq)]
pub struct PollAnswer {
    pub status: u16,
    pub token: Option<String>,
    pub messages: Vec<String>,
}

impl PollAnswer {
    /// Parses `{"status":N,"token":T?,"messages":[…]?}`.
    pub fn parse(body: &str) -> io::Result<Self> {
        let v: Value = serde_json::from_str(body)
            .map_err(|e| err(format!("long-poll answer is not JSON ({e}): {body:.200}")))?;
        let status = v["status"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .ok_or_else(|| err(format!("long-poll answer without a status: {body:.200}")))?;
        let messages = match &v["messages"] {
            Value::Null => Vec::new(),
            Value::Array(list) => list
                .iter()
                .map(|m| {
                    m.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| err("a long-poll message is not a string"))
                })
                .collect::<io::Result<_>>()?,
            _ => return Err(err("long-poll `messages` is not a list")),
        };
        Ok(Self {
            status,
            token: v["token"].as_str().map(str::to_owned),
            messages,
        })
    }
}

/// The bodies of the `POST`s that carry `frames`: newline-delimited, at most [`MAX_BATCH`]
/// each, in order (phoenix.js's `batchSend`).
pub fn batch_bodies(frames: &[String]) -> Vec<String> {
    frames.chunks(MAX_BATCH).map(|c| c.join("\n")).collect()
}

/// The long-poll endpoint with the socket's parameters (those of the WebSocket URL) and,
/// once known, the token.
pub fn endpoint(csrf: &str, token: Option<&str>) -> String {
    let mut url = format!(
        "/live/longpoll?_csrf_token={}&_mounts=0&vsn=2.0.0",
        http::encode_query(csrf)
    );
    if let Some(token) = token {
        url.push_str("&token=");
        url.push_str(&http::encode_query(token));
    }
    url
}

/// What the poll and the batcher hand to the session: a frame and when its poll answer
/// arrived, or why the transport stopped.
type Inbound = Result<(Instant, String), String>;

/// Shared between the poll loop and the batcher: the cookie, the CSRF token, the current
/// session token.
#[derive(Debug)]
struct Shared {
    port: u16,
    cookie: Option<String>,
    csrf: String,
    token: Mutex<String>,
}

impl Shared {
    fn url(&self) -> String {
        let token = self.token.lock().unwrap_or_else(|e| e.into_inner()).clone();
        endpoint(&self.csrf, Some(&token))
    }
}

/// The poll loop: one outstanding `GET` at a time; every frame of an answer goes to `inbox`
/// with the answer's arrival time.
async fn poll_loop(
    shared: Arc<Shared>,
    mut conn: KeepAlive,
    inbox: mpsc::UnboundedSender<Inbound>,
) {
    loop {
        let url = shared.url();
        let req = Req {
            accept: "application/json",
            ..Req::get(&url, shared.cookie.as_deref())
        };
        let res = match timeout(POLL_TIMEOUT, conn.send(&req)).await {
            Ok(Ok(res)) => res,
            Ok(Err(e)) => {
                let _ = inbox.send(Err(format!("poll failed: {e}")));
                return;
            }
            Err(_) => {
                let _ = inbox.send(Err("poll timed out".into()));
                return;
            }
        };
        let at = Instant::now();
        if res.status != 200 {
            let _ = inbox.send(Err(format!(
                "poll answered HTTP {}: {}",
                res.status, res.body
            )));
            return;
        }
        let answer = match PollAnswer::parse(&res.body) {
            Ok(answer) => answer,
            Err(e) => {
                let _ = inbox.send(Err(e.to_string()));
                return;
            }
        };
        match answer.status {
            200 => {
                POLLS_WITH_FRAMES.fetch_add(1, Ordering::Relaxed);
            }
            204 => {
                POLLS_EMPTY.fetch_add(1, Ordering::Relaxed);
            }
            // 410 with a token already known: the session is gone (phoenix.js reconnects).
            other => {
                let _ = inbox.send(Err(format!("poll answered status {other}")));
                return;
            }
        }
        if let Some(token) = answer.token {
            *shared.token.lock().unwrap_or_else(|e| e.into_inner()) = token;
        }
        for message in answer.messages {
            if inbox.send(Ok((at, message))).is_err() {
                return;
            }
        }
    }
}

/// The batcher: frames handed over while no `POST` is under way go out together in the next
/// one (phoenix.js collects a tick's pushes, and buffers those sent while awaiting an answer).
async fn batcher(
    shared: Arc<Shared>,
    mut conn: KeepAlive,
    mut out: mpsc::UnboundedReceiver<String>,
    inbox: mpsc::UnboundedSender<Inbound>,
    posts: Arc<AtomicUsize>,
) {
    while let Some(first) = out.recv().await {
        let mut frames = vec![first];
        while let Ok(more) = out.try_recv() {
            frames.push(more);
        }
        for body in batch_bodies(&frames) {
            let url = shared.url();
            let req = Req {
                method: "POST",
                // What an XHR sends when none is set (phoenix.js sets only the content type).
                accept: "*/*",
                content_type: Some("application/x-ndjson"),
                body: body.as_bytes(),
                ..Req::get(&url, shared.cookie.as_deref())
            };
            // Counted when it starts: its frames' replies may come through a poll before
            // the POST's own answer.
            posts.fetch_add(1, Ordering::Relaxed);
            let failure = match timeout(POLL_TIMEOUT, conn.send(&req)).await {
                Ok(Ok(res)) if res.status == 200 => match PollAnswer::parse(&res.body) {
                    Ok(a) if a.status == 200 => None,
                    Ok(a) => Some(format!("POST answered status {}", a.status)),
                    Err(e) => Some(e.to_string()),
                },
                Ok(Ok(res)) => Some(format!("POST answered HTTP {}: {}", res.status, res.body)),
                Ok(Err(e)) => Some(format!("POST failed: {e}")),
                Err(_) => Some("POST timed out".into()),
            };
            if let Some(why) = failure {
                let _ = inbox.send(Err(why));
                return;
            }
        }
    }
}

/// One long-poll session with one joined view.
#[derive(Debug)]
pub struct LpSession {
    out: mpsc::UnboundedSender<String>,
    inbox: mpsc::UnboundedReceiver<Inbound>,
    topic: String,
    join_ref: String,
    next_ref: u64,
    /// `POST`s started so far (one per batch).
    pub posts: Arc<AtomicUsize>,
    pub join_bytes: usize,
    tasks: [JoinHandle<()>; 2],
}

impl Drop for LpSession {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Opens long-poll sessions; holds one keep-alive HTTP connection for the dead renders.
#[derive(Debug)]
pub struct LpOpener {
    port: u16,
    page: KeepAlive,
}

impl LpOpener {
    pub fn new(port: u16, src: Ipv4Addr) -> Self {
        Self {
            port,
            page: KeepAlive::new(src, port),
        }
    }

    /// Dead render of `/`, long-poll session from `src` (the token), `phx_join`.
    pub async fn open(&mut self, src: Ipv4Addr) -> io::Result<LpSession> {
        let res = self.page.send(&Req::get("/", None)).await?;
        if res.status != 200 {
            return Err(err(format!("GET /: {}", res.status)));
        }
        let cookie = (!res.cookies.is_empty()).then(|| res.cookies.join("; "));
        let page = LivePage::parse(&res.body).ok_or_else(|| err("no live container"))?;

        // The first poll, without a token, opens the session.
        let mut poll_conn = KeepAlive::new(src, self.port);
        let url = endpoint(&page.csrf, None);
        let req = Req {
            accept: "application/json",
            ..Req::get(&url, cookie.as_deref())
        };
        let res = poll_conn.send(&req).await?;
        if res.status != 200 {
            return Err(err(format!(
                "opening poll: HTTP {}: {}",
                res.status, res.body
            )));
        }
        let first = PollAnswer::parse(&res.body)?;
        let token = match (first.status, first.token) {
            (410, Some(token)) => token,
            (status, _) => {
                return Err(err(format!(
                    "opening poll answered status {status}, not 410 with a token"
                )));
            }
        };
        let shared = Arc::new(Shared {
            port: self.port,
            cookie,
            csrf: page.csrf.clone(),
            token: Mutex::new(token),
        });
        let (inbox_tx, inbox) = mpsc::unbounded_channel();
        let (out, out_rx) = mpsc::unbounded_channel();
        let posts = Arc::new(AtomicUsize::new(0));
        let poller = tokio::spawn(poll_loop(shared.clone(), poll_conn, inbox_tx.clone()));
        let sender = tokio::spawn(batcher(
            shared.clone(),
            KeepAlive::new(src, shared.port),
            out_rx,
            inbox_tx,
            posts.clone(),
        ));
        let mut session = LpSession {
            out,
            inbox,
            topic: format!("lv:{}", page.id),
            join_ref: String::new(),
            next_ref: 1,
            posts,
            join_bytes: 0,
            tasks: [poller, sender],
        };
        let join_ref = session.take_ref();
        let payload = json!({
            "url": format!("http://127.0.0.1:{}/", self.port),
            "params": {"_csrf_token": page.csrf, "_mounts": 0, "_mount_attempts": 0},
            "session": page.session,
            "static": page.static_token,
            "sticky": false
        });
        let frame = json!([join_ref, join_ref, session.topic, "phx_join", payload]).to_string();
        session.send(frame)?;
        let (_, reply) = session.reply_to(&join_ref).await?;
        let value: Value =
            serde_json::from_str(&reply).map_err(|_| err("join reply is not JSON"))?;
        if value[4]["status"] != "ok" {
            return Err(err(format!("join refused: {}", value[4])));
        }
        session.join_bytes = reply.len();
        session.join_ref = join_ref;
        Ok(session)
    }
}

impl LpSession {
    fn take_ref(&mut self) -> String {
        let r = self.next_ref;
        self.next_ref += 1;
        r.to_string()
    }

    fn send(&self, frame: String) -> io::Result<()> {
        self.out
            .send(frame)
            .map_err(|_| err("the long-poll batcher has stopped"))
    }

    async fn next_inbound(&mut self) -> io::Result<(Instant, String)> {
        match timeout(REPLY_TIMEOUT, self.inbox.recv()).await {
            Err(_) => Err(err("timed out waiting for a frame")),
            Ok(None) => Err(err("the long-poll transport has stopped")),
            Ok(Some(Err(why))) => Err(err(why)),
            Ok(Some(Ok(frame))) => Ok(frame),
        }
    }

    /// Reads until the `phx_reply` whose ref is `msg_ref` (other frames are dropped); returns
    /// its arrival and text.
    async fn reply_to(&mut self, msg_ref: &str) -> io::Result<(Instant, String)> {
        loop {
            let (at, text) = self.next_inbound().await?;
            if is_reply_to(&text, msg_ref) {
                return Ok((at, text));
            }
        }
    }

    /// One `+` click; waits for its reply (which must be `ok`).
    pub async fn click(&mut self) -> io::Result<Sample> {
        let msg_ref = self.take_ref();
        let payload = json!({"type": "click", "event": "inc", "value": {"value": ""}});
        let frame = json!([self.join_ref, msg_ref, self.topic, "event", payload]).to_string();
        let t0 = Instant::now();
        self.send(frame)?;
        let (at, reply) = self.reply_to(&msg_ref).await?;
        let rtt = at.saturating_duration_since(t0);
        if !reply.contains("\"ok\"") {
            return Err(err(format!("event refused: {reply}")));
        }
        Ok(Sample {
            rtt,
            bytes: reply.len(),
            frame: reply,
        })
    }

    /// Frames that are not replies to anything asked (none expected from the idle counter).
    fn drain_pushes(&mut self) -> io::Result<usize> {
        let mut n = 0;
        loop {
            match self.inbox.try_recv() {
                Ok(Ok(_)) => n += 1,
                Ok(Err(why)) => return Err(err(why)),
                Err(mpsc::error::TryRecvError::Empty) => return Ok(n),
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    return Err(err("the long-poll transport has stopped"));
                }
            }
        }
    }
}

/// The payload (fifth element) of a frame, if it is a JSON array.
fn payload_of(frame: &str) -> Option<Value> {
    match serde_json::from_str::<Value>(frame) {
        Ok(Value::Array(mut items)) if items.len() == 5 => items.pop(),
        _ => None,
    }
}

/// A `phx_reply` with ref `msg_ref`.
fn is_reply_to(text: &str, msg_ref: &str) -> bool {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    items.get(1).and_then(Value::as_str) == Some(msg_ref)
        && items.get(3).and_then(Value::as_str) == Some("phx_reply")
}

/// Runs a long-poll session in its own task, answering [`Cmd::Click`] and [`Cmd::Push`]
/// (other commands are for WebSocket sessions and end the task). Dropping every handle
/// closes the session (its poll and batcher stop).
pub fn spawn(mut session: LpSession) -> Handle {
    let (tx, mut rx) = mpsc::channel::<Cmd>(4);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(Cmd::Click { done, .. }) => {
                        let res = session.click().await;
                        let failed = res.is_err();
                        let _ = done.send(res);
                        if failed {
                            break;
                        }
                    }
                    Some(other) => {
                        log(&format!("a long-poll session got a command it does not run: {other:?}"));
                        break;
                    }
                    None => break,
                },
                frame = session.inbox.recv() => match frame {
                    // A push while idle (none expected): dropped.
                    Some(Ok(_)) => {}
                    Some(Err(why)) => {
                        log(&format!("idle long-poll session stopped: {why}"));
                        break;
                    }
                    None => break,
                },
            }
        }
    });
    Handle { tx }
}

/// `count` joined long-poll sessions, running in their own tasks.
async fn open_longpolls(port: u16, first: usize, count: usize, cfg: &Cfg) -> open::Opened<Handle> {
    let spread = cfg.spread;
    // One opener (keep-alive dead-render connection) per worker.
    let openers: Arc<Vec<tokio::sync::Mutex<LpOpener>>> = Arc::new(
        (0..cfg.concurrency)
            .map(|w| tokio::sync::Mutex::new(LpOpener::new(port, source_ip(first + w, spread))))
            .collect(),
    );
    open::open_many(count, cfg.concurrency, None, move |w, i| {
        let openers = openers.clone();
        async move {
            let mut opener = openers[w].lock().await;
            opener.open(source_ip(first + i, spread)).await.map(spawn)
        }
    })
    .await
}

/// Round trips (ns) of `rate` clicks per second per transport for `secs`, spread at random
/// over each transport's sessions and interleaved (open loop). Returns (long poll, WebSocket)
/// latencies and error counts.
async fn interleaved_rate(
    lp: &[Handle],
    ws: &[Handle],
    rate: f64,
    secs: f64,
) -> [(Latency, usize, usize); 2] {
    let total = (2.0 * rate * secs) as usize;
    let (tx_lp, rx_lp) = mpsc::unbounded_channel();
    let (tx_ws, rx_ws) = mpsc::unbounded_channel();
    let mut sent = [0usize; 2];
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let start = Instant::now();
    for k in 0..total {
        sleep_until(start + Duration::from_secs_f64(k as f64 / (2.0 * rate))).await;
        let side = k % 2;
        let (handles, tx) = if side == 0 {
            (lp, &tx_lp)
        } else {
            (ws, &tx_ws)
        };
        if handles.is_empty() {
            continue;
        }
        if client::offer_click(handles, &mut rng, tx) {
            sent[side] += 1;
        }
    }
    drop((tx_lp, tx_ws));
    // Clicks never answered (the deadline passed) count as errors too.
    let (a, b) = tokio::join!(
        collect(rx_lp, sent[0], sent[0]),
        collect(rx_ws, sent[1], sent[1])
    );
    [a, b]
}

/// One click on every session of `lp` and of `ws`, interleaved, `rate` per second per
/// transport; (long poll, WebSocket) latencies and error counts, as [`interleaved_rate`].
async fn click_each(lp: &[Handle], ws: &[Handle], rate: f64) -> [(Latency, usize, usize); 2] {
    let (tx_lp, rx_lp) = mpsc::unbounded_channel();
    let (tx_ws, rx_ws) = mpsc::unbounded_channel();
    let mut sent = [0usize; 2];
    let start = Instant::now();
    let mut k = 0usize;
    for i in 0..lp.len().max(ws.len()) {
        for (side, handles, tx) in [(0, lp, &tx_lp), (1, ws, &tx_ws)] {
            let Some(h) = handles.get(i) else {
                continue;
            };
            sleep_until(start + Duration::from_secs_f64(k as f64 / (2.0 * rate))).await;
            k += 1;
            let cmd = Cmd::Click {
                form: false,
                done: tx.clone(),
            };
            // A session whose task ended (it failed while idle) refuses the command: an error.
            if h.tx.try_send(cmd).is_ok() {
                sent[side] += 1;
            }
        }
    }
    drop((tx_lp, tx_ws));
    let (a, b) = tokio::join!(
        collect(rx_lp, sent[0], lp.len()),
        collect(rx_ws, sent[1], ws.len())
    );
    [a, b]
}

/// [`client::collect`], with the number of clicks sent.
async fn collect(
    rx: mpsc::UnboundedReceiver<io::Result<Sample>>,
    sent: usize,
    expected: usize,
) -> (Latency, usize, usize) {
    let (latency, errors) = client::collect(rx, sent, expected).await;
    (latency, errors, sent)
}

fn lat_json((lat, errors, sent): (Latency, usize, usize), rate: f64) -> Value {
    let mut v = lat.to_json();
    v["errors"] = json!(errors);
    v["clicks_sent"] = json!(sent);
    v["rate_per_sec"] = json!(rate);
    v
}

/// The whole scenario against one fresh server.
async fn measure(cfg: &Cfg, port: u16, work: &str) -> io::Result<Value> {
    let mut spec = cfg.server.clone();
    spec.env.push(("RUST_LOG".into(), "warn".into()));
    let log_path = format!("{work}/longpoll-{port}.log");
    let server = tokio::task::spawn_blocking(move || Server::start(&spec, port, &log_path))
        .await
        .map_err(io::Error::other)??;
    let target = Arc::new(Target {
        flavor: Flavor::Livefire,
        port,
        page_path: "/".to_owned(),
        dx_element: 0,
    });
    let mut out = json!({});

    // 1. One session of each transport, clicking alternately.
    let mut lp = LpOpener::new(port, source_ip(0, cfg.spread))
        .open(source_ip(1, cfg.spread))
        .await?;
    let mut ws_opener = Opener::new(target.clone(), source_ip(0, cfg.spread));
    let mut ws = ws_opener.open(1, source_ip(1, cfg.spread)).await?;
    ws_opener.close_http();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pushes = lp.drain_pushes()?;
    let lp_first = lp.click().await?;
    let ws_first = ws.click(0, false).await?;
    for _ in 0..cfg.seq_warm {
        lp.click().await?;
        ws.click(0, false).await?;
    }
    let posts_before = lp.posts.load(Ordering::Relaxed);
    let (mut lp_ns, mut ws_ns) = (
        Vec::with_capacity(cfg.seq_clicks),
        Vec::with_capacity(cfg.seq_clicks),
    );
    for _ in 0..cfg.seq_clicks {
        lp_ns.push(lp.click().await?.rtt.as_nanos() as u64);
        ws_ns.push(ws.click(0, false).await?.rtt.as_nanos() as u64);
    }
    let posts = lp.posts.load(Ordering::Relaxed) - posts_before;
    let (lp1, ws1) = (Latency::from_ns(lp_ns), Latency::from_ns(ws_ns));
    log(&format!(
        "1 session: long poll p50 {:.3} ms p99 {:.3} ms; WebSocket p50 {:.3} ms p99 {:.3} ms",
        lp1.p50_ms, lp1.p99_ms, ws1.p50_ms, ws1.p99_ms
    ));
    out["single"] = json!({
            "longpoll": lp1.to_json(),
            "websocket": ws1.to_json(),
            "longpoll_posts": posts,
            "longpoll_join_reply_bytes": lp.join_bytes,
            "websocket_join_reply_bytes": ws.join_bytes,
            "longpoll_click_reply_bytes": lp_first.bytes,
            "websocket_click_reply_bytes": ws_first.bytes,
            // Both first clicks (count 0 -> 1) must carry the same reply payload.
            "same_reply_payload": payload_of(&lp_first.frame) == payload_of(&ws_first.frame),
            "longpoll_pushes_after_join": pushes,
    });
    // Server CPU per click: sequential clicks in blocks of 100, one transport per block,
    // alternating (so that both see the same load), the server's CPU time summed per transport.
    let cpu_clicks = cfg.seq_clicks.max(100).div_ceil(100) * 100;
    let mut cpu_ns = [0u64; 2];
    for _ in 0..cpu_clicks / 100 {
        let t0 = process_cpu_ns(server.pid)?;
        for _ in 0..100 {
            lp.click().await?;
        }
        let t1 = process_cpu_ns(server.pid)?;
        for _ in 0..100 {
            ws.click(0, false).await?;
        }
        let t2 = process_cpu_ns(server.pid)?;
        cpu_ns[0] += t1.saturating_sub(t0);
        cpu_ns[1] += t2.saturating_sub(t1);
    }
    let (lp_cpu, ws_cpu) = (
        cpu_ns[0] as f64 / 1e3 / cpu_clicks as f64,
        cpu_ns[1] as f64 / 1e3 / cpu_clicks as f64,
    );
    log(&format!(
        "server CPU per click: long poll {lp_cpu:.1} µs, WebSocket {ws_cpu:.1} µs"
    ));
    out["single"]["server_cpu_us_per_click"] =
        json!({"clicks": cpu_clicks, "longpoll": lp_cpu, "websocket": ws_cpu});
    drop(lp);
    drop(ws);

    if cfg.sessions == 0 {
        return Ok(out);
    }
    // 2. Memory per idle session: warm-up of both, RSS, N long polls, RSS, N WebSockets, RSS.
    let warm_lp = open_longpolls(port, 0, cfg.warmup, cfg).await;
    let warm_ws = open::open_sessions(
        &target,
        0,
        cfg.warmup,
        1,
        (cfg.concurrency, cfg.spread),
        None,
    )
    .await;
    if warm_lp.items.is_empty() || warm_ws.items.is_empty() {
        return Err(err(format!(
            "warm-up failed: long poll {:?}, WebSocket {:?}",
            warm_lp.first_error, warm_ws.first_error
        )));
    }
    let rss0 = server.settled_rss_kib().await?;
    let lps = open_longpolls(port, cfg.warmup, cfg.sessions, cfg).await;
    let rss1 = server.settled_rss_kib().await?;
    let wss = open::open_sessions(
        &target,
        cfg.warmup,
        cfg.sessions,
        1,
        (cfg.concurrency, cfg.spread),
        None,
    )
    .await;
    let rss2 = server.settled_rss_kib().await?;
    let spread = cfg.spread;
    let per = |after: u64, before: u64, n: usize| {
        if n == 0 {
            f64::NAN
        } else {
            (after.saturating_sub(before) * 1024) as f64 / n as f64
        }
    };
    let (lp_bytes, ws_bytes) = (
        per(rss1, rss0, lps.items.len()),
        per(rss2, rss1, wss.items.len()),
    );
    // For reference: an idle keep-alive HTTP connection after one dead render (a long-poll
    // session holds two, one with a poll in flight).
    let conns = open::open_many(
        cfg.sessions,
        cfg.concurrency,
        None,
        move |_, i| async move {
            let mut stream = http::connect(source_ip(i, spread), port).await?;
            let res = http::get(&mut stream, port, "/", None).await?;
            if res.status != 200 || res.close {
                return Err(err(format!("GET /: {} (close: {})", res.status, res.close)));
            }
            Ok(stream)
        },
    )
    .await;
    let rss3 = server.settled_rss_kib().await?;
    let conns_ok = conns.items.len();
    let conn_bytes = per(rss3, rss2, conns_ok);
    drop(conns.items);
    log(&format!(
        "{} idle keep-alive connections: {conn_bytes:.0} B each ({} failed, {:?})",
        cfg.sessions, conns.failed, conns.first_error
    ));
    log(&format!(
        "{} long polls opened in {:.1} s ({} failed, {:?}): {:.0} B each; {} WebSockets in {:.1} s ({} failed, {:?}): {:.0} B each (RSS {rss0} -> {rss1} -> {rss2} KiB)",
        lps.items.len(),
        lps.secs,
        lps.failed,
        lps.first_error,
        lp_bytes,
        wss.items.len(),
        wss.secs,
        wss.failed,
        wss.first_error,
        ws_bytes
    ));
    out["memory"] = json!({
            "warmup_per_transport": cfg.warmup,
            "rss_before_kib": rss0,
            "rss_after_longpolls_kib": rss1,
            "rss_after_websockets_kib": rss2,
            "rss_after_http_connections_kib": rss3,
            "http_keepalive_connection": {"ok": conns_ok,
                "failed": conns.failed, "first_error": conns.first_error, "bytes_per_connection": conn_bytes},
            "longpoll": {"requested": cfg.sessions, "ok": lps.items.len(), "failed": lps.failed,
                "first_error": lps.first_error, "open_secs": lps.secs,
                "sessions_per_sec": lps.items.len() as f64 / lps.secs, "bytes_per_session": lp_bytes},
            "websocket": {"requested": cfg.sessions, "ok": wss.items.len(), "failed": wss.failed,
                "first_error": wss.first_error, "open_secs": wss.secs,
                "sessions_per_sec": wss.items.len() as f64 / wss.secs, "bytes_per_session": ws_bytes},
    });

    // 3. Clicks at `rate` per second per transport, interleaved, with all sessions open.
    let cpu0 = server.cpu_secs().unwrap_or(0.0);
    let [lpn, wsn] = interleaved_rate(&lps.items, &wss.items, cfg.rate, cfg.rate_secs).await;
    let cpu = server.cpu_secs().unwrap_or(0.0) - cpu0;
    log(&format!(
        "{} + {} sessions, {} clicks/s each: long poll p50 {:.3} ms p99 {:.3} ms ({} errors); WebSocket p50 {:.3} ms p99 {:.3} ms ({} errors)",
        lps.items.len(),
        wss.items.len(),
        cfg.rate,
        lpn.0.p50_ms,
        lpn.0.p99_ms,
        lpn.1,
        wsn.0.p50_ms,
        wsn.0.p99_ms,
        wsn.1
    ));
    out["sessions"] = json!({
            "longpoll_sessions": lps.items.len(),
            "websocket_sessions": wss.items.len(),
            "seconds": cfg.rate_secs,
            "server_cpu_secs": cpu,
            "longpoll": lat_json(lpn, cfg.rate),
            "websocket": lat_json(wsn, cfg.rate),
    });
    // 4. Idle past the poll wait and the idle timeout, then one click per session.
    if cfg.idle_secs > 0 {
        log(&format!(
            "idling {} s, then one click per session",
            cfg.idle_secs
        ));
        let (cpu0, me0) = (
            process_cpu_ns(server.pid)?,
            process_cpu_ns(std::process::id())?,
        );
        tokio::time::sleep(Duration::from_secs(cfg.idle_secs)).await;
        let idle_cpu_ms = process_cpu_ns(server.pid)?.saturating_sub(cpu0) as f64 / 1e6;
        let idle_me_ms = process_cpu_ns(std::process::id())?.saturating_sub(me0) as f64 / 1e6;
        log(&format!(
            "idle: server CPU {idle_cpu_ms:.0} ms, generator CPU {idle_me_ms:.0} ms in {} s",
            cfg.idle_secs
        ));
        let [lpi, wsi] = click_each(&lps.items, &wss.items, cfg.rate).await;
        log(&format!(
            "after {} s idle: long poll {} of {} answered (p50 {:.3} ms), WebSocket {} of {} (p50 {:.3} ms)",
            cfg.idle_secs,
            lpi.0.samples,
            lps.items.len(),
            lpi.0.p50_ms,
            wsi.0.samples,
            wss.items.len(),
            wsi.0.p50_ms
        ));
        out["after_idle"] = json!({
            "idle_secs": cfg.idle_secs,
            "server_cpu_ms_while_idle": idle_cpu_ms,
            "generator_cpu_ms_while_idle": idle_me_ms,
            "longpoll": lat_json(lpi, cfg.rate),
            "websocket": lat_json(wsi, cfg.rate),
        });
    }
    // Every poll answer of the run (the one-session part included).
    out["poll_answers"] = json!({
        "with_frames": POLLS_WITH_FRAMES.load(Ordering::Relaxed),
        "empty_204": POLLS_EMPTY.load(Ordering::Relaxed),
    });
    drop((lps, wss, warm_lp, warm_ws));
    // Let the session tasks see their handles gone and stop their polls before the server
    // stops (otherwise the polls report the refused reconnection).
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(server);
    Ok(out)
}

/// CPU time (ns) all threads of process `pid` have run so far: the sum of the first field
/// of `/proc/<pid>/task/*/schedstat` (threads that exited are not counted; the server's
/// runtime threads live as long as it does).
fn process_cpu_ns(pid: u32) -> io::Result<u64> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        // A thread may exit between the listing and the read.
        if let Ok(text) = std::fs::read_to_string(&path) {
            total += text
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| err(format!("{}: unreadable", path.display())))?;
        }
    }
    Ok(total)
}

fn ms(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "–".to_owned(), |x| format!("{x:.3} ms"))
}

/// The markdown table of the scenario's results.
pub fn table(doc: &Value) -> String {
    let r = &doc["results"];
    let mut out = String::from(
        "| sessions per transport | transport | click p50 | click p99 | max | samples | errors |\n|---|---|---|---|---|---|---|\n",
    );
    for (name, key) in [("long poll", "longpoll"), ("WebSocket", "websocket")] {
        let l = &r["single"][key];
        out.push_str(&format!(
            "| 1 (sequential) | {name} | {} | {} | {} | {} | 0 |\n",
            ms(&l["p50_ms"]),
            ms(&l["p99_ms"]),
            ms(&l["max_ms"]),
            l["samples"]
        ));
    }
    let s = &r["sessions"];
    for (name, key) in [("long poll", "longpoll"), ("WebSocket", "websocket")] {
        let l = &s[key];
        if l.is_null() {
            continue;
        }
        out.push_str(&format!(
            "| {} ({} clicks/s) | {name} | {} | {} | {} | {} | {} |\n",
            s[format!("{key}_sessions")],
            l["rate_per_sec"].as_f64().unwrap_or(f64::NAN).round(),
            ms(&l["p50_ms"]),
            ms(&l["p99_ms"]),
            ms(&l["max_ms"]),
            l["samples"],
            l["errors"]
        ));
    }
    let idle = &r["after_idle"];
    for (name, key) in [("long poll", "longpoll"), ("WebSocket", "websocket")] {
        let l = &idle[key];
        if l.is_null() {
            continue;
        }
        out.push_str(&format!(
            "| {} (one click each after {} s idle) | {name} | {} | {} | {} | {} | {} |\n",
            s[format!("{key}_sessions")],
            idle["idle_secs"],
            ms(&l["p50_ms"]),
            ms(&l["p99_ms"]),
            ms(&l["max_ms"]),
            l["samples"],
            l["errors"]
        ));
    }
    let c = &r["single"]["server_cpu_us_per_click"];
    if !c.is_null() {
        out.push_str(&format!(
            "\nServer CPU per click (one session, {} sequential clicks per transport in alternating blocks of 100): long poll {:.1} µs, WebSocket {:.1} µs.\n",
            c["clicks"],
            c["longpoll"].as_f64().unwrap_or(f64::NAN),
            c["websocket"].as_f64().unwrap_or(f64::NAN),
        ));
    }
    let m = &r["memory"];
    if !m.is_null() {
        out.push_str(
            "\n| idle sessions | RSS per long-poll session | RSS per WebSocket session | RSS per idle keep-alive HTTP connection (reference) |\n|---|---|---|---|\n",
        );
        let kib = |v: &Value| {
            v.as_f64()
                .map_or_else(|| "–".to_owned(), |b| format!("{:.1} KiB", b / 1024.0))
        };
        out.push_str(&format!(
            "| {} + {} | {} | {} | {} |\n",
            m["longpoll"]["ok"],
            m["websocket"]["ok"],
            kib(&m["longpoll"]["bytes_per_session"]),
            kib(&m["websocket"]["bytes_per_session"]),
            kib(&m["http_keepalive_connection"]["bytes_per_connection"]),
        ));
    }
    if let Some(e) = r["error"].as_str() {
        out.push_str(&format!("\nfailed: {e}\n"));
    }
    out
}

/// Runs the scenario; writes `cfg.out` (JSON) and the table beside it (`.md`). False if it
/// failed or a click went unanswered.
pub async fn run(cfg: &Cfg, work: &str, open_files: Option<usize>) -> bool {
    let started = SystemTime::now();
    let load_start = crate::report::loadavg();
    let mut cfg = cfg.clone();
    // Descriptors: a long-poll session is two connections (poll, POST) here and two in the
    // server; a WebSocket session and a reference keep-alive connection one and one.
    if let Some(limit) = open_files {
        let fit = limit.saturating_sub(cfg.warmup * 3 + 4 * cfg.concurrency + 500) / 4;
        if cfg.sessions > fit {
            log(&format!(
                "open-files limit {limit}: {fit} sessions per transport instead of {}",
                cfg.sessions
            ));
            cfg.sessions = fit;
        }
    }
    let result = measure(&cfg, cfg.port_base + 1, work).await;
    let ok = match &result {
        Ok(v) => ["sessions", "after_idle"].iter().all(|part| {
            ["longpoll", "websocket"]
                .iter()
                .all(|t| v[part][t]["errors"].as_u64().unwrap_or(0) == 0)
        }),
        Err(e) => {
            log(&format!("failed: {e}"));
            false
        }
    };
    let results = result.unwrap_or_else(|e| json!({"error": e.to_string()}));
    let doc = json!({
        "scenario": "longpoll",
        "started_unix": started
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        "machine": {
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "loadavg_start": load_start,
            "loadavg_end": crate::report::loadavg(),
        },
        "config": {
            "sessions_per_transport": cfg.sessions,
            "warmup_per_transport": cfg.warmup,
            "sequential_clicks": cfg.seq_clicks,
            "sequential_warmup_clicks": cfg.seq_warm,
            "rate_clicks_per_sec_per_transport": cfg.rate,
            "rate_secs": cfg.rate_secs,
            "idle_secs": cfg.idle_secs,
            "source_addresses": format!("127.0.0.2-127.0.0.{}", 1 + cfg.spread),
        },
        "results": results,
    });
    let table = table(&doc);
    println!("{table}");
    crate::write_results(&cfg.out, &doc, &table, log);
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_poll_answers() {
        let open = PollAnswer::parse(r#"{"status":410,"token":"T1","messages":[]}"#).unwrap();
        assert_eq!(open.status, 410);
        assert_eq!(open.token.as_deref(), Some("T1"));
        assert!(open.messages.is_empty());
        let empty = PollAnswer::parse(r#"{"status":204,"token":"T1"}"#).unwrap();
        assert_eq!((empty.status, empty.messages.len()), (204, 0));
        let frames = PollAnswer::parse(
            r#"{"status":200,"token":"T2","messages":["[\"4\",\"5\",\"lv:a\",\"phx_reply\",{}]","[null,null,\"x\",\"y\",{}]"]}"#,
        )
        .unwrap();
        assert_eq!(frames.token.as_deref(), Some("T2"));
        assert_eq!(frames.messages[0], r#"["4","5","lv:a","phx_reply",{}]"#);
        assert_eq!(frames.messages.len(), 2);
        let gone = PollAnswer::parse(r#"{"status":410}"#).unwrap();
        assert_eq!((gone.status, gone.token), (410, None));
    }

    #[test]
    fn refuses_malformed_answers() {
        assert!(PollAnswer::parse("<html>").is_err());
        assert!(PollAnswer::parse(r#"{"token":"T"}"#).is_err());
        assert!(PollAnswer::parse(r#"{"status":200,"messages":[1]}"#).is_err());
        assert!(PollAnswer::parse(r#"{"status":200,"messages":"x"}"#).is_err());
    }

    #[test]
    fn batches_frames_as_ndjson_at_most_100_per_post() {
        let frames: Vec<String> = (0..250).map(|i| format!("[\"{i}\"]")).collect();
        let bodies = batch_bodies(&frames);
        assert_eq!(bodies.len(), 3);
        assert_eq!(bodies[0].lines().count(), 100);
        assert_eq!(bodies[2].lines().count(), 50);
        assert!(bodies[0].starts_with("[\"0\"]\n[\"1\"]\n"));
        assert!(bodies[2].ends_with("[\"249\"]"));
        assert_eq!(batch_bodies(&["[1]".to_owned()]), ["[1]"]);
        assert!(batch_bodies(&[]).is_empty());
    }

    #[test]
    fn builds_the_endpoint_with_the_socket_params_and_token() {
        assert_eq!(
            endpoint("a+b/c=", None),
            "/live/longpoll?_csrf_token=a%2Bb%2Fc%3D&_mounts=0&vsn=2.0.0"
        );
        assert_eq!(
            endpoint("x", Some("T-_1")),
            "/live/longpoll?_csrf_token=x&_mounts=0&vsn=2.0.0&token=T-_1"
        );
    }

    /// The benchmark's counter server, in process, on an ephemeral loopback port.
    async fn counter_server() -> u16 {
        let app = bench_counter_server::app(livefire::token::Keyring::random(), None, None);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        port
    }

    /// The count a click reply's diff shows, if any.
    fn count_in(reply: &str) -> Option<String> {
        let diff = payload_of(reply)?["response"]["diff"].clone();
        diff.as_object()?.values().find_map(|v| {
            v.as_str()
                .filter(|s| s.parse::<i64>().is_ok())
                .map(str::to_owned)
        })
    }

    #[tokio::test]
    async fn joins_and_clicks_over_long_polling() {
        let port = counter_server().await;
        let mut opener = LpOpener::new(port, Ipv4Addr::new(127, 0, 0, 2));
        let mut session = opener.open(Ipv4Addr::new(127, 0, 0, 3)).await.unwrap();
        assert!(session.join_bytes > 0);
        // The join went out in one POST; every click in one more, its reply through a poll.
        assert_eq!(session.posts.load(Ordering::Relaxed), 1);
        for n in 1..=3 {
            let reply = session.click().await.unwrap();
            assert_eq!(
                count_in(&reply.frame).as_deref(),
                Some(&*n.to_string()),
                "{}",
                reply.frame
            );
        }
        assert_eq!(session.posts.load(Ordering::Relaxed), 4);
        // A second session has its own token and count.
        let mut other = opener.open(Ipv4Addr::new(127, 0, 0, 4)).await.unwrap();
        let reply = other.click().await.unwrap();
        assert_eq!(count_in(&reply.frame).as_deref(), Some("1"));
    }

    #[tokio::test]
    async fn frames_sent_together_go_out_in_one_post() {
        let port = counter_server().await;
        let mut session = LpOpener::new(port, Ipv4Addr::new(127, 0, 0, 2))
            .open(Ipv4Addr::new(127, 0, 0, 5))
            .await
            .unwrap();
        let before = session.posts.load(Ordering::Relaxed);
        // Three pushes without yielding (one tick of the browser's event loop): on this
        // single-threaded runtime the batcher sees all three at once.
        let refs: Vec<String> = (0..3).map(|_| session.take_ref()).collect();
        for r in &refs {
            let payload = json!({"type": "click", "event": "inc", "value": {"value": ""}});
            let frame = json!([session.join_ref, r, session.topic, "event", payload]).to_string();
            session.send(frame).unwrap();
        }
        let mut counts = Vec::new();
        for r in &refs {
            let (_, reply) = session.reply_to(r).await.unwrap();
            counts.push(count_in(&reply));
        }
        assert_eq!(
            counts,
            [Some("1".into()), Some("2".into()), Some("3".into())]
        );
        assert_eq!(session.posts.load(Ordering::Relaxed), before + 1);
    }

    #[tokio::test]
    async fn a_forged_token_is_refused_with_410() {
        let port = counter_server().await;
        let mut conn = KeepAlive::new(Ipv4Addr::new(127, 0, 0, 2), port);
        let url = endpoint("csrf", Some("forged-token"));
        let res = conn
            .send(&Req {
                accept: "application/json",
                ..Req::get(&url, None)
            })
            .await
            .unwrap();
        let answer = PollAnswer::parse(&res.body).unwrap();
        assert_eq!((res.status, answer.status, answer.token), (200, 410, None));
    }

    #[test]
    fn reads_this_process_cpu_time() {
        let before = process_cpu_ns(std::process::id()).unwrap();
        // Busy for 100 ms of wall time: several scheduler ticks, so the kernel's count moves.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
        }
        assert!(process_cpu_ns(std::process::id()).unwrap() > before);
        assert!(process_cpu_ns(u32::MAX).is_err());
    }

    #[test]
    fn recognizes_the_reply_to_a_ref() {
        assert!(is_reply_to(
            r#"["1","7","lv:phx-a","phx_reply",{"status":"ok"}]"#,
            "7"
        ));
        assert!(!is_reply_to(r#"["1","7","lv:phx-a","diff",{}]"#, "7"));
        assert!(!is_reply_to(r#"["1","17","lv:phx-a","phx_reply",{}]"#, "7"));
        assert!(!is_reply_to("not json", "7"));
    }
}
