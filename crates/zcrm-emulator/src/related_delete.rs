//! `DELETE /{M}/{x}/{RL}/{y}` and `DELETE /{M}/{x}/{RL}?ids=y1,y2` (delink, spec §2.2, §3.1, §3.3).
//!
//! | request | answer |
//! |---|---|
//! | neither a trailing value nor `ids` | 400 `REQUIRED_PARAM_MISSING`, `param_name: ids` |
//! | more than 100 values | 400 `LIMIT_EXCEEDED`, `limit: "100"`, `param_name: ids` (§3.4, OAS) |
//! | else, per value in input order | `SUCCESS` "relation removed" `details: {"id"}`, or an `INVALID_DATA` item; 200 / 207 / 400 |
//!
//! Reading a value (choices marked * where Zoho is silent):
//! * `X-EXTERNAL` names the related module: the value is that external field's value; unknown, it is
//!   `INVALID_DATA` whose details name the field (`api_name`), as §2.2 says.
//! * No related pair: the documented sample (`DELETE .../Contacts/extcontact3/Deals/extdeal3` with only
//!   `Contacts.External_Contact_ID`, §2.2, §11.6) must work, so the value is read as a record id of the related
//!   module if one exists *, else looked up in the related module's external fields, in their declared order *.
//!   Found nowhere: `INVALID_DATA`, details `api_name` of the related module's (first) external field for a value
//!   that is not a record id *, `{"id": value}` for one that is all digits.
//! * A record that exists but is not linked: `INVALID_DATA` "relation not found", `details: {"id"}` (OAS 207
//!   example).
//! * `ids` is split on `,` after percent-decoding, so a value containing `,` cannot be sent in `ids` (§11.3).

use serde_json::{Value, json};

use crate::api::{Ctx, error, multi_status};
use crate::http::{Request, Response};
use crate::state::Org;

/// At most this many values per call.
pub const MAX_IDS: usize = 100;

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
    if values.len() > MAX_IDS {
        return error(
            400,
            "LIMIT_EXCEEDED",
            "Limit Exceeded, You cannot give more than 100 record ids",
            json!({"limit": MAX_IDS.to_string(), "param_name": "ids"}),
        );
    }
    let results: Vec<Value> = values.iter().map(|v| delink_one(org, ctx, v)).collect();
    multi_status(results)
}

fn invalid(message: &str, details: Value) -> Value {
    json!({"code": "INVALID_DATA", "details": details, "message": message, "status": "error"})
}

fn delink_one(org: &mut Org, ctx: &Ctx, value: &str) -> Value {
    let related = &ctx.list.related_module;
    let id = match &ctx.related_field {
        Some(field) => match org.find_external(related, field, value) {
            Some(id) => id.to_owned(),
            None => {
                return invalid(
                    "You have specified an incorrect external ID of the related record",
                    json!({"api_name": field}),
                );
            }
        },
        None => match infer(org, related, value) {
            Some(id) => id,
            None if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                return invalid("the related id given seems to be invalid", json!({"id": value}));
            }
            None => {
                let field = org.module(related).and_then(|m| m.external_fields.first()).cloned();
                return invalid(
                    "You have specified an incorrect external ID of the related record",
                    json!({"api_name": field}),
                );
            }
        },
    };
    if org.unrelate(&ctx.list, &ctx.parent_id, &id) {
        json!({"code": "SUCCESS", "details": {"id": id}, "message": "relation removed", "status": "success"})
    } else {
        invalid("relation not found", json!({"id": id}))
    }
}

/// A related value with no related pair in the header: a record id, else an external value of any of the
/// related module's external fields.
fn infer(org: &Org, related_module: &str, value: &str) -> Option<String> {
    if org.has_record(related_module, value) {
        return Some(value.to_owned());
    }
    let fields = &org.module(related_module)?.external_fields;
    fields.iter().find_map(|f| org.find_external(related_module, f, value)).map(str::to_owned)
}
