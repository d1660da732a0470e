//! Bulk jobs over any Python iterable of row mappings, run by the core's engine with the GIL released:
//! [`link_many`] (a report at the end, `on_outcome` as outcomes come) and [`iter_link_many`] (an iterator of
//! outcomes as they come, the job on its own thread). Both go through [`Job`]: the one helper for "a bulk job
//! over an iterable", which bulk operations added later (unlink, upsert, reconcile's apply) reuse with their
//! own row mapping and core call.
//!
//! The GIL is re-attached only to pull the next row from the Python iterator and to call the callbacks, so a
//! generator of a million rows is never materialised. An exception from the iterator or a callback, a signal
//! (Ctrl-C), or the thread's `CancelScope` (an `aio` task cancelled) cancels the job through the core's
//! [`Cancel`]: calls in flight finish, then the exception is raised with the partial report attached as
//! `bulk_report`. A job stopped by the core's circuit breaker raises the error that stopped it, with the report
//! attached the same way.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList, PyMapping, PyString, PyTuple};
use serde_json::{Map, Value};
use zcrm_extid::InvalidInput;
use zcrm_extid::bulk::{
    BulkOptions, BulkRow, BulkSpec, BulkSummary as CoreSummary, Cancel, Progress as CoreProgress, RowMapping,
    RowOutcome as CoreRowOutcome,
};
use zcrm_extid::settings::{BulkSettings, MappingSettings};

use crate::client::Client;
use crate::convert;
use crate::convert::json_map_to_py as details_dict;
use crate::errors::{invalid_input, to_py_err};
use crate::results::{outcome_repr, py_repr, seq_index};

/// Rows converted per GIL attachment for a sized input (a list, a DataFrame's records): attaching costs about
/// as much as converting a row. Only a sized input is read ahead: its rows are already in memory, so rows read
/// and not yet sent when a job stops cost nothing. A generator is pulled one row per attachment, so every row it
/// yielded is in the report (as sent, or `NOT_ATTEMPTED`), never dropped unseen in a read-ahead buffer.
const CHUNK: usize = 64;

/// Turns row `index` (a Python object) into an operation's row; its error is that row's `INVALID_INPUT`.
pub type Convert<R> = Box<dyn Fn(&Bound<'_, PyAny>, usize) -> Result<R, InvalidInput> + Send>;

/// Reads rows from a Python iterator: [`CHUNK`] rows per GIL attachment for a sized input, else one. `R` is the
/// operation's row (a link's `BulkRow`, an upsert's record).
pub struct PyRows<R> {
    iter: Py<PyIterator>,
    convert: Convert<R>,
    next_row: usize,
    stop: Arc<Stop>,
    /// Rows read per GIL attachment: [`CHUNK`] or 1.
    chunk: usize,
    /// Rows converted and not yet handed to the engine.
    ready: std::collections::VecDeque<Result<R, InvalidInput>>,
    exhausted: bool,
}

/// The first Python exception of the job (from the iterator, a callback or a signal), which cancels it.
pub struct Stop {
    error: Mutex<Option<PyErr>>,
    pub cancel: Cancel,
}

impl Stop {
    /// A job's stop, cancelled by Ctrl-C and the thread's `CancelScope` as well as by [`Stop::fail`].
    pub fn new() -> Arc<Stop> {
        Arc::new(Stop { error: Mutex::new(None), cancel: crate::run::token() })
    }

    pub fn fail(&self, err: PyErr) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(err);
        }
        self.cancel.cancel();
    }

    pub fn failed(&self) -> bool {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    pub fn take(&self) -> Option<PyErr> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl<R> Iterator for PyRows<R> {
    type Item = Result<R, InvalidInput>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ready.is_empty() && !self.exhausted && !self.stop.failed() {
            self.fill();
        }
        self.ready.pop_front()
    }
}

impl<R> PyRows<R> {
    /// Rows of `iter`, each converted by `convert`; a `sized` input is read [`CHUNK`] rows per GIL attachment.
    pub fn new(iter: Py<PyIterator>, convert: Convert<R>, stop: Arc<Stop>, sized: bool) -> PyRows<R> {
        PyRows {
            iter,
            convert,
            next_row: 0,
            stop,
            chunk: if sized { CHUNK } else { 1 },
            ready: std::collections::VecDeque::new(),
            exhausted: false,
        }
    }

    /// Converts up to `chunk` rows under one GIL attachment (fewer when the iterator ends or raises).
    fn fill(&mut self) {
        Python::attach(|py| {
            if let Err(e) = py.check_signals() {
                self.stop.fail(e);
                return;
            }
            let iter = self.iter.bind(py);
            for _ in 0..self.chunk {
                match iter.clone().next() {
                    None => {
                        self.exhausted = true;
                        return;
                    }
                    Some(Err(e)) => {
                        self.stop.fail(e);
                        return;
                    }
                    Some(Ok(row)) => {
                        let index = self.next_row;
                        self.next_row += 1;
                        self.ready.push_back((self.convert)(&row, index));
                    }
                }
            }
        })
    }
}

/// The cells of `columns` as JSON, and (if `all_names`) the names of every column of the row.
fn cells(
    row: &Bound<'_, PyAny>,
    index: usize,
    columns: &[String],
    all_names: bool,
) -> Result<(Map<String, Value>, Vec<String>), InvalidInput> {
    let bad = |message: String| InvalidInput::new("row", message).at(index);
    let mapping = row.cast::<PyMapping>().map_err(|_| {
        bad(format!("must be a mapping of column name to value (a dict), not {}", convert::type_name(row)))
    })?;
    let mut cells = Map::new();
    let mut put = |column: String, value: &Bound<'_, PyAny>| -> Result<(), InvalidInput> {
        let v =
            convert::to_json(value).map_err(|why| bad(format!("column {column:?}: {why}")).field(column.clone()))?;
        cells.insert(column, v);
        Ok(())
    };
    for column in columns {
        if let Ok(value) = mapping.get_item(column) {
            put(column.clone(), &value)?;
        }
    }
    let mut names = Vec::new();
    if all_names {
        for k in mapping.keys().map_err(|e| bad(e.to_string()))?.iter() {
            let column = k
                .cast::<PyString>()
                .map_err(|_| bad(format!("column names must be str, not {} ({k})", convert::type_name(&k))))?;
            names.push(column.to_string());
        }
    }
    Ok((cells, names))
}

/// Job settings from the Python keyword arguments.
pub struct LinkArgs {
    pub parent: String,
    pub related: String,
    pub related_list: Option<String>,
    pub parent_column: Option<String>,
    pub related_column: Option<String>,
    pub fields: Option<Vec<(String, String)>>,
    pub extra: Option<String>,
    pub concurrency: Option<usize>,
    pub edition: Option<String>,
    pub batch_size: Option<usize>,
    pub window: Option<usize>,
    pub adaptive: Option<bool>,
    pub progress_interval: Option<f64>,
    /// The credit reserve (`"5000"` or `"10%"`), with a shared budget.
    pub reserve: Option<String>,
}

/// The core call that runs a job over its rows (e.g. [`zcrm_extid::Client::link_many`]).
pub type RunJob<R> = Box<
    dyn FnOnce(
            PyRows<R>,
            &BulkOptions,
            &mut dyn FnMut(CoreRowOutcome),
            &mut dyn FnMut(&CoreProgress),
            &Cancel,
        ) -> Result<CoreSummary, zcrm_extid::Error>
        + Send,
>;

/// A bulk job ready to run over a Python iterable: its rows, its options, the core call that runs it, and the
/// callbacks. [`Job::run`] runs it here ([`report`]); [`stream`] on its own thread, handing outcomes to a
/// channel. Every bulk method (link, unlink, upsert, a plan's apply) is a [`Job`] with its own row conversion
/// and core call.
pub struct Job<R> {
    rows: PyRows<R>,
    options: BulkOptions,
    stop: Arc<Stop>,
    on_progress: Option<Py<PyAny>>,
    run: RunJob<R>,
}

impl<R: Send + 'static> Job<R> {
    /// A job over `rows`, each converted by `convert`; `run` is the core's job.
    pub fn new(
        py: Python<'_>,
        rows: &Bound<'_, PyAny>,
        convert: Convert<R>,
        settings: BulkSettings,
        on_progress: Option<Py<PyAny>>,
        run: RunJob<R>,
    ) -> PyResult<Job<R>> {
        // A sized input (a list, a DataFrame's records) gives progress an ETA.
        let expected_rows = rows.len().ok().map(|n| n as u64);
        let options = settings.options().map(|o| BulkOptions { expected_rows, ..o }).map_err(|e| to_py_err(py, e))?;
        let iter = rows.try_iter().map_err(|_| {
            invalid_input(py, InvalidInput::new("rows", format!("must be iterable, not {}", convert::type_name(rows))))
        })?;
        let stop = Stop::new();
        let rows = PyRows::new(iter.unbind(), convert, stop.clone(), expected_rows.is_some());
        Ok(Job { rows, options, stop, on_progress, run })
    }

    /// Runs the job on this thread with the GIL released, passing each outcome to `on_outcome`.
    fn run(self, on_outcome: &mut (dyn FnMut(CoreRowOutcome) + Send)) -> Result<CoreSummary, zcrm_extid::Error> {
        let Job { rows, options, stop, on_progress, run } = self;
        let mut progress = report_progress(&stop, &on_progress, |p: &CoreProgress| Progress(p.clone()));
        run(rows, &options, on_outcome, &mut progress, &stop.cancel)
    }
}

/// The job settings every bulk method takes, from its keyword arguments.
#[allow(clippy::too_many_arguments)]
pub fn bulk_settings(
    py: Python<'_>,
    concurrency: Option<usize>,
    edition: Option<String>,
    batch_size: Option<usize>,
    window: Option<usize>,
    adaptive: Option<bool>,
    progress_interval: Option<f64>,
    reserve: Option<String>,
) -> PyResult<BulkSettings> {
    Ok(BulkSettings {
        concurrency,
        edition,
        batch_size,
        window,
        adaptive,
        progress_interval: convert::seconds(progress_interval, "progress_interval").map_err(|e| to_py_err(py, e))?,
        reserve,
    })
}

/// A link row's conversion: the mapped columns' cells (and, with `extra="error"`, every column's name) through
/// the core's [`RowMapping`].
pub fn link_rows(mapping: RowMapping, all_names: bool) -> Convert<BulkRow> {
    let columns: Vec<String> = mapping.required_columns().into_iter().map(str::to_owned).collect();
    Box::new(move |row, index| {
        cells(row, index, &columns, all_names).and_then(|(cells, names)| {
            mapping.map_row(index, &|c| cells.get(c).cloned(), &mut names.iter().map(String::as_str))
        })
    })
}

/// The settings of a link job from the Python arguments.
pub fn link_settings(py: Python<'_>, args: LinkArgs) -> PyResult<(BulkSpec, RowMapping, bool, BulkSettings)> {
    let all_names = args.extra.as_deref() == Some("error");
    let (spec, mapping) = MappingSettings {
        parent: args.parent,
        related: args.related,
        related_list: args.related_list,
        parent_column: args.parent_column,
        related_column: args.related_column,
        fields: args.fields,
        extra: args.extra,
    }
    .build()
    .map_err(|e| invalid_input(py, e))?;
    let settings = bulk_settings(
        py,
        args.concurrency,
        args.edition,
        args.batch_size,
        args.window,
        args.adaptive,
        args.progress_interval,
        args.reserve,
    )?;
    Ok((spec, mapping, all_names, settings))
}

fn link_job(
    py: Python<'_>,
    client: &Client,
    rows: &Bound<'_, PyAny>,
    args: LinkArgs,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<Job<BulkRow>> {
    let (spec, mapping, all_names, settings) = link_settings(py, args)?;
    let core = client.inner.clone();
    Job::new(
        py,
        rows,
        link_rows(mapping, all_names),
        settings,
        on_progress,
        Box::new(move |rows, options, on_outcome, on_progress, cancel| {
            core.link_many(&spec, options, rows, on_outcome, on_progress, cancel)
        }),
    )
}

/// Runs `Client.unlink_many`: the rows of `link_many`, `Client::unlink_many` as the core call.
pub fn unlink_many(
    py: Python<'_>,
    client: &Client,
    rows: &Bound<'_, PyAny>,
    args: LinkArgs,
    on_progress: Option<Py<PyAny>>,
    on_outcome: Option<Py<PyAny>>,
    keep_outcomes: bool,
) -> PyResult<BulkReport> {
    let (spec, mapping, all_names, settings) = link_settings(py, args)?;
    let core = client.inner.clone();
    let job = Job::new(
        py,
        rows,
        link_rows(mapping, all_names),
        settings,
        on_progress,
        Box::new(move |rows, options, on_outcome, on_progress, cancel| {
            core.unlink_many(&spec, options, rows, on_outcome, on_progress, cancel)
        }),
    )?;
    report(py, job, on_outcome, keep_outcomes)
}

/// `err` with `report` attached as `bulk_report` (an exception type that takes no attributes goes without).
fn with_report(py: Python<'_>, err: PyErr, report: BulkReport) -> PyResult<PyErr> {
    let _ = err.value(py).setattr("bulk_report", Py::new(py, report)?);
    Ok(err)
}

/// Runs the job; see the module docs.
pub fn link_many(
    py: Python<'_>,
    client: &Client,
    rows: &Bound<'_, PyAny>,
    args: LinkArgs,
    on_progress: Option<Py<PyAny>>,
    on_outcome: Option<Py<PyAny>>,
    keep_outcomes: bool,
) -> PyResult<BulkReport> {
    let job = link_job(py, client, rows, args, on_progress)?;
    report(py, job, on_outcome, keep_outcomes)
}

/// Runs `job` here with the GIL released: `on_outcome` gets each outcome as it comes, the report keeps them
/// (unless `keep_outcomes` is false); an exception of a callback or the rows, or the error that stopped the job,
/// is raised with the report attached.
pub fn report<R: Send + 'static>(
    py: Python<'_>,
    job: Job<R>,
    on_outcome: Option<Py<PyAny>>,
    keep_outcomes: bool,
) -> PyResult<BulkReport> {
    let stop = job.stop.clone();
    let (summary, outcomes) = crate::logging::detach(py, || {
        let mut outcomes = Vec::new();
        let summary = job.run(&mut |o| {
            if let Some(callback) = &on_outcome {
                Python::attach(|py| {
                    if stop.failed() {
                        return;
                    }
                    let result = Py::new(py, RowOutcome(o.clone())).and_then(|row| callback.bind(py).call1((row,)));
                    if let Err(e) = result {
                        stop.fail(e);
                    }
                });
            }
            if keep_outcomes {
                outcomes.push(o);
            }
        });
        (summary, outcomes)
    });
    finish(py, summary, outcomes, &stop)
}

/// The report of a finished job, or the exception that stopped it (the Python one first, then the breaker's)
/// with the report attached as `bulk_report`.
pub fn finish(
    py: Python<'_>,
    summary: Result<CoreSummary, zcrm_extid::Error>,
    outcomes: Vec<CoreRowOutcome>,
    stop: &Stop,
) -> PyResult<BulkReport> {
    let summary = summary.map_err(|e| to_py_err(py, e))?;
    let stopped = summary.stopped.clone();
    let report = BulkReport::new(py, summary, outcomes)?;
    match stop.take().or_else(|| stopped.map(|e| to_py_err(py, e))) {
        None => Ok(report),
        Some(err) => Err(with_report(py, err, report)?),
    }
}

/// The progress callback of a job: checks for signals, calls `on_progress` (if given) with what `wrap` makes
/// of the core's progress, and stops the job on an exception of either.
pub fn report_progress<'a, P, T: pyo3::PyClass + Into<pyo3::PyClassInitializer<T>>>(
    stop: &'a Stop,
    on_progress: &'a Option<Py<PyAny>>,
    wrap: impl Fn(&P) -> T + 'a,
) -> impl FnMut(&P) + 'a {
    move |p: &P| {
        Python::attach(|py| {
            if let Err(e) = py.check_signals() {
                stop.fail(e);
            }
            if let (Some(callback), false) = (on_progress, stop.failed()) {
                let result = Py::new(py, wrap(p)).and_then(|progress| callback.bind(py).call1((progress,)));
                if let Err(e) = result {
                    stop.fail(e);
                }
            }
        })
    }
}

/// What the job thread of an [`OutcomeStream`] sends.
// One `Done` per job: its size does not matter; outcomes, the many, are not boxed.
#[allow(clippy::large_enum_variant)]
enum Event {
    Outcome(CoreRowOutcome),
    Done(Result<CoreSummary, zcrm_extid::Error>),
}

/// Outcomes kept between the job and the iterator: the job waits when the consumer is this far behind.
const STREAM_BUFFER: usize = 1024;

/// Starts the job on its own thread; see [`OutcomeStream`].
pub fn iter_link_many(
    py: Python<'_>,
    client: &Client,
    rows: &Bound<'_, PyAny>,
    args: LinkArgs,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<OutcomeStream> {
    let job = link_job(py, client, rows, args, on_progress)?;
    stream(py, job)
}

/// Starts `job` on its own thread; its outcomes come out of the returned [`OutcomeStream`].
pub fn stream<R: Send + 'static>(py: Python<'_>, job: Job<R>) -> PyResult<OutcomeStream> {
    let stop = job.stop.clone();
    let (tx, rx) = mpsc::sync_channel(STREAM_BUFFER);
    std::thread::Builder::new()
        .name("zcrm-extid-job".into())
        .spawn(move || {
            let done_tx = tx.clone();
            // A consumer that went away (the stream was dropped) disconnects the channel: nothing waits then.
            let summary = job.run(&mut |o| drop(tx.send(Event::Outcome(o))));
            let _ = done_tx.send(Event::Done(summary));
        })
        .map_err(|e| to_py_err(py, zcrm_extid::Error::Internal { message: format!("cannot start the job: {e}") }))?;
    Ok(OutcomeStream { rx: Mutex::new(Some(rx)), stop, summary: Mutex::new(None) })
}

/// The outcomes of a bulk job as they complete (`Client.iter_link_many`): an iterator, and a context manager
/// that stops the job on exit. See `Client.iter_link_many`.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct OutcomeStream {
    rx: Mutex<Option<Receiver<Event>>>,
    stop: Arc<Stop>,
    summary: Mutex<Option<Py<BulkSummary>>>,
}

impl Drop for OutcomeStream {
    fn drop(&mut self) {
        self.stop.cancel.cancel();
    }
}

#[pymethods]
impl OutcomeStream {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<RowOutcome> {
        loop {
            let rx = &self.rx;
            let event = py.detach(|| {
                let guard = rx.lock().unwrap_or_else(|p| p.into_inner());
                guard.as_ref().map(|rx| rx.recv_timeout(Duration::from_millis(100)))
            });
            let Some(event) = event else { return Err(PyStopIteration::new_err(())) };
            match event {
                Ok(Event::Outcome(o)) => return Ok(RowOutcome(o)),
                Ok(Event::Done(summary)) => {
                    *self.rx.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    let summary = summary.map_err(|e| to_py_err(py, e))?;
                    let stopped = summary.stopped.clone();
                    let report = BulkReport::new(py, summary, Vec::new())?;
                    *self.summary.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.summary.clone_ref(py));
                    return match self.stop.take().or_else(|| stopped.map(|e| to_py_err(py, e))) {
                        None => Err(PyStopIteration::new_err(())),
                        Some(err) => Err(with_report(py, err, report)?),
                    };
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = py.check_signals() {
                        self.stop.cancel.cancel();
                        return Err(e);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    *self.rx.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    return Err(PyStopIteration::new_err(()));
                }
            }
        }
    }

    /// Stops the job: no new calls are sent, calls in flight finish; the iteration then ends.
    fn close(&self) {
        self.stop.cancel.cancel();
    }

    /// The job's totals once the iteration ended, else `None`.
    #[getter]
    fn summary(&self, py: Python<'_>) -> Option<Py<BulkSummary>> {
        self.summary.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|s| s.clone_ref(py))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, PyTuple>) -> bool {
        self.close();
        false
    }

    fn __repr__(&self) -> String {
        let done = self.rx.lock().unwrap_or_else(|p| p.into_inner()).is_none();
        format!("OutcomeStream(done={})", if done { "True" } else { "False" })
    }
}

/// Progress of a running job, passed to `on_progress` (see `Client.link_many` for driving a tqdm bar with it).
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct Progress(CoreProgress);

impl Progress {
    /// The Python view of the core's progress.
    pub fn from_core(p: &CoreProgress) -> Progress {
        Progress(p.clone())
    }
}

#[pymethods]
impl Progress {
    /// Rows read from the input so far.
    #[getter]
    fn rows_read(&self) -> u64 {
        self.0.rows_read
    }
    /// Rows whose call was sent at least once.
    #[getter]
    fn rows_sent(&self) -> u64 {
        self.0.rows_sent
    }
    /// Rows with a final outcome (in any order, as calls complete).
    #[getter]
    fn completed(&self) -> u64 {
        self.0.completed
    }
    /// ... of which succeeded.
    #[getter]
    fn succeeded(&self) -> u64 {
        self.0.succeeded
    }
    /// ... of which failed.
    #[getter]
    fn failed(&self) -> u64 {
        self.0.failed
    }
    /// Rows in calls on the wire right now.
    #[getter]
    fn in_flight(&self) -> u64 {
        self.0.in_flight
    }
    /// Rows in calls waiting to be sent again (backoff, token throttle).
    #[getter]
    fn waiting_retry(&self) -> u64 {
        self.0.waiting_retry
    }
    /// Rows read and waiting to be sent.
    #[getter]
    fn buffered(&self) -> u64 {
        self.0.buffered
    }
    /// Rows completed per second since the start.
    #[getter]
    fn rows_per_sec(&self) -> f64 {
        self.0.rows_per_sec
    }
    /// Seconds since the start.
    #[getter]
    fn elapsed(&self) -> f64 {
        self.0.elapsed.as_secs_f64()
    }
    /// How many rows the input holds, when it is sized (a list, a DataFrame's records).
    #[getter]
    fn expected_rows(&self) -> Option<u64> {
        self.0.expected_rows
    }
    /// Seconds left at the current rate, when the input is sized.
    #[getter]
    fn eta(&self) -> Option<f64> {
        self.0.eta.map(|d| d.as_secs_f64())
    }
    /// The current concurrency limit.
    #[getter]
    fn concurrency(&self) -> usize {
        self.0.concurrency
    }
    /// HTTP calls so far (retries included).
    #[getter]
    fn calls(&self) -> u64 {
        self.0.calls
    }
    /// Retries so far.
    #[getter]
    fn retries(&self) -> u64 {
        self.0.retries
    }
    /// 429 answers so far.
    #[getter]
    fn rate_limited(&self) -> u64 {
        self.0.rate_limited
    }
    /// True once the job is stopping (cancelled, or stopped by the circuit breaker).
    #[getter]
    fn stopping(&self) -> bool {
        self.0.stopping
    }
    fn __repr__(&self) -> String {
        let p = &self.0;
        format!(
            "Progress(rows_read={}, rows_sent={}, completed={}, succeeded={}, failed={}, in_flight={}, rows_per_sec={:.1}, elapsed={:.3})",
            p.rows_read,
            p.rows_sent,
            p.completed,
            p.succeeded,
            p.failed,
            p.in_flight,
            p.rows_per_sec,
            p.elapsed.as_secs_f64()
        )
    }
}

/// The final outcome of one input row.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct RowOutcome(pub(crate) CoreRowOutcome);

#[pymethods]
impl RowOutcome {
    /// 0-based index of the row in the input.
    #[getter]
    fn row(&self) -> usize {
        self.0.row
    }
    /// The parent's record id or external value (empty if the row was invalid before it was read).
    #[getter]
    fn parent(&self) -> &str {
        &self.0.parent
    }
    /// The related record's key (external value or id), if the row had one.
    #[getter]
    fn key(&self) -> Option<&str> {
        self.0.key.as_deref()
    }
    /// The row's `Outcome` (`outcome.index == row`); `ok`, `code`, `message`, `details`, `id` and `status` are
    /// its fields, repeated here for brevity.
    #[getter]
    fn outcome(&self) -> crate::results::Outcome {
        crate::results::Outcome::new(self.0.outcome.clone())
    }
    /// `upsert_many`: `"insert"` or `"update"` for a success (`None` otherwise, and for other jobs).
    #[getter]
    fn action(&self) -> Option<&'static str> {
        self.0.outcome.action().map(|a| a.as_str())
    }
    /// `upsert_many`: the field whose value matched an existing record (`None` for an insert).
    #[getter]
    fn duplicate_field(&self) -> Option<&str> {
        self.0.outcome.result.as_ref().ok().and_then(|s| s.duplicate_field())
    }
    /// True when the row succeeded (linked, upserted).
    #[getter]
    fn ok(&self) -> bool {
        self.0.outcome.is_success()
    }
    /// `SUCCESS`, Zoho's code, or the client's (`INVALID_INPUT`, `NOT_ATTEMPTED`, `TRANSPORT`, ...).
    #[getter]
    fn code(&self) -> &str {
        self.0.outcome.code()
    }
    /// The message.
    #[getter]
    fn message(&self) -> &str {
        self.0.outcome.message()
    }
    /// Zoho's (or the client's) details (a new dict on each access).
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        details_dict(py, self.0.outcome.details())
    }
    /// The related record's Zoho id, for a success.
    #[getter]
    fn id(&self) -> Option<&str> {
        self.0.outcome.id()
    }
    /// For a failure: the HTTP status of the response that carried it.
    #[getter]
    fn status(&self) -> Option<u16> {
        self.0.outcome.result.as_ref().err().and_then(|f| f.status)
    }
    /// Calls made for this row's batch (0: never sent).
    #[getter]
    fn attempts(&self) -> u32 {
        self.0.attempts
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let first = format!("row={}, parent={}", self.0.row, py_repr(py, &self.0.parent)?);
        outcome_repr(py, "RowOutcome", &first, &self.0.outcome)
    }
}

/// Totals of a finished job.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct BulkSummary(CoreSummary);

#[pymethods]
impl BulkSummary {
    /// Rows read.
    #[getter]
    fn rows(&self) -> u64 {
        self.0.rows
    }
    /// Rows linked.
    #[getter]
    fn succeeded(&self) -> u64 {
        self.0.succeeded
    }
    /// Rows that failed (including invalid and not attempted).
    #[getter]
    fn failed(&self) -> u64 {
        self.0.failed
    }
    /// ... of which failed validation (`INVALID_INPUT`).
    #[getter]
    fn invalid(&self) -> u64 {
        self.0.invalid
    }
    /// ... of which were not sent because the job was cancelled (`NOT_ATTEMPTED`).
    #[getter]
    fn not_attempted(&self) -> u64 {
        self.0.not_attempted
    }
    /// HTTP calls made (including retries).
    #[getter]
    fn calls(&self) -> u64 {
        self.0.calls
    }
    /// Retries.
    #[getter]
    fn retries(&self) -> u64 {
        self.0.retries
    }
    /// 429 answers.
    #[getter]
    fn rate_limited(&self) -> u64 {
        self.0.rate_limited
    }
    /// Wall time in seconds.
    #[getter]
    fn elapsed(&self) -> f64 {
        self.0.elapsed.as_secs_f64()
    }
    /// The most rows buffered for grouping at once.
    #[getter]
    fn max_buffered_rows(&self) -> usize {
        self.0.max_buffered_rows
    }
    /// The most rows held at once (waiting, on the wire, waiting to retry).
    #[getter]
    fn peak_held_rows(&self) -> usize {
        self.0.peak_held_rows
    }
    /// Times a call waited for the token endpoint's throttle.
    #[getter]
    fn throttle_waits(&self) -> u64 {
        self.0.throttle_waits
    }
    /// The code of the error that stopped the job (circuit breaker), if one did.
    #[getter]
    fn stopped(&self) -> Option<String> {
        self.0.stopped.as_ref().map(|e| e.code().as_str().to_owned())
    }
    /// The lowest concurrency the adaptive limit went down to.
    #[getter]
    fn min_concurrency(&self) -> usize {
        self.0.min_concurrency
    }
    /// True if the job was cancelled.
    #[getter]
    fn cancelled(&self) -> bool {
        self.0.cancelled
    }
    /// Retries by cause, call latency p50/p95/max, rows/s, backoff, token refreshes, credits.
    #[getter]
    fn metrics(&self) -> crate::metrics::JobMetrics {
        crate::metrics::JobMetrics::from(&self.0.metrics)
    }
    fn __repr__(&self) -> String {
        let s = &self.0;
        format!(
            "BulkSummary(rows={}, succeeded={}, failed={}, invalid={}, not_attempted={}, calls={}, elapsed={:.3}, cancelled={})",
            s.rows,
            s.succeeded,
            s.failed,
            s.invalid,
            s.not_attempted,
            s.calls,
            s.elapsed.as_secs_f64(),
            if s.cancelled { "True" } else { "False" }
        )
    }
}

/// One outcome per row read (sorted by row) and the totals. Iterable, sized and indexable like the list of
/// outcomes.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct BulkReport {
    outcomes: Vec<Py<RowOutcome>>,
    summary: Py<BulkSummary>,
}

impl BulkReport {
    fn new(py: Python<'_>, summary: CoreSummary, mut outcomes: Vec<CoreRowOutcome>) -> PyResult<Self> {
        // The engine passes outcomes on as calls complete; the report lists them by row.
        outcomes.sort_unstable_by_key(|o| o.row);
        let outcomes = outcomes.into_iter().map(|o| Py::new(py, RowOutcome(o))).collect::<PyResult<Vec<_>>>()?;
        Ok(BulkReport { outcomes, summary: Py::new(py, BulkSummary(summary))? })
    }
}

#[pymethods]
impl BulkReport {
    /// One per row read, sorted by row.
    #[getter]
    fn outcomes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, &self.outcomes)
    }
    /// Totals.
    #[getter]
    fn summary(&self, py: Python<'_>) -> Py<BulkSummary> {
        self.summary.clone_ref(py)
    }
    fn __len__(&self) -> usize {
        self.outcomes.len()
    }
    fn __getitem__(&self, py: Python<'_>, index: isize) -> PyResult<Py<RowOutcome>> {
        Ok(self.outcomes[seq_index(index, self.outcomes.len())?].clone_ref(py))
    }
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyList::new(py, &self.outcomes)?.try_iter()
    }
    fn __repr__(&self) -> String {
        let s = &self.summary.get().0;
        format!("BulkReport(rows={}, succeeded={}, failed={})", s.rows, s.succeeded, s.failed)
    }
}
