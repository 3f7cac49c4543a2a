//! [`SecurityHeadersLayer`]: the response headers every page of a live app should carry
//! (threat model R5, §4): a Content-Security-Policy that allows only the site's own scripts
//! (livefire's pages need no inline script) and forbids framing, `X-Frame-Options`,
//! `X-Content-Type-Options`, `Referrer-Policy`, and HSTS on https deployments.
//!
//! A header the handler set itself is left alone, so a route can relax or tighten its own
//! policy.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use axum::{Router, body::Body, routing::get};
//! use http::{Request, header};
//! use livefire::SecurityHeadersLayer;
//! use tower::ServiceExt as _;
//!
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hi" }))
//!     .layer(SecurityHeadersLayer::new().hsts(true));
//! let res = app.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
//! let csp = res.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
//! assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
//! assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY");
//! assert_eq!(res.headers()[header::STRICT_TRANSPORT_SECURITY], "max-age=63072000; includeSubDomains");
//! # }
//! ```

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use http::{HeaderName, HeaderValue, Request, Response, header};
use tower::{Layer, Service};

/// The default Content-Security-Policy: scripts, styles, images, fonts and connections from
/// the site itself (the live socket included), inline `style` attributes (the client's JS
/// commands set them), `data:` and `blob:` images (the client's `live_img_preview` hook shows a
/// chosen file through a `blob:` URL of it), no plugins, no framing, forms post to the site only.
pub const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; \
object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Adds security headers to every response: [`DEFAULT_CSP`], `X-Frame-Options`,
/// `X-Content-Type-Options` and `Referrer-Policy` (see [`new`](Self::new)), and HSTS when
/// turned on ([`hsts`](Self::hsts)). A header the handler set itself is left alone, so a route
/// can relax or tighten its own policy.
#[derive(Debug, Clone)]
pub struct SecurityHeadersLayer {
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
}

impl Default for SecurityHeadersLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl SecurityHeadersLayer {
    /// [`DEFAULT_CSP`], `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`,
    /// `Referrer-Policy: strict-origin-when-cross-origin`; no HSTS.
    pub fn new() -> Self {
        Self {
            headers: Arc::new(vec![
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(DEFAULT_CSP),
                ),
                (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
                (
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("strict-origin-when-cross-origin"),
                ),
            ]),
        }
    }

    fn set(mut self, name: HeaderName, value: Option<HeaderValue>) -> Self {
        let headers = Arc::make_mut(&mut self.headers);
        headers.retain(|(n, _)| *n != name);
        if let Some(value) = value {
            headers.push((name, value));
        }
        self
    }

    /// Replaces the Content-Security-Policy.
    ///
    /// # Panics
    /// If `policy` is not a valid header value (control characters).
    pub fn content_security_policy(self, policy: &str) -> Self {
        let value = HeaderValue::from_str(policy).expect("a CSP is a valid header value");
        self.set(header::CONTENT_SECURITY_POLICY, Some(value))
    }

    /// Sends `Strict-Transport-Security: max-age=63072000; includeSubDomains` (two years):
    /// turn it on when the site is served over https (with secure cookies).
    pub fn hsts(self, on: bool) -> Self {
        let value = on.then(|| HeaderValue::from_static(HSTS));
        self.set(header::STRICT_TRANSPORT_SECURITY, value)
    }
}

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeaders {
            inner,
            headers: self.headers.clone(),
        }
    }
}

/// The middleware of [`SecurityHeadersLayer`].
#[derive(Debug, Clone)]
pub struct SecurityHeaders<S> {
    inner: S,
    headers: Arc<Vec<(HeaderName, HeaderValue)>>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SecurityHeaders<S>
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

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let future = self.inner.call(req);
        let headers = self.headers.clone();
        Box::pin(async move {
            let mut response = future.await?;
            for (name, value) in headers.iter() {
                if !response.headers().contains_key(name) {
                    response.headers_mut().insert(name.clone(), value.clone());
                }
            }
            Ok(response)
        })
    }
}
