//! Plain-data options of planning and applying, filled from Python keyword arguments, a JS options object or
//! CLI flags; every default and parse happens here, once (as [`crate::settings`] does for bulk jobs).

use std::time::Duration;

use super::apply::ApplyOptions;
use super::guard::MaxUnlinks;
use super::plan::PlanOptions;
use crate::error::{Error, Result};
use crate::settings::BulkSettings;

/// How a plan is made, as plain values; unset ones take [`PlanOptions::default`]'s.
///
/// ```
/// use zcrm_extid::reconcile::settings::PlanSettings;
/// let o = PlanSettings { max_unlinks: Some("5%".into()), unlink_missing: Some(true), ..Default::default() }.options()?;
/// assert_eq!((o.unlink_missing, o.max_unlinks.unwrap().allowed(200), o.concurrency), (true, 10, 10));
/// assert!(PlanSettings { max_unlinks: Some("lots".into()), ..Default::default() }.options().is_err());
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanSettings {
    /// Plan unlinks of linked records absent from the input.
    pub unlink_missing: Option<bool>,
    /// `N` or `P%` ([`MaxUnlinks`]).
    pub max_unlinks: Option<String>,
    /// Reads on the wire at once (or, with `edition`, the edition's limit).
    pub concurrency: Option<usize>,
    /// The org's edition, for the concurrency limit.
    pub edition: Option<String>,
    /// Parents read ahead.
    pub window: Option<usize>,
    /// Least time between progress reports.
    pub progress_interval: Option<Duration>,
}

/// `N` or `P%`, if set.
pub fn max_unlinks(text: Option<&str>) -> Result<Option<MaxUnlinks>> {
    text.map(|t| t.parse::<MaxUnlinks>().map_err(Error::from)).transpose()
}

impl PlanSettings {
    /// The options, checked.
    pub fn options(&self) -> Result<PlanOptions> {
        let d = PlanOptions::default();
        // Reads keep to the same limit as a bulk job's writes: the bulk settings decide it.
        let bulk = BulkSettings { concurrency: self.concurrency, edition: self.edition.clone(), ..Default::default() };
        Ok(PlanOptions {
            unlink_missing: self.unlink_missing.unwrap_or(d.unlink_missing),
            max_unlinks: max_unlinks(self.max_unlinks.as_deref())?,
            concurrency: bulk.options()?.concurrency,
            window: self.window.unwrap_or(d.window),
            progress_interval: self.progress_interval.unwrap_or(d.progress_interval),
            ..d
        })
    }
}

/// How a plan is applied, as plain values; unset ones take [`ApplyOptions::default`]'s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplySettings {
    /// Re-read each changed parent first (default true).
    pub recheck: Option<bool>,
    /// A guard replacing the plan's: `N` or `P%`.
    pub max_unlinks: Option<String>,
    /// Parents re-read, then written, at a time.
    pub window: Option<usize>,
    /// The bulk job's tuning (concurrency, edition, batch size, progress interval).
    pub bulk: BulkSettings,
}

impl ApplySettings {
    /// The options, checked.
    pub fn options(&self) -> Result<ApplyOptions> {
        let d = ApplyOptions::default();
        let window = self.window.unwrap_or(d.window);
        if window == 0 {
            return Err(Error::config("window", "must be at least 1"));
        }
        Ok(ApplyOptions {
            bulk: self.bulk.options()?,
            recheck: self.recheck.unwrap_or(d.recheck),
            window,
            max_unlinks: max_unlinks(self.max_unlinks.as_deref())?,
        })
    }
}
