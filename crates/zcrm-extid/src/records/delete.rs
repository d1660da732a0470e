//! "Delete Records (Using External ID)" (spec §2.6): `DELETE {Module}/{value}` or `DELETE {Module}?ids=v1,v2`
//! (1 to 100 values, none holding `,`, none twice). One outcome per value, in the order given.

use crate::call::Call;
use crate::config::{ApiVersion, BaseUrl};
use crate::error::{InvalidInput, Result};
use crate::external::{ExternalPair, XExternal};
use crate::names::ModuleName;
use crate::request::{Method, PreparedRequest};
use crate::scope::ScopeOp;
use crate::transport::HttpResponse;
use crate::url::push_segment;

use super::outcome::{RecordsResponse, parse_records};
use super::{RecordKey, check_ids, encode_query_value, push_query};

/// A validated delete. Build it with [`DeleteRecords::builder`].
///
/// ```
/// use zcrm_extid::records::DeleteRecords;
/// use zcrm_extid::{ApiVersion, BaseUrl};
/// let base = BaseUrl::parse("https://www.zohoapis.com")?;
/// let d = DeleteRecords::builder("Contacts").key("External_Contact_ID").ids(["extcontact3", "extcontact4"]).build()?;
/// let http = d.prepare(&base, ApiVersion::V7);
/// assert_eq!((http.method().as_str(), http.url()),
///     ("DELETE", "https://www.zohoapis.com/crm/v7/Contacts?ids=extcontact3,extcontact4"));
/// assert_eq!(http.headers(), [("X-EXTERNAL", "Contacts.External_Contact_ID".to_owned())]);
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRecords {
    module: ModuleName,
    key: RecordKey,
    single: bool,
    values: Vec<String>,
}

impl DeleteRecords {
    /// Starts a delete of `module`'s records.
    pub fn builder(module: impl Into<String>) -> DeleteRecordsBuilder {
        DeleteRecordsBuilder { module: module.into(), key: None, one: None, many: None }
    }

    /// The module.
    pub fn module(&self) -> &ModuleName {
        &self.module
    }

    /// The values (external values or record ids), in order.
    pub fn values(&self) -> &[String] {
        &self.values
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

    /// The HTTP request (without a token).
    pub fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        let mut url = format!("{}/crm/{}/{}", base.as_str(), version.as_str(), self.module);
        if self.single {
            push_segment(&mut url, &self.values[0]);
        } else {
            let ids = self.values.iter().map(|v| encode_query_value(v)).collect::<Vec<_>>().join(",");
            push_query(&mut url, &[("ids", ids)]);
        }
        let headers = self.x_external().map(|h| vec![("X-EXTERNAL", h.to_string())]).unwrap_or_default();
        PreparedRequest::new(Method::Delete, url, headers, Vec::new())
    }
}

impl Call for DeleteRecords {
    type Output = RecordsResponse;

    fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        DeleteRecords::prepare(self, base, version)
    }

    fn module(&self) -> &ModuleName {
        &self.module
    }

    fn scope_op(&self) -> ScopeOp {
        ScopeOp::Delete
    }

    fn parse(&self, response: &HttpResponse) -> Result<RecordsResponse> {
        parse_records(response, self.values.len())
    }
}

/// Builder for [`DeleteRecords`]; [`DeleteRecordsBuilder::build`] checks every rule.
#[derive(Debug, Clone)]
#[must_use]
pub struct DeleteRecordsBuilder {
    module: String,
    key: Option<String>,
    one: Option<String>,
    many: Option<Vec<String>>,
}

impl DeleteRecordsBuilder {
    /// Records are addressed by this external field of the module (default: record ids).
    pub fn key(mut self, field: impl Into<String>) -> Self {
        self.key = Some(field.into());
        self
    }

    /// Deletes one record: `DELETE {Module}/{value}`.
    pub fn id(mut self, value: impl Into<String>) -> Self {
        self.one = Some(value.into());
        self.many = None;
        self
    }

    /// Deletes these records: `DELETE {Module}?ids=v1,v2`.
    pub fn ids<S: Into<String>>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.many = Some(values.into_iter().map(Into::into).collect());
        self.one = None;
        self
    }

    /// Checks every rule and builds the delete.
    pub fn build(self) -> Result<DeleteRecords, InvalidInput> {
        let module = ModuleName::new(self.module)?;
        let key = RecordKey::parse(self.key.as_deref())?;
        let (single, values) = match (self.one, self.many) {
            (Some(v), _) => (true, vec![key.check_value(v, "id")?]),
            (None, Some(vs)) => (false, check_ids(&key, vs)?),
            (None, None) => {
                return Err(InvalidInput::new("ids", "give the record (`id`) or records (`ids`) to delete"));
            }
        };
        Ok(DeleteRecords { module, key, single, values })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_rules() {
        let base = BaseUrl::parse("https://www.zohoapis.com").unwrap();
        let one = DeleteRecords::builder("Contacts").key("E").id("a,b/c").build().unwrap();
        assert_eq!(one.prepare(&base, ApiVersion::V5).url(), "https://www.zohoapis.com/crm/v5/Contacts/a%2Cb%2Fc");
        let by_id = DeleteRecords::builder("Contacts").ids(["1", "2"]).build().unwrap();
        assert!(by_id.prepare(&base, ApiVersion::V5).headers().is_empty());
        let loc = |b: DeleteRecordsBuilder| b.build().unwrap_err().location();
        assert_eq!(loc(DeleteRecords::builder("Contacts")), "ids");
        assert_eq!(loc(DeleteRecords::builder("Contacts").key("E").ids(["a", "b,c"])), "ids[1]");
        assert_eq!(loc(DeleteRecords::builder("Contacts").id("abc")), "id");
    }
}
