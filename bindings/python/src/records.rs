//! The records calls of `Client` (`get_records`, `iter_records`, `insert_records`, `update_records`,
//! `upsert_records`, `delete_records`, `search_records`, `prepare_records`): Python arguments -> the core's
//! [`RecordsArgs`], then the core's call with the GIL released. Every rule is the core's.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyString};
use zcrm_extid::InvalidInput;
use zcrm_extid::records::cells::Nulls;
use zcrm_extid::records::spec::{Ids, RecordsArgs, RecordsCall};

use crate::cells;
use crate::convert::type_name;
use crate::errors::invalid_input;
use crate::records_results::{RecordIterator, RecordsPage, RecordsResult};
use crate::results::PreparedRequest;
use crate::run::run;

/// A value that addresses a record: `str`, or `int` (data frames hold ids as integers).
fn address(obj: &Bound<'_, PyAny>, argument: &str) -> Result<String, InvalidInput> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_string());
    }
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
        return obj.str().map(|s| s.to_string()).map_err(|e| InvalidInput::new(argument, e.to_string()));
    }
    Err(InvalidInput::new(argument, format!("must be a str, not {}", type_name(obj))))
}

/// `ids`: one value (`str`/`int`: the single-record form) or an iterable of them (the `ids=` form).
pub fn ids(obj: Option<&Bound<'_, PyAny>>) -> Result<Option<Ids>, InvalidInput> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else { return Ok(None) };
    if obj.is_instance_of::<PyString>() || (obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>()) {
        return address(obj, "id").map(|v| Some(Ids::One(v)));
    }
    let iter = obj.try_iter().map_err(|_| {
        InvalidInput::new("ids", format!("must be a str or an iterable of str, not {}", type_name(obj)))
    })?;
    let mut out = Vec::new();
    for (i, item) in iter.enumerate() {
        let item = item.map_err(|e| InvalidInput::new("ids", e.to_string()))?;
        out.push(address(&item, &format!("ids[{i}]"))?);
    }
    Ok(Some(Ids::Many(out)))
}

/// A list of names or values: a `str` is one item, or any iterable of `str`.
pub fn strings(obj: Option<&Bound<'_, PyAny>>, argument: &str) -> Result<Option<Vec<String>>, InvalidInput> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else { return Ok(None) };
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyInt>() {
        return address(obj, argument).map(|v| Some(vec![v]));
    }
    let iter = obj.try_iter().map_err(|_| {
        InvalidInput::new(argument, format!("must be a str or an iterable of str, not {}", type_name(obj)))
    })?;
    let mut out = Vec::new();
    for (i, item) in iter.enumerate() {
        let item = item.map_err(|e| InvalidInput::new(argument, e.to_string()))?;
        out.push(address(&item, &format!("{argument}[{i}]"))?);
    }
    Ok(Some(out))
}

/// The records of a write: any iterable of mappings (`df.to_dict("records")` works), read by the core's cell
/// policy (NaN/NaT left out, date-times as ISO text, `None` sent as `null`).
pub fn records(obj: Option<&Bound<'_, PyAny>>) -> Result<Option<Vec<serde_json::Value>>, InvalidInput> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else { return Ok(None) };
    let iter = obj.try_iter().map_err(|_| {
        InvalidInput::new("data", format!("must be an iterable of records (dicts), not {}", type_name(obj)))
    })?;
    let mut out = Vec::new();
    for (index, item) in iter.enumerate() {
        let item = item.map_err(|e| InvalidInput::new("data", e.to_string()))?;
        out.push(cells::record(&item, index, Nulls::Keep)?);
    }
    Ok(Some(out))
}

/// Python arguments of a records call, converted (no defaults, no rules: the core's [`RecordsArgs`]).
#[derive(Default)]
pub struct Args<'a, 'py> {
    pub records: Option<&'a Bound<'py, PyAny>>,
    pub key: Option<String>,
    pub id: Option<&'a Bound<'py, PyAny>>,
    pub ids: Option<&'a Bound<'py, PyAny>>,
    pub values: Option<&'a Bound<'py, PyAny>>,
    pub fields: Option<&'a Bound<'py, PyAny>>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    pub page_token: Option<String>,
    pub external_fields: Option<&'a Bound<'py, PyAny>>,
    pub duplicate_check_fields: Option<&'a Bound<'py, PyAny>>,
}

impl Args<'_, '_> {
    /// The validated call of `operation` on `module`.
    pub fn build(self, py: Python<'_>, operation: &str, module: String) -> PyResult<RecordsCall> {
        let convert = || -> Result<RecordsArgs, InvalidInput> {
            Ok(RecordsArgs {
                operation: operation.to_owned(),
                module,
                records: records(self.records)?,
                key: self.key,
                id: self.id.filter(|o| !o.is_none()).map(|o| address(o, "id")).transpose()?,
                ids: ids(self.ids)?,
                values: strings(self.values, "values")?,
                fields: strings(self.fields, "fields")?,
                page: self.page,
                per_page: self.per_page,
                page_token: self.page_token,
                external_fields: strings(self.external_fields, "external_fields")?,
                duplicate_check_fields: strings(self.duplicate_check_fields, "duplicate_check_fields")?,
            })
        };
        convert().and_then(RecordsArgs::build).map_err(|e| invalid_input(py, e))
    }
}

/// Sends a write (insert, update, upsert, delete) through [`run`]: the GIL released, Ctrl-C and the thread's
/// `CancelScope` (an `aio` task cancelled) stop it.
pub fn write(py: Python<'_>, client: &zcrm_extid::Client, call: RecordsCall) -> PyResult<RecordsResult> {
    let response = run(py, |cancel| match &call {
        RecordsCall::Insert(c) => client.execute_cancellable(c, cancel).map(Some),
        RecordsCall::Update(c) => client.execute_cancellable(c, cancel).map(Some),
        RecordsCall::Upsert(c) => client.execute_cancellable(c, cancel).map(Some),
        RecordsCall::Delete(c) => client.execute_cancellable(c, cancel).map(Some),
        RecordsCall::Get(_) | RecordsCall::Search(_) => Ok(None),
    })?;
    match response {
        Some(response) => RecordsResult::new(py, response),
        None => Err(pyo3::exceptions::PyTypeError::new_err("not a write")),
    }
}

/// Sends a read (get, search) through [`run`], like [`write`].
pub fn read(py: Python<'_>, client: &zcrm_extid::Client, call: RecordsCall) -> PyResult<RecordsPage> {
    let page = run(py, |cancel| match &call {
        RecordsCall::Get(c) => client.execute_cancellable(c, cancel).map(Some),
        RecordsCall::Search(c) => client.execute_cancellable(c, cancel).map(Some),
        _ => Ok(None),
    })?;
    match page {
        Some(page) => RecordsPage::new(py, page),
        None => Err(pyo3::exceptions::PyTypeError::new_err("not a read")),
    }
}

/// The iterator of a read's records over every page.
pub fn iter(client: &zcrm_extid::Client, call: RecordsCall) -> PyResult<RecordIterator> {
    match call {
        RecordsCall::Get(c) => Ok(RecordIterator::new(client.record_pages(&c))),
        _ => Err(pyo3::exceptions::PyTypeError::new_err("not a read")),
    }
}

/// The HTTP request of a call, without sending it.
pub fn prepare(client: &zcrm_extid::Client, call: &RecordsCall) -> PreparedRequest {
    PreparedRequest::new(call.prepare(client.base_url(), client.api_version()))
}
