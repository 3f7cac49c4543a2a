//! Limits and protocol violations (docs/threat-model.md R8, §5, cases 3, 30, 38, 39, 41, 46),
//! and graceful shutdown (case 82): each test fails when the expected refusal or close code does
//! not arrive.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get as get_route;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{LiveRouter, LiveView, RateLimit, Rendered, SecurityHeadersLayer, Socket, html};
use serde_json::json;
use std::future::IntoFuture as _;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

#[derive(Default)]
struct Hello;

impl LiveView for Hello {
    type Message = ();
    fn render(&self, _: &Socket) -> Rendered {
        html!(<p>"hello"</p>)
    }
}

fn keyring() -> Keyring {
    Keyring::new([77u8; 64]).unwrap()
}

fn app(limits: livefire::Limits) -> Router {
    let keyring = keyring();
    LiveRouter::new(keyring.clone())
        .limits(limits)
        .live("/", Hello::default)
        .build()
        .expect("valid live routes")
        .route("/plain", get_route(|| async { "plain" }))
        .route(
            "/slow",
            get_route(|| async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                "slow"
            }),
        )
        .route("/hang", get_route(std::future::pending::<&'static str>))
        .layer(CookieSessionLayer::new(keyring))
}

/// Runs `app` with `livefire::serve` on 127.0.0.1.
async fn served(app: Router, limits: livefire::Limits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { livefire::serve(listener, app).limits(limits).await });
    addr
}

/// Reads until the peer closes (or `wait` passes); returns what was read and whether it closed.
async fn read_to_close(stream: &mut TcpStream, wait: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, false),
        }
    }
}

#[tokio::test]
async fn case_3_header_read_timeout_cuts_off_a_slow_client() {
    let limits = livefire::Limits {
        header_read_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let addr = served(app(limits), limits).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    // A head that never ends: one more header line every 100 ms.
    slow.write_all(b"GET /plain HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let closed = async {
        for i in 0..30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if slow
                .write_all(format!("X-{i}: y\r\n").as_bytes())
                .await
                .is_err()
            {
                return true;
            }
        }
        false
    };
    let cut_by_writes = closed.await;
    let (_, cut_by_read) = read_to_close(&mut slow, Duration::from_secs(1)).await;
    assert!(
        cut_by_writes || cut_by_read,
        "the slow client was still connected after {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    // A normal client is served.
    let mut ok = TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (response, _) = read_to_close(&mut ok, Duration::from_secs(2)).await;
    assert!(String::from_utf8_lossy(&response).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn case_3_a_large_head_is_answered_431() {
    let limits = livefire::Limits::default();
    let addr = served(app(limits), limits).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let cookie = "a".repeat(32 * 1024);
    let request = format!(
        "GET /plain HTTP/1.1\r\nHost: x\r\nCookie: c={cookie}\r\nConnection: close\r\n\r\n"
    );
    let _ = client.write_all(request.as_bytes()).await;
    let (response, closed) = read_to_close(&mut client, Duration::from_secs(2)).await;
    assert!(
        String::from_utf8_lossy(&response).starts_with("HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    assert!(closed);
}

#[tokio::test]
async fn case_39_per_address_connection_cap() {
    let limits = livefire::Limits {
        max_connections_per_address: 2,
        ..Default::default()
    };
    let addr = served(app(limits), limits).await;
    let _idle1 = TcpStream::connect(addr).await.unwrap();
    let _idle2 = TcpStream::connect(addr).await.unwrap();
    // Give the server a moment to admit both.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    let (response, closed) = read_to_close(&mut third, Duration::from_secs(2)).await;
    assert!(
        String::from_utf8_lossy(&response).starts_with("HTTP/1.1 503"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    assert!(closed, "the refused connection must be closed");
    // Another address is served normally.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = socket.connect(addr).await.unwrap();
    other
        .write_all(b"GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (response, _) = read_to_close(&mut other, Duration::from_secs(2)).await;
    assert!(String::from_utf8_lossy(&response).starts_with("HTTP/1.1 200"));
}

/// A socket that sends more joins than its join rate allows is closed with 1008.
#[tokio::test]
async fn case_38_join_flood_closes_with_1008() {
    let limits = livefire::Limits {
        joins: RateLimit {
            per_second: 1.0,
            burst: 3.0,
        },
        ..Default::default()
    };
    let app = app(limits);
    let addr = serve(app.clone()).await;
    let page = get(&app, "/", None).await;
    let mut ws = connect(addr, &page).await;
    for i in 0..3 {
        let jr = (i + 1).to_string();
        send(
            &mut ws,
            json!([jr, jr, page.topic(), "phx_join", page.join_payload("/")]),
        )
        .await;
    }
    send(
        &mut ws,
        json!(["9", "9", page.topic(), "phx_join", page.join_payload("/")]),
    )
    .await;
    assert_eq!(
        close_code(&mut ws, Duration::from_secs(3)).await,
        Some(1008)
    );
}

#[tokio::test]
async fn views_per_socket_cap_refuses_more_joins() {
    let limits = livefire::Limits {
        max_views_per_socket: 2,
        ..Default::default()
    };
    let app = app(limits);
    let addr = serve(app.clone()).await;
    let first = get(&app, "/", None).await;
    let cookie = first.cookie.clone();
    let mut pages = vec![first];
    for _ in 0..2 {
        pages.push(get(&app, "/", cookie.as_deref()).await);
    }
    let mut ws = connect(addr, &pages[0]).await;
    for (i, page) in pages.iter().enumerate() {
        let jr = (i + 1).to_string();
        send(
            &mut ws,
            json!([jr, jr, page.topic(), "phx_join", page.join_payload("/")]),
        )
        .await;
        let reply = recv(&mut ws).await;
        if i < 2 {
            assert_eq!(reply[4]["status"], "ok", "{reply}");
        } else {
            assert_eq!(
                reply[4],
                json!({"status": "error", "response": {"reason": "too many views"}})
            );
        }
    }
}

/// case 41: a frame with a `null` (or numeric) topic gets an error reply; the socket lives on.
#[tokio::test]
async fn case_41_null_topic_gets_an_error_reply() {
    let app = app(livefire::Limits::default());
    let addr = serve(app.clone()).await;
    let page = get(&app, "/", None).await;
    let mut ws = connect(addr, &page).await;
    send(&mut ws, json!([null, "3", null, "heartbeat", {}])).await;
    assert_eq!(
        recv(&mut ws).await,
        json!([null, "3", null, "phx_reply", {"status": "error", "response": {"reason": "malformed frame"}}])
    );
    send(&mut ws, json!([null, "4", 17, "heartbeat", {}])).await;
    assert_eq!(recv(&mut ws).await[4]["status"], "error");
    send(&mut ws, json!([null, "5", "phoenix", "heartbeat", {}])).await;
    assert_eq!(recv(&mut ws).await[4]["status"], "ok");
}

// --- Raw WebSocket frames -------------------------------------------------------------------

/// Upgrades a raw TCP connection to `/live/websocket` (no session: none is needed to upgrade).
async fn raw_ws(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /live/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    stream
}

/// A client frame: `first` is the FIN/RSV/opcode byte; masked unless `mask` is false.
fn frame(first: u8, payload: &[u8], mask: bool) -> Vec<u8> {
    let mut out = vec![first];
    let mask_bit = if mask { 0x80 } else { 0 };
    if payload.len() < 126 {
        out.push(mask_bit | payload.len() as u8);
    } else {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    if mask {
        let key = [0x12, 0x34, 0x56, 0x78];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// The close code of the server's close frame (frames from the server are unmasked), or None
/// if the connection ended without one.
async fn server_close_code(stream: &mut TcpStream) -> Option<u16> {
    let (bytes, _) = read_to_close(stream, Duration::from_secs(3)).await;
    let mut i = 0;
    while i + 2 <= bytes.len() {
        let opcode = bytes[i] & 0x0f;
        let mut len = usize::from(bytes[i + 1] & 0x7f);
        let mut at = i + 2;
        if len == 126 {
            len = usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
            at += 2;
        }
        if opcode == 8 && len >= 2 {
            return Some(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
        }
        i = at + len;
    }
    None
}

async fn violation_closes_with_1002(bytes: Vec<u8>) {
    let app = app(livefire::Limits::default());
    let addr = serve(app).await;
    let mut stream = raw_ws(addr).await;
    // A well-formed heartbeat first: the socket works.
    let heartbeat = br#"[null,"1","phoenix","heartbeat",{}]"#;
    stream
        .write_all(&frame(0x81, heartbeat, true))
        .await
        .unwrap();
    let _ = stream.write_all(&bytes).await;
    assert_eq!(server_close_code(&mut stream).await, Some(1002));
}

#[tokio::test]
async fn case_46_unmasked_frame_closes_with_1002() {
    violation_closes_with_1002(frame(0x81, b"[]", false)).await;
}

#[tokio::test]
async fn case_46_reserved_bit_closes_with_1002() {
    violation_closes_with_1002(frame(0xC1, b"[]", true)).await;
}

#[tokio::test]
async fn case_46_unknown_opcode_closes_with_1002() {
    violation_closes_with_1002(frame(0x83, b"[]", true)).await;
}

#[tokio::test]
async fn case_46_oversized_ping_closes_with_1002() {
    violation_closes_with_1002(frame(0x89, &[7u8; 126], true)).await;
}

#[tokio::test]
async fn case_46_fragmented_ping_closes_with_1002() {
    violation_closes_with_1002(frame(0x09, b"hi", true)).await;
}

// --- Origin ---------------------------------------------------------------------------------

async fn upgrade_status(addr: SocketAddr, origin: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET /live/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: app.example\r\nOrigin: {origin}\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = [0u8; 12];
    stream.read_exact(&mut buf).await.unwrap();
    std::str::from_utf8(&buf[9..12]).unwrap().parse().unwrap()
}

fn secure_app(origins: Option<&[&str]>) -> Router {
    let keyring = keyring();
    let mut router = LiveRouter::new(keyring.clone()).live("/", Hello::default);
    if let Some(origins) = origins {
        router = router.allowed_origins(origins.iter().copied());
    }
    router
        .build()
        .unwrap()
        .layer(CookieSessionLayer::new(keyring).secure(true))
}

/// case 30: on a secure instance the scheme counts: `http://` is not the `https://` origin.
#[tokio::test]
async fn case_30_origin_scheme_matters_on_a_secure_instance() {
    let addr = serve(secure_app(Some(&["https://app.example"]))).await;
    assert_eq!(upgrade_status(addr, "https://app.example").await, 101);
    assert_eq!(upgrade_status(addr, "http://app.example").await, 403);
    assert_eq!(upgrade_status(addr, "https://app.example:8443").await, 403);
    assert_eq!(upgrade_status(addr, "https://evil.example").await, 403);
}

/// case 30: a secure instance without an allowlist trusts no origin (never `Host`).
#[tokio::test]
async fn case_30_secure_instance_without_allowlist_refuses_browsers() {
    let addr = serve(secure_app(None)).await;
    assert_eq!(upgrade_status(addr, "https://app.example").await, 403);
    assert_eq!(upgrade_status(addr, "http://app.example").await, 403);
}

/// case 30, development default: only `http://` + the request's own Host.
#[tokio::test]
async fn case_30_development_default_is_http_and_own_host() {
    let addr = serve(app(livefire::Limits::default())).await;
    assert_eq!(upgrade_status(addr, "http://app.example").await, 101);
    assert_eq!(upgrade_status(addr, "https://app.example").await, 403);
    assert_eq!(upgrade_status(addr, "http://evil.example").await, 403);
}

// --- Headers --------------------------------------------------------------------------------

/// A response to a request with a session cookie is never cached (case 9, O10), unless the
/// handler set its own policy.
#[tokio::test]
async fn responses_that_depend_on_the_session_are_no_store() {
    let app = app(livefire::Limits::default());
    let page = get(&app, "/", None).await;
    let cookie = page.cookie.clone().expect("session cookie");
    let res = tower::ServiceExt::oneshot(
        app.clone(),
        axum::http::Request::get("/plain")
            .header("cookie", &cookie)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    // Static assets keep their own policy.
    let res = tower::ServiceExt::oneshot(
        app,
        axum::http::Request::get("/assets/livefire.js")
            .header("cookie", &cookie)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.headers()["cache-control"], "public, max-age=3600");
}

/// The security headers layer on a live page: a CSP without inline scripts, which the page
/// satisfies (it has no inline script), no framing, HSTS when asked.
#[tokio::test]
async fn security_headers_on_live_pages() {
    let app = app(livefire::Limits::default()).layer(SecurityHeadersLayer::new().hsts(true));
    let res = tower::ServiceExt::oneshot(
        app,
        axum::http::Request::get("/")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    let headers = res.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe-inline'")
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    assert_eq!(
        headers["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let html = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        !html.contains("<script>"),
        "an inline script would break the CSP: {html}"
    );
    assert!(html.contains(r#"<script defer src="/assets/livefire.js"></script>"#));
}

// --- Graceful shutdown ----------------------------------------------------------------------

/// Runs `app` with `livefire::serve` until the returned sender fires (or is dropped).
fn served_until_stopped(
    listener: tokio::net::TcpListener,
    app: Router,
    drain: Duration,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        livefire::serve(listener, app)
            .drain_timeout(drain)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    (stop, server)
}

/// Writes one keep-alive request and reads its whole response (a body of `len` bytes).
async fn keep_alive_request(stream: &mut TcpStream, path: &str, body: &str) -> String {
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&response).ends_with(body) {
        let n = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf))
            .await
            .expect("a response")
            .unwrap();
        assert!(n > 0, "closed before the response ended");
        response.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(response).unwrap()
}

/// case 82: after the shutdown signal the listener refuses new connections, an idle
/// keep-alive connection is closed, a live socket gets a close frame with 1012 (so the client
/// reconnects rather than reloads), and the server's future completes well within the drain
/// time.
#[tokio::test]
async fn case_82_graceful_shutdown_refuses_connections_and_closes_sockets_with_1012() {
    let app = app(livefire::Limits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, server) = served_until_stopped(listener, app.clone(), Duration::from_secs(10));

    let page = get(&app, "/", None).await;
    let mut ws = connect(addr, &page).await;
    let reply = join(&mut ws, &page, "1").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let response = keep_alive_request(&mut idle, "/plain", "plain").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let started = tokio::time::Instant::now();
    stop.send(()).unwrap();
    assert_eq!(
        close_code(&mut ws, Duration::from_secs(3)).await,
        Some(1012),
        "the live socket is closed with 1012 (service restart)"
    );
    let (_, closed) = read_to_close(&mut idle, Duration::from_secs(3)).await;
    assert!(closed, "the idle keep-alive connection is closed");
    let refused = TcpStream::connect(addr).await;
    assert!(
        refused.is_err(),
        "the listener still accepts connections after the signal"
    );
    let result = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server returns once its connections are closed")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// case 82: a request in progress when the signal comes is still answered (and its connection
/// then closed); a request that never ends is cut off at the drain time, and the server
/// returns then instead of waiting for it.
#[tokio::test]
async fn case_82_graceful_shutdown_answers_requests_in_progress_and_bounds_the_drain() {
    let app = app(livefire::Limits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let drain = Duration::from_millis(1500);
    let (stop, server) = served_until_stopped(listener, app, drain);

    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut hung = TcpStream::connect(addr).await.unwrap();
    hung.write_all(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Both requests reached their handlers.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = tokio::time::Instant::now();
    stop.send(()).unwrap();

    let (response, closed) = read_to_close(&mut slow, Duration::from_secs(3)).await;
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 200") && response.ends_with("slow"),
        "the request in progress is answered: {response}"
    );
    assert!(
        response.to_ascii_lowercase().contains("connection: close"),
        "{response}"
    );
    assert!(closed, "and its connection closed");

    let result = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the drain is bounded")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    let took = started.elapsed();
    assert!(
        took >= drain - Duration::from_millis(100) && took < drain + Duration::from_secs(1),
        "the server waited {took:?} for a drain time of {drain:?}"
    );
    let (response, closed) = read_to_close(&mut hung, Duration::from_secs(2)).await;
    assert!(
        response.is_empty(),
        "{}",
        String::from_utf8_lossy(&response)
    );
    assert!(closed, "the hung connection is dropped at the drain time");
}
