//! CSRF protection for form posts and other unsafe requests.
//!
//! Each session has a 32-byte random CSRF secret ([`crate::session::Session::csrf_token`]
//! creates it lazily). Pages embed a *masked* token, `base64url(mask ‖ mask ⊕ secret)` with a
//! fresh random mask every time, so the token in the HTML differs per render (BREACH
//! mitigation, like Plug.CSRFProtection) while every mask verifies
//! ([`crate::session::Session::verify_csrf_token`]).
//!
//! [`VerifyCsrfLayer`] requires a valid token on every request whose method is not `GET`,
//! `HEAD` or `OPTIONS`: either the `_csrf_token` field of an
//! `application/x-www-form-urlencoded` body (at most [`MAX_FORM_BODY`] bytes are buffered, then
//! the body is handed to the handler unchanged) or the `x-csrf-token` header. Anything else is
//! answered with 403 and the handler is not called. It reads the session, so it must sit inside
//! [`crate::session::CookieSessionLayer`]. Multipart forms must send the header.
//!
//! ```
//! use axum::{Router, routing::post};
//! use livefire::csrf::VerifyCsrfLayer;
//! use livefire::session::CookieSessionLayer;
//! use livefire::token::Keyring;
//!
//! let app: Router = Router::new()
//!     .route("/users/log-in", post(|| async { "ok" }))
//!     .layer(VerifyCsrfLayer::new())
//!     .layer(CookieSessionLayer::new(Keyring::new([3u8; 64]).unwrap()));
//! ```

mod layer;
mod service;

pub use self::layer::VerifyCsrfLayer;
pub use self::service::VerifyCsrf;

/// Name of the form field carrying the token (as in Phoenix).
pub const CSRF_FORM_FIELD: &str = "_csrf_token";

/// Name of the request header carrying the token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Most bytes of a url-encoded form body buffered to look for the token (64 KiB); larger bodies
/// get 413.
pub const MAX_FORM_BODY: usize = 64 * 1024;
