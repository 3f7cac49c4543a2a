//! [`SessionService`]: the middleware produced by [`super::SessionLayer`].

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::{Request, Response};
use tower::Service;

use super::{Session, SessionConfig};

/// Middleware that puts a [`Session`] into the request extensions and writes the session
/// cookie into the response. Built by [`super::SessionLayer`].
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
    config: Arc<SessionConfig>,
}

impl<S> SessionService<S> {
    pub(crate) fn new(inner: S, config: Arc<SessionConfig>) -> Self {
        Self { inner, config }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
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
