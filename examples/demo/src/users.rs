//! User accounts, password authentication, login throttling and server-side session tokens.
//!
//! Security properties (see /work/shared/reference/security.md):
//!
//! * Passwords are hashed with Argon2id at the OWASP minimum (`m=19456,t=2,p=1`, the
//!   `password-auth` defaults) on the blocking pool. Lengths are limited to
//!   [`MIN_PASSWORD_CHARS`]`..=`[`MAX_PASSWORD_CHARS`] characters and are never truncated.
//!   Hashes with weaker parameters are upgraded on the next successful login (case 63).
//! * Failed logins for an unknown email verify against a dummy hash, and every failure is the single
//!   [`AuthError::Invalid`], so responses and timing do not reveal which emails exist (R10, case 61).
//! * Logins are throttled per account, per client IP (when given) and globally, in memory. A
//!   throttled attempt gets the same [`AuthError::Invalid`], even with the right password (case 65).
//! * Session tokens are 32 random bytes handed out base64url-encoded; only their SHA-256 is stored,
//!   they expire after [`SESSION_VALIDITY`] and deleting the row revokes them (R1, R6, case 68).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::OptionalExtension as _;
use sha2::{Digest as _, Sha256};

use crate::db::{Db, DbError};

/// Minimum password length in characters (Unicode scalar values).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Maximum password length in characters. Longer input is rejected before hashing.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Maximum email length in bytes.
pub const MAX_EMAIL_LEN: usize = 160;
/// `user_tokens.context` of session tokens.
pub const SESSION_CONTEXT: &str = "session";
/// Token context of single-use login tickets (the live view to HTTP session handoff).
pub const HANDOFF_CONTEXT: &str = "login-handoff";
/// How long a login ticket can be consumed.
pub const HANDOFF_VALIDITY: Duration = Duration::from_secs(60);
/// How long a session token stays valid after it was created.
pub const SESSION_VALIDITY: Duration = Duration::from_secs(14 * 24 * 60 * 60);
/// Number of random bytes in a session token.
pub const SESSION_TOKEN_BYTES: usize = 32;

/// Argon2id parameters a stored hash must meet or exceed; weaker hashes are re-hashed on login.
const MIN_ARGON2_M_KIB: u32 = 19_456;
const MIN_ARGON2_T: u32 = 2;
const MIN_ARGON2_P: u32 = 1;

/// Source of the current time as Unix seconds. Replaceable for tests via [`Users::with_clock`].
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A registered user. Deliberately minimal: nothing here is secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Email address as registered (compared case-insensitively).
    pub email: String,
}

/// Storage failures. Callers should answer 500/503 (fail closed), never "logged in".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A password hashing task panicked or was cancelled.
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(getrandom::Error),
}

/// Why registration failed. The `Display` text is suitable for showing next to the form field
/// named by [`RegisterError::field`].
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The email does not look like `local@domain.tld`, or contains spaces, `,` or `;`.
    #[error("must have the @ sign and no spaces")]
    InvalidEmail,
    /// The email is longer than [`MAX_EMAIL_LEN`] bytes.
    #[error("should be at most {max} characters")]
    EmailTooLong {
        /// The limit.
        max: usize,
    },
    /// The password has fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("should be at least {min} characters")]
    PasswordTooShort {
        /// The limit.
        min: usize,
    },
    /// The password has more than [`MAX_PASSWORD_CHARS`] characters.
    #[error("should be at most {max} characters")]
    PasswordTooLong {
        /// The limit.
        max: usize,
    },
    /// An account with this email (compared case-insensitively) exists.
    #[error("has already been taken")]
    EmailTaken,
    /// Too many password hashing operations server-wide right now.
    #[error("too many attempts, please try again later")]
    Throttled,
    /// Storage failed.
    #[error("registration is temporarily unavailable")]
    Store(#[from] StoreError),
}

impl RegisterError {
    /// The form field the error belongs to (`"email"` or `"password"`), if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::InvalidEmail | Self::EmailTooLong { .. } | Self::EmailTaken => Some("email"),
            Self::PasswordTooShort { .. } | Self::PasswordTooLong { .. } => Some("password"),
            Self::Throttled | Self::Store(_) => None,
        }
    }
}

/// Why authentication failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown email, wrong password, malformed input or throttled: deliberately indistinguishable.
    #[error("invalid email or password")]
    Invalid,
    /// Storage failed; the caller should fail closed.
    #[error("authentication is temporarily unavailable")]
    Unavailable(#[source] StoreError),
}

/// Login throttling limits. Windows are sliding; counts are kept in memory per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failed logins allowed per account (email, case-insensitive) within `account_window`.
    pub account_max_failures: usize,
    /// Window for `account_max_failures`.
    pub account_window: Duration,
    /// Failed logins allowed per client IP within `peer_window` (only when the IP is known).
    pub peer_max_failures: usize,
    /// Window for `peer_max_failures`.
    pub peer_window: Duration,
    /// Password hashing operations (logins and registrations) allowed server-wide within
    /// `global_window`; protects the CPU from credential stuffing.
    pub global_max_attempts: usize,
    /// Window for `global_max_attempts`.
    pub global_window: Duration,
}

impl Default for ThrottleConfig {
    /// 5 failures / 15 min per account, 50 failures / 15 min per IP, 600 hashes / min overall.
    fn default() -> Self {
        Self {
            account_max_failures: 5,
            account_window: Duration::from_secs(15 * 60),
            peer_max_failures: 50,
            peer_window: Duration::from_secs(15 * 60),
            global_max_attempts: 600,
            global_window: Duration::from_secs(60),
        }
    }
}

/// The user store. Cheap to clone; clones share the database and the throttle state.
#[derive(Clone)]
pub struct Users {
    db: Db,
    throttle: Arc<Mutex<Throttle>>,
    clock: Clock,
    verifications: Arc<AtomicU64>,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users")
            .field("db", &self.db)
            .field("throttle", &self.lock_throttle().config)
            .finish_non_exhaustive()
    }
}

impl Users {
    /// Creates a store over `db` with the default [`ThrottleConfig`] and the system clock.
    ///
    /// ```
    /// use demo::{db::Db, users::{AuthError, Users}};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let users = Users::new(Db::open_in_memory().unwrap());
    /// let alice = users.register("alice@example.com", "correct horse battery").await.unwrap();
    /// assert_eq!(users.authenticate("ALICE@example.com", "correct horse battery").await.unwrap(), alice);
    /// assert!(matches!(users.authenticate("alice@example.com", "wrong password!").await, Err(AuthError::Invalid)));
    ///
    /// let token = users.create_session_token(alice.id).await.unwrap();
    /// assert_eq!(users.user_by_session_token(&token).await.unwrap(), Some(alice));
    /// users.delete_session_token(&token).await.unwrap();
    /// assert_eq!(users.user_by_session_token(&token).await.unwrap(), None);
    /// # });
    /// ```
    pub fn new(db: Db) -> Self {
        Self {
            db,
            throttle: Arc::new(Mutex::new(Throttle::new(ThrottleConfig::default()))),
            clock: Arc::new(system_now),
            verifications: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Replaces the throttle limits (and resets the throttle state).
    #[must_use]
    pub fn with_throttle(mut self, config: ThrottleConfig) -> Self {
        self.throttle = Arc::new(Mutex::new(Throttle::new(config)));
        self
    }

    /// Replaces the clock (Unix seconds); used by tests to simulate the passage of time.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The underlying database handle.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Computes the dummy hash used for unknown emails ahead of time, so the first failed login
    /// is not slower than later ones. Optional; call once at start-up.
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        tokio::task::spawn_blocking(|| {
            dummy_hash();
        })
        .await?;
        Ok(())
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    fn lock_throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new user after validating the email shape and the password length.
    ///
    /// The email is stored trimmed, with its case preserved; uniqueness ignores ASCII case.
    /// Registration necessarily reveals whether an email is taken (as in phx.gen.auth).
    pub async fn register(&self, email: &str, password: &str) -> Result<User, RegisterError> {
        let email = validate_email(email)?.to_owned();
        validate_password(password)?;
        if self.lock_throttle().begin_hash(self.now()).is_err() {
            tracing::warn!("registration refused: global password hashing limit reached");
            return Err(RegisterError::Throttled);
        }
        // Cheap check first, so a taken email costs no hashing; the UNIQUE index still decides.
        if self.user_by_email(&email).await?.is_some() {
            return Err(RegisterError::EmailTaken);
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || password_auth::generate_hash(password))
            .await
            .map_err(StoreError::from)?;
        let now = self.now();
        let insert_email = email.clone();
        let id = self
            .db
            .call(move |c| {
                c.query_row(
                    "INSERT INTO users (email, password_hash, inserted_at) VALUES (?1, ?2, ?3) \
                     RETURNING id",
                    rusqlite::params![insert_email, hash, now],
                    |r| r.get(0),
                )
            })
            .await
            .map_err(|e| {
                if e.is_unique_violation() {
                    RegisterError::EmailTaken
                } else {
                    RegisterError::Store(e.into())
                }
            })?;
        tracing::info!(user_id = id, "user registered");
        Ok(User { id, email })
    }

    /// Checks an email and password. Equivalent to [`Users::authenticate_from`] without a peer.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<User, AuthError> {
        self.authenticate_from(email, password, None).await
    }

    /// Checks an email and password, counting failures against the account, the client IP `peer`
    /// (if known) and the global limit.
    ///
    /// Every failure — unknown email, wrong password, over-long input, or throttled (even with the
    /// right password) — is [`AuthError::Invalid`]. Unknown emails cost one dummy Argon2
    /// verification, like a wrong password. On success the account's failure count is cleared and
    /// a hash with parameters below the current minimum is replaced.
    pub async fn authenticate_from(
        &self,
        email: &str,
        password: &str,
        peer: Option<IpAddr>,
    ) -> Result<User, AuthError> {
        let email = email.trim();
        // Malformed input is refused before any lookup or hashing; its shape reveals nothing
        // about which accounts exist.
        if email.is_empty()
            || email.len() > MAX_EMAIL_LEN
            || password.is_empty()
            || password.len() > MAX_PASSWORD_CHARS * 4
            || password.chars().count() > MAX_PASSWORD_CHARS
        {
            return Err(AuthError::Invalid);
        }
        let account = email.to_lowercase();
        let started = self.now();
        if let Err(denied) = self.lock_throttle().begin_login(&account, peer, started) {
            tracing::debug!(account = %fingerprint(&account), ?peer, ?denied, "login throttled");
            return Err(AuthError::Invalid);
        }

        let lookup = email.to_owned();
        let row = self
            .db
            .call(move |c| {
                c.query_row(
                    "SELECT id, email, password_hash FROM users WHERE email = ?1",
                    [lookup],
                    |r| Ok((user_from_row(r)?, r.get::<_, String>(2)?)),
                )
                .optional()
            })
            .await
            .map_err(|e| AuthError::Unavailable(e.into()))?;

        let stored_hash = row.as_ref().map(|(_, hash)| hash.clone());
        let candidate = password.to_owned();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let verified = tokio::task::spawn_blocking(move || {
            // Always touch the dummy hash so the first call costs the same on both paths.
            let dummy = dummy_hash();
            match stored_hash {
                Some(hash) => password_auth::verify_password(&candidate, &hash).is_ok(),
                None => {
                    let _ = password_auth::verify_password(&candidate, dummy);
                    false
                }
            }
        })
        .await
        .map_err(|e| AuthError::Unavailable(e.into()))?;

        match row {
            Some((user, hash)) if verified => {
                self.lock_throttle()
                    .login_succeeded(&account, peer, started);
                if hash_needs_rehash(&hash) {
                    self.upgrade_hash(user.id, hash, password.to_owned()).await;
                }
                tracing::info!(user_id = user.id, "login succeeded");
                Ok(user)
            }
            _ => {
                let now_locked = self.lock_throttle().account_locked(&account, self.now());
                if now_locked {
                    tracing::warn!(account = %fingerprint(&account), ?peer, "account locked after repeated failed logins");
                } else {
                    tracing::info!(account = %fingerprint(&account), ?peer, "login failed");
                }
                Err(AuthError::Invalid)
            }
        }
    }

    /// Re-hashes `password` with the current parameters, replacing `old_hash` unless it changed
    /// meanwhile. Failures are logged, not returned: the login itself already succeeded.
    async fn upgrade_hash(&self, user_id: i64, old_hash: String, password: String) {
        let new_hash =
            match tokio::task::spawn_blocking(move || password_auth::generate_hash(password)).await
            {
                Ok(hash) => hash,
                Err(e) => {
                    tracing::warn!(user_id, error = %e, "password re-hash failed");
                    return;
                }
            };
        let result = self
            .db
            .call(move |c| {
                c.execute(
                    "UPDATE users SET password_hash = ?1 WHERE id = ?2 AND password_hash = ?3",
                    rusqlite::params![new_hash, user_id, old_hash],
                )
            })
            .await;
        match result {
            Ok(_) => tracing::info!(user_id, "password hash upgraded to current parameters"),
            Err(e) => tracing::warn!(user_id, error = %e, "password re-hash not stored"),
        }
    }

    /// Looks a user up by email (trimmed, ASCII case-insensitive).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let email = email.trim().to_owned();
        Ok(self
            .db
            .call(move |c| {
                c.query_row(
                    "SELECT id, email FROM users WHERE email = ?1",
                    [email],
                    user_from_row,
                )
                .optional()
            })
            .await?)
    }

    /// Creates a session token for `user_id` and returns it (43 characters of base64url).
    ///
    /// Only the SHA-256 of the token is stored; the returned string is the bearer credential and
    /// belongs in the encrypted session cookie only (never in a URL, a flash or a log).
    pub async fn create_session_token(&self, user_id: i64) -> Result<String, StoreError> {
        let token = self.insert_token(user_id, SESSION_CONTEXT).await?;
        tracing::debug!(user_id, "session token created");
        Ok(token)
    }

    /// Resolves a session token to its user, if the token exists, is a session token and is
    /// younger than [`SESSION_VALIDITY`]. Malformed tokens resolve to `None`.
    pub async fn user_by_session_token(&self, token: &str) -> Result<Option<User>, StoreError> {
        let Some(hash) = token_hash(token) else {
            return Ok(None);
        };
        let oldest_valid = self.now() - validity_secs();
        Ok(self
            .db
            .call(move |c| {
                c.query_row(
                    "SELECT u.id, u.email FROM user_tokens t JOIN users u ON u.id = t.user_id \
                     WHERE t.token_hash = ?1 AND t.context = ?2 AND t.inserted_at > ?3",
                    rusqlite::params![hash, SESSION_CONTEXT, oldest_valid],
                    user_from_row,
                )
                .optional()
            })
            .await?)
    }

    /// Deletes one session token (logout). Returns whether a token was deleted; malformed or
    /// unknown tokens are not an error.
    pub async fn delete_session_token(&self, token: &str) -> Result<bool, StoreError> {
        let Some(hash) = token_hash(token) else {
            return Ok(false);
        };
        let deleted = self
            .db
            .call(move |c| {
                c.execute(
                    "DELETE FROM user_tokens WHERE token_hash = ?1 AND context = ?2",
                    rusqlite::params![hash, SESSION_CONTEXT],
                )
            })
            .await?;
        Ok(deleted > 0)
    }

    /// Creates a single-use login ticket for `user_id` (the handoff from a live view to the HTTP
    /// session, security.md R3): 256 random bits, only the SHA-256 stored, valid for
    /// [`HANDOFF_VALIDITY`], consumed atomically by [`Users::consume_login_ticket`].
    pub async fn create_login_ticket(&self, user_id: i64) -> Result<String, StoreError> {
        self.insert_token(user_id, HANDOFF_CONTEXT).await
    }

    /// Stores a new token of `context` for `user_id` and returns it: [`SESSION_TOKEN_BYTES`]
    /// random bytes, base64url-encoded. Only their SHA-256 is stored.
    async fn insert_token(
        &self,
        user_id: i64,
        context: &'static str,
    ) -> Result<String, StoreError> {
        let mut raw = [0u8; SESSION_TOKEN_BYTES];
        getrandom::fill(&mut raw).map_err(StoreError::Random)?;
        let hash = Sha256::digest(raw).to_vec();
        let now = self.now();
        self.db
            .call(move |c| {
                c.execute(
                    "INSERT INTO user_tokens (token_hash, user_id, context, inserted_at) \
                     VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![hash, user_id, context, now],
                )
            })
            .await?;
        Ok(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Consumes a login ticket: deletes it and returns its user if it existed and was younger
    /// than [`HANDOFF_VALIDITY`]. The delete is atomic, so of two concurrent consumers exactly
    /// one gets the user (security.md cases 18 and 20).
    pub async fn consume_login_ticket(&self, ticket: &str) -> Result<Option<User>, StoreError> {
        let Some(hash) = token_hash(ticket) else {
            return Ok(None);
        };
        let oldest_valid = self.now() - i64::try_from(HANDOFF_VALIDITY.as_secs()).unwrap_or(60);
        Ok(self
            .db
            .call(move |c| {
                let user_id: Option<i64> = c
                    .query_row(
                        "DELETE FROM user_tokens WHERE token_hash = ?1 AND context = ?2 \
                         RETURNING user_id, inserted_at",
                        rusqlite::params![hash, HANDOFF_CONTEXT],
                        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
                    )
                    .optional()?
                    .and_then(|(id, at)| (at >= oldest_valid).then_some(id));
                let Some(user_id) = user_id else {
                    return Ok(None);
                };
                c.query_row(
                    "SELECT id, email FROM users WHERE id = ?1",
                    [user_id],
                    user_from_row,
                )
                .optional()
            })
            .await?)
    }

    /// Deletes every token of a user, in every context (logout everywhere, password change).
    /// Returns how many were deleted.
    pub async fn delete_all_tokens(&self, user_id: i64) -> Result<usize, StoreError> {
        let deleted = self
            .db
            .call(move |c| c.execute("DELETE FROM user_tokens WHERE user_id = ?1", [user_id]))
            .await?;
        tracing::info!(user_id, deleted, "all tokens of user deleted");
        Ok(deleted)
    }

    /// Deletes expired session tokens. Lookups already ignore them; this only reclaims space.
    pub async fn purge_expired_tokens(&self) -> Result<usize, StoreError> {
        let oldest_valid = self.now() - validity_secs();
        Ok(self
            .db
            .call(move |c| {
                c.execute(
                    "DELETE FROM user_tokens WHERE context = ?1 AND inserted_at <= ?2",
                    rusqlite::params![SESSION_CONTEXT, oldest_valid],
                )
            })
            .await?)
    }

    #[cfg(test)]
    fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

/// A stable, non-secret identifier of a session token: base64url of its SHA-256, as stored in the
/// database. Suitable for log lines and for a per-login pub/sub topic
/// (`"users_sessions:" + id`) used to disconnect live sockets on logout. `None` if malformed.
///
/// ```
/// assert_eq!(demo::users::session_token_id("not a token"), None);
/// let id = demo::users::session_token_id(&"A".repeat(43)).unwrap();
/// assert_eq!(id.len(), 43);
/// ```
pub fn session_token_id(token: &str) -> Option<String> {
    token_hash(token).map(|hash| URL_SAFE_NO_PAD.encode(hash))
}

/// Validates an email's shape and length; returns it trimmed.
///
/// The rule is deliberately loose (as in phx.gen.auth): one `@`, no whitespace, `,` or `;`, and
/// a dot inside the domain.
///
/// ```
/// use demo::users::validate_email;
/// assert_eq!(validate_email("  bob@example.org ").unwrap(), "bob@example.org");
/// assert!(validate_email("bob@localhost").is_err());
/// assert!(validate_email("bob smith@example.org").is_err());
/// ```
pub fn validate_email(email: &str) -> Result<&str, RegisterError> {
    let email = email.trim();
    if email.len() > MAX_EMAIL_LEN {
        return Err(RegisterError::EmailTooLong { max: MAX_EMAIL_LEN });
    }
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == ',' || c == ';';
    let Some((local, domain)) = email.split_once('@') else {
        return Err(RegisterError::InvalidEmail);
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || domain.contains('@') || !domain_ok || email.contains(bad_char) {
        return Err(RegisterError::InvalidEmail);
    }
    Ok(email)
}

/// Validates a new password's length in characters: [`MIN_PASSWORD_CHARS`]`..=`[`MAX_PASSWORD_CHARS`].
///
/// ```
/// use demo::users::validate_password;
/// assert!(validate_password("twelve chars").is_ok());
/// assert!(validate_password("too short").is_err());
/// ```
pub fn validate_password(password: &str) -> Result<(), RegisterError> {
    if password.len() > MAX_PASSWORD_CHARS * 4 {
        return Err(RegisterError::PasswordTooLong {
            max: MAX_PASSWORD_CHARS,
        });
    }
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        Err(RegisterError::PasswordTooShort {
            min: MIN_PASSWORD_CHARS,
        })
    } else if chars > MAX_PASSWORD_CHARS {
        Err(RegisterError::PasswordTooLong {
            max: MAX_PASSWORD_CHARS,
        })
    } else {
        Ok(())
    }
}

/// Whether a stored PHC hash is weaker than Argon2id v19 with `m=19456,t=2,p=1` (or unparsable),
/// and should be replaced on the next successful login. Stronger parameters are kept.
///
/// ```
/// use demo::users::hash_needs_rehash;
/// assert!(!hash_needs_rehash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
/// assert!(!hash_needs_rehash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaA"));
/// assert!(hash_needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"));
/// assert!(hash_needs_rehash("$argon2i$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
/// ```
pub fn hash_needs_rehash(hash: &str) -> bool {
    let mut parts = hash.split('$');
    let (Some(""), Some("argon2id"), Some("v=19"), Some(params)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return true;
    };
    let (mut m, mut t, mut p) = (None, None, None);
    for param in params.split(',') {
        let Some((key, value)) = param.split_once('=') else {
            return true;
        };
        let Ok(value) = value.parse::<u32>() else {
            return true;
        };
        match key {
            "m" => m = Some(value),
            "t" => t = Some(value),
            "p" => p = Some(value),
            _ => {}
        }
    }
    !matches!((m, t, p), (Some(m), Some(t), Some(p))
        if m >= MIN_ARGON2_M_KIB && t >= MIN_ARGON2_T && p >= MIN_ARGON2_P)
}

/// SHA-256 of a well-formed token's raw bytes; `None` for anything else.
fn token_hash(token: &str) -> Option<Vec<u8>> {
    // 32 bytes are exactly 43 base64url characters; check before decoding untrusted input.
    if token.len() != 43 {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    (raw.len() == SESSION_TOKEN_BYTES).then(|| Sha256::digest(&raw).to_vec())
}

/// A [`User`] from a row whose first two columns are `id` and `email`.
fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
    })
}

fn validity_secs() -> i64 {
    window_secs(SESSION_VALIDITY)
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The Argon2 hash that unknown emails are verified against, with the same parameters as real
/// hashes. Its password is irrelevant: the result of that verification is always discarded.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| password_auth::generate_hash("livefire demo: no such user"))
}

/// A short pseudonymous tag for an account in logs, so lockouts can be correlated without
/// writing email addresses to the log.
fn fingerprint(account: &str) -> String {
    let digest = Sha256::digest(account.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Why an attempt was refused by the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Denied {
    Global,
    Account,
    Peer,
}

/// Sliding-window counters. Login attempts are recorded as failures when they *start* (so that
/// concurrent attempts cannot overshoot the limit) and the record is withdrawn on success.
#[derive(Debug)]
struct Throttle {
    config: ThrottleConfig,
    global: VecDeque<i64>,
    accounts: HashMap<String, VecDeque<i64>>,
    peers: HashMap<IpAddr, VecDeque<i64>>,
    last_prune: i64,
}

fn window_secs(window: Duration) -> i64 {
    i64::try_from(window.as_secs()).unwrap_or(i64::MAX)
}

/// Drops entries older than `window` and reports whether `max` entries remain.
fn expire_and_check(entries: &mut VecDeque<i64>, now: i64, window: Duration, max: usize) -> bool {
    let cutoff = now.saturating_sub(window_secs(window));
    while entries.front().is_some_and(|&t| t <= cutoff) {
        entries.pop_front();
    }
    entries.len() >= max
}

/// How often stale per-account and per-peer entries are swept, in seconds.
const PRUNE_INTERVAL_SECS: i64 = 60;

impl Throttle {
    fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            global: VecDeque::new(),
            accounts: HashMap::new(),
            peers: HashMap::new(),
            last_prune: i64::MIN,
        }
    }

    /// Sweeps idle keys so the maps stay bounded by what the global limit lets through.
    fn prune(&mut self, now: i64) {
        if now.saturating_sub(self.last_prune) < PRUNE_INTERVAL_SECS {
            return;
        }
        self.last_prune = now;
        let c = self.config;
        self.accounts.retain(|_, e| {
            expire_and_check(e, now, c.account_window, usize::MAX);
            !e.is_empty()
        });
        self.peers.retain(|_, e| {
            expire_and_check(e, now, c.peer_window, usize::MAX);
            !e.is_empty()
        });
    }

    /// Reserves one password hashing operation against the global limit.
    fn begin_hash(&mut self, now: i64) -> Result<(), Denied> {
        let c = self.config;
        if expire_and_check(
            &mut self.global,
            now,
            c.global_window,
            c.global_max_attempts,
        ) {
            return Err(Denied::Global);
        }
        self.global.push_back(now);
        if self.global.len() == c.global_max_attempts {
            tracing::warn!(
                limit = c.global_max_attempts,
                window_secs = c.global_window.as_secs(),
                "global password hashing limit reached; further logins are refused for now"
            );
        }
        Ok(())
    }

    /// Checks every applicable limit, then records the attempt as a (provisional) failure.
    fn begin_login(&mut self, account: &str, peer: Option<IpAddr>, now: i64) -> Result<(), Denied> {
        self.prune(now);
        let c = self.config;
        if let Some(entries) = self.accounts.get_mut(account)
            && expire_and_check(entries, now, c.account_window, c.account_max_failures)
        {
            return Err(Denied::Account);
        }
        if let Some(entries) = peer.and_then(|ip| self.peers.get_mut(&ip))
            && expire_and_check(entries, now, c.peer_window, c.peer_max_failures)
        {
            return Err(Denied::Peer);
        }
        self.begin_hash(now)?;
        self.accounts
            .entry(account.to_owned())
            .or_default()
            .push_back(now);
        if let Some(ip) = peer {
            self.peers.entry(ip).or_default().push_back(now);
        }
        Ok(())
    }

    /// Withdraws the provisional failure of a successful attempt and clears the account's
    /// failure history.
    fn login_succeeded(&mut self, account: &str, peer: Option<IpAddr>, started: i64) {
        self.accounts.remove(account);
        if let Some(entries) = peer.and_then(|ip| self.peers.get_mut(&ip))
            && let Some(pos) = entries.iter().position(|&t| t == started)
        {
            entries.remove(pos);
        }
    }

    fn account_locked(&mut self, account: &str, now: i64) -> bool {
        let c = self.config;
        self.accounts.get_mut(account).is_some_and(|entries| {
            expire_and_check(entries, now, c.account_window, c.account_max_failures)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicI64;
    use std::time::Instant;

    const PASSWORD: &str = "correct horse battery staple";
    const T0: i64 = 1_700_000_000;

    struct Fixture {
        _dir: tempfile::TempDir,
        users: Users,
        clock: Arc<AtomicI64>,
    }

    impl Fixture {
        fn advance(&self, secs: i64) {
            self.clock.fetch_add(secs, Ordering::SeqCst);
        }
    }

    fn fixture_with(config: ThrottleConfig) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("users.sqlite3")).unwrap();
        let clock = Arc::new(AtomicI64::new(T0));
        let c = Arc::clone(&clock);
        let users = Users::new(db)
            .with_throttle(config)
            .with_clock(move || c.load(Ordering::SeqCst));
        Fixture {
            _dir: dir,
            users,
            clock,
        }
    }

    fn fixture() -> Fixture {
        fixture_with(ThrottleConfig::default())
    }

    fn lenient() -> ThrottleConfig {
        ThrottleConfig {
            account_max_failures: 1000,
            peer_max_failures: 1000,
            global_max_attempts: 1000,
            ..ThrottleConfig::default()
        }
    }

    async fn stored_hash(users: &Users, id: i64) -> String {
        users
            .db()
            .call(move |c| {
                c.query_row("SELECT password_hash FROM users WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn register_then_authenticate() {
        let f = fixture();
        let user = f
            .users
            .register("  Alice@Example.com ", PASSWORD)
            .await
            .unwrap();
        assert_eq!(user.email, "Alice@Example.com");
        assert!(user.id > 0);
        let again = f
            .users
            .authenticate("alice@example.COM", PASSWORD)
            .await
            .unwrap();
        assert_eq!(again, user);
        assert_eq!(
            f.users.user_by_email("ALICE@example.com").await.unwrap(),
            Some(user.clone())
        );
        assert_eq!(
            f.users.user_by_email("bob@example.com").await.unwrap(),
            None
        );
        let bob = f.users.register("bob@example.com", PASSWORD).await.unwrap();
        assert_ne!(bob.id, user.id);
    }

    #[tokio::test]
    async fn register_validates_input_and_rejects_duplicates() {
        let f = fixture();
        for email in [
            "",
            "plain",
            "@example.com",
            "a@b",
            "a@.example.com",
            "a@example.com.",
            "a@example..com",
            "a b@example.com",
            "a@b@example.com",
            "a,b@example.com",
            "a;b@example.com",
            "a\u{0}b@example.com",
        ] {
            let err = f.users.register(email, PASSWORD).await.unwrap_err();
            assert!(
                matches!(err, RegisterError::InvalidEmail),
                "{email:?}: {err:?}"
            );
            assert_eq!(err.field(), Some("email"));
        }
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN));
        assert!(matches!(
            f.users.register(&long, PASSWORD).await,
            Err(RegisterError::EmailTooLong { max: 160 })
        ));

        let err = f
            .users
            .register("c@example.com", "eleven char")
            .await
            .unwrap_err();
        assert!(
            matches!(err, RegisterError::PasswordTooShort { min: 12 }),
            "{err:?}"
        );
        assert_eq!(err.field(), Some("password"));
        assert_eq!(err.to_string(), "should be at least 12 characters");
        assert!(matches!(
            f.users.register("c@example.com", &"x".repeat(129)).await,
            Err(RegisterError::PasswordTooLong { max: 128 })
        ));
        // Limits count characters, not bytes: 12 two-byte characters are enough...
        f.users
            .register("d@example.com", &"é".repeat(12))
            .await
            .unwrap();
        // ...and 128 four-byte characters (512 bytes) are still allowed.
        f.users
            .register("e@example.com", &"🔑".repeat(128))
            .await
            .unwrap();
        assert!(
            f.users
                .authenticate("e@example.com", &"🔑".repeat(128))
                .await
                .is_ok()
        );

        f.users
            .register("taken@example.com", PASSWORD)
            .await
            .unwrap();
        let err = f
            .users
            .register("TAKEN@example.com", "another password")
            .await
            .unwrap_err();
        assert!(matches!(err, RegisterError::EmailTaken), "{err:?}");
        // Only the original password works.
        assert!(
            f.users
                .authenticate("taken@example.com", "another password")
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn concurrent_duplicate_registration_yields_one_user() {
        let f = fixture();
        let (a, b) = tokio::join!(
            f.users.register("race@example.com", PASSWORD),
            f.users.register("RACE@example.com", PASSWORD)
        );
        let oks = [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count();
        assert_eq!(oks, 1, "{a:?} {b:?}");
        assert!(matches!(
            a.err().or(b.err()),
            Some(RegisterError::EmailTaken)
        ));
    }

    #[tokio::test]
    async fn case_61_wrong_password_and_unknown_email_are_indistinguishable() {
        let f = fixture_with(lenient());
        f.users
            .register("known@example.com", PASSWORD)
            .await
            .unwrap();
        f.users.warm_up().await.unwrap();

        let wrong = f
            .users
            .authenticate("known@example.com", "not the password")
            .await;
        let unknown = f.users.authenticate("nobody@example.com", PASSWORD).await;
        let (Err(wrong), Err(unknown)) = (wrong, unknown) else {
            panic!("both attempts must fail");
        };
        assert!(matches!(wrong, AuthError::Invalid));
        assert!(matches!(unknown, AuthError::Invalid));
        assert_eq!(wrong.to_string(), unknown.to_string());
        assert_eq!(wrong.to_string(), "invalid email or password");

        // Both paths run exactly one Argon2 verification...
        let before = f.users.verifications();
        let _ = f
            .users
            .authenticate("known@example.com", "not the password")
            .await;
        assert_eq!(f.users.verifications(), before + 1);
        let _ = f
            .users
            .authenticate("nobody@example.com", "not the password")
            .await;
        assert_eq!(f.users.verifications(), before + 2);

        // ...so their timing is comparable (without the dummy hash the unknown path would be
        // about 1000x faster). Loose bounds: other tests run in parallel on 2 cores.
        // Samples are interleaved so that load from other tests hits both paths alike.
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            for (email, samples) in [
                ("known@example.com", &mut known),
                ("nobody@example.com", &mut unknown),
            ] {
                let start = Instant::now();
                let _ = f.users.authenticate(email, "not the password").await;
                samples.push(start.elapsed());
            }
        }
        known.sort();
        unknown.sort();
        let (known, unknown) = (known[3], unknown[3]);
        let ratio = unknown.as_secs_f64() / known.as_secs_f64();
        assert!(
            (0.2..5.0).contains(&ratio),
            "median known {known:?} vs unknown {unknown:?}"
        );
    }

    #[tokio::test]
    async fn case_63_hash_is_argon2id_at_owasp_parameters() {
        let f = fixture();
        let user = f
            .users
            .register("hash@example.com", PASSWORD)
            .await
            .unwrap();
        let hash = stored_hash(&f.users, user.id).await;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!hash.contains(PASSWORD));
        assert!(!hash_needs_rehash(&hash));
    }

    #[tokio::test]
    async fn case_63_weaker_hash_is_rehashed_on_next_successful_login() {
        let f = fixture();
        // Argon2i, m=64 MiB, t=1 for the password "password" (password-auth's own test vector).
        let weak = "$argon2i$v=19$m=65536,t=1,p=1$c29tZXNhbHQAAAAAAAAAAA$+r0d29hqEB0yasKr55ZgICsQGSkl0v0kgwhd+U3wyRo";
        assert!(hash_needs_rehash(weak));
        let id: i64 = f
            .users
            .db()
            .call(move |c| {
                c.query_row(
                    "INSERT INTO users (email, password_hash, inserted_at) VALUES ('old@example.com', ?1, 0) RETURNING id",
                    [weak],
                    |r| r.get(0),
                )
            })
            .await
            .unwrap();
        // A failed login leaves the hash alone.
        assert!(
            f.users
                .authenticate("old@example.com", "wrong")
                .await
                .is_err()
        );
        assert_eq!(stored_hash(&f.users, id).await, weak);

        let user = f
            .users
            .authenticate("old@example.com", "password")
            .await
            .unwrap();
        assert_eq!(user.id, id);
        let upgraded = stored_hash(&f.users, id).await;
        assert!(
            upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{upgraded}"
        );
        assert!(
            f.users
                .authenticate("old@example.com", "password")
                .await
                .is_ok()
        );
    }

    #[test]
    fn hash_needs_rehash_compares_each_parameter() {
        let h = |s: &str| hash_needs_rehash(&format!("$argon2id$v=19${s}$c2FsdA$aGFzaA"));
        assert!(!h("m=19456,t=2,p=1"));
        assert!(!h("m=65536,t=3,p=4"), "stronger parameters are kept");
        assert!(
            h("m=47104,t=1,p=1"),
            "OWASP alternatives are normalised to the default"
        );
        assert!(h("m=19455,t=2,p=1"));
        assert!(h("m=19456,t=1,p=1"));
        assert!(h("m=19456,t=2,p=0"));
        assert!(h("m=19456,t=2"));
        assert!(h("m=x,t=2,p=1"));
        assert!(!h("p=1,t=2,m=19456"), "parameter order does not matter");
        assert!(hash_needs_rehash(
            "$argon2id$v=16$m=19456,t=2,p=1$c2FsdA$aGFzaA"
        ));
        assert!(hash_needs_rehash("$2b$12$abcdefghijklmnopqrstuv"));
        assert!(hash_needs_rehash(""));
    }

    #[tokio::test]
    async fn case_64_no_truncation_and_overlong_passwords_rejected_before_hashing() {
        let f = fixture_with(lenient());
        let base = "a".repeat(72);
        let registered = format!("{base}XXXXXXXX");
        let other = format!("{base}YYYYYYYY");
        assert_eq!(registered.len(), 80);
        f.users
            .register("long@example.com", &registered)
            .await
            .unwrap();
        assert!(matches!(
            f.users.authenticate("long@example.com", &other).await,
            Err(AuthError::Invalid)
        ));
        assert!(matches!(
            f.users.authenticate("long@example.com", &base).await,
            Err(AuthError::Invalid)
        ));
        assert!(
            f.users
                .authenticate("long@example.com", &registered)
                .await
                .is_ok()
        );

        // A 10 000-character password is refused without running Argon2, quickly.
        let huge = "p".repeat(10_000);
        let before = f.users.verifications();
        let start = Instant::now();
        assert!(matches!(
            f.users.register("huge@example.com", &huge).await,
            Err(RegisterError::PasswordTooLong { .. })
        ));
        assert!(matches!(
            f.users.authenticate("long@example.com", &huge).await,
            Err(AuthError::Invalid)
        ));
        assert!(
            start.elapsed() < Duration::from_millis(200),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(f.users.verifications(), before);
        assert_eq!(
            f.users.user_by_email("huge@example.com").await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn case_65_account_lockout_same_error_even_with_correct_password() {
        let f = fixture();
        let user = f
            .users
            .register("victim@example.com", PASSWORD)
            .await
            .unwrap();
        f.users
            .register("bystander@example.com", PASSWORD)
            .await
            .unwrap();
        for _ in 0..5 {
            let err = f
                .users
                .authenticate("victim@example.com", "guess guess guess")
                .await
                .unwrap_err();
            assert!(matches!(err, AuthError::Invalid));
        }
        // Locked: the right password gets the same generic error and no hashing happens.
        let before = f.users.verifications();
        let err = f
            .users
            .authenticate("VICTIM@example.com", PASSWORD)
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::Invalid));
        assert_eq!(err.to_string(), "invalid email or password");
        assert_eq!(
            f.users.verifications(),
            before,
            "no verification while locked"
        );
        // Other accounts are unaffected.
        assert!(
            f.users
                .authenticate("bystander@example.com", PASSWORD)
                .await
                .is_ok()
        );

        // Still locked just before the window ends, unlocked after.
        f.advance(15 * 60 - 1);
        assert!(
            f.users
                .authenticate("victim@example.com", PASSWORD)
                .await
                .is_err()
        );
        f.advance(1);
        assert_eq!(
            f.users
                .authenticate("victim@example.com", PASSWORD)
                .await
                .unwrap(),
            user
        );
    }

    #[tokio::test]
    async fn case_65_unknown_accounts_lock_too_and_success_resets_the_count() {
        let f = fixture();
        // Lockout does not depend on the account existing (no enumeration via lockout).
        for _ in 0..5 {
            assert!(
                f.users
                    .authenticate("ghost@example.com", PASSWORD)
                    .await
                    .is_err()
            );
        }
        f.users
            .register("ghost@example.com", PASSWORD)
            .await
            .unwrap();
        assert!(
            f.users
                .authenticate("ghost@example.com", PASSWORD)
                .await
                .is_err()
        );

        f.users
            .register("fine@example.com", PASSWORD)
            .await
            .unwrap();
        for _ in 0..4 {
            assert!(
                f.users
                    .authenticate("fine@example.com", "typo typo typo")
                    .await
                    .is_err()
            );
        }
        assert!(
            f.users
                .authenticate("fine@example.com", PASSWORD)
                .await
                .is_ok()
        );
        for _ in 0..4 {
            assert!(
                f.users
                    .authenticate("fine@example.com", "typo typo typo")
                    .await
                    .is_err()
            );
        }
        assert!(
            f.users
                .authenticate("fine@example.com", PASSWORD)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn case_65_parallel_guesses_cannot_overshoot_the_limit() {
        let f = fixture();
        f.users
            .register("target@example.com", PASSWORD)
            .await
            .unwrap();
        let before = f.users.verifications();
        let attempts: Vec<_> = (0..12)
            .map(|i| {
                let users = f.users.clone();
                tokio::spawn(async move {
                    users
                        .authenticate("target@example.com", &format!("guess number {i}"))
                        .await
                })
            })
            .collect();
        for attempt in attempts {
            assert!(matches!(attempt.await.unwrap(), Err(AuthError::Invalid)));
        }
        assert_eq!(f.users.verifications() - before, 5);
    }

    #[tokio::test]
    async fn case_65_per_ip_and_global_limits() {
        let f = fixture_with(ThrottleConfig {
            peer_max_failures: 3,
            ..ThrottleConfig::default()
        });
        f.users.register("p@example.com", PASSWORD).await.unwrap();
        let attacker: IpAddr = "203.0.113.9".parse().unwrap();
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        for i in 0..3 {
            let email = format!("spray{i}@example.com");
            assert!(
                f.users
                    .authenticate_from(&email, PASSWORD, Some(attacker))
                    .await
                    .is_err()
            );
        }
        let before = f.users.verifications();
        assert!(
            f.users
                .authenticate_from("p@example.com", PASSWORD, Some(attacker))
                .await
                .is_err()
        );
        assert_eq!(f.users.verifications(), before);
        assert!(
            f.users
                .authenticate_from("p@example.com", PASSWORD, Some(other))
                .await
                .is_ok()
        );
        assert!(
            f.users
                .authenticate("p@example.com", PASSWORD)
                .await
                .is_ok()
        );

        let g = fixture_with(ThrottleConfig {
            global_max_attempts: 3,
            ..ThrottleConfig::default()
        });
        g.users.register("g@example.com", PASSWORD).await.unwrap(); // 1 hash
        assert!(
            g.users
                .authenticate("x@example.com", PASSWORD)
                .await
                .is_err()
        ); // 2
        assert!(
            g.users
                .authenticate("g@example.com", PASSWORD)
                .await
                .is_ok()
        ); // 3
        assert!(
            g.users
                .authenticate("g@example.com", PASSWORD)
                .await
                .is_err()
        );
        assert!(matches!(
            g.users.register("h@example.com", PASSWORD).await,
            Err(RegisterError::Throttled)
        ));
        g.advance(60);
        assert!(
            g.users
                .authenticate("g@example.com", PASSWORD)
                .await
                .is_ok()
        );
    }

    #[test]
    fn throttle_state_is_pruned() {
        let mut t = Throttle::new(ThrottleConfig::default());
        for i in 0..100 {
            t.begin_login(&format!("user{i}@example.com"), None, T0)
                .unwrap();
        }
        assert_eq!(t.accounts.len(), 100);
        t.begin_login("late@example.com", None, T0 + 15 * 60)
            .unwrap();
        assert_eq!(t.accounts.len(), 1);
    }

    #[tokio::test]
    async fn session_token_create_lookup_and_storage() {
        let f = fixture();
        let user = f.users.register("tok@example.com", PASSWORD).await.unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        let token2 = f.users.create_session_token(user.id).await.unwrap();
        assert_eq!(token.len(), 43);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(token, token2);
        assert_eq!(
            f.users.user_by_session_token(&token).await.unwrap(),
            Some(user.clone())
        );
        assert_eq!(
            f.users.user_by_session_token(&token2).await.unwrap(),
            Some(user.clone())
        );

        // Only the SHA-256 of the token is stored.
        let rows: Vec<(Vec<u8>, String)> = f
            .users
            .db()
            .call(|c| {
                let mut s = c.prepare("SELECT token_hash, context FROM user_tokens")?;
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
            })
            .await
            .unwrap();
        let raw = URL_SAFE_NO_PAD.decode(&token).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(
            rows.iter()
                .all(|(hash, ctx)| hash != &raw && ctx == "session")
        );
        assert!(
            rows.iter()
                .any(|(hash, _)| hash[..] == Sha256::digest(&raw)[..])
        );
        assert_eq!(
            session_token_id(&token).unwrap(),
            URL_SAFE_NO_PAD.encode(Sha256::digest(&raw))
        );

        // Tokens for a non-existent user cannot be created.
        assert!(f.users.create_session_token(9999).await.is_err());
    }

    #[tokio::test]
    async fn malformed_session_tokens_resolve_to_nobody() {
        let f = fixture();
        let user = f.users.register("m@example.com", PASSWORD).await.unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        let mut flipped = token.clone().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let raw_hash =
            URL_SAFE_NO_PAD.encode(Sha256::digest(URL_SAFE_NO_PAD.decode(&token).unwrap()));
        for bad in [
            String::new(),
            "garbage".to_owned(),
            format!("{token}A"),
            token[..42].to_owned(),
            "!".repeat(43),
            "A".repeat(10_000),
            flipped,
            raw_hash, // the stored hash is not itself a credential
        ] {
            assert_eq!(
                f.users.user_by_session_token(&bad).await.unwrap(),
                None,
                "{bad:?}"
            );
            assert!(!f.users.delete_session_token(&bad).await.unwrap());
        }
        assert_eq!(
            f.users.user_by_session_token(&token).await.unwrap(),
            Some(user)
        );
    }

    #[tokio::test]
    async fn case_68_deleted_session_token_no_longer_resolves() {
        let f = fixture();
        let user = f
            .users
            .register("logout@example.com", PASSWORD)
            .await
            .unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        let other = f.users.create_session_token(user.id).await.unwrap();
        assert!(
            f.users
                .user_by_session_token(&token)
                .await
                .unwrap()
                .is_some()
        );
        assert!(f.users.delete_session_token(&token).await.unwrap());
        assert_eq!(f.users.user_by_session_token(&token).await.unwrap(), None);
        assert!(
            !f.users.delete_session_token(&token).await.unwrap(),
            "second logout is a no-op"
        );
        // Logging out one session leaves the others.
        assert_eq!(
            f.users.user_by_session_token(&other).await.unwrap(),
            Some(user)
        );
    }

    #[tokio::test]
    async fn case_69_delete_all_tokens_revokes_every_session_of_that_user_only() {
        let f = fixture();
        let a = f.users.register("a@example.com", PASSWORD).await.unwrap();
        let b = f.users.register("b@example.com", PASSWORD).await.unwrap();
        let a1 = f.users.create_session_token(a.id).await.unwrap();
        let a2 = f.users.create_session_token(a.id).await.unwrap();
        let b1 = f.users.create_session_token(b.id).await.unwrap();
        assert_eq!(f.users.delete_all_tokens(a.id).await.unwrap(), 2);
        assert_eq!(f.users.user_by_session_token(&a1).await.unwrap(), None);
        assert_eq!(f.users.user_by_session_token(&a2).await.unwrap(), None);
        assert_eq!(
            f.users.user_by_session_token(&b1).await.unwrap(),
            Some(b.clone())
        );

        // Deleting the user cascades to its tokens.
        let b_id = b.id;
        f.users
            .db()
            .call(move |c| c.execute("DELETE FROM users WHERE id = ?1", [b_id]))
            .await
            .unwrap();
        assert_eq!(f.users.user_by_session_token(&b1).await.unwrap(), None);
    }

    #[tokio::test]
    async fn case_13_session_token_expires_after_14_days() {
        let f = fixture();
        let user = f.users.register("exp@example.com", PASSWORD).await.unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        let fourteen_days = 14 * 24 * 60 * 60;
        f.advance(fourteen_days - 1);
        assert_eq!(
            f.users.user_by_session_token(&token).await.unwrap(),
            Some(user)
        );
        assert_eq!(f.users.purge_expired_tokens().await.unwrap(), 0);
        f.advance(1);
        assert_eq!(f.users.user_by_session_token(&token).await.unwrap(), None);
        assert_eq!(f.users.purge_expired_tokens().await.unwrap(), 1);
        assert!(
            !f.users.delete_session_token(&token).await.unwrap(),
            "already purged"
        );
    }

    /// security.md cases 17, 18 and 20: a login ticket works once, within 60 s.
    #[tokio::test]
    async fn case_17_18_login_ticket_is_single_use_and_expires_after_60s() {
        let f = fixture();
        let user = f
            .users
            .register("ticket@example.com", PASSWORD)
            .await
            .unwrap();

        let ticket = f.users.create_login_ticket(user.id).await.unwrap();
        assert_eq!(
            f.users.user_by_session_token(&ticket).await.unwrap(),
            None,
            "not a session"
        );
        f.advance(59);
        assert_eq!(
            f.users.consume_login_ticket(&ticket).await.unwrap(),
            Some(user.clone())
        );
        assert_eq!(
            f.users.consume_login_ticket(&ticket).await.unwrap(),
            None,
            "single use"
        );

        let late = f.users.create_login_ticket(user.id).await.unwrap();
        f.advance(61);
        assert_eq!(
            f.users.consume_login_ticket(&late).await.unwrap(),
            None,
            "expired"
        );
        assert_eq!(f.users.consume_login_ticket("garbage").await.unwrap(), None);

        let raced = f.users.create_login_ticket(user.id).await.unwrap();
        let (a, b) = tokio::join!(
            f.users.consume_login_ticket(&raced),
            f.users.consume_login_ticket(&raced)
        );
        let winners = [a.unwrap(), b.unwrap()]
            .iter()
            .filter(|u| u.is_some())
            .count();
        assert_eq!(winners, 1);
    }

    #[tokio::test]
    async fn tokens_of_other_contexts_are_not_sessions() {
        let f = fixture();
        let user = f.users.register("ctx@example.com", PASSWORD).await.unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        f.users
            .db()
            .call(|c| c.execute("UPDATE user_tokens SET context = 'login-handoff'", []))
            .await
            .unwrap();
        assert_eq!(f.users.user_by_session_token(&token).await.unwrap(), None);
        assert!(!f.users.delete_session_token(&token).await.unwrap());
        assert_eq!(f.users.delete_all_tokens(user.id).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn database_failure_fails_closed() {
        let f = fixture();
        let user = f
            .users
            .register("down@example.com", PASSWORD)
            .await
            .unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        f.users
            .db()
            .call(|c| c.execute_batch("DROP TABLE user_tokens"))
            .await
            .unwrap();
        assert!(f.users.user_by_session_token(&token).await.is_err());
        f.users
            .db()
            .call(|c| c.execute_batch("DROP TABLE users"))
            .await
            .unwrap();
        assert!(matches!(
            f.users.authenticate("down@example.com", PASSWORD).await,
            Err(AuthError::Unavailable(_))
        ));
    }
}
