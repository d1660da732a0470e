//! `PUT /{M}/{x}/{RL}` (and the single-record form `/{M}/{x}/{RL}/{y}`): link related records.
//!
//! Body checks (choices marked * where Zoho is silent):
//!
//! | body | answer |
//! |---|---|
//! | empty or not JSON | 400 `UNABLE_TO_PARSE_DATA_TYPE` * |
//! | no `data` key | 400 `MANDATORY_NOT_FOUND`, `api_name: data` * |
//! | `data` not an array, or empty | 400 `INVALID_DATA`, `api_name: data` * |
//! | more than 100 records | 400 `LIMIT_EXCEEDED`, `limit: 100` |
//!
//! Then each record on its own, in input order (a failed record does not stop the others):
//!
//! | record | result |
//! |---|---|
//! | not an object | `INVALID_DATA`, `json_path: $.data[i]` |
//! | header names the related module, its external field missing | `MANDATORY_NOT_FOUND`, `api_name`, `json_path` |
//! | ... present but not a non-empty string | `INVALID_DATA`, `expected_data_type: text` |
//! | ... no record has that value | `INVALID_DATA` "the related id given seems to be invalid" |
//! | otherwise `id` missing | `MANDATORY_NOT_FOUND`, `api_name: id` |
//! | `id` not digits (string or number) / no such record | `INVALID_DATA` |
//! | a field that is not a relation field of the list (`id` is ignored when keyed by the external field, as Zoho documents for lookups) | `INVALID_DATA`, `api_name` * |
//! | else | linked (or relinked: relation fields replaced): `SUCCESS` "relation added" with `details` = the external field (if keyed by it) then `id` |
//!
//! Status: 200 if every record succeeded, 207 if some did, 400 if none did; the `data` array is in input order.

use serde_json::{Map, Value, json};

use crate::api::{Ctx, error, multi_status, related_id};
use crate::http::Response;
use crate::state::Org;

/// At most this many records per call.
pub const MAX_RECORDS: usize = 100;

pub(crate) fn item_error(code: &str, message: &str, details: Value) -> Value {
    json!({"code": code, "details": details, "message": message, "status": "error"})
}

/// Handles the PUT.
pub fn handle(org: &mut Org, ctx: &Ctx, single: Option<&str>, body: Option<&Value>, raw: &[u8]) -> Response {
    let records: Vec<Value> = match single {
        Some(y) => {
            // Single form: the key comes from the path; the body, if any, holds the relation fields.
            let mut item = match body.and_then(|b| b.get("data")).and_then(Value::as_array).and_then(|a| a.first()) {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            let key = ctx.related_field.clone().unwrap_or_else(|| "id".to_owned());
            item.insert(key, Value::String(y.to_owned()));
            vec![Value::Object(item)]
        }
        None => match data_records(body, raw) {
            Ok(records) => records,
            Err(response) => return response,
        },
    };
    let results: Vec<Value> = records.iter().enumerate().map(|(i, r)| link_one(org, ctx, i, r)).collect();
    multi_status(results)
}

/// The records of a write's body (`{"data":[...]}`), or the answer to a body without usable records: see the
/// first table of the module docs (the records API answers the same).
pub fn data_records(body: Option<&Value>, raw: &[u8]) -> Result<Vec<Value>, Response> {
    let Some(body) = body.filter(|_| !raw.iter().all(u8::is_ascii_whitespace)) else {
        return Err(error(
            400,
            "UNABLE_TO_PARSE_DATA_TYPE",
            "either the request body or parameters is in wrong format",
            json!({}),
        ));
    };
    match body.get("data") {
        None => Err(error(
            400,
            "MANDATORY_NOT_FOUND",
            "required field not found",
            json!({"api_name": "data", "json_path": "$.data"}),
        )),
        Some(Value::Array(a)) if a.is_empty() => Err(error(
            400,
            "INVALID_DATA",
            "the data array is empty",
            json!({"api_name": "data", "json_path": "$.data"}),
        )),
        Some(Value::Array(a)) if a.len() > MAX_RECORDS => Err(error(
            400,
            "LIMIT_EXCEEDED",
            "Limit Exceeded, You cannot give more than 100 records",
            json!({"limit": MAX_RECORDS.to_string(), "api_name": "data"}),
        )),
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(_) => Err(error(
            400,
            "INVALID_DATA",
            "invalid data",
            json!({"api_name": "data", "json_path": "$.data", "expected_data_type": "jsonarray"}),
        )),
    }
}

fn link_one(org: &mut Org, ctx: &Ctx, i: usize, record: &Value) -> Value {
    let Value::Object(item) = record else {
        return item_error(
            "INVALID_DATA",
            "invalid data",
            json!({"json_path": format!("$.data[{i}]"), "expected_data_type": "jsonobject"}),
        );
    };
    let key_field = ctx.related_field.as_deref().unwrap_or("id");
    let path = |f: &str| format!("$.data[{i}].{f}");
    let key = match item.get(key_field) {
        None | Some(Value::Null) => {
            return item_error(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({"api_name": key_field, "json_path": path(key_field)}),
            );
        }
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) if ctx.related_field.is_none() && n.is_u64() => n.to_string(),
        Some(_) => {
            let expected = if ctx.related_field.is_some() { "text" } else { "bigint" };
            return item_error(
                "INVALID_DATA",
                "invalid data",
                json!({"api_name": key_field, "json_path": path(key_field), "expected_data_type": expected}),
            );
        }
    };
    let Some(related) = related_id(org, ctx, &key) else {
        return item_error(
            "INVALID_DATA",
            "the related id given seems to be invalid",
            json!({"api_name": key_field, "json_path": path(key_field)}),
        );
    };
    let mut fields = Map::new();
    for (k, v) in item {
        if k == key_field || (k == "id" && ctx.related_field.is_some()) {
            continue;
        }
        if !ctx.list.relation_fields.iter().any(|f| f == k) {
            return item_error("INVALID_DATA", "invalid data", json!({"api_name": k, "json_path": path(k)}));
        }
        fields.insert(k.clone(), v.clone());
    }
    org.relate(&ctx.list, &ctx.parent_id, &related, fields);
    let mut details = Map::new();
    if let Some(f) = &ctx.related_field {
        details.insert(f.clone(), Value::String(key));
    }
    details.insert("id".into(), Value::String(related));
    json!({"code": "SUCCESS", "details": details, "message": "relation added", "status": "success"})
}
