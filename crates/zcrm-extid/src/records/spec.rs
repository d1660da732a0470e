//! The records operations as plain data, filled from Python keyword arguments, a JS object or CLI flags and
//! turned into the validated requests here, so every binding passes the same values to the same builders.
//!
//! ```
//! use serde_json::json;
//! use zcrm_extid::records::spec::{Ids, UpsertRecordsSpec};
//! let spec = UpsertRecordsSpec {
//!     module: "Contacts".into(),
//!     records: vec![json!({"External_Contact_ID": "c1", "Account_Name": {"External_Account_ID": "a1"}})],
//!     duplicate_check_fields: Some(vec!["External_Contact_ID".into()]),
//!     external_fields: Some(vec!["Accounts.External_Account_ID".into()]),
//! };
//! assert_eq!(spec.build()?.x_external().unwrap().to_string(), "Contacts.Account_Name.External_Account_ID");
//! assert!(matches!(Ids::from(vec!["a".to_owned()]), Ids::Many(_)));
//! # Ok::<(), zcrm_extid::InvalidInput>(())
//! ```

use serde_json::Value;

use super::{DeleteRecords, GetRecords, InsertRecords, SearchRecords, UpdateRecords, UpsertRecords};
use crate::call::Call;
use crate::config::{ApiVersion, BaseUrl};
use crate::error::InvalidInput;
use crate::request::PreparedRequest;

/// One value (the single-record form) or a list (the `ids=` form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ids {
    /// `GET/DELETE {Module}/{value}`.
    One(String),
    /// `GET/DELETE {Module}?ids=v1,v2`.
    Many(Vec<String>),
}

impl From<String> for Ids {
    fn from(v: String) -> Self {
        Ids::One(v)
    }
}

impl From<Vec<String>> for Ids {
    fn from(v: Vec<String>) -> Self {
        Ids::Many(v)
    }
}

/// `Module.Field` entries split for the builders, which check the names (errors name `external_fields[i]`).
fn externals(list: Option<Vec<String>>) -> Result<Vec<(String, String)>, InvalidInput> {
    list.unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, entry)| match entry.split_once('.') {
            Some((m, f)) => Ok((m.to_owned(), f.to_owned())),
            None => Err(InvalidInput::new(
                format!("external_fields[{i}]"),
                format!("{entry:?} is not Module.Field (e.g. Accounts.External_Account_ID)"),
            )),
        })
        .collect()
}

/// A [`GetRecords`] as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetRecordsSpec {
    /// The module.
    pub module: String,
    /// The external field addressing the records (`None`: record ids).
    pub key: Option<String>,
    /// One value, several, or none (the whole module, paged).
    pub ids: Option<Ids>,
    /// The fields to return.
    pub fields: Option<Vec<String>>,
    /// The page (from 1).
    pub page: Option<u32>,
    /// Records per page.
    pub per_page: Option<u32>,
    /// A previous page's `next_page_token`.
    pub page_token: Option<String>,
}

impl GetRecordsSpec {
    /// The validated read.
    pub fn build(self) -> Result<GetRecords, InvalidInput> {
        let mut b = GetRecords::builder(self.module);
        if let Some(k) = self.key {
            b = b.key(k);
        }
        match self.ids {
            Some(Ids::One(v)) => b = b.id(v),
            Some(Ids::Many(v)) => b = b.ids(v),
            None => {}
        }
        if let Some(f) = self.fields {
            b = b.fields(f);
        }
        if let Some(p) = self.page {
            b = b.page(p);
        }
        if let Some(p) = self.per_page {
            b = b.per_page(p);
        }
        if let Some(t) = self.page_token {
            b = b.page_token(t);
        }
        b.build()
    }
}

/// An [`InsertRecords`] as plain data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InsertRecordsSpec {
    /// The module.
    pub module: String,
    /// The records.
    pub records: Vec<Value>,
    /// Declared external fields, `Module.Field`.
    pub external_fields: Option<Vec<String>>,
}

impl InsertRecordsSpec {
    /// The validated insert.
    pub fn build(self) -> Result<InsertRecords, InvalidInput> {
        let mut b = InsertRecords::builder(self.module).records(self.records);
        for (m, f) in externals(self.external_fields)? {
            b = b.external_field(m, f);
        }
        b.build()
    }
}

/// An [`UpdateRecords`] as plain data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateRecordsSpec {
    /// The module.
    pub module: String,
    /// The records.
    pub records: Vec<Value>,
    /// The external field addressing the records (`None`: record ids).
    pub key: Option<String>,
    /// The one record's address (`PUT {Module}/{id}`); `None`: each record carries its key.
    pub id: Option<String>,
    /// Declared external fields, `Module.Field`.
    pub external_fields: Option<Vec<String>>,
}

impl UpdateRecordsSpec {
    /// The validated update.
    pub fn build(self) -> Result<UpdateRecords, InvalidInput> {
        let mut b = UpdateRecords::builder(self.module).records(self.records);
        if let Some(k) = self.key {
            b = b.key(k);
        }
        if let Some(v) = self.id {
            b = b.id(v);
        }
        for (m, f) in externals(self.external_fields)? {
            b = b.external_field(m, f);
        }
        b.build()
    }
}

/// An [`UpsertRecords`] as plain data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpsertRecordsSpec {
    /// The module.
    pub module: String,
    /// The records.
    pub records: Vec<Value>,
    /// The duplicate-check fields, in order.
    pub duplicate_check_fields: Option<Vec<String>>,
    /// Declared external fields, `Module.Field`.
    pub external_fields: Option<Vec<String>>,
}

impl UpsertRecordsSpec {
    /// The validated upsert.
    pub fn build(self) -> Result<UpsertRecords, InvalidInput> {
        let mut b = UpsertRecords::builder(self.module).records(self.records);
        if let Some(f) = self.duplicate_check_fields {
            b = b.duplicate_check_fields(f);
        }
        for (m, f) in externals(self.external_fields)? {
            b = b.external_field(m, f);
        }
        b.build()
    }
}

/// A [`DeleteRecords`] as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecordsSpec {
    /// The module.
    pub module: String,
    /// The external field addressing the records (`None`: record ids).
    pub key: Option<String>,
    /// One value or several.
    pub ids: Ids,
}

impl DeleteRecordsSpec {
    /// The validated delete.
    pub fn build(self) -> Result<DeleteRecords, InvalidInput> {
        let mut b = DeleteRecords::builder(self.module);
        if let Some(k) = self.key {
            b = b.key(k);
        }
        match self.ids {
            Ids::One(v) => b.id(v).build(),
            Ids::Many(v) => b.ids(v).build(),
        }
    }
}

/// A [`SearchRecords`] as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRecordsSpec {
    /// The module.
    pub module: String,
    /// The external field searched.
    pub key: String,
    /// The values (one: `equals`; several: `in`).
    pub values: Vec<String>,
    /// The fields to return.
    pub fields: Option<Vec<String>>,
    /// The page (from 1).
    pub page: Option<u32>,
    /// Records per page.
    pub per_page: Option<u32>,
}

impl SearchRecordsSpec {
    /// The validated search.
    pub fn build(self) -> Result<SearchRecords, InvalidInput> {
        let mut b = SearchRecords::builder(self.module, self.key).values(self.values);
        if let Some(f) = self.fields {
            b = b.fields(f);
        }
        if let Some(p) = self.page {
            b = b.page(p);
        }
        if let Some(p) = self.per_page {
            b = b.per_page(p);
        }
        b.build()
    }
}

/// Any records operation as plain data (`operation` is `get`, `insert`, `update`, `upsert`, `delete` or
/// `search`): what the bindings' `prepare_records` and the conformance cases pass. An argument the operation
/// does not take is an [`InvalidInput`] naming it, so a misspelt call cannot drop an argument silently.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordsArgs {
    /// `get`, `insert`, `update`, `upsert`, `delete` or `search`.
    pub operation: String,
    /// The module.
    pub module: String,
    /// insert, update, upsert: the records.
    pub records: Option<Vec<Value>>,
    /// get, update, delete, search: the external field addressing (or searched).
    pub key: Option<String>,
    /// update: the one record's address.
    pub id: Option<String>,
    /// get, delete: one value or several.
    pub ids: Option<Ids>,
    /// search: the values.
    pub values: Option<Vec<String>>,
    /// get, search: the fields to return.
    pub fields: Option<Vec<String>>,
    /// get, search: the page.
    pub page: Option<u32>,
    /// get, search: records per page.
    pub per_page: Option<u32>,
    /// get: a previous page's token.
    pub page_token: Option<String>,
    /// insert, update, upsert: declared external fields, `Module.Field`.
    pub external_fields: Option<Vec<String>>,
    /// upsert: the duplicate-check fields.
    pub duplicate_check_fields: Option<Vec<String>>,
}

/// A validated records operation of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordsCall {
    /// A read.
    Get(GetRecords),
    /// An insert.
    Insert(InsertRecords),
    /// An update.
    Update(UpdateRecords),
    /// An upsert.
    Upsert(UpsertRecords),
    /// A delete.
    Delete(DeleteRecords),
    /// A search.
    Search(SearchRecords),
}

impl RecordsCall {
    /// The HTTP request (without a token).
    pub fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        match self {
            RecordsCall::Get(c) => c.prepare(base, version),
            RecordsCall::Insert(c) => c.prepare(base, version),
            RecordsCall::Update(c) => c.prepare(base, version),
            RecordsCall::Upsert(c) => c.prepare(base, version),
            RecordsCall::Delete(c) => c.prepare(base, version),
            RecordsCall::Search(c) => Call::prepare(c, base, version),
        }
    }
}

impl RecordsArgs {
    /// The validated operation.
    ///
    /// ```
    /// use zcrm_extid::records::spec::{Ids, RecordsArgs};
    /// let args = RecordsArgs { operation: "delete".into(), module: "Contacts".into(), key: Some("External_Contact_ID".into()),
    ///                          ids: Some(Ids::One("c1".into())), fields: Some(vec!["A".into()]), ..Default::default() };
    /// assert_eq!(args.build().unwrap_err().to_string(), "invalid fields: does not apply to delete");
    /// ```
    pub fn build(self) -> Result<RecordsCall, InvalidInput> {
        let op = self.operation.as_str();
        let takes: &[&str] = match op {
            "get" => &["key", "ids", "fields", "page", "per_page", "page_token"],
            "insert" => &["records", "external_fields"],
            "update" => &["records", "key", "id", "external_fields"],
            "upsert" => &["records", "external_fields", "duplicate_check_fields"],
            "delete" => &["key", "ids"],
            "search" => &["key", "values", "fields", "page", "per_page"],
            other => {
                return Err(InvalidInput::new(
                    "operation",
                    format!("{other:?} is not one of get, insert, update, upsert, delete, search"),
                ));
            }
        };
        let given = [
            ("records", self.records.is_some()),
            ("key", self.key.is_some()),
            ("id", self.id.is_some()),
            ("ids", self.ids.is_some()),
            ("values", self.values.is_some()),
            ("fields", self.fields.is_some()),
            ("page", self.page.is_some()),
            ("per_page", self.per_page.is_some()),
            ("page_token", self.page_token.is_some()),
            ("external_fields", self.external_fields.is_some()),
            ("duplicate_check_fields", self.duplicate_check_fields.is_some()),
        ];
        if let Some((name, _)) = given.iter().find(|(name, set)| *set && !takes.contains(name)) {
            return Err(InvalidInput::new(*name, format!("does not apply to {op}")));
        }
        let records = self.records.unwrap_or_default();
        Ok(match op {
            "get" => RecordsCall::Get(
                GetRecordsSpec {
                    module: self.module,
                    key: self.key,
                    ids: self.ids,
                    fields: self.fields,
                    page: self.page,
                    per_page: self.per_page,
                    page_token: self.page_token,
                }
                .build()?,
            ),
            "insert" => RecordsCall::Insert(
                InsertRecordsSpec { module: self.module, records, external_fields: self.external_fields }.build()?,
            ),
            "update" => RecordsCall::Update(
                UpdateRecordsSpec {
                    module: self.module,
                    records,
                    key: self.key,
                    id: self.id,
                    external_fields: self.external_fields,
                }
                .build()?,
            ),
            "upsert" => RecordsCall::Upsert(
                UpsertRecordsSpec {
                    module: self.module,
                    records,
                    duplicate_check_fields: self.duplicate_check_fields,
                    external_fields: self.external_fields,
                }
                .build()?,
            ),
            "delete" => {
                let ids = self.ids.ok_or_else(|| InvalidInput::new("ids", "give the record or records to delete"))?;
                RecordsCall::Delete(DeleteRecordsSpec { module: self.module, key: self.key, ids }.build()?)
            }
            _ => RecordsCall::Search(
                SearchRecordsSpec {
                    module: self.module,
                    key: self.key.ok_or_else(|| InvalidInput::new("key", "name the external field to search"))?,
                    values: self.values.unwrap_or_default(),
                    fields: self.fields,
                    page: self.page,
                    per_page: self.per_page,
                }
                .build()?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_field_entries_are_checked_with_their_index() {
        let e = InsertRecordsSpec {
            module: "Contacts".into(),
            records: vec![serde_json::json!({})],
            external_fields: Some(vec!["Accounts.A".into(), "nodot".into()]),
        }
        .build()
        .unwrap_err();
        assert_eq!(e.location(), "external_fields[1]");
        let d = DeleteRecordsSpec { module: "Contacts".into(), key: None, ids: Ids::One("1".into()) }.build().unwrap();
        assert_eq!(d.values(), ["1"]);
    }
}
