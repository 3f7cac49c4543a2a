//! The session clock: a sticky nested live view on the signed-in pages.
//!
//! It counts the seconds this tab has spent on the signed-in pages and can be paused. Being
//! sticky ([`LiveRender::sticky`](livefire::nested::LiveRender::sticky)), it is a view of its
//! own (no parent) and keeps running, with its state and its DOM element, while the main view
//! changes by live navigation (`/account` ⇄ `/profile`); a full page load starts a new one.
//!
//! **Where it is rendered.** Every view that shows it renders [`sticky_clock`] (with the same
//! id), as Phoenix's app layout does. On live navigation the official client moves the sticky
//! element into the new main view's container and then patches that container with the new
//! view's first render, which keeps an element with the same id and discards anything else:
//! rendered only by the root layout, outside the main view, the clock would be removed by the
//! first live navigation.

use std::time::Duration;

use livefire::nested::{LiveRender, live_render};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

/// The DOM id of the clock's container.
pub const CLOCK_ID: &str = "session-clock";

/// The clock as the signed-in views place it (after their content).
pub fn sticky_clock() -> LiveRender {
    live_render::<SessionClock>(CLOCK_ID).sticky()
}

/// A timer tick.
#[derive(Debug, Clone, Copy)]
pub struct Tick;

/// The session clock's state.
#[derive(Debug, Default)]
pub struct SessionClock {
    seconds: u64,
    paused: bool,
}

impl LiveView for SessionClock {
    type Message = Tick;

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<Tick>) -> Result {
        if socket.connected() {
            socket.every(Duration::from_secs(1), || Tick);
        }
        Ok(())
    }

    async fn handle_info(&mut self, _tick: Tick, _socket: &mut Socket<Tick>) -> Result {
        if !self.paused {
            self.seconds += 1;
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Tick>) -> Result {
        match event.name() {
            "toggle" => self.paused = !self.paused,
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _socket: &Socket<Tick>) -> Rendered {
        let (minutes, seconds) = (self.seconds / 60, self.seconds % 60);
        let elapsed = format!("{minutes}:{seconds:02}");
        html! {
            <aside class="session-clock" aria-label="Session clock">
                "Time on this tab: "
                <time id="clock-elapsed" data-seconds={self.seconds}>{elapsed}</time>
                @if self.paused { <span id="clock-paused">" (paused)"</span> }
                " "
                <button id="clock-toggle" type="button" phx-click="toggle">
                    @if self.paused { "Resume" } else { "Pause" }
                </button>
            </aside>
        }
    }
}
