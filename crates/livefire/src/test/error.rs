//! What can go wrong in a test, said so that the failure explains itself.

use std::time::Duration;

use serde_json::Value;

use super::Navigation;

/// A failed step of a [`LiveTest`](super::LiveTest) or [`Browser`](super::Browser): the
/// message names the view (its path and container id), the event that was sent (with its
/// payload) and what the server answered.
///
/// ```
/// use livefire::test::{Error, Navigation};
///
/// let err = Error::Redirected {
///     from: "/account".into(),
///     navigation: Navigation::Redirect { to: "/login".into(), flash: None },
/// };
/// assert_eq!(err.to_string(), "/account redirected to /login");
/// assert_eq!(err.into_navigation().unwrap().to(), "/login");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The loopback listener could not be set up.
    #[error("livefire::test could not start the app: {0}")]
    Io(#[from] std::io::Error),
    /// An HTTP request failed below the HTTP level.
    #[error("HTTP {method} {path} failed: {message}")]
    Http {
        /// The method.
        method: String,
        /// The path.
        path: String,
        /// What failed.
        message: String,
    },
    /// A page that was expected to be live has no live container.
    #[error("{path} is not a live page (HTTP {status}): {body}")]
    NotLive {
        /// The path loaded.
        path: String,
        /// Its status code.
        status: u16,
        /// The start of its body.
        body: String,
    },
    /// The page navigated away (a dead render's `3xx`, a join answered with a redirect, or a
    /// redirect pushed by the server); [`Browser::follow`](super::Browser::follow) goes on.
    #[error("{from} redirected to {}", .navigation.to())]
    Redirected {
        /// The path that redirected.
        from: String,
        /// Where to.
        navigation: Navigation,
    },
    /// More than 10 redirects in a row.
    #[error("too many redirects, the last one to {path}")]
    TooManyRedirects {
        /// The last target.
        path: String,
    },
    /// The WebSocket connection could not be opened.
    #[error("WebSocket: {0}")]
    WebSocket(String),
    /// The socket closed (or failed) while the test used it.
    #[error("socket closed: {0}")]
    Closed(String),
    /// The server refused a view's join.
    #[error("the join of {view} was refused: {reply}")]
    JoinRefused {
        /// The view.
        view: String,
        /// The error reply.
        reply: Value,
    },
    /// The server answered an event with an error reply (an unknown event, a value that does
    /// not decode…).
    #[error("{view} answered {event} with an error: {reply}")]
    ErrorReply {
        /// The view.
        view: String,
        /// The event sent, with its payload.
        event: String,
        /// The error reply.
        reply: Value,
    },
    /// The view crashed (`phx_error`): a callback failed or panicked.
    #[error("{view} crashed after {event}: {reason}")]
    Crashed {
        /// The view.
        view: String,
        /// The last event sent, with its payload.
        event: String,
        /// The `phx_error` payload.
        reason: Value,
    },
    /// The server sent something the official client cannot apply.
    #[error("protocol error in {view} after {event}: {message}")]
    Protocol {
        /// The view.
        view: String,
        /// The last event sent.
        event: String,
        /// What was wrong.
        message: String,
    },
    /// No reply or element within the timeout.
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        timeout: Duration,
    },
    /// No element matches the selector.
    #[error("no element matches {selector:?} in: {html}")]
    NoElement {
        /// The selector.
        selector: String,
        /// The page's HTML.
        html: String,
    },
    /// Several elements match a selector that must name one.
    #[error("{count} elements match {selector:?}; it must match exactly one")]
    Ambiguous {
        /// The selector.
        selector: String,
        /// How many matched.
        count: usize,
    },
    /// The selector is not valid CSS.
    #[error("invalid CSS selector {selector:?}: {message}")]
    Selector {
        /// The selector.
        selector: String,
        /// The parser's complaint.
        message: String,
    },
    /// The element has no binding for the action (a click on an element without
    /// `phx-click` or link, a key press without `phx-keyup`…).
    #[error("{selector:?} has no {binding} binding")]
    NoBinding {
        /// The selector.
        selector: String,
        /// The binding looked for.
        binding: String,
    },
    /// A form cannot take the values given.
    #[error("form {selector:?}: {message}")]
    Form {
        /// The form's selector.
        selector: String,
        /// Why.
        message: String,
    },
    /// An upload failed.
    #[error("upload: {0}")]
    Upload(String),
    /// The merged page differs from a fresh render.
    #[error("the page of {view} differs from a fresh render\n merged: {merged}\n  fresh: {fresh}")]
    Mismatch {
        /// The view.
        view: String,
        /// The page the client's merge gives.
        merged: String,
        /// The page a fresh dead render gives.
        fresh: String,
    },
}

impl Error {
    /// The navigation of an [`Error::Redirected`].
    ///
    /// ```
    /// let err = livefire::test::Error::Upload("x".into());
    /// assert!(err.into_navigation().is_none());
    /// ```
    pub fn into_navigation(self) -> Option<Navigation> {
        match self {
            Self::Redirected { navigation, .. } => Some(navigation),
            _ => None,
        }
    }
}
