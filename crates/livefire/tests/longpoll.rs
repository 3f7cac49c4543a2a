//! The long-poll transport (docs/protocol.md §1.2): the same channels over HTTP, with the
//! same checks as the WebSocket (threat model cases 30, 32, 33) and idle expiry.

mod support;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html};
use serde_json::{Value, json};
use support::*;
use tower::ServiceExt as _;

#[derive(Default)]
struct Counter {
    count: u32,
}

impl LiveView for Counter {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "inc" => self.count += 1,
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(<b id="count">{self.count}</b>)
    }
}

fn app(idle: Duration) -> Router {
    let keyring = Keyring::new([55u8; 64]).unwrap();
    LiveRouter::new(keyring.clone())
        .limits(livefire::Limits {
            idle_timeout: idle,
            ..Default::default()
        })
        .live("/", Counter::default)
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

async fn call(app: &Router, req: Request<Body>) -> Value {
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    serde_json::from_slice(&body).unwrap()
}

fn get_poll(page: &Page, cookie: Option<&str>, params: &str) -> Request<Body> {
    let mut req = Request::get(format!("/live/longpoll?vsn=2.0.0&{params}"))
        .header(header::HOST, "127.0.0.1")
        .header(header::ACCEPT, "application/json");
    if let Some(cookie) = cookie.or(page.cookie.as_deref()) {
        req = req.header(header::COOKIE, cookie);
    }
    req.body(Body::empty()).unwrap()
}

fn post_frames(page: &Page, token: &str, frames: &[Value]) -> Request<Body> {
    let body = frames
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    Request::post(format!("/live/longpoll?vsn=2.0.0&token={token}"))
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(header::COOKIE, page.cookie.as_deref().unwrap())
        .body(Body::from(body))
        .unwrap()
}

/// Opens a session; returns its token.
async fn open(app: &Router, page: &Page, csrf: &str) -> String {
    let opened = call(app, get_poll(page, None, &format!("_csrf_token={csrf}"))).await;
    assert_eq!(opened["status"], 410);
    assert_eq!(opened["messages"], json!([]));
    opened["token"].as_str().expect("a token").to_owned()
}

/// Polls until frames arrive; returns them parsed.
async fn frames(app: &Router, page: &Page, token: &str) -> Vec<Value> {
    for _ in 0..5 {
        let polled = call(app, get_poll(page, None, &format!("token={token}"))).await;
        match polled["status"].as_u64() {
            Some(200) => {
                return polled["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| serde_json::from_str(m.as_str().unwrap()).unwrap())
                    .collect();
            }
            Some(204) => continue,
            other => panic!("unexpected poll status {other:?}: {polled}"),
        }
    }
    panic!("no frames");
}

#[tokio::test]
async fn join_and_events_over_long_poll() {
    let app = app(Duration::from_secs(60));
    let page = get(&app, "/", None).await;
    let token = open(&app, &page, &page.csrf).await;
    let join = json!(["1", "1", page.topic(), "phx_join", page.join_payload("/")]);
    assert_eq!(
        call(&app, post_frames(&page, &token, &[join])).await,
        json!({"status": 200})
    );
    let got = frames(&app, &page, &token).await;
    assert_eq!(got[0][3], "phx_reply");
    assert_eq!(got[0][4]["status"], "ok");
    assert_eq!(got[0][4]["response"]["rendered"]["0"], "0");

    // A batch: heartbeat and two clicks.
    let batch = [
        json!([null, "2", "phoenix", "heartbeat", {}]),
        json!(["1", "3", page.topic(), "event", {"type": "click", "event": "inc", "value": {}}]),
        json!(["1", "4", page.topic(), "event", {"type": "click", "event": "inc", "value": {}}]),
    ];
    assert_eq!(
        call(&app, post_frames(&page, &token, &batch)).await["status"],
        200
    );
    let mut got = Vec::new();
    while got.len() < 3 {
        got.extend(frames(&app, &page, &token).await);
    }
    assert_eq!(
        got[0],
        json!([null, "2", "phoenix", "phx_reply", {"status": "ok", "response": {}}])
    );
    assert_eq!(got[1][4]["response"], json!({"diff": {"0": "1"}}));
    assert_eq!(got[2][4]["response"], json!({"diff": {"0": "2"}}));
}

/// case 33-like: a missing, forged or foreign token is `410` (session gone); nothing runs.
#[tokio::test]
async fn forged_tokens_and_other_sessions_get_410() {
    let app = app(Duration::from_secs(60));
    let page = get(&app, "/", None).await;
    let token = open(&app, &page, &page.csrf).await;
    for bad in ["forged", "", &format!("{token}x")] {
        let polled = call(&app, get_poll(&page, None, &format!("token={bad}"))).await;
        assert_eq!(polled["status"], 410, "{bad}");
        let posted = call(
            &app,
            post_frames(
                &page,
                bad,
                &[json!([null, "1", "phoenix", "heartbeat", {}])],
            ),
        )
        .await;
        assert_eq!(posted["status"], 410);
    }
    // The genuine token with another browser's session cookie.
    let other = get(&app, "/", None).await;
    let polled = call(
        &app,
        get_poll(&page, other.cookie.as_deref(), &format!("token={token}")),
    )
    .await;
    assert_eq!(polled["status"], 410);
}

/// case 32: without a valid CSRF token the session is not exposed: joins are stale.
#[tokio::test]
async fn case_32_wrong_csrf_makes_joins_stale() {
    let app = app(Duration::from_secs(60));
    let page = get(&app, "/", None).await;
    let token = open(&app, &page, "wrong").await;
    let join = json!(["1", "1", page.topic(), "phx_join", page.join_payload("/")]);
    call(&app, post_frames(&page, &token, &[join])).await;
    let got = frames(&app, &page, &token).await;
    assert_eq!(
        got[0][4],
        json!({"status": "error", "response": {"reason": "stale"}})
    );
}

/// case 30: a foreign Origin is refused with the client's 403 status.
#[tokio::test]
async fn case_30_foreign_origin_is_refused() {
    let app = app(Duration::from_secs(60));
    let page = get(&app, "/", None).await;
    let mut req = get_poll(&page, None, &format!("_csrf_token={}", page.csrf));
    req.headers_mut()
        .insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    assert_eq!(call(&app, req).await, json!({"status": 403}));
}

/// An idle session expires: its next poll is `410` and the client connects again.
#[tokio::test]
async fn idle_sessions_expire() {
    let app = app(Duration::from_millis(400));
    let page = get(&app, "/", None).await;
    let token = open(&app, &page, &page.csrf).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let polled = call(&app, get_poll(&page, None, &format!("token={token}"))).await;
    assert_eq!(polled["status"], 410);
}
