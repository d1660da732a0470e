//! Bulk jobs: [`run_job`], the one helper every bulk method runs through (`linkMany` now; unlink, upsert and
//! reconcile's apply later), and `linkMany`'s own options, row converter and report types.
//!
//! [`run_job`] runs a core bulk job on an addon thread as a Promise ([`crate::call::promise`] in
//! [`Mode::Job`]): rows come from any Iterable or AsyncIterable with backpressure ([`crate::rows`]); progress
//! and each row's outcome go back to `onProgress` / `onOutcome` through ThreadsafeFunctions, all delivered
//! before the Promise settles; `signal` / `timeoutMs` stop the job (calls in flight finish, rows read but not
//! sent are `NOT_ATTEMPTED`) and reject with the report attached; so do an iterator or a callback that throws
//! (with what it threw), and the circuit breaker (with the error that tripped it).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};
use napi_derive::napi;
use serde_json::{Map, Value};
use zcrm_extid::bulk::{self as core, BulkOptions, BulkRow, Cancel, RowMapping};
use zcrm_extid::settings::{BulkSettings, MappingSettings};
use zcrm_extid::{Client as CoreClient, InvalidInput};

use crate::call::{self, Controls, Interrupt, Mode, Settle};
use crate::convert::{self, CoreResult, Outcome, count, millis, value_from_js};
use crate::rows::{self, Convert, JsRows};

/// How `linkMany` reads rows and runs the job. An unknown key is an `INVALID_INPUT` naming it.
#[napi(object, object_to_js = false)]
pub struct LinkManyOptions<'a> {
    /// The base module and how rows name the parent: `Module.Field`, e.g. `Contacts.External_Contact_ID`
    /// (`Contacts.id`: by Zoho record id).
    pub parent: String,
    /// The related module and how rows key the related record: `Module.Field`, e.g. `Deals.External_Deal_ID`.
    pub related: String,
    /// The related list (default: the related module's name).
    pub related_list: Option<String>,
    /// The row property holding the parent (default: the parent's field name).
    pub parent_column: Option<String>,
    /// The row property holding the related key (default: the related field name).
    pub related_column: Option<String>,
    /// Relation fields: API name -> row property. Only these are sent; other properties are ignored (see
    /// `extra`).
    #[napi(ts_type = "Record<string, string>")]
    pub fields: Option<Map<String, Value>>,
    /// Other properties of a row: `'ignore'` (default) or `'error'` (the row is `INVALID_INPUT`, naming it).
    #[napi(ts_type = "'ignore' | 'error'")]
    pub extra: Option<String>,
    /// Most calls on the wire at once.
    pub concurrency: Option<f64>,
    /// Zoho edition whose concurrency limit applies when `concurrency` is not given.
    #[napi(ts_type = "Edition")]
    pub edition: Option<String>,
    /// Records per call, 1 to 100.
    pub batch_size: Option<f64>,
    /// Most rows buffered for grouping by parent (the rows read ahead of the calls: memory is bounded by it).
    pub window: Option<f64>,
    /// Lower the concurrency when Zoho answers 429 (default true).
    pub adaptive: Option<bool>,
    /// Least time between two progress reports, ms.
    pub progress_interval_ms: Option<f64>,
    /// Credits to leave to the org's other integrations (needs a client `budget`): a number (`500`) or a share of
    /// the day's allowance (`'10%'`). The job stops scheduling calls before it would eat into them; the rows it
    /// did not send are `NOT_ATTEMPTED` (cause `CREDIT_RESERVE`).
    #[napi(ts_type = "number | string")]
    pub reserve: Option<Either<f64, String>>,
    /// Called on the JS thread with the job's progress, at most every `progressIntervalMs` and once at the end,
    /// always before the Promise settles. If it throws, the job stops and the Promise rejects with what it
    /// threw (`error.report` attached when it is an object).
    #[napi(ts_type = "(progress: Progress) => void")]
    pub on_progress: Option<Function<'a, Progress, UnknownReturnValue>>,
    /// Called on the JS thread with each row's outcome as its call completes (completion order), all before the
    /// Promise settles. If it throws, the job stops as for `onProgress`.
    #[napi(ts_type = "(outcome: RowOutcome) => void")]
    pub on_outcome: Option<Function<'a, RowOutcome, UnknownReturnValue>>,
    /// Keep every outcome for the report (default true). With `false` the report's `outcomes` is empty and a
    /// job of any length holds only its window in memory (read the outcomes through `onOutcome`).
    pub keep_outcomes: Option<bool>,
    /// Stops the job: no new calls are sent, calls in flight finish, rows read but not sent are
    /// `NOT_ATTEMPTED`; the Promise then rejects with an `AbortError` (a `ZcrmError`, code `CANCELLED`) whose
    /// `report` holds every row's outcome. Already aborted: rejects at once, nothing is read.
    #[napi(ts_type = "AbortSignalLike")]
    pub signal: Option<Object<'a>>,
    /// Stops the job like `signal` after this many milliseconds, rejecting with code `TIMEOUT` and the report.
    pub timeout_ms: Option<f64>,
}
known_keys!(LinkManyOptions<'a> {
    parent, related, related_list, parent_column, related_column, fields, extra, concurrency, edition, batch_size,
    window, adaptive, progress_interval_ms, reserve, on_progress, on_outcome, keep_outcomes, signal, timeout_ms,
});

/// Progress of a running job; every count moves as calls complete, in any order.
#[napi(object, object_from_js = false)]
#[derive(Clone)]
pub struct Progress {
    /// Rows read from the input.
    pub rows_read: f64,
    /// Rows whose call was sent at least once.
    pub rows_sent: f64,
    /// Rows with a final outcome.
    pub completed: f64,
    /// ... of which succeeded.
    pub succeeded: f64,
    /// ... of which failed (any reason).
    pub failed: f64,
    /// Rows in calls on the wire right now.
    pub in_flight: f64,
    /// Rows in calls waiting to be sent again (backoff, token throttle).
    pub waiting_retry: f64,
    /// Rows read and waiting to be sent.
    pub buffered: f64,
    /// Rows completed per second since the start.
    pub rows_per_sec: f64,
    /// Time since the start, ms.
    pub elapsed_ms: f64,
    /// Rows in the input, when it says (an Array's length, a Set's size).
    pub expected_rows: Option<f64>,
    /// Time left at the current rate, ms.
    pub eta_ms: Option<f64>,
    /// Current concurrency limit.
    pub concurrency: u32,
    /// HTTP calls so far (retries included).
    pub calls: f64,
    /// Retries so far.
    pub retries: f64,
    /// 429 answers so far.
    pub rate_limited: f64,
    /// The job is stopping (aborted, or stopped by the circuit breaker).
    pub stopping: bool,
}

impl From<&core::Progress> for Progress {
    fn from(p: &core::Progress) -> Self {
        Progress {
            rows_read: p.rows_read as f64,
            rows_sent: p.rows_sent as f64,
            completed: p.completed as f64,
            succeeded: p.succeeded as f64,
            failed: p.failed as f64,
            in_flight: p.in_flight as f64,
            waiting_retry: p.waiting_retry as f64,
            buffered: p.buffered as f64,
            rows_per_sec: p.rows_per_sec,
            elapsed_ms: p.elapsed.as_secs_f64() * 1000.0,
            expected_rows: p.expected_rows.map(|n| n as f64),
            eta_ms: p.eta.map(|d| d.as_secs_f64() * 1000.0),
            concurrency: p.concurrency as u32,
            calls: p.calls as f64,
            retries: p.retries as f64,
            rate_limited: p.rate_limited as f64,
            stopping: p.stopping,
        }
    }
}

/// The final outcome of one input row.
#[napi(object, object_from_js = false)]
pub struct RowOutcome {
    /// 0-based index of the row in the input.
    pub row: u32,
    /// The parent's record id or external value (empty if the row was invalid before it was read); for
    /// `upsertMany`, the module.
    pub parent: String,
    /// The related record's key (external value or id), if the row had one; for `upsertMany`, the record's key.
    pub key: Option<String>,
    /// Calls made for this row's batch (0: never sent).
    pub attempts: u32,
    /// The outcome (`outcome.index === row`).
    pub outcome: Outcome,
    /// `upsertMany`: `insert` or `update`, for a success.
    #[napi(ts_type = "'insert' | 'update'")]
    pub action: Option<String>,
    /// `upsertMany`: the field whose value matched an existing record (absent for an insert).
    pub duplicate_field: Option<String>,
}

impl From<&core::RowOutcome> for RowOutcome {
    fn from(o: &core::RowOutcome) -> Self {
        RowOutcome {
            row: o.row as u32,
            parent: o.parent.to_string(),
            key: o.key.clone(),
            attempts: o.attempts,
            outcome: Outcome::from(&o.outcome),
            action: o.outcome.action().map(|a| a.as_str().to_owned()),
            duplicate_field: o.outcome.result.as_ref().ok().and_then(|s| s.duplicate_field()).map(str::to_owned),
        }
    }
}

/// Totals of a finished job.
#[napi(object, object_from_js = false)]
pub struct BulkSummary {
    /// Rows read (after a cancellation, the rows after these were not read and have no outcome).
    pub rows: f64,
    /// Rows that succeeded.
    pub succeeded: f64,
    /// Rows that failed (including invalid and not attempted).
    pub failed: f64,
    /// ... of which failed validation (`INVALID_INPUT`).
    pub invalid: f64,
    /// ... of which were not sent because the job stopped (`NOT_ATTEMPTED`).
    pub not_attempted: f64,
    /// HTTP calls made (including retries).
    pub calls: f64,
    /// Retries.
    pub retries: f64,
    /// 429 answers.
    pub rate_limited: f64,
    /// Wall time, ms.
    pub elapsed_ms: f64,
    /// The most rows buffered for grouping at once.
    pub max_buffered_rows: f64,
    /// The most rows held at once (waiting, on the wire, waiting to retry).
    pub peak_held_rows: f64,
    /// Times a call waited for the token endpoint's throttle.
    pub throttle_waits: f64,
    /// The lowest concurrency the adaptive limit went down to.
    pub min_concurrency: u32,
    /// True if the job was cancelled (aborted, timed out, or stopped by a callback or the iterator).
    pub cancelled: bool,
    /// The code of the error that stopped the job (circuit breaker), if one did.
    pub stopped: Option<String>,
    /// Retries by cause, call latency p50/p95/max, rows/s, backoff, token refreshes, credits.
    pub metrics: crate::metrics::JobMetrics,
}

/// What a bulk job resolves to (and what `error.report` holds when it rejects).
#[napi(object, object_from_js = false)]
pub struct BulkReport {
    /// One per row read, sorted by row (empty with `keepOutcomes: false`).
    pub outcomes: Vec<RowOutcome>,
    /// Totals.
    pub summary: BulkSummary,
}

/// The report for JS, outcomes sorted by row.
pub fn report(mut outcomes: Vec<core::RowOutcome>, s: &core::BulkSummary) -> BulkReport {
    outcomes.sort_unstable_by_key(|o| o.row);
    BulkReport {
        outcomes: outcomes.iter().map(RowOutcome::from).collect(),
        summary: BulkSummary {
            rows: s.rows as f64,
            succeeded: s.succeeded as f64,
            failed: s.failed as f64,
            invalid: s.invalid as f64,
            not_attempted: s.not_attempted as f64,
            calls: s.calls as f64,
            retries: s.retries as f64,
            rate_limited: s.rate_limited as f64,
            elapsed_ms: s.elapsed.as_secs_f64() * 1000.0,
            max_buffered_rows: s.max_buffered_rows as f64,
            peak_held_rows: s.peak_held_rows as f64,
            throttle_waits: s.throttle_waits as f64,
            min_concurrency: s.min_concurrency as u32,
            cancelled: s.cancelled,
            stopped: s.stopped.as_ref().map(|e| e.code().as_str().to_owned()),
            metrics: crate::metrics::JobMetrics::from(&s.metrics),
        },
    }
}

type Tsfn<T, const QUEUE: usize> = ThreadsafeFunction<T, UnknownReturnValue, T, Status, false, false, QUEUE>;

/// Outcomes queued for `onOutcome` before the job waits for JS (backpressure: a slow callback slows the job
/// instead of queueing every outcome in memory).
const OUTCOME_QUEUE: usize = 1024;

/// Delivers values to a JS callback (`onProgress`, `onOutcome`), remembers what it threw (and stops the job
/// then), and can wait until everything queued was delivered. With `QUEUE == 0` (progress) sending never
/// waits; otherwise the job waits while `QUEUE` values are queued (outcomes).
pub struct CallbackSink<T: JsValuesTupleIntoVec + 'static, const QUEUE: usize> {
    tsfn: Tsfn<T, QUEUE>,
    /// One clone travels with every value and is dropped when it was delivered (or discarded): when all are
    /// gone, every value reached JS.
    in_flight: Option<mpsc::Sender<()>>,
    delivered: mpsc::Receiver<()>,
    thrown: Arc<Mutex<Option<napi::Error>>>,
    cancel: Cancel,
}

impl<T: JsValuesTupleIntoVec + Send + 'static, const QUEUE: usize> CallbackSink<T, QUEUE> {
    /// A sink for `callback`; `cancel` is the job's token.
    pub fn new(
        callback: &Function<T, UnknownReturnValue>,
        cancel: &Cancel,
        thrown: &Arc<Mutex<Option<napi::Error>>>,
    ) -> Result<Self> {
        let (in_flight, delivered) = mpsc::channel();
        Ok(CallbackSink {
            tsfn: callback.build_threadsafe_function().callee_handled::<false>().max_queue_size::<QUEUE>().build()?,
            in_flight: Some(in_flight),
            delivered,
            thrown: thrown.clone(),
            cancel: cancel.clone(),
        })
    }

    /// Queues `value` for the JS thread (waits while the queue is full, if it is bounded).
    pub fn send(&self, value: T) {
        let token = self.in_flight.clone();
        let (thrown, cancel) = (self.thrown.clone(), self.cancel.clone());
        let mode =
            if QUEUE == 0 { ThreadsafeFunctionCallMode::NonBlocking } else { ThreadsafeFunctionCallMode::Blocking };
        self.tsfn.call_with_return_value(value, mode, move |result, _env| {
            drop(token);
            if let Err(e) = result {
                cancel.cancel();
                thrown.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
            }
            Ok(())
        });
    }

    /// Waits (on the job's thread) until every queued value was delivered, so they all precede the Promise.
    pub fn flush(&mut self) {
        self.in_flight = None;
        while let Err(mpsc::RecvTimeoutError::Timeout) = self.delivered.recv_timeout(Duration::from_millis(50)) {
            if self.tsfn.aborted() {
                break;
            }
        }
    }
}

/// What every bulk job takes besides its own settings: `onProgress`, `onOutcome`, `keepOutcomes`, `signal`,
/// `timeoutMs` (a bulk method's options object has them under these names).
pub struct JobHooks<'a> {
    /// `onProgress`.
    pub on_progress: Option<Function<'a, Progress, UnknownReturnValue>>,
    /// `onOutcome`.
    pub on_outcome: Option<Function<'a, RowOutcome, UnknownReturnValue>>,
    /// `keepOutcomes` (default true).
    pub keep_outcomes: bool,
    /// `signal`.
    pub signal: Option<Object<'a>>,
    /// `timeoutMs`.
    pub timeout_ms: Option<f64>,
}

impl JobHooks<'_> {
    /// No hooks (the options could not be read: the job rejects before it starts).
    pub fn none() -> Self {
        JobHooks { on_progress: None, on_outcome: None, keep_outcomes: true, signal: None, timeout_ms: None }
    }
}

/// A job ready to run on its rows: the core's options, and the call that runs the core's job.
pub struct Job<R> {
    /// The job's tuning (the expected row count is filled in from the input).
    pub options: BulkOptions,
    /// Converts one JS row into the operation's row, on the JS thread.
    pub convert: Convert<R>,
    /// Runs the core job: `Client::link_many`, `Client::run_bulk` of another operation, ...
    #[allow(clippy::type_complexity)]
    pub run: Box<
        dyn FnOnce(
                JsRows<R>,
                &BulkOptions,
                &mut dyn FnMut(core::RowOutcome),
                &mut dyn FnMut(&core::Progress),
                &Cancel,
            ) -> CoreResult<core::BulkSummary>
            + Send,
    >,
}

/// Runs a bulk job over `rows` (any Iterable or AsyncIterable) as a Promise of its [`BulkReport`]; see the
/// module docs. `job` is the operation's settings, read from its options (an error rejects at once).
pub fn run_job<'e, R: Send + 'static>(
    env: &'e Env,
    what: &'static str,
    rows: Unknown<'e>,
    hooks: JobHooks<'e>,
    job: CoreResult<Job<R>>,
) -> napi::Result<Object<'e>> {
    let thrown: Arc<Mutex<Option<napi::Error>>> = Arc::default();
    let sinks_thrown = thrown.clone();
    let JobHooks { on_progress, on_outcome, keep_outcomes, signal, timeout_ms } = hooks;
    call::promise(
        env,
        what,
        Mode::Job,
        Controls::Given(signal, timeout_ms),
        |control| {
            let job = job?;
            let sinks =
                JobSinks::open(on_progress.as_ref(), on_outcome.as_ref(), keep_outcomes, control, &sinks_thrown)?;
            let source = rows::open(env, control.id, rows, job.convert.clone(), &control.cancel)?;
            let options = BulkOptions { expected_rows: source.expected, ..job.options.clone() };
            Ok((job, options, source.rows, sinks))
        },
        move |(job, options, rows, mut sinks), control| {
            let summary = {
                let (mut on_outcome, mut on_progress) = sinks.callbacks();
                (job.run)(rows, &options, &mut on_outcome, &mut on_progress, &control.cancel)
            };
            summary.map(|s| (sinks.finish(), s))
        },
        move |settle, (outcomes, summary)| settle_job(settle, outcomes, summary, &thrown, true),
    )
}

/// Where a running job's outcomes and progress go: `onOutcome` / `onProgress` (through [`CallbackSink`]s, a
/// throw of either remembered in `thrown` and stopping the job) and the report's outcomes (unless
/// `keepOutcomes` is false). Shared by every bulk job ([`run_job`]) and a plan's apply.
pub struct JobSinks {
    progress: Option<CallbackSink<Progress, 0>>,
    outcomes: Option<CallbackSink<RowOutcome, OUTCOME_QUEUE>>,
    keep: bool,
    kept: Vec<core::RowOutcome>,
}

impl JobSinks {
    /// The sinks of a job's callbacks, on the JS thread; an unusable callback is an `INVALID_INPUT` naming it.
    pub fn open(
        on_progress: Option<&Function<Progress, UnknownReturnValue>>,
        on_outcome: Option<&Function<RowOutcome, UnknownReturnValue>>,
        keep_outcomes: bool,
        control: &call::Control,
        thrown: &Arc<Mutex<Option<napi::Error>>>,
    ) -> CoreResult<JobSinks> {
        let wiring = |e: napi::Error, what: &str| InvalidInput::new("options", e.reason).field(what);
        let progress = on_progress
            .map(|f| CallbackSink::new(f, &control.cancel, thrown).map_err(|e| wiring(e, "onProgress")))
            .transpose()?;
        let outcomes = on_outcome
            .map(|f| CallbackSink::new(f, &control.cancel, thrown).map_err(|e| wiring(e, "onOutcome")))
            .transpose()?;
        Ok(JobSinks { progress, outcomes, keep: keep_outcomes, kept: Vec::new() })
    }

    /// The job's two callbacks: each row's outcome (to `onOutcome`, and kept for the report) and its progress
    /// (to `onProgress`).
    pub fn callbacks(&mut self) -> (impl FnMut(core::RowOutcome) + '_, impl FnMut(&core::Progress) + '_) {
        let JobSinks { progress, outcomes, keep, kept } = self;
        let keep = *keep;
        let on_outcome = move |o: core::RowOutcome| {
            if let Some(sink) = outcomes.as_ref() {
                sink.send(RowOutcome::from(&o));
            }
            if keep {
                kept.push(o);
            }
        };
        let on_progress = move |p: &core::Progress| {
            if let Some(sink) = progress.as_ref() {
                sink.send(Progress::from(p));
            }
        };
        (on_outcome, on_progress)
    }

    /// Waits until every queued callback ran (they all precede the Promise), then gives the kept outcomes.
    pub fn finish(mut self) -> Vec<core::RowOutcome> {
        if let Some(sink) = self.outcomes.as_mut() {
            sink.flush();
        }
        if let Some(sink) = self.progress.as_mut() {
            sink.flush();
        }
        self.kept
    }
}

/// How a finished job settles: the user's abort or timeout first, then what a callback or the iterator threw,
/// then the breaker's error; each rejection carries the report. `has_rows`: the job read a row source
/// ([`rows::open`]), closed here.
pub fn settle_job(
    settle: &Settle,
    outcomes: Vec<core::RowOutcome>,
    summary: core::BulkSummary,
    thrown: &Mutex<Option<napi::Error>>,
    has_rows: bool,
) -> napi::Result<BulkReport> {
    let env = settle.env();
    let source_error = if has_rows { rows::close(env, settle.id())? } else { None };
    let report = report(outcomes, &summary);
    if let Some(why) = settle.interrupted() {
        let finished = match why {
            Interrupt::Aborted | Interrupt::TimedOut => {
                "no new calls were sent and the calls in flight finished; error.report has every row read (rows not sent are NOT_ATTEMPTED)"
            }
        };
        return Err(settle.interrupt_error(why, finished, Some(("report", report))));
    }
    let user_error = thrown.lock().unwrap_or_else(|p| p.into_inner()).take();
    let user_error = match (user_error, source_error) {
        (Some(e), _) => Some(e),
        (None, Some(value)) => Some(napi::Error::from(value)),
        (None, None) => None,
    };
    if let Some(error) = user_error {
        return Err(attach_report(env, error, report));
    }
    match &summary.stopped {
        None => Ok(report),
        Some(stopped) => Err(settle.error_with(stopped, Some(("report", report)))),
    }
}

/// `error` (a value JS threw) with `report` attached, when it is an object that takes properties.
fn attach_report(env: &Env, error: napi::Error, report: BulkReport) -> napi::Error {
    let value = match ToNapiValue::into_unknown(error, env) {
        Ok(value) => value,
        Err(e) => return e,
    };
    if let Ok(ValueType::Object) = value.get_type()
        && let Ok(mut object) = value.coerce_to_object()
    {
        let _ = object.set_named_property("report", report);
    }
    napi::Error::from(value)
}

/// `linkMany`'s mapping and options from its options object.
fn link_settings(o: &LinkManyOptions) -> CoreResult<(core::BulkSpec, RowMapping, BulkOptions)> {
    let fields = match &o.fields {
        Some(fields) => Some(
            fields
                .iter()
                .map(|(api, column)| match column {
                    Value::String(c) => Ok((api.clone(), c.clone())),
                    _ => Err(InvalidInput::new("fields", "must map API names to column names (strings)").field(api)),
                })
                .collect::<std::result::Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    let (spec, mapping) = MappingSettings {
        parent: o.parent.clone(),
        related: o.related.clone(),
        related_list: o.related_list.clone(),
        parent_column: o.parent_column.clone(),
        related_column: o.related_column.clone(),
        fields,
        extra: o.extra.clone(),
    }
    .build()?;
    let options = Tuning {
        concurrency: o.concurrency,
        edition: o.edition.clone(),
        batch_size: o.batch_size,
        window: o.window,
        adaptive: o.adaptive,
        progress_interval_ms: o.progress_interval_ms,
        reserve: o.reserve.as_ref(),
    }
    .options()?;
    Ok((spec, mapping, options))
}

/// The tuning options every bulk method's options object has (`concurrency`, `edition`, `batchSize`,
/// `window`, `adaptive`, `progressIntervalMs`, `reserve`).
pub struct Tuning<'o> {
    pub concurrency: Option<f64>,
    pub edition: Option<String>,
    pub batch_size: Option<f64>,
    pub window: Option<f64>,
    pub adaptive: Option<bool>,
    pub progress_interval_ms: Option<f64>,
    pub reserve: Option<&'o Either<f64, String>>,
}

impl Tuning<'_> {
    /// The core's options, checked.
    pub fn options(self) -> CoreResult<BulkOptions> {
        BulkSettings {
            concurrency: count(self.concurrency, "concurrency")?.map(|n| n as usize),
            edition: self.edition,
            batch_size: count(self.batch_size, "batch_size")?.map(|n| n as usize),
            window: count(self.window, "window")?.map(|n| n as usize),
            adaptive: self.adaptive,
            progress_interval: millis(self.progress_interval_ms, "progress_interval")?,
            reserve: self.reserve.map(|r| match r {
                Either::A(n) => n.to_string(),
                Either::B(s) => s.clone(),
            }),
        }
        .options()
    }
}

/// `{ name: 'text' }` as pairs; a value that is not a string is an `INVALID_INPUT` naming `argument` and the key.
pub fn string_pairs(map: &Map<String, Value>, argument: &str) -> CoreResult<Vec<(String, String)>> {
    map.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            _ => Err(InvalidInput::new(argument, "must map names to strings").field(k).into()),
        })
        .collect()
}

/// One JS row of `linkMany` as the core's row: only the mapped columns are read (an `undefined` cell is
/// absent); with `extra: 'error'` every key is listed, to name the ones not mapped.
fn link_row(
    mapping: &RowMapping,
    columns: &[String],
    all_names: bool,
    value: Unknown,
    index: usize,
) -> std::result::Result<BulkRow, InvalidInput> {
    let bad = |why: String| InvalidInput::new("row", why).at(index);
    let is_object = matches!(value.get_type(), Ok(ValueType::Object)) && !value.is_array().unwrap_or(false);
    if !is_object {
        return Err(bad("must be an object of column name to value".into()));
    }
    let object = value.coerce_to_object().map_err(|e| bad(e.reason))?;
    let mut cells = Map::new();
    for column in columns {
        let cell: Unknown = object.get_named_property(column).map_err(|e| bad(e.reason))?;
        if matches!(cell.get_type(), Ok(ValueType::Undefined)) {
            continue;
        }
        let v = value_from_js(cell).map_err(|why| bad(format!("column {column:?}: {why}")).field(column.clone()))?;
        cells.insert(column.clone(), v);
    }
    let names = if all_names { Object::keys(&object).map_err(|e| bad(e.reason))? } else { Vec::new() };
    mapping.map_row(index, &|c| cells.get(c).cloned(), &mut names.iter().map(String::as_str))
}

/// The row converter of a job over pairs (`linkMany`, `unlinkMany`, `planLinks`): `mapping`'s columns.
pub fn pair_rows(mapping: RowMapping, all_names: bool) -> Convert<BulkRow> {
    let columns: Vec<String> = mapping.required_columns().into_iter().map(str::to_owned).collect();
    let mapping = Arc::new(mapping);
    Arc::new(move |_env, value, index| link_row(&mapping, &columns, all_names, value, index))
}

/// Which job over pairs runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairs {
    /// `linkMany`: `Client::link_many`.
    Link,
    /// `unlinkMany`: `Client::unlink_many` (relation fields are read as mapped columns, not sent).
    Unlink,
}

/// The job over pairs: its settings, its row converter, and the core call.
fn pair_job(client: CoreClient, o: &LinkManyOptions, kind: Pairs) -> CoreResult<Job<BulkRow>> {
    let (spec, mapping, options) = link_settings(o)?;
    let all_names = o.extra.as_deref() == Some("error");
    Ok(Job {
        options,
        convert: pair_rows(mapping, all_names),
        run: Box::new(move |rows, options, on_outcome, on_progress, cancel| match kind {
            Pairs::Link => client.link_many(&spec, options, rows, on_outcome, on_progress, cancel),
            Pairs::Unlink => client.unlink_many(&spec, options, rows, on_outcome, on_progress, cancel),
        }),
    })
}

/// `client.linkMany(rows, options)` and `client.unlinkMany(rows, options)`.
pub fn pairs_many<'e>(
    env: &'e Env,
    client: CoreClient,
    kind: Pairs,
    rows: Unknown<'e>,
    options: Unknown<'e>,
) -> napi::Result<Object<'e>> {
    let (hooks, job) = match convert::args::<LinkManyOptions>(options, "options") {
        Err(e) => (JobHooks::none(), Err(e)),
        Ok(mut o) => {
            let hooks = JobHooks {
                on_progress: o.on_progress.take(),
                on_outcome: o.on_outcome.take(),
                keep_outcomes: o.keep_outcomes.unwrap_or(true),
                signal: o.signal,
                timeout_ms: o.timeout_ms,
            };
            (hooks, pair_job(client, &o, kind))
        }
    };
    run_job(env, if kind == Pairs::Link { "linkMany" } else { "unlinkMany" }, rows, hooks, job)
}
