//! Run with `npm ci && cargo run -p chat`, then open <http://127.0.0.1:4003>. `PORT` picks
//! another port; with `REDIS_URL` several nodes share rooms, messages and presence;
//! `PRESENCE_PERIOD_MS` sets the presence heartbeat (default 5000: a node that dies leaves the
//! others' presence lists within about four periods).

use std::time::Duration;

use livefire::{presence::DEFAULT_PERIOD, pubsub::PubSub, token::Keyring};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let port: u16 = var("PORT").map_or(Ok(4003), |p| p.parse())?;
    let period = var("PRESENCE_PERIOD_MS").map_or(Ok(DEFAULT_PERIOD), |ms| {
        ms.parse().map(Duration::from_millis)
    })?;
    let pubsub = match var("REDIS_URL") {
        Some(url) => PubSub::redis(&url).await?,
        None => PubSub::local(),
    };
    // Rooms and messages live in memory, and each browser talks to one node: a random secret
    // per process is fine.
    let app = chat::app(Keyring::random(), pubsub, period);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("chat listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
