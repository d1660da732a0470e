//! The two safety checks of a reconcile:
//!
//! * **`max_unlinks`** ([`MaxUnlinks`]): an absolute count (`500`) or a share of the links the plan read on the
//!   input's parents (`5%`, rounded down). A plan that unlinks more is refused as a whole before anything is
//!   sent ([`check_max_unlinks`]: an `INVALID_INPUT` naming `max_unlinks`): a truncated export must not empty
//!   the CRM. The guard is recorded in the plan; apply may be given a new one.
//! * **Changed since planning** ([`changed_since`]): a plan records, per parent, a digest of what it read
//!   (every linked record's id, key and managed relation fields; [`super::diff::digest`]). Before a parent's
//!   changes are sent, apply reads its links again (the same paginated read) and compares. A parent whose links
//!   differ is refused: none of its changes is sent, each gets `CHANGED_SINCE_PLANNING`. Chosen over
//!   `If-Modified-Since` because Zoho's related-list read lists only relations modified *after* the time
//!   (spec §2.1): an unlink made since planning leaves nothing to list, so a 304 could not tell it apart from
//!   no change. Re-reading costs one read per changed parent; applying right after planning, in one step
//!   (`zcrm sync --apply`), may skip it (`recheck: false`), as nothing could review the plan in between.

use std::fmt;

use super::diff::digest;
use super::model::{ParentPlan, SyncSpec};
use super::read::read_current;
use crate::client::Client;
use crate::error::{Error, InvalidInput};

/// The most unlinks a plan may hold: a count, or a percentage of the links read on the input's parents.
///
/// ```
/// use zcrm_extid::reconcile::MaxUnlinks;
/// let five: MaxUnlinks = "5%".parse()?;
/// assert_eq!((five.allowed(1_000), five.to_string()), (50, "5%".to_owned()));
/// assert_eq!("120".parse::<MaxUnlinks>()?.allowed(10), 120);
/// assert_eq!("150%".parse::<MaxUnlinks>().unwrap_err().argument, "max_unlinks");
/// # Ok::<(), zcrm_extid::InvalidInput>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxUnlinks {
    /// At most this many.
    Count(u64),
    /// At most this percentage (0 to 100) of the links read.
    Percent(f64),
}

impl MaxUnlinks {
    /// Unlinks allowed when `current_links` links were read.
    pub fn allowed(self, current_links: u64) -> u64 {
        match self {
            MaxUnlinks::Count(n) => n,
            // Rounded down, computed in integers where the percentage allows it (5% of 1,000 is 50, not 49).
            MaxUnlinks::Percent(p) => {
                let hundredths = (p * 100.0).round();
                if (p * 100.0 - hundredths).abs() < 1e-9 {
                    (u128::from(current_links) * hundredths as u128 / 10_000) as u64
                } else {
                    (current_links as f64 * p / 100.0).floor() as u64
                }
            }
        }
    }
}

impl fmt::Display for MaxUnlinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxUnlinks::Count(n) => write!(f, "{n}"),
            MaxUnlinks::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl std::str::FromStr for MaxUnlinks {
    type Err = InvalidInput;

    /// `N` (a count) or `P%` (0 to 100, decimals allowed).
    fn from_str(s: &str) -> Result<MaxUnlinks, InvalidInput> {
        let bad = || InvalidInput::new("max_unlinks", format!("{s:?}: expected a count (500) or a percentage (5%)"));
        let t = s.trim();
        match t.strip_suffix('%') {
            Some(p) => {
                let p: f64 = p.trim().parse().map_err(|_| bad())?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(InvalidInput::new("max_unlinks", format!("{s:?}: a percentage is 0 to 100")));
                }
                Ok(MaxUnlinks::Percent(p))
            }
            None => t.parse().map(MaxUnlinks::Count).map_err(|_| bad()),
        }
    }
}

/// Refuses `unlinks` beyond what `guard` allows for `current_links` links read.
pub fn check_max_unlinks(guard: Option<MaxUnlinks>, unlinks: u64, current_links: u64) -> Result<(), InvalidInput> {
    let Some(guard) = guard else { return Ok(()) };
    let allowed = guard.allowed(current_links);
    if unlinks > allowed {
        return Err(InvalidInput::new(
            "max_unlinks",
            format!(
                "the plan unlinks {unlinks} pairs; max_unlinks {guard} allows {allowed} (of {current_links} linked): nothing was sent. Check the input (is it complete?), or raise max_unlinks"
            ),
        ));
    }
    Ok(())
}

/// What a re-read found for a parent of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recheck {
    /// Its links are as planned.
    Unchanged,
    /// They changed: links read when planning, and now.
    Changed {
        /// Links read when planning.
        planned: u64,
        /// Links now.
        now: u64,
    },
}

/// Reads `parent`'s links again and compares them with what the plan read; also returns the read calls made.
pub fn changed_since(client: &Client, spec: &SyncSpec, parent: &ParentPlan) -> (Result<Recheck, Error>, u64) {
    let (current, calls) = read_current(client, spec, &parent.parent);
    let result = current.map(|rows| {
        if digest(spec, &rows) == parent.digest {
            Recheck::Unchanged
        } else {
            Recheck::Changed { planned: parent.links_read, now: rows.len() as u64 }
        }
    });
    (result, calls)
}
