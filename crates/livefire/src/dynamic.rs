//! Conversions from Rust values into the holes of an [`html!`](crate::html) template.
//!
//! * `{expr}` in element content calls [`IntoDynamic::into_dynamic`]. Text-like values (strings,
//!   numbers, `bool`, `char`) are HTML-escaped; [`Rendered`] becomes a nested node;
//!   [`Comprehension`] and [`Dynamic`] are used as they are; `None` renders nothing. [`Raw`] is
//!   the only value written without escaping.
//! * `name={expr}` in an attribute calls [`AttrValue::write_attr`] through [`attr`], which writes
//!   the whole attribute (` name="escaped value"`), or ` name` / nothing for `bool`, or nothing
//!   for `None`.
//!
//! References work wherever the referenced type works (`&String`, `&&str`, `&i32`,
//! `&Rendered`, …), through [`ToDynamic`] for content and a blanket impl for attributes.
//!
//! # Lists of templates
//!
//! A `Vec<Rendered>` (for example `items.iter().map(row).collect::<Vec<_>>()`) becomes:
//! * nothing (`""`) when empty;
//! * a [`Comprehension`] with the shared statics when every element was built from the same
//!   template (equal statics);
//! * otherwise a [`Comprehension`] with statics `["", ""]` whose entries each hold one element
//!   as a nested node.
//!
//! Prefer `@for` inside the template: its statics are known at compile time.
//!
//! ```
//! use livefire::html;
//! let name = "<Ann>";
//! let rows: Vec<_> = [1, 2].iter().map(|n| html!(<li>{n}</li>)).collect();
//! let page = html!(<p class={Some("x")} hidden={false}>"Hi " {name}</p><ul>{rows}</ul>);
//! assert_eq!(page.to_html(), "<p class=\"x\">Hi &lt;Ann&gt;</p><ul><li>1</li><li>2</li></ul>");
//! ```

use std::borrow::Cow;

use crate::escape::escape_html_into;
use crate::rendered::{Comprehension, Dynamic, Raw, Rendered, Statics};

/// A value that can fill a content hole (`{expr}`) of a template.
///
/// Implementations must escape text: only [`Raw`] may produce unescaped HTML.
///
/// ```
/// use livefire::dynamic::IntoDynamic;
/// let mut out = String::new();
/// "a<b".into_dynamic().write_html(&mut out);
/// 42u8.into_dynamic().write_html(&mut out);
/// None::<String>.into_dynamic().write_html(&mut out);
/// assert_eq!(out, "a&lt;b42");
/// ```
pub trait IntoDynamic {
    /// Converts the value into the dynamic of one hole.
    fn into_dynamic(self) -> Dynamic;
}

/// By-reference conversion into a dynamic; gives [`IntoDynamic`] to `&T` for every `T: ToDynamic`.
///
/// ```
/// use livefire::dynamic::ToDynamic;
/// let mut out = String::new();
/// String::from("x&y").to_dynamic().write_html(&mut out);
/// assert_eq!(out, "x&amp;y");
/// ```
pub trait ToDynamic {
    /// Converts a borrowed value into the dynamic of one hole.
    fn to_dynamic(&self) -> Dynamic;
}

impl<T: ToDynamic + ?Sized> IntoDynamic for &T {
    fn into_dynamic(self) -> Dynamic {
        self.to_dynamic()
    }
}

impl<T: ToDynamic + ?Sized> ToDynamic for &T {
    fn to_dynamic(&self) -> Dynamic {
        (**self).to_dynamic()
    }
}

impl<T: ToDynamic + ?Sized> ToDynamic for &mut T {
    fn to_dynamic(&self) -> Dynamic {
        (**self).to_dynamic()
    }
}

impl<T: ToDynamic + ?Sized> ToDynamic for Box<T> {
    fn to_dynamic(&self) -> Dynamic {
        (**self).to_dynamic()
    }
}

impl ToDynamic for str {
    fn to_dynamic(&self) -> Dynamic {
        Dynamic::text(self)
    }
}

impl ToDynamic for String {
    fn to_dynamic(&self) -> Dynamic {
        Dynamic::text(self)
    }
}

impl IntoDynamic for String {
    fn into_dynamic(self) -> Dynamic {
        if needs_escape(&self) {
            Dynamic::text(&self)
        } else {
            // Nothing to escape: keep the allocation.
            Dynamic::Html(Cow::Owned(self))
        }
    }
}

impl ToDynamic for Cow<'_, str> {
    fn to_dynamic(&self) -> Dynamic {
        Dynamic::text(self)
    }
}

impl IntoDynamic for Cow<'_, str> {
    fn into_dynamic(self) -> Dynamic {
        match self {
            Cow::Owned(s) => s.into_dynamic(),
            Cow::Borrowed(s) => Dynamic::text(s),
        }
    }
}

impl ToDynamic for char {
    fn to_dynamic(&self) -> Dynamic {
        Dynamic::text(self.encode_utf8(&mut [0; 4]))
    }
}

impl IntoDynamic for char {
    fn into_dynamic(self) -> Dynamic {
        self.to_dynamic()
    }
}

impl ToDynamic for bool {
    fn to_dynamic(&self) -> Dynamic {
        Dynamic::Html(Cow::Borrowed(if *self { "true" } else { "false" }))
    }
}

impl IntoDynamic for bool {
    fn into_dynamic(self) -> Dynamic {
        self.to_dynamic()
    }
}

/// Numbers print with `Display`, which never produces characters that need escaping.
macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl ToDynamic for $t {
            fn to_dynamic(&self) -> Dynamic {
                Dynamic::Html(Cow::Owned(self.to_string()))
            }
        }
        impl IntoDynamic for $t {
            fn into_dynamic(self) -> Dynamic {
                self.to_dynamic()
            }
        }
        impl AttrValue for $t {
            fn write_attr(&self, name: &str, out: &mut String) {
                push_attr(name, &self.to_string(), out);
            }
        }
    )*};
}

numbers!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64
);

impl ToDynamic for Rendered {
    fn to_dynamic(&self) -> Dynamic {
        Dynamic::Nested(self.clone())
    }
}

impl IntoDynamic for Rendered {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Nested(self)
    }
}

impl ToDynamic for Comprehension {
    fn to_dynamic(&self) -> Dynamic {
        Dynamic::Comprehension(self.clone())
    }
}

impl IntoDynamic for Comprehension {
    fn into_dynamic(self) -> Dynamic {
        Dynamic::Comprehension(self)
    }
}

impl ToDynamic for Raw {
    fn to_dynamic(&self) -> Dynamic {
        Raw::into_dynamic(self.clone())
    }
}

impl IntoDynamic for Raw {
    fn into_dynamic(self) -> Dynamic {
        Raw::into_dynamic(self)
    }
}

impl ToDynamic for Dynamic {
    fn to_dynamic(&self) -> Dynamic {
        self.clone()
    }
}

impl IntoDynamic for Dynamic {
    fn into_dynamic(self) -> Dynamic {
        self
    }
}

impl<T: ToDynamic> ToDynamic for Option<T> {
    fn to_dynamic(&self) -> Dynamic {
        match self {
            Some(v) => v.to_dynamic(),
            None => Dynamic::empty(),
        }
    }
}

impl<T: IntoDynamic> IntoDynamic for Option<T> {
    fn into_dynamic(self) -> Dynamic {
        match self {
            Some(v) => v.into_dynamic(),
            None => Dynamic::empty(),
        }
    }
}

/// Statics of the fallback list: one hole per entry, each holding a nested node.
static LIST_ENTRY: Statics = Statics::new(&["", ""], Statics::fingerprint_of(&["", ""]));

fn same_statics(a: &'static Statics, b: &'static Statics) -> bool {
    std::ptr::eq(a, b) || (a.fingerprint() == b.fingerprint() && a.parts() == b.parts())
}

impl IntoDynamic for Vec<Rendered> {
    fn into_dynamic(self) -> Dynamic {
        let Some(first) = self.first() else {
            return Dynamic::empty();
        };
        let statics = first.statics();
        if self.iter().all(|r| same_statics(r.statics(), statics)) {
            let entries = self.into_iter().map(Rendered::into_dynamics).collect();
            Dynamic::Comprehension(Comprehension::new(statics, entries))
        } else {
            let entries = self.into_iter().map(|r| vec![Dynamic::Nested(r)]).collect();
            Dynamic::Comprehension(Comprehension::new(&LIST_ENTRY, entries))
        }
    }
}

impl ToDynamic for Vec<Rendered> {
    fn to_dynamic(&self) -> Dynamic {
        self.clone().into_dynamic()
    }
}

impl ToDynamic for [Rendered] {
    fn to_dynamic(&self) -> Dynamic {
        self.to_vec().into_dynamic()
    }
}

fn needs_escape(s: &str) -> bool {
    s.bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
}

/// A value that can fill an attribute hole (`name={expr}`) of a template.
///
/// The implementation writes the *whole* attribute, with its leading space, or nothing: strings
/// and numbers write ` name="escaped value"`, `bool` writes ` name` when true, `None` writes
/// nothing. Implement it for your own types with [`push_attr`], which escapes the value.
///
/// ```
/// use livefire::dynamic::AttrValue;
/// let mut out = String::new();
/// "a\"b".write_attr("title", &mut out);
/// true.write_attr("disabled", &mut out);
/// false.write_attr("hidden", &mut out);
/// None::<&str>.write_attr("class", &mut out);
/// assert_eq!(out, " title=\"a&quot;b\" disabled");
/// ```
pub trait AttrValue {
    /// Appends ` name="value"` (or the boolean form, or nothing) to `out`.
    fn write_attr(&self, name: &str, out: &mut String);
}

/// Appends ` name="value"` to `out`, escaping `value`. `name` is written as is.
///
/// ```
/// let mut out = String::new();
/// livefire::dynamic::push_attr("phx-click", r#"[["push",{"event":"inc"}]]"#, &mut out);
/// assert_eq!(out, r#" phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;inc&quot;}]]""#);
/// ```
pub fn push_attr(name: &str, value: &str, out: &mut String) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_html_into(value, out);
    out.push('"');
}

/// The dynamic of an attribute hole: what `name={value}` compiles to.
///
/// ```
/// use livefire::dynamic::attr;
/// let mut out = String::new();
/// attr("phx-value-id", 7).write_html(&mut out);
/// attr("checked", false).write_html(&mut out);
/// assert_eq!(out, " phx-value-id=\"7\"");
/// ```
pub fn attr<V: AttrValue>(name: &str, value: V) -> Dynamic {
    let mut out = String::new();
    value.write_attr(name, &mut out);
    if out.is_empty() {
        Dynamic::empty()
    } else {
        Dynamic::Html(Cow::Owned(out))
    }
}

/// The dynamic of an attribute hole whose value is a place (`name={self.field}`): what
/// [`attr`] does, by reference, so the field is not moved out of `self`.
///
/// ```
/// use livefire::dynamic::attr_ref;
/// let title = String::from("a\"b");
/// let mut out = String::new();
/// attr_ref("title", &title).write_html(&mut out);
/// assert_eq!(out, " title=\"a&quot;b\"");
/// ```
pub fn attr_ref<V: AttrValue + ?Sized>(name: &str, value: &V) -> Dynamic {
    attr(name, value)
}

impl<T: AttrValue + ?Sized> AttrValue for &T {
    fn write_attr(&self, name: &str, out: &mut String) {
        (**self).write_attr(name, out);
    }
}

impl<T: AttrValue + ?Sized> AttrValue for &mut T {
    fn write_attr(&self, name: &str, out: &mut String) {
        (**self).write_attr(name, out);
    }
}

impl<T: AttrValue + ?Sized> AttrValue for Box<T> {
    fn write_attr(&self, name: &str, out: &mut String) {
        (**self).write_attr(name, out);
    }
}

impl AttrValue for str {
    fn write_attr(&self, name: &str, out: &mut String) {
        push_attr(name, self, out);
    }
}

impl AttrValue for String {
    fn write_attr(&self, name: &str, out: &mut String) {
        push_attr(name, self, out);
    }
}

impl AttrValue for Cow<'_, str> {
    fn write_attr(&self, name: &str, out: &mut String) {
        push_attr(name, self, out);
    }
}

impl AttrValue for char {
    fn write_attr(&self, name: &str, out: &mut String) {
        push_attr(name, self.encode_utf8(&mut [0; 4]), out);
    }
}

impl AttrValue for bool {
    fn write_attr(&self, name: &str, out: &mut String) {
        if *self {
            out.push(' ');
            out.push_str(name);
        }
    }
}

impl<T: AttrValue> AttrValue for Option<T> {
    fn write_attr(&self, name: &str, out: &mut String) {
        if let Some(v) = self {
            v.write_attr(name, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(d: Dynamic) -> String {
        let mut out = String::new();
        d.write_html(&mut out);
        out
    }

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(html("<&>".into_dynamic()), "&lt;&amp;&gt;");
        assert_eq!(html(String::from("'\"").into_dynamic()), "&#39;&quot;");
        assert_eq!(html(Cow::Borrowed("<").into_dynamic()), "&lt;");
        assert_eq!(html('<'.into_dynamic()), "&lt;");
        assert_eq!(html((&&"<").into_dynamic()), "&lt;");
        assert_eq!(html(Some(&String::from("<")).into_dynamic()), "&lt;");
    }

    #[test]
    fn scalars_render_with_display() {
        assert_eq!(html((-3i64).into_dynamic()), "-3");
        assert_eq!(html(1.5f64.into_dynamic()), "1.5");
        assert_eq!(html(true.into_dynamic()), "true");
        assert_eq!(html((&7u8).into_dynamic()), "7");
    }

    #[test]
    fn raw_is_not_escaped() {
        assert_eq!(html(Raw::new_unchecked("<b>").into_dynamic()), "<b>");
        assert_eq!(html((&Raw::new_unchecked("<i>")).into_dynamic()), "<i>");
    }

    #[test]
    fn empty_list_is_empty_text() {
        assert!(matches!(
            Vec::<Rendered>::new().into_dynamic(),
            Dynamic::Html(s) if s.is_empty()
        ));
    }

    #[test]
    fn attribute_values_are_escaped() {
        let mut out = String::new();
        String::from("\"><script>").write_attr("title", &mut out);
        assert_eq!(out, " title=\"&quot;&gt;&lt;script&gt;\"");
        let mut out = String::new();
        Some(Some(3u32)).write_attr("tabindex", &mut out);
        Some(true).write_attr("open", &mut out);
        Some(false).write_attr("closed", &mut out);
        assert_eq!(out, " tabindex=\"3\" open");
    }
}
