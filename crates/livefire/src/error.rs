//! Errors of live views and of the framework.
//!
//! Every live view callback returns [`Result`]. What happens to an `Err` depends on who caused
//! it, as in Phoenix:
//!
//! * **bad client input** ([`Error::is_bad_input`]: an unknown event name, a form or event value
//!   that does not decode) gets an error reply to that `event` push and the view keeps running,
//!   so a tampered or stale page cannot take it down;
//! * **anything else** from `handle_event`, `handle_params` or `handle_info` ends that one view:
//!   the channel pushes `phx_error`, the client marks the view `phx-error` and rejoins it after a
//!   back-off, mounting a fresh instance. Other views on the same WebSocket are not affected.
//!   A failing `mount` answers the join with an error (on the dead render: a `500`).
//!
//! ```
//! use livefire::{Error, Event};
//!
//! // The core of a view's `handle_event`, decoding its value with `?`.
//! fn handle(event: &Event) -> livefire::Result<String> {
//!     #[derive(serde::Deserialize)]
//!     struct Rename { title: String }
//!     match event.name() {
//!         "rename" => Ok(event.params::<Rename>()?.title),
//!         other => Err(Error::UnknownEvent(other.to_owned())),
//!     }
//! }
//!
//! assert_eq!(handle(&Event::click("rename", &[("title", "Q3")])).unwrap(), "Q3");
//! // No `title` in the value, or an event the view does not know: bad input, the view lives on.
//! assert!(handle(&Event::click("rename", &[])).unwrap_err().is_bad_input());
//! assert!(handle(&Event::click("drop_tables", &[])).unwrap_err().is_bad_input());
//! // An application failure ends the view (the client rejoins it).
//! assert!(!Error::app("database is down").is_bad_input());
//! ```

/// What can go wrong inside a live view callback.
///
/// An `Err` returned from `mount`, `handle_event`, `handle_params` or `handle_info` ends that
/// view only: the client receives `phx_error` and rejoins. Other views keep running. Errors
/// caused by the client's input ([`is_bad_input`](Self::is_bad_input)) only fail that event.
///
/// ```
/// let err = livefire::Error::app("database is down");
/// assert_eq!(err.to_string(), "database is down");
/// assert!(!err.is_bad_input());
///
/// // Errors of the framework's own decoders convert with `?`.
/// let err: livefire::Error = livefire::redirect::local_path("//evil.example").unwrap_err().into();
/// assert_eq!(err.to_string(), "redirect refused: redirect target is protocol-relative ('//')");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The view has no handler for this event.
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    /// A form value could not be decoded into the requested type.
    #[error("bad form value: {0}")]
    Form(#[from] crate::form::FormError),
    /// An event value did not have the expected shape.
    #[error("bad event value: {0}")]
    Value(#[from] serde_json::Error),
    /// A redirect or navigation target was refused (only local paths are allowed).
    #[error("redirect refused: {0}")]
    Redirect(#[from] crate::redirect::RedirectError),
    /// An upload operation failed ([`crate::upload::UploadError`]).
    #[error("upload: {0}")]
    Upload(#[from] crate::upload::UploadError),
    /// An application error.
    #[error("{0}")]
    App(Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// Wraps any application error or message.
    ///
    /// ```
    /// let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "query timed out");
    /// let err = livefire::Error::app(io);
    /// assert!(matches!(err, livefire::Error::App(_)));
    /// assert_eq!(err.to_string(), "query timed out");
    /// ```
    pub fn app(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::App(err.into())
    }

    /// True for errors caused by the client's input (unknown event, undecodable value): the
    /// event is answered with an error and the view keeps running.
    ///
    /// ```
    /// use livefire::Error;
    /// assert!(Error::UnknownEvent("nope".into()).is_bad_input());
    /// assert!(Error::from(livefire::form::Form::parse("a=%zz").unwrap_err()).is_bad_input());
    /// assert!(!Error::app("disk full").is_bad_input());
    /// ```
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::UnknownEvent(_) | Self::Form(_) | Self::Value(_) => true,
            Self::Upload(err) => err.is_bad_input(),
            Self::Redirect(_) | Self::App(_) => false,
        }
    }
}

impl From<crate::upload::UploadConfigError> for Error {
    fn from(err: crate::upload::UploadConfigError) -> Self {
        Self::Upload(err.into())
    }
}

/// `Result` with [`Error`] as the default error, and `()` as the default value: the return
/// type of every [`LiveView`](crate::LiveView) callback.
///
/// ```
/// fn parse_page(raw: &str) -> livefire::Result<u32> {
///     raw.parse().map_err(livefire::Error::app)
/// }
/// let done: livefire::Result = Ok(());
/// assert!(done.is_ok());
/// assert_eq!(parse_page("3").unwrap(), 3);
/// assert!(parse_page("three").is_err());
/// ```
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

/// A message describing a caught panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
