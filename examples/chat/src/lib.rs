//! A multi-room chat: rooms (created with live validation), messages broadcast over pub/sub,
//! who is in each room (presence), a nickname kept in the session, live navigation between
//! rooms, flash messages and a live title. Written with livefire's public API only.
//!
//! Rooms and their last messages are kept in memory by a [`Store`] that listens on pub/sub, so
//! with a Redis [`PubSub`] (`REDIS_URL`, several nodes) the rooms and messages made on one node
//! reach the others; a node learns the rooms created after it started (`#lobby` always exists).
//!
//! Run with `npm ci && cargo run -p chat`, then open <http://127.0.0.1:4007>.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use axum::{Router, response::Redirect, routing::get};
use livefire::components::{flash_group, input};
use livefire::form::FormState;
use livefire::js::{JS, To};
use livefire::pubsub::{Delivery, PubSub, Sink, Subscription};
use livefire::{Error, Event, LiveRouter, LiveView, Mount, Params, Rendered, Result, Socket};
use livefire::{html, layout::RootLayout, link, pipeline::BrowserPipeline, presence::Presence};
use livefire::{session::MemoryTicketStore, token::Keyring};
use serde::{Deserialize, Serialize};

/// How many messages a room keeps.
const HISTORY: usize = 100;
/// The pub/sub topic on which new room names are announced.
const ROOMS: &str = "rooms";

/// The pub/sub topic of a room's messages (also its presence topic).
fn topic(room: &str) -> String {
    format!("room:{room}")
}

/// A chat message, as broadcast on its room's topic.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Message {
    nick: String,
    body: String,
}

/// The rooms and their last messages, fed by pub/sub. Cheap to clone.
#[derive(Clone, Debug)]
struct Store {
    pubsub: PubSub,
    rooms: Arc<Mutex<Rooms>>,
}

#[derive(Debug)]
struct Rooms {
    messages: BTreeMap<String, Vec<Message>>,
    /// To subscribe to new rooms (the subscriptions' sinks only hold a `Weak`: no cycle).
    pubsub: PubSub,
    subscriptions: Vec<Subscription>,
}

/// What the store hears on pub/sub.
enum Heard {
    Room(String),
    Message(String, Message),
}

/// The store's end of its subscriptions.
struct Feed(Weak<Mutex<Rooms>>);

impl Sink<Heard> for Feed {
    fn deliver(&self, heard: Heard) -> Delivery {
        let Some(rooms) = self.0.upgrade() else {
            return Delivery::Gone;
        };
        let mut rooms = rooms.lock().unwrap_or_else(PoisonError::into_inner);
        match heard {
            Heard::Room(room) if !rooms.messages.contains_key(&room) => {
                let (name, feed) = (room.clone(), Feed(self.0.clone()));
                let sub = rooms.pubsub.subscribe_typed(&topic(&room), feed, move |m| {
                    Heard::Message(name.clone(), m)
                });
                rooms.subscriptions.push(sub);
                rooms.messages.insert(room, Vec::new());
            }
            Heard::Room(_) => {}
            Heard::Message(room, message) => {
                let messages = rooms.messages.entry(room).or_default();
                messages.push(message);
                let extra = messages.len().saturating_sub(HISTORY);
                messages.drain(..extra);
            }
        }
        Delivery::Done
    }

    fn is_closed(&self) -> bool {
        self.0.strong_count() == 0
    }
}

impl Store {
    /// A store with the room `lobby`, listening on `pubsub`.
    fn new(pubsub: PubSub) -> Self {
        let rooms = Arc::new(Mutex::new(Rooms {
            messages: BTreeMap::new(),
            pubsub: pubsub.clone(),
            subscriptions: Vec::new(),
        }));
        let feed = || Feed(Arc::downgrade(&rooms));
        feed().deliver(Heard::Room("lobby".to_owned()));
        let sub = pubsub.subscribe_typed(ROOMS, feed(), Heard::Room);
        rooms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .subscriptions
            .push(sub);
        Store { pubsub, rooms }
    }

    fn with<T>(&self, f: impl FnOnce(&Rooms) -> T) -> T {
        f(&self.rooms.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn names(&self) -> Vec<String> {
        self.with(|rooms| rooms.messages.keys().cloned().collect())
    }

    fn messages(&self, room: &str) -> Vec<Message> {
        self.with(|rooms| rooms.messages.get(room).cloned().unwrap_or_default())
    }

    fn exists(&self, room: &str) -> bool {
        self.with(|rooms| rooms.messages.contains_key(room))
    }

    /// Why `name` cannot be a new room's name, if it cannot.
    fn check_name(&self, name: &str) -> Option<&'static str> {
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if name.is_empty() || name.len() > 24 || !name.chars().all(valid) {
            Some("use 1 to 24 lowercase letters, digits or dashes")
        } else if self.exists(name) {
            Some("is taken")
        } else {
            None
        }
    }
}

/// Why `nick` cannot be a nickname, if it cannot.
fn check_nick(nick: &str) -> Option<&'static str> {
    let length = nick.chars().count();
    let bad = nick.chars().any(char::is_control);
    (length == 0 || length > 20 || bad).then_some("use 1 to 20 characters")
}

/// What a chat view hears: a message, a new room or a presence change (all re-read).
#[derive(Debug)]
enum Changed {
    Messages,
    Rooms,
    Presence,
}

/// The chat page of one room (`/rooms/{room}`); patch links switch rooms.
#[derive(Debug)]
struct Chat {
    store: Store,
    presence: Presence,
    /// Kept in the session once set.
    nick: Option<String>,
    room: String,
    rooms: Vec<String>,
    messages: Vec<Message>,
    who: Vec<String>,
    /// This view's presence entry in its room: it leaves with the view or the room.
    tracked: Option<livefire::presence::Tracked>,
    new_room: FormState,
    message: FormState,
    nickname: FormState,
}

impl Chat {
    fn new(store: Store, presence: Presence) -> Self {
        Chat {
            store,
            presence,
            nick: None,
            room: String::new(),
            rooms: Vec::new(),
            messages: Vec::new(),
            who: Vec::new(),
            tracked: None,
            new_room: FormState::new("new-room"),
            message: FormState::new("message"),
            nickname: FormState::new("nickname"),
        }
    }

    fn refresh(&mut self) {
        self.rooms = self.store.names();
        self.messages = self.store.messages(&self.room);
        self.who = self.presence.list(&topic(&self.room)).into_keys().collect();
    }
}

impl LiveView for Chat {
    type Message = Changed;

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<Changed>) -> Result {
        self.nick = socket.session("nick");
        let pubsub = self.store.pubsub.clone();
        socket.subscribe_typed(&pubsub, ROOMS, |_: String| Changed::Rooms);
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, socket: &mut Socket<Changed>) -> Result {
        let room = params.get("room").unwrap_or_default().to_owned();
        if !self.store.exists(&room) {
            socket.put_flash("error", format!("There is no room #{room}."));
            socket.redirect("/rooms/lobby");
            return Ok(());
        }
        if socket.connected() && room != self.room {
            // Leave the old room's topics (and presence), join the new one's.
            socket.unsubscribe(&topic(&self.room));
            socket.unsubscribe(&Presence::diff_topic(&topic(&self.room)));
            let pubsub = self.store.pubsub.clone();
            socket.subscribe_typed(&pubsub, &topic(&room), |_: Message| Changed::Messages);
            self.presence
                .subscribe(socket, &topic(&room), |_| Changed::Presence);
            self.tracked = self.nick.as_ref().map(|nick| {
                let meta = serde_json::json!({});
                self.presence.track_while(&topic(&room), nick, meta)
            });
        }
        socket.set_title(format!("#{room}"));
        self.room = room;
        self.refresh();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Changed>) -> Result {
        match event.name() {
            "validate-room" | "create-room" => {
                self.new_room.update(event.form_data()?);
                let name = self.new_room.value("name").trim().to_owned();
                if let Some(error) = self.store.check_name(&name) {
                    self.new_room.add_error("name", error);
                } else if event.name() == "create-room" {
                    self.store.pubsub.broadcast(ROOMS, &name);
                    self.new_room.reset();
                    socket.put_flash("info", format!("Room #{name} created."));
                    socket.push_patch(&format!("/rooms/{name}"));
                }
            }
            "send" => {
                let nick = self
                    .nick
                    .clone()
                    .ok_or(Error::UnknownEvent("send (no nickname yet)".into()))?;
                self.message.update(event.form_data()?);
                let body = self.message.value("body").trim().to_owned();
                if !body.is_empty() {
                    let message = Message { nick, body };
                    self.store.pubsub.broadcast(&topic(&self.room), message);
                    // A new form id: the browser gets an empty input (see `FormState::reset`).
                    self.message.reset();
                }
            }
            "set-nick" => {
                self.nickname.update(event.form_data()?);
                let nick = self.nickname.value("nick").trim().to_owned();
                match check_nick(&nick) {
                    Some(error) => _ = self.nickname.add_error("nick", error),
                    // A live view cannot set cookies: the redirect carries the session write.
                    None => socket
                        .put_session("nick", &nick)
                        .put_flash("info", format!("Welcome, {nick}!"))
                        .redirect(&format!("/rooms/{}", self.room)),
                }
            }
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    async fn handle_info(&mut self, _changed: Changed, _socket: &mut Socket<Changed>) -> Result {
        self.refresh();
        Ok(())
    }

    fn render(&self, socket: &Socket<Changed>) -> Rendered {
        let focus = JS::new().focus(To::Source).to_string();
        html! {
            {flash_group(socket.flash())}
            <nav>
                <ul id="rooms">
                    @for room in &self.rooms {
                        <li class={if *room == self.room { "current" } else { "" }}>
                            {link::patch(format!("/rooms/{room}")).id(format!("room-{room}")).render(format!("#{room}"))}
                        </li>
                    }
                </ul>
                <form id={self.new_room.id()} phx-change="validate-room" phx-submit="create-room">
                    {input(&self.new_room, "name").label("New room").attr("autocomplete", "off").render()}
                    <button>"Create"</button>
                </form>
            </nav>
            <main>
                <h1 id="title">"#" {self.room.as_str()}</h1>
                <ul id="presence">@for nick in &self.who { <li>{nick}</li> }</ul>
                <ul id="messages">
                    @for message in &self.messages {
                        <li><b>{message.nick.as_str()}</b>": " {message.body.as_str()}</li>
                    }
                </ul>
                @match &self.nick {
                    Some(nick) => {
                        <form id={self.message.id()} phx-submit="send">
                            {input(&self.message, "body").label(nick.as_str()).attr("autocomplete", "off").attr("phx-mounted", focus).render()}
                            <button>"Send"</button>
                        </form>
                    }
                    None => {
                        <form id={self.nickname.id()} phx-submit="set-nick">
                            {input(&self.nickname, "nick").label("Choose a nickname to chat").render()}
                            <button>"Join"</button>
                        </form>
                    }
                }
            </main>
        }
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;display:flex;gap:2rem;margin:2rem}\
nav li.current a{font-weight:bold}#messages{list-style:none;padding:0}.error{color:#b00020}\
#presence li{display:inline;margin-right:.5rem;color:#2e7d32}.flash{padding:.5rem;background:#eef}";

/// The chat app: `/rooms/{room}` (and `/`, which redirects to `/rooms/lobby`), with rooms and
/// messages on `pubsub` and presence heartbeats every `presence_period` (a node that dies
/// leaves the other nodes' presence lists within about four periods). Needs a Tokio runtime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// let keyring = livefire::token::Keyring::random();
/// let pubsub = livefire::pubsub::PubSub::local();
/// let app: axum::Router = chat::app(keyring, pubsub, Duration::from_secs(5));
/// # let _ = app;
/// # }
/// ```
pub fn app(keyring: Keyring, pubsub: PubSub, presence_period: Duration) -> Router {
    let store = Store::new(pubsub.clone());
    let presence = Presence::with_period(pubsub.clone(), presence_period);
    let tickets = MemoryTicketStore::new();
    let layout = RootLayout::new()
        .title_suffix(" · livefire chat")
        .style(STYLE);
    let live = LiveRouter::new(keyring.clone())
        .layout(layout.into_layout())
        .session_store(tickets.clone())
        .pubsub(pubsub)
        .live("/rooms/{room}", move || {
            Chat::new(store.clone(), presence.clone())
        })
        .build()
        .expect("valid live routes");
    let routes = live.route("/", get(|| async { Redirect::to("/rooms/lobby") }));
    BrowserPipeline::new(keyring)
        .session_store(tickets)
        .apply(routes)
}
