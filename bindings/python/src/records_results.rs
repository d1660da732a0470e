//! What the records calls return, as Python objects: [`RecordsResult`] of [`RecordOutcome`]s (writes),
//! [`RecordsPage`] (reads), and [`RecordIterator`] (the records of every page, fetched as it advances).

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList};
use zcrm_extid::records::{GetRecords, Pages, RecordOutcome as CoreOutcome, RecordsPage as CorePage, RecordsResponse};

use crate::convert::{json_map_to_py, to_py};
use crate::errors::to_py_err;
use crate::results::{outcome_repr, seq_index};

/// The result for one record of a records write.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct RecordOutcome {
    inner: CoreOutcome,
}

#[pymethods]
impl RecordOutcome {
    /// The record's 0-based position in the input.
    #[getter]
    fn index(&self) -> usize {
        self.inner.index()
    }

    /// True when the record succeeded.
    #[getter]
    fn ok(&self) -> bool {
        self.inner.is_success()
    }

    /// `SUCCESS`, or the failure's code (`DUPLICATE_DATA`, `INVALID_DATA`, ...).
    #[getter]
    fn code(&self) -> &str {
        self.inner.code()
    }

    /// Zoho's message (`record added`, `record updated`, ...).
    #[getter]
    fn message(&self) -> &str {
        self.inner.message()
    }

    /// Zoho's `details` (a new dict on each access).
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        json_map_to_py(py, self.inner.details())
    }

    /// The record's Zoho id (`details["id"]`), as `str`.
    #[getter]
    fn id(&self) -> Option<&str> {
        self.inner.id()
    }

    /// For a failure: the HTTP status of the response that carried it.
    #[getter]
    fn status(&self) -> Option<u16> {
        self.inner.outcome.result.as_ref().err().and_then(|f| f.status)
    }

    /// Upserts: `"insert"` or `"update"`.
    #[getter]
    fn action(&self) -> Option<&'static str> {
        self.inner.action.map(|a| a.as_str())
    }

    /// Upserts: the field whose value matched an existing record (`None` for an insert).
    #[getter]
    fn duplicate_field(&self) -> Option<&str> {
        self.inner.duplicate_field.as_deref()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let base = outcome_repr(py, "RecordOutcome", &format!("index={}", self.inner.index()), &self.inner.outcome)?;
        Ok(match self.inner.action {
            Some(a) => format!("{}, action='{}')", base.trim_end_matches(')'), a.as_str()),
            None => base,
        })
    }
}

/// The result of a records write: the HTTP status and one [`RecordOutcome`] per record, in input order.
/// Iterable, sized and indexable like a list of outcomes.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct RecordsResult {
    status: u16,
    outcomes: Vec<Py<RecordOutcome>>,
    credits_remaining: Option<u64>,
    succeeded: usize,
}

impl RecordsResult {
    pub fn new(py: Python<'_>, response: RecordsResponse) -> PyResult<Self> {
        let succeeded = response.outcomes.iter().filter(|o| o.is_success()).count();
        let outcomes = response
            .outcomes
            .into_iter()
            .map(|inner| Py::new(py, RecordOutcome { inner }))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(RecordsResult {
            status: response.status,
            outcomes,
            credits_remaining: response.credits_remaining,
            succeeded,
        })
    }
}

#[pymethods]
impl RecordsResult {
    /// 200 or 201 (all succeeded), 207 (mixed) or 400 (all failed).
    #[getter]
    fn status(&self) -> u16 {
        self.status
    }

    /// One outcome per record, in input order.
    #[getter]
    fn outcomes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, &self.outcomes)
    }

    /// `X-API-CREDITS-REMAINING`, which Zoho sends once half the day's credits are used.
    #[getter]
    fn credits_remaining(&self) -> Option<u64> {
        self.credits_remaining
    }

    /// True when every record succeeded.
    #[getter]
    fn all_succeeded(&self) -> bool {
        self.succeeded == self.outcomes.len()
    }

    /// How many records succeeded.
    #[getter]
    fn succeeded(&self) -> usize {
        self.succeeded
    }

    /// How many records failed.
    #[getter]
    fn failed(&self) -> usize {
        self.outcomes.len() - self.succeeded
    }

    fn __len__(&self) -> usize {
        self.outcomes.len()
    }

    fn __getitem__(&self, py: Python<'_>, index: isize) -> PyResult<Py<RecordOutcome>> {
        Ok(self.outcomes[seq_index(index, self.outcomes.len())?].clone_ref(py))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyList::new(py, &self.outcomes)?.try_iter()
    }

    fn __repr__(&self) -> String {
        format!("RecordsResult(status={}, succeeded={}, failed={})", self.status, self.succeeded, self.failed())
    }
}

/// One page of records (a read or a search): the records as dicts, and the page's `info`. Iterable, sized and
/// indexable like a list of records. No match is an empty page (Zoho's 204).
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct RecordsPage {
    records: Py<PyList>,
    info: Option<Py<PyDict>>,
    more_records: bool,
    credits_remaining: Option<u64>,
}

impl RecordsPage {
    pub fn new(py: Python<'_>, page: CorePage) -> PyResult<Self> {
        let more_records = page.more_records();
        let list = PyList::empty(py);
        for r in &page.records {
            list.append(json_map_to_py(py, r)?)?;
        }
        let info = match &page.info {
            Some(i) => {
                let d = PyDict::new(py);
                d.set_item("per_page", i.per_page)?;
                d.set_item("count", i.count)?;
                d.set_item("page", i.page)?;
                d.set_item("more_records", i.more_records)?;
                d.set_item("next_page_token", &i.next_page_token)?;
                Some(d.unbind())
            }
            None => None,
        };
        Ok(RecordsPage { records: list.unbind(), info, more_records, credits_remaining: page.credits_remaining })
    }
}

#[pymethods]
impl RecordsPage {
    /// The records (dicts), in the server's order.
    #[getter]
    fn records(&self, py: Python<'_>) -> Py<PyList> {
        self.records.clone_ref(py)
    }

    /// `info` (`per_page`, `count`, `page`, `more_records`, `next_page_token`), or `None` (a single record).
    #[getter]
    fn info(&self, py: Python<'_>) -> Option<Py<PyDict>> {
        self.info.as_ref().map(|i| i.clone_ref(py))
    }

    /// Whether another page follows.
    #[getter]
    fn more_records(&self) -> bool {
        self.more_records
    }

    /// `X-API-CREDITS-REMAINING`, if sent.
    #[getter]
    fn credits_remaining(&self) -> Option<u64> {
        self.credits_remaining
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.records.bind(py).len()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, index: isize) -> PyResult<Bound<'py, PyAny>> {
        let list = self.records.bind(py);
        list.get_item(seq_index(index, list.len())?)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.records.bind(py).try_iter()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "RecordsPage(records={}, more_records={})",
            self.records.bind(py).len(),
            if self.more_records { "True" } else { "False" }
        )
    }
}

/// The records of every page of a read, one dict at a time; pages are fetched (GIL released) as it advances.
#[pyclass(module = "zcrm_extid._native")]
pub struct RecordIterator {
    pages: Mutex<Pages<GetRecords>>,
    buffered: std::collections::VecDeque<serde_json::Map<String, serde_json::Value>>,
}

impl RecordIterator {
    pub fn new(pages: Pages<GetRecords>) -> Self {
        RecordIterator { pages: Mutex::new(pages), buffered: Default::default() }
    }
}

#[pymethods]
impl RecordIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        while self.buffered.is_empty() {
            let pages = &self.pages;
            let next = crate::logging::detach(py, || pages.lock().unwrap_or_else(|p| p.into_inner()).next());
            match next {
                None => return Ok(None),
                Some(Ok(page)) => self.buffered.extend(page.records),
                Some(Err(e)) => return Err(to_py_err(py, e)),
            }
        }
        let record = self.buffered.pop_front().expect("not empty");
        to_py(py, &serde_json::Value::Object(record)).map(Some)
    }
}
