//! Live sockets grouped by login, so a logout can disconnect every open socket of that login.
//!
//! As in Phoenix, a session may carry a `live_socket_id` (for example
//! `"users_sessions:<token id>"`). The WebSocket that connects with that session registers under
//! the id; [`LiveSockets::disconnect`] closes all of them with code 1001. The client reconnects
//! at once and rejoins; the views then mount again from the (now logged-out) cookie session, so
//! a page that needs a login redirects to the login page.
//!
//! With a [`PubSub`] attached ([`LiveRouter::pubsub`](crate::LiveRouter::pubsub)), a
//! disconnect is also broadcast on [`DISCONNECT_TOPIC`], so every node sharing that pub/sub
//! (for example through [`PubSub::redis`](crate::pubsub::PubSub)) closes its own sockets of
//! that id: a logout on one node reaches the browser tabs connected to the others.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use serde_json::Value;

use crate::message::Outbound;
use crate::pubsub::{Delivery, PubSub, Subscription};
use crate::queue;

/// Session key whose value groups the live sockets of one login.
pub const LIVE_SOCKET_ID: &str = "live_socket_id";

/// The reserved pub/sub topic of cross-node disconnects; the payload is
/// `{"live_socket_id": "<id>"}`.
pub const DISCONNECT_TOPIC: &str = "livefire:disconnect";

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
    /// The pub/sub disconnects are broadcast on, and this registry's subscription to them.
    pubsub: Mutex<Option<(PubSub, Subscription)>>,
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

    /// Broadcasts disconnects on `pubsub` and obeys the ones it receives (replacing any
    /// pub/sub attached before).
    pub(crate) fn attach_pubsub(&self, pubsub: PubSub) {
        let sockets: Weak<Inner> = Arc::downgrade(&self.inner);
        let subscription = pubsub.subscribe_fn(DISCONNECT_TOPIC, move |value: &Value| {
            let Some(inner) = sockets.upgrade() else {
                return Delivery::Gone;
            };
            match value.get(LIVE_SOCKET_ID).and_then(Value::as_str) {
                Some(id) => {
                    LiveSockets { inner }.disconnect_local(id);
                }
                None => tracing::warn!(%value, "malformed disconnect broadcast ignored"),
            }
            Delivery::Done
        });
        *self
            .inner
            .pubsub
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((pubsub, subscription));
    }

    /// Closes every live socket connected under `live_socket_id` (code 1001: the client
    /// reconnects and its views mount again).
    ///
    /// With a [`PubSub`] attached ([`LiveRouter::pubsub`](crate::LiveRouter::pubsub)) the
    /// disconnect is also broadcast on [`DISCONNECT_TOPIC`], and every node sharing that
    /// pub/sub closes its own sockets of that id; without one only this process's sockets
    /// close.
    ///
    /// Returns how many sockets **of this process** were told to close (the other nodes'
    /// sockets are not counted: their broadcast is fire-and-forget).
    pub fn disconnect(&self, live_socket_id: &str) -> usize {
        let closed = self.disconnect_local(live_socket_id);
        let pubsub = self
            .inner
            .pubsub
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|(pubsub, _)| pubsub.clone());
        if let Some(pubsub) = pubsub {
            pubsub.broadcast(
                DISCONNECT_TOPIC,
                serde_json::json!({ LIVE_SOCKET_ID: live_socket_id }),
            );
        }
        closed
    }

    /// Closes this process's sockets of `live_socket_id`.
    fn disconnect_local(&self, live_socket_id: &str) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(sockets: &LiveSockets, id: &str) -> (Registration, queue::Receiver<Outbound>) {
        let (tx, rx) = queue::channel(4);
        (sockets.register(id.to_owned(), tx), rx)
    }

    async fn told_to_close(rx: &mut queue::Receiver<Outbound>) -> bool {
        matches!(
            tokio::time::timeout(std::time::Duration::from_millis(100), rx.recv()).await,
            Ok(Some(Outbound::Disconnect))
        )
    }

    #[tokio::test]
    async fn without_pubsub_disconnect_is_local() {
        let sockets = LiveSockets::default();
        let (_r1, mut rx1) = socket(&sockets, "u:1");
        let (_r2, mut rx2) = socket(&sockets, "u:2");
        assert_eq!(sockets.count("u:1"), 1);
        assert_eq!(sockets.disconnect("u:1"), 1);
        assert!(told_to_close(&mut rx1).await);
        assert!(!told_to_close(&mut rx2).await);
        assert_eq!(sockets.count("u:1"), 0);
    }

    #[tokio::test]
    async fn a_shared_pubsub_carries_disconnects_to_the_other_registry() {
        // Two "nodes" in one process, sharing one in-process pub/sub.
        let pubsub = PubSub::local();
        let (node_a, node_b) = (LiveSockets::default(), LiveSockets::default());
        node_a.attach_pubsub(pubsub.clone());
        node_b.attach_pubsub(pubsub.clone());
        let (_ra, mut rx_a) = socket(&node_a, "u:1");
        let (_rb, mut rx_b) = socket(&node_b, "u:1");
        let (_rc, mut rx_c) = socket(&node_b, "u:2");
        // Counts this node's sockets only.
        assert_eq!(node_a.disconnect("u:1"), 1);
        assert!(told_to_close(&mut rx_a).await);
        assert!(told_to_close(&mut rx_b).await);
        assert!(!told_to_close(&mut rx_c).await);
        assert_eq!(node_b.count("u:1"), 0);
        assert_eq!(node_b.count("u:2"), 1);
        // Dropping a registry (and its connections) unsubscribes it.
        assert_eq!(pubsub.subscribers(DISCONNECT_TOPIC), 2);
        drop((node_b, _rb, _rc));
        pubsub.broadcast(
            DISCONNECT_TOPIC,
            serde_json::json!({ LIVE_SOCKET_ID: "u:2" }),
        );
        assert_eq!(pubsub.subscribers(DISCONNECT_TOPIC), 1);
    }
}
