//! The counter example: buttons, a text input echoed live, a list that grows and shrinks, and a
//! server-pushed tick every second.
//!
//! With a [`PubSub`] ([`app_with_pubsub`]), every connected view also subscribes to
//! [`BROADCAST_TOPIC`] and shows the last number broadcast there (the benchmark's fan-out
//! measurement uses this).
//!
//! Run with `npm ci && cargo run -p counter`, then open <http://127.0.0.1:4001>.

use std::time::Duration;

use axum::Router;
use livefire::flash::LiveFlashLayer;
use livefire::pubsub::PubSub;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{Error, Event, LiveRouter, LiveView, Mount, Rendered, Result, Socket, html};
use serde::Deserialize;

/// The topic the counter views subscribe to when the app has a [`PubSub`].
pub const BROADCAST_TOPIC: &str = "counter:broadcast";

/// The counter live view.
#[derive(Debug, Clone, Default)]
pub struct Counter {
    /// The count shown between the buttons.
    pub count: i64,
    /// What the user typed in the text input.
    pub text: String,
    /// The list entries.
    pub items: Vec<String>,
    /// Ticks received from the server timer.
    pub ticks: u64,
    /// How often the server ticks (`None`: never).
    pub tick_every: Option<Duration>,
    /// The last number broadcast on [`BROADCAST_TOPIC`] (0 before any).
    pub broadcast: u64,
    /// Where to subscribe to [`BROADCAST_TOPIC`] (`None`: no subscription).
    pub pubsub: Option<PubSub>,
}

/// Equality of what a counter holds and shows (the `PubSub` handle is not compared).
impl PartialEq for Counter {
    fn eq(&self, other: &Self) -> bool {
        self.count == other.count
            && self.text == other.text
            && self.items == other.items
            && self.ticks == other.ticks
            && self.tick_every == other.tick_every
            && self.broadcast == other.broadcast
    }
}

impl Eq for Counter {}

/// Messages the counter receives from its timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// One timer tick.
    Tick,
    /// A number broadcast on [`BROADCAST_TOPIC`].
    Broadcast(u64),
}

#[derive(Deserialize)]
struct Echo {
    #[serde(default)]
    text: String,
}

impl LiveView for Counter {
    type Message = Msg;

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<Msg>) -> Result {
        socket.set_title("Counter");
        if let (true, Some(every)) = (socket.connected(), self.tick_every) {
            socket.every(every, || Msg::Tick);
        }
        if let Some(pubsub) = &self.pubsub {
            // Does nothing during the dead render.
            socket.subscribe(pubsub, BROADCAST_TOPIC, |value| {
                value.as_u64().map(Msg::Broadcast)
            });
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Msg>) -> Result {
        match event.name() {
            "inc" => self.count += 1,
            "dec" => self.count -= 1,
            "echo" => self.text = event.form::<Echo>()?.text,
            "add" => self.items.push(format!("Item {}", self.items.len() + 1)),
            "remove" => {
                self.items.pop();
            }
            other => return Err(Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    async fn handle_info(&mut self, msg: Msg, _socket: &mut Socket<Msg>) -> Result {
        match msg {
            Msg::Tick => self.ticks += 1,
            Msg::Broadcast(n) => self.broadcast = n,
        }
        Ok(())
    }

    fn render(&self, _socket: &Socket<Msg>) -> Rendered {
        html! {
            <main class="counter">
                <h1>"Counter"</h1>
                <p>"Count: " <span id="count">{self.count}</span></p>
                <button id="dec" phx-click="dec">"-"</button>
                " "
                <button id="inc" phx-click="inc">"+"</button>
                <form id="echo-form" phx-change="echo" phx-submit="echo">
                    <label for="text">"Say something: "</label>
                    <input id="text" name="text" type="text" autocomplete="off" value={self.text.as_str()}>
                </form>
                <p>"You typed: " <span id="echo">{self.text.as_str()}</span></p>
                <button id="add" phx-click="add">"Add item"</button>
                " "
                <button id="remove" phx-click="remove">"Remove item"</button>
                <ul id="items">
                    @for item in self.items.iter() {
                        <li>{item.as_str()}</li>
                    }
                </ul>
                <p>"Server ticks: " <span id="ticks">{self.ticks}</span></p>
                <p>"Last broadcast: " <span id="broadcast">{self.broadcast}</span></p>
            </main>
        }
    }
}

/// The counter app: the live route plus sessions and flash.
pub fn app(keyring: Keyring, tick_every: Option<Duration>) -> Router {
    app_with_pubsub(keyring, tick_every, None)
}

/// The counter app whose views (when `pubsub` is given) subscribe to [`BROADCAST_TOPIC`].
pub fn app_with_pubsub(
    keyring: Keyring,
    tick_every: Option<Duration>,
    pubsub: Option<PubSub>,
) -> Router {
    LiveRouter::new(keyring.clone())
        .live("/", move || Counter {
            tick_every,
            pubsub: pubsub.clone(),
            ..Counter::default()
        })
        .build()
        .expect("valid live routes")
        .layer(LiveFlashLayer::new(keyring.clone()))
        .layer(CookieSessionLayer::new(keyring))
}
