//! Encrypted cookie sessions as a tower layer.
//!
//! [`CookieSessionLayer`] opens the session cookie (sealed with [`crate::token`], purpose
//! `"session:<cookie name>"`) into a [`Session`] handle that it puts into the request extensions
//! and that handlers take as an extractor. After the handler, a changed session is sealed back
//! into a `Set-Cookie` header.
//!
//! Properties (docs/threat-model.md R4/R5, cases 1-13):
//!
//! * The cookie is always `HttpOnly; SameSite=Lax; Path=/` and has no `Domain`. By default it
//!   has no `Max-Age` (a browser-session cookie); [`Session::set_persistent`] (or a live view's
//!   [`Socket::persist_session`](crate::SocketCore::persist_session)) makes it persistent
//!   ("remember me") with a `Max-Age` equal to the session's remaining lifetime. With [`CookieSessionLayer::secure`]`(true)` its name carries the
//!   `__Host-` prefix and it gets `Secure`.
//! * The lifetime (default 14 days, counted from the session's creation or last
//!   [`Session::renew`]) is sealed inside the value and enforced by the server.
//! * A tampered, truncated, expired, wrong-purpose or wrong-key cookie reads as an **empty
//!   session** (logged at debug level), never as an error.
//! * A cookie opened with a fallback key is re-sealed with the current key in the same response.
//! * Every response that sets or deletes the cookie carries `Cache-Control: no-store`.
//! * [`Session::insert`] refuses a value that would make the cookie exceed 4096 bytes
//!   (name + value) *at write time*, keeping the previous data.
//!
//! ```
//! use axum::{Router, routing::get};
//! use livefire::session::{Session, CookieSessionLayer};
//! use livefire::token::Keyring;
//!
//! async fn visit(session: Session) -> String {
//!     let n: u64 = session.get("visits").unwrap_or(0) + 1;
//!     session.insert("visits", n).expect("small value");
//!     format!("visit number {n}")
//! }
//!
//! let keyring = Keyring::new([0x5a; 64]).unwrap();
//! let app: Router = Router::new()
//!     .route("/", get(visit))
//!     .layer(CookieSessionLayer::new(keyring).secure(true));
//! ```

pub(crate) mod handoff;
mod layer;
#[cfg(feature = "redis")]
mod redis;
mod service;
#[cfg(feature = "sqlite")]
mod sqlite;
pub(crate) mod tickets;
pub(crate) mod writes;

pub use self::layer::CookieSessionLayer;
#[cfg(feature = "redis")]
pub use self::redis::RedisTicketStore;
pub use self::service::CookieSession;
#[cfg(feature = "sqlite")]
pub use self::sqlite::SqliteTicketStore;
pub use self::tickets::{
    MemoryTicketStore, SESSION_PATH, TICKET_FIELD, TICKET_MAX_AGE, TO_FIELD, TicketKey,
    TicketStore, TicketStoreError,
};

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Serialize, Serialize as SerializeDerive};
use serde_json::{Map, Value};

use crate::token::mask::{mask_token, verify_masked};
use crate::token::{Keyring, random_bytes, unix_ms};

/// Largest `name=value` a session cookie may have; browsers silently drop larger cookies
/// (RFC 6265bis), so [`Session::insert`] refuses to go past it.
pub const MAX_COOKIE_SIZE: usize = 4096;

/// Default session lifetime: 14 days, as phx.gen.auth's session tokens.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// Default cookie name (with `secure(true)` it becomes `__Host-livefire_session`).
pub const DEFAULT_COOKIE_NAME: &str = "livefire_session";

const HOST_PREFIX: &str = "__Host-";
/// At most this many same-named cookies are tried (duplicates come from sibling paths or
/// subdomains).
const MAX_CANDIDATES: usize = 4;

/// Errors from writing to a [`Session`].
///
/// ```
/// use livefire::session::{SessionError, CookieSessionLayer};
/// use livefire::token::Keyring;
///
/// let session = CookieSessionLayer::new(Keyring::random()).session_from_headers(&http::HeaderMap::new());
/// session.insert("note", "short").unwrap();
/// // Browsers silently drop cookies over 4 KiB, so the session refuses to grow past that.
/// let err = session.insert("note", "x".repeat(5000)).unwrap_err();
/// assert!(matches!(err, SessionError::TooLarge { size } if size > 5000));
/// assert_eq!(session.get::<String>("note").as_deref(), Some("short")); // unchanged
/// ```
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The sealed cookie would exceed [`MAX_COOKIE_SIZE`] bytes; the value was not stored and
    /// the session is unchanged.
    #[error("session cookie would be {size} bytes (limit {MAX_COOKIE_SIZE}); value not stored")]
    TooLarge {
        /// Size the `name=value` pair would have had.
        size: usize,
    },
    /// The value could not be serialised to JSON.
    #[error("cannot serialise session value: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Everything the layer and the handles need to know about the cookie.
#[derive(Debug)]
pub(crate) struct SessionConfig {
    pub(crate) keyring: Keyring,
    /// Effective cookie name (with `__Host-` when secure).
    pub(crate) cookie_name: String,
    /// Token purpose, `session:<cookie name>`.
    pub(crate) purpose: String,
    pub(crate) secure: bool,
    pub(crate) max_age: Duration,
}

/// What is sealed into the cookie.
#[derive(SerializeDerive)]
struct StoredRef<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf: Option<&'a str>,
    created: u64,
    /// Persistent cookie: the session's lifetime in seconds (see [`Session::set_persistent`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    persist: Option<u64>,
    data: &'a Map<String, Value>,
}

#[derive(serde::Deserialize)]
struct Stored {
    id: String,
    #[serde(default)]
    csrf: Option<String>,
    created: u64,
    #[serde(default)]
    persist: Option<u64>,
    #[serde(default)]
    data: Map<String, Value>,
}

#[derive(Debug, Default)]
struct State {
    id: Option<String>,
    csrf: Option<[u8; 32]>,
    /// Creation (or last renewal) time, Unix milliseconds.
    created: Option<u64>,
    /// A persistent cookie with this lifetime (seconds); `None`: a browser-session cookie.
    persist: Option<u64>,
    data: Map<String, Value>,
    /// Changed during this request: write the cookie.
    dirty: bool,
    /// Opened with a fallback key: re-seal with the current key.
    rewrite: bool,
    /// [`Session::destroy`] was called: expire the cookie.
    destroyed: bool,
    /// [`Session::destroy`] was called on a request that carried the cookie: expire it even
    /// if a later write of this request starts a fresh session.
    expire_previous: bool,
    /// The request carried a cookie with our name (valid or not).
    cookie_present: bool,
}

impl State {
    fn is_blank(&self) -> bool {
        self.id.is_none() && self.csrf.is_none() && self.data.is_empty()
    }
}

/// The current request's session: a cheap, cloneable handle shared with the layer, which writes
/// changes back as a cookie when the response leaves.
///
/// Obtain it as an axum extractor (`session: Session`, or `Option<Session>`) or from the request
/// extensions. Using it without [`CookieSessionLayer`] fails the request with a 500 explaining why.
///
/// ```
/// use livefire::session::CookieSessionLayer;
/// use livefire::token::Keyring;
///
/// // In a handler this comes from the extractor; here, from a request without a cookie.
/// let session = CookieSessionLayer::new(Keyring::random()).session_from_headers(&http::HeaderMap::new());
/// assert!(session.is_empty() && session.existing_id().is_none());
///
/// session.insert("user_id", 42).unwrap();
/// session.insert("locale", "de").unwrap();
/// assert_eq!(session.get::<u32>("user_id"), Some(42));
/// assert!(session.contains_key("locale"));
/// assert_eq!(session.data().len(), 2);
///
/// // Masked CSRF tokens: a different string every call, all valid for this session only.
/// let (a, b) = (session.csrf_token(), session.csrf_token());
/// assert_ne!(a, b);
/// assert!(session.verify_csrf_token(&a) && session.verify_csrf_token(&b));
///
/// // On login, logout or privilege change: a new id and CSRF secret (session fixation defence).
/// let old_id = session.id();
/// session.renew_keeping(&["locale"]);
/// assert_ne!(session.id(), old_id);
/// assert!(!session.verify_csrf_token(&a));
/// assert_eq!(session.get::<u32>("user_id"), None);
/// assert_eq!(session.remove("locale"), Some(serde_json::json!("de")));
///
/// // Logout: forget everything; the response expires the cookie.
/// session.destroy();
/// assert!(session.is_empty() && session.existing_id().is_none());
/// ```
#[derive(Clone)]
pub struct Session {
    config: Arc<SessionConfig>,
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        // Never print the id or the CSRF secret (OWASP: log no session ids).
        f.debug_struct("Session")
            .field("cookie", &self.config.cookie_name)
            .field("has_id", &state.id.is_some())
            .field("keys", &state.data.keys().collect::<Vec<_>>())
            .field("dirty", &state.dirty)
            .finish_non_exhaustive()
    }
}

impl Session {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn empty(config: Arc<SessionConfig>) -> Self {
        Self {
            config,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// Reads the session from the request's `Cookie` headers. A missing or invalid cookie gives
    /// an empty session.
    pub(crate) fn load(config: Arc<SessionConfig>, headers: &HeaderMap) -> Self {
        let session = Self::empty(config);
        {
            let mut state = session.lock();
            let config = &session.config;
            let candidates = headers
                .get_all(COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(cookie::Cookie::split_parse)
                .filter_map(Result::ok)
                .filter(|c| c.name() == config.cookie_name)
                .take(MAX_CANDIDATES);
            for candidate in candidates {
                state.cookie_present = true;
                match config
                    .keyring
                    .open_rotated::<Stored>(&config.purpose, candidate.value())
                {
                    Ok((stored, rotated)) => {
                        state.id = Some(stored.id);
                        state.csrf = stored.csrf.as_deref().and_then(decode_secret);
                        state.created = Some(stored.created);
                        state.persist = stored.persist;
                        state.data = stored.data;
                        state.rewrite = rotated;
                        if rotated {
                            tracing::debug!(
                                cookie = %config.cookie_name,
                                "session cookie opened with a fallback key; re-sealing"
                            );
                        }
                        break;
                    }
                    Err(error) => tracing::debug!(
                        cookie = %config.cookie_name,
                        %error,
                        "ignoring invalid session cookie; treating the session as empty"
                    ),
                }
            }
        }
        session
    }

    /// The session id: 256 random bits, base64url. Created (and the cookie written) on first
    /// use. It is not a credential (the sealed cookie is), but do not log it either.
    pub fn id(&self) -> String {
        let mut state = self.lock();
        self.ensure_id(&mut state)
    }

    /// True when the cookie is `Secure` (an https deployment): the live socket then requires
    /// an explicit Origin allowlist.
    pub(crate) fn is_secure(&self) -> bool {
        self.config.secure
    }

    /// The session id if one exists already, without creating one.
    pub fn existing_id(&self) -> Option<String> {
        self.lock().id.clone()
    }

    fn ensure_id(&self, state: &mut State) -> String {
        if let Some(id) = &state.id {
            return id.clone();
        }
        let id = new_id();
        state.id = Some(id.clone());
        if state.created.is_none() {
            state.created = Some(unix_ms(self.config.keyring.now()));
        }
        state.destroyed = false;
        state.dirty = true;
        id
    }

    fn ensure_csrf(&self, state: &mut State) -> [u8; 32] {
        self.ensure_id(state);
        if let Some(secret) = state.csrf {
            return secret;
        }
        let secret = random_bytes::<32>();
        state.csrf = Some(secret);
        state.dirty = true;
        secret
    }

    /// Reads `key`, deserialised as `T`. `None` if absent or of another shape.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let state = self.lock();
        state.data.get(key).and_then(|v| T::deserialize(v).ok())
    }

    /// Stores `value` under `key`.
    ///
    /// # Errors
    /// [`SessionError::TooLarge`] if the sealed cookie would exceed [`MAX_COOKIE_SIZE`] bytes:
    /// the value is then **not** stored and the previous data is kept.
    /// [`SessionError::Serialize`] if `value` cannot be represented as JSON.
    pub fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), SessionError> {
        let value = serde_json::to_value(value)?;
        let mut state = self.lock();
        self.ensure_csrf(&mut state);
        let previous = state.data.insert(key.to_owned(), value);
        match self.cookie_len(&state) {
            Ok(size) if size <= MAX_COOKIE_SIZE => {
                state.dirty = true;
                Ok(())
            }
            outcome => {
                match previous {
                    Some(previous) => state.data.insert(key.to_owned(), previous),
                    None => state.data.remove(key),
                };
                let size = outcome?;
                tracing::warn!(
                    key,
                    size,
                    limit = MAX_COOKIE_SIZE,
                    "session value refused: the session cookie would be too large"
                );
                Err(SessionError::TooLarge { size })
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&self, key: &str) -> Option<Value> {
        let mut state = self.lock();
        let removed = state.data.remove(key);
        if removed.is_some() {
            state.dirty = true;
        }
        removed
    }

    /// Removes all data; the id and CSRF secret stay. Use [`Session::renew`] on login/logout.
    pub fn clear(&self) {
        let mut state = self.lock();
        if !state.data.is_empty() {
            state.data.clear();
            state.dirty = true;
        }
    }

    /// Fixation defence (R4): a new id, a new CSRF secret, a fresh lifetime, and all data
    /// cleared. Call on every login, logout and privilege change.
    pub fn renew(&self) {
        self.renew_keeping(&[]);
    }

    /// Chooses the cookie's lifetime ("remember me"). `Some(max_age)`: a **persistent** cookie;
    /// the session lives `max_age` from its creation or last [`renew`](Self::renew) (enforced
    /// by the server, sealed in the cookie) and the cookie carries `Max-Age` = the remaining
    /// lifetime, so it survives a browser restart. `None` (the default): a browser-session
    /// cookie (no `Max-Age`) with the layer's [`max_age`](CookieSessionLayer::max_age).
    ///
    /// The choice is sealed into the cookie, so later writes keep it; [`renew`](Self::renew)
    /// keeps it too (a password change stays remembered), [`destroy`](Self::destroy) forgets
    /// it. Set it after the `renew` of a login.
    ///
    /// ```
    /// use std::time::Duration;
    /// use livefire::session::CookieSessionLayer;
    /// use livefire::token::Keyring;
    ///
    /// let session = CookieSessionLayer::new(Keyring::random()).session_from_headers(&http::HeaderMap::new());
    /// assert_eq!(session.persistent(), None);
    /// session.renew();
    /// session.set_persistent(Some(Duration::from_secs(60 * 24 * 3600)));
    /// assert_eq!(session.persistent(), Some(Duration::from_secs(60 * 24 * 3600)));
    /// session.renew();
    /// assert!(session.persistent().is_some(), "kept across renew");
    /// session.destroy();
    /// assert_eq!(session.persistent(), None);
    /// ```
    pub fn set_persistent(&self, max_age: Option<Duration>) {
        let mut state = self.lock();
        self.ensure_csrf(&mut state);
        state.persist = max_age.map(|d| d.as_secs().max(1));
        state.dirty = true;
    }

    /// The lifetime of a persistent cookie ([`set_persistent`](Self::set_persistent)), or
    /// `None` for a browser-session cookie.
    pub fn persistent(&self) -> Option<Duration> {
        self.lock().persist.map(Duration::from_secs)
    }

    /// Like [`Session::renew`], but carries the listed keys (e.g. `"locale"`) over.
    pub fn renew_keeping(&self, keep: &[&str]) {
        let mut state = self.lock();
        let kept: Map<String, Value> = keep
            .iter()
            .filter_map(|k| state.data.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect();
        state.data = kept;
        state.id = Some(new_id());
        state.csrf = Some(random_bytes::<32>());
        state.created = Some(unix_ms(self.config.keyring.now()));
        state.destroyed = false;
        state.dirty = true;
    }

    /// Forgets everything and expires the cookie (`Max-Age=0`) in this response. Any later
    /// write in the same request (a flash for the next page, say) starts a fresh
    /// browser-session cookie with a new id: the response then carries the expired cookie
    /// first and the fresh one after it, so the old value (persistent or not) is removed
    /// whatever the fresh one becomes.
    ///
    /// ```
    /// use livefire::session::CookieSessionLayer;
    /// use livefire::token::Keyring;
    ///
    /// let session = CookieSessionLayer::new(Keyring::random()).session_from_headers(&http::HeaderMap::new());
    /// session.insert("user_token", "t").unwrap();
    /// let old_id = session.id();
    /// session.destroy();
    /// assert!(session.is_empty() && session.existing_id().is_none());
    /// session.insert("_flash", "bye").unwrap(); // a fresh session
    /// assert_ne!(session.id(), old_id);
    /// assert_eq!(session.persistent(), None);
    /// ```
    pub fn destroy(&self) {
        let mut state = self.lock();
        state.expire_previous = state.cookie_present;
        state.id = None;
        state.csrf = None;
        state.created = None;
        state.persist = None;
        state.data.clear();
        state.destroyed = true;
        state.dirty = true;
    }

    /// A freshly masked CSRF token for this session (a different string every call, all
    /// valid). Creates the session's CSRF secret on first use. Put it in forms as
    /// `_csrf_token` and in the page's `csrf-token` meta tag.
    pub fn csrf_token(&self) -> String {
        let mut state = self.lock();
        let secret = self.ensure_csrf(&mut state);
        mask_token(&secret)
    }

    /// Checks a masked CSRF token against this session's secret in constant time. False if the
    /// session has no secret yet.
    pub fn verify_csrf_token(&self, token: &str) -> bool {
        let secret = self.lock().csrf;
        secret.is_some_and(|secret| verify_masked(&secret, token))
    }

    /// A snapshot of the session data (for live views).
    pub fn data(&self) -> Map<String, Value> {
        self.lock().data.clone()
    }

    /// Whether the session holds a value under `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.lock().data.contains_key(key)
    }

    /// Whether the session holds no data.
    pub fn is_empty(&self) -> bool {
        self.lock().data.is_empty()
    }

    /// Size of `name=value` for the current state.
    fn cookie_len(&self, state: &State) -> Result<usize, SessionError> {
        let csrf = state.csrf.map(|s| URL_SAFE_NO_PAD.encode(s));
        let (stored, max_age) = self.stored(state, csrf.as_deref());
        let len = self
            .config
            .keyring
            .sealed_len(&stored, max_age)
            .map_err(|crate::token::SealError::Serialize(e)| SessionError::Serialize(e))?;
        Ok(self.config.cookie_name.len() + 1 + len)
    }

    fn stored<'a>(&self, state: &'a State, csrf: Option<&'a str>) -> (StoredRef<'a>, Duration) {
        let now = unix_ms(self.config.keyring.now());
        let created = state.created.unwrap_or(now);
        let age = Duration::from_millis(now.saturating_sub(created));
        let lifetime = state
            .persist
            .map_or(self.config.max_age, Duration::from_secs);
        let remaining = lifetime.saturating_sub(age);
        let stored = StoredRef {
            id: state.id.as_deref().unwrap_or_default(),
            csrf,
            created,
            persist: state.persist,
            data: &state.data,
        };
        (stored, remaining)
    }

    /// Writes the `Set-Cookie` (and `Cache-Control: no-store`) for this session, if needed.
    ///
    /// A response to a request that carried a session cookie may depend on the session (who
    /// is signed in): it gets `Cache-Control: no-store` too, unless the handler chose a
    /// caching policy itself (static assets do).
    pub(crate) fn write_response(&self, headers: &mut HeaderMap) {
        let state = self.lock();
        if state.cookie_present && !headers.contains_key(CACHE_CONTROL) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if !(state.dirty || state.rewrite) {
            return;
        }
        let config = &self.config;
        let header = if state.destroyed || state.is_blank() {
            if !state.cookie_present {
                return;
            }
            removal_cookie(&config.cookie_name, config.secure)
        } else {
            if state.expire_previous {
                // Destroyed, then restarted by a later write: remove the old cookie first.
                let removal = removal_cookie(&config.cookie_name, config.secure);
                if let Ok(value) = HeaderValue::from_str(&removal) {
                    headers.append(SET_COOKIE, value);
                }
            }
            let csrf = state.csrf.map(|s| URL_SAFE_NO_PAD.encode(s));
            let (stored, max_age) = self.stored(&state, csrf.as_deref());
            let value = match config.keyring.try_seal(&config.purpose, &stored, max_age) {
                Ok(value) => value,
                Err(error) => {
                    tracing::error!(%error, "cannot seal the session; cookie not written");
                    return;
                }
            };
            let size = config.cookie_name.len() + 1 + value.len();
            if size > MAX_COOKIE_SIZE {
                tracing::error!(
                    size,
                    limit = MAX_COOKIE_SIZE,
                    "session cookie too large; not written (the previous cookie stays)"
                );
                return;
            }
            let persistent = state.persist.map(|_| max_age);
            session_cookie(&config.cookie_name, &value, config.secure, persistent)
        };
        match HeaderValue::from_str(&header) {
            Ok(value) => {
                headers.append(SET_COOKIE, value);
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            Err(error) => tracing::error!(%error, "session Set-Cookie is not a valid header"),
        }
    }
}

fn new_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

fn decode_secret(s: &str) -> Option<[u8; 32]> {
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    bytes.try_into().ok()
}

fn base_cookie(name: &str, value: &str, secure: bool) -> cookie::CookieBuilder<'static> {
    cookie::Cookie::build((name.to_owned(), value.to_owned()))
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure)
        .path("/")
}

fn session_cookie(name: &str, value: &str, secure: bool, max_age: Option<Duration>) -> String {
    let cookie = base_cookie(name, value, secure);
    match max_age {
        Some(max_age) => cookie
            .max_age(cookie::time::Duration::seconds(
                i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
            ))
            .build()
            .to_string(),
        None => cookie.build().to_string(),
    }
}

fn removal_cookie(name: &str, secure: bool) -> String {
    base_cookie(name, "", secure)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

impl SessionConfig {
    pub(crate) fn new(keyring: Keyring, base_name: &str, secure: bool, max_age: Duration) -> Self {
        let cookie_name = if secure && !base_name.starts_with(HOST_PREFIX) {
            format!("{HOST_PREFIX}{base_name}")
        } else {
            base_name.to_owned()
        };
        let purpose = format!("session:{cookie_name}");
        Self {
            keyring,
            cookie_name,
            purpose,
            secure,
            max_age,
        }
    }
}

/// Rejection when [`Session`] is extracted without [`CookieSessionLayer`] installed (500).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode};
/// use livefire::session::Session;
/// use tower::ServiceExt as _;
///
/// // Forgot `.layer(CookieSessionLayer::new(keyring))`:
/// let app: Router = Router::new().route("/", get(|_session: Session| async { "never" }));
/// let res = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, thiserror::Error)]
#[error("the Session extractor needs livefire::session::CookieSessionLayer around this route")]
pub struct MissingSessionLayer;

impl IntoResponse for MissingSessionLayer {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = MissingSessionLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or(MissingSessionLayer)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Session {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Session>().cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Arc<SessionConfig> {
        Arc::new(SessionConfig::new(
            Keyring::new([9u8; 64]).expect("ok"),
            DEFAULT_COOKIE_NAME,
            true,
            DEFAULT_MAX_AGE,
        ))
    }

    #[test]
    fn secure_name_gets_host_prefix_once() {
        let k = Keyring::new([9u8; 64]).expect("ok");
        let c = SessionConfig::new(k.clone(), "__Host-x", true, DEFAULT_MAX_AGE);
        assert_eq!(c.cookie_name, "__Host-x");
        let c = SessionConfig::new(k.clone(), "x", true, DEFAULT_MAX_AGE);
        assert_eq!(
            (c.cookie_name.as_str(), c.purpose.as_str()),
            ("__Host-x", "session:__Host-x")
        );
        let c = SessionConfig::new(k, "x", false, DEFAULT_MAX_AGE);
        assert_eq!(c.cookie_name, "x");
    }

    #[test]
    fn id_is_256_bits_and_stable() {
        let s = Session::empty(config());
        assert_eq!(s.existing_id(), None);
        let id = s.id();
        assert_eq!(URL_SAFE_NO_PAD.decode(&id).expect("b64").len(), 32);
        assert_eq!(s.id(), id);
        assert_ne!(Session::empty(config()).id(), id);
    }

    #[test]
    fn csrf_tokens_are_masked_and_verify() {
        let s = Session::empty(config());
        assert!(!s.verify_csrf_token("anything"), "no secret yet");
        let a = s.csrf_token();
        let b = s.csrf_token();
        assert_ne!(a, b, "masked differently each time");
        assert!(s.verify_csrf_token(&a) && s.verify_csrf_token(&b));
        let other = Session::empty(config());
        assert!(!other.verify_csrf_token(&a));
        other.csrf_token();
        assert!(!other.verify_csrf_token(&a));
    }

    #[test]
    fn get_with_wrong_type_is_none() {
        let s = Session::empty(config());
        s.insert("n", "text").expect("ok");
        assert_eq!(s.get::<u32>("n"), None);
        assert_eq!(s.get::<String>("n").as_deref(), Some("text"));
    }

    fn set_cookie(session: &Session) -> String {
        let mut headers = HeaderMap::new();
        session.write_response(&mut headers);
        headers[SET_COOKIE].to_str().expect("ascii").to_owned()
    }

    /// docs/threat-model.md case 70: a persistent ("remember me") session cookie carries
    /// Max-Age, keeps it across later writes and renewals, and loses it on destroy; the default
    /// cookie has none.
    #[test]
    fn case_70_persistent_cookie_has_max_age_and_keeps_it() {
        let config = config();
        let plain = Session::empty(config.clone());
        plain.insert("k", 1).expect("ok");
        let line = set_cookie(&plain);
        assert!(
            !line.contains("Max-Age") && !line.contains("Expires"),
            "{line}"
        );

        let remembered = Session::empty(config.clone());
        remembered.renew();
        remembered.set_persistent(Some(Duration::from_secs(60 * 24 * 3600)));
        let line = set_cookie(&remembered);
        assert!(line.contains("Max-Age=5184000"), "{line}");
        // The next request opens it and writes again: still persistent.
        let value = line.split(';').next().expect("pair").to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&value).expect("header"));
        let next = Session::load(config, &headers);
        assert_eq!(next.persistent(), Some(Duration::from_secs(5_184_000)));
        next.renew();
        next.insert("k", 2).expect("ok");
        let line = set_cookie(&next);
        assert!(line.contains("Max-Age=518"), "{line}");
        next.destroy();
        let line = set_cookie(&next);
        assert!(line.contains("Max-Age=0"), "{line}");
    }

    #[test]
    fn debug_hides_id_and_secret() {
        let s = Session::empty(config());
        let id = s.id();
        let dbg = format!("{s:?}");
        assert!(!dbg.contains(&id), "{dbg}");
    }
}
