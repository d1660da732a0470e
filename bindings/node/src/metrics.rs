//! `summary.metrics` of a bulk job: the core's [`zcrm_extid::metrics::JobMetrics`] as a plain object
//! (durations in ms, as the summary's `elapsedMs`).

use napi_derive::napi;
use zcrm_extid::metrics::JobMetrics as CoreMetrics;

/// How a bulk job went beyond its row counts.
#[napi(object, object_from_js = false)]
pub struct JobMetrics {
    /// Retries after a 429.
    pub retries429: f64,
    /// Retries after a 5xx.
    #[napi(js_name = "retries5xx")]
    pub retries5xx: f64,
    /// Retries after a dropped connection.
    pub retries_transport: f64,
    /// Retries after a timeout.
    pub retries_timeout: f64,
    /// HTTP exchanges timed.
    pub timed_calls: f64,
    /// Median call latency, ms.
    pub latency_p50_ms: f64,
    /// 95th percentile of the call latency, ms.
    pub latency_p95_ms: f64,
    /// Slowest call, ms.
    pub latency_max_ms: f64,
    /// Rows with an outcome per second.
    pub rows_per_sec: f64,
    /// Time calls spent waiting to be sent again (backoff, token throttle), summed over calls, ms.
    pub backoff_ms: f64,
    /// Access tokens fetched by the job.
    pub token_refreshes: f64,
    /// Credits used (one per API answer other than a 429).
    pub credits_used: f64,
    /// The last `X-API-CREDITS-REMAINING` Zoho sent, if any.
    pub credits_remaining: Option<f64>,
}

impl From<&CoreMetrics> for JobMetrics {
    fn from(m: &CoreMetrics) -> Self {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        JobMetrics {
            retries429: m.retries_429 as f64,
            retries5xx: m.retries_5xx as f64,
            retries_transport: m.retries_transport as f64,
            retries_timeout: m.retries_timeout as f64,
            timed_calls: m.timed_calls as f64,
            latency_p50_ms: ms(m.latency_p50),
            latency_p95_ms: ms(m.latency_p95),
            latency_max_ms: ms(m.latency_max),
            rows_per_sec: m.rows_per_sec,
            backoff_ms: ms(m.backoff_wait),
            token_refreshes: m.token_refreshes as f64,
            credits_used: m.credits_used as f64,
            credits_remaining: m.credits_remaining.map(|c| c as f64),
        }
    }
}
