//! [`LiveFlashLayer`].

use tower::Layer;

use super::LiveFlash;
use crate::session::TicketStore;
use crate::session::tickets::Tickets;
use crate::token::Keyring;

/// Tower layer that delivers flash messages to handlers and keeps them for exactly one showing.
///
/// On each request (except WebSocket upgrades, which pass through untouched):
///
/// 1. takes the flash stored in the session (key [`super::SESSION_FLASH_KEY`]) and, if the
///    request carries the [`super::FLASH_COOKIE`] cookie, opens it with [`super::open_flash`]
///    (60 s, bound to this browser's session id; an invalid or expired token is ignored and
///    logged at debug level) and merges it in;
/// 2. exposes them through [`super::FlashHandle`] / [`super::IncomingFlash`];
/// 3. after the handler, on a 3xx response keeps the unconsumed incoming messages plus those
///    put during this request in the session; on any other response keeps only those put
///    during this request;
/// 4. whenever the request carried the cookie (even an invalid one) answers
///    `Set-Cookie: __phoenix_flash__=; Path=/; Max-Age=0`.
///
/// It reads and writes the session, so it must sit inside [`crate::session::CookieSessionLayer`]
/// (add it with `.layer()` *before* the session layer).
///
/// ```
/// use axum::{Router, routing::get};
/// use livefire::flash::{IncomingFlash, LiveFlashLayer};
/// use livefire::session::CookieSessionLayer;
/// use livefire::token::Keyring;
///
/// async fn page(IncomingFlash(flash): IncomingFlash) -> String {
///     flash.get_str("info").unwrap_or_default().to_owned()
/// }
///
/// let keyring = Keyring::new([6u8; 64]).unwrap();
/// let app: Router = Router::new()
///     .route("/", get(page))
///     .layer(LiveFlashLayer::new(keyring.clone()))
///     .layer(CookieSessionLayer::new(keyring));
/// ```
#[derive(Clone, Debug)]
pub struct LiveFlashLayer {
    keyring: Keyring,
    tickets: Option<Tickets>,
}

impl LiveFlashLayer {
    /// A layer opening flash tokens with `keyring` (the same one that seals them).
    pub fn new(keyring: Keyring) -> Self {
        Self {
            keyring,
            tickets: None,
        }
    }

    /// Redeems the session-write tickets that live views send through a redirect's flash,
    /// from `store` (the same store as
    /// [`LiveRouter::session_store`](crate::LiveRouter::session_store)): the writes are applied
    /// to the request's session before the handler runs, so the page already sees them.
    pub fn session_store(mut self, store: impl TicketStore) -> Self {
        self.tickets = Some(Tickets {
            store: std::sync::Arc::new(store),
        });
        self
    }
}

impl<S> Layer<S> for LiveFlashLayer {
    type Service = LiveFlash<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LiveFlash::new(inner, self.keyring.clone(), self.tickets.clone())
    }
}
