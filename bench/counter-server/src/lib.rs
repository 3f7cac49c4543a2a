//! The livefire server that `bench/run.sh` measures: the counter example's state and event
//! handling ([`counter::Counter`]) with one more line, "Last broadcast", fed by pub/sub, and a
//! route that broadcasts. Benchmark plumbing only; the user-facing example is
//! `examples/counter`.
//!
//! - [`app`]: the live route `/` showing a [`BenchCounter`]. With a [`PubSub`], every connected
//!   view subscribes to [`BROADCAST_TOPIC`] and shows the last number broadcast there (the
//!   fan-out measurement); the dead render does not subscribe.
//! - [`with_broadcast_route`]: adds the **unauthenticated** `POST /__bench/broadcast`, which
//!   broadcasts the next number (1, 2, ...) on [`BROADCAST_TOPIC`] and answers it. Only for a
//!   server on loopback during a benchmark.
//!
//! The page is the counter's markup with the broadcast line at the end of `<main>` (a test
//! checks that the two stay the same otherwise), the shape the peers' benchmark apps copy.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use counter::Counter;
use livefire::flash::LiveFlashLayer;
use livefire::pubsub::PubSub;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{Event, LiveRouter, LiveView, Mount, Rendered, Result, Socket, html};

/// The topic the views subscribe to when the app has a [`PubSub`].
pub const BROADCAST_TOPIC: &str = "counter:broadcast";

/// The path of [`with_broadcast_route`].
pub const BROADCAST_PATH: &str = "/__bench/broadcast";

/// The counter with a "Last broadcast" line.
#[derive(Debug, Clone, Default)]
pub struct BenchCounter {
    /// The counter's own state (its `tick_every` is this view's timer too).
    pub counter: Counter,
    /// The last number broadcast on [`BROADCAST_TOPIC`] (0 before any).
    pub broadcast: u64,
    /// Where to subscribe to [`BROADCAST_TOPIC`] (`None`: no subscription).
    pub pubsub: Option<PubSub>,
}

/// Equality of what the view holds and shows (the `PubSub` handle is not compared).
impl PartialEq for BenchCounter {
    fn eq(&self, other: &Self) -> bool {
        self.counter == other.counter && self.broadcast == other.broadcast
    }
}

impl Eq for BenchCounter {}

/// Messages of a [`BenchCounter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    /// One timer tick.
    Tick,
    /// A number broadcast on [`BROADCAST_TOPIC`].
    Broadcast(u64),
}

impl LiveView for BenchCounter {
    type Message = Msg;

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<Msg>) -> Result {
        socket.set_title("Counter");
        if let (true, Some(every)) = (socket.connected(), self.counter.tick_every) {
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
        self.counter.apply(&event)
    }

    async fn handle_info(&mut self, msg: Msg, _socket: &mut Socket<Msg>) -> Result {
        match msg {
            Msg::Tick => self.counter.ticks += 1,
            Msg::Broadcast(n) => self.broadcast = n,
        }
        Ok(())
    }

    /// `examples/counter`'s markup (kept equal by a test) plus the broadcast line.
    fn render(&self, _socket: &Socket<Msg>) -> Rendered {
        let c = &self.counter;
        html! {
            <main class="counter">
                <h1>"Counter"</h1>
                <p>"Count: " <span id="count">{c.count}</span></p>
                <button id="dec" phx-click="dec">"-"</button>
                " "
                <button id="inc" phx-click="inc">"+"</button>
                <form id="echo-form" phx-change="echo" phx-submit="echo">
                    <label for="text">"Say something: "</label>
                    <input id="text" name="text" type="text" autocomplete="off" value={c.text.as_str()}>
                </form>
                <p>"You typed: " <span id="echo">{c.text.as_str()}</span></p>
                <button id="add" phx-click="add">"Add item"</button>
                " "
                <button id="remove" phx-click="remove">"Remove item"</button>
                <ul id="items">
                    @for item in c.items.iter() {
                        <li>{item.as_str()}</li>
                    }
                </ul>
                <p>"Server ticks: " <span id="ticks">{c.ticks}</span></p>
                <p>"Last broadcast: " <span id="broadcast">{self.broadcast}</span></p>
            </main>
        }
    }
}

/// The benchmark app: `/` shows a [`BenchCounter`] that ticks every `tick_every` (if any) and,
/// with a `pubsub`, subscribes to [`BROADCAST_TOPIC`]; sessions and flash as in the counter.
pub fn app(keyring: Keyring, tick_every: Option<Duration>, pubsub: Option<PubSub>) -> Router {
    LiveRouter::new(keyring.clone())
        .live("/", move || BenchCounter {
            counter: Counter {
                tick_every,
                ..Counter::default()
            },
            pubsub: pubsub.clone(),
            ..BenchCounter::default()
        })
        .build()
        .expect("valid live routes")
        .layer(LiveFlashLayer::new(keyring.clone()))
        .layer(CookieSessionLayer::new(keyring))
}

/// Adds the unauthenticated `POST /__bench/broadcast` ([`BROADCAST_PATH`]): each request
/// broadcasts the next number (1, 2, ...) on [`BROADCAST_TOPIC`] through `pubsub` and answers
/// `200` with that number. Never on a reachable server.
pub fn with_broadcast_route(router: Router, pubsub: PubSub) -> Router {
    let next = Arc::new(AtomicU64::new(0));
    let broadcast = move || {
        let n = next.fetch_add(1, Ordering::Relaxed) + 1;
        pubsub.broadcast(BROADCAST_TOPIC, n);
        async move { n.to_string() }
    };
    router.route(BROADCAST_PATH, post(broadcast))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The benchmark page is the counter example's page plus the broadcast line.
    #[test]
    fn markup_is_the_counters_plus_the_broadcast_line() {
        let counter = Counter {
            count: -3,
            text: "a <b> & \"c\"".to_owned(),
            items: vec!["Item 1".to_owned(), "Item 2".to_owned()],
            ticks: 9,
            tick_every: None,
        };
        let plain = counter.render(&Socket::disconnected()).to_html();
        let bench = BenchCounter {
            counter,
            broadcast: 42,
            pubsub: None,
        }
        .render(&Socket::disconnected())
        .to_html();
        let line = "<p>Last broadcast: <span id=\"broadcast\">42</span></p>";
        assert_eq!(bench, plain.replace("</main>", &format!("{line}</main>")));
    }
}
