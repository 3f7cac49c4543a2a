//! JSON text written straight into a `String`: the frames and diffs on the hot path are built
//! without an intermediate `serde_json::Value`.

use serde_json::Value;

/// Writes `s` as a JSON string literal (quotes included) to out.
///
/// Escapes `"`, `\` and control characters; other characters, non-ASCII included, stay raw.
pub(crate) fn write_json_str(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => {
                out.push_str(&s[start..i]);
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        // `b` is ASCII, so `i` and `i + 1` are char boundaries.
        out.push_str(&s[start..i]);
        out.push_str(esc);
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends the decimal digits of `n`.
pub(crate) fn write_usize(mut n: usize, out: &mut String) {
    if n < 10 {
        out.push(char::from(b'0' + n as u8));
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while n > 0 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    for &d in &buf[i..] {
        out.push(char::from(d));
    }
}

/// `{"key":json}`: wraps an already-written JSON value in a one-member object.
pub(crate) fn wrap(key: &str, json: &str) -> String {
    let mut out = String::with_capacity(key.len() + json.len() + 5);
    out.push_str("{\"");
    out.push_str(key);
    out.push_str("\":");
    out.push_str(json);
    out.push('}');
    out
}

/// Writes `,"key":` into an object being built, without the comma for its first member.
pub(crate) fn push_member(out: &mut String, has: &mut bool, key: &str) {
    if *has {
        out.push(',');
    }
    *has = true;
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
}

/// Writes a `serde_json::Value` (payloads of pushed events and hook replies).
pub(crate) fn write_value(value: &Value, out: &mut String) {
    // `Value`'s `Display` is its compact JSON text.
    use std::fmt::Write as _;
    let _ = write!(out, "{value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_quotes_backslashes_and_control_characters() {
        let mut out = String::new();
        write_json_str("a\"b\\c\nd\u{1}é", &mut out);
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
        out.clear();
        write_json_str("\"\\/\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}é✓<>&'", &mut out);
        assert_eq!(
            out,
            r#""\"\\/\b\f\n\r\t\u0000\u001f"#.to_owned() + "\u{7f}é✓<>&'\""
        );
        let parsed: String = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(parsed, "\"\\/\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}é✓<>&'");
    }

    #[test]
    fn integer_keys() {
        let mut out = String::new();
        for n in [0, 9, 10, 99, 100, 12345, usize::MAX] {
            out.clear();
            write_usize(n, &mut out);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn members_and_wrapping() {
        let mut out = String::new();
        let mut has = false;
        push_member(&mut out, &mut has, "t");
        write_json_str("x", &mut out);
        push_member(&mut out, &mut has, "r");
        write_value(&serde_json::json!({"ok": true}), &mut out);
        assert_eq!(
            wrap("diff", &format!("{{{out}}}")),
            r#"{"diff":{"t":"x","r":{"ok":true}}}"#
        );
    }
}
