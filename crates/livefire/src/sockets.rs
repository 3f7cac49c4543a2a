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
//!
//! **Failing closed.** A broadcast can be lost (Redis down, no pub/sub configured, a node
//! partitioned). [`LiveSockets::spawn_revalidation`] closes the sockets of revoked logins
//! anyway: one timer per registry walks the registered ids in batches of
//! [`REVALIDATE_BATCH`] and asks an app-supplied async check which of them are still valid;
//! the sockets of every other id are closed. With the default period
//! ([`DEFAULT_REVALIDATE_PERIOD`]) a revoked login's sockets close within 30 s even when no
//! disconnect reached this node (docs/threat-model.md case 78).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use serde_json::Value;

use crate::message::Outbound;
use crate::pubsub::{Delivery, PubSub, Subscription};
use crate::queue;

/// Session key whose value groups the live sockets of one login.
pub const LIVE_SOCKET_ID: &str = "live_socket_id";

/// The reserved pub/sub topic of cross-node disconnects; the payload is
/// `{"live_socket_id": "<id>"}`.
pub const DISCONNECT_TOPIC: &str = "livefire:disconnect";

/// Default period of [`LiveSockets::spawn_revalidation`]: a revoked login's sockets close
/// within this period plus one check, well within 30 s.
pub const DEFAULT_REVALIDATE_PERIOD: Duration = Duration::from_secs(20);

/// How many ids one call of a revalidation check receives at most.
pub const REVALIDATE_BATCH: usize = 1000;

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

    /// The `live_socket_id`s with at least one socket connected to this process, in no
    /// particular order.
    pub fn ids(&self) -> Vec<String> {
        self.map().keys().cloned().collect()
    }

    /// One revalidation pass: asks `check` (in batches of at most [`REVALIDATE_BATCH`] ids)
    /// which of this process's registered ids are still valid, and closes the sockets of every
    /// id it does not return (code 1001, as [`disconnect`](Self::disconnect), but only here:
    /// every node revalidates its own sockets). A batch whose check fails is left alone
    /// (logged at warn level) and checked again next pass. Returns how many sockets were told
    /// to close.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::collections::HashSet;
    /// use livefire::sockets::LiveSockets;
    ///
    /// let sockets = LiveSockets::default();
    /// // The app's check: which of these logins still exist (here: none is revoked).
    /// let closed = sockets
    ///     .revalidate(&|ids: Vec<String>| async move {
    ///         Ok::<_, std::convert::Infallible>(ids.into_iter().collect::<HashSet<_>>())
    ///     })
    ///     .await;
    /// assert_eq!(closed, 0);
    /// # }
    /// ```
    pub async fn revalidate<F, Fut, E>(&self, check: &F) -> usize
    where
        F: Fn(Vec<String>) -> Fut,
        Fut: Future<Output = Result<HashSet<String>, E>>,
        E: fmt::Display,
    {
        let ids = self.ids();
        let mut closed = 0;
        for batch in ids.chunks(REVALIDATE_BATCH) {
            match check(batch.to_vec()).await {
                Ok(valid) => {
                    for id in batch.iter().filter(|id| !valid.contains(*id)) {
                        closed += self.disconnect_local(id);
                    }
                }
                Err(err) => {
                    tracing::warn!(%err, ids = batch.len(), "live socket revalidation failed");
                }
            }
        }
        if closed > 0 {
            tracing::info!(
                closed,
                "live sockets of revoked logins closed by revalidation"
            );
        }
        closed
    }

    /// Runs [`revalidate`](Self::revalidate) every `period` (for example
    /// [`DEFAULT_REVALIDATE_PERIOD`]) until every handle of this registry is dropped: the
    /// fail-closed complement of [`disconnect`](Self::disconnect), for when a broadcast is lost
    /// (pub/sub down or not configured). One task per registry, whatever the number of
    /// sockets; the check sees each id once per period, batched.
    ///
    /// Returns the task's handle (abort it to stop early), or `None` outside a tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::collections::HashSet;
    /// use livefire::sockets::{DEFAULT_REVALIDATE_PERIOD, LiveSockets};
    ///
    /// let sockets = LiveSockets::default(); // in an app: `LiveRouter::sockets()`
    /// let task = sockets.spawn_revalidation(DEFAULT_REVALIDATE_PERIOD, |ids: Vec<String>| async move {
    ///     // Look the logins up in the app's store; keep the ones that still exist.
    ///     let valid: HashSet<String> = ids.into_iter().filter(|id| id != "users_sessions:revoked").collect();
    ///     Ok::<_, std::io::Error>(valid)
    /// });
    /// assert!(task.is_some());
    /// # }
    /// ```
    pub fn spawn_revalidation<F, Fut, E>(
        &self,
        period: Duration,
        check: F,
    ) -> Option<tokio::task::JoinHandle<()>>
    where
        F: Fn(Vec<String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<HashSet<String>, E>> + Send + 'static,
        E: fmt::Display + Send + 'static,
    {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no tokio runtime: live sockets are not revalidated");
            return None;
        };
        let inner = Arc::downgrade(&self.inner);
        Some(runtime.spawn(async move {
            let mut every = tokio::time::interval(period);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                every.tick().await;
                let Some(inner) = inner.upgrade() else {
                    break;
                };
                LiveSockets { inner }.revalidate(&check).await;
            }
        }))
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

    /// docs/threat-model.md case 78: revalidation closes exactly the sockets whose id the
    /// check no longer confirms, without any disconnect call or pub/sub.
    #[tokio::test]
    async fn case_78_revalidation_closes_only_ids_the_check_drops() {
        let sockets = LiveSockets::default();
        let (_r1, mut rx1) = socket(&sockets, "u:1");
        let (_r2, mut rx2) = socket(&sockets, "u:2");
        let (_r3, mut rx3) = socket(&sockets, "u:2");
        let closed = sockets
            .revalidate(&|ids: Vec<String>| async move {
                Ok::<_, std::convert::Infallible>(
                    ids.into_iter().filter(|id| id != "u:2").collect(),
                )
            })
            .await;
        assert_eq!(closed, 2);
        assert!(told_to_close(&mut rx2).await && told_to_close(&mut rx3).await);
        assert!(!told_to_close(&mut rx1).await);
        // A failing check closes nothing.
        let closed = sockets
            .revalidate(&|_ids: Vec<String>| async move { Err::<HashSet<String>, _>("store down") })
            .await;
        assert_eq!(closed, 0);
        assert_eq!(sockets.count("u:1"), 1);
    }

    /// docs/threat-model.md case 78: the periodic task closes a revoked id's socket within
    /// one period, and batches never exceed REVALIDATE_BATCH.
    #[tokio::test]
    async fn case_78_periodic_revalidation_closes_a_revoked_login_within_the_period() {
        let sockets = LiveSockets::default();
        let mut keep = Vec::new();
        for i in 0..(REVALIDATE_BATCH + 5) {
            keep.push(socket(&sockets, &format!("u:{i}")));
        }
        let (revoked, mut rx) = socket(&sockets, "revoked");
        let largest = Arc::new(AtomicU64::new(0));
        let seen = largest.clone();
        let task = sockets
            .spawn_revalidation(Duration::from_millis(50), move |ids: Vec<String>| {
                seen.fetch_max(ids.len() as u64, Ordering::Relaxed);
                async move {
                    Ok::<_, std::convert::Infallible>(
                        ids.into_iter().filter(|id| id != "revoked").collect(),
                    )
                }
            })
            .expect("in a runtime");
        let closed = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await;
        assert!(matches!(closed, Ok(Some(Outbound::Disconnect))));
        assert_eq!(largest.load(Ordering::Relaxed), REVALIDATE_BATCH as u64);
        assert_eq!(sockets.ids().len(), REVALIDATE_BATCH + 5);
        // The task ends once the registry is gone.
        drop((sockets, keep, revoked));
        tokio::time::timeout(Duration::from_millis(500), task)
            .await
            .expect("task ended")
            .expect("no panic");
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
