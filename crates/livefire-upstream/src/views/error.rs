//! `Phoenix.LiveViewTest.E2E.ErrorLive` (`support/error_live.ex`) at `/errors`: a view that
//! raises on the dead mount, on the connected mount or on an event, in its own layout (fast
//! reload and rejoin settings).
//!
//! Not ported: `ChildLive` (a nested live view) and the `?child…` variants that render it.

use livefire::{Event, LiveView, Mount, Raw, Rendered, Result, Socket, html};

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

/// `ErrorLive`.
#[derive(Debug, Default)]
pub struct ErrorLive {
    rendered_at: String,
}

fn boom() -> livefire::Error {
    livefire::Error::app("boom")
}

impl LiveView for ErrorLive {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        let params = cx.params();
        if params.query("dead-mount") == Some("raise") {
            return Err(boom());
        }
        if params.query("connected-mount") == Some("raise") && socket.connected() {
            return Err(boom());
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        self.rendered_at = now.map(|d| d.as_micros().to_string()).unwrap_or_default();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "boom" => Err(boom()),
            _ => Err(eval::fallback(&event)),
        }
    }

    fn render(&self, socket: &Socket) -> Rendered {
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
            <div style="border: 1px solid lightgray; padding: 4px; margin-top: 16px;"></div>
            <style>{style}</style>
        )
    }
}
