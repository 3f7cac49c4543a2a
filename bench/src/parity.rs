//! The live component and stream scenarios (livefire only), against `bench/parity-server`:
//!
//! - [`components_run`]: a page of N stateful components; each click updates one of them (the
//!   `cid` rotates over all N). Reply size, the number of `c` entries per reply, and the
//!   sequential round trip next to the plain counter click on a fresh `bench-counter-server`,
//!   measured alternately, one click each (so both see the same machine load).
//! - [`stream_run`]: V views each insert `items` stream items in batches (one `insert` event
//!   per batch); server RSS before, after the inserts and after a reset of every stream.

use std::io;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::client::{self, Cmd, Flavor, Handle, Opener, Target, source_ip};
use crate::server::{Server, Spec};
use crate::stats::Latency;
use crate::{Cfg, Contender, Ports, log, open_many, work_dir};

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

fn target(port: u16, page_path: &str) -> Arc<Target> {
    Arc::new(Target {
        flavor: Flavor::Livefire,
        port,
        page_path: page_path.to_owned(),
        dx_element: 0,
    })
}

/// A click on component `cid`'s `+` button.
fn component_click(cid: u64) -> Value {
    json!({"type": "click", "event": "inc", "value": {"value": ""}, "cid": cid})
}

/// The diff of a reply frame: how many `c` entries it has, and how many other keys.
fn diff_shape(frame: &str) -> (usize, usize) {
    let reply: Value = serde_json::from_str(frame).unwrap_or(Value::Null);
    let diff = &reply[4]["response"]["diff"];
    let entries = diff["c"].as_object().map_or(0, |c| c.len());
    let others = diff
        .as_object()
        .map_or(0, |d| d.keys().filter(|k| *k != "c").count());
    (entries, others)
}

/// The page of `cfg.components` live components; see the module docs.
pub async fn components_run(
    c: &Contender,
    parity: &Spec,
    cfg: &Cfg,
    ports: &mut Ports,
) -> io::Result<Value> {
    // The baseline: the plain counter, one session, clicked the same way.
    let counter_port = ports.next();
    let log_file = format!("{}/livefire-components-baseline.log", work_dir());
    let counter_server = Server::start(&c.spec, counter_port, &log_file)?;
    let mut opener = Opener::new(target(counter_port, "/"), source_ip(0, cfg.spread));
    let mut counter = opener.open(1, source_ip(1, cfg.spread)).await?;
    opener.close_http();

    let n = cfg.components;
    let port = ports.next();
    let mut spec = parity.clone();
    spec.env.push(("BENCH_COMPONENTS".into(), n.to_string()));
    spec.env.push(("RUST_LOG".into(), "warn".into()));
    let log_file = format!("{}/livefire-components-{n}.log", work_dir());
    let server = Server::start(&spec, port, &log_file)?;
    let rss0 = server.settled_rss_kib().await?;
    let mut opener =
        Opener::new(target(port, "/components"), source_ip(2, cfg.spread)).keep_join_reply();
    let mut session = opener.open(1, source_ip(3, cfg.spread)).await?;
    opener.close_http();
    let rss1 = server.settled_rss_kib().await?;

    let join: Value = serde_json::from_str(session.join_reply.as_deref().unwrap_or("null"))
        .map_err(|e| bad(format!("join reply: {e}")))?;
    let mut cids: Vec<u64> = join[4]["response"]["rendered"]["c"]
        .as_object()
        .map(|c| c.keys().filter_map(|k| k.parse().ok()).collect())
        .unwrap_or_default();
    cids.sort_unstable();
    if cids.len() != n {
        return Err(bad(format!(
            "the join reply has {} components, not {n}",
            cids.len()
        )));
    }
    // Each click updates another component.
    let cid = |k: usize| cids[(k * 7919) % n];

    let counter_first = counter.click(0, false).await?;
    let first = session.push(0, component_click(cids[0])).await?;
    let (first_entries, first_others) = diff_shape(&first.frame);
    for k in 0..cfg.seq_warm {
        counter.click(0, false).await?;
        session.push(0, component_click(cid(k))).await?;
    }
    // Alternating clicks, so that both see the same machine load.
    let (mut counter_ns, mut ns) = (Vec::new(), Vec::new());
    let mut one_entry = 0;
    for k in 0..cfg.seq_clicks {
        counter_ns.push(counter.click(0, false).await?.rtt.as_nanos() as u64);
        let sample = session.push(0, component_click(cid(k))).await?;
        ns.push(sample.rtt.as_nanos() as u64);
        // Every measured reply: one `c` entry and nothing else.
        if diff_shape(&sample.frame) == (1, 0) {
            one_entry += 1;
        }
    }
    let clicks = ns.len();
    let lat = Latency::from_ns(ns);
    let counter_lat = Latency::from_ns(counter_ns);
    let join_bytes = session.join_bytes;
    drop((session, counter));
    drop((server, counter_server));

    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    let out = json!({
        "components": n,
        "join_reply_bytes": join_bytes,
        "rss_before_kib": rss0,
        "rss_after_join_kib": rss1,
        "bytes_per_component": (rss1.saturating_sub(rss0) * 1024) as f64 / n as f64,
        "click_reply_bytes": first.bytes,
        "click_reply_frame": first.frame,
        "c_entries": first_entries,
        "other_diff_keys": first_others,
        "clicks": clicks,
        "replies_with_one_c_entry_only": one_entry,
        "latency": lat.to_json(),
        "counter": {
            "click_reply_bytes": counter_first.bytes,
            "latency": counter_lat.to_json(),
        },
        "p50_ratio": ratio(lat.p50_ms, counter_lat.p50_ms),
        "p99_ratio": ratio(lat.p99_ms, counter_lat.p99_ms),
    });
    log(&format!(
        "livefire: {n} components: click {} B ({first_entries} c entry; {one_entry}/{clicks} replies \
         with one c entry only), p50 {:.3} ms p99 {:.3} ms; counter p50 {:.3} ms p99 {:.3} ms",
        first.bytes, lat.p50_ms, lat.p99_ms, counter_lat.p50_ms, counter_lat.p99_ms
    ));
    Ok(out)
}

/// Sends `payload` through a running session task and waits for its reply.
async fn push(handle: &Handle, payload: Value) -> io::Result<client::Sample> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    handle
        .tx
        .send(Cmd::Push { payload, done: tx })
        .await
        .map_err(|_| bad("session task gone"))?;
    rx.recv().await.ok_or_else(|| bad("no reply"))?
}

/// `cfg.stream_views` views each insert `cfg.stream_items` items in batches of
/// `cfg.stream_batch`, one view after the other; then every stream is reset.
pub async fn stream_run(parity: &Spec, cfg: &Cfg, ports: &mut Ports) -> io::Result<Value> {
    let port = ports.next();
    let mut spec = parity.clone();
    spec.env.push(("RUST_LOG".into(), "warn".into()));
    let log_file = format!("{}/livefire-stream.log", work_dir());
    let server = Server::start(&spec, port, &log_file)?;
    let views = cfg.stream_views.max(1);
    let opened = open_many(&target(port, "/stream"), 0, views, 1, cfg).await;
    if opened.items.len() != views {
        return Err(bad(format!(
            "{} of {views} stream views opened: {:?}",
            opened.items.len(),
            opened.first_error
        )));
    }
    let rss0 = server.settled_rss_kib().await?;

    let batch = cfg.stream_batch.max(1);
    let batches = cfg.stream_items.div_ceil(batch);
    let insert =
        json!({"type": "click", "event": "insert", "value": {"n": batch.to_string(), "value": ""}});
    let mut ns = Vec::with_capacity(views * batches);
    let mut frame_bytes = Vec::with_capacity(views * batches);
    let started = tokio::time::Instant::now();
    for handle in &opened.items {
        for _ in 0..batches {
            let sample = push(handle, insert.clone()).await?;
            ns.push(sample.rtt.as_nanos() as u64);
            frame_bytes.push(sample.bytes);
        }
    }
    let insert_secs = started.elapsed().as_secs_f64();
    let rss1 = server.settled_rss_kib().await?;

    let reset = json!({"type": "click", "event": "reset", "value": {"value": ""}});
    let mut reset_bytes = 0;
    for handle in &opened.items {
        reset_bytes = push(handle, reset.clone()).await?.bytes;
    }
    let rss2 = server.settled_rss_kib().await?;
    drop(opened.items);
    drop(server);

    let per_view = |after: u64| (after as f64 - rss0 as f64) * 1024.0 / views as f64;
    frame_bytes.sort_unstable();
    let items = batches * batch;
    let lat = Latency::from_ns(ns);
    let out = json!({
        "views": views,
        "items_per_view": items,
        "batch": batch,
        "batches_per_view": batches,
        "rss_joined_kib": rss0,
        "rss_after_inserts_kib": rss1,
        "rss_after_reset_kib": rss2,
        "growth_per_view_bytes": per_view(rss1),
        "after_reset_per_view_bytes": per_view(rss2),
        "batch_reply_bytes_median": frame_bytes.get(frame_bytes.len() / 2),
        "batch_reply_bytes_max": frame_bytes.last(),
        "reset_reply_bytes": reset_bytes,
        "batch_latency": lat.to_json(),
        "items_per_sec": (items * views) as f64 / insert_secs,
    });
    log(&format!(
        "livefire: stream: {views} views x {items} items in batches of {batch}: RSS {rss0} -> {rss1} KiB \
         ({:.1} KiB/view), after reset {rss2} KiB ({:.1} KiB/view); batch p50 {:.3} ms",
        per_view(rss1) / 1024.0,
        per_view(rss2) / 1024.0,
        lat.p50_ms
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shape_of_a_reply_diff() {
        let one = r#"["4","9","lv:phx-a","phx_reply",{"status":"ok","response":{"diff":{"c":{"7":{"2":"1"}}}}}]"#;
        assert_eq!(diff_shape(one), (1, 0));
        let more = r#"["4","9","lv:phx-a","phx_reply",{"status":"ok","response":{"diff":{"0":"x","c":{"7":{},"8":{}}}}}]"#;
        assert_eq!(diff_shape(more), (2, 1));
        assert_eq!(diff_shape("not json"), (0, 0));
    }
}
