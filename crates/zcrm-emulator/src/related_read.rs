//! `GET /{M}/{x}/{RL}` (list the related records) and `GET /{M}/{x}/{RL}/{y}` (one), spec §2.1, §3.2.
//! (DELETE is [`crate::related_delete`].)
//!
//! | request | answer |
//! |---|---|
//! | list form without `fields`, v5+ | 400 `REQUIRED_PARAM_MISSING`, `param_name: fields` (v2, v2.1 need none) |
//! | single form without `fields` | 200, as the documented sample: the relation fields, the related external field the header names, `id` |
//! | `fields` with a name that is not an API name * | 400 `INVALID_DATA`, `param_name: fields` |
//! | `If-Modified-Since` not ISO 8601 with a zone * | 400 `INVALID_DATA`, `header: If-Modified-Since` |
//! | `page_token` before v7, or with `page` | 400 `INVALID_DATA`, `param_name: page_token` * (§3.2: "cannot be combined with page") |
//! | `page` reaching past record 2,000 | 400 `LIMIT_EXCEEDED`, `param_name: page`, `limit: 2000` * (§3.2, §5.5: beyond 2,000 records use `page_token`; the code is the emulator's choice) |
//! | no related records; the single value or none of the `ids` linked | 204, no body (§2.1 `NO_CONTENT`) |
//! | `If-Modified-Since` and no listed relation modified after it | 304, no body |
//! | else | 200 `{"data":[...]}`, plus `info` for the list form |
//!
//! Rows, choices marked * where Zoho is silent:
//! * Order: related record id, descending (Zoho's default `sort_by=id`, `sort_order=desc`, §3.2).
//! * Keys: the related list's relation fields (unset ones `null`), then the requested fields (`null` when the
//!   record has no value, as Zoho returns empty fields), then `id`. `Contact_Role` is a lookup: from v8 on it is
//!   an object `{"id": ...}` (`{"id": null}` when unset, §2.1); before v8 its value as stored.
//! * `ids` (§11.16) holds related external values when `X-EXTERNAL` names the related module, else record ids,
//!   like the trailing segment; split on `,` after decoding; values not linked are left out *.
//! * `If-Modified-Since`: only relations linked or relinked after that second are listed * (unlinked ones
//!   cannot be: they are gone); a relation's time is when it was last linked (seed: `modified_time`).
//! * `info`: v2 to v6 `per_page`, `count`, `page`, `more_records`; v7 and v8 add `next_page_token` (a
//!   [`crate::page_token`] when more records follow, else `null`), `previous_page_token` (always `null` *),
//!   `page_token_expiry` (ISO 8601, or `null`), in the order of the §2.1 sample. With `page_token`, `page` is
//!   the page the cursor falls on.

use serde_json::{Map, Value, json};

use crate::api::{Ctx, VERSIONS, error, related_id};
use crate::clock;
use crate::http::{Request, Response};
use crate::page_token::Token;
use crate::state::Org;
use crate::wire::{is_api_name, parse_datetime};

/// Relation fields that are lookups (rendered `{"id": ...}` from v8 on).
pub const LOOKUP_RELATION_FIELDS: &[&str] = &["Contact_Role"];
/// `page`-based reads reach at most this many records.
pub const PAGE_RECORD_LIMIT: usize = 2000;

fn since(version: &str, v: &str) -> bool {
    let pos = |x: &str| VERSIONS.iter().position(|y| *y == x).unwrap_or(0);
    pos(version) >= pos(v)
}

fn no_content() -> Response {
    Response { status: 204, headers: vec![], body: vec![] }
}

fn param_error(code: &str, message: &str, param: &str) -> Response {
    error(400, code, message, json!({"param_name": param}))
}

/// Numeric order of record ids (all digits): shorter is smaller.
fn id_key(id: &str) -> (usize, &str) {
    (id.len(), id)
}

/// Lists related records (the list or the single form).
pub fn get(org: &Org, ctx: &Ctx, single: Option<&str>, request: &Request, version: &str, ttl_secs: u64) -> Response {
    let fields = request.query_param("fields");
    if single.is_none() && fields.is_none() && since(version, "v5") {
        return param_error("REQUIRED_PARAM_MISSING", "One of the expected parameter is missing", "fields");
    }
    let wanted: Vec<String> = fields.map(|f| f.split(',').map(|s| s.trim().to_owned()).collect()).unwrap_or_default();
    if wanted.iter().any(|f| !is_api_name(f)) {
        return param_error("INVALID_DATA", "invalid data", "fields");
    }
    let modified_since = match request.header("if-modified-since") {
        Some(text) => match parse_datetime(text) {
            Some(t) => Some(t),
            None => {
                return error(400, "INVALID_DATA", "invalid If-Modified-Since", json!({"header": "If-Modified-Since"}));
            }
        },
        None => None,
    };
    let mut linked = org.related_with_times(&ctx.module, &ctx.parent_id, &ctx.list.related_module);
    linked.sort_by(|a, b| id_key(&b.0).cmp(&id_key(&a.0)));
    if let Some(y) = single {
        let Some(id) = related_id(org, ctx, y) else { return no_content() };
        linked.retain(|(rid, _, _)| *rid == id);
    } else if let Some(ids) = request.query_param("ids") {
        let named: Vec<String> = ids.split(',').filter_map(|v| related_id(org, ctx, v)).collect();
        linked.retain(|(rid, _, _)| named.contains(rid));
    }
    if linked.is_empty() {
        return no_content();
    }
    if let Some(t) = modified_since {
        linked.retain(|(_, _, modified)| *modified > t);
        if linked.is_empty() {
            return Response { status: 304, headers: vec![], body: vec![] };
        }
    }
    let row =
        |(id, rel, _): &(String, Map<String, Value>, i64)| row(org, ctx, version, single.is_some(), &wanted, id, rel);
    if single.is_some() {
        return Response::json(200, &json!({"data": linked.iter().map(row).collect::<Vec<_>>()}));
    }
    let per_page = request.query_param("per_page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(200).clamp(1, 200);
    let page_param = request.query_param("page");
    let offset = match request.query_param("page_token") {
        Some(text) => {
            if !since(version, "v7") || page_param.is_some() {
                return param_error("INVALID_DATA", "page_token is not supported here", "page_token");
            }
            let token = match Token::decode(&text) {
                Some(t) if t.module == ctx.module && t.parent == ctx.parent_id && t.list == ctx.list.api_name => t,
                _ => return param_error("INVALID_DATA", "invalid page_token", "page_token"),
            };
            if clock::now() >= token.expires {
                return param_error("INVALID_DATA", "the page_token has expired", "page_token");
            }
            linked.iter().position(|(id, _, _)| id_key(id) < id_key(&token.after)).unwrap_or(linked.len())
        }
        None => {
            let page = page_param.and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
            let offset = (page - 1).saturating_mul(per_page);
            if offset >= PAGE_RECORD_LIMIT {
                return error(
                    400,
                    "LIMIT_EXCEEDED",
                    "You cannot fetch more than 2000 records with the page parameter; use page_token",
                    json!({"param_name": "page", "limit": PAGE_RECORD_LIMIT}),
                );
            }
            offset
        }
    };
    let total = linked.len();
    let end = (offset + per_page).min(total);
    if offset >= end {
        return no_content();
    }
    let rows: Vec<Value> = linked[offset..end].iter().map(row).collect();
    let more = end < total;
    let page = offset / per_page + 1;
    let count = rows.len();
    let info = if since(version, "v7") {
        let (token, expiry) = if more {
            let expires = clock::now() + ttl_secs as i64;
            let t = Token {
                module: ctx.module.clone(),
                parent: ctx.parent_id.clone(),
                list: ctx.list.api_name.clone(),
                after: linked[end - 1].0.clone(),
                expires,
            };
            (json!(t.encode()), json!(clock::format_iso(expires)))
        } else {
            (Value::Null, Value::Null)
        };
        json!({"per_page": per_page, "next_page_token": token, "count": count, "page": page,
               "previous_page_token": null, "page_token_expiry": expiry, "more_records": more})
    } else {
        json!({"per_page": per_page, "count": count, "page": page, "more_records": more})
    };
    Response::json(200, &json!({"data": rows, "info": info}))
}

fn row(
    org: &Org,
    ctx: &Ctx,
    version: &str,
    single: bool,
    wanted: &[String],
    id: &str,
    relation: &Map<String, Value>,
) -> Value {
    let record = org.record(&ctx.list.related_module, id);
    let mut row = Map::new();
    for f in &ctx.list.relation_fields {
        let stored = relation.get(f).cloned().unwrap_or(Value::Null);
        let value = if LOOKUP_RELATION_FIELDS.contains(&f.as_str()) {
            match (since(version, "v8"), stored) {
                (true, Value::Object(o)) => Value::Object(o),
                (true, other) => json!({"id": other}),
                (false, Value::Object(mut o)) => o.remove("id").unwrap_or(Value::Null),
                (false, other) => other,
            }
        } else {
            stored
        };
        row.insert(f.clone(), value);
    }
    let implicit: Vec<String> = match (&ctx.related_field, single && wanted.is_empty()) {
        (Some(f), true) => vec![f.clone()],
        _ => Vec::new(),
    };
    for f in wanted.iter().chain(&implicit) {
        if f != "id" && !row.contains_key(f) {
            row.insert(f.clone(), record.and_then(|r| r.get(f)).cloned().unwrap_or(Value::Null));
        }
    }
    row.insert("id".into(), Value::String(id.to_owned()));
    Value::Object(row)
}
