//! The page as the browser holds it: the HTML each view's client model renders, with the DOM
//! patch rules that the model's HTML alone does not show (stream children that stay in the page,
//! `phx-update="ignore"` content, child views' content inside their containers), parsed with
//! `scraper` for CSS selectors.

use std::collections::{BTreeMap, HashMap};

use scraper::{ElementRef, Html, Node, Selector};

use super::Error;
use super::model::StreamDom;

/// Elements whose end tag is never written.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen",
];

/// Elements whose text is written raw.
const RAW_TEXT: &[&str] = &[
    "script",
    "style",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "plaintext",
];

/// Parses a CSS selector, as a readable [`Error`] when it is invalid.
pub(crate) fn selector(css: &str) -> Result<Selector, Error> {
    Selector::parse(css).map_err(|err| Error::Selector {
        selector: css.to_owned(),
        message: err.to_string(),
    })
}

/// What an element resolves to when an event is built from it.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) view: String,
    pub(crate) cid: Option<u64>,
}

/// The DOM state of one view across patches: stream children and ignored containers.
#[derive(Debug, Default)]
pub(crate) struct ViewDom {
    streams: StreamDom,
    /// `phx-update="ignore"` containers: their content as first rendered.
    ignored: HashMap<String, String>,
    /// Whether the next patch is the first one of a join.
    joined: bool,
}

impl ViewDom {
    /// A view that has not joined yet (its first patch removes the dead render's stream
    /// children, as the client does on join).
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Applies one render of the view (the client model's output) and returns the view's HTML
    /// as the DOM now holds it (child view containers still empty).
    pub(crate) fn patch(&mut self, html: &str, streams: &[serde_json::Value]) -> String {
        let doc = Html::parse_fragment(html);
        let stream_sel = Selector::parse("[phx-update=stream]").expect("valid selector");
        let mut rendered = Vec::new();
        for container in doc.select(&stream_sel) {
            let Some(id) = container.value().id() else {
                continue;
            };
            let children = container
                .child_elements()
                .filter_map(|child| {
                    child
                        .value()
                        .id()
                        .map(|cid| (cid.to_owned(), serialize_element(child, &Subst::default())))
                })
                .collect();
            rendered.push((id.to_owned(), children));
        }
        let join = !self.joined;
        self.joined = true;
        if !rendered.is_empty() || !streams.is_empty() {
            self.streams.patch(&rendered, streams, join);
        }
        let ignore_sel = Selector::parse("[phx-update=ignore]").expect("valid selector");
        for container in doc.select(&ignore_sel) {
            if let Some(id) = container.value().id() {
                self.ignored
                    .entry(id.to_owned())
                    .or_insert_with(|| serialize_children(container, &Subst::default()));
            }
        }
        let mut subst = Subst::default();
        for (id, children) in &self.streams.containers {
            subst.inner.insert(
                id.clone(),
                children.iter().map(|c| c.html.as_str()).collect::<String>(),
            );
        }
        for (id, inner) in &self.ignored {
            subst.inner.insert(id.clone(), inner.clone());
        }
        serialize_children(doc.root_element(), &subst)
    }
}

/// Replacements for the content of elements, by element id.
#[derive(Debug, Default)]
pub(crate) struct Subst {
    pub(crate) inner: BTreeMap<String, String>,
}

/// `html` with the content of the elements named in `subst` replaced (normalized through the
/// parser either way).
pub(crate) fn substitute(html: &str, subst: &Subst) -> String {
    let doc = Html::parse_fragment(html);
    serialize_children(doc.root_element(), subst)
}

/// `html` parsed and written back, for comparisons that should not depend on how the markup
/// was spelled; `data-phx-component` and `data-phx-view` (added by the client) are dropped.
pub(crate) fn normalize(html: &str) -> String {
    let doc = Html::parse_fragment(html);
    let mut out = String::new();
    for child in doc.root_element().children() {
        write_node(child, &Subst::default(), true, &mut out);
    }
    out
}

fn serialize_children(el: ElementRef<'_>, subst: &Subst) -> String {
    let mut out = String::new();
    for child in el.children() {
        write_node(child, subst, false, &mut out);
    }
    out
}

fn serialize_element(el: ElementRef<'_>, subst: &Subst) -> String {
    let mut out = String::new();
    write_node(*el, subst, false, &mut out);
    out
}

fn write_node(
    node: ego_tree::NodeRef<'_, Node>,
    subst: &Subst,
    strip_client_attrs: bool,
    out: &mut String,
) {
    match node.value() {
        Node::Text(text) => {
            let raw = node
                .parent()
                .and_then(|p| p.value().as_element())
                .is_some_and(|p| RAW_TEXT.contains(&p.name()));
            if raw {
                out.push_str(text);
            } else {
                escape_text(text, out);
            }
        }
        Node::Comment(comment) => {
            out.push_str("<!--");
            out.push_str(comment);
            out.push_str("-->");
        }
        Node::Element(el) => {
            let name = el.name();
            out.push('<');
            out.push_str(name);
            for (attr, value) in el.attrs() {
                if strip_client_attrs && (attr == "data-phx-component" || attr == "data-phx-view") {
                    continue;
                }
                out.push(' ');
                out.push_str(attr);
                out.push_str("=\"");
                escape_attr(value, out);
                out.push('"');
            }
            out.push('>');
            if VOID.contains(&name) {
                return;
            }
            match el.id().and_then(|id| subst.inner.get(id)) {
                Some(inner) => out.push_str(inner),
                None => {
                    for child in node.children() {
                        write_node(child, subst, strip_client_attrs, out);
                    }
                }
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        Node::Document | Node::Fragment => {
            for child in node.children() {
                write_node(child, subst, strip_client_attrs, out);
            }
        }
        Node::Doctype(_) | Node::ProcessingInstruction(_) => {}
    }
}

fn escape_text(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
}

/// The text of an element as a browser's `textContent`, with runs of whitespace collapsed
/// and trimmed (what a test means by "the element says …").
pub(crate) fn text_of(el: ElementRef<'_>) -> String {
    el.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The closest ancestor-or-self element matching `pred`.
pub(crate) fn closest<'a>(
    el: ElementRef<'a>,
    pred: impl Fn(ElementRef<'a>) -> bool,
) -> Option<ElementRef<'a>> {
    if pred(el) {
        return Some(el);
    }
    el.ancestors()
        .filter_map(ElementRef::wrap)
        .find(|a| pred(*a))
}
