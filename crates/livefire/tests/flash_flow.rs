//! Flash round trips, navigation and server pushes over a real socket, plus the R8 limits
//! (docs/protocol.md §2.2-§2.3, §5, §8; docs/threat-model.md §6 B, D, E).
//!
//! A small cookie jar ([`Browser`]) plays the browser: it keeps the cookies the server sets,
//! drops the ones it deletes, and sets `__phoenix_flash__` itself the way the client JS does.

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures_util::{SinkExt, StreamExt};
use livefire::flash::LiveFlashLayer;
use livefire::session::CookieSessionLayer;
use livefire::token::{Clock, Keyring, ManualClock};
use livefire::{
    Error, Event, LiveRouter, LiveView, Mount, Params, Rendered, Result, Socket, ViewHandle, html,
};
use serde_json::{Value, json};
use support::{Page, Ws, connect, connect_with, send, send_text};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------
// Views

/// The flash group every view renders (like phx.new's `<.flash_group>`), then a heading.
fn with_flash<M: Send + 'static>(socket: &Socket<M>, heading: &str, body: Rendered) -> Rendered {
    let info = socket.get_flash("info").and_then(Value::as_str);
    let error = socket.get_flash("error").and_then(Value::as_str);
    html!(
        <div id="flash-group">
            @if let Some(msg) = info {
                <p id="flash-info" phx-click="lv:clear-flash" phx-value-key="info">{msg}</p>
            }
            @if let Some(msg) = error { <p id="flash-error">{msg}</p> }
        </div>
        <h1>{heading}</h1>
        {body}
    )
}

/// Navigates to `to` the way `kind` says (the target is user input here, as in an attack).
fn go<M: Send + 'static>(socket: &mut Socket<M>, kind: &str, to: &str) {
    match kind {
        "redirect" => socket.redirect(to),
        "navigate" => socket.push_navigate(to),
        "replace_navigate" => socket.replace_navigate(to),
        "patch" => socket.push_patch(to),
        "replace_patch" => socket.replace_patch(to),
        other => panic!("unknown navigation kind {other}"),
    }
}

/// `/` in live session `main`.
#[derive(Default)]
struct Home;

impl LiveView for Home {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "noop" => {}
            "save" => {
                socket.put_flash("info", "Saved");
            }
            "xss" => {
                socket.put_flash("info", "<script>alert(1)</script>");
            }
            "redirect-flash" => socket.put_flash("info", "Moved").redirect("/"),
            "redirect-xss" => socket
                .put_flash("info", "<script>alert(1)</script>")
                .redirect("/"),
            "navigate-flash" => socket
                .put_flash("info", "Navigated")
                .push_navigate("/items"),
            "navigate-admin" => socket.put_flash("info", "To admin").push_navigate("/admin"),
            "go" => {
                let kind = event.get("kind").unwrap_or_default().to_owned();
                let to = event.get("to").unwrap_or_default().to_owned();
                go(socket, &kind, &to);
            }
            "slow" => tokio::time::sleep(Duration::from_millis(300)).await,
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        with_flash(socket, "Home", html!(<p id="home">"home"</p>))
    }
}

/// `/guarded`: every mount (dead or connected) sends the browser home with a flash.
struct Guarded;

impl LiveView for Guarded {
    type Message = ();

    async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
        socket.put_flash("error", "Please sign in").redirect("/");
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        with_flash(socket, "Guarded", html!(<p>"secret"</p>))
    }
}

/// Messages other tasks send to [`Items`].
#[derive(Debug)]
enum ItemsMsg {
    Set(i64),
    RedirectHome,
    NavigateHome,
    Go(&'static str, &'static str),
}

/// `/items` in live session `main`: params, messages, patches, pushed events.
struct Items {
    page: String,
    value: i64,
    handles: mpsc::UnboundedSender<ViewHandle<ItemsMsg>>,
}

impl LiveView for Items {
    type Message = ItemsMsg;

    async fn mount(&mut self, _: &Mount, socket: &mut Socket<ItemsMsg>) -> Result {
        if socket.connected() {
            let _ = self.handles.send(socket.handle());
        }
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, _: &mut Socket<ItemsMsg>) -> Result {
        params
            .query("page")
            .unwrap_or("1")
            .clone_into(&mut self.page);
        Ok(())
    }

    async fn handle_info(&mut self, msg: ItemsMsg, socket: &mut Socket<ItemsMsg>) -> Result {
        match msg {
            ItemsMsg::Set(n) => self.value = n,
            ItemsMsg::RedirectHome => socket.put_flash("info", "Bye").redirect("/"),
            ItemsMsg::NavigateHome => socket.put_flash("info", "Home again").push_navigate("/"),
            ItemsMsg::Go(kind, to) => go(socket, kind, to),
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<ItemsMsg>) -> Result {
        match event.name() {
            "next" => {
                let next = self.page.parse::<u32>().unwrap_or(1) + 1;
                socket.push_patch(&format!("/items?page={next}"));
            }
            "ping" => {
                socket.push_event("highlight", json!({"id": 1}));
            }
            "save" => {
                socket.put_flash("info", "Saved");
            }
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket<ItemsMsg>) -> Rendered {
        with_flash(
            socket,
            "Items",
            html!(<p id="page">{self.page.as_str()}</p><p id="value">{self.value}</p>),
        )
    }
}

/// `/members`: the dead render works, the connected mount navigates away (by `?mode=`).
#[derive(Default)]
struct Members {
    mode: String,
}

impl LiveView for Members {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        if socket.connected() {
            match cx.params().query("mode") {
                Some("navigate") => socket.put_flash("info", "Go home").push_navigate("/"),
                Some("patch") => socket.push_patch("/members?mode=patched"),
                Some("evil") => socket.redirect("//evil.example/x"),
                _ => socket.put_flash("error", "Session expired").redirect("/"),
            }
        }
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, _: &mut Socket) -> Result {
        params
            .query("mode")
            .unwrap_or("none")
            .clone_into(&mut self.mode);
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        with_flash(
            socket,
            "Members",
            html!(<p id="mode">{self.mode.as_str()}</p>),
        )
    }
}

/// `/admin`, in another live session.
struct Admin;

impl LiveView for Admin {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        with_flash(socket, "Admin", html!(<p>"admin"</p>))
    }
}

// ---------------------------------------------------------------------------------------------
// Harness

struct Harness {
    app: Router,
    addr: SocketAddr,
    handles: mpsc::UnboundedReceiver<ViewHandle<ItemsMsg>>,
    clock: ManualClock,
}

async fn harness() -> Harness {
    let (clock, handle) = Clock::manual(SystemTime::now());
    let keyring = Keyring::new([23u8; 64]).unwrap().with_clock(clock);
    let (tx, rx) = mpsc::unbounded_channel();
    let app = LiveRouter::new(keyring.clone())
        .live_session("main")
        .live("/", || Home)
        .live("/guarded", || Guarded)
        .live("/items", move || Items {
            page: String::new(),
            value: 0,
            handles: tx.clone(),
        })
        .live("/members", Members::default)
        .live_session("admin")
        .live("/admin", || Admin)
        .build()
        .expect("valid live routes")
        .layer(LiveFlashLayer::new(keyring.clone()))
        .layer(CookieSessionLayer::new(keyring));
    let addr = support::serve(app.clone()).await;
    Harness {
        app,
        addr,
        handles: rx,
        clock: handle,
    }
}

/// One HTTP response as the browser sees it.
#[derive(Debug)]
struct Resp {
    status: StatusCode,
    location: Option<String>,
    set_cookies: Vec<String>,
    html: String,
}

/// A cookie jar: what a browser keeps between requests.
#[derive(Debug, Default, Clone)]
struct Browser {
    jar: BTreeMap<String, String>,
}

impl Browser {
    fn cookie_header(&self) -> Option<String> {
        (!self.jar.is_empty()).then(|| {
            self.jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// What the client JS does with a redirect's flash token.
    fn set_flash_cookie(&mut self, token: &str) {
        self.jar
            .insert(livefire::flash::FLASH_COOKIE.to_owned(), token.to_owned());
    }

    async fn get(&mut self, app: &Router, path: &str) -> Resp {
        let mut req = Request::get(path).header(header::HOST, "127.0.0.1");
        if let Some(cookie) = self.cookie_header() {
            req = req.header(header::COOKIE, cookie);
        }
        let res = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for set in &set_cookies {
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if set.contains("Max-Age=0") {
                self.jar.remove(name.trim());
            } else {
                self.jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        Resp {
            status,
            location,
            set_cookies,
            html: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    /// GETs a live page that must render (200) and reads its container.
    async fn page(&mut self, app: &Router, path: &str) -> Page {
        let res = self.get(app, path).await;
        assert_eq!(res.status, StatusCode::OK, "GET {path}: {}", res.html);
        let html = res.html;
        let main = &html[html[..html.find("data-phx-main").unwrap()]
            .rfind("<div")
            .unwrap()..];
        let csrf_at = html.find("name=\"csrf-token\"").expect("csrf meta tag");
        Page {
            status: res.status,
            id: attr(main, "id"),
            session: attr(main, "data-phx-session"),
            static_token: attr(main, "data-phx-static"),
            csrf: attr(&html[csrf_at..], "content"),
            cookie: self.cookie_header(),
            html,
        }
    }
}

fn attr(html: &str, name: &str) -> String {
    let needle = format!(" {name}=\"");
    let start = html.find(&needle).expect(name) + needle.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// A join payload as the client builds it: `url` on a (re)join, `redirect` after live
/// navigation (with the previous page's tokens), `flash` only after a live redirect with one.
fn join_payload(page: &Page, key: &str, path: &str, mounts: u64, flash: Option<&str>) -> Value {
    let mut payload = json!({
        "params": {"_csrf_token": page.csrf, "_mounts": mounts, "_mount_attempts": 0},
        "session": page.session,
        "static": page.static_token,
        "sticky": false
    });
    payload[key] = json!(format!("http://127.0.0.1{path}"));
    if let Some(flash) = flash {
        payload["flash"] = json!(flash);
    }
    payload
}

/// Frames until the reply to `msg_ref`; returns the frames before it and the reply.
async fn until_reply(ws: &mut Ws, msg_ref: &str) -> (Vec<Value>, Value) {
    let mut before = Vec::new();
    loop {
        let frame = support::recv(ws).await;
        if frame[3] == "phx_reply" && frame[1] == msg_ref {
            return (before, frame);
        }
        before.push(frame);
    }
}

async fn join(ws: &mut Ws, page: &Page, jr: &str, payload: Value) -> Value {
    send(ws, json!([jr, jr, page.topic(), "phx_join", payload])).await;
    until_reply(ws, jr).await.1
}

async fn join_url(ws: &mut Ws, page: &Page, jr: &str, path: &str, mounts: u64) -> Value {
    join(ws, page, jr, join_payload(page, "url", path, mounts, None)).await
}

fn event(page: &Page, jr: &str, msg_ref: &str, name: &str, value: Value) -> Value {
    json!([jr, msg_ref, page.topic(), "event", {"type": "click", "event": name, "value": value}])
}

/// Sends a click and returns the frames pushed before the reply, and the reply.
async fn click_with(
    ws: &mut Ws,
    page: &Page,
    jr: &str,
    msg_ref: &str,
    name: &str,
    value: Value,
) -> (Vec<Value>, Value) {
    send(ws, event(page, jr, msg_ref, name, value)).await;
    until_reply(ws, msg_ref).await
}

async fn click(ws: &mut Ws, page: &Page, jr: &str, msg_ref: &str, name: &str) -> Value {
    let (pushes, reply) = click_with(ws, page, jr, msg_ref, name, json!({"value": ""})).await;
    assert!(
        pushes.is_empty(),
        "unexpected pushes before the reply: {pushes:?}"
    );
    reply
}

/// The `response` of an ok reply.
fn ok(reply: &Value) -> &Value {
    assert_eq!(reply[3], "phx_reply", "{reply}");
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    &reply[4]["response"]
}

/// The `response` of an error reply.
fn err(reply: &Value) -> &Value {
    assert_eq!(reply[3], "phx_reply", "{reply}");
    assert_eq!(reply[4]["status"], "error", "{reply}");
    &reply[4]["response"]
}

/// The flash token of a redirect body; checks it is cookie-safe and opaque.
fn flash_token<'a>(nav: &'a Value, message: &str) -> &'a str {
    let token = nav["flash"].as_str().expect("a flash token");
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
        "not cookie-safe: {token}"
    );
    assert!(!token.contains(message), "the flash token is readable");
    token
}

// ---------------------------------------------------------------------------------------------
// A model of the client's rendered tree (rendered.js `mutableMerge` and `toOutputBuffer`, for
// trees without comprehensions or components).

/// The tree of a join reply, without the top-level `t`/`e`/`r` the client extracts.
fn tree_of(rendered: &Value) -> Value {
    let mut tree = rendered.clone();
    for key in ["t", "e", "r"] {
        tree.as_object_mut().unwrap().remove(key);
    }
    tree
}

fn merge(target: &mut Value, source: &Value) {
    match (target.as_object_mut(), source.as_object()) {
        (Some(tgt), Some(src)) if !src.contains_key("s") => {
            for (key, val) in src {
                if ["t", "e", "r"].contains(&key.as_str()) {
                    continue;
                }
                merge(tgt.entry(key.clone()).or_insert(Value::Null), val);
            }
        }
        _ => *target = source.clone(),
    }
}

fn to_html(node: &Value) -> String {
    match node {
        Value::String(s) => s.clone(),
        Value::Object(obj) => {
            let statics = obj["s"].as_array().expect("statics");
            let mut out = String::new();
            for (i, s) in statics.iter().enumerate() {
                out.push_str(s.as_str().unwrap());
                if i + 1 < statics.len() {
                    out.push_str(&to_html(&obj[&i.to_string()]));
                }
            }
            out
        }
        other => panic!("unexpected dynamic {other}"),
    }
}

/// The HTML a join reply renders in the container.
fn joined_html(reply: &Value) -> String {
    to_html(&tree_of(&ok(reply)["rendered"]))
}

// ---------------------------------------------------------------------------------------------
// 1. Flash from a redirect during the dead mount: dead render, connected join, exactly once.

/// docs/threat-model.md case 29 / docs/protocol.md §5.3.3 steps 3–5.
#[tokio::test]
async fn case_29_dead_mount_redirect_flash_is_shown_dead_and_live_exactly_once() {
    let h = harness().await;
    let mut browser = Browser::default();

    // The guarded route redirects during its (dead) mount; the flash waits in the session.
    let res = browser.get(&h.app, "/guarded").await;
    assert!(res.status.is_redirection(), "{:?}", res.status);
    assert_eq!(res.status.as_u16(), 302, "{:?}", res.status);
    assert_eq!(res.location.as_deref(), Some("/"));
    assert!(!res.html.contains("Please sign in"));

    // Following the redirect with the same cookie: the page shows the flash.
    let page = browser.page(&h.app, "/").await;
    let dead = page.container_inner();
    assert!(
        dead.contains("<p id=\"flash-error\">Please sign in</p>"),
        "{dead}"
    );

    // The connected mount (`_mounts` 0) gets the same flash from the static token: the join
    // renders exactly what the dead render did.
    let mut ws = connect(h.addr, &page).await;
    let reply = join_url(&mut ws, &page, "1", "/", 0).await;
    assert_eq!(joined_html(&reply), dead);

    // A rejoin after a reconnect (`_mounts` 1) has no flash.
    drop(ws);
    let mut ws = connect(h.addr, &page).await;
    let reply = join_url(&mut ws, &page, "1", "/", 1).await;
    let rejoined = joined_html(&reply);
    assert!(rejoined.contains("<h1>Home</h1>"), "{rejoined}");
    assert!(!rejoined.contains("Please sign in"), "{rejoined}");

    // A reload shows no flash: not in the page, not in its static token.
    let reloaded = browser.page(&h.app, "/").await;
    assert!(!reloaded.html.contains("Please sign in"));
    let mut ws = connect(h.addr, &reloaded).await;
    let reply = join_url(&mut ws, &reloaded, "1", "/", 0).await;
    assert!(!joined_html(&reply).contains("Please sign in"));
}

/// docs/threat-model.md case 28: flash text is escaped in the dead render and in the live diff.
#[tokio::test]
async fn case_28_flash_markup_is_escaped_dead_and_live() {
    let h = harness().await;
    let mut browser = Browser::default();
    let page = browser.page(&h.app, "/").await;
    let mut ws = connect(h.addr, &page).await;
    let reply = join_url(&mut ws, &page, "1", "/", 0).await;
    let mut tree = tree_of(&ok(&reply)["rendered"]);

    let reply = click(&mut ws, &page, "1", "2", "xss").await;
    let diff = &ok(&reply)["diff"];
    assert!(!diff.to_string().contains("<script>"), "{diff}");
    merge(&mut tree, diff);
    assert!(
        to_html(&tree).contains(">&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        "{}",
        to_html(&tree)
    );

    let reply = click(&mut ws, &page, "1", "3", "redirect-xss").await;
    let token = ok(&reply)["redirect"]["flash"].as_str().unwrap().to_owned();
    browser.set_flash_cookie(&token);
    let next = browser.page(&h.app, "/").await;
    assert!(!next.html.contains("<script>alert"), "{}", next.html);
    assert!(
        next.container_inner()
            .contains(">&lt;script&gt;alert(1)&lt;/script&gt;</p>")
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Redirect with flash from a live view: reply, cookie, next page, cookie deleted.

/// docs/protocol.md §5.3: `{"redirect":{"to","flash"}}`; the `__phoenix_flash__` cookie
/// merges into the next page's flash (next to the session's) and is deleted with `Path=/`.
#[tokio::test]
async fn redirect_flash_cookie_merges_into_the_next_page_and_is_deleted() {
    let h = harness().await;
    let mut browser = Browser::default();
    let page = browser.page(&h.app, "/").await;
    let mut ws = connect(h.addr, &page).await;
    ok(&join_url(&mut ws, &page, "1", "/", 0).await);

    let reply = click(&mut ws, &page, "1", "2", "redirect-flash").await;
    assert_eq!(reply[0], "1");
    let response = ok(&reply);
    assert_eq!(response.as_object().unwrap().len(), 1, "{response}");
    let redirect = &response["redirect"];
    assert_eq!(redirect.as_object().unwrap().len(), 2, "{redirect}");
    assert_eq!(redirect["to"], "/");
    let token = flash_token(redirect, "Moved").to_owned();

    // Meanwhile a dead-mount redirect stored another message in the session.
    let res = browser.get(&h.app, "/guarded").await;
    assert!(res.status.is_redirection());

    // The client sets the cookie from the token and loads the target.
    browser.set_flash_cookie(&token);
    let res = browser.get(&h.app, "/").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.set_cookies
            .iter()
            .any(|c| c == "__phoenix_flash__=; Path=/; Max-Age=0"),
        "the flash cookie is deleted with Path=/: {:?}",
        res.set_cookies
    );
    assert!(!browser.jar.contains_key("__phoenix_flash__"));
    assert!(
        res.html
            .contains("<p id=\"flash-error\">Please sign in</p>")
    );
    assert!(res.html.contains(">Moved</p>"), "{}", res.html);

    // Shown once: the next load has neither message.
    let again = browser.page(&h.app, "/").await;
    assert!(!again.html.contains("Please sign in"));
    assert!(!again.html.contains(">Moved<"));
}

// ---------------------------------------------------------------------------------------------
// 3. push_navigate with a flash: live_redirect reply, redirect join with the flash.

/// docs/protocol.md §2.2 steps 4–5, §5.3.4.
#[tokio::test]
async fn push_navigate_flash_rides_into_the_redirect_join_of_the_same_live_session() {
    let h = harness().await;
    let mut browser = Browser::default();
    let page = browser.page(&h.app, "/").await;
    let mut ws = connect(h.addr, &page).await;
    ok(&join_url(&mut ws, &page, "1", "/", 0).await);

    let reply = click(&mut ws, &page, "1", "2", "navigate-flash").await;
    let live_redirect = &ok(&reply)["live_redirect"];
    assert_eq!(live_redirect["to"], "/items");
    assert_eq!(live_redirect["kind"], "push");
    let token = flash_token(live_redirect, "Navigated").to_owned();

    // What the client does: leave, then join the same topic with `redirect` and `flash`,
    // still with the previous page's tokens.
    send(&mut ws, json!(["1", "3", page.topic(), "phx_leave", {}])).await;
    assert_eq!(ok(&until_reply(&mut ws, "3").await.1), &json!({}));
    let mut payload = join_payload(&page, "redirect", "/items", 0, Some(&token));
    payload["params"]["_live_referer"] = json!("http://127.0.0.1/");
    let reply = join(&mut ws, &page, "4", payload).await;
    let html = joined_html(&reply);
    assert!(html.contains("<h1>Items</h1>"), "{html}");
    assert!(html.contains(">Navigated</p>"), "{html}");
    // The new view is live under the new join ref.
    let reply = click(&mut ws, &page, "4", "5", "ping").await;
    assert_eq!(ok(&reply)["diff"]["e"], json!([["highlight", {"id": 1}]]));
}

/// docs/protocol.md §5.2 / §6.5: live navigation stops at the live session; the client falls
/// back to a page load with the same token in the cookie, which still shows the flash.
#[tokio::test]
async fn redirect_join_into_another_live_session_is_unauthorized() {
    let h = harness().await;
    let mut browser = Browser::default();
    let page = browser.page(&h.app, "/").await;
    let mut ws = connect(h.addr, &page).await;
    ok(&join_url(&mut ws, &page, "1", "/", 0).await);

    let reply = click(&mut ws, &page, "1", "2", "navigate-admin").await;
    let live_redirect = &ok(&reply)["live_redirect"];
    assert_eq!(live_redirect["to"], "/admin");
    let token = flash_token(live_redirect, "To admin").to_owned();

    send(&mut ws, json!(["1", "3", page.topic(), "phx_leave", {}])).await;
    until_reply(&mut ws, "3").await;
    let payload = join_payload(&page, "redirect", "/admin", 0, Some(&token));
    let reply = join(&mut ws, &page, "4", payload).await;
    assert_eq!(err(&reply), &json!({"reason": "unauthorized"}));
    // A `url` join for that route is refused too (the page token is for `/`).
    let reply = join_url(&mut ws, &page, "5", "/admin", 0).await;
    assert_eq!(err(&reply), &json!({"reason": "unauthorized"}));

    // The client's fallback: a full load with the token as the flash cookie.
    browser.set_flash_cookie(&token);
    let admin = browser.page(&h.app, "/admin").await;
    assert!(admin.container_inner().contains(">To admin</p>"));
    assert!(!browser.jar.contains_key("__phoenix_flash__"));
}

/// docs/protocol.md §2.2 step 5: without a `flash` param a redirect join ignores the static
/// token's flash; a flash token of another browser or older than 60 s is ignored.
#[tokio::test]
async fn redirect_join_flash_only_from_a_valid_token_of_this_browser() {
    let h = harness().await;
    let mut browser = Browser::default();
    browser.get(&h.app, "/guarded").await;
    let page = browser.page(&h.app, "/").await;
    assert!(
        page.html.contains("Please sign in"),
        "the static token has a flash"
    );
    let mut ws = connect(h.addr, &page).await;

    // Redirect join without a flash param: no flash, even though the static token has one.
    let reply = join(
        &mut ws,
        &page,
        "1",
        join_payload(&page, "redirect", "/items", 0, None),
    )
    .await;
    let html = joined_html(&reply);
    assert!(
        html.contains("<h1>Items</h1>") && !html.contains("Please sign in"),
        "{html}"
    );

    // A valid token from this browser.
    ok(&join_url(&mut ws, &page, "2", "/", 0).await);
    let reply = click(&mut ws, &page, "2", "3", "navigate-flash").await;
    let token = ok(&reply)["live_redirect"]["flash"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another browser (another session id) replaying it: the join works, the flash is dropped.
    let mut other = Browser::default();
    let other_page = other.page(&h.app, "/").await;
    let mut other_ws = connect(h.addr, &other_page).await;
    let reply = join(
        &mut other_ws,
        &other_page,
        "1",
        join_payload(&other_page, "redirect", "/items", 0, Some(&token)),
    )
    .await;
    let html = joined_html(&reply);
    assert!(
        html.contains("<h1>Items</h1>") && !html.contains("Navigated"),
        "{html}"
    );

    // docs/threat-model.md case 17 for the join param: accepted at 59 s, ignored at 61 s.
    h.clock.advance(Duration::from_secs(59));
    let payload = join_payload(&page, "redirect", "/items", 0, Some(&token));
    let reply = join(&mut ws, &page, "4", payload.clone()).await;
    assert!(joined_html(&reply).contains(">Navigated</p>"));
    h.clock.advance(Duration::from_secs(2));
    let reply = join(&mut ws, &page, "5", payload).await;
    let html = joined_html(&reply);
    assert!(
        html.contains("<h1>Items</h1>") && !html.contains("Navigated"),
        "{html}"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Navigation during the connected mount.

/// docs/protocol.md §2.3 / §5.3: a redirect in the connected mount is a join *error*
/// `{"redirect":{"to","flash"}}`; its token works as the flash cookie of the next load.
#[tokio::test]
async fn redirect_during_connected_mount_is_a_join_error_with_flash() {
    let h = harness().await;
    let mut browser = Browser::default();
    let page = browser.page(&h.app, "/members").await;
    assert!(page.container_inner().contains("<h1>Members</h1>"));
    let mut ws = connect(h.addr, &page).await;

    let reply = join_url(&mut ws, &page, "1", "/members", 0).await;
    assert_eq!(reply[0], "1");
    assert_eq!(reply[1], "1");
    let response = err(&reply);
    assert_eq!(response.as_object().unwrap().len(), 1, "{response}");
    assert_eq!(response["redirect"]["to"], "/");
    let token = flash_token(&response["redirect"], "Session expired").to_owned();
    // The view did not stay joined.
    let reply = click(&mut ws, &page, "1", "2", "noop").await;
    assert_eq!(err(&reply), &json!({"reason": "unmatched topic"}));

    browser.set_flash_cookie(&token);
    let home = browser.page(&h.app, "/").await;
    assert!(
        home.container_inner()
            .contains("<p id=\"flash-error\">Session expired</p>")
    );
}

/// A push_navigate in the connected mount is a join error `{"live_redirect":…}`; a push_patch
/// is an ok join with `live_patch` and the patched params.
#[tokio::test]
async fn navigate_and_patch_during_connected_mount() {
    let h = harness().await;
    let mut browser = Browser::default();
    let page = browser.page(&h.app, "/members?mode=navigate").await;
    let mut ws = connect(h.addr, &page).await;
    let reply = join_url(&mut ws, &page, "1", "/members?mode=navigate", 0).await;
    let live_redirect = &err(&reply)["live_redirect"];
    assert_eq!(live_redirect["to"], "/");
    assert_eq!(live_redirect["kind"], "push");
    let token = flash_token(live_redirect, "Go home").to_owned();
    let reply = join(
        &mut ws,
        &page,
        "2",
        join_payload(&page, "redirect", "/", 0, Some(&token)),
    )
    .await;
    assert!(joined_html(&reply).contains(">Go home</p>"));

    let page = browser.page(&h.app, "/members?mode=patch").await;
    assert!(page.container_inner().contains("<p id=\"mode\">patch</p>"));
    let mut ws = connect(h.addr, &page).await;
    let reply = join_url(&mut ws, &page, "1", "/members?mode=patch", 0).await;
    assert_eq!(
        ok(&reply)["live_patch"],
        json!({"to": "/members?mode=patched", "kind": "push"})
    );
    assert!(joined_html(&reply).contains("<p id=\"mode\">patched</p>"));
}

// ---------------------------------------------------------------------------------------------
// 5. Messages, patches, pushed events, clear-flash, components.

/// Opens `/items`, joins it and returns its handle.
async fn items(h: &mut Harness) -> (Page, Ws, Value, ViewHandle<ItemsMsg>) {
    let mut browser = Browser::default();
    let page = browser.page(&h.app, "/items").await;
    let mut ws = connect(h.addr, &page).await;
    let reply = join_url(&mut ws, &page, "1", "/items", 0).await;
    let tree = tree_of(&ok(&reply)["rendered"]);
    let handle = tokio::time::timeout(Duration::from_secs(2), h.handles.recv())
        .await
        .unwrap()
        .unwrap();
    (page, ws, tree, handle)
}

/// docs/protocol.md §5.1: a message from another task is a `diff` push
/// `[jr, null, topic, "diff", …]`.
#[tokio::test]
async fn view_handle_message_from_another_task_is_a_diff_push() {
    let mut h = harness().await;
    let (page, mut ws, mut tree, handle) = items(&mut h).await;
    assert!(!handle.is_closed());
    let sender = handle.clone();
    tokio::spawn(async move { sender.send(ItemsMsg::Set(5)).await })
        .await
        .unwrap()
        .unwrap();
    let push = support::recv(&mut ws).await;
    assert_eq!(push[0], "1");
    assert_eq!(push[1], Value::Null);
    assert_eq!(push[2], page.topic().as_str());
    assert_eq!(push[3], "diff");
    assert_eq!(
        push[4].as_object().unwrap().len(),
        1,
        "only the changed dynamic: {push}"
    );
    merge(&mut tree, &push[4]);
    assert!(to_html(&tree).contains("<p id=\"value\">5</p>"));

    // try_send works the same way.
    handle.try_send(ItemsMsg::Set(6)).unwrap();
    let push = support::recv(&mut ws).await;
    merge(&mut tree, &push[4]);
    assert!(to_html(&tree).contains("<p id=\"value\">6</p>"));

    // A message that changes nothing pushes nothing: the next push is the one for 8.
    handle.send(ItemsMsg::Set(6)).await.unwrap();
    handle.send(ItemsMsg::Set(8)).await.unwrap();
    let push = support::recv(&mut ws).await;
    merge(&mut tree, &push[4]);
    assert!(to_html(&tree).contains("<p id=\"value\">8</p>"), "{push}");

    // After a leave the handle is closed.
    send(&mut ws, json!(["1", "10", page.topic(), "phx_leave", {}])).await;
    until_reply(&mut ws, "10").await;
    for _ in 0..100 {
        if handle.is_closed() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(handle.is_closed());
    assert!(handle.send(ItemsMsg::Set(7)).await.is_err());
}

/// docs/protocol.md §5.3.1 step 4: outside an event the redirect (and live_redirect) maps
/// are pushes.
#[tokio::test]
async fn redirect_and_navigate_from_handle_info_are_pushes_with_flash() {
    let mut h = harness().await;
    let (page, mut ws, _, handle) = items(&mut h).await;
    handle.send(ItemsMsg::RedirectHome).await.unwrap();
    let push = support::recv(&mut ws).await;
    assert_eq!(push[0], "1");
    assert_eq!(push[1], Value::Null);
    assert_eq!(push[2], page.topic().as_str());
    assert_eq!(push[3], "redirect");
    assert_eq!(push[4]["to"], "/");
    flash_token(&push[4], "Bye");

    let (page, mut ws, _, handle) = items(&mut h).await;
    handle.send(ItemsMsg::NavigateHome).await.unwrap();
    let push = support::recv(&mut ws).await;
    assert_eq!(push[3], "live_redirect");
    assert_eq!(push[2], page.topic().as_str());
    assert_eq!(push[4]["to"], "/");
    assert_eq!(push[4]["kind"], "push");
    let token = flash_token(&push[4], "Home again").to_owned();
    let reply = join(
        &mut ws,
        &page,
        "2",
        join_payload(&page, "redirect", "/", 0, Some(&token)),
    )
    .await;
    assert!(joined_html(&reply).contains(">Home again</p>"));
}

/// docs/protocol.md §5.1: push_patch in an event runs handle_params, pushes `live_patch`,
/// then replies with the diff.
#[tokio::test]
async fn push_patch_from_an_event_pushes_live_patch_then_replies_with_the_diff() {
    let mut h = harness().await;
    let (page, mut ws, mut tree, _handle) = items(&mut h).await;
    assert!(to_html(&tree).contains("<p id=\"page\">1</p>"));
    let (pushes, reply) = click_with(&mut ws, &page, "1", "2", "next", json!({"value": ""})).await;
    assert_eq!(
        pushes,
        vec![
            json!(["1", null, page.topic(), "live_patch", {"to": "/items?page=2", "kind": "push"}])
        ]
    );
    merge(&mut tree, &ok(&reply)["diff"]);
    assert!(to_html(&tree).contains("<p id=\"page\">2</p>"));
}

/// docs/protocol.md §4.2: a client `live_patch` runs handle_params and replies with the
/// diff; a URL of another view is answered `{"link_redirect":true}`.
#[tokio::test]
async fn client_live_patch_runs_handle_params_or_asks_for_a_live_redirect() {
    let mut h = harness().await;
    let (page, mut ws, mut tree, _handle) = items(&mut h).await;
    send(
        &mut ws,
        json!(["1", "2", page.topic(), "live_patch", {"url": "http://127.0.0.1/items?page=7"}]),
    )
    .await;
    let reply = until_reply(&mut ws, "2").await.1;
    merge(&mut tree, &ok(&reply)["diff"]);
    assert!(to_html(&tree).contains("<p id=\"page\">7</p>"));

    // The same URL again changes nothing.
    send(
        &mut ws,
        json!(["1", "3", page.topic(), "live_patch", {"url": "http://127.0.0.1/items?page=7"}]),
    )
    .await;
    assert_eq!(ok(&until_reply(&mut ws, "3").await.1), &json!({}));

    for (r, url) in [("4", "http://127.0.0.1/"), ("5", "http://127.0.0.1/admin")] {
        send(
            &mut ws,
            json!(["1", r, page.topic(), "live_patch", {"url": url}]),
        )
        .await;
        let reply = until_reply(&mut ws, r).await.1;
        assert_eq!(ok(&reply), &json!({"link_redirect": true}), "{url}");
    }
    // The view is still there, on page 7.
    let reply = click(&mut ws, &page, "1", "6", "ping").await;
    assert!(ok(&reply)["diff"].get("e").is_some());
    assert!(to_html(&tree).contains("<p id=\"page\">7</p>"));
}

/// docs/protocol.md §3.5: pushed events ride in the diff as `e`.
#[tokio::test]
async fn push_event_is_e_in_the_diff() {
    let mut h = harness().await;
    let (page, mut ws, _, _handle) = items(&mut h).await;
    let reply = click(&mut ws, &page, "1", "2", "ping").await;
    assert_eq!(
        ok(&reply),
        &json!({"diff": {"e": [["highlight", {"id": 1}]]}})
    );
}

/// docs/protocol.md §4.2: `lv:clear-flash` clears that key and the diff removes it.
#[tokio::test]
async fn clear_flash_event_removes_the_key_in_the_diff() {
    let mut h = harness().await;
    let (page, mut ws, mut tree, _handle) = items(&mut h).await;
    let reply = click(&mut ws, &page, "1", "2", "save").await;
    merge(&mut tree, &ok(&reply)["diff"]);
    assert!(to_html(&tree).contains(">Saved</p>"));

    // What `phx-click="lv:clear-flash" phx-value-key="info"` sends.
    let (_, reply) = click_with(
        &mut ws,
        &page,
        "1",
        "3",
        "lv:clear-flash",
        json!({"key": "info", "value": ""}),
    )
    .await;
    let diff = &ok(&reply)["diff"];
    merge(&mut tree, diff);
    let html = to_html(&tree);
    assert!(
        !html.contains("Saved") && !html.contains("flash-info"),
        "{html}"
    );

    // Clearing again changes nothing; without a key every message goes.
    let (_, reply) = click_with(
        &mut ws,
        &page,
        "1",
        "4",
        "lv:clear-flash",
        json!({"key": "info", "value": ""}),
    )
    .await;
    assert_eq!(ok(&reply), &json!({}));
    let reply = click(&mut ws, &page, "1", "5", "save").await;
    merge(&mut tree, &ok(&reply)["diff"]);
    assert!(to_html(&tree).contains(">Saved</p>"));
    let (_, reply) = click_with(&mut ws, &page, "1", "6", "lv:clear-flash", json!({})).await;
    merge(&mut tree, &ok(&reply)["diff"]);
    assert!(!to_html(&tree).contains("Saved"));
}

/// docs/protocol.md §4.2 / §8.6: `cids_will_destroy` → `{}`, `cids_destroyed` →
/// `{"cids":[…]}` listing the components actually forgotten (none here: this view has no
/// components; `tests/components.rs` covers the handshake with real ones).
#[tokio::test]
async fn cids_destroyed_is_answered_with_the_cids() {
    let mut h = harness().await;
    let (page, mut ws, _, _handle) = items(&mut h).await;
    send(
        &mut ws,
        json!(["1", "2", page.topic(), "cids_will_destroy", {"cids": [3, 4]}]),
    )
    .await;
    assert_eq!(ok(&until_reply(&mut ws, "2").await.1), &json!({}));
    send(
        &mut ws,
        json!(["1", "3", page.topic(), "cids_destroyed", {"cids": [3, 4]}]),
    )
    .await;
    assert_eq!(ok(&until_reply(&mut ws, "3").await.1), &json!({"cids": []}));
}

// ---------------------------------------------------------------------------------------------
// 6. R8 limits and R9 redirect targets over the socket.

/// Reads until the socket ends; the close code if the server sent a close frame.
async fn closed(ws: &mut Ws) -> Option<u16> {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(3), ws.next())
            .await
            .expect("the socket was not closed");
        match next {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

/// Two connections on one page; the first is the one that misbehaves.
async fn two_connections(h: &Harness) -> (Page, Ws, Ws) {
    let mut browser = Browser::default();
    let page = browser.page(&h.app, "/").await;
    let mut bad = connect(h.addr, &page).await;
    ok(&join_url(&mut bad, &page, "1", "/", 0).await);
    let mut good = connect(h.addr, &page).await;
    ok(&join_url(&mut good, &page, "1", "/", 0).await);
    (page, bad, good)
}

/// docs/threat-model.md cases 43/50: a text frame over 64 KiB closes that socket with 1009;
/// another connection keeps working, and a new one can be opened.
#[tokio::test]
async fn case_43_oversize_text_frame_closes_only_that_socket() {
    let h = harness().await;
    let (page, mut bad, mut good) = two_connections(&h).await;
    let big = format!(
        "[\"1\",\"2\",\"{}\",\"event\",{{\"type\":\"click\",\"event\":\"noop\",\"value\":{{\"v\":\"{}\"}}}}]",
        page.topic(),
        "x".repeat(livefire::Limits::default().max_message_size)
    );
    assert!(big.len() > 64 * 1024);
    let _ = bad.send(Message::Text(big.into())).await;
    // The server lingers after its close frame (reading the rest of the frame), so the code
    // arrives instead of a reset.
    assert_eq!(closed(&mut bad).await, Some(1009));

    ok(&click(&mut good, &page, "1", "2", "noop").await);
    let mut fresh = connect(h.addr, &page).await;
    ok(&join_url(&mut fresh, &page, "1", "/", 0).await);
    // Just under the limit is fine.
    let fits = format!(
        "[\"1\",\"2\",\"{}\",\"event\",{{\"type\":\"click\",\"event\":\"noop\",\"value\":{{\"v\":\"{}\"}}}}]",
        page.topic(),
        "x".repeat(60 * 1024)
    );
    send_text(&mut fresh, &fits).await;
    ok(&until_reply(&mut fresh, "2").await.1);
}

/// docs/threat-model.md case 52: events beyond the view's inbox close that socket with 1008; another
/// connection is unaffected.
#[tokio::test]
async fn case_52_event_flood_closes_with_1008_only_that_socket() {
    let h = harness().await;
    let (page, mut bad, mut good) = two_connections(&h).await;
    for i in 0..100 {
        let frame = event(
            &page,
            "1",
            &(i + 2).to_string(),
            "slow",
            json!({"value": ""}),
        );
        if bad
            .feed(Message::Text(frame.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let _ = bad.flush().await;
    assert_eq!(closed(&mut bad).await, Some(1008));

    ok(&click(&mut good, &page, "1", "2", "noop").await);
}

/// docs/threat-model.md case 42: a text frame that is not UTF-8 closes the socket with 1007 (never a
/// panic); another connection is unaffected.
#[tokio::test]
async fn case_42_invalid_utf8_text_frame_closes_the_socket() {
    let h = harness().await;
    let (page, mut bad, mut good) = two_connections(&h).await;
    let frame = Frame::message(
        b"[\"1\",\"2\",\"lv:x\",\"event\",\"\xff\xfe\"]".to_vec(),
        OpCode::Data(Data::Text),
        true,
    );
    let _ = bad.send(Message::Frame(frame)).await;
    assert_eq!(closed(&mut bad).await, Some(1007));
    ok(&click(&mut good, &page, "1", "2", "noop").await);
}

const EVIL_TARGETS: [&str; 4] = [
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "javascript:alert(1)",
];

fn assert_no_target(frames: &[Value]) {
    for frame in frames {
        let text = frame.to_string();
        assert!(
            !text.contains("evil") && !text.contains("javascript"),
            "a refused target leaked into {text}"
        );
    }
}

/// docs/threat-model.md cases 57/58/60 (R9): non-local targets of every navigation kind are refused with
/// `phx_error` and never reach a frame; the view can rejoin.
#[tokio::test]
async fn case_57_58_60_non_local_targets_are_refused_over_the_socket() {
    let h = harness().await;
    let mut browser = Browser::default();
    let page = browser.page(&h.app, "/").await;
    let mut ws = connect(h.addr, &page).await;
    let mut n = 0u32;
    for to in EVIL_TARGETS {
        for kind in [
            "redirect",
            "navigate",
            "replace_navigate",
            "patch",
            "replace_patch",
        ] {
            n += 1;
            let jr = format!("j{n}");
            let reply = join_url(&mut ws, &page, &jr, "/", 0).await;
            ok(&reply);
            let msg_ref = format!("e{n}");
            send(
                &mut ws,
                event(
                    &page,
                    &jr,
                    &msg_ref,
                    "go",
                    json!({"to": to, "kind": kind, "value": ""}),
                ),
            )
            .await;
            let frame = support::recv(&mut ws).await;
            assert_eq!(
                frame,
                json!([jr, jr, page.topic(), "phx_error", {"reason": "crash"}]),
                "{kind} {to}"
            );
            assert_no_target(&[reply, frame]);
        }
    }

    // From handle_info: the same.
    let mut h = h;
    for to in EVIL_TARGETS {
        for kind in ["redirect", "navigate", "patch"] {
            let (page, mut ws, _, handle) = items(&mut h).await;
            handle.send(ItemsMsg::Go(kind, to)).await.unwrap();
            let frame = support::recv(&mut ws).await;
            assert_eq!(
                frame,
                json!(["1", "1", page.topic(), "phx_error", {"reason": "crash"}]),
                "{kind} {to}"
            );
            assert_no_target(&[frame]);
        }
    }

    // From the connected mount: the join fails without the target.
    let page = browser.page(&h.app, "/members?mode=evil").await;
    let mut ws = connect(h.addr, &page).await;
    let reply = join_url(&mut ws, &page, "1", "/members?mode=evil", 0).await;
    assert_eq!(err(&reply), &json!({"reason": "join crashed"}));
    assert_no_target(&[reply]);
}

/// The upgrade without a CSRF token still connects, but no flash (or view) is handed out.
#[tokio::test]
async fn socket_without_csrf_token_gets_stale_not_the_flash() {
    let h = harness().await;
    let mut browser = Browser::default();
    browser.get(&h.app, "/guarded").await;
    let page = browser.page(&h.app, "/").await;
    let mut ws = connect_with(h.addr, page.cookie.as_deref(), None, None)
        .await
        .unwrap();
    let reply = join_url(&mut ws, &page, "1", "/", 0).await;
    assert_eq!(err(&reply), &json!({"reason": "stale"}));
}
