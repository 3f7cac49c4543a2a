//! The shared state of one [`LiveRouter`](crate::LiveRouter) once built: the route table, the
//! keyring, the layout, the socket registry and the limits, shared by every dead render,
//! connection and view task.
//!
//! The route table resolves a URL once into its route and [`Params`]. A route does not know
//! the view type it mounts: it holds a [`Mounter`], implemented by the router for each view
//! type, so the runtime below the router (connections, view tasks, dead renders) never names a
//! concrete view.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, header};

use crate::flash::{Flash, FlashHandle};
use crate::layout::{Container, Layout};
use crate::lifecycle::Failure;
use crate::limits::Limits;
use crate::live_view::Mount;
use crate::message::{InboundTx, Outbound};
use crate::on_mount::Hook;
use crate::params::{Params, path_of};
use crate::queue;
use crate::session::Session;
use crate::session::tickets::Tickets;
use crate::sockets::LiveSockets;
use crate::token::Keyring;

/// How a connecting socket's `live_socket_id` is found in its session.
pub(crate) type SocketIdFn = Arc<dyn Fn(&Session) -> Option<String> + Send + Sync>;

/// Starts views of one type: a join (connected) or a dead render (HTTP).
pub(crate) trait Mounter: Send + Sync {
    /// Spawns the view task for a join.
    fn spawn(&self, ctx: JoinCtx) -> Spawned;
    /// Mounts and renders the view for a `GET`.
    fn dead(&self, ctx: DeadCtx) -> Pin<Box<dyn Future<Output = Response> + Send>>;
    /// Mounts and renders the view nested in a parent's dead render: its inner HTML.
    fn dead_nested(
        &self,
        ctx: NestedCtx,
    ) -> Pin<Box<dyn Future<Output = Result<String, Failure>> + Send>>;
}

/// A spawned view task.
pub(crate) struct Spawned {
    /// Its inbox, for client frames.
    pub(crate) inbox: Box<dyn InboundTx>,
    pub(crate) task: tokio::task::AbortHandle,
}

/// What a nested view's dead render needs.
#[derive(Debug, Clone)]
pub(crate) struct NestedCtx {
    pub(crate) endpoint: Arc<Endpoint>,
    /// The cookie session merged with the values the parent passed.
    pub(crate) session: Arc<serde_json::Map<String, serde_json::Value>>,
    pub(crate) csrf_token: Option<Arc<str>>,
    pub(crate) client_addr: Option<std::net::IpAddr>,
    /// The child's container id (the parent id of its own children).
    pub(crate) id: String,
}

/// A nested view's link to its parent view on the same connection.
#[derive(Clone)]
pub(crate) struct ParentLink {
    pub(crate) topic: Arc<str>,
    /// The parent's typed inbox sender ([`Spawned::handle`]).
    pub(crate) handle: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for ParentLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParentLink")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// One live route.
pub(crate) struct Route {
    /// The path pattern (axum syntax), as sealed into page tokens.
    pub(crate) pattern: Arc<str>,
    /// The live session: live navigation stays within one.
    pub(crate) live_session: Arc<str>,
    /// The view type: a patch is possible between two routes of the same view, and a rejoin
    /// after one is accepted.
    pub(crate) view: TypeId,
    /// The live session's `on_mount` hooks, in order.
    pub(crate) hooks: Arc<[Hook]>,
    /// The element the dead render puts the view in.
    pub(crate) container: Arc<Container>,
    pub(crate) mounter: Box<dyn Mounter>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("pattern", &self.pattern)
            .field("live_session", &self.live_session)
            .finish_non_exhaustive()
    }
}

/// A URL resolved against the route table.
#[derive(Debug)]
pub(crate) struct Resolved<'a> {
    pub(crate) index: usize,
    pub(crate) route: &'a Route,
    pub(crate) params: Params,
}

/// The state shared by every route, connection and view of one router.
pub(crate) struct Endpoint {
    pub(crate) keyring: Keyring,
    routes: Vec<Route>,
    matcher: matchit::Router<usize>,
    pub(crate) layout: Layout,
    allowed_origins: Option<Vec<String>>,
    pub(crate) sockets: LiveSockets,
    socket_id: SocketIdFn,
    pub(crate) limits: Limits,
    /// Where session writes of live views wait for the browser ([`crate::session`]).
    pub(crate) tickets: Option<Tickets>,
    /// The view types that can be nested ([`crate::nested`]), by name.
    children: HashMap<&'static str, Box<dyn Mounter>>,
    /// Where uploads are written while they arrive.
    pub(crate) upload_dir: std::path::PathBuf,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("routes", &self.routes)
            .field("allowed_origins", &self.allowed_origins)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The parts an [`Endpoint`] is built from (by [`LiveRouter::build`](crate::LiveRouter::build)).
pub(crate) struct EndpointParts {
    pub(crate) keyring: Keyring,
    pub(crate) routes: Vec<Route>,
    pub(crate) matcher: matchit::Router<usize>,
    pub(crate) layout: Layout,
    pub(crate) allowed_origins: Option<Vec<String>>,
    pub(crate) sockets: LiveSockets,
    pub(crate) socket_id: SocketIdFn,
    pub(crate) limits: Limits,
    pub(crate) tickets: Option<Tickets>,
    pub(crate) children: HashMap<&'static str, Box<dyn Mounter>>,
    pub(crate) upload_dir: std::path::PathBuf,
}

impl Endpoint {
    pub(crate) fn new(parts: EndpointParts) -> Self {
        let EndpointParts {
            keyring,
            routes,
            matcher,
            layout,
            allowed_origins,
            sockets,
            socket_id,
            limits,
            tickets,
            children,
            upload_dir,
        } = parts;
        Self {
            keyring,
            routes,
            matcher,
            layout,
            allowed_origins,
            sockets,
            socket_id,
            limits,
            tickets,
            children,
            upload_dir,
        }
    }

    /// The mounter of a nested view type, by its registered name.
    pub(crate) fn child(&self, name: &str) -> Option<&dyn Mounter> {
        self.children.get(name).map(|m| &**m)
    }

    /// The route at `index` (as returned by [`resolve`](Self::resolve)).
    pub(crate) fn route(&self, index: usize) -> &Route {
        &self.routes[index]
    }

    /// The route whose pattern is `pattern` (as sealed into a page token); `None` if no route
    /// has it (any more).
    pub(crate) fn route_by_pattern(&self, pattern: &str) -> Option<&Route> {
        self.routes.iter().find(|route| *route.pattern == *pattern)
    }

    /// Resolves an absolute URL or a path-and-query: the route and the page's [`Params`].
    pub(crate) fn resolve(&self, url: &str) -> Option<Resolved<'_>> {
        let uri = path_of(url);
        let path = uri.split(['?', '#']).next().unwrap_or(uri);
        let matched = self.matcher.at(path).ok()?;
        let index = *matched.value;
        let path_params: HashMap<String, String> = matched
            .params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Some(Resolved {
            index,
            route: &self.routes[index],
            params: Params::from_uri(uri, path_params),
        })
    }

    /// The `live_socket_id` of a (CSRF-checked) session: logout disconnects by it.
    pub(crate) fn socket_id(&self, session: &Session) -> Option<String> {
        (self.socket_id)(session)
    }

    /// Origin check for the WebSocket upgrade (cross-site WebSocket hijacking defence,
    /// threat model case 30).
    ///
    /// * With [`allowed_origins`](crate::LiveRouter::allowed_origins): the `Origin` must be one
    ///   of them exactly (scheme, host and port).
    /// * Without, on a secure (https) deployment: refused, with an error in the log; `Host` is
    ///   never trusted in production.
    /// * Without, in development (cookies not `Secure`): only `http://` + the request's `Host`.
    ///
    /// A missing `Origin` is allowed (non-browser clients); the session is still only exposed
    /// with a valid CSRF token.
    pub(crate) fn origin_allowed(&self, headers: &HeaderMap, secure: bool) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        match &self.allowed_origins {
            Some(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin)),
            None if secure => {
                tracing::error!(
                    "livefire: websocket refused: set LiveRouter::allowed_origins on a deployment \
                     with secure cookies (the Host header is not trusted there)"
                );
                false
            }
            None => {
                let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
                    return false;
                };
                origin
                    .strip_prefix("http://")
                    .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
            }
        }
    }
}

/// Everything a view task needs to start (built by a join).
#[derive(Debug)]
pub(crate) struct JoinCtx {
    pub(crate) topic: Arc<str>,
    pub(crate) join_ref: Arc<str>,
    pub(crate) msg_ref: Option<String>,
    pub(crate) mount: Mount,
    pub(crate) flash: Flash,
    /// The route the view was joined on (`None` for a nested view).
    pub(crate) route: Option<usize>,
    /// A nested view's parent on the same connection.
    pub(crate) parent: Option<ParentLink>,
    /// A sticky nested view: its `push_navigate` navigates the page and it keeps running.
    pub(crate) sticky: bool,
    /// The browser's session id (binds flash tokens).
    /// (Shared by the connection's views: one allocation per connection, not per view.)
    pub(crate) session_id: Option<Arc<str>>,
    pub(crate) csrf_token: Option<Arc<str>>,
    /// The client's address ([`crate::ClientAddr`]).
    pub(crate) client_addr: Option<std::net::IpAddr>,
    pub(crate) endpoint: Arc<Endpoint>,
    /// The connection's outbox.
    pub(crate) out: queue::Sender<Outbound>,
}

/// Everything a dead render needs (built from the `GET`).
#[derive(Debug)]
pub(crate) struct DeadCtx {
    pub(crate) endpoint: Arc<Endpoint>,
    pub(crate) route: usize,
    pub(crate) params: Params,
    pub(crate) session: Session,
    pub(crate) flash: Option<FlashHandle>,
    pub(crate) extensions: http::Extensions,
}
