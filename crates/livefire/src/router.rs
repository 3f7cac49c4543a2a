//! Mounting live views into an axum [`Router`]: live routes (dead render on `GET`), the
//! `/live/websocket` endpoint and the client assets.
//!
//! [`LiveRouter::into_router`] produces three kinds of routes:
//!
//! * **each live route** answers `GET` with the dead render: the view mounted and rendered
//!   inside `<div id="phx-…" data-phx-main data-phx-session="…" data-phx-static="…">`, wrapped
//!   in the [layout](crate::layout). The two attributes are sealed page tokens naming the
//!   container id, the route and its live session; the client sends them back in its join.
//! * **`/live/websocket`**, where the official client connects
//!   (`?_csrf_token=…&vsn=2.0.0`). The upgrade is refused unless `vsn` is `2.0.0` (the V2 JSON
//!   array framing) and the `Origin` is allowed (cross-site WebSocket hijacking). The cookie
//!   session is handed to the socket only when `_csrf_token` is valid for it; without it every
//!   join is answered `stale` and the client reloads the page. Frames are limited to
//!   [`MAX_MESSAGE_SIZE`] bytes and to a [`RateLimit`] per connection.
//! * **`/assets/…`**, the client bundles from `node_modules` ([`crate::assets`]).
//!
//! One WebSocket carries every live view of a browser tab, one channel (`lv:<container id>`)
//! per view; joins are checked against the page tokens before the view is mounted again.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::channel::{self, ConnInfo};
use crate::layout::{Layout, default_layout};
use crate::live_view::LiveView;
use crate::session::Session;
use crate::sockets::LiveSockets;
use crate::token::Keyring;
use crate::view::{InboundTx, JoinCtx};

/// Largest WebSocket message (and frame) accepted from a client.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;
/// The WebSocket read buffer per connection (tungstenite's default is 128 KiB). It is kept
/// for the connection's whole life, idle or not, and grows to hold the largest frame
/// received (the join, ~0.7 KiB); it also caps the bytes read per `read` call. Clicks and
/// heartbeats fit in one read, bigger frames take a few.
const READ_BUFFER: usize = 256;
/// Bytes a slow client may leave unread before writes fail.
const MAX_WRITE_BUFFER: usize = 256 * 1024;

type SpawnFn = Arc<dyn Fn(JoinCtx) -> (Box<dyn InboundTx>, tokio::task::AbortHandle) + Send + Sync>;
type DeadFn = Arc<
    dyn Fn(crate::dead::DeadCtx) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync,
>;

/// One live route.
pub(crate) struct Route {
    pub(crate) pattern: Arc<str>,
    pub(crate) live_session: Arc<str>,
    pub(crate) spawn: SpawnFn,
    pub(crate) dead: DeadFn,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("pattern", &self.pattern)
            .field("live_session", &self.live_session)
            .finish_non_exhaustive()
    }
}

/// State shared by the routes and connections of one [`LiveRouter`].
pub(crate) struct LiveShared {
    pub(crate) keyring: Keyring,
    pub(crate) routes: Vec<Route>,
    matcher: matchit::Router<usize>,
    pub(crate) layout: Layout,
    allowed_origins: Option<Vec<String>>,
    pub(crate) sockets: LiveSockets,
    socket_id: SocketIdFn,
    pub(crate) rate_limit: RateLimit,
}

/// How many frames one connection may send: `per_second` on average, `burst` at once. A client
/// over the limit is closed with code 1008 (security.md R8).
///
/// Every frame counts: heartbeats (one every 30 s), joins, events, patches.
///
/// ```
/// use livefire::{LiveRouter, RateLimit};
/// use livefire::token::Keyring;
///
/// assert_eq!(RateLimit::default(), RateLimit { per_second: 1000.0, burst: 5000.0 });
/// // A kiosk app where nobody clicks faster than a few times per second.
/// let limit = RateLimit { per_second: 20.0, burst: 100.0 };
/// let app: axum::Router = LiveRouter::new(Keyring::random()).rate_limit(limit).into_router();
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained frames per second.
    pub per_second: f32,
    /// Frames allowed in one burst.
    pub burst: f32,
}

impl Default for RateLimit {
    /// 1,000 frames per second, bursts of 5,000: far above what a person produces, low enough
    /// that one connection cannot take more than a small share of the server.
    fn default() -> Self {
        Self {
            per_second: 1000.0,
            burst: 5000.0,
        }
    }
}

type SocketIdFn = Arc<dyn Fn(&Session) -> Option<String> + Send + Sync>;

fn default_socket_id(session: &Session) -> Option<String> {
    session.get::<String>(crate::sockets::LIVE_SOCKET_ID)
}

impl std::fmt::Debug for LiveShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveShared")
            .field("routes", &self.routes)
            .field("allowed_origins", &self.allowed_origins)
            .finish_non_exhaustive()
    }
}

impl LiveShared {
    /// The route index and path parameters for a path (query ignored).
    pub(crate) fn match_path(
        &self,
        path_and_query: &str,
    ) -> Option<(usize, HashMap<String, String>)> {
        let path = path_and_query
            .split(['?', '#'])
            .next()
            .unwrap_or(path_and_query);
        let matched = self.matcher.at(path).ok()?;
        let params = matched
            .params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Some((*matched.value, params))
    }

    /// Origin check for the WebSocket upgrade (cross-site WebSocket hijacking defence).
    ///
    /// A missing `Origin` is allowed (non-browser clients); the session is still only exposed
    /// with a valid CSRF token.
    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        match &self.allowed_origins {
            Some(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin)),
            None => {
                let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
                    return false;
                };
                let authority = origin
                    .strip_prefix("http://")
                    .or_else(|| origin.strip_prefix("https://"));
                authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
            }
        }
    }
}

/// Builds the routes of live views.
///
/// ```
/// use livefire::{html, LiveRouter, LiveView, Rendered, Socket};
/// use livefire::session::SessionLayer;
/// use livefire::flash::LiveFlashLayer;
/// use livefire::token::Keyring;
///
/// #[derive(Default)]
/// struct Hello;
/// impl LiveView for Hello {
///     type Message = ();
///     fn render(&self, _: &Socket) -> Rendered { html!(<p>"Hello"</p>) }
/// }
///
/// let keyring = Keyring::new([7u8; 64]).unwrap();
/// let app: axum::Router = LiveRouter::new(keyring.clone())
///     .live("/", Hello::default)
///     .into_router()
///     .layer(LiveFlashLayer::new(keyring.clone()))
///     .layer(SessionLayer::new(keyring));
/// ```
///
/// Every option, with the views grouped into two live sessions (live navigation works only
/// within one; across them the client does a full page load):
///
/// ```
/// # use livefire::{html, LiveRouter, LiveView, Rendered, Socket};
/// # use livefire::token::Keyring;
/// # #[derive(Default)] struct Hello;
/// # impl LiveView for Hello { type Message = (); fn render(&self, _: &Socket) -> Rendered { html!() } }
/// let router = LiveRouter::new(Keyring::random())
///     .layout(livefire::layout::default_layout)
///     .node_modules(livefire::assets::find_node_modules())
///     .allowed_origins(["https://example.com", "https://www.example.com"])
///     .rate_limit(livefire::RateLimit { per_second: 100.0, burst: 500.0 })
///     // Group sockets by a login token kept in the session instead of a `live_socket_id` key.
///     .socket_id(|session| session.get::<String>("user_token").map(|t| format!("users_sessions:{t}")))
///     .live("/", Hello::default)
///     .live("/about", Hello::default)
///     .live_session("admin")
///     .live("/admin/users/{id}", Hello::default);
/// let sockets = router.sockets(); // for the logout handler
/// let app: axum::Router = router.into_router();
/// assert_eq!(sockets.count("users_sessions:abc"), 0);
/// # let _ = app;
/// ```
pub struct LiveRouter {
    keyring: Keyring,
    routes: Vec<Route>,
    layout: Layout,
    live_session: Arc<str>,
    allowed_origins: Option<Vec<String>>,
    node_modules: Option<PathBuf>,
    sockets: LiveSockets,
    socket_id: SocketIdFn,
    rate_limit: RateLimit,
}

impl std::fmt::Debug for LiveRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveRouter")
            .field("routes", &self.routes)
            .field("live_session", &self.live_session)
            .finish_non_exhaustive()
    }
}

impl LiveRouter {
    /// A router whose page tokens are sealed with `keyring`.
    pub fn new(keyring: Keyring) -> Self {
        Self {
            keyring,
            routes: Vec::new(),
            layout: Arc::new(default_layout),
            live_session: Arc::from("default"),
            allowed_origins: None,
            node_modules: None,
            sockets: LiveSockets::default(),
            socket_id: Arc::new(default_socket_id),
            rate_limit: RateLimit::default(),
        }
    }

    /// The root layout around every live page.
    pub fn layout(
        mut self,
        layout: impl Fn(&crate::layout::Page) -> crate::rendered::Rendered + Send + Sync + 'static,
    ) -> Self {
        self.layout = Arc::new(layout);
        self
    }

    /// Routes added after this belong to the live session `name`. Live navigation
    /// (`push_navigate`) only works within one live session; across sessions the client does a
    /// full page load.
    pub fn live_session(mut self, name: &str) -> Self {
        self.live_session = Arc::from(name);
        self
    }

    /// Origins (`https://example.com`) allowed to open the live WebSocket. Default: the
    /// request's own host, over http or https.
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins = Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Where the npm packages are (default: [`find_node_modules`](crate::assets::find_node_modules)).
    pub fn node_modules(mut self, dir: impl Into<PathBuf>) -> Self {
        self.node_modules = Some(dir.into());
        self
    }

    /// Adds a live view at `path` (axum syntax: `/posts/{id}`). `factory` makes a fresh view
    /// for every dead render and every join; capture app state (a database handle) in it.
    ///
    /// # Panics
    /// [`into_router`](Self::into_router) panics if `path` is invalid or conflicts with a route
    /// added before.
    pub fn live<V, F>(mut self, path: &str, factory: F) -> Self
    where
        V: LiveView,
        F: Fn() -> V + Send + Sync + 'static,
    {
        let factory = Arc::new(factory);
        let spawn_factory = factory.clone();
        let spawn: SpawnFn = Arc::new(move |ctx| crate::view::spawn(spawn_factory(), ctx));
        let dead: DeadFn = Arc::new(move |ctx| {
            let view = factory();
            Box::pin(crate::dead::render(view, ctx))
        });
        self.routes.push(Route {
            pattern: Arc::from(path),
            live_session: self.live_session.clone(),
            spawn,
            dead,
        });
        self
    }

    /// The registry of connected live sockets by the session's `live_socket_id`: keep a clone
    /// to disconnect every socket of a login on logout ([`LiveSockets::disconnect`]).
    pub fn sockets(&self) -> LiveSockets {
        self.sockets.clone()
    }

    /// Shares logouts through `pubsub`: [`LiveSockets::disconnect`] on any node (any
    /// [`LiveRouter`] attached to the same pub/sub, e.g. [`PubSub::redis`](crate::pubsub::PubSub)
    /// on every node) closes the sockets of that `live_socket_id` on all of them. Without it,
    /// `disconnect` reaches this process's sockets only.
    ///
    /// ```
    /// use livefire::LiveRouter;
    /// use livefire::pubsub::PubSub;
    /// use livefire::token::Keyring;
    ///
    /// let pubsub = PubSub::local(); // PubSub::redis(url).await? across nodes
    /// let keyring = Keyring::random();
    /// let node_a = LiveRouter::new(keyring.clone()).pubsub(pubsub.clone());
    /// let node_b = LiveRouter::new(keyring).pubsub(pubsub);
    /// // A logout handled by A closes B's sockets too; the count is A's own sockets.
    /// assert_eq!(node_a.sockets().disconnect("users_sessions:abc"), 0);
    /// # let _ = node_b;
    /// ```
    pub fn pubsub(self, pubsub: crate::pubsub::PubSub) -> Self {
        self.sockets.attach_pubsub(pubsub);
        self
    }

    /// How a connecting socket's `live_socket_id` is found in its (CSRF-checked) session.
    /// Default: the session value under [`LIVE_SOCKET_ID`](crate::sockets::LIVE_SOCKET_ID).
    /// Deriving it from a login token keeps the cookie small.
    pub fn socket_id(
        mut self,
        f: impl Fn(&Session) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.socket_id = Arc::new(f);
        self
    }

    /// The per-connection frame rate limit (default: [`RateLimit::default`]).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// The axum router: every live route, `/live/websocket` and `/assets/*`.
    ///
    /// Add [`SessionLayer`](crate::session::SessionLayer) (outermost) and
    /// [`LiveFlashLayer`](crate::flash::LiveFlashLayer) around it.
    ///
    /// # Panics
    /// If a route added with [`live`](Self::live) is invalid or conflicts with another.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use axum::body::{Body, to_bytes};
    /// use http::{Request, StatusCode, header};
    /// use livefire::session::SessionLayer;
    /// use livefire::token::Keyring;
    /// use livefire::{html, LiveRouter, LiveView, Params, Rendered, Result, Socket};
    /// use tower::ServiceExt as _;
    ///
    /// #[derive(Default)]
    /// struct Post { id: String }
    ///
    /// impl LiveView for Post {
    ///     type Message = ();
    ///     async fn handle_params(&mut self, params: &Params, socket: &mut Socket) -> Result {
    ///         self.id = params.get("id").unwrap_or_default().to_owned();
    ///         socket.set_title(format!("Post {}", self.id));
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered { html!(<h1>"Post " {&self.id}</h1>) }
    /// }
    ///
    /// let keyring = Keyring::random();
    /// let app = LiveRouter::new(keyring.clone())
    ///     .layout(|page| html!(
    ///         <html><head>{page.csrf_meta()}<title>{page.title()}</title></head>
    ///         <body>{page.content()}</body></html>
    ///     ))
    ///     .live("/posts/{id}", Post::default)
    ///     .into_router()
    ///     .layer(SessionLayer::new(keyring));
    ///
    /// // The dead render: plain HTML, before any JavaScript runs.
    /// let res = app.oneshot(Request::get("/posts/7").body(Body::empty()).unwrap()).await.unwrap();
    /// assert_eq!(res.status(), StatusCode::OK);
    /// // The session cookie now holds the CSRF secret the socket will be checked against.
    /// assert!(res.headers()[header::SET_COOKIE].to_str().unwrap().starts_with("livefire_session="));
    /// let body = to_bytes(res.into_body(), usize::MAX).await.unwrap();
    /// let html = std::str::from_utf8(&body).unwrap();
    /// assert!(html.contains("<title>Post 7</title>"));
    /// assert!(html.contains(r#"<meta name="csrf-token" content=""#));
    /// assert!(html.contains(r#"data-phx-main data-phx-session=""#));
    /// assert!(html.ends_with("><h1>Post 7</h1></div></body></html>"));
    /// # }
    /// ```
    pub fn into_router(self) -> Router {
        let mut matcher = matchit::Router::new();
        for (i, route) in self.routes.iter().enumerate() {
            if let Err(err) = matcher.insert(route.pattern.to_string(), i) {
                panic!("invalid live route {:?}: {err}", route.pattern);
            }
        }
        let patterns: Vec<Arc<str>> = self.routes.iter().map(|r| r.pattern.clone()).collect();
        let shared = Arc::new(LiveShared {
            keyring: self.keyring,
            routes: self.routes,
            matcher,
            layout: self.layout,
            allowed_origins: self.allowed_origins,
            sockets: self.sockets,
            socket_id: self.socket_id,
            rate_limit: self.rate_limit,
        });
        let mut router = Router::new();
        for (i, pattern) in patterns.iter().enumerate() {
            let shared = shared.clone();
            router = router.route(
                pattern,
                get(move |req: Request| {
                    let shared = shared.clone();
                    async move { crate::dead::handle(shared, i, req).await }
                }),
            );
        }
        let node_modules = self
            .node_modules
            .unwrap_or_else(crate::assets::find_node_modules);
        router
            .route("/live/websocket", get(websocket).with_state(shared))
            .merge(crate::assets::assets_router(node_modules))
    }
}

/// `GET /live/websocket?_csrf_token=…&vsn=2.0.0`
async fn websocket(
    State(live): State<Arc<LiveShared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: Option<axum::Extension<Session>>,
    ws: WebSocketUpgrade,
) -> Response {
    if query.get("vsn").map(String::as_str) != Some("2.0.0") {
        return (
            StatusCode::BAD_REQUEST,
            "unsupported serializer version (vsn must be 2.0.0)",
        )
            .into_response();
    }
    if !live.origin_allowed(&headers) {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "websocket refused: foreign origin");
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    // The cookie session is exposed to the socket only with a CSRF token valid for it.
    let info = match (session, query.get("_csrf_token")) {
        (Some(axum::Extension(session)), Some(token)) if session.verify_csrf_token(token) => {
            ConnInfo {
                session: Some(Arc::new(session.data())),
                session_id: session.existing_id(),
                csrf_token: Some(Arc::from(session.csrf_token())),
                live_socket_id: (live.socket_id)(&session),
            }
        }
        (None, _) => {
            tracing::error!(
                "livefire: SessionLayer is missing around the live router; every join will be refused"
            );
            ConnInfo {
                session: None,
                session_id: None,
                csrf_token: None,
                live_socket_id: None,
            }
        }
        _ => ConnInfo {
            session: None,
            session_id: None,
            csrf_token: None,
            live_socket_id: None,
        },
    };
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(MAX_MESSAGE_SIZE)
        .max_frame_size(MAX_MESSAGE_SIZE)
        .accept_unmasked_frames(false)
        .on_upgrade(move |socket| channel::serve(socket, live, info))
}
