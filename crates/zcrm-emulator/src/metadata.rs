//! Minimal metadata routes, consistent with the state, for clients (such as Zoho's official SDKs) that read
//! metadata before a call: `users?type=CurrentUser`, `org`, `settings/modules`, `settings/related_lists?module=`,
//! `settings/fields?module=`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::api::error;
use crate::http::{Request, Response};
use crate::server::{Shared, lock};

const USER_ID: &str = "111111000000000011";
const ORG_ID: &str = "111111000000000001";

/// A stable numeric id for a name (metadata objects need ids).
fn id_for(kind: u64, name: &str) -> String {
    let h = name.bytes().fold(1469598103934665603u64, |h, b| (h ^ u64::from(b)).wrapping_mul(1099511628211));
    format!("1111110000{:08}", (h ^ kind) % 100_000_000)
}

/// Handles a metadata GET.
pub(crate) fn handle(shared: &Shared, request: &Request, segs: &[&str]) -> Response {
    let org = lock(&shared.org);
    match segs {
        ["users"] => Response::json(
            200,
            &json!({
                "users": [{
                    "id": USER_ID, "full_name": "Emulator User", "first_name": "Emulator", "last_name": "User",
                    "email": "emulator@example.com", "status": "active", "confirm": true,
                    "role": {"name": "CEO", "id": "111111000000000021"},
                    "profile": {"name": "Administrator", "id": "111111000000000031"},
                    "time_zone": "Etc/UTC", "locale": "en_US", "country_locale": "en_US", "language": "en_US"
                }],
                "info": {"per_page": 200, "count": 1, "page": 1, "more_records": false}
            }),
        ),
        ["org"] => Response::json(
            200,
            &json!({"org": [{
                "id": ORG_ID, "company_name": "zcrm-emulator", "primary_email": "emulator@example.com",
                "currency": "US Dollar - USD", "currency_symbol": "$", "iso_code": "USD", "time_zone": "Etc/UTC",
                "country_code": "US", "zgid": "1", "domain_name": "org1", "type": "production",
                "license_details": {"paid": true, "paid_type": "enterprise", "users_license_purchased": 10}
            }]}),
        ),
        ["settings", "modules"] => {
            let modules: Vec<Value> = org
                .module_names()
                .map(|m| json!({"api_name": m, "module_name": m, "plural_label": m.replace('_', " "), "singular_label": m, "id": id_for(1, m), "api_supported": org.module(m).is_some_and(|x| x.api_supported), "generated_type": "default"}))
                .collect();
            Response::json(200, &json!({"modules": modules}))
        }
        ["settings", kind @ ("related_lists" | "fields")] => {
            let Some(module) = request.query_param("module") else {
                return error(
                    400,
                    "REQUIRED_PARAM_MISSING",
                    "One of the expected parameter is missing",
                    json!({"param_name": "module"}),
                );
            };
            let Some(m) = org.module(&module) else {
                return error(
                    400,
                    "INVALID_MODULE",
                    "The module name given seems to be invalid",
                    json!({"param_name": "module"}),
                );
            };
            if *kind == "related_lists" {
                let lists: Vec<Value> = org
                    .related_lists_of(&module)
                    .enumerate()
                    .map(|(i, r)| {
                        json!({
                            "id": id_for(2, &format!("{module}.{}", r.api_name)), "api_name": r.api_name, "name": r.api_name,
                            "display_label": r.api_name.replace('_', " "), "sequence_number": (i + 1).to_string(),
                            "module": {"api_name": r.related_module, "id": id_for(1, &r.related_module)},
                            "href": format!("{module}/{{ID}}/{}", r.api_name), "type": "default", "visible": true,
                            "action": null, "connectedmodule": null, "linkingmodule": null, "customize_sort": false
                        })
                    })
                    .collect();
                Response::json(200, &json!({"related_lists": lists}))
            } else {
                let mut names: BTreeSet<String> = m.external_fields.iter().cloned().collect();
                for r in org.related_lists_of(&module) {
                    names.extend(r.relation_fields.iter().cloned());
                }
                let mut fields = vec![field_json(&module, "id", "bigint", "string", false)];
                fields.extend(
                    names.iter().map(|n| field_json(&module, n, "text", "string", m.external_fields.contains(n))),
                );
                Response::json(200, &json!({"fields": fields}))
            }
        }
        _ => error(404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one", json!({})),
    }
}

fn field_json(module: &str, name: &str, data_type: &str, json_type: &str, external: bool) -> Value {
    json!({
        "id": id_for(3, &format!("{module}.{name}")), "api_name": name, "field_label": name.replace('_', " "),
        "display_label": name.replace('_', " "), "data_type": data_type, "json_type": json_type,
        "length": 255, "read_only": false, "system_mandatory": false, "visible": true, "custom_field": external,
        "external": if external { json!({"show": true, "type": "org", "allow_multiple_config": false}) } else { Value::Null }
    })
}
