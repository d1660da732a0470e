//! Reading the current links of parents, concurrently, in the order they were asked for.
//!
//! [`read_current`] reads one parent's related records page after page (the paginated GET of
//! [`crate::pages`], `per_page=200`, page tokens from v7 on; fields: the managed relation fields and the related
//! external field). [`ordered`] runs such reads on `concurrency` threads (one call on the wire per thread, so
//! reads keep to the same concurrency limit as the writes of a bulk job) over a stream of items, holding at most
//! `window` items between the first not yet passed on and the last started, and passes each result on in input
//! order: memory stays bounded by the window whatever the parents' sizes.

use std::collections::BTreeMap;
use std::sync::{Mutex, mpsc};

use super::model::SyncSpec;
use crate::bulk::Cancel;
use crate::client::Client;
use crate::error::{Error, InvalidInput};
use crate::related::Parent;
use crate::related_get::{GetRelated, MAX_PER_PAGE};
use crate::related_rows::RelatedRow;

/// Every related record of `parent` (all pages), and the calls made (pages requested, the failed one included).
pub fn read_current(client: &Client, spec: &SyncSpec, parent: &Parent) -> (Result<Vec<RelatedRow>, Error>, u64) {
    let b = spec.bulk();
    let request = GetRelated::builder(b.module().as_str(), parent.clone(), b.related_list().as_str())
        .related_module(b.related_module().as_str())
        .fields(spec.read_fields())
        .per_page(MAX_PER_PAGE)
        .build();
    let pages = match request.map_err(Error::from).and_then(|r| client.related_pages(r)) {
        Ok(p) => p,
        Err(e) => return (Err(e), 0),
    };
    let mut rows = Vec::new();
    let mut calls = 0;
    for page in pages {
        calls += 1;
        match page {
            Ok(page) => rows.extend(page.rows),
            Err(e) => return (Err(e), calls),
        }
    }
    (Ok(rows), calls)
}

/// Runs `work` over `items` on `concurrency` threads and passes each item and its result to `on_done` in input
/// order (on this thread). At most `window` items are started ahead of the first not yet passed on. Once
/// `stop` is cancelled no further item is started; items already started are still passed on. A panic in
/// `work` is raised again on this thread once the other threads have stopped (never a hang).
pub fn ordered<T: Send, R: Send>(
    concurrency: usize,
    window: usize,
    items: &mut dyn Iterator<Item = T>,
    work: &(dyn Fn(&T) -> R + Sync),
    on_done: &mut dyn FnMut(T, R),
    stop: &Cancel,
) {
    let window = window.max(concurrency).max(1) as u64;
    let (job_tx, job_rx) = mpsc::channel::<(u64, T)>();
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<(u64, T, std::thread::Result<R>)>();
    std::thread::scope(|scope| {
        for _ in 0..concurrency.max(1) {
            let (job_rx, done_tx) = (&job_rx, done_tx.clone());
            scope.spawn(move || {
                loop {
                    let next = job_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok((seq, item)) = next else { return };
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&item)));
                    if done_tx.send((seq, item, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let (mut started, mut passed) = (0u64, 0u64);
        let mut input_done = false;
        let mut buffer: BTreeMap<u64, (T, R)> = BTreeMap::new();
        loop {
            while !input_done && !stop.is_cancelled() && started < passed + window {
                match items.next() {
                    Some(item) => {
                        job_tx.send((started, item)).expect("workers live while the loop does");
                        started += 1;
                    }
                    None => input_done = true,
                }
            }
            if passed == started {
                break;
            }
            let (seq, item, result) = done_rx.recv().expect("a worker answers every item it took");
            let result = match result {
                Ok(r) => r,
                Err(panic) => {
                    // Dropping the job queue ends the workers; the scope joins them, then the panic goes on.
                    drop(job_tx);
                    std::panic::resume_unwind(panic);
                }
            };
            buffer.insert(seq, (item, result));
            while let Some((item, result)) = buffer.remove(&passed) {
                passed += 1;
                on_done(item, result);
            }
        }
        drop(job_tx);
    });
}

/// The error of a plan that was cancelled.
pub(crate) fn cancelled(what: &str) -> Error {
    Error::Cancelled { message: format!("{what} was cancelled; nothing was changed by it") }
}

/// A temporary-file failure of the partition pass.
pub(crate) fn spill_error(e: &std::io::Error) -> Error {
    Error::config("temp_dir", format!("sorting the input by parent needs a temporary folder: {e}"))
}

/// A row's parent, as the spec names parents.
pub(crate) fn parent_of(spec: &SyncSpec, value: &str) -> Result<Parent, Error> {
    spec.parent(value)
        .map_err(|e: InvalidInput| Error::Internal { message: format!("a checked parent failed again: {e}") })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[test]
    fn results_come_in_order_with_bounded_concurrency_and_window() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        // The input counts what was taken from it: never more than the window ahead of what was passed on.
        let taken = AtomicUsize::new(0);
        let mut items = (0..200u64).inspect(|_| {
            taken.fetch_add(1, Ordering::SeqCst);
        });
        let mut seen = Vec::new();
        ordered(
            4,
            8,
            &mut items,
            &|i: &u64| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_micros(200 * (i % 7)));
                running.fetch_sub(1, Ordering::SeqCst);
                i * 2
            },
            &mut |i, r| {
                assert_eq!(r, i * 2);
                assert!(taken.load(Ordering::SeqCst) <= seen.len() + 8, "the window of 8 holds");
                seen.push(i);
            },
            &Cancel::new(),
        );
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 4);
    }

    #[test]
    fn a_stop_starts_nothing_more() {
        let stop = Cancel::new();
        let mut items = 0..1000u32;
        let mut done = 0;
        ordered(
            2,
            4,
            &mut items,
            &|i: &u32| *i,
            &mut |_, _| {
                done += 1;
                if done == 10 {
                    stop.cancel();
                }
            },
            &stop,
        );
        assert!((10..=14).contains(&done), "{done}");
    }

    #[test]
    fn a_panic_in_work_is_raised_not_hung() {
        let caught = std::panic::catch_unwind(|| {
            let mut items = 0..100u32;
            ordered(
                3,
                6,
                &mut items,
                &|i: &u32| if *i == 17 { panic!("boom") } else { *i },
                &mut |_, _| {},
                &Cancel::new(),
            );
        });
        assert!(caught.is_err());
    }
}
