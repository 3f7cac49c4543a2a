//! `Phoenix.LiveViewTest.E2E.FormUnsavedLive` and `.Target` (`support/form_unsaved_live.ex`) at
//! `/form-unsaved` and `/form-unsaved/target`: a dirty form that cancels live navigation
//! (`phx:before-navigate`) and page unload.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};
use serde::Deserialize;

use crate::eval;
use crate::layout::{self, Live};

const PRE_SCRIPT: &str = r##"<script>
        (() => {
          if (window.unsavedFormListenersInstalled) {
            return;
          }

          window.unsavedFormListenersInstalled = true;
          window.unsavedEvents = window.unsavedEvents || [];

          const hasUnsavedChanges = () =>
            document.querySelector("#unsaved-form[data-dirty='true']") !== null;

          window.addEventListener("phx:before-navigate", (event) => {
            if (hasUnsavedChanges()) {
              window.unsavedEvents.push({ type: "phx", detail: event.detail });

              if (!window.confirm("You have unsaved changes. Leave without saving?")) {
                event.preventDefault();
              }
            }
          });

          window.addEventListener("beforeunload", (event) => {
            if (hasUnsavedChanges()) {
              window.unsavedEvents.push({ type: "beforeunload" });
              event.preventDefault();
              event.returnValue = "";
            }
          });
        })();
      </script>"##;

/// `FormUnsavedLive`.
#[derive(Debug, Default)]
pub struct FormUnsavedLive {
    note: String,
}

#[derive(Deserialize)]
struct Note {
    note: String,
}

impl LiveView for FormUnsavedLive {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => self.note = event.form::<Note>()?.note,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let dirty = if self.note.is_empty() {
            "false"
        } else {
            "true"
        };
        let opts = Live {
            pre_script: Some(PRE_SCRIPT),
            ..Live::default()
        };
        layout::live_with(
            socket,
            opts,
            html!(
                <h1>"Unsaved form"</h1>
                <a href="/form-unsaved/target" data-phx-link="redirect" data-phx-link-state="push">"Leave form"</a>
                <form id="unsaved-form" phx-change="validate" data-dirty={dirty}
                    style="margin-top: 1rem; display: flex; flex-direction: column; gap: 0.5rem; max-width: 20rem;">
                    <label for="unsaved-note">"Unsaved note"</label>
                    <input id="unsaved-note" name="note" value={self.note.as_str()}
                        style="height: 2rem; border: 1px solid #cbd5e1; padding: 0 0.5rem;">
                    <p id="unsaved-value">"Unsaved value: " {self.note.as_str()}</p>
                </form>
            ),
        )
    }
}

/// `FormUnsavedLive.Target`.
#[derive(Debug, Default)]
pub struct Target;

impl LiveView for Target {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(socket, html!(<h1>"Unsaved form target"</h1>))
    }
}
