//! `Issue2787Live` (`support/issues/issue_2787.ex`): a select whose options depend on another
//! select; both are cleared on submit.

use livefire::{Event, LiveView, Rendered, Result, Socket, html};
use serde_json::Value;

use crate::components::options;
use crate::{eval, layout};

const GREETINGS: [&str; 3] = ["hello", "hallo", "hei"];
const GOODBYES: [&str; 3] = ["goodbye", "auf wiedersehen", "ha det bra"];

/// `Issue2787Live`.
#[derive(Debug, Default)]
pub struct Issue2787Live {
    values: Value,
    select2_opts: &'static [&'static str],
}

fn select(field: &str, label: &str, opts: &[&str], value: &str) -> Rendered {
    let id = format!("demo_{field}");
    let name = format!("demo[{field}]");
    let list = options(opts.iter().copied(), &[value]);
    html!(
        <div>
            <label for={id.as_str()}>{label}</label>
            <select id={id.as_str()} name={name}><option value="">"Select"</option>{list}</select>
        </div>
    )
}

impl LiveView for Issue2787Live {
    type Message = ();

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "updated" => {
                self.values = event.form_data()?.into_value()["demo"].clone();
                self.select2_opts = match self.values["select1"].as_str() {
                    Some("greetings") => &GREETINGS,
                    Some("goodbyes") => &GOODBYES,
                    _ => &[],
                };
            }
            "submitted" => {
                self.values = Value::Null;
                self.select2_opts = &[];
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let value = |k: &str| self.values[k].as_str().unwrap_or_default().to_owned();
        layout::live(
            socket,
            html!(
                <div class="p-20">
                    <form phx-change="updated" phx-submit="submitted" class="space-y-4">
                        {select("select1", "select1", &["greetings", "goodbyes"], &value("select1"))}
                        {select("select2", "select2", self.select2_opts, &value("select2"))}
                        <div>
                            <label for="demo_dummy">"Some text"</label>
                            <input type="text" name="demo[dummy]" id="demo_dummy" value={value("dummy")}>
                        </div>
                        <button class="text-sm border bg-zinc-200" type="submit">"Submit"</button>
                    </form>
                </div>
            ),
        )
    }
}
