//! Validation of local redirect targets (open-redirect defence).
//!
//! Any redirect or navigation target that may come from user input (`return_to`, a query
//! parameter, an event value) must go through [`local_path`]: it accepts only a path on this
//! origin, like `/account?tab=1#top`, and rejects everything a browser could resolve to another
//! origin or to script. The rules follow Phoenix's `validate_local_url` (a leading `/`, no `//`,
//! no `\`, no `/%09`, no `/\t`) and are stricter:
//!
//! - the target must start with exactly one `/` (so `https://…`, `//host`, `javascript:`,
//!   `data:`, `vbscript:` and relative paths are all refused);
//! - no `\` anywhere (browsers treat it as `/` in special URLs, so `/\evil.com` is
//!   protocol-relative);
//! - no whitespace or control character anywhere (browsers strip tabs and newlines inside URLs,
//!   so `/\t/evil.com` becomes `//evil.com`), and no percent-encoded control character (`%09`,
//!   `%0A`, …) or backslash (`%5C`), in case something decodes the path once more;
//! - ASCII only: percent-encode other characters.
//!
//! ```
//! use livefire::redirect::{local_path, local_path_or};
//! assert_eq!(local_path("/account?tab=1#top"), Ok("/account?tab=1#top"));
//! assert!(local_path("//evil.example").is_err());
//! assert_eq!(local_path_or("https://evil.example/", "/"), "/");
//! ```

/// Why a redirect target was refused.
///
/// ```
/// use livefire::redirect::{local_path, RedirectError};
/// assert_eq!(local_path(""), Err(RedirectError::Empty));
/// assert_eq!(local_path("javascript:alert(1)"), Err(RedirectError::NotLocal));
/// assert_eq!(local_path("//evil.example/x"), Err(RedirectError::ProtocolRelative));
/// // Header injection and tab tricks, raw or percent-encoded.
/// assert_eq!(local_path("/%0d%0aSet-Cookie:x=1"), Err(RedirectError::UnsafeCharacter));
/// assert_eq!(local_path("/\t/evil.example"), Err(RedirectError::UnsafeCharacter));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectError {
    /// The target is empty.
    #[error("redirect target is empty")]
    Empty,
    /// The target does not start with `/`: an absolute URL, a scheme such as `javascript:`,
    /// a relative path, or leading whitespace.
    #[error("redirect target is not a local path starting with '/'")]
    NotLocal,
    /// The target starts with `//` (a protocol-relative URL to another host).
    #[error("redirect target is protocol-relative ('//')")]
    ProtocolRelative,
    /// The target contains a backslash, whitespace, a control character (raw or
    /// percent-encoded), or a non-ASCII character.
    #[error("redirect target contains an unsafe character")]
    UnsafeCharacter,
}

/// Returns `to` unchanged if it is a safe path on this origin, or why it is not.
///
/// ```
/// use livefire::redirect::{local_path, RedirectError};
/// assert_eq!(local_path("/x?y#z"), Ok("/x?y#z"));
/// assert_eq!(local_path("https://evil.example"), Err(RedirectError::NotLocal));
/// assert_eq!(local_path("/\\evil.example"), Err(RedirectError::UnsafeCharacter));
/// ```
pub fn local_path(to: &str) -> Result<&str, RedirectError> {
    let bytes = to.as_bytes();
    match bytes {
        [] => return Err(RedirectError::Empty),
        [b'/', b'/', ..] => return Err(RedirectError::ProtocolRelative),
        [b'/', ..] => {}
        _ => return Err(RedirectError::NotLocal),
    }
    for (i, &b) in bytes.iter().enumerate() {
        let unsafe_byte = b == b'\\' || b <= b' ' || b >= 0x7f;
        if unsafe_byte || (b == b'%' && is_unsafe_escape(&bytes[i + 1..])) {
            return Err(RedirectError::UnsafeCharacter);
        }
    }
    Ok(to)
}

/// Returns `to` if [`local_path`] accepts it, else `default` (which should be a constant).
///
/// ```
/// use livefire::redirect::local_path_or;
/// assert_eq!(local_path_or("/orders/7", "/"), "/orders/7");
/// assert_eq!(local_path_or("//evil.example", "/"), "/");
/// ```
pub fn local_path_or<'a>(to: &'a str, default: &'a str) -> &'a str {
    match local_path(to) {
        Ok(path) => path,
        Err(err) => {
            tracing::debug!(%err, "refused redirect target, using the default");
            default
        }
    }
}

/// Whether the two bytes after a `%` encode a control character, DEL or a backslash.
fn is_unsafe_escape(rest: &[u8]) -> bool {
    let (Some(hi), Some(lo)) = (rest.first(), rest.get(1)) else {
        return false;
    };
    let (Some(hi), Some(lo)) = ((*hi as char).to_digit(16), (*lo as char).to_digit(16)) else {
        return false;
    };
    let byte = hi * 16 + lo;
    byte < 0x20 || byte == 0x7f || byte == u32::from(b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_accepted_unchanged() {
        for ok in [
            "/",
            "/x?y#z",
            "/account",
            "/users/42/edit?tab=profile&x=%2F#top",
            "/search?q=a+b%20c",
            "/caf%C3%A9",
            "/a/./b/../c",
            "/javascript:alert(1)",
            "/%2F%2Fstill-a-path",
        ] {
            assert_eq!(local_path(ok), Ok(ok), "{ok:?}");
            assert_eq!(local_path_or(ok, "/default"), ok);
        }
    }

    #[test]
    fn case_56_absolute_urls_are_ignored_for_the_default() {
        for bad in [
            "https://evil.com",
            "http://evil.com/x",
            "HTTPS://evil.com",
            "ftp://evil.com",
            "https:evil.com",
            "evil.com/x",
            "x",
        ] {
            assert_eq!(local_path(bad), Err(RedirectError::NotLocal), "{bad:?}");
            assert_eq!(local_path_or(bad, "/home"), "/home", "{bad:?}");
        }
    }

    #[test]
    fn case_57_protocol_relative_and_obfuscated_hosts_are_rejected() {
        let cases = [
            ("//evil.com", RedirectError::ProtocolRelative),
            ("//evil.example", RedirectError::ProtocolRelative),
            ("///evil.com", RedirectError::ProtocolRelative),
            ("/\\evil.com", RedirectError::UnsafeCharacter),
            ("\\\\evil.com", RedirectError::NotLocal),
            ("\\/evil.com", RedirectError::NotLocal),
            ("/%09/evil.com", RedirectError::UnsafeCharacter),
            ("/%0a/evil.com", RedirectError::UnsafeCharacter),
            ("/%0D/evil.com", RedirectError::UnsafeCharacter),
            ("/%5C/evil.com", RedirectError::UnsafeCharacter),
            ("/%5cevil.com", RedirectError::UnsafeCharacter),
            ("/\t/evil.com", RedirectError::UnsafeCharacter),
            ("/\n/evil.com", RedirectError::UnsafeCharacter),
            ("/\r/evil.com", RedirectError::UnsafeCharacter),
            ("/ /evil.com", RedirectError::UnsafeCharacter),
            ("%2F%2Fevil.com", RedirectError::NotLocal),
            ("%2f%2fevil.com", RedirectError::NotLocal),
            (" //evil.com", RedirectError::NotLocal),
            ("\t//evil.com", RedirectError::NotLocal),
            ("\n/x", RedirectError::NotLocal),
            (" /x", RedirectError::NotLocal),
            ("/x\u{0}y", RedirectError::UnsafeCharacter),
            ("/x\u{7f}", RedirectError::UnsafeCharacter),
            ("/x\u{85}", RedirectError::UnsafeCharacter),
            ("/\u{3000}/evil.com", RedirectError::UnsafeCharacter),
            ("/\u{ff0f}evil.com", RedirectError::UnsafeCharacter),
            ("/x ", RedirectError::UnsafeCharacter),
        ];
        for (bad, expected) in cases {
            assert_eq!(local_path(bad), Err(expected), "{bad:?}");
            assert_eq!(local_path_or(bad, "/"), "/", "{bad:?}");
        }
    }

    #[test]
    fn case_58_script_schemes_are_rejected() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:msgbox(1)",
        ] {
            assert_eq!(local_path(bad), Err(RedirectError::NotLocal), "{bad:?}");
            assert_eq!(local_path_or(bad, "/"), "/", "{bad:?}");
        }
    }

    #[test]
    fn empty_is_rejected() {
        assert_eq!(local_path(""), Err(RedirectError::Empty));
        assert_eq!(local_path_or("", "/"), "/");
    }

    #[test]
    fn truncated_percent_escapes_are_not_misread() {
        assert_eq!(local_path("/100%"), Ok("/100%"));
        assert_eq!(local_path("/x%0"), Ok("/x%0"));
        assert_eq!(local_path("/x%zz"), Ok("/x%zz"));
        assert_eq!(local_path("/x?q=a%20b"), Ok("/x?q=a%20b"));
        assert_eq!(local_path("/x%1f"), Err(RedirectError::UnsafeCharacter));
        assert_eq!(local_path("/x%7F"), Err(RedirectError::UnsafeCharacter));
    }
}
