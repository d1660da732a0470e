//! Job metrics: what a bulk job's summary says about how it went ([`JobMetrics`], in
//! [`crate::bulk::BulkSummary::metrics`]), and the fixed-memory latency histogram behind its percentiles.
//!
//! The numbers are gathered from the job's own events (see [`crate::events`]): every HTTP exchange a worker of
//! the job makes, every retry it schedules, every token it refreshes. They are kept whether or not anything
//! listens to the events.
//!
//! **Credits.** Zoho does not say what a related-records call costs (spec §5.2, §11): this client counts one
//! credit per API answer other than a 429 (a 429 did nothing), which is Zoho's default cost per call.
//! `X-API-CREDITS-REMAINING` only appears once half of the day's credits are used (spec §5.4); the last value
//! received is kept (with calls in parallel, "last" is the one whose answer arrived last).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Sub-buckets per power of two: 2^5 = 32, so a percentile is within about 3% of the true value.
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
/// Values are microseconds, capped at 2^40 us (about 12 days).
const MAX_EXP: u32 = 40;
const BUCKETS: usize = (SUB + (MAX_EXP - SUB_BITS + 1) as u64 * SUB) as usize;

/// A latency histogram in fixed memory (about 9 KiB whatever the number of samples): log-linear buckets of
/// microseconds, 32 per power of two, so percentiles are exact to about 3%; the maximum is exact. Recording is
/// lock-free (threads of a job record at once).
///
/// ```
/// use std::time::Duration;
/// use zcrm_extid::metrics::LatencyHistogram;
/// let h = LatencyHistogram::new();
/// for ms in 1..=100 {
///     h.record(Duration::from_millis(ms));
/// }
/// let p50 = h.percentile(0.5).as_secs_f64() * 1e3;
/// assert!((48.0..=52.0).contains(&p50), "{p50}");
/// assert_eq!(h.max(), Duration::from_millis(100));
/// assert_eq!(h.count(), 100);
/// ```
pub struct LatencyHistogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    max_us: AtomicU64,
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("count", &self.count())
            .field("p50", &self.percentile(0.5))
            .field("max", &self.max())
            .finish()
    }
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram::new()
    }
}

fn bucket_of(us: u64) -> usize {
    let us = us.min((1u64 << (MAX_EXP + 1)) - 1);
    if us < SUB {
        return us as usize;
    }
    let exp = 63 - us.leading_zeros();
    let shift = exp - SUB_BITS;
    let sub = (us >> shift) - SUB;
    (SUB + u64::from(shift) * SUB + sub) as usize
}

/// The largest value (us) that falls in bucket `i`.
fn bucket_top(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    let shift = (i - SUB) / SUB;
    let sub = (i - SUB) % SUB;
    ((SUB + sub) << shift) + (1u64 << shift) - 1
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> LatencyHistogram {
        LatencyHistogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            max_us: AtomicU64::new(0),
        }
    }

    /// Adds one sample.
    pub fn record(&self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.max_us.fetch_max(us, Ordering::Relaxed);
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The largest sample (exact).
    pub fn max(&self) -> Duration {
        Duration::from_micros(self.max_us.load(Ordering::Relaxed))
    }

    /// The `q` quantile (`0.5` = median, `0.95`), to about 3%, never above the maximum; zero without samples.
    pub fn percentile(&self, q: f64) -> Duration {
        let total: u64 = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum();
        if total == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= rank {
                let max = self.max_us.load(Ordering::Relaxed);
                return Duration::from_micros(bucket_top(i).min(max));
            }
        }
        self.max()
    }
}

/// Why a retry was made (the causes [`crate::retry::is_retryable`] admits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCause {
    /// HTTP 429 / `TOO_MANY_REQUESTS`.
    RateLimited,
    /// HTTP 5xx.
    ServerError,
    /// A dropped or refused connection.
    Transport,
    /// No answer in time.
    Timeout,
}

impl RetryCause {
    /// `429`, `5xx`, `transport` or `timeout` (the `cause` field of `retry.scheduled` events).
    pub fn as_str(self) -> &'static str {
        match self {
            RetryCause::RateLimited => "429",
            RetryCause::ServerError => "5xx",
            RetryCause::Transport => "transport",
            RetryCause::Timeout => "timeout",
        }
    }

    /// The cause of retrying after `error`.
    pub fn of(error: &crate::Error) -> RetryCause {
        match error {
            crate::Error::Timeout { .. } => RetryCause::Timeout,
            crate::Error::Transport { .. } => RetryCause::Transport,
            e if crate::retry::is_rate_limited(e) => RetryCause::RateLimited,
            _ => RetryCause::ServerError,
        }
    }
}

/// How a bulk job went, beyond its row counts (see the module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobMetrics {
    /// Retries after a 429.
    pub retries_429: u64,
    /// Retries after a 5xx.
    pub retries_5xx: u64,
    /// Retries after a dropped connection.
    pub retries_transport: u64,
    /// Retries after a timeout.
    pub retries_timeout: u64,
    /// HTTP exchanges timed (API calls, including a resend after a token refresh).
    pub timed_calls: u64,
    /// Median call latency (request written to answer read).
    pub latency_p50: Duration,
    /// 95th percentile of the call latency.
    pub latency_p95: Duration,
    /// Slowest call.
    pub latency_max: Duration,
    /// Rows with an outcome per second of the job's wall time.
    pub rows_per_sec: f64,
    /// Time calls spent waiting to be sent again: retry backoff and the token endpoint's throttle, summed over
    /// calls (calls wait in parallel, so it can exceed the wall time).
    pub backoff_wait: Duration,
    /// Access tokens the job's calls fetched.
    pub token_refreshes: u64,
    /// Credits used, counted as one per API answer other than a 429 (see the module docs).
    pub credits_used: u64,
    /// The last `X-API-CREDITS-REMAINING` Zoho sent, if it sent one.
    pub credits_remaining: Option<u64>,
}

const NO_CREDITS: u64 = u64::MAX;

/// Gathers a job's metrics from its workers' events (lock-free).
#[derive(Debug)]
pub(crate) struct Recorder {
    latency: LatencyHistogram,
    retries: [AtomicU64; 4],
    backoff_us: AtomicU64,
    token_refreshes: AtomicU64,
    credits_used: AtomicU64,
    credits_remaining: AtomicU64,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            latency: LatencyHistogram::new(),
            retries: Default::default(),
            backoff_us: AtomicU64::new(0),
            token_refreshes: AtomicU64::new(0),
            credits_used: AtomicU64::new(0),
            credits_remaining: AtomicU64::new(NO_CREDITS),
        }
    }
}

impl Recorder {
    /// An HTTP exchange with the API ended: `status` if an answer came.
    pub fn call(&self, status: Option<u16>, latency: Duration, credits_remaining: Option<u64>) {
        self.latency.record(latency);
        if status.is_some_and(|s| s != 429) {
            self.credits_used.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(c) = credits_remaining {
            self.credits_remaining.store(c.min(NO_CREDITS - 1), Ordering::Relaxed);
        }
    }

    /// A retry was scheduled `delay` from now.
    pub fn retry(&self, cause: RetryCause, delay: Duration) {
        self.retries[cause as usize].fetch_add(1, Ordering::Relaxed);
        self.wait(delay);
    }

    /// A call waits `delay` (backoff or the token throttle).
    pub fn wait(&self, delay: Duration) {
        self.backoff_us.fetch_add(u64::try_from(delay.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// A token was fetched.
    pub fn token_refreshed(&self) {
        self.token_refreshes.fetch_add(1, Ordering::Relaxed);
    }

    /// The metrics of a job that read `rows` rows in `elapsed`.
    pub fn snapshot(&self, rows: u64, elapsed: Duration) -> JobMetrics {
        let r = |c: RetryCause| self.retries[c as usize].load(Ordering::Relaxed);
        let credits = self.credits_remaining.load(Ordering::Relaxed);
        JobMetrics {
            retries_429: r(RetryCause::RateLimited),
            retries_5xx: r(RetryCause::ServerError),
            retries_transport: r(RetryCause::Transport),
            retries_timeout: r(RetryCause::Timeout),
            timed_calls: self.latency.count(),
            latency_p50: self.latency.percentile(0.5),
            latency_p95: self.latency.percentile(0.95),
            latency_max: self.latency.max(),
            rows_per_sec: rows as f64 / elapsed.as_secs_f64().max(1e-9),
            backoff_wait: Duration::from_micros(self.backoff_us.load(Ordering::Relaxed)),
            token_refreshes: self.token_refreshes.load(Ordering::Relaxed),
            credits_used: self.credits_used.load(Ordering::Relaxed),
            credits_remaining: (credits != NO_CREDITS).then_some(credits),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for us in (0..100_000u64).chain([1 << 30, 1 << 40, u64::MAX]) {
            let b = bucket_of(us);
            assert!(b < BUCKETS && b >= last, "{us}");
            assert!(bucket_top(b) >= us.min((1 << (MAX_EXP + 1)) - 1), "{us} above its bucket's top");
            last = b;
        }
        for i in 1..BUCKETS {
            assert!(bucket_top(i) > bucket_top(i - 1));
            // 32 sub-buckets per power of two: a bucket is at most 1/32 of its values wide.
            let lo = bucket_top(i - 1) + 1;
            assert!((bucket_top(i) - lo) as f64 <= lo as f64 / 32.0, "bucket {i}");
        }
    }

    #[test]
    fn percentiles_are_within_three_percent() {
        let h = LatencyHistogram::new();
        assert_eq!((h.percentile(0.5), h.max()), (Duration::ZERO, Duration::ZERO));
        // 1,000 samples of 1..=1000 ms, shuffled order does not matter.
        for i in (1..=1000u64).rev() {
            h.record(Duration::from_millis(i));
        }
        for (q, want) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let got = h.percentile(q).as_secs_f64() * 1e3;
            assert!((got - want).abs() <= want * 0.035, "p{q}: {got} vs {want}");
        }
        assert_eq!(h.max(), Duration::from_millis(1000));
        assert_eq!(h.percentile(1.0), Duration::from_millis(1000));
    }

    #[test]
    fn recorder_counts_credits_and_causes() {
        let r = Recorder::default();
        r.call(Some(200), Duration::from_millis(10), None);
        r.call(Some(429), Duration::from_millis(1), Some(40));
        r.call(None, Duration::from_millis(5), None);
        r.call(Some(500), Duration::from_millis(20), Some(38));
        r.retry(RetryCause::RateLimited, Duration::from_millis(100));
        r.retry(RetryCause::Transport, Duration::from_millis(50));
        r.token_refreshed();
        let m = r.snapshot(200, Duration::from_secs(2));
        assert_eq!((m.credits_used, m.credits_remaining), (2, Some(38)), "200 and 500 cost, 429 and drop do not");
        assert_eq!((m.retries_429, m.retries_5xx, m.retries_transport, m.retries_timeout), (1, 0, 1, 0));
        assert_eq!((m.backoff_wait, m.token_refreshes, m.timed_calls), (Duration::from_millis(150), 1, 4));
        assert_eq!((m.latency_max, m.rows_per_sec), (Duration::from_millis(20), 100.0));
        assert_eq!(Recorder::default().snapshot(0, Duration::ZERO).credits_remaining, None);
    }
}
