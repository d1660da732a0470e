//! Planning: the desired rows -> per parent, a read of its current links and a diff -> the plan, streamed.
//!
//! 1. Every input row is checked ([`check_row`]); a failure is an [`InvalidRow`] of the plan, not an error.
//! 2. The rows are sorted by parent with [`crate::bulk::partition`] (bounded memory: up to
//!    [`PlanOptions::sort`]`.run_rows` rows in memory, the rest in temporary files), so that all the rows of a
//!    parent are together whatever the input's order (a parent's desired set must be whole before it is diffed:
//!    a pair missing from it would be planned for unlinking).
//! 3. Parents go to the readers in that order ([`super::read::ordered`]: `concurrency` reads on the wire, at most
//!    [`PlanOptions::window`] parents between the oldest not yet diffed and the newest started), and are diffed
//!    and passed on in that order as their reads complete.
//!
//! **Memory**: the sort's run (`run_rows` rows), plus the window's parents (their desired rows and their linked
//! records); the plan collected by [`crate::Client::plan_links`] holds only the parents with changes (or a
//! failed read), with their changes. [`crate::Client::plan_links_each`] passes each parent's plan on instead.
//!
//! **Errors**: a parent whose read fails after retries is kept in the plan with its error and no changes
//! (nothing is planned for it); an error that would fail every read (authentication, scope, unknown module or
//! related list, credits: [`crate::bulk::breaker`]) ends planning with that error.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::diff::{Desired, Missing, diff, digest};
use super::guard::MaxUnlinks;
use super::model::{InvalidRow, ParentPlan, Plan, PlanSummary, ReadFailure, SyncSpec};
use super::read::{cancelled, ordered, parent_of, read_current, spill_error};
use crate::bulk::breaker::stops_the_job;
use crate::bulk::partition::{SortOptions, sort_by_key};
use crate::bulk::{BulkRow, Cancel};
use crate::client::Client;
use crate::error::{Error, InvalidInput};
use crate::related::check_record;
use crate::related_rows::RelatedRow;

/// How a plan is made.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOptions {
    /// Plan unlinks of linked records absent from the input (default false: links and updates only).
    pub unlink_missing: bool,
    /// Refuse to apply a plan with more unlinks than this (recorded in the plan).
    pub max_unlinks: Option<MaxUnlinks>,
    /// Reads on the wire at once (default 10, the bulk jobs' default).
    pub concurrency: usize,
    /// Parents read ahead of the oldest not yet diffed (default 1,000).
    pub window: usize,
    /// The partition pass (rows sorted in memory at once, temporary folder).
    pub sort: SortOptions,
    /// Least time between two progress reports (default 200 ms).
    pub progress_interval: Duration,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            unlink_missing: false,
            max_unlinks: None,
            concurrency: crate::bulk::SUB_CONCURRENCY,
            window: 1_000,
            sort: SortOptions::default(),
            progress_interval: Duration::from_millis(200),
        }
    }
}

impl PlanOptions {
    fn validate(&self) -> Result<(), Error> {
        if self.concurrency == 0 || self.concurrency > 100 {
            return Err(Error::config("concurrency", "must be 1 to 100"));
        }
        if self.window == 0 {
            return Err(Error::config("window", "must be at least 1"));
        }
        Ok(())
    }
}

/// Progress of planning (reported at most every [`PlanOptions::progress_interval`], and once at the end).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanProgress {
    /// Input rows read (all of them once the partition pass is done).
    pub rows_read: u64,
    /// Usable rows whose parent was diffed.
    pub rows_planned: u64,
    /// Usable rows in the input (known once the partition pass is done).
    pub rows_total: Option<u64>,
    /// Parents diffed.
    pub parents: u64,
    /// Read calls so far.
    pub read_calls: u64,
    /// Changes planned so far.
    pub changes: u64,
    /// Time since the start.
    pub elapsed: Duration,
}

/// A usable row, as sorted: parent value, then the desired pair.
#[derive(serde::Serialize, serde::Deserialize)]
struct Sorted {
    parent: String,
    desired: Desired,
}

/// Checks input row `index` against `spec`: the parent named as the spec names parents, the related key valid,
/// only managed fields (empty values are left out).
pub fn check_row(spec: &SyncSpec, index: usize, row: BulkRow) -> Result<(String, Desired), InvalidInput> {
    if !spec.names(&row.parent) {
        return Err(InvalidInput::new(
            "parent",
            format!("this plan names parents as {}; the row's parent is named otherwise", spec.parent_text()),
        )
        .at(index));
    }
    spec.bulk.check_parent(&row.parent).map_err(|e| e.at(index))?;
    let mut record = check_record(index, row.record, spec.bulk.key())?;
    let key = match record.remove(spec.bulk.key().field()) {
        Some(Value::String(s)) => s,
        _ => unreachable!("check_record guarantees the key is a string"),
    };
    let mut fields = Map::new();
    for (f, v) in record {
        if !spec.fields.iter().any(|m| m.as_str() == f) {
            return Err(InvalidInput::new("data", format!("{f} is not one of the plan's fields ({})", names(spec)))
                .at(index)
                .field(f));
        }
        if !v.is_null() && v != Value::String(String::new()) {
            fields.insert(f, v);
        }
    }
    Ok((row.parent.path_value().to_owned(), Desired { row: index, key, fields }))
}

fn names(spec: &SyncSpec) -> String {
    let n: Vec<&str> = spec.fields.iter().map(|f| f.as_str()).collect();
    if n.is_empty() { "none".into() } else { n.join(", ") }
}

/// The parents of a sorted stream, each with its desired rows.
struct Groups<I: Iterator> {
    rows: std::iter::Peekable<I>,
    failed: Option<std::io::Error>,
}

impl<I: Iterator<Item = std::io::Result<Sorted>>> Iterator for Groups<I> {
    type Item = (String, Vec<Desired>);

    fn next(&mut self) -> Option<(String, Vec<Desired>)> {
        let first = match self.rows.next()? {
            Ok(r) => r,
            Err(e) => {
                self.failed = Some(e);
                return None;
            }
        };
        let mut desired = vec![first.desired];
        while let Some(Ok(next)) = self.rows.peek() {
            if next.parent != first.parent {
                break;
            }
            if let Some(Ok(r)) = self.rows.next() {
                desired.push(r.desired);
            }
        }
        Some((first.parent, desired))
    }
}

/// The result of planning without collecting the parents (they went to `on_parent`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOutline {
    /// The totals.
    pub summary: PlanSummary,
    /// The rows that could not be used.
    pub invalid: Vec<InvalidRow>,
}

impl Client {
    /// Plans a reconcile of `rows` (the desired pairs of `spec`'s relation, any order; an `Err` row is an invalid
    /// row of the plan), reading the current links of every parent in the input, and passes each parent's plan to
    /// `on_parent` as soon as it is diffed (in parent order; parents without changes too). See [`super::plan`].
    /// Nothing is changed in Zoho.
    pub fn plan_links_each<I>(
        &self,
        spec: &SyncSpec,
        options: &PlanOptions,
        rows: I,
        on_parent: &mut dyn FnMut(ParentPlan),
        on_progress: &mut dyn FnMut(&PlanProgress),
        cancel: &Cancel,
    ) -> Result<PlanOutline, Error>
    where
        I: IntoIterator<Item = Result<BulkRow, InvalidInput>>,
    {
        options.validate()?;
        let started = Instant::now();
        let mut summary = PlanSummary::default();
        let mut invalid = Vec::new();
        let mut valid = 0u64;
        let checked = rows.into_iter().enumerate().filter_map(|(i, row)| {
            summary.rows += 1;
            match row.and_then(|r| check_row(spec, i, r)) {
                Ok((parent, desired)) => {
                    valid += 1;
                    Some(Sorted { parent, desired })
                }
                Err(e) => {
                    invalid.push(InvalidRow::new(i, &e));
                    None
                }
            }
        });
        let sorted = sort_by_key(checked, |r| r.parent.clone(), &options.sort).map_err(|e| spill_error(&e))?;
        summary.invalid_rows = invalid.len() as u64;
        if cancel.is_cancelled() {
            return Err(cancelled("planning"));
        }
        let missing = match (options.unlink_missing, invalid.is_empty()) {
            (false, _) => Missing::Keep,
            (true, true) => Missing::Unlink,
            (true, false) => Missing::Withhold,
        };
        let stop = cancel.child();
        let mut fatal: Option<Error> = None;
        let mut progress = PlanProgress { rows_read: summary.rows, rows_total: Some(valid), ..PlanProgress::default() };
        let mut last_progress = Instant::now();
        let mut groups = Groups { rows: sorted.peekable(), failed: None };
        let read = |(parent, _): &(String, Vec<Desired>)| -> (Result<Vec<RelatedRow>, Error>, u64) {
            if stop.is_cancelled() {
                return (Err(cancelled("planning")), 0);
            }
            match parent_of(spec, parent) {
                Ok(p) => read_current(self, spec, &p),
                Err(e) => (Err(e), 0),
            }
        };
        ordered(
            options.concurrency,
            options.window,
            &mut groups,
            &read,
            &mut |(parent, desired), (current, calls)| {
                summary.read_calls += calls;
                progress.read_calls += calls;
                progress.rows_planned += desired.len() as u64;
                if fatal.is_some() || stop.is_cancelled() {
                    return;
                }
                let parent = match parent_of(spec, &parent) {
                    Ok(p) => p,
                    Err(e) => {
                        fatal = Some(e);
                        stop.cancel();
                        return;
                    }
                };
                summary.parents += 1;
                progress.parents += 1;
                let plan = match current {
                    Err(e) if stops_the_job(&e, None) || matches!(e, Error::Cancelled { .. }) => {
                        fatal = Some(e);
                        stop.cancel();
                        return;
                    }
                    Err(e) => {
                        summary.parents_failed += 1;
                        let error = Some(ReadFailure {
                            code: e.code().to_string(),
                            message: e.to_string(),
                            status: e.status(),
                        });
                        ParentPlan {
                            parent,
                            links_read: 0,
                            digest: String::new(),
                            changes: Vec::new(),
                            unchanged: 0,
                            error,
                        }
                    }
                    Ok(current) => {
                        let d = diff(spec, desired, &current, missing);
                        summary.current_links += current.len() as u64;
                        summary.duplicate_rows += d.duplicates;
                        summary.unchanged += d.unchanged;
                        summary.withheld_unlinks += d.withheld;
                        for c in &d.changes {
                            match c.kind {
                                super::ChangeKind::Link => summary.links += 1,
                                super::ChangeKind::Update => summary.updates += 1,
                                super::ChangeKind::Unlink => summary.unlinks += 1,
                            }
                        }
                        summary.parents_changed += u64::from(!d.changes.is_empty());
                        progress.changes += d.changes.len() as u64;
                        ParentPlan {
                            parent,
                            links_read: current.len() as u64,
                            digest: digest(spec, &current),
                            changes: d.changes,
                            unchanged: d.unchanged,
                            error: None,
                        }
                    }
                };
                on_parent(plan);
                if last_progress.elapsed() >= options.progress_interval {
                    last_progress = Instant::now();
                    progress.elapsed = started.elapsed();
                    on_progress(&progress);
                }
            },
            &stop,
        );
        if let Some(e) = groups.failed {
            return Err(spill_error(&e));
        }
        if let Some(e) = fatal {
            return Err(e);
        }
        if cancel.is_cancelled() {
            return Err(cancelled("planning"));
        }
        progress.elapsed = started.elapsed();
        on_progress(&progress);
        Ok(PlanOutline { summary, invalid })
    }

    /// Plans a reconcile (see [`Client::plan_links_each`]) and collects the parents with changes or a failed
    /// read into a [`Plan`], ready to print, save and apply. Nothing is changed in Zoho.
    pub fn plan_links<I>(
        &self,
        spec: &SyncSpec,
        options: &PlanOptions,
        rows: I,
        on_progress: &mut dyn FnMut(&PlanProgress),
        cancel: &Cancel,
    ) -> Result<Plan, Error>
    where
        I: IntoIterator<Item = Result<BulkRow, InvalidInput>>,
    {
        let mut parents = Vec::new();
        let outline = self.plan_links_each(
            spec,
            options,
            rows,
            &mut |p| {
                if !p.changes.is_empty() || p.error.is_some() {
                    parents.push(p);
                }
            },
            on_progress,
            cancel,
        )?;
        Ok(Plan {
            spec: spec.clone(),
            unlink_missing: options.unlink_missing,
            max_unlinks: options.max_unlinks,
            summary: outline.summary,
            invalid: outline.invalid,
            parents,
        })
    }
}
