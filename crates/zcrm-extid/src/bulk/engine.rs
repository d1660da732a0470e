//! The bulk job's coordinator: reads rows, groups them, keeps the slots busy, and passes each row's outcome on
//! as soon as it is known. See the parent module for the behaviour and [`super::worker`] for sending.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::cancel::Cancel;
use super::operation::Operation;
use super::slots::Slots;
use super::window::{Batch, Item, Window};
use super::worker::{Counters, Finished, Sendout, Shared, work};
use super::{BulkOptions, BulkSummary, Progress, RowOutcome};
use crate::client::Client;
use crate::code::ErrorCode;
use crate::error::{Details, Error, InvalidInput};
use crate::events::{self, JobScope, enter_job};
use crate::response::{Failure, Outcome};
use crate::retry::RetryBudget;

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

/// The outcome of a row that was never sent because the job stopped: cancelled by the user, or stopped by
/// the breaker (then the cause is named).
fn not_attempted(row: usize, cause: Option<&Error>) -> Outcome {
    if let Some(e @ Error::Budget { code: ErrorCode::CreditReserve, .. }) = cause {
        let mut details = Details::new();
        details.insert("cause".into(), e.code().as_str().into());
        return failure(
            row,
            ErrorCode::NotAttempted,
            format!("not sent: the job stopped before the org's credit reserve ({}): {}", e.code(), e.message()),
            details,
        );
    }
    match cause {
        None => failure(
            row,
            ErrorCode::NotAttempted,
            "the job was cancelled before this row was sent".into(),
            Details::new(),
        ),
        Some(e) => {
            let mut details = Details::new();
            details.insert("cause".into(), e.code().as_str().into());
            failure(
                row,
                ErrorCode::NotAttempted,
                format!("not sent: the job stopped after {}: {}", e.code(), e.message()),
                details,
            )
        }
    }
}

/// Counters of emitted outcomes.
#[derive(Default)]
struct Tally {
    done: u64,
    succeeded: u64,
    invalid: u64,
    not_attempted: u64,
}

/// Reads the job's input and places rows; what the coordinator loop needs of it.
struct Reader<'r, I> {
    rows: &'r mut dyn Iterator<Item = (usize, Result<I, InvalidInput>)>,
    next_seq: u64,
    done: bool,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn run<O: Operation>(
    client: &Client,
    op: &O,
    options: &BulkOptions,
    reserve: Option<u64>,
    rows: &mut dyn Iterator<Item = (usize, Result<O::Input, InvalidInput>)>,
    on_outcome: &mut dyn FnMut(RowOutcome),
    on_progress: &mut dyn FnMut(&Progress),
    cancel: &Cancel,
) -> BulkSummary {
    let started = Instant::now();
    let batch_size = options.batch_size.min(op.max_batch()).max(1);
    // The job's number and metrics: its workers (and this thread, for the job's own events) work for it.
    let job = JobScope::new();
    let _job = enter_job(&job);
    events::job_started(client.events(), op.name(), options, batch_size);
    let shared = Shared {
        client,
        op,
        slots: Slots::new(options.concurrency, options.adaptive),
        budget: RetryBudget::new(options.retry_budget_ratio, options.retry_budget_reserve),
        halt: cancel.child(),
        tripped: Mutex::new(None),
        reserve,
        budget_stop: Mutex::new(None),
        counters: Counters::default(),
    };
    // Twice as many workers as slots: calls sleeping in backoff do not hold a slot, so others can go meanwhile.
    let workers = (options.concurrency * 2).min(200);
    let (job_tx, job_rx) = mpsc::channel::<Batch<O::Row>>();
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<Finished<O::Row>>();

    let mut window: Window<O::Row> = Window::new(op.keys_span_groups());
    let mut reader = Reader { rows, next_seq: 0, done: false };
    let mut tally = Tally::default();
    let mut outstanding = 0usize;
    let mut outstanding_rows = 0usize;
    let mut last_progress = Instant::now();
    let mut peak_held = 0usize;

    let progress = |tally: &Tally, reader_seq: u64, window: &Window<O::Row>, finished: bool| {
        let elapsed = started.elapsed();
        let c = &shared.counters;
        let rate = tally.done as f64 / elapsed.as_secs_f64().max(1e-9);
        let eta = options.expected_rows.filter(|_| rate > 0.0 && !finished).map(|total| {
            Duration::try_from_secs_f64(total.saturating_sub(tally.done) as f64 / rate).unwrap_or(Duration::MAX)
        });
        Progress {
            rows_read: reader_seq,
            rows_sent: c.sent.load(Ordering::Relaxed),
            completed: tally.done,
            succeeded: tally.succeeded,
            failed: tally.done - tally.succeeded,
            in_flight: c.on_wire.load(Ordering::Relaxed),
            waiting_retry: c.waiting_retry.load(Ordering::Relaxed),
            buffered: (window.buffered + window.ready_rows) as u64,
            rows_per_sec: rate,
            elapsed,
            expected_rows: options.expected_rows,
            eta,
            concurrency: shared.slots.capacity(),
            calls: c.calls.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            stopping: shared.halt.is_cancelled(),
        }
    };

    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (shared, job_rx, done_tx, job) = (&shared, &job_rx, done_tx.clone(), &job);
            scope.spawn(move || {
                let _job = enter_job(job);
                work(shared, job_rx, done_tx)
            });
        }
        drop(done_tx);
        let mut emit = |o: RowOutcome, tally: &mut Tally| {
            tally.done += 1;
            match o.outcome.result.as_ref() {
                Ok(_) => tally.succeeded += 1,
                Err(f) if f.code == ErrorCode::InvalidInput => tally.invalid += 1,
                Err(f) if f.code == ErrorCode::NotAttempted => tally.not_attempted += 1,
                Err(_) => {}
            }
            on_outcome(o);
        };
        loop {
            let stopping = shared.halt.is_cancelled();
            // Read while the window has room (rows waiting in groups and in ready batches count).
            while !stopping && !reader.done && window.buffered + window.ready_rows < options.window {
                let Some((row, next)) = reader.rows.next() else {
                    reader.done = true;
                    break;
                };
                let seq = reader.next_seq;
                reader.next_seq += 1;
                match next.and_then(|input| op.check(row, input)) {
                    Ok(data) => {
                        let group = op.group_key(&data);
                        let key = op.row_key(&data);
                        let item = Item { row, seq, data: Some(data), key };
                        window.place(group, |d| op.group_label(d), item, batch_size);
                    }
                    Err(e) => {
                        let o = RowOutcome {
                            row,
                            parent: Arc::from(""),
                            key: None,
                            outcome: invalid(row, &e),
                            attempts: 0,
                        };
                        emit(o, &mut tally);
                    }
                }
            }
            if !stopping {
                // A group whose oldest row is a window behind goes as it is: memory stays bounded.
                window.flush_stale(reader.next_seq, options.window);
                if reader.done {
                    while window.flush_oldest() {}
                }
                // Keep the slots busy: while fewer batches are on their way than there are slots, send the
                // oldest waiting group as it is, rather than leave a slot idle.
                let capacity = shared.slots.capacity();
                while outstanding + window.ready.len() < capacity && window.flush_oldest() {}
                while outstanding < workers {
                    let Some(batch) = window.take_ready() else { break };
                    outstanding += 1;
                    outstanding_rows += batch.items.len();
                    job_tx.send(batch).expect("workers live while the coordinator does");
                }
            }
            peak_held = peak_held.max(window.buffered + window.ready_rows + outstanding_rows);
            if outstanding == 0 && (stopping || (reader.done && window.is_empty())) {
                break;
            }
            let wait = options.progress_interval.min(Duration::from_millis(50));
            let mut next = done_rx.recv_timeout(wait).map_err(|e| match e {
                mpsc::RecvTimeoutError::Timeout => (),
                mpsc::RecvTimeoutError::Disconnected => unreachable!("workers outlive the loop"),
            });
            // Take every batch that finished meanwhile before deciding again.
            while let Ok(finished) = next {
                outstanding -= 1;
                outstanding_rows -= finished.batch.items.len();
                window.release(&finished.batch.group, finished.batch.items.iter().map(|i| i.key.as_str()));
                let cause = stop_cause(&shared);
                for o in outcomes_of(finished, cause.as_ref()) {
                    emit(o, &mut tally);
                }
                window.retry_blocked(batch_size);
                next = done_rx.try_recv().map_err(|_| ());
            }
            if last_progress.elapsed() >= options.progress_interval {
                last_progress = Instant::now();
                on_progress(&progress(&tally, reader.next_seq, &window, false));
            }
        }
        drop(job_tx);
        let cause = stop_cause(&shared);
        for (label, item) in window.drain() {
            let outcome = not_attempted(item.row, cause.as_ref());
            emit(RowOutcome { row: item.row, parent: label, key: Some(item.key), outcome, attempts: 0 }, &mut tally);
        }
        // The shared budget stopped the job (its credit reserve, or Redis failing): every row gets an outcome, the
        // rows not read yet too, so the report says where the job stopped and why.
        if let Some(cause @ Error::Budget { .. }) = &cause {
            for (row, next) in &mut *reader.rows {
                reader.next_seq += 1;
                let o = match next.and_then(|input| op.check(row, input)) {
                    Ok(data) => RowOutcome {
                        row,
                        parent: op.group_label(&data),
                        key: Some(op.row_key(&data)),
                        outcome: not_attempted(row, Some(cause)),
                        attempts: 0,
                    },
                    Err(e) => {
                        RowOutcome { row, parent: Arc::from(""), key: None, outcome: invalid(row, &e), attempts: 0 }
                    }
                };
                emit(o, &mut tally);
            }
        }
    });
    on_progress(&progress(&tally, reader.next_seq, &window, true));
    let c = &shared.counters;
    let elapsed = started.elapsed();
    let summary = BulkSummary {
        rows: reader.next_seq,
        succeeded: tally.succeeded,
        failed: tally.done - tally.succeeded,
        invalid: tally.invalid,
        not_attempted: tally.not_attempted,
        calls: c.calls.load(Ordering::Relaxed),
        retries: c.retries.load(Ordering::Relaxed),
        rate_limited: c.rate_limited.load(Ordering::Relaxed),
        throttle_waits: c.throttle_waits.load(Ordering::Relaxed),
        elapsed,
        max_buffered_rows: window.peak,
        peak_held_rows: peak_held,
        min_concurrency: shared.slots.lowest(),
        cancelled: cancel.is_cancelled(),
        stopped: shared.tripped.into_inner().unwrap_or_else(|p| p.into_inner()),
        budget_stop: shared.budget_stop.into_inner().unwrap_or_else(|p| p.into_inner()),
        metrics: job.recorder.snapshot(tally.done, elapsed),
    };
    events::job_finished(client.events(), op.name(), &summary);
    summary
}

/// Why rows are not sent: the breaker's error, else the budget's stop.
fn stop_cause<O: Operation>(shared: &Shared<'_, O>) -> Option<Error> {
    let tripped = shared.tripped.lock().unwrap_or_else(|p| p.into_inner()).clone();
    tripped.or_else(|| shared.budget_stop.lock().unwrap_or_else(|p| p.into_inner()).clone())
}

fn outcomes_of<R>(finished: Finished<R>, cause: Option<&Error>) -> Vec<RowOutcome> {
    let Finished { batch, result } = finished;
    let n = batch.items.len();
    let (outcomes, attempts): (Vec<Outcome>, u32) = match result {
        Sendout::Answered(outcomes, attempts) if outcomes.len() == n => (outcomes, attempts),
        Sendout::Answered(outcomes, attempts) => {
            let e = Error::UnexpectedResponse {
                status: 0,
                reason: format!("the operation mapped the answer to {} outcomes for {n} rows", outcomes.len()),
                content_type: None,
                body_prefix: String::new(),
            };
            (batch.items.iter().map(|i| Outcome::from_error(i.row, &e)).collect(), attempts)
        }
        Sendout::Failed(e, attempts) => {
            (batch.items.iter().map(|i| Outcome::from_error(i.row, &e)).collect(), attempts)
        }
        Sendout::NotSent => (batch.items.iter().map(|i| not_attempted(i.row, cause)).collect(), 0),
    };
    let label = batch.label;
    batch
        .items
        .into_iter()
        .zip(outcomes)
        .map(|(item, mut outcome)| {
            outcome.index = item.row;
            RowOutcome { row: item.row, parent: label.clone(), key: Some(item.key), outcome, attempts }
        })
        .collect()
}
