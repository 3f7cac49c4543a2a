//! The Redis bridge of [`PubSub`]: every broadcast is also `PUBLISH`ed on
//! `livefire:<topic>`, and one task per process `PSUBSCRIBE`s `livefire:*` and delivers the
//! other nodes' broadcasts locally.

use std::sync::{Arc, Weak};
use std::time::Duration;

use ::redis::aio::{MultiplexedConnection, PubSubStream};
use ::redis::{AsyncCommands as _, Client};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::{Inner, PubSub, PubSubError};

/// Redis channel prefix; the subscriber listens to `livefire:*`.
const CHANNEL_PREFIX: &str = "livefire:";
const PATTERN: &str = "livefire:*";
/// Broadcasts waiting to be published (while Redis is slow or reconnecting).
const OUTBOX: usize = 1024;
/// How long connecting may take before [`PubSub::redis`] fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts to publish one broadcast before it is dropped.
const PUBLISH_ATTEMPTS: u32 = 5;
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// What travels through Redis: the sender's node id (so it skips its own broadcasts, which
/// it delivered locally already) and the payload.
#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    node: std::borrow::Cow<'a, str>,
    payload: Value,
}

pub(super) struct Bridge {
    node: Arc<str>,
    outbox: mpsc::Sender<(String, String)>,
    tasks: [AbortHandle; 2],
}

impl Drop for Bridge {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Bridge {
    /// Queues a broadcast for Redis (never waits).
    pub(super) fn publish(&self, topic: &str, payload: &Value) {
        let envelope = Envelope {
            node: std::borrow::Cow::Borrowed(&self.node),
            payload: payload.clone(),
        };
        let text = match serde_json::to_string(&envelope) {
            Ok(text) => text,
            Err(err) => {
                tracing::error!(topic, %err, "broadcast could not be encoded for redis");
                return;
            }
        };
        match self
            .outbox
            .try_send((format!("{CHANNEL_PREFIX}{topic}"), text))
        {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    topic,
                    "redis publish queue is full: broadcast not sent to other nodes"
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::error!(
                    topic,
                    "redis publisher has stopped: broadcast not sent to other nodes"
                );
            }
        }
    }
}

/// Exponential backoff between reconnection attempts, capped at [`BACKOFF_MAX`].
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Self(BACKOFF_START)
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
    }
}

async fn timed<T>(fut: impl Future<Output = ::redis::RedisResult<T>>) -> Result<T, PubSubError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, fut).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(PubSubError::Timeout),
    }
}

async fn subscribe(client: &Client) -> Result<PubSubStream, PubSubError> {
    let mut pubsub = timed(client.get_async_pubsub()).await?;
    timed(pubsub.psubscribe(PATTERN)).await?;
    Ok(pubsub.into_on_message())
}

fn random_node_id() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl PubSub {
    /// A [`PubSub`] bridged through Redis (feature `pubsub-redis`): broadcasts reach this
    /// process's subscribers at once, and every other node connected to the same Redis.
    ///
    /// Connects twice (one multiplexed connection to `PUBLISH`, one that `PSUBSCRIBE`s
    /// `livefire:*`) and returns once the subscription is active, so broadcasts from other
    /// nodes made after this returns are received. Each message carries a random node id, so
    /// a node does not deliver its own broadcasts twice. A lost connection is re-established
    /// in the background with exponential backoff (100 ms up to 5 s, logged); broadcasts made
    /// meanwhile on other nodes are missed (Redis pub/sub keeps no history).
    ///
    /// Must be called inside a Tokio runtime.
    ///
    /// # Errors
    /// [`PubSubError::Redis`] if the URL is invalid or Redis refuses the connection,
    /// [`PubSubError::Timeout`] if connecting takes longer than 5 s.
    ///
    /// ```no_run
    /// # #[tokio::main] async fn main() -> Result<(), livefire::pubsub::PubSubError> {
    /// use livefire::pubsub::PubSub;
    /// let pubsub = PubSub::redis("redis://127.0.0.1:6379/").await?;
    /// pubsub.broadcast("prices", serde_json::json!({"eur": 101})); // every node
    /// # Ok(()) }
    /// ```
    pub async fn redis(url: &str) -> Result<PubSub, PubSubError> {
        let client = Client::open(url)?;
        let conn = timed(client.get_multiplexed_async_connection()).await?;
        let stream = subscribe(&client).await?;
        let node: Arc<str> = Arc::from(random_node_id());
        let (outbox, rx) = mpsc::channel(OUTBOX);
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            let publisher = tokio::spawn(publisher(client.clone(), conn, rx)).abort_handle();
            let subscriber =
                tokio::spawn(subscriber(client, stream, node.clone(), weak.clone())).abort_handle();
            Inner {
                next: Default::default(),
                decode_failures: Default::default(),
                topics: Default::default(),
                bridge: Some(Bridge {
                    node: node.clone(),
                    outbox,
                    tasks: [publisher, subscriber],
                }),
            }
        });
        tracing::info!(node = %node, "pub/sub connected to redis");
        Ok(PubSub { inner })
    }
}

/// Publishes queued broadcasts, reconnecting when the connection fails.
async fn publisher(
    client: Client,
    conn: MultiplexedConnection,
    mut rx: mpsc::Receiver<(String, String)>,
) {
    let mut conn = Some(conn);
    while let Some((channel, text)) = rx.recv().await {
        let mut backoff = Backoff::new();
        for attempt in 1..=PUBLISH_ATTEMPTS {
            let c = match &mut conn {
                Some(c) => c,
                None => match timed(client.get_multiplexed_async_connection()).await {
                    Ok(c) => {
                        tracing::info!("redis publish connection re-established");
                        conn.insert(c)
                    }
                    Err(err) => {
                        tracing::warn!(%err, attempt, "redis publish connection failed");
                        backoff.wait().await;
                        continue;
                    }
                },
            };
            match c.publish::<_, _, usize>(&channel, &text).await {
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(%err, attempt, channel, "redis publish failed; reconnecting");
                    conn = None;
                    if attempt == PUBLISH_ATTEMPTS {
                        tracing::error!(channel, "broadcast dropped: redis unavailable");
                    } else {
                        backoff.wait().await;
                    }
                }
            }
        }
    }
}

/// Delivers other nodes' broadcasts locally, resubscribing when the connection drops.
async fn subscriber(client: Client, mut stream: PubSubStream, node: Arc<str>, pubsub: Weak<Inner>) {
    loop {
        while let Some(msg) = stream.next().await {
            let Some(inner) = pubsub.upgrade() else {
                return;
            };
            let Some(topic) = msg.get_channel_name().strip_prefix(CHANNEL_PREFIX) else {
                continue;
            };
            match serde_json::from_slice::<Envelope<'_>>(msg.get_payload_bytes()) {
                Ok(envelope) if *envelope.node == *node => {}
                Ok(envelope) => PubSub { inner }.deliver_local(topic, &envelope.payload),
                Err(err) => tracing::warn!(topic, %err, "undecodable message on redis"),
            }
        }
        tracing::warn!("redis pub/sub connection lost; reconnecting");
        let mut backoff = Backoff::new();
        stream = loop {
            if pubsub.strong_count() == 0 {
                return;
            }
            match subscribe(&client).await {
                Ok(stream) => {
                    tracing::info!("redis pub/sub subscription re-established");
                    break stream;
                }
                Err(err) => {
                    tracing::warn!(%err, "redis pub/sub reconnection failed");
                    backoff.wait().await;
                }
            }
        };
    }
}
