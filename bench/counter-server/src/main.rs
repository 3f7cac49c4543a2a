//! The livefire server of `bench/run.sh` (see `bench/README.md`). Environment:
//!
//! - `PORT` (default 4001);
//! - `BENCH_TICK_MS`: the counter's timer period in milliseconds (default 0: no timer, so idle
//!   views are idle);
//! - `BENCH_BROADCAST=1`: every connected view subscribes to `counter:broadcast`, and the
//!   unauthenticated `POST /__bench/broadcast` broadcasts the next number to all of them (the
//!   fan-out measurement). Loopback only.

use std::time::Duration;

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
    let tick_ms: u64 = std::env::var("BENCH_TICK_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0);
    let tick_every = (tick_ms > 0).then(|| Duration::from_millis(tick_ms));
    let keyring = Keyring::random();
    let app = if std::env::var("BENCH_BROADCAST").as_deref() == Ok("1") {
        let pubsub = PubSub::local();
        tracing::warn!("BENCH_BROADCAST=1: POST /__bench/broadcast is enabled");
        bench_counter_server::with_broadcast_route(
            bench_counter_server::app(keyring, tick_every, Some(pubsub.clone())),
            pubsub,
        )
    } else {
        bench_counter_server::app(keyring, tick_every, None)
    };
    // Loopback only: the broadcast route has no authentication.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!(
        "bench counter listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}
