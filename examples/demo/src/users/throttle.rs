//! Login throttling: sliding windows per account, per client IP and server-wide, kept in memory
//! (docs/threat-model.md case 65).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use super::window_secs;

/// Login throttling limits. Windows are sliding; counts are kept in memory per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failed logins allowed per account (email, case-insensitive) within `account_window`.
    pub account_max_failures: usize,
    /// Window for `account_max_failures`.
    pub account_window: Duration,
    /// Failed logins allowed per client IP within `peer_window` (only when the IP is known).
    pub peer_max_failures: usize,
    /// Window for `peer_max_failures`.
    pub peer_window: Duration,
    /// Password hashing operations (logins and registrations) allowed server-wide within
    /// `global_window`; protects the CPU from credential stuffing.
    pub global_max_attempts: usize,
    /// Window for `global_max_attempts`.
    pub global_window: Duration,
}

impl Default for ThrottleConfig {
    /// 5 failures / 15 min per account, 50 failures / 15 min per IP, 600 hashes / min overall.
    fn default() -> Self {
        Self {
            account_max_failures: 5,
            account_window: Duration::from_secs(15 * 60),
            peer_max_failures: 50,
            peer_window: Duration::from_secs(15 * 60),
            global_max_attempts: 600,
            global_window: Duration::from_secs(60),
        }
    }
}

/// Why an attempt was refused by the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Denied {
    Global,
    Account,
    Peer,
}

/// Sliding-window counters. Login attempts are recorded as failures when they *start* (so that
/// concurrent attempts cannot overshoot the limit) and the record is withdrawn on success.
#[derive(Debug)]
pub(super) struct Throttle {
    pub(super) config: ThrottleConfig,
    global: VecDeque<i64>,
    accounts: HashMap<String, VecDeque<i64>>,
    peers: HashMap<IpAddr, VecDeque<i64>>,
    last_prune: i64,
}

/// Drops entries older than `window` and reports whether `max` entries remain.
fn expire_and_check(entries: &mut VecDeque<i64>, now: i64, window: Duration, max: usize) -> bool {
    let cutoff = now.saturating_sub(window_secs(window));
    while entries.front().is_some_and(|&t| t <= cutoff) {
        entries.pop_front();
    }
    entries.len() >= max
}

/// How often stale per-account and per-peer entries are swept, in seconds.
const PRUNE_INTERVAL_SECS: i64 = 60;

impl Throttle {
    pub(super) fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            global: VecDeque::new(),
            accounts: HashMap::new(),
            peers: HashMap::new(),
            last_prune: i64::MIN,
        }
    }

    /// Sweeps idle keys so the maps stay bounded by what the global limit lets through.
    fn prune(&mut self, now: i64) {
        if now.saturating_sub(self.last_prune) < PRUNE_INTERVAL_SECS {
            return;
        }
        self.last_prune = now;
        let c = self.config;
        self.accounts.retain(|_, e| {
            expire_and_check(e, now, c.account_window, usize::MAX);
            !e.is_empty()
        });
        self.peers.retain(|_, e| {
            expire_and_check(e, now, c.peer_window, usize::MAX);
            !e.is_empty()
        });
    }

    /// Reserves one password hashing operation against the global limit.
    pub(super) fn begin_hash(&mut self, now: i64) -> Result<(), Denied> {
        let c = self.config;
        if expire_and_check(
            &mut self.global,
            now,
            c.global_window,
            c.global_max_attempts,
        ) {
            return Err(Denied::Global);
        }
        self.global.push_back(now);
        if self.global.len() == c.global_max_attempts {
            tracing::warn!(
                limit = c.global_max_attempts,
                window_secs = c.global_window.as_secs(),
                "global password hashing limit reached; further logins are refused for now"
            );
        }
        Ok(())
    }

    /// Checks every applicable limit, then records the attempt as a (provisional) failure.
    pub(super) fn begin_login(
        &mut self,
        account: &str,
        peer: Option<IpAddr>,
        now: i64,
    ) -> Result<(), Denied> {
        self.prune(now);
        let c = self.config;
        if let Some(entries) = self.accounts.get_mut(account)
            && expire_and_check(entries, now, c.account_window, c.account_max_failures)
        {
            return Err(Denied::Account);
        }
        if let Some(entries) = peer.and_then(|ip| self.peers.get_mut(&ip))
            && expire_and_check(entries, now, c.peer_window, c.peer_max_failures)
        {
            return Err(Denied::Peer);
        }
        self.begin_hash(now)?;
        self.accounts
            .entry(account.to_owned())
            .or_default()
            .push_back(now);
        if let Some(ip) = peer {
            self.peers.entry(ip).or_default().push_back(now);
        }
        Ok(())
    }

    /// Withdraws the provisional failure of a successful attempt and clears the account's
    /// failure history.
    pub(super) fn login_succeeded(&mut self, account: &str, peer: Option<IpAddr>, started: i64) {
        self.accounts.remove(account);
        if let Some(entries) = peer.and_then(|ip| self.peers.get_mut(&ip))
            && let Some(pos) = entries.iter().position(|&t| t == started)
        {
            entries.remove(pos);
        }
    }

    pub(super) fn account_locked(&mut self, account: &str, now: i64) -> bool {
        let c = self.config;
        self.accounts.get_mut(account).is_some_and(|entries| {
            expire_and_check(entries, now, c.account_window, c.account_max_failures)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::{Throttle, ThrottleConfig};
    use crate::users::tests::{PASSWORD, T0, fixture, fixture_with};
    use crate::users::{AuthError, RegisterError};

    #[tokio::test]
    async fn case_65_account_lockout_same_error_even_with_correct_password() {
        let f = fixture();
        let user = f
            .users
            .register("victim@example.com", PASSWORD)
            .await
            .unwrap();
        f.users
            .register("bystander@example.com", PASSWORD)
            .await
            .unwrap();
        for _ in 0..5 {
            let err = f
                .users
                .authenticate("victim@example.com", "guess guess guess")
                .await
                .unwrap_err();
            assert!(matches!(err, AuthError::Invalid));
        }
        // Locked: the right password gets the same generic error and no hashing happens.
        let before = f.users.verifications();
        let err = f
            .users
            .authenticate("VICTIM@example.com", PASSWORD)
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::Invalid));
        assert_eq!(err.to_string(), "invalid email or password");
        assert_eq!(
            f.users.verifications(),
            before,
            "no verification while locked"
        );
        // Other accounts are unaffected.
        assert!(
            f.users
                .authenticate("bystander@example.com", PASSWORD)
                .await
                .is_ok()
        );

        // Still locked just before the window ends, unlocked after.
        f.advance(15 * 60 - 1);
        assert!(
            f.users
                .authenticate("victim@example.com", PASSWORD)
                .await
                .is_err()
        );
        f.advance(1);
        assert_eq!(
            f.users
                .authenticate("victim@example.com", PASSWORD)
                .await
                .unwrap(),
            user
        );
    }

    #[tokio::test]
    async fn case_65_unknown_accounts_lock_too_and_success_resets_the_count() {
        let f = fixture();
        // Lockout does not depend on the account existing (no enumeration via lockout).
        for _ in 0..5 {
            assert!(
                f.users
                    .authenticate("ghost@example.com", PASSWORD)
                    .await
                    .is_err()
            );
        }
        f.users
            .register("ghost@example.com", PASSWORD)
            .await
            .unwrap();
        assert!(
            f.users
                .authenticate("ghost@example.com", PASSWORD)
                .await
                .is_err()
        );

        f.users
            .register("fine@example.com", PASSWORD)
            .await
            .unwrap();
        for _ in 0..4 {
            assert!(
                f.users
                    .authenticate("fine@example.com", "typo typo typo")
                    .await
                    .is_err()
            );
        }
        assert!(
            f.users
                .authenticate("fine@example.com", PASSWORD)
                .await
                .is_ok()
        );
        for _ in 0..4 {
            assert!(
                f.users
                    .authenticate("fine@example.com", "typo typo typo")
                    .await
                    .is_err()
            );
        }
        assert!(
            f.users
                .authenticate("fine@example.com", PASSWORD)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn case_65_parallel_guesses_cannot_overshoot_the_limit() {
        let f = fixture();
        f.users
            .register("target@example.com", PASSWORD)
            .await
            .unwrap();
        let before = f.users.verifications();
        let attempts: Vec<_> = (0..12)
            .map(|i| {
                let users = f.users.clone();
                tokio::spawn(async move {
                    users
                        .authenticate("target@example.com", &format!("guess number {i}"))
                        .await
                })
            })
            .collect();
        for attempt in attempts {
            assert!(matches!(attempt.await.unwrap(), Err(AuthError::Invalid)));
        }
        assert_eq!(f.users.verifications() - before, 5);
    }

    #[tokio::test]
    async fn case_65_per_ip_and_global_limits() {
        let f = fixture_with(ThrottleConfig {
            peer_max_failures: 3,
            ..ThrottleConfig::default()
        });
        f.users.register("p@example.com", PASSWORD).await.unwrap();
        let attacker: IpAddr = "203.0.113.9".parse().unwrap();
        let other: IpAddr = "198.51.100.1".parse().unwrap();
        for i in 0..3 {
            let email = format!("spray{i}@example.com");
            assert!(
                f.users
                    .authenticate_from(&email, PASSWORD, Some(attacker))
                    .await
                    .is_err()
            );
        }
        let before = f.users.verifications();
        assert!(
            f.users
                .authenticate_from("p@example.com", PASSWORD, Some(attacker))
                .await
                .is_err()
        );
        assert_eq!(f.users.verifications(), before);
        assert!(
            f.users
                .authenticate_from("p@example.com", PASSWORD, Some(other))
                .await
                .is_ok()
        );
        assert!(
            f.users
                .authenticate("p@example.com", PASSWORD)
                .await
                .is_ok()
        );

        let g = fixture_with(ThrottleConfig {
            global_max_attempts: 3,
            ..ThrottleConfig::default()
        });
        g.users.register("g@example.com", PASSWORD).await.unwrap(); // 1 hash
        assert!(
            g.users
                .authenticate("x@example.com", PASSWORD)
                .await
                .is_err()
        ); // 2
        assert!(
            g.users
                .authenticate("g@example.com", PASSWORD)
                .await
                .is_ok()
        ); // 3
        assert!(
            g.users
                .authenticate("g@example.com", PASSWORD)
                .await
                .is_err()
        );
        assert!(matches!(
            g.users.register("h@example.com", PASSWORD).await,
            Err(RegisterError::Throttled)
        ));
        g.advance(60);
        assert!(
            g.users
                .authenticate("g@example.com", PASSWORD)
                .await
                .is_ok()
        );
    }

    #[test]
    fn throttle_state_is_pruned() {
        let mut t = Throttle::new(ThrottleConfig::default());
        for i in 0..100 {
            t.begin_login(&format!("user{i}@example.com"), None, T0)
                .unwrap();
        }
        assert_eq!(t.accounts.len(), 100);
        t.begin_login("late@example.com", None, T0 + 15 * 60)
            .unwrap();
        assert_eq!(t.accounts.len(), 1);
    }
}
