//! The org's records as the records API changes them (a child of [`crate::state`], so it keeps the external
//! index in step): update, delete (with the record's relations), lookups by any field, the module's records in
//! id order, and the audit fields (`Created_Time`, `Modified_Time`, `Created_By`, `Modified_By`).
//!
//! Times are written as Zoho writes them, `yyyy-MM-ddTHH:mm:ss+00:00` (the emulated org's time zone is UTC).
//! Records the API creates carry all four audit fields; a record from a seed carries what its seed gave, and an
//! update sets `Modified_Time` and `Modified_By`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::{Module, Org};

/// The emulated user (the same as `users?type=CurrentUser`).
pub const USER_ID: &str = "111111000000000011";
/// Its name.
pub const USER_NAME: &str = "Emulator User";

/// `{"name": ..., "id": ...}` of the emulated user.
pub fn user() -> Value {
    json!({"name": USER_NAME, "id": USER_ID})
}

/// Now, as Zoho writes date-times (UTC).
pub fn now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    format_time(secs)
}

/// Seconds since the Unix epoch as `yyyy-MM-ddTHH:mm:ss+00:00`.
pub fn format_time(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// A clash of an external value with another record: the field and that record's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    /// The external field.
    pub field: String,
    /// The record already holding the value.
    pub id: String,
}

impl Module {
    /// The records, in id order.
    pub fn records(&self) -> impl Iterator<Item = (&String, &Map<String, Value>)> {
        self.records.iter()
    }

    /// How many records.
    pub fn record_count(&self) -> usize {
        self.records.len()
    }
}

impl Org {
    /// Records per module, and the number of relations.
    pub fn counts(&self) -> (std::collections::BTreeMap<&str, usize>, usize) {
        (self.modules.iter().map(|(n, m)| (n.as_str(), m.records.len())).collect(), self.relations.len())
    }

    /// `module`'s records as rows `[id, fields...]` in id order (`null` where a record lacks a field); `None`
    /// for an unknown module.
    pub fn table(&self, module: &str, fields: &[&str]) -> Option<Vec<Value>> {
        let m = self.modules.get(module)?;
        Some(
            m.records
                .iter()
                .map(|(id, r)| {
                    let mut row = Vec::with_capacity(fields.len() + 1);
                    row.push(Value::String(id.clone()));
                    row.extend(fields.iter().map(|f| r.get(*f).cloned().unwrap_or(Value::Null)));
                    Value::Array(row)
                })
                .collect(),
        )
    }

    /// The first external value of `fields` already held by a record of `module` other than `except`.
    pub fn clash(&self, module: &str, fields: &Map<String, Value>, except: Option<&str>) -> Option<Clash> {
        let m = self.modules.get(module)?;
        m.external_fields.iter().find_map(|f| {
            let v = fields.get(f)?.as_str()?;
            let id = m.external_index.get(f)?.get(v)?;
            (Some(id.as_str()) != except).then(|| Clash { field: f.clone(), id: id.clone() })
        })
    }

    /// The first record of `module` whose `field` equals `value` (external fields by their index).
    pub fn find_by_field(&self, module: &str, field: &str, value: &Value) -> Option<String> {
        let m = self.modules.get(module)?;
        if let (Some(index), Some(v)) = (m.external_index.get(field), value.as_str()) {
            return index.get(v).cloned();
        }
        m.records.iter().find(|(_, r)| r.get(field) == Some(value)).map(|(id, _)| id.clone())
    }

    /// Creates a record with the audit fields (external values must not clash: see [`Org::clash`]).
    pub fn create_record(&mut self, module: &str, mut fields: Map<String, Value>) -> Result<String, String> {
        fields.remove("id");
        let t = now();
        let mut record = Map::new();
        record.extend(fields);
        record.insert("Created_Time".into(), Value::String(t.clone()));
        record.insert("Modified_Time".into(), Value::String(t));
        record.insert("Created_By".into(), user());
        record.insert("Modified_By".into(), user());
        self.insert_record(module, record)
    }

    /// Sets `fields` on record `id` of `module` (a `null` clears the field) and the modification audit fields.
    /// External values must not clash (see [`Org::clash`]); values of external fields are strings or null.
    pub fn update_record(&mut self, module: &str, id: &str, fields: Map<String, Value>) -> Result<(), String> {
        let m = self.modules.get_mut(module).ok_or_else(|| format!("unknown module {module}"))?;
        let record = m.records.get_mut(id).ok_or_else(|| format!("{module}: no record {id}"))?;
        for (k, v) in fields {
            if k == "id" {
                continue;
            }
            if let Some(index) = m.external_index.get_mut(&k) {
                if let Some(Value::String(old)) = record.get(&k) {
                    index.remove(old);
                }
                if let Value::String(new) = &v {
                    index.insert(new.clone(), id.to_owned());
                }
            }
            if v.is_null() {
                record.remove(&k);
            } else {
                record.insert(k, v);
            }
        }
        record.insert("Modified_Time".into(), Value::String(now()));
        record.insert("Modified_By".into(), user());
        Ok(())
    }

    /// Deletes record `id` of `module` and its relations; false if there was none.
    pub fn delete_record(&mut self, module: &str, id: &str) -> bool {
        let Some(m) = self.modules.get_mut(module) else { return false };
        let Some(record) = m.records.remove(id) else { return false };
        for (f, index) in m.external_index.iter_mut() {
            if let Some(Value::String(v)) = record.get(f) {
                index.remove(v);
            }
        }
        let end = (module.to_owned(), id.to_owned());
        for key in self.by_record.remove(&end).unwrap_or_default() {
            self.relations.remove(&key);
            let other = if key.0 == end { &key.1 } else { &key.0 };
            if let Some(set) = self.by_record.get_mut(other) {
                set.remove(&key);
            }
        }
        true
    }

    /// The name Zoho shows for a record in a lookup: its first name-like text field.
    pub fn display_name(&self, module: &str, id: &str) -> Option<String> {
        let r = self.record(module, id)?;
        ["Account_Name", "Deal_Name", "Full_Name", "Last_Name", "Product_Name", "Price_Book_Name", "Name", "Subject"]
            .iter()
            .find_map(|f| r.get(*f).and_then(Value::as_str).map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    #[test]
    fn dates_from_the_epoch() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(format_time(951_782_400), "2000-02-29T00:00:00+00:00");
        assert_eq!(format_time(1_714_559_853), "2024-05-01T10:37:33+00:00");
    }

    #[test]
    fn update_keeps_the_index_and_delete_removes_relations() {
        let mut org = Org::from_seed(&Seed::default_seed()).unwrap();
        let mut f = Map::new();
        f.insert("External_Deal_ID".into(), "renamed".into());
        org.update_record("Deals", "111111000000094028", f).unwrap();
        assert_eq!(org.find_external("Deals", "External_Deal_ID", "extdeal3"), None);
        assert_eq!(org.find_external("Deals", "External_Deal_ID", "renamed"), Some("111111000000094028"));
        let cd = org.related_list("Contacts", "Deals").unwrap().clone();
        org.relate(&cd, "111111000000085009", "111111000000094028", Map::new());
        assert!(org.delete_record("Deals", "111111000000094028"));
        assert_eq!(org.relation_count(), 0);
        assert!(org.related_of("Contacts", "111111000000085009", "Deals").is_empty());
        assert_eq!(org.find_external("Deals", "External_Deal_ID", "renamed"), None);
        assert!(!org.delete_record("Deals", "111111000000094028"));
    }

    #[test]
    fn clashes_name_the_other_record() {
        let org = Org::from_seed(&Seed::default_seed()).unwrap();
        let mut f = Map::new();
        f.insert("External_Deal_ID".into(), "extdeal2".into());
        assert_eq!(
            org.clash("Deals", &f, None),
            Some(Clash { field: "External_Deal_ID".into(), id: "111111000000094040".into() })
        );
        assert_eq!(org.clash("Deals", &f, Some("111111000000094040")), None);
    }
}
