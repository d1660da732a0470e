//! "Get Related Records (Using External ID)" (spec §2.1, §3.2): `GET /crm/{v}/{Module}/{parent}/{RelatedList}`
//! (the list) or `.../{RelatedList}/{related value}` (one related record).
//!
//! | request | URL | `X-EXTERNAL` |
//! |---|---|---|
//! | list, parent external | `/Contacts/583472934/Deals?fields=Closing_Date,Stage,Account_Name` | `Contacts.External_Contact_ID` (§2.1 list sample) |
//! | one, both external | `/Contacts/extcontact3/Deals/externaldeal3` | `Deals.External_Deal_ID,Contacts.External_Contact_ID` (§2.1 single sample) |
//! | list with `ids`, related keyed by external | `/Contacts/extcontact3/Deals?fields=...&ids=a,b` | `Deals.External_Deal_ID,Contacts.External_Contact_ID` |
//! | parent and related by record id | `/Contacts/111111000000085009/Deals?fields=...` | *(none)* |
//!
//! Choices where the documents are silent or loose (each tested):
//! * **Pair order.** The related pair comes first, as in the single-record sample; order means nothing to Zoho
//!   (§1.2, §11.5). The related pair is sent only when the request names related records (the single form or
//!   `ids`): a list read names none, as the list sample shows.
//! * **`ids` values** (§11.16) are read like the trailing segment: the related module's external values when
//!   related records are keyed by an external field (`related_by_external`, which puts the related pair in the
//!   header), else record ids. At most 100 (Zoho's limit for `ids` elsewhere, §5.5). A value with `,` cannot be
//!   told from two values, so it is refused ([`crate::InvalidInput`] at `ids[i]`); read it with the single form.
//! * **`fields`** is required for the list form from v5 on (§2.1: a typed error before sending, not Zoho's
//!   `REQUIRED_PARAM_MISSING`); the single form's sample has none, so there it is optional. Field names are API
//!   names, sent comma-separated in the order given.
//! * **Paging**: `per_page` 1..=200, `page` >= 1; `page_token` exists from v7 on and excludes `page` (§3.2). The
//!   single form takes none of them. These version rules are checked by [`Call::check`] when the client sends
//!   (or prepares) the call, since the version is the client's.
//! * **`If-Modified-Since`** is an ISO 8601 date-time with a zone ([`crate::datetime`]); a 304 is
//!   [`RelatedResponse::NotModified`], not an error.

use crate::call::Call;
use crate::config::{ApiVersion, BaseUrl};
use crate::error::{InvalidInput, Result};
use crate::names::{FieldName, ModuleName};
use crate::related::{Parent, RelatedKey};
use crate::related_rows::{RelatedResponse, parse_related};
use crate::related_target::{Relation, check_ids, check_value};
use crate::request::{Method, PreparedRequest};
use crate::response::credits_remaining;
use crate::scope::ScopeOp;
use crate::transport::HttpResponse;
use crate::url::{push_query_list, push_segment};

/// Most records per page, and the default (spec §2.1, §3.2).
pub const MAX_PER_PAGE: u32 = 200;
/// Most values in `ids` (Zoho's limit for `ids` lists, spec §5.5).
pub const MAX_IDS: usize = 100;
/// `page`-based reads reach at most this many records; past them Zoho needs `page_token` (spec §3.2, §5.5).
pub const PAGE_RECORD_LIMIT: u64 = 2000;

/// Which related records a read asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelatedTarget {
    /// All of them, page by page.
    All,
    /// One, by its related value, in the path.
    One(String),
    /// Those named in `ids`.
    Ids(Vec<String>),
}

/// Where a read starts: the `page` or `page_token` it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cursor {
    Page(u32),
    Token(String),
}

/// A validated "get related records" request. Build it with [`GetRelated::builder`].
///
/// ```
/// use zcrm_extid::{ApiVersion, BaseUrl, GetRelated, Parent};
/// let zoho = BaseUrl::parse("https://www.zohoapis.com")?;
/// // The documented list sample (spec §2.1).
/// let list = GetRelated::builder("Contacts", Parent::external("External_Contact_ID", "583472934")?, "Deals")
///     .fields(["Closing_Date", "Stage", "Account_Name"])
///     .build()?;
/// let http = list.prepare(&zoho, ApiVersion::V7);
/// assert_eq!(http.url(), "https://www.zohoapis.com/crm/v7/Contacts/583472934/Deals?fields=Closing_Date,Stage,Account_Name");
/// assert_eq!(http.headers(), [("X-EXTERNAL", "Contacts.External_Contact_ID".to_owned())]);
/// // The documented single-record sample.
/// let one = GetRelated::builder("Contacts", Parent::external("External_Contact_ID", "extcontact3")?, "Deals")
///     .related_by_external("External_Deal_ID")
///     .related("externaldeal3")
///     .build()?;
/// let http = one.prepare(&zoho, ApiVersion::V7);
/// assert_eq!(http.url(), "https://www.zohoapis.com/crm/v7/Contacts/extcontact3/Deals/externaldeal3");
/// assert_eq!(http.headers()[0].1, "Deals.External_Deal_ID,Contacts.External_Contact_ID");
/// // `fields` is required for a list from v5 on: checked before anything is sent.
/// let bare = GetRelated::builder("Contacts", Parent::id("111111000000085009")?, "Deals").build()?;
/// assert_eq!(bare.check_version(ApiVersion::V5).unwrap_err().argument, "fields");
/// assert!(bare.check_version(ApiVersion::V2_1).is_ok());
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRelated {
    relation: Relation,
    target: RelatedTarget,
    fields: Vec<FieldName>,
    page: Option<u32>,
    per_page: Option<u32>,
    page_token: Option<String>,
    if_modified_since: Option<String>,
}

impl GetRelated {
    /// Starts a read of `module`'s record `parent`, related list `related_list`.
    pub fn builder(module: impl Into<String>, parent: Parent, related_list: impl Into<String>) -> GetRelatedBuilder {
        GetRelatedBuilder {
            module: module.into(),
            parent,
            related_list: related_list.into(),
            related_module: None,
            related_field: None,
            one: None,
            ids: None,
            fields: Vec::new(),
            page: None,
            per_page: None,
            page_token: None,
            if_modified_since: None,
        }
    }

    /// The base module.
    pub fn module(&self) -> &ModuleName {
        &self.relation.module
    }

    /// The parent record's address.
    pub fn parent(&self) -> &Parent {
        &self.relation.parent
    }

    /// How related records are named (in the path or `ids`).
    pub fn key(&self) -> &RelatedKey {
        &self.relation.key
    }

    /// Which related records are read.
    pub fn target(&self) -> &RelatedTarget {
        &self.target
    }

    /// The fields asked for.
    pub fn fields(&self) -> &[FieldName] {
        &self.fields
    }

    /// `per_page`, if set (Zoho's default is 200).
    pub fn per_page(&self) -> Option<u32> {
        self.per_page
    }

    /// `page`, if set.
    pub fn page(&self) -> Option<u32> {
        self.page
    }

    /// `If-Modified-Since`, as sent.
    pub fn if_modified_since(&self) -> Option<&str> {
        self.if_modified_since.as_deref()
    }

    /// The rules that depend on the API version: `fields` for a list from v5 on, `page_token` only from v7 on.
    pub fn check_version(&self, version: ApiVersion) -> Result<(), InvalidInput> {
        if self.fields.is_empty() && !matches!(self.target, RelatedTarget::One(_)) && version >= ApiVersion::V5 {
            return Err(InvalidInput::new(
                "fields",
                format!(
                    "is required to list related records from API v5 on ({version} here; Zoho answers REQUIRED_PARAM_MISSING): name the fields to return, e.g. Deal_Name,Stage"
                ),
            ));
        }
        if self.page_token.is_some() && !has_page_tokens(version) {
            return Err(InvalidInput::new("page_token", format!("exists from API v7 on ({version} here); use page")));
        }
        Ok(())
    }

    /// The same read from `cursor` (the auto-pager's next page).
    pub(crate) fn at(&self, cursor: &Cursor) -> GetRelated {
        let mut next = self.clone();
        match cursor {
            Cursor::Page(n) => {
                next.page = Some(*n);
                next.page_token = None;
            }
            Cursor::Token(t) => {
                next.page = None;
                next.page_token = Some(t.clone());
            }
        }
        next
    }

    /// The URL path and query after the base URL.
    pub fn path(&self, version: ApiVersion) -> String {
        let r = &self.relation;
        let mut path = format!("/crm/{}/{}", version.as_str(), r.module);
        push_segment(&mut path, r.parent.path_value());
        path.push('/');
        path.push_str(r.related_list.as_str());
        if let RelatedTarget::One(value) = &self.target {
            push_segment(&mut path, value);
        }
        let mut sep = '?';
        let mut param = |path: &mut String, name: &str| {
            path.push(sep);
            path.push_str(name);
            path.push('=');
            sep = '&';
        };
        if !self.fields.is_empty() {
            param(&mut path, "fields");
            push_query_list(&mut path, self.fields.iter().map(FieldName::as_str));
        }
        if let RelatedTarget::Ids(ids) = &self.target {
            param(&mut path, "ids");
            push_query_list(&mut path, ids.iter().map(String::as_str));
        }
        if let Some(page) = self.page {
            param(&mut path, "page");
            path.push_str(&page.to_string());
        }
        if let Some(per_page) = self.per_page {
            param(&mut path, "per_page");
            path.push_str(&per_page.to_string());
        }
        if let Some(token) = &self.page_token {
            param(&mut path, "page_token");
            push_query_list(&mut path, [token.as_str()]);
        }
        path
    }

    /// The HTTP request (without a token; the client adds it). Version rules are not checked here: see
    /// [`GetRelated::check_version`].
    pub fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        let mut headers = Vec::with_capacity(2);
        let names_related = !matches!(self.target, RelatedTarget::All);
        if let Some(h) = self.relation.x_external(names_related, true) {
            headers.push(("X-EXTERNAL", h.to_string()));
        }
        if let Some(since) = &self.if_modified_since {
            headers.push(("If-Modified-Since", since.clone()));
        }
        PreparedRequest::new(Method::Get, format!("{}{}", base.as_str(), self.path(version)), headers, Vec::new())
    }
}

/// Whether `version` pages with `page_token` (`info.next_page_token` appears from v7 on, spec §2.1, §8).
pub fn has_page_tokens(version: ApiVersion) -> bool {
    version >= ApiVersion::V7
}

impl Call for GetRelated {
    type Output = RelatedResponse;

    fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        GetRelated::prepare(self, base, version)
    }

    fn module(&self) -> &ModuleName {
        &self.relation.module
    }

    fn scope_op(&self) -> ScopeOp {
        ScopeOp::Read
    }

    fn check(&self, version: ApiVersion) -> Result<(), InvalidInput> {
        self.check_version(version)
    }

    fn parse(&self, response: &HttpResponse) -> Result<RelatedResponse> {
        parse_related(response.status, response.header("content-type"), &response.body, credits_remaining(response))
    }
    fn path_template(&self, version: ApiVersion) -> String {
        let r = &self.relation;
        let one = matches!(self.target, RelatedTarget::One(_)).then_some(&r.key);
        crate::events::related_path(version, &r.module, &r.parent, &r.related_list, one)
    }
}

/// Builder for [`GetRelated`]; [`GetRelatedBuilder::build`] validates everything but the version rules.
#[derive(Debug, Clone)]
#[must_use]
pub struct GetRelatedBuilder {
    module: String,
    parent: Parent,
    related_list: String,
    related_module: Option<String>,
    related_field: Option<String>,
    one: Option<String>,
    ids: Option<Vec<String>>,
    fields: Vec<String>,
    page: Option<u32>,
    per_page: Option<u32>,
    page_token: Option<String>,
    if_modified_since: Option<String>,
}

impl GetRelatedBuilder {
    /// The related module, when it differs from the related list's name.
    pub fn related_module(mut self, module: impl Into<String>) -> Self {
        self.related_module = Some(module.into());
        self
    }

    /// Related records (in the path or `ids`) are named by this external field of the related module.
    pub fn related_by_external(mut self, field: impl Into<String>) -> Self {
        self.related_field = Some(field.into());
        self
    }

    /// Related records are named by record id (the default).
    pub fn related_by_id(mut self) -> Self {
        self.related_field = None;
        self
    }

    /// Read one related record: `.../{RelatedList}/{value}`.
    pub fn related(mut self, value: impl Into<String>) -> Self {
        self.one = Some(value.into());
        self
    }

    /// Read only these related records: `ids=v1,v2` (at most 100).
    pub fn ids<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.ids = Some(values.into_iter().map(Into::into).collect());
        self
    }

    /// The fields to return (API names), in addition to those given before.
    pub fn fields<S: Into<String>>(mut self, fields: impl IntoIterator<Item = S>) -> Self {
        self.fields.extend(fields.into_iter().map(Into::into));
        self
    }

    /// `page` (1-based).
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page);
        self
    }

    /// `per_page`, 1 to 200.
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = Some(per_page);
        self
    }

    /// `page_token` (v7+), the `next_page_token` of an earlier page.
    pub fn page_token(mut self, token: impl Into<String>) -> Self {
        self.page_token = Some(token.into());
        self
    }

    /// `If-Modified-Since`, e.g. `2019-07-25T15:26:49+05:30`.
    pub fn if_modified_since(mut self, when: impl Into<String>) -> Self {
        self.if_modified_since = Some(when.into());
        self
    }

    /// Validates and builds the request; the first problem found is returned, naming its argument.
    pub fn build(self) -> Result<GetRelated, InvalidInput> {
        let names_related = self.one.is_some() || self.ids.is_some();
        let relation =
            Relation::new(self.module, self.parent, self.related_list, self.related_module, self.related_field)?;
        relation.check_sides(names_related)?;
        let target = match (self.one, self.ids) {
            (Some(_), Some(_)) => {
                return Err(InvalidInput::new("ids", "cannot be combined with a single related record"));
            }
            (Some(value), None) => RelatedTarget::One(check_value(&relation.key, "related", None, value)?),
            (None, Some(ids)) => RelatedTarget::Ids(check_ids(&relation.key, ids, MAX_IDS)?),
            (None, None) => RelatedTarget::All,
        };
        let fields = self
            .fields
            .into_iter()
            .enumerate()
            .map(|(i, f)| FieldName::new(f).map_err(|e| InvalidInput::new("fields", e.message).at(i)))
            .collect::<Result<Vec<_>, _>>()?;
        if matches!(target, RelatedTarget::One(_)) {
            for (name, set) in [
                ("page", self.page.is_some()),
                ("per_page", self.per_page.is_some()),
                ("page_token", self.page_token.is_some()),
            ] {
                if set {
                    return Err(InvalidInput::new(name, "does not apply to a single related record"));
                }
            }
        }
        if let Some(n) = self.per_page
            && !(1..=MAX_PER_PAGE).contains(&n)
        {
            return Err(InvalidInput::new("per_page", format!("is {n}; Zoho returns 1 to {MAX_PER_PAGE} per page")));
        }
        if self.page == Some(0) {
            return Err(InvalidInput::new("page", "is 1-based: the first page is 1"));
        }
        if let Some(token) = &self.page_token {
            if token.is_empty() {
                return Err(InvalidInput::new("page_token", "must not be empty"));
            }
            if self.page.is_some() {
                return Err(InvalidInput::new("page_token", "cannot be combined with page (spec §3.2)"));
            }
        }
        let if_modified_since =
            self.if_modified_since.map(|t| crate::datetime::normalize(&t, "if_modified_since")).transpose()?;
        Ok(GetRelated {
            relation,
            target,
            fields,
            page: self.page,
            per_page: self.per_page,
            page_token: self.page_token,
            if_modified_since,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BaseUrl {
        BaseUrl::parse("https://www.zohoapis.com").unwrap()
    }

    fn ext() -> Parent {
        Parent::external("External_Contact_ID", "extcontact3").unwrap()
    }

    #[test]
    fn ids_and_paging_in_the_query() {
        let r = GetRelated::builder("Contacts", ext(), "Deals")
            .related_by_external("External_Deal_ID")
            .fields(["Deal_Name", "Stage"])
            .ids(["a b", "x&y", "ü/1"])
            .page(2)
            .per_page(50)
            .if_modified_since("2019-07-25T15:26:49Z")
            .build()
            .unwrap();
        let p = r.prepare(&base(), ApiVersion::V5);
        assert_eq!(
            p.url(),
            "https://www.zohoapis.com/crm/v5/Contacts/extcontact3/Deals?fields=Deal_Name,Stage&ids=a%20b,x%26y,%C3%BC%2F1&page=2&per_page=50"
        );
        assert_eq!(
            p.headers(),
            [
                ("X-EXTERNAL", "Deals.External_Deal_ID,Contacts.External_Contact_ID".to_owned()),
                ("If-Modified-Since", "2019-07-25T15:26:49+00:00".to_owned())
            ]
        );
        let t = r.at(&Cursor::Token("tok/=+".into()));
        assert!(t.prepare(&base(), ApiVersion::V8).url().ends_with("&per_page=50&page_token=tok%2F%3D%2B"));
        assert!(!t.path(ApiVersion::V8).contains("page=2"));
    }

    #[test]
    fn each_rule_names_its_argument() {
        let b = || GetRelated::builder("Contacts", Parent::id("1").unwrap(), "Deals");
        let cases = [
            (b().per_page(0).build(), "per_page"),
            (b().per_page(201).build(), "per_page"),
            (b().page(0).build(), "page"),
            (b().page(1).page_token("t").build(), "page_token"),
            (b().page_token("").build(), "page_token"),
            (b().related("1").page(2).build(), "page"),
            (b().related("1").ids(["2"]).build(), "ids"),
            (b().related("abc").build(), "related"),
            (b().ids(["1", "x"]).build(), "ids[1]"),
            (b().ids(["1", "2", "1"]).build(), "ids[2]"),
            (b().related_by_external("F").ids(["a", "b,c"]).build(), "ids[1]"),
            (b().ids(Vec::<String>::new()).build(), "ids"),
            (b().ids((0..101).map(|i| i.to_string())).build(), "ids"),
            (b().fields(["Stage", "Deal Name"]).build(), "fields[1]"),
            (b().if_modified_since("yesterday").build(), "if_modified_since"),
            (b().related_by_external("id").build(), "related_field"),
            (GetRelated::builder("Contacts", ext(), "Contacts").build(), "x_external"),
            (
                GetRelated::builder("Contacts", Parent::id("1").unwrap(), "Contacts")
                    .related_by_external("F")
                    .related("x")
                    .build(),
                "x_external",
            ),
        ];
        // A list of the module's own related records by id names no related record: no pair, no conflict.
        assert!(
            GetRelated::builder("Contacts", Parent::id("1").unwrap(), "Contacts")
                .related_by_external("F")
                .build()
                .is_ok()
        );
        for (i, (result, location)) in cases.into_iter().enumerate() {
            assert_eq!(result.unwrap_err().location(), location, "case {i}");
        }
        // A value with `,` is fine in the path.
        assert!(b().related_by_external("F").related("b,c").build().is_ok());
    }

    #[test]
    fn version_rules() {
        let list = GetRelated::builder("Contacts", ext(), "Deals").build().unwrap();
        for v in ApiVersion::ALL {
            assert_eq!(list.check_version(v).is_ok(), v < ApiVersion::V5, "{v}");
        }
        let one = GetRelated::builder("Contacts", ext(), "Deals").related("123").build().unwrap();
        assert!(ApiVersion::ALL.iter().all(|v| one.check_version(*v).is_ok()));
        let token = GetRelated::builder("Contacts", ext(), "Deals").fields(["Stage"]).page_token("t").build().unwrap();
        assert_eq!(token.check_version(ApiVersion::V6).unwrap_err().argument, "page_token");
        assert!(token.check_version(ApiVersion::V7).is_ok());
    }

    #[test]
    fn a_list_read_sends_no_related_pair() {
        let r = GetRelated::builder("Contacts", Parent::id("1").unwrap(), "Deals")
            .related_by_external("External_Deal_ID")
            .fields(["Stage"])
            .build()
            .unwrap();
        assert!(r.prepare(&base(), ApiVersion::V8).headers().is_empty());
    }
}
