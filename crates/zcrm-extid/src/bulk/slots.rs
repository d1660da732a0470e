//! Adaptive concurrency: a semaphore whose capacity follows the server's 429s.
//!
//! Zoho answers 429 both when too many calls are in flight and when credits run out, with the same body
//! (spec §5.4), so a single 429 says little; a *share* of 429s does. Over each [`WINDOW`] call results, if more
//! than 10% were 429, the capacity becomes `capacity x (1 - share)` (at least one lower, never below 1): with
//! C slots against a server limit L < C, about (C - L) / C of the calls are rejected, so one window brings the
//! capacity to about L. After [`QUIET`] without such a window it rises by one, up to the configured maximum.
//! Random 429s (say 2% of calls, e.g. credits of another app) almost never reach 10% of a 50-call window
//! (p < 0.001), so they do not throttle a job that is at the limit; they are retried like any other 429.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Results per decision window.
pub const WINDOW: usize = 50;
/// Time without a bad window before the capacity grows by one.
pub const QUIET: Duration = Duration::from_secs(3);

#[derive(Debug)]
struct State {
    in_use: usize,
    capacity: usize,
    max: usize,
    results: usize,
    limited: usize,
    last_change: Instant,
    lowest: usize,
}

/// Slots for calls on the wire.
#[derive(Debug)]
pub struct Slots {
    state: Mutex<State>,
    freed: Condvar,
    adaptive: bool,
}

impl Slots {
    /// `max` slots; if `adaptive`, the capacity follows 429s.
    pub fn new(max: usize, adaptive: bool) -> Slots {
        let max = max.max(1);
        Slots {
            state: Mutex::new(State {
                in_use: 0,
                capacity: max,
                max,
                results: 0,
                limited: 0,
                last_change: Instant::now(),
                lowest: max,
            }),
            freed: Condvar::new(),
            adaptive,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a free slot.
    pub fn acquire(&self) {
        let mut st = self.lock();
        while st.in_use >= st.capacity {
            st = self.freed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        st.in_use += 1;
    }

    /// Waits up to `timeout` for a free slot; true if one was taken.
    pub fn acquire_timeout(&self, timeout: std::time::Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        while st.in_use >= st.capacity {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self.freed.wait_timeout(st, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
        st.in_use += 1;
        true
    }

    /// Frees a slot, reporting whether the call was rate-limited.
    pub fn release(&self, rate_limited: bool) {
        let mut st = self.lock();
        let capacity_before = st.capacity;
        st.in_use -= 1;
        if self.adaptive {
            st.results += 1;
            st.limited += usize::from(rate_limited);
            let now = Instant::now();
            if st.results >= WINDOW {
                if st.limited * 10 > st.results {
                    let kept = st.capacity * (st.results - st.limited) / st.results;
                    st.capacity = kept.min(st.capacity - 1).max(1);
                    st.lowest = st.lowest.min(st.capacity);
                    st.last_change = now;
                }
                st.results = 0;
                st.limited = 0;
            }
            if st.capacity < st.max && now.duration_since(st.last_change) >= QUIET && st.limited == 0 {
                st.capacity += 1;
                st.last_change = now;
            }
        }
        // One slot was freed: one waiter can use it, unless the capacity grew (then all may).
        if st.capacity > capacity_before {
            self.freed.notify_all();
        } else {
            self.freed.notify_one();
        }
    }

    /// The current capacity.
    pub fn capacity(&self) -> usize {
        self.lock().capacity
    }

    /// The lowest capacity reached.
    pub fn lowest(&self) -> usize {
        self.lock().lowest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_rejected_backs_off_and_a_few_random_429s_do_not() {
        let s = Slots::new(20, true);
        for i in 0..WINDOW {
            s.acquire();
            s.release(i % 2 == 0);
        }
        assert_eq!(s.capacity(), 10);
        // 2% random 429s: one in each window, well under the 10% share.
        let s = Slots::new(10, true);
        for i in 0..WINDOW * 10 {
            s.acquire();
            s.release(i % 50 == 0);
        }
        assert_eq!(s.capacity(), 10);
    }

    #[test]
    fn never_below_one_and_fixed_when_not_adaptive() {
        let s = Slots::new(2, true);
        for _ in 0..WINDOW * 5 {
            s.acquire();
            s.release(true);
        }
        assert_eq!(s.capacity(), 1);
        let f = Slots::new(3, false);
        for _ in 0..WINDOW * 2 {
            f.acquire();
            f.release(true);
        }
        assert_eq!(f.capacity(), 3);
    }
}
