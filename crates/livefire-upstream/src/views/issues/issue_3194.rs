//! `Issue3194Live` and `.OtherLive` (`support/issues/issue_3194.ex`): submitting a form whose
//! input has `phx-debounce="blur"` navigates away; the pending event must not reach the new view.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `Issue3194Live`.
#[derive(Debug, Default)]
pub struct Issue3194Live;

impl LiveView for Issue3194Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "submit" => socket.push_navigate("/issues/3194/other"),
            "validate" => {}
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                <form phx-change="validate" phx-submit="submit">
                    <input id="foo_store_number" name="foo[store_number]" type="text" phx-debounce="blur">
                </form>
            ),
        )
    }
}

/// `Issue3194Live.OtherLive`.
#[derive(Debug, Default)]
pub struct OtherLive;

impl LiveView for OtherLive {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(socket, html!(<h2>"Another LiveView"</h2>))
    }
}
