//! Reading and unlinking related records: `client.getRelated`, `iterRelated`, `deleteRelated` and their
//! `prepare*` forms. JS arguments -> the core's `GetRelatedSpec` / `DeleteRelatedSpec`; the core's pages and rows
//! -> plain objects; `RelatedIterator`, an async iterator whose pages are fetched on the addon's threads (each
//! `next()` is a call of [`crate::call::promise`], with the iterator's `signal` and `timeoutMs`). Every rule is
//! the core's.

use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Value};
use zcrm_extid::related_specs::{DeleteRelatedSpec, GetRelatedSpec};
use zcrm_extid::settings::ParentRef;
use zcrm_extid::{
    DeleteRelated, Error, GetRelated, InvalidInput, PageInfo as CorePageInfo, RelatedResponse, RelatedRow as CoreRow,
    RelatedRows,
};

use crate::call::{self, Controls, Mode};
use crate::client::{Client, PreparedRequest, body_bytes};
use crate::convert::{self, CoreResult, ParentExternal, details_for_js};
use crate::{errors, glue};

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
known_keys!(GetRelatedArgs {
    module,
    parent,
    related_list,
    fields,
    related,
    ids,
    related_field,
    related_module,
    page,
    per_page,
    page_token,
    if_modified_since,
});

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
known_keys!(DeleteRelatedArgs { module, parent, related_list, values, related_field, related_module });

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

#[napi]
impl Client {
    /// Reads related records in one call: one page of the list, or one related record with `related`.
    /// Resolves to the rows and `info` (a 204 is no rows; a 304 is `notModified: true`); rejects with a
    /// `ZcrmError` (code `INVALID_INPUT` before anything is sent, e.g. `fields` missing on v5+).
    #[napi(ts_args_type = "args: GetRelatedArgs, options?: CallOptions", ts_return_type = "Promise<RelatedResult>")]
    pub fn get_related<'e>(
        &self,
        env: &'e Env,
        args: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<Object<'e>> {
        let client = self.inner.clone();
        call::promise(
            env,
            "getRelated",
            Mode::Call,
            Controls::Options(options),
            |_| get_request(args),
            move |request, control| client.execute_cancellable(&request, &control.cancel),
            |_, response| Ok(RelatedResult::from(response)),
        )
    }

    /// Every related record, page after page (page tokens on v7/v8, page numbers before), one page in memory:
    /// `for await (const row of client.iterRelated(args))`. Throws a `ZcrmError` for invalid arguments (before
    /// anything is sent); an error while paging rejects `next()`. `options.signal` aborts the iteration (the
    /// pending `next()` rejects with an `AbortError`); `options.timeoutMs` limits each page's fetch.
    #[napi(ts_args_type = "args: GetRelatedArgs, options?: CallOptions", ts_return_type = "RelatedIterator")]
    pub fn iter_related<'e>(
        &self,
        env: &'e Env,
        args: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<ClassInstance<'e, RelatedIterator>> {
        let opened = || -> CoreResult<_> {
            let (signal, timeout_ms) = call::read_options(options)?;
            let rows = self.inner.iter_related(get_request(args)?)?;
            Ok((signal, timeout_ms, rows))
        };
        let (signal, timeout_ms, rows) = opened().map_err(|e| errors::to_js(env, &e))?;
        let instance = RelatedIterator { rows: Arc::new(Mutex::new(rows)), timeout_ms }.into_instance(env)?;
        if let Some(signal) = signal {
            glue::call::<FnArgs<(Object, Object)>, Unknown>(
                env,
                "attach",
                FnArgs::from((instance.as_object(env), signal)),
            )?;
        }
        Ok(instance)
    }

    /// The HTTP request `getRelated(args)` would send (after the version rules), without sending it.
    #[napi(ts_args_type = "args: GetRelatedArgs")]
    pub fn prepare_get_related(&self, env: Env, args: Unknown) -> napi::Result<PreparedRequest> {
        get_request(args)
            .and_then(|r| self.inner.prepare_get_related(&r))
            .map(PreparedRequest::from)
            .map_err(|e| errors::to_js(&env, &e))
    }

    /// Unlinks related records in one call: one value in the path, several (up to 100) in `ids`. Resolves to
    /// one outcome per value in input order (a 207 is a normal result).
    #[napi(ts_args_type = "args: DeleteRelatedArgs, options?: CallOptions", ts_return_type = "Promise<UpdateResult>")]
    pub fn delete_related<'e>(
        &self,
        env: &'e Env,
        args: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<Object<'e>> {
        let client = self.inner.clone();
        call::promise(
            env,
            "deleteRelated",
            Mode::Call,
            Controls::Options(options),
            |_| delete_request(args),
            move |request, control| client.execute_cancellable(&request, &control.cancel),
            |_, response| Ok(convert::UpdateResult::from(response)),
        )
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
    body: Either<String, Uint8Array>,
) -> napi::Result<RelatedResult> {
    let parsed =
        u16::try_from(status).map_err(|_| Error::from(InvalidInput::new("status", "must be an HTTP status"))).and_then(
            |status| zcrm_extid::related_rows::parse_related(status, content_type.as_deref(), body_bytes(&body), None),
        );
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
/// handed out at once; the next page is fetched on an addon thread. Await each `next()` before the next call.
#[napi]
pub struct RelatedIterator {
    rows: Arc<Mutex<RelatedRows>>,
    timeout_ms: Option<f64>,
}

fn locked(rows: &Mutex<RelatedRows>) -> MutexGuard<'_, RelatedRows> {
    rows.lock().unwrap_or_else(|p| p.into_inner())
}

#[napi]
impl RelatedIterator {
    /// The next row: `{ done: false, value }`, or `{ done: true }` after the last.
    #[napi(ts_return_type = "Promise<IteratorResult<RelatedRow, undefined>>")]
    pub fn next<'e>(
        &self,
        env: &'e Env,
        this: This<'e>,
    ) -> napi::Result<Either<PromiseRaw<'e, RelatedStep>, Object<'e>>> {
        let signal: Option<Object> = glue::call(env, "attached", FnArgs::from((this.object,)))?;
        let aborted = signal.map(|s| s.get::<bool>("aborted")).transpose()?.flatten().unwrap_or(false);
        if !aborted && let Some(row) = locked(&self.rows).next_buffered() {
            // A row of the page in memory: no thread, no wait.
            return PromiseRaw::resolve(env, RelatedStep { done: false, value: Some(RelatedRow::from(row)) })
                .map(Either::A);
        }
        let rows = self.rows.clone();
        call::promise(
            env,
            "RelatedIterator.next",
            Mode::Call,
            Controls::Given(signal, self.timeout_ms),
            |_| Ok(()),
            move |(), _| locked(&rows).next().transpose(),
            |_, row| Ok(RelatedStep { done: row.is_none(), value: row.map(RelatedRow::from) }),
        )
        .map(Either::B)
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
