//! `on_mount` hooks: code that runs before every view of a live session mounts, on the dead
//! render, on the connected join and on live navigation into the session
//! ([`LiveRouter::on_mount`](crate::LiveRouter::on_mount)). A hook authenticates once for a
//! whole group of views: it [`assign`](OnMount::assign)s shared state (the current user) that
//! views read with [`Mount::get`](crate::Mount::get), or [`Halt`]s with a redirect and a flash.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::flash::Flash;
use crate::params::Params;

/// What an `on_mount` hook sees, and the assigns it passes on to the view.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use livefire::{Halt, OnMount, Params};
///
/// #[derive(Clone)]
/// struct CurrentUser(String);
///
/// async fn require_user(cx: OnMount) -> Result<OnMount, Halt> {
///     match cx.session::<String>("user_email") {
///         Some(email) => Ok(cx.assign(CurrentUser(email))),
///         None => Err(Halt::redirect("/login").flash("error", "You must log in.")),
///     }
/// }
///
/// let anonymous = OnMount::new(Params::from_uri("/account", Default::default()), Default::default());
/// let halt = require_user(anonymous).await.err().unwrap();
/// assert_eq!(halt.to(), "/login");
///
/// let mut session = serde_json::Map::new();
/// session.insert("user_email".into(), "ann@example.com".into());
/// let signed_in = OnMount::new(Params::from_uri("/account", Default::default()), session);
/// let cx = require_user(signed_in).await.ok().unwrap();
/// assert_eq!(cx.get::<CurrentUser>().unwrap().0, "ann@example.com");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct OnMount {
    pub(crate) params: Params,
    pub(crate) session: Arc<Map<String, Value>>,
    pub(crate) connected: bool,
    pub(crate) client_addr: Option<IpAddr>,
    pub(crate) assigns: Assigns,
}

impl OnMount {
    /// A context for a hook (the runtime builds it; this is for testing hooks).
    pub fn new(params: Params, session: Map<String, Value>) -> Self {
        Self {
            params,
            session: Arc::new(session),
            connected: false,
            client_addr: None,
            assigns: Assigns::default(),
        }
    }

    /// The URL being mounted.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// A value of the browser's cookie session.
    pub fn session<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.session.get(key).and_then(|v| T::deserialize(v).ok())
    }

    /// False on the dead render, true on the connected join.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// The client's address ([`ClientAddr`](crate::ClientAddr)), when known.
    pub fn client_addr(&self) -> Option<IpAddr> {
        self.client_addr
    }

    /// Passes `value` to the view (read with [`Mount::get`](crate::Mount::get)); one value
    /// per type, a later one replaces an earlier.
    pub fn assign<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.assigns.0.insert(value);
        self
    }

    /// A value an earlier hook assigned.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.assigns.0.get::<T>()
    }
}

/// Values assigned by `on_mount` hooks, by type.
#[derive(Debug, Clone, Default)]
pub(crate) struct Assigns(pub(crate) http::Extensions);

/// An `on_mount` hook stopped the mount: the browser goes to [`to`](Self::to) instead, with
/// the flash messages (a `302` on the dead render, a join `redirect` when connected).
#[derive(Debug, Clone)]
pub struct Halt {
    pub(crate) to: String,
    pub(crate) flash: Flash,
}

impl Halt {
    /// Redirects to a local path (anything else falls back to `/`, see
    /// [`local_path_or`](crate::redirect::local_path_or)).
    pub fn redirect(to: &str) -> Self {
        Self {
            to: crate::redirect::local_path_or(to, "/").to_owned(),
            flash: Flash::default(),
        }
    }

    /// Adds a flash message shown on the page redirected to.
    pub fn flash(mut self, key: &str, value: impl Serialize) -> Self {
        match serde_json::to_value(value) {
            Ok(value) => self.flash.put(key, value),
            Err(err) => tracing::error!(key, %err, "flash value could not be serialized"),
        }
        self
    }

    /// Where the browser is sent.
    pub fn to(&self) -> &str {
        &self.to
    }
}

/// A stored hook.
pub(crate) type Hook =
    Arc<dyn Fn(OnMount) -> BoxFuture<'static, Result<OnMount, Halt>> + Send + Sync>;

/// Boxes an app's hook.
pub(crate) fn hook<F, Fut>(f: F) -> Hook
where
    F: Fn(OnMount) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<OnMount, Halt>> + Send + 'static,
{
    Arc::new(move |cx| Box::pin(f(cx)))
}

/// Runs `hooks` in order: the assigns for the view, or the first halt. A panicking hook is a
/// halt to `/` (logged), never a crash of the server.
pub(crate) async fn run(hooks: &[Hook], mut cx: OnMount) -> Result<Assigns, Halt> {
    use futures_util::FutureExt as _;
    for hook in hooks {
        cx = match std::panic::AssertUnwindSafe(hook(cx)).catch_unwind().await {
            Ok(result) => result?,
            Err(payload) => {
                tracing::error!(
                    panic = %crate::error::panic_message(&*payload),
                    "an on_mount hook panicked"
                );
                return Err(Halt::redirect("/"));
            }
        };
    }
    Ok(cx.assigns)
}
