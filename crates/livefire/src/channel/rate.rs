//! The per-connection frame rate limit: a token bucket (threat model R8, cases 38 and 52).

use tokio::time::Instant;

use crate::limits::RateLimit;

/// A token bucket refilled at `per_second`, holding at most `burst` tokens.
#[derive(Debug)]
pub(super) struct Bucket {
    limit: RateLimit,
    tokens: f32,
    last: Instant,
}

impl Bucket {
    pub(super) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            tokens: limit.burst,
            last: Instant::now(),
        }
    }

    /// Takes one token; false when the client is over its rate.
    pub(super) fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f32() * self.limit.per_second;
        self.tokens = (self.tokens + refill).min(self.limit.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn refills_at_the_sustained_rate_up_to_the_burst() {
        let mut bucket = Bucket::new(RateLimit {
            per_second: 10.0,
            burst: 3.0,
        });
        assert!(bucket.take() && bucket.take() && bucket.take());
        assert!(!bucket.take());
        tokio::time::advance(std::time::Duration::from_millis(100)).await;
        assert!(bucket.take());
        assert!(!bucket.take());
        tokio::time::advance(std::time::Duration::from_secs(10)).await;
        assert!(bucket.take() && bucket.take() && bucket.take());
        assert!(!bucket.take());
    }
}
