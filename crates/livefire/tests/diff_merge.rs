//! Property test of the diff engine against a model of the official client.
//!
//! The model reimplements, on `serde_json::Value`, what phoenix_live_view 1.2's `Rendered` does
//! with a join `rendered` and each `diff`: `mutableMerge` (an object with `s` replaces the cached
//! subtree, anything else merges key by key), `mergeKeyed` (entries by index, deletion of entries
//! `>= kc`) and `toOutputBuffer`/`comprehensionToBuffer` (statics interleaved with dynamics).
//! Wherever the real client would throw or render garbage (`undefined`), the model panics.
//!
//! Random sequences of view states are generated (fresh trees, unchanged repeats and random edits
//! of the previous tree), and after the full render and every diff the HTML the client would
//! render must equal `Rendered::to_html()` exactly. The model also rejects redundant output
//! (statics the client already holds, unchanged text, empty objects), and a second diff of an
//! unchanged state must be empty.
//!
//! Two flavours: plain trees (nodes and index-matched comprehensions, with the strictest
//! minimality checks), and trees that also hold keyed comprehensions (entries reordered,
//! inserted, deleted and edited: moves travel as `"i": j` / `"i": [j, {…}]` with `"km"`) and
//! streams (entries sent once with their operations, then forgotten by both sides).

use std::sync::OnceLock;

use livefire::rendered::{Comprehension, Dynamic, Rendered, Statics};
use livefire::stream::__private::{IsStream, Source};
use livefire::stream::Stream;
use livefire::testing::DiffState;
use proptest::prelude::*;

use livefire::test::model as client_model;

use client_model::{Client, Rules};

// ---------------------------------------------------------------------------------------------
// Generators

fn leak(parts: &[&str]) -> &'static Statics {
    let parts: Vec<&'static str> = parts
        .iter()
        .map(|p| &*Box::leak(p.to_string().into_boxed_str()))
        .collect();
    let parts: &'static [&'static str] = Box::leak(parts.into_boxed_slice());
    Box::leak(Box::new(Statics::new(
        parts,
        Statics::fingerprint_of(parts),
    )))
}

/// A small set of statics shapes, with several per arity (so statics vary at a position), one
/// pair with equal parts behind different pointers (equal fingerprints), and escaping cases.
fn pool() -> &'static [&'static Statics] {
    static POOL: OnceLock<Vec<&'static Statics>> = OnceLock::new();
    POOL.get_or_init(|| {
        vec![
            leak(&["<hr>"]),
            leak(&["<br/>\n"]),
            leak(&["<p>", "</p>"]),
            leak(&["<b>", "</b>"]),
            leak(&["<b>", "</b>"]),
            leak(&["<a href=\"", "\">\\x</a>\t"]),
            leak(&["<li>", " / ", "</li>"]),
            leak(&["<tr>", "", "</tr>"]),
            leak(&["<div class=\"", "\">", "", "</div>"]),
            leak(&["", "é✓", "", ""]),
        ]
    })
}

/// A twin of every pool statics (same parts, so the same fingerprint, another pointer): the
/// statics of stream comprehensions, so the test can tell them apart (the engine cannot: a
/// switch between a stream and a plain comprehension with the same parts is a kind switch).
fn stream_twins() -> &'static [&'static Statics] {
    static TWINS: OnceLock<Vec<&'static Statics>> = OnceLock::new();
    TWINS.get_or_init(|| pool().iter().map(|s| leak(s.parts())).collect())
}

fn is_stream(s: &Statics) -> bool {
    stream_twins().iter().any(|t| std::ptr::eq(*t, s))
}

fn twin_of(s: &Statics) -> &'static Statics {
    let i = pool()
        .iter()
        .chain(stream_twins())
        .position(|p| std::ptr::eq(*p, s))
        .expect("pool statics")
        % pool().len();
    stream_twins()[i]
}

fn untwin(s: &'static Statics) -> &'static Statics {
    match stream_twins().iter().position(|t| std::ptr::eq(*t, s)) {
        Some(i) => pool()[i],
        None => s,
    }
}

/// A stream comprehension: `entries` inserted (ids `i0`, `i1`, …), after `deletes` deletes and
/// maybe a reset, as `@for` over a [`Stream`] renders them.
fn stream_comp(
    s: &'static Statics,
    entries: Vec<Vec<Dynamic>>,
    deletes: usize,
    reset: bool,
) -> Comprehension {
    let mut stream: Stream<usize> = Stream::new("t", |i| format!("i{i}"));
    if reset {
        stream.reset();
    }
    for d in 0..deletes {
        stream.delete_by_dom_id(format!("d{d}"));
    }
    for i in 0..entries.len() {
        stream.insert(i);
    }
    let source = &stream;
    let meta = Source(&source).__livefire_stream();
    Comprehension::new(twin_of(s), entries).with_stream(meta)
}

/// The tree once its render reached the client: streams hold nothing any more.
fn settle(r: &Rendered) -> Rendered {
    Rendered::new(
        r.statics(),
        r.dynamics().iter().map(settle_dynamic).collect(),
    )
}

fn settle_dynamic(d: &Dynamic) -> Dynamic {
    match d {
        Dynamic::Nested(r) => Dynamic::Nested(settle(r)),
        Dynamic::Comprehension(c) if is_stream(c.statics()) => {
            Dynamic::Comprehension(stream_comp(c.statics(), Vec::new(), 0, false))
        }
        Dynamic::Comprehension(c) => {
            let entries = c
                .entries()
                .iter()
                .map(|e| e.iter().map(settle_dynamic).collect())
                .collect();
            Dynamic::Comprehension(match c.keys() {
                Some(keys) => Comprehension::keyed(c.statics(), entries, keys.to_vec()),
                None => Comprehension::new(c.statics(), entries),
            })
        }
        other => other.clone(),
    }
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

fn arb_text() -> impl Strategy<Value = Dynamic> {
    prop::sample::select(TEXTS).prop_map(|t| Dynamic::Html(t.into()))
}

fn arb_node(inner: BoxedStrategy<Dynamic>) -> impl Strategy<Value = Rendered> {
    (0..pool().len()).prop_flat_map(move |i| {
        let s = pool()[i];
        prop::collection::vec(inner.clone(), holes(s)).prop_map(move |d| Rendered::new(s, d))
    })
}

fn arb_comp(inner: BoxedStrategy<Dynamic>) -> impl Strategy<Value = Comprehension> {
    (0..pool().len(), 0..7usize).prop_flat_map(move |(i, n)| {
        let s = pool()[i];
        prop::collection::vec(prop::collection::vec(inner.clone(), holes(s)), n)
            .prop_map(move |e| Comprehension::new(s, e))
    })
}

/// A keyed comprehension with distinct keys (from a small range, so edits reuse them).
fn arb_keyed_comp(inner: BoxedStrategy<Dynamic>) -> impl Strategy<Value = Comprehension> {
    (
        0..pool().len(),
        prop::sample::subsequence((0..12u64).collect::<Vec<_>>(), 0..7),
    )
        .prop_flat_map(move |(i, keys)| {
            let s = pool()[i];
            (
                prop::collection::vec(prop::collection::vec(inner.clone(), holes(s)), keys.len()),
                Just(keys).prop_shuffle(),
            )
                .prop_map(move |(e, keys)| Comprehension::keyed(s, e, keys))
        })
}

fn arb_stream_comp(inner: BoxedStrategy<Dynamic>) -> impl Strategy<Value = Comprehension> {
    (0..pool().len(), 0..4usize, 0..3usize, any::<bool>()).prop_flat_map(
        move |(i, n, deletes, reset)| {
            let s = pool()[i];
            prop::collection::vec(prop::collection::vec(inner.clone(), holes(s)), n)
                .prop_map(move |e| stream_comp(s, e, deletes, reset))
        },
    )
}

fn arb_dynamic(keyed: bool) -> BoxedStrategy<Dynamic> {
    arb_text()
        .prop_recursive(3, 40, 4, move |inner| {
            if keyed {
                prop_oneof![
                    2 => arb_text(),
                    2 => arb_node(inner.clone()).prop_map(Dynamic::Nested),
                    1 => arb_comp(inner.clone()).prop_map(Dynamic::Comprehension),
                    2 => arb_keyed_comp(inner.clone()).prop_map(Dynamic::Comprehension),
                    1 => arb_stream_comp(inner).prop_map(Dynamic::Comprehension),
                ]
                .boxed()
            } else {
                prop_oneof![
                    2 => arb_text(),
                    2 => arb_node(inner.clone()).prop_map(Dynamic::Nested),
                    2 => arb_comp(inner).prop_map(Dynamic::Comprehension),
                ]
                .boxed()
            }
        })
        .boxed()
}

fn arb_root(keyed: bool) -> impl Strategy<Value = Rendered> {
    arb_node(arb_dynamic(keyed))
}

/// One step of a view's life.
#[derive(Debug, Clone)]
enum Step {
    /// A fresh random tree.
    New(Rendered),
    /// The same state again (must give an empty diff).
    Same,
    /// Random edits of the previous tree, driven by a seed.
    Edit(u64),
}

fn arb_step(keyed: bool) -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => arb_root(keyed).prop_map(Step::New),
        1 => Just(Step::Same),
        4 => any::<u64>().prop_map(Step::Edit),
    ]
}

/// splitmix64: a tiny deterministic RNG for edits, plus how eagerly this edit changes things.
struct Rng {
    state: u64,
    /// Each dynamic is edited with probability `1 / edit_one_in`.
    edit_one_in: usize,
    /// Whether keyed comprehensions and streams are generated.
    keyed: bool,
}

impl Rng {
    /// An RNG whose seed also picks a light, medium or heavy edit rate.
    fn new(seed: u64, keyed: bool) -> Self {
        let mut rng = Self {
            state: seed,
            edit_one_in: 1,
            keyed,
        };
        rng.edit_one_in = [8, 3, 1][rng.below(3)];
        rng
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

fn gen_text(rng: &mut Rng) -> Dynamic {
    Dynamic::Html(TEXTS[rng.below(TEXTS.len())].into())
}

fn gen_statics(rng: &mut Rng) -> &'static Statics {
    pool()[rng.below(pool().len())]
}

fn gen_statics_like(rng: &mut Rng, like: &Statics) -> &'static Statics {
    let same: Vec<_> = pool().iter().filter(|s| holes(s) == holes(like)).collect();
    same[rng.below(same.len())]
}

fn gen_dyns(rng: &mut Rng, n: usize, depth: u32) -> Vec<Dynamic> {
    (0..n).map(|_| gen_dynamic(rng, depth)).collect()
}

fn gen_dynamic(rng: &mut Rng, depth: u32) -> Dynamic {
    let kinds = if rng.keyed { 6 } else { 4 };
    match if depth == 0 { 0 } else { rng.below(kinds) } {
        0 | 1 => gen_text(rng),
        2 => {
            let s = gen_statics(rng);
            Dynamic::Nested(Rendered::new(s, gen_dyns(rng, holes(s), depth - 1)))
        }
        3 => {
            let s = gen_statics(rng);
            let n = rng.below(6);
            let entries = (0..n).map(|_| gen_dyns(rng, holes(s), depth - 1)).collect();
            Dynamic::Comprehension(Comprehension::new(s, entries))
        }
        4 => {
            let s = gen_statics(rng);
            Dynamic::Comprehension(gen_stream(rng, s, depth - 1))
        }
        _ => {
            let s = gen_statics(rng);
            let n = rng.below(6);
            let entries = (0..n).map(|_| gen_dyns(rng, holes(s), depth - 1)).collect();
            let mut keys: Vec<u64> = (0..12).collect();
            shuffle(rng, &mut keys);
            keys.truncate(n);
            Dynamic::Comprehension(Comprehension::keyed(s, entries, keys))
        }
    }
}

/// A stream render: a few new entries, maybe deletes or a reset, often nothing.
fn gen_stream(rng: &mut Rng, s: &'static Statics, depth: u32) -> Comprehension {
    let s = untwin(s);
    let n = [0, 0, 1, 2, 3][rng.below(5)];
    let entries = (0..n).map(|_| gen_dyns(rng, holes(s), depth)).collect();
    let deletes = if rng.chance(4) { 1 + rng.below(2) } else { 0 };
    stream_comp(s, entries, deletes, rng.chance(8))
}

fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// Edits a keyed comprehension: its entries move, come and go, and change.
fn edit_keyed(rng: &mut Rng, c: &Comprehension, keys: &[u64]) -> Dynamic {
    let s = c.statics();
    let mut entries: Vec<(u64, Vec<Dynamic>)> = keys
        .iter()
        .copied()
        .zip(c.entries().iter().map(|e| {
            if rng.chance(3) {
                e.iter().map(|d| edit_dynamic(rng, d)).collect()
            } else {
                e.clone()
            }
        }))
        .collect();
    for _ in 0..1 + rng.below(3) {
        match rng.below(10) {
            0 => entries.reverse(),
            1 => shuffle(rng, &mut entries),
            2 if !entries.is_empty() => {
                let n = rng.below(entries.len());
                entries.rotate_left(n);
            }
            3 if entries.len() > 1 => {
                let (a, b) = (rng.below(entries.len()), rng.below(entries.len()));
                entries.swap(a, b);
            }
            4 | 5 => {
                let unused: Vec<u64> = (0..16)
                    .filter(|k| !entries.iter().any(|(e, _)| e == k))
                    .collect();
                if let Some(&key) = unused.get(rng.below(unused.len().max(1))) {
                    let at = rng.below(entries.len() + 1);
                    entries.insert(at, (key, gen_dyns(rng, holes(s), 2)));
                }
            }
            6 | 7 if !entries.is_empty() => {
                let at = rng.below(entries.len());
                entries.remove(at);
            }
            // A duplicate key: the engine falls back to matching by index.
            8 if entries.len() > 1 && rng.chance(4) => entries[1].0 = entries[0].0,
            _ => {}
        }
    }
    let (keys, entries): (Vec<u64>, Vec<Vec<Dynamic>>) = entries.into_iter().unzip();
    Dynamic::Comprehension(Comprehension::keyed(s, entries, keys))
}

/// Edits a node: maybe swaps its statics (`swap_one_in`), then edits its dynamics.
fn edit_node(rng: &mut Rng, r: &Rendered, swap_one_in: usize) -> Rendered {
    let statics = r.statics();
    if rng.chance(swap_one_in * 2) {
        let s = gen_statics(rng);
        return Rendered::new(s, gen_dyns(rng, holes(s), 2));
    }
    let s = if rng.chance(swap_one_in) {
        gen_statics_like(rng, statics)
    } else {
        statics
    };
    let dyns = r.dynamics().iter().map(|d| edit_dynamic(rng, d)).collect();
    Rendered::new(s, dyns)
}

fn edit_entries(
    rng: &mut Rng,
    statics: &'static Statics,
    entries: &[Vec<Dynamic>],
) -> Vec<Vec<Dynamic>> {
    let mut entries: Vec<Vec<Dynamic>> = entries
        .iter()
        .map(|e| {
            if rng.chance(2) {
                e.iter().map(|d| edit_dynamic(rng, d)).collect()
            } else {
                e.clone()
            }
        })
        .collect();
    match rng.below(8) {
        0 => entries.push(gen_dyns(rng, holes(statics), 2)),
        1 if !entries.is_empty() => {
            let i = rng.below(entries.len());
            entries.push(entries[i].clone());
        }
        2 => {
            entries.pop();
        }
        3 if !entries.is_empty() => {
            entries.remove(0);
        }
        4 => entries.clear(),
        5 => entries.reverse(),
        _ => {}
    }
    entries
}

fn edit_dynamic(rng: &mut Rng, d: &Dynamic) -> Dynamic {
    let edit_one_in = rng.edit_one_in;
    if !rng.chance(edit_one_in) {
        // Leave this subtree alone.
        return d.clone();
    }
    match d {
        // This generator makes no components (see tests/components.rs).
        Dynamic::Component(_) | Dynamic::LiveRender(_) => d.clone(),
        Dynamic::Html(_) => match rng.below(6) {
            0 => gen_dynamic(rng, 2),
            1 | 2 => gen_text(rng),
            _ => d.clone(),
        },
        Dynamic::Nested(r) => match rng.below(10) {
            0 => gen_text(rng),
            1 => gen_dynamic(rng, 2),
            2 => {
                // Same statics, now as a comprehension.
                let entries = (0..rng.below(3))
                    .map(|_| gen_dyns(rng, holes(r.statics()), 1))
                    .collect();
                Dynamic::Comprehension(Comprehension::new(r.statics(), entries))
            }
            _ => Dynamic::Nested(edit_node(rng, r, 8)),
        },
        Dynamic::Comprehension(c) if is_stream(c.statics()) => match rng.below(6) {
            0 => gen_dynamic(rng, 2),
            // Same parts, now a plain comprehension.
            1 => Dynamic::Comprehension(Comprehension::new(
                untwin(c.statics()),
                vec![gen_dyns(rng, holes(c.statics()), 1)],
            )),
            _ => Dynamic::Comprehension(gen_stream(rng, c.statics(), 1)),
        },
        Dynamic::Comprehension(c) if c.keys().is_some() => match rng.below(12) {
            0 => gen_text(rng),
            // Same statics, unkeyed (a kind switch).
            1 => Dynamic::Comprehension(Comprehension::new(c.statics(), c.entries().to_vec())),
            2 => Dynamic::Comprehension(gen_stream(rng, c.statics(), 1)),
            _ => edit_keyed(rng, c, c.keys().expect("keyed")),
        },
        Dynamic::Comprehension(c) => match rng.below(if rng.keyed { 12 } else { 10 }) {
            0 => gen_text(rng),
            // Same statics, now keyed.
            10 => {
                let keys = (0..c.entries().len() as u64).rev().collect();
                Dynamic::Comprehension(Comprehension::keyed(
                    c.statics(),
                    c.entries().to_vec(),
                    keys,
                ))
            }
            11 => Dynamic::Comprehension(gen_stream(rng, c.statics(), 1)),
            1 => {
                // Same statics, now as a node.
                let s = c.statics();
                Dynamic::Nested(Rendered::new(s, gen_dyns(rng, holes(s), 1)))
            }
            2 => {
                let s = gen_statics_like(rng, c.statics());
                Dynamic::Comprehension(Comprehension::new(s, edit_entries(rng, s, c.entries())))
            }
            3 => gen_dynamic(rng, 2),
            _ => {
                let s = c.statics();
                Dynamic::Comprehension(Comprehension::new(s, edit_entries(rng, s, c.entries())))
            }
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The property

/// What the outputs of a run exercised.
#[derive(Debug, Default)]
struct Coverage {
    /// Diffs with moves (`"i": j`).
    moves: usize,
    /// Moves with a diff, `"i":[j,{…}]`.
    moves_with_diff: usize,
    /// Diffs with stream operations.
    streams: usize,
}

impl Coverage {
    fn count(&mut self, diff: &str) {
        let v: serde_json::Value = serde_json::from_str(&format!("{{{diff}}}")).expect("JSON");
        let mut moves = (0, 0);
        count_moves(&v, &mut moves);
        self.moves += usize::from(moves.0 > 0);
        self.moves_with_diff += usize::from(moves.1 > 0);
        self.streams += usize::from(diff.contains("\"stream\":["));
    }
}

/// Counts the moves (`"i": j`) and moves with a diff (`"i": [j, {…}]`) in a diff.
fn count_moves(v: &serde_json::Value, moves: &mut (usize, usize)) {
    let Some(obj) = v.as_object() else { return };
    for (key, val) in obj {
        if key == "k" {
            for (i, entry) in val.as_object().expect("k") {
                match entry {
                    serde_json::Value::Number(_) if i != "kc" => moves.0 += 1,
                    serde_json::Value::Array(pair) => {
                        moves.1 += 1;
                        count_moves(&pair[1], moves);
                    }
                    other => count_moves(other, moves),
                }
            }
        } else {
            count_moves(val, moves);
        }
    }
}

fn check_sequence(initial: &Rendered, steps: &[Step], keyed: bool) -> Coverage {
    let mut coverage = Coverage::default();
    let rules = Rules {
        replaced_entries: keyed,
    };
    let mut server = DiffState::new();
    let mut out = String::new();
    server.full(initial, &mut out);
    let mut client = Client::join_with(&out, rules);
    assert_eq!(client.html(), initial.to_html(), "after join: {out}");

    // What the view holds once its render was sent: streams are empty again.
    let mut current = settle(initial);
    for (n, step) in steps.iter().enumerate() {
        let next = match step {
            Step::New(r) => r.clone(),
            Step::Same => current.clone(),
            Step::Edit(seed) => edit_node(&mut Rng::new(*seed, keyed), &current, 40),
        };
        out.clear();
        let changed = server.diff(&next, &mut out);
        assert_eq!(changed, !out.is_empty(), "return value vs output: {out:?}");
        if matches!(step, Step::Same) {
            assert!(!changed, "unchanged state gave a diff: {out}");
        }
        if changed {
            coverage.count(&out);
            client.merge(&out);
        }
        assert_eq!(
            client.html(),
            next.to_html(),
            "after step {n} ({step:?}), diff {out}"
        );

        // A rejoin from scratch renders the same page.
        let mut fresh = DiffState::new();
        out.clear();
        fresh.full(&next, &mut out);
        assert_eq!(Client::join_with(&out, rules).html(), next.to_html());

        // Diffing the same state again sends nothing.
        let next = settle(&next);
        out.clear();
        assert!(
            !server.diff(&next, &mut out),
            "second diff not empty: {out}"
        );
        assert!(out.is_empty());

        current = next;
    }
    coverage
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn merged_diffs_render_the_same_html(
        initial in arb_root(false),
        steps in prop::collection::vec(arb_step(false), 1..10),
    ) {
        let _ = check_sequence(&initial, &steps, false);
    }

    /// The same with keyed comprehensions (moves, inserts, deletes, edits) and streams.
    #[test]
    fn merged_keyed_and_stream_diffs_render_the_same_html(
        initial in arb_root(true),
        steps in prop::collection::vec(arb_step(true), 1..10),
    ) {
        let _ = check_sequence(&initial, &steps, true);
    }
}

/// Long edit chains from fixed seeds: many small changes of one evolving tree.
#[test]
fn long_edit_chains() {
    for keyed in [false, true] {
        long_edit_chains_of(keyed);
    }
}

fn long_edit_chains_of(keyed: bool) {
    let mut coverage = Coverage::default();
    for seed in 0..200u64 {
        let mut rng = Rng::new(seed, keyed);
        let s = gen_statics(&mut rng);
        let initial = Rendered::new(s, gen_dyns(&mut rng, holes(s), 3));
        let steps: Vec<Step> = (0..30)
            .map(|_| {
                if rng.chance(6) {
                    Step::Same
                } else {
                    Step::Edit(rng.next())
                }
            })
            .collect();
        let run = check_sequence(&initial, &steps, keyed);
        coverage.moves += run.moves;
        coverage.moves_with_diff += run.moves_with_diff;
        coverage.streams += run.streams;
    }
    if keyed {
        // The generator does reach moves (with and without changes) and stream operations.
        assert!(
            coverage.moves > 100 && coverage.moves_with_diff > 20 && coverage.streams > 100,
            "{coverage:?}"
        );
    }
}

/// The model itself catches the classic mistakes, so the property above can fail.
#[test]
#[should_panic(expected = "node without statics")]
fn model_rejects_node_without_statics() {
    let mut client = Client::join(r#""0":"x","s":["<p>","</p>"]"#);
    client.merge(r#""0":{"0":"y"}"#);
    client.html();
}

#[test]
#[should_panic(expected = "redundant statics")]
fn model_rejects_redundant_statics() {
    let mut client = Client::join(r#""0":{"0":"x","s":["<b>","</b>"]},"s":["<p>","</p>"]"#);
    client.merge(r#""0":{"0":"y","s":["<b>","</b>"]}"#);
}

#[test]
fn model_deletes_entries_beyond_kc() {
    let mut client = Client::join(
        r#""0":{"s":["<i>","</i>"],"k":{"0":{"0":"a"},"1":{"0":"b"},"kc":2}},"s":["",""]"#,
    );
    assert_eq!(client.html(), "<i>a</i><i>b</i>");
    client.merge(r#""0":{"k":{"kc":1}}"#);
    assert_eq!(client.html(), "<i>a</i>");
    assert!(client.rendered["0"]["k"].get("1").is_none());
    client.merge(r#""0":{"k":{"1":{"0":"c"},"kc":2}}"#);
    assert_eq!(client.html(), "<i>a</i><i>c</i>");
}

#[test]
fn model_moves_entries_from_a_copy_of_the_old_ones() {
    let mut client = Client::join(
        r#""0":{"s":["<i>","</i>"],"k":{"0":{"0":"a"},"1":{"0":"b"},"2":{"0":"c"},"kc":3}},"s":["",""]"#,
    );
    // 0 <- 2 and 2 <- 0 (changed): both read the entries as they were before the diff.
    client.merge(r#""0":{"k":{"0":2,"2":[0,{"0":"A"}],"kc":3,"km":true}}"#);
    assert_eq!(client.html(), "<i>c</i><i>b</i><i>A</i>");
    // A move and a shrink: 0 <- 1, the rest dropped.
    client.merge(r#""0":{"k":{"0":1,"kc":1,"km":true}}"#);
    assert_eq!(client.html(), "<i>b</i>");
}

#[test]
#[should_panic(expected = "without km")]
fn model_rejects_moves_without_km() {
    let mut client = Client::join(
        r#""0":{"s":["<i>","</i>"],"k":{"0":{"0":"a"},"1":{"0":"b"},"kc":2}},"s":["",""]"#,
    );
    client.merge(r#""0":{"k":{"0":1,"1":0,"kc":2}}"#);
}

#[test]
#[should_panic(expected = "km without moves")]
fn model_rejects_km_without_moves() {
    let mut client =
        Client::join(r#""0":{"s":["<i>","</i>"],"k":{"0":{"0":"a"},"kc":1}},"s":["",""]"#);
    client.merge(r#""0":{"k":{"0":{"0":"b"},"kc":1,"km":true}}"#);
}

#[test]
fn model_renders_components_with_shared_statics() {
    let mut client = Client::join(
        r#""0":1,"1":2,"s":["<p>","","</p>"],"c":{"1":{"0":"a","1":3,"s":["<i>","","</i>"],"r":1},"2":{"0":"b","1":"","s":1,"r":1},"3":{"0":"n","s":["<b>","</b>"],"r":1}}"#,
    );
    assert_eq!(client.html(), "<p><i>a<b>n</b></i><i>b</i></p>");
    assert_eq!(
        client.cids_on_page().into_iter().collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // A component-only diff: merged into a copy of the component.
    client.merge(r#""c":{"2":{"0":"B"}}"#);
    assert_eq!(client.html(), "<p><i>a<b>n</b></i><i>B</i></p>");
    // Component 3 leaves the page; once pruned, the client no longer holds it.
    client.merge(r#""c":{"1":{"1":""}}"#);
    assert_eq!(
        client.cids_on_page().into_iter().collect::<Vec<_>>(),
        [1, 2]
    );
    client.prune(&[3]);
    assert_eq!(client.html(), "<p><i>a</i><i>B</i></p>");
}

#[test]
#[should_panic(expected = "no component for CID 2")]
fn model_rejects_a_pruned_component_on_the_page() {
    let mut client = Client::join(
        r#""0":1,"1":2,"s":["","",""],"c":{"1":{"0":"a","s":["<i>","</i>"],"r":1},"2":{"0":"b","s":1,"r":1}}"#,
    );
    client.prune(&[2]);
    client.html();
}

#[test]
#[should_panic(expected = "no component for CID 1")]
fn model_drops_components_when_the_root_statics_change() {
    // As the client: `c` is taken out of the diff before the merge, and a root with `s`
    // replaces the whole tree, the components with it.
    let mut client =
        Client::join(r#""0":1,"s":["<p>","</p>"],"c":{"1":{"0":"a","s":["<i>","</i>"],"r":1}}"#);
    client.merge(r#""0":1,"s":["<div>","</div>"]"#);
    client.html();
}

#[test]
#[should_panic(expected = "without r")]
fn model_rejects_a_component_without_r() {
    Client::join(r#""0":1,"s":["",""],"c":{"1":{"0":"a","s":["<i>","</i>"]}}"#);
}

#[test]
#[should_panic(expected = "does not hold")]
fn model_rejects_a_diff_for_an_unknown_component() {
    let mut client = Client::join(r#""0":"","s":["",""]"#);
    client.merge(r#""0":1,"c":{"1":{"0":"a"}}"#);
}

#[test]
fn model_renders_stream_entries_once() {
    let mut client = Client::join(
        r#""0":{"s":["<li id=\"","\">","</li>"],"k":{"0":{"0":"s-1","1":"a"},"kc":1},"stream":["r",[["s-1",-1,null,false]],[]]},"s":["<ul>","</ul>"]"#,
    );
    let out = client.render();
    assert_eq!(out.html, r#"<ul><li id="s-1">a</li></ul>"#);
    assert_eq!(out.streams.len(), 1);
    // Rendered once: the client keeps no entries.
    let out = client.render();
    assert_eq!(out.html, "<ul></ul>");
    assert!(out.streams.is_empty());
    client.merge(
        r#""0":{"k":{"0":{"0":"s-2","1":"b"},"kc":1},"stream":["r",[["s-2",0,null,false]],[]]}"#,
    );
    assert_eq!(client.render().html, r#"<ul><li id="s-2">b</li></ul>"#);
}

mod stream_dom {
    use super::client_model::StreamDom;
    use serde_json::json;

    fn patch(dom: &mut StreamDom, items: &[(&str, &str)], stream: serde_json::Value) {
        let rendered = vec![(
            "list".to_owned(),
            items
                .iter()
                .map(|(id, html)| ((*id).to_owned(), (*html).to_owned()))
                .collect(),
        )];
        dom.patch(&rendered, &[stream], false);
    }

    fn ids(dom: &StreamDom) -> Vec<String> {
        dom.ids("list")
    }

    #[test]
    fn inserts_at_positions_updates_in_place_and_limits() {
        let mut dom = StreamDom::default();
        patch(
            &mut dom,
            &[("a", "1"), ("b", "1"), ("c", "1")],
            json!([
                "r",
                [
                    ["a", -1, null, false],
                    ["b", -1, null, false],
                    ["c", 0, null, false]
                ],
                []
            ]),
        );
        assert_eq!(ids(&dom), ["c", "a", "b"]);
        // Before the 1st; an existing one is updated where it is, whatever its `at`.
        patch(
            &mut dom,
            &[("d", "1"), ("a", "2")],
            json!(["r", [["d", 1, null, false], ["a", -1, null, false]], []]),
        );
        assert_eq!(ids(&dom), ["c", "d", "a", "b"]);
        assert_eq!(dom.containers["list"][2].html, "2");
        // Prepend, keep the first 3.
        patch(
            &mut dom,
            &[("e", "1")],
            json!(["r", [["e", 0, 3, false]], []]),
        );
        assert_eq!(ids(&dom), ["e", "c", "d"]);
        // Append, keep the last 2.
        patch(
            &mut dom,
            &[("f", "1")],
            json!(["r", [["f", -1, -2, false]], []]),
        );
        assert_eq!(ids(&dom), ["d", "f"]);
        // update_only: only what is on the page.
        patch(
            &mut dom,
            &[("g", "1"), ("d", "3")],
            json!(["r", [["g", -1, null, true], ["d", -1, null, true]], []]),
        );
        assert_eq!(ids(&dom), ["d", "f"]);
        assert_eq!(dom.containers["list"][0].html, "3");
        // Delete, and delete + insert again (a move).
        patch(
            &mut dom,
            &[("d", "4")],
            json!(["r", [["d", -1, null, false]], ["d", "f"]]),
        );
        assert_eq!(ids(&dom), ["d"]);
        // Reset: everything of that ref goes, what is inserted again comes back.
        patch(
            &mut dom,
            &[("h", "1"), ("d", "5")],
            json!([
                "r",
                [["h", -1, null, false], ["d", -1, null, true]],
                [],
                true
            ]),
        );
        assert_eq!(ids(&dom), ["h", "d"]);
    }

    /// An item on the page pruned by the limit of an earlier insert of the same patch is
    /// found by id and morphed, but stays off the page (morphdom indexed it before).
    #[test]
    fn an_item_pruned_earlier_in_the_patch_stays_out() {
        let mut dom = StreamDom::default();
        patch(
            &mut dom,
            &[("a", "1"), ("b", "1")],
            json!(["r", [["a", -1, null, false], ["b", -1, null, false]], []]),
        );
        patch(
            &mut dom,
            &[("c", "1"), ("b", "2")],
            json!(["r", [["c", 0, 1, false], ["b", -1, null, false]], []]),
        );
        assert_eq!(ids(&dom), ["c"]);
    }
}
