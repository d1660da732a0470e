//! [`BudgetStatus`]: what `zcrm budget status` prints.

use std::fmt;
use std::time::Duration;

/// A slot in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The lease (`host:pid:n`).
    pub lease: String,
    /// The process holding it (`host:pid`).
    pub holder: String,
    /// A call of more than 10 records (it also counts against the sub-concurrency).
    pub heavy: bool,
    /// Time until the lease ends unless renewed.
    pub expires_in: Duration,
}

/// The state of one org's shared budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetStatus {
    /// The org's name in the key prefix.
    pub org: String,
    /// The Redis URL, without its password.
    pub redis: String,
    /// The configured concurrency limit.
    pub configured_limit: usize,
    /// The limit in force (lower after 429s, see the semaphore's adaptive limit).
    pub limit: usize,
    /// The sub-concurrency of calls of more than 10 records.
    pub heavy_limit: usize,
    /// Slots in use.
    pub holders: Vec<Holder>,
    /// Calls waiting for a slot.
    pub waiting: u64,
    /// Credits charged in the last 24 hours by the processes of this budget.
    pub credits_spent: u64,
    /// Credits left to the org, if known (Zoho reports them once half the day's credits are used).
    pub credits_left: Option<i64>,
    /// The day's allowance, if configured.
    pub daily_credits: Option<u64>,
    /// The last `X-API-CREDITS-REMAINING` seen, and how long ago.
    pub observed: Option<(u64, Duration)>,
    /// Time left of the shared access token, if one is cached.
    pub token_expires_in: Option<Duration>,
}

impl fmt::Display for BudgetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "org: {} on {}", self.org, self.redis)?;
        let heavy = self.holders.iter().filter(|h| h.heavy).count();
        writeln!(
            f,
            "slots: {} of {} in use ({} heavy of {}); limit configured {}; {} waiting",
            self.holders.len(),
            self.limit,
            heavy,
            self.heavy_limit,
            self.configured_limit,
            self.waiting
        )?;
        let mut by_holder: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for h in &self.holders {
            *by_holder.entry(h.holder.as_str()).or_default() += 1;
        }
        for (holder, n) in by_holder {
            let next = self.holders.iter().filter(|h| h.holder == holder).map(|h| h.expires_in).min();
            writeln!(
                f,
                "  {holder}: {n} slot(s), leases end in {:.1} s unless renewed",
                next.unwrap_or_default().as_secs_f64()
            )?;
        }
        let left = match self.credits_left {
            Some(n) => n.to_string(),
            None => "unknown (Zoho reports it once half the day's credits are used; or set daily_credits)".to_owned(),
        };
        writeln!(f, "credits: {} spent in the last 24 h; left: {left}", self.credits_spent)?;
        if let Some((n, age)) = self.observed {
            writeln!(f, "  X-API-CREDITS-REMAINING: {n}, seen {:.0} s ago", age.as_secs_f64())?;
        }
        match self.token_expires_in {
            Some(t) => write!(f, "access token: shared, expires in {:.0} s", t.as_secs_f64()),
            None => write!(f, "access token: none shared"),
        }
    }
}
