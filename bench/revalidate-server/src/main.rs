//! The server of `bench/run.sh --scenario revalidate` (see `bench/README.md`): what the
//! periodic revalidation of live sockets costs the demo.
//!
//! At start it creates the demo's SQLite store in a fresh scratch directory, registers one
//! user and gives it `BENCH_LOGINS` session tokens through the demo's own
//! `Users::create_session_token` (each a login of its own, so each live socket registers
//! under its own `live_socket_id`, the worst case for the check). Each new browser session
//! that loads `/` is given the next unused token (as a login through the form would leave
//! it) and the page is an idle live view, so every connected socket is one registered login.
//!
//! Every `BENCH_PERIOD_MS` (default 1000) it runs one revalidation pass, exactly what
//! `LiveSockets::spawn_revalidation` runs every period (`LiveSockets::revalidate` with the
//! demo's check `demo::web::auth::valid_live_socket_ids`: one SQL query per batch of 1,000
//! ids), and records its wall time and the CPU time the whole process used during it (the
//! sum of every thread's `/proc/self/task/*/schedstat` run time, nanoseconds), plus the CPU
//! rate of the process between passes (heartbeats of the idle sockets), so that the noise can
//! be subtracted. `GET /__bench/revalidate` answers the passes so far as JSON. Loopback only.
//!
//! With `BENCH_CHECK_ONLY=K` it serves nothing: it runs the demo's check alone over the ids of
//! all `BENCH_LOGINS` logins, in batches of 1,000 as a pass does, `K` times, prints one JSON
//! line per run (`ids`, `wall_us`, `cpu_us`) on stdout and exits. That is the store's share of
//! a pass at counts this machine cannot hold as sockets (the registry's walk, which needs
//! real sockets, is not in it).
//!
//! Environment: `PORT` (default 4003), `BENCH_LOGINS` (default 10,000), `BENCH_PERIOD_MS`,
//! `BENCH_CHECK_ONLY`, `BENCH_DIR` (scratch directory, default
//! `livefire-bench-revalidate-<pid>` in the system's temporary directory; emptied at start,
//! removed at the end of a `BENCH_CHECK_ONLY` run).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use demo::db::Db;
use demo::users::Users;
use demo::web::auth::{self, USER_TOKEN};
use livefire::pipeline::BrowserPipeline;
use livefire::session::Session;
use livefire::sockets::LiveSockets;
use livefire::token::Keyring;
use livefire::{LiveRouter, LiveView, Rendered, Socket, html};
use serde_json::{Value, json};
use tracing_subscriber::EnvFilter;

/// An idle page: no timer, no events.
#[derive(Debug, Default)]
struct Idle;

impl LiveView for Idle {
    type Message = ();

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(<main id="idle">"idle"</main>)
    }
}

/// One measured pass.
#[derive(Debug, Clone, Copy)]
struct Pass {
    /// Registered `live_socket_id`s when the pass started.
    ids: usize,
    /// Sockets the pass closed.
    closed: usize,
    wall: Duration,
    /// CPU time of the whole process during the pass.
    cpu: Duration,
    /// CPU time per second of the whole process between the previous pass and this one.
    idle_cpu_per_sec: f64,
}

#[derive(Debug, Clone)]
struct Shared {
    /// Session tokens not yet handed to a browser.
    unused: Arc<Mutex<Vec<String>>>,
    passes: Arc<Mutex<Vec<Pass>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// CPU time used so far by every thread of this process (nanosecond resolution).
fn process_cpu() -> Duration {
    let mut total = 0u64;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat"))
                && let Some(ns) = text
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
            {
                total += ns;
            }
        }
    }
    Duration::from_nanos(total)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Gives a session without a login the next unused token.
async fn assign_login(
    State(shared): State<Shared>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    if session.get::<String>(USER_TOKEN).is_none()
        && let Some(token) = lock(&shared.unused).pop()
        && let Err(err) = session.insert(USER_TOKEN, token)
    {
        tracing::error!(%err, "cannot store the token in the session");
    }
    next.run(req).await
}

async fn passes(State(shared): State<Shared>) -> Json<Value> {
    let passes: Vec<Value> = lock(&shared.passes)
        .iter()
        .map(|p| {
            json!({
                "ids": p.ids,
                "closed": p.closed,
                "wall_us": p.wall.as_secs_f64() * 1e6,
                "cpu_us": p.cpu.as_secs_f64() * 1e6,
                "idle_cpu_us_per_s": p.idle_cpu_per_sec * 1e6,
            })
        })
        .collect();
    Json(json!({
        "unused_logins": lock(&shared.unused).len(),
        "passes": passes,
    }))
}

/// The measured loop: `spawn_revalidation`'s (an interval, then `revalidate` each tick).
fn spawn_measured_revalidation(
    sockets: LiveSockets,
    users: Users,
    period: Duration,
    shared: Shared,
) {
    tokio::spawn(async move {
        let check = move |ids: Vec<String>| {
            let users = users.clone();
            async move { auth::valid_live_socket_ids(&users, ids).await }
        };
        let mut every = tokio::time::interval(period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        let (mut last_end, mut last_end_cpu) = (Instant::now(), process_cpu());
        loop {
            every.tick().await;
            let ids = sockets.ids().len();
            let (start, start_cpu) = (Instant::now(), process_cpu());
            let between = start.duration_since(last_end).as_secs_f64();
            let idle_cpu_per_sec = if between > 0.0 {
                start_cpu.saturating_sub(last_end_cpu).as_secs_f64() / between
            } else {
                0.0
            };
            let closed = sockets.revalidate(&check).await;
            let (end, end_cpu) = (Instant::now(), process_cpu());
            lock(&shared.passes).push(Pass {
                ids,
                closed,
                wall: end.duration_since(start),
                cpu: end_cpu.saturating_sub(start_cpu),
                idle_cpu_per_sec,
            });
            (last_end, last_end_cpu) = (end, end_cpu);
        }
    });
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let port = u16::try_from(env_number("PORT", 4003))?;
    let logins = usize::try_from(env_number("BENCH_LOGINS", 10_000))?;
    let period = Duration::from_millis(env_number("BENCH_PERIOD_MS", 1000).max(1));
    let dir = std::env::var_os("BENCH_DIR").map_or_else(
        || std::env::temp_dir().join(format!("livefire-bench-revalidate-{}", std::process::id())),
        std::path::PathBuf::from,
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("demo.sqlite3");
    let db = tokio::task::spawn_blocking(move || Db::open(&path)).await??;
    let users = Users::new(db);
    let user = users
        .register("bench@example.com", "bench password 1")
        .await?;
    let seeding = Instant::now();
    let mut tokens = Vec::with_capacity(logins);
    for _ in 0..logins {
        tokens.push(users.create_session_token(user.id).await?);
    }
    tracing::info!(logins, elapsed = ?seeding.elapsed(), "session tokens created");
    let check_only = env_number("BENCH_CHECK_ONLY", 0);
    if check_only > 0 {
        let ids: Vec<String> = tokens.iter().map(|t| auth::live_socket_id(t)).collect();
        for _ in 0..check_only {
            let (start, start_cpu) = (Instant::now(), process_cpu());
            let mut valid = 0;
            for batch in ids.chunks(livefire::sockets::REVALIDATE_BATCH) {
                valid += auth::valid_live_socket_ids(&users, batch.to_vec())
                    .await?
                    .len();
            }
            let (wall, cpu) = (start.elapsed(), process_cpu().saturating_sub(start_cpu));
            if valid != ids.len() {
                return Err(format!("{valid} of {} ids found valid", ids.len()).into());
            }
            let line = json!({
                "ids": ids.len(),
                "wall_us": wall.as_secs_f64() * 1e6,
                "cpu_us": cpu.as_secs_f64() * 1e6,
            });
            std::io::Write::write_all(&mut std::io::stdout(), format!("{line}\n").as_bytes())?;
        }
        drop(users);
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(());
    }
    let shared = Shared {
        unused: Arc::new(Mutex::new(tokens)),
        passes: Arc::new(Mutex::new(Vec::new())),
    };

    let keyring = Keyring::random();
    let live_router = LiveRouter::new(keyring.clone())
        .live("/", Idle::default)
        .socket_id(|session| {
            session
                .get::<String>(USER_TOKEN)
                .map(|token| auth::live_socket_id(&token))
        });
    let sockets = live_router.sockets();
    spawn_measured_revalidation(sockets, users, period, shared.clone());
    let routes = Router::new()
        .route("/__bench/revalidate", get(passes))
        .with_state(shared.clone())
        .merge(live_router.build()?)
        .layer(from_fn_with_state(shared, assign_login));
    let app = BrowserPipeline::new(keyring).apply(routes);
    // Loopback only: the stats route has no authentication.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!(
        "bench revalidate listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
