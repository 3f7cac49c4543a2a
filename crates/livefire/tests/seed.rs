//! The seed article's code, literally: a live view puts the user into the flash and redirects;
//! an HTTP layer reads the `user` flash and assigns it on the connection. Plus the properties
//! livefire adds: the flash token is encrypted, expires after 60 s, and is bound to the browser.

mod support;

use std::time::{Duration, SystemTime};

use axum::extract::Request;
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use livefire::flash::{FlashHandle, LiveFlashLayer};
use livefire::session::CookieSessionLayer;
use livefire::token::{Clock, Keyring, ManualClock};
use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html};
use serde::Deserialize;
use serde_json::{Value, json};
use support::*;

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

#[derive(Clone)]
struct Users;

impl Users {
    async fn validate(&self, email: &str, password: &str) -> std::result::Result<(), ()> {
        if email == "ann@example.com" && password == "correct horse" {
            Ok(())
        } else {
            Err(())
        }
    }
}

struct MailingList {
    users: Users,
    msg: Option<String>,
}

impl LiveView for MailingList {
    type Message = ();

    // The seed's handler, in Rust.
    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        if event.name() == "join-mailing-list" {
            let Credentials { email, password } = event.form()?;
            match self.users.validate(&email, &password).await {
                Ok(()) => socket
                    .put_flash("user", json!({ "email": email }))
                    .redirect("/account"),
                Err(_) => self.msg = Some("Unable to validate your account.".into()),
            }
        }
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html! {
            <form phx-submit="join-mailing-list">
                <input name="email"><input name="password" type="password">
                @if let Some(msg) = &self.msg { <p id="msg">{msg.as_str()}</p> }
            </form>
        }
    }
}

/// The user the HTTP layer assigned on this connection (Plug's `conn.assigns.user`).
#[derive(Clone, Debug)]
struct AssignedUser(Option<Value>);

/// The seed's plug: take the `user` flash and assign it on the connection.
async fn assign_user_from_flash(flash: FlashHandle, mut req: Request, next: Next) -> Response {
    let user = flash.take("user");
    req.extensions_mut().insert(AssignedUser(user));
    next.run(req).await
}

async fn account(Extension(AssignedUser(user)): Extension<AssignedUser>) -> Response {
    match user.and_then(|u| u.get("email").and_then(Value::as_str).map(str::to_owned)) {
        Some(email) => format!("Welcome {email}").into_response(),
        None => "Nobody".into_response(),
    }
}

fn app(keyring: Keyring) -> Router {
    LiveRouter::new(keyring.clone())
        .live("/", || MailingList {
            users: Users,
            msg: None,
        })
        .build()
        .expect("valid live routes")
        .route("/account", get(account))
        .layer(from_fn(assign_user_from_flash))
        .layer(LiveFlashLayer::new(keyring.clone()))
        .layer(CookieSessionLayer::new(keyring))
}

fn clocked() -> (Keyring, ManualClock) {
    let (clock, handle) = Clock::manual(SystemTime::now());
    (Keyring::new([9u8; 64]).unwrap().with_clock(clock), handle)
}

/// Logs in over the socket; returns the browser's page and the flash token of the redirect.
async fn submit(app: &Router, password: &str) -> (Page, Value) {
    let addr = serve(app.clone()).await;
    let page = support::get(app, "/", None).await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "1").await;
    let value = format!(
        "email=ann%40example.com&password={}",
        password.replace(' ', "+")
    );
    send(
        &mut ws,
        json!(["1", "2", page.topic(), "event", {"type": "form", "event": "join-mailing-list", "value": value, "meta": {}}]),
    )
    .await;
    let reply = recv(&mut ws).await;
    (page, reply[4]["response"].clone())
}

async fn account_body(app: &Router, cookie: &str) -> (String, Vec<String>) {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt;
    let res = app
        .clone()
        .oneshot(
            Request::get("/account")
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let set_cookies = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    (String::from_utf8(body.to_vec()).unwrap(), set_cookies)
}

#[tokio::test]
async fn seed_flow_assigns_the_user_on_the_next_request() {
    let (keyring, _clock) = clocked();
    let app = app(keyring);
    let (page, response) = submit(&app, "correct horse").await;
    let redirect = &response["redirect"];
    assert_eq!(redirect["to"], "/account");
    let token = redirect["flash"].as_str().unwrap();
    assert!(
        !token.contains("ann"),
        "the flash token is encrypted, not only signed"
    );

    // What the client does: set the flash cookie, navigate.
    let cookie = format!(
        "{}; __phoenix_flash__={token}",
        page.cookie.as_deref().unwrap()
    );
    let (body, set_cookies) = account_body(&app, &cookie).await;
    assert_eq!(body, "Welcome ann@example.com");
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("__phoenix_flash__=;")
                && c.contains("Max-Age=0")
                && c.contains("Path=/")),
        "the flash cookie is always deleted: {set_cookies:?}"
    );
}

#[tokio::test]
async fn seed_flow_wrong_password_shows_the_error_live() {
    let (keyring, _clock) = clocked();
    let app = app(keyring);
    let (_page, response) = submit(&app, "wrong").await;
    assert!(response.get("redirect").is_none());
    let diff = response["diff"].to_string();
    assert!(diff.contains("Unable to validate your account."), "{diff}");
}

/// docs/threat-model.md case 17: the flash token is accepted at 59 s and rejected at 61 s.
#[tokio::test]
async fn case_17_flash_token_expires_after_60s() {
    for (age, expected) in [(59, "Welcome ann@example.com"), (61, "Nobody")] {
        let (keyring, clock) = clocked();
        let app = app(keyring);
        let (page, response) = submit(&app, "correct horse").await;
        let token = response["redirect"]["flash"].as_str().unwrap().to_owned();
        clock.advance(Duration::from_secs(age));
        let cookie = format!(
            "{}; __phoenix_flash__={token}",
            page.cookie.as_deref().unwrap()
        );
        let (body, _) = account_body(&app, &cookie).await;
        assert_eq!(body, expected, "at {age} s");
    }
}

/// docs/threat-model.md cases 19/21: a token lifted from one browser is rejected in another.
#[tokio::test]
async fn case_19_flash_token_replayed_in_another_browser_is_rejected() {
    let (keyring, _clock) = clocked();
    let app = app(keyring);
    let (_victim, response) = submit(&app, "correct horse").await;
    let token = response["redirect"]["flash"].as_str().unwrap();
    let attacker = support::get(&app, "/", None).await;
    let cookie = format!(
        "{}; __phoenix_flash__={token}",
        attacker.cookie.as_deref().unwrap()
    );
    let (body, set_cookies) = account_body(&app, &cookie).await;
    assert_eq!(body, "Nobody");
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("__phoenix_flash__=;"))
    );
    // Without any session cookie at all: also rejected.
    let (body, _) = account_body(&app, &format!("__phoenix_flash__={token}")).await;
    assert_eq!(body, "Nobody");
}

/// docs/threat-model.md case 25: a tampered or garbage flash cookie is ignored (and still deleted).
#[tokio::test]
async fn case_25_tampered_flash_token_is_ignored() {
    let (keyring, _clock) = clocked();
    let app = app(keyring);
    let (page, response) = submit(&app, "correct horse").await;
    let mut token = response["redirect"]["flash"].as_str().unwrap().to_owned();
    let mid = token.len() / 2;
    let flipped = if &token[mid..=mid] == "A" { "B" } else { "A" };
    token.replace_range(mid..=mid, flipped);
    for bad in [token.as_str(), "garbage", ""] {
        let cookie = format!(
            "{}; __phoenix_flash__={bad}",
            page.cookie.as_deref().unwrap()
        );
        let (body, set_cookies) = account_body(&app, &cookie).await;
        assert_eq!(body, "Nobody");
        assert!(
            set_cookies
                .iter()
                .any(|c| c.starts_with("__phoenix_flash__=;"))
        );
    }
}
