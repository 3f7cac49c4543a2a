//! `Issue3979Live` (`support/issues/issue_3979.ex`): live components whose root id changes
//! with their assigns, updated again 100 ms later with `send_update`; the client's "destroyed"
//! check must not drop them. (Upstream's own `live.html` layout is overridden by the live
//! session's, as in Phoenix.)

use std::time::Duration;

use livefire::component::{LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `{:update, i}`.
#[derive(Debug)]
pub struct Update(usize);

/// `%{id: i, counter: 0}`.
#[derive(Debug, Clone, Copy)]
struct Entry {
    id: usize,
    counter: u64,
}

/// `Issue3979Live`.
#[derive(Debug)]
pub struct Issue3979Live {
    counter: usize,
    components: Vec<Entry>,
}

impl Default for Issue3979Live {
    fn default() -> Self {
        Self {
            counter: 1,
            components: (1..=10).map(|id| Entry { id, counter: 0 }).collect(),
        }
    }
}

/// The assigns of `Issue3979Live.Component`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompAssigns {
    dom_id: String,
    counter: u64,
}

/// `Issue3979Live.Component`.
#[derive(Debug)]
pub struct Component(CompAssigns);

impl LiveComponent for Component {
    type Assigns = CompAssigns;

    fn new(assigns: &CompAssigns) -> Self {
        Self(assigns.clone())
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(<div id={self.0.dom_id.as_str()}>{self.0.counter}</div>)
    }
}

impl LiveView for Issue3979Live {
    type Message = Update;

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Update>) -> Result {
        match event.name() {
            "bump" => {
                // `Process.send_after(self(), {:update, counter}, 100)`
                let (handle, i) = (socket.handle(), self.counter);
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let _ = handle.send(Update(i)).await;
                });
                if let Some(entry) = self.components.get_mut(self.counter - 1) {
                    entry.counter += 1;
                }
                self.counter += 1;
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    async fn handle_info(&mut self, Update(i): Update, socket: &mut Socket<Update>) -> Result {
        // `send_update(Component, id: "comp-#{i}", counter: 10)`
        socket.send_update::<Component>(format!("comp-{i}"), |c| c.0.counter = 10);
        Ok(())
    }

    fn render(&self, socket: &Socket<Update>) -> Rendered {
        layout::live(
            socket,
            html!(
                @for c in &self.components {
                    {live_component::<Component>(
                        format!("comp-{}", c.id),
                        CompAssigns { dom_id: format!("hello-{}-{}", c.id, c.counter), counter: c.counter },
                    )}
                }
                <button phx-click="bump">"Bump ID (and counter)"</button>
            ),
        )
    }
}
