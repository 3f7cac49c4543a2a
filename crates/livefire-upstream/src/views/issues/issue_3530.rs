//! `Issue3530Live` (`support/issues/issue_3530.ex`): a stream whose items are nested live views
//! (each with a hook); patches reset the stream, and only the removed children are destroyed.

use livefire::nested::live_render;
use livefire::stream::Stream;
use livefire::{Event, LiveView, Mount, Params, Raw, Rendered, Result, Socket, html};

const SCRIPT: &str = r#"
      import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";

      let csrfToken = document
        .querySelector("meta[name='csrf-token']")
        .getAttribute("content");
      let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
        params: { _csrf_token: csrfToken },
        hooks: {
          test: {
            mounted() {
              console.log(this.__view().id, "mounted hook!");
            },
          },
        },
      });
      liveSocket.connect();
      window.liveSocket = liveSocket;
"#;

/// `%{id: id}`.
#[derive(Debug)]
pub struct Item {
    id: u32,
}

/// `Issue3530Live`.
#[derive(Debug)]
pub struct Issue3530Live {
    count: u32,
    items: Stream<Item>,
}

impl Default for Issue3530Live {
    fn default() -> Self {
        Self {
            count: 3,
            items: Stream::new("items", |i: &Item| format!("item-{}", i.id)),
        }
    }
}

impl LiveView for Issue3530Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, _socket: &mut Socket) -> Result {
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        let ids: &[u32] = match params.query("q") {
            Some("a") => &[1, 3],
            Some("b") => &[2, 3],
            _ => &[1, 2, 3],
        };
        self.items.reset().extend(ids.iter().map(|&id| Item { id }));
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "inc" => {
                self.count += 1;
                self.items.insert(Item { id: self.count });
                Ok(())
            }
            other => Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let token = socket.csrf_token().unwrap_or_default();
        let script = Raw::new_unchecked(SCRIPT);
        html!(
            <meta name="csrf-token" content={token}>
            <script src="/assets/phoenix/phoenix.min.js"></script>
            <script type="module">{script}</script>
            <ul id="stream-list" phx-update="stream">
                @for (dom_id, item) in &self.items {
                    {live_render::<NestedLive>(dom_id).session("item_id", item.id)}
                }
            </ul>
            <a href="/issues/3530?q=a" data-phx-link="patch" data-phx-link-state="push">"patch a"</a>
            <a href="/issues/3530?q=b" data-phx-link="patch" data-phx-link-state="push">"patch b"</a>
            <div phx-click="inc">"+"</div>
        )
    }
}

/// `Issue3530Live.NestedLive`.
#[derive(Debug, Default)]
pub struct NestedLive {
    item_id: u32,
}

impl LiveView for NestedLive {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        self.item_id = cx.session("item_id").unwrap_or_default();
        Ok(())
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        let outer = format!("item-outer-{}", self.item_id);
        let hook = format!("test-hook-{}", self.item_id);
        html!(
            <div id={outer}>
                "test hook with nested liveview"
                <div id={hook} phx-hook="test"></div>
            </div>
        )
    }
}
