//! "Get Records (Using External ID)" (spec §2.3): `GET {Module}/{value}`, `GET {Module}?ids=v1,v2&fields=..`, and
//! the whole module page by page, `GET {Module}?fields=..&page=..`.
//!
//! Rules (each an [`InvalidInput`] before sending): a single value is a record id, or a non-empty external value
//! when a key is given; `ids` has 1 to 100 values, none twice, none holding `,`; `fields` has 1 to 50 API names
//! (required when reading the whole module, as Zoho's list API requires it since v3); a single record has no
//! pages, so `page`/`per_page`/`page_token` go with the list forms only; reading the whole module takes no key
//! (there is nothing to address). No match is an empty page (Zoho's 204), not an error.

use crate::call::Call;
use crate::config::{ApiVersion, BaseUrl};
use crate::error::{InvalidInput, Result};
use crate::external::{ExternalPair, XExternal};
use crate::names::{FieldName, ModuleName};
use crate::request::{Method, PreparedRequest};
use crate::scope::ScopeOp;
use crate::transport::HttpResponse;
use crate::url::push_segment;

use super::pages::{PageInfo, Paged, RecordsPage, next_cursor, parse_page};
use super::{RecordKey, check_fields, check_ids, check_paging, encode_query_value, push_query};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    One(String),
    Many(Vec<String>),
    All,
}

/// A validated records read. Build it with [`GetRecords::builder`].
///
/// ```
/// use zcrm_extid::records::GetRecords;
/// use zcrm_extid::{ApiVersion, BaseUrl};
/// let base = BaseUrl::parse("https://www.zohoapis.com")?;
/// let one = GetRecords::builder("Contacts").key("External_Contact_ID").id("extcontact3").build()?;
/// let http = one.prepare(&base, ApiVersion::V8);
/// assert_eq!(http.url(), "https://www.zohoapis.com/crm/v8/Contacts/extcontact3");
/// assert_eq!(http.headers(), [("X-EXTERNAL", "Contacts.External_Contact_ID".to_owned())]);
/// let many = GetRecords::builder("Contacts").key("External_Contact_ID")
///     .ids(["ext1", "ext2"]).fields(["Last_Name", "Account_Name"]).build()?;
/// assert_eq!(many.prepare(&base, ApiVersion::V8).url(),
///     "https://www.zohoapis.com/crm/v8/Contacts?ids=ext1,ext2&fields=Last_Name,Account_Name");
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRecords {
    module: ModuleName,
    key: RecordKey,
    target: Target,
    fields: Vec<FieldName>,
    page: Option<u32>,
    per_page: Option<u32>,
    page_token: Option<String>,
}

impl GetRecords {
    /// Starts a read of `module`.
    pub fn builder(module: impl Into<String>) -> GetRecordsBuilder {
        GetRecordsBuilder { module: module.into(), ..GetRecordsBuilder::default() }
    }

    /// The module.
    pub fn module(&self) -> &ModuleName {
        &self.module
    }

    /// How records are addressed.
    pub fn key(&self) -> &RecordKey {
        &self.key
    }

    /// Whether this reads one record (`GET {Module}/{value}`).
    pub fn is_single(&self) -> bool {
        matches!(self.target, Target::One(_))
    }

    /// `X-EXTERNAL: {Module}.{key}` when the key is an external field.
    pub fn x_external(&self) -> Option<XExternal> {
        match &self.key {
            RecordKey::External(f) => {
                Some(XExternal::new(vec![ExternalPair::simple(self.module.clone(), f.clone())]).expect("one pair"))
            }
            RecordKey::Id => None,
        }
    }

    /// The path and query after the base URL.
    pub fn path(&self, version: ApiVersion) -> String {
        let mut path = format!("/crm/{}/{}", version.as_str(), self.module);
        let mut query = Vec::new();
        match &self.target {
            Target::One(v) => push_segment(&mut path, v),
            Target::Many(ids) => {
                query.push(("ids", ids.iter().map(|v| encode_query_value(v)).collect::<Vec<_>>().join(",")))
            }
            Target::All => {}
        }
        if !self.fields.is_empty() {
            query.push(("fields", self.fields.iter().map(FieldName::as_str).collect::<Vec<_>>().join(",")));
        }
        if let Some(p) = self.page {
            query.push(("page", p.to_string()));
        }
        if let Some(p) = self.per_page {
            query.push(("per_page", p.to_string()));
        }
        if let Some(t) = &self.page_token {
            query.push(("page_token", encode_query_value(t)));
        }
        push_query(&mut path, &query);
        path
    }

    /// The HTTP request (without a token).
    pub fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        let headers = self.x_external().map(|h| vec![("X-EXTERNAL", h.to_string())]).unwrap_or_default();
        PreparedRequest::new(Method::Get, format!("{}{}", base.as_str(), self.path(version)), headers, Vec::new())
    }
}

impl Call for GetRecords {
    type Output = RecordsPage;

    fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        GetRecords::prepare(self, base, version)
    }

    fn module(&self) -> &ModuleName {
        &self.module
    }

    fn scope_op(&self) -> ScopeOp {
        ScopeOp::Read
    }

    fn parse(&self, response: &HttpResponse) -> Result<RecordsPage> {
        parse_page(response)
    }
}

impl Paged for GetRecords {
    fn next_page(&self, info: &PageInfo) -> Option<GetRecords> {
        if self.is_single() {
            return None;
        }
        let (page, page_token) = next_cursor(self.page, info)?;
        Some(GetRecords { page, page_token, ..self.clone() })
    }
}

/// Builder for [`GetRecords`]; [`GetRecordsBuilder::build`] checks every rule.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct GetRecordsBuilder {
    module: String,
    key: Option<String>,
    one: Option<String>,
    many: Option<Vec<String>>,
    fields: Option<Vec<String>>,
    page: Option<u32>,
    per_page: Option<u32>,
    page_token: Option<String>,
}

impl GetRecordsBuilder {
    /// Records are addressed by this external field of the module (default: record ids).
    pub fn key(mut self, field: impl Into<String>) -> Self {
        self.key = Some(field.into());
        self
    }

    /// Reads one record: `GET {Module}/{value}`.
    pub fn id(mut self, value: impl Into<String>) -> Self {
        self.one = Some(value.into());
        self.many = None;
        self
    }

    /// Reads these records: `GET {Module}?ids=v1,v2`.
    pub fn ids<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.many = Some(values.into_iter().map(Into::into).collect());
        self.one = None;
        self
    }

    /// The fields to return.
    pub fn fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// The page to read (list forms; from 1).
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// Records per page (list forms; 1 to 200).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// The `next_page_token` of a previous page (list forms; not with `page`).
    pub fn page_token(mut self, token: impl Into<String>) -> Self {
        self.page_token = Some(token.into());
        self
    }

    /// Checks every rule and builds the read.
    pub fn build(self) -> Result<GetRecords, InvalidInput> {
        let module = ModuleName::new(self.module)?;
        let key = RecordKey::parse(self.key.as_deref())?;
        let target = match (self.one, self.many) {
            (Some(v), _) => Target::One(key.check_value(v, "id")?),
            (None, Some(ids)) => Target::Many(check_ids(&key, ids)?),
            (None, None) if key != RecordKey::Id => {
                return Err(InvalidInput::new(
                    "key",
                    "reading the whole module addresses no record; give `id` or `ids` with a key",
                ));
            }
            (None, None) => Target::All,
        };
        let fields = match self.fields {
            Some(f) => check_fields(f)?,
            None if target == Target::All => {
                return Err(InvalidInput::new("fields", "is required to read a whole module (Zoho requires it)"));
            }
            None => Vec::new(),
        };
        if matches!(target, Target::One(_)) {
            for (name, set) in [
                ("page", self.page.is_some()),
                ("per_page", self.per_page.is_some()),
                ("page_token", self.page_token.is_some()),
            ] {
                if set {
                    return Err(InvalidInput::new(name, "a single record has no pages; use `ids` to page"));
                }
            }
        }
        check_paging(self.page, self.per_page, self.page_token.as_deref())?;
        Ok(GetRecords {
            module,
            key,
            target,
            fields,
            page: self.page,
            per_page: self.per_page,
            page_token: self.page_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BaseUrl {
        BaseUrl::parse("https://www.zohoapis.com").unwrap()
    }

    #[test]
    fn the_three_forms() {
        let all = GetRecords::builder("Deals").fields(["Deal_Name"]).per_page(200).build().unwrap();
        assert_eq!(
            all.prepare(&base(), ApiVersion::V5).url(),
            "https://www.zohoapis.com/crm/v5/Deals?fields=Deal_Name&per_page=200"
        );
        assert!(all.prepare(&base(), ApiVersion::V5).headers().is_empty());
        let odd = GetRecords::builder("Contacts").key("E").id("a/b?c").build().unwrap();
        assert_eq!(odd.prepare(&base(), ApiVersion::V5).url(), "https://www.zohoapis.com/crm/v5/Contacts/a%2Fb%3Fc");
        let ids = GetRecords::builder("Contacts").key("E").ids(["a b", "ü"]).page(2).build().unwrap();
        assert_eq!(
            ids.prepare(&base(), ApiVersion::V5).url(),
            "https://www.zohoapis.com/crm/v5/Contacts?ids=a%20b,%C3%BC&page=2"
        );
        let by_id = GetRecords::builder("Contacts").ids(["1", "2"]).build().unwrap();
        assert!(by_id.x_external().is_none());
    }

    #[test]
    fn rules() {
        let loc = |b: GetRecordsBuilder| b.build().unwrap_err().location();
        assert_eq!(loc(GetRecords::builder("Deals")), "fields");
        assert_eq!(loc(GetRecords::builder("Deals").key("E").fields(["A"])), "key");
        assert_eq!(loc(GetRecords::builder("Deals").id("x")), "id");
        assert_eq!(loc(GetRecords::builder("Deals").key("E").id("")), "id");
        assert_eq!(loc(GetRecords::builder("Deals").key("E").id("x").page(1)), "page");
        assert_eq!(loc(GetRecords::builder("Deals").key("E").ids(["x", "x"])), "ids[1]");
        assert_eq!(loc(GetRecords::builder("Dea ls").key("E").id("x")), "module");
        assert_eq!(loc(GetRecords::builder("Deals").key("E").ids(["x"]).page(1).page_token("t")), "page_token");
    }

    #[test]
    fn next_pages() {
        let r = GetRecords::builder("Deals").fields(["A"]).build().unwrap();
        let info = PageInfo { more_records: true, page: Some(1), ..PageInfo::default() };
        let next = r.next_page(&info).unwrap();
        assert!(next.path(ApiVersion::V5).ends_with("?fields=A&page=2"));
        let tok = PageInfo { next_page_token: Some("t k".into()), ..info };
        assert!(r.next_page(&tok).unwrap().path(ApiVersion::V5).ends_with("?fields=A&page_token=t%20k"));
        let one = GetRecords::builder("Deals").key("E").id("x").build().unwrap();
        assert!(one.next_page(&PageInfo { more_records: true, ..PageInfo::default() }).is_none());
    }
}
