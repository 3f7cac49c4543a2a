//! `Issue4209Live` (`support/issues/issue_4209.ex`): a hook on a panel pushes an event to a
//! slow nested live view, which messages its parent meanwhile (a counter outside the locked
//! panel, a `send_update` to a component inside it); the component's patch stays private to
//! the locked clone until the lock is released.
//!
//! Upstream passes the parent's pid in the child's session; here the child messages its parent
//! with [`Socket::parent`]. The colocated hook `.LockedPanel` is in `assets/colocated.js`.

use std::time::Duration;

use livefire::component::{LiveComponent, Myself, live_component};
use livefire::nested::live_render;
use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// Messages of the parent: `:bump_outside`, `:update_child`.
#[derive(Debug, Clone, Copy)]
pub enum Msg {
    /// `:bump_outside`.
    BumpOutside,
    /// `:update_child`.
    UpdateChild,
}

/// `Issue4209Live.ChildComponent`.
#[derive(Debug)]
pub struct ChildComponent {
    label: String,
}

impl LiveComponent for ChildComponent {
    type Assigns = String;

    fn new(label: &String) -> Self {
        Self {
            label: label.clone(),
        }
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(
            <div id="locked-child-content">
                <span id="locked-child-label">{self.label.as_str()}</span>
            </div>
        )
    }
}

/// `Issue4209Live`.
#[derive(Debug, Default)]
pub struct Issue4209Live {
    outside_count: u32,
}

impl LiveView for Issue4209Live {
    type Message = Msg;

    async fn handle_info(&mut self, msg: Msg, socket: &mut Socket<Msg>) -> Result {
        match msg {
            Msg::BumpOutside => self.outside_count += 1,
            Msg::UpdateChild => {
                socket.send_update::<ChildComponent>("locked-child", |c| {
                    c.label = "child 1".to_owned();
                });
            }
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<Msg>) -> Result {
        Err(eval::fallback(&event))
    }

    fn render(&self, socket: &Socket<Msg>) -> Rendered {
        layout::live(
            socket,
            html!(
                <div id="outside-count">{self.outside_count}</div>
                <div id="locked-panel" phx-hook="Phoenix.LiveViewTest.E2E.Issue4209Live.LockedPanel">
                    {live_component::<ChildComponent>("locked-child", "child 0".to_owned())}
                    <button id="start-locked-update" type="button">"Start locked update"</button>
                </div>
                <div id="slow-target">
                    {live_render::<SlowTargetLive>("slow-target-live")}
                </div>
            ),
        )
    }
}

/// `Issue4209Live.SlowTargetLive`.
#[derive(Debug, Default)]
pub struct SlowTargetLive;

impl LiveView for SlowTargetLive {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "hold-lock" => {
                if let Some(parent) = socket.parent::<Msg>() {
                    let _ = parent.send(Msg::BumpOutside).await;
                    let _ = parent.send(Msg::UpdateChild).await;
                }
                tokio::time::sleep(Duration::from_millis(800)).await;
                Ok(())
            }
            other => Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(<div id="slow-target-child">"slow target"</div>)
    }
}
