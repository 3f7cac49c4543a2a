//! `/register`: create an account, validated live, then logged in through a
//! `phx-trigger-action` form: the view writes the login into the session
//! (`Socket::put_session`) and renders [`Socket::session_form`], which the client submits at
//! once to livefire's `/live/session`; that POST applies the writes and redirects to
//! `/account`. (The login view uses the other path, a redirect.)

use livefire::components::{flash_group, input};
use livefire::form::FormState;
use livefire::{Event, LiveView, Mount, Rendered, Result, Socket, html, link};
use serde::Deserialize;
use serde_json::json;

use super::auth::log_in;
use crate::users::{Users, validate_email, validate_password};

/// The registration live view.
#[derive(Debug)]
pub struct Register {
    users: Users,
    /// The form's values and its errors, shown once a field is used.
    form: FormState,
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
            form: FormState::new("register-form"),
            message: None,
            registered: false,
        }
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
                self.form.update(event.form_data()?);
                let NewAccount { email, password } = self.form.deserialize()?;
                self.message = None;
                // The messages of `RegisterError` follow the field's name.
                if let Err(err) = validate_email(&email) {
                    self.form.add_error("email", format!("Email {err}"));
                }
                if let Err(err) = validate_password(&password) {
                    self.form.add_error("password", format!("Password {err}"));
                }
            }
            "register" => {
                self.form.update(event.form_data()?);
                let NewAccount { email, password } = self.form.deserialize()?;
                if self.registered {
                    return Ok(());
                }
                let peer = socket.client_addr();
                match self.users.register_from(&email, &password, peer).await {
                    Ok(user) => {
                        // No redirect: the session write waits under a ticket that the
                        // `session_form` rendered below carries to /live/session. The flash
                        // travels with the ticket and is shown on /account.
                        log_in(&self.users, socket, &user, false).await?;
                        socket.put_flash(
                            "info",
                            json!({
                                "title": "Account created",
                                "subtitle": format!("Welcome, {}!", user.email),
                            }),
                        );
                        self.registered = true;
                    }
                    Err(err) => match err.field() {
                        Some("email") => {
                            self.form.add_error("email", format!("Email {err}"));
                        }
                        Some(_) => {
                            self.form.add_error("password", format!("Password {err}"));
                        }
                        None => self.message = Some(err.to_string()),
                    },
                }
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    fn render(&self, socket: &Socket) -> Rendered {
        html! {
            <main id="register">
                {flash_group(socket.flash())}
                <h1>"Register"</h1>
                @if let Some(message) = &self.message {
                    <p id="register-error" class="error" role="alert">{message.as_str()}</p>
                }
                <form id={self.form.id()} phx-change="validate" phx-submit="register">
                    {input(&self.form, "email").id("email").kind("email").label("Email")
                        .attr("autocomplete", "username").render()}
                    // The password is never rendered back, so the client must not patch this
                    // input: a diff sent while another field has focus would otherwise clear
                    // what the user typed.
                    {input(&self.form, "password").id("password").kind("password")
                        .label("Password (at least 12 characters)").value("")
                        .attr("autocomplete", "new-password").attr("phx-update", "ignore").render()}
                    <button id="register-submit" type="submit" phx-disable-with="Creating account...">"Create account"</button>
                </form>
                <p>"Already registered? " {link::navigate("/login").render("Log in")}</p>
                {socket.session_form("/account")}
            </main>
        }
    }
}
