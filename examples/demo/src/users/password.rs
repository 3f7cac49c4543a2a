//! Password hashing: Argon2id at the OWASP minimum (`m=19456,t=2,p=1`) on the
//! [password pool](super::pool), verification that costs the same for unknown emails (a dummy
//! hash), and the check that upgrades weaker stored hashes (docs/threat-model.md R10, cases 61
//! and 63).
//!
//! **Memory.** Each hash needs 19 MiB of Argon2 blocks. Allocating them per call (as
//! `password-auth` and `Argon2::hash_password` do) lets glibc keep far more than that per
//! thread: measured here, one thread verifying in a loop settles at about 150 MiB resident, and
//! every thread that ever hashed keeps its own. So each pool thread allocates its blocks once
//! and reuses them for every hash (`with_blocks`): the pool's Argon2 memory is exactly
//! `threads × 19 MiB`, whatever the traffic.

use std::cell::RefCell;
use std::sync::OnceLock;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::StoreError;
use super::pool::Slot;

/// Argon2id parameters a stored hash must meet or exceed; weaker hashes are re-hashed on login.
const MIN_ARGON2_M_KIB: u32 = 19_456;
const MIN_ARGON2_T: u32 = 2;
const MIN_ARGON2_P: u32 = 1;

/// Bytes of random salt in a new hash.
const SALT_LEN: usize = 16;

thread_local! {
    /// This thread's Argon2 blocks, allocated on its first hash and reused by every later one.
    /// Only the pool's threads hash, so only they hold one.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with `count` Argon2 blocks: this thread's reusable buffer, or (for a stored hash
/// with more memory than the current parameters) a temporary one.
fn with_blocks<T>(count: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let ours = Params::DEFAULT.block_count();
    if count > ours {
        return f(&mut vec![Block::default(); count]);
    }
    BLOCKS.with_borrow_mut(|blocks| {
        if blocks.len() < ours {
            *blocks = vec![Block::default(); ours];
        }
        f(&mut blocks[..count])
    })
}

/// A new PHC hash of `password` with the current parameters (Argon2id v19, `m=19456,t=2,p=1`,
/// 16 random bytes of salt, 32 bytes of output).
fn generate(password: &[u8]) -> Result<String, StoreError> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(StoreError::Random)?;
    let params = Params::DEFAULT;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    with_blocks(params.block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password, &salt, &mut out, blocks)
    })
    .expect("constant, valid Argon2 parameters");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes of salt");
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).expect("constant parameters"),
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).expect("32 bytes of output")),
    };
    Ok(phc.to_string())
}

/// Whether `candidate` matches the PHC hash `stored` (any Argon2 variant and parameters); a
/// malformed hash matches nothing. The outputs are compared in constant time.
fn matches(candidate: &[u8], stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(hash.algorithm),
        Params::try_from(&hash),
        hash.salt,
        hash.hash,
    ) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let computed = with_blocks(params.block_count(), |blocks| {
        argon2.hash_password_into_with_memory(candidate, salt, &mut out, blocks)
    });
    computed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
}

/// Hashes `password` with the current parameters, on the pool place `slot`.
pub(super) async fn hash(slot: Slot, password: String) -> Result<String, StoreError> {
    slot.run(move || generate(password.as_bytes())).await?
}

/// Checks `candidate` against the `stored` hash, on the pool place `slot`. Without a stored
/// hash (an unknown email) it verifies against the dummy hash and answers `false`, so both
/// paths cost one Argon2 verification.
pub(super) async fn verify(
    slot: Slot,
    candidate: String,
    stored: Option<String>,
) -> Result<bool, StoreError> {
    Ok(slot
        .run(move || {
            // Always touch the dummy hash so the first call costs the same on both paths.
            let dummy = dummy_hash();
            match stored {
                Some(hash) => matches(candidate.as_bytes(), &hash),
                None => {
                    let _ = matches(candidate.as_bytes(), dummy);
                    false
                }
            }
        })
        .await?)
}

/// Computes the dummy hash ahead of time (see [`Users::warm_up`](super::Users::warm_up)).
pub(super) async fn warm_up(slot: Slot) -> Result<(), StoreError> {
    slot.run(|| {
        dummy_hash();
    })
    .await?;
    Ok(())
}

/// Whether a stored PHC hash is weaker than Argon2id v19 with `m=19456,t=2,p=1` (or unparsable),
/// and should be replaced on the next successful login. Stronger parameters are kept.
///
/// ```
/// use demo::users::password::hash_needs_rehash;
/// assert!(!hash_needs_rehash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
/// assert!(!hash_needs_rehash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaA"));
/// assert!(hash_needs_rehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"));
/// assert!(hash_needs_rehash("$argon2i$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
/// ```
pub fn hash_needs_rehash(hash: &str) -> bool {
    let mut parts = hash.split('$');
    let (Some(""), Some("argon2id"), Some("v=19"), Some(params)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return true;
    };
    let (mut m, mut t, mut p) = (None, None, None);
    for param in params.split(',') {
        let Some((key, value)) = param.split_once('=') else {
            return true;
        };
        let Ok(value) = value.parse::<u32>() else {
            return true;
        };
        match key {
            "m" => m = Some(value),
            "t" => t = Some(value),
            "p" => p = Some(value),
            _ => {}
        }
    }
    !matches!((m, t, p), (Some(m), Some(t), Some(p))
        if m >= MIN_ARGON2_M_KIB && t >= MIN_ARGON2_T && p >= MIN_ARGON2_P)
}

/// The Argon2 hash that unknown emails are verified against, with the same parameters as real
/// hashes. Its password is irrelevant: the result of that verification is always discarded.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        generate(b"livefire demo: no such user").expect("the system's random number generator")
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::hash_needs_rehash;
    use crate::users::tests::{PASSWORD, fixture, fixture_with, lenient, stored_hash};
    use crate::users::{AuthError, RegisterError};

    #[tokio::test]
    async fn case_61_wrong_password_and_unknown_email_are_indistinguishable() {
        let f = fixture_with(lenient());
        f.users
            .register("known@example.com", PASSWORD)
            .await
            .unwrap();
        f.users.warm_up().await.unwrap();

        let wrong = f
            .users
            .authenticate("known@example.com", "not the password")
            .await;
        let unknown = f.users.authenticate("nobody@example.com", PASSWORD).await;
        let (Err(wrong), Err(unknown)) = (wrong, unknown) else {
            panic!("both attempts must fail");
        };
        assert!(matches!(wrong, AuthError::Invalid));
        assert!(matches!(unknown, AuthError::Invalid));
        assert_eq!(wrong.to_string(), unknown.to_string());
        assert_eq!(wrong.to_string(), "invalid email or password");

        // Both paths run exactly one Argon2 verification...
        let before = f.users.verifications();
        let _ = f
            .users
            .authenticate("known@example.com", "not the password")
            .await;
        assert_eq!(f.users.verifications(), before + 1);
        let _ = f
            .users
            .authenticate("nobody@example.com", "not the password")
            .await;
        assert_eq!(f.users.verifications(), before + 2);

        // ...so their timing is comparable (without the dummy hash the unknown path would be
        // about 1000x faster). Loose bounds: other tests run in parallel on 2 cores.
        // Samples are interleaved so that load from other tests hits both paths alike.
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for _ in 0..7 {
            for (email, samples) in [
                ("known@example.com", &mut known),
                ("nobody@example.com", &mut unknown),
            ] {
                let start = Instant::now();
                let _ = f.users.authenticate(email, "not the password").await;
                samples.push(start.elapsed());
            }
        }
        known.sort();
        unknown.sort();
        let (known, unknown) = (known[3], unknown[3]);
        let ratio = unknown.as_secs_f64() / known.as_secs_f64();
        assert!(
            (0.2..5.0).contains(&ratio),
            "median known {known:?} vs unknown {unknown:?}"
        );
    }

    #[tokio::test]
    async fn case_63_hash_is_argon2id_at_owasp_parameters() {
        let f = fixture();
        let user = f
            .users
            .register("hash@example.com", PASSWORD)
            .await
            .unwrap();
        let hash = stored_hash(&f.users, user.id).await;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!hash.contains(PASSWORD));
        assert!(!hash_needs_rehash(&hash));
    }

    #[tokio::test]
    async fn case_63_weaker_hash_is_rehashed_on_next_successful_login() {
        let f = fixture();
        // Argon2i, m=64 MiB, t=1 for the password "password" (a test vector of the password-auth crate).
        let weak = "$argon2i$v=19$m=65536,t=1,p=1$c29tZXNhbHQAAAAAAAAAAA$+r0d29hqEB0yasKr55ZgICsQGSkl0v0kgwhd+U3wyRo";
        assert!(hash_needs_rehash(weak));
        let id: i64 = f
            .users
            .db()
            .unwrap()
            .call(move |c| {
                c.query_row(
                    "INSERT INTO users (email, password_hash, inserted_at) VALUES ('old@example.com', ?1, 0) RETURNING id",
                    [weak],
                    |r| r.get(0),
                )
            })
            .await
            .unwrap();
        // A failed login leaves the hash alone.
        assert!(
            f.users
                .authenticate("old@example.com", "wrong")
                .await
                .is_err()
        );
        assert_eq!(stored_hash(&f.users, id).await, weak);

        let user = f
            .users
            .authenticate("old@example.com", "password")
            .await
            .unwrap();
        assert_eq!(user.id, id);
        let upgraded = stored_hash(&f.users, id).await;
        assert!(
            upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{upgraded}"
        );
        assert!(
            f.users
                .authenticate("old@example.com", "password")
                .await
                .is_ok()
        );
    }

    #[test]
    fn hash_needs_rehash_compares_each_parameter() {
        let h = |s: &str| hash_needs_rehash(&format!("$argon2id$v=19${s}$c2FsdA$aGFzaA"));
        assert!(!h("m=19456,t=2,p=1"));
        assert!(!h("m=65536,t=3,p=4"), "stronger parameters are kept");
        assert!(
            h("m=47104,t=1,p=1"),
            "OWASP alternatives are normalised to the default"
        );
        assert!(h("m=19455,t=2,p=1"));
        assert!(h("m=19456,t=1,p=1"));
        assert!(h("m=19456,t=2,p=0"));
        assert!(h("m=19456,t=2"));
        assert!(h("m=x,t=2,p=1"));
        assert!(!h("p=1,t=2,m=19456"), "parameter order does not matter");
        assert!(hash_needs_rehash(
            "$argon2id$v=16$m=19456,t=2,p=1$c2FsdA$aGFzaA"
        ));
        assert!(hash_needs_rehash("$2b$12$abcdefghijklmnopqrstuv"));
        assert!(hash_needs_rehash(""));
    }

    #[tokio::test]
    async fn case_64_no_truncation_and_overlong_passwords_rejected_before_hashing() {
        let f = fixture_with(lenient());
        let base = "a".repeat(72);
        let registered = format!("{base}XXXXXXXX");
        let other = format!("{base}YYYYYYYY");
        assert_eq!(registered.len(), 80);
        f.users
            .register("long@example.com", &registered)
            .await
            .unwrap();
        assert!(matches!(
            f.users.authenticate("long@example.com", &other).await,
            Err(AuthError::Invalid)
        ));
        assert!(matches!(
            f.users.authenticate("long@example.com", &base).await,
            Err(AuthError::Invalid)
        ));
        assert!(
            f.users
                .authenticate("long@example.com", &registered)
                .await
                .is_ok()
        );

        // A 10 000-character password is refused without running Argon2, quickly.
        let huge = "p".repeat(10_000);
        let before = f.users.verifications();
        let start = Instant::now();
        assert!(matches!(
            f.users.register("huge@example.com", &huge).await,
            Err(RegisterError::PasswordTooLong { .. })
        ));
        assert!(matches!(
            f.users.authenticate("long@example.com", &huge).await,
            Err(AuthError::Invalid)
        ));
        assert!(
            start.elapsed() < Duration::from_millis(200),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(f.users.verifications(), before);
        assert_eq!(
            f.users.user_by_email("huge@example.com").await.unwrap(),
            None
        );
    }
}
