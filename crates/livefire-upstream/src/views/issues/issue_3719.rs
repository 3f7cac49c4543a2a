//! `Issue3719Live` (`support/issues/issue_3719.ex`): `_target` of a nested input name is decoded
//! into a path (`["foo", "bar"]`).

use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `Issue3719Live`.
#[derive(Debug, Default)]
pub struct Issue3719Live {
    target: Option<Vec<String>>,
}

impl LiveView for Issue3719Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "inc" => self.target = event.form_data()?.target().map(<[String]>::to_vec),
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let target = match &self.target {
            Some(path) => {
                let items: Vec<String> = path.iter().map(|p| format!("{p:?}")).collect();
                format!("[{}]", items.join(", "))
            }
            None => "nil".to_owned(),
        };
        layout::live(
            socket,
            html!(
                <form phx-change="inc">
                    <input id="a" type="text" name="foo">
                    <input id="b" type="text" name="foo[bar]">
                </form>
                <span id="target">{target}</span>
            ),
        )
    }
}
