//! Serving the official Phoenix JavaScript client from `node_modules` at run time.
//!
//! The two bundles (`phoenix` and `phoenix_live_view`, installed by `npm ci` from the project's
//! `package-lock.json`) are third-party code: they are never embedded in the binary and never
//! committed. [`assets_router`] serves them from disk with `ETag`/`If-None-Match` revalidation
//! and `Cache-Control: public, max-age=3600`. When they are missing, it logs one error naming
//! `npm ci` and answers `503 Service Unavailable`, so pages still render without JavaScript.
//! The same router serves livefire's own small bootstrap script at [`BOOTSTRAP_JS`], which is
//! part of the crate.
//!
//! The router returned by [`LiveRouter::build`](crate::LiveRouter::build) already includes this
//! one; use it directly only for pages outside the live router.
//!
//! ```
//! use livefire::assets::{assets_router, find_node_modules, LIVE_VIEW_JS, PHOENIX_JS};
//!
//! let app: axum::Router = axum::Router::new().merge(assets_router(find_node_modules()));
//! let head = format!(r#"<script src="{PHOENIX_JS}"></script><script src="{LIVE_VIEW_JS}"></script>"#);
//! assert!(head.contains(r#"<script src="/assets/phoenix_live_view.min.js"></script>"#));
//! # let _ = app;
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};
use tower::ServiceExt;
use tower_http::services::ServeFile;

/// URL path of the Phoenix socket bundle (global `Phoenix`).
pub const PHOENIX_JS: &str = "/assets/phoenix.min.js";
/// URL path of the LiveView client bundle (global `LiveView`).
pub const LIVE_VIEW_JS: &str = "/assets/phoenix_live_view.min.js";

/// URL path of livefire's own bootstrap script: reads the CSRF meta tag and connects the
/// `LiveSocket` (see [`crate::layout::Page::scripts`]). It is livefire's code, built into the
/// binary, so pages need no inline script.
pub const BOOTSTRAP_JS: &str = "/assets/livefire.js";

/// The bootstrap script's source.
const BOOTSTRAP_SOURCE: &str = include_str!("../assets/livefire.js");

/// The environment variable that overrides [`find_node_modules`].
pub const NODE_MODULES_ENV: &str = "LIVEFIRE_NODE_MODULES";

/// Location of the Phoenix bundle inside `node_modules`.
const PHOENIX_FILE: &str = "phoenix/priv/static/phoenix.min.js";
/// Location of the LiveView bundle inside `node_modules`.
const LIVE_VIEW_FILE: &str = "phoenix_live_view/priv/static/phoenix_live_view.min.js";

const CACHE_CONTROL: &str = "public, max-age=3600";
const MISSING_BODY: &str = "The Phoenix LiveView JavaScript client is not installed on this \
server. Run `npm ci` in the project root (next to package.json), then restart the server.\n";

/// Set once the "run npm ci" error has been logged, so it is logged once per process.
static MISSING_LOGGED: AtomicBool = AtomicBool::new(false);

/// A router serving [`PHOENIX_JS`] and [`LIVE_VIEW_JS`] from the given `node_modules` directory,
/// and livefire's [`BOOTSTRAP_JS`].
///
/// Merge or nest it into the application router. Responses carry `ETag`, `Last-Modified`,
/// `Cache-Control: public, max-age=3600` and a JavaScript `Content-Type`, and a matching
/// `If-None-Match` gets `304 Not Modified`. If a bundle is missing, the first occurrence logs
/// one `tracing` error that names `npm ci`, and the request gets a `503` saying to run it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use axum::body::Body;
/// use http::{Request, StatusCode, header};
/// use livefire::assets::{assets_router, LIVE_VIEW_JS, PHOENIX_JS};
/// use tower::ServiceExt as _;
///
/// // A `node_modules` that holds the Phoenix bundle but not the LiveView one.
/// let node_modules = std::env::temp_dir().join(format!("livefire-doc-assets-{}", std::process::id()));
/// let dir = node_modules.join("phoenix/priv/static");
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("phoenix.min.js"), "var Phoenix={};").unwrap();
/// let app: axum::Router = assets_router(&node_modules);
/// let get = |uri| Request::get(uri).body(Body::empty()).unwrap();
///
/// let res = app.clone().oneshot(get(PHOENIX_JS)).await.unwrap();
/// assert_eq!(res.status(), StatusCode::OK);
/// assert_eq!(res.headers()[header::CACHE_CONTROL], "public, max-age=3600");
///
/// // Revalidation with the ETag costs no body.
/// let mut again = get(PHOENIX_JS);
/// again.headers_mut().insert(header::IF_NONE_MATCH, res.headers()[header::ETAG].clone());
/// assert_eq!(app.clone().oneshot(again).await.unwrap().status(), StatusCode::NOT_MODIFIED);
///
/// // A missing bundle answers 503 (and logs once that `npm ci` is needed).
/// let res = app.oneshot(get(LIVE_VIEW_JS)).await.unwrap();
/// assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
/// # std::fs::remove_dir_all(&node_modules).unwrap();
/// # }
/// ```
pub fn assets_router(node_modules: impl Into<PathBuf>) -> Router {
    let dir: PathBuf = node_modules.into();
    let phoenix = dir.join(PHOENIX_FILE);
    let live_view = dir.join(LIVE_VIEW_FILE);
    for path in [&phoenix, &live_view] {
        if !path.is_file() {
            log_missing(path);
        }
    }
    Router::new()
        .route(PHOENIX_JS, asset_route(phoenix))
        .route(LIVE_VIEW_JS, asset_route(live_view))
        .route(BOOTSTRAP_JS, get(bootstrap))
}

/// `GET /assets/livefire.js`.
async fn bootstrap() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE_CONTROL),
        ],
        BOOTSTRAP_SOURCE,
    )
        .into_response()
}

/// The `node_modules` directory to serve the client from.
///
/// The `LIVEFIRE_NODE_MODULES` environment variable if it is set and not empty; otherwise the
/// first `node_modules` directory found in the current directory or one of its ancestors (so
/// `cargo run -p some-example` inside a workspace finds the workspace's); otherwise
/// `./node_modules`.
///
/// ```
/// let dir = livefire::assets::find_node_modules();
/// assert!(dir.ends_with("node_modules") || std::env::var_os("LIVEFIRE_NODE_MODULES").is_some());
/// ```
pub fn find_node_modules() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    find_node_modules_from(std::env::var_os(NODE_MODULES_ENV), &cwd)
}

fn find_node_modules_from(env: Option<std::ffi::OsString>, start: &Path) -> PathBuf {
    if let Some(dir) = env.filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    start
        .ancestors()
        .map(|dir| dir.join("node_modules"))
        .find(|candidate| candidate.is_dir())
        .unwrap_or_else(|| PathBuf::from("node_modules"))
}

fn asset_route(path: PathBuf) -> axum::routing::MethodRouter {
    let file = ServeFile::new(&path);
    get(move |req: Request| serve_asset(file.clone(), path.clone(), req))
}

async fn serve_asset(file: ServeFile, path: PathBuf, req: Request) -> Response {
    let Ok(res) = file.oneshot(req).await;
    let status = res.status();
    if status == StatusCode::NOT_FOUND {
        log_missing(&path);
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            ],
            MISSING_BODY,
        )
            .into_response();
    }
    let mut res = res.map(Body::new);
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        );
    }
    res
}

fn log_missing(path: &Path) {
    if !MISSING_LOGGED.swap(true, Ordering::Relaxed) {
        tracing::error!(
            path = %path.display(),
            "the Phoenix LiveView JavaScript client is missing: run `npm ci` in the project root \
             (or set {NODE_MODULES_ENV} to a node_modules directory); until then the script URLs \
             answer 503 and pages work without JavaScript"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;
    use std::sync::atomic::AtomicUsize;

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "livefire-assets-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }

        fn write(&self, rel: &str, contents: &str) {
            let path = self.0.join(rel);
            std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
            std::fs::write(path, contents).expect("write");
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn installed() -> TempDir {
        let dir = TempDir::new();
        dir.write(PHOENIX_FILE, "var Phoenix={};");
        dir.write(LIVE_VIEW_FILE, "var LiveView={};");
        dir
    }

    fn get(uri: &str) -> Request {
        Request::builder()
            .uri(uri)
            .body(Body::empty())
            .expect("request")
    }

    async fn body_text(res: Response) -> String {
        let bytes = to_bytes(res.into_body(), 1 << 20).await.expect("body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn serves_both_bundles_with_etag_and_cache_control() {
        let dir = installed();
        for (uri, body) in [
            (PHOENIX_JS, "var Phoenix={};"),
            (LIVE_VIEW_JS, "var LiveView={};"),
        ] {
            let res = assets_router(&dir.0)
                .oneshot(get(uri))
                .await
                .expect("infallible");
            assert_eq!(res.status(), StatusCode::OK, "{uri}");
            let headers = res.headers();
            assert!(headers.contains_key(header::ETAG), "{uri}");
            assert_eq!(headers[header::CACHE_CONTROL], CACHE_CONTROL);
            let content_type = headers[header::CONTENT_TYPE].to_str().expect("ascii");
            assert!(content_type.contains("javascript"), "{content_type}");
            assert_eq!(body_text(res).await, body);
        }
    }

    #[tokio::test]
    async fn matching_if_none_match_is_304() {
        let dir = installed();
        let app = assets_router(&dir.0);
        let first = app.clone().oneshot(get(LIVE_VIEW_JS)).await.expect("ok");
        let etag = first.headers()[header::ETAG].clone();

        let req = Request::builder()
            .uri(LIVE_VIEW_JS)
            .header(header::IF_NONE_MATCH, etag.clone())
            .body(Body::empty())
            .expect("request");
        let res = app.clone().oneshot(req).await.expect("ok");
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(res.headers()[header::ETAG], etag);
        assert_eq!(res.headers()[header::CACHE_CONTROL], CACHE_CONTROL);
        assert!(body_text(res).await.is_empty());

        let stale = Request::builder()
            .uri(LIVE_VIEW_JS)
            .header(header::IF_NONE_MATCH, "\"not-the-etag\"")
            .body(Body::empty())
            .expect("request");
        let res = app.oneshot(stale).await.expect("ok");
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn missing_bundles_answer_503_naming_npm_ci() {
        let dir = TempDir::new();
        let app = assets_router(dir.0.join("node_modules"));
        for uri in [PHOENIX_JS, LIVE_VIEW_JS] {
            let res = app.clone().oneshot(get(uri)).await.expect("ok");
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{uri}");
            assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
            assert!(body_text(res).await.contains("npm ci"));
        }
        assert!(MISSING_LOGGED.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn other_paths_are_not_served() {
        let dir = installed();
        let res = assets_router(&dir.0)
            .oneshot(get("/assets/phoenix.js"))
            .await
            .expect("ok");
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn find_node_modules_prefers_env_then_walks_up() {
        let root = TempDir::new();
        let nested = root.0.join("a/b/c");
        std::fs::create_dir_all(&nested).expect("mkdir");
        std::fs::create_dir_all(root.0.join("a/node_modules")).expect("mkdir");

        assert_eq!(
            find_node_modules_from(None, &nested),
            root.0.join("a/node_modules")
        );
        assert_eq!(
            find_node_modules_from(Some("/opt/nm".into()), &nested),
            PathBuf::from("/opt/nm")
        );
        assert_eq!(
            find_node_modules_from(Some("".into()), &nested),
            root.0.join("a/node_modules")
        );
        // Nothing found walking up from the filesystem root: fall back to ./node_modules.
        assert_eq!(
            find_node_modules_from(None, Path::new("/proc/self")),
            PathBuf::from("node_modules")
        );
    }
}
