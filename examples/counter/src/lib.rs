//! The counter example: buttons, a text input echoed live, a list that grows and shrinks, and a
//! server-pushed tick (a timer message handled in `handle_info`).
//!
//! Run with `npm ci && cargo run -p counter`, then open <http://127.0.0.1:4001>.

use std::time::Duration;

use axum::Router;
use livefire::flash::LiveFlashLayer;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{Error, Event, LiveRouter, LiveView, Mount, Rendered, Result, Socket, html};
use serde::Deserialize;

/// The counter live view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
}

/// Messages the counter receives from its timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// One timer tick.
    Tick,
}

#[derive(Deserialize)]
struct Echo {
    #[serde(default)]
    text: String,
}

impl Counter {
    /// Applies one client event (`inc`, `dec`, `echo`, `add`, `remove`) to the state: what
    /// [`handle_event`](LiveView::handle_event) does. Refuses any other event with
    /// [`Error::UnknownEvent`].
    pub fn apply(&mut self, event: &Event) -> Result {
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
}

impl LiveView for Counter {
    type Message = Msg;

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<Msg>) -> Result {
        socket.set_title("Counter");
        if let (true, Some(every)) = (socket.connected(), self.tick_every) {
            socket.every(every, || Msg::Tick);
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Msg>) -> Result {
        self.apply(&event)
    }

    async fn handle_info(&mut self, msg: Msg, _socket: &mut Socket<Msg>) -> Result {
        match msg {
            Msg::Tick => self.ticks += 1,
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
            </main>
        }
    }
}

/// The counter app: the live route plus sessions and flash. With `tick_every`, every connected
/// counter receives a tick that often.
pub fn app(keyring: Keyring, tick_every: Option<Duration>) -> Router {
    LiveRouter::new(keyring.clone())
        .live("/", move || Counter {
            tick_every,
            ..Counter::default()
        })
        .build()
        .expect("valid live routes")
        .layer(LiveFlashLayer::new(keyring.clone()))
        .layer(CookieSessionLayer::new(keyring))
}
