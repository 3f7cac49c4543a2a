//! `Issue3681Live`/`Issue3681.AwayLive` (`support/issues/issue_3681.ex`): a sticky live view
//! with a stream in the pages' layout keeps its items when the page navigates to a view with a
//! stream of the same name (configured twice), and back.

use livefire::nested::live_render;
use livefire::stream::Stream;
use livefire::{LiveView, Mount, Rendered, Result, Socket, html};

use crate::layout;

/// `%{id: num, msg: num}`.
#[derive(Debug)]
pub struct Msg {
    id: u32,
}

fn messages() -> Stream<Msg> {
    Stream::new("messages", |m: &Msg| format!("messages-{}", m.id))
}

/// The pages' layout (`Issue3681Live.render("live.html", …)`).
fn page_layout(socket: &Socket, inner: Rendered) -> Rendered {
    layout::live(
        socket,
        html!({live_render::<StickyLive>("sticky").sticky()} <hr> {inner} <hr>),
    )
}

/// `Issue3681Live`.
#[derive(Debug, Default)]
pub struct Issue3681Live;

impl LiveView for Issue3681Live {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        page_layout(
            socket,
            html!(
                <h3>"A LiveView that does nothing but render its layout."</h3>
                <a href="/issues/3681/away" data-phx-link="redirect" data-phx-link-state="push">"Go to a different LV with a (funcky) stream"</a>
            ),
        )
    }
}

/// `Issue3681.AwayLive`.
#[derive(Debug)]
pub struct AwayLive {
    messages: Stream<Msg>,
}

impl Default for AwayLive {
    fn default() -> Self {
        Self {
            messages: messages(),
        }
    }
}

impl LiveView for AwayLive {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, _socket: &mut Socket) -> Result {
        // `stream(:messages, [])` then `stream(:messages, [msg(4)], reset: true)`.
        self.messages.extend([]);
        self.messages.reset().insert(Msg { id: 4 });
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        page_layout(
            socket,
            html!(
                <h3>"A liveview with a stream configured twice"</h3>
                <h4>"This causes the nested liveview in the layout above to be reset by the client."</h4>
                <a href="/issues/3681" data-phx-link="redirect" data-phx-link-state="push">"Go back to (the now borked) LV without a stream"</a>
                <h1>"Normal Stream"</h1>
                <div id="msgs-normal" phx-update="stream">
                    @for (id, msg) in &self.messages { <div id={id}><div>{msg.id}</div></div> }
                </div>
            ),
        )
    }
}

/// `Issue3681.StickyLive`.
#[derive(Debug)]
pub struct StickyLive {
    messages: Stream<Msg>,
}

impl Default for StickyLive {
    fn default() -> Self {
        Self {
            messages: messages(),
        }
    }
}

impl LiveView for StickyLive {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, _socket: &mut Socket) -> Result {
        self.messages.extend([1, 2, 3].map(|id| Msg { id }));
        Ok(())
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(
            <div id="msgs-sticky" phx-update="stream">
                @for (id, msg) in &self.messages { <div id={id}><div>{msg.id}</div></div> }
            </div>
        )
    }
}
