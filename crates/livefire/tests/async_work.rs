//! `start_async` / `handle_async` over a real socket: results arrive as diffs, a panic is an
//! error (the view goes on), a second start of a name replaces the first, cancelling delivers
//! `Cancelled`, the dead render starts nothing, and tasks are aborted when the view ends.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use livefire::async_result::{AsyncError, AsyncOutcome, AsyncResult};
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{Event, LiveRouter, LiveView, Mount, Rendered, Socket, html};
use serde_json::json;
use support::*;

struct Jobs {
    /// Set by a task that sleeps first (to prove it was aborted).
    flag: Arc<AtomicBool>,
    slow: AsyncResult<String>,
    boom: AsyncResult<u32>,
    delivered: Vec<String>,
}

impl LiveView for Jobs {
    type Message = ();

    async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> livefire::Result {
        socket.start_async("slow", async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            "loaded".to_owned()
        });
        Ok(())
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> livefire::Result {
        match event.name() {
            "boom" => {
                socket.start_async("boom", async {
                    if true {
                        panic!("kaboom");
                    }
                    1u32
                });
            }
            "restart" => {
                // The first finishes first, but was replaced: only "second" arrives.
                socket.start_async("slow", async { "first".to_owned() });
                socket.start_async("slow", async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    "second".to_owned()
                });
            }
            "cancel" => {
                socket.start_async("long", async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                });
                assert!(socket.is_async_running("long"));
                assert!(socket.cancel_async("long"));
            }
            "arm" => {
                let flag = self.flag.clone();
                socket.start_async("arm", async move {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    flag.store(true, Ordering::SeqCst);
                });
            }
            other => return Err(livefire::Error::UnknownEvent(other.to_owned())),
        }
        Ok(())
    }

    async fn handle_async(
        &mut self,
        name: &str,
        outcome: AsyncOutcome,
        _socket: &mut Socket,
    ) -> livefire::Result {
        self.delivered.push(match &outcome.is_err() {
            true => format!("{name}:err"),
            false => format!("{name}:ok"),
        });
        match name {
            "slow" => self.slow = outcome.into(),
            "boom" => self.boom = outcome.into(),
            "long" => assert_eq!(outcome.into_result::<()>(), Err(AsyncError::Cancelled)),
            _ => {}
        }
        Ok(())
    }

    fn render(&self, _socket: &Socket) -> Rendered {
        let slow = match &self.slow {
            AsyncResult::Loading => "loading".to_owned(),
            AsyncResult::Ok(v) => v.clone(),
            AsyncResult::Failed(err) => err.to_string(),
        };
        let boom = match self.boom.failed() {
            Some(err) => err.to_string(),
            None => String::new(),
        };
        html!(
            <p id="slow">{slow}</p>
            <p id="boom">{boom}</p>
            <p id="delivered">{self.delivered.join(",")}</p>
        )
    }
}

fn app(flag: &Arc<AtomicBool>) -> Router {
    let keyring = Keyring::new([9u8; 64]).unwrap();
    let flag = flag.clone();
    LiveRouter::new(keyring.clone())
        .live("/", move || Jobs {
            flag: flag.clone(),
            slow: AsyncResult::Loading,
            boom: AsyncResult::Loading,
            delivered: Vec::new(),
        })
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

/// The next diff push (skipping nothing else: this view only pushes diffs).
async fn next_diff(ws: &mut Ws) -> String {
    let push = recv(ws).await;
    assert_eq!(push[3], "diff", "{push}");
    push[4].to_string()
}

#[tokio::test]
async fn results_arrive_as_diffs_panics_are_errors_and_restarts_replace() {
    let flag = Arc::new(AtomicBool::new(false));
    let app = app(&flag);
    let addr = serve(app.clone()).await;
    let page = get(&app, "/", None).await;
    assert!(
        page.html.contains(r#"<p id="slow">loading</p>"#),
        "{}",
        page.html
    );

    let mut ws = connect(addr, &page).await;
    let reply = join(&mut ws, &page, "1").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert!(reply.to_string().contains("loading"), "{reply}");
    let diff = next_diff(&mut ws).await;
    assert!(
        diff.contains("loaded") && diff.contains("slow:ok"),
        "{diff}"
    );

    // A panic in the future is an error for the view, which goes on.
    let reply = click(&mut ws, &page, "1", "2", "boom").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let diff = next_diff(&mut ws).await;
    assert!(diff.contains("the async task panicked: kaboom"), "{diff}");

    // A second start under the same name aborts the first.
    let reply = click(&mut ws, &page, "1", "3", "restart").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let diff = next_diff(&mut ws).await;
    assert!(diff.contains("second"), "{diff}");
    assert!(!diff.contains("first"), "{diff}");
    assert_eq!(maybe_recv(&mut ws, Duration::from_millis(200)).await, None);

    // Cancelling delivers `Cancelled`.
    let reply = click(&mut ws, &page, "1", "4", "cancel").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let diff = next_diff(&mut ws).await;
    assert!(diff.contains("slow:ok,boom:err,slow:ok,long:err"), "{diff}");

    // Still alive after all that.
    let reply = click(&mut ws, &page, "1", "5", "nothing").await;
    assert_eq!(reply[4]["status"], "error", "{reply}");
}

#[tokio::test]
async fn tasks_are_aborted_when_the_view_ends() {
    let flag = Arc::new(AtomicBool::new(false));
    let app = app(&flag);
    let addr = serve(app.clone()).await;
    let page = get(&app, "/", None).await;
    let mut ws = connect(addr, &page).await;
    let reply = join(&mut ws, &page, "1").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let _ = next_diff(&mut ws).await;
    let reply = click(&mut ws, &page, "1", "2", "arm").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    // The view leaves before the task's 300 ms are up.
    send(&mut ws, json!(["1", "3", page.topic(), "phx_leave", {}])).await;
    let _ = recv(&mut ws).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !flag.load(Ordering::SeqCst),
        "an async task outlived its view"
    );

    // Control: the same task in a live view does set the flag.
    let page = get(&app, "/", None).await;
    let mut ws = connect(addr, &page).await;
    let reply = join(&mut ws, &page, "1").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let _ = next_diff(&mut ws).await;
    let reply = click(&mut ws, &page, "1", "2", "arm").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let diff = next_diff(&mut ws).await;
    assert!(diff.contains("arm:ok"), "{diff}");
    assert!(flag.load(Ordering::SeqCst));
}

#[tokio::test]
async fn closing_the_socket_aborts_tasks_too() {
    let flag = Arc::new(AtomicBool::new(false));
    let app = app(&flag);
    let addr = serve(app.clone()).await;
    let page = get(&app, "/", None).await;
    let mut ws = connect(addr, &page).await;
    let reply = join(&mut ws, &page, "1").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    let _ = next_diff(&mut ws).await;
    let reply = click(&mut ws, &page, "1", "2", "arm").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    drop(ws);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !flag.load(Ordering::SeqCst),
        "an async task outlived its view"
    );
}

/// The dead render starts no task: a mount's `start_async` does nothing there.
#[tokio::test]
async fn the_dead_render_starts_nothing() {
    let ran = Arc::new(AtomicBool::new(false));
    struct Dead(Arc<AtomicBool>);
    impl LiveView for Dead {
        type Message = ();
        async fn mount(&mut self, _cx: &Mount, socket: &mut Socket) -> livefire::Result {
            let ran = self.0.clone();
            socket.start_async("mark", async move { ran.store(true, Ordering::SeqCst) });
            assert!(!socket.is_async_running("mark"));
            Ok(())
        }
        fn render(&self, _socket: &Socket) -> Rendered {
            html!(<p>"dead"</p>)
        }
    }
    let keyring = Keyring::new([9u8; 64]).unwrap();
    let r = ran.clone();
    let app = LiveRouter::new(keyring.clone())
        .live("/", move || Dead(r.clone()))
        .build()
        .unwrap()
        .layer(CookieSessionLayer::new(keyring));
    let page = get(&app, "/", None).await;
    assert!(page.html.contains("dead"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!ran.load(Ordering::SeqCst));
}
