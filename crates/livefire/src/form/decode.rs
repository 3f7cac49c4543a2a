//! The url-encoded decoder: `application/x-www-form-urlencoded` pairs, nested with Plug's
//! bracket rules (`Plug.Conn.Query.decode/1`) into a JSON object whose leaves are strings.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{FormError, MAX_DEPTH, MAX_INPUT_BYTES, MAX_PAIRS};

/// Decodes a whole url-encoded form string into a JSON object, enforcing [`MAX_INPUT_BYTES`],
/// [`MAX_PAIRS`] and [`MAX_DEPTH`].
pub(super) fn decode(urlencoded: &str) -> Result<Value, FormError> {
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
    Ok(decoder.finish())
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    use crate::form::{Form, FormError, MAX_DEPTH, MAX_INPUT_BYTES, MAX_PAIRS};

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
