//! Presence across two chat processes sharing a Redis (`REDIS_URL`, default
//! `redis://127.0.0.1:6379/`): a browser on node B appears in node A's presence list, and
//! disappears from it within the documented bound after its tab closes, and again after node
//! B is killed with SIGKILL (a dead node's entries expire within about four presence periods:
//! `livefire::presence`). A message sent on node B reaches node A's browser too. A bad setting
//! stops the binary with a message naming it.

mod common;

use std::time::{Duration, Instant};

use common::{NEW_ROOM, TestResult, WAIT, join, present, send, shows, submit, wait};
use fantoccini::Client;
use livefire_e2e::{check_clean_console, check_no_js_errors, sync_lv, wait_until_js};
use tokio::io::AsyncBufReadExt as _;

/// The presence heartbeat of both nodes.
const PERIOD: Duration = Duration::from_millis(300);

/// The documented bound (about four periods) plus a margin for Redis and the browser.
fn bound() -> Duration {
    PERIOD * 4 + Duration::from_secs(2)
}

/// A `chat` process on an ephemeral port.
struct Node {
    child: tokio::process::Child,
    base: String,
}

impl Node {
    async fn start(name: &'static str, redis: &str) -> Result<Node, Box<dyn std::error::Error>> {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat"))
            .env("PORT", "0")
            .env("REDIS_URL", redis)
            .env("PRESENCE_PERIOD_MS", PERIOD.as_millis().to_string())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let base = tokio::time::timeout(WAIT, async {
            while let Some(line) = lines.next_line().await? {
                eprintln!("[{name}] {line}");
                if let Some(at) = line.find("http://") {
                    return Ok::<_, std::io::Error>(Some(line[at..].trim().to_owned()));
                }
            }
            Ok(None)
        })
        .await??
        .ok_or("the chat exited before listening")?;
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[{name}] {line}");
            }
        });
        Ok(Node { child, base })
    }
}

/// Goes to `room` on `base`, retrying while that node does not know the room yet (it learns
/// it from the other node through Redis).
async fn enter(client: &Client, base: &str, room: &str) -> TestResult {
    let path = format!("/rooms/{room}");
    let deadline = Instant::now() + WAIT;
    loop {
        client.goto(&format!("{base}{path}")).await?;
        sync_lv(client).await?;
        if client.current_url().await?.path() == path {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{base} never learned the room {room}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How long until `client`'s presence list is `nicks`.
async fn until_present(
    client: &Client,
    nicks: &[&str],
) -> Result<Duration, Box<dyn std::error::Error>> {
    let started = Instant::now();
    wait_until_js(client, &present(nicks), WAIT).await?;
    Ok(started.elapsed())
}

#[tokio::test]
async fn a_browser_on_node_b_is_present_on_node_a_until_its_tab_or_node_dies() -> TestResult {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let (node_a, mut node_b) = (
        Node::start("a", &redis).await?,
        Node::start("b", &redis).await?,
    );
    // A room of this run only, so runs sharing the Redis do not see each other.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let room = format!("nodes-{}-{}", std::process::id(), nanos % 1_000_000_000);

    let ann = join(&node_a.base, "ann").await?;
    let a = ann.client();
    submit(a, NEW_ROOM, &room).await?;
    wait(a, &format!("location.pathname === '/rooms/{room}'")).await?;
    until_present(a, &["ann"]).await?;

    // Bob on node B, in the same room: each node's list has both.
    let bob = join(&node_b.base, "bob").await?;
    enter(bob.client(), &node_b.base, &room).await?;
    let joined = until_present(a, &["ann", "bob"]).await?;
    until_present(bob.client(), &["ann", "bob"]).await?;
    send(bob.client(), "hello from node b").await?;
    wait(a, &shows("#messages li", "bob: hello from node b")).await?;

    // Bob's tab closes: node A drops him.
    bob.close().await?;
    let after_close = until_present(a, &["ann"]).await?;

    // Bob again, then node B dies without a word: node A drops him once B's heartbeats stop.
    let bob = join(&node_b.base, "bob").await?;
    enter(bob.client(), &node_b.base, &room).await?;
    until_present(a, &["ann", "bob"]).await?;
    node_b.child.start_kill()?;
    node_b.child.wait().await?;
    let after_kill = until_present(a, &["ann"]).await?;
    eprintln!(
        "presence across nodes: joined after {joined:?}, left {after_close:?} after the tab \
         closed, {after_kill:?} after node B was killed (bound {:?})",
        bound()
    );
    assert!(
        after_close <= bound(),
        "{after_close:?} after the tab closed"
    );
    assert!(
        after_kill <= bound(),
        "{after_kill:?} after node B was killed"
    );
    assert!(
        after_kill >= PERIOD * 2,
        "{after_kill:?}: node A cannot know of the kill before B's entries expire"
    );

    check_no_js_errors(a).await?;
    check_clean_console(a).await?;
    drop(bob); // its page lost its server: its console is not clean, by design
    ann.close().await?;
    drop(node_a);
    Ok(())
}

#[tokio::test]
async fn a_bad_setting_stops_the_binary_with_a_message_naming_it() -> TestResult {
    for (name, value, expected) in [
        ("PORT", "forty", "PORT=\"forty\": invalid digit"),
        (
            "PRESENCE_PERIOD_MS",
            "-1",
            "PRESENCE_PERIOD_MS=\"-1\": invalid digit",
        ),
        (
            "REDIS_URL",
            "redis://127.0.0.1:1/",
            "REDIS_URL=\"redis://127.0.0.1:1/\": ",
        ),
    ] {
        let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat"))
            .env_remove("REDIS_URL")
            .env("PORT", "0")
            .env(name, value)
            .env("NO_COLOR", "1")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output();
        let output = tokio::time::timeout(WAIT, run).await??;
        let out = String::from_utf8_lossy(&output.stdout);
        assert!(!output.status.success(), "{name}={value}: {out}");
        assert!(out.contains(expected), "{name}={value}: {out}");
        assert!(!out.contains("listening"), "{name}={value}: {out}");
    }
    Ok(())
}
