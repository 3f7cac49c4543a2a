//! `Issue4066Live` (`support/issues/issue_4066.ex`, `?delay=…`): a live component's colocated
//! hook pushes an event to its element after a delay; when the component was removed in the
//! meantime the client drops the event instead of sending it to the view. The hook
//! (`Issue4066Live.LiveComponent.MyHook`) is in the colocated stand-in, `assets/colocated.js`.
//! (Upstream's own `live.html` layout is overridden by the live session's, as in Phoenix.)

use std::time::{SystemTime, UNIX_EPOCH};

use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};

use crate::{eval, layout};

/// `Issue4066Live`.
#[derive(Debug, Default)]
pub struct Issue4066Live {
    delay: String,
    render_lc: bool,
    /// `{DateTime.utc_now()}`: an expression without assigns, which HEEx renders once (the
    /// spec checks that it does not change, i.e. that the view did not remount).
    render_time: String,
}

/// `DateTime.utc_now()` as `to_string/1` writes it (`2025-01-02 03:04:05.678901Z`).
fn utc_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_micros()
    )
}

impl LiveView for Issue4066Live {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        self.delay = cx.params().query("delay").unwrap_or("3000").to_owned();
        self.render_lc = true;
        self.render_time = utc_now();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        match event.name() {
            "toggle" => self.render_lc = !self.render_lc,
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                <p id="render-time">{self.render_time.as_str()}</p>
                <button phx-click="toggle">"Toggle"</button>
                @if self.render_lc {
                    {live_component::<LiveComp>("foo", self.delay.clone())}
                }
            ),
        )
    }
}

/// `Issue4066Live.LiveComponent`: an input with the colocated hook.
#[derive(Debug)]
pub struct LiveComp {
    delay: String,
}

impl LiveComponent for LiveComp {
    /// `delay`.
    type Assigns = String;

    fn new(delay: &String) -> Self {
        Self {
            delay: delay.clone(),
        }
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "do-something" => Ok(()),
            other => Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
    }

    fn render(&self, myself: Myself) -> Rendered {
        // The colocated `<script>` renders nothing; `.MyHook` is qualified by the module.
        html!(
            <input phx-hook="Phoenix.LiveViewTest.E2E.Issue4066Live.LiveComponent.MyHook"
                data-delay={self.delay.as_str()} target={myself} id="foo">
        )
    }
}
