//! The demo's login, session and logout over plain HTTP and a raw Phoenix channel client (no
//! browser): what a stolen, replayed or forged cookie, flash token or CSRF token can do.
//!
//! Tests are named after the cases of docs/threat-model.md §6. The HTTP side runs in-process
//! (`tower::ServiceExt::oneshot`); the live login runs over a real socket with
//! tokio-tungstenite, as the official client would, to obtain the redirect's flash token.
//!
//! The login handoff is livefire's: the live view writes the session with
//! `Socket::put_session`, the redirect's flash token carries a single-use ticket (or the
//! registration's `phx-trigger-action` form posts it to `/live/session`), and the ticket waits
//! in the demo's default store, a table of its SQLite file. The handoff tests (cases 18-20)
//! check what the demo relies on from it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use demo::db::Db;
use demo::users::pool::PoolConfig;
use demo::users::throttle::ThrottleConfig;
use demo::users::{BUSY_MESSAGE, User, Users};
use demo::web::auth::USER_TOKEN;
use demo::web::{self, AppState, LOGIN_FAILED};
use futures_util::{SinkExt as _, StreamExt as _};
use livefire::flash::{FLASH_COOKIE, open_flash};
use livefire::session::{CookieSessionLayer, DEFAULT_COOKIE_NAME, Session};
use livefire::token::Keyring;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tower::ServiceExt as _;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const PASSWORD: &str = "correct horse battery";
const EMAIL: &str = "ann@example.com";
/// Purpose the session cookie is sealed under (`session:<cookie name>`).
const SESSION_PURPOSE: &str = "session:livefire_session";

// ---------------------------------------------------------------------------------------------
// A tiny browser: a cookie jar, in-process requests, page parsing and a channel client.
// ---------------------------------------------------------------------------------------------

/// Cookies by name, as a browser would keep them for one origin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Applies `Set-Cookie` headers: an empty value or `Max-Age=0` deletes the cookie.
    fn absorb(&mut self, set_cookies: &[String]) {
        for line in set_cookies {
            let pair = line.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("name=value");
            let expired = line
                .split(';')
                .any(|attr| attr.trim().eq_ignore_ascii_case("Max-Age=0"));
            if expired || value.is_empty() {
                self.0.remove(name.trim());
            } else {
                self.0.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    fn session_cookie(&self) -> Option<&str> {
        self.0.get(DEFAULT_COOKIE_NAME).map(String::as_str)
    }

    fn with(&self, name: &str, value: &str) -> Jar {
        let mut jar = self.clone();
        jar.0.insert(name.to_owned(), value.to_owned());
        jar
    }
}

#[derive(Debug)]
struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    set_cookies: Vec<String>,
    body: String,
}

impl Resp {
    fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// The `Set-Cookie` line of the session cookie, if the response writes it.
    fn session_set_cookie(&self) -> Option<&str> {
        self.set_cookies
            .iter()
            .map(String::as_str)
            .find(|c| c.starts_with(&format!("{DEFAULT_COOKIE_NAME}=")))
    }

    /// Every `Set-Cookie` line of the session cookie, in order.
    fn session_set_cookies(&self) -> Vec<&str> {
        self.set_cookies
            .iter()
            .map(String::as_str)
            .filter(|c| c.starts_with(&format!("{DEFAULT_COOKIE_NAME}=")))
            .collect()
    }

    fn assert_signed_in_as(&self, email: &str, context: &str) {
        assert_eq!(self.status, StatusCode::OK, "{context}: {}", self.body);
        assert!(
            self.body
                .contains(&format!("<p id=\"signed-in\">Signed in as {email}</p>")),
            "{context}: not signed in as {email}: {}",
            self.body
        );
        assert!(
            self.body.contains("id=\"logout\""),
            "{context}: no logout button"
        );
    }

    fn assert_signed_out(&self, context: &str) {
        assert_eq!(self.status, StatusCode::OK, "{context}: {}", self.body);
        assert!(
            self.body.contains("<p id=\"signed-out\">"),
            "{context}: expected the signed-out home page: {}",
            self.body
        );
        assert!(!self.body.contains("id=\"signed-in\""), "{context}");
        assert!(!self.body.contains("id=\"logout\""), "{context}");
    }
}

/// One request through the router, carrying `jar`'s cookies; the jar takes the response cookies.
async fn request(
    app: &Router,
    method: Method,
    path: &str,
    jar: &mut Jar,
    form: Option<&str>,
    extra: &[(&str, &str)],
) -> Resp {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "127.0.0.1");
    if let Some(cookie) = jar.header() {
        req = req.header(header::COOKIE, cookie);
    }
    if form.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    let body = form.map_or_else(Body::empty, |f| Body::from(f.to_owned()));
    let res = app
        .clone()
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("infallible router");
    let status = res.status();
    let headers = res.headers().clone();
    let set_cookies: Vec<String> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii cookie").to_owned())
        .collect();
    jar.absorb(&set_cookies);
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .expect("body");
    Resp {
        status,
        headers,
        set_cookies,
        body: String::from_utf8(body.to_vec()).expect("utf-8"),
    }
}

async fn get(app: &Router, path: &str, jar: &mut Jar) -> Resp {
    request(app, Method::GET, path, jar, None, &[]).await
}

/// `POST /logout` with `token` as the form's `_csrf_token` (or no field at all).
async fn post_logout(app: &Router, jar: &mut Jar, token: Option<&str>) -> Resp {
    let form = token.map_or_else(String::new, |t| format!("_csrf_token={t}"));
    request(app, Method::POST, "/logout", jar, Some(&form), &[]).await
}

fn attr(html: &str, name: &str) -> String {
    let needle = format!("{name}=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("attribute {name} not found in {html}"))
        + needle.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_owned()
}

/// The CSRF token of the page's `<meta name="csrf-token">`.
fn csrf_meta(html: &str) -> String {
    let at = html.find("name=\"csrf-token\"").expect("csrf meta tag");
    attr(&html[at..], "content")
}

/// The live container of a dead-rendered live page.
#[derive(Debug, Clone)]
struct LivePage {
    path: String,
    id: String,
    session: String,
    static_token: String,
    csrf: String,
}

impl LivePage {
    fn parse(path: &str, html: &str) -> Self {
        let marker = html.find(" data-phx-main").expect("a live container");
        let open = html[..marker].rfind("<div").expect("container tag");
        let tag = &html[open..];
        LivePage {
            path: path.to_owned(),
            id: attr(tag, "id"),
            session: attr(tag, "data-phx-session"),
            static_token: attr(tag, "data-phx-static"),
            csrf: csrf_meta(html),
        }
    }

    fn topic(&self) -> String {
        format!("lv:{}", self.id)
    }
}

/// Serves `app` on loopback; the returned handle stops accepting connections when aborted.
async fn serve(app: Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        // As the binary does: peers are recorded, so the live views see the client address.
        livefire::serve(listener, app).await.expect("server");
    });
    (addr, task)
}

/// Opens `/live/websocket` with the jar's cookies and `csrf` (as the official client does).
async fn connect(addr: SocketAddr, jar: &Jar, csrf: &str) -> Ws {
    let url = format!("ws://{addr}/live/websocket?vsn=2.0.0&_csrf_token={csrf}");
    let mut req = url.into_client_request().expect("ws request");
    if let Some(cookie) = jar.header() {
        req.headers_mut().insert(
            header::COOKIE,
            HeaderValue::from_str(&cookie).expect("cookie"),
        );
    }
    tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket upgrade")
        .0
}

async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .expect("send");
}

/// Waits (5 s at most) for the `phx_reply` to `msg_ref` and returns its payload
/// (`{"status": .., "response": ..}`).
async fn reply_to(ws: &mut Ws, msg_ref: &str) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("timed out waiting for a reply")
            .expect("socket closed")
            .expect("socket error");
        if let Message::Text(text) = msg {
            let frame: Value = serde_json::from_str(&text).expect("json frame");
            if frame[1] == msg_ref && frame[3] == "phx_reply" {
                return frame[4].clone();
            }
        }
    }
}

/// Joins `page` and returns the join reply.
async fn join(ws: &mut Ws, page: &LivePage) -> Value {
    send(
        ws,
        json!([
            "1",
            "1",
            page.topic(),
            "phx_join",
            {
                "url": format!("http://127.0.0.1{}", page.path),
                "params": {"_csrf_token": page.csrf, "_mounts": 0, "_mount_attempts": 0},
                "session": page.session,
                "static": page.static_token,
                "sticky": false
            }
        ]),
    )
    .await;
    reply_to(ws, "1").await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Submits the login form of `/login` over the channel and returns the event's reply.
async fn submit_login(
    addr: SocketAddr,
    app: &Router,
    jar: &mut Jar,
    email: &str,
    password: &str,
) -> Value {
    submit_form(addr, app, jar, "/login", "login", email, password)
        .await
        .1
}

/// Loads the live page `path`, joins it and submits its form as `event` with `email` and
/// `password`; returns the page and the event's reply (`{"diff": …}` or `{"redirect": …}`).
async fn submit_form(
    addr: SocketAddr,
    app: &Router,
    jar: &mut Jar,
    path: &str,
    event: &str,
    email: &str,
    password: &str,
) -> (LivePage, Value) {
    let form = format!(
        "email={}&password={}",
        urlencode(email),
        urlencode(password)
    );
    submit_raw_form(addr, app, jar, path, event, &form).await
}

/// [`submit_form`] with the form's url-encoded body as given.
async fn submit_raw_form(
    addr: SocketAddr,
    app: &Router,
    jar: &mut Jar,
    path: &str,
    event: &str,
    form: &str,
) -> (LivePage, Value) {
    let res = get(app, path, jar).await;
    assert_eq!(res.status, StatusCode::OK, "GET {path}: {}", res.body);
    let page = LivePage::parse(path, &res.body);
    let mut ws = connect(addr, jar, &page.csrf).await;
    let joined = join(&mut ws, &page).await;
    assert_eq!(joined["status"], "ok", "join {path}: {joined}");
    send(
        &mut ws,
        json!(["1", "2", page.topic(), "event", {"type": "form", "event": event, "value": form, "meta": {}}]),
    )
    .await;
    let reply = reply_to(&mut ws, "2").await;
    assert_eq!(reply["status"], "ok", "{event} event: {reply}");
    let _ = ws.close(None).await;
    (page, reply["response"].clone())
}

/// Logs in like the browser: the live form hands back `{"redirect": {"to", "flash"}}`, the
/// client stores the flash token in `__phoenix_flash__` and loads `/account`. Returns that
/// response and the flash token.
async fn log_in(addr: SocketAddr, app: &Router, jar: &mut Jar, email: &str) -> (Resp, String) {
    let token = login_flash_token(addr, app, jar, email).await;
    jar.0.insert(FLASH_COOKIE.to_owned(), token.clone());
    let res = get(app, "/account", jar).await;
    (res, token)
}

/// The flash token of a successful live login (not yet presented to the HTTP side).
async fn login_flash_token(addr: SocketAddr, app: &Router, jar: &mut Jar, email: &str) -> String {
    let response = submit_login(addr, app, jar, email, PASSWORD).await;
    let redirect = &response["redirect"];
    assert_eq!(redirect["to"], "/account", "{response}");
    redirect["flash"]
        .as_str()
        .unwrap_or_else(|| panic!("no flash token in {response}"))
        .to_owned()
}

/// An app on a private database file (so the login tickets wait in the demo's default SQLite
/// store) with one registered user.
struct Fixture {
    app: Router,
    addr: SocketAddr,
    users: Users,
    keyring: Keyring,
    user: User,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    fixture_with(|users| users).await
}

/// [`fixture`] with the user store adjusted by `configure` (throttle, password pool).
async fn fixture_with(configure: impl FnOnce(Users) -> Users) -> Fixture {
    fixture_with_options(configure, web::Options::default()).await
}

/// [`fixture_with`], deployed as `options` say.
async fn fixture_with_options(
    configure: impl FnOnce(Users) -> Users,
    options: web::Options,
) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("demo.sqlite3");
    let db = tokio::task::spawn_blocking(move || Db::open(&path))
        .await
        .expect("task")
        .expect("db");
    let keyring = Keyring::random();
    let users = configure(Users::new(db));
    let user = users.register(EMAIL, PASSWORD).await.expect("register");
    let app = web::app_with(
        AppState {
            users: users.clone(),
            keyring: keyring.clone(),
            secure_cookies: false,
        },
        options,
    );
    let (addr, _server) = serve(app.clone()).await;
    Fixture {
        app,
        addr,
        users,
        keyring,
        user,
        _dir: dir,
    }
}

impl Fixture {
    /// A fresh browser, logged in through the live form; asserts it landed on `/account`.
    async fn logged_in_browser(&self) -> Jar {
        let mut jar = Jar::default();
        let (res, _) = log_in(self.addr, &self.app, &mut jar, EMAIL).await;
        res.assert_signed_in_as(EMAIL, "after login");
        assert!(!jar.0.contains_key(FLASH_COOKIE), "flash cookie deleted");
        jar
    }

    async fn session_rows(&self) -> i64 {
        self.users
            .db()
            .expect("SQLite")
            .call(|c| {
                c.query_row(
                    "SELECT count(*) FROM user_tokens WHERE context = 'session'",
                    [],
                    |r| r.get(0),
                )
            })
            .await
            .expect("count")
    }

    /// The server's view of the jar's session cookie.
    fn session(&self, jar: &Jar) -> Session {
        let mut headers = HeaderMap::new();
        if let Some(cookie) = jar.header() {
            headers.insert(
                header::COOKIE,
                HeaderValue::from_str(&cookie).expect("cookie"),
            );
        }
        CookieSessionLayer::new(self.keyring.clone()).session_from_headers(&headers)
    }

    /// The decrypted session cookie: `{"id", "csrf", "created", "data"}`.
    fn session_payload(&self, jar: &Jar) -> Value {
        let cookie = jar.session_cookie().expect("a session cookie");
        self.keyring
            .open(SESSION_PURPOSE, cookie)
            .expect("the session cookie opens with the app's keyring")
    }
}

fn session_id(payload: &Value) -> String {
    payload["id"].as_str().expect("session id").to_owned()
}

fn data_keys(payload: &Value) -> Vec<String> {
    payload["data"]
        .as_object()
        .expect("data object")
        .keys()
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_form_with_a_wrong_password_answers_live_without_redirect() {
    let f = fixture().await;
    let mut jar = Jar::default();
    let response = submit_login(f.addr, &f.app, &mut jar, EMAIL, "wrong password here").await;
    assert!(response.get("redirect").is_none(), "{response}");
    let diff = response["diff"].to_string();
    assert!(diff.contains("Unable to validate your account."), "{diff}");
    // Unknown account: the very same message.
    let response = submit_login(f.addr, &f.app, &mut jar, "nobody@example.com", PASSWORD).await;
    assert!(response.get("redirect").is_none(), "{response}");
    assert!(
        response["diff"]
            .to_string()
            .contains("Unable to validate your account.")
    );
    assert_eq!(f.session_rows().await, 0);
    get(&f.app, "/", &mut jar)
        .await
        .assert_signed_out("after failed logins");
}

/// docs/threat-model.md case 68: a copy of the session cookie taken before logout is worthless after it.
#[tokio::test]
async fn case_68_session_cookie_copied_before_logout_no_longer_authenticates() {
    let f = fixture().await;
    let mut jar = f.logged_in_browser().await;
    let stolen = jar.clone();

    let home = get(&f.app, "/", &mut jar).await;
    home.assert_signed_in_as(EMAIL, "home before logout");
    // The stolen copy works for now (a bearer cookie), which is what makes the test meaningful.
    get(&f.app, "/", &mut stolen.clone())
        .await
        .assert_signed_in_as(EMAIL, "stolen copy before logout");

    let res = post_logout(&f.app, &mut jar, Some(&csrf_meta(&home.body))).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), Some("/"));
    assert_eq!(f.session_rows().await, 0, "logout deletes the token row");
    let home = get(&f.app, "/", &mut jar).await;
    home.assert_signed_out("home after logout");
    assert!(
        home.body.contains("Logged out successfully."),
        "{}",
        home.body
    );

    // Replaying the pre-logout cookie: anonymous everywhere.
    let mut replay = stolen.clone();
    get(&f.app, "/", &mut replay)
        .await
        .assert_signed_out("stolen copy after logout");
    let mut replay = stolen.clone();
    let account = get(&f.app, "/account", &mut replay).await;
    assert_eq!(account.status, StatusCode::FOUND, "{}", account.body);
    assert_eq!(account.location(), Some("/login"));
    // The server also drops the dead token from that cookie.
    let payload = f.session_payload(&replay);
    assert!(payload["data"].get("user_token").is_none(), "{payload}");
}

/// The attributes of a `Set-Cookie` line other than its value and lifetime, sorted.
fn cookie_attributes(line: &str) -> Vec<String> {
    let mut attrs: Vec<String> = line
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .filter(|a| !a.starts_with("max-age=") && !a.starts_with("expires="))
        .collect();
    attrs.sort();
    attrs
}

/// docs/threat-model.md case 67: logout answers with `Clear-Site-Data: "cache"` and an expired
/// `Set-Cookie` for the session cookie with the attributes it was set with (here a 60-day
/// "remember me" cookie), before the fresh anonymous cookie that carries the goodbye flash;
/// the old cookie no longer signs anybody in.
#[tokio::test]
async fn case_67_logout_clears_the_cache_and_expires_the_session_cookie() {
    let f = fixture().await;
    let mut jar = Jar::default();
    let res = log_in_remembering(&f, &mut jar, true).await;
    let login_line = res
        .session_set_cookie()
        .expect("the login writes the cookie")
        .to_owned();
    assert!(
        max_age(&login_line).is_some_and(|age| age > 0),
        "{login_line}"
    );
    let old_cookie = jar.session_cookie().expect("a session cookie").to_owned();
    let before = jar.clone();

    let out = post_logout(&f.app, &mut jar, Some(&csrf_meta(&res.body))).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    assert_eq!(out.location(), Some("/"));
    assert_eq!(
        out.headers
            .get_all("clear-site-data")
            .iter()
            .collect::<Vec<_>>(),
        ["\"cache\""]
    );
    let lines = out.session_set_cookies();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (removal, fresh) = (lines[0], lines[1]);
    assert!(
        removal.starts_with(&format!("{DEFAULT_COOKIE_NAME}=;")),
        "{removal}"
    );
    assert_eq!(max_age(removal), Some(0), "{removal}");
    assert_eq!(cookie_attributes(removal), cookie_attributes(&login_line));
    assert_eq!(
        cookie_attributes(removal),
        ["httponly", "path=/", "samesite=lax"]
    );
    // The fresh cookie: same attributes, a browser-session cookie with another value.
    assert_eq!(max_age(fresh), None, "{fresh}");
    assert_eq!(cookie_attributes(fresh), cookie_attributes(&login_line));
    assert_ne!(jar.session_cookie(), Some(old_cookie.as_str()));
    assert_eq!(out.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(f.session_rows().await, 0, "the token row is deleted");

    // This browser: signed out, with the goodbye flash once.
    let home = get(&f.app, "/", &mut jar).await;
    home.assert_signed_out("after logout");
    assert!(
        home.body.contains("Logged out successfully."),
        "{}",
        home.body
    );
    // The old cookie, replayed: anonymous, and /account sends it to /login.
    get(&f.app, "/", &mut before.clone())
        .await
        .assert_signed_out("the old cookie after logout");
    let account = get(&f.app, "/account", &mut before.clone()).await;
    assert_eq!(account.status, StatusCode::FOUND, "{}", account.body);
    assert_eq!(account.location(), Some("/login"));
}

/// docs/threat-model.md case 62: an unsafe request without a valid CSRF token of *this* session is
/// refused with 403, and nothing changes (the user stays logged in).
#[tokio::test]
async fn case_62_post_without_or_with_a_wrong_csrf_token_is_403_and_changes_nothing() {
    let f = fixture().await;
    let mut jar = f.logged_in_browser().await;
    let before = jar.clone();

    // A token that is valid, but for another browser's session.
    let mut other = Jar::default();
    let foreign = csrf_meta(&get(&f.app, "/", &mut other).await.body);
    let good = csrf_meta(&get(&f.app, "/", &mut jar).await.body);
    assert_eq!(jar, before, "a GET of / leaves the logged-in session alone");
    let mut tampered = good.clone().into_bytes();
    tampered[50] = if tampered[50] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");

    let attempts: Vec<(&str, Resp)> = vec![
        ("no field", post_logout(&f.app, &mut jar, None).await),
        ("empty", post_logout(&f.app, &mut jar, Some("")).await),
        (
            "garbage",
            post_logout(&f.app, &mut jar, Some("garbage")).await,
        ),
        (
            "tampered",
            post_logout(&f.app, &mut jar, Some(&tampered)).await,
        ),
        (
            "other session's",
            post_logout(&f.app, &mut jar, Some(&foreign)).await,
        ),
        (
            "other session's, in the header",
            request(
                &f.app,
                Method::POST,
                "/logout",
                &mut jar,
                None,
                &[("x-csrf-token", foreign.as_str())],
            )
            .await,
        ),
        (
            "JSON body",
            request(
                &f.app,
                Method::POST,
                "/logout",
                &mut jar,
                None,
                &[("content-type", "application/json")],
            )
            .await,
        ),
        (
            "POST to a live route",
            request(&f.app, Method::POST, "/account", &mut jar, Some("x=1"), &[]).await,
        ),
        (
            "POST to /",
            request(&f.app, Method::POST, "/", &mut jar, Some(""), &[]).await,
        ),
    ];
    for (what, res) in &attempts {
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{what}: {}", res.body);
        assert_eq!(
            res.session_set_cookie(),
            None,
            "{what}: the session must not change"
        );
        assert_eq!(jar, before, "{what}: no cookie changed");
    }
    assert_eq!(
        f.session_rows().await,
        1,
        "the login's token row is still there"
    );
    get(&f.app, "/", &mut jar)
        .await
        .assert_signed_in_as(EMAIL, "after the refused POSTs");
    let account = get(&f.app, "/account", &mut jar).await;
    account.assert_signed_in_as(EMAIL, "/account after the refused POSTs");

    // The same request with the right token goes through (the refusals were about the token).
    let res = post_logout(&f.app, &mut jar, Some(&good)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(f.session_rows().await, 0);
}

/// docs/threat-model.md case 18: a consumed login flash token presented again from the same browser
/// logs nobody in again and changes no session. (The flash token carries livefire's session
/// ticket; after the login the session id changed, so the token no longer even opens.)
#[tokio::test]
async fn case_18_consumed_login_flash_token_replayed_is_rejected() {
    let f = fixture().await;
    let mut jar = Jar::default();
    let (res, token) = log_in(f.addr, &f.app, &mut jar, EMAIL).await;
    res.assert_signed_in_as(EMAIL, "first use of the handoff");
    assert!(res.body.contains("Welcome back!"), "{}", res.body);
    assert_eq!(f.session_rows().await, 1);
    let logged_in = jar.clone();
    let id = session_id(&f.session_payload(&jar));

    // Same browser, same token again.
    let mut replay = jar.with(FLASH_COOKIE, &token);
    let res = get(&f.app, "/account", &mut replay).await;
    res.assert_signed_in_as(EMAIL, "still the old login");
    assert!(
        !res.body.contains("Welcome back!"),
        "the flash is not shown twice"
    );
    assert_eq!(
        res.session_set_cookie(),
        None,
        "no session change: {:?}",
        res.set_cookies
    );
    assert!(
        res.set_cookies
            .iter()
            .any(|c| c.starts_with("__phoenix_flash__=;") && c.contains("Max-Age=0")),
        "the replayed flash cookie is deleted: {:?}",
        res.set_cookies
    );
    assert_eq!(replay, logged_in);
    assert_eq!(session_id(&f.session_payload(&replay)), id);
    assert_eq!(f.session_rows().await, 1, "no new login");

    // After logging out, the same browser replaying the token stays logged out.
    let csrf = csrf_meta(&get(&f.app, "/", &mut jar).await.body);
    post_logout(&f.app, &mut jar, Some(&csrf)).await;
    let mut replay = jar.with(FLASH_COOKIE, &token);
    let res = get(&f.app, "/account", &mut replay).await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(res.location(), Some("/login"));
    get(&f.app, "/", &mut replay)
        .await
        .assert_signed_out("replay after logout");
    assert_eq!(f.session_rows().await, 0);
}

/// docs/threat-model.md case 19: a login flash token lifted from the victim's browser and presented by
/// another browser (its own session, or none) logs nobody in: livefire binds the flash token
/// and the ticket inside it to the victim's session id.
#[tokio::test]
async fn case_19_login_flash_token_replayed_from_another_browser_is_rejected() {
    let f = fixture().await;
    let mut victim = Jar::default();
    let token = login_flash_token(f.addr, &f.app, &mut victim, EMAIL).await;

    // The attacker uses it first, with a session of their own...
    let mut attacker = Jar::default();
    get(&f.app, "/login", &mut attacker).await;
    let mut attempt = attacker.with(FLASH_COOKIE, &token);
    let res = get(&f.app, "/account", &mut attempt).await;
    assert_eq!(res.status, StatusCode::FOUND, "{}", res.body);
    assert_eq!(res.location(), Some("/login"));
    let login = get(&f.app, "/login", &mut attempt).await;
    assert!(
        login.body.contains("You must log in to access this page."),
        "{}",
        login.body
    );
    assert!(!login.body.contains("Welcome back!"));
    get(&f.app, "/", &mut attempt)
        .await
        .assert_signed_out("attacker with own session");

    // ... and with no session cookie at all.
    let mut bare = Jar::default().with(FLASH_COOKIE, &token);
    let res = get(&f.app, "/account", &mut bare).await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(res.location(), Some("/login"));
    // The live view minted the victim's session token when the password checked out; it waits
    // in the ticket, unredeemed (before livefire's tickets the demo minted it on redemption,
    // and this count was 0).
    assert_eq!(f.session_rows().await, 1, "no other login happened");
    assert_eq!(
        f.session(&attempt).get::<String>("user_token"),
        None,
        "the attacker's session got no token"
    );

    // The token itself was good: the victim's browser still logs in with it.
    victim.0.insert(FLASH_COOKIE.to_owned(), token);
    get(&f.app, "/account", &mut victim)
        .await
        .assert_signed_in_as(EMAIL, "victim");
    assert_eq!(f.session_rows().await, 1);
}

/// docs/threat-model.md case 11: a planted pre-login session (known id, known CSRF token, extra data)
/// does not survive login; logout renews everything again.
#[tokio::test]
async fn case_11_session_id_and_csrf_token_change_on_login_and_on_logout() {
    let f = fixture().await;

    // The attacker's session, with a key of their choosing, planted in the victim's browser.
    let mut jar = Jar::default();
    let login_page = get(&f.app, "/login", &mut jar).await;
    let planted_csrf = csrf_meta(&login_page.body);
    let mut payload = f.session_payload(&jar);
    payload["data"]["k"] = json!("v");
    let planted = f
        .keyring
        .seal(SESSION_PURPOSE, &payload, Duration::from_secs(3600));
    jar.0.insert(DEFAULT_COOKIE_NAME.to_owned(), planted);
    let attacker_copy = jar.clone();
    let pre = f.session_payload(&jar);
    assert_eq!(f.session(&jar).get::<String>("k").as_deref(), Some("v"));
    assert!(f.session(&jar).verify_csrf_token(&planted_csrf));

    // The victim logs in through this browser.
    let (res, _) = log_in(f.addr, &f.app, &mut jar, EMAIL).await;
    res.assert_signed_in_as(EMAIL, "after login");
    let post = f.session_payload(&jar);
    assert_ne!(
        session_id(&post),
        session_id(&pre),
        "new session id on login"
    );
    assert_ne!(post["csrf"], pre["csrf"], "new CSRF secret on login");
    assert_eq!(
        data_keys(&post),
        ["user_token"],
        "planted data is gone: {post}"
    );
    let session = f.session(&jar);
    assert!(
        !session.verify_csrf_token(&planted_csrf),
        "the planted CSRF token is dead"
    );
    let page_csrf = csrf_meta(&res.body);
    assert!(session.verify_csrf_token(&page_csrf));
    // The attacker's copy of the planted cookie did not become a login.
    let mut attacker = attacker_copy.clone();
    get(&f.app, "/", &mut attacker)
        .await
        .assert_signed_out("the attacker's planted cookie");
    assert!(!f.session(&attacker_copy).verify_csrf_token(&page_csrf));

    // Logout renews again.
    let res = post_logout(&f.app, &mut jar, Some(&page_csrf)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let out = f.session_payload(&jar);
    assert_ne!(
        session_id(&out),
        session_id(&post),
        "new session id on logout"
    );
    assert_ne!(session_id(&out), session_id(&pre));
    assert_ne!(out["csrf"], post["csrf"], "new CSRF secret on logout");
    assert!(out["data"].get("user_token").is_none(), "{out}");
    assert!(!f.session(&jar).verify_csrf_token(&page_csrf));
    // The logged-in CSRF token cannot be used against the new session.
    let res = post_logout(&f.app, &mut jar, Some(&page_csrf)).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

/// docs/threat-model.md case 36: a page dead-rendered while logged in, joined after a logout deleted the
/// token, is redirected to the login page. Authentication is re-checked from the cookie
/// session at join, not taken from the page token.
#[tokio::test]
async fn case_36_join_of_account_after_logout_deleted_the_token_redirects_to_login() {
    let f = fixture().await;
    let mut jar = f.logged_in_browser().await;
    let account = get(&f.app, "/account", &mut jar).await;
    account.assert_signed_in_as(EMAIL, "/account");
    let page = LivePage::parse("/account", &account.body);

    // Sanity: while logged in, the page joins and shows the user.
    let mut ws = connect(f.addr, &jar, &page.csrf).await;
    let joined = join(&mut ws, &page).await;
    assert_eq!(joined["status"], "ok", "{joined}");
    assert!(joined.to_string().contains(EMAIL), "{joined}");
    let _ = ws.close(None).await;

    // Logout in another tab (the cookie of this tab is the pre-logout one).
    let tab = jar.clone();
    let res = post_logout(&f.app, &mut jar, Some(&page.csrf)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(f.session_rows().await, 0);

    let mut ws = connect(f.addr, &tab, &page.csrf).await;
    let joined = join(&mut ws, &page).await;
    assert_eq!(joined["status"], "error", "{joined}");
    let redirect = &joined["response"]["redirect"];
    assert_eq!(redirect["to"], "/login", "{joined}");
    assert!(!joined.to_string().contains(EMAIL), "{joined}");
    let sid = session_id(&f.session_payload(&tab));
    let flash = open_flash(
        &f.keyring,
        &sid,
        redirect["flash"].as_str().expect("a flash token"),
    )
    .expect("the flash token is bound to this browser's session");
    assert_eq!(
        flash.get_str("error"),
        Some("You must log in to access this page.")
    );
    let _ = ws.close(None).await;

    // With the browser's current (post-logout) cookie the old page's CSRF token is dead: the
    // socket gets no session, the join is refused as stale and the client reloads the page,
    // whose dead render redirects to /login.
    let mut ws = connect(f.addr, &jar, &page.csrf).await;
    let joined = join(&mut ws, &page).await;
    assert_eq!(joined["status"], "error", "{joined}");
    assert_eq!(joined["response"]["reason"], "stale", "{joined}");
    let res = get(&f.app, "/account", &mut jar).await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(res.location(), Some("/login"));
}

/// docs/threat-model.md R1: the session cookie holds an opaque random token and nothing about the user.
#[tokio::test]
async fn r1_session_cookie_holds_only_an_opaque_token() {
    let f = fixture().await;
    let mut jar = Jar::default();
    let (res, _) = log_in(f.addr, &f.app, &mut jar, EMAIL).await;
    res.assert_signed_in_as(EMAIL, "after login");
    let set_cookie = res
        .session_set_cookie()
        .expect("login writes the session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(flag), "{flag} missing: {set_cookie}");
    }
    assert!(
        !set_cookie.contains("Max-Age") && !set_cookie.contains("Domain"),
        "{set_cookie}"
    );
    assert_eq!(
        res.headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );

    let cookie = jar.session_cookie().expect("session cookie").to_owned();
    let raw = URL_SAFE_NO_PAD.decode(&cookie).expect("base64url cookie");
    assert!(
        !raw.windows(EMAIL.len()).any(|w| w == EMAIL.as_bytes()),
        "encrypted, not only signed"
    );
    assert!(
        cookie.len() < 400,
        "a small session: {} bytes",
        cookie.len()
    );

    let payload = f.session_payload(&jar);
    let mut top: Vec<&String> = payload.as_object().expect("object").keys().collect();
    top.sort();
    assert_eq!(top, ["created", "csrf", "data", "id"], "{payload}");
    assert_eq!(data_keys(&payload), ["user_token"], "{payload}");
    let token = payload["data"]["user_token"]
        .as_str()
        .expect("a string token");
    assert_eq!(token.len(), 43);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let text = payload.to_string();
    assert!(!text.contains(EMAIL), "{text}");
    assert!(
        !text.contains("email") && !text.contains("user_id"),
        "{text}"
    );
    // It is a credential only through the database.
    assert_eq!(
        f.users.user_by_session_token(token).await.expect("lookup"),
        Some(f.user.clone())
    );

    // The same, through the library's own view of the cookie.
    let session = f.session(&jar);
    assert_eq!(session.data().keys().collect::<Vec<_>>(), ["user_token"]);

    // After logout the only data is the internal flash key.
    let csrf = csrf_meta(&res.body);
    post_logout(&f.app, &mut jar, Some(&csrf)).await;
    let payload = f.session_payload(&jar);
    assert_eq!(data_keys(&payload), ["_flash"], "{payload}");
    assert!(!payload.to_string().contains(EMAIL));
}

/// docs/threat-model.md case 9 (non-secure dev mode vs production): the cookie's name and flags.
#[tokio::test]
async fn case_9_secure_mode_uses_the_host_prefix_and_secure_flag() {
    let users = Users::new(Db::open_in_memory().expect("db"));
    let app = web::app(AppState {
        users,
        keyring: Keyring::random(),
        secure_cookies: true,
    });
    let mut jar = Jar::default();
    let res = get(&app, "/login", &mut jar).await;
    let set_cookie = res
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-livefire_session="))
        .unwrap_or_else(|| panic!("{:?}", res.set_cookies));
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(set_cookie.contains(flag), "{flag} missing: {set_cookie}");
    }
    assert!(!set_cookie.contains("Domain") && !set_cookie.contains("Max-Age"));
}

/// docs/threat-model.md case 73: after a server restart (same secret, same database file) the browser is
/// still logged in, over HTTP and on a live join.
#[tokio::test]
async fn case_73_login_survives_a_server_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("demo.sqlite3");
    let secret = [0x42u8; 64];
    let start = |path: std::path::PathBuf| async move {
        let db = tokio::task::spawn_blocking(move || Db::open(&path))
            .await
            .expect("task")
            .expect("db");
        let users = Users::new(db);
        let app = web::app(AppState {
            users: users.clone(),
            keyring: Keyring::new(secret).expect("keyring"),
            secure_cookies: false,
        });
        (users, app)
    };

    let (users, app) = start(path.clone()).await;
    users.register(EMAIL, PASSWORD).await.expect("register");
    let (addr, server) = serve(app.clone()).await;
    let mut jar = Jar::default();
    let (res, _) = log_in(addr, &app, &mut jar, EMAIL).await;
    res.assert_signed_in_as(EMAIL, "before the restart");
    server.abort();
    drop((users, app));

    let (_users, app) = start(path).await;
    let (addr, _server) = serve(app.clone()).await;
    get(&app, "/", &mut jar)
        .await
        .assert_signed_in_as(EMAIL, "/ after the restart");
    let account = get(&app, "/account", &mut jar).await;
    account.assert_signed_in_as(EMAIL, "/account after the restart");
    let page = LivePage::parse("/account", &account.body);
    let mut ws = connect(addr, &jar, &page.csrf).await;
    let joined = join(&mut ws, &page).await;
    assert_eq!(joined["status"], "ok", "{joined}");
    assert!(joined.to_string().contains(EMAIL), "{joined}");
}

/// docs/threat-model.md cases 73 and 77: a login in flight across a restart completes once. The
/// live view checked the password and minted the ticket on the old process; the browser
/// follows the redirect to the new one (same secret, same database file), which finds the
/// ticket in the SQLite store and logs in, exactly once.
#[tokio::test]
async fn case_73_77_a_login_ticket_minted_before_a_restart_is_redeemed_once_after_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("demo.sqlite3");
    let secret = [0x43u8; 64];
    let start = |path: std::path::PathBuf| async move {
        let db = tokio::task::spawn_blocking(move || Db::open(&path))
            .await
            .expect("task")
            .expect("db");
        let users = Users::new(db);
        let app = web::app(AppState {
            users: users.clone(),
            keyring: Keyring::new(secret).expect("keyring"),
            secure_cookies: false,
        });
        (users, app)
    };

    let (users, app) = start(path.clone()).await;
    users.register(EMAIL, PASSWORD).await.expect("register");
    let (addr, server) = serve(app.clone()).await;
    let mut jar = Jar::default();
    let token = login_flash_token(addr, &app, &mut jar, EMAIL).await;
    server.abort();
    drop((users, app));

    let (_users, app) = start(path).await;
    let pre_login = jar.clone();
    let mut jar = jar.with(FLASH_COOKIE, &token);
    get(&app, "/account", &mut jar)
        .await
        .assert_signed_in_as(EMAIL, "the ticket survived the restart");
    let mut replay = pre_login.with(FLASH_COOKIE, &token);
    let res = get(&app, "/account", &mut replay).await;
    assert_eq!(res.status, StatusCode::FOUND, "redeemed once only");
}

/// docs/threat-model.md case 18, stricter form: the consumed handoff presented again together with the
/// *pre-login* session cookie (which a cookie-only session cannot revoke) must not log in again.
/// The flash opens (same session id), but livefire's ticket inside it was taken from the store
/// on first use (`DELETE .. RETURNING` in the demo's SQLite file).
#[tokio::test]
async fn case_18_handoff_replayed_with_the_pre_login_cookie_is_rejected() {
    let f = fixture().await;
    let mut jar = Jar::default();
    let token = login_flash_token(f.addr, &f.app, &mut jar, EMAIL).await;
    let pre_login = jar.clone();
    jar.0.insert(FLASH_COOKIE.to_owned(), token.clone());
    get(&f.app, "/account", &mut jar)
        .await
        .assert_signed_in_as(EMAIL, "first use");
    assert_eq!(f.session_rows().await, 1);

    let mut replay = pre_login.with(FLASH_COOKIE, &token);
    let res = get(&f.app, "/account", &mut replay).await;
    assert_eq!(res.status, StatusCode::FOUND, "logged in again");
    assert_eq!(f.session_rows().await, 1, "a second login happened");
}

/// docs/threat-model.md case 20: two parallel requests carrying the same handoff log in exactly once
/// (the SQLite ticket store's take is atomic).
#[tokio::test]
async fn case_20_parallel_handoffs_log_in_exactly_once() {
    let f = fixture().await;
    let mut jar = Jar::default();
    let token = login_flash_token(f.addr, &f.app, &mut jar, EMAIL).await;
    let jar = jar.with(FLASH_COOKIE, &token);
    let (mut a, mut b) = (jar.clone(), jar);
    let (ra, rb) = tokio::join!(
        get(&f.app, "/account", &mut a),
        get(&f.app, "/account", &mut b)
    );
    let logged_in = [&ra, &rb]
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!(logged_in, 1, "{} and {}", ra.status, rb.status);
    assert_eq!(f.session_rows().await, 1);
}

/// docs/threat-model.md case 67: logout closes every live socket of that login (code 1001), in every tab;
/// the rejoin of the closed tab is refused (redirect to /login).
#[tokio::test]
async fn case_67_logout_disconnects_every_live_socket_of_the_login() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let f = fixture().await;
    let mut jar = f.logged_in_browser().await;
    let account = get(&f.app, "/account", &mut jar).await;
    let page = LivePage::parse("/account", &account.body);
    let mut tab_a = connect(f.addr, &jar, &page.csrf).await;
    assert_eq!(join(&mut tab_a, &page).await["status"], "ok");
    let second = get(&f.app, "/account", &mut jar).await;
    let second_page = LivePage::parse("/account", &second.body);
    let mut tab_b = connect(f.addr, &jar, &second_page.csrf).await;
    assert_eq!(join(&mut tab_b, &second_page).await["status"], "ok");
    // Another user's socket must stay open.
    let mut other = Jar::default();
    let login = get(&f.app, "/login", &mut other).await;
    let login_page = LivePage::parse("/login", &login.body);
    let mut bystander = connect(f.addr, &other, &login_page.csrf).await;
    assert_eq!(join(&mut bystander, &login_page).await["status"], "ok");

    let tab_cookie = jar.clone();
    let res = post_logout(&f.app, &mut jar, Some(&page.csrf)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);

    for ws in [&mut tab_a, &mut tab_b] {
        let closed = tokio::time::timeout(std::time::Duration::from_secs(1), async {
            loop {
                match ws.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => return Some(u16::from(frame.code)),
                    Some(Ok(_)) => {}
                    _ => return None,
                }
            }
        })
        .await
        .expect("closed within 1 s");
        assert_eq!(closed, Some(1001));
    }
    // The client reconnects at once and rejoins: refused, it goes to the login page.
    let mut again = connect(f.addr, &tab_cookie, &page.csrf).await;
    let joined = join(&mut again, &page).await;
    assert_eq!(joined["response"]["redirect"]["to"], "/login", "{joined}");
    // The bystander is untouched.
    send(
        &mut bystander,
        serde_json::json!(["1", "99", login_page.topic(), "event",
            {"type": "form", "event": "validate", "value": "email=x", "meta": {"_target": "email"}}]),
    )
    .await;
    assert_eq!(reply_to(&mut bystander, "99").await["status"], "ok");
}

/// Waits up to `within` for `ws` to be closed by the server; the close code, or `None` if it
/// stayed open (or ended without a close frame).
async fn closed_within(ws: &mut Ws, within: Duration) -> Option<u16> {
    tokio::time::timeout(within, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return Some(u16::from(frame.code)),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .ok()
    .flatten()
}

/// A logged-in browser's `/account` page, joined over its own socket.
async fn joined_account(f: &Fixture, jar: &mut Jar) -> (LivePage, Ws) {
    let account = get(&f.app, "/account", jar).await;
    let page = LivePage::parse("/account", &account.body);
    let mut ws = connect(f.addr, jar, &page.csrf).await;
    assert_eq!(join(&mut ws, &page).await["status"], "ok");
    (page, ws)
}

/// docs/threat-model.md case 78 (fail closed): with no disconnect broadcast at all (the
/// token is deleted straight in the store, as another node would with Redis down), the
/// periodic revalidation closes the revoked login's socket within the period, and leaves
/// another login's socket open.
#[tokio::test]
async fn case_78_revoked_login_socket_closes_within_the_revalidation_period_without_pubsub() {
    let period = Duration::from_millis(200);
    let f = fixture_with_options(
        |users| users,
        web::Options {
            revalidate_every: Some(period),
            ..web::Options::default()
        },
    )
    .await;
    let mut revoked = f.logged_in_browser().await;
    let mut kept = f.logged_in_browser().await;
    let (_, mut revoked_ws) = joined_account(&f, &mut revoked).await;
    let (_, mut kept_ws) = joined_account(&f, &mut kept).await;
    // Still open after several periods while the login is valid.
    assert_eq!(closed_within(&mut revoked_ws, period * 3).await, None);

    let token: String = f.session(&revoked).get(USER_TOKEN).expect("a login token");
    assert!(f.users.delete_session_token(&token).await.expect("delete"));
    let started = std::time::Instant::now();
    assert_eq!(
        closed_within(&mut revoked_ws, period * 3).await,
        Some(1001),
        "the revoked login's socket closes within the period"
    );
    assert!(started.elapsed() <= period * 3);
    // The other login's socket stays open and answers.
    assert_eq!(closed_within(&mut kept_ws, period * 2).await, None);
    send(&mut kept_ws, json!([null, "9", "phoenix", "heartbeat", {}])).await;
    assert_eq!(reply_to(&mut kept_ws, "9").await["status"], "ok");
}

/// Logs in through the live form with the "remember me" checkbox as the browser sends it
/// (the hidden `false`, then `true` when checked); returns the `/account` response.
async fn log_in_remembering(f: &Fixture, jar: &mut Jar, remember: bool) -> Resp {
    let checkbox = if remember {
        "remember_me=false&remember_me=true"
    } else {
        "remember_me=false"
    };
    let form = format!(
        "email={}&password={}&{checkbox}",
        urlencode(EMAIL),
        urlencode(PASSWORD)
    );
    let (_, response) = submit_raw_form(f.addr, &f.app, jar, "/login", "login", &form).await;
    let token = response["redirect"]["flash"]
        .as_str()
        .unwrap_or_else(|| panic!("no redirect in {response}"))
        .to_owned();
    jar.0.insert(FLASH_COOKIE.to_owned(), token);
    let res = get(&f.app, "/account", jar).await;
    res.assert_signed_in_as(EMAIL, "after login");
    res
}

/// `Max-Age` of a `Set-Cookie` line, if any.
fn max_age(line: &str) -> Option<i64> {
    line.split(';').find_map(|attr| {
        let (name, value) = attr.trim().split_once('=')?;
        name.eq_ignore_ascii_case("Max-Age")
            .then(|| value.parse().expect("a number"))
    })
}

/// docs/threat-model.md case 70: "remember me" checked makes the session cookie persistent
/// for 60 days (its session token too), the choice travelling through the login's ticket, and
/// the cookie stays persistent when later requests rewrite it; unchecked gives a
/// browser-session cookie (no Max-Age) and a 14-day token.
#[tokio::test]
async fn case_70_remember_me_sets_a_60_day_persistent_cookie_and_unchecked_a_session_cookie() {
    let f = fixture().await;
    let sixty_days = 60 * 24 * 3600;

    let mut remembered = Jar::default();
    let res = log_in_remembering(&f, &mut remembered, true).await;
    let line = res
        .session_set_cookie()
        .expect("the login writes the cookie");
    let age = max_age(line).unwrap_or_else(|| panic!("persistent: {line}"));
    assert!((sixty_days - 10..=sixty_days).contains(&age), "{line}");
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Lax"),
        "{line}"
    );
    let payload = f.session_payload(&remembered);
    assert_eq!(payload["persist"], sixty_days, "{payload}");
    // Logging out expires the persistent cookie; the fresh anonymous one is not persistent.
    let csrf = csrf_meta(&res.body);
    let out = post_logout(&f.app, &mut remembered, Some(&csrf)).await;
    let lines = out.session_set_cookies();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(max_age(lines[0]), Some(0), "{lines:?}");
    assert_eq!(max_age(lines[1]), None, "{lines:?}");

    let mut plain = Jar::default();
    let res = log_in_remembering(&f, &mut plain, false).await;
    let line = res
        .session_set_cookie()
        .expect("the login writes the cookie");
    assert_eq!(max_age(line), None, "a browser-session cookie: {line}");
    assert!(!line.contains("Expires"), "{line}");
    let kinds: Vec<String> = f
        .users
        .db()
        .expect("SQLite")
        .call(|c| {
            let mut s = c.prepare("SELECT context FROM user_tokens ORDER BY inserted_at, rowid")?;
            s.query_map([], |r| r.get(0))?.collect()
        })
        .await
        .expect("contexts");
    assert_eq!(
        kinds,
        ["session"],
        "the remembered token was deleted on logout"
    );
}

/// docs/threat-model.md case 72: disabling an account (`demo disable`) refuses its login at
/// the next request and closes its live socket at the next revalidation pass; its password
/// no longer logs in (the generic message).
#[tokio::test]
async fn case_72_disabled_account_is_refused_at_the_next_request_and_its_socket_closed() {
    let period = Duration::from_millis(200);
    let f = fixture_with_options(
        |users| users,
        web::Options {
            revalidate_every: Some(period),
            ..web::Options::default()
        },
    )
    .await;
    let mut jar = f.logged_in_browser().await;
    let (_, mut ws) = joined_account(&f, &mut jar).await;
    assert_eq!(closed_within(&mut ws, period * 2).await, None);
    f.users.set_disabled(EMAIL, true).await.expect("disable");
    assert_eq!(closed_within(&mut ws, period * 3).await, Some(1001));
    get(&f.app, "/", &mut jar)
        .await
        .assert_signed_out("the disabled account's next request");
    let response = submit_login(f.addr, &f.app, &mut Jar::default(), EMAIL, PASSWORD).await;
    assert!(response.get("redirect").is_none(), "{response}");
    assert!(response.to_string().contains(LOGIN_FAILED), "{response}");
}

/// Submits `/settings`' password form (in `jar`'s browser) and returns the event's response.
async fn change_password(f: &Fixture, jar: &mut Jar, current: &str, new: &str) -> Value {
    let form = format!(
        "current_password={}&password={}",
        urlencode(current),
        urlencode(new)
    );
    submit_raw_form(f.addr, &f.app, jar, "/settings", "save", &form)
        .await
        .1
}

/// docs/threat-model.md case 69: a password change needs the current password (a wrong one is
/// answered live and changes nothing); then the old password is refused and the new one
/// accepted, every other login of the user is revoked (its socket closed within 1 s, its next
/// request logged out), and the browser that changed it stays signed in with a renewed
/// session and a new token.
#[tokio::test]
async fn case_69_password_change_revokes_other_sessions_and_keeps_this_one() {
    const NEW_PASSWORD: &str = "a brand new passphrase";
    let f = fixture().await;
    let mut this = f.logged_in_browser().await;
    let mut other = f.logged_in_browser().await;
    let (_, mut other_ws) = joined_account(&f, &mut other).await;
    let other_user = f
        .users
        .register("bob@example.com", PASSWORD)
        .await
        .expect("register");
    let bystander_token = f
        .users
        .create_session_token(other_user.id)
        .await
        .expect("token");

    // A wrong current password: answered live, nothing changes.
    let response = change_password(&f, &mut this, "not my password", NEW_PASSWORD).await;
    assert!(response.get("redirect").is_none(), "{response}");
    assert!(
        response
            .to_string()
            .contains("is not your current password"),
        "{response}"
    );
    assert!(f.users.authenticate(EMAIL, PASSWORD).await.is_ok());
    assert_eq!(f.session_rows().await, 3);
    assert_eq!(
        closed_within(&mut other_ws, Duration::from_millis(300)).await,
        None
    );

    let before = f.session_payload(&this);
    let response = change_password(&f, &mut this, PASSWORD, NEW_PASSWORD).await;
    let redirect = &response["redirect"];
    assert_eq!(redirect["to"], "/settings", "{response}");
    // The other login's socket is closed at once.
    assert_eq!(
        closed_within(&mut other_ws, Duration::from_secs(1)).await,
        Some(1001)
    );
    // This browser redeems its ticket: still signed in, renewed, with a new token.
    this.0.insert(
        FLASH_COOKIE.to_owned(),
        redirect["flash"].as_str().expect("flash token").to_owned(),
    );
    let res = get(&f.app, "/settings", &mut this).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains(web::PASSWORD_UPDATED), "{}", res.body);
    assert!(
        res.body.contains("Signed in as ann@example.com"),
        "{}",
        res.body
    );
    let after = f.session_payload(&this);
    assert_ne!(session_id(&after), session_id(&before), "session renewed");
    assert_ne!(after["data"][USER_TOKEN], before["data"][USER_TOKEN]);
    get(&f.app, "/", &mut this)
        .await
        .assert_signed_in_as(EMAIL, "the changing browser");
    // The other browser is logged out on its next request.
    get(&f.app, "/", &mut other)
        .await
        .assert_signed_out("the other browser");
    // Old password refused, new one accepted; another user's login untouched.
    assert!(f.users.authenticate(EMAIL, PASSWORD).await.is_err());
    assert!(f.users.authenticate(EMAIL, NEW_PASSWORD).await.is_ok());
    assert!(
        f.users
            .user_by_session_token(&bystander_token)
            .await
            .expect("lookup")
            .is_some()
    );
    assert_eq!(
        f.session_rows().await,
        2,
        "the new token and the bystander's"
    );
}

// ---------------------------------------------------------------------------------------------
// The registration's `phx-trigger-action` login, hardening
// ---------------------------------------------------------------------------------------------

/// The ticket of the `phx-trigger-action` form (`Socket::session_form`) in an event's diff.
fn session_form_ticket(response: &Value) -> String {
    let text = response.to_string();
    let at = text
        .find("_session_ticket")
        .unwrap_or_else(|| panic!("no session form in {text}"));
    let rest = &text[at + "_session_ticket".len()..];
    let rest = &rest[rest.find("value=").expect("the ticket's value") + "value=".len()..];
    let start = rest
        .find(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        .expect("a ticket");
    let rest = &rest[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .expect("the ticket's end");
    rest[..end].to_owned()
}

/// Registers `email` through the live form; returns the page (its CSRF token is the one the
/// browser's form carries) and the ticket of the session form the reply renders.
async fn register_live(f: &Fixture, jar: &mut Jar, email: &str) -> (LivePage, String) {
    let (page, response) = submit_form(
        f.addr,
        &f.app,
        jar,
        "/register",
        "register",
        email,
        "a brand new password",
    )
    .await;
    assert!(response.get("redirect").is_none(), "{response}");
    let diff = response["diff"].to_string();
    assert!(diff.contains("phx-trigger-action"), "{diff}");
    assert!(diff.contains("/live/session"), "{diff}");
    (page, session_form_ticket(&response))
}

/// The browser's submission of the session form: `POST /live/session`.
async fn post_session_form(f: &Fixture, jar: &mut Jar, csrf: &str, ticket: &str) -> Resp {
    let form = format!(
        "_csrf_token={}&_session_ticket={}&_to=%2Faccount",
        urlencode(csrf),
        urlencode(ticket)
    );
    request(&f.app, Method::POST, "/live/session", jar, Some(&form), &[]).await
}

/// docs/threat-model.md R2 and cases 18-20 on the `phx-trigger-action` path: the registration
/// view renders livefire's session form; its POST logs the new user in, once, in this browser
/// only.
#[tokio::test]
async fn r2_registration_logs_in_through_the_trigger_action_form_once_and_only_here() {
    let f = fixture().await;

    // Case 19: a ticket posted from another browser (with that browser's own CSRF token) logs
    // nobody in.
    let mut victim = Jar::default();
    let (_, ticket) = register_live(&f, &mut victim, "first@example.com").await;
    let mut attacker = Jar::default();
    let attacker_csrf = csrf_meta(&get(&f.app, "/login", &mut attacker).await.body);
    let res = post_session_form(&f, &mut attacker, &attacker_csrf, &ticket).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    get(&f.app, "/", &mut attacker)
        .await
        .assert_signed_out("the other browser");

    // The genuine flow: the browser posts the form and lands on /account, signed in, with a
    // renewed session (case 11).
    let mut jar = Jar::default();
    let (page, ticket) = register_live(&f, &mut jar, "second@example.com").await;
    let pre = jar.clone();
    let pre_id = session_id(&f.session_payload(&jar));
    // Without the CSRF token of this session: 403, nothing changes.
    let res = post_session_form(&f, &mut jar.clone(), "", &ticket).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = post_session_form(&f, &mut jar, &page.csrf, &ticket).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), Some("/account"));
    let account = get(&f.app, "/account", &mut jar).await;
    account.assert_signed_in_as("second@example.com", "after the session form");
    // Case 81: the view's flash travelled with the ticket and is shown once.
    assert!(
        account.body.contains("Welcome, second@example.com!"),
        "{}",
        account.body
    );
    let again = get(&f.app, "/account", &mut jar).await;
    assert!(!again.body.contains("Welcome, second@example.com!"));
    assert_ne!(session_id(&f.session_payload(&jar)), pre_id);
    assert_eq!(data_keys(&f.session_payload(&jar)), ["user_token"]);
    let rows = f.session_rows().await;

    // Case 18: the same form posted again with the pre-registration cookie does nothing.
    let mut replay = pre.clone();
    let res = post_session_form(&f, &mut replay, &page.csrf, &ticket).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    get(&f.app, "/", &mut replay)
        .await
        .assert_signed_out("the replayed form");
    assert_eq!(f.session_rows().await, rows);

    // Case 20: two parallel posts of one ticket sign in exactly once.
    let mut jar = Jar::default();
    let (page, ticket) = register_live(&f, &mut jar, "third@example.com").await;
    let (mut a, mut b) = (jar.clone(), jar);
    let (ra, rb) = tokio::join!(
        post_session_form(&f, &mut a, &page.csrf, &ticket),
        post_session_form(&f, &mut b, &page.csrf, &ticket)
    );
    assert_eq!(
        (ra.status, rb.status),
        (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER)
    );
    let (ha, hb) = tokio::join!(get(&f.app, "/", &mut a), get(&f.app, "/", &mut b));
    let signed_in = [&ha, &hb]
        .iter()
        .filter(|r| r.body.contains("id=\"signed-in\""))
        .count();
    assert_eq!(signed_in, 1);
}

/// docs/threat-model.md R8, R10: when the password pool is full, the live login and
/// registration answer at once with the "try again" message, without hashing; once there is
/// room the same login works.
#[tokio::test]
async fn r8_live_login_and_registration_answer_busy_at_once_when_the_password_pool_is_full() {
    let f = fixture_with(|users| {
        users.with_pool(PoolConfig {
            threads: 1,
            queue: 1,
            thread_name: "http-busy".to_owned(),
        })
    })
    .await;
    // Two reservations fill the pool (one thread, one queue place).
    let held = [
        f.users.pool().try_reserve().expect("a free place"),
        f.users.pool().try_reserve().expect("a free place"),
    ];
    let before = f.users.verifications();
    let mut jar = Jar::default();
    let started = std::time::Instant::now();
    let response = submit_login(f.addr, &f.app, &mut jar, EMAIL, PASSWORD).await;
    assert!(response.get("redirect").is_none(), "{response}");
    assert!(
        response["diff"].to_string().contains(BUSY_MESSAGE),
        "{response}"
    );
    let (_, response) = submit_form(
        f.addr,
        &f.app,
        &mut jar,
        "/register",
        "register",
        "new@example.com",
        "a brand new password",
    )
    .await;
    assert!(
        response["diff"].to_string().contains(BUSY_MESSAGE),
        "{response}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered at once: {:?}",
        started.elapsed()
    );
    assert_eq!(f.users.verifications(), before, "no password was checked");
    assert_eq!(
        f.users.user_by_email("new@example.com").await.unwrap(),
        None
    );

    drop(held);
    let response = submit_login(f.addr, &f.app, &mut jar, EMAIL, PASSWORD).await;
    assert_eq!(response["redirect"]["to"], "/account", "{response}");
}

/// docs/threat-model.md case 65: the live login feeds the client address to the throttle
/// (`Socket::client_addr`, recorded by `livefire::serve`): failures from this address stop its
/// logins, with the generic message even for the right password, while the same account still
/// logs in from another address.
#[tokio::test]
async fn case_65_live_login_failures_count_against_the_client_address() {
    let f = fixture_with(|users| {
        users.with_throttle(ThrottleConfig {
            peer_max_failures: 2,
            ..ThrottleConfig::default()
        })
    })
    .await;
    let mut jar = Jar::default();
    for _ in 0..2 {
        let response = submit_login(f.addr, &f.app, &mut jar, "x@example.com", PASSWORD).await;
        assert!(response["diff"].to_string().contains(LOGIN_FAILED));
    }
    let response = submit_login(f.addr, &f.app, &mut jar, EMAIL, PASSWORD).await;
    assert!(response.get("redirect").is_none(), "{response}");
    assert!(
        response["diff"].to_string().contains(LOGIN_FAILED),
        "{response}"
    );
    let elsewhere: std::net::IpAddr = "198.51.100.20".parse().unwrap();
    assert_eq!(
        f.users
            .authenticate_from(EMAIL, PASSWORD, Some(elsewhere))
            .await
            .expect("another address is not affected"),
        f.user
    );
}

/// The demo's responses carry livefire's security headers: a CSP without inline scripts (the
/// pages need none), no framing; HSTS only with secure cookies (https).
#[tokio::test]
async fn security_headers_on_every_page_and_hsts_with_secure_cookies() {
    let f = fixture().await;
    let mut jar = Jar::default();
    for path in ["/", "/login", "/register", "/account"] {
        let res = get(&f.app, path, &mut jar).await;
        let csp = res.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(res.headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(res.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(res.headers.get(header::STRICT_TRANSPORT_SECURITY).is_none());
        assert!(!res.body.contains("<script>"), "{path}: an inline script");
    }
    let secure = web::app(AppState {
        users: Users::new(Db::open_in_memory().expect("db")),
        keyring: Keyring::random(),
        secure_cookies: true,
    });
    let res = get(&secure, "/login", &mut Jar::default()).await;
    assert_eq!(
        res.headers[header::STRICT_TRANSPORT_SECURITY],
        "max-age=63072000; includeSubDomains"
    );
}

/// docs/threat-model.md case 30 for the demo's production setting: with secure cookies the live
/// WebSocket opens only from `PUBLIC_URL`; without it (a misconfiguration the binary refuses
/// at start) livefire refuses every upgrade.
#[tokio::test]
async fn case_30_with_secure_cookies_the_socket_accepts_only_the_public_url() {
    let state = || AppState {
        users: Users::new(Db::open_in_memory().expect("db")),
        keyring: Keyring::random(),
        secure_cookies: true,
    };
    let config = demo::config::Config {
        secure_cookies: true,
        public_url: Some("https://demo.example".to_owned()),
        ..demo::config::Config::default()
    };
    let with_origin = web::app_with(
        state(),
        web::Options {
            allowed_origins: config.allowed_origins().expect("valid"),
            ..web::Options::default()
        },
    );
    let (addr, _server) = serve(with_origin).await;
    let upgrade = |origin: &'static str| async move {
        let url = format!("ws://{addr}/live/websocket?vsn=2.0.0");
        let mut req = url.into_client_request().expect("ws request");
        req.headers_mut()
            .insert(header::ORIGIN, HeaderValue::from_static(origin));
        match tokio_tungstenite::connect_async(req).await {
            Ok(_) => 101,
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => res.status().as_u16(),
            Err(err) => panic!("{err}"),
        }
    };
    assert_eq!(upgrade("https://demo.example").await, 101);
    assert_eq!(upgrade("https://evil.example").await, 403);
    assert_eq!(upgrade("http://demo.example").await, 403, "no downgrade");

    let (addr, _server) = serve(web::app(state())).await;
    let url = format!("ws://{addr}/live/websocket?vsn=2.0.0");
    let mut req = url.into_client_request().expect("ws request");
    req.headers_mut().insert(
        header::ORIGIN,
        HeaderValue::from_str(&format!("http://{addr}")).expect("origin"),
    );
    assert!(
        matches!(
            tokio_tungstenite::connect_async(req).await,
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) if res.status() == StatusCode::FORBIDDEN
        ),
        "secure cookies without an allowlist: every upgrade refused"
    );
}

/// docs/threat-model.md case 74 for the demo: two nodes with the same secret and database,
/// sharing tickets (and logouts) through Redis (`REDIS_URL`). A login on node A is redeemed on
/// node B, exactly once across both.
#[tokio::test]
async fn case_74_two_nodes_share_login_tickets_through_redis() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("demo.sqlite3");
    let keyring = Keyring::new([0x24u8; 64]).expect("keyring");
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let path = path.clone();
        let db = tokio::task::spawn_blocking(move || Db::open(&path))
            .await
            .expect("task")
            .expect("db");
        let tickets = web::Tickets::redis(&url)
            .await
            .unwrap_or_else(|err| panic!("Redis is required for this test at {url}: {err}"));
        let pubsub = livefire::pubsub::PubSub::redis(&url)
            .await
            .unwrap_or_else(|err| panic!("Redis is required for this test at {url}: {err}"));
        let users = Users::new(db);
        let app = web::app_with(
            AppState {
                users: users.clone(),
                keyring: keyring.clone(),
                secure_cookies: false,
            },
            web::Options {
                pubsub: Some(pubsub),
                tickets: Some(tickets),
                ..web::Options::default()
            },
        );
        nodes.push((users, app));
    }
    nodes[0]
        .0
        .register(EMAIL, PASSWORD)
        .await
        .expect("register");
    let (addr_a, _server) = serve(nodes[0].1.clone()).await;

    let mut jar = Jar::default();
    let token = login_flash_token(addr_a, &nodes[0].1, &mut jar, EMAIL).await;
    let jar = jar.with(FLASH_COOKIE, &token);
    let (mut on_a, mut on_b) = (jar.clone(), jar);
    let (ra, rb) = tokio::join!(
        get(&nodes[0].1, "/account", &mut on_a),
        get(&nodes[1].1, "/account", &mut on_b)
    );
    let signed_in = [&ra, &rb]
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!(signed_in, 1, "{} and {}", ra.status, rb.status);
    // Whichever node redeemed it, the login works on both.
    let mut winner = if ra.status == StatusCode::OK {
        on_a
    } else {
        on_b
    };
    get(&nodes[0].1, "/account", &mut winner)
        .await
        .assert_signed_in_as(EMAIL, "node A");
    get(&nodes[1].1, "/account", &mut winner)
        .await
        .assert_signed_in_as(EMAIL, "node B");
}

// ---------------------------------------------------------------------------------------------
// Idle timeout and reissue of session tokens (cases 14 and 15), on an injected clock.
// ---------------------------------------------------------------------------------------------

/// A fixture whose user store runs on `clock` (Unix seconds) with `policy`, revalidating
/// live sockets every `period`.
async fn clocked_fixture(
    clock: &std::sync::Arc<std::sync::atomic::AtomicI64>,
    policy: demo::users::SessionPolicy,
    period: Duration,
) -> Fixture {
    let c = std::sync::Arc::clone(clock);
    fixture_with_options(
        move |users| {
            users
                .with_clock(move || c.load(std::sync::atomic::Ordering::SeqCst))
                .with_session_policy(policy)
        },
        web::Options {
            revalidate_every: Some(period),
            ..web::Options::default()
        },
    )
    .await
}

fn system_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).expect("seconds"))
        .expect("after 1970")
}

/// docs/threat-model.md case 14: a login unused for longer than the idle timeout is anonymous
/// at the next request (the guarded page redirects to `/login`, the dead token leaves the
/// cookie); activity just before the limit extends it.
#[tokio::test]
async fn case_14_idle_login_is_refused_at_the_next_request_and_activity_extends_it() {
    use std::sync::atomic::Ordering::SeqCst;
    let clock = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(system_secs()));
    let policy = demo::users::SessionPolicy {
        idle_timeout: Some(Duration::from_secs(3600)),
        reissue_after: Duration::from_secs(30 * 86_400),
        touch_every: Duration::from_secs(60),
    };
    let f = clocked_fixture(&clock, policy, Duration::from_secs(20)).await;
    let mut jar = f.logged_in_browser().await;
    // A request every 59 minutes for four hours: still signed in.
    for step in 0..4 {
        clock.fetch_add(59 * 60, SeqCst);
        get(&f.app, "/account", &mut jar)
            .await
            .assert_signed_in_as(EMAIL, &format!("active, step {step}"));
    }
    // An hour and a minute without a request: anonymous.
    clock.fetch_add(61 * 60, SeqCst);
    let account = get(&f.app, "/account", &mut jar).await;
    assert_eq!(account.status, StatusCode::FOUND, "{}", account.body);
    assert_eq!(account.location(), Some("/login"));
    get(&f.app, "/", &mut jar)
        .await
        .assert_signed_out("home after the idle timeout");
    let payload = f.session_payload(&jar);
    assert!(payload["data"].get(USER_TOKEN).is_none(), "{payload}");
    // Logging in again works.
    let mut again = f.logged_in_browser().await;
    get(&f.app, "/account", &mut again)
        .await
        .assert_signed_in_as(EMAIL, "a new login");
}

/// docs/threat-model.md case 15: a session token older than the reissue age is replaced on the
/// next request (a new token in the cookie, the same session and CSRF token); concurrent
/// requests with the old cookie all succeed, each with a valid new token; the live view opened
/// with the old token keeps running through revalidation; logging out with the new cookie ends
/// the whole login, the old token's live view included.
#[tokio::test]
async fn case_15_old_token_is_reissued_without_logging_out_or_closing_live_views() {
    use std::sync::atomic::Ordering::SeqCst;
    let clock = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(system_secs()));
    let policy = demo::users::SessionPolicy {
        idle_timeout: Some(Duration::from_secs(30 * 86_400)),
        reissue_after: Duration::from_secs(86_400),
        touch_every: Duration::from_secs(60),
    };
    let period = Duration::from_millis(200);
    let f = clocked_fixture(&clock, policy, period).await;
    let mut jar = f.logged_in_browser().await;
    let old_token: String = f.session(&jar).get(USER_TOKEN).expect("a login token");
    let csrf = f.session_payload(&jar)["csrf"].clone();
    let (_, mut ws) = joined_account(&f, &mut jar).await;
    // A young token is kept.
    get(&f.app, "/account", &mut jar)
        .await
        .assert_signed_in_as(EMAIL, "young token");
    assert_eq!(
        f.session(&jar).get::<String>(USER_TOKEN),
        Some(old_token.clone())
    );

    clock.fetch_add(86_400, SeqCst);
    let old_cookie = jar.clone();
    let results = futures_util::future::join_all((0..4).map(|_| {
        let mut copy = old_cookie.clone();
        let app = f.app.clone();
        async move {
            let res = get(&app, "/account", &mut copy).await;
            (res, copy)
        }
    }))
    .await;
    let mut fresh = std::collections::HashSet::new();
    for (res, copy) in &results {
        res.assert_signed_in_as(EMAIL, "a request with the old token");
        assert!(
            res.session_set_cookie().is_some(),
            "the cookie is rewritten"
        );
        let token: String = f.session(copy).get(USER_TOKEN).expect("a token");
        assert_ne!(token, old_token, "reissued");
        assert_eq!(f.session_payload(copy)["csrf"], csrf, "same CSRF token");
        fresh.insert(token);
    }
    assert_eq!(fresh.len(), 4, "each concurrent request got its own token");
    // Whichever cookie the browser keeps works, and is not reissued again.
    let mut jar = results[2].1.clone();
    let kept: String = f.session(&jar).get(USER_TOKEN).expect("a token");
    let home = get(&f.app, "/", &mut jar).await;
    home.assert_signed_in_as(EMAIL, "the reissued cookie");
    assert_eq!(f.session(&jar).get::<String>(USER_TOKEN), Some(kept));
    // The old token still works (other tabs, the open live view).
    get(&f.app, "/", &mut old_cookie.clone())
        .await
        .assert_signed_in_as(EMAIL, "the old cookie");
    assert_eq!(closed_within(&mut ws, period * 4).await, None);
    send(&mut ws, json!([null, "9", "phoenix", "heartbeat", {}])).await;
    assert_eq!(reply_to(&mut ws, "9").await["status"], "ok");

    // Logout with the reissued cookie ends the login: the old token's live view closes at
    // once (its id is among the deleted ones) and the old cookie is anonymous.
    let out = post_logout(&f.app, &mut jar, Some(&csrf_meta(&home.body))).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    assert_eq!(
        closed_within(&mut ws, Duration::from_secs(1)).await,
        Some(1001)
    );
    get(&f.app, "/", &mut old_cookie.clone())
        .await
        .assert_signed_out("the old cookie after logout");
}

/// docs/threat-model.md cases 15 and 70: a "remember me" login's reissued token is a
/// remembered one and the rewritten cookie is persistent for another 60 days.
#[tokio::test]
async fn case_15_70_a_remembered_login_is_reissued_with_a_persistent_cookie() {
    use std::sync::atomic::Ordering::SeqCst;
    let clock = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(system_secs()));
    let policy = demo::users::SessionPolicy {
        reissue_after: Duration::from_secs(86_400),
        ..demo::users::SessionPolicy::default()
    };
    let f = clocked_fixture(&clock, policy, Duration::from_secs(20)).await;
    let mut jar = Jar::default();
    log_in_remembering(&f, &mut jar, true).await;
    let old: String = f.session(&jar).get(USER_TOKEN).expect("a token");
    clock.fetch_add(2 * 86_400, SeqCst);
    let res = get(&f.app, "/", &mut jar).await;
    res.assert_signed_in_as(EMAIL, "after the reissue");
    let line = res.session_set_cookie().expect("the cookie is rewritten");
    let sixty_days = 60 * 24 * 3600;
    let age = max_age(line).unwrap_or_else(|| panic!("persistent: {line}"));
    assert!((sixty_days - 10..=sixty_days).contains(&age), "{line}");
    let token: String = f.session(&jar).get(USER_TOKEN).expect("a token");
    assert_ne!(token, old);
    assert!(
        f.users
            .is_remembered_session_token(&token)
            .await
            .expect("store")
    );
}
