//! Helpers shared by the chat's browser tests: conditions polled in the page, typing into
//! inputs, joining with a nickname, sending a message.

#![allow(dead_code)] // each test binary uses a subset

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use livefire_e2e::{
    Browser, check_clean_console, check_no_js_errors, record_js_errors, sync_lv, wait_until_js,
};
use serde_json::json;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub const WAIT: Duration = Duration::from_secs(10);

/// A JavaScript string literal.
pub fn js(text: &str) -> String {
    serde_json::to_string(text).expect("a string")
}

/// Condition: some element matching `selector` contains `text`.
pub fn shows(selector: &str, text: &str) -> String {
    format!(
        "Array.from(document.querySelectorAll({}), e => e.textContent).some(t => t.includes({}))",
        js(selector),
        js(text)
    )
}

/// Condition: the presence list is exactly `nicks`.
pub fn present(nicks: &[&str]) -> String {
    format!(
        "JSON.stringify(Array.from(document.querySelectorAll('#presence li'), l => l.textContent)) === {}",
        js(&json!(nicks).to_string())
    )
}

pub async fn wait(client: &Client, condition: &str) -> TestResult {
    wait_until_js(client, condition, WAIT).await?;
    Ok(())
}

/// Types `text` into the input `selector` (after emptying it).
pub async fn type_into(client: &Client, selector: &str, text: &str) -> TestResult {
    let input = client.find(Locator::Css(selector)).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

/// Types `text` into the input `selector` and presses Enter (submits its form).
pub async fn submit(client: &Client, selector: &str, text: &str) -> TestResult {
    type_into(client, selector, text).await?;
    let input = client.find(Locator::Css(selector)).await?;
    input.send_keys(&char::from(Key::Enter).to_string()).await?;
    Ok(())
}

pub const NICK: &str = "form[phx-submit=set-nick] input[name=nick]";
pub const BODY: &str = "form[phx-submit=send] input[name=body]";
pub const NEW_ROOM: &str = "form[phx-submit=create-room] input[name=name]";

/// A browser that opened `/`, chose `nick` and is back in the lobby with the message form.
pub async fn join(base: &str, nick: &str) -> Result<Browser, Box<dyn std::error::Error>> {
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;
    client.goto(&format!("{base}/")).await?;
    sync_lv(client).await?;
    wait(client, "location.pathname === '/rooms/lobby'").await?;
    wait(client, "document.title === '#lobby · livefire chat'").await?;
    submit(client, NICK, nick).await?;
    // The session write travels with a redirect: a new page, with the message form.
    wait(
        client,
        &format!("document.querySelector({}) !== null", js(BODY)),
    )
    .await?;
    sync_lv(client).await?;
    wait(client, &shows("#flash-info", &format!("Welcome, {nick}!"))).await?;
    // Both pages so far (before and after the redirect) loaded cleanly.
    check_no_js_errors(client).await?;
    check_clean_console(client).await?;
    Ok(browser)
}

/// Sends `text` and checks that it appears and that the input is empty again.
pub async fn send(client: &Client, text: &str) -> TestResult {
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
