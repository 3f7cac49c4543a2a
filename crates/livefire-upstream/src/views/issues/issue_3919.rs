//! `Issue3919Live` (`support/issues/issue_3919.ex`): an attribute that falls back to its default
//! is re-rendered (the red background goes away).

use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `Issue3919Live`.
#[derive(Debug, Default)]
pub struct Issue3919Live {
    special: bool,
}

impl LiveView for Issue3919Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "toggle_special" => self.special = !self.special,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let text = if self.special { "Red" } else { "No red" };
        // HEEx renders `style={nil}` as `style=""`.
        let style = if self.special {
            "background-color: red;"
        } else {
            ""
        };
        layout::live(
            socket,
            html!(
                <div style={style}>{text}</div>
                <button phx-click="toggle_special">"toggle"</button>
            ),
        )
    }
}
