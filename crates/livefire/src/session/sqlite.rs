//! [`SqliteTicketStore`] (feature `sqlite`): session-write tickets in a SQLite table, for one
//! node that restarts (tickets survive a restart) or several processes sharing one file.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use rusqlite::{Connection, OptionalExtension, params};

use super::tickets::{TicketKey, TicketStore, TicketStoreError};

/// Tickets in the table `livefire_tickets` of a SQLite database; `take` is one
/// `DELETE … RETURNING`, atomic across connections and processes.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use livefire::session::{SqliteTicketStore, TicketKey, TicketStore};
///
/// let store = SqliteTicketStore::open_in_memory().unwrap();
/// let key = TicketKey::of("ticket", "session id");
/// store.put(key, b"record".to_vec(), Duration::from_secs(60)).await.unwrap();
/// assert_eq!(store.take(key).await.unwrap().as_deref(), Some(&b"record"[..]));
/// assert_eq!(store.take(key).await.unwrap(), None);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteTicketStore {
    conn: Arc<Mutex<Connection>>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl SqliteTicketStore {
    /// Opens (or creates) the database file and the table.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TicketStoreError> {
        let conn = Connection::open(path).map_err(TicketStoreError::new)?;
        // Several processes may share the file.
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(TicketStoreError::new)?;
        Self::new(conn)
    }

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> Result<Self, TicketStoreError> {
        Self::new(Connection::open_in_memory().map_err(TicketStoreError::new)?)
    }

    /// Uses an open connection; creates the table if needed.
    pub fn new(conn: Connection) -> Result<Self, TicketStoreError> {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS livefire_tickets (
                 key BLOB PRIMARY KEY,
                 record BLOB NOT NULL,
                 expires INTEGER NOT NULL
             );
             CREATE INDEX IF NOT EXISTS livefire_tickets_expires ON livefire_tickets(expires);",
        )
        .map_err(TicketStoreError::new)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection in the blocking pool.
    fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> BoxFuture<'static, Result<T, TicketStoreError>> {
        let conn = self.conn.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
                f(&conn)
            })
            .await
            .map_err(TicketStoreError::new)?
            .map_err(TicketStoreError::new)
        })
    }
}

impl TicketStore for SqliteTicketStore {
    fn put(
        &self,
        key: TicketKey,
        record: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'_, Result<(), TicketStoreError>> {
        let expires = now_ms().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        self.blocking(move |conn| {
            conn.execute(
                "INSERT OR REPLACE INTO livefire_tickets (key, record, expires) VALUES (?1, ?2, ?3)",
                params![&key.as_bytes()[..], record, expires],
            )
            .map(drop)
        })
    }

    fn take(&self, key: TicketKey) -> BoxFuture<'_, Result<Option<Vec<u8>>, TicketStoreError>> {
        self.blocking(move |conn| {
            conn.query_row(
                "DELETE FROM livefire_tickets WHERE key = ?1 RETURNING record",
                params![&key.as_bytes()[..]],
                |row| row.get(0),
            )
            .optional()
        })
    }

    fn purge(&self) -> BoxFuture<'_, Result<u64, TicketStoreError>> {
        let now = now_ms();
        self.blocking(move |conn| {
            conn.execute(
                "DELETE FROM livefire_tickets WHERE expires < ?1",
                params![now],
            )
            .map(|n| n as u64)
        })
    }
}
