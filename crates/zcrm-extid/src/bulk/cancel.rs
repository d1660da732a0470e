//! [`Cancel`]: stops a bulk job, or a single call between its attempts, from another thread. Its
//! [`Cancel::sleep`] wakes at once when it is cancelled, so a call waiting in backoff does not hold a job (or
//! a Ctrl-C) for the rest of its delay.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

/// A check that can cancel the token when it is looked at (e.g. Python's pending Ctrl-C).
type Poll = Box<dyn Fn() -> bool + Send + Sync>;

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    lock: Mutex<Vec<Weak<Inner>>>,
    wake: Condvar,
    poll: Option<Poll>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.cancelled.load(Ordering::SeqCst))
            .field("polled", &self.poll.is_some())
            .finish()
    }
}

/// How often a sleeping token with a poll looks at it.
const POLL_EVERY: Duration = Duration::from_millis(100);

impl Inner {
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        let children = {
            let mut guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.wake.notify_all();
            std::mem::take(&mut *guard)
        };
        for child in children.iter().filter_map(Weak::upgrade) {
            child.cancel();
        }
    }
}

/// A cancellation token; clones share it.
///
/// ```
/// use std::time::{Duration, Instant};
/// use zcrm_extid::bulk::Cancel;
/// let cancel = Cancel::new();
/// let child = cancel.child();
/// let c2 = cancel.clone();
/// std::thread::spawn(move || { std::thread::sleep(Duration::from_millis(20)); c2.cancel(); });
/// let t = Instant::now();
/// assert!(!child.sleep(Duration::from_secs(30)), "woken early by the parent's cancel");
/// assert!(t.elapsed() < Duration::from_secs(5) && child.is_cancelled());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<Inner>);

impl Cancel {
    /// A token that is not cancelled.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// A token that also cancels itself when `poll` returns true: `poll` runs whenever the token is looked
    /// at ([`Cancel::is_cancelled`]) and every 100 ms while it sleeps. The Python package polls for Ctrl-C
    /// this way while a call is between attempts or in backoff.
    pub fn with_poll(poll: impl Fn() -> bool + Send + Sync + 'static) -> Cancel {
        Cancel(Arc::new(Inner { poll: Some(Box::new(poll)), ..Inner::default() }))
    }

    /// A token cancelled together with this one (but cancelling it leaves this one alone): a job's internal
    /// stop signal, for example, that the user's token also triggers.
    pub fn child(&self) -> Cancel {
        self.adopt(Cancel::new())
    }

    /// A [`Cancel::child`] that also cancels itself when `poll` returns true (see [`Cancel::with_poll`]): the
    /// Python package's token for one call, cancelled by the task that awaits it (the parent) or by Ctrl-C
    /// (the poll).
    pub fn child_with_poll(&self, poll: impl Fn() -> bool + Send + Sync + 'static) -> Cancel {
        self.adopt(Cancel::with_poll(poll))
    }

    fn adopt(&self, child: Cancel) -> Cancel {
        {
            let mut children = self.0.lock.lock().unwrap_or_else(|p| p.into_inner());
            if !self.is_cancelled() {
                children.retain(|w| w.strong_count() > 0);
                children.push(Arc::downgrade(&child.0));
                return child;
            }
        }
        child.cancel();
        child
    }

    /// Cancels: a job stops reading and sending and finishes its calls in flight; a single call stops before
    /// its next attempt. Every [`Cancel::sleep`] on this token (and its children) returns at once.
    pub fn cancel(&self) {
        self.0.cancel();
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        if self.0.cancelled.load(Ordering::SeqCst) {
            return true;
        }
        if self.0.poll.as_ref().is_some_and(|p| p()) {
            self.0.cancel();
            return true;
        }
        false
    }

    /// Sleeps for `duration` unless cancelled first; `true` if the whole time passed.
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now().checked_add(duration);
        loop {
            // The poll runs without the lock held (it may take a while, e.g. to attach to Python).
            if self.is_cancelled() {
                return false;
            }
            let guard = self.0.lock.lock().unwrap_or_else(|p| p.into_inner());
            if self.0.cancelled.load(Ordering::SeqCst) {
                return false;
            }
            let now = Instant::now();
            let mut left = match deadline {
                Some(d) if d <= now => return true,
                Some(d) => d - now,
                None => Duration::from_secs(3600),
            };
            if self.0.poll.is_some() {
                left = left.min(POLL_EVERY);
            }
            drop(self.0.wake.wait_timeout(guard, left).unwrap_or_else(|p| p.into_inner()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_of_a_cancelled_token_is_cancelled_and_children_do_not_cancel_parents() {
        let parent = Cancel::new();
        let child = parent.child();
        child.cancel();
        assert!(!parent.is_cancelled());
        parent.cancel();
        assert!(parent.child().is_cancelled());
        assert!(!parent.child().sleep(Duration::from_secs(60)));
        assert!(Cancel::new().sleep(Duration::from_millis(1)));
    }

    #[test]
    fn a_polled_child_follows_its_parent_and_its_poll() {
        let parent = Cancel::new();
        let child = parent.child_with_poll(|| false);
        let p = parent.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            p.cancel();
        });
        let t = Instant::now();
        assert!(!child.sleep(Duration::from_secs(30)), "woken by the parent");
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(Cancel::new().child_with_poll(|| true).is_cancelled());
    }

    #[test]
    fn a_poll_cancels_a_sleep_within_its_period() {
        let started = Instant::now();
        let polled = Cancel::with_poll(move || started.elapsed() > Duration::from_millis(150));
        assert!(!polled.sleep(Duration::from_secs(30)));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(polled.is_cancelled());
    }
}
