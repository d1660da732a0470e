//! Bulk jobs at the API's limit: many rows, in any order -> groups (by parent, for related records) -> calls
//! of at most 100 rows -> bounded, adaptive concurrency on the shared keep-alive client -> exactly one outcome
//! per row, passed on as soon as it is known. The engine is generic over an [`Operation`]; [`Link`] is the
//! related-records update ([`Client::link_many`]), [`Unlink`] the delete ([`Client::unlink_many`]).
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
//! assert_eq!(report.outcomes[2].outcome.code(), "INVALID_DATA"); // sorted by row
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **Grouping.** Rows are grouped by parent within a window of [`BulkOptions::window`] rows. A group is sent
//! when it holds [`BulkOptions::batch_size`] rows; when its oldest row falls a whole window behind the newest
//! row read (so the window's memory stays bounded whatever the order); when the input ends; and, oldest first,
//! whenever fewer calls are on their way than there are slots (so the limit is kept busy on any order). Input
//! sorted by parent gives full calls with any window. Unsorted input gives calls of about
//! `window / parents-in-the-window` rows; for a file, sort it by parent first ([`partition`]): the `zcrm` CLI
//! does so by default, so a shuffled export runs as fast as a sorted one.
//!
//! **Memory.** At most [`BulkOptions::window`] rows wait to be sent (in groups, held-back duplicates and
//! batches ready to go), plus at most `2 x concurrency` batches in the workers (sending, waiting for a slot or
//! for a retry): `window + 2 x concurrency x batch_size` rows in all ([`BulkSummary::peak_held_rows`]).
//! Outcomes are passed on as soon as they are known, in completion order: nothing waits for an earlier row.
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
//! so a call whose response was lost can be sent again without creating anything twice. While the token
//! endpoint throttles (`Access Denied`), calls wait for it without spending retries (see [`crate::auth`]).
//!
//! **Circuit breaker.** An error that would end every call the same way (wrong client secret, revoked refresh
//! token, a token refused after a refresh, missing scope or permission, unknown module or related list, credits
//! spent: see [`breaker`]) stops the job at its first occurrence: calls in flight finish, rows read but not sent
//! get `NOT_ATTEMPTED` naming the cause, and [`BulkSummary::stopped`] holds the error.
//!
//! **Shared budget.** With a budget ([`crate::budget`]), each attempt also holds a slot of the org-wide limit
//! shared with other processes and is charged a credit. If the job's [`BulkOptions::reserve`] is reached, it
//! stops cleanly ([`BulkSummary::budget_stop`]); if Redis fails, the breaker stops it (`BUDGET_UNAVAILABLE`). In
//! both cases calls in flight finish and every row, read or not, gets an outcome.
//!
//! **Outcomes.** Every row read gets exactly one [`RowOutcome`], carrying its row index: Zoho's success or
//! per-record error, the error that ended its call after retries, `INVALID_INPUT` for a row that failed
//! validation (the job goes on), `CLIENT_PANIC` if building or sending its call panicked (a bug; the job goes
//! on), or `NOT_ATTEMPTED` after cancellation or a breaker stop. They are passed on in completion order;
//! [`Client::link_all`] returns them sorted by row.
//!
//! **Duplicates.** A row repeating a (parent, related record) pair that is already waiting or in flight is held
//! back until the earlier one finished, so the later row's relation fields win, as in input order.
//!
//! **Cancellation.** [`Cancel::cancel`] stops reading and sending and wakes calls sleeping in backoff; calls
//! on the wire finish; every row read but not sent is reported `NOT_ATTEMPTED`. Rows not yet read get no
//! outcome (a resumed job sends them).

pub mod breaker;
mod cancel;
mod engine;
mod mapping;
mod operation;
pub mod partition;
mod plan;
pub mod slots;
mod unlink;
mod window;
mod worker;

pub use cancel::Cancel;
pub use mapping::{Extra, RowMapping};
pub use operation::{Link, LinkRow, Operation};
pub use plan::{PlanItem, plan};
pub use unlink::{Unlink, UnlinkRow};

use std::sync::Arc;
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

    /// Validates the names. Related records of the base module itself (`Contacts` -> `Contacts`) must be keyed
    /// by `id`: one `X-EXTERNAL` pair per module could not say which side it addresses.
    pub fn build(self) -> Result<BulkSpec, InvalidInput> {
        let related_list = RelatedList::new(self.related_list)?;
        let module = ModuleName::new(self.module)?;
        let related_module = match self.related_module {
            Some(m) => ModuleName::parse_as(m, "related_module")?,
            None => ModuleName::new(related_list.as_str())?,
        };
        let key = match self.field {
            Some(f) if f == "id" => RelatedKey::Id,
            Some(f) => RelatedKey::External(FieldName::parse_as(f, "related_field")?),
            None => RelatedKey::Id,
        };
        if module == related_module && key != RelatedKey::Id {
            return Err(InvalidInput::new(
                "related_field",
                format!(
                    "the base and related module are both {module}: an X-EXTERNAL pair could not say which side it addresses; key the related records by id"
                ),
            ));
        }
        Ok(BulkSpec { module, related_module, related_list, key })
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
    /// How many rows the input holds, if known: progress then reports an ETA.
    pub expected_rows: Option<u64>,
    /// Credits to leave to the org's other integrations (needs a shared budget, [`crate::budget`]): the job
    /// stops scheduling calls before fewer would be left, and reports the rows it did not send as
    /// `NOT_ATTEMPTED` with the cause `CREDIT_RESERVE` ([`BulkSummary::budget_stop`]). Default none.
    pub reserve: Option<crate::budget::Reserve>,
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
            expected_rows: None,
            reserve: None,
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
    /// The group's label: the parent's path value (record id or external value) for related records; empty
    /// if the row was invalid. Shared by the rows of a call.
    pub parent: Arc<str>,
    /// The related record's key (external value or id), if the row had one.
    pub key: Option<String>,
    /// The outcome (`outcome.index == row`).
    pub outcome: Outcome,
    /// Calls made for this row's batch (0: never sent).
    pub attempts: u32,
}

/// Progress of a running job (reported at most every [`BulkOptions::progress_interval`], and once at the end).
/// Every count moves as calls complete, in any order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// Rows read from the input.
    pub rows_read: u64,
    /// Rows whose call was sent at least once.
    pub rows_sent: u64,
    /// Rows with a final outcome (succeeded + failed).
    pub completed: u64,
    /// ... of which succeeded.
    pub succeeded: u64,
    /// ... of which failed (any reason, including invalid and not attempted).
    pub failed: u64,
    /// Rows in calls on the wire right now (at most concurrency x batch size).
    pub in_flight: u64,
    /// Rows in calls waiting to be sent again (backoff, token throttle).
    pub waiting_retry: u64,
    /// Rows read and waiting to be sent (grouping window and ready batches).
    pub buffered: u64,
    /// Rows completed per second since the start.
    pub rows_per_sec: f64,
    /// Time since the start.
    pub elapsed: Duration,
    /// [`BulkOptions::expected_rows`].
    pub expected_rows: Option<u64>,
    /// Time left at the current rate, when the number of rows is known.
    pub eta: Option<Duration>,
    /// Current concurrency limit.
    pub concurrency: usize,
    /// HTTP calls so far (including retries).
    pub calls: u64,
    /// Retries so far.
    pub retries: u64,
    /// 429 answers so far.
    pub rate_limited: u64,
    /// The job is stopping (cancelled, or stopped by the breaker): calls in flight finish, nothing new is sent.
    pub stopping: bool,
}

/// Totals of a finished job.
#[derive(Debug, Clone, Default)]
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
    /// Times a call waited for the token endpoint's throttle to pass.
    pub throttle_waits: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The most rows waiting to be sent at once (never above the window).
    pub max_buffered_rows: usize,
    /// The most rows held at once: waiting to be sent, on the wire or waiting to retry (at most
    /// `window + 2 x concurrency x batch_size`).
    pub peak_held_rows: usize,
    /// The lowest concurrency the adaptive limit went down to.
    pub min_concurrency: usize,
    /// True if the job was cancelled.
    pub cancelled: bool,
    /// The error that stopped the job (the circuit breaker), if one did: see [`breaker`].
    pub stopped: Option<Error>,
    /// Why the shared budget stopped the job cleanly, if it did: the credit reserve was reached
    /// (`CREDIT_RESERVE`). Every row has an outcome (the rows not sent are `NOT_ATTEMPTED`); not a failure of the
    /// job as [`BulkSummary::stopped`] is.
    pub budget_stop: Option<Error>,
    /// Latency percentiles, retries by cause, rows/s, backoff, token refreshes, credits: see [`crate::metrics`].
    pub metrics: crate::metrics::JobMetrics,
}

/// Per-row outcomes (sorted by row) and totals.
#[derive(Debug, Clone, Default)]
pub struct BulkReport {
    /// One per row read, sorted by row.
    pub outcomes: Vec<RowOutcome>,
    /// Totals.
    pub summary: BulkSummary,
}

impl Client {
    /// Runs a bulk job of any [`Operation`]: reads `rows` (each with its row index), passes each row's outcome to
    /// `on_outcome` as soon as it is known (completion order), reports progress to `on_progress`, and returns
    /// the totals. Stops early if `cancel` is cancelled, or when the circuit breaker trips
    /// ([`BulkSummary::stopped`]). An `Err` row (e.g. a CSV row that could not be parsed) gets its own
    /// `INVALID_INPUT` outcome.
    ///
    /// Errors only for unusable `options`; every failure of a row is in its outcome.
    pub fn run_bulk<O, I>(
        &self,
        op: &O,
        options: &BulkOptions,
        rows: I,
        on_outcome: &mut dyn FnMut(RowOutcome),
        on_progress: &mut dyn FnMut(&Progress),
        cancel: &Cancel,
    ) -> Result<BulkSummary, Error>
    where
        O: Operation,
        I: IntoIterator<Item = (usize, Result<O::Input, InvalidInput>)>,
    {
        options.validate()?;
        let reserve = match (&options.reserve, self.call_gate()) {
            (None, _) => None,
            (Some(r), Some(gate)) => Some(gate.reserve_credits(r)?),
            (Some(_), None) => {
                return Err(Error::InvalidConfig {
                    setting: "reserve".into(),
                    message: "a credit reserve needs a shared budget (budget=redis://...)".into(),
                });
            }
        };
        let summary = engine::run(self, op, options, reserve, &mut rows.into_iter(), on_outcome, on_progress, cancel);
        self.events().flush();
        Ok(summary)
    }

    /// Links related records: [`Client::run_bulk`] of [`Link`] over `rows`, numbered 0, 1, 2, ... in input
    /// order.
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
        let op = Link::new(spec.clone());
        self.run_bulk(&op, options, rows.into_iter().enumerate(), on_outcome, on_progress, cancel)
    }

    /// [`Client::link_many`] collecting every outcome, sorted by row.
    pub fn link_all<I>(&self, spec: &BulkSpec, options: &BulkOptions, rows: I) -> Result<BulkReport, Error>
    where
        I: IntoIterator<Item = Result<BulkRow, InvalidInput>>,
    {
        let mut outcomes = Vec::new();
        let summary = self.link_many(spec, options, rows, &mut |o| outcomes.push(o), &mut |_| {}, &Cancel::new())?;
        outcomes.sort_unstable_by_key(|o| o.row);
        Ok(BulkReport { outcomes, summary })
    }
}
