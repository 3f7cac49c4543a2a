//! `Issue4094Live` (`support/issues/issue_4094.ex`): `handle_params` of a patch redirects.

use livefire::{LiveView, Params, Rendered, Result, Socket, html};

use crate::layout;

/// `Issue4094Live`.
#[derive(Debug, Default)]
pub struct Issue4094Live;

impl LiveView for Issue4094Live {
    type Message = ();

    async fn handle_params(&mut self, params: &Params, socket: &mut Socket) -> Result {
        if params.query("foo") == Some("bar") {
            socket.redirect("/navigation/a");
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(<a href="/issues/4094?foo=bar" data-phx-link="patch" data-phx-link-state="push">"Patch"</a>),
        )
    }
}
