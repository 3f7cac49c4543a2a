//! `Issue4102Live` (`support/issues/issue_4102.ex`): `phx-debounce` on an input that belongs to a
//! form through its `form` attribute.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};
use serde::Deserialize;

use crate::{eval, layout};

/// `Issue4102Live`.
#[derive(Debug)]
pub struct Issue4102Live {
    name: String,
}

impl Default for Issue4102Live {
    fn default() -> Self {
        Self {
            name: "Test".to_owned(),
        }
    }
}

#[derive(Deserialize)]
struct Name {
    name: String,
}

impl LiveView for Issue4102Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "validate" | "submit" => self.name = event.form::<Name>()?.name,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                <div>
                    <input form="my-form" phx-debounce="500" name="name" id="name" value={self.name.as_str()} type="text">
                    <form id="my-form" phx-change="validate" phx-submit="submit">
                        <button type="submit" phx-disable-with="Submitting...">"Submit"</button>
                    </form>
                </div>
            ),
        )
    }
}
