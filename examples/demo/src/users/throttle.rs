//! Login and registration throttling, kept in memory (docs/threat-model.md R10, case 65).
//!
//! The rule: **nothing an anonymous client does can lock anyone else out.** There is no global
//! limit (the [password pool](super::pool) bounds the CPU and memory instead, and refuses work
//! it cannot take at once), and no account is ever locked:
//!
//! * **per client address** (the connection's address, [`livefire::ClientAddr`]; for IPv6 its
//!   /64 network, which one subscriber typically owns whole): at most
//!   [`peer_max_failures`](ThrottleConfig::peer_max_failures) failed logins and
//!   [`peer_max_registrations`](ThrottleConfig::peer_max_registrations) registrations per
//!   window, and at most [`peer_max_in_flight`](ThrottleConfig::peer_max_in_flight) logins or
//!   registrations at once. An address over its limits only hurts itself;
//! * **per account** (the email, case-insensitive, whether or not it exists): a progressive
//!   delay. The first [`account_free_failures`](ThrottleConfig::account_free_failures) failures
//!   in the window cost nothing; after that each attempt for the account first waits
//!   `base × 2^(failures − free)`, at most [`account_max_delay`](ThrottleConfig::account_max_delay),
//!   and is then checked normally. Guessing slows down to one attempt per delay per in-flight
//!   slot, while the owner, even during an attack, still logs in with the right password after
//!   at most that delay. A success clears the account's failures.
//!
//! Attempts are recorded as failures when they *start*, so parallel attempts cannot skip the
//! delay; a success withdraws its record, and an attempt that never reached a password check
//! (the pool was full, the database failed) withdraws it too.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use super::window_secs;

/// Throttling limits. Windows are sliding; counts are kept in memory per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failed logins per account (email, case-insensitive) within `account_window` that cost
    /// no delay.
    pub account_free_failures: usize,
    /// Window in which an account's failures count.
    pub account_window: Duration,
    /// Delay of the first attempt past `account_free_failures`; it doubles with each further
    /// failure.
    pub account_base_delay: Duration,
    /// Longest delay of one attempt.
    pub account_max_delay: Duration,
    /// Failed logins allowed per client address within `peer_window`; further attempts from
    /// that address fail with the generic error.
    pub peer_max_failures: usize,
    /// Window for `peer_max_failures`.
    pub peer_window: Duration,
    /// Registrations (attempts that pass validation) allowed per client address within
    /// `registration_window`.
    pub peer_max_registrations: usize,
    /// Window for `peer_max_registrations`.
    pub registration_window: Duration,
    /// Logins and registrations one client address may have in progress at once.
    pub peer_max_in_flight: usize,
    /// Most accounts (and, separately, addresses) tracked at once; past it the least recently
    /// seen is forgotten, so memory stays bounded whatever the traffic.
    pub max_tracked: usize,
}

impl Default for ThrottleConfig {
    /// Per account: 5 free failures in 15 min, then 1 s, 2 s, 4 s, 8 s, 10 s, 10 s…; per
    /// address: 50 failed logins per 15 min, 10 registrations per hour, 2 at once.
    fn default() -> Self {
        Self {
            account_free_failures: 5,
            account_window: Duration::from_secs(15 * 60),
            account_base_delay: Duration::from_secs(1),
            account_max_delay: Duration::from_secs(10),
            peer_max_failures: 50,
            peer_window: Duration::from_secs(15 * 60),
            peer_max_registrations: 10,
            registration_window: Duration::from_secs(60 * 60),
            peer_max_in_flight: 2,
            max_tracked: 100_000,
        }
    }
}

impl ThrottleConfig {
    /// The delay of an attempt for an account that already has `failures` in the window.
    ///
    /// ```
    /// use std::time::Duration;
    /// use demo::users::throttle::ThrottleConfig;
    /// let c = ThrottleConfig::default();
    /// let secs = |n| c.delay_after(n).as_secs();
    /// assert_eq!((0..=10).map(secs).collect::<Vec<_>>(), [0, 0, 0, 0, 0, 1, 2, 4, 8, 10, 10]);
    /// assert_eq!(c.delay_after(usize::MAX), Duration::from_secs(10));
    /// ```
    pub fn delay_after(&self, failures: usize) -> Duration {
        let Some(over) = failures.checked_sub(self.account_free_failures) else {
            return Duration::ZERO;
        };
        let factor = 1u32 << over.min(20);
        self.account_base_delay
            .saturating_mul(factor)
            .min(self.account_max_delay)
    }
}

/// Why an attempt was refused by the throttle (every reason concerns the client address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Denied {
    /// The address has too many failed logins.
    Failures,
    /// The address has too many registrations.
    Registrations,
    /// The address has too many attempts in progress.
    Busy,
}

/// How an attempt ended, for [`Throttle::finish_login`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The password was right: the account's failures are cleared.
    Succeeded,
    /// The password was wrong (or the caller went away after it was checked): the record
    /// stays.
    Failed,
    /// No password was checked (pool full, database down): the record is withdrawn.
    NotTried,
}

/// Sliding-window counters (see the [module docs](self)).
#[derive(Debug)]
pub(super) struct Throttle {
    pub(super) config: ThrottleConfig,
    /// Failure times per account (provisional ones included).
    accounts: HashMap<String, VecDeque<i64>>,
    /// Failure times per address (provisional ones included).
    peers: HashMap<IpAddr, VecDeque<i64>>,
    /// Registration times per address.
    registrations: HashMap<IpAddr, VecDeque<i64>>,
    /// Attempts in progress per address.
    in_flight: HashMap<IpAddr, usize>,
    last_prune: i64,
}

/// Drops entries older than `window`; returns how many remain.
fn expire(entries: &mut VecDeque<i64>, now: i64, window: Duration) -> usize {
    let cutoff = now.saturating_sub(window_secs(window));
    while entries.front().is_some_and(|&t| t <= cutoff) {
        entries.pop_front();
    }
    entries.len()
}

/// Removes one entry equal to `at` (a withdrawn provisional record).
fn withdraw(entries: &mut VecDeque<i64>, at: i64) {
    if let Some(pos) = entries.iter().rposition(|&t| t == at) {
        entries.remove(pos);
    }
}

/// The entries of `key`, making room first if `map` is full: the key whose last entry is the
/// oldest is forgotten.
fn entries_mut<'m, K: std::hash::Hash + Eq + Clone>(
    map: &'m mut HashMap<K, VecDeque<i64>>,
    key: &K,
    max_tracked: usize,
) -> &'m mut VecDeque<i64> {
    if !map.contains_key(key) && map.len() >= max_tracked.max(1) {
        let oldest = map
            .iter()
            .min_by_key(|(_, e)| e.back().copied().unwrap_or(i64::MIN))
            .map(|(k, _)| k.clone());
        if let Some(oldest) = oldest {
            map.remove(&oldest);
        }
    }
    map.entry(key.clone()).or_default()
}

/// The address that per-address limits count against: IPv4 addresses as they are (also when
/// mapped into IPv6), IPv6 addresses by their /64 network, since one subscriber usually holds
/// a whole /64 and could otherwise pick a fresh address for every attempt.
///
/// ```
/// use std::net::IpAddr;
/// use demo::users::throttle::address_key;
/// let key = |s: &str| address_key(s.parse::<IpAddr>().unwrap()).to_string();
/// assert_eq!(key("203.0.113.9"), "203.0.113.9");
/// assert_eq!(key("::ffff:203.0.113.9"), "203.0.113.9");
/// assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
/// assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
/// ```
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// How often stale entries are swept, in seconds.
const PRUNE_INTERVAL_SECS: i64 = 60;

/// Failure records kept per account beyond the free ones: past this the delay is at its cap
/// anyway, so older records are dropped to bound the memory of one key.
const EXTRA_ACCOUNT_RECORDS: usize = 32;

impl Throttle {
    pub(super) fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            accounts: HashMap::new(),
            peers: HashMap::new(),
            registrations: HashMap::new(),
            in_flight: HashMap::new(),
            last_prune: i64::MIN,
        }
    }

    /// Sweeps keys whose windows are empty.
    fn prune(&mut self, now: i64) {
        if now.saturating_sub(self.last_prune) < PRUNE_INTERVAL_SECS {
            return;
        }
        self.last_prune = now;
        let c = self.config;
        self.accounts
            .retain(|_, e| expire(e, now, c.account_window) > 0);
        self.peers.retain(|_, e| expire(e, now, c.peer_window) > 0);
        self.registrations
            .retain(|_, e| expire(e, now, c.registration_window) > 0);
    }

    /// Refuses an address that has too many attempts in progress; otherwise counts one more.
    fn enter(&mut self, peer: Option<IpAddr>) -> Result<(), Denied> {
        if let Some(ip) = peer {
            let n = self.in_flight.entry(ip).or_default();
            if *n >= self.config.peer_max_in_flight {
                return Err(Denied::Busy);
            }
            *n += 1;
        }
        Ok(())
    }

    /// An attempt of `peer` is over (whatever its outcome).
    pub(super) fn leave(&mut self, peer: Option<IpAddr>) {
        if let Some(ip) = peer.map(address_key)
            && let Some(n) = self.in_flight.get_mut(&ip)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.in_flight.remove(&ip);
            }
        }
    }

    /// Admits a login attempt: checks the address's limits, records a provisional failure for
    /// the account and the address, and returns how long the attempt must wait first. Every
    /// admitted attempt must be followed by [`finish_login`](Self::finish_login) and
    /// [`leave`](Self::leave).
    pub(super) fn begin_login(
        &mut self,
        account: &str,
        peer: Option<IpAddr>,
        now: i64,
    ) -> Result<Duration, Denied> {
        let peer = peer.map(address_key);
        self.prune(now);
        let c = self.config;
        if let Some(ip) = peer
            && let Some(entries) = self.peers.get_mut(&ip)
            && expire(entries, now, c.peer_window) >= c.peer_max_failures
        {
            return Err(Denied::Failures);
        }
        self.enter(peer)?;
        let key = account.to_owned();
        let entries = entries_mut(&mut self.accounts, &key, c.max_tracked);
        let failures = expire(entries, now, c.account_window);
        entries.push_back(now);
        if entries.len() > c.account_free_failures + EXTRA_ACCOUNT_RECORDS {
            entries.pop_front();
        }
        if let Some(ip) = peer {
            let entries = entries_mut(&mut self.peers, &ip, c.max_tracked);
            entries.push_back(now);
            if entries.len() == c.peer_max_failures {
                tracing::warn!(
                    %ip,
                    limit = c.peer_max_failures,
                    window_secs = c.peer_window.as_secs(),
                    "client address reached its failed-login limit; its logins are refused for now"
                );
            }
        }
        Ok(c.delay_after(failures))
    }

    /// Records how an admitted attempt (started at `started`) ended.
    pub(super) fn finish_login(
        &mut self,
        account: &str,
        peer: Option<IpAddr>,
        started: i64,
        outcome: Outcome,
    ) {
        let peer = peer.map(address_key);
        let peer_entries = peer.and_then(|ip| self.peers.get_mut(&ip));
        match outcome {
            Outcome::Failed => {}
            Outcome::Succeeded => {
                self.accounts.remove(account);
                if let Some(entries) = peer_entries {
                    withdraw(entries, started);
                }
            }
            Outcome::NotTried => {
                if let Some(entries) = peer_entries {
                    withdraw(entries, started);
                }
                if let Some(entries) = self.accounts.get_mut(account) {
                    withdraw(entries, started);
                }
            }
        }
    }

    /// Admits a registration attempt of `peer` (counted whatever its outcome). Must be
    /// followed by [`leave`](Self::leave).
    pub(super) fn begin_registration(
        &mut self,
        peer: Option<IpAddr>,
        now: i64,
    ) -> Result<(), Denied> {
        let peer = peer.map(address_key);
        self.prune(now);
        let c = self.config;
        let Some(ip) = peer else {
            return Ok(());
        };
        if let Some(entries) = self.registrations.get_mut(&ip)
            && expire(entries, now, c.registration_window) >= c.peer_max_registrations
        {
            return Err(Denied::Registrations);
        }
        self.enter(peer)?;
        entries_mut(&mut self.registrations, &ip, c.max_tracked).push_back(now);
        Ok(())
    }

    /// Failures recorded for `account` in the window (for logs).
    pub(super) fn account_failures(&mut self, account: &str, now: i64) -> usize {
        let window = self.config.account_window;
        self.accounts
            .get_mut(account)
            .map_or(0, |entries| expire(entries, now, window))
    }

    #[cfg(test)]
    pub(super) fn tracked_accounts(&self) -> usize {
        self.accounts.len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::{Duration, Instant};

    use super::{Throttle, ThrottleConfig};
    use crate::users::tests::{PASSWORD, T0, fixture_with, quick_delays};
    use crate::users::{AuthError, RegisterError};

    /// docs/threat-model.md case 65: repeated failures slow an account down progressively, with
    /// the same generic error; the right password still works (after the delay), and other
    /// accounts are not slowed. Replaces the former 15-minute lockout, which let anyone lock a
    /// known account out by typing five wrong passwords.
    #[tokio::test]
    async fn case_65_repeated_failures_delay_the_account_progressively_never_lock_it() {
        let f = fixture_with(quick_delays());
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
        assert_eq!(f.users.delayed_logins(), 0, "five failures are free");
        // The sixth attempt waits the base delay, the seventh twice that; same generic error.
        let start = Instant::now();
        let err = f
            .users
            .authenticate("victim@example.com", "guess guess guess")
            .await
            .unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert_eq!(err.to_string(), "invalid email or password");
        let start = Instant::now();
        assert_eq!(
            f.users
                .authenticate("VICTIM@example.com", PASSWORD)
                .await
                .unwrap(),
            user,
            "the right password works, after the delay"
        );
        assert!(start.elapsed() >= Duration::from_millis(200));
        assert_eq!(f.users.delayed_logins(), 2);
        // Other accounts are unaffected.
        assert!(
            f.users
                .authenticate("bystander@example.com", PASSWORD)
                .await
                .is_ok()
        );
        assert_eq!(f.users.delayed_logins(), 2);
        // The success cleared the victim's failures: no delay any more.
        assert!(
            f.users
                .authenticate("victim@example.com", PASSWORD)
                .await
                .is_ok()
        );
        assert_eq!(f.users.delayed_logins(), 2);
        // Failures older than the window no longer count.
        for _ in 0..6 {
            let _ = f
                .users
                .authenticate("victim@example.com", "nope nope")
                .await;
        }
        assert_eq!(f.users.delayed_logins(), 3);
        f.advance(15 * 60);
        assert!(
            f.users
                .authenticate("victim@example.com", PASSWORD)
                .await
                .is_ok()
        );
        assert_eq!(f.users.delayed_logins(), 3);
    }

    #[tokio::test]
    async fn case_65_unknown_accounts_are_delayed_too_and_success_resets_the_count() {
        let f = fixture_with(quick_delays());
        // The delay does not depend on the account existing (no enumeration through it).
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
                .is_ok()
        );
        assert_eq!(f.users.delayed_logins(), 1, "the sixth attempt was delayed");

        f.users
            .register("fine@example.com", PASSWORD)
            .await
            .unwrap();
        for _ in 0..2 {
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
        assert_eq!(f.users.delayed_logins(), 1, "success resets the count");
    }

    /// Parallel guesses cannot skip the delay: failures are recorded when attempts start.
    #[tokio::test]
    async fn case_65_parallel_guesses_cannot_skip_the_delay() {
        let f = fixture_with(quick_delays());
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
        assert_eq!(f.users.verifications() - before, 12);
        assert_eq!(f.users.delayed_logins(), 7, "only five went without delay");
    }

    #[tokio::test]
    async fn case_65_per_ip_limits() {
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
        assert!(matches!(
            f.users
                .authenticate_from("p@example.com", PASSWORD, Some(attacker))
                .await,
            Err(AuthError::Invalid)
        ));
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
        // The address's window slides: after 15 minutes it may try again.
        f.advance(15 * 60);
        assert!(
            f.users
                .authenticate_from("p@example.com", PASSWORD, Some(attacker))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn registrations_per_address_are_limited_without_an_address_they_are_not() {
        let f = fixture_with(ThrottleConfig {
            peer_max_registrations: 2,
            ..ThrottleConfig::default()
        });
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        f.users
            .register_from("r1@example.com", PASSWORD, Some(ip))
            .await
            .unwrap();
        // A taken email counts as an attempt too.
        assert!(matches!(
            f.users
                .register_from("r1@example.com", PASSWORD, Some(ip))
                .await,
            Err(RegisterError::EmailTaken)
        ));
        assert!(matches!(
            f.users
                .register_from("r3@example.com", PASSWORD, Some(ip))
                .await,
            Err(RegisterError::Throttled)
        ));
        // Invalid input is refused before the throttle and does not count.
        f.users
            .register("r3@example.com", PASSWORD)
            .await
            .expect("no address (the command line): no limit");
        f.advance(60 * 60);
        f.users
            .register_from("r4@example.com", PASSWORD, Some(ip))
            .await
            .unwrap();
    }

    #[test]
    fn throttle_state_is_pruned_and_bounded() {
        let mut t = Throttle::new(ThrottleConfig::default());
        for i in 0..100 {
            t.begin_login(&format!("user{i}@example.com"), None, T0)
                .unwrap();
        }
        assert_eq!(t.tracked_accounts(), 100);
        t.begin_login("late@example.com", None, T0 + 15 * 60)
            .unwrap();
        assert_eq!(t.tracked_accounts(), 1);

        let mut t = Throttle::new(ThrottleConfig {
            max_tracked: 10,
            ..ThrottleConfig::default()
        });
        for i in 0..1000 {
            t.begin_login(&format!("spray{i}@example.com"), None, T0 + i)
                .unwrap();
        }
        assert_eq!(
            t.tracked_accounts(),
            10,
            "the least recently seen are forgotten"
        );
    }

    #[test]
    fn the_in_flight_limit_counts_attempts_of_one_address() {
        let mut t = Throttle::new(ThrottleConfig::default());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        t.begin_login("a@example.com", Some(ip), T0).unwrap();
        t.begin_registration(Some(ip), T0).unwrap();
        assert_eq!(
            t.begin_login("b@example.com", Some(ip), T0),
            Err(super::Denied::Busy)
        );
        t.leave(Some(ip));
        t.begin_login("b@example.com", Some(ip), T0).unwrap();
        // Other addresses and unknown ones are not affected.
        t.begin_login("c@example.com", Some("192.0.2.2".parse().unwrap()), T0)
            .unwrap();
        // IPv6 addresses of one /64 count as one.
        let v6 = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        t.begin_login("e@example.com", v6("2001:db8::1"), T0)
            .unwrap();
        t.begin_login("e@example.com", v6("2001:db8::2"), T0)
            .unwrap();
        assert_eq!(
            t.begin_login("e@example.com", v6("2001:db8::3"), T0),
            Err(super::Denied::Busy)
        );
        t.begin_login("e@example.com", v6("2001:db8:0:1::1"), T0)
            .unwrap();
        for _ in 0..10 {
            t.begin_login("d@example.com", None, T0).unwrap();
        }
    }
}
