//! "Delete (delink) Related Records (Using External ID)" (spec §2.2, §3.1): `DELETE
//! /crm/{v}/{Module}/{parent}/{RelatedList}/{related value}` for one related record, and
//! `DELETE .../{RelatedList}?ids=v1,v2` for up to 100 (§3.3, §5.5). The answer is one [`crate::Outcome`] per
//! value, in input order (200 all removed, 207 mixed, 400 none), read by [`crate::response::parse_outcomes`]
//! exactly as for the PUT.
//!
//! Choices where the documents are silent or contradict themselves (spec §11.6, §11.16; each tested):
//! * **The related pair in `X-EXTERNAL`.** Zoho's only sample (`DELETE .../Contacts/extcontact3/Deals/extdeal3`)
//!   sends `X-EXTERNAL: Contacts.External_Contact_ID`, naming only the base module, although `extdeal3` is the
//!   deal's `External_Deal_ID`. This client does not rely on the server guessing: when related records are named
//!   by an external field it always sends the related pair too (`Contacts.External_Contact_ID,
//!   Deals.External_Deal_ID`, base pair first as in the sample). The header is the only thing that tells an
//!   external value such as `583472934` from a record id (§11.4), and the same pairs then mean the same thing
//!   on PUT, GET and DELETE. When related records are named by record id, no related pair is sent (Case C).
//!   The emulator accepts both the sample's header and this one.
//! * **One value or a list.** One value goes in the path (the documented form, where any character is
//!   allowed); two or more go in `ids`, each percent-encoded, joined by `,`. A value containing `,` cannot be
//!   told from two values there, so a list with one is refused ([`InvalidInput`] at `ids[i]`); delete it on its
//!   own. `ids` values are external values exactly when the related records are keyed by an external field
//!   (§11.16; the OAS lists `ids` on this route, §2.2).
//! * At most 100 values per call; no value twice in one call.

use crate::call::Call;
use crate::config::{ApiVersion, BaseUrl};
use crate::error::{InvalidInput, Result};
use crate::names::{ModuleName, RelatedList};
use crate::related::{MAX_RECORDS, Parent, RelatedKey};
/// Whether a value may share an `ids` list with others (it has no `,`); the bulk unlink job sends others alone.
pub(crate) use crate::related_target::fits_ids_list;
use crate::related_target::{Relation, check_ids, check_value};
use crate::request::{Method, PreparedRequest};
use crate::response::{UpdateResponse, credits_remaining, parse_outcomes};
use crate::scope::ScopeOp;
use crate::transport::HttpResponse;
use crate::url::{push_query_list, push_segment};

/// Most related records per delete call (spec §3.3: "a maximum of 100 related records through an API call").
pub const MAX_DELETE: usize = MAX_RECORDS;

/// A validated "delete related records" request. Build it with [`DeleteRelated::builder`].
///
/// ```
/// use zcrm_extid::{ApiVersion, BaseUrl, DeleteRelated, Parent};
/// let zoho = BaseUrl::parse("https://www.zohoapis.com")?;
/// // The documented sample's URL (spec §2.2); the header also names the deal's external field (§11.6).
/// let one = DeleteRelated::builder("Contacts", Parent::external("External_Contact_ID", "extcontact3")?, "Deals")
///     .related_by_external("External_Deal_ID")
///     .value("extdeal3")
///     .build()?;
/// let http = one.prepare(&zoho, ApiVersion::V8);
/// assert_eq!(http.url(), "https://www.zohoapis.com/crm/v8/Contacts/extcontact3/Deals/extdeal3");
/// assert_eq!(http.headers(), [("X-EXTERNAL", "Contacts.External_Contact_ID,Deals.External_Deal_ID".to_owned())]);
/// // Several values: the `ids` form.
/// let many = DeleteRelated::builder("Contacts", Parent::id("111111000000085009")?, "Deals")
///     .values(["111111000000094028", "111111000000094040"])
///     .build()?;
/// assert!(many.prepare(&zoho, ApiVersion::V8).url().ends_with("/Deals?ids=111111000000094028,111111000000094040"));
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRelated {
    relation: Relation,
    values: Vec<String>,
}

impl DeleteRelated {
    /// Starts a delete on `module`'s record `parent`, related list `related_list`.
    pub fn builder(module: impl Into<String>, parent: Parent, related_list: impl Into<String>) -> DeleteRelatedBuilder {
        DeleteRelatedBuilder {
            module: module.into(),
            parent,
            related_list: related_list.into(),
            related_module: None,
            related_field: None,
            values: Vec::new(),
        }
    }

    /// A request from parts validated elsewhere, for the bulk engine: `values` (1 to [`MAX_DELETE`], distinct)
    /// each passed [`check_related_value`] for `key`, and, when there are two or more, [`fits_ids_list`]
    /// (a value with `,` must be sent alone). The module/parent/list/related-module/key combination must be one
    /// [`DeleteRelated::builder`] accepts (one X-EXTERNAL pair per module).
    pub(crate) fn from_validated(
        module: ModuleName,
        parent: Parent,
        related_list: RelatedList,
        related_module: ModuleName,
        key: RelatedKey,
        values: Vec<String>,
    ) -> DeleteRelated {
        debug_assert!((1..=MAX_DELETE).contains(&values.len()));
        debug_assert!(values.len() == 1 || values.iter().all(|v| fits_ids_list(v)));
        DeleteRelated { relation: Relation { module, parent, related_list, related_module, key }, values }
    }

    /// The base module.
    pub fn module(&self) -> &ModuleName {
        &self.relation.module
    }

    /// The parent record's address.
    pub fn parent(&self) -> &Parent {
        &self.relation.parent
    }

    /// How related records are named.
    pub fn key(&self) -> &RelatedKey {
        &self.relation.key
    }

    /// The related values, in input order (outcome `i` is value `i`'s).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// The URL path (and `ids` query) after the base URL.
    pub fn path(&self, version: ApiVersion) -> String {
        let r = &self.relation;
        let mut path = format!("/crm/{}/{}", version.as_str(), r.module);
        push_segment(&mut path, r.parent.path_value());
        path.push('/');
        path.push_str(r.related_list.as_str());
        match self.values.as_slice() {
            [one] => push_segment(&mut path, one),
            many => {
                path.push_str("?ids=");
                push_query_list(&mut path, many.iter().map(String::as_str));
            }
        }
        path
    }

    /// The HTTP request (without a token; the client adds it). No body.
    pub fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        let headers = match self.relation.x_external(true, false) {
            Some(h) => vec![("X-EXTERNAL", h.to_string())],
            None => Vec::new(),
        };
        PreparedRequest::new(Method::Delete, format!("{}{}", base.as_str(), self.path(version)), headers, Vec::new())
    }
}

/// Checks one related value of a delete (record id digits, or a non-empty external value) for a bulk job's row
/// `index`; the error is located at `ids[index]`. Whether it may share a call with others: [`fits_ids_list`].
pub(crate) fn check_related_value(key: &RelatedKey, index: usize, value: String) -> Result<String, InvalidInput> {
    check_value(key, "ids", Some(index), value)
}

impl Call for DeleteRelated {
    type Output = UpdateResponse;

    fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        DeleteRelated::prepare(self, base, version)
    }

    fn module(&self) -> &ModuleName {
        &self.relation.module
    }

    fn scope_op(&self) -> ScopeOp {
        ScopeOp::Delete
    }

    fn parse(&self, response: &HttpResponse) -> Result<UpdateResponse> {
        let outcomes =
            parse_outcomes(response.status, response.header("content-type"), &response.body, self.values.len())?;
        Ok(UpdateResponse { status: response.status, outcomes, credits_remaining: credits_remaining(response) })
    }
    fn path_template(&self, version: ApiVersion) -> String {
        let r = &self.relation;
        let one = (self.values.len() == 1).then_some(&r.key);
        crate::events::related_path(version, &r.module, &r.parent, &r.related_list, one)
    }

    fn record_count(&self) -> Option<usize> {
        Some(self.values.len())
    }
}

/// Builder for [`DeleteRelated`]; [`DeleteRelatedBuilder::build`] validates everything.
#[derive(Debug, Clone)]
#[must_use]
pub struct DeleteRelatedBuilder {
    module: String,
    parent: Parent,
    related_list: String,
    related_module: Option<String>,
    related_field: Option<String>,
    values: Vec<String>,
}

impl DeleteRelatedBuilder {
    /// The related module, when it differs from the related list's name.
    pub fn related_module(mut self, module: impl Into<String>) -> Self {
        self.related_module = Some(module.into());
        self
    }

    /// Related records are named by this external field of the related module.
    pub fn related_by_external(mut self, field: impl Into<String>) -> Self {
        self.related_field = Some(field.into());
        self
    }

    /// Related records are named by record id (the default).
    pub fn related_by_id(mut self) -> Self {
        self.related_field = None;
        self
    }

    /// Adds one related record to unlink.
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.values.push(value.into());
        self
    }

    /// Adds related records to unlink.
    pub fn values<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.values.extend(values.into_iter().map(Into::into));
        self
    }

    /// Validates and builds the request; the first problem found is returned, naming its argument (`ids[i]` for
    /// a value).
    pub fn build(self) -> Result<DeleteRelated, InvalidInput> {
        let relation =
            Relation::new(self.module, self.parent, self.related_list, self.related_module, self.related_field)?;
        relation.check_sides(true)?;
        let values = match self.values.len() {
            0 => return Err(InvalidInput::new("ids", "needs at least one related record to unlink")),
            1 => {
                let one = self.values.into_iter().next().expect("one");
                vec![check_value(&relation.key, "ids", Some(0), one)?]
            }
            _ => check_ids(&relation.key, self.values, MAX_DELETE)?,
        };
        Ok(DeleteRelated { relation, values })
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
    fn header_per_addressing() {
        let by_id = DeleteRelated::builder("Contacts", ext(), "Deals").value("111111000000094028").build().unwrap();
        assert_eq!(by_id.prepare(&base(), ApiVersion::V8).headers()[0].1, "Contacts.External_Contact_ID");
        let plain = DeleteRelated::builder("Contacts", Parent::id("1").unwrap(), "Deals").value("2").build().unwrap();
        assert!(plain.prepare(&base(), ApiVersion::V8).headers().is_empty());
        let related_only = DeleteRelated::builder("Contacts", Parent::id("1").unwrap(), "Deals")
            .related_by_external("External_Deal_ID")
            .values(["a", "b"])
            .build()
            .unwrap();
        let p = related_only.prepare(&base(), ApiVersion::V5);
        assert_eq!(p.headers()[0].1, "Deals.External_Deal_ID");
        assert_eq!((p.method(), p.body()), (Method::Delete, &b""[..]));
    }

    #[test]
    fn hostile_values() {
        let one = DeleteRelated::builder("Contacts", ext(), "Deals")
            .related_by_external("External_Deal_ID")
            .value("a,b/../c?d#e")
            .build()
            .unwrap();
        assert!(one.path(ApiVersion::V8).ends_with("/Deals/a%2Cb%2F..%2Fc%3Fd%23e"));
        let e = DeleteRelated::builder("Contacts", ext(), "Deals")
            .related_by_external("External_Deal_ID")
            .values(["x", "a,b"])
            .build()
            .unwrap_err();
        assert_eq!(e.location(), "ids[1]");
    }

    #[test]
    fn each_rule_names_its_argument() {
        let b = || DeleteRelated::builder("Contacts", Parent::id("1").unwrap(), "Deals");
        let cases = [
            (b().build(), "ids"),
            (b().value("x").build(), "ids[0]"),
            (b().values(["1", ""]).build(), "ids[1]"),
            (b().values(["1", "1"]).build(), "ids[1]"),
            (b().values((0..101).map(|i| i.to_string())).build(), "ids"),
            (b().related_module("Bad-Name").value("1").build(), "related_module"),
        ];
        for (i, (result, location)) in cases.into_iter().enumerate() {
            assert_eq!(result.unwrap_err().location(), location, "case {i}");
        }
        assert!(b().values((0..100).map(|i| i.to_string())).build().is_ok());
    }

    #[test]
    fn the_bulk_constructor_matches_the_builder() {
        let key = RelatedKey::External("External_Deal_ID".parse().unwrap());
        let values: Vec<String> = ["d1", "d2"]
            .iter()
            .enumerate()
            .map(|(i, v)| check_related_value(&key, i, v.to_string()).unwrap())
            .collect();
        let built = DeleteRelated::builder("Contacts", ext(), "Deals")
            .related_by_external("External_Deal_ID")
            .values(values.clone())
            .build()
            .unwrap();
        let direct = DeleteRelated::from_validated(
            "Contacts".parse().unwrap(),
            ext(),
            "Deals".parse().unwrap(),
            "Deals".parse().unwrap(),
            key.clone(),
            values,
        );
        assert_eq!(built, direct);
        assert_eq!(check_related_value(&RelatedKey::Id, 7, "x".into()).unwrap_err().location(), "ids[7]");
        assert!(!fits_ids_list("a,b"));
    }
}
