//! The chat in two real headless Chromiums running the official LiveView client.
//!
//! Acceptance (issue 13): two browsers in one room see each other's messages and presence; the
//! message input is empty after sending; creating a room validates live and patches there;
//! switching rooms switches the view's subscription (the old room's topic loses the view, its
//! messages stop arriving, the new room's arrive); and neither browser reports a console
//! error or a failed request.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use livefire::pubsub::PubSub;
use livefire::token::Keyring;
use livefire_e2e::{
    Browser, check_clean_console, check_no_js_errors, record_js_errors, serve, sync_lv,
    wait_until_js,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const WAIT: Duration = Duration::from_secs(10);

/// A JavaScript string literal.
fn js(text: &str) -> String {
    serde_json::to_string(text).expect("a string")
}

/// Condition: some element matching `selector` contains `text`.
fn shows(selector: &str, text: &str) -> String {
    format!(
        "Array.from(document.querySelectorAll({}), e => e.textContent).some(t => t.includes({}))",
        js(selector),
        js(text)
    )
}

/// Condition: the presence list is exactly `nicks`.
fn present(nicks: &[&str]) -> String {
    format!(
        "JSON.stringify(Array.from(document.querySelectorAll('#presence li'), l => l.textContent)) === {}",
        js(&json!(nicks).to_string())
    )
}

async fn wait(client: &Client, condition: &str) -> TestResult {
    wait_until_js(client, condition, WAIT).await?;
    Ok(())
}

/// Types `text` into the input `selector` (after emptying it).
async fn type_into(client: &Client, selector: &str, text: &str) -> TestResult {
    let input = client.find(Locator::Css(selector)).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

/// Types `text` into the input `selector` and presses Enter (submits its form).
async fn submit(client: &Client, selector: &str, text: &str) -> TestResult {
    type_into(client, selector, text).await?;
    let input = client.find(Locator::Css(selector)).await?;
    input.send_keys(&char::from(Key::Enter).to_string()).await?;
    Ok(())
}

const NICK: &str = "form[phx-submit=set-nick] input[name=nick]";
const BODY: &str = "form[phx-submit=send] input[name=body]";
const NEW_ROOM: &str = "form[phx-submit=create-room] input[name=name]";

/// A browser that opened `/`, chose `nick` and is back in the lobby with the message form.
async fn join(base: &str, nick: &str) -> Result<Browser, Box<dyn std::error::Error>> {
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;
    client.goto(&format!("{base}/")).await?;
    sync_lv(client).await?;
    wait(client, "location.pathname === '/rooms/lobby'").await?;
    wait(client, "document.title === '#lobby · livefire chat'").await?;
    submit(client, NICK, nick).await?;
    // The session write travels with a redirect: a new page, with the message form.
    wait(client, &format!("document.querySelector({}) !== null", js(BODY))).await?;
    sync_lv(client).await?;
    wait(client, &shows("#flash-info", &format!("Welcome, {nick}!"))).await?;
    Ok(browser)
}

/// Sends `text` and checks that it appears and that the input is empty again.
async fn send(client: &Client, text: &str) -> TestResult {
    submit(client, BODY, text).await?;
    wait(client, &shows("#messages li", text)).await?;
    wait(
        client,
        &format!("document.querySelector({}).value === ''", js(BODY)),
    )
    .await?;
    sync_lv(client).await?;
    Ok(())
}

/// Waits until `topic` has `n` subscribers (the store's own plus one per view in the room).
async fn subscribers(pubsub: &PubSub, topic: &str, n: usize) -> TestResult {
    let deadline = tokio::time::Instant::now() + WAIT;
    while pubsub.subscribers(topic) != n {
        if tokio::time::Instant::now() > deadline {
            let now = pubsub.subscribers(topic);
            return Err(format!("{topic}: {now} subscribers, expected {n}").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[tokio::test]
async fn two_browsers_chat_see_presence_and_switch_rooms() -> TestResult {
    let pubsub = PubSub::local();
    let app = chat::app(Keyring::random(), pubsub.clone(), Duration::from_secs(5));
    let base = serve(app).await?;
    let ann = join(&base, "ann").await?;
    let bob = join(&base, "bob").await?;
    let (a, b) = (ann.client(), bob.client());

    // Both in the lobby: each sees the other.
    wait(a, &present(&["ann", "bob"])).await?;
    wait(b, &present(&["ann", "bob"])).await?;
    subscribers(&pubsub, "room:lobby", 3).await?;

    // Messages both ways; the sender's input is empty afterwards.
    send(a, "hello from ann").await?;
    wait(b, &shows("#messages li", "ann: hello from ann")).await?;
    send(b, "hi ann").await?;
    wait(a, &shows("#messages li", "bob: hi ann")).await?;

    // A new room: an invalid name shows an error as it is typed and creates nothing...
    type_into(a, NEW_ROOM, "Rust!").await?;
    wait(a, &shows(".error", "lowercase letters")).await?;
    sync_lv(a).await?;
    assert!(
        !a.source().await?.contains("id=\"room-Rust!\""),
        "no room was created"
    );
    // ...a valid one patches there, with a flash and the title.
    a.execute("window.samePage = true", vec![]).await?;
    submit(a, NEW_ROOM, "rust").await?;
    wait(a, "location.pathname === '/rooms/rust'").await?;
    wait(a, "document.title === '#rust · livefire chat'").await?;
    wait(a, &shows("#flash-info", "Room #rust created.")).await?;
    wait(a, "window.samePage === true").await?;
    wait(a, &present(&["ann"])).await?;
    wait(a, "document.querySelectorAll('#messages li').length === 0").await?;
    // Bob sees the new room in his list and Ann leave the lobby.
    wait(b, &shows("#rooms a", "#rust")).await?;
    wait(b, &present(&["bob"])).await?;
    subscribers(&pubsub, "room:lobby", 2).await?;
    subscribers(&pubsub, "room:rust", 2).await?;

    // A message in the lobby reaches Bob there, not Ann.
    pubsub.broadcast("room:lobby", json!({"nick": "carol", "body": "lobby news"}));
    wait(b, &shows("#messages li", "carol: lobby news")).await?;
    sync_lv(a).await?;
    assert!(!a.source().await?.contains("lobby news"));

    // Bob follows the patch link: same page, the lobby's topic loses him, the new room's
    // messages arrive, the old room's do not.
    b.execute("window.samePage = true", vec![]).await?;
    b.find(Locator::Css("#room-rust")).await?.click().await?;
    wait(b, "location.pathname === '/rooms/rust'").await?;
    wait(b, "document.title === '#rust · livefire chat'").await?;
    wait(b, "window.samePage === true").await?;
    wait(b, &present(&["ann", "bob"])).await?;
    wait(a, &present(&["ann", "bob"])).await?;
    subscribers(&pubsub, "room:lobby", 1).await?;
    subscribers(&pubsub, "room:rust", 3).await?;
    pubsub.broadcast("room:lobby", json!({"nick": "carol", "body": "old room"}));
    send(a, "welcome to rust").await?;
    wait(b, &shows("#messages li", "ann: welcome to rust")).await?;
    sync_lv(b).await?;
    let page = b.source().await?;
    assert!(!page.contains("old room") && !page.contains("lobby news"), "{page}");

    for client in [a, b] {
        check_no_js_errors(client).await?;
        check_clean_console(client).await?;
    }
    ann.close().await?;
    bob.close().await?;
    Ok(())
}
