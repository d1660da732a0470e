//! "Search Records (Using External ID)" (spec §2.7): `GET {Module}/search?criteria=(Field:equals:v)` for one
//! value, `(Field:in:v1,v2)` for several, with `X-EXTERNAL: {Module}.{Field}`. Zoho also requires the
//! `ZohoSearch.securesearch.READ` scope besides the module's.
//!
//! **Escaping values** (Zoho's Kaizen #82: "When there are parentheses or a comma in your search value, you must
//! escape them and then encode the characters", e.g. `Patricia\(Boyle\)` sent as `Patricia%5C%28Boyle%5C%29`):
//! `(`, `)` and `,` in a value get a `\` before them; so does `\` itself (Zoho does not say, but an unescaped
//! backslash before an escaped parenthesis would be read as the escape). A `:` needs no escape (Zoho's own
//! example `Modified_Time:greater_equal:2023-04-19T05:58:06+05:30` has colons in the value: the field and the
//! operator end at the first two). Then every character of a value outside RFC 3986 unreserved is
//! percent-encoded, while the criteria's own `(`, `:`, `,` and `)` are written as they are, so the documented
//! sample URL comes out unchanged.
//!
//! Rules: 1 to 100 non-empty values (Zoho documents no limit for `in`; 100 keeps the URL well under 8 KiB for
//! usual IDs), none twice; paging as for [`super::GetRecords`].

use crate::call::Call;
use crate::config::{ApiVersion, BaseUrl};
use crate::error::{InvalidInput, Result};
use crate::external::{ExternalPair, XExternal};
use crate::names::{ExternalValue, FieldName, ModuleName};
use crate::request::{Method, PreparedRequest};
use crate::scope::ScopeOp;
use crate::transport::HttpResponse;

use super::pages::{PageInfo, Paged, RecordsPage, parse_page};
use super::{MAX_RECORDS, check_fields, check_paging, encode_query_value, push_query};

/// `value` with `\`, `(`, `)` and `,` escaped by a backslash (before percent-encoding).
///
/// ```
/// assert_eq!(zcrm_extid::records::search::escape_value(r"Patricia(Boyle), a\b:c"), r"Patricia\(Boyle\)\, a\\b:c");
/// ```
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    for c in value.chars() {
        if matches!(c, '\\' | '(' | ')' | ',') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A validated search by an external field. Build it with [`SearchRecords::builder`].
///
/// ```
/// use zcrm_extid::records::SearchRecords;
/// use zcrm_extid::{ApiVersion, BaseUrl};
/// let base = BaseUrl::parse("https://www.zohoapis.com")?;
/// let s = SearchRecords::builder("Contacts", "External_Contact_ID").values(["a", "b"]).build()?;
/// let http = s.prepare(&base, ApiVersion::V7);
/// assert_eq!(http.url(), "https://www.zohoapis.com/crm/v7/Contacts/search?criteria=(External_Contact_ID:in:a,b)");
/// assert_eq!(http.headers(), [("X-EXTERNAL", "Contacts.External_Contact_ID".to_owned())]);
/// let odd = SearchRecords::builder("Contacts", "External_Contact_ID").value("Patricia(Boyle)").build()?;
/// assert!(odd.prepare(&base, ApiVersion::V7).url().ends_with("criteria=(External_Contact_ID:equals:Patricia%5C%28Boyle%5C%29)"));
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRecords {
    module: ModuleName,
    field: FieldName,
    values: Vec<String>,
    fields: Vec<FieldName>,
    page: Option<u32>,
    per_page: Option<u32>,
}

impl SearchRecords {
    /// Starts a search of `module` by its external field `field`.
    pub fn builder(module: impl Into<String>, field: impl Into<String>) -> SearchRecordsBuilder {
        SearchRecordsBuilder {
            module: module.into(),
            field: field.into(),
            values: Vec::new(),
            fields: None,
            page: None,
            per_page: None,
        }
    }

    /// The module.
    pub fn module(&self) -> &ModuleName {
        &self.module
    }

    /// `(Field:equals:v)` or `(Field:in:v1,v2)`, values escaped (not yet percent-encoded).
    pub fn criteria(&self) -> String {
        self.criteria_with(escape_value)
    }

    fn criteria_with(&self, f: impl Fn(&str) -> String) -> String {
        let op = if self.values.len() == 1 { "equals" } else { "in" };
        let values: Vec<String> = self.values.iter().map(|v| f(v)).collect();
        format!("({}:{op}:{})", self.field, values.join(","))
    }

    /// `X-EXTERNAL: {Module}.{Field}`.
    pub fn x_external(&self) -> XExternal {
        XExternal::new(vec![ExternalPair::simple(self.module.clone(), self.field.clone())]).expect("one pair")
    }

    /// The HTTP request (without a token).
    pub fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        let mut url = format!("{}/crm/{}/{}/search", base.as_str(), version.as_str(), self.module);
        let mut query = vec![("criteria", self.criteria_with(|v| encode_query_value(&escape_value(v))))];
        if !self.fields.is_empty() {
            query.push(("fields", self.fields.iter().map(FieldName::as_str).collect::<Vec<_>>().join(",")));
        }
        if let Some(p) = self.page {
            query.push(("page", p.to_string()));
        }
        if let Some(p) = self.per_page {
            query.push(("per_page", p.to_string()));
        }
        push_query(&mut url, &query);
        PreparedRequest::new(Method::Get, url, vec![("X-EXTERNAL", self.x_external().to_string())], Vec::new())
    }
}

impl Call for SearchRecords {
    type Output = RecordsPage;

    fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        SearchRecords::prepare(self, base, version)
    }

    fn module(&self) -> &ModuleName {
        &self.module
    }

    fn scope_op(&self) -> ScopeOp {
        ScopeOp::Search
    }

    fn parse(&self, response: &HttpResponse) -> Result<RecordsPage> {
        parse_page(response)
    }
}

impl Paged for SearchRecords {
    /// Search pages by number only (Zoho caps a search at 2,000 records).
    fn next_page(&self, info: &PageInfo) -> Option<SearchRecords> {
        info.more_records
            .then(|| SearchRecords { page: Some(info.page.or(self.page).unwrap_or(1) + 1), ..self.clone() })
    }
}

/// Builder for [`SearchRecords`]; [`SearchRecordsBuilder::build`] checks every rule.
#[derive(Debug, Clone)]
#[must_use]
pub struct SearchRecordsBuilder {
    module: String,
    field: String,
    values: Vec<String>,
    fields: Option<Vec<String>>,
    page: Option<u32>,
    per_page: Option<u32>,
}

impl SearchRecordsBuilder {
    /// Searches for this value (`equals`, or `in` together with others).
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.values.push(value.into());
        self
    }

    /// Searches for these values.
    pub fn values<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.values.extend(values.into_iter().map(Into::into));
        self
    }

    /// The fields to return.
    pub fn fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// The page to read (from 1).
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Records per page (1 to 200).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// Checks every rule and builds the search.
    pub fn build(self) -> Result<SearchRecords, InvalidInput> {
        let module = ModuleName::new(self.module)?;
        let field = FieldName::parse_as(self.field, "key")?;
        if field.as_str() == "id" {
            return Err(InvalidInput::new("key", "search by an external field; read records by id with GetRecords"));
        }
        if self.values.is_empty() {
            return Err(InvalidInput::new("values", "needs at least one value"));
        }
        if self.values.len() > MAX_RECORDS {
            return Err(InvalidInput::new(
                "values",
                format!("has {} values; at most {MAX_RECORDS} per search", self.values.len()),
            ));
        }
        let mut values: Vec<String> = Vec::with_capacity(self.values.len());
        for (i, v) in self.values.into_iter().enumerate() {
            let arg = format!("values[{i}]");
            let v = String::from(ExternalValue::parse_as(v, &arg)?);
            if values.contains(&v) {
                return Err(InvalidInput::new(arg, format!("{v:?} is given twice")));
            }
            values.push(v);
        }
        let fields = self.fields.map(check_fields).transpose()?.unwrap_or_default();
        check_paging(self.page, self.per_page, None)?;
        Ok(SearchRecords { module, field, values, fields, page: self.page, per_page: self.per_page })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_and_encoding() {
        let base = BaseUrl::parse("https://www.zohoapis.com").unwrap();
        let s = SearchRecords::builder("Contacts", "E").values(["a,b", "x:y z", r"c\d"]).per_page(5).build().unwrap();
        assert_eq!(s.criteria(), r"(E:in:a\,b,x:y z,c\\d)");
        assert_eq!(
            s.prepare(&base, ApiVersion::V5).url(),
            "https://www.zohoapis.com/crm/v5/Contacts/search?criteria=(E:in:a%5C%2Cb,x%3Ay%20z,c%5C%5Cd)&per_page=5"
        );
        let next = s.next_page(&PageInfo { more_records: true, page: Some(1), ..PageInfo::default() }).unwrap();
        assert!(next.prepare(&base, ApiVersion::V5).url().ends_with("&page=2&per_page=5"));
    }

    #[test]
    fn rules() {
        let loc = |b: SearchRecordsBuilder| b.build().unwrap_err().location();
        assert_eq!(loc(SearchRecords::builder("Contacts", "E")), "values");
        assert_eq!(loc(SearchRecords::builder("Contacts", "E").values(["a", ""])), "values[1]");
        assert_eq!(loc(SearchRecords::builder("Contacts", "E").values(["a", "a"])), "values[1]");
        assert_eq!(loc(SearchRecords::builder("Contacts", "id").value("a")), "key");
        assert_eq!(loc(SearchRecords::builder("Contacts", "E").values((0..101).map(|i| i.to_string()))), "values");
        assert_eq!(SearchRecords::builder("Contacts", "E").value("a").build().unwrap().scope_op(), ScopeOp::Search);
    }
}
