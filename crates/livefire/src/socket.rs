//! The per-view socket: what a live view can ask of the connection (title, flash, navigation,
//! pushed events, hook replies) and a handle for other tasks to message the view.
//!
//! A callback only *records* its requests on the [`Socket`]; when it returns, livefire renders
//! the view and sends everything in one message, in the shapes the official client expects:
//!
//! | call | on the wire |
//! |---|---|
//! | [`Socket::set_title`] | `"t"` in the diff (the client sets `document.title`) |
//! | [`Socket::push_event`] | `"e"` in the diff (`phx:<name>` window event, hooks' `handleEvent`) |
//! | [`Socket::reply`] | `"r"` in the diff of the event reply (resolves a hook's `pushEvent`) |
//! | [`Socket::push_patch`] | a `live_patch` push (history only), after `handle_params` ran |
//! | [`Socket::push_navigate`] | a `live_redirect` (the client rejoins on the same socket) |
//! | [`Socket::redirect`] | a `redirect` (full page load) |
//! | [`Socket::put_flash`] + a redirect | a sealed, browser-bound flash token in the redirect |
//!
//! During the dead render (`socket.connected() == false`) a redirect becomes a `302`.
//! [`ViewHandle`] is the other direction: other tasks send messages to the view's
//! [`handle_info`](crate::LiveView::handle_info).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::async_result::{AsyncDone, AsyncError, AsyncOutcome, AsyncTasks};
use crate::flash::Flash;
use crate::message::{AsyncCount, ComponentUpdate, ViewMsg};
use crate::pubsub::{Delivery, PubSub, Sink, Subscription};
use crate::queue;
use crate::redirect::RedirectError;
use crate::rendered::Rendered;
use crate::session::writes::{SessionWrites, Write};
use crate::upload::UploadError;

/// Where a callback asked the browser to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Navigation {
    /// Full page load (`redirect`).
    Redirect(String),
    /// Live navigation to another view of the same live session (`push_navigate`).
    Navigate { to: String, replace: bool },
    /// Same view, new URL (`push_patch`): runs `handle_params`.
    Patch { to: String, replace: bool },
}

/// The socket handed to every live view callback.
///
/// ```
/// use livefire::Socket;
/// let mut socket: Socket<()> = Socket::disconnected();
/// socket.set_title("Home").put_flash("info", "Saved");
/// assert_eq!(socket.title(), Some("Home"));
/// assert_eq!(socket.flash().get("info"), Some(&serde_json::json!("Saved")));
/// assert!(!socket.connected());
/// // Outside a request there is no cookie session and no CSRF token.
/// assert_eq!(socket.session::<String>("user_email"), None);
/// assert_eq!(socket.csrf_token(), None);
/// ```
#[derive(Debug)]
pub struct Socket<M: Send + 'static = ()> {
    pub(crate) core: SocketCore,
    pub(crate) sender: Option<queue::Sender<ViewMsg<M>>>,
}

/// What every callback can ask of the connection, for a live view ([`Socket`], which
/// dereferences to it) and for a live component
/// ([`ComponentSocket`](crate::component::ComponentSocket)): title, flash, navigation, pushed
/// events, hook replies, the cookie session and session writes.
///
/// ```
/// let mut socket: livefire::Socket = livefire::Socket::disconnected();
/// let core: &mut livefire::SocketCore = &mut socket;
/// core.put_flash("info", "Saved").push_event("saved", serde_json::json!({"id": 7}));
/// assert_eq!(socket.flash().get_str("info"), Some("Saved"));
/// ```
#[derive(Debug)]
pub struct SocketCore {
    pub(crate) connected: bool,
    pub(crate) title: Option<String>,
    pub(crate) title_changed: bool,
    pub(crate) flash: Flash,
    /// What the current callback asked for besides its title (flash to carry, navigation,
    /// pushed events, a hook reply): boxed when the first request comes and taken with the
    /// round's outputs, so a view between rounds carries one null pointer (~100 bytes less
    /// in every view task).
    pub(crate) round: Option<Box<Outputs>>,
    pub(crate) session: Arc<Map<String, Value>>,
    pub(crate) csrf_token: Option<Arc<str>>,
    pub(crate) client_addr: Option<IpAddr>,
    /// What most views never use (session writes, component updates, uploads, async tasks,
    /// subscriptions, guards, a parent, nested containers): boxed and made on first use, so
    /// an idle view carries one null pointer instead of ~200 bytes in its task (idle memory
    /// per view is a measured target, see BENCHMARKS.md).
    pub(crate) extras: Option<Box<Extras>>,
}

/// The per-view state behind [`SocketCore::extras`]: made by the first call that needs it
/// ([`SocketCore::extras_mut`]) and kept until the view ends; readers see defaults without
/// allocating it.
#[derive(Debug, Default)]
pub(crate) struct Extras {
    /// Session writes not yet handed to the browser.
    pub(crate) session_writes: SessionWrites,
    /// A minted ticket carrying earlier writes, waiting for a redirect or a form POST.
    pub(crate) session_ticket: Option<String>,
    /// The session writes inside the current (unsent) ticket.
    pub(crate) handed: SessionWrites,
    /// The flash put with them in rounds without a redirect: it travels in the ticket, and
    /// the `session_form` POST sets it on its redirect.
    pub(crate) handed_flash: Flash,
    /// Changes to live components asked for during this round
    /// ([`send_update`](SocketCore::send_update)), applied after its render.
    pub(crate) updates: Vec<ComponentUpdate>,
    /// A nested view's parent: its typed inbox sender.
    pub(crate) parent: Option<Arc<dyn Any + Send + Sync>>,
    /// A crash of this (nested) view crashes its parent too.
    pub(crate) linked: bool,
    /// The view's uploads, once it allowed one.
    pub(crate) uploads: Option<crate::upload::Uploads>,
    /// Topic subscriptions, at most one per topic: they end with the view (when the socket
    /// is dropped).
    subscriptions: Vec<Subscription>,
    /// Running async tasks: aborted when the view ends.
    tasks: Option<AsyncTasks>,
    /// Values dropped when the view ends (presence entries).
    guards: Vec<Box<dyn Any + Send + Sync>>,
    /// Started tasks not yet handled, for `livefire::test`'s `render_async` (made with the
    /// first task; with the feature `test-util`, when the view joins).
    pub(crate) pending: Option<Arc<AsyncCount>>,
    /// The containers of the view's nested views, by id, with the session each was sealed
    /// with (the tokens stay the same while the call does, so diffs do not resend them).
    pub(crate) nested: HashMap<String, (Map<String, Value>, String)>,
}

impl<M: Send + 'static> std::ops::Deref for Socket<M> {
    type Target = SocketCore;

    fn deref(&self) -> &SocketCore {
        &self.core
    }
}

impl<M: Send + 'static> std::ops::DerefMut for Socket<M> {
    fn deref_mut(&mut self) -> &mut SocketCore {
        &mut self.core
    }
}

impl<M: Send + 'static> Socket<M> {
    /// A socket for a render without a connection (the dead render, or tests).
    pub fn disconnected() -> Self {
        Self {
            core: SocketCore {
                connected: false,
                title: None,
                title_changed: false,
                flash: Flash::default(),
                round: None,
                session: Arc::default(),
                csrf_token: None,
                client_addr: None,
                extras: None,
            },
            sender: None,
        }
    }

    pub(crate) fn with_csrf_token(mut self, token: impl Into<Arc<str>>) -> Self {
        self.csrf_token = Some(token.into());
        self
    }

    pub(crate) fn with_session(mut self, session: Arc<Map<String, Value>>) -> Self {
        self.session = session;
        self
    }

    pub(crate) fn with_flash(mut self, flash: Flash) -> Self {
        self.flash = flash;
        self
    }

    /// A handle other tasks can use to send messages to this view's `handle_info`.
    ///
    /// During the dead render (not connected) the handle is closed: sends fail.
    pub fn handle(&self) -> ViewHandle<M> {
        ViewHandle {
            tx: self.sender.clone(),
        }
    }

    /// Sends `make()` to this view every `period` while it is alive (connected only).
    ///
    /// The timer stops by itself when the view ends. Start it in `mount` when
    /// `socket.connected()`; during the dead render it does nothing.
    ///
    /// ```
    /// use std::time::Duration;
    /// use livefire::{html, LiveView, Mount, Rendered, Result, Socket};
    ///
    /// enum Msg { Tick }
    ///
    /// #[derive(Default)]
    /// struct Clock { ticks: u64 }
    ///
    /// impl LiveView for Clock {
    ///     type Message = Msg;
    ///     async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<Msg>) -> Result {
    ///         socket.every(Duration::from_secs(1), || Msg::Tick);
    ///         Ok(())
    ///     }
    ///     async fn handle_info(&mut self, msg: Msg, _socket: &mut Socket<Msg>) -> Result {
    ///         match msg { Msg::Tick => self.ticks += 1 }
    ///         Ok(())
    ///     }
    ///     fn render(&self, _socket: &Socket<Msg>) -> Rendered {
    ///         html!(<p>{self.ticks} " s"</p>)
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (mut view, mut socket) = (Clock::default(), Socket::disconnected());
    /// view.mount(&Mount::default(), &mut socket).await.unwrap(); // not connected: no timer
    /// view.handle_info(Msg::Tick, &mut socket).await.unwrap();
    /// assert_eq!(view.render(&socket).to_html(), "<p>1 s</p>");
    /// # }
    /// ```
    pub fn every(&self, period: Duration, make: impl Fn() -> M + Send + 'static) {
        let Some(tx) = self.sender.clone() else {
            return;
        };
        tokio::spawn(async move {
            let mut interval =
                tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                if tx.send(ViewMsg::Info(make())).await.is_err() {
                    break;
                }
            }
        });
    }

    /// Subscribes this view to `topic` of `pubsub` while it lives (connected only: during the
    /// dead render it does nothing, so call it in `mount` unconditionally or under
    /// `socket.connected()`).
    ///
    /// Every broadcast value that `map` turns into `Some(message)` arrives in
    /// [`handle_info`](crate::LiveView::handle_info), followed by a render and a diff;
    /// `None` ignores the value on purpose (a filter: not logged above `trace`, not counted;
    /// for typed payloads whose decoding failures are reported, use
    /// [`subscribe_typed`](Self::subscribe_typed)). Delivery never blocks the broadcaster: if
    /// the view's inbox is full the message is dropped for this view (and a warning logged).
    /// The subscription ends when the view does, or with [`unsubscribe`](Self::unsubscribe).
    /// A view has at most one subscription per topic: subscribing again to a topic (say, in
    /// `handle_params` on every patch) replaces the earlier one, so messages never arrive
    /// twice. See [`PubSub::subscribe`] for a subscription you hold yourself.
    ///
    /// ```
    /// use livefire::pubsub::PubSub;
    /// use livefire::{html, LiveView, Mount, Rendered, Result, Socket};
    ///
    /// struct Ticker { pubsub: PubSub, price: Option<f64> }
    ///
    /// impl LiveView for Ticker {
    ///     type Message = f64;
    ///     async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<f64>) -> Result {
    ///         socket.subscribe(&self.pubsub, "prices", |value| value["eur"].as_f64());
    ///         Ok(())
    ///     }
    ///     async fn handle_info(&mut self, price: f64, _socket: &mut Socket<f64>) -> Result {
    ///         self.price = Some(price);
    ///         Ok(())
    ///     }
    ///     fn render(&self, _socket: &Socket<f64>) -> Rendered {
    ///         html!(<p>{self.price.map(|p| p.to_string()).unwrap_or_default()}</p>)
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let pubsub = PubSub::local();
    /// let (mut view, mut socket) = (Ticker { pubsub: pubsub.clone(), price: None }, Socket::disconnected());
    /// view.mount(&Mount::default(), &mut socket).await.unwrap();
    /// assert_eq!(pubsub.subscribers("prices"), 0); // dead render: not subscribed
    /// # }
    /// ```
    pub fn subscribe(
        &mut self,
        pubsub: &PubSub,
        topic: &str,
        map: impl Fn(Value) -> Option<M> + Send + Sync + 'static,
    ) -> &mut Self {
        if self.connected && self.sender.is_some() {
            // Unsubscribe first: a broadcast in between is missed rather than delivered twice.
            self.unsubscribe(topic);
            let subscription = pubsub.subscribe(topic, self.handle(), map);
            self.extras_mut().subscriptions.push(subscription);
        }
        self
    }

    /// Subscribes this view to `topic` with typed payloads: every broadcast value is decoded
    /// as a `T` (with serde) and `map` turns it into the view's message, which arrives in
    /// [`handle_info`](crate::LiveView::handle_info).
    ///
    /// A payload that does not decode is logged as a warning with the topic and counted in
    /// [`PubSub::decode_failures`]; it is never dropped silently. Otherwise as
    /// [`subscribe`](Self::subscribe): connected only, one subscription per topic (subscribing
    /// again replaces it), ended by [`unsubscribe`](Self::unsubscribe) or with the view.
    /// Switch topics on a patch by unsubscribing from the old one in `handle_params`:
    ///
    /// ```
    /// use livefire::pubsub::PubSub;
    /// use livefire::{html, LiveView, Params, Rendered, Result, Socket};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Posted { author: String, text: String }
    ///
    /// enum Msg { Posted(Posted) }
    ///
    /// struct Room { pubsub: PubSub, room: String, lines: Vec<String> }
    ///
    /// impl LiveView for Room {
    ///     type Message = Msg;
    ///     async fn handle_params(&mut self, params: &Params, socket: &mut Socket<Msg>) -> Result {
    ///         let room = params.query("room").unwrap_or("lobby").to_owned();
    ///         if room != self.room {
    ///             socket.unsubscribe(&format!("room:{}", self.room));
    ///             self.room = room;
    ///             self.lines.clear();
    ///         }
    ///         socket.subscribe_typed(&self.pubsub, &format!("room:{}", self.room), Msg::Posted);
    ///         Ok(())
    ///     }
    ///     async fn handle_info(&mut self, msg: Msg, _socket: &mut Socket<Msg>) -> Result {
    ///         let Msg::Posted(post) = msg;
    ///         self.lines.push(format!("{}: {}", post.author, post.text));
    ///         Ok(())
    ///     }
    ///     fn render(&self, _socket: &Socket<Msg>) -> Rendered {
    ///         html!(<ul>@for line in &self.lines { <li>{line}</li> }</ul>)
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let pubsub = PubSub::local();
    /// let mut view = Room { pubsub: pubsub.clone(), room: String::new(), lines: vec![] };
    /// let mut socket = Socket::disconnected();
    /// let params = Params::from_uri("/?room=rust", Default::default());
    /// view.handle_params(&params, &mut socket).await.unwrap();
    /// assert_eq!(view.room, "rust");
    /// assert_eq!(pubsub.subscribers("room:rust"), 0); // dead render: not subscribed
    /// # }
    /// ```
    pub fn subscribe_typed<T: DeserializeOwned + 'static>(
        &mut self,
        pubsub: &PubSub,
        topic: &str,
        map: impl Fn(T) -> M + Send + Sync + 'static,
    ) -> &mut Self {
        if self.connected && self.sender.is_some() {
            self.unsubscribe(topic);
            let subscription = pubsub.subscribe_typed(topic, self.handle(), map);
            self.extras_mut().subscriptions.push(subscription);
        }
        self
    }

    /// Ends this view's subscription to `topic` (made with [`subscribe`](Self::subscribe) or
    /// [`subscribe_typed`](Self::subscribe_typed)); true if there was one. Messages already in
    /// the view's inbox are still handled.
    ///
    /// ```
    /// let mut socket: livefire::Socket<u64> = livefire::Socket::disconnected();
    /// assert!(!socket.unsubscribe("prices"));
    /// assert!(!socket.is_subscribed("prices"));
    /// ```
    pub fn unsubscribe(&mut self, topic: &str) -> bool {
        let Some(extras) = self.core.extras.as_deref_mut() else {
            return false;
        };
        let before = extras.subscriptions.len();
        extras.subscriptions.retain(|sub| sub.topic() != topic);
        extras.subscriptions.len() != before
    }

    /// True if this view is subscribed to `topic`.
    pub fn is_subscribed(&self, topic: &str) -> bool {
        self.extras()
            .is_some_and(|e| e.subscriptions.iter().any(|sub| sub.topic() == topic))
    }

    /// Runs `future` beside the view (connected only: during the dead render it does nothing,
    /// so the template shows its loading state); its value arrives in
    /// [`LiveView::handle_async`](crate::LiveView::handle_async) under `name`, followed by a
    /// render and a diff. See [`crate::async_result`].
    ///
    /// A second `start_async` under the same name aborts the first, whose result is then never
    /// delivered. A panic in the future arrives as [`AsyncError::Panicked`] (the view goes
    /// on). Every task is aborted when the view ends.
    ///
    /// ```
    /// use livefire::async_result::{AsyncOutcome, AsyncResult};
    /// use livefire::{html, LiveView, Mount, Rendered, Result, Socket};
    ///
    /// #[derive(Default)]
    /// struct Stats { visits: AsyncResult<u64> }
    ///
    /// impl LiveView for Stats {
    ///     type Message = ();
    ///     async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
    ///         socket.start_async("visits", async {
    ///             tokio::time::sleep(std::time::Duration::from_millis(10)).await; // a slow query
    ///             42u64
    ///         });
    ///         Ok(())
    ///     }
    ///     async fn handle_async(&mut self, _name: &str, outcome: AsyncOutcome, _socket: &mut Socket) -> Result {
    ///         self.visits = outcome.into();
    ///         Ok(())
    ///     }
    ///     fn render(&self, _socket: &Socket) -> Rendered {
    ///         match self.visits.ok() {
    ///             Some(n) => html!(<p>{n} " visits"</p>),
    ///             None => html!(<p>"…"</p>),
    ///         }
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (mut view, mut socket) = (Stats::default(), Socket::disconnected());
    /// view.mount(&Mount::default(), &mut socket).await.unwrap();
    /// assert!(!socket.is_async_running("visits")); // the dead render starts nothing
    /// # }
    /// ```
    pub fn start_async<T, F>(&mut self, name: &str, future: F) -> &mut Self
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let Some(tx) = self.sender.clone().filter(|_| self.connected) else {
            tracing::trace!(name, "start_async during the dead render: not started");
            return self;
        };
        let extras = self.extras_mut();
        let guard = extras.pending.get_or_insert_with(Arc::default).start();
        let tasks = extras.tasks.get_or_insert_default();
        let id = tasks.next_id();
        let owned = name.to_owned();
        let task = tokio::spawn(async move {
            use futures_util::FutureExt;
            let outcome = match std::panic::AssertUnwindSafe(future).catch_unwind().await {
                Ok(value) => AsyncOutcome::ok(value),
                Err(payload) => {
                    let msg = crate::error::panic_message(&*payload);
                    tracing::warn!(name = %owned, panic = %msg, "async task panicked");
                    AsyncOutcome::failed(AsyncError::Panicked(msg))
                }
            };
            let done = AsyncDone {
                name: owned,
                id,
                outcome,
            };
            // The view may be gone: then nobody wants the result.
            let _ = tx.send(ViewMsg::Async(Box::new((done, Some(guard))))).await;
        });
        tasks.insert(name, id, task.abort_handle());
        self
    }

    /// Aborts the task started under `name`; its
    /// [`handle_async`](crate::LiveView::handle_async) then gets [`AsyncError::Cancelled`]
    /// (unless it had already finished: then its value). True if such a task ran.
    ///
    /// ```
    /// let mut socket: livefire::Socket = livefire::Socket::disconnected();
    /// assert!(!socket.cancel_async("report"));
    /// ```
    pub fn cancel_async(&mut self, name: &str) -> bool {
        let tasks = self
            .core
            .extras
            .as_deref_mut()
            .and_then(|e| e.tasks.as_mut());
        let (Some(tasks), Some(tx)) = (tasks, &self.sender) else {
            return false;
        };
        let Some(id) = tasks.abort(name) else {
            return false;
        };
        let done = ViewMsg::Async(Box::new((
            AsyncDone {
                name: name.to_owned(),
                id,
                outcome: AsyncOutcome::failed(AsyncError::Cancelled),
            },
            None,
        )));
        if let Err(queue::TrySendError::Full(done)) = tx.try_send(done) {
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(done).await;
            });
        }
        true
    }

    /// True while a task started under `name` has not been handled yet.
    pub fn is_async_running(&self, name: &str) -> bool {
        self.extras()
            .and_then(|e| e.tasks.as_ref())
            .is_some_and(|t| t.is_running(name))
    }

    /// Keeps `guard` until the view ends (connected views only: the caller checks).
    pub(crate) fn keep_until_end(&mut self, guard: impl Any + Send + Sync) {
        self.extras_mut().guards.push(Box::new(guard));
    }

    /// The values of type `T` kept with [`keep_until_end`](Self::keep_until_end).
    pub(crate) fn kept<T: Any>(&self) -> impl Iterator<Item = &T> {
        self.extras()
            .into_iter()
            .flat_map(|extras| extras.guards.iter())
            .filter_map(|guard| guard.downcast_ref::<T>())
    }

    /// Drops the kept values of type `T` that `drop` selects; how many were dropped.
    pub(crate) fn drop_kept<T: Any>(&mut self, mut drop: impl FnMut(&T) -> bool) -> usize {
        let Some(extras) = self.core.extras.as_deref_mut() else {
            return 0;
        };
        let before = extras.guards.len();
        extras
            .guards
            .retain(|guard| !guard.downcast_ref::<T>().is_some_and(&mut drop));
        before - extras.guards.len()
    }

    /// True for a connected view (with an inbox), false during the dead render.
    pub(crate) fn is_live(&self) -> bool {
        self.connected && self.sender.is_some()
    }

    /// Takes a finished task's outcome if it is the current one of its name.
    pub(crate) fn finish_async(&mut self, done: &AsyncDone) -> bool {
        self.core
            .extras
            .as_deref_mut()
            .and_then(|e| e.tasks.as_mut())
            .is_some_and(|t| t.finish(done))
    }
}

impl SocketCore {
    /// Allows file uploads under `name` (see [`crate::upload`]): the view renders its input
    /// with [`live_file_input`](crate::upload::live_file_input). Allowing a name again replaces
    /// its config (and ref) unless it still has entries ([`UploadError::ActiveEntries`]).
    ///
    /// ```
    /// use livefire::upload::UploadConfig;
    /// let mut socket: livefire::Socket = livefire::Socket::disconnected();
    /// socket.allow_upload("avatar", UploadConfig::new([".png"])?.max_entries(3))?;
    /// let avatar = socket.upload("avatar").unwrap();
    /// assert_eq!((avatar.name(), avatar.entries().len()), ("avatar", 0));
    /// assert!(avatar.upload_ref().starts_with("phx-"));
    /// socket.disallow_upload("avatar")?;
    /// assert!(socket.upload("avatar").is_none());
    /// # Ok::<(), livefire::Error>(())
    /// ```
    pub fn allow_upload(
        &mut self,
        name: &str,
        config: crate::upload::UploadConfig,
    ) -> Result<&mut Self, UploadError> {
        self.extras_mut()
            .uploads
            .get_or_insert_default()
            .allow(name, config)?;
        Ok(self)
    }

    /// Disallows an upload without entries.
    pub fn disallow_upload(&mut self, name: &str) -> Result<&mut Self, UploadError> {
        match self.uploads_mut() {
            Some(uploads) => uploads.disallow(name)?,
            None => return Err(UploadError::NotAllowed(name.to_owned())),
        }
        Ok(self)
    }

    /// An allowed upload, with its entries and errors (for rendering).
    pub fn upload(&self, name: &str) -> Option<&crate::upload::Upload> {
        self.uploads()?.get(name)
    }

    /// Cancels one entry of an upload (typically from a cancel button's
    /// `phx-value-ref`): a running upload stops and its temporary file is deleted. An unknown
    /// ref is [`UploadError::UnknownEntry`] (bad client input).
    pub fn cancel_upload(&mut self, name: &str, entry_ref: &str) -> Result<&mut Self, UploadError> {
        match self.uploads_mut() {
            Some(uploads) => uploads.cancel(name, entry_ref)?,
            None => return Err(UploadError::NotAllowed(name.to_owned())),
        }
        Ok(self)
    }

    /// The entries of an upload, split into `(done, in progress)`.
    pub fn uploaded_entries(
        &self,
        name: &str,
    ) -> (
        Vec<&crate::upload::UploadEntry>,
        Vec<&crate::upload::UploadEntry>,
    ) {
        match self.uploads() {
            Some(uploads) => uploads.uploaded_entries(name),
            None => (Vec::new(), Vec::new()),
        }
    }

    /// Takes the finished files of an upload (all of its entries; none if it has none), for
    /// the view to store: each [`UploadedFile`](crate::upload::UploadedFile) is a temporary
    /// file deleted on drop unless [`persist`](crate::upload::UploadedFile::persist)ed.
    /// [`UploadError::InProgress`] (bad client input) while any entry is still uploading or
    /// failed; nothing is taken then.
    pub fn consume_uploaded_entries(
        &mut self,
        name: &str,
    ) -> Result<Vec<crate::upload::UploadedFile>, UploadError> {
        match self.uploads_mut() {
            Some(uploads) => uploads.consume(name),
            None => Err(UploadError::NotAllowed(name.to_owned())),
        }
    }

    /// Takes one finished entry of an upload (Phoenix `consume_uploaded_entry`), typically
    /// from [`handle_progress`](crate::LiveView::handle_progress) when an auto-upload entry
    /// is done while others are still uploading. [`UploadError::InProgress`] (bad client
    /// input) while the entry is not done; [`UploadError::UnknownEntry`] if it is gone.
    pub fn consume_uploaded_entry(
        &mut self,
        entry: &crate::upload::UploadEntry,
    ) -> Result<crate::upload::UploadedFile, UploadError> {
        match self.uploads_mut() {
            Some(uploads) => uploads.consume_entry(entry.upload_name(), entry.entry_ref()),
            None => Err(UploadError::NotAllowed(entry.upload_name().to_owned())),
        }
    }

    /// A masked CSRF token valid for the browser's session, for forms that post to HTTP
    /// endpoints (`phx-trigger-action`, a logout button). `None` without a session.
    pub fn csrf_token(&self) -> Option<&str> {
        self.csrf_token.as_deref()
    }

    /// The client's address ([`ClientAddr`](crate::ClientAddr)): of the page request during
    /// the dead render, of the WebSocket upgrade when connected. `None` when the server does
    /// not record peers (see [`serve`](crate::serve)).
    pub fn client_addr(&self) -> Option<IpAddr> {
        self.client_addr
    }

    /// True once the WebSocket joined; false during the dead (HTTP) render.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// Reads a value of the browser's cookie session (as it was when the page or socket connected).
    pub fn session<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.session.get(key).and_then(|v| T::deserialize(v).ok())
    }

    /// Writes `value` into the browser's HTTP session under `key` (a login: the opaque token of
    /// the signed-in user).
    ///
    /// A WebSocket cannot set cookies, so session writes take effect on the browser's **next
    /// HTTP request**: the writes of a callback are stored server-side under a single-use,
    /// 60-second handoff ticket bound to this browser's session, and
    ///
    /// * a [`redirect`](Self::redirect) carries the ticket (inside its sealed flash token) to
    ///   the next page load, where [`LiveFlashLayer`](crate::flash::LiveFlashLayer) redeems it
    ///   and applies the writes before the page's handler runs;
    /// * a [`push_navigate`](Self::push_navigate) with pending writes becomes such a full
    ///   redirect (live navigation never reaches the HTTP session);
    /// * without a redirect, render [`session_form`](Self::session_form): a
    ///   `phx-trigger-action` form that the client posts at once to livefire's
    ///   [`SESSION_PATH`](crate::session::SESSION_PATH), which applies them and redirects.
    ///
    /// Until then this view (and [`session`](Self::session)) still sees the old session. Needs
    /// a ticket store ([`LiveRouter::session_store`](crate::LiveRouter::session_store)); the
    /// dead render applies the writes to the session directly.
    ///
    /// ```
    /// let mut socket: livefire::Socket = livefire::Socket::disconnected();
    /// socket.renew_session().put_session("user_token", "k3Ty…").delete_session("return_to");
    /// assert!(socket.has_session_writes());
    /// // The view keeps seeing the old session until the browser's next request.
    /// assert_eq!(socket.session::<String>("user_token"), None);
    /// ```
    pub fn put_session(&mut self, key: &str, value: impl Serialize) -> &mut Self {
        match serde_json::to_value(value) {
            Ok(value) => self.extras_mut().session_writes.push(Write::Put {
                key: key.to_owned(),
                value,
            }),
            Err(err) => tracing::error!(key, %err, "session value could not be serialized"),
        }
        self
    }

    /// Removes `key` from the HTTP session (see [`put_session`](Self::put_session)).
    pub fn delete_session(&mut self, key: &str) -> &mut Self {
        self.extras_mut().session_writes.push(Write::Delete {
            key: key.to_owned(),
        });
        self
    }

    /// Renews the HTTP session: a new session id and CSRF secret, all data cleared (the
    /// session-fixation defence; do it on every login and privilege change). Later
    /// [`put_session`](Self::put_session)s of the same round land in the renewed session.
    pub fn renew_session(&mut self) -> &mut Self {
        self.extras_mut().session_writes.push(Write::Renew);
        self
    }

    /// Chooses the HTTP session cookie's lifetime ("remember me"), as
    /// [`Session::set_persistent`](crate::session::Session::set_persistent) does: `Some(max_age)`
    /// makes it a persistent cookie (`Max-Age`), `None` a browser-session cookie. A live view
    /// cannot set cookies, so the choice travels with the other session writes (the handoff
    /// ticket) and is applied on the browser's next request. Put it after
    /// [`renew_session`](Self::renew_session).
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut socket: livefire::Socket = livefire::Socket::disconnected();
    /// socket
    ///     .renew_session()
    ///     .persist_session(Some(Duration::from_secs(60 * 24 * 3600)))
    ///     .put_session("user_token", "k3Ty…");
    /// assert!(socket.has_session_writes());
    /// ```
    pub fn persist_session(&mut self, max_age: Option<std::time::Duration>) -> &mut Self {
        self.extras_mut().session_writes.push(Write::Persist {
            max_age: max_age.map(|d| d.as_secs()),
        });
        self
    }

    /// Removes every value of the HTTP session (the id and CSRF secret stay).
    pub fn clear_session(&mut self) -> &mut Self {
        self.extras_mut().session_writes.push(Write::Clear);
        self
    }

    /// True if session writes wait for the browser's next request.
    pub fn has_session_writes(&self) -> bool {
        self.extras()
            .is_some_and(|e| !e.session_writes.is_empty() || e.session_ticket.is_some())
    }

    /// The handoff ticket minted for this view's pending session writes, once a callback made
    /// some and did not redirect.
    pub fn session_ticket(&self) -> Option<&str> {
        self.extras()?.session_ticket.as_deref()
    }

    /// A hidden form that makes the browser apply this view's session writes and then go to
    /// `to`: when a ticket is waiting it renders
    /// `<form action="/live/session" method="post" phx-trigger-action hidden>` with the CSRF
    /// token, the ticket and `to`, which the client submits as soon as it appears; otherwise
    /// nothing. Put it anywhere in the view's template. A flash put together with the writes
    /// travels (encrypted) with the ticket: the POST sets it on its redirect, so the page at
    /// `to` shows it.
    ///
    /// ```
    /// let socket: livefire::Socket = livefire::Socket::disconnected();
    /// // No pending writes: nothing to submit.
    /// assert_eq!(socket.session_form("/account").to_html(), "");
    /// ```
    pub fn session_form(&self, to: &str) -> Rendered {
        match (self.session_ticket(), &self.csrf_token) {
            (Some(ticket), Some(csrf)) => crate::html!(
                <form id="livefire-session-form" action={crate::session::SESSION_PATH} method="post" phx-trigger-action hidden>
                    <input type="hidden" name="_csrf_token" value={&**csrf}/>
                    <input type="hidden" name={crate::session::TICKET_FIELD} value={ticket}/>
                    <input type="hidden" name={crate::session::TO_FIELD} value={to}/>
                </form>
            ),
            _ => crate::html!(),
        }
    }

    /// Sets the page title (`<title>`; sent as `t` in the next diff).
    pub fn set_title(&mut self, title: impl Into<String>) -> &mut Self {
        let title = title.into();
        if self.title.as_deref() != Some(title.as_str()) {
            self.title = Some(title);
            self.title_changed = true;
        }
        self
    }

    /// The page title, if set.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// Puts a flash message (any JSON value: a string, or a structure such as
    /// `{"title": …, "subtitle": …}`). It is shown by the view's render and survives a
    /// [`redirect`](Self::redirect) or [`push_navigate`](Self::push_navigate) in an encrypted,
    /// browser-bound token.
    pub fn put_flash(&mut self, key: &str, value: impl Serialize) -> &mut Self {
        match serde_json::to_value(value) {
            Ok(value) => {
                self.flash.put(key, value.clone());
                self.round_mut().flash_put.put(key, value);
            }
            Err(err) => tracing::error!(key, %err, "flash value could not be serialized"),
        }
        self
    }

    /// A flash value.
    ///
    /// ```
    /// use serde_json::json;
    /// let mut socket: livefire::Socket = livefire::Socket::disconnected();
    /// socket.put_flash("info", "Saved").put_flash("user", json!({"title": "Welcome"}));
    /// assert_eq!(socket.get_flash("user"), Some(&json!({"title": "Welcome"})));
    /// socket.clear_flash("user");
    /// assert_eq!(socket.get_flash("user"), None);
    /// assert_eq!(socket.flash().len(), 1);
    /// socket.clear_all_flash();
    /// assert!(socket.flash().is_empty());
    /// ```
    pub fn get_flash(&self, key: &str) -> Option<&Value> {
        self.flash.get(key)
    }

    /// Removes one flash message (`lv:clear-flash` does this for the client).
    pub fn clear_flash(&mut self, key: &str) -> &mut Self {
        self.flash.remove(key);
        if let Some(round) = self.round.as_deref_mut() {
            round.flash_put.remove(key);
        }
        self
    }

    /// Removes every flash message.
    pub fn clear_all_flash(&mut self) -> &mut Self {
        self.flash = Flash::default();
        if let Some(round) = self.round.as_deref_mut() {
            round.flash_put = Flash::default();
        }
        self
    }

    /// All current flash messages.
    pub fn flash(&self) -> &Flash {
        &self.flash
    }

    fn navigate(&mut self, nav: impl FnOnce(String) -> Navigation, to: &str) {
        match crate::redirect::local_path(to) {
            Ok(path) => self.round_mut().nav = Some(nav(path.to_owned())),
            Err(err) => {
                tracing::error!(target_url = to, %err, "refused a redirect to a non-local target");
                self.round_mut().nav_error = Some(err);
            }
        }
    }

    /// Full page navigation to a local path (`/x?y`). Anything else (`//host`, `https://…`,
    /// `javascript:`) is refused: the callback then fails with [`Error::Redirect`](crate::Error).
    ///
    /// The same check applies to [`push_navigate`](Self::push_navigate),
    /// [`push_patch`](Self::push_patch) and their `replace_` variants, so a `return_to` taken
    /// from user input cannot send the browser to another site.
    ///
    /// ```
    /// let mut socket: livefire::Socket = livefire::Socket::disconnected();
    /// socket.redirect("https://evil.example/phish");
    /// assert!(!socket.is_redirected()); // refused (and logged)
    ///
    /// socket.put_flash("info", "Saved").redirect("/orders/7");
    /// assert!(socket.is_redirected());
    /// ```
    pub fn redirect(&mut self, to: &str) {
        self.navigate(Navigation::Redirect, to);
    }

    /// Live navigation to another view of the same live session, over the same socket.
    pub fn push_navigate(&mut self, to: &str) {
        self.navigate(|to| Navigation::Navigate { to, replace: false }, to);
    }

    /// Like [`push_navigate`](Self::push_navigate) but replaces the history entry.
    pub fn replace_navigate(&mut self, to: &str) {
        self.navigate(|to| Navigation::Navigate { to, replace: true }, to);
    }

    /// Changes the URL without leaving this view; `handle_params` runs with the new URL.
    ///
    /// ```
    /// let mut socket: livefire::Socket = livefire::Socket::disconnected();
    /// socket.push_patch("/orders?page=2");
    /// assert!(socket.is_redirected());
    /// ```
    pub fn push_patch(&mut self, to: &str) {
        self.navigate(|to| Navigation::Patch { to, replace: false }, to);
    }

    /// Like [`push_patch`](Self::push_patch) but replaces the history entry.
    pub fn replace_patch(&mut self, to: &str) {
        self.navigate(|to| Navigation::Patch { to, replace: true }, to);
    }

    /// True if a callback asked for a redirect or navigation.
    pub fn is_redirected(&self) -> bool {
        self.round.as_ref().is_some_and(|round| round.nav.is_some())
    }

    /// Pushes an event to the client (`phx:<name>` window event and hooks' `handleEvent`).
    pub fn push_event(&mut self, name: &str, payload: impl Serialize) -> &mut Self {
        match serde_json::to_value(payload) {
            Ok(payload) => self.round_mut().events.push((name.to_owned(), payload)),
            Err(err) => tracing::error!(name, %err, "pushed event payload could not be serialized"),
        }
        self
    }

    /// Sets the reply to a hook's `pushEvent` (resolves its promise on the client).
    pub fn reply(&mut self, value: impl Serialize) -> &mut Self {
        match serde_json::to_value(value) {
            Ok(value) => self.round_mut().reply = Some(value),
            Err(err) => tracing::error!(%err, "hook reply could not be serialized"),
        }
        self
    }

    /// Changes the live component of type `C` with id `id` (as placed with
    /// [`live_component`](crate::component::live_component)) **after** the current round: once
    /// the callback returned and the view (and the components it placed) rendered and were
    /// sent, `f` runs on the component, which is rendered again; its changes go out as a
    /// follow-up `diff` push. As in Phoenix, where `send_update` is a message to the view, the
    /// render's own component updates cannot overwrite it, and a component may call it from
    /// its [`update`](crate::component::LiveComponent::update) (on itself, too). Updates sent
    /// by such follow-up rounds make further rounds, at most 20 in a row (then the rest is
    /// dropped with an error in the log). A component that does not exist (any more) is
    /// skipped with a warning.
    ///
    /// ```
    /// # struct Row { editing: bool }
    /// let mut socket: livefire::Socket = livefire::Socket::disconnected();
    /// socket.send_update::<Row>("row-7", |row| row.editing = false);
    /// ```
    pub fn send_update<C: Send + 'static>(
        &mut self,
        id: impl Into<String>,
        f: impl FnOnce(&mut C) + Send + 'static,
    ) -> &mut Self {
        self.extras_mut()
            .updates
            .push(component_update::<C>(id.into(), f));
        self
    }

    /// A nested view's handle to its parent view ([`crate::nested`]), if the parent's message
    /// type is `M`; `None` for a root view, during the dead render, or for another type.
    ///
    /// ```
    /// let socket: livefire::Socket = livefire::Socket::disconnected();
    /// assert!(socket.parent::<String>().is_none());
    /// ```
    pub fn parent<M: Send + 'static>(&self) -> Option<ViewHandle<M>> {
        let sender = self
            .extras()?
            .parent
            .as_ref()?
            .downcast_ref::<queue::Sender<ViewMsg<M>>>()?;
        Some(ViewHandle {
            tx: Some(sender.clone()),
        })
    }

    /// Links this nested view to its parent: if this view crashes, the parent crashes too
    /// (and the client rejoins both), as an Erlang link does.
    pub fn link_parent(&mut self) -> &mut Self {
        self.extras_mut().linked = true;
        self
    }

    /// The rarely used per-view state, if a call made it (see [`Extras`]).
    pub(crate) fn extras(&self) -> Option<&Extras> {
        self.extras.as_deref()
    }

    /// The rarely used per-view state, made now if no call made it yet.
    pub(crate) fn extras_mut(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Box::default)
    }

    /// The view's uploads, once it allowed one.
    pub(crate) fn uploads(&self) -> Option<&crate::upload::Uploads> {
        self.extras()?.uploads.as_ref()
    }

    /// The view's uploads, once it allowed one.
    pub(crate) fn uploads_mut(&mut self) -> Option<&mut crate::upload::Uploads> {
        self.extras.as_deref_mut()?.uploads.as_mut()
    }

    /// True if this (nested) view linked itself to its parent.
    pub(crate) fn linked(&self) -> bool {
        self.extras().is_some_and(|e| e.linked)
    }

    /// Takes the session writes not yet handed to the browser.
    pub(crate) fn take_session_writes(&mut self) -> SessionWrites {
        self.extras
            .as_deref_mut()
            .map(|e| std::mem::take(&mut e.session_writes))
            .unwrap_or_default()
    }

    /// Takes the `send_update`s of the round.
    pub(crate) fn take_updates(&mut self) -> Vec<ComponentUpdate> {
        self.extras
            .as_deref_mut()
            .map(|e| std::mem::take(&mut e.updates))
            .unwrap_or_default()
    }

    /// True if `send_update`s wait.
    pub(crate) fn has_updates(&self) -> bool {
        self.extras().is_some_and(|e| !e.updates.is_empty())
    }

    /// The current callback's requests, made at the first one.
    fn round_mut(&mut self) -> &mut Outputs {
        self.round.get_or_insert_with(Box::default)
    }

    /// Clears the per-callback outputs after they were sent.
    pub(crate) fn take_outputs(&mut self) -> Outputs {
        let mut outputs = self.round.take().map(|round| *round).unwrap_or_default();
        outputs.title = if std::mem::take(&mut self.title_changed) {
            self.title.clone()
        } else {
            None
        };
        outputs
    }
}

/// What one callback produced besides the render.
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    pub(crate) title: Option<String>,
    pub(crate) nav: Option<Navigation>,
    pub(crate) nav_error: Option<RedirectError>,
    pub(crate) events: Vec<(String, Value)>,
    pub(crate) reply: Option<Value>,
    /// Flash put during this callback: what a redirect carries.
    pub(crate) flash_put: Flash,
}

impl Outputs {
    /// Adds what a later callback of the same round produced (`handle_params` after a
    /// `push_patch`): its navigation replaces this one, the rest accumulates.
    pub(crate) fn merge(&mut self, later: Outputs) {
        if later.title.is_some() {
            self.title = later.title;
        }
        self.nav = later.nav;
        if later.nav_error.is_some() {
            self.nav_error = later.nav_error;
        }
        self.events.extend(later.events);
        if later.reply.is_some() {
            self.reply = later.reply;
        }
        self.flash_put.merge(later.flash_put);
    }
}

/// Sends messages to a live view from other tasks (timers, broadcasts, background jobs).
///
/// Take it with [`Socket::handle`] in a connected `mount` and give it to whoever produces the
/// messages; they arrive in the view's [`handle_info`](crate::LiveView::handle_info), one at a
/// time, each followed by a render and a diff. Sending fails with [`ViewGone`] once the view
/// has ended, which tells a producer to drop the handle.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let socket: livefire::Socket<u32> = livefire::Socket::disconnected();
/// let handle = socket.handle();
/// // Not connected (dead render): the handle is closed.
/// assert!(handle.is_closed());
/// assert!(handle.send(1).await.is_err());
/// assert!(handle.clone().try_send(2).is_err());
/// # }
/// ```
#[derive(Debug)]
pub struct ViewHandle<M: Send + 'static> {
    pub(crate) tx: Option<queue::Sender<ViewMsg<M>>>,
}

impl<M: Send + 'static> Clone for ViewHandle<M> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
        }
    }
}

/// The view has ended (or was never connected).
///
/// ```
/// use livefire::{Socket, ViewGone};
/// let handle = Socket::<&str>::disconnected().handle();
/// assert_eq!(handle.try_send("refresh"), Err(ViewGone));
/// assert_eq!(ViewGone.to_string(), "the live view is gone");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the live view is gone")]
pub struct ViewGone;

impl<M: Send + 'static> Sink<M> for ViewHandle<M> {
    fn deliver(&self, msg: M) -> Delivery {
        let Some(tx) = &self.tx else {
            return Delivery::Gone;
        };
        match tx.try_send(ViewMsg::Info(msg)) {
            Ok(()) => Delivery::Done,
            Err(queue::TrySendError::Full(_)) => Delivery::Full,
            Err(queue::TrySendError::Closed(_)) => Delivery::Gone,
        }
    }

    fn is_closed(&self) -> bool {
        ViewHandle::is_closed(self)
    }
}

impl<M: Send + 'static> ViewHandle<M> {
    /// Sends a message, waiting while the view's inbox is full.
    pub async fn send(&self, msg: M) -> Result<(), ViewGone> {
        match &self.tx {
            Some(tx) => tx.send(ViewMsg::Info(msg)).await.map_err(|_| ViewGone),
            None => Err(ViewGone),
        }
    }

    /// Sends a message if the inbox has room.
    pub fn try_send(&self, msg: M) -> Result<(), ViewGone> {
        match &self.tx {
            Some(tx) => tx.try_send(ViewMsg::Info(msg)).map_err(|_| ViewGone),
            None => Err(ViewGone),
        }
    }

    /// Changes the view's live component of type `C` with id `id` from another task; the
    /// component is rendered again and its changes pushed (see [`SocketCore::send_update`]).
    /// Waits while the view's inbox is full.
    pub async fn send_update<C: Send + 'static>(
        &self,
        id: impl Into<String>,
        f: impl FnOnce(&mut C) + Send + 'static,
    ) -> Result<(), ViewGone> {
        match &self.tx {
            Some(tx) => tx
                .send(ViewMsg::Update(Box::new(component_update::<C>(
                    id.into(),
                    f,
                ))))
                .await
                .map_err(|_| ViewGone),
            None => Err(ViewGone),
        }
    }

    /// True if the view has ended.
    pub fn is_closed(&self) -> bool {
        self.tx.as_ref().is_none_or(queue::Sender::is_closed)
    }
}

/// A type-erased change to a component of type `C`.
fn component_update<C: Send + 'static>(
    id: String,
    f: impl FnOnce(&mut C) + Send + 'static,
) -> ComponentUpdate {
    ComponentUpdate {
        kind: TypeId::of::<C>(),
        id,
        apply: Box::new(move |component: &mut dyn Any| {
            if let Some(component) = component.downcast_mut::<C>() {
                f(component);
            }
        }),
    }
}

/// A live component's own id in its view: the `phx-target` that routes an event to it.
///
/// ```
/// use livefire::html;
/// use livefire::component::Myself;
/// # fn demo(myself: Myself) -> livefire::Rendered {
/// html!(<button phx-click="toggle" phx-target={myself}>"Edit"</button>)
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Myself(pub(crate) u32);

impl Myself {
    /// The component's cid (what the client sends back as `cid`).
    pub fn cid(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for Myself {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl crate::dynamic::AttrValue for Myself {
    fn write_attr(&self, name: &str, out: &mut String) {
        crate::dynamic::push_attr(name, &self.0.to_string(), out);
    }
}

/// What a live component's callbacks can ask of the connection: everything of
/// [`SocketCore`] (flash, navigation, pushed events, hook replies — they act for the whole
/// view), plus its own id and messages to the parent view.
pub struct ComponentSocket<'a> {
    pub(crate) core: &'a mut SocketCore,
    pub(crate) myself: Myself,
    /// The parent view's inbox sender (`queue::Sender<ViewMsg<M>>`), for `send_parent`.
    pub(crate) parent: Option<&'a (dyn Any + Send + Sync)>,
}

impl std::fmt::Debug for ComponentSocket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentSocket")
            .field("myself", &self.myself)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for ComponentSocket<'_> {
    type Target = SocketCore;

    fn deref(&self) -> &SocketCore {
        self.core
    }
}

impl std::ops::DerefMut for ComponentSocket<'_> {
    fn deref_mut(&mut self) -> &mut SocketCore {
        self.core
    }
}

impl ComponentSocket<'_> {
    /// This component's id, for `phx-target`.
    pub fn myself(&self) -> Myself {
        self.myself
    }

    /// Sends `msg` to the parent view's [`handle_info`](crate::LiveView::handle_info) (without
    /// waiting). Fails with [`ViewGone`] if the parent's message type is not `M`, or its inbox
    /// is full or closed.
    pub fn send_parent<M: Send + 'static>(&self, msg: M) -> Result<(), ViewGone> {
        let Some(sender) = self
            .parent
            .and_then(|p| p.downcast_ref::<queue::Sender<ViewMsg<M>>>())
        else {
            tracing::warn!("send_parent: the parent view does not take this message type");
            return Err(ViewGone);
        };
        sender.try_send(ViewMsg::Info(msg)).map_err(|_| ViewGone)
    }
}
