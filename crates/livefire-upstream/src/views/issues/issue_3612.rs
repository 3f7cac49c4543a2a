//! `Issue3612.ALive`/`BLive` (`support/issues/issue_3612.ex`): a sticky live view that
//! `push_navigate`s between the pages that render it stays connected.

use livefire::nested::live_render;
use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::layout;

fn page(socket: &Socket, title: &str) -> Rendered {
    layout::live(
        socket,
        html!({live_render::<StickyLive>("sticky").sticky()} <h1>{title}</h1>),
    )
}

/// `Issue3612.ALive`.
#[derive(Debug, Default)]
pub struct ALive;

impl LiveView for ALive {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        page(socket, "Page A")
    }
}

/// `Issue3612.BLive`.
#[derive(Debug, Default)]
pub struct BLive;

impl LiveView for BLive {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        page(socket, "Page B")
    }
}

/// `Issue3612.StickyLive`.
#[derive(Debug, Default)]
pub struct StickyLive;

impl LiveView for StickyLive {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "navigate_to_a" => socket.push_navigate("/issues/3612/a"),
            "navigate_to_b" => socket.push_navigate("/issues/3612/b"),
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        };
        Ok(())
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(
            <div>
                <a href="#" phx-click="navigate_to_a">"Go to page A"</a>
                <a href="#" phx-click="navigate_to_b">"Go to page B"</a>
            </div>
        )
    }
}
