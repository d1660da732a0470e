//! A record checked on its own ([`CheckedRecord`]): the shared first step of insert, update and upsert, and the
//! unit a bulk job validates per input row before grouping rows into calls.

use serde_json::{Map, Value};

use super::lookups::{ExternalFields, RecordLookups, json_type, scan};
use crate::error::InvalidInput;
use crate::names::{ModuleName, is_api_name};

/// One record, validated: the JSON object, the lookup pairs it uses, and its key for de-duplication.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CheckedRecord {
    pub(crate) record: Map<String, Value>,
    pub(crate) lookups: RecordLookups,
    /// The field and value that identify the record in its module (the key of an update, the first
    /// duplicate-check field of an upsert), if any: two records with the same key never share a call.
    pub(crate) key: Option<(String, String)>,
}

impl CheckedRecord {
    /// The key (field, value), if the operation has one.
    pub(crate) fn key(&self) -> Option<(&str, &str)> {
        self.key.as_ref().map(|(f, v)| (f.as_str(), v.as_str()))
    }
}

/// Record `index` as a JSON object whose top-level keys are API names or `$` + an API name, with its lookups.
pub(crate) fn check_object(
    index: usize,
    record: Value,
    module: &ModuleName,
    ext: &ExternalFields,
) -> Result<(Map<String, Value>, RecordLookups), InvalidInput> {
    let map = match record {
        Value::Object(m) => m,
        other => {
            return Err(
                InvalidInput::new("data", format!("must be a JSON object, not {}", json_type(&other))).at(index)
            );
        }
    };
    if let Some(bad) = map.keys().find(|k| !is_api_name(k.strip_prefix('$').unwrap_or(k))) {
        return Err(InvalidInput::new("data", format!("{bad:?} is not a Zoho field API name"))
            .at(index)
            .field(bad.clone()));
    }
    let lookups = scan(module, index, &map, ext)?;
    Ok((map, lookups))
}

/// The value of `field` in `map` as a non-empty string, or why not; `None` when absent or null.
pub(crate) fn key_value(map: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Err("must not be empty".into()),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) if other.is_number() && field == "id" => {
            Err("must be a string: Zoho record ids exceed 2^53 and lose digits as JSON numbers".into())
        }
        Some(other) => Err(format!("must be a string, not {}", json_type(other))),
    }
}

/// 1 to [`super::MAX_RECORDS`] records.
pub(crate) fn check_count(n: usize) -> Result<(), InvalidInput> {
    if n == 0 {
        return Err(InvalidInput::new("data", "needs at least one record"));
    }
    if n > super::MAX_RECORDS {
        return Err(InvalidInput::new(
            "data",
            format!("has {n} records; Zoho accepts at most {} per call", super::MAX_RECORDS),
        ));
    }
    Ok(())
}

/// No two records of a call with the same key: Zoho would apply both in one call (the second insert of an
/// external value fails with DUPLICATE_DATA; two updates race). The later record is named.
pub(crate) fn check_distinct_keys(records: &[CheckedRecord]) -> Result<(), InvalidInput> {
    let mut seen = std::collections::HashMap::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        if let Some((field, value)) = r.key()
            && let Some(first) = seen.insert((field, value), i)
        {
            return Err(InvalidInput::new(
                "data",
                format!("{field} {value:?} is already in data[{first}]: one record twice in one call"),
            )
            .at(i)
            .field(field.to_owned()));
        }
    }
    Ok(())
}

/// `{"data":[...]}` (then `extra`, if any), compact, fields in input order.
pub(crate) fn body(records: &[Map<String, Value>], extra: Option<(&str, &Value)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + records.len() * 96);
    out.extend_from_slice(b"{\"data\":");
    serde_json::to_writer(&mut out, records).expect("a JSON map always serializes");
    if let Some((name, value)) = extra {
        out.push(b',');
        serde_json::to_writer(&mut out, name).expect("a string serializes");
        out.push(b':');
        serde_json::to_writer(&mut out, value).expect("JSON serializes");
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn object_rules() {
        let m = ModuleName::new("Events").unwrap();
        let ext = ExternalFields::new();
        assert_eq!(check_object(4, json!([1]), &m, &ext).unwrap_err().location(), "data[4]");
        assert_eq!(check_object(0, json!({"Bad Name": 1}), &m, &ext).unwrap_err().location(), "data[0].Bad Name");
        assert_eq!(check_object(0, json!({"$": 1}), &m, &ext).unwrap_err().location(), "data[0].$");
        assert!(check_object(0, json!({"$se_module": "Accounts", "A": 1}), &m, &ext).is_ok());
    }

    #[test]
    fn body_is_compact_and_ordered() {
        let r = json!({"b": 1, "a": "ü"}).as_object().unwrap().clone();
        assert_eq!(body(std::slice::from_ref(&r), None), r#"{"data":[{"b":1,"a":"ü"}]}"#.as_bytes());
        let extra = json!(["E"]);
        assert_eq!(
            body(&[r], Some(("duplicate_check_fields", &extra))),
            r#"{"data":[{"b":1,"a":"ü"}],"duplicate_check_fields":["E"]}"#.as_bytes()
        );
    }

    #[test]
    fn key_values() {
        let m = json!({"id": 5, "E": "", "F": "x", "G": null}).as_object().unwrap().clone();
        assert!(key_value(&m, "id").unwrap_err().contains("2^53"));
        assert!(key_value(&m, "E").is_err());
        assert_eq!(key_value(&m, "F").unwrap().as_deref(), Some("x"));
        assert_eq!(key_value(&m, "G").unwrap(), None);
        assert_eq!(key_value(&m, "H").unwrap(), None);
    }
}
