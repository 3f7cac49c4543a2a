//! `GET /account/avatar`: the signed-in user's own avatar.
//!
//! **Who gets it.** The URL names no user: the image served is always the avatar of the login
//! in the request's session (looked up by [`authenticate`](super::auth::authenticate) on every
//! request), so one user can never ask for another's. Without a login the answer is 403; a user
//! without an avatar gets 404. The `?v=` query the pages add is the file's id and only changes
//! the URL when the avatar changes; it selects nothing.
//!
//! **How.** The `Content-Type` is the type recorded when the image was saved, which was found
//! in the file's first bytes, and the bytes are checked against it again here (a mismatch is a
//! 500, never a guess); `X-Content-Type-Options: nosniff` keeps browsers from guessing
//! otherwise, `Content-Disposition: inline` with a fixed name, a sandboxing
//! `Content-Security-Policy` for the image opened on its own, and `Cache-Control: private,
//! no-store`, so no shared cache keeps a user's picture and a logged-out browser shows it no
//! more.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::auth::CurrentUser;
use crate::avatars::Avatars;

/// The policy of an image opened on its own: nothing may load or run.
const IMAGE_CSP: &str = "default-src 'none'; sandbox";

/// Serves the signed-in user's avatar (see the module documentation).
pub async fn avatar(
    State(avatars): State<Avatars>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
) -> Response {
    let Some(user) = user else {
        return (StatusCode::FORBIDDEN, "Log in to see your avatar.").into_response();
    };
    match avatars.read(user.id).await {
        Ok(Some((avatar, bytes))) => {
            let file_name = format!(
                "inline; filename=\"avatar.{}\"",
                avatar.image_type.extension()
            );
            let mut res = bytes.into_response();
            let headers = res.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(avatar.image_type.mime()),
            );
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(IMAGE_CSP),
            );
            if let Ok(value) = HeaderValue::from_str(&file_name) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            res
        }
        Ok(None) => (StatusCode::NOT_FOUND, "No avatar yet.").into_response(),
        Err(err) => {
            tracing::error!(%err, user_id = user.id, "could not read an avatar");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The avatar cannot be shown.",
            )
                .into_response()
        }
    }
}
