//! **Records by external ID** (spec §2.3-§2.7): get, insert, update, upsert, delete and search records of a
//! module, addressed by your own IDs, with lookups written as external references.
//!
//! | operation | request | file |
//! |---|---|---|
//! | [`GetRecords`] | `GET {Module}/{value}`, `GET {Module}?ids=v1,v2&fields=..`, `GET {Module}?fields=..` (all, paged) | [`get`] |
//! | [`InsertRecords`] | `POST {Module}` | [`insert`] |
//! | [`UpdateRecords`] | `PUT {Module}/{value}` (one record), `PUT {Module}` (each record keyed by its external field) | [`update`] |
//! | [`UpsertRecords`] | `POST {Module}/upsert` | [`upsert`] |
//! | [`DeleteRecords`] | `DELETE {Module}/{value}`, `DELETE {Module}?ids=v1,v2` | [`delete`] |
//! | [`SearchRecords`] | `GET {Module}/search?criteria=(Field:equals:v)` / `(Field:in:v1,v2)` | [`search`] |
//! | [`Upsert`] (bulk) | a stream of records -> `POST {Module}/upsert` calls of 100, concurrent ([`crate::Client::upsert_many`]) | [`bulk_upsert`], rows from cells: [`mapping`] |
//!
//! Every operation is a typed request built by a builder whose `build()` checks every rule before anything is
//! sent; a failure is an [`InvalidInput`] naming the argument, the record index and the field
//! (`data[3].Account_Name.External_Account_ID`). Each implements [`crate::Call`], so [`crate::Client::execute`]
//! sends it with the client's retries and token refresh; [`crate::Client`] has one method per operation.
//!
//! ## How records are addressed: [`RecordKey`]
//!
//! `RecordKey::External(field)` puts `{Module}.{field}` in `X-EXTERNAL` and the values are that field's values;
//! `RecordKey::Id` (the default) uses Zoho record ids and no header pair. Values are one percent-encoded path
//! segment each ([`crate::url`]). In the `ids=` forms (get, delete) values are joined by `,`, so a value holding
//! a comma is refused there (spec §11.3): use the single-record form for it.
//!
//! ## Lookups by external ID: the header is derived, never written ([`lookups`])
//!
//! A lookup is written as an external reference: `"Account_Name": {"External_Account_ID": "acc-1"}`. The client
//! cannot guess which keys of such an object are external fields, so **the request declares them**:
//! `.external_field("Accounts", "External_Account_ID")` (bindings: `external_fields=["Accounts.External_Account_ID"]`).
//! The `X-EXTERNAL` lookup pairs are then derived from the body: every object (at any depth, through subform
//! and line-item arrays) holding a declared external field yields `{Module}.{path}.{Field}`, and a
//! multi-module lookup (`What_Id`, `participant`; more with `.multi_module_lookup(..)`) yields
//! `{Module}.{path}->{Target}.{Field}` (spec §2.4). The header therefore names exactly the lookup paths the body
//! uses. Rules (each an [`InvalidInput`] before sending):
//!
//! * A lookup object holding an external field **and** an `id` is refused: with the header, Zoho reads only the
//!   external field and silently ignores the `id` (spec §2.4), so one of them is a mistake.
//! * One lookup path is addressed one way per call: two different external fields, or an external field in one
//!   record and a plain `{"id": ..}` in another, cannot share a call (the header would make Zoho ignore the ids).
//! * A lookup object holding two declared external fields is refused (a lookup has one address).
//!
//! ## Record fields
//!
//! Top-level keys are API names, or `$` followed by one (`$se_module`, as Zoho writes them). Field values are
//! passed through as given; ids are strings (they exceed 2^53). For data frames and CSV rows, [`cells`] turns
//! cells into fields: missing cells (NaN, NaT) are left out, date-times become Zoho's ISO 8601 text.

pub mod bulk_upsert;
pub mod cells;
pub mod delete;
pub mod get;
pub mod insert;
pub mod lookups;
pub mod mapping;
pub mod outcome;
pub mod pages;
pub mod search;
pub mod spec;
pub mod update;
pub mod upsert;

mod checked;

pub use bulk_upsert::{Upsert, UpsertRow};
pub use delete::{DeleteRecords, DeleteRecordsBuilder};
pub use get::{GetRecords, GetRecordsBuilder};
pub use insert::{InsertRecords, InsertRecordsBuilder};
pub use lookups::ExternalFields;
pub use outcome::{RecordOutcome, RecordsResponse, UpsertAction};
pub use pages::{PageInfo, Paged, Pages, RecordsPage};
pub use search::{SearchRecords, SearchRecordsBuilder};
pub use update::{UpdateRecords, UpdateRecordsBuilder};
pub use upsert::{UpsertRecords, UpsertRecordsBuilder, UpsertSpec};

use crate::error::InvalidInput;
use crate::names::{ExternalValue, FieldName, RecordId};

/// At most this many records per insert, update or upsert call, and ids per get or delete call (spec §5.5).
pub const MAX_RECORDS: usize = 100;

/// At most this many field names in `fields` (spec §5.5).
pub const MAX_FIELDS: usize = 50;

/// At most this many records per page of a read (spec §5.5).
pub const MAX_PER_PAGE: u32 = 200;

/// How records are addressed: by Zoho record id, or by the value of one of the module's external fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum RecordKey {
    /// By Zoho record id (no `X-EXTERNAL` pair for the module).
    #[default]
    Id,
    /// By the value of this external field: `X-EXTERNAL: {Module}.{field}`.
    External(FieldName),
}

impl RecordKey {
    /// `External(field)`, or `Id` for `None`; an error names the argument `key`.
    ///
    /// ```
    /// use zcrm_extid::records::RecordKey;
    /// assert_eq!(RecordKey::parse(None)?, RecordKey::Id);
    /// assert_eq!(RecordKey::parse(Some("External_Contact_ID"))?.field(), "External_Contact_ID");
    /// assert_eq!(RecordKey::parse(Some("id"))?, RecordKey::Id);
    /// assert_eq!(RecordKey::parse(Some("Bad Name")).unwrap_err().argument, "key");
    /// # Ok::<(), zcrm_extid::InvalidInput>(())
    /// ```
    pub fn parse(field: Option<&str>) -> Result<RecordKey, InvalidInput> {
        match field {
            None | Some("id") => Ok(RecordKey::Id),
            Some(f) => Ok(RecordKey::External(FieldName::parse_as(f, "key")?)),
        }
    }

    /// The body field carrying the key: `id` or the external field.
    pub fn field(&self) -> &str {
        match self {
            RecordKey::Id => "id",
            RecordKey::External(f) => f.as_str(),
        }
    }

    /// Checks one addressing value (`argument`, e.g. `id` or `ids[2]`): a record id, or a non-empty external value.
    pub(crate) fn check_value(&self, value: String, argument: &str) -> Result<String, InvalidInput> {
        match self {
            RecordKey::Id => RecordId::parse_as(value, argument).map(String::from).map_err(|e| {
                InvalidInput::new(
                    argument,
                    format!(
                        "{}; to address records by an external value, give the external field as the key",
                        e.message
                    ),
                )
            }),
            RecordKey::External(_) => ExternalValue::parse_as(value, argument).map(String::from),
        }
    }
}

/// Checks the values of an `ids=` list: 1 to [`MAX_RECORDS`], each valid for `key`, none holding `,`, no repeats.
pub(crate) fn check_ids(key: &RecordKey, values: Vec<String>) -> Result<Vec<String>, InvalidInput> {
    if values.is_empty() {
        return Err(InvalidInput::new("ids", "needs at least one value"));
    }
    if values.len() > MAX_RECORDS {
        return Err(InvalidInput::new(
            "ids",
            format!("has {} values; Zoho accepts at most {MAX_RECORDS} per call", values.len()),
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(values.len());
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.into_iter().enumerate() {
        let arg = format!("ids[{i}]");
        let v = key.check_value(v, &arg)?;
        if v.contains(',') {
            return Err(InvalidInput::new(
                arg,
                format!("{v:?} holds a comma, which separates the values of `ids=`; address this record on its own"),
            ));
        }
        if !seen.insert(v.clone()) {
            return Err(InvalidInput::new(arg, format!("{v:?} is given twice")));
        }
        out.push(v);
    }
    Ok(out)
}

/// Checks a `fields` list: 1 to [`MAX_FIELDS`] API names, no repeats.
pub(crate) fn check_fields(fields: Vec<String>) -> Result<Vec<FieldName>, InvalidInput> {
    if fields.is_empty() {
        return Err(InvalidInput::new("fields", "needs at least one field name (or leave it out)"));
    }
    if fields.len() > MAX_FIELDS {
        return Err(InvalidInput::new(
            "fields",
            format!("has {} names; Zoho accepts at most {MAX_FIELDS}", fields.len()),
        ));
    }
    let mut out: Vec<FieldName> = Vec::with_capacity(fields.len());
    for (i, f) in fields.into_iter().enumerate() {
        let name = FieldName::parse_as(f, &format!("fields[{i}]"))?;
        if out.contains(&name) {
            return Err(InvalidInput::new(format!("fields[{i}]"), format!("{name} is given twice")));
        }
        out.push(name);
    }
    Ok(out)
}

/// Checks paging: `page` >= 1, `per_page` in 1..=[`MAX_PER_PAGE`], `page_token` non-empty and not with `page`.
pub(crate) fn check_paging(
    page: Option<u32>,
    per_page: Option<u32>,
    page_token: Option<&str>,
) -> Result<(), InvalidInput> {
    if page == Some(0) {
        return Err(InvalidInput::new("page", "pages start at 1"));
    }
    if let Some(n) = per_page
        && !(1..=MAX_PER_PAGE).contains(&n)
    {
        return Err(InvalidInput::new("per_page", format!("{n} is not in 1..={MAX_PER_PAGE}")));
    }
    match page_token {
        Some("") => Err(InvalidInput::new("page_token", "must not be empty")),
        Some(_) if page.is_some() => {
            Err(InvalidInput::new("page_token", "cannot be combined with `page` (Zoho refuses both)"))
        }
        _ => Ok(()),
    }
}

/// `key=value&key=value` with the value's characters outside RFC 3986 unreserved percent-encoded, except the
/// `,` separators of list values, which are written as they are (as Zoho's docs show them).
pub(crate) fn push_query(url: &mut String, params: &[(&str, String)]) {
    let mut first = true;
    for (name, value) in params {
        url.push(if first { '?' } else { '&' });
        first = false;
        url.push_str(name);
        url.push('=');
        url.push_str(value);
    }
}

/// One value of a query parameter, percent-encoded (everything outside RFC 3986 unreserved).
pub(crate) fn encode_query_value(value: &str) -> String {
    match value {
        // Dot segments matter in paths only; in a query `.` is an ordinary unreserved character.
        "." | ".." => value.to_owned(),
        _ => crate::url::encode_segment(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_rules_name_the_value() {
        let k = RecordKey::External(FieldName::new("E").unwrap());
        assert_eq!(check_ids(&k, vec![]).unwrap_err().location(), "ids");
        assert_eq!(check_ids(&k, vec!["a".into(), "b,c".into()]).unwrap_err().location(), "ids[1]");
        assert_eq!(check_ids(&k, vec!["a".into(), "a".into()]).unwrap_err().location(), "ids[1]");
        assert_eq!(check_ids(&k, vec!["a".into(), String::new()]).unwrap_err().location(), "ids[1]");
        assert_eq!(check_ids(&RecordKey::Id, vec!["12".into(), "x".into()]).unwrap_err().location(), "ids[1]");
        assert_eq!(check_ids(&k, (0..101).map(|i| i.to_string()).collect()).unwrap_err().location(), "ids");
        assert_eq!(check_ids(&k, vec!["a/b".into(), "ü".into()]).unwrap(), ["a/b", "ü"]);
    }

    #[test]
    fn fields_and_paging_rules() {
        assert_eq!(check_fields(vec![]).unwrap_err().location(), "fields");
        assert_eq!(check_fields(vec!["A".into(), "B C".into()]).unwrap_err().location(), "fields[1]");
        assert_eq!(check_fields(vec!["A".into(), "A".into()]).unwrap_err().location(), "fields[1]");
        assert_eq!(check_fields((0..51).map(|i| format!("F{i}")).collect()).unwrap_err().location(), "fields");
        assert_eq!(check_paging(Some(0), None, None).unwrap_err().argument, "page");
        assert_eq!(check_paging(None, Some(201), None).unwrap_err().argument, "per_page");
        assert_eq!(check_paging(Some(2), None, Some("t")).unwrap_err().argument, "page_token");
        assert!(check_paging(None, Some(200), Some("t")).is_ok());
    }

    #[test]
    fn query_values_are_encoded_but_dots_stay() {
        assert_eq!(encode_query_value("a b&c=d,e"), "a%20b%26c%3Dd%2Ce");
        assert_eq!(encode_query_value("x.y"), "x.y");
        assert_eq!(encode_query_value(".."), "..");
    }
}
