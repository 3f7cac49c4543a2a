//! `Phoenix.LiveViewTest.E2E.ErrorLive` (`support/error_live.ex`) at `/errors`: a view that
//! raises on the dead mount, on the connected mount or on an event, in its own layout (fast
//! reload and rejoin settings), and with `?child`, `?connected-child-mount-raise=N` or
//! `?connected-child-mount-raise=link` renders `ChildLive`, a nested live view.
//!
//! On its connected mount `ChildLive` tells its parent it mounted and waits for the parent's
//! answer, as upstream's `send(socket.parent_pid, {:child_mounted, self()})` and `receive`:
//! the parent answers "raise" while it still wants failures, "link" makes the child link
//! itself to the parent first (`Process.link`, here [`Socket::link_parent`]).

use livefire::nested::live_render;
use livefire::{Event, LiveView, Mount, Raw, Rendered, Result, Socket, html};
use tokio::sync::oneshot;

use crate::eval;

const SCRIPT: &str = r#"
      import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
      let csrfToken = document
        .querySelector("meta[name='csrf-token']")
        .getAttribute("content");
      let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
        params: { _csrf_token: csrfToken },
        reloadJitterMax: 50,
        reloadJitterMin: 50,
        maxReloads: 5,
        failsafeJitter: 1000,
        maxChildJoinTries: 3,
        // override Phoenix.Socket channel join backoff
        rejoinAfterMs: (_tries) => 50,
      });
      liveSocket.connect();
      window.liveSocket = liveSocket;
"#;

const STYLE: &str = "
      [data-phx-session] .if-phx-error { display: none; }
      [data-phx-session].phx-error > .if-phx-error { display: block; }
      [data-phx-session] .if-phx-client-error { display: none; }
      [data-phx-session].phx-client-error > .if-phx-client-error { display: block; }
      [data-phx-session] .if-phx-server-error { display: none; }
      [data-phx-session].phx-server-error > .if-phx-server-error { display: block; }
      [data-phx-session] .if-phx-disconnected { display: none; }
      [data-phx-session].phx-disconnected > .if-phx-disconnected { display: block; }
      [data-phx-session] .if-phx-loading { display: none; }
      [data-phx-session].phx-loading > .if-phx-loading { display: block; }
";

/// The parent's answer to a child that mounted (upstream's `:boom`, `:boom_link`, `:ok`,
/// `:ok_link`).
#[derive(Debug, Clone, Copy)]
pub struct ChildAnswer {
    raise: bool,
    link: bool,
}

/// A message to `ErrorLive`: `{:child_mounted, pid}`, with the channel for the answer.
#[derive(Debug)]
pub struct ChildMounted(oneshot::Sender<ChildAnswer>);

/// `ErrorLive`.
#[derive(Debug, Default)]
pub struct ErrorLive {
    rendered_at: String,
    child: bool,
    want_fails: u64,
    have_fails: u64,
    link: bool,
}

fn boom() -> livefire::Error {
    livefire::Error::app("boom")
}

/// The time of a render, as upstream's `DateTime.utc_now()` (microseconds since the epoch).
fn now() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map(|d| d.as_micros().to_string()).unwrap_or_default()
}

impl LiveView for ErrorLive {
    type Message = ChildMounted;

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket<ChildMounted>) -> Result {
        let params = cx.params();
        if params.query("dead-mount") == Some("raise") {
            return Err(boom());
        }
        if params.query("connected-mount") == Some("raise") && socket.connected() {
            return Err(boom());
        }
        match params.query("connected-child-mount-raise") {
            // Crash only once (on the first connected mount), or the parent would crash
            // and remount forever.
            Some("link") => {
                let first = cx
                    .connect_params()
                    .and_then(|p| p.get("_mounts"))
                    .and_then(serde_json::Value::as_u64)
                    == Some(0);
                self.child = true;
                self.want_fails = 1;
                self.have_fails = u64::from(!first);
                self.link = true;
            }
            Some(want) => {
                self.child = true;
                self.want_fails = want.parse().map_err(livefire::Error::app)?;
            }
            None => self.child = params.query("child").is_some(),
        }
        self.rendered_at = now();
        Ok(())
    }

    async fn handle_info(
        &mut self,
        ChildMounted(answer): ChildMounted,
        _socket: &mut Socket<ChildMounted>,
    ) -> Result {
        let raise = self.have_fails < self.want_fails;
        if raise {
            self.have_fails += 1;
        }
        // The child may be gone already.
        let _ = answer.send(ChildAnswer {
            raise,
            link: self.link,
        });
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket<ChildMounted>) -> Result {
        match event.name() {
            "boom" => Err(boom()),
            _ => Err(eval::fallback(&event)),
        }
    }

    fn render(&self, socket: &Socket<ChildMounted>) -> Rendered {
        let token = socket.csrf_token().unwrap_or_default();
        let (script, style) = (Raw::new_unchecked(SCRIPT), Raw::new_unchecked(STYLE));
        html!(
            <meta name="csrf-token" content={token}>
            <script src="/assets/phoenix/phoenix.min.js"></script>
            <script type="module">{script}</script>
            <p id="render-time">"main rendered at: " {self.rendered_at.as_str()}</p>
            <button phx-click="boom">"Crash main"</button>
            <p class="if-phx-error">"Error"</p>
            <p class="if-phx-client-error">"Client Error"</p>
            <p class="if-phx-server-error">"Server Error"</p>
            <p class="if-phx-disconnected">"Disconnected"</p>
            <p class="if-phx-loading">"Loading"</p>
            <div style="border: 1px solid lightgray; padding: 4px; margin-top: 16px;">
                {self.child.then(|| live_render::<ChildLive>("child"))}
            </div>
            <style>{style}</style>
        )
    }
}

/// `ErrorLive.ChildLive`.
#[derive(Debug, Default)]
pub struct ChildLive {
    rendered_at: String,
}

impl LiveView for ChildLive {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        if socket.connected() {
            let parent = socket
                .parent::<ChildMounted>()
                .ok_or_else(|| livefire::Error::app("ChildLive needs ErrorLive as its parent"))?;
            let (tx, rx) = oneshot::channel();
            parent
                .send(ChildMounted(tx))
                .await
                .map_err(livefire::Error::app)?;
            // Upstream's `receive`: anything but `:boom`/`:boom_link` (here: the parent gone)
            // mounts.
            if let Ok(answer) = rx.await {
                if answer.link {
                    socket.link_parent();
                }
                if answer.raise {
                    return Err(boom());
                }
            }
        }
        self.rendered_at = now();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "boom" => Err(boom()),
            _ => Err(eval::fallback(&event)),
        }
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let state = if socket.connected() {
            "Child connected"
        } else {
            "Child rendered (dead)"
        };
        html!(
            {state}
            <p id="child-render-time">"child rendered at: " {self.rendered_at.as_str()}</p>
            <button phx-click="boom">"Crash child"</button>
            <p class="if-phx-error">"Error"</p>
            <p class="if-phx-client-error">"Client Error"</p>
            <p class="if-phx-server-error">"Server Error"</p>
            <p class="if-phx-disconnected">"Disconnected"</p>
            <p class="if-phx-loading">"Loading"</p>
        )
    }
}
