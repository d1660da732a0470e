//! `GET /{M}/{x}/{RL}[/{y}]` (list the related records) and `DELETE /{M}/{x}/{RL}/{y}` or `?ids=` (delink).
//!
//! GET (v5+ requires `fields`, spec §2.1): records of the related module linked to the parent, each with `id`,
//! the requested fields and the relation fields; `page` / `per_page` (max 200); no related records: 204.
//! DELETE: per id (external values when the header names the related module) `SUCCESS` "relation removed" or
//! `INVALID_DATA` "relation not found"; more than 100 ids: `LIMIT_EXCEEDED`.

use serde_json::{Map, Value, json};

use crate::api::{Ctx, error, multi_status, related_id};
use crate::http::{Request, Response};
use crate::state::Org;

/// Lists related records.
pub fn get(org: &Org, ctx: &Ctx, single: Option<&str>, request: &Request, version: &str) -> Response {
    let fields = request.query_param("fields");
    if fields.is_none() && !matches!(version, "v2" | "v2.1") {
        return error(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({"param_name": "fields"}),
        );
    }
    let wanted: Vec<String> = fields.map(|f| f.split(',').map(|s| s.trim().to_owned()).collect()).unwrap_or_default();
    let mut linked = org.related_of(&ctx.module, &ctx.parent_id, &ctx.list.related_module);
    if let Some(y) = single {
        let Some(id) = related_id(org, ctx, y) else { return Response { status: 204, headers: vec![], body: vec![] } };
        linked.retain(|(rid, _)| *rid == id);
    }
    if linked.is_empty() {
        return Response { status: 204, headers: vec![], body: vec![] };
    }
    let per_page = request.query_param("per_page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(200).clamp(1, 200);
    let page = request.query_param("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
    let total = linked.len();
    let rows: Vec<Value> = linked
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(id, rel)| {
            let record = org.record(&ctx.list.related_module, &id).cloned().unwrap_or_default();
            let mut row = Map::new();
            for f in &wanted {
                if let Some(v) = record.get(f) {
                    row.insert(f.clone(), v.clone());
                }
            }
            row.extend(rel);
            row.insert("id".into(), Value::String(id));
            Value::Object(row)
        })
        .collect();
    if rows.is_empty() {
        return Response { status: 204, headers: vec![], body: vec![] };
    }
    let count = rows.len();
    let info = json!({"per_page": per_page, "count": count, "page": page, "more_records": page * per_page < total});
    let body = if single.is_some() { json!({"data": rows}) } else { json!({"data": rows, "info": info}) };
    Response::json(200, &body)
}

/// Delinks related records.
pub fn delete(org: &mut Org, ctx: &Ctx, single: Option<&str>, request: &Request) -> Response {
    let values: Vec<String> = match single {
        Some(y) => vec![y.to_owned()],
        None => match request.query_param("ids") {
            Some(ids) if !ids.is_empty() => ids.split(',').map(str::to_owned).collect(),
            _ => {
                return error(
                    400,
                    "REQUIRED_PARAM_MISSING",
                    "One of the expected parameter is missing",
                    json!({"param_name": "ids"}),
                );
            }
        },
    };
    if values.len() > 100 {
        return error(
            400,
            "LIMIT_EXCEEDED",
            "Limit Exceeded, You cannot give more than 100 record ids",
            json!({"limit": "100", "param_name": "ids"}),
        );
    }
    let results: Vec<Value> = values
        .iter()
        .map(|v| match related_id(org, ctx, v).filter(|id| org.unrelate(&ctx.list, &ctx.parent_id, id)) {
            Some(id) => json!({"code": "SUCCESS", "details": {"id": id}, "message": "relation removed", "status": "success"}),
            None => json!({"code": "INVALID_DATA", "details": {"id": v}, "message": "relation not found", "status": "error"}),
        })
        .collect();
    multi_status(results)
}
