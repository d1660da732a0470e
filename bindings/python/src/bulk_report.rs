//! The results of a bulk job as Python objects: `Progress` (passed to `on_progress`), `RowOutcome`, `BulkSummary`
//! and `BulkReport`. Shared by `link_many`, `unlink_many` and `Plan.apply`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList};
use zcrm_extid::bulk::{BulkSummary as CoreSummary, Progress as CoreProgress, RowOutcome as CoreRowOutcome};

use crate::convert::json_map_to_py as details_dict;
use crate::results::{outcome_repr, py_repr, seq_index};

/// Progress of a running job, passed to `on_progress` (see `Client.link_many` for driving a tqdm bar with it).
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct Progress(pub(crate) CoreProgress);

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
    pub(crate) fn new(py: Python<'_>, summary: CoreSummary, mut outcomes: Vec<CoreRowOutcome>) -> PyResult<Self> {
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
