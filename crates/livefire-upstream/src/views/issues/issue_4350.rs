//! `Issue4350Live` (`support/issues/issue_4350.ex`): a live component removed and shown again
//! between the client's `cids_will_destroy` and `cids_destroyed` is revived together with its
//! child component (which upstream's change tracking would skip).

use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `Leaf`: a counter.
#[derive(Debug)]
pub struct Leaf {
    count: u64,
}

impl LiveComponent for Leaf {
    type Assigns = ();

    fn new(_: &()) -> Self {
        Self { count: 0 }
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "bump" => self.count += 1,
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        html!(
            <div id="leaf">
                "count: " <span id="leaf-count">{self.count}</span>
                <button id="bump" phx-click="bump" phx-target={myself}>"bump"</button>
            </div>
        )
    }
}

/// `Branch`: shows `@tick` and the `Leaf`.
#[derive(Debug)]
pub struct Branch {
    tick: u64,
}

impl LiveComponent for Branch {
    /// `tick`.
    type Assigns = u64;

    fn new(tick: &u64) -> Self {
        Self { tick: *tick }
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(
            <div id="branch">
                "tick: " {self.tick}
                {live_component::<Leaf>("leaf", ())}
            </div>
        )
    }
}

/// `Issue4350Live`.
#[derive(Debug)]
pub struct Issue4350Live {
    show: bool,
    tick: u64,
}

impl Default for Issue4350Live {
    fn default() -> Self {
        Self {
            show: true,
            tick: 0,
        }
    }
}

impl LiveView for Issue4350Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "tick" => self.tick += 1,
            "hide" => self.show = false,
            "show" => self.show = true,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                <button id="tick" phx-click="tick">"tick"</button>
                <button id="hide" phx-click="hide">"hide"</button>
                <button id="show" phx-click="show">"show"</button>
                @if self.show {
                    <div id="wrapper">{live_component::<Branch>("branch", self.tick)}</div>
                }
            ),
        )
    }
}
