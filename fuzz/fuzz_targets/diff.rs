//! The diff engine (`DiffState::full` / `diff`) on sequences of trees built from fuzz input.
//!
//! Trees use a small fixed set of statics (several per arity, one pair with equal parts behind
//! different pointers), a few fixed texts plus arbitrary ones (escaped and raw), nested nodes,
//! comprehensions and keyed comprehensions (keys from the input: entries move, come and go,
//! and sometimes share a key). Each step is a fresh tree, the same tree again, or an edit of
//! the previous one. After the join and every diff:
//!
//! * the output, wrapped in braces, is valid JSON holding only the keys the client model
//!   accepts (`s`, `k` with `kc`/`km`/entries and moves, indexes);
//! * `diff` returns true exactly when it wrote something, and nothing for an unchanged tree;
//! * merging the output the way the official client does (the client model shared with the
//!   property tests, `livefire::test::model`: `mergeDiff`, `mergeKeyed` with
//!   moves, `toOutputBuffer`) renders exactly `Rendered::to_html()`, and no statics are resent
//!   where the client already holds them.

#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use livefire::rendered::{Comprehension, Dynamic, Rendered, Statics};
use livefire::testing::DiffState;

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
        if self.u.arbitrary::<bool>()? {
            // Keys from a small range: often distinct, sometimes not (then matched by index).
            let keys = (0..n)
                .map(|_| self.u.int_in_range(0..=7u64))
                .collect::<Result<_>>()?;
            return Ok(Comprehension::keyed(s, entries, keys));
        }
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
            (_, Dynamic::Html(_) | Dynamic::Component(_) | Dynamic::LiveRender(_)) => d.clone(),
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
                _ => Dynamic::Comprehension(self.edit_same(c, depth)?),
            },
        })
    }

    /// An edit with the same statics; a keyed comprehension keeps its keys with its entries
    /// (so moves are moves) and gets new ones for new entries.
    fn edit_same(&mut self, c: &Comprehension, depth: u32) -> Result<Comprehension> {
        let s = c.statics();
        let Some(keys) = c.keys() else {
            return Ok(Comprehension::new(s, self.edit_entries(s, c, depth)?));
        };
        let mut entries: Vec<(u64, Vec<Dynamic>)> = keys
            .iter()
            .copied()
            .zip(c.entries().iter().cloned())
            .collect();
        for entry in &mut entries {
            entry.1 = self.edit_dyns(&entry.1, depth)?;
        }
        match self.u.int_in_range(0..=6u8)? {
            1 if entries.len() < MAX_ENTRIES => {
                let at = self.u.int_in_range(0..=entries.len())?;
                let key = self.u.int_in_range(0..=7u64)?;
                entries.insert(at, (key, self.dyns(holes(s), depth)?));
            }
            2 if !entries.is_empty() => {
                let at = self.u.choose_index(entries.len())?;
                entries.remove(at);
            }
            3 => entries.reverse(),
            4 if entries.len() > 1 => {
                let (a, b) = (
                    self.u.choose_index(entries.len())?,
                    self.u.choose_index(entries.len())?,
                );
                entries.swap(a, b);
            }
            5 if !entries.is_empty() => {
                let n = self.u.choose_index(entries.len())?;
                entries.rotate_left(n);
            }
            // The same entries, unkeyed (a kind switch).
            6 => {
                return Ok(Comprehension::new(
                    s,
                    entries.into_iter().map(|e| e.1).collect(),
                ));
            }
            _ => {}
        }
        let (keys, entries) = entries.into_iter().unzip();
        Ok(Comprehension::keyed(s, entries, keys))
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
// Client model: the same one the property test `crates/livefire/tests/diff_merge.rs` and
// `livefire::test::LiveTest` use (`livefire::test::model`, feature `test-util`).

use livefire::test::model::{Client, Rules};

/// Keyed comprehensions send new entries in full over old ones (see `Rules`).
const RULES: Rules = Rules {
    replaced_entries: true,
};

// ---------------------------------------------------------------------------------------------
// The target

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let mut g = Gen { u, budget: 200 };
    let mut current = g.node(MAX_DEPTH)?;

    let mut server = DiffState::new();
    let mut out = String::new();
    server.full(&current, &mut out);
    let mut client = Client::join_with(&out, RULES);
    assert_eq!(client.html(), current.to_html(), "after join: {out}");

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
            client.merge(&out);
        }
        assert_eq!(client.html(), next.to_html(), "after diff {out}");

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
    assert_eq!(Client::join_with(&out, RULES).html(), current.to_html());
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
