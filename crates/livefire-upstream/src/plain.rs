//! The plain (non-live) routes of `test_helper.exs`: `/health`, `/halt`, `/submit`, `/eval`,
//! the dead `/navigation/dead` page and the uploaded files under `/tmp/lvupload/`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use livefire::form::Form;
use livefire::session::Session;
use serde_json::Value;

/// The plain routes.
pub fn router() -> Router {
    Router::new()
        .route("/health", get(|| async { "OK" }))
        .route("/halt", post(halt))
        .route("/submit", post(submit))
        .route("/eval", post(crate::eval::plug))
        .route("/navigation/dead", get(dead))
        .route("/tmp/lvupload/{name}", get(download))
        // Debian's Chromium (unlike Playwright's headless shell) asks for a favicon on every
        // page load; a 404 would be logged as a console error, which some specs fail on.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .fallback(not_found)
}

/// Unknown routes: `404 Not Found` with a body, as upstream's `ErrorHTML` (Chromium shows its own
/// error page, `chrome-error://`, for an empty 404).
async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "Not Found")
}

/// `POST /halt`: upstream stops the server (the teardown of the suite).
async fn halt() -> &'static str {
    tracing::info!("POST /halt: stopping");
    std::process::exit(0)
}

/// `POST /submit`: echoes the form params as JSON.
async fn submit(body: Bytes) -> impl IntoResponse {
    let text = String::from_utf8_lossy(&body);
    let params = Form::parse(&text).map_or(Value::Null, Form::into_value);
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        params.to_string(),
    )
}

/// `GET /tmp/lvupload/{name}`: a file `UploadLive`'s "save" copied (upstream serves
/// `System.tmp_dir!()` at `/tmp` with `Plug.Static`; the names have no extension, so they are
/// served as `application/octet-stream` and the browser downloads them).
async fn download(Path(name): Path<String>) -> Response {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with('.');
    if !plain {
        return not_found().await.into_response();
    }
    match tokio::fs::read(crate::views::upload::download_dir().join(&name)).await {
        Ok(body) => ([(header::CONTENT_TYPE, "application/octet-stream")], body).into_response(),
        Err(_) => not_found().await.into_response(),
    }
}

/// `GET /navigation/dead`: a controller page in the navigation layout.
async fn dead(session: Session) -> Html<String> {
    let token = session.csrf_token();
    let body = crate::views::navigation::layout(&token, livefire::html!(<h1>"Dead view"</h1>));
    Html(livefire::html!(<!DOCTYPE html> {body}).to_html())
}
