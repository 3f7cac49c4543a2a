//! [`ClientAddr`]: the address of the client behind a request, for per-address limits and
//! logs, taken from the connection ([`serve`](crate::serve) records the peer) or, behind a
//! reverse proxy, from `X-Forwarded-For` **only when the peer is a configured proxy**
//! ([`TrustedProxyLayer`]). A header sent by anybody else is ignored, so a client cannot pick
//! the address its limits are counted against.
//!
//! ```
//! use axum::{Router, routing::get};
//! use livefire::{ClientAddr, TrustedProxyLayer};
//!
//! async fn whoami(ClientAddr(addr): ClientAddr) -> String {
//!     addr.to_string()
//! }
//!
//! let app: Router = Router::new()
//!     .route("/whoami", get(whoami))
//!     // nginx on the same host forwards the real client address.
//!     .layer(TrustedProxyLayer::new(["127.0.0.1/32".parse().unwrap()]));
//! # let _ = app;
//! ```

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, FromRequestParts};
use http::request::Parts;
use http::{Extensions, HeaderMap, HeaderName, Request, StatusCode};
use ipnet::IpNet;
use tower::{Layer, Service};

/// The client's IP address: the connection's peer, as [`serve`](crate::serve) records it, or,
/// for a request from a proxy listed in [`TrustedProxyLayer`], the forwarded client address
/// that layer resolved. A forwarded header from any other peer is ignored.
///
/// As an extractor it fails with `500` when the server records no peer address (an app not
/// run by [`serve`](crate::serve) or `axum::serve(...).into_make_service_with_connect_info()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The client address of a request: the one [`TrustedProxyLayer`] resolved, else the
    /// connection's peer.
    pub(crate) fn of(extensions: &Extensions) -> Option<IpAddr> {
        if let Some(ClientAddr(addr)) = extensions.get::<ClientAddr>() {
            return Some(*addr);
        }
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::of(&parts.extensions).map(ClientAddr).ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "livefire: no client address; run the app with livefire::serve",
        ))
    }
}

/// Resolves [`ClientAddr`] from `X-Forwarded-For` when the peer is one of the given proxies
/// (networks such as `10.0.0.0/8` or single addresses as `/32`). The rightmost address that is
/// not itself a trusted proxy is the client; a request from any other peer keeps the peer's
/// address, whatever it claims.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::net::SocketAddr;
/// use axum::{Router, body::Body, extract::ConnectInfo, routing::get};
/// use http::Request;
/// use livefire::{ClientAddr, TrustedProxyLayer};
/// use tower::ServiceExt as _;
///
/// let app = Router::new()
///     .route("/", get(|ClientAddr(addr): ClientAddr| async move { addr.to_string() }))
///     .layer(TrustedProxyLayer::new(["10.0.0.0/8".parse().unwrap()]));
/// let call = |peer: &str, forwarded: &str| {
///     let mut req = Request::get("/").header("x-forwarded-for", forwarded).body(Body::empty()).unwrap();
///     req.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
///     let app = app.clone();
///     async move {
///         let body = app.oneshot(req).await.unwrap().into_body();
///         String::from_utf8(axum::body::to_bytes(body, 64).await.unwrap().to_vec()).unwrap()
///     }
/// };
/// // Through the proxy: the forwarded client.
/// assert_eq!(call("10.1.2.3:5000", "203.0.113.9, 10.0.0.7").await, "203.0.113.9");
/// // Straight from the internet: the header is ignored.
/// assert_eq!(call("198.51.100.4:5000", "203.0.113.9").await, "198.51.100.4");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TrustedProxyLayer {
    proxies: Arc<[IpNet]>,
    header: HeaderName,
}

impl TrustedProxyLayer {
    /// Trusts `X-Forwarded-For` from these proxies.
    pub fn new(proxies: impl IntoIterator<Item = IpNet>) -> Self {
        Self {
            proxies: proxies.into_iter().collect(),
            header: HeaderName::from_static("x-forwarded-for"),
        }
    }

    /// Reads another header with the same comma-separated format (e.g. `x-real-ip`).
    pub fn header(mut self, header: HeaderName) -> Self {
        self.header = header;
        self
    }
}

impl<S> Layer<S> for TrustedProxyLayer {
    type Service = TrustedProxy<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TrustedProxy {
            inner,
            config: self.clone(),
        }
    }
}

/// The middleware of [`TrustedProxyLayer`].
#[derive(Debug, Clone)]
pub struct TrustedProxy<S> {
    inner: S,
    config: TrustedProxyLayer,
}

impl TrustedProxyLayer {
    fn trusted(&self, addr: IpAddr) -> bool {
        self.proxies.iter().any(|net| net.contains(&addr))
    }

    fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted(peer) {
            return peer;
        }
        let mut client = peer;
        // Right to left: each hop appended the address it received the request from.
        let hops = headers
            .get_all(&self.header)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(addr) => {
                    client = addr;
                    if !self.trusted(addr) {
                        break;
                    }
                }
                // A garbled entry: stop at the last address we could trust.
                Err(_) => break,
            }
        }
        client
    }
}

impl<S, B> Service<Request<B>> for TrustedProxy<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        if let Some(peer) = peer {
            let client = self.config.resolve(peer, req.headers());
            req.extensions_mut().insert(ClientAddr(client));
        }
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", value.parse().unwrap());
        h
    }

    #[test]
    fn only_trusted_peers_may_forward() {
        let layer = TrustedProxyLayer::new(["10.0.0.0/8".parse().unwrap()]);
        let proxy: IpAddr = [10, 0, 0, 1].into();
        let stranger: IpAddr = [198, 51, 100, 4].into();
        assert_eq!(
            layer.resolve(stranger, &headers("1.2.3.4")),
            stranger,
            "a header from an untrusted peer is ignored"
        );
        assert_eq!(
            layer.resolve(proxy, &headers("1.2.3.4")),
            IpAddr::from([1, 2, 3, 4])
        );
        // A client that prepends a fake address does not win: the rightmost untrusted hop is
        // the one the proxy saw.
        assert_eq!(
            layer.resolve(proxy, &headers("6.6.6.6, 1.2.3.4, 10.9.9.9")),
            IpAddr::from([1, 2, 3, 4])
        );
        assert_eq!(layer.resolve(proxy, &HeaderMap::new()), proxy);
        assert_eq!(layer.resolve(proxy, &headers("garbage")), proxy);
    }
}
