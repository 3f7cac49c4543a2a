//! The diff engine: turns successive [`Rendered`] trees of one view into the JSON the official
//! LiveView client merges (`rendered` on join, `diff` afterwards).
//!
//! # Wire rules
//!
//! The client keeps the merged tree and applies `mutableMerge` (docs/protocol.md §3.2):
//! an object with `"s"` replaces the cached subtree wholesale, an object without `"s"` is merged
//! key by key, and anything else overwrites. So this engine sends `"s"` whenever the client may
//! hold different statics at a position: a new fingerprint, a string that becomes a node, a node
//! that becomes a comprehension (or back), or a position seen for the first time. Otherwise it
//! sends only the dynamics that changed, recursively.
//!
//! Comprehensions use the LiveView 1.1+ keyed format (§3.3): on a full render
//! `{"s":[…],"k":{"0":{…},"1":{…},"kc":2}}` (an empty list is `"k":{"kc":0}`); on an update only
//! the entries that changed, by index, plus `"kc"`, and the client deletes entries `>= kc`.
//! Unkeyed entries are matched by index. Keyed entries (`@for …; key = …`, streams) are
//! matched by key: an entry that moved is sent as its old index (`"i": j`, or `"i": [j, diff]`
//! when it also changed), with `"km"` set. Within an entry, nested nodes follow the same rules
//! as anywhere else.
//!
//! # State: what the client holds, in compact form
//!
//! Per view the engine keeps, for every node and comprehension the client holds, one `Sub`:
//! the statics fingerprint, the number of holes and entries, and one 64-bit *slot* per dynamic,
//! all in boxed slices (no `Vec` slack, no `String` copies):
//!
//! * a text dynamic is a 62-bit hash of its text, computed with a [`RandomState`] (SipHash)
//!   keyed randomly once per process, so whoever controls some text (a chat user, say) cannot
//!   craft two texts that collide and so hide an update; its two low bits are `00`.
//!   **8 bytes per text dynamic.** An accidental collision (probability ≈ 2⁻⁶² per change)
//!   would only delay that one update until the text changes again.
//! * a nested node or comprehension has the tag `01` or `10` in its slot, and its own `Sub`
//!   (48 bytes plus its slots) in the parent's `children`, in position order.
//! * a comprehension's entries are flattened: `entries × holes` slots in one slice and the
//!   entries' nested children, in order, in one slice.
//!
//! "Changed?" is a slot comparison; "same statics?" is a fingerprint (and hole count)
//! comparison. Output is written straight into a `String`, without an intermediate JSON value.
//!
//! ```
//! use livefire::testing::DiffState;
//! use livefire::rendered::{Dynamic, Rendered, Statics};
//! static P: Statics = Statics::new(&["<p>", "</p>"], Statics::fingerprint_of(&["<p>", "</p>"]));
//!
//! let mut state = DiffState::new();
//! let mut out = String::new();
//! state.full(&Rendered::new(&P, vec![Dynamic::text("1")]), &mut out);
//! assert_eq!(out, r#""0":"1","s":["<p>","</p>"]"#);
//!
//! out.clear();
//! assert!(state.diff(&Rendered::new(&P, vec![Dynamic::text("2")]), &mut out));
//! assert_eq!(out, r#""0":"2""#);
//!
//! out.clear();
//! assert!(!state.diff(&Rendered::new(&P, vec![Dynamic::text("2")]), &mut out));
//! assert!(out.is_empty());
//! ```

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use std::collections::HashMap;

use crate::rendered::{Comprehension, Dynamic, Rendered, Statics, StreamMeta, StreamSent};
use crate::wire::json::{write_json_str, write_usize};

/// The two low bits of a slot say what the client holds at that position.
const TAG_MASK: u64 = 0b11;
/// A string; the other 62 bits are the keyed hash of the text.
const TAG_TEXT: u64 = 0b00;
/// A nested rendered node; its state is the next entry of `children`.
const TAG_NODE: u64 = 0b01;
/// A comprehension; its state is the next entry of `children`.
const TAG_COMP: u64 = 0b10;
/// A live component; the other 62 bits are its cid.
const TAG_CID: u64 = 0b11;

/// `Sub::holes` flag: a keyed comprehension (each entry's slots start with its key).
const KEYED: u32 = 1 << 31;
/// `Sub::holes` flag: a stream (the client forgets the entries once rendered).
const STREAM: u32 = 1 << 30;
/// The hole count in `Sub::holes`.
const HOLES: u32 = !(KEYED | STREAM);

/// The slot of a component reference.
#[inline]
fn cid_slot(cid: u32) -> u64 {
    (u64::from(cid) << 2) | TAG_CID
}

/// The per-process random key for text hashes.
fn hasher() -> &'static RandomState {
    static HASHER: OnceLock<RandomState> = OnceLock::new();
    HASHER.get_or_init(RandomState::new)
}

/// The slot of a text dynamic: its keyed hash with the tag bits cleared.
#[inline]
fn text_slot(text: &str) -> u64 {
    // One `write` of the bytes: a single value needs no length or terminator.
    let mut h = hasher().build_hasher();
    h.write(text.as_bytes());
    h.finish() & !TAG_MASK
}

/// The tag a dynamic will have in its slot.
#[inline]
fn tag_of(d: &Dynamic) -> u64 {
    match d {
        Dynamic::Html(_) => TAG_TEXT,
        Dynamic::Nested(_) => TAG_NODE,
        Dynamic::Comprehension(_) => TAG_COMP,
        Dynamic::Component(_) => TAG_CID,
        Dynamic::LiveRender(_) => TAG_TEXT,
    }
}

/// Saturating `usize -> u32` for hole and entry counts (which never come near `u32::MAX`).
#[inline]
fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// What the client holds for one node (`count == 1`) or one comprehension.
#[derive(Debug, Default)]
struct Sub {
    /// Fingerprint of the statics the client holds here.
    fingerprint: u64,
    /// Number of holes per entry (`statics.parts().len() - 1`), with the [`KEYED`] and
    /// [`STREAM`] flags of a comprehension.
    holes: u32,
    /// Number of entries: 1 for a node, the list length for a comprehension.
    count: u32,
    /// `count * holes` slots, entry after entry (a keyed entry starts with its key).
    slots: Box<[u64]>,
    /// The state of every nested node or comprehension, in slot order.
    children: Box<[Sub]>,
}

impl Sub {
    #[cfg(any(test, feature = "test-util"))]
    fn heap_size(&self) -> usize {
        self.slots.len() * size_of::<u64>()
            + self.children.len() * size_of::<Sub>()
            + self.children.iter().map(Sub::heap_size).sum::<usize>()
    }

    fn same_statics(&self, statics: &Statics) -> bool {
        self.fingerprint == statics.fingerprint()
            && self.holes() == statics.parts().len().saturating_sub(1)
    }

    fn holes(&self) -> usize {
        (self.holes & HOLES) as usize
    }

    fn is_keyed(&self) -> bool {
        self.holes & KEYED != 0
    }

    fn is_stream(&self) -> bool {
        self.holes & STREAM != 0
    }
}

/// Per-view state: what the client holds, in compact form.
///
/// Call [`full`](Self::full) for the join reply, then [`diff`](Self::diff) for each later render.
/// It keeps, for each node and comprehension the client holds, the statics fingerprint and one
/// 64-bit slot per dynamic (a keyed hash of a text, or a link to a nested node): 8 bytes per
/// text dynamic.
///
/// One state per view and client: it stands for what *that* client has merged, so a diff is
/// only valid for the client that received every earlier output of the same state.
///
/// ```
/// use livefire::html;
/// use livefire::testing::DiffState;
///
/// let mut state = DiffState::new();
/// let mut out = String::new();
/// let page = |admin: bool, n: u32| html!(<p>"Hi"</p>@if admin { <b>"admin (" {n} ")"</b> });
///
/// state.full(&page(false, 3), &mut out);
/// assert_eq!(out, r#""0":"","s":["<p>Hi</p>",""]"#);
///
/// // A string became a node: the client needs its statics ("s").
/// out.clear();
/// assert!(state.diff(&page(true, 3), &mut out));
/// assert_eq!(out, r#""0":{"0":"3","s":["<b>admin (",")</b>"]}"#);
///
/// // Same statics at "0": only the changed dynamic travels.
/// out.clear();
/// assert!(state.diff(&page(true, 4), &mut out));
/// assert_eq!(out, r#""0":{"0":"4"}"#);
/// assert!(state.heap_size() > 0);
/// ```
// Public only for the `testing` module (feature `test-util`).
#[cfg_attr(not(feature = "test-util"), allow(unreachable_pub))]
#[derive(Debug, Default)]
pub struct DiffState {
    root: Option<Sub>,
    /// Components and streams, boxed and made on first use: a view without them (most idle
    /// views) carries one null pointer instead of two empty lists (40 bytes less per view task).
    more: Option<Box<More>>,
}

/// The parts of a [`DiffState`] that only views with live components or streams use.
#[derive(Debug, Default)]
struct More {
    /// What the client holds of each live component, by cid (sorted).
    components: Vec<(u32, Sub)>,
    /// Streams written since the last [`streams_sent`](DiffState::streams_sent).
    streams: Vec<StreamSent>,
}

/// Runs `f` with the list of streams written since they were last sent: the boxed one if
/// there is a box, otherwise a fresh list, boxed only if `f` wrote a stream into it.
fn with_streams<R>(more: &mut Option<Box<More>>, f: impl FnOnce(&mut Vec<StreamSent>) -> R) -> R {
    match more {
        Some(more) => f(&mut more.streams),
        None => {
            let mut streams = Vec::new();
            let result = f(&mut streams);
            if !streams.is_empty() {
                more.get_or_insert_with(Box::default).streams = streams;
            }
            result
        }
    }
}

#[cfg_attr(not(feature = "test-util"), allow(unreachable_pub))]
impl DiffState {
    /// An empty state: the client holds nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Full render for a join: forgets previous state, writes the MEMBERS of the rendered JSON
    /// object (no surrounding braces), e.g. `"0":"1","s":["<p>","</p>"]`, with every statics
    /// array included.
    ///
    /// ```
    /// use livefire::testing::DiffState;
    /// use livefire::rendered::{Dynamic, Rendered, Statics};
    /// static P: Statics = Statics::new(&["<p>", "</p>"], Statics::fingerprint_of(&["<p>", "</p>"]));
    /// let mut out = String::new();
    /// DiffState::new().full(&Rendered::new(&P, vec![Dynamic::text("1")]), &mut out);
    /// assert_eq!(format!("{{{out}}}"), r#"{"0":"1","s":["<p>","</p>"]}"#);
    /// ```
    pub fn full(&mut self, r: &Rendered, out: &mut String) {
        if let Some(more) = self.more.as_deref_mut() {
            more.components.clear();
        }
        self.root = Some(with_streams(&mut self.more, |streams| {
            full_node(r, out, streams)
        }));
    }

    /// Diff since the last full/diff call: writes the members of the diff object (no braces) and
    /// returns true if anything was written; writes nothing and returns false if nothing changed.
    ///
    /// Without a previous [`full`](Self::full) this writes a full render and returns true.
    ///
    /// ```
    /// use livefire::testing::DiffState;
    /// use livefire::rendered::{Dynamic, Rendered, Statics};
    /// static P: Statics = Statics::new(&["<p>", "", "</p>"], 7);
    /// let mut state = DiffState::new();
    /// let mut out = String::new();
    /// state.full(&Rendered::new(&P, vec![Dynamic::text("a"), Dynamic::text("b")]), &mut out);
    /// out.clear();
    /// assert!(state.diff(&Rendered::new(&P, vec![Dynamic::text("a"), Dynamic::text("c")]), &mut out));
    /// assert_eq!(out, r#""1":"c""#);
    /// ```
    pub fn diff(&mut self, r: &Rendered, out: &mut String) -> bool {
        match &mut self.root {
            Some(root) => with_streams(&mut self.more, |streams| diff_node(root, r, out, streams)),
            None => {
                self.full(r, out);
                true
            }
        }
    }

    /// Writes the members of live component `cid`'s entry in the `c` map: its full tree with
    /// `"r":1` when the client holds nothing for it (or `full` is asked: a revived
    /// component), sharing the statics of component `share` of the same diff if given;
    /// otherwise only what changed. Returns true if anything was written.
    pub(crate) fn component(
        &mut self,
        cid: u32,
        r: &Rendered,
        full: bool,
        share: Option<u32>,
        out: &mut String,
    ) -> bool {
        let More {
            components,
            streams,
        } = self.more.get_or_insert_with(Box::default).as_mut();
        let at = components.binary_search_by_key(&cid, |(c, _)| *c);
        match at {
            Ok(i) if !full && components[i].1.same_statics(r.statics()) => {
                diff_node(&mut components[i].1, r, out, streams)
            }
            found => {
                let sub = full_component(r, share, out, streams);
                match found {
                    Ok(i) => components[i].1 = sub,
                    Err(i) => components.insert(i, (cid, sub)),
                }
                true
            }
        }
    }

    /// Whether diffing `r` sends the root with new statics (which replaces the client's
    /// whole tree).
    pub(crate) fn replaces_root(&self, r: &Rendered) -> bool {
        self.root
            .as_ref()
            .is_some_and(|root| !root.same_statics(r.statics()))
    }

    /// Forgets live component `cid` (the client destroyed it).
    pub(crate) fn forget_component(&mut self, cid: u32) {
        if let Some(more) = self.more.as_deref_mut()
            && let Ok(i) = more.components.binary_search_by_key(&cid, |(c, _)| *c)
        {
            more.components.remove(i);
        }
    }

    /// Tells the streams written since the last call that their operations reached the
    /// client (call once the frame is on its way): they forget them.
    pub(crate) fn streams_sent(&mut self) {
        if let Some(more) = self.more.as_deref_mut() {
            for sent in more.streams.drain(..) {
                sent.mark();
            }
        }
    }

    /// Approximate heap bytes held (for benchmarks).
    ///
    /// ```
    /// use livefire::testing::DiffState;
    /// assert_eq!(DiffState::new().heap_size(), 0);
    /// ```
    #[cfg(any(test, feature = "test-util"))]
    pub fn heap_size(&self) -> usize {
        self.root.as_ref().map_or(0, Sub::heap_size)
            + self.more.as_ref().map_or(0, |more| {
                size_of::<More>()
                    + more
                        .components
                        .iter()
                        .map(|(_, sub)| size_of::<(u32, Sub)>() + sub.heap_size())
                        .sum::<usize>()
            })
    }
}

// ---------------------------------------------------------------------------------------------
// JSON writing

/// Writes `,"key":` (without the comma for the first member of an object).
#[inline]
fn member_key(out: &mut String, first: &mut bool, key: usize) {
    if !*first {
        out.push(',');
    }
    *first = false;
    out.push('"');
    write_usize(key, out);
    out.push_str("\":");
}

/// Writes `"s":[…]`.
fn write_statics(statics: &Statics, out: &mut String) {
    out.push_str("\"s\":[");
    for (i, part) in statics.parts().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(part, out);
    }
    out.push(']');
}

/// Writes `"key":{…}` where `f` writes the members, but only if `f` returns true; otherwise
/// rolls `out` (and `first`) back as if nothing had been written.
#[inline]
fn nested_member(
    out: &mut String,
    first: &mut bool,
    key: usize,
    f: impl FnOnce(&mut String) -> bool,
) {
    let mark = out.len();
    let was_first = *first;
    member_key(out, first, key);
    out.push('{');
    if f(out) {
        out.push('}');
    } else {
        out.truncate(mark);
        *first = was_first;
    }
}

// ---------------------------------------------------------------------------------------------
// Full renders (also used wherever the client may hold different statics)

/// Streams written during one render; told once the frame is sent.
type Sent = Vec<StreamSent>;

/// Writes the members of a node (dynamics, then `"s"`) and returns its state.
fn full_node(r: &Rendered, out: &mut String, sent: &mut Sent) -> Sub {
    full_node_with(r, out, sent, None)
}

/// [`full_node`] for a component root: `"r":1`, and the statics by reference to component
/// `share` of the same diff when given (the client copies them).
fn full_component(r: &Rendered, share: Option<u32>, out: &mut String, sent: &mut Sent) -> Sub {
    let sub = full_node_with(r, out, sent, share);
    out.push_str(",\"r\":1");
    sub
}

fn full_node_with(r: &Rendered, out: &mut String, sent: &mut Sent, share: Option<u32>) -> Sub {
    let dyns = r.dynamics();
    let mut slots = Vec::with_capacity(dyns.len());
    let mut children = Vec::new();
    if full_entry(dyns, out, &mut slots, &mut children, sent) {
        out.push(',');
    }
    match share {
        Some(cid) => {
            out.push_str("\"s\":");
            write_usize(cid as usize, out);
        }
        None => write_statics(r.statics(), out),
    }
    Sub {
        fingerprint: r.statics().fingerprint(),
        holes: count_u32(dyns.len()),
        count: 1,
        slots: slots.into_boxed_slice(),
        children: children.into_boxed_slice(),
    }
}

/// The keys of a keyed comprehension, unless two entries share one (then it is diffed by
/// index, as an unkeyed one: a duplicate key is a bug in the template, not worth a crash).
fn unique_keys(c: &Comprehension) -> Option<&[u64]> {
    let keys = c.keys()?;
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    if keys.iter().all(|k| seen.insert(*k)) {
        Some(keys)
    } else {
        tracing::warn!("a keyed @for has duplicate keys; its entries are matched by position");
        None
    }
}

/// Writes the members of a comprehension (`"s"`, then `"k"` with every entry and `"kc"`, and
/// `"stream"` for a stream) and returns its state.
fn full_comp(c: &Comprehension, out: &mut String, sent: &mut Sent) -> Sub {
    let statics = c.statics();
    let holes = statics.parts().len().saturating_sub(1);
    let entries = c.entries();
    let keys = unique_keys(c);
    write_statics(statics, out);
    out.push_str(",\"k\":{");
    let mut slots = Vec::with_capacity(entries.len() * (holes + usize::from(keys.is_some())));
    let mut children = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        write_usize_key_open(out, i, i == 0);
        if let Some(keys) = keys {
            slots.push(keys[i]);
        }
        full_entry(entry, out, &mut slots, &mut children, sent);
        out.push('}');
    }
    write_count(entries.len(), !entries.is_empty(), false, out);
    let mut flags = count_u32(holes);
    if let Some(meta) = c.stream() {
        // The client renders the entries once and forgets them: keep no state for them.
        write_stream(meta, out, sent);
        return Sub {
            fingerprint: statics.fingerprint(),
            holes: flags | STREAM,
            count: 0,
            slots: Box::default(),
            children: Box::default(),
        };
    }
    if keys.is_some() {
        flags |= KEYED;
    }
    Sub {
        fingerprint: statics.fingerprint(),
        holes: flags,
        count: count_u32(entries.len()),
        slots: slots.into_boxed_slice(),
        children: children.into_boxed_slice(),
    }
}

/// Closes a `"k"` object: `,"kc":N` (without the comma when it is the first member) and
/// `,"km":true` when entries moved.
fn write_count(count: usize, has_entries: bool, moved: bool, out: &mut String) {
    if has_entries {
        out.push(',');
    }
    out.push_str("\"kc\":");
    write_usize(count, out);
    if moved {
        out.push_str(",\"km\":true");
    }
    out.push('}');
}

/// Writes `,"stream":[ref,[[dom_id,at,limit,update_only],…],[deleted…]]` (plus `,true` for a
/// reset) and remembers to tell the stream once it is sent.
fn write_stream(meta: &StreamMeta, out: &mut String, sent: &mut Sent) {
    out.push_str(",\"stream\":[");
    write_json_str(&meta.reference, out);
    out.push_str(",[");
    for (i, insert) in meta.inserts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        write_json_str(&insert.dom_id, out);
        out.push(',');
        write_i64(insert.at, out);
        out.push(',');
        match insert.limit {
            Some(limit) => write_i64(limit, out),
            None => out.push_str("null"),
        }
        out.push_str(if insert.update_only {
            ",true]"
        } else {
            ",false]"
        });
    }
    out.push_str("],[");
    for (i, id) in meta.deletes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(id, out);
    }
    out.push(']');
    if meta.reset {
        out.push_str(",true");
    }
    out.push(']');
    if let Some(marker) = &meta.sent {
        sent.push(marker.clone());
    }
}

fn write_i64(n: i64, out: &mut String) {
    if n < 0 {
        out.push('-');
    }
    write_usize(usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX), out);
}

/// Writes `"i":{` (with a leading comma unless `first`).
#[inline]
fn write_usize_key_open(out: &mut String, i: usize, first: bool) {
    if !first {
        out.push(',');
    }
    out.push('"');
    write_usize(i, out);
    out.push_str("\":{");
}

/// Writes every dynamic of one node or entry as members `"j":…`, pushing their slots and
/// children. Returns true if anything was written (i.e. there is at least one hole).
fn full_entry(
    dyns: &[Dynamic],
    out: &mut String,
    slots: &mut Vec<u64>,
    children: &mut Vec<Sub>,
    sent: &mut Sent,
) -> bool {
    let mut first = true;
    for (j, d) in dyns.iter().enumerate() {
        member_key(out, &mut first, j);
        full_value(d, out, slots, children, sent);
    }
    !first
}

/// Writes one dynamic as a complete JSON value (nodes with their statics).
fn full_value(
    d: &Dynamic,
    out: &mut String,
    slots: &mut Vec<u64>,
    children: &mut Vec<Sub>,
    sent: &mut Sent,
) {
    match d {
        Dynamic::Html(s) => {
            write_json_str(s, out);
            slots.push(text_slot(s));
        }
        Dynamic::Nested(r) => {
            out.push('{');
            children.push(full_node(r, out, sent));
            out.push('}');
            slots.push(TAG_NODE);
        }
        Dynamic::Comprehension(c) => {
            out.push('{');
            children.push(full_comp(c, out, sent));
            out.push('}');
            slots.push(TAG_COMP);
        }
        Dynamic::Component(call) => match call.cid {
            Some(cid) => {
                write_usize(cid as usize, out);
                slots.push(cid_slot(cid));
            }
            // Resolved by the runtime before every diff; render nothing rather than a cid
            // the client does not know.
            None => {
                tracing::error!("an unresolved live component reached the diff engine");
                write_json_str("", out);
                slots.push(text_slot(""));
            }
        },
        // Resolved into its container by the runtime before every diff.
        Dynamic::LiveRender(_) => {
            tracing::error!("an unresolved nested live view reached the diff engine");
            write_json_str("", out);
            slots.push(text_slot(""));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Diffs

/// Diffs a node the client holds (`st`) against `r`, writing the members of the diff object.
/// Returns true if anything was written.
fn diff_node(st: &mut Sub, r: &Rendered, out: &mut String, sent: &mut Sent) -> bool {
    if !st.same_statics(r.statics()) {
        *st = full_node(r, out, sent);
        return true;
    }
    let mut children = std::mem::take(&mut st.children).into_vec();
    let written = diff_entry(
        &mut st.slots,
        &mut children,
        &mut 0,
        r.dynamics(),
        out,
        sent,
    );
    // No reallocation unless the number of children changed.
    st.children = children.into_boxed_slice();
    written
}

/// Diffs a comprehension the client holds (`st`) against `c`, writing the members of the diff
/// object (`"k":{…,"kc":N}`, or everything with `"s"` if the statics or the kind differ).
/// Returns true if anything was written.
fn diff_comp(st: &mut Sub, c: &Comprehension, out: &mut String, sent: &mut Sent) -> bool {
    let keys = unique_keys(c);
    let same_kind = st.is_stream() == c.stream().is_some()
        && (st.is_stream() || st.is_keyed() == keys.is_some());
    if !same_kind || !st.same_statics(c.statics()) {
        *st = full_comp(c, out, sent);
        return true;
    }
    if let Some(meta) = c.stream() {
        return diff_stream(c, meta, out, sent);
    }
    if let Some(keys) = keys {
        return diff_keyed(st, c, keys, out, sent);
    }
    let holes = st.holes();
    let entries = c.entries();
    let old_count = st.count as usize;
    let new_count = entries.len();
    let common = old_count.min(new_count);

    let mark = out.len();
    out.push_str("\"k\":{");
    let mut first = true;

    // Entries are matched by index: diff the surviving ones, drop the rest, append new ones.
    let mut slots = std::mem::take(&mut st.slots).into_vec();
    let mut children = std::mem::take(&mut st.children).into_vec();
    slots.truncate(common * holes);
    children.truncate(count_nested(&slots));
    let mut child_at = 0;
    for (i, entry) in entries.iter().enumerate().take(common) {
        let entry_slots = &mut slots[i * holes..(i + 1) * holes];
        nested_member(out, &mut first, i, |out| {
            diff_entry(entry_slots, &mut children, &mut child_at, entry, out, sent)
        });
    }
    slots.reserve_exact((new_count - common) * holes);
    for (i, entry) in entries.iter().enumerate().skip(common) {
        write_usize_key_open(out, i, first);
        first = false;
        full_entry(entry, out, &mut slots, &mut children, sent);
        out.push('}');
    }
    st.slots = slots.into_boxed_slice();
    st.children = children.into_boxed_slice();
    st.count = count_u32(new_count);

    if first && old_count == new_count {
        out.truncate(mark);
        return false;
    }
    write_count(new_count, !first, false, out);
    true
}

/// A stream the client holds: every entry is new (the client forgot the earlier ones), so
/// entries are sent in full with the stream's operations, or nothing if there are none.
fn diff_stream(c: &Comprehension, meta: &StreamMeta, out: &mut String, sent: &mut Sent) -> bool {
    let entries = c.entries();
    if entries.is_empty() && meta.inserts.is_empty() && meta.deletes.is_empty() && !meta.reset {
        return false;
    }
    out.push_str("\"k\":{");
    let (mut slots, mut children) = (Vec::new(), Vec::new());
    for (i, entry) in entries.iter().enumerate() {
        write_usize_key_open(out, i, i == 0);
        full_entry(entry, out, &mut slots, &mut children, sent);
        out.push('}');
    }
    write_count(entries.len(), !entries.is_empty(), false, out);
    write_stream(meta, out, sent);
    true
}

/// A keyed comprehension: each entry is matched with the old entry of the same key. One that
/// stayed sends its changes (`"i":{…}`), one that moved sends its old index (`"i":j`, or
/// `"i":[j,{…}]` with changes, plus `"km":true`), a new one is sent in full.
fn diff_keyed(
    st: &mut Sub,
    c: &Comprehension,
    keys: &[u64],
    out: &mut String,
    sent: &mut Sent,
) -> bool {
    let holes = st.holes();
    let stride = holes + 1;
    let old_count = st.count as usize;
    let old_slots = std::mem::take(&mut st.slots).into_vec();
    let mut old_children = std::mem::take(&mut st.children).into_vec().into_iter();
    // The old entries, each with its slots (without the key) and its children.
    let mut old: Vec<Option<(Vec<u64>, Vec<Sub>)>> = Vec::with_capacity(old_count);
    let mut index = HashMap::with_capacity(old_count);
    for (j, entry) in old_slots.chunks_exact(stride).enumerate() {
        let dyn_slots = entry[1..].to_vec();
        let nested = count_nested(&dyn_slots);
        let children: Vec<Sub> = old_children.by_ref().take(nested).collect();
        index.insert(entry[0], j);
        old.push(Some((dyn_slots, children)));
    }

    let entries = c.entries();
    let mut slots = Vec::with_capacity(entries.len() * stride);
    let mut children = Vec::new();
    let mark = out.len();
    out.push_str("\"k\":{");
    let mut first = true;
    let mut moved = false;
    for (i, (entry, &key)) in entries.iter().zip(keys).enumerate() {
        let previous = index
            .get(&key)
            .and_then(|&j| old[j].take().map(|state| (j, state)));
        slots.push(key);
        match previous {
            Some((j, (mut entry_slots, mut entry_children))) => {
                let mut changes = String::new();
                let changed = diff_entry(
                    &mut entry_slots,
                    &mut entry_children,
                    &mut 0,
                    entry,
                    &mut changes,
                    sent,
                );
                if j != i {
                    moved = true;
                    member_key(out, &mut first, i);
                    if changed {
                        out.push('[');
                        write_usize(j, out);
                        out.push_str(",{");
                        out.push_str(&changes);
                        out.push_str("}]");
                    } else {
                        write_usize(j, out);
                    }
                } else if changed {
                    member_key(out, &mut first, i);
                    out.push('{');
                    out.push_str(&changes);
                    out.push('}');
                }
                slots.extend(entry_slots);
                children.extend(entry_children);
            }
            None => {
                write_usize_key_open(out, i, first);
                first = false;
                full_entry(entry, out, &mut slots, &mut children, sent);
                out.push('}');
            }
        }
    }
    st.slots = slots.into_boxed_slice();
    st.children = children.into_boxed_slice();
    st.count = count_u32(entries.len());
    if first && old_count == entries.len() {
        out.truncate(mark);
        return false;
    }
    write_count(entries.len(), !first, moved, out);
    true
}

/// Diffs one node or comprehension entry: `slots` are its slots, its children start at
/// `children[*child_at]`; on return `*child_at` points past its (new) children. Updates the
/// state in place when every dynamic has the kind the client holds, and otherwise rebuilds this
/// entry's children (splicing them into `children`). Writes the changed members and returns true
/// if any.
fn diff_entry(
    slots: &mut [u64],
    children: &mut Vec<Sub>,
    child_at: &mut usize,
    dyns: &[Dynamic],
    out: &mut String,
    sent: &mut Sent,
) -> bool {
    let start = *child_at;
    let nested = count_nested(slots);
    let end = (start + nested).min(children.len());
    if layout_matches(slots, dyns) {
        *child_at = end;
        return diff_entry_in_place(slots, &mut children[start..end], dyns, out, sent);
    }
    // Some dynamic switched between text, node, comprehension and component.
    let mut old_children = children.drain(start..end).collect::<Vec<_>>().into_iter();
    let mut new_slots = Vec::with_capacity(dyns.len());
    let mut new_children = Vec::new();
    let written = diff_entry_rebuild(
        slots,
        &mut old_children,
        dyns,
        out,
        &mut new_slots,
        &mut new_children,
        sent,
    );
    slots.copy_from_slice(&new_slots);
    *child_at = start + new_children.len();
    children.splice(start..start, new_children);
    written
}

/// Number of nested nodes and comprehensions among `slots`.
#[inline]
fn count_nested(slots: &[u64]) -> usize {
    slots
        .iter()
        .filter(|&&s| matches!(s & TAG_MASK, TAG_NODE | TAG_COMP))
        .count()
}

/// True if every dynamic has the same kind (text, node, comprehension, component) as the
/// client holds.
#[inline]
fn layout_matches(slots: &[u64], dyns: &[Dynamic]) -> bool {
    slots.len() == dyns.len()
        && slots
            .iter()
            .zip(dyns)
            .all(|(&s, d)| s & TAG_MASK == tag_of(d))
}

/// The slot and JSON of a component reference (an unresolved one renders as `""`).
fn write_cid(call_cid: Option<u32>, out: &mut String) -> u64 {
    match call_cid {
        Some(cid) => {
            write_usize(cid as usize, out);
            cid_slot(cid)
        }
        None => {
            write_json_str("", out);
            text_slot("")
        }
    }
}

fn component_slot(call_cid: Option<u32>) -> u64 {
    call_cid.map_or_else(|| text_slot(""), cid_slot)
}

/// Diffs one node or entry whose layout matches (see [`layout_matches`]), updating its slots and
/// children in place. Writes the changed members and returns true if any.
fn diff_entry_in_place(
    slots: &mut [u64],
    children: &mut [Sub],
    dyns: &[Dynamic],
    out: &mut String,
    sent: &mut Sent,
) -> bool {
    let mut first = true;
    let mut kids = children.iter_mut();
    for (j, (slot, d)) in slots.iter_mut().zip(dyns).enumerate() {
        match d {
            Dynamic::Html(s) => {
                let h = text_slot(s);
                if *slot != h {
                    *slot = h;
                    member_key(out, &mut first, j);
                    write_json_str(s, out);
                }
            }
            Dynamic::Component(call) => {
                if *slot != component_slot(call.cid) {
                    member_key(out, &mut first, j);
                    *slot = write_cid(call.cid, out);
                }
            }
            Dynamic::LiveRender(_) => {
                if *slot != text_slot("") {
                    *slot = text_slot("");
                    member_key(out, &mut first, j);
                    write_json_str("", out);
                }
            }
            Dynamic::Nested(r) => match kids.next() {
                Some(child) => {
                    nested_member(out, &mut first, j, |out| diff_node(child, r, out, sent));
                }
                // Unreachable while the layout matches; resend rather than panic.
                None => {
                    member_key(out, &mut first, j);
                    out.push('{');
                    full_node(r, out, sent);
                    out.push('}');
                }
            },
            Dynamic::Comprehension(c) => match kids.next() {
                Some(child) => {
                    nested_member(out, &mut first, j, |out| diff_comp(child, c, out, sent));
                }
                None => {
                    member_key(out, &mut first, j);
                    out.push('{');
                    full_comp(c, out, sent);
                    out.push('}');
                }
            },
        }
    }
    !first
}

/// Diffs one node or entry whose layout may differ from what the client holds, consuming its old
/// children from `old_children` and pushing the new slots and children. Writes the changed
/// members and returns true if any.
///
/// `old_slots` has one slot per dynamic: the caller checked that the statics (and so the number
/// of holes) are the same.
fn diff_entry_rebuild(
    old_slots: &[u64],
    old_children: &mut impl Iterator<Item = Sub>,
    dyns: &[Dynamic],
    out: &mut String,
    slots: &mut Vec<u64>,
    children: &mut Vec<Sub>,
    sent: &mut Sent,
) -> bool {
    let mut first = true;
    for (j, d) in dyns.iter().enumerate() {
        let old = old_slots.get(j).copied();
        let old_tag = old.map(|s| s & TAG_MASK);
        let old_child = match old_tag {
            Some(TAG_NODE | TAG_COMP) => old_children.next(),
            _ => None,
        };
        match d {
            Dynamic::Html(s) => {
                let h = text_slot(s);
                if old != Some(h) {
                    member_key(out, &mut first, j);
                    write_json_str(s, out);
                }
                slots.push(h);
            }
            Dynamic::Component(call) => {
                let slot = component_slot(call.cid);
                if old != Some(slot) {
                    member_key(out, &mut first, j);
                    write_cid(call.cid, out);
                }
                slots.push(slot);
            }
            Dynamic::LiveRender(_) => {
                if old != Some(text_slot("")) {
                    member_key(out, &mut first, j);
                    write_json_str("", out);
                }
                slots.push(text_slot(""));
            }
            Dynamic::Nested(r) => {
                match old_child.filter(|_| old_tag == Some(TAG_NODE)) {
                    Some(mut child) => {
                        nested_member(out, &mut first, j, |out| {
                            diff_node(&mut child, r, out, sent)
                        });
                        children.push(child);
                    }
                    None => {
                        member_key(out, &mut first, j);
                        out.push('{');
                        children.push(full_node(r, out, sent));
                        out.push('}');
                    }
                }
                slots.push(TAG_NODE);
            }
            Dynamic::Comprehension(c) => {
                match old_child.filter(|_| old_tag == Some(TAG_COMP)) {
                    Some(mut child) => {
                        nested_member(out, &mut first, j, |out| {
                            diff_comp(&mut child, c, out, sent)
                        });
                        children.push(child);
                    }
                    None => {
                        member_key(out, &mut first, j);
                        out.push('{');
                        children.push(full_comp(c, out, sent));
                        out.push('}');
                    }
                }
                slots.push(TAG_COMP);
            }
        }
    }
    !first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rendered::Statics;

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

    fn text(s: &str) -> Dynamic {
        Dynamic::Html(s.to_owned().into())
    }

    fn full(state: &mut DiffState, r: &Rendered) -> String {
        let mut out = String::new();
        state.full(r, &mut out);
        out
    }

    fn diff(state: &mut DiffState, r: &Rendered) -> Option<String> {
        let mut out = String::new();
        let changed = state.diff(r, &mut out);
        assert_eq!(changed, !out.is_empty());
        changed.then_some(out)
    }

    /// docs/protocol.md §3.6, exact JSON.
    #[test]
    fn worked_example_protocol_3_6() {
        let page = leak(&["<p>Hi ", "</p>", ""]);
        let admin = leak(&["<b>admin (", ")</b>"]);
        let view = |name: &str, n: Option<u32>| {
            let badge = match n {
                Some(n) => Dynamic::Nested(Rendered::new(admin, vec![text(&n.to_string())])),
                None => Dynamic::empty(),
            };
            Rendered::new(page, vec![text(name), badge])
        };
        let mut st = DiffState::new();
        assert_eq!(
            format!("{{{}}}", full(&mut st, &view("Ann", None))),
            r#"{"0":"Ann","1":"","s":["<p>Hi ","</p>",""]}"#
        );
        assert_eq!(
            diff(&mut st, &view("Ann", Some(3))).as_deref(),
            Some(r#""1":{"0":"3","s":["<b>admin (",")</b>"]}"#)
        );
        assert_eq!(
            diff(&mut st, &view("Ann", Some(4))).as_deref(),
            Some(r#""1":{"0":"4"}"#)
        );
        assert_eq!(
            diff(&mut st, &view("Bob", Some(4))).as_deref(),
            Some(r#""0":"Bob""#)
        );
        assert_eq!(diff(&mut st, &view("Bob", Some(4))), None);
        // Back to a string: plain overwrite.
        assert_eq!(
            diff(&mut st, &view("Bob", None)).as_deref(),
            Some(r#""1":"""#)
        );
        // And to a node again: statics resent.
        assert_eq!(
            diff(&mut st, &view("Bob", Some(4))).as_deref(),
            Some(r#""1":{"0":"4","s":["<b>admin (",")</b>"]}"#)
        );
    }

    #[test]
    fn comprehension_full_update_shrink_and_empty() {
        let ul = leak(&["<ul>", "</ul>"]);
        let li = leak(&["<li>", "</li>"]);
        let view = |items: &[&str]| {
            let entries = items.iter().map(|i| vec![text(i)]).collect();
            Rendered::new(
                ul,
                vec![Dynamic::Comprehension(Comprehension::new(li, entries))],
            )
        };
        let mut st = DiffState::new();
        assert_eq!(
            full(&mut st, &view(&["a", "b"])),
            r#""0":{"s":["<li>","</li>"],"k":{"0":{"0":"a"},"1":{"0":"b"},"kc":2}},"s":["<ul>","</ul>"]"#
        );
        assert_eq!(
            diff(&mut st, &view(&["a", "B", "c"])).as_deref(),
            Some(r#""0":{"k":{"1":{"0":"B"},"2":{"0":"c"},"kc":3}}"#)
        );
        assert_eq!(diff(&mut st, &view(&["a", "B", "c"])), None);
        assert_eq!(
            diff(&mut st, &view(&["a"])).as_deref(),
            Some(r#""0":{"k":{"kc":1}}"#)
        );
        assert_eq!(
            diff(&mut st, &view(&[])).as_deref(),
            Some(r#""0":{"k":{"kc":0}}"#)
        );
        assert_eq!(diff(&mut st, &view(&[])), None);
        assert_eq!(
            diff(&mut st, &view(&["x"])).as_deref(),
            Some(r#""0":{"k":{"0":{"0":"x"},"kc":1}}"#)
        );
        let mut fresh = DiffState::new();
        assert_eq!(
            full(&mut fresh, &view(&[])),
            r#""0":{"s":["<li>","</li>"],"k":{"kc":0}},"s":["<ul>","</ul>"]"#
        );
    }

    #[test]
    fn nested_nodes_inside_entries_and_switches() {
        let root = leak(&["", ""]);
        let row = leak(&["<tr>", "", "</tr>"]);
        let a = leak(&["<a>", "</a>"]);
        let b = leak(&["<b>", "</b>"]);
        let view = |rows: Vec<(&str, Dynamic)>| {
            let entries = rows.into_iter().map(|(t, d)| vec![text(t), d]).collect();
            Rendered::new(
                root,
                vec![Dynamic::Comprehension(Comprehension::new(row, entries))],
            )
        };
        let node = |s: &'static Statics, t: &str| Dynamic::Nested(Rendered::new(s, vec![text(t)]));
        let mut st = DiffState::new();
        full(
            &mut st,
            &view(vec![("1", node(a, "x")), ("2", node(a, "y"))]),
        );
        // Same statics inside an entry: dynamics only.
        assert_eq!(
            diff(
                &mut st,
                &view(vec![("1", node(a, "x")), ("2", node(a, "z"))])
            )
            .as_deref(),
            Some(r#""0":{"k":{"1":{"1":{"0":"z"}},"kc":2}}"#)
        );
        // New statics inside an entry: `s` again, for that entry only.
        assert_eq!(
            diff(
                &mut st,
                &view(vec![("1", node(b, "x")), ("2", node(a, "z"))])
            )
            .as_deref(),
            Some(r#""0":{"k":{"0":{"1":{"0":"x","s":["<b>","</b>"]}},"kc":2}}"#)
        );
        // Node -> string in one entry, string -> node later (rebuild path).
        assert_eq!(
            diff(&mut st, &view(vec![("1", node(b, "x")), ("2", text("t"))])).as_deref(),
            Some(r#""0":{"k":{"1":{"1":"t"},"kc":2}}"#)
        );
        assert_eq!(
            diff(&mut st, &view(vec![("1", text("u")), ("2", node(a, "z"))])).as_deref(),
            Some(r#""0":{"k":{"0":{"1":"u"},"1":{"1":{"0":"z","s":["<a>","</a>"]}},"kc":2}}"#)
        );
        assert_eq!(
            diff(&mut st, &view(vec![("1", text("u")), ("2", node(a, "z"))])),
            None
        );
    }

    #[test]
    fn node_comprehension_switch_resends_statics() {
        let root = leak(&["<div>", "</div>"]);
        let li = leak(&["<i>", "</i>"]);
        let comp = Rendered::new(
            root,
            vec![Dynamic::Comprehension(Comprehension::new(
                li,
                vec![vec![text("a")]],
            ))],
        );
        let node = Rendered::new(
            root,
            vec![Dynamic::Nested(Rendered::new(li, vec![text("a")]))],
        );
        let mut st = DiffState::new();
        full(&mut st, &node);
        assert_eq!(
            diff(&mut st, &comp).as_deref(),
            Some(r#""0":{"s":["<i>","</i>"],"k":{"0":{"0":"a"},"kc":1}}"#)
        );
        assert_eq!(
            diff(&mut st, &node).as_deref(),
            Some(r#""0":{"0":"a","s":["<i>","</i>"]}"#)
        );
    }

    #[test]
    fn root_statics_change_resends_everything() {
        let one = leak(&["<p>", "</p>"]);
        let two = leak(&["<h1>", "</h1>"]);
        let mut st = DiffState::new();
        full(&mut st, &Rendered::new(one, vec![text("a")]));
        assert_eq!(
            diff(&mut st, &Rendered::new(two, vec![text("a")])).as_deref(),
            Some(r#""0":"a","s":["<h1>","</h1>"]"#)
        );
    }

    #[test]
    fn diff_without_full_is_a_full_render() {
        let p = leak(&["<p>", "</p>"]);
        let mut st = DiffState::new();
        assert_eq!(
            diff(&mut st, &Rendered::new(p, vec![text("a")])).as_deref(),
            Some(r#""0":"a","s":["<p>","</p>"]"#)
        );
    }

    #[test]
    fn full_forgets_previous_state() {
        let p = leak(&["<p>", "</p>"]);
        let mut st = DiffState::new();
        full(&mut st, &Rendered::new(p, vec![text("a")]));
        assert_eq!(
            full(&mut st, &Rendered::new(p, vec![text("a")])),
            r#""0":"a","s":["<p>","</p>"]"#
        );
    }

    #[test]
    fn statics_are_json_escaped() {
        let statics = leak(&["<a title=\"", "\">\\</a>\n"]);
        let mut st = DiffState::new();
        let body = full(
            &mut st,
            &Rendered::new(statics, vec![Dynamic::text("x\"y")]),
        );
        let v: serde_json::Value = serde_json::from_str(&format!("{{{body}}}")).expect("valid");
        insta::assert_json_snapshot!(v, @r#"
        {
          "0": "x&quot;y",
          "s": [
            "<a title=\"",
            "\">\\</a>\n"
          ]
        }
        "#);
    }

    #[test]
    fn state_is_compact() {
        assert_eq!(size_of::<Sub>(), 48);
        let p = leak(&["", "", "", ""]);
        let mut st = DiffState::new();
        full(
            &mut st,
            &Rendered::new(p, vec![text("a"), text("b"), text("c")]),
        );
        assert_eq!(st.heap_size(), 3 * 8);
        let li = leak(&["<li>", "", "</li>"]);
        let root = leak(&["", ""]);
        let entries = (0..100)
            .map(|i| vec![text(&i.to_string()), text("x")])
            .collect();
        full(
            &mut st,
            &Rendered::new(
                root,
                vec![Dynamic::Comprehension(Comprehension::new(li, entries))],
            ),
        );
        assert_eq!(st.heap_size(), 8 + 48 + 100 * 2 * 8);
    }

    #[test]
    fn text_hash_is_keyed_per_process_and_tag_free() {
        assert_eq!(text_slot("abc"), text_slot("abc"));
        assert_ne!(text_slot("abc"), text_slot("abd"));
        assert_eq!(text_slot("abc") & TAG_MASK, TAG_TEXT);
        let mut h = hasher().build_hasher();
        h.write(b"abc");
        assert_eq!(text_slot("abc"), h.finish() & !TAG_MASK);
        // Keyed per process: another RandomState gives other hashes.
        let mut other = RandomState::new().build_hasher();
        other.write(b"abc");
        assert_ne!(text_slot("abc"), other.finish() & !TAG_MASK);
    }
}
