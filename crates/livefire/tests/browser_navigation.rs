//! Live navigation in a real headless Chromium running the official LiveView client
//! (docs/protocol.md §2.2, §5.2, §7.1).
//!
//! Three small views: `/a` and `/b/{id}` share the live session `main`, `/other` is alone in the
//! live session `other`. Each scenario checks, after every step, the URL the browser shows, what
//! the server's callbacks saw (a shared log of `mount` and `handle_params`), and whether the page
//! was reloaded: a `window.__marker` set by the test survives live patches and live navigation,
//! and disappears on a full page load.
//!
//! 1. `push_patch` from an event, then browser back and forward (the client sends `live_patch`);
//! 2. a `data-phx-link="patch"` link, then back and forward;
//! 3. `push_navigate` with a flash to `/b/7`, then back (a live navigation again);
//! 4. a `data-phx-link="redirect"` link to `/b/8`, then back;
//! 5. `push_navigate` with a flash to `/other` (another live session): a full page load that
//!    keeps the flash through the `__phoenix_flash__` cookie;
//! 6. `redirect` with a flash: a full page load showing the flash exactly once.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use fantoccini::Client;
use livefire::flash::LiveFlashLayer;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{Error, Event, LiveRouter, LiveView, Mount, Params, Rendered, Result, Socket, html};
use livefire_e2e::{
    Browser, check_clean_console, check_no_js_errors, click, record_js_errors, serve, sync_lv,
};
use serde_json::{Value, json};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// How long a step may take to show its effect.
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Views

/// What the views' callbacks saw, in order, shared with the test.
#[derive(Debug, Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, entry: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
    }

    /// Everything logged since the last call.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// `"<view> mount <uri> dead|live|live-nav"`: `live-nav` is a connected mount whose join came
/// from live navigation (the client then sends `_live_referer` in the connect params).
fn log_mount<M: Send + 'static>(log: &Log, view: &str, cx: &Mount, socket: &Socket<M>) {
    let how = if !socket.connected() {
        "dead"
    } else if cx
        .connect_params()
        .and_then(|p| p.get("_live_referer"))
        .is_some_and(Value::is_string)
    {
        "live-nav"
    } else {
        "live"
    };
    log.push(format!("{view} mount {} {how}", cx.params().uri()));
}

/// The flash group every view renders (one `#flash-info` at most), then a heading.
fn layout<M: Send + 'static>(socket: &Socket<M>, heading: &str, body: Rendered) -> Rendered {
    let info = socket.get_flash("info").and_then(Value::as_str);
    html!(
        <div id="flash-group">
            @if let Some(msg) = info {
                <p id="flash-info" class="flash" phx-click="lv:clear-flash" phx-value-key="info">{msg}</p>
            }
        </div>
        <h1 id="heading">{heading}</h1>
        {body}
    )
}

/// `/a`: shows its `page` query parameter; navigates every way there is.
#[derive(Debug)]
struct PageA {
    log: Log,
    page: String,
    params_calls: u32,
}

impl LiveView for PageA {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        log_mount(&self.log, "A", cx, socket);
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        self.log.push(format!("A params {}", params.uri()));
        self.page = params.query("page").unwrap_or("1").to_owned();
        self.params_calls += 1;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "patch" => socket.push_patch("/a?page=3"),
            "navigate" => {
                socket.put_flash("info", "Welcome to B");
                socket.push_navigate("/b/7");
            }
            "navigate-other" => {
                socket.put_flash("info", "Crossed over");
                socket.push_navigate("/other");
            }
            "redirect" => {
                socket.put_flash("info", "Redirected");
                socket.redirect("/b/9");
            }
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout(
            socket,
            "Page A",
            html!(
                <p>
                    "Page " <span id="page">{self.page.as_str()}</span>
                    ", handle_params calls: " <span id="params-calls">{self.params_calls}</span>
                </p>
                <button id="patch" phx-click="patch">"Patch to page 3"</button>
                <a id="patch-link" href="/a?page=2" data-phx-link="patch" data-phx-link-state="push">"Page 2"</a>
                <button id="navigate" phx-click="navigate">"Navigate to B 7"</button>
                <a id="navigate-link" href="/b/8" data-phx-link="redirect" data-phx-link-state="push">"B 8"</a>
                <button id="navigate-other" phx-click="navigate-other">"Navigate to Other"</button>
                <button id="redirect" phx-click="redirect">"Redirect to B 9"</button>
            ),
        )
    }
}

/// `/b/{id}`: shows its path parameter.
#[derive(Debug)]
struct PageB {
    log: Log,
    id: String,
}

impl LiveView for PageB {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        log_mount(&self.log, "B", cx, socket);
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        self.log.push(format!("B params {}", params.uri()));
        self.id = params.get("id").unwrap_or_default().to_owned();
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout(
            socket,
            "Page B",
            html!(<p>"Item " <span id="item">{self.id.as_str()}</span></p>),
        )
    }
}

/// `/other`, in another live session: a button that counts, to show the page is live.
#[derive(Debug)]
struct Other {
    log: Log,
    pings: u32,
}

impl LiveView for Other {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        log_mount(&self.log, "Other", cx, socket);
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        self.log.push(format!("Other params {}", params.uri()));
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "ping" => self.pings += 1,
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout(
            socket,
            "Other",
            html!(
                <button id="ping" phx-click="ping">"Ping"</button>
                <span id="pings">{self.pings}</span>
            ),
        )
    }
}

fn app(log: &Log) -> axum::Router {
    let keyring = Keyring::random();
    let (a, b, other) = (log.clone(), log.clone(), log.clone());
    LiveRouter::new(keyring.clone())
        .live_session("main")
        .live("/a", move || PageA {
            log: a.clone(),
            page: String::new(),
            params_calls: 0,
        })
        .live("/b/{id}", move || PageB {
            log: b.clone(),
            id: String::new(),
        })
        .live_session("other")
        .live("/other", move || Other {
            log: other.clone(),
            pings: 0,
        })
        .build()
        .expect("valid live routes")
        .layer(LiveFlashLayer::new(keyring.clone()))
        .layer(CookieSessionLayer::new(keyring))
}

// ---------------------------------------------------------------------------------------------
// Browser helpers

/// Starts the app and a browser recording its JavaScript errors, on `/a`, connected.
async fn start() -> std::result::Result<(Browser, String, Log), Box<dyn std::error::Error>> {
    let log = Log::default();
    let base = serve(app(&log)).await?;
    let browser = Browser::start().await?;
    record_js_errors(browser.client()).await?;
    browser.client().goto(&format!("{base}/a")).await?;
    sync_lv(browser.client()).await?;
    assert_clean_console(browser.client(), "the first load of /a").await;
    assert_eq!(
        log.take(),
        [
            "A mount /a dead",
            "A params /a",
            "A mount /a live",
            "A params /a"
        ],
        "the first load of /a"
    );
    Ok((browser, base, log))
}

/// A JavaScript string literal.
fn js(text: &str) -> String {
    json!(text).to_string()
}

/// A JavaScript condition: the browser shows `path_and_query`.
fn at(path_and_query: &str) -> String {
    format!(
        "window.location.pathname + window.location.search === {}",
        js(path_and_query)
    )
}

/// A JavaScript condition: `#id` exists and its text is `text`.
fn text_is(id: &str, text: &str) -> String {
    format!(
        "(function () {{ var e = document.getElementById({}); \
         return e !== null && e.textContent === {}; }})()",
        js(id),
        js(text)
    )
}

/// A JavaScript condition: the page has no `#flash-info`.
const NO_FLASH: &str = "document.getElementById('flash-info') === null";

/// A JavaScript condition: the page was loaded again since [`set_marker`].
const RELOADED: &str = "window.__marker === undefined";

/// Marks the current document: the mark lives as long as the page is not reloaded.
async fn set_marker(client: &Client, mark: &str) {
    client
        .execute(&format!("window.__marker = {};", js(mark)), Vec::new())
        .await
        .expect("set the marker");
}

/// A JavaScript condition: the document is still the one marked with `mark`.
fn marked(mark: &str) -> String {
    format!("window.__marker === {}", js(mark))
}

/// What the page looks like, for failure messages.
async fn page_state(client: &Client) -> String {
    client
        .execute(
            "var m = document.querySelector('[data-phx-main]'); \
             return window.location.href + ' marker=' + window.__marker + ' main=' \
             + (m ? m.id + ' class=\"' + m.className + '\" ' + m.innerText.replace(/\\s+/g, ' ') : 'absent');",
            Vec::new(),
        )
        .await
        .map_or_else(|err| format!("(unknown: {err})"), |v| v.to_string())
}

/// Waits until every condition holds, then until the view is connected and idle, and checks
/// that the browser reported no error, warning or failed request; panics with `step` and the
/// page's state otherwise.
async fn settle(client: &Client, step: &str, conditions: &[&str]) {
    let condition = conditions.join(" && ");
    if let Err(err) = livefire_e2e::wait_until_js(client, &condition, WAIT).await {
        panic!(
            "{step}: {err}\nwanted: {condition}\npage: {}",
            page_state(client).await
        );
    }
    if let Err(err) = sync_lv(client).await {
        panic!("{step}: {err}\npage: {}", page_state(client).await);
    }
    // The conditions still hold once idle (nothing undid them).
    let holds = client
        .execute(&format!("return !!({condition});"), Vec::new())
        .await;
    assert_eq!(
        holds.ok(),
        Some(Value::Bool(true)),
        "{step}: {condition} no longer holds once idle; page: {}",
        page_state(client).await
    );
    assert_clean_console(client, step).await;
}

/// Panics unless the current page logged no JavaScript error or warning, and the browser
/// reported no error, warning or failed request since the last check.
async fn assert_no_js_errors(client: &Client, step: &str) {
    if let Err(err) = check_no_js_errors(client).await {
        panic!("{step}: {err}");
    }
    assert_clean_console(client, step).await;
}

/// Panics unless the browser reported no error, warning or failed request since the last
/// check (every page loaded since then included).
async fn assert_clean_console(client: &Client, step: &str) {
    if let Err(err) = check_clean_console(client).await {
        panic!("{step}: {err}\npage: {}", page_state(client).await);
    }
}

/// How many elements match `selector`.
async fn count(client: &Client, selector: &str) -> u64 {
    client
        .execute(
            &format!("return document.querySelectorAll({}).length;", js(selector)),
            Vec::new(),
        )
        .await
        .expect("count elements")
        .as_u64()
        .expect("a number")
}

// ---------------------------------------------------------------------------------------------
// Scenarios

#[tokio::test]
async fn push_patch_and_patch_links_change_the_url_without_reloading() -> TestResult {
    let started = Instant::now();
    let (browser, _base, log) = start().await?;
    let client = browser.client();
    set_marker(client, "patch").await;
    let kept = marked("patch");

    // 1. push_patch from an event: new URL, handle_params with the new query, same document.
    click(client, "#patch").await?;
    settle(
        client,
        "push_patch",
        &[
            &at("/a?page=3"),
            &text_is("page", "3"),
            &text_is("params-calls", "2"),
            &kept,
        ],
    )
    .await;
    assert_eq!(log.take(), ["A params /a?page=3"], "push_patch");

    // Back: the client sends live_patch for /a; the same view runs handle_params again.
    client.back().await?;
    settle(
        client,
        "back after push_patch",
        &[
            &at("/a"),
            &text_is("page", "1"),
            &text_is("params-calls", "3"),
            &kept,
        ],
    )
    .await;
    assert_eq!(log.take(), ["A params /a"], "back after push_patch");

    // Forward: page 3 again, still without a reload.
    client.forward().await?;
    settle(
        client,
        "forward after push_patch",
        &[
            &at("/a?page=3"),
            &text_is("page", "3"),
            &text_is("params-calls", "4"),
            &kept,
        ],
    )
    .await;
    assert_eq!(
        log.take(),
        ["A params /a?page=3"],
        "forward after push_patch"
    );
    assert_no_js_errors(client, "push_patch").await;

    // 2. A patch link: the same, driven by the client.
    click(client, "#patch-link").await?;
    settle(
        client,
        "patch link",
        &[
            &at("/a?page=2"),
            &text_is("page", "2"),
            &text_is("params-calls", "5"),
            &kept,
        ],
    )
    .await;
    assert_eq!(log.take(), ["A params /a?page=2"], "patch link");

    client.back().await?;
    settle(
        client,
        "back after patch link",
        &[
            &at("/a?page=3"),
            &text_is("page", "3"),
            &text_is("params-calls", "6"),
            &kept,
        ],
    )
    .await;
    assert_eq!(log.take(), ["A params /a?page=3"], "back after patch link");

    client.back().await?;
    settle(
        client,
        "second back",
        &[
            &at("/a"),
            &text_is("page", "1"),
            &text_is("params-calls", "7"),
            &kept,
        ],
    )
    .await;
    assert_eq!(log.take(), ["A params /a"], "second back");

    client.forward().await?;
    client.forward().await?;
    settle(
        client,
        "two forwards",
        &[&at("/a?page=2"), &text_is("page", "2"), &kept],
    )
    .await;
    assert_eq!(
        log.take(),
        ["A params /a?page=3", "A params /a?page=2"],
        "two forwards"
    );

    assert_no_js_errors(client, "patches").await;
    browser.close().await?;
    eprintln!("patch scenario: {:?}", started.elapsed());
    Ok(())
}

#[tokio::test]
async fn push_navigate_and_navigate_links_switch_views_without_reloading() -> TestResult {
    let started = Instant::now();
    let (browser, _base, log) = start().await?;
    let client = browser.client();
    set_marker(client, "navigate").await;
    let kept = marked("navigate");

    // 3. push_navigate with a flash: B mounts over the same socket, with the flash.
    click(client, "#navigate").await?;
    settle(
        client,
        "push_navigate",
        &[
            &at("/b/7"),
            &text_is("heading", "Page B"),
            &text_is("item", "7"),
            &text_is("flash-info", "Welcome to B"),
            &kept,
        ],
    )
    .await;
    assert_eq!(
        log.take(),
        ["B mount /b/7 live-nav", "B params /b/7"],
        "push_navigate"
    );
    assert_eq!(count(client, ".flash").await, 1, "one flash");
    assert_eq!(count(client, "[data-phx-main]").await, 1, "one main view");

    // Back: a live navigation to A again (no flash this time).
    client.back().await?;
    settle(
        client,
        "back after push_navigate",
        &[
            &at("/a"),
            &text_is("heading", "Page A"),
            &text_is("page", "1"),
            NO_FLASH,
            &kept,
        ],
    )
    .await;
    assert_eq!(
        log.take(),
        ["A mount /a live-nav", "A params /a"],
        "back after push_navigate"
    );

    // Forward: B 7 again, live; the flash was for one navigation only.
    client.forward().await?;
    settle(
        client,
        "forward after push_navigate",
        &[&at("/b/7"), &text_is("item", "7"), NO_FLASH, &kept],
    )
    .await;
    assert_eq!(
        log.take(),
        ["B mount /b/7 live-nav", "B params /b/7"],
        "forward after push_navigate"
    );
    client.back().await?;
    settle(
        client,
        "back again",
        &[&at("/a"), &text_is("heading", "Page A"), &kept],
    )
    .await;
    assert_eq!(log.take(), ["A mount /a live-nav", "A params /a"]);
    assert_no_js_errors(client, "push_navigate").await;

    // 4. A navigate link.
    click(client, "#navigate-link").await?;
    settle(
        client,
        "navigate link",
        &[
            &at("/b/8"),
            &text_is("heading", "Page B"),
            &text_is("item", "8"),
            NO_FLASH,
            &kept,
        ],
    )
    .await;
    assert_eq!(
        log.take(),
        ["B mount /b/8 live-nav", "B params /b/8"],
        "navigate link"
    );

    client.back().await?;
    settle(
        client,
        "back after navigate link",
        &[
            &at("/a"),
            &text_is("heading", "Page A"),
            &text_is("page", "1"),
            &kept,
        ],
    )
    .await;
    assert_eq!(
        log.take(),
        ["A mount /a live-nav", "A params /a"],
        "back after navigate link"
    );

    // The view still works after all that: a patch from the navigated-to A.
    click(client, "#patch").await?;
    settle(
        client,
        "patch after navigation",
        &[&at("/a?page=3"), &text_is("page", "3"), &kept],
    )
    .await;
    assert_eq!(log.take(), ["A params /a?page=3"]);

    assert_no_js_errors(client, "navigation").await;
    browser.close().await?;
    eprintln!("navigate scenario: {:?}", started.elapsed());
    Ok(())
}

#[tokio::test]
async fn navigation_across_live_sessions_and_redirects_reload_the_page_with_the_flash() -> TestResult
{
    let started = Instant::now();
    let (browser, base, log) = start().await?;
    let client = browser.client();
    set_marker(client, "before other").await;

    // 5. push_navigate into another live session: refused as unauthorized, so the client loads
    // /other as a page, with the flash in the __phoenix_flash__ cookie.
    click(client, "#navigate-other").await?;
    settle(
        client,
        "push_navigate to another live session",
        &[
            &at("/other"),
            RELOADED,
            &text_is("heading", "Other"),
            &text_is("flash-info", "Crossed over"),
        ],
    )
    .await;
    assert_eq!(
        log.take(),
        [
            "Other mount /other dead",
            "Other params /other",
            "Other mount /other live",
            "Other params /other",
        ],
        "push_navigate to another live session"
    );
    assert_eq!(count(client, ".flash").await, 1, "one flash on /other");
    set_marker(client, "other").await;
    click(client, "#ping").await?;
    settle(
        client,
        "ping on /other",
        &[&text_is("pings", "1"), &marked("other")],
    )
    .await;
    assert_no_js_errors(client, "/other").await;

    // The flash was shown: a reload does not show it again.
    client.refresh().await?;
    settle(
        client,
        "reload of /other",
        &[&at("/other"), RELOADED, &text_is("pings", "0"), NO_FLASH],
    )
    .await;
    assert_eq!(
        log.take(),
        [
            "Other mount /other dead",
            "Other params /other",
            "Other mount /other live",
            "Other params /other",
        ],
        "reload of /other"
    );

    // 6. redirect with a flash: a full page load showing it exactly once.
    client.goto(&format!("{base}/a")).await?;
    sync_lv(client).await?;
    assert_clean_console(client, "back to /a").await;
    log.take();
    set_marker(client, "before redirect").await;
    click(client, "#redirect").await?;
    settle(
        client,
        "redirect",
        &[
            &at("/b/9"),
            RELOADED,
            &text_is("item", "9"),
            &text_is("flash-info", "Redirected"),
        ],
    )
    .await;
    assert_eq!(
        log.take(),
        [
            "B mount /b/9 dead",
            "B params /b/9",
            "B mount /b/9 live",
            "B params /b/9",
        ],
        "redirect"
    );
    assert_eq!(count(client, ".flash").await, 1, "one flash after redirect");
    assert_no_js_errors(client, "redirect").await;

    client.refresh().await?;
    settle(
        client,
        "reload after redirect",
        &[&at("/b/9"), RELOADED, &text_is("item", "9"), NO_FLASH],
    )
    .await;
    assert_eq!(count(client, ".flash").await, 0, "the flash was shown once");

    assert_no_js_errors(client, "redirects").await;
    browser.close().await?;
    eprintln!("full page load scenario: {:?}", started.elapsed());
    Ok(())
}
