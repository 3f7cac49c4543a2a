//! Server-side session tokens: 32 random bytes handed out base64url-encoded, only their SHA-256
//! stored (docs/threat-model.md R1, R6, cases 13, 68, 69).
//!
//! A live view logs a user in by creating a token here and writing it into the HTTP session
//! with `Socket::put_session`; livefire carries that write to the browser's next request
//! through its single-use, 60-second handoff ticket (see [`crate::web::auth`]).
//!
//! **Idle timeout and reissue** ([`SessionPolicy`], phx.gen.auth's model): every use of a
//! token by a request or a mount records its time (at most once per
//! [`SessionPolicy::touch_every`]), and a token unused for longer than the idle timeout no
//! longer resolves. A token older than [`SessionPolicy::reissue_after`] is replaced on the next
//! request ([`Users::use_session_token`]) by a fresh one of the same kind in the same *login*:
//! the old token stays valid until it expires or idles out, as in phx.gen.auth, so concurrent
//! requests that each reissue never log the browser out (each gets a valid token, the cookie
//! keeps the last) and the open live views of the old token keep running. Logging out deletes
//! every token of the login ([`Users::delete_session_token`]), reissued ones included.

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use super::{StoreError, User, Users, window_secs};
use crate::store::{Cutoffs, NewToken};

/// `user_tokens.context` of session tokens.
pub const SESSION_CONTEXT: &str = "session";
/// How long a session token stays valid after it was created.
pub const SESSION_VALIDITY: Duration = Duration::from_secs(14 * 24 * 60 * 60);
/// `user_tokens.context` of the session tokens of a "remember me" login.
pub const REMEMBER_CONTEXT: &str = "session_remember";
/// How long a "remember me" session token stays valid (as long as its persistent cookie).
pub const REMEMBER_VALIDITY: Duration = Duration::from_secs(60 * 24 * 60 * 60);
/// Number of random bytes in a session token.
pub const SESSION_TOKEN_BYTES: usize = 32;
/// Default [`SessionPolicy::idle_timeout`]: 30 days without a request or a mount.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Default [`SessionPolicy::reissue_after`]: 7 days, phx.gen.auth's
/// `@session_reissue_age_in_days`.
pub const DEFAULT_REISSUE_AFTER: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// How session tokens age besides their absolute validity.
///
/// ```
/// use std::time::Duration;
/// use demo::users::SessionPolicy;
/// let policy = SessionPolicy::default();
/// assert_eq!(policy.idle_timeout, Some(Duration::from_secs(30 * 24 * 3600)));
/// assert_eq!(policy.reissue_after, Duration::from_secs(7 * 24 * 3600));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A token unused (no request, no mount) for this long no longer resolves; `None`: never.
    pub idle_timeout: Option<Duration>,
    /// A token older than this is replaced on the next request by a fresh one.
    pub reissue_after: Duration,
    /// A use is written to the store at most this often per token (so that not every request
    /// writes). The idle timeout is therefore exact to within this much.
    pub touch_every: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            reissue_after: DEFAULT_REISSUE_AFTER,
            touch_every: Duration::from_secs(60),
        }
    }
}

/// What a request's use of its session token found ([`Users::use_session_token`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUse {
    /// The signed-in user.
    pub user: User,
    /// A fresh token to put into the session in place of the old one (the old one was older
    /// than [`SessionPolicy::reissue_after`]).
    pub reissued: Option<String>,
    /// Whether the login is a "remember me" one (its cookie is persistent).
    pub remembered: bool,
}

impl Users {
    /// Creates a session token for `user_id` and returns it (43 characters of base64url).
    ///
    /// Only the SHA-256 of the token is stored; the returned string is the bearer credential and
    /// belongs in the encrypted session cookie only (never in a URL, a flash or a log).
    pub async fn create_session_token(&self, user_id: i64) -> Result<String, StoreError> {
        let token = self.insert_token(user_id, SESSION_CONTEXT, None).await?;
        tracing::debug!(user_id, "session token created");
        Ok(token)
    }

    /// Creates a "remember me" session token, valid for [`REMEMBER_VALIDITY`] instead of
    /// [`SESSION_VALIDITY`]; otherwise as [`create_session_token`](Self::create_session_token).
    pub async fn create_remembered_session_token(
        &self,
        user_id: i64,
    ) -> Result<String, StoreError> {
        let token = self.insert_token(user_id, REMEMBER_CONTEXT, None).await?;
        tracing::debug!(user_id, "remembered session token created");
        Ok(token)
    }

    /// Which tokens are valid now; `idle`: whether the idle timeout applies.
    fn cutoffs(&self, idle: bool) -> Cutoffs {
        cutoffs_at(self.now(), self.policy, idle)
    }

    /// Resolves a session token to its user, if the token exists, is a session token younger
    /// than its validity, was used within the idle timeout and belongs to an enabled account;
    /// records the use. Malformed tokens resolve to `None`. Never reissues (a mount cannot set
    /// a cookie); requests use [`use_session_token`](Self::use_session_token).
    pub async fn user_by_session_token(&self, token: &str) -> Result<Option<User>, StoreError> {
        Ok(self.lookup(token).await?.map(|(user, ..)| user))
    }

    /// The session lookup of a request: as [`user_by_session_token`](Self::user_by_session_token),
    /// and when the token is older than [`SessionPolicy::reissue_after`], a fresh token of the
    /// same kind and login, for the caller to put into the session (the old one stays valid
    /// until it expires or idles out, so other requests and live views holding it go on).
    pub async fn use_session_token(&self, token: &str) -> Result<Option<SessionUse>, StoreError> {
        let Some((user, row)) = self.lookup(token).await? else {
            return Ok(None);
        };
        let remembered = row.context == REMEMBER_CONTEXT;
        let mut reissued = None;
        if self.now() - row.inserted_at >= window_secs(self.policy.reissue_after) {
            let context = if remembered {
                REMEMBER_CONTEXT
            } else {
                SESSION_CONTEXT
            };
            reissued = Some(
                self.insert_token(user.id, context, Some(row.login_id))
                    .await?,
            );
            tracing::info!(user_id = user.id, "session token reissued");
        }
        Ok(Some(SessionUse {
            user,
            reissued,
            remembered,
        }))
    }

    async fn lookup(
        &self,
        token: &str,
    ) -> Result<Option<(User, crate::store::SessionRow)>, StoreError> {
        let Some(hash) = token_hash(token) else {
            return Ok(None);
        };
        let Some(row) = self.store.session(hash.clone(), self.cutoffs(true)).await? else {
            return Ok(None);
        };
        let now = self.now();
        if now - row.last_used_at >= window_secs(self.policy.touch_every) {
            self.store.touch_token(hash, now).await?;
        }
        Ok(Some((row.user.clone(), row)))
    }

    /// Logs out one login: deletes the session token and every token reissued in its login.
    /// Returns the [ids](session_token_id) deleted (empty for a malformed or unknown token,
    /// which is not an error); the caller disconnects their live sockets.
    pub async fn delete_login(&self, token: &str) -> Result<Vec<String>, StoreError> {
        let Some(hash) = token_hash(token) else {
            return Ok(Vec::new());
        };
        Ok(self
            .store
            .delete_login(hash)
            .await?
            .iter()
            .map(|hash| URL_SAFE_NO_PAD.encode(hash))
            .collect())
    }

    /// Deletes one session token and the rest of its login (logout). Returns whether a token
    /// was deleted; malformed or unknown tokens are not an error.
    pub async fn delete_session_token(&self, token: &str) -> Result<bool, StoreError> {
        Ok(!self.delete_login(token).await?.is_empty())
    }

    /// Of the session token ids given (see [`session_token_id`]), the ones whose token still
    /// exists, is within its validity and belongs to an account that is not disabled: the
    /// check of the live sockets' periodic revalidation (one query per batch). The idle
    /// timeout does not apply here: an open live view is in use. Malformed ids are simply not
    /// valid.
    pub async fn valid_session_token_ids(
        &self,
        ids: Vec<String>,
    ) -> Result<HashSet<String>, StoreError> {
        let hashes: Vec<Vec<u8>> = ids
            .iter()
            .filter_map(|id| URL_SAFE_NO_PAD.decode(id).ok())
            .filter(|hash| hash.len() == 32)
            .collect();
        if hashes.is_empty() {
            return Ok(HashSet::new());
        }
        let found = self
            .store
            .valid_session_hashes(hashes, self.cutoffs(false))
            .await?;
        Ok(found
            .iter()
            .map(|hash| URL_SAFE_NO_PAD.encode(hash))
            .collect())
    }

    /// Replaces every session token of `user_id` by one new token (remembered if
    /// `remember`): the password change's revocation (docs/threat-model.md case 69). Returns
    /// the new token and the [ids](session_token_id) of the deleted ones, whose live sockets
    /// the caller disconnects.
    pub async fn replace_session_tokens(
        &self,
        user_id: i64,
        remember: bool,
    ) -> Result<(String, Vec<String>), StoreError> {
        let deleted = self.store.delete_session_tokens(user_id).await?;
        let token = if remember {
            self.create_remembered_session_token(user_id).await?
        } else {
            self.create_session_token(user_id).await?
        };
        tracing::info!(user_id, revoked = deleted.len(), "session tokens replaced");
        Ok((
            token,
            deleted
                .iter()
                .map(|hash| URL_SAFE_NO_PAD.encode(hash))
                .collect(),
        ))
    }

    /// Whether `token` is a "remember me" session token.
    pub async fn is_remembered_session_token(&self, token: &str) -> Result<bool, StoreError> {
        let Some(hash) = token_hash(token) else {
            return Ok(false);
        };
        Ok(self.store.token_context(hash).await?.as_deref() == Some(REMEMBER_CONTEXT))
    }

    /// Stores a new token of `context` for `user_id` in `login` (a new login if `None`) and
    /// returns it: [`SESSION_TOKEN_BYTES`] random bytes, base64url-encoded. Only their SHA-256
    /// is stored.
    async fn insert_token(
        &self,
        user_id: i64,
        context: &'static str,
        login: Option<Vec<u8>>,
    ) -> Result<String, StoreError> {
        let mut raw = [0u8; SESSION_TOKEN_BYTES];
        getrandom::fill(&mut raw).map_err(StoreError::Random)?;
        let hash = Sha256::digest(raw).to_vec();
        self.store
            .insert_token(NewToken {
                login_id: login.unwrap_or_else(|| hash.clone()),
                hash,
                user_id,
                context,
                now: self.now(),
            })
            .await?;
        Ok(URL_SAFE_NO_PAD.encode(raw))
    }

    /// Deletes every token of a user, in every context (logout everywhere, password change).
    /// Returns how many were deleted.
    pub async fn delete_all_tokens(&self, user_id: i64) -> Result<usize, StoreError> {
        let deleted = self.store.delete_all_tokens(user_id).await?;
        tracing::info!(user_id, deleted, "all tokens of user deleted");
        Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
    }

    /// Deletes the session tokens past their validity or idle timeout. Lookups already ignore
    /// them; this reclaims space ([`spawn_purge`](Self::spawn_purge) runs it periodically).
    pub async fn purge_expired_tokens(&self) -> Result<usize, StoreError> {
        let purged = self.store.purge_tokens(self.cutoffs(true)).await?;
        Ok(usize::try_from(purged).unwrap_or(usize::MAX))
    }

    /// Purges expired session tokens every `every` in a background task (the first pass right
    /// away), until the returned handle is aborted or the runtime stops. Failures are logged
    /// and retried at the next pass. (Login tickets are purged by livefire's ticket layer,
    /// every 30 s.)
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let users = demo::users::Users::new(demo::db::Db::open_in_memory().unwrap());
    /// let task = users.spawn_purge(std::time::Duration::from_secs(3600));
    /// task.abort();
    /// # });
    /// ```
    pub fn spawn_purge(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        // The store, clock and policy only: the task must not keep the password pool alive.
        let (store, clock, policy) = (self.store.clone(), self.clock.clone(), self.policy);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every.max(Duration::from_millis(10)));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                match store.purge_tokens(cutoffs_at(clock(), policy, true)).await {
                    Ok(0) => {}
                    Ok(purged) => tracing::info!(purged, "expired session tokens purged"),
                    Err(err) => tracing::warn!(%err, "purging expired session tokens failed"),
                }
            }
        })
    }
}

/// Which tokens are valid at `now` under `policy`; `idle`: whether the idle timeout applies.
fn cutoffs_at(now: i64, policy: SessionPolicy, idle: bool) -> Cutoffs {
    Cutoffs {
        plain: now - window_secs(SESSION_VALIDITY),
        remembered: now - window_secs(REMEMBER_VALIDITY),
        idle: match policy.idle_timeout {
            Some(timeout) if idle => now - window_secs(timeout),
            _ => i64::MIN,
        },
    }
}

/// A stable, non-secret identifier of a session token: base64url of its SHA-256, as stored in the
/// database. Suitable for log lines and for a per-login pub/sub topic
/// (`"users_sessions:" + id`) used to disconnect live sockets on logout. `None` if malformed.
///
/// ```
/// assert_eq!(demo::users::tokens::session_token_id("not a token"), None);
/// let id = demo::users::tokens::session_token_id(&"A".repeat(43)).unwrap();
/// assert_eq!(id.len(), 43);
/// ```
pub fn session_token_id(token: &str) -> Option<String> {
    token_hash(token).map(|hash| URL_SAFE_NO_PAD.encode(hash))
}

/// SHA-256 of a well-formed token's raw bytes; `None` for anything else.
fn token_hash(token: &str) -> Option<Vec<u8>> {
    // 32 bytes are exactly 43 base64url characters; check before decoding untrusted input.
    if token.len() != 43 {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    (raw.len() == SESSION_TOKEN_BYTES).then(|| Sha256::digest(&raw).to_vec())
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sha2::{Digest as _, Sha256};

    use super::session_token_id;
    use crate::users::tests::{PASSWORD, fixture};

    #[tokio::test]
    async fn session_token_create_lookup_and_storage() {
        let f = fixture();
        let user = f.users.register("tok@example.com", PASSWORD).await.unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        let token2 = f.users.create_session_token(user.id).await.unwrap();
        assert_eq!(token.len(), 43);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(token, token2);
        assert_eq!(
            f.users.user_by_session_token(&token).await.unwrap(),
            Some(user.clone())
        );
        assert_eq!(
            f.users.user_by_session_token(&token2).await.unwrap(),
            Some(user.clone())
        );

        // Only the SHA-256 of the token is stored.
        let rows: Vec<(Vec<u8>, String)> = f
            .users
            .db()
            .unwrap()
            .call(|c| {
                let mut s = c.prepare("SELECT token_hash, context FROM user_tokens")?;
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
            })
            .await
            .unwrap();
        let raw = URL_SAFE_NO_PAD.decode(&token).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(
            rows.iter()
                .all(|(hash, ctx)| hash != &raw && ctx == "session")
        );
        assert!(
            rows.iter()
                .any(|(hash, _)| hash[..] == Sha256::digest(&raw)[..])
        );
        assert_eq!(
            session_token_id(&token).unwrap(),
            URL_SAFE_NO_PAD.encode(Sha256::digest(&raw))
        );

        // Tokens for a non-existent user cannot be created.
        assert!(f.users.create_session_token(9999).await.is_err());
    }

    #[tokio::test]
    async fn malformed_session_tokens_resolve_to_nobody() {
        let f = fixture();
        let user = f.users.register("m@example.com", PASSWORD).await.unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        let mut flipped = token.clone().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let raw_hash =
            URL_SAFE_NO_PAD.encode(Sha256::digest(URL_SAFE_NO_PAD.decode(&token).unwrap()));
        for bad in [
            String::new(),
            "garbage".to_owned(),
            format!("{token}A"),
            token[..42].to_owned(),
            "!".repeat(43),
            "A".repeat(10_000),
            flipped,
            raw_hash, // the stored hash is not itself a credential
        ] {
            assert_eq!(
                f.users.user_by_session_token(&bad).await.unwrap(),
                None,
                "{bad:?}"
            );
            assert!(!f.users.delete_session_token(&bad).await.unwrap());
        }
        assert_eq!(
            f.users.user_by_session_token(&token).await.unwrap(),
            Some(user)
        );
    }

    #[tokio::test]
    async fn case_68_deleted_session_token_no_longer_resolves() {
        let f = fixture();
        let user = f
            .users
            .register("logout@example.com", PASSWORD)
            .await
            .unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        let other = f.users.create_session_token(user.id).await.unwrap();
        assert!(
            f.users
                .user_by_session_token(&token)
                .await
                .unwrap()
                .is_some()
        );
        assert!(f.users.delete_session_token(&token).await.unwrap());
        assert_eq!(f.users.user_by_session_token(&token).await.unwrap(), None);
        assert!(
            !f.users.delete_session_token(&token).await.unwrap(),
            "second logout is a no-op"
        );
        // Logging out one session leaves the others.
        assert_eq!(
            f.users.user_by_session_token(&other).await.unwrap(),
            Some(user)
        );
    }

    #[tokio::test]
    async fn case_69_delete_all_tokens_revokes_every_session_of_that_user_only() {
        let f = fixture();
        let a = f.users.register("a@example.com", PASSWORD).await.unwrap();
        let b = f.users.register("b@example.com", PASSWORD).await.unwrap();
        let a1 = f.users.create_session_token(a.id).await.unwrap();
        let a2 = f.users.create_session_token(a.id).await.unwrap();
        let b1 = f.users.create_session_token(b.id).await.unwrap();
        assert_eq!(f.users.delete_all_tokens(a.id).await.unwrap(), 2);
        assert_eq!(f.users.user_by_session_token(&a1).await.unwrap(), None);
        assert_eq!(f.users.user_by_session_token(&a2).await.unwrap(), None);
        assert_eq!(
            f.users.user_by_session_token(&b1).await.unwrap(),
            Some(b.clone())
        );

        // Deleting the user cascades to its tokens.
        let b_id = b.id;
        f.users
            .db()
            .unwrap()
            .call(move |c| c.execute("DELETE FROM users WHERE id = ?1", [b_id]))
            .await
            .unwrap();
        assert_eq!(f.users.user_by_session_token(&b1).await.unwrap(), None);
    }

    #[tokio::test]
    async fn case_13_session_token_expires_after_14_days() {
        let f = fixture();
        let user = f.users.register("exp@example.com", PASSWORD).await.unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        let fourteen_days = 14 * 24 * 60 * 60;
        f.advance(fourteen_days - 1);
        assert_eq!(
            f.users.user_by_session_token(&token).await.unwrap(),
            Some(user)
        );
        assert_eq!(f.users.purge_expired_tokens().await.unwrap(), 0);
        f.advance(1);
        assert_eq!(f.users.user_by_session_token(&token).await.unwrap(), None);
        assert_eq!(f.users.purge_expired_tokens().await.unwrap(), 1);
        assert!(
            !f.users.delete_session_token(&token).await.unwrap(),
            "already purged"
        );
    }

    /// docs/threat-model.md case 72: a disabled account cannot log in (the generic error, as an
    /// unknown email), its logins stop resolving and revalidating, another account is
    /// untouched; enabled again it can log in, but its old logins stay revoked.
    #[tokio::test]
    async fn case_72_disabled_account_cannot_log_in_and_its_logins_end() {
        use crate::users::AuthError;
        let f = fixture();
        let user = f.users.register("off@example.com", PASSWORD).await.unwrap();
        let other = f.users.register("on@example.com", PASSWORD).await.unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        let other_token = f.users.create_session_token(other.id).await.unwrap();
        let id = session_token_id(&token).unwrap();
        assert_eq!(
            f.users.set_disabled("OFF@example.com", true).await.unwrap(),
            Some(user.clone())
        );
        assert!(matches!(
            f.users.authenticate("off@example.com", PASSWORD).await,
            Err(AuthError::Invalid)
        ));
        assert_eq!(f.users.user_by_session_token(&token).await.unwrap(), None);
        assert!(
            f.users
                .valid_session_token_ids(vec![id.clone()])
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            f.users
                .user_by_session_token(&other_token)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            f.users
                .set_disabled("nobody@example.com", true)
                .await
                .unwrap(),
            None
        );

        f.users
            .set_disabled("off@example.com", false)
            .await
            .unwrap();
        assert!(
            f.users
                .authenticate("off@example.com", PASSWORD)
                .await
                .is_ok()
        );
        assert_eq!(f.users.user_by_session_token(&token).await.unwrap(), None);
    }

    /// docs/threat-model.md cases 13 and 70: a "remember me" token lives 60 days, a plain
    /// one 14; revalidation sees the same validity; purging drops each at its own age.
    #[tokio::test]
    async fn case_13_70_remembered_token_lives_60_days_and_plain_14() {
        let mut f = fixture();
        // Absolute validity only: the 46 days without use below would pass the idle timeout.
        f.users = f.users.clone().with_session_policy(super::SessionPolicy {
            idle_timeout: None,
            ..super::SessionPolicy::default()
        });
        let user = f.users.register("rem@example.com", PASSWORD).await.unwrap();
        let plain = f.users.create_session_token(user.id).await.unwrap();
        let remembered = f
            .users
            .create_remembered_session_token(user.id)
            .await
            .unwrap();
        let ids = |tokens: &[&String]| -> Vec<String> {
            tokens
                .iter()
                .map(|t| session_token_id(t).unwrap())
                .collect()
        };
        let all = ids(&[&plain, &remembered]);
        assert_eq!(
            f.users
                .valid_session_token_ids(all.clone())
                .await
                .unwrap()
                .len(),
            2
        );
        f.advance(14 * 24 * 60 * 60);
        assert_eq!(f.users.user_by_session_token(&plain).await.unwrap(), None);
        assert_eq!(
            f.users.user_by_session_token(&remembered).await.unwrap(),
            Some(user.clone())
        );
        let valid = f.users.valid_session_token_ids(all.clone()).await.unwrap();
        assert_eq!(valid, ids(&[&remembered]).into_iter().collect());
        assert_eq!(f.users.purge_expired_tokens().await.unwrap(), 1);
        f.advance(46 * 24 * 60 * 60 - 1);
        assert!(
            f.users
                .user_by_session_token(&remembered)
                .await
                .unwrap()
                .is_some()
        );
        f.advance(1);
        assert_eq!(
            f.users.user_by_session_token(&remembered).await.unwrap(),
            None
        );
        assert!(
            f.users
                .valid_session_token_ids(all)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(f.users.purge_expired_tokens().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn tokens_of_other_contexts_are_not_sessions() {
        let f = fixture();
        let user = f.users.register("ctx@example.com", PASSWORD).await.unwrap();
        let token = f.users.create_session_token(user.id).await.unwrap();
        f.users
            .db()
            .unwrap()
            .call(|c| c.execute("UPDATE user_tokens SET context = 'login-handoff'", []))
            .await
            .unwrap();
        assert_eq!(f.users.user_by_session_token(&token).await.unwrap(), None);
        assert!(!f.users.delete_session_token(&token).await.unwrap());
        assert_eq!(f.users.delete_all_tokens(user.id).await.unwrap(), 1);
    }
}
