//! Handoff tickets: how a live view's session writes reach the HTTP session (docs/protocol.md
//! §6.2; threat model R3).
//!
//! A WebSocket cannot set cookies, so the writes a view makes
//! ([`Socket::put_session`](crate::SocketCore::put_session), …) are stored server-side under a
//! **ticket**: 256 random bits that only the browser is given. The browser brings the ticket
//! back on its next HTTP request, inside the sealed flash token of a `redirect` (or in the form
//! of a `phx-trigger-action` POST), and the ticket is **redeemed**:
//!
//! * looked up under a [`TicketKey`], the SHA-256 of the purpose, the ticket **and** the
//!   browser's session id at mint time: a ticket presented by another browser (another session
//!   id) finds nothing and leaves the record alone, so the rightful owner can still redeem it;
//! * taken from the store atomically, so it works once (a replay or a second parallel request
//!   finds nothing);
//! * valid for at most [`TICKET_MAX_AGE`] (60 s), checked with the keyring's clock;
//! * bound to its purpose, so no other token can stand in for it.
//!
//! The record in the store is encrypted (XChaCha20-Poly1305) with a key derived by HKDF-SHA256
//! from the ticket, its store key as associated data: the store, its files, logs and snapshots
//! (a SQLite write-ahead log, a Redis RDB file) hold neither the ticket nor the session writes
//! (a new login's session token) nor the session id. The record carries the writes, their expiry
//! and the flash put with them, which a [`session_form`](crate::Socket::session_form) POST sets
//! on its redirect. Three stores implement [`TicketStore`]: [`MemoryTicketStore`] (one
//! process), `SqliteTicketStore` (feature `sqlite`) and `RedisTicketStore` (feature `redis`,
//! several nodes).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};
use futures_util::future::BoxFuture;
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::writes::SessionWrites;
use crate::token::{Keyring, random_bytes, unix_ms};

/// A flash that travels with a ticket, as the flash layer stores it (key → message); kept as
/// plain data here so that the session knows nothing of the flash.
pub(crate) type FlashData = BTreeMap<String, Value>;

/// How long a ticket can be redeemed after it was minted.
pub const TICKET_MAX_AGE: Duration = Duration::from_secs(60);

/// The purpose a ticket is bound to: in its store key, its record key and the record's
/// associated data. (v1 records were stored in clear under a hash of the ticket alone.)
const PURPOSE: &str = "livefire/session-writes/v2";

/// Format version of an encrypted record (its first byte).
const RECORD_VERSION: u8 = 2;
/// XChaCha20 nonce length.
const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
const TAG_LEN: usize = 16;
/// HKDF `info` of the key that encrypts a record.
const RECORD_KEY_INFO: &[u8] = b"livefire/session-writes/v2/record-key";
/// Longest ticket looked up (a real one is 43 characters).
const MAX_TICKET_LEN: usize = 128;

/// A ticket's key in a store: the SHA-256 of the ticket's purpose, the ticket and the session
/// id of the browser it was minted for. Neither can be recovered from it (the ticket has 256
/// random bits), and a browser with another session id derives another key.
///
/// ```
/// use livefire::session::TicketKey;
///
/// let key = TicketKey::of("ticket", "session id of browser A");
/// assert_eq!(key, TicketKey::of("ticket", "session id of browser A"));
/// assert_ne!(key, TicketKey::of("ticket", "session id of browser B"));
/// assert_eq!(key.to_hex().len(), 64);
/// assert!(!key.to_hex().contains("ticket"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TicketKey([u8; 32]);

impl TicketKey {
    /// The key under which `ticket`, minted for the browser session `session_id`, is stored.
    pub fn of(ticket: &str, session_id: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(PURPOSE.as_bytes());
        hasher.update([0]);
        // Length-prefixed, so no other (ticket, session id) pair hashes the same input.
        hasher.update((ticket.len() as u64).to_be_bytes());
        hasher.update(ticket.as_bytes());
        hasher.update(session_id.as_bytes());
        Self(hasher.finalize().into())
    }

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
/// let key = livefire::session::TicketKey::of("ticket", "session id");
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

/// What a record holds (encrypted) for one ticket.
#[derive(Serialize, Deserialize)]
struct Record {
    /// Expiry, Unix milliseconds (keyring clock).
    e: u64,
    /// The writes.
    w: SessionWrites,
    /// The flash put with them, set on the redirect that follows the redemption.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    f: FlashData,
}

/// The cipher of the record of `ticket`: its key is derived from the ticket alone, which the
/// store never sees.
fn record_cipher(ticket: &str) -> XChaCha20Poly1305 {
    let hkdf = Hkdf::<Sha256>::new(Some(PURPOSE.as_bytes()), ticket.as_bytes());
    let mut key = Key::default();
    hkdf.expand(RECORD_KEY_INFO, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    XChaCha20Poly1305::new(&key)
}

/// Associated data of a record: the purpose and the store key it belongs under, so a record
/// moved to another key (another ticket, another browser) does not open.
fn record_aad(key: &TicketKey) -> Vec<u8> {
    let mut aad = Vec::with_capacity(PURPOSE.len() + 1 + 32);
    aad.extend_from_slice(PURPOSE.as_bytes());
    aad.push(0);
    aad.extend_from_slice(key.as_bytes());
    aad
}

/// `version ‖ nonce ‖ XChaCha20-Poly1305(record)`.
fn seal_record(
    ticket: &str,
    key: &TicketKey,
    record: &Record,
) -> Result<Vec<u8>, TicketStoreError> {
    let plaintext = serde_json::to_vec(record).map_err(TicketStoreError::new)?;
    let nonce = random_bytes::<NONCE_LEN>();
    let ciphertext = record_cipher(ticket)
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: &plaintext,
                aad: &record_aad(key),
            },
        )
        .map_err(|_| TicketStoreError::new("encrypting a session ticket record failed"))?;
    let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
    sealed.push(RECORD_VERSION);
    sealed.extend_from_slice(&nonce);
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

fn open_record(ticket: &str, key: &TicketKey, sealed: &[u8]) -> Option<Record> {
    if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != RECORD_VERSION {
        return None;
    }
    let (nonce, ciphertext) = sealed[1..].split_at(NONCE_LEN);
    let nonce = XNonce::try_from(nonce).ok()?;
    let plaintext = record_cipher(ticket)
        .decrypt(
            &nonce,
            Payload {
                msg: ciphertext,
                aad: &record_aad(key),
            },
        )
        .ok()?;
    serde_json::from_slice(&plaintext).ok()
}

/// Why a ticket was not redeemed. Every case leaves other browsers' tickets alone.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Never minted, already used, expired and purged, or minted for another browser: the
    /// store has nothing under this browser's key for it (nothing was taken).
    #[error("unknown or already used ticket, or a ticket of another browser session")]
    Unknown,
    /// Taken, but past its 60 s.
    #[error("expired ticket")]
    Expired,
    /// The request has no session: no ticket can be bound to it (nothing was taken).
    #[error("ticket presented without a browser session")]
    NoSession,
    /// Taken, but the record does not open (corrupted, or written by something else).
    #[error("malformed ticket record")]
    Malformed,
    #[error("ticket store unavailable")]
    Store,
}

/// What a redeemed ticket hands over.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Redeemed {
    pub(crate) writes: SessionWrites,
    pub(crate) flash: FlashData,
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
    /// Stores `writes` (and the `flash` that goes with them) under a fresh ticket bound to
    /// `session_id`; returns the ticket.
    pub(crate) async fn mint(
        &self,
        keyring: &Keyring,
        session_id: &str,
        writes: SessionWrites,
        flash: FlashData,
    ) -> Result<String, TicketStoreError> {
        let ticket = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let key = TicketKey::of(&ticket, session_id);
        let record = Record {
            e: unix_ms(keyring.now()) + TICKET_MAX_AGE.as_millis() as u64,
            w: writes,
            f: flash,
        };
        let sealed = seal_record(&ticket, &key, &record)?;
        // The store keeps it a little longer than it is valid: the expiry inside decides.
        self.store
            .put(key, sealed, TICKET_MAX_AGE + Duration::from_secs(5))
            .await?;
        Ok(ticket)
    }

    /// Drops a ticket this view superseded (its writes went into a newer one).
    pub(crate) async fn discard(&self, session_id: &str, ticket: &str) {
        if let Err(err) = self.store.take(TicketKey::of(ticket, session_id)).await {
            tracing::warn!(%err, "a superseded session ticket could not be dropped");
        }
    }

    /// Takes the ticket of the browser session `session_id` from the store and opens it; the
    /// writes and flash if it is good. A ticket presented with another session id is looked up
    /// under another key: it finds nothing and takes nothing.
    pub(crate) async fn redeem(
        &self,
        keyring: &Keyring,
        session_id: Option<&str>,
        ticket: &str,
    ) -> Result<Redeemed, Refused> {
        if ticket.is_empty() || ticket.len() > MAX_TICKET_LEN {
            return Err(Refused::Unknown);
        }
        let session_id = session_id.ok_or(Refused::NoSession)?;
        let key = TicketKey::of(ticket, session_id);
        let sealed = match self.store.take(key).await {
            Ok(Some(sealed)) => sealed,
            Ok(None) => return Err(Refused::Unknown),
            Err(err) => {
                tracing::error!(%err, "session ticket store failed");
                return Err(Refused::Store);
            }
        };
        let record = open_record(ticket, &key, &sealed).ok_or(Refused::Malformed)?;
        if unix_ms(keyring.now()) > record.e {
            return Err(Refused::Expired);
        }
        Ok(Redeemed {
            writes: record.w,
            flash: record.f,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::writes::Write;

    /// Every (key, record) a store was given.
    type Seen = Arc<Mutex<Vec<(TicketKey, Vec<u8>)>>>;

    /// A store that keeps a copy of everything it was given, as a dump or a log would.
    #[derive(Debug, Default, Clone)]
    struct Recording {
        inner: MemoryTicketStore,
        seen: Seen,
    }

    impl TicketStore for Recording {
        fn put(
            &self,
            key: TicketKey,
            record: Vec<u8>,
            ttl: Duration,
        ) -> BoxFuture<'_, Result<(), TicketStoreError>> {
            self.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((key, record.clone()));
            self.inner.put(key, record, ttl)
        }
        fn take(&self, key: TicketKey) -> BoxFuture<'_, Result<Option<Vec<u8>>, TicketStoreError>> {
            self.inner.take(key)
        }
        fn purge(&self) -> BoxFuture<'_, Result<u64, TicketStoreError>> {
            self.inner.purge()
        }
    }

    const SECRET: &str = "user-token-7d1f0c5e9b2a4f68a3c1e0d9b8a7f6e5";
    const SID: &str = "session-id-of-browser-a-0123456789abcdefghij";

    fn writes() -> SessionWrites {
        SessionWrites(vec![
            Write::Renew,
            Write::Put {
                key: "user_token".to_owned(),
                value: SECRET.into(),
            },
        ])
    }

    fn welcome() -> FlashData {
        [("info".to_owned(), Value::from("Welcome"))].into()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// docs/threat-model.md case 79: what the store holds reveals neither the ticket, nor the
    /// session id, nor the writes or the flash; the ticket still redeems them.
    #[tokio::test]
    async fn case_79_a_store_dump_holds_no_ticket_session_id_writes_or_flash() {
        let store = Recording::default();
        let tickets = Tickets {
            store: Arc::new(store.clone()),
        };
        let keyring = Keyring::random();
        let ticket = tickets
            .mint(&keyring, SID, writes(), welcome())
            .await
            .unwrap();
        let seen = store.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        let (key, record) = &seen[0];
        for (what, needle) in [
            ("the writes", SECRET.as_bytes()),
            ("a session key", b"user_token".as_slice()),
            ("the flash", b"Welcome".as_slice()),
            ("the ticket", ticket.as_bytes()),
            ("the session id", SID.as_bytes()),
        ] {
            assert!(!contains(record, needle), "the record holds {what}");
            assert!(
                !contains(key.to_hex().as_bytes(), needle),
                "the key holds {what}"
            );
        }
        // Not the plain hash of the ticket either (the v1 key, or a guess from the ticket).
        let plain: [u8; 32] = Sha256::digest(ticket.as_bytes()).into();
        assert_ne!(key.as_bytes(), &plain);
        assert_eq!(*key, TicketKey::of(&ticket, SID));

        let redeemed = tickets.redeem(&keyring, Some(SID), &ticket).await.unwrap();
        assert_eq!(
            redeemed,
            Redeemed {
                writes: writes(),
                flash: welcome()
            }
        );
    }

    /// case 79: a record that was changed, or moved under another key, does not open.
    #[tokio::test]
    async fn case_79_a_tampered_or_moved_record_does_not_open() {
        let store = Recording::default();
        let tickets = Tickets {
            store: Arc::new(store.clone()),
        };
        let keyring = Keyring::random();
        let ticket = tickets
            .mint(&keyring, SID, writes(), FlashData::new())
            .await
            .unwrap();
        let (key, record) = store.seen.lock().unwrap()[0].clone();
        for i in [0, 1, 30, record.len() - 1] {
            let mut bad = record.clone();
            bad[i] ^= 1;
            store.inner.put(key, bad, TICKET_MAX_AGE).await.unwrap();
            assert_eq!(
                tickets.redeem(&keyring, Some(SID), &ticket).await,
                Err(Refused::Malformed),
                "byte {i}"
            );
        }
        // The genuine record under the key of another browser's session.
        let other = TicketKey::of(&ticket, "session-id-of-browser-b");
        store
            .inner
            .put(other, record, TICKET_MAX_AGE)
            .await
            .unwrap();
        assert_eq!(
            tickets
                .redeem(&keyring, Some("session-id-of-browser-b"), &ticket)
                .await,
            Err(Refused::Malformed)
        );
    }

    /// docs/threat-model.md case 80: a presentation from another browser session (or without
    /// one) finds nothing and takes nothing; the owner then redeems once.
    #[tokio::test]
    async fn case_80_a_foreign_presentation_does_not_burn_the_ticket() {
        let store = MemoryTicketStore::new();
        let tickets = Tickets {
            store: Arc::new(store.clone()),
        };
        let keyring = Keyring::random();
        let ticket = tickets
            .mint(&keyring, SID, writes(), FlashData::new())
            .await
            .unwrap();
        assert_eq!(
            tickets
                .redeem(&keyring, Some("another-browser"), &ticket)
                .await,
            Err(Refused::Unknown)
        );
        assert_eq!(
            tickets.redeem(&keyring, None, &ticket).await,
            Err(Refused::NoSession)
        );
        assert_eq!(store.len(), 1, "the foreign presentations took nothing");
        let redeemed = tickets.redeem(&keyring, Some(SID), &ticket).await.unwrap();
        assert_eq!(redeemed.writes, writes());
        assert_eq!(
            tickets.redeem(&keyring, Some(SID), &ticket).await,
            Err(Refused::Unknown),
            "single use"
        );
        assert!(store.is_empty());
    }

    /// A superseded ticket is dropped from the store.
    #[tokio::test]
    async fn discard_drops_the_ticket() {
        let store = MemoryTicketStore::new();
        let tickets = Tickets {
            store: Arc::new(store.clone()),
        };
        let keyring = Keyring::random();
        let ticket = tickets
            .mint(&keyring, SID, writes(), FlashData::new())
            .await
            .unwrap();
        tickets.discard("another-browser", &ticket).await;
        assert_eq!(store.len(), 1, "another browser's key drops nothing");
        tickets.discard(SID, &ticket).await;
        assert!(store.is_empty());
    }
}
