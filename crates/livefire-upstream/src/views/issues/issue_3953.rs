//! `Issue3953Live` (`support/issues/issue_3953.ex`): a toggled nested live view with a live
//! component of its own; the client sends the component's destroy messages to the nested view,
//! not to the parent (which has a component too).

use livefire::component::{LiveComponent, Myself, live_component};
use livefire::nested::live_render;
use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `Issue3953Live.Component`.
#[derive(Debug)]
pub struct Component;

impl LiveComponent for Component {
    type Assigns = ();

    fn new(_: &()) -> Self {
        Self
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(<div>"Component"</div>)
    }
}

/// `Issue3953Live`.
#[derive(Debug, Default)]
pub struct Issue3953Live {
    show: bool,
}

impl LiveView for Issue3953Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "toggle" => {
                self.show = !self.show;
                Ok(())
            }
            _ => Err(eval::fallback(&event)),
        }
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                {live_component::<Component>("comp", ())}
                <button phx-click="toggle">"Show"</button>
                {self.show.then(|| live_render::<NestedViewLive>("nested_view"))}
            ),
        )
    }
}

/// `Issue3953Live.NestedViewLive`.
#[derive(Debug, Default)]
pub struct NestedViewLive;

impl LiveView for NestedViewLive {
    type Message = ();

    fn render(&self, _socket: &Socket) -> Rendered {
        html!("Nested Content" {live_component::<Component>("comp2", ())})
    }
}
