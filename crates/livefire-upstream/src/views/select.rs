//! `Phoenix.LiveViewTest.E2E.SelectLive` (`support/select_live.ex`) at `/select`: four selects,
//! the third validated (`greater_than: 5`) with an error class once used, and timers that change
//! options and values while a select may be open.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use livefire::{Event, LiveView, Rendered, Result, Socket, html};
use serde_json::Value;

use crate::components::options;
use crate::{eval, layout, rand};

/// Messages of the view's timers.
#[derive(Debug, Clone, Copy)]
pub enum Msg {
    /// `:tick`.
    Tick,
    /// `:select2_countdown`.
    Select2Countdown,
    /// `:select4_countdown`.
    Select4Countdown,
}

/// `SelectLive`.
#[derive(Debug)]
pub struct SelectLive {
    tick_timer: Option<Arc<AtomicBool>>,
    select2_timer: bool,
    select2_countdown: u32,
    select4_timer: bool,
    select4_countdown: u32,
    tick: u64,
    /// Submitted values by field, `None` before the first change.
    values: Option<Value>,
    select2_opts: Vec<u32>,
    select4_value: String,
}

impl Default for SelectLive {
    fn default() -> Self {
        Self {
            tick_timer: None,
            select2_timer: false,
            select2_countdown: 5,
            select4_timer: false,
            select4_countdown: 5,
            tick: 0,
            values: None,
            select2_opts: (1..=10).collect(),
            select4_value: "1".to_owned(),
        }
    }
}

fn after(socket: &Socket<Msg>, msg: Msg) {
    let handle = socket.handle();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = handle.send(msg).await;
    });
}

impl SelectLive {
    fn value(&self, field: &str) -> Option<String> {
        match &self.values {
            Some(values) => values.get(field).and_then(Value::as_str).map(str::to_owned),
            None => (field == "select3").then(|| "2".to_owned()),
        }
    }

    /// `used_input?` and the changeset error of select3 (`greater_than: 5`).
    fn select3_error(&self) -> bool {
        let Some(values) = &self.values else {
            return false;
        };
        let used = values.get("select3").is_some() && values.get("_unused_select3").is_none();
        let valid = self
            .value("select3")
            .and_then(|v| v.parse::<i64>().ok())
            .is_none_or(|n| n > 5);
        used && !valid
    }

    fn select(field: &str, opts: Vec<String>, value: Option<String>, error: bool) -> Rendered {
        let id = format!("select_form_{field}");
        let name = format!("select_form[{field}]");
        let selected = value.unwrap_or_default();
        let list = options(opts.iter().map(String::as_str), &[selected.as_str()]);
        html!(<div><select id={id} name={name} class={if error { "has-error" } else { "" }}>{list}</select></div>)
    }
}

impl LiveView for SelectLive {
    type Message = Msg;

    async fn handle_info(&mut self, msg: Msg, socket: &mut Socket<Msg>) -> Result {
        match msg {
            Msg::Tick => self.tick += 1,
            Msg::Select2Countdown if self.select2_countdown == 0 => {
                self.select2_timer = false;
                let next = self.select2_opts.iter().max().copied().unwrap_or(0) + 1;
                self.select2_opts.push(next);
            }
            Msg::Select2Countdown => {
                after(socket, Msg::Select2Countdown);
                self.select2_countdown -= 1;
            }
            Msg::Select4Countdown if self.select4_countdown == 0 => {
                self.select4_timer = false;
                self.select4_value = (rand::u64() % 10 + 1).to_string();
            }
            Msg::Select4Countdown => {
                after(socket, Msg::Select4Countdown);
                self.select4_countdown -= 1;
            }
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Msg>) -> Result {
        match event.name() {
            "validate" => {
                let form = event.form_data()?.into_value();
                self.values = Some(form.get("select_form").cloned().unwrap_or(Value::Null));
            }
            "toggle-tick" => match self.tick_timer.take() {
                Some(stop) => stop.store(true, Ordering::Relaxed),
                None => {
                    let stop = Arc::new(AtomicBool::new(false));
                    let (flag, handle) = (stop.clone(), socket.handle());
                    tokio::spawn(async move {
                        loop {
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            if flag.load(Ordering::Relaxed) || handle.send(Msg::Tick).await.is_err()
                            {
                                break;
                            }
                        }
                    });
                    self.tick_timer = Some(stop);
                }
            },
            "schedule-select2-update" => {
                after(socket, Msg::Select2Countdown);
                self.select2_countdown = 5;
                self.select2_timer = true;
            }
            "schedule-select4-update" => {
                after(socket, Msg::Select4Countdown);
                self.select4_countdown = 5;
                self.select4_timer = true;
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket<Msg>) -> Rendered {
        let numbers =
            |range: std::ops::RangeInclusive<u32>| range.map(|n| n.to_string()).collect::<Vec<_>>();
        let select1 = Self::select(
            "select1",
            vec!["these options".to_owned(), "are fixed".to_owned()],
            self.value("select1"),
            false,
        );
        let select2 = Self::select(
            "select2",
            self.select2_opts.iter().map(u32::to_string).collect(),
            self.value("select2"),
            false,
        );
        let select3 = Self::select(
            "select3",
            numbers(1..=10),
            self.value("select3"),
            self.select3_error(),
        );
        let select4 = Self::select(
            "select4",
            numbers(1..=10),
            Some(self.select4_value.clone()),
            false,
        );
        let ticking = if self.tick_timer.is_some() {
            "Disable"
        } else {
            "Enable"
        };
        layout::live(
            socket,
            html!(
                <style>"
      * { font-size: unset; }
      body { padding: 20px; max-width: 500px; font-family: sans-serif; }
      .has-error { border: 5px solid red; }
      select { border: 1px solid black; }
"</style>
                <h1>"Select Playgroud"</h1>
                <p>"This page contains multiple select inputs to test various behaviors."</p>
                "Tick: " {self.tick}
                <div style="display: flex; flex-direction: column; gap: 8px">
                    <button phx-click="toggle-tick">{ticking} " ticking"</button>
                    @if !self.select2_timer { <button phx-click="schedule-select2-update">"Schedule select2 update"</button> }
                    @if self.select2_timer { <span>"Select 2 will update in " {self.select2_countdown} "s"</span> }
                    @if !self.select4_timer { <button phx-click="schedule-select4-update">"Schedule select4 update"</button> }
                    @if self.select4_timer { <span>"Select 4 will update in " {self.select4_countdown} "s"</span> }
                </div>
                <form phx-change="validate">
                    <h2>"Select 1"</h2> {select1} <hr>
                    <h2>"Select 2"</h2> {select2} <hr>
                    <h2>"Select 3"</h2> {select3} <hr>
                    <h2>"Select 4"</h2> {select4} <hr>
                </form>
            ),
        )
    }
}
