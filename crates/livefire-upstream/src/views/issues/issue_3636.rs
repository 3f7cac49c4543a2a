//! `Issue3636Live` (`support/issues/issue_3636.ex`): `<.focus_wrap>` focuses its first element
//! when focus enters from outside.

use livefire::{LiveView, Rendered, Socket, html};

use crate::components::focus_wrap;
use crate::layout;

/// `Issue3636Live`.
#[derive(Debug, Default)]
pub struct Issue3636Live;

impl LiveView for Issue3636Live {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        let buttons = html!(
            " " <button id="first" class="border rounded py-2 px-4">"One"</button>
            " " <button id="second" class="border rounded py-2 px-4">"Two"</button>
            " " <button id="third" class="border rounded py-2 px-4">"Three"</button> " "
        );
        layout::live(
            socket,
            html!(
                <style>".space-x-8 > :not([hidden]) ~ :not([hidden]) { margin-left: 2rem; }"</style>
                <div class="container mx-auto p-8">
                    " " <button>"Outside 1"</button> " "
                    {focus_wrap("focus-wrap", Some("space-x-8"), buttons)}
                    " " <button>"Outside 2"</button> " "
                </div>
            ),
        )
    }
}
