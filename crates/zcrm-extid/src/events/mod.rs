//! Events: what the client does, as it does it (requests, retries, 429s, token refreshes, the circuit breaker,
//! bulk jobs), for logs and monitoring.
//!
//! **Two ways to listen, both off by default.**
//!
//! * The [`log`] facade: each event is a log record with a stable target, a message and structured key-values
//!   (`log`'s `kv`), so `env_logger`, `tracing` (through `tracing-log`) or any `log` backend shows them. The
//!   Python package forwards them to the standard `logging` module (loggers `zcrm_extid.http`, ...), the Node
//!   package to stderr under `DEBUG=zcrm-extid`, the `zcrm` CLI to stderr with `-v`.
//! * A per-client [`EventListener`] ([`crate::ClientBuilder::on_event`]): the typed [`Event`], on the thread
//!   that caused it (the Node package's `onEvent` is one).
//!
//! **Why `log` and not `tracing`.** `log` is already in the dependency tree (through `ureq`), its disabled
//! path is one relaxed atomic load (`log::max_level()`), the Python bridge of the ecosystem is built on it, and
//! the client is blocking and thread-based: it has no async tasks whose spans would need `tracing`. A
//! `tracing` subscriber still receives every event through `tracing-log`.
//!
//! **Zero cost when nothing listens.** Each event is built only after a check that something listens: no
//! listener and a `log` level above the event's is a branch on a pointer and one atomic load; the request's
//! path template and timing are never computed. (Measured: `zcrm-bench events`, BENCHMARKS.md.)
//!
//! **What an event never holds**, at any level: a token, a client secret, a refresh token, a query value, a
//! record value (record ids and external values included) or an error message (which may quote a value). A
//! request is named by its method and path template (`PUT /crm/v5/Contacts/{External_Contact_ID}/Deals`:
//! module and related-list names, and the *field* whose value addressed the record); a failure by its code
//! and HTTP status.
//!
//! | event | level | target | fields (besides `event` and, inside a bulk job, `job`) |
//! |---|---|---|---|
//! | `http.request.sent` | debug | `zcrm_extid::http` | `method`, `path`, `crm_module`, `attempt`, `records` |
//! | `http.request.finished` | debug | `zcrm_extid::http` | the above, `status`, `error` (code), `duration_ms`, `credits_remaining` |
//! | `http.rate_limited` | info | `zcrm_extid::http` | `limit` (the adaptive concurrency now), `credits_remaining` |
//! | `retry.scheduled` | info | `zcrm_extid::retry` | `cause` (`429`, `5xx`, `transport`, `timeout`), `status`, `error`, `delay_ms`, `retry` |
//! | `token.refreshed` | info | `zcrm_extid::auth` | `duration_ms`, `expires_in_s`, `replacement` |
//! | `token.refresh_failed` | warn | `zcrm_extid::auth` | `error`, `status`, `duration_ms` |
//! | `token.throttled` | warn | `zcrm_extid::auth` | `wait_ms` |
//! | `breaker.opened` | error | `zcrm_extid::bulk` | `error`, `status` |
//! | `job.started` | info | `zcrm_extid::bulk` | `operation`, `concurrency`, `batch_size`, `window`, `expected_rows` |
//! | `job.finished` | info | `zcrm_extid::bulk` | the summary: rows, calls, retries by cause, latency p50/p95/max, rows/s, backoff, tokens, credits |
//!
//! Absent values are left out. Durations are milliseconds (`f64`). Inside a bulk job every event of its
//! workers carries the job's number (`job`), so the events of jobs running side by side can be told apart.

mod emit;
mod format;

pub(crate) use emit::{
    Events, JobScope, breaker_opened, enter_job, job_finished, job_started, rate_limited, request_finished,
    request_sent, retry_scheduled, token_refresh_failed, token_refreshed, token_throttled,
};
pub use format::FieldValue;

use std::time::Duration;

use crate::bulk::BulkSummary;
use crate::metrics::RetryCause;
use crate::request::Method;

/// The `log` target of request events.
pub const TARGET_HTTP: &str = "zcrm_extid::http";
/// The `log` target of retry events.
pub const TARGET_RETRY: &str = "zcrm_extid::retry";
/// The `log` target of token events.
pub const TARGET_AUTH: &str = "zcrm_extid::auth";
/// The `log` target of bulk-job events.
pub const TARGET_BULK: &str = "zcrm_extid::bulk";
/// Every target of this crate's events (a bridge forwards these and nothing else: a dependency's own `log`
/// records, e.g. the HTTP library's, could show a URL with its values).
pub const TARGETS: [&str; 4] = [TARGET_HTTP, TARGET_RETRY, TARGET_AUTH, TARGET_BULK];

/// A request as events name it: no value of the request is in it (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// `GET`, `PUT`, `DELETE`.
    pub method: Method,
    /// The path with every value replaced by the name of its field: `/crm/v5/Contacts/{id}/Deals`.
    pub path: String,
    /// The module the call addresses.
    pub crm_module: String,
    /// Records the call carries, for writes.
    pub records: Option<usize>,
}

/// One event (see the module docs for the table of events and fields).
#[derive(Debug, Clone)]
pub struct Event {
    /// The bulk job the event belongs to (numbered from 1 per process), if any.
    pub job: Option<u64>,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EventKind {
    /// A request is about to be written.
    RequestSent {
        /// The request.
        request: RequestInfo,
        /// 1 for the first try, 2 for the first retry, ...
        attempt: u32,
    },
    /// A request was answered, or failed without an answer.
    RequestFinished {
        /// The request.
        request: RequestInfo,
        /// 1 for the first try, 2 for the first retry, ...
        attempt: u32,
        /// The HTTP status, if an answer came.
        status: Option<u16>,
        /// The error code of a failed call (`INTERNAL_ERROR`, `TRANSPORT`, `TIMEOUT`, ...).
        error: Option<String>,
        /// Request written to answer read.
        duration: Duration,
        /// `X-API-CREDITS-REMAINING`, when Zoho sent it.
        credits_remaining: Option<u64>,
    },
    /// Zoho answered 429.
    RateLimited {
        /// The bulk job's concurrency limit after adapting to it.
        limit: Option<usize>,
        /// `X-API-CREDITS-REMAINING` of the answer (0: the day's credits are spent).
        credits_remaining: Option<u64>,
    },
    /// A failed call will be sent again after `delay`.
    RetryScheduled {
        /// Why.
        cause: RetryCause,
        /// The failed answer's status, if there was one.
        status: Option<u16>,
        /// The failure's code.
        error: String,
        /// The backoff before the retry.
        delay: Duration,
        /// Which retry this will be (1 = first).
        retry: u32,
    },
    /// An access token was fetched.
    TokenRefreshed {
        /// Time the token endpoint took.
        duration: Duration,
        /// The new token's lifetime.
        expires_in: Duration,
        /// It replaces a token the API refused.
        replacement: bool,
    },
    /// The token endpoint refused or failed.
    TokenRefreshFailed {
        /// The error code (`OAUTH_INVALID_CLIENT`, `OAUTH_THROTTLED`, `TRANSPORT`, ...).
        error: String,
        /// The HTTP status, if the endpoint answered.
        status: Option<u16>,
        /// Time the attempt took.
        duration: Duration,
    },
    /// A bulk call waits for the token endpoint's throttle to pass (no row fails for it).
    TokenThrottled {
        /// How long it waits.
        wait: Duration,
    },
    /// The circuit breaker stopped the job (see [`crate::bulk::breaker`]).
    BreakerOpened {
        /// The code of the error that stopped it.
        error: String,
        /// Its HTTP status, if any.
        status: Option<u16>,
    },
    /// A bulk job started.
    JobStarted {
        /// The operation (`link`, ...).
        operation: &'static str,
        /// Its concurrency limit.
        concurrency: usize,
        /// Rows per call.
        batch_size: usize,
        /// The grouping window.
        window: usize,
        /// Rows in the input, if known.
        expected_rows: Option<u64>,
    },
    /// A bulk job finished (also when cancelled or stopped).
    JobFinished {
        /// The operation.
        operation: &'static str,
        /// Its totals and metrics.
        summary: Box<BulkSummary>,
        /// The code of the error that stopped it (the circuit breaker), if one did.
        stopped: Option<String>,
    },
}

impl Event {
    /// The event's stable name, e.g. `http.request.finished`.
    pub fn name(&self) -> &'static str {
        match &self.kind {
            EventKind::RequestSent { .. } => "http.request.sent",
            EventKind::RequestFinished { .. } => "http.request.finished",
            EventKind::RateLimited { .. } => "http.rate_limited",
            EventKind::RetryScheduled { .. } => "retry.scheduled",
            EventKind::TokenRefreshed { .. } => "token.refreshed",
            EventKind::TokenRefreshFailed { .. } => "token.refresh_failed",
            EventKind::TokenThrottled { .. } => "token.throttled",
            EventKind::BreakerOpened { .. } => "breaker.opened",
            EventKind::JobStarted { .. } => "job.started",
            EventKind::JobFinished { .. } => "job.finished",
        }
    }

    /// The `log` level it is logged at.
    pub fn level(&self) -> log::Level {
        level_of(&self.kind)
    }

    /// The `log` target it is logged under (one of [`TARGETS`]).
    pub fn target(&self) -> &'static str {
        target_of(&self.kind)
    }
}

fn level_of(kind: &EventKind) -> log::Level {
    use log::Level::*;
    match kind {
        EventKind::RequestSent { .. } | EventKind::RequestFinished { .. } => Debug,
        EventKind::RateLimited { .. }
        | EventKind::RetryScheduled { .. }
        | EventKind::TokenRefreshed { .. }
        | EventKind::JobStarted { .. }
        | EventKind::JobFinished { .. } => Info,
        EventKind::TokenRefreshFailed { .. } | EventKind::TokenThrottled { .. } => Warn,
        EventKind::BreakerOpened { .. } => Error,
    }
}

fn target_of(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::RequestSent { .. } | EventKind::RequestFinished { .. } | EventKind::RateLimited { .. } => {
            TARGET_HTTP
        }
        EventKind::RetryScheduled { .. } => TARGET_RETRY,
        EventKind::TokenRefreshed { .. } | EventKind::TokenRefreshFailed { .. } | EventKind::TokenThrottled { .. } => {
            TARGET_AUTH
        }
        EventKind::BreakerOpened { .. } | EventKind::JobStarted { .. } | EventKind::JobFinished { .. } => TARGET_BULK,
    }
}

/// Receives a client's events (see [`crate::ClientBuilder::on_event`]). Called on the thread that caused the
/// event (a bulk job's workers, the caller's thread for a single call): it must be quick and must not block (a
/// binding queues the event for its own thread). A panic in it is caught and ignored.
pub trait EventListener: Send + Sync {
    /// One event.
    fn on_event(&self, event: &Event);

    /// Called when a call or a bulk job returns, before the result is handed back: a listener that delivers
    /// events elsewhere (another thread) may wait here, briefly, until those of the call were delivered.
    fn flush(&self) {}
}

impl<F: Fn(&Event) + Send + Sync> EventListener for F {
    fn on_event(&self, event: &Event) {
        self(event)
    }
}

/// The path template of a related-records request (see [`crate::Call::path_template`]):
/// `/crm/{v}/{Module}/{parent field}/{RelatedList}[/{related field}]`, e.g.
/// `/crm/v5/Contacts/{External_Contact_ID}/Deals/{id}`.
pub(crate) fn related_path(
    version: crate::ApiVersion,
    module: &crate::ModuleName,
    parent: &crate::Parent,
    related_list: &crate::RelatedList,
    one: Option<&crate::RelatedKey>,
) -> String {
    let parent = match parent {
        crate::Parent::Id(_) => "id",
        crate::Parent::External { field, .. } => field.as_str(),
    };
    let mut path = format!("/crm/{}/{module}/{{{parent}}}/{related_list}", version.as_str());
    if let Some(key) = one {
        path.push_str(&format!("/{{{}}}", key.field()));
    }
    path
}

#[cfg(test)]
mod tests;
