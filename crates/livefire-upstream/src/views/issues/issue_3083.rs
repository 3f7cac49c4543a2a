//! `Issue3083Live` (`support/issues/issue_3083.ex`): a multiple select whose selection the server
//! changes (a timer, or `send(self(), {:select, …})` through `evalLV`).

use std::time::Duration;

use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};
use serde_json::Value;

use crate::components::options;
use crate::{eval, layout, rand};

/// Messages: `:tick` and `{:select, values}`.
#[derive(Debug, Clone)]
pub enum Msg {
    /// `:tick`: select two random options.
    Tick,
    /// `{:select, values}`.
    Select(Vec<u32>),
}

/// `Issue3083Live`.
#[derive(Debug, Default)]
pub struct Issue3083Live {
    ids: Vec<u32>,
}

/// The stand-in for `send(self(), {:select, [a,b]}); nil`.
fn parse_select(code: &str) -> Option<Vec<u32>> {
    let list = code
        .strip_prefix("send(self(), {:select, [")?
        .strip_suffix("]}); nil")?;
    list.split(',').map(|n| n.trim().parse().ok()).collect()
}

impl LiveView for Issue3083Live {
    type Message = Msg;

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket<Msg>) -> Result {
        if socket.connected() && cx.params().query("auto") != Some("false") {
            socket.every(Duration::from_secs(1), || Msg::Tick);
        }
        Ok(())
    }

    async fn handle_info(&mut self, msg: Msg, _socket: &mut Socket<Msg>) -> Result {
        self.ids = match msg {
            Msg::Tick => rand::take_random(&[1, 2, 3, 4, 5], 2),
            Msg::Select(ids) => ids,
        };
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Msg>) -> Result {
        match event.name() {
            "validate" => Ok(()),
            eval::EVENT => match parse_select(eval::code(&event)) {
                Some(ids) => {
                    let _ = socket.handle().try_send(Msg::Select(ids));
                    eval::reply(socket, Value::Null)
                }
                None => Err(eval::unknown(eval::code(&event))),
            },
            _ => Err(eval::fallback(&event)),
        }
    }

    fn render(&self, socket: &Socket<Msg>) -> Rendered {
        let selected: Vec<String> = self.ids.iter().map(u32::to_string).collect();
        let selected: Vec<&str> = selected.iter().map(String::as_str).collect();
        let list = options(["1", "2", "3", "4", "5"], &selected);
        layout::live(
            socket,
            html!(
                <form id="form" phx-change="validate">
                    <select id="ids" name="ids[]" multiple>{list}</select>
                    <input type="text" placeholder="focus me!">
                </form>
            ),
        )
    }
}
