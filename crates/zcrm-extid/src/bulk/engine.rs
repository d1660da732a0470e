//! The bulk job's coordinator (reads rows, groups, dispatches, reorders outcomes) and its workers (send with
//! retries). See the parent module for the behaviour.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use super::reorder::Reorder;
use super::slots::Slots;
use super::window::{Batch, Item, Window};
use super::{BulkOptions, BulkRow, BulkSpec, BulkSummary, Cancel, Progress, RowOutcome};
use crate::client::Client;
use crate::code::ErrorCode;
use crate::error::{Details, Error, InvalidInput};
use crate::related::{UpdateRelated, check_record};
use crate::response::{Failure, Outcome, UpdateResponse};
use crate::retry::{Jitter, RetryBudget, is_rate_limited, is_retryable};

enum Sendout {
    Sent(Result<UpdateResponse, Error>, u32),
    NotAttempted,
}

struct Finished {
    batch: Batch,
    result: Sendout,
}

struct Shared<'a> {
    client: &'a Client,
    spec: &'a BulkSpec,
    slots: Slots,
    budget: RetryBudget,
    cancel: &'a Cancel,
    calls: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
}

fn failure(row: usize, code: ErrorCode, message: String, details: Details) -> Outcome {
    Outcome { index: row, result: Err(Failure { code, message, details, status: None }) }
}

fn invalid(row: usize, e: &InvalidInput) -> Outcome {
    let mut details = Details::new();
    details.insert("argument".into(), e.argument.clone().into());
    if let Some(f) = &e.field {
        details.insert("field".into(), f.clone().into());
    }
    // The row is in the outcome; the message says what is wrong with which field.
    let message = match &e.field {
        Some(f) if !e.message.contains(f.as_str()) => format!("{f}: {}", e.message),
        _ => e.message.clone(),
    };
    failure(row, ErrorCode::InvalidInput, message, details)
}

/// Counters of emitted outcomes.
#[derive(Default)]
struct Tally {
    done: u64,
    succeeded: u64,
    invalid: u64,
    not_attempted: u64,
}

pub(super) fn run(
    client: &Client,
    spec: &BulkSpec,
    options: &BulkOptions,
    rows: &mut dyn Iterator<Item = Result<BulkRow, InvalidInput>>,
    on_outcome: &mut dyn FnMut(RowOutcome),
    on_progress: &mut dyn FnMut(&Progress),
    cancel: &Cancel,
) -> BulkSummary {
    let started = Instant::now();
    let shared = Shared {
        client,
        spec,
        slots: Slots::new(options.concurrency, options.adaptive),
        budget: RetryBudget::new(options.retry_budget_ratio, options.retry_budget_reserve),
        cancel,
        calls: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        rate_limited: AtomicU64::new(0),
    };
    // Twice as many workers as slots: calls sleeping in backoff do not hold a slot, so others can go meanwhile.
    let workers = (options.concurrency * 2).min(200);
    let (job_tx, job_rx) = mpsc::channel::<Batch>();
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<Finished>();

    let mut window = Window::default();
    let mut reorder: Reorder<RowOutcome> = Reorder::default();
    let mut tally = Tally::default();
    let mut rows_read = 0u64;
    let mut outstanding = 0usize;
    let mut in_flight_rows = 0u64;
    let mut input_done = false;
    let mut last_progress = Instant::now();

    let progress = |tally: &Tally, rows_read: u64, in_flight_rows: u64| {
        let elapsed = started.elapsed();
        Progress {
            rows_read,
            done: tally.done,
            succeeded: tally.succeeded,
            failed: tally.done - tally.succeeded,
            in_flight: in_flight_rows,
            rows_per_sec: tally.done as f64 / elapsed.as_secs_f64().max(1e-9),
            elapsed,
            concurrency: shared.slots.capacity(),
            retries: shared.retries.load(Ordering::Relaxed),
            rate_limited: shared.rate_limited.load(Ordering::Relaxed),
        }
    };

    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (shared, job_rx, done_tx) = (&shared, &job_rx, done_tx.clone());
            scope.spawn(move || worker(shared, job_rx, done_tx));
        }
        drop(done_tx);
        let mut emit = |o: RowOutcome, tally: &mut Tally| {
            tally.done += 1;
            if o.outcome.is_success() {
                tally.succeeded += 1;
            }
            match o.outcome.result.as_ref().err().map(|f| &f.code) {
                Some(ErrorCode::InvalidInput) => tally.invalid += 1,
                Some(ErrorCode::NotAttempted) => tally.not_attempted += 1,
                _ => {}
            }
            on_outcome(o);
        };
        loop {
            let cancelled = cancel.is_cancelled();
            // Read while there is room.
            while !cancelled && !input_done && window.buffered < options.window && window.ready.len() < workers {
                let Some(next) = rows.next() else {
                    input_done = true;
                    break;
                };
                let row = rows_read as usize;
                rows_read += 1;
                let checked = next.and_then(|r| {
                    let record = check_record(row, r.record, &shared.spec.key)?;
                    Ok((r.parent, record))
                });
                match checked {
                    Ok((parent, record)) => {
                        let key = record[shared.spec.key.field()].as_str().expect("checked").to_owned();
                        window.place(parent, Item { row, record, key }, options.batch_size);
                    }
                    Err(e) => {
                        let o = RowOutcome {
                            row,
                            parent: String::new(),
                            key: None,
                            outcome: invalid(row, &e),
                            attempts: 0,
                        };
                        reorder.push(row, o, &mut |o| emit(o, &mut tally));
                    }
                }
            }
            while window.buffered >= options.window && window.flush_oldest() {}
            if input_done && window.ready.is_empty() {
                while window.flush_oldest() {}
            }
            while !cancelled && outstanding < workers {
                let Some(batch) = window.ready.pop_front() else { break };
                outstanding += 1;
                in_flight_rows += batch.items.len() as u64;
                job_tx.send(batch).expect("workers live while the coordinator does");
            }
            if outstanding == 0 && (cancelled || (input_done && window.is_empty())) {
                break;
            }
            let wait = options.progress_interval.min(Duration::from_millis(50));
            match done_rx.recv_timeout(wait) {
                Ok(finished) => {
                    outstanding -= 1;
                    in_flight_rows -= finished.batch.items.len() as u64;
                    window.release(&finished.batch);
                    for o in outcomes_of(finished) {
                        reorder.push(o.row, o, &mut |o| emit(o, &mut tally));
                    }
                    window.retry_blocked(options.batch_size);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("workers outlive the loop"),
            }
            if last_progress.elapsed() >= options.progress_interval {
                last_progress = Instant::now();
                on_progress(&progress(&tally, rows_read, in_flight_rows));
            }
        }
        drop(job_tx);
        for (parent, item) in window.drain() {
            let o = failure(
                item.row,
                ErrorCode::NotAttempted,
                "the job was cancelled before this row was sent".into(),
                Details::new(),
            );
            let row = RowOutcome { row: item.row, parent, key: Some(item.key), outcome: o, attempts: 0 };
            reorder.push(item.row, row, &mut |o| emit(o, &mut tally));
        }
    });
    debug_assert!(reorder.is_empty(), "every row emitted");
    on_progress(&progress(&tally, rows_read, 0));
    BulkSummary {
        rows: rows_read,
        succeeded: tally.succeeded,
        failed: tally.done - tally.succeeded,
        invalid: tally.invalid,
        not_attempted: tally.not_attempted,
        calls: shared.calls.load(Ordering::Relaxed),
        retries: shared.retries.load(Ordering::Relaxed),
        rate_limited: shared.rate_limited.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        max_buffered_rows: window.peak,
        min_concurrency: shared.slots.lowest(),
        cancelled: cancel.is_cancelled(),
    }
}

fn outcomes_of(finished: Finished) -> Vec<RowOutcome> {
    let Finished { batch, result } = finished;
    let parent = batch.parent.path_value().to_owned();
    let (outcomes, attempts): (Vec<Outcome>, u32) = match result {
        Sendout::Sent(Ok(response), attempts) => (response.outcomes, attempts),
        Sendout::Sent(Err(e), attempts) => {
            (batch.items.iter().map(|i| Outcome::from_error(i.row, &e)).collect(), attempts)
        }
        Sendout::NotAttempted => (
            batch
                .items
                .iter()
                .map(|i| {
                    failure(
                        i.row,
                        ErrorCode::NotAttempted,
                        "the job was cancelled before this row was sent".into(),
                        Details::new(),
                    )
                })
                .collect(),
            0,
        ),
    };
    batch
        .items
        .into_iter()
        .zip(outcomes)
        .map(|(item, mut outcome)| {
            outcome.index = item.row;
            RowOutcome { row: item.row, parent: parent.clone(), key: Some(item.key), outcome, attempts }
        })
        .collect()
}

fn worker(shared: &Shared<'_>, jobs: &Mutex<mpsc::Receiver<Batch>>, done: mpsc::Sender<Finished>) {
    loop {
        let next = jobs.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(mut batch) = next else { return };
        let result = if shared.cancel.is_cancelled() {
            Sendout::NotAttempted
        } else {
            // The records move into the request; the batch keeps each row's index and key for the outcomes.
            let records = batch.items.iter_mut().map(|i| std::mem::take(&mut i.record)).collect();
            let request = UpdateRelated::from_validated(
                shared.spec.module.clone(),
                batch.parent.clone(),
                shared.spec.related_list.clone(),
                shared.spec.related_module.clone(),
                shared.spec.key.clone(),
                records,
            );
            let (result, attempts) = send_with_retries(shared, &request);
            Sendout::Sent(result, attempts)
        };
        if done.send(Finished { batch, result }).is_err() {
            return;
        }
    }
}

fn send_with_retries(shared: &Shared<'_>, request: &UpdateRelated) -> (Result<UpdateResponse, Error>, u32) {
    let policy = shared.client.retry_policy();
    shared.budget.deposit();
    let mut jitter = Jitter::new();
    let mut attempt = 0u32;
    loop {
        shared.slots.acquire();
        let result = shared.client.send_once(request);
        let limited = matches!(&result, Err(f) if is_rate_limited(&f.error));
        shared.slots.release(limited);
        shared.calls.fetch_add(1, Ordering::Relaxed);
        if limited {
            shared.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
        match result {
            Ok(response) => return (Ok(response), attempt + 1),
            // A 429 paces the job (the slots adapt) and does not draw on the budget, which guards against
            // hammering a failing server; `max_retries` still bounds it per call.
            Err(f)
                if is_retryable(&f.error)
                    && attempt < policy.max_retries
                    && (limited || shared.budget.try_withdraw()) =>
            {
                shared.retries.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(policy.delay(attempt, f.retry_after, &mut jitter));
                attempt += 1;
            }
            Err(f) => return (Err(f.error), attempt + 1),
        }
    }
}
