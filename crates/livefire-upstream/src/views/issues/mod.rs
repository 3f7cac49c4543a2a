//! `support/issues/*.ex`: one module per upstream issue view.

pub mod issue_2787;
pub mod issue_2835;
pub mod issue_2965;
pub mod issue_3026;
pub mod issue_3040;
pub mod issue_3047;
pub mod issue_3083;
pub mod issue_3107;
pub mod issue_3117;
pub mod issue_3169;
pub mod issue_3194;
pub mod issue_3199;
pub mod issue_3200;
pub mod issue_3319;
pub mod issue_3368;
pub mod issue_3378;
pub mod issue_3391;
pub mod issue_3448;
pub mod issue_3496;
pub mod issue_3529;
pub mod issue_3530;
pub mod issue_3612;
pub mod issue_3636;
pub mod issue_3647;
pub mod issue_3651;
pub mod issue_3656;
pub mod issue_3658;
pub mod issue_3681;
pub mod issue_3684;
pub mod issue_3686;
pub mod issue_3709;
pub mod issue_3719;
pub mod issue_3814;
pub mod issue_3819;
pub mod issue_3919;
pub mod issue_3931;
pub mod issue_3941;
pub mod issue_3953;
pub mod issue_3979;
pub mod issue_4027;
pub mod issue_4066;
pub mod issue_4078;
pub mod issue_4088;
pub mod issue_4094;
pub mod issue_4095;
pub mod issue_4102;
pub mod issue_4107;
pub mod issue_4121;
pub mod issue_4147;
pub mod issue_4209;
pub mod issue_4212;
pub mod issue_4290;
pub mod issue_4323;
pub mod issue_4325;
pub mod issue_4334;
pub mod issue_4350;
pub mod issue_4359;
pub mod issue_4368;

use livefire::{LiveRouter, Raw};

/// Issue views of the `:default` live session (scope `/issues`).
pub fn default_session(router: LiveRouter) -> LiveRouter {
    router
        .live("/issues/2787", issue_2787::Issue2787Live::default)
        .live("/issues/2835", issue_2835::Issue2835Live::default)
        .live("/issues/3026", issue_3026::Issue3026Live::default)
        .live("/issues/3040", issue_3040::Issue3040Live::default)
        .live("/issues/3083", issue_3083::Issue3083Live::default)
        .live("/issues/3107", issue_3107::Issue3107Live::default)
        .live("/issues/3117", issue_3117::Issue3117Live::default)
        .live("/issues/3194", issue_3194::Issue3194Live::default)
        .live("/issues/3194/other", issue_3194::OtherLive::default)
        .live_with_container(
            "/issues/3199",
            issue_3199::container(),
            issue_3199::Issue3199Live::default,
        )
        .live("/issues/3199/away", issue_3199::Away::default)
        .live("/issues/3200/messages", issue_3200::PanelLive::default)
        .live("/issues/3200/settings", issue_3200::PanelLive::default)
        .live("/issues/3319", issue_3319::Issue3319Live::default)
        .live("/issues/3378", issue_3378::HomeLive::default)
        .live("/issues/3368", issue_3368::Issue3368Live::default)
        .live("/issues/3391", issue_3391::Issue3391Live::default)
        .live("/issues/3448", issue_3448::Issue3448Live::default)
        .live("/issues/3496/a", issue_3496::ALive::default)
        .live("/issues/3496/b", issue_3496::BLive::default)
        .live("/issues/3529", issue_3529::Issue3529Live::default)
        .live("/issues/3612/a", issue_3612::ALive::default)
        .live("/issues/3612/b", issue_3612::BLive::default)
        .live("/issues/3636", issue_3636::Issue3636Live::default)
        .live("/issues/3651", issue_3651::Issue3651Live::default)
        .live("/issues/3656", issue_3656::Issue3656Live::default)
        .live("/issues/3658", issue_3658::Issue3658Live::default)
        .live("/issues/3684", issue_3684::Issue3684Live::default)
        .live("/issues/3686/a", issue_3686::Page::a)
        .live("/issues/3686/b", issue_3686::Page::b)
        .live("/issues/3709", issue_3709::Issue3709Live::default)
        .live("/issues/3709/{id}", issue_3709::Issue3709Live::default)
        .live("/issues/3719", issue_3719::Issue3719Live::default)
        .live("/issues/3814", issue_3814::Issue3814Live::default)
        .live("/issues/3819", issue_3819::Issue3819Live::default)
        .live("/issues/3919", issue_3919::Issue3919Live::default)
        .live("/issues/3931", issue_3931::Issue3931Live::default)
        .live("/issues/3953", issue_3953::Issue3953Live::default)
        .live("/issues/3979", issue_3979::Issue3979Live::default)
        .live("/issues/4027", issue_4027::Issue4027Live::default)
        .live("/issues/4066", issue_4066::Issue4066Live::default)
        .live("/issues/4088", issue_4088::Issue4088Live::default)
        .live("/issues/4094", issue_4094::Issue4094Live::default)
        .live("/issues/4095", issue_4095::Issue4095Live::default)
        .live("/issues/4102", issue_4102::Issue4102Live::default)
        .live("/issues/4107", issue_4107::Issue4107Live::default)
        .live("/issues/4121", issue_4121::Issue4121Live::default)
        .live("/issues/4147", issue_4147::Issue4147Live::default)
        .live("/issues/4209", issue_4209::Issue4209Live::default)
        .live("/issues/4212", issue_4212::Issue4212Live::default)
        .live("/issues/4290/a", issue_4290::ALive::default)
        .live("/issues/4290/b", issue_4290::BLive::default)
        .live("/issues/4323", issue_4323::Issue4323Live::default)
        .live("/issues/4325", issue_4325::Issue4325Live::default)
        .live("/issues/4334", issue_4334::Issue4334Live::default)
        .live("/issues/4350", issue_4350::Issue4350Live::default)
        .live("/issues/4359", issue_4359::Issue4359Live::default)
        .live("/issues/4368", issue_4368::Issue4368Live::default)
}

/// Issue views outside any live session (they bring their own layouts).
pub fn no_session(router: LiveRouter) -> LiveRouter {
    router
        .live("/issues/2965", issue_2965::Issue2965Live::default)
        .live("/issues/3047/a", issue_3047::Issue3047ALive::default)
        .live("/issues/3047/b", issue_3047::Issue3047BLive::default)
        .live("/issues/3530", issue_3530::Issue3530Live::default)
        .live("/issues/3681", issue_3681::Issue3681Live::default)
        .live("/issues/3681/away", issue_3681::AwayLive::default)
        .live("/issues/3169", issue_3169::Issue3169Live::default)
        .live("/issues/3647", issue_3647::Issue3647Live::default)
        .live("/issues/3941", issue_3941::Issue3941Live::default)
        .live("/issues/4078", issue_4078::Issue4078Live::default)
}

/// The nested live views of the issue views.
pub fn child_views(router: LiveRouter) -> LiveRouter {
    router
        .child_view(issue_3047::Sticky::default)
        .child_view(issue_3378::AppBarLive::default)
        .child_view(issue_3378::NotificationsLive::default)
        .child_view(issue_3496::StickyLive::default)
        .child_view(issue_3530::NestedLive::default)
        .child_view(issue_3612::StickyLive::default)
        .child_view(issue_3656::Sticky::default)
        .child_view(issue_3658::Sticky::default)
        .child_view(issue_3681::StickyLive::default)
        .child_view(issue_3953::NestedViewLive::default)
        .child_view(issue_4209::SlowTargetLive::default)
        .child_view(issue_4359::ChildLive::default)
}

/// Issue views of the `:other` live session.
pub fn other_session(router: LiveRouter) -> LiveRouter {
    router.live("/issues/3686/c", issue_3686::Page::c)
}

/// `render_in_root` content of issue views.
pub fn render_in_root(path: &str) -> Option<Raw> {
    match path {
        "/issues/4147" => Some(Raw::new_unchecked(issue_4147::RENDER_IN_ROOT)),
        "/issues/4212" => Some(Raw::new_unchecked(issue_4212::RENDER_IN_ROOT)),
        "/issues/4323" => Some(Raw::new_unchecked(issue_4323::RENDER_IN_ROOT)),
        _ => None,
    }
}
