//! `Issue3200.PanelLive` (`support/issues/issue_3200.ex`) at `/issues/3200/messages` and
//! `/issues/3200/settings` (the live actions `:messages_tab` and `:settings_tab`, told apart by
//! the path): a form in a live component whose `phx-target` is a selector is recovered into
//! that component after a reconnect.

use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
use livefire::{Event, LiveView, Params, Rendered, Result, Socket, html};
use serde::Deserialize;

use crate::js::Js;
use crate::{eval, layout};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Action {
    #[default]
    MessagesTab,
    SettingsTab,
}

/// `PanelLive`.
#[derive(Debug, Default)]
pub struct PanelLive {
    live_action: Action,
}

fn tab_button(text: &str, route: &str) -> Rendered {
    html!(<button type="button" phx-click={Js::new().patch(route)}>{text}</button>)
}

impl LiveView for PanelLive {
    type Message = ();

    async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
        self.live_action = if params.path().ends_with("/settings") {
            Action::SettingsTab
        } else {
            Action::MessagesTab
        };
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
        Err(eval::fallback(&event))
    }

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(
            socket,
            html!(
                <div>
                    <div>
                        <div>
                            {tab_button("Messages tab", "/issues/3200/messages")}
                            {tab_button("Settings tab", "/issues/3200/settings")}
                        </div>
                        <aside>
                            <div>
                                @if self.live_action == Action::MessagesTab {
                                    <div>{live_component::<MessagesTab>("messages_tab", ())}</div>
                                }
                                @if self.live_action == Action::SettingsTab {
                                    <div>{live_component::<SettingsTab>("settings_tab", ())}</div>
                                }
                            </div>
                        </aside>
                    </div>
                </div>
            ),
        )
    }
}

/// `SettingsTab`.
#[derive(Debug)]
pub struct SettingsTab;

impl LiveComponent for SettingsTab {
    type Assigns = ();

    fn new(_: &()) -> Self {
        Self
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(<div>"Settings"</div>)
    }
}

/// `MessagesTab`: `update/2` starts with an empty value.
#[derive(Debug)]
pub struct MessagesTab {
    value: String,
}

#[derive(Deserialize)]
struct Change {
    new_message: String,
}

impl LiveComponent for MessagesTab {
    type Assigns = ();

    fn new(_: &()) -> Self {
        Self {
            value: String::new(),
        }
    }

    async fn handle_event(&mut self, event: Event, _socket: &mut ComponentSocket<'_>) -> Result {
        match event.name() {
            "add_message_change" => {
                let Change { new_message } = event.form()?;
                self.value = new_message;
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(
            <div>
                {live_component::<MessageComponent>("some_unique_message_id", "Example message".to_owned())}
                <form id="full_add_message_form" phx-change="add_message_change" phx-submit="add_message" phx-target="#full_add_message_form">
                    <div phx-feedback-for="new_message">
                        <input name="new_message" id="new_message_input" value={self.value.as_str()}>
                    </div>
                </form>
            </div>
        )
    }
}

/// `MessageComponent`.
#[derive(Debug)]
pub struct MessageComponent {
    message: String,
}

impl LiveComponent for MessageComponent {
    type Assigns = String;

    fn new(message: &String) -> Self {
        Self {
            message: message.clone(),
        }
    }

    fn render(&self, _myself: Myself) -> Rendered {
        html!(<div>{self.message.as_str()}</div>)
    }
}
