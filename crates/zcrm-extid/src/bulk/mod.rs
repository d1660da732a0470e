//! Bulk linking at the API's limit: many rows (each a parent plus one related record, for many parents, in any
//! order) -> calls of at most 100 records per parent -> bounded, adaptive concurrency on the shared keep-alive
//! client -> one outcome per row, in input order.
//!
//! ```
//! use serde_json::json;
//! use zcrm_emulator::{Emulator, EmulatorConfig};
//! use zcrm_extid::bulk::{BulkOptions, BulkRow, BulkSpec};
//! use zcrm_extid::{Client, Parent};
//!
//! let emu = Emulator::start(EmulatorConfig::default())?;
//! let (id, secret, refresh) = Emulator::default_credentials();
//! let client = Client::builder().refresh_token(id, secret, refresh)
//!     .base_url(emu.base_url()).accounts_url(emu.accounts_url()).build()?;
//! let spec = BulkSpec::builder("Contacts", "Deals").related_by_external("External_Deal_ID").build()?;
//! let rows = ["extdeal3", "extdeal2", "no-such-deal"].into_iter().map(|deal| {
//!     Ok(BulkRow { parent: Parent::external("External_Contact_ID", "extcontact3")?,
//!                  record: json!({"External_Deal_ID": deal}) })
//! });
//! let report = client.link_all(&spec, &BulkOptions::default(), rows)?;
//! assert_eq!((report.summary.succeeded, report.summary.failed), (2, 1));
//! assert_eq!(report.outcomes[2].outcome.code(), "INVALID_DATA");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Grouping.** Rows are grouped by parent within a window of [`BulkOptions::window`] buffered rows; a group is
//! sent when it holds [`BulkOptions::batch_size`] records, or, when the window is full, the oldest group is sent
//! as it is. Sorted input therefore gives full batches; memory stays bounded whatever the input order.
//!
//! **Concurrency.** At most [`BulkOptions::concurrency`] calls are on the wire; with adaptive concurrency
//! (default) the limit drops when a notable share of calls gets 429 and rises again after a quiet period (see
//! [`slots`]). A call waiting in backoff does not hold a slot.
//!
//! **Retries.** 429, 5xx, dropped connections and timeouts are retried per the client's [`crate::RetryPolicy`]
//! (exponential backoff with full jitter, `Retry-After` honoured), within a job-wide retry budget of
//! [`BulkOptions::retry_budget_ratio`] retries per call plus a reserve. Per-record results inside a `data`
//! array (`INVALID_DATA`, `MANDATORY_NOT_FOUND`, ...) are final and never retried. Retrying a call is safe:
//! a related-records PUT is idempotent (linking an existing relation again only rewrites its relation fields),
//! so a call whose response was lost can be sent again without creating anything twice.
//!
//! **Outcomes.** Every row read gets exactly one [`RowOutcome`]: Zoho's success or per-record error, the error
//! that ended its call after retries, `INVALID_INPUT` for a row that failed validation (the job goes on), or
//! `NOT_ATTEMPTED` after cancellation. They reach the callback in input order.
//!
//! **Duplicates.** A row repeating a (parent, related record) pair that is already waiting or in flight is held
//! back until the earlier one finished, so the later row's relation fields win, as in input order.
//!
//! **Cancellation.** [`Cancel::cancel`] stops reading and sending; calls already sent finish; every row read but
//! not sent is reported `NOT_ATTEMPTED`. Rows not yet read get no outcome (a resumed job sends them).

mod engine;
mod mapping;
mod plan;
mod reorder;
pub mod slots;
mod window;

pub use mapping::RowMapping;
pub use plan::{PlanItem, plan};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, InvalidInput};
use crate::names::{FieldName, ModuleName, RelatedList};
use crate::related::{MAX_RECORDS, Parent, RelatedKey};
use crate::response::Outcome;

/// Calls with more than 10 records count against Zoho's sub-concurrency of 10 (spec §5.3).
pub const SUB_CONCURRENCY: usize = 10;

/// One input row: a parent and one related record (its key plus relation fields).
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRow {
    /// The parent record.
    pub parent: Parent,
    /// The related record, e.g. `{"External_Deal_ID": "d1", "Contact_Role": "..."}`.
    pub record: Value,
}

/// What every row of a job links: base module, related list, related module, how records are keyed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkSpec {
    pub(crate) module: ModuleName,
    pub(crate) related_list: RelatedList,
    pub(crate) related_module: ModuleName,
    pub(crate) key: RelatedKey,
}

impl BulkSpec {
    /// Starts a spec for `module`'s related list `related_list`.
    pub fn builder(module: impl Into<String>, related_list: impl Into<String>) -> BulkSpecBuilder {
        BulkSpecBuilder { module: module.into(), related_list: related_list.into(), related_module: None, field: None }
    }

    /// The base module.
    pub fn module(&self) -> &ModuleName {
        &self.module
    }

    /// The related list.
    pub fn related_list(&self) -> &RelatedList {
        &self.related_list
    }

    /// The related module.
    pub fn related_module(&self) -> &ModuleName {
        &self.related_module
    }

    /// How records are keyed.
    pub fn key(&self) -> &RelatedKey {
        &self.key
    }
}

/// Builder of [`BulkSpec`].
#[derive(Debug, Clone)]
#[must_use]
pub struct BulkSpecBuilder {
    module: String,
    related_list: String,
    related_module: Option<String>,
    field: Option<String>,
}

impl BulkSpecBuilder {
    /// The related module, if it differs from the related list's name.
    pub fn related_module(mut self, module: impl Into<String>) -> Self {
        self.related_module = Some(module.into());
        self
    }

    /// Related records are keyed by this external field (default: by `id`).
    pub fn related_by_external(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Validates the names.
    pub fn build(self) -> Result<BulkSpec, InvalidInput> {
        let related_list = RelatedList::new(self.related_list)?;
        Ok(BulkSpec {
            module: ModuleName::new(self.module)?,
            related_module: match self.related_module {
                Some(m) => ModuleName::parse_as(m, "related_module")?,
                None => ModuleName::new(related_list.as_str())?,
            },
            related_list,
            key: match self.field {
                Some(f) => RelatedKey::External(FieldName::parse_as(f, "related_field")?),
                None => RelatedKey::Id,
            },
        })
    }
}

/// Tuning of a bulk job.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOptions {
    /// Most calls on the wire at once (default 10: Zoho's sub-concurrency for calls of more than 10 records).
    pub concurrency: usize,
    /// Records per call, 1 to 100 (default 100).
    pub batch_size: usize,
    /// Most rows buffered for grouping (default 10,000).
    pub window: usize,
    /// Follow 429s with the concurrency (default true).
    pub adaptive: bool,
    /// Retries allowed per call sent, job-wide (default 0.2).
    pub retry_budget_ratio: f64,
    /// Retries allowed up front (default 100).
    pub retry_budget_reserve: u32,
    /// Least time between two progress reports (default 200 ms).
    pub progress_interval: Duration,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            concurrency: SUB_CONCURRENCY,
            batch_size: MAX_RECORDS,
            window: 10_000,
            adaptive: true,
            retry_budget_ratio: 0.2,
            retry_budget_reserve: 100,
            progress_interval: Duration::from_millis(200),
        }
    }
}

impl BulkOptions {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.concurrency == 0 || self.concurrency > 100 {
            return Err(Error::config("concurrency", "must be 1 to 100"));
        }
        if self.batch_size == 0 || self.batch_size > MAX_RECORDS {
            return Err(Error::config("batch_size", format!("must be 1 to {MAX_RECORDS}")));
        }
        if self.window < self.batch_size {
            return Err(Error::config("window", "must be at least batch_size"));
        }
        Ok(())
    }
}

/// The final outcome of one input row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowOutcome {
    /// 0-based index of the row in the input.
    pub row: usize,
    /// The parent's path value (record id or external value); empty if the row was invalid before parsing.
    pub parent: String,
    /// The related record's key (external value or id), if the row had one.
    pub key: Option<String>,
    /// The outcome (`outcome.index == row`).
    pub outcome: Outcome,
    /// Calls made for this row's batch (0: never sent).
    pub attempts: u32,
}

/// Progress of a running job (reported at most every [`BulkOptions::progress_interval`], and once at the end).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// Rows read from the input.
    pub rows_read: u64,
    /// Rows with a final outcome.
    pub done: u64,
    /// ... of which succeeded.
    pub succeeded: u64,
    /// ... of which failed (any reason).
    pub failed: u64,
    /// Rows in calls that are in flight (sent or waiting to retry).
    pub in_flight: u64,
    /// Rows done per second since the start.
    pub rows_per_sec: f64,
    /// Time since the start.
    pub elapsed: Duration,
    /// Current concurrency limit.
    pub concurrency: usize,
    /// Retries so far.
    pub retries: u64,
    /// 429 answers so far.
    pub rate_limited: u64,
}

/// Totals of a finished job.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkSummary {
    /// Rows read.
    pub rows: u64,
    /// Rows linked.
    pub succeeded: u64,
    /// Rows that failed (including invalid and not attempted).
    pub failed: u64,
    /// ... of which failed validation (`INVALID_INPUT`).
    pub invalid: u64,
    /// ... of which were not sent because the job was cancelled (`NOT_ATTEMPTED`).
    pub not_attempted: u64,
    /// HTTP calls made (including retries).
    pub calls: u64,
    /// Retries.
    pub retries: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The most rows buffered for grouping at once (never above the window).
    pub max_buffered_rows: usize,
    /// The lowest concurrency the adaptive limit went down to.
    pub min_concurrency: usize,
    /// True if the job was cancelled.
    pub cancelled: bool,
}

/// Per-row outcomes (input order) and totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkReport {
    /// One per row read, in input order.
    pub outcomes: Vec<RowOutcome>,
    /// Totals.
    pub summary: BulkSummary,
}

/// Cancels a running job from another thread (or from a progress callback).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A token that is not cancelled.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels: stop reading and sending, finish calls in flight.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl Client {
    /// Runs a bulk job: reads `rows`, passes each row's outcome to `on_outcome` in input order, reports
    /// progress to `on_progress`, and returns the totals. Stops early if `cancel` is cancelled. An `Err` row
    /// (e.g. a CSV row that could not be parsed) gets its own `INVALID_INPUT` outcome.
    ///
    /// Errors only for unusable `options`; every failure of a row is in its outcome.
    pub fn link_many<I>(
        &self,
        spec: &BulkSpec,
        options: &BulkOptions,
        rows: I,
        on_outcome: &mut dyn FnMut(RowOutcome),
        on_progress: &mut dyn FnMut(&Progress),
        cancel: &Cancel,
    ) -> Result<BulkSummary, Error>
    where
        I: IntoIterator<Item = Result<BulkRow, InvalidInput>>,
    {
        options.validate()?;
        Ok(engine::run(self, spec, options, &mut rows.into_iter(), on_outcome, on_progress, cancel))
    }

    /// [`Client::link_many`] collecting every outcome.
    pub fn link_all<I>(&self, spec: &BulkSpec, options: &BulkOptions, rows: I) -> Result<BulkReport, Error>
    where
        I: IntoIterator<Item = Result<BulkRow, InvalidInput>>,
    {
        let mut outcomes = Vec::new();
        let summary = self.link_many(spec, options, rows, &mut |o| outcomes.push(o), &mut |_| {}, &Cancel::new())?;
        Ok(BulkReport { outcomes, summary })
    }
}
