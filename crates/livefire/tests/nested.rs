//! Nested live views over a real socket (docs/protocol.md §2.1, §7.7): the child's container
//! in the dead and connected renders, its own join on the same socket, messages to the
//! parent, crash isolation, linked crashes, and children ending with their parent.

mod support;

use axum::Router;
use livefire::nested::live_render;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{Event, LiveRouter, LiveView, Mount, Rendered, Result, Socket, html};
use serde_json::{Value, json};
use support::*;

#[derive(Default)]
struct Child {
    n: u64,
    clicks: u32,
}

impl LiveView for Child {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        self.n = cx.session::<u64>("n").unwrap_or(0);
        if cx.session::<bool>("linked").unwrap_or(false) {
            socket.link_parent();
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "click" => self.clicks += 1,
            "tell" => {
                let parent = socket
                    .parent::<String>()
                    .ok_or_else(|| livefire::Error::app("no parent"))?;
                parent
                    .try_send(format!("child {} says hi", self.n))
                    .map_err(livefire::Error::app)?;
            }
            "boom" => return Err(livefire::Error::app("child failed")),
            "nav" => socket.push_navigate("/"),
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(<p id="child">"n=" {self.n} " clicks=" {self.clicks}</p>)
    }
}

/// A sticky child that navigates the page.
#[derive(Default)]
struct Sticky {
    clicks: u32,
}

impl LiveView for Sticky {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "go" => {
                self.clicks += 1;
                socket.push_navigate("/");
            }
            "click" => self.clicks += 1,
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(<p id="sticky">"clicks=" {self.clicks}</p>)
    }
}

#[derive(Default)]
struct Parent {
    heard: String,
}

impl LiveView for Parent {
    type Message = String;

    async fn handle_info(&mut self, msg: String, _socket: &mut Socket<String>) -> Result {
        self.heard = msg;
        Ok(())
    }

    fn render(&self, _: &Socket<String>) -> Rendered {
        html!(<p id="heard">{self.heard.as_str()}</p>
            {live_render::<Child>("child-a").session("n", 5)}
            {live_render::<Child>("child-b").session("n", 6).session("linked", true)}
            {live_render::<Sticky>("sticky").sticky()})
    }
}

fn app() -> Router {
    let keyring = Keyring::new([66u8; 64]).unwrap();
    LiveRouter::new(keyring.clone())
        .child_view(Child::default)
        .child_view(Sticky::default)
        .live("/", Parent::default)
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

fn attr(html: &str, id: &str, name: &str) -> String {
    let start = html.find(&format!("id=\"{id}\"")).expect("container");
    let rest = &html[start..];
    let at = rest.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
    rest[at..at + rest[at..].find('"').unwrap()].to_owned()
}

struct Joined {
    ws: Ws,
    page: Page,
    rendered: Value,
}

async fn joined() -> Joined {
    let app = app();
    let addr = serve(app.clone()).await;
    let page = get(&app, "/", None).await;
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!(["1", "1", page.topic(), "phx_join", page.join_payload("/")]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    Joined {
        ws,
        rendered: reply[4]["response"]["rendered"].clone(),
        page,
    }
}

/// The child join the client makes: the session token from the parent's connected render,
/// the static token from the dead render, no URL.
async fn join_child(j: &mut Joined, id: &str, join_ref: &str) -> Value {
    let connected = serde_json::to_string(&j.rendered)
        .unwrap()
        .replace("\\\"", "\"");
    let session = attr(&connected, id, "data-phx-session");
    let static_token = attr(&j.page.html, id, "data-phx-static");
    send(
        &mut j.ws,
        json!([join_ref, join_ref, format!("lv:{id}"), "phx_join", {
            "params": {"_csrf_token": j.page.csrf, "_mounts": 0},
            "session": session, "static": static_token, "sticky": false
        }]),
    )
    .await;
    recv(&mut j.ws).await
}

#[tokio::test]
async fn the_dead_render_nests_the_child_with_its_static_token() {
    let app = app();
    let page = get(&app, "/", None).await;
    let html = page.container_inner();
    assert!(
        html.contains(r#"<div id="child-a" data-phx-session="" data-phx-static=""#),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"data-phx-parent-id="{}"><p id="child">n=5 clicks=0</p></div>"#,
            page.id
        )),
        "{html}"
    );
    assert!(!attr(&html, "child-a", "data-phx-static").is_empty());
}

#[tokio::test]
async fn the_child_joins_with_the_parents_tokens_and_runs_on_its_own() {
    let mut j = joined().await;
    let connected = j.rendered.to_string();
    assert!(
        connected.contains("data-phx-static=\\\"\\\""),
        "{connected}"
    );
    let reply = join_child(&mut j, "child-a", "2").await;
    assert_eq!(reply[2], "lv:child-a");
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert_eq!(reply[4]["response"]["rendered"]["0"], "5");
    // Its own events.
    send(
        &mut j.ws,
        json!(["2", "3", "lv:child-a", "event", {"type": "click", "event": "click", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut j.ws).await[4]["response"],
        json!({"diff": {"1": "1"}})
    );
    // A message to the parent: the parent pushes its own diff.
    send(
        &mut j.ws,
        json!(["2", "4", "lv:child-a", "event", {"type": "click", "event": "tell", "value": {}}]),
    )
    .await;
    let mut frames = [recv(&mut j.ws).await, recv(&mut j.ws).await];
    frames.sort_by_key(|f| f[2].as_str().unwrap().to_owned());
    assert_eq!(frames[0][2], "lv:child-a");
    assert_eq!(frames[1][2], j.page.topic());
    assert_eq!(frames[1][3], "diff");
    assert_eq!(frames[1][4]["0"], "child 5 says hi");
}

#[tokio::test]
async fn a_child_crash_is_its_own_unless_linked() {
    let mut j = joined().await;
    join_child(&mut j, "child-a", "2").await;
    join_child(&mut j, "child-b", "3").await;
    send(
        &mut j.ws,
        json!(["2", "4", "lv:child-a", "event", {"type": "click", "event": "boom", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut j.ws).await,
        json!(["2", "2", "lv:child-a", "phx_error", {"reason": "crash"}])
    );
    // The parent is fine.
    send(
        &mut j.ws,
        json!(["1", "5", j.page.topic(), "event", {"type": "click", "event": "nope", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut j.ws).await[4]["status"],
        "error",
        "the parent answers"
    );

    // The linked child takes the parent down with it.
    send(
        &mut j.ws,
        json!(["3", "6", "lv:child-b", "event", {"type": "click", "event": "boom", "value": {}}]),
    )
    .await;
    let first = recv(&mut j.ws).await;
    let second = recv(&mut j.ws).await;
    assert_eq!(
        first,
        json!(["3", "3", "lv:child-b", "phx_error", {"reason": "crash"}])
    );
    assert_eq!(
        second,
        json!(["1", "1", j.page.topic(), "phx_error", {"reason": "crash"}])
    );
}

#[tokio::test]
async fn children_end_with_their_parent_and_need_it_joined() {
    let mut j = joined().await;
    join_child(&mut j, "child-a", "2").await;
    send(
        &mut j.ws,
        json!(["1", "3", j.page.topic(), "phx_leave", {}]),
    )
    .await;
    recv(&mut j.ws).await; // ok
    recv(&mut j.ws).await; // phx_close
    send(
        &mut j.ws,
        json!(["2", "4", "lv:child-a", "event", {"type": "click", "event": "click", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut j.ws).await[4],
        json!({"status": "error", "response": {"reason": "unmatched topic"}})
    );
    // Joining a child whose parent is not joined on this socket is refused.
    let reply = join_child(&mut j, "child-a", "5").await;
    assert_eq!(
        reply[4],
        json!({"status": "error", "response": {"reason": "unauthorized"}})
    );
}

#[tokio::test]
async fn a_sticky_child_keeps_running_after_its_push_navigate() {
    let mut j = joined().await;
    let reply = join_child(&mut j, "sticky", "2").await;
    assert_eq!(reply[4]["response"]["rendered"]["0"], "0", "{reply}");
    send(
        &mut j.ws,
        json!(["2", "3", "lv:sticky", "event", {"type": "click", "event": "go", "value": {}}]),
    )
    .await;
    // The navigation, without a render and without phx_close: the view goes on.
    assert_eq!(
        recv(&mut j.ws).await,
        json!(["2", "3", "lv:sticky", "phx_reply", {
            "status": "ok",
            "response": {"live_redirect": {"kind": "push", "to": "/"}}
        }])
    );
    send(
        &mut j.ws,
        json!(["2", "4", "lv:sticky", "event", {"type": "click", "event": "click", "value": {}}]),
    )
    .await;
    // Its next diff is against what it last sent (clicks=0).
    assert_eq!(
        recv(&mut j.ws).await,
        json!(["2", "4", "lv:sticky", "phx_reply", {
            "status": "ok",
            "response": {"diff": {"0": "2"}}
        }])
    );
}

#[tokio::test]
async fn a_nested_child_ends_after_its_push_navigate() {
    let mut j = joined().await;
    join_child(&mut j, "child-a", "2").await;
    send(
        &mut j.ws,
        json!(["2", "3", "lv:child-a", "event", {"type": "click", "event": "nav", "value": {}}]),
    )
    .await;
    assert_eq!(
        recv(&mut j.ws).await,
        json!(["2", "3", "lv:child-a", "phx_reply", {
            "status": "ok",
            "response": {"live_redirect": {"kind": "push", "to": "/"}}
        }])
    );
    assert_eq!(
        recv(&mut j.ws).await,
        json!(["2", "2", "lv:child-a", "phx_close", {}])
    );
}
