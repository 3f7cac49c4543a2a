//! `Event::from_payload` + `form_data`/`form`/`params` on arbitrary JSON.
//!
//! Never panics; `from_payload` accepts exactly the objects with a string `event`, keeps the
//! name, value and `cid`, and a form event's decoded form is an object.

#![no_main]

use libfuzzer_sys::fuzz_target;
use livefire::Event;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let name = payload
        .get("event")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let value = payload.get("value").cloned().unwrap_or(Value::Null);
    let cid = payload.get("cid").and_then(Value::as_u64);

    let Some(event) = Event::from_payload(payload) else {
        assert!(name.is_none(), "payload with a string event refused");
        return;
    };
    assert_eq!(Some(event.name()), name.as_deref());
    assert_eq!(event.value(), &value);
    assert_eq!(event.cid(), cid);
    let _ = event.kind();
    let _ = event.key();
    let _ = event.get("value");

    let params: Value = event.params().expect("any value deserializes into a Value");
    assert_eq!(params, value);

    match event.form_data() {
        Ok(form) => {
            assert!(value.is_string() || value.is_null());
            assert!(form.value().is_object());
            let _ = form.target();
            let _ = form.used(&["a", "b"]);
            let decoded: Value = event
                .form()
                .expect("a decoded form deserializes into a Value");
            assert_eq!(&decoded, form.value());
        }
        Err(_) => assert!(event.form::<Value>().is_err()),
    }
});
