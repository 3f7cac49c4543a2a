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
//! diffs send only the dynamics that changed ([`crate::diff`]). Control flow in a template
//! (`@if`, `@match`) is one hole holding the taken branch as a nested node with its own
//! statics; `@for` is one hole holding a [`Comprehension`].
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

use std::borrow::Cow;

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
        write_interleaved(self.statics.parts(), &self.dynamics, out);
    }
}

fn write_interleaved(parts: &[&str], dynamics: &[Dynamic], out: &mut String) {
    for (i, part) in parts.iter().enumerate() {
        out.push_str(part);
        if let Some(d) = dynamics.get(i) {
            d.write_html(out);
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
        match self {
            Self::Html(s) => out.push_str(s),
            Self::Nested(r) => r.write_html(out),
            Self::Comprehension(c) => c.write_html(out),
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
        Self { statics, entries }
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
        for entry in &self.entries {
            write_interleaved(self.statics.parts(), entry, out);
        }
    }
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
