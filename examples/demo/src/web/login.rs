//! `/login`: the live login form of the seed article, made safe.

use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};
use serde::Deserialize;

use super::auth::{USER_TOKEN, log_in};
use super::components::{field, flash_group};
use crate::users::{AuthError, BUSY_MESSAGE, Users, validate_email};

/// The message for every failed login (unknown email, wrong password, throttled: R10).
pub const LOGIN_FAILED: &str = "Unable to validate your account.";

/// The login live view.
#[derive(Debug)]
pub struct Login {
    users: Users,
    email: String,
    email_error: Option<String>,
    password_error: Option<String>,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

impl Login {
    /// A login view backed by `users`.
    pub fn new(users: Users) -> Self {
        Self {
            users,
            email: String::new(),
            email_error: None,
            password_error: None,
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
                let form = event.form_data()?;
                let Credentials { email, password } = form.deserialize()?;
                self.email = email;
                self.message = None;
                self.email_error = (form.used(&["email"]) && validate_email(&self.email).is_err())
                    .then(|| "Please enter a valid email address.".to_owned());
                self.password_error = (form.used(&["password"]) && password.is_empty())
                    .then(|| "Please enter your password.".to_owned());
            }
            "login" => {
                let Credentials { email, password } = event.form()?;
                self.email.clone_from(&email);
                // The connection's address (livefire::serve records it; behind a configured
                // proxy, the forwarded one): failures count against it, never against everyone.
                let peer = socket.client_addr();
                match self.users.authenticate_from(&email, &password, peer).await {
                    Ok(user) => {
                        // The session write travels with the redirect: livefire stores it under
                        // a single-use ticket that the next page load redeems (renewing the
                        // session) before /account is rendered.
                        log_in(&self.users, socket, &user).await?;
                        socket
                            .put_flash("info", "Welcome back!")
                            .redirect("/account");
                    }
                    Err(AuthError::Invalid) => {
                        self.email_error = None;
                        self.password_error = None;
                        self.message = Some(LOGIN_FAILED.to_owned());
                    }
                    Err(AuthError::Busy) => {
                        self.email_error = None;
                        self.password_error = None;
                        self.message = Some(BUSY_MESSAGE.to_owned());
                    }
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
                <form id="login-form" phx-change="validate" phx-submit="login">
                    {field(
                        "email",
                        "Email",
                        html!(<input id="email" name="email" type="email" autocomplete="username" value={self.email.as_str()}>),
                        self.email_error.as_deref(),
                    )}
                    {field(
                        "password",
                        "Password",
                        // The password is never rendered back, so the client must not patch this input: a diff
                        // sent while another field has focus would otherwise clear what the user typed.
                        html!(<input id="password" name="password" type="password" autocomplete="current-password" phx-update="ignore">),
                        self.password_error.as_deref(),
                    )}
                    <button id="login-submit" type="submit" phx-disable-with="Logging in...">"Log in"</button>
                </form>
                <p>"No account yet? " <a href="/register" data-phx-link="redirect" data-phx-link-state="push">"Register"</a></p>
            </main>
        }
    }
}
