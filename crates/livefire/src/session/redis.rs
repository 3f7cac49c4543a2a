//! [`RedisTicketStore`] (feature `redis`): session-write tickets in Redis, shared by every node
//! of a deployment (a ticket minted on one node is redeemed on another, exactly once).

use std::time::Duration;

use ::redis::AsyncCommands as _;
use ::redis::aio::ConnectionManager;
use futures_util::future::BoxFuture;

use super::tickets::{TicketKey, TicketStore, TicketStoreError};

/// Key prefix of the tickets.
const PREFIX: &str = "livefire:ticket:";

/// Tickets as Redis keys with a TTL (`SET … PX`); `take` is `GETDEL`, atomic (Redis ≥ 6.2).
/// Redis expires them by itself, so [`purge`](TicketStore::purge) has nothing to do.
///
/// ```no_run
/// # async fn run() -> Result<(), livefire::session::TicketStoreError> {
/// let store = livefire::session::RedisTicketStore::connect("redis://127.0.0.1:6379/").await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisTicketStore {
    conn: ConnectionManager,
}

impl std::fmt::Debug for RedisTicketStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTicketStore").finish_non_exhaustive()
    }
}

impl RedisTicketStore {
    /// Connects (and reconnects as needed) to the Redis at `url`.
    pub async fn connect(url: &str) -> Result<Self, TicketStoreError> {
        let client = ::redis::Client::open(url).map_err(TicketStoreError::new)?;
        let conn = tokio::time::timeout(Duration::from_secs(5), client.get_connection_manager())
            .await
            .map_err(|_| TicketStoreError::new("connecting to redis timed out"))?
            .map_err(TicketStoreError::new)?;
        Ok(Self { conn })
    }
}

impl TicketStore for RedisTicketStore {
    fn put(
        &self,
        key: TicketKey,
        record: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'_, Result<(), TicketStoreError>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
            conn.pset_ex::<_, _, ()>(format!("{PREFIX}{}", key.to_hex()), record, ttl)
                .await
                .map_err(TicketStoreError::new)
        })
    }

    fn take(&self, key: TicketKey) -> BoxFuture<'_, Result<Option<Vec<u8>>, TicketStoreError>> {
        let mut conn = self.conn.clone();
        Box::pin(async move {
            conn.get_del(format!("{PREFIX}{}", key.to_hex()))
                .await
                .map_err(TicketStoreError::new)
        })
    }

    fn purge(&self) -> BoxFuture<'_, Result<u64, TicketStoreError>> {
        Box::pin(async { Ok(0) })
    }
}
