//! The password pool: every Argon2 hash and verification runs on a fixed set of threads behind a
//! short queue, so that no number of clients can make the server hash more than
//! [`PoolConfig::threads`] passwords at once (docs/threat-model.md R8, R10).
//!
//! **Why a pool of our own.** Argon2id at the OWASP parameters allocates 19 MiB per hash. On
//! tokio's blocking pool (`spawn_blocking`, up to 512 threads) one client could start hundreds
//! of verifications at once; each ran on its own thread, and glibc keeps a heap arena per
//! thread, so the memory those threads touched stayed resident: about 7 GB for 256 parallel
//! logins. A `Semaphore` in front of `spawn_blocking` would bound the concurrent hashes, but not
//! which threads run them (the blocking pool keeps growing for the database and other work, and
//! every thread that once hashed keeps its arena). Here the threads are created once, at start,
//! and only they ever hash:
//!
//! * at most `threads` hashes run at once, so Argon2 memory is at most
//!   `threads × 19 MiB` (plus one retained arena per pool thread, the same order), and the
//!   thread count never changes;
//! * at most `threads + queue` jobs are admitted (running or waiting). A caller takes a
//!   [`Slot`] *before* it does anything else; when none is free, [`PasswordPool::try_reserve`]
//!   answers `None` at once and the login or registration is refused without hashing, so a
//!   flood costs a counter increment per request, not a hash;
//! * a slot is released by the worker when the job is done, not when the caller stops waiting,
//!   so cancelled requests (a closed tab) cannot free room for more work than the pool runs.
//!
//! With the defaults (one thread per core, a queue of 8 per thread) a 2-core machine hashes two
//! passwords at once (38 MiB of Argon2 memory), and a request waits behind at most 16 others,
//! about half a second.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;

/// Memory one Argon2id hash or verification uses at the parameters of [`super::password`]
/// (`m = 19456 KiB`).
pub const ARGON2_MEMORY_BYTES: usize = 19_456 * 1024;

/// Size of a [`PasswordPool`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Threads hashing passwords; at most this many hashes run at once. Default: the number of
    /// cores (`std::thread::available_parallelism`).
    pub threads: usize,
    /// Jobs that may wait for a thread; one more is refused at once. Default: 8 per thread.
    pub queue: usize,
    /// Name prefix of the threads (`<name>-0`, `<name>-1`, …; Linux shows 15 bytes of it).
    pub thread_name: String,
}

impl Default for PoolConfig {
    fn default() -> Self {
        let threads = thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::with_threads(threads)
    }
}

impl PoolConfig {
    /// `threads` threads and the default queue of 8 per thread.
    ///
    /// ```
    /// use demo::users::pool::PoolConfig;
    /// let config = PoolConfig::with_threads(2);
    /// assert_eq!((config.threads, config.queue), (2, 16));
    /// // The Argon2 memory the pool can use at once.
    /// assert_eq!(config.max_argon2_memory(), 2 * 19_456 * 1024);
    /// ```
    pub fn with_threads(threads: usize) -> Self {
        let threads = threads.max(1);
        Self {
            threads,
            queue: threads * 8,
            thread_name: "password".to_owned(),
        }
    }

    /// The most Argon2 memory the pool uses at once: `threads ×` [`ARGON2_MEMORY_BYTES`].
    pub fn max_argon2_memory(&self) -> usize {
        self.threads.max(1) * ARGON2_MEMORY_BYTES
    }
}

/// A job failed without producing a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The job panicked (the thread survives and takes the next job).
    #[error("password job panicked")]
    Panicked,
    /// The pool's threads are gone.
    #[error("password pool stopped")]
    Stopped,
}

type Job = Box<dyn FnOnce() + Send>;

/// Counters shared by the handles and the threads.
#[derive(Debug, Default)]
struct Counters {
    /// Slots taken: jobs waiting or running, and reservations not yet used.
    admitted: AtomicUsize,
    /// Jobs running now.
    running: AtomicUsize,
    /// Most jobs ever running at once.
    peak_running: AtomicUsize,
    /// Pool threads alive.
    alive: AtomicUsize,
}

/// The fixed pool of password threads (see the [module docs](self)). Cheap to clone; the
/// threads stop when the last clone is dropped.
#[derive(Clone)]
pub struct PasswordPool {
    tx: mpsc::Sender<Job>,
    counters: Arc<Counters>,
    capacity: usize,
    config: Arc<PoolConfig>,
}

impl std::fmt::Debug for PasswordPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordPool")
            .field("threads", &self.config.threads)
            .field("queue", &self.config.queue)
            .field("admitted", &self.admitted())
            .finish()
    }
}

impl PasswordPool {
    /// Starts `config.threads` threads.
    ///
    /// # Panics
    /// If the operating system refuses to create a thread (at start-up only).
    pub fn new(config: PoolConfig) -> Self {
        let config = PoolConfig {
            threads: config.threads.max(1),
            ..config
        };
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let counters = Arc::new(Counters::default());
        for i in 0..config.threads {
            let rx = Arc::clone(&rx);
            let counters = Arc::clone(&counters);
            counters.alive.fetch_add(1, Ordering::SeqCst);
            thread::Builder::new()
                .name(format!("{}-{i}", config.thread_name))
                .spawn(move || worker(&rx, &counters))
                .expect("cannot start a password thread");
        }
        Self {
            tx,
            capacity: config.threads + config.queue,
            counters,
            config: Arc::new(config),
        }
    }

    /// The pool's size.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Takes a slot if fewer than `threads + queue` jobs are admitted; `None` at once
    /// otherwise (the caller refuses the request without hashing).
    pub fn try_reserve(&self) -> Option<Slot> {
        let admitted =
            self.counters
                .admitted
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < self.capacity).then_some(n + 1)
                });
        admitted.ok().map(|_| Slot {
            tx: self.tx.clone(),
            release: Release(Arc::clone(&self.counters)),
        })
    }

    /// Jobs admitted now (waiting or running, and unused reservations).
    pub fn admitted(&self) -> usize {
        self.counters.admitted.load(Ordering::SeqCst)
    }

    /// The most jobs that ever ran at once (never more than `threads`).
    pub fn peak_running(&self) -> usize {
        self.counters.peak_running.load(Ordering::SeqCst)
    }

    /// Pool threads alive.
    pub fn threads_alive(&self) -> usize {
        self.counters.alive.load(Ordering::SeqCst)
    }
}

/// Frees an admitted slot when dropped (by the worker after the job, or by a caller that
/// reserved and did not run).
#[derive(Debug)]
struct Release(Arc<Counters>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A reserved place in the pool: run one job with it, or drop it to give the place back.
#[derive(Debug)]
#[must_use = "a slot holds a place in the password pool until it is used or dropped"]
pub struct Slot {
    tx: mpsc::Sender<Job>,
    release: Release,
}

impl Slot {
    /// Runs `f` on a pool thread and waits for its result. The slot stays taken until `f`
    /// has returned, even if this future is dropped first.
    pub async fn run<T, F>(self, f: F) -> Result<T, PoolError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let Slot { tx, release } = self;
        let job: Job = Box::new(move || {
            let outcome = catch_unwind(AssertUnwindSafe(f)).map_err(|_| PoolError::Panicked);
            // The place is free again before the caller hears back.
            drop(release);
            let _ = done.send(outcome);
        });
        tx.send(job).map_err(|_| PoolError::Stopped)?;
        result.await.map_err(|_| PoolError::Stopped)?
    }
}

fn worker(rx: &Mutex<mpsc::Receiver<Job>>, counters: &Counters) {
    loop {
        // One idle thread waits on the channel at a time; the others wait for the lock.
        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else { break };
        let running = counters.running.fetch_add(1, Ordering::SeqCst) + 1;
        counters.peak_running.fetch_max(running, Ordering::SeqCst);
        job();
        counters.running.fetch_sub(1, Ordering::SeqCst);
    }
    counters.alive.fetch_sub(1, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn slots_are_bounded_and_released_after_the_job() {
        let pool = PasswordPool::new(PoolConfig {
            threads: 1,
            queue: 1,
            thread_name: "pool-unit".to_owned(),
        });
        let (unblock, blocked) = std::sync::mpsc::channel::<()>();
        let first = pool.try_reserve().expect("room for the running job");
        let running = tokio::spawn(first.run(move || blocked.recv().is_ok()));
        let second = pool.try_reserve().expect("room for one waiting job");
        assert!(pool.try_reserve().is_none(), "full: refused at once");
        drop(second);
        let third = pool
            .try_reserve()
            .expect("a dropped reservation frees its place");
        let queued = tokio::spawn(third.run(|| 7));
        // A cancelled waiter keeps its place until the job ran.
        assert!(pool.try_reserve().is_none());
        unblock.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(true));
        assert_eq!(queued.await.unwrap(), Ok(7));
        assert_eq!(pool.admitted(), 0);
        assert_eq!(pool.peak_running(), 1);
        assert!(pool.try_reserve().is_some());
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_thread_survives() {
        let pool = PasswordPool::new(PoolConfig {
            threads: 1,
            queue: 0,
            thread_name: "pool-panic".to_owned(),
        });
        let slot = pool.try_reserve().unwrap();
        assert_eq!(
            slot.run(|| -> u8 { panic!("boom") }).await,
            Err(PoolError::Panicked)
        );
        assert_eq!(pool.try_reserve().unwrap().run(|| 1).await, Ok(1));
        assert_eq!(pool.threads_alive(), 1);
    }

    #[tokio::test]
    async fn threads_stop_with_the_last_handle() {
        let pool = PasswordPool::new(PoolConfig {
            threads: 2,
            queue: 0,
            thread_name: "pool-stop".to_owned(),
        });
        let counters = Arc::clone(&pool.counters);
        assert_eq!(counters.alive.load(Ordering::SeqCst), 2);
        drop(pool);
        for _ in 0..100 {
            if counters.alive.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the pool threads did not stop");
    }
}
