//! `Issue4147Live` (`support/issues/issue_4147.ex`): a colocated hook on an element rendered in
//! the root layout (outside the live view) is mounted once, even across reconnects. The hook
//! itself is in the colocated stand-in module (`assets/colocated.js`).

use livefire::{LiveView, Rendered, Socket, html};

use crate::layout;

/// `assigns[:render_in_root]`: the hooked element outside the live container.
pub const RENDER_IN_ROOT: &str =
    r#"<div id="foobar" phx-hook="Phoenix.LiveViewTest.E2E.Issue4147Live.HookOutside"></div>"#;

/// `Issue4147Live`.
#[derive(Debug, Default)]
pub struct Issue4147Live;

impl LiveView for Issue4147Live {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(socket, html!(<h1>"Inside"</h1>))
    }
}
