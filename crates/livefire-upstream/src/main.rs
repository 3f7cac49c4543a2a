//! `livefire-upstream`: a livefire server implementing the routes, live sessions, layouts and
//! support views of the upstream `phoenix_live_view` e2e suite (`test/e2e/test_helper.exs`), so
//! the suite's Playwright specs run unmodified against livefire. See the crate's `README.md`.
//!
//! Listens on `127.0.0.1:4004` (override with `LIVEFIRE_UPSTREAM_ADDR`); `POST /halt` stops it.

mod assets;
mod components;
mod eval;
mod js;
mod layout;
mod plain;
mod rand;
mod views;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::serve::ListenerExt as _;
use livefire::LiveRouter;
use livefire::flash::LiveFlashLayer;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use tracing_subscriber::EnvFilter;

/// Records the request path for the root layout (`render_in_root`).
async fn record_path(mut req: Request, next: Next) -> Response {
    let path = layout::RequestPath(req.uri().path().to_owned());
    req.extensions_mut().insert(path);
    next.run(req).await
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    // `secret_key_base: String.duplicate("a", 64)`, as upstream.
    let keyring = Keyring::new([b'a'; 64]).expect("64-byte key");
    let node_modules = livefire::assets::find_node_modules();
    let live = views::routes(
        LiveRouter::new(keyring.clone())
            .layout(layout::root)
            .node_modules(&node_modules),
    )
    .build()
    .expect("valid live routes");
    let app = live
        .merge(plain::router())
        .merge(assets::router(&node_modules))
        .layer(middleware::from_fn(record_path))
        .layer(LiveFlashLayer::new(keyring.clone()))
        .layer(CookieSessionLayer::new(keyring));

    let addr = std::env::var("LIVEFIRE_UPSTREAM_ADDR").unwrap_or_else(|_| "127.0.0.1:4004".into());
    // Without TCP_NODELAY two frames written back to back (a reply, then a push) wait for the
    // client's delayed ACK (~40 ms) between them; `livefire::serve` sets it, as Phoenix's
    // server does.
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|err| panic!("cannot listen on {addr}: {err}"))
        .tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::warn!(%err, "TCP_NODELAY not set");
            }
        });
    println!("Starting e2e server on {addr}");
    axum::serve(listener, app).await.expect("server");
}
