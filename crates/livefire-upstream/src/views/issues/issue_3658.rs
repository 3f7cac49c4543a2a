//! `Issue3658Live` (`support/issues/issue_3658.ex`): an element with `phx-remove` inside a
//! sticky live view stays when the page navigates.

use livefire::nested::live_render;
use livefire::{LiveView, Rendered, Socket, html};
use serde_json::Value;

use crate::js::Js;
use crate::layout;

/// `Issue3658Live`.
#[derive(Debug, Default)]
pub struct Issue3658Live;

impl LiveView for Issue3658Live {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                <a href="/issues/3658?navigated=true" data-phx-link="redirect" data-phx-link-state="push">"Link 1"</a>
                {live_render::<Sticky>("sticky").sticky()}
            ),
        )
    }
}

/// `Issue3658Live.Sticky`.
#[derive(Debug, Default)]
pub struct Sticky;

impl LiveView for Sticky {
    type Message = ();

    fn render(&self, _socket: &Socket) -> Rendered {
        let remove = Js::new().dispatch("my-event", Value::Null);
        html!(<div><div id="foo" phx-remove={remove}>"Hi"</div></div>)
    }
}
