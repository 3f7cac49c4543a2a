//! In-process pub/sub reaching live views over a real socket.

mod support;

use std::time::Duration;

use axum::Router;
use livefire::LiveRouter;
use livefire::pubsub::PubSub;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use serde_json::json;
use support::*;

fn app(pubsub: &PubSub) -> Router {
    let keyring = Keyring::new([9u8; 64]).unwrap();
    let pubsub = pubsub.clone();
    LiveRouter::new(keyring.clone())
        .live("/", move || Listener::new(pubsub.clone(), "news"))
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

/// A view that subscribed in its connected mount gets a broadcast from outside as a `diff`
/// push `[join_ref, null, topic, "diff", …]`; values its map rejects produce nothing.
#[tokio::test]
async fn a_broadcast_from_outside_is_a_diff_push() {
    let pubsub = PubSub::local();
    let app = app(&pubsub);
    let addr = serve(app.clone()).await;
    let page = get(&app, "/", None).await;
    // The dead render does not subscribe.
    assert_eq!(pubsub.subscribers("news"), 0);
    assert!(
        page.html.contains(r#"<p id="count">0</p>"#),
        "{}",
        page.html
    );

    let mut ws = connect(addr, &page).await;
    let reply = join(&mut ws, &page, "1").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert_eq!(pubsub.subscribers("news"), 1);

    pubsub.broadcast("news", json!({"number": 1})); // filtered out by the view's map
    pubsub.broadcast("news", json!({"text": "hello"}));
    let push = recv(&mut ws).await;
    assert_eq!(push[0], "1");
    assert_eq!(push[1], json!(null));
    assert_eq!(push[2], page.topic());
    assert_eq!(push[3], "diff");
    assert_eq!(push[4], json!({"0": "1", "1": "hello"}), "{push}");
    assert_eq!(maybe_recv(&mut ws, Duration::from_millis(200)).await, None);

    // The subscription lives exactly as long as the view.
    drop(ws);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while pubsub.subscribers("news") > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscription outlived the view"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
