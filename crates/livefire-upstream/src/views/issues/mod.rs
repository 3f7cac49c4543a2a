//! `support/issues/*.ex`: one module per upstream issue view.

pub mod issue_2787;
pub mod issue_3040;
pub mod issue_3083;
pub mod issue_3107;
pub mod issue_3194;
pub mod issue_3448;
pub mod issue_3529;
pub mod issue_3636;
pub mod issue_3651;
pub mod issue_3686;
pub mod issue_3719;
pub mod issue_3814;
pub mod issue_3819;
pub mod issue_3919;
pub mod issue_3931;
pub mod issue_4094;
pub mod issue_4095;
pub mod issue_4102;
pub mod issue_4107;
pub mod issue_4147;
pub mod issue_4290;
pub mod issue_4323;
pub mod issue_4325;

use livefire::{LiveRouter, Raw};

/// Issue views of the `:default` live session (scope `/issues`).
pub fn default_session(router: LiveRouter) -> LiveRouter {
    router
        .live("/issues/2787", issue_2787::Issue2787Live::default)
        .live("/issues/3040", issue_3040::Issue3040Live::default)
        .live("/issues/3083", issue_3083::Issue3083Live::default)
        .live("/issues/3107", issue_3107::Issue3107Live::default)
        .live("/issues/3194", issue_3194::Issue3194Live::default)
        .live("/issues/3194/other", issue_3194::OtherLive::default)
        .live("/issues/3448", issue_3448::Issue3448Live::default)
        .live("/issues/3529", issue_3529::Issue3529Live::default)
        .live("/issues/3636", issue_3636::Issue3636Live::default)
        .live("/issues/3651", issue_3651::Issue3651Live::default)
        .live("/issues/3686/a", issue_3686::Page::a)
        .live("/issues/3686/b", issue_3686::Page::b)
        .live("/issues/3719", issue_3719::Issue3719Live::default)
        .live("/issues/3814", issue_3814::Issue3814Live::default)
        .live("/issues/3819", issue_3819::Issue3819Live::default)
        .live("/issues/3919", issue_3919::Issue3919Live::default)
        .live("/issues/3931", issue_3931::Issue3931Live::default)
        .live("/issues/4094", issue_4094::Issue4094Live::default)
        .live("/issues/4095", issue_4095::Issue4095Live::default)
        .live("/issues/4102", issue_4102::Issue4102Live::default)
        .live("/issues/4107", issue_4107::Issue4107Live::default)
        .live("/issues/4147", issue_4147::Issue4147Live::default)
        .live("/issues/4290/a", issue_4290::ALive::default)
        .live("/issues/4290/b", issue_4290::BLive::default)
        .live("/issues/4323", issue_4323::Issue4323Live::default)
        .live("/issues/4325", issue_4325::Issue4325Live::default)
}

/// Issue views of the `:other` live session.
pub fn other_session(router: LiveRouter) -> LiveRouter {
    router.live("/issues/3686/c", issue_3686::Page::c)
}

/// `render_in_root` content of issue views.
pub fn render_in_root(path: &str) -> Option<Raw> {
    match path {
        "/issues/4147" => Some(Raw::new_unchecked(issue_4147::RENDER_IN_ROOT)),
        "/issues/4323" => Some(Raw::new_unchecked(issue_4323::RENDER_IN_ROOT)),
        _ => None,
    }
}
