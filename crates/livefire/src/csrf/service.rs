//! [`VerifyCsrf`]: the middleware produced by [`super::VerifyCsrfLayer`].

use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, Request, StatusCode};
use tower::Service;

use super::{CSRF_FORM_FIELD, CSRF_HEADER, MAX_FORM_BODY};
use crate::session::Session;

/// Middleware enforcing CSRF tokens on unsafe requests. Built by [`super::VerifyCsrfLayer`].
///
/// Safe methods (`GET`, `HEAD`, `OPTIONS`) pass straight through; anything else needs a
/// [`Session`] in the request extensions, so a missing
/// [`CookieSessionLayer`](crate::session::CookieSessionLayer) is a `500`, never an open door.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::convert::Infallible;
/// use axum::body::Body;
/// use axum::response::Response;
/// use http::{Request, StatusCode};
/// use livefire::csrf::VerifyCsrfLayer;
/// use tower::{Layer as _, ServiceExt as _, service_fn};
///
/// let handler = service_fn(|_req: Request<Body>| async {
///     Ok::<_, Infallible>(Response::new(Body::empty()))
/// });
/// let service = VerifyCsrfLayer::new().layer(handler);
/// let _inner = service.get_ref();
///
/// let get = Request::get("/").body(Body::empty()).unwrap();
/// assert_eq!(service.clone().oneshot(get).await.unwrap().status(), StatusCode::OK);
/// // No CookieSessionLayer around it: unsafe requests are refused.
/// let delete = Request::delete("/account").body(Body::empty()).unwrap();
/// assert_eq!(service.oneshot(delete).await.unwrap().status(), StatusCode::INTERNAL_SERVER_ERROR);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct VerifyCsrf<S> {
    inner: S,
}

impl<S> VerifyCsrf<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self { inner }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_urlencoded_form<B>(req: &Request<B>) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn reject(status: StatusCode, reason: &'static str, req_parts: &http::request::Parts) -> Response {
    tracing::info!(
        method = %req_parts.method,
        path = req_parts.uri.path(),
        reason,
        "request refused by CSRF protection"
    );
    let body = match status {
        StatusCode::FORBIDDEN => "invalid CSRF token",
        StatusCode::PAYLOAD_TOO_LARGE => "form body too large",
        _ => "CSRF protection needs livefire::session::CookieSessionLayer around this route",
    };
    (status, body).into_response()
}

impl<S> Service<Request<Body>> for VerifyCsrf<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if is_safe(req.method()) {
            return Box::pin(self.inner.call(req));
        }
        // Drive the service that was polled ready; leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let Some(session) = parts.extensions.get::<Session>().cloned() else {
                tracing::error!(
                    "VerifyCsrfLayer used without CookieSessionLayer; refusing the request"
                );
                return Ok(reject(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "no session layer",
                    &parts,
                ));
            };

            if let Some(token) = parts.headers.get(CSRF_HEADER) {
                let valid = token
                    .to_str()
                    .is_ok_and(|token| session.verify_csrf_token(token));
                if valid {
                    return inner.call(Request::from_parts(parts, body)).await;
                }
            }

            let req = Request::from_parts(parts, body);
            if !is_urlencoded_form(&req) {
                let (parts, _) = req.into_parts();
                return Ok(reject(StatusCode::FORBIDDEN, "no valid token", &parts));
            }
            let (parts, body) = req.into_parts();
            let declared_too_large = parts
                .headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|len| len > MAX_FORM_BODY as u64);
            if declared_too_large {
                return Ok(reject(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "form too large",
                    &parts,
                ));
            }
            let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BODY).await else {
                return Ok(reject(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "form too large or unreadable",
                    &parts,
                ));
            };
            let valid = form_urlencoded::parse(&bytes)
                .find(|(key, _)| key == CSRF_FORM_FIELD)
                .is_some_and(|(_, token)| session.verify_csrf_token(&token));
            if !valid {
                return Ok(reject(StatusCode::FORBIDDEN, "no valid token", &parts));
            }
            inner
                .call(Request::from_parts(parts, Body::from(bytes)))
                .await
        })
    }
}
