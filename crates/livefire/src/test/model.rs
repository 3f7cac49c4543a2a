//! A model of the official client (phoenix_live_view 1.2.12) on `serde_json::Value`:
//!
//! * `rendered.js`: `mergeDiff` (the `c` map with `cachedFindComponent` and `cloneMerge`,
//!   statics shared between components with `"s": cid`), `mutableMerge`, `mergeKeyed` (with
//!   moves: `"i": j` and `"i": [j, {diff}]` read from a copy of the old entries taken when
//!   `"km"` is set), `toOutputBuffer` / `comprehensionToBuffer` (a stream's entries are rendered
//!   once, then dropped from the tree, which keeps `k: {kc: 0}`) / `recursiveCIDToString`
//!   (integer dynamics are components), and `pruneCIDs`;
//! * `dom_patch.ts`, for streams only ([`StreamDom`]): the children of `phx-update="stream"`
//!   containers after the stream operations of a patch (resets by ref, deletes, inserts at a
//!   position, `limit` pruning, `update_only`), including how morphdom matches children by id.
//!
//! Wherever the real client would throw or render garbage (`undefined`), the model panics. It
//! also rejects redundant output (statics the client already holds, unchanged values, empty
//! objects, moves to the same place, `km` without moves) where the server is expected to be
//! minimal; see [`Rules`] for where it cannot tell.
//!
//! Not modelled: the root-tag attributes the client adds to components (`data-phx-component`,
//! magic ids, `data-phx-skip`): the model always renders every component's full content,
//! which is what the page shows once morphdom is done. Shared templates (`p`) are refused
//! (livefire never sends them).
//!
//! Shared by the property tests (`tests/diff_merge.rs`, `tests/parity_streams.rs`,
//! `tests/parity_components.rs`), the fuzz target `fuzz/fuzz_targets/diff.rs` and
//! [`LiveTest`](super::LiveTest), which merges every reply and push with it (leniently: see
//! [`Client::lenient`]) and renders component roots tagged as the client tags them
//! ([`Client::render_tagged`]).
//!
//! ```
//! use livefire::test::model::Client;
//!
//! let mut client = Client::join(r#""0":"1","s":["<p>","</p>"]"#);
//! client.merge(r#""0":"2""#);
//! assert_eq!(client.html(), "<p>2</p>");
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Strictness

/// What the model may assume about the server's output beyond what the client needs.
///
/// ```
/// use livefire::test::model::{Client, Rules};
///
/// let client = Client::new(Rules { replaced_entries: true });
/// assert!(client.rules.replaced_entries);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules {
    /// Comprehension entries sent as objects at an index the client already holds may be
    /// complete new entries written over an unrelated old one (a keyed comprehension sends a
    /// new key in full, wherever it lands), rather than diffs of the entry at that index: no
    /// minimality checks inside such entries. Keyed and unkeyed comprehensions look the same
    /// on the wire, so this is a property of the whole test.
    pub replaced_entries: bool,
}

/// The merge context: whether minimality is checked here.
#[derive(Debug, Clone, Copy)]
struct Cx {
    strict: bool,
    rules: Rules,
}

impl Cx {
    fn lenient(self) -> Self {
        Self {
            strict: false,
            ..self
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Merging (rendered.js)

/// JavaScript truthiness.
///
/// ```
/// use livefire::test::model::truthy;
/// use serde_json::json;
///
/// assert!(truthy(&json!(1)) && truthy(&json!({})) && truthy(&json!("x")));
/// assert!(!truthy(&json!(0)) && !truthy(&json!("")) && !truthy(&json!(null)));
/// ```
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `source[KEYED]` is truthy.
///
/// ```
/// use livefire::test::model::has_keyed;
/// use serde_json::json;
///
/// assert!(has_keyed(&json!({"k": {"kc": 0}, "s": [""]})));
/// assert!(!has_keyed(&json!({"0": "x", "s": ["", ""]})));
/// ```
pub fn has_keyed(v: &Value) -> bool {
    v.get("k").is_some_and(truthy)
}

/// `isObject`: a non-null, non-array object.
fn is_object(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Object(_)))
}

/// `mutableMerge(target, source)`: an object with `s` replaces the target wholesale.
fn mutable_merge(target: Value, source: Value, cx: Cx) -> Value {
    if source.get("s").is_some() {
        if cx.strict {
            assert_statics_needed(Some(&target), &source, cx.rules);
        }
        return source;
    }
    let mut target = target;
    do_mutable_merge(&mut target, source, cx);
    target
}

/// Minimality: `s` is only sent where the client may hold something else. (A keyed and an
/// unkeyed comprehension look the same to the client: a switch between them resends the
/// statics, which the model cannot tell from a redundant resend when keyed ones are about.)
fn assert_statics_needed(target: Option<&Value>, source: &Value, rules: Rules) {
    if rules.replaced_entries && has_keyed(source) {
        return;
    }
    if let Some(target) = target.filter(|t| t.is_object()) {
        let same = target.get("s") == source.get("s")
            && has_keyed(target) == has_keyed(source)
            && is_stream(target) == is_stream(source);
        assert!(
            !same,
            "redundant statics: client already holds {target} and gets {source}"
        );
    }
}

/// A stream comprehension (or one whose stream operations were rendered and dropped: the
/// model marks those with `__stream`, which the client does not have).
fn is_stream(v: &Value) -> bool {
    v.get("stream").is_some() || v.get("__stream").is_some()
}

/// `doMutableMerge(target, source)`.
fn do_mutable_merge(target: &mut Value, source: Value, cx: Cx) {
    if has_keyed(&source) {
        merge_keyed(target, source, cx);
        return;
    }
    let Value::Object(src) = source else {
        panic!("doMutableMerge with a non-object source: {source}");
    };
    if cx.strict {
        assert!(!src.is_empty(), "redundant empty diff object");
    }
    let Value::Object(tgt) = target else {
        panic!("client throws: merging {src:?} into the non-object {target}")
    };
    for (key, val) in src {
        assert!(
            key.parse::<usize>().is_ok(),
            "unexpected key {key:?} in a node diff"
        );
        let recurse = val.is_object() && val.get("s").is_none() && is_object(tgt.get(&key));
        if recurse {
            let slot = tgt.get_mut(&key).expect("checked above");
            do_mutable_merge(slot, val, cx);
        } else {
            if cx.strict {
                if val.is_object() {
                    assert_statics_needed(tgt.get(&key), &val, cx.rules);
                } else {
                    assert_ne!(tgt.get(&key), Some(&val), "redundant dynamic at {key}");
                }
            }
            tgt.insert(key, val);
        }
    }
}

/// `mergeKeyed(target, source)`, with moves.
fn merge_keyed(target: &mut Value, source: Value, cx: Cx) {
    let Value::Object(mut src) = source else {
        unreachable!("has_keyed checked an object")
    };
    let Some(Value::Object(sk)) = src.remove("k") else {
        panic!("k must be an object");
    };
    let stream = src.remove("stream");
    assert!(
        src.is_empty(),
        "keys next to k are ignored by the client: {src:?}"
    );
    let Value::Object(tobj) = target else {
        panic!("client throws: merging k into the non-object {target}")
    };
    // `const clonedTarget = source[KEYED][KEYED_MOVED] && this.clone(target)`
    let km = match sk.get("km") {
        None => false,
        Some(Value::Bool(true)) => true,
        Some(other) => panic!("km is only ever true, not {other}"),
    };
    let tk = tobj
        .get_mut("k")
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("client throws: merging k into a node without k"));
    let cloned = km.then(|| tk.clone());
    let old_kc = tk.get("kc").and_then(Value::as_u64).expect("client kc");
    let new_kc = sk
        .get("kc")
        .and_then(Value::as_u64)
        .expect("kc always present");
    let mut entries = 0;
    let mut moves = 0;
    for (i, entry) in sk {
        if i == "kc" || i == "km" {
            continue;
        }
        entries += 1;
        let idx: u64 = i.parse().expect("entry keys are indexes");
        assert!(idx < new_kc, "entry {idx} beyond kc {new_kc}");
        // A move: the entry that was at `from` before this diff.
        let moved_from = |from: &Value| -> Value {
            let cloned = cloned.as_ref().unwrap_or_else(|| {
                panic!("client throws: move {i} <- {from} without km (no copy of the old entries)")
            });
            let from = from.as_u64().expect("a move names an old index");
            if cx.strict {
                assert_ne!(from, idx, "redundant move of entry {idx} to itself");
            }
            cloned
                .get(&from.to_string())
                .filter(|e| e.is_object())
                .cloned()
                .unwrap_or_else(|| panic!("move {i} <- {from}: the client holds no entry {from}"))
        };
        match entry {
            Value::Array(pair) => {
                let [from, diff] = <[Value; 2]>::try_from(pair)
                    .unwrap_or_else(|p| panic!("a move with a diff is [j, {{…}}], not {p:?}"));
                moves += 1;
                let mut moved = moved_from(&from);
                assert!(diff.is_object(), "the diff of a move is an object: {diff}");
                do_mutable_merge(&mut moved, diff, cx);
                tk.insert(i, moved);
            }
            from @ Value::Number(_) => {
                moves += 1;
                let moved = moved_from(&from);
                tk.insert(i, moved);
            }
            Value::Object(e) => {
                let exists = tk.get(&i).is_some_and(truthy);
                // A full new entry over an old one (keyed): nothing to compare with.
                let cx = if exists && cx.rules.replaced_entries {
                    cx.lenient()
                } else {
                    cx
                };
                if !exists {
                    tk.insert(i.clone(), Value::Object(Map::new()));
                } else if cx.strict {
                    assert!(!e.is_empty(), "redundant empty entry {i}");
                }
                let slot = tk.get_mut(&i).expect("inserted");
                if !e.is_empty() {
                    do_mutable_merge(slot, Value::Object(e), cx);
                }
            }
            other => panic!("an entry is an object, a number or [j, {{…}}], not {other}"),
        }
    }
    if cx.strict {
        assert!(
            !km || moves > 0,
            "km without moves makes the client copy the list for nothing"
        );
        assert!(
            entries > 0 || new_kc != old_kc || stream.is_some(),
            "redundant comprehension diff"
        );
    }
    for i in new_kc..old_kc {
        tk.remove(&i.to_string());
    }
    tk.insert("kc".to_owned(), Value::from(new_kc));
    if let Some(stream) = stream.filter(truthy) {
        tobj.insert("stream".to_owned(), stream);
    }
}

/// `cloneMerge(target, source)` of a component tree: the merged copy (the target is
/// untouched). A component root may carry `r`.
fn clone_merge(target: &Value, mut source: Map<String, Value>, cx: Cx) -> Value {
    let mut merged = target.clone();
    if let Some(r) = source.remove("r") {
        merged
            .as_object_mut()
            .expect("component trees are objects")
            .insert("r".to_owned(), r);
    }
    if !source.is_empty() {
        do_mutable_merge(&mut merged, Value::Object(source), cx);
    }
    merged
}

/// `cachedFindComponent(cid, cdiff, oldc, newc, cache)`.
fn find_component(
    cid: &str,
    newc: &Map<String, Value>,
    oldc: &Map<String, Value>,
    cache: &mut HashMap<String, Value>,
    visiting: &mut HashSet<String>,
    cx: Cx,
) -> Value {
    if let Some(done) = cache.get(cid) {
        return done.clone();
    }
    let cdiff = newc
        .get(cid)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("client throws: component {cid} is not in this diff's c"));
    assert!(
        visiting.insert(cid.to_owned()),
        "client recurses forever: components share statics in a cycle through {cid}"
    );
    let ndiff = match cdiff.get("s") {
        Some(Value::Number(n)) => {
            let scid = n.as_i64().expect("an integer cid");
            let tdiff = if scid > 0 {
                find_component(&scid.to_string(), newc, oldc, cache, visiting, cx)
            } else {
                oldc.get(&(-scid).to_string()).cloned().unwrap_or_else(|| {
                    panic!(
                        "client throws: {cid} shares the statics of {}, which it does not hold",
                        -scid
                    )
                })
            };
            let stat = tdiff
                .get("s")
                .cloned()
                .unwrap_or_else(|| panic!("client: component {scid} has no statics to share"));
            let mut source = cdiff.clone();
            source.remove("s");
            // Another component's values are overwritten: nothing to compare with.
            let mut merged = clone_merge(&tdiff, source, cx.lenient());
            merged["s"] = stat;
            merged
        }
        Some(Value::String(s)) => panic!("statics shared by a string cid {s:?}"),
        Some(_) => Value::Object(cdiff.clone()),
        None => match oldc.get(cid) {
            None => panic!(
                "client stores a tree without statics: a diff for component {cid}, which it does not hold: {cdiff:?}"
            ),
            Some(old) => {
                if cx.strict {
                    assert!(
                        cdiff.get("r").is_none(),
                        "r is only sent with a full component render"
                    );
                    assert!(!cdiff.is_empty(), "redundant empty component diff {cid}");
                }
                clone_merge(old, cdiff.clone(), cx)
            }
        },
    };
    visiting.remove(cid);
    cache.insert(cid.to_owned(), ndiff.clone());
    ndiff
}

/// The components of `c` after `mergeDiff`, each checked.
fn merge_components(oldc: &mut Map<String, Value>, newc: Map<String, Value>, cx: Cx) {
    let mut cache = HashMap::new();
    let mut visiting = HashSet::new();
    let resolved: Vec<(String, Value)> = newc
        .keys()
        .map(|cid| {
            let tree = find_component(cid, &newc, oldc, &mut cache, &mut visiting, cx);
            (cid.clone(), tree)
        })
        .collect();
    for (cid, tree) in resolved {
        assert!(
            tree.get("s").is_some_and(Value::is_array),
            "component {cid} has no statics after the merge: {tree}"
        );
        assert!(
            tree.get("r").is_some_and(truthy),
            "component {cid} without r: the client cannot tag its root element"
        );
        oldc.insert(cid, tree);
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering (toOutputBuffer)

/// What one render of the view gives: its HTML and the streams it rendered (in order), whose
/// operations the DOM patch applies.
#[derive(Debug, Default)]
pub struct Output {
    /// The rendered HTML.
    pub html: String,
    /// The stream operations rendered (`[ref, inserts, deletes, reset?]`), in order.
    pub streams: Vec<Value>,
}

struct Render<'a> {
    components: &'a mut Map<String, Value>,
    /// Components being rendered (a cycle would never end in the client).
    stack: Vec<String>,
    out: Output,
    /// The view id to tag component roots with (`data-phx-component`, `data-phx-view`).
    tag: Option<&'a str>,
}

impl Render<'_> {
    /// `toOutputBuffer`.
    fn node(&mut self, v: &mut Value) {
        if has_keyed(v) {
            self.comprehension(v);
            return;
        }
        let statics = statics_of(v);
        let obj = v.as_object_mut().expect("statics_of checked an object");
        self.dynamics(obj, &statics);
    }

    /// `dynamicsToBuffer` + `dynamicToBuffer`.
    fn dynamics(&mut self, node: &mut Map<String, Value>, statics: &[String]) {
        for (i, s) in statics[..statics.len() - 1].iter().enumerate() {
            self.out.html.push_str(s);
            match node.get_mut(&i.to_string()) {
                Some(Value::String(text)) => self.out.html.push_str(text),
                Some(Value::Number(cid)) => {
                    let cid = cid.as_u64().filter(|c| *c > 0).unwrap_or_else(|| {
                        panic!("client renders the component {cid}, which is no cid")
                    });
                    self.component(cid);
                }
                Some(d @ Value::Object(_)) => self.node(d),
                other => panic!("client renders {other:?} at dynamic {i}"),
            }
        }
        self.out.html.push_str(&statics[statics.len() - 1]);
    }

    /// `comprehensionToBuffer`: a stream's entries are rendered, then dropped.
    fn comprehension(&mut self, v: &mut Value) {
        let statics = statics_of(v);
        let obj = v.as_object_mut().expect("statics_of checked an object");
        let k = obj
            .get_mut("k")
            .and_then(Value::as_object_mut)
            .expect("k object");
        let kc = k.get("kc").and_then(Value::as_u64).expect("kc");
        for i in 0..kc {
            let entry = k
                .get_mut(&i.to_string())
                .and_then(Value::as_object_mut)
                .unwrap_or_else(|| panic!("client throws: missing entry {i} of {kc}"));
            self.dynamics(entry, &statics);
        }
        if let Some(stream) = obj.get("stream") {
            let parts = stream.as_array().expect("stream is an array");
            let deletes = parts
                .get(2)
                .and_then(Value::as_array)
                .expect("stream deletes");
            let reset = parts.get(3).is_some_and(truthy);
            if kc > 0 || !deletes.is_empty() || reset {
                let stream = obj.remove("stream").expect("checked");
                obj.insert("k".to_owned(), serde_json::json!({"kc": 0}));
                obj.insert("__stream".to_owned(), Value::Bool(true));
                self.out.streams.push(stream);
            }
        }
    }

    /// `recursiveCIDToString`.
    fn component(&mut self, cid: u64) {
        let key = cid.to_string();
        assert!(
            !self.stack.contains(&key),
            "client recurses forever: component {cid} renders itself ({:?})",
            self.stack
        );
        let mut tree = self
            .components
            .remove(&key)
            .unwrap_or_else(|| panic!("client throws: no component for CID {cid}"));
        self.stack.push(key.clone());
        let start = self.out.html.len();
        self.node(&mut tree);
        if tree.get("r").is_some_and(truthy) {
            assert_one_root(&self.out.html[start..], cid);
            if let Some(view_id) = self.tag {
                tag_root(&mut self.out.html, start, cid, view_id);
            }
        }
        self.stack.pop();
        self.components.insert(key, tree);
    }
}

/// The statics of a node, which the client needs to render it.
fn statics_of(v: &Value) -> Vec<String> {
    let statics = v
        .get("s")
        .unwrap_or_else(|| panic!("client throws: node without statics: {v}"));
    let statics: Vec<String> = statics
        .as_array()
        .unwrap_or_else(|| panic!("statics are an array here (no templates): {statics}"))
        .iter()
        .map(|s| s.as_str().expect("statics are strings").to_owned())
        .collect();
    assert!(!statics.is_empty(), "empty statics");
    statics
}

/// `modifyRoot` finds the component's root tag, or throws `malformed html`.
fn assert_one_root(html: &str, cid: u64) {
    let mut rest = html.trim_start();
    while let Some(after) = rest.strip_prefix("<!--") {
        let end = after.find("-->").expect("closed comment");
        rest = after[end + 3..].trim_start();
    }
    let tag_start = rest.strip_prefix('<').is_some_and(|r| {
        r.chars()
            .next()
            .is_some_and(|c| !c.is_whitespace() && c != '/' && c != '>')
    });
    assert!(
        tag_start,
        "client throws: malformed html for component {cid}: {html:?}"
    );
}

/// `modifyRoot(html, {data-phx-component: cid, data-phx-view: view})`: the attributes go right
/// after the root tag's name (the HTML already passed [`assert_one_root`]).
fn tag_root(html: &mut String, start: usize, cid: u64, view_id: &str) {
    let mut at = start;
    loop {
        let rest = &html[at..];
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        match trimmed.strip_prefix("<!--") {
            Some(after) => at += 4 + after.find("-->").expect("closed comment") + 3,
            None => break,
        }
    }
    let name_len = html[at + 1..]
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .unwrap_or(html.len() - at - 1);
    let attrs = format!(
        " data-phx-component=\"{cid}\" data-phx-view=\"{}\"",
        crate::escape::escape_html(view_id)
    );
    html.insert_str(at + 1 + name_len, &attrs);
}

// ---------------------------------------------------------------------------------------------
// The client of one view

/// The client side of one view: the merged tree (`rendered`, with its `c` map).
///
/// Every method panics where the real client would throw or render garbage; a strict client
/// (the default) also panics on redundant output.
#[derive(Debug, Clone)]
pub struct Client {
    /// The merged tree, as the client's `Rendered` holds it.
    pub rendered: Value,
    /// What the model may assume about the server's output.
    pub rules: Rules,
    /// Whether redundant output (statics the client holds, unchanged values) is refused.
    strict: bool,
}

impl Client {
    /// A client that holds nothing yet.
    ///
    /// ```
    /// use livefire::test::model::{Client, Rules};
    ///
    /// let mut client = Client::new(Rules::default());
    /// client.merge(r#""s":["<hr>"]"#);
    /// assert_eq!(client.html(), "<hr>");
    /// ```
    pub fn new(rules: Rules) -> Self {
        Self {
            rendered: serde_json::json!({"c": {}}),
            rules,
            strict: true,
        }
    }

    /// A client that checks only what the real client needs: redundant output (statics it
    /// already holds, unchanged values, empty diffs) is merged without complaint. This is what
    /// [`LiveTest`](super::LiveTest) uses, so that an application's tests do not fail on the
    /// server's efficiency.
    ///
    /// ```
    /// use livefire::test::model::{Client, Rules};
    ///
    /// let mut client = Client::new(Rules::default()).lenient();
    /// client.merge(r#""0":"a","s":["<p>","</p>"]"#);
    /// client.merge(r#""0":"a""#); // unchanged: a strict client panics
    /// assert_eq!(client.html(), "<p>a</p>");
    /// ```
    #[must_use]
    pub fn lenient(mut self) -> Self {
        self.strict = false;
        self
    }

    /// `new Rendered(viewId, rendered)` from the members of a join's `rendered`, with the
    /// strictest rules.
    ///
    /// ```
    /// use livefire::test::model::Client;
    ///
    /// let mut client = Client::join(r#""0":"x","s":["<b>","</b>"]"#);
    /// assert_eq!(client.html(), "<b>x</b>");
    /// ```
    pub fn join(members: &str) -> Self {
        Self::join_with(members, Rules::default())
    }

    /// [`join`](Self::join) with other rules.
    ///
    /// ```
    /// use livefire::test::model::{Client, Rules};
    ///
    /// let mut client = Client::join_with(r#""s":["<hr>"]"#, Rules { replaced_entries: true });
    /// assert_eq!(client.html(), "<hr>");
    /// ```
    pub fn join_with(members: &str, rules: Rules) -> Self {
        let mut client = Self::new(rules);
        client.merge_value(parse_members(members));
        client
    }

    /// `mergeDiff` of a diff given as JSON members (no braces).
    ///
    /// ```
    /// use livefire::test::model::Client;
    ///
    /// let mut client = Client::join(r#""0":"1","1":"a","s":["<p>","","</p>"]"#);
    /// client.merge(r#""1":"b""#);
    /// assert_eq!(client.html(), "<p>1b</p>");
    /// ```
    pub fn merge(&mut self, members: &str) {
        self.merge_value(parse_members(members));
    }

    /// `Rendered.extract` (drops `t`, `e` and the reply `r`), then `mergeDiff`.
    ///
    /// ```
    /// use livefire::test::model::Client;
    /// use serde_json::json;
    ///
    /// let mut client = Client::join(r#""0":"1","s":["<p>","</p>"]"#);
    /// client.merge_value(json!({"0": "2", "t": "title", "e": []}));
    /// assert_eq!(client.html(), "<p>2</p>");
    /// ```
    pub fn merge_value(&mut self, diff: Value) {
        let Value::Object(mut diff) = diff else {
            panic!("a diff is an object: {diff}");
        };
        for key in ["t", "e", "r"] {
            diff.remove(key);
        }
        let diff = Value::Object(diff);
        check_keys(&diff, Place::Root);
        let Value::Object(mut diff) = diff else {
            unreachable!()
        };
        let cx = Cx {
            strict: self.strict,
            rules: self.rules,
        };
        let newc = diff.remove("c").map(|c| match c {
            Value::Object(c) if !c.is_empty() => c,
            other => panic!("c is a non-empty object: {other}"),
        });
        assert!(
            !self.strict || newc.is_some() || !diff.is_empty(),
            "redundant empty diff"
        );
        let old = std::mem::take(&mut self.rendered);
        // The `c` map was removed from the diff first: a root with new statics replaces the
        // tree, and with it every component the client held.
        self.rendered = if diff.is_empty() {
            old
        } else {
            mutable_merge(old, Value::Object(diff), cx)
        };
        if !is_object(self.rendered.get("c")) {
            self.rendered["c"] = Value::Object(Map::new());
        }
        if let Some(newc) = newc {
            let Value::Object(oldc) = &mut self.rendered["c"] else {
                unreachable!()
            };
            merge_components(oldc, newc, cx);
        }
    }

    /// `pruneCIDs` (after the reply to `cids_destroyed`).
    ///
    /// ```
    /// use livefire::test::model::Client;
    ///
    /// let mut client = Client::join(r#""0":1,"s":["",""],"c":{"1":{"s":["<i>x</i>"],"r":1}}"#);
    /// client.merge(r#""0":"gone""#);
    /// client.prune(&[1]);
    /// assert!(client.cids_held().is_empty());
    /// ```
    pub fn prune(&mut self, cids: &[u64]) {
        if let Some(c) = self.rendered.get_mut("c").and_then(Value::as_object_mut) {
            for cid in cids {
                c.remove(&cid.to_string());
            }
        }
    }

    /// `toString()`: the view's HTML and the streams rendered (their entries are then dropped).
    ///
    /// ```
    /// use livefire::test::model::Client;
    ///
    /// let mut client = Client::join(r#""0":{"k":{"0":{"0":"a"},"kc":1},"s":["<i>","</i>"],"stream":["s",[["i-a",-1,null,false]],[]]},"s":["<ul id=\"s\" phx-update=\"stream\">","</ul>"]"#);
    /// let out = client.render();
    /// assert_eq!(out.html, r#"<ul id="s" phx-update="stream"><i>a</i></ul>"#);
    /// assert_eq!(out.streams.len(), 1);
    /// assert_eq!(client.html(), r#"<ul id="s" phx-update="stream"></ul>"#, "rendered once");
    /// ```
    pub fn render(&mut self) -> Output {
        self.render_with(None)
    }

    /// [`render`](Self::render), with every component's root tag carrying
    /// `data-phx-component="<cid>"` and `data-phx-view="<view_id>"`, as the client's
    /// `recursiveCIDToString` writes them into the page.
    ///
    /// ```
    /// use livefire::test::model::Client;
    ///
    /// let mut client = Client::join(r#""0":1,"s":["<div>","</div>"],"c":{"1":{"0":"x","s":["<p class=\"c\">","</p>"],"r":1}}"#);
    /// assert_eq!(
    ///     client.render_tagged("phx-v").html,
    ///     r#"<div><p data-phx-component="1" data-phx-view="phx-v" class="c">x</p></div>"#
    /// );
    /// ```
    pub fn render_tagged(&mut self, view_id: &str) -> Output {
        self.render_with(Some(view_id))
    }

    fn render_with(&mut self, tag: Option<&str>) -> Output {
        let Value::Object(root) = &mut self.rendered else {
            panic!("the view's tree is an object");
        };
        let mut components = match root.remove("c") {
            Some(Value::Object(c)) => c,
            _ => Map::new(),
        };
        let mut render = Render {
            components: &mut components,
            stack: Vec::new(),
            out: Output::default(),
            tag,
        };
        render.node(&mut self.rendered);
        let out = render.out;
        self.rendered["c"] = Value::Object(components);
        out
    }

    /// The view's HTML (streams rendered and dropped as by [`render`](Self::render)).
    ///
    /// ```
    /// use livefire::test::model::Client;
    ///
    /// assert_eq!(Client::join(r#""s":["<br>"]"#).html(), "<br>");
    /// ```
    pub fn html(&mut self) -> String {
        self.render().html
    }

    /// The cids on the page: those reachable from the view's tree.
    ///
    /// ```
    /// use livefire::test::model::Client;
    ///
    /// let client = Client::join(r#""0":2,"s":["",""],"c":{"2":{"s":["<i></i>"],"r":1}}"#);
    /// assert_eq!(client.cids_on_page().into_iter().collect::<Vec<_>>(), [2]);
    /// ```
    pub fn cids_on_page(&self) -> BTreeSet<u64> {
        let mut found = BTreeSet::new();
        let empty = Map::new();
        let components = self
            .rendered
            .get("c")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        collect_cids(&self.rendered, components, &mut found);
        found
    }

    /// The cids the client holds a tree for.
    ///
    /// ```
    /// use livefire::test::model::Client;
    ///
    /// let client = Client::join(r#""0":2,"s":["",""],"c":{"2":{"s":["<i></i>"],"r":1}}"#);
    /// assert_eq!(client.cids_held().into_iter().collect::<Vec<_>>(), [2]);
    /// ```
    pub fn cids_held(&self) -> BTreeSet<u64> {
        self.rendered
            .get("c")
            .and_then(Value::as_object)
            .map(|c| c.keys().map(|k| k.parse().expect("cid keys")).collect())
            .unwrap_or_default()
    }
}

fn collect_cids(node: &Value, components: &Map<String, Value>, found: &mut BTreeSet<u64>) {
    let Value::Object(obj) = node else { return };
    let visit = |dynamics: &Map<String, Value>, found: &mut BTreeSet<u64>| {
        for (key, val) in dynamics {
            if key.parse::<usize>().is_err() {
                continue;
            }
            match val {
                Value::Number(n) => {
                    let cid = n.as_u64().expect("cid");
                    if found.insert(cid)
                        && let Some(tree) = components.get(&cid.to_string())
                    {
                        collect_cids(tree, components, found);
                    }
                }
                Value::Object(_) => collect_cids(val, components, found),
                _ => {}
            }
        }
    };
    if let Some(Value::Object(k)) = obj.get("k") {
        for (key, entry) in k {
            if key.parse::<usize>().is_ok()
                && let Value::Object(entry) = entry
            {
                visit(entry, found);
            }
        }
    } else {
        visit(obj, found);
    }
}

// ---------------------------------------------------------------------------------------------
// Wire checks

/// Parses the members of a `rendered`/`diff` object (no braces) and checks its keys.
///
/// ```
/// use livefire::test::model::parse_members;
///
/// assert_eq!(parse_members(r#""0":"a","s":["<p>","</p>"]"#)["0"], "a");
/// ```
pub fn parse_members(members: &str) -> Value {
    let json = format!("{{{members}}}");
    let v: Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("invalid JSON ({e}): {json}"));
    check_keys(&v, Place::Root);
    v
}

/// Where an object sits in a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The view's tree (may hold `c`).
    Root,
    /// A node or comprehension.
    Node,
    /// A comprehension entry (no statics of its own).
    Entry,
    /// A component's tree in `c` (may carry `r` and an integer `s`).
    Component,
}

/// Only `s`, `k` (with `kc`, `km`, entries), `stream`, `c`, `r` on component roots and
/// indexes are ever sent (no `p`, no `d`, no `r` elsewhere).
///
/// ```
/// use livefire::test::model::{Place, check_keys};
/// use serde_json::json;
///
/// check_keys(&json!({"0": "a", "s": ["<p>", "</p>"]}), Place::Root);
/// let bad = std::panic::catch_unwind(|| check_keys(&json!({"p": {}}), Place::Root));
/// assert!(bad.is_err());
/// ```
pub fn check_keys(v: &Value, place: Place) {
    let Value::Object(m) = v else {
        panic!("an object expected at {place:?}: {v}")
    };
    for (key, val) in m {
        match key.as_str() {
            "s" if place != Place::Entry => match val {
                Value::Array(a) => assert!(a.iter().all(Value::is_string), "statics {val}"),
                Value::Number(n) if place == Place::Component => {
                    assert!(n.as_u64().is_some_and(|c| c > 0), "shared cid {n}");
                }
                other => panic!("bad statics {other} at {place:?}"),
            },
            "r" if place == Place::Component => assert_eq!(val, &Value::from(1), "r is 1"),
            "c" if place == Place::Root => {
                let c = val.as_object().expect("c is an object");
                for (cid, tree) in c {
                    assert!(
                        cid.parse::<u32>().is_ok_and(|c| c > 0),
                        "bad cid key {cid:?}"
                    );
                    check_keys(tree, Place::Component);
                }
            }
            "k" if place != Place::Entry => {
                let k = val.as_object().expect("k is an object");
                assert!(k.contains_key("kc"), "k without kc: {val}");
                for (ek, ev) in k {
                    match ek.as_str() {
                        "kc" => assert!(ev.is_u64(), "kc {ev}"),
                        "km" => assert_eq!(ev, &Value::Bool(true), "km"),
                        _ => {
                            assert!(ek.parse::<usize>().is_ok(), "bad entry key {ek}");
                            match ev {
                                Value::Object(_) => check_keys(ev, Place::Entry),
                                Value::Number(n) => assert!(n.is_u64(), "move {n}"),
                                Value::Array(pair) => {
                                    assert!(
                                        pair.len() == 2 && pair[0].is_u64(),
                                        "a move with a diff is [j, {{…}}]: {ev}"
                                    );
                                    check_keys(&pair[1], Place::Entry);
                                }
                                other => panic!("bad entry {other}"),
                            }
                        }
                    }
                }
            }
            "stream" if place != Place::Entry => {
                assert!(m.contains_key("k"), "stream without k");
                check_stream(val);
            }
            _ => {
                assert!(
                    key.parse::<usize>().is_ok(),
                    "unexpected key {key:?} at {place:?} in {v}"
                );
                match val {
                    Value::String(_) => {}
                    Value::Number(n) => {
                        assert!(n.as_u64().is_some_and(|c| c > 0), "a cid dynamic is > 0");
                    }
                    Value::Object(_) => check_keys(val, Place::Node),
                    other => panic!("bad dynamic {other} at {key}"),
                }
            }
        }
    }
}

/// `[ref, [[dom_id, at, limit, update_only]…], [deleted dom ids…]]`, plus `true` for a reset
/// (a fourth element, even `false`, resets: `reset !== undefined`).
fn check_stream(val: &Value) {
    let parts = val.as_array().expect("stream is an array");
    assert!(
        parts.len() == 3 || (parts.len() == 4 && parts[3] == Value::Bool(true)),
        "stream is [ref, inserts, deletes] or [ref, inserts, deletes, true]: {val}"
    );
    assert!(parts[0].is_string(), "stream ref");
    for insert in parts[1].as_array().expect("stream inserts") {
        let i = insert.as_array().expect("an insert is an array");
        assert!(
            i.len() == 4
                && i[0].is_string()
                && i[1].is_i64()
                && (i[2].is_null() || i[2].is_i64())
                && i[3].is_boolean(),
            "an insert is [dom_id, at, limit, update_only]: {insert}"
        );
    }
    assert!(
        parts[2]
            .as_array()
            .expect("stream deletes")
            .iter()
            .all(Value::is_string),
        "deleted ids are strings"
    );
}

// ---------------------------------------------------------------------------------------------
// Streams in the DOM (dom_patch.ts)

/// One child element of a stream container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// The element's id.
    pub id: String,
    /// The element's content (as rendered; morphdom updates it in place).
    pub html: String,
    /// `data-phx-stream-ref`, set when a stream inserted it.
    pub stream_ref: Option<String>,
}

/// The `phx-update="stream"` containers of a page, by container id, with their children.
#[derive(Debug, Clone, Default)]
pub struct StreamDom {
    /// The children of each container, by container id.
    pub containers: BTreeMap<String, Vec<Child>>,
}

#[derive(Debug, Clone)]
struct Insert {
    stream_ref: String,
    at: i64,
    limit: Option<i64>,
    reset: bool,
    update_only: bool,
}

/// The state of one `DOMPatch`.
struct Patch {
    inserts: HashMap<String, Insert>,
    /// `streamComponentRestore`: removed elements that this patch inserts again.
    restore: HashMap<String, Child>,
    /// Elements morphdom indexed at the start but that were removed meanwhile (limit
    /// pruning): morphdom still finds them by id and morphs them, detached.
    detached: HashMap<String, Child>,
}

impl StreamDom {
    /// The ids of one container's children, in order.
    ///
    /// ```
    /// use livefire::test::model::StreamDom;
    /// use serde_json::json;
    ///
    /// let mut dom = StreamDom::default();
    /// let rendered = [("list".to_owned(), vec![("i-1".to_owned(), "<li id=\"i-1\">1</li>".to_owned())])];
    /// dom.patch(&rendered, &[json!(["s", [["i-1", -1, null, false]], []])], false);
    /// assert_eq!(dom.ids("list"), ["i-1"]);
    /// // The next render has no entries: the element stays in the page.
    /// dom.patch(&[("list".to_owned(), vec![])], &[], false);
    /// assert_eq!(dom.ids("list"), ["i-1"]);
    /// ```
    pub fn ids(&self, container: &str) -> Vec<String> {
        self.containers
            .get(container)
            .map(|c| c.iter().map(|ch| ch.id.clone()).collect())
            .unwrap_or_default()
    }

    fn position(&self, id: &str) -> Option<(String, usize)> {
        self.containers.iter().find_map(|(name, children)| {
            children
                .iter()
                .position(|c| c.id == id)
                .map(|i| (name.clone(), i))
        })
    }

    /// `removeStreamChildElement`.
    fn remove_child(&mut self, patch: &mut Patch, container: &str, index: usize) {
        let child = self
            .containers
            .get_mut(container)
            .expect("container")
            .remove(index);
        if patch.inserts.contains_key(&child.id) {
            patch.restore.insert(child.id.clone(), child);
        } else {
            // Removed (and forgotten: `phx-remove` transitions are not modelled).
            patch.detached.insert(child.id.clone(), child);
        }
    }

    /// Applies one patch: `streams` are the stream operations the render collected (in
    /// order), `rendered` the children each container has in the new HTML (containers absent
    /// from it are left alone). `join` is the first patch of a joined view (the dead render's
    /// children are removed unless inserted again).
    ///
    /// ```
    /// use livefire::test::model::StreamDom;
    /// use serde_json::json;
    ///
    /// let mut dom = StreamDom::default();
    /// let li = |id: &str| (id.to_owned(), format!("<li id=\"{id}\"></li>"));
    /// dom.patch(&[("l".to_owned(), vec![li("a"), li("b")])], &[json!(["s", [["a", -1, null, false], ["b", -1, null, false]], []])], false);
    /// dom.patch(&[("l".to_owned(), vec![])], &[json!(["s", [], ["a"]])], false);
    /// assert_eq!(dom.ids("l"), ["b"]);
    /// ```
    pub fn patch(
        &mut self,
        rendered: &[(String, Vec<(String, String)>)],
        streams: &[Value],
        join: bool,
    ) {
        let mut patch = Patch {
            inserts: HashMap::new(),
            restore: HashMap::new(),
            detached: HashMap::new(),
        };
        for stream in streams {
            let parts = stream.as_array().expect("stream array");
            let stream_ref = parts[0].as_str().expect("ref").to_owned();
            let reset = parts.get(3).is_some();
            for insert in parts[1].as_array().expect("inserts") {
                let i = insert.as_array().expect("insert");
                patch.inserts.insert(
                    i[0].as_str().expect("dom id").to_owned(),
                    Insert {
                        stream_ref: stream_ref.clone(),
                        at: i[1].as_i64().expect("at"),
                        limit: i[2].as_i64(),
                        reset,
                        update_only: i[3].as_bool().expect("update_only"),
                    },
                );
            }
            if reset {
                let names: Vec<String> = self.containers.keys().cloned().collect();
                for name in names {
                    let mut i = 0;
                    while i < self.containers[&name].len() {
                        if self.containers[&name][i].stream_ref.as_deref() == Some(&stream_ref) {
                            self.remove_child(&mut patch, &name, i);
                        } else {
                            i += 1;
                        }
                    }
                }
            }
            for id in parts[2].as_array().expect("deletes") {
                let id = id.as_str().expect("deleted id");
                if let Some((name, i)) = self.position(id) {
                    self.remove_child(&mut patch, &name, i);
                }
            }
        }
        if join {
            let names: Vec<String> = self.containers.keys().cloned().collect();
            for name in names {
                while !self.containers[&name].is_empty() {
                    self.remove_child(&mut patch, &name, 0);
                }
            }
        }
        patch.detached.clear();
        // morphdom indexes the page by id before morphing.
        let mut lookup: HashSet<String> = self
            .containers
            .values()
            .flatten()
            .map(|c| c.id.clone())
            .collect();
        for (name, children) in rendered {
            self.containers.entry(name.clone()).or_default();
            for (id, html) in children {
                if lookup.remove(id) {
                    self.morph_existing(&mut patch, id, html);
                } else {
                    self.add(&mut patch, name, id, html);
                }
            }
        }
    }

    /// A child morphdom found by id: updated in place (not moved, unless its stream was reset).
    fn morph_existing(&mut self, patch: &mut Patch, id: &str, html: &str) {
        let insert = patch.inserts.get(id).cloned();
        let Some((name, i)) = self.position(id) else {
            // Pruned by a limit earlier in this patch: morphed, but stays out of the page.
            let child = patch
                .detached
                .get_mut(id)
                .or_else(|| patch.restore.get_mut(id))
                .expect("indexed elements are attached or detached");
            child.html = html.to_owned();
            return;
        };
        let child = &mut self.containers.get_mut(&name).expect("container")[i];
        child.html = html.to_owned();
        if let Some(insert) = insert {
            child.stream_ref = Some(insert.stream_ref.clone());
            if insert.reset {
                self.reorder(patch, &name, id, &insert);
            }
        }
    }

    /// A child morphdom did not find: `onBeforeNodeAdded`, `addChild`, `onNodeAdded`.
    fn add(&mut self, patch: &mut Patch, name: &str, id: &str, html: &str) {
        let insert = patch.inserts.get(id).cloned();
        if insert.as_ref().is_some_and(|i| i.update_only) && !patch.restore.contains_key(id) {
            return;
        }
        let mut child = patch.restore.remove(id).unwrap_or_else(|| Child {
            id: id.to_owned(),
            html: String::new(),
            stream_ref: None,
        });
        child.html = html.to_owned();
        let children = self.containers.get_mut(name).expect("container");
        let Some(insert) = insert else {
            children.push(child);
            return;
        };
        child.stream_ref = Some(insert.stream_ref.clone());
        match insert.at {
            0 => children.insert(0, child),
            -1 => {
                let last_is_stream = children.last().is_none_or(|c| c.stream_ref.is_some());
                if last_is_stream {
                    children.push(child);
                } else {
                    let at = children
                        .iter()
                        .position(|c| c.stream_ref.is_none())
                        .expect("a non-stream child");
                    children.insert(at, child);
                }
            }
            at if at > 0 => {
                let at = usize::try_from(at).expect("positive").min(children.len());
                children.insert(at, child);
            }
            // No branch of addChild: the element never reaches the page.
            _ => return,
        }
        self.reorder(patch, name, id, &insert);
    }

    /// `maybeReOrderStream` (for a new element, or any element of a reset stream), then
    /// `maybeLimitStream`.
    fn reorder(&mut self, patch: &mut Patch, name: &str, id: &str, insert: &Insert) {
        let children = self.containers.get_mut(name).expect("container");
        let old = children.iter().position(|c| c.id == id).expect("attached");
        if insert.at == 0 {
            let child = children.remove(old);
            children.insert(0, child);
        } else if insert.at > 0 {
            let at = usize::try_from(insert.at).expect("positive");
            if at >= children.len() - 1 {
                let child = children.remove(old);
                children.push(child);
            } else if at != old {
                let sibling = children[at].id.clone();
                let child = children.remove(old);
                let s = children
                    .iter()
                    .position(|c| c.id == sibling)
                    .expect("sibling");
                // Before the sibling if it came from further down, else after it.
                children.insert(if old > at { s } else { s + 1 }, child);
            }
        }
        if let Some(limit) = insert.limit {
            let len = self.containers[name].len();
            let remove: Vec<usize> = if limit < 0 && len as i64 > -limit {
                (0..(len as i64 + limit) as usize).collect()
            } else if limit >= 0 && len as i64 > limit {
                (limit as usize..len).collect()
            } else {
                Vec::new()
            };
            for i in remove.into_iter().rev() {
                self.remove_child(patch, name, i);
            }
        }
    }
}
