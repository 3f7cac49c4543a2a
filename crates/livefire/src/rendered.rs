//! The rendered tree: static parts split from dynamic parts, as Phoenix's `%Rendered{}`.
//!
//! A template compiled by [`html!`](crate::html) becomes a [`Rendered`]: a reference to its
//! [`Statics`] (the literal HTML between the holes, fixed at compile time and fingerprinted) and
//! one [`Dynamic`] per hole. The HTML of a node is
//! `s0 + d0 + s1 + … + d(N-1) + sN`.
//!
//! Dynamic text is always stored *already escaped*: the only way to put unescaped HTML into a
//! tree is [`Raw::new_unchecked`], which is easy to grep for.
//!
//! This is the shape of the LiveView wire format: the join reply sends a node as
//! `{"s": [s0, …, sN], "0": d0, …}`, and because the statics of a template never change, later
//! diffs send only the dynamics that changed (livefire's internal diff engine). Control flow in
//! a template (`@if`, `@match`) is one hole holding the taken branch as a nested node with its
//! own statics; `@for` is one hole holding a [`Comprehension`].
//!
//! ```
//! use livefire::html;
//!
//! enum Status { Active, Banned { reason: String } }
//!
//! fn card(name: &str, status: &Status) -> livefire::Rendered {
//!     html!(
//!         <p>"Hi " {name}</p>
//!         @match status {
//!             Status::Active => { <b>"active"</b> }
//!             Status::Banned { reason } => { @let note = format!("banned: {reason}"); <i>{note}</i> }
//!         }
//!     )
//! }
//!
//! let banned = card("Ann", &Status::Banned { reason: "spam <bot>".into() });
//! // Two holes, three static parts: s0 + d0 + s1 + d1 + s2.
//! assert_eq!(banned.statics().parts(), &["<p>Hi ", "</p>", ""]);
//! assert_eq!(banned.dynamics().len(), 2);
//! assert_eq!(banned.to_html(), "<p>Hi Ann</p><i>banned: spam &lt;bot&gt;</i>");
//! // Another branch, same outer statics: a diff would resend only hole 1.
//! let active = card("Ann", &Status::Active);
//! assert_eq!(active.statics().fingerprint(), banned.statics().fingerprint());
//! assert_eq!(active.to_html(), "<p>Hi Ann</p><b>active</b>");
//! ```

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The static parts of one template, fixed at compile time.
///
/// Two templates with equal parts have equal fingerprints; the diff engine compares fingerprints
/// to know whether the client already holds the statics at a position.
///
/// ```
/// use livefire::rendered::Statics;
/// static S: Statics = Statics::new(&["<p>", "</p>"], 42);
/// assert_eq!(S.parts().len(), 2);
/// assert_eq!(S.fingerprint(), 42);
/// ```
#[derive(Debug)]
pub struct Statics {
    parts: &'static [&'static str],
    fingerprint: u64,
}

impl Statics {
    /// Statics from their parts and a fingerprint (a hash of the parts).
    pub const fn new(parts: &'static [&'static str], fingerprint: u64) -> Self {
        Self { parts, fingerprint }
    }

    /// The literal parts: one more than the number of holes.
    pub fn parts(&self) -> &'static [&'static str] {
        self.parts
    }

    /// The fingerprint: equal parts give equal fingerprints.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Computes a fingerprint for `parts` (FNV-1a over the parts and their lengths).
    ///
    /// The `html!` macro computes the same function at compile time.
    ///
    /// ```
    /// use livefire::rendered::Statics;
    /// assert_eq!(Statics::fingerprint_of(&["a", "b"]), Statics::fingerprint_of(&["a", "b"]));
    /// assert_ne!(Statics::fingerprint_of(&["ab", ""]), Statics::fingerprint_of(&["a", "b"]));
    /// ```
    pub const fn fingerprint_of(parts: &[&str]) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut i = 0;
        while i < parts.len() {
            let bytes = parts[i].as_bytes();
            let mut j = 0;
            while j < bytes.len() {
                hash ^= bytes[j] as u64;
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
                j += 1;
            }
            // Separator that cannot occur in UTF-8 text, so ["ab",""] != ["a","b"].
            hash ^= 0xff;
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            i += 1;
        }
        hash
    }
}

/// One rendered template: its statics and the values of its holes.
///
/// ```
/// use livefire::rendered::{Dynamic, Rendered, Statics};
/// static S: Statics = Statics::new(&["<p>Hi ", "</p>"], Statics::fingerprint_of(&["<p>Hi ", "</p>"]));
/// let r = Rendered::new(&S, vec![Dynamic::text("<Ann>")]);
/// assert_eq!(r.to_html(), "<p>Hi &lt;Ann&gt;</p>");
/// assert!(std::ptr::eq(r.statics(), &S));
/// assert_eq!(r.dynamics().len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Rendered {
    statics: &'static Statics,
    dynamics: Vec<Dynamic>,
}

impl Rendered {
    /// A node from its statics and dynamics.
    ///
    /// # Panics
    /// If `dynamics.len() + 1 != statics.parts().len()`: that is a bug in generated code.
    pub fn new(statics: &'static Statics, dynamics: Vec<Dynamic>) -> Self {
        assert_eq!(
            dynamics.len() + 1,
            statics.parts().len(),
            "a rendered node needs exactly one more static part than dynamics"
        );
        Self { statics, dynamics }
    }

    /// The statics of this node.
    pub fn statics(&self) -> &'static Statics {
        self.statics
    }

    /// The dynamics of this node, one per hole.
    pub fn dynamics(&self) -> &[Dynamic] {
        &self.dynamics
    }

    /// Consumes the node into its dynamics.
    pub fn into_dynamics(self) -> Vec<Dynamic> {
        self.dynamics
    }

    /// The HTML of this node.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write_html(&mut out);
        out
    }

    /// Appends the HTML of this node to `out`.
    pub fn write_html(&self, out: &mut String) {
        write_interleaved(self.statics.parts(), &self.dynamics, out, &|_| None);
    }

    /// Appends the HTML of this node, taking the render of each resolved live component from
    /// `component` (by cid).
    pub(crate) fn write_html_with(&self, out: &mut String, component: Resolver<'_>) {
        write_interleaved(self.statics.parts(), &self.dynamics, out, component);
    }

    pub(crate) fn dynamics_mut(&mut self) -> &mut [Dynamic] {
        &mut self.dynamics
    }
}

/// Finds the render of a resolved live component by cid.
pub(crate) type Resolver<'a> = &'a dyn Fn(u32) -> Option<&'a Rendered>;

fn write_interleaved(
    parts: &[&str],
    dynamics: &[Dynamic],
    out: &mut String,
    component: Resolver<'_>,
) {
    for (i, part) in parts.iter().enumerate() {
        out.push_str(part);
        if let Some(d) = dynamics.get(i) {
            d.write_html_with(out, component);
        }
    }
}

/// The value of one hole in a template.
///
/// ```
/// use livefire::html;
/// use livefire::rendered::Dynamic;
///
/// let (admin, items) = (true, ["a", "b"]);
/// let page = html!(<p>{"x<y"}</p>@if admin { <b>"admin"</b> }<ul>@for i in items { <li>{i}</li> }</ul>);
/// match page.dynamics() {
///     [Dynamic::Html(text), Dynamic::Nested(branch), Dynamic::Comprehension(list)] => {
///         assert_eq!(text, "x&lt;y");
///         assert_eq!(branch.to_html(), "<b>admin</b>");
///         assert_eq!(list.statics().parts(), &["<li>", "</li>"]);
///         assert_eq!(list.entries().len(), 2);
///     }
///     other => panic!("unexpected dynamics: {other:?}"),
/// }
/// let mut out = String::new();
/// Dynamic::empty().write_html(&mut out);
/// assert!(out.is_empty());
/// ```
#[derive(Debug, Clone)]
pub enum Dynamic {
    /// HTML text, already escaped (or trusted through [`Raw`]).
    Html(Cow<'static, str>),
    /// A nested template (an `if` branch, a function component, …).
    Nested(Rendered),
    /// A `for` loop: many entries sharing one set of statics.
    Comprehension(Comprehension),
    /// A stateful live component ([`live_component`](crate::component::live_component)),
    /// rendered by the runtime into the view's `c` map and referenced here by its cid.
    Component(ComponentCall),
    /// A nested live view ([`live_render`](crate::nested::live_render)): the runtime renders
    /// its container (with its own page tokens) here.
    LiveRender(Box<LiveRender>),
}

impl Dynamic {
    /// Escaped text.
    ///
    /// ```
    /// use livefire::rendered::Dynamic;
    /// let mut out = String::new();
    /// Dynamic::text("a<b").write_html(&mut out);
    /// assert_eq!(out, "a&lt;b");
    /// ```
    pub fn text(text: &str) -> Self {
        let mut out = String::with_capacity(text.len());
        crate::escape::escape_html_into(text, &mut out);
        Self::Html(Cow::Owned(out))
    }

    /// The empty string, without allocating.
    pub const fn empty() -> Self {
        Self::Html(Cow::Borrowed(""))
    }

    /// Appends the HTML of this dynamic to `out`.
    pub fn write_html(&self, out: &mut String) {
        self.write_html_with(out, &|_| None);
    }

    fn write_html_with(&self, out: &mut String, component: Resolver<'_>) {
        match self {
            Self::Html(s) => out.push_str(s),
            Self::Nested(r) => r.write_html_with(out, component),
            Self::Comprehension(c) => c.write_html_with(out, component),
            Self::Component(call) => match call.cid.and_then(component) {
                Some(rendered) => rendered.write_html_with(out, component),
                None => call.inner.write_standalone(out),
            },
            // Outside the runtime a nested view is its empty container.
            Self::LiveRender(child) => {
                out.push_str(&child.container("", "", None));
                out.push_str("</div>");
            }
        }
    }
}

/// A comprehension: a list of entries rendered with the same statics (LiveView 1.1+ `k`/`kc`).
///
/// ```
/// use livefire::rendered::{Comprehension, Dynamic, Statics};
/// static S: Statics = Statics::new(&["<li>", "</li>"], Statics::fingerprint_of(&["<li>", "</li>"]));
/// let c = Comprehension::new(&S, vec![vec![Dynamic::text("a")], vec![Dynamic::text("b")]]);
/// let mut out = String::new();
/// c.write_html(&mut out);
/// assert_eq!(out, "<li>a</li><li>b</li>");
/// ```
#[derive(Debug, Clone)]
pub struct Comprehension {
    statics: &'static Statics,
    entries: Vec<Vec<Dynamic>>,
    /// One key per entry (a keyed `@for`): entries keep their DOM identity when they move.
    keys: Option<Vec<u64>>,
    /// The operations of a stream rendered by this comprehension.
    stream: Option<Box<StreamMeta>>,
}

impl Comprehension {
    /// A comprehension from its shared statics and the dynamics of each entry.
    ///
    /// # Panics
    /// If an entry does not have exactly one dynamic less than the statics have parts.
    pub fn new(statics: &'static Statics, entries: Vec<Vec<Dynamic>>) -> Self {
        let holes = statics.parts().len() - 1;
        assert!(
            entries.iter().all(|e| e.len() == holes),
            "every comprehension entry needs one dynamic per hole"
        );
        Self {
            statics,
            entries,
            keys: None,
            stream: None,
        }
    }

    /// A keyed comprehension: `keys[i]` identifies entry `i` (see [`key_hash`]); an entry that
    /// moves keeps its DOM element, and only its changes travel.
    ///
    /// # Panics
    /// If there is not one key per entry, or an entry has the wrong number of dynamics.
    pub fn keyed(statics: &'static Statics, entries: Vec<Vec<Dynamic>>, keys: Vec<u64>) -> Self {
        assert_eq!(keys.len(), entries.len(), "one key per comprehension entry");
        let mut comprehension = Self::new(statics, entries);
        comprehension.keys = Some(keys);
        comprehension
    }

    /// Attaches the operations of a stream (generated by `@for` over a
    /// [`Stream`](crate::stream::Stream)).
    #[doc(hidden)]
    pub fn with_stream(mut self, meta: Option<StreamMeta>) -> Self {
        self.stream = meta.map(Box::new);
        self
    }

    /// The keys, if the comprehension is keyed.
    pub fn keys(&self) -> Option<&[u64]> {
        self.keys.as_deref()
    }

    pub(crate) fn stream(&self) -> Option<&StreamMeta> {
        self.stream.as_deref()
    }

    pub(crate) fn entries_mut(&mut self) -> &mut [Vec<Dynamic>] {
        &mut self.entries
    }

    /// The shared statics.
    pub fn statics(&self) -> &'static Statics {
        self.statics
    }

    /// The dynamics of each entry.
    pub fn entries(&self) -> &[Vec<Dynamic>] {
        &self.entries
    }

    /// Appends the HTML of every entry to `out`.
    pub fn write_html(&self, out: &mut String) {
        self.write_html_with(out, &|_| None);
    }

    fn write_html_with(&self, out: &mut String, component: Resolver<'_>) {
        for entry in &self.entries {
            write_interleaved(self.statics.parts(), entry, out, component);
        }
    }
}

/// The 64-bit key of a keyed `@for` entry: a hash keyed randomly once per process, so keys
/// chosen by users cannot be made to collide.
///
/// ```
/// use livefire::rendered::key_hash;
/// assert_eq!(key_hash(&7u32), key_hash(&7u32));
/// assert_ne!(key_hash("a"), key_hash("b"));
/// ```
pub fn key_hash<K: Hash + ?Sized>(key: &K) -> u64 {
    static HASHER: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    HASHER
        .get_or_init(std::collections::hash_map::RandomState::new)
        .hash_one(key)
}

/// What a stream adds to its comprehension on the wire (docs/protocol.md §3.5): the stream's
/// ref, the inserted items' DOM ids with their position and limit, the deleted DOM ids, and a
/// reset.
#[derive(Debug, Clone)]
#[doc(hidden)]
pub struct StreamMeta {
    pub(crate) reference: Arc<str>,
    pub(crate) inserts: Vec<StreamInsert>,
    pub(crate) deletes: Vec<String>,
    pub(crate) reset: bool,
    /// Told once the operations reached the client (the stream then forgets them).
    pub(crate) sent: Option<StreamSent>,
}

/// One inserted item of a stream.
#[derive(Debug, Clone)]
pub(crate) struct StreamInsert {
    pub(crate) dom_id: String,
    pub(crate) at: i64,
    pub(crate) limit: Option<i64>,
    pub(crate) update_only: bool,
}

/// Marks a stream's operations as sent.
#[derive(Debug, Clone)]
pub(crate) struct StreamSent {
    pub(crate) counter: Arc<AtomicU64>,
    pub(crate) generation: u64,
}

impl StreamSent {
    /// Records that the operations of this generation reached the client.
    pub(crate) fn mark(&self) {
        self.counter
            .fetch_max(self.generation + 1, Ordering::Relaxed);
    }
}

/// A nested live view placed in a template ([`live_render`](crate::nested::live_render)).
#[derive(Debug, Clone)]
pub struct LiveRender {
    /// The registered name of the view type.
    pub(crate) view: &'static str,
    pub(crate) id: String,
    /// Values the parent passes to the child's session.
    pub(crate) session: serde_json::Map<String, serde_json::Value>,
    /// Survives live navigation to views that render it too (no parent).
    pub(crate) sticky: bool,
}

impl LiveRender {
    /// The container: `<div id=… data-phx-session=… data-phx-static=… data-phx-parent-id=…>`
    /// (or `data-phx-sticky`) around `inner`.
    pub(crate) fn container(
        &self,
        session: &str,
        static_token: &str,
        parent: Option<&str>,
    ) -> String {
        fn attr(name: &str, value: &str, out: &mut String) {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            crate::escape::escape_html_into(value, out);
            out.push('"');
        }
        let mut out = String::with_capacity(session.len() + static_token.len() + 96);
        out.push_str("<div");
        attr("id", &self.id, &mut out);
        attr("data-phx-session", session, &mut out);
        attr("data-phx-static", static_token, &mut out);
        if self.sticky {
            out.push_str(" data-phx-sticky");
        } else if let Some(parent) = parent {
            attr("data-phx-parent-id", parent, &mut out);
        }
        out.push('>');
        out
    }
}

/// A live component placed in a template ([`live_component`](crate::component::live_component)).
///
/// The runtime resolves it: it creates or updates the component with the given id, renders
/// it, and puts its cid in the parent's tree.
pub struct ComponentCall {
    pub(crate) inner: Box<dyn ErasedCall>,
    /// Set once the runtime resolved the call.
    pub(crate) cid: Option<u32>,
}

impl ComponentCall {
    pub(crate) fn new(inner: Box<dyn ErasedCall>) -> Self {
        Self { inner, cid: None }
    }
}

impl Clone for ComponentCall {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone_box(),
            cid: self.cid,
        }
    }
}

impl fmt::Debug for ComponentCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentCall")
            .field("id", &self.inner.id())
            .field("cid", &self.cid)
            .finish_non_exhaustive()
    }
}

/// A component call with its type erased (implemented in [`crate::component`]).
pub(crate) trait ErasedCall: Send + Sync {
    /// The component type.
    fn kind(&self) -> TypeId;
    /// The id the parent gave.
    fn id(&self) -> &str;
    fn clone_box(&self) -> Box<dyn ErasedCall>;
    /// Renders a fresh component from the call alone (a tree rendered outside the runtime).
    fn write_standalone(&self, out: &mut String);
    /// The call as `Box<dyn Any>`, for the runtime to recover its own call type.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

/// Trusted HTML that is inserted without escaping.
///
/// This is the only way to bypass escaping; grep for `new_unchecked` to audit it.
///
/// ```
/// use livefire::rendered::Raw;
/// let raw = Raw::new_unchecked("<b>bold</b>");
/// assert_eq!(raw.as_str(), "<b>bold</b>");
/// // In a template it is the one value written as is; a plain string is escaped.
/// let page = livefire::html!(<p>{raw}{"<b>"}</p>);
/// assert_eq!(page.to_html(), "<p><b>bold</b>&lt;b&gt;</p>");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw(Cow<'static, str>);

impl Raw {
    /// Marks `html` as trusted. Never pass user input here.
    pub fn new_unchecked(html: impl Into<Cow<'static, str>>) -> Self {
        Self(html.into())
    }

    /// The HTML.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Into a dynamic.
    pub fn into_dynamic(self) -> Dynamic {
        Dynamic::Html(self.0)
    }
}
