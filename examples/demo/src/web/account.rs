//! `/account`: only for signed-in users.

use livefire::{LiveView, Mount, Rendered, Result, Socket, html};

use super::auth::CurrentUser;
use crate::users::User;
use livefire::components::flash_group;

/// The account live view. Its live session's `on_mount` hook
/// ([`require_user`](super::auth::require_user)) looks the login up on the dead render and on
/// every (re)join and assigns the [`CurrentUser`], or redirects to `/login`, so the view itself
/// never sees an anonymous visitor.
#[derive(Debug, Default)]
pub struct Account {
    user: Option<User>,
}

impl Account {
    /// An account view (the user comes from the `on_mount` hook).
    pub fn new() -> Self {
        Self::default()
    }
}

impl LiveView for Account {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        socket.set_title("Account");
        self.user = cx
            .get::<CurrentUser>()
            .and_then(|current| current.0.clone());
        if self.user.is_none() {
            // Only reachable if the route were moved out of the guarded live session.
            return Err(livefire::Error::app(
                "the account page needs the require_user on_mount hook",
            ));
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        html! {
            <main id="account">
                {flash_group(socket.flash())}
                <h1>"Your account"</h1>
                @if let Some(user) = &self.user {
                    <p id="signed-in">"Signed in as " {user.email.as_str()}</p>
                }
            </main>
        }
    }
}
