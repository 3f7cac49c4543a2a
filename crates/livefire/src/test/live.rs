//! [`LiveTest`]: one joined page, driven as the official client drives it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use http::Method;
use scraper::{ElementRef, Html};
use serde_json::{Map, Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use super::browser::{self, Browser, MAX_REDIRECTS, Page};
use super::dom::{self, Subst, Target, ViewDom};
use super::form::{self, FormEvent};
use super::model::{Client, Rules};
use super::{Error, Navigation, Outcome};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a reply or an awaited push may take by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// One joined view (the page's main view or a child).
#[derive(Debug)]
struct View {
    id: String,
    join_ref: String,
    parent: Option<String>,
    client: Client,
    dom: ViewDom,
    /// The view's HTML as the DOM holds it (child containers empty).
    html: String,
}

/// A live page in a [`Browser`], joined over a WebSocket exactly as the official client joins
/// it, and driven by the events the client would send for a user's clicks, key presses and
/// form input. Replies and pushes are merged with the client's rules
/// ([`model`](super::model)) into the page's HTML, which CSS selectors query.
///
/// Every event method waits for the event's reply and returns the page's HTML after it, or
/// the navigation it caused ([`Outcome`]). Error replies, crashes (`phx_error`) and protocol
/// errors are [`Error`]s naming the view, the event and the reply.
///
/// ```
/// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
/// # use livefire::session::CookieSessionLayer;
/// #[derive(Default)]
/// struct Counter { n: i64 }
///
/// impl LiveView for Counter {
///     type Message = ();
///     async fn handle_event(&mut self, event: Event, _: &mut Socket) -> Result {
///         let by: i64 = event.get("by").unwrap_or("1").parse().unwrap_or(1);
///         self.n += by;
///         Ok(())
///     }
///     fn render(&self, _: &Socket) -> Rendered {
///         html!(<p id="n">{self.n}</p><button phx-click="inc" phx-value-by="2">"+2"</button>)
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
/// # let keyring = Keyring::new([1u8; 64]).unwrap();
/// let router = LiveRouter::new(keyring.clone())
///     .live("/", Counter::default)
///     .build()
///     .unwrap()
///     .layer(CookieSessionLayer::new(keyring));
/// let mut view = livefire::test::live(&router, "/").await?;
/// view.click("button").await?;
/// assert!(view.has_element("#n", Some("2")));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LiveTest {
    browser: Browser,
    ws: Ws,
    next_ref: u64,
    /// The page's path (and query), updated by patches.
    path: String,
    root: String,
    session: String,
    static_token: Option<String>,
    csrf: String,
    views: BTreeMap<String, View>,
    /// Static tokens of the dead render's child views.
    child_statics: BTreeMap<String, String>,
    /// Frames read while waiting for something else.
    pending: VecDeque<Value>,
    /// A navigation the server pushed.
    navigation: Option<Navigation>,
    title: Option<String>,
    pushed: Vec<(String, Value)>,
    reply: Option<Value>,
    /// Form fields the user has interacted with, by form key.
    used: HashMap<String, HashSet<String>>,
    /// Forms whose `phx-trigger-action` was already followed up on, by form key.
    triggered: HashSet<String>,
    next_file_ref: u64,
    last_event: String,
    timeout: Duration,
}

/// An element's data, read out of the parsed page.
#[derive(Debug, Clone)]
struct El {
    tag: String,
    attrs: Vec<(String, String)>,
    /// `el.value` as the DOM reports it (None where the element has no value property).
    value: Option<Value>,
    owner: String,
}

impl El {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `DOM.isCid`.
fn is_cid(s: &str) -> bool {
    s == "0" || (!s.is_empty() && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()))
}

impl Browser {
    /// Loads `path` and joins its live view, as a browser does for a page load: the dead
    /// render over HTTP with this browser's cookies, then a WebSocket connection (with the
    /// page's CSRF token and the cookies) and the `phx_join`, then the joins of child views.
    ///
    /// A redirect, by the dead render (`3xx`) or by the connected mount, is
    /// [`Error::Redirected`]: continue with [`Browser::follow`].
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct Hello;
    /// # impl LiveView for Hello {
    /// #     type Message = ();
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<p>"Hello"</p>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Hello).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let browser = livefire::test::Browser::start(&router).await?;
    /// let view = browser.live("/").await?;
    /// assert_eq!(view.html(), "<p>Hello</p>");
    /// # Ok(()) }
    /// ```
    pub async fn live(&self, path: &str) -> Result<LiveTest, Error> {
        let page = self.get(path).await?;
        if page.status.is_redirection() {
            let to = page.location().unwrap_or("/").to_owned();
            return Err(Error::Redirected {
                from: path.to_owned(),
                navigation: Navigation::Redirect {
                    to: browser::local(&to),
                    flash: None,
                },
            });
        }
        LiveTest::join_page(self.clone(), page).await
    }

    /// Continues a navigation the way the browser does: a [`Navigation::Redirect`] writes the
    /// flash cookie (if any) and loads `to`; a [`Navigation::LiveRedirect`] seen outside a
    /// live view loads `to` the same way (the client's fallback); a [`Navigation::FormPost`]
    /// posts the form. HTTP redirects are followed, and the live page at the end is joined.
    /// Use [`LiveTest::follow_redirect`] for navigations of a joined view (a live redirect
    /// then stays on its socket).
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Mount, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct Old;
    /// # impl LiveView for Old {
    /// #     type Message = ();
    /// #     async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
    /// #         socket.redirect("/new"); Ok(())
    /// #     }
    /// #     fn render(&self, _: &Socket) -> Rendered { html!() }
    /// # }
    /// # struct New;
    /// # impl LiveView for New {
    /// #     type Message = ();
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<h1>"New"</h1>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/old", || Old).live("/new", || New)
    /// #     .build().unwrap().layer(CookieSessionLayer::new(keyring));
    /// let browser = livefire::test::Browser::start(&router).await?;
    /// let redirect = browser.live("/old").await.unwrap_err().into_navigation().unwrap();
    /// assert_eq!(redirect.to(), "/new");
    /// let view = browser.follow(redirect).await?;
    /// assert_eq!(view.path(), "/new");
    /// assert!(view.has_element("h1", Some("New")));
    /// # Ok(()) }
    /// ```
    pub async fn follow(&self, navigation: Navigation) -> Result<LiveTest, Error> {
        let mut navigation = navigation;
        for _ in 0..MAX_REDIRECTS {
            let page = match &navigation {
                Navigation::Redirect { to, flash } | Navigation::LiveRedirect { to, flash, .. } => {
                    if let Some(flash) = flash {
                        self.set_cookie(crate::flash::FLASH_COOKIE, flash);
                    }
                    self.get(to).await?
                }
                Navigation::FormPost {
                    action,
                    method,
                    body,
                } => {
                    let method = if method.eq_ignore_ascii_case("get") {
                        Method::GET
                    } else {
                        Method::POST
                    };
                    self.request(method, action, Some(body.clone())).await?
                }
            };
            let page = self.follow_http(page).await?;
            match LiveTest::join_page(self.clone(), page).await {
                Err(Error::Redirected {
                    navigation: next, ..
                }) => navigation = next,
                other => return other,
            }
        }
        Err(Error::TooManyRedirects {
            path: navigation.to().to_owned(),
        })
    }
}

impl LiveTest {
    // -----------------------------------------------------------------------------------------
    // Joining

    /// Joins the live page `page` (a dead render) in `browser`.
    pub(crate) async fn join_page(browser: Browser, page: Page) -> Result<Self, Error> {
        let Some((root, session, static_token, csrf)) = browser::live_container(&page) else {
            return Err(Error::NotLive {
                path: page.path.clone(),
                status: page.status.as_u16(),
                body: page.body.chars().take(2000).collect(),
            });
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("_csrf_token", &csrf)
            .append_pair("_mounts", "0")
            .append_pair("_mount_attempts", "0")
            .append_pair("vsn", "2.0.0")
            .finish();
        let url = format!("ws://{}/live/websocket?{query}", browser.addr());
        let mut req = url
            .into_client_request()
            .map_err(|e| Error::WebSocket(e.to_string()))?;
        if let Some(cookie) = browser.cookie_header() {
            req.headers_mut().insert(
                http::header::COOKIE,
                cookie
                    .parse()
                    .map_err(|_| Error::WebSocket("cookie header".into()))?,
            );
        }
        req.headers_mut().insert(
            http::header::ORIGIN,
            browser
                .url("")
                .parse()
                .map_err(|_| Error::WebSocket("origin header".into()))?,
        );
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(|e| Error::WebSocket(format!("upgrade of {}: {e}", page.path)))?;
        let mut test = LiveTest {
            child_statics: browser::child_static_tokens(&page),
            browser,
            ws,
            next_ref: 0,
            path: page.path.clone(),
            root,
            session,
            static_token,
            csrf,
            views: BTreeMap::new(),
            pending: VecDeque::new(),
            navigation: None,
            title: None,
            pushed: Vec::new(),
            reply: None,
            used: HashMap::new(),
            triggered: HashSet::new(),
            next_file_ref: 0,
            last_event: "phx_join".to_owned(),
            timeout: DEFAULT_TIMEOUT,
        };
        let url = test.browser.url(&test.path);
        test.join_root(json!({ "url": url }), None).await?;
        Ok(test)
    }

    /// Joins the main view (`how` is `{"url": …}` or `{"redirect": …}`).
    async fn join_root(&mut self, how: Value, flash: Option<String>) -> Result<(), Error> {
        let mut params = json!({"_csrf_token": self.csrf, "_mounts": 0, "_mount_attempts": 0});
        if how.get("redirect").is_some() {
            params["_live_referer"] = Value::from(self.browser.url(&self.path));
        }
        let mut payload = json!({
            "params": params,
            "session": self.session,
            "static": self.static_token,
            "sticky": false,
        });
        let obj = payload.as_object_mut().expect("an object");
        for (k, v) in how.as_object().into_iter().flatten() {
            obj.insert(k.clone(), v.clone());
        }
        if let Some(flash) = flash {
            obj.insert("flash".into(), Value::from(flash));
        }
        let root = self.root.clone();
        self.join_view(&root, None, payload).await
    }

    /// Sends a `phx_join` for `lv:<id>` and applies the reply.
    async fn join_view(
        &mut self,
        id: &str,
        parent: Option<String>,
        payload: Value,
    ) -> Result<(), Error> {
        let topic = format!("lv:{id}");
        let join_ref = self.make_ref();
        self.last_event = "phx_join".to_owned();
        self.send(json!([join_ref, join_ref, topic, "phx_join", payload]))
            .await?;
        let reply = self.await_reply(&topic, &join_ref).await?;
        let response = reply.get("response").cloned().unwrap_or(Value::Null);
        if reply["status"] != "ok" {
            if let Some(navigation) = Navigation::from_response(&response) {
                return Err(Error::Redirected {
                    from: self.path.clone(),
                    navigation,
                });
            }
            return Err(Error::JoinRefused {
                view: self.describe(id),
                reply: response,
            });
        }
        let Some(rendered) = response.get("rendered").cloned() else {
            return Err(self.protocol(id, format!("join reply without rendered: {response}")));
        };
        if let Some(to) = response.pointer("/live_patch/to").and_then(Value::as_str) {
            self.path = browser::local(to);
        }
        self.views.insert(
            id.to_owned(),
            View {
                id: id.to_owned(),
                join_ref,
                parent,
                client: Client::new(Rules {
                    replaced_entries: true,
                })
                .lenient(),
                dom: ViewDom::new(),
                html: String::new(),
            },
        );
        self.apply_diff(id, rendered)?;
        Box::pin(self.maintain()).await
    }

    /// After a patch: joins child views that appeared, leaves those that went, and runs the
    /// components' destroy handshake for cids no longer on the page.
    async fn maintain(&mut self) -> Result<(), Error> {
        loop {
            // Children present in each view's HTML.
            let mut present: Vec<(String, String, String)> = Vec::new();
            for view in self.views.values() {
                let doc = Html::parse_fragment(&view.html);
                let sel = dom::selector("[data-phx-parent-id][data-phx-session]")?;
                for el in doc.select(&sel) {
                    let (Some(cid), Some(session)) =
                        (el.value().id(), el.value().attr("data-phx-session"))
                    else {
                        continue;
                    };
                    if el.value().attr("data-phx-parent-id") == Some(view.id.as_str()) {
                        present.push((view.id.clone(), cid.to_owned(), session.to_owned()));
                    }
                }
            }
            let present_ids: BTreeSet<&str> = present.iter().map(|(_, c, _)| c.as_str()).collect();
            let gone: Vec<String> = self
                .views
                .values()
                .filter(|v| v.parent.is_some() && !present_ids.contains(v.id.as_str()))
                .map(|v| v.id.clone())
                .collect();
            for id in gone {
                self.leave(&id).await?;
            }
            if let Some((parent, id, session)) = present
                .into_iter()
                .find(|(_, id, _)| !self.views.contains_key(id))
            {
                let static_token = self.child_statics.remove(&id);
                let payload = json!({
                    "params": {"_csrf_token": self.csrf, "_mounts": 0, "_mount_attempts": 0},
                    "session": session,
                    "static": static_token,
                    "sticky": false,
                });
                self.join_view(&id, Some(parent), payload).await?;
                continue;
            }
            // Components no longer on the page: `cids_will_destroy`, then `cids_destroyed`.
            let destroy: Vec<(String, Vec<u64>)> = self
                .views
                .values()
                .filter_map(|v| {
                    let gone: Vec<u64> = v
                        .client
                        .cids_held()
                        .difference(&v.client.cids_on_page())
                        .copied()
                        .collect();
                    (!gone.is_empty()).then(|| (v.id.clone(), gone))
                })
                .collect();
            if destroy.is_empty() {
                return Ok(());
            }
            for (id, cids) in destroy {
                self.push_raw(&id, "cids_will_destroy", json!({ "cids": cids }))
                    .await?;
                let reply = self
                    .push_raw(&id, "cids_destroyed", json!({ "cids": cids }))
                    .await?;
                let pruned: Vec<u64> = reply
                    .get("cids")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default();
                if let Some(view) = self.views.get_mut(&id) {
                    // A cid the server kept (a stale report) stays; so does one shown again.
                    let on_page = view.client.cids_on_page();
                    let prune: Vec<u64> = pruned
                        .into_iter()
                        .filter(|c| !on_page.contains(c))
                        .collect();
                    view.client.prune(&prune);
                    if prune.len() < cids.len() {
                        // Nothing more can be destroyed now: do not loop on kept cids.
                        return Ok(());
                    }
                }
            }
        }
    }

    /// `phx_leave` for a view and its children.
    async fn leave(&mut self, id: &str) -> Result<(), Error> {
        let children: Vec<String> = self
            .views
            .values()
            .filter(|v| v.parent.as_deref() == Some(id))
            .map(|v| v.id.clone())
            .collect();
        for child in children {
            Box::pin(self.leave(&child)).await?;
        }
        if let Some(view) = self.views.remove(id) {
            let msg_ref = self.make_ref();
            self.send(json!([
                view.join_ref,
                msg_ref,
                format!("lv:{id}"),
                "phx_leave",
                {}
            ]))
            .await?;
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Frames

    fn make_ref(&mut self) -> String {
        self.next_ref += 1;
        self.next_ref.to_string()
    }

    async fn send(&mut self, frame: Value) -> Result<(), Error> {
        tracing::trace!(%frame, "livefire::test sends");
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .map_err(|e| Error::Closed(format!("sending {}: {e}", self.last_event)))
    }

    pub(crate) async fn send_binary(&mut self, bytes: Vec<u8>) -> Result<(), Error> {
        self.ws
            .send(Message::Binary(bytes.into()))
            .await
            .map_err(|e| Error::Closed(format!("sending {}: {e}", self.last_event)))
    }

    /// The next frame from the server, within `wait`.
    async fn recv(&mut self, wait: Duration) -> Result<Option<Value>, Error> {
        if let Some(frame) = self.pending.pop_front() {
            return Ok(Some(frame));
        }
        loop {
            let msg = match tokio::time::timeout(wait, self.ws.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => {
                    return Err(Error::Closed(format!(
                        "the server closed the socket after {}",
                        self.last_event
                    )));
                }
                Ok(Some(Err(e))) => return Err(Error::Closed(e.to_string())),
                Ok(Some(Ok(msg))) => msg,
            };
            match msg {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(&text).map_err(|e| {
                        self.protocol(
                            &self.root.clone(),
                            format!("a frame that is not JSON ({e}): {text}"),
                        )
                    })?;
                    tracing::trace!(%frame, "livefire::test receives");
                    return Ok(Some(frame));
                }
                Message::Close(frame) => {
                    return Err(Error::Closed(format!(
                        "the server closed the socket after {} ({frame:?})",
                        self.last_event
                    )));
                }
                _ => {}
            }
        }
    }

    /// Waits for the reply to `msg_ref` on `topic` (`{"status", "response"}`), handling every
    /// other frame on the way.
    pub(crate) async fn await_reply(&mut self, topic: &str, msg_ref: &str) -> Result<Value, Error> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(frame) = self.recv(left).await? else {
                return Err(Error::Timeout {
                    what: format!("the reply to {} on {topic}", self.last_event),
                    timeout: self.timeout,
                });
            };
            if frame[2] == topic && frame[1] == msg_ref && frame[3] == "phx_reply" {
                return Ok(frame[4].clone());
            }
            self.handle_frame(frame)?;
        }
    }

    /// Applies a frame that is not the reply being waited for.
    fn handle_frame(&mut self, frame: Value) -> Result<(), Error> {
        let topic = frame[2].as_str().unwrap_or_default().to_owned();
        let event = frame[3].as_str().unwrap_or_default().to_owned();
        let Some(id) = topic.strip_prefix("lv:").map(str::to_owned) else {
            return Ok(()); // heartbeats, upload channels
        };
        let Some(view) = self.views.get(&id) else {
            return Ok(()); // a view already left
        };
        if !frame[0].is_null() && frame[0] != view.join_ref.as_str() {
            return Ok(()); // the client drops frames of an older join
        }
        let payload = frame[4].clone();
        match event.as_str() {
            "diff" => self.apply_diff(&id, payload),
            "redirect" | "live_redirect" => {
                let response = json!({ event.clone(): payload });
                self.navigation = Navigation::from_response(&response);
                Ok(())
            }
            "live_patch" => {
                if let Some(to) = payload.get("to").and_then(Value::as_str) {
                    self.path = browser::local(to);
                }
                Ok(())
            }
            "phx_error" => Err(Error::Crashed {
                view: self.describe(&id),
                event: self.last_event.clone(),
                reason: payload,
            }),
            "phx_close" => {
                if id == self.root {
                    Err(Error::Closed(format!(
                        "the server closed {} after {}",
                        self.describe(&id),
                        self.last_event
                    )))
                } else {
                    self.views.remove(&id);
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Merges a diff into a view (with the client's rules) and re-renders its DOM.
    fn apply_diff(&mut self, id: &str, mut diff: Value) -> Result<(), Error> {
        if let Some(title) = diff.get("t").and_then(Value::as_str) {
            self.title = Some(title.to_owned());
        }
        if let Some(events) = diff.get("e").and_then(Value::as_array) {
            for e in events {
                if let (Some(name), Some(value)) = (e.get(0).and_then(Value::as_str), e.get(1)) {
                    self.pushed.push((name.to_owned(), value.clone()));
                }
            }
        }
        if let Some(r) = diff.get("r") {
            self.reply = Some(r.clone());
        }
        let Some(obj) = diff.as_object_mut() else {
            return Err(self.protocol(id, format!("a diff that is not an object: {diff}")));
        };
        for key in ["t", "e", "r"] {
            obj.remove(key);
        }
        if obj.is_empty() {
            return Ok(());
        }
        let view = self.views.get_mut(id).expect("a joined view");
        let merged = std::panic::catch_unwind(AssertUnwindSafe(|| {
            view.client.merge_value(diff.clone());
            view.client.render_tagged(id)
        }));
        let out = match merged {
            Ok(out) => out,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                return Err(
                    self.protocol(id, format!("the client could not merge {diff}: {message}"))
                );
            }
        };
        let view = self.views.get_mut(id).expect("a joined view");
        view.html = view.dom.patch(&out.html, &out.streams);
        Ok(())
    }

    fn describe(&self, id: &str) -> String {
        if id == self.root {
            format!("{} ({id})", self.path)
        } else {
            format!("child {id} of {}", self.path)
        }
    }

    fn protocol(&self, id: &str, message: String) -> Error {
        Error::Protocol {
            view: self.describe(id),
            event: self.last_event.clone(),
            message,
        }
    }

    /// Pushes `event` to a view and waits for the reply; an error reply is an [`Error`]. The
    /// response (`{}`, `{"diff"…}`, `{"redirect"…}`…) is returned unapplied.
    pub(crate) async fn push_raw(
        &mut self,
        id: &str,
        event: &str,
        payload: Value,
    ) -> Result<Value, Error> {
        let view = self
            .views
            .get(id)
            .ok_or_else(|| Error::Closed(format!("view {id} is gone")))?;
        let join_ref = view.join_ref.clone();
        let topic = format!("lv:{id}");
        let msg_ref = self.make_ref();
        let name = payload
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or(event);
        self.last_event = format!("{event} {name:?} {payload}");
        self.send(json!([join_ref, msg_ref, topic, event, payload]))
            .await?;
        let reply = self.await_reply(&topic, &msg_ref).await?;
        let response = reply.get("response").cloned().unwrap_or(Value::Null);
        if reply["status"] != "ok" {
            return Err(Error::ErrorReply {
                view: self.describe(id),
                event: self.last_event.clone(),
                reply: response,
            });
        }
        Ok(response)
    }

    /// Pushes, applies the reply's diff, and says what the page looks like now.
    pub(crate) async fn push(
        &mut self,
        id: &str,
        event: &str,
        payload: Value,
    ) -> Result<Outcome, Error> {
        let response = self.push_raw(id, event, payload).await?;
        self.settle(id, response).await
    }

    /// Applies a reply's response and what follows from it.
    pub(crate) async fn settle(&mut self, id: &str, response: Value) -> Result<Outcome, Error> {
        if let Some(diff) = response.get("diff") {
            self.apply_diff(id, diff.clone())?;
        }
        if let Some(navigation) = Navigation::from_response(&response) {
            return Ok(Outcome::Navigated(navigation));
        }
        self.after_patch().await
    }

    async fn after_patch(&mut self) -> Result<Outcome, Error> {
        if let Some(navigation) = self.navigation.take() {
            return Ok(Outcome::Navigated(navigation));
        }
        self.maintain().await?;
        if let Some(navigation) = self.trigger_action()? {
            return Ok(Outcome::Navigated(navigation));
        }
        Ok(Outcome::Html(self.html()))
    }

    /// A form with `phx-trigger-action` the client would now submit natively.
    fn trigger_action(&mut self) -> Result<Option<Navigation>, Error> {
        let page = self.page();
        let doc = Html::parse_fragment(&page);
        let sel = dom::selector("form[phx-trigger-action]")?;
        let Some(form_el) = doc.select(&sel).next() else {
            self.triggered.clear();
            return Ok(None);
        };
        let key = form::form_key(form_el);
        if !self.triggered.insert(key) {
            return Ok(None);
        }
        let fields = form::fields(form_el);
        let body = form::serialize(&fields, None, None);
        let action = form_el
            .value()
            .attr("action")
            .map_or_else(|| self.path.clone(), browser::local);
        let method = form_el.value().attr("method").unwrap_or("get").to_owned();
        Ok(Some(Navigation::FormPost {
            action,
            method,
            body,
        }))
    }

    // -----------------------------------------------------------------------------------------
    // The page

    /// The page's HTML: the main view with its child views' content in their containers.
    fn page(&self) -> String {
        self.compose(&self.root)
    }

    fn compose(&self, id: &str) -> String {
        let Some(view) = self.views.get(id) else {
            return String::new();
        };
        let children: Vec<&View> = self
            .views
            .values()
            .filter(|v| v.parent.as_deref() == Some(id))
            .collect();
        if children.is_empty() {
            return view.html.clone();
        }
        let mut subst = Subst::default();
        for child in children {
            subst
                .inner
                .insert(child.id.clone(), self.compose(&child.id));
        }
        dom::substitute(&view.html, &subst)
    }

    /// The page wrapped in the main view's container, for ownership lookups.
    fn wrapped(&self) -> String {
        format!(
            "<div id=\"{}\" data-phx-main=\"\" data-phx-session=\"\">{}</div>",
            crate::escape::escape_html(&self.root),
            self.page()
        )
    }

    /// The main view's HTML as the browser's DOM holds it now: every reply and push received
    /// so far merged, component roots tagged with `data-phx-component`, child views' content
    /// in their containers.
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct Hello;
    /// # impl LiveView for Hello {
    /// #     type Message = ();
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<p>"Hello"</p>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Hello).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let view = livefire::test::live(&router, "/").await?;
    /// assert_eq!(view.html(), "<p>Hello</p>");
    /// # Ok(()) }
    /// ```
    pub fn html(&self) -> String {
        self.page()
    }

    /// Applies the pushes the server has sent by now (a heartbeat round trip makes sure every
    /// frame sent before it has arrived) and returns [`html`](Self::html). A push that
    /// navigates away is [`Error::Redirected`]. Pushes that something asynchronous will cause
    /// later are awaited with [`wait_for`](Self::wait_for).
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct Hello;
    /// # impl LiveView for Hello {
    /// #     type Message = ();
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<p>"Hello"</p>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Hello).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// assert_eq!(view.render().await?, "<p>Hello</p>");
    /// # Ok(()) }
    /// ```
    pub async fn render(&mut self) -> Result<String, Error> {
        let msg_ref = self.make_ref();
        self.send(json!([null, msg_ref, "phoenix", "heartbeat", {}]))
            .await?;
        self.await_reply("phoenix", &msg_ref).await?;
        self.redirected_or_html().await
    }

    async fn redirected_or_html(&mut self) -> Result<String, Error> {
        match self.after_patch().await? {
            Outcome::Html(html) => Ok(html),
            Outcome::Navigated(navigation) => Err(Error::Redirected {
                from: self.path.clone(),
                navigation,
            }),
        }
    }

    /// Applies pushes as they arrive until an element matches `selector` (and its text
    /// contains `text`, when given); the page's HTML then. After the timeout (5 s, see
    /// [`set_timeout`](Self::set_timeout)) it is [`Error::Timeout`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use livefire::{LiveRouter, LiveView, Mount, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// #[derive(Default)]
    /// struct Ticker { ticks: u32 }
    ///
    /// impl LiveView for Ticker {
    ///     type Message = ();
    ///     async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
    ///         socket.every(Duration::from_millis(10), || ());
    ///         Ok(())
    ///     }
    ///     async fn handle_info(&mut self, _: (), _: &mut Socket) -> Result {
    ///         self.ticks += 1;
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered { html!(<p id="ticks">{self.ticks}</p>) }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", Ticker::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// view.wait_for("#ticks", Some("3")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for(&mut self, selector: &str, text: Option<&str>) -> Result<String, Error> {
        dom::selector(selector)?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let html = self.redirected_or_html().await?;
            if self.has_element(selector, text) {
                return Ok(html);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv(left).await? {
                Some(frame) => self.handle_frame(frame)?,
                None => {
                    return Err(Error::Timeout {
                        what: format!(
                            "{selector:?}{} in {}",
                            text.map(|t| format!(" with text {t:?}"))
                                .unwrap_or_default(),
                            html
                        ),
                        timeout: self.timeout,
                    });
                }
            }
        }
    }

    /// Waits until every task the page's views started with
    /// [`Socket::start_async`](crate::Socket::start_async) has delivered its result and the
    /// view has handled it ([`LiveView::handle_async`](crate::LiveView::handle_async)) (tasks those results start in turn included), then applies what
    /// the server sent ([`render`](Self::render)): Phoenix's `render_async`. After the
    /// timeout (5 s, see [`set_timeout`](Self::set_timeout)) it is [`Error::Timeout`].
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use livefire::{LiveRouter, LiveView, Mount, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// use livefire::async_result::AsyncOutcome;
    ///
    /// #[derive(Default)]
    /// struct Stats { visits: Option<u32> }
    ///
    /// impl LiveView for Stats {
    ///     type Message = ();
    ///     async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
    ///         socket.start_async("visits", async {
    ///             tokio::time::sleep(Duration::from_millis(20)).await; // a slow query
    ///             42u32
    ///         });
    ///         Ok(())
    ///     }
    ///     async fn handle_async(&mut self, _: &str, outcome: AsyncOutcome, _: &mut Socket) -> Result {
    ///         self.visits = outcome.into_result::<u32>().ok();
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered {
    ///         match self.visits {
    ///             None => html!(<p id="visits">"Loading…"</p>),
    ///             Some(n) => html!(<p id="visits">{n} " visits"</p>),
    ///         }
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", Stats::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// assert!(view.has_element("#visits", Some("Loading…")));
    /// view.render_async().await?;
    /// assert!(view.has_element("#visits", Some("42 visits")));
    /// # Ok(()) }
    /// ```
    pub async fn render_async(&mut self) -> Result<String, Error> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let mut running = Vec::new();
            for id in self.views.keys() {
                for rx in crate::message::registry::watch(id) {
                    running.push((id.clone(), rx));
                }
            }
            let mut waited = false;
            for (id, mut rx) in running {
                if *rx.borrow_and_update() == 0 {
                    continue;
                }
                waited = true;
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                // Done, or the view ended (its count is gone with it).
                let done = tokio::time::timeout(left, rx.wait_for(|n| *n == 0))
                    .await
                    .is_ok();
                if !done {
                    let still = *rx.borrow();
                    return Err(Error::Timeout {
                        what: format!(
                            "the async tasks of {} ({still} still running)",
                            self.describe(&id)
                        ),
                        timeout: self.timeout,
                    });
                }
            }
            let html = self.render().await?;
            if !waited {
                return Ok(html);
            }
            // Results may have started more tasks, or joined child views that start some.
        }
    }

    /// How long replies and [`wait_for`](Self::wait_for) may take (5 s by default).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct Hello;
    /// # impl LiveView for Hello {
    /// #     type Message = ();
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<p>"Hello"</p>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Hello).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// view.set_timeout(Duration::from_millis(50));
    /// let err = view.wait_for("#never", None).await.unwrap_err();
    /// assert!(matches!(err, livefire::test::Error::Timeout { .. }), "{err}");
    /// # Ok(()) }
    /// ```
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Whether an element of the page matches `selector` (and its text, whitespace collapsed,
    /// contains `text`, when given). An invalid selector matches nothing.
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct Hello;
    /// # impl LiveView for Hello {
    /// #     type Message = ();
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<p class="greeting">"Hello,   world"</p>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Hello).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let view = livefire::test::live(&router, "/").await?;
    /// assert!(view.has_element("p.greeting", Some("Hello, world")));
    /// assert!(!view.has_element("p.greeting", Some("Bye")));
    /// # Ok(()) }
    /// ```
    pub fn has_element(&self, selector: &str, text: Option<&str>) -> bool {
        let Ok(sel) = dom::selector(selector) else {
            return false;
        };
        let doc = Html::parse_fragment(&self.wrapped());
        doc.select(&sel)
            .filter(|el| !is_wrapper(*el, &self.root))
            .any(|el| text.is_none_or(|t| dom::text_of(el).contains(t)))
    }

    /// The outer HTML of every element matching `selector`, in page order.
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct List;
    /// # impl LiveView for List {
    /// #     type Message = ();
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<ul>@for i in 1..=2 { <li>{i}</li> }</ul>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || List).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let view = livefire::test::live(&router, "/").await?;
    /// assert_eq!(view.elements("li")?, ["<li>1</li>", "<li>2</li>"]);
    /// # Ok(()) }
    /// ```
    pub fn elements(&self, selector: &str) -> Result<Vec<String>, Error> {
        let sel = dom::selector(selector)?;
        let doc = Html::parse_fragment(&self.wrapped());
        Ok(doc
            .select(&sel)
            .filter(|el| !is_wrapper(*el, &self.root))
            .map(|el| el.html())
            .collect())
    }

    /// The text of the one element matching `selector` (whitespace collapsed).
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct Hello;
    /// # impl LiveView for Hello {
    /// #     type Message = ();
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<h1>" Hello "<b>"you"</b></h1>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Hello).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let view = livefire::test::live(&router, "/").await?;
    /// assert_eq!(view.text("h1")?, "Hello you");
    /// # Ok(()) }
    /// ```
    pub fn text(&self, selector: &str) -> Result<String, Error> {
        let sel = dom::selector(selector)?;
        let doc = Html::parse_fragment(&self.wrapped());
        let found: Vec<ElementRef<'_>> = doc
            .select(&sel)
            .filter(|el| !is_wrapper(*el, &self.root))
            .collect();
        match found.as_slice() {
            [el] => Ok(dom::text_of(*el)),
            [] => Err(self.no_element(selector)),
            _ => Err(Error::Ambiguous {
                selector: selector.to_owned(),
                count: found.len(),
            }),
        }
    }

    fn no_element(&self, selector: &str) -> Error {
        Error::NoElement {
            selector: selector.to_owned(),
            html: self.page(),
        }
    }

    /// The page's path (with its query), as the browser's location bar shows it: patches
    /// change it.
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct Hello;
    /// # impl LiveView for Hello {
    /// #     type Message = ();
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<p>"Hello"</p>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Hello).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let view = livefire::test::live(&router, "/?tab=2").await?;
    /// assert_eq!(view.path(), "/?tab=2");
    /// # Ok(()) }
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The page title the server set last (`t`), if any.
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Mount, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// struct Titled;
    /// impl LiveView for Titled {
    ///     type Message = ();
    ///     async fn mount(&mut self, _: &Mount, socket: &mut Socket) -> Result {
    ///         socket.set_title("Inbox");
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered { html!(<p>"mail"</p>) }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Titled).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let view = livefire::test::live(&router, "/").await?;
    /// assert_eq!(view.title(), Some("Inbox"));
    /// # Ok(()) }
    /// ```
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The events the server pushed to the client (`Socket::push_event`) since the last call,
    /// as `(name, payload)`.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// struct Pinger;
    /// impl LiveView for Pinger {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, _: Event, socket: &mut Socket) -> Result {
    ///         socket.push_event("pong", serde_json::json!({"n": 1}));
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered { html!(<button phx-click="ping">"ping"</button>) }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Pinger).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// view.click("button").await?;
    /// assert_eq!(view.take_pushed_events(), [("pong".to_owned(), serde_json::json!({"n": 1}))]);
    /// # Ok(()) }
    /// ```
    pub fn take_pushed_events(&mut self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.pushed)
    }

    /// The reply value of the last hook event (`Socket::reply`), if any.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// struct Echo;
    /// impl LiveView for Echo {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
    ///         socket.reply(event.value().clone());
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered { html!(<div id="h" phx-hook="Echo"></div>) }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Echo).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// view.hook_event("echo", serde_json::json!({"a": 1})).await?;
    /// assert_eq!(view.hook_reply(), Some(&serde_json::json!({"a": 1})));
    /// # Ok(()) }
    /// ```
    pub fn hook_reply(&self) -> Option<&Value> {
        self.reply.as_ref()
    }

    /// The ids of the child views joined now.
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// use livefire::nested::live_render;
    /// #[derive(Default)]
    /// struct Child;
    /// impl LiveView for Child {
    ///     type Message = ();
    ///     fn render(&self, _: &Socket) -> Rendered { html!(<p>"child"</p>) }
    /// }
    /// struct Parent;
    /// impl LiveView for Parent {
    ///     type Message = ();
    ///     fn render(&self, _: &Socket) -> Rendered { html!({live_render::<Child>("kid")}) }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// let router = LiveRouter::new(keyring.clone())
    ///     .child_view(Child::default)
    ///     .live("/", || Parent)
    ///     .build()
    ///     .unwrap()
    /// #   .layer(CookieSessionLayer::new(keyring));
    /// let view = livefire::test::live(&router, "/").await?;
    /// assert_eq!(view.children(), ["kid"]);
    /// assert_eq!(view.child("kid")?, "<p>child</p>");
    /// # Ok(()) }
    /// ```
    pub fn children(&self) -> Vec<String> {
        self.views
            .values()
            .filter(|v| v.parent.is_some())
            .map(|v| v.id.clone())
            .collect()
    }

    /// The HTML of the child view whose container has the id `id` (its own children
    /// included). A child view is found by its container's id; events on elements inside it
    /// go to that view, so `#id …` selectors act on it.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// use livefire::nested::live_render;
    /// #[derive(Default)]
    /// struct Counter { n: u32 }
    /// impl LiveView for Counter {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, _: Event, _: &mut Socket) -> Result {
    ///         self.n += 1;
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered {
    ///         html!(<button phx-click="inc">{self.n}</button>)
    ///     }
    /// }
    /// struct Dashboard;
    /// impl LiveView for Dashboard {
    ///     type Message = ();
    ///     fn render(&self, _: &Socket) -> Rendered {
    ///         html!({live_render::<Counter>("left")} {live_render::<Counter>("right")})
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// let router = LiveRouter::new(keyring.clone())
    ///     .child_view(Counter::default)
    ///     .live("/", || Dashboard)
    ///     .build()
    ///     .unwrap()
    /// #   .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// // The click goes to the child view that owns the button.
    /// view.click("#right button").await?;
    /// assert_eq!(view.child("right")?, r#"<button phx-click="inc">1</button>"#);
    /// assert_eq!(view.child("left")?, r#"<button phx-click="inc">0</button>"#);
    /// assert!(view.child("middle").is_err());
    /// # Ok(()) }
    /// ```
    pub fn child(&self, id: &str) -> Result<String, Error> {
        if self.views.get(id).is_some_and(|v| v.parent.is_some()) {
            Ok(self.compose(id))
        } else {
            Err(self.no_element(&format!("#{id} (a joined child view)")))
        }
    }

    /// Loads the page's current path again over HTTP (a fresh dead render, in this browser)
    /// and checks that its live container holds what this page's merged DOM holds: the diffs
    /// merged so far give the same page as a render from scratch. The markup is compared
    /// after parsing; attributes that differ on every render by design (`data-phx-session`,
    /// `data-phx-static`, the value of `_csrf_token` inputs) and the attributes the client
    /// adds (`data-phx-component`, `data-phx-view`) are left out, and component ids in
    /// `phx-target` are compared by order of appearance (a fresh render numbers them anew). A fresh render mounts the
    /// view anew, so this says something only about state that a mount reads back (a database,
    /// the URL, a shared store).
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct Hello;
    /// # impl LiveView for Hello {
    /// #     type Message = ();
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<p>"Hello"</p>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Hello).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let view = livefire::test::live(&router, "/").await?;
    /// view.matches_fresh_render().await?;
    /// # Ok(()) }
    /// ```
    pub async fn matches_fresh_render(&self) -> Result<(), Error> {
        let page = self.browser.get(&self.path).await?;
        let Some(fresh) = browser::container_inner(&page) else {
            return Err(Error::NotLive {
                path: self.path.clone(),
                status: page.status.as_u16(),
                body: page.body.chars().take(2000).collect(),
            });
        };
        let fresh = comparable(&fresh);
        let merged = comparable(&self.page());
        if fresh == merged {
            Ok(())
        } else {
            Err(Error::Mismatch {
                view: self.describe(&self.root),
                merged,
                fresh,
            })
        }
    }

    /// The browser this page was loaded in (its cookie jar and HTTP requests).
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct Hello;
    /// # impl LiveView for Hello {
    /// #     type Message = ();
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<p>"Hello"</p>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Hello).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let view = livefire::test::live(&router, "/").await?;
    /// assert!(view.browser().cookie("livefire_session").is_some());
    /// # Ok(()) }
    /// ```
    pub fn browser(&self) -> &Browser {
        &self.browser
    }

    // -----------------------------------------------------------------------------------------
    // Elements and targets

    /// The one element matching `selector`, with the view that owns it.
    fn element(&self, selector: &str) -> Result<El, Error> {
        let sel = dom::selector(selector)?;
        let doc = Html::parse_fragment(&self.wrapped());
        let found: Vec<ElementRef<'_>> = doc
            .select(&sel)
            .filter(|el| !is_wrapper(*el, &self.root))
            .collect();
        match found.as_slice() {
            [el] => Ok(self.read_el(*el)),
            [] => Err(self.no_element(selector)),
            _ => Err(Error::Ambiguous {
                selector: selector.to_owned(),
                count: found.len(),
            }),
        }
    }

    fn read_el(&self, el: ElementRef<'_>) -> El {
        El {
            tag: el.value().name().to_owned(),
            attrs: el
                .value()
                .attrs()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            value: form::dom_value(el),
            owner: owner(el, &self.root),
        }
    }

    /// `closestPhxBinding(el, binding)`: the element itself or the closest ancestor inside its
    /// view with the binding (and not disabled), as an owned [`El`].
    fn closest_binding(&self, selector: &str, binding: &str) -> Result<Option<El>, Error> {
        let sel = dom::selector(selector)?;
        let doc = Html::parse_fragment(&self.wrapped());
        let found: Vec<ElementRef<'_>> = doc
            .select(&sel)
            .filter(|el| !is_wrapper(*el, &self.root))
            .collect();
        let el = match found.as_slice() {
            [el] => *el,
            [] => return Err(self.no_element(selector)),
            _ => {
                return Err(Error::Ambiguous {
                    selector: selector.to_owned(),
                    count: found.len(),
                });
            }
        };
        let mut cur = Some(el);
        while let Some(e) = cur {
            if e.value().attr(binding).is_some() && e.value().attr("disabled").is_none() {
                return Ok(Some(self.read_el(e)));
            }
            if e.value().attr("data-phx-session").is_some() || is_wrapper(e, &self.root) {
                break;
            }
            cur = e.parent().and_then(ElementRef::wrap);
        }
        Ok(None)
    }

    /// `withinTargets` + `targetComponentID`: where an event from `source` goes.
    /// `cid_source` is the element whose `phx-target` decides the cid (the form, for form
    /// events); `js_target` a JS `push` command's `target`.
    fn targets(
        &self,
        source: &El,
        cid_source: &El,
        js_target: Option<&str>,
    ) -> Result<Vec<Target>, Error> {
        let phx_target = js_target
            .map(str::to_owned)
            .or_else(|| cid_source.attr("phx-target").map(str::to_owned));
        let Some(phx_target) = phx_target.filter(|t| !t.is_empty()) else {
            return Ok(vec![Target {
                view: source.owner.clone(),
                cid: None,
            }]);
        };
        if is_cid(&phx_target) {
            return Ok(vec![Target {
                view: source.owner.clone(),
                cid: phx_target.parse().ok(),
            }]);
        }
        let sel = dom::selector(&phx_target)?;
        let doc = Html::parse_fragment(&self.wrapped());
        let targets: Vec<Target> = doc
            .select(&sel)
            .filter(|el| !is_wrapper(*el, &self.root))
            .map(|t| {
                let view = owner(t, &self.root);
                let cid = dom::closest(t, |e| {
                    e.value().attr("data-phx-component").is_some()
                        || e.value().attr("data-phx-session").is_some()
                })
                .filter(|c| owner(*c, &self.root) == view)
                .and_then(|c| c.value().attr("data-phx-component"))
                .and_then(|c| c.parse().ok());
                Target { view, cid }
            })
            .collect();
        if targets.is_empty() {
            return Err(Error::NoElement {
                selector: format!("{phx_target} (the phx-target of an event)"),
                html: self.page(),
            });
        }
        Ok(targets)
    }

    /// `extractMeta(el, meta, value)`.
    fn extract_meta(el: &El, meta: Map<String, Value>, value: Option<&Value>) -> Value {
        let mut meta = meta;
        for (name, v) in &el.attrs {
            if let Some(key) = name.strip_prefix("phx-value-") {
                meta.insert(key.to_owned(), Value::from(v.as_str()));
            }
        }
        if el.tag != "form"
            && let Some(v) = &el.value
        {
            meta.insert("value".to_owned(), v.clone());
        }
        if let Some(Value::Object(value)) = value {
            for (k, v) in value {
                meta.insert(k.clone(), v.clone());
            }
        }
        Value::Object(meta)
    }

    /// Runs a binding's commands (`JS.exec`) with `kind` events and `data` metadata.
    async fn exec(
        &mut self,
        el: &El,
        binding: &str,
        kind: &str,
        data: Map<String, Value>,
    ) -> Result<Outcome, Error> {
        let attr = el.attr(binding).unwrap_or_default().to_owned();
        let commands: Vec<(String, Value)> = if attr.starts_with('[') {
            let parsed: Value = serde_json::from_str(&attr).map_err(|e| Error::Protocol {
                view: self.describe(&el.owner),
                event: format!("{binding}={attr}"),
                message: format!("JS commands that are not JSON: {e}"),
            })?;
            parsed
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| {
                    Some((
                        c.get(0)?.as_str()?.to_owned(),
                        c.get(1).cloned().unwrap_or(json!({})),
                    ))
                })
                .collect()
        } else {
            vec![("push".to_owned(), json!({ "event": attr }))]
        };
        let mut outcome = Outcome::Html(self.html());
        for (command, args) in commands {
            match command.as_str() {
                "push" => {
                    let event = args
                        .get("event")
                        .and_then(Value::as_str)
                        .unwrap_or(&attr)
                        .to_owned();
                    let targets =
                        self.targets(el, el, args.get("target").and_then(Value::as_str))?;
                    for target in targets {
                        let value = Self::extract_meta(el, data.clone(), args.get("value"));
                        let payload = json!({
                            "type": kind,
                            "event": event,
                            "value": value,
                            "cid": target.cid,
                        });
                        outcome = self.push(&target.view, "event", payload).await?;
                        if matches!(outcome, Outcome::Navigated(_)) {
                            return Ok(outcome);
                        }
                    }
                }
                "navigate" => {
                    let to = args.get("href").and_then(Value::as_str).unwrap_or("/");
                    return Ok(Outcome::Navigated(Navigation::LiveRedirect {
                        to: browser::local(to),
                        replace: args
                            .get("replace")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        flash: None,
                    }));
                }
                "patch" => {
                    let to = args
                        .get("href")
                        .and_then(Value::as_str)
                        .unwrap_or("/")
                        .to_owned();
                    outcome = self.patch(&to).await?;
                    if matches!(outcome, Outcome::Navigated(_)) {
                        return Ok(outcome);
                    }
                }
                // Client-side only (classes, transitions, focus, dispatch…): nothing reaches the
                // server.
                _ => {}
            }
        }
        Ok(outcome)
    }

    // -----------------------------------------------------------------------------------------
    // User actions

    /// Clicks the one element matching `selector`, as the client handles the click: the
    /// closest element with `phx-click` (the element itself or an ancestor in its view) sends
    /// a `click` event with its `phx-value-*` attributes and `value` (`phx-click` holding JS
    /// commands runs their `push`, `navigate` and `patch`); its `phx-target` (a cid or a
    /// selector, whose closest `data-phx-component` gives the cid) picks the component.
    /// Without `phx-click`, a link is followed: `data-phx-link="patch"` patches,
    /// `data-phx-link="redirect"` and plain links are returned as navigations.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// #[derive(Default)]
    /// struct Picker { picked: String }
    /// impl LiveView for Picker {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, event: Event, _: &mut Socket) -> Result {
    ///         self.picked = event.get("id").unwrap_or_default().to_owned();
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered {
    ///         html!(<ul>@for id in ["a", "b"] { <li id={id} phx-click="pick" phx-value-id={id}><span>{id}</span></li> }</ul>
    ///               <p id="picked">{self.picked.as_str()}</p>)
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", Picker::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// let html = view.click("#b span").await?.html();
    /// assert!(html.contains(r#"<p id="picked">b</p>"#));
    /// # Ok(()) }
    /// ```
    pub async fn click(&mut self, selector: &str) -> Result<Outcome, Error> {
        if let Some(el) = self.closest_binding(selector, "phx-click")? {
            return self.exec(&el, "phx-click", "click", Map::new()).await;
        }
        let Some(link) = self.closest_binding(selector, "href")? else {
            return Err(Error::NoBinding {
                selector: selector.to_owned(),
                binding: "phx-click (or a link)".to_owned(),
            });
        };
        let href = browser::local(link.attr("href").unwrap_or("/"));
        let replace = link.attr("data-phx-link-state") == Some("replace");
        match link.attr("data-phx-link") {
            Some("patch") => self.patch(&href).await,
            Some("redirect") => Ok(Outcome::Navigated(Navigation::LiveRedirect {
                to: href,
                replace,
                flash: None,
            })),
            _ => Ok(Outcome::Navigated(Navigation::Redirect {
                to: href,
                flash: None,
            })),
        }
    }

    /// A key released over the one element matching `selector` (`phx-keyup`, or
    /// `phx-window-keyup`): a `keyup` event with `{key, …phx-value-*, value?}`. If the element
    /// has `phx-key` and `key` is another key, the client sends nothing: the page as it is.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// #[derive(Default)]
    /// struct Keys { last: String }
    /// impl LiveView for Keys {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, event: Event, _: &mut Socket) -> Result {
    ///         self.last = format!("{} {}", event.name(), event.get("key").unwrap_or_default());
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered {
    ///         html!(<input id="q" phx-keyup="up" phx-keydown="down" phx-key="Enter"/><p>{self.last.as_str()}</p>)
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", Keys::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// view.keyup("#q", "a").await?; // filtered out by phx-key
    /// assert!(view.has_element("p", Some("")) && !view.has_element("p", Some("up")));
    /// view.keyup("#q", "Enter").await?;
    /// assert!(view.has_element("p", Some("up Enter")));
    /// view.keydown("#q", "Enter").await?;
    /// assert!(view.has_element("p", Some("down Enter")));
    /// # Ok(()) }
    /// ```
    pub async fn keyup(&mut self, selector: &str, key: &str) -> Result<Outcome, Error> {
        self.key_event(selector, "keyup", key).await
    }

    /// A key pressed over the one element matching `selector` (`phx-keydown`, or
    /// `phx-window-keydown`); see [`keyup`](Self::keyup).
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// #[derive(Default)]
    /// struct Game { moves: Vec<String> }
    /// impl LiveView for Game {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, event: Event, _: &mut Socket) -> Result {
    ///         self.moves.push(event.get("key").unwrap_or_default().to_owned());
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered {
    ///         html!(<div id="board" phx-window-keydown="move"><p>{self.moves.join(" ")}</p></div>)
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", Game::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// view.keydown("#board", "ArrowUp").await?;
    /// view.keydown("#board", "ArrowLeft").await?;
    /// assert_eq!(view.text("p")?, "ArrowUp ArrowLeft");
    /// // An element without the binding is an error, not a silent no-op.
    /// assert!(view.keydown("p", "x").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn keydown(&mut self, selector: &str, key: &str) -> Result<Outcome, Error> {
        self.key_event(selector, "keydown", key).await
    }

    async fn key_event(&mut self, selector: &str, kind: &str, key: &str) -> Result<Outcome, Error> {
        let el = self.element(selector)?;
        let binding = [format!("phx-{kind}"), format!("phx-window-{kind}")]
            .into_iter()
            .find(|b| el.attr(b).is_some())
            .ok_or_else(|| Error::NoBinding {
                selector: selector.to_owned(),
                binding: format!("phx-{kind}"),
            })?;
        if let Some(filter) = el.attr("phx-key")
            && !filter.eq_ignore_ascii_case(key)
        {
            return Ok(Outcome::Html(self.html()));
        }
        let mut data = Map::new();
        data.insert("key".to_owned(), Value::from(key));
        self.exec(&el, &binding, kind, data).await
    }

    /// The one element matching `selector` loses focus (`phx-blur`, or `phx-window-blur`): a
    /// `blur` event with `phx-value-*` and `value`.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// #[derive(Default)]
    /// struct Focus { log: Vec<String> }
    /// impl LiveView for Focus {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, event: Event, _: &mut Socket) -> Result {
    ///         self.log.push(format!("{}={}", event.name(), event.get("value").unwrap_or_default()));
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered {
    ///         html!(<input id="name" value="Ann" phx-focus="in" phx-blur="out"/><p>{self.log.join(",")}</p>)
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", Focus::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// view.focus("#name").await?;
    /// view.blur("#name").await?;
    /// assert!(view.has_element("p", Some("in=Ann,out=Ann")));
    /// # Ok(()) }
    /// ```
    pub async fn blur(&mut self, selector: &str) -> Result<Outcome, Error> {
        self.focus_event(selector, "blur").await
    }

    /// The one element matching `selector` gains focus (`phx-focus`, or `phx-window-focus`);
    /// see [`blur`](Self::blur).
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// #[derive(Default)]
    /// struct Search { hint: bool }
    /// impl LiveView for Search {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, _: Event, _: &mut Socket) -> Result {
    ///         self.hint = true;
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered {
    ///         html!(<input id="q" phx-focus="show_hint"/>
    ///               @if self.hint { <p class="hint">"Try a name"</p> })
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", Search::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// assert!(!view.has_element(".hint", None));
    /// view.focus("#q").await?;
    /// assert!(view.has_element(".hint", Some("Try a name")));
    /// # Ok(()) }
    /// ```
    pub async fn focus(&mut self, selector: &str) -> Result<Outcome, Error> {
        self.focus_event(selector, "focus").await
    }

    async fn focus_event(&mut self, selector: &str, kind: &str) -> Result<Outcome, Error> {
        let el = self.element(selector)?;
        let binding = [format!("phx-{kind}"), format!("phx-window-{kind}")]
            .into_iter()
            .find(|b| el.attr(b).is_some())
            .ok_or_else(|| Error::NoBinding {
                selector: selector.to_owned(),
                binding: format!("phx-{kind}"),
            })?;
        self.exec(&el, &binding, kind, Map::new()).await
    }

    /// A hook's `this.pushEvent(name, value)` on the main view: a `hook` event with `value`
    /// as given. The reply's value is [`hook_reply`](Self::hook_reply).
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// #[derive(Default)]
    /// struct Map { center: String }
    /// impl LiveView for Map {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, event: Event, _: &mut Socket) -> Result {
    ///         let (lat, lng) = (event.value()["lat"].clone(), event.value()["lng"].clone());
    ///         self.center = format!("{lat},{lng}");
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered {
    ///         html!(<div id="map" phx-hook="Map"></div><p id="center">{self.center.as_str()}</p>)
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", Map::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// // What the hook's JavaScript would push after the user drags the map.
    /// view.hook_event("moved", serde_json::json!({"lat": 52.5, "lng": 13.4})).await?;
    /// assert_eq!(view.text("#center")?, "52.5,13.4");
    /// # Ok(()) }
    /// ```
    pub async fn hook_event(&mut self, name: &str, value: Value) -> Result<Outcome, Error> {
        let root = self.root.clone();
        self.push(
            &root,
            "event",
            json!({"type": "hook", "event": name, "value": value, "cid": null}),
        )
        .await
    }

    /// A hook's `this.pushEventTo(selector, name, value)`: to the view owning the one element
    /// matching `selector`, and to its component (the closest `data-phx-component`), if any.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct Echo;
    /// # impl LiveView for Echo {
    /// #     type Message = ();
    /// #     async fn handle_event(&mut self, event: Event, socket: &mut Socket) -> Result {
    /// #         socket.reply(serde_json::json!({"got": event.name()}));
    /// #         Ok(())
    /// #     }
    /// #     fn render(&self, _: &Socket) -> Rendered { html!(<div id="map" phx-hook="Map"></div>) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", || Echo).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// view.hook_event_to("#map", "moved", serde_json::json!({"lat": 1})).await?;
    /// assert_eq!(view.hook_reply(), Some(&serde_json::json!({"got": "moved"})));
    /// # Ok(()) }
    /// ```
    pub async fn hook_event_to(
        &mut self,
        selector: &str,
        name: &str,
        value: Value,
    ) -> Result<Outcome, Error> {
        let el = self.element(selector)?;
        let targets = self.targets(&el, &el, Some(selector))?;
        let mut outcome = Outcome::Html(self.html());
        for target in targets {
            outcome = self
                .push(
                    &target.view,
                    "event",
                    json!({"type": "hook", "event": name, "value": value, "cid": target.cid}),
                )
                .await?;
        }
        Ok(outcome)
    }

    /// Patches the page to `path` as a patch link or the back button does (`live_patch`):
    /// `handle_params` runs in the same view. A path the view does not handle comes back as a
    /// [`Navigation::LiveRedirect`] (the client then navigates).
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Params, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// #[derive(Default)]
    /// struct Tabs { tab: String }
    /// impl LiveView for Tabs {
    ///     type Message = ();
    ///     async fn handle_params(&mut self, params: &Params, _: &mut Socket) -> Result {
    ///         self.tab = params.query("tab").unwrap_or("home").to_owned();
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered { html!(<h1>{self.tab.as_str()}</h1>) }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", Tabs::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// view.patch("/?tab=settings").await?;
    /// assert_eq!(view.path(), "/?tab=settings");
    /// assert!(view.has_element("h1", Some("settings")));
    /// # Ok(()) }
    /// ```
    pub async fn patch(&mut self, path: &str) -> Result<Outcome, Error> {
        let root = self.root.clone();
        let url = self.browser.url(path);
        let response = self
            .push_raw(&root, "live_patch", json!({ "url": url }))
            .await?;
        if response
            .get("link_redirect")
            .is_some_and(super::model::truthy)
        {
            return Ok(Outcome::Navigated(Navigation::LiveRedirect {
                to: path.to_owned(),
                replace: false,
                flash: None,
            }));
        }
        if Navigation::from_response(&response).is_none() {
            self.path = path.to_owned();
        }
        self.settle(&root, response).await
    }

    /// Navigates live to `path` (a `data-phx-link="redirect"` link, `push_navigate`): the
    /// main view is left and a view for `path` joins on the same socket. Across live sessions
    /// the server refuses the join and the browser loads the page over HTTP instead.
    ///
    /// ```
    /// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// # struct A; struct B;
    /// # impl LiveView for A { type Message = (); fn render(&self, _: &Socket) -> Rendered { html!(<h1>"A"</h1>) } }
    /// # impl LiveView for B { type Message = (); fn render(&self, _: &Socket) -> Rendered { html!(<h1>"B"</h1>) } }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/a", || A).live("/b", || B).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let view = livefire::test::live(&router, "/a").await?;
    /// let view = view.navigate("/b").await?;
    /// assert_eq!(view.path(), "/b");
    /// assert!(view.has_element("h1", Some("B")));
    /// # Ok(()) }
    /// ```
    pub async fn navigate(self, path: &str) -> Result<LiveTest, Error> {
        self.follow_redirect(Navigation::LiveRedirect {
            to: path.to_owned(),
            replace: false,
            flash: None,
        })
        .await
    }

    /// Continues a navigation this page returned, as the browser does: a
    /// [`Navigation::LiveRedirect`] leaves the view and joins the new one on the same socket
    /// (with the redirect's flash; across live sessions the join is refused and the page is
    /// loaded over HTTP, the flash in its cookie); a [`Navigation::Redirect`] closes the
    /// socket, writes the flash cookie and loads `to`; a [`Navigation::FormPost`] posts the
    /// form. HTTP redirects are followed with the cookie jar, so the flash and the session
    /// writes a redirect carries land as in a browser. The live page at the end is returned.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::flash::LiveFlashLayer;
    /// # use livefire::session::CookieSessionLayer;
    /// struct Form;
    /// impl LiveView for Form {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, _: Event, socket: &mut Socket) -> Result {
    ///         socket.put_flash("info", "Saved").redirect("/done");
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered { html!(<button phx-click="save">"Save"</button>) }
    /// }
    /// struct Done;
    /// impl LiveView for Done {
    ///     type Message = ();
    ///     fn render(&self, socket: &Socket) -> Rendered {
    ///         html!(<p id="flash">{socket.flash().get_str("info").unwrap_or_default()}</p>)
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// let router = LiveRouter::new(keyring.clone())
    ///     .live("/", || Form)
    ///     .live("/done", || Done)
    ///     .build()
    ///     .unwrap()
    ///     .layer(LiveFlashLayer::new(keyring.clone()))
    ///     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// let redirect = view.click("button").await?.navigation();
    /// assert_eq!(redirect.to(), "/done");
    /// let done = view.follow_redirect(redirect).await?;
    /// assert!(done.has_element("#flash", Some("Saved")));
    /// # Ok(()) }
    /// ```
    pub async fn follow_redirect(mut self, navigation: Navigation) -> Result<LiveTest, Error> {
        let mut navigation = navigation;
        for _ in 0..MAX_REDIRECTS {
            let Navigation::LiveRedirect { to, flash, .. } = &navigation else {
                self.unload().await;
                return self.browser.follow(navigation).await;
            };
            let (to, flash) = (to.clone(), flash.clone());
            let root = self.root.clone();
            self.leave(&root).await?;
            let referer = self.path.clone();
            let url = self.browser.url(&to);
            self.title = None;
            let result = self
                .join_root(json!({ "redirect": url }), flash.clone())
                .await;
            match result {
                Ok(()) => {
                    // Unless the new view's mount patched the URL already.
                    if self.path == referer {
                        self.path = to;
                    }
                    return Ok(self);
                }
                Err(Error::Redirected {
                    navigation: next, ..
                }) => navigation = next,
                Err(Error::JoinRefused { .. }) => {
                    // Another live session: the client loads the page over HTTP.
                    navigation = Navigation::Redirect { to, flash };
                }
                Err(other) => return Err(other),
            }
        }
        Err(Error::TooManyRedirects {
            path: navigation.to().to_owned(),
        })
    }

    /// Leaves every view and closes the socket, as the client does before a page load.
    async fn unload(&mut self) {
        let root = self.root.clone();
        let _ = self.leave(&root).await;
        let _ = self.ws.close(None).await;
    }

    // -----------------------------------------------------------------------------------------
    // Forms

    /// Changes the form matching `selector` as a user typing into it: the fields named in
    /// `values` (`("user[email]", "a@b.c")`; a checkbox or radio is checked by its value, an
    /// option selected by its value) take those values, every other field keeps what the page
    /// shows, and the form is serialized as the client serializes it (`_unused_` twins for
    /// fields not yet interacted with, file inputs left out) into a `form` event for its
    /// `phx-change` (or the changed input's own `phx-change`), with `meta._target` the name of
    /// the last field in `values`. A name the form does not have is an [`Error::Form`].
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// #[derive(Default)]
    /// struct Signup { error: String }
    /// impl LiveView for Signup {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, event: Event, _: &mut Socket) -> Result {
    ///         let form: serde_json::Value = event.form()?;
    ///         let email = form.get("user").and_then(|u| u.get("email")).and_then(|v| v.as_str()).unwrap_or_default();
    ///         self.error = if email.contains('@') { String::new() } else { "invalid email".into() };
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered {
    ///         html!(<form id="f" phx-change="validate">
    ///             <input name="user[email]"/><input name="user[name]" value="Ann"/>
    ///             <p class="error">{self.error.as_str()}</p>
    ///         </form>)
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", Signup::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// view.change_form("#f", &[("user[email]", "nope")]).await?;
    /// assert!(view.has_element(".error", Some("invalid email")));
    /// assert!(view.change_form("#f", &[("user[age]", "3")]).await.is_err(), "no such field");
    /// # Ok(()) }
    /// ```
    pub async fn change_form(
        &mut self,
        selector: &str,
        values: &[(&str, &str)],
    ) -> Result<Outcome, Error> {
        let event = self.form_event(selector, values, false)?;
        self.send_form_event(event).await
    }

    /// Submits the form matching `selector` as a user filling it in (see
    /// [`change_form`](Self::change_form) for `values`) and pressing its default button: a
    /// `form` event for its `phx-submit`, the submit button's `name=value` included, no
    /// `_unused_` twins, no `_target`.
    ///
    /// ```
    /// # use livefire::{Event, LiveRouter, LiveView, Rendered, Result, Socket, html, token::Keyring};
    /// # use livefire::session::CookieSessionLayer;
    /// #[derive(Default)]
    /// struct Todo { items: Vec<String> }
    /// impl LiveView for Todo {
    ///     type Message = ();
    ///     async fn handle_event(&mut self, event: Event, _: &mut Socket) -> Result {
    ///         let form: serde_json::Value = event.form()?;
    ///         self.items.push(form.get("title").and_then(|v| v.as_str()).unwrap_or_default().to_owned());
    ///         Ok(())
    ///     }
    ///     fn render(&self, _: &Socket) -> Rendered {
    ///         html!(<form id="add" phx-submit="add"><input name="title"/><button>"Add"</button></form>
    ///               <ul>@for item in &self.items { <li>{item.as_str()}</li> }</ul>)
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::result::Result<(), livefire::test::Error> {
    /// # let keyring = Keyring::new([1u8; 64]).unwrap();
    /// # let router = LiveRouter::new(keyring.clone()).live("/", Todo::default).build().unwrap()
    /// #     .layer(CookieSessionLayer::new(keyring));
    /// let mut view = livefire::test::live(&router, "/").await?;
    /// view.submit_form("#add", &[("title", "milk")]).await?;
    /// assert_eq!(view.elements("li")?, ["<li>milk</li>"]);
    /// # Ok(()) }
    /// ```
    pub async fn submit_form(
        &mut self,
        selector: &str,
        values: &[(&str, &str)],
    ) -> Result<Outcome, Error> {
        let event = self.form_event(selector, values, true)?;
        self.send_form_event(event).await
    }

    /// Builds the payload of a change or submit of the form matching `selector`.
    pub(crate) fn form_event(
        &mut self,
        selector: &str,
        values: &[(&str, &str)],
        submit: bool,
    ) -> Result<FormEvent, Error> {
        let sel = dom::selector(selector)?;
        let wrapped = self.wrapped();
        let doc = Html::parse_fragment(&wrapped);
        let found: Vec<ElementRef<'_>> = doc
            .select(&sel)
            .filter(|el| !is_wrapper(*el, &self.root))
            .collect();
        let form_el = match found.as_slice() {
            [el] if el.value().name() == "form" => *el,
            [_] => {
                return Err(Error::Form {
                    selector: selector.to_owned(),
                    message: "not a <form>".to_owned(),
                });
            }
            [] => return Err(self.no_element(selector)),
            _ => {
                return Err(Error::Ambiguous {
                    selector: selector.to_owned(),
                    count: found.len(),
                });
            }
        };
        let key = form::form_key(form_el);
        let mut fields = form::fields(form_el);
        form::fill(&mut fields, values).map_err(|message| Error::Form {
            selector: selector.to_owned(),
            message,
        })?;
        let form = self.read_el(form_el);
        let used = self.used.entry(key).or_default();
        for (name, _) in values {
            used.insert((*name).to_owned());
        }
        if submit {
            // Every input is marked submitted: no `_unused_` twins from now on.
            for field in &fields {
                used.insert(field.name.clone());
            }
        }
        let used = used.clone();
        let (binding, only) = if submit {
            ("phx-submit", None)
        } else {
            // An input with its own phx-change sends only itself.
            let own = values.last().and_then(|(name, _)| {
                fields
                    .iter()
                    .find(|f| f.name == *name && f.phx_change.is_some())
                    .map(|f| (f.phx_change.clone().unwrap_or_default(), f.name.clone()))
            });
            match own {
                Some((event, name)) => {
                    return self.finish_form_event(
                        form,
                        fields,
                        &used,
                        submit,
                        event,
                        Some(name),
                        values,
                    );
                }
                None => ("phx-change", None),
            }
        };
        let Some(event) = form.attr(binding).map(str::to_owned) else {
            return Err(Error::NoBinding {
                selector: selector.to_owned(),
                binding: binding.to_owned(),
            });
        };
        self.finish_form_event(form, fields, &used, submit, event, only, values)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_form_event(
        &self,
        form: El,
        fields: Vec<form::Field>,
        used: &HashSet<String>,
        submit: bool,
        event: String,
        only: Option<String>,
        values: &[(&str, &str)],
    ) -> Result<FormEvent, Error> {
        let unused = (!submit && form.attr("phx-no-unused-field").is_none()).then_some(used);
        let body = match &only {
            Some(name) => {
                let fields: Vec<form::Field> =
                    fields.into_iter().filter(|f| &f.name == name).collect();
                form::serialize(&fields, None, unused)
            }
            None => {
                let submitter = submit.then(|| form::default_button(&fields)).flatten();
                form::serialize(&fields, submitter, unused)
            }
        };
        let targets = self.targets(&form, &form, None)?;
        let mut meta = match Self::extract_meta(&form, Map::new(), None) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        if !submit {
            let target = values.last().map_or("undefined", |(name, _)| *name);
            let mut with_target = Map::new();
            with_target.insert("_target".to_owned(), Value::from(target));
            with_target.extend(meta);
            meta = with_target;
        }
        Ok(FormEvent {
            event,
            body,
            meta: Value::Object(meta),
            targets,
            submit,
        })
    }

    pub(crate) async fn send_form_event(&mut self, form: FormEvent) -> Result<Outcome, Error> {
        self.send_form_event_with(form, json!({})).await
    }

    pub(crate) async fn send_form_event_with(
        &mut self,
        form: FormEvent,
        uploads: Value,
    ) -> Result<Outcome, Error> {
        let mut outcome = Outcome::Html(self.html());
        for target in &form.targets {
            let mut payload = json!({
                "type": "form",
                "event": form.event,
                "value": form.body,
                "meta": form.meta,
                "cid": target.cid,
            });
            if !form.submit {
                payload["uploads"] = uploads.clone();
            }
            outcome = self.push(&target.view, "event", payload).await?;
            if matches!(outcome, Outcome::Navigated(_)) {
                break;
            }
        }
        Ok(outcome)
    }

    // -----------------------------------------------------------------------------------------
    // Uploads

    /// A new client file reference (`LiveUploader.genFileRef`: a counter).
    pub(crate) fn file_ref(&mut self) -> String {
        let r = self.next_file_ref.to_string();
        self.next_file_ref += 1;
        r
    }

    /// The `(upload ref, input name, cid, view id, phx-progress)` of a file input.
    #[allow(clippy::type_complexity)]
    pub(crate) fn file_input_info(
        &self,
        selector: &str,
    ) -> Result<(String, String, Option<u64>, String, Option<String>), Error> {
        let sel = dom::selector(selector)?;
        let doc = Html::parse_fragment(&self.wrapped());
        let found: Vec<ElementRef<'_>> = doc
            .select(&sel)
            .filter(|el| !is_wrapper(*el, &self.root))
            .collect();
        let input = match found.as_slice() {
            [el] => *el,
            [] => return Err(self.no_element(selector)),
            _ => {
                return Err(Error::Ambiguous {
                    selector: selector.to_owned(),
                    count: found.len(),
                });
            }
        };
        let upload_ref = input
            .value()
            .attr("data-phx-upload-ref")
            .ok_or_else(|| Error::Upload(format!("{selector:?} is not a live file input")))?
            .to_owned();
        let name = input.value().attr("name").unwrap_or_default().to_owned();
        let form_el = dom::closest(input, |e| e.value().name() == "form");
        let (view, cid) = match form_el {
            Some(f) => {
                let form = self.read_el(f);
                let t = self.targets(&form, &form, None)?;
                let t = t.into_iter().next().expect("one target at least");
                (t.view, t.cid)
            }
            None => (owner(input, &self.root), None),
        };
        let progress_event = input.value().attr("phx-progress").map(str::to_owned);
        Ok((upload_ref, name, cid, view, progress_event))
    }

    /// The form selector of the form around a file input (by id), if it has an id.
    pub(crate) fn form_of(&self, selector: &str) -> Result<Option<String>, Error> {
        let sel = dom::selector(selector)?;
        let doc = Html::parse_fragment(&self.wrapped());
        Ok(doc
            .select(&sel)
            .next()
            .and_then(|input| dom::closest(input, |e| e.value().name() == "form"))
            .and_then(|f| f.value().id().map(|id| format!("#{id}"))))
    }

    pub(crate) fn set_last_event(&mut self, event: String) {
        self.last_event = event;
    }

    pub(crate) fn next_ref(&mut self) -> String {
        self.make_ref()
    }

    pub(crate) fn current_html(&self) -> String {
        self.html()
    }

    pub(crate) async fn send_frame(&mut self, frame: Value) -> Result<(), Error> {
        self.send(frame).await
    }
}

/// Whether `el` is the wrapper standing for the main view's container.
fn is_wrapper(el: ElementRef<'_>, root: &str) -> bool {
    el.value().attr("data-phx-main").is_some() && el.value().id() == Some(root)
}

/// The id of the view owning `el`: its closest container (`data-phx-session`), itself
/// excluded.
fn owner(el: ElementRef<'_>, root: &str) -> String {
    el.ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| a.value().attr("data-phx-session").is_some())
        .and_then(|a| a.value().id())
        .unwrap_or(root)
        .to_owned()
}

/// HTML normalized for [`LiveTest::matches_fresh_render`].
fn comparable(html: &str) -> String {
    let doc = Html::parse_fragment(html);
    let mut cleaned = dom::normalize(html);
    // Per-render attributes: drop them by rewriting the parsed tree's serialization.
    for attr in ["data-phx-session", "data-phx-static"] {
        cleaned = strip_attr(&cleaned, attr);
    }
    let csrf = dom::selector("input[name=_csrf_token]").expect("valid selector");
    for input in doc.select(&csrf) {
        if let Some(v) = input.value().attr("value")
            && !v.is_empty()
        {
            cleaned = cleaned.replace(&format!("value=\"{v}\""), "value=\"\"");
        }
    }
    renumber_cids(&cleaned)
}

/// Renumbers the cids in `phx-target="<cid>"` by order of first appearance: a fresh render
/// numbers its components anew.
fn renumber_cids(html: &str) -> String {
    let needle = " phx-target=\"";
    let mut seen: Vec<String> = Vec::new();
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(needle) {
        let start = at + needle.len();
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after.find('"').unwrap_or(after.len());
        let value = &after[..end];
        if is_cid(value) {
            let n = seen.iter().position(|s| s == value).unwrap_or_else(|| {
                seen.push(value.to_owned());
                seen.len() - 1
            });
            out.push_str(&format!("cid-{}", n + 1));
        } else {
            out.push_str(value);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Removes every `name="…"` attribute from serialized HTML (values are quoted with `"` and
/// escaped, as `dom::normalize` writes them).
fn strip_attr(html: &str, name: &str) -> String {
    let needle = format!(" {name}=\"");
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(&needle) {
        out.push_str(&rest[..at]);
        let after = &rest[at + needle.len()..];
        let end = after.find('"').map_or(after.len(), |e| e + 1);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}
