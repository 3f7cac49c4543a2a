//! `Issue4088Live` (`support/issues/issue_4088.ex`): a live component's colocated hook pushes
//! three events to the component on mount; the locked component container is patched without
//! errors. The hook (`Issue4088Live.LC.MyHook`) is in the colocated stand-in,
//! `assets/colocated.js`.

use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout, rand};

/// `Issue4088Live`.
#[derive(Debug, Default)]
pub struct Issue4088Live;

impl LiveView for Issue4088Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        Err(eval::fallback(&event))
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(socket, html!({ live_component::<Lc>("lc", ()) }))
    }
}

/// `Issue4088Live.LC`: `@test` starts as `"value"`, then `:rand.uniform()` on every event.
#[derive(Debug)]
pub struct Lc {
    test: String,
}

impl LiveComponent for Lc {
    type Assigns = ();

    fn new(_: &()) -> Self {
        Self {
            test: "value".to_owned(),
        }
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "my_update" => self.test = rand::uniform().to_string(),
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        // The colocated `<script>` renders nothing; `.MyHook` is qualified by the module.
        html!(
            <div id="foo" phx-hook="Phoenix.LiveViewTest.E2E.Issue4088Live.LC.MyHook" phx-target={myself}>
                {self.test.as_str()}
            </div>
        )
    }
}
