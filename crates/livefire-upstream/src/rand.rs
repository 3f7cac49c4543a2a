//! Randomness for views that pick random values (`Enum.take_random/2`, `:rand.uniform/0`),
//! from the standard library's randomly keyed hasher: no extra dependency, not cryptographic.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// A random `u64`.
pub fn u64() -> u64 {
    RandomState::new().build_hasher().finish()
}

/// A random float in `[0, 1)`.
pub fn uniform() -> f64 {
    (u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// `Enum.take_random(items, n)`: `n` distinct items in random order.
pub fn take_random<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    let mut pool = items.to_vec();
    let mut out = Vec::with_capacity(n.min(pool.len()));
    while out.len() < n && !pool.is_empty() {
        let i = (u64() % pool.len() as u64) as usize;
        out.push(pool.swap_remove(i));
    }
    out
}

/// `System.unique_integer()`: unique per server run, monotonically increasing and, like the
/// BEAM's, starting from a large negative number (views put it into DOM ids such as
/// `items-a-576460752303423487` that the specs match with `/items-a-.*/`).
pub fn unique_integer() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static NEXT: AtomicI64 = AtomicI64::new(-576_460_752_303_423_487);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
