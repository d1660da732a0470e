//! The answer to an insert, update, upsert or delete: one [`RecordOutcome`] per record, in input order.
//!
//! Statuses and shapes are those of every write (`response.rs`): 200/201 all succeeded, 207 mixed, 400 all
//! failed, each with a `data` array; a top-level error object is an [`crate::Error::Api`]. An upsert item
//! carries two more keys, `action` (`insert` or `update`) and `duplicate_field` (the field that matched an
//! existing record, `null` on insert), spec §2.7:
//!
//! ```
//! use zcrm_extid::records::outcome::parse_records;
//! use zcrm_extid::records::UpsertAction;
//! use zcrm_extid::transport::HttpResponse;
//! let body = br#"{"data":[{"code":"SUCCESS","duplicate_field":"External_Contact_ID","action":"update",
//!     "details":{"id":"111111000000101047"},"message":"record updated","status":"success"}]}"#;
//! let r = parse_records(&HttpResponse { status: 200, headers: vec![], body: body.to_vec() }, 1)?;
//! assert_eq!(r.outcomes[0].action, Some(UpsertAction::Update));
//! assert_eq!(r.outcomes[0].duplicate_field.as_deref(), Some("External_Contact_ID"));
//! assert_eq!(r.outcomes[0].id(), Some("111111000000101047"));
//! # Ok::<(), zcrm_extid::Error>(())
//! ```

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::error::{Details, Result};
use crate::response::{Outcome, credits_remaining, parse_outcomes};
use crate::transport::HttpResponse;

pub use crate::response::UpsertAction;

/// The result for one record of a records write.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordOutcome {
    /// Success or failure, with Zoho's code, message and details (`details.id` is the record's Zoho id).
    pub outcome: Outcome,
    /// Upserts: whether the record was inserted or updated.
    pub action: Option<UpsertAction>,
    /// Upserts: the field whose value matched an existing record (`None` for an insert).
    pub duplicate_field: Option<String>,
}

impl RecordOutcome {
    /// The record's 0-based index in the input.
    pub fn index(&self) -> usize {
        self.outcome.index
    }

    /// True when the record succeeded.
    pub fn is_success(&self) -> bool {
        self.outcome.is_success()
    }

    /// `SUCCESS` or the failure's code.
    pub fn code(&self) -> &str {
        self.outcome.code()
    }

    /// The message (`record added`, `record updated`, `record deleted`, or the failure's).
    pub fn message(&self) -> &str {
        self.outcome.message()
    }

    /// The details.
    pub fn details(&self) -> &Details {
        self.outcome.details()
    }

    /// The record's Zoho id (`details.id`), if any.
    pub fn id(&self) -> Option<&str> {
        self.outcome.id()
    }
}

/// The answer to a records write: the HTTP status, one outcome per record, and the credit header if sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordsResponse {
    /// 200 or 201 (all succeeded), 207 (mixed) or 400 (all failed).
    pub status: u16,
    /// One per input record (or `ids` value), in input order (`outcomes[i].index() == i`).
    pub outcomes: Vec<RecordOutcome>,
    /// `X-API-CREDITS-REMAINING`, sent once half the day's credits are used.
    pub credits_remaining: Option<u64>,
}

impl RecordsResponse {
    /// True when every record succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.outcomes.iter().all(RecordOutcome::is_success)
    }

    /// The records that failed.
    pub fn failures(&self) -> impl Iterator<Item = &RecordOutcome> {
        self.outcomes.iter().filter(|o| !o.is_success())
    }
}

#[derive(Deserialize)]
struct Extras {
    data: Vec<ExtraItem>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ExtraItem {
    Object {
        #[serde(default)]
        action: Option<String>,
        #[serde(default)]
        duplicate_field: Option<String>,
    },
    Other(IgnoredAny),
}

/// Reads the answer to a write that sent `expected` records (see the module docs).
pub fn parse_records(response: &HttpResponse, expected: usize) -> Result<RecordsResponse> {
    let outcomes = parse_outcomes(response.status, response.header("content-type"), &response.body, expected)?;
    // `parse_outcomes` checked the shape; a second, shallow read picks up the upsert keys it does not keep.
    let mut extras = serde_json::from_slice::<Extras>(&response.body).map(|e| e.data).unwrap_or_default();
    if extras.len() != outcomes.len() {
        extras.clear();
    }
    let mut extras = extras.into_iter();
    let outcomes = outcomes
        .into_iter()
        .map(|mut outcome| {
            let (action, duplicate_field) = match extras.next() {
                Some(ExtraItem::Object { action, duplicate_field }) => {
                    (action.as_deref().and_then(UpsertAction::parse), duplicate_field)
                }
                _ => (None, None),
            };
            // The success carries them too, so a bulk job's row outcome (an `Outcome`) keeps them.
            if let (Some(a), Ok(s)) = (action, &mut outcome.result) {
                s.set_upsert(a, duplicate_field.clone());
            }
            RecordOutcome { outcome, action, duplicate_field }
        })
        .collect();
    Ok(RecordsResponse { status: response.status, outcomes, credits_remaining: credits_remaining(response) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse { status, headers: vec![], body: body.as_bytes().to_vec() }
    }

    #[test]
    fn upsert_keys_are_read_per_item_and_absent_elsewhere() {
        let body = r#"{"data":[
            {"code":"SUCCESS","duplicate_field":null,"action":"insert","details":{"id":"1"},"message":"record added","status":"success"},
            {"code":"DUPLICATE_DATA","details":{"api_name":"Email"},"message":"duplicate data","status":"error"}]}"#;
        let r = parse_records(&resp(207, body), 2).unwrap();
        assert_eq!(
            (r.outcomes[0].action, r.outcomes[0].duplicate_field.as_deref()),
            (Some(UpsertAction::Insert), None)
        );
        assert_eq!(r.outcomes[0].outcome.action(), Some(UpsertAction::Insert), "the outcome carries it too");
        assert_eq!((r.outcomes[1].action, r.outcomes[1].code()), (None, "DUPLICATE_DATA"));
        assert!(!r.all_succeeded());
        assert_eq!(r.failures().count(), 1);
    }

    #[test]
    fn odd_items_keep_their_outcome_and_lose_only_the_extras() {
        let r = parse_records(&resp(207, r#"{"data":[1,{"status":"success","code":"SUCCESS","action":"nope"}]}"#), 2)
            .unwrap();
        assert_eq!(r.outcomes[0].code(), "UNEXPECTED_RESPONSE");
        assert_eq!((r.outcomes[1].code(), r.outcomes[1].action), ("SUCCESS", None));
        assert_eq!(parse_records(&resp(204, ""), 1).unwrap_err().code(), crate::ErrorCode::NoContent);
    }
}
