//! Live patches over a real socket (docs/protocol.md §4.2, §5.1, §5.2): a patch between two
//! routes of the same live view stays in the view, a patch to another view is a
//! `link_redirect`, a `handle_params` that keeps patching crashes the view as Phoenix does, and
//! a rejoin after a patch is checked by view type and live session, not by route (§2.2).

mod support;

use axum::Router;
use livefire::session::CookieSessionLayer;
use livefire::token::Keyring;
use livefire::{LiveRouter, LiveView, Mount, Params, Rendered, Result, Socket, html};
use serde_json::{Value, json};
use support::*;

/// One view type on two routes: `/items` and `/items/{id}`.
#[derive(Default)]
struct Items {
    mounts: u32,
    params_calls: u32,
    id: String,
    /// Mounted with `?loop=true` on a rejoin: the loop is over.
    calm: bool,
}

impl LiveView for Items {
    type Message = ();

    async fn mount(&mut self, cx: &Mount, _socket: &mut Socket) -> Result {
        self.mounts += 1;
        let rejoin = cx
            .connect_params()
            .and_then(|p| p["_mounts"].as_u64())
            .unwrap_or(0)
            > 0;
        self.calm = rejoin;
        Ok(())
    }

    async fn handle_params(&mut self, params: &Params, socket: &mut Socket) -> Result {
        self.params_calls += 1;
        self.id = params.get("id").unwrap_or("none").to_owned();
        if params.query("loop").is_some() && !self.calm {
            // Patches to itself forever: Phoenix gives up after 20 and crashes the view.
            socket.push_patch("/items?loop=true");
        }
        Ok(())
    }

    fn render(&self, _: &Socket) -> Rendered {
        html!(<p id="id">{self.id.as_str()}</p><p id="mounts">{self.mounts}</p><p id="calls">{self.params_calls}</p>)
    }
}

#[derive(Default)]
struct Other;

impl LiveView for Other {
    type Message = ();
    fn render(&self, _: &Socket) -> Rendered {
        html!(<p>"other"</p>)
    }
}

fn app() -> Router {
    let keyring = Keyring::new([9u8; 64]).unwrap();
    LiveRouter::new(keyring.clone())
        .live("/items", Items::default)
        .live("/items/{id}", Items::default)
        .live("/other", Other::default)
        // The same view type in another live session.
        .live_session("second")
        .live("/second/items", Items::default)
        .build()
        .expect("valid live routes")
        .layer(CookieSessionLayer::new(keyring))
}

async fn joined(path: &str) -> (Ws, Page) {
    let app = app();
    let addr = serve(app.clone()).await;
    let page = get(&app, path, None).await;
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!(["4", "4", page.topic(), "phx_join", page.join_payload(path)]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    (ws, page)
}

fn live_patch(page: &Page, msg_ref: &str, path: &str) -> Value {
    json!(["4", msg_ref, page.topic(), "live_patch", {"url": format!("http://127.0.0.1{path}")}])
}

/// `/items` → `/items/7`: the same view type on another route is a patch (handle_params,
/// a diff), not a remount.
#[tokio::test]
async fn a_patch_across_routes_of_the_same_view_stays_in_the_view() {
    let (mut ws, page) = joined("/items").await;
    send(&mut ws, live_patch(&page, "5", "/items/7")).await;
    assert_eq!(
        recv(&mut ws).await,
        json!(["4", "5", page.topic(), "phx_reply", {"status": "ok", "response": {"diff": {"0": "7", "2": "2"}}}])
    );
    // And back.
    send(&mut ws, live_patch(&page, "6", "/items")).await;
    assert_eq!(
        recv(&mut ws).await,
        json!(["4", "6", page.topic(), "phx_reply", {"status": "ok", "response": {"diff": {"0": "none", "2": "3"}}}])
    );
}

/// A patch to a URL of another view: `{"link_redirect": true}`, and the client navigates.
#[tokio::test]
async fn a_patch_to_another_view_is_a_link_redirect() {
    let (mut ws, page) = joined("/items").await;
    send(&mut ws, live_patch(&page, "5", "/other")).await;
    assert_eq!(
        recv(&mut ws).await,
        json!(["4", "5", page.topic(), "phx_reply", {"status": "ok", "response": {"link_redirect": true}}])
    );
}

/// A `handle_params` that patches again and again crashes the view with `phx_error` (no reply
/// to the patch); the client rejoins, and the rejoined view (calm now) renders.
#[tokio::test]
async fn a_patch_loop_crashes_the_view_with_phx_error() {
    let (mut ws, page) = joined("/items").await;
    send(&mut ws, live_patch(&page, "5", "/items?loop=true")).await;
    assert_eq!(
        recv(&mut ws).await,
        json!(["4", "4", page.topic(), "phx_error", {"reason": "crash"}])
    );
    // The client's rejoin, as after any crash: `_mounts` counts the earlier join.
    let mut payload = page.join_payload("/items?loop=true");
    payload["params"]["_mounts"] = json!(1);
    send(
        &mut ws,
        json!(["7", "7", page.topic(), "phx_join", payload]),
    )
    .await;
    let reply = recv(&mut ws).await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert_eq!(reply[4]["response"]["rendered"]["1"], "1");
}

/// A loop started during the connected mount is a join error (the view never joined).
#[tokio::test]
async fn a_patch_loop_in_mount_fails_the_join() {
    let app = app();
    let addr = serve(app.clone()).await;
    // The dead render of the looping URL redirects (302) like any mount-time patch: take the
    // tokens of a calm page and join with the looping URL.
    let page = get(&app, "/items", None).await;
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!([
            "4",
            "4",
            page.topic(),
            "phx_join",
            page.join_payload("/items?loop=true")
        ]),
    )
    .await;
    assert_eq!(
        recv(&mut ws).await,
        json!(["4", "4", page.topic(), "phx_reply", {"status": "error", "response": {"reason": "join crashed"}}])
    );
}

/// The client's rejoin after a reconnect: a new socket, the page's (first) tokens, the URL it
/// is at now, `_mounts` 1.
async fn rejoin(app: &Router, page: &Page, url_path: &str) -> Value {
    let addr = serve(app.clone()).await;
    let mut ws = connect(addr, page).await;
    let mut payload = page.join_payload(url_path);
    payload["params"]["_mounts"] = json!(1);
    send(
        &mut ws,
        json!(["9", "9", page.topic(), "phx_join", payload]),
    )
    .await;
    recv(&mut ws).await
}

/// `/items` patched to `/items/7`, then the socket reconnects: the rejoin names `/items/7`
/// while the page token still names `/items`. Accepted (the same view type in the same live
/// session, as Phoenix checks), and mounted at the URL; a URL of another view, or of the same
/// view in another live session, is still `unauthorized`.
#[tokio::test]
async fn a_rejoin_after_a_patch_to_another_route_of_the_view_is_accepted() {
    let app = app();
    let addr = serve(app.clone()).await;
    let page = get(&app, "/items", None).await;
    let mut ws = connect(addr, &page).await;
    send(
        &mut ws,
        json!([
            "4",
            "4",
            page.topic(),
            "phx_join",
            page.join_payload("/items")
        ]),
    )
    .await;
    assert_eq!(recv(&mut ws).await[4]["status"], "ok");
    send(&mut ws, live_patch(&page, "5", "/items/7")).await;
    assert_eq!(recv(&mut ws).await[4]["response"]["diff"]["0"], "7");
    drop(ws);

    let reply = rejoin(&app, &page, "/items/7").await;
    assert_eq!(reply[4]["status"], "ok", "{reply}");
    assert_eq!(reply[4]["response"]["rendered"]["0"], "7");

    for other in ["/other", "/second/items"] {
        let reply = rejoin(&app, &page, other).await;
        assert_eq!(
            reply[4],
            json!({"status": "error", "response": {"reason": "unauthorized"}}),
            "{other}"
        );
    }
}
