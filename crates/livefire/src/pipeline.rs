//! [`BrowserPipeline`]: the session, flash, CSRF and security-header layers of a browser app,
//! installed in the right order with one call.
//!
//! A livefire app needs, from the outside in:
//!
//! 1. [`SecurityHeadersLayer`]: CSP and friends on every response (it reads nothing);
//! 2. [`CookieSessionLayer`]: opens the session cookie, which everything below reads;
//! 3. [`LiveFlashLayer`]: moves flash messages between the session, the flash cookie and the
//!    request, and redeems session-write tickets (so it must see the session, and handlers
//!    inside it must see the writes it applies);
//! 4. [`VerifyCsrfLayer`]: refuses unsafe requests without a token of this session (so it
//!    must see the session).
//!
//! In axum the last `.layer()` call is the outermost, so the hand-written stack reads bottom-up:
//!
//! ```
//! # use livefire::{csrf::VerifyCsrfLayer, flash::LiveFlashLayer, session::CookieSessionLayer};
//! # use livefire::{SecurityHeadersLayer, token::Keyring};
//! # let (keyring, routes) = (Keyring::random(), axum::Router::new());
//! let app: axum::Router = routes
//!     .layer(VerifyCsrfLayer::new())
//!     .layer(LiveFlashLayer::new(keyring.clone()))
//!     .layer(CookieSessionLayer::new(keyring))
//!     .layer(SecurityHeadersLayer::new());
//! ```
//!
//! [`BrowserPipeline::apply`] does the same, with one difference: livefire's long-poll
//! endpoint (`POST /live/longpoll`, the transport the client falls back to when WebSockets are
//! blocked) is left out of the CSRF check. The client posts its messages there without a CSRF
//! token, and the endpoint authenticates them with its own sealed poll token, issued only to a
//! connection that presented a valid CSRF token (as the WebSocket does). A bare
//! `VerifyCsrfLayer` around the live routes refuses those posts with 403, which breaks the
//! fallback.
//!
//! The layers stay available separately for apps that need something in between (an
//! authentication middleware goes *inside* the pipeline: add it to the router before calling
//! [`apply`](BrowserPipeline::apply), so it sees the session and the flash's session writes).

use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use futures_util::future::BoxFuture;
use http::{Method, Request};
use tower::{Layer, Service, ServiceExt as _};

use crate::csrf::{VerifyCsrf, VerifyCsrfLayer};
use crate::flash::LiveFlashLayer;
use crate::security_headers::SecurityHeadersLayer;
use crate::session::{CookieSessionLayer, TicketStore};
use crate::token::Keyring;

/// The path of livefire's long-poll transport, which authenticates its posts itself.
const LONGPOLL_PATH: &str = "/live/longpoll";

/// The layers of a browser app, with sane defaults: a session cookie (`secure(false)` for
/// `http://localhost`, see [`secure`](BrowserPipeline::secure)), flash, CSRF protection of
/// every unsafe request and livefire's security headers. See the [module docs](self) for the
/// order and why.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use axum::{body::Body, routing::post};
/// use http::{Request, StatusCode, header};
/// use livefire::pipeline::BrowserPipeline;
/// use livefire::{LiveRouter, LiveView, Rendered, Socket, html};
/// use livefire::token::Keyring;
/// use tower::ServiceExt as _;
///
/// #[derive(Default)]
/// struct Home;
/// impl LiveView for Home {
///     type Message = ();
///     fn render(&self, _: &Socket) -> Rendered { html!(<p>"Home"</p>) }
/// }
///
/// let keyring = Keyring::random();
/// let routes = LiveRouter::new(keyring.clone()).live("/", Home::default).build().unwrap()
///     .route("/logout", post(|| async { "bye" }));
/// let app = BrowserPipeline::new(keyring).apply(routes);
///
/// let res = app.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(res.status(), StatusCode::OK);
/// assert!(res.headers().contains_key(header::SET_COOKIE)); // the session
/// assert!(res.headers().contains_key(header::CONTENT_SECURITY_POLICY));
/// // A form post without a CSRF token is refused.
/// let post = Request::post("/logout").body(Body::empty()).unwrap();
/// assert_eq!(app.oneshot(post).await.unwrap().status(), StatusCode::FORBIDDEN);
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a pipeline does nothing until `apply` is called"]
pub struct BrowserPipeline {
    session: CookieSessionLayer,
    flash: LiveFlashLayer,
    csrf: bool,
    security_headers: Option<SecurityHeadersLayer>,
    hsts: bool,
}

impl BrowserPipeline {
    /// The pipeline sealing sessions and flash tokens with `keyring` (give the
    /// [`LiveRouter`](crate::LiveRouter) the same one).
    pub fn new(keyring: Keyring) -> Self {
        Self {
            session: CookieSessionLayer::new(keyring.clone()),
            flash: LiveFlashLayer::new(keyring),
            csrf: true,
            security_headers: Some(SecurityHeadersLayer::new()),
            hsts: false,
        }
    }

    /// HTTPS mode: a `Secure`, `__Host-` session cookie ([`CookieSessionLayer::secure`]) and
    /// HSTS ([`SecurityHeadersLayer::hsts`]). Turn it on in production.
    ///
    /// ```
    /// use livefire::pipeline::BrowserPipeline;
    /// let pipeline = BrowserPipeline::new(livefire::token::Keyring::random()).secure(true);
    /// assert_eq!(pipeline.session_layer().effective_cookie_name(), "__Host-livefire_session");
    /// ```
    pub fn secure(mut self, secure: bool) -> Self {
        self.session = self.session.secure(secure);
        self.hsts = secure;
        self
    }

    /// Replaces the session layer (another cookie name or lifetime). Its keyring must be the
    /// pipeline's. Call [`secure`](BrowserPipeline::secure) after it, or configure it on the
    /// layer.
    ///
    /// ```
    /// use livefire::pipeline::BrowserPipeline;
    /// use livefire::session::CookieSessionLayer;
    /// let keyring = livefire::token::Keyring::random();
    /// let pipeline = BrowserPipeline::new(keyring.clone())
    ///     .session(CookieSessionLayer::new(keyring).cookie_name("chat_session"));
    /// assert_eq!(pipeline.session_layer().effective_cookie_name(), "chat_session");
    /// ```
    pub fn session(mut self, layer: CookieSessionLayer) -> Self {
        self.session = layer;
        self
    }

    /// The session layer as configured.
    pub fn session_layer(&self) -> &CookieSessionLayer {
        &self.session
    }

    /// Redeems live views' session-write tickets from `store` in the flash layer
    /// ([`LiveFlashLayer::session_store`]); give the same store to
    /// [`LiveRouter::session_store`](crate::LiveRouter::session_store).
    ///
    /// ```
    /// use livefire::pipeline::BrowserPipeline;
    /// use livefire::session::MemoryTicketStore;
    /// let store = MemoryTicketStore::new();
    /// let pipeline = BrowserPipeline::new(livefire::token::Keyring::random()).session_store(store.clone());
    /// # let _ = pipeline;
    /// ```
    pub fn session_store(mut self, store: impl TicketStore) -> Self {
        self.flash = self.flash.session_store(store);
        self
    }

    /// Whether to check CSRF tokens on unsafe requests (default: yes).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use axum::{body::Body, routing::post};
    /// use http::{Request, StatusCode};
    /// use livefire::pipeline::BrowserPipeline;
    /// use tower::ServiceExt as _;
    /// let routes = axum::Router::new().route("/webhook", post(|| async { "ok" }));
    /// let app = BrowserPipeline::new(livefire::token::Keyring::random()).csrf(false).apply(routes);
    /// let post = Request::post("/webhook").body(Body::empty()).unwrap();
    /// assert_eq!(app.oneshot(post).await.unwrap().status(), StatusCode::OK);
    /// # }
    /// ```
    pub fn csrf(mut self, on: bool) -> Self {
        self.csrf = on;
        self
    }

    /// Replaces the security headers (`None`: no such layer).
    ///
    /// ```
    /// use livefire::SecurityHeadersLayer;
    /// use livefire::pipeline::BrowserPipeline;
    /// let pipeline = BrowserPipeline::new(livefire::token::Keyring::random())
    ///     .security_headers(Some(SecurityHeadersLayer::new().content_security_policy("default-src 'self'")));
    /// # let _ = pipeline;
    /// ```
    pub fn security_headers(mut self, layer: Option<SecurityHeadersLayer>) -> Self {
        self.security_headers = layer;
        self
    }

    /// Wraps `router` (the live routes and the app's own) in the layers.
    pub fn apply(self, router: Router) -> Router {
        let router = if self.csrf {
            router.layer(CsrfExceptLongPollLayer)
        } else {
            router
        };
        let router = router.layer(self.flash).layer(self.session);
        match self.security_headers {
            Some(headers) => router.layer(headers.hsts(self.hsts)),
            None => router,
        }
    }
}

/// [`VerifyCsrfLayer`] on everything but `POST /live/longpoll`.
#[derive(Clone, Copy, Debug)]
struct CsrfExceptLongPollLayer;

impl<S: Clone> Layer<S> for CsrfExceptLongPollLayer {
    type Service = CsrfExceptLongPoll<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CsrfExceptLongPoll {
            checked: VerifyCsrfLayer::new().layer(inner.clone()),
            plain: inner,
        }
    }
}

/// The service of [`CsrfExceptLongPollLayer`].
#[derive(Clone, Debug)]
struct CsrfExceptLongPoll<S> {
    checked: VerifyCsrf<S>,
    plain: S,
}

impl<S> Service<Request<Body>> for CsrfExceptLongPoll<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.checked.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if req.method() == Method::POST && req.uri().path() == LONGPOLL_PATH {
            let plain = self.plain.clone();
            Box::pin(async move { plain.oneshot(req).await })
        } else {
            self.checked.call(req)
        }
    }
}
