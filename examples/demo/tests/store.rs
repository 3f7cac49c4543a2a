//! One test suite for both stores behind `demo::store::Store`: every test runs on SQLite (a
//! temporary file) and on PostgreSQL (`DATABASE_URL`, each test in a schema of its own).
//! `bash scripts/test.sh` starts a private PostgreSQL server and sets `DATABASE_URL`; without
//! it the PostgreSQL half fails with a message saying so (never skipped).
//!
//! Time is an injected clock (`Users::with_clock`), so expiry, the idle timeout, reissue and
//! purging are tested without waiting. Tests are named after docs/threat-model.md cases where
//! they cover one.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use demo::db::Db;
use demo::store::postgres::{MIGRATIONS as PG_MIGRATIONS, PgStore};
use demo::store::{AnyStore, AvatarRow, Backend};
use demo::users::tokens::session_token_id;
use demo::users::{AuthError, RegisterError, SessionPolicy, Users};
use livefire::session::{TicketKey, TicketStore};

const PASSWORD: &str = "correct horse battery";
const T0: i64 = 1_700_000_000;
const DAY: i64 = 24 * 60 * 60;

/// A store of one backend, a clock, and what keeps the store alive.
struct Ctx {
    users: Users,
    clock: Arc<AtomicI64>,
    pg: Option<(PgStore, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Ctx {
    fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }

    fn backend(&self) -> Backend {
        self.users.store().backend()
    }

    /// Drops the test's PostgreSQL schema.
    async fn finish(self) {
        if let Some((pg, schema)) = self.pg {
            pg.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .expect("drop the test schema");
        }
    }
}

fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "DATABASE_URL is not set: the PostgreSQL half of this suite needs a server \
             (bash scripts/test.sh starts one; or eval \"$(bash scripts/postgres.sh start)\")"
        )
    })
}

/// A schema name no other test (or test process) uses.
fn fresh_schema() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "t_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

async fn ctx(backend: Backend) -> Ctx {
    let clock = Arc::new(AtomicI64::new(T0));
    let (store, pg, dir) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("demo.sqlite3");
            let db = tokio::task::spawn_blocking(move || Db::open(&path))
                .await
                .expect("task")
                .expect("open SQLite");
            (AnyStore::from(db), None, Some(dir))
        }
        Backend::Postgres => {
            let schema = fresh_schema();
            let pg = PgStore::connect_in_schema(&database_url(), Some(&schema))
                .await
                .unwrap_or_else(|err| panic!("PostgreSQL at DATABASE_URL is unusable: {err}"));
            (AnyStore::from(pg.clone()), Some((pg, schema)), None)
        }
    };
    let c = Arc::clone(&clock);
    let users = Users::new(store).with_clock(move || c.load(Ordering::SeqCst));
    Ctx {
        users,
        clock,
        pg,
        _dir: dir,
    }
}

/// Runs each test body on both backends: `name::sqlite` and `name::postgres`.
macro_rules! both_backends {
    ($($name:ident;)*) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let ctx = super::ctx(super::Backend::Sqlite).await;
                    super::$name(&ctx).await;
                    ctx.finish().await;
                }

                #[tokio::test]
                async fn postgres() {
                    let ctx = super::ctx(super::Backend::Postgres).await;
                    super::$name(&ctx).await;
                    ctx.finish().await;
                }
            }
        )*
    };
}

both_backends! {
    migrations_are_applied_and_idempotent;
    registration_is_unique_ignoring_case;
    case_72_disabled_accounts_cannot_log_in;
    case_68_logout_deletes_the_login;
    case_13_70_tokens_expire_at_their_validity;
    case_14_idle_session_is_refused;
    case_15_old_token_is_reissued_in_the_same_login;
    case_15_concurrent_reissues_all_stay_signed_in;
    case_69_password_change_replaces_every_session;
    expired_and_idle_tokens_are_purged;
    background_purge_runs_at_its_interval;
    avatars_are_replaced_and_returned;
}

async fn migrations_are_applied_and_idempotent(ctx: &Ctx) {
    let store = ctx.users.store();
    let expected = match ctx.backend() {
        Backend::Sqlite => demo::db::MIGRATIONS.len(),
        Backend::Postgres => PG_MIGRATIONS.len(),
    };
    assert_eq!(
        store.schema_version().await.unwrap(),
        i64::try_from(expected).unwrap()
    );
    match (store.sqlite(), &ctx.pg) {
        (Some(db), _) => {
            let path = db.path().unwrap().to_owned();
            let again = tokio::task::spawn_blocking(move || Db::open(&path))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                again.schema_version().await.unwrap(),
                i64::try_from(expected).unwrap()
            );
        }
        (None, Some((pg, schema))) => {
            // A second node connecting to the same schema applies nothing twice (CREATE TABLE
            // would fail if it did), and two at once serialise on the advisory lock.
            let url = database_url();
            let (a, b) = tokio::join!(
                PgStore::connect_in_schema(&url, Some(schema)),
                PgStore::connect_in_schema(&url, Some(schema))
            );
            a.unwrap();
            b.unwrap();
            pg.migrate().await.unwrap();
            // A schema from a newer build is refused, untouched.
            pg.batch_execute("UPDATE demo_schema_version SET version = 99")
                .await
                .unwrap();
            let err = pg.migrate().await.unwrap_err();
            assert!(err.to_string().contains("newer"), "{err}");
            pg.batch_execute(&format!(
                "UPDATE demo_schema_version SET version = {expected}"
            ))
            .await
            .unwrap();
        }
        (None, None) => unreachable!("a store is SQLite or PostgreSQL"),
    }
}

async fn registration_is_unique_ignoring_case(ctx: &Ctx) {
    let users = &ctx.users;
    let alice = users.register("Alice@Example.com", PASSWORD).await.unwrap();
    assert_eq!(
        users
            .authenticate("alice@example.COM", PASSWORD)
            .await
            .unwrap(),
        alice
    );
    assert_eq!(
        users.user_by_email("ALICE@example.com").await.unwrap(),
        Some(alice.clone())
    );
    assert!(matches!(
        users
            .register("ALICE@example.com", "another password!")
            .await,
        Err(RegisterError::EmailTaken)
    ));
    assert!(matches!(
        users
            .authenticate("alice@example.com", "another password!")
            .await,
        Err(AuthError::Invalid)
    ));
    // Two registrations of one email at once: exactly one account.
    let (a, b) = tokio::join!(
        users.register("race@example.com", PASSWORD),
        users.register("RACE@example.com", PASSWORD)
    );
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1);
    assert!(matches!(
        a.err().or(b.err()),
        Some(RegisterError::EmailTaken)
    ));
    let bob = users.register("bob@example.com", PASSWORD).await.unwrap();
    assert_ne!(bob.id, alice.id);
}

async fn case_72_disabled_accounts_cannot_log_in(ctx: &Ctx) {
    let users = &ctx.users;
    let user = users.register("off@example.com", PASSWORD).await.unwrap();
    let token = users.create_session_token(user.id).await.unwrap();
    let id = session_token_id(&token).unwrap();
    assert_eq!(
        users.set_disabled("OFF@example.com", true).await.unwrap(),
        Some(user.clone())
    );
    assert!(matches!(
        users.authenticate("off@example.com", PASSWORD).await,
        Err(AuthError::Invalid)
    ));
    assert_eq!(users.user_by_session_token(&token).await.unwrap(), None);
    assert!(
        users
            .valid_session_token_ids(vec![id])
            .await
            .unwrap()
            .is_empty()
    );
    users.set_disabled("off@example.com", false).await.unwrap();
    assert!(
        users
            .authenticate("off@example.com", PASSWORD)
            .await
            .is_ok()
    );
    // Its old login stays revoked.
    assert_eq!(users.user_by_session_token(&token).await.unwrap(), None);
}

async fn case_68_logout_deletes_the_login(ctx: &Ctx) {
    let users = &ctx.users;
    let user = users.register("out@example.com", PASSWORD).await.unwrap();
    let token = users.create_session_token(user.id).await.unwrap();
    let other = users.create_session_token(user.id).await.unwrap();
    assert_eq!(
        users.user_by_session_token(&token).await.unwrap(),
        Some(user.clone())
    );
    let deleted = users.delete_login(&token).await.unwrap();
    assert_eq!(deleted, vec![session_token_id(&token).unwrap()]);
    assert_eq!(users.user_by_session_token(&token).await.unwrap(), None);
    assert!(users.delete_login(&token).await.unwrap().is_empty());
    assert!(users.delete_login("not a token").await.unwrap().is_empty());
    // Another login of the same user is untouched.
    assert_eq!(
        users.user_by_session_token(&other).await.unwrap(),
        Some(user)
    );
}

async fn case_13_70_tokens_expire_at_their_validity(ctx: &Ctx) {
    let users = ctx.users.clone().with_session_policy(SessionPolicy {
        idle_timeout: None,
        ..SessionPolicy::default()
    });
    let user = users.register("exp@example.com", PASSWORD).await.unwrap();
    let plain = users.create_session_token(user.id).await.unwrap();
    let remembered = users
        .create_remembered_session_token(user.id)
        .await
        .unwrap();
    assert!(
        users
            .is_remembered_session_token(&remembered)
            .await
            .unwrap()
    );
    assert!(!users.is_remembered_session_token(&plain).await.unwrap());
    ctx.advance(14 * DAY - 1);
    assert!(users.user_by_session_token(&plain).await.unwrap().is_some());
    ctx.advance(1);
    assert_eq!(users.user_by_session_token(&plain).await.unwrap(), None);
    assert!(
        users
            .user_by_session_token(&remembered)
            .await
            .unwrap()
            .is_some()
    );
    let ids = vec![
        session_token_id(&plain).unwrap(),
        session_token_id(&remembered).unwrap(),
    ];
    assert_eq!(
        users.valid_session_token_ids(ids.clone()).await.unwrap(),
        [session_token_id(&remembered).unwrap()]
            .into_iter()
            .collect()
    );
    ctx.advance(46 * DAY);
    assert_eq!(
        users.user_by_session_token(&remembered).await.unwrap(),
        None
    );
    assert!(users.valid_session_token_ids(ids).await.unwrap().is_empty());
}

/// Idle timeout: a login unused for longer than the timeout is refused; each use (at most
/// one write per `touch_every`) keeps it alive; revalidation of an open live view ignores
/// idleness (the view is in use).
async fn case_14_idle_session_is_refused(ctx: &Ctx) {
    let users = ctx.users.clone().with_session_policy(SessionPolicy {
        idle_timeout: Some(Duration::from_secs(3600)),
        reissue_after: Duration::from_secs(7 * 86_400),
        touch_every: Duration::from_secs(60),
    });
    let user = users.register("idle@example.com", PASSWORD).await.unwrap();
    let token = users.create_session_token(user.id).await.unwrap();
    let id = session_token_id(&token).unwrap();
    // Used every 50 minutes for 5 hours: stays signed in.
    for _ in 0..6 {
        ctx.advance(50 * 60);
        assert_eq!(
            users.user_by_session_token(&token).await.unwrap(),
            Some(user.clone())
        );
    }
    // Then an hour without use: refused.
    ctx.advance(3600);
    assert_eq!(users.user_by_session_token(&token).await.unwrap(), None);
    assert_eq!(users.use_session_token(&token).await.unwrap(), None);
    assert_eq!(
        users
            .valid_session_token_ids(vec![id.clone()])
            .await
            .unwrap(),
        [id].into_iter().collect(),
        "revalidation of open live views ignores idleness"
    );
    // Without an idle timeout the same token would still be valid.
    let lenient = users.clone().with_session_policy(SessionPolicy {
        idle_timeout: None,
        ..users.session_policy()
    });
    assert_eq!(
        lenient.user_by_session_token(&token).await.unwrap(),
        Some(user)
    );
}

/// Reissue: a token older than `reissue_after` gets a fresh one of the same kind on the next
/// request; the old one stays valid (other tabs, open live views), and logging out with
/// either ends both.
async fn case_15_old_token_is_reissued_in_the_same_login(ctx: &Ctx) {
    let users = ctx.users.clone().with_session_policy(SessionPolicy {
        idle_timeout: Some(Duration::from_secs(30 * 86_400)),
        reissue_after: Duration::from_secs(86_400),
        touch_every: Duration::from_secs(60),
    });
    let user = users.register("re@example.com", PASSWORD).await.unwrap();
    let token = users
        .create_remembered_session_token(user.id)
        .await
        .unwrap();
    let used = users.use_session_token(&token).await.unwrap().unwrap();
    assert_eq!(used.user, user);
    assert_eq!(used.reissued, None, "a young token is kept");
    assert!(used.remembered);

    ctx.advance(86_400);
    let used = users.use_session_token(&token).await.unwrap().unwrap();
    let fresh = used.reissued.expect("an old token is reissued");
    assert_ne!(fresh, token);
    assert!(used.remembered);
    assert!(users.is_remembered_session_token(&fresh).await.unwrap());
    let fresh_use = users.use_session_token(&fresh).await.unwrap().unwrap();
    assert_eq!(fresh_use.reissued, None);
    assert_eq!(
        users.user_by_session_token(&token).await.unwrap(),
        Some(user.clone()),
        "the old token keeps working"
    );
    // A plain login is reissued as a plain one.
    let plain = users.create_session_token(user.id).await.unwrap();
    ctx.advance(86_400);
    let plain_fresh = users
        .use_session_token(&plain)
        .await
        .unwrap()
        .unwrap()
        .reissued
        .unwrap();
    assert!(
        !users
            .is_remembered_session_token(&plain_fresh)
            .await
            .unwrap()
    );

    // Logging out with the fresh token ends the whole login, old token included, and says
    // which tokens went (their live sockets close); the plain login stays.
    let mut deleted = users.delete_login(&fresh).await.unwrap();
    deleted.sort();
    let mut expected = vec![
        session_token_id(&token).unwrap(),
        session_token_id(&fresh).unwrap(),
    ];
    expected.sort();
    assert_eq!(deleted, expected);
    assert_eq!(users.user_by_session_token(&token).await.unwrap(), None);
    assert_eq!(users.user_by_session_token(&fresh).await.unwrap(), None);
    assert!(
        users
            .user_by_session_token(&plain_fresh)
            .await
            .unwrap()
            .is_some()
    );
}

/// Concurrent requests with one old token each reissue; every token they got stays valid
/// (whichever reaches the cookie last), and one logout ends them all.
async fn case_15_concurrent_reissues_all_stay_signed_in(ctx: &Ctx) {
    let users = ctx.users.clone().with_session_policy(SessionPolicy {
        idle_timeout: Some(Duration::from_secs(30 * 86_400)),
        reissue_after: Duration::from_secs(86_400),
        touch_every: Duration::from_secs(60),
    });
    let user = users.register("many@example.com", PASSWORD).await.unwrap();
    let token = users.create_session_token(user.id).await.unwrap();
    ctx.advance(2 * 86_400);
    let results =
        futures_util::future::join_all((0..8).map(|_| users.use_session_token(&token))).await;
    let mut fresh = Vec::new();
    for result in results {
        let used = result.unwrap().expect("still signed in");
        assert_eq!(used.user, user);
        fresh.push(used.reissued.expect("reissued"));
    }
    for t in &fresh {
        assert_eq!(
            users.user_by_session_token(t).await.unwrap(),
            Some(user.clone())
        );
    }
    assert_eq!(users.delete_login(&fresh[3]).await.unwrap().len(), 9);
    for t in fresh.iter().chain([&token]) {
        assert_eq!(users.user_by_session_token(t).await.unwrap(), None);
    }
}

async fn case_69_password_change_replaces_every_session(ctx: &Ctx) {
    let users = &ctx.users;
    let user = users.register("pw@example.com", PASSWORD).await.unwrap();
    let a = users.create_session_token(user.id).await.unwrap();
    let b = users
        .create_remembered_session_token(user.id)
        .await
        .unwrap();
    users
        .change_password(&user, "wrong password!!", "new password 123", None)
        .await
        .unwrap_err();
    users
        .change_password(&user, PASSWORD, "new password 123", None)
        .await
        .unwrap();
    let (kept, mut revoked) = users.replace_session_tokens(user.id, true).await.unwrap();
    revoked.sort();
    let mut expected = vec![session_token_id(&a).unwrap(), session_token_id(&b).unwrap()];
    expected.sort();
    assert_eq!(revoked, expected);
    assert_eq!(users.user_by_session_token(&a).await.unwrap(), None);
    assert_eq!(users.user_by_session_token(&b).await.unwrap(), None);
    assert!(users.is_remembered_session_token(&kept).await.unwrap());
    assert!(
        users
            .authenticate("pw@example.com", PASSWORD)
            .await
            .is_err()
    );
    assert!(
        users
            .authenticate("pw@example.com", "new password 123")
            .await
            .is_ok()
    );
}

async fn expired_and_idle_tokens_are_purged(ctx: &Ctx) {
    let users = ctx.users.clone().with_session_policy(SessionPolicy {
        idle_timeout: Some(Duration::from_secs(2 * 86_400)),
        reissue_after: Duration::from_secs(7 * 86_400),
        touch_every: Duration::from_secs(60),
    });
    let user = users.register("purge@example.com", PASSWORD).await.unwrap();
    let idle = users.create_session_token(user.id).await.unwrap();
    let active = users.create_session_token(user.id).await.unwrap();
    let remembered = users
        .create_remembered_session_token(user.id)
        .await
        .unwrap();
    assert_eq!(users.purge_expired_tokens().await.unwrap(), 0);
    // Day 1.5: `active` and `remembered` are used, `idle` is not.
    ctx.advance(86_400 + 43_200);
    assert!(
        users
            .user_by_session_token(&active)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        users
            .user_by_session_token(&remembered)
            .await
            .unwrap()
            .is_some()
    );
    ctx.advance(43_200);
    assert_eq!(
        users.purge_expired_tokens().await.unwrap(),
        1,
        "the idle one"
    );
    assert_eq!(users.store().count_tokens().await.unwrap(), 2);
    // Day 14: `active` has passed its 14-day validity though it is used.
    for _ in 0..12 {
        ctx.advance(86_400);
        users.user_by_session_token(&remembered).await.unwrap();
        users.user_by_session_token(&active).await.unwrap();
    }
    assert_eq!(
        users.purge_expired_tokens().await.unwrap(),
        1,
        "the expired one"
    );
    assert_eq!(users.user_by_session_token(&idle).await.unwrap(), None);
    assert!(
        users
            .user_by_session_token(&remembered)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(users.store().count_tokens().await.unwrap(), 1);
}

async fn background_purge_runs_at_its_interval(ctx: &Ctx) {
    let users = &ctx.users;
    let user = users.register("bg@example.com", PASSWORD).await.unwrap();
    users.create_session_token(user.id).await.unwrap();
    users
        .create_remembered_session_token(user.id)
        .await
        .unwrap();
    let task = users.spawn_purge(Duration::from_millis(50));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        users.store().count_tokens().await.unwrap(),
        2,
        "nothing expired yet"
    );
    ctx.advance(15 * DAY);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while users.store().count_tokens().await.unwrap() != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the plain token (15 days old) was not purged in the background"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
}

async fn avatars_are_replaced_and_returned(ctx: &Ctx) {
    let store = ctx.users.store();
    let user = ctx
        .users
        .register("pic@example.com", PASSWORD)
        .await
        .unwrap();
    assert_eq!(store.avatar(user.id).await.unwrap(), None);
    let first = AvatarRow {
        file_id: "0b8f3c2e-4a4e-4c4e-9a9e-0a0b0c0d0e0f".to_owned(),
        content_type: "image/png".to_owned(),
        size: 10,
        updated_at: T0,
    };
    assert_eq!(
        store.put_avatar(user.id, first.clone()).await.unwrap(),
        None
    );
    assert_eq!(store.avatar(user.id).await.unwrap(), Some(first.clone()));
    let second = AvatarRow {
        file_id: "1b8f3c2e-4a4e-4c4e-9a9e-0a0b0c0d0e0f".to_owned(),
        content_type: "image/webp".to_owned(),
        size: 20,
        updated_at: T0 + 1,
    };
    assert_eq!(
        store.put_avatar(user.id, second.clone()).await.unwrap(),
        Some((first.file_id, first.content_type))
    );
    assert_eq!(store.avatar(user.id).await.unwrap(), Some(second));
    // The schema's checks hold on both: a type that is not an image is refused.
    let bad = AvatarRow {
        file_id: "2b8f3c2e-4a4e-4c4e-9a9e-0a0b0c0d0e0f".to_owned(),
        content_type: "text/html".to_owned(),
        size: 1,
        updated_at: T0,
    };
    assert!(store.put_avatar(user.id, bad).await.is_err());
}

/// The PostgreSQL ticket store (login tickets shared by nodes without Redis, case 74):
/// single use, atomic across concurrent takes, expired records not redeemed and purged.
#[tokio::test]
async fn case_74_postgres_tickets_are_single_use_and_purged() {
    let ctx = ctx(Backend::Postgres).await;
    let tickets = ctx.pg.as_ref().unwrap().0.tickets();
    let key = TicketKey::of("ticket", "session id");
    tickets
        .put(key, b"record".to_vec(), Duration::from_secs(60))
        .await
        .unwrap();
    let (a, b) = tokio::join!(tickets.take(key), tickets.take(key));
    let taken: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken, vec![b"record".to_vec()], "exactly one take gets it");
    // An expired record is neither redeemed nor kept by the purge.
    let old = TicketKey::of("old", "session id");
    tickets
        .put(old, b"old".to_vec(), Duration::from_millis(1))
        .await
        .unwrap();
    let live = TicketKey::of("live", "session id");
    tickets
        .put(live, b"live".to_vec(), Duration::from_secs(60))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(tickets.purge().await.unwrap(), 1);
    assert_eq!(tickets.take(old).await.unwrap(), None);
    assert_eq!(tickets.take(live).await.unwrap(), Some(b"live".to_vec()));
    ctx.finish().await;
}
