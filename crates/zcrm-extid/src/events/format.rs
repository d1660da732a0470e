//! How an [`Event`] reads: its fields (one list, used by the `log` key-values, JSON and bindings), its
//! one-line message, and its JSON object.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use super::{Event, EventKind, RequestInfo};

/// The value of one field of an event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// A count, a status, a number of records.
    U64(u64),
    /// A duration in milliseconds, a rate.
    F64(f64),
    /// A flag.
    Bool(bool),
    /// A name, a code, a path template.
    Str(&'a str),
}

impl FieldValue<'_> {
    /// As JSON.
    pub fn to_json(self) -> Value {
        match self {
            FieldValue::U64(n) => n.into(),
            FieldValue::F64(x) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
            FieldValue::Bool(b) => b.into(),
            FieldValue::Str(s) => s.into(),
        }
    }
}

impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::U64(n) => write!(f, "{n}"),
            FieldValue::F64(x) => write!(f, "{}", (x * 1000.0).round() / 1000.0),
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::Str(s) => f.write_str(s),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Milliseconds rounded to 0.001 ms, so logs do not show float noise.
fn ms_field(d: Duration) -> FieldValue<'static> {
    FieldValue::F64((ms(d) * 1000.0).round() / 1000.0)
}

fn request_fields<'a>(r: &'a RequestInfo, attempt: u32, visit: &mut dyn FnMut(&'static str, FieldValue<'a>)) {
    visit("method", FieldValue::Str(r.method.as_str()));
    visit("path", FieldValue::Str(&r.path));
    visit("crm_module", FieldValue::Str(&r.crm_module));
    visit("attempt", FieldValue::U64(attempt.into()));
    if let Some(n) = r.records {
        visit("records", FieldValue::U64(n as u64));
    }
}

impl Event {
    /// Calls `visit` with each field: `event` (the name) first, then the event's own fields (absent values
    /// are left out), then `job` inside a bulk job.
    pub fn visit_fields<'a>(&'a self, visit: &mut dyn FnMut(&'static str, FieldValue<'a>)) {
        use FieldValue::*;
        visit("event", Str(self.name()));
        let opt = |visit: &mut dyn FnMut(&'static str, FieldValue<'a>), key, v: Option<u64>| {
            if let Some(v) = v {
                visit(key, U64(v));
            }
        };
        match &self.kind {
            EventKind::RequestSent { request, attempt } => request_fields(request, *attempt, visit),
            EventKind::RequestFinished { request, attempt, status, error, duration, credits_remaining } => {
                request_fields(request, *attempt, visit);
                opt(visit, "status", status.map(u64::from));
                if let Some(e) = error {
                    visit("error", Str(e));
                }
                visit("duration_ms", ms_field(*duration));
                opt(visit, "credits_remaining", *credits_remaining);
            }
            EventKind::RateLimited { limit, credits_remaining } => {
                opt(visit, "limit", limit.map(|l| l as u64));
                opt(visit, "credits_remaining", *credits_remaining);
            }
            EventKind::RetryScheduled { cause, status, error, delay, retry } => {
                visit("cause", Str(cause.as_str()));
                opt(visit, "status", status.map(u64::from));
                visit("error", Str(error));
                visit("delay_ms", ms_field(*delay));
                visit("retry", U64((*retry).into()));
            }
            EventKind::TokenRefreshed { duration, expires_in, replacement } => {
                visit("duration_ms", ms_field(*duration));
                visit("expires_in_s", U64(expires_in.as_secs()));
                visit("replacement", Bool(*replacement));
            }
            EventKind::TokenRefreshFailed { error, status, duration } => {
                visit("error", Str(error));
                opt(visit, "status", status.map(u64::from));
                visit("duration_ms", ms_field(*duration));
            }
            EventKind::TokenThrottled { wait } => visit("wait_ms", ms_field(*wait)),
            EventKind::BreakerOpened { error, status } => {
                visit("error", Str(error));
                opt(visit, "status", status.map(u64::from));
            }
            EventKind::JobStarted { operation, concurrency, batch_size, window, expected_rows } => {
                visit("operation", Str(operation));
                visit("concurrency", U64(*concurrency as u64));
                visit("batch_size", U64(*batch_size as u64));
                visit("window", U64(*window as u64));
                opt(visit, "expected_rows", *expected_rows);
            }
            EventKind::JobFinished { operation, summary: s, stopped } => {
                let m = &s.metrics;
                visit("operation", Str(operation));
                for (k, v) in [
                    ("rows", s.rows),
                    ("succeeded", s.succeeded),
                    ("failed", s.failed),
                    ("invalid", s.invalid),
                    ("not_attempted", s.not_attempted),
                    ("calls", s.calls),
                    ("retries", s.retries),
                    ("retries_429", m.retries_429),
                    ("retries_5xx", m.retries_5xx),
                    ("retries_transport", m.retries_transport),
                    ("retries_timeout", m.retries_timeout),
                    ("rate_limited", s.rate_limited),
                ] {
                    visit(k, U64(v));
                }
                visit("elapsed_ms", ms_field(s.elapsed));
                visit("rows_per_sec", F64((m.rows_per_sec * 10.0).round() / 10.0));
                visit("latency_p50_ms", ms_field(m.latency_p50));
                visit("latency_p95_ms", ms_field(m.latency_p95));
                visit("latency_max_ms", ms_field(m.latency_max));
                visit("backoff_ms", ms_field(m.backoff_wait));
                visit("token_refreshes", U64(m.token_refreshes));
                visit("throttle_waits", U64(s.throttle_waits));
                visit("credits_used", U64(m.credits_used));
                opt(visit, "credits_remaining", m.credits_remaining);
                visit("min_concurrency", U64(s.min_concurrency as u64));
                visit("cancelled", Bool(s.cancelled));
                if let Some(code) = stopped {
                    visit("stopped", Str(code));
                }
            }
        }
        if let Some(job) = self.job {
            visit("job", U64(job));
        }
    }

    /// `{"event": ..., "level": "info", "target": ..., "message": ..., <fields>}`.
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        self.visit_fields(&mut |k, v| {
            o.insert(k.to_owned(), v.to_json());
        });
        o.insert("level".into(), self.level().as_str().to_ascii_lowercase().into());
        o.insert("target".into(), self.target().into());
        o.insert("message".into(), self.to_string().into());
        Value::Object(o)
    }
}

/// The one-line message (no field that is not also a key-value).
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let records = |r: &RequestInfo| r.records.map_or(String::new(), |n| format!(", {n} records"));
        match &self.kind {
            EventKind::RequestSent { request: r, attempt } => {
                write!(f, "{} {} sent (attempt {attempt}{})", r.method.as_str(), r.path, records(r))
            }
            EventKind::RequestFinished { request: r, attempt, status, error, duration, credits_remaining } => {
                write!(f, "{} {} -> ", r.method.as_str(), r.path)?;
                match (status, error) {
                    (Some(s), Some(e)) => write!(f, "{s} {e}")?,
                    (Some(s), None) => write!(f, "{s}")?,
                    (None, Some(e)) => f.write_str(e)?,
                    (None, None) => f.write_str("?")?,
                }
                write!(f, " in {:.1} ms (attempt {attempt}{})", ms(*duration), records(r))?;
                if let Some(c) = credits_remaining {
                    write!(f, "; {c} credits remaining")?;
                }
                Ok(())
            }
            EventKind::RateLimited { limit, credits_remaining } => {
                f.write_str("429 TOO_MANY_REQUESTS")?;
                if let Some(l) = limit {
                    write!(f, "; concurrency limit now {l}")?;
                }
                match credits_remaining {
                    Some(0) => f.write_str("; the day's API credits are spent"),
                    Some(c) => write!(f, "; {c} credits remaining"),
                    None => Ok(()),
                }
            }
            EventKind::RetryScheduled { cause, status, error, delay, retry } => {
                let status = status.map_or(String::new(), |s| format!("{s} "));
                write!(f, "retry {retry} in {:.0} ms after {status}{error} ({})", ms(*delay), cause.as_str())
            }
            EventKind::TokenRefreshed { duration, expires_in, replacement } => write!(
                f,
                "access token {} in {:.1} ms (expires in {} s)",
                if *replacement { "replaced after the API refused the last one" } else { "refreshed" },
                ms(*duration),
                expires_in.as_secs()
            ),
            EventKind::TokenRefreshFailed { error, status, .. } => match status {
                Some(s) => write!(f, "token refresh failed: {error} (HTTP {s})"),
                None => write!(f, "token refresh failed: {error}"),
            },
            EventKind::TokenThrottled { wait } => {
                write!(f, "waiting {:.1} s for the token endpoint's throttle to pass", wait.as_secs_f64())
            }
            EventKind::BreakerOpened { error, .. } => {
                write!(f, "circuit breaker opened by {error}: every other call would fail the same way; the job stops")
            }
            EventKind::JobStarted { operation, concurrency, batch_size, window, expected_rows } => {
                write!(
                    f,
                    "{operation} job started: concurrency {concurrency}, {batch_size} rows per call, window {window}"
                )?;
                match expected_rows {
                    Some(n) => write!(f, ", {n} rows"),
                    None => Ok(()),
                }
            }
            EventKind::JobFinished { operation, summary: s, stopped } => {
                let m = &s.metrics;
                write!(
                    f,
                    "{operation} job finished: {} rows ({} ok, {} failed) in {:.2} s, {:.0} rows/s; {} calls, {} retries \
                     (429: {}, 5xx: {}, transport: {}, timeout: {}); latency p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; \
                     backoff {:.2} s; {} token refreshes; {} credits used",
                    s.rows,
                    s.succeeded,
                    s.failed,
                    s.elapsed.as_secs_f64(),
                    m.rows_per_sec,
                    s.calls,
                    s.retries,
                    m.retries_429,
                    m.retries_5xx,
                    m.retries_transport,
                    m.retries_timeout,
                    ms(m.latency_p50),
                    ms(m.latency_p95),
                    ms(m.latency_max),
                    m.backoff_wait.as_secs_f64(),
                    m.token_refreshes,
                    m.credits_used
                )?;
                if let Some(c) = m.credits_remaining {
                    write!(f, ", {c} remaining")?;
                }
                if let Some(code) = stopped {
                    write!(f, "; stopped by {code}")?;
                } else if s.cancelled {
                    f.write_str("; cancelled")?;
                }
                Ok(())
            }
        }
    }
}

/// The event as `log` key-values.
impl log::kv::Source for Event {
    fn visit<'kvs>(&'kvs self, visitor: &mut dyn log::kv::VisitSource<'kvs>) -> Result<(), log::kv::Error> {
        let mut result = Ok(());
        self.visit_fields(&mut |k, v| {
            if result.is_err() {
                return;
            }
            let key = log::kv::Key::from_str(k);
            result = match v {
                FieldValue::U64(n) => visitor.visit_pair(key, log::kv::Value::from(n)),
                FieldValue::F64(x) => visitor.visit_pair(key, log::kv::Value::from(x)),
                FieldValue::Bool(b) => visitor.visit_pair(key, log::kv::Value::from(b)),
                FieldValue::Str(s) => visitor.visit_pair(key, log::kv::Value::from(s)),
            };
        });
        result
    }
}
