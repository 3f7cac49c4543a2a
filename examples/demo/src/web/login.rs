//! `/login`: the live login form of the seed article, made safe.

use livefire::components::{flash_group, input};
use livefire::form::FormState;
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html, link};
use serde::Deserialize;

use super::auth::{USER_TOKEN, log_in};
use crate::users::{AuthError, BUSY_MESSAGE, Users, validate_email};

/// The message for every failed login (unknown email, wrong password, throttled: R10).
pub const LOGIN_FAILED: &str = "Unable to validate your account.";

/// The login live view.
#[derive(Debug)]
pub struct Login {
    users: Users,
    /// The form's values and its errors, shown once a field is used.
    form: FormState,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    /// The "Remember me" checkbox: `"true"` when checked.
    #[serde(default)]
    remember_me: String,
}

impl Login {
    /// A login view backed by `users`.
    pub fn new(users: Users) -> Self {
        Self {
            users,
            form: FormState::new("login-form"),
            message: None,
        }
    }
}

impl LiveView for Login {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
        socket.set_title("Log in");
        // Already signed in: nothing to do here.
        if let Some(token) = cx.session::<String>(USER_TOKEN)
            && let Ok(Some(_)) = self.users.user_by_session_token(&token).await
        {
            socket.redirect("/account");
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {
                self.form.update(event.form_data()?);
                let Credentials {
                    email, password, ..
                } = self.form.deserialize()?;
                self.message = None;
                if validate_email(&email).is_err() {
                    self.form
                        .add_error("email", "Please enter a valid email address.");
                }
                if password.is_empty() {
                    self.form
                        .add_error("password", "Please enter your password.");
                }
            }
            "login" => {
                // The submit's payload: no field-level errors, only the one message (R10).
                self.form.update(event.form_data()?);
                let Credentials {
                    email,
                    password,
                    remember_me,
                } = self.form.deserialize()?;
                let remember = remember_me == "true";
                // The connection's address (livefire::serve records it; behind a configured
                // proxy, the forwarded one): failures count against it, never against everyone.
                let peer = socket.client_addr();
                match self.users.authenticate_from(&email, &password, peer).await {
                    Ok(user) => {
                        // The session write travels with the redirect: livefire stores it under
                        // a single-use ticket that the next page load redeems (renewing the
                        // session) before /account is rendered.
                        log_in(&self.users, socket, &user, remember).await?;
                        socket
                            .put_flash("info", "Welcome back!")
                            .redirect("/account");
                    }
                    Err(AuthError::Invalid) => self.message = Some(LOGIN_FAILED.to_owned()),
                    Err(AuthError::Busy) => self.message = Some(BUSY_MESSAGE.to_owned()),
                    Err(err @ AuthError::Unavailable(_)) => return Err(livefire::Error::app(err)),
                }
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        html! {
            <main id="login">
                {flash_group(socket.flash())}
                <h1>"Log in"</h1>
                @if let Some(message) = &self.message {
                    <p id="login-error" class="error" role="alert">{message.as_str()}</p>
                }
                <form id={self.form.id()} phx-change="validate" phx-submit="login">
                    {input(&self.form, "email").id("email").kind("email").label("Email")
                        .attr("autocomplete", "username").render()}
                    // The password is never rendered back, so the client must not patch this
                    // input: a diff sent while another field has focus would otherwise clear
                    // what the user typed.
                    {input(&self.form, "password").id("password").kind("password").label("Password")
                        .value("").attr("autocomplete", "current-password").attr("phx-update", "ignore").render()}
                    {input(&self.form, "remember_me").id("remember-me").kind("checkbox")
                        .label("Keep me logged in for 60 days").render()}
                    <button id="login-submit" type="submit" phx-disable-with="Logging in...">"Log in"</button>
                </form>
                <p>"No account yet? " {link::navigate("/register").render("Register")}</p>
            </main>
        }
    }
}
