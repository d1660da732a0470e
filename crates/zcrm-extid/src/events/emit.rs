//! Emitting events: the client's [`Events`] handle (its listener, and the `log` facade), the bulk job a thread
//! works for ([`JobScope`], so that the job's metrics are gathered from the events of its workers), and one
//! function per event, each of which builds its event only when something listens.

use std::cell::RefCell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use log::{Level, Metadata, Record};

use super::{Event, EventKind, EventListener, RequestInfo, TARGET_AUTH, TARGET_BULK, TARGET_HTTP, TARGET_RETRY};
use crate::bulk::{BulkOptions, BulkSummary};
use crate::error::Error;
use crate::metrics::{Recorder, RetryCause};

/// A client's way out for events: its listener, if any, and the `log` facade.
#[derive(Clone, Default)]
pub(crate) struct Events {
    listener: Option<Arc<dyn EventListener>>,
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").field("listener", &self.listener.is_some()).finish()
    }
}

/// Whether a `log` logger takes records of `level` for `target`: one atomic load when the level is off.
#[inline]
fn logging(level: Level, target: &'static str) -> bool {
    level <= log::max_level() && log::logger().enabled(&Metadata::builder().level(level).target(target).build())
}

impl Events {
    pub fn new(listener: Option<Arc<dyn EventListener>>) -> Events {
        Events { listener }
    }

    /// Whether anything listens to events of `level` for `target`.
    #[inline]
    pub fn active(&self, level: Level, target: &'static str) -> bool {
        self.listener.is_some() || logging(level, target)
    }

    fn emit(&self, kind: EventKind) {
        let event = Event { job: current_job(), kind };
        let (level, target) = (event.level(), event.target());
        if logging(level, target) {
            log::logger().log(
                &Record::builder()
                    .level(level)
                    .target(target)
                    .module_path_static(Some("zcrm_extid::events"))
                    .args(format_args!("{event}"))
                    .key_values(&event)
                    .build(),
            );
        }
        if let Some(listener) = &self.listener {
            let _ = catch_unwind(AssertUnwindSafe(|| listener.on_event(&event)));
        }
    }

    /// Lets the listener deliver what it queued (see [`EventListener::flush`]).
    pub fn flush(&self) {
        if let Some(listener) = &self.listener {
            let _ = catch_unwind(AssertUnwindSafe(|| listener.flush()));
        }
    }
}

/// The bulk job a worker thread works for: its number and its metrics.
#[derive(Clone, Debug)]
pub(crate) struct JobScope {
    pub id: u64,
    pub recorder: Arc<Recorder>,
}

impl JobScope {
    /// A new job, numbered from 1 in each process.
    pub fn new() -> JobScope {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        JobScope { id: NEXT.fetch_add(1, Ordering::Relaxed), recorder: Arc::default() }
    }
}

thread_local! {
    static JOB: RefCell<Option<JobScope>> = const { RefCell::new(None) };
}

/// While alive, the thread works for a job; dropping it restores what was before.
pub(crate) struct JobGuard {
    previous: Option<JobScope>,
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = JOB.try_with(|j| *j.borrow_mut() = previous);
    }
}

/// The calling thread works for `job` until the guard is dropped.
pub(crate) fn enter_job(job: &JobScope) -> JobGuard {
    JobGuard { previous: JOB.with(|j| j.replace(Some(job.clone()))) }
}

fn current_job() -> Option<u64> {
    JOB.try_with(|j| j.borrow().as_ref().map(|s| s.id)).ok().flatten()
}

/// Runs `f` with the metrics of the job the thread works for, if any.
fn record(f: impl FnOnce(&Recorder)) {
    let _ = JOB.try_with(|j| {
        if let Some(scope) = j.borrow().as_ref() {
            f(&scope.recorder);
        }
    });
}

fn in_job() -> bool {
    JOB.try_with(|j| j.borrow().is_some()).unwrap_or(false)
}

/// A request is about to be sent: emits `http.request.sent` and returns what names the request, if request
/// events are listened to; returns when it started, if anything needs its duration (a listener, or a job's
/// metrics).
pub(crate) fn request_sent(
    ev: &Events,
    attempt: u32,
    describe: impl FnOnce() -> RequestInfo,
) -> (Option<RequestInfo>, Option<Instant>) {
    let info = ev.active(Level::Debug, TARGET_HTTP).then(describe);
    if let Some(request) = &info {
        ev.emit(EventKind::RequestSent { request: request.clone(), attempt });
    }
    let started = (info.is_some() || in_job()).then(Instant::now);
    (info, started)
}

/// A request ended after `duration` (measured when its answer was read): counts it in the job's metrics and
/// emits `http.request.finished`.
pub(crate) fn request_finished(
    ev: &Events,
    request: Option<RequestInfo>,
    attempt: u32,
    duration: Option<Duration>,
    status: Option<u16>,
    error: Option<&Error>,
    credits_remaining: Option<u64>,
) {
    let Some(duration) = duration else { return };
    record(|r| r.call(status, duration, credits_remaining));
    if let Some(request) = request {
        let error = error.map(|e| e.code().as_str().to_owned());
        ev.emit(EventKind::RequestFinished { request, attempt, status, error, duration, credits_remaining });
    }
}

/// Zoho answered 429; `limit` is a bulk job's concurrency limit after adapting.
pub(crate) fn rate_limited(ev: &Events, limit: Option<usize>, credits_remaining: Option<u64>) {
    if ev.active(Level::Info, TARGET_HTTP) {
        ev.emit(EventKind::RateLimited { limit, credits_remaining });
    }
}

/// Retry number `retry` of a call that failed with `error` goes out after `delay`.
pub(crate) fn retry_scheduled(ev: &Events, error: &Error, delay: Duration, retry: u32) {
    let cause = RetryCause::of(error);
    record(|r| r.retry(cause, delay));
    if ev.active(Level::Info, TARGET_RETRY) {
        let (status, error) = (error.status(), error.code().as_str().to_owned());
        ev.emit(EventKind::RetryScheduled { cause, status, error, delay, retry });
    }
}

/// A token was fetched in `duration`, valid for `expires_in`.
pub(crate) fn token_refreshed(ev: &Events, duration: Duration, expires_in: Duration, replacement: bool) {
    record(Recorder::token_refreshed);
    if ev.active(Level::Info, TARGET_AUTH) {
        ev.emit(EventKind::TokenRefreshed { duration, expires_in, replacement });
    }
}

/// Fetching a token failed with `error` after `duration`.
pub(crate) fn token_refresh_failed(ev: &Events, error: &Error, duration: Duration) {
    if ev.active(Level::Warn, TARGET_AUTH) {
        let (status, error) = (error.status(), error.code().as_str().to_owned());
        ev.emit(EventKind::TokenRefreshFailed { error, status, duration });
    }
}

/// A bulk call waits `wait` for the token endpoint's throttle.
pub(crate) fn token_throttled(ev: &Events, wait: Duration) {
    record(|r| r.wait(wait));
    if ev.active(Level::Warn, TARGET_AUTH) {
        ev.emit(EventKind::TokenThrottled { wait });
    }
}

/// `error` tripped the circuit breaker.
pub(crate) fn breaker_opened(ev: &Events, error: &Error) {
    if ev.active(Level::Error, TARGET_BULK) {
        ev.emit(EventKind::BreakerOpened { error: error.code().as_str().to_owned(), status: error.status() });
    }
}

/// Job `job` (the calling thread's) starts.
pub(crate) fn job_started(ev: &Events, operation: &'static str, options: &BulkOptions, batch_size: usize) {
    if ev.active(Level::Info, TARGET_BULK) {
        ev.emit(EventKind::JobStarted {
            operation,
            concurrency: options.concurrency,
            batch_size,
            window: options.window,
            expected_rows: options.expected_rows,
        });
    }
}

/// The calling thread's job finished with `summary`.
pub(crate) fn job_finished(ev: &Events, operation: &'static str, summary: &BulkSummary) {
    if ev.active(Level::Info, TARGET_BULK) {
        let stopped = summary.stopped.as_ref().map(|e| e.code().as_str().to_owned());
        ev.emit(EventKind::JobFinished { operation, summary: Box::new(summary.clone()), stopped });
    }
}
