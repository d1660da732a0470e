//! `client.upsertMany(rows, options)`: the JS rows become records by the core's mapping
//! (`zcrm_extid::records::mapping`: key, lookups from columns, renames, skips), read cell by cell as the records
//! calls read them (`undefined`, `null`, `NaN` left out; a `Date` as Zoho's ISO text). Rows from any (async)
//! iterable, options, hooks, `signal` and the report are [`crate::bulk::run_job`]'s, as for `linkMany`.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::UnknownReturnValue;
use napi_derive::napi;
use serde_json::{Map, Value};
use zcrm_extid::records::mapping::UpsertSettings;
use zcrm_extid::{Client as CoreClient, Error, InvalidInput};

use crate::bulk::{Job, JobHooks, Progress, RowOutcome, Tuning, run_job, string_pairs};
use crate::convert::{self, CoreResult};
use crate::records::cells;
use crate::rows::Convert;

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
    /// Zoho edition whose concurrency limit applies when `concurrency` is not given.
    #[napi(ts_type = "Edition")]
    pub edition: Option<String>,
    /// Records per call, 1 to 100.
    pub batch_size: Option<f64>,
    /// Most rows buffered for grouping by lookup shape.
    pub window: Option<f64>,
    /// Lower the concurrency when Zoho answers 429 (default true).
    pub adaptive: Option<bool>,
    /// Least time between two progress reports, ms.
    pub progress_interval_ms: Option<f64>,
    /// Credits to leave to the org's other integrations (needs a client `budget`), as for `linkMany`.
    #[napi(ts_type = "number | string")]
    pub reserve: Option<Either<f64, String>>,
    /// Called on the JS thread with the job's progress, as for `linkMany`.
    #[napi(ts_type = "(progress: Progress) => void")]
    pub on_progress: Option<Function<'a, Progress, UnknownReturnValue>>,
    /// Called on the JS thread with each row's outcome as its call completes, as for `linkMany`.
    #[napi(ts_type = "(outcome: RowOutcome) => void")]
    pub on_outcome: Option<Function<'a, RowOutcome, UnknownReturnValue>>,
    /// Keep every outcome for the report (default true), as for `linkMany`.
    pub keep_outcomes: Option<bool>,
    /// Stops the job, as for `linkMany`.
    #[napi(ts_type = "AbortSignalLike")]
    pub signal: Option<Object<'a>>,
    /// Stops the job like `signal` after this many milliseconds.
    pub timeout_ms: Option<f64>,
}
known_keys!(UpsertManyOptions<'a> {
    module, key, lookups, columns, skip, duplicate_check_fields, external_fields, concurrency, edition, batch_size,
    window, adaptive, progress_interval_ms, reserve, on_progress, on_outcome, keep_outcomes, signal, timeout_ms,
});

/// `upsertMany`'s job: the core's mapping and settings, the row converter, and `Client::upsert_many`.
fn upsert_job(client: CoreClient, o: &UpsertManyOptions) -> CoreResult<Job<Value>> {
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
    let options = Tuning {
        concurrency: o.concurrency,
        edition: o.edition.clone(),
        batch_size: o.batch_size,
        window: o.window,
        adaptive: o.adaptive,
        progress_interval_ms: o.progress_interval_ms,
        reserve: o.reserve.as_ref(),
    }
    .options()?;
    let mapping = Arc::new(mapping);
    let convert: Convert<Value> = Arc::new(move |_env, value, index| match cells(value, index) {
        Ok(Ok(cells)) => mapping.record(index, cells),
        Ok(Err(_)) => Err(InvalidInput::new("data", "must be an object of field name to value").at(index)),
        Err(Error::InvalidInput(e)) => Err(e),
        Err(other) => Err(InvalidInput::new("data", other.to_string()).at(index)),
    });
    Ok(Job {
        options,
        convert,
        run: Box::new(move |rows, options, on_outcome, on_progress, cancel| {
            client.upsert_many(&spec, options, rows, on_outcome, on_progress, cancel)
        }),
    })
}

/// `client.upsertMany(rows, options)`.
pub fn upsert_many<'e>(
    env: &'e Env,
    client: CoreClient,
    rows: Unknown<'e>,
    options: Unknown<'e>,
) -> napi::Result<Object<'e>> {
    let (hooks, job) = match convert::args::<UpsertManyOptions>(options, "options") {
        Err(e) => (JobHooks::none(), Err(e)),
        Ok(mut o) => {
            let hooks = JobHooks {
                on_progress: o.on_progress.take(),
                on_outcome: o.on_outcome.take(),
                keep_outcomes: o.keep_outcomes.unwrap_or(true),
                signal: o.signal,
                timeout_ms: o.timeout_ms,
            };
            (hooks, upsert_job(client, &o))
        }
    };
    run_job(env, "upsertMany", rows, hooks, job)
}
