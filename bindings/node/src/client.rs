//! `Client` (one per process is the intended use: it holds the keep-alive pool and the shared token cache),
//! `PreparedRequest`, and the pure functions `prepareUpdateRelated`, `parseOutcomes` and `version`. The read and
//! unlink methods are in `related.rs`; `linkMany`'s job in `bulk.rs`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use zcrm_extid::response::parse_outcomes;
use zcrm_extid::settings::{ClientSettings, UpdateRelatedSpec};
use zcrm_extid::{Client as CoreClient, Error, InvalidInput, PreparedRequest as CoreRequest};

use crate::call::{self, Controls, Mode};
use crate::convert::{self, ClientConfig, CoreResult, Outcome, PrepareTarget, UpdateRelatedArgs};
use crate::keys::Keys;
use crate::{bulk, errors};

/// The version of the native addon (the Cargo workspace's version, as the Python package's `__version__`).
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// A Zoho CRM client for the external-ID related-records API. Create one and share it: concurrent calls share
/// its connections and its token (refreshed once, ahead of expiry, for all of them). Its secrets stay in
/// native memory: `util.inspect(client)` and `JSON.stringify(client)` show only where it sends calls.
///
/// Every method that does I/O returns a Promise and runs on the addon's own threads (never libuv's pool); its
/// last argument takes `{ signal, timeoutMs }`.
#[napi]
pub struct Client {
    pub(crate) inner: CoreClient,
}

/// What `JSON.stringify(client)` shows.
#[napi(object, object_from_js = false)]
pub struct ClientInfo {
    /// Where API calls go.
    pub base_url: String,
    /// The API version in every path.
    pub api_version: String,
}

fn spec(args: Unknown) -> CoreResult<UpdateRelatedSpec> {
    convert::args::<UpdateRelatedArgs>(args, "args")?.into_spec()
}

#[napi]
impl Client {
    /// A client from credentials (a ready access token, or the refresh-token grant) and optional settings.
    /// Throws a `ZcrmError` with code `INVALID_CONFIG` for an unusable setting, `INVALID_INPUT` for an unknown
    /// key.
    #[napi(
        constructor,
        ts_args_type = "options: (AccessTokenCredentials | RefreshTokenCredentials) & ClientConfig & ClientEvents"
    )]
    pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
        crate::events::install_debug_switch();
        let on_event = options.coerce_to_object().ok().and_then(|o| {
            o.get::<Function<serde_json::Value, napi::threadsafe_function::UnknownReturnValue>>("onEvent").transpose()
        });
        let build = || {
            let mut builder = convert::client_settings(options)?.builder()?;
            if let Some(f) = on_event {
                let sink = f.and_then(|f| crate::events::OnEvent::new(&f)).map_err(|e| Error::InvalidConfig {
                    setting: "on_event".into(),
                    message: format!("must be a function ({})", e.reason),
                })?;
                builder = builder.on_event(sink);
            }
            builder.build()
        };
        build().map(|inner| Client { inner }).map_err(|e| errors::to_js(&env, &e))
    }

    /// A client from `ZOHO_ACCESS_TOKEN`, or `ZOHO_CLIENT_ID` + `ZOHO_CLIENT_SECRET` + `ZOHO_REFRESH_TOKEN`, and
    /// `ZOHO_DC`, `ZOHO_ENVIRONMENT`, `ZOHO_API_VERSION`, `ZOHO_BASE_URL`, `ZOHO_ACCOUNTS_URL`, `ZOHO_PROXY`;
    /// `overrides` (settings, never credentials) win over the environment.
    #[napi(factory, ts_args_type = "overrides?: ClientConfig")]
    pub fn from_env(env: Env, overrides: Option<Unknown>) -> napi::Result<Self> {
        let build = || -> CoreResult<CoreClient> {
            let mut settings = ClientSettings::from_env();
            if let Some(o) = overrides.filter(|o| !matches!(o.get_type(), Ok(ValueType::Undefined | ValueType::Null))) {
                let config = convert::options::<ClientConfig>(o, "overrides", &[])?;
                convert::apply_config(&mut settings, config)?;
            }
            settings.build()
        };
        build().map(|inner| Client { inner }).map_err(|e| errors::to_js(&env, &e))
    }

    /// Where API calls go (until a token reply names another Zoho API domain).
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.inner.base_url().as_str().to_owned()
    }

    /// The API version in every path, e.g. `v5`.
    #[napi(getter)]
    pub fn api_version(&self) -> String {
        self.inner.api_version().as_str().to_owned()
    }

    /// Links related records: one call (with retries and one token refresh on a 401). Resolves to one outcome
    /// per record in input order (a 207 is a normal result); rejects with a `ZcrmError` when the call as a
    /// whole failed, or, before anything is sent, when an argument is invalid.
    #[napi(
        ts_generic_types = "R extends object & JsonRow<R>",
        ts_args_type = "args: UpdateRelatedArgs & { records: ReadonlyArray<R> }, options?: CallOptions",
        ts_return_type = "Promise<UpdateResult>"
    )]
    pub fn update_related<'e>(
        &self,
        env: &'e Env,
        args: Unknown<'e>,
        options: Option<Unknown<'e>>,
    ) -> napi::Result<Object<'e>> {
        let client = self.inner.clone();
        call::promise(
            env,
            "updateRelated",
            Mode::Call,
            Controls::Options(options),
            |_| Ok(spec(args)?.build()?),
            move |request, control| client.execute_cancellable(&request, &control.cancel),
            |_, response| Ok(convert::UpdateResult::from(response)),
        )
    }

    /// The HTTP request `updateRelated(args)` would send, without sending it or fetching a token.
    #[napi(ts_args_type = "args: UpdateRelatedArgs")]
    pub fn prepare_update_related(&self, env: Env, args: Unknown) -> napi::Result<PreparedRequest> {
        let request = spec(args).and_then(|s| Ok(s.build()?)).map_err(|e| errors::to_js(&env, &e))?;
        Ok(PreparedRequest { inner: self.inner.prepare_update_related(&request) })
    }

    /// Links many rows (objects, one related record each, any parents, any order) at the API's limit: grouped
    /// by parent into calls of up to 100 records, bounded adaptive concurrency, retries. `rows` is any
    /// `Iterable` or `AsyncIterable` (an Array, a generator, a `Readable` in object mode, a csv-parse parser),
    /// read only as the job has room (backpressure: memory stays within the job's window). A row that cannot
    /// be used gets its own `INVALID_INPUT` outcome. Resolves to one outcome per row read, sorted by row, and
    /// the totals; rejects with the report attached (`error.report`) when stopped (see `LinkManyOptions`).
    #[napi(
        ts_generic_types = "R extends object & JsonRow<R>",
        ts_args_type = "rows: Iterable<R> | AsyncIterable<R>, options: LinkManyOptions",
        ts_return_type = "Promise<BulkReport>"
    )]
    pub fn link_many<'e>(&self, env: &'e Env, rows: Unknown<'e>, options: Unknown<'e>) -> napi::Result<Object<'e>> {
        bulk::pairs_many(env, self.inner.clone(), bulk::Pairs::Link, rows, options)
    }

    /// Unlinks many rows (the rows and options of `linkMany`) at the API's limit: grouped by parent into
    /// `DELETE ...?ids=` calls of up to 100 values (a value containing `,` goes alone, in the URL path), bounded
    /// adaptive concurrency, retries, one outcome per row. `fields` only declares columns as mapped (for
    /// `extra: 'error'`); relation fields are not sent. A pair that is not linked is a failed outcome
    /// (`INVALID_DATA` "relation not found"), not a rejection.
    #[napi(
        ts_generic_types = "R extends object & JsonRow<R>",
        ts_args_type = "rows: Iterable<R> | AsyncIterable<R>, options: LinkManyOptions",
        ts_return_type = "Promise<BulkReport>"
    )]
    pub fn unlink_many<'e>(&self, env: &'e Env, rows: Unknown<'e>, options: Unknown<'e>) -> napi::Result<Object<'e>> {
        bulk::pairs_many(env, self.inner.clone(), bulk::Pairs::Unlink, rows, options)
    }

    /// Plans a reconcile: makes Zoho's links of one relation equal the desired `rows` (any Iterable or
    /// AsyncIterable of objects, as for `linkMany`; `fields` names the managed relation fields). For each parent
    /// in the rows its linked records are read (every page; concurrently, within the concurrency limit) and
    /// compared: `link` (missing), `update` (a field differs), `unlink` (linked but absent; only with
    /// `unlinkMissing`, never for a parent absent from the rows), unchanged. Nothing is changed in Zoho.
    /// Resolves to a `Plan`; rejects for unusable options, an error that would fail every read, or an abort.
    #[napi(
        ts_generic_types = "R extends object & JsonRow<R>",
        ts_args_type = "rows: Iterable<R> | AsyncIterable<R>, options: PlanLinksOptions",
        ts_return_type = "Promise<Plan>"
    )]
    pub fn plan_links<'e>(&self, env: &'e Env, rows: Unknown<'e>, options: Unknown<'e>) -> napi::Result<Object<'e>> {
        crate::reconcile::plan_links(env, self.inner.clone(), rows, options)
    }

    /// A plan saved with `plan.toJson()`, to apply as it was reviewed. Throws `INVALID_INPUT` for text that is
    /// not a plan of this version.
    #[napi]
    pub fn load_plan(&self, env: Env, text: String) -> napi::Result<crate::reconcile::Plan> {
        let plan = zcrm_extid::reconcile::Plan::from_json(&text)
            .map_err(|e| errors::to_js(&env, &zcrm_extid::Error::from(e)))?;
        Ok(crate::reconcile::Plan::loaded(plan, self.inner.clone()))
    }

    /// Inserts or updates many records of a module by their external ID, at the API's limit: 100 per call,
    /// concurrent (at most 10 calls of more than 10 records at once), retried. Each row (a plain object: field
    /// API names, `columns` renames, `skip` leaves out; `lookups` fills a lookup by external ID from a column)
    /// is one record; `undefined`, `null` and `NaN` cells are left out, a `Date` becomes Zoho's ISO text. The
    /// same key twice: the later row wins. Resolves to one outcome per row (with `action` and the Zoho id) and
    /// the totals; rows, hooks, `signal` and the circuit breaker work as for `linkMany`.
    #[napi(
        ts_generic_types = "R extends object",
        ts_args_type = "rows: Iterable<R> | AsyncIterable<R>, options: UpsertManyOptions",
        ts_return_type = "Promise<BulkReport>"
    )]
    pub fn upsert_many<'e>(&self, env: &'e Env, rows: Unknown<'e>, options: Unknown<'e>) -> napi::Result<Object<'e>> {
        crate::upsert::upsert_many(env, self.inner.clone(), rows, options)
    }

    /// `{ baseUrl, apiVersion }`: what `JSON.stringify(client)` shows (never a credential).
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> ClientInfo {
        ClientInfo { base_url: self.base_url(), api_version: self.api_version() }
    }

    /// What `util.inspect(client)` shows: the core's redacted description.
    #[napi(symbol_for = "nodejs.util.inspect.custom")]
    pub fn inspect(&self) -> String {
        format!("{:?}", self.inner)
    }
}

/// A request ready for the wire, for inspection: the token is always shown as `Zoho-oauthtoken ***`.
#[napi]
pub struct PreparedRequest {
    inner: CoreRequest,
}

impl From<CoreRequest> for PreparedRequest {
    fn from(inner: CoreRequest) -> Self {
        PreparedRequest { inner }
    }
}

impl PreparedRequest {
    /// Wraps a core request.
    pub(crate) fn from_core(inner: CoreRequest) -> Self {
        PreparedRequest { inner }
    }
}

/// What `JSON.stringify(preparedRequest)` shows.
#[napi(object, object_from_js = false)]
pub struct PreparedRequestJson {
    /// `PUT`, `GET` or `DELETE`.
    pub method: String,
    /// The full URL, path segments percent-encoded.
    pub url: String,
    /// The headers in order (`Authorization` redacted).
    #[napi(ts_type = "Array<[string, string]>")]
    pub headers: Vec<Vec<String>>,
    /// The body text (compact JSON; empty for a read).
    pub body: String,
}

#[napi]
impl PreparedRequest {
    /// The HTTP method.
    #[napi(getter)]
    pub fn method(&self) -> String {
        self.inner.method().as_str().to_owned()
    }

    /// The full URL, path segments percent-encoded.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.inner.url().to_owned()
    }

    /// The headers in order as `[name, value]`; `Authorization` (present when a token was given) is
    /// `Zoho-oauthtoken ***`.
    #[napi(getter, ts_return_type = "Array<[string, string]>")]
    pub fn headers(&self) -> Vec<Vec<String>> {
        self.inner.redacted_headers().into_iter().map(|(n, v)| vec![n.to_owned(), v]).collect()
    }

    /// The body text (compact JSON `{"data":[...]}`).
    #[napi(getter)]
    pub fn body(&self) -> String {
        self.inner.body_str().to_owned()
    }

    /// The request as a shell command; the token is always `Zoho-oauthtoken ***`.
    #[napi]
    pub fn to_curl(&self) -> String {
        self.inner.to_curl()
    }

    /// `{ method, url, headers, body }` (token redacted).
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> PreparedRequestJson {
        PreparedRequestJson { method: self.method(), url: self.url(), headers: self.headers(), body: self.body() }
    }

    /// What `util.inspect(request)` shows (token redacted).
    #[napi(symbol_for = "nodejs.util.inspect.custom")]
    pub fn inspect(&self) -> String {
        format!("{:?}", self.inner)
    }
}

/// The HTTP request an "update related records" call becomes, without a client, a token fetch or I/O: for the
/// data centre / environment / API version / base URL given (the defaults otherwise). An `accessToken`, if
/// given, is validated and shown as `Zoho-oauthtoken ***`.
#[napi(js_name = "prepareUpdateRelated", ts_args_type = "args: UpdateRelatedArgs & PrepareTarget")]
pub fn prepare_update_related(env: Env, args: Unknown) -> napi::Result<PreparedRequest> {
    let prepare = || -> CoreResult<CoreRequest> {
        let target = convert::args_with::<PrepareTarget>(args, "args", &[UpdateRelatedArgs::FIELDS])?;
        let request =
            convert::args_with::<UpdateRelatedArgs>(args, "args", &[PrepareTarget::FIELDS])?.into_spec()?.build()?;
        target.into_settings().prepare(&request)
    };
    prepare().map(|inner| PreparedRequest { inner }).map_err(|e| errors::to_js(&env, &e))
}

/// A response body: text, or bytes (a `Uint8Array`, so a `Buffer` too).
pub fn body_bytes(body: &Either<String, Uint8Array>) -> &[u8] {
    match body {
        Either::A(text) => text.as_bytes(),
        Either::B(bytes) => bytes,
    }
}

/// Interprets a response to a call that sent `recordsSent` records (pure; for a request sent by other means):
/// one outcome per record in input order, or a thrown `ZcrmError` (Zoho's error object, `NO_CONTENT`, or
/// `UNEXPECTED_RESPONSE` for a body that is not a usable Zoho answer).
#[napi(js_name = "parseOutcomes")]
pub fn parse_response(
    env: Env,
    status: u32,
    content_type: Option<String>,
    body: Either<String, Uint8Array>,
    records_sent: u32,
) -> napi::Result<Vec<Outcome>> {
    let parsed = u16::try_from(status)
        .map_err(|_| Error::from(InvalidInput::new("status", "must be an HTTP status")))
        .and_then(|status| parse_outcomes(status, content_type.as_deref(), body_bytes(&body), records_sent as usize));
    parsed.map(|o| o.iter().map(Outcome::from).collect()).map_err(|e| errors::to_js(&env, &e))
}
