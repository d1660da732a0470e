//! Tabular rows (CSV records, Python dicts, JS objects) -> [`BulkRow`]s: which column holds the parent, which
//! the related key, which hold relation fields. The CLI, the Python and the Node packages all use this.
//!
//! A mapping is written like the `X-EXTERNAL` pairs: `--parent Contacts.External_Contact_ID` means the base
//! module is Contacts and the parent is addressed by `External_Contact_ID`; `--related Deals.External_Deal_ID`
//! means related records of Deals keyed by `External_Deal_ID`. The field `id` means a Zoho record id. Columns
//! default to the field names. Relation fields are only those named ([`RowMapping::with_fields`]): a data
//! frame's other columns (a `region` kept for humans) are ignored, or, with [`Extra::Error`], make the row
//! `INVALID_INPUT` naming the column (so a misspelt field is caught before anything is sent).
//!
//! Cell values: strings are used as they are; integers become their decimal text (data frames hold ids as
//! integers; they are exact up to 2^63). Any other type in the parent or key column is an `INVALID_INPUT` for
//! that row naming the column. A relation field whose cell is empty or null is left out of the record (an empty
//! CSV cell means "no value", not "set to empty").

use serde_json::{Map, Value};

use super::{BulkRow, BulkSpec};
use crate::error::InvalidInput;
use crate::names::{FieldName, ModuleName};
use crate::related::Parent;

/// `Module.Field` from text.
fn module_field(text: &str, argument: &str) -> Result<(ModuleName, FieldName), InvalidInput> {
    let (m, f) = text.split_once('.').ok_or_else(|| {
        InvalidInput::new(argument, format!("{text:?} must be Module.Field, e.g. Contacts.External_Contact_ID"))
    })?;
    Ok((ModuleName::parse_as(m, argument)?, FieldName::parse_as(f, argument)?))
}

/// What to do with a row's columns that are neither the parent, the key, nor a named relation field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Extra {
    /// Leave them out (default).
    #[default]
    Ignore,
    /// The row is `INVALID_INPUT`, naming the first such column.
    Error,
}

impl std::str::FromStr for Extra {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Extra, InvalidInput> {
        match s {
            "ignore" => Ok(Extra::Ignore),
            "error" => Ok(Extra::Error),
            _ => Err(InvalidInput::new("extra", format!("{s:?}: expected \"ignore\" or \"error\""))),
        }
    }
}

/// How to read a [`BulkRow`] out of a row of named cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowMapping {
    parent_field: Option<FieldName>,
    parent_column: String,
    key_field: String,
    key_column: String,
    fields: Vec<(FieldName, String)>,
    extra: Extra,
}

impl RowMapping {
    /// The job and mapping for `parent` (`Module.Field`) and `related` (`Module.Field`), through
    /// `related_list` (default: the related module's name).
    ///
    /// ```
    /// use serde_json::json;
    /// use zcrm_extid::bulk::RowMapping;
    /// let (spec, mapping) = RowMapping::parse("Contacts.External_Contact_ID", "Deals.External_Deal_ID", None)?;
    /// let mapping = mapping.with_fields(vec![("Contact_Role".into(), "role".into())])?;
    /// let row = json!({"External_Contact_ID": "c1", "External_Deal_ID": "d1", "role": "r", "note": "x"});
    /// let bulk_row = mapping.map_row(0, &|c| row.get(c).cloned(), &mut row.as_object().unwrap().keys().map(|k| k.as_str()))?;
    /// assert_eq!(bulk_row.record, json!({"External_Deal_ID": "d1", "Contact_Role": "r"}));
    /// assert_eq!(spec.related_list().as_str(), "Deals");
    /// # Ok::<(), zcrm_extid::Error>(())
    /// ```
    pub fn parse(
        parent: &str,
        related: &str,
        related_list: Option<&str>,
    ) -> Result<(BulkSpec, RowMapping), InvalidInput> {
        let (module, parent_field) = module_field(parent, "parent")?;
        let (related_module, key_field) = module_field(related, "related")?;
        let mut spec = BulkSpec::builder(module.as_str(), related_list.unwrap_or(related_module.as_str()))
            .related_module(related_module.as_str());
        if key_field.as_str() != "id" {
            spec = spec.related_by_external(key_field.as_str());
        }
        let spec = spec.build()?;
        let mapping = RowMapping {
            parent_column: parent_field.to_string(),
            parent_field: (parent_field.as_str() != "id").then_some(parent_field),
            key_field: key_field.to_string(),
            key_column: key_field.to_string(),
            fields: Vec::new(),
            extra: Extra::Ignore,
        };
        Ok((spec, mapping))
    }

    /// Checks the mapping as a whole once its columns are set: the parent and the related key must come from
    /// different columns (`Contacts.id` with `Deals.id` needs `with_parent_column` or `with_related_column`).
    /// [`Self::check_columns`] calls it; call it yourself when rows have no header to check.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        if self.parent_column == self.key_column {
            return Err(InvalidInput::new(
                "parent_column",
                format!(
                    "the parent and the related key would both be read from column {:?}; name the columns",
                    self.key_column
                ),
            ));
        }
        Ok(())
    }

    /// Reads the parent from `column`.
    pub fn with_parent_column(mut self, column: impl Into<String>) -> Self {
        self.parent_column = column.into();
        self
    }

    /// Reads the related key from `column`.
    pub fn with_related_column(mut self, column: impl Into<String>) -> Self {
        self.key_column = column.into();
        self
    }

    /// Relation fields from named columns: `(API name, column)`. Without this, rows carry no relation fields.
    pub fn with_fields(mut self, fields: Vec<(String, String)>) -> Result<Self, InvalidInput> {
        self.fields = fields
            .into_iter()
            .map(|(api, column)| Ok((FieldName::parse_as(api, "fields")?, column)))
            .collect::<Result<Vec<_>, InvalidInput>>()?;
        Ok(self)
    }

    /// What to do with other columns (default [`Extra::Ignore`]).
    pub fn with_extra(mut self, extra: Extra) -> Self {
        self.extra = extra;
        self
    }

    /// The parent's external field (`None`: parents are record ids).
    pub fn parent_field(&self) -> Option<&FieldName> {
        self.parent_field.as_ref()
    }

    /// The relation fields' API names, in the order given.
    pub fn field_names(&self) -> impl Iterator<Item = &FieldName> {
        self.fields.iter().map(|(api, _)| api)
    }

    /// The columns a row must have.
    pub fn required_columns(&self) -> Vec<&str> {
        let mut c = vec![self.parent_column.as_str(), self.key_column.as_str()];
        c.extend(self.fields.iter().map(|(_, col)| col.as_str()));
        c
    }

    /// Checks a table's header before any row is read: every required column must be present.
    pub fn check_columns<S: AsRef<str>>(&self, header: &[S]) -> Result<(), InvalidInput> {
        self.validate()?;
        let missing: Vec<&str> =
            self.required_columns().into_iter().filter(|c| !header.iter().any(|h| h.as_ref() == *c)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let have: Vec<&str> = header.iter().map(AsRef::as_ref).collect();
        Err(InvalidInput::new("columns", format!("missing column(s) {missing:?}; the input has {have:?}")))
    }

    /// Reads row `row`: `get(column)` returns a cell, `columns` lists the row's columns (read only with
    /// [`Extra::Error`], to find columns that are not mapped).
    pub fn map_row(
        &self,
        row: usize,
        get: &dyn Fn(&str) -> Option<Value>,
        columns: &mut dyn Iterator<Item = &str>,
    ) -> Result<BulkRow, InvalidInput> {
        let text = |column: &str| -> Result<String, InvalidInput> {
            let bad = |why: &str| InvalidInput::new("row", format!("column {column:?} {why}")).at(row).field(column);
            match get(column) {
                None | Some(Value::Null) => Err(bad("is missing")),
                Some(Value::String(s)) if s.is_empty() => Err(bad("is empty")),
                Some(Value::String(s)) => Ok(s),
                Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
                Some(other) => Err(bad(&format!("must be text or an integer, not {other}"))),
            }
        };
        let parent_value = text(&self.parent_column)?;
        let parent = match &self.parent_field {
            Some(f) => Parent::external(f.as_str(), parent_value),
            None => Parent::id(parent_value),
        }
        .map_err(|e| InvalidInput::new("row", e.message).at(row).field(self.parent_column.clone()))?;
        let mut record = Map::new();
        record.insert(self.key_field.clone(), Value::String(text(&self.key_column)?));
        for (api, column) in &self.fields {
            let v = get(column).unwrap_or(Value::Null);
            if !matches!(&v, Value::Null) && v != Value::String(String::new()) {
                record.insert(api.to_string(), v);
            }
        }
        if self.extra == Extra::Error {
            let mapped = |c: &str| {
                c == self.parent_column || c == self.key_column || self.fields.iter().any(|(_, col)| col == c)
            };
            let mut unmapped = None;
            for c in columns {
                if !mapped(c) {
                    unmapped = Some(c);
                    break;
                }
            }
            if let Some(extra) = unmapped {
                return Err(InvalidInput::new(
                    "row",
                    format!("column {extra:?} is not mapped to a field (name it in `fields`, or let extra columns be ignored)"),
                )
                .at(row)
                .field(extra));
            }
        }
        Ok(BulkRow { parent, record: Value::Object(record) })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(m: &RowMapping, row: Value) -> Result<BulkRow, InvalidInput> {
        let obj = row.as_object().unwrap().clone();
        m.map_row(7, &|c| obj.get(c).cloned(), &mut obj.keys().map(String::as_str))
    }

    #[test]
    fn ids_integers_and_empty_cells() {
        let (spec, m) = RowMapping::parse("Contacts.id", "Deals.External_Deal_ID", None).unwrap();
        assert_eq!(spec.key().field(), "External_Deal_ID");
        let m = m.with_fields(vec![("Contact_Role".into(), "Contact_Role".into())]).unwrap();
        let r = map(&m, json!({"id": 111111000000085009u64, "External_Deal_ID": "d", "Contact_Role": "", "X": null}))
            .unwrap();
        assert_eq!(r.parent, Parent::id("111111000000085009").unwrap());
        assert_eq!(r.record, json!({"External_Deal_ID": "d"}));
        let r = map(&m, json!({"id": "1", "External_Deal_ID": "d", "Contact_Role": "r", "region": "EU"})).unwrap();
        assert_eq!(r.record, json!({"External_Deal_ID": "d", "Contact_Role": "r"}), "unnamed columns are left out");
        let strict = m.with_extra(Extra::Error);
        let e = map(&strict, json!({"id": "1", "External_Deal_ID": "d", "region": "EU"})).unwrap_err();
        assert_eq!(e.location(), "row[7].region");
    }

    #[test]
    fn bad_cells_name_row_and_column() {
        let (_, m) = RowMapping::parse("Contacts.External_Contact_ID", "Deals.id", None).unwrap();
        let e = map(&m, json!({"External_Contact_ID": "c"})).unwrap_err();
        assert_eq!(e.location(), "row[7].id");
        let e = map(&m, json!({"External_Contact_ID": 1.5, "id": "1"})).unwrap_err();
        assert_eq!(e.location(), "row[7].External_Contact_ID");
        let (_, by_id) = RowMapping::parse("Contacts.id", "Deals.External_Deal_ID", None).unwrap();
        let by_id = by_id.with_parent_column("contact");
        assert!(
            map(&by_id, json!({"contact": "abc", "External_Deal_ID": "d"})).unwrap_err().message.contains("digits")
        );
    }

    #[test]
    fn header_check_and_same_column() {
        let (_, m) = RowMapping::parse("Contacts.External_Contact_ID", "Deals.External_Deal_ID", None).unwrap();
        let m = m.with_fields(vec![("Contact_Role".into(), "role".into())]).unwrap();
        let e = m.check_columns(&["External_Contact_ID", "External_Deal_ID"]).unwrap_err();
        assert!(e.message.contains("role"), "{e}");
        let (_, both_ids) = RowMapping::parse("Contacts.id", "Deals.id", None).unwrap();
        assert_eq!(both_ids.validate().unwrap_err().argument, "parent_column");
        assert!(both_ids.with_parent_column("contact_id").validate().is_ok());
        assert!(RowMapping::parse("Contacts", "Deals.id", None).is_err());
    }
}
