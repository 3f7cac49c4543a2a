//! The component, stream, upload and nested-view server of `bench/run.sh` (see
//! `bench/README.md`). Environment:
//!
//! - `PORT` (default 4003);
//! - `BENCH_COMPONENTS`: how many live components the page `/components` holds (default 1000);
//! - `BENCH_CHILDREN`: how many nested live views the page `/nested` holds (default 10);
//! - `BENCH_UPLOAD_DIR`: where uploads' temporary files go (default: the system's temp dir);
//! - `BENCH_NODELAY=0`: leaves Nagle's algorithm on for accepted connections (axum's default;
//!   by default this server sets `TCP_NODELAY`, as `livefire::serve` does).

use axum::serve::ListenerExt as _;
use bench_parity_server::Options;
use livefire::token::Keyring;
use tracing_subscriber::EnvFilter;

fn env_num(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4003);
    let options = Options {
        components: env_num("BENCH_COMPONENTS", 1000),
        children: env_num("BENCH_CHILDREN", 10),
        upload_dir: std::env::var_os("BENCH_UPLOAD_DIR").map(Into::into),
    };
    let app = bench_parity_server::app(Keyring::random(), options);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!(
        "bench parity server listening on http://{}",
        listener.local_addr()?
    );
    // Replies go out at once (no Nagle delay behind the previous reply), as `livefire::serve`
    // does for its connections.
    let nodelay = std::env::var("BENCH_NODELAY").map_or(true, |v| v != "0");
    let listener = listener.tap_io(move |tcp| {
        if let Err(err) = tcp.set_nodelay(nodelay) {
            tracing::warn!(%err, "TCP_NODELAY");
        }
    });
    axum::serve(listener, app).await
}
