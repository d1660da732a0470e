//! `Client.upsert_many`: a bulk upsert over any Python iterable of row mappings (`df.to_dict("records")`,
//! `csv.DictReader`, a generator). Each row is read cell by cell ([`crate::cells`]) and becomes a record by the
//! core's mapping (`zcrm_extid::records::mapping`: key, lookups from columns, renames, skips; NaN/NaT/None
//! left out, date-times as Zoho's ISO text). Rows, progress, cancellation and the report are `bulk.rs`'s
//! [`Job`], as for `link_many`.

use pyo3::prelude::*;
use pyo3::types::PyMapping;
use zcrm_extid::InvalidInput;
use zcrm_extid::records::mapping::UpsertSettings;

use crate::bulk::{BulkReport, Job, bulk_settings, report};
use crate::cells::row_cells;
use crate::client::Client;
use crate::convert;
use crate::errors::invalid_input;
use crate::records::strings;

/// `upsert_many`'s keyword arguments.
pub struct UpsertArgs<'a, 'py> {
    pub module: String,
    pub key: String,
    pub lookups: Option<&'a Bound<'py, PyAny>>,
    pub columns: Option<&'a Bound<'py, PyAny>>,
    pub skip: Option<&'a Bound<'py, PyAny>>,
    pub duplicate_check_fields: Option<&'a Bound<'py, PyAny>>,
    pub external_fields: Option<&'a Bound<'py, PyAny>>,
    pub concurrency: Option<usize>,
    pub edition: Option<String>,
    pub batch_size: Option<usize>,
    pub window: Option<usize>,
    pub adaptive: Option<bool>,
    pub progress_interval: Option<f64>,
    pub reserve: Option<String>,
}

/// `{field: "Module.External_Field[:column]"}` as pairs; anything else names `lookups`.
fn lookups(obj: Option<&Bound<'_, PyAny>>) -> Result<Vec<(String, String)>, InvalidInput> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else { return Ok(Vec::new()) };
    let bad = || {
        InvalidInput::new(
            "lookups",
            format!(
                "must map lookup fields to \"Module.External_Field[:column]\" (e.g. {{\"Account_Name\": \"Accounts.External_Account_ID:account\"}}), not {}",
                convert::type_name(obj)
            ),
        )
    };
    let mapping = obj.cast::<PyMapping>().map_err(|_| bad())?;
    let items = mapping.items().map_err(|_| bad())?;
    items.iter().map(|pair| pair.extract::<(String, String)>().map_err(|_| bad())).collect()
}

/// Runs the job (see `Client.upsert_many`).
pub fn upsert_many(
    py: Python<'_>,
    client: &Client,
    rows: &Bound<'_, PyAny>,
    args: UpsertArgs<'_, '_>,
    on_progress: Option<Py<PyAny>>,
    on_outcome: Option<Py<PyAny>>,
    keep_outcomes: bool,
) -> PyResult<BulkReport> {
    let settings = (|| {
        Ok::<_, InvalidInput>(UpsertSettings {
            module: args.module,
            key: args.key,
            duplicate_check_fields: strings(args.duplicate_check_fields, "duplicate_check_fields")?,
            external_fields: strings(args.external_fields, "external_fields")?,
            lookups: lookups(args.lookups)?,
            columns: match args.columns.filter(|c| !c.is_none()) {
                Some(c) => convert::fields(c).map_err(|e| InvalidInput::new("columns", e.to_string()))?,
                None => Vec::new(),
            },
            skip: strings(args.skip, "skip")?.unwrap_or_default(),
        })
    })()
    .map_err(|e| invalid_input(py, e))?;
    let (spec, mapping) = settings.build().map_err(|e| invalid_input(py, e))?;
    let job_settings = bulk_settings(
        py,
        args.concurrency,
        args.edition,
        args.batch_size,
        args.window,
        args.adaptive,
        args.progress_interval,
        args.reserve,
    )?;
    let core = client.inner.clone();
    let job = Job::new(
        py,
        rows,
        Box::new(move |row, index| row_cells(row, index).and_then(|cells| mapping.record(index, cells))),
        job_settings,
        on_progress,
        Box::new(move |rows, options, on_outcome, on_progress, cancel| {
            core.upsert_many(&spec, options, rows, on_outcome, on_progress, cancel)
        }),
    )?;
    report(py, job, on_outcome, keep_outcomes)
}
