//! User accounts, password authentication, login throttling and server-side session tokens.
//!
//! Security properties (docs/threat-model.md):
//!
//! * Passwords are hashed with Argon2id at the OWASP minimum (`m=19456,t=2,p=1`, the `argon2`
//!   crate's defaults). Lengths are limited to
//!   [`MIN_PASSWORD_CHARS`]`..=`[`MAX_PASSWORD_CHARS`] characters and are never truncated.
//!   Hashes with weaker parameters are upgraded on the next successful login (case 63; see
//!   [`password`]).
//! * Every hash and verification runs on the [password pool](pool): a fixed number of threads
//!   (one per core by default) behind a short queue. When the queue is full, logins and
//!   registrations are refused at once with [`AuthError::Busy`] / [`RegisterError::Busy`],
//!   without hashing. Argon2 memory is therefore bounded by `threads × 19 MiB` (38 MiB on two
//!   cores) however many clients log in at once (R8).
//! * Failed logins for an unknown email verify against a dummy hash, and every failure is the single
//!   [`AuthError::Invalid`], so responses and timing do not reveal which emails exist (R10, case 61).
//! * Throttling never locks anybody out ([`throttle`]): per client address, failed logins,
//!   registrations and attempts in progress are limited; per account, repeated failures make
//!   each further attempt wait a growing, capped delay (case 65). There is no global limit
//!   that an anonymous client could exhaust for everyone.
//! * Session tokens are 32 random bytes handed out base64url-encoded; only their SHA-256 is stored,
//!   they expire after [`SESSION_VALIDITY`](tokens::SESSION_VALIDITY) and deleting the row revokes
//!   them (R1, R6, case 68; see [`tokens`]).

pub mod password;
pub mod pool;
pub mod throttle;
pub mod tokens;

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};

use self::pool::{PasswordPool, PoolConfig, PoolError};
use self::throttle::{Denied, Outcome, Throttle, ThrottleConfig};
use crate::db::{Db, DbError};
use crate::store::AnyStore;

pub use self::tokens::SessionPolicy;

/// Minimum password length in characters (Unicode scalar values).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Maximum password length in characters. Longer input is rejected before hashing.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Maximum email length in bytes.
pub const MAX_EMAIL_LEN: usize = 160;
/// What a login or registration answers when the password pool is full, or when the client's
/// address already has attempts in progress.
pub const BUSY_MESSAGE: &str = "Too many sign-in attempts right now, please try again in a moment.";

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
    /// A password hashing job panicked, or the pool stopped.
    #[error("password hashing failed: {0}")]
    Password(#[from] PoolError),
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
    /// The client's address made too many registrations recently.
    #[error("too many attempts, please try again later")]
    Throttled,
    /// The password pool is full (or the address has a registration in progress): refused
    /// without hashing.
    #[error("{BUSY_MESSAGE}")]
    Busy,
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
            Self::Throttled | Self::Busy | Self::Store(_) => None,
        }
    }
}

/// Why authentication failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown email, wrong password, malformed input or an address over its limit:
    /// deliberately indistinguishable.
    #[error("invalid email or password")]
    Invalid,
    /// The password pool is full, or this address already has attempts in progress: refused
    /// at once, before any lookup, so it says nothing about the account.
    #[error("{BUSY_MESSAGE}")]
    Busy,
    /// Storage failed; the caller should fail closed.
    #[error("authentication is temporarily unavailable")]
    Unavailable(#[source] StoreError),
}

/// The user store. Cheap to clone; clones share the database, the password pool and the
/// throttle state.
#[derive(Clone)]
pub struct Users {
    store: AnyStore,
    policy: SessionPolicy,
    throttle: Arc<Mutex<Throttle>>,
    pool: PasswordPool,
    clock: Clock,
    verifications: Arc<AtomicU64>,
    delayed: Arc<AtomicU64>,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users")
            .field("store", &self.store)
            .field("policy", &self.policy)
            .field("pool", &self.pool)
            .field("throttle", &self.lock_throttle().config)
            .finish_non_exhaustive()
    }
}

/// One admitted login or registration: when dropped (also when the caller goes away) it tells
/// the throttle how the attempt ended and that it is no longer in progress.
struct Attempt<'a> {
    throttle: &'a Mutex<Throttle>,
    peer: Option<IpAddr>,
    /// The account and start time of a login (none for a registration).
    login: Option<(String, i64)>,
    outcome: Outcome,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        let mut throttle = self.throttle.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((account, started)) = &self.login {
            throttle.finish_login(account, self.peer, *started, self.outcome);
        }
        throttle.leave(self.peer);
    }
}

impl Users {
    /// Creates a store over `store` (a SQLite [`Db`] or a
    /// [`PgStore`](crate::store::postgres::PgStore)) with the default [`ThrottleConfig`], a
    /// [`PasswordPool`] of the default size, the default [`SessionPolicy`] and the system clock.
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
    pub fn new(store: impl Into<AnyStore>) -> Self {
        Self {
            store: store.into(),
            policy: SessionPolicy::default(),
            throttle: Arc::new(Mutex::new(Throttle::new(ThrottleConfig::default()))),
            pool: PasswordPool::new(PoolConfig::default()),
            clock: Arc::new(system_now),
            verifications: Arc::new(AtomicU64::new(0)),
            delayed: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Replaces the throttle limits (and resets the throttle state).
    #[must_use]
    pub fn with_throttle(mut self, config: ThrottleConfig) -> Self {
        self.throttle = Arc::new(Mutex::new(Throttle::new(config)));
        self
    }

    /// Replaces the password pool with one of the given size (the old one's threads stop once
    /// no clone uses it).
    #[must_use]
    pub fn with_pool(mut self, config: PoolConfig) -> Self {
        self.pool = PasswordPool::new(config);
        self
    }

    /// Replaces the clock (Unix seconds); used by tests to simulate the passage of time.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Replaces the idle timeout and reissue age of session tokens.
    #[must_use]
    pub fn with_session_policy(mut self, policy: SessionPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The idle timeout and reissue age of session tokens.
    pub fn session_policy(&self) -> SessionPolicy {
        self.policy
    }

    /// The store (SQLite or PostgreSQL).
    pub fn store(&self) -> &AnyStore {
        &self.store
    }

    /// The SQLite database, when the store is one.
    pub fn db(&self) -> Option<&Db> {
        self.store.sqlite()
    }

    /// The password pool (its size and how busy it is).
    pub fn pool(&self) -> &PasswordPool {
        &self.pool
    }

    /// Argon2 verifications run so far (logins that reached the password check).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Login attempts that had to wait because of their account's recent failures.
    pub fn delayed_logins(&self) -> u64 {
        self.delayed.load(Ordering::Relaxed)
    }

    /// Computes the dummy hash used for unknown emails ahead of time, so the first failed login
    /// is not slower than later ones. Optional; call once at start-up.
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        if let Some(slot) = self.pool.try_reserve() {
            password::warm_up(slot).await?;
        }
        Ok(())
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    fn lock_throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new user without a client address (the command line). See
    /// [`Users::register_from`].
    pub async fn register(&self, email: &str, password: &str) -> Result<User, RegisterError> {
        self.register_from(email, password, None).await
    }

    /// Registers a new user after validating the email shape and the password length.
    ///
    /// The email is stored trimmed, with its case preserved; uniqueness ignores ASCII case.
    /// Registration necessarily reveals whether an email is taken (as in phx.gen.auth). Attempts
    /// that pass validation count against the client address `peer` (when known):
    /// [`RegisterError::Throttled`] past its limit, [`RegisterError::Busy`] while it has an
    /// attempt in progress or when the password pool is full.
    pub async fn register_from(
        &self,
        email: &str,
        password: &str,
        peer: Option<IpAddr>,
    ) -> Result<User, RegisterError> {
        let email = validate_email(email)?.to_owned();
        validate_password(password)?;
        match self.lock_throttle().begin_registration(peer, self.now()) {
            Ok(()) => {}
            Err(Denied::Busy) => return Err(RegisterError::Busy),
            Err(denied) => {
                tracing::warn!(
                    ?peer,
                    ?denied,
                    "registration refused: address limit reached"
                );
                return Err(RegisterError::Throttled);
            }
        }
        let _attempt = Attempt {
            throttle: &self.throttle,
            peer,
            login: None,
            outcome: Outcome::NotTried,
        };
        // Cheap check first, so a taken email costs no hashing; the UNIQUE index still decides.
        if self.user_by_email(&email).await?.is_some() {
            return Err(RegisterError::EmailTaken);
        }
        let Some(slot) = self.pool.try_reserve() else {
            tracing::warn!(?peer, "registration refused: the password pool is full");
            return Err(RegisterError::Busy);
        };
        let hash = password::hash(slot, password.to_owned()).await?;
        let now = self.now();
        let id = self
            .store
            .insert_user(email.clone(), hash, now)
            .await
            .map_err(|e| RegisterError::Store(e.into()))?
            .ok_or(RegisterError::EmailTaken)?;
        tracing::info!(user_id = id, "user registered");
        Ok(User { id, email })
    }

    /// Checks an email and password. Equivalent to [`Users::authenticate_from`] without a peer.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<User, AuthError> {
        self.authenticate_from(email, password, None).await
    }

    /// Checks an email and password, counting failures against the account and the client
    /// address `peer` (if known; see [`throttle`]).
    ///
    /// Every failure — unknown email, wrong password, over-long input, or an address over its
    /// failure limit (even with the right password) — is [`AuthError::Invalid`]. An account
    /// with recent failures makes the attempt wait first (then it is checked normally). When
    /// the password pool is full, or the address already has attempts in progress, the answer
    /// is [`AuthError::Busy`] at once, before any lookup. Unknown emails cost one dummy Argon2
    /// verification, like a wrong password. On success the account's failures are cleared and
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
        let delay = match self.lock_throttle().begin_login(&account, peer, started) {
            Ok(delay) => delay,
            Err(Denied::Busy) => {
                tracing::debug!(?peer, "login refused: attempts already in progress");
                return Err(AuthError::Busy);
            }
            Err(denied) => {
                tracing::debug!(account = %fingerprint(&account), ?peer, ?denied, "login throttled");
                return Err(AuthError::Invalid);
            }
        };
        let mut attempt = Attempt {
            throttle: &self.throttle,
            peer,
            login: Some((account.clone(), started)),
            outcome: Outcome::Failed,
        };
        if !delay.is_zero() {
            self.delayed.fetch_add(1, Ordering::Relaxed);
            let (failures, first) = {
                let mut throttle = self.lock_throttle();
                let first = delay == throttle.config.account_base_delay;
                (throttle.account_failures(&account, started), first)
            };
            let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            let account = fingerprint(&account);
            // Once per series at warn level (the account starts being slowed down); the
            // further delays of an ongoing attack at debug level.
            if first {
                tracing::warn!(%account, ?peer, failures, delay_ms, "login delayed after repeated failures for this account");
            } else {
                tracing::debug!(%account, ?peer, failures, delay_ms, "login delayed");
            }
            tokio::time::sleep(delay).await;
        }
        // A place in the pool before anything else: when it is full, refuse at once.
        let Some(slot) = self.pool.try_reserve() else {
            attempt.outcome = Outcome::NotTried;
            tracing::warn!(?peer, "login refused: the password pool is full");
            return Err(AuthError::Busy);
        };

        // A disabled account is looked up as an unknown one: the same dummy verification,
        // the same generic error (docs/threat-model.md case 72).
        let row = self
            .store
            .login_by_email(email.to_owned())
            .await
            .map_err(|e| {
                attempt.outcome = Outcome::NotTried;
                AuthError::Unavailable(e.into())
            })?;

        let stored_hash = row.as_ref().map(|(_, hash)| hash.clone());
        let candidate = password.to_owned();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let verified = password::verify(slot, candidate, stored_hash)
            .await
            .map_err(|e| {
                attempt.outcome = Outcome::NotTried;
                AuthError::Unavailable(e)
            })?;

        match row {
            Some((user, hash)) if verified => {
                attempt.outcome = Outcome::Succeeded;
                drop(attempt);
                if password::hash_needs_rehash(&hash) {
                    self.upgrade_hash(user.id, hash, password.to_owned()).await;
                }
                tracing::info!(user_id = user.id, "login succeeded");
                Ok(user)
            }
            _ => {
                tracing::info!(account = %fingerprint(&account), ?peer, "login failed");
                Err(AuthError::Invalid)
            }
        }
    }

    /// Re-hashes `password` with the current parameters, replacing `old_hash` unless it changed
    /// meanwhile. Failures are logged, not returned: the login itself already succeeded.
    async fn upgrade_hash(&self, user_id: i64, old_hash: String, password: String) {
        let Some(slot) = self.pool.try_reserve() else {
            tracing::info!(
                user_id,
                "password re-hash postponed: the password pool is full"
            );
            return;
        };
        let new_hash = match password::hash(slot, password).await {
            Ok(hash) => hash,
            Err(e) => {
                tracing::warn!(user_id, error = %e, "password re-hash failed");
                return;
            }
        };
        let result = self
            .store
            .set_password_hash(user_id, new_hash, Some(old_hash))
            .await;
        match result {
            Ok(_) => tracing::info!(user_id, "password hash upgraded to current parameters"),
            Err(e) => tracing::warn!(user_id, error = %e, "password re-hash not stored"),
        }
    }

    /// Disables (`true`) or enables the account `email`. Disabling deletes every token of the
    /// account, so re-enabling it does not bring old logins back; a disabled account cannot
    /// log in (the generic error) and its logins are refused at the next request, mount and
    /// live socket revalidation. Returns the account, or `None` if no account has that email.
    pub async fn set_disabled(
        &self,
        email: &str,
        disabled: bool,
    ) -> Result<Option<User>, StoreError> {
        let Some(user) = self.user_by_email(email).await? else {
            return Ok(None);
        };
        self.store
            .set_disabled(user.id, disabled, self.now())
            .await?;
        if disabled {
            self.delete_all_tokens(user.id).await?;
        }
        tracing::info!(user_id = user.id, disabled, "account state changed");
        Ok(Some(user))
    }

    /// Changes `user`'s password: `current` must verify (checked as a login is, throttling
    /// included, against `peer`), `new` must pass [`validate_password`]; the new hash is made in
    /// the password pool. Revoking the other sessions is the caller's next step
    /// ([`Users::replace_session_tokens`]).
    pub async fn change_password(
        &self,
        user: &User,
        current: &str,
        new: &str,
        peer: Option<IpAddr>,
    ) -> Result<(), ChangePasswordError> {
        validate_password(new).map_err(ChangePasswordError::Invalid)?;
        match self.authenticate_from(&user.email, current, peer).await {
            Ok(found) if found.id == user.id => {}
            Ok(_) | Err(AuthError::Invalid) => return Err(ChangePasswordError::WrongPassword),
            Err(AuthError::Busy) => return Err(ChangePasswordError::Busy),
            Err(AuthError::Unavailable(err)) => return Err(ChangePasswordError::Store(err)),
        }
        let Some(slot) = self.pool.try_reserve() else {
            return Err(ChangePasswordError::Busy);
        };
        let hash = password::hash(slot, new.to_owned()).await?;
        self.store
            .set_password_hash(user.id, hash, None)
            .await
            .map_err(StoreError::from)?;
        tracing::info!(user_id = user.id, "password changed");
        Ok(())
    }

    /// Looks a user up by email (trimmed, ASCII case-insensitive).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        Ok(self.store.user_by_email(email.trim().to_owned()).await?)
    }
}

/// Why [`Users::change_password`] changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    /// The current password did not verify (or the attempt was throttled).
    #[error("is not your current password")]
    WrongPassword,
    /// The new password is too short or too long.
    #[error("{0}")]
    Invalid(RegisterError),
    /// The password pool is full.
    #[error("{BUSY_MESSAGE}")]
    Busy,
    /// The store or the hashing failed.
    #[error("the password cannot be changed right now")]
    Store(#[from] StoreError),
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

/// The system clock as Unix seconds: the default [`Clock`].
fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `window` in whole seconds, saturated to `i64`.
fn window_secs(window: Duration) -> i64 {
    i64::try_from(window.as_secs()).unwrap_or(i64::MAX)
}

/// A short pseudonymous tag for an account in logs, so lockouts can be correlated without
/// writing email addresses to the log.
fn fingerprint(account: &str) -> String {
    let digest = Sha256::digest(account.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::sync::atomic::AtomicI64;

    pub(super) const PASSWORD: &str = "correct horse battery staple";
    pub(super) const T0: i64 = 1_700_000_000;

    pub(super) struct Fixture {
        _dir: tempfile::TempDir,
        pub(super) users: Users,
        clock: Arc<AtomicI64>,
    }

    impl Fixture {
        pub(super) fn advance(&self, secs: i64) {
            self.clock.fetch_add(secs, Ordering::SeqCst);
        }
    }

    pub(super) fn fixture_with(config: ThrottleConfig) -> Fixture {
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

    pub(super) fn fixture() -> Fixture {
        fixture_with(ThrottleConfig::default())
    }

    pub(super) fn lenient() -> ThrottleConfig {
        ThrottleConfig {
            account_free_failures: 1000,
            peer_max_failures: 1000,
            ..ThrottleConfig::default()
        }
    }

    /// Progressive delays short enough for tests: 100 ms, 200 ms, 400 ms, … up to 1 s.
    pub(super) fn quick_delays() -> ThrottleConfig {
        ThrottleConfig {
            account_base_delay: Duration::from_millis(100),
            account_max_delay: Duration::from_secs(1),
            ..ThrottleConfig::default()
        }
    }

    pub(super) async fn stored_hash(users: &Users, id: i64) -> String {
        users.store().password_hash(id).await.unwrap().unwrap()
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
            .unwrap()
            .call(|c| c.execute_batch("DROP TABLE user_tokens"))
            .await
            .unwrap();
        assert!(f.users.user_by_session_token(&token).await.is_err());
        f.users
            .db()
            .unwrap()
            .call(|c| c.execute_batch("DROP TABLE users"))
            .await
            .unwrap();
        assert!(matches!(
            f.users.authenticate("down@example.com", PASSWORD).await,
            Err(AuthError::Unavailable(_))
        ));
    }
}
