//! `Issue4078Live` (`support/issues/issue_4078.ex`, at `/issues/4078` outside any live
//! session, in its own layout): the `disabled` and `class` attributes of a live file input
//! change with the view's state, and a selected file stays selected when they do.

use livefire::upload::{UploadConfig, live_file_input};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::eval;

const SCRIPT: &str = r#"
      import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
      let csrfToken = document
        .querySelector("meta[name='csrf-token']")
        .getAttribute("content");
      let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
        params: { _csrf_token: csrfToken },
      });
      liveSocket.connect();
"#;

/// `render("live.html", assigns)`.
fn own_layout<M: Send>(socket: &Socket<M>, inner: Rendered) -> Rendered {
    let token = socket.csrf_token().unwrap_or_default();
    let script = livefire::Raw::new_unchecked(SCRIPT);
    html!(
        <meta name="csrf-token" content={token}>
        <script src="/assets/phoenix/phoenix.min.js"></script>
        <script type="module">{script}</script>
        {inner}
    )
}

/// `Issue4078Live`.
#[derive(Debug)]
pub struct Issue4078Live {
    disabled: bool,
    custom_class: &'static str,
}

impl Default for Issue4078Live {
    fn default() -> Self {
        Self {
            disabled: true,
            custom_class: "initial-class",
        }
    }
}

impl LiveView for Issue4078Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        let avatar = UploadConfig::new([".jpg", ".jpeg", ".png", ".txt"])?.max_entries(2);
        socket.allow_upload("avatar", avatar)?;
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {}
            "toggle-disabled" => self.disabled = !self.disabled,
            "toggle-class" => {
                self.custom_class = if self.custom_class == "initial-class" {
                    "updated-class"
                } else {
                    "initial-class"
                };
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let Some(avatar) = socket.upload("avatar") else {
            return own_layout(socket, html!());
        };
        // `disabled={@disabled?}`: the attribute only when true.
        let mut input = live_file_input(avatar);
        if self.disabled {
            input = input.attr("disabled", "");
        }
        let input = input.attr("class", self.custom_class);
        own_layout(
            socket,
            html!(
                <form id="upload-form" phx-change="validate">{input}</form>
                <button id="toggle-disabled" type="button" phx-click="toggle-disabled">"Toggle Disabled"</button>
                <button id="toggle-class" type="button" phx-click="toggle-class">"Toggle Class"</button>
                @for entry in avatar.entries() {
                    <article class="upload-entry">
                        <span class="entry-name">{entry.client_name()}</span>
                    </article>
                }
            ),
        )
    }
}
