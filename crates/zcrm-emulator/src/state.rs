//! The emulated org: modules, records, org-unique external fields, related lists, relations.
//!
//! Relations are symmetric: linking Deal D to Contact C through `Contacts/C/Deals` is the same relation as
//! `Deals/D/Contacts`, and relinking it only replaces its relation fields (PUT is idempotent).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use crate::seed::{Seed, SeedModule};
use crate::wire::is_api_name;

#[path = "state_records.rs"]
pub mod records;

fn api_name(s: &str) -> Result<(), String> {
    if is_api_name(s) { Ok(()) } else { Err(format!("{s:?} is not a Zoho API name")) }
}

/// A module's definition and records.
#[derive(Debug, Clone)]
pub struct Module {
    /// External field API names.
    pub external_fields: Vec<String>,
    /// Whether the API supports it.
    pub api_supported: bool,
    /// Whether the user may edit it.
    pub editable: bool,
    /// The first API version that has it.
    pub since_version: Option<String>,
    /// Lookup fields (paths such as `Account_Name`, `Participants.participant`) -> the modules they refer to.
    pub lookups: BTreeMap<String, Vec<String>>,
    /// System-defined duplicate-check fields (an upsert checks them first).
    pub duplicate_check_fields: Vec<String>,
    records: BTreeMap<String, Map<String, Value>>,
    /// field -> value -> record id.
    external_index: HashMap<String, HashMap<String, String>>,
}

/// A related list that accepts PUT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedListDef {
    /// Base module.
    pub module: String,
    /// API name.
    pub api_name: String,
    /// Related module.
    pub related_module: String,
    /// Relation fields.
    pub relation_fields: Vec<String>,
}

type End = (String, String);
type RelKey = (End, End);

fn rel_key(a: End, b: End) -> RelKey {
    if a <= b { (a, b) } else { (b, a) }
}

/// The org's data.
#[derive(Debug, Clone)]
pub struct Org {
    modules: BTreeMap<String, Module>,
    related_lists: BTreeMap<(String, String), RelatedListDef>,
    relations: HashMap<RelKey, Map<String, Value>>,
    /// When each relation was last linked or relinked (Unix seconds), for `If-Modified-Since`.
    modified: HashMap<RelKey, i64>,
    by_record: HashMap<End, BTreeSet<RelKey>>,
    next_id: u64,
}

impl Org {
    /// Builds the org from `seed`, checking that it is consistent.
    pub fn from_seed(seed: &Seed) -> Result<Org, String> {
        let mut org = Org {
            modules: BTreeMap::new(),
            related_lists: BTreeMap::new(),
            relations: HashMap::new(),
            modified: HashMap::new(),
            by_record: HashMap::new(),
            next_id: 111_111_000_000_100_000,
        };
        for (name, m) in &seed.modules {
            org.add_module(name, m)?;
        }
        for (name, m) in &seed.modules {
            for (path, targets) in &m.lookups {
                if path.split('.').any(|p| !is_api_name(p)) || targets.is_empty() {
                    return Err(format!("module {name}: lookup {path:?} needs an API-name path and target modules"));
                }
                if let Some(t) = targets.iter().find(|t| !org.modules.contains_key(t.as_str())) {
                    return Err(format!("module {name}: lookup {path} refers to unknown module {t}"));
                }
            }
        }
        for rl in &seed.related_lists {
            let related_module = rl.related_module.clone().unwrap_or_else(|| rl.api_name.clone());
            for m in [&rl.module, &related_module] {
                if !org.modules.contains_key(m.as_str()) {
                    return Err(format!("related list {}.{}: unknown module {m}", rl.module, rl.api_name));
                }
            }
            api_name(&rl.api_name)?;
            for f in &rl.relation_fields {
                api_name(f).map_err(|e| format!("related list {}.{}: {e}", rl.module, rl.api_name))?;
            }
            org.related_lists.insert(
                (rl.module.clone(), rl.api_name.clone()),
                RelatedListDef {
                    module: rl.module.clone(),
                    api_name: rl.api_name.clone(),
                    related_module,
                    relation_fields: rl.relation_fields.clone(),
                },
            );
        }
        for r in &seed.relations {
            let list = org
                .related_list(&r.module, &r.related_list)
                .ok_or_else(|| format!("relation: unknown related list {}.{}", r.module, r.related_list))?
                .clone();
            if !org.has_record(&r.module, &r.record) || !org.has_record(&list.related_module, &r.related) {
                return Err(format!("relation {}/{} -> {}: unknown record", r.module, r.record, r.related));
            }
            org.relate(&list, &r.record, &r.related, r.fields.clone());
            if let Some(text) = &r.modified_time {
                let at = crate::wire::parse_datetime(text).ok_or_else(|| {
                    format!(
                        "relation {}/{} -> {}: modified_time {text:?} is not an ISO 8601 date-time with a zone",
                        r.module, r.record, r.related
                    )
                })?;
                org.modified.insert(
                    rel_key((list.module.clone(), r.record.clone()), (list.related_module.clone(), r.related.clone())),
                    at,
                );
            }
        }
        Ok(org)
    }

    fn add_module(&mut self, name: &str, m: &SeedModule) -> Result<(), String> {
        api_name(name)?;
        for f in &m.external_fields {
            api_name(f).map_err(|e| format!("module {name}: {e}"))?;
        }
        self.modules.insert(
            name.to_owned(),
            Module {
                external_fields: m.external_fields.clone(),
                api_supported: m.api_supported,
                editable: m.editable,
                since_version: m.since_version.clone(),
                lookups: m.lookups.clone(),
                duplicate_check_fields: m.duplicate_check_fields.clone(),
                records: BTreeMap::new(),
                external_index: m.external_fields.iter().map(|f| (f.clone(), HashMap::new())).collect(),
            },
        );
        for r in &m.records {
            self.insert_record(name, r.clone())?;
        }
        Ok(())
    }

    /// A module.
    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules.get(name)
    }

    /// Module names.
    pub fn module_names(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(String::as_str)
    }

    /// A related list of `module`.
    pub fn related_list(&self, module: &str, api_name: &str) -> Option<&RelatedListDef> {
        self.related_lists.get(&(module.to_owned(), api_name.to_owned()))
    }

    /// The related lists of `module`.
    pub fn related_lists_of<'a>(&'a self, module: &'a str) -> impl Iterator<Item = &'a RelatedListDef> + 'a {
        self.related_lists.values().filter(move |r| r.module == module)
    }

    /// Adds a record (generating an id if it has none); external values must be unique per field.
    pub fn insert_record(&mut self, module: &str, mut fields: Map<String, Value>) -> Result<String, String> {
        let id = match fields.get("id") {
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.clone(),
            Some(other) => return Err(format!("{module}: record id {other} is not a string of digits")),
            None => {
                self.next_id += 1;
                self.next_id.to_string()
            }
        };
        let m = self.modules.get_mut(module).ok_or_else(|| format!("unknown module {module}"))?;
        if m.records.contains_key(&id) {
            return Err(format!("{module}: duplicate record id {id}"));
        }
        for f in &m.external_fields {
            if let Some(v) = fields.get(f) {
                let v = v.as_str().ok_or_else(|| format!("{module}.{f}: external values are strings"))?;
                if m.external_index[f].contains_key(v) {
                    return Err(format!(
                        "{module}.{f}: duplicate external value {v:?} (external fields are org-unique)"
                    ));
                }
            }
        }
        for f in &m.external_fields {
            if let Some(Value::String(v)) = fields.get(f) {
                m.external_index.get_mut(f).expect("indexed").insert(v.clone(), id.clone());
            }
        }
        fields.insert("id".into(), Value::String(id.clone()));
        m.records.insert(id.clone(), fields);
        Ok(id)
    }

    /// Whether `module` has record `id`.
    pub fn has_record(&self, module: &str, id: &str) -> bool {
        self.modules.get(module).is_some_and(|m| m.records.contains_key(id))
    }

    /// The record of `module` whose external field `field` is `value`.
    pub fn find_external(&self, module: &str, field: &str, value: &str) -> Option<&str> {
        self.modules.get(module)?.external_index.get(field)?.get(value).map(String::as_str)
    }

    /// A record's fields.
    pub fn record(&self, module: &str, id: &str) -> Option<&Map<String, Value>> {
        self.modules.get(module)?.records.get(id)
    }

    /// Links `record` of `list.module` with `related` of `list.related_module`. If they were already linked,
    /// the given relation fields overwrite those of the same name and the others are kept (an update, as the
    /// API's name says). Returns true if the relation is new.
    pub fn relate(&mut self, list: &RelatedListDef, record: &str, related: &str, fields: Map<String, Value>) -> bool {
        let a = (list.module.clone(), record.to_owned());
        let b = (list.related_module.clone(), related.to_owned());
        let key = rel_key(a.clone(), b.clone());
        let existing = self.relations.entry(key.clone());
        let new = matches!(existing, std::collections::hash_map::Entry::Vacant(_));
        existing.or_default().extend(fields);
        self.modified.insert(key.clone(), crate::clock::now());
        if new {
            self.by_record.entry(a).or_default().insert(key.clone());
            self.by_record.entry(b).or_default().insert(key);
        }
        new
    }

    /// Removes the relation of `record` (of `list.module`) and `related`; false if there was none.
    pub fn unrelate(&mut self, list: &RelatedListDef, record: &str, related: &str) -> bool {
        let a = (list.module.clone(), record.to_owned());
        let b = (list.related_module.clone(), related.to_owned());
        let key = rel_key(a.clone(), b.clone());
        if self.relations.remove(&key).is_none() {
            return false;
        }
        self.modified.remove(&key);
        for end in [a, b] {
            if let Some(set) = self.by_record.get_mut(&end) {
                set.remove(&key);
            }
        }
        true
    }

    /// The records of `related_module` linked to `record` of `module`, with the relation fields.
    pub fn related_of(&self, module: &str, record: &str, related_module: &str) -> Vec<(String, Map<String, Value>)> {
        let me = (module.to_owned(), record.to_owned());
        let Some(keys) = self.by_record.get(&me) else { return Vec::new() };
        keys.iter()
            .filter_map(|k| {
                let other = if k.0 == me { &k.1 } else { &k.0 };
                (other.0 == related_module).then(|| (other.1.clone(), self.relations[k].clone()))
            })
            .collect()
    }

    /// Like [`Org::related_of`], with each relation's last-modified time (Unix seconds).
    pub fn related_with_times(
        &self,
        module: &str,
        record: &str,
        related_module: &str,
    ) -> Vec<(String, Map<String, Value>, i64)> {
        let me = (module.to_owned(), record.to_owned());
        let Some(keys) = self.by_record.get(&me) else { return Vec::new() };
        keys.iter()
            .filter_map(|k| {
                let other = if k.0 == me { &k.1 } else { &k.0 };
                (other.0 == related_module)
                    .then(|| (other.1.clone(), self.relations[k].clone(), self.modified.get(k).copied().unwrap_or(0)))
            })
            .collect()
    }

    /// How many relations exist.
    pub fn relation_count(&self) -> usize {
        self.relations.len()
    }

    /// The whole org as JSON: modules with records, related lists, relations (sorted, so dumps compare).
    pub fn dump(&self) -> Value {
        let modules: Map<String, Value> = self
            .modules
            .iter()
            .map(|(name, m)| {
                let records: Vec<Value> = m.records.values().map(|r| Value::Object(r.clone())).collect();
                (name.clone(), json!({"external_fields": m.external_fields, "records": records}))
            })
            .collect();
        let mut relations: Vec<(&RelKey, &Map<String, Value>)> = self.relations.iter().collect();
        relations.sort_by(|a, b| a.0.cmp(b.0));
        let relations: Vec<Value> = relations
            .into_iter()
            .map(|(((ma, ia), (mb, ib)), f)| json!({"a": {"module": ma, "id": ia}, "b": {"module": mb, "id": ib}, "fields": f}))
            .collect();
        let lists: Vec<Value> = self
            .related_lists
            .values()
            .map(|r| json!({"module": r.module, "api_name": r.api_name, "related_module": r.related_module, "relation_fields": r.relation_fields}))
            .collect();
        json!({"modules": modules, "related_lists": lists, "relations": relations})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_are_symmetric_and_idempotent() {
        let mut org = Org::from_seed(&Seed::default_seed()).unwrap();
        let cd = org.related_list("Contacts", "Deals").unwrap().clone();
        assert!(org.relate(&cd, "111111000000085009", "111111000000094028", Map::new()));
        let mut f = Map::new();
        f.insert("Contact_Role".into(), "r".into());
        assert!(!org.relate(&cd, "111111000000085009", "111111000000094028", f.clone()));
        // A relink without the field keeps it.
        assert!(!org.relate(&cd, "111111000000085009", "111111000000094028", Map::new()));
        assert_eq!(org.relation_count(), 1);
        assert_eq!(
            org.related_of("Deals", "111111000000094028", "Contacts"),
            vec![("111111000000085009".to_owned(), f)]
        );
    }

    #[test]
    fn external_values_are_org_unique() {
        let mut org = Org::from_seed(&Seed::default_seed()).unwrap();
        let mut r = Map::new();
        r.insert("External_Deal_ID".into(), "extdeal3".into());
        assert!(org.insert_record("Deals", r).unwrap_err().contains("duplicate external value"));
        assert_eq!(org.find_external("Deals", "External_Deal_ID", "extdeal2"), Some("111111000000094040"));
    }
}
