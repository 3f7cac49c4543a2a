//! `--scenario upload`: one file of `--upload-mib` MiB (default 100) sent to
//! `bench-parity-server`'s `/upload` over loopback the way the official client sends it, and
//! what it costs the server.
//!
//! Per run (a new page and socket each, on one server): dead render, WebSocket, `phx_join`;
//! a `phx-change` event announcing the file (`uploads`); the `allow_upload` preflight, whose
//! reply gives the entry's token and the chunk size; `phx_join` of `lvu:0` with the token;
//! then the chunks as Phoenix V2 binary pushes, **one in flight**: the next is sent when the
//! previous one's reply arrives, and after each reply a `progress` event is pushed on the
//! view's channel whenever the whole percentage grows (as `UploadEntry.progress` does), the
//! last one (100) waited for. Its reply must show the file consumed with all its bytes.
//!
//! Measured: MiB/s from the `lvu` join to the last chunk's reply; the server's RSS growth
//! during the upload (`VmRSS` sampled every `--sample-ms`, peak minus the value just before
//! the `lvu` join); the temporary file's size on disk after the last chunk (the upload is
//! streamed to disk), and the upload directory's listing after the consume (it must be
//! empty).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::client::{Raw, binary_push, rendered_text, source_ip};
use crate::server::{self, Server, Spec};

/// Knobs of the scenario.
#[derive(Debug, Clone)]
pub struct Cfg {
    /// How to start `bench-parity-server`.
    pub server: Spec,
    pub out: PathBuf,
    pub port_base: u16,
    /// Size of the uploaded file, in bytes.
    pub size: u64,
    /// Uploads (one after the other, a new page each); the table shows the median.
    pub runs: usize,
    /// RSS sampling period.
    pub sample_ms: u64,
}

impl Cfg {
    pub fn new(server: Spec, out: PathBuf) -> Self {
        Self {
            server,
            out,
            port_base: 4610,
            size: 100 << 20,
            runs: 7,
            sample_ms: 20,
        }
    }

    /// Small counts: a smoke test.
    pub fn quick(&mut self) {
        self.size = 16 << 20;
        self.runs = 2;
    }
}

/// The server's RSS growth during an upload must stay under this (issue 11: the file is
/// streamed to disk, not buffered); the scenario fails otherwise.
const RSS_LIMIT_KIB: u64 = 8 * 1024;

fn log(msg: &str) {
    eprintln!("[upload] {msg}");
}

fn err(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

/// Samples the server's `VmRSS` every `period` until `stop`; keeps the peak and counts the
/// samples.
fn sampler(
    pid: u32,
    period: Duration,
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    samples: Arc<AtomicU64>,
) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            if let Ok(kib) = server::rss_kib(pid) {
                peak.fetch_max(kib, Ordering::Relaxed);
                samples.fetch_add(1, Ordering::Relaxed);
            }
            std::thread::sleep(period);
        }
    });
}

/// Resets the peak resident set (`VmHWM`) of a process to its current RSS (`5` written to
/// `/proc/<pid>/clear_refs`); false where the kernel refuses.
fn reset_hwm(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// `VmHWM` (peak RSS) of a process in KiB.
fn hwm_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| err("no VmHWM"))
}

/// Regular files in `dir` with their sizes.
fn listing(dir: &Path) -> io::Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_file() {
            out.push((entry.file_name().to_string_lossy().into_owned(), meta.len()));
        }
    }
    Ok(out)
}

/// The upload ref of the `file` input in a join reply's rendered tree.
fn upload_ref(rendered: &Value) -> Option<String> {
    let text = rendered_text(rendered);
    let at = text.find("data-phx-upload-ref=\"")? + "data-phx-upload-ref=\"".len();
    let end = text[at..].find('"')? + at;
    Some(text[at..end].to_owned())
}

/// One upload on a new page; returns its figures.
async fn one(cfg: &Cfg, server: &Server, port: u16, dir: &Path, run: usize) -> io::Result<Value> {
    let name = format!("bench-{run}.bin");
    let mut raw = Raw::open(port, "/upload", source_ip(run, 16)).await?;
    let topic = raw.topic();
    raw.send(raw.join_frame("1")).await?;
    let joined = raw.reply(&topic, "1").await?;
    if joined["status"] != "ok" {
        return Err(err(format!("join refused: {joined}")));
    }
    let uref = upload_ref(&joined["response"]["rendered"])
        .ok_or_else(|| err("no data-phx-upload-ref in the join reply"))?;
    let file = json!({"ref": "0", "name": name, "size": cfg.size,
        "type": "application/octet-stream", "last_modified": 1_700_000_000_000u64,
        "relative_path": ""});

    // The change event that announces the file, then the preflight.
    let change = json!(["1", "2", topic, "event", {"type": "form", "event": "validate",
        "value": "", "meta": {"_target": "file"}, "uploads": {uref.clone(): [file.clone()]}}]);
    raw.send(change.to_string()).await?;
    let reply = raw.reply(&topic, "2").await?;
    if reply["status"] != "ok" {
        return Err(err(format!("change event refused: {reply}")));
    }
    let preflight = json!(["1", "3", topic, "allow_upload", {"ref": uref, "entries": [file]}]);
    raw.send(preflight.to_string()).await?;
    let reply = raw.reply(&topic, "3").await?;
    let resp = &reply["response"];
    let token = resp["entries"]["0"]
        .as_str()
        .ok_or_else(|| err(format!("no entry token in the preflight reply: {reply}")))?
        .to_owned();
    let chunk_size = resp["config"]["chunk_size"]
        .as_u64()
        .filter(|&c| c > 0)
        .ok_or_else(|| err(format!("no chunk_size in the preflight reply: {reply}")))?
        as usize;

    // RSS just before the upload, then sampled during it; the kernel's peak too, reset first.
    let hwm_reset = reset_hwm(server.pid);
    let before = server.rss_kib()?;
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(before));
    let samples = Arc::new(AtomicU64::new(0));
    sampler(
        server.pid,
        Duration::from_millis(cfg.sample_ms),
        stop.clone(),
        peak.clone(),
        samples.clone(),
    );

    // A chunk's content: 64 KiB of varied bytes (no compression anywhere on the way).
    let data: Vec<u8> = (0..chunk_size)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_right(13) as u8)
        .collect();
    let lvu = "lvu:0";
    let t0 = Instant::now();
    raw.send(json!(["10", "10", lvu, "phx_join", {"token": token}]).to_string())
        .await?;
    let reply = raw.reply(lvu, "10").await?;
    if reply["status"] != "ok" {
        stop.store(true, Ordering::Relaxed);
        return Err(err(format!("lvu join refused: {reply}")));
    }
    let mut offset = 0u64;
    let mut chunks = 0u64;
    let mut msg = 100u64;
    let mut last_progress = -1i64;
    let mut progress_refs = 0u64;
    let mut last_progress_ref = String::new();
    while offset < cfg.size {
        let len = (cfg.size - offset).min(chunk_size as u64) as usize;
        msg += 1;
        let chunk_ref = msg.to_string();
        raw.send_binary(binary_push("10", &chunk_ref, lvu, "chunk", &data[..len])?)
            .await?;
        let reply = raw.reply(lvu, &chunk_ref).await?;
        if reply["status"] != "ok" {
            stop.store(true, Ordering::Relaxed);
            return Err(err(format!("chunk at {offset} refused: {reply}")));
        }
        offset += len as u64;
        chunks += 1;
        // The client's progress: floor(percent), pushed when it grows; not waited for.
        let progress = (offset as f64 / cfg.size as f64 * 100.0).floor() as i64;
        if progress > last_progress {
            last_progress = progress;
            if progress >= 100 {
                break;
            }
            msg += 1;
            let r = msg.to_string();
            raw.send(
                json!(["1", r, topic, "progress",
                    {"event": null, "ref": uref, "entry_ref": "0", "progress": progress}])
                .to_string(),
            )
            .await?;
            progress_refs += 1;
        }
    }
    let upload_time = t0.elapsed();
    // The whole file is in the server's temporary file before the client says 100 %.
    let on_disk = listing(dir)?;
    msg += 1;
    last_progress_ref.push_str(&msg.to_string());
    raw.send(
        json!(["1", last_progress_ref, topic, "progress",
            {"event": null, "ref": uref, "entry_ref": "0", "progress": 100}])
        .to_string(),
    )
    .await?;
    progress_refs += 1;
    let done = raw.reply(&topic, &last_progress_ref).await?;
    let total_time = t0.elapsed();
    stop.store(true, Ordering::Relaxed);
    // One more read after the consume (the sampler may have missed the last moments).
    let after = server.rss_kib()?;
    let peak = peak.load(Ordering::Relaxed).max(after);
    // Between samples a peak could hide; the kernel's high-water mark cannot.
    let hwm_growth = if hwm_reset {
        Some(hwm_kib(server.pid)?.saturating_sub(before))
    } else {
        None
    };
    if done["status"] != "ok" {
        return Err(err(format!("progress 100 refused: {done}")));
    }
    let diff = done["response"]["diff"].to_string();
    let consumed = diff.contains(&format!("\"{name}\"")) && diff.contains(&format!("{}", cfg.size));
    if !consumed {
        return Err(err(format!(
            "the reply to progress 100 does not show {name} consumed with {} bytes: {diff}",
            cfg.size
        )));
    }
    if on_disk.len() != 1 || on_disk[0].1 != cfg.size {
        return Err(err(format!(
            "expected one temporary file of {} bytes in {} after the last chunk, found {on_disk:?}",
            cfg.size,
            dir.display()
        )));
    }
    let left = listing(dir)?;
    if !left.is_empty() {
        return Err(err(format!(
            "temporary files left in {} after the consume: {left:?}",
            dir.display()
        )));
    }
    drop(raw);
    let secs = upload_time.as_secs_f64();
    let mib = cfg.size as f64 / (1 << 20) as f64;
    let growth = peak.saturating_sub(before);
    log(&format!(
        "run {run}: {mib:.0} MiB in {chunks} chunks of {chunk_size} B: {secs:.2} s = {:.0} MiB/s; RSS {before} KiB before, peak {peak} KiB (+{growth} KiB; VmHWM +{})",
        mib / secs,
        hwm_growth.map_or("n/a".to_owned(), |g| format!("{g} KiB"))
    ));
    Ok(json!({
        "run": run,
        "bytes": cfg.size,
        "chunk_size": chunk_size,
        "chunks": chunks,
        "progress_events": progress_refs,
        "upload_secs": secs,
        "upload_and_consume_secs": total_time.as_secs_f64(),
        "mib_per_s": mib / secs,
        "rss_before_kib": before,
        "rss_peak_kib": peak,
        "rss_after_kib": after,
        "rss_growth_kib": growth,
        "rss_samples": samples.load(Ordering::Relaxed),
        "hwm_growth_kib": hwm_growth,
        "temp_file_bytes_after_last_chunk": on_disk[0].1,
        "temp_files_after_consume": left.len(),
    }))
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The markdown table of the scenario's results.
pub fn table(doc: &Value) -> String {
    let mut out = String::from(
        "| upload | chunk | runs | MiB/s median (min-max) | upload + consume | server RSS growth, max over runs (median) | VmHWM growth, max | temp files left |\n|---|---|---|---|---|---|---|---|\n",
    );
    if let Some(e) = doc["error"].as_str() {
        out.push_str(&format!("| failed: {e} |||||||\n"));
        return out;
    }
    let s = &doc["summary"];
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    out.push_str(&format!(
        "| {:.0} MiB | {} B | {} | **{:.0}** ({:.0}-{:.0}) | {:.2} s | **{:.1} MiB** ({:.1} MiB) | {} | {} |\n",
        f(&s["bytes"]) / (1 << 20) as f64,
        s["chunk_size"],
        s["runs"],
        f(&s["mib_per_s_median"]),
        f(&s["mib_per_s_min"]),
        f(&s["mib_per_s_max"]),
        f(&s["upload_and_consume_secs_median"]),
        f(&s["rss_growth_kib_max"]) / 1024.0,
        f(&s["rss_growth_kib_median"]) / 1024.0,
        s["hwm_growth_kib_max"]
            .as_f64()
            .map_or("n/a".to_owned(), |g| format!("{:.1} MiB", g / 1024.0)),
        s["temp_files_left"],
    ));
    out
}

/// Starts the server, runs the uploads; writes `cfg.out` (JSON) and the table beside it.
/// False if a run failed or the RSS growth reached [`RSS_LIMIT_KIB`].
pub async fn run(cfg: &Cfg, work: &str) -> bool {
    let started = SystemTime::now();
    let dir = PathBuf::from(format!("{work}/upload-tmp"));
    let _ = std::fs::remove_dir_all(&dir);
    let mut doc = crate::report::scenario_header("upload", started);
    doc.insert("upload_dir".into(), json!(dir.display().to_string()));
    let ok = match runs(cfg, &dir, work).await {
        Ok(runs) => {
            let field = |name: &str| -> Vec<f64> {
                runs.iter()
                    .map(|r| r[name].as_f64().unwrap_or(f64::NAN))
                    .collect()
            };
            let rate = field("mib_per_s");
            let growth = field("rss_growth_kib");
            let hwm: Vec<f64> = runs
                .iter()
                .filter_map(|r| r["hwm_growth_kib"].as_f64())
                .collect();
            let left: u64 = runs
                .iter()
                .map(|r| r["temp_files_after_consume"].as_u64().unwrap_or(0))
                .sum();
            doc.insert(
                "summary".into(),
                json!({
                    "bytes": cfg.size,
                    "chunk_size": runs.first().map(|r| r["chunk_size"].clone()),
                    "runs": runs.len(),
                    "mib_per_s_median": median(rate.clone()),
                    "mib_per_s_min": rate.iter().copied().fold(f64::INFINITY, f64::min),
                    "mib_per_s_max": rate.iter().copied().fold(0.0, f64::max),
                    "upload_and_consume_secs_median": median(field("upload_and_consume_secs")),
                    "rss_growth_kib_median": median(growth.clone()),
                    "rss_growth_kib_max": growth.iter().copied().fold(0.0, f64::max),
                    "hwm_growth_kib_max": hwm.iter().copied().fold(None, |m: Option<f64>, g| Some(m.map_or(g, |m| m.max(g)))),
                    "rss_growth_limit_kib": RSS_LIMIT_KIB,
                    "rss_growth_under_limit": growth.iter().chain(&hwm).all(|&g| g < RSS_LIMIT_KIB as f64),
                    "temp_files_left": left,
                }),
            );
            doc.insert("runs".into(), Value::Array(runs));
            let worst = growth.iter().chain(&hwm).copied().fold(0.0, f64::max);
            if worst >= RSS_LIMIT_KIB as f64 {
                log(&format!(
                    "check failed: RSS growth {worst:.0} KiB, the limit is {RSS_LIMIT_KIB} KiB"
                ));
                false
            } else {
                true
            }
        }
        Err(e) => {
            log(&format!("failed: {e}"));
            doc.insert("error".into(), json!(e.to_string()));
            false
        }
    };
    doc.insert("loadavg_after".into(), json!(crate::report::loadavg()));
    let _ = std::fs::remove_dir_all(&dir);
    let doc = Value::Object(doc);
    let table = table(&doc);
    println!("{table}");
    crate::write_results(&cfg.out, &doc, &table, log);
    ok
}

async fn runs(cfg: &Cfg, dir: &Path, work: &str) -> io::Result<Vec<Value>> {
    std::fs::create_dir_all(dir)?;
    let mut spec = cfg.server.clone();
    spec.env
        .push(("BENCH_UPLOAD_DIR".into(), dir.display().to_string()));
    spec.env.push(("BENCH_COMPONENTS".into(), "1".into()));
    spec.env.push(("RUST_LOG".into(), "warn".into()));
    let port = cfg.port_base;
    let log_path = format!("{work}/upload-server.log");
    log(&format!(
        "starting the server on port {port}; uploads go to {}",
        dir.display()
    ));
    let server = tokio::task::spawn_blocking(move || Server::start(&spec, port, &log_path))
        .await
        .map_err(io::Error::other)??;
    let mut out = Vec::new();
    for run in 0..cfg.runs {
        out.push(one(cfg, &server, port, dir, run).await?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_upload_ref_in_a_rendered_tree() {
        let rendered = json!({"0": "<input id=\"phx-F1\" type=\"file\" data-phx-upload-ref=\"phx-F1\" name=\"file\">"});
        assert_eq!(upload_ref(&rendered).as_deref(), Some("phx-F1"));
        assert_eq!(upload_ref(&json!({"0": "<p></p>"})), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }
}
