//! The demo's web layer: routes, layout, logging in from live views, and the live views.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | dead render: the flash and who is signed in |
//! | `/register` | live view: create an account, validated live, then signed in through a `phx-trigger-action` form |
//! | `/login` | live view: log in; success writes the session and redirects to `/account` |
//! | `/account` | live view, guarded by an `on_mount` hook: "Signed in as EMAIL" and the avatar upload; logged out, redirects to `/login` |
//! | `/settings` | live view, guarded like `/account`: change the password (current one required); revokes every other login of the user and closes its sockets |
//! | `/profile` | live view, guarded like `/account`: the user's avatar and email |
//! | `GET /account/avatar` | the signed-in user's own avatar image (403 without a login, 404 without an avatar) |
//! | `POST /live/session` | livefire's: applies a live view's session writes (the registration form) |
//! | `POST /logout` | CSRF-checked: deletes the login server-side, closes its live sockets, expires the session cookie and sends `Clear-Site-Data: "cache"` |
//!
//! **The login flow.** The live views check the password and write the login into the HTTP
//! session with `socket.renew_session().put_session(USER_TOKEN, token)` ([`auth::log_in`]).
//! livefire keeps those writes under a single-use, 60-second ticket bound to the browser's
//! session, in a [`Tickets`] store, until the browser's next HTTP request brings the ticket
//! back: the login's redirect carries it in the sealed flash, the registration's hidden
//! `phx-trigger-action` form posts it to `/live/session`. The request middleware
//! ([`auth::authenticate`]) then finds the user from the token on this and every later request,
//! and the `/account` live session's `on_mount` hook ([`auth::require_user`]) does the same on
//! every mount. `/login`, `/register` and `/account` share one live session, so links between
//! them navigate live and the hook also runs on the connected join.
//!
//! **Avatars** ([`account`], [`avatar`], [`crate::avatars`]): the account page's upload goes
//! over the live socket into `<data dir>/uploads` (livefire's temporary files, see
//! [`Options::data_dir`]); "Save avatar" checks the file's first bytes and moves it to
//! `<data dir>/avatars/<uuid>.<ext>`, the UUID being the one livefire made for the upload on
//! the server; `GET /account/avatar` serves it back to its owner only.
//!
//! **The session clock** ([`clock`]): the signed-in pages (`/account`, `/profile`) render a
//! sticky nested live view that keeps running, state and DOM element alike, across live
//! navigation between them.
//!
//! **Hardening** (docs/threat-model.md R7, R8, R10): the binary serves with [`livefire::serve`]
//! and [`Options::limits`] (connection caps, header limits); every response carries
//! [`SecurityHeadersLayer`]'s CSP ([`CSP`]: livefire's default, which allows the `blob:` images of the
//! upload previews) and friends, plus HSTS with secure cookies (installed with the session,
//! flash and CSRF layers by [`BrowserPipeline`], which leaves the long-poll transport's posts
//! to their own token); the client address that throttling counts against comes from the
//! connection, or from `X-Forwarded-For` only when the peer is one of
//! [`Options::trusted_proxies`]; and with secure cookies the WebSocket accepts only
//! [`Options::allowed_origins`].

pub mod account;
pub mod auth;
pub mod avatar;
pub mod clock;
mod components;
mod home;
mod login;
mod profile;
mod register;
mod settings;

use std::path::{Path, PathBuf};

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use ipnet::IpNet;
use livefire::pipeline::BrowserPipeline;
use livefire::pubsub::PubSub;
use livefire::session::{
    MemoryTicketStore, RedisTicketStore, SqliteTicketStore, TicketStore, TicketStoreError,
};
use livefire::sockets::LiveSockets;
use livefire::token::Keyring;
use livefire::{Limits, LiveRouter, OnMount, SecurityHeadersLayer, TrustedProxyLayer};

use crate::avatars::{self, Avatars};
use crate::db::Db;
use crate::store::AnyStore;
use crate::store::postgres::PgTicketStore;
use crate::users::Users;

pub use account::Account;
pub use auth::CurrentUser;
pub use clock::SessionClock;
pub use login::{LOGIN_FAILED, Login};
pub use profile::Profile;
pub use register::Register;
pub use settings::{PASSWORD_UPDATED, Settings};

/// The pages' Content-Security-Policy: livefire's [`DEFAULT_CSP`](livefire::DEFAULT_CSP), which
/// allows the `blob:` images of the client's `Phoenix.LiveImgPreview` hook (a chosen image is
/// shown through a `blob:` URL of the file). Scripts stay limited to the site itself.
pub const CSP: &str = livefire::DEFAULT_CSP;

/// What the web layer needs.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The user store.
    pub users: Users,
    /// Seals sessions, page tokens and flash tokens.
    pub keyring: Keyring,
    /// Serve cookies with `Secure` and the `__Host-` prefix (https).
    pub secure_cookies: bool,
}

/// Where live views' session writes wait for the browser (see [`auth`]). Every node of a
/// deployment must use the same store.
#[derive(Debug, Clone)]
pub enum Tickets {
    /// This process's memory: one node, lost on restart.
    Memory(MemoryTicketStore),
    /// A table in the demo's SQLite file: survives a restart; shared by processes on one host.
    Sqlite(SqliteTicketStore),
    /// Redis: shared by every node.
    Redis(RedisTicketStore),
    /// A table in the PostgreSQL database (`DATABASE_URL`): shared by every node.
    Postgres(PgTicketStore),
}

impl Tickets {
    /// The default store for `db`: SQLite in the same file (table `livefire_tickets`), or
    /// memory for an in-memory database. Opening the file blocks briefly.
    ///
    /// A ticket's record holds the session writes in clear, here the new login's session token
    /// (the demo's database otherwise holds only SHA-256 hashes of tokens). The connection runs
    /// with `secure_delete`, so SQLite overwrites a redeemed or purged record in the database
    /// file; the write-ahead log still holds the inserted record until SQLite reuses that part
    /// of the log, so a copy of `demo.sqlite3-wal` can contain a live session token.
    pub fn for_db(db: &Db) -> Result<Self, TicketStoreError> {
        let Some(path) = db.path() else {
            return Ok(Self::Memory(MemoryTicketStore::new()));
        };
        let conn = rusqlite::Connection::open(path).map_err(TicketStoreError::new)?;
        conn.busy_timeout(crate::db::BUSY_TIMEOUT)
            .map_err(TicketStoreError::new)?;
        conn.pragma_update(None, "secure_delete", true)
            .map_err(TicketStoreError::new)?;
        Ok(Self::Sqlite(SqliteTicketStore::new(conn)?))
    }

    /// The default store for `store`: [`Tickets::for_db`] on SQLite, the table
    /// `livefire_tickets` on PostgreSQL. Opening the SQLite file blocks briefly.
    pub fn for_store(store: &AnyStore) -> Result<Self, TicketStoreError> {
        match (store.sqlite(), store.as_postgres()) {
            (Some(db), _) => Self::for_db(db),
            (None, Some(pg)) => Ok(Self::Postgres(pg.tickets())),
            (None, None) => Ok(Self::Memory(MemoryTicketStore::new())),
        }
    }

    /// Redis at `url` (`REDIS_URL`).
    pub async fn redis(url: &str) -> Result<Self, TicketStoreError> {
        Ok(Self::Redis(RedisTicketStore::connect(url).await?))
    }
}

/// How the web layer is deployed. The default is one node in development: local pub/sub, the
/// [default ticket store](Tickets::for_db), same-host WebSocket origins, default [`Limits`],
/// no proxy.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Carries logouts to the live sockets of every node ([`PubSub::redis`]); default local.
    pub pubsub: Option<PubSub>,
    /// Where session writes wait; default [`Tickets::for_db`].
    pub tickets: Option<Tickets>,
    /// Origins allowed to open the live WebSocket (`https://example.com`). Required with secure
    /// cookies (livefire refuses every upgrade otherwise); `None` allows the request's own
    /// host over `http://` (development).
    pub allowed_origins: Option<Vec<String>>,
    /// Reverse proxies whose `X-Forwarded-For` names the client address; empty: the
    /// connection's address is the client's.
    pub trusted_proxies: Vec<IpNet>,
    /// The live socket's limits; give the same value to [`livefire::serve`].
    pub limits: Limits,
    /// Where avatars (`avatars/`) and uploads in progress (`uploads/`, livefire's temporary
    /// files: [`LiveRouter::upload_dir`]) are kept. Both subdirectories are created with mode
    /// 0700. Keeping uploads next to the avatars makes saving one a rename on the same file
    /// system. Default: the directory of the database file (the binary passes `DATA_DIR`), or
    /// for an in-memory database `livefire-demo-<pid>` in the system's temporary directory.
    ///
    /// A temporary file is deleted when its upload is saved, cancelled, stopped or its page
    /// closed; only a crash of the process can leave some behind in `uploads/`, which is
    /// safe to empty while the server is stopped.
    pub data_dir: Option<PathBuf>,
    /// How often every live socket's login is checked again
    /// ([`auth::valid_live_socket_ids`]), so that a revoked login's sockets close even when
    /// its disconnect broadcast is lost; default
    /// [`DEFAULT_REVALIDATE_PERIOD`](livefire::sockets::DEFAULT_REVALIDATE_PERIOD) (20 s).
    pub revalidate_every: Option<std::time::Duration>,
    /// How often expired session tokens are deleted ([`Users::spawn_purge`]); default
    /// [`DEFAULT_PURGE_PERIOD`] (1 hour).
    pub purge_every: Option<std::time::Duration>,
}

/// How often expired session tokens are purged by default.
pub const DEFAULT_PURGE_PERIOD: std::time::Duration = std::time::Duration::from_secs(3600);

/// Creates the avatar and upload directories under `data_dir` (mode 0700), as
/// [`app_with`] needs them; the binary calls it first to refuse to start with a clear error.
pub fn prepare_data_dir(data_dir: &Path) -> std::io::Result<()> {
    avatars::create_private_dir(&data_dir.join("avatars"))?;
    avatars::create_private_dir(&data_dir.join("uploads"))
}

fn default_data_dir(db: Option<&Db>) -> PathBuf {
    match db.and_then(Db::path).map(Path::parent) {
        Some(Some(dir)) if !dir.as_os_str().is_empty() => dir.to_owned(),
        Some(_) => PathBuf::from("."),
        None => std::env::temp_dir().join(format!("livefire-demo-{}", std::process::id())),
    }
}

/// State of the plain HTTP routes.
#[derive(Debug, Clone)]
pub struct Web {
    /// The user store.
    pub users: Users,
    /// Connected live sockets by login, to disconnect them on logout.
    pub sockets: LiveSockets,
    /// The avatar store.
    pub avatars: Avatars,
}

impl axum::extract::FromRef<Web> for Users {
    fn from_ref(web: &Web) -> Self {
        web.users.clone()
    }
}

impl axum::extract::FromRef<Web> for Avatars {
    fn from_ref(web: &Web) -> Self {
        web.avatars.clone()
    }
}

/// The whole demo application on one node, with the default [`Options`].
pub fn app(state: AppState) -> Router {
    app_with(state, Options::default())
}

/// The whole demo application; logouts are broadcast on `pubsub`, so with
/// [`PubSub::redis`] they disconnect the live sockets of that login on every node.
pub fn app_with_pubsub(state: AppState, pubsub: PubSub) -> Router {
    app_with(
        state,
        Options {
            pubsub: Some(pubsub),
            ..Options::default()
        },
    )
}

/// The whole demo application, deployed as `options` say.
///
/// # Panics
/// If an allowed origin is not `scheme://host[:port]` (check them first, as
/// [`Config::allowed_origins`](crate::config::Config::allowed_origins) does), or if the
/// [data directory](Options::data_dir) cannot be prepared (check with [`prepare_data_dir`]).
pub fn app_with(state: AppState, mut options: Options) -> Router {
    let tickets = options.tickets.take().unwrap_or_else(|| {
        Tickets::for_store(state.users.store()).unwrap_or_else(|err| {
            tracing::error!(%err, "ticket store unavailable; keeping tickets in memory");
            Tickets::Memory(MemoryTicketStore::new())
        })
    });
    match tickets {
        Tickets::Memory(store) => build(state, options, store),
        Tickets::Sqlite(store) => build(state, options, store),
        Tickets::Redis(store) => build(state, options, store),
        Tickets::Postgres(store) => build(state, options, store),
    }
}

fn build<S: TicketStore + Clone>(state: AppState, options: Options, tickets: S) -> Router {
    let AppState {
        users,
        keyring,
        secure_cookies,
    } = state;
    let login_users = users.clone();
    let register_users = users.clone();
    let hook_users = users.clone();
    let data_dir = options
        .data_dir
        .clone()
        .unwrap_or_else(|| default_data_dir(users.db()));
    if let Err(err) = prepare_data_dir(&data_dir) {
        panic!(
            "cannot prepare the data directory {}: {err}",
            data_dir.display()
        );
    }
    let avatars = Avatars::open(users.store().clone(), data_dir.join("avatars"))
        .unwrap_or_else(|err| panic!("cannot open the avatar directory: {err}"));
    let (account_avatars, profile_avatars) = (avatars.clone(), avatars.clone());
    let live_router = LiveRouter::new(keyring.clone());
    // The registry the settings page disconnects revoked logins through (the router's own).
    let settings_sockets = live_router.sockets();
    let settings_users = users.clone();
    let mut live_router = live_router
        .layout(components::layout)
        .limits(options.limits)
        .session_store(tickets.clone())
        .upload_dir(data_dir.join("uploads"))
        // The sticky session clock of the signed-in pages.
        .child_view(SessionClock::default)
        // One live session: links between these pages navigate live. Only the views added
        // after the hook are guarded by it.
        .live_session("main")
        .live("/login", move || Login::new(login_users.clone()))
        .live("/register", move || Register::new(register_users.clone()))
        .on_mount(move |cx: OnMount| auth::require_user(hook_users.clone(), cx))
        .live("/account", move || Account::new(account_avatars.clone()))
        .live("/profile", move || Profile::new(profile_avatars.clone()))
        .live("/settings", move || {
            Settings::new(settings_users.clone(), settings_sockets.clone())
        })
        .pubsub(options.pubsub.unwrap_or_else(PubSub::local))
        .socket_id(|session| {
            session
                .get::<String>(auth::USER_TOKEN)
                .map(|token| auth::live_socket_id(&token))
        });
    if let Some(origins) = options.allowed_origins {
        live_router = live_router.allowed_origins(origins);
    }
    let sockets = live_router.sockets();
    // Fail closed: a revoked login's sockets close at the next pass even if no disconnect
    // broadcast reached this node.
    let check_users = users.clone();
    sockets.spawn_revalidation(
        options
            .revalidate_every
            .unwrap_or(livefire::sockets::DEFAULT_REVALIDATE_PERIOD),
        move |ids| {
            let users = check_users.clone();
            async move { auth::valid_live_socket_ids(&users, ids).await }
        },
    );
    // Expired session tokens are deleted in the background (lookups already ignore them).
    users.spawn_purge(options.purge_every.unwrap_or(DEFAULT_PURGE_PERIOD));
    let live = live_router.build().expect("valid live routes and origins");
    let routes = Router::new()
        .route("/", get(home::home))
        .route("/logout", post(auth::logout))
        .route("/account/avatar", get(avatar::avatar))
        .with_state(Web {
            users: users.clone(),
            sockets,
            avatars,
        })
        .merge(live)
        // Inside the pipeline: it sees the session, and the session writes that the flash
        // layer redeems from a login's ticket.
        .layer(from_fn_with_state(users, auth::authenticate));
    // Session cookie, flash (redeeming tickets from the same store as the live router), CSRF
    // checks (the long-poll transport excepted) and the security headers (HSTS with secure
    // cookies), in that order from the outside.
    let router = BrowserPipeline::new(keyring)
        .secure(secure_cookies)
        .session_store(tickets)
        .security_headers(Some(
            SecurityHeadersLayer::new().content_security_policy(CSP),
        ))
        .apply(routes);
    if options.trusted_proxies.is_empty() {
        router
    } else {
        router.layer(TrustedProxyLayer::new(options.trusted_proxies))
    }
}

#[cfg(test)]
mod tests {
    use super::CSP;

    #[test]
    fn the_csp_allows_blob_images_for_upload_previews() {
        assert!(CSP.contains("img-src 'self' data: blob:;"), "{CSP}");
    }
}
