//! The [`LiveView`] trait: the callbacks of a live view.
//!
//! A live view lives twice, as in Phoenix. Each time the route's factory makes a fresh value:
//!
//! 1. **Dead render** (plain HTTP `GET`): [`mount`](LiveView::mount) with
//!    `socket.connected() == false`, [`handle_params`](LiveView::handle_params),
//!    [`render`](LiveView::render). The HTML goes out inside the live container, with sealed
//!    page tokens, so the page works and is indexable before any JavaScript runs.
//! 2. **Connected** (the client's `phx_join` on `lv:<container id>`): `mount` again, now
//!    connected (subscribe and start timers here), `handle_params`, `render`; the join reply
//!    carries the full rendered tree. Then the view stays in memory for the life of the
//!    channel: every client event runs [`handle_event`](LiveView::handle_event), every message
//!    from a [`ViewHandle`](crate::ViewHandle) runs [`handle_info`](LiveView::handle_info), a
//!    `push_patch` or patch link runs `handle_params`, and after each callback the view is
//!    rendered again and only the changed dynamics are sent (see [`crate::diff`]).
//!
//! [`Params`](crate::Params) (the URL) and [`Mount`] (URL, cookie session, connect params) are what the
//! callbacks know about the request; [`Socket`] is what they can ask of the connection.

use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::event::Event;
use crate::on_mount::Assigns;
use crate::params::Params;
use crate::rendered::Rendered;
use crate::socket::Socket;

/// A live view: state on the server, rendered to HTML, updated by events and messages.
///
/// The same instance type serves the dead (HTTP) render and the connected (WebSocket) render: a
/// fresh value is made by the route's factory for each, then `mount` and `handle_params` run.
///
/// ```
/// use livefire::{html, Event, LiveView, Rendered, Result, Socket};
///
/// #[derive(Default)]
/// struct Counter { count: i64 }
///
/// impl LiveView for Counter {
///     type Message = ();
///
///     async fn handle_event(&mut self, event: Event, _socket: &mut Socket) -> Result {
///         match event.name() {
///             "inc" => self.count += 1,
///             "dec" => self.count -= 1,
///             other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
///         }
///         Ok(())
///     }
///
///     fn render(&self, _socket: &Socket) -> Rendered {
///         html!(<button phx-click="dec">"-"</button><span>{self.count}</span><button phx-click="inc">"+"</button>)
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// // Drive it by hand, as the in-process tests do.
/// let (mut view, mut socket) = (Counter::default(), Socket::disconnected());
/// view.handle_event(Event::click("inc", &[]), &mut socket).await.unwrap();
/// view.handle_event(Event::click("inc", &[]), &mut socket).await.unwrap();
/// assert!(view.render(&socket).to_html().contains("<span>2</span>"));
/// assert!(view.handle_event(Event::click("reset", &[]), &mut socket).await.unwrap_err().is_bad_input());
/// # }
/// ```
pub trait LiveView: Send + 'static {
    /// Messages other tasks send to this view (see [`Socket::handle`]); `()` if none.
    type Message: Send + 'static;

    /// Runs on the dead render and again on the connected join. Load data and subscribe here
    /// (subscribe only when `socket.connected()`).
    fn mount(
        &mut self,
        _cx: &Mount,
        _socket: &mut Socket<Self::Message>,
    ) -> impl Future<Output = crate::Result> + Send {
        async { Ok(()) }
    }

    /// Runs after `mount` and on every `push_patch` / patch link with the current URL.
    fn handle_params(
        &mut self,
        _params: &Params,
        _socket: &mut Socket<Self::Message>,
    ) -> impl Future<Output = crate::Result> + Send {
        async { Ok(()) }
    }

    /// Handles a client event. The default refuses every event with [`Error::UnknownEvent`](crate::Error::UnknownEvent).
    fn handle_event(
        &mut self,
        event: Event,
        _socket: &mut Socket<Self::Message>,
    ) -> impl Future<Output = crate::Result> + Send {
        async move { Err(crate::Error::UnknownEvent(event.name().to_owned())) }
    }

    /// Handles a message sent through a [`ViewHandle`](crate::ViewHandle).
    fn handle_info(
        &mut self,
        _msg: Self::Message,
        _socket: &mut Socket<Self::Message>,
    ) -> impl Future<Output = crate::Result> + Send {
        async { Ok(()) }
    }

    /// Receives the outcome of a task started with
    /// [`Socket::start_async`](crate::Socket::start_async) under `name`: its value (take it
    /// with [`AsyncOutcome::into_result`](crate::async_result::AsyncOutcome::into_result) or
    /// store it as an [`AsyncResult`](crate::async_result::AsyncResult) with `.into()`), or
    /// why it has none (it panicked, or was cancelled). A render and a diff follow. Only the
    /// latest task of a name is delivered. The default ignores it. See
    /// [`crate::async_result`] for an example.
    fn handle_async(
        &mut self,
        _name: &str,
        _outcome: crate::async_result::AsyncOutcome,
        _socket: &mut Socket<Self::Message>,
    ) -> impl Future<Output = crate::Result> + Send {
        async { Ok(()) }
    }

    /// Runs after each progress report of an upload entry ([`crate::upload`]): `name` is the
    /// upload, `entry` the entry with its new [`progress`](crate::upload::UploadEntry::progress).
    /// The default does nothing (the view re-renders anyway). Consume finished auto-uploads
    /// here with [`consume_uploaded_entries`](crate::SocketCore::consume_uploaded_entries).
    fn handle_progress(
        &mut self,
        _name: &str,
        _entry: &crate::upload::UploadEntry,
        _socket: &mut Socket<Self::Message>,
    ) -> impl Future<Output = crate::Result> + Send {
        async { Ok(()) }
    }

    /// Renders the view. Called after every callback; only the changed parts are sent.
    fn render(&self, socket: &Socket<Self::Message>) -> Rendered;
}

/// What `mount` knows about the request: URL, cookie session and, when connected, the
/// client's connect params.
///
/// The session is the browser's cookie session as it was when the page was requested (or, for
/// the connected mount, when the WebSocket connected with a valid CSRF token); a live view
/// cannot write it (use a redirect through an HTTP handler for that).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use livefire::{html, LiveView, Mount, Params, Rendered, Result, Socket};
///
/// #[derive(Default)]
/// struct Profile { user: Option<String>, tab: String }
///
/// impl LiveView for Profile {
///     type Message = ();
///     async fn mount(&mut self, cx: &Mount, socket: &mut Socket) -> Result {
///         self.user = cx.session::<String>("user_email");
///         if self.user.is_none() {
///             socket.redirect("/log-in");
///         }
///         Ok(())
///     }
///     async fn handle_params(&mut self, params: &Params, _socket: &mut Socket) -> Result {
///         self.tab = params.query("tab").unwrap_or("about").to_owned();
///         Ok(())
///     }
///     fn render(&self, _socket: &Socket) -> Rendered {
///         html!(<h1>{&self.user}</h1><p>{&self.tab}</p>)
///     }
/// }
///
/// let mut session = serde_json::Map::new();
/// session.insert("user_email".into(), "ann@example.com".into());
/// let cx = Mount::new(Params::from_uri("/profile?tab=posts", Default::default()), session);
/// assert_eq!(cx.params().path(), "/profile");
/// assert!(cx.connect_params().is_none());
///
/// let (mut view, mut socket) = (Profile::default(), Socket::disconnected());
/// view.mount(&cx, &mut socket).await.unwrap();
/// view.handle_params(cx.params(), &mut socket).await.unwrap();
/// assert!(!socket.is_redirected());
/// assert_eq!(view.render(&socket).to_html(), "<h1>ann@example.com</h1><p>posts</p>");
///
/// // Without the session key, mount redirects to the login page.
/// let anonymous = Mount::new(Params::from_uri("/profile", Default::default()), Default::default());
/// let (mut view, mut socket) = (Profile::default(), Socket::disconnected());
/// view.mount(&anonymous, &mut socket).await.unwrap();
/// assert!(socket.is_redirected());
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Mount {
    pub(crate) params: Params,
    pub(crate) session: Arc<Map<String, Value>>,
    pub(crate) connect_params: Option<Value>,
    /// What the live session's `on_mount` hooks assigned.
    pub(crate) assigns: Assigns,
}

impl Mount {
    /// A mount context (for tests and the in-process harness).
    pub fn new(params: Params, session: Map<String, Value>) -> Self {
        Self {
            params,
            session: Arc::new(session),
            connect_params: None,
            assigns: Assigns::default(),
        }
    }

    /// A value the live session's `on_mount` hooks assigned
    /// ([`OnMount::assign`](crate::OnMount::assign)), such as the signed-in user.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.assigns.0.get::<T>()
    }

    /// The URL being mounted.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// A value of the browser's cookie session.
    pub fn session<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.session.get(key).and_then(|v| T::deserialize(v).ok())
    }

    /// The client's `LiveSocket` `params` (connected mounts only).
    pub fn connect_params(&self) -> Option<&Value> {
        self.connect_params.as_ref()
    }
}
