//! Decoding of form event payloads (`phx-change` / `phx-submit`).
//!
//! The LiveView client sends a form's fields as one URL-encoded string (`URLSearchParams`). This
//! module decodes it with the same bracket rules as Plug (`Plug.Conn.Query.decode/1`, which
//! Phoenix uses), so `user[email]=a&user[tags][]=x` becomes
//! `{"user": {"email": "a", "tags": ["x"]}}`:
//!
//! - `key[sub]` nests objects, `key[]` appends to an array, `key[][sub]` builds objects inside an
//!   array (the last map is shared, as in Plug >= 1.16);
//! - a repeated scalar key keeps the **last** value;
//! - `+` is a space and `%XX` is a byte; malformed escapes and invalid UTF-8 are errors;
//! - the `_unused_` twins that the client adds on change events (`user[_unused_password]=`) stay
//!   as ordinary keys, and [`Form::used`] reads them.
//!
//! Every decoded leaf is a string. [`Form::deserialize`] turns the object into the application's
//! own `serde` types and parses strings into numbers and booleans where the target type asks for
//! them.
//!
//! ```
//! use livefire::form::Form;
//!
//! let form = Form::parse("user%5Bemail%5D=a%40b.c&user%5B_unused_password%5D=&user%5Bpassword%5D=")
//!     .unwrap()
//!     .with_target(Some("user[email]"));
//! assert_eq!(form.value()["user"]["email"], "a@b.c");
//! assert_eq!(form.target(), Some(&["user".to_owned(), "email".to_owned()][..]));
//! assert!(form.used(&["user", "email"]));
//! assert!(!form.used(&["user", "password"]));
//! ```

mod de;
mod decode;
mod state;

pub use self::state::FormState;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Largest accepted URL-encoded input, in bytes (64 KiB).
pub const MAX_INPUT_BYTES: usize = 64 * 1024;
/// Largest accepted number of `name=value` pairs.
pub const MAX_PAIRS: usize = 1000;
/// Deepest accepted bracket nesting (`a[1][2]…[32]`).
pub const MAX_DEPTH: usize = 32;

/// Why a form payload could not be decoded or deserialized.
///
/// Every variant is the client's fault, so inside a live view it converts into a
/// [bad-input](crate::Error::is_bad_input) [`Error::Form`](crate::Error::Form): the event is
/// refused and the view keeps running.
///
/// ```
/// use livefire::form::{Form, FormError, MAX_DEPTH, MAX_INPUT_BYTES};
///
/// assert!(matches!(Form::parse("q=%G1"), Err(FormError::InvalidPercentEncoding)));
/// assert!(matches!(Form::parse("q=%FF"), Err(FormError::InvalidUtf8)));
/// let deep = format!("a{}=1", "[x]".repeat(MAX_DEPTH + 1));
/// assert!(matches!(Form::parse(&deep), Err(FormError::TooDeep { max: MAX_DEPTH })));
/// let huge = "a".repeat(MAX_INPUT_BYTES + 1);
/// assert!(matches!(Form::parse(&huge), Err(FormError::TooLarge { max: MAX_INPUT_BYTES, .. })));
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Qty { qty: u32 }
/// let err = Form::parse("qty=many").unwrap().deserialize::<Qty>().unwrap_err();
/// assert!(matches!(err, FormError::Deserialize(_)));
/// assert!(livefire::Error::from(err).is_bad_input());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// The input is longer than [`MAX_INPUT_BYTES`].
    #[error("form payload is {len} bytes, more than the limit of {max}")]
    TooLarge {
        /// Length of the rejected input.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input has more than [`MAX_PAIRS`] pairs.
    #[error("form payload has more than {max} fields")]
    TooManyPairs {
        /// The limit.
        max: usize,
    },
    /// A field name nests deeper than [`MAX_DEPTH`].
    #[error("form field name nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// A `%` is not followed by two hexadecimal digits.
    #[error("malformed percent-encoding in form payload")]
    InvalidPercentEncoding,
    /// A decoded name or value is not valid UTF-8.
    #[error("form payload is not valid UTF-8 after decoding")]
    InvalidUtf8,
    /// The decoded form does not fit the requested type.
    #[error("form does not match the expected shape: {0}")]
    Deserialize(#[from] serde_json::Error),
}

/// A decoded form payload: the nested object, plus the `_target` path of change events.
///
/// Live views normally get it from [`Event::form_data`](crate::Event::form_data) (or decode
/// straight into their own type with [`Event::form`](crate::Event::form)); [`Form::parse`] also
/// decodes an HTTP form body.
///
/// ```
/// use livefire::form::Form;
/// let form = Form::parse("user[name]=Ann&user[roles][]=admin&user[roles][]=dev")
///     .unwrap()
///     .with_target(Some("user[roles][]"));
/// assert_eq!(form.target().unwrap(), ["user", "roles"]);
/// assert_eq!(
///     form.into_value(),
///     serde_json::json!({"user": {"name": "Ann", "roles": ["admin", "dev"]}})
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    value: Value,
    target: Option<Vec<String>>,
}

impl Form {
    /// Decodes a URL-encoded form string with Plug's bracket rules.
    ///
    /// Fails on inputs over [`MAX_INPUT_BYTES`], over [`MAX_PAIRS`] pairs or deeper than
    /// [`MAX_DEPTH`], on malformed `%` escapes and on invalid UTF-8.
    ///
    /// ```
    /// use livefire::form::Form;
    /// let form = Form::parse("a[b][]=1&a[b][]=2&q=x+y&q=last").unwrap();
    /// assert_eq!(form.value(), &serde_json::json!({"a": {"b": ["1", "2"]}, "q": "last"}));
    /// ```
    pub fn parse(urlencoded: &str) -> Result<Self, FormError> {
        Ok(Form {
            value: decode::decode(urlencoded)?,
            target: None,
        })
    }

    /// A form with no fields (what [`FormState`] starts from).
    pub(crate) fn empty() -> Self {
        Form {
            value: Value::Object(Map::new()),
            target: None,
        }
    }

    /// Sets the target path from the `meta._target` string of a change event.
    ///
    /// The name is decoded as Phoenix does it (`"user[email]"` becomes `["user", "email"]`,
    /// `"user[tags][]"` becomes `["user", "tags"]`). `None` clears the target.
    ///
    /// ```
    /// use livefire::form::Form;
    /// let form = Form::parse("").unwrap().with_target(Some("user[email]"));
    /// assert_eq!(form.target().unwrap(), ["user", "email"]);
    /// ```
    #[must_use]
    pub fn with_target(mut self, target: Option<&str>) -> Self {
        self.target = target.and_then(|t| match Form::parse(t) {
            Ok(decoded) => Some(gather_keys(&decoded.value)),
            Err(err) => {
                tracing::debug!(%err, "ignoring undecodable form _target");
                None
            }
        });
        self
    }

    /// Merges an event's `meta` object (the form's `phx-value-*` and JS `push` values) into the
    /// decoded object, top-level keys of `meta` winning, as Phoenix's `Map.merge(decoded, meta)`.
    /// `_target` is skipped: use [`Form::with_target`] for it.
    ///
    /// ```
    /// use livefire::form::Form;
    /// let mut form = Form::parse("id=1&q=a").unwrap();
    /// let meta = serde_json::json!({"id": 7, "_target": "q"});
    /// form.merge_meta(meta.as_object().unwrap());
    /// assert_eq!(form.value(), &serde_json::json!({"id": 7, "q": "a"}));
    /// ```
    pub fn merge_meta(&mut self, meta: &Map<String, Value>) {
        if let Value::Object(obj) = &mut self.value {
            for (k, v) in meta {
                if k != "_target" {
                    obj.insert(k.clone(), v.clone());
                }
            }
        }
    }

    /// The decoded object (always a JSON object; leaves are strings unless merged from `meta`).
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Consumes the form and returns the decoded object.
    pub fn into_value(self) -> Value {
        self.value
    }

    /// The key path of the input that fired a change event, if any.
    pub fn target(&self) -> Option<&[String]> {
        self.target.as_deref()
    }

    /// Whether the user has interacted with the field at `path`, as Phoenix's `used_input?/1`.
    ///
    /// `false` when the field is absent, when it has an `_unused_` twin (the client sends
    /// `user[_unused_password]=` for fields not yet focused), or when `path` names an
    /// `_unused_` key; for a nested object, `true` when any field inside it is used.
    ///
    /// ```
    /// use livefire::form::Form;
    /// let form = Form::parse("user[_unused_name]=&user[name]=&user[email]=x").unwrap();
    /// assert!(!form.used(&["user", "name"]));
    /// assert!(form.used(&["user", "email"]));
    /// assert!(form.used(&["user"]));
    /// assert!(!form.used(&["user", "missing"]));
    /// ```
    pub fn used(&self, path: &[&str]) -> bool {
        let Some((last, parents)) = path.split_last() else {
            return false;
        };
        let mut current = &self.value;
        for key in parents {
            match current.get(*key) {
                Some(next) => current = next,
                None => return false,
            }
        }
        match current {
            Value::Object(params) => used_param(params, last),
            _ => false,
        }
    }

    /// Deserializes the decoded object into an application type.
    ///
    /// Strings are parsed where the target type asks for a number or a `bool` (`"true"`, `"on"`,
    /// `"1"` / `"false"`, `"off"`, `"0"`, `""`), and an empty string is `None` for an `Option`.
    /// Unknown keys such as `_unused_*` are ignored unless the type uses
    /// `#[serde(deny_unknown_fields)]`. A missing field (an unchecked checkbox) needs
    /// `#[serde(default)]` or an `Option`.
    ///
    /// Field names starting with `$serde_json::private::` (serde_json's private markers, such as
    /// `$serde_json::private::RawValue`) are ordinary keys, with one exception: an object whose
    /// keys all start with it cannot become a [`serde_json::Value`] (serde_json would read it as
    /// a marker), so that is refused with [`FormError::Deserialize`].
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct User { email: String, age: Option<u32>, #[serde(default)] remember: bool }
    /// #[derive(serde::Deserialize)]
    /// struct Params { user: User }
    ///
    /// let form = livefire::form::Form::parse(
    ///     "user[email]=a%40b.c&user[_unused_age]=&user[age]=&user[remember]=true",
    /// ).unwrap();
    /// let params: Params = form.deserialize().unwrap();
    /// assert_eq!(params.user.email, "a@b.c");
    /// assert_eq!(params.user.age, None);
    /// assert!(params.user.remember);
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, FormError> {
        Ok(de::from_value(&self.value)?)
    }
}

/// Phoenix's `used_param?/2` on one level of params.
fn used_param(params: &Map<String, Value>, field: &str) -> bool {
    if field.starts_with("_unused_") {
        return false;
    }
    match params.get(field) {
        None => false,
        Some(_) if params.contains_key(&format!("_unused_{field}")) => false,
        Some(Value::Object(nested)) => nested.keys().any(|k| used_param(nested, k)),
        Some(_) => true,
    }
}

/// Phoenix's `gather_keys/2`: follow the first key of each nested object.
fn gather_keys(value: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    let mut current = value;
    loop {
        match current {
            Value::Object(map) => match map.iter().next() {
                Some((k, v)) => {
                    keys.push(k.clone());
                    current = v;
                }
                None => break,
            },
            Value::Array(items) => match items.as_slice() {
                [only @ Value::Object(_)] => current = only,
                _ => break,
            },
            _ => break,
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn captured_liveview_payload_keeps_unused_twins() {
        let value = "user%5Bemail%5D=a%40b.c&user%5B_unused_password%5D=&user%5Bpassword%5D=secret&user%5B_unused_remember%5D=&user%5Bremember%5D=true";
        let form = Form::parse(value)
            .expect("parses")
            .with_target(Some("user[email]"));
        assert_eq!(
            form.value(),
            &json!({"user": {
                "email": "a@b.c",
                "_unused_password": "",
                "password": "secret",
                "_unused_remember": "",
                "remember": "true"
            }})
        );
        assert_eq!(
            form.target(),
            Some(&["user".to_owned(), "email".to_owned()][..])
        );
        assert!(form.used(&["user", "email"]));
        assert!(!form.used(&["user", "password"]));
        assert!(!form.used(&["user", "remember"]));
        assert!(!form.used(&["user", "_unused_password"]));
        assert!(form.used(&["user"]));
        assert!(!form.used(&[]));
        assert!(!form.used(&["nope", "email"]));
    }

    #[test]
    fn used_on_nested_object_needs_one_used_field() {
        let form = Form::parse("u[_unused_a]=&u[a]=&u[_unused_b]=&u[b]=").expect("parses");
        assert!(!form.used(&["u"]));
        let top = Form::parse("_unused_note=&note=").expect("parses");
        assert!(!top.used(&["note"]));
    }

    #[test]
    fn target_paths_follow_phoenix() {
        let t = |s: &str| Form::parse("").expect("empty").with_target(Some(s)).target;
        assert_eq!(t("user[email]"), Some(vec!["user".into(), "email".into()]));
        assert_eq!(t("user[tags][]"), Some(vec!["user".into(), "tags".into()]));
        assert_eq!(t("a[][b]"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(t("undefined"), Some(vec!["undefined".into()]));
        assert_eq!(t("%zz"), None);
        let form = Form::parse("a=1").expect("parses").with_target(None);
        assert_eq!(form.target(), None);
    }

    #[test]
    fn merge_meta_overrides_top_level_but_not_target() {
        let mut form = Form::parse("id=1&user[name]=a").expect("parses");
        let meta = json!({"id": "9", "extra": {"k": true}, "_target": "user[name]"});
        form.merge_meta(meta.as_object().expect("object"));
        assert_eq!(
            form.value(),
            &json!({"id": "9", "user": {"name": "a"}, "extra": {"k": true}})
        );
        assert_eq!(form.target(), None);
    }
}
