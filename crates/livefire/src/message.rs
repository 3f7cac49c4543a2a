//! The messages between a connection and the view tasks it started.
//!
//! A connection ([`crate::channel`]) routes client frames to a view's inbox as [`Inbound`]
//! messages, and other tasks reach the same inbox through a
//! [`ViewHandle`](crate::ViewHandle) ([`ViewMsg::Info`]). Everything a view wants written to the
//! socket goes back through the connection's outbox as [`Outbound`] messages. Both queues are
//! the small bounded [`crate::queue`].

use std::any::Any;
use std::sync::Arc;

use serde_json::Value;

use crate::queue;
use crate::upload::{Finished, UploadJoin};

/// A message for a view task.
///
/// Client frames are boxed so a slot of the view's inbox stays small (16 bytes for a small
/// `M`, instead of 72); the inbox keeps the slots it once grew to for the view's life.
#[derive(Debug)]
pub(crate) enum ViewMsg<M> {
    /// A frame from the client, routed by the connection.
    Inbound(Box<Inbound>),
    /// A message from another task ([`ViewHandle`](crate::ViewHandle)).
    Info(M),
    /// A change to one of the view's live components, from another task
    /// ([`ViewHandle::send_update`](crate::ViewHandle::send_update)).
    Update(Box<ComponentUpdate>),
    /// A task of [`Socket::start_async`](crate::Socket::start_async) finished (or was
    /// cancelled); the guard, if any, counts the task as running until the view has handled
    /// the result and sent its diff.
    Async(Box<(crate::async_result::AsyncDone, Option<AsyncGuard>)>),
}

/// The view's tasks started with [`Socket::start_async`](crate::Socket::start_async) and not
/// yet handled: `livefire::test`'s `render_async` waits for the count to reach zero.
#[derive(Debug)]
pub(crate) struct AsyncCount {
    running: tokio::sync::watch::Sender<usize>,
}

impl Default for AsyncCount {
    fn default() -> Self {
        Self {
            running: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl AsyncCount {
    /// Counts a new task as running until the guard is dropped.
    pub(crate) fn start(self: &Arc<Self>) -> AsyncGuard {
        self.running.send_modify(|n| *n += 1);
        AsyncGuard(Arc::clone(self))
    }
}

/// The task counts of every joined view of this process, by view id (feature `test-util`), for
/// `livefire::test`'s `LiveTest::render_async`.
///
/// The server runs in the test's process, so the views register here when they join. A view
/// id is not unique across the process (child views' ids are chosen by the application, and
/// tests run in parallel): an id maps to every live view that has it, and waiting for one
/// waits for all of them, which is slower at worst, never wrong.
#[cfg(feature = "test-util")]
pub(crate) mod registry {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};

    use tokio::sync::watch;

    use super::AsyncCount;

    static VIEWS: LazyLock<Mutex<HashMap<String, Vec<Weak<AsyncCount>>>>> =
        LazyLock::new(Mutex::default);

    /// Registers a joining view's task count.
    pub(crate) fn register(id: &str) -> Arc<AsyncCount> {
        let tasks = Arc::new(AsyncCount::default());
        let mut views = VIEWS.lock().unwrap_or_else(PoisonError::into_inner);
        // Views that ended are forgotten here.
        views.retain(|_, list| {
            list.retain(|w| w.strong_count() > 0);
            !list.is_empty()
        });
        views
            .entry(id.to_owned())
            .or_default()
            .push(Arc::downgrade(&tasks));
        tasks
    }

    /// Receivers of the running counts of the live views with id `id`.
    pub(crate) fn watch(id: &str) -> Vec<watch::Receiver<usize>> {
        let views = VIEWS.lock().unwrap_or_else(PoisonError::into_inner);
        views
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(Weak::upgrade)
            .map(|tasks| tasks.running.subscribe())
            .collect()
    }
}

/// One running task of [`AsyncCount`]: dropped once its result was handled (or the view is
/// gone, or the task panicked).
#[derive(Debug)]
pub(crate) struct AsyncGuard(Arc<AsyncCount>);

impl Drop for AsyncGuard {
    fn drop(&mut self) {
        self.0.running.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A change to the live component of type `kind` with id `id`: `apply` receives the
/// component (as `&mut dyn Any`, of type `kind`).
pub(crate) struct ComponentUpdate {
    pub(crate) kind: std::any::TypeId,
    pub(crate) id: String,
    pub(crate) apply: ApplyUpdate,
}

/// Changes a component (given as `&mut dyn Any`).
pub(crate) type ApplyUpdate = Box<dyn FnOnce(&mut dyn std::any::Any) + Send>;

impl std::fmt::Debug for ComponentUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentUpdate")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Client frames a view handles.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// `event`: a binding fired (`phx-click`, `phx-change`, a hook's `pushEvent`, …).
    Event {
        msg_ref: Option<String>,
        payload: Value,
    },
    /// `live_patch`: a patch link or back/forward within the view.
    LivePatch {
        msg_ref: Option<String>,
        url: String,
    },
    /// `cids_will_destroy`: component roots left the DOM.
    CidsWillDestroy {
        msg_ref: Option<String>,
        cids: Vec<u32>,
    },
    /// `cids_destroyed`: components still gone after the DOM settled.
    CidsDestroyed {
        msg_ref: Option<String>,
        cids: Vec<u32>,
    },
    /// `allow_upload`: the preflight of selected files.
    AllowUpload {
        msg_ref: Option<String>,
        payload: Value,
    },
    /// `progress`: an upload entry's progress (or a client-side failure).
    Progress {
        msg_ref: Option<String>,
        payload: Value,
    },
    /// An entry's upload channel asks its view to accept it.
    UploadJoin(UploadJoin),
    /// An entry's upload channel ended.
    UploadFinished {
        upload_ref: String,
        entry_ref: String,
        how: Finished,
    },
    /// A binary `chunk` push for an upload channel.
    Chunk {
        msg_ref: Option<String>,
        data: Vec<u8>,
    },
}

/// What a view task tells its connection (24 bytes; the outbox keeps its slots for the
/// connection's life).
#[derive(Debug)]
pub(crate) enum Outbound {
    /// A text frame to send.
    Frame(String),
    /// The view of this topic and join ref has stopped.
    Ended(Box<Ended>),
    /// Close the whole connection with 1001 (a logout elsewhere); the client reconnects.
    Disconnect,
}

/// A view task that stopped.
#[derive(Debug)]
pub(crate) struct Ended {
    pub(crate) topic: Arc<str>,
    pub(crate) join_ref: Arc<str>,
    /// Stopped on purpose (a redirect): the connection answers `phx_close`, as Phoenix does
    /// after a channel shuts down normally. A crash already sent `phx_error` instead.
    pub(crate) close: bool,
    /// A nested view linked to its parent crashed: the parent crashes too.
    pub(crate) linked_crash: bool,
}

/// Why a message could not be put into a view's inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendFailure {
    /// The inbox is full: the client floods the view.
    Full,
    /// The view has ended.
    Closed,
}

/// Type-erased sender into a view's inbox (the connection does not know the view's message
/// type).
pub(crate) trait InboundTx: Send + Sync {
    fn try_send(&self, msg: Inbound) -> Result<(), SendFailure>;
    /// Another sender into the same inbox.
    fn clone_box(&self) -> Box<dyn InboundTx>;
    /// Another sender into the same inbox, typed (`queue::Sender<ViewMsg<M>>`) behind `Any`:
    /// a nested view's handle to its parent. Made when a child joins, so that a view's slot
    /// does not carry it.
    fn handle(&self) -> Arc<dyn Any + Send + Sync>;
}

impl<M: Send + 'static> InboundTx for queue::Sender<ViewMsg<M>> {
    fn try_send(&self, msg: Inbound) -> Result<(), SendFailure> {
        queue::Sender::try_send(self, ViewMsg::Inbound(Box::new(msg))).map_err(|err| match err {
            queue::TrySendError::Full(_) => SendFailure::Full,
            queue::TrySendError::Closed(_) => SendFailure::Closed,
        })
    }

    fn clone_box(&self) -> Box<dyn InboundTx> {
        Box::new(self.clone())
    }

    fn handle(&self) -> Arc<dyn Any + Send + Sync> {
        Arc::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_slots_stay_small() {
        // Inbox and outbox slots are kept while a view/connection idles.
        assert!(size_of::<ViewMsg<()>>() <= 16);
        assert!(size_of::<ViewMsg<u64>>() <= 16);
        assert!(size_of::<Outbound>() <= 24);
    }
}
