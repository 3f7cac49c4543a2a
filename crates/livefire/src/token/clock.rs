//! The time source of a [`Keyring`](super::Keyring): the system clock, or (feature `test-util`)
//! a manual clock that tests move by hand.

use std::fmt;
#[cfg(feature = "test-util")]
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
#[cfg(feature = "test-util")]
use std::time::{Duration, UNIX_EPOCH};

#[cfg(feature = "test-util")]
use super::lock;

/// Source of the current time for issuing and checking tokens: [`Clock::system`] in production.
/// With the `test-util` feature, `Clock::manual` gives tests a clock that moves only when told
/// to, to check expiry boundaries exactly.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use livefire::token::Clock;
///
/// let (clock, handle) = Clock::manual(UNIX_EPOCH + Duration::from_secs(1_000));
/// handle.advance(Duration::from_secs(59));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(1_059));
/// ```
#[derive(Clone, Default)]
pub struct Clock(ClockKind);

#[derive(Clone, Default)]
enum ClockKind {
    #[default]
    System,
    #[cfg(feature = "test-util")]
    Manual(Arc<Mutex<SystemTime>>),
}

impl Clock {
    /// The operating system's wall clock.
    pub fn system() -> Self {
        Self(ClockKind::System)
    }

    /// A clock that only moves when told to, plus the handle that moves it. A test tool: needs
    /// the `test-util` feature.
    #[cfg(feature = "test-util")]
    pub fn manual(start: SystemTime) -> (Self, ManualClock) {
        let shared = Arc::new(Mutex::new(start));
        (Self(ClockKind::Manual(shared.clone())), ManualClock(shared))
    }

    /// The current time according to this clock.
    pub fn now(&self) -> SystemTime {
        match &self.0 {
            ClockKind::System => SystemTime::now(),
            #[cfg(feature = "test-util")]
            ClockKind::Manual(t) => *lock(t),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ClockKind::System => f.write_str("Clock::System"),
            #[cfg(feature = "test-util")]
            ClockKind::Manual(t) => f.debug_tuple("Clock::Manual").field(&*lock(t)).finish(),
        }
    }
}

/// Handle that moves a [`Clock::manual`] clock. A test tool: needs the `test-util` feature.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use livefire::token::Clock;
///
/// let start = UNIX_EPOCH + Duration::from_secs(1_000);
/// let (clock, handle) = Clock::manual(start);
/// handle.rewind(Duration::from_secs(10));
/// assert_eq!(clock.now(), start - Duration::from_secs(10));
/// handle.set(start);
/// assert_eq!((clock.now(), handle.now()), (start, start));
/// ```
#[cfg(feature = "test-util")]
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

#[cfg(feature = "test-util")]
impl ManualClock {
    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut t = lock(&self.0);
        *t += by;
    }

    /// Moves the clock backward by `by` (to simulate skew between nodes).
    pub fn rewind(&self, by: Duration) {
        let mut t = lock(&self.0);
        *t = t.checked_sub(by).unwrap_or(UNIX_EPOCH);
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: SystemTime) {
        *lock(&self.0) = to;
    }

    /// The clock's current time.
    pub fn now(&self) -> SystemTime {
        *lock(&self.0)
    }
}
