//! Run with `npm ci && cargo run -p counter`, then open <http://127.0.0.1:4001>.

use std::time::Duration;

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
    let app = counter::app(Keyring::random(), tick_every);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("counter listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
