//! The ported support views and their routes, grouped by live session as in `test_helper.exs`.
//! One module per upstream support file (`support/*.ex`, `support/issues/*.ex`).

pub mod components;
pub mod error;
pub mod form;
pub mod form_dynamic_inputs;
pub mod form_feedback;
pub mod form_unsaved;
pub mod issues;
pub mod js;
pub mod keyed_comprehension;
pub mod navigation;
pub mod portal;
pub mod select;
pub mod streams;
pub mod upload;

use livefire::{LiveRouter, Raw};

/// Adds every ported live route to `router`.
pub fn routes(router: LiveRouter) -> LiveRouter {
    // live_session :default (layout: the "live" layout, on_mount: the eval hook)
    let router = router
        .live_session("default")
        .live("/stream", streams::StreamLive::default)
        .live("/stream/reset", streams::StreamResetLive::default)
        .live("/stream/reset-lc", streams::StreamResetLcLive::default)
        .live("/stream/limit", streams::StreamLimitLive::default)
        .live(
            "/stream/nested-component-reset",
            streams::StreamNestedComponentResetLive::default,
        )
        .live("/stream/inside-for", streams::StreamInsideForLive::default)
        .live("/healthy/{category}", streams::HealthyLive::default)
        .live("/upload", upload::UploadLive::default)
        .live("/form", form::FormLive::default)
        .live("/form/stream", form::FormStreamLive::default)
        .live("/form/nested", form::NestedFormLive::default)
        .live(
            "/form/dynamic-inputs",
            form_dynamic_inputs::FormDynamicInputsLive::default,
        )
        .live("/form-unsaved", form_unsaved::FormUnsavedLive::default)
        .live("/form-unsaved/target", form_unsaved::Target::default)
        .live("/js", js::JsLive::default)
        .live("/components", components::ComponentsLive::default)
        .live("/select", select::SelectLive::default)
        .live(
            "/keyed-comprehension",
            keyed_comprehension::KeyedComprehensionLive::default,
        )
        .live("/portal", portal::PortalLive::default);
    let router = issues::default_session(router);
    // live_session :other
    let router = issues::other_session(router.live_session("other"));
    // live_session :navigation
    let router = router
        .live_session("navigation")
        .live("/navigation/a", navigation::ALive::default)
        .live("/navigation/b", navigation::BLive::default)
        .live("/navigation/b/{id}", navigation::BLive::default)
        .live(
            "/navigation/redirectloop",
            navigation::RedirectLoopLive::default,
        );
    // Routes outside any live_session (Phoenix names their session :default too); these views
    // bring their own layouts.
    let router = router
        .live_session("default")
        .live("/form/feedback", form_feedback::FormFeedbackLive::default)
        .live("/errors", error::ErrorLive::default)
        .child_view(error::ChildLive::default)
        .child_view(form::FormLive::default)
        .child_view(portal::NestedLive::default)
        .child_view(portal::NestedTeleportedLive::default);
    let router = issues::no_session(router);
    issues::child_views(router)
}

/// `assigns[:render_in_root]` of the view at `path` (the root layout renders it before the
/// live container).
pub fn render_in_root(path: &str) -> Option<Raw> {
    issues::render_in_root(path)
}
