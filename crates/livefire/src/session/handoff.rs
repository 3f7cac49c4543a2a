//! The HTTP side of session writes from live views: redeeming a ticket into the request's
//! [`Session`], from a redirect's flash ([`crate::flash::LiveFlashLayer`]) or from the
//! `phx-trigger-action` form POST to [`SESSION_PATH`](super::SESSION_PATH).

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;

use super::Session;
use super::tickets::{Refused, Tickets};
use crate::token::Keyring;

/// Redeems `ticket` for the browser of `session` and applies its writes (renewing the session
/// when asked). A refused ticket changes nothing.
pub(crate) async fn redeem_into(
    tickets: &Tickets,
    keyring: &Keyring,
    session: &Session,
    ticket: &str,
) -> Result<(), Refused> {
    let id = session.existing_id();
    let writes = tickets.redeem(keyring, id.as_deref(), ticket).await?;
    if let Err(err) = writes.apply(session) {
        tracing::error!(%err, "some session writes from a live view were not stored");
    }
    tracing::debug!("session writes from a live view applied");
    Ok(())
}

/// What the POST endpoint needs.
#[derive(Debug, Clone)]
pub(crate) struct HandoffState {
    pub(crate) tickets: Tickets,
    pub(crate) keyring: Keyring,
}

#[derive(Debug, Deserialize)]
pub(crate) struct HandoffForm {
    #[serde(rename = "_csrf_token", default)]
    csrf: String,
    #[serde(rename = "_session_ticket", default)]
    ticket: String,
    #[serde(rename = "_to", default)]
    to: String,
}

/// `POST /live/session` (`_csrf_token`, `_session_ticket`, `_to`): the form a
/// `phx-trigger-action` submits. A valid CSRF token of this session is required (403
/// otherwise, nothing changed); a refused ticket changes nothing and is logged. Either way the
/// browser is sent on to `_to` (a local path, else `/`), so a stale or replayed form looks the
/// same as an expired one.
pub(crate) async fn post(
    State(state): State<HandoffState>,
    session: Option<axum::Extension<Session>>,
    Form(form): Form<HandoffForm>,
) -> Response {
    let Some(axum::Extension(session)) = session else {
        tracing::error!("livefire: CookieSessionLayer is missing around the live router");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if !session.verify_csrf_token(&form.csrf) {
        tracing::warn!("session handoff refused: missing or invalid CSRF token");
        return (StatusCode::FORBIDDEN, "invalid CSRF token").into_response();
    }
    if let Err(refused) = redeem_into(&state.tickets, &state.keyring, &session, &form.ticket).await
    {
        tracing::warn!(%refused, "session handoff refused");
        if refused == Refused::Store {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let to = crate::redirect::local_path_or(&form.to, "/");
    Redirect::to(to).into_response()
}
