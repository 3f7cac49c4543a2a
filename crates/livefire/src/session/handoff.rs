//! The HTTP side of session writes from live views: redeeming a ticket into the request's
//! [`Session`], for the flash layer ([`crate::flash::LiveFlashLayer`], a redirect's flash) and
//! for the `phx-trigger-action` form POST to [`SESSION_PATH`](super::SESSION_PATH) (served by
//! `crate::session_form`, which also sets the flash that travelled with the ticket).

use super::Session;
use super::tickets::{FlashData, Refused, Tickets};
use crate::token::Keyring;

/// Redeems `ticket` for the browser of `session` and applies its writes (renewing the session
/// when asked); returns the flash that travelled with them. A refused ticket changes nothing.
pub(crate) async fn redeem_into(
    tickets: &Tickets,
    keyring: &Keyring,
    session: &Session,
    ticket: &str,
) -> Result<FlashData, Refused> {
    let id = session.existing_id();
    let redeemed = tickets.redeem(keyring, id.as_deref(), ticket).await?;
    if let Err(err) = redeemed.writes.apply(session) {
        tracing::error!(%err, "some session writes from a live view were not stored");
    }
    tracing::debug!("session writes from a live view applied");
    Ok(redeemed.flash)
}
