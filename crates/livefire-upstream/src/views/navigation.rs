//! `Phoenix.LiveViewTest.E2E.Navigation` (`support/navigation.ex`): the navigation live
//! session's layout, `ALive`, `BLive`, `RedirectLoopLive` and the layout of the dead page.
//!

use std::sync::atomic::{AtomicI64, Ordering};

use livefire::stream::Stream;
use livefire::{Event, LiveView, Mount, Params, Raw, Rendered, Result, Socket, html};

use crate::eval;

const SCRIPT: &str = r#"
      import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
      let csrfToken = document
        .querySelector("meta[name='csrf-token']")
        .getAttribute("content");
      let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
        params: { _csrf_token: csrfToken },
        reloadJitterMin: 50,
        reloadJitterMax: 500,
      });
      liveSocket.connect();
      window.liveSocket = liveSocket;
      window.liveNavigationPreventEnabled = false;

      window.addEventListener("phx:before-navigate", (e) => {
        console.log("before navigate event", JSON.stringify(e.detail));
        if (window.liveNavigationPreventEnabled) {
          e.preventDefault();
        }
      });

      window.addEventListener("phx:navigate", (e) => {
        console.log("navigate event", JSON.stringify(e.detail));
      });

      window.addEventListener("change", (e) => {
        if (e.target && e.target.id === "prevent-navigation-toggle") {
          window.liveNavigationPreventEnabled = e.target.checked;
        }
      });
"#;

const STYLE: &str = r#"
      html, body {
        margin: 0;
        padding: 0;

        font-family: system-ui, -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Ubuntu, "Helvetica Neue", sans-serif;
        font-size: 1rem;
      }
"#;

const NAV_LINK: &str = "background-color: #f1f5f9; padding: 0.5rem;";
const BUTTON: &str = "padding-left: 1rem; padding-right: 1rem; padding-top: 0.5rem; padding-bottom: 0.5rem; background-color: #e2e8f0; display: inline-flex; align-items: center; border-radius: 0.375rem; cursor: pointer;";

/// `Navigation.Layout` `live.html` around `inner`.
pub fn layout(csrf_token: &str, inner: Rendered) -> Rendered {
    let (script, style) = (Raw::new_unchecked(SCRIPT), Raw::new_unchecked(STYLE));
    html!(
        <meta name="csrf-token" content={csrf_token}>
        <script src="/assets/phoenix/phoenix.min.js"></script>
        <script type="module">{script}</script>
        <style>{style}</style>
        <div style="display: flex; width: 100%; height: 100vh;">
            <div style="position: fixed; height: 100vh; background-color: #f8fafc; border-right: 1px solid; width: 20rem; display: flex; flex-direction: column; padding: 1rem; gap: 0.5rem;">
                <h1 style="margin-bottom: 1rem; font-size: 1.125rem; line-height: 1.75rem;">"Navigation"</h1>
                <label style="display: flex; align-items: center; gap: 0.5rem; background-color: #e2e8f0; padding: 0.5rem; cursor: pointer;">
                    <input id="prevent-navigation-toggle" type="checkbox">
                    <span>"Prevent navigation"</span>
                </label>
                <a href="/navigation/a" data-phx-link="redirect" data-phx-link-state="push" style={NAV_LINK}>"LiveView A"</a>
                <a href="/navigation/b" data-phx-link="redirect" data-phx-link-state="push" style={NAV_LINK}>"LiveView B"</a>
                <a href="/stream" data-phx-link="redirect" data-phx-link-state="push" style={NAV_LINK}>"LiveView (other session)"</a>
                <a href="/navigation/dead" data-phx-link="redirect" data-phx-link-state="push" style={NAV_LINK}>"Dead View"</a>
            </div>
            <div style="margin-left: 22rem; flex: 1; padding: 2rem;">{inner}</div>
        </div>
    )
}

fn in_layout<M: Send>(socket: &Socket<M>, inner: Rendered) -> Rendered {
    layout(socket.csrf_token().unwrap_or_default(), inner)
}

/// `System.unique_integer()`.
fn unique_integer() -> i64 {
    static NEXT: AtomicI64 = AtomicI64::new(-576_460_752_303_423_000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// `Navigation.ALive`.
#[derive(Debug, Default)]
pub struct ALive {
    param_current: Option<String>,
    param_next: i64,
}

impl LiveView for ALive {
    type Message = ();

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        self.param_current = params.query("param").map(str::to_owned);
        self.param_next = unique_integer();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "server_navigate" => socket.push_navigate("/navigation/b"),
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let patch = format!("/navigation/a?param={}", self.param_next);
        in_layout(
            socket,
            html!(
                <h1>"This is page A"</h1>
                <p>"Current param: " {self.param_current.as_deref()}</p>
                <a href={patch.as_str()} data-phx-link="patch" data-phx-link-state="push" style={BUTTON}>"Patch this LiveView"</a>
                <a href={patch.as_str()} data-phx-link="patch" data-phx-link-state="replace" style={BUTTON}>"Patch (Replace)"</a>
                <a href="/navigation/b#items-item-42" data-phx-link="redirect" data-phx-link-state="push" style={BUTTON}>"Navigate to 42"</a>
                <button type="button" phx-click="server_navigate" style={BUTTON}>"Server Navigate"</button>
            ),
        )
    }
}

/// `Navigation.BLive` (`:index` at `/navigation/b`, `:show` at `/navigation/b/:id`): a stream
/// of 100 items, (re)inserted by every `handle_params` of `:index`.
#[derive(Debug)]
pub struct BLive {
    container: bool,
    id: Option<String>,
    /// `%{id: "item-#{i}", name: i}`: the stream of `i`.
    items: Stream<u32>,
}

impl Default for BLive {
    fn default() -> Self {
        Self {
            container: false,
            id: None,
            items: Stream::new("items", |i: &u32| format!("items-item-{i}")),
        }
    }
}

impl LiveView for BLive {
    type Message = ();

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        self.container = params.query("container").is_some();
        self.id = params.get("id").map(str::to_owned);
        if self.id.is_none() {
            // `apply_action(socket, :index, _params)`
            self.items.extend(1..=100);
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let scroll = if self.container {
            "height: 85vh; overflow-y: scroll; "
        } else {
            ""
        };
        let style = format!(
            "{scroll}width: 100%; border: 1px solid #e2e8f0; border-radius: 0.375rem; position: relative;"
        );
        let index = self.id.is_none();
        in_layout(
            socket,
            html!(
                <h1>"This is page B"</h1>
                <a href="#items-item-42" style={format!("margin-bottom: 8px; {BUTTON}")}>"Go to 42."</a>
                @if index {
                    <div id="my-scroll-container" style={style.as_str()}>
                        <ul id="items" style="padding: 1rem; list-style: none;" phx-update="stream">
                            @for (dom_id, i) in &self.items {
                                <li id={dom_id} style="padding: 0.5rem; border-bottom: 1px solid #e2e8f0;">
                                    <a href={format!("/navigation/b/item-{i}")} data-phx-link="patch" data-phx-link-state="push" style="display: inline-flex; align-items: center; gap: 0.5rem;">"Item " {*i}</a>
                                </li>
                            }
                        </ul>
                    </div>
                }
                @if let Some(id) = &self.id {
                    <div><p>"Item " {id.as_str()}</p></div>
                }
            ),
        )
    }
}

/// `Navigation.RedirectLoopLive`.
#[derive(Debug, Default)]
pub struct RedirectLoopLive {
    message: Option<&'static str>,
    looping: bool,
}

impl LiveView for RedirectLoopLive {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        let looped = cx.params().query("loop").is_some();
        self.message = looped.then_some("Too many redirects");
        self.looping = !looped;
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, socket: &mut Socket) -> Result {
        if params.query("loop").is_some() && self.looping {
            socket.push_patch("/navigation/redirectloop?loop=true");
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        in_layout(
            socket,
            html!(
                @if let Some(message) = self.message { <div id="message">{message}</div> }
                <a href="/navigation/redirectloop?loop=true" data-phx-link="patch" data-phx-link-state="push">"Redirect Loop"</a>
            ),
        )
    }
}
