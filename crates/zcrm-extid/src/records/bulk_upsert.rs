//! Bulk upsert: [`Upsert`], the bulk engine's operation for "upsert records" calls ([`crate::bulk`]), and
//! [`Client::upsert_many`] / [`Client::upsert_all`]. A stream of records of one module, 100 per call,
//! concurrent, retried, each row's outcome saying whether Zoho inserted or updated it and the record's id.
//!
//! ```
//! use serde_json::json;
//! use zcrm_emulator::{Emulator, EmulatorConfig};
//! use zcrm_extid::bulk::BulkOptions;
//! use zcrm_extid::records::{ExternalFields, UpsertAction, UpsertSpec};
//! use zcrm_extid::Client;
//!
//! let emu = Emulator::start(EmulatorConfig::default())?;
//! let (id, secret, refresh) = Emulator::default_credentials();
//! let client = Client::builder().refresh_token(id, secret, refresh)
//!     .base_url(emu.base_url()).accounts_url(emu.accounts_url()).build()?;
//! let spec = UpsertSpec::new("Contacts", ["External_Contact_ID"],
//!     ExternalFields::parse(&["Accounts.External_Account_ID"])?)?;
//! let rows = [
//!     json!({"External_Contact_ID": "extcontact3", "Last_Name": "Boyle"}),          // exists: updated
//!     json!({"External_Contact_ID": "c-new", "Last_Name": "New",
//!            "Account_Name": {"External_Account_ID": "externalaccount1"}}),         // inserted, with its account
//!     json!({"Last_Name": "No key"}),                                               // refused before sending
//! ];
//! let report = client.upsert_all(&spec, &BulkOptions::default(), rows.into_iter().map(Ok))?;
//! let o = &report.outcomes;
//! assert_eq!((o[0].outcome.action(), o[0].outcome.id()), (Some(UpsertAction::Update), Some("111111000000085009")));
//! assert_eq!(o[1].outcome.action(), Some(UpsertAction::Insert));
//! assert_eq!((o[2].outcome.code(), o[2].key.as_deref()), ("INVALID_INPUT", None));
//! assert_eq!((o[1].parent.as_ref(), o[1].key.as_deref()), ("Contacts", Some("c-new")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Rows.** Each row is one record, checked on its own before anything is sent, as a single upsert checks it
//! ([`UpsertSpec`]; a failure is that row's `INVALID_INPUT`, naming `data[row].field`, and the job goes on).
//! A bulk row must have a key: the first duplicate-check field it carries, or, without
//! `duplicate_check_fields`, the module's first declared external field it carries.
//!
//! **Calls.** Rows whose lookups are addressed the same way (the same `X-EXTERNAL` lookup pairs; the group
//! key is that *lookup signature*) share calls of up to 100; rows addressing a lookup path differently never
//! travel together, so every call's header is right for each of its records. A row that addresses a lookup by
//! `id` in one place and by an external field in another is refused on its own.
//!
//! **Duplicates.** Two rows with the same key (the same record) never travel in one call nor at the same
//! time, whatever their lookup signatures: the later row waits until the earlier one is done, so the later
//! row wins, as in input order. Rows keyed by different fields (`Email` in one, `External_Contact_ID` in
//! another) that happen to match one record are not detected (Zoho matches by the first field it finds).
//!
//! **Retries.** An upsert is idempotent for a keyed record: sent again after an answer was lost, it finds the
//! record the first attempt made and updates it (that row's outcome then says `update`). So 429s, 5xx,
//! dropped connections and timeouts are retried as for links.
//!
//! **Limits** (spec §5.2, §5.3). An upsert costs 1 credit per 10 records (100 per call: 10 credits). A call of
//! more than 10 records counts against Zoho's sub-concurrency of 10, whatever the edition: with a batch size
//! above 10, [`Client::upsert_many`] never runs more than [`SUB_CONCURRENCY`] calls at once, even if
//! [`BulkOptions::concurrency`] asks for more (it would only earn 429s).
//!
//! **Outcomes.** Each row's [`RowOutcome`]: `parent` is the module (upsert rows have no parent), `key` the
//! row's key value; for a success, [`crate::Outcome::action`] (`insert`/`update`),
//! [`crate::Success::duplicate_field`] and [`crate::Outcome::id`] (the Zoho id).

use std::sync::Arc;

use serde_json::Value;

use super::checked::CheckedRecord;
use super::lookups::{RecordLookups, header};
use super::outcome::RecordsResponse;
use super::upsert::{UpsertRecords, UpsertSpec, check_upsert_record};
use crate::bulk::{BulkOptions, BulkReport, BulkSummary, Cancel, Operation, Progress, RowOutcome, SUB_CONCURRENCY};
use crate::client::Client;
use crate::error::{Error, InvalidInput};
use crate::response::Outcome;

/// The bulk upsert operation (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upsert {
    spec: UpsertSpec,
    label: Arc<str>,
}

impl Upsert {
    /// Upserts into `spec`'s module as `spec` says.
    pub fn new(spec: UpsertSpec) -> Upsert {
        let label = Arc::from(spec.module().as_str());
        Upsert { spec, label }
    }

    /// The spec.
    pub fn spec(&self) -> &UpsertSpec {
        &self.spec
    }

    /// `options` as this job runs them: with calls of more than 10 records, at most [`SUB_CONCURRENCY`] at
    /// once (spec §5.3).
    pub fn options(&self, options: &BulkOptions) -> BulkOptions {
        let mut options = options.clone();
        if options.batch_size.min(self.max_batch()) > 10 {
            options.concurrency = options.concurrency.min(SUB_CONCURRENCY);
        }
        options
    }
}

/// A row checked for an upsert: the record, its lookups and key, and its lookup signature.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertRow {
    record: CheckedRecord,
    signature: String,
}

impl UpsertRow {
    /// The record, as it will be sent.
    pub fn record(&self) -> &serde_json::Map<String, Value> {
        &self.record.record
    }

    /// The key: the field and value that identify the record.
    pub fn key(&self) -> (&str, &str) {
        self.record.key().expect("a bulk row always has a key")
    }

    /// The `X-EXTERNAL` lookup pairs the record uses, sorted and joined by `,` (empty: no lookup by external
    /// ID): rows with equal signatures share calls.
    pub fn signature(&self) -> &str {
        &self.signature
    }
}

/// The lookup pairs of a record, sorted: what decides which rows may share a call. Rows with equal pairs send
/// the same header; a row's plain `{"id"}` lookups were checked against its own pairs, and a path its pairs
/// do not address cannot conflict with a call of the same pairs.
fn signature(lookups: &RecordLookups) -> String {
    match lookups.pairs.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        many => {
            let mut pairs: Vec<String> = many.iter().map(ToString::to_string).collect();
            pairs.sort_unstable();
            pairs.join(",")
        }
    }
}

impl Operation for Upsert {
    type Input = Value;
    type Row = UpsertRow;
    type Call = UpsertRecords;

    fn check(&self, index: usize, input: Value) -> Result<UpsertRow, InvalidInput> {
        let record = check_upsert_record(index, input, &self.spec)?;
        if record.key.is_none() {
            return Err(InvalidInput::new(
                "data",
                format!(
                    "has no key: a bulk upsert identifies each record by a duplicate-check field or an external field of {} declared in external_fields",
                    self.spec.module()
                ),
            )
            .at(index));
        }
        // One record that addresses a lookup path by `id` and by an external field could never be sent.
        if !record.lookups.pairs.is_empty() && !record.lookups.by_id.is_empty() {
            header(None, std::iter::once(&record.lookups)).map_err(|e| {
                let message = "addresses this lookup path by `id` where the same record addresses it by an external \
                               field; with that X-EXTERNAL pair Zoho would read only the external field (spec 2.4)";
                InvalidInput { index: Some(index), message: message.to_owned(), ..e }
            })?;
        }
        let signature = signature(&record.lookups);
        Ok(UpsertRow { record, signature })
    }

    fn group_key(&self, row: &UpsertRow) -> String {
        row.signature.clone()
    }

    fn group_label(&self, _row: &UpsertRow) -> Arc<str> {
        self.label.clone()
    }

    fn row_key(&self, row: &UpsertRow) -> String {
        row.key().1.to_owned()
    }

    fn keys_span_groups(&self) -> bool {
        true
    }

    fn call(&self, rows: Vec<UpsertRow>) -> UpsertRecords {
        let records: Vec<CheckedRecord> = rows.into_iter().map(|r| r.record).collect();
        // The engine gives 1 to 100 rows of one signature with distinct keys, each checked: nothing can fail.
        UpsertRecords::from_checked(&self.spec, records).expect("rows of one lookup signature with distinct keys")
    }

    fn outcomes(&self, output: RecordsResponse) -> Vec<Outcome> {
        output.outcomes.into_iter().map(|o| o.outcome).collect()
    }
}

impl Client {
    /// Upserts records: [`Client::run_bulk`] of [`Upsert`] over `rows` (each a record as JSON), numbered 0, 1,
    /// 2, ... in input order, with `options` as [`Upsert::options`] runs them. See [`crate::records::bulk_upsert`].
    pub fn upsert_many<I>(
        &self,
        spec: &UpsertSpec,
        options: &BulkOptions,
        rows: I,
        on_outcome: &mut dyn FnMut(RowOutcome),
        on_progress: &mut dyn FnMut(&Progress),
        cancel: &Cancel,
    ) -> Result<BulkSummary, Error>
    where
        I: IntoIterator<Item = Result<Value, InvalidInput>>,
    {
        let op = Upsert::new(spec.clone());
        let options = op.options(options);
        self.run_bulk(&op, &options, rows.into_iter().enumerate(), on_outcome, on_progress, cancel)
    }

    /// [`Client::upsert_many`] collecting every outcome, sorted by row.
    pub fn upsert_all<I>(&self, spec: &UpsertSpec, options: &BulkOptions, rows: I) -> Result<BulkReport, Error>
    where
        I: IntoIterator<Item = Result<Value, InvalidInput>>,
    {
        let mut outcomes = Vec::new();
        let summary = self.upsert_many(spec, options, rows, &mut |o| outcomes.push(o), &mut |_| {}, &Cancel::new())?;
        outcomes.sort_unstable_by_key(|o| o.row);
        Ok(BulkReport { outcomes, summary })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bulk::{PlanItem, plan};
    use crate::call::Call;
    use crate::config::{ApiVersion, BaseUrl};
    use crate::records::ExternalFields;

    fn op(fields: &[&str]) -> Upsert {
        let ext = ExternalFields::parse(&["Accounts.External_Account_ID", "Contacts.External_Contact_ID"]).unwrap();
        Upsert::new(UpsertSpec::new("Contacts", fields.iter().copied(), ext).unwrap())
    }

    fn headers(call: &UpsertRecords) -> Option<String> {
        let base = BaseUrl::parse("https://www.zohoapis.com").unwrap();
        Call::prepare(call, &base, ApiVersion::V8)
            .headers()
            .iter()
            .find(|(n, _)| *n == "X-EXTERNAL")
            .map(|(_, v)| v.clone())
    }

    #[test]
    fn rows_need_a_key_and_one_way_per_lookup_path() {
        let op = op(&[]);
        let e = op.check(4, json!({"Last_Name": "x"})).unwrap_err();
        assert_eq!(e.location(), "data[4]");
        let mixed =
            json!({"External_Contact_ID": "c", "Sub": [{"L": {"id": "1"}}, {"L": {"External_Account_ID": "a"}}]});
        assert_eq!(op.check(2, mixed).unwrap_err().location(), "data[2].Sub.L.id");
        let row =
            op.check(0, json!({"External_Contact_ID": "c", "Account_Name": {"External_Account_ID": "a"}})).unwrap();
        assert_eq!(
            (row.key(), row.signature()),
            (("External_Contact_ID", "c"), "Contacts.Account_Name.External_Account_ID")
        );
        // With duplicate-check fields, the first one a row carries is its key.
        let row =
            self::op(&["Email", "External_Contact_ID"]).check(0, json!({"External_Contact_ID": "c", "Email": "e@x"}));
        assert_eq!(row.unwrap().key(), ("Email", "e@x"));
    }

    #[test]
    fn calls_hold_one_lookup_signature() {
        let op = op(&["External_Contact_ID"]);
        let rows = vec![
            json!({"External_Contact_ID": "c1", "Last_Name": "a"}),
            json!({"External_Contact_ID": "c2", "Account_Name": {"External_Account_ID": "a1"}}),
            json!({"External_Contact_ID": "c3", "Account_Name": {"id": "111"}}),
            json!({"External_Contact_ID": "c1", "Account_Name": {"External_Account_ID": "a2"}}),
            json!({"External_Contact_ID": "c4"}),
        ];
        let calls: Vec<(Vec<usize>, UpsertRecords)> =
            plan(&op, &BulkOptions::default(), rows.into_iter().map(Ok).enumerate())
                .map(|item| match item {
                    PlanItem::Call { rows, request } => (rows, request),
                    PlanItem::Invalid { row, error } => panic!("row {row}: {error}"),
                })
                .collect();
        let shapes: Vec<(Vec<usize>, Option<String>)> = calls.iter().map(|(r, c)| (r.clone(), headers(c))).collect();
        // Rows 0, 2, 4 share the empty signature (a lookup by id needs no pair); rows 1 and 3 need the pair, and
        // row 3 (c1 again) was held back until row 0's call was done.
        let pair = Some("Contacts.Account_Name.External_Account_ID".to_owned());
        assert_eq!(shapes, [(vec![0, 2, 4], None), (vec![1, 3], pair)]);
    }

    #[test]
    fn options_keep_to_the_sub_concurrency() {
        let op = op(&["External_Contact_ID"]);
        let wide = BulkOptions { concurrency: 25, ..BulkOptions::default() };
        assert_eq!(op.options(&wide).concurrency, SUB_CONCURRENCY);
        let small = BulkOptions { concurrency: 25, batch_size: 10, ..BulkOptions::default() };
        assert_eq!(op.options(&small).concurrency, 25, "calls of 10 records are not sub-concurrency calls");
    }
}
