//! `escape::escape_html` on arbitrary text: the output holds no `<`, `>`, `"` or `'`, every `&`
//! starts one of the five entities, unescaping gives the input back, and `escape_html_into`
//! appends exactly the same text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use livefire::escape::{escape_html, escape_html_into};

const ENTITIES: [(&str, char); 5] = [
    ("&amp;", '&'),
    ("&lt;", '<'),
    ("&gt;", '>'),
    ("&quot;", '"'),
    ("&#39;", '\''),
];

/// Strict unescaper: panics on any `&` that does not start one of the five entities.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let (entity, ch) = ENTITIES
            .iter()
            .find(|(e, _)| rest.starts_with(e))
            .unwrap_or_else(|| panic!("bare `&` in escaped output {s:?}"));
        out.push(*ch);
        rest = &rest[entity.len()..];
    }
    out.push_str(rest);
    out
}

fuzz_target!(|text: &str| {
    let out = escape_html(text);
    assert!(
        !out.contains(['<', '>', '"', '\'']),
        "unescaped markup character in {out:?}"
    );
    assert_eq!(unescape(&out), text);

    let mut appended = String::from("x<");
    escape_html_into(text, &mut appended);
    assert_eq!(appended.strip_prefix("x<"), Some(out.as_str()));
});
