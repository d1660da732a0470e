//! "Upsert Records (Using External ID)" (spec §2.7): `POST {Module}/upsert`. Zoho checks each record for a
//! duplicate (the `duplicate_check_fields` in order, else the module's system duplicate-check fields and then
//! its unique fields, external fields included) and updates the match or inserts a new record; each outcome
//! says which (`action`, `duplicate_field`, [`super::RecordOutcome`]).
//!
//! No `X-EXTERNAL` pair is needed for the module itself: Zoho treats external fields as unique. Lookups written
//! as external references still need their pairs (the OAS lists `X-EXTERNAL` on this route), so the lookup
//! pairs are derived as for an insert, and the header is sent only when the body has such lookups.
//!
//! Rules: 1 to 100 records; `duplicate_check_fields` (optional) are distinct API names; when given, every record
//! carries at least one of them as a non-empty string (a record with none would always be inserted); a
//! record's key is the first of them it carries (without the list: the first declared external field of the
//! module it carries); no key twice in one call (the later record would race the earlier).
//!
//! A bulk job checks each input row with [`check_upsert_record`] against one [`UpsertSpec`], de-duplicates rows
//! by the returned key, and builds calls of up to 100 checked records without checking them again
//! ([`UpsertRecords::from_checked`]).

use serde_json::{Map, Value};

use crate::call::Call;
use crate::config::{ApiVersion, BaseUrl};
use crate::error::{InvalidInput, Result};
use crate::external::XExternal;
use crate::names::{FieldName, ModuleName};
use crate::request::{Method, PreparedRequest};
use crate::scope::ScopeOp;
use crate::transport::HttpResponse;

use super::checked::{CheckedRecord, body, check_count, check_distinct_keys, check_object, key_value};
use super::insert::write_headers;
use super::lookups::{ExternalFields, LookupDecl, header};
use super::outcome::{RecordsResponse, parse_records};

/// What every record of an upsert shares: the module, the duplicate-check fields, the declared external fields.
///
/// ```
/// use zcrm_extid::records::{ExternalFields, UpsertSpec};
/// let spec = UpsertSpec::new("Contacts", ["External_Contact_ID"], ExternalFields::new())?;
/// assert_eq!(spec.duplicate_check_fields()[0].as_str(), "External_Contact_ID");
/// # Ok::<(), zcrm_extid::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertSpec {
    module: ModuleName,
    duplicate_check_fields: Vec<FieldName>,
    externals: ExternalFields,
}

impl UpsertSpec {
    /// Checks the module name and the duplicate-check fields (distinct API names, not `id`).
    pub fn new<S: Into<String>>(
        module: impl Into<String>,
        duplicate_check_fields: impl IntoIterator<Item = S>,
        externals: ExternalFields,
    ) -> Result<UpsertSpec, InvalidInput> {
        let module = ModuleName::new(module)?;
        let mut fields: Vec<FieldName> = Vec::new();
        for (i, f) in duplicate_check_fields.into_iter().enumerate() {
            let arg = format!("duplicate_check_fields[{i}]");
            let f = FieldName::parse_as(f, &arg)?;
            if f.as_str() == "id" || fields.contains(&f) {
                return Err(InvalidInput::new(arg, format!("{f} is `id` or given twice")));
            }
            fields.push(f);
        }
        Ok(UpsertSpec { module, duplicate_check_fields: fields, externals })
    }

    /// The module.
    pub fn module(&self) -> &ModuleName {
        &self.module
    }

    /// The duplicate-check fields, in order (empty: Zoho's default order).
    pub fn duplicate_check_fields(&self) -> &[FieldName] {
        &self.duplicate_check_fields
    }

    /// The declared external fields.
    pub fn externals(&self) -> &ExternalFields {
        &self.externals
    }
}

/// Checks record `index` of an upsert against `spec` on its own; the returned record's key is the
/// `(field, value)` a bulk job de-duplicates by (see the module docs).
pub(crate) fn check_upsert_record(
    index: usize,
    record: Value,
    spec: &UpsertSpec,
) -> Result<CheckedRecord, InvalidInput> {
    let (record, lookups) = check_object(index, record, &spec.module, &spec.externals)?;
    let explicit = !spec.duplicate_check_fields.is_empty();
    let candidates: Vec<&FieldName> = if explicit {
        spec.duplicate_check_fields.iter().collect()
    } else {
        spec.externals.fields_of(spec.module.as_str()).collect()
    };
    let mut key = None;
    for field in &candidates {
        let value = key_value(&record, field.as_str())
            .map_err(|why| InvalidInput::new("data", why).at(index).field(field.as_str()))?;
        if let (None, Some(v)) = (&key, value) {
            key = Some((field.to_string(), v));
        }
    }
    if explicit && key.is_none() {
        let names: Vec<&str> = candidates.iter().map(|f| f.as_str()).collect();
        return Err(InvalidInput::new(
            "data",
            format!("carries none of the duplicate-check fields ({}); it would always be inserted", names.join(", ")),
        )
        .at(index)
        .field(candidates[0].as_str()));
    }
    Ok(CheckedRecord { record, lookups, key })
}

/// A validated upsert. Build it with [`UpsertRecords::builder`].
///
/// ```
/// use serde_json::json;
/// use zcrm_extid::records::UpsertRecords;
/// use zcrm_extid::{ApiVersion, BaseUrl};
/// let upsert = UpsertRecords::builder("Contacts")
///     .duplicate_check_fields(["External_Contact_ID"])
///     .record(json!({"External_Contact_ID": "c1", "Last_Name": "Boyle"}))
///     .build()?;
/// let http = upsert.prepare(&BaseUrl::parse("https://www.zohoapis.com")?, ApiVersion::V7);
/// assert_eq!(http.url(), "https://www.zohoapis.com/crm/v7/Contacts/upsert");
/// assert_eq!(http.headers(), [("Content-Type", "application/json".to_owned())], "no X-EXTERNAL needed");
/// assert_eq!(http.body_str(),
///     r#"{"data":[{"External_Contact_ID":"c1","Last_Name":"Boyle"}],"duplicate_check_fields":["External_Contact_ID"]}"#);
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertRecords {
    module: ModuleName,
    duplicate_check_fields: Vec<FieldName>,
    records: Vec<Map<String, Value>>,
    x_external: Option<XExternal>,
}

impl UpsertRecords {
    /// Starts an upsert into `module`.
    pub fn builder(module: impl Into<String>) -> UpsertRecordsBuilder {
        UpsertRecordsBuilder {
            module: module.into(),
            duplicate_check_fields: Vec::new(),
            lookups: LookupDecl::default(),
            records: Vec::new(),
        }
    }

    /// An upsert of up to 100 records already checked with [`check_upsert_record`] against `spec` (a bulk job's
    /// rows): only what involves several records is checked (count, duplicate keys, one way per lookup path).
    pub(crate) fn from_checked(spec: &UpsertSpec, records: Vec<CheckedRecord>) -> Result<UpsertRecords, InvalidInput> {
        check_count(records.len())?;
        check_distinct_keys(&records)?;
        let x_external = header(None, records.iter().map(|r| &r.lookups))?;
        Ok(UpsertRecords {
            module: spec.module.clone(),
            duplicate_check_fields: spec.duplicate_check_fields.clone(),
            records: records.into_iter().map(|r| r.record).collect(),
            x_external,
        })
    }

    /// The module.
    pub fn module(&self) -> &ModuleName {
        &self.module
    }

    /// The records, in input order.
    pub fn records(&self) -> &[Map<String, Value>] {
        &self.records
    }

    /// The `X-EXTERNAL` header: the lookup paths the body uses, if any.
    pub fn x_external(&self) -> Option<&XExternal> {
        self.x_external.as_ref()
    }

    /// The HTTP request (without a token).
    pub fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        let url = format!("{}/crm/{}/{}/upsert", base.as_str(), version.as_str(), self.module);
        let fields: Option<Value> = (!self.duplicate_check_fields.is_empty())
            .then(|| self.duplicate_check_fields.iter().map(|f| Value::from(f.as_str())).collect());
        let body = body(&self.records, fields.as_ref().map(|f| ("duplicate_check_fields", f)));
        PreparedRequest::new(Method::Post, url, write_headers(self.x_external.as_ref()), body)
    }
}

impl Call for UpsertRecords {
    type Output = RecordsResponse;

    fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        UpsertRecords::prepare(self, base, version)
    }

    fn module(&self) -> &ModuleName {
        &self.module
    }

    fn scope_op(&self) -> ScopeOp {
        ScopeOp::Write
    }

    fn parse(&self, response: &HttpResponse) -> Result<RecordsResponse> {
        parse_records(response, self.records.len())
    }
}

/// Builder for [`UpsertRecords`]; [`UpsertRecordsBuilder::build`] checks every rule.
#[derive(Debug, Clone)]
#[must_use]
pub struct UpsertRecordsBuilder {
    module: String,
    duplicate_check_fields: Vec<String>,
    lookups: LookupDecl,
    records: Vec<Value>,
}

impl UpsertRecordsBuilder {
    /// The fields Zoho checks for an existing record, in order (default: Zoho's own order).
    pub fn duplicate_check_fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.duplicate_check_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Declares `field` an external field of `module`: lookup objects holding it are external references.
    pub fn external_field(mut self, module: impl Into<String>, field: impl Into<String>) -> Self {
        self.lookups.field(module.into(), field.into());
        self
    }

    /// Declares `field` a multi-module lookup (besides `What_Id` and `participant`).
    pub fn multi_module_lookup(mut self, field: impl Into<String>) -> Self {
        self.lookups.multi_module(field.into());
        self
    }

    /// Adds a record.
    pub fn record(mut self, record: Value) -> Self {
        self.records.push(record);
        self
    }

    /// Adds records.
    pub fn records(mut self, records: impl IntoIterator<Item = Value>) -> Self {
        self.records.extend(records);
        self
    }

    /// Checks every rule and builds the upsert.
    pub fn build(self) -> Result<UpsertRecords, InvalidInput> {
        let externals = self.lookups.build()?;
        let spec = UpsertSpec::new(self.module, self.duplicate_check_fields, externals)?;
        check_count(self.records.len())?;
        let checked = self
            .records
            .into_iter()
            .enumerate()
            .map(|(i, r)| check_upsert_record(i, r, &spec))
            .collect::<Result<Vec<_>, _>>()?;
        UpsertRecords::from_checked(&spec, checked)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rules() {
        let b = || UpsertRecords::builder("Contacts").duplicate_check_fields(["External_Contact_ID", "Email"]);
        let loc = |b: UpsertRecordsBuilder| b.build().unwrap_err().location();
        assert_eq!(loc(b().record(json!({"Last_Name": "x"}))), "data[0].External_Contact_ID");
        assert_eq!(loc(b().record(json!({"Email": 3}))), "data[0].Email");
        // Keys are the first duplicate-check field a record carries: these two are different keys.
        assert!(
            b().record(json!({"Email": "a@b"}))
                .record(json!({"External_Contact_ID": "c", "Email": "a@b"}))
                .build()
                .is_ok()
        );
        assert_eq!(loc(b().record(json!({"Email": "a@b"})).record(json!({"Email": "a@b"}))), "data[1].Email");
        assert_eq!(
            loc(UpsertRecords::builder("Contacts").duplicate_check_fields(["A", "A"]).record(json!({}))),
            "duplicate_check_fields[1]"
        );
        // Without duplicate-check fields, any record goes, keyed by the module's declared external field.
        let no_list = UpsertRecords::builder("Contacts")
            .external_field("Contacts", "External_Contact_ID")
            .record(json!({"External_Contact_ID": "c"}))
            .record(json!({"External_Contact_ID": "c"}));
        assert_eq!(loc(no_list), "data[1].External_Contact_ID");
        assert!(UpsertRecords::builder("Contacts").record(json!({"Last_Name": "x"})).build().is_ok());
    }

    #[test]
    fn bulk_path_checks_rows_alone_then_calls() {
        let spec = UpsertSpec::new(
            "Contacts",
            ["External_Contact_ID"],
            ExternalFields::parse(&["Accounts.External_Account_ID"]).unwrap(),
        )
        .unwrap();
        let rows = [
            json!({"External_Contact_ID": "c1", "Account_Name": {"External_Account_ID": "a1"}}),
            json!({"External_Contact_ID": "c2"}),
        ];
        let checked: Vec<CheckedRecord> =
            rows.into_iter().enumerate().map(|(i, r)| check_upsert_record(i, r, &spec).unwrap()).collect();
        assert_eq!(checked[1].key(), Some(("External_Contact_ID", "c2")));
        let call = UpsertRecords::from_checked(&spec, checked).unwrap();
        assert_eq!(call.x_external().unwrap().to_string(), "Contacts.Account_Name.External_Account_ID");
        assert_eq!(call.records().len(), 2);
    }
}
