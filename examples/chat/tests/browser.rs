//! The chat in two real headless Chromiums running the official LiveView client.
//!
//! Acceptance (issue 13): two browsers in one room see each other's messages and presence; the
//! message input is empty after sending; creating a room validates live and patches there;
//! switching rooms switches the view's subscription (the old room's topic loses the view, its
//! messages stop arriving, the new room's arrive); and neither browser reports a console
//! error or a failed request.

mod common;

use std::time::Duration;

use common::{NEW_ROOM, TestResult, WAIT, join, present, send, shows, submit, type_into, wait};
use fantoccini::Locator;
use livefire::pubsub::PubSub;
use livefire::token::Keyring;
use livefire_e2e::{check_clean_console, check_no_js_errors, serve, sync_lv};
use serde_json::json;

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
    assert!(
        !page.contains("old room") && !page.contains("lobby news"),
        "{page}"
    );

    for client in [a, b] {
        check_no_js_errors(client).await?;
        check_clean_console(client).await?;
    }
    ann.close().await?;
    bob.close().await?;
    Ok(())
}
