//! Masking of the per-session CSRF secret (BREACH mitigation, like Plug.CSRFProtection).
//!
//! A masked token is `base64url(mask ‖ mask ⊕ secret)` with a fresh random 32-byte mask, so the
//! token embedded in a page differs on every render while every one of them verifies. Used by
//! [`crate::session::Session::csrf_token`] and [`crate::session::Session::verify_csrf_token`],
//! which [`crate::csrf::VerifyCsrfLayer`] calls.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use super::random_bytes;

/// Length of a masked token in characters (64 bytes, base64url without padding).
pub(crate) const MASKED_TOKEN_LEN: usize = 86;

/// Masks `secret` with a fresh random pad: `base64url(mask ‖ mask ⊕ secret)`.
pub(crate) fn mask_token(secret: &[u8; 32]) -> String {
    let mask = random_bytes::<32>();
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&mask);
    for (i, byte) in out[32..].iter_mut().enumerate() {
        *byte = mask[i] ^ secret[i];
    }
    URL_SAFE_NO_PAD.encode(out)
}

/// Checks a masked token against `secret` in constant time (for well-formed input).
pub(crate) fn verify_masked(secret: &[u8; 32], token: &str) -> bool {
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

    /// Formerly the doc example of `mask_token`.
    #[test]
    fn every_mask_differs_and_verifies() {
        let secret = [7u8; 32];
        let (a, b) = (mask_token(&secret), mask_token(&secret));
        assert_ne!(a, b);
        assert!(verify_masked(&secret, &a) && verify_masked(&secret, &b));
        assert!(!verify_masked(&[8u8; 32], &a));
    }

    /// Formerly the doc example of `verify_masked`.
    #[test]
    fn truncated_and_all_zero_tokens_are_refused() {
        let secret = [7u8; 32];
        let token = mask_token(&secret);
        assert_eq!(token.len(), MASKED_TOKEN_LEN);
        assert!(verify_masked(&secret, &token));
        assert!(!verify_masked(&secret, &token[..MASKED_TOKEN_LEN - 1])); // truncated
        assert!(!verify_masked(&secret, &"A".repeat(MASKED_TOKEN_LEN))); // unmasks to 32 zero bytes
    }

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
