//! [`LiveRouter`]: mounting live views into an axum [`Router`]: live routes (dead render on
//! `GET`), the `/live/websocket` endpoint and the client assets.
//!
//! [`LiveRouter::build`] produces three kinds of routes:
//!
//! * **each live route** answers `GET` with the dead render: the view mounted and rendered
//!   inside `<div id="phx-…" data-phx-main data-phx-session="…" data-phx-static="…">` (or the
//!   route's [`Container`]), wrapped in the [layout](crate::layout). The two attributes are
//!   sealed page tokens naming the container id, the route and its live session; the client
//!   sends them back in its join.
//! * **`/live/websocket`**, where the official client connects
//!   (`?_csrf_token=…&vsn=2.0.0`); see docs/protocol.md §1.1 for what is checked.
//! * **`/assets/…`**, the client bundles from `node_modules` ([`crate::assets`]).
//!
//! One WebSocket carries every live view of a browser tab, one channel (`lv:<container id>`)
//! per view; joins are checked against the page tokens before the view is mounted again.

use std::any::TypeId;
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawPathParams, Request};
use axum::response::Response;
use axum::routing::{get, post};

use crate::endpoint::{
    DeadCtx, Endpoint, EndpointParts, JoinCtx, Mounter, NestedCtx, Route, SocketIdFn, Spawned,
};
use crate::layout::{Container, ContainerError, Layout, Page, default_layout};
use crate::lifecycle::Failure;
use crate::limits::Limits;
use crate::live_view::LiveView;
use crate::on_mount::{Halt, Hook, OnMount};
use crate::rendered::Rendered;
use crate::session::tickets::Tickets;
use crate::session::{SESSION_PATH, Session, TicketStore};
use crate::session_form::HandoffState;
use crate::sockets::LiveSockets;
use crate::token::Keyring;

/// A live router's configuration is invalid; reported by [`LiveRouter::build`].
///
/// ```
/// use livefire::{html, ConfigError, LiveRouter, LiveView, Rendered, Socket};
/// # #[derive(Default)] struct Post;
/// # impl LiveView for Post { type Message = (); fn render(&self, _: &Socket) -> Rendered { html!() } }
/// let err = LiveRouter::new(livefire::token::Keyring::random())
///     .live("/posts/:id", Post::default)
///     .build()
///     .unwrap_err();
/// assert!(matches!(err, ConfigError::PhoenixSyntax { .. }));
/// assert_eq!(
///     err.to_string(),
///     "live route \"/posts/:id\": path parameters are written {name} in axum; use \"/posts/{id}\""
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A live route's path is not a valid axum path, or conflicts with one added before.
    #[error("live route {path:?}: {reason}")]
    InvalidRoute {
        /// The path as given to [`LiveRouter::live`].
        path: String,
        /// Why it was refused.
        reason: String,
    },
    /// A live route uses Phoenix's `:param` or `*glob` syntax (axum would panic on it);
    /// `suggestion` is the path written for axum (`{param}`, `{*glob}`).
    #[error(
        "live route {path:?}: path parameters are written {{name}} in axum; use {suggestion:?}"
    )]
    PhoenixSyntax {
        /// The path as given.
        path: String,
        /// The same path in axum syntax.
        suggestion: String,
    },
    /// [`LiveRouter::allowed_origins`] was given an empty list or an origin that is not
    /// `scheme://host[:port]`.
    #[error("allowed origin {0:?} is not scheme://host[:port]")]
    InvalidOrigin(String),
    /// A live route's [`Container`] cannot hold a live view (see [`Container::check`]).
    #[error("live route {path:?}: {source}")]
    InvalidContainer {
        /// The route's path.
        path: String,
        /// What is wrong with its container.
        source: ContainerError,
    },
}

/// Builds the routes of live views.
///
/// ```
/// use livefire::{html, LiveRouter, LiveView, Rendered, Socket};
/// use livefire::session::CookieSessionLayer;
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
///     .build()
///     .expect("valid routes")
///     .layer(LiveFlashLayer::new(keyring.clone()))
///     .layer(CookieSessionLayer::new(keyring));
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
///     .limits(livefire::Limits { max_views_per_socket: 16, ..Default::default() })
///     // Group sockets by a login token kept in the session instead of a `live_socket_id` key.
///     .socket_id(|session| session.get::<String>("user_token").map(|t| format!("users_sessions:{t}")))
///     .live("/", Hello::default)
///     .live("/about", Hello::default)
///     .live_session("admin")
///     .live("/admin/users/{id}", Hello::default);
/// let sockets = router.sockets(); // for the logout handler
/// let app: axum::Router = router.build().unwrap();
/// assert_eq!(sockets.count("users_sessions:abc"), 0);
/// # let _ = app;
/// ```
pub struct LiveRouter {
    keyring: Keyring,
    routes: Vec<Route>,
    layout: Layout,
    live_session: Arc<str>,
    /// The current live session's `on_mount` hooks.
    hooks: Vec<Hook>,
    /// The current live session's live container.
    container: Arc<Container>,
    allowed_origins: Option<Vec<String>>,
    node_modules: Option<PathBuf>,
    sockets: LiveSockets,
    socket_id: SocketIdFn,
    limits: Limits,
    tickets: Option<Tickets>,
    /// View types that can be nested ([`crate::nested`]), by name.
    children: HashMap<&'static str, Box<dyn Mounter>>,
    upload_dir: Option<PathBuf>,
}

impl std::fmt::Debug for LiveRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveRouter")
            .field("routes", &self.routes)
            .field("live_session", &self.live_session)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

fn default_socket_id(session: &Session) -> Option<String> {
    session.get::<String>(crate::sockets::LIVE_SOCKET_ID)
}

impl LiveRouter {
    /// A router whose page tokens are sealed with `keyring`.
    pub fn new(keyring: Keyring) -> Self {
        Self {
            keyring,
            routes: Vec::new(),
            layout: Arc::new(default_layout),
            live_session: Arc::from("default"),
            hooks: Vec::new(),
            container: Arc::default(),
            allowed_origins: None,
            node_modules: None,
            sockets: LiveSockets::default(),
            socket_id: Arc::new(default_socket_id),
            limits: Limits::default(),
            tickets: None,
            children: HashMap::new(),
            upload_dir: None,
        }
    }

    /// Registers a live view type that other views nest with
    /// [`live_render`](crate::nested::live_render); `factory` makes a fresh one for every
    /// dead render and join, as for [`live`](Self::live). See [`crate::nested`].
    pub fn child_view<V, F>(mut self, factory: F) -> Self
    where
        V: LiveView,
        F: Fn() -> V + Send + Sync + 'static,
    {
        self.children.insert(
            std::any::type_name::<V>(),
            Box::new(Factory {
                make: factory,
                _view: PhantomData,
            }),
        );
        self
    }

    /// The root layout around every live page.
    pub fn layout(mut self, layout: impl Fn(&Page) -> Rendered + Send + Sync + 'static) -> Self {
        self.layout = Arc::new(layout);
        self
    }

    /// Routes added after this belong to the live session `name`. Live navigation
    /// (`push_navigate`) only works within one live session; across sessions the client does a
    /// full page load.
    pub fn live_session(mut self, name: &str) -> Self {
        self.live_session = Arc::from(name);
        self.hooks.clear();
        self.container = Arc::default();
        self
    }

    /// The [live container](Container) of the routes added after this in the current live
    /// session (until the next `container` or [`live_session`](Self::live_session), which
    /// goes back to `<div>`). For one route, see
    /// [`live_with_container`](Self::live_with_container). A container that cannot hold a
    /// view is reported by [`build`](Self::build).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use axum::body::{Body, to_bytes};
    /// use http::Request;
    /// use livefire::layout::Container;
    /// use livefire::session::CookieSessionLayer;
    /// use livefire::token::Keyring;
    /// use livefire::{html, LiveRouter, LiveView, Rendered, Socket};
    /// use tower::ServiceExt as _;
    ///
    /// #[derive(Default)]
    /// struct Page;
    /// impl LiveView for Page {
    ///     type Message = ();
    ///     fn render(&self, _: &Socket) -> Rendered { html!(<h1>"Admin"</h1>) }
    /// }
    ///
    /// let keyring = Keyring::random();
    /// let app = LiveRouter::new(keyring.clone())
    ///     .live_session("admin")
    ///     .container(Container::new("main").attr("class", "admin"))
    ///     .live("/admin", Page::default)
    ///     .build()
    ///     .unwrap()
    ///     .layer(CookieSessionLayer::new(keyring));
    /// let res = app.oneshot(Request::get("/admin").body(Body::empty()).unwrap()).await.unwrap();
    /// let html = String::from_utf8(to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
    /// assert!(html.contains("<main id=\"phx-"));
    /// assert!(html.contains("\" class=\"admin\"><h1>Admin</h1></main>"));
    /// # }
    /// ```
    pub fn container(mut self, container: Container) -> Self {
        self.container = Arc::new(container);
        self
    }

    /// Adds an `on_mount` hook to the current live session: it runs, in the order added,
    /// before `mount` of every view added after it in this live session, on the dead render,
    /// on the connected join and on live navigation into the session. It passes shared state
    /// to the views ([`OnMount::assign`], read with [`Mount::get`](crate::Mount::get)) or
    /// halts with a redirect and a flash ([`Halt`]).
    ///
    /// ```
    /// use livefire::{html, Halt, LiveRouter, LiveView, Mount, OnMount, Rendered, Result, Socket};
    ///
    /// #[derive(Clone)]
    /// struct CurrentUser(String);
    ///
    /// #[derive(Default)]
    /// struct Account { email: String }
    /// impl LiveView for Account {
    ///     type Message = ();
    ///     async fn mount(&mut self, cx: &Mount, _: &mut Socket) -> Result {
    ///         // The hook guarantees a user: no session check here.
    ///         self.email = cx.get::<CurrentUser>().map(|u| u.0.clone()).unwrap_or_default();
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered { html!(<p>{self.email.as_str()}</p>) }
    /// }
    ///
    /// let router = LiveRouter::new(livefire::token::Keyring::random())
    ///     .live_session("authenticated")
    ///     .on_mount(|cx: OnMount| async move {
    ///         match cx.session::<String>("user_email") {
    ///             Some(email) => Ok(cx.assign(CurrentUser(email))),
    ///             None => Err(Halt::redirect("/login").flash("error", "You must log in.")),
    ///         }
    ///     })
    ///     .live("/account", Account::default);
    /// # let _ = router.build().unwrap();
    /// ```
    pub fn on_mount<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(OnMount) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<OnMount, Halt>> + Send + 'static,
    {
        self.hooks.push(crate::on_mount::hook(hook));
        self
    }

    /// Origins (`https://example.com`: scheme, host and port) allowed to open the live
    /// WebSocket. **Required on an https deployment** (a session layer with secure cookies):
    /// without it every upgrade is refused there. In development (cookies not secure) the
    /// default allows `http://` + the request's own `Host` only.
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

    /// Adds a live view at `path` (axum syntax: `/posts/{id}`, `/files/{*rest}`). `factory`
    /// makes a fresh view for every dead render and every join; capture app state (a database
    /// handle) in it.
    ///
    /// An invalid path is reported by [`build`](Self::build), never by a panic: Phoenix's
    /// `/rooms/:name` and `/files/*rest` are refused with the axum spelling
    /// ([`ConfigError::PhoenixSyntax`]) rather than translated, so that live routes and the
    /// app's other axum routes are written one way; a path without a leading `/`, a duplicate
    /// and a path livefire serves itself (`/live/websocket`, …) are
    /// [`ConfigError::InvalidRoute`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use axum::body::{Body, to_bytes};
    /// use livefire::session::CookieSessionLayer;
    /// use livefire::{html, ConfigError, LiveRouter, LiveView, Params, Rendered, Result, Socket};
    /// use tower::ServiceExt as _;
    /// # #[derive(Default)] struct Files { path: String }
    /// # impl LiveView for Files {
    /// #     type Message = ();
    /// #     async fn handle_params(&mut self, params: &Params, _: &mut Socket) -> Result {
    /// #         self.path = params.get("rest").unwrap_or_default().to_owned();
    /// #         Ok(())
    /// #     }
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<p>{self.path.as_str()}</p>) }
    /// # }
    /// let keyring = livefire::token::Keyring::random();
    /// // `rest` is the rest of the path, slashes included.
    /// let app = LiveRouter::new(keyring.clone())
    ///     .live("/files/{*rest}", Files::default)
    ///     .build()
    ///     .unwrap()
    ///     .layer(CookieSessionLayer::new(keyring.clone()));
    /// let req = http::Request::get("/files/docs/a.txt").body(Body::empty()).unwrap();
    /// let body = to_bytes(app.oneshot(req).await.unwrap().into_body(), usize::MAX).await.unwrap();
    /// assert!(String::from_utf8_lossy(&body).contains("<p>docs/a.txt</p>"));
    ///
    /// let err = LiveRouter::new(keyring.clone()).live("/files/*rest", Files::default).build().unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "live route \"/files/*rest\": path parameters are written {name} in axum; use \"/files/{*rest}\""
    /// );
    /// let err = LiveRouter::new(keyring).live("/live/websocket", Files::default).build().unwrap_err();
    /// assert!(matches!(err, ConfigError::InvalidRoute { .. }));
    /// # }
    /// ```
    pub fn live<V, F>(self, path: &str, factory: F) -> Self
    where
        V: LiveView,
        F: Fn() -> V + Send + Sync + 'static,
    {
        let container = self.container.clone();
        self.add_route(path, container, factory)
    }

    /// Adds a live view at `path` as [`live`](Self::live) does, rendered in `container`
    /// instead of the live session's container: Phoenix's
    /// `live "/path", View, container: {tag, attrs}`.
    ///
    /// ```
    /// use livefire::js::{JS, TransitionOpts};
    /// use livefire::layout::Container;
    /// use livefire::{html, ConfigError, LiveRouter, LiveView, Rendered, Socket};
    /// # #[derive(Default)] struct Items;
    /// # impl LiveView for Items { type Message = (); fn render(&self, _: &Socket) -> Rendered { html!() } }
    ///
    /// // Live navigation away from /items fades the whole page out first.
    /// let fade = JS::new().transition("fade-out", TransitionOpts::new().time(100));
    /// let router = LiveRouter::new(livefire::token::Keyring::random())
    ///     .live_with_container("/items", Container::new("div").attr("phx-remove", fade), Items::default)
    ///     .live("/other", Items::default);
    /// assert!(router.build().is_ok());
    ///
    /// let err = LiveRouter::new(livefire::token::Keyring::random())
    ///     .live_with_container("/items", Container::new("br"), Items::default)
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, ConfigError::InvalidContainer { .. }));
    /// assert_eq!(err.to_string(), "live route \"/items\": container tag \"br\" cannot hold a live view");
    /// ```
    pub fn live_with_container<V, F>(self, path: &str, container: Container, factory: F) -> Self
    where
        V: LiveView,
        F: Fn() -> V + Send + Sync + 'static,
    {
        self.add_route(path, Arc::new(container), factory)
    }

    fn add_route<V, F>(mut self, path: &str, container: Arc<Container>, factory: F) -> Self
    where
        V: LiveView,
        F: Fn() -> V + Send + Sync + 'static,
    {
        self.routes.push(Route {
            pattern: Arc::from(path),
            live_session: self.live_session.clone(),
            view: TypeId::of::<V>(),
            hooks: self.hooks.clone().into(),
            container,
            mounter: Box::new(Factory {
                make: factory,
                _view: PhantomData,
            }),
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

    /// Where live views' session writes wait for the browser
    /// ([`Socket::put_session`](crate::SocketCore::put_session)): give the **same** store to
    /// [`LiveFlashLayer::session_store`](crate::flash::LiveFlashLayer::session_store), which
    /// redeems the tickets on the next request. With a store the router also serves
    /// `POST` [`SESSION_PATH`](crate::session::SESSION_PATH) (the `phx-trigger-action` form of
    /// [`Socket::session_form`](crate::SocketCore::session_form)) and purges expired tickets in the
    /// background.
    ///
    /// ```
    /// use livefire::LiveRouter;
    /// use livefire::flash::LiveFlashLayer;
    /// use livefire::session::{CookieSessionLayer, MemoryTicketStore};
    /// use livefire::token::Keyring;
    ///
    /// let keyring = Keyring::random();
    /// let tickets = MemoryTicketStore::new(); // SqliteTicketStore, RedisTicketStore
    /// let app: axum::Router = LiveRouter::new(keyring.clone())
    ///     .session_store(tickets.clone())
    ///     .build()
    ///     .unwrap()
    ///     .layer(LiveFlashLayer::new(keyring.clone()).session_store(tickets))
    ///     .layer(CookieSessionLayer::new(keyring));
    /// ```
    pub fn session_store(mut self, store: impl TicketStore) -> Self {
        self.tickets = Some(Tickets {
            store: Arc::new(store),
        });
        self
    }

    /// Where uploads ([`crate::upload`]) are written while they arrive (default: the
    /// system's temporary directory). Each file is deleted when its entry is cancelled or
    /// its view ends, unless the view persisted it.
    ///
    /// ```
    /// let router = livefire::LiveRouter::new(livefire::token::Keyring::random())
    ///     .upload_dir(std::env::temp_dir().join("my-app-uploads"));
    /// # let _ = router;
    /// ```
    pub fn upload_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.upload_dir = Some(dir.into());
        self
    }

    /// The live socket's hard limits (default: [`Limits::default`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The axum router: every live route, `/live/websocket` and `/assets/*`; or what is wrong
    /// with the configuration.
    ///
    /// Add [`CookieSessionLayer`](crate::session::CookieSessionLayer) (outermost) and
    /// [`LiveFlashLayer`](crate::flash::LiveFlashLayer) around it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use axum::body::{Body, to_bytes};
    /// use http::{Request, StatusCode, header};
    /// use livefire::session::CookieSessionLayer;
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
    ///     .build()
    ///     .unwrap()
    ///     .layer(CookieSessionLayer::new(keyring));
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
    pub fn build(self) -> Result<Router, ConfigError> {
        let mut matcher = matchit::Router::new();
        for (i, route) in self.routes.iter().enumerate() {
            check_path(&route.pattern)?;
            route
                .container
                .check()
                .map_err(|source| ConfigError::InvalidContainer {
                    path: route.pattern.to_string(),
                    source,
                })?;
            matcher
                .insert(route.pattern.to_string(), i)
                .map_err(|err| ConfigError::InvalidRoute {
                    path: route.pattern.to_string(),
                    reason: err.to_string(),
                })?;
        }
        if let Some(origins) = &self.allowed_origins {
            if origins.is_empty() {
                return Err(ConfigError::InvalidOrigin(String::new()));
            }
            if let Some(bad) = origins.iter().find(|o| !is_origin(o)) {
                return Err(ConfigError::InvalidOrigin(bad.clone()));
            }
        }
        let patterns: Vec<Arc<str>> = self.routes.iter().map(|r| r.pattern.clone()).collect();
        let handoff = self.tickets.clone().map(|tickets| HandoffState {
            tickets,
            keyring: self.keyring.clone(),
        });
        if let Some(tickets) = &self.tickets {
            spawn_purger(tickets);
        }
        let endpoint = Arc::new(Endpoint::new(EndpointParts {
            keyring: self.keyring,
            routes: self.routes,
            matcher,
            layout: self.layout,
            allowed_origins: self.allowed_origins,
            sockets: self.sockets,
            socket_id: self.socket_id,
            limits: self.limits,
            tickets: self.tickets,
            children: self.children,
            upload_dir: self.upload_dir.unwrap_or_else(std::env::temp_dir),
        }));
        let mut router = Router::new();
        for (i, pattern) in patterns.iter().enumerate() {
            let endpoint = endpoint.clone();
            router = router.route(
                pattern,
                get(move |path: RawPathParams, req: Request| {
                    let params: HashMap<String, String> = path
                        .iter()
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect();
                    crate::dead::handle(endpoint, i, params, req)
                }),
            );
        }
        if let Some(handoff) = handoff {
            router = router.route(
                SESSION_PATH,
                post(crate::session_form::post).with_state(handoff),
            );
        }
        let node_modules = self
            .node_modules
            .unwrap_or_else(crate::assets::find_node_modules);
        let longpolls = Arc::new(crate::channel::LongPolls::default());
        Ok(router
            .route(
                "/live/longpoll",
                get(crate::channel::poll)
                    .post(crate::channel::post)
                    .with_state((endpoint.clone(), longpolls)),
            )
            .route(
                "/live/websocket",
                get(crate::channel::websocket).with_state(endpoint),
            )
            .merge(crate::assets::assets_router(node_modules)))
    }
}

/// Purges expired tickets every 30 s while the store lives (when built inside a runtime).
fn spawn_purger(tickets: &Tickets) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::debug!(
            "no tokio runtime: expired session tickets are not purged in the background"
        );
        return;
    };
    let store = Arc::downgrade(&tickets.store);
    runtime.spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
        every.tick().await;
        loop {
            every.tick().await;
            let Some(store) = store.upgrade() else {
                break;
            };
            match store.purge().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(purged = n, "expired session tickets purged"),
                Err(err) => tracing::warn!(%err, "purging session tickets failed"),
            }
        }
    });
}

/// Paths the router serves itself: a live route there would make axum panic.
const RESERVED: [&str; 6] = [
    "/live/websocket",
    "/live/longpoll",
    SESSION_PATH,
    crate::assets::PHOENIX_JS,
    crate::assets::LIVE_VIEW_JS,
    crate::assets::BOOTSTRAP_JS,
];

/// Refuses, before axum would panic on them, paths that do not start with `/`, livefire's own
/// paths, and Phoenix's `:param` and `*glob` segments (with the axum spelling).
fn check_path(path: &str) -> Result<(), ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidRoute {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if !path.starts_with('/') {
        return Err(invalid("a path starts with `/`"));
    }
    if RESERVED.contains(&path) {
        return Err(invalid("livefire serves this path itself"));
    }
    let segments: Vec<&str> = path.split('/').collect();
    if !segments.iter().any(|s| s.starts_with([':', '*'])) {
        return Ok(());
    }
    let mut axum = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        if let Some(name) = segment.strip_prefix(':') {
            if name.is_empty() {
                return Err(invalid("a `:` parameter needs a name"));
            }
            axum.push(format!("{{{name}}}"));
        } else if let Some(name) = segment.strip_prefix('*') {
            if name.is_empty() {
                return Err(invalid("a `*` parameter needs a name"));
            }
            if i + 1 != segments.len() {
                return Err(invalid(
                    "a catch-all parameter must be the last segment (axum: `{*name}`)",
                ));
            }
            axum.push(format!("{{*{name}}}"));
        } else {
            axum.push((*segment).to_owned());
        }
    }
    Err(ConfigError::PhoenixSyntax {
        path: path.to_owned(),
        suggestion: axum.join("/"),
    })
}

/// `scheme://host[:port]`, nothing more.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && !authority.contains(['/', '?', '#', '@', ' '])
}

/// Makes views of type `V` for a route.
struct Factory<V, F> {
    make: F,
    _view: PhantomData<fn() -> V>,
}

impl<V, F> Mounter for Factory<V, F>
where
    V: LiveView,
    F: Fn() -> V + Send + Sync + 'static,
{
    fn spawn(&self, ctx: JoinCtx) -> Spawned {
        crate::view::spawn((self.make)(), ctx)
    }

    fn dead(&self, ctx: DeadCtx) -> Pin<Box<dyn Future<Output = Response> + Send>> {
        Box::pin(crate::dead::render((self.make)(), ctx))
    }

    fn dead_nested(
        &self,
        ctx: NestedCtx,
    ) -> Pin<Box<dyn Future<Output = Result<String, Failure>> + Send>> {
        Box::pin(crate::dead::render_nested((self.make)(), ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggestion(path: &str) -> String {
        match check_path(path) {
            Err(ConfigError::PhoenixSyntax { suggestion, .. }) => suggestion,
            other => panic!("{path}: {other:?}"),
        }
    }

    fn reason(path: &str) -> String {
        match check_path(path) {
            Err(ConfigError::InvalidRoute { reason, .. }) => reason,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn phoenix_params_get_the_axum_spelling() {
        assert!(check_path("/posts/{id}").is_ok());
        assert!(check_path("/files/{*rest}").is_ok());
        assert!(
            check_path("/a:b/c*d").is_ok(),
            "only whole segments are parameters"
        );
        assert_eq!(
            suggestion("/rooms/:name/messages/:id"),
            "/rooms/{name}/messages/{id}"
        );
        assert_eq!(suggestion("/files/*rest"), "/files/{*rest}");
        assert_eq!(suggestion("/u/:user/*path"), "/u/{user}/{*path}");
    }

    #[test]
    fn paths_axum_would_panic_on_are_refused() {
        assert_eq!(reason("rooms"), "a path starts with `/`");
        assert_eq!(reason(""), "a path starts with `/`");
        assert_eq!(
            reason("/files/*rest/more"),
            "a catch-all parameter must be the last segment (axum: `{*name}`)"
        );
        assert_eq!(reason("/rooms/:"), "a `:` parameter needs a name");
        assert_eq!(reason("/files/*"), "a `*` parameter needs a name");
        for own in RESERVED {
            assert_eq!(reason(own), "livefire serves this path itself", "{own}");
        }
    }

    #[test]
    fn origins_are_scheme_host_port() {
        assert!(is_origin("https://example.com"));
        assert!(is_origin("http://localhost:4000"));
        assert!(!is_origin("example.com"));
        assert!(!is_origin("https://example.com/"));
        assert!(!is_origin("ftp://example.com"));
        assert!(!is_origin("https://"));
    }
}
