//! `Issue4121Live` (`support/issues/issue_4121.ex`): a stream teleported out of the live view
//! with `<.portal>` can be reset.

use livefire::stream::Stream;
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::components::portal;
use crate::{eval, layout, rand};

/// `%{id: id, name: name}`.
#[derive(Debug)]
pub struct Item {
    id: i64,
    name: String,
}

/// `Issue4121Live`.
#[derive(Debug)]
pub struct Issue4121Live {
    items: Stream<Item>,
}

impl Default for Issue4121Live {
    fn default() -> Self {
        Self {
            items: Stream::new("items", |i: &Item| format!("items-{}", i.id)),
        }
    }
}

impl LiveView for Issue4121Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, _socket: &mut Socket) -> Result {
        self.items.extend([1, 2].map(|id| Item {
            id,
            name: format!("Item {id}"),
        }));
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "reset-stream" => {
                let id = rand::unique_integer();
                self.items.reset().insert(Item {
                    id,
                    name: format!("Item {id}"),
                });
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let list = html!(
            <ul id="stream-in-lv" phx-update="stream">
                @for (id, item) in &self.items { <li id={id}>{item.name.as_str()}</li> }
            </ul>
        );
        layout::live(
            socket,
            html!(
                <button phx-click="reset-stream">"Reset teleported stream"</button>
                {portal("teleported-stream", "body", None, list)}
            ),
        )
    }
}
