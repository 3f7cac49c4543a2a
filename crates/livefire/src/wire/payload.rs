//! The payloads of a view's replies and pushes (docs/protocol.md §2.3, §4.1, §5.1): join
//! replies, diffs with their title/events/hook reply, and the navigation maps of `redirect`,
//! `live_redirect` and `live_patch`.

use serde_json::Value;

use super::json::{push_member, write_json_str, write_value};

/// `{"to":..,"kind":..,"flash":..}`: the map of a `redirect` (no kind), `live_redirect` or
/// `live_patch` (kind `push` or `replace`). The flash is an opaque sealed token.
pub(crate) fn nav(to: &str, replace: Option<bool>, flash: Option<&str>) -> String {
    let mut out = String::with_capacity(to.len() + 32);
    out.push_str("{\"to\":");
    write_json_str(to, &mut out);
    match replace {
        Some(true) => out.push_str(",\"kind\":\"replace\""),
        Some(false) => out.push_str(",\"kind\":\"push\""),
        None => {}
    }
    if let Some(flash) = flash {
        out.push_str(",\"flash\":");
        write_json_str(flash, &mut out);
    }
    out.push('}');
    out
}

/// `[["name",payload],…]`: pushed events (`e`).
pub(crate) fn events(events: &[(String, Value)], out: &mut String) {
    out.push('[');
    for (i, (name, payload)) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        write_json_str(name, out);
        out.push(',');
        write_value(payload, out);
        out.push(']');
    }
    out.push(']');
}

/// What a callback adds to a rendered tree or diff besides the dynamics: the title (`t`),
/// pushed events (`e`) and a hook reply (`r`). `has` says whether `out` already holds members.
pub(crate) fn extras(
    out: &mut String,
    has: &mut bool,
    title: Option<&str>,
    pushed: &[(String, Value)],
    reply: Option<&Value>,
) {
    if let Some(title) = title {
        push_member(out, has, "t");
        write_json_str(title, out);
    }
    if !pushed.is_empty() {
        push_member(out, has, "e");
        events(pushed, out);
    }
    if let Some(reply) = reply {
        push_member(out, has, "r");
        write_value(reply, out);
    }
}

/// The ok response of a join: the full rendered tree (its members), the client version, and
/// the `live_patch` of a `push_patch` during mount.
pub(crate) fn join_reply(rendered_members: &str, live_patch: Option<&str>) -> String {
    let mut body = String::with_capacity(rendered_members.len() + 64);
    body.push_str("{\"rendered\":{");
    body.push_str(rendered_members);
    body.push_str("},\"liveview_version\":\"");
    body.push_str(crate::LIVEVIEW_VERSION);
    body.push('"');
    if let Some(patch) = live_patch {
        body.push_str(",\"live_patch\":");
        body.push_str(patch);
    }
    body.push('}');
    body
}

/// The ok response of an event: `{"diff":{members}}`, or `{}` when nothing changed.
pub(crate) fn diff_reply(members: &str) -> String {
    if members.is_empty() {
        return "{}".to_owned();
    }
    let mut body = String::with_capacity(members.len() + 10);
    body.push_str("{\"diff\":{");
    body.push_str(members);
    body.push_str("}}");
    body
}

/// An event reply with more members (`"ref":…,"config":…`): `{"diff":{members},extra}`, or
/// `{extra}` when nothing changed.
pub(crate) fn diff_reply_with(members: &str, extra: Option<&str>) -> String {
    let Some(extra) = extra.filter(|e| !e.is_empty()) else {
        return diff_reply(members);
    };
    if members.is_empty() {
        return format!("{{{extra}}}");
    }
    format!("{{\"diff\":{{{members}}},{extra}}}")
}

/// A `diff` push: `{members}`.
pub(crate) fn diff_push(members: &str) -> String {
    let mut body = String::with_capacity(members.len() + 2);
    body.push('{');
    body.push_str(members);
    body.push('}');
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn navigation_maps() {
        assert_eq!(
            nav("/account", None, Some("tok")),
            r#"{"to":"/account","flash":"tok"}"#
        );
        assert_eq!(nav("/a", Some(false), None), r#"{"to":"/a","kind":"push"}"#);
        assert_eq!(
            nav("/a?b=\"", Some(true), None),
            r#"{"to":"/a?b=\"","kind":"replace"}"#
        );
    }

    #[test]
    fn replies_and_extras() {
        let mut members = String::from(r#""0":"1""#);
        let mut has = true;
        let pushed = vec![("hi".to_owned(), serde_json::json!({"a": 1}))];
        extras(
            &mut members,
            &mut has,
            Some("T"),
            &pushed,
            Some(&serde_json::json!(true)),
        );
        assert_eq!(
            diff_reply(&members),
            r#"{"diff":{"0":"1","t":"T","e":[["hi",{"a":1}]],"r":true}}"#
        );
        assert_eq!(diff_reply(""), "{}");
        assert_eq!(diff_push(r#""0":"2""#), r#"{"0":"2"}"#);
        assert_eq!(
            diff_reply_with(r#""0":"2""#, Some(r#""ref":"u""#)),
            r#"{"diff":{"0":"2"},"ref":"u"}"#
        );
        assert_eq!(diff_reply_with("", Some(r#""ref":"u""#)), r#"{"ref":"u"}"#);
        assert_eq!(diff_reply_with("", None), "{}");
        let join = join_reply(r#""s":["a"]"#, Some(r#"{"to":"/x","kind":"push"}"#));
        let v: Value = serde_json::from_str(&join).unwrap();
        assert_eq!(v["rendered"]["s"][0], "a");
        assert_eq!(v["liveview_version"], crate::LIVEVIEW_VERSION);
        assert_eq!(v["live_patch"]["to"], "/x");
    }
}
