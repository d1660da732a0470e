//! # zcrm-extid
//!
//! A client for Zoho CRM's external-ID APIs, starting with **Update Related Records Using External ID**:
//! `PUT {api-domain}/crm/{version}/{Module}/{record}/{RelatedList}` with an `X-EXTERNAL` header. It makes the
//! header/URL/body rules correct by construction, validates everything before anything is sent, and maps every
//! response to one [`Outcome`] per record in input order.
//!
//! ## The four ways to address a relation
//!
//! ```
//! use serde_json::json;
//! use zcrm_extid::{ApiVersion, BaseUrl, Parent, UpdateRelated};
//! let zoho = BaseUrl::parse("https://www.zohoapis.com")?;
//! let contact_ext = || Parent::external("External_Contact_ID", "extcontact3");
//!
//! // A: contact and deal both by external id.
//! let a = UpdateRelated::builder("Contacts", contact_ext()?, "Deals")
//!     .related_by_external("External_Deal_ID")
//!     .record(json!({"External_Deal_ID": "extdeal3", "Contact_Role": "111111000000026002"}))
//!     .build()?;
//! assert_eq!(a.x_external().unwrap().to_string(), "Contacts.External_Contact_ID,Deals.External_Deal_ID");
//!
//! // B: contact by record id, deal by external id.
//! let b = UpdateRelated::builder("Contacts", Parent::id("111111000000085009")?, "Deals")
//!     .related_by_external("External_Deal_ID")
//!     .record(json!({"Contact_Role": "111111000000026002", "External_Deal_ID": "extdeal3"}))
//!     .build()?;
//! assert_eq!(b.prepare(&zoho, ApiVersion::V5).url(), "https://www.zohoapis.com/crm/v5/Contacts/111111000000085009/Deals");
//! assert_eq!(b.x_external().unwrap().to_string(), "Deals.External_Deal_ID");
//!
//! // C: contact by external id, deal by record id.
//! let c = UpdateRelated::builder("Contacts", contact_ext()?, "Deals")
//!     .record(json!({"id": "111111000000094028", "Contact_Role": "111111000000026002"}))
//!     .build()?;
//! assert_eq!(c.x_external().unwrap().to_string(), "Contacts.External_Contact_ID");
//!
//! // Plain ids: no X-EXTERNAL at all.
//! let d = UpdateRelated::builder("Contacts", Parent::id("111111000000085009")?, "Deals")
//!     .record(json!({"id": "111111000000094028"}))
//!     .build()?;
//! assert!(d.x_external().is_none());
//!
//! // Values can never change the route: one percent-encoded segment each.
//! let odd = UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "ERP/7?x#1")?, "Deals")
//!     .record(json!({"id": "1"})).build()?;
//! assert!(odd.prepare(&zoho, ApiVersion::V5).url().ends_with("/Contacts/ERP%2F7%3Fx%231/Deals"));
//!
//! // Bad input is a typed error naming the record and field; nothing is sent.
//! let err = UpdateRelated::builder("Contacts", contact_ext()?, "Deals")
//!     .related_by_external("External_Deal_ID")
//!     .record(json!({"Contact_Role": "1"}))
//!     .build()
//!     .unwrap_err();
//! assert_eq!(err.location(), "data[0].External_Deal_ID");
//! # Ok::<(), zcrm_extid::Error>(())
//! ```
//!
//! ## Sending
//!
//! [`Client`] holds the credentials (a static token, or the refresh-token grant with a shared, single-flight
//! token cache), the data centre or a base URL, the API version, timeouts and the retry policy:
//!
//! ```no_run
//! use serde_json::json;
//! use zcrm_extid::{Client, DataCenter, Parent, UpdateRelated};
//! let client = Client::builder()
//!     .refresh_token("1000.CLIENTID", "client-secret", "1000.refresh.token")
//!     .data_center(DataCenter::Eu)
//!     .build()?;
//! let request = UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "extcontact3")?, "Deals")
//!     .related_by_external("External_Deal_ID")
//!     .record(json!({"External_Deal_ID": "extdeal3", "Contact_Role": "111111000000026002"}))
//!     .build()?;
//! let response = client.update_related(&request)?;
//! for outcome in &response.outcomes {
//!     println!("record {}: {} {}", outcome.index, outcome.code(), outcome.message());
//! }
//! # Ok::<(), zcrm_extid::Error>(())
//! ```
//!
//! Module map: [`config`] (data centres, versions, base URLs), [`names`] (validated names), [`external`]
//! (`X-EXTERNAL`), [`url`] (path segments), [`related`] (the operation and its rules), [`records`] (records by external ID: get, insert, update, upsert, delete, search), [`request`]
//! ([`PreparedRequest`], curl), [`response`] (outcomes), [`error`], [`error_view`] and [`code`] (errors, their codes and categories), [`auth`] (tokens),
//! [`transport`] (HTTP), [`proxy`] (which hosts go through a proxy), [`redact`] (what errors may print), [`retry`] (backoff), [`scope`] (OAuth scopes), [`call`] ([`Call`]: the trait every operation implements), [`client`] ([`Client`]), [`bulk`] (many rows at the API's limit), [`settings`] (plain-data configuration for bindings and the CLI).
//! Observability: [`events`] (what the client does, through the `log` facade or a listener), [`metrics`]
//! (a bulk job's latency percentiles, retries by cause, credits).
//! Reading and unlinking: [`related_get`] ([`GetRelated`]), [`related_rows`] (pages and rows), [`pages`] (every
//! page, one at a time), [`related_delete`] ([`DeleteRelated`]), [`datetime`] (`If-Modified-Since`).
//! Many processes on one org: [`budget`] (a token cache, concurrency limit and credit count shared on Redis,
//! feature `redis`).
//! Keeping links equal to a desired set, with a plan first: [`reconcile`].

#![deny(missing_docs)]

pub mod auth;
pub mod budget;
pub mod bulk;
pub mod call;
pub mod client;
mod client_records;
mod client_related;
pub mod code;
pub mod config;
pub mod datetime;
pub mod error;
pub mod error_view;
pub mod events;
pub mod external;
pub mod metrics;
pub mod names;
pub mod pages;
pub mod proxy;
pub mod reconcile;
pub mod records;
pub mod redact;
pub mod related;
pub mod related_delete;
pub mod related_get;
pub mod related_rows;
pub mod related_specs;
mod related_target;
pub mod request;
pub mod response;
pub mod retry;
pub mod scope;
pub mod secret;
pub mod settings;
pub mod transport;
pub mod url;

pub use auth::Credentials;
pub use call::Call;
pub use client::{Client, ClientBuilder};
pub use code::{ErrorCategory, ErrorCode};
pub use config::{ApiVersion, BaseUrl, DataCenter, Environment};
pub use error::{Details, Error, ErrorKind, InvalidInput, Result};
pub use events::{Event, EventKind, EventListener};
pub use external::{ExternalPair, XExternal};
pub use names::{ExternalValue, FieldName, ModuleName, RecordId, RelatedList};
pub use pages::{RelatedPages, RelatedRows};
pub use records::{
    DeleteRecords, GetRecords, InsertRecords, RecordKey, RecordOutcome, RecordsPage, RecordsResponse, SearchRecords,
    UpdateRecords, UpsertAction, UpsertRecords,
};
pub use related::{MAX_RECORDS, Parent, RelatedKey, UpdateRelated, UpdateRelatedBuilder};
pub use related_delete::{DeleteRelated, DeleteRelatedBuilder};
pub use related_get::{GetRelated, GetRelatedBuilder, RelatedTarget};
pub use related_rows::{PageInfo, RelatedPage, RelatedResponse, RelatedRow};
pub use request::{Method, PreparedRequest};
pub use response::{Failure, Outcome, Success, UpdateResponse};
pub use retry::RetryPolicy;
pub use secret::Secret;
