//! Core errors -> `ZcrmError` (a real `Error` subclass, created by `glue.js`): one conversion, [`instance`],
//! reading the core's [`ErrorView`] with no `..` and no wildcard arm, so a new field or variant of the core's
//! error fails to compile here until it is mapped. `kind`, `category` and `code` are typed in index.d.ts by the
//! string enums below, generated from the core's tables (`ErrorCode` from `zcrm_extid::error_code_table!`),
//! never written by hand.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Value, json};
use zcrm_extid::error_view::{ErrorFields, ErrorView};
use zcrm_extid::{Error, ErrorCategory as CoreCategory, ErrorKind as CoreKind};

use crate::convert::json_for_js;
use crate::glue;

/// Every error zcrm-extid throws, or rejects a Promise with: a subclass of `Error` (so `instanceof ZcrmError` and
/// `instanceof Error` hold) with a stable `code`, its `kind` and `category`, whether it is `retryable`, the HTTP
/// `status` and Zoho's `details`.
// The generated loader exports this name (to ES modules too); the real class replaces the placeholder when the
// addon loads (glue.rs), and its fields are declared in node/dts-header.d.ts.
#[napi]
pub struct ZcrmError {}

/// Which part of the client failed (the core's `ErrorKind`).
#[napi(string_enum)]
pub enum ErrorKind {
    /// An argument or record failed validation; nothing was sent.
    InvalidInput,
    /// The client configuration is unusable; nothing was sent.
    InvalidConfig,
    /// Zoho answered with an error object.
    Api,
    /// The token endpoint refused to issue a token.
    Auth,
    /// The connection failed or dropped.
    Transport,
    /// A timeout elapsed.
    Timeout,
    /// The answer is not a Zoho response.
    UnexpectedResponse,
    /// The call was cancelled (an `AbortSignal`).
    Cancelled,
    /// A bug in the client (a caught panic).
    Internal,
}

fn kind_name(kind: CoreKind) -> &'static str {
    match kind {
        CoreKind::InvalidInput => "InvalidInput",
        CoreKind::InvalidConfig => "InvalidConfig",
        CoreKind::Api => "Api",
        CoreKind::Auth => "Auth",
        CoreKind::Transport => "Transport",
        CoreKind::Timeout => "Timeout",
        CoreKind::UnexpectedResponse => "UnexpectedResponse",
        CoreKind::Cancelled => "Cancelled",
        CoreKind::Internal => "Internal",
    }
}

/// What kind of failure a `ZcrmError` is, whatever produced it (the core's `ErrorCategory`): what a program
/// branches on (retry later? fix the data? fix the credentials?).
#[napi(string_enum = "snake_case")]
pub enum ErrorCategory {
    /// The request or its data is wrong.
    InvalidInput,
    /// The client's settings are wrong.
    Config,
    /// The credentials are not accepted.
    Auth,
    /// The credentials may not do this (scope, permission, edition).
    Permission,
    /// The module, route, API or version does not exist.
    NotFound,
    /// The data conflicts with Zoho's (a duplicate, a record changed meanwhile).
    Conflict,
    /// A rate, concurrency or credit limit: wait and retry.
    RateLimited,
    /// Zoho (or something in front of it) failed.
    Server,
    /// The network failed or timed out.
    Network,
    /// The call or job was cancelled.
    Cancelled,
    /// A bug in this client.
    Client,
}

/// The category as index.d.ts spells it (the `ErrorCategory` union above; a test checks both against the core).
fn category_name(category: CoreCategory) -> &'static str {
    match category {
        CoreCategory::InvalidInput => "invalid_input",
        CoreCategory::Config => "config",
        CoreCategory::Auth => "auth",
        CoreCategory::Permission => "permission",
        CoreCategory::NotFound => "not_found",
        CoreCategory::Conflict => "conflict",
        CoreCategory::RateLimited => "rate_limited",
        CoreCategory::Server => "server",
        CoreCategory::Network => "network",
        CoreCategory::Cancelled => "cancelled",
        CoreCategory::Client => "client",
    }
}

macro_rules! node_error_codes {
    ($( $(#[doc = $doc:tt])* $variant:ident = $text:tt, $category:ident, $retryable:tt; )*) => {
        /// Every code the client knows (`error.code`; a code Zoho adds later is passed on verbatim).
        #[napi(string_enum)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* #[napi(value = $text)] $variant, )*
        }
    };
}
zcrm_extid::error_code_table!(node_error_codes);

/// One known code and how the client classifies it.
#[napi(object, object_from_js = false)]
pub struct ErrorCodeInfo {
    /// The code.
    #[napi(ts_type = "ErrorCode")]
    pub code: String,
    /// Its category.
    #[napi(ts_type = "ErrorCategory")]
    pub category: String,
    /// Whether sending the same call again, after a wait, may succeed.
    pub retryable: bool,
}

/// Every code the client knows, with its category and whether it is retryable (the core's table).
#[napi]
pub fn error_codes() -> Vec<ErrorCodeInfo> {
    zcrm_extid::ErrorCode::ALL
        .iter()
        .map(|code| ErrorCodeInfo {
            code: code.as_str().to_owned(),
            category: code.category().map(category_name).unwrap_or_default().to_owned(),
            retryable: code.retryable(),
        })
        .collect()
}

/// One enumerated setting and the values it accepts.
#[napi(object, object_from_js = false)]
pub struct SettingChoices {
    /// `data_center`, `environment`, `api_version` or `edition`.
    pub setting: String,
    /// Its values, as the core spells them (what the `DataCenter`, `Environment`, `ApiVersion` and `Edition`
    /// types list).
    pub values: Vec<String>,
}

/// The values each enumerated setting accepts (the core's lists).
#[napi]
pub fn settings_choices() -> Vec<SettingChoices> {
    zcrm_extid::settings::choices()
        .into_iter()
        .map(|(setting, values)| SettingChoices {
            setting: setting.to_owned(),
            values: values.into_iter().map(str::to_owned).collect(),
        })
        .collect()
}

/// The JS error for `error`, to throw or reject with: a `ZcrmError` (see [`instance`]).
pub fn to_js(env: &Env, error: &Error) -> napi::Error {
    match instance(env, error) {
        Ok(object) => napi::Error::from(object.to_unknown()),
        Err(_) => napi::Error::new(Status::GenericFailure, error.to_string()),
    }
}

/// The message and the fields of the `ZcrmError` for `error`: `code`, `kind`, `category`, `retryable`,
/// `details`, `status`, `hint`, and the fields of its kind (`argument`/`index`/`field`/`location`, `setting`,
/// `apiMessage`, `oauthError`/`description`, `reason`/`contentType`/`bodyPrefix`, `cause` for a transport
/// error's I/O error). Core errors never hold secrets, so neither does the JS error.
pub fn fields<'e>(env: &'e Env, error: &Error) -> Result<(String, Unknown<'e>)> {
    let ErrorView { code, category, retryable, status, text, message, details, fields } = error.view();
    // `message` is the text without the code; a JS error's `message` is the whole text.
    let _ = message;
    let mut f = Map::new();
    f.insert("code".into(), code.as_str().into());
    f.insert("kind".into(), json!(kind_name(fields.kind())));
    f.insert("category".into(), json!(category_name(category)));
    f.insert("retryable".into(), retryable.into());
    f.insert("details".into(), Value::Object(details.cloned().unwrap_or_default()));
    if let Some(status) = status {
        f.insert("status".into(), status.into());
    }
    let mut put = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            f.insert(name.into(), v.into());
        }
    };
    let mut source = None;
    match fields {
        ErrorFields::InvalidInput { argument, index, field, location, reason: _ } => {
            put("argument", Some(argument));
            put("location", Some(&location));
            put("field", field);
            if let Some(i) = index {
                f.insert("index".into(), i.into());
            }
        }
        ErrorFields::InvalidConfig { setting } => put("setting", Some(setting)),
        // `configured` and `api_domain` are in `details` too.
        ErrorFields::ApiDomainMismatch { setting, configured: _, api_domain: _ } => put("setting", Some(setting)),
        ErrorFields::Api { api_message, hint } => {
            put("apiMessage", Some(api_message));
            put("hint", hint);
        }
        ErrorFields::Auth { error, description, hint } => {
            put("oauthError", Some(error));
            put("description", description);
            put("hint", hint);
        }
        ErrorFields::Transport { source: io } | ErrorFields::Timeout { source: io } => source = io,
        ErrorFields::UnexpectedResponse { reason, content_type, body_prefix } => {
            put("reason", Some(reason));
            put("bodyPrefix", Some(body_prefix));
            put("contentType", content_type);
        }
        ErrorFields::Cancelled | ErrorFields::Internal => {}
        ErrorFields::Budget { code } => {
            if *code == zcrm_extid::ErrorCode::BudgetAuth {
                put("setting", Some("budget"));
            }
        }
    }
    let mut object = env.to_js_value(&json_for_js(Value::Object(f)))?.coerce_to_object()?;
    if let Some(io) = source {
        let mut cause = Map::new();
        cause.insert("kind".into(), format!("{:?}", io.kind()).into());
        if let Some(errno) = io.raw_os_error() {
            cause.insert("errno".into(), errno.into());
        }
        let cause: Unknown =
            glue::call(env, "plainError", FnArgs::from((io.to_string(), env.to_js_value(&Value::Object(cause))?)))?;
        object.set_named_property("cause", cause)?;
    }
    Ok((text, object.to_unknown()))
}

/// A `ZcrmError` for `error`, not yet thrown (see [`fields`]).
pub fn instance<'e>(env: &'e Env, error: &Error) -> Result<Object<'e>> {
    let (text, fields) = fields(env, error)?;
    let class: Function<FnArgs<(String, Unknown)>, Unknown> = glue::helpers(env)?.get_named_property("ZcrmError")?;
    class.new_instance(FnArgs::from((text, fields)))?.coerce_to_object()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_names_are_the_cores() {
        for category in CoreCategory::ALL {
            assert_eq!(category_name(category), category.as_str());
        }
    }
}
