//! Core components: the function components most pages need, modelled on the
//! `core_components.ex` that `mix phx.new` generates.
//!
//! | Component | What it renders |
//! |---|---|
//! | [`flash_group`] / [`FlashGroup`] | The flash messages (a click clears one, through `lv:clear-flash`) and the client's "disconnected" / "reconnecting" notices, shown and hidden by `phx-disconnected` / `phx-connected` [JS commands](crate::js). |
//! | [`live_title`] / [`LiveTitle`] | `<title>` with the `data-prefix` / `data-suffix` the client keeps when a view changes the title. |
//! | [`input`] / [`Input`] | A labelled input of a [`FormState`](crate::form::FormState), with its errors shown once the user has used the field. |
//!
//! Each returns a [`Rendered`](crate::Rendered), so it goes into a template as a block:
//! `{flash_group(socket.flash())}`. Class names follow one small vocabulary (`flash`,
//! `flash-info`, `field`, `error`, …) for the app's stylesheet to style.
//!
//! ```
//! use livefire::components::{flash_group, input};
//! use livefire::form::{Form, FormState};
//! use livefire::{html, LiveView, Rendered, Socket};
//!
//! struct Signup { form: FormState }
//!
//! impl LiveView for Signup {
//!     type Message = ();
//!     fn render(&self, socket: &Socket) -> Rendered {
//!         html! {
//!             {flash_group(socket.flash())}
//!             <form id={self.form.id()} phx-change="validate" phx-submit="save">
//!                 {input(&self.form, "email").label("Email").kind("email").render()}
//!                 <button>"Sign up"</button>
//!             </form>
//!         }
//!     }
//! }
//!
//! let mut socket = Socket::disconnected();
//! socket.put_flash("info", "Welcome!");
//! let mut form = FormState::new("signup").namespace("user");
//! form.update(Form::parse("user[email]=ann").unwrap());
//! form.add_error("email", "must have an @");
//! let html = Signup { form }.render(&socket).to_html();
//! assert!(html.contains(r#"<div id="flash-info" class="flash flash-info" role="alert""#));
//! assert!(html.contains(r#"<input type="email" name="user[email]" id="signup_user_email" value="ann""#));
//! assert!(html.contains(r#"<p class="error" id="signup_user_email-error">must have an @</p>"#));
//! ```

mod flash;
mod input;
mod title;

pub use self::flash::{FlashGroup, flash_group, flash_message};
pub use self::input::{Input, input};
pub use self::title::{LiveTitle, live_title};
