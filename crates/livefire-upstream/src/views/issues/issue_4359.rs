//! `Issue4359Live` (`support/issues/issue_4359.ex`): the parent `push_navigate`s (after a
//! 2 s `handle_info`) while its nested child is mounting; the navigation succeeds and the
//! child connects on the new page.

use std::time::Duration;

use livefire::nested::live_render;
use livefire::{LiveView, Mount, Rendered, Result, Socket, html};

use crate::layout;

/// `:go`.
#[derive(Debug)]
pub struct Go;

/// `Issue4359Live`.
#[derive(Debug, Default)]
pub struct Issue4359Live;

impl LiveView for Issue4359Live {
    type Message = Go;

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket<Go>) -> Result {
        if socket.connected() && cx.params().query("done") != Some("1") {
            let _ = socket.handle().try_send(Go);
        }
        Ok(())
    }

    async fn handle_info(&mut self, Go: Go, socket: &mut Socket<Go>) -> Result {
        // Gives the client time to start mounting the child.
        tokio::time::sleep(Duration::from_secs(2)).await;
        socket.push_navigate("/issues/4359?done=1");
        Ok(())
    }

    fn render(&self, socket: &Socket<Go>) -> Rendered {
        layout::live(socket, html!({ live_render::<ChildLive>("child") }))
    }
}

/// `Issue4359Live.ChildLive`.
#[derive(Debug, Default)]
pub struct ChildLive;

impl LiveView for ChildLive {
    type Message = ();

    fn render(&self, _socket: &Socket) -> Rendered {
        html!("child")
    }
}
