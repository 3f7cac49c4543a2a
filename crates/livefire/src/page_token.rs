//! The page tokens of a dead render: `data-phx-session` and `data-phx-static`.
//!
//! Both are sealed with the [`Keyring`](crate::token::Keyring) (encrypted and authenticated),
//! versioned, bound to the container id (and so to the topic `lv:<id>`), and expire after
//! 14 days. The static token carries the flash of the dead render, so it is encrypted too.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::flash::Flash;
use crate::token::{Keyring, TokenError};

/// Token format version; a token of another version is `stale`.
pub(crate) const TOKEN_VSN: u8 = 1;
/// How long a page's tokens can join (as Phoenix: 14 days).
pub(crate) const MAX_AGE: Duration = Duration::from_secs(14 * 24 * 3600);
const SESSION_PURPOSE: &str = "lv-session";
const STATIC_PURPOSE: &str = "lv-static";

/// Contents of `data-phx-session`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct PageSession {
    pub(crate) v: u8,
    /// Container id; the topic is `lv:<id>`.
    pub(crate) id: String,
    /// The route pattern that rendered the page.
    pub(crate) route: String,
    /// The live session name: live navigation stays within it.
    pub(crate) ls: String,
    /// A nested live view: which one, under which parent, with what session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) child: Option<ChildToken>,
}

/// What the page token of a nested live view adds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ChildToken {
    /// The registered name of the view type.
    pub(crate) view: String,
    /// The parent's container id (`None` for a sticky view, which is a root).
    pub(crate) parent: Option<String>,
    /// Values the parent passed for the child's session.
    pub(crate) session: serde_json::Map<String, serde_json::Value>,
}

/// Contents of `data-phx-static`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PageStatic {
    pub(crate) v: u8,
    pub(crate) id: String,
    pub(crate) flash: Flash,
}

/// Why a join's tokens were refused: all of these answer `stale`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PageTokenError {
    #[error("page token: {0}")]
    Token(#[from] TokenError),
    #[error("page token version {0} is not {TOKEN_VSN}")]
    Version(u8),
    #[error("page token is for another container id")]
    WrongId,
}

pub(crate) fn seal_session(keyring: &Keyring, session: &PageSession) -> String {
    keyring.seal(SESSION_PURPOSE, session, MAX_AGE)
}

pub(crate) fn seal_static(keyring: &Keyring, page_static: &PageStatic) -> String {
    keyring.seal(STATIC_PURPOSE, page_static, MAX_AGE)
}

/// Opens `data-phx-session` and checks it belongs to container `id`.
pub(crate) fn open_session(
    keyring: &Keyring,
    token: &str,
    id: &str,
) -> Result<PageSession, PageTokenError> {
    let session: PageSession = keyring.open(SESSION_PURPOSE, token)?;
    if session.v != TOKEN_VSN {
        return Err(PageTokenError::Version(session.v));
    }
    if session.id != id {
        return Err(PageTokenError::WrongId);
    }
    Ok(session)
}

/// Opens `data-phx-static` and checks it belongs to container `id`.
pub(crate) fn open_static(
    keyring: &Keyring,
    token: &str,
    id: &str,
) -> Result<PageStatic, PageTokenError> {
    let page_static: PageStatic = keyring.open(STATIC_PURPOSE, token)?;
    if page_static.v != TOKEN_VSN {
        return Err(PageTokenError::Version(page_static.v));
    }
    if page_static.id != id {
        return Err(PageTokenError::WrongId);
    }
    Ok(page_static)
}

/// A fresh container id: `phx-` + 12 random bytes in base64url, like Phoenix.
pub(crate) fn new_container_id() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    format!(
        "phx-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}
