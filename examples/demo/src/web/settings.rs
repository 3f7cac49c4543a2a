//! `/settings`: change the password (signed-in users only, in the guarded live session).
//!
//! The current password is required and checked as a login is (throttled the same way); a
//! wrong one is answered live and changes nothing. On success the new password is hashed in
//! the password pool, **every** session token of the user is replaced by one new token
//! (docs/threat-model.md case 69), the live sockets of the other logins are closed on every
//! node ([`LiveSockets::disconnect`]) and this browser gets the new token through a
//! session-write ticket: `renew_session().put_session(USER_TOKEN, token)` and a redirect. A
//! "remember me" login stays remembered (the new token is a remembered one and `renew` keeps
//! the persistent cookie).

use livefire::components::{flash_group, input};
use livefire::form::FormState;
use livefire::sockets::LiveSockets;
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html, link};
use serde::Deserialize;

use super::auth::{CurrentUser, USER_TOKEN, live_socket_id};
use crate::users::tokens::session_token_id;
use crate::users::{ChangePasswordError, User, Users};

/// The flash after a successful change.
pub const PASSWORD_UPDATED: &str = "Password updated successfully.";

/// The settings live view.
#[derive(Debug)]
pub struct Settings {
    users: Users,
    sockets: LiveSockets,
    user: Option<User>,
    /// This browser's login token (from the session at mount).
    token: Option<String>,
    form: FormState,
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
}

impl Settings {
    /// A settings view changing passwords in `users` and closing revoked logins' sockets in
    /// `sockets`.
    pub fn new(users: Users, sockets: LiveSockets) -> Self {
        Self {
            users,
            sockets,
            user: None,
            token: None,
            form: FormState::new("password-form"),
        }
    }

    async fn change(&mut self, socket: &mut Socket) -> Result {
        let (Some(user), Some(token)) = (self.user.clone(), self.token.clone()) else {
            return Err(livefire::Error::app("no user"));
        };
        let PasswordForm {
            current_password,
            password,
        } = self.form.deserialize()?;
        let peer = socket.client_addr();
        match self
            .users
            .change_password(&user, &current_password, &password, peer)
            .await
        {
            Ok(()) => {}
            Err(ChangePasswordError::WrongPassword) => {
                self.form
                    .add_error("current_password", "is not your current password");
                return Ok(());
            }
            Err(err @ ChangePasswordError::Invalid(_)) => {
                self.form.add_error("password", err.to_string());
                return Ok(());
            }
            Err(err @ ChangePasswordError::Busy) => {
                self.form.add_error("current_password", err.to_string());
                return Ok(());
            }
            Err(err @ ChangePasswordError::Store(_)) => return Err(livefire::Error::app(err)),
        }
        let remember = self
            .users
            .is_remembered_session_token(&token)
            .await
            .map_err(livefire::Error::app)?;
        let (new_token, revoked) = self
            .users
            .replace_session_tokens(user.id, remember)
            .await
            .map_err(livefire::Error::app)?;
        // Close the other logins' sockets on every node. This browser's own socket is left to
        // the redirect below (closing it first would lose the redirect and its ticket).
        let own = session_token_id(&token);
        for id in revoked.iter().filter(|id| Some(*id) != own.as_ref()) {
            self.sockets.disconnect(&live_socket_id_from_token_id(id));
        }
        socket
            .renew_session()
            .put_session(USER_TOKEN, new_token)
            .put_flash("info", PASSWORD_UPDATED)
            .redirect("/settings");
        Ok(())
    }
}

/// The `live_socket_id` of the login whose token has the [id](session_token_id) `id`.
fn live_socket_id_from_token_id(id: &str) -> String {
    let template = live_socket_id("");
    format!("{template}{id}")
}

impl LiveView for Settings {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        socket.set_title("Settings");
        self.user = cx
            .get::<CurrentUser>()
            .and_then(|current| current.0.clone());
        self.token = cx.session::<String>(USER_TOKEN);
        if self.user.is_none() || self.token.is_none() {
            return Err(livefire::Error::app(
                "the settings page needs the require_user on_mount hook",
            ));
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {
                self.form.update(event.form_data()?);
                let PasswordForm { password, .. } = self.form.deserialize()?;
                if let Err(err) = crate::users::validate_password(&password) {
                    self.form.add_error("password", err.to_string());
                }
            }
            "save" => {
                self.form.update(event.form_data()?);
                self.change(socket).await?;
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        html! {
            <main id="settings">
                {flash_group(socket.flash())}
                <h1>"Settings"</h1>
                @if let Some(user) = &self.user {
                    <p id="settings-email">"Signed in as " {user.email.as_str()}</p>
                }
                <h2>"Change password"</h2>
                <form id={self.form.id()} phx-change="validate" phx-submit="save">
                    {input(&self.form, "current_password").id("current-password").kind("password")
                        .label("Current password").value("").attr("autocomplete", "current-password")
                        .attr("phx-update", "ignore").render()}
                    {input(&self.form, "password").id("new-password").kind("password")
                        .label("New password").value("").attr("autocomplete", "new-password")
                        .attr("phx-update", "ignore").render()}
                    <button id="change-password" type="submit" phx-disable-with="Saving...">"Change password"</button>
                </form>
                <p>{link::navigate("/account").render("Back to your account")}</p>
            </main>
        }
    }
}
