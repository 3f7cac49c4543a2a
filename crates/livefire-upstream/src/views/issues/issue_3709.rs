//! `Issue3709Live` (`support/issues/issue_3709.ex`, at `/issues/3709` and `/issues/3709/:id`):
//! a live component whose id follows the URL; many patches in a row must not race the pending
//! diffs of destroyed components.

use livefire::component::{LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Params, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `SomeComponent`.
#[derive(Debug)]
pub struct SomeComponent;

impl LiveComponent for SomeComponent {
    type Assigns = ();

    fn new(_: &()) -> Self {
        Self
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(<div>"Hello"</div>)
    }
}

/// `Issue3709Live`.
#[derive(Debug, Default)]
pub struct Issue3709Live {
    id: Option<String>,
}

const BREAK: &str = "document.querySelectorAll('li a').forEach((x) => x.click())";

impl LiveView for Issue3709Live {
    type Message = ();

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        self.id = params.get("id").map(str::to_owned);
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        Err(eval::fallback(&event))
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let id = self.id.as_deref().unwrap_or_default();
        layout::live(
            socket,
            html!(
                <ul>
                    @for i in 1..=10 {
                        <li><a href={format!("/issues/3709/{i}")} data-phx-link="patch" data-phx-link-state="push">"Link " {i}</a></li>
                    }
                </ul>
                <div>
                    {live_component::<SomeComponent>(format!("user-{id}"), ())} " id: " {id}
                    <div>
                        "Click the button, then click any link."
                        <button onclick={BREAK}>"Break Stuff"</button>
                    </div>
                </div>
            ),
        )
    }
}
