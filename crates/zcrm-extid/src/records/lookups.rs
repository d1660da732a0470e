//! Lookups by external ID: the declared external fields ([`ExternalFields`]) and the `X-EXTERNAL` lookup pairs
//! derived from a body (spec §1.2, §2.4).
//!
//! A record is walked key by key. Arrays (subforms, line items, participants) add no path segment: their
//! elements are visited at the array's path. An object holding one declared external field is a lookup by
//! external ID and yields the pair `{Module}.{path}.{Field}`, or `{Module}.{path}->{Target}.{Field}` when the
//! last path segment is a multi-module lookup (`What_Id`, `participant` by default). Any other object is
//! visited key by key (keys that are not API names, such as `$se_module`, are not fields and are skipped).
//!
//! ```
//! use serde_json::json;
//! use zcrm_extid::records::InsertRecords;
//! let insert = InsertRecords::builder("Events")
//!     .external_field("Accounts", "External_Account_ID")
//!     .external_field("Contacts", "External_Contact_ID")
//!     .record(json!({
//!         "Event_Title": "Kick-off",
//!         "What_Id": {"External_Account_ID": "acc-1"}, "$se_module": "Accounts",
//!         "Participants": [{"participant": {"External_Contact_ID": "c-1"}, "type": "contact"}],
//!     }))
//!     .build()?;
//! assert_eq!(insert.x_external().unwrap().to_string(),
//!     "Events.What_Id->Accounts.External_Account_ID,Events.Participants.participant->Contacts.External_Contact_ID");
//! # Ok::<(), zcrm_extid::InvalidInput>(())
//! ```
//!
//! The choices where Zoho is silent are listed in the [`crate::records`] module docs.

use serde_json::{Map, Value};

use crate::error::InvalidInput;
use crate::external::{ExternalPair, XExternal};
use crate::names::{FieldName, ModuleName, is_api_name};

/// The lookup fields that refer to records of more than one module by default: `->Module` is written for them
/// (spec §2.4: `Events.What_Id->Accounts...`, `Events.Participants.participant->Contacts...`).
pub const MULTI_MODULE_LOOKUPS: [&str; 2] = ["What_Id", "participant"];

/// The org's external fields that lookup objects in a body may use, and the multi-module lookup fields.
///
/// ```
/// use zcrm_extid::records::ExternalFields;
/// let ext = ExternalFields::parse(&["Accounts.External_Account_ID", "Products.External_Product_ID"])?;
/// assert!(ext.is_external("External_Account_ID"));
/// assert_eq!(ExternalFields::parse(&["Accounts"]).unwrap_err().location(), "external_fields[0]");
/// # Ok::<(), zcrm_extid::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalFields {
    fields: Vec<(ModuleName, FieldName)>,
    multi_module: Vec<FieldName>,
}

impl Default for ExternalFields {
    fn default() -> Self {
        ExternalFields {
            fields: Vec::new(),
            multi_module: MULTI_MODULE_LOOKUPS.iter().map(|f| FieldName::new(*f).expect("API names")).collect(),
        }
    }
}

impl ExternalFields {
    /// No external fields; the default multi-module lookups.
    pub fn new() -> Self {
        Self::default()
    }

    /// `Module.Field` entries (errors name `external_fields[i]`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<ExternalFields, InvalidInput> {
        let mut out = ExternalFields::new();
        for (i, entry) in entries.iter().enumerate() {
            let arg = format!("external_fields[{i}]");
            let Some((module, field)) = entry.as_ref().split_once('.') else {
                return Err(InvalidInput::new(
                    arg,
                    format!("{:?} is not Module.Field (e.g. Accounts.External_Account_ID)", entry.as_ref()),
                ));
            };
            out = out.with(module, field, &arg)?;
        }
        Ok(out)
    }

    /// Adds `module`'s external field `field`; errors name `argument`.
    pub(crate) fn with(mut self, module: &str, field: &str, argument: &str) -> Result<Self, InvalidInput> {
        let module = ModuleName::parse_as(module, argument)?;
        let field = FieldName::parse_as(field, argument)?;
        if field.as_str() == "id" {
            return Err(InvalidInput::new(argument, "`id` is not an external field"));
        }
        if !self.fields.iter().any(|(m, f)| *m == module && *f == field) {
            self.fields.push((module, field));
        }
        Ok(self)
    }

    /// Also treats `field` as a multi-module lookup (written `field->Module.External_Field`).
    pub(crate) fn with_multi_module(mut self, field: &str) -> Result<Self, InvalidInput> {
        let field = FieldName::parse_as(field, "multi_module_lookups")?;
        if !self.multi_module.contains(&field) {
            self.multi_module.push(field);
        }
        Ok(self)
    }

    /// Whether `field` is a declared external field (of any module).
    pub fn is_external(&self, field: &str) -> bool {
        self.fields.iter().any(|(_, f)| f.as_str() == field)
    }

    /// The modules declaring `field`.
    pub fn modules_of<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a ModuleName> + 'a {
        self.fields.iter().filter(move |(_, f)| f.as_str() == field).map(|(m, _)| m)
    }

    /// The external fields declared for `module`, in declaration order.
    pub fn fields_of<'a>(&'a self, module: &'a str) -> impl Iterator<Item = &'a FieldName> + 'a {
        self.fields.iter().filter(move |(m, _)| m.as_str() == module).map(|(_, f)| f)
    }

    fn is_multi_module(&self, field: &str) -> bool {
        self.multi_module.iter().any(|f| f.as_str() == field)
    }
}

/// The external field declarations of a request builder, validated at `build()`.
#[derive(Debug, Clone, Default)]
pub(crate) struct LookupDecl {
    fields: Vec<(String, String)>,
    multi_module: Vec<String>,
}

impl LookupDecl {
    pub(crate) fn field(&mut self, module: String, field: String) {
        self.fields.push((module, field));
    }

    pub(crate) fn multi_module(&mut self, field: String) {
        self.multi_module.push(field);
    }

    pub(crate) fn build(self) -> Result<ExternalFields, InvalidInput> {
        let mut out = ExternalFields::new();
        for (i, (m, f)) in self.fields.iter().enumerate() {
            out = out.with(m, f, &format!("external_fields[{i}]"))?;
        }
        for f in &self.multi_module {
            out = out.with_multi_module(f)?;
        }
        Ok(out)
    }
}

/// What one record uses: its lookup pairs, and the lookup paths it addresses by a plain `id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RecordLookups {
    /// Distinct pairs, in the order first met.
    pub(crate) pairs: Vec<ExternalPair>,
    /// Paths (module-relative) of lookup objects carrying `id` and no external field.
    pub(crate) by_id: Vec<Vec<FieldName>>,
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

struct Walker<'a> {
    module: &'a ModuleName,
    index: usize,
    ext: &'a ExternalFields,
    path: Vec<Seg<'a>>,
    out: RecordLookups,
}

/// Scans record `index` of a call on `module` (see the module docs).
pub(crate) fn scan(
    module: &ModuleName,
    index: usize,
    record: &Map<String, Value>,
    ext: &ExternalFields,
) -> Result<RecordLookups, InvalidInput> {
    let mut w = Walker { module, index, ext, path: Vec::new(), out: RecordLookups::default() };
    w.container(record)?;
    Ok(w.out)
}

impl<'a> Walker<'a> {
    fn location(&self, last: Option<&str>) -> String {
        let mut s = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        if let Some(l) = last {
            s.push('.');
            s.push_str(l);
        }
        s
    }

    fn error(&self, last: Option<&str>, message: String) -> InvalidInput {
        InvalidInput::new("data", message).at(self.index).field(self.location(last))
    }

    fn names(&self) -> Vec<FieldName> {
        self.path
            .iter()
            .filter_map(|s| match s {
                Seg::Key(k) => Some(FieldName::new(*k).expect("only API names are walked")),
                Seg::Index(_) => None,
            })
            .collect()
    }

    /// The fields of a record, subform row or plain object.
    fn container(&mut self, obj: &'a Map<String, Value>) -> Result<(), InvalidInput> {
        for (k, v) in obj {
            if !is_api_name(k) {
                continue;
            }
            self.path.push(Seg::Key(k));
            self.value(obj, v)?;
            self.path.pop();
        }
        Ok(())
    }

    fn value(&mut self, holder: &'a Map<String, Value>, v: &'a Value) -> Result<(), InvalidInput> {
        match v {
            Value::Object(o) => self.object(holder, o),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Object(o) = item {
                        self.path.push(Seg::Index(i));
                        self.object(o, o)?;
                        self.path.pop();
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// An object at the current path: a lookup by external ID, a lookup by id, or a container.
    fn object(&mut self, holder: &'a Map<String, Value>, o: &'a Map<String, Value>) -> Result<(), InvalidInput> {
        let mut found = o.keys().filter(|k| self.ext.is_external(k));
        let Some(field) = found.next() else {
            if o.contains_key("id") {
                let names = self.names();
                if !self.out.by_id.contains(&names) {
                    self.out.by_id.push(names);
                }
            }
            return self.container(o);
        };
        if let Some(other) = found.next() {
            return Err(self.error(
                None,
                format!("holds two external fields, {field} and {other}; a lookup is addressed by one of them"),
            ));
        }
        match &o[field] {
            Value::String(s) if !s.is_empty() => {}
            other => {
                return Err(self.error(
                    Some(field),
                    format!("must be a non-empty string (an external value), not {}", json_type(other)),
                ));
            }
        }
        if o.contains_key("id") {
            return Err(self.error(
                Some("id"),
                format!(
                    "a lookup holding {field} must not also carry `id`: with X-EXTERNAL Zoho reads only the external field (spec 2.4); remove one of them"
                ),
            ));
        }
        let names = self.names();
        let last = names.last().expect("a record's own key is always on the path").as_str();
        let target = if self.ext.is_multi_module(last) { Some(self.target(holder, field)?) } else { None };
        let pair = ExternalPair {
            module: self.module.clone(),
            lookups: names,
            target,
            field: FieldName::new(field.as_str()).expect("declared fields are API names"),
        };
        add_pair(&mut self.out.pairs, pair).map_err(|conflict| {
            let (new, old) = *conflict;
            self.error(
                Some(field),
                format!(
                    "uses {new} where the same record already uses {old}; a lookup path is addressed one way per call"
                ),
            )
        })
    }

    /// The target module of a multi-module lookup: the one module declaring `field`, or `$se_module`.
    fn target(&self, holder: &Map<String, Value>, field: &str) -> Result<ModuleName, InvalidInput> {
        let modules: Vec<&ModuleName> = self.ext.modules_of(field).collect();
        if let [only] = modules.as_slice() {
            return Ok((*only).clone());
        }
        if let Some(Value::String(se)) = holder.get("$se_module")
            && let Some(m) = modules.iter().find(|m| m.as_str() == se)
        {
            return Ok((*m).clone());
        }
        let names: Vec<&str> = modules.iter().map(|m| m.as_str()).collect();
        Err(self.error(
            Some(field),
            format!(
                "{field} is declared for {}; a multi-module lookup needs its module: set \"$se_module\" beside it",
                names.join(" and ")
            ),
        ))
    }
}

fn same_path(a: &ExternalPair, b: &ExternalPair) -> bool {
    a.module == b.module && a.lookups == b.lookups && a.target == b.target
}

/// Adds `pair` unless present; `Err((pair, existing))` when another pair has its address.
fn add_pair(pairs: &mut Vec<ExternalPair>, pair: ExternalPair) -> Result<(), Box<(ExternalPair, ExternalPair)>> {
    match pairs.iter().find(|p| same_path(p, &pair)) {
        Some(p) if *p == pair => Ok(()),
        Some(p) => Err(Box::new((pair, p.clone()))),
        None => {
            pairs.push(pair);
            Ok(())
        }
    }
}

/// The header of a call: `key` (the module's own pair, if any) first, then every record's lookup pairs in the
/// order first met. Errors name the record (its position in the call) whose pair conflicts with an earlier
/// one, or which addresses by `id` a lookup path the header addresses by an external field.
pub(crate) fn header<'r>(
    key: Option<ExternalPair>,
    records: impl IntoIterator<Item = &'r RecordLookups> + Clone,
) -> Result<Option<XExternal>, InvalidInput> {
    let mut pairs: Vec<ExternalPair> = key.into_iter().collect();
    let mut first_use: Vec<usize> = vec![0; pairs.len()];
    for (i, r) in records.clone().into_iter().enumerate() {
        for p in &r.pairs {
            if let Err(conflict) = add_pair(&mut pairs, p.clone()) {
                let (new, old) = *conflict;
                let at = pairs.iter().position(|q| *q == old).expect("found");
                return Err(InvalidInput::new(
                    "data",
                    format!(
                        "uses {new} where data[{}] uses {old}; a lookup path is addressed one way per call",
                        first_use[at]
                    ),
                )
                .at(i)
                .field(path_text(&new)));
            }
            if first_use.len() < pairs.len() {
                first_use.push(i);
            }
        }
    }
    for (i, r) in records.into_iter().enumerate() {
        for path in &r.by_id {
            if let Some((at, p)) = pairs.iter().enumerate().find(|(_, p)| !p.lookups.is_empty() && p.lookups == *path) {
                let mut field: Vec<&str> = path.iter().map(FieldName::as_str).collect();
                field.push("id");
                return Err(InvalidInput::new(
                    "data",
                    format!(
                        "addresses this lookup by `id` while data[{}] uses {p}; with that X-EXTERNAL pair Zoho would read only the external field, so send these records in separate calls",
                        first_use[at]
                    ),
                )
                .at(i)
                .field(field.join(".")));
            }
        }
    }
    if pairs.is_empty() {
        return Ok(None);
    }
    XExternal::new(pairs).map(Some)
}

fn path_text(p: &ExternalPair) -> String {
    let mut s: Vec<&str> = p.lookups.iter().map(FieldName::as_str).collect();
    s.push(p.field.as_str());
    s.join(".")
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ext() -> ExternalFields {
        ExternalFields::parse(&[
            "Accounts.External_Account_ID",
            "Deals.External_Deal_ID",
            "Products.External_Product_ID",
            "Price_Books.External_Price_book_ID",
            "Contacts.External_Contact_ID",
        ])
        .unwrap()
    }

    fn pairs(module: &str, record: Value) -> Result<Vec<String>, InvalidInput> {
        let m = ModuleName::new(module).unwrap();
        let r = scan(&m, 0, record.as_object().unwrap(), &ext())?;
        Ok(r.pairs.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn the_documented_forms() {
        assert_eq!(
            pairs("Contacts", json!({"Last_Name": "x", "Account_Name": {"External_Account_ID": "a"}})).unwrap(),
            ["Contacts.Account_Name.External_Account_ID"]
        );
        assert_eq!(
            pairs(
                "Quotes",
                json!({"Quoted_Items": [{"Product_Name": {"External_Product_ID": "p"}, "book": {"External_Price_book_ID": "b"}},
                                        {"Product_Name": {"External_Product_ID": "q"}}]})
            )
            .unwrap(),
            ["Quotes.Quoted_Items.Product_Name.External_Product_ID", "Quotes.Quoted_Items.book.External_Price_book_ID"]
        );
        assert_eq!(
            pairs("Contacts", json!({"Subform_External": [{"Deal_Lookup": {"External_Deal_ID": "d"}}]})).unwrap(),
            ["Contacts.Subform_External.Deal_Lookup.External_Deal_ID"]
        );
        assert_eq!(
            pairs("Events", json!({"What_Id": {"External_Account_ID": "a"}})).unwrap(),
            ["Events.What_Id->Accounts.External_Account_ID"]
        );
        // Plain lookups and JSON values are no pairs.
        assert!(
            pairs("Contacts", json!({"Owner": {"id": "1"}, "Tags": ["a"], "$x": {"External_Deal_ID": "d"}}))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn rules_name_the_record_and_path() {
        let loc = |module, r| pairs(module, r).unwrap_err().location();
        assert_eq!(
            loc("Contacts", json!({"Account_Name": {"External_Account_ID": "a", "id": "1"}})),
            "data[0].Account_Name.id"
        );
        assert_eq!(
            loc("Contacts", json!({"Account_Name": {"External_Account_ID": 7}})),
            "data[0].Account_Name.External_Account_ID"
        );
        assert_eq!(
            loc("Contacts", json!({"Account_Name": {"External_Account_ID": "a", "External_Deal_ID": "d"}})),
            "data[0].Account_Name"
        );
        assert_eq!(
            loc("Contacts", json!({"Sub": [{"L": {"External_Account_ID": "a"}}, {"L": {"External_Deal_ID": "d"}}]})),
            "data[0].Sub[1].L.External_Deal_ID"
        );
    }

    #[test]
    fn ambiguous_multi_module_targets_need_se_module() {
        let m = ModuleName::new("Events").unwrap();
        let ext = ExternalFields::parse(&["Accounts.ERP_ID", "Deals.ERP_ID"]).unwrap();
        let r = json!({"What_Id": {"ERP_ID": "x"}});
        assert_eq!(scan(&m, 2, r.as_object().unwrap(), &ext).unwrap_err().location(), "data[2].What_Id.ERP_ID");
        let r = json!({"What_Id": {"ERP_ID": "x"}, "$se_module": "Deals"});
        let got = scan(&m, 0, r.as_object().unwrap(), &ext).unwrap();
        assert_eq!(got.pairs[0].to_string(), "Events.What_Id->Deals.ERP_ID");
    }

    #[test]
    fn header_across_records() {
        let m = ModuleName::new("Contacts").unwrap();
        let scan_all = |records: Vec<Value>| {
            let scanned: Vec<RecordLookups> =
                records.iter().enumerate().map(|(i, r)| scan(&m, i, r.as_object().unwrap(), &ext()).unwrap()).collect();
            header(None, scanned.iter())
        };
        let h = scan_all(vec![
            json!({"Account_Name": {"External_Account_ID": "a"}}),
            json!({"Account_Name": {"External_Account_ID": "b"}}),
        ]);
        assert_eq!(h.unwrap().unwrap().to_string(), "Contacts.Account_Name.External_Account_ID");
        let mixed = scan_all(vec![
            json!({"Last_Name": "x"}),
            json!({"Account_Name": {"External_Account_ID": "a"}}),
            json!({"Account_Name": {"id": "1"}}),
        ]);
        assert_eq!(mixed.unwrap_err().location(), "data[2].Account_Name.id");
        let two_fields = scan_all(vec![
            json!({"Account_Name": {"External_Account_ID": "a"}}),
            json!({"Account_Name": {"External_Deal_ID": "d"}}),
        ]);
        let e = two_fields.unwrap_err();
        assert_eq!(e.location(), "data[1].Account_Name.External_Deal_ID");
        assert!(e.message.contains("data[0]"), "{e}");
        assert!(scan_all(vec![json!({"Owner": {"id": "1"}})]).unwrap().is_none());
    }
}
