//! Reading and unlinking related records: `client.getRelated`, `iterRelated`, `deleteRelated` and their
//! `prepare*` forms. JS arguments -> the core's `GetRelatedSpec` / `DeleteRelatedSpec`; the core's pages and rows
//! -> plain objects; `RelatedIterator`, an async iterator whose pages are fetched on libuv workers. Every rule is
//! the core's.

use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Value};
use zcrm_extid::related_specs::{DeleteRelatedSpec, GetRelatedSpec};
use zcrm_extid::settings::ParentRef;
use zcrm_extid::{
    Client as CoreClient, DeleteRelated, Error, GetRelated, InvalidInput, PageInfo as CorePageInfo, RelatedResponse,
    RelatedRow as CoreRow, RelatedRows,
};

use crate::client::{Client, PreparedRequest};
use crate::convert::{self, CoreResult, ParentExternal, details_for_js};
use crate::errors;

/// One read of related records (`getRelated`, `iterRelated`, `prepareGetRelated`).
#[napi(object, object_to_js = false)]
pub struct GetRelatedArgs {
    /// The base module, e.g. `Contacts`.
    pub module: String,
    /// The parent record: its Zoho record id (a string of digits), or `{ field, value }` of an external field.
    #[napi(ts_type = "string | ParentExternal")]
    pub parent: Either<String, ParentExternal>,
    /// The related list, e.g. `Deals`.
    pub related_list: String,
    /// The fields to return: names, or one string with commas. Required for a list from v5 on.
    #[napi(ts_type = "string | Array<string>")]
    pub fields: Option<Either<String, Vec<String>>>,
    /// One related record (the single form, `.../{relatedList}/{related}`; not for `iterRelated`).
    pub related: Option<String>,
    /// Only these related records (`ids`, at most 100; a value with `,` must be read on its own).
    pub ids: Option<Vec<String>>,
    /// The related module's external field naming related records (in `related` / `ids`); absent: record ids.
    pub related_field: Option<String>,
    /// The related module, when it differs from the related list's name.
    pub related_module: Option<String>,
    /// `page` (1-based).
    pub page: Option<f64>,
    /// `per_page`, 1 to 200.
    pub per_page: Option<f64>,
    /// `page_token` (v7+), from a page's `nextPageToken`.
    pub page_token: Option<String>,
    /// `If-Modified-Since`: ISO 8601 with a zone (`date.toISOString()` works); a 304 is `notModified`.
    pub if_modified_since: Option<String>,
}

/// One unlink (`deleteRelated`, `prepareDeleteRelated`).
#[napi(object, object_to_js = false)]
pub struct DeleteRelatedArgs {
    /// The base module, e.g. `Contacts`.
    pub module: String,
    /// The parent record: its Zoho record id, or `{ field, value }` of an external field.
    #[napi(ts_type = "string | ParentExternal")]
    pub parent: Either<String, ParentExternal>,
    /// The related list, e.g. `Deals`.
    pub related_list: String,
    /// The related records to unlink (1 to 100): record ids, or external values with `relatedField`. One value
    /// goes in the path; several in `ids`.
    pub values: Vec<String>,
    /// The related module's external field naming `values`; absent: record ids.
    pub related_field: Option<String>,
    /// The related module, when it differs from the related list's name.
    pub related_module: Option<String>,
}

fn parent(p: Either<String, ParentExternal>) -> ParentRef {
    match p {
        Either::A(id) => ParentRef::Id(id),
        Either::B(p) => ParentRef::External { field: p.field, value: p.value },
    }
}

/// A JS number that must be a whole number from 0 to 2^32 - 1, as the core's `INVALID_INPUT` naming `argument`.
fn whole(value: Option<f64>, argument: &str) -> CoreResult<Option<u32>> {
    match value {
        None => Ok(None),
        Some(v) if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) => Ok(Some(v as u32)),
        Some(_) => Err(Error::from(InvalidInput::new(argument, "must be a whole number, 0 or more"))),
    }
}

fn get_request(args: Unknown) -> CoreResult<GetRelated> {
    let a = convert::args::<GetRelatedArgs>(args, "args")?;
    let spec = GetRelatedSpec {
        module: a.module,
        parent: parent(a.parent),
        related_list: a.related_list,
        related_module: a.related_module,
        related_field: a.related_field,
        related: a.related,
        ids: a.ids,
        fields: match a.fields {
            None => Vec::new(),
            Some(Either::A(text)) => vec![text],
            Some(Either::B(names)) => names,
        },
        page: whole(a.page, "page")?,
        per_page: whole(a.per_page, "per_page")?,
        page_token: a.page_token,
        if_modified_since: a.if_modified_since,
    };
    Ok(spec.build()?)
}

fn delete_request(args: Unknown) -> CoreResult<DeleteRelated> {
    let a = convert::args::<DeleteRelatedArgs>(args, "args")?;
    let spec = DeleteRelatedSpec {
        module: a.module,
        parent: parent(a.parent),
        related_list: a.related_list,
        related_module: a.related_module,
        related_field: a.related_field,
        values: a.values,
    };
    Ok(spec.build()?)
}

/// One related record: its Zoho `id` (always a string) and its other keys.
#[napi(object, object_from_js = false)]
pub struct RelatedRow {
    /// The related record's Zoho id.
    pub id: String,
    /// Every other key Zoho sent: the requested fields, relation fields such as `Contact_Role`.
    #[napi(ts_type = "Record<string, JsonValue>")]
    pub fields: Map<String, Value>,
}

impl From<CoreRow> for RelatedRow {
    fn from(r: CoreRow) -> Self {
        RelatedRow { id: r.id, fields: details_for_js(&r.fields) }
    }
}

/// The `info` of a list read.
#[napi(object, object_from_js = false)]
pub struct PageInfo {
    /// Records per page.
    pub per_page: Option<u32>,
    /// Records on this page.
    pub count: Option<u32>,
    /// This page's number.
    pub page: Option<u32>,
    /// Whether more records follow.
    pub more_records: bool,
    /// The next page's token (v7, v8).
    pub next_page_token: Option<String>,
    /// The previous page's token (v7, v8).
    pub previous_page_token: Option<String>,
    /// When `nextPageToken` expires (ISO 8601).
    pub page_token_expiry: Option<String>,
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

/// The answer to one read: rows (none for a 204 or a 304), `info` for list reads, `notModified` for a 304.
#[napi(object, object_from_js = false)]
pub struct RelatedResult {
    /// 200, 204 (no related records) or 304 (not modified).
    pub status: u32,
    /// The rows, in Zoho's order.
    pub rows: Vec<RelatedRow>,
    /// `info` (list reads).
    pub info: Option<PageInfo>,
    /// True for a 304: nothing changed since `ifModifiedSince`.
    pub not_modified: bool,
    /// `X-API-CREDITS-REMAINING`, sent once half the day's credits are used.
    pub credits_remaining: Option<f64>,
}

impl From<RelatedResponse> for RelatedResult {
    fn from(r: RelatedResponse) -> Self {
        match r {
            RelatedResponse::NotModified => {
                RelatedResult { status: 304, rows: Vec::new(), info: None, not_modified: true, credits_remaining: None }
            }
            RelatedResponse::Page(p) => RelatedResult {
                status: p.status.into(),
                rows: p.rows.into_iter().map(RelatedRow::from).collect(),
                info: p.info.map(PageInfo::from),
                not_modified: false,
                credits_remaining: p.credits_remaining.map(|c| c as f64),
            },
        }
    }
}

/// `client.getRelated(args)`.
pub struct GetTask {
    work: CoreResult<(CoreClient, GetRelated)>,
}

impl Task for GetTask {
    type Output = CoreResult<RelatedResponse>;
    type JsValue = RelatedResult;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(match &self.work {
            Ok((client, request)) => client.get_related(request),
            Err(e) => Err(e.clone()),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<RelatedResult> {
        output.map(RelatedResult::from).map_err(|e| errors::to_js(&env, &e))
    }
}

/// `client.deleteRelated(args)`: the same task as `updateRelated` (one outcome per value).
pub struct DeleteTask {
    work: CoreResult<(CoreClient, DeleteRelated)>,
}

impl Task for DeleteTask {
    type Output = CoreResult<zcrm_extid::UpdateResponse>;
    type JsValue = convert::UpdateResponse;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(match &self.work {
            Ok((client, request)) => client.delete_related(request),
            Err(e) => Err(e.clone()),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<convert::UpdateResponse> {
        output.map(convert::UpdateResponse::from).map_err(|e| errors::to_js(&env, &e))
    }
}

#[napi]
impl Client {
    /// Reads related records in one call, off the JS thread: one page of the list, or one related record with
    /// `related`. Resolves to the rows and `info` (a 204 is no rows; a 304 is `notModified: true`); rejects with a
    /// `ZcrmError` (code `INVALID_INPUT` before anything is sent, e.g. `fields` missing on v5+).
    #[napi(ts_args_type = "args: GetRelatedArgs", ts_return_type = "Promise<RelatedResult>")]
    pub fn get_related(&self, args: Unknown) -> AsyncTask<GetTask> {
        AsyncTask::new(GetTask { work: get_request(args).map(|r| (self.inner.clone(), r)) })
    }

    /// Every related record, page after page (page tokens on v7/v8, page numbers before), one page in memory:
    /// `for await (const row of client.iterRelated(args))`. Pages are fetched on libuv workers. Throws a
    /// `ZcrmError` for invalid arguments (before anything is sent); an error while paging rejects `next()`.
    #[napi(ts_args_type = "args: GetRelatedArgs")]
    pub fn iter_related(&self, env: Env, args: Unknown) -> napi::Result<RelatedIterator> {
        let rows = get_request(args).and_then(|r| self.inner.iter_related(r)).map_err(|e| errors::to_js(&env, &e))?;
        Ok(RelatedIterator { rows: Arc::new(Mutex::new(rows)) })
    }

    /// The HTTP request `getRelated(args)` would send (after the version rules), without sending it.
    #[napi(ts_args_type = "args: GetRelatedArgs")]
    pub fn prepare_get_related(&self, env: Env, args: Unknown) -> napi::Result<PreparedRequest> {
        get_request(args)
            .and_then(|r| self.inner.prepare_get_related(&r))
            .map(PreparedRequest::from)
            .map_err(|e| errors::to_js(&env, &e))
    }

    /// Unlinks related records in one call, off the JS thread: one value in the path, several (up to 100) in
    /// `ids`. Resolves to one outcome per value in input order (a 207 is a normal result).
    #[napi(ts_args_type = "args: DeleteRelatedArgs", ts_return_type = "Promise<UpdateResponse>")]
    pub fn delete_related(&self, args: Unknown) -> AsyncTask<DeleteTask> {
        AsyncTask::new(DeleteTask { work: delete_request(args).map(|r| (self.inner.clone(), r)) })
    }

    /// The HTTP request `deleteRelated(args)` would send, without sending it.
    #[napi(ts_args_type = "args: DeleteRelatedArgs")]
    pub fn prepare_delete_related(&self, env: Env, args: Unknown) -> napi::Result<PreparedRequest> {
        delete_request(args)
            .map(|r| PreparedRequest::from(self.inner.prepare_delete_related(&r)))
            .map_err(|e| errors::to_js(&env, &e))
    }
}

/// Interprets the answer to a related-records read (pure; for a request sent by other means): the rows and
/// `info`, an empty result for a 204, `notModified` for a 304, or a thrown `ZcrmError` (Zoho's error object, or
/// `UNEXPECTED_RESPONSE` for a body that is not a usable Zoho answer).
#[napi(js_name = "parseRelated")]
pub fn parse_related(
    env: Env,
    status: u32,
    content_type: Option<String>,
    body: Either<String, Buffer>,
) -> napi::Result<RelatedResult> {
    let body: &[u8] = match &body {
        Either::A(text) => text.as_bytes(),
        Either::B(bytes) => bytes,
    };
    let parsed = u16::try_from(status)
        .map_err(|_| Error::from(InvalidInput::new("status", "must be an HTTP status")))
        .and_then(|status| zcrm_extid::related_rows::parse_related(status, content_type.as_deref(), body, None));
    parsed.map(RelatedResult::from).map_err(|e| errors::to_js(&env, &e))
}

/// One step of `RelatedIterator.next()`.
#[napi(object, object_from_js = false)]
pub struct RelatedStep {
    /// True when every row has been read.
    pub done: bool,
    /// The row (absent when `done`).
    pub value: Option<RelatedRow>,
}

/// Every related record of a read, as an async iterator (`for await ... of`). Rows of the page in memory are
/// handed out at once; the next page is fetched on a libuv worker. Await each `next()` before the next call.
#[napi]
pub struct RelatedIterator {
    rows: Arc<Mutex<RelatedRows>>,
}

fn locked(rows: &Mutex<RelatedRows>) -> MutexGuard<'_, RelatedRows> {
    rows.lock().unwrap_or_else(|p| p.into_inner())
}

/// The next row, fetching a page if needed.
pub struct NextTask {
    rows: Arc<Mutex<RelatedRows>>,
}

impl Task for NextTask {
    type Output = CoreResult<Option<CoreRow>>;
    type JsValue = RelatedStep;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(locked(&self.rows).next().transpose())
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<RelatedStep> {
        output
            .map(|row| RelatedStep { done: row.is_none(), value: row.map(RelatedRow::from) })
            .map_err(|e| errors::to_js(&env, &e))
    }
}

#[napi]
impl RelatedIterator {
    /// The next row: `{ done: false, value }`, or `{ done: true }` after the last.
    #[napi(ts_return_type = "Promise<IteratorResult<RelatedRow, undefined>>")]
    pub fn next(&self, env: Env) -> napi::Result<PromiseRaw<'static, RelatedStep>> {
        if let Some(row) = locked(&self.rows).next_buffered() {
            return PromiseRaw::resolve(&env, RelatedStep { done: false, value: Some(RelatedRow::from(row)) });
        }
        Ok(env.spawn(NextTask { rows: self.rows.clone() })?.promise_object())
    }

    /// Stops early (`break` in `for await`): later `next()` calls resolve `{ done: true }` without fetching.
    #[napi(js_name = "return", ts_return_type = "Promise<IteratorResult<RelatedRow, undefined>>")]
    pub fn stop(&self, env: Env) -> napi::Result<PromiseRaw<'static, RelatedStep>> {
        locked(&self.rows).finish();
        PromiseRaw::resolve(&env, RelatedStep { done: true, value: None })
    }

    /// True when the server answered 304 (nothing changed since `ifModifiedSince`).
    #[napi(getter)]
    pub fn not_modified(&self) -> bool {
        locked(&self.rows).not_modified()
    }

    /// Pages received so far.
    #[napi(getter)]
    pub fn pages_fetched(&self) -> u32 {
        locked(&self.rows).pages_fetched() as u32
    }
}

/// Makes `RelatedIterator` async-iterable (`[Symbol.asyncIterator]() { return this }`); called once when the
/// addon loads, after the classes are registered.
pub fn install(env: &Env, exports: &Object) -> Result<()> {
    let patch: Function<FnArgs<(Unknown,)>, Unknown> = env.run_script(
        "(cls) => { Object.defineProperty(cls.prototype, Symbol.asyncIterator, { value: function () { return this }, writable: true, configurable: true }) }",
    )?;
    let class: Unknown = exports.get_named_property("RelatedIterator")?;
    patch.call(FnArgs::from((class,)))?;
    Ok(())
}
