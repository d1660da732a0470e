//! `X-EXTERNAL` on the records routes, and lookups resolved by external value in a written record (spec §2.4).
//!
//! The header's pairs all belong to the module of the URL:
//!
//! | pair | meaning | refused (400 `INVALID_DATA`, `details.header: "X-EXTERNAL"`) when * |
//! |---|---|---|
//! | `{M}.{F}` | records are addressed by `F` (path values, `ids=`, the key of each record in a `PUT {M}`) | `F` is not an external field of `M` (`details.api_name`) |
//! | `{M}.{path}.{F}` | the lookup at `path` (dots cross subforms and line items) is written `{F: value}` | a read route; `path` is declared multi-module (name the target); the target has no external field `F` |
//! | `{M}.{path}->{T}.{F}` | the same, the target module named (multi-module lookups) | `T` is not among the modules `path` refers to |
//!
//! A lookup path's target modules come from the seed (`"lookups": {"Account_Name": ["Accounts"]}`); an
//! undeclared path refers to the one module with the external field `F` (several or none: refused) *.
//!
//! In a record, each object at a header lookup path is resolved (choices marked * where Zoho is silent):
//!
//! | object | result |
//! |---|---|
//! | holds `F` with the value of a target record | becomes `{"name": .., "id": ..}`; an `id` beside `F` is ignored, as §2.4 documents |
//! | holds `F` with an unknown value | `INVALID_DATA` "The external ID of the lookup field is incorrect", `api_name` = the lookup, `json_path` |
//! | lacks `F` | `INVALID_DATA` naming the lookup: with the header Zoho reads only the external field * |
//!
//! Objects at a declared lookup path the header does not name are read by `id` ("without this header, the
//! system considers only the record ID"): an unknown or missing `id` is `INVALID_DATA` naming the lookup.

use serde_json::{Map, Value, json};

use crate::api::error;
use crate::http::Response;
use crate::related_put::item_error;
use crate::state::Org;
use crate::wire::{is_api_name, parse_x_external};

/// A lookup pair of the header: where the lookup is, which module it refers to, by which external field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupPair {
    /// The lookup's path in a record (`["Quoted_Items", "Product_Name"]`).
    pub path: Vec<String>,
    /// The module referred to.
    pub target: String,
    /// The target's external field.
    pub field: String,
}

/// `X-EXTERNAL` of a records call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordsHeader {
    /// The external field addressing the module's records, if the header names one.
    pub key: Option<String>,
    /// The lookup pairs.
    pub lookups: Vec<LookupPair>,
}

fn header_error(message: String) -> Response {
    error(400, "INVALID_DATA", &message, json!({"header": "X-EXTERNAL"}))
}

/// Reads the header of a call on `module` (see the module docs); `writes` allows lookup pairs.
pub fn read_header(org: &Org, module: &str, text: Option<&str>, writes: bool) -> Result<RecordsHeader, Response> {
    let mut out = RecordsHeader::default();
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(out) };
    let pairs = parse_x_external(text).map_err(|e| header_error(format!("invalid X-EXTERNAL header: {e}")))?;
    let m = org.module(module).expect("checked by the caller");
    let not_external = |field: &str, target: &str| {
        error(
            400,
            "INVALID_DATA",
            &format!("{field} is not an external field of {target}"),
            json!({"api_name": field, "header": "X-EXTERNAL"}),
        )
    };
    for pair in pairs {
        if pair.module != module {
            return Err(header_error(format!("{pair}: a call on {module} takes pairs of {module}")));
        }
        if pair.is_simple() {
            if !m.external_fields.contains(&pair.field) {
                return Err(not_external(&pair.field, module));
            }
            out.key = Some(pair.field);
            continue;
        }
        if !writes {
            return Err(header_error(format!("{pair}: lookup paths apply to inserts, updates and upserts")));
        }
        let path = pair.path.join(".");
        let declared = m.lookups.get(&path);
        let target = match (&pair.target, declared) {
            (Some(t), Some(list)) if !list.contains(t) => {
                return Err(header_error(format!("{pair}: {path} refers to {}, not {t}", list.join(", "))));
            }
            (Some(t), _) => t.clone(),
            (None, Some(list)) if list.len() == 1 => list[0].clone(),
            (None, Some(_)) => {
                return Err(header_error(format!(
                    "{pair}: {path} is a multi-module lookup; name the module: {module}.{path}->Module.{}",
                    pair.field
                )));
            }
            (None, None) => {
                let holders: Vec<&str> = org
                    .module_names()
                    .filter(|n| org.module(n).is_some_and(|x| x.external_fields.contains(&pair.field)))
                    .collect();
                match holders.as_slice() {
                    [one] => (*one).to_owned(),
                    _ => return Err(header_error(format!("{pair}: {path} is not a lookup field of {module}"))),
                }
            }
        };
        match org.module(&target) {
            Some(t) if t.external_fields.contains(&pair.field) => {}
            _ => return Err(not_external(&pair.field, &target)),
        }
        out.lookups.push(LookupPair { path: pair.path, target, field: pair.field });
    }
    Ok(out)
}

type Visit<'f> = dyn FnMut(&mut Map<String, Value>, &str) -> Result<(), Value> + 'f;

/// Calls `f` on every object at `path` under `obj` (arrays on the way are crossed element by element).
fn each_object(obj: &mut Map<String, Value>, path: &[String], json_path: &str, f: &mut Visit<'_>) -> Result<(), Value> {
    let Some((first, rest)) = path.split_first() else { return Ok(()) };
    let here = format!("{json_path}.{first}");
    match obj.get_mut(first) {
        Some(Value::Object(o)) if rest.is_empty() => f(o, &here),
        Some(Value::Object(o)) => each_object(o, rest, &here, f),
        Some(Value::Array(items)) => {
            for (j, item) in items.iter_mut().enumerate() {
                if let Value::Object(o) = item {
                    let at = format!("{here}[{j}]");
                    if rest.is_empty() { f(o, &at)? } else { each_object(o, rest, &at, f)? }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn lookup_value(org: &Org, module: &str, id: String) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(name) = org.display_name(module, &id) {
        m.insert("name".into(), Value::String(name));
    }
    m.insert("id".into(), Value::String(id));
    m
}

/// Resolves the lookups of record `i` of a write on `module` in place (see the module docs); `Err` is the
/// record's error item.
pub fn resolve(
    org: &Org,
    module: &str,
    header: &RecordsHeader,
    i: usize,
    record: &mut Map<String, Value>,
) -> Result<(), Value> {
    let root = format!("$.data[{i}]");
    for pair in &header.lookups {
        let api_name = pair.path.last().expect("a lookup pair has a path").clone();
        each_object(record, &pair.path, &root, &mut |o, at| {
            let value = match o.get(&pair.field) {
                Some(Value::String(v)) if !v.is_empty() => v.clone(),
                Some(_) => {
                    return Err(item_error(
                        "INVALID_DATA",
                        "invalid data",
                        json!({"api_name": pair.field, "json_path": format!("{at}.{}", pair.field), "expected_data_type": "text"}),
                    ));
                }
                None => {
                    return Err(item_error(
                        "INVALID_DATA",
                        &format!("X-EXTERNAL names this lookup by {}, which it does not hold", pair.field),
                        json!({"api_name": api_name, "json_path": at}),
                    ));
                }
            };
            let Some(id) = org.find_external(&pair.target, &pair.field, &value) else {
                return Err(item_error(
                    "INVALID_DATA",
                    "The external ID of the lookup field is incorrect",
                    json!({"api_name": api_name, "json_path": format!("{at}.{}", pair.field)}),
                ));
            };
            *o = lookup_value(org, &pair.target, id.to_owned());
            Ok(())
        })?;
    }
    let m = org.module(module).expect("checked by the caller");
    for (path, targets) in &m.lookups {
        let path: Vec<String> = path.split('.').map(str::to_owned).collect();
        if header.lookups.iter().any(|p| p.path == path) {
            continue;
        }
        let api_name = path.last().expect("non-empty").clone();
        each_object(record, &path, &root, &mut |o, at| {
            let id = match o.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) if n.is_u64() => n.to_string(),
                _ => {
                    return Err(item_error(
                        "INVALID_DATA",
                        "invalid data: without X-EXTERNAL for this lookup, it is read by its id",
                        json!({"api_name": api_name, "json_path": at}),
                    ));
                }
            };
            match targets.iter().find(|t| org.has_record(t, &id)) {
                Some(t) => {
                    *o = lookup_value(org, t, id);
                    Ok(())
                }
                None => Err(item_error(
                    "INVALID_DATA",
                    "the id given seems to be invalid",
                    json!({"api_name": api_name, "json_path": format!("{at}.id")}),
                )),
            }
        })?;
    }
    Ok(())
}

/// Whether `key` may be a top-level key of a record: an API name, or `$` and an API name.
pub fn is_record_key(key: &str) -> bool {
    is_api_name(key.strip_prefix('$').unwrap_or(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    fn org() -> Org {
        Org::from_seed(&Seed::default_seed()).unwrap()
    }

    #[test]
    fn header_pairs_of_the_spec() {
        let org = org();
        let h = read_header(
            &org,
            "Contacts",
            Some("Contacts.External_Contact_ID, Contacts.Account_Name.External_Account_ID"),
            true,
        )
        .unwrap();
        assert_eq!(h.key.as_deref(), Some("External_Contact_ID"));
        assert_eq!(h.lookups[0].target, "Accounts");
        let what = read_header(&org, "Events", Some("Events.What_Id->Accounts.External_Account_ID"), true).unwrap();
        assert_eq!(what.lookups[0].path, ["What_Id"]);
        for (module, bad) in [
            ("Events", "Events.What_Id.External_Account_ID"),
            ("Events", "Events.What_Id->Leads.External_Account_ID"),
            ("Contacts", "Deals.External_Deal_ID"),
            ("Contacts", "Contacts.Nope"),
            ("Contacts", "Contacts.Account_Name.External_Deal_ID"),
            ("Contacts", "Contacts.A,"),
        ] {
            assert_eq!(read_header(&org, module, Some(bad), true).unwrap_err().status, 400, "{bad}");
        }
        assert!(read_header(&org, "Contacts", Some("Contacts.Account_Name.External_Account_ID"), false).is_err());
    }

    #[test]
    fn resolution_in_subforms_and_errors_name_the_lookup() {
        let org = org();
        let h = read_header(&org, "Contacts", Some("Contacts.Account_Name.External_Account_ID"), true).unwrap();
        let mut r = json!({"Account_Name": {"External_Account_ID": "externalaccount1", "id": "9"}})
            .as_object()
            .unwrap()
            .clone();
        resolve(&org, "Contacts", &h, 0, &mut r).unwrap();
        assert_eq!(Value::Object(r), json!({"Account_Name": {"name": "Account 1", "id": "111111000000101039"}}));
        let mut bad = json!({"Account_Name": {"External_Account_ID": "nope"}}).as_object().unwrap().clone();
        let e = resolve(&org, "Contacts", &h, 3, &mut bad).unwrap_err();
        assert_eq!(
            e["details"],
            json!({"api_name": "Account_Name", "json_path": "$.data[3].Account_Name.External_Account_ID"})
        );
        // Without the header, a declared lookup is read by id.
        let none = RecordsHeader::default();
        let mut by_ext =
            json!({"Account_Name": {"External_Account_ID": "externalaccount1"}}).as_object().unwrap().clone();
        assert_eq!(resolve(&org, "Contacts", &none, 0, &mut by_ext).unwrap_err()["code"], "INVALID_DATA");
        let q =
            read_header(&org, "Quotes", Some("Quotes.Quoted_Items.Product_Name.External_Product_ID"), true).unwrap();
        let mut quote =
            json!({"Quoted_Items": [{"Product_Name": {"External_Product_ID": "p9"}}]}).as_object().unwrap().clone();
        let e = resolve(&org, "Quotes", &q, 0, &mut quote).unwrap_err();
        assert_eq!(e["details"]["json_path"], "$.data[0].Quoted_Items[0].Product_Name.External_Product_ID");
    }
}
