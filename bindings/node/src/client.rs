//! `Client` (one per process is the intended use: it holds the keep-alive pool and the shared token cache),
//! `PreparedRequest`, and the pure functions `prepareUpdateRelated` and `parseOutcomes`. The read and unlink
//! methods are in `related.rs`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use zcrm_extid::bulk::Cancel;
use zcrm_extid::response::parse_outcomes;
use zcrm_extid::settings::{ClientSettings, UpdateRelatedSpec};
use zcrm_extid::{Client as CoreClient, Error, InvalidInput, PreparedRequest as CoreRequest, Secret};

use crate::bulk::{self, AbortHook, LinkManyOptions, ProgressSink};
use crate::convert::{self, CoreResult, Outcome, PrepareTarget, UpdateRelatedArgs};
use crate::errors;
use crate::tasks::{LinkManyTask, UpdateTask};

/// The version of the native addon.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// A Zoho CRM client for the external-ID related-records API. Create one and share it: concurrent calls share
/// its connections and its token (refreshed once, ahead of expiry, for all of them). Its secrets stay in
/// native memory: `util.inspect(client)` and `JSON.stringify(client)` show only where it sends calls.
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
    /// Throws a `ZcrmError` with code `INVALID_CONFIG` for an unusable option.
    #[napi(
        constructor,
        ts_args_type = "options: (AccessTokenCredentials | RefreshTokenCredentials) & ClientConfig & ClientEvents"
    )]
    pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
        crate::events::install_debug_switch();
        let on_event = convert::options::<Object>(options, "options").ok().and_then(|o| {
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
    /// `ZOHO_DC`, `ZOHO_ENVIRONMENT`, `ZOHO_API_VERSION`, `ZOHO_BASE_URL`, `ZOHO_ACCOUNTS_URL`.
    #[napi(factory)]
    pub fn from_env(env: Env) -> napi::Result<Self> {
        ClientSettings::from_env().build().map(|inner| Client { inner }).map_err(|e| errors::to_js(&env, &e))
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

    /// Links related records: one call (with retries and one token refresh on a 401), run off the JS thread.
    /// Resolves to one outcome per record in input order (a 207 is a normal result); rejects with a `ZcrmError`
    /// when the call as a whole failed, or, before anything is sent, when an argument is invalid.
    #[napi(ts_args_type = "args: UpdateRelatedArgs", ts_return_type = "Promise<UpdateResponse>")]
    pub fn update_related(&self, args: Unknown) -> AsyncTask<UpdateTask> {
        let work = spec(args).and_then(|s| Ok((self.inner.clone(), s.build()?)));
        AsyncTask::new(UpdateTask { work })
    }

    /// The HTTP request `updateRelated(args)` would send, without sending it or fetching a token.
    #[napi(ts_args_type = "args: UpdateRelatedArgs")]
    pub fn prepare_update_related(&self, env: Env, args: Unknown) -> napi::Result<PreparedRequest> {
        let request = spec(args).and_then(|s| Ok(s.build()?)).map_err(|e| errors::to_js(&env, &e))?;
        Ok(PreparedRequest { inner: self.inner.prepare_update_related(&request) })
    }

    /// Links many rows (plain objects, one related record each, any parents, any order) at the API's limit:
    /// grouped by parent into calls of up to 100 records, bounded adaptive concurrency, retries. The rows are
    /// read into the job once, on the JS thread, when this is called; a row that cannot be used gets its own
    /// `INVALID_INPUT` outcome. The job runs off the JS thread; resolves to one outcome per row read, in input
    /// order, and the totals. Rejects only for unusable options.
    #[napi(
        ts_args_type = "rows: Array<Record<string, JsonValue>>, options: LinkManyOptions",
        ts_return_type = "Promise<BulkReport>"
    )]
    pub fn link_many(&self, env: Env, rows: Unknown, options: Unknown) -> AsyncTask<LinkManyTask> {
        let cancel = Cancel::new();
        let mut progress = None;
        let mut abort = None;
        let job = convert::args::<LinkManyOptions>(options, "options").and_then(|o| {
            let job = bulk::job(rows, &o)?;
            let wiring = |e: napi::Error, what: &str| Error::from(InvalidInput::new("options", e.reason).field(what));
            if let Some(f) = &o.on_progress {
                progress = Some(ProgressSink::new(f, &cancel).map_err(|e| wiring(e, "onProgress"))?);
            }
            if let Some(signal) = &o.signal {
                abort = AbortHook::new(&env, signal, &cancel).map_err(|e| wiring(e, "signal"))?;
            }
            Ok(job)
        });
        AsyncTask::new(LinkManyTask { client: self.inner.clone(), job, cancel, progress, abort })
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

/// What `JSON.stringify(preparedRequest)` shows.
#[napi(object, object_from_js = false)]
pub struct PreparedRequestJson {
    /// `PUT`.
    pub method: String,
    /// The full URL, path segments percent-encoded.
    pub url: String,
    /// The headers in order (`Authorization` redacted).
    #[napi(ts_type = "Array<[string, string]>")]
    pub headers: Vec<Vec<String>>,
    /// The body text (compact JSON).
    pub body: String,
}

#[napi]
impl PreparedRequest {
    /// The HTTP method, `PUT`.
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
        let settings = convert::options::<PrepareTarget>(args, "args")?.into_settings();
        let request = spec(args)?.build()?;
        Ok(match &settings.access_token {
            Some(token) => settings.build()?.prepare_update_related(&request).with_token(Secret::new(token.as_str())),
            None => {
                let (base, version) = settings.target()?;
                request.prepare(&base, version)
            }
        })
    };
    prepare().map(|inner| PreparedRequest { inner }).map_err(|e| errors::to_js(&env, &e))
}

/// Interprets a response to a call that sent `recordsSent` records (pure; for a request sent by other means):
/// one outcome per record in input order, or a thrown `ZcrmError` (Zoho's error object, `NO_CONTENT`, or
/// `UNEXPECTED_RESPONSE` for a body that is not a usable Zoho answer).
#[napi(js_name = "parseOutcomes")]
pub fn parse_response(
    env: Env,
    status: u32,
    content_type: Option<String>,
    body: Either<String, Buffer>,
    records_sent: u32,
) -> napi::Result<Vec<Outcome>> {
    let body: &[u8] = match &body {
        Either::A(text) => text.as_bytes(),
        Either::B(bytes) => bytes,
    };
    let parsed = u16::try_from(status)
        .map_err(|_| Error::from(InvalidInput::new("status", "must be an HTTP status")))
        .and_then(|status| parse_outcomes(status, content_type.as_deref(), body, records_sent as usize));
    parsed.map(|o| o.iter().map(Outcome::from).collect()).map_err(|e| errors::to_js(&env, &e))
}
