//! [`CookieSessionLayer`]: configuration of the session cookie.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use tower::Layer;

use super::{CookieSession, DEFAULT_COOKIE_NAME, DEFAULT_MAX_AGE, Session, SessionConfig};
use crate::token::Keyring;

/// Tower layer that loads the encrypted cookie session into every request and writes it back.
///
/// Defaults: cookie `livefire_session`, `secure(false)` (for `http://localhost`), lifetime 14 days.
/// Production deployments behind HTTPS must call `.secure(true)`, which renames the cookie to
/// `__Host-livefire_session` and adds the `Secure` flag.
///
/// ```
/// use std::time::Duration;
/// use livefire::session::CookieSessionLayer;
/// use livefire::token::Keyring;
///
/// let layer = CookieSessionLayer::new(Keyring::new([1u8; 64]).unwrap())
///     .secure(true)
///     .cookie_name("app_session")
///     .max_age(Duration::from_secs(7 * 24 * 3600));
/// assert_eq!(layer.effective_cookie_name(), "__Host-app_session");
/// ```
#[derive(Clone, Debug)]
pub struct CookieSessionLayer {
    base_name: String,
    config: Arc<SessionConfig>,
}

impl CookieSessionLayer {
    /// A layer sealing sessions with `keyring`.
    pub fn new(keyring: Keyring) -> Self {
        Self {
            base_name: DEFAULT_COOKIE_NAME.to_owned(),
            config: Arc::new(SessionConfig::new(
                keyring,
                DEFAULT_COOKIE_NAME,
                false,
                DEFAULT_MAX_AGE,
            )),
        }
    }

    fn rebuild(mut self, f: impl FnOnce(&mut String, &mut bool, &mut Duration)) -> Self {
        let mut secure = self.config.secure;
        let mut max_age = self.config.max_age;
        f(&mut self.base_name, &mut secure, &mut max_age);
        self.config = Arc::new(SessionConfig::new(
            self.config.keyring.clone(),
            &self.base_name,
            secure,
            max_age,
        ));
        self
    }

    /// HTTPS mode: `Secure` flag and the `__Host-` name prefix. Off by default so that
    /// `http://localhost` works; turn it on in production.
    pub fn secure(self, secure: bool) -> Self {
        self.rebuild(|_, s, _| *s = secure)
    }

    /// Base cookie name (default `livefire_session`); `__Host-` is prepended in secure mode
    /// (do not pass a `__Host-` name without `secure(true)`: browsers reject such cookies).
    /// The name is bound into the token, so renaming the cookie logs everyone out.
    ///
    /// # Panics
    /// If `name` is empty or contains characters not allowed in a cookie name.
    pub fn cookie_name(self, name: &str) -> Self {
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)),
            "invalid session cookie name {name:?}: use letters, digits and !#$%&'*+-.^_`|~"
        );
        self.rebuild(|n, _, _| name.clone_into(n))
    }

    /// Session lifetime, counted from creation or the last `renew()`, enforced by the server
    /// (default 14 days).
    pub fn max_age(self, max_age: Duration) -> Self {
        self.rebuild(|_, _, m| *m = max_age)
    }

    /// The cookie name actually used (with the `__Host-` prefix in secure mode).
    pub fn effective_cookie_name(&self) -> &str {
        &self.config.cookie_name
    }

    /// The keyring sessions are sealed with.
    pub fn keyring(&self) -> &Keyring {
        &self.config.keyring
    }

    /// Reads the session from request headers, exactly as the layer does. For code paths that
    /// run outside the layer (e.g. a WebSocket upgrade handled elsewhere). Changes made to the
    /// returned handle are not written anywhere.
    pub fn session_from_headers(&self, headers: &HeaderMap) -> Session {
        Session::load(self.config.clone(), headers)
    }
}

impl<S> Layer<S> for CookieSessionLayer {
    type Service = CookieSession<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CookieSession::new(inner, self.config.clone())
    }
}
