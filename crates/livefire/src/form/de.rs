//! The serde `Deserializer` over a decoded form: walks the JSON object and parses its strings
//! where the target type asks for numbers, `bool`s, options or units.
//!
//! # Keys that serde_json reserves
//!
//! serde_json gives keys starting with `$serde_json::private::` a meaning of their own: with its
//! `raw_value` feature (which axum enables), `serde_json::Value` reads an object whose **first**
//! key is `$serde_json::private::RawValue` as "parse my value as JSON text" instead of as an
//! object (likewise `$serde_json::private::Number` with `arbitrary_precision`). Form field names
//! come from the client, so such a key must stay an ordinary key:
//!
//! * within each object, keys with that prefix are visited **after** the other keys, so a
//!   `Value` (which only inspects the first key) sees an ordinary key first and keeps every key;
//! * an object whose keys *all* have that prefix cannot be expressed to `Value` at all; its first
//!   key is refused with a clean error when it is asked for as a string or as "any" (what
//!   `Value` and serde's buffering for `flatten`/`untagged` do). Structs, `HashMap<String, _>`
//!   and other types that read keys as identifiers or owned strings still get it as an ordinary
//!   key.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Unexpected, Visitor,
};
use serde_json::{Map, Value};

/// The prefix of the keys serde_json treats specially (`$serde_json::private::RawValue`,
/// `$serde_json::private::Number`).
const RESERVED_KEY_PREFIX: &str = "$serde_json::private::";

/// Whether serde_json may read `key` as one of its private markers instead of as a key.
fn is_reserved(key: &str) -> bool {
    key.starts_with(RESERVED_KEY_PREFIX)
}

/// Deserializes `value` (a decoded form, possibly merged with event metadata) into `T`.
pub(super) fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, serde_json::Error> {
    T::deserialize(ValueDe(value))
}

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
            Value::Object(map) => visitor.visit_map(MapDe::new(map)),
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
            Value::Object(map) => visitor.visit_map(MapDe::new(map)),
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

/// Walks one object, visiting the keys serde_json reserves after the others (see the module
/// docs).
struct MapDe<'de> {
    /// First pass: the ordinary keys.
    ordinary: serde_json::map::Iter<'de>,
    /// Second pass: the reserved keys.
    reserved: serde_json::map::Iter<'de>,
    /// Keys not yet visited.
    remaining: usize,
    /// Whether a key has been visited yet.
    started: bool,
    value: Option<&'de Value>,
}

impl<'de> MapDe<'de> {
    fn new(map: &'de Map<String, Value>) -> Self {
        MapDe {
            ordinary: map.iter(),
            reserved: map.iter(),
            remaining: map.len(),
            started: false,
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for MapDe<'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let entry = match self.ordinary.find(|(k, _)| !is_reserved(k)) {
            Some(entry) => Some(entry),
            None => self.reserved.find(|(k, _)| is_reserved(k)),
        };
        let Some((k, v)) = entry else {
            return Ok(None);
        };
        // Reserved keys come last, so a reserved first key means every key is reserved.
        let lone_reserved = !self.started && is_reserved(k);
        self.started = true;
        self.remaining -= 1;
        self.value = Some(v);
        seed.deserialize(KeyDe {
            key: k,
            lone_reserved,
        })
        .map(Some)
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
        Some(self.remaining)
    }
}

/// Deserializer for object keys: a borrowed string that also parses as a number or `bool`
/// (`HashMap<u32, _>` for `items[0][name]=…`).
struct KeyDe<'de> {
    key: &'de str,
    /// The key is reserved by serde_json and is the first key of an object whose keys are all
    /// reserved: refused where serde_json would read it as a marker (see the module docs).
    lone_reserved: bool,
}

impl<'de> KeyDe<'de> {
    /// The key as a string, or the refusal of a lone reserved key.
    fn checked_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        if self.lone_reserved {
            return Err(de::Error::custom(format_args!(
                "form field name {:?} is reserved by serde_json and needs another field next to it",
                self.key
            )));
        }
        visitor.visit_borrowed_str(self.key)
    }
}

macro_rules! key_number {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.key.parse::<$ty>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => Err(de::Error::invalid_value(Unexpected::Str(self.key), &visitor)),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for KeyDe<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.checked_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.checked_str(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.key)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.key)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_borrowed_str(self.key)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match parse_bool(self.key) {
            Some(b) => visitor.visit_bool(b),
            None => Err(de::Error::invalid_value(
                Unexpected::Str(self.key),
                &visitor,
            )),
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
        let de = de::value::BorrowedStrDeserializer::<serde_json::Error>::new(self.key);
        de.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        char bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use proptest::prelude::*;
    use serde::Deserialize;
    use serde_json::{Map, Value, json};

    use super::is_reserved;
    use crate::form::{Form, FormError};

    const RAW: &str = "$serde_json::private::RawValue";
    const NUMBER: &str = "$serde_json::private::Number";

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

    /// Fuzz finding: a field named after serde_json's raw-value marker made
    /// `deserialize::<Value>()` fail (or, with a JSON-looking value, return a number instead of
    /// the object).
    #[test]
    fn serde_json_marker_keys_are_ordinary_keys() {
        for form in [
            "$serde_json::private::RawValue=x&a=b",
            "%24serde_json%3A%3Aprivate%3A%3ARawValue=1&a=b",
            "a=b&$serde_json::private::RawValue=%7B%7D",
            "$serde_json::private::Number=1&$serde_json::private::RawValue=2&z=3",
            "u[$serde_json::private::RawValue]=1&u[name]=n&u[tags][]=t",
            "l[][$serde_json::private::RawValue]=1&l[][x]=2",
            "$serde_json::private::=1&$serde_json::private::RawValue2=2&x=1",
        ] {
            let form = Form::parse(form).expect("parses");
            let back: Value = form.deserialize().expect("an ordinary key");
            assert_eq!(&back, form.value(), "{form:?}");
            let map: Map<String, Value> = form.deserialize().expect("an ordinary key");
            assert_eq!(Value::Object(map), back);
        }
    }

    /// An object whose only keys are serde_json markers cannot become a `Value` (serde_json reads
    /// the first key as a marker): it is refused with a clean error instead of a confusing one
    /// or a wrong value.
    #[test]
    fn lone_serde_json_marker_key_is_refused_cleanly_for_value() {
        for (input, key) in [
            ("$serde_json::private::RawValue=1", RAW),
            ("$serde_json::private::RawValue=not+json", RAW),
            ("$serde_json::private::RawValue=%22s%22", RAW),
            ("$serde_json::private::Number=1", NUMBER),
            ("a[$serde_json::private::RawValue]=1&b=2", RAW),
            (
                "$serde_json::private::Number=1&$serde_json::private::RawValue=2",
                NUMBER,
            ),
            ("$serde_json::private::=1", "$serde_json::private::"),
        ] {
            let form = Form::parse(input).expect("parses");
            let err = form.deserialize::<Value>().expect_err(input);
            assert!(matches!(err, FormError::Deserialize(_)), "{input}: {err:?}");
            let msg = err.to_string();
            assert!(msg.contains("is reserved by serde_json"), "{input}: {msg}");
            assert!(msg.contains(key), "{input}: {msg}");
            assert!(crate::Error::from(err).is_bad_input());
        }
    }

    #[test]
    fn lone_serde_json_marker_key_is_ordinary_for_typed_targets() {
        let form = Form::parse("$serde_json::private::RawValue=1").expect("parses");
        let map: HashMap<String, String> = form.deserialize().expect("string keys");
        assert_eq!(map[RAW], "1");
        let map: Map<String, Value> = form.deserialize().expect("string keys");
        assert_eq!(map[RAW], "1");

        #[derive(Debug, Deserialize)]
        struct Empty {
            #[serde(default)]
            name: String,
        }
        let empty: Empty = form.deserialize().expect("unknown field ignored");
        assert_eq!(empty.name, "");

        #[derive(Debug, Deserialize)]
        struct Strict {}
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Denying {}
        assert!(form.deserialize::<Strict>().is_ok());
        let err = form.deserialize::<Denying>().expect_err("unknown field");
        assert!(err.to_string().contains(RAW), "{err}");

        // Buffering (`flatten`) refuses it rather than rebuilding a marker object.
        #[derive(Debug, Deserialize)]
        struct Flat {
            #[serde(flatten)]
            rest: HashMap<String, Value>,
        }
        let nested = Form::parse("a[$serde_json::private::RawValue]=1").expect("parses");
        let err = nested.deserialize::<Flat>().expect_err("lone marker");
        assert!(
            err.to_string().contains("is reserved by serde_json"),
            "{err}"
        );
        let mixed = Form::parse("a[$serde_json::private::RawValue]=1&a[b]=2").expect("parses");
        let flat: Flat = mixed.deserialize().expect("not alone");
        assert_eq!(flat.rest["a"], json!({RAW: "1", "b": "2"}));
    }

    /// Whether some object in `value` has keys and all of them are reserved.
    fn has_lone_reserved_object(value: &Value) -> bool {
        match value {
            Value::Object(map) => {
                (!map.is_empty() && map.keys().all(|k| is_reserved(k)))
                    || map.values().any(has_lone_reserved_object)
            }
            Value::Array(items) => items.iter().any(has_lone_reserved_object),
            _ => false,
        }
    }

    fn any_key() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[a-z\\[\\]$:_]{0,12}",
            Just(RAW.to_owned()),
            Just(NUMBER.to_owned()),
            "\\$serde_json::private::[A-Za-z]{0,8}",
            (Just(RAW), "\\[[a-z]{0,3}\\]").prop_map(|(k, sub)| format!("{k}{sub}")),
            ("[a-z]{1,3}", Just(RAW)).prop_map(|(k, marker)| format!("{k}[{marker}]")),
        ]
    }

    proptest! {
        /// Arbitrary field names round-trip into a `serde_json::Value`; the one exception is an
        /// object whose keys are all serde_json markers, which is refused cleanly.
        #[test]
        fn arbitrary_keys_roundtrip_into_value(
            pairs in proptest::collection::vec((any_key(), ".{0,8}"), 0..8)
        ) {
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&pairs)
                .finish();
            let form = Form::parse(&encoded).expect("encoded pairs parse");
            match form.deserialize::<Value>() {
                Ok(back) => {
                    prop_assert_eq!(&back, form.value());
                    prop_assert!(!has_lone_reserved_object(form.value()));
                }
                Err(err) => {
                    prop_assert!(has_lone_reserved_object(form.value()), "{}", err);
                    prop_assert!(err.to_string().contains("is reserved by serde_json"), "{}", err);
                }
            }
        }

        /// Without serde_json's markers among them, every key round-trips.
        #[test]
        fn arbitrary_plain_keys_roundtrip_into_value(
            pairs in proptest::collection::vec((any::<String>(), any::<String>()), 0..8)
        ) {
            prop_assume!(pairs.iter().all(|(k, _)| !k.contains(super::RESERVED_KEY_PREFIX)));
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&pairs)
                .finish();
            let form = Form::parse(&encoded).expect("encoded pairs parse");
            let back: Value = form.deserialize().expect("any form without markers");
            prop_assert_eq!(&back, form.value());
        }
    }
}
