//! `Issue3107Live` (`support/issues/issue_3107.ex`): a select keeps its value when the form is
//! patched (a button is enabled on change).

use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `Issue3107Live`.
#[derive(Debug)]
pub struct Issue3107Live {
    disabled: bool,
}

impl Default for Issue3107Live {
    fn default() -> Self {
        Self { disabled: true }
    }
}

impl LiveView for Issue3107Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => self.disabled = false,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                <form phx-change="validate" style="display: flex;">
                    <select>
                        <option value="ONE">"ONE"</option>
                        <option value="TWO">"TWO"</option>
                    </select>
                    <button disabled={self.disabled}>"OK"</button>
                </form>
            ),
        )
    }
}
