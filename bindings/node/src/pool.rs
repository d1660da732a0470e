//! The addon's own threads: every blocking core call and every bulk job runs here, never on libuv's pool (4
//! threads by default, shared with `fs`, `dns`, `zlib` and `crypto`). A call waiting 3 s for Zoho holds one of
//! these threads, not one of libuv's, so `fs.readFile` is never queued behind it, and 64 such calls run at once
//! instead of 4 at a time.
//!
//! The pool is elastic: a job goes to an idle thread, or to a new one when none is idle (there is no cap: each
//! thread waits on I/O, and a call's concurrency is the caller's choice, as with sockets); a thread idle for
//! 30 s ends. A job that panics is the caller's to catch (`call.rs` does); the thread survives it.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long an idle thread waits for work before it ends.
const IDLE: Duration = Duration::from_secs(30);

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    idle: usize,
}

struct Pool {
    state: Mutex<State>,
    ready: Condvar,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool { state: Mutex::new(State::default()), ready: Condvar::new() })
}

/// Runs `job` on an addon thread, at once (a new thread if every thread is busy).
pub fn spawn(job: impl FnOnce() + Send + 'static) {
    let pool = pool();
    let mut state = pool.state.lock().unwrap_or_else(|p| p.into_inner());
    state.jobs.push_back(Box::new(job));
    // Each queued job needs an idle thread of its own: wake one, or start one.
    if state.idle >= state.jobs.len() {
        drop(state);
        pool.ready.notify_one();
        return;
    }
    drop(state);
    let started = std::thread::Builder::new().name("zcrm-extid".into()).spawn(work);
    if started.is_err() {
        // No thread could be started (resource limits): the job waits for a thread to become idle.
        pool.ready.notify_one();
    }
}

fn work() {
    let pool = pool();
    loop {
        let mut state = pool.state.lock().unwrap_or_else(|p| p.into_inner());
        let job = loop {
            if let Some(job) = state.jobs.pop_front() {
                break job;
            }
            state.idle += 1;
            let (next, timeout) = pool.ready.wait_timeout(state, IDLE).unwrap_or_else(|p| p.into_inner());
            state = next;
            state.idle -= 1;
            if timeout.timed_out() && state.jobs.is_empty() {
                return;
            }
        };
        drop(state);
        // The job catches its own panics (call.rs); this keeps the thread if one slips through.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Instant;

    use super::*;

    #[test]
    fn blocking_jobs_run_at_once_not_a_few_at_a_time() {
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        for _ in 0..64 {
            let tx = tx.clone();
            spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                tx.send(()).unwrap();
            });
        }
        for _ in 0..64 {
            rx.recv_timeout(Duration::from_secs(20)).unwrap();
        }
        // 64 jobs of 300 ms, all at once: about 300 ms, far from the 4.8 s of 4 at a time.
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    }

    #[test]
    fn a_panicking_job_does_not_take_the_pool_down() {
        spawn(|| panic!("a bug"));
        let ran = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        for _ in 0..4 {
            let (ran, tx) = (ran.clone(), tx.clone());
            spawn(move || {
                ran.fetch_add(1, Ordering::SeqCst);
                tx.send(()).unwrap();
            });
        }
        for _ in 0..4 {
            rx.recv_timeout(Duration::from_secs(10)).unwrap();
        }
        assert_eq!(ran.load(Ordering::SeqCst), 4);
    }
}
