//! The token of one upload entry: what the preflight reply gives the client for each valid
//! file, and what its `lvu:<entry ref>` join must present.
//!
//! Sealed with the [`Keyring`] (encrypted, authenticated, expiring), it names the view's
//! container (so only a view joined on the same socket can receive the file), the upload's
//! ref (which changes each time the upload is allowed) and the entry's ref (which must be the
//! joined topic). The view registers each entry once, so a token cannot be replayed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::token::{Keyring, TokenError};

const PURPOSE: &str = "lv-upload";
/// How long after the preflight an entry can start uploading.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// What an entry token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EntryClaims {
    /// The view's container id (topic `lv:<id>`).
    pub(crate) view: String,
    /// The upload's ref.
    pub(crate) upload: String,
    /// The entry's ref (topic `lvu:<ref>`).
    pub(crate) entry: String,
}

pub(crate) fn seal_entry_token(keyring: &Keyring, claims: &EntryClaims) -> String {
    keyring.seal(PURPOSE, claims, MAX_AGE)
}

pub(crate) fn open_entry_token(keyring: &Keyring, token: &str) -> Result<EntryClaims, TokenError> {
    keyring.open(PURPOSE, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_tokens_round_trip_and_resist_tampering() {
        let keyring = Keyring::random();
        let claims = EntryClaims {
            view: "phx-a".into(),
            upload: "phx-u".into(),
            entry: "0".into(),
        };
        let token = seal_entry_token(&keyring, &claims);
        assert_eq!(open_entry_token(&keyring, &token).unwrap(), claims);
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] ^= 1;
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(open_entry_token(&keyring, &tampered).is_err());
        // Another key, or a page token's purpose, does not open it.
        assert!(open_entry_token(&Keyring::random(), &token).is_err());
        assert!(keyring.open::<EntryClaims>("lv-session", &token).is_err());
    }
}
