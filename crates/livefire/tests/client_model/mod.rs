//! A model of the official client's `Rendered` (phoenix_live_view 1.2 `rendered.js`) on
//! `serde_json::Value`: `mutableMerge`, `mergeKeyed` and `toOutputBuffer`. Wherever the real
//! client would throw or render garbage (`undefined`), the model panics. It also rejects
//! redundant output (statics the client already holds, unchanged text, empty objects).
//!
//! Shared by the property test `tests/diff_merge.rs` and the fuzz target `fuzz/fuzz_targets/diff.rs`.

#![allow(dead_code, unreachable_pub)]

use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Client model (rendered.js)

pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

pub fn has_keyed(v: &Value) -> bool {
    v.get("k").is_some_and(truthy)
}

/// `mutableMerge(target, source)`: an object with `s` replaces the target wholesale.
pub fn mutable_merge(target: Value, source: Value) -> Value {
    if source.get("s").is_some() {
        assert_statics_needed(Some(&target), &source);
        return source;
    }
    let mut target = target;
    do_mutable_merge(&mut target, source);
    target
}

/// Minimality: `s` is only sent where the client may hold something else.
pub fn assert_statics_needed(target: Option<&Value>, source: &Value) {
    if let Some(target) = target.filter(|t| t.is_object()) {
        let same = target.get("s") == source.get("s") && has_keyed(target) == has_keyed(source);
        assert!(
            !same,
            "redundant statics: client already holds {target} and gets {source}"
        );
    }
}

/// `doMutableMerge(target, source)`.
pub fn do_mutable_merge(target: &mut Value, source: Value) {
    if has_keyed(&source) {
        merge_keyed(target, source);
        return;
    }
    let Value::Object(src) = source else {
        panic!("doMutableMerge with a non-object source: {source}");
    };
    assert!(!src.is_empty(), "redundant empty diff object");
    let tgt = target
        .as_object_mut()
        .unwrap_or_else(|| panic!("client would merge keys into a non-object"));
    for (key, val) in src {
        assert!(
            key.parse::<usize>().is_ok(),
            "unexpected key {key:?} in a node diff"
        );
        let recurse = val.is_object()
            && val.get("s").is_none()
            && tgt.get(&key).is_some_and(Value::is_object);
        if recurse {
            let slot = tgt.get_mut(&key).expect("checked above");
            do_mutable_merge(slot, val);
        } else {
            if val.is_object() {
                assert_statics_needed(tgt.get(&key), &val);
            } else {
                assert_ne!(tgt.get(&key), Some(&val), "redundant dynamic at {key}");
            }
            tgt.insert(key, val);
        }
    }
}

/// `mergeKeyed(target, source)`, without moves (the server never sends them).
pub fn merge_keyed(target: &mut Value, source: Value) {
    let Value::Object(mut src) = source else {
        unreachable!()
    };
    let Some(Value::Object(sk)) = src.remove("k") else {
        panic!("k must be an object");
    };
    assert!(
        src.keys().all(|k| k == "k"),
        "keys next to k are ignored by the client: {src:?}"
    );
    assert!(sk.get("km").is_none(), "km is never needed");
    let tk = target
        .get_mut("k")
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("client throws: merging k into a node without k"));
    let old_kc = tk.get("kc").and_then(Value::as_u64).expect("client kc");
    let new_kc = sk
        .get("kc")
        .and_then(Value::as_u64)
        .expect("kc always present");
    let mut entries = 0;
    for (i, entry) in sk {
        if i == "kc" {
            continue;
        }
        entries += 1;
        let idx: u64 = i.parse().expect("entry keys are indexes");
        assert!(idx < new_kc, "entry {idx} beyond kc {new_kc}");
        match entry {
            Value::Object(e) => {
                let exists = tk.get(&i).is_some_and(truthy);
                if !exists {
                    tk.insert(i.clone(), Value::Object(Map::new()));
                } else {
                    assert!(!e.is_empty(), "redundant empty entry {i}");
                }
                let slot = tk.get_mut(&i).expect("inserted");
                if !e.is_empty() {
                    do_mutable_merge(slot, Value::Object(e));
                }
            }
            other => panic!("server never sends moves or non-objects as entries: {other}"),
        }
    }
    assert!(
        entries > 0 || new_kc != old_kc,
        "redundant comprehension diff"
    );
    for i in new_kc..old_kc {
        tk.remove(&i.to_string());
    }
    tk.insert("kc".to_owned(), Value::from(new_kc));
}

/// `toOutputBuffer`.
pub fn render(v: &Value, out: &mut String) {
    let obj = v.as_object().expect("rendered node is an object");
    let statics = obj
        .get("s")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("client throws: node without statics: {v}"));
    let statics: Vec<&str> = statics
        .iter()
        .map(|s| s.as_str().expect("statics are strings"))
        .collect();
    assert!(!statics.is_empty());
    if has_keyed(v) {
        // comprehensionToBuffer
        let k = obj["k"].as_object().expect("k object");
        let kc = k.get("kc").and_then(Value::as_u64).expect("kc");
        for i in 0..kc {
            let entry = k
                .get(&i.to_string())
                .and_then(Value::as_object)
                .unwrap_or_else(|| panic!("missing entry {i} in {v}"));
            dynamics_to_buffer(entry, &statics, out);
        }
    } else {
        dynamics_to_buffer(obj, &statics, out);
    }
}

/// `dynamicsToBuffer` + `dynamicToBuffer`.
pub fn dynamics_to_buffer(node: &Map<String, Value>, statics: &[&str], out: &mut String) {
    for (i, s) in statics[..statics.len() - 1].iter().enumerate() {
        out.push_str(s);
        match node.get(&i.to_string()) {
            Some(Value::String(text)) => out.push_str(text),
            Some(d @ Value::Object(_)) => render(d, out),
            other => panic!("client renders {other:?} at dynamic {i}"),
        }
    }
    out.push_str(statics[statics.len() - 1]);
}

/// The client side of one view: the merged tree.
pub struct Client {
    pub rendered: Value,
}

impl Client {
    /// `new Rendered(viewId, rendered)`.
    pub fn join(members: &str) -> Self {
        let mut rendered = mutable_merge(Value::Object(Map::new()), parse_members(members));
        rendered["c"] = Value::Object(Map::new());
        Self { rendered }
    }

    /// `mergeDiff(diff)`.
    pub fn merge(&mut self, members: &str) {
        let diff = parse_members(members);
        let old = std::mem::take(&mut self.rendered);
        self.rendered = mutable_merge(old, diff);
        if self.rendered.get("c").is_none() {
            self.rendered["c"] = Value::Object(Map::new());
        }
    }

    pub fn html(&self) -> String {
        let mut out = String::new();
        render(&self.rendered, &mut out);
        out
    }
}

pub fn parse_members(members: &str) -> Value {
    let json = format!("{{{members}}}");
    let v: Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("invalid JSON ({e}): {json}"));
    check_keys(&v, false);
    v
}

/// Only `s`, `k`, `kc` and indexes are ever sent (no `r`, `p`, `c`, `d`, `km`).
pub fn check_keys(v: &Value, in_entry: bool) {
    let Value::Object(m) = v else { return };
    for (key, val) in m {
        match key.as_str() {
            "s" if !in_entry => {
                assert!(
                    val.as_array()
                        .is_some_and(|a| a.iter().all(Value::is_string))
                );
            }
            "k" if !in_entry => {
                let k = val.as_object().expect("k is an object");
                for (ek, ev) in k {
                    if ek == "kc" {
                        assert!(ev.is_u64());
                    } else {
                        assert!(ek.parse::<usize>().is_ok(), "bad entry key {ek}");
                        check_keys(ev, true);
                    }
                }
            }
            _ => {
                assert!(
                    key.parse::<usize>().is_ok(),
                    "unexpected key {key:?} in {v}"
                );
                check_keys(val, false);
            }
        }
    }
}
