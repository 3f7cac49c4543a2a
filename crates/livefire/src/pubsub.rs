//! Publish/subscribe between live views, in one process or (feature `pubsub-redis`) across
//! nodes.
//!
//! A [`PubSub`] maps topics (any string) to subscribers. [`PubSub::broadcast`] hands a JSON
//! value to every subscriber of a topic; a live view subscribes with [`Socket::subscribe`](crate::Socket::subscribe)
//! (usually in a connected `mount`), and each message reaches its
//! [`handle_info`](crate::LiveView::handle_info) through a mapping function, followed by a
//! render and a diff.
//!
//! Delivery never blocks the broadcaster: a view whose inbox is full misses the message (a
//! warning is logged), and subscribers whose view has ended are removed on the next broadcast
//! of their topic. Like Phoenix.PubSub and Redis, delivery is at most once and there is no
//! history: a view that subscribes later does not see earlier messages.
//!
//! [`PubSub::local`] works inside one process. With the `pubsub-redis` feature,
//! `PubSub::redis` also sends every broadcast through Redis to the other nodes (and delivers
//! theirs here), so a logout on one node reaches the sockets on every node
//! ([`LiveRouter::pubsub`](crate::LiveRouter::pubsub)). Everybody who can publish to that
//! Redis can broadcast to the views: keep it private to the cluster.
//!
//! Topics starting with `livefire:` are reserved for livefire itself.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use livefire::pubsub::PubSub;
//!
//! let pubsub = PubSub::local();
//! // A view would call `socket.subscribe(&pubsub, "prices", map)` in its connected mount.
//! assert_eq!(pubsub.subscribers("prices"), 0);
//! pubsub.broadcast("prices", serde_json::json!({"eur": 101})); // nobody listens: dropped
//! # }
//! ```

#[cfg(feature = "pubsub-redis")]
mod redis;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Prefix of the topics livefire uses itself.
pub const RESERVED_PREFIX: &str = "livefire:";

/// What happened when a message was offered to one subscriber.
///
/// ```
/// use livefire::pubsub::Delivery;
/// assert_ne!(Delivery::Done, Delivery::Gone);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Delivered (or deliberately ignored by the subscriber's filter).
    Done,
    /// The subscriber's inbox was full: this message is lost for it.
    Full,
    /// The subscriber is gone: remove it.
    Gone,
}

/// Where a subscription delivers its messages without ever waiting: a live view's
/// [`ViewHandle`](crate::ViewHandle), or a queue of your own.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use livefire::pubsub::{Delivery, PubSub, Sink};
/// use tokio::sync::mpsc;
///
/// struct Log(mpsc::Sender<String>);
/// impl Sink<String> for Log {
///     fn deliver(&self, msg: String) -> Delivery {
///         match self.0.try_send(msg) {
///             Ok(()) => Delivery::Done,
///             Err(mpsc::error::TrySendError::Full(_)) => Delivery::Full,
///             Err(mpsc::error::TrySendError::Closed(_)) => Delivery::Gone,
///         }
///     }
///     fn is_closed(&self) -> bool {
///         self.0.is_closed()
///     }
/// }
///
/// let pubsub = PubSub::local();
/// let (tx, mut rx) = mpsc::channel(8);
/// let _sub = pubsub.subscribe("audit", Log(tx), |v| v.as_str().map(str::to_owned));
/// pubsub.broadcast("audit", "signed in");
/// assert_eq!(rx.recv().await.as_deref(), Some("signed in"));
/// # }
/// ```
pub trait Sink<M>: Send + Sync + 'static {
    /// Hands `msg` over without waiting.
    fn deliver(&self, msg: M) -> Delivery;
    /// True once the receiver is gone: the subscription is then removed.
    fn is_closed(&self) -> bool;
}

type Deliver = Arc<dyn Fn(&Value) -> Delivery + Send + Sync>;

/// A cheap, cloneable handle to a topic registry (and, with `PubSub::redis`, feature
/// `pubsub-redis`, its bridge to the other nodes).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use livefire::pubsub::PubSub;
/// use livefire::Socket;
///
/// let pubsub = PubSub::local();
/// // During the dead render the socket is not connected: subscribing does nothing.
/// let mut socket: Socket<String> = Socket::disconnected();
/// socket.subscribe(&pubsub, "chat", |value| value.as_str().map(str::to_owned));
/// assert_eq!(pubsub.subscribers("chat"), 0);
/// # }
/// ```
#[derive(Clone)]
pub struct PubSub {
    inner: Arc<Inner>,
}

struct Inner {
    next: AtomicU64,
    /// Broadcast payloads a typed subscriber could not decode (shared with its closures, which
    /// must not hold `Inner` itself: the registry owns them).
    decode_failures: Arc<AtomicU64>,
    topics: Mutex<HashMap<String, Vec<(u64, Deliver)>>>,
    #[cfg(feature = "pubsub-redis")]
    bridge: Option<redis::Bridge>,
}

impl std::fmt::Debug for PubSub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("PubSub");
        #[cfg(feature = "pubsub-redis")]
        s.field("redis", &self.inner.bridge.is_some());
        s.finish_non_exhaustive()
    }
}

/// Connecting a [`PubSub`] to its backend failed.
///
/// ```
/// let err: &dyn std::error::Error = &livefire::pubsub::PubSubError::Timeout;
/// assert_eq!(err.to_string(), "pub/sub connection timed out");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PubSubError {
    /// Redis refused the connection, the URL was invalid, or a command failed.
    #[cfg(feature = "pubsub-redis")]
    #[error("redis pub/sub: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// Connecting took too long.
    #[error("pub/sub connection timed out")]
    Timeout,
}

impl PubSub {
    /// An in-process registry: broadcasts reach the subscribers of this process only.
    pub fn local() -> Self {
        Self {
            inner: Arc::new(Inner {
                next: AtomicU64::new(0),
                decode_failures: Arc::default(),
                topics: Mutex::new(HashMap::new()),
                #[cfg(feature = "pubsub-redis")]
                bridge: None,
            }),
        }
    }

    fn topics(&self) -> MutexGuard<'_, HashMap<String, Vec<(u64, Deliver)>>> {
        lock(&self.inner)
    }

    /// Sends `payload` (serialized to JSON) to every subscriber of `topic` in this process,
    /// at once, and (with a Redis bridge) to the other nodes.
    ///
    /// Never waits: a subscriber whose inbox is full misses the message (logged as a
    /// warning). A payload that cannot be serialized is logged and dropped.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use livefire::pubsub::PubSub;
    /// let pubsub = PubSub::local();
    /// pubsub.broadcast("orders", serde_json::json!({"id": 7, "status": "shipped"}));
    /// # }
    /// ```
    pub fn broadcast(&self, topic: &str, payload: impl Serialize) {
        let value = match serde_json::to_value(payload) {
            Ok(value) => value,
            Err(err) => {
                tracing::error!(topic, %err, "broadcast payload could not be serialized");
                return;
            }
        };
        self.deliver_local(topic, &value);
        #[cfg(feature = "pubsub-redis")]
        if let Some(bridge) = &self.inner.bridge {
            bridge.publish(topic, &value);
        }
    }

    /// Delivers to the subscribers of this process only (also the entry point of the bridge).
    pub(crate) fn deliver_local(&self, topic: &str, value: &Value) {
        // Deliver outside the lock: a subscriber may broadcast or subscribe in turn.
        let subscribers: Vec<(u64, Deliver)> = match self.topics().get(topic) {
            Some(subs) => subs.clone(),
            None => return,
        };
        let mut gone = Vec::new();
        for (key, deliver) in &subscribers {
            match deliver(value) {
                Delivery::Done => {}
                Delivery::Full => {
                    tracing::warn!(
                        topic,
                        "a live view's inbox is full: broadcast dropped for it"
                    );
                }
                Delivery::Gone => gone.push(*key),
            }
        }
        if !gone.is_empty() {
            let mut topics = self.topics();
            if let Some(subs) = topics.get_mut(topic) {
                subs.retain(|(key, _)| !gone.contains(key));
                if subs.is_empty() {
                    topics.remove(topic);
                }
            }
            tracing::debug!(topic, pruned = gone.len(), "ended subscribers removed");
        }
    }

    /// Subscribes `sink` (usually a live view's [`ViewHandle`](crate::ViewHandle)) to
    /// `topic`: every broadcast value that `map` turns into a message is delivered to it
    /// without waiting (when its inbox is full the message is dropped and a warning logged).
    /// `map` returning `None` ignores the value on purpose (a filter): it is not logged above
    /// `trace` and not counted. For payloads of a known type, [`subscribe_typed`](Self::subscribe_typed)
    /// decodes them and reports those that do not decode.
    ///
    /// The subscription ends when the returned [`Subscription`] is dropped, or by itself once
    /// the sink is closed (the view has ended). In a view, prefer
    /// [`Socket::subscribe`](crate::Socket::subscribe), which keeps the subscription exactly as
    /// long as the view.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use livefire::pubsub::PubSub;
    /// use livefire::Socket;
    ///
    /// let pubsub = PubSub::local();
    /// let handle = Socket::<u64>::disconnected().handle(); // a closed handle, for the example
    /// let sub = pubsub.subscribe("ticks", handle, |v| v.as_u64());
    /// assert_eq!(pubsub.subscribers("ticks"), 1);
    /// pubsub.broadcast("ticks", 1); // the view is gone: its subscription is pruned
    /// assert_eq!(pubsub.subscribers("ticks"), 0);
    /// drop(sub);
    /// # }
    /// ```
    pub fn subscribe<M: Send + 'static>(
        &self,
        topic: &str,
        sink: impl Sink<M>,
        map: impl Fn(Value) -> Option<M> + Send + Sync + 'static,
    ) -> Subscription {
        self.subscribe_fn(topic, move |value| {
            if sink.is_closed() {
                return Delivery::Gone;
            }
            match map(value.clone()) {
                Some(msg) => sink.deliver(msg),
                None => Delivery::Done,
            }
        })
    }

    /// Subscribes `sink` to `topic` with typed payloads: every broadcast value is decoded as a
    /// `T` (with serde) and `map` turns it into the sink's message.
    ///
    /// A payload that does not decode as a `T` is never dropped silently: it is logged as a
    /// warning with the topic and the serde error, and counted in
    /// [`decode_failures`](Self::decode_failures). Otherwise this is
    /// [`subscribe`](Self::subscribe) (same delivery rules, same [`Subscription`]). In a view,
    /// use [`Socket::subscribe_typed`](crate::Socket::subscribe_typed).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use livefire::pubsub::{Delivery, PubSub, Sink};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Price { eur: f64 }
    ///
    /// #[derive(Clone, Default)]
    /// struct Seen(Arc<Mutex<Vec<f64>>>);
    /// impl Sink<f64> for Seen {
    ///     fn deliver(&self, msg: f64) -> Delivery { self.0.lock().unwrap().push(msg); Delivery::Done }
    ///     fn is_closed(&self) -> bool { false }
    /// }
    ///
    /// let pubsub = PubSub::local();
    /// let seen = Seen::default();
    /// let _sub = pubsub.subscribe_typed("prices", seen.clone(), |p: Price| p.eur);
    /// pubsub.broadcast("prices", serde_json::json!({"eur": 101.5}));
    /// pubsub.broadcast("prices", serde_json::json!({"usd": 3})); // not a Price: logged, counted
    /// assert_eq!(*seen.0.lock().unwrap(), [101.5]);
    /// assert_eq!(pubsub.decode_failures(), 1);
    /// # }
    /// ```
    pub fn subscribe_typed<T, M>(
        &self,
        topic: &str,
        sink: impl Sink<M>,
        map: impl Fn(T) -> M + Send + Sync + 'static,
    ) -> Subscription
    where
        T: DeserializeOwned + 'static,
        M: Send + 'static,
    {
        let failures = self.inner.decode_failures.clone();
        let name = topic.to_owned();
        self.subscribe_fn(topic, move |value| {
            if sink.is_closed() {
                return Delivery::Gone;
            }
            match T::deserialize(value) {
                Ok(payload) => sink.deliver(map(payload)),
                Err(err) => {
                    failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        topic = %name,
                        %err,
                        expected = std::any::type_name::<T>(),
                        "pub/sub payload could not be decoded: dropped for this subscriber"
                    );
                    Delivery::Done
                }
            }
        })
    }

    /// How many broadcast payloads typed subscribers of this `PubSub` (and its clones) could
    /// not decode, since it was made: one per subscriber that failed. Each was also logged as
    /// a warning with its topic. Values a [`subscribe`](Self::subscribe) map turned into
    /// `None` are filtered on purpose and not counted.
    ///
    /// ```
    /// let pubsub = livefire::pubsub::PubSub::local();
    /// assert_eq!(pubsub.decode_failures(), 0);
    /// ```
    pub fn decode_failures(&self) -> u64 {
        self.inner.decode_failures.load(Ordering::Relaxed)
    }

    /// Subscribes a callback (which must not block).
    pub(crate) fn subscribe_fn(
        &self,
        topic: &str,
        deliver: impl Fn(&Value) -> Delivery + Send + Sync + 'static,
    ) -> Subscription {
        let key = self.inner.next.fetch_add(1, Ordering::Relaxed);
        self.topics()
            .entry(topic.to_owned())
            .or_default()
            .push((key, Arc::new(deliver)));
        Subscription {
            pubsub: Arc::downgrade(&self.inner),
            topic: topic.to_owned(),
            key,
        }
    }

    /// How many subscribers `topic` has in this process (ended views count until the next
    /// broadcast of the topic prunes them).
    pub fn subscribers(&self, topic: &str) -> usize {
        self.topics().get(topic).map_or(0, Vec::len)
    }
}

fn lock(inner: &Inner) -> MutexGuard<'_, HashMap<String, Vec<(u64, Deliver)>>> {
    inner.topics.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A subscription to a topic; dropping it unsubscribes.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use livefire::pubsub::PubSub;
/// let pubsub = PubSub::local();
/// let sub = pubsub.subscribe("news", livefire::Socket::<()>::disconnected().handle(), |_| None);
/// assert_eq!(sub.topic(), "news");
/// assert_eq!(pubsub.subscribers("news"), 1);
/// drop(sub);
/// assert_eq!(pubsub.subscribers("news"), 0);
/// # }
/// ```
#[derive(Debug)]
#[must_use = "dropping a Subscription unsubscribes at once"]
pub struct Subscription {
    pubsub: Weak<Inner>,
    topic: String,
    key: u64,
}

impl Subscription {
    /// The subscribed topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let Some(inner) = self.pubsub.upgrade() else {
            return;
        };
        let mut topics = lock(&inner);
        if let Some(subs) = topics.get_mut(&self.topic) {
            subs.retain(|(key, _)| *key != self.key);
            if subs.is_empty() {
                topics.remove(&self.topic);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::queue;

    /// A sink over the crate's queue, standing in for a view's inbox.
    struct Inbox<M>(queue::Sender<M>);

    impl<M: Send + 'static> Sink<M> for Inbox<M> {
        fn deliver(&self, msg: M) -> Delivery {
            match self.0.try_send(msg) {
                Ok(()) => Delivery::Done,
                Err(queue::TrySendError::Full(_)) => Delivery::Full,
                Err(queue::TrySendError::Closed(_)) => Delivery::Gone,
            }
        }
        fn is_closed(&self) -> bool {
            self.0.is_closed()
        }
    }

    impl<M> Clone for Inbox<M> {
        fn clone(&self) -> Self {
            Self(self.0.clone())
        }
    }

    fn view<M: Send + 'static>(cap: usize) -> (Inbox<M>, queue::Receiver<M>) {
        let (tx, rx) = queue::channel(cap);
        (Inbox(tx), rx)
    }

    fn info<M>(msg: Option<M>) -> M {
        msg.expect("expected a message")
    }

    #[tokio::test]
    async fn delivers_to_every_subscriber_of_the_topic_only() {
        let pubsub = PubSub::local();
        let (a, mut rx_a) = view::<Value>(8);
        let (b, mut rx_b) = view::<Value>(8);
        let (c, mut rx_c) = view::<Value>(8);
        let _sa = pubsub.subscribe("t", a, Some);
        let _sb = pubsub.subscribe("t", b, Some);
        let _sc = pubsub.subscribe("other", c, Some);
        pubsub.clone().broadcast("t", json!({"n": 1}));
        assert_eq!(info(rx_a.recv().await), json!({"n": 1}));
        assert_eq!(info(rx_b.recv().await), json!({"n": 1}));
        let nothing = tokio::time::timeout(Duration::from_millis(50), rx_c.recv()).await;
        assert!(
            nothing.is_err(),
            "a subscriber of another topic got the message"
        );
    }

    #[tokio::test]
    async fn map_filters_and_converts() {
        let pubsub = PubSub::local();
        let (h, mut rx) = view::<u64>(8);
        let _s = pubsub.subscribe("n", h, |v| v.as_u64().filter(|n| n % 2 == 0));
        for n in 1..=4 {
            pubsub.broadcast("n", n);
        }
        pubsub.broadcast("n", "not a number");
        assert_eq!(info(rx.recv().await), 2);
        assert_eq!(info(rx.recv().await), 4);
        let nothing = tokio::time::timeout(Duration::from_millis(50), rx.recv()).await;
        assert!(nothing.is_err());
    }

    #[tokio::test]
    async fn dropping_the_subscription_unsubscribes() {
        let pubsub = PubSub::local();
        let (h, mut rx) = view::<Value>(8);
        let sub = pubsub.subscribe("t", h, Some);
        assert_eq!(pubsub.subscribers("t"), 1);
        drop(sub);
        assert_eq!(pubsub.subscribers("t"), 0);
        pubsub.broadcast("t", 1);
        // The registry dropped its handle: the inbox has no sender left and got nothing.
        let nothing = tokio::time::timeout(Duration::from_millis(50), rx.recv()).await;
        assert!(
            matches!(nothing, Ok(None)),
            "got a message after unsubscribing"
        );
        // Dropping a subscription after its PubSub is gone is fine too.
        let pubsub = PubSub::local();
        let sub = pubsub.subscribe("t", view::<Value>(1).0, Some);
        drop(pubsub);
        drop(sub);
    }

    #[tokio::test]
    async fn subscribers_of_ended_views_are_pruned() {
        let pubsub = PubSub::local();
        let (alive, mut rx) = view::<Value>(8);
        let (ended, ended_rx) = view::<Value>(8);
        let _s1 = pubsub.subscribe("t", alive, Some);
        let _s2 = pubsub.subscribe("t", ended, Some);
        drop(ended_rx); // the view task ended
        assert_eq!(pubsub.subscribers("t"), 2);
        pubsub.broadcast("t", 1);
        assert_eq!(pubsub.subscribers("t"), 1);
        assert_eq!(info(rx.recv().await), json!(1));
    }

    #[tokio::test]
    async fn a_full_inbox_drops_the_message_without_blocking() {
        let pubsub = PubSub::local();
        let (full, mut full_rx) = view::<u64>(1);
        let (other, mut other_rx) = view::<u64>(8);
        let _s1 = pubsub.subscribe("t", full, |v| v.as_u64());
        let _s2 = pubsub.subscribe("t", other, |v| v.as_u64());
        // Synchronous: if delivery waited for room, this would never return.
        for n in 0..5 {
            pubsub.broadcast("t", n);
        }
        assert_eq!(info(full_rx.recv().await), 0);
        let nothing = tokio::time::timeout(Duration::from_millis(50), full_rx.recv()).await;
        assert!(
            nothing.is_err(),
            "the full inbox got more than it had room for"
        );
        for n in 0..5 {
            assert_eq!(info(other_rx.recv().await), n);
        }
        // The full subscriber is still subscribed (it is alive).
        assert_eq!(pubsub.subscribers("t"), 2);
    }

    #[tokio::test]
    async fn a_subscriber_may_broadcast_from_its_map() {
        let pubsub = PubSub::local();
        let (h, mut rx) = view::<u64>(8);
        let inner = pubsub.clone();
        let _s1 = pubsub.subscribe("a", h.clone(), move |v| {
            inner.broadcast("b", v); // no deadlock
            None
        });
        let _s2 = pubsub.subscribe("b", h, |v| v.as_u64());
        pubsub.broadcast("a", 9);
        assert_eq!(info(rx.recv().await), 9);
    }
}
