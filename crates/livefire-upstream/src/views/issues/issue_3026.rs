//! `Issue3026Live` (`support/issues/issue_3026.ex`): a live component that is removed and
//! re-added quickly (racing the client's destroy) is rendered again in full.

use std::time::Duration;

use livefire::component::{LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};
use serde::Deserialize;

use crate::components::options_for_select;
use crate::{eval, layout};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Connecting,
    Loading,
    Connected,
    Loaded,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Loading => "loading",
            Status::Connected => "connected",
            Status::Loaded => "loaded",
        }
    }

    /// `String.to_existing_atom/1`.
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "connecting" => Status::Connecting,
            "loading" => Status::Loading,
            "connected" => Status::Connected,
            "loaded" => Status::Loaded,
            _ => return None,
        })
    }
}

#[derive(Deserialize)]
struct ChangeStatus {
    status: String,
}

/// `params["name"]`, `params["email"]`.
#[derive(Deserialize)]
struct Validate {
    name: Option<String>,
    email: Option<String>,
}

/// `:load`.
#[derive(Debug)]
pub struct Load;

/// `Issue3026Live`.
#[derive(Debug)]
pub struct Issue3026Live {
    status: Status,
    name: String,
    email: String,
}

impl Default for Issue3026Live {
    fn default() -> Self {
        Self {
            status: Status::Connecting,
            name: String::new(),
            email: String::new(),
        }
    }
}

/// The assigns of `Issue3026Live.Form`.
#[derive(Debug, Clone, PartialEq)]
pub struct FormAssigns {
    name: String,
    email: String,
}

/// `Issue3026Live.Form`: a form in a live component (its events go to the view).
#[derive(Debug)]
pub struct Form(FormAssigns);

impl LiveComponent for Form {
    type Assigns = FormAssigns;

    fn new(assigns: &FormAssigns) -> Self {
        Self(assigns.clone())
    }

    fn render(&self, _myself: Myself) -> Rendered {
        let FormAssigns { name, email } = &self.0;
        html!(
            <div>
                "Example form"
                <form phx-change="validate" phx-submit="submit">
                    <input label="Name" name="name" type="text" value={name.as_str()}>
                    <input label="Email" name="email" type="text" value={email.as_str()}>
                    <button type="submit">"Submit"</button>
                </form>
            </div>
        )
    }
}

fn status(status: Status) -> Rendered {
    html!(<div class="p-8 bg-gray-200 mb-4">{status.as_str()}</div>)
}

impl LiveView for Issue3026Live {
    type Message = Load;

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<Load>) -> Result {
        if socket.connected() {
            let _ = socket.handle().try_send(Load);
            self.status = Status::Loading;
        } else {
            self.status = Status::Connecting;
        }
        Ok(())
    }

    async fn handle_info(&mut self, _: Load, _socket: &mut Socket<Load>) -> Result {
        // `Process.sleep(200)`
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.status = Status::Loaded;
        self.name = "John".to_owned();
        self.email = String::new();
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Load>) -> Result {
        match event.name() {
            "change_status" => {
                let ChangeStatus { status } = event.form()?;
                self.status = Status::parse(&status)
                    .ok_or_else(|| livefire::Error::app(format!("unknown status {status:?}")))?;
            }
            "validate" => {
                let Validate { name, email } = event.form()?;
                self.name = name.unwrap_or_default();
                self.email = email.unwrap_or_default();
            }
            "submit" => {
                let _ = socket.handle().try_send(Load);
                self.status = Status::Loading;
            }
            _ => return Err(eval::fallback(&event)),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket<Load>) -> Rendered {
        let options = [
            ("Connecting", "connecting"),
            ("Loading", "loading"),
            ("Connected", "connected"),
            ("Loaded", "loaded"),
        ];
        let form = FormAssigns {
            name: self.name.clone(),
            email: self.email.clone(),
        };
        layout::live(
            socket,
            html!(
                <form phx-change="change_status">
                    <select name="status" type="select">
                        {options_for_select(options, &[self.status.as_str()])}
                    </select>
                </form>
                @if self.status == Status::Loaded {
                    {live_component::<Form>("my-form", form)}
                } else {
                    {status(self.status)}
                }
            ),
        )
    }
}
