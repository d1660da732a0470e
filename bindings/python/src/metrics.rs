//! `BulkSummary.metrics`: the core's [`zcrm_extid::metrics::JobMetrics`] as plain Python data (durations in
//! seconds, as `BulkSummary.elapsed`).

use std::collections::BTreeMap;

use pyo3::prelude::*;
use zcrm_extid::metrics::JobMetrics as CoreMetrics;

/// How a bulk job went beyond its row counts: retries by cause, call latency percentiles, rows/s, time spent
/// waiting in backoff, token refreshes, credits.
#[pyclass(module = "zcrm_extid._native", frozen, get_all)]
pub struct JobMetrics {
    /// Retries after a 429.
    pub retries_429: u64,
    /// Retries after a 5xx.
    pub retries_5xx: u64,
    /// Retries after a dropped connection.
    pub retries_transport: u64,
    /// Retries after a timeout.
    pub retries_timeout: u64,
    /// `{"429": n, "5xx": n, "transport": n, "timeout": n}`.
    pub retries_by_cause: BTreeMap<&'static str, u64>,
    /// HTTP exchanges timed.
    pub timed_calls: u64,
    /// Median call latency, seconds.
    pub latency_p50: f64,
    /// 95th percentile of the call latency, seconds.
    pub latency_p95: f64,
    /// Slowest call, seconds.
    pub latency_max: f64,
    /// Rows with an outcome per second.
    pub rows_per_sec: f64,
    /// Seconds calls spent waiting to be sent again (backoff, token throttle), summed over calls.
    pub backoff_wait: f64,
    /// Access tokens fetched by the job.
    pub token_refreshes: u64,
    /// Credits used (one per API answer other than a 429).
    pub credits_used: u64,
    /// The last `X-API-CREDITS-REMAINING` Zoho sent, if any.
    pub credits_remaining: Option<u64>,
}

impl From<&CoreMetrics> for JobMetrics {
    fn from(m: &CoreMetrics) -> Self {
        JobMetrics {
            retries_429: m.retries_429,
            retries_5xx: m.retries_5xx,
            retries_transport: m.retries_transport,
            retries_timeout: m.retries_timeout,
            retries_by_cause: BTreeMap::from([
                ("429", m.retries_429),
                ("5xx", m.retries_5xx),
                ("transport", m.retries_transport),
                ("timeout", m.retries_timeout),
            ]),
            timed_calls: m.timed_calls,
            latency_p50: m.latency_p50.as_secs_f64(),
            latency_p95: m.latency_p95.as_secs_f64(),
            latency_max: m.latency_max.as_secs_f64(),
            rows_per_sec: m.rows_per_sec,
            backoff_wait: m.backoff_wait.as_secs_f64(),
            token_refreshes: m.token_refreshes,
            credits_used: m.credits_used,
            credits_remaining: m.credits_remaining,
        }
    }
}

#[pymethods]
impl JobMetrics {
    fn __repr__(&self) -> String {
        format!(
            "JobMetrics(latency_p50={:.4}, latency_p95={:.4}, latency_max={:.4}, retries_by_cause={:?}, \
             rows_per_sec={:.1}, backoff_wait={:.3}, token_refreshes={}, credits_used={}, credits_remaining={})",
            self.latency_p50,
            self.latency_p95,
            self.latency_max,
            self.retries_by_cause,
            self.rows_per_sec,
            self.backoff_wait,
            self.token_refreshes,
            self.credits_used,
            self.credits_remaining.map_or("None".to_owned(), |c| c.to_string())
        )
    }
}
