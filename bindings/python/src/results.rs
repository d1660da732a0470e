//! What a call returns, as Python objects: [`UpdateResult`] and its [`Outcome`]s, and [`PreparedRequest`].

use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList, PyString};
use zcrm_extid::response::{Outcome as CoreOutcome, UpdateResponse};

use crate::convert::json_map_to_py;

/// Python's `repr` of a string.
pub fn py_repr(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_string())
}

/// An index into a sequence of `len`, Python style (negative counts from the end).
pub fn seq_index(index: isize, len: usize) -> PyResult<usize> {
    let i = if index < 0 { index + len as isize } else { index };
    if i < 0 || i as usize >= len {
        return Err(PyIndexError::new_err(format!("index {index} out of range for {len} items")));
    }
    Ok(i as usize)
}

/// The result for one record: Zoho's success, or a per-record failure.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct Outcome {
    inner: CoreOutcome,
}

impl Outcome {
    pub fn new(inner: CoreOutcome) -> Self {
        Outcome { inner }
    }
}

#[pymethods]
impl Outcome {
    /// The record's 0-based position in the input.
    #[getter]
    fn index(&self) -> usize {
        self.inner.index
    }

    /// True when the record succeeded.
    #[getter]
    fn ok(&self) -> bool {
        self.inner.is_success()
    }

    /// `SUCCESS`, or the failure's code (Zoho's, e.g. `INVALID_DATA`, or the client's).
    #[getter]
    fn code(&self) -> &str {
        self.inner.code()
    }

    /// Zoho's message, e.g. `relation added`.
    #[getter]
    fn message(&self) -> &str {
        self.inner.message()
    }

    /// Zoho's `details` (a new dict on each access).
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        json_map_to_py(py, self.inner.details())
    }

    /// The Zoho record id in `details["id"]` (for a success: the related record's id), as `str`.
    #[getter]
    fn id(&self) -> Option<&str> {
        self.inner.id()
    }

    /// For a failure: the HTTP status of the response that carried it.
    #[getter]
    fn status(&self) -> Option<u16> {
        self.inner.result.as_ref().err().and_then(|f| f.status)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        outcome_repr(py, "Outcome", &format!("index={}", self.inner.index), &self.inner)
    }
}

/// `Name(<first>, ok=..., code=..., id=..., message=...)`.
pub fn outcome_repr(py: Python<'_>, name: &str, first: &str, o: &CoreOutcome) -> PyResult<String> {
    let id = match o.id() {
        Some(id) => py_repr(py, id)?,
        None => "None".to_owned(),
    };
    Ok(format!(
        "{name}({first}, ok={}, code={}, id={id}, message={})",
        if o.is_success() { "True" } else { "False" },
        py_repr(py, o.code())?,
        py_repr(py, o.message())?,
    ))
}

/// The result of one call: the HTTP status and one [`Outcome`] per record, in input order. Iterable, sized
/// and indexable like a list of outcomes.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct UpdateResult {
    status: u16,
    outcomes: Vec<Py<Outcome>>,
    credits_remaining: Option<u64>,
    succeeded: usize,
}

impl UpdateResult {
    pub fn new(py: Python<'_>, response: UpdateResponse) -> PyResult<Self> {
        let succeeded = response.outcomes.iter().filter(|o| o.is_success()).count();
        let outcomes =
            response.outcomes.into_iter().map(|o| Py::new(py, Outcome::new(o))).collect::<PyResult<Vec<_>>>()?;
        Ok(UpdateResult { status: response.status, outcomes, credits_remaining: response.credits_remaining, succeeded })
    }
}

#[pymethods]
impl UpdateResult {
    /// 200 (all succeeded), 207 (mixed) or 400 (all failed).
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

    fn __getitem__(&self, py: Python<'_>, index: isize) -> PyResult<Py<Outcome>> {
        Ok(self.outcomes[seq_index(index, self.outcomes.len())?].clone_ref(py))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyList::new(py, &self.outcomes)?.try_iter()
    }

    fn __repr__(&self) -> String {
        format!(
            "UpdateResult(status={}, succeeded={}, failed={})",
            self.status,
            self.succeeded,
            self.outcomes.len() - self.succeeded
        )
    }
}

/// A request built and validated but not sent: inspect it, or print it as curl. The access token never
/// shows: `headers` and `to_curl()` carry `Zoho-oauthtoken ***`.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct PreparedRequest {
    inner: zcrm_extid::PreparedRequest,
}

impl PreparedRequest {
    pub fn new(inner: zcrm_extid::PreparedRequest) -> Self {
        PreparedRequest { inner }
    }
}

#[pymethods]
impl PreparedRequest {
    /// `PUT`.
    #[getter]
    fn method(&self) -> &'static str {
        self.inner.method().as_str()
    }

    /// The full URL, path segments percent-encoded.
    #[getter]
    fn url(&self) -> &str {
        self.inner.url()
    }

    /// The headers in order, as `(name, value)`; `Authorization` (first, when a token is set) is redacted.
    #[getter]
    fn headers(&self) -> Vec<(&'static str, String)> {
        self.inner.redacted_headers()
    }

    /// The body text (compact JSON).
    #[getter]
    fn body(&self) -> &str {
        self.inner.body_str()
    }

    /// The request as a shell command, the token shown as `***`.
    fn to_curl(&self) -> String {
        self.inner.to_curl()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("PreparedRequest(method='{}', url={})", self.inner.method(), py_repr(py, self.inner.url())?))
    }
}

#[cfg(test)]
mod tests {
    use super::seq_index;

    #[test]
    fn python_style_indexes() {
        assert_eq!(seq_index(0, 3).unwrap(), 0);
        assert_eq!(seq_index(-1, 3).unwrap(), 2);
        assert!(seq_index(3, 3).is_err() && seq_index(-4, 3).is_err());
    }
}
