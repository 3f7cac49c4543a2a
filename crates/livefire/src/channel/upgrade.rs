//! `GET /live/websocket?_csrf_token=…&vsn=2.0.0`: the checks before a socket exists, the
//! WebSocket handshake, and the hand-over to the connection task (docs/protocol.md §1.1).
//!
//! The upgrade is refused unless `vsn` is `2.0.0` (the V2 JSON array framing) and the `Origin`
//! is allowed (cross-site WebSocket hijacking, threat model case 30). The cookie session is
//! handed to the socket only when `_csrf_token` is valid for it (case 32); without it every
//! join is answered `stale` and the client reloads the page.
//!
//! The handshake is done here on top of `tokio-tungstenite` rather than through axum's
//! `WebSocketUpgrade`, so that the connection reads tungstenite's own errors and can answer
//! each protocol violation with the close code RFC 6455 assigns to it (1002, 1007, 1009).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::{ConnInfo, serve};
use crate::client_addr::ClientAddr;
use crate::endpoint::Endpoint;
use crate::serve::ConnectionSlot;
use crate::session::Session;

/// The WebSocket read buffer per connection (tungstenite's default is 128 KiB). It is kept
/// for the connection's whole life, idle or not, and grows to hold the largest frame
/// received (the join, ~0.7 KiB); it also caps the bytes read per `read` call. Clicks and
/// heartbeats fit in one read, bigger frames take a few.
const READ_BUFFER: usize = 256;

/// The live socket endpoint.
pub(crate) async fn websocket(State(endpoint): State<Arc<Endpoint>>, req: Request) -> Response {
    let (mut parts, _body) = req.into_parts();
    let mut vsn = None;
    let mut csrf = None;
    if let Some(query) = parts.uri.query() {
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "vsn" => vsn = Some(value.into_owned()),
                "_csrf_token" => csrf = Some(value.into_owned()),
                // The client sends every key of its params object; ignore the others.
                _ => {}
            }
        }
    }
    if vsn.as_deref() != Some("2.0.0") {
        return (
            StatusCode::BAD_REQUEST,
            "unsupported serializer version (vsn must be 2.0.0)",
        )
            .into_response();
    }
    let secure = parts
        .extensions
        .get::<Session>()
        .is_some_and(Session::is_secure);
    if !endpoint.origin_allowed(&parts.headers, secure) {
        tracing::warn!(origin = ?parts.headers.get(header::ORIGIN), "websocket refused: foreign origin");
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let key = match handshake_key(&parts.method, &parts.headers) {
        Ok(key) => key,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(on_upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
        return (
            StatusCode::UPGRADE_REQUIRED,
            "this connection cannot be upgraded to a WebSocket",
        )
            .into_response();
    };
    let mut info = conn_info(
        &endpoint,
        parts.extensions.get::<Session>(),
        csrf.as_deref(),
    );
    info.client_addr = ClientAddr::of(&parts.extensions);
    // Held for the socket's life: the socket counts against the server's connection limits.
    let slot = parts.extensions.remove::<Arc<ConnectionSlot>>();

    let limits = endpoint.limits;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(limits.max_write_buffer)
        .max_message_size(Some(limits.max_message_size))
        .max_frame_size(Some(limits.max_message_size))
        .accept_unmasked_frames(false);
    // The upgrade and the connection are two tasks: an `async` block keeps everything it
    // captured (the endpoint, the session info, the slot, the config) for its whole life, even
    // after moving it into `serve`, and its size is that of its largest state. The
    // connection's own task holds only `serve`'s future (about 0.2 KiB less per idle socket).
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                tokio::spawn(serve(ws, endpoint, info, slot));
            }
            Err(err) => tracing::debug!(%err, "websocket upgrade failed"),
        }
    });

    let mut res = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = res.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    res
}

/// What the socket may see of the session: everything if the CSRF token matches it,
/// nothing otherwise.
pub(super) fn conn_info(
    endpoint: &Endpoint,
    session: Option<&Session>,
    csrf: Option<&str>,
) -> ConnInfo {
    match (session, csrf) {
        (Some(session), Some(token)) if session.verify_csrf_token(token) => ConnInfo {
            session: Some(Arc::new(session.data())),
            session_id: session.existing_id().map(Arc::from),
            csrf_token: Some(Arc::from(session.csrf_token())),
            live_socket_id: endpoint.socket_id(session),
            client_addr: None,
        },
        (None, _) => {
            tracing::error!(
                "livefire: CookieSessionLayer is missing around the live router; every join will be refused"
            );
            ConnInfo::default()
        }
        _ => ConnInfo::default(),
    }
}

/// Checks the request is a WebSocket handshake (RFC 6455 §4.2.1) and returns its key.
fn handshake_key(
    method: &http::Method,
    headers: &HeaderMap,
) -> Result<String, (StatusCode, &'static str)> {
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    if method != http::Method::GET {
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            "a WebSocket handshake is a GET",
        ));
    }
    if !has_token(header::CONNECTION, "upgrade") || !has_token(header::UPGRADE, "websocket") {
        return Err((
            StatusCode::UPGRADE_REQUIRED,
            "expected a WebSocket upgrade (Connection: upgrade, Upgrade: websocket)",
        ));
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        return Err((StatusCode::BAD_REQUEST, "Sec-WebSocket-Version must be 13"));
    }
    match headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
    {
        Some(key) if !key.is_empty() => Ok(key.to_owned()),
        _ => Err((StatusCode::BAD_REQUEST, "Sec-WebSocket-Key is missing")),
    }
}
