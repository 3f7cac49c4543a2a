//! The counter in a real headless Chromium running the official LiveView client.
//!
//! Acceptance: the page renders before JavaScript (dead render); once connected, clicks, typing,
//! the list and the server tick update the page; and after every action the DOM inside the live
//! container is exactly the server's fresh render of the same state (see `common`), with no
//! JavaScript error or warning on the page, and no error, warning or failed request reported by
//! the browser (`check_clean_console`).

mod common;

use std::time::{Duration, Instant};

use common::{WAIT, assert_same_dom, canonical_html, dead_get, live_snapshot, main_container};
use counter::Counter;
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use livefire::token::Keyring;
use livefire::{LiveView, Socket};
use livefire_e2e::{
    Browser, check_clean_console, check_no_js_errors, click, record_js_errors, serve, sync_lv,
    wait_until_js,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The server's render of `view`, as the dead render and every diff are made from.
fn fresh_render(view: &Counter) -> String {
    view.render(&Socket::disconnected()).to_html()
}

#[tokio::test]
async fn dead_render_has_the_counter_before_any_javascript() {
    let app = counter::app(Keyring::random(), Some(Duration::from_millis(200)));
    let (status, content_type, page) = dead_get(app, "/").await;

    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.contains("<title>Counter</title>"), "{page}");
    assert!(
        page.contains("<meta name=\"csrf-token\" content=\""),
        "{page}"
    );
    assert!(
        page.contains("<script defer src=\"/assets/phoenix_live_view.min.js\"></script>"),
        "{page}"
    );

    let (open_tag, inner) = main_container(&page);
    assert!(open_tag.starts_with("<div id=\"phx-"), "{open_tag}");
    assert!(open_tag.contains(" data-phx-session=\""), "{open_tag}");
    assert!(open_tag.contains(" data-phx-static=\""), "{open_tag}");

    // The counter markup is there, in its initial state, inside the container...
    for needle in [
        "<span id=\"count\">0</span>",
        "<button id=\"dec\" phx-click=\"dec\">-</button>",
        "<button id=\"inc\" phx-click=\"inc\">+</button>",
        "<input id=\"text\" name=\"text\" type=\"text\" autocomplete=\"off\" value=\"\">",
        "<span id=\"echo\"></span>",
        "<ul id=\"items\"></ul>",
        "<span id=\"ticks\">0</span>",
    ] {
        assert!(inner.contains(needle), "{needle} missing from {inner}");
    }
    // ... and it is exactly the view's render (ticks are only sent once connected).
    assert_eq!(inner, fresh_render(&Counter::default()));
}

/// Compares the live container with the server's fresh render of `model`, whose `ticks` is
/// taken from the page in the same script that reads the DOM. Also checks that the input shows
/// `model.text` (its live `value` property; the canonical DOM has the `value` attribute).
/// Returns the ticks seen.
async fn assert_dom_is_render_of(client: &Client, model: &Counter, context: &str) -> u64 {
    let (live, state) = live_snapshot(
        client,
        "return {ticks: document.getElementById('ticks').textContent, \
                 value: document.getElementById('text').value};",
    )
    .await;
    let ticks: u64 = state["ticks"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{context}: #ticks is not a number: {state}"));
    assert_eq!(
        state["value"].as_str(),
        Some(model.text.as_str()),
        "{context}: the input's live value"
    );
    let expected = Counter {
        ticks,
        ..model.clone()
    };
    let expected = canonical_html(client, &fresh_render(&expected)).await;
    assert_same_dom(&live, &expected, context);
    ticks
}

/// Waits for `condition`, then for the view to be idle, then checks the whole container.
async fn settle(client: &Client, condition: &str, model: &Counter, context: &str) -> u64 {
    if let Err(err) = wait_until_js(client, condition, WAIT).await {
        panic!("{context}: {err}");
    }
    if let Err(err) = sync_lv(client).await {
        panic!("{context}: {err}");
    }
    assert_dom_is_render_of(client, model, context).await
}

/// A JavaScript condition: the text of `#id` equals `text`.
fn text_is(id: &str, text: &str) -> String {
    format!(
        "document.getElementById({}).textContent === {}",
        serde_json::json!(id),
        serde_json::json!(text)
    )
}

/// A JavaScript condition: `ul#items` holds exactly `items`.
fn items_are(items: &[String]) -> String {
    format!(
        "JSON.stringify(Array.from(document.querySelectorAll('#items > li'), \
         function (li) {{ return li.textContent; }})) === {}",
        serde_json::json!(serde_json::to_string(items).expect("json"))
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

/// Panics unless the browser reported no error, warning or failed request since the last
/// check (every page loaded since then included).
async fn assert_clean_console(client: &Client, context: &str) {
    if let Err(err) = check_clean_console(client).await {
        panic!("{context}: {err}");
    }
}

#[tokio::test]
async fn clicks_typing_and_list_update_the_page_like_a_fresh_render() -> TestResult {
    let started = Instant::now();
    // No timer: the page must change only through the user's actions.
    let base = serve(counter::app(Keyring::random(), None)).await?;
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;

    client.goto(&format!("{base}/")).await?;
    sync_lv(client).await?;
    assert_clean_console(client, "after connect").await;
    let mut model = Counter::default();
    assert_eq!(
        assert_dom_is_render_of(client, &model, "after connect").await,
        0
    );

    // Buttons.
    click(client, "#inc").await?;
    model.count = 1;
    settle(client, &text_is("count", "1"), &model, "after one #inc").await;

    for _ in 0..3 {
        click(client, "#inc").await?;
    }
    model.count = 4;
    settle(
        client,
        &text_is("count", "4"),
        &model,
        "after three quick #inc",
    )
    .await;

    for _ in 0..6 {
        click(client, "#dec").await?;
    }
    model.count = -2;
    settle(client, &text_is("count", "-2"), &model, "after six #dec").await;

    // Typing: one phx-change per key, the echo follows.
    let input = client.find(Locator::Css("#text")).await?;
    input.send_keys("hello world").await?;
    model.text = "hello world".to_owned();
    settle(
        client,
        &text_is("echo", "hello world"),
        &model,
        "after typing",
    )
    .await;

    let backspaces: String = std::iter::repeat_n(char::from(Key::Backspace), 6).collect();
    input.send_keys(&backspaces).await?;
    model.text = "hello".to_owned();
    settle(
        client,
        &text_is("echo", "hello"),
        &model,
        "after backspaces",
    )
    .await;

    // Markup-significant characters are escaped in the value attribute and the echo alike.
    input.send_keys(" <b>&\"x'</b>").await?;
    model.text = "hello <b>&\"x'</b>".to_owned();
    settle(
        client,
        &text_is("echo", &model.text),
        &model,
        "after typing markup",
    )
    .await;
    assert_eq!(
        client
            .execute(
                "return document.querySelectorAll('#echo *').length;",
                vec![]
            )
            .await?,
        serde_json::json!(0),
        "typed markup must stay text"
    );

    // The list: a comprehension that grows and shrinks.
    for n in 1..=3 {
        click(client, "#add").await?;
        model.items.push(format!("Item {n}"));
        settle(
            client,
            &items_are(&model.items),
            &model,
            &format!("after #add number {n}"),
        )
        .await;
    }
    click(client, "#remove").await?;
    model.items.pop();
    settle(
        client,
        &items_are(&model.items),
        &model,
        "after one #remove",
    )
    .await;

    click(client, "#remove").await?;
    click(client, "#remove").await?;
    model.items.clear();
    settle(
        client,
        &items_are(&model.items),
        &model,
        "after emptying the list",
    )
    .await;

    // Removing from an empty list changes nothing.
    click(client, "#remove").await?;
    settle(
        client,
        &items_are(&model.items),
        &model,
        "after #remove on empty",
    )
    .await;

    click(client, "#add").await?;
    model.items.push("Item 1".to_owned());
    settle(
        client,
        &items_are(&model.items),
        &model,
        "after #add on empty",
    )
    .await;

    // Everything at once, then a check that no tick ever arrived.
    click(client, "#inc").await?;
    click(client, "#add").await?;
    input.send_keys("!").await?;
    model.count = -1;
    model.items.push("Item 2".to_owned());
    model.text.push('!');
    let ticks = settle(
        client,
        &format!(
            "{} && {} && {}",
            text_is("count", "-1"),
            items_are(&model.items),
            text_is("echo", &model.text)
        ),
        &model,
        "after mixed actions",
    )
    .await;
    assert_eq!(ticks, 0, "no timer was configured");

    assert_no_js_errors(client, "interactions").await;
    browser.close().await?;
    eprintln!("interactions scenario: {:?}", started.elapsed());
    Ok(())
}

#[tokio::test]
async fn server_ticks_update_the_page_without_user_action() -> TestResult {
    let started = Instant::now();
    let base = serve(counter::app(
        Keyring::random(),
        Some(Duration::from_millis(200)),
    ))
    .await?;
    let browser = Browser::start().await?;
    let client = browser.client();
    record_js_errors(client).await?;

    client.goto(&format!("{base}/")).await?;
    sync_lv(client).await?;
    assert_clean_console(client, "after connect").await;
    let mut model = Counter::default();
    let mut last = assert_dom_is_render_of(client, &model, "after connect").await;

    // No user action: the ticks arrive by themselves, and each state on the way matches.
    for round in 1..=3 {
        let want = last + 1;
        let condition = format!("Number(document.getElementById('ticks').textContent) >= {want}");
        let ticks = settle(client, &condition, &model, &format!("tick round {round}")).await;
        assert!(ticks >= want, "ticks went from {last} to {ticks}");
        last = ticks;
    }

    // User events interleaved with ticks: each diff still lands on a consistent page.
    for n in 1..=3 {
        click(client, "#inc").await?;
        click(client, "#add").await?;
        model.count = n;
        model.items.push(format!("Item {n}"));
        let ticks = settle(
            client,
            &format!(
                "{} && {}",
                text_is("count", &n.to_string()),
                items_are(&model.items)
            ),
            &model,
            &format!("events among ticks, round {n}"),
        )
        .await;
        assert!(ticks >= last, "ticks went back from {last} to {ticks}");
        last = ticks;
    }
    assert!(last >= 3, "at least three ticks arrived, saw {last}");

    assert_no_js_errors(client, "ticks").await;
    browser.close().await?;
    eprintln!("ticks scenario: {:?}", started.elapsed());
    Ok(())
}
