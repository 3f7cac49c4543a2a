//! The layouts of `test_helper.exs`: the root layout (doctype, optional `render_in_root`, the
//! live container) and the "live" layout, which upstream renders *inside* the live view: CSRF
//! meta tag, `window.hooks`, the client scripts with the `FormHook`/`FormStreamHook` hooks and the
//! `TestExternal` uploader, `cascadePhxRemoveOnNavigation`.

use livefire::layout::Page;
use livefire::{Raw, Rendered, Socket, html};

/// The request path, put into the request extensions so the root layout can pick a view's
/// `render_in_root` content (upstream passes it as an assign).
#[derive(Debug, Clone)]
pub struct RequestPath(pub String);

/// The root layout: `<!DOCTYPE html> {render_in_root} {@inner_content}`.
pub fn root(page: &Page) -> Rendered {
    let path = page.extension::<RequestPath>().map_or("", |p| p.0.as_str());
    // The `:portal_root` pipeline's root layout.
    if path == "/portal" {
        return crate::views::portal::root(page);
    }
    let in_root = crate::views::render_in_root(path);
    html!(<!DOCTYPE html> {in_root} {page.content()})
}

/// Options of the live layout (assigns upstream views set).
#[derive(Debug, Default, Clone, Copy)]
pub struct Live {
    /// `assigns[:tailwind]`: load styles (local CSS here instead of the Tailwind CDN).
    pub tailwind: bool,
    /// `assigns[:pre_script]`: raw HTML placed before the module script.
    pub pre_script: Option<&'static str>,
}

const LIVE_SCRIPT: &str = r#"
      import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
      import { hooks as colocatedHooks } from "/assets/colocated/index.js";

      let Hooks = {};
      Hooks.FormHook = {
        mounted() {
          this.pushEvent("ping", {}, () => (this.el.innerText += "pong"));
        },
      };
      Hooks.FormStreamHook = {
        mounted() {
          this.pushEvent("ping", {}, () => (this.el.innerText += "pong"));
        },
      };
      let Uploaders = {};
      Uploaders.TestExternal = function (entries) {
        entries.forEach((entry) => {
          document.documentElement.dataset.externalUploadStarted = entry.ref;

          let upload = {
            abort() {
              document.documentElement.dataset.externalUploadAborted = entry.ref;
            },
          };

          entry.onCancel(() => upload.abort());
        });
      };
      let csrfToken = document
        .querySelector("meta[name='csrf-token']")
        .getAttribute("content");
      let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
        params: { _csrf_token: csrfToken },
        hooks: { ...Hooks, ...window.hooks, ...colocatedHooks },
        uploaders: Uploaders,
        cascadePhxRemoveOnNavigation:
          new URLSearchParams(window.location.search).get(
            "cascadePhxRemoveOnNavigation",
          ) !== "false",
      });
      liveSocket.connect();
      window.liveSocket = liveSocket;
"#;

/// The default "live" layout around `inner`.
pub fn live<M: Send>(socket: &Socket<M>, inner: Rendered) -> Rendered {
    live_with(socket, Live::default(), inner)
}

/// The "live" layout with options.
pub fn live_with<M: Send>(socket: &Socket<M>, opts: Live, inner: Rendered) -> Rendered {
    let token = socket.csrf_token().unwrap_or_default();
    // Upstream's `pre_script` is a rendered template: a nested tree in the diff, not a string
    // (the client's debug log of the join diff then shows it as `Object`; 4334's spec filters
    // console messages by a word in the script).
    let pre_script = opts
        .pre_script
        .map(|script| html!({ Raw::new_unchecked(script) }));
    let script = Raw::new_unchecked(LIVE_SCRIPT);
    html!(
        <meta name="csrf-token" content={token}>
        <script>"window.hooks = {};"</script>
        <script src="/assets/phoenix/phoenix.min.js"></script>
        @if opts.tailwind { <link rel="stylesheet" href="/assets/upstream.css"> }
        {pre_script}
        <script type="module">{script}</script>
        <style>"* { font-size: 1.1rem; }"</style>
        {inner}
    )
}
