//! Test support: a real server on loopback, a dead-render GET, and a Phoenix channel client
//! over tokio-tungstenite.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tower::ServiceExt;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Serves `app` on 127.0.0.1:0.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

/// A dead-rendered page and what the client reads from it.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: StatusCode,
    pub html: String,
    pub cookie: Option<String>,
    pub id: String,
    pub session: String,
    pub static_token: String,
    pub csrf: String,
}

fn attr(html: &str, name: &str) -> String {
    let needle = format!("{name}=\"");
    let start = html
        .find(&needle)
        .map(|i| i + needle.len())
        .unwrap_or_else(|| {
            panic!("attribute {name} not found in {html}");
        });
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// GETs `path` in-process, carrying `cookie`.
pub async fn get(app: &Router, path: &str, cookie: Option<&str>) -> Page {
    let mut req = Request::get(path).header(header::HOST, "127.0.0.1");
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| !v.contains("Max-Age=0"))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .next()
        .or_else(|| cookie.map(str::to_owned));
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let html = String::from_utf8(body.to_vec()).unwrap();
    if status != StatusCode::OK {
        return Page {
            status,
            html,
            cookie,
            id: String::new(),
            session: String::new(),
            static_token: String::new(),
            csrf: String::new(),
        };
    }
    let main = &html[html
        .find("data-phx-main")
        .map(|i| html[..i].rfind("<div").unwrap())
        .unwrap()..];
    Page {
        status,
        id: attr(main, "id"),
        session: attr(main, "data-phx-session"),
        static_token: attr(main, "data-phx-static"),
        csrf: String::new(),
        cookie,
        html,
    }
    .with_csrf()
}

impl Page {
    fn with_csrf(mut self) -> Self {
        let i = self
            .html
            .find("name=\"csrf-token\"")
            .expect("csrf meta tag");
        let rest = &self.html[i..];
        self.csrf = attr(rest, "content");
        self
    }

    /// The inner HTML of the live container.
    pub fn container_inner(&self) -> String {
        let start = self.html.find("data-phx-main").unwrap();
        let open_end = self.html[start..].find('>').unwrap() + start + 1;
        let end = self.html.rfind("</div>").unwrap();
        self.html[open_end..end].to_owned()
    }

    /// The join payload the official client would send for this page.
    pub fn join_payload(&self, url_path: &str) -> Value {
        json!({
            "url": format!("http://127.0.0.1{url_path}"),
            "params": {"_csrf_token": self.csrf, "_mounts": 0, "_mount_attempts": 0},
            "session": self.session,
            "static": self.static_token,
            "sticky": false
        })
    }

    pub fn topic(&self) -> String {
        format!("lv:{}", self.id)
    }
}

/// Opens `/live/websocket` with the page's cookie and CSRF token.
pub async fn connect(addr: SocketAddr, page: &Page) -> Ws {
    connect_with(addr, page.cookie.as_deref(), Some(&page.csrf), None)
        .await
        .expect("websocket upgrade")
}

/// Opens `/live/websocket` with explicit cookie, CSRF token and Origin.
pub async fn connect_with(
    addr: SocketAddr,
    cookie: Option<&str>,
    csrf: Option<&str>,
    origin: Option<&str>,
) -> Result<Ws, tungstenite::Error> {
    let mut url = format!("ws://{addr}/live/websocket?vsn=2.0.0&_mounts=0");
    if let Some(csrf) = csrf {
        url.push_str("&_csrf_token=");
        url.push_str(csrf);
    }
    let mut req = url.into_client_request().unwrap();
    if let Some(cookie) = cookie {
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
    }
    if let Some(origin) = origin {
        req.headers_mut().insert("origin", origin.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

pub async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::Text(text.to_owned().into()))
        .await
        .unwrap();
}

/// The next text frame as JSON (panics after 5 s).
pub async fn recv(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("timed out waiting for a frame")
            .expect("socket closed")
            .expect("socket error");
        match msg {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected message {other:?}"),
        }
    }
}

/// The next message of any kind (None when closed), within 5 s.
pub async fn next_message(ws: &mut Ws) -> Option<Message> {
    tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("timed out")
        .and_then(Result::ok)
}

/// Sends a join and returns the reply.
pub async fn join(ws: &mut Ws, page: &Page, join_ref: &str) -> Value {
    send(
        ws,
        json!([
            join_ref,
            join_ref,
            page.topic(),
            "phx_join",
            page.join_payload("/")
        ]),
    )
    .await;
    recv(ws).await
}

/// Pushes a click event and returns the reply.
pub async fn click(ws: &mut Ws, page: &Page, join_ref: &str, msg_ref: &str, event: &str) -> Value {
    send(
        ws,
        json!([join_ref, msg_ref, page.topic(), "event", {"type": "click", "event": event, "value": {"value": ""}}]),
    )
    .await;
    recv(ws).await
}

/// A live view that subscribes to a topic in mount and renders how many broadcasts it got and
/// the last one.
pub struct Listener {
    pub pubsub: livefire::pubsub::PubSub,
    pub topic: &'static str,
    pub count: u64,
    pub last: String,
}

impl Listener {
    pub fn new(pubsub: livefire::pubsub::PubSub, topic: &'static str) -> Self {
        Self {
            pubsub,
            topic,
            count: 0,
            last: String::new(),
        }
    }
}

impl livefire::LiveView for Listener {
    type Message = Value;

    async fn mount(
        &mut self,
        _cx: &livefire::Mount,
        socket: &mut livefire::Socket<Value>,
    ) -> livefire::Result {
        // Only ever text: numbers are ignored, to show the filter.
        socket.subscribe(&self.pubsub, self.topic, |value| {
            value.get("text").filter(|t| t.is_string()).cloned()
        });
        Ok(())
    }

    async fn handle_info(
        &mut self,
        text: Value,
        _socket: &mut livefire::Socket<Value>,
    ) -> livefire::Result {
        self.count += 1;
        self.last = text.as_str().unwrap_or_default().to_owned();
        Ok(())
    }

    fn render(&self, _socket: &livefire::Socket<Value>) -> livefire::Rendered {
        livefire::html!(<p id="count">{self.count}</p><p id="last">{self.last.as_str()}</p>)
    }
}

/// The next frame, if one arrives within `wait`.
pub async fn maybe_recv(ws: &mut Ws, wait: Duration) -> Option<Value> {
    match tokio::time::timeout(wait, ws.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => Some(serde_json::from_str(&text).unwrap()),
        Ok(other) => panic!("unexpected {other:?}"),
        Err(_) => None,
    }
}

/// Waits up to `wait` for the close frame and returns its code.
pub async fn close_code(ws: &mut Ws, wait: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) | Err(_) => return None,
        }
    }
}
