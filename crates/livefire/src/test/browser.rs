//! A browser without a DOM engine: the app served on loopback, a cookie jar, HTTP requests
//! through hyper, and live pages opened over a WebSocket.

use std::collections::BTreeMap;
use std::future::IntoFuture as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use scraper::Html;

use super::Error;
use super::{dom, form};

/// Redirects followed in a row before giving up.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// Cookies by name, as a browser keeps them for one origin.
#[derive(Debug, Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Applies `Set-Cookie` headers: `Max-Age=0` or an empty value deletes the cookie.
    fn absorb(&mut self, headers: &HeaderMap) {
        for line in headers.get_all(header::SET_COOKIE) {
            let Ok(line) = line.to_str() else { continue };
            let pair = line.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let expired = line
                .split(';')
                .any(|attr| attr.trim().eq_ignore_ascii_case("Max-Age=0"));
            if expired || value.is_empty() {
                self.0.remove(name.trim());
            } else {
                self.0
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
}

/// Aborts the server task when the last handle goes.
#[derive(Debug)]
struct ServerTask(tokio::task::JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[derive(Debug)]
struct Inner {
    addr: SocketAddr,
    jar: Mutex<Jar>,
    client: Client<HttpConnector, Body>,
    _server: ServerTask,
}

/// One browser on the app: the app's [`Router`] served on a loopback port with
/// [`livefire::serve`](crate::serve) (as a deployment serves it), and a cookie jar shared by
/// every request and socket this browser makes. Cheap to clone (clones share the jar).
///
/// ```
/// # use livefire::{LiveRouter, LiveView, Rendered, Socket, html, token::Keyring};
/// # use livefire::session::CookieSessionLayer;
/// # struct Hello;
/// # impl LiveView for Hello {
/// #     type Message = ();
/// #     fn render(&self, _: &Socket) -> Rendered { html!(<p id="hi">"Hello"</p>) }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
/// # let keyring = Keyring::new([1u8; 64]).unwrap();
/// # let router = LiveRouter::new(keyring.clone()).live("/", || Hello).build().unwrap()
/// #     .layer(CookieSessionLayer::new(keyring));
/// use livefire::test::Browser;
///
/// let browser = Browser::start(&router).await?;
/// let page = browser.get("/").await?;
/// assert_eq!(page.status, 200);
/// assert!(browser.cookie("livefire_session").is_some(), "the dead render set the session");
/// let view = browser.live("/").await?;
/// assert!(view.has_element("#hi", Some("Hello")));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Browser {
    inner: Arc<Inner>,
}

/// An HTTP response as the browser received it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The path that was requested.
    pub path: String,
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body, as text.
    pub body: String,
}

impl Page {
    /// The `Location` header of a redirect.
    ///
    /// ```
    /// # use livefire::test::Page;
    /// # let mut page = Page { path: "/".into(), status: http::StatusCode::SEE_OTHER, headers: Default::default(), body: String::new() };
    /// page.headers.insert("location", "/login".parse().unwrap());
    /// assert_eq!(page.location(), Some("/login"));
    /// ```
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// Whether the body has an element matching `selector` (whose text contains `text`, when
    /// given). An invalid selector matches nothing.
    ///
    /// ```
    /// # use livefire::test::Page;
    /// let page = Page { path: "/".into(), status: http::StatusCode::OK, headers: Default::default(),
    ///     body: "<p class=\"flash\">Welcome  back</p>".into() };
    /// assert!(page.has_element("p.flash", Some("Welcome back")));
    /// assert!(!page.has_element("p.error", None));
    /// ```
    pub fn has_element(&self, selector: &str, text: Option<&str>) -> bool {
        let Ok(sel) = dom::selector(selector) else {
            return false;
        };
        let doc = Html::parse_document(&self.body);
        doc.select(&sel)
            .any(|el| text.is_none_or(|t| dom::text_of(el).contains(t)))
    }
}

impl Browser {
    /// Serves `router` on `127.0.0.1` (a free port) for as long as this browser or one of its
    /// live views exists. Call it inside a Tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// let browser = livefire::test::Browser::start(&axum::Router::new()).await?;
    /// assert_eq!(browser.get("/nothing").await?.status, 404);
    /// # Ok(()) }
    /// ```
    pub async fn start(router: &Router) -> Result<Self, Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = crate::serve(listener, router.clone()).into_future();
        let task = tokio::spawn(async move {
            if let Err(err) = server.await {
                tracing::error!(%err, "livefire::test server stopped");
            }
        });
        let client = Client::builder(TokioExecutor::new()).build_http();
        tracing::debug!(%addr, "livefire::test browser started");
        Ok(Self {
            inner: Arc::new(Inner {
                addr,
                jar: Mutex::new(Jar::default()),
                client,
                _server: ServerTask(task),
            }),
        })
    }

    /// The address the app is served on.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// let browser = livefire::test::Browser::start(&axum::Router::new()).await?;
    /// assert!(browser.addr().ip().is_loopback());
    /// # Ok(()) }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The value of the cookie `name` in the jar.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// let browser = livefire::test::Browser::start(&axum::Router::new()).await?;
    /// browser.set_cookie("theme", "dark");
    /// assert_eq!(browser.cookie("theme").as_deref(), Some("dark"));
    /// # Ok(()) }
    /// ```
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar().0.get(name).cloned()
    }

    /// Puts a cookie into the jar, as JavaScript's `document.cookie` would (the client writes
    /// the flash cookie this way).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// let browser = livefire::test::Browser::start(&axum::Router::new()).await?;
    /// browser.set_cookie("a", "1");
    /// browser.remove_cookie("a");
    /// assert_eq!(browser.cookie("a"), None);
    /// # Ok(()) }
    /// ```
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar().0.insert(name.to_owned(), value.to_owned());
    }

    /// Removes a cookie from the jar.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// let browser = livefire::test::Browser::start(&axum::Router::new()).await?;
    /// browser.remove_cookie("never-set");
    /// assert_eq!(browser.cookie("never-set"), None);
    /// # Ok(()) }
    /// ```
    pub fn remove_cookie(&self, name: &str) {
        self.jar().0.remove(name);
    }

    /// The `Cookie` header this browser sends now.
    pub(crate) fn cookie_header(&self) -> Option<String> {
        self.jar().header()
    }

    fn jar(&self) -> std::sync::MutexGuard<'_, Jar> {
        self.inner
            .jar
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `http://127.0.0.1:<port><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.inner.addr)
    }

    /// One request (no redirect followed); the jar takes the response's cookies.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// use axum::routing::post;
    /// let router = axum::Router::new().route("/echo", post(|body: String| async move { body }));
    /// let browser = livefire::test::Browser::start(&router).await?;
    /// let page = browser.request(http::Method::POST, "/echo", Some("a=1".into())).await?;
    /// assert_eq!(page.body, "a=1");
    /// # Ok(()) }
    /// ```
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        form: Option<String>,
    ) -> Result<Page, Error> {
        let http_err = |message: String| Error::Http {
            method: method.to_string(),
            path: path.to_owned(),
            message,
        };
        let mut req = Request::builder()
            .method(method.clone())
            .uri(self.url(path));
        if let Some(cookie) = self.cookie_header() {
            req = req.header(header::COOKIE, cookie);
        }
        if form.is_some() {
            req = req
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, self.url(""));
        }
        let body = form.map_or_else(Body::empty, Body::from);
        let req = req.body(body).map_err(|e| http_err(e.to_string()))?;
        let res = self
            .inner
            .client
            .request(req)
            .await
            .map_err(|e| http_err(e.to_string()))?;
        let status = res.status();
        let headers = res.headers().clone();
        self.jar().absorb(&headers);
        let body = axum::body::to_bytes(Body::new(res.into_body()), 16 << 20)
            .await
            .map_err(|e| http_err(e.to_string()))?;
        tracing::debug!(%method, path, %status, "livefire::test HTTP");
        Ok(Page {
            path: path.to_owned(),
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// `GET path` (no redirect followed).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// let router = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
    /// let browser = livefire::test::Browser::start(&router).await?;
    /// assert_eq!(browser.get("/").await?.body, "hi");
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, path: &str) -> Result<Page, Error> {
        self.request(Method::GET, path, None).await
    }

    /// `POST path` with `fields` URL-encoded, as a browser submits a form (no redirect
    /// followed).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// use axum::routing::post;
    /// let router = axum::Router::new().route("/f", post(|body: String| async move { body }));
    /// let browser = livefire::test::Browser::start(&router).await?;
    /// assert_eq!(browser.post_form("/f", &[("q", "a b&c")]).await?.body, "q=a+b%26c");
    /// # Ok(()) }
    /// ```
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Result<Page, Error> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.request(Method::POST, path, Some(body)).await
    }

    /// `GET path`, following redirects (`303` and `302` after a `POST` become `GET`s) as a
    /// browser does; the last response.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// use axum::response::Redirect;
    /// use axum::routing::get;
    /// let router = axum::Router::new()
    ///     .route("/old", get(|| async { Redirect::to("/new") }))
    ///     .route("/new", get(|| async { "new" }));
    /// let browser = livefire::test::Browser::start(&router).await?;
    /// let page = browser.visit("/old").await?;
    /// assert_eq!((page.path.as_str(), page.body.as_str()), ("/new", "new"));
    /// # Ok(()) }
    /// ```
    pub async fn visit(&self, path: &str) -> Result<Page, Error> {
        self.follow_http(self.get(path).await?).await
    }

    /// Submits a plain (not live) form of a page that was loaded over HTTP, as the browser
    /// does when its default button is pressed: the fields named in `values` take those
    /// values (see [`LiveTest::change_form`](super::LiveTest::change_form)), the form is encoded as `FormData`, sent to its
    /// `action` with its `method`, and redirects are followed.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), livefire::test::Error> {
    /// use axum::routing::{get, post};
    /// let router = axum::Router::new()
    ///     .route("/", get(|| async {
    ///         axum::response::Html(r#"<form action="/s" method="post"><input name="q" value="a"><input name="n"></form>"#)
    ///     }))
    ///     .route("/s", post(|body: String| async move { body }));
    /// let browser = livefire::test::Browser::start(&router).await?;
    /// let page = browser.get("/").await?;
    /// let answer = browser.submit_form(&page, "form", &[("n", "1")]).await?;
    /// assert_eq!(answer.body, "q=a&n=1");
    /// # Ok(()) }
    /// ```
    pub async fn submit_form(
        &self,
        page: &Page,
        selector: &str,
        values: &[(&str, &str)],
    ) -> Result<Page, Error> {
        let (action, method, body) = {
            let doc = Html::parse_document(&page.body);
            let sel = dom::selector(selector)?;
            let Some(form_el) = doc.select(&sel).next() else {
                return Err(Error::NoElement {
                    selector: selector.to_owned(),
                    html: page.body.clone(),
                });
            };
            if form_el.value().name() != "form" {
                return Err(Error::Form {
                    selector: selector.to_owned(),
                    message: "not a <form>".to_owned(),
                });
            }
            let mut fields = form::fields(form_el);
            form::fill(&mut fields, values).map_err(|message| Error::Form {
                selector: selector.to_owned(),
                message,
            })?;
            let body = form::serialize(&fields, form::default_button(&fields), None);
            let action = form_el
                .value()
                .attr("action")
                .map_or_else(|| page.path.clone(), local);
            let post = form_el
                .value()
                .attr("method")
                .is_some_and(|m| m.eq_ignore_ascii_case("post"));
            (action, post, body)
        };
        let res = if method {
            self.request(Method::POST, &action, Some(body)).await?
        } else {
            let sep = if action.contains('?') { '&' } else { '?' };
            self.get(&format!("{action}{sep}{body}")).await?
        };
        self.follow_http(res).await
    }

    /// Follows the redirects that `page` starts.
    pub(crate) async fn follow_http(&self, mut page: Page) -> Result<Page, Error> {
        for _ in 0..MAX_REDIRECTS {
            if !page.status.is_redirection() {
                return Ok(page);
            }
            let Some(to) = page.location().map(str::to_owned) else {
                return Ok(page);
            };
            page = self.get(&local(&to)).await?;
        }
        Err(Error::TooManyRedirects {
            path: page.path.clone(),
        })
    }
}

/// The local part of a `Location` (`http://host/path` → `/path`).
pub(crate) fn local(to: &str) -> String {
    if let Some(rest) = to
        .strip_prefix("http://")
        .or_else(|| to.strip_prefix("https://"))
    {
        return rest
            .find('/')
            .map_or_else(|| "/".to_owned(), |i| rest[i..].to_owned());
    }
    to.to_owned()
}

/// The live container of a dead-rendered page: `(id, session, static, csrf)`.
pub(crate) fn live_container(page: &Page) -> Option<(String, String, Option<String>, String)> {
    let doc = Html::parse_document(&page.body);
    let main = doc.select(&dom::selector("[data-phx-main]").ok()?).next()?;
    let id = main.value().id()?.to_owned();
    let session = main.value().attr("data-phx-session")?.to_owned();
    let static_token = main.value().attr("data-phx-static").map(str::to_owned);
    let csrf = doc
        .select(&dom::selector("meta[name=csrf-token]").ok()?)
        .next()
        .and_then(|m| m.value().attr("content"))
        .unwrap_or_default()
        .to_owned();
    Some((id, session, static_token, csrf))
}

/// The `data-phx-static` tokens of the dead render's child views, by container id.
pub(crate) fn child_static_tokens(page: &Page) -> BTreeMap<String, String> {
    let doc = Html::parse_document(&page.body);
    let Ok(sel) = dom::selector("[data-phx-parent-id][data-phx-static]") else {
        return BTreeMap::new();
    };
    doc.select(&sel)
        .filter_map(|el| {
            Some((
                el.value().id()?.to_owned(),
                el.value().attr("data-phx-static")?.to_owned(),
            ))
        })
        .collect()
}

/// The inner HTML of the dead render's live container (for comparisons).
pub(crate) fn container_inner(page: &Page) -> Option<String> {
    let doc = Html::parse_document(&page.body);
    let main = doc.select(&dom::selector("[data-phx-main]").ok()?).next()?;
    Some(main.inner_html())
}
