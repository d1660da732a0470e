//! [`Client`] methods of the read and unlink operations ([`GetRelated`], [`DeleteRelated`]); they send through
//! the same path as every call ([`Client::execute`]: version rules checked first, token, retries).

use crate::client::Client;
use crate::error::{Error, Result};
use crate::pages::{RelatedPages, RelatedRows};
use crate::related_delete::DeleteRelated;
use crate::related_get::GetRelated;
use crate::related_rows::RelatedResponse;
use crate::request::PreparedRequest;
use crate::response::UpdateResponse;

impl Client {
    /// Reads related records: one call (one page, the single record, or a 304 as
    /// [`RelatedResponse::NotModified`]). `fields` missing on a list from v5 on, or `page_token` before v7, is an
    /// [`Error::InvalidInput`] before anything is sent.
    pub fn get_related(&self, request: &GetRelated) -> Result<RelatedResponse> {
        self.execute(request)
    }

    /// The HTTP request [`Client::get_related`] would send, after the version rules, without sending it.
    pub fn prepare_get_related(&self, request: &GetRelated) -> Result<PreparedRequest> {
        request.check_version(self.api_version()).map_err(Error::from)?;
        Ok(self.prepare(request))
    }

    /// Every related record of `request`, page after page, one page in memory at a time (see [`crate::pages`]).
    /// The version rules are checked here, before anything is sent.
    pub fn iter_related(&self, request: GetRelated) -> Result<RelatedRows> {
        Ok(RelatedRows::new(self.related_pages(request)?))
    }

    /// Like [`Client::iter_related`], page by page.
    pub fn related_pages(&self, request: GetRelated) -> Result<RelatedPages> {
        request.check_version(self.api_version()).map_err(Error::from)?;
        Ok(RelatedPages::new(self.clone(), request))
    }

    /// Unlinks related records: one call, one [`crate::Outcome`] per value in input order (a 207 is a normal
    /// result; a value Zoho could not unlink is a failed outcome, not an error).
    pub fn delete_related(&self, request: &DeleteRelated) -> Result<UpdateResponse> {
        self.execute(request)
    }

    /// The HTTP request [`Client::delete_related`] would send, without sending it.
    pub fn prepare_delete_related(&self, request: &DeleteRelated) -> PreparedRequest {
        self.prepare(request)
    }
}
