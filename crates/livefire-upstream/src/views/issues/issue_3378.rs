//! `Issue3378.HomeLive` (`support/issues/issue_3378.ex`): a live view nesting a live view that
//! nests one with a stream; the page reconnects without client errors.

use livefire::nested::live_render;
use livefire::stream::Stream;
use livefire::{LiveView, Mount, Rendered, Result, Socket, html};

use crate::layout;

/// `%{id: 1, message: "Hello"}`.
#[derive(Debug)]
pub struct Notification {
    id: u32,
}

/// `Issue3378.NotificationsLive`.
#[derive(Debug)]
pub struct NotificationsLive {
    notifications: Stream<Notification>,
}

impl Default for NotificationsLive {
    fn default() -> Self {
        Self {
            notifications: Stream::new("notifications", |n: &Notification| {
                format!("notifications-{}", n.id)
            }),
        }
    }
}

impl LiveView for NotificationsLive {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, _socket: &mut Socket) -> Result {
        self.notifications.insert(Notification { id: 1 });
        Ok(())
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(
            <div>
                <ul id="notifications_list" phx-update="stream">
                    @for (id, _n) in &self.notifications { <div id={id}><p>"big!"</p></div> }
                </ul>
            </div>
        )
    }
}

/// `Issue3378.AppBarLive`.
#[derive(Debug, Default)]
pub struct AppBarLive;

impl LiveView for AppBarLive {
    type Message = ();

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(<div>{live_render::<NotificationsLive>("notifications")}</div>)
    }
}

/// `Issue3378.HomeLive`.
#[derive(Debug, Default)]
pub struct HomeLive;

impl LiveView for HomeLive {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        layout::live(socket, html!({ live_render::<AppBarLive>("appbar") }))
    }
}
