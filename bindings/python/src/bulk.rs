//! `Client.link_many`: a bulk job over any Python iterable of row mappings, run by the core's engine with the
//! GIL released. The GIL is re-attached only to pull the next row from the Python iterator and to call the
//! progress callback, so a generator of a million rows is never materialised. An exception from the iterator
//! or the callback, or a signal (Ctrl-C), cancels the job through the core's [`Cancel`]: calls in flight
//! finish, then the exception is raised with the partial report attached as `bulk_report`. A job stopped by
//! the core's circuit breaker raises the error that stopped it, with the report attached the same way.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList, PyMapping, PyString};
use serde_json::{Map, Value};
use zcrm_extid::InvalidInput;
use zcrm_extid::bulk::{
    BulkRow, BulkSummary as CoreSummary, Cancel, Progress as CoreProgress, RowMapping, RowOutcome as CoreRowOutcome,
};
use zcrm_extid::settings::{BulkSettings, MappingSettings};

use crate::client::Client;
use crate::convert;
use crate::convert::json_map_to_py as details_dict;
use crate::errors::{invalid_input, to_py_err};
use crate::results::{outcome_repr, py_repr, seq_index};

/// Reads rows from a Python iterator, one GIL attachment per row.
struct PyRows<'a> {
    iter: &'a Py<PyIterator>,
    mapping: &'a RowMapping,
    /// The columns the mapping reads (parent, key, named relation fields): only these are converted.
    columns: &'a [String],
    /// With `extra="error"`: read every column name, to find those that are not mapped.
    all_names: bool,
    next_row: usize,
    stop: &'a Stop,
}

/// The first Python exception of the job (from the iterator, the callback or a signal), which cancels it.
struct Stop {
    error: Mutex<Option<PyErr>>,
    cancel: Cancel,
}

impl Stop {
    fn fail(&self, err: PyErr) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(err);
        }
        self.cancel.cancel();
    }

    fn failed(&self) -> bool {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    fn take(&self) -> Option<PyErr> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl Iterator for PyRows<'_> {
    type Item = Result<BulkRow, InvalidInput>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.stop.failed() {
            return None;
        }
        Python::attach(|py| {
            if let Err(e) = py.check_signals() {
                self.stop.fail(e);
                return None;
            }
            match self.iter.bind(py).clone().next()? {
                Err(e) => {
                    self.stop.fail(e);
                    None
                }
                Ok(row) => {
                    let index = self.next_row;
                    self.next_row += 1;
                    Some(cells(&row, index, self.columns, self.all_names).and_then(|(cells, names)| {
                        self.mapping.map_row(index, &|c| cells.get(c).cloned(), &mut names.iter().map(String::as_str))
                    }))
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
    pub related_list: Option<String>,
    pub parent_column: Option<String>,
    pub related_column: Option<String>,
    pub fields: Option<Vec<(String, String)>>,
    pub extra: Option<String>,
    pub concurrency: Option<usize>,
    pub edition: Option<String>,
    pub batch_size: Option<usize>,
    pub window: Option<usize>,
    pub progress_interval: Option<f64>,
}

/// Runs the job; see the module docs.
pub fn link_many(
    py: Python<'_>,
    client: &Client,
    rows: &Bound<'_, PyAny>,
    parent: &str,
    related: &str,
    args: LinkArgs,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<BulkReport> {
    let all_names = args.extra.as_deref() == Some("error");
    let (spec, mapping) = MappingSettings {
        parent: parent.to_owned(),
        related: related.to_owned(),
        related_list: args.related_list,
        parent_column: args.parent_column,
        related_column: args.related_column,
        fields: args.fields,
        extra: args.extra,
    }
    .build()
    .map_err(|e| invalid_input(py, e))?;
    let columns: Vec<String> = mapping.required_columns().into_iter().map(str::to_owned).collect();
    // A sized input (a list, a DataFrame's records) gives progress an ETA.
    let expected_rows = rows.len().ok().map(|n| n as u64);
    let options = BulkSettings {
        concurrency: args.concurrency,
        edition: args.edition,
        batch_size: args.batch_size,
        window: args.window,
        adaptive: None,
        progress_interval: convert::seconds(args.progress_interval, "progress_interval")
            .map_err(|e| to_py_err(py, e))?,
    }
    .options()
    .map(|o| zcrm_extid::bulk::BulkOptions { expected_rows, ..o })
    .map_err(|e| to_py_err(py, e))?;
    let iter = rows.try_iter().map_err(|_| {
        invalid_input(py, InvalidInput::new("rows", format!("must be iterable, not {}", convert::type_name(rows))))
    })?;
    let iter = iter.unbind();
    let stop = Stop { error: Mutex::new(None), cancel: Cancel::new() };
    let core = &client.inner;

    let (summary, outcomes) = crate::logging::detach(py, || {
        let mut outcomes = Vec::new();
        let mut rows =
            PyRows { iter: &iter, mapping: &mapping, columns: &columns, all_names, next_row: 0, stop: &stop };
        let mut report_progress = |p: &CoreProgress| {
            Python::attach(|py| {
                if let Err(e) = py.check_signals() {
                    stop.fail(e);
                }
                if let (Some(callback), false) = (&on_progress, stop.failed()) {
                    let result =
                        Py::new(py, Progress(p.clone())).and_then(|progress| callback.bind(py).call1((progress,)));
                    if let Err(e) = result {
                        stop.fail(e);
                    }
                }
            })
        };
        let summary =
            core.link_many(&spec, &options, &mut rows, &mut |o| outcomes.push(o), &mut report_progress, &stop.cancel);
        (summary, outcomes)
    });
    let summary = summary.map_err(|e| to_py_err(py, e))?;
    let stopped = summary.stopped.clone();
    let report = BulkReport::new(py, summary, outcomes)?;
    match stop.take().or_else(|| stopped.map(|e| to_py_err(py, e))) {
        None => Ok(report),
        Some(err) => {
            // The exception carries what was done before the job stopped; an exception type that takes no
            // attributes just goes without it.
            let _ = err.value(py).setattr("bulk_report", Py::new(py, report)?);
            Err(err)
        }
    }
}

/// Progress of a running job, passed to `on_progress` (see `Client.link_many` for driving a tqdm bar with it).
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct Progress(CoreProgress);

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
pub struct RowOutcome(CoreRowOutcome);

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
    /// True when the row was linked.
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
