//! `Issue4325Live` (`support/issues/issue_4325.ex`): a hook that sets its element's id to the
//! same value keeps the element across patches.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::eval;
use crate::layout::{self, Live};

const PRE_SCRIPT: &str = r#"<script>
        window.issue4325Lifecycle = { mounted: 0, updated: 0, destroyed: 0 };
        window.hooks.IdPassthrough = {
          mounted() {
            window.issue4325Lifecycle.mounted++;
            this.js().setAttribute(this.el, "id", this.el.id);
          },
          updated() {
            window.issue4325Lifecycle.updated++;
          },
          destroyed() {
            window.issue4325Lifecycle.destroyed++;
          },
        };
      </script>"#;

/// `Issue4325Live`.
#[derive(Debug, Default)]
pub struct Issue4325Live {
    count: u64,
}

impl LiveView for Issue4325Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "increment" => self.count += 1,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let opts = Live {
            pre_script: Some(PRE_SCRIPT),
            ..Live::default()
        };
        layout::live_with(
            socket,
            opts,
            html!(
                <button phx-click="increment">"Increment"</button>
                <div id="hooked" phx-hook="IdPassthrough">"count is " {self.count}</div>
            ),
        )
    }
}
