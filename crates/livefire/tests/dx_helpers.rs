//! The developer helpers over a real socket: the core components' flash group cleared by its
//! own click command, live title attributes, a form reset seen in the diff, links, and
//! `BrowserPipeline` (layer order, CSRF, the long-poll transport behind it).

use livefire::test::model as client_model;
mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use client_model::{Client, Rules};
use livefire::components::{flash_group, input};
use livefire::form::FormState;
use livefire::layout::RootLayout;
use livefire::pipeline::BrowserPipeline;
use livefire::token::Keyring;
use livefire::{Event, LiveRouter, LiveView, Params, Rendered, Result, Socket, html, link};
use serde_json::{Value, json};
use support::{Page, Ws, connect, recv, send};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------
// Views

/// A chat-like view: the flash group, a message form that is reset after each send, patch
/// links between rooms.
struct Chat {
    room: String,
    form: FormState,
    messages: Vec<String>,
    /// The naive variant: keeps a `draft` string and empties it instead of resetting the form.
    naive: bool,
    draft: String,
}

impl Chat {
    fn new(naive: bool) -> Self {
        Self {
            room: String::new(),
            form: FormState::new("msg-form").namespace("msg"),
            messages: Vec::new(),
            naive,
            draft: String::new(),
        }
    }
}

impl LiveView for Chat {
    type Message = ();

    async fn handle_params(&mut self, params: &Params, socket: &mut Socket) -> Result {
        self.room = params.get("room").unwrap_or("lobby").to_owned();
        socket.set_title(format!("#{}", self.room));
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "save" => {
                socket.put_flash("info", "Saved <draft>");
            }
            "validate" => {
                self.form.update(event.form_data()?);
                if self.form.value("body").trim().is_empty() {
                    self.form.add_error("body", "can't be blank");
                }
            }
            "send" => {
                let form = event.form_data()?;
                if self.naive {
                    let body = form.value()["msg"]["body"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned();
                    self.messages.push(body);
                    self.draft.clear();
                    return Ok(());
                }
                self.form.update(form);
                let body = self.form.value("body").trim().to_owned();
                if body.is_empty() {
                    self.form.add_error("body", "can't be blank");
                } else {
                    self.messages.push(body);
                    self.form.reset();
                }
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let form = &self.form;
        let body = if self.naive {
            html!(<input id="msg-body" name="msg[body]" value={self.draft.as_str()}>)
        } else {
            input(form, "body").label("Message").render()
        };
        html! {
            {flash_group(socket.flash())}
            <nav>
                {link::patch("/rooms/lobby").render("Lobby")}
                {link::patch("/rooms/rust").replace().render("Rust")}
            </nav>
            <h1>{self.room}</h1>
            <ul id="messages">@for m in &self.messages { <li>{m}</li> }</ul>
            <form id={form.id()} phx-change="validate" phx-submit="send">{body}</form>
        }
    }
}

fn app(keyring: Keyring, naive: bool) -> Router {
    let routes = LiveRouter::new(keyring.clone())
        .layout(RootLayout::new().title_suffix(" · Chat").into_layout())
        .live("/rooms/{room}", move || Chat::new(naive))
        .build()
        .expect("valid routes")
        .route("/form-post", axum::routing::post(|| async { "posted" }));
    BrowserPipeline::new(keyring).apply(routes)
}

// ---------------------------------------------------------------------------------------------
// Helpers

async fn until_reply(ws: &mut Ws, msg_ref: &str) -> Value {
    loop {
        let frame = recv(ws).await;
        if frame[3] == "phx_reply" && frame[1] == msg_ref {
            return frame;
        }
    }
}

fn response(reply: &Value) -> &Value {
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    &reply[4]["response"]
}

/// Opens `path` through the app, joins its view and returns the client model holding it.
async fn open(app: &Router, path: &str) -> (Page, Ws, Client) {
    let addr = support::serve(app.clone()).await;
    let page = support::get(app, path, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!(["1", "1", page.topic(), "phx_join", page.join_payload(path)]),
    )
    .await;
    let reply = until_reply(&mut ws, "1").await;
    let mut client = Client::new(Rules::default());
    client.merge_value(response(&reply)["rendered"].clone());
    (page, ws, client)
}

/// Sends an event and merges the diff of its reply (if any); returns the reply's diff.
async fn push(
    ws: &mut Ws,
    page: &Page,
    client: &mut Client,
    msg_ref: &str,
    payload: Value,
) -> Value {
    send(ws, json!(["1", msg_ref, page.topic(), "event", payload])).await;
    let reply = until_reply(ws, msg_ref).await;
    let diff = response(&reply)
        .get("diff")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if diff.as_object().is_some_and(|d| !d.is_empty()) {
        client.merge_value(diff.clone());
    }
    diff
}

/// The attribute value `attr="…"` of the element whose tag starts at the first `marker`.
fn attribute_after(html: &str, marker: &str, attr: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let needle = format!(" {attr}=\"");
    let tag_end = html[start..].find('>').expect("end of tag") + start;
    let at = html[start..tag_end]
        .find(&needle)
        .unwrap_or_else(|| panic!("{attr} in {}", &html[start..tag_end]))
        + start
        + needle.len();
    let end = html[at..].find('"').expect("end of value") + at;
    html[at..end].to_owned()
}

// ---------------------------------------------------------------------------------------------
// Tests

/// The message's own `phx-click` (a JS `push` of `lv:clear-flash` with `{"key": kind}`) is what
/// the client sends on a click; the server drops the message and the diff removes it, while the
/// connection notices stay.
#[tokio::test]
async fn flash_group_message_is_cleared_by_its_own_click_command() {
    let app = app(Keyring::random(), false);
    let (page, mut ws, mut client) = open(&app, "/rooms/lobby").await;
    assert!(!client.html().contains("flash-info"));

    push(
        &mut ws,
        &page,
        &mut client,
        "2",
        json!({"type": "click", "event": "save", "value": {}}),
    )
    .await;
    let html = client.html();
    assert!(html.contains("<p>Saved &lt;draft&gt;</p>"), "{html}");

    // Decode the JS commands rendered on the message, and send what the client's `push`
    // command sends for them.
    let commands: Value = serde_json::from_str(
        &attribute_after(&html, "<div id=\"flash-info\"", "phx-click").replace("&quot;", "\""),
    )
    .expect("JS commands");
    let push_args = &commands[0][1];
    assert_eq!(commands[0][0], "push");
    assert_eq!(commands[1], json!(["hide", {"to": "#flash-info"}]));
    push(
        &mut ws,
        &page,
        &mut client,
        "3",
        json!({"type": "click", "event": push_args["event"], "value": push_args["value"]}),
    )
    .await;
    let html = client.html();
    assert!(!html.contains("flash-info"), "{html}");
    assert!(html.contains("id=\"client-error\"") && html.contains("id=\"server-error\""));
}

/// The root layout's live title carries the suffix the client re-applies, and the join
/// reply's title is the bare title (the client adds the suffix).
#[tokio::test]
async fn live_title_suffix_is_in_the_layout_and_the_socket_sends_the_bare_title() {
    let app = app(Keyring::random(), false);
    let page = support::get(&app, "/rooms/rust", None).await;
    assert!(
        page.html
            .contains("<title data-suffix=\" · Chat\">#rust · Chat</title>"),
        "{}",
        page.html
    );
    let addr = support::serve(app.clone()).await;
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!([
            "1",
            "1",
            page.topic(),
            "phx_join",
            page.join_payload("/rooms/rust")
        ]),
    )
    .await;
    let reply = until_reply(&mut ws, "1").await;
    assert_eq!(response(&reply)["rendered"]["t"], "#rust");
}

/// A patch link's target reaches `handle_params` over the socket (`live_patch`), and the view
/// re-renders for the new room without a new join.
#[tokio::test]
async fn patch_link_target_runs_handle_params() {
    let app = app(Keyring::random(), false);
    let (page, mut ws, mut client) = open(&app, "/rooms/lobby").await;
    let html = client.html();
    let href = attribute_after(&html, "<a href=\"/rooms/rust\"", "href");
    assert_eq!(
        attribute_after(&html, "<a href=\"/rooms/rust\"", "data-phx-link"),
        "patch"
    );
    assert_eq!(
        attribute_after(&html, "<a href=\"/rooms/rust\"", "data-phx-link-state"),
        "replace"
    );
    // What the client sends for a patch link click: `live_patch` with the absolute URL.
    send(
        &mut ws,
        json!(["1", "2", page.topic(), "live_patch", {"url": format!("http://127.0.0.1{href}")}]),
    )
    .await;
    let reply = until_reply(&mut ws, "2").await;
    let diff = response(&reply)["diff"].clone();
    assert_eq!(diff["t"], "#rust");
    client.merge_value(diff);
    assert!(client.html().contains("<h1>rust</h1>"));
}

/// After a submit, `FormState::reset` changes the form's and the input's ids, so the diff
/// tells the client to replace them (the typed text goes away); emptying a value that the
/// server already rendered as `""` sends nothing for the input, so the browser would keep the
/// text.
#[tokio::test]
async fn form_reset_replaces_the_form_in_the_diff_where_emptying_a_value_sends_nothing() {
    // The naive view: the input was rendered with value="" and the user typed "hello"
    // without any phx-change; after the submit the value is "" again.
    let app_naive = app(Keyring::random(), true);
    let (page, mut ws, mut client) = open(&app_naive, "/rooms/lobby").await;
    let before = client.html();
    let diff = push(
        &mut ws,
        &page,
        &mut client,
        "2",
        json!({"type": "form", "event": "send", "value": "msg%5Bbody%5D=hello"}),
    )
    .await;
    let after = client.html();
    assert!(after.contains("<li>hello</li>"));
    assert_eq!(
        attribute_after(&before, "<input id=\"msg-body\"", "value"),
        attribute_after(&after, "<input id=\"msg-body\"", "value"),
    );
    assert!(
        !diff.to_string().contains("msg-body") && !diff.to_string().contains("value="),
        "nothing in the diff touches the input: {diff}"
    );

    // With FormState::reset.
    let app = app(Keyring::random(), false);
    let (page, mut ws, mut client) = open(&app, "/rooms/lobby").await;
    let before = client.html();
    assert!(before.contains("<form id=\"msg-form\""));
    assert!(before.contains("id=\"msg-form_msg_body\" value=\"\""));
    let diff = push(
        &mut ws,
        &page,
        &mut client,
        "2",
        json!({"type": "form", "event": "send", "value": "msg%5Bbody%5D=hello"}),
    )
    .await;
    let text = diff.to_string();
    assert!(text.contains("msg-form-1"), "the form's id changes: {text}");
    assert!(
        text.contains("msg-form-1_msg_body"),
        "the input's id changes: {text}"
    );
    let after = client.html();
    assert!(after.contains("<li>hello</li>"));
    assert!(after.contains("<form id=\"msg-form-1\""), "{after}");
    assert!(
        after.contains("id=\"msg-form-1_msg_body\" value=\"\""),
        "{after}"
    );
    assert!(!after.contains("id=\"msg-form\""), "{after}");
}

/// Errors show only for used fields: a change event that marks `body` unused keeps its error
/// hidden; once used (or submitted) it shows.
#[tokio::test]
async fn form_errors_show_only_once_the_field_is_used() {
    let app = app(Keyring::random(), false);
    let (page, mut ws, mut client) = open(&app, "/rooms/lobby").await;
    // The client's serializeForm for an input never focused: an `_unused_` twin.
    push(
        &mut ws,
        &page,
        &mut client,
        "2",
        json!({"type": "form", "event": "validate",
               "value": "msg%5B_unused_body%5D=&msg%5Bbody%5D=", "meta": {"_target": "msg[other]"}}),
    )
    .await;
    assert!(!client.html().contains("can&#39;t be blank"));
    push(
        &mut ws,
        &page,
        &mut client,
        "3",
        json!({"type": "form", "event": "validate", "value": "msg%5Bbody%5D=",
               "meta": {"_target": "msg[body]"}}),
    )
    .await;
    let html = client.html();
    assert!(
        html.contains("<p class=\"error\" id=\"msg-form_msg_body-error\">can&#39;t be blank</p>"),
        "{html}"
    );
    assert!(html.contains("aria-invalid=\"true\""));
}

/// The pipeline's order: the session exists for the CSRF check (a form post with this
/// session's token passes, without one it is refused), and the flash layer sees the session.
#[tokio::test]
async fn pipeline_checks_csrf_against_the_session() {
    let app = app(Keyring::random(), false);
    let page = support::get(&app, "/rooms/lobby", None).await;
    let cookie = page.cookie.clone().expect("a session cookie");
    let form_post = |token: Option<&str>| {
        let body = token
            .map(|t| format!("_csrf_token={t}"))
            .unwrap_or_default();
        Request::post("/form-post")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let refused = app.clone().oneshot(form_post(None)).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let accepted = app
        .clone()
        .oneshot(form_post(Some(&page.csrf)))
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    assert!(
        accepted
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
    );
}

/// The long-poll transport works behind the pipeline (its posts carry no CSRF token; the poll
/// token authenticates them), where a bare `VerifyCsrfLayer` around the live routes refuses
/// them.
#[tokio::test]
async fn longpoll_posts_pass_the_pipeline_but_not_a_bare_csrf_layer() {
    let keyring = Keyring::random();
    let routes = || {
        LiveRouter::new(keyring.clone())
            .live("/rooms/{room}", || Chat::new(false))
            .build()
            .expect("valid routes")
    };
    let piped = BrowserPipeline::new(keyring.clone()).apply(routes());
    let bare = routes()
        .layer(livefire::csrf::VerifyCsrfLayer::new())
        .layer(livefire::flash::LiveFlashLayer::new(keyring.clone()))
        .layer(livefire::session::CookieSessionLayer::new(keyring.clone()));

    for (app, expect_ok) in [(piped, true), (bare, false)] {
        let page = support::get(&app, "/rooms/lobby", None).await;
        let cookie = page.cookie.clone().expect("a session cookie");
        let open = Request::get(format!(
            "/live/longpoll?vsn=2.0.0&_csrf_token={}",
            page.csrf
        ))
        .header(header::COOKIE, &cookie)
        .header(header::HOST, "127.0.0.1")
        .body(Body::empty())
        .unwrap();
        let res = app.clone().oneshot(open).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = serde_json::from_slice(
            &axum::body::to_bytes(res.into_body(), 1 << 16)
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(body["status"], 410, "{body}");
        let token = body["token"].as_str().expect("a poll token").to_owned();

        let post = Request::post(format!("/live/longpoll?vsn=2.0.0&token={token}"))
            .header(header::COOKIE, &cookie)
            .header(header::HOST, "127.0.0.1")
            .header(header::CONTENT_TYPE, "application/x-ndjson")
            .body(Body::from(r#"[null,"1","phoenix","heartbeat",{}]"#))
            .unwrap();
        let res = app.clone().oneshot(post).await.unwrap();
        if expect_ok {
            assert_eq!(res.status(), StatusCode::OK);
            let body: Value = serde_json::from_slice(
                &axum::body::to_bytes(res.into_body(), 1 << 16)
                    .await
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(body["status"], 200, "{body}");
        } else {
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
        }
    }
}
