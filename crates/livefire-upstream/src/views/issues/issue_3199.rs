//! `Issue3199Live` (`support/issues/issue_3199.ex`) and `Issue3199Live.Away`: stream items with
//! a `phx-remove` transition, run when an item is deleted and (unless
//! `cascadePhxRemoveOnNavigation` is off) when live navigation removes the page.
//!
//! Upstream mounts the view with a custom live container,
//! `live "/issues/3199", Issue3199Live, container: {:div, [phx-remove: remove_view()]}`: here
//! [`container`], given to `LiveRouter::live_with_container`. (The spec's test of it, "can limit
//! phx-remove to the LiveView container", stays in the skip list as timing-dependent: the
//! class it waits for exists for about 100 ms.)

use livefire::layout::Container;
use livefire::stream::Stream;
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};
use serde_json::json;

use crate::js::{Js, transition};
use crate::{eval, layout};

/// `%{id: id, name: name}`.
#[derive(Debug)]
pub struct Item {
    id: u32,
    name: String,
}

/// `Issue3199Live`.
#[derive(Debug)]
pub struct Issue3199Live {
    items: Stream<Item>,
}

impl Default for Issue3199Live {
    fn default() -> Self {
        Self {
            items: Stream::new("items", |i: &Item| format!("items-{}", i.id)),
        }
    }
}

/// `remove_view()`: `JS.transition("view-removing", time: 100)`.
fn remove_view() -> Js {
    Js::new().op(
        "transition",
        json!({"time": 100, "transition": transition("view-removing")}),
    )
}

/// The route's live container: `{:div, [phx-remove: remove_view()]}`.
pub fn container() -> Container {
    Container::new("div").attr("phx-remove", remove_view().encode())
}

/// `JS.transition("item-removing", time: 1_000)`.
fn item_removing() -> Js {
    Js::new().op(
        "transition",
        json!({"time": 1000, "transition": transition("item-removing")}),
    )
}

impl LiveView for Issue3199Live {
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
            "delete" => {
                let dom_id = event.get("id").unwrap_or_default().to_owned();
                self.items.delete_by_dom_id(dom_id);
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let remove = item_removing();
        layout::live(
            socket,
            html!(
                <h1>"Items"</h1>
                <a href="/issues/3199/away" data-phx-link="redirect" data-phx-link-state="push">"Navigate away"</a>
                <ul id="items" phx-update="stream">
                    @for (dom_id, item) in &self.items {
                        <li id={dom_id.as_str()} phx-remove={&remove}>
                            {item.name.as_str()}
                            <button phx-click="delete" phx-value-id={dom_id.as_str()}>"Delete"</button>
                        </li>
                    }
                </ul>
            ),
        )
    }
}

/// `Issue3199Live.Away`.
#[derive(Debug, Default)]
pub struct Away;

impl LiveView for Away {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        Err(eval::fallback(&event))
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(socket, html!(<h1>"Away"</h1>))
    }
}
