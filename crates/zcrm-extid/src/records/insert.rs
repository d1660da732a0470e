//! "Insert Records (Using External ID)" (spec §2.4): `POST {Module}`, lookups written as external references,
//! `X-EXTERNAL` derived from the body ([`super::lookups`]).
//!
//! Rules: 1 to 100 records, each a JSON object of API names; lookups as in [`super::lookups`]; a record carrying a
//! declared external field of the module itself (e.g. `External_Contact_ID` when `Contacts.External_Contact_ID`
//! is declared) carries it as a non-empty string, and no two records of the call carry the same value (the
//! second would be `DUPLICATE_DATA`). An insert is **not idempotent**: a lost answer may mean the records were
//! created, so the client retries it only after a 429 ([`crate::Call::idempotent`]); use an upsert to be able
//! to retry freely.

use serde_json::{Map, Value};

use crate::call::Call;
use crate::config::{ApiVersion, BaseUrl};
use crate::error::{InvalidInput, Result};
use crate::external::XExternal;
use crate::names::ModuleName;
use crate::request::{Method, PreparedRequest};
use crate::scope::ScopeOp;
use crate::transport::HttpResponse;

use super::checked::{CheckedRecord, body, check_count, check_distinct_keys, check_object, key_value};
use super::lookups::{ExternalFields, LookupDecl, header};
use super::outcome::{RecordsResponse, parse_records};

/// A validated insert. Build it with [`InsertRecords::builder`].
///
/// ```
/// use serde_json::json;
/// use zcrm_extid::records::InsertRecords;
/// use zcrm_extid::{ApiVersion, BaseUrl};
/// // The example of spec 2.4: a contact whose account is given by the account's external ID.
/// let insert = InsertRecords::builder("Contacts")
///     .external_field("Accounts", "External_Account_ID")
///     .record(json!({"Last_Name": "ext contact 1", "Account_Name": {"External_Account_ID": "externalaccount1"}}))
///     .build()?;
/// let http = insert.prepare(&BaseUrl::parse("https://www.zohoapis.com")?, ApiVersion::V7);
/// assert_eq!((http.method().as_str(), http.url()), ("POST", "https://www.zohoapis.com/crm/v7/Contacts"));
/// assert_eq!(http.headers()[0], ("X-EXTERNAL", "Contacts.Account_Name.External_Account_ID".to_owned()));
/// assert_eq!(http.body_str(),
///     r#"{"data":[{"Last_Name":"ext contact 1","Account_Name":{"External_Account_ID":"externalaccount1"}}]}"#);
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct InsertRecords {
    module: ModuleName,
    records: Vec<Map<String, Value>>,
    x_external: Option<XExternal>,
}

impl InsertRecords {
    /// Starts an insert into `module`.
    pub fn builder(module: impl Into<String>) -> InsertRecordsBuilder {
        InsertRecordsBuilder { module: module.into(), lookups: LookupDecl::default(), records: Vec::new() }
    }

    /// An insert of records checked one by one with [`check_insert_record`] (a bulk job's rows): only what
    /// involves several records is checked here (count, duplicate keys, one way per lookup path).
    pub(crate) fn from_checked(module: ModuleName, records: Vec<CheckedRecord>) -> Result<InsertRecords, InvalidInput> {
        check_count(records.len())?;
        check_distinct_keys(&records)?;
        let x_external = header(None, records.iter().map(|r| &r.lookups))?;
        Ok(InsertRecords { module, records: records.into_iter().map(|r| r.record).collect(), x_external })
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
        let url = format!("{}/crm/{}/{}", base.as_str(), version.as_str(), self.module);
        PreparedRequest::new(Method::Post, url, write_headers(self.x_external.as_ref()), body(&self.records, None))
    }
}

/// `X-EXTERNAL` (if any), then `Content-Type: application/json`.
pub(crate) fn write_headers(x_external: Option<&XExternal>) -> Vec<(&'static str, String)> {
    let mut headers = Vec::with_capacity(2);
    if let Some(h) = x_external {
        headers.push(("X-EXTERNAL", h.to_string()));
    }
    headers.push(("Content-Type", "application/json".to_owned()));
    headers
}

impl Call for InsertRecords {
    type Output = RecordsResponse;

    fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        InsertRecords::prepare(self, base, version)
    }

    fn module(&self) -> &ModuleName {
        &self.module
    }

    fn scope_op(&self) -> ScopeOp {
        ScopeOp::Create
    }

    fn parse(&self, response: &HttpResponse) -> Result<RecordsResponse> {
        parse_records(response, self.records.len())
    }

    /// Not idempotent: sending an insert twice creates the records twice.
    fn idempotent(&self) -> bool {
        false
    }
}

/// Checks record `index` of an insert into `module` on its own (object, field names, lookups, the module's own
/// declared external fields as non-empty strings); its key is the first of those it carries.
pub(crate) fn check_insert_record(
    index: usize,
    record: Value,
    module: &ModuleName,
    ext: &ExternalFields,
) -> Result<CheckedRecord, InvalidInput> {
    let (record, lookups) = check_object(index, record, module, ext)?;
    let mut key = None;
    for field in ext.fields_of(module.as_str()) {
        let value = key_value(&record, field.as_str())
            .map_err(|why| InvalidInput::new("data", why).at(index).field(field.as_str()))?;
        if let (None, Some(v)) = (&key, value) {
            key = Some((field.to_string(), v));
        }
    }
    Ok(CheckedRecord { record, lookups, key })
}

/// Builder for [`InsertRecords`]; [`InsertRecordsBuilder::build`] checks every rule.
#[derive(Debug, Clone)]
#[must_use]
pub struct InsertRecordsBuilder {
    module: String,
    lookups: LookupDecl,
    records: Vec<Value>,
}

impl InsertRecordsBuilder {
    /// Declares `field` an external field of `module`: lookup objects holding it are external references.
    pub fn external_field(mut self, module: impl Into<String>, field: impl Into<String>) -> Self {
        self.lookups.field(module.into(), field.into());
        self
    }

    /// Declares `field` a multi-module lookup (besides `What_Id` and `participant`): written `->Module`.
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

    /// Checks every rule and builds the insert. The first problem found is returned.
    pub fn build(self) -> Result<InsertRecords, InvalidInput> {
        let module = ModuleName::new(self.module)?;
        let ext = self.lookups.build()?;
        check_count(self.records.len())?;
        let checked = self
            .records
            .into_iter()
            .enumerate()
            .map(|(i, r)| check_insert_record(i, r, &module, &ext))
            .collect::<Result<Vec<_>, _>>()?;
        InsertRecords::from_checked(module, checked)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rules_name_record_and_field() {
        let b = || InsertRecords::builder("Contacts").external_field("Contacts", "External_Contact_ID");
        let loc = |b: InsertRecordsBuilder| b.build().unwrap_err().location();
        assert_eq!(loc(b()), "data");
        assert_eq!(loc(b().records((0..101).map(|_| json!({})))), "data");
        assert_eq!(loc(b().record(json!({})).record(json!("x"))), "data[1]");
        assert_eq!(loc(b().record(json!({"External_Contact_ID": 5}))), "data[0].External_Contact_ID");
        assert_eq!(
            loc(b().record(json!({"External_Contact_ID": "c"})).record(json!({"External_Contact_ID": "c"}))),
            "data[1].External_Contact_ID"
        );
        assert_eq!(loc(b().external_field("Accounts", "Bad Field").record(json!({}))), "external_fields[1]");
    }

    #[test]
    fn no_lookups_no_header() {
        let r = InsertRecords::builder("Contacts").record(json!({"Last_Name": "x"})).build().unwrap();
        let http = r.prepare(&BaseUrl::parse("https://h.zohoapis.com").unwrap(), ApiVersion::V5);
        assert_eq!(http.headers(), [("Content-Type", "application/json".to_owned())]);
        assert!(!Call::idempotent(&r));
        assert_eq!(r.scope_op(), ScopeOp::Create);
    }
}
