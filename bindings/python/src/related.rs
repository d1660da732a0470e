//! Reading and unlinking related records: Python arguments -> the core's `GetRelatedSpec` / `DeleteRelatedSpec`,
//! and the core's pages and rows -> `RelatedResult`, `RelatedRow`, `PageInfo`, `RelatedIterator`. The `Client`
//! methods (client.rs) call these; every rule is the core's.

use std::sync::Mutex;

use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList, PyString};
use zcrm_extid::related_specs::{DeleteRelatedSpec, GetRelatedSpec};
use zcrm_extid::{
    DeleteRelated, GetRelated, PageInfo as CorePageInfo, RelatedResponse, RelatedRow as CoreRow, RelatedRows,
};

use crate::convert::{self, json_map_to_py, type_name};
use crate::errors::{invalid_input, to_py_err};
use crate::results::{py_repr, seq_index};

/// Keyword arguments of a read, as Python gave them.
pub struct GetArgs<'a, 'py> {
    pub module: String,
    pub parent: &'a Bound<'py, PyAny>,
    pub related_list: String,
    pub fields: Option<&'a Bound<'py, PyAny>>,
    pub related: Option<&'a Bound<'py, PyAny>>,
    pub ids: Option<&'a Bound<'py, PyAny>>,
    pub related_field: Option<String>,
    pub related_module: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    pub page_token: Option<String>,
    pub if_modified_since: Option<&'a Bound<'py, PyAny>>,
}

/// A value given as `str` or `int` (record ids from data frames), as text.
fn text(obj: &Bound<'_, PyAny>, argument: &str) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_string());
    }
    if obj.is_instance_of::<pyo3::types::PyInt>() && !obj.is_instance_of::<pyo3::types::PyBool>() {
        return Ok(obj.str()?.to_string());
    }
    Err(invalid_input(
        obj.py(),
        zcrm_extid::InvalidInput::new(argument, format!("must be str, not {}", type_name(obj))),
    ))
}

/// One `str`, or an iterable of them (a `str` is one value, not its characters).
fn texts(obj: &Bound<'_, PyAny>, argument: &str) -> PyResult<Vec<String>> {
    if obj.is_instance_of::<PyString>() {
        return Ok(vec![text(obj, argument)?]);
    }
    let iter = obj.try_iter().map_err(|_| {
        invalid_input(
            obj.py(),
            zcrm_extid::InvalidInput::new(
                argument,
                format!("must be str or an iterable of str, not {}", type_name(obj)),
            ),
        )
    })?;
    iter.map(|item| text(&item?, argument)).collect()
}

/// `str` as is; a `datetime` through its own `isoformat()` (the core checks that it has a zone).
fn datetime_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if obj.is_instance_of::<PyString>() {
        return text(obj, "if_modified_since");
    }
    if obj.hasattr("isoformat")? && obj.hasattr("tzinfo")? {
        return Ok(obj.call_method0("isoformat")?.str()?.to_string());
    }
    Err(invalid_input(
        obj.py(),
        zcrm_extid::InvalidInput::new("if_modified_since", format!("must be str or datetime, not {}", type_name(obj))),
    ))
}

/// The core's validated read.
pub fn get_request(py: Python<'_>, a: GetArgs<'_, '_>) -> PyResult<GetRelated> {
    let spec = GetRelatedSpec {
        module: a.module,
        parent: convert::parent(a.parent)?,
        related_list: a.related_list,
        related_module: a.related_module,
        related_field: a.related_field,
        related: a.related.map(|r| text(r, "related")).transpose()?,
        ids: a.ids.map(|i| texts(i, "ids")).transpose()?,
        fields: a.fields.map(|f| texts(f, "fields")).transpose()?.unwrap_or_default(),
        page: a.page,
        per_page: a.per_page,
        page_token: a.page_token,
        if_modified_since: a.if_modified_since.map(datetime_text).transpose()?,
    };
    spec.build().map_err(|e| invalid_input(py, e))
}

/// The core's validated unlink.
pub fn delete_request(
    py: Python<'_>,
    module: String,
    parent: &Bound<'_, PyAny>,
    related_list: String,
    values: &Bound<'_, PyAny>,
    related_field: Option<String>,
    related_module: Option<String>,
) -> PyResult<DeleteRelated> {
    let spec = DeleteRelatedSpec {
        module,
        parent: convert::parent(parent)?,
        related_list,
        related_module,
        related_field,
        values: texts(values, "ids")?,
    };
    spec.build().map_err(|e| invalid_input(py, e))
}

/// One related record: its Zoho `id` (always `str`) and its other keys in `fields`; `row["Stage"]` reads a field.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct RelatedRow {
    inner: CoreRow,
}

#[pymethods]
impl RelatedRow {
    /// The related record's Zoho id.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    /// Every other key Zoho sent (the requested fields, relation fields such as `Contact_Role`), as a new dict.
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        json_map_to_py(py, &self.inner.fields)
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.inner.fields.get(key) {
            Some(v) => convert::to_py(py, v),
            None if key == "id" => Ok(PyString::new(py, &self.inner.id).into_any()),
            None => Err(PyKeyError::new_err(key.to_owned())),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "RelatedRow(id={}, fields={})",
            py_repr(py, &self.inner.id)?,
            json_map_to_py(py, &self.inner.fields)?.repr()?
        ))
    }
}

/// The `info` of a list read: paging state (`None` for what Zoho did not send).
#[pyclass(module = "zcrm_extid._native", frozen, get_all)]
pub struct PageInfo {
    /// Records per page.
    per_page: Option<u32>,
    /// Records on this page.
    count: Option<u32>,
    /// This page's number.
    page: Option<u32>,
    /// Whether more records follow.
    more_records: bool,
    /// The next page's token (v7, v8).
    next_page_token: Option<String>,
    /// The previous page's token (v7, v8).
    previous_page_token: Option<String>,
    /// When `next_page_token` expires (ISO 8601).
    page_token_expiry: Option<String>,
}

impl From<CorePageInfo> for PageInfo {
    fn from(i: CorePageInfo) -> Self {
        PageInfo {
            per_page: i.per_page,
            count: i.count,
            page: i.page,
            more_records: i.more_records,
            next_page_token: i.next_page_token,
            previous_page_token: i.previous_page_token,
            page_token_expiry: i.page_token_expiry,
        }
    }
}

#[pymethods]
impl PageInfo {
    fn __repr__(&self) -> String {
        format!(
            "PageInfo(page={:?}, count={:?}, per_page={:?}, more_records={})",
            self.page, self.count, self.per_page, self.more_records
        )
    }
}

/// The answer to one read: rows (none for a 204 or a 304), `info` for list reads, `not_modified` for a 304.
/// Iterable, sized and indexable like a list of rows.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct RelatedResult {
    status: u16,
    rows: Vec<Py<RelatedRow>>,
    info: Option<Py<PageInfo>>,
    not_modified: bool,
    credits_remaining: Option<u64>,
}

impl RelatedResult {
    pub fn new(py: Python<'_>, response: RelatedResponse) -> PyResult<Self> {
        let Some(page) = response.into_page() else {
            return Ok(RelatedResult {
                status: 304,
                rows: Vec::new(),
                info: None,
                not_modified: true,
                credits_remaining: None,
            });
        };
        let rows = page.rows.into_iter().map(|r| Py::new(py, RelatedRow { inner: r })).collect::<PyResult<_>>()?;
        let info = page.info.map(|i| Py::new(py, PageInfo::from(i))).transpose()?;
        Ok(RelatedResult {
            status: page.status,
            rows,
            info,
            not_modified: false,
            credits_remaining: page.credits_remaining,
        })
    }
}

#[pymethods]
impl RelatedResult {
    /// 200, 204 (no related records) or 304 (not modified).
    #[getter]
    fn status(&self) -> u16 {
        self.status
    }

    /// The rows, in Zoho's order.
    #[getter]
    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, &self.rows)
    }

    /// `info` (list reads), else `None`.
    #[getter]
    fn info(&self, py: Python<'_>) -> Option<Py<PageInfo>> {
        self.info.as_ref().map(|i| i.clone_ref(py))
    }

    /// True for a 304: nothing changed since `if_modified_since`.
    #[getter]
    fn not_modified(&self) -> bool {
        self.not_modified
    }

    /// `X-API-CREDITS-REMAINING`, sent once half the day's credits are used.
    #[getter]
    fn credits_remaining(&self) -> Option<u64> {
        self.credits_remaining
    }

    fn __len__(&self) -> usize {
        self.rows.len()
    }

    fn __getitem__(&self, py: Python<'_>, index: isize) -> PyResult<Py<RelatedRow>> {
        Ok(self.rows[seq_index(index, self.rows.len())?].clone_ref(py))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyList::new(py, &self.rows)?.try_iter()
    }

    fn __repr__(&self) -> String {
        format!(
            "RelatedResult(status={}, rows={}, not_modified={})",
            self.status,
            self.rows.len(),
            if self.not_modified { "True" } else { "False" }
        )
    }
}

/// Every related record of a read, fetched page by page (one page in memory) with the GIL released while a
/// page is fetched. An error ends the iteration by being raised from `next()`.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct RelatedIterator {
    rows: Mutex<RelatedRows>,
}

impl RelatedIterator {
    pub fn new(rows: RelatedRows) -> Self {
        RelatedIterator { rows: Mutex::new(rows) }
    }
}

#[pymethods]
impl RelatedIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<RelatedRow>> {
        let rows = &self.rows;
        let buffered = rows.lock().unwrap_or_else(|p| p.into_inner()).next_buffered();
        let next = match buffered {
            Some(row) => Some(Ok(row)),
            None => crate::logging::detach(py, || rows.lock().unwrap_or_else(|p| p.into_inner()).next()),
        };
        match next {
            None => Ok(None),
            Some(Ok(row)) => Ok(Some(RelatedRow { inner: row })),
            Some(Err(e)) => Err(to_py_err(py, e)),
        }
    }

    /// True when the server answered 304 (nothing changed since `if_modified_since`).
    #[getter]
    fn not_modified(&self) -> bool {
        self.rows.lock().unwrap_or_else(|p| p.into_inner()).not_modified()
    }

    /// Pages received so far.
    #[getter]
    fn pages_fetched(&self) -> usize {
        self.rows.lock().unwrap_or_else(|p| p.into_inner()).pages_fetched()
    }

    fn __repr__(&self) -> String {
        format!("RelatedIterator(pages_fetched={})", self.pages_fetched())
    }
}
