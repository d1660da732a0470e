//! `client.linkMany(rows, options)`: the JS rows and options become the core's job (`RowMapping`, `BulkSettings`)
//! on the JS thread; progress goes back through a ThreadsafeFunction; an `AbortSignal` triggers the core's
//! `Cancel`. The job itself runs in `tasks::LinkManyTask` on a libuv worker.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};
use napi_derive::napi;
use serde_json::{Map, Value};
use zcrm_extid::InvalidInput;
use zcrm_extid::bulk::{self as core, BulkOptions, BulkRow, BulkSpec, Cancel};
use zcrm_extid::settings::{BulkSettings, MappingSettings};

use crate::convert::{CoreResult, Outcome, count, millis, value_from_js};

/// How `linkMany` reads rows and runs the job.
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
    /// Zoho edition (`free` ... `ultimate`) whose concurrency limit applies when `concurrency` is not given.
    pub edition: Option<String>,
    /// Records per call, 1 to 100.
    pub batch_size: Option<f64>,
    /// Most rows buffered for grouping by parent.
    pub window: Option<f64>,
    /// Lower the concurrency when Zoho answers 429 (default true).
    pub adaptive: Option<bool>,
    /// Least time between two progress reports, ms.
    pub progress_interval_ms: Option<f64>,
    /// Called on the JS thread with the job's progress, at most every `progressIntervalMs` and once at the end,
    /// always before the Promise settles. If it throws, the job is cancelled and the Promise rejects with that
    /// exception.
    #[napi(ts_type = "(progress: Progress) => void")]
    pub on_progress: Option<Function<'a, Progress, UnknownReturnValue>>,
    /// Cancels the job when aborted: no new calls are sent, calls in flight finish, and the Promise resolves
    /// with `summary.cancelled === true` and the rows read but not sent reported `NOT_ATTEMPTED`. (An error
    /// that would fail every call — wrong secret, revoked token, missing scope, unknown module, spent credits —
    /// stops the job the same way, and the Promise rejects with it, the report attached as `error.report`.)
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Progress of a running job; every count moves as calls complete, in any order.
#[napi(object, object_from_js = false)]
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
    /// Rows in the input (the array's length).
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
    /// The parent's record id or external value (empty if the row was invalid before it was read).
    pub parent: String,
    /// The related record's key (external value or id), if the row had one.
    pub key: Option<String>,
    /// Calls made for this row's batch (0: never sent).
    pub attempts: u32,
    /// The outcome (`outcome.index === row`).
    pub outcome: Outcome,
}

/// Totals of a finished job.
#[napi(object, object_from_js = false)]
pub struct BulkSummary {
    /// Rows read (after a cancellation, the rows after these were not read and have no outcome).
    pub rows: f64,
    /// Rows linked.
    pub succeeded: f64,
    /// Rows that failed (including invalid and not attempted).
    pub failed: f64,
    /// ... of which failed validation (`INVALID_INPUT`).
    pub invalid: f64,
    /// ... of which were not sent because the job was cancelled (`NOT_ATTEMPTED`).
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
    /// True if the job was cancelled.
    pub cancelled: bool,
    /// The code of the error that stopped the job (circuit breaker), if one did.
    pub stopped: Option<String>,
    /// Retries by cause, call latency p50/p95/max, rows/s, backoff, token refreshes, credits.
    pub metrics: crate::metrics::JobMetrics,
}

/// What `linkMany` resolves to.
#[napi(object, object_from_js = false)]
pub struct BulkReport {
    /// One per row read, sorted by row.
    pub outcomes: Vec<RowOutcome>,
    /// Totals.
    pub summary: BulkSummary,
}

/// A job ready to run.
pub struct Job {
    pub spec: BulkSpec,
    pub options: BulkOptions,
    pub rows: Vec<std::result::Result<BulkRow, InvalidInput>>,
}

/// The rows and options as the core's job. Rows are read here, on the JS thread, once: each becomes a core
/// row, or an `INVALID_INPUT` outcome for that row (not an exception).
pub fn job(rows: Unknown, o: &LinkManyOptions) -> CoreResult<Job> {
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
    let options = BulkSettings {
        concurrency: count(o.concurrency, "concurrency")?.map(|n| n as usize),
        edition: o.edition.clone(),
        batch_size: count(o.batch_size, "batch_size")?.map(|n| n as usize),
        window: count(o.window, "window")?.map(|n| n as usize),
        adaptive: o.adaptive,
        progress_interval: millis(o.progress_interval_ms, "progress_interval")?,
    }
    .options()?;
    let rows = crate::convert::args::<Array>(rows, "rows")?;
    let options = BulkOptions { expected_rows: Some(u64::from(rows.len())), ..options };
    let rows = (0..rows.len())
        .map(|i| {
            let value = rows.get::<Unknown>(i).map_err(|e| e.reason).and_then(|v| match v {
                Some(v) => value_from_js(v),
                None => Ok(Value::Null),
            });
            match value {
                Ok(Value::Object(cells)) => {
                    mapping.map_row(i as usize, &|c| cells.get(c).cloned(), &mut cells.keys().map(String::as_str))
                }
                Ok(_) => Err(InvalidInput::new("row", "must be an object").at(i as usize)),
                Err(why) => Err(InvalidInput::new("row", why).at(i as usize)),
            }
        })
        .collect();
    Ok(Job { spec, options, rows })
}

type ProgressFn = ThreadsafeFunction<Progress, UnknownReturnValue, Progress, Status, false>;

/// Delivers progress reports to `onProgress` without blocking either side, and remembers what it threw.
pub struct ProgressSink {
    tsfn: ProgressFn,
    /// One clone travels with every report and is dropped when the report was delivered (or discarded): when
    /// all are gone, every report reached JS.
    in_flight: Option<mpsc::Sender<()>>,
    delivered: mpsc::Receiver<()>,
    thrown: Arc<Mutex<Option<napi::Error>>>,
    cancel: Cancel,
}

impl ProgressSink {
    pub fn new(callback: &Function<Progress, UnknownReturnValue>, cancel: &Cancel) -> Result<ProgressSink> {
        let (in_flight, delivered) = mpsc::channel();
        Ok(ProgressSink {
            tsfn: callback.build_threadsafe_function().callee_handled::<false>().build()?,
            in_flight: Some(in_flight),
            delivered,
            thrown: Arc::default(),
            cancel: cancel.clone(),
        })
    }

    /// Queues `progress` for the JS thread (never waits).
    pub fn send(&self, progress: &core::Progress) {
        let token = self.in_flight.clone();
        let (thrown, cancel) = (self.thrown.clone(), self.cancel.clone());
        self.tsfn.call_with_return_value(
            Progress::from(progress),
            ThreadsafeFunctionCallMode::NonBlocking,
            move |result, _env| {
                drop(token);
                if let Err(e) = result {
                    cancel.cancel();
                    thrown.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                }
                Ok(())
            },
        );
    }

    /// Waits (on the worker) until every queued report was delivered, so the last one precedes the Promise.
    pub fn flush(&mut self) {
        self.in_flight = None;
        while let Err(mpsc::RecvTimeoutError::Timeout) = self.delivered.recv_timeout(Duration::from_millis(50)) {
            if self.tsfn.aborted() {
                break;
            }
        }
    }

    /// What `onProgress` threw first, if it threw.
    pub fn thrown(&self) -> Option<napi::Error> {
        self.thrown.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The `abort` listener on the caller's `AbortSignal`, removed when the job ends.
pub struct AbortHook {
    signal: ObjectRef,
    listener: FunctionRef<(), ()>,
}

type Listen<'e> = Function<'e, FnArgs<(&'static str, Function<'e, (), ()>)>, Unknown<'e>>;

impl AbortHook {
    /// Triggers `cancel` when `signal` aborts (at once if it already has).
    pub fn new(env: &Env, signal: &Object, cancel: &Cancel) -> Result<Option<AbortHook>> {
        if signal.get::<bool>("aborted")?.unwrap_or(false) {
            cancel.cancel();
            return Ok(None);
        }
        let c = cancel.clone();
        let listener = env.create_function_from_closure::<(), (), _>("cancelLinkMany", move |_| {
            c.cancel();
            Ok(())
        })?;
        let add: Listen = signal.get_named_property("addEventListener")?;
        add.apply(signal, FnArgs::from(("abort", listener)))?;
        Ok(Some(AbortHook { signal: signal.create_ref()?, listener: listener.create_ref()? }))
    }

    /// Removes the listener and releases the references (on the JS thread, when the job is over).
    pub fn remove(self, env: &Env) -> Result<()> {
        let AbortHook { signal, listener } = self;
        let removed = (|| {
            let target = signal.get_value(env)?;
            let remove: Listen = target.get_named_property("removeEventListener")?;
            remove.apply(target, FnArgs::from(("abort", listener.borrow_back(env)?)))
        })();
        signal.unref(env)?;
        removed.map(drop)
    }
}

/// The report for JS, outcomes sorted by row.
pub fn report(mut outcomes: Vec<core::RowOutcome>, s: core::BulkSummary) -> BulkReport {
    outcomes.sort_unstable_by_key(|o| o.row);
    BulkReport {
        outcomes: outcomes
            .iter()
            .map(|o| RowOutcome {
                row: o.row as u32,
                parent: o.parent.to_string(),
                key: o.key.clone(),
                attempts: o.attempts,
                outcome: Outcome::from(&o.outcome),
            })
            .collect(),
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
