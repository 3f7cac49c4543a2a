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

use std::sync::OnceLock;

use livefire::rendered::{Comprehension, Dynamic, Rendered, Statics};
use livefire::testing::DiffState;
use proptest::prelude::*;

mod client_model;

use client_model::Client;

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

fn arb_dynamic() -> BoxedStrategy<Dynamic> {
    arb_text()
        .prop_recursive(3, 40, 4, |inner| {
            prop_oneof![
                2 => arb_text(),
                2 => arb_node(inner.clone()).prop_map(Dynamic::Nested),
                2 => arb_comp(inner).prop_map(Dynamic::Comprehension),
            ]
        })
        .boxed()
}

fn arb_root() -> impl Strategy<Value = Rendered> {
    arb_node(arb_dynamic())
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

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => arb_root().prop_map(Step::New),
        1 => Just(Step::Same),
        4 => any::<u64>().prop_map(Step::Edit),
    ]
}

/// splitmix64: a tiny deterministic RNG for edits, plus how eagerly this edit changes things.
struct Rng {
    state: u64,
    /// Each dynamic is edited with probability `1 / edit_one_in`.
    edit_one_in: usize,
}

impl Rng {
    /// An RNG whose seed also picks a light, medium or heavy edit rate.
    fn new(seed: u64) -> Self {
        let mut rng = Self {
            state: seed,
            edit_one_in: 1,
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
    match if depth == 0 { 0 } else { rng.below(4) } {
        0 | 1 => gen_text(rng),
        2 => {
            let s = gen_statics(rng);
            Dynamic::Nested(Rendered::new(s, gen_dyns(rng, holes(s), depth - 1)))
        }
        _ => {
            let s = gen_statics(rng);
            let n = rng.below(6);
            let entries = (0..n).map(|_| gen_dyns(rng, holes(s), depth - 1)).collect();
            Dynamic::Comprehension(Comprehension::new(s, entries))
        }
    }
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
        Dynamic::Comprehension(c) => match rng.below(10) {
            0 => gen_text(rng),
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

fn check_sequence(initial: &Rendered, steps: &[Step]) {
    let mut server = DiffState::new();
    let mut out = String::new();
    server.full(initial, &mut out);
    let mut client = Client::join(&out);
    assert_eq!(client.html(), initial.to_html(), "after join: {out}");

    let mut current = initial.clone();
    for (n, step) in steps.iter().enumerate() {
        let next = match step {
            Step::New(r) => r.clone(),
            Step::Same => current.clone(),
            Step::Edit(seed) => edit_node(&mut Rng::new(*seed), &current, 40),
        };
        out.clear();
        let changed = server.diff(&next, &mut out);
        assert_eq!(changed, !out.is_empty(), "return value vs output: {out:?}");
        if matches!(step, Step::Same) {
            assert!(!changed, "unchanged state gave a diff: {out}");
        }
        if changed {
            client.merge(&out);
        }
        assert_eq!(
            client.html(),
            next.to_html(),
            "after step {n} ({step:?}), diff {out}"
        );

        // Diffing the same state again sends nothing.
        out.clear();
        assert!(
            !server.diff(&next, &mut out),
            "second diff not empty: {out}"
        );
        assert!(out.is_empty());

        // A rejoin from scratch renders the same page.
        let mut fresh = DiffState::new();
        out.clear();
        fresh.full(&next, &mut out);
        assert_eq!(Client::join(&out).html(), next.to_html());

        current = next;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn merged_diffs_render_the_same_html(
        initial in arb_root(),
        steps in prop::collection::vec(arb_step(), 1..10),
    ) {
        check_sequence(&initial, &steps);
    }
}

/// Long edit chains from fixed seeds: many small changes of one evolving tree.
#[test]
fn long_edit_chains() {
    for seed in 0..200u64 {
        let mut rng = Rng::new(seed);
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
        check_sequence(&initial, &steps);
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
