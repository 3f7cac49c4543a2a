//! `Issue4212Live` (`support/issues/issue_4212.ex`): `stream_insert(…, at: 1)` moves the new
//! element with the atomic `moveBefore()` (custom elements log `connectedMoveCallback`, not a
//! disconnect). The custom element is defined by `render_in_root`.

use livefire::stream::{InsertAt, Stream};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `assigns[:render_in_root]`: defines `<lv-custom-el>`, which logs its callbacks.
pub const RENDER_IN_ROOT: &str = r#"<script>
  window.__lvCustomElLog = [];
  class LvCustomEl extends HTMLElement {
    connectedCallback() {
      window.__lvCustomElLog.push({ type: "connected", id: this.id });
    }
    disconnectedCallback() {
      window.__lvCustomElLog.push({ type: "disconnected", id: this.id });
    }
    connectedMoveCallback() {
      window.__lvCustomElLog.push({ type: "moved", id: this.id });
    }
  }
  customElements.define("lv-custom-el", LvCustomEl);
</script>"#;

/// `%{id: id, name: name}`.
#[derive(Debug)]
pub struct Item {
    id: String,
    name: String,
}

/// `Issue4212Live`.
#[derive(Debug)]
pub struct Issue4212Live {
    items: Stream<Item>,
    counter: u64,
}

impl Default for Issue4212Live {
    fn default() -> Self {
        Self {
            items: Stream::new("items", |i: &Item| format!("items-{}", i.id)),
            counter: 0,
        }
    }
}

impl LiveView for Issue4212Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, _socket: &mut Socket) -> Result {
        self.items
            .extend([("a", "A"), ("b", "B"), ("c", "C")].map(|(id, name)| Item {
                id: id.to_owned(),
                name: name.to_owned(),
            }));
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "insert_at_1" => {
                self.counter += 1;
                let n = self.counter;
                let item = Item {
                    id: format!("new{n}"),
                    name: format!("New {n}"),
                };
                self.items.insert_with(
                    item,
                    InsertAt {
                        at: 1,
                        ..InsertAt::default()
                    },
                );
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                <button id="insert-at-1" phx-click="insert_at_1">"Insert at 1"</button>
                <ul id="items" phx-update="stream">
                    @for (dom_id, item) in &self.items {
                        <li id={dom_id}>
                            <lv-custom-el id={format!("el-{}", item.id)}>{item.name.as_str()}</lv-custom-el>
                        </li>
                    }
                </ul>
            ),
        )
    }
}
