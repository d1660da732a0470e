//! The records calls of `Client` (`getRecords`, `recordPages`, `insertRecords`, `updateRecords`,
//! `upsertRecords`, `deleteRecords`, `searchRecords`, `prepareRecords`) and the pure `parseRecordOutcomes` /
//! `parseRecordsPage`: JS objects -> the core's `RecordsArgs`, results -> plain JS objects. Every rule is the
//! core's; records are read cell by cell into the core's policy (a `Date` becomes Zoho's ISO text in UTC, an
//! invalid `Date` or `NaN` is left out).

use std::sync::{Arc, Mutex};

use napi::JsDate;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Value};
use zcrm_extid::records::cells::{Cell, DateTime, Nulls, record_from_cells};
use zcrm_extid::records::outcome::parse_records;
use zcrm_extid::records::pages::parse_page;
use zcrm_extid::records::spec::{Ids, RecordsArgs, RecordsCall};
use zcrm_extid::records::{
    GetRecords, PageInfo as CoreInfo, Pages, RecordOutcome as CoreOutcome, RecordsPage as CorePage,
    RecordsResponse as CoreResponse,
};
use zcrm_extid::transport::HttpResponse;
use zcrm_extid::{Error, InvalidInput};

use crate::call::{self, Controls, Mode};
use crate::client::{Client, PreparedRequest};
use crate::convert::{self, CoreResult, details_for_js, json_for_js, value_from_js};
use crate::errors;

/// The arguments of every records call (each call takes some of them; see `GetRecordsArgs`, ...). A key a
/// call does not take is an `INVALID_INPUT` naming it.
#[napi(object, object_to_js = false)]
pub struct RecordsCallArgs<'a> {
    /// The module, e.g. `Contacts`.
    pub module: String,
    /// insert, update, upsert: the records (at most 100).
    #[napi(ts_type = "Array<Record<string, JsonValue | Date>>")]
    pub records: Option<Vec<Unknown<'a>>>,
    /// get, update, delete: the module's external field addressing the records (default: record ids);
    /// search: the external field searched.
    pub key: Option<String>,
    /// update: the one record's address (`PUT {module}/{id}`).
    pub id: Option<String>,
    /// get, delete: one value (the single-record form) or several (`?ids=`).
    #[napi(ts_type = "string | string[]")]
    pub ids: Option<Either<String, Vec<String>>>,
    /// search: one value (`equals`) or several (`in`).
    #[napi(ts_type = "string | string[]")]
    pub values: Option<Either<String, Vec<String>>>,
    /// get, search: the fields to return.
    pub fields: Option<Vec<String>>,
    /// get, search: the page (from 1).
    pub page: Option<f64>,
    /// get, search: records per page (1 to 200).
    pub per_page: Option<f64>,
    /// get: a previous page's `nextPageToken`.
    pub page_token: Option<String>,
    /// insert, update, upsert: declared external fields, `Module.Field`.
    pub external_fields: Option<Vec<String>>,
    /// upsert: the duplicate-check fields, in order.
    pub duplicate_check_fields: Option<Vec<String>>,
}
known_keys!(RecordsCallArgs<'a> {
    module, records, key, id, ids, values, fields, page, per_page, page_token, external_fields,
    duplicate_check_fields,
});

fn list(v: Either<String, Vec<String>>) -> Vec<String> {
    match v {
        Either::A(one) => vec![one],
        Either::B(many) => many,
    }
}

fn whole(value: Option<f64>, argument: &str) -> CoreResult<Option<u32>> {
    match value {
        None => Ok(None),
        Some(v) if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) => Ok(Some(v as u32)),
        Some(_) => Err(InvalidInput::new(argument, "must be a whole number, 0 or more").into()),
    }
}

/// One JS value as a cell: a `Date` is a date-time (an invalid one missing), `NaN` and `undefined` are
/// missing, anything else JSON.
fn cell(v: Unknown<'_>) -> std::result::Result<Cell, String> {
    let reason = |e: napi::Error| e.reason;
    match v.get_type().map_err(reason)? {
        ValueType::Undefined => Ok(Cell::Missing),
        ValueType::Number if f64::from_unknown(v).map_err(reason)?.is_nan() => Ok(Cell::Missing),
        ValueType::Object if v.is_date().map_err(reason)? => {
            let ms = JsDate::from_unknown(v).and_then(|d| d.value_of()).map_err(reason)?;
            Ok(DateTime::from_unix_millis(ms).map_or(Cell::Missing, Cell::DateTime))
        }
        _ => value_from_js(v).map(Cell::Json),
    }
}

/// Record `index` from JS: a plain object read field by field into cells; anything else is passed on as JSON
/// for the core to refuse with its own message. `nulls`: [`Nulls::Keep`] for single calls (`null` clears a
/// field), [`Nulls::Omit`] for bulk rows (an empty cell changes nothing).
pub(crate) fn record(value: Unknown<'_>, index: usize, nulls: Nulls) -> CoreResult<Value> {
    match cells(value, index)? {
        Ok(cells) => Ok(Value::Object(record_from_cells(index, cells, nulls)?)),
        Err(other) => Ok(other),
    }
}

/// The cells of row `index` when it is a plain object (`Ok(cells)`), else the value as JSON (`Err(value)`);
/// errors name `data[index]` and the field.
pub(crate) fn cells(value: Unknown<'_>, index: usize) -> CoreResult<std::result::Result<Vec<(String, Cell)>, Value>> {
    let err = |why: String| Error::from(InvalidInput::new("data", why).at(index));
    let plain = (|| -> napi::Result<bool> {
        Ok(value.get_type()? == ValueType::Object && !value.is_array()? && !value.is_date()?)
    })()
    .map_err(|e| err(e.reason))?;
    if !plain {
        return value_from_js(value).map(Err).map_err(err);
    }
    let object = Object::from_unknown(value).map_err(|e| err(e.reason))?;
    let keys = Object::keys(&object).map_err(|e| err(e.reason))?;
    let mut cells = Vec::with_capacity(keys.len());
    for key in keys {
        let v: Unknown = object.get_named_property(&key).map_err(|e| err(e.reason))?;
        let c = cell(v).map_err(|why| Error::from(InvalidInput::new("data", why).at(index).field(key.clone())))?;
        cells.push((key, c));
    }
    Ok(Ok(cells))
}

impl RecordsCallArgs<'_> {
    /// The validated call of `operation`.
    pub fn build(self, operation: &str) -> CoreResult<RecordsCall> {
        let records = self
            .records
            .map(|rs| {
                rs.into_iter().enumerate().map(|(i, r)| record(r, i, Nulls::Keep)).collect::<CoreResult<Vec<_>>>()
            })
            .transpose()?;
        let args = RecordsArgs {
            operation: operation.to_owned(),
            module: self.module,
            records,
            key: self.key,
            id: self.id,
            ids: self.ids.map(|v| match v {
                Either::A(one) => Ids::One(one),
                Either::B(many) => Ids::Many(many),
            }),
            values: self.values.map(list),
            fields: self.fields,
            page: whole(self.page, "page")?,
            per_page: whole(self.per_page, "per_page")?,
            page_token: self.page_token,
            external_fields: self.external_fields,
            duplicate_check_fields: self.duplicate_check_fields,
        };
        Ok(args.build()?)
    }
}

fn call(args: Unknown, operation: &str) -> CoreResult<RecordsCall> {
    convert::args::<RecordsCallArgs>(args, "args")?.build(operation)
}

/// The result for one record of a records write.
#[napi(object, object_from_js = false)]
pub struct RecordOutcome {
    /// The record's 0-based index in the input.
    pub index: u32,
    /// True when the record succeeded.
    pub ok: bool,
    /// `SUCCESS`, or the failure's code (`DUPLICATE_DATA`, `INVALID_DATA`, ...).
    pub code: String,
    /// Zoho's message (`record added`, `record updated`, ...).
    pub message: String,
    /// Zoho's details.
    #[napi(ts_type = "Record<string, JsonValue>")]
    pub details: Map<String, Value>,
    /// The record's Zoho id (`details.id`). Always a string.
    pub id: Option<String>,
    /// Upserts: `insert` or `update`.
    #[napi(ts_type = "'insert' | 'update'")]
    pub action: Option<String>,
    /// Upserts: the field whose value matched an existing record (absent for an insert).
    pub duplicate_field: Option<String>,
}

impl From<&CoreOutcome> for RecordOutcome {
    fn from(o: &CoreOutcome) -> Self {
        RecordOutcome {
            index: o.index() as u32,
            ok: o.is_success(),
            code: o.code().to_owned(),
            message: o.message().to_owned(),
            details: details_for_js(o.details()),
            id: o.id().map(str::to_owned),
            action: o.action.map(|a| a.as_str().to_owned()),
            duplicate_field: o.duplicate_field.clone(),
        }
    }
}

/// The result of a records write: one outcome per record (or `ids` value), in input order.
#[napi(object, object_from_js = false)]
pub struct RecordsResponse {
    /// 200 or 201 (all succeeded), 207 (mixed) or 400 (all failed).
    pub status: u32,
    /// One per input record, in input order.
    pub outcomes: Vec<RecordOutcome>,
    /// `X-API-CREDITS-REMAINING`, sent by Zoho once half the day's credits are used.
    pub credits_remaining: Option<f64>,
    /// True when every record succeeded.
    pub all_succeeded: bool,
}

impl From<CoreResponse> for RecordsResponse {
    fn from(r: CoreResponse) -> Self {
        RecordsResponse {
            status: r.status.into(),
            all_succeeded: r.all_succeeded(),
            outcomes: r.outcomes.iter().map(RecordOutcome::from).collect(),
            credits_remaining: r.credits_remaining.map(|c| c as f64),
        }
    }
}

/// `info` of a page.
#[napi(object, object_from_js = false)]
pub struct PageInfo {
    /// Records per page.
    pub per_page: Option<u32>,
    /// Records on this page.
    pub count: Option<u32>,
    /// This page's number.
    pub page: Option<u32>,
    /// Whether another page follows.
    pub more_records: bool,
    /// The next page's token, when the server pages by token.
    pub next_page_token: Option<String>,
}

impl From<CoreInfo> for PageInfo {
    fn from(i: CoreInfo) -> Self {
        PageInfo {
            per_page: i.per_page,
            count: i.count,
            page: i.page,
            more_records: i.more_records,
            next_page_token: i.next_page_token,
        }
    }
}

/// One page of records (a read or a search). No match is an empty page (Zoho's 204).
#[napi(object, object_from_js = false)]
pub struct RecordsPage {
    /// The records, in the server's order (`id` always a string).
    #[napi(ts_type = "Array<Record<string, JsonValue>>")]
    pub records: Vec<Value>,
    /// `info`, absent for a single record.
    pub info: Option<PageInfo>,
    /// Whether another page follows.
    pub more_records: bool,
    /// `X-API-CREDITS-REMAINING`, if sent.
    pub credits_remaining: Option<f64>,
}

impl From<CorePage> for RecordsPage {
    fn from(p: CorePage) -> Self {
        RecordsPage {
            more_records: p.more_records(),
            records: p.records.into_iter().map(|r| json_for_js(Value::Object(r))).collect(),
            info: p.info.map(PageInfo::from),
            credits_remaining: p.credits_remaining.map(|c| c as f64),
        }
    }
}

/// The pages of a read, fetched one by one: `for (let p; (p = await pager.next()); ) { ... }`.
#[napi]
pub struct RecordPager {
    pages: Arc<Mutex<Pages<GetRecords>>>,
}

#[napi]
impl RecordPager {
    /// The next page, or `null` after the last one, fetched on the addon's threads. Rejects with a `ZcrmError`
    /// when a page fails (the pager then ends); `options.signal` / `options.timeoutMs` stop the fetch.
    #[napi(ts_args_type = "options?: CallOptions", ts_return_type = "Promise<RecordsPage | null>")]
    pub fn next<'e>(&self, env: &'e Env, options: Option<Unknown<'e>>) -> napi::Result<Object<'e>> {
        let pages = self.pages.clone();
        call::promise(
            env,
            "RecordPager.next",
            Mode::Call,
            Controls::Options(options),
            |_| Ok(()),
            move |(), _| pages.lock().unwrap_or_else(|p| p.into_inner()).next().transpose(),
            |_, page| Ok(page.map(RecordsPage::from)),
        )
    }
}

/// A records call (`operation`) as a Promise, sent on the addon's threads (see [`call::promise`]).
fn records_promise<'e>(
    client: &Client,
    env: &'e Env,
    what: &'static str,
    operation: &'static str,
    args: Unknown<'e>,
    options: Option<Unknown<'e>>,
) -> napi::Result<Object<'e>> {
    let core = client.inner.clone();
    call::promise(
        env,
        what,
        Mode::Call,
        Controls::Options(options),
        |_| call(args, operation),
        move |c, control| {
            let cancel = &control.cancel;
            Ok(match c {
                RecordsCall::Get(c) => Either::B(core.execute_cancellable(&c, cancel)?),
                RecordsCall::Search(c) => Either::B(core.execute_cancellable(&c, cancel)?),
                RecordsCall::Insert(c) => Either::A(core.execute_cancellable(&c, cancel)?),
                RecordsCall::Update(c) => Either::A(core.execute_cancellable(&c, cancel)?),
                RecordsCall::Upsert(c) => Either::A(core.execute_cancellable(&c, cancel)?),
                RecordsCall::Delete(c) => Either::A(core.execute_cancellable(&c, cancel)?),
            })
        },
        |_, out: Either<CoreResponse, CorePage>| {
            Ok(match out {
                Either::A(r) => Either::A(RecordsResponse::from(r)),
                Either::B(p) => Either::B(RecordsPage::from(p)),
            })
        },
    )
}

#[napi]
impl Client {
    /// Reads records (one page): `ids` a string (`GET {module}/{value}`), an array (`?ids=`), or absent (the
    /// whole module, page by page; `fields` required). No match is an empty page.
    #[napi(ts_args_type = "args: GetRecordsArgs, options?: CallOptions", ts_return_type = "Promise<RecordsPage>")]
    pub fn get_records<'e>(
        &self,
        env: &'e Env,
        args: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<Object<'e>> {
        records_promise(self, env, "getRecords", "get", args, options)
    }

    /// The pages of a read, fetched as `next()` is awaited. Throws a `ZcrmError` for invalid arguments.
    #[napi(ts_args_type = "args: GetRecordsArgs")]
    pub fn record_pages(&self, env: Env, args: Unknown) -> napi::Result<RecordPager> {
        match call(args, "get").map_err(|e| errors::to_js(&env, &e))? {
            RecordsCall::Get(c) => Ok(RecordPager { pages: Arc::new(Mutex::new(self.inner.record_pages(&c))) }),
            _ => Err(errors::to_js(&env, &Error::from(InvalidInput::new("operation", "not a read")))),
        }
    }

    /// Inserts records (`POST {module}`); lookups written as external references (declared in
    /// `externalFields`) get their `X-EXTERNAL` pairs derived. Not retried after a lost answer.
    #[napi(
        ts_args_type = "args: InsertRecordsArgs, options?: CallOptions",
        ts_return_type = "Promise<RecordsResponse>"
    )]
    pub fn insert_records<'e>(
        &self,
        env: &'e Env,
        args: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<Object<'e>> {
        records_promise(self, env, "insertRecords", "insert", args, options)
    }

    /// Updates records: with `id`, the one record it addresses; else each by its `key` field (or `id`). A record
    /// changing the field that addresses it is refused before sending (Zoho's NOT_ALLOWED).
    #[napi(
        ts_args_type = "args: UpdateRecordsArgs, options?: CallOptions",
        ts_return_type = "Promise<RecordsResponse>"
    )]
    pub fn update_records<'e>(
        &self,
        env: &'e Env,
        args: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<Object<'e>> {
        records_promise(self, env, "updateRecords", "update", args, options)
    }

    /// Inserts or updates records (`POST {module}/upsert`); each outcome has `action` and `duplicateField`.
    #[napi(
        ts_args_type = "args: UpsertRecordsArgs, options?: CallOptions",
        ts_return_type = "Promise<RecordsResponse>"
    )]
    pub fn upsert_records<'e>(
        &self,
        env: &'e Env,
        args: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<Object<'e>> {
        records_promise(self, env, "upsertRecords", "upsert", args, options)
    }

    /// Deletes records: `ids` a string (one record) or an array (at most 100).
    #[napi(
        ts_args_type = "args: DeleteRecordsArgs, options?: CallOptions",
        ts_return_type = "Promise<RecordsResponse>"
    )]
    pub fn delete_records<'e>(
        &self,
        env: &'e Env,
        args: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<Object<'e>> {
        records_promise(self, env, "deleteRecords", "delete", args, options)
    }

    /// Searches records by the external field `key` (one value: `equals`; several: `in`), values escaped as
    /// Zoho requires. Needs the `ZohoSearch.securesearch.READ` scope.
    #[napi(ts_args_type = "args: SearchRecordsArgs, options?: CallOptions", ts_return_type = "Promise<RecordsPage>")]
    pub fn search_records<'e>(
        &self,
        env: &'e Env,
        args: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<Object<'e>> {
        records_promise(self, env, "searchRecords", "search", args, options)
    }

    /// The HTTP request of a records call (`operation`: `get`, `insert`, `update`, `upsert`, `delete`,
    /// `search`), without sending it or fetching a token.
    #[napi(ts_args_type = "operation: RecordsOperation, args: RecordsCallArgs")]
    pub fn prepare_records(&self, env: Env, operation: String, args: Unknown) -> napi::Result<PreparedRequest> {
        let c = call(args, &operation).map_err(|e| errors::to_js(&env, &e))?;
        Ok(PreparedRequest::from_core(c.prepare(self.inner.base_url(), self.inner.api_version())))
    }
}

fn response(status: u32, content_type: Option<String>, body: Either<String, Uint8Array>) -> CoreResult<HttpResponse> {
    let status =
        u16::try_from(status).map_err(|_| Error::from(InvalidInput::new("status", "must be an HTTP status")))?;
    let body = match body {
        Either::A(text) => text.into_bytes(),
        Either::B(bytes) => bytes.to_vec(),
    };
    Ok(HttpResponse {
        status,
        headers: content_type.map(|c| vec![("content-type".to_owned(), c)]).unwrap_or_default(),
        body,
    })
}

/// Interprets the answer to a records write that sent `recordsSent` records (pure): one outcome per record,
/// or a thrown `ZcrmError`.
#[napi(js_name = "parseRecordOutcomes")]
pub fn parse_record_outcomes(
    env: Env,
    status: u32,
    content_type: Option<String>,
    body: Either<String, Uint8Array>,
    records_sent: u32,
) -> napi::Result<RecordsResponse> {
    response(status, content_type, body)
        .and_then(|r| parse_records(&r, records_sent as usize))
        .map(RecordsResponse::from)
        .map_err(|e| errors::to_js(&env, &e))
}

/// Interprets the answer to a records read (pure): a page (a 204 is an empty one), or a thrown `ZcrmError`.
#[napi(js_name = "parseRecordsPage")]
pub fn parse_records_page(
    env: Env,
    status: u32,
    content_type: Option<String>,
    body: Either<String, Uint8Array>,
) -> napi::Result<RecordsPage> {
    response(status, content_type, body)
        .and_then(|r| parse_page(&r))
        .map(RecordsPage::from)
        .map_err(|e| errors::to_js(&env, &e))
}
