//! The Phoenix V2 frame decoder (`[join_ref, ref, topic, event, payload]`) on arbitrary text.
//!
//! Never panics, and accepts exactly the frames an independent decoder built on
//! `serde_json::Value` accepts: a 5-element array whose topic and event are strings and whose
//! refs are `null`, strings or numbers.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn is_ref(v: &Value) -> bool {
    matches!(v, Value::Null | Value::String(_) | Value::Number(_))
}

fn expected(text: &str) -> bool {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => {
            items.len() == 5
                && is_ref(&items[0])
                && is_ref(&items[1])
                && items[2].is_string()
                && items[3].is_string()
        }
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(
        livefire::__fuzz::parse_frame(text),
        expected(text),
        "frame decoder disagrees with the model on {text:?}"
    );
});
