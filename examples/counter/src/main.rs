//! Run with `npm ci && cargo run -p counter`, then open <http://127.0.0.1:4001> (`PORT` picks
//! another port).

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
    // The counter keeps no data across restarts, so a random secret per process is fine.
    let app = counter::app(Keyring::random(), Some(Duration::from_secs(1)));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("counter listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
