//! Applying a plan through the bulk engine: one mixed [`crate::bulk::Operation`] ([`ApplyChanges`],
//! [`super::apply_op`]) whose rows are the plan's changes. Links and updates go by PUT through
//! [`crate::bulk::Link`]'s rows and calls, unlinks by DELETE through [`crate::bulk::Unlink`]'s; a change's group
//! is its kind plus its parent, so a parent's links and updates share PUT calls of up to 100 and its unlinks share
//! `ids=` DELETE calls of up to 100, and both kinds keep the same slots busy in one job (one engine, one
//! concurrency limit, one report: the choice over two phases, which would leave slots idle at the seam and give
//! two reports).
//!
//! **Order and windows.** Changes are sent in plan order. With `recheck` (the default), parents go in windows
//! of [`ApplyOptions::window`]: the window's parents are read again (concurrently, within the same concurrency
//! limit, before any write of the window) and compared with what the plan read ([`super::guard`]); a parent that
//! changed gets `CHANGED_SINCE_PLANNING` on each of its changes and nothing is sent for it; then the window's
//! other changes go through the engine. Without `recheck` the whole plan is one engine job.
//!
//! **Outcomes.** One [`RowOutcome`] per change, its `row` the change's position in [`Plan::changes`], its `key`
//! the change's [`super::Change::label`]. Choice: an unlink answered `INVALID_DATA` "relation not found" is reported
//! as a success ("already unlinked"): the plan wanted the pair gone and it is; that answer comes back when a
//! retried DELETE follows one whose answer was lost. A refused parent's changes, and every change not sent
//! because the job was cancelled or stopped by the breaker, get their own outcome (never none).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::apply_op::{ApplyChanges, ApplyInput};
use super::guard::{MaxUnlinks, Recheck, changed_since, check_max_unlinks};
use super::model::{ParentPlan, Plan};
use super::read::ordered;
use crate::bulk::breaker::stops_the_job;
use crate::bulk::{BulkOptions, BulkSummary, Cancel, Progress, RowOutcome};
use crate::client::Client;
use crate::code::ErrorCode;
use crate::error::{Details, Error};
use crate::response::{Failure, Outcome};

/// How a plan is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyOptions {
    /// The bulk job's tuning (concurrency, batch size, retries, progress interval).
    pub bulk: BulkOptions,
    /// Read each parent with changes again before its changes are sent, and refuse it if its links changed since
    /// planning (default true; see [`super::guard`]).
    pub recheck: bool,
    /// Parents re-read, then written, at a time (default 1,000).
    pub window: usize,
    /// A guard replacing the plan's own (`None`: the plan's).
    pub max_unlinks: Option<MaxUnlinks>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { bulk: BulkOptions::default(), recheck: true, window: 1_000, max_unlinks: None }
    }
}

/// Totals of an applied plan.
#[derive(Debug, Clone, Default)]
pub struct ApplySummary {
    /// The engine's totals over every change: `rows` is the plan's changes, refused ones counted as failed.
    pub bulk: BulkSummary,
    /// Parents refused because their links changed since planning (or could not be read again).
    pub refused_parents: u64,
    /// ... their changes, none sent.
    pub refused_changes: u64,
    /// Read calls of the recheck.
    pub read_calls: u64,
}

/// Outcomes (sorted by change) and totals.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// One per change of the plan, sorted by change.
    pub outcomes: Vec<RowOutcome>,
    /// Totals.
    pub summary: ApplySummary,
}

/// Running totals across the windows of an apply.
#[derive(Default)]
struct Totals {
    summary: BulkSummary,
    rows_sent: u64,
}

impl Totals {
    fn add(&mut self, s: BulkSummary, rows_sent: u64) {
        let t = &mut self.summary;
        t.rows += s.rows;
        t.succeeded += s.succeeded;
        t.failed += s.failed;
        t.invalid += s.invalid;
        t.not_attempted += s.not_attempted;
        t.calls += s.calls;
        t.retries += s.retries;
        t.rate_limited += s.rate_limited;
        t.throttle_waits += s.throttle_waits;
        t.max_buffered_rows = t.max_buffered_rows.max(s.max_buffered_rows);
        t.peak_held_rows = t.peak_held_rows.max(s.peak_held_rows);
        t.min_concurrency =
            if t.min_concurrency == 0 { s.min_concurrency } else { t.min_concurrency.min(s.min_concurrency) };
        t.cancelled |= s.cancelled;
        if t.stopped.is_none() {
            t.stopped = s.stopped;
        }
        self.rows_sent += rows_sent;
    }

    /// Outcomes given outside the engine (refused, not attempted).
    fn add_failed(&mut self, n: u64, not_attempted: bool) {
        self.summary.rows += n;
        self.summary.failed += n;
        if not_attempted {
            self.summary.not_attempted += n;
        }
    }

    /// The engine's progress of the current window, as progress of the whole apply.
    fn progress(&self, p: &Progress, started: Instant, total: u64) -> Progress {
        let s = &self.summary;
        let completed = s.succeeded + s.failed + p.completed;
        let elapsed = started.elapsed();
        let rate = completed as f64 / elapsed.as_secs_f64().max(1e-9);
        let eta = (rate > 0.0 && !p.stopping).then(|| {
            Duration::try_from_secs_f64(total.saturating_sub(completed) as f64 / rate).unwrap_or(Duration::MAX)
        });
        Progress {
            rows_read: s.rows + p.rows_read,
            rows_sent: self.rows_sent + p.rows_sent,
            completed,
            succeeded: s.succeeded + p.succeeded,
            failed: s.failed + p.failed,
            rows_per_sec: rate,
            elapsed,
            expected_rows: Some(total),
            eta,
            calls: s.calls + p.calls,
            retries: s.retries + p.retries,
            rate_limited: s.rate_limited + p.rate_limited,
            ..p.clone()
        }
    }
}

fn failure(row: usize, code: ErrorCode, message: String, details: Details) -> Outcome {
    Outcome { index: row, result: Err(Failure { code, message, details, status: None }) }
}

fn changed_outcome(row: usize, parent: &ParentPlan, planned: u64, now: u64) -> Outcome {
    let mut details = Details::new();
    details.insert("parent".into(), parent.parent.path_value().into());
    details.insert("links_planned".into(), planned.into());
    details.insert("links_now".into(), now.into());
    failure(
        row,
        ErrorCode::ChangedSincePlanning,
        format!(
            "the parent's links changed since planning ({planned} linked then, {now} now): nothing was sent for this parent; plan again"
        ),
        details,
    )
}

fn not_attempted(row: usize, cause: Option<&Error>) -> Outcome {
    let (message, mut details) = match cause {
        Some(e) => (format!("not sent: the apply stopped after {}: {}", e.code(), e.message()), Details::new()),
        None => ("the apply was cancelled before this change was sent".to_owned(), Details::new()),
    };
    if let Some(e) = cause {
        details.insert("cause".into(), e.code().as_str().into());
    }
    failure(row, ErrorCode::NotAttempted, message, details)
}

impl Client {
    /// Applies `plan` (see [`super::apply`]): refuses it before anything is sent if it unlinks more than
    /// `max_unlinks` allows; then sends its changes through the bulk engine, passing one [`RowOutcome`] per
    /// change to `on_outcome` (completion order) and progress to `on_progress`. Errors only for unusable
    /// options or the guard; every failure of a change is in its outcome.
    pub fn apply_plan(
        &self,
        plan: &Plan,
        options: &ApplyOptions,
        on_outcome: &mut dyn FnMut(RowOutcome),
        on_progress: &mut dyn FnMut(&Progress),
        cancel: &Cancel,
    ) -> Result<ApplySummary, Error> {
        options.bulk.validate()?;
        if options.window == 0 {
            return Err(Error::config("window", "must be at least 1"));
        }
        let s = plan.summary();
        check_max_unlinks(options.max_unlinks.or(plan.max_unlinks()), s.unlinks, s.current_links)?;
        let op = ApplyChanges::new(plan.spec().bulk());
        let started = Instant::now();
        let total = plan.changes().count() as u64;
        let mut totals = Totals::default();
        let mut out = ApplySummary::default();
        // Parents with changes, each with the position of its first change.
        let mut next_row = 0usize;
        let parents: Vec<(usize, &ParentPlan)> = plan
            .parents()
            .iter()
            .filter(|p| !p.changes.is_empty())
            .map(|p| {
                let first = next_row;
                next_row += p.changes.len();
                (first, p)
            })
            .collect();
        let window = if options.recheck { options.window } else { parents.len().max(1) };
        let mut emit = |o: RowOutcome| on_outcome(o);
        let give = |emit: &mut dyn FnMut(RowOutcome), first: usize, p: &ParentPlan, f: &dyn Fn(usize) -> Outcome| {
            let label: Arc<str> = Arc::from(p.parent.path_value());
            for (i, c) in p.changes.iter().enumerate() {
                let row = first + i;
                emit(RowOutcome { row, parent: label.clone(), key: Some(c.label()), outcome: f(row), attempts: 0 });
            }
        };
        for chunk in parents.chunks(window) {
            if cancel.is_cancelled() || totals.summary.stopped.is_some() {
                let cause = totals.summary.stopped.clone();
                for (first, p) in chunk {
                    give(&mut emit, *first, p, &|row| not_attempted(row, cause.as_ref()));
                    totals.add_failed(p.changes.len() as u64, true);
                }
                continue;
            }
            let mut accepted: Vec<(usize, &ParentPlan)> = Vec::with_capacity(chunk.len());
            if options.recheck {
                let stop = cancel.child();
                let mut fatal: Option<Error> = None;
                ordered(
                    options.bulk.concurrency,
                    chunk.len(),
                    &mut chunk.iter().copied(),
                    &|(_, p): &(usize, &ParentPlan)| {
                        if stop.is_cancelled() {
                            return (Err(Error::Cancelled { message: "the apply was cancelled".into() }), 0);
                        }
                        changed_since(self, plan.spec(), p)
                    },
                    &mut |(first, p), (result, calls)| {
                        out.read_calls += calls;
                        match result {
                            Ok(Recheck::Unchanged) => accepted.push((first, p)),
                            Ok(Recheck::Changed { planned, now }) => {
                                out.refused_parents += 1;
                                out.refused_changes += p.changes.len() as u64;
                                give(&mut emit, first, p, &|row| changed_outcome(row, p, planned, now));
                                totals.add_failed(p.changes.len() as u64, false);
                            }
                            Err(e) if stops_the_job(&e, None) || matches!(e, Error::Cancelled { .. }) => {
                                if stops_the_job(&e, None) && fatal.is_none() {
                                    fatal = Some(e.clone());
                                    stop.cancel();
                                }
                                let cause = fatal.clone();
                                give(&mut emit, first, p, &|row| not_attempted(row, cause.as_ref()));
                                totals.add_failed(p.changes.len() as u64, true);
                            }
                            Err(e) => {
                                out.refused_parents += 1;
                                out.refused_changes += p.changes.len() as u64;
                                give(&mut emit, first, p, &|row| Outcome::from_error(row, &e));
                                totals.add_failed(p.changes.len() as u64, false);
                            }
                        }
                    },
                    &stop,
                );
                if let Some(e) = fatal {
                    totals.summary.stopped = Some(e);
                }
            } else {
                accepted.extend_from_slice(chunk);
            }
            if accepted.is_empty() || totals.summary.stopped.is_some() {
                let cause = totals.summary.stopped.clone();
                for (first, p) in &accepted {
                    give(&mut emit, *first, p, &|row| not_attempted(row, cause.as_ref()));
                    totals.add_failed(p.changes.len() as u64, true);
                }
                continue;
            }
            let rows = accepted.iter().flat_map(|(first, p)| {
                p.changes
                    .iter()
                    .enumerate()
                    .map(move |(i, c)| (first + i, Ok(ApplyInput { parent: p.parent.clone(), change: c.clone() })))
            });
            let bulk = BulkOptions { expected_rows: Some(total), ..options.bulk.clone() };
            let mut sent = 0;
            let summary = self.run_bulk(
                &op,
                &bulk,
                rows,
                &mut |o| emit(o),
                &mut |p| {
                    sent = p.rows_sent;
                    on_progress(&totals.progress(p, started, total));
                },
                cancel,
            )?;
            totals.add(summary, sent);
        }
        let mut bulk = totals.summary;
        bulk.elapsed = started.elapsed();
        bulk.cancelled = cancel.is_cancelled();
        out.bulk = bulk;
        Ok(out)
    }

    /// [`Client::apply_plan`] collecting every outcome, sorted by change.
    pub fn apply_plan_all(&self, plan: &Plan, options: &ApplyOptions) -> Result<ApplyReport, Error> {
        let mut outcomes = Vec::new();
        let summary = self.apply_plan(plan, options, &mut |o| outcomes.push(o), &mut |_| {}, &Cancel::new())?;
        outcomes.sort_unstable_by_key(|o| o.row);
        Ok(ApplyReport { outcomes, summary })
    }
}
