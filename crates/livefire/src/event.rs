//! Client events: clicks, form changes and submits, keys, focus and hook pushes.
//!
//! Every `phx-*` binding on the page makes the client push an `event` message on the view's
//! channel, `[join_ref, ref, "lv:<id>", "event", payload]`, with the payload
//! `{"type": T, "event": name, "value": V, "cid"?: n, "meta"?: {…}}`. The server must answer
//! every one of them (with a diff, or `{}`), which livefire does after the view's
//! [`handle_event`](crate::LiveView::handle_event) returns. [`Event`] is that payload:
//!
//! * `type` is the binding ([`EventKind`]): `"click"`, `"form"`, `"keyup"`, `"hook"`, …;
//! * `value` is an object for clicks, keys and focus events (every `phx-value-*` attribute as a
//!   string, plus `value` or `key`), whatever a hook passed to `pushEvent`, and a URL-encoded
//!   string for `phx-change` / `phx-submit` (decoded by [`Event::form`] with Plug's rules);
//! * `meta` holds a form's `phx-value-*` attributes and, on change events, `_target`, the name
//!   of the input that fired.
//!
//! ```
//! use livefire::{Event, EventKind};
//!
//! // What the client sends for `<form phx-change="validate">` after typing into the email field.
//! let ev = Event::from_payload(serde_json::json!({
//!     "type": "form", "event": "validate",
//!     "value": "user%5Bemail%5D=a%40b.c&user%5B_unused_name%5D=&user%5Bname%5D=",
//!     "meta": {"_target": "user[email]"}
//! })).unwrap();
//! assert_eq!((ev.name(), ev.kind()), ("validate", &EventKind::Form));
//! let form = ev.form_data().unwrap();
//! assert_eq!(form.target().unwrap(), ["user", "email"]);
//! assert!(form.used(&["user", "email"]) && !form.used(&["user", "name"]));
//! ```

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::form::Form;

/// The kind of binding that sent an event (the `type` field of the payload).
///
/// ```
/// use livefire::{Event, EventKind};
/// let key = Event::from_payload(serde_json::json!({
///     "type": "keyup", "event": "search", "value": {"key": "Enter", "value": "rust"}
/// })).unwrap();
/// assert_eq!(key.kind(), &EventKind::KeyUp);
/// let custom = Event::from_payload(serde_json::json!({"type": "drop", "event": "x"})).unwrap();
/// assert_eq!(custom.kind(), &EventKind::Other("drop".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// `phx-click` (and `phx-click-away`).
    Click,
    /// `phx-change` or `phx-submit`: the value is a URL-encoded form.
    Form,
    /// `phx-keyup` / `phx-window-keyup`.
    KeyUp,
    /// `phx-keydown` / `phx-window-keydown`.
    KeyDown,
    /// `phx-blur`.
    Blur,
    /// `phx-focus`.
    Focus,
    /// `this.pushEvent(...)` from a hook.
    Hook,
    /// Any other type string.
    Other(String),
}

impl EventKind {
    fn parse(kind: &str) -> Self {
        match kind {
            "click" => Self::Click,
            "form" => Self::Form,
            "keyup" => Self::KeyUp,
            "keydown" => Self::KeyDown,
            "blur" => Self::Blur,
            "focus" => Self::Focus,
            "hook" => Self::Hook,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One event sent by the browser to a live view.
///
/// ```
/// use livefire::{Event, EventKind};
/// // `<button phx-click="inc" phx-value-id="5" phx-target={@myself}>` inside component 3.
/// let ev = Event::from_payload(serde_json::json!({
///     "type": "click", "event": "inc", "value": {"id": "5", "value": ""}, "cid": 3
/// })).unwrap();
/// assert_eq!(ev.name(), "inc");
/// assert_eq!(ev.kind(), &EventKind::Click);
/// assert_eq!(ev.get("id"), Some("5"));
/// assert_eq!(ev.value()["value"], "");
/// assert_eq!(ev.cid(), Some(3));
/// assert_eq!(ev.key(), None);
/// // A payload without an event name is not an event.
/// assert!(Event::from_payload(serde_json::json!({"type": "click"})).is_none());
/// ```
#[derive(Debug, Clone)]
pub struct Event {
    kind: EventKind,
    name: String,
    value: Value,
    meta: Map<String, Value>,
    cid: Option<u64>,
}

impl Event {
    /// Builds an event from a Phoenix `event` payload; `None` if the payload has no event name.
    pub fn from_payload(payload: Value) -> Option<Self> {
        let Value::Object(mut map) = payload else {
            return None;
        };
        let Some(Value::String(name)) = map.remove("event") else {
            return None;
        };
        let kind = match map.get("type") {
            Some(Value::String(t)) => EventKind::parse(t),
            _ => EventKind::Other(String::new()),
        };
        let value = map.remove("value").unwrap_or(Value::Null);
        let meta = match map.remove("meta") {
            Some(Value::Object(meta)) => meta,
            _ => Map::new(),
        };
        let cid = map.get("cid").and_then(Value::as_u64);
        Some(Self {
            kind,
            name,
            value,
            meta,
            cid,
        })
    }

    /// A click event with the given `phx-value-*` pairs (handy in tests).
    ///
    /// ```
    /// let ev = livefire::Event::click("inc", &[("by", "2")]);
    /// assert_eq!(ev.get("by"), Some("2"));
    /// ```
    pub fn click(name: &str, values: &[(&str, &str)]) -> Self {
        let value = values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        Self {
            kind: EventKind::Click,
            name: name.to_owned(),
            value: Value::Object(value),
            meta: Map::new(),
            cid: None,
        }
    }

    /// A form event with a URL-encoded value (handy in tests).
    ///
    /// ```
    /// let ev = livefire::Event::form_event("save", "user%5Bemail%5D=a%40b.c");
    /// let v: serde_json::Value = ev.form().unwrap();
    /// assert_eq!(v["user"]["email"], "a@b.c");
    /// ```
    pub fn form_event(name: &str, urlencoded: &str) -> Self {
        Self {
            kind: EventKind::Form,
            name: name.to_owned(),
            value: Value::String(urlencoded.to_owned()),
            meta: Map::new(),
            cid: None,
        }
    }

    /// The event name (the `phx-click="name"` attribute value).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The binding kind.
    pub fn kind(&self) -> &EventKind {
        &self.kind
    }

    /// The raw value: an object for clicks and keys, a URL-encoded string for forms.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The component id the event targets, if any.
    pub fn cid(&self) -> Option<u64> {
        self.cid
    }

    /// A string entry of the value object (`phx-value-*`, `key`, `value`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.value.get(key).and_then(Value::as_str)
    }

    /// The key of a keyup/keydown event.
    pub fn key(&self) -> Option<&str> {
        self.get("key")
    }

    /// Decodes the value object (clicks, keys, hooks) into `T`.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Inc { by: String }
    /// let ev = livefire::Event::click("inc", &[("by", "2")]);
    /// assert_eq!(ev.params::<Inc>().unwrap().by, "2");
    /// ```
    pub fn params<T: DeserializeOwned>(&self) -> crate::Result<T> {
        Ok(T::deserialize(&self.value)?)
    }

    /// The decoded form (bracket rules, `_unused_` twins, `_target`), for `phx-change`/`phx-submit`.
    ///
    /// The form's `meta` values (its `phx-value-*` attributes) are merged in, as Phoenix does.
    /// Fails with [`Error::Value`](crate::Error::Value) if the value is not a URL-encoded string,
    /// and with [`Error::Form`](crate::Error::Form) if it does not decode.
    ///
    /// ```
    /// use livefire::Event;
    /// let ev = Event::from_payload(serde_json::json!({
    ///     "type": "form", "event": "save", "value": "tags%5B%5D=a&tags%5B%5D=b", "meta": {"id": "9"}
    /// })).unwrap();
    /// let form = ev.form_data().unwrap();
    /// assert_eq!(form.value(), &serde_json::json!({"tags": ["a", "b"], "id": "9"}));
    /// // A click has an object value, not a form.
    /// assert!(Event::click("save", &[]).form_data().unwrap_err().is_bad_input());
    /// ```
    pub fn form_data(&self) -> crate::Result<Form> {
        let encoded = match &self.value {
            Value::String(s) => s.as_str(),
            Value::Null => "",
            _ => {
                let msg = "a form event value must be a URL-encoded string";
                return Err(<serde_json::Error as serde::de::Error>::custom(msg).into());
            }
        };
        let target = self.meta.get("_target").and_then(Value::as_str);
        let mut form = Form::parse(encoded)?.with_target(target);
        form.merge_meta(&self.meta);
        Ok(form)
    }

    /// Decodes the form into the app's own type.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Credentials { email: String, password: String }
    /// let ev = livefire::Event::form_event("login", "email=a%40b.c&password=pw");
    /// let Credentials { email, password } = ev.form().unwrap();
    /// assert_eq!((email.as_str(), password.as_str()), ("a@b.c", "pw"));
    /// ```
    pub fn form<T: DeserializeOwned>(&self) -> crate::Result<T> {
        Ok(self.form_data()?.deserialize()?)
    }
}
