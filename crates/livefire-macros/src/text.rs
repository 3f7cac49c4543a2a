//! Compile-time copies of the runtime escaper and fingerprint.

/// HTML-escapes `text` exactly as `livefire::escape::escape_html` does.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The fingerprint of a list of static parts: the same FNV-1a as
/// `livefire::rendered::Statics::fingerprint_of`.
pub(crate) fn fingerprint_of(parts: &[String]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &byte in part.as_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // Separator that cannot occur in UTF-8 text, so ["ab",""] != ["a","b"].
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_characters() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn fingerprint_separates_parts() {
        let a = fingerprint_of(&["ab".into(), String::new()]);
        let b = fingerprint_of(&["a".into(), "b".into()]);
        assert_ne!(a, b);
        assert_eq!(fingerprint_of(&[]), 0xcbf2_9ce4_8422_2325);
    }
}
