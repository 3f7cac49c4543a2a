//! `Issue3117Live` (`support/issues/issue_3117.ex`): live components whose template starts with
//! a function component keep its static content after a live navigation.
//!
//! Upstream's `Row` calls `assign_async(:foo, …)` in `update/2`. A livefire component cannot
//! start async work itself (no socket in [`LiveComponent::new`], no handle on the component
//! socket), so the view starts it when connected: a task that changes each row with
//! `ViewHandle::send_update`, as the async result would (`inspect(@foo.result)` goes from `nil`
//! to `:bar`).

use livefire::component::{LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `Issue3117Live.Row`.
#[derive(Debug)]
pub struct Row {
    id: String,
    /// `@foo.result`.
    foo: Option<&'static str>,
}

impl LiveComponent for Row {
    type Assigns = String;

    fn new(id: &String) -> Self {
        Self {
            id: id.clone(),
            foo: None,
        }
    }

    fn render(&self, _myself: Myself) -> Rendered {
        let result = self.foo.unwrap_or("nil");
        html!(
            <div id={self.id.as_str()}>
                "Example LC Row " {result}
                {fc()}
            </div>
        )
    }
}

fn fc() -> Rendered {
    html!(<div class="static">"static content"</div>)
}

/// `Issue3117Live`.
#[derive(Debug, Default)]
pub struct Issue3117Live;

const ROWS: [&str; 2] = ["row-1", "row-2"];

impl LiveView for Issue3117Live {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        if socket.connected() {
            // The rows' `assign_async(:foo, fn -> {:ok, %{foo: :bar}} end)`.
            let handle = socket.handle();
            tokio::spawn(async move {
                for id in ROWS {
                    let _ = handle
                        .send_update::<Row>(id, |row| row.foo = Some(":bar"))
                        .await;
                }
            });
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        Err(eval::fallback(&event))
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                <a href="/issues/3117?nav" data-phx-link="redirect" data-phx-link-state="push" id="navigate">"Navigate"</a>
                @for id in ROWS {
                    <div>{live_component::<Row>(id, id.to_owned())}</div>
                }
            ),
        )
    }
}
