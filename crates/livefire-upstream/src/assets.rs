//! Static files: the client bundles from `node_modules` at upstream's paths
//! (`/assets/phoenix/…`, `/assets/phoenix_live_view/…`), the colocated-hooks module and local CSS
//! standing in for the Tailwind CDN.

use std::path::Path;

use axum::Router;
use axum::http::header;
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
}
