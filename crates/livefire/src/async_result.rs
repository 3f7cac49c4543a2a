//! Async work in a live view: [`Socket::start_async`](crate::Socket::start_async) runs a
//! future beside the view, and its result arrives in
//! [`LiveView::handle_async`](crate::LiveView::handle_async) as an [`AsyncOutcome`], followed
//! by a render and a diff, as Phoenix's `start_async`/`handle_async` do.
//!
//! - Only a connected view starts tasks: during the dead render `start_async` does nothing
//!   (the template shows the loading state).
//! - A second `start_async` under the same name aborts the first; only the latest task's
//!   result is delivered.
//! - [`Socket::cancel_async`](crate::Socket::cancel_async) aborts a task; `handle_async`
//!   then gets [`AsyncError::Cancelled`].
//! - A panic in the future is reported as [`AsyncError::Panicked`]: the view goes on.
//! - Every task is aborted when the view ends (the client left, crashed or navigated away).
//!
//! [`AsyncResult`] is the value a template renders (loading, ok or failed), Phoenix's
//! `assign_async` pattern: set it to [`AsyncResult::Loading`] in `mount`, start the task, and
//! store the outcome in `handle_async` (`self.user = outcome.into()`).
//!
//! ```
//! use livefire::async_result::{AsyncOutcome, AsyncResult};
//! use livefire::{html, LiveView, Mount, Rendered, Result, Socket};
//!
//! #[derive(Default)]
//! struct Profile { name: AsyncResult<String> }
//!
//! impl LiveView for Profile {
//!     type Message = ();
//!     async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> Result {
//!         self.name = AsyncResult::Loading;
//!         socket.start_async("name", async { "Ann".to_owned() });
//!         Ok(())
//!     }
//!     async fn handle_async(&mut self, name: &str, outcome: AsyncOutcome, _socket: &mut Socket) -> Result {
//!         if name == "name" {
//!             self.name = outcome.into();
//!         }
//!         Ok(())
//!     }
//!     fn render(&self, _socket: &Socket) -> Rendered {
//!         match &self.name {
//!             AsyncResult::Loading => html!(<p>"Loading…"</p>),
//!             AsyncResult::Ok(name) => html!(<p>{name}</p>),
//!             AsyncResult::Failed(err) => html!(<p>"Failed: " {err.to_string()}</p>),
//!         }
//!     }
//! }
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let (mut view, mut socket) = (Profile::default(), Socket::disconnected());
//! view.mount(&Mount::default(), &mut socket).await.unwrap(); // dead render: no task
//! assert_eq!(view.render(&socket).to_html(), "<p>Loading…</p>");
//! view.handle_async("name", AsyncOutcome::ok("Ann".to_owned()), &mut socket).await.unwrap();
//! assert_eq!(view.render(&socket).to_html(), "<p>Ann</p>");
//! # }
//! ```

use std::any::Any;
use std::collections::HashMap;

use tokio::task::AbortHandle;

/// Why an async task gave no value.
///
/// ```
/// use livefire::async_result::AsyncError;
/// assert_eq!(AsyncError::Cancelled.to_string(), "the async task was cancelled");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AsyncError {
    /// The future panicked (the message of the panic).
    #[error("the async task panicked: {0}")]
    Panicked(String),
    /// [`Socket::cancel_async`](crate::Socket::cancel_async) stopped it.
    #[error("the async task was cancelled")]
    Cancelled,
    /// The task's value is not of the type asked for in [`AsyncOutcome::into_result`] (a bug
    /// in the view: the name was matched to the wrong type).
    #[error("the async task's value is a {actual}, not a {expected}")]
    WrongType {
        /// The type asked for.
        expected: &'static str,
        /// The type the future returned.
        actual: &'static str,
    },
}

/// The result of one task started with [`Socket::start_async`](crate::Socket::start_async),
/// as handed to [`LiveView::handle_async`](crate::LiveView::handle_async): the future's value
/// (of the type it returned) or an [`AsyncError`]. Take the value with
/// [`into_result`](Self::into_result), or turn it into an [`AsyncResult`] with `.into()`.
///
/// ```
/// use livefire::async_result::{AsyncError, AsyncOutcome};
/// assert_eq!(AsyncOutcome::ok(7u32).into_result::<u32>(), Ok(7));
/// assert!(matches!(AsyncOutcome::ok(7u32).into_result::<String>(), Err(AsyncError::WrongType { .. })));
/// let failed = AsyncOutcome::failed(AsyncError::Cancelled);
/// assert!(failed.is_err());
/// assert_eq!(failed.into_result::<u32>(), Err(AsyncError::Cancelled));
/// ```
pub struct AsyncOutcome {
    result: Result<(Box<dyn Any + Send>, &'static str), AsyncError>,
}

impl std::fmt::Debug for AsyncOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.result {
            Ok((_, ty)) => f.debug_tuple("Ok").field(ty).finish(),
            Err(err) => f.debug_tuple("Err").field(err).finish(),
        }
    }
}

impl AsyncOutcome {
    /// A successful outcome (what a finished future produces; also for tests).
    pub fn ok<T: Send + 'static>(value: T) -> Self {
        Self {
            result: Ok((Box::new(value), std::any::type_name::<T>())),
        }
    }

    /// A failed outcome.
    pub fn failed(err: AsyncError) -> Self {
        Self { result: Err(err) }
    }

    /// True if the task gave no value.
    pub fn is_err(&self) -> bool {
        self.result.is_err()
    }

    /// The future's value, if it is a `T`; its error otherwise ([`AsyncError::WrongType`] if
    /// the value is of another type).
    pub fn into_result<T: 'static>(self) -> Result<T, AsyncError> {
        let (value, actual) = self.result?;
        value
            .downcast::<T>()
            .map(|value| *value)
            .map_err(|_| AsyncError::WrongType {
                expected: std::any::type_name::<T>(),
                actual,
            })
    }
}

/// A value loaded by an async task, as a template renders it: still loading, loaded, or
/// failed (Phoenix's `AsyncResult`). The default is `Loading`.
///
/// ```
/// use livefire::async_result::{AsyncError, AsyncOutcome, AsyncResult};
/// let mut orders: AsyncResult<Vec<u32>> = AsyncResult::default();
/// assert!(orders.is_loading());
/// orders = AsyncOutcome::ok(vec![1u32, 2]).into(); // the type must be exactly the one stored
/// assert_eq!(orders.ok(), Some(&vec![1, 2]));
/// orders = AsyncOutcome::failed(AsyncError::Panicked("db down".into())).into();
/// assert_eq!(orders.failed(), Some(&AsyncError::Panicked("db down".into())));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AsyncResult<T> {
    /// The task runs (or has not started: the dead render).
    #[default]
    Loading,
    /// The task's value.
    Ok(T),
    /// The task failed.
    Failed(AsyncError),
}

impl<T> AsyncResult<T> {
    /// True while loading.
    pub fn is_loading(&self) -> bool {
        matches!(self, Self::Loading)
    }

    /// The value, once loaded.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Self::Ok(value) => Some(value),
            _ => None,
        }
    }

    /// The error, if the task failed.
    pub fn failed(&self) -> Option<&AsyncError> {
        match self {
            Self::Failed(err) => Some(err),
            _ => None,
        }
    }
}

impl<T: 'static> From<AsyncOutcome> for AsyncResult<T> {
    fn from(outcome: AsyncOutcome) -> Self {
        match outcome.into_result::<T>() {
            Ok(value) => Self::Ok(value),
            Err(err) => Self::Failed(err),
        }
    }
}

impl<T> From<Result<T, AsyncError>> for AsyncResult<T> {
    fn from(result: Result<T, AsyncError>) -> Self {
        match result {
            Ok(value) => Self::Ok(value),
            Err(err) => Self::Failed(err),
        }
    }
}

/// A finished (or cancelled) task, on its way to the view's inbox.
#[derive(Debug)]
pub(crate) struct AsyncDone {
    pub(crate) name: String,
    /// Which start of `name` this is: a result of a replaced task is ignored.
    pub(crate) id: u64,
    pub(crate) outcome: AsyncOutcome,
}

/// The running tasks of one view, by name; all aborted when the view (its socket) is dropped.
#[derive(Debug, Default)]
pub(crate) struct AsyncTasks {
    next: u64,
    running: HashMap<String, (u64, AbortHandle)>,
}

impl AsyncTasks {
    /// A fresh id for the next start.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Records a started task, aborting the one it replaces.
    pub(crate) fn insert(&mut self, name: &str, id: u64, task: AbortHandle) {
        if let Some((_, old)) = self.running.insert(name.to_owned(), (id, task)) {
            old.abort();
        }
    }

    /// Aborts the task under `name`; its id, if one ran (it stays registered so that its
    /// `Cancelled` outcome is delivered).
    pub(crate) fn abort(&mut self, name: &str) -> Option<u64> {
        let (id, task) = self.running.get(name)?;
        task.abort();
        Some(*id)
    }

    /// True if `done` is the current task of its name (which is then forgotten); false for a
    /// replaced task's result.
    pub(crate) fn finish(&mut self, done: &AsyncDone) -> bool {
        match self.running.get(&done.name) {
            Some((id, _)) if *id == done.id => {
                self.running.remove(&done.name);
                true
            }
            _ => false,
        }
    }

    /// True if a task runs under `name`.
    pub(crate) fn is_running(&self, name: &str) -> bool {
        self.running.contains_key(name)
    }
}

impl Drop for AsyncTasks {
    fn drop(&mut self) {
        for (_, task) in self.running.values() {
            task.abort();
        }
    }
}
