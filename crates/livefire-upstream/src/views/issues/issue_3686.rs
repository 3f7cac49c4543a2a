//! `Issue3686.ALive`, `BLive`, `CLive` (`support/issues/issue_3686.ex`): the flash survives a
//! `push_navigate`, a `redirect`, and a `push_navigate` across live sessions (C is in `:other`,
//! so the client falls back to a full page load carrying the flash).

use livefire::{Event, LiveView, Rendered, Result, Socket, html};

use crate::components::inspect_flash;
use crate::{eval, layout};

/// How a page leaves for the next one.
#[derive(Debug, Clone, Copy, Default)]
enum Go {
    #[default]
    Navigate,
    Redirect,
}

/// One of the three pages.
#[derive(Debug, Default)]
pub struct Page {
    name: &'static str,
    next: &'static str,
    to: &'static str,
    go: Go,
}

impl Page {
    /// `ALive` at `/issues/3686/a`.
    pub fn a() -> Self {
        Self {
            name: "A",
            next: "B",
            to: "/issues/3686/b",
            go: Go::Navigate,
        }
    }

    /// `BLive` at `/issues/3686/b`.
    pub fn b() -> Self {
        Self {
            name: "B",
            next: "C",
            to: "/issues/3686/c",
            go: Go::Redirect,
        }
    }

    /// `CLive` at `/issues/3686/c` (live session `:other`).
    pub fn c() -> Self {
        Self {
            name: "C",
            next: "A",
            to: "/issues/3686/a",
            go: Go::Navigate,
        }
    }
}

impl LiveView for Page {
    type Message = ();

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "go" => {
                socket.put_flash("info", format!("Flash from {}", self.name));
                match self.go {
                    Go::Navigate => socket.push_navigate(self.to),
                    Go::Redirect => socket.redirect(self.to),
                }
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        let flash = inspect_flash(socket.flash());
        layout::live(
            socket,
            html!(
                <h1>{self.name}</h1>
                <button phx-click="go">"To " {self.next}</button>
                <div id="flash">{flash}</div>
            ),
        )
    }
}
