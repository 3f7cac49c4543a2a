//! Static files: the client bundles from `node_modules` at upstream's paths
//! (`/assets/phoenix/…`, `/assets/phoenix_live_view/…`), the colocated-hooks module and local CSS
//! standing in for the Tailwind CDN.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use tower_http::services::ServeDir;

/// `/assets/colocated/index.js`: upstream compiles colocated hooks into it; here it is a small
/// hand-written module with the hooks of the supported views.
const COLOCATED_JS: &str = include_str!("../assets/colocated.js");
/// `/assets/floating-ui.js`: a stand-in for the `@floating-ui/dom` functions `PortalLive`'s
/// tooltip hook imports (upstream loads the package from a CDN).
const FLOATING_UI_JS: &str = include_str!("../assets/floating-ui.js");
/// Local CSS for the utility classes the supported views use.
const CSS: &str = include_str!("../assets/upstream.css");

/// The caching policy of upstream's `Plug.Static` (its default `cache_control_for_etags`): a
/// cache may keep the file and revalidates it with its `ETag` (`304 Not Modified`).
const CACHE_CONTROL: &str = "public";

/// Gives an asset response upstream's `Cache-Control`. Upstream's `Plug.Static` answers before
/// `Plug.Session` runs; here the session layer wraps every route and marks a response without
/// a caching policy of its own `no-store` when the request carried the session cookie, which
/// made the browser download and compile the 260 KB client bundle again on every page load.
/// Only files found get it (`200`, `304`); a `404` keeps the default.
async fn cache_control(mut res: Response) -> Response {
    if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        );
    }
    res
}

/// The asset routes, serving the npm packages found in `node_modules`.
pub fn router(node_modules: &Path) -> Router {
    Router::new()
        .nest_service(
            "/assets/phoenix",
            ServeDir::new(node_modules.join("phoenix/priv/static")),
        )
        .nest_service(
            "/assets/phoenix_live_view",
            ServeDir::new(node_modules.join("phoenix_live_view/priv/static")),
        )
        .route(
            "/assets/colocated/index.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], COLOCATED_JS) }),
        )
        .route(
            "/assets/floating-ui.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], FLOATING_UI_JS) }),
        )
        .route(
            "/assets/upstream.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], CSS) }),
        )
        .layer(axum::middleware::map_response(cache_control))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    async fn get(path: &str, etag: Option<&str>) -> Response {
        let mut req = Request::get(path);
        if let Some(etag) = etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        let node_modules = livefire::assets::find_node_modules();
        router(&node_modules)
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("infallible")
    }

    #[tokio::test]
    async fn bundles_are_cacheable_as_with_plug_static() {
        let path = "/assets/phoenix_live_view/phoenix_live_view.esm.js";
        let res = get(path, None).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CACHE_CONTROL], "public");
        let etag = res.headers()[header::ETAG]
            .to_str()
            .expect("etag")
            .to_owned();

        let res = get(path, Some(&etag)).await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(res.headers()[header::CACHE_CONTROL], "public");
    }

    #[tokio::test]
    async fn a_missing_file_gets_no_caching_policy() {
        let res = get("/assets/phoenix_live_view/missing.js", None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.headers().get(header::CACHE_CONTROL).is_none());
    }
}
