//! Presence: two live views over real sockets see each other join and leave; across two
//! Redis-bridged nodes, a node that stops heartbeating disappears within the bound.
//!
//! The Redis test needs Redis at `REDIS_URL` (default `redis://127.0.0.1:6379/`); it fails
//! without it, as `tests/pubsub_redis.rs` does.

mod support;

use std::time::Duration;

use axum::Router;
use livefire::presence::{Presence, PresenceDiff};
use livefire::pubsub::PubSub;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{LiveRouter, LiveView, Mount, Rendered, Socket, html};
use serde_json::json;
use support::*;

struct Room {
    presence: Presence,
    who: Vec<String>,
    diffs: u32,
}

impl LiveView for Room {
    type Message = PresenceDiff;

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket<PresenceDiff>) -> livefire::Result {
        let name = cx.params().query("name").unwrap_or("anon").to_owned();
        self.presence.subscribe(socket, "room:1", |diff| diff);
        self.presence
            .track(socket, "room:1", &name, json!({"name": name}));
        self.who = self.presence.list("room:1").into_keys().collect();
        Ok(())
    }

    async fn handle_info(
        &mut self,
        _diff: PresenceDiff,
        _socket: &mut Socket<PresenceDiff>,
    ) -> livefire::Result {
        self.diffs += 1;
        self.who = self.presence.list("room:1").into_keys().collect();
        Ok(())
    }

    fn render(&self, _socket: &Socket<PresenceDiff>) -> Rendered {
        html!(<p id="who">{self.who.join(",")}</p>)
    }
}

fn app(presence: &Presence) -> Router {
    let keyring = Keyring::new([9u8; 64]).unwrap();
    let presence = presence.clone();
    LiveRouter::new(keyring.clone())
        .live("/", move || Room {
            presence: presence.clone(),
            who: Vec::new(),
            diffs: 0,
        })
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

async fn open(app: &Router, addr: std::net::SocketAddr, name: &str) -> (Ws, serde_json::Value) {
    let path = format!("/?name={name}");
    let page = get(app, &path, None).await;
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!(["1", "1", page.topic(), "phx_join", page.join_payload(&path)]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    (ws, reply)
}

#[tokio::test]
async fn two_views_see_each_other_join_and_leave() {
    let presence = Presence::new(PubSub::local());
    let app = app(&presence);
    let addr = serve(app.clone()).await;

    // The dead render tracks nobody.
    let page = get(&app, "/?name=ann", None).await;
    assert!(page.html.contains(r#"<p id="who"></p>"#), "{}", page.html);
    assert!(presence.list("room:1").is_empty());

    let (mut ann, reply) = open(&app, addr, "ann").await;
    assert!(reply.to_string().contains("ann"), "{reply}");
    // Ann's own join arrives as a diff too (she subscribed first); the list is unchanged.
    let _ = maybe_recv(&mut ann, Duration::from_millis(200)).await;

    let (bob, reply) = open(&app, addr, "bob").await;
    assert!(reply.to_string().contains("ann,bob"), "{reply}");
    let push = recv(&mut ann).await;
    assert_eq!(push[3], "diff", "{push}");
    assert!(push[4].to_string().contains("ann,bob"), "{push}");
    assert_eq!(presence.list("room:1")["bob"], [json!({"name": "bob"})]);

    // Bob leaves (tab closed): Ann sees it.
    drop(bob);
    let push = recv(&mut ann).await;
    assert_eq!(push[3], "diff", "{push}");
    assert!(push[4].to_string().contains("\"ann\""), "{push}");
    assert!(!push[4].to_string().contains("bob"), "{push}");
    assert_eq!(
        presence.list("room:1").into_keys().collect::<Vec<_>>(),
        ["ann"]
    );
    drop(ann);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while !presence.list("room:1").is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "ann's entry outlived her view"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn redis() -> PubSub {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    match PubSub::redis(&url).await {
        Ok(pubsub) => pubsub,
        Err(err) => panic!("Redis is required for this test and is not reachable at {url}: {err}"),
    }
}

fn unique(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}:{suffix}")
}

async fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = tokio::time::Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn across_nodes_joins_leaves_and_a_dead_node_expires() {
    let period = Duration::from_millis(200);
    let pubsub_a = redis().await;
    let node_a = Presence::with_period(pubsub_a.clone(), period);
    let pubsub_b = redis().await;
    let node_b = Presence::with_period(pubsub_b.clone(), period);
    let topic = unique("presence");

    // A subscriber on node A (outside a view) sees B's join and leave as typed diffs.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PresenceDiff>();
    struct Tx(tokio::sync::mpsc::UnboundedSender<PresenceDiff>);
    impl livefire::pubsub::Sink<PresenceDiff> for Tx {
        fn deliver(&self, msg: PresenceDiff) -> livefire::pubsub::Delivery {
            let _ = self.0.send(msg);
            livefire::pubsub::Delivery::Done
        }
        fn is_closed(&self) -> bool {
            self.0.is_closed()
        }
    }
    let _sub = pubsub_a.subscribe_typed(&Presence::diff_topic(&topic), Tx(tx), |d: PresenceDiff| d);

    // Join and leave are announced at once.
    let carol = node_b.track_while(&topic, "carol", json!({"tab": 1}));
    wait_until("carol on A", Duration::from_secs(2), || {
        node_a.list(&topic).contains_key("carol")
    })
    .await;
    let diff = rx.recv().await.unwrap();
    assert_eq!(diff.joins["carol"], [json!({"tab": 1})], "{diff:?}");
    drop(carol);
    wait_until("carol gone from A", Duration::from_secs(2), || {
        node_a.list(&topic).is_empty()
    })
    .await;

    // A node that dies (no leave, no heartbeat) is dropped within 3 periods (+ 1 for the
    // sweep, + slack).
    let dave = node_b.track_while(&topic, "dave", json!({}));
    wait_until("dave on A", Duration::from_secs(2), || {
        node_a.list(&topic).contains_key("dave")
    })
    .await;
    // Heartbeats keep him there well past the TTL while node B lives.
    tokio::time::sleep(period * 5).await;
    assert!(
        node_a.list(&topic).contains_key("dave"),
        "a live node's entry expired"
    );
    // Node B dies: its presence goes first, so dave's guard finds nobody to announce a leave.
    drop(node_b);
    drop(dave);
    drop(pubsub_b);
    let took = wait_until(
        "dave expired on A",
        period * 4 + Duration::from_millis(500),
        || node_a.list(&topic).is_empty(),
    )
    .await;
    assert!(
        took >= period * 2,
        "expired too early ({took:?}): heartbeats were not counted"
    );
    let mut left = Vec::new();
    while let Ok(diff) = rx.try_recv() {
        left.extend(diff.leaves.into_keys());
    }
    assert_eq!(left, ["carol", "dave"]);
}
