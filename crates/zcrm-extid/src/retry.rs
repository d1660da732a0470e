//! Retry policy, pure: what is retryable, how long to wait, and how many retries a job may spend.
//!
//! * Retryable: HTTP 429 and 5xx answers, dropped connections and timeouts. A related-records PUT is
//!   idempotent (re-linking an existing relation only updates its relation fields), so sending a call again after
//!   an unknown outcome is safe. Request-level 4xx errors other than 429, and every per-record result inside a
//!   `data` array, are final.
//! * Backoff: exponential with full jitter, `uniform(0, min(max_delay, base_delay * 2^attempt))`; a server's
//!   `Retry-After` (seconds) is honoured as a lower bound (capped at `max_retry_after`).
//! * Budget ([`RetryBudget`]): retries may add at most `ratio` of the calls made (plus a small reserve), so a
//!   server that is down does not get a retry storm from a large job.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::code::ErrorCode;
use crate::error::Error;

/// How often and how patiently to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry). Default 4.
    pub max_retries: u32,
    /// The first backoff ceiling. Default 250 ms.
    pub base_delay: Duration,
    /// The largest backoff ceiling. Default 10 s.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured. Default 60 s.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..Default::default() }
    }

    /// The wait before retry number `attempt + 1` (`attempt` = retries done so far).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, jitter: &mut Jitter) -> Duration {
        let ceiling = self.base_delay.saturating_mul(1u32 << attempt.min(20)).min(self.max_delay);
        let backoff = ceiling.mul_f64(jitter.next_unit());
        match retry_after {
            Some(ra) => backoff.max(ra.min(self.max_retry_after)),
            None => backoff,
        }
    }
}

/// Whether `error` may succeed if the call is sent again: [`Error::retryable`] (the code table's `retryable`
/// column, or a 429 / 5xx status), the one rule the client, the bulk engine and the bindings' `retryable` share.
pub fn is_retryable(error: &Error) -> bool {
    error.retryable()
}

/// Whether `error` says a rate limit was hit (HTTP 429 / `TOO_MANY_REQUESTS`).
pub fn is_rate_limited(error: &Error) -> bool {
    error.status() == Some(429) || error.code() == ErrorCode::TooManyRequests
}

/// `Retry-After: <seconds>`; HTTP dates are ignored (Zoho documents no `Retry-After` at all).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A small PRNG (SplitMix64) for jitter; not for anything secret.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeded from the clock and a process-wide counter, so concurrent callers get different sequences.
    pub fn new() -> Jitter {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        Jitter(t ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed))
    }

    /// A fixed seed, for reproducible tests.
    pub fn seeded(seed: u64) -> Jitter {
        Jitter(seed)
    }

    /// The next value in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Jitter::new()
    }
}

/// A retry budget shared by the calls of one job: each call deposits `ratio` tokens, each retry withdraws one;
/// `reserve` retries are always allowed, so small jobs still ride out a short outage.
#[derive(Debug)]
pub struct RetryBudget {
    /// Per-call deposit, in thousandths of a retry (integers: 10 x 0.1 must make exactly 1).
    ratio_milli: u64,
    tokens_milli: Mutex<u64>,
}

impl RetryBudget {
    /// A budget allowing `reserve` retries up front plus `ratio` retries per call.
    pub fn new(ratio: f64, reserve: u32) -> RetryBudget {
        RetryBudget {
            ratio_milli: (ratio * 1000.0).round() as u64,
            tokens_milli: Mutex::new(u64::from(reserve) * 1000),
        }
    }

    /// Records a first attempt of a call.
    pub fn deposit(&self) {
        *self.tokens_milli.lock().unwrap_or_else(|p| p.into_inner()) += self.ratio_milli;
    }

    /// Takes one retry from the budget, if there is one.
    pub fn try_withdraw(&self) -> bool {
        let mut t = self.tokens_milli.lock().unwrap_or_else(|p| p.into_inner());
        if *t >= 1000 {
            *t -= 1000;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_full_jitter() {
        let p = RetryPolicy::default();
        let mut j = Jitter::seeded(7);
        for attempt in 0..30 {
            let ceiling = p.base_delay.saturating_mul(1 << attempt.min(20)).min(p.max_delay);
            for _ in 0..50 {
                assert!(p.delay(attempt, None, &mut j) < ceiling.max(Duration::from_nanos(1)));
            }
        }
        assert!(p.delay(0, Some(Duration::from_secs(3)), &mut j) >= Duration::from_secs(3));
        assert_eq!(p.delay(0, Some(Duration::from_secs(3600)), &mut j), Duration::from_secs(60));
    }

    #[test]
    fn jitter_spreads() {
        let mut j = Jitter::seeded(1);
        let xs: Vec<f64> = (0..1000).map(|_| j.next_unit()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / 1000.0;
        assert!((0.4..0.6).contains(&mean), "{mean}");
    }

    #[test]
    fn budget_limits_retries() {
        let b = RetryBudget::new(0.1, 2);
        assert!(b.try_withdraw() && b.try_withdraw() && !b.try_withdraw());
        for _ in 0..10 {
            b.deposit();
        }
        assert!(b.try_withdraw() && !b.try_withdraw());
    }

    #[test]
    fn what_is_retryable() {
        let api = |status, code: &str| Error::Api {
            status,
            code: ErrorCode::parse(code),
            message: String::new(),
            details: Box::default(),
            hint: None,
        };
        assert!(is_retryable(&api(429, "TOO_MANY_REQUESTS")));
        assert!(is_retryable(&api(500, "INTERNAL_ERROR")));
        assert!(is_retryable(&Error::transport("reset")));
        assert!(!is_retryable(&api(400, "INVALID_DATA")));
        assert!(!is_retryable(&api(401, "INVALID_TOKEN")));
        assert!(is_rate_limited(&api(429, "X")));
        assert!(is_retryable(&api(200, "TOO_MANY_REQUESTS")) && is_retryable(&api(503, "SOMETHING_NEW")));
        assert!(is_retryable(&Error::timeout("read")));
        let auth = |status| Error::Auth {
            status,
            code: ErrorCode::OauthThrottled,
            error: String::new(),
            description: None,
            hint: None,
        };
        assert!(!is_retryable(&auth(400)) && is_retryable(&auth(503)));
        assert!(!is_retryable(&Error::Cancelled { message: String::new() }));
    }
}
