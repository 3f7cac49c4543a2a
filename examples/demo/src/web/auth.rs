//! The login handoff on the HTTP side, the current user, and logout.
//!
//! The live login view cannot write the session cookie (a WebSocket cannot set cookies), so it
//! does what the seed article does: `socket.put_flash("user", …).redirect("/account")`. What it
//! puts there is not the user record but an opaque, single-use login ticket (docs/threat-model.md
//! R1, R3): 256 random bits whose SHA-256 is stored server-side for 60 seconds. livefire carries
//! the flash in an encrypted token that expires after 60 seconds and is bound to the browser's
//! session id; the next HTTP request brings it back, and [`authenticate`] moves the login into
//! the session:
//!
//! 1. it takes the `user` flash (so it is never displayed),
//! 2. consumes the ticket atomically (a replay, or a second parallel request, finds nothing),
//! 3. creates a random server-side session token (only its SHA-256 is stored),
//! 4. renews the session (new id and CSRF secret, pre-login data cleared) and stores only the
//!    opaque token in it.
//!
//! On every request the session token is looked up again, so deleting it on logout ends the
//! login everywhere the cookie was copied.

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use livefire::flash::FlashHandle;
use livefire::session::Session;
use serde_json::Value;

use super::Web;
use crate::users::tokens::session_token_id;
use crate::users::{User, Users};

/// Session key holding the opaque login token.
pub const USER_TOKEN: &str = "user_token";
/// Flash key the live views use to hand a login to the HTTP side (the seed's `user` flash).
pub const USER_FLASH: &str = "user";
/// Field of the `user` flash holding the single-use login ticket.
pub const TICKET: &str = "ticket";

/// Mints a single-use login ticket for `user` and returns the value of the `user` flash.
pub async fn handoff(users: &Users, user: &User) -> livefire::Result<Value> {
    let ticket = users
        .create_login_ticket(user.id)
        .await
        .map_err(livefire::Error::app)?;
    Ok(serde_json::json!({ TICKET: ticket }))
}

/// The signed-in user of this request, if any (an extension set by [`authenticate`]).
#[derive(Debug, Clone, Default)]
pub struct CurrentUser(pub Option<User>);

/// Middleware: completes a login handed over in the `user` flash, then loads the current user.
pub async fn authenticate(
    State(users): State<Users>,
    session: Session,
    flash: FlashHandle,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(handoff) = flash.take(USER_FLASH)
        && let Err(response) = complete_login(&users, &session, &handoff).await
    {
        return response;
    }
    let current = match session.get::<String>(USER_TOKEN) {
        Some(token) => match users.user_by_session_token(&token).await {
            Ok(Some(user)) => Some(user),
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

async fn complete_login(users: &Users, session: &Session, handoff: &Value) -> Result<(), Response> {
    let Some(ticket) = handoff.get(TICKET).and_then(Value::as_str) else {
        tracing::warn!("login handoff without a ticket ignored");
        return Ok(());
    };
    let user = match users.consume_login_ticket(ticket).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            tracing::warn!("login handoff with an unknown, used or expired ticket refused");
            return Ok(());
        }
        Err(err) => {
            tracing::error!(%err, "login handoff: user lookup failed");
            return Err(StatusCode::SERVICE_UNAVAILABLE.into_response());
        }
    };
    log_in(users, session, &user).await
}

/// Starts a login: a new server-side token, a renewed session holding only that token.
pub async fn log_in(users: &Users, session: &Session, user: &User) -> Result<(), Response> {
    let token = users.create_session_token(user.id).await.map_err(|err| {
        tracing::error!(%err, "could not create a session token");
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    })?;
    session.renew();
    if let Err(err) = session.insert(USER_TOKEN, token) {
        tracing::error!(%err, "could not store the login in the session");
        return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    tracing::info!(user_id = user.id, "logged in");
    Ok(())
}

/// The `live_socket_id` of a login: every live socket of that login registers under it.
/// It is derived from the session's token (a hash of it), so the cookie stays small.
pub fn live_socket_id(token: &str) -> String {
    format!(
        "users_sessions:{}",
        session_token_id(token).unwrap_or_default()
    )
}

/// `POST /logout` (CSRF-checked by `VerifyCsrfLayer`): deletes the token server-side, closes
/// the live sockets of this login in every tab, renews the session and says goodbye.
pub async fn logout(
    State(Web { users, sockets }): State<Web>,
    session: Session,
    flash: FlashHandle,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
) -> Response {
    if let Some(token) = session.get::<String>(USER_TOKEN)
        && let Err(err) = users.delete_session_token(&token).await
    {
        tracing::error!(%err, "logout: could not delete the session token");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if let Some(token) = session.get::<String>(USER_TOKEN) {
        sockets.disconnect(&live_socket_id(&token));
    }
    session.renew();
    if let Some(user) = user {
        tracing::info!(user_id = user.id, "logged out");
    }
    flash.put("info", "Logged out successfully.");
    Redirect::to("/").into_response()
}
