//! Handoff tickets: how a live view's session writes reach the HTTP session (docs/protocol.md
//! §6.2; threat model R3).
//!
//! A WebSocket cannot set cookies, so the writes a view makes
//! ([`Socket::put_session`](crate::SocketCore::put_session), …) are stored server-side under a
//! **ticket**: 256 random bits, of which the store only ever sees the SHA-256. The browser
//! brings the ticket back on its next HTTP request, inside the sealed flash token of a
//! `redirect` (or in the form of a `phx-trigger-action` POST), and the ticket is **redeemed**:
//!
//! * taken from the store atomically, so it works once (a replay or a second parallel request
//!   finds nothing);
//! * valid for at most [`TICKET_MAX_AGE`] (60 s), checked with the keyring's clock;
//! * bound to the browser's session id at the time it was minted: a ticket carried into another
//!   browser (or planted in one) is refused;
//! * bound to its purpose, so no other token can stand in for it.
//!
//! The ticket and the flash carry nothing of the values written; they stay in the store until
//! redeemed or purged. Three stores implement [`TicketStore`]: [`MemoryTicketStore`] (one
//! process), `SqliteTicketStore` (feature `sqlite`) and `RedisTicketStore` (feature `redis`,
//! several nodes).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::writes::SessionWrites;
use crate::token::{Keyring, random_bytes, unix_ms};

/// How long a ticket can be redeemed after it was minted.
pub const TICKET_MAX_AGE: Duration = Duration::from_secs(60);

/// The purpose a ticket is bound to.
const PURPOSE: &str = "livefire/session-writes/v1";

/// A ticket's key in a store: the SHA-256 of the ticket.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TicketKey([u8; 32]);

impl TicketKey {
    /// The 32 bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, for stores keyed by strings.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TicketKey(…)")
    }
}

/// A ticket store failed (its backend is unreachable or refused the command).
#[derive(Debug, thiserror::Error)]
#[error("ticket store: {0}")]
pub struct TicketStoreError(#[from] pub Box<dyn std::error::Error + Send + Sync>);

impl TicketStoreError {
    /// Wraps a backend error.
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(err.into())
    }
}

/// Where tickets wait to be redeemed: opaque records under [`TicketKey`]s.
///
/// [`take`](Self::take) must be atomic: of two concurrent takes of one key, exactly one gets
/// the record. Records carry their own expiry (checked on redemption); a store only needs to
/// drop them eventually ([`purge`](Self::purge), or the backend's own TTL).
pub trait TicketStore: Send + Sync + fmt::Debug + 'static {
    /// Stores `record` under `key` for at least `ttl`.
    fn put(
        &self,
        key: TicketKey,
        record: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'_, Result<(), TicketStoreError>>;

    /// Removes and returns the record under `key`, atomically.
    fn take(&self, key: TicketKey) -> BoxFuture<'_, Result<Option<Vec<u8>>, TicketStoreError>>;

    /// Drops expired records; returns how many. Called in the background every 30 s.
    fn purge(&self) -> BoxFuture<'_, Result<u64, TicketStoreError>>;
}

/// A ticket store in this process's memory: the default, for one node.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::time::Duration;
/// use livefire::session::{MemoryTicketStore, TicketStore};
///
/// let store = MemoryTicketStore::new();
/// let key = livefire::session::TicketKey::of("ticket");
/// store.put(key, b"record".to_vec(), Duration::from_secs(60)).await.unwrap();
/// assert_eq!(store.take(key).await.unwrap().as_deref(), Some(&b"record"[..]));
/// assert_eq!(store.take(key).await.unwrap(), None); // single use
/// # }
/// ```
#[derive(Debug, Default, Clone)]
pub struct MemoryTicketStore {
    records: Arc<Mutex<Records>>,
}

/// Records with the instant the store may drop them.
type Records = HashMap<TicketKey, (Vec<u8>, Instant)>;

impl MemoryTicketStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records held (expired ones included until purged).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl TicketStore for MemoryTicketStore {
    fn put(
        &self,
        key: TicketKey,
        record: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'_, Result<(), TicketStoreError>> {
        self.lock().insert(key, (record, Instant::now() + ttl));
        Box::pin(async { Ok(()) })
    }

    fn take(&self, key: TicketKey) -> BoxFuture<'_, Result<Option<Vec<u8>>, TicketStoreError>> {
        let record = self.lock().remove(&key).map(|(record, _)| record);
        Box::pin(async move { Ok(record) })
    }

    fn purge(&self) -> BoxFuture<'_, Result<u64, TicketStoreError>> {
        let now = Instant::now();
        let mut records = self.lock();
        let before = records.len();
        records.retain(|_, (_, expires)| *expires > now);
        let purged = (before - records.len()) as u64;
        Box::pin(async move { Ok(purged) })
    }
}

impl TicketKey {
    /// The key of a ticket string.
    pub fn of(ticket: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(PURPOSE.as_bytes());
        hasher.update([0]);
        hasher.update(ticket.as_bytes());
        Self(hasher.finalize().into())
    }
}

/// What a store holds for one ticket.
#[derive(Serialize, Deserialize)]
struct Record {
    /// The purpose (always [`PURPOSE`]).
    p: String,
    /// Binding to the browser's session id at mint time (a hash of it).
    s: String,
    /// Expiry, Unix milliseconds (keyring clock).
    e: u64,
    /// The writes.
    w: SessionWrites,
}

fn binding(session_id: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"livefire/ticket-binding/v1\0");
    hasher.update(session_id.as_bytes());
    URL_SAFE_NO_PAD.encode(&hasher.finalize()[..16])
}

/// Why a ticket was not redeemed. Every case changes nothing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum Refused {
    #[error("unknown or already used ticket")]
    Unknown,
    #[error("expired ticket")]
    Expired,
    #[error("ticket of another browser session")]
    OtherSession,
    #[error("malformed ticket record")]
    Malformed,
    #[error("ticket store unavailable")]
    Store,
}

/// The tickets of one app: a store and the keyring whose clock dates them.
#[derive(Clone)]
pub(crate) struct Tickets {
    pub(crate) store: Arc<dyn TicketStore>,
}

impl fmt::Debug for Tickets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tickets")
            .field("store", &self.store)
            .finish()
    }
}

impl Tickets {
    /// Stores `writes` under a fresh ticket bound to `session_id`; returns the ticket.
    pub(crate) async fn mint(
        &self,
        keyring: &Keyring,
        session_id: &str,
        writes: SessionWrites,
    ) -> Result<String, TicketStoreError> {
        let ticket = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let record = Record {
            p: PURPOSE.to_owned(),
            s: binding(session_id),
            e: unix_ms(keyring.now()) + TICKET_MAX_AGE.as_millis() as u64,
            w: writes,
        };
        let bytes = serde_json::to_vec(&record).map_err(TicketStoreError::new)?;
        // The store keeps it a little longer than it is valid: the expiry inside decides.
        self.store
            .put(
                TicketKey::of(&ticket),
                bytes,
                TICKET_MAX_AGE + Duration::from_secs(5),
            )
            .await?;
        Ok(ticket)
    }

    /// Takes the ticket from the store and checks it; the writes if it is good.
    pub(crate) async fn redeem(
        &self,
        keyring: &Keyring,
        session_id: Option<&str>,
        ticket: &str,
    ) -> Result<SessionWrites, Refused> {
        if ticket.is_empty() || ticket.len() > 128 {
            return Err(Refused::Unknown);
        }
        let bytes = match self.store.take(TicketKey::of(ticket)).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err(Refused::Unknown),
            Err(err) => {
                tracing::error!(%err, "session ticket store failed");
                return Err(Refused::Store);
            }
        };
        let record: Record = serde_json::from_slice(&bytes).map_err(|_| Refused::Malformed)?;
        if record.p != PURPOSE {
            return Err(Refused::Malformed);
        }
        if unix_ms(keyring.now()) > record.e {
            return Err(Refused::Expired);
        }
        let expected = binding(session_id.ok_or(Refused::OtherSession)?);
        if !bool::from(record.s.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(Refused::OtherSession);
        }
        Ok(record.w)
    }
}

/// Flash key carrying a ticket through a redirect (removed before handlers see the flash).
pub(crate) const FLASH_KEY: &str = "_livefire_session_ticket";

/// Form field carrying a ticket in a `phx-trigger-action` POST.
pub const TICKET_FIELD: &str = "_session_ticket";

/// Form field naming where the POST redirects after applying the writes (a local path).
pub const TO_FIELD: &str = "_to";

/// The path of the POST endpoint that redeems a ticket ([`LiveRouter`](crate::LiveRouter)
/// serves it when a ticket store is configured).
pub const SESSION_PATH: &str = "/live/session";
