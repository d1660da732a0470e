//! JS values <-> core types: option objects -> core settings, arguments -> core specs, core results -> plain JS
//! objects. No defaults and no rules here: every default, parse and check is the core's (`settings.rs`). Every
//! object read from JS goes through [`args`] or [`options`], which refuse a key the struct does not have
//! ([`crate::keys`]).

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Number, Value};
use zcrm_extid::response::{Outcome as CoreOutcome, UpdateResponse as CoreResponse};
use zcrm_extid::settings::{ClientSettings, ParentRef, UpdateRelatedSpec};
use zcrm_extid::{Error, InvalidInput};

use crate::keys::{self, Keys};

/// A result with the core's error.
pub type CoreResult<T> = std::result::Result<T, Error>;

/// The largest integer a JS number holds exactly (2^53).
const EXACT: f64 = 9_007_199_254_740_992.0;

/// A JSON value from JS made exact for the core: JS has only doubles, so whole numbers within ±2^53 become
/// integers (napi would keep those above 2^32 as floats and send `5000000000.0`).
pub fn json_from_js(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() <= EXACT => {
                Value::Number(Number::from(f as i64))
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(json_from_js).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, json_from_js(v))).collect()),
        other => other,
    }
}

/// A JSON value for JS as `JSON.parse` would give it: integers beyond ±2^53 become numbers (napi would make
/// them BigInts). Ids are strings in Zoho's JSON, so they stay strings.
pub fn json_for_js(value: Value) -> Value {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if (n.is_i64() || n.is_u64()) && f.abs() > EXACT => {
                Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(json_for_js).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, json_for_js(v))).collect()),
        other => other,
    }
}

/// `details` for JS.
pub fn details_for_js(details: &Map<String, Value>) -> Map<String, Value> {
    match json_for_js(Value::Object(details.clone())) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// One JS value (a record, a row) as JSON; `Err` says why it cannot be (a function, a symbol, ...).
pub fn value_from_js(value: Unknown) -> std::result::Result<Value, String> {
    Value::from_unknown(value).map(json_from_js).map_err(|e| e.reason)
}

/// A record (or row) object as JSON with its `undefined` properties left out (an interface's optional field
/// that is not set); any other value as JSON.
pub fn record_from_js(value: Unknown) -> std::result::Result<Value, String> {
    let is_plain = matches!(value.get_type(), Ok(ValueType::Object)) && !value.is_array().unwrap_or(true);
    if !is_plain {
        return value_from_js(value);
    }
    let object = value.coerce_to_object().map_err(|e| e.reason)?;
    let mut map = Map::new();
    for key in Object::keys(&object).map_err(|e| e.reason)? {
        let v: Unknown = object.get_named_property(&key).map_err(|e| e.reason)?;
        if matches!(v.get_type(), Ok(ValueType::Undefined)) {
            continue;
        }
        map.insert(key, value_from_js(v)?);
    }
    Ok(Value::Object(map))
}

/// Where napi's conversion failed (`Struct.field` at the end of its message), without the value itself.
fn failed_field(e: &napi::Error) -> Option<(String, bool)> {
    if let Some(rest) = e.reason.strip_prefix("Missing field `") {
        return rest.split('`').next().map(|f| (f.to_owned(), true));
    }
    let (_, location) = e.reason.rsplit_once(" on ")?;
    location.split_once('.').map(|(_, field)| (field.to_owned(), false))
}

/// A JS argument object as `T`; a key `T` does not have, or a field of the wrong shape, is the core's
/// `INVALID_INPUT` naming `argument` and the field.
pub fn args<T: FromNapiValue + Keys>(value: Unknown, argument: &str) -> CoreResult<T> {
    args_with(value, argument, &[])
}

/// [`args`] where the object may also hold the keys of `more` (read by someone else).
pub fn args_with<T: FromNapiValue + Keys>(value: Unknown, argument: &str, more: &[&[&str]]) -> CoreResult<T> {
    if !is_object(&value) {
        return Err(Error::from(InvalidInput::new(argument, "must be an object")));
    }
    let object = value.coerce_to_object().map_err(|e| InvalidInput::new(argument, e.reason))?;
    let mut known = vec![T::FIELDS];
    known.extend_from_slice(more);
    keys::check(&object, &known, argument)?;
    T::from_unknown(value).map_err(|e| {
        let wrong = match failed_field(&e) {
            Some((field, true)) => InvalidInput::new(argument, "is required").field(field),
            Some((field, false)) => InvalidInput::new(argument, "has the wrong type").field(field),
            None => InvalidInput::new(argument, "has the wrong type"),
        };
        Error::InvalidInput(wrong)
    })
}

/// A JS settings object (client, emulator) as `T`: a key it does not have is an `INVALID_INPUT` naming it; a
/// value of the wrong shape is the core's `INVALID_CONFIG` naming the setting (snake_case, as the core names
/// settings). The value is never repeated: it may be a secret.
pub fn options<T: FromNapiValue + Keys>(value: Unknown, what: &str, more: &[&[&str]]) -> CoreResult<T> {
    if !is_object(&value) {
        return Err(Error::InvalidConfig { setting: what.into(), message: "must be an object".into() });
    }
    let object = value.coerce_to_object().map_err(|e| InvalidInput::new(what, e.reason))?;
    let mut known = vec![T::FIELDS];
    known.extend_from_slice(more);
    keys::check(&object, &known, what)?;
    T::from_unknown(value).map_err(|e| match failed_field(&e) {
        Some((field, _)) => Error::InvalidConfig { setting: snake_case(&field), message: "has the wrong type".into() },
        None => Error::InvalidConfig { setting: what.into(), message: "must be an object".into() },
    })
}

/// Objects and arrays (napi would read the fields of a string as all absent).
fn is_object(value: &Unknown) -> bool {
    matches!(value.get_type(), Ok(ValueType::Object))
}

fn snake_case(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            s.push('_');
        }
        s.push(c.to_ascii_lowercase());
    }
    s
}

/// A JS number that must be a whole, non-negative count (napi would wrap -1 to 4294967295 for a `u32`).
pub fn count(value: Option<f64>, setting: &str) -> CoreResult<Option<u64>> {
    match value {
        None => Ok(None),
        Some(v) if v >= 0.0 && v.fract() == 0.0 && v <= EXACT => Ok(Some(v as u64)),
        Some(_) => {
            Err(Error::InvalidConfig { setting: setting.into(), message: "must be a whole number, 0 or more".into() })
        }
    }
}

/// [`count`] as milliseconds.
pub fn millis(value: Option<f64>, setting: &str) -> CoreResult<Option<Duration>> {
    Ok(count(value, setting)?.map(Duration::from_millis))
}

/// Client configuration besides credentials (`new Client`, `prepareUpdateRelated`).
#[napi(object)]
pub struct ClientConfig {
    /// `us` (default), `eu`, `in`, `au`, `jp`, `cn`, `ca` or `sa`.
    #[napi(ts_type = "DataCenter")]
    pub data_center: Option<String>,
    /// `production` (default), `sandbox` or `developer`.
    #[napi(ts_type = "Environment")]
    pub environment: Option<String>,
    /// `v2` ... `v8` (default `v5`).
    #[napi(ts_type = "ApiVersion")]
    pub api_version: Option<String>,
    /// Send API calls here instead of the data centre's domain (`https`, or `http` on loopback: the emulator).
    pub base_url: Option<String>,
    /// Refresh tokens here instead of the data centre's accounts server.
    pub accounts_url: Option<String>,
    /// Connection-setup timeout in ms.
    pub connect_timeout_ms: Option<f64>,
    /// Timeout in ms for sending a request and receiving its whole response.
    pub read_timeout_ms: Option<f64>,
    /// Retries of 429 / 5xx / transport failures (0 disables).
    pub max_retries: Option<f64>,
    /// `none`, `env` (default: `HTTPS_PROXY` / `ALL_PROXY` with `NO_PROXY`) or a proxy URL
    /// (`http://user:password@proxy:3128`); loopback never goes through a proxy.
    pub proxy: Option<String>,
    /// A shared budget on Redis (`redis://host:6379/0`, `rediss://` for TLS): one access token, concurrency
    /// limit and credit count for every process working on the org. Redis must answer when the client is built
    /// (unless `onRedisError: 'local'`).
    pub budget: Option<String>,
    /// The budget's key prefix naming the org (default: a hash of the client id and the data centre).
    pub budget_prefix: Option<String>,
    /// `'fail'` (default: stop, never run unguarded) or `'local'` (go on with this process's own limits).
    #[napi(ts_type = "'fail' | 'local'")]
    pub on_redis_error: Option<String>,
    /// The org's concurrency limit the budget enforces (default 10).
    pub budget_concurrency: Option<f64>,
    /// The org's daily credit allowance, if known (for a reserve in percent).
    pub daily_credits: Option<f64>,
}
known_keys!(ClientConfig {
    data_center,
    environment,
    api_version,
    base_url,
    accounts_url,
    connect_timeout_ms,
    read_timeout_ms,
    max_retries,
    proxy,
    budget,
    budget_prefix,
    on_redis_error,
    budget_concurrency,
    daily_credits,
});

/// Authenticate with a ready access token (a 401 is final: it cannot be refreshed).
#[napi(object)]
pub struct AccessTokenCredentials {
    /// The access token (`1000.xxx`).
    pub access_token: String,
}
known_keys!(AccessTokenCredentials { access_token });

/// Authenticate with the refresh-token grant (tokens are cached, shared and refreshed ahead of expiry).
#[napi(object)]
pub struct RefreshTokenCredentials {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: String,
    /// The long-lived refresh token.
    pub refresh_token: String,
}
known_keys!(RefreshTokenCredentials { client_id, client_secret, refresh_token });

/// The core's settings from `new Client(options)`: the credentials of either kind (typed in index.d.ts as
/// `(AccessTokenCredentials | RefreshTokenCredentials) & ClientConfig`) and [`ClientConfig`].
pub fn client_settings(value: Unknown) -> CoreResult<ClientSettings> {
    let config = options::<ClientConfig>(
        value,
        "options",
        &[AccessTokenCredentials::FIELDS, RefreshTokenCredentials::FIELDS, &["on_event"]],
    )?;
    let object = value.coerce_to_object().map_err(|e| InvalidInput::new("options", e.reason))?;
    let secret = |name: &str, setting: &str| {
        object
            .get::<String>(name)
            .map_err(|_| Error::InvalidConfig { setting: setting.into(), message: "must be a string".into() })
    };
    let mut settings = ClientSettings {
        access_token: secret("accessToken", "access_token")?,
        client_id: secret("clientId", "client_id")?,
        client_secret: secret("clientSecret", "client_secret")?,
        refresh_token: secret("refreshToken", "refresh_token")?,
        ..ClientSettings::default()
    };
    apply_config(&mut settings, config)?;
    Ok(settings)
}

/// `config` over `settings` (each setting given replaces the environment's).
pub fn apply_config(settings: &mut ClientSettings, config: ClientConfig) -> CoreResult<()> {
    let ClientConfig {
        data_center,
        environment,
        api_version,
        base_url,
        accounts_url,
        connect_timeout_ms,
        read_timeout_ms,
        max_retries,
        proxy,
        budget,
        budget_prefix,
        on_redis_error,
        budget_concurrency,
        daily_credits,
    } = config;
    let keep = |new: Option<String>, old: &mut Option<String>| {
        if new.is_some() {
            *old = new;
        }
    };
    keep(data_center, &mut settings.data_center);
    keep(environment, &mut settings.environment);
    keep(api_version, &mut settings.api_version);
    keep(base_url, &mut settings.base_url);
    keep(accounts_url, &mut settings.accounts_url);
    keep(proxy, &mut settings.proxy);
    keep(budget, &mut settings.budget);
    keep(budget_prefix, &mut settings.budget_prefix);
    keep(on_redis_error, &mut settings.on_redis_error);
    if let Some(n) = count(budget_concurrency, "budget_concurrency")? {
        settings.budget_concurrency = Some(n as usize);
    }
    if let Some(n) = count(daily_credits, "daily_credits")? {
        settings.daily_credits = Some(n);
    }
    if let Some(t) = millis(connect_timeout_ms, "connect_timeout")? {
        settings.connect_timeout = Some(t);
    }
    if let Some(t) = millis(read_timeout_ms, "read_timeout")? {
        settings.read_timeout = Some(t);
    }
    if let Some(n) = count(max_retries, "max_retries")? {
        settings.max_retries = Some(n.min(u32::MAX.into()) as u32);
    }
    Ok(())
}

/// A parent record addressed by the base module's external field.
#[napi(object)]
pub struct ParentExternal {
    /// The external field, e.g. `External_Contact_ID`.
    pub field: String,
    /// Its value, e.g. `extcontact3`.
    pub value: String,
}

/// One "update related records" call.
#[napi(object, object_to_js = false)]
pub struct UpdateRelatedArgs<'a> {
    /// The base module, e.g. `Contacts`.
    pub module: String,
    /// The parent record: its Zoho record id (a string of digits), or `{ field, value }` of an external field.
    #[napi(ts_type = "string | ParentExternal")]
    pub parent: Either<String, ParentExternal>,
    /// The related list, e.g. `Deals`.
    pub related_list: String,
    /// The related records (at most 100), each keyed by `id` or by `relatedField`, plus relation fields.
    /// Plain objects (interfaces with optional fields are fine: an `undefined` field is left out).
    #[napi(ts_type = "ReadonlyArray<object>")]
    pub records: Vec<Unknown<'a>>,
    /// The related module's external field keying the records; absent: keyed by `id`.
    pub related_field: Option<String>,
    /// The related module, when it differs from the related list's name.
    pub related_module: Option<String>,
}
known_keys!(UpdateRelatedArgs<'a> { module, parent, related_list, records, related_field, related_module });

impl UpdateRelatedArgs<'_> {
    /// The core's plain-data request (records made JSON here, on the JS thread).
    pub fn into_spec(self) -> CoreResult<UpdateRelatedSpec> {
        let records = self
            .records
            .into_iter()
            .enumerate()
            .map(|(i, r)| record_from_js(r).map_err(|why| InvalidInput::new("data", why).at(i)))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(UpdateRelatedSpec {
            module: self.module,
            parent: match self.parent {
                Either::A(id) => ParentRef::Id(id),
                Either::B(p) => ParentRef::External { field: p.field, value: p.value },
            },
            related_list: self.related_list,
            related_module: self.related_module,
            related_field: self.related_field,
            records,
        })
    }
}

/// Where the `prepareUpdateRelated` function builds the request for (no client needed).
#[napi(object, object_to_js = false)]
pub struct PrepareTarget {
    /// `us` (default), `eu`, `in`, `au`, `jp`, `cn`, `ca` or `sa`.
    #[napi(ts_type = "DataCenter")]
    pub data_center: Option<String>,
    /// `production` (default), `sandbox` or `developer`.
    #[napi(ts_type = "Environment")]
    pub environment: Option<String>,
    /// `v2` ... `v8` (default `v5`).
    #[napi(ts_type = "ApiVersion")]
    pub api_version: Option<String>,
    /// A base URL instead of the data centre's domain.
    pub base_url: Option<String>,
    /// An access token: validated, and then shown as `Zoho-oauthtoken ***` in `headers` and `toCurl()`.
    pub access_token: Option<String>,
}
known_keys!(PrepareTarget { data_center, environment, api_version, base_url, access_token });

impl PrepareTarget {
    /// The core's settings for it.
    pub fn into_settings(self) -> ClientSettings {
        ClientSettings {
            access_token: self.access_token,
            data_center: self.data_center,
            environment: self.environment,
            api_version: self.api_version,
            base_url: self.base_url,
            ..ClientSettings::default()
        }
    }
}

/// The result for one input record.
#[napi(object, object_from_js = false)]
pub struct Outcome {
    /// The record's 0-based index in the input.
    pub index: u32,
    /// True when the record succeeded.
    pub ok: bool,
    /// `SUCCESS`, or the failure's code (`INVALID_DATA`, `MANDATORY_NOT_FOUND`, ...).
    pub code: String,
    /// Zoho's (or the client's) message.
    pub message: String,
    /// Zoho's details (`id`, `api_name`, `json_path`, ...).
    #[napi(ts_type = "Record<string, JsonValue>")]
    pub details: Map<String, Value>,
    /// The Zoho record id in `details.id` (for a success: the related record's id). Always a string.
    pub id: Option<String>,
    /// For a failure: the HTTP status of the response that carried it.
    pub status: Option<u32>,
}

impl From<&CoreOutcome> for Outcome {
    fn from(o: &CoreOutcome) -> Self {
        Outcome {
            index: o.index as u32,
            ok: o.is_success(),
            code: o.code().to_owned(),
            message: o.message().to_owned(),
            details: details_for_js(o.details()),
            id: o.id().map(str::to_owned),
            status: o.result.as_ref().err().and_then(|f| f.status).map(u32::from),
        }
    }
}

/// The result of one call: one outcome per input record, in input order (a 207 is a normal result).
#[napi(object, object_from_js = false)]
pub struct UpdateResult {
    /// 200 (all succeeded), 207 (mixed) or 400 (all failed).
    pub status: u32,
    /// One per input record, in input order.
    pub outcomes: Vec<Outcome>,
    /// `X-API-CREDITS-REMAINING`, sent by Zoho once half the day's credits are used.
    pub credits_remaining: Option<f64>,
    /// True when every record succeeded.
    pub all_succeeded: bool,
    /// How many records succeeded.
    pub succeeded: u32,
    /// How many records failed.
    pub failed: u32,
}

impl From<CoreResponse> for UpdateResult {
    fn from(r: CoreResponse) -> Self {
        let succeeded = r.outcomes.iter().filter(|o| o.is_success()).count() as u32;
        UpdateResult {
            status: r.status.into(),
            all_succeeded: r.all_succeeded(),
            succeeded,
            failed: r.outcomes.len() as u32 - succeeded,
            outcomes: r.outcomes.iter().map(Outcome::from).collect(),
            credits_remaining: r.credits_remaining.map(|c| c as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn whole_numbers_from_js_become_integers_within_2_53() {
        let from_js = json!({"a": 5_000_000_000.0, "b": [1.5, -3.0], "c": 1e300});
        assert_eq!(json_from_js(from_js).to_string(), r#"{"a":5000000000,"b":[1.5,-3],"c":1e+300}"#);
    }

    #[test]
    fn integers_beyond_2_53_reach_js_as_numbers_not_bigints() {
        let v = json_for_js(json!({"id": "111111000000085009", "n": 111111000000085009u64, "m": 7}));
        assert!(v["n"].is_f64());
        assert_eq!((v["id"].as_str(), v["m"].as_i64()), (Some("111111000000085009"), Some(7)));
    }

    #[test]
    fn counts_and_setting_names() {
        assert_eq!(count(Some(3.0), "x").unwrap(), Some(3));
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY] {
            assert!(matches!(count(Some(bad), "x"), Err(Error::InvalidConfig { setting, .. }) if setting == "x"));
        }
        assert_eq!(snake_case("connectTimeoutMs"), "connect_timeout_ms");
    }
}
