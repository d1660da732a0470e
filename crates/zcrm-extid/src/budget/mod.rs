//! Many processes, one org: the limits Zoho sets per org and per refresh token, shared by every process that
//! works on the org, through Redis (feature `redis`: [`SharedBudget`]).
//!
//! Zoho's limits are per org (spec §5.3: 5-25 concurrent calls by edition, a sub-concurrency of 10 for calls of
//! more than 10 records; §5.1: daily credits) and per refresh token (§7: about 10 access tokens per 10 minutes,
//! 15 active, the 16th invalidating the oldest). Independent workers trip each other: each mints its own token,
//! runs its own 10 calls, and none knows the credits the others spent. With a budget, they share:
//!
//! * **the access token** of a refresh token: one refresh across all processes per expiry, one replacement
//!   after a 401 (see `token.rs`);
//! * **the concurrency limit**: a distributed semaphore with leases, fair in arrival order (see `semaphore.rs`);
//! * **the credit count** of a rolling 24 hours, corrected from `X-API-CREDITS-REMAINING`, with a per-job
//!   reserve (see `credits.rs`).
//!
//! The client reaches the budget through two small hooks, so the rest of the crate does not depend on Redis:
//! [`TokenShare`] (used by [`crate::auth::TokenSource`] when it needs a new token) and [`CallGate`] (entered
//! around every attempt of a call: [`crate::Client::execute`] and the bulk engine's workers).
//!
//! ```
//! use zcrm_extid::budget::Reserve;
//! assert_eq!("500".parse::<Reserve>()?, Reserve::Credits(500));
//! assert_eq!("10%".parse::<Reserve>()?.credits(Some(50_000))?, 5_000);
//! assert!("10%".parse::<Reserve>()?.credits(None).is_err()); // a share needs the day's allowance
//! # Ok::<(), zcrm_extid::Error>(())
//! ```

#[cfg(feature = "redis")]
mod config;
#[cfg(feature = "redis")]
mod credits;
#[cfg(feature = "redis")]
mod keys;
#[cfg(feature = "redis")]
mod semaphore;
#[cfg(feature = "redis")]
mod shared;
#[cfg(feature = "redis")]
mod status;
#[cfg(feature = "redis")]
mod store;
#[cfg(feature = "redis")]
mod token;

#[cfg(feature = "redis")]
pub use config::{BudgetConfig, OnRedisError};
#[cfg(feature = "redis")]
pub use shared::SharedBudget;
#[cfg(feature = "redis")]
pub use status::{BudgetStatus, Holder};

use std::fmt;
use std::time::Duration;

use crate::auth::Token;
use crate::bulk::Cancel;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// A token minted by the token endpoint, or read from a share: the token, how long it has left, and the lifetime
/// it was minted with (which sets how early it is refreshed).
#[derive(Debug, Clone)]
pub struct SharedToken {
    /// The token and its API domain.
    pub token: Token,
    /// Time left before it expires.
    pub remaining: Duration,
    /// Its whole lifetime.
    pub lifetime: Duration,
}

/// Access tokens shared with other processes that use the same refresh token.
pub trait TokenShare: Send + Sync + fmt::Debug {
    /// A token to use: one stored by any process, unless it is `stale` (the token being refreshed ahead of its
    /// expiry, or one the API refused) or close to its expiry; otherwise one `mint` gets from the token endpoint,
    /// called by at most one process at a time (the others wait for its token).
    fn token(&self, stale: Option<&Secret>, mint: &mut dyn FnMut() -> Result<SharedToken>) -> Result<SharedToken>;
}

/// A limit on calls shared with other processes: the org's concurrency and its credits.
pub trait CallGate: Send + Sync + fmt::Debug {
    /// Waits for a slot for one call (`heavy`: it counts against Zoho's sub-concurrency of 10, spec §5.3) and
    /// charges its credit, unless fewer than `reserve` credits would be left: then [`Error::Budget`]
    /// `CREDIT_RESERVE`. `cancel` stops the wait ([`Error::Cancelled`]). A failing Redis is
    /// [`Error::Budget`] `BUDGET_UNAVAILABLE` (or, with [`OnRedisError::Local`](crate::budget), a free pass).
    fn enter(&self, heavy: bool, reserve: Option<u64>, cancel: &Cancel) -> Result<Pass>;

    /// `X-API-CREDITS-REMAINING` of a response (spec §5.4): corrects the shared count.
    fn observe_credits(&self, remaining: u64);

    /// `reserve` in credits (a share of the day's allowance needs the allowance).
    fn reserve_credits(&self, reserve: &Reserve) -> Result<u64>;
}

/// A held slot: freed when finished or dropped (also while unwinding).
#[must_use = "a pass frees its slot when dropped"]
pub struct Pass {
    release: Option<Box<dyn FnOnce(bool) + Send>>,
}

impl fmt::Debug for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pass").field("held", &self.release.is_some()).finish()
    }
}

impl Pass {
    /// A pass that holds nothing (no budget, or running locally).
    pub fn free() -> Pass {
        Pass { release: None }
    }

    /// A pass that runs `release(rate_limited)` once, when finished or dropped.
    pub fn new(release: impl FnOnce(bool) + Send + 'static) -> Pass {
        Pass { release: Some(Box::new(release)) }
    }

    /// The call ended; `rate_limited`: it was answered 429 (the shared limit adapts, see `semaphore.rs`).
    pub fn finish(mut self, rate_limited: bool) {
        if let Some(f) = self.release.take() {
            f(rate_limited);
        }
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        if let Some(f) = self.release.take() {
            f(false);
        }
    }
}

/// Credits a job leaves to the org's other integrations: it stops scheduling calls before fewer would be left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reserve {
    /// A number of credits.
    Credits(u64),
    /// A share of the day's allowance, in percent (needs the allowance: `daily_credits`).
    Percent(f64),
}

impl Reserve {
    /// The reserve in credits, given the day's allowance if known.
    pub fn credits(&self, daily_allowance: Option<u64>) -> Result<u64> {
        match *self {
            Reserve::Credits(n) => Ok(n),
            Reserve::Percent(p) => match daily_allowance {
                Some(total) => Ok((total as f64 * p / 100.0).ceil() as u64),
                None => Err(Error::config(
                    "reserve",
                    "a reserve in percent needs the org's daily credit allowance (daily_credits); or give a number of credits",
                )),
            },
        }
    }
}

impl std::str::FromStr for Reserve {
    type Err = Error;
    fn from_str(s: &str) -> Result<Reserve> {
        let t = s.trim();
        let bad =
            || Error::config("reserve", format!("{s:?}: expected a number of credits (500) or a percentage (10%)"));
        match t.strip_suffix('%') {
            Some(p) => {
                let p: f64 = p.trim().parse().map_err(|_| bad())?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(Error::config("reserve", format!("{s:?}: a percentage is 0 to 100")));
                }
                Ok(Reserve::Percent(p))
            }
            None => t.parse::<u64>().map(Reserve::Credits).map_err(|_| bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserves_parse_or_name_the_setting() {
        assert_eq!("0".parse::<Reserve>().unwrap(), Reserve::Credits(0));
        assert_eq!(" 12.5 % ".parse::<Reserve>().unwrap(), Reserve::Percent(12.5));
        assert_eq!(Reserve::Percent(12.5).credits(Some(1000)).unwrap(), 125);
        for bad in ["", "-1", "x", "101%", "-5%", "1e3"] {
            let e = bad.parse::<Reserve>().unwrap_err();
            assert_eq!(e.setting(), Some("reserve"), "{bad}");
        }
    }

    #[test]
    fn a_pass_releases_once() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let n = Arc::new(AtomicUsize::new(0));
        let (a, b) = (n.clone(), n.clone());
        Pass::new(move |_| {
            a.fetch_add(1, Ordering::SeqCst);
        })
        .finish(true);
        drop(Pass::new(move |_| {
            b.fetch_add(1, Ordering::SeqCst);
        }));
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }
}
