//! Run with `npm ci && cargo run -p chat`, then open <http://127.0.0.1:4007>. `PORT` picks
//! another port; with `REDIS_URL` several nodes share rooms, messages and presence;
//! `PRESENCE_PERIOD_MS` sets the presence heartbeat (default 5000: a node that dies leaves the
//! others' presence lists within about four periods). A bad setting stops it with a message.

use std::{process::ExitCode, str::FromStr, time::Duration};

use livefire::{presence::DEFAULT_PERIOD, pubsub::PubSub, token::Keyring};
use tracing_subscriber::EnvFilter;

/// The setting `name`, or `default` when unset or empty.
fn setting<T: FromStr<Err: std::fmt::Display>>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v.parse().map_err(|e| format!("{name}={v:?}: {e}")),
        _ => Ok(default),
    }
}

async fn run() -> Result<(), String> {
    let port: u16 = setting("PORT", 4007)?;
    let period = Duration::from_millis(setting(
        "PRESENCE_PERIOD_MS",
        DEFAULT_PERIOD.as_millis() as u64,
    )?);
    let pubsub = match setting("REDIS_URL", String::new())? {
        url if url.is_empty() => PubSub::local(),
        url => PubSub::redis(&url)
            .await
            .map_err(|e| format!("REDIS_URL={url:?}: {e}"))?,
    };
    // Rooms and messages live in memory, and each browser talks to one node: a random secret
    // per process is fine.
    let app = chat::app(Keyring::random(), pubsub, period);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await;
    let listener = listener.map_err(|e| format!("PORT={port}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!("chat listening on http://{addr}");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("chat cannot run: {err}");
            ExitCode::FAILURE
        }
    }
}
