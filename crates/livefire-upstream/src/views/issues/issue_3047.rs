//! `Issue3047ALive`/`Issue3047BLive` (`support/issues/issue_3047.ex`): a sticky nested live view
//! with a stream, rendered in the pages' layout, keeps its (reset) stream items across live
//! navigation between the pages.

use livefire::nested::live_render;
use livefire::stream::Stream;
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::layout;

/// The pages' layout (`Issue3047ALive.render("live.html", …)`): the default live layout
/// (without content), the links, the page and the sticky view.
fn page_layout(socket: &Socket, inner: Rendered) -> Rendered {
    const LINK: &str = "border rounded bg-blue-700 w-fit px-2 text-white";
    layout::live(
        socket,
        html!(
            <div class="flex flex-col items-center justify-center">
                <div class="flex flex-row gap-3">
                    <a href="/issues/3047/a" data-phx-link="redirect" data-phx-link-state="push" class={LINK}>"Page A"</a>
                    <a href="/issues/3047/b" data-phx-link="redirect" data-phx-link-state="push" class={LINK}>"Page B"</a>
                </div>
                {inner}
                {live_render::<Sticky>("test").sticky()}
            </div>
        ),
    )
}

/// `Issue3047ALive`.
#[derive(Debug, Default)]
pub struct Issue3047ALive;

impl LiveView for Issue3047ALive {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        page_layout(socket, html!(<span id="page">"Page A"</span>))
    }
}

/// `Issue3047BLive`.
#[derive(Debug, Default)]
pub struct Issue3047BLive;

impl LiveView for Issue3047BLive {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        page_layout(socket, html!(<span id="page">"Page B"</span>))
    }
}

/// `%{id: x, name: "item-#{x}"}`.
#[derive(Debug)]
pub struct Item {
    id: u32,
    name: String,
}

fn items(range: std::ops::RangeInclusive<u32>) -> impl Iterator<Item = Item> {
    range.map(|id| Item {
        id,
        name: format!("item-{id}"),
    })
}

/// `Issue3047.Sticky`.
#[derive(Debug)]
pub struct Sticky {
    items: Stream<Item>,
}

impl Default for Sticky {
    fn default() -> Self {
        Self {
            items: Stream::new("items", |i: &Item| format!("items-{}", i.id)),
        }
    }
}

impl LiveView for Sticky {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, _socket: &mut Socket) -> Result {
        self.items.extend(items(1..=10));
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "reset" => {
                self.items.reset().extend(items(5..=15));
                Ok(())
            }
            other => Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(
            <div style="border: 2px solid black;">
                <h1>"This is the sticky liveview"</h1>
                <div id="items" phx-update="stream" style="display: flex; flex-direction: column; gap: 4px;">
                    @for (id, item) in &self.items { <span id={id}>{item.name.as_str()}</span> }
                </div>
                <button phx-click="reset">"Reset"</button>
            </div>
        )
    }
}
