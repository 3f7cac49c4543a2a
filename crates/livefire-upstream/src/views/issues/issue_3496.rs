//! `Issue3496.ALive`/`BLive` (`support/issues/issue_3496.ex`): a hook on an element whose id a
//! sticky live view (in page A's layout) and page B share is mounted once on each page.

use livefire::nested::live_render;
use livefire::{LiveView, Raw, Rendered, Socket, html};

const SCRIPT: &str = r#"
      import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";

      let csrfToken = document
        .querySelector("meta[name='csrf-token']")
        .getAttribute("content");
      let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
        params: { _csrf_token: csrfToken },
        hooks: {
          MyHook: {
            mounted() {
              console.log("Hook mounted!");
            },
          },
        },
      });
      liveSocket.connect();
      window.liveSocket = liveSocket;
"#;

/// `base/1`: the CSRF meta tag and the client with `MyHook`.
fn base<M: Send>(socket: &Socket<M>) -> Rendered {
    let token = socket.csrf_token().unwrap_or_default();
    let script = Raw::new_unchecked(SCRIPT);
    html!(
        <meta name="csrf-token" content={token}>
        <script src="/assets/phoenix/phoenix.min.js"></script>
        <script type="module">{script}</script>
        <style>"* { font-size: 1.1em; }"</style>
    )
}

/// `MyComponent.my_component/1`.
fn my_component() -> Rendered {
    html!(<div id="my-component" phx-hook="MyHook"></div>)
}

/// `Issue3496.ALive`, in the `with_sticky` layout.
#[derive(Debug, Default)]
pub struct ALive;

impl LiveView for ALive {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        html!(
            {base(socket)}
            <div>
                <h1>"Page A"</h1>
                <a href="/issues/3496/b" data-phx-link="redirect" data-phx-link-state="push">"Go to page B"</a>
            </div>
            {live_render::<StickyLive>("sticky").sticky()}
        )
    }
}

/// `Issue3496.BLive`, in the `without_sticky` layout.
#[derive(Debug, Default)]
pub struct BLive;

impl LiveView for BLive {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        html!(
            {base(socket)}
            <div>
                <h1>"Page B"</h1>
                {my_component()}
            </div>
        )
    }
}

/// `Issue3496.StickyLive`.
#[derive(Debug, Default)]
pub struct StickyLive;

impl LiveView for StickyLive {
    type Message = ();

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(<div>{my_component()}</div>)
    }
}
