//! The running [`Socket::start_async`](crate::Socket::start_async) tasks of every joined view
//! of this process, by view id, for [`LiveTest::render_async`](super::LiveTest::render_async).
//!
//! The server runs in the test's process, so the views register here when they join (with
//! the feature `test-util` only). A view id is not unique across the process (child views'
//! ids are chosen by the application, and tests run in parallel): an id maps to every live
//! view that has it, and waiting for one waits for all of them, which is slower at worst,
//! never wrong.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};

use tokio::sync::watch;

use crate::message::AsyncTasks;

static VIEWS: LazyLock<Mutex<HashMap<String, Vec<Weak<AsyncTasks>>>>> =
    LazyLock::new(Mutex::default);

/// Registers a joining view's task count.
pub(crate) fn register(id: &str) -> Arc<AsyncTasks> {
    let tasks = Arc::new(AsyncTasks::default());
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
        .map(|tasks| tasks.watch())
        .collect()
}
