//! `Issue4107Live` (`support/issues/issue_4107.ex`): a form teleported by `<.portal>` is still
//! submitted by an external `form=` button.

use livefire::{LiveView, Rendered, Socket, html};

use crate::components::portal;
use crate::layout;

/// `Issue4107Live`.
#[derive(Debug, Default)]
pub struct Issue4107Live;

impl LiveView for Issue4107Live {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        let csrf = socket.csrf_token().unwrap_or_default();
        let form = html!(
            <form id="test-form" action="/api/test" method="post">
                <input name="_csrf_token" type="hidden" hidden value={csrf}>
                <input type="hidden" name="test_input" value="test_value">
            </form>
        );
        layout::live(
            socket,
            html!(
                <div>
                    {portal("test-form-portal", "body", None, form)}
                    <button type="submit" form="test-form">"Submit"</button>
                </div>
            ),
        )
    }
}
