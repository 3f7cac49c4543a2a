//! `Issue3819Live` (`support/issues/issue_3819.ex`): form recovery of a form without inputs ends
//! at once, so the client reconnects.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `Issue3819Live`.
#[derive(Debug, Default)]
pub struct Issue3819Live {
    reconnected: bool,
}

impl LiveView for Issue3819Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "validate" | "save" => {}
            "reconnected" => self.reconnected = true,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                <form id="recover" phx-change="validate" phx-submit="save">
                    <button>"Submit"</button>
                </form>
                @if self.reconnected { <p id="reconnected">"Reconnected!"</p> }
            ),
        )
    }
}
