//! [`BudgetConfig`]: where the budget lives (a Redis URL), which org it is for (a key prefix), and its limits.

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::redact::redact_url;

/// What a process does when Redis fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnRedisError {
    /// Stop: a clear error at start; mid-job, calls in flight finish and the job stops, every row with an
    /// outcome (`BUDGET_UNAVAILABLE`). The default: never run unguarded by the shared limits.
    #[default]
    Fail,
    /// Go on with this process's own limits (its token cache, its concurrency, no shared credit count), trying
    /// Redis again every few seconds.
    Local,
}

impl std::str::FromStr for OnRedisError {
    type Err = Error;
    fn from_str(s: &str) -> Result<OnRedisError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fail" => Ok(OnRedisError::Fail),
            "local" => Ok(OnRedisError::Local),
            _ => Err(Error::config("on_redis_error", format!("{s:?}: expected \"fail\" or \"local\""))),
        }
    }
}

/// How a [`crate::budget::SharedBudget`] connects and what it enforces.
///
/// ```
/// use zcrm_extid::budget::BudgetConfig;
/// let c = BudgetConfig::new("redis://:s3cret@127.0.0.1:6379/2");
/// assert!(!format!("{c:?}").contains("s3cret"));
/// assert_eq!(c.concurrency, 10);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BudgetConfig {
    /// `redis://[user:password@]host:port/db` or `rediss://` (TLS). Without a password in the URL,
    /// `ZCRM_BUDGET_PASSWORD` is used if set.
    pub url: String,
    /// The org's key prefix (letters, digits, `-`, `_`, `.`; at most 64). Default: a hash of the client id, the
    /// accounts server and the API domain, so every process of one org and app finds the same keys and no key
    /// name holds anything secret.
    pub prefix: Option<String>,
    /// What to do when Redis fails.
    pub on_redis_error: OnRedisError,
    /// The org's concurrency limit, shared by every process (spec §5.3: 5 to 25 by edition). Default 10: the
    /// sub-concurrency every edition has, and the limit of Standard.
    pub concurrency: usize,
    /// Concurrent calls of more than 10 records (Zoho's sub-concurrency, 10 in every edition).
    pub heavy_concurrency: usize,
    /// A call's lease: renewed every third of it while the call runs; a process killed with -9 frees its slots
    /// within it. Default 10 s.
    pub lease_ttl: Duration,
    /// The org's daily credit allowance, if known (spec §5.1); needed for a reserve in percent.
    pub daily_credits: Option<u64>,
    /// Connecting to Redis, and each Redis reply, may take this long. Default 2 s.
    pub timeout: Duration,
}

impl fmt::Debug for BudgetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BudgetConfig")
            .field("url", &redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("on_redis_error", &self.on_redis_error)
            .field("concurrency", &self.concurrency)
            .field("heavy_concurrency", &self.heavy_concurrency)
            .field("lease_ttl", &self.lease_ttl)
            .field("daily_credits", &self.daily_credits)
            .finish_non_exhaustive()
    }
}

impl BudgetConfig {
    /// A budget at `url` with the defaults.
    pub fn new(url: impl Into<String>) -> BudgetConfig {
        BudgetConfig {
            url: url.into(),
            prefix: None,
            on_redis_error: OnRedisError::Fail,
            concurrency: crate::bulk::SUB_CONCURRENCY,
            heavy_concurrency: crate::bulk::SUB_CONCURRENCY,
            lease_ttl: Duration::from_secs(10),
            daily_credits: None,
            timeout: Duration::from_secs(2),
        }
    }

    /// Checks the values (not the connection).
    pub(crate) fn validate(&self) -> Result<()> {
        let url = self.url.trim();
        if !(url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("redis+unix://")) {
            return Err(Error::config(
                "budget",
                format!("{}: expected redis://host:port/db or rediss://host:port/db", redact_url(url)),
            ));
        }
        if let Some(p) = &self.prefix
            && (p.is_empty()
                || p.len() > 64
                || !p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(Error::config("budget_prefix", "1 to 64 letters, digits, '-', '_' or '.'"));
        }
        if self.concurrency == 0 || self.concurrency > 1000 {
            return Err(Error::config("budget_concurrency", "must be 1 to 1000"));
        }
        if self.heavy_concurrency == 0 {
            return Err(Error::config("budget_concurrency", "the heavy-call limit must be at least 1"));
        }
        if self.lease_ttl < Duration::from_millis(300) || self.lease_ttl > Duration::from_secs(3600) {
            return Err(Error::config("budget_lease_ttl", "must be 0.3 s to 1 hour"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_named() {
        let e = BudgetConfig::new("http://:pw@x").validate().unwrap_err();
        assert_eq!(e.setting(), Some("budget"));
        assert!(!e.to_string().contains("pw"), "{e}");
        let e = BudgetConfig { prefix: Some("a:b".into()), ..BudgetConfig::new("redis://x") }.validate().unwrap_err();
        assert_eq!(e.setting(), Some("budget_prefix"));
        assert!(BudgetConfig::new("rediss://h:6380/1").validate().is_ok());
        assert_eq!("LOCAL".parse::<OnRedisError>().unwrap(), OnRedisError::Local);
        assert_eq!("x".parse::<OnRedisError>().unwrap_err().setting(), Some("on_redis_error"));
    }
}
