//! Pub/sub across two "nodes" through a real Redis (feature `pubsub-redis`).
//!
//! Needs Redis at `REDIS_URL` (default `redis://127.0.0.1:6379/`); `scripts/test.sh` starts
//! one. Without it these tests fail: they never skip. The crate's dev-dependencies turn the
//! feature on, so `cargo test -p livefire` always builds and runs them.

mod support;

use std::time::Duration;

use axum::Router;
use livefire::LiveRouter;
use livefire::pubsub::PubSub;
use livefire::session::CookieSessionLayer;
use livefire::sockets::LiveSockets;
use livefire::token::Keyring;
use serde_json::json;
use support::*;

async fn redis() -> PubSub {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    match PubSub::redis(&url).await {
        Ok(pubsub) => pubsub,
        Err(err) => panic!(
            "Redis is required for this test and is not reachable at {url}: {err}. \
             Start one (`redis-server`) or set REDIS_URL."
        ),
    }
}

/// A unique topic per run, so parallel runs sharing one Redis do not see each other.
fn unique(prefix: &str) -> &'static str {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Box::leak(format!("{prefix}:{suffix}").into_boxed_str())
}

/// One node: its own server, the shared keyring, its own Redis-bridged pub/sub. Every socket
/// with a valid session registers under `live_socket_id`.
async fn node(
    pubsub: &PubSub,
    topic: &'static str,
    live_socket_id: &'static str,
) -> (Router, std::net::SocketAddr, LiveSockets) {
    let keyring = Keyring::new([5u8; 64]).unwrap();
    let view_pubsub = pubsub.clone();
    let router = LiveRouter::new(keyring.clone())
        .pubsub(pubsub.clone())
        .socket_id(move |_session| Some(live_socket_id.to_owned()))
        .live("/", move || Listener::new(view_pubsub.clone(), topic));
    let sockets = router.sockets();
    let app = router
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring));
    let addr = serve(app.clone()).await;
    (app, addr, sockets)
}

async fn joined(app: &Router, addr: std::net::SocketAddr) -> (Page, Ws) {
    let page = get(app, "/", None).await;
    let mut ws = connect(addr, &page).await;
    let reply = join(&mut ws, &page, "1").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    (page, ws)
}

/// A broadcast on node A reaches a subscriber on B exactly once, and one on A exactly once
/// (A delivers its own broadcast locally and skips the copy coming back from Redis).
#[tokio::test]
async fn a_broadcast_on_one_node_reaches_every_node_exactly_once() {
    let topic = unique("news");
    let (pubsub_a, pubsub_b) = (redis().await, redis().await);
    let (app_a, addr_a, _) = node(&pubsub_a, topic, "unused").await;
    let (app_b, addr_b, _) = node(&pubsub_b, topic, "unused").await;
    let (_, mut ws_a) = joined(&app_a, addr_a).await;
    let (_, mut ws_b) = joined(&app_b, addr_b).await;

    pubsub_a.broadcast(topic, json!({"text": "from A"}));
    for ws in [&mut ws_a, &mut ws_b] {
        let push = recv(ws).await;
        assert_eq!(push[3], "diff", "{push}");
        assert_eq!(push[4], json!({"0": "1", "1": "from A"}), "{push}");
    }
    // No second copy on either node.
    assert_eq!(
        maybe_recv(&mut ws_a, Duration::from_millis(300)).await,
        None
    );
    assert_eq!(
        maybe_recv(&mut ws_b, Duration::from_millis(300)).await,
        None
    );
}

/// docs/threat-model.md case 78: a logout on node A disconnects the sockets of that login on node B
/// (close code 1001) through the Redis pub/sub, within a second.
#[tokio::test]
async fn a_logout_on_node_a_closes_the_socket_on_node_b() {
    let id = unique("users_sessions");
    let topic = unique("unused");
    let (pubsub_a, pubsub_b) = (redis().await, redis().await);
    let (_app_a, _addr_a, sockets_a) = node(&pubsub_a, topic, id).await;
    let (app_b, addr_b, sockets_b) = node(&pubsub_b, topic, id).await;
    let (_, mut ws_b) = joined(&app_b, addr_b).await;
    assert_eq!(sockets_b.count(id), 1);

    // Node A has no socket of its own for this login.
    assert_eq!(sockets_a.disconnect(id), 0);
    assert_eq!(
        close_code(&mut ws_b, Duration::from_secs(1)).await,
        Some(1001),
        "node B's socket was not closed with 1001 within 1 s"
    );
    assert_eq!(sockets_b.count(id), 0);
}
