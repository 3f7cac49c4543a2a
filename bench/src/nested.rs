//! `--scenario nested`: a page of `--children` nested live views (`bench-parity-server`'s
//! `/nested`, each child a small counter) joined the way the official client joins it, and
//! what each child costs the server.
//!
//! A page: dead render (the children's containers with their static tokens), WebSocket,
//! `phx_join` of the parent; once its reply arrives, the `phx_join` of every child at once
//! (as the client joins the children it finds after patching the parent's render: the session
//! token of the child's container in the connected render, the static token of the dead
//! render, no URL).
//!
//! - **Join time**: from the parent's `phx_join` sent to the last child's join reply, over
//!   `--pages` pages opened one after the other (each closed before the next).
//! - **Memory per child**: two fresh servers, one with `BENCH_CHILDREN=children` and one with
//!   `BENCH_CHILDREN=0` (the same parent, empty); on each, 50 warm-up pages are kept open,
//!   RSS is read (settled), `--nested-n` more pages are opened and kept open, RSS again. Per
//!   child = (growth with children - growth without) / (children × N).

use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::client::{Raw, container_attr, rendered_text, source_ip};
use crate::server::{Server, Spec};
use crate::stats::Latency;

/// Knobs of the scenario.
#[derive(Debug, Clone)]
pub struct Cfg {
    /// How to start `bench-parity-server`.
    pub server: Spec,
    pub out: PathBuf,
    pub port_base: u16,
    /// Children per page.
    pub children: usize,
    /// Pages of the join-time run.
    pub pages: usize,
    /// Pages kept open in the memory run (N).
    pub n: usize,
    /// Warm-up pages opened before the memory run's baseline.
    pub warmup: usize,
    /// Pages opened at once in the memory run.
    pub concurrency: usize,
}

impl Cfg {
    pub fn new(server: Spec, out: PathBuf) -> Self {
        Self {
            server,
            out,
            port_base: 4620,
            children: 10,
            pages: 200,
            n: 1000,
            warmup: 50,
            concurrency: 16,
        }
    }

    /// Small counts: a smoke test.
    pub fn quick(&mut self) {
        self.pages = 50;
        self.n = 200;
        self.warmup = 20;
    }
}

fn log(msg: &str) {
    eprintln!("[nested] {msg}");
}

fn err(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

/// One page: dead render, socket, parent join, then every child's join at once. Returns the
/// socket and the time from the parent's join to the last child's join reply.
async fn open_page(port: u16, children: usize, src: usize) -> io::Result<(Raw, f64)> {
    let mut raw = Raw::open(port, "/nested", source_ip(src, 16)).await?;
    let topic = raw.topic();
    let t0 = Instant::now();
    raw.send(raw.join_frame("1")).await?;
    let reply = raw.reply(&topic, "1").await?;
    if reply["status"] != "ok" {
        return Err(err(format!("parent join refused: {reply}")));
    }
    let connected = rendered_text(&reply["response"]["rendered"]);
    let mut pending = Vec::with_capacity(children);
    for i in 0..children {
        let id = format!("child-{i}");
        let session = container_attr(&connected, &id, "data-phx-session").ok_or_else(|| {
            err(format!(
                "no {id} container in the parent's connected render"
            ))
        })?;
        let join_ref = (10 + i).to_string();
        raw.send(raw.child_join_frame(&join_ref, &id, &session))
            .await?;
        pending.push((format!("lv:{id}"), join_ref));
    }
    // Replies in any order.
    while !pending.is_empty() {
        let frame = raw.next_json().await?;
        if frame[3] != "phx_reply" {
            continue;
        }
        let Some(at) = pending
            .iter()
            .position(|(t, r)| frame[2] == t.as_str() && frame[1] == r.as_str())
        else {
            continue;
        };
        let (t, _) = pending.swap_remove(at);
        if frame[4]["status"] != "ok" {
            return Err(err(format!("{t} join refused: {}", frame[4])));
        }
        let shown = frame[4]["response"]["rendered"].to_string();
        if !shown.contains("Child ") {
            return Err(err(format!("{t} joined without its counter: {shown}")));
        }
    }
    Ok((raw, t0.elapsed().as_secs_f64() * 1e3))
}

/// Opens `count` pages, `concurrency` at a time, and keeps them open (their tasks). Fails if
/// any page failed to open (and closes the others).
async fn open_many(
    port: u16,
    children: usize,
    count: usize,
    concurrency: usize,
) -> io::Result<Vec<JoinHandle<()>>> {
    let opened = crate::open::open_many(count, concurrency.max(1), None, move |_, i| async move {
        open_page(port, children, i)
            .await
            .map(|(raw, _)| raw.hold())
    })
    .await;
    if opened.failed > 0 {
        for h in opened.items {
            h.abort();
        }
        return Err(err(format!(
            "{} of {count} pages failed to open; the first: {}",
            opened.failed,
            opened.first_error.unwrap_or_default()
        )));
    }
    Ok(opened.items)
}

async fn start(cfg: &Cfg, children: usize, port: u16, work: &str) -> io::Result<Server> {
    let mut spec = cfg.server.clone();
    spec.env
        .push(("BENCH_CHILDREN".into(), children.to_string()));
    spec.env.push(("BENCH_COMPONENTS".into(), "1".into()));
    spec.env.push(("RUST_LOG".into(), "warn".into()));
    let log_path = format!("{work}/nested-{children}.log");
    tokio::task::spawn_blocking(move || Server::start(&spec, port, &log_path))
        .await
        .map_err(io::Error::other)?
}

/// A fresh server with `children` per page: join times of `cfg.pages` sequential pages,
/// then the RSS growth of `cfg.n` pages kept open.
async fn level(cfg: &Cfg, children: usize, port: u16, work: &str) -> io::Result<Value> {
    let server = start(cfg, children, port, work).await?;
    log(&format!(
        "{children} children: {} pages one after the other",
        cfg.pages
    ));
    let mut join_ns = Vec::with_capacity(cfg.pages);
    for i in 0..cfg.pages {
        let (raw, ms) = open_page(port, children, i).await?;
        join_ns.push((ms * 1e6) as u64);
        drop(raw);
    }
    let join = Latency::from_ns(join_ns);
    log(&format!(
        "{children} children: join p50 {:.2} ms, p99 {:.2} ms",
        join.p50_ms, join.p99_ms
    ));

    let warm = open_many(port, children, cfg.warmup, cfg.concurrency).await?;
    let before = server.settled_rss_kib().await?;
    let t0 = Instant::now();
    let pages = open_many(port, children, cfg.n, cfg.concurrency).await?;
    let open_secs = t0.elapsed().as_secs_f64();
    let after = server.settled_rss_kib().await?;
    let growth = after.saturating_sub(before);
    log(&format!(
        "{children} children: {} pages opened in {open_secs:.1} s; RSS {before} -> {after} KiB (+{growth} KiB, {:.1} KiB per page)",
        cfg.n,
        growth as f64 / cfg.n as f64
    ));
    for h in warm.into_iter().chain(pages) {
        h.abort();
    }
    drop(server);
    Ok(json!({
        "children": children,
        "join_ms": join.to_json(),
        "pages_kept_open": cfg.n,
        "open_secs": open_secs,
        "pages_per_s": cfg.n as f64 / open_secs,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "rss_growth_kib": growth,
        "kib_per_page": growth as f64 / cfg.n as f64,
    }))
}

/// The markdown table of the scenario's results.
pub fn table(doc: &Value) -> String {
    let mut out = String::from(
        "| page | join p50 / p99 / max (parent join to last child's reply) | pages kept open | RSS growth | per page |\n|---|---|---|---|---|\n",
    );
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    for l in doc["levels"].as_array().into_iter().flatten() {
        if let Some(e) = l["error"].as_str() {
            out.push_str(&format!(
                "| {} children | failed: {e} ||||\n",
                l["children"]
            ));
            continue;
        }
        out.push_str(&format!(
            "| {} children | {:.2} / {:.2} / {:.2} ms | {} | {:.1} MiB | {:.1} KiB |\n",
            l["children"],
            f(&l["join_ms"]["p50_ms"]),
            f(&l["join_ms"]["p99_ms"]),
            f(&l["join_ms"]["max_ms"]),
            l["pages_kept_open"],
            f(&l["rss_growth_kib"]) / 1024.0,
            f(&l["kib_per_page"]),
        ));
    }
    if let Some(per_child) = doc["kib_per_child"].as_f64() {
        out.push_str(&format!(
            "\n**Memory per child: {per_child:.1} KiB** (growth with {} children minus growth without, / ({} × {} pages))\n",
            doc["children"], doc["children"], doc["pages_kept_open"]
        ));
    }
    out
}

/// Runs both servers; writes `cfg.out` (JSON) and the table beside it. False on failure.
pub async fn run(cfg: &Cfg, work: &str) -> bool {
    let started = SystemTime::now();
    let mut doc = crate::report::scenario_header("nested", started);
    doc.insert("children".into(), json!(cfg.children));
    doc.insert("pages_kept_open".into(), json!(cfg.n));
    doc.insert("warmup_pages".into(), json!(cfg.warmup));
    doc.insert("concurrency".into(), json!(cfg.concurrency));
    let mut ok = true;
    let mut levels = Vec::new();
    let mut growth = Vec::new();
    for (i, children) in [cfg.children, 0].into_iter().enumerate() {
        match level(cfg, children, cfg.port_base + i as u16, work).await {
            Ok(v) => {
                growth.push(v["rss_growth_kib"].as_f64().unwrap_or(f64::NAN));
                levels.push(v);
            }
            Err(e) => {
                log(&format!("{children} children: failed: {e}"));
                ok = false;
                levels.push(json!({"children": children, "error": e.to_string()}));
            }
        }
    }
    if ok && cfg.children > 0 {
        let per_child = (growth[0] - growth[1]) / (cfg.children * cfg.n) as f64;
        doc.insert("kib_per_child".into(), json!(per_child));
        log(&format!("memory per child: {per_child:.1} KiB"));
    }
    doc.insert("levels".into(), Value::Array(levels));
    doc.insert("loadavg_after".into(), json!(crate::report::loadavg()));
    let doc = Value::Object(doc);
    let table = table(&doc);
    println!("{table}");
    crate::write_results(&cfg.out, &doc, &table, log);
    ok
}
