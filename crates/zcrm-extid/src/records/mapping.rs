//! Rows of named cells (CSV records, data-frame rows, JS objects) -> records to upsert: which column is the key,
//! which columns fill lookups by external ID, which columns are renamed or left out. The CLI (`zcrm upsert`),
//! the Python package (`upsert_many`) and the Node package (`upsertMany`) all read their rows through
//! [`RecordMapping`], built from plain data by [`UpsertSettings`].
//!
//! ```
//! use serde_json::json;
//! use zcrm_extid::records::cells::Cell;
//! use zcrm_extid::records::mapping::UpsertSettings;
//! let (spec, mapping) = UpsertSettings {
//!     module: "Contacts".into(),
//!     key: "External_Contact_ID".into(),
//!     lookups: vec![("Account_Name".into(), "Accounts.External_Account_ID:account".into())],
//!     columns: vec![("Last_Name".into(), "surname".into())],
//!     ..UpsertSettings::default()
//! }
//! .build()?;
//! let row = [("External_Contact_ID", json!("c1")), ("surname", json!("Boyle")), ("account", json!(7)),
//!            ("Phone", json!(null))];
//! let record = mapping.record(0, row.map(|(c, v)| (c.to_owned(), Cell::Json(v))))?;
//! assert_eq!(record, json!({"External_Contact_ID": "c1", "Last_Name": "Boyle",
//!                           "Account_Name": {"External_Account_ID": "7"}}));
//! assert_eq!(spec.duplicate_check_fields()[0].as_str(), "External_Contact_ID");
//! # Ok::<(), zcrm_extid::InvalidInput>(())
//! ```
//!
//! **Columns.** Every column is a field of the record under its own name (so a CSV whose header holds API names
//! needs no mapping), except:
//! * the columns of lookups: `Account_Name=Accounts.External_Account_ID:account` reads column `account` (default:
//!   the lookup field's name, `Account_Name`) into `"Account_Name": {"External_Account_ID": ...}`, and declares
//!   `Accounts.External_Account_ID` so the `X-EXTERNAL` lookup pair is derived (spec §2.4);
//! * renamed columns: `(API name, column)`, e.g. `("Last_Name", "surname")`;
//! * skipped columns (kept for humans, never sent).
//!
//! The key (`External_Contact_ID`: the module's external field identifying each record) is read from its column
//! like any field (renamed if a `(key, column)` pair says so). It is the default duplicate-check field; given
//! `duplicate_check_fields` without it, it is checked after them (an external field is unique, so a record
//! holding its value must be updated, not inserted twice).
//!
//! **Cells** follow the core's policy ([`super::cells`], [`Nulls::Omit`]): a missing cell (NaN, NaT) or `null`
//! is left out of the record (an empty cell changes nothing), date-times become Zoho's ISO text (naive ones are
//! the row's `INVALID_INPUT`). Key and lookup cells are external values: strings, or integers as their decimal
//! text (data frames hold ids as integers); another type is the row's `INVALID_INPUT` naming the column.

use serde_json::{Map, Value};

use super::cells::{Cell, Nulls, cell_value};
use super::lookups::ExternalFields;
use super::upsert::UpsertSpec;
use crate::error::InvalidInput;
use crate::names::{FieldName, ModuleName, is_api_name};

/// A lookup filled from a column: `field` (`Account_Name`) refers to a record of `module` by its external field
/// `external`, whose value is in `column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupColumn {
    /// The lookup field of the record.
    pub field: FieldName,
    /// The module the lookup refers to.
    pub module: ModuleName,
    /// That module's external field.
    pub external: FieldName,
    /// The column holding the external value.
    pub column: String,
}

impl LookupColumn {
    /// `field` and `target` = `Module.External_Field[:column]` (the column defaults to `field`); errors name
    /// `argument`.
    ///
    /// ```
    /// use zcrm_extid::records::mapping::LookupColumn;
    /// let l = LookupColumn::parse("Account_Name", "Accounts.External_Account_ID:acct", "lookups")?;
    /// assert_eq!((l.module.as_str(), l.external.as_str(), l.column.as_str()), ("Accounts", "External_Account_ID", "acct"));
    /// assert_eq!(LookupColumn::parse("Account_Name", "Accounts", "lookups").unwrap_err().argument, "lookups");
    /// # Ok::<(), zcrm_extid::InvalidInput>(())
    /// ```
    pub fn parse(field: &str, target: &str, argument: &str) -> Result<LookupColumn, InvalidInput> {
        let (target, column) = match target.split_once(':') {
            Some((t, c)) if !c.is_empty() => (t, c),
            Some(_) => return Err(InvalidInput::new(argument, format!("{target:?}: the column after `:` is empty"))),
            None => (target, field),
        };
        let (module, external) = target.split_once('.').ok_or_else(|| {
            InvalidInput::new(
                argument,
                format!("{target:?} must be Module.External_Field[:column], e.g. Accounts.External_Account_ID:account"),
            )
        })?;
        Ok(LookupColumn {
            field: FieldName::parse_as(field, argument)?,
            module: ModuleName::parse_as(module, argument)?,
            external: FieldName::parse_as(external, argument)?,
            column: column.to_owned(),
        })
    }

    /// `FIELD=Module.External_Field[:column]` (the CLI's `--lookup`).
    pub fn parse_flag(text: &str, argument: &str) -> Result<LookupColumn, InvalidInput> {
        let (field, target) = text.split_once('=').ok_or_else(|| {
            InvalidInput::new(
                argument,
                format!("{text:?} must be FIELD=Module.External_Field[:column], e.g. Account_Name=Accounts.External_Account_ID:account"),
            )
        })?;
        LookupColumn::parse(field, target, argument)
    }
}

/// How a row of named cells becomes a record (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMapping {
    key: FieldName,
    key_column: String,
    lookups: Vec<LookupColumn>,
    /// (column, API name).
    renames: Vec<(String, FieldName)>,
    skip: Vec<String>,
}

/// What a column becomes.
enum Role<'a> {
    Skip,
    Lookup(&'a LookupColumn),
    Field(&'a str),
}

impl RecordMapping {
    /// The key field.
    pub fn key(&self) -> &FieldName {
        &self.key
    }

    /// The column holding the key.
    pub fn key_column(&self) -> &str {
        &self.key_column
    }

    /// The lookups filled from columns.
    pub fn lookups(&self) -> &[LookupColumn] {
        &self.lookups
    }

    fn role<'a>(&'a self, column: &'a str) -> Role<'a> {
        if self.skip.iter().any(|c| c == column) {
            Role::Skip
        } else if let Some(l) = self.lookups.iter().find(|l| l.column == column) {
            Role::Lookup(l)
        } else if let Some((_, api)) = self.renames.iter().find(|(c, _)| c == column) {
            Role::Field(api.as_str())
        } else {
            Role::Field(column)
        }
    }

    /// Checks a header before any row is read: the key's and the lookups' columns are there, and every other
    /// column that is not skipped is a field API name (errors name the column).
    pub fn check_columns(&self, header: &[String]) -> Result<(), InvalidInput> {
        let has = |c: &str| header.iter().any(|h| h == c);
        if !has(&self.key_column) {
            return Err(InvalidInput::new(
                "key",
                format!("no column {:?} holds the key {} (map it with a column mapping)", self.key_column, self.key),
            ));
        }
        for l in &self.lookups {
            if !has(&l.column) {
                return Err(InvalidInput::new(
                    "lookups",
                    format!("no column {:?} holds the lookup {}", l.column, l.field),
                ));
            }
        }
        let mut fields: Vec<&str> = Vec::with_capacity(header.len());
        for column in header {
            let field = match self.role(column) {
                Role::Skip => continue,
                Role::Lookup(l) => l.field.as_str(),
                Role::Field(f) => f,
            };
            if !is_api_name(field) {
                return Err(InvalidInput::new(
                    "columns",
                    format!(
                        "column {column:?} is not a Zoho field API name: map it to one (API_NAME=column) or skip it"
                    ),
                ));
            }
            if fields.contains(&field) {
                return Err(InvalidInput::new("columns", format!("two columns give the field {field}")));
            }
            fields.push(field);
        }
        Ok(())
    }

    /// Row `index` as a record (see the module docs); an error names `data[index].column`.
    pub fn record(&self, index: usize, cells: impl IntoIterator<Item = (String, Cell)>) -> Result<Value, InvalidInput> {
        let mut record = Map::new();
        let bad = |column: &str, why: String| InvalidInput::new("data", why).at(index).field(column.to_owned());
        for (column, cell) in cells {
            let (field, value) = match self.role(&column) {
                Role::Skip => continue,
                Role::Lookup(l) => match external_value(cell).map_err(|why| bad(&column, why))? {
                    None => continue,
                    Some(v) => {
                        let mut reference = Map::with_capacity(1);
                        reference.insert(l.external.to_string(), Value::String(v));
                        (l.field.as_str(), Value::Object(reference))
                    }
                },
                Role::Field(f) if f == self.key.as_str() => {
                    match external_value(cell).map_err(|why| bad(&column, why))? {
                        None => continue,
                        Some(v) => (f, Value::String(v)),
                    }
                }
                Role::Field(f) => match cell_value(cell, Nulls::Omit).map_err(|why| bad(&column, why))? {
                    None => continue,
                    Some(v) => (f, v),
                },
            };
            if record.contains_key(field) {
                return Err(bad(&column, format!("gives the field {field}, which another column already gave")));
            }
            record.insert(field.to_owned(), value);
        }
        Ok(Value::Object(record))
    }
}

/// An external value from a cell: a string, or an integer as decimal text; `None` when missing.
fn external_value(cell: Cell) -> Result<Option<String>, String> {
    match cell {
        Cell::Missing | Cell::Json(Value::Null) => Ok(None),
        Cell::Json(Value::String(s)) => Ok(Some(s)),
        Cell::Json(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Cell::Json(Value::Number(n)) if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15) => {
            // A data frame's integer column with a gap holds floats (12.0): the id is the integer.
            Ok(Some(format!("{}", n.as_f64().unwrap_or_default() as i64)))
        }
        other => Err(format!("must be an external value (text or an integer), not {}", describe(&other))),
    }
}

fn describe(cell: &Cell) -> String {
    match cell {
        Cell::Json(v) => super::lookups::json_type(v).to_owned(),
        Cell::DateTime(_) => "a date-time".into(),
        Cell::Date { .. } => "a date".into(),
        Cell::Unsupported(t) => format!("a value of type {t}"),
        Cell::Missing => "a missing value".into(),
    }
}

/// A bulk upsert as plain data, filled from Python keyword arguments, a JS object or CLI flags (see the module
/// docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpsertSettings {
    /// The module, e.g. `Contacts`.
    pub module: String,
    /// The module's external field identifying each record, e.g. `External_Contact_ID`.
    pub key: String,
    /// The fields Zoho checks for an existing record, in order (default: `[key]`; the key is added last if
    /// missing).
    pub duplicate_check_fields: Option<Vec<String>>,
    /// More external fields lookup objects in the rows use, `Module.Field` (rows holding nested lookups).
    pub external_fields: Option<Vec<String>>,
    /// Lookups from columns: `(field, "Module.External_Field[:column]")`.
    pub lookups: Vec<(String, String)>,
    /// Renamed columns: `(API name, column)`.
    pub columns: Vec<(String, String)>,
    /// Columns never sent.
    pub skip: Vec<String>,
}

impl UpsertSettings {
    /// The job's spec and the row mapping, every name checked.
    pub fn build(&self) -> Result<(UpsertSpec, RecordMapping), InvalidInput> {
        let module = ModuleName::parse_as(self.module.as_str(), "module")?;
        let key = FieldName::parse_as(self.key.as_str(), "key")?;
        if key.as_str() == "id" {
            return Err(InvalidInput::new("key", "must be an external field of the module, not `id`"));
        }
        let mut externals = ExternalFields::parse(self.external_fields.as_deref().unwrap_or_default())?.with(
            module.as_str(),
            key.as_str(),
            "key",
        )?;
        let lookups = self
            .lookups
            .iter()
            .enumerate()
            .map(|(i, (field, target))| LookupColumn::parse(field, target, &format!("lookups[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, l) in lookups.iter().enumerate() {
            externals = externals.with(l.module.as_str(), l.external.as_str(), &format!("lookups[{i}]"))?;
            if lookups[..i].iter().any(|o| o.field == l.field || o.column == l.column) {
                return Err(InvalidInput::new(
                    format!("lookups[{i}]"),
                    format!("{} or its column is given twice", l.field),
                ));
            }
        }
        let renames = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (api, column))| {
                Ok((column.clone(), FieldName::parse_as(api.as_str(), &format!("columns[{i}]"))?))
            })
            .collect::<Result<Vec<(String, FieldName)>, InvalidInput>>()?;
        if let Some((i, (column, _))) =
            renames.iter().enumerate().find(|(i, (c, _))| renames[..*i].iter().any(|(o, _)| o == c))
        {
            return Err(InvalidInput::new(format!("columns[{i}]"), format!("column {column:?} is mapped twice")));
        }
        let key_column =
            renames.iter().find(|(_, api)| *api == key).map_or_else(|| key.to_string(), |(c, _)| c.clone());
        let mut checks: Vec<String> = self.duplicate_check_fields.clone().unwrap_or_default();
        if !checks.iter().any(|f| f == key.as_str()) {
            checks.push(key.to_string());
        }
        let spec = UpsertSpec::new(module, checks, externals)?;
        let mapping = RecordMapping { key, key_column, lookups, renames, skip: self.skip.clone() };
        Ok((spec, mapping))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings() -> UpsertSettings {
        UpsertSettings {
            module: "Contacts".into(),
            key: "External_Contact_ID".into(),
            lookups: vec![("Account_Name".into(), "Accounts.External_Account_ID:account".into())],
            columns: vec![("External_Contact_ID".into(), "ext"), ("Last_Name".into(), "last")]
                .into_iter()
                .map(|(a, c): (String, &str)| (a, c.to_owned()))
                .collect(),
            skip: vec!["note".into()],
            ..UpsertSettings::default()
        }
    }

    fn cells(pairs: &[(&str, Cell)]) -> Vec<(String, Cell)> {
        pairs.iter().map(|(c, v)| ((*c).to_owned(), v.clone())).collect()
    }

    #[test]
    fn columns_become_fields_lookups_and_nothing() {
        let (spec, m) = settings().build().unwrap();
        assert_eq!(m.key_column(), "ext");
        assert_eq!(
            spec.duplicate_check_fields().iter().map(FieldName::as_str).collect::<Vec<_>>(),
            ["External_Contact_ID"]
        );
        assert!(spec.externals().is_external("External_Account_ID"));
        let r = m
            .record(
                3,
                cells(&[
                    ("ext", Cell::Json(json!(42))),
                    ("last", Cell::Json(json!("Boyle"))),
                    ("account", Cell::Json(json!(7.0))),
                    ("note", Cell::Json(json!("for humans"))),
                    ("Phone", Cell::Missing),
                    ("Email", Cell::Json(Value::Null)),
                ]),
            )
            .unwrap();
        assert_eq!(
            r,
            json!({"External_Contact_ID": "42", "Last_Name": "Boyle", "Account_Name": {"External_Account_ID": "7"}})
        );
        let e = m.record(3, cells(&[("account", Cell::Json(json!(true)))])).unwrap_err();
        assert_eq!(e.location(), "data[3].account");
        let e =
            m.record(1, cells(&[("last", Cell::Json(json!("a"))), ("Last_Name", Cell::Json(json!("b")))])).unwrap_err();
        assert_eq!(e.location(), "data[1].Last_Name");
    }

    #[test]
    fn headers_and_settings_are_checked_by_name() {
        let (_, m) = settings().build().unwrap();
        let h = |cols: &[&str]| cols.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        assert!(m.check_columns(&h(&["ext", "last", "account", "note", "Phone"])).is_ok());
        assert_eq!(m.check_columns(&h(&["last", "account"])).unwrap_err().argument, "key");
        assert_eq!(m.check_columns(&h(&["ext"])).unwrap_err().argument, "lookups");
        let e = m.check_columns(&h(&["ext", "account", "first name"])).unwrap_err();
        assert!(e.message.contains("first name"), "{e}");
        let bad = |s: UpsertSettings| s.build().unwrap_err().argument;
        assert_eq!(bad(UpsertSettings { key: "id".into(), ..settings() }), "key");
        assert_eq!(bad(UpsertSettings { lookups: vec![("A".into(), "Accounts".into())], ..settings() }), "lookups[0]");
        assert_eq!(
            bad(UpsertSettings { columns: vec![("A".into(), "x".into()), ("B".into(), "x".into())], ..settings() }),
            "columns[1]"
        );
        // Explicit duplicate-check fields keep their order, the key checked last.
        let (spec, _) =
            UpsertSettings { duplicate_check_fields: Some(vec!["Email".into()]), ..settings() }.build().unwrap();
        assert_eq!(
            spec.duplicate_check_fields().iter().map(FieldName::as_str).collect::<Vec<_>>(),
            ["Email", "External_Contact_ID"]
        );
        assert!(LookupColumn::parse_flag("Account_Name", "--lookup").is_err());
        assert_eq!(LookupColumn::parse_flag("What_Id=Deals.External_Deal_ID", "--lookup").unwrap().column, "What_Id");
    }
}
