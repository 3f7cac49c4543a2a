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

use std::collections::HashMap;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Unexpected, Visitor,
};
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
        if urlencoded.len() > MAX_INPUT_BYTES {
            return Err(FormError::TooLarge {
                len: urlencoded.len(),
                max: MAX_INPUT_BYTES,
            });
        }
        let mut decoder = Decoder::new();
        let mut pairs = 0usize;
        for part in urlencoded.split('&') {
            if part.is_empty() {
                continue;
            }
            pairs += 1;
            if pairs > MAX_PAIRS {
                return Err(FormError::TooManyPairs { max: MAX_PAIRS });
            }
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            decoder.insert(&decode_component(key)?, decode_component(value)?)?;
        }
        Ok(Form {
            value: decoder.finish(),
            target: None,
        })
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
        Ok(T::deserialize(ValueDe(&self.value))?)
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

/// `application/x-www-form-urlencoded` decoding of one name or value: `+` is a space, `%XX` a
/// byte. Strict: a bad escape or invalid UTF-8 is an error.
fn decode_component(input: &str) -> Result<String, FormError> {
    if !input.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(input.to_owned());
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| hex_value(*b));
                let lo = bytes.get(i + 2).and_then(|b| hex_value(*b));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
                    _ => return Err(FormError::InvalidPercentEncoding),
                }
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| FormError::InvalidUtf8)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A stored value: a decoded string, or a pointer to a nested container (an index into
/// `Decoder::levels`).
#[derive(Debug)]
enum Slot {
    Str(String),
    Ptr(usize),
}

/// One container in the making, as in Plug's stateful decoder. Entries are kept in arrival
/// order; a `None` key is an array item (`[]`).
type Entries = Vec<(Option<String>, Slot)>;

/// Port of `Plug.Conn.Query.decode_init/decode_each/decode_done` (Plug >= 1.16).
///
/// Containers are identified by the key prefix that leads to them (`"user"`, `"user[address]"`,
/// `"a[]"`). A container is created, and linked into its parent, the first time its prefix is
/// seen; later pairs only append entries to it. On finishing, a container whose newest entry has
/// no key is an array, otherwise an object in which later keys overwrite earlier ones.
#[derive(Debug)]
struct Decoder {
    /// `levels[0]` is the root.
    levels: Vec<Entries>,
    index: HashMap<String, usize>,
}

impl Decoder {
    fn new() -> Self {
        Decoder {
            levels: vec![Vec::new()],
            index: HashMap::new(),
        }
    }

    fn insert(&mut self, key: &str, value: String) -> Result<(), FormError> {
        // (level prefix end in `key`, or None for the root; entry key, None for `[]`).
        let mut keys: Vec<(Option<usize>, Option<&str>)> = Vec::new();
        match key.find('[') {
            Some(pos) if pos > 0 && key.ends_with(']') => {
                keys.push((None, Some(&key[..pos])));
                let bytes = key.as_bytes();
                let mut level_end = pos;
                let mut start = pos + 1;
                let mut i = pos + 1;
                loop {
                    if bytes[i] == b']' && i + 1 == bytes.len() {
                        keys.push((Some(level_end), non_empty(&key[start..i])));
                        break;
                    }
                    if bytes[i] == b']' && bytes[i + 1] == b'[' {
                        keys.push((Some(level_end), non_empty(&key[start..i])));
                        if keys.len() > MAX_DEPTH {
                            return Err(FormError::TooDeep { max: MAX_DEPTH });
                        }
                        level_end = i + 1;
                        i += 2;
                        start = i;
                    } else {
                        i += 1;
                    }
                }
                if keys.len() - 1 > MAX_DEPTH {
                    return Err(FormError::TooDeep { max: MAX_DEPTH });
                }
            }
            _ => keys.push((None, Some(key))),
        }

        let mut slot = Slot::Str(value);
        for (level, entry_key) in keys.into_iter().rev() {
            let entry = (entry_key.map(str::to_owned), slot);
            let existing = match level {
                None => Some(0),
                Some(end) => self.index.get(&key[..end]).copied(),
            };
            match (existing, level) {
                (Some(idx), _) => {
                    self.levels[idx].push(entry);
                    return Ok(());
                }
                (None, Some(end)) => {
                    let idx = self.levels.len();
                    self.levels.push(vec![entry]);
                    self.index.insert(key[..end].to_owned(), idx);
                    slot = Slot::Ptr(idx);
                }
                // The root always exists.
                (None, None) => return Ok(()),
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Value {
        self.finalize(0)
    }

    fn finalize(&mut self, idx: usize) -> Value {
        let entries = std::mem::take(&mut self.levels[idx]);
        let is_list = matches!(entries.last(), Some((None, _)));
        if is_list && idx != 0 {
            let mut items = Vec::new();
            for (key, slot) in entries {
                if key.is_none() {
                    items.push(self.resolve(slot));
                }
            }
            Value::Array(items)
        } else {
            let mut map = Map::new();
            for (key, slot) in entries {
                if let Some(key) = key {
                    let value = self.resolve(slot);
                    map.insert(key, value);
                }
            }
            Value::Object(map)
        }
    }

    fn resolve(&mut self, slot: Slot) -> Value {
        match slot {
            Slot::Str(s) => Value::String(s),
            Slot::Ptr(idx) => self.finalize(idx),
        }
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

// ---------------------------------------------------------------------------------------------
// A serde Deserializer over the decoded Value that parses strings where numbers/bools are asked.

/// Deserializer over a borrowed [`Value`] that coerces form strings to the requested scalar type.
struct ValueDe<'de>(&'de Value);

macro_rules! coerce_number {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.0 {
                Value::String(s) => match s.trim().parse::<$ty>() {
                    Ok(n) => visitor.$visit(n),
                    Err(_) => Err(de::Error::invalid_value(Unexpected::Str(s), &visitor)),
                },
                other => other.$method(visitor),
            }
        }
    )*};
}

macro_rules! delegate {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.0.$method(visitor)
        }
    )*};
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "on" | "1" => Some(true),
        "false" | "off" | "0" | "" => Some(false),
        _ => None,
    }
}

impl<'de> de::Deserializer<'de> for ValueDe<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(SeqDe(items.iter())),
            Value::Object(map) => visitor.visit_map(MapDe {
                iter: map.iter(),
                value: None,
            }),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::String(s) => match parse_bool(s) {
                Some(b) => visitor.visit_bool(b),
                None => Err(de::Error::invalid_value(Unexpected::Str(s), &visitor)),
            },
            other => other.deserialize_bool(visitor),
        }
    }

    coerce_number! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_u128 => visit_u128: u128,
        deserialize_f32 => visit_f32: f32,
        deserialize_f64 => visit_f64: f64,
    }

    delegate! {
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_identifier,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            Value::String(s) if s.is_empty() => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::String(s) if s.is_empty() => visitor.visit_unit(),
            other => other.deserialize_unit(visitor),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(SeqDe(items.iter())),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(MapDe {
                iter: map.iter(),
                value: None,
            }),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }
}

struct SeqDe<'de>(std::slice::Iter<'de, Value>);

impl<'de> SeqAccess<'de> for SeqDe<'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(ValueDe(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct MapDe<'de> {
    iter: serde_json::map::Iter<'de>,
    value: Option<&'de Value>,
}

impl<'de> MapAccess<'de> for MapDe<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(KeyDe(k)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(ValueDe(v)),
            None => Err(de::Error::custom("form value requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Deserializer for object keys: a borrowed string that also parses as a number or `bool`
/// (`HashMap<u32, _>` for `items[0][name]=…`).
struct KeyDe<'de>(&'de str);

macro_rules! key_number {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.0.parse::<$ty>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => Err(de::Error::invalid_value(Unexpected::Str(self.0), &visitor)),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for KeyDe<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match parse_bool(self.0) {
            Some(b) => visitor.visit_bool(b),
            None => Err(de::Error::invalid_value(Unexpected::Str(self.0), &visitor)),
        }
    }

    key_number! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_u128 => visit_u128: u128,
        deserialize_f32 => visit_f32: f32,
        deserialize_f64 => visit_f64: f64,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let de = de::value::BorrowedStrDeserializer::<serde_json::Error>::new(self.0);
        de.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn parse(s: &str) -> Value {
        Form::parse(s).expect("parses").into_value()
    }

    #[test]
    fn nested_keys_become_objects() {
        assert_eq!(parse("user[email]=a"), json!({"user": {"email": "a"}}));
        assert_eq!(
            parse("user[address][street]=x&user[address][zip]=1&user[name]=n"),
            json!({"user": {"address": {"street": "x", "zip": "1"}, "name": "n"}})
        );
    }

    #[test]
    fn brackets_build_arrays() {
        assert_eq!(parse("a[]=x"), json!({"a": ["x"]}));
        assert_eq!(parse("a[b][]=1&a[b][]=2"), json!({"a": {"b": ["1", "2"]}}));
        assert_eq!(parse("a[]=3&a[]=1&a[]=2"), json!({"a": ["3", "1", "2"]}));
    }

    #[test]
    fn maps_inside_arrays_follow_plug() {
        // Plug >= 1.16 shares the `a[]` container: later keys overwrite.
        assert_eq!(
            parse("a[][b]=1&a[][c]=2"),
            json!({"a": [{"b": "1", "c": "2"}]})
        );
        assert_eq!(parse("a[][b]=1&a[][b]=2"), json!({"a": [{"b": "2"}]}));
    }

    #[test]
    fn last_scalar_value_wins() {
        assert_eq!(parse("q=1&q=2&q=3"), json!({"q": "3"}));
        assert_eq!(parse("u[e]=1&u[e]=2"), json!({"u": {"e": "2"}}));
        // Scalar then container, container then scalar: the later one at the same level wins.
        assert_eq!(parse("a=1&a[b]=2"), json!({"a": {"b": "2"}}));
        assert_eq!(parse("a[b]=2&a=1"), json!({"a": "1"}));
    }

    #[test]
    fn newest_entry_decides_array_or_object() {
        assert_eq!(parse("a[]=1&a[x]=2"), json!({"a": {"x": "2"}}));
        assert_eq!(parse("a[x]=2&a[]=1"), json!({"a": ["1"]}));
    }

    #[test]
    fn plus_and_percent_are_decoded() {
        assert_eq!(
            parse("q=a+b%2Bc%20d&k%5Bx%5D=%C3%A9"),
            json!({"q": "a b+c d", "k": {"x": "é"}})
        );
        assert_eq!(parse("e=a%40b.c"), json!({"e": "a@b.c"}));
    }

    #[test]
    fn odd_keys_follow_plug() {
        assert_eq!(parse("flag"), json!({"flag": ""}));
        assert_eq!(parse("=v"), json!({"": "v"}));
        assert_eq!(parse("&&a=1&&"), json!({"a": "1"}));
        assert_eq!(parse("[a]=1"), json!({"[a]": "1"}));
        assert_eq!(parse("a[b=1"), json!({"a[b": "1"}));
        assert_eq!(parse("a[b]c]=1"), json!({"a": {"b]c": "1"}}));
        assert_eq!(parse("a=b=c"), json!({"a": "b=c"}));
        assert_eq!(parse(""), json!({}));
    }

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

    #[test]
    fn limits_are_enforced() {
        let big = "a=".to_owned() + &"x".repeat(MAX_INPUT_BYTES);
        assert!(matches!(Form::parse(&big), Err(FormError::TooLarge { .. })));
        let exact = "a=".to_owned() + &"x".repeat(MAX_INPUT_BYTES - 2);
        assert!(Form::parse(&exact).is_ok());

        let many = vec!["a=1"; MAX_PAIRS + 1].join("&");
        assert!(matches!(
            Form::parse(&many),
            Err(FormError::TooManyPairs { .. })
        ));
        let enough = vec!["a[]=1"; MAX_PAIRS].join("&");
        assert_eq!(
            Form::parse(&enough).expect("at limit").value()["a"]
                .as_array()
                .map(Vec::len),
            Some(MAX_PAIRS)
        );

        let deep_ok = format!("a{}=1", "[x]".repeat(MAX_DEPTH));
        assert!(Form::parse(&deep_ok).is_ok());
        let deep = format!("a{}=1", "[x]".repeat(MAX_DEPTH + 1));
        assert!(matches!(Form::parse(&deep), Err(FormError::TooDeep { .. })));
        let deep_lists = format!("a{}=1", "[]".repeat(MAX_DEPTH + 1));
        assert!(matches!(
            Form::parse(&deep_lists),
            Err(FormError::TooDeep { .. })
        ));
    }

    #[test]
    fn bad_encodings_are_errors() {
        for bad in ["a=%", "a=%4", "a=%zz", "%G0=1"] {
            assert!(
                matches!(Form::parse(bad), Err(FormError::InvalidPercentEncoding)),
                "{bad}"
            );
        }
        assert!(matches!(Form::parse("a=%FF"), Err(FormError::InvalidUtf8)));
        assert!(matches!(Form::parse("a=%C3"), Err(FormError::InvalidUtf8)));
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct User {
        email: String,
        age: Option<u32>,
        score: f64,
        #[serde(default)]
        remember: bool,
        tags: Vec<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Params {
        user: User,
        commit: Option<String>,
    }

    #[test]
    fn deserialize_coerces_strings_and_ignores_unused() {
        let form = Form::parse(
            "user[email]=a%40b.c&user[_unused_age]=&user[age]=42&user[score]=1.5\
             &user[remember]=true&user[tags][]=x&user[tags][]=y&commit=go",
        )
        .expect("parses");
        let params: Params = form.deserialize().expect("fits");
        assert_eq!(
            params,
            Params {
                user: User {
                    email: "a@b.c".into(),
                    age: Some(42),
                    score: 1.5,
                    remember: true,
                    tags: vec!["x".into(), "y".into()],
                },
                commit: Some("go".into()),
            }
        );
    }

    #[test]
    fn deserialize_empty_option_is_none_and_missing_default() {
        let form =
            Form::parse("user[email]=&user[age]=&user[score]=0&user[tags][]=").expect("parses");
        let params: Params = form.deserialize().expect("fits");
        assert_eq!(params.user.age, None);
        assert!(!params.user.remember);
        assert_eq!(params.commit, None);
        assert_eq!(params.user.email, "");
    }

    #[test]
    fn deserialize_reports_bad_numbers_and_missing_fields() {
        let bad = Form::parse("user[email]=x&user[score]=abc&user[tags][]=a").expect("parses");
        let err = bad.deserialize::<Params>().expect_err("abc is not f64");
        assert!(matches!(err, FormError::Deserialize(_)));
        assert!(err.to_string().contains("abc"), "{err}");
        let missing = Form::parse("user[email]=x").expect("parses");
        assert!(missing.deserialize::<Params>().is_err());
    }

    #[test]
    fn deserialize_numeric_keys_enums_and_meta_values() {
        #[derive(Debug, Deserialize, PartialEq)]
        #[serde(rename_all = "lowercase")]
        enum Role {
            Admin,
            Guest,
        }
        #[derive(Debug, Deserialize)]
        struct Item {
            name: String,
        }
        #[derive(Debug, Deserialize)]
        struct P {
            items: BTreeMap<u32, Item>,
            role: Role,
            n: i64,
            on: bool,
        }
        let mut form =
            Form::parse("items[1][name]=b&items[0][name]=a&role=admin&on=on").expect("parses");
        form.merge_meta(json!({"n": -3}).as_object().expect("object"));
        let p: P = form.deserialize().expect("fits");
        assert_eq!(p.items[&0].name, "a");
        assert_eq!(p.items[&1].name, "b");
        assert_eq!(p.role, Role::Admin);
        assert_ne!(p.role, Role::Guest);
        assert_eq!(p.n, -3);
        assert!(p.on);
    }

    #[test]
    fn deserialize_into_value_roundtrips() {
        let form = Form::parse("a[b][]=1&c=2").expect("parses");
        let v: Value = form.deserialize().expect("any value");
        assert_eq!(&v, form.value());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Form::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_bracket_soup(s in "[a-c\\[\\]=&%+2F0 ]{0,64}") {
            if let Ok(form) = Form::parse(&s) {
                prop_assert!(form.value().is_object());
                let _ = form.with_target(Some(&s)).used(&["a", "b"]);
            }
        }

        #[test]
        fn flat_pairs_roundtrip(pairs in proptest::collection::btree_map("[a-z_]{1,8}", ".{0,12}", 0..20)) {
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&pairs)
                .finish();
            let value = parse(&encoded);
            let expected: Map<String, Value> = pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            prop_assert_eq!(value, Value::Object(expected));
        }
    }
}
