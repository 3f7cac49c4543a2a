//! SQLite storage: opening, pragmas, schema migrations and async access.
//!
//! One connection is shared behind a mutex and every query runs on tokio's blocking pool, so
//! async tasks never block on disk I/O. That serialises queries, which is plenty for the demo.
//!
//! Migrations are an ordered list of SQL scripts ([`MIGRATIONS`]). `PRAGMA user_version` holds how
//! many have been applied; pending ones run in a single `IMMEDIATE` transaction together with the
//! version bump, so a crash or a concurrent start never leaves a half-migrated database.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

/// How long a query waits for a lock held by another connection before failing with `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations, applied in order. Never edit or reorder a released entry; append new ones.
pub const MIGRATIONS: &[&str] = &[
    // 1: users and their tokens (sessions and, later, other contexts).
    "CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT UNIQUE NOT NULL COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        inserted_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE user_tokens (
        token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        context TEXT NOT NULL,
        inserted_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX user_tokens_user_id ON user_tokens (user_id);",
    // 2: one avatar per user: the file `<file_id>.<ext>` in the avatar directory
    // (see crate::avatars), its type (found in the file's first bytes) and size.
    "CREATE TABLE avatars (
        user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        file_id TEXT UNIQUE NOT NULL CHECK (length(file_id) = 36),
        content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
        size INTEGER NOT NULL CHECK (size >= 0),
        updated_at INTEGER NOT NULL
    ) STRICT;",
    // 3: disabled accounts (`demo disable EMAIL`): refused at login and at every request.
    "ALTER TABLE users ADD COLUMN disabled_at INTEGER;",
    // 4: idle timeout and reissue of session tokens: when a token was last used, and the
    // login it belongs to (the hash of the login's first token; NULL: the token's own hash).
    "ALTER TABLE user_tokens ADD COLUMN last_used_at INTEGER;
    ALTER TABLE user_tokens ADD COLUMN login_id BLOB;
    CREATE INDEX user_tokens_login_id ON user_tokens (login_id);",
];

/// Errors from the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The directory holding the database file could not be created.
    #[error("cannot create database directory {path}: {source}")]
    CreateDir {
        /// Directory that could not be created.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The database file could not be created.
    #[error("cannot create database file {path}: {source}")]
    CreateFile {
        /// File that could not be created.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The database was migrated by a newer version of the program.
    #[error(
        "database schema version {found} is newer than this program supports ({supported}); \
         refusing to touch it"
    )]
    SchemaTooNew {
        /// `user_version` found in the file.
        found: i64,
        /// Number of migrations this build knows.
        supported: usize,
    },
    /// The SQLite library ignores `PRAGMA foreign_keys`, so `ON DELETE CASCADE` would not work.
    #[error("SQLite was built without foreign key support")]
    ForeignKeysUnsupported,
    /// The blocking task running the query panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// PostgreSQL reported an error.
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    #[error("PostgreSQL pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The PostgreSQL pool could not be built from `DATABASE_URL`.
    #[error("PostgreSQL pool cannot be built: {0}")]
    PoolBuild(#[from] deadpool_postgres::BuildError),
    /// `DATABASE_URL` names neither `postgres://` nor `postgresql://`.
    #[error("DATABASE_URL must start with postgres:// or postgresql://")]
    UnsupportedUrl,
    /// The PostgreSQL schema was migrated by a newer version of the program.
    #[error(
        "PostgreSQL schema version {found} is newer than this program supports ({supported}); \
         refusing to touch it"
    )]
    PgSchemaTooNew {
        /// Version found in `demo_schema`.
        found: i64,
        /// Number of migrations this build knows.
        supported: usize,
    },
}

impl DbError {
    /// Whether this is a `UNIQUE` (or primary key) constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Self::Sqlite(e) => matches!(
                e.sqlite_extended_error_code(),
                Some(
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                )
            ),
            _ => false,
        }
    }
}

/// A cheaply clonable handle to the database. Queries run via [`Db::call`] on a blocking thread.
#[derive(Debug, Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    /// The database file (`None` in memory).
    path: Option<Arc<Path>>,
}

impl Db {
    /// Opens (creating if needed) the database file, sets the pragmas (WAL journal, foreign keys,
    /// busy timeout, `synchronous=NORMAL`) and applies pending migrations.
    ///
    /// Missing parent directories are created with mode 0700 and a new file with mode 0600 (Unix),
    /// since the database holds password hashes. This blocks; call it at
    /// start-up or from `spawn_blocking`.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(parent)?;
        }
        create_private_file(path)?;
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, path = %path.display(), "SQLite refused WAL journal mode");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        migrate(&mut conn)?;
        Ok(Self::from_connection(conn, Some(path)))
    }

    /// Opens a private in-memory database with the schema applied (for tests and examples).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let db = demo::db::Db::open_in_memory().unwrap();
    /// let n: i64 = db
    ///     .call(|c| c.query_row("SELECT count(*) FROM users", [], |r| r.get(0)))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(n, 0);
    /// # });
    /// ```
    pub fn open_in_memory() -> Result<Self, DbError> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        migrate(&mut conn)?;
        Ok(Self::from_connection(conn, None))
    }

    fn from_connection(conn: Connection, path: Option<&Path>) -> Self {
        Self {
            conn: Arc::new(Mutex::new(conn)),
            path: path.map(Arc::from),
        }
    }

    /// The database file, or `None` for an in-memory database. Other components may open
    /// their own connections to it (the session-ticket store does).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs `f` with exclusive access to the connection on tokio's blocking pool.
    ///
    /// Use `conn.transaction()` inside `f` for multi-statement atomicity. Must be called from
    /// within a tokio runtime.
    pub async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic inside an earlier closure poisons the mutex; any transaction it held was
            // rolled back when dropped, so the connection itself is still usable.
            let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut guard)
        })
        .await?
        .map_err(DbError::from)
    }

    /// The schema version (`PRAGMA user_version`) of the open database.
    pub async fn schema_version(&self) -> Result<i64, DbError> {
        self.call(|c| c.pragma_query_value(None, "user_version", |r| r.get(0)))
            .await
    }
}

fn configure(conn: &Connection) -> Result<(), DbError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    let enabled: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    if !enabled {
        return Err(DbError::ForeignKeysUnsupported);
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<(), DbError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| DbError::CreateDir {
        path: dir.to_owned(),
        source,
    })
}

/// Creates an empty database file readable only by its owner (it holds password hashes), unless
/// it already exists. SQLite gives its `-wal` and `-shm` files the same permissions.
fn create_private_file(path: &Path) -> Result<(), DbError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(DbError::CreateFile {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Applies every migration in [`MIGRATIONS`] not yet recorded in `PRAGMA user_version`, all in
/// one transaction. Idempotent; refuses a database from a newer build.
pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    migrate_with(conn, MIGRATIONS)
}

fn migrate_with(conn: &mut Connection, migrations: &[&str]) -> Result<(), DbError> {
    // IMMEDIATE takes the write lock up front, so two processes starting together serialise here
    // and the second one sees the first one's version.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let applied = usize::try_from(current)
        .ok()
        .filter(|&n| n <= migrations.len())
        .ok_or(DbError::SchemaTooNew {
            found: current,
            supported: migrations.len(),
        })?;
    if applied == migrations.len() {
        return Ok(()); // dropping `tx` rolls back the (empty) transaction
    }
    for (index, sql) in migrations.iter().enumerate().skip(applied) {
        tracing::info!(version = index + 1, "applying database migration");
        tx.execute_batch(sql)?;
    }
    let target = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    tx.pragma_update(None, "user_version", target)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn version(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn migrations_are_idempotent_on_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("demo.sqlite3");
        drop(Db::open(&path).unwrap());
        // Reopen: nothing is re-applied (CREATE TABLE would fail if it were).
        let db = Db::open(&path).unwrap();
        drop(db);
        let mut conn = Connection::open(&path).unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn), i64::try_from(MIGRATIONS.len()).unwrap());
        assert_eq!(tables(&conn), ["avatars", "user_tokens", "users"]);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for file in ["demo.sqlite3", "demo.sqlite3-wal", "demo.sqlite3-shm"] {
                let meta = std::fs::metadata(path.with_file_name(file)).unwrap();
                assert_eq!(meta.permissions().mode() & 0o077, 0, "{file} is private");
            }
        }
    }

    #[test]
    fn pending_migrations_apply_in_order_and_failures_roll_back() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_with(&mut conn, &["CREATE TABLE a (x INTEGER)"]).unwrap();
        assert_eq!(version(&conn), 1);
        migrate_with(
            &mut conn,
            &[
                "CREATE TABLE a (x INTEGER)",
                "CREATE TABLE b (y INTEGER)",
                "CREATE TABLE c (z)",
            ],
        )
        .unwrap();
        assert_eq!(version(&conn), 3);
        assert_eq!(tables(&conn), ["a", "b", "c"]);

        // Migration 4 succeeds, 5 fails: neither table 'd' nor the version bump survive.
        let err = migrate_with(
            &mut conn,
            &[
                "CREATE TABLE a (x INTEGER)",
                "CREATE TABLE b (y INTEGER)",
                "CREATE TABLE c (z)",
                "CREATE TABLE d (w)",
                "THIS IS NOT SQL",
            ],
        )
        .unwrap_err();
        assert!(matches!(err, DbError::Sqlite(_)), "{err:?}");
        assert_eq!(version(&conn), 3);
        assert_eq!(tables(&conn), ["a", "b", "c"]);
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(
            matches!(err, DbError::SchemaTooNew { found: 99, .. }),
            "{err:?}"
        );
        assert!(tables(&conn).is_empty());
    }

    #[tokio::test]
    async fn foreign_keys_cascade_and_unique_email_is_case_insensitive() {
        let db = Db::open_in_memory().unwrap();
        assert_eq!(db.schema_version().await.unwrap(), 4);
        db.call(|c| {
            c.execute(
                "INSERT INTO users (id, email, password_hash, inserted_at) VALUES (1, 'A@x.io', 'h', 0)",
                [],
            )?;
            c.execute(
                "INSERT INTO user_tokens (token_hash, user_id, context, inserted_at) \
                 VALUES (zeroblob(32), 1, 'session', 0)",
                [],
            )
        })
        .await
        .unwrap();

        let dup = db
            .call(|c| {
                c.execute(
                    "INSERT INTO users (email, password_hash, inserted_at) VALUES ('a@X.IO', 'h', 0)",
                    [],
                )
            })
            .await
            .unwrap_err();
        assert!(dup.is_unique_violation(), "{dup:?}");

        let orphan = db
            .call(|c| {
                c.execute(
                    "INSERT INTO user_tokens VALUES (randomblob(32), 42, 'session', 0)",
                    [],
                )
            })
            .await
            .unwrap_err();
        assert!(!orphan.is_unique_violation());

        let tokens = db
            .call(|c| {
                c.execute("DELETE FROM users WHERE id = 1", [])?;
                c.query_row("SELECT count(*) FROM user_tokens", [], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .await
            .unwrap();
        assert_eq!(tokens, 0, "ON DELETE CASCADE removed the token");
    }

    #[tokio::test]
    async fn a_panicking_query_does_not_wedge_the_handle() {
        let db = Db::open_in_memory().unwrap();
        let err = db
            .call(|_| -> rusqlite::Result<()> { panic!("boom") })
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Task(_)));
        assert_eq!(db.schema_version().await.unwrap(), 4);
    }
}
