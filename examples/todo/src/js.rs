//! The JS commands of the confirmation dialog, built with livefire's typed builder
//! ([`livefire::js::JS`]): what Phoenix's `JS.show/2`, `JS.hide/2` and `JS.push/2` render.

use livefire::js::{HideOpts, JS, ShowOpts};

/// How long the dialog fades in or out, in milliseconds (the `.fade` class of the page's
/// style sheet uses the same duration).
const FADE_MS: u64 = 150;

/// Shows `#id` (as `display: flex`), fading it in.
pub(crate) fn show(id: &str) -> JS {
    JS::new().show(
        ShowOpts::new()
            .to(format!("#{id}"))
            .display("flex")
            .transition(("fade", "faded", "opaque"))
            .time(FADE_MS),
    )
}

/// Hides `#id`, fading it out.
pub(crate) fn hide(id: &str) -> JS {
    JS::new().hide(
        HideOpts::new()
            .to(format!("#{id}"))
            .transition(("fade", "opaque", "faded"))
            .time(FADE_MS),
    )
}

/// Hides `#id`, fading it out, and sends `event` to the view.
pub(crate) fn hide_and_push(id: &str, event: &str) -> JS {
    hide(id).push(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_clients_command_lists() {
        assert_eq!(
            show("dialog").to_string(),
            r##"[["show",{"display":"flex","time":150,"to":"#dialog","transition":[["fade"],["faded"],["opaque"]]}]]"##
        );
        assert_eq!(
            hide_and_push("dialog", "go").to_string(),
            r##"[["hide",{"time":150,"to":"#dialog","transition":[["fade"],["opaque"],["faded"]]}],["push",{"event":"go"}]]"##
        );
    }
}
