//! Live sockets grouped by login, so a logout can disconnect every open socket of that login.
//!
//! As in Phoenix, a session may carry a `live_socket_id` (for example
//! `"users_sessions:<token id>"`). The WebSocket that connects with that session registers under
//! the id; [`LiveSockets::disconnect`] closes all of them with code 1001. The client reconnects
//! at once and rejoins; the views then mount again from the (now logged-out) cookie session, so
//! a page that needs a login redirects to the login page.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::channel::queue;
use crate::view::Outbound;

/// Session key whose value groups the live sockets of one login.
pub const LIVE_SOCKET_ID: &str = "live_socket_id";

type Entry = (u64, queue::Sender<Outbound>);

/// The registry of connected live sockets by `live_socket_id`; a cheap handle to clone.
///
/// ```
/// use livefire::LiveRouter;
/// use livefire::token::Keyring;
///
/// let router = LiveRouter::new(Keyring::random());
/// // Keep a clone for the logout handler; the router's sockets register in it under the
/// // session's `live_socket_id` (set at login: `session.insert(LIVE_SOCKET_ID, "users_sessions:abc")`).
/// let sockets = router.sockets();
///
/// // At logout: close them all (nobody is connected in this example).
/// assert_eq!(sockets.count("users_sessions:abc"), 0);
/// assert_eq!(sockets.disconnect("users_sessions:abc"), 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct LiveSockets {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next: AtomicU64,
    by_id: Mutex<HashMap<String, Vec<Entry>>>,
}

impl LiveSockets {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Entry>>> {
        self.inner
            .by_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection; the returned guard deregisters it when dropped.
    pub(crate) fn register(&self, id: String, out: queue::Sender<Outbound>) -> Registration {
        let key = self.inner.next.fetch_add(1, Ordering::Relaxed);
        self.map().entry(id.clone()).or_default().push((key, out));
        Registration {
            sockets: self.clone(),
            id,
            key,
        }
    }

    /// Closes every live socket connected under `live_socket_id` (code 1001: the client
    /// reconnects and its views mount again). Returns how many were told to close.
    pub fn disconnect(&self, live_socket_id: &str) -> usize {
        let entries = self.map().remove(live_socket_id).unwrap_or_default();
        let mut closed = 0;
        for (_, out) in entries {
            if out.try_send(Outbound::Disconnect).is_ok() {
                closed += 1;
            }
        }
        tracing::debug!(closed, "live sockets disconnected");
        closed
    }

    /// How many sockets are connected under `live_socket_id`.
    pub fn count(&self, live_socket_id: &str) -> usize {
        self.map().get(live_socket_id).map_or(0, Vec::len)
    }
}

/// Keeps a connection registered until dropped.
#[derive(Debug)]
pub(crate) struct Registration {
    sockets: LiveSockets,
    id: String,
    key: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut map = self.sockets.map();
        if let Some(entries) = map.get_mut(&self.id) {
            entries.retain(|(key, _)| *key != self.key);
            if entries.is_empty() {
                map.remove(&self.id);
            }
        }
    }
}
