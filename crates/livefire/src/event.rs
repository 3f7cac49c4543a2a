//! Client events: clicks, form changes and submits, keys, focus and hook pushes.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::form::Form;

/// The kind of binding that sent an event (the `type` field of the payload).
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
/// use livefire::Event;
/// let ev = Event::from_payload(serde_json::json!({
///     "type": "click", "event": "inc", "value": {"id": "5", "value": ""}
/// })).unwrap();
/// assert_eq!(ev.name(), "inc");
/// assert_eq!(ev.get("id"), Some("5"));
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
