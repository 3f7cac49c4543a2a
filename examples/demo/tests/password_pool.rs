//! The password pool's bounds (docs/threat-model.md R8, R10): refused at once when full, a
//! fixed number of threads, and memory that does not grow with the number of clients. Alone
//! in its test binary, so that the process's resident memory measures this test only.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use demo::db::Db;
use demo::users::pool::PoolConfig;
use demo::users::{AuthError, BUSY_MESSAGE, RegisterError, Users};

const PASSWORD: &str = "correct horse battery";

fn addr(i: usize) -> IpAddr {
    IpAddr::from([203, 0, 113, u8::try_from(i).expect("a small index")])
}

/// Pool threads of this process whose name starts with `prefix` (Linux: `/proc/self/task`).
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .filter(|name| name.trim_end().starts_with(prefix))
        .count()
}

/// Resident memory of this process, in bytes.
fn rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: usize = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("VmRSS");
    kib * 1024
}

/// docs/threat-model.md R8, R10: when every thread and queue place of the password pool is
/// taken, logins and registrations are refused at once with the "try again" message, without
/// hashing, from any number of addresses; the pool's threads never grow; and a burst of
/// concurrent logins runs at most `threads` Argon2 hashes at once, so memory stays bounded.
#[tokio::test]
async fn r8_password_pool_refuses_at_once_when_saturated_and_keeps_threads_and_memory_bounded() {
    let users = Users::new(Db::open_in_memory().expect("db")).with_pool(PoolConfig {
        threads: 2,
        queue: 2,
        thread_name: "pwsat".to_owned(),
    });
    users.register("sat@example.com", PASSWORD).await.unwrap();
    assert_eq!(threads_named("pwsat-"), 2);

    // Saturate: two jobs running (blocked), two waiting.
    let (unblock, blocked) = std::sync::mpsc::channel::<()>();
    let blocked = std::sync::Arc::new(std::sync::Mutex::new(blocked));
    let mut jobs = Vec::new();
    for _ in 0..4 {
        let slot = users.pool().try_reserve().expect("a free place");
        let blocked = blocked.clone();
        jobs.push(tokio::spawn(slot.run(move || {
            let _ = blocked.lock().unwrap().recv();
        })));
    }
    assert_eq!(users.pool().admitted(), 4);
    let before = users.verifications();
    let start = Instant::now();
    let attempts: Vec<_> = (0..50)
        .map(|i| {
            let users = users.clone();
            tokio::spawn(async move {
                users
                    .authenticate_from("sat@example.com", PASSWORD, Some(addr(i)))
                    .await
            })
        })
        .collect();
    for attempt in attempts {
        let err = attempt.await.unwrap().unwrap_err();
        assert!(matches!(err, AuthError::Busy), "{err:?}");
        assert_eq!(err.to_string(), BUSY_MESSAGE);
    }
    let err = users
        .register_from("late@example.com", PASSWORD, Some(addr(60)))
        .await
        .unwrap_err();
    assert!(matches!(err, RegisterError::Busy), "{err:?}");
    assert_eq!(err.to_string(), BUSY_MESSAGE);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "refused at once: {:?}",
        start.elapsed()
    );
    assert_eq!(users.verifications(), before, "nothing was hashed");
    assert_eq!(users.user_by_email("late@example.com").await.unwrap(), None);
    assert_eq!(threads_named("pwsat-"), 2, "no thread was added");
    assert_eq!(users.delayed_logins(), 0, "a refusal is not a failure");

    for _ in 0..4 {
        unblock.send(()).unwrap();
    }
    for job in jobs {
        job.await.unwrap().unwrap();
    }
    users
        .authenticate_from("sat@example.com", PASSWORD, Some(addr(0)))
        .await
        .expect("room again");

    // A burst of 64 concurrent logins through a pool with room for all of them: at most two
    // hashes ever run at once, on the same two threads, each reusing its one 19 MiB buffer, so
    // the burst adds about 2 × 19 MiB. (Hashing on tokio's blocking pool ran all 64 at once:
    // 1.2 GiB; even on two threads, allocating the blocks per hash let glibc keep about
    // 150 MiB per thread.)
    let users = users.with_pool(PoolConfig {
        threads: 2,
        queue: 64,
        thread_name: "pwburst".to_owned(),
    });
    let baseline = rss();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(baseline));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let burst: Vec<_> = (0..64)
        .map(|i| {
            let users = users.clone();
            tokio::spawn(async move {
                users
                    .authenticate_from(&format!("u{i}@example.com"), PASSWORD, Some(addr(i)))
                    .await
            })
        })
        .collect();
    for attempt in burst {
        assert!(matches!(attempt.await.unwrap(), Err(AuthError::Invalid)));
    }
    sampler.abort();
    let grown = peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(baseline);
    assert!(
        users.pool().peak_running() <= 2,
        "{}",
        users.pool().peak_running()
    );
    assert_eq!(threads_named("pwburst-"), 2);
    // Two pool threads, one 19 MiB block buffer each, plus small change (database threads).
    assert!(
        grown < 96 * 1024 * 1024,
        "resident memory grew by {} MiB during the burst",
        grown / (1024 * 1024)
    );
}
