//! `/register`: create an account, validated live, then logged in through a
//! `phx-trigger-action` form: the view writes the login into the session
//! (`Socket::put_session`) and renders [`Socket::session_form`], which the client submits at
//! once to livefire's `/live/session`; that POST applies the writes and redirects to
//! `/account`. (The login view uses the other path, a redirect.)

use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html};
use serde::Deserialize;
use serde_json::json;

use super::auth::log_in;
use super::components::{field, flash_group};
use crate::users::{RegisterError, Users, validate_email, validate_password};

/// The registration live view.
#[derive(Debug)]
pub struct Register {
    users: Users,
    email: String,
    email_error: Option<String>,
    password_error: Option<String>,
    message: Option<String>,
    /// Set once the account exists and the login waits for the browser's POST.
    registered: bool,
}

#[derive(Debug, Deserialize)]
struct NewAccount {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

impl Register {
    /// A registration view backed by `users`.
    pub fn new(users: Users) -> Self {
        Self {
            users,
            email: String::new(),
            email_error: None,
            password_error: None,
            message: None,
            registered: false,
        }
    }
}

fn field_error(result: std::result::Result<(), RegisterError>, used: bool) -> Option<String> {
    match result {
        Err(err) if used => Some(err.to_string()),
        _ => None,
    }
}

impl LiveView for Register {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
        socket.set_title("Register");
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
        match event.name() {
            "validate" => {
                let form = event.form_data()?;
                let NewAccount { email, password } = form.deserialize()?;
                self.email = email;
                self.message = None;
                self.email_error = field_error(
                    validate_email(&self.email).map(|_| ()),
                    form.used(&["email"]),
                );
                self.password_error =
                    field_error(validate_password(&password), form.used(&["password"]));
            }
            "register" => {
                let NewAccount { email, password } = event.form()?;
                self.email.clone_from(&email);
                if self.registered {
                    return Ok(());
                }
                let peer = socket.client_addr();
                match self.users.register_from(&email, &password, peer).await {
                    Ok(user) => {
                        // No redirect: the session write waits under a ticket that the
                        // `session_form` rendered below carries to /live/session. The flash
                        // travels with the ticket and is shown on /account.
                        log_in(&self.users, socket, &user).await?;
                        socket.put_flash(
                            "info",
                            json!({
                                "title": "Account created",
                                "subtitle": format!("Welcome, {}!", user.email),
                            }),
                        );
                        self.registered = true;
                    }
                    Err(err) => {
                        self.email_error = None;
                        self.password_error = None;
                        match err.field() {
                            Some("email") => self.email_error = Some(err.to_string()),
                            Some(_) => self.password_error = Some(err.to_string()),
                            None => self.message = Some(err.to_string()),
                        }
                    }
                }
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        // The messages of `RegisterError` follow the field's name.
        let email_error = self.email_error.as_ref().map(|err| format!("Email {err}"));
        let password_error = self
            .password_error
            .as_ref()
            .map(|err| format!("Password {err}"));
        html! {
            <main id="register">
                {flash_group(socket.flash())}
                <h1>"Register"</h1>
                @if let Some(message) = &self.message {
                    <p id="register-error" class="error" role="alert">{message.as_str()}</p>
                }
                <form id="register-form" phx-change="validate" phx-submit="register">
                    {field(
                        "email",
                        "Email",
                        html!(<input id="email" name="email" type="email" autocomplete="username" value={self.email.as_str()}>),
                        email_error.as_deref(),
                    )}
                    {field(
                        "password",
                        "Password (at least 12 characters)",
                        // The password is never rendered back, so the client must not patch this input: a diff
                        // sent while another field has focus would otherwise clear what the user typed.
                        html!(<input id="password" name="password" type="password" autocomplete="new-password" phx-update="ignore">),
                        password_error.as_deref(),
                    )}
                    <button id="register-submit" type="submit" phx-disable-with="Creating account...">"Create account"</button>
                </form>
                <p>"Already registered? " <a href="/login" data-phx-link="redirect" data-phx-link-state="push">"Log in"</a></p>
                {socket.session_form("/account")}
            </main>
        }
    }
}
