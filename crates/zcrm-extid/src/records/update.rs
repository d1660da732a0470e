//! "Update Records (Using External ID)" (spec §2.5): one record, `PUT {Module}/{value}`; or many,
//! `PUT {Module}` with each record keyed by the external field (or `id`) in its body.
//!
//! Rules, besides those of every body ([`super::lookups`]):
//!
//! * One record (`.id(value)`): exactly one record. It must not change the field that addresses it: Zoho answers
//!   `NOT_ALLOWED` for a record addressed by `External_Contact_ID` whose body sets another `External_Contact_ID`
//!   (spec §2.5), so a different value is refused here (the same value is harmless and sent as given). An `id` in
//!   the body of a record addressed by the URL is refused when it differs from the URL's record id, or when the
//!   record is addressed by an external value (two addresses for one record).
//! * Many records: 1 to 100, each carrying its key (the external field as a non-empty string and no `id`, or an
//!   `id` string of digits), no key twice in one call.
//!
//! The header is `{Module}.{key}` (when the key is an external field) followed by the lookup pairs.

use serde_json::{Map, Value};

use crate::call::Call;
use crate::config::{ApiVersion, BaseUrl};
use crate::error::{InvalidInput, Result};
use crate::external::{ExternalPair, XExternal};
use crate::names::{ModuleName, RecordId};
use crate::request::{Method, PreparedRequest};
use crate::scope::ScopeOp;
use crate::transport::HttpResponse;
use crate::url::push_segment;

use super::RecordKey;
use super::checked::{CheckedRecord, body, check_count, check_distinct_keys, check_object, key_value};
use super::insert::write_headers;
use super::lookups::{ExternalFields, LookupDecl, header};
use super::outcome::{RecordsResponse, parse_records};

/// A validated update. Build it with [`UpdateRecords::builder`].
///
/// ```
/// use serde_json::json;
/// use zcrm_extid::records::UpdateRecords;
/// use zcrm_extid::{ApiVersion, BaseUrl};
/// let base = BaseUrl::parse("https://www.zohoapis.com")?;
/// // Spec 2.5, many records keyed by their external field, a lookup by the account's external field:
/// let many = UpdateRecords::builder("Contacts").key("External_Contact_ID")
///     .external_field("Accounts", "External_Account_ID")
///     .record(json!({"External_Contact_ID": "extcontact1", "Account_Name": {"External_Account_ID": "extaccount1"}}))
///     .build()?;
/// let http = many.prepare(&base, ApiVersion::V7);
/// assert_eq!((http.method().as_str(), http.url()), ("PUT", "https://www.zohoapis.com/crm/v7/Contacts"));
/// assert_eq!(http.headers()[0].1, "Contacts.External_Contact_ID,Contacts.Account_Name.External_Account_ID");
/// // Changing the field that addresses the record is Zoho's NOT_ALLOWED, caught here:
/// let err = UpdateRecords::builder("Contacts").key("External_Contact_ID").id("extcontact1")
///     .record(json!({"External_Contact_ID": "other"})).build().unwrap_err();
/// assert_eq!(err.location(), "data[0].External_Contact_ID");
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRecords {
    module: ModuleName,
    key: RecordKey,
    single: Option<String>,
    records: Vec<Map<String, Value>>,
    x_external: Option<XExternal>,
}

impl UpdateRecords {
    /// Starts an update of `module`'s records.
    pub fn builder(module: impl Into<String>) -> UpdateRecordsBuilder {
        UpdateRecordsBuilder {
            module: module.into(),
            key: None,
            single: None,
            lookups: LookupDecl::default(),
            records: Vec::new(),
        }
    }

    /// A many-records update of records checked one by one with [`check_update_record`] (a bulk job's rows).
    pub(crate) fn from_checked(
        module: ModuleName,
        key: RecordKey,
        records: Vec<CheckedRecord>,
    ) -> Result<UpdateRecords, InvalidInput> {
        check_count(records.len())?;
        check_distinct_keys(&records)?;
        let x_external = header(key_pair(&module, &key), records.iter().map(|r| &r.lookups))?;
        Ok(UpdateRecords {
            module,
            key,
            single: None,
            records: records.into_iter().map(|r| r.record).collect(),
            x_external,
        })
    }

    /// The module.
    pub fn module(&self) -> &ModuleName {
        &self.module
    }

    /// How records are addressed.
    pub fn key(&self) -> &RecordKey {
        &self.key
    }

    /// The records, in input order.
    pub fn records(&self) -> &[Map<String, Value>] {
        &self.records
    }

    /// The `X-EXTERNAL` header: the key pair, then the lookup pairs.
    pub fn x_external(&self) -> Option<&XExternal> {
        self.x_external.as_ref()
    }

    /// The HTTP request (without a token).
    pub fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        let mut url = format!("{}/crm/{}/{}", base.as_str(), version.as_str(), self.module);
        if let Some(v) = &self.single {
            push_segment(&mut url, v);
        }
        PreparedRequest::new(Method::Put, url, write_headers(self.x_external.as_ref()), body(&self.records, None))
    }
}

fn key_pair(module: &ModuleName, key: &RecordKey) -> Option<ExternalPair> {
    match key {
        RecordKey::External(f) => Some(ExternalPair::simple(module.clone(), f.clone())),
        RecordKey::Id => None,
    }
}

impl Call for UpdateRecords {
    type Output = RecordsResponse;

    fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        UpdateRecords::prepare(self, base, version)
    }

    fn module(&self) -> &ModuleName {
        &self.module
    }

    fn scope_op(&self) -> ScopeOp {
        ScopeOp::Update
    }

    fn parse(&self, response: &HttpResponse) -> Result<RecordsResponse> {
        parse_records(response, self.records.len())
    }
}

/// Checks record `index` of a many-records update keyed by `key` on its own; its key is `(field, value)`.
pub(crate) fn check_update_record(
    index: usize,
    record: Value,
    module: &ModuleName,
    key: &RecordKey,
    ext: &ExternalFields,
) -> Result<CheckedRecord, InvalidInput> {
    let (record, lookups) = check_object(index, record, module, ext)?;
    let err = |field: &str, why: String| InvalidInput::new("data", why).at(index).field(field);
    let field = key.field();
    let value = match key_value(&record, field).map_err(|why| err(field, why))? {
        Some(v) => v,
        None => {
            let why = match key {
                RecordKey::Id => "is missing: without a key field, each record is identified by its `id`".to_owned(),
                RecordKey::External(f) => {
                    format!("is missing: the records are keyed by {f} (X-EXTERNAL {module}.{f}), so each must carry it")
                }
            };
            return Err(err(field, why));
        }
    };
    match key {
        RecordKey::Id if RecordId::new(value.as_str()).is_err() => {
            return Err(err("id", format!("{value:?} is not a Zoho record id (digits only)")));
        }
        RecordKey::External(f) if record.contains_key("id") => {
            return Err(err(
                "id",
                format!("records keyed by {f} must not also carry `id` (two addresses for one record)"),
            ));
        }
        _ => {}
    }
    Ok(CheckedRecord { record, lookups, key: Some((field.to_owned(), value)) })
}

/// The single-record form's checks: the body must not re-address the record.
fn check_single(
    record: Value,
    module: &ModuleName,
    key: &RecordKey,
    value: &str,
    ext: &ExternalFields,
) -> Result<CheckedRecord, InvalidInput> {
    let (record, lookups) = check_object(0, record, module, ext)?;
    let err = |field: &str, why: String| InvalidInput::new("data", why).at(0).field(field);
    if let RecordKey::External(f) = key
        && let Some(body_value) = record.get(f.as_str())
        && body_value.as_str() != Some(value)
    {
        return Err(err(
            f.as_str(),
            format!(
                "changes {f}, the field that addresses this record ({value:?}); Zoho answers NOT_ALLOWED (spec 2.5): address it by another external field or its record id to change it"
            ),
        ));
    }
    if let Some(id) = record.get("id") {
        let why = match key {
            RecordKey::External(f) => Some(format!("the record is addressed by {f}; remove `id` (two addresses)")),
            RecordKey::Id if id.as_str() != Some(value) => {
                Some(format!("differs from the record id {value:?} in the URL"))
            }
            RecordKey::Id => None,
        };
        if let Some(why) = why {
            return Err(err("id", why));
        }
    }
    Ok(CheckedRecord { record, lookups, key: None })
}

/// Builder for [`UpdateRecords`]; [`UpdateRecordsBuilder::build`] checks every rule.
#[derive(Debug, Clone)]
#[must_use]
pub struct UpdateRecordsBuilder {
    module: String,
    key: Option<String>,
    single: Option<String>,
    lookups: LookupDecl,
    records: Vec<Value>,
}

impl UpdateRecordsBuilder {
    /// Records are addressed by this external field of the module (default: record ids).
    pub fn key(mut self, field: impl Into<String>) -> Self {
        self.key = Some(field.into());
        self
    }

    /// Updates the one record addressed by `value`: `PUT {Module}/{value}`.
    pub fn id(mut self, value: impl Into<String>) -> Self {
        self.single = Some(value.into());
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

    /// Checks every rule and builds the update.
    pub fn build(self) -> Result<UpdateRecords, InvalidInput> {
        let module = ModuleName::new(self.module)?;
        let key = RecordKey::parse(self.key.as_deref())?;
        let ext = self.lookups.build()?;
        check_count(self.records.len())?;
        let Some(value) = self.single else {
            let checked = self
                .records
                .into_iter()
                .enumerate()
                .map(|(i, r)| check_update_record(i, r, &module, &key, &ext))
                .collect::<Result<Vec<_>, _>>()?;
            return UpdateRecords::from_checked(module, key, checked);
        };
        let value = key.check_value(value, "id")?;
        if self.records.len() != 1 {
            return Err(InvalidInput::new(
                "data",
                format!("has {} records; a record addressed by `id` is updated alone", self.records.len()),
            ));
        }
        let record = self.records.into_iter().next().expect("one");
        let checked = check_single(record, &module, &key, &value, &ext)?;
        let x_external = header(key_pair(&module, &key), [&checked.lookups])?;
        Ok(UpdateRecords { module, key, single: Some(value), records: vec![checked.record], x_external })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn base() -> BaseUrl {
        BaseUrl::parse("https://www.zohoapis.com").unwrap()
    }

    #[test]
    fn single_form_of_the_spec() {
        let r = UpdateRecords::builder("Contacts")
            .key("External_Contact_ID")
            .id("extcontact1")
            .record(json!({"Last_Name": "Test Contact 1"}))
            .build()
            .unwrap();
        let http = r.prepare(&base(), ApiVersion::V6);
        assert_eq!(http.url(), "https://www.zohoapis.com/crm/v6/Contacts/extcontact1");
        assert_eq!(http.headers()[0].1, "Contacts.External_Contact_ID");
        assert_eq!(http.body_str(), r#"{"data":[{"Last_Name":"Test Contact 1"}]}"#);
        // The same value as the address is not a change.
        assert!(
            UpdateRecords::builder("Contacts")
                .key("External_Contact_ID")
                .id("c1")
                .record(json!({"External_Contact_ID": "c1", "Last_Name": "x"}))
                .build()
                .is_ok()
        );
    }

    #[test]
    fn rules() {
        let ext = || UpdateRecords::builder("Contacts").key("External_Contact_ID");
        let loc = |b: UpdateRecordsBuilder| b.build().unwrap_err().location();
        assert_eq!(loc(ext().record(json!({"Last_Name": "x"}))), "data[0].External_Contact_ID");
        assert_eq!(loc(ext().record(json!({"External_Contact_ID": "a", "id": "1"}))), "data[0].id");
        assert_eq!(
            loc(ext().record(json!({"External_Contact_ID": "a"})).record(json!({"External_Contact_ID": "a"}))),
            "data[1].External_Contact_ID"
        );
        assert_eq!(loc(ext().id("a").record(json!({})).record(json!({}))), "data");
        assert_eq!(loc(ext().id("a").record(json!({"id": "1"}))), "data[0].id");
        assert_eq!(loc(ext().id("").record(json!({}))), "id");
        let by_id = || UpdateRecords::builder("Contacts");
        assert_eq!(loc(by_id().record(json!({"id": 12}))), "data[0].id");
        assert_eq!(loc(by_id().record(json!({"id": "x1"}))), "data[0].id");
        assert_eq!(loc(by_id().id("5").record(json!({"id": "6"}))), "data[0].id");
        assert_eq!(loc(by_id().id("x").record(json!({}))), "id");
        assert!(by_id().id("5").record(json!({"id": "5"})).build().is_ok());
    }
}
