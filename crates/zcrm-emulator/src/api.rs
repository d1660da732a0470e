//! CRM API routing under `/crm/{version}/`, authentication, and the checks shared by the related-records
//! operations (module, scope, permission, related list, `X-EXTERNAL`, parent record).
//!
//! Order of checks, and the answer of each (choices marked * are the emulator's where Zoho is silent):
//!
//! | check | failure |
//! |---|---|
//! | version is v2, v2.1, v3 ... v8; path segments decode to UTF-8 | 404 `INVALID_URL_PATTERN` |
//! | `Authorization: Zoho-oauthtoken <token>` present | 401 `AUTHENTICATION_FAILURE` |
//! | token known and not expired | 401 `INVALID_TOKEN` |
//! | concurrency, sub-concurrency, credits (see [`crate::server`]) | 429 `TOO_MANY_REQUESTS` |
//! | route shape (`/{M}/{x}/{RL}[/{y}]`, the records routes `/{M}[/{x}]` of [`crate::records`], metadata routes) | 404 `INVALID_URL_PATTERN` |
//! | method allowed on the route | 400 `INVALID_REQUEST_METHOD` |
//! | module exists (and exists in this version: no Appointments/Services before v3) | 400 `INVALID_MODULE`, `resource_path_index: 0` |
//! | module supported by the API | 400 `INVALID_MODULE` "The given module is not supported in API" for PUT and DELETE (as those pages name it), `NOT_SUPPORTED` for GET; `resource_path_index: 0` |
//! | token scope: `ZohoCRM.modules.all` or `ZohoCRM.modules.{m}.{ALL\|WRITE\|UPDATE}` (READ for GET, DELETE for DELETE) | 401 `OAUTH_SCOPE_MISMATCH` |
//! | profile may edit the module | 403 `NO_PERMISSION`, `permissions` |
//! | related list exists on the module | 400 `INVALID_DATA` "The relation name given seems to be invalid", `resource_path_index: 2` |
//! | * `X-EXTERNAL` parses (the emulator's own parser, [`crate::wire`]) and every pair is `Module.Field` for the base or related module, naming one of its external fields | 400 `INVALID_DATA`, `details.header: "X-EXTERNAL"` |
//! | base external value exists (header names the base module) | 400 `INVALID_DATA` "invalid external ID for the base module", `api_name`, `resource_path_index: 1` |
//! | * otherwise the path value is a record id: digits | 400 `INVALID_DATA` "the id given seems to be invalid", `resource_path_index: 1` |
//! | and exists | 404 `INVALID_DATA` "The record does not exist", `resource_path_index: 1` (OAS) |
//!
//! Names (modules, related lists, fields) and external values are case-sensitive *. A value in the path is
//! percent-decoded as one segment, so `a%2Fb` is the value `a/b` *; a `%` not followed by two hex digits is
//! kept literally (as most servers do) *, and an escape that decodes to invalid UTF-8 is `INVALID_URL_PATTERN`.

use serde_json::{Value, json};

use crate::http::{Request, Response, zoho_error};
use crate::oauth::TokenProblem;
use crate::server::{Shared, lock};
use crate::state::{Module, Org, RelatedListDef};
use crate::wire::{decode_segment, parse_x_external, scope_name};
use crate::{metadata, records, related_delete, related_put, related_read};

/// Versions the emulator serves.
pub const VERSIONS: [&str; 8] = ["v2", "v2.1", "v3", "v4", "v5", "v6", "v7", "v8"];

/// A call that passed authentication.
#[derive(Debug)]
pub struct Authenticated {
    /// `v5`, ...
    pub version: String,
    /// Decoded path segments after the version.
    pub segments: Vec<String>,
    /// The token's scopes.
    pub scopes: Vec<String>,
    /// The request body parsed as JSON, if it is JSON.
    pub body: Option<Value>,
    /// The number of records in `body.data` (0 if none).
    pub records: usize,
}

/// A Zoho error response.
pub fn error(status: u16, code: &str, message: &str, details: Value) -> Response {
    Response::json(status, &zoho_error(code, message, details))
}

/// A `data` array of per-record results: 200 if every record succeeded, 207 if some did, 400 if none did.
pub fn multi_status(results: Vec<Value>) -> Response {
    let ok = results.iter().filter(|r| r["status"] == "success").count();
    let status = match ok {
        n if n == results.len() => 200,
        0 => 400,
        _ => 207,
    };
    Response::json(status, &json!({"data": results}))
}

fn url_pattern() -> Response {
    error(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", json!({}))
}

/// Parses the path and checks the token.
pub(crate) fn authenticate(shared: &Shared, request: &Request) -> Result<Authenticated, Response> {
    let mut raw = request.path.trim_start_matches('/').split('/');
    let (Some("crm"), Some(version)) = (raw.next(), raw.next()) else { return Err(url_pattern()) };
    if !VERSIONS.contains(&version) {
        return Err(url_pattern());
    }
    let segments = raw
        .map(decode_segment)
        .collect::<Option<Vec<String>>>()
        .filter(|s| !s.is_empty() && s.iter().all(|x| !x.is_empty()))
        .ok_or_else(url_pattern)?;
    let token = match request.header("authorization") {
        Some(v) => match v.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("Zoho-oauthtoken") && !t.trim().is_empty() => t.trim(),
            _ => return Err(error(401, "AUTHENTICATION_FAILURE", "Authentication failed", json!({}))),
        },
        None => return Err(error(401, "AUTHENTICATION_FAILURE", "Authentication failed", json!({}))),
    };
    let scopes = match lock(&shared.tokens).check(token) {
        Ok(s) => s.to_vec(),
        Err(TokenProblem::Unknown | TokenProblem::Expired) => {
            return Err(error(401, "INVALID_TOKEN", "invalid oauth token", json!({})));
        }
    };
    let body: Option<Value> = serde_json::from_slice(&request.body).ok();
    let records = body.as_ref().and_then(|b| b.get("data")).and_then(Value::as_array).map_or(0, Vec::len);
    Ok(Authenticated { version: version.to_owned(), segments, scopes, body, records })
}

/// Dispatches an authenticated call.
pub(crate) fn route(shared: &Shared, request: &Request, call: Authenticated) -> Response {
    let segs: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let method = request.method.as_str();
    match segs.as_slice() {
        ["users"] | ["org"] | ["settings", _] => {
            if method != "GET" {
                return invalid_method();
            }
            metadata::handle(shared, request, &segs)
        }
        [module, record, list] | [module, record, list, _] => {
            let single = segs.get(3).copied();
            let ttl = lock(&shared.runtime).page_token_ttl_secs;
            let mut org = lock(&shared.org);
            let op = match method {
                "PUT" => Op::Update,
                "GET" => Op::Read,
                "DELETE" => Op::Delete,
                _ => return invalid_method(),
            };
            let ctx = match resolve(&org, &call, op, module, record, list, request.header("x-external")) {
                Ok(ctx) => ctx,
                Err(r) => return r,
            };
            match op {
                Op::Update => related_put::handle(&mut org, &ctx, single, call.body.as_ref(), &request.body),
                Op::Read => related_read::get(&org, &ctx, single, request, &call.version, ttl),
                Op::Delete => related_delete::delete(&mut org, &ctx, single, request),
            }
        }
        [_] | [_, _] => records::route(shared, request, &call),
        _ => url_pattern(),
    }
}

/// The operation, for scope and permission checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// PUT.
    Update,
    /// GET.
    Read,
    /// DELETE.
    Delete,
}

/// What the shared checks established.
#[derive(Debug)]
pub struct Ctx {
    /// Base module.
    pub module: String,
    /// The related list.
    pub list: RelatedListDef,
    /// The parent record's id.
    pub parent_id: String,
    /// The related module's external field, if `X-EXTERNAL` names the related module.
    pub related_field: Option<String>,
}

fn scope_ok(scopes: &[String], module: &str, op: Op) -> bool {
    let m = scope_name(module);
    let ops: &[&str] = match op {
        Op::Update => &["ALL", "WRITE", "UPDATE"],
        Op::Read => &["ALL", "READ"],
        Op::Delete => &["ALL", "WRITE", "DELETE"],
    };
    scopes.iter().any(|s| {
        let s = s.trim();
        s.eq_ignore_ascii_case("ZohoCRM.modules.all")
            || ops.iter().any(|o| s.eq_ignore_ascii_case(&format!("ZohoCRM.modules.{m}.{o}")))
    })
}

/// The module exists in this version and the API supports it (the first checks of every route on a module).
pub fn check_module<'o>(org: &'o Org, version: &str, module: &str, read: bool) -> Result<&'o Module, Response> {
    let invalid =
        || error(400, "INVALID_MODULE", "The module name given seems to be invalid", json!({"resource_path_index": 0}));
    let Some(m) = org.module(module) else { return Err(invalid()) };
    if let Some(since) = &m.since_version {
        let pos = |v: &str| VERSIONS.iter().position(|x| *x == v).unwrap_or(0);
        if pos(version) < pos(since) {
            return Err(invalid());
        }
    }
    if !m.api_supported {
        return Err(error(
            400,
            if read { "NOT_SUPPORTED" } else { "INVALID_MODULE" },
            "The given module is not supported in API",
            json!({"resource_path_index": 0}),
        ));
    }
    Ok(m)
}

/// 400 `INVALID_REQUEST_METHOD`.
pub fn invalid_method() -> Response {
    error(400, "INVALID_REQUEST_METHOD", "The http request method type is not a valid one", json!({}))
}

fn header_error(message: String) -> Response {
    error(400, "INVALID_DATA", &message, json!({"header": "X-EXTERNAL"}))
}

/// The checks of the module docs, from the module to the parent record.
pub fn resolve(
    org: &Org,
    call: &Authenticated,
    op: Op,
    module: &str,
    record: &str,
    list: &str,
    x_external: Option<&str>,
) -> Result<Ctx, Response> {
    let m = check_module(org, &call.version, module, op == Op::Read)?;
    if !scope_ok(&call.scopes, module, op) {
        return Err(error(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL", json!({})));
    }
    if op != Op::Read && !m.editable {
        return Err(error(
            403,
            "NO_PERMISSION",
            "permission denied",
            json!({"permissions": [format!("Crm_Implied_Edit_{module}")]}),
        ));
    }
    let Some(list_def) = org.related_list(module, list) else {
        return Err(error(
            400,
            "INVALID_DATA",
            "The relation name given seems to be invalid",
            json!({"resource_path_index": 2}),
        ));
    };
    let (mut base_field, mut related_field) = (None, None);
    if let Some(text) = x_external.filter(|t| !t.trim().is_empty()) {
        let pairs = parse_x_external(text).map_err(|e| header_error(format!("invalid X-EXTERNAL header: {e}")))?;
        for pair in &pairs {
            if !pair.is_simple() {
                return Err(header_error(format!("{pair}: lookup paths do not apply to related records")));
            }
            let (which, target) = if pair.module == module {
                (&mut base_field, module)
            } else if pair.module == list_def.related_module {
                (&mut related_field, list_def.related_module.as_str())
            } else {
                return Err(header_error(format!(
                    "{pair}: {} is neither the base module {module} nor the related module {}",
                    pair.module, list_def.related_module
                )));
            };
            let externals = &org.module(target).expect("related module exists").external_fields;
            if !externals.iter().any(|f| f == pair.field.as_str()) {
                return Err(error(
                    400,
                    "INVALID_DATA",
                    &format!("{} is not an external field of {target}", pair.field),
                    json!({"api_name": pair.field.as_str(), "header": "X-EXTERNAL"}),
                ));
            }
            *which = Some(pair.field.to_string());
        }
    }
    let parent_id = match &base_field {
        Some(field) => match org.find_external(module, field, record) {
            Some(id) => id.to_owned(),
            None => {
                return Err(error(
                    400,
                    "INVALID_DATA",
                    "You have specified an invalid external ID for the base module",
                    json!({"api_name": field, "resource_path_index": 1}),
                ));
            }
        },
        None if !record.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(error(
                400,
                "INVALID_DATA",
                "the id given seems to be invalid",
                json!({"resource_path_index": 1}),
            ));
        }
        None if !org.has_record(module, record) => {
            return Err(error(404, "INVALID_DATA", "The record does not exist", json!({"resource_path_index": 1})));
        }
        None => record.to_owned(),
    };
    Ok(Ctx { module: module.to_owned(), list: list_def.clone(), parent_id, related_field })
}

/// Resolves a related record by `value`: the related external field's value, or a record id.
pub fn related_id(org: &Org, ctx: &Ctx, value: &str) -> Option<String> {
    match &ctx.related_field {
        Some(f) => org.find_external(&ctx.list.related_module, f, value).map(str::to_owned),
        None => org.has_record(&ctx.list.related_module, value).then(|| value.to_owned()),
    }
}
