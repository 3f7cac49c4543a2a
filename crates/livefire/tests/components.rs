//! Stateful live components over a real socket (docs/protocol.md §3.4, §4.2): cids in the
//! parent's tree, component trees under `c` with `"r":1`, shared statics, events routed by
//! `cid`, only changed components re-rendered, `send_update`, and the destroy handshake.

mod support;

use axum::Router;
use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html};
use serde_json::{Value, json};
use support::*;

struct Row {
    title: String,
    editing: bool,
}

#[derive(Clone, PartialEq)]
struct RowAssigns {
    title: String,
}

impl LiveComponent for Row {
    type Assigns = RowAssigns;

    fn new(assigns: &RowAssigns) -> Self {
        Row {
            title: assigns.title.clone(),
            editing: false,
        }
    }

    async fn update(&mut self, assigns: RowAssigns, _socket: &mut ComponentSocket<'_>) -> Result {
        self.title = assigns.title;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "edit" => self.editing = !self.editing,
            "tell-parent" => {
                socket
                    .send_parent(format!("from {}", self.title))
                    .map_err(livefire::Error::app)?;
            }
            "flash" => {
                socket.put_flash("info", format!("{} says hi", self.title));
            }
            "boom" => return Err(livefire::Error::app("component failed")),
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        html!(<li class={if self.editing { "editing" } else { "" }}>{self.title.as_str()}<button phx-click="edit" phx-target={myself}>"e"</button></li>)
    }
}

#[derive(Default)]
struct Todos {
    titles: Vec<(u32, String)>,
    heard: String,
}

impl LiveView for Todos {
    type Message = String;

    async fn mount(&mut self, _cx: &livefire::Mount, _socket: &mut Socket<String>) -> Result {
        self.titles = vec![(1, "milk".into()), (2, "bread".into())];
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<String>) -> Result {
        match event.name() {
            "add" => self.titles.push((3, "eggs".into())),
            "drop-first" => {
                self.titles.remove(0);
            }
            "restore-first" => self.titles.insert(0, (1, "milk".into())),
            "rename-2" => self.titles[1].1 = "rye".into(),
            "edit-2" => {
                socket.send_update::<Row>("row-2", |row| row.editing = true);
            }
            "noop" => {}
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    async fn handle_info(&mut self, msg: String, _socket: &mut Socket<String>) -> Result {
        self.heard = msg;
        Ok(())
    }

    fn render(&self, _socket: &Socket<String>) -> Rendered {
        html!(<p id="heard">{self.heard.as_str()}</p><ul>@for (id, title) in &self.titles {
            {live_component::<Row>(format!("row-{id}"), RowAssigns { title: title.clone() })}
        }</ul>)
    }
}

fn app() -> Router {
    let keyring = Keyring::new([33u8; 64]).unwrap();
    LiveRouter::new(keyring.clone())
        .live("/", Todos::default)
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

async fn joined() -> (Ws, Page, Value) {
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
    let rendered = reply[4]["response"]["rendered"].clone();
    (ws, page, rendered)
}

async fn event(ws: &mut Ws, page: &Page, msg_ref: &str, name: &str, cid: Option<u32>) -> Value {
    let mut payload = json!({"type": "click", "event": name, "value": {"value": ""}});
    if let Some(cid) = cid {
        payload["cid"] = json!(cid);
    }
    send(ws, json!(["1", msg_ref, page.topic(), "event", payload])).await;
    loop {
        let frame = recv(ws).await;
        if frame[3] == "phx_reply" && frame[1] == msg_ref {
            return frame;
        }
    }
}

#[tokio::test]
async fn the_dead_render_inlines_components() {
    let app = app();
    let page = get(&app, "/", None).await;
    assert!(
        page.container_inner().contains(
            r#"<ul><li class="">milk<button phx-click="edit" phx-target="1">e</button></li><li class="">bread"#
        ),
        "{}",
        page.container_inner()
    );
}

#[tokio::test]
async fn join_sends_cids_and_component_trees_with_shared_statics() {
    let (_ws, _page, rendered) = joined().await;
    // The parent holds cids; each component tree is under `c` with "r":1.
    assert_eq!(rendered["1"]["k"]["0"]["0"], json!(1));
    assert_eq!(rendered["1"]["k"]["1"]["0"], json!(2));
    let c = &rendered["c"];
    assert_eq!(c["1"]["r"], 1);
    assert!(c["1"]["s"].is_array());
    assert_eq!(c["1"]["1"], "milk");
    // The second row shares the first row's statics.
    assert_eq!(c["2"]["s"], json!(1));
    assert_eq!(c["2"]["1"], "bread");
    assert_eq!(c["2"]["2"], " phx-target=\"2\"");
}

#[tokio::test]
async fn a_component_event_renders_only_that_component() {
    let (mut ws, page, _) = joined().await;
    let reply = event(&mut ws, &page, "2", "edit", Some(2)).await;
    assert_eq!(
        reply[4]["response"],
        json!({"diff": {"c": {"2": {"0": " class=\"editing\""}}}})
    );
    // Unknown events of a component are bad input: an error reply, the view lives on.
    let reply = event(&mut ws, &page, "3", "nope", Some(2)).await;
    assert_eq!(reply[4]["status"], "error");
    let reply = event(&mut ws, &page, "4", "noop", None).await;
    assert_eq!(reply[4]["response"], json!({}));
}

#[tokio::test]
async fn changed_assigns_update_only_that_component() {
    let (mut ws, page, _) = joined().await;
    let reply = event(&mut ws, &page, "2", "rename-2", None).await;
    assert_eq!(
        reply[4]["response"],
        json!({"diff": {"c": {"2": {"1": "rye"}}}})
    );
    // A new row: a new cid in the parent and a full component (sharing statics with a
    // cached one is not used: arrays are sent).
    let reply = event(&mut ws, &page, "3", "add", None).await;
    let diff = &reply[4]["response"]["diff"];
    assert_eq!(diff["1"]["k"]["2"]["0"], json!(3));
    assert_eq!(diff["1"]["k"]["kc"], 3);
    assert_eq!(diff["c"]["3"]["r"], 1);
    assert_eq!(diff["c"]["3"]["1"], "eggs");
    assert!(diff["c"].get("1").is_none() && diff["c"].get("2").is_none());
}

#[tokio::test]
async fn send_update_and_messages_to_the_parent() {
    let (mut ws, page, _) = joined().await;
    let reply = event(&mut ws, &page, "2", "edit-2", None).await;
    assert_eq!(
        reply[4]["response"],
        json!({"diff": {"c": {"2": {"0": " class=\"editing\""}}}})
    );
    // The component's message reaches the parent's handle_info: a diff push follows.
    let reply = event(&mut ws, &page, "3", "tell-parent", Some(1)).await;
    assert_eq!(reply[4]["response"], json!({}));
    let push = recv(&mut ws).await;
    assert_eq!(push[3], "diff");
    assert_eq!(push[4], json!({"0": "from milk"}));
}

#[tokio::test]
async fn a_flash_from_a_component_reaches_the_view() {
    let (mut ws, page, _) = joined().await;
    let reply = event(&mut ws, &page, "2", "flash", Some(1)).await;
    assert_eq!(reply[4]["status"], "ok");
}

#[tokio::test]
async fn an_error_in_a_component_crashes_the_view() {
    let (mut ws, page, _) = joined().await;
    send(
        &mut ws,
        json!(["1", "2", page.topic(), "event", {"type": "click", "event": "boom", "value": {}, "cid": 1}]),
    )
    .await;
    assert_eq!(
        recv(&mut ws).await,
        json!(["1", "1", page.topic(), "phx_error", {"reason": "crash"}])
    );
}

#[tokio::test]
async fn destroy_handshake_forgets_removed_components() {
    let (mut ws, page, _) = joined().await;
    let reply = event(&mut ws, &page, "2", "drop-first", None).await;
    let diff = &reply[4]["response"]["diff"];
    assert_eq!(diff["1"]["k"]["0"]["0"], json!(2));
    assert_eq!(diff["1"]["k"]["kc"], 1);
    send(
        &mut ws,
        json!(["1", "3", page.topic(), "cids_will_destroy", {"cids": [1]}]),
    )
    .await;
    assert_eq!(recv(&mut ws).await[4]["response"], json!({}));
    send(
        &mut ws,
        json!(["1", "4", page.topic(), "cids_destroyed", {"cids": [1]}]),
    )
    .await;
    assert_eq!(recv(&mut ws).await[4]["response"], json!({"cids": [1]}));
    // Re-added later: a new cid, rendered in full.
    let reply = event(&mut ws, &page, "5", "restore-first", None).await;
    let diff = &reply[4]["response"]["diff"];
    assert_eq!(diff["1"]["k"]["0"]["0"], json!(3));
    assert_eq!(diff["c"]["3"]["1"], "milk");
    assert_eq!(diff["c"]["3"]["r"], 1);
}

#[tokio::test]
async fn a_component_readded_during_the_handshake_survives() {
    let (mut ws, page, _) = joined().await;
    event(&mut ws, &page, "2", "drop-first", None).await;
    send(
        &mut ws,
        json!(["1", "3", page.topic(), "cids_will_destroy", {"cids": [1]}]),
    )
    .await;
    recv(&mut ws).await;
    // Re-added before cids_destroyed: the same cid, sent in full again (the client may have
    // dropped its copy's change tracking).
    let reply = event(&mut ws, &page, "4", "restore-first", None).await;
    let diff = &reply[4]["response"]["diff"];
    assert_eq!(diff["1"]["k"]["0"]["0"], json!(1));
    assert_eq!(diff["c"]["1"]["r"], 1);
    assert!(diff["c"]["1"]["s"].is_array());
    send(
        &mut ws,
        json!(["1", "5", page.topic(), "cids_destroyed", {"cids": [1]}]),
    )
    .await;
    assert_eq!(recv(&mut ws).await[4]["response"], json!({"cids": []}));
    // Still alive: its events work.
    let reply = event(&mut ws, &page, "6", "edit", Some(1)).await;
    assert_eq!(
        reply[4]["response"],
        json!({"diff": {"c": {"1": {"0": " class=\"editing\""}}}})
    );
}
