//! `token::Keyring` sealing and opening.
//!
//! * Opening arbitrary text (for an arbitrary purpose) never panics and is always an error.
//! * Arbitrary data (a derived struct, and any JSON value) round-trips through `seal`/`open`,
//!   and `sealed_len` predicts the token length.
//! * The token does not open for another purpose, and any one-character change makes it fail.

#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use livefire::token::{Keyring, MAX_TOKEN_LEN, TokenError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

const MAX_AGE: Duration = Duration::from_secs(600);
const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[derive(Debug, Clone, PartialEq, Arbitrary, Serialize, Deserialize)]
enum Shape {
    Unit,
    Pair(i32, String),
    Named { c: char, bytes: Vec<u8> },
}

#[derive(Debug, Clone, PartialEq, Arbitrary, Serialize, Deserialize)]
struct Data {
    s: String,
    i: i64,
    u: u64,
    b: bool,
    list: Vec<String>,
    map: BTreeMap<String, Option<u32>>,
    shape: Shape,
    tuple: (u8, Option<char>),
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    garbage: &'a str,
    purpose: &'a str,
    other_purpose: &'a str,
    data: Data,
    json: &'a str,
    flip_at: usize,
    flip_to: u8,
}

fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| {
        Keyring::new([0x5a; 64])
            .and_then(|k| k.with_fallback([0xa5; 64]))
            .expect("64-byte secrets")
    })
}

/// Seals `data`, checks the length prediction, and opens it again.
fn round_trip<T>(keys: &Keyring, purpose: &str, data: &T) -> Option<(String, T)>
where
    T: Serialize + serde::de::DeserializeOwned,
{
    let token = keys
        .try_seal(purpose, data, MAX_AGE)
        .expect("serializable data");
    let predicted = keys.sealed_len(data, MAX_AGE).expect("serializable data");
    // Only the issue time varies between the two calls, and it keeps its digit count.
    assert_eq!(token.len(), predicted, "sealed_len disagrees with seal");
    if token.len() > MAX_TOKEN_LEN {
        assert_eq!(
            keys.open::<T>(purpose, &token).err(),
            Some(TokenError::TooLarge)
        );
        return None;
    }
    let (opened, rotated) = keys
        .open_rotated::<T>(purpose, &token)
        .unwrap_or_else(|e| panic!("fresh token did not open: {e}"));
    assert!(!rotated, "sealed with the current key, opened as rotated");
    Some((token, opened))
}

fuzz_target!(|input: Input<'_>| {
    let keys = keyring();

    // Garbage never opens.
    assert!(keys.open::<Value>(input.purpose, input.garbage).is_err());
    assert!(keys.open::<Data>(input.garbage, input.garbage).is_err());

    // Arbitrary typed data round-trips.
    if let Some((token, opened)) = round_trip(keys, input.purpose, &input.data) {
        assert_eq!(opened, input.data);

        if input.other_purpose != input.purpose {
            assert_eq!(
                keys.open::<Data>(input.other_purpose, &token).err(),
                Some(TokenError::Invalid),
                "token opened for another purpose"
            );
        }

        // Any one-character change is refused.
        let mut bytes = token.into_bytes();
        let at = input.flip_at % bytes.len();
        let mut to = B64URL[usize::from(input.flip_to % 64)];
        if to == bytes[at] {
            to = B64URL[(usize::from(input.flip_to % 64) + 1) % 64];
        }
        bytes[at] = to;
        let tampered = String::from_utf8(bytes).expect("base64url is ASCII");
        assert!(
            keys.open::<Data>(input.purpose, &tampered).is_err(),
            "tampered token opened"
        );
    }

    // Any JSON value round-trips (compared with its own JSON round trip, which is what the
    // token does to floats).
    if let Ok(value) = serde_json::from_str::<Value>(input.json) {
        let expected: Value = serde_json::from_str(&value.to_string()).expect("valid JSON");
        if let Some((_, opened)) = round_trip(keys, input.purpose, &value) {
            assert_eq!(opened, expected);
        }
    }
});
