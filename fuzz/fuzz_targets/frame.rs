//! The Phoenix V2 frame decoder (`[join_ref, ref, topic, event, payload]`) on arbitrary text.
//!
//! Never panics, and accepts exactly the frames an independent decoder built on
//! `serde_json::Value` accepts: a 5-element array whose topic and event are strings and whose
//! refs are `null`, strings or numbers. The same bytes go to the binary frame decoder, checked
//! against a model of the client's binary encoding (kind 0, four lengths, four UTF-8 strings,
//! the payload).

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

type Binary = (Option<String>, Option<String>, String, String, usize);

fn expected_binary(data: &[u8]) -> Option<Binary> {
    if data.len() < 5 || data[0] != 0 {
        return None;
    }
    let lens: Vec<usize> = data[1..5].iter().map(|b| usize::from(*b)).collect();
    let mut at = 5;
    let mut parts = Vec::new();
    for len in lens {
        let part = data.get(at..at + len)?;
        parts.push(String::from_utf8(part.to_vec()).ok()?);
        at += len;
    }
    let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
    Some((
        opt(&parts[0]),
        opt(&parts[1]),
        parts[2].clone(),
        parts[3].clone(),
        data.len() - at,
    ))
}

fuzz_target!(|data: &[u8]| {
    assert_eq!(
        livefire::__fuzz::parse_binary_frame(data),
        expected_binary(data),
        "binary frame decoder disagrees with the model on {data:?}"
    );
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(
        livefire::__fuzz::parse_frame(text),
        expected(text),
        "frame decoder disagrees with the model on {text:?}"
    );
});
