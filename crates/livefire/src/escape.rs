//! HTML escaping for dynamic text and attribute values.
//!
//! One escaper serves both text and quoted attribute values: it replaces the five characters
//! `& < > " '`. Statics are escaped by the `html!` macro at compile time; dynamics here at run time.
//!
//! Because every dynamic is stored escaped, the diffs sent over the socket carry escaped HTML
//! too: the client inserts it as markup, so escaping once on the server is what keeps user text
//! from becoming script. The one exception is the quoted content of `<script>` and `<style>`,
//! written as is (the macro rejects a literal that contains `</script`).
//!
//! ```
//! use livefire::html;
//!
//! let user = "<img src=x onerror=alert(1)>";
//! let page = html!(
//!     <p title="Q&A">"1 < 2 " {user}</p>
//!     <><input disabled><br/></>
//!     <script>"if (a < b) go();"</script>
//! );
//! assert_eq!(
//!     page.to_html(),
//!     "<p title=\"Q&amp;A\">1 &lt; 2 &lt;img src=x onerror=alert(1)&gt;</p>\
//!      <input disabled><br><script>if (a < b) go();</script>"
//! );
//! // The statics were escaped at compile time; only `user` is a hole.
//! assert_eq!(page.statics().parts()[0], "<p title=\"Q&amp;A\">1 &lt; 2 ");
//! ```

/// Escapes `text` for HTML text or a quoted attribute value.
///
/// ```
/// assert_eq!(livefire::escape::escape_html("<a href=\"x\">'&'</a>"),
///            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
/// ```
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    escape_html_into(text, &mut out);
    out
}

/// Appends `text` to `out`, escaped.
///
/// ```
/// let mut out = String::from("x=");
/// livefire::escape::escape_html_into("1<2", &mut out);
/// assert_eq!(out, "x=1&lt;2");
/// ```
pub fn escape_html_into(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// No dynamic value can produce an unescaped `<`, `>`, `"` or `'`.
        #[test]
        fn escaped_output_has_no_markup_characters(s in any::<String>()) {
            let out = escape_html(&s);
            prop_assert!(!out.contains(['<', '>', '"', '\'']));
        }

        /// Unescaping the output gives back the input (the escaper loses nothing).
        #[test]
        fn escape_round_trips(s in any::<String>()) {
            let out = escape_html(&s)
                .replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"")
                .replace("&#39;", "'").replace("&amp;", "&");
            prop_assert_eq!(out, s);
        }
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(escape_html("hello world"), "hello world");
        assert_eq!(escape_html(""), "");
        assert_eq!(escape_html("é<ü"), "é&lt;ü");
    }
}
