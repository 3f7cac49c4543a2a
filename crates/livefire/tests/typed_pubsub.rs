//! Typed pub/sub on the socket over a real socket: `subscribe_typed` from `handle_params`,
//! switching topics on a patch, no duplicates on re-subscribing, decode failures counted.

mod support;

use std::time::Duration;

use axum::Router;
use livefire::pubsub::PubSub;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{LiveRouter, LiveView, Params, Rendered, Socket, html};
use serde_json::{Value, json};
use support::*;

#[derive(serde::Deserialize)]
struct Posted {
    text: String,
}

struct Room {
    pubsub: PubSub,
    room: String,
    lines: Vec<String>,
}

impl LiveView for Room {
    type Message = Posted;

    async fn handle_params(
        &mut self,
        params: &Params,
        socket: &mut Socket<Posted>,
    ) -> livefire::Result {
        let room = params.query("room").unwrap_or("lobby").to_owned();
        if room != self.room {
            socket.unsubscribe(&format!("room:{}", self.room));
            self.room = room;
        }
        // On every patch, even to the same room: must not subscribe twice.
        socket.subscribe_typed(&self.pubsub, &format!("room:{}", self.room), |p: Posted| p);
        Ok(())
    }

    async fn handle_info(&mut self, msg: Posted, _socket: &mut Socket<Posted>) -> livefire::Result {
        self.lines.push(msg.text);
        Ok(())
    }

    fn render(&self, _socket: &Socket<Posted>) -> Rendered {
        html!(<p id="room">{self.room.as_str()}</p><p id="lines">{self.lines.join("|")}</p>)
    }
}

fn app(pubsub: &PubSub) -> Router {
    let keyring = Keyring::new([9u8; 64]).unwrap();
    let pubsub = pubsub.clone();
    LiveRouter::new(keyring.clone())
        .live("/", move || Room {
            pubsub: pubsub.clone(),
            room: String::new(),
            lines: Vec::new(),
        })
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

async fn patch(ws: &mut Ws, page: &Page, msg_ref: &str, url: &str) -> Value {
    send(
        ws,
        json!(["1", msg_ref, page.topic(), "live_patch", {"url": format!("http://127.0.0.1{url}")}]),
    )
    .await;
    recv(ws).await
}

#[tokio::test]
async fn typed_subscriptions_switch_topics_on_patch_and_count_bad_payloads() {
    let pubsub = PubSub::local();
    let app = app(&pubsub);
    let addr = serve(app.clone()).await;
    let page = get(&app, "/?room=a", None).await;
    assert_eq!(
        pubsub.subscribers("room:a"),
        0,
        "the dead render subscribed"
    );

    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!([
            "1",
            "1",
            page.topic(),
            "phx_join",
            page.join_payload("/?room=a")
        ]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert_eq!(pubsub.subscribers("room:a"), 1);

    pubsub.broadcast("room:a", json!({"text": "hi"}));
    let push = recv(&mut ws).await;
    assert_eq!(push[3], "diff");
    assert!(push[4].to_string().contains("hi"), "{push}");

    // Not a `Posted`: logged and counted, no push.
    assert_eq!(pubsub.decode_failures(), 0);
    pubsub.broadcast("room:a", json!({"nope": 1}));
    assert_eq!(pubsub.decode_failures(), 1);
    assert_eq!(maybe_recv(&mut ws, Duration::from_millis(150)).await, None);

    // A patch to another room moves the subscription.
    let reply = patch(&mut ws, &page, "2", "/?room=b").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert_eq!(pubsub.subscribers("room:a"), 0);
    assert_eq!(pubsub.subscribers("room:b"), 1);
    pubsub.broadcast("room:a", json!({"text": "old room"}));
    assert_eq!(maybe_recv(&mut ws, Duration::from_millis(150)).await, None);

    // A patch within the same room subscribes again: still one subscription, one message.
    let reply = patch(&mut ws, &page, "3", "/?room=b&page=2").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert_eq!(pubsub.subscribers("room:b"), 1);
    pubsub.broadcast("room:b", json!({"text": "once"}));
    let push = recv(&mut ws).await;
    assert!(push[4].to_string().contains("hi|once"), "{push}");
    assert_eq!(maybe_recv(&mut ws, Duration::from_millis(150)).await, None);

    drop(ws);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while pubsub.subscribers("room:b") > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscription outlived the view"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
