//! Who is signed in: the session's login token, looked up on every request and on every mount
//! of a guarded live view; and logout.
//!
//! **Logging in** happens in the live views ([`super::Login`], [`super::Register`]): after
//! checking the password they create a server-side session token ([`Users::create_session_token`],
//! 256 random bits of which only the SHA-256 is stored) and write it into the HTTP session:
//!
//! ```text
//! socket.renew_session().put_session(USER_TOKEN, token);
//! ```
//!
//! A WebSocket cannot set cookies, so livefire stores those writes under a single-use,
//! 60-second ticket bound to this browser's session, in the ticket store given to
//! `LiveRouter::session_store` and `LiveFlashLayer::session_store` (SQLite on the demo's
//! database file, or Redis with several nodes), and the browser brings the ticket back on its
//! next HTTP request: the login's `redirect("/account")` carries it in the sealed flash token,
//! the registration's `phx-trigger-action` form ([`livefire::Socket::session_form`]) posts it
//! to `/live/session`. Either way livefire redeems it before any handler runs: the session is
//! renewed (new id and CSRF secret, pre-login data dropped) and holds only the opaque token.
//! A replayed, expired or foreign ticket changes nothing (docs/threat-model.md R3, R4).
//!
//! **On every request** [`authenticate`] looks the token up again, so deleting it (logout, here
//! or on another node) ends the login everywhere the cookie was copied. **On every mount** of
//! the guarded live session the `on_mount` hook [`require_user`] does the same, on the dead
//! render and on the connected join alike, and either assigns the [`CurrentUser`] or sends the
//! browser to `/login` with a flash.

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use livefire::flash::FlashHandle;
use livefire::session::Session;
use livefire::{Halt, OnMount, Socket};

use super::Web;
use crate::users::tokens::session_token_id;
use crate::users::{User, Users};

/// Session key holding the opaque login token.
pub const USER_TOKEN: &str = "user_token";

/// The flash of a guarded page visited without a login.
pub const MUST_LOG_IN: &str = "You must log in to access this page.";

/// The signed-in user: an extension of every request (set by [`authenticate`]) and an assign
/// of every guarded live view (set by [`require_user`]).
#[derive(Debug, Clone, Default)]
pub struct CurrentUser(pub Option<User>);

/// How long a "remember me" login's persistent cookie lives (as its session token).
pub const REMEMBER_ME: std::time::Duration = crate::users::tokens::REMEMBER_VALIDITY;

/// Logs `user` in from a live view: a new server-side token, written into a renewed session.
/// The writes reach the browser with the view's next `redirect` or `session_form`.
///
/// With `remember`, the token is valid for 60 days and the session cookie becomes persistent
/// for as long (`Max-Age`, through livefire's `persist_session`, which travels with the
/// ticket); without, it is a browser-session cookie, gone when the browser closes.
pub async fn log_in(
    users: &Users,
    socket: &mut Socket,
    user: &User,
    remember: bool,
) -> livefire::Result {
    let token = if remember {
        users.create_remembered_session_token(user.id).await
    } else {
        users.create_session_token(user.id).await
    }
    .map_err(livefire::Error::app)?;
    socket
        .renew_session()
        .persist_session(remember.then_some(REMEMBER_ME))
        .put_session(USER_TOKEN, token);
    tracing::info!(user_id = user.id, "logged in");
    Ok(())
}

/// Middleware: loads the current user from the session's token.
pub async fn authenticate(
    State(users): State<Users>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let current = match session.get::<String>(USER_TOKEN) {
        Some(token) => match users.use_session_token(&token).await {
            Ok(Some(found)) => {
                // An old token is replaced by a fresh one of the same login (phx.gen.auth's
                // reissue), without renewing the session: open tabs keep their CSRF token.
                if let Some(fresh) = found.reissued {
                    if let Err(err) = session.insert(USER_TOKEN, fresh) {
                        tracing::error!(%err, "could not store the reissued session token");
                    }
                    if found.remembered {
                        session.set_persistent(Some(REMEMBER_ME));
                    }
                }
                Some(found.user)
            }
            Ok(None) => {
                // Deleted on logout (here or elsewhere) or expired: anonymous from now on.
                session.remove(USER_TOKEN);
                None
            }
            Err(err) => {
                tracing::error!(%err, "session lookup failed");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        },
        None => None,
    };
    req.extensions_mut().insert(CurrentUser(current));
    next.run(req).await
}

/// The `on_mount` hook of the guarded live session: the user of the session's token, assigned
/// as [`CurrentUser`], or a redirect to `/login` with [`MUST_LOG_IN`]. Runs on the dead render
/// and on every join (live navigation included), so a login revoked meanwhile is noticed.
pub async fn require_user(users: Users, cx: OnMount) -> Result<OnMount, Halt> {
    let Some(token) = cx.session::<String>(USER_TOKEN) else {
        return Err(Halt::redirect("/login").flash("error", MUST_LOG_IN));
    };
    match users.user_by_session_token(&token).await {
        Ok(Some(user)) => Ok(cx.assign(CurrentUser(Some(user)))),
        Ok(None) => Err(Halt::redirect("/login").flash("error", MUST_LOG_IN)),
        Err(err) => {
            // Fail closed: no page without a confirmed login.
            tracing::error!(%err, "session lookup failed in on_mount");
            Err(Halt::redirect("/login").flash(
                "error",
                "Your account cannot be loaded right now. Please try again.",
            ))
        }
    }
}

/// The `live_socket_id` of a login: every live socket of that login registers under it.
/// It is derived from the session's token (a hash of it), so the cookie stays small.
pub fn live_socket_id(token: &str) -> String {
    format!(
        "{LIVE_SOCKET_PREFIX}{}",
        session_token_id(token).unwrap_or_default()
    )
}

/// The check of the live sockets' periodic revalidation
/// ([`LiveSockets::spawn_revalidation`](livefire::sockets::LiveSockets::spawn_revalidation)):
/// of the given `live_socket_id`s, those whose login token still exists. A login revoked on a
/// node whose disconnect broadcast never arrived (Redis down) is closed here at the next pass.
pub async fn valid_live_socket_ids(
    users: &Users,
    ids: Vec<String>,
) -> Result<std::collections::HashSet<String>, crate::users::StoreError> {
    let token_ids: Vec<String> = ids
        .iter()
        .filter_map(|id| id.strip_prefix(LIVE_SOCKET_PREFIX).map(str::to_owned))
        .collect();
    let valid = users.valid_session_token_ids(token_ids).await?;
    Ok(ids
        .into_iter()
        .filter(|id| {
            id.strip_prefix(LIVE_SOCKET_PREFIX)
                .is_some_and(|token_id| valid.contains(token_id))
        })
        .collect())
}

const LIVE_SOCKET_PREFIX: &str = "users_sessions:";

/// `POST /logout` (CSRF-checked by `VerifyCsrfLayer`): deletes the token server-side, closes
/// the live sockets of this login in every tab, removes the session cookie and says goodbye.
///
/// The response (docs/threat-model.md case 67) carries `Clear-Site-Data: "cache"`, so the
/// browser drops the pages it cached while signed in, and an expired `Set-Cookie` for the
/// session cookie (same name and attributes, `Max-Age=0`; a "remember me" cookie goes too),
/// followed by a fresh browser-session cookie (new id and CSRF secret) that holds only the
/// goodbye flash for the next page, as any signed-out page would create.
pub async fn logout(
    State(Web { users, sockets, .. }): State<Web>,
    session: Session,
    flash: FlashHandle,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
) -> Response {
    if let Some(token) = session.get::<String>(USER_TOKEN) {
        // The token and the others of its login (reissued ones), whose sockets close too.
        match users.delete_login(&token).await {
            Ok(ids) => {
                for id in ids {
                    sockets.disconnect(&format!("{LIVE_SOCKET_PREFIX}{id}"));
                }
            }
            Err(err) => {
                tracing::error!(%err, "logout: could not delete the session token");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
        sockets.disconnect(&live_socket_id(&token));
    }
    // Expires the cookie (a "remember me" one too); the flash below starts a fresh session.
    session.destroy();
    if let Some(user) = user {
        tracing::info!(user_id = user.id, "logged out");
    }
    flash.put("info", "Logged out successfully.");
    (
        [(CLEAR_SITE_DATA, HeaderValue::from_static(CLEAR_CACHE))],
        Redirect::to("/"),
    )
        .into_response()
}

/// The `Clear-Site-Data` response header (not among `http`'s constants).
///
/// ```
/// assert_eq!(demo::web::auth::CLEAR_SITE_DATA.as_str(), "clear-site-data");
/// ```
pub const CLEAR_SITE_DATA: HeaderName = HeaderName::from_static("clear-site-data");

/// What a logout clears with [`CLEAR_SITE_DATA`]: the browser's HTTP cache for the site. Not
/// `"cookies"`, which would clear every cookie of the registrable domain, other sites' on
/// sibling subdomains included; the session cookie is expired by name instead.
///
/// ```
/// assert_eq!(demo::web::auth::CLEAR_CACHE, r#""cache""#);
/// ```
pub const CLEAR_CACHE: &str = "\"cache\"";
