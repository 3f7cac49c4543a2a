//! [`CookieSession`]: the middleware produced by [`super::CookieSessionLayer`].

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::{Request, Response};
use tower::Service;

use super::{Session, SessionConfig};

/// Middleware that puts a [`Session`] into the request extensions and writes the session
/// cookie into the response. Built by [`super::CookieSessionLayer`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, header};
/// use livefire::session::{Session, CookieSessionLayer};
/// use livefire::token::Keyring;
/// use tower::ServiceExt as _;
///
/// async fn visit(session: Session) -> String {
///     let n: u64 = session.get("visits").unwrap_or(0) + 1;
///     session.insert("visits", n).expect("small value");
///     n.to_string()
/// }
/// let app: Router = Router::new().route("/", get(visit)).layer(CookieSessionLayer::new(Keyring::random()));
/// let get = |cookie: &str| Request::get("/").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
/// let text = |res: axum::response::Response| async {
///     String::from_utf8(axum::body::to_bytes(res.into_body(), 64).await.unwrap().to_vec()).unwrap()
/// };
///
/// let res = app.clone().oneshot(get("")).await.unwrap();
/// let set_cookie = res.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
/// assert!(set_cookie.starts_with("livefire_session="));
/// assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));
/// assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
/// assert_eq!(text(res).await, "1");
///
/// // The browser sends the cookie back: the session continues.
/// let cookie = set_cookie.split(';').next().unwrap();
/// assert_eq!(text(app.clone().oneshot(get(cookie)).await.unwrap()).await, "2");
///
/// // A tampered cookie reads as an empty session, never as an error.
/// let (head, tail) = cookie.split_at(cookie.len() / 2);
/// let flipped = if tail.starts_with('A') { 'B' } else { 'A' };
/// let tampered = format!("{head}{flipped}{}", &tail[1..]);
/// assert_eq!(text(app.oneshot(get(&tampered)).await.unwrap()).await, "1");
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct CookieSession<S> {
    inner: S,
    config: Arc<SessionConfig>,
}

impl<S> CookieSession<S> {
    pub(crate) fn new(inner: S, config: Arc<SessionConfig>) -> Self {
        Self { inner, config }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CookieSession<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let session = Session::load(self.config.clone(), req.headers());
        req.extensions_mut().insert(session.clone());
        let future = self.inner.call(req);
        Box::pin(async move {
            let mut response = future.await?;
            session.write_response(response.headers_mut());
            Ok(response)
        })
    }
}
