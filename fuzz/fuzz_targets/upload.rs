//! One view's upload state fed arbitrary client payloads (form-event `uploads`, `allow_upload`
//! preflights, `progress` events): never panics, and the invariants checked by
//! `livefire::__fuzz::upload_payloads` hold (entries capped, errors name known refs, tokens only
//! for valid preflighted entries, done means 100 %).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|payloads: Vec<(u8, String)>| {
    let payloads: Vec<(u8, &str)> = payloads.iter().map(|(k, t)| (*k, t.as_str())).collect();
    livefire::__fuzz::upload_payloads(&payloads);
});
