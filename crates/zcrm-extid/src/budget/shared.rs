//! [`SharedBudget`]: the token cache, the semaphore and the credit ledger of one org on one Redis, and the hooks
//! ([`TokenShare`], [`CallGate`]) through which the client uses them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use redis::Commands;

use super::config::{BudgetConfig, OnRedisError};
use super::credits::Credits;
use super::keys::{Keys, digest};
use super::semaphore::{POLL, Semaphore, Step};
use super::status::{BudgetStatus, Holder};
use super::store::Store;
use super::token::TokenCache;
use super::{CallGate, Pass, Reserve, SharedToken, TokenShare};
use crate::auth::{Credentials, TokenPolicy};
use crate::bulk::Cancel;
use crate::code::ErrorCode;
use crate::config::BaseUrl;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The shared budget of one org (see [`crate::budget`]). Cheap to clone; clones share the connections.
///
/// Built by [`crate::ClientBuilder::budget`] (or the `budget` setting of the bindings and the CLI), which also
/// connects: a Redis that is down, a wrong URL or a wrong password is an error before any call is made.
#[derive(Clone, Debug)]
pub struct SharedBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: BudgetConfig,
    store: Store,
    org: String,
    keys: Keys,
    /// `host:pid`, shown as the holder of this process's leases.
    holder: String,
    sem: Semaphore,
    credits: Credits,
    tokens: Option<TokenCache>,
    policy: TokenPolicy,
    /// Token requests made while Redis was unreachable (local mode), for the policy's budget.
    local_requests: Mutex<VecDeque<Instant>>,
}

/// Tickets of this process.
static NEXT: AtomicU64 = AtomicU64::new(0);
/// Tells this process's tickets from those of an earlier process that had the same id.
static NONCE: std::sync::LazyLock<u64> =
    std::sync::LazyLock::new(|| crate::retry::Jitter::new().next_unit().to_bits() & 0xff_ffff);

/// This host's name (for the holders `zcrm budget status` lists); never a secret.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().chars().filter(|c| c.is_ascii_graphic()).take(64).collect::<String>())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned())
}

impl SharedBudget {
    /// The default org name: a hash of the client id, the accounts server and the API base, so that every process
    /// of one org and app finds the same keys and no key names anything secret.
    pub fn default_org(client_id: &str, accounts: &BaseUrl, api: &BaseUrl) -> String {
        digest("zcrm-org", &[client_id, accounts.as_str(), api.as_str()])
    }

    /// Connects to the budget of `org` (see [`BudgetConfig::prefix`]) for `credentials`, checking Redis is there
    /// and accepts the credentials before returning. With [`OnRedisError::Local`], an unreachable Redis is not an
    /// error: the process starts on its own limits and tries Redis again later.
    pub fn connect(
        config: BudgetConfig,
        org: &str,
        credentials: &Credentials,
        policy: TokenPolicy,
    ) -> Result<SharedBudget> {
        config.validate()?;
        let org = config.prefix.clone().unwrap_or_else(|| org.to_owned());
        let token_id = match credentials {
            Credentials::RefreshToken { client_id, refresh_token, .. } => {
                Some(digest("zcrm-refresh", &[client_id, refresh_token.expose()]))
            }
            Credentials::AccessToken(_) => None,
        };
        let keys = Keys::new(&org, token_id.as_deref().unwrap_or("static"));
        let store = Store::new(&config)?;
        let credits = Credits::new(&keys);
        let inner = Arc::new(Inner {
            sem: Semaphore::new(&keys, credits.keys()),
            credits,
            tokens: token_id.map(|_| TokenCache::new(&keys, policy.clone())),
            policy,
            holder: format!("{}:{}", host(), std::process::id()),
            local_requests: Mutex::new(VecDeque::new()),
            store,
            keys,
            org,
            config,
        });
        match inner.store.run(|c| redis::cmd("PING").query::<String>(c)) {
            Ok(_) => {}
            Err(e) if inner.store.fall_back(&e) => {}
            Err(e) => return Err(e),
        }
        spawn_renewer(Arc::downgrade(&inner));
        Ok(SharedBudget { inner })
    }

    /// The org's name in the key prefix (`zcrm:{org}:...`).
    pub fn org(&self) -> &str {
        &self.inner.org
    }

    /// The configuration.
    pub fn config(&self) -> &BudgetConfig {
        &self.inner.config
    }

    /// Slots in use and their holders, the callers waiting, the credits spent and left (see [`BudgetStatus`]).
    pub fn status(&self) -> Result<BudgetStatus> {
        let i = &self.inner;
        let max = i.config.concurrency;
        let (now, limit, holders, heavy, waiting, info): (i64, i64, Vec<String>, Vec<String>, i64, Vec<String>) =
            i.store.run(|c| Ok(redis::from_redis_value(i.sem.status(c, max)?)?))?;
        let info: std::collections::HashMap<&str, &str> =
            info.chunks(2).filter_map(|p| Some((p.first()?.as_str(), p.get(1)?.as_str()))).collect();
        let holders = holders
            .chunks(2)
            .filter_map(|p| {
                let lease = p.first()?.clone();
                let deadline: f64 = p.get(1)?.parse().ok()?;
                let holder = info.get(lease.as_str()).and_then(|s| s.split_once('|')).map(|(_, h)| h.to_owned());
                Some(Holder {
                    heavy: heavy.contains(&lease),
                    holder: holder.unwrap_or_default(),
                    expires_in: Duration::from_millis((deadline as i64 - now).max(0) as u64),
                    lease,
                })
            })
            .collect();
        let ledger = i.store.run(|c| i.credits.read(c, i.config.daily_credits))?;
        let token_ttl: Option<i64> = match &i.tokens {
            Some(_) => Some(i.store.run(|c| c.pttl(i.keys.token()))?),
            None => None,
        };
        Ok(BudgetStatus {
            org: i.org.clone(),
            redis: i.store.shown().to_owned(),
            configured_limit: max,
            limit: limit.max(0) as usize,
            heavy_limit: i.config.heavy_concurrency,
            holders,
            waiting: waiting.max(0) as u64,
            credits_spent: ledger.spent,
            credits_left: ledger.left,
            daily_credits: i.config.daily_credits,
            observed: ledger.observed.map(|(n, age)| (n, Duration::from_millis(age))),
            token_expires_in: token_ttl.filter(|t| *t > 0).map(|t| Duration::from_millis(t as u64)),
        })
    }

    /// The names of the org's keys in Redis (none holds a secret; for checks and clean-up).
    pub fn key_names(&self) -> Result<Vec<String>> {
        let pattern = self.inner.keys.pattern();
        self.inner.store.run(|c| c.scan_match::<_, String>(&pattern)?.collect())
    }
}

/// Renews this process's leases every third of the lease time, while the budget lives.
fn spawn_renewer(weak: Weak<Inner>) {
    let spawned = std::thread::Builder::new().name("zcrm-budget-leases".into()).spawn(move || {
        loop {
            let Some(every) = weak.upgrade().map(|i| i.config.lease_ttl / 3) else { return };
            std::thread::sleep(every);
            let Some(inner) = weak.upgrade() else { return };
            let leases: Vec<String> =
                inner.sem.held.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect();
            if !leases.is_empty() && !inner.store.local_now() {
                let _ = inner.store.run(|c| inner.sem.renew(c, &leases, inner.config.lease_ttl));
            }
        }
    });
    // Without the thread, leases still hold for a whole lease time: a call longer than that may share its slot.
    drop(spawned);
}

impl Inner {
    fn limits(&self) -> (usize, usize) {
        (self.config.concurrency, self.config.heavy_concurrency)
    }

    /// Waits for a slot and charges its credit; `Ok(Err(left))` when the reserve refused the credit.
    fn wait_for_slot(
        &self,
        ticket: &str,
        heavy: bool,
        reserve: Option<u64>,
        cancel: &Cancel,
    ) -> Result<std::result::Result<(), i64>> {
        let wake = self.sem.wake_key(ticket);
        loop {
            if cancel.is_cancelled() {
                let _ = self.store.run(|c| self.sem.release(c, ticket, self.limits()));
                return Err(Error::Cancelled {
                    message: "the call was cancelled while it waited for a slot of the shared budget".into(),
                });
            }
            let credits = (reserve, self.config.daily_credits);
            let step = self.store.run(|c| {
                self.sem.acquire(c, ticket, heavy, &self.holder, self.limits(), self.config.lease_ttl, credits)
            })?;
            match step {
                Step::Granted => return Ok(Ok(())),
                Step::Reserve(left) => return Ok(Err(left)),
                Step::Waiting => {}
            }
            let wait = self.config.timeout + POLL;
            self.store.run_with(Some(wait), |c| c.blpop::<_, Option<(String, String)>>(&wake, POLL.as_secs_f64()))?;
        }
    }

    fn finish(&self, ticket: &str, rate_limited: bool) {
        self.sem.held.lock().unwrap_or_else(|p| p.into_inner()).remove(ticket);
        if self.store.local_now() {
            return;
        }
        // A failed release is harmless: the lease ends with its time.
        let _ = self.store.run(|c| self.sem.release(c, ticket, self.limits()));
        if let Some(share) = self.sem.count(rate_limited) {
            let _ = self.store.run(|c| self.sem.lower(c, self.config.concurrency, share));
        }
    }

    /// A token from the endpoint without Redis, within the policy's request budget.
    fn local_mint(&self, mint: &mut dyn FnMut() -> Result<SharedToken>) -> Result<SharedToken> {
        let now = Instant::now();
        let mut q = self.local_requests.lock().unwrap_or_else(|p| p.into_inner());
        while q.front().is_some_and(|t| now.duration_since(*t) >= self.policy.request_window) {
            q.pop_front();
        }
        if q.len() >= self.policy.max_requests.max(1) {
            return Err(Error::Auth {
                status: 0,
                code: ErrorCode::OauthThrottled,
                error: "client token budget".into(),
                description: Some(format!(
                    "{} token requests in the last {} s",
                    q.len(),
                    self.policy.request_window.as_secs()
                )),
                hint: Some("Zoho allows about 10 access tokens per refresh token per 10 minutes".into()),
            });
        }
        q.push_back(now);
        drop(q);
        mint()
    }
}

impl TokenShare for SharedBudget {
    fn token(&self, stale: Option<&Secret>, mint: &mut dyn FnMut() -> Result<SharedToken>) -> Result<SharedToken> {
        let i = &self.inner;
        let Some(cache) = &i.tokens else { return mint() };
        if i.store.local_now() {
            return i.local_mint(mint);
        }
        match cache.token(&i.store, &i.holder, stale, mint) {
            Err(e) if i.store.fall_back(&e) => i.local_mint(mint),
            other => other,
        }
    }
}

impl CallGate for SharedBudget {
    fn enter(&self, heavy: bool, reserve: Option<u64>, cancel: &Cancel) -> Result<Pass> {
        let i = &self.inner;
        if i.store.local_now() {
            return Ok(Pass::free());
        }
        // Unique across the clients of this process (one counter) and across restarts of a process id (a nonce).
        let ticket = format!("{}:{:06x}{}", i.holder, *NONCE, NEXT.fetch_add(1, Ordering::Relaxed));
        match i.wait_for_slot(&ticket, heavy, reserve, cancel) {
            Ok(Ok(())) => {}
            Ok(Err(left)) => {
                return Err(Error::Budget {
                    code: ErrorCode::CreditReserve,
                    message: format!(
                        "{left} credits are left to the org, and the job keeps {} in reserve: it stopped before eating into them",
                        reserve.unwrap_or(0)
                    ),
                });
            }
            Err(e) if i.store.fall_back(&e) => return Ok(Pass::free()),
            Err(e) => return Err(e),
        }
        i.sem.held.lock().unwrap_or_else(|p| p.into_inner()).insert(ticket.clone());
        let owner = self.inner.clone();
        Ok(Pass::new(move |rate_limited| owner.finish(&ticket, rate_limited)))
    }

    fn observe_credits(&self, remaining: u64) {
        let i = &self.inner;
        if i.store.local_now() {
            return;
        }
        if let Err(e) = i.store.run(|c| i.credits.observe(c, remaining)) {
            i.store.fall_back(&e);
        }
    }

    fn reserve_credits(&self, reserve: &Reserve) -> Result<u64> {
        reserve.credits(self.inner.config.daily_credits)
    }
}

impl SharedBudget {
    /// Whether Redis failures are answered locally ([`OnRedisError::Local`]).
    pub fn is_local_on_error(&self) -> bool {
        self.inner.config.on_redis_error == OnRedisError::Local
    }
}
