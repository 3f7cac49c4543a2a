//! What the demo's test binaries that run the `demo` program share: the command with a clean
//! configuration, and starting it until it listens. Each test binary uses part of it.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncBufReadExt as _;
use tokio::process::{Child, Command};

/// Every variable the demo reads its configuration from (`src/deploy.rs`, `src/main.rs`), so
/// that a variable set in the environment that runs the tests cannot change what they test.
pub const CONFIG_VARS: &[&str] = &[
    "APP_ENV",
    "PORT",
    "BIND",
    "DATA_DIR",
    "DATABASE_PATH",
    "DATABASE_URL",
    "SECURE_COOKIES",
    "SECRET_KEY_BASE",
    "SECRET_KEY_BASE_FALLBACKS",
    "REDIS_URL",
    "PUBLIC_URL",
    "TRUSTED_PROXIES",
    "PASSWORD_THREADS",
    "PASSWORD_QUEUE",
    "SESSION_IDLE_TIMEOUT",
    "SESSION_REISSUE_AFTER",
    "TOKEN_PURGE_EVERY",
    "REVALIDATE_EVERY",
];

/// A `demo` command on `data_dir` with every configuration variable cleared (development
/// defaults), run from the package directory (the client is found in the workspace's
/// `node_modules`), killed when dropped.
pub fn demo_command(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_demo"));
    for var in CONFIG_VARS {
        command.env_remove(var);
    }
    command
        .env("DATA_DIR", data_dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .kill_on_drop(true);
    command
}

/// Starts `command` and waits up to `wait` until it logs "demo listening on URL"; returns the
/// process and that URL (`http://host:port`). The log is echoed to the test's output, prefixed
/// `[demo]`, and kept drained for the process's life.
pub async fn start_demo(mut command: Command, wait: Duration) -> std::io::Result<(Child, String)> {
    let mut child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| std::io::Error::other("no stderr pipe"))?;
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    let listening = tokio::time::timeout(wait, async {
        while let Some(line) = lines.next_line().await? {
            eprintln!("[demo] {line}");
            if let Some(at) = line.find("demo listening on http://") {
                let rest = &line[at + "demo listening on ".len()..];
                let url = rest.split_whitespace().next().unwrap_or_default();
                return Ok::<_, std::io::Error>(Some(url.to_owned()));
            }
        }
        Ok(None)
    })
    .await
    .map_err(|_| std::io::Error::other("the demo did not listen in time"))??
    .ok_or_else(|| std::io::Error::other("the demo exited before listening"))?;
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("[demo] {line}");
        }
    });
    Ok((child, listening))
}
