//! `Issue4290.ALive` and `BLive` (`support/issues/issue_4290.ex`): events of the old view during
//! a slow `phx-remove` transition are not routed to the view navigated to.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};
use serde_json::json;

use crate::js::Js;
use crate::{eval, layout};

/// `Issue4290.ALive`.
#[derive(Debug, Default)]
pub struct ALive;

impl LiveView for ALive {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "navigate" => socket.push_navigate("/issues/4290/b"),
            "validate" => {}
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let remove = Js::new().op(
            "transition",
            json!({"time": 1500, "transition": crate::js::transition("fade-out")}),
        );
        layout::live(
            socket,
            html!(
                <h1>"A"</h1>
                <div id="slow-remove" phx-remove={remove}>"removed with transition"</div>
                <form id="form" phx-change="validate"><input type="text" name="name"></form>
                <button phx-click="navigate">"Navigate"</button>
            ),
        )
    }
}

/// `Issue4290.BLive`: counts every event it receives.
#[derive(Debug, Default)]
pub struct BLive {
    events: Vec<String>,
}

impl LiveView for BLive {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        self.events.push(event.name().to_owned());
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let events: Vec<(String, &str)> = self
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("event-{i}"), e.as_str()))
            .collect();
        layout::live(
            socket,
            html!(
                <h1>"B"</h1>
                <span id="event-count">{self.events.len()}</span>
                @for (id, event) in events { <div id={id}>{event}</div> }
            ),
        )
    }
}
