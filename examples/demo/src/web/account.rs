//! `/account`: only for signed-in users.

use livefire::{LiveView, Mount, Rendered, Result, Socket, html};

use super::auth::USER_TOKEN;
use super::components::flash_group;
use crate::users::{User, Users};

/// The account live view. Mount re-authenticates from the cookie session's token on the dead
/// render and on every (re)join, so a logout elsewhere takes effect on the next mount.
#[derive(Debug)]
pub struct Account {
    users: Users,
    user: Option<User>,
}

impl Account {
    /// An account view backed by `users`.
    pub fn new(users: Users) -> Self {
        Self { users, user: None }
    }
}

impl LiveView for Account {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        socket.set_title("Account");
        self.user = match cx.session::<String>(USER_TOKEN) {
            Some(token) => self
                .users
                .user_by_session_token(&token)
                .await
                .map_err(livefire::Error::app)?,
            None => None,
        };
        if self.user.is_none() {
            socket
                .put_flash("error", "You must log in to access this page.")
                .redirect("/login");
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
