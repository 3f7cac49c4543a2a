//! Run with `npm ci && cargo run -p todo`, then open <http://127.0.0.1:4002> (`PORT` picks
//! another port).

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
        .unwrap_or(4002);
    // The todos live in memory only, so a random secret per process is fine.
    let app = todo::app(Keyring::random(), todo::Store::default());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("todo listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
