//! Run with `npm ci && cargo run -p counter`, then open <http://127.0.0.1:4001>.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::routing::post;
use livefire::pubsub::PubSub;
use livefire::token::Keyring;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4001);
    // `COUNTER_TICK_MS` sets the server tick period in milliseconds; 0 disables it (benchmarks).
    let tick_ms: u64 = std::env::var("COUNTER_TICK_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(1000);
    let tick_every = (tick_ms > 0).then(|| Duration::from_millis(tick_ms));
    // The counter keeps no data across restarts, so a random secret per process is fine.
    let keyring = Keyring::random();
    // For the benchmark's fan-out measurement only (off by default): with
    // `COUNTER_BENCH_BROADCAST=1`, every connected view subscribes to `counter:broadcast`, and
    // an unauthenticated `POST /__bench/broadcast` broadcasts the next number (1, 2, ...) to
    // all of them and answers `200` with that number. Never set it on a reachable server.
    let app = if std::env::var("COUNTER_BENCH_BROADCAST").as_deref() == Ok("1") {
        let pubsub = PubSub::local();
        let next = Arc::new(AtomicU64::new(0));
        let broadcaster = pubsub.clone();
        let broadcast = move || {
            let n = next.fetch_add(1, Ordering::Relaxed) + 1;
            broadcaster.broadcast(counter::BROADCAST_TOPIC, n);
            async move { n.to_string() }
        };
        tracing::warn!("COUNTER_BENCH_BROADCAST=1: POST /__bench/broadcast is enabled");
        counter::app_with_pubsub(keyring, tick_every, Some(pubsub))
            .route("/__bench/broadcast", post(broadcast))
    } else {
        counter::app(keyring, tick_every)
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("counter listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
