//! `Phoenix.LiveViewTest.E2E.JsLive` (`support/js_live.ex`) at `/js`: JS commands that show,
//! hide and toggle a modal and set, remove, toggle and ignore attributes.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};
use serde_json::json;

use crate::eval;
use crate::js::{Js, transition};
use crate::layout;

/// `JsLive`.
#[derive(Debug, Default)]
pub struct JsLive {
    count: u64,
}

impl LiveView for JsLive {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "increment" => self.count += 1,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let to = "#my-modal";
        let show = Js::new()
            .show(json!({"to": to, "transition": transition("fade-in"), "time": 50}))
            .op(
                "set_attr",
                json!({"to": to, "attr": ["aria-expanded", "true"]}),
            )
            .op("set_attr", json!({"to": to, "attr": ["open", "true"]}));
        let hide = Js::new()
            .hide(json!({"to": to, "transition": transition("fade-out"), "time": 50}))
            .op(
                "set_attr",
                json!({"to": to, "attr": ["aria-expanded", "false"]}),
            )
            .op("remove_attr", json!({"to": to, "attr": "open"}));
        let toggle = Js::new()
            .op(
                "toggle",
                json!({"to": to, "ins": transition("fade-in"), "outs": transition("fade-out"), "time": 50}),
            )
            .op("toggle_attr", json!({"to": to, "attr": ["aria-expanded", "true", "false"]}))
            .op("toggle_attr", json!({"to": to, "attr": ["open", "true"]}));
        let ignore = Js::new().op("ignore_attrs", json!({"attrs": ["open"]}));
        layout::live(
            socket,
            html!(
                <div id="my-modal" aria-expanded="false" style="display: none;">"Test"</div>
                <button phx-click={show}>"show modal"</button>
                <button phx-click={hide}>"hide modal"</button>
                <button phx-click={toggle}>"toggle modal"</button>
                <details phx-mounted={ignore}>
                    <summary>"Details"</summary>
                    <button phx-click="increment">{self.count}</button>
                </details>
            ),
        )
    }
}
