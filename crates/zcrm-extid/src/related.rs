//! "Update Related Records (Using External ID)": `PUT /crm/{v}/{Module}/{parent}/{RelatedList}`.
//!
//! The request is typed, so the header, the URL and the body cannot disagree:
//!
//! | parent ([`Parent`]) | related records keyed by ([`RelatedKey`]) | `X-EXTERNAL` | seed page case |
//! |---|---|---|---|
//! | `External{field,value}` | `External(field)` | `Contacts.External_Contact_ID,Deals.External_Deal_ID` | A: both external |
//! | `Id(record id)` | `External(field)` | `Deals.External_Deal_ID` | B |
//! | `External{field,value}` | `Id` | `Contacts.External_Contact_ID` | C |
//! | `Id(record id)` | `Id` | *(none)* | the plain related-records API |
//!
//! The header names the base module exactly when the parent is external, and the related module exactly when
//! records are keyed by an external field. Everything is checked before anything is sent, and each failure names
//! the record and field ([`InvalidInput`]): 1 to [`MAX_RECORDS`] records; every record a JSON object whose keys are
//! API names; keyed by an external field => every record carries it as a non-empty string and no `id` (Zoho would
//! ignore the `id`; its MANDATORY_NOT_FOUND is caught here); keyed by id => every record has an `id` that is a
//! record id *string* (ids exceed 2^53); no two records with the same key in one call.
//!
//! When the related module is the base module itself, neither side can be addressed by an external field: an
//! `X-EXTERNAL` pair names a module, so it could not say which side it means. Such requests use record ids.

use serde_json::{Map, Value};

use crate::call::Call;
use crate::config::{ApiVersion, BaseUrl};
use crate::error::InvalidInput;
use crate::external::{ExternalPair, XExternal};
use crate::names::{
    ExternalValue, FieldName, MAX_EXTERNAL_VALUE_CHARS, MAX_TEXT_CHARS, ModuleName, RecordId, RelatedList,
};
use crate::request::{Method, PreparedRequest};
use crate::response::{UpdateResponse, credits_remaining, parse_outcomes};
use crate::scope::ScopeOp;
use crate::transport::HttpResponse;
use crate::url::push_segment;

/// At most this many related records per call (spec §3.3, "maximum of 100 related records per API call").
pub const MAX_RECORDS: usize = 100;

/// How the parent record is addressed in the URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Parent {
    /// By Zoho record id: `/Contacts/111111000000085009/Deals`.
    Id(RecordId),
    /// By the value of an external field: `/Contacts/extcontact3/Deals` + `X-EXTERNAL: Contacts.<field>`.
    External {
        /// The base module's external field, e.g. `External_Contact_ID`.
        field: FieldName,
        /// Its value, e.g. `extcontact3`.
        value: ExternalValue,
    },
}

impl Parent {
    /// A parent addressed by record id.
    pub fn id(id: impl Into<String>) -> Result<Parent, InvalidInput> {
        Ok(Parent::Id(RecordId::parse_as(id, "parent.id")?))
    }

    /// A parent addressed by an external field's value.
    pub fn external(field: impl Into<String>, value: impl Into<String>) -> Result<Parent, InvalidInput> {
        Ok(Parent::External {
            field: FieldName::parse_as(field, "parent.field")?,
            value: ExternalValue::parse_as(value, "parent.value")?,
        })
    }

    /// The path segment's value (record id or external value), before encoding.
    pub fn path_value(&self) -> &str {
        match self {
            Parent::Id(id) => id.as_str(),
            Parent::External { value, .. } => value.as_str(),
        }
    }
}

/// How each related record in the body is identified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum RelatedKey {
    /// By its Zoho record id in `id`.
    #[default]
    Id,
    /// By the value of the related module's external field, e.g. `External_Deal_ID`.
    External(FieldName),
}

impl RelatedKey {
    /// The body field carrying the key: `id` or the external field.
    pub fn field(&self) -> &str {
        match self {
            RelatedKey::Id => "id",
            RelatedKey::External(f) => f.as_str(),
        }
    }
}

/// A validated "update related records" request. Build it with [`UpdateRelated::builder`] (typed) or
/// [`UpdateRelated::from_header`] (from `X-EXTERNAL` text, as in a curl command).
///
/// ```
/// use serde_json::json;
/// use zcrm_extid::{ApiVersion, BaseUrl, Parent, UpdateRelated};
///
/// // Case A of the seed page: contact and deal both by external id.
/// let req = UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "extcontact3")?, "Deals")
///     .related_by_external("External_Deal_ID")
///     .record(json!({"External_Deal_ID": "extdeal3", "Contact_Role": "111111000000026002"}))
///     .build()?;
/// let http = req.prepare(&BaseUrl::parse("https://www.zohoapis.com")?, ApiVersion::V5);
/// assert_eq!(http.url(), "https://www.zohoapis.com/crm/v5/Contacts/extcontact3/Deals");
/// assert_eq!(http.headers()[0], ("X-EXTERNAL", "Contacts.External_Contact_ID,Deals.External_Deal_ID".to_owned()));
/// assert_eq!(http.body_str(), r#"{"data":[{"External_Deal_ID":"extdeal3","Contact_Role":"111111000000026002"}]}"#);
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRelated {
    module: ModuleName,
    parent: Parent,
    related_list: RelatedList,
    related_module: ModuleName,
    key: RelatedKey,
    records: Vec<Map<String, Value>>,
}

impl UpdateRelated {
    /// Starts a request on `module`'s record `parent`, related list `related_list`.
    pub fn builder(module: impl Into<String>, parent: Parent, related_list: impl Into<String>) -> UpdateRelatedBuilder {
        UpdateRelatedBuilder {
            module: module.into(),
            parent,
            related_list: related_list.into(),
            related_module: None,
            key: KeySpec::Id,
            records: Vec::new(),
        }
    }

    /// Builds the request from the pieces of a curl command: the path's value and the `X-EXTERNAL` text decide
    /// together what the value is (a record id, or the base module's external value) and how records are keyed.
    ///
    /// Every pair must be a simple `Module.Field` naming the base module or the related module; a path value that
    /// is not an external value (the header does not name the base module) must be a record id.
    ///
    /// ```
    /// use serde_json::json;
    /// use zcrm_extid::{Parent, RelatedKey, UpdateRelated};
    /// // Case B: parent by record id, deal by external id.
    /// let req = UpdateRelated::from_header("Contacts", "111111000000085009", "Deals", None,
    ///     Some("Deals.External_Deal_ID"), vec![json!({"External_Deal_ID": "extdeal3"})])?;
    /// assert!(matches!(req.parent(), Parent::Id(_)));
    /// assert_eq!(req.key(), &RelatedKey::External("External_Deal_ID".parse()?));
    /// # Ok::<(), zcrm_extid::Error>(())
    /// ```
    pub fn from_header(
        module: &str,
        path_value: &str,
        related_list: &str,
        related_module: Option<&str>,
        x_external: Option<&str>,
        records: Vec<Value>,
    ) -> Result<UpdateRelated, InvalidInput> {
        let module_name = ModuleName::new(module)?;
        let list = RelatedList::new(related_list)?;
        let rel_module = match related_module {
            Some(m) => ModuleName::parse_as(m, "related_module")?,
            None => ModuleName::new(list.as_str()).expect("a related list name is a module name"),
        };
        let (mut base_field, mut rel_field) = (None, None);
        if let Some(text) = x_external {
            let header = XExternal::parse(text)?;
            for pair in header.pairs() {
                if !pair.is_simple() {
                    return Err(InvalidInput::new(
                        "x_external",
                        format!("{pair} is a lookup path; related-record updates take Module.Field pairs only"),
                    ));
                }
                if pair.module == module_name && pair.module == rel_module {
                    return Err(same_module_error(&module_name));
                } else if pair.module == module_name {
                    base_field = Some(pair.field.clone());
                } else if pair.module == rel_module {
                    rel_field = Some(pair.field.clone());
                } else {
                    return Err(InvalidInput::new(
                        "x_external",
                        format!(
                            "{pair} names {}, which is neither the base module {module_name} nor the related module {rel_module}",
                            pair.module
                        ),
                    ));
                }
            }
        }
        let parent = match base_field {
            Some(field) => Parent::External { field, value: ExternalValue::parse_as(path_value, "parent.value")? },
            None => Parent::Id(RecordId::new(path_value).map_err(|e| {
                InvalidInput::new(
                    "parent.id",
                    format!(
                        "{}; to address the parent by an external value, name {module_name}.<field> in X-EXTERNAL",
                        e.message
                    ),
                )
            })?),
        };
        let mut builder = UpdateRelated::builder(module, parent, related_list).records(records);
        builder.related_module = Some(rel_module.to_string());
        if let Some(f) = rel_field {
            builder.key = KeySpec::External(f.to_string());
        }
        builder.build()
    }

    /// A request from parts validated elsewhere (the bulk engine checks each record as it reads it).
    pub(crate) fn from_validated(
        module: ModuleName,
        parent: Parent,
        related_list: RelatedList,
        related_module: ModuleName,
        key: RelatedKey,
        records: Vec<Map<String, Value>>,
    ) -> UpdateRelated {
        debug_assert!(check_count(records.len()).is_ok());
        UpdateRelated { module, parent, related_list, related_module, key, records }
    }

    /// The base module.
    pub fn module(&self) -> &ModuleName {
        &self.module
    }

    /// The parent record's address.
    pub fn parent(&self) -> &Parent {
        &self.parent
    }

    /// The related list.
    pub fn related_list(&self) -> &RelatedList {
        &self.related_list
    }

    /// The related module (by default the related list's name).
    pub fn related_module(&self) -> &ModuleName {
        &self.related_module
    }

    /// How records are keyed.
    pub fn key(&self) -> &RelatedKey {
        &self.key
    }

    /// The records, validated, in input order.
    pub fn records(&self) -> &[Map<String, Value>] {
        &self.records
    }

    /// The `X-EXTERNAL` header this request needs, if any: the base pair first, then the related pair.
    pub fn x_external(&self) -> Option<XExternal> {
        let mut pairs = Vec::new();
        if let Parent::External { field, .. } = &self.parent {
            pairs.push(ExternalPair::simple(self.module.clone(), field.clone()));
        }
        if let RelatedKey::External(field) = &self.key {
            pairs.push(ExternalPair::simple(self.related_module.clone(), field.clone()));
        }
        (!pairs.is_empty()).then(|| XExternal::new(pairs).expect("distinct modules, checked at build"))
    }

    /// The URL path after the base URL: `/crm/{v}/{module}/{parent}/{related_list}`, the parent percent-encoded.
    pub fn path(&self, version: ApiVersion) -> String {
        let mut path = format!("/crm/{}/{}", version.as_str(), self.module);
        push_segment(&mut path, self.parent.path_value());
        path.push('/');
        path.push_str(self.related_list.as_str());
        path
    }

    /// The JSON body, `{"data":[...]}`, compact, fields in input order.
    pub fn body(&self) -> Vec<u8> {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            data: &'a [Map<String, Value>],
        }
        // A record of the bulk path is ~50 bytes; starting near the final size saves the copies of regrowth.
        let mut out = Vec::with_capacity(16 + self.records.len() * 64);
        serde_json::to_writer(&mut out, &Body { data: &self.records }).expect("a JSON map always serializes");
        out
    }

    /// The HTTP request (without a token: the client adds it when sending).
    pub fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        let mut headers = Vec::with_capacity(2);
        if let Some(h) = self.x_external() {
            headers.push(("X-EXTERNAL", h.to_string()));
        }
        headers.push(("Content-Type", "application/json".to_owned()));
        let url = format!("{}{}", base.as_str(), self.path(version));
        PreparedRequest::new(Method::Put, url, headers, self.body())
    }
}

impl Call for UpdateRelated {
    type Output = UpdateResponse;

    fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        UpdateRelated::prepare(self, base, version)
    }

    fn module(&self) -> &ModuleName {
        &self.module
    }

    fn scope_op(&self) -> ScopeOp {
        ScopeOp::Update
    }

    fn parse(&self, response: &HttpResponse) -> crate::error::Result<UpdateResponse> {
        let outcomes =
            parse_outcomes(response.status, response.header("content-type"), &response.body, self.records.len())?;
        Ok(UpdateResponse { status: response.status, outcomes, credits_remaining: credits_remaining(response) })
    }

    /// A write of more than 10 records (spec §5.3).
    fn sub_concurrency(&self) -> bool {
        self.records.len() > crate::bulk::SUB_CONCURRENCY
    }

    fn path_template(&self, version: ApiVersion) -> String {
        crate::events::related_path(version, &self.module, &self.parent, &self.related_list, None)
    }

    fn record_count(&self) -> Option<usize> {
        Some(self.records.len())
    }
}

fn same_module_error(module: &ModuleName) -> InvalidInput {
    InvalidInput::new(
        "x_external",
        format!(
            "the base and related module are both {module}: an X-EXTERNAL pair for {module} could not say which side it addresses; use record ids on both sides"
        ),
    )
}

#[derive(Debug, Clone)]
enum KeySpec {
    Id,
    External(String),
}

/// Builder for [`UpdateRelated`]; [`UpdateRelatedBuilder::build`] validates everything.
#[derive(Debug, Clone)]
#[must_use]
pub struct UpdateRelatedBuilder {
    module: String,
    parent: Parent,
    related_list: String,
    related_module: Option<String>,
    key: KeySpec,
    records: Vec<Value>,
}

impl UpdateRelatedBuilder {
    /// The related module, when it differs from the related list's name.
    pub fn related_module(mut self, module: impl Into<String>) -> Self {
        self.related_module = Some(module.into());
        self
    }

    /// Related records are identified by `id` (the default).
    pub fn related_by_id(mut self) -> Self {
        self.key = KeySpec::Id;
        self
    }

    /// Related records are identified by the related module's external field `field`.
    pub fn related_by_external(mut self, field: impl Into<String>) -> Self {
        self.key = KeySpec::External(field.into());
        self
    }

    /// Adds one related record: its key plus relation fields such as `Contact_Role`.
    pub fn record(mut self, record: Value) -> Self {
        self.records.push(record);
        self
    }

    /// Adds related records.
    pub fn records(mut self, records: impl IntoIterator<Item = Value>) -> Self {
        self.records.extend(records);
        self
    }

    /// Validates and builds the request. The first problem found is returned, naming its record and field.
    pub fn build(self) -> Result<UpdateRelated, InvalidInput> {
        let module = ModuleName::new(self.module)?;
        let related_list = RelatedList::new(self.related_list)?;
        let related_module = match self.related_module {
            Some(m) => ModuleName::parse_as(m, "related_module")?,
            None => ModuleName::new(related_list.as_str()).expect("a related list name is a module name"),
        };
        let key = match self.key {
            KeySpec::Id => RelatedKey::Id,
            KeySpec::External(f) if f == "id" => {
                return Err(InvalidInput::new(
                    "related_field",
                    "`id` is not an external field; key the records by id instead",
                ));
            }
            KeySpec::External(f) => RelatedKey::External(FieldName::parse_as(f, "related_field")?),
        };
        // One X-EXTERNAL pair per module: when both sides are the same module, a pair could not say which side
        // it addresses, so related records of the base module itself are addressed by ids only.
        if module == related_module
            && (matches!(self.parent, Parent::External { .. }) || matches!(key, RelatedKey::External(_)))
        {
            return Err(same_module_error(&module));
        }
        check_count(self.records.len())?;
        let mut records = Vec::with_capacity(self.records.len());
        let mut seen = std::collections::HashMap::with_capacity(self.records.len());
        for (index, record) in self.records.into_iter().enumerate() {
            let map = check_record(index, record, &key)?;
            let k = map[key.field()].as_str().expect("checked").to_owned();
            if let Some(first) = seen.insert(k, index) {
                return Err(InvalidInput::new(
                    "data",
                    format!("duplicates data[{first}]: the same related record twice in one call"),
                )
                .at(index)
                .field(key.field()));
            }
            records.push(map);
        }
        Ok(UpdateRelated { module, parent: self.parent, related_list, related_module, key, records })
    }
}

/// 1 to [`MAX_RECORDS`] records.
pub(crate) fn check_count(n: usize) -> Result<(), InvalidInput> {
    if n == 0 {
        return Err(InvalidInput::new("data", "needs at least one related record"));
    }
    if n > MAX_RECORDS {
        return Err(InvalidInput::new(
            "data",
            format!("has {n} records; Zoho accepts at most {MAX_RECORDS} per call (use the bulk API to split them)"),
        ));
    }
    Ok(())
}

/// Validates record `index` against `key` and returns it as a JSON object.
pub(crate) fn check_record(index: usize, record: Value, key: &RelatedKey) -> Result<Map<String, Value>, InvalidInput> {
    let err = |message: String| InvalidInput::new("data", message).at(index);
    let map = match record {
        Value::Object(m) => m,
        other => return Err(err(format!("must be a JSON object, not {}", json_type(&other)))),
    };
    if let Some(bad) = map.keys().find(|k| !crate::names::is_api_name(k)) {
        return Err(err(format!("{bad:?} is not a Zoho field API name")).field(bad.clone()));
    }
    let field = key.field();
    match (key, map.get(field)) {
        (_, None) => {
            let why = match key {
                RelatedKey::Id => {
                    "is missing: without an external field for the related module, records are identified by `id`"
                        .to_owned()
                }
                RelatedKey::External(f) => format!(
                    "is missing: X-EXTERNAL names the related module's {f}, so every record must carry it (Zoho answers MANDATORY_NOT_FOUND)"
                ),
            };
            return Err(err(why).field(field));
        }
        (_, Some(Value::String(s))) if s.is_empty() => return Err(err("must not be empty".into()).field(field)),
        (RelatedKey::Id, Some(Value::String(s))) => {
            if RecordId::new(s.as_str()).is_err() {
                return Err(err(format!("{s:?} is not a Zoho record id (digits only)")).field(field));
            }
        }
        (RelatedKey::External(_), Some(Value::String(s))) => {
            if s.chars().nth(MAX_EXTERNAL_VALUE_CHARS).is_some() {
                return Err(err(format!(
                    "has {} characters; an external field holds at most {MAX_EXTERNAL_VALUE_CHARS}",
                    s.chars().count()
                ))
                .field(field));
            }
            if map.contains_key("id") {
                return Err(err(format!(
                    "records keyed by {field} must not also carry `id` (Zoho would ignore it); remove one of them"
                ))
                .field("id"));
            }
        }
        (_, Some(other)) => {
            let why = if other.is_number() && matches!(key, RelatedKey::Id) {
                "must be a string: Zoho record ids exceed 2^53 and lose digits as JSON numbers".to_owned()
            } else {
                format!("must be a string, not {}", json_type(other))
            };
            return Err(err(why).field(field));
        }
    }
    if let Some((name, n)) = map.iter().find_map(|(k, v)| too_long(v).map(|n| (k, n))) {
        return Err(err(format!("holds a text of {n} characters; Zoho's text fields hold at most {MAX_TEXT_CHARS}"))
            .field(name.clone()));
    }
    Ok(map)
}

/// The length of the first text over [`MAX_TEXT_CHARS`] characters in `v`, if any (nested values included).
fn too_long(v: &Value) -> Option<usize> {
    match v {
        Value::String(s) if s.len() > MAX_TEXT_CHARS => {
            let n = s.chars().count();
            (n > MAX_TEXT_CHARS).then_some(n)
        }
        Value::Array(a) => a.iter().find_map(too_long),
        Value::Object(o) => o.values().find_map(too_long),
        _ => None,
    }
}

fn json_type(v: &Value) -> &'static str {
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

    fn base() -> BaseUrl {
        BaseUrl::parse("https://www.zohoapis.com").unwrap()
    }

    fn ext_parent() -> Parent {
        Parent::external("External_Contact_ID", "extcontact3").unwrap()
    }

    fn build(parent: Parent, key: Option<&str>, records: Vec<Value>) -> Result<UpdateRelated, InvalidInput> {
        let b = UpdateRelated::builder("Contacts", parent, "Deals").records(records);
        match key {
            Some(k) => b.related_by_external(k).build(),
            None => b.build(),
        }
    }

    #[test]
    fn case_c_parent_external_related_by_id() {
        let r = build(ext_parent(), None, vec![json!({"id": "111111000000094028", "Contact_Role": "1"})]).unwrap();
        let p = r.prepare(&base(), ApiVersion::V8);
        assert_eq!(p.url(), "https://www.zohoapis.com/crm/v8/Contacts/extcontact3/Deals");
        assert_eq!(p.headers()[0].1, "Contacts.External_Contact_ID");
    }

    #[test]
    fn plain_ids_need_no_header() {
        let r = build(Parent::id("111111000000085009").unwrap(), None, vec![json!({"id": "5"})]).unwrap();
        assert!(r.x_external().is_none());
        assert_eq!(r.prepare(&base(), ApiVersion::V5).headers(), vec![("Content-Type", "application/json".to_owned())]);
    }

    #[test]
    fn each_rule_names_record_and_field() {
        let p = || Parent::id("1").unwrap();
        let cases: Vec<(Result<UpdateRelated, InvalidInput>, &str)> = vec![
            (build(p(), None, vec![]), "data"),
            (build(p(), None, (0..101).map(|i| json!({"id": i.to_string()})).collect()), "data"),
            (build(p(), None, vec![json!({"id": "1"}), json!([1])]), "data[1]"),
            (build(p(), Some("External_Deal_ID"), vec![json!({"Contact_Role": "x"})]), "data[0].External_Deal_ID"),
            (build(p(), Some("External_Deal_ID"), vec![json!({"External_Deal_ID": ""})]), "data[0].External_Deal_ID"),
            (build(p(), Some("External_Deal_ID"), vec![json!({"External_Deal_ID": 7})]), "data[0].External_Deal_ID"),
            (build(p(), Some("External_Deal_ID"), vec![json!({"External_Deal_ID": "a", "id": "1"})]), "data[0].id"),
            (build(p(), None, vec![json!({"id": 111111000000094028u64})]), "data[0].id"),
            (build(p(), None, vec![json!({"id": "abc"})]), "data[0].id"),
            (build(p(), None, vec![json!({"id": "1"}), json!({"id": "2"}), json!({"id": "1"})]), "data[2].id"),
            (build(p(), None, vec![json!({"id": "1", "Contact Role": "x"})]), "data[0].Contact Role"),
            (
                build(p(), Some("External_Deal_ID"), vec![json!({"External_Deal_ID": "x".repeat(256)})]),
                "data[0].External_Deal_ID",
            ),
            (build(p(), None, vec![json!({"id": "1", "Note": "y".repeat(32_001)})]), "data[0].Note"),
            (
                UpdateRelated::builder("Contacts", p(), "Deals")
                    .related_module("Bad-Name")
                    .record(json!({"id":"1"}))
                    .build(),
                "related_module",
            ),
            (
                UpdateRelated::builder("Contacts", ext_parent(), "Contacts")
                    .related_by_external("X")
                    .record(json!({"X":"1"}))
                    .build(),
                "x_external",
            ),
        ];
        for (i, (result, location)) in cases.into_iter().enumerate() {
            assert_eq!(result.unwrap_err().location(), location, "case {i}");
        }
    }

    #[test]
    fn from_header_interprets_the_pairs() {
        let rec = || vec![json!({"External_Deal_ID": "extdeal3"})];
        let a = UpdateRelated::from_header(
            "Contacts",
            "extcontact3",
            "Deals",
            None,
            Some("Deals.External_Deal_ID, Contacts.External_Contact_ID"),
            rec(),
        )
        .unwrap();
        assert!(matches!(a.parent(), Parent::External { .. }));
        // Canonical order: base pair first.
        assert_eq!(a.x_external().unwrap().to_string(), "Contacts.External_Contact_ID,Deals.External_Deal_ID");
        let not_id =
            UpdateRelated::from_header("Contacts", "extcontact3", "Deals", None, Some("Deals.External_Deal_ID"), rec());
        assert_eq!(not_id.unwrap_err().argument, "parent.id");
        let stranger = UpdateRelated::from_header("Contacts", "1", "Deals", None, Some("Leads.X"), rec());
        assert!(stranger.unwrap_err().message.contains("neither the base module"));
        let lookup = UpdateRelated::from_header("Contacts", "1", "Deals", None, Some("Contacts.Account_Name.X"), rec());
        assert!(lookup.unwrap_err().message.contains("lookup path"));
        // Without a related pair, records are keyed by id, so the external field alone is not enough.
        let missing_id = UpdateRelated::from_header(
            "Contacts",
            "extcontact3",
            "Deals",
            None,
            Some("Contacts.External_Contact_ID"),
            rec(),
        );
        assert_eq!(missing_id.unwrap_err().location(), "data[0].id");
    }
}
