//! The component and stream server of `bench/run.sh` (see `bench/README.md`). Environment:
//!
//! - `PORT` (default 4003);
//! - `BENCH_COMPONENTS`: how many live components the page `/components` holds (default 1000).

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
        .unwrap_or(4003);
    let components: u32 = std::env::var("BENCH_COMPONENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let app = bench_parity_server::app(Keyring::random(), components);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!(
        "bench parity server listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}
