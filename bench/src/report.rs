//! The results document (JSON) and the side-by-side table with ratios and targets.

use std::fmt::Write as _;
use std::time::SystemTime;

use serde_json::{Map, Value, json};

/// Machine facts from `/proc`.
fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    json!({
        "nproc": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": model,
        "mem_total_gib": mem_kib as f64 / (1024.0 * 1024.0),
        "kernel": kernel.trim(),
        "loadavg_at_end": loadavg(),
    })
}

/// `YYYY-MM-DD HH:MM UTC` of a time.
fn utc(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// This machine's load averages and run-queue figures (`/proc/loadavg`), trimmed; empty if
/// unreadable.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The first fields of a scenario's results: its name, when it started (Unix seconds) and the
/// machine (cores, load average before the run).
pub fn scenario_header(scenario: &str, started: SystemTime) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("scenario".into(), json!(scenario));
    doc.insert(
        "started_unix".into(),
        json!(
            started
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        ),
    );
    doc.insert(
        "machine".into(),
        json!({
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "loadavg_before": loadavg(),
        }),
    );
    doc
}

/// The whole results document.
pub fn document(config: &Value, results: Map<String, Value>, started: SystemTime) -> Value {
    json!({
        "started": utc(started),
        "finished": utc(SystemTime::now()),
        "machine": machine(),
        "config": config,
        "results": results,
    })
}

fn mem_at(r: &Value, n: u64) -> Option<&Value> {
    r["memory"]
        .as_array()?
        .iter()
        .find(|m| m["sockets_requested"].as_u64() == Some(n) && m.get("error").is_none())
}

/// The largest successful single-view memory run.
fn mem_max(r: &Value) -> Option<&Value> {
    r["memory"]
        .as_array()?
        .iter()
        .filter(|m| m.get("error").is_none())
        .max_by_key(|m| m["sockets_ok"].as_u64().unwrap_or(0))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Better {
    Lower,
    Higher,
    None,
}

struct Row {
    label: &'static str,
    get: fn(&Value) -> Option<f64>,
    fmt: fn(f64) -> String,
    better: Better,
}

fn kib(v: f64) -> String {
    format!("{:.1} KiB", v / 1024.0)
}
fn ms(v: f64) -> String {
    format!("{v:.3} ms")
}
fn count(v: f64) -> String {
    format!("{v:.0}")
}
fn bytes(v: f64) -> String {
    format!("{v:.0} B")
}
fn per_sec(v: f64) -> String {
    format!("{v:.0}/s")
}
fn us(v: f64) -> String {
    format!("{v:.1} µs")
}
fn times(v: f64) -> String {
    format!("{v:.2}x")
}
fn percent(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            label: "RSS per idle view, 1k sessions",
            get: |r| mem_at(r, 1000)?["bytes_per_view"].as_f64(),
            fmt: kib,
            better: Better::Lower,
        },
        Row {
            label: "RSS per idle view, 10k sessions",
            get: |r| mem_at(r, 10_000)?["bytes_per_view"].as_f64(),
            fmt: kib,
            better: Better::Lower,
        },
        Row {
            label: "largest run: sessions joined",
            get: |r| mem_max(r)?["views_ok"].as_f64(),
            fmt: count,
            better: Better::None,
        },
        Row {
            label: "largest run: RSS per idle view",
            get: |r| mem_max(r)?["bytes_per_view"].as_f64(),
            fmt: kib,
            better: Better::Lower,
        },
        Row {
            label: "multiplexed: views joined (5 per socket)",
            get: |r| r["multiview"]["views_ok"].as_f64(),
            fmt: count,
            better: Better::None,
        },
        Row {
            label: "multiplexed: RSS per idle view",
            get: |r| r["multiview"]["bytes_per_view"].as_f64(),
            fmt: kib,
            better: Better::None,
        },
        Row {
            label: "connect + join rate (GET, upgrade, join; 10k run)",
            get: |r| mem_at(r, 10_000).or_else(|| mem_max(r))?["sessions_per_sec"].as_f64(),
            fmt: per_sec,
            better: Better::Higher,
        },
        Row {
            label: "click RTT p50, 1 session",
            get: |r| r["latency_1"]["p50_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "click RTT p99, 1 session",
            get: |r| r["latency_1"]["p99_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "click RTT max, 1 session",
            get: |r| r["latency_1"]["max_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "click RTT p50, 1k sessions",
            get: |r| mem_at(r, 1000)?["latency"]["p50_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "click RTT p99, 1k sessions",
            get: |r| mem_at(r, 1000)?["latency"]["p99_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "click RTT max, 1k sessions",
            get: |r| mem_at(r, 1000)?["latency"]["max_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "click RTT p50, 10k sessions",
            get: |r| mem_at(r, 10_000)?["latency"]["p50_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "click RTT p99, 10k sessions",
            get: |r| mem_at(r, 10_000)?["latency"]["p99_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "click RTT max, 10k sessions",
            get: |r| mem_at(r, 10_000)?["latency"]["max_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "click RTT p99, multiplexed views",
            get: |r| r["multiview"]["latency"]["p99_ms"].as_f64(),
            fmt: ms,
            better: Better::None,
        },
        Row {
            label: "events/s at saturation",
            get: |r| r["saturation"]["events_per_sec"].as_f64(),
            fmt: per_sec,
            better: Better::Higher,
        },
        Row {
            label: "server CPU per event at saturation",
            get: |r| r["saturation"]["server_cpu_us_per_event"].as_f64(),
            fmt: us,
            better: Better::Lower,
        },
        Row {
            label: "click RTT p50 at saturation",
            get: |r| r["saturation"]["latency"]["p50_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "click reply frame",
            get: |r| r["click_reply_bytes"].as_f64(),
            fmt: bytes,
            better: Better::Lower,
        },
        Row {
            label: "form change reply frame",
            get: |r| r["form_reply_bytes"].as_f64(),
            fmt: bytes,
            better: Better::Lower,
        },
        Row {
            label: "join reply (first render)",
            get: |r| r["join_reply_bytes"].as_f64(),
            fmt: bytes,
            better: Better::Lower,
        },
        Row {
            label: "fan-out: views subscribed to the broadcast",
            get: |r| r["fanout"]["sessions"].as_f64(),
            fmt: count,
            better: Better::None,
        },
        Row {
            label: "fan-out of one broadcast: all views delivered (median of runs)",
            get: |r| r["fanout"]["median"]["all_delivered_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "fan-out of one broadcast: arrival p50",
            get: |r| r["fanout"]["median"]["p50_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "fan-out of one broadcast: arrival p99",
            get: |r| r["fanout"]["median"]["p99_ms"].as_f64(),
            fmt: ms,
            better: Better::Lower,
        },
        Row {
            label: "fan-out: diff push frame",
            get: |r| r["fanout"]["diff_frame_bytes"].as_f64(),
            fmt: bytes,
            better: Better::None,
        },
        Row {
            label: "components: live components on the page",
            get: |r| r["components"]["components"].as_f64(),
            fmt: count,
            better: Better::None,
        },
        Row {
            label: "components: join reply (first render)",
            get: |r| r["components"]["join_reply_bytes"].as_f64(),
            fmt: bytes,
            better: Better::None,
        },
        Row {
            label: "components: RSS per component (one joined page)",
            get: |r| r["components"]["bytes_per_component"].as_f64(),
            fmt: bytes,
            better: Better::None,
        },
        Row {
            label: "components: click reply frame (one component updated)",
            get: |r| r["components"]["click_reply_bytes"].as_f64(),
            fmt: bytes,
            better: Better::None,
        },
        Row {
            label: "components: `c` entries in a click reply",
            get: |r| r["components"]["c_entries"].as_f64(),
            fmt: count,
            better: Better::None,
        },
        Row {
            label: "components: click RTT p50, 1 session",
            get: |r| r["components"]["latency"]["p50_ms"].as_f64(),
            fmt: ms,
            better: Better::None,
        },
        Row {
            label: "components: click RTT p99, 1 session",
            get: |r| r["components"]["latency"]["p99_ms"].as_f64(),
            fmt: ms,
            better: Better::None,
        },
        Row {
            label: "components: counter click RTT p50, same run",
            get: |r| r["components"]["counter"]["latency"]["p50_ms"].as_f64(),
            fmt: ms,
            better: Better::None,
        },
        Row {
            label: "components: counter click RTT p99, same run",
            get: |r| r["components"]["counter"]["latency"]["p99_ms"].as_f64(),
            fmt: ms,
            better: Better::None,
        },
        Row {
            label: "stream: views, each inserting",
            get: |r| r["stream"]["views"].as_f64(),
            fmt: count,
            better: Better::None,
        },
        Row {
            label: "stream: items inserted per view",
            get: |r| r["stream"]["items_per_view"].as_f64(),
            fmt: count,
            better: Better::None,
        },
        Row {
            label: "stream: items per insert event",
            get: |r| r["stream"]["batch"].as_f64(),
            fmt: count,
            better: Better::None,
        },
        Row {
            label: "stream: insert reply frame (median)",
            get: |r| r["stream"]["batch_reply_bytes_median"].as_f64(),
            fmt: bytes,
            better: Better::None,
        },
        Row {
            label: "stream: insert RTT p50",
            get: |r| r["stream"]["batch_latency"]["p50_ms"].as_f64(),
            fmt: ms,
            better: Better::None,
        },
        Row {
            label: "stream: insert RTT p99",
            get: |r| r["stream"]["batch_latency"]["p99_ms"].as_f64(),
            fmt: ms,
            better: Better::None,
        },
        Row {
            label: "stream: RSS growth per view after the inserts",
            get: |r| r["stream"]["growth_per_view_bytes"].as_f64(),
            fmt: kib,
            better: Better::None,
        },
        Row {
            label: "stream: RSS growth per view after a reset",
            get: |r| r["stream"]["after_reset_per_view_bytes"].as_f64(),
            fmt: kib,
            better: Better::None,
        },
    ]
}

/// The markdown table: one column per server, then livefire's advantage over each peer.
pub fn table(doc: &Value) -> String {
    let results = doc["results"].as_object().cloned().unwrap_or_default();
    // livefire first, then the peers in a fixed order.
    let rank = |n: &str| match n {
        "livefire" => 0,
        "pyview" => 1,
        "dioxus" => 2,
        _ => 3,
    };
    let mut names: Vec<&String> = results.keys().collect();
    names.sort_by_key(|n| (rank(n), n.as_str()));
    let peers: Vec<&String> = names
        .iter()
        .copied()
        .filter(|n| n.as_str() != "livefire")
        .collect();
    let lf = results.get("livefire");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Run {} .. {}; {} cores ({}), {:.1} GiB; loopback; client and servers share the machine.\n",
        doc["started"].as_str().unwrap_or(""),
        doc["finished"].as_str().unwrap_or(""),
        doc["machine"]["nproc"],
        doc["machine"]["cpu_model"].as_str().unwrap_or("?"),
        doc["machine"]["mem_total_gib"].as_f64().unwrap_or(0.0),
    );
    out.push_str("| metric |");
    for n in &names {
        let _ = write!(out, " {n} |");
    }
    if lf.is_some() {
        for p in &peers {
            let _ = write!(out, " livefire vs {p} |");
        }
    }
    out.push_str("\n|---|");
    for _ in &names {
        out.push_str("---:|");
    }
    if lf.is_some() {
        for _ in &peers {
            out.push_str("---:|");
        }
    }
    out.push('\n');
    for row in rows() {
        let values: Vec<Option<f64>> = names.iter().map(|n| (row.get)(&results[*n])).collect();
        if values.iter().all(Option::is_none) {
            continue;
        }
        let _ = write!(out, "| {} |", row.label);
        for (v, n) in values.iter().zip(&names) {
            match v {
                Some(v) => {
                    let _ = write!(out, " {} |", (row.fmt)(*v));
                }
                // A measurement the server has nothing comparable for.
                None if row.label.starts_with("fan-out")
                    && results[*n]["fanout"]["skipped"].is_string() =>
                {
                    out.push_str(" n/a |");
                }
                None => out.push_str(" - |"),
            }
        }
        if let Some(lf) = lf {
            let base = (row.get)(lf);
            for p in &peers {
                let peer = (row.get)(&results[*p]);
                let ratio = match (row.better, base, peer) {
                    (Better::Lower, Some(b), Some(p)) if b > 0.0 => Some(p / b),
                    (Better::Higher, Some(b), Some(p)) if p > 0.0 => Some(b / p),
                    _ => None,
                };
                match ratio {
                    Some(r) => {
                        let _ = write!(out, " {r:.1}x |");
                    }
                    None => out.push_str(" |"),
                }
            }
        }
        out.push('\n');
    }
    out.push_str(
        "\n`livefire vs X` = how many times better livefire is (X/livefire for sizes and times, livefire/X for rates).\n",
    );
    if let Some(lf) = lf {
        out.push('\n');
        out.push_str(&targets(lf, results.get("pyview")));
    }
    out
}

/// The targets, met or missed.
fn targets(lf: &Value, py: Option<&Value>) -> String {
    let mut out = String::from("| target | measured | met |\n|---|---:|:---:|\n");
    let mut line =
        |name: &str, value: Option<f64>, shown: fn(f64) -> String, ok: fn(f64) -> bool| {
            let (v, m) = match value {
                Some(v) => (shown(v), if ok(v) { "yes" } else { "**no**" }),
                None => ("-".to_owned(), "?"),
            };
            let _ = writeln!(out, "| {name} | {v} | {m} |");
        };
    let largest = mem_max(lf).and_then(|m| m["bytes_per_view"].as_f64());
    line(
        "<= 8 KiB per idle joined view (largest single-view run)",
        largest,
        kib,
        |v| v <= 8.0 * 1024.0,
    );
    line(
        "stretch: <= 4 KiB per idle joined view",
        largest,
        kib,
        |v| v <= 4.0 * 1024.0,
    );
    let views = [
        mem_max(lf).and_then(|m| m["views_ok"].as_f64()),
        lf["multiview"]["views_ok"].as_f64(),
    ]
    .into_iter()
    .flatten()
    .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))));
    line(">= 50,000 concurrent joined views", views, count, |v| {
        v >= 50_000.0
    });
    line(
        "click RTT p50 <= 0.1 ms, 1 session",
        lf["latency_1"]["p50_ms"].as_f64(),
        ms,
        |v| v <= 0.1,
    );
    line(
        "click RTT p99 <= 1 ms, 1 session",
        lf["latency_1"]["p99_ms"].as_f64(),
        ms,
        |v| v <= 1.0,
    );
    line(
        "click RTT p99 <= 5 ms, 10k sessions",
        mem_at(lf, 10_000).and_then(|m| m["latency"]["p99_ms"].as_f64()),
        ms,
        |v| v <= 5.0,
    );
    line(
        "RSS per idle view within 0.5 KiB of 5.5 KiB (10k sessions)",
        mem_at(lf, 10_000).and_then(|m| m["bytes_per_view"].as_f64()),
        kib,
        |v| (v - 5.5 * 1024.0).abs() <= 0.5 * 1024.0,
    );
    if lf["components"].is_object() {
        let c = &lf["components"];
        line(
            "component click: one `c` entry and nothing else, every reply",
            match (
                c["replies_with_one_c_entry_only"].as_f64(),
                c["clicks"].as_f64(),
            ) {
                (Some(one), Some(all)) if all > 0.0 => Some(one / all),
                _ => None,
            },
            percent,
            |v| v >= 1.0,
        );
        line(
            "component click RTT p50 <= 2x the counter click",
            c["p50_ratio"].as_f64(),
            times,
            |v| v <= 2.0,
        );
        line(
            "component click RTT p99 <= 2x the counter click",
            c["p99_ratio"].as_f64(),
            times,
            |v| v <= 2.0,
        );
    }
    if lf["stream"].is_object() {
        let st = &lf["stream"];
        let growth = st["growth_per_view_bytes"].as_f64();
        line(
            "stream: RSS growth per view after the inserts < 64 KiB",
            growth,
            kib,
            |v| v < 64.0 * 1024.0,
        );
        line(
            "stream: RSS per view after a reset within 4 KiB of after the inserts",
            st["after_reset_per_view_bytes"]
                .as_f64()
                .zip(growth)
                .map(|(reset, growth)| reset - growth),
            kib,
            |v| v.abs() <= 4.0 * 1024.0,
        );
    }
    line(
        "counter click reply <= 60 B",
        lf["click_reply_bytes"].as_f64(),
        bytes,
        |v| v <= 60.0,
    );
    if let Some(py) = py {
        let ratio = |get: fn(&Value) -> Option<f64>, lower: bool| -> Option<f64> {
            let (a, b) = (get(lf)?, get(py)?);
            if lower { Some(b / a) } else { Some(a / b) }
        };
        line(
            ">= 5x less memory per session than pyview (10k)",
            ratio(|r| mem_at(r, 10_000)?["bytes_per_view"].as_f64(), true),
            |v| format!("{v:.1}x"),
            |v| v >= 5.0,
        );
        line(
            ">= 5x pyview's events/s at saturation",
            ratio(|r| r["saturation"]["events_per_sec"].as_f64(), false),
            |v| format!("{v:.1}x"),
            |v| v >= 5.0,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_dates() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        assert_eq!(utc(t), "2023-11-14 22:13 UTC");
    }

    #[test]
    fn table_has_ratios_and_targets() {
        let lf = json!({
            "latency_1": {"p50_ms": 0.05, "p99_ms": 0.2, "max_ms": 1.0},
            "click_reply_bytes": 90,
            "memory": [{"sockets_requested": 10000, "sockets_ok": 10000, "views_ok": 10000, "bytes_per_view": 4096.0,
                        "latency": {"p99_ms": 1.0}}],
        });
        let py = json!({
            "latency_1": {"p50_ms": 0.5, "p99_ms": 1.0, "max_ms": 2.0},
            "click_reply_bytes": 123,
            "memory": [{"sockets_requested": 10000, "sockets_ok": 10000, "views_ok": 10000, "bytes_per_view": 40960.0}],
        });
        let mut results = Map::new();
        results.insert("livefire".into(), lf);
        results.insert("pyview".into(), py);
        let doc = document(&json!({}), results, SystemTime::now());
        let t = table(&doc);
        assert!(
            t.contains("| click RTT p50, 1 session | 0.050 ms | 0.500 ms | 10.0x |"),
            "{t}"
        );
        assert!(
            t.contains("| counter click reply <= 60 B | 90 B | **no** |"),
            "{t}"
        );
        assert!(
            t.contains("| >= 5x less memory per session than pyview (10k) | 10.0x | yes |"),
            "{t}"
        );
        assert!(!t.contains("fan-out"), "{t}");
        let mut results = Map::new();
        results.insert(
            "livefire".into(),
            json!({"fanout": {"sessions": 10000, "median": {"all_delivered_ms": 12.5}}}),
        );
        results.insert(
            "pyview".into(),
            json!({"fanout": {"skipped": "no comparable broadcast"}}),
        );
        let t = table(&document(&json!({}), results, SystemTime::now()));
        assert!(
            t.contains("| fan-out of one broadcast: all views delivered (median of runs) | 12.500 ms | n/a | |"),
            "{t}"
        );

        let mut results = Map::new();
        results.insert(
            "livefire".into(),
            json!({
                "components": {"components": 1000, "click_reply_bytes": 105, "c_entries": 1,
                    "clicks": 3000, "replies_with_one_c_entry_only": 3000,
                    "p50_ratio": 1.25, "p99_ratio": 2.5},
                "stream": {"growth_per_view_bytes": 32768.0, "after_reset_per_view_bytes": 33792.0},
            }),
        );
        let t = table(&document(&json!({}), results, SystemTime::now()));
        assert!(
            t.contains("| components: `c` entries in a click reply | 1 |"),
            "{t}"
        );
        assert!(
            t.contains(
                "| component click: one `c` entry and nothing else, every reply | 100.0% | yes |"
            ),
            "{t}"
        );
        assert!(
            t.contains("| component click RTT p99 <= 2x the counter click | 2.50x | **no** |"),
            "{t}"
        );
        assert!(
            t.contains(
                "| stream: RSS growth per view after the inserts < 64 KiB | 32.0 KiB | yes |"
            ),
            "{t}"
        );
        assert!(
            t.contains("| stream: RSS per view after a reset within 4 KiB of after the inserts | 1.0 KiB | yes |"),
            "{t}"
        );
    }
}
