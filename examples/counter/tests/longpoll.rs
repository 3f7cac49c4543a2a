//! The counter with WebSockets blocked: the official client falls back to long polling
//! (`/live/longpoll`) and the page works the same (issue "nested live views, uploads,
//! long-poll": the counter running with WebSockets blocked).

use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use fantoccini::Locator;
use livefire::token::Keyring;
use livefire_e2e::{Browser, browser_log, failed_requests, serve, sync_lv, wait_until_js};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A proxy that refuses WebSocket upgrades.
async fn block_websockets(req: Request, next: Next) -> Response {
    if req.uri().path() == "/live/websocket" {
        return (StatusCode::FORBIDDEN, "websockets are blocked here").into_response();
    }
    next.run(req).await
}

#[tokio::test]
async fn the_counter_works_over_long_polling_when_websockets_are_blocked() -> TestResult {
    let app = counter::app(Keyring::random(), None).layer(from_fn(block_websockets));
    let base = serve(app).await?;
    let browser = Browser::start().await?;
    let client = browser.client();
    client.goto(&base).await?;
    // The WebSocket attempt fails, the client falls back after it (at most 2.5 s) and joins.
    sync_lv(client).await?;
    let transport: String = client
        .execute(
            "return window.liveSocket.getSocket().transport.name || \
             window.liveSocket.getSocket().transport.toString()",
            vec![],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let long_poll: bool = client
        .execute(
            "return window.liveSocket.getSocket().conn instanceof window.Phoenix.LongPoll",
            vec![],
        )
        .await?
        .as_bool()
        .unwrap_or(false);
    assert!(long_poll, "not on long polling (transport {transport:?})");

    for _ in 0..3 {
        client.find(Locator::Id("inc")).await?.click().await?;
        sync_lv(client).await?;
    }
    wait_until_js(
        client,
        "document.getElementById('count').textContent === '3'",
        Duration::from_secs(5),
    )
    .await?;

    // The only problems the browser reports are the refused WebSocket.
    for entry in browser_log(client).await? {
        let serious = entry.level == "SEVERE" || entry.level == "WARNING";
        assert!(
            !serious || entry.message.contains("/live/websocket"),
            "unexpected browser log entry: {entry}"
        );
    }
    let failed = failed_requests(client).await?;
    assert!(
        failed.iter().all(|r| r.contains("/live/websocket")),
        "{failed:?}"
    );
    browser.close().await?;
    Ok(())
}
