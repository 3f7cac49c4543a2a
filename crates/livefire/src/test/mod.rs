//! Testing live views without a browser (feature `test-util`): the equivalent of Phoenix's
//! `Phoenix.LiveViewTest`, over the real protocol.
//!
//! [`live`] serves the application's own [`Router`](axum::Router) on a loopback port (with
//! [`livefire::serve`](crate::serve), as a deployment does) and opens a page as a browser
//! would: the dead render over HTTP with a cookie jar, then a WebSocket with the page's CSRF
//! token and the cookies, the `phx_join`, and the joins of child views. The [`LiveTest`] it
//! returns sends the events the official client (`phoenix_live_view` 1.2.12) sends for a
//! user's clicks, key presses, focus changes, form input, hook pushes, patches and uploads,
//! built as its `pushEvent`, `pushInput`, `pushFormSubmit` and `extractMeta` build them
//! (`phx-value-*`, `value`, `phx-target` resolved to a component's cid, forms serialized with
//! `_unused_` twins and `_target`, JS commands' `push`). Every reply and server push is merged
//! with the client's rules by [`model`], the same client model the crate's diff property
//! tests check the server against, into the page that CSS selectors query
//! ([`LiveTest::has_element`], [`LiveTest::elements`], [`LiveTest::text`]).
//!
//! Each action returns an [`Outcome`]: the page's HTML afterwards, or the [`Navigation`] it
//! caused (a redirect, a live redirect, a `phx-trigger-action` form post).
//! [`LiveTest::follow_redirect`] goes on as the browser would, through the same cookie jar,
//! so a flash or a session write that travels with a redirect arrives exactly as it does in a
//! browser. Error replies, crashed views and anything the client could not apply are
//! [`Error`]s naming the view, the event and the reply.
//!
//! Server pushes (`handle_info`, pub/sub, timers) are applied when the test awaits them:
//! [`LiveTest::render`] takes what the server has sent by now; [`LiveTest::wait_for`] waits
//! for an element to appear; [`LiveTest::render_async`] waits until the work the views started
//! with [`Socket::start_async`](crate::Socket::start_async) has been handled.
//!
//! Child views are found by their container's id ([`LiveTest::children`],
//! [`LiveTest::child`]), and an event goes to the view that owns the element acted on, so
//! `view.click("#sidebar button")` clicks in the child view `sidebar`. Components are targeted
//! as the client targets them: `phx-target={myself}` (a cid) or a CSS selector, whose closest
//! component root receives the event (one event per matching component);
//! [`LiveTest::hook_event_to`] does the same for a hook's `pushEventTo`.
//!
//! # A complete test
//!
//! A view with a form that validates as the user types, a component per saved item, and a
//! redirect with a flash once the list is done:
//!
//! ```
//! use livefire::component::{ComponentSocket, LiveComponent, Myself, live_component};
//! use livefire::flash::LiveFlashLayer;
//! use livefire::session::CookieSessionLayer;
//! use livefire::token::Keyring;
//! use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html};
//!
//! /// One item, which can be starred in place.
//! struct Item { title: String, starred: bool }
//!
//! impl LiveComponent for Item {
//!     type Assigns = String;
//!     fn new(title: &String) -> Self { Item { title: title.clone(), starred: false } }
//!     async fn handle_event(&mut self, event: Event, _: &mut ComponentSocket<'_>) -> Result {
//!         match event.name() {
//!             "star" => self.starred = !self.starred,
//!             other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
//!         }
//!         Ok(())
//!     }
//!     fn render(&self, myself: Myself) -> Rendered {
//!         html!(<li class={if self.starred { "starred" } else { "" }}>{self.title.as_str()}
//!             <button phx-click="star" phx-target={myself}>"★"</button></li>)
//!     }
//! }
//!
//! #[derive(Default)]
//! struct List { items: Vec<String>, error: String }
//!
//! #[derive(serde::Deserialize)]
//! struct NewItem { title: String }
//!
//! impl LiveView for List {
//!     type Message = ();
//!     async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
//!         match event.name() {
//!             "validate" => {
//!                 let NewItem { title } = event.form()?;
//!                 self.error = if title.len() > 10 { "too long".into() } else { String::new() };
//!             }
//!             "add" => {
//!                 let NewItem { title } = event.form()?;
//!                 self.items.push(title);
//!             }
//!             "done" => {
//!                 socket.put_flash("info", format!("{} items", self.items.len())).redirect("/done");
//!             }
//!             other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
//!         }
//!         Ok(())
//!     }
//!     fn render(&self, _: &Socket) -> Rendered {
//!         html!(
//!             <form id="new" phx-change="validate" phx-submit="add">
//!                 <input name="title"/><span class="error">{self.error.as_str()}</span>
//!             </form>
//!             <ul>@for (i, title) in self.items.iter().enumerate() {
//!                 {live_component::<Item>(format!("item-{i}"), title.clone())}
//!             }</ul>
//!             <button id="done" phx-click="done">"Done"</button>
//!         )
//!     }
//! }
//!
//! struct Done;
//! impl LiveView for Done {
//!     type Message = ();
//!     fn render(&self, socket: &Socket) -> Rendered {
//!         html!(<p id="flash">{socket.flash().get_str("info").unwrap_or_default()}</p>)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::result::Result<(), livefire::test::Error> {
//! let keyring = Keyring::new([7u8; 64]).unwrap();
//! let router = LiveRouter::new(keyring.clone())
//!     .live("/", List::default)
//!     .live("/done", || Done)
//!     .build()
//!     .unwrap()
//!     .layer(LiveFlashLayer::new(keyring.clone()))
//!     .layer(CookieSessionLayer::new(keyring));
//!
//! let mut view = livefire::test::live(&router, "/").await?;
//!
//! // The form: validation as the user types, then a submit.
//! view.change_form("#new", &[("title", "far too long a title")]).await?;
//! assert!(view.has_element(".error", Some("too long")));
//! view.change_form("#new", &[("title", "milk")]).await?;
//! assert!(!view.has_element(".error", Some("too long")));
//! view.submit_form("#new", &[("title", "milk")]).await?;
//! view.submit_form("#new", &[("title", "bread")]).await?;
//! assert_eq!(view.elements("li")?.len(), 2);
//!
//! // The component: its button targets it (`phx-target={myself}`), not the view.
//! view.click("li:nth-child(2) button").await?;
//! assert!(view.has_element("li.starred", Some("bread")));
//! assert!(!view.has_element("li.starred", Some("milk")));
//!
//! // The redirect: the flash travels in its cookie to the next page.
//! let redirect = view.click("#done").await?.navigation();
//! assert_eq!(redirect.to(), "/done");
//! let done = view.follow_redirect(redirect).await?;
//! assert!(done.has_element("#flash", Some("2 items")));
//! # Ok(())
//! # }
//! ```
//!
//! Errors read as test failures: an event the view refuses names the view, the event with its
//! payload and the reply (`/ (phx-…) answered event "nope" {"cid":null,"event":"nope",…} with
//! an error: {"reason":…}`), and a crash says which event crashed which view.
//!
//! # What is and is not modelled
//!
//! The page is the merge of the view's diffs by the client's rules, with component roots
//! tagged (`data-phx-component`), streams kept in their containers, `phx-update="ignore"`
//! content kept, and child views inside their containers. Nothing runs in the page: hooks'
//! JavaScript, JS commands other than `push`, `navigate` and `patch`, loading classes and
//! `phx-disable-with` do not exist here, and form fields do not remember what a previous
//! action typed (each change or submit starts from the values the page shows, as
//! `Phoenix.LiveViewTest`'s forms do). Debounce and throttle are not applied.

mod browser;
mod dom;
mod error;
mod form;
mod live;
pub mod model;
mod upload;

pub use browser::{Browser, Page};
pub use error::Error;
pub use live::LiveTest;
pub use upload::{FileInput, UploadFile};

use serde_json::Value;

/// Where the page went.
///
/// ```
/// use livefire::test::Navigation;
/// let nav = Navigation::LiveRedirect { to: "/b".into(), replace: false, flash: None };
/// assert_eq!(nav.to(), "/b");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Navigation {
    /// A full page load (`Socket::redirect`, a plain link): the client writes the flash token
    /// (if any) into the `__phoenix_flash__` cookie and loads `to`.
    Redirect {
        /// The target path.
        to: String,
        /// The flash token.
        flash: Option<String>,
    },
    /// A live redirect (`push_navigate`, a `data-phx-link="redirect"` link): a new join on
    /// the same socket.
    LiveRedirect {
        /// The target path.
        to: String,
        /// `replace_navigate` (history replaced, not pushed).
        replace: bool,
        /// The flash token, sent with the join.
        flash: Option<String>,
    },
    /// A form with `phx-trigger-action`, which the client submits natively.
    FormPost {
        /// The form's `action`.
        action: String,
        /// The form's `method`.
        method: String,
        /// The URL-encoded fields.
        body: String,
    },
}

impl Navigation {
    /// The path the navigation goes to.
    ///
    /// ```
    /// use livefire::test::Navigation;
    /// let post = Navigation::FormPost { action: "/live/session".into(), method: "post".into(), body: String::new() };
    /// assert_eq!(post.to(), "/live/session");
    /// ```
    pub fn to(&self) -> &str {
        match self {
            Self::Redirect { to, .. } | Self::LiveRedirect { to, .. } => to,
            Self::FormPost { action, .. } => action,
        }
    }

    /// The flash token the navigation carries, if any.
    ///
    /// ```
    /// use livefire::test::Navigation;
    /// let nav = Navigation::Redirect { to: "/".into(), flash: Some("t".into()) };
    /// assert_eq!(nav.flash(), Some("t"));
    /// ```
    pub fn flash(&self) -> Option<&str> {
        match self {
            Self::Redirect { flash, .. } | Self::LiveRedirect { flash, .. } => flash.as_deref(),
            Self::FormPost { .. } => None,
        }
    }

    /// `{"redirect": {to, flash}}` or `{"live_redirect": {to, kind, flash}}` in a reply.
    fn from_response(response: &Value) -> Option<Self> {
        let flash = |v: &Value| v.get("flash").and_then(Value::as_str).map(str::to_owned);
        if let Some(r) = response.get("redirect") {
            return Some(Self::Redirect {
                to: browser::local(r.get("to")?.as_str()?),
                flash: flash(r),
            });
        }
        if let Some(r) = response.get("live_redirect") {
            return Some(Self::LiveRedirect {
                to: browser::local(r.get("to")?.as_str()?),
                replace: r.get("kind").and_then(Value::as_str) == Some("replace"),
                flash: flash(r),
            });
        }
        None
    }
}

/// What an action did: the page stayed (its HTML now), or it navigated.
///
/// ```
/// use livefire::test::{Navigation, Outcome};
/// let stayed = Outcome::Html("<p>1</p>".into());
/// assert_eq!(stayed.html(), "<p>1</p>");
/// let left = Outcome::Navigated(Navigation::Redirect { to: "/".into(), flash: None });
/// assert_eq!(left.navigation().to(), "/");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The page stayed; its HTML after the reply.
    Html(String),
    /// The page navigated away.
    Navigated(Navigation),
}

impl Outcome {
    /// The page's HTML.
    ///
    /// # Panics
    ///
    /// If the action navigated (the message says where to).
    ///
    /// ```should_panic
    /// use livefire::test::{Navigation, Outcome};
    /// Outcome::Navigated(Navigation::Redirect { to: "/login".into(), flash: None }).html();
    /// ```
    #[track_caller]
    pub fn html(self) -> String {
        match self {
            Self::Html(html) => html,
            Self::Navigated(nav) => panic!("expected the page to stay, but it navigated: {nav:?}"),
        }
    }

    /// The navigation.
    ///
    /// # Panics
    ///
    /// If the page stayed (the message shows it).
    ///
    /// ```should_panic
    /// livefire::test::Outcome::Html("<p></p>".into()).navigation();
    /// ```
    #[track_caller]
    pub fn navigation(self) -> Navigation {
        match self {
            Self::Navigated(nav) => nav,
            Self::Html(html) => panic!("expected a navigation, but the page stayed: {html}"),
        }
    }
}

/// Starts a [`Browser`] on `router` and opens the live page `path` in it: the dead render,
/// the WebSocket, the join ([`Browser::live`]).
///
/// ```
/// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
/// # use livefire::session::CookieSessionLayer;
/// struct Hello;
/// impl LiveView for Hello {
///     type Message = ();
///     fn render(&self, _: &Socket) -> Rendered { html!(<h1>"Hello"</h1>) }
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
/// # let keyring = Keyring::new([1u8; 64]).unwrap();
/// let router = LiveRouter::new(keyring.clone()).live("/", || Hello).build().unwrap()
///     .layer(CookieSessionLayer::new(keyring));
/// let view = livefire::test::live(&router, "/").await?;
/// assert!(view.has_element("h1", Some("Hello")));
/// # Ok(()) }
/// ```
pub async fn live(router: &axum::Router, path: &str) -> Result<LiveTest, Error> {
    Browser::start(router).await?.live(path).await
}
