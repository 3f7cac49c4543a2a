//! `Issue4095Live` (`support/issues/issue_4095.ex`): events of elements that a patch removed from
//! a portal are ignored.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};
use serde_json::Value;

use crate::components::portal;
use crate::{eval, layout};

/// `Issue4095Live`.
#[derive(Debug)]
pub struct Issue4095Live {
    /// `f[:show?].value`: `true` at mount, then the submitted string.
    show: Value,
}

impl Default for Issue4095Live {
    fn default() -> Self {
        Self {
            show: Value::Bool(true),
        }
    }
}

impl LiveView for Issue4095Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => self.show = event.form_data()?.into_value()["show?"].clone(),
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let value = match &self.show {
            Value::String(s) => Some(s.clone()),
            Value::Bool(true) => Some("true".to_owned()),
            _ => None,
        };
        // `!!value`: anything but nil and false shows the button (an empty string too).
        let show = !matches!(self.show, Value::Null | Value::Bool(false));
        let inner = html!(<div>@if show { <button>"Show?"</button> }</div>);
        layout::live(
            socket,
            html!(
                <form phx-change="validate">
                    <input type="text" name="show?" id="show?" value={value}>
                    {portal("portal", "#portal_target", None, inner)}
                </form>
                <div id="portal_target"></div>
            ),
        )
    }
}
