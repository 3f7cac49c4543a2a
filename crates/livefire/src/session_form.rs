//! The endpoint behind [`Socket::session_form`](crate::Socket::session_form):
//! `POST /live/session` ([`SESSION_PATH`](crate::session::SESSION_PATH)), the form a
//! `phx-trigger-action` submits. It redeems the session-write ticket into the request's
//! session and redirects, with the flash that travelled with the ticket.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use serde::Deserialize;

use crate::flash::{Flash, FlashHandle, SESSION_FLASH_KEY};
use crate::session::Session;
use crate::session::handoff::redeem_into;
use crate::session::tickets::{Refused, Tickets};
use crate::token::Keyring;

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

/// Puts `flash` on the redirect being answered: through [`FlashHandle`] when
/// [`LiveFlashLayer`](crate::flash::LiveFlashLayer) is around the route (it keeps a 3xx's flash
/// in the session), else straight into the session where that layer would look for it.
fn put_flash(flash: Flash, handle: Option<&FlashHandle>, session: &Session) {
    if flash.is_empty() {
        return;
    }
    if let Some(handle) = handle {
        for (key, value) in flash.iter() {
            handle.put(key, value.clone());
        }
        return;
    }
    let mut stored: Flash = session.get(SESSION_FLASH_KEY).unwrap_or_default();
    stored.merge(flash);
    if let Err(err) = session.insert(SESSION_FLASH_KEY, &stored) {
        tracing::warn!(%err, "flash of the session writes dropped: it does not fit the session");
    }
}

/// `POST /live/session` (`_csrf_token`, `_session_ticket`, `_to`): the form a
/// `phx-trigger-action` submits. A valid CSRF token of this session is required (403
/// otherwise, nothing changed); a refused ticket changes nothing and is logged. Either way the
/// browser is sent on to `_to` (a local path, else `/`), so a stale or replayed form looks the
/// same as an expired one. A redeemed ticket's flash (what the view put together with the
/// writes) goes with that redirect, so the next page shows it.
pub(crate) async fn post(
    State(state): State<HandoffState>,
    session: Option<axum::Extension<Session>>,
    flash: Option<axum::Extension<FlashHandle>>,
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
    match redeem_into(&state.tickets, &state.keyring, &session, &form.ticket).await {
        Ok(travelled) => put_flash(
            Flash::from_iter(travelled),
            flash.as_ref().map(|axum::Extension(handle)| handle),
            &session,
        ),
        Err(refused) => {
            tracing::warn!(%refused, "session handoff refused");
            if refused == Refused::Store {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
    }
    let to = crate::redirect::local_path_or(&form.to, "/");
    Redirect::to(to).into_response()
}
