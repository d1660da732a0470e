//! [`Call`]: what every operation is to the client. Each operation (update related, get related, delete
//! related, the records operations, ...) is a typed request, validated when it is built, that knows its HTTP
//! request and how to read the answer. The client adds the token and sends every call the same way: one token
//! refresh-and-resend on a rejected token, retries per the [`crate::RetryPolicy`], scope hints on
//! `OAUTH_SCOPE_MISMATCH` ([`crate::Client::execute`], [`crate::Client::send_once`]).

use crate::config::{ApiVersion, BaseUrl};
use crate::error::{InvalidInput, Result};
use crate::names::ModuleName;
use crate::request::PreparedRequest;
use crate::scope::ScopeOp;
use crate::transport::HttpResponse;

/// A typed, validated request the [`crate::Client`] can send.
///
/// ```
/// use zcrm_extid::call::Call;
/// use zcrm_extid::scope::ScopeOp;
/// use zcrm_extid::{ApiVersion, BaseUrl, Parent, UpdateRelated};
/// let request = UpdateRelated::builder("Contacts", Parent::id("1")?, "Deals")
///     .record(serde_json::json!({"id": "2"}))
///     .build()?;
/// let http = Call::prepare(&request, &BaseUrl::parse("https://www.zohoapis.com")?, ApiVersion::V5);
/// assert_eq!(http.method().as_str(), "PUT");
/// assert_eq!(request.scope_op(), ScopeOp::Update);
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
pub trait Call {
    /// What an answer that is not an error becomes.
    type Output;

    /// The HTTP request, without the token (the client adds it).
    fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest;

    /// The module the call addresses (for the scope hint of an `OAUTH_SCOPE_MISMATCH`).
    fn module(&self) -> &ModuleName;

    /// The kind of access the call needs (for the scope hint).
    fn scope_op(&self) -> ScopeOp;

    /// Reads the answer: per-record outcomes, rows, ... Request-level errors (a Zoho error object, a 204 where
    /// the operation needs content, an unusable body) are `Err`, which the client may retry or refresh on.
    fn parse(&self, response: &HttpResponse) -> Result<Self::Output>;

    /// The call's rules that depend on the API version (the client's setting, unknown when the call was built),
    /// e.g. `fields` being required to list related records from v5 on. The client checks them before it
    /// fetches a token or sends anything. Default: none.
    fn check(&self, version: ApiVersion) -> std::result::Result<(), InvalidInput> {
        let _ = version;
        Ok(())
    }

    /// Whether sending the call twice is harmless. Idempotent calls (PUT, GET, DELETE, upsert) are retried after
    /// any transient failure; a non-idempotent one (an insert) only after a 429, which Zoho answers without
    /// doing anything, because a lost answer to an insert may mean the records were created. Default `true`.
    fn idempotent(&self) -> bool {
        true
    }

    /// Whether the call counts against Zoho's sub-concurrency of 10 (spec §5.3: writes of more than 10 records),
    /// for a shared concurrency limit ([`crate::budget`]). Default `false`.
    fn sub_concurrency(&self) -> bool {
        false
    }

    /// The request's path as events and logs show it ([`crate::events`]): module and list names kept, every
    /// value (record id, external value) replaced by `{field}` naming the field it is a value of, no query
    /// string. Default: `/crm/{version}/{Module}/…`, which names no value whatever the call's path.
    fn path_template(&self, version: ApiVersion) -> String {
        format!("/crm/{}/{}/…", version.as_str(), self.module())
    }

    /// How many records the call carries (for events), if it writes records. Default: `None`.
    fn record_count(&self) -> Option<usize> {
        None
    }
}
