//! Presence: two live views over real sockets see each other join, update their meta and
//! leave; across two Redis-bridged nodes, joins, updates and leaves arrive and a node that
//! stops heartbeating disappears within the bound.
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

/// A view that tracks itself and says who is typing: `typing`/`idle` update its own meta,
/// `bogus` tries to update a key it does not track, `leave` untracks it.
struct Typist {
    presence: Presence,
    name: String,
    typing: String,
    last: String,
    error: String,
}

impl LiveView for Typist {
    type Message = PresenceDiff;

    async fn mount(&mut self, cx: &Mount, socket: &mut Socket<PresenceDiff>) -> livefire::Result {
        self.name = cx.params().query("name").unwrap_or("anon").to_owned();
        self.presence.subscribe(socket, "room:2", |diff| diff);
        self.presence
            .track(socket, "room:2", &self.name, json!({"typing": false}));
        Ok(())
    }

    async fn handle_event(
        &mut self,
        event: livefire::Event,
        socket: &mut Socket<PresenceDiff>,
    ) -> livefire::Result {
        let (key, typing) = match event.name() {
            "typing" => (self.name.as_str(), true),
            "idle" => (self.name.as_str(), false),
            "bogus" => ("nobody", true),
            "leave" => {
                let left = self.presence.untrack(socket, "room:2", &self.name);
                self.error = format!("untracked: {left}");
                return Ok(());
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        };
        if let Err(err) = self
            .presence
            .update(socket, "room:2", key, json!({"typing": typing}))
        {
            self.error = err.to_string();
        }
        Ok(())
    }

    async fn handle_info(
        &mut self,
        diff: PresenceDiff,
        _socket: &mut Socket<PresenceDiff>,
    ) -> livefire::Result {
        let keys = |list: &livefire::presence::PresenceList| {
            list.keys().cloned().collect::<Vec<_>>().join(",")
        };
        self.last = format!("joins:{} leaves:{}", keys(&diff.joins), keys(&diff.leaves));
        self.typing = self
            .presence
            .list("room:2")
            .into_iter()
            .filter(|(_, metas)| metas.iter().any(|m| m["typing"] == true))
            .map(|(key, _)| key)
            .collect::<Vec<_>>()
            .join(",");
        Ok(())
    }

    fn render(&self, _socket: &Socket<PresenceDiff>) -> Rendered {
        html!(
            <p id="typing">{self.typing.as_str()}</p>
            <p id="last">{self.last.as_str()}</p>
            <p id="error">{self.error.as_str()}</p>
        )
    }
}

#[tokio::test]
async fn an_update_reaches_the_other_view_as_a_leave_and_a_join_and_untrack_as_a_leave() {
    let presence = Presence::new(PubSub::local());
    let keyring = Keyring::new([9u8; 64]).unwrap();
    let app = {
        let presence = presence.clone();
        LiveRouter::new(keyring.clone())
            .live("/", move || Typist {
                presence: presence.clone(),
                name: String::new(),
                typing: String::new(),
                last: String::new(),
                error: String::new(),
            })
            .build()
            .expect("valid live routes")
            .layer(CookieSessionLayer::new(keyring))
    };
    let addr = serve(app.clone()).await;
    let (mut ann, _) = open(&app, addr, "ann").await;
    let _ = maybe_recv(&mut ann, Duration::from_millis(200)).await; // her own join
    let (mut bob, joined) = open(&app, addr, "bob").await;
    let topic = joined[2].clone();
    let push = recv(&mut ann).await;
    assert!(push[4].to_string().contains("joins:bob leaves:"), "{push}");

    // Bob starts typing: Ann gets one diff that leaves his old meta and joins the new one.
    send(
        &mut bob,
        json!(["1", "2", topic, "event", {"type": "keydown", "event": "typing", "value": {}}]),
    )
    .await;
    let push = recv(&mut ann).await;
    assert_eq!(push[3], "diff", "{push}");
    let text = push[4].to_string();
    assert!(text.contains("joins:bob leaves:bob"), "{push}");
    assert!(text.contains(r#""bob""#), "bob typing: {push}");
    assert_eq!(presence.list("room:2")["bob"], [json!({"typing": true})]);
    assert_eq!(presence.list("room:2")["ann"], [json!({"typing": false})]);

    // The same meta again changes nothing: Ann gets no push.
    send(
        &mut bob,
        json!(["1", "3", topic, "event", {"type": "keydown", "event": "typing", "value": {}}]),
    )
    .await;
    assert_eq!(maybe_recv(&mut ann, Duration::from_millis(300)).await, None);

    // A key Bob does not track: a clear error, nothing changes, nobody is told.
    send(
        &mut bob,
        json!(["1", "4", topic, "event", {"type": "click", "event": "bogus", "value": {}}]),
    )
    .await;
    let reply = loop {
        let frame = recv(&mut bob).await;
        if frame[1] == "4" {
            break frame;
        }
    };
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert!(
        reply[4]
            .to_string()
            .contains("this view does not track &quot;nobody&quot; on &quot;room:2&quot;"),
        "{reply}"
    );
    assert_eq!(maybe_recv(&mut ann, Duration::from_millis(300)).await, None);
    assert!(!presence.list("room:2").contains_key("nobody"));
    assert_eq!(presence.list("room:2")["bob"], [json!({"typing": true})]);

    // Bob untracks himself while his view goes on: Ann sees him leave; a second untrack
    // finds nothing.
    for (msg_ref, untracked) in [("5", "untracked: true"), ("6", "untracked: false")] {
        send(
            &mut bob,
            json!(["1", msg_ref, topic, "event", {"type": "click", "event": "leave", "value": {}}]),
        )
        .await;
        let reply = loop {
            let frame = recv(&mut bob).await;
            if frame[1] == msg_ref {
                break frame;
            }
        };
        assert!(reply[4].to_string().contains(untracked), "{reply}");
        if msg_ref == "5" {
            let push = recv(&mut ann).await;
            assert!(push[4].to_string().contains("joins: leaves:bob"), "{push}");
        }
    }
    assert_eq!(maybe_recv(&mut ann, Duration::from_millis(300)).await, None);
    assert!(!presence.list("room:2").contains_key("bob"));
    assert!(presence.list("room:2").contains_key("ann"));
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

#[tokio::test]
async fn across_nodes_an_update_arrives_as_a_leave_and_a_join() {
    let period = Duration::from_millis(200);
    let pubsub_a = redis().await;
    let node_a = Presence::with_period(pubsub_a.clone(), period);
    let node_b = Presence::with_period(redis().await, period);
    let topic = unique("presence-update");

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

    let erin = node_b.track_while(&topic, "erin", json!({"typing": false}));
    let diff = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("erin's join on A")
        .unwrap();
    assert_eq!(diff.joins["erin"], [json!({"typing": false})], "{diff:?}");

    assert!(erin.update(json!({"typing": true})));
    let diff = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("erin's update on A")
        .unwrap();
    assert_eq!(diff.leaves["erin"], [json!({"typing": false})], "{diff:?}");
    assert_eq!(diff.joins["erin"], [json!({"typing": true})], "{diff:?}");
    assert_eq!(node_a.list(&topic)["erin"], [json!({"typing": true})]);

    // Heartbeats carry the new meta: no further diff while nothing changes.
    tokio::time::sleep(period * 3).await;
    assert!(rx.try_recv().is_err(), "a heartbeat repeated the update");
    assert_eq!(node_a.list(&topic)["erin"], [json!({"typing": true})]);
    drop(erin);
    let diff = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("erin's leave on A")
        .unwrap();
    assert_eq!(diff.leaves["erin"], [json!({"typing": true})], "{diff:?}");
}
