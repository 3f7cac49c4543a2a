//! The demo's storage behind one trait, [`Store`], with two implementations: SQLite
//! ([`crate::db::Db`], the embedded default: one file under `DATA_DIR`) and PostgreSQL
//! ([`postgres::PgStore`], chosen with `DATABASE_URL=postgres://…`, so that several demo nodes
//! share users, logins and login tickets).
//!
//! The trait holds the queries only: validation, password hashing, throttling, token
//! generation and the clock stay in [`crate::users::Users`] and [`crate::avatars::Avatars`],
//! which hold an [`AnyStore`] and behave the same on either backend. Both backends have their
//! own ordered migrations (`crate::db::MIGRATIONS`, [`postgres::MIGRATIONS`]) creating the same
//! tables, and `tests/store.rs` runs one test suite against each.

pub mod postgres;
mod sqlite;

use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::db::{Db, DbError};
use crate::users::User;

/// What every store method returns.
pub type StoreFuture<'a, T> = BoxFuture<'a, Result<T, DbError>>;

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server (`DATABASE_URL`).
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// A session token row as the session lookup sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The token's user.
    pub user: User,
    /// `session` or `session_remember`.
    pub context: String,
    /// When the token was created (Unix seconds): the reissue age counts from here.
    pub inserted_at: i64,
    /// When the token was last used (Unix seconds): the idle timeout counts from here.
    pub last_used_at: i64,
    /// The SHA-256 of the first token of this login: a reissued token keeps its login's id, so
    /// logging out ends every token of the login.
    pub login_id: Vec<u8>,
}

/// A token to insert.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// SHA-256 of the token (32 bytes).
    pub hash: Vec<u8>,
    /// Its user.
    pub user_id: i64,
    /// Its context (`session`, `session_remember`).
    pub context: &'static str,
    /// Creation time (Unix seconds), also its first use.
    pub now: i64,
    /// The login it belongs to (its own hash for a new login).
    pub login_id: Vec<u8>,
}

/// Which session tokens are still valid: created after `plain` (plain tokens) or `remembered`
/// ("remember me" tokens), and used after `idle` (`i64::MIN`: no idle limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Oldest valid `inserted_at` of a plain session token.
    pub plain: i64,
    /// Oldest valid `inserted_at` of a "remember me" session token.
    pub remembered: i64,
    /// Oldest valid `last_used_at`.
    pub idle: i64,
}

/// An avatar row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarRow {
    /// The file's UUID.
    pub file_id: String,
    /// Its MIME type.
    pub content_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// When it was saved (Unix seconds).
    pub updated_at: i64,
}

/// The demo's storage: users, session tokens and avatars. Implemented by [`Db`] (SQLite) and
/// [`postgres::PgStore`]. Every method is one atomic statement or transaction.
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// How many migrations the database has applied.
    fn schema_version(&self) -> StoreFuture<'_, i64>;

    /// Inserts a user; `None` if the email (ASCII case-insensitively) is taken.
    fn insert_user(
        &self,
        email: String,
        password_hash: String,
        now: i64,
    ) -> StoreFuture<'_, Option<i64>>;

    /// The user with this email (ASCII case-insensitively), disabled or not.
    fn user_by_email(&self, email: String) -> StoreFuture<'_, Option<User>>;

    /// The enabled user with this email and its password hash (the login's lookup).
    fn login_by_email(&self, email: String) -> StoreFuture<'_, Option<(User, String)>>;

    /// Replaces a user's password hash; with `expected`, only if the stored hash is still that
    /// one. Returns whether a row changed.
    fn set_password_hash(
        &self,
        user_id: i64,
        hash: String,
        expected: Option<String>,
    ) -> StoreFuture<'_, bool>;

    /// The stored password hash of a user (for checks and tests).
    fn password_hash(&self, user_id: i64) -> StoreFuture<'_, Option<String>>;

    /// Disables (keeping the first time) or enables a user.
    fn set_disabled(&self, user_id: i64, disabled: bool, now: i64) -> StoreFuture<'_, ()>;

    /// Inserts a token (fails if its user does not exist).
    fn insert_token(&self, token: NewToken) -> StoreFuture<'_, ()>;

    /// The session token `hash` with its user, if it is a valid session token of an enabled
    /// user.
    fn session(&self, hash: Vec<u8>, cutoffs: Cutoffs) -> StoreFuture<'_, Option<SessionRow>>;

    /// Records a use of the token `hash` at `now`.
    fn touch_token(&self, hash: Vec<u8>, now: i64) -> StoreFuture<'_, ()>;

    /// Deletes the session token `hash` and every other session token of its login
    /// (reissued ones); returns the hashes deleted.
    fn delete_login(&self, hash: Vec<u8>) -> StoreFuture<'_, Vec<Vec<u8>>>;

    /// Of `hashes`, those of valid session tokens of enabled users.
    fn valid_session_hashes(
        &self,
        hashes: Vec<Vec<u8>>,
        cutoffs: Cutoffs,
    ) -> StoreFuture<'_, Vec<Vec<u8>>>;

    /// Deletes every session token of a user; returns their hashes.
    fn delete_session_tokens(&self, user_id: i64) -> StoreFuture<'_, Vec<Vec<u8>>>;

    /// The context of the token `hash`, if it exists.
    fn token_context(&self, hash: Vec<u8>) -> StoreFuture<'_, Option<String>>;

    /// Deletes every token of a user; returns how many.
    fn delete_all_tokens(&self, user_id: i64) -> StoreFuture<'_, u64>;

    /// Deletes the session tokens that are no longer valid; returns how many.
    fn purge_tokens(&self, cutoffs: Cutoffs) -> StoreFuture<'_, u64>;

    /// How many tokens are stored (every context).
    fn count_tokens(&self) -> StoreFuture<'_, u64>;

    /// The avatar of a user.
    fn avatar(&self, user_id: i64) -> StoreFuture<'_, Option<AvatarRow>>;

    /// Sets the avatar of a user; returns the previous one's `(file_id, content_type)`.
    fn put_avatar(
        &self,
        user_id: i64,
        avatar: AvatarRow,
    ) -> StoreFuture<'_, Option<(String, String)>>;
}

/// A shared handle to either store. Cheap to clone.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use demo::store::{AnyStore, Backend};
/// let store = AnyStore::from(demo::db::Db::open_in_memory().unwrap());
/// assert_eq!(store.backend(), Backend::Sqlite);
/// assert!(store.sqlite().is_some());
/// assert_eq!(store.count_tokens().await.unwrap(), 0);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct AnyStore {
    store: Arc<dyn Store>,
    sqlite: Option<Db>,
    postgres: Option<postgres::PgStore>,
}

impl AnyStore {
    /// A PostgreSQL store.
    pub fn postgres(store: postgres::PgStore) -> Self {
        Self {
            store: Arc::new(store.clone()),
            sqlite: None,
            postgres: Some(store),
        }
    }

    /// The SQLite database, when this is one (its file also holds the login tickets).
    pub fn sqlite(&self) -> Option<&Db> {
        self.sqlite.as_ref()
    }

    /// The PostgreSQL store, when this is one.
    pub fn as_postgres(&self) -> Option<&postgres::PgStore> {
        self.postgres.as_ref()
    }
}

impl From<Db> for AnyStore {
    fn from(db: Db) -> Self {
        Self {
            store: Arc::new(db.clone()),
            sqlite: Some(db),
            postgres: None,
        }
    }
}

impl From<postgres::PgStore> for AnyStore {
    fn from(store: postgres::PgStore) -> Self {
        Self::postgres(store)
    }
}

impl std::ops::Deref for AnyStore {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

/// Opens the PostgreSQL store a `DATABASE_URL` names (`postgres://…` or `postgresql://…`) and
/// applies its migrations; any other scheme is [`DbError::UnsupportedUrl`].
pub async fn open_url(url: &str) -> Result<AnyStore, DbError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(AnyStore::postgres(postgres::PgStore::connect(url).await?))
    } else {
        Err(DbError::UnsupportedUrl)
    }
}
