//! Authenticated, encrypted tokens: the one primitive behind session cookies, flash tokens and
//! page tokens.
//!
//! A token is `base64url-nopad(version ‖ key id ‖ nonce ‖ ciphertext ‖ tag)`:
//!
//! | field      | size     | meaning                                                        |
//! |------------|----------|----------------------------------------------------------------|
//! | version    | 1 byte   | format version, currently `1`                                  |
//! | key id     | 4 bytes  | derived from the secret; selects the key on a rotated keyring  |
//! | nonce      | 24 bytes | random per token (XChaCha20: safe to pick at random)           |
//! | ciphertext | n bytes  | XChaCha20-Poly1305 encryption of `{"iat":ms,"exp":ms,"data":…}`|
//! | tag        | 16 bytes | Poly1305 tag                                                   |
//!
//! * Every *purpose* gets its own key, derived with HKDF-SHA256 from the secret key base, and the
//!   purpose is **also** bound as associated data together with the version and key id. A token
//!   minted for one purpose never opens under another (docs/threat-model.md R5, cases 5 and 6).
//!   livefire's own purposes are `"session:<cookie name>"` (the session cookie), `"flash"` (flash
//!   tokens) and `"lv-session"` / `"lv-static"` (the `data-phx-session` / `data-phx-static` page
//!   tokens of a live view).
//! * The expiry lives inside the ciphertext and is enforced by [`Keyring::open`]; a token whose
//!   `iat` is more than [`CLOCK_SKEW`] in the future is rejected as [`TokenError::NotYetValid`].
//! * Inputs longer than [`MAX_TOKEN_LEN`] are refused before any decoding.
//! * The output alphabet is `A-Z a-z 0-9 - _`, so a token is safe as a cookie value, in a URL
//!   and in an HTML attribute without further encoding.
//!
//! ```
//! use std::time::Duration;
//! use livefire::token::{Keyring, TokenError};
//!
//! let keyring = Keyring::new([7u8; 64]).unwrap();
//! let token = keyring.seal("greeting", &"hello", Duration::from_secs(60));
//! let back: String = keyring.open("greeting", &token).unwrap();
//! assert_eq!(back, "hello");
//! assert_eq!(keyring.open::<String>("other", &token), Err(TokenError::Invalid));
//! ```

mod clock;
pub(crate) mod mask;

pub use self::clock::Clock;
#[cfg(feature = "test-util")]
pub use self::clock::ManualClock;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{Key, KeyInit, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Minimum length of a secret key base, in bytes (the same bar as Plug and the `cookie` crate).
pub const MIN_SECRET_LEN: usize = 64;

/// Longest token [`Keyring::open`] accepts, in characters. Longer input is
/// [`TokenError::TooLarge`] without being decoded.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// How far in the future a token's issue time may lie before it is [`TokenError::NotYetValid`]
/// (tolerates clock skew between nodes).
pub const CLOCK_SKEW: Duration = Duration::from_secs(5);

const VERSION: u8 = 1;
const KID_LEN: usize = 4;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + KID_LEN;
const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
const HKDF_SALT: &[u8] = b"livefire/token/v1";
const INFO_KID: &[u8] = b"livefire/token/v1/key-id";
const INFO_PURPOSE: &[u8] = b"livefire/token/v1/purpose/";
/// Derived keys cached per key; purposes beyond this are derived on every use.
const MAX_CACHED_PURPOSES: usize = 64;

/// Why a secret key base was refused.
///
/// ```
/// use livefire::token::{KeyError, Keyring, MIN_SECRET_LEN};
/// let err = Keyring::new(b"hunter2").unwrap_err();
/// assert_eq!(err, KeyError::TooShort { len: 7, min: MIN_SECRET_LEN });
/// assert!(err.to_string().contains("openssl rand -base64 64"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The secret is shorter than [`MIN_SECRET_LEN`] bytes.
    #[error(
        "secret_key_base must be at least {min} bytes of random data (got {len} bytes); \
         generate one with e.g. `openssl rand -base64 64`"
    )]
    TooShort {
        /// Length of the rejected secret.
        len: usize,
        /// The required minimum.
        min: usize,
    },
}

/// Why a token did not open. All variants mean "treat as absent"; they are distinct only for
/// logging and tests.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use livefire::token::{Clock, Keyring, TokenError, MAX_TOKEN_LEN};
///
/// // A manual clock (feature `test-util`) to step over the expiry exactly.
/// let (clock, time) = Clock::manual(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// let keyring = Keyring::new([9u8; 64]).unwrap().with_clock(clock);
/// let token = keyring.seal("flash", &"hi", Duration::from_secs(60));
///
/// assert_eq!(keyring.open::<String>("flash", "not a token!"), Err(TokenError::Malformed));
/// assert_eq!(keyring.open::<String>("lv-session", &token), Err(TokenError::Invalid)); // wrong purpose
/// assert_eq!(keyring.open::<u32>("flash", &token), Err(TokenError::Invalid)); // wrong shape
/// let mut tampered = token.clone().into_bytes();
/// tampered[40] = if tampered[40] == b'A' { b'B' } else { b'A' };
/// let tampered = String::from_utf8(tampered).unwrap();
/// assert_eq!(keyring.open::<String>("flash", &tampered), Err(TokenError::Invalid));
/// let huge = "A".repeat(MAX_TOKEN_LEN + 1);
/// assert_eq!(keyring.open::<String>("flash", &huge), Err(TokenError::TooLarge));
///
/// // Valid up to and including `max_age`, expired after it.
/// time.advance(Duration::from_secs(60));
/// assert_eq!(keyring.open::<String>("flash", &token).as_deref(), Ok("hi"));
/// time.advance(Duration::from_secs(1));
/// assert_eq!(keyring.open::<String>("flash", &token), Err(TokenError::Expired));
///
/// // A node whose clock is behind by more than CLOCK_SKEW (5 s) refuses fresh tokens.
/// let fresh = keyring.seal("flash", &"hi", Duration::from_secs(60));
/// time.rewind(Duration::from_secs(6));
/// assert_eq!(keyring.open::<String>("flash", &fresh), Err(TokenError::NotYetValid));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not base64url, too short, or an unknown format version.
    #[error("malformed token")]
    Malformed,
    /// Authentication failed (tampered, wrong key, wrong purpose) or the authenticated payload
    /// does not have the expected shape.
    #[error("invalid token")]
    Invalid,
    /// The token is past its expiry.
    #[error("expired token")]
    Expired,
    /// The token claims to be issued further in the future than [`CLOCK_SKEW`] allows.
    #[error("token issued in the future")]
    NotYetValid,
    /// The token is longer than [`MAX_TOKEN_LEN`].
    #[error("token too large")]
    TooLarge,
}

/// A failure to seal a value (returned by [`Keyring::try_seal`] and [`Keyring::sealed_len`]).
///
/// ```
/// use std::collections::BTreeMap;
/// use std::time::Duration;
/// use livefire::token::{Keyring, SealError};
///
/// let keyring = Keyring::random();
/// // JSON object keys must be strings; a tuple key cannot be sealed.
/// let by_cell: BTreeMap<(u8, u8), &str> = [((1, 2), "x")].into();
/// let err = keyring.try_seal("grid", &by_cell, Duration::from_secs(60)).unwrap_err();
/// assert!(matches!(err, SealError::Serialize(_)));
/// // Values that serialize seal fine.
/// assert!(keyring.try_seal("grid", &["x"], Duration::from_secs(60)).is_ok());
/// ```
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The value could not be serialised to JSON (e.g. a map with non-string keys).
    #[error("cannot serialise token payload: {0}")]
    Serialize(#[from] serde_json::Error),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

// ---------------------------------------------------------------------------------------------
// Keyring
// ---------------------------------------------------------------------------------------------

struct KeyEntry {
    kid: [u8; KID_LEN],
    hkdf: Hkdf<Sha256>,
    cache: Mutex<HashMap<String, Key>>,
}

impl KeyEntry {
    fn new(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(KeyError::TooShort {
                len: secret.len(),
                min: MIN_SECRET_LEN,
            });
        }
        let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), secret);
        let mut kid = [0u8; KID_LEN];
        hkdf.expand(INFO_KID, &mut kid)
            .expect("4 bytes is a valid HKDF-SHA256 output length");
        Ok(Self {
            kid,
            hkdf,
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn cipher(&self, purpose: &str) -> XChaCha20Poly1305 {
        let mut cache = lock(&self.cache);
        if let Some(key) = cache.get(purpose) {
            return XChaCha20Poly1305::new(key);
        }
        let mut info = Vec::with_capacity(INFO_PURPOSE.len() + purpose.len());
        info.extend_from_slice(INFO_PURPOSE);
        info.extend_from_slice(purpose.as_bytes());
        let mut key = Key::default();
        self.hkdf
            .expand(&info, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        let cipher = XChaCha20Poly1305::new(&key);
        if cache.len() < MAX_CACHED_PURPOSES {
            cache.insert(purpose.to_owned(), key);
        }
        cipher
    }
}

struct KeyringInner {
    /// `keys[0]` seals and opens; the rest only open (rotation fallbacks).
    keys: Vec<Arc<KeyEntry>>,
    clock: Clock,
}

/// The application's secret keys: one current key that seals and opens, plus optional read-only
/// fallback keys for rotation. Cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use livefire::token::Keyring;
///
/// let old = Keyring::new([1u8; 64]).unwrap();
/// let token = old.seal("session", &42u32, Duration::from_secs(60));
///
/// let rotated = Keyring::new([2u8; 64]).unwrap().with_fallback([1u8; 64]).unwrap();
/// let (value, used_fallback) = rotated.open_rotated::<u32>("session", &token).unwrap();
/// assert_eq!((value, used_fallback), (42, true));
/// ```
#[derive(Clone)]
pub struct Keyring {
    inner: Arc<KeyringInner>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<String> = self
            .inner
            .keys
            .iter()
            .map(|k| k.kid.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        f.debug_struct("Keyring")
            .field("key_ids", &kids)
            .field("keys", &"<redacted>")
            .field("clock", &self.inner.clock)
            .finish()
    }
}

#[derive(Serialize)]
struct EnvelopeOut<'a, T: ?Sized> {
    iat: u64,
    exp: u64,
    data: &'a T,
}

#[derive(Deserialize)]
struct Times {
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct EnvelopeIn<T> {
    data: T,
}

impl Keyring {
    /// Builds a keyring from the secret key base, which must hold at least [`MIN_SECRET_LEN`]
    /// bytes (use 64 random bytes, e.g. decoded from an environment variable).
    ///
    /// # Errors
    /// [`KeyError::TooShort`] if the secret is shorter than 64 bytes.
    pub fn new(secret_key_base: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let entry = KeyEntry::new(secret_key_base.as_ref())?;
        Ok(Self {
            inner: Arc::new(KeyringInner {
                keys: vec![Arc::new(entry)],
                clock: Clock::system(),
            }),
        })
    }

    /// A keyring with a fresh random secret, for tests and throwaway development servers. Tokens
    /// sealed with it do not survive a restart.
    ///
    /// ```
    /// use std::time::Duration;
    /// use livefire::token::{Keyring, TokenError};
    /// let (a, b) = (Keyring::random(), Keyring::random());
    /// let token = a.seal("session", &1u8, Duration::from_secs(60));
    /// assert_eq!(a.open::<u8>("session", &token), Ok(1));
    /// assert_eq!(b.open::<u8>("session", &token), Err(TokenError::Invalid));
    /// ```
    pub fn random() -> Self {
        let mut secret = [0u8; MIN_SECRET_LEN];
        getrandom::fill(&mut secret)
            .expect("the operating system's random number generator failed");
        Self::new(secret).expect("64 bytes is long enough")
    }

    /// Adds a read-only fallback secret: tokens sealed under it still open (reported by
    /// [`Keyring::open_rotated`]), but new tokens are sealed with the current key only.
    ///
    /// # Errors
    /// [`KeyError::TooShort`] if the old secret is shorter than 64 bytes.
    pub fn with_fallback(self, old_secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let entry = KeyEntry::new(old_secret.as_ref())?;
        let mut keys = self.inner.keys.clone();
        keys.push(Arc::new(entry));
        Ok(Self {
            inner: Arc::new(KeyringInner {
                keys,
                clock: self.inner.clock.clone(),
            }),
        })
    }

    /// Replaces the clock used to stamp and check tokens (tests use `Clock::manual`, feature
    /// `test-util`).
    pub fn with_clock(self, clock: Clock) -> Self {
        Self {
            inner: Arc::new(KeyringInner {
                keys: self.inner.keys.clone(),
                clock,
            }),
        }
    }

    /// The current time according to this keyring's clock.
    pub fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    /// The keyring's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Seals `data` for `purpose`, valid for `max_age` from now.
    ///
    /// # Panics
    /// If `data` cannot be serialised to JSON (for example a map with non-string keys); use
    /// [`Keyring::try_seal`] for values where that can happen.
    pub fn seal<T: Serialize + ?Sized>(
        &self,
        purpose: &str,
        data: &T,
        max_age: Duration,
    ) -> String {
        match self.try_seal(purpose, data, max_age) {
            Ok(token) => token,
            Err(e) => panic!("Keyring::seal: {e}"),
        }
    }

    /// Seals `data` for `purpose`, valid for `max_age` from now.
    ///
    /// # Errors
    /// [`SealError::Serialize`] if `data` cannot be serialised to JSON.
    pub fn try_seal<T: Serialize + ?Sized>(
        &self,
        purpose: &str,
        data: &T,
        max_age: Duration,
    ) -> Result<String, SealError> {
        let iat = unix_ms(self.now());
        let exp = iat.saturating_add(duration_ms(max_age));
        let plaintext = serde_json::to_vec(&EnvelopeOut { iat, exp, data })?;
        Ok(self.seal_bytes(purpose, &plaintext))
    }

    /// The length of the token [`Keyring::seal`] would produce for `data` now, without
    /// encrypting anything.
    ///
    /// ```
    /// use std::time::Duration;
    /// use livefire::token::Keyring;
    /// let keyring = Keyring::random();
    /// let data = serde_json::json!({"user_id": 42, "locale": "de"});
    /// let len = keyring.sealed_len(&data, Duration::from_secs(60)).unwrap();
    /// assert_eq!(len, keyring.seal("session", &data, Duration::from_secs(60)).len());
    /// ```
    ///
    /// # Errors
    /// [`SealError::Serialize`] if `data` cannot be serialised to JSON.
    pub fn sealed_len<T: Serialize + ?Sized>(
        &self,
        data: &T,
        max_age: Duration,
    ) -> Result<usize, SealError> {
        let iat = unix_ms(self.now());
        let exp = iat.saturating_add(duration_ms(max_age));
        let plaintext = serde_json::to_vec(&EnvelopeOut { iat, exp, data })?;
        Ok(base64_len(OVERHEAD + plaintext.len()))
    }

    fn seal_bytes(&self, purpose: &str, plaintext: &[u8]) -> String {
        let key = &self.inner.keys[0];
        let mut header = [0u8; HEADER_LEN];
        header[0] = VERSION;
        header[1..].copy_from_slice(&key.kid);
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system's random number generator failed");
        let aad = associated_data(&header, purpose);
        let ciphertext = key
            .cipher(purpose)
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of a bounded message cannot fail");
        let mut raw = Vec::with_capacity(HEADER_LEN + NONCE_LEN + ciphertext.len());
        raw.extend_from_slice(&header);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ciphertext);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Opens a token sealed for `purpose`, with the current key or any fallback key.
    ///
    /// # Errors
    /// See [`TokenError`]; every error means "no valid token".
    pub fn open<T: DeserializeOwned>(&self, purpose: &str, token: &str) -> Result<T, TokenError> {
        self.open_rotated(purpose, token).map(|(value, _)| value)
    }

    /// Like [`Keyring::open`], and also reports whether a fallback key opened the token, in
    /// which case the caller should re-seal it with the current key.
    ///
    /// # Errors
    /// See [`TokenError`].
    pub fn open_rotated<T: DeserializeOwned>(
        &self,
        purpose: &str,
        token: &str,
    ) -> Result<(T, bool), TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLarge);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenError::Malformed)?;
        if raw.len() < OVERHEAD || raw[0] != VERSION {
            return Err(TokenError::Malformed);
        }
        let (header, rest) = raw.split_at(HEADER_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| TokenError::Malformed)?;
        let aad = associated_data(header, purpose);
        let kid = &header[1..];

        let mut opened = None;
        for (index, key) in self.inner.keys.iter().enumerate() {
            // Key ids are 32 bits of HKDF output; a collision only costs one extra attempt.
            if key.kid != kid {
                continue;
            }
            let attempt = key.cipher(purpose).decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            );
            if let Ok(plaintext) = attempt {
                opened = Some((plaintext, index > 0));
                break;
            }
        }
        let (plaintext, rotated) = opened.ok_or(TokenError::Invalid)?;

        let times: Times = serde_json::from_slice(&plaintext).map_err(|_| TokenError::Invalid)?;
        let now = unix_ms(self.now());
        if times.iat > now.saturating_add(duration_ms(CLOCK_SKEW)) {
            return Err(TokenError::NotYetValid);
        }
        if now > times.exp {
            return Err(TokenError::Expired);
        }
        let envelope: EnvelopeIn<T> =
            serde_json::from_slice(&plaintext).map_err(|_| TokenError::Invalid)?;
        Ok((envelope.data, rotated))
    }
}

fn associated_data(header: &[u8], purpose: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + purpose.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(purpose.as_bytes());
    aad
}

/// Length of unpadded base64 for `n` bytes.
const fn base64_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the operating system's random number generator failed");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: [u8; 64] = [0x42; 64];
    const OTHER: [u8; 64] = [0x24; 64];

    fn manual() -> (Keyring, ManualClock) {
        let (clock, handle) = Clock::manual(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        (
            Keyring::new(SECRET)
                .expect("valid secret")
                .with_clock(clock),
            handle,
        )
    }

    fn flip(token: &str, index: usize) -> String {
        let mut raw = URL_SAFE_NO_PAD.decode(token).expect("own token decodes");
        raw[index] ^= 0x01;
        URL_SAFE_NO_PAD.encode(raw)
    }

    #[test]
    fn round_trip_structured_data() {
        let (keyring, _) = manual();
        let data = json!({"user": {"email": "a@b.c"}, "n": [1, 2, 3]});
        let token = keyring.seal("flash", &data, Duration::from_secs(60));
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "cookie-safe alphabet: {token}"
        );
        let back: serde_json::Value = keyring.open("flash", &token).expect("opens");
        assert_eq!(back, data);
        assert_eq!(
            keyring
                .sealed_len(&data, Duration::from_secs(60))
                .expect("len"),
            token.len()
        );
    }

    #[test]
    fn tokens_are_randomised() {
        let (keyring, _) = manual();
        let a = keyring.seal("p", &1, Duration::from_secs(60));
        let b = keyring.seal("p", &1, Duration::from_secs(60));
        assert_ne!(a, b);
    }

    #[test]
    fn case_1_tamper_each_byte_region() {
        let (keyring, _) = manual();
        let token = keyring.seal("session", &json!({"k": "v"}), Duration::from_secs(60));
        let len = URL_SAFE_NO_PAD.decode(&token).expect("decodes").len();
        // version, every key-id byte, nonce start/middle/end, ciphertext, tag start/end.
        let mut indices = vec![
            0,
            1,
            2,
            3,
            4,
            5,
            16,
            28,
            29,
            30,
            len - 17,
            len - 16,
            len - 1,
        ];
        indices.extend(HEADER_LEN + NONCE_LEN..len);
        for index in indices {
            let tampered = flip(&token, index);
            let result = keyring.open::<serde_json::Value>("session", &tampered);
            let expected = if index == 0 {
                TokenError::Malformed
            } else {
                TokenError::Invalid
            };
            assert_eq!(result, Err(expected), "byte {index} flipped");
        }
    }

    #[test]
    fn case_2_truncated_garbage_and_empty() {
        let (keyring, _) = manual();
        let token = keyring.seal("session", &1u8, Duration::from_secs(60));
        for cut in [0, 1, 5, 7, 30, 40, token.len() - 1] {
            let r = keyring.open::<u8>("session", &token[..cut]);
            assert!(
                matches!(r, Err(TokenError::Malformed | TokenError::Invalid)),
                "cut at {cut}: {r:?}"
            );
        }
        for junk in ["", "XCP.", "SFMyNTY.g2gD.sig", "!!!!", "====", "a b c", "é"] {
            assert_eq!(
                keyring.open::<u8>("session", junk),
                Err(TokenError::Malformed),
                "{junk:?}"
            );
        }
    }

    #[test]
    fn oversize_token_refused_before_decoding() {
        let (keyring, _) = manual();
        let big = "A".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(keyring.open::<u8>("p", &big), Err(TokenError::TooLarge));
        let big_invalid = "!".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            keyring.open::<u8>("p", &big_invalid),
            Err(TokenError::TooLarge)
        );
    }

    #[test]
    fn case_6_wrong_purpose_rejected() {
        let (keyring, _) = manual();
        for (minted, presented) in [
            ("flash", "session:livefire_session"),
            ("lv-session", "session:livefire_session"),
            ("flash", "login-handoff"),
            ("lv-session", "login-handoff"),
            ("lv-static", "lv-session"),
            ("flash", "lv-static"),
            ("session:a", "session:b"),
        ] {
            let token = keyring.seal(minted, &json!({"x": 1}), Duration::from_secs(60));
            assert_eq!(
                keyring.open::<serde_json::Value>(presented, &token),
                Err(TokenError::Invalid),
                "{minted} presented as {presented}"
            );
        }
    }

    #[test]
    fn case_4_wrong_secret_rejected() {
        let (keyring, _) = manual();
        let other = Keyring::new(OTHER).expect("valid");
        let token = other.seal("session", &1u8, Duration::from_secs(60));
        assert_eq!(
            keyring.open::<u8>("session", &token),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn case_8_short_secret_refused() {
        assert_eq!(
            Keyring::new([0u8; 63]).err(),
            Some(KeyError::TooShort { len: 63, min: 64 })
        );
        assert!(Keyring::new(b"").is_err());
        assert!(
            Keyring::new(SECRET)
                .expect("ok")
                .with_fallback([1u8; 10])
                .is_err()
        );
        let msg = KeyError::TooShort { len: 3, min: 64 }.to_string();
        assert!(msg.contains("at least 64 bytes"), "{msg}");
    }

    #[test]
    fn expiry_is_enforced_by_the_server() {
        let (keyring, clock) = manual();
        let token = keyring.seal("p", &1u8, Duration::from_secs(60));
        clock.advance(Duration::from_secs(60));
        assert_eq!(keyring.open::<u8>("p", &token), Ok(1));
        clock.advance(Duration::from_millis(1));
        assert_eq!(keyring.open::<u8>("p", &token), Err(TokenError::Expired));
    }

    #[test]
    fn case_22_future_iat_beyond_skew_rejected() {
        let (keyring, clock) = manual();
        clock.advance(Duration::from_secs(10));
        let token = keyring.seal("p", &1u8, Duration::from_secs(60));
        clock.rewind(Duration::from_secs(5));
        assert_eq!(keyring.open::<u8>("p", &token), Ok(1), "5 s skew tolerated");
        clock.rewind(Duration::from_millis(1));
        assert_eq!(
            keyring.open::<u8>("p", &token),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn case_7_rotation_fallback_opens_and_is_reported() {
        let (clock, _) = Clock::manual(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        let old = Keyring::new(OTHER).expect("ok").with_clock(clock.clone());
        let token = old.seal("session", &"data", Duration::from_secs(60));

        let rotated = Keyring::new(SECRET)
            .expect("ok")
            .with_fallback(OTHER)
            .expect("ok")
            .with_clock(clock.clone());
        assert_eq!(
            rotated.open_rotated::<String>("session", &token),
            Ok(("data".to_owned(), true))
        );
        let fresh = rotated.seal("session", &"data", Duration::from_secs(60));
        assert_eq!(
            rotated.open_rotated::<String>("session", &fresh),
            Ok(("data".to_owned(), false))
        );
        // The old keyring cannot open tokens from the new key (fallback is read-only).
        assert_eq!(
            old.open::<String>("session", &fresh),
            Err(TokenError::Invalid)
        );

        let retired = Keyring::new(SECRET).expect("ok").with_clock(clock);
        assert_eq!(
            retired.open::<String>("session", &token),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn case_16_wrong_types_and_deep_nesting_rejected_cleanly() {
        let (keyring, _) = manual();
        let token = keyring.seal("p", &json!({"a": "string"}), Duration::from_secs(60));
        assert_eq!(keyring.open::<u64>("p", &token), Err(TokenError::Invalid));

        // A deeply nested authenticated payload must not overflow the stack.
        let deep = format!("{}1{}", "[".repeat(3000), "]".repeat(3000));
        let (keyring2, _) = manual();
        let raw: serde_json::Value = serde_json::Value::String(deep);
        let token = keyring2.seal("p", &raw, Duration::from_secs(60));
        let s: String = keyring2.open("p", &token).expect("string payload is fine");
        let nested: Result<serde_json::Value, _> = serde_json::from_str(&s);
        assert!(nested.is_err(), "serde_json's recursion limit applies");
        let plain = format!(
            "{{\"iat\":0,\"exp\":99999999999999,\"data\":{}1{}}}",
            "[".repeat(3000),
            "]".repeat(3000)
        );
        let token = keyring2.seal_bytes("p", plain.as_bytes());
        assert_eq!(
            keyring2.open::<serde_json::Value>("p", &token),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn debug_redacts_keys() {
        let keyring = Keyring::new(SECRET).expect("ok");
        let dbg = format!("{keyring:?}");
        assert!(dbg.contains("redacted"), "{dbg}");
        assert!(!dbg.contains("66, 66"), "{dbg}");
        assert!(!dbg.to_lowercase().contains("4242424242"), "{dbg}");
    }

    #[test]
    fn many_purposes_still_work_beyond_cache() {
        let (keyring, _) = manual();
        for i in 0..(MAX_CACHED_PURPOSES + 5) {
            let purpose = format!("p{i}");
            let token = keyring.seal(&purpose, &i, Duration::from_secs(1));
            assert_eq!(keyring.open::<usize>(&purpose, &token), Ok(i));
        }
    }
}
