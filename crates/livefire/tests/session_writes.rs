//! Session writes from live views through the library API alone (docs/threat-model.md R3, R4,
//! cases 11, 17-21, 25, 27, 62, 74, 79-81): a view writes the HTTP session with
//! `Socket::put_session`, the browser brings a single-use, 60-second, session-bound ticket
//! back on its next request (in a redirect's flash, or in a `phx-trigger-action` POST), and
//! the library applies it.

mod support;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get as get_route;
use livefire::flash::{IncomingFlash, LiveFlashLayer, open_flash};
use livefire::session::{CookieSessionLayer, MemoryTicketStore, Session, TicketStore};
use livefire::token::{Clock, Keyring, ManualClock};
use livefire::{Event, Halt, LiveRouter, LiveView, Mount, OnMount, Rendered, Result, Socket, html};
use serde_json::{Value, json};
use support::*;
use tower::ServiceExt as _;

/// The opaque login token the view writes into the session: a store must never hold it in
/// clear (case 79).
const TOKEN: &str = "login-token-5c0ffee5b1a9e4d7c3f0a8b6e2d1c9f7";

/// The login view: every event logs "ann" in through the session.
#[derive(Default)]
struct Login;

impl LiveView for Login {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        socket
            .renew_session()
            .put_session("user", "ann")
            .put_session("token", TOKEN)
            .put_flash("info", "Welcome back!");
        match event.name() {
            "redirect" => socket.redirect("/whoami"),
            "navigate" => socket.push_navigate("/guarded"),
            "form" => {}
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        html!(<p>"log in"</p>{socket.session_form("/whoami")})
    }
}

#[derive(Clone)]
struct User(String);

/// Guarded by the `on_mount` hook: renders the user the hook assigned.
#[derive(Default)]
struct Guarded {
    user: String,
}

impl LiveView for Guarded {
    type Message = ();
    async fn mount(&mut self, cx: &Mount, _: &mut Socket) -> Result {
        self.user = cx
            .get::<User>()
            .expect("the hook assigned a user")
            .0
            .clone();
        Ok(())
    }
    fn render(&self, _: &Socket) -> Rendered {
        html!(<p id="user">{self.user.as_str()}</p>)
    }
}

async fn require_user(cx: OnMount) -> std::result::Result<OnMount, Halt> {
    match cx.session::<String>("user") {
        Some(user) => Ok(cx.assign(User(user))),
        None => Err(Halt::redirect("/login").flash("error", "You must log in.")),
    }
}

/// `GET /shown`: the flash this page shows.
async fn shown(IncomingFlash(flash): IncomingFlash) -> String {
    flash.get_str("info").unwrap_or_default().to_owned()
}

/// `GET /whoami`: the session's user and id, as the next page would see them.
async fn whoami(session: Session) -> String {
    format!(
        "{}|{}",
        session.get::<String>("user").unwrap_or_default(),
        session.existing_id().unwrap_or_default()
    )
}

struct Harness {
    app: Router,
    addr: std::net::SocketAddr,
    keyring: Keyring,
    clock: ManualClock,
}

fn app_with(keyring: &Keyring, store: impl TicketStore + Clone) -> Router {
    LiveRouter::new(keyring.clone())
        .session_store(store.clone())
        .live_session("public")
        .live("/login", Login::default)
        .live_session("members")
        .on_mount(require_user)
        .live("/guarded", Guarded::default)
        .build()
        .expect("valid live routes")
        .route("/whoami", get_route(whoami))
        .route("/shown", get_route(shown))
        .layer(LiveFlashLayer::new(keyring.clone()).session_store(store))
        .layer(CookieSessionLayer::new(keyring.clone()))
}

async fn harness_with(store: impl TicketStore + Clone) -> Harness {
    let (clock, time) = Clock::manual(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let keyring = Keyring::new([61u8; 64]).unwrap().with_clock(clock);
    let app = app_with(&keyring, store);
    let addr = serve(app.clone()).await;
    Harness {
        app,
        addr,
        keyring,
        clock: time,
    }
}

async fn harness() -> Harness {
    harness_with(MemoryTicketStore::new()).await
}

/// Opens /login, joins it and sends `event`; returns the page and the event's reply.
async fn login(h: &Harness, event: &str) -> (Page, Value) {
    let page = get(&h.app, "/login", None).await;
    let mut ws = connect(h.addr, &page).await;
    send(
        &mut ws,
        json!([
            "1",
            "1",
            page.topic(),
            "phx_join",
            page.join_payload("/login")
        ]),
    )
    .await;
    assert_eq!(recv(&mut ws).await[4]["status"], "ok");
    send(
        &mut ws,
        json!(["1", "2", page.topic(), "event", {"type": "click", "event": event, "value": {}}]),
    )
    .await;
    let reply = loop {
        let frame = recv(&mut ws).await;
        if frame[3] == "phx_reply" {
            break frame;
        }
    };
    (page, reply)
}

/// GET `path` with `cookie` and the flash cookie a redirect's token becomes in the browser.
async fn get_with_flash(
    app: &Router,
    path: &str,
    cookie: &str,
    flash: &str,
) -> (String, Option<String>) {
    let res = app
        .clone()
        .oneshot(
            Request::get(path)
                .header(header::HOST, "127.0.0.1")
                .header(
                    header::COOKIE,
                    format!("{cookie}; __phoenix_flash__={flash}"),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("livefire_session=") && !v.contains("Max-Age=0"))
        .map(|v| v.split(';').next().unwrap().to_owned());
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    (String::from_utf8(body.to_vec()).unwrap(), cookie)
}

#[tokio::test]
async fn a_redirect_carries_the_writes_to_the_next_request_with_a_renewed_session() {
    let h = harness().await;
    let (page, reply) = login(&h, "redirect").await;
    let redirect = &reply[4]["response"]["redirect"];
    assert_eq!(redirect["to"], "/whoami");
    let flash = redirect["flash"].as_str().expect("a flash token");
    let cookie = page.cookie.clone().unwrap();
    let (before, _) = get_with_flash(&h.app, "/whoami", &cookie, "garbage").await;
    let (body, renewed) = get_with_flash(&h.app, "/whoami", &cookie, flash).await;
    let (user, id) = body.split_once('|').unwrap();
    assert_eq!(user, "ann", "the write was applied before the handler ran");
    // R4 / case 11: the session id was renewed (and so the cookie rewritten).
    let (_, old_id) = before.split_once('|').unwrap();
    assert_ne!(id, old_id);
    assert!(renewed.is_some());
}

#[tokio::test]
async fn case_18_a_used_ticket_does_nothing_the_second_time() {
    let h = harness().await;
    let (page, reply) = login(&h, "redirect").await;
    let flash = reply[4]["response"]["redirect"]["flash"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = page.cookie.clone().unwrap();
    let (body, _) = get_with_flash(&h.app, "/whoami", &cookie, &flash).await;
    assert!(body.starts_with("ann|"));
    // The pre-login cookie, replayed with the same flash: the ticket is gone.
    let (body, _) = get_with_flash(&h.app, "/whoami", &cookie, &flash).await;
    assert!(body.starts_with('|'), "replayed: {body}");
}

#[tokio::test]
async fn case_20_two_parallel_consumers_exactly_one_wins() {
    let h = harness().await;
    let (page, reply) = login(&h, "redirect").await;
    let flash = reply[4]["response"]["redirect"]["flash"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = page.cookie.clone().unwrap();
    let (a, b) = tokio::join!(
        get_with_flash(&h.app, "/whoami", &cookie, &flash),
        get_with_flash(&h.app, "/whoami", &cookie, &flash)
    );
    let logged_in = [a.0, b.0].iter().filter(|b| b.starts_with("ann|")).count();
    assert_eq!(logged_in, 1);
}

/// case 17 for tickets: redeemable at 59 s, refused at 61 s (the keyring's clock).
#[tokio::test]
async fn case_17_tickets_expire_after_60_seconds() {
    let h = harness().await;
    let (page, reply) = login(&h, "form").await;
    let ticket = ticket_of(&reply);
    h.clock.advance(Duration::from_secs(59));
    let (body, status) = post_ticket(&h, &page, &ticket, true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(body.starts_with("ann|"), "at 59 s: {body}");

    let (page, reply) = login(&h, "form").await;
    let ticket = ticket_of(&reply);
    h.clock.advance(Duration::from_secs(61));
    let (body, status) = post_ticket(&h, &page, &ticket, true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(body.starts_with('|'), "at 61 s: {body}");
}

/// The ticket of the `phx-trigger-action` form in the event's diff.
fn ticket_of(reply: &Value) -> String {
    let text = reply.to_string();
    let at = text
        .find("_session_ticket")
        .expect("the session form was rendered");
    let rest = &text[at..];
    let value = rest.find("value=").unwrap() + "value=".len();
    let rest = &rest[value..];
    let start = rest
        .find(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        .unwrap();
    let rest = &rest[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap();
    rest[..end].to_owned()
}

/// POSTs the session form as the browser would; returns what `/whoami` then shows and the
/// POST's status.
async fn post_ticket(
    h: &Harness,
    page: &Page,
    ticket: &str,
    with_csrf: bool,
) -> (String, StatusCode) {
    post_ticket_from(
        h,
        page.cookie.as_deref().unwrap(),
        &page.csrf,
        ticket,
        with_csrf,
    )
    .await
}

async fn post_ticket_from(
    h: &Harness,
    cookie: &str,
    csrf: &str,
    ticket: &str,
    with_csrf: bool,
) -> (String, StatusCode) {
    let mut form = format!("_session_ticket={ticket}&_to=%2Fwhoami");
    if with_csrf {
        form.push_str(&format!("&_csrf_token={csrf}"));
    }
    let res = h
        .app
        .clone()
        .oneshot(
            Request::post("/live/session")
                .header(header::HOST, "127.0.0.1")
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    if status == StatusCode::SEE_OTHER {
        assert_eq!(res.headers()[header::LOCATION], "/whoami");
    }
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("livefire_session="))
        .map_or_else(
            || cookie.to_owned(),
            |v| v.split(';').next().unwrap().to_owned(),
        );
    let res = h
        .app
        .clone()
        .oneshot(
            Request::get("/whoami")
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    (String::from_utf8(body.to_vec()).unwrap(), status)
}

#[tokio::test]
async fn the_trigger_action_form_applies_the_writes() {
    let h = harness().await;
    let (page, reply) = login(&h, "form").await;
    let diff = reply[4]["response"]["diff"].to_string();
    assert!(diff.contains("phx-trigger-action"), "{diff}");
    assert!(diff.contains("/live/session"), "{diff}");
    let ticket = ticket_of(&reply);
    let (body, status) = post_ticket(&h, &page, &ticket, true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(body.starts_with("ann|"), "{body}");
}

/// A POST without the session's CSRF token is refused (403) and the ticket stays usable.
#[tokio::test]
async fn case_62_a_ticket_post_without_csrf_is_refused_and_changes_nothing() {
    let h = harness().await;
    let (page, reply) = login(&h, "form").await;
    let ticket = ticket_of(&reply);
    let (body, status) = post_ticket(&h, &page, &ticket, false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.starts_with('|'));
    let (body, status) = post_ticket(&h, &page, &ticket, true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        body.starts_with("ann|"),
        "the refused POST did not use the ticket: {body}"
    );
}

/// cases 19 and 21: a ticket carried into (or planted in) another browser session is refused.
#[tokio::test]
async fn case_19_a_ticket_from_another_browser_is_refused() {
    let h = harness().await;
    let (_victim, reply) = login(&h, "form").await;
    let ticket = ticket_of(&reply);
    let attacker = get(&h.app, "/login", None).await;
    let (body, status) = post_ticket(&h, &attacker, &ticket, true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(body.starts_with('|'), "{body}");
}

/// case 25: tampered, empty or oversized tickets change nothing and look like an expired one.
#[tokio::test]
async fn case_25_tampered_tickets_change_nothing() {
    let h = harness().await;
    let (page, reply) = login(&h, "form").await;
    let ticket = ticket_of(&reply);
    let mut tampered = ticket.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [tampered.as_str(), "", &"A".repeat(10_000)] {
        let (body, status) = post_ticket(&h, &page, bad, true).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(body.starts_with('|'), "{body}");
    }
    // The genuine ticket still works once.
    let (body, _) = post_ticket(&h, &page, &ticket, true).await;
    assert!(body.starts_with("ann|"));
}

/// case 27: neither the ticket nor the flash token carries the session values.
#[tokio::test]
async fn case_27_nothing_of_the_values_travels() {
    let h = harness().await;
    let (page, reply) = login(&h, "redirect").await;
    let token = reply[4]["response"]["redirect"]["flash"].as_str().unwrap();
    // Open the flash as the server does (bound to this browser's session id).
    let (id_body, _) =
        get_with_flash(&h.app, "/whoami", page.cookie.as_deref().unwrap(), "x").await;
    let id = id_body.split_once('|').unwrap().1;
    let flash = open_flash(&h.keyring, id, token).expect("the token opens for this browser");
    let text = serde_json::to_string(&flash).unwrap();
    assert!(!text.contains("ann") && !text.contains("user"), "{text}");
    let ticket = flash
        .get("_livefire_session_ticket")
        .and_then(Value::as_str)
        .expect("the ticket rides in the flash");
    assert_eq!(ticket.len(), 43, "256 random bits, base64url");
    // The visible flash message is there too.
    assert_eq!(flash.get_str("info"), Some("Welcome back!"));
}

/// A `push_navigate` with pending session writes becomes a full redirect.
#[tokio::test]
async fn a_push_navigate_with_writes_becomes_a_redirect() {
    let h = harness().await;
    let (_page, reply) = login(&h, "navigate").await;
    let response = &reply[4]["response"];
    assert!(response.get("live_redirect").is_none(), "{response}");
    assert_eq!(response["redirect"]["to"], "/guarded");
    assert!(response["redirect"]["flash"].is_string());
}

/// The guarded live session: the hook redirects with its flash on the dead render (302) and
/// on the connected join; with a login, it assigns the user.
#[tokio::test]
async fn on_mount_guards_dead_render_and_join() {
    let h = harness().await;
    let page = get(&h.app, "/guarded", None).await;
    assert_eq!(page.status, StatusCode::FOUND);
    let res = h
        .app
        .clone()
        .oneshot(Request::get("/guarded").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.headers()[header::LOCATION], "/login");

    // A join into the guarded session from a page of the public one (live navigation).
    let login_page = get(&h.app, "/login", None).await;
    let mut ws = connect(h.addr, &login_page).await;
    let mut payload = login_page.join_payload("/login");
    payload.as_object_mut().unwrap().remove("url");
    payload["redirect"] = json!("http://127.0.0.1/guarded");
    send(
        &mut ws,
        json!(["1", "1", login_page.topic(), "phx_join", payload]),
    )
    .await;
    let reply = recv(&mut ws).await;
    // Across live sessions: unauthorized (a full page load follows, which the hook guards).
    assert_eq!(reply[4]["response"]["reason"], "unauthorized");

    // Logged in: the dead render of the guarded page shows the user the hook assigned.
    let (page, redirect) = login(&h, "redirect").await;
    let flash = redirect[4]["response"]["redirect"]["flash"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, cookie) =
        get_with_flash(&h.app, "/whoami", page.cookie.as_deref().unwrap(), &flash).await;
    let cookie = cookie.expect("renewed session cookie");
    let guarded = get(&h.app, "/guarded", Some(&cookie)).await;
    assert_eq!(guarded.status, StatusCode::OK);
    assert!(guarded.container_inner().contains("<p id=\"user\">ann</p>"));
    // And the connected join of it.
    let mut ws = connect(h.addr, &guarded).await;
    send(
        &mut ws,
        json!([
            "1",
            "1",
            guarded.topic(),
            "phx_join",
            guarded.join_payload("/guarded")
        ]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert_eq!(reply[4]["response"]["rendered"]["0"], "ann");
}

/// A connected join whose hook halts answers `{"redirect": {"to", "flash"}}`.
#[tokio::test]
async fn on_mount_halt_on_join_is_a_redirect_with_flash() {
    let h = harness().await;
    // Log in, render the guarded page, then log out server-side by clearing the session
    // cookie the socket sees: join with the pre-login cookie instead.
    let (page, redirect) = login(&h, "redirect").await;
    let flash = redirect[4]["response"]["redirect"]["flash"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, cookie) =
        get_with_flash(&h.app, "/whoami", page.cookie.as_deref().unwrap(), &flash).await;
    let guarded = get(&h.app, "/guarded", cookie.as_deref()).await;
    let anonymous = Page {
        cookie: page.cookie.clone(),
        csrf: page.csrf.clone(),
        ..guarded.clone()
    };
    let mut ws = connect(h.addr, &anonymous).await;
    send(
        &mut ws,
        json!([
            "1",
            "1",
            anonymous.topic(),
            "phx_join",
            anonymous.join_payload("/guarded")
        ]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["status"], "error");
    let redirect = &reply[4]["response"]["redirect"];
    assert_eq!(redirect["to"], "/login");
    assert!(redirect["flash"].is_string());
}

/// The SQLite store gives the same guarantees, including one winner of two parallel takes.
#[tokio::test]
async fn sqlite_store_single_use_and_parallel_takes() {
    let store = livefire::session::SqliteTicketStore::open_in_memory().unwrap();
    let h = harness_with(store).await;
    let (page, reply) = login(&h, "redirect").await;
    let flash = reply[4]["response"]["redirect"]["flash"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = page.cookie.clone().unwrap();
    let (a, b) = tokio::join!(
        get_with_flash(&h.app, "/whoami", &cookie, &flash),
        get_with_flash(&h.app, "/whoami", &cookie, &flash)
    );
    let logged_in = [a.0, b.0].iter().filter(|b| b.starts_with("ann|")).count();
    assert_eq!(logged_in, 1);
}

/// case 74: two nodes sharing Redis: a ticket minted on A is redeemed on B, exactly once.
#[tokio::test]
async fn case_74_redis_ticket_minted_on_one_node_is_redeemed_once_on_another() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let connect_store = || async {
        livefire::session::RedisTicketStore::connect(&url)
            .await
            .unwrap_or_else(|err| panic!("Redis is required for this test at {url}: {err}"))
    };
    let (clock, _time) = Clock::manual(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    let keyring = Keyring::new([61u8; 64]).unwrap().with_clock(clock);
    let node_a = app_with(&keyring, connect_store().await);
    let node_b = app_with(&keyring, connect_store().await);
    let addr_a = serve(node_a.clone()).await;
    let h = Harness {
        app: node_a,
        addr: addr_a,
        keyring: keyring.clone(),
        clock: Clock::manual(UNIX_EPOCH).1,
    };
    let (page, reply) = login(&h, "redirect").await;
    let flash = reply[4]["response"]["redirect"]["flash"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = page.cookie.clone().unwrap();
    let on_b = Arc::new(node_b);
    let (a, b) = tokio::join!(
        get_with_flash(&on_b, "/whoami", &cookie, &flash),
        get_with_flash(&h.app, "/whoami", &cookie, &flash)
    );
    let logged_in = [a.0, b.0].iter().filter(|b| b.starts_with("ann|")).count();
    assert_eq!(logged_in, 1);
    let (again, _) = get_with_flash(&on_b, "/whoami", &cookie, &flash).await;
    assert!(again.starts_with('|'));
}

/// The session cookie a response sets, or `cookie` if it sets none.
fn cookie_after(res: &axum::response::Response, cookie: &str) -> String {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("livefire_session=") && !v.contains("Max-Age=0"))
        .map_or_else(
            || cookie.to_owned(),
            |v| v.split(';').next().unwrap().to_owned(),
        )
}

/// The session id of the browser holding `cookie`, as `/whoami` shows it.
async fn session_id_of(app: &Router, cookie: &str) -> String {
    let (body, _) = get_with_flash(app, "/whoami", cookie, "x").await;
    body.split_once('|').unwrap().1.to_owned()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// case 79: a SQLite ticket store in write-ahead-log mode, read byte by byte while a ticket
/// waits and after it was redeemed: neither the session writes (the login token), nor the
/// ticket, nor the browser's session id is in any of its files; the ticket still works.
#[tokio::test]
async fn case_79_sqlite_files_hold_neither_the_writes_nor_the_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("tickets.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    let store = livefire::session::SqliteTicketStore::new(conn).unwrap();
    let h = harness_with(store).await;
    let (page, reply) = login(&h, "form").await;
    let ticket = ticket_of(&reply);
    let id = session_id_of(&h.app, page.cookie.as_deref().unwrap()).await;
    let dump = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
            .collect::<Vec<_>>()
    };
    let check = |when: &str| {
        let files = dump();
        assert!(
            files.iter().any(|f| !f.is_empty()),
            "the store wrote nothing"
        );
        for file in &files {
            for (what, needle) in [
                ("the login token", TOKEN),
                ("the ticket", ticket.as_str()),
                ("the session id", id.as_str()),
            ] {
                assert!(
                    !contains(file, needle.as_bytes()),
                    "{when}: a file holds {what}"
                );
            }
        }
    };
    check("while the ticket waits");
    let (body, status) = post_ticket(&h, &page, &ticket, true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(body.starts_with("ann|"), "{body}");
    check("after the redemption");
}

/// case 79 on Redis: the values under `livefire:ticket:*` (what an RDB or AOF file keeps) hold
/// neither the login token nor the ticket, and the keys are not the ticket.
#[tokio::test]
async fn case_79_redis_values_hold_neither_the_writes_nor_the_ticket() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let store = livefire::session::RedisTicketStore::connect(&url)
        .await
        .unwrap_or_else(|err| panic!("Redis is required for this test at {url}: {err}"));
    let h = harness_with(store).await;
    let (page, reply) = login(&h, "form").await;
    let ticket = ticket_of(&reply);
    let id = session_id_of(&h.app, page.cookie.as_deref().unwrap()).await;
    let key = livefire::session::TicketKey::of(&ticket, &id);
    let mut redis = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let record: Option<Vec<u8>> = redis::cmd("GET")
        .arg(format!("livefire:ticket:{}", key.to_hex()))
        .query_async(&mut redis)
        .await
        .unwrap();
    let record = record.expect("the ticket waits under the hash of ticket and session id");
    for (what, needle) in [
        ("the login token", TOKEN),
        ("the ticket", ticket.as_str()),
        ("the session id", id.as_str()),
    ] {
        assert!(
            !contains(&record, needle.as_bytes()),
            "the value holds {what}"
        );
    }
    assert!(!key.to_hex().contains(&ticket));
    let (body, status) = post_ticket(&h, &page, &ticket, true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(body.starts_with("ann|"), "{body}");
}

/// case 80: a ticket presented by another browser (its own session and CSRF token) logs
/// nobody in and does not use the ticket up: the browser it was minted for then redeems it,
/// once. The same with a store shared by nodes (Redis): the foreign attempt on one node leaves
/// the ticket for the other.
#[tokio::test]
async fn case_80_a_presentation_from_another_browser_does_not_burn_the_ticket() {
    for store in ["memory", "sqlite"] {
        let h = match store {
            "memory" => harness().await,
            _ => {
                harness_with(livefire::session::SqliteTicketStore::open_in_memory().unwrap()).await
            }
        };
        let (victim, reply) = login(&h, "form").await;
        let ticket = ticket_of(&reply);
        let attacker = get(&h.app, "/login", None).await;
        let (body, status) = post_ticket(&h, &attacker, &ticket, true).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(body.starts_with('|'), "{store}: the other browser: {body}");
        let (body, status) = post_ticket(&h, &victim, &ticket, true).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(body.starts_with("ann|"), "{store}: the owner: {body}");
        let (body, _) = post_ticket(&h, &victim, &ticket, true).await;
        assert!(body.starts_with('|'), "{store}: single use: {body}");
    }
}

/// case 80 across nodes sharing Redis: the other browser tries on node B, the owner redeems on
/// node A.
#[tokio::test]
async fn case_80_redis_a_foreign_presentation_on_another_node_does_not_burn_the_ticket() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let connect_store = || async {
        livefire::session::RedisTicketStore::connect(&url)
            .await
            .unwrap_or_else(|err| panic!("Redis is required for this test at {url}: {err}"))
    };
    let h = harness_with(connect_store().await).await;
    let node_b = Harness {
        app: app_with(&h.keyring, connect_store().await),
        addr: h.addr,
        keyring: h.keyring.clone(),
        clock: Clock::manual(UNIX_EPOCH).1,
    };
    let (victim, reply) = login(&h, "form").await;
    let ticket = ticket_of(&reply);
    let attacker = get(&node_b.app, "/login", None).await;
    let (body, _) = post_ticket(&node_b, &attacker, &ticket, true).await;
    assert!(body.starts_with('|'), "the other browser: {body}");
    let (body, _) = post_ticket(&h, &victim, &ticket, true).await;
    assert!(body.starts_with("ann|"), "the owner: {body}");
}

/// case 81: the flash a view puts together with session writes it hands over through
/// `Socket::session_form` is shown by the page the POST redirects to, once.
#[tokio::test]
async fn case_81_the_session_form_carries_the_flash_to_the_next_page_once() {
    let h = harness().await;
    let (page, reply) = login(&h, "form").await;
    let ticket = ticket_of(&reply);
    let cookie = page.cookie.clone().unwrap();
    let csrf = page.csrf.clone();
    let post = h
        .app
        .clone()
        .oneshot(
            Request::post("/live/session")
                .header(header::HOST, "127.0.0.1")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "_session_ticket={ticket}&_to=%2Fshown&_csrf_token={csrf}"
                )))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::SEE_OTHER);
    assert_eq!(post.headers()[header::LOCATION], "/shown");
    let cookie = cookie_after(&post, &cookie);
    let show = |cookie: String| {
        let app = h.app.clone();
        async move {
            let res = app
                .oneshot(
                    Request::get("/shown")
                        .header(header::COOKIE, &cookie)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let cookie = cookie_after(&res, &cookie);
            let body = axum::body::to_bytes(res.into_body(), 1 << 16)
                .await
                .unwrap();
            (String::from_utf8(body.to_vec()).unwrap(), cookie)
        }
    };
    let (shown, cookie) = show(cookie).await;
    assert_eq!(
        shown, "Welcome back!",
        "the page after the POST shows the flash"
    );
    let (again, cookie) = show(cookie).await;
    assert_eq!(again, "", "shown once");
    // And the writes were applied with it.
    let (body, _) = get_with_flash(&h.app, "/whoami", &cookie, "x").await;
    assert!(body.starts_with("ann|"), "{body}");
}

/// case 81, redirect path: the flash travels in the redirect's own token (not twice), and the
/// ticket's writes are applied by the same request that shows it.
#[tokio::test]
async fn case_81_a_redirect_shows_the_flash_once_with_the_writes() {
    let h = harness().await;
    let (page, reply) = login(&h, "redirect").await;
    let flash = reply[4]["response"]["redirect"]["flash"].as_str().unwrap();
    let cookie = page.cookie.clone().unwrap();
    let (shown, cookie) = get_with_flash(&h.app, "/shown", &cookie, flash).await;
    assert_eq!(shown, "Welcome back!");
    let cookie = cookie.expect("the renewed session");
    let (body, _) = get_with_flash(&h.app, "/whoami", &cookie, "x").await;
    assert!(body.starts_with("ann|"), "{body}");
    let (again, _) = get_with_flash(&h.app, "/shown", &cookie, "x").await;
    assert_eq!(again, "", "shown once");
}
