//! CSRF protection for form posts and other unsafe requests.
//!
//! Each session has a 32-byte random CSRF secret ([`crate::session::Session::csrf_token`]
//! creates it lazily). Pages embed a *masked* token, `base64url(mask ‖ mask ⊕ secret)` with a
//! fresh random mask every time, so the token in the HTML differs per render (BREACH
//! mitigation, like Plug.CSRFProtection) while every mask verifies.
//!
//! [`VerifyCsrfLayer`] requires a valid token on every request whose method is not `GET`,
//! `HEAD` or `OPTIONS`: either the `_csrf_token` field of an
//! `application/x-www-form-urlencoded` body (at most [`MAX_FORM_BODY`] bytes are buffered, then
//! the body is handed to the handler unchanged) or the `x-csrf-token` header. Anything else is
//! answered with 403 and the handler is not called. It reads the session, so it must sit inside
//! [`crate::session::CookieSessionLayer`]. Multipart forms must send the header.
//!
//! ```
//! use axum::{Router, routing::post};
//! use livefire::csrf::VerifyCsrfLayer;
//! use livefire::session::CookieSessionLayer;
//! use livefire::token::Keyring;
//!
//! let app: Router = Router::new()
//!     .route("/users/log-in", post(|| async { "ok" }))
//!     .layer(VerifyCsrfLayer::new())
//!     .layer(CookieSessionLayer::new(Keyring::new([3u8; 64]).unwrap()));
//! ```

mod layer;
mod service;

pub use self::layer::VerifyCsrfLayer;
pub use self::service::VerifyCsrf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::token::random_bytes;

/// Name of the form field carrying the token (as in Phoenix).
pub const CSRF_FORM_FIELD: &str = "_csrf_token";

/// Name of the request header carrying the token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Most bytes of a url-encoded form body buffered to look for the token (64 KiB); larger bodies
/// get 413.
pub const MAX_FORM_BODY: usize = 64 * 1024;

/// Length of a masked token in characters (64 bytes, base64url without padding).
pub const MASKED_TOKEN_LEN: usize = 86;

/// Masks `secret` with a fresh random pad: `base64url(mask ‖ mask ⊕ secret)`.
///
/// ```
/// use livefire::csrf::{mask_token, verify_masked};
/// let secret = [7u8; 32];
/// let (a, b) = (mask_token(&secret), mask_token(&secret));
/// assert_ne!(a, b);
/// assert!(verify_masked(&secret, &a) && verify_masked(&secret, &b));
/// assert!(!verify_masked(&[8u8; 32], &a));
/// ```
pub fn mask_token(secret: &[u8; 32]) -> String {
    let mask = random_bytes::<32>();
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&mask);
    for (i, byte) in out[32..].iter_mut().enumerate() {
        *byte = mask[i] ^ secret[i];
    }
    URL_SAFE_NO_PAD.encode(out)
}

/// Checks a masked token against `secret` in constant time (for well-formed input).
///
/// ```
/// use livefire::csrf::{MASKED_TOKEN_LEN, mask_token, verify_masked};
/// let secret = [7u8; 32];
/// let token = mask_token(&secret);
/// assert_eq!(token.len(), MASKED_TOKEN_LEN);
/// assert!(verify_masked(&secret, &token));
/// assert!(!verify_masked(&secret, &token[..MASKED_TOKEN_LEN - 1])); // truncated
/// assert!(!verify_masked(&secret, &"A".repeat(MASKED_TOKEN_LEN))); // unmasks to 32 zero bytes
/// ```
pub fn verify_masked(secret: &[u8; 32], token: &str) -> bool {
    if token.len() != MASKED_TOKEN_LEN {
        return false;
    }
    let mut raw = [0u8; 64];
    match URL_SAFE_NO_PAD.decode_slice(token, &mut raw) {
        Ok(64) => {}
        _ => return false,
    }
    let mut unmasked = [0u8; 32];
    for (i, byte) in unmasked.iter_mut().enumerate() {
        *byte = raw[i] ^ raw[32 + i];
    }
    unmasked.ct_eq(secret).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_token_round_trip_and_rejections() {
        let secret = [0xA5u8; 32];
        let token = mask_token(&secret);
        assert_eq!(token.len(), MASKED_TOKEN_LEN);
        assert!(verify_masked(&secret, &token));
        // Flip every character position: must never verify.
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(bytes).expect("ascii");
            assert!(!verify_masked(&secret, &t), "position {i}");
        }
        assert!(!verify_masked(&secret, ""));
        assert!(!verify_masked(&secret, &token[..85]));
        assert!(!verify_masked(&secret, &format!("{token}A")));
        assert!(!verify_masked(&secret, &"!".repeat(86)));
        // The unmasked secret itself is not a valid token.
        assert!(!verify_masked(&secret, &URL_SAFE_NO_PAD.encode(secret)));
    }
}
