//! Flash messages: shown exactly once, carried in the session across HTTP redirects and in a
//! sealed, session-bound token across live-view redirects.
//!
//! * A [`Flash`] maps keys (`"info"`, `"error"`, …) to any JSON value: a string or a structure
//!   such as `{"title": …, "subtitle": …}`.
//! * [`seal_flash`] / [`open_flash`] make the token a live view sends in a `redirect` reply;
//!   the official client stores it in the `__phoenix_flash__` cookie for the next page load.
//!   Unlike Phoenix's signed flash token it is encrypted, valid for [`FLASH_MAX_AGE`] (60 s,
//!   enforced by the server), and bound to the session id of the browser it was issued to, so a
//!   token planted in another browser is ignored (docs/threat-model.md cases 17, 19, 21).
//! * [`LiveFlashLayer`] consumes that cookie and the session's stored flash on every request
//!   and exposes them to handlers through [`FlashHandle`] / [`IncomingFlash`].
//!
//! Flash content is display data: never put credentials or user records in it (R1).
//!
//! ```
//! use livefire::flash::{Flash, open_flash, seal_flash};
//! use livefire::token::Keyring;
//! use serde_json::json;
//!
//! let keyring = Keyring::new([4u8; 64]).unwrap();
//! let mut flash = Flash::new();
//! flash.put("info", "Saved");
//! flash.put("user", json!({"title": "Welcome", "subtitle": "back"}));
//! let token = seal_flash(&keyring, "session-id-A", &flash);
//! assert_eq!(open_flash(&keyring, "session-id-A", &token).unwrap(), flash);
//! assert!(open_flash(&keyring, "session-id-B", &token).is_err());
//! ```

mod layer;
mod service;

pub use self::layer::LiveFlashLayer;
pub use self::service::LiveFlash;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use http::request::Parts;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::token::{Keyring, TokenError};

/// Name of the cookie the LiveView client sets from a redirect's flash token.
pub const FLASH_COOKIE: &str = "__phoenix_flash__";

/// How long a flash token stays valid (60 seconds, enforced by the server).
pub const FLASH_MAX_AGE: Duration = Duration::from_secs(60);

/// Token purpose for flash tokens.
pub const FLASH_PURPOSE: &str = "flash";

/// Session key under which the flash waits for the next request.
pub const SESSION_FLASH_KEY: &str = "_flash";

/// Flash messages: key → JSON value.
///
/// ```
/// use livefire::flash::Flash;
/// use serde_json::json;
///
/// let mut flash = Flash::new();
/// flash.put("info", "Saved");
/// flash.put("error", "Card declined");
/// let mut later = Flash::new();
/// later.put("info", json!({"title": "Welcome", "subtitle": "back"}));
/// flash.merge(later);
/// assert_eq!(flash.len(), 2);
/// assert_eq!(flash.get_str("error"), Some("Card declined"));
/// assert_eq!(flash.get_str("info"), None); // no longer a string
/// assert_eq!(flash.iter().map(|(key, _)| key).collect::<Vec<_>>(), ["error", "info"]);
/// assert_eq!(flash.remove("error"), Some(json!("Card declined")));
/// // It serialises as a plain JSON object.
/// let json = serde_json::to_value(&flash).unwrap();
/// assert_eq!(json, json!({"info": {"title": "Welcome", "subtitle": "back"}}));
/// flash.clear();
/// assert!(flash.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Flash(BTreeMap<String, Value>);

impl Flash {
    /// An empty flash.
    pub fn new() -> Self {
        Self::default()
    }

    /// The message under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The message under `key` if it is a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    /// Sets the message under `key`, replacing any previous one.
    pub fn put(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.0.insert(key.into(), value.into());
    }

    /// Removes and returns the message under `key`.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.0.remove(key)
    }

    /// Whether there are no messages.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of messages.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates over the messages in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Adds every message of `other`; on equal keys `other` wins.
    pub fn merge(&mut self, other: Flash) {
        self.0.extend(other.0);
    }

    /// Removes all messages.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl FromIterator<(String, Value)> for Flash {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl IntoIterator for Flash {
    type Item = (String, Value);
    type IntoIter = std::collections::btree_map::IntoIter<String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Plaintext of a flash token: a binding to the issuing session and the messages.
#[derive(Serialize, Deserialize)]
struct FlashToken {
    /// `base64url(SHA-256("livefire/flash-binding/v1" ‖ session id))[..16 bytes]`.
    s: String,
    f: Flash,
}

fn binding(session_id: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"livefire/flash-binding/v1\0");
    hasher.update(session_id.as_bytes());
    let digest = hasher.finalize();
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Seals `flash` for the browser whose session id is `session_id`: purpose `"flash"`, valid for
/// [`FLASH_MAX_AGE`]. The result is cookie-safe.
///
/// # Panics
/// Never for a [`Flash`] (its keys are strings); see [`Keyring::seal`].
pub fn seal_flash(keyring: &Keyring, session_id: &str, flash: &Flash) -> String {
    let token = FlashToken {
        s: binding(session_id),
        f: flash.clone(),
    };
    keyring.seal(FLASH_PURPOSE, &token, FLASH_MAX_AGE)
}

/// Opens a flash token, checking that it was issued to `session_id`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use livefire::flash::{Flash, open_flash, seal_flash};
/// use livefire::token::{Clock, Keyring, TokenError};
///
/// let (clock, time) = Clock::manual(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// let keyring = Keyring::new([4u8; 64]).unwrap().with_clock(clock);
/// let mut flash = Flash::new();
/// flash.put("info", "Welcome back!");
/// let token = seal_flash(&keyring, "session-A", &flash);
///
/// time.advance(Duration::from_secs(60));
/// assert_eq!(open_flash(&keyring, "session-A", &token), Ok(flash));
/// // Planted in another browser: ignored.
/// assert_eq!(open_flash(&keyring, "session-B", &token), Err(TokenError::Invalid));
/// time.advance(Duration::from_secs(1));
/// assert_eq!(open_flash(&keyring, "session-A", &token), Err(TokenError::Expired));
/// ```
///
/// # Errors
/// The token's [`TokenError`], or [`TokenError::Invalid`] if it is bound to another session.
pub fn open_flash(keyring: &Keyring, session_id: &str, token: &str) -> Result<Flash, TokenError> {
    let opened: FlashToken = keyring.open(FLASH_PURPOSE, token)?;
    let expected = binding(session_id);
    if bool::from(opened.s.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(opened.f)
    } else {
        Err(TokenError::Invalid)
    }
}

#[derive(Debug, Default)]
struct FlashState {
    incoming: Flash,
    outgoing: Flash,
}

/// The current request's flash, put into the request extensions by [`LiveFlashLayer`] and
/// available as an extractor.
///
/// * *Incoming* messages arrived with this request (stored in the session by a previous
///   redirect, or from a live view's `__phoenix_flash__` cookie): render them now.
/// * *Outgoing* messages ([`FlashHandle::put`]) are for the **next** request, e.g. a logout
///   handler's "Logged out successfully." before its 302.
///
/// On a 3xx response the unconsumed incoming messages and the outgoing ones are kept in the
/// session for the next request. On any other response the incoming ones count as shown and
/// only the outgoing ones are kept.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use axum::{Router, body::Body, response::Redirect, routing::{get, post}};
/// use http::{Request, StatusCode, header};
/// use livefire::flash::{FlashHandle, LiveFlashLayer};
/// use livefire::session::CookieSessionLayer;
/// use livefire::token::Keyring;
/// use tower::ServiceExt as _;
///
/// async fn log_out(flash: FlashHandle) -> Redirect {
///     flash.put("info", "Logged out successfully.");
///     assert!(flash.outgoing().get("info").is_some());
///     Redirect::to("/")
/// }
/// async fn home(flash: FlashHandle) -> String {
///     let info = flash.get("info");
///     info.and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
/// }
///
/// let keyring = Keyring::random();
/// let app: Router = Router::new()
///     .route("/", get(home))
///     .route("/log-out", post(log_out))
///     .layer(LiveFlashLayer::new(keyring.clone()))
///     .layer(CookieSessionLayer::new(keyring));
/// let session_cookie = |res: &axum::response::Response| {
///     let set_cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
///     set_cookie.split(';').next().unwrap().to_owned()
/// };
/// let home_with = |cookie: &str| {
///     Request::get("/").header(header::COOKIE, cookie).body(Body::empty()).unwrap()
/// };
/// let text = |res: axum::response::Response| async {
///     String::from_utf8(axum::body::to_bytes(res.into_body(), 1024).await.unwrap().to_vec()).unwrap()
/// };
///
/// // The message waits in the session across the redirect...
/// let res = app.clone().oneshot(Request::post("/log-out").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(res.status(), StatusCode::SEE_OTHER);
/// let cookie = session_cookie(&res);
///
/// // ...is shown by the next page...
/// let res = app.clone().oneshot(home_with(&cookie)).await.unwrap();
/// let cookie = session_cookie(&res);
/// assert_eq!(text(res).await, "Logged out successfully.");
///
/// // ...and only once.
/// assert_eq!(text(app.oneshot(home_with(&cookie)).await.unwrap()).await, "");
/// # }
/// ```
#[derive(Clone, Default)]
pub struct FlashHandle {
    state: Arc<Mutex<FlashState>>,
}

impl fmt::Debug for FlashHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("FlashHandle")
            .field("incoming", &state.incoming)
            .field("outgoing", &state.outgoing)
            .finish()
    }
}

impl FlashHandle {
    fn lock(&self) -> MutexGuard<'_, FlashState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn with_incoming(incoming: Flash) -> Self {
        Self {
            state: Arc::new(Mutex::new(FlashState {
                incoming,
                outgoing: Flash::new(),
            })),
        }
    }

    /// A snapshot of the incoming messages (to render in this response).
    pub fn incoming(&self) -> Flash {
        self.lock().incoming.clone()
    }

    /// The incoming message under `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.lock().incoming.get(key).cloned()
    }

    /// Removes and returns an incoming message, so that a redirect does not carry it on.
    pub fn take(&self, key: &str) -> Option<Value> {
        self.lock().incoming.remove(key)
    }

    /// Drops all incoming messages.
    pub fn clear_incoming(&self) {
        self.lock().incoming.clear();
    }

    /// Queues a message for the next request.
    pub fn put(&self, key: impl Into<String>, value: impl Into<Value>) {
        self.lock().outgoing.put(key, value);
    }

    /// A snapshot of the messages queued for the next request.
    pub fn outgoing(&self) -> Flash {
        self.lock().outgoing.clone()
    }

    /// (incoming, outgoing) at the end of the request.
    pub(crate) fn finish(&self) -> (Flash, Flash) {
        let state = self.lock();
        (state.incoming.clone(), state.outgoing.clone())
    }
}

/// Rejection when [`FlashHandle`] or [`IncomingFlash`] is extracted without
/// [`LiveFlashLayer`] installed (500).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode};
/// use livefire::flash::IncomingFlash;
/// use livefire::session::CookieSessionLayer;
/// use livefire::token::Keyring;
/// use tower::ServiceExt as _;
///
/// // Forgot `.layer(LiveFlashLayer::new(keyring.clone()))`:
/// let app: Router = Router::new()
///     .route("/", get(|_flash: IncomingFlash| async { "never" }))
///     .layer(CookieSessionLayer::new(Keyring::random()));
/// let res = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, thiserror::Error)]
#[error("the flash extractors need livefire::flash::LiveFlashLayer around this route")]
pub struct MissingFlashLayer;

impl IntoResponse for MissingFlashLayer {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for FlashHandle {
    type Rejection = MissingFlashLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<FlashHandle>()
            .cloned()
            .ok_or(MissingFlashLayer)
    }
}

/// Extractor for a snapshot of the incoming flash (see [`FlashHandle::incoming`]).
///
/// Incoming messages include those a live view put before a `redirect` or `push_navigate`:
/// the client stores the sealed flash token of the redirect in the [`FLASH_COOKIE`] cookie,
/// and [`LiveFlashLayer`] opens it on the next request (if it is less than 60 s old and was
/// issued to this browser's session) and deletes the cookie.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, header};
/// use livefire::flash::{Flash, IncomingFlash, LiveFlashLayer, seal_flash};
/// use livefire::session::{Session, CookieSessionLayer};
/// use livefire::token::Keyring;
/// use tower::ServiceExt as _;
///
/// async fn page(IncomingFlash(flash): IncomingFlash) -> String {
///     flash.get_str("info").unwrap_or("no flash").to_owned()
/// }
/// let keyring = Keyring::random();
/// let app: Router = Router::new()
///     .route("/", get(page))
///     .route("/whoami", get(|session: Session| async move { session.id() }))
///     .layer(LiveFlashLayer::new(keyring.clone()))
///     .layer(CookieSessionLayer::new(keyring.clone()));
/// # let text = |res: axum::response::Response| async {
/// #     String::from_utf8(axum::body::to_bytes(res.into_body(), 1024).await.unwrap().to_vec()).unwrap()
/// # };
///
/// // A browser with a session...
/// let res = app.clone().oneshot(Request::get("/whoami").body(Body::empty()).unwrap()).await.unwrap();
/// let set_cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
/// let session_cookie = set_cookie.split(';').next().unwrap().to_owned();
/// let session_id = text(res).await;
///
/// // ...comes back after a live view's `put_flash` + `redirect`, with the flash cookie.
/// let mut flash = Flash::new();
/// flash.put("info", "Saved");
/// let token = seal_flash(&keyring, &session_id, &flash);
/// let req = Request::get("/")
///     .header(header::COOKIE, format!("{session_cookie}; __phoenix_flash__={token}"))
///     .body(Body::empty())
///     .unwrap();
/// let res = app.oneshot(req).await.unwrap();
/// let set_cookies: Vec<_> = res.headers().get_all(header::SET_COOKIE).iter().collect();
/// assert!(set_cookies.iter().any(|c| *c == "__phoenix_flash__=; Path=/; Max-Age=0"));
/// assert_eq!(text(res).await, "Saved");
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncomingFlash(pub Flash);

impl<S: Send + Sync> FromRequestParts<S> for IncomingFlash {
    type Rejection = MissingFlashLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<FlashHandle>()
            .map(|h| IncomingFlash(h.incoming()))
            .ok_or(MissingFlashLayer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Clock;
    use serde_json::json;
    use std::time::UNIX_EPOCH;

    #[test]
    fn flash_map_operations() {
        let mut a = Flash::new();
        assert!(a.is_empty());
        a.put("info", "one");
        a.put("error", "bad");
        let mut b = Flash::new();
        b.put("info", json!({"title": "t", "subtitle": "s"}));
        a.merge(b);
        assert_eq!(a.len(), 2);
        assert_eq!(a.get("info"), Some(&json!({"title": "t", "subtitle": "s"})));
        assert_eq!(a.get_str("error"), Some("bad"));
        assert_eq!(a.remove("error"), Some(json!("bad")));
        assert_eq!(a.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["info"]);
        assert_eq!(
            serde_json::to_value(&a).expect("json"),
            json!({"info": {"title": "t", "subtitle": "s"}})
        );
    }

    #[test]
    fn case_27_flash_token_payload_is_small_and_has_no_session_id() {
        let (clock, _) = Clock::manual(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        let keyring = Keyring::new([1u8; 64]).expect("ok").with_clock(clock);
        let mut flash = Flash::new();
        flash.put("info", "Welcome back!");
        let id = "X".repeat(43);
        let token = seal_flash(&keyring, &id, &flash);
        let inner: serde_json::Value = keyring.open(FLASH_PURPOSE, &token).expect("opens");
        assert!(!inner.to_string().contains(&id), "{inner}");
        assert!(token.len() < 512, "{}", token.len());
    }
}
