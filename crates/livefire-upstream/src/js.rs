//! `Phoenix.LiveView.JS` commands as the JSON the client executes (`[["show",{"to":"#m"}],…]`).
//!
//! Only the encoding: the ops and argument names follow upstream's `js.ex`, so an attribute such
//! as `phx-click={Js::new().show(json!({"to": "#modal"}))}` renders what HEEx would.

use livefire::dynamic::{AttrValue, push_attr};
use serde_json::{Value, json};

/// A chain of JS commands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Js(Vec<Value>);

impl Js {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one op with its (already shaped) arguments; `null` arguments are dropped, as
    /// upstream's `put_op` does.
    pub fn op(mut self, kind: &str, args: Value) -> Self {
        let args = match args {
            Value::Object(map) => {
                Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
            }
            other => other,
        };
        self.0.push(json!([kind, args]));
        self
    }

    /// `JS.push(event, opts)`.
    pub fn push(self, event: &str, mut opts: Value) -> Self {
        if opts.is_null() {
            opts = json!({});
        }
        opts["event"] = json!(event);
        self.op("push", opts)
    }

    /// `JS.show(opts)`.
    pub fn show(self, opts: Value) -> Self {
        self.op("show", opts)
    }

    /// `JS.hide(opts)`.
    pub fn hide(self, opts: Value) -> Self {
        self.op("hide", opts)
    }

    /// `JS.patch(href)` (`replace: false`).
    pub fn patch(self, href: &str) -> Self {
        self.op("patch", json!({"href": href, "replace": false}))
    }

    /// `JS.exec(attr, to: to)`.
    pub fn exec(self, attr: &str, to: Option<&str>) -> Self {
        self.op("exec", json!({"attr": attr, "to": to}))
    }

    /// `JS.dispatch(event, opts)`.
    pub fn dispatch(self, event: &str, mut opts: Value) -> Self {
        if opts.is_null() {
            opts = json!({});
        }
        opts["event"] = json!(event);
        self.op("dispatch", opts)
    }

    /// The JSON text.
    pub fn encode(&self) -> String {
        Value::Array(self.0.clone()).to_string()
    }
}

impl AttrValue for Js {
    fn write_attr(&self, name: &str, out: &mut String) {
        push_attr(name, &self.encode(), out);
    }
}

/// A transition given as one class string: `[classes, [], []]`.
pub fn transition(classes: &str) -> Value {
    json!([split(classes), [], []])
}

/// A transition given as `{transition, start, end}`.
pub fn transition3(run: &str, start: &str, end: &str) -> Value {
    json!([split(run), split(start), split(end)])
}

/// Class names split on spaces, as `class_names/1` does.
pub fn split(names: &str) -> Vec<&str> {
    names.split(' ').filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_upstream() {
        let js = Js::new()
            .show(json!({"to": "#m", "transition": transition("fade-in"), "time": 50}))
            .push("inc", Value::Null);
        assert_eq!(
            js.encode(),
            r##"[["show",{"time":50,"to":"#m","transition":[["fade-in"],[],[]]}],["push",{"event":"inc"}]]"##
        );
        assert_eq!(
            Js::new().exec("data-cancel", None).encode(),
            r#"[["exec",{"attr":"data-cancel"}]]"#
        );
    }
}
