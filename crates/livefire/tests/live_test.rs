//! `livefire::test` versions of the integration flows (`protocol.rs`, `components.rs`,
//! `streams.rs`, `nested.rs`, `pubsub.rs`, `navigation.rs`, `session_writes.rs`,
//! `uploads.rs`): the same views, driven through `LiveTest` over the real protocol instead
//! of hand-written frames.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::flash::LiveFlashLayer;
use livefire::nested::live_render;
use livefire::pubsub::PubSub;
use livefire::session::{CookieSessionLayer, MemoryTicketStore};
use livefire::stream::Stream;
use livefire::test::{Browser, Error, LiveTest, Navigation, Outcome, UploadFile};
use livefire::token::Keyring;
use livefire::upload::{UploadConfig, live_file_input};
use livefire::{
    Event, Halt, LiveRouter, LiveView, Mount, OnMount, Params, Rendered, Result, Socket, html,
};
use serde_json::{Value, json};

fn keyring() -> Keyring {
    Keyring::new([93u8; 64]).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Events: values, JS commands, keys, focus, hooks, errors and crashes

#[derive(Default)]
struct Recorder {
    last: String,
}

impl LiveView for Recorder {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "boom" => return Err(livefire::Error::app("exploded")),
            "unknown" => return Err(livefire::Error::UnknownEvent("unknown".into())),
            "hook" => {
                socket.reply(json!({"echo": event.value().clone()}));
            }
            _ => {}
        }
        self.last = format!("{:?} {} {}", event.kind(), event.name(), event.value());
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(
            <button id="plain" phx-click="plain">"plain"</button>
            <button id="valued" phx-click="valued" phx-value-id="7" phx-value-Kind="x" value="v">"v"</button>
            <a id="link" href="#" phx-click="link" phx-value-n="1"><span id="inside">"in"</span></a>
            <div id="js" phx-click={r##"[["push",{"event":"js","value":{"extra":1}}],["toggle",{"to":"#x"}]]"##}>"js"</div>
            <input id="box" type="checkbox" phx-click="box" value="yes"/>
            <input id="key" phx-keyup="key" phx-key="Enter" value="typed"/>
            <input id="focus" phx-focus="focused" phx-blur="blurred" value="f"/>
            <button id="boom" phx-click="boom">"boom"</button>
            <button id="unknown" phx-click="unknown">"?"</button>
            <pre id="last">{self.last.as_str()}</pre>
        )
    }
}

fn recorder_app() -> Router {
    let keyring = keyring();
    LiveRouter::new(keyring.clone())
        .live("/", Recorder::default)
        .build()
        .unwrap()
        .layer(CookieSessionLayer::new(keyring))
}

async fn last(view: &LiveTest) -> String {
    view.text("#last").unwrap()
}

#[tokio::test]
async fn events_carry_what_the_client_sends() {
    let mut view = livefire::test::live(&recorder_app(), "/").await.unwrap();
    view.click("#plain").await.unwrap();
    assert_eq!(
        last(&view).await,
        r#"Click plain {"value":""}"#,
        "a button's value is \"\""
    );
    view.click("#valued").await.unwrap();
    assert_eq!(
        last(&view).await,
        r#"Click valued {"id":"7","kind":"x","value":"v"}"#,
        "phx-value-* lowercased, and the value"
    );
    // A click inside the link bubbles to it; an <a> has no value.
    view.click("#inside").await.unwrap();
    assert_eq!(last(&view).await, r#"Click link {"n":"1"}"#);
    // JS commands: the push runs with its value; the toggle stays in the browser.
    view.click("#js").await.unwrap();
    assert_eq!(last(&view).await, r#"Click js {"extra":1}"#);
    // An unchecked checkbox sends no value.
    view.click("#box").await.unwrap();
    assert_eq!(last(&view).await, "Click box {}");
    // phx-key filters on the client: nothing is sent for another key.
    view.keyup("#key", "a").await.unwrap();
    assert_eq!(last(&view).await, "Click box {}");
    view.keyup("#key", "Enter").await.unwrap();
    assert_eq!(
        last(&view).await,
        r#"KeyUp key {"key":"Enter","value":"typed"}"#
    );
    view.focus("#focus").await.unwrap();
    assert_eq!(last(&view).await, r#"Focus focused {"value":"f"}"#);
    view.blur("#focus").await.unwrap();
    assert_eq!(last(&view).await, r#"Blur blurred {"value":"f"}"#);
    view.hook_event("hook", json!({"lat": 1.5})).await.unwrap();
    assert_eq!(view.hook_reply(), Some(&json!({"echo": {"lat": 1.5}})));
    // A missing binding or element is a readable error.
    let err = view.keyup("#plain", "a").await.unwrap_err();
    assert!(matches!(err, Error::NoBinding { .. }), "{err}");
    let err = view.click("#nope").await.unwrap_err();
    assert!(
        err.to_string().contains("no element matches \"#nope\""),
        "{err}"
    );
    let err = view.click("button").await.unwrap_err();
    assert!(matches!(err, Error::Ambiguous { count: 4, .. }), "{err}");
}

#[tokio::test]
async fn an_error_reply_and_a_crash_are_readable_failures() {
    let mut view = livefire::test::live(&recorder_app(), "/").await.unwrap();
    let err = view.click("#unknown").await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::ErrorReply { .. }), "{message}");
    assert!(
        message.contains("\"unknown\""),
        "names the event: {message}"
    );
    assert!(message.contains("reason"), "shows the reply: {message}");
    // The view survives an error reply.
    view.click("#plain").await.unwrap();
    let err = view.click("#boom").await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Crashed { .. }), "{message}");
    assert!(message.starts_with("/ (phx-"), "names the view: {message}");
    assert!(message.contains("\"boom\""), "names the event: {message}");
}

// ---------------------------------------------------------------------------------------------
// Forms: the client's serialization

#[derive(Default)]
struct FormEcho {
    seen: Vec<String>,
}

impl LiveView for FormEcho {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _: &mut Socket) -> Result {
        let form = event.form_data()?;
        self.seen.push(format!(
            "{} {} target={:?} used_email={}",
            event.name(),
            event.value().as_str().unwrap_or_default(),
            form.target(),
            form.used(&["user", "email"])
        ));
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(
            <form id="user" phx-change="validate" phx-submit="save" phx-value-step="1">
                <input type="hidden" name="_csrf_token" value="t"/>
                <input name="user[email]" value="old@x"/>
                <input name="user[password]" type="password"/>
                <input type="hidden" name="user[terms]" value="false"/>
                <input type="checkbox" name="user[terms]" value="true"/>
                <select name="user[role]"><option value="user">"User"</option><option value="admin">"Admin"</option></select>
                <textarea name="user[bio]">"hi"</textarea>
                <button name="commit" value="go">"Go"</button>
            </form>
            <ol>@for s in &self.seen { <li>{s.as_str()}</li> }</ol>
        )
    }
}

#[tokio::test]
async fn forms_serialize_as_the_client_does() {
    let keyring = keyring();
    let app = LiveRouter::new(keyring.clone())
        .live("/", FormEcho::default)
        .build()
        .unwrap()
        .layer(CookieSessionLayer::new(keyring));
    let mut view = livefire::test::live(&app, "/").await.unwrap();
    view.change_form("#user", &[("user[email]", "a@b.c")])
        .await
        .unwrap();
    let seen = view.elements("li").unwrap();
    assert_eq!(
        seen[0],
        "<li>validate _csrf_token=t&amp;user%5Bemail%5D=a%40b.c&amp;user%5B_unused_password%5D=&amp;\
         user%5Bpassword%5D=&amp;user%5B_unused_terms%5D=&amp;user%5Bterms%5D=false&amp;\
         user%5B_unused_role%5D=&amp;user%5Brole%5D=user&amp;user%5B_unused_bio%5D=&amp;user%5Bbio%5D=hi \
         target=Some([\"user\", \"email\"]) used_email=true</li>"
    );
    // Fields used once stay used; a checkbox is checked by its value, an option selected.
    view.change_form("#user", &[("user[terms]", "true"), ("user[role]", "admin")])
        .await
        .unwrap();
    assert!(view.text("li:nth-child(2)").unwrap().contains(
        "user%5Bemail%5D=old%40x&user%5B_unused_password%5D=&user%5Bpassword%5D=&user%5Bterms%5D=false&user%5Bterms%5D=true&user%5Brole%5D=admin"
    ));
    assert!(
        view.text("li:nth-child(2)")
            .unwrap()
            .contains("target=Some([\"user\", \"role\"])")
    );
    // A submit: no twins, no target, the button's name=value at its place.
    view.submit_form("#user", &[("user[password]", "pw")])
        .await
        .unwrap();
    assert_eq!(
        view.text("li:nth-child(3)").unwrap(),
        "save _csrf_token=t&user%5Bemail%5D=old%40x&user%5Bpassword%5D=pw&user%5Bterms%5D=false\
         &user%5Brole%5D=user&user%5Bbio%5D=hi&commit=go target=None used_email=true"
    );
    let err = view
        .submit_form("#user", &[("user[age]", "3")])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Form { .. }), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Components, streams and a fresh render

/// A shared store, so that a fresh mount reads the same state back.
type Store = Arc<Mutex<Vec<(u32, String)>>>;

struct Row {
    title: String,
    editing: bool,
}

impl LiveComponent for Row {
    type Assigns = String;

    fn new(title: &String) -> Self {
        Row {
            title: title.clone(),
            editing: false,
        }
    }

    async fn update(&mut self, title: String, _: &mut ComponentSocket<'_>) -> Result {
        self.title = title;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "edit" => self.editing = !self.editing,
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        html!(<li class={if self.editing { "editing" } else { "" }}>{self.title.as_str()}
            <button phx-click="edit" phx-target={myself}>"e"</button></li>)
    }
}

struct Todos {
    store: Store,
    items: Vec<(u32, String)>,
    log: Stream<(u32, String)>,
    picked: String,
}

impl LiveView for Todos {
    type Message = ();

    async fn mount(&mut self, _: &Mount, _: &mut Socket) -> Result {
        self.items = self.store.lock().unwrap().clone();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _: &mut Socket) -> Result {
        match event.name() {
            "add" => {
                let id = self.items.iter().map(|(id, _)| *id).max().unwrap_or(0) + 1;
                let title = format!("item {id}");
                self.items.push((id, title.clone()));
                self.log.insert((id, format!("added {title}")));
            }
            "drop-first" => {
                if !self.items.is_empty() {
                    let (id, title) = self.items.remove(0);
                    self.log.insert((id + 100, format!("dropped {title}")));
                }
            }
            "pick" => self.picked = event.get("title").unwrap_or_default().to_owned(),
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        *self.store.lock().unwrap() = self.items.clone();
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(
            <ul id="rows">@for (id, title) in &self.items; key = id {
                {live_component::<Row>(format!("row-{id}"), title.clone())}
            }</ul>
            <div id="picker" phx-click="pick" phx-value-title="from view">"pick"</div>
            <button id="add" phx-click="add">"add"</button>
            <button id="drop" phx-click="drop-first">"drop"</button>
            <p id="picked">{self.picked.as_str()}</p>
            <ol id="log" phx-update="stream">@for (dom_id, (_, line)) in &self.log { <li id={dom_id}>{line.as_str()}</li> }</ol>
        )
    }
}

fn todos_app(store: Store) -> Router {
    let keyring = keyring();
    LiveRouter::new(keyring.clone())
        .live("/", move || Todos {
            store: store.clone(),
            items: Vec::new(),
            log: Stream::new("log", |(id, _): &(u32, String)| format!("log-{id}")),
            picked: String::new(),
        })
        .build()
        .unwrap()
        .layer(CookieSessionLayer::new(keyring))
}

#[tokio::test]
async fn components_get_their_events_and_the_merged_page_matches_a_fresh_render() {
    let store: Store = Arc::new(Mutex::new(vec![(1, "milk".into()), (2, "bread".into())]));
    let mut view = livefire::test::live(&todos_app(store), "/").await.unwrap();
    // Component roots carry the cid the client tags them with.
    assert_eq!(view.elements("[data-phx-component]").unwrap().len(), 2);
    // phx-target={myself}: the row's own event, the view untouched.
    view.click("li:nth-child(2) button").await.unwrap();
    assert!(view.has_element("li.editing", Some("bread")));
    assert!(!view.has_element("li.editing", Some("milk")));
    view.click("#add").await.unwrap();
    view.click("#add").await.unwrap();
    assert_eq!(view.elements("#rows > li").unwrap().len(), 4);
    // Removing a row: the client's destroy handshake runs, the others keep their state.
    view.click("#drop").await.unwrap();
    assert_eq!(view.elements("#rows > li").unwrap().len(), 3);
    assert!(view.has_element("li.editing", Some("bread")));
    // Stream entries stay in the page after they were sent once.
    let log: Vec<String> = view.elements("#log li").unwrap();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log[2].contains("dropped milk"));
}

#[tokio::test]
async fn a_page_of_components_and_comprehensions_matches_a_fresh_render_after_diffs() {
    let store: Store = Arc::new(Mutex::new(vec![(1, "milk".into())]));
    let mut view = livefire::test::live(&todos_app(store), "/").await.unwrap();
    view.matches_fresh_render().await.unwrap();
    for _ in 0..3 {
        view.click("#add").await.unwrap();
    }
    view.click("#drop").await.unwrap();
    // The stream log is rendered once; a fresh mount has none. Everything else must match.
    let html = view.html();
    assert!(html.contains("item 4"), "{html}");
    let err = view.matches_fresh_render().await.unwrap_err();
    let Error::Mismatch { merged, fresh, .. } = err else {
        panic!("{err}")
    };
    let strip_log = |s: &str| s[..s.find("<ol id=\"log\"").unwrap()].to_owned();
    assert_eq!(strip_log(&merged), strip_log(&fresh));
}

// ---------------------------------------------------------------------------------------------
// Child views

#[derive(Default)]
struct Child {
    clicks: u32,
}

impl LiveView for Child {
    type Message = ();

    async fn handle_event(&mut self, _: Event, _: &mut Socket) -> Result {
        self.clicks += 1;
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(<button class="kid" phx-click="click">"clicks=" {self.clicks}</button>)
    }
}

#[derive(Default)]
struct Parent {
    show_b: bool,
}

impl LiveView for Parent {
    type Message = ();

    async fn handle_event(&mut self, _: Event, _: &mut Socket) -> Result {
        self.show_b = !self.show_b;
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(<button id="toggle" phx-click="toggle">"toggle"</button>
            {live_render::<Child>("child-a")}
            @if self.show_b { {live_render::<Child>("child-b")} })
    }
}

#[tokio::test]
async fn child_views_join_run_on_their_own_and_leave_with_their_container() {
    let keyring = keyring();
    let app = LiveRouter::new(keyring.clone())
        .child_view(Child::default)
        .live("/", Parent::default)
        .build()
        .unwrap()
        .layer(CookieSessionLayer::new(keyring));
    let mut view = livefire::test::live(&app, "/").await.unwrap();
    assert_eq!(view.children(), ["child-a"]);
    // The click goes to the child that owns the button.
    view.click("#child-a .kid").await.unwrap();
    assert!(view.child("child-a").unwrap().contains("clicks=1"));
    view.click("#toggle").await.unwrap();
    assert_eq!(view.children(), ["child-a", "child-b"]);
    view.click("#child-b .kid").await.unwrap();
    view.click("#child-b .kid").await.unwrap();
    assert!(view.child("child-b").unwrap().contains("clicks=2"));
    assert!(view.child("child-a").unwrap().contains("clicks=1"));
    view.click("#toggle").await.unwrap();
    assert_eq!(view.children(), ["child-a"]);
    assert!(view.child("child-b").is_err());
}

// ---------------------------------------------------------------------------------------------
// Components targeted by selector

struct Panel {
    name: String,
    hits: u32,
}

impl LiveComponent for Panel {
    type Assigns = String;

    fn new(name: &String) -> Self {
        Panel {
            name: name.clone(),
            hits: 0,
        }
    }

    async fn handle_event(&mut self, event: Event, socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "hit" => self.hits += 1,
            "where" => {
                socket.reply(json!({"panel": self.name, "value": event.value().clone()}));
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _: Myself) -> Rendered {
        html!(<section id={format!("panel-{}", self.name)} class="panel">
            <span class="hits">{self.hits}</span>
            <div id={format!("map-{}", self.name)} phx-hook="Map"></div>
        </section>)
    }
}

#[derive(Default)]
struct Panels {
    hits: u32,
}

impl LiveView for Panels {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "hit" => self.hits += 1,
            "where" => {
                socket.reply(json!({"panel": "view"}));
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(
            {live_component::<Panel>("a", "a".to_owned())}
            {live_component::<Panel>("b", "b".to_owned())}
            <button id="hit-b" phx-click="hit" phx-target="#panel-b">"b"</button>
            <button id="hit-all" phx-click="hit" phx-target=".panel">"all"</button>
            <button id="hit-view" phx-click="hit">"view"</button>
            <div id="view-map" phx-hook="Map"></div>
            <p id="view-hits">{self.hits}</p>
        )
    }
}

#[tokio::test]
async fn components_are_targeted_by_selector_as_the_client_does() {
    let keyring = keyring();
    let app = LiveRouter::new(keyring.clone())
        .live("/", Panels::default)
        .build()
        .unwrap()
        .layer(CookieSessionLayer::new(keyring));
    let mut view = livefire::test::live(&app, "/").await.unwrap();
    let hits = |view: &LiveTest| {
        (
            view.text("#panel-a .hits").unwrap(),
            view.text("#panel-b .hits").unwrap(),
            view.text("#view-hits").unwrap(),
        )
    };
    // `phx-target="#panel-b"`: the component whose root the selector finds.
    view.click("#hit-b").await.unwrap();
    assert_eq!(hits(&view), ("0".into(), "1".into(), "0".into()));
    // A selector matching two components: one event to each, as the client sends them.
    view.click("#hit-all").await.unwrap();
    assert_eq!(hits(&view), ("1".into(), "2".into(), "0".into()));
    // No target: the view.
    view.click("#hit-view").await.unwrap();
    assert_eq!(hits(&view), ("1".into(), "2".into(), "1".into()));
    // A hook's pushEventTo: the component around the element, or the view outside any.
    view.hook_event_to("#map-a", "where", json!({"x": 1}))
        .await
        .unwrap();
    assert_eq!(
        view.hook_reply(),
        Some(&json!({"panel": "a", "value": {"x": 1}}))
    );
    view.hook_event_to("#panel-b", "where", json!({}))
        .await
        .unwrap();
    assert_eq!(view.hook_reply().unwrap()["panel"], "b");
    view.hook_event_to("#view-map", "where", json!({}))
        .await
        .unwrap();
    assert_eq!(view.hook_reply(), Some(&json!({"panel": "view"})));
    // A target that is not on the page is a readable error.
    let err = view
        .hook_event_to("#panel-z", "where", json!({}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("#panel-z"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Async work: `Socket::start_async` and `render_async`

#[derive(Default)]
struct Slow {
    greeting: Option<String>,
    count: u32,
}

impl LiveView for Slow {
    type Message = ();

    async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
        socket.start_async("greeting", async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            String::from("hello")
        });
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "count" => {
                socket.start_async("count", async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    1u32
                });
            }
            "forever" => {
                socket.start_async("forever", async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    0u32
                });
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    async fn handle_async(
        &mut self,
        name: &str,
        outcome: livefire::async_result::AsyncOutcome,
        socket: &mut Socket,
    ) -> Result {
        match name {
            "greeting" => self.greeting = outcome.into_result::<String>().ok(),
            _ => {
                let n = outcome.into_result::<u32>().map_err(livefire::Error::app)?;
                self.count = n;
                // A result that starts the next task: render_async waits for the chain.
                if (1..3).contains(&n) {
                    socket.start_async("count", async move {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        n + 1
                    });
                }
            }
        }
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(
            <p id="greeting">{self.greeting.as_deref().unwrap_or("loading")}</p>
            <p id="count">{self.count}</p>
            <button id="count-up" phx-click="count">"count"</button>
            <button id="forever" phx-click="forever">"forever"</button>
            {live_render::<SlowChild>("slow-child")}
        )
    }
}

#[derive(Default)]
struct SlowChild {
    loaded: bool,
}

impl LiveView for SlowChild {
    type Message = ();

    async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
        socket.start_async("load", tokio::time::sleep(Duration::from_millis(100)));
        Ok(())
    }

    async fn handle_async(
        &mut self,
        _name: &str,
        _outcome: livefire::async_result::AsyncOutcome,
        _socket: &mut Socket,
    ) -> Result {
        self.loaded = true;
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(<p class="child-state">{if self.loaded { "loaded" } else { "loading" }}</p>)
    }
}

#[tokio::test]
async fn render_async_waits_for_the_async_tasks_of_every_view() {
    let keyring = keyring();
    let app = LiveRouter::new(keyring.clone())
        .child_view(SlowChild::default)
        .live("/", Slow::default)
        .build()
        .unwrap()
        .layer(CookieSessionLayer::new(keyring));
    let mut view = livefire::test::live(&app, "/").await.unwrap();
    assert!(view.has_element("#greeting", Some("loading")));
    view.render_async().await.unwrap();
    assert!(view.has_element("#greeting", Some("hello")));
    assert!(view.has_element(".child-state", Some("loaded")));
    // Nothing running: returns the page at once.
    view.render_async().await.unwrap();
    // A task whose result starts the next one, three times.
    view.click("#count-up").await.unwrap();
    view.render_async().await.unwrap();
    assert_eq!(view.text("#count").unwrap(), "3");
    // A task that does not finish in time: a readable timeout.
    view.set_timeout(Duration::from_millis(100));
    view.click("#forever").await.unwrap();
    let err = view.render_async().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(err.to_string().contains("async tasks"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Server pushes

struct Listener {
    pubsub: PubSub,
    last: String,
}

impl LiveView for Listener {
    type Message = String;

    async fn mount(&mut self, _: &Mount, socket: &mut Socket<String>) -> Result {
        socket.subscribe(&self.pubsub, "news", |v: Value| {
            v.as_str().map(str::to_owned)
        });
        Ok(())
    }

    async fn handle_info(&mut self, msg: String, _: &mut Socket<String>) -> Result {
        self.last = msg;
        Ok(())
    }

    fn render(&self, _: &Socket<String>) -> Rendered {
        html!(<p id="news">{self.last.as_str()}</p>)
    }
}

#[tokio::test]
async fn pubsub_pushes_are_applied_when_awaited() {
    let keyring = keyring();
    let pubsub = PubSub::local();
    let p = pubsub.clone();
    let app = LiveRouter::new(keyring.clone())
        .live("/", move || Listener {
            pubsub: p.clone(),
            last: String::new(),
        })
        .build()
        .unwrap()
        .layer(CookieSessionLayer::new(keyring));
    let mut view = livefire::test::live(&app, "/").await.unwrap();
    pubsub.broadcast("news", "extra");
    view.wait_for("#news", Some("extra")).await.unwrap();
    view.set_timeout(Duration::from_millis(100));
    let err = view.wait_for("#news", Some("never")).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(view.render().await.unwrap(), r#"<p id="news">extra</p>"#);
}

// ---------------------------------------------------------------------------------------------
// Navigation, flash and session writes

#[derive(Default)]
struct Nav {
    page: String,
}

impl LiveView for Nav {
    type Message = ();

    async fn handle_params(&mut self, params: &Params, _: &mut Socket) -> Result {
        self.page = params.query("page").unwrap_or("1").to_owned();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "next" => socket.push_patch(&format!(
                "/nav?page={}",
                self.page.parse::<u32>().unwrap_or(1) + 1
            )),
            "away" => {
                socket.put_flash("info", "navigated");
                socket.push_navigate("/other");
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(<p id="page">{self.page.as_str()}</p>
            <button id="next" phx-click="next">"next"</button>
            <button id="away" phx-click="away">"away"</button>
            <a id="patch" href="/nav?page=9" data-phx-link="patch" data-phx-link-state="push">"9"</a>
            <a id="live" href="/other" data-phx-link="redirect" data-phx-link-state="push">"other"</a>)
    }
}

struct Other;

impl LiveView for Other {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        html!(<h1>"other"</h1><p id="flash">{socket.flash().get_str("info").unwrap_or_default()}</p>)
    }
}

#[tokio::test]
async fn patches_and_live_redirects_follow_the_client() {
    let keyring = keyring();
    let app = LiveRouter::new(keyring.clone())
        .live("/nav", Nav::default)
        .live("/other", || Other)
        .build()
        .unwrap()
        .layer(LiveFlashLayer::new(keyring.clone()))
        .layer(CookieSessionLayer::new(keyring));
    let mut view = livefire::test::live(&app, "/nav").await.unwrap();
    view.click("#next").await.unwrap();
    assert_eq!(view.path(), "/nav?page=2");
    assert_eq!(view.text("#page").unwrap(), "2");
    view.click("#patch").await.unwrap();
    assert_eq!(view.path(), "/nav?page=9");
    assert_eq!(view.text("#page").unwrap(), "9");
    // A live redirect link, then back through push_navigate with a flash on the same socket.
    let nav = view.click("#live").await.unwrap().navigation();
    assert!(matches!(nav, Navigation::LiveRedirect { .. }), "{nav:?}");
    let other = view.follow_redirect(nav).await.unwrap();
    assert_eq!(other.path(), "/other");
    assert!(other.has_element("#flash", Some("")));
    let mut view = other.navigate("/nav").await.unwrap();
    assert_eq!(view.text("#page").unwrap(), "1");
    let nav = view.click("#away").await.unwrap().navigation();
    assert!(nav.flash().is_some(), "{nav:?}");
    let other = view.follow_redirect(nav).await.unwrap();
    assert!(other.has_element("#flash", Some("navigated")));
}

/// The login view of `session_writes.rs`: every event logs "ann" in through the session.
#[derive(Default)]
struct Login;

impl LiveView for Login {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        socket
            .renew_session()
            .put_session("user", "ann")
            .put_flash("info", "Welcome back!");
        match event.name() {
            "redirect" => socket.redirect("/guarded"),
            "navigate" => socket.push_navigate("/guarded"),
            "form" => {}
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        html!(<p id="flash">{socket.flash().get_str("error").unwrap_or_default()}</p>
            <button id="redirect" phx-click="redirect">"r"</button>
            <button id="navigate" phx-click="navigate">"n"</button>
            <button id="form" phx-click="form">"f"</button>
            {socket.session_form("/guarded")})
    }
}

#[derive(Clone)]
struct User(String);

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

    fn render(&self, socket: &Socket) -> Rendered {
        html!(<p id="user">{self.user.as_str()}</p>
            <p id="flash">{socket.flash().get_str("info").unwrap_or_default()}</p>)
    }
}

async fn require_user(cx: OnMount) -> std::result::Result<OnMount, Halt> {
    match cx.session::<String>("user") {
        Some(user) => Ok(cx.assign(User(user))),
        None => Err(Halt::redirect("/login").flash("error", "You must log in.")),
    }
}

fn session_app() -> Router {
    let keyring = keyring();
    let store = MemoryTicketStore::new();
    LiveRouter::new(keyring.clone())
        .session_store(store.clone())
        .live_session("public")
        .live("/login", Login::default)
        .live_session("members")
        .on_mount(require_user)
        .live("/guarded", Guarded::default)
        .build()
        .unwrap()
        .layer(LiveFlashLayer::new(keyring.clone()).session_store(store))
        .layer(CookieSessionLayer::new(keyring))
}

#[tokio::test]
async fn session_writes_arrive_through_every_kind_of_redirect() {
    let app = session_app();
    for how in ["#redirect", "#navigate", "#form"] {
        let browser = Browser::start(&app).await.unwrap();
        // Guarded: the dead render redirects, with a flash, to the login page.
        let nav = browser
            .live("/guarded")
            .await
            .unwrap_err()
            .into_navigation()
            .unwrap();
        assert_eq!(nav.to(), "/login");
        let mut login = browser.follow(nav).await.unwrap();
        assert!(
            login.has_element("#flash", Some("You must log in.")),
            "{how}"
        );
        let nav = match login.click(how).await.unwrap() {
            Outcome::Navigated(nav) => nav,
            Outcome::Html(html) => panic!("{how}: no navigation: {html}"),
        };
        if how == "#form" {
            assert!(
                matches!(&nav, Navigation::FormPost { action, .. } if action == "/live/session"),
                "{nav:?}"
            );
        }
        let guarded = login.follow_redirect(nav).await.unwrap();
        assert_eq!(guarded.path(), "/guarded", "{how}");
        assert!(
            guarded.has_element("#user", Some("ann")),
            "{how}: {}",
            guarded.html()
        );
        if how != "#form" {
            assert!(
                guarded.has_element("#flash", Some("Welcome back!")),
                "{how}"
            );
        }
        // The session now holds the user for every later page load of this browser.
        let again = browser.live("/guarded").await.unwrap();
        assert!(again.has_element("#user", Some("ann")), "{how}");
    }
}

// ---------------------------------------------------------------------------------------------
// Uploads

#[derive(Default)]
struct Uploader {
    saved: Vec<(String, String)>,
}

impl LiveView for Uploader {
    type Message = ();

    async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
        socket.allow_upload(
            "doc",
            UploadConfig::new([".txt", ".md"])?
                .max_entries(2)
                .max_file_size(100)
                .chunk_size(8),
        )?;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {}
            "save" => {
                for file in socket.consume_uploaded_entries("doc")? {
                    let body = file.read().await.map_err(livefire::Error::app)?;
                    let name = file.entry().client_name().to_owned();
                    self.saved
                        .push((name, String::from_utf8_lossy(&body).into_owned()));
                }
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let Some(doc) = socket.upload("doc") else {
            return html!(<p>"no upload"</p>);
        };
        html!(
            <form id="f" phx-change="validate" phx-submit="save">
                {live_file_input(doc)}
                @for entry in doc.entries() {
                    <p class="entry">{entry.client_name()} ":" {entry.progress()}
                        @for err in doc.entry_errors(entry) { <i>{err.code()}</i> }
                    </p>
                }
            </form>
            <ul>@for (name, body) in &self.saved { <li>{name.as_str()} "=" {body.as_str()}</li> }</ul>
        )
    }
}

#[tokio::test]
async fn files_upload_in_chunks_and_are_consumed_on_submit() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = keyring();
    let app = LiveRouter::new(keyring.clone())
        .upload_dir(dir.path())
        .live("/", Uploader::default)
        .build()
        .unwrap()
        .layer(CookieSessionLayer::new(keyring));
    let mut view = livefire::test::live(&app, "/").await.unwrap();
    // Selecting an invalid file: the entry shows with its error, nothing is uploaded.
    view.file_input(
        "#f input",
        vec![UploadFile::new(
            "x.exe",
            "application/octet-stream",
            vec![1],
        )],
    )
    .select()
    .await
    .unwrap();
    assert!(view.has_element(".entry", Some("x.exe:0")));
    assert!(view.has_element(".entry i", None), "{}", view.html());

    let mut view = livefire::test::live(&app, "/").await.unwrap();
    let files = vec![
        UploadFile::new("notes.txt", "text/plain", b"hello, uploaded file".to_vec()),
        UploadFile::new("b.md", "text/markdown", b"# b".to_vec()),
    ];
    view.file_input("#f input", files).upload().await.unwrap();
    assert!(view.has_element(".entry", Some("notes.txt:100")));
    assert!(view.has_element(".entry", Some("b.md:100")));
    view.submit_form("#f", &[]).await.unwrap();
    assert_eq!(
        view.elements("li").unwrap(),
        [
            "<li>notes.txt=hello, uploaded file</li>",
            "<li>b.md=# b</li>"
        ]
    );
    assert!(
        !view.has_element(".entry", None),
        "consumed entries are gone"
    );
}
