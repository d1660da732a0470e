//! `Client.link_many` and `Client.unlink_many`: a bulk job over any Python iterable of row mappings, run by the
//! core's engine with the GIL released. The two differ only in the core call ([`Job`]); rows, options,
//! progress, cancellation and the report are this file's, once.
//!
//! The GIL is released while the job runs. It is re-attached only to pull the next row from the Python iterator and to call the
//! progress callback, so a generator of a million rows is never materialised. An exception from the iterator
//! or the callback, or a signal (Ctrl-C), cancels the job through the core's [`Cancel`]: calls in flight
//! finish, then the exception is raised with the partial report attached as `bulk_report`. A job stopped by
//! the core's circuit breaker raises the error that stopped it, with the report attached the same way.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyMapping, PyString};
use serde_json::{Map, Value};
use zcrm_extid::bulk::{
    BulkOptions, BulkRow, BulkSummary as CoreSummary, Cancel, Progress as CoreProgress, RowMapping,
    RowOutcome as CoreRowOutcome,
};
use zcrm_extid::settings::{BulkSettings, MappingSettings};
use zcrm_extid::{Error, InvalidInput};

use crate::bulk_report::{BulkReport, Progress};
use crate::client::Client;
use crate::convert;
use crate::errors::{invalid_input, to_py_err};

/// Reads rows from a Python iterator, one GIL attachment per row.
pub(crate) struct PyRows<'a> {
    iter: &'a Py<PyIterator>,
    mapping: &'a RowMapping,
    /// The columns the mapping reads (parent, key, named relation fields): only these are converted.
    columns: Vec<String>,
    /// With `extra="error"`: read every column name, to find those that are not mapped.
    all_names: bool,
    next_row: usize,
    stop: &'a Stop,
}

impl<'a> PyRows<'a> {
    /// Rows of `iter` read through `mapping`; an exception of the iterator stops `stop`.
    pub(crate) fn new(iter: &'a Py<PyIterator>, mapping: &'a RowMapping, all_names: bool, stop: &'a Stop) -> Self {
        let columns = mapping.required_columns().into_iter().map(str::to_owned).collect();
        PyRows { iter, mapping, columns, all_names, next_row: 0, stop }
    }
}

/// The first Python exception of the job (from the iterator, the callback or a signal), which cancels it.
pub(crate) struct Stop {
    error: Mutex<Option<PyErr>>,
    pub(crate) cancel: Cancel,
}

impl Default for Stop {
    fn default() -> Self {
        Stop { error: Mutex::new(None), cancel: Cancel::new() }
    }
}

impl Stop {
    pub(crate) fn fail(&self, err: PyErr) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(err);
        }
        self.cancel.cancel();
    }

    pub(crate) fn failed(&self) -> bool {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    pub(crate) fn take(&self) -> Option<PyErr> {
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
                    Some(cells(&row, index, &self.columns, self.all_names).and_then(|(cells, names)| {
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

/// Job settings from the Python keyword arguments (the same for every bulk job over pairs).
pub struct ManyArgs {
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

impl ManyArgs {
    /// The core's mapping of rows for `parent` and `related` (`Module.Field`).
    pub(crate) fn mapping(&self, parent: &str, related: &str) -> MappingSettings {
        MappingSettings {
            parent: parent.to_owned(),
            related: related.to_owned(),
            related_list: self.related_list.clone(),
            parent_column: self.parent_column.clone(),
            related_column: self.related_column.clone(),
            fields: self.fields.clone(),
            extra: self.extra.clone(),
        }
    }

    /// The core's options (a sized input gives progress an ETA).
    pub(crate) fn options(&self, expected_rows: Option<u64>) -> Result<BulkOptions, Error> {
        let options = BulkSettings {
            concurrency: self.concurrency,
            edition: self.edition.clone(),
            batch_size: self.batch_size,
            window: self.window,
            adaptive: None,
            progress_interval: convert::seconds(self.progress_interval, "progress_interval")?,
        }
        .options()?;
        Ok(BulkOptions { expected_rows, ..options })
    }
}

/// Which bulk job over pairs runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// `Client.link_many`.
    Link,
    /// `Client.unlink_many` (relation fields are read as mapped columns, not sent).
    Unlink,
}

/// An iterable of rows as a Python iterator, or `InvalidInputError` naming `rows`.
pub(crate) fn iterate(py: Python<'_>, rows: &Bound<'_, PyAny>) -> PyResult<Py<PyIterator>> {
    let iter = rows.try_iter().map_err(|_| {
        invalid_input(py, InvalidInput::new("rows", format!("must be iterable, not {}", convert::type_name(rows))))
    })?;
    Ok(iter.unbind())
}

/// The progress callback of a job: checks for signals, calls `on_progress` (if given) with a `Progress`, and
/// stops the job on an exception of either.
pub(crate) fn report_progress<'a>(
    stop: &'a Stop,
    on_progress: &'a Option<Py<PyAny>>,
) -> impl FnMut(&CoreProgress) + 'a {
    move |p: &CoreProgress| {
        Python::attach(|py| {
            if let Err(e) = py.check_signals() {
                stop.fail(e);
            }
            if let (Some(callback), false) = (on_progress, stop.failed()) {
                let result = Py::new(py, Progress(p.clone())).and_then(|progress| callback.bind(py).call1((progress,)));
                if let Err(e) = result {
                    stop.fail(e);
                }
            }
        })
    }
}

/// The report of a finished job, or the exception that stopped it (the Python one first, then the breaker's)
/// with the report attached as `bulk_report`.
pub(crate) fn finish(
    py: Python<'_>,
    summary: Result<CoreSummary, Error>,
    outcomes: Vec<CoreRowOutcome>,
    stop: &Stop,
) -> PyResult<BulkReport> {
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

/// Runs the job; see the module docs.
#[allow(clippy::too_many_arguments)]
pub fn run_many(
    py: Python<'_>,
    client: &Client,
    job: Job,
    rows: &Bound<'_, PyAny>,
    parent: &str,
    related: &str,
    args: ManyArgs,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<BulkReport> {
    let all_names = args.extra.as_deref() == Some("error");
    let (spec, mapping) = args.mapping(parent, related).build().map_err(|e| invalid_input(py, e))?;
    // A sized input (a list, a DataFrame's records) gives progress an ETA.
    let options = args.options(rows.len().ok().map(|n| n as u64)).map_err(|e| to_py_err(py, e))?;
    let iter = iterate(py, rows)?;
    let stop = Stop::default();
    let core = &client.inner;
    let (summary, outcomes) = py.detach(|| {
        let mut outcomes = Vec::new();
        let mut rows = PyRows::new(&iter, &mapping, all_names, &stop);
        let mut progress = report_progress(&stop, &on_progress);
        let on_outcome = &mut |o| outcomes.push(o);
        let summary = match job {
            Job::Link => core.link_many(&spec, &options, &mut rows, on_outcome, &mut progress, &stop.cancel),
            Job::Unlink => core.unlink_many(&spec, &options, &mut rows, on_outcome, &mut progress, &stop.cancel),
        };
        (summary, outcomes)
    });
    finish(py, summary, outcomes, &stop)
}
