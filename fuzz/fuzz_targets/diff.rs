//! The diff engine (`DiffState::full` / `diff`) on sequences of trees built from fuzz input.
//!
//! Trees use a small fixed set of statics (several per arity, one pair with equal parts behind
//! different pointers), a few fixed texts plus arbitrary ones (escaped and raw), nested nodes and
//! comprehensions. Each step is a fresh tree, the same tree again, or an edit of the previous
//! one. After the join and every diff:
//!
//! * the output, wrapped in braces, is valid JSON holding only `s`, `k`, `kc` and indexes;
//! * `diff` returns true exactly when it wrote something, and nothing for an unchanged tree;
//! * merging the output the way the official client does (a model of `Rendered.mergeDiff` and
//!   `toOutputBuffer`, after `crates/livefire/tests/diff_merge.rs`) renders exactly
//!   `Rendered::to_html()`, and no statics are resent where the client already holds them.

#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use livefire::diff::DiffState;
use livefire::rendered::{Comprehension, Dynamic, Rendered, Statics};
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Statics and texts

macro_rules! statics {
    ($($name:ident = [$($part:expr),* $(,)?];)*) => {
        $(static $name: Statics = Statics::new(&[$($part),*], Statics::fingerprint_of(&[$($part),*]));)*
        static POOL: &[&Statics] = &[$(&$name),*];
    };
}

statics! {
    HR = ["<hr>"];
    BR = ["<br/>\n"];
    P = ["<p>", "</p>"];
    B1 = ["<b>", "</b>"];
    B2 = ["<b>", "</b>"];
    A = ["<a href=\"", "\">\\x</a>\t"];
    LI = ["<li>", " / ", "</li>"];
    TR = ["<tr>", "", "</tr>"];
    DIV = ["<div class=\"", "\">", "", "</div>"];
    U = ["", "é✓", "", ""];
}

const TEXTS: &[&str] = &[
    "",
    "a",
    "b",
    "&lt;x&gt;",
    "\"q\"",
    "\\",
    "\n\t",
    "é✓",
    "\u{1}\u{1f}",
];

fn holes(s: &Statics) -> usize {
    s.parts().len() - 1
}

// ---------------------------------------------------------------------------------------------
// Tree generation and edits, driven by the fuzz input

const MAX_DEPTH: u32 = 4;
const MAX_ENTRIES: usize = 6;

struct Gen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
    /// Dynamics left to generate in this run (keeps trees small).
    budget: usize,
}

impl Gen<'_, '_> {
    fn statics(&mut self) -> Result<&'static Statics> {
        Ok(*self.u.choose(POOL)?)
    }

    fn statics_like(&mut self, like: &Statics) -> Result<&'static Statics> {
        let same: Vec<&'static Statics> = POOL
            .iter()
            .copied()
            .filter(|s| holes(s) == holes(like))
            .collect();
        Ok(*self.u.choose(&same)?)
    }

    fn text(&mut self) -> Result<Dynamic> {
        Ok(match self.u.int_in_range(0..=5u8)? {
            0 => Dynamic::text(self.u.arbitrary::<&str>()?),
            1 => Dynamic::Html(self.u.arbitrary::<String>()?.into()),
            _ => Dynamic::Html((*self.u.choose(TEXTS)?).into()),
        })
    }

    fn dyns(&mut self, n: usize, depth: u32) -> Result<Vec<Dynamic>> {
        (0..n).map(|_| self.dynamic(depth)).collect()
    }

    fn dynamic(&mut self, depth: u32) -> Result<Dynamic> {
        if self.budget == 0 || depth == 0 || self.u.is_empty() {
            return Ok(Dynamic::empty());
        }
        self.budget -= 1;
        Ok(match self.u.int_in_range(0..=3u8)? {
            0 | 1 => self.text()?,
            2 => Dynamic::Nested(self.node(depth - 1)?),
            _ => Dynamic::Comprehension(self.comp(depth - 1)?),
        })
    }

    fn node(&mut self, depth: u32) -> Result<Rendered> {
        let s = self.statics()?;
        Ok(Rendered::new(s, self.dyns(holes(s), depth)?))
    }

    fn comp(&mut self, depth: u32) -> Result<Comprehension> {
        let s = self.statics()?;
        let n = self.u.int_in_range(0..=MAX_ENTRIES)?;
        let entries = (0..n)
            .map(|_| self.dyns(holes(s), depth))
            .collect::<Result<_>>()?;
        Ok(Comprehension::new(s, entries))
    }

    /// An edit of `r`; choice 0 (also what an exhausted input gives) keeps it as it is.
    fn edit_node(&mut self, r: &Rendered, depth: u32) -> Result<Rendered> {
        Ok(match self.u.int_in_range(0..=5u8)? {
            0 => r.clone(),
            1 => self.node(depth)?,
            2 => {
                let s = self.statics_like(r.statics())?;
                Rendered::new(s, self.edit_dyns(r.dynamics(), depth)?)
            }
            _ => Rendered::new(r.statics(), self.edit_dyns(r.dynamics(), depth)?),
        })
    }

    fn edit_dyns(&mut self, dyns: &[Dynamic], depth: u32) -> Result<Vec<Dynamic>> {
        dyns.iter().map(|d| self.edit_dynamic(d, depth)).collect()
    }

    fn edit_dynamic(&mut self, d: &Dynamic, depth: u32) -> Result<Dynamic> {
        let depth = depth.saturating_sub(1);
        Ok(match (self.u.int_in_range(0..=4u8)?, d) {
            (0, _) => d.clone(),
            (1, _) => self.text()?,
            (2, _) => self.dynamic(depth + 1)?,
            (_, Dynamic::Html(_)) => d.clone(),
            (_, Dynamic::Nested(r)) => match self.u.int_in_range(0..=3u8)? {
                // Same statics, now as a comprehension.
                0 => {
                    let entries = (0..self.u.int_in_range(0..=2usize)?)
                        .map(|_| self.dyns(holes(r.statics()), depth))
                        .collect::<Result<_>>()?;
                    Dynamic::Comprehension(Comprehension::new(r.statics(), entries))
                }
                _ => Dynamic::Nested(self.edit_node(r, depth)?),
            },
            (_, Dynamic::Comprehension(c)) => match self.u.int_in_range(0..=3u8)? {
                // Same statics, now as a node.
                0 => Dynamic::Nested(Rendered::new(
                    c.statics(),
                    self.dyns(holes(c.statics()), depth)?,
                )),
                1 => {
                    let s = self.statics_like(c.statics())?;
                    Dynamic::Comprehension(Comprehension::new(s, self.edit_entries(s, c, depth)?))
                }
                _ => Dynamic::Comprehension(Comprehension::new(
                    c.statics(),
                    self.edit_entries(c.statics(), c, depth)?,
                )),
            },
        })
    }

    fn edit_entries(
        &mut self,
        s: &'static Statics,
        c: &Comprehension,
        depth: u32,
    ) -> Result<Vec<Vec<Dynamic>>> {
        let mut entries = c
            .entries()
            .iter()
            .map(|e| self.edit_dyns(e, depth))
            .collect::<Result<Vec<_>>>()?;
        match self.u.int_in_range(0..=6u8)? {
            1 if entries.len() < MAX_ENTRIES => entries.push(self.dyns(holes(s), depth)?),
            2 => {
                entries.pop();
            }
            3 if !entries.is_empty() => {
                entries.remove(0);
            }
            4 => entries.clear(),
            5 => entries.reverse(),
            6 if !entries.is_empty() => {
                let i = self.u.choose_index(entries.len())?;
                let dup = entries[i].clone();
                entries.insert(i, dup);
            }
            _ => {}
        }
        Ok(entries)
    }
}

// ---------------------------------------------------------------------------------------------
// Client model (phoenix_live_view 1.2 rendered.js); panics where the real client would throw
// or render garbage.

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn has_keyed(v: &Value) -> bool {
    v.get("k").is_some_and(truthy)
}

/// `mutableMerge(target, source)`: an object with `s` replaces the target wholesale.
fn mutable_merge(target: Value, source: Value) -> Value {
    if source.get("s").is_some() {
        assert_statics_needed(Some(&target), &source);
        return source;
    }
    let mut target = target;
    do_mutable_merge(&mut target, source);
    target
}

/// Statics are only sent where the client may hold something else.
fn assert_statics_needed(target: Option<&Value>, source: &Value) {
    if let Some(target) = target.filter(|t| t.is_object()) {
        let same = target.get("s") == source.get("s") && has_keyed(target) == has_keyed(source);
        assert!(
            !same,
            "redundant statics: client holds {target}, gets {source}"
        );
    }
}

/// `doMutableMerge(target, source)`.
fn do_mutable_merge(target: &mut Value, source: Value) {
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
fn merge_keyed(target: &mut Value, source: Value) {
    let Value::Object(mut src) = source else {
        unreachable!("has_keyed checked an object")
    };
    let Some(Value::Object(sk)) = src.remove("k") else {
        panic!("k must be an object");
    };
    assert!(
        src.is_empty(),
        "keys next to k are ignored by the client: {src:?}"
    );
    assert!(sk.get("km").is_none(), "km is never sent");
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
        let Value::Object(e) = entry else {
            panic!("entries are objects: {entry}");
        };
        if !tk.get(&i).is_some_and(truthy) {
            tk.insert(i.clone(), Value::Object(Map::new()));
        } else {
            assert!(!e.is_empty(), "redundant empty entry {i}");
        }
        if !e.is_empty() {
            do_mutable_merge(tk.get_mut(&i).expect("inserted"), Value::Object(e));
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

/// `toOutputBuffer` / `comprehensionToBuffer`.
fn render(v: &Value, out: &mut String) {
    let obj = v.as_object().expect("rendered node is an object");
    let statics: Vec<&str> = obj
        .get("s")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("client throws: node without statics: {v}"))
        .iter()
        .map(|s| s.as_str().expect("statics are strings"))
        .collect();
    assert!(!statics.is_empty(), "empty statics");
    if has_keyed(v) {
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
fn dynamics_to_buffer(node: &Map<String, Value>, statics: &[&str], out: &mut String) {
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

/// Parses diff members as the client receives them, checking the key set.
fn parse_members(members: &str) -> Value {
    let json = format!("{{{members}}}");
    let v: Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("invalid JSON ({e}): {json}"));
    check_keys(&v, false);
    v
}

/// Only `s`, `k`, `kc` and indexes are ever sent.
fn check_keys(v: &Value, in_entry: bool) {
    let Value::Object(m) = v else { return };
    for (key, val) in m {
        match key.as_str() {
            "s" if !in_entry => assert!(
                val.as_array()
                    .is_some_and(|a| a.iter().all(Value::is_string)),
                "s must be an array of strings: {val}"
            ),
            "k" if !in_entry => {
                for (ek, ev) in val.as_object().expect("k is an object") {
                    if ek == "kc" {
                        assert!(ev.is_u64(), "kc must be a count: {ev}");
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

fn client_html(rendered: &Value) -> String {
    let mut out = String::new();
    render(rendered, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// The target

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let mut g = Gen { u, budget: 200 };
    let mut current = g.node(MAX_DEPTH)?;

    let mut server = DiffState::new();
    let mut out = String::new();
    server.full(&current, &mut out);
    let mut client = mutable_merge(Value::Object(Map::new()), parse_members(&out));
    assert_eq!(client_html(&client), current.to_html(), "after join: {out}");

    for _ in 0..12 {
        if g.u.is_empty() {
            break;
        }
        g.budget = 100;
        let next = match g.u.int_in_range(0..=3u8)? {
            0 => g.node(MAX_DEPTH)?,
            1 => current.clone(),
            _ => g.edit_node(&current, MAX_DEPTH)?,
        };
        out.clear();
        let changed = server.diff(&next, &mut out);
        assert_eq!(changed, !out.is_empty(), "return value vs output {out:?}");
        if changed {
            let old = std::mem::take(&mut client);
            client = mutable_merge(old, parse_members(&out));
        }
        assert_eq!(client_html(&client), next.to_html(), "after diff {out}");

        out.clear();
        assert!(
            !server.diff(&next, &mut out),
            "second diff not empty: {out}"
        );

        current = next;
    }

    // A rejoin from scratch renders the same page.
    out.clear();
    DiffState::new().full(&current, &mut out);
    let fresh = mutable_merge(Value::Object(Map::new()), parse_members(&out));
    assert_eq!(client_html(&fresh), current.to_html());
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
