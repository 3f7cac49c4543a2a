//! Stateful live components over a real socket (docs/protocol.md §3.4, §4.2): cids in the
//! parent's tree, component trees under `c` with `"r":1`, shared statics, events routed by
//! `cid`, only changed components re-rendered, `send_update` (applied after the round's render,
//! as a follow-up diff), a component's `mount`, and the destroy handshake.

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
    // The view's send_update is applied after its render: the reply has nothing, the change
    // follows as a diff push.
    let reply = event(&mut ws, &page, "2", "edit-2", None).await;
    assert_eq!(reply[4]["response"], json!({}));
    let push = recv(&mut ws).await;
    assert_eq!(
        push,
        json!(["1", null, page.topic(), "diff", {"c": {"2": {"0": " class=\"editing\""}}}])
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

/// Upstream issue 3169's `FormComponent`: when `selected` changes, its `update` clears the
/// record and sends itself an update that loads it.
struct Loader {
    record: Option<String>,
}

impl LiveComponent for Loader {
    type Assigns = Option<String>;

    fn new(_: &Option<String>) -> Self {
        Loader { record: None }
    }

    async fn update(
        &mut self,
        selected: Option<String>,
        socket: &mut ComponentSocket<'_>,
    ) -> Result {
        if let Some(name) = selected {
            socket.send_update::<Loader>("loader", move |l| {
                l.record = Some(format!("Record {name}"));
            });
            self.record = None;
        }
        Ok(())
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(<div>{self.record.as_deref().unwrap_or("none")}</div>)
    }
}

/// The default `update` starts over from the assigns (drops `editing`).
struct Fresh {
    title: String,
    editing: bool,
}

impl LiveComponent for Fresh {
    type Assigns = String;

    fn new(title: &String) -> Self {
        Fresh {
            title: title.clone(),
            editing: false,
        }
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(<p>{self.title.as_str()} {if self.editing { " (editing)" } else { "" }}</p>)
    }
}

/// Updated by its child on every render: an endless send_update loop.
struct Ping {
    n: u32,
}

impl LiveComponent for Ping {
    type Assigns = ();

    fn new(_: &()) -> Self {
        Ping { n: 0 }
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(<div>{self.n}{live_component::<Pong>("pong", self.n)}</div>)
    }
}

struct Pong;

impl LiveComponent for Pong {
    type Assigns = u32;

    fn new(_: &u32) -> Self {
        Pong
    }

    async fn update(&mut self, _n: u32, socket: &mut ComponentSocket<'_>) -> Result {
        socket.send_update::<Ping>("ping", |ping| ping.n += 1);
        Ok(())
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(<span>"pong"</span>)
    }
}

/// Knows in `mount` whether the view is connected; connected, it loads itself with a
/// send_update.
struct Status {
    live: bool,
    loaded: bool,
}

impl LiveComponent for Status {
    type Assigns = ();

    fn new(_: &()) -> Self {
        Status {
            live: false,
            loaded: false,
        }
    }

    async fn mount(&mut self, socket: &mut ComponentSocket<'_>) -> Result {
        self.live = socket.connected();
        if self.live {
            socket.send_update::<Status>("status", |s| s.loaded = true);
        }
        Ok(())
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(<p>{if self.live { "live" } else { "dead" }} " " {if self.loaded { "loaded" } else { "loading" }}</p>)
    }
}

#[derive(Default)]
struct Lab {
    selected: Option<String>,
    title: String,
}

impl LiveView for Lab {
    type Message = ();

    async fn mount(&mut self, _cx: &livefire::Mount, _socket: &mut Socket) -> Result {
        self.title = "first".into();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "select-a" => self.selected = Some("a".into()),
            "select-b" => self.selected = Some("b".into()),
            "rename-and-edit" => {
                self.title = "second".into();
                socket.send_update::<Fresh>("fresh", |f| f.editing = true);
            }
            "ping" => {
                socket.send_update::<Ping>("ping", |p| p.n += 1);
            }
            "noop" => {}
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(
            {live_component::<Loader>("loader", self.selected.clone())}
            {live_component::<Fresh>("fresh", self.title.clone())}
            {live_component::<Ping>("ping", ())}
            {live_component::<Status>("status", ())}
        )
    }
}

fn lab_app() -> Router {
    let keyring = Keyring::new([34u8; 64]).unwrap();
    LiveRouter::new(keyring.clone())
        .live("/lab", Lab::default)
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

/// The cids of the lab's components, by position in its template.
struct LabCids {
    loader: String,
    fresh: String,
    ping: String,
    status: String,
}

/// Joins `/lab`; returns the socket, the page, the join's `rendered` and the first push (the
/// follow-up diff of `Status`'s send_update from its mount).
async fn lab_joined() -> (Ws, Page, Value, Value, LabCids) {
    let app = lab_app();
    let addr = serve(app.clone()).await;
    let page = get(&app, "/lab", None).await;
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!([
            "1",
            "1",
            page.topic(),
            "phx_join",
            page.join_payload("/lab")
        ]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let rendered = reply[4]["response"]["rendered"].clone();
    let cid = |i: &str| rendered[i].as_u64().expect("a cid").to_string();
    let cids = LabCids {
        loader: cid("0"),
        fresh: cid("1"),
        ping: cid("2"),
        status: cid("3"),
    };
    let push = recv(&mut ws).await;
    (ws, page, rendered, push, cids)
}

/// A component's `mount` sees `connected()`: false in the dead render, true on the join; its
/// send_update to itself there is applied after the join's render, as a follow-up diff push.
#[tokio::test]
async fn a_component_mount_knows_connected_and_its_send_update_follows_the_join() {
    let page = get(&lab_app(), "/lab", None).await;
    assert!(
        page.container_inner().contains("<p>dead loading</p>"),
        "{}",
        page.container_inner()
    );
    let (_ws, page, rendered, push, cids) = lab_joined().await;
    let status = &rendered["c"][&cids.status];
    assert_eq!(
        (&status["0"], &status["1"]),
        (&json!("live"), &json!("loading"))
    );
    assert_eq!(
        push,
        json!(["1", null, page.topic(), "diff", {"c": {cids.status.as_str(): {"1": "loaded"}}}])
    );
}

/// Upstream issue 3169: a send_update from `LiveComponent::update` during the render is not
/// lost: the reply carries the render (the record cleared), a diff push the loaded record.
#[tokio::test]
async fn a_send_update_from_update_is_applied_after_the_render() {
    let (mut ws, page, _, _, cids) = lab_joined().await;
    let loader = cids.loader.as_str();
    let reply = event(&mut ws, &page, "2", "select-a", None).await;
    // The record was none and is cleared: nothing changed yet.
    assert_eq!(reply[4]["response"], json!({}));
    assert_eq!(
        recv(&mut ws).await,
        json!(["1", null, page.topic(), "diff", {"c": {loader: {"0": "Record a"}}}])
    );
    let reply = event(&mut ws, &page, "3", "select-b", None).await;
    assert_eq!(
        reply[4]["response"],
        json!({"diff": {"c": {loader: {"0": "none"}}}})
    );
    assert_eq!(
        recv(&mut ws).await,
        json!(["1", null, page.topic(), "diff", {"c": {loader: {"0": "Record b"}}}])
    );
}

/// A view's send_update is applied after the render's own component updates: the default
/// `update` (which starts over from the new assigns) does not overwrite it.
#[tokio::test]
async fn a_send_update_is_not_overwritten_by_the_render_of_the_same_round() {
    let (mut ws, page, _, _, cids) = lab_joined().await;
    let fresh = cids.fresh.as_str();
    let reply = event(&mut ws, &page, "2", "rename-and-edit", None).await;
    assert_eq!(
        reply[4]["response"],
        json!({"diff": {"c": {fresh: {"0": "second"}}}})
    );
    assert_eq!(
        recv(&mut ws).await,
        json!(["1", null, page.topic(), "diff", {"c": {fresh: {"1": " (editing)"}}}])
    );
}

/// Updates that cause updates run as follow-up rounds, at most 20; then the loop is dropped
/// and the view goes on.
#[tokio::test]
async fn a_send_update_loop_is_bounded() {
    let (mut ws, page, _, _, cids) = lab_joined().await;
    let ping = cids.ping.as_str();
    let reply = event(&mut ws, &page, "2", "ping", None).await;
    assert_eq!(reply[4]["response"], json!({}));
    for n in 1..=20 {
        let push = recv(&mut ws).await;
        assert_eq!(
            push,
            json!(["1", null, page.topic(), "diff", {"c": {ping: {"0": n.to_string()}}}]),
            "round {n}"
        );
    }
    assert_eq!(
        maybe_recv(&mut ws, std::time::Duration::from_millis(300)).await,
        None
    );
    let reply = event(&mut ws, &page, "3", "noop", None).await;
    assert_eq!(reply[4]["response"], json!({}));
    assert_eq!(
        maybe_recv(&mut ws, std::time::Duration::from_millis(300)).await,
        None
    );
}
