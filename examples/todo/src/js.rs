//! The few JS commands of the confirmation dialog, as the JSON list the LiveView client
//! executes from a binding such as `phx-click` (`[["show",{"to":"#id",…}],…]`, what Phoenix's
//! `JS.show/2` renders). A small private stand-in for a typed command builder.

use serde_json::{Value, json};

/// How long the dialog fades in or out, in milliseconds (the `.fade` class of the page's
/// style sheet uses the same duration).
const FADE_MS: u64 = 150;

/// A fade: the classes while it runs, at its start and at its end.
fn fade(from: &str, to: &str) -> Value {
    json!([["fade"], [from], [to]])
}

/// Shows `#id` (as `display: flex`), fading it in.
pub(crate) fn show(id: &str) -> String {
    commands([json!(["show", {
        "to": format!("#{id}"),
        "display": "flex",
        "transition": fade("faded", "opaque"),
        "time": FADE_MS,
    }])])
}

/// Hides `#id`, fading it out.
pub(crate) fn hide(id: &str) -> String {
    commands([hide_command(id)])
}

/// Hides `#id`, fading it out, and sends `event` to the view.
pub(crate) fn hide_and_push(id: &str, event: &str) -> String {
    commands([hide_command(id), json!(["push", {"event": event}])])
}

fn hide_command(id: &str) -> Value {
    json!(["hide", {
        "to": format!("#{id}"),
        "transition": fade("opaque", "faded"),
        "time": FADE_MS,
    }])
}

fn commands<const N: usize>(list: [Value; N]) -> String {
    Value::Array(list.into()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_clients_command_lists() {
        assert_eq!(
            show("dialog"),
            r##"[["show",{"display":"flex","time":150,"to":"#dialog","transition":[["fade"],["faded"],["opaque"]]}]]"##
        );
        assert_eq!(
            hide_and_push("dialog", "go"),
            r##"[["hide",{"time":150,"to":"#dialog","transition":[["fade"],["opaque"],["faded"]]}],["push",{"event":"go"}]]"##
        );
    }
}
