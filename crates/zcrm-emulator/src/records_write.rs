//! Inserts, updates and upserts of records (spec §2.4, §2.5, §2.7).
//!
//! The body is checked as for the related-records PUT ([`crate::related_put::data_records`]: parse errors, no
//! `data`, empty, more than 100). Then each record on its own, in input order (a failed record does not stop
//! the others; a later record sees what the earlier ones wrote):
//!
//! | record | result |
//! |---|---|
//! | not an object; a key that is not an API name (or `$` + one) | `INVALID_DATA`, `json_path` (`api_name`) |
//! | an external field of the module that is not a string (or null) | `INVALID_DATA`, `expected_data_type: text` |
//! | a lookup that does not resolve ([`crate::record_lookups`]) | `INVALID_DATA` naming the lookup |
//! | an external value another record holds (org-unique) | `DUPLICATE_DATA`, `api_name`, `json_path`, `duplicate_record` |
//!
//! **Insert** (`POST /{M}`): `SUCCESS` "record added", `details` = `Modified_Time`, `Modified_By`, `Created_Time`,
//! `id`, `Created_By` (spec §2.4's sample); an `id` in the body is ignored *. Status 201 when all were added.
//!
//! **Update** (`PUT /{M}/{x}`: the record `x` addresses, as for reads; `PUT /{M}`: each record by its key, the
//! header's field or else `id`). Unknown address: `INVALID_DATA` "The value of the external field is invalid."
//! (`api_name`) or "the id given seems to be invalid"; a record without its key: `MANDATORY_NOT_FOUND`. A body
//! setting the field that addresses the record (`PUT /Contacts/extcontact1` with another `External_Contact_ID`):
//! `NOT_ALLOWED` (spec §2.5); the same value is no change and allowed *. `PUT /{M}/{x}` takes exactly one record
//! (else 400 `INVALID_DATA`, `api_name: data`) *. `SUCCESS` "record updated", `details` = the audit fields the
//! record has, `id`, then the key field and value when addressed by an external field (spec §2.5).
//!
//! **Upsert** (`POST /{M}/upsert`): the duplicate check tries `duplicate_check_fields` of the body in order, or
//! by default the module's system duplicate-check fields (seed `duplicate_check_fields`) and then its external
//! fields (Zoho treats them as unique, spec §2.7); the first field whose value (non-null) matches a record
//! decides: that record is updated (`"action":"update"`, `"duplicate_field":` the field), else one is inserted
//! (`"action":"insert"`, `"duplicate_field":null`). Items are `{code, duplicate_field, action, details, message,
//! status}`. Status: 201 when every record was inserted, 200 when all succeeded otherwise, 207 mixed, 400 none *.
//! A bad `duplicate_check_fields` (not a list of API names): 400 `INVALID_DATA`, `api_name` *.

use serde_json::{Map, Value, json};

use crate::api::{error, multi_status};
use crate::http::Response;
use crate::record_lookups::{RecordsHeader, is_record_key, resolve};
use crate::records::address;
use crate::related_put::data_records;
use crate::related_put::item_error;
use crate::state::Org;
use crate::state::records::{Clash, USER_ID, USER_NAME};
use crate::wire::is_api_name;

/// 200/207/400 as [`multi_status`], with `all_ok` instead of 200 when every record succeeded.
fn answer(results: Vec<Value>, all_ok: u16) -> Response {
    let mut r = multi_status(results);
    if r.status == 200 {
        r.status = all_ok;
    }
    r
}

/// Record `i` checked and its lookups resolved, ready to store.
fn prepare(
    org: &Org,
    module: &str,
    header: &RecordsHeader,
    i: usize,
    record: &Value,
) -> Result<Map<String, Value>, Value> {
    let Value::Object(map) = record else {
        return Err(item_error(
            "INVALID_DATA",
            "invalid data",
            json!({"json_path": format!("$.data[{i}]"), "expected_data_type": "jsonobject"}),
        ));
    };
    let mut map = map.clone();
    if let Some(bad) = map.keys().find(|k| !is_record_key(k)) {
        return Err(item_error(
            "INVALID_DATA",
            "invalid data",
            json!({"api_name": bad, "json_path": format!("$.data[{i}].{bad}")}),
        ));
    }
    let m = org.module(module).expect("checked by the caller");
    for f in &m.external_fields {
        match map.get(f) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(_) => {
                return Err(item_error(
                    "INVALID_DATA",
                    "invalid data",
                    json!({"api_name": f, "json_path": format!("$.data[{i}].{f}"), "expected_data_type": "text"}),
                ));
            }
        }
    }
    resolve(org, module, header, i, &mut map)?;
    Ok(map)
}

fn duplicate(i: usize, clash: &Clash) -> Value {
    item_error(
        "DUPLICATE_DATA",
        "duplicate data",
        json!({
            "api_name": clash.field, "json_path": format!("$.data[{i}].{}", clash.field),
            "duplicate_record": {"Owner": {"name": USER_NAME, "id": USER_ID}, "id": clash.id},
            "more_records": false,
        }),
    )
}

/// The audit fields the record has, `id`, then `key` (the external field addressing it).
fn details(org: &Org, module: &str, id: &str, key: Option<(&str, &str)>) -> Value {
    let record = org.record(module, id).cloned().unwrap_or_default();
    let mut d = Map::new();
    for f in ["Modified_Time", "Modified_By", "Created_Time"] {
        if let Some(v) = record.get(f) {
            d.insert(f.into(), v.clone());
        }
    }
    d.insert("id".into(), Value::String(id.to_owned()));
    if let Some(v) = record.get("Created_By") {
        d.insert("Created_By".into(), v.clone());
    }
    if let Some((f, v)) = key {
        d.insert(f.into(), Value::String(v.to_owned()));
    }
    Value::Object(d)
}

fn success(message: &str, details: Value) -> Value {
    json!({"code": "SUCCESS", "details": details, "message": message, "status": "success"})
}

/// Inserts one prepared record: its id, or the record's error item.
fn insert_one(org: &mut Org, module: &str, i: usize, fields: Map<String, Value>) -> Result<String, Value> {
    if let Some(clash) = org.clash(module, &fields, None) {
        return Err(duplicate(i, &clash));
    }
    org.create_record(module, fields)
        .map_err(|e| item_error("INVALID_DATA", &e, json!({"json_path": format!("$.data[{i}]")})))
}

/// Updates record `id` with one prepared record, or the record's error item.
fn update_one_record(
    org: &mut Org,
    module: &str,
    i: usize,
    id: &str,
    mut fields: Map<String, Value>,
) -> Result<(), Value> {
    fields.remove("id");
    if let Some(clash) = org.clash(module, &fields, Some(id)) {
        return Err(duplicate(i, &clash));
    }
    org.update_record(module, id, fields)
        .map_err(|e| item_error("INVALID_DATA", &e, json!({"json_path": format!("$.data[{i}]")})))
}

/// `POST /{M}`.
pub fn insert(org: &mut Org, module: &str, header: &RecordsHeader, body: Option<&Value>, raw: &[u8]) -> Response {
    let records = match data_records(body, raw) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let results = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let id = prepare(org, module, header, i, r).and_then(|fields| insert_one(org, module, i, fields))?;
            Ok(success("record added", details(org, module, &id, None)))
        })
        .map(|r: Result<Value, Value>| r.unwrap_or_else(|e| e))
        .collect();
    answer(results, 201)
}

fn invalid_address(key: Option<&str>, i: usize, value: &str) -> Value {
    match key {
        Some(f) => item_error(
            "INVALID_DATA",
            "The value of the external field is invalid.",
            json!({"api_name": f, "json_path": format!("$.data[{i}].{f}")}),
        ),
        None => item_error("INVALID_DATA", "the id given seems to be invalid", json!({"id": value})),
    }
}

/// `PUT /{M}/{x}`.
pub fn update_one(
    org: &mut Org,
    module: &str,
    header: &RecordsHeader,
    value: &str,
    body: Option<&Value>,
    raw: &[u8],
) -> Response {
    let records = match data_records(body, raw) {
        Ok(r) if r.len() == 1 => r,
        Ok(_) => {
            return error(
                400,
                "INVALID_DATA",
                "only one record can be updated through a URL that names it",
                json!({"api_name": "data", "json_path": "$.data"}),
            );
        }
        Err(response) => return response,
    };
    let key = header.key.as_deref();
    let result = (|| {
        let id = address(org, module, key, value).ok_or_else(|| invalid_address(key, 0, value))?;
        if let Some(f) = key
            && let Some(v) = records[0].get(f)
            && v.as_str() != Some(value)
        {
            return Err(item_error(
                "NOT_ALLOWED",
                "the external field used to address the record cannot be updated through it",
                json!({"api_name": f, "json_path": format!("$.data[0].{f}")}),
            ));
        }
        let fields = prepare(org, module, header, 0, &records[0])?;
        update_one_record(org, module, 0, &id, fields)?;
        Ok(success("record updated", details(org, module, &id, key.map(|f| (f, value)))))
    })();
    answer(vec![result.unwrap_or_else(|e| e)], 200)
}

/// `PUT /{M}`: each record by its key.
pub fn update_many(org: &mut Org, module: &str, header: &RecordsHeader, body: Option<&Value>, raw: &[u8]) -> Response {
    let records = match data_records(body, raw) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let key = header.key.as_deref();
    let field = key.unwrap_or("id");
    let results = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let value = match r.get(field) {
                None | Some(Value::Null) => {
                    return Err(item_error(
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        json!({"api_name": field, "json_path": format!("$.data[{i}].{field}")}),
                    ));
                }
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(_) => {
                    let expected = if key.is_some() { "text" } else { "bigint" };
                    return Err(item_error(
                        "INVALID_DATA",
                        "invalid data",
                        json!({"api_name": field, "json_path": format!("$.data[{i}].{field}"), "expected_data_type": expected}),
                    ));
                }
            };
            let id = address(org, module, key, &value).ok_or_else(|| invalid_address(key, i, &value))?;
            let fields = prepare(org, module, header, i, r)?;
            update_one_record(org, module, i, &id, fields)?;
            Ok(success("record updated", details(org, module, &id, key.map(|f| (f, value.as_str())))))
        })
        .map(|r: Result<Value, Value>| r.unwrap_or_else(|e| e))
        .collect();
    answer(results, 200)
}

/// The fields an upsert checks, in order (see the module docs).
fn check_order(org: &Org, module: &str, body: Option<&Value>) -> Result<Vec<String>, Response> {
    match body.and_then(|b| b.get("duplicate_check_fields")) {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|f| match f.as_str() {
                Some(s) if is_api_name(s) => Ok(s.to_owned()),
                _ => Err(error(
                    400,
                    "INVALID_DATA",
                    "invalid data",
                    json!({"api_name": "duplicate_check_fields", "json_path": "$.duplicate_check_fields"}),
                )),
            })
            .collect(),
        None | Some(Value::Null) => {
            let m = org.module(module).expect("checked by the caller");
            let mut order = m.duplicate_check_fields.clone();
            for f in &m.external_fields {
                if !order.contains(f) {
                    order.push(f.clone());
                }
            }
            Ok(order)
        }
        Some(_) => Err(error(
            400,
            "INVALID_DATA",
            "invalid data",
            json!({"api_name": "duplicate_check_fields", "expected_data_type": "jsonarray"}),
        )),
    }
}

/// `POST /{M}/upsert`.
pub fn upsert(org: &mut Org, module: &str, header: &RecordsHeader, body: Option<&Value>, raw: &[u8]) -> Response {
    let records = match data_records(body, raw) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let order = match check_order(org, module, body) {
        Ok(o) => o,
        Err(response) => return response,
    };
    let mut inserted = 0;
    let results: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let matched = order.iter().find_map(|f| {
                let v = r.get(f).filter(|v| !v.is_null())?;
                org.find_by_field(module, f, v).map(|id| (f.clone(), id))
            });
            let fields = prepare(org, module, header, i, r)?;
            let (action, field, message, id) = match matched {
                Some((f, id)) => {
                    update_one_record(org, module, i, &id, fields)?;
                    ("update", Value::String(f), "record updated", id)
                }
                None => {
                    let id = insert_one(org, module, i, fields)?;
                    inserted += 1;
                    ("insert", Value::Null, "record added", id)
                }
            };
            Ok(json!({
                "code": "SUCCESS", "duplicate_field": field, "action": action,
                "details": details(org, module, &id, None), "message": message, "status": "success",
            }))
        })
        .map(|r: Result<Value, Value>| r.unwrap_or_else(|e| e))
        .collect();
    let all_inserted = inserted == results.len();
    answer(results, if all_inserted { 201 } else { 200 })
}
