//! [`VerifyCsrfLayer`].

use tower::Layer;

use super::VerifyCsrf;

/// Tower layer that rejects unsafe requests (not `GET`/`HEAD`/`OPTIONS`) lacking a valid CSRF
/// token with 403. Must sit inside [`crate::session::CookieSessionLayer`] (add it with `.layer()`
/// *before* the session layer). See the [module docs](super).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use axum::{Router, body::Body, routing::{get, post}};
/// use http::{Request, StatusCode, header};
/// use livefire::csrf::{CSRF_HEADER, VerifyCsrfLayer};
/// use livefire::session::{Session, CookieSessionLayer};
/// use livefire::token::Keyring;
/// use tower::ServiceExt as _;
///
/// let app: Router = Router::new()
///     .route("/form", get(|session: Session| async move { session.csrf_token() }))
///     .route("/log-out", post(|| async { "logged out" }))
///     .layer(VerifyCsrfLayer::new())
///     .layer(CookieSessionLayer::new(Keyring::random()));
///
/// // The page embeds a masked token; the response sets the session cookie.
/// let res = app.clone().oneshot(Request::get("/form").body(Body::empty()).unwrap()).await.unwrap();
/// let set_cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
/// let cookie = set_cookie.split(';').next().unwrap().to_owned();
/// let token = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
/// let token = std::str::from_utf8(&token).unwrap().to_owned();
/// let log_out = || Request::post("/log-out").header(header::COOKIE, &cookie);
///
/// // No token: 403, and the handler never runs.
/// let res = app.clone().oneshot(log_out().body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(res.status(), StatusCode::FORBIDDEN);
///
/// // The `_csrf_token` field of a url-encoded form, or the `x-csrf-token` header: accepted.
/// let form = log_out()
///     .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
///     .body(Body::from(format!("_csrf_token={token}")))
///     .unwrap();
/// assert_eq!(app.clone().oneshot(form).await.unwrap().status(), StatusCode::OK);
/// let fetch = log_out().header(CSRF_HEADER, &token).body(Body::empty()).unwrap();
/// assert_eq!(app.clone().oneshot(fetch).await.unwrap().status(), StatusCode::OK);
///
/// // The same token without the session cookie (another browser): 403.
/// let forged = Request::post("/log-out").header(CSRF_HEADER, &token).body(Body::empty()).unwrap();
/// assert_eq!(app.oneshot(forged).await.unwrap().status(), StatusCode::FORBIDDEN);
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyCsrfLayer {
    _private: (),
}

impl VerifyCsrfLayer {
    /// The layer (it has no options).
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for VerifyCsrfLayer {
    type Service = VerifyCsrf<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyCsrf::new(inner)
    }
}
