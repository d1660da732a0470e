//! Core errors -> `ZcrmError` (a real `Error` subclass, see `zcrm_error.js`): one conversion function,
//! [`to_js`], matching the core's exhaustive `ErrorKind` with no wildcard arm.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Value, json};
use zcrm_extid::{Error, ErrorKind};

use crate::convert::json_for_js;

/// Every error zcrm-extid throws, or rejects a Promise with: a subclass of `Error` (so `instanceof ZcrmError` and
/// `instanceof Error` hold) with a stable `code`, its `kind`, the HTTP `status` and Zoho's `details`.
// The generated loader exports this name (to ES modules too); the real class replaces the placeholder when the
// addon loads (`install`, `zcrm_error.js`), and its fields are declared in node/dts-header.d.ts.
#[napi]
pub struct ZcrmError {}

/// The `ZcrmError` constructor: `new ZcrmError(message, fields)`.
type Ctor = FunctionRef<FnArgs<(String, Value)>, Unknown<'static>>;

/// Per-env instance data: the class, so errors can be built from any call on the JS thread.
struct ErrorClass(Ctor);

/// Runs once per addon instance, after the `#[napi]` items are registered: creates the real `ZcrmError` and
/// exports it in place of the placeholder class.
#[napi(module_exports)]
pub fn install(mut exports: Object, env: Env) -> Result<()> {
    let class: Function<FnArgs<(String, Value)>, Unknown> = env.run_script(include_str!("zcrm_error.js"))?;
    env.set_instance_data(ErrorClass(class.create_ref()?), (), |_| {})?;
    crate::related::install(&env, &exports)?;
    crate::reconcile::install(&env, &exports)?;
    exports.set_named_property("ZcrmError", class)
}

/// The JS error for `error`, to throw or reject with: a `ZcrmError` with `code`, `kind`, `status`, `details`,
/// `hint`, and the fields of its kind (`argument`/`index`/`field`/`location`, `setting`, `apiMessage`,
/// `oauthError`/`description`, `reason`/`contentType`/`bodyPrefix`). Core errors never hold secrets, so
/// neither does the JS error.
pub fn to_js(env: &Env, error: &Error) -> napi::Error {
    let message = error.to_string();
    instance(env, error).map(napi::Error::from).unwrap_or_else(|_| napi::Error::new(Status::GenericFailure, message))
}

/// [`to_js`] with one more property, e.g. the partial `report` of a stopped bulk job.
pub fn to_js_with<V: ToNapiValue>(env: &Env, error: &Error, name: &str, value: V) -> napi::Error {
    let message = error.to_string();
    instance(env, error)
        .and_then(|unknown| {
            let mut obj = unknown.coerce_to_object()?;
            obj.set_named_property(name, value)?;
            Ok(napi::Error::from(unknown))
        })
        .unwrap_or_else(|_| napi::Error::new(Status::GenericFailure, message))
}

fn instance<'e>(env: &'e Env, error: &Error) -> Result<Unknown<'e>> {
    let mut f = Map::new();
    f.insert("code".into(), error.code().as_str().into());
    f.insert("details".into(), Value::Object(error.details().cloned().unwrap_or_default()));
    if let Some(status) = error.status() {
        f.insert("status".into(), status.into());
    }
    let kind = match error.kind() {
        ErrorKind::InvalidInput => {
            if let Some(e) = error.invalid_input() {
                f.insert("argument".into(), e.argument.clone().into());
                f.insert("location".into(), e.location().into());
                if let Some(i) = e.index {
                    f.insert("index".into(), i.into());
                }
                if let Some(field) = &e.field {
                    f.insert("field".into(), field.clone().into());
                }
            }
            "InvalidInput"
        }
        ErrorKind::InvalidConfig => {
            if let Some(setting) = error.setting() {
                f.insert("setting".into(), setting.into());
            }
            "InvalidConfig"
        }
        ErrorKind::Api => {
            if let Error::Api { message, hint, .. } = error {
                f.insert("apiMessage".into(), message.clone().into());
                if let Some(h) = hint {
                    f.insert("hint".into(), h.clone().into());
                }
            }
            "Api"
        }
        ErrorKind::Auth => {
            if let Error::Auth { error: oauth_error, description, hint, .. } = error {
                f.insert("oauthError".into(), oauth_error.clone().into());
                if let Some(d) = description {
                    f.insert("description".into(), d.clone().into());
                }
                if let Some(h) = hint {
                    f.insert("hint".into(), h.clone().into());
                }
            }
            "Auth"
        }
        ErrorKind::Transport => "Transport",
        ErrorKind::Timeout => "Timeout",
        ErrorKind::Cancelled => "Cancelled",
        ErrorKind::Internal => "Internal",
        ErrorKind::UnexpectedResponse => {
            if let Error::UnexpectedResponse { reason, content_type, body_prefix, .. } = error {
                f.insert("reason".into(), reason.clone().into());
                f.insert("bodyPrefix".into(), body_prefix.clone().into());
                if let Some(ct) = content_type {
                    f.insert("contentType".into(), ct.clone().into());
                }
            }
            "UnexpectedResponse"
        }
    };
    f.insert("kind".into(), json!(kind));
    let class =
        env.get_instance_data::<ErrorClass>()?.ok_or_else(|| napi::Error::from_reason("ZcrmError is not installed"))?;
    let fields = json_for_js(Value::Object(f));
    class.0.borrow_back(env)?.new_instance(FnArgs::from((error.to_string(), fields)))
}
