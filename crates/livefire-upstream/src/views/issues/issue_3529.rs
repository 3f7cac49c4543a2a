//! `Issue3529Live` (`support/issues/issue_3529.ex`): back/forward between navigate and patch
//! history entries (a remount shows a new mount time).

use livefire::{LiveView, Mount, Params, Rendered, Result, Socket, html};

use crate::{layout, rand};

/// `Issue3529Live`.
#[derive(Debug, Default)]
pub struct Issue3529Live {
    mounted: String,
    next: f64,
}

impl LiveView for Issue3529Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, _socket: &mut Socket) -> Result {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        self.mounted = now.map(|d| d.as_nanos().to_string()).unwrap_or_default();
        Ok(())
    }

    async fn handle_params(&mut self, _params: &Params, _socket: &mut Socket) -> Result {
        self.next = rand::uniform();
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let href = format!("/issues/3529?param={}", self.next);
        layout::live(
            socket,
            html!(
                <h1>"Mounted at " {self.mounted.as_str()}</h1>
                <a href={href.as_str()} data-phx-link="redirect" data-phx-link-state="push">"Navigate"</a>
                <a href={href.as_str()} data-phx-link="patch" data-phx-link-state="push">"Patch"</a>
            ),
        )
    }
}
