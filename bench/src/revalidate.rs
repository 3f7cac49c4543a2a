//! `--scenario revalidate`: what the periodic revalidation of live sockets
//! (`LiveSockets::spawn_revalidation` with the demo's check) costs, at N real live sockets.
//!
//! For each level N: a fresh `bench-revalidate-server` with `BENCH_LOGINS=N` (N session
//! tokens in the demo's SQLite store), N sessions opened like a browser (dead render of `/`,
//! which hands the session its own login, WebSocket, `phx_join`; heartbeats every 30 s
//! after), then the server's own measurements of the next passes once every socket is
//! registered: wall time and process CPU time per pass, and the process's CPU rate between
//! passes (the idle sockets' heartbeats), subtracted over the pass's wall time to give the
//! pass's net CPU. Per socket: net CPU / N.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::client::{self, Flavor, Handle, Opener, Target, source_ip};
use crate::http;
use crate::server::{Server, Spec};

/// Knobs of the scenario.
#[derive(Debug, Clone)]
pub struct Cfg {
    /// How to start `bench-revalidate-server`.
    pub server: Spec,
    pub out: PathBuf,
    pub port_base: u16,
    /// Socket counts (one fresh server each).
    pub levels: Vec<usize>,
    /// Passes measured per level once every socket is registered.
    pub passes: usize,
    /// The revalidation period of the server, in milliseconds.
    pub period_ms: u64,
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
            port_base: 4600,
            levels: vec![10_000],
            passes: 10,
            period_ms: 1000,
            concurrency: 32,
            spread: 16,
        }
    }

    /// Small counts: a smoke test.
    pub fn quick(&mut self) {
        self.levels = vec![1000];
        self.passes = 3;
    }
}

fn log(msg: &str) {
    eprintln!("[revalidate] {msg}");
}

/// Opens `count` sessions, `cfg.concurrency` at a time; returns the handles (dropping one
/// closes its socket) and the first error, if any.
async fn open(target: &Arc<Target>, count: usize, cfg: &Cfg) -> (Vec<Handle>, Option<String>) {
    let next = Arc::new(AtomicUsize::new(0));
    let handles = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let mut workers = Vec::new();
    for w in 0..cfg.concurrency.min(count.max(1)) {
        let (target, next, handles, first_error) = (
            target.clone(),
            next.clone(),
            handles.clone(),
            first_error.clone(),
        );
        let spread = cfg.spread;
        workers.push(tokio::spawn(async move {
            let mut opener = Opener::new(target, source_ip(w, spread));
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                // A new opener per session: a fresh cookie, hence a login of its own.
                match opener.open(1, source_ip(i, spread)).await {
                    Ok(session) => handles
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(client::spawn(session)),
                    Err(e) => {
                        first_error
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert_with(|| e.to_string());
                        next.fetch_add(count, Ordering::Relaxed);
                        break;
                    }
                }
            }
            opener.close_http();
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let handles = std::mem::take(&mut *handles.lock().unwrap_or_else(|e| e.into_inner()));
    let first_error = first_error.lock().unwrap_or_else(|e| e.into_inner()).take();
    (handles, first_error)
}

/// The server's passes so far.
async fn passes(port: u16) -> io::Result<Vec<Value>> {
    let mut stream = http::connect(source_ip(0, 1), port).await?;
    let res = http::get(&mut stream, port, "/__bench/revalidate", None).await?;
    let doc: Value = serde_json::from_str(&res.body)
        .map_err(|e| io::Error::other(format!("stats are not JSON: {e}")))?;
    Ok(doc["passes"].as_array().cloned().unwrap_or_default())
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn level(cfg: &Cfg, n: usize, port: u16, work: &str) -> io::Result<Value> {
    let mut spec = cfg.server.clone();
    spec.env.push(("BENCH_LOGINS".into(), n.to_string()));
    spec.env
        .push(("BENCH_PERIOD_MS".into(), cfg.period_ms.to_string()));
    spec.env.push(("RUST_LOG".into(), "warn".into()));
    // The server's scratch store, removed once the server is stopped.
    let store = format!("{work}/revalidate-store-{n}");
    spec.env.push(("BENCH_DIR".into(), store.clone()));
    let log_path = format!("{work}/revalidate-{n}.log");
    log(&format!(
        "N = {n}: starting the server (seeding {n} logins)"
    ));
    let server = tokio::task::spawn_blocking(move || Server::start(&spec, port, &log_path))
        .await
        .map_err(io::Error::other)??;
    let target = Arc::new(Target {
        flavor: Flavor::Livefire,
        port,
        page_path: "/".to_owned(),
        dx_element: 0,
    });
    let t0 = Instant::now();
    let (handles, first_error) = open(&target, n, cfg).await;
    log(&format!(
        "N = {n}: {} sessions joined in {:.1} s{}",
        handles.len(),
        t0.elapsed().as_secs_f64(),
        first_error
            .map(|e| format!(" (first error: {e})"))
            .unwrap_or_default()
    ));
    if handles.len() < n {
        return Err(io::Error::other(format!(
            "only {} of {n} sessions opened",
            handles.len()
        )));
    }
    // Wait for cfg.passes passes that saw every socket, after the first such pass (the time
    // before it, from which its idle CPU rate is taken, may include the last joins).
    let deadline = Instant::now()
        + Duration::from_millis(cfg.period_ms * (cfg.passes as u64 + 6))
        + Duration::from_secs(60);
    let full = loop {
        let all = passes(port).await?;
        let full: Vec<Value> = all
            .into_iter()
            .filter(|p| p["ids"].as_u64() == Some(n as u64))
            .skip(1)
            .collect();
        if full.len() >= cfg.passes {
            break full;
        }
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "{} passes saw all {n} sockets before the deadline",
                full.len()
            )));
        }
        tokio::time::sleep(Duration::from_millis(cfg.period_ms.min(500))).await;
    };
    let rss_kib = server.rss_kib().unwrap_or(0);
    drop(handles);
    drop(server);
    let _ = std::fs::remove_dir_all(&store);
    let full = &full[..cfg.passes];
    let field = |name: &str| -> Vec<f64> {
        full.iter()
            .map(|p| p[name].as_f64().unwrap_or(f64::NAN))
            .collect()
    };
    let (wall, cpu, idle) = (
        field("wall_us"),
        field("cpu_us"),
        field("idle_cpu_us_per_s"),
    );
    let net: Vec<f64> = (0..full.len())
        .map(|i| (cpu[i] - idle[i] * wall[i] / 1e6).max(0.0))
        .collect();
    let closed: u64 = full.iter().map(|p| p["closed"].as_u64().unwrap_or(0)).sum();
    let (wall, cpu, net, idle) = (sorted(wall), sorted(cpu), sorted(net), sorted(idle));
    let per_socket = pct(&net, 0.5) / n as f64;
    log(&format!(
        "N = {n}: pass wall p50 {:.0} µs, CPU p50 {:.0} µs (net {:.0} µs) = {per_socket:.2} µs per socket; idle CPU {:.0} µs/s",
        pct(&wall, 0.5),
        pct(&cpu, 0.5),
        pct(&net, 0.5),
        pct(&idle, 0.5)
    ));
    Ok(json!({
        "sockets": n,
        "passes": cfg.passes,
        "period_ms": cfg.period_ms,
        "closed": closed,
        "wall_us": {"p50": pct(&wall, 0.5), "p90": pct(&wall, 0.9), "max": pct(&wall, 1.0)},
        "cpu_us": {"p50": pct(&cpu, 0.5), "p90": pct(&cpu, 0.9), "max": pct(&cpu, 1.0)},
        "net_cpu_us": {"p50": pct(&net, 0.5), "p90": pct(&net, 0.9), "max": pct(&net, 1.0)},
        "idle_cpu_us_per_s": {"p50": pct(&idle, 0.5)},
        "net_cpu_us_per_socket_p50": per_socket,
        "server_rss_kib": rss_kib,
    }))
}

/// The demo's check alone over `n` ids (`BENCH_CHECK_ONLY`), `cfg.passes` times: the
/// store's share of a pass, at any count (no sockets needed).
async fn check_only(cfg: &Cfg, n: usize) -> io::Result<Value> {
    let mut cmd = tokio::process::Command::new(&cfg.server.program);
    cmd.args(&cfg.server.args)
        .envs(cfg.server.env.iter().map(|(k, v)| (k, v)))
        .env("BENCH_LOGINS", n.to_string())
        .env("BENCH_CHECK_ONLY", cfg.passes.to_string())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    let out = cmd.output().await?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "check-only run failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let runs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let field = |name: &str| {
        sorted(
            runs.iter()
                .map(|r| r[name].as_f64().unwrap_or(f64::NAN))
                .collect(),
        )
    };
    let (wall, cpu) = (field("wall_us"), field("cpu_us"));
    log(&format!(
        "N = {n}: the check alone: wall p50 {:.0} µs, CPU p50 {:.0} µs = {:.2} µs per id",
        pct(&wall, 0.5),
        pct(&cpu, 0.5),
        pct(&cpu, 0.5) / n as f64
    ));
    Ok(json!({
        "ids": n,
        "runs": runs.len(),
        "wall_us": {"p50": pct(&wall, 0.5), "p90": pct(&wall, 0.9)},
        "cpu_us": {"p50": pct(&cpu, 0.5), "p90": pct(&cpu, 0.9)},
        "cpu_us_per_id_p50": pct(&cpu, 0.5) / n as f64,
    }))
}

/// The markdown table of the scenario's results.
pub fn table(levels: &[Value]) -> String {
    let mut out = String::from(
        "| live sockets (logins) | pass wall p50 / p90 | pass CPU p50 / p90 | idle CPU (heartbeats) | net CPU per pass p50 | **CPU per socket per period** | server RSS |\n|---|---|---|---|---|---|---|\n",
    );
    for l in levels {
        if let Some(skipped) = l["skipped"].as_str() {
            out.push_str(&format!("| {} | skipped: {skipped} |||||\n", l["sockets"]));
            continue;
        }
        let ms = |v: &Value| v.as_f64().unwrap_or(f64::NAN) / 1000.0;
        out.push_str(&format!(
            "| {} | {:.1} / {:.1} ms | {:.1} / {:.1} ms | {:.1} ms/s | {:.1} ms | **{:.2} µs** | {:.0} MiB |\n",
            l["sockets"],
            ms(&l["wall_us"]["p50"]),
            ms(&l["wall_us"]["p90"]),
            ms(&l["cpu_us"]["p50"]),
            ms(&l["cpu_us"]["p90"]),
            ms(&l["idle_cpu_us_per_s"]["p50"]),
            ms(&l["net_cpu_us"]["p50"]),
            l["net_cpu_us_per_socket_p50"].as_f64().unwrap_or(f64::NAN),
            l["server_rss_kib"].as_f64().unwrap_or(0.0) / 1024.0,
        ));
    }
    out.push_str(
        "\n| ids (no sockets) | the check alone, wall p50 / p90 | CPU p50 / p90 | **CPU per id** |\n|---|---|---|---|\n",
    );
    for l in levels {
        let Some(c) = l.get("check_only") else {
            continue;
        };
        if let Some(failed) = c["failed"].as_str() {
            out.push_str(&format!("| {} | failed: {failed} |||\n", l["sockets"]));
            continue;
        }
        let ms = |v: &Value| v.as_f64().unwrap_or(f64::NAN) / 1000.0;
        out.push_str(&format!(
            "| {} | {:.1} / {:.1} ms | {:.1} / {:.1} ms | **{:.2} µs** |\n",
            c["ids"],
            ms(&c["wall_us"]["p50"]),
            ms(&c["wall_us"]["p90"]),
            ms(&c["cpu_us"]["p50"]),
            ms(&c["cpu_us"]["p90"]),
            c["cpu_us_per_id_p50"].as_f64().unwrap_or(f64::NAN),
        ));
    }
    out
}

/// Runs every level; writes `cfg.out` (JSON) and the table beside it (`.md`). False if a
/// level failed.
pub async fn run(cfg: &Cfg, work: &str, open_files: Option<usize>) -> bool {
    let started = SystemTime::now();
    let mut doc = crate::report::scenario_header("revalidate", started);
    let mut ok = true;
    let mut levels = Vec::new();
    let mut port = cfg.port_base;
    for &n in &cfg.levels {
        // One socket per session here and one in the server.
        let fit = open_files.map(|limit| limit.saturating_sub(2 * cfg.concurrency + 500));
        let mut result = if let Some(fit) = fit
            && n > fit
        {
            let why = format!("the open-files limit allows {fit} sockets");
            log(&format!("N = {n}: sockets skipped, {why}"));
            json!({"sockets": n, "skipped": why})
        } else {
            port += 1;
            match level(cfg, n, port, work).await {
                Ok(v) => v,
                Err(e) => {
                    log(&format!("N = {n}: failed: {e}"));
                    ok = false;
                    json!({"sockets": n, "skipped": format!("failed: {e}")})
                }
            }
        };
        let check = match check_only(cfg, n).await {
            Ok(v) => v,
            Err(e) => {
                log(&format!("N = {n}: the check alone failed: {e}"));
                ok = false;
                json!({"ids": n, "failed": e.to_string()})
            }
        };
        result["check_only"] = check;
        levels.push(result);
    }
    let table = table(&levels);
    println!("{table}");
    doc.insert("loadavg_after".into(), json!(crate::report::loadavg()));
    doc.insert("levels".into(), Value::Array(levels));
    crate::write_results(&cfg.out, &Value::Object(doc), &table, log);
    ok
}
