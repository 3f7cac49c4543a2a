//! `form::Form::parse` + `deserialize` on arbitrary input.
//!
//! Never panics. A decoded form is a JSON object whose leaves are all strings;
//! `deserialize::<serde_json::Value>()` gives that same object back, or a clean error when an
//! object's keys are all serde_json's private markers (`$serde_json::private::RawValue`, …);
//! typed deserialization (numbers, bools, options, lists, maps, enums) and `with_target`/`used`
//! only ever return.

#![no_main]

use std::collections::{BTreeMap, HashMap};

use libfuzzer_sys::fuzz_target;
use livefire::form::{Form, MAX_DEPTH, MAX_INPUT_BYTES};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
enum Kind {
    A,
    B(String),
    C { x: u8 },
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Typed {
    #[serde(default)]
    a: Option<u32>,
    #[serde(default)]
    b: bool,
    #[serde(default)]
    c: Vec<String>,
    #[serde(default)]
    d: HashMap<u16, String>,
    #[serde(default)]
    e: Option<f64>,
    #[serde(default)]
    f: BTreeMap<String, Value>,
    #[serde(default)]
    g: Option<Kind>,
    #[serde(default)]
    h: (i8, char),
    #[serde(default)]
    i: Option<Box<Typed>>,
    #[serde(default)]
    j: (),
}

fn leaves_are_strings(v: &Value, depth: usize) -> bool {
    assert!(depth <= MAX_DEPTH + 2, "form nests deeper than MAX_DEPTH");
    match v {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(|i| leaves_are_strings(i, depth + 1)),
        Value::Object(map) => map.values().all(|i| leaves_are_strings(i, depth + 1)),
        _ => false,
    }
}

/// Whether some object in `v` has keys and all of them start with serde_json's private marker
/// prefix (`$serde_json::private::RawValue`, …).
fn has_lone_marker_object(v: &Value) -> bool {
    match v {
        Value::Object(map) => {
            (!map.is_empty() && map.keys().all(|k| k.starts_with("$serde_json::private::")))
                || map.values().any(has_lone_marker_object)
        }
        Value::Array(items) => items.iter().any(has_lone_marker_object),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(form) = Form::parse(text) else {
        return;
    };
    assert!(text.len() <= MAX_INPUT_BYTES);
    assert!(
        form.value().is_object(),
        "form is not an object: {}",
        form.value()
    );
    assert!(leaves_are_strings(form.value(), 0));

    match form.deserialize::<Value>() {
        Ok(back) => assert_eq!(&back, form.value()),
        // serde_json reads such an object as one of its private markers: refused, cleanly.
        Err(err) => assert!(
            has_lone_marker_object(form.value())
                && err.to_string().contains("is reserved by serde_json"),
            "{err}"
        ),
    }
    let _ = form.deserialize::<Typed>();
    let _ = form.deserialize::<HashMap<String, Typed>>();
    let _ = form.deserialize::<BTreeMap<u64, Vec<Option<i64>>>>();

    // The input doubles as a `_target` name and as a `used` path.
    let targeted = form.clone().with_target(Some(text));
    if let Some(path) = targeted.target() {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        let _ = targeted.used(&path);
    }
    let path: Vec<&str> = text.split(['&', '=', '[', ']']).take(40).collect();
    let _ = form.used(&path);
});
