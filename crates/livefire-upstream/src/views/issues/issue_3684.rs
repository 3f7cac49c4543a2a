//! `Issue3684Live` (`support/issues/issue_3684.ex`): radio buttons in a live component's form,
//! with a `phx-click` to the component on their wrappers; the clones of the locked form are
//! applied correctly (the clicked radio ends up `checked`).

use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `BadgeForm`: `@type` starts as `:huey`.
#[derive(Debug)]
pub struct BadgeForm {
    kind: String,
}

fn radios(kind: &str, myself: Myself) -> Rendered {
    html!(
        <fieldset>
            <legend>"Radio example:"</legend>
            @for t in ["huey", "dewey"] {
                <div phx-click="change-type" phx-value-type={t} phx-target={myself}>
                    <input type="radio" id={t} name="type" value={t} checked={kind == t}>
                    <label for={t}>{t}</label>
                </div>
            }
        </fieldset>
    )
}

impl LiveComponent for BadgeForm {
    /// `action` and `form` (neither changes; the form is empty).
    type Assigns = ();

    fn new(_: &()) -> Self {
        Self {
            kind: "huey".to_owned(),
        }
    }

    /// `update/2` only assigns the form: `@type` stays.
    async fn update(&mut self, _: (), _socket: &mut ComponentSocket<'_>) -> Result {
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "change-type" => {
                self.kind = event
                    .get("type")
                    .filter(|t| matches!(*t, "huey" | "dewey"))
                    .ok_or_else(|| livefire::Error::app("unknown type"))?
                    .to_owned();
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, myself: Myself) -> Rendered {
        html!(
            <div>
                <form id="foo" class="max-w-lg p-8 flex flex-col gap-4" phx-change="change" phx-submit="submit">
                    {radios(&self.kind, myself)}
                </form>
            </div>
        )
    }
}

/// `Issue3684Live`.
#[derive(Debug, Default)]
pub struct Issue3684Live;

impl LiveView for Issue3684Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "change" | "submit" => Ok(()),
            _ => Err(eval::fallback(&event)),
        }
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!({ live_component::<BadgeForm>("badge_form", ()) }),
        )
    }
}
