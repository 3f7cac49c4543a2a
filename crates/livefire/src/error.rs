//! Errors of live views and of the framework.

/// What can go wrong inside a live view callback.
///
/// An `Err` returned from `mount`, `handle_event`, `handle_params` or `handle_info` ends that
/// view only: the client receives `phx_error` and rejoins. Other views keep running.
///
/// ```
/// let err = livefire::Error::app("database is down");
/// assert_eq!(err.to_string(), "database is down");
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
    /// A flash value could not be stored.
    #[error("flash value could not be serialized: {0}")]
    Flash(String),
    /// An application error.
    #[error("{0}")]
    App(Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// Wraps any application error or message.
    pub fn app(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::App(err.into())
    }

    /// True for errors caused by the client's input (unknown event, undecodable value): the
    /// event is answered with an error and the view keeps running.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::UnknownEvent(_) | Self::Form(_) | Self::Value(_))
    }
}

/// `Result` with [`Error`] as the default error.
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
