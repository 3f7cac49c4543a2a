//! `Issue3941Live` (`support/issues/issue_3941.ex`, at `/issues/3941` outside any live session,
//! in its own layout with the `PagePositionNotifier` hook): live components whose
//! `assign_async` results arrive as component-only diffs while their parent is locked by the
//! hook's event.
//!
//! Upstream's `ItemHeader` starts `assign_async(:async_assign, …, reset: true)` in `update/2`.
//! A livefire component cannot start async work itself (no socket in
//! [`LiveComponent::new`], no handle on the component socket), so the view starts it for the
//! items it shows (on the connected mount and when an item is checked again): a task that
//! changes the header with `ViewHandle::send_update`, as the async result would. `Item`'s own
//! `assign_async(:any_assign, …)` only re-assigns `true` (no change to render) and is left out.

use livefire::component::{LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, ViewHandle, html};

use crate::eval;

const SCRIPT: &str = r#"
      import { LiveSocket } from "/assets/phoenix_live_view/phoenix_live_view.esm.js";
      let csrfToken = document
        .querySelector("meta[name='csrf-token']")
        .getAttribute("content");
      let liveSocket = new LiveSocket("/live", window.Phoenix.Socket, {
        params: { _csrf_token: csrfToken },
        hooks: {
          PagePositionNotifier: {
            mounted() {
              this.pushEvent("page_position_update", {});
            },
          },
        },
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

const ALL_ITEMS: [&str; 2] = ["Item_1", "Item_2"];

/// `Issue3941Live`.
#[derive(Debug, Default)]
pub struct Issue3941Live {
    selected_items: Vec<String>,
    filter_options: Vec<String>,
}

/// Starts the headers' `assign_async` for `items`: the result comes right away.
fn load_headers(handle: ViewHandle<()>, items: Vec<String>) {
    tokio::spawn(async move {
        for item in items {
            let id = format!("item-header-{item}");
            let _ = handle
                .send_update::<ItemHeader>(id, |h| h.async_assign = AsyncAssign::Ok)
                .await;
        }
    });
}

impl LiveView for Issue3941Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        self.selected_items = ALL_ITEMS.map(str::to_owned).to_vec();
        self.filter_options = self.selected_items.clone();
        if socket.connected() {
            load_headers(socket.handle(), self.selected_items.clone());
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "toggle_item" => {
                let clicked = event.get("clicked").unwrap_or_default().to_owned();
                match event.get("value") {
                    None => self.selected_items.retain(|i| *i != clicked),
                    Some(value) => {
                        self.selected_items.push(value.to_owned());
                        load_headers(socket.handle(), vec![value.to_owned()]);
                    }
                }
                self.selected_items.sort();
            }
            "page_position_update" => {}
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let selected = &self.selected_items;
        own_layout(
            socket,
            html!(
                {multi_select(&self.filter_options, selected)}
                @for item in selected {
                    <div>{live_component::<Item>(format!("item-{item}"), item.clone())}</div>
                }
            ),
        )
    }
}

/// `multi_select/1`.
fn multi_select(items: &[String], selected: &[String]) -> Rendered {
    html!(
        @for item in items {
            <div>
                <label for={format!("item-select-{item}")}>
                    <input type="checkbox" phx-click="toggle_item" phx-value-clicked={item.as_str()}
                        id={format!("select-{item}")} name="select" value={item.as_str()}
                        checked={selected.contains(item)}>
                    {item.as_str()}
                </label>
            </div>
        }
    )
}

/// `Issue3941Live.Item`.
#[derive(Debug)]
pub struct Item {
    item: String,
}

impl LiveComponent for Item {
    type Assigns = String;

    fn new(item: &String) -> Self {
        Self { item: item.clone() }
    }

    fn render(&self, _myself: Myself) -> Rendered {
        let item = self.item.as_str();
        // (`<.unrendered_component :if={false} …/>` renders nothing.)
        html!(
            <div id={format!("item-{item}")} phx-hook="PagePositionNotifier">
                {live_component::<ItemHeader>(format!("item-header-{item}"), item.to_owned())}
            </div>
        )
    }
}

/// `@async_assign`, an `AsyncResult`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncAssign {
    /// Loading (`reset: true`: no result).
    Loading,
    /// `{:ok, %{async_assign: :assign}}`.
    Ok,
}

impl AsyncAssign {
    /// `inspect(@async_assign)`.
    fn inspect(self) -> &'static str {
        match self {
            AsyncAssign::Loading => {
                "%Phoenix.LiveView.AsyncResult{ok?: false, loading: [:async_assign], failed: nil, result: nil}"
            }
            AsyncAssign::Ok => {
                "%Phoenix.LiveView.AsyncResult{ok?: true, loading: nil, failed: nil, result: :assign}"
            }
        }
    }
}

/// `Issue3941Live.ItemHeader`.
#[derive(Debug)]
pub struct ItemHeader {
    item: String,
    async_assign: AsyncAssign,
}

impl LiveComponent for ItemHeader {
    type Assigns = String;

    fn new(item: &String) -> Self {
        Self {
            item: item.clone(),
            async_assign: AsyncAssign::Loading,
        }
    }

    fn render(&self, _myself: Myself) -> Rendered {
        let item = self.item.as_str();
        html!(
            <div id={format!("header-{item}")}>
                @if self.async_assign == AsyncAssign::Ok {
                    <div id={item} class="border border-y-0 bg-green-500 text-white">{format!("{item} - I AM LOADED!")}</div>
                } else {
                    <div id={item} class="border border-y-0 bg-red-500 text-white">{format!("{item} - I AM LOADING")}</div>
                }
                {self.async_assign.inspect()}
            </div>
        )
    }
}
