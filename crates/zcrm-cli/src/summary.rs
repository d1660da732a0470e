//! A bulk job's metrics at the end of its summary (stdout), and `--summary-json FILE`: the whole summary as one
//! JSON object, for a scheduler or a dashboard to read.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use zcrm_extid::bulk::BulkSummary;

use crate::runner::JobResult;

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// The metrics lines of the printed summary.
pub fn print_metrics(s: &BulkSummary, out: &mut dyn Write) {
    let m = &s.metrics;
    let _ = writeln!(
        out,
        "calls: latency p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; retries: {} after 429, {} after 5xx, {} transport, {} timeout; \
         backoff {:.2} s",
        ms(m.latency_p50),
        ms(m.latency_p95),
        ms(m.latency_max),
        m.retries_429,
        m.retries_5xx,
        m.retries_transport,
        m.retries_timeout,
        m.backoff_wait.as_secs_f64()
    );
    let remaining = m.credits_remaining.map_or(String::new(), |c| format!(", {c} remaining (X-API-CREDITS-REMAINING)"));
    let _ = writeln!(
        out,
        "tokens: {} refreshed, {} throttle waits; credits: {} used{remaining}",
        m.token_refreshes, s.throttle_waits, m.credits_used
    );
}

/// The summary as JSON: counts, failures by code, metrics (durations in ms), where the report went.
pub fn to_json(verb: &str, r: &JobResult, exit_status: i32) -> Value {
    let s = &r.summary;
    let m = &s.metrics;
    json!({
        "command": verb,
        "rows": s.rows,
        "succeeded": s.succeeded,
        "failed": s.failed,
        "invalid": s.invalid,
        "not_attempted": s.not_attempted,
        "skipped": r.skipped,
        "failures": r.failures,
        "calls": s.calls,
        "retries": s.retries,
        "retries_by_cause": {
            "429": m.retries_429,
            "5xx": m.retries_5xx,
            "transport": m.retries_transport,
            "timeout": m.retries_timeout,
        },
        "rate_limited": s.rate_limited,
        "latency_ms": {"p50": ms(m.latency_p50), "p95": ms(m.latency_p95), "max": ms(m.latency_max)},
        "timed_calls": m.timed_calls,
        "rows_per_sec": (m.rows_per_sec * 10.0).round() / 10.0,
        "elapsed_ms": ms(s.elapsed),
        "backoff_ms": ms(m.backoff_wait),
        "token_refreshes": m.token_refreshes,
        "throttle_waits": s.throttle_waits,
        "credits_used": m.credits_used,
        "credits_remaining": m.credits_remaining,
        "min_concurrency": s.min_concurrency,
        "peak_held_rows": s.peak_held_rows,
        "cancelled": s.cancelled,
        "stopped": s.stopped.as_ref().map(|e| e.code().as_str().to_owned()),
        "report": r.report.display().to_string(),
        "exit_status": exit_status,
    })
}

/// Writes [`to_json`] to `path` (a new file, replaced whole: written next to it, then renamed).
pub fn write_json(path: &Path, summary: &Value) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let mut text = serde_json::to_string_pretty(summary).map_err(std::io::Error::other)?;
    text.push('\n');
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
