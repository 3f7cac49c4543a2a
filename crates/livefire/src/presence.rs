//! Presence: who is on a topic, on one node or across nodes, over a [`PubSub`].
//!
//! A live view [`track`](Presence::track)s itself on a topic under a key (a user id, a
//! nickname) with a JSON `meta`; the entry lasts as long as the view. Every view that
//! [`subscribe`](Presence::subscribe)s to the topic's presence gets a [`PresenceDiff`] (joins
//! and leaves) in its `handle_info`, and [`list`](Presence::list) says who is there now, with
//! the metas of each key (a user with two tabs has two). A tracked entry's meta changes with
//! [`update`](Presence::update) (from the view) or [`Tracked::update`]: subscribers get one
//! diff that leaves the old meta and joins the new one under the same key, as
//! `Phoenix.Presence` does. [`untrack`](Presence::untrack) ends a view's entry before the
//! view ends (a view that moves to another room on a patch).
//!
//! Across nodes (a `PubSub::redis`, feature `pubsub-redis`) every node announces its joins
//! and leaves, and re-announces all of its entries every *period* (a heartbeat, 5 s by
//! default); the other nodes drop the entries of a node not refreshed within three periods, so
//! the entries of a node that died disappear within about `3 × period` (plus one period for
//! the sweep). A node that starts learns the others' entries from their next heartbeat.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use livefire::presence::Presence;
//! use livefire::pubsub::PubSub;
//! use serde_json::json;
//!
//! let presence = Presence::new(PubSub::local());
//! // Outside a view (a bot, a background job): the entry lasts as long as the guard.
//! let bot = presence.track_while("room:lobby", "bot", json!({"status": "idle"}));
//! assert_eq!(presence.list("room:lobby")["bot"], [json!({"status": "idle"})]);
//! drop(bot);
//! assert!(presence.list("room:lobby").is_empty());
//! # }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use crate::pubsub::{Delivery, PubSub, Subscription};
use crate::socket::Socket;

/// The topic on which every node announces its presence changes and heartbeats.
const WIRE_TOPIC: &str = "livefire:presence";
/// Default heartbeat period.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(5);
/// A remote entry not refreshed within this many periods is dropped.
const TTL_PERIODS: u32 = 3;

/// Who is on a topic: each key with the metas of its entries (one per tracking view).
pub type PresenceList = BTreeMap<String, Vec<Value>>;

/// Joins and leaves on one topic, as delivered to the views subscribed with
/// [`Presence::subscribe`]. A key in `leaves` may still be present with other metas (another
/// tab): read [`Presence::list`] for the current state. A meta changed by
/// [`Presence::update`] arrives as the key in both maps: the old meta in `leaves`, the new one
/// in `joins`.
///
/// ```
/// use livefire::presence::PresenceDiff;
/// let diff: PresenceDiff = serde_json::from_value(serde_json::json!({
///     "topic": "room:1", "joins": {"ann": [{}]}, "leaves": {}
/// })).unwrap();
/// assert!(diff.joins.contains_key("ann"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PresenceDiff {
    /// The tracked topic.
    pub topic: String,
    /// Keys that joined, with the metas of the new entries.
    pub joins: PresenceList,
    /// Keys that left, with the metas of the entries that left.
    pub leaves: PresenceList,
}

/// What nodes tell each other on [`WIRE_TOPIC`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Wire {
    Join {
        node: String,
        entry: WireEntry,
    },
    Leave {
        node: String,
        topic: String,
        id: u64,
    },
    /// A tracked entry's meta changed.
    Update {
        node: String,
        entry: WireEntry,
    },
    Heartbeat {
        node: String,
        entries: Vec<WireEntry>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireEntry {
    topic: String,
    id: u64,
    key: String,
    meta: Value,
}

#[derive(Debug)]
struct Entry {
    key: String,
    meta: Value,
    /// When a remote entry was last announced.
    seen: Instant,
}

/// Entries of one topic by (node, entry id).
type TopicEntries = HashMap<(String, u64), Entry>;

struct Inner {
    pubsub: PubSub,
    node: String,
    period: Duration,
    next: AtomicU64,
    topics: Mutex<HashMap<String, TopicEntries>>,
    subscription: Mutex<Option<Subscription>>,
}

/// Presence over a [`PubSub`]: cheap to clone; make one per application (per node) and share
/// it with the views. See [the module](self).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use livefire::presence::{Presence, PresenceDiff};
/// use livefire::pubsub::PubSub;
/// use livefire::{html, LiveView, Mount, Rendered, Result, Socket};
/// use serde_json::json;
///
/// struct Room { presence: Presence, who: Vec<String> }
///
/// impl LiveView for Room {
///     type Message = PresenceDiff;
///     async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<PresenceDiff>) -> Result {
///         self.presence.subscribe(socket, "room:1", |diff| diff);
///         self.presence.track(socket, "room:1", "ann", json!({"typing": false}));
///         self.who = self.presence.list("room:1").into_keys().collect();
///         Ok(())
///     }
///     async fn handle_info(&mut self, _diff: PresenceDiff, _socket: &mut Socket<PresenceDiff>) -> Result {
///         self.who = self.presence.list("room:1").into_keys().collect();
///         Ok(())
///     }
///     fn render(&self, _socket: &Socket<PresenceDiff>) -> Rendered {
///         html!(<ul>@for who in &self.who { <li>{who}</li> }</ul>)
///     }
/// }
/// let presence = Presence::new(PubSub::local());
/// let mut view = Room { presence: presence.clone(), who: vec![] };
/// view.mount(&Mount::default(), &mut Socket::disconnected()).await.unwrap();
/// assert!(view.who.is_empty()); // the dead render tracks nothing
/// # }
/// ```
#[derive(Clone)]
pub struct Presence {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Presence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presence")
            .field("node", &self.inner.node)
            .field("period", &self.inner.period)
            .finish_non_exhaustive()
    }
}

/// An entry tracked with [`Presence::track_while`]: it leaves when this is dropped.
#[derive(Debug)]
#[must_use = "dropping a Tracked ends the presence entry at once"]
pub struct Tracked {
    inner: Weak<Inner>,
    topic: String,
    key: String,
    id: u64,
}

impl Tracked {
    /// Replaces this entry's meta: every subscriber of the topic, on every node, gets one
    /// [`PresenceDiff`] with the old meta in `leaves` and the new one in `joins` under the
    /// entry's key. A meta equal to the current one changes nothing and sends nothing. Returns
    /// false if the [`Presence`] it was tracked on is gone (nothing to update).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use livefire::presence::Presence;
    /// use serde_json::json;
    ///
    /// let presence = Presence::new(livefire::pubsub::PubSub::local());
    /// let bot = presence.track_while("room:1", "bot", json!({"status": "idle"}));
    /// assert!(bot.update(json!({"status": "typing"})));
    /// assert_eq!(presence.list("room:1")["bot"], [json!({"status": "typing"})]);
    /// # }
    /// ```
    pub fn update(&self, meta: Value) -> bool {
        match self.inner.upgrade() {
            Some(inner) => {
                Presence { inner }.update_entry(&self.topic, self.id, meta);
                true
            }
            None => false,
        }
    }

    /// The topic this entry is tracked on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let presence = livefire::presence::Presence::new(livefire::pubsub::PubSub::local());
    /// let bot = presence.track_while("room:1", "bot", serde_json::json!({}));
    /// assert_eq!((bot.topic(), bot.key()), ("room:1", "bot"));
    /// # }
    /// ```
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The key this entry is tracked under.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let presence = livefire::presence::Presence::new(livefire::pubsub::PubSub::local());
    /// let bot = presence.track_while("room:1", "bot", serde_json::json!({}));
    /// assert_eq!(bot.key(), "bot");
    /// # }
    /// ```
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// [`Presence::update`] found nothing to update.
///
/// ```
/// use livefire::presence::NotTracked;
/// let err = NotTracked { topic: "room:1".into(), key: "ann".into() };
/// assert_eq!(err.to_string(), "this view does not track \"ann\" on \"room:1\"");
/// // In a callback, `?` after `.map_err(livefire::Error::app)`: the view ends, as for any
/// // application error (tracking is the view's own doing, not the client's input).
/// assert!(!livefire::Error::app(err).is_bad_input());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this view does not track {key:?} on {topic:?}")]
pub struct NotTracked {
    /// The topic given to [`Presence::update`].
    pub topic: String,
    /// The key given to [`Presence::update`].
    pub key: String,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            Presence { inner }.remove_entry(&self.topic, self.id);
        }
    }
}

impl Presence {
    /// Presence over `pubsub` with the default heartbeat period (5 s: a dead node's entries
    /// disappear from the others within about 20 s). Must be called inside a Tokio runtime.
    pub fn new(pubsub: PubSub) -> Self {
        Self::with_period(pubsub, DEFAULT_PERIOD)
    }

    /// Presence with a heartbeat every `period` (a dead node's entries disappear within about
    /// `4 × period`). Every node of a cluster should use the same period.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use std::time::Duration;
    /// let presence = livefire::presence::Presence::with_period(
    ///     livefire::pubsub::PubSub::local(),
    ///     Duration::from_secs(2),
    /// );
    /// assert!(presence.list("anything").is_empty());
    /// # }
    /// ```
    pub fn with_period(pubsub: PubSub, period: Duration) -> Self {
        let period = period.max(Duration::from_millis(10));
        let inner = Arc::new(Inner {
            pubsub: pubsub.clone(),
            node: random_node_id(),
            period,
            next: AtomicU64::new(0),
            topics: Mutex::new(HashMap::new()),
            subscription: Mutex::new(None),
        });
        let weak = Arc::downgrade(&inner);
        let subscription = pubsub.subscribe_fn(WIRE_TOPIC, move |value| {
            let Some(inner) = weak.upgrade() else {
                return Delivery::Gone;
            };
            match Wire::deserialize(value) {
                Ok(wire) => Presence { inner }.receive(wire),
                Err(err) => tracing::warn!(%err, "presence message could not be decoded"),
            }
            Delivery::Done
        });
        *lock(&inner.subscription) = Some(subscription);
        let weak = Arc::downgrade(&inner);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval_at(Instant::now() + period, period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else {
                    break;
                };
                Presence { inner }.heartbeat();
            }
        });
        Self { inner }
    }

    /// The topic on which the diffs of `topic` are delivered on this node (to subscribe with
    /// [`Socket::subscribe_typed`] yourself, or [`PubSub::subscribe_typed`] outside a view).
    ///
    /// ```
    /// assert_eq!(livefire::presence::Presence::diff_topic("room:1"), "livefire:presence_diff:room:1");
    /// ```
    pub fn diff_topic(topic: &str) -> String {
        format!("livefire:presence_diff:{topic}")
    }

    /// Tracks this view on `topic` under `key` with `meta` for as long as the view lives
    /// (connected only: during the dead render it does nothing). Every subscriber of the topic
    /// on every node gets a join, and a leave when the view ends. See [`Presence`] for a view
    /// that tracks itself and lists who is there.
    pub fn track<M: Send + 'static>(
        &self,
        socket: &mut Socket<M>,
        topic: &str,
        key: &str,
        meta: Value,
    ) {
        if socket.is_live() {
            let tracked = self.track_while(topic, key, meta);
            socket.keep_until_end(tracked);
        }
    }

    /// Tracks an entry outside a view: it leaves when the returned [`Tracked`] is dropped.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use livefire::presence::Presence;
    /// let presence = Presence::new(livefire::pubsub::PubSub::local());
    /// let a = presence.track_while("doc:7", "ann", serde_json::json!({"tab": 1}));
    /// let b = presence.track_while("doc:7", "ann", serde_json::json!({"tab": 2}));
    /// assert_eq!(presence.list("doc:7")["ann"].len(), 2); // one key, two metas
    /// drop((a, b));
    /// # }
    /// ```
    pub fn track_while(&self, topic: &str, key: &str, meta: Value) -> Tracked {
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let node = self.inner.node.clone();
        {
            // Announced under the lock, so a heartbeat cannot overtake it on the wire.
            let mut topics = lock(&self.inner.topics);
            topics.entry(topic.to_owned()).or_default().insert(
                (node.clone(), id),
                Entry {
                    key: key.to_owned(),
                    meta: meta.clone(),
                    seen: Instant::now(),
                },
            );
            let entry = WireEntry {
                topic: topic.to_owned(),
                id,
                key: key.to_owned(),
                meta: meta.clone(),
            };
            self.inner
                .pubsub
                .broadcast(WIRE_TOPIC, Wire::Join { node, entry });
        }
        let mut diff = PresenceDiff {
            topic: topic.to_owned(),
            ..PresenceDiff::default()
        };
        diff.joins.insert(key.to_owned(), vec![meta]);
        self.deliver(&diff);
        Tracked {
            inner: Arc::downgrade(&self.inner),
            topic: topic.to_owned(),
            key: key.to_owned(),
            id,
        }
    }

    /// Replaces the meta of the entries this view tracks on `topic` under `key` (Phoenix's
    /// `Presence.update`): a user starts typing, changes status. Every subscriber of the topic
    /// on every node gets one [`PresenceDiff`] with the old meta in `leaves` and the new one in
    /// `joins` under `key`; a meta equal to the current one sends nothing.
    ///
    /// During the dead render nothing is tracked and this does nothing (`Ok`). On a connected
    /// view that does not track `key` on `topic` with this [`Presence`], it is a
    /// [`NotTracked`] error and nothing changes.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use livefire::presence::{Presence, PresenceDiff};
    /// use livefire::pubsub::PubSub;
    /// use livefire::{html, Event, LiveView, Mount, Rendered, Result, Socket};
    /// use serde_json::json;
    ///
    /// struct Room { presence: Presence }
    ///
    /// impl LiveView for Room {
    ///     type Message = PresenceDiff;
    ///     async fn mount(&mut self, _cx: &Mount, socket: &mut Socket<PresenceDiff>) -> Result {
    ///         self.presence.track(socket, "room:1", "ann", json!({"typing": false}));
    ///         Ok(())
    ///     }
    ///     async fn handle_event(&mut self, event: Event, socket: &mut Socket<PresenceDiff>) -> Result {
    ///         let typing = event.name() == "typing";
    ///         self.presence
    ///             .update(socket, "room:1", "ann", json!({"typing": typing}))
    ///             .map_err(livefire::Error::app)
    ///     }
    ///     fn render(&self, _socket: &Socket<PresenceDiff>) -> Rendered {
    ///         html!(<input phx-keydown="typing" phx-blur="idle"/>)
    ///     }
    /// }
    /// # let presence = Presence::new(PubSub::local());
    /// # let mut view = Room { presence: presence.clone() };
    /// # let mut socket = Socket::disconnected();
    /// # view.mount(&Mount::default(), &mut socket).await.unwrap();
    /// // The dead render tracks nothing, so there is nothing to update.
    /// assert!(presence.update(&mut socket, "room:1", "ann", json!({"typing": true})).is_ok());
    /// assert!(presence.list("room:1").is_empty());
    /// # }
    /// ```
    pub fn update<M: Send + 'static>(
        &self,
        socket: &Socket<M>,
        topic: &str,
        key: &str,
        meta: Value,
    ) -> Result<(), NotTracked> {
        if !socket.is_live() {
            return Ok(());
        }
        let mut found = false;
        for tracked in socket.kept::<Tracked>() {
            if tracked.topic == topic
                && tracked.key == key
                && Weak::ptr_eq(&tracked.inner, &Arc::downgrade(&self.inner))
            {
                self.update_entry(topic, tracked.id, meta.clone());
                found = true;
            }
        }
        if found {
            Ok(())
        } else {
            Err(NotTracked {
                topic: topic.to_owned(),
                key: key.to_owned(),
            })
        }
    }

    /// Ends the entries this view tracks on `topic` under `key` before the view ends
    /// (Phoenix's `Presence.untrack`): a view that moves to another room on a patch untracks
    /// the old one and tracks the new one. Subscribers get a leave. True if there was an
    /// entry; false during the dead render (nothing is tracked there) or when the view does
    /// not track `key` on `topic` with this [`Presence`] (nothing changes).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use livefire::presence::Presence;
    /// use livefire::{Params, Result, Socket};
    /// use serde_json::json;
    ///
    /// struct Room { presence: Presence, room: String }
    ///
    /// impl Room {
    ///     // In `handle_params`: leave the old room, join the new one.
    ///     fn enter(&mut self, params: &Params, socket: &mut Socket) {
    ///         let room = params.get("name").unwrap_or("lobby").to_owned();
    ///         self.presence.untrack(socket, &format!("room:{}", self.room), "ann");
    ///         self.presence.track(socket, &format!("room:{room}"), "ann", json!({}));
    ///         self.room = room;
    ///     }
    /// }
    /// let presence = Presence::new(livefire::pubsub::PubSub::local());
    /// let mut room = Room { presence: presence.clone(), room: String::new() };
    /// let mut socket = Socket::disconnected();
    /// room.enter(&Params::from_uri("/rooms/rust", [("name".to_owned(), "rust".to_owned())].into()), &mut socket);
    /// assert_eq!(room.room, "rust");
    /// // The dead render tracks nothing, so there is nothing to untrack.
    /// assert!(!presence.untrack(&mut socket, "room:rust", "ann"));
    /// # }
    /// ```
    pub fn untrack<M: Send + 'static>(
        &self,
        socket: &mut Socket<M>,
        topic: &str,
        key: &str,
    ) -> bool {
        let mine = Arc::downgrade(&self.inner);
        // Dropping a `Tracked` announces the leave.
        socket.drop_kept::<Tracked>(|tracked| {
            tracked.topic == topic && tracked.key == key && Weak::ptr_eq(&tracked.inner, &mine)
        }) > 0
    }

    /// Replaces one of this node's entries' meta, announces it and delivers the diff.
    fn update_entry(&self, topic: &str, id: u64, meta: Value) {
        let node = self.inner.node.clone();
        let changed = {
            // Announced under the lock, so a heartbeat cannot overtake it on the wire.
            let mut topics = lock(&self.inner.topics);
            let Some(entry) = topics
                .get_mut(topic)
                .and_then(|entries| entries.get_mut(&(node.clone(), id)))
            else {
                return;
            };
            if entry.meta == meta {
                return;
            }
            let old = std::mem::replace(&mut entry.meta, meta.clone());
            let key = entry.key.clone();
            let wire = WireEntry {
                topic: topic.to_owned(),
                id,
                key: key.clone(),
                meta: meta.clone(),
            };
            self.inner
                .pubsub
                .broadcast(WIRE_TOPIC, Wire::Update { node, entry: wire });
            (key, old)
        };
        let (key, old) = changed;
        let mut diff = PresenceDiff {
            topic: topic.to_owned(),
            ..PresenceDiff::default()
        };
        diff.leaves.insert(key.clone(), vec![old]);
        diff.joins.insert(key, vec![meta]);
        self.deliver(&diff);
    }

    /// Subscribes this view to the joins and leaves of `topic` (connected only), each mapped
    /// by `map` into a message for its `handle_info`. Ends with the view, as
    /// [`Socket::subscribe_typed`] (which this is, on [`diff_topic`](Self::diff_topic)).
    pub fn subscribe<M: Send + 'static>(
        &self,
        socket: &mut Socket<M>,
        topic: &str,
        map: impl Fn(PresenceDiff) -> M + Send + Sync + 'static,
    ) {
        socket.subscribe_typed(&self.inner.pubsub, &Self::diff_topic(topic), map);
    }

    /// Who is on `topic` now, on every node this one has heard from: each key with its metas.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let presence = livefire::presence::Presence::new(livefire::pubsub::PubSub::local());
    /// let _bot = presence.track_while("room:1", "bot", serde_json::json!(null));
    /// assert_eq!(presence.list("room:1").keys().collect::<Vec<_>>(), ["bot"]);
    /// assert!(presence.list("room:2").is_empty());
    /// # }
    /// ```
    pub fn list(&self, topic: &str) -> PresenceList {
        let mut list = PresenceList::new();
        if let Some(entries) = lock(&self.inner.topics).get(topic) {
            let mut sorted: Vec<_> = entries.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            for (_, entry) in sorted {
                list.entry(entry.key.clone())
                    .or_default()
                    .push(entry.meta.clone());
            }
        }
        list
    }

    fn remove_entry(&self, topic: &str, id: u64) {
        let node = self.inner.node.clone();
        let removed = {
            let mut topics = lock(&self.inner.topics);
            let removed = topics
                .get_mut(topic)
                .and_then(|entries| entries.remove(&(node.clone(), id)));
            if topics.get(topic).is_some_and(HashMap::is_empty) {
                topics.remove(topic);
            }
            if removed.is_some() {
                self.inner.pubsub.broadcast(
                    WIRE_TOPIC,
                    Wire::Leave {
                        node,
                        topic: topic.to_owned(),
                        id,
                    },
                );
            }
            removed
        };
        if let Some(entry) = removed {
            let mut diff = PresenceDiff {
                topic: topic.to_owned(),
                ..PresenceDiff::default()
            };
            diff.leaves.insert(entry.key, vec![entry.meta]);
            self.deliver(&diff);
        }
    }

    /// Delivers a diff to this node's subscribers only (every node computes its own).
    fn deliver(&self, diff: &PresenceDiff) {
        match serde_json::to_value(diff) {
            Ok(value) => self
                .inner
                .pubsub
                .deliver_local(&Self::diff_topic(&diff.topic), &value),
            Err(err) => tracing::error!(%err, "presence diff could not be encoded"),
        }
    }

    /// Handles another node's announcement (this node's own are skipped: it applied them
    /// when it made them).
    fn receive(&self, wire: Wire) {
        let (Wire::Join { node, .. }
        | Wire::Leave { node, .. }
        | Wire::Update { node, .. }
        | Wire::Heartbeat { node, .. }) = &wire;
        if *node == self.inner.node {
            // Before locking: this node announces under its lock (see `track_while`).
            return;
        }
        let now = Instant::now();
        let mut diffs = Diffs::default();
        {
            let mut topics = lock(&self.inner.topics);
            match wire {
                // An update of an entry this node missed the join of is a join.
                Wire::Join { node, entry } | Wire::Update { node, entry } => {
                    add(&mut topics, &mut diffs, node, entry, now);
                }
                Wire::Leave { node, topic, id } => {
                    if let Some(entries) = topics.get_mut(&topic)
                        && let Some(entry) = entries.remove(&(node, id))
                    {
                        diffs.leave(&topic, entry);
                    }
                    topics.retain(|_, entries| !entries.is_empty());
                }
                Wire::Heartbeat { node, entries } => {
                    let listed: std::collections::HashSet<(String, u64)> =
                        entries.iter().map(|e| (e.topic.clone(), e.id)).collect();
                    // Entries of that node it no longer lists (a missed leave) go.
                    for (topic, topic_entries) in topics.iter_mut() {
                        let gone: Vec<(String, u64)> = topic_entries
                            .keys()
                            .filter(|(n, id)| *n == node && !listed.contains(&(topic.clone(), *id)))
                            .cloned()
                            .collect();
                        for key in gone {
                            if let Some(entry) = topic_entries.remove(&key) {
                                diffs.leave(topic, entry);
                            }
                        }
                    }
                    for entry in entries {
                        add(&mut topics, &mut diffs, node.clone(), entry, now);
                    }
                    topics.retain(|_, entries| !entries.is_empty());
                }
            }
        }
        diffs.send(self);
    }

    /// Announces this node's entries and drops remote entries not refreshed in time.
    fn heartbeat(&self) {
        let now = Instant::now();
        let ttl = self.inner.period * TTL_PERIODS;
        let mut diffs = Diffs::default();
        let mut mine = Vec::new();
        {
            let mut topics = lock(&self.inner.topics);
            for (topic, entries) in topics.iter_mut() {
                let expired: Vec<(String, u64)> = entries
                    .iter()
                    .filter(|((node, _), entry)| {
                        *node != self.inner.node && now.duration_since(entry.seen) > ttl
                    })
                    .map(|(key, _)| key.clone())
                    .collect();
                for key in expired {
                    if let Some(entry) = entries.remove(&key) {
                        tracing::debug!(topic, node = %key.0, key = %entry.key, "presence entry expired");
                        diffs.leave(topic, entry);
                    }
                }
                for ((node, id), entry) in entries.iter() {
                    if *node == self.inner.node {
                        mine.push(WireEntry {
                            topic: topic.clone(),
                            id: *id,
                            key: entry.key.clone(),
                            meta: entry.meta.clone(),
                        });
                    }
                }
            }
            topics.retain(|_, entries| !entries.is_empty());
            // Under the lock: a join or leave made meanwhile cannot be overtaken by a
            // heartbeat that does not know about it.
            if !mine.is_empty() {
                self.inner.pubsub.broadcast(
                    WIRE_TOPIC,
                    Wire::Heartbeat {
                        node: self.inner.node.clone(),
                        entries: mine,
                    },
                );
            }
        }
        diffs.send(self);
    }
}

/// Adds or refreshes a remote entry; a new one is a join, a changed meta (an update, or a
/// heartbeat carrying the meta of an update this node missed) a leave of the old meta and a
/// join of the new one.
fn add(
    topics: &mut HashMap<String, TopicEntries>,
    diffs: &mut Diffs,
    node: String,
    entry: WireEntry,
    now: Instant,
) {
    let entries = topics.entry(entry.topic.clone()).or_default();
    match entries.get_mut(&(node.clone(), entry.id)) {
        Some(known) => {
            known.seen = now;
            if known.meta != entry.meta {
                let old = std::mem::replace(&mut known.meta, entry.meta);
                let diff = diffs.of(&entry.topic);
                diff.leaves.entry(entry.key.clone()).or_default().push(old);
                diff.joins
                    .entry(entry.key)
                    .or_default()
                    .push(known.meta.clone());
            }
        }
        None => {
            diffs.join(&entry.topic, &entry.key, &entry.meta);
            entries.insert(
                (node, entry.id),
                Entry {
                    key: entry.key,
                    meta: entry.meta,
                    seen: now,
                },
            );
        }
    }
}

/// Diffs collected under the lock, delivered after it.
#[derive(Default)]
struct Diffs(BTreeMap<String, PresenceDiff>);

impl Diffs {
    fn of(&mut self, topic: &str) -> &mut PresenceDiff {
        self.0
            .entry(topic.to_owned())
            .or_insert_with(|| PresenceDiff {
                topic: topic.to_owned(),
                ..PresenceDiff::default()
            })
    }

    fn join(&mut self, topic: &str, key: &str, meta: &Value) {
        self.of(topic)
            .joins
            .entry(key.to_owned())
            .or_default()
            .push(meta.clone());
    }

    fn leave(&mut self, topic: &str, entry: Entry) {
        self.of(topic)
            .leaves
            .entry(entry.key)
            .or_default()
            .push(entry.meta);
    }

    fn send(self, presence: &Presence) {
        for diff in self.0.values() {
            presence.deliver(diff);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn random_node_id() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The diffs delivered on this node for `topic`.
    fn collect(presence: &Presence, topic: &str) -> (Arc<Mutex<Vec<PresenceDiff>>>, Subscription) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let sub = presence
            .inner
            .pubsub
            .subscribe_fn(&Presence::diff_topic(topic), move |value| {
                lock(&sink).push(PresenceDiff::deserialize(value).expect("a presence diff"));
                Delivery::Done
            });
        (seen, sub)
    }

    fn remote(topic: &str, id: u64, key: &str, meta: Value) -> WireEntry {
        WireEntry {
            topic: topic.to_owned(),
            id,
            key: key.to_owned(),
            meta,
        }
    }

    #[tokio::test]
    async fn a_remote_update_is_a_leave_and_a_join_of_one_key() {
        let presence = Presence::new(PubSub::local());
        let (seen, _sub) = collect(&presence, "room:1");
        let node = "other".to_owned();
        presence.receive(Wire::Join {
            node: node.clone(),
            entry: remote("room:1", 1, "ann", json!({"typing": false})),
        });
        presence.receive(Wire::Update {
            node,
            entry: remote("room:1", 1, "ann", json!({"typing": true})),
        });
        assert_eq!(presence.list("room:1")["ann"], [json!({"typing": true})]);
        let diffs = lock(&seen).clone();
        assert_eq!(diffs.len(), 2, "{diffs:?}");
        assert_eq!(diffs[1].leaves["ann"], [json!({"typing": false})]);
        assert_eq!(diffs[1].joins["ann"], [json!({"typing": true})]);
    }

    #[tokio::test]
    async fn an_update_of_an_unknown_remote_entry_is_a_join() {
        let presence = Presence::new(PubSub::local());
        let (seen, _sub) = collect(&presence, "room:1");
        presence.receive(Wire::Update {
            node: "other".to_owned(),
            entry: remote("room:1", 4, "bob", json!({"typing": true})),
        });
        let diffs = lock(&seen).clone();
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert_eq!(diffs[0].joins["bob"], [json!({"typing": true})]);
        assert!(diffs[0].leaves.is_empty());
    }

    #[tokio::test]
    async fn a_heartbeat_repairs_a_missed_update_with_a_diff() {
        let presence = Presence::new(PubSub::local());
        let (seen, _sub) = collect(&presence, "room:1");
        let node = "other".to_owned();
        presence.receive(Wire::Join {
            node: node.clone(),
            entry: remote("room:1", 1, "ann", json!({"typing": false})),
        });
        // The same meta again: a refresh, no diff.
        presence.receive(Wire::Heartbeat {
            node: node.clone(),
            entries: vec![remote("room:1", 1, "ann", json!({"typing": false}))],
        });
        assert_eq!(lock(&seen).len(), 1);
        // The update itself was lost; the next heartbeat carries the new meta.
        presence.receive(Wire::Heartbeat {
            node,
            entries: vec![remote("room:1", 1, "ann", json!({"typing": true}))],
        });
        let diffs = lock(&seen).clone();
        assert_eq!(diffs.len(), 2, "{diffs:?}");
        assert_eq!(diffs[1].leaves["ann"], [json!({"typing": false})]);
        assert_eq!(diffs[1].joins["ann"], [json!({"typing": true})]);
        assert_eq!(presence.list("room:1")["ann"], [json!({"typing": true})]);
    }

    #[tokio::test]
    async fn a_local_update_announces_and_an_equal_meta_sends_nothing() {
        let pubsub = PubSub::local();
        let presence = Presence::new(pubsub.clone());
        let (seen, _sub) = collect(&presence, "room:1");
        let wire = Arc::new(Mutex::new(Vec::new()));
        let sink = wire.clone();
        let _wire_sub = pubsub.subscribe_fn(WIRE_TOPIC, move |value| {
            lock(&sink).push(value.clone());
            Delivery::Done
        });
        let ann = presence.track_while("room:1", "ann", json!({"typing": false}));
        assert!(ann.update(json!({"typing": true})));
        assert!(ann.update(json!({"typing": true})));
        let diffs = lock(&seen).clone();
        assert_eq!(diffs.len(), 2, "a join and one update: {diffs:?}");
        assert_eq!(diffs[1].leaves["ann"], [json!({"typing": false})]);
        assert_eq!(diffs[1].joins["ann"], [json!({"typing": true})]);
        let ops: Vec<String> = lock(&wire)
            .iter()
            .map(|v| v["op"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(ops, ["join", "update"]);
        // Once the presence is gone the guard has nothing to update.
        drop(presence);
        assert!(!ann.update(json!({"typing": false})));
    }
}
