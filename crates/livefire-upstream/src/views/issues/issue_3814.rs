//! `Issue3814Live` (`support/issues/issue_3814.ex`): `phx-trigger-action` posts the form to
//! `/submit` with the submitter's name and value.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `Issue3814Live`.
#[derive(Debug, Default)]
pub struct Issue3814Live {
    trigger_submit: bool,
}

impl LiveView for Issue3814Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "submit" => self.trigger_submit = true,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let csrf = socket.csrf_token().unwrap_or_default();
        layout::live(
            socket,
            html!(
                <form phx-submit="submit" phx-trigger-action={self.trigger_submit} action="/submit" method="post">
                    <input name="_csrf_token" type="hidden" hidden value={csrf}>
                    <input type="hidden" name="greeting" value="hello">
                    <button type="submit" name="i-am-the-submitter" value="submitter-value">"Submit"</button>
                </form>
            ),
        )
    }
}
