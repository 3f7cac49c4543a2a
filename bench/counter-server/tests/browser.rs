//! The benchmark's server in a real headless Chromium running the official LiveView client:
//! numbers broadcast through pub/sub (directly, and through `POST /__bench/broadcast`) reach the
//! page, and after each step the DOM inside the live container is exactly the server's fresh
//! render of the same state, with no JavaScript error and no error, warning or failed request
//! reported by the browser.
//!
//! The broadcast scenario used to be part of `examples/counter`'s browser tests, when the
//! counter itself subscribed; the DOM helpers are the counter's (`examples/counter/tests/common`).

#[allow(dead_code)]
#[path = "../../../examples/counter/tests/common/mod.rs"]
mod common;

use axum::body::Body;
use bench_counter_server::{BROADCAST_PATH, BROADCAST_TOPIC, BenchCounter};
use common::{WAIT, assert_same_dom, canonical_html, dead_get, live_snapshot, main_container};
use counter::Counter;
use fantoccini::Client;
use http::Request;
use livefire::pubsub::PubSub;
use livefire::token::Keyring;
use livefire::{LiveView, Socket};
use livefire_e2e::{
    Browser, check_clean_console, check_no_js_errors, click, record_js_errors, serve, sync_lv,
    wait_until_js,
};
use tower::ServiceExt;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The server's render of `view`, as the dead render and every diff are made from.
fn fresh_render(view: &BenchCounter) -> String {
    view.render(&Socket::disconnected()).to_html()
}

/// Compares the live container with the server's fresh render of `model`.
async fn assert_dom_is_render_of(client: &Client, model: &BenchCounter, context: &str) {
    let (live, state) = live_snapshot(
        client,
        "return {value: document.getElementById('text').value};",
    )
    .await;
    assert_eq!(
        state["value"].as_str(),
        Some(model.counter.text.as_str()),
        "{context}: the input's live value"
    );
    let expected = canonical_html(client, &fresh_render(model)).await;
    assert_same_dom(&live, &expected, context);
}

/// Waits for `condition`, then for the view to be idle, then checks the whole container and
/// the browser's console.
async fn settle(client: &Client, condition: &str, model: &BenchCounter, context: &str) {
    if let Err(err) = wait_until_js(client, condition, WAIT).await {
        panic!("{context}: {err}");
    }
    if let Err(err) = sync_lv(client).await {
        panic!("{context}: {err}");
    }
    assert_dom_is_render_of(client, model, context).await;
    assert_clean_console(client, context).await;
}

/// A JavaScript condition: the text of `#id` equals `text`.
fn text_is(id: &str, text: &str) -> String {
    format!(
        "document.getElementById({}).textContent === {}",
        serde_json::json!(id),
        serde_json::json!(text)
    )
}

/// Panics unless the page logged no JavaScript error or warning since it loaded, and the
/// browser reported no error, warning or failed request since the last check.
async fn assert_no_js_errors(client: &Client, context: &str) {
    if let Err(err) = check_no_js_errors(client).await {
        panic!("{context}: {err}");
    }
    assert_clean_console(client, context).await;
}

/// Panics unless the browser reported no error, warning or failed request since the last check.
async fn assert_clean_console(client: &Client, context: &str) {
    if let Err(err) = check_clean_console(client).await {
        panic!("{context}: {err}");
    }
}

#[tokio::test]
async fn dead_render_is_the_counter_with_a_broadcast_line() {
    let app = bench_counter_server::app(Keyring::random(), None, Some(PubSub::local()));
    let (status, _content_type, page) = dead_get(app, "/").await;
    assert_eq!(status, 200);
    assert!(page.contains("<title>Counter</title>"), "{page}");
    let (_open_tag, inner) = main_container(&page);
    assert_eq!(inner, fresh_render(&BenchCounter::default()));
    let counter = Counter::default()
        .render(&Socket::disconnected())
        .to_html()
        .replace(
            "</main>",
            "<p>Last broadcast: <span id=\"broadcast\">0</span></p></main>",
        );
    assert_eq!(inner, counter);
}

#[tokio::test]
async fn broadcasts_reach_the_page_through_pubsub() -> TestResult {
    let pubsub = PubSub::local();
    let base = serve(bench_counter_server::app(
        Keyring::random(),
        None,
        Some(pubsub.clone()),
    ))
    .await?;
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;

    client.goto(&format!("{base}/")).await?;
    sync_lv(client).await?;
    assert_clean_console(client, "after connect").await;
    let mut model = BenchCounter::default();
    assert_dom_is_render_of(client, &model, "after connect").await;
    // The connected mount subscribed (the dead render did not).
    assert_eq!(pubsub.subscribers(BROADCAST_TOPIC), 1);

    for n in [7u64, 42] {
        pubsub.broadcast(BROADCAST_TOPIC, n);
        model.broadcast = n;
        settle(
            client,
            &text_is("broadcast", &n.to_string()),
            &model,
            &format!("broadcast {n}"),
        )
        .await;
    }
    // Values the view does not understand are ignored.
    pubsub.broadcast(BROADCAST_TOPIC, "not a number");
    click(client, "#inc").await?;
    model.counter.count = 1;
    settle(
        client,
        &text_is("count", "1"),
        &model,
        "after a bad broadcast",
    )
    .await;

    assert_no_js_errors(client, "broadcasts").await;
    browser.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_broadcast_route_broadcasts_the_next_number() -> TestResult {
    let pubsub = PubSub::local();
    let plain = bench_counter_server::app(Keyring::random(), None, Some(pubsub.clone()));
    // Without `with_broadcast_route` there is no such route.
    let res = plain
        .clone()
        .oneshot(Request::post(BROADCAST_PATH).body(Body::empty())?)
        .await?;
    assert!(res.status().is_client_error(), "{}", res.status());

    let app = bench_counter_server::with_broadcast_route(plain, pubsub.clone());
    let base = serve(app.clone()).await?;
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;
    client.goto(&format!("{base}/")).await?;
    sync_lv(client).await?;
    assert_clean_console(client, "after connect").await;
    let mut model = BenchCounter::default();

    for n in 1..=2u64 {
        let res = app
            .clone()
            .oneshot(Request::post(BROADCAST_PATH).body(Body::empty())?)
            .await?;
        assert_eq!(res.status(), 200);
        let body = axum::body::to_bytes(res.into_body(), 64).await?;
        assert_eq!(body, n.to_string());
        model.broadcast = n;
        settle(
            client,
            &text_is("broadcast", &n.to_string()),
            &model,
            &format!("POST {BROADCAST_PATH} number {n}"),
        )
        .await;
    }

    assert_no_js_errors(client, "broadcast route").await;
    browser.close().await?;
    Ok(())
}
