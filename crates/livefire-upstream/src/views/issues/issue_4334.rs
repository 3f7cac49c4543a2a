//! `Issue4334Live` (`support/issues/issue_4334.ex`): a live component whose root id changes;
//! its hook (`RootChange`, from `pre_script`) is mounted again and the new children stay.

use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::eval;
use crate::layout::{self, Live};

const PRE_SCRIPT: &str = r#"<script>
  window.hooks.RootChange = {
    mounted() {
      console.log("MyHook mounted");
    },
    updated() {
      console.log("MyHook updated");
    },
  };
</script>"#;

/// `RootChangingComponent`.
#[derive(Debug)]
pub struct RootChangingComponent {
    changed: bool,
}

impl LiveComponent for RootChangingComponent {
    type Assigns = ();

    fn new(_: &()) -> Self {
        Self { changed: false }
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "change-root-id" => self.changed = true,
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        let changed = self.changed;
        let root = if changed { "new-root" } else { "old-root" };
        let child = if changed { "new-child" } else { "old-child" };
        let text = if changed {
            "NEW CHILD SHOULD REMAIN VISIBLE"
        } else {
            "Old child is visible"
        };
        html!(
            <section id={root} data-testid="component-root" phx-hook="RootChange"
                style="min-height: 10rem; margin-top: 2rem; padding: 1.5rem; border: 4px solid #dc2626;">
                <button id="change-root" phx-click="change-root-id" phx-target={myself}
                    style="padding: 0.75rem 1rem; background: #111827; color: white;">
                    "Change component root ID"
                </button>
                <p id={child} style="font-size: 1.25rem;">{text}</p>
            </section>
        )
    }
}

/// `Issue4334Live`.
#[derive(Debug, Default)]
pub struct Issue4334Live;

impl LiveView for Issue4334Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        Err(eval::fallback(&event))
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let opts = Live {
            pre_script: Some(PRE_SCRIPT),
            ..Live::default()
        };
        layout::live_with(
            socket,
            opts,
            html!(
                <main style="max-width: 48rem; margin: 4rem auto; font-family: system-ui;">
                    <h1>"LiveComponent root ID corruption repro"</h1>
                    <p id="instructions">
                        "Click the button. The component root changes from " <code>"old-root"</code>
                        "\n    to " <code>"new-root"</code> ". On affected LiveView versions, the replacement root remains\n    but all of its new children disappear."
                    </p>
                    {live_component::<RootChangingComponent>("demo-component", ())}
                </main>
            ),
        )
    }
}
