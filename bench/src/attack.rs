//! `--scenario attack`: anonymous clients against the demo app (`examples/demo`, release build),
//! served by `livefire::serve` with its default `Limits`, its bounded Argon2 password pool and
//! its per-address and per-account login throttling. Loopback only, bounded in count and time.
//!
//! 1. **Login burst**: 256 anonymous login attempts from one address, all sent at once over
//!    joined `/login` views; the server's resident memory must grow by less than 200 MiB and
//!    every attempt must be answered within 2 s ("busy" answers count as answered).
//! 2. **Login flood**: 10 addresses send failed logins at 50/s in total while a registered
//!    user logs in again and again from another address; every one of those logins must
//!    succeed, with p99 under 1 s (dead render to the signed-in `/account` page). A second,
//!    informational run aims the flood at that user's own account, where the per-account delay
//!    is meant to slow the owner down too (never to lock them out).
//! 3. **Half-open connections**: 15,000 connections from one address that send part of a
//!    request head and go idle; a request from another address must still be answered within
//!    1 s. The server's per-address cap refuses most of them at once.
//!
//! The demo gets a temporary data directory, database and secret; the user is created with
//! the demo's own `create-user` command before the first server starts. Each part runs against
//! a fresh server process (same database), so throttle state and memory start clean.

use std::collections::BTreeMap;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Barrier, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::client::{Ws, ws_config};
use crate::http::{self, LivePage};
use crate::server::{Server, Spec};
use crate::stats::Latency;

/// Resident memory the login burst may add to the server (MiB).
const BURST_RSS_MAX_MIB: f64 = 200.0;
/// Longest wait for the answer to one attempt of the burst (s).
const BURST_ANSWER_MAX_S: f64 = 2.0;
/// p99 of the legitimate logins during the flood (s).
const LEGIT_P99_MAX_S: f64 = 1.0;
/// Longest wait for a request from another address while the half-open connections are held (s).
const PROBE_MAX_S: f64 = 1.0;

/// The registered user who logs in during the flood.
const USER_EMAIL: &str = "owner@example.com";
/// Their password (the demo wants at least 12 characters).
const USER_PASSWORD: &str = "correct horse battery staple";
/// What the demo's login view shows for every failed login.
const LOGIN_FAILED: &str = "Unable to validate your account.";
/// What it shows when the password pool is full or the address has attempts in progress.
const LOGIN_BUSY: &str = "Too many sign-in attempts right now";
/// How long the client waits for any one answer before it counts as unanswered.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the real user waits for the answer to their login.
const LEGIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Knobs of the attack scenario.
#[derive(Debug, Clone)]
pub struct Cfg {
    /// How to start the demo (its release binary).
    pub demo: Spec,
    pub out: PathBuf,
    pub port_base: u16,
    /// Login attempts of the burst (part 1).
    pub burst: usize,
    /// Live views joined per WebSocket in the burst (the attempts share one address, whose
    /// connections the server caps at 256).
    pub burst_views_per_socket: usize,
    /// Addresses flooding failed logins (part 2).
    pub flood_addresses: usize,
    /// Failed logins per second, all flooding addresses together.
    pub flood_rate: f64,
    pub flood_secs: f64,
    /// Length of the informational flood aimed at the user's own account (0 skips it).
    pub targeted_secs: f64,
    /// Pause between two legitimate logins.
    pub legit_pause: Duration,
    /// Half-open connections requested (part 3); lowered to fit the open-files limit.
    pub halfopen: usize,
    /// Connections being opened at once in part 3.
    pub halfopen_concurrency: usize,
    /// How long the half-open connections are held after the last one was opened.
    pub halfopen_hold_secs: f64,
}

impl Cfg {
    pub fn new(demo: Spec, out: PathBuf) -> Self {
        Self {
            demo,
            out,
            port_base: 4600,
            burst: 256,
            burst_views_per_socket: 2,
            flood_addresses: 10,
            flood_rate: 50.0,
            flood_secs: 30.0,
            targeted_secs: 20.0,
            legit_pause: Duration::from_millis(200),
            halfopen: 15_000,
            halfopen_concurrency: 256,
            halfopen_hold_secs: 12.0,
        }
    }

    /// Smaller and shorter, for a smoke test of the pipeline.
    pub fn quick(&mut self) {
        self.flood_secs = 12.0;
        self.targeted_secs = 0.0;
        self.halfopen = self.halfopen.min(3000);
        self.halfopen_hold_secs = 4.0;
    }

    fn to_json(&self, halfopen_cap: usize) -> Value {
        json!({
            "demo": format!("{} {}", relative_program(&self.demo.program), self.demo.args.join(" ")).trim(),
            "burst_attempts": self.burst,
            "burst_views_per_socket": self.burst_views_per_socket,
            "burst_address": "127.0.0.2",
            "flood_addresses": format!("127.0.0.2-127.0.0.{}", 1 + self.flood_addresses),
            "flood_rate_per_sec": self.flood_rate,
            "flood_secs": self.flood_secs,
            "targeted_flood_secs": self.targeted_secs,
            "legit_address": "127.0.0.20",
            "legit_pause_ms": self.legit_pause.as_millis() as u64,
            "halfopen_requested": self.halfopen,
            "halfopen_cap": halfopen_cap,
            "halfopen_address": "127.0.0.30",
            "probe_address": "127.0.0.40",
            "halfopen_hold_secs": self.halfopen_hold_secs,
            "password_threads": std::env::var("PASSWORD_THREADS").ok(),
            "password_queue": std::env::var("PASSWORD_QUEUE").ok(),
            "loadavg_at_start": crate::report::loadavg(),
        })
    }
}

fn log(msg: &str) {
    eprintln!("[attack] {msg}");
}

fn err(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

// ---------------------------------------------------------------------------------------------
// The demo process: temporary data, secret, the user, fresh servers.
// ---------------------------------------------------------------------------------------------

/// Standard base64 (with padding) of `bytes`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The demo's environment: a fresh data directory, database file and secret.
#[derive(Debug)]
struct Demo {
    spec: Spec,
    dir: PathBuf,
}

impl Demo {
    fn prepare(base: &Spec, work: &Path) -> io::Result<Self> {
        let dir = work.join(format!("attack-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let mut secret = [0u8; 64];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut secret)?;
        let mut spec = base.clone();
        let dir_s = dir.display().to_string();
        spec.env.extend([
            ("APP_ENV".into(), "development".into()),
            ("DATA_DIR".into(), dir_s.clone()),
            ("DATABASE_PATH".into(), format!("{dir_s}/demo.sqlite3")),
            ("SECRET_KEY_BASE".into(), base64(&secret)),
            ("RUST_LOG".into(), "warn".into()),
        ]);
        Ok(Self { spec, dir })
    }

    /// `demo create-user EMAIL PASSWORD` on the temporary database.
    fn create_user(&self, email: &str, password: &str) -> io::Result<()> {
        let out = std::process::Command::new(&self.spec.program)
            .args(&self.spec.args)
            .args(["create-user", email, password])
            .envs(self.spec.env.iter().map(|(k, v)| (k, v)))
            .output()?;
        if !out.status.success() {
            return Err(err(format!(
                "create-user failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    fn start(&self, port: u16, name: &str) -> io::Result<Server> {
        Server::start(
            &self.spec,
            port,
            &format!("{}/{name}.log", self.dir.display()),
        )
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in KiB.
fn status_kib(pid: u32, field: &str) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| err(format!("no {field} in /proc/{pid}/status")))
}

/// How many threads of a process have a name starting with `prefix`, and their CPU seconds
/// (user + system): the demo's password pool threads are `password-0`, `password-1`, … (only
/// they hash).
fn threads_cpu_secs(pid: u32, prefix: &str) -> (usize, f64) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return (0, 0.0);
    };
    let cpu: Vec<f64> = tasks
        .filter_map(Result::ok)
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|name| name.trim_end().starts_with(prefix))
        })
        .filter_map(|t| crate::server::cpu_secs(&t.path().join("stat").display().to_string()).ok())
        .collect();
    (cpu.len(), cpu.iter().sum())
}

/// Open descriptors of a process.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// Samples a server's `VmRSS` and descriptor count until stopped; keeps the maxima.
#[derive(Debug)]
struct Sampler {
    stop: Arc<AtomicBool>,
    peak_rss: Arc<AtomicU64>,
    peak_fds: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(pid: u32, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak_rss = Arc::new(AtomicU64::new(0));
        let peak_fds = Arc::new(AtomicU64::new(0));
        let (s, r, f) = (stop.clone(), peak_rss.clone(), peak_fds.clone());
        let task = tokio::spawn(async move {
            let mut k = 0u64;
            while !s.load(Ordering::Relaxed) {
                if let Ok(rss) = status_kib(pid, "VmRSS") {
                    r.fetch_max(rss, Ordering::Relaxed);
                }
                // Counting descriptors walks a directory: every 10th sample.
                if k.is_multiple_of(10) {
                    f.fetch_max(open_fds(pid) as u64, Ordering::Relaxed);
                }
                k += 1;
                sleep(every).await;
            }
        });
        Self {
            stop,
            peak_rss,
            peak_fds,
            task,
        }
    }

    /// Stops sampling; (peak VmRSS KiB, peak open descriptors).
    async fn finish(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        (
            self.peak_rss.load(Ordering::Relaxed),
            self.peak_fds.load(Ordering::Relaxed),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// A browser for the demo: cookie jar, dead renders, the live socket, the login form.
// ---------------------------------------------------------------------------------------------

/// One browser profile at one source address: cookies and a keep-alive HTTP connection.
#[derive(Debug)]
struct Browser {
    src: Ipv4Addr,
    port: u16,
    cookies: BTreeMap<String, String>,
    http: Option<TcpStream>,
}

impl Browser {
    fn new(src: Ipv4Addr, port: u16) -> Self {
        Self {
            src,
            port,
            cookies: BTreeMap::new(),
            http: None,
        }
    }

    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// `GET path`; the jar takes the response's cookies.
    async fn get(&mut self, path: &str) -> io::Result<http::Response> {
        if self.http.is_none() {
            self.http = Some(http::connect(self.src, self.port).await?);
        }
        let cookie = self.cookie_header();
        let Some(stream) = self.http.as_mut() else {
            return Err(err("no connection"));
        };
        let res = match http::get(stream, self.port, path, cookie.as_deref()).await {
            Ok(res) => res,
            Err(e) => {
                self.http = None;
                return Err(e);
            }
        };
        if res.close {
            self.http = None;
        }
        for pair in &res.cookies {
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Ok(res)
    }

    fn close_http(&mut self) {
        self.http = None;
    }

    /// Dead-renders `/login` `views` times and joins all of them on one WebSocket.
    async fn open_login(&mut self, views: usize) -> io::Result<LiveSocket> {
        let mut pages = Vec::with_capacity(views);
        for _ in 0..views.max(1) {
            let res = self.get("/login").await?;
            if res.status != 200 {
                return Err(err(format!("GET /login: {}", res.status)));
            }
            pages.push(LivePage::parse(&res.body).ok_or_else(|| err("no live container"))?);
        }
        let csrf = http::encode_query(&pages[0].csrf);
        let port = self.port;
        let mut req = format!("ws://127.0.0.1:{port}/live/websocket?_csrf_token={csrf}&vsn=2.0.0")
            .into_client_request()
            .map_err(|e| err(e.to_string()))?;
        if let Some(cookie) = self.cookie_header() {
            req.headers_mut()
                .insert("cookie", cookie.parse().map_err(|_| err("cookie header"))?);
        }
        let stream = http::connect(self.src, port).await?;
        let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(ws_config()))
            .await
            .map_err(|e| err(e.to_string()))?;
        let mut socket = LiveSocket {
            ws,
            next_ref: 1,
            views: Vec::with_capacity(pages.len()),
        };
        for page in &pages {
            let join_ref = socket.take_ref();
            let topic = format!("lv:{}", page.id);
            let payload = json!({
                "url": format!("http://127.0.0.1:{port}/login"),
                "params": {"_csrf_token": page.csrf, "_mounts": 0, "_mount_attempts": 0},
                "session": page.session,
                "static": page.static_token,
                "sticky": false
            });
            socket
                .send(json!([join_ref, join_ref, topic, "phx_join", payload]).to_string())
                .await?;
            let reply = socket.reply_to(&join_ref, ANSWER_TIMEOUT).await?;
            if reply[4]["status"] != "ok" {
                return Err(err(format!("join refused: {}", reply[4])));
            }
            socket.views.push((topic, join_ref));
        }
        Ok(socket)
    }
}

/// A joined WebSocket with one or more `/login` views.
#[derive(Debug)]
struct LiveSocket {
    ws: Ws,
    next_ref: u64,
    /// (topic, join_ref) of each view.
    views: Vec<(String, String)>,
}

/// How the demo answered one login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Redirected to `/account`.
    Success,
    /// "Unable to validate your account." (wrong password, unknown email or an address over
    /// its failure limit: deliberately indistinguishable).
    Invalid,
    /// "Too many sign-in attempts right now" (pool full, or the address has attempts in
    /// progress).
    Busy,
    /// Some other reply (an error reply, or a diff without either message).
    Other,
    /// No reply within [`ANSWER_TIMEOUT`], or the socket closed.
    Unanswered,
}

impl Outcome {
    fn of(reply: &str) -> Self {
        if !reply.contains("\"status\":\"ok\"") {
            Self::Other
        } else if reply.contains("\"redirect\"") {
            Self::Success
        } else if reply.contains(LOGIN_FAILED) {
            Self::Invalid
        } else if reply.contains(LOGIN_BUSY) {
            Self::Busy
        } else {
            Self::Other
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Invalid => "invalid",
            Self::Busy => "busy",
            Self::Other => "other",
            Self::Unanswered => "unanswered",
        }
    }
}

/// Form-urlencodes a value (`application/x-www-form-urlencoded`).
fn form_encode(s: &str) -> String {
    http::encode_query(s).replace("%20", "+")
}

/// The `[join_ref, ref` of a V2 frame.
fn frame_ref(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    v.get(1)?.as_str().map(str::to_owned)
}

impl LiveSocket {
    fn take_ref(&mut self) -> String {
        let r = self.next_ref;
        self.next_ref += 1;
        r.to_string()
    }

    async fn send(&mut self, text: String) -> io::Result<()> {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| err(e.to_string()))
    }

    /// The frames of one login attempt on view `view`: a `validate` (as the form's
    /// `phx-change` sends while typing; it also clears the previous message, so the reply to
    /// the submit always shows the new one) and the `login` submit. Returns the submit's ref.
    async fn send_login(&mut self, view: usize, email: &str, password: &str) -> io::Result<String> {
        let (topic, join_ref) = self.views[view].clone();
        let value = format!(
            "email={}&password={}",
            form_encode(email),
            form_encode(password)
        );
        let validate_ref = self.take_ref();
        let validate = json!([join_ref, validate_ref, topic, "event",
            {"type": "form", "event": "validate", "value": value, "meta": {"_target": "password"}, "uploads": {}}]);
        let submit_ref = self.take_ref();
        let submit = json!([join_ref, submit_ref, topic, "event",
            {"type": "form", "event": "login", "value": value, "meta": {}}]);
        self.send(validate.to_string()).await?;
        self.send(submit.to_string()).await?;
        Ok(submit_ref)
    }

    /// The next text frame (`None` when the socket closed or nothing came within the timeout).
    async fn next_text(&mut self, until: Instant) -> Option<String> {
        loop {
            match timeout(
                until.saturating_duration_since(Instant::now()),
                self.ws.next(),
            )
            .await
            {
                Ok(Some(Ok(Message::Text(text)))) => return Some(text.as_str().to_owned()),
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) | Err(_) => return None,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Waits (at most `wait`) for the `phx_reply` to `msg_ref`.
    async fn reply_to(&mut self, msg_ref: &str, wait: Duration) -> io::Result<Value> {
        let until = Instant::now() + wait;
        loop {
            let text = self
                .next_text(until)
                .await
                .ok_or_else(|| err("no reply (timeout or closed)"))?;
            let v: Value = serde_json::from_str(&text).map_err(|_| err("frame is not JSON"))?;
            if v[1] == msg_ref && v[3] == "phx_reply" {
                return Ok(v);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Part 1: 256 concurrent anonymous login attempts from one address.
// ---------------------------------------------------------------------------------------------

/// One answered (or not) attempt.
#[derive(Debug, Clone, Copy)]
struct Answer {
    outcome: Outcome,
    /// From the attempt's own send to its reply.
    rtt: Duration,
    /// From the common start to the reply.
    since_start: Duration,
}

async fn burst(demo: &Demo, cfg: &Cfg, port: u16) -> io::Result<Value> {
    let server = demo.start(port, "burst")?;
    let rss0 = server.settled_rss_kib().await?;
    let hwm0 = status_kib(server.pid, "VmHWM")?;
    let src = ip(2);
    let per_socket = cfg.burst_views_per_socket.max(1);
    let sockets = cfg.burst.div_ceil(per_socket);
    let sampler = Sampler::start(server.pid, Duration::from_millis(5));

    // Open every socket first (16 at a time, each worker with one keep-alive HTTP connection
    // for the dead renders, closed before the attempts start).
    let open_start = Instant::now();
    let opened = Arc::new(std::sync::Mutex::new(Vec::with_capacity(sockets)));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..16.min(sockets) {
        let (opened, next) = (opened.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut first_error = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= sockets {
                    break;
                }
                let mut browser = Browser::new(src, port);
                match browser.open_login(per_socket).await {
                    Ok(s) => opened.lock().unwrap_or_else(|e| e.into_inner()).push(s),
                    Err(e) => {
                        first_error.get_or_insert(e.to_string());
                    }
                }
                browser.close_http();
            }
            first_error
        }));
    }
    let mut open_error = None;
    for w in workers {
        if let Ok(Some(e)) = w.await {
            open_error.get_or_insert(e);
        }
    }
    let opened = std::mem::take(&mut *opened.lock().unwrap_or_else(|e| e.into_inner()));
    let views: usize = opened.iter().map(|s| s.views.len()).sum();
    log(&format!(
        "burst: {} sockets, {views} /login views joined from {src} in {:.1} s ({open_error:?})",
        opened.len(),
        secs(open_start.elapsed())
    ));
    if views == 0 {
        return Err(err(format!("no view joined: {open_error:?}")));
    }
    sleep(Duration::from_millis(500)).await;
    let rss_joined = server.rss_kib()?;

    // All attempts at once: every socket task waits at the barrier, then sends its attempts.
    let barrier = Arc::new(Barrier::new(opened.len() + 1));
    let (tx, mut rx) = mpsc::unbounded_channel::<Answer>();
    let start = Arc::new(std::sync::OnceLock::<Instant>::new());
    let mut tasks = Vec::new();
    for (s, mut socket) in opened.into_iter().enumerate() {
        let (barrier, tx, start) = (barrier.clone(), tx.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let t0 = *start.get_or_init(Instant::now);
            let mut pending = Vec::new();
            for v in 0..socket.views.len() {
                let email = format!("anon{s}x{v}@example.com");
                let sent = Instant::now();
                match socket
                    .send_login(v, &email, "not the password at all")
                    .await
                {
                    Ok(r) => pending.push((r, sent)),
                    Err(_) => {
                        let _ = tx.send(Answer {
                            outcome: Outcome::Unanswered,
                            rtt: ANSWER_TIMEOUT,
                            since_start: ANSWER_TIMEOUT,
                        });
                    }
                }
            }
            let until = Instant::now() + ANSWER_TIMEOUT;
            while !pending.is_empty() {
                let Some(text) = socket.next_text(until).await else {
                    break;
                };
                let Some(r) = frame_ref(&text) else { continue };
                if let Some(i) = pending.iter().position(|(p, _)| *p == r) {
                    let (_, sent) = pending.swap_remove(i);
                    let now = Instant::now();
                    let _ = tx.send(Answer {
                        outcome: Outcome::of(&text),
                        rtt: now - sent,
                        since_start: now - t0,
                    });
                }
            }
            for _ in pending {
                let _ = tx.send(Answer {
                    outcome: Outcome::Unanswered,
                    rtt: ANSWER_TIMEOUT,
                    since_start: ANSWER_TIMEOUT,
                });
            }
            // Keep the socket open until every task is done (the server's memory is read then).
            socket
        }));
    }
    drop(tx);
    barrier.wait().await;
    let mut answers = Vec::with_capacity(views);
    while let Some(a) = rx.recv().await {
        answers.push(a);
    }
    let rss_after = server.rss_kib()?;
    let mut sockets_kept = Vec::new();
    for t in tasks {
        if let Ok(s) = t.await {
            sockets_kept.push(s);
        }
    }
    sleep(Duration::from_millis(500)).await;
    let (peak_sampled, peak_fds) = sampler.finish().await;
    let hwm1 = status_kib(server.pid, "VmHWM")?;
    let rss_end = server.rss_kib()?;
    drop(sockets_kept);

    let mut counts = Map::new();
    for a in &answers {
        let n = counts.entry(a.outcome.key()).or_insert(json!(0));
        *n = json!(n.as_u64().unwrap_or(0) + 1);
    }
    let unanswered = answers
        .iter()
        .filter(|a| matches!(a.outcome, Outcome::Unanswered))
        .count()
        + cfg.burst.saturating_sub(answers.len());
    let answered: Vec<&Answer> = answers
        .iter()
        .filter(|a| !matches!(a.outcome, Outcome::Unanswered))
        .collect();
    let rtt = Latency::from_ns(answered.iter().map(|a| a.rtt.as_nanos() as u64).collect());
    let last = answered
        .iter()
        .map(|a| a.since_start)
        .max()
        .unwrap_or_default();
    let hashed = Latency::from_ns(
        answered
            .iter()
            .filter(|a| a.outcome == Outcome::Invalid)
            .map(|a| a.rtt.as_nanos() as u64)
            .collect(),
    );
    // Growth: the highest resident size seen (VmHWM covers the whole process life, so it also
    // holds the start-up's warm-up hash: an upper bound) minus the settled size before.
    let peak = hwm1.max(peak_sampled);
    let growth_kib = peak.saturating_sub(rss0);
    let growth_mib = growth_kib as f64 / 1024.0;
    let all_answered = unanswered == 0 && answers.len() >= cfg.burst.min(views);
    let pass =
        all_answered && rtt.max_ms / 1e3 < BURST_ANSWER_MAX_S && growth_mib < BURST_RSS_MAX_MIB;
    log(&format!(
        "burst: {} answers {counts:?}; rtt p50 {:.1} ms p99 {:.1} ms max {:.1} ms; RSS {rss0} -> peak {peak} KiB (+{growth_mib:.1} MiB); {}",
        answers.len(),
        rtt.p50_ms,
        rtt.p99_ms,
        rtt.max_ms,
        if pass { "PASS" } else { "FAIL" }
    ));
    drop(server);
    Ok(json!({
        "attempts": cfg.burst,
        "sockets": sockets,
        "views_joined": views,
        "open_error": open_error,
        "source_address": src.to_string(),
        "answers": counts,
        "unanswered": unanswered,
        "rtt": rtt.to_json(),
        "invalid_rtt": hashed.to_json(),
        "last_answer_after_start_ms": last.as_secs_f64() * 1e3,
        "rss_before_kib": rss0,
        "hwm_before_kib": hwm0,
        "rss_joined_kib": rss_joined,
        "rss_after_answers_kib": rss_after,
        "rss_end_kib": rss_end,
        "rss_peak_sampled_kib": peak_sampled,
        "hwm_after_kib": hwm1,
        "rss_growth_mib": growth_mib,
        "server_fds_peak": peak_fds,
        "threshold": {"rss_growth_mib_below": BURST_RSS_MAX_MIB, "answer_within_s": BURST_ANSWER_MAX_S},
        "pass": pass,
    }))
}

// ---------------------------------------------------------------------------------------------
// Part 2: a flood of failed logins from 10 addresses; the real user logs in from another.
// ---------------------------------------------------------------------------------------------

/// One attempt for a flooding address.
#[derive(Debug)]
struct FloodCmd {
    email: String,
    password: String,
}

/// How one flood attempt went: outcome, round trip, when it was sent (since the flood began).
#[derive(Debug, Clone, Copy)]
struct FloodAnswer {
    outcome: Outcome,
    rtt: Duration,
    at: Duration,
}

/// The real user's logins before the flood starts (the baseline).
const BASELINE_LOGINS: usize = 5;

/// Views per flooding address: enough that an address always has one free for its next
/// attempt (the server lets an address have 2 attempts in progress; the others are answered
/// "busy" at once).
const FLOOD_VIEWS: usize = 8;

/// A flooding address: one socket with [`FLOOD_VIEWS`] login views; each command is sent on a
/// view with nothing outstanding (or counted as skipped when there is none).
async fn flooder(
    mut socket: LiveSocket,
    mut rx: mpsc::UnboundedReceiver<FloodCmd>,
    out: mpsc::UnboundedSender<FloodAnswer>,
    skipped: Arc<AtomicU64>,
    t0: Instant,
) {
    // view -> (submit ref, sent at)
    let mut busy: Vec<Option<(String, Instant)>> = vec![None; socket.views.len()];
    let mut open = true;
    loop {
        if !open && busy.iter().all(Option::is_none) {
            break;
        }
        tokio::select! {
            cmd = rx.recv(), if open => match cmd {
                Some(cmd) => {
                    let Some(v) = busy.iter().position(Option::is_none) else {
                        skipped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    let sent = Instant::now();
                    match socket.send_login(v, &cmd.email, &cmd.password).await {
                        Ok(r) => busy[v] = Some((r, sent)),
                        Err(_) => break,
                    }
                }
                None => open = false,
            },
            msg = timeout(LEGIT_TIMEOUT, socket.ws.next()) => match msg {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let Some(r) = frame_ref(&text) else { continue };
                    let v = busy.iter().position(|b| b.as_ref().is_some_and(|(p, _)| *p == r));
                    if let Some((_, sent)) = v.and_then(|v| busy[v].take()) {
                        let _ = out.send(FloodAnswer {
                            outcome: Outcome::of(&text),
                            rtt: sent.elapsed(),
                            at: sent - t0,
                        });
                    }
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => break,
                Err(_) => {
                    if !open {
                        break;
                    }
                }
            },
        }
    }
    for (_, sent) in busy.into_iter().flatten() {
        let _ = out.send(FloodAnswer {
            outcome: Outcome::Unanswered,
            rtt: sent.elapsed(),
            at: sent - t0,
        });
    }
}

/// One legitimate login, as a browser does it: dead render of `/login`, WebSocket, join,
/// submit, then `/account` with the redirect's flash token. (total, submit-to-reply, outcome)
async fn legit_login(port: u16) -> (Duration, Duration, Outcome, Option<String>) {
    let start = Instant::now();
    let mut browser = Browser::new(ip(20), port);
    let mut socket = match browser.open_login(1).await {
        Ok(s) => s,
        Err(e) => {
            return (
                start.elapsed(),
                Duration::ZERO,
                Outcome::Unanswered,
                Some(e.to_string()),
            );
        }
    };
    let submit_at = Instant::now();
    let reply = match socket.send_login(0, USER_EMAIL, USER_PASSWORD).await {
        // Longer than the longest per-account delay (10 s), which the targeted flood causes.
        Ok(r) => socket.reply_to(&r, LEGIT_TIMEOUT).await,
        Err(e) => Err(e),
    };
    let submit = submit_at.elapsed();
    let _ = socket.ws.close(None).await;
    let reply = match reply {
        Ok(r) => r,
        Err(e) => {
            return (
                start.elapsed(),
                submit,
                Outcome::Unanswered,
                Some(e.to_string()),
            );
        }
    };
    let outcome = Outcome::of(&reply.to_string());
    if outcome != Outcome::Success {
        return (start.elapsed(), submit, outcome, None);
    }
    // The client stores the redirect's flash token in a cookie and loads the target.
    let redirect = &reply[4]["response"]["redirect"];
    if let Some(token) = redirect["flash"].as_str() {
        browser
            .cookies
            .insert("__phoenix_flash__".to_owned(), token.to_owned());
    }
    let to = redirect["to"].as_str().unwrap_or("/account").to_owned();
    match browser.get(&to).await {
        Ok(res)
            if res.status == 200 && res.body.contains(&format!("Signed in as {USER_EMAIL}")) =>
        {
            (start.elapsed(), submit, Outcome::Success, None)
        }
        Ok(res) => (
            start.elapsed(),
            submit,
            Outcome::Other,
            Some(format!(
                "GET {to}: {} without the signed-in line",
                res.status
            )),
        ),
        Err(e) => (
            start.elapsed(),
            submit,
            Outcome::Unanswered,
            Some(e.to_string()),
        ),
    }
}

/// Counts of outcomes.
fn tally<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> Value {
    let mut m = Map::new();
    for o in outcomes {
        let n = m.entry(o.key()).or_insert(json!(0));
        *n = json!(n.as_u64().unwrap_or(0) + 1);
    }
    Value::Object(m)
}

/// `targeted`: every flood attempt is for the user's own email (wrong passwords); otherwise
/// each one is for a different, unregistered email.
async fn flood(
    demo: &Demo,
    cfg: &Cfg,
    port: u16,
    targeted: bool,
    flood_secs: f64,
) -> io::Result<Value> {
    let name = if targeted { "flood-targeted" } else { "flood" };
    let server = demo.start(port, name)?;
    let rss0 = server.settled_rss_kib().await?;
    let sampler = Sampler::start(server.pid, Duration::from_millis(20));
    let n = cfg.flood_addresses.clamp(1, 17);

    // Each flooding address joins its views first.
    let mut sockets = Vec::with_capacity(n);
    for a in 0..n {
        let mut browser = Browser::new(ip(2 + a as u8), port);
        sockets.push(browser.open_login(FLOOD_VIEWS).await?);
    }
    // The real user's logins before the flood: what one costs on this machine right now.
    let mut baseline = Vec::new();
    for _ in 0..BASELINE_LOGINS {
        let (total, submit, outcome, _) = legit_login(port).await;
        if outcome == Outcome::Success {
            baseline.push((total, submit));
        }
        sleep(cfg.legit_pause).await;
    }
    let baseline_total = Latency::from_ns(baseline.iter().map(|b| b.0.as_nanos() as u64).collect());
    let baseline_submit =
        Latency::from_ns(baseline.iter().map(|b| b.1.as_nanos() as u64).collect());
    log(&format!(
        "{name}: before the flood, {}/{BASELINE_LOGINS} logins ok: total p50 {:.0} ms, submit p50 {:.0} ms",
        baseline.len(),
        baseline_total.p50_ms,
        baseline_submit.p50_ms
    ));
    let (out_tx, mut out_rx) = mpsc::unbounded_channel();
    let skipped = Arc::new(AtomicU64::new(0));
    let (pool_threads, pool_cpu0) = threads_cpu_secs(server.pid, "password");
    let cpu0 = server.cpu_secs().unwrap_or(0.0);
    let t0 = Instant::now();
    let mut senders = Vec::with_capacity(n);
    let mut tasks = Vec::with_capacity(n);
    for socket in sockets {
        let (tx, rx) = mpsc::unbounded_channel();
        senders.push(tx);
        tasks.push(tokio::spawn(flooder(
            socket,
            rx,
            out_tx.clone(),
            skipped.clone(),
            t0,
        )));
    }
    drop(out_tx);

    // The legitimate user, from 127.0.0.20, one login after another for the whole flood.
    let stop = Arc::new(AtomicBool::new(false));
    let legit = {
        let stop = stop.clone();
        let pause = cfg.legit_pause;
        tokio::spawn(async move {
            sleep(Duration::from_millis(500)).await;
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let at = t0.elapsed();
                let (total, submit, outcome, error) = legit_login(port).await;
                samples.push((at, total, submit, outcome, error));
                sleep(pause).await;
            }
            samples
        })
    };

    // The flood: open loop at `flood_rate`, round robin over the addresses.
    let total = (cfg.flood_rate * flood_secs) as usize;
    for k in 0..total {
        sleep_until(t0 + Duration::from_secs_f64(k as f64 / cfg.flood_rate)).await;
        let email = if targeted {
            USER_EMAIL.to_owned()
        } else {
            format!("spray{k}@example.com")
        };
        let _ = senders[k % n].send(FloodCmd {
            email,
            password: format!("guess number {k}"),
        });
    }
    stop.store(true, Ordering::Relaxed);
    let flood_elapsed = t0.elapsed();
    drop(senders);
    let legit = legit.await.unwrap_or_default();
    let mut answers = Vec::with_capacity(total);
    while let Some(a) = out_rx.recv().await {
        answers.push(a);
    }
    for t in tasks {
        let _ = t.await;
    }
    let busy_secs = secs(t0.elapsed());
    let pool_cpu = threads_cpu_secs(server.pid, "password").1 - pool_cpu0;
    let pool_share = pool_cpu / (pool_threads.max(1) as f64 * busy_secs);
    let server_cpu = server.cpu_secs().unwrap_or(0.0) - cpu0;
    let (peak_rss, peak_fds) = sampler.finish().await;
    let hwm = status_kib(server.pid, "VmHWM").unwrap_or(0);
    drop(server);

    // The flood's attempts per second of the run, by outcome; "fast" invalid answers (under
    // 5 ms) were refused without hashing (the address was over its failure limit).
    let seconds = flood_secs.ceil() as usize;
    let mut per_sec = vec![[0u32; 5]; seconds.max(1)];
    for a in &answers {
        let s = (a.at.as_secs() as usize).min(per_sec.len() - 1);
        let i = match a.outcome {
            Outcome::Invalid if a.rtt < Duration::from_millis(5) => 1,
            Outcome::Invalid => 0,
            Outcome::Busy => 2,
            Outcome::Success | Outcome::Other => 3,
            Outcome::Unanswered => 4,
        };
        per_sec[s][i] += 1;
    }
    let flood_rtt = Latency::from_ns(
        answers
            .iter()
            .filter(|a| a.outcome != Outcome::Unanswered)
            .map(|a| a.rtt.as_nanos() as u64)
            .collect(),
    );
    let hashed_rtt = Latency::from_ns(
        answers
            .iter()
            .filter(|a| a.outcome == Outcome::Invalid && a.rtt >= Duration::from_millis(5))
            .map(|a| a.rtt.as_nanos() as u64)
            .collect(),
    );
    let legit_total = Latency::from_ns(legit.iter().map(|s| s.1.as_nanos() as u64).collect());
    let legit_submit = Latency::from_ns(legit.iter().map(|s| s.2.as_nanos() as u64).collect());
    // The logins that started while the flood was still hashed (its attempts took longer than
    // 5 ms), and the ones after every address was past its limit.
    let hashing_until = answers
        .iter()
        .filter(|a| a.outcome == Outcome::Invalid && a.rtt >= Duration::from_millis(5))
        .map(|a| a.at)
        .max()
        .unwrap_or_default();
    let during_hashing = Latency::from_ns(
        legit
            .iter()
            .filter(|s| s.0 <= hashing_until)
            .map(|s| s.1.as_nanos() as u64)
            .collect(),
    );
    let succeeded = legit.iter().filter(|s| s.3 == Outcome::Success).count();
    // Every hash of this phase: the flood's hashed attempts and the user's successful logins.
    let hashes = hashed_rtt.samples + succeeded;
    let cpu_per_hash_ms = if hashes > 0 {
        pool_cpu * 1e3 / hashes as f64
    } else {
        0.0
    };
    let errors: Vec<String> = legit.iter().filter_map(|s| s.4.clone()).take(5).collect();
    let legit_p99_s = legit_total.p99_ms / 1e3;
    let pass = !legit.is_empty() && succeeded == legit.len() && legit_p99_s < LEGIT_P99_MAX_S;
    log(&format!(
        "{name}: {} flood attempts in {:.1} s ({}), skipped {}; legit {succeeded}/{} ok, total p50 {:.0} ms p99 {:.0} ms max {:.0} ms (submit p99 {:.0} ms); {}",
        answers.len(),
        secs(flood_elapsed),
        tally(answers.iter().map(|a| &a.outcome)),
        skipped.load(Ordering::Relaxed),
        legit.len(),
        legit_total.p50_ms,
        legit_total.p99_ms,
        legit_total.max_ms,
        legit_submit.p99_ms,
        if targeted {
            "informational"
        } else if pass {
            "PASS"
        } else {
            "FAIL"
        }
    ));
    log(&format!(
        "{name}: {hashes} hashes in {busy_secs:.1} s ({:.1}/s); {pool_threads} password threads used {pool_cpu:.1} CPU-s ({cpu_per_hash_ms:.1} ms per hash, {:.0}% of their wall time); server {server_cpu:.1} CPU-s",
        hashes as f64 / busy_secs,
        100.0 * pool_share
    ));
    Ok(json!({
        "targeted": targeted,
        "flood_emails": if targeted { USER_EMAIL.to_owned() } else { "a different unregistered email per attempt".to_owned() },
        "flood_addresses": n,
        "flood_rate_per_sec": cfg.flood_rate,
        "flood_secs": secs(flood_elapsed),
        "flood_attempts_sent": answers.len(),
        "flood_attempts_skipped_no_free_view": skipped.load(Ordering::Relaxed),
        "flood_answers": tally(answers.iter().map(|a| &a.outcome)),
        "flood_rtt": flood_rtt.to_json(),
        "flood_hashed_rtt": hashed_rtt.to_json(),
        "flood_hashed_until_s": hashing_until.as_secs_f64(),
        "flood_per_second": per_sec.iter().map(|c| json!({
            "invalid_hashed": c[0], "invalid_fast": c[1], "busy": c[2], "other": c[3], "unanswered": c[4]
        })).collect::<Vec<_>>(),
        "legit_baseline_before_flood": {"total": baseline_total.to_json(), "submit": baseline_submit.to_json()},
        "legit_logins": legit.len(),
        "legit_succeeded": succeeded,
        "legit_outcomes": tally(legit.iter().map(|s| &s.3)),
        "legit_errors": errors,
        "legit_total": legit_total.to_json(),
        "legit_submit": legit_submit.to_json(),
        "legit_total_while_flood_hashed": during_hashing.to_json(),
        "legit_samples": legit.iter().map(|s| json!({
            "at_s": s.0.as_secs_f64(), "total_ms": s.1.as_secs_f64() * 1e3,
            "submit_ms": s.2.as_secs_f64() * 1e3, "outcome": s.3.key()
        })).collect::<Vec<_>>(),
        "hashes": hashes,
        "hashes_per_sec": hashes as f64 / busy_secs,
        "pool_threads_cpu_secs": pool_cpu,
        "pool_cpu_ms_per_hash": cpu_per_hash_ms,
        "pool_threads": pool_threads,
        "pool_cpu_share_of_its_threads_wall_time": pool_share,
        "server_cpu_secs": server_cpu,
        "wall_secs": busy_secs,
        "rss_before_kib": rss0,
        "rss_peak_sampled_kib": peak_rss,
        "hwm_after_kib": hwm,
        "server_fds_peak": peak_fds,
        "threshold": {"legit_all_succeed": true, "legit_p99_below_s": LEGIT_P99_MAX_S},
        "pass": pass,
    }))
}

// ---------------------------------------------------------------------------------------------
// Part 3: idle half-open connections from one address; requests from another.
// ---------------------------------------------------------------------------------------------

/// What happened to one half-open connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// The connect itself failed.
    ConnectFailed,
    /// Answered `503` (the connection cap) and closed.
    Refused503,
    /// Closed or reset without an answer, or answered something else.
    ClosedOther,
    /// Still open at the end of the hold.
    Open,
}

/// Opens one connection from `src` (then gives `permit` back), sends part of a request head
/// and waits until `until`. (what happened, when it ended after the connect)
async fn half_open(
    src: Ipv4Addr,
    port: u16,
    until: Arc<std::sync::OnceLock<Instant>>,
    permit: OwnedSemaphorePermit,
) -> (Held, Duration) {
    let stream = http::connect(src, port).await;
    drop(permit);
    let Ok(mut stream) = stream else {
        return (Held::ConnectFailed, Duration::ZERO);
    };
    let connected = Instant::now();
    let partial = format!("GET /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: slow");
    if stream.write_all(partial.as_bytes()).await.is_err() {
        return (Held::ClosedOther, connected.elapsed());
    }
    let mut buf = [0u8; 256];
    let mut got = Vec::new();
    loop {
        let deadline = loop {
            if let Some(t) = until.get() {
                break *t;
            }
            // The end of the hold is set once every connection is open; check again later.
            let read = timeout(Duration::from_millis(500), stream.read(&mut buf)).await;
            match read {
                Err(_) => {}
                Ok(Ok(0) | Err(_)) => return (classify(&got), connected.elapsed()),
                Ok(Ok(k)) => got.extend_from_slice(&buf[..k]),
            }
        };
        match timeout(
            deadline.saturating_duration_since(Instant::now()),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => return (Held::Open, connected.elapsed()),
            Ok(Ok(0) | Err(_)) => return (classify(&got), connected.elapsed()),
            Ok(Ok(k)) => got.extend_from_slice(&buf[..k]),
        }
    }
}

fn classify(got: &[u8]) -> Held {
    if got.starts_with(b"HTTP/1.1 503") {
        Held::Refused503
    } else {
        Held::ClosedOther
    }
}

/// One request from the probe address on a new connection: (time, status).
async fn probe(port: u16) -> (Duration, Option<u16>) {
    let start = Instant::now();
    let res = timeout(Duration::from_secs(5), async {
        let mut stream = http::connect(ip(40), port).await?;
        http::get(&mut stream, port, "/login", None).await
    })
    .await;
    match res {
        Ok(Ok(r)) => (start.elapsed(), Some(r.status)),
        _ => (start.elapsed(), None),
    }
}

async fn halfopen(demo: &Demo, cfg: &Cfg, port: u16, count: usize) -> io::Result<Value> {
    let server = demo.start(port, "halfopen")?;
    let rss0 = server.settled_rss_kib().await?;
    let sampler = Sampler::start(server.pid, Duration::from_millis(20));
    let t0 = Instant::now();

    // Requests from another address every 100 ms, each on a new connection, for the whole part.
    let stop = Arc::new(AtomicBool::new(false));
    let prober = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut k = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let at = t0.elapsed();
                let (took, status) = probe(port).await;
                samples.push((at, took, status));
                k += 1;
                sleep_until(t0 + Duration::from_millis(100) * k).await;
            }
            samples
        })
    };
    sleep(Duration::from_millis(300)).await;

    let until = Arc::new(std::sync::OnceLock::new());
    let gate = Arc::new(Semaphore::new(cfg.halfopen_concurrency.max(1)));
    let src = ip(30);
    let mut conns = Vec::with_capacity(count);
    let open_start = Instant::now();
    for _ in 0..count {
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| err(e.to_string()))?;
        // The permit is held until the connect completed.
        conns.push(tokio::spawn(half_open(src, port, until.clone(), permit)));
    }
    // Wait until every connect finished (all permits back).
    let _all = gate
        .acquire_many(cfg.halfopen_concurrency.max(1) as u32)
        .await
        .map_err(|e| err(e.to_string()))?;
    let opened_in = open_start.elapsed();
    let rss_opened = server.rss_kib().unwrap_or(0);
    let fds_opened = open_fds(server.pid);
    log(&format!(
        "halfopen: {count} connects from {src} done in {:.1} s; server holds {fds_opened} descriptors",
        secs(opened_in)
    ));
    let hold_end = Instant::now() + Duration::from_secs_f64(cfg.halfopen_hold_secs);
    let _ = until.set(hold_end);
    sleep_until(hold_end).await;
    let fds_end = open_fds(server.pid);
    let mut held = Vec::with_capacity(count);
    for c in conns {
        if let Ok(r) = c.await {
            held.push(r);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let probes = prober.await.unwrap_or_default();
    let (peak_rss, peak_fds) = sampler.finish().await;
    drop(server);

    let n_of = |h: Held| held.iter().filter(|(x, _)| *x == h).count();
    let refused = n_of(Held::Refused503);
    let connect_failed = n_of(Held::ConnectFailed);
    // Accepted: not refused at once. Closed later without an answer (the header-read timeout)
    // or still open at the end of the hold.
    let accepted_closed: Vec<u64> = held
        .iter()
        .filter(|(h, _)| *h == Held::ClosedOther)
        .map(|(_, d)| d.as_nanos() as u64)
        .collect();
    let still_open = n_of(Held::Open);
    let refused_after = Latency::from_ns(
        held.iter()
            .filter(|(h, _)| *h == Held::Refused503)
            .map(|(_, d)| d.as_nanos() as u64)
            .collect(),
    );
    let accepted_closed_after = Latency::from_ns(accepted_closed.clone());
    let probe_lat = Latency::from_ns(probes.iter().map(|p| p.1.as_nanos() as u64).collect());
    let probe_bad = probes.iter().filter(|p| p.2 != Some(200)).count();
    let opening = opened_in + Duration::from_millis(300);
    let probe_during_open = Latency::from_ns(
        probes
            .iter()
            .filter(|p| p.0 <= opening)
            .map(|p| p.1.as_nanos() as u64)
            .collect(),
    );
    let pass = !probes.is_empty() && probe_bad == 0 && probe_lat.max_ms / 1e3 < PROBE_MAX_S;
    log(&format!(
        "halfopen: {count} connections: {refused} refused (503), {} accepted and closed later (after p50 {:.1} s), {still_open} still open, {connect_failed} connects failed; probes {} (bad {probe_bad}): p50 {:.1} ms p99 {:.1} ms max {:.1} ms; {}",
        accepted_closed.len(),
        accepted_closed_after.p50_ms / 1e3,
        probes.len(),
        probe_lat.p50_ms,
        probe_lat.p99_ms,
        probe_lat.max_ms,
        if pass { "PASS" } else { "FAIL" }
    ));
    Ok(json!({
        "requested": cfg.halfopen,
        "connections": count,
        "source_address": src.to_string(),
        "probe_address": ip(40).to_string(),
        "open_secs": secs(opened_in),
        "connect_concurrency": cfg.halfopen_concurrency,
        "refused_503": refused,
        "refused_503_after": refused_after.to_json(),
        "accepted_then_closed_by_server": accepted_closed.len(),
        "accepted_closed_after": accepted_closed_after.to_json(),
        "accepted_still_open_at_end": still_open,
        "connect_failed": connect_failed,
        "hold_secs": cfg.halfopen_hold_secs,
        "probes": probes.len(),
        "probes_not_200": probe_bad,
        "probe_latency": probe_lat.to_json(),
        "probe_latency_while_opening": probe_during_open.to_json(),
        "rss_before_kib": rss0,
        "rss_opened_kib": rss_opened,
        "rss_peak_sampled_kib": peak_rss,
        "server_fds_after_open": fds_opened,
        "server_fds_end_of_hold": fds_end,
        "server_fds_peak_sampled": peak_fds,
        "threshold": {"probe_all_200": true, "probe_within_s": PROBE_MAX_S},
        "pass": pass,
    }))
}

// ---------------------------------------------------------------------------------------------
// The whole scenario.
// ---------------------------------------------------------------------------------------------

/// Runs the three parts; writes `cfg.out` (json) and its `.md`; returns whether all passed.
pub async fn run(cfg: &Cfg, work: &Path, open_files: Option<usize>) -> bool {
    let started = SystemTime::now();
    // Part 3 needs one descriptor per connection here (the server refuses most of its own).
    let halfopen_cap = match open_files {
        Some(limit) => cfg.halfopen.min(limit.saturating_sub(1000)),
        None => cfg.halfopen,
    };
    if halfopen_cap < cfg.halfopen {
        log(&format!(
            "open-files limit {open_files:?}: {halfopen_cap} half-open connections instead of {}",
            cfg.halfopen
        ));
    }
    let mut results = Map::new();
    let demo = match Demo::prepare(&cfg.demo, work) {
        Ok(d) => d,
        Err(e) => {
            log(&format!("cannot prepare the demo's data directory: {e}"));
            return false;
        }
    };
    log(&format!("creating {USER_EMAIL} with `demo create-user`"));
    if let Err(e) = demo.create_user(USER_EMAIL, USER_PASSWORD) {
        log(&format!("{e}"));
        return false;
    }
    let mut port = cfg.port_base;
    let mut next_port = || {
        port += 1;
        port
    };
    let mut all_pass = true;
    let mut record = |key: &str, r: io::Result<Value>, counts: bool| match r {
        Ok(v) => {
            if counts && v["pass"] != true {
                all_pass = false;
            }
            results.insert(key.to_owned(), v);
        }
        Err(e) => {
            log(&format!("{key} failed to run: {e}"));
            if counts {
                all_pass = false;
            }
            results.insert(
                key.to_owned(),
                json!({"error": e.to_string(), "pass": false}),
            );
        }
    };
    log("=== part 1: login burst from one address ===");
    record("burst", burst(&demo, cfg, next_port()).await, true);
    log("=== part 2: failed-login flood from 10 addresses, real user from another ===");
    record(
        "flood",
        flood(&demo, cfg, next_port(), false, cfg.flood_secs).await,
        true,
    );
    if cfg.targeted_secs > 0.0 {
        log("=== part 2b (informational): the flood aimed at the user's own account ===");
        record(
            "flood_targeted",
            flood(&demo, cfg, next_port(), true, cfg.targeted_secs).await,
            false,
        );
    }
    log("=== part 3: idle half-open connections from one address ===");
    record(
        "halfopen",
        halfopen(&demo, cfg, next_port(), halfopen_cap).await,
        true,
    );
    drop(demo);

    let mut doc = crate::report::document(&cfg.to_json(halfopen_cap), results, started);
    doc["scenario"] = json!("attack");
    doc["pass"] = json!(all_pass);
    let table = table(&doc);
    println!("{table}");
    crate::write_results(&cfg.out, &doc, &table, log);
    log(if all_pass {
        "all checks passed"
    } else {
        "SOME CHECKS FAILED"
    });
    all_pass
}

fn ms(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "-".to_owned(), |x| format!("{x:.1} ms"))
}

fn yes(v: &Value) -> &'static str {
    if v == &json!(true) { "yes" } else { "**no**" }
}

/// The markdown summary of an attack results document.
pub fn table(doc: &Value) -> String {
    let r = &doc["results"];
    let m = &doc["machine"];
    let mut s = String::new();
    let mut line = |t: String| {
        s.push_str(&t);
        s.push('\n');
    };
    line(format!(
        "Attack scenario, {} to {}; {} cores ({}), {:.1} GiB, load at start {}",
        doc["started"].as_str().unwrap_or("?"),
        doc["finished"].as_str().unwrap_or("?"),
        m["nproc"],
        m["cpu_model"].as_str().unwrap_or("?"),
        m["mem_total_gib"].as_f64().unwrap_or(0.0),
        doc["config"]["loadavg_at_start"].as_str().unwrap_or("?"),
    ));
    line(String::new());
    line("| check | threshold | measured | met |".to_owned());
    line("|---|---|---:|:---:|".to_owned());
    let b = &r["burst"];
    if b.get("error").is_none() {
        line(format!(
            "| 1. {} concurrent anonymous logins from one address: server RSS growth (peak VmHWM − RSS before) | < {BURST_RSS_MAX_MIB} MiB | {:.1} MiB | {} |",
            b["attempts"],
            b["rss_growth_mib"].as_f64().unwrap_or(0.0),
            yes(&b["pass"])
        ));
        line(format!(
            "| 1. … every attempt answered (slowest answer) | ≤ {BURST_ANSWER_MAX_S} s | {} unanswered, slowest {} | {} |",
            b["unanswered"],
            ms(&b["rtt"]["max_ms"]),
            yes(&b["pass"])
        ));
    } else {
        line(format!(
            "| 1. login burst | | error: {} | **no** |",
            b["error"]
        ));
    }
    let f = &r["flood"];
    if f.get("error").is_none() {
        line(format!(
            "| 2. real user's logins during a {:.0}/s failed-login flood from {} addresses: all succeed, p99 (dead render to signed-in `/account`) | < {LEGIT_P99_MAX_S} s | {}/{} succeeded, p99 {} | {} |",
            f["flood_rate_per_sec"].as_f64().unwrap_or(0.0),
            f["flood_addresses"],
            f["legit_succeeded"],
            f["legit_logins"],
            ms(&f["legit_total"]["p99_ms"]),
            yes(&f["pass"])
        ));
    } else {
        line(format!(
            "| 2. login flood | | error: {} | **no** |",
            f["error"]
        ));
    }
    let h = &r["halfopen"];
    if h.get("error").is_none() {
        line(format!(
            "| 3. {} idle half-open connections from one address: a request from another answered (slowest of {}) | < {PROBE_MAX_S} s | {} | {} |",
            h["connections"],
            h["probes"],
            ms(&h["probe_latency"]["max_ms"]),
            yes(&h["pass"])
        ));
    } else {
        line(format!(
            "| 3. half-open connections | | error: {} | **no** |",
            h["error"]
        ));
    }
    line(String::new());
    if b.get("error").is_none() {
        line(format!(
            "- Burst: {} sockets × {} views from {}; answers {}; round trip p50 {} / p99 {} / max {}; RSS {} KiB before, {} KiB with the views joined, peak {} KiB sampled, VmHWM {} KiB after.",
            b["sockets"],
            doc["config"]["burst_views_per_socket"],
            b["source_address"].as_str().unwrap_or("?"),
            b["answers"],
            ms(&b["rtt"]["p50_ms"]),
            ms(&b["rtt"]["p99_ms"]),
            ms(&b["rtt"]["max_ms"]),
            b["rss_before_kib"],
            b["rss_joined_kib"],
            b["rss_peak_sampled_kib"],
            b["hwm_after_kib"]
        ));
    }
    for (key, label) in [
        ("flood", "Flood"),
        ("flood_targeted", "Targeted flood (informational)"),
    ] {
        let f = &r[key];
        if f.is_null() || f.get("error").is_some() {
            continue;
        }
        line(format!(
            "- {label}: {} attempts in {:.1} s ({}), answers {}; {} attempts were hashed (answered \"invalid\" after ≥ 5 ms; p50 {}), the last one sent {:.1} s into the flood; real user: before the flood p50 {} (submit-to-reply {}); during it {}/{} logins succeeded ({}), total p50 {} / p99 {} / max {}, submit-to-reply p99 {}; {} hashes in all ({:.1}/s), {:.1} ms of CPU each, the {} password threads ran {:.0}% of the time; server RSS peak {} KiB.",
            f["flood_attempts_sent"],
            f["flood_secs"].as_f64().unwrap_or(0.0),
            f["flood_emails"].as_str().unwrap_or("?"),
            f["flood_answers"],
            f["flood_hashed_rtt"]["samples"],
            ms(&f["flood_hashed_rtt"]["p50_ms"]),
            f["flood_hashed_until_s"].as_f64().unwrap_or(0.0),
            ms(&f["legit_baseline_before_flood"]["total"]["p50_ms"]),
            ms(&f["legit_baseline_before_flood"]["submit"]["p50_ms"]),
            f["legit_succeeded"],
            f["legit_logins"],
            f["legit_outcomes"],
            ms(&f["legit_total"]["p50_ms"]),
            ms(&f["legit_total"]["p99_ms"]),
            ms(&f["legit_total"]["max_ms"]),
            ms(&f["legit_submit"]["p99_ms"]),
            f["hashes"],
            f["hashes_per_sec"].as_f64().unwrap_or(0.0),
            f["pool_cpu_ms_per_hash"].as_f64().unwrap_or(0.0),
            f["pool_threads"],
            100.0
                * f["pool_cpu_share_of_its_threads_wall_time"]
                    .as_f64()
                    .unwrap_or(0.0),
            f["rss_peak_sampled_kib"]
        ));
    }
    if h.get("error").is_none() {
        line(format!(
            "- Half-open: {} of {} requested (open-files cap) opened in {:.1} s; {} refused with 503 at once, {} accepted and closed by the server without an answer after p50 {:.1} s (header-read timeout), {} still open at the end, {} connects failed; server descriptors peak {}; {} probes: p50 {} / p99 {} / max {} ({} not 200).",
            h["connections"],
            h["requested"],
            h["open_secs"].as_f64().unwrap_or(0.0),
            h["refused_503"],
            h["accepted_then_closed_by_server"],
            h["accepted_closed_after"]["p50_ms"].as_f64().unwrap_or(0.0) / 1e3,
            h["accepted_still_open_at_end"],
            h["connect_failed"],
            h["server_fds_peak_sampled"],
            h["probes"],
            ms(&h["probe_latency"]["p50_ms"]),
            ms(&h["probe_latency"]["p99_ms"]),
            ms(&h["probe_latency"]["max_ms"]),
            h["probes_not_200"]
        ));
    }
    s
}

/// The program as the results file names it: relative to the working directory (the repository)
/// when it lies beneath it, so that committed results carry no machine-specific path.
fn relative_program(program: &str) -> String {
    let path = Path::new(program);
    std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            path.strip_prefix(&cwd)
                .ok()
                .map(|p| p.display().to_string())
        })
        .unwrap_or_else(|| program.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_base64() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn classifies_login_replies() {
        let ok = |body: &str| {
            format!(r#"["4","6","lv:phx-a","phx_reply",{{"status":"ok","response":{body}}}]"#)
        };
        assert_eq!(
            Outcome::of(&ok(r#"{"redirect":{"to":"/account","flash":"x"}}"#)),
            Outcome::Success
        );
        assert_eq!(
            Outcome::of(&ok(r#"{"diff":{"0":"Unable to validate your account."}}"#)),
            Outcome::Invalid
        );
        assert_eq!(
            Outcome::of(&ok(
                r#"{"diff":{"0":"Too many sign-in attempts right now, please try again in a moment."}}"#
            )),
            Outcome::Busy
        );
        assert_eq!(Outcome::of(&ok(r#"{"diff":{}}"#)), Outcome::Other);
        assert_eq!(
            Outcome::of(r#"["4","6","lv:phx-a","phx_reply",{"status":"error","response":{}}]"#),
            Outcome::Other
        );
    }

    #[test]
    fn results_name_the_program_relative_to_the_working_directory() {
        let cwd = std::env::current_dir().unwrap();
        let inside = cwd.join("target/release/demo");
        assert_eq!(
            relative_program(&inside.display().to_string()),
            "target/release/demo"
        );
        assert_eq!(relative_program("/elsewhere/demo"), "/elsewhere/demo");
    }

    #[test]
    fn form_encoding_uses_plus_for_spaces() {
        assert_eq!(form_encode("a b@c.d"), "a+b%40c.d");
    }
}
