//! livefire-bench: a load generator that speaks the Phoenix LiveView channel protocol like a
//! browser (and dioxus-liveview's protocol through a small adapter), run against livefire's
//! counter (`bench/counter-server`: the counter example's view plus a broadcast line) and its
//! peers side by side. Loopback only. See `bench/README.md`.

mod attack;
mod client;
mod http;
mod longpoll;
mod nested;
mod open;
mod parity;
mod report;
mod revalidate;
mod server;
mod stats;
mod upload;

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};

use crate::client::{Cmd, Flavor, Handle, Opener, Target, source_ip};
use crate::open::Opened;
use crate::server::{Server, Spec};
use crate::stats::Latency;

const USAGE: &str = "usage: livefire-bench table RESULTS.json
       livefire-bench run [--livefire CMD] [--pyview CMD --pyview-cwd DIR] [--dioxus CMD]
    [--out FILE] [--quick] [--max-sessions N] [--pyview-max N] [--dioxus-max N]
    [--multiview-views N] [--views-per-socket K] [--rate R] [--port-base P]
    [--levels N,N,..] [--no-single] [--fanout N] [--fanout-rounds R]
    [--parity CMD] [--components N] [--stream-items N] [--stream-batch N] [--stream-views N]
    (--multiview-views 0 skips the multiplexed run, --fanout 0 the broadcast fan-out run;
    --parity is bench-parity-server, for the component and stream runs, which --components 0
    and --stream-views 0 skip)
       livefire-bench run --scenario attack --demo CMD [--out FILE] [--quick] [--port-base P]
    [--burst N] [--flood-rate R] [--flood-secs S] [--targeted-secs S] [--halfopen N]
    (the demo app under attack; --targeted-secs 0 skips the informational targeted flood;
    --out defaults to bench/results/attack.json)
       livefire-bench run --scenario revalidate --server CMD [--levels N,N,..] [--passes K]
    [--period-ms P] [--out FILE] [--quick] [--port-base P]
    (the cost of the live sockets' periodic revalidation at N real sockets, CMD being
    bench-revalidate-server; --out defaults to bench/results/revalidate.json)
       livefire-bench run --scenario upload --parity CMD [--upload-mib M] [--runs K]
    [--sample-ms T] [--out FILE] [--quick] [--port-base P]
    (one M MiB file uploaded K times to bench-parity-server's /upload like the official client;
    MiB/s and server RSS growth; --out defaults to bench/results/upload.json)
       livefire-bench run --scenario nested --parity CMD [--children C] [--pages K]
    [--nested-n N] [--out FILE] [--quick] [--port-base P]
    (join time of a page of C nested live views over K pages, and memory per child from
    N pages kept open; --out defaults to bench/results/nested.json)
CMD is a program and its arguments in one string; `{port}` is replaced by the port and PORT is set.";

/// What to run.
#[derive(Debug)]
enum Mode {
    /// livefire's counter and its peers, side by side.
    Compare(Cfg, Vec<Contender>),
    /// Anonymous clients against the demo app (`--scenario attack`).
    Attack(attack::Cfg),
    /// The periodic revalidation's cost (`--scenario revalidate`).
    Revalidate(revalidate::Cfg),
    /// One large upload (`--scenario upload`).
    Upload(upload::Cfg),
    /// A page of nested live views (`--scenario nested`).
    Nested(nested::Cfg),
    /// Long polling and WebSocket side by side (`--scenario longpoll`).
    LongPoll(longpoll::Cfg),
}

/// Knobs of one run.
#[derive(Debug, Clone)]
struct Cfg {
    out: PathBuf,
    /// Idle sessions opened before the baseline RSS read (excluded from the per-session figure).
    warmup: usize,
    /// Sessions opened at once.
    concurrency: usize,
    /// Number of 127.0.0.x source addresses.
    spread: usize,
    seq_warm: usize,
    seq_clicks: usize,
    /// Aggregate click rate (per second) for the latency-under-N-sessions runs.
    rate: f64,
    rate_secs: f64,
    sat_clients: usize,
    sat_secs: f64,
    max_sessions: usize,
    pyview_max: usize,
    dioxus_max: usize,
    multiview_views: usize,
    views_per_socket: usize,
    port_base: u16,
    /// Session counts of the memory runs (default 1k, 10k and the maximum).
    levels: Option<Vec<usize>>,
    single: bool,
    /// Sessions of the broadcast fan-out run (livefire only; 0 skips it).
    fanout: usize,
    /// Measured broadcasts in the fan-out run (after one warm-up broadcast).
    fanout_rounds: usize,
    /// `bench/parity-server`, for the component and stream runs (livefire only).
    parity: Option<Spec>,
    /// Live components on the component page (0 skips the component run).
    components: usize,
    /// Stream items inserted per view (in batches of `stream_batch`, one event each).
    stream_items: usize,
    stream_batch: usize,
    /// Views of the stream run (0 skips it).
    stream_views: usize,
    /// The whole run stops (with partial results) after this.
    deadline: Instant,
}

#[derive(Debug, Clone)]
struct Contender {
    name: &'static str,
    flavor: Flavor,
    spec: Spec,
    page_path: &'static str,
}

fn parse_args() -> Result<Mode, String> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("run") => {}
        Some("table") => {
            // Re-render the table of a results file.
            let path = args.next().ok_or_else(|| USAGE.to_owned())?;
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
            let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
            println!("{}", report::table(&doc));
            std::process::exit(0);
        }
        _ => return Err(USAGE.to_owned()),
    }
    let mut cfg = Cfg {
        out: PathBuf::from("bench/results/latest.json"),
        warmup: 200,
        concurrency: 32,
        spread: 16,
        seq_warm: 300,
        seq_clicks: 3000,
        rate: 500.0,
        rate_secs: 10.0,
        sat_clients: 256,
        sat_secs: 10.0,
        max_sessions: 19_000,
        pyview_max: 19_000,
        dioxus_max: 19_000,
        multiview_views: 50_000,
        views_per_socket: 5,
        port_base: 4400,
        levels: None,
        single: true,
        fanout: 10_000,
        fanout_rounds: 5,
        parity: None,
        components: 1000,
        stream_items: 100_000,
        stream_batch: 1000,
        stream_views: 10,
        deadline: Instant::now() + Duration::from_secs(15 * 60),
    };
    let mut livefire = None;
    let mut pyview = None;
    let mut pyview_cwd = None;
    let mut dioxus = None;
    let mut quick = false;
    let mut scenario = "compare".to_owned();
    let mut demo = None;
    let mut out_given = false;
    let mut attack_knobs: Vec<(String, String)> = Vec::new();
    let mut revalidate_knobs: Vec<(String, String)> = Vec::new();
    let mut upload_knobs: Vec<(String, String)> = Vec::new();
    let mut nested_knobs: Vec<(String, String)> = Vec::new();
    let mut longpoll_sessions = None;
    let mut longpoll_idle = None;
    let mut port_given = false;
    let mut rate_given = false;
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |v: String| v.parse::<usize>().map_err(|_| format!("bad number {v}"));
        match flag.as_str() {
            "--livefire" => livefire = Some(value()?),
            "--pyview" => pyview = Some(value()?),
            "--pyview-cwd" => pyview_cwd = Some(PathBuf::from(value()?)),
            "--dioxus" => dioxus = Some(value()?),
            "--out" => {
                cfg.out = PathBuf::from(value()?);
                out_given = true;
            }
            "--scenario" => scenario = value()?,
            "--demo" => demo = Some(value()?),
            "--burst" | "--flood-rate" | "--flood-secs" | "--targeted-secs" | "--halfopen" => {
                attack_knobs.push((flag.clone(), value()?));
            }
            "--server" | "--passes" | "--period-ms" => {
                revalidate_knobs.push((flag.clone(), value()?));
            }
            "--upload-mib" | "--runs" | "--sample-ms" => {
                upload_knobs.push((flag.clone(), value()?));
            }
            "--children" | "--pages" | "--nested-n" => {
                nested_knobs.push((flag.clone(), value()?));
            }
            "--quick" => quick = true,
            "--max-sessions" => cfg.max_sessions = num(value()?)?,
            "--pyview-max" => cfg.pyview_max = num(value()?)?,
            "--dioxus-max" => cfg.dioxus_max = num(value()?)?,
            "--multiview-views" => cfg.multiview_views = num(value()?)?,
            "--views-per-socket" => cfg.views_per_socket = num(value()?)?.max(1),
            "--rate" => {
                cfg.rate = num(value()?)? as f64;
                rate_given = true;
            }
            "--port-base" => {
                cfg.port_base = num(value()?)? as u16;
                port_given = true;
            }
            "--sessions" => longpoll_sessions = Some(num(value()?)?),
            "--idle-secs" => longpoll_idle = Some(num(value()?)? as u64),
            "--levels" => {
                let list = value()?
                    .split(',')
                    .map(|v| {
                        v.trim()
                            .parse::<usize>()
                            .map_err(|_| format!("bad level {v}"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                cfg.levels = Some(list);
            }
            "--no-single" => cfg.single = false,
            "--fanout" => cfg.fanout = num(value()?)?,
            "--fanout-rounds" => cfg.fanout_rounds = num(value()?)?.max(1),
            "--parity" => cfg.parity = Some(Spec::parse(&value()?).ok_or("empty --parity")?),
            "--components" => cfg.components = num(value()?)?,
            "--stream-items" => cfg.stream_items = num(value()?)?,
            "--stream-batch" => cfg.stream_batch = num(value()?)?.max(1),
            "--stream-views" => cfg.stream_views = num(value()?)?,
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    if scenario != "revalidate" && !revalidate_knobs.is_empty() {
        return Err(format!(
            "{} is a knob of --scenario revalidate",
            revalidate_knobs[0].0
        ));
    }
    if scenario != "upload" && !upload_knobs.is_empty() {
        return Err(format!(
            "{} is a knob of --scenario upload",
            upload_knobs[0].0
        ));
    }
    if scenario != "nested" && !nested_knobs.is_empty() {
        return Err(format!(
            "{} is a knob of --scenario nested",
            nested_knobs[0].0
        ));
    }
    let out_or = |default: &str| {
        if out_given {
            cfg.out.clone()
        } else {
            PathBuf::from(default)
        }
    };
    if scenario != "longpoll" && (longpoll_sessions.is_some() || longpoll_idle.is_some()) {
        return Err("--sessions and --idle-secs are knobs of --scenario longpoll".to_owned());
    }
    match scenario.as_str() {
        "compare" => {}
        "upload" => {
            let spec = cfg
                .parity
                .clone()
                .ok_or("--scenario upload needs --parity CMD (bench-parity-server)")?;
            let mut u = upload::Cfg::new(spec, out_or("bench/results/upload.json"));
            if quick {
                u.quick();
            }
            if port_given {
                u.port_base = cfg.port_base;
            }
            for (flag, v) in upload_knobs {
                let n = v.parse::<u64>().map_err(|_| format!("bad number {v}"))?;
                match flag.as_str() {
                    "--upload-mib" => u.size = n.max(1) << 20,
                    "--runs" => u.runs = n.max(1) as usize,
                    _ => u.sample_ms = n.max(1),
                }
            }
            return Ok(Mode::Upload(u));
        }
        "nested" => {
            let spec = cfg
                .parity
                .clone()
                .ok_or("--scenario nested needs --parity CMD (bench-parity-server)")?;
            let mut n = nested::Cfg::new(spec, out_or("bench/results/nested.json"));
            if quick {
                n.quick();
            }
            if port_given {
                n.port_base = cfg.port_base;
            }
            for (flag, v) in nested_knobs {
                let k = v.parse::<usize>().map_err(|_| format!("bad number {v}"))?;
                match flag.as_str() {
                    "--children" => n.children = k.min(60),
                    "--pages" => n.pages = k.max(1),
                    _ => n.n = k.max(1),
                }
            }
            return Ok(Mode::Nested(n));
        }
        "longpoll" => {
            let cmd = livefire.ok_or("--scenario longpoll needs --livefire CMD")?;
            let mut l = longpoll::Cfg::new(
                Spec::parse(&cmd).ok_or("empty --livefire")?,
                if out_given {
                    cfg.out.clone()
                } else {
                    PathBuf::from("bench/results/longpoll.json")
                },
            );
            if let Some(n) = longpoll_sessions {
                l.sessions = n;
            }
            if quick {
                l.quick();
            }
            if let Some(secs) = longpoll_idle {
                l.idle_secs = secs;
            }
            if port_given {
                l.port_base = cfg.port_base;
            }
            if rate_given {
                l.rate = cfg.rate.max(1.0);
            }
            return Ok(Mode::LongPoll(l));
        }
        "revalidate" => {
            let mut server = None;
            let mut r = revalidate::Cfg::new(
                Spec {
                    program: String::new(),
                    args: Vec::new(),
                    cwd: None,
                    env: Vec::new(),
                },
                if out_given {
                    cfg.out.clone()
                } else {
                    PathBuf::from("bench/results/revalidate.json")
                },
            );
            if quick {
                r.quick();
            }
            if let Some(levels) = cfg.levels.clone() {
                r.levels = levels;
            }
            r.port_base = cfg.port_base + 200;
            for (flag, v) in revalidate_knobs {
                let num = |v: &str| v.parse::<u64>().map_err(|_| format!("bad number {v}"));
                match flag.as_str() {
                    "--server" => server = Some(v),
                    "--passes" => r.passes = num(&v)?.max(1) as usize,
                    _ => r.period_ms = num(&v)?.max(1),
                }
            }
            let cmd = server.ok_or("--scenario revalidate needs --server CMD")?;
            r.server = Spec::parse(&cmd).ok_or("empty --server")?;
            return Ok(Mode::Revalidate(r));
        }
        "attack" => {
            let cmd = demo.ok_or("--scenario attack needs --demo CMD")?;
            let spec = Spec::parse(&cmd).ok_or("empty --demo")?;
            let out = if out_given {
                cfg.out
            } else {
                PathBuf::from("bench/results/attack.json")
            };
            let mut a = attack::Cfg::new(spec, out);
            a.port_base = cfg.port_base;
            if quick {
                a.quick();
            }
            for (flag, v) in attack_knobs {
                let num = |v: &str| v.parse::<f64>().map_err(|_| format!("bad number {v}"));
                match flag.as_str() {
                    "--burst" => a.burst = num(&v)? as usize,
                    "--flood-rate" => a.flood_rate = num(&v)?.max(1.0),
                    "--flood-secs" => a.flood_secs = num(&v)?.max(1.0),
                    "--targeted-secs" => a.targeted_secs = num(&v)?.max(0.0),
                    _ => a.halfopen = num(&v)? as usize,
                }
            }
            return Ok(Mode::Attack(a));
        }
        other => {
            return Err(format!(
                "unknown scenario {other} (compare, attack, revalidate, upload, nested or longpoll)\n{USAGE}"
            ));
        }
    }
    if !attack_knobs.is_empty() {
        return Err(format!(
            "{} is a knob of --scenario attack",
            attack_knobs[0].0
        ));
    }
    if quick {
        cfg.warmup = 50;
        cfg.seq_warm = 100;
        cfg.seq_clicks = 500;
        cfg.rate_secs = 2.0;
        cfg.sat_clients = 64;
        cfg.sat_secs = 2.0;
        cfg.max_sessions = cfg.max_sessions.min(2000);
        cfg.pyview_max = cfg.pyview_max.min(1000);
        cfg.dioxus_max = cfg.dioxus_max.min(1000);
        cfg.multiview_views = cfg.multiview_views.min(2000);
        cfg.fanout = cfg.fanout.min(1000);
        cfg.stream_items = cfg.stream_items.min(10_000);
        cfg.stream_views = cfg.stream_views.min(4);
    }
    // Every session is one socket in this process and one in the server (which inherits this
    // process's limit): stay below the open-files limit.
    if let Some(limit) = open_files_limit() {
        let fit = limit.saturating_sub(cfg.warmup + 2 * cfg.concurrency + 500);
        for max in [
            &mut cfg.max_sessions,
            &mut cfg.pyview_max,
            &mut cfg.dioxus_max,
            &mut cfg.fanout,
        ] {
            if *max > fit {
                eprintln!("[bench] open-files limit {limit}: at most {fit} sessions per run");
                *max = fit;
            }
        }
    }
    let mut contenders = Vec::new();
    if let Some(cmd) = livefire {
        let mut spec = Spec::parse(&cmd).ok_or("empty --livefire")?;
        spec.env.push(("RUST_LOG".into(), "warn".into()));
        contenders.push(Contender {
            name: "livefire",
            flavor: Flavor::Livefire,
            spec,
            page_path: "/",
        });
    }
    if let Some(cmd) = pyview {
        let mut spec = Spec::parse(&cmd).ok_or("empty --pyview")?;
        spec.cwd = pyview_cwd;
        contenders.push(Contender {
            name: "pyview",
            flavor: Flavor::Pyview,
            spec,
            page_path: "/",
        });
    }
    if let Some(cmd) = dioxus {
        let spec = Spec::parse(&cmd).ok_or("empty --dioxus")?;
        contenders.push(Contender {
            name: "dioxus",
            flavor: Flavor::Dioxus,
            spec,
            // With axum 0.8, dioxus-liveview's router serves the page on `/{*route}` only.
            page_path: "/x",
        });
    }
    if contenders.is_empty() {
        return Err(format!("no server given\n{USAGE}"));
    }
    Ok(Mode::Compare(cfg, contenders))
}

/// Scratch folder for server logs (`LIVEFIRE_BENCH_WORK`, default `/tmp/livefire-bench`).
fn work_dir() -> String {
    std::env::var("LIVEFIRE_BENCH_WORK").unwrap_or_else(|_| "/tmp/livefire-bench".to_owned())
}

/// The soft `Max open files` of this process.
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn log(msg: &str) {
    eprintln!("[bench] {msg}");
}

/// Ports: each fresh server gets its own, so TIME_WAIT of the last one never matters.
struct Ports(u16);

impl Ports {
    fn next(&mut self) -> u16 {
        self.0 += 1;
        self.0
    }
}

/// Opens `count` sessions (`views` live views each), `cfg.concurrency` at a time, none after
/// the run's deadline.
async fn open_many(
    target: &Arc<Target>,
    first: usize,
    count: usize,
    views: usize,
    cfg: &Cfg,
) -> Opened<Handle> {
    open::open_sessions(
        target,
        first,
        count,
        views,
        (cfg.concurrency.max(1), cfg.spread),
        Some(cfg.deadline),
    )
    .await
}

/// Clicks spread over `handles` at `rate` per second for `secs` (open loop).
async fn rate_latency(handles: &[Handle], rate: f64, secs: f64) -> (Latency, usize) {
    let total = (rate * secs) as usize;
    let (tx, rx) = mpsc::unbounded_channel();
    let start = Instant::now();
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut sent = 0usize;
    for k in 0..total {
        sleep_until(start + Duration::from_secs_f64(k as f64 / rate)).await;
        if client::offer_click(handles, &mut rng, &tx) {
            sent += 1;
        }
    }
    drop(tx);
    client::collect(rx, sent, sent).await
}

/// All `handles` click back to back for `secs`.
async fn saturate(handles: &[Handle], secs: f64, server: &Server) -> Value {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cpu0 = server.cpu_secs().unwrap_or(0.0);
    let self0 = server::cpu_secs("/proc/self/stat").unwrap_or(0.0);
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    for h in handles {
        let _ =
            h.tx.send(Cmd::Loop {
                until,
                done: tx.clone(),
            })
            .await;
    }
    drop(tx);
    let mut all = Vec::new();
    while let Ok(Some(rtts)) = timeout(Duration::from_secs_f64(secs + 30.0), rx.recv()).await {
        all.extend(rtts);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = server.cpu_secs().unwrap_or(0.0) - cpu0;
    let client_cpu = server::cpu_secs("/proc/self/stat").unwrap_or(0.0) - self0;
    let events = all.len();
    let lat = Latency::from_ns(all);
    json!({
        "clients": handles.len(),
        "seconds": elapsed,
        "events": events,
        "events_per_sec": events as f64 / elapsed,
        "server_cpu_secs": cpu,
        "server_cpu_us_per_event": if events > 0 { cpu * 1e6 / events as f64 } else { 0.0 },
        "client_cpu_secs": client_cpu,
        "latency": lat.to_json(),
    })
}

/// Finds the dioxus element id of the `+` button: the one whose clicks produce edits with
/// "1", "2", "3" and no list item or minus sign.
async fn probe_dx_element(target: &Target) -> io::Result<u64> {
    for element in 1..=24u64 {
        let t = Arc::new(Target {
            dx_element: element,
            ..target.clone()
        });
        let mut opener = Opener::new(t, source_ip(0, 1));
        let mut session = opener.open(1, source_ip(1, 1)).await?;
        // Let the post-mount frames arrive, then drain them.
        drain(&mut session, Duration::from_millis(300)).await;
        let mut ok = true;
        for k in 1..=3u8 {
            match timeout(Duration::from_millis(500), session.click_raw()).await {
                Ok(Ok(bytes)) => {
                    let digit = [b'0' + k];
                    let has = |n: &[u8]| bytes.windows(n.len()).any(|w| w == n);
                    if !has(&digit) || has(b"Item") || has(&[b'-', b'0' + k]) {
                        ok = false;
                        break;
                    }
                }
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return Ok(element);
        }
    }
    Err(io::Error::other(
        "no dioxus element answers like a + button",
    ))
}

async fn drain(session: &mut client::Session, d: Duration) {
    let until = Instant::now() + d;
    while timeout(
        until.saturating_duration_since(Instant::now()),
        session.next_any(),
    )
    .await
    .is_ok_and(|r| r.is_ok())
    {}
}

/// Round trips of one session clicking sequentially, plus wire bytes.
async fn single_session(
    c: &Contender,
    target: &Arc<Target>,
    cfg: &Cfg,
    res: &mut Map<String, Value>,
    port: u16,
) -> io::Result<()> {
    let server = Server::start(
        &c.spec,
        port,
        &format!("{}/{}-single.log", work_dir(), c.name),
    )?;
    let mut opener = Opener::new(target.clone(), source_ip(0, cfg.spread));
    let mut session = opener.open(1, source_ip(1, cfg.spread)).await?;
    opener.close_http();
    drain(&mut session, Duration::from_millis(300)).await;
    res.insert("join_reply_bytes".into(), json!(session.join_bytes));
    // Wire bytes: the first click, and (Phoenix flavours) one form change.
    let click = session.click(0, false).await?;
    res.insert("click_reply_bytes".into(), json!(click.bytes));
    res.insert("click_reply_frame".into(), json!(click.frame));
    if c.flavor != Flavor::Dioxus {
        let form = session.click(0, true).await?;
        res.insert("form_reply_bytes".into(), json!(form.bytes));
        res.insert("form_reply_frame".into(), json!(form.frame));
    }
    for _ in 0..cfg.seq_warm {
        session.click(0, false).await?;
    }
    let mut ns = Vec::with_capacity(cfg.seq_clicks);
    for _ in 0..cfg.seq_clicks {
        ns.push(session.click(0, false).await?.rtt.as_nanos() as u64);
    }
    let lat = Latency::from_ns(ns);
    log(&format!(
        "{}: 1 session: p50 {:.3} ms p99 {:.3} ms max {:.3} ms; click {} B",
        c.name, lat.p50_ms, lat.p99_ms, lat.max_ms, click.bytes
    ));
    res.insert("latency_1".into(), lat.to_json());

    // Saturation: `sat_clients` sessions clicking back to back.
    let first = client::spawn(session);
    let more = open_many(target, 10, cfg.sat_clients.saturating_sub(1), 1, cfg).await;
    let mut handles = vec![first];
    handles.extend(more.items);
    let sat = saturate(&handles, cfg.sat_secs, &server).await;
    log(&format!("{}: saturation: {}", c.name, sat));
    res.insert("saturation".into(), sat);
    drop(handles);
    drop(server);
    Ok(())
}

/// Fresh server: warm-up sessions, baseline RSS, `n` sessions of `views` views each, RSS again;
/// then (optionally) click latency with those sessions open.
async fn memory_run(
    c: &Contender,
    target: &Arc<Target>,
    cfg: &Cfg,
    n: usize,
    views: usize,
    with_latency: bool,
    port: u16,
) -> io::Result<Value> {
    let server = Server::start(
        &c.spec,
        port,
        &format!("{}/{}-mem-{n}x{views}.log", work_dir(), c.name),
    )?;
    let warm_sockets = cfg.warmup.div_ceil(views);
    let warm = open_many(target, 0, warm_sockets, views, cfg).await;
    if warm.items.is_empty() {
        return Err(io::Error::other(format!(
            "warm-up failed: {:?}",
            warm.first_error
        )));
    }
    let rss0 = server.settled_rss_kib().await?;
    let opened = open_many(target, warm_sockets, n, views, cfg).await;
    let rss1 = server.settled_rss_kib().await?;
    let live_views = opened.items.len() * views;
    let per_view = if live_views > 0 {
        (rss1.saturating_sub(rss0) * 1024) as f64 / live_views as f64
    } else {
        0.0
    };
    log(&format!(
        "{}: {} sockets x {views} views: {} ok, {} failed ({:?}) in {:.1} s; RSS {} -> {} KiB: {:.0} B/view",
        c.name,
        n,
        opened.items.len(),
        opened.failed,
        opened.first_error,
        opened.secs,
        rss0,
        rss1,
        per_view
    ));
    let mut out = json!({
        "sockets_requested": n,
        "views_per_socket": views,
        "sockets_ok": opened.items.len(),
        "views_ok": live_views,
        "failed": opened.failed,
        "first_error": opened.first_error,
        "warmup_views": warm.items.len() * views,
        "rss_before_kib": rss0,
        "rss_after_kib": rss1,
        "bytes_per_view": per_view,
        "open_secs": opened.secs,
        "sessions_per_sec": opened.items.len() as f64 / opened.secs,
        "views_per_sec": live_views as f64 / opened.secs,
    });
    if with_latency && !opened.items.is_empty() {
        let (lat, errors) = rate_latency(&opened.items, cfg.rate, cfg.rate_secs).await;
        log(&format!(
            "{}: at {} sessions, {} clicks/s: p50 {:.3} ms p99 {:.3} ms max {:.3} ms ({} errors)",
            c.name, live_views, cfg.rate, lat.p50_ms, lat.p99_ms, lat.max_ms, errors
        ));
        out["latency"] = lat.to_json();
        out["latency"]["rate_per_sec"] = json!(cfg.rate);
        out["latency"]["errors"] = json!(errors);
    }
    drop(opened.items);
    drop(warm.items);
    drop(server);
    Ok(out)
}

/// One broadcast's arrivals at `sessions` views.
#[derive(Debug, Clone)]
struct Broadcast {
    /// Arrival of each view's `diff` push, in ns after the `POST` was sent.
    arrivals: Vec<u64>,
    /// Time until the `POST`'s response (the server's `broadcast` call included), ns.
    post_ns: u64,
    /// Length of one `diff` push frame.
    frame_bytes: usize,
}

/// Sends one `POST /__bench/broadcast` and collects the `diff` pushes it causes (until
/// `expected` arrived or 30 s passed).
async fn one_broadcast(
    http_conn: &mut tokio::net::TcpStream,
    port: u16,
    arrivals: &mut mpsc::UnboundedReceiver<(Instant, usize)>,
    expected: usize,
) -> io::Result<Broadcast> {
    // Anything left over from the previous broadcast is not this one's.
    while arrivals.try_recv().is_ok() {}
    let t0 = Instant::now();
    let res = http::post(http_conn, port, "/__bench/broadcast").await?;
    let post_ns = t0.elapsed().as_nanos() as u64;
    if res.status != 200 {
        return Err(io::Error::other(format!(
            "POST /__bench/broadcast: {} (is the server bench-counter-server with BENCH_BROADCAST=1?)",
            res.status
        )));
    }
    let mut out = Broadcast {
        arrivals: Vec::with_capacity(expected),
        post_ns,
        frame_bytes: 0,
    };
    let deadline = t0 + Duration::from_secs(30);
    while out.arrivals.len() < expected {
        match timeout(
            deadline.saturating_duration_since(Instant::now()),
            arrivals.recv(),
        )
        .await
        {
            Ok(Some((at, bytes))) => {
                out.arrivals
                    .push(at.saturating_duration_since(t0).as_nanos() as u64);
                out.frame_bytes = bytes;
            }
            _ => break,
        }
    }
    Ok(out)
}

/// The median of some values (the lower one of an even count).
fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len().saturating_sub(1) / 2).copied()
}

/// Fresh server with `BENCH_BROADCAST=1`: `n` joined sessions, then one warm-up and
/// `cfg.fanout_rounds` measured broadcasts; for each, when every view's `diff` push arrived.
async fn fanout_run(c: &Contender, target: &Arc<Target>, cfg: &Cfg, n: usize) -> io::Result<Value> {
    let mut spec = c.spec.clone();
    spec.env.push(("BENCH_BROADCAST".into(), "1".into()));
    let server = Server::start(
        &spec,
        target.port,
        &format!("{}/{}-fanout-{n}.log", work_dir(), c.name),
    )?;
    let opened = open_many(target, 0, n, 1, cfg).await;
    if opened.items.is_empty() {
        return Err(io::Error::other(format!(
            "no session opened: {:?}",
            opened.first_error
        )));
    }
    let (arr_tx, mut arr_rx) = mpsc::unbounded_channel();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    for h in &opened.items {
        let cmd = Cmd::Watch {
            arrivals: arr_tx.clone(),
            ready: ready_tx.clone(),
        };
        let _ = h.tx.send(cmd).await;
    }
    drop(ready_tx);
    let mut watching = 0;
    while watching < opened.items.len() {
        match timeout(Duration::from_secs(30), ready_rx.recv()).await {
            Ok(Some(())) => watching += 1,
            _ => break,
        }
    }
    let mut http_conn = http::connect(source_ip(0, cfg.spread), target.port).await?;
    let warm = one_broadcast(&mut http_conn, target.port, &mut arr_rx, watching).await?;
    sleep_until(Instant::now() + Duration::from_millis(500)).await;
    let mut rounds = Vec::new();
    for _ in 0..cfg.fanout_rounds {
        let b = one_broadcast(&mut http_conn, target.port, &mut arr_rx, watching).await?;
        rounds.push(b);
        sleep_until(Instant::now() + Duration::from_millis(500)).await;
    }
    let round_json: Vec<Value> = rounds
        .iter()
        .map(|b| {
            let lat = Latency::from_ns(b.arrivals.clone());
            json!({
                "delivered": b.arrivals.len(),
                "post_ms": b.post_ns as f64 / 1e6,
                "p50_ms": lat.p50_ms,
                "p99_ms": lat.p99_ms,
                "max_ms": lat.max_ms,
                "all_delivered_ms": (b.arrivals.len() == watching).then_some(lat.max_ms),
            })
        })
        .collect();
    let med = |key: &str| median(round_json.iter().filter_map(|r| r[key].as_f64()).collect());
    let complete = round_json
        .iter()
        .filter(|r| r["all_delivered_ms"].is_number())
        .count();
    let out = json!({
        "sessions_requested": n,
        "sessions": watching,
        "failed_to_open": opened.failed,
        "rounds": round_json,
        "rounds_all_delivered": complete,
        "warmup_delivered": warm.arrivals.len(),
        "diff_frame_bytes": rounds.last().map_or(0, |b| b.frame_bytes),
        "median": {
            "p50_ms": med("p50_ms"),
            "p99_ms": med("p99_ms"),
            "max_ms": med("max_ms"),
            "all_delivered_ms": if complete == rounds.len() { med("all_delivered_ms") } else { None },
            "post_ms": med("post_ms"),
        },
    });
    log(&format!(
        "{}: fan-out to {watching} views: median p50 {} ms p99 {} ms all delivered {} ms ({complete}/{} rounds complete)",
        c.name,
        out["median"]["p50_ms"],
        out["median"]["p99_ms"],
        out["median"]["all_delivered_ms"],
        rounds.len()
    ));
    drop(opened.items);
    drop(server);
    Ok(out)
}

async fn run_contender(c: &Contender, cfg: &Cfg, ports: &mut Ports) -> Map<String, Value> {
    let mut res = Map::new();
    let mut target = Target {
        flavor: c.flavor,
        port: 0,
        page_path: c.page_path.to_owned(),
        dx_element: 1,
    };
    if c.flavor == Flavor::Dioxus {
        let port = ports.next();
        match Server::start(&c.spec, port, &format!("{}/dioxus-probe.log", work_dir())) {
            Ok(server) => {
                target.port = port;
                match probe_dx_element(&target).await {
                    Ok(e) => {
                        log(&format!("dioxus: + button is element {e}"));
                        target.dx_element = e;
                    }
                    Err(e) => log(&format!("dioxus: probe failed: {e}")),
                }
                drop(server);
            }
            Err(e) => {
                res.insert("error".into(), json!(e.to_string()));
                return res;
            }
        }
    }

    let port = ports.next();
    target.port = port;
    let t = Arc::new(target.clone());
    if !cfg.single {
        // Skipped on request.
    } else if let Err(e) = single_session(c, &t, cfg, &mut res, port).await {
        log(&format!("{}: single-session run failed: {e}", c.name));
        res.insert("single_error".into(), json!(e.to_string()));
    }

    let max = match c.flavor {
        Flavor::Livefire => cfg.max_sessions,
        Flavor::Pyview => cfg.pyview_max,
        Flavor::Dioxus => cfg.dioxus_max,
    };
    let mut levels: Vec<usize> = match &cfg.levels {
        Some(list) => list.clone(),
        None => [1000, 10_000, max]
            .into_iter()
            .filter(|&n| n <= max)
            .collect(),
    };
    levels.dedup();
    let mut mem = Vec::new();
    for n in levels {
        if Instant::now() > cfg.deadline {
            log("deadline reached; skipping the rest");
            break;
        }
        let port = ports.next();
        let mut t = target.clone();
        t.port = port;
        let with_latency = n == 1000 || n == 10_000;
        match memory_run(c, &Arc::new(t), cfg, n, 1, with_latency, port).await {
            Ok(v) => mem.push(v),
            Err(e) => {
                log(&format!("{}: memory run at {n} failed: {e}", c.name));
                mem.push(json!({"sockets_requested": n, "error": e.to_string()}));
            }
        }
    }
    res.insert("memory".into(), Value::Array(mem));

    if c.flavor != Flavor::Livefire {
        res.insert(
            "fanout".into(),
            json!({"skipped": "no comparable broadcast in the peer app"}),
        );
    } else if cfg.fanout > 0 && Instant::now() < cfg.deadline {
        let mut t = target.clone();
        t.port = ports.next();
        match fanout_run(c, &Arc::new(t), cfg, cfg.fanout).await {
            Ok(v) => {
                res.insert("fanout".into(), v);
            }
            Err(e) => {
                log(&format!("{}: fan-out run failed: {e}", c.name));
                res.insert("fanout".into(), json!({"error": e.to_string()}));
            }
        }
    }

    if c.flavor == Flavor::Livefire
        && let Some(parity) = &cfg.parity
    {
        if cfg.components > 0 && Instant::now() < cfg.deadline {
            let v = parity::components_run(c, parity, cfg, ports)
                .await
                .unwrap_or_else(|e| {
                    log(&format!("{}: component run failed: {e}", c.name));
                    json!({"error": e.to_string()})
                });
            res.insert("components".into(), v);
        }
        if cfg.stream_views > 0 && cfg.stream_items > 0 && Instant::now() < cfg.deadline {
            let v = parity::stream_run(parity, cfg, ports)
                .await
                .unwrap_or_else(|e| {
                    log(&format!("{}: stream run failed: {e}", c.name));
                    json!({"error": e.to_string()})
                });
            res.insert("stream".into(), v);
        }
    }

    if c.flavor == Flavor::Livefire && cfg.multiview_views > 0 && Instant::now() < cfg.deadline {
        let port = ports.next();
        let mut t = target.clone();
        t.port = port;
        let sockets = cfg.multiview_views.div_ceil(cfg.views_per_socket);
        match memory_run(
            c,
            &Arc::new(t),
            cfg,
            sockets,
            cfg.views_per_socket,
            true,
            port,
        )
        .await
        {
            Ok(v) => {
                res.insert("multiview".into(), v);
            }
            Err(e) => {
                log(&format!("{}: multiview run failed: {e}", c.name));
                res.insert("multiview".into(), json!({"error": e.to_string()}));
            }
        }
    }
    res
}

#[tokio::main]
async fn main() {
    let (cfg, contenders) = match parse_args() {
        Ok(Mode::Compare(cfg, contenders)) => (cfg, contenders),
        Ok(Mode::Attack(cfg)) => {
            let work = PathBuf::from(work_dir());
            let _ = std::fs::create_dir_all(&work);
            let passed = attack::run(&cfg, &work, open_files_limit()).await;
            std::process::exit(if passed { 0 } else { 1 });
        }
        Ok(Mode::Revalidate(cfg)) => {
            let work = work_dir();
            let _ = std::fs::create_dir_all(&work);
            let passed = revalidate::run(&cfg, &work, open_files_limit()).await;
            std::process::exit(if passed { 0 } else { 1 });
        }
        Ok(Mode::Upload(cfg)) => {
            let work = work_dir();
            let _ = std::fs::create_dir_all(&work);
            let passed = upload::run(&cfg, &work).await;
            std::process::exit(if passed { 0 } else { 1 });
        }
        Ok(Mode::Nested(cfg)) => {
            let work = work_dir();
            let _ = std::fs::create_dir_all(&work);
            let passed = nested::run(&cfg, &work).await;
            std::process::exit(if passed { 0 } else { 1 });
        }
        Ok(Mode::LongPoll(cfg)) => {
            let work = work_dir();
            let _ = std::fs::create_dir_all(&work);
            let passed = longpoll::run(&cfg, &work, open_files_limit()).await;
            std::process::exit(if passed { 0 } else { 1 });
        }
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    let _ = std::fs::create_dir_all(work_dir());
    let mut ports = Ports(cfg.port_base);
    let started = std::time::SystemTime::now();
    let mut results = Map::new();
    for c in &contenders {
        log(&format!("=== {} ===", c.name));
        let r = run_contender(c, &cfg, &mut ports).await;
        results.insert(c.name.to_owned(), Value::Object(r));
    }
    let doc = report::document(&cfg_json(&cfg), results, started);
    let table = report::table(&doc);
    println!("{table}");
    write_results(&cfg.out, &doc, &table, log);
}

fn cfg_json(cfg: &Cfg) -> Value {
    json!({
        "warmup_views": cfg.warmup,
        "open_concurrency": cfg.concurrency,
        "source_addresses": format!("127.0.0.2-127.0.0.{}", 1 + cfg.spread),
        "sequential_clicks": cfg.seq_clicks,
        "sequential_warmup_clicks": cfg.seq_warm,
        "rate_clicks_per_sec": cfg.rate,
        "rate_secs": cfg.rate_secs,
        "saturation_clients": cfg.sat_clients,
        "saturation_secs": cfg.sat_secs,
        "max_sessions": cfg.max_sessions,
        "pyview_max": cfg.pyview_max,
        "dioxus_max": cfg.dioxus_max,
        "multiview_views": cfg.multiview_views,
        "views_per_socket": cfg.views_per_socket,
        "fanout_sessions": cfg.fanout,
        "fanout_rounds": cfg.fanout_rounds,
        "components": cfg.parity.as_ref().map(|_| cfg.components),
        "stream_views": cfg.parity.as_ref().map(|_| cfg.stream_views),
        "stream_items_per_view": cfg.parity.as_ref().map(|_| cfg.stream_items),
        "stream_batch": cfg.parity.as_ref().map(|_| cfg.stream_batch),
    })
}

/// Writes a scenario's results: `out` (pretty JSON) and the table beside it (`.md`).
pub(crate) fn write_results(out: &std::path::Path, doc: &Value, table: &str, log: fn(&str)) {
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match serde_json::to_string_pretty(doc) {
        Ok(text) => {
            if let Err(e) = std::fs::write(out, text) {
                log(&format!("writing {}: {e}", out.display()));
            }
        }
        Err(e) => log(&format!("serializing results: {e}")),
    }
    let md = out.with_extension("md");
    if let Err(e) = std::fs::write(&md, table) {
        log(&format!("writing {}: {e}", md.display()));
    }
    log(&format!("wrote {} and {}", out.display(), md.display()));
}
