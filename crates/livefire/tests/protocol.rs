//! Protocol tests over a real socket: what the official client sends, and what it must get back.

mod support;

use axum::Router;
use livefire::flash::LiveFlashLayer;
use livefire::layout::Container;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{Error, Event, LiveRouter, LiveView, Rendered, Result, Socket, html};
use serde::Deserialize;
use serde_json::{Value, json};
use support::*;
use tokio_tungstenite::tungstenite::Message;
use tower::ServiceExt as _;

#[derive(Default)]
struct Counter {
    count: i64,
    text: String,
}

#[derive(Deserialize)]
struct Echo {
    text: String,
}

impl LiveView for Counter {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "inc" => self.count += 1,
            "noop" => {}
            "echo" => self.text = event.form::<Echo>()?.text,
            "boom" => panic!("boom"),
            "fail" => return Err(Error::app("handler failed")),
            "go-away" => socket.redirect("https://evil.example/"),
            "go-account" => {
                socket.put_flash("info", "Moved").redirect("/account");
            }
            "title" => {
                socket.set_title("New title");
            }
            "hook" => {
                socket.reply(json!({"ok": true}));
            }
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(<p>"Count: " <b id="count">{self.count}</b></p><p id="text">{self.text.as_str()}</p>)
    }
}

fn keyring() -> Keyring {
    Keyring::new([42u8; 64]).unwrap()
}

fn app() -> Router {
    let keyring = keyring();
    LiveRouter::new(keyring.clone())
        .live("/", Counter::default)
        .build()
        .expect("valid live routes")
        .layer(LiveFlashLayer::new(keyring.clone()))
        .layer(CookieSessionLayer::new(keyring))
}

async fn setup() -> (Router, std::net::SocketAddr, Page) {
    let app = app();
    let addr = serve(app.clone()).await;
    let page = get(&app, "/", None).await;
    assert_eq!(page.status, 200);
    (app, addr, page)
}

fn reply_status(frame: &Value) -> &str {
    assert_eq!(frame[3], "phx_reply", "not a reply: {frame}");
    frame[4]["status"].as_str().unwrap()
}

#[tokio::test]
async fn dead_render_has_container_tokens_and_csrf_meta() {
    let (_app, _addr, page) = setup().await;
    assert!(page.id.starts_with("phx-"));
    assert!(!page.session.is_empty() && !page.static_token.is_empty());
    assert!(!page.csrf.is_empty());
    assert!(
        page.cookie.is_some(),
        "the dead render sets the session cookie"
    );
    assert_eq!(
        page.container_inner(),
        "<p>Count: <b id=\"count\">0</b></p><p id=\"text\"></p>"
    );
}

/// Routes with custom live containers: one route's own (`live_with_container`), a live
/// session's (`container`), and the default `<div>` beside them.
fn container_app() -> Router {
    let keyring = keyring();
    let fade = livefire::js::JS::new().transition(
        "view-removing",
        livefire::js::TransitionOpts::new().time(100),
    );
    LiveRouter::new(keyring.clone())
        .live_with_container(
            "/boxed",
            Container::new("div")
                .attr("phx-remove", fade)
                .attr("class", "a\"<b>"),
            Counter::default,
        )
        .live("/plain", Counter::default)
        .live_session("framed")
        .container(Container::new("main").attr("data-role", "page"))
        .live("/framed", Counter::default)
        .live_session("after")
        .live("/after", Counter::default)
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

/// The opening tag of the live container in a dead render.
fn container_tag(html: &str) -> &str {
    let main = html.find("data-phx-main").expect("a main container");
    let start = html[..main].rfind('<').unwrap();
    let end = html[main..].find('>').unwrap() + main + 1;
    &html[start..end]
}

#[tokio::test]
async fn custom_live_containers_carry_their_tag_and_escaped_attributes() {
    let app = container_app();
    let addr = serve(app.clone()).await;

    let page = get(&app, "/boxed", None).await;
    let open = format!(
        "<div id=\"{}\" data-phx-main data-phx-session=\"{}\" data-phx-static=\"{}\" \
         phx-remove=\"[[&quot;transition&quot;,{{&quot;time&quot;:100,&quot;transition&quot;:\
         [[&quot;view-removing&quot;],[],[]]}}]]\" class=\"a&quot;&lt;b&gt;\">",
        page.id, page.session, page.static_token
    );
    assert_eq!(container_tag(&page.html), open);
    // The page joins as any other.
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!([
            "4",
            "4",
            page.topic(),
            "phx_join",
            page.join_payload("/boxed")
        ]),
    )
    .await;
    assert_eq!(reply_status(&recv(&mut ws).await), "ok");

    for path in ["/plain", "/after"] {
        let page = get(&app, path, None).await;
        assert!(
            container_tag(&page.html)
                .ends_with(&format!("data-phx-static=\"{}\">", page.static_token)),
            "{path}: {}",
            container_tag(&page.html)
        );
    }

    let res = app
        .clone()
        .oneshot(
            axum::http::Request::get("/framed")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let html = String::from_utf8(body.to_vec()).unwrap();
    let open = container_tag(&html);
    assert!(open.starts_with("<main id=\"phx-"), "{open}");
    assert!(open.ends_with("\" data-role=\"page\">"), "{open}");
    assert!(html.contains("<p id=\"text\"></p></main>"), "{html}");
}

#[tokio::test]
async fn join_replies_with_full_rendered_and_version() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    let reply = join(&mut ws, &page, "4").await;
    assert_eq!(reply[0], "4");
    assert_eq!(reply[1], "4");
    assert_eq!(reply[2], page.topic());
    assert_eq!(reply_status(&reply), "ok", "{reply}");
    let response = &reply[4]["response"];
    assert_eq!(response["liveview_version"], "1.2.12");
    assert!(response["rendered"]["s"].is_array());
    assert_eq!(response["rendered"]["0"], "0");
}

#[tokio::test]
async fn heartbeat_is_answered() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    send(&mut ws, json!([null, "8", "phoenix", "heartbeat", {}])).await;
    assert_eq!(
        recv(&mut ws).await,
        json!([null, "8", "phoenix", "phx_reply", {"status": "ok", "response": {}}])
    );
}

#[tokio::test]
async fn click_sends_only_the_changed_dynamic() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "4").await;
    let reply = click(&mut ws, &page, "4", "5", "inc").await;
    assert_eq!(reply[1], "5");
    assert_eq!(
        reply[4],
        json!({"status": "ok", "response": {"diff": {"0": "1"}}})
    );
    // An event that changes nothing gets an empty reply (it must still be answered).
    let reply = click(&mut ws, &page, "4", "6", "noop").await;
    assert_eq!(reply[4], json!({"status": "ok", "response": {}}));
}

#[tokio::test]
async fn form_change_and_submit_decode_the_value() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "4").await;
    send(
        &mut ws,
        json!(["4", "5", page.topic(), "event", {"type": "form", "event": "echo",
            "value": "_unused_other=&text=hi%20%3Cthere%3E", "meta": {"_target": "text"}, "uploads": {}}]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(
        reply[4]["response"]["diff"],
        json!({"1": "hi &lt;there&gt;"})
    );
    send(
        &mut ws,
        json!(["4", "6", page.topic(), "event", {"type": "form", "event": "echo", "value": "text=sent", "meta": {}}]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["response"]["diff"], json!({"1": "sent"}));
}

#[tokio::test]
async fn title_and_hook_reply_ride_in_the_diff() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "4").await;
    let reply = click(&mut ws, &page, "4", "5", "title").await;
    assert_eq!(reply[4]["response"]["diff"], json!({"t": "New title"}));
    send(
        &mut ws,
        json!(["4", "6", page.topic(), "event", {"type": "hook", "event": "hook", "value": {}}]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["response"]["diff"], json!({"r": {"ok": true}}));
}

#[tokio::test]
async fn leave_of_a_never_joined_topic_is_ok() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    send(&mut ws, json!([null, "14", "lv:", "phx_leave", {}])).await;
    assert_eq!(
        recv(&mut ws).await,
        json!([null, "14", "lv:", "phx_reply", {"status": "ok", "response": {}}])
    );
    // The socket is still usable.
    send(&mut ws, json!([null, "15", "phoenix", "heartbeat", {}])).await;
    assert_eq!(reply_status(&recv(&mut ws).await), "ok");
}

/// As Phoenix: the leave is answered ok, then the channel is closed with `phx_close` carrying
/// the join ref (docs/protocol.md §1.4).
#[tokio::test]
async fn leave_replies_then_closes_the_channel() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "4").await;
    send(&mut ws, json!(["4", "5", page.topic(), "phx_leave", {}])).await;
    assert_eq!(
        recv(&mut ws).await,
        json!(["4", "5", page.topic(), "phx_reply", {"status": "ok", "response": {}}])
    );
    assert_eq!(
        recv(&mut ws).await,
        json!(["4", "4", page.topic(), "phx_close", {}])
    );
    let reply = click(&mut ws, &page, "4", "6", "inc").await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "unmatched topic"}})
    );
}

#[tokio::test]
async fn duplicate_join_replaces_the_old_view() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "4").await;
    click(&mut ws, &page, "4", "5", "inc").await;
    send(
        &mut ws,
        json!(["6", "6", page.topic(), "phx_join", page.join_payload("/")]),
    )
    .await;
    let close = recv(&mut ws).await;
    assert_eq!(close, json!(["4", "4", page.topic(), "phx_close", {}]));
    let reply = recv(&mut ws).await;
    assert_eq!(reply[0], "6");
    assert_eq!(reply_status(&reply), "ok");
    // A fresh mount: the count starts again at 0.
    assert_eq!(reply[4]["response"]["rendered"]["0"], "0");
    // The old join ref no longer reaches a view.
    let reply = click(&mut ws, &page, "4", "7", "inc").await;
    assert_eq!(reply_status(&reply), "error");
    let reply = click(&mut ws, &page, "6", "8", "inc").await;
    assert_eq!(reply[4]["response"]["diff"], json!({"0": "1"}));
}

#[tokio::test]
async fn bad_session_token_is_stale() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    let mut payload = page.join_payload("/");
    let mut token = page.session.clone();
    let flipped = if token.ends_with('A') { "B" } else { "A" };
    token.replace_range(token.len() - 1.., flipped);
    payload["session"] = json!(token);
    send(
        &mut ws,
        json!(["4", "4", page.topic(), "phx_join", payload]),
    )
    .await;
    assert_eq!(
        recv(&mut ws).await[4],
        json!({"status": "error", "response": {"reason": "stale"}})
    );
}

/// docs/threat-model.md case 34: a valid token for container X joined on topic lv:Y is refused.
#[tokio::test]
async fn case_34_token_for_another_topic_is_stale() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!(["4", "4", "lv:phx-other", "phx_join", page.join_payload("/")]),
    )
    .await;
    assert_eq!(recv(&mut ws).await[4]["response"]["reason"], "stale");
}

/// docs/threat-model.md case 32: a socket without a valid CSRF token never sees the session: joins are stale.
#[tokio::test]
async fn case_32_join_without_csrf_is_stale() {
    let (_app, addr, page) = setup().await;
    for csrf in [None, Some("not-a-token")] {
        let mut ws = connect_with(addr, page.cookie.as_deref(), csrf, None)
            .await
            .unwrap();
        send(
            &mut ws,
            json!(["4", "4", page.topic(), "phx_join", page.join_payload("/")]),
        )
        .await;
        assert_eq!(recv(&mut ws).await[4]["response"]["reason"], "stale");
    }
}

/// docs/threat-model.md case 30: a foreign Origin gets 403 and no upgrade.
#[tokio::test]
async fn case_30_foreign_origin_is_forbidden() {
    let (_app, addr, page) = setup().await;
    for origin in [
        "https://evil.example",
        "http://127.0.0.1.evil.com",
        "null",
        "http://127.0.0.2:1",
    ] {
        let err = connect_with(addr, page.cookie.as_deref(), Some(&page.csrf), Some(origin))
            .await
            .expect_err("foreign origin must be refused");
        match err {
            tokio_tungstenite::tungstenite::Error::Http(res) => assert_eq!(res.status(), 403),
            other => panic!("expected HTTP 403, got {other:?}"),
        }
    }
    // The page's own origin is fine.
    let own = format!("http://{addr}");
    assert!(
        connect_with(addr, page.cookie.as_deref(), Some(&page.csrf), Some(&own))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn url_of_another_route_is_unauthorized() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!([
            "4",
            "4",
            page.topic(),
            "phx_join",
            page.join_payload("/nowhere")
        ]),
    )
    .await;
    assert_eq!(recv(&mut ws).await[4]["response"]["reason"], "unauthorized");
}

/// docs/threat-model.md case 40: a malformed frame closes that socket only; a second connection is unaffected.
#[tokio::test]
async fn case_40_malformed_frame_does_not_affect_another_connection() {
    let (_app, addr, page) = setup().await;
    let mut good = connect(addr, &page).await;
    join(&mut good, &page, "4").await;
    let mut bad = connect(addr, &page).await;
    send_text(&mut bad, "{not json").await;
    match next_message(&mut bad).await {
        Some(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1003),
        other => panic!("expected a close frame, got {other:?}"),
    }
    let reply = click(&mut good, &page, "4", "5", "inc").await;
    assert_eq!(reply[4]["response"]["diff"], json!({"0": "1"}));
}

/// docs/threat-model.md case 41: valid JSON with a wrong envelope gets an error reply for that ref.
#[tokio::test]
async fn case_41_wrong_envelope_gets_an_error_reply() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "4").await;
    send(&mut ws, json!(["4", "5", page.topic(), 42, {}])).await;
    assert_eq!(
        recv(&mut ws).await,
        json!(["4", "5", page.topic(), "phx_reply", {"status": "error", "response": {"reason": "malformed frame"}}])
    );
    // The view's state is unchanged and it still works.
    let reply = click(&mut ws, &page, "4", "6", "inc").await;
    assert_eq!(reply[4]["response"]["diff"], json!({"0": "1"}));
}

/// docs/threat-model.md case 47: an unknown event gets an error reply; the view survives.
#[tokio::test]
async fn case_47_unknown_event_is_an_error_reply() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "4").await;
    let reply = click(&mut ws, &page, "4", "5", "delete_everything").await;
    assert_eq!(reply_status(&reply), "error");
    let reply = click(&mut ws, &page, "4", "6", "inc").await;
    assert_eq!(reply[4]["response"]["diff"], json!({"0": "1"}));
}

/// docs/threat-model.md case 48: an event for a topic never joined gets "unmatched topic".
#[tokio::test]
async fn case_48_event_for_unjoined_topic() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    let reply = click(&mut ws, &page, "4", "5", "inc").await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "unmatched topic"}})
    );
}

/// docs/threat-model.md case 49: a panicking handler ends that view with phx_error; another view on the
/// same socket and the server keep working, and the client can rejoin.
#[tokio::test]
async fn case_49_panic_in_a_view_is_isolated() {
    let (app, addr, page) = setup().await;
    let other = get(&app, "/", page.cookie.as_deref()).await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "4").await;
    send(
        &mut ws,
        json!([
            "10",
            "10",
            other.topic(),
            "phx_join",
            other.join_payload("/")
        ]),
    )
    .await;
    assert_eq!(reply_status(&recv(&mut ws).await), "ok");

    let reply = click(&mut ws, &page, "4", "5", "boom").await;
    assert_eq!(
        reply,
        json!(["4", "4", page.topic(), "phx_error", {"reason": "crash"}])
    );

    let reply = click(&mut ws, &other, "10", "11", "inc").await;
    assert_eq!(reply[4]["response"]["diff"], json!({"0": "1"}));
    // The crashed view rejoins like the client does after phx_error.
    let reply = join(&mut ws, &page, "12").await;
    assert_eq!(reply_status(&reply), "ok");
}

#[tokio::test]
async fn handler_error_is_phx_error() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "4").await;
    let reply = click(&mut ws, &page, "4", "5", "fail").await;
    assert_eq!(reply[3], "phx_error");
}

/// docs/threat-model.md case 60 / R9: a redirect to an absolute URL is refused, never followed.
#[tokio::test]
async fn case_60_external_redirect_is_refused() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "4").await;
    let reply = click(&mut ws, &page, "4", "5", "go-away").await;
    assert_eq!(reply[3], "phx_error", "{reply}");
    assert!(!reply.to_string().contains("evil.example"));
}

#[tokio::test]
async fn redirect_with_flash_carries_a_token() {
    let (_app, addr, page) = setup().await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "4").await;
    let reply = click(&mut ws, &page, "4", "5", "go-account").await;
    let redirect = &reply[4]["response"]["redirect"];
    assert_eq!(redirect["to"], "/account");
    let token = redirect["flash"].as_str().expect("flash token");
    // Cookie-safe and opaque: the message is not readable in the token.
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    );
    assert!(!token.contains("Moved"));
}

#[tokio::test]
async fn several_views_share_one_socket() {
    let (app, addr, page) = setup().await;
    let second = get(&app, "/", page.cookie.as_deref()).await;
    let mut ws = connect(addr, &page).await;
    join(&mut ws, &page, "1").await;
    send(
        &mut ws,
        json!([
            "2",
            "2",
            second.topic(),
            "phx_join",
            second.join_payload("/")
        ]),
    )
    .await;
    assert_eq!(reply_status(&recv(&mut ws).await), "ok");
    click(&mut ws, &page, "1", "3", "inc").await;
    let reply = click(&mut ws, &page, "1", "4", "inc").await;
    assert_eq!(reply[4]["response"]["diff"], json!({"0": "2"}));
    let reply = click(&mut ws, &second, "2", "5", "inc").await;
    assert_eq!(reply[4]["response"]["diff"], json!({"0": "1"}));
}

/// docs/threat-model.md cases 38/52: a client sending frames faster than the per-connection rate limit
/// (even cheap ones the views never see) is closed with 1008; another connection keeps working.
#[tokio::test]
async fn case_52_frame_flood_is_rate_limited() {
    use futures_util::SinkExt;
    let (_app, addr, page) = setup().await;
    let mut good = connect(addr, &page).await;
    join(&mut good, &page, "4").await;
    let mut bad = connect(addr, &page).await;
    for i in 0..12_000 {
        let frame = json!([null, i.to_string(), "phoenix", "heartbeat", {}]).to_string();
        if bad.feed(Message::Text(frame.into())).await.is_err() {
            break;
        }
    }
    let _ = bad.flush().await;
    let mut replies = 0;
    let code = loop {
        match next_message(&mut bad).await {
            Some(Message::Close(Some(frame))) => break Some(u16::from(frame.code)),
            Some(Message::Text(_)) => replies += 1,
            Some(_) => {}
            None => break None,
        }
    };
    // The server lingers after its close frame, so the code arrives even mid-flood.
    assert_eq!(code, Some(1008));
    assert!(replies < 12_000, "the flood was cut off: {replies} replies");
    let reply = click(&mut good, &page, "4", "5", "inc").await;
    assert_eq!(reply[4]["response"]["diff"], json!({"0": "1"}));
}
