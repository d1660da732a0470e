//! `client.upsertMany(rows, options)`: the JS rows become records by the core's mapping
//! (`zcrm_extid::records::mapping`: key, lookups from columns, renames, skips), read cell by cell as the records
//! calls read them (`undefined`, `null`, `NaN` left out; a `Date` as Zoho's ISO text); options, progress,
//! `signal` and the report are `bulk.rs`'s, as for `linkMany`.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::UnknownReturnValue;
use napi_derive::napi;
use serde_json::{Map, Value};
use zcrm_extid::InvalidInput;
use zcrm_extid::records::mapping::UpsertSettings;

use crate::bulk::{Job, Progress, RunJob, options, string_pairs};
use crate::convert::CoreResult;
use crate::records::cells;

/// How `upsertMany` reads rows and runs the job.
#[napi(object, object_to_js = false)]
pub struct UpsertManyOptions<'a> {
    /// The module, e.g. `Contacts`.
    pub module: String,
    /// The module's external field identifying each record, e.g. `External_Contact_ID` (the duplicate check,
    /// unless `duplicateCheckFields` names others: the key is then checked last).
    pub key: String,
    /// Lookups by external ID from columns: lookup field -> `Module.External_Field[:column]` (the column
    /// defaults to the field), e.g. `{ Account_Name: 'Accounts.External_Account_ID:accountId' }`.
    #[napi(ts_type = "Record<string, string>")]
    pub lookups: Option<Map<String, Value>>,
    /// Renamed columns: API name -> row property.
    #[napi(ts_type = "Record<string, string>")]
    pub columns: Option<Map<String, Value>>,
    /// Row properties never sent.
    pub skip: Option<Vec<String>>,
    /// The fields Zoho checks for an existing record, in order (default: the key).
    pub duplicate_check_fields: Option<Vec<String>>,
    /// External fields that lookup objects in the rows use, `Module.Field` (rows holding nested lookups).
    pub external_fields: Option<Vec<String>>,
    /// Most calls on the wire at once (calls of more than 10 records: at most 10, Zoho's sub-concurrency).
    pub concurrency: Option<f64>,
    /// Zoho edition (`free` ... `ultimate`) whose concurrency limit applies when `concurrency` is not given.
    pub edition: Option<String>,
    /// Records per call, 1 to 100.
    pub batch_size: Option<f64>,
    /// Most rows buffered for grouping by lookup shape.
    pub window: Option<f64>,
    /// Lower the concurrency when Zoho answers 429 (default true).
    pub adaptive: Option<bool>,
    /// Least time between two progress reports, ms.
    pub progress_interval_ms: Option<f64>,
    /// Called on the JS thread with the job's progress, as for `linkMany`.
    #[napi(ts_type = "(progress: Progress) => void")]
    pub on_progress: Option<Function<'a, Progress, UnknownReturnValue>>,
    /// Cancels the job when aborted, as for `linkMany`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// The rows and options as the core's job; rows are read here, on the JS thread, once (a row that cannot be
/// used becomes its own `INVALID_INPUT` outcome).
pub fn job(rows: Unknown, o: &UpsertManyOptions) -> CoreResult<Job> {
    let (spec, mapping) = UpsertSettings {
        module: o.module.clone(),
        key: o.key.clone(),
        duplicate_check_fields: o.duplicate_check_fields.clone(),
        external_fields: o.external_fields.clone(),
        lookups: o.lookups.as_ref().map(|l| string_pairs(l, "lookups")).transpose()?.unwrap_or_default(),
        columns: o.columns.as_ref().map(|c| string_pairs(c, "columns")).transpose()?.unwrap_or_default(),
        skip: o.skip.clone().unwrap_or_default(),
    }
    .build()?;
    let rows = crate::convert::args::<Array>(rows, "rows")?;
    let options = options(
        o.concurrency,
        o.edition.clone(),
        o.batch_size,
        o.window,
        o.adaptive,
        o.progress_interval_ms,
        rows.len(),
    )?;
    let rows: Vec<std::result::Result<Value, InvalidInput>> = (0..rows.len())
        .map(|i| {
            let index = i as usize;
            let row = match rows.get::<Unknown>(i) {
                Ok(Some(v)) => cells(v, index).map_err(|e| match e {
                    zcrm_extid::Error::InvalidInput(e) => e,
                    other => InvalidInput::new("data", other.to_string()).at(index),
                })?,
                Ok(None) => Err(Value::Null),
                Err(e) => return Err(InvalidInput::new("data", e.reason).at(index)),
            };
            match row {
                Ok(cells) => mapping.record(index, cells),
                Err(_) => Err(InvalidInput::new("data", "must be an object of field name to value").at(index)),
            }
        })
        .collect();
    let run: RunJob = Box::new(move |client, options, on_outcome, on_progress, cancel| {
        client.upsert_many(&spec, options, rows, on_outcome, on_progress, cancel)
    });
    Ok(Job { options, run })
}
