//! The records routes under `/crm/{v}/` (spec §2.3-§2.7), their shared checks, and the reads and deletes.
//!
//! | route | method | operation |
//! |---|---|---|
//! | `/{M}` | GET | all records, paged (`fields` required since v3), or `?ids=v1,v2` |
//! | `/{M}` | POST, PUT, DELETE | insert; update keyed by each record's key; delete `?ids=` ([`crate::records_write`]) |
//! | `/{M}/upsert` | POST | upsert |
//! | `/{M}/search` | GET | search ([`crate::search`]) |
//! | `/{M}/{x}` | GET, PUT, DELETE | one record by external value (header names `{M}.{F}`) or record id |
//!
//! `upsert` and `search` take those methods only: `GET /{M}/upsert` and `PUT /{M}/search` address a record whose
//! value is `upsert`/`search`, as Zoho's paths cannot tell them apart either *. Other methods: 400
//! `INVALID_REQUEST_METHOD`.
//!
//! Checks, in order (after authentication and the limits of [`crate::server`]): module ([`crate::api::check_module`]);
//! scope (`ZohoCRM.modules.all` or `ZohoCRM.modules.{m}.{op}`: READ for reads, CREATE for inserts, UPDATE for
//! updates, DELETE for deletes, each or ALL or WRITE; an upsert needs WRITE or ALL; a search also needs
//! `ZohoSearch.securesearch.READ` or `.ALL`) -> 401 `OAUTH_SCOPE_MISMATCH`; a write on a module the profile may
//! not edit -> 403 `NO_PERMISSION`; `X-EXTERNAL` ([`crate::record_lookups`]).
//!
//! Reads (choices marked * where Zoho is silent): one record -> `{"data":[record]}` without `info` (as the
//! related single GET, spec §2.1); `ids=` -> the records found, in the order asked, with
//! `info: {per_page: count, count, page: 1, more_records: false}` (as spec §2.3's sample); nothing found -> 204.
//! `fields` keeps the record's field order, `id` always included, a requested field the record lacks as
//! `null` (spec §2.3's `"First_Name":null`). More than 100 `ids` or 50 `fields` -> `LIMIT_EXCEEDED`. Reading a
//! whole module pages by `page`/`per_page` (max 200, records in id order) and offers `next_page_token`
//! (`p{page}`) while `more_records`; `page` with `page_token`, or a token it did not issue -> 400
//! `INVALID_DATA`, `param_name` *.
//!
//! Deletes: per value, `SUCCESS` "record deleted" with `details` = the external field (when addressed by it)
//! then `id` (spec §2.6's sample), or `INVALID_DATA` "The value of the external field is invalid." (`api_name`)
//! / "the id given seems to be invalid" (`id`); 200/207/400. A deleted record's relations go with it.

use serde_json::{Map, Value, json};

use crate::api::{Authenticated, check_module, error, invalid_method, multi_status};
use crate::http::{Request, Response};
use crate::record_lookups::{RecordsHeader, read_header};
use crate::server::{Shared, lock};
use crate::state::Org;
use crate::wire::scope_name;
use crate::{records_write, search};

/// At most this many `ids` per read or delete.
pub const MAX_IDS: usize = 100;
/// At most this many names in `fields`.
pub const MAX_FIELDS: usize = 50;

/// The operations of the records routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecOp<'a> {
    List,
    GetOne(&'a str),
    Search,
    Insert,
    Upsert,
    UpdateMany,
    UpdateOne(&'a str),
    DeleteMany,
    DeleteOne(&'a str),
}

impl RecOp<'_> {
    fn reads(self) -> bool {
        matches!(self, RecOp::List | RecOp::GetOne(_) | RecOp::Search)
    }

    fn deletes(self) -> bool {
        matches!(self, RecOp::DeleteMany | RecOp::DeleteOne(_))
    }

    /// Operation types of `ZohoCRM.modules.{m}.{type}` that allow it.
    fn scope_types(self) -> &'static [&'static str] {
        match self {
            RecOp::List | RecOp::GetOne(_) | RecOp::Search => &["ALL", "READ"],
            RecOp::Insert => &["ALL", "WRITE", "CREATE"],
            RecOp::Upsert => &["ALL", "WRITE"],
            RecOp::UpdateMany | RecOp::UpdateOne(_) => &["ALL", "WRITE", "UPDATE"],
            RecOp::DeleteMany | RecOp::DeleteOne(_) => &["ALL", "WRITE", "DELETE"],
        }
    }
}

/// Credits a records call costs: inserts, updates and upserts 1 per 10 records (at least 1), the rest 1
/// (spec §5.2).
pub fn credit_cost(method: &str, segments: &[String], records: usize) -> u64 {
    let write = matches!(method, "POST" | "PUT") && matches!(segments.len(), 1 | 2);
    if write { records.div_ceil(10).max(1) as u64 } else { 1 }
}

fn scope_ok(scopes: &[String], module: &str, op: RecOp) -> bool {
    let m = scope_name(module);
    let has = |want: &str| scopes.iter().any(|s| s.trim().eq_ignore_ascii_case(want));
    let module_ok =
        has("ZohoCRM.modules.all") || op.scope_types().iter().any(|t| has(&format!("ZohoCRM.modules.{m}.{t}")));
    let search_ok = op != RecOp::Search || has("ZohoSearch.securesearch.READ") || has("ZohoSearch.securesearch.ALL");
    module_ok && search_ok
}

/// Dispatches `/{M}` and `/{M}/{x}`.
pub(crate) fn route(shared: &Shared, request: &Request, call: &Authenticated) -> Response {
    let module = call.segments[0].as_str();
    let second = call.segments.get(1).map(String::as_str);
    let op = match (request.method.as_str(), second) {
        ("GET", None) => RecOp::List,
        ("GET", Some("search")) => RecOp::Search,
        ("GET", Some(x)) => RecOp::GetOne(x),
        ("POST", None) => RecOp::Insert,
        ("POST", Some("upsert")) => RecOp::Upsert,
        ("PUT", None) => RecOp::UpdateMany,
        ("PUT", Some(x)) => RecOp::UpdateOne(x),
        ("DELETE", None) => RecOp::DeleteMany,
        ("DELETE", Some(x)) => RecOp::DeleteOne(x),
        _ => return invalid_method(),
    };
    let mut org = lock(&shared.org);
    let checked = (|| {
        let m = check_module(&org, &call.version, module, op.reads())?;
        if !scope_ok(&call.scopes, module, op) {
            return Err(error(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL", json!({})));
        }
        if !op.reads() && !m.editable {
            return Err(error(
                403,
                "NO_PERMISSION",
                "permission denied",
                json!({"permissions": [format!("Crm_Implied_Edit_{module}")]}),
            ));
        }
        read_header(&org, module, request.header("x-external"), !op.reads() && !op.deletes())
    })();
    let header = match checked {
        Ok(h) => h,
        Err(r) => return r,
    };
    let (body, raw) = (call.body.as_ref(), request.body.as_slice());
    match op {
        RecOp::List => list(&org, module, &header, request, &call.version),
        RecOp::GetOne(x) => get_one(&org, module, &header, x, request),
        RecOp::Search => search::search(&org, module, request),
        RecOp::Insert => records_write::insert(&mut org, module, &header, body, raw),
        RecOp::Upsert => records_write::upsert(&mut org, module, &header, body, raw),
        RecOp::UpdateMany => records_write::update_many(&mut org, module, &header, body, raw),
        RecOp::UpdateOne(x) => records_write::update_one(&mut org, module, &header, x, body, raw),
        RecOp::DeleteMany => delete(&mut org, module, &header, None, request),
        RecOp::DeleteOne(x) => delete(&mut org, module, &header, Some(x), request),
    }
}

/// The record of `module` that `value` addresses: by the header's key field, else as a record id.
pub fn address(org: &Org, module: &str, key: Option<&str>, value: &str) -> Option<String> {
    match key {
        Some(f) => org.find_external(module, f, value).map(str::to_owned),
        None => (value.bytes().all(|b| b.is_ascii_digit()) && org.has_record(module, value)).then(|| value.to_owned()),
    }
}

fn no_content() -> Response {
    Response { status: 204, headers: vec![], body: vec![] }
}

/// `fields=a,b` as names; more than [`MAX_FIELDS`] -> `LIMIT_EXCEEDED`.
pub fn wanted_fields(request: &Request) -> Result<Option<Vec<String>>, Response> {
    let Some(text) = request.query_param("fields") else { return Ok(None) };
    let names: Vec<String> = text.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    if names.len() > MAX_FIELDS {
        return Err(error(
            400,
            "LIMIT_EXCEEDED",
            "Limit Exceeded, You cannot give more than 50 fields",
            json!({"limit": MAX_FIELDS.to_string(), "param_name": "fields"}),
        ));
    }
    Ok(Some(names))
}

/// A record as returned: all fields, or the record's fields among `fields` (in its order) plus `id`, and a
/// requested field it lacks as `null`.
pub fn project(record: &Map<String, Value>, fields: Option<&[String]>) -> Value {
    let Some(fields) = fields else { return Value::Object(record.clone()) };
    let mut out: Map<String, Value> =
        record.iter().filter(|(k, _)| *k == "id" || fields.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    for f in fields {
        out.entry(f.clone()).or_insert(Value::Null);
    }
    Value::Object(out)
}

fn get_one(org: &Org, module: &str, header: &RecordsHeader, value: &str, request: &Request) -> Response {
    let fields = match wanted_fields(request) {
        Ok(f) => f,
        Err(r) => return r,
    };
    match address(org, module, header.key.as_deref(), value).and_then(|id| org.record(module, &id)) {
        Some(record) => Response::json(200, &json!({"data": [project(record, fields.as_deref())]})),
        None => no_content(),
    }
}

fn ids_param(request: &Request) -> Result<Option<Vec<String>>, Response> {
    let Some(ids) = request.query_param("ids") else { return Ok(None) };
    let values: Vec<String> = ids.split(',').map(str::to_owned).filter(|v| !v.is_empty()).collect();
    if values.len() > MAX_IDS {
        return Err(error(
            400,
            "LIMIT_EXCEEDED",
            "Limit Exceeded, You cannot give more than 100 record ids",
            json!({"limit": "100", "param_name": "ids"}),
        ));
    }
    Ok(Some(values))
}

/// `page`/`per_page`/`page_token` as `(page, per_page)`, or the answer to bad paging.
pub fn paging(request: &Request, tokens: bool) -> Result<(usize, usize), Response> {
    let bad = |param: &str, message: &str| error(400, "INVALID_DATA", message, json!({"param_name": param}));
    let per_page = request.query_param("per_page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(200).clamp(1, 200);
    let page = request.query_param("page");
    let page = match (page, request.query_param("page_token").filter(|_| tokens)) {
        (Some(_), Some(_)) => return Err(bad("page_token", "page and page_token cannot be given together")),
        (None, Some(t)) => match t.strip_prefix('p').and_then(|n| n.parse::<usize>().ok()).filter(|n| *n > 0) {
            Some(n) => n,
            None => return Err(bad("page_token", "the page token is invalid")),
        },
        (Some(p), None) => p.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| bad("page", "invalid page"))?,
        (None, None) => 1,
    };
    Ok((page, per_page))
}

fn list(org: &Org, module: &str, header: &RecordsHeader, request: &Request, version: &str) -> Response {
    let fields = match (wanted_fields(request), ids_param(request)) {
        (Err(r), _) | (_, Err(r)) => return r,
        (Ok(fields), Ok(Some(ids))) => {
            let rows: Vec<Value> = ids
                .iter()
                .filter_map(|v| address(org, module, header.key.as_deref(), v))
                .filter_map(|id| org.record(module, &id))
                .map(|r| project(r, fields.as_deref()))
                .collect();
            if rows.is_empty() {
                return no_content();
            }
            let n = rows.len();
            let info = json!({"per_page": n, "count": n, "page": 1, "more_records": false});
            return Response::json(200, &json!({"data": rows, "info": info}));
        }
        (Ok(fields), Ok(None)) => fields,
    };
    if fields.is_none() && !matches!(version, "v2" | "v2.1") {
        return error(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({"param_name": "fields"}),
        );
    }
    let (page, per_page) = match paging(request, true) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let m = org.module(module).expect("checked");
    let rows: Vec<Value> =
        m.records().skip((page - 1) * per_page).take(per_page).map(|(_, r)| project(r, fields.as_deref())).collect();
    if rows.is_empty() {
        return no_content();
    }
    let more = page * per_page < m.record_count();
    let info = json!({
        "per_page": per_page, "next_page_token": if more { Value::from(format!("p{}", page + 1)) } else { Value::Null },
        "count": rows.len(), "page": page, "previous_page_token": null, "page_token_expiry": null, "more_records": more,
    });
    Response::json(200, &json!({"data": rows, "info": info}))
}

fn delete(org: &mut Org, module: &str, header: &RecordsHeader, single: Option<&str>, request: &Request) -> Response {
    let values: Vec<String> = match single {
        Some(x) => vec![x.to_owned()],
        None => match ids_param(request) {
            Ok(Some(v)) if !v.is_empty() => v,
            Ok(_) => {
                return error(
                    400,
                    "REQUIRED_PARAM_MISSING",
                    "One of the expected parameter is missing",
                    json!({"param_name": "ids"}),
                );
            }
            Err(r) => return r,
        },
    };
    let key = header.key.as_deref();
    let results = values
        .iter()
        .map(|v| match address(org, module, key, v) {
            Some(id) => {
                org.delete_record(module, &id);
                let mut details = Map::new();
                if let Some(f) = key {
                    details.insert(f.to_owned(), Value::String(v.clone()));
                }
                details.insert("id".into(), Value::String(id));
                json!({"code": "SUCCESS", "details": details, "message": "record deleted", "status": "success"})
            }
            None => match key {
                Some(f) => json!({"code": "INVALID_DATA", "details": {"api_name": f}, "message": "The value of the external field is invalid.", "status": "error"}),
                None => json!({"code": "INVALID_DATA", "details": {"id": v}, "message": "the id given seems to be invalid", "status": "error"}),
            },
        })
        .collect();
    multi_status(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_of_writes_are_per_ten_records() {
        let segs = |n: usize| vec!["Contacts".to_owned(); n];
        assert_eq!(credit_cost("POST", &segs(1), 100), 10);
        assert_eq!(credit_cost("POST", &segs(2), 11), 2);
        assert_eq!(credit_cost("PUT", &segs(1), 0), 1);
        assert_eq!(credit_cost("PUT", &segs(3), 100), 1, "the related-records PUT costs one credit");
        assert_eq!(credit_cost("GET", &segs(1), 0), 1);
    }

    #[test]
    fn projection_keeps_the_record_order() {
        let r = json!({"A": 1, "id": "9", "B": 2}).as_object().unwrap().clone();
        assert_eq!(project(&r, Some(&["B".into(), "C".into()])).to_string(), r#"{"id":"9","B":2,"C":null}"#);
    }
}
