//! A bulk job's workers: each takes a batch, builds its call, sends it with retries within the job's slots and
//! retry budget, and hands back the answer. A panic while building or sending becomes a `CLIENT_PANIC` outcome
//! for the batch's rows; the slot is released whatever happens (a guard), so a job can never hang on a lost
//! slot or a lost batch.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use super::breaker::stops_the_job;
use super::cancel::Cancel;
use super::operation::Operation;
use super::slots::Slots;
use super::window::Batch;
use crate::client::{AttemptError, Client, may_retry};
use crate::code::ErrorCode;
use crate::error::Error;
use crate::events;
use crate::response::Outcome;
use crate::retry::{Jitter, RetryBudget, is_rate_limited};

/// How long a worker waits for a slot before it looks at the stop signal again.
const SLOT_POLL: Duration = Duration::from_millis(50);

/// State shared by the coordinator and the workers of one job.
pub(super) struct Shared<'a, O: Operation> {
    pub client: &'a Client,
    pub op: &'a O,
    pub slots: Slots,
    pub budget: RetryBudget,
    /// Stops the job: the user's cancel (a parent of it) or the breaker.
    pub halt: Cancel,
    /// The error that tripped the breaker, if it did.
    pub tripped: Mutex<Option<Error>>,
    /// Credits the job leaves to the org ([`crate::budget`]), if it has a reserve.
    pub reserve: Option<u64>,
    /// Why the shared budget stopped the job cleanly (its credit reserve), if it did.
    pub budget_stop: Mutex<Option<Error>>,
    pub counters: Counters,
}

/// Live counts, read for progress reports.
#[derive(Default)]
pub(super) struct Counters {
    pub calls: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
    pub throttle_waits: AtomicU64,
    /// Rows in calls on the wire right now.
    pub on_wire: AtomicU64,
    /// Rows in calls waiting to be sent again.
    pub waiting_retry: AtomicU64,
    /// Rows whose call was sent at least once.
    pub sent: AtomicU64,
    pub panics: AtomicU64,
}

/// What became of a batch.
pub(super) enum Sendout {
    /// Answered: one outcome per row, and the calls made.
    Answered(Vec<Outcome>, u32),
    /// Failed as a whole after `u32` calls.
    Failed(Error, u32),
    /// Never sent: the job stopped first.
    NotSent,
}

pub(super) struct Finished<R> {
    pub batch: Batch<R>,
    pub result: Sendout,
}

impl<O: Operation> Shared<'_, O> {
    fn trip(&self, error: &Error) {
        let mut slot = self.tripped.lock().unwrap_or_else(|p| p.into_inner());
        let first = slot.is_none();
        if first {
            *slot = Some(error.clone());
        }
        drop(slot);
        if first {
            events::breaker_opened(self.client.events(), error);
        }
        self.halt.cancel();
    }

    /// Stops the job cleanly for the shared budget (the credit reserve): not a failure of the job.
    fn stop_for_budget(&self, error: &Error) {
        self.budget_stop.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(|| error.clone());
        self.halt.cancel();
    }
}

/// Releases a slot (and the on-wire count) when dropped, even while unwinding.
struct Held<'a> {
    slots: &'a Slots,
    on_wire: &'a AtomicU64,
    rows: u64,
    rate_limited: bool,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.on_wire.fetch_sub(self.rows, Ordering::Relaxed);
        self.slots.release(self.rate_limited);
    }
}

pub(super) fn work<O: Operation>(
    shared: &Shared<'_, O>,
    jobs: &Mutex<mpsc::Receiver<Batch<O::Row>>>,
    done: mpsc::Sender<Finished<O::Row>>,
) {
    loop {
        let next = jobs.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(mut batch) = next else { return };
        let result = if shared.halt.is_cancelled() {
            Sendout::NotSent
        } else {
            // The rows move into the call; the batch keeps each row's index and key for the outcomes.
            let rows: Vec<O::Row> = batch.items.iter_mut().filter_map(|i| i.data.take()).collect();
            let n = rows.len() as u64;
            match catch_unwind(AssertUnwindSafe(|| {
                let call = shared.op.call(rows);
                send_with_retries(shared, &call, n)
            })) {
                Ok(result) => result,
                Err(panic) => {
                    shared.counters.panics.fetch_add(1, Ordering::Relaxed);
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".to_owned());
                    Sendout::Failed(
                        Error::Internal { message: format!("the client panicked while sending this batch: {what}") },
                        0,
                    )
                }
            }
        };
        if done.send(Finished { batch, result }).is_err() {
            return;
        }
    }
}

fn send_with_retries<O: Operation>(shared: &Shared<'_, O>, call: &O::Call, rows: u64) -> Sendout {
    let policy = shared.client.retry_policy();
    let c = &shared.counters;
    shared.budget.deposit();
    let mut jitter = Jitter::new();
    let mut attempt = 0u32;
    let mut calls = 0u32;
    let mut last: Option<Error> = None;
    loop {
        if !acquire(shared) {
            return match last {
                Some(e) => Sendout::Failed(e, calls),
                None => Sendout::NotSent,
            };
        }
        // The org-wide limits shared with other processes (a free pass without a budget).
        let pass = match shared.client.enter(call, shared.reserve, &shared.halt) {
            Ok(pass) => pass,
            Err(e) => {
                shared.slots.release(false);
                match e.code() {
                    ErrorCode::CreditReserve => shared.stop_for_budget(&e),
                    ErrorCode::Cancelled => {}
                    _ => shared.trip(&e),
                }
                return match last {
                    Some(e) => Sendout::Failed(e, calls),
                    None => Sendout::NotSent,
                };
            }
        };
        let mut held = Held { slots: &shared.slots, on_wire: &c.on_wire, rows, rate_limited: false };
        c.on_wire.fetch_add(rows, Ordering::Relaxed);
        if calls == 0 {
            c.sent.fetch_add(rows, Ordering::Relaxed);
        }
        let result = shared.client.send_attempt(call, calls + 1);
        pass.finish(matches!(&result, Err(f) if is_rate_limited(&f.error)));
        // A refusal by the token endpoint (or the shared budget) never reached the API: it is not a call.
        if !matches!(&result, Err(f) if f.error.kind() == crate::error::ErrorKind::Auth || matches!(f.error, Error::Budget { .. }))
        {
            calls += 1;
            c.calls.fetch_add(1, Ordering::Relaxed);
        }
        let failed: AttemptError = match result {
            Ok(output) => {
                drop(held);
                return Sendout::Answered(shared.op.outcomes(output), calls);
            }
            Err(f) => f,
        };
        let limited = is_rate_limited(&failed.error);
        held.rate_limited = limited;
        if limited {
            c.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        if stops_the_job(&failed.error, failed.credits_remaining) {
            // Trip before the slot is free, so no waiting call takes it and goes out.
            shared.trip(&failed.error);
            drop(held);
            return Sendout::Failed(failed.error, calls);
        }
        drop(held);
        if limited {
            events::rate_limited(shared.client.events(), Some(shared.slots.capacity()), failed.credits_remaining);
        }
        // The token endpoint's throttle passes in minutes: wait it out (the token source lets one request
        // through per wait), without spending a retry.
        if failed.error.code() == ErrorCode::OauthThrottled {
            c.throttle_waits.fetch_add(1, Ordering::Relaxed);
            let wait = failed.retry_after.unwrap_or(policy.max_delay);
            events::token_throttled(shared.client.events(), wait);
            if !wait_retry(shared, wait, rows) {
                return Sendout::Failed(failed.error, calls);
            }
            last = Some(failed.error);
            continue;
        }
        // A 429 paces the job (the slots adapt) and does not draw on the budget, which guards against
        // hammering a failing server; `max_retries` still bounds it per call.
        if may_retry(call, &failed.error) && attempt < policy.max_retries && (limited || shared.budget.try_withdraw()) {
            c.retries.fetch_add(1, Ordering::Relaxed);
            let delay = policy.delay(attempt, failed.retry_after, &mut jitter);
            attempt += 1;
            events::retry_scheduled(shared.client.events(), &failed.error, delay, attempt);
            if !wait_retry(shared, delay, rows) {
                return Sendout::Failed(failed.error, calls);
            }
            last = Some(failed.error);
            continue;
        }
        return Sendout::Failed(failed.error, calls);
    }
}

/// Waits for a slot; false if the job stopped meanwhile (then no slot is held).
fn acquire<O: Operation>(shared: &Shared<'_, O>) -> bool {
    loop {
        if shared.halt.is_cancelled() {
            return false;
        }
        if shared.slots.acquire_timeout(SLOT_POLL) {
            if shared.halt.is_cancelled() {
                shared.slots.release(false);
                return false;
            }
            return true;
        }
    }
}

/// Sleeps before a retry, counted as waiting; false if the job stopped meanwhile.
fn wait_retry<O: Operation>(shared: &Shared<'_, O>, delay: Duration, rows: u64) -> bool {
    let c = &shared.counters;
    c.waiting_retry.fetch_add(rows, Ordering::Relaxed);
    let slept = shared.halt.sleep(delay);
    c.waiting_retry.fetch_sub(rows, Ordering::Relaxed);
    slept
}
