//! `Issue3448Live` (`support/issues/issue_3448.ex`): focus moves to a search input while a
//! checkbox change patches the locked form.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};
use serde_json::{Value, json};

use crate::js::Js;
use crate::{eval, layout};

/// `Issue3448Live`.
#[derive(Debug, Default)]
pub struct Issue3448Live {
    a: Vec<String>,
}

impl LiveView for Issue3448Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {
                let form = event.form_data()?.into_value();
                self.a = form["a"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
            }
            "search" => {}
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let click = Js::new()
            .dispatch("input", Value::Null)
            .op("focus", json!({"to": "#search"}));
        let checked = |v: &str| self.a.iter().any(|a| a == v);
        let values = self.a.iter().map(String::as_str);
        layout::live(
            socket,
            html!(
                <form id="my_form" phx-change="validate" class="flex flex-col gap-2">
                    <div>
                        @for value in values { <div><div>{value}</div></div> }
                        <input id="search" type="search" name="value" phx-change="search">
                    </div>
                    <div class="flex gap-2">
                        <input type="checkbox" name="a[]" value="settings" checked={checked("settings")} phx-click={click.clone()}>
                        <input type="checkbox" name="a[]" value="content" checked={checked("content")} phx-click={click}>
                    </div>
                </form>
            ),
        )
    }
}
