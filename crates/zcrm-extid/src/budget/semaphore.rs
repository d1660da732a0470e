//! The org's concurrency limit across processes: a Redis semaphore with leases and a FIFO queue.
//!
//! **Leases.** A call holds a lease: a member of the sorted set `sem:holders` scored by its deadline (Redis's own
//! clock, `TIME`, so the hosts' clocks never matter). A thread of each process renews its leases every third of
//! the lease time while the calls run; a lease past its deadline is dropped by whichever script runs next, so a
//! process killed with -9 frees its slots within the lease time. Calls of more than 10 records also hold a lease
//! in `sem:heavy` (Zoho's sub-concurrency of 10, spec §5.3).
//!
//! **Fairness.** Every waiting call takes a ticket from one counter (`sem:seq`) and waits in `sem:queue` in ticket
//! order, across all processes: slots are granted strictly in arrival order, except that a call of more than 10
//! records that the sub-concurrency holds back lets lighter calls behind it pass (it keeps its place). A process
//! therefore gets slots in proportion to the calls it has waiting, and none starves. A waiter polls (renewing its
//! place in `sem:waiting`, which drops waiters of dead processes within [`WAITER_TTL`]); a release hands its slot
//! to the first waiter at once and wakes it through its own list (`BLPOP`), so a freed slot is used within a
//! round trip, not a poll interval. A slot is handed only to a waiter that polled within [`FRESH`], and held for
//! [`CLAIM`] until the waiter claims it (then for a whole lease): the queued calls of a killed process stop
//! getting slots within [`FRESH`] and hold none longer than [`CLAIM`]; its calls on the wire hold theirs until
//! their leases end.
//!
//! **Adaptive limit.** If a notable share of a process's calls is answered 429 (over 10% of [`WINDOW`] calls, as
//! the local limit in [`crate::bulk::slots`]), it lowers the *shared* limit the same way (`sem:cap`, never below
//! 1); the limit then rises by one per [`crate::bulk::slots::QUIET`] without such a window, up to the configured
//! one. Every process reads the same limit.
//!
//! Every step is one Lua script, so it is atomic.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use redis::Script;

use super::keys::Keys;
use crate::bulk::slots::QUIET;

/// Results per decision window of the adaptive limit.
pub(crate) const WINDOW: usize = 50;
/// A waiter that stopped polling for this long loses its place.
pub(crate) const WAITER_TTL: Duration = Duration::from_millis(1000);
/// A slot is handed only to a waiter that polled within this time (a waiter polls every [`POLL`]), so the waiters
/// of a killed process stop getting slots this soon after it died.
pub(crate) const FRESH: Duration = Duration::from_millis(300);
/// A slot handed to a waiter is held this long until the waiter claims it (then for a whole lease).
pub(crate) const CLAIM: Duration = Duration::from_millis(500);
/// How long a waiter blocks on its wake-up list before it polls again.
pub(crate) const POLL: Duration = Duration::from_millis(100);

/// The Lua shared by the scripts: time, clean-up of dead leases and waiters, the current limit, and handing
/// free slots to waiters in ticket order.
/// KEYS: 1 holders, 2 heavy, 3 queue, 4 waiting, 5 info, 6 cap, 7 seq.
const COMMON: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function cleanup()
  local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 500)
  for _, l in ipairs(dead) do
    redis.call('ZREM', KEYS[1], l); redis.call('ZREM', KEYS[2], l); redis.call('HDEL', KEYS[5], l)
  end
  local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 500)
  for _, w in ipairs(gone) do
    redis.call('ZREM', KEYS[4], w); redis.call('ZREM', KEYS[3], w); redis.call('HDEL', KEYS[5], w)
  end
end
local function limit(max, quiet)
  local cap = redis.call('HMGET', KEYS[6], 'cap', 'at')
  if not cap[1] then return max end
  local c = tonumber(cap[1]) + math.floor((now - tonumber(cap[2])) / quiet)
  if c >= max then redis.call('DEL', KEYS[6]); return max end
  return c
end
local function promote(lim, heavy_lim, wake)
  local claim_ms, fresh = CLAIM_MS, now + WAITER_MS - FRESH_MS
  local used = redis.call('ZCARD', KEYS[1])
  if used >= lim then return end
  local heavy_used = redis.call('ZCARD', KEYS[2])
  local waiting = redis.call('ZRANGE', KEYS[3], 0, 199)
  for _, w in ipairs(waiting) do
    if used >= lim then break end
    local info = redis.call('HGET', KEYS[5], w) or '0|'
    local heavy = string.sub(info, 1, 1) == '1'
    local alive = tonumber(redis.call('ZSCORE', KEYS[4], w) or 0) >= fresh
    if alive and ((not heavy) or heavy_used < heavy_lim) then
      redis.call('ZREM', KEYS[3], w); redis.call('ZREM', KEYS[4], w)
      redis.call('ZADD', KEYS[1], now + claim_ms, w)
      if heavy then redis.call('ZADD', KEYS[2], now + claim_ms, w); heavy_used = heavy_used + 1 end
      used = used + 1
      redis.call('RPUSH', wake .. w, '1'); redis.call('PEXPIRE', wake .. w, claim_ms)
    end
  end
end
"#;

/// ARGV: ticket, heavy (0/1), holder, max, heavy max, lease ms, waiter ms, wake prefix, quiet ms, reserve (-1:
/// none), daily allowance (-1: unknown). KEYS 8-12: the credit ledger's.
/// Returns {1, 0} when the ticket holds a slot (its credit charged), {0, place in the queue} when it waits, and
/// {2, credits left} when the reserve refused the credit (the slot is freed again).
const ACQUIRE: &str = r#"
local ticket, heavy, holder = ARGV[1], ARGV[2], ARGV[3]
local max, heavy_max, lease_ms = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local waiter_ms, wake, quiet = tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9])
local reserve, daily = tonumber(ARGV[10]), tonumber(ARGV[11])
local function claim()
  redis.call('DEL', wake .. ticket)
  local ok, l = charge(reserve, daily, 1)
  if not ok then
    redis.call('ZREM', KEYS[1], ticket); redis.call('ZREM', KEYS[2], ticket); redis.call('HDEL', KEYS[5], ticket)
    promote(limit(max, quiet), heavy_max, wake)
    return {2, l}
  end
  redis.call('ZADD', KEYS[1], 'XX', now + lease_ms, ticket)
  if redis.call('ZSCORE', KEYS[2], ticket) then redis.call('ZADD', KEYS[2], 'XX', now + lease_ms, ticket) end
  return {1, 0}
end
cleanup()
if redis.call('ZSCORE', KEYS[1], ticket) then return claim() end
if not redis.call('ZSCORE', KEYS[3], ticket) then
  local seq = redis.call('INCR', KEYS[7])
  redis.call('ZADD', KEYS[3], seq, ticket)
  redis.call('HSET', KEYS[5], ticket, heavy .. '|' .. holder)
end
redis.call('ZADD', KEYS[4], now + waiter_ms, ticket)
promote(limit(max, quiet), heavy_max, wake)
if redis.call('ZSCORE', KEYS[1], ticket) then return claim() end
return {0, redis.call('ZRANK', KEYS[3], ticket) or 0}
"#;

/// ARGV: ticket, max, heavy max, (unused), wake prefix, quiet ms. Frees a lease, or gives up a place in the
/// queue, and hands free slots on.
const RELEASE: &str = r#"
local ticket = ARGV[1]
local max, heavy_max, wake, quiet = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[5], tonumber(ARGV[6])
redis.call('ZREM', KEYS[1], ticket); redis.call('ZREM', KEYS[2], ticket)
redis.call('ZREM', KEYS[3], ticket); redis.call('ZREM', KEYS[4], ticket)
redis.call('HDEL', KEYS[5], ticket); redis.call('DEL', wake .. ticket)
cleanup()
promote(limit(max, quiet), heavy_max, wake)
return 1
"#;

/// ARGV: lease ms, leases... Renews the leases still held; returns how many were lost.
const RENEW: &str = r#"
local lease_ms = tonumber(ARGV[1])
local lost = 0
for i = 2, #ARGV do
  local l = ARGV[i]
  if redis.call('ZSCORE', KEYS[1], l) then
    redis.call('ZADD', KEYS[1], 'XX', now + lease_ms, l)
    if redis.call('ZSCORE', KEYS[2], l) then redis.call('ZADD', KEYS[2], 'XX', now + lease_ms, l) end
  else
    lost = lost + 1
  end
end
return lost
"#;

/// ARGV: max, share of 429s in thousandths, quiet ms. Lowers the shared limit; returns it.
const LOWER: &str = r#"
local max, share, quiet = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cur = limit(max, quiet)
local new = math.floor(cur * (1000 - share) / 1000)
if new > cur - 1 then new = cur - 1 end
if new < 1 then new = 1 end
redis.call('HSET', KEYS[6], 'cap', new, 'at', now)
redis.call('PEXPIRE', KEYS[6], quiet * (max + 1))
return new
"#;

/// ARGV: max, quiet ms. Returns {now, limit, holders with deadlines, heavy leases, queue length, info}.
const STATUS: &str = r#"
cleanup()
local max, quiet = tonumber(ARGV[1]), tonumber(ARGV[2])
return {now, limit(max, quiet), redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES'),
        redis.call('ZRANGE', KEYS[2], 0, -1), redis.call('ZCARD', KEYS[3]), redis.call('HGETALL', KEYS[5])}
"#;

/// The scripts and keys of one org's semaphore, and this process's leases.
pub(crate) struct Semaphore {
    /// The semaphore's 7 keys, then the credit ledger's 5.
    keys: Vec<String>,
    wake: String,
    acquire: Script,
    release: Script,
    renew: Script,
    lower: Script,
    status: Script,
    /// Leases this process holds (renewed by the budget's renewal thread).
    pub(crate) held: Mutex<HashSet<String>>,
    /// 429 accounting of this process: (results, rate-limited) in the current window.
    window: Mutex<(usize, usize)>,
}

impl std::fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Semaphore").field("holders", &self.keys[0]).finish_non_exhaustive()
    }
}

/// What one acquire step found.
pub(crate) enum Step {
    /// The ticket holds a slot.
    Granted,
    /// It waits.
    Waiting,
    /// The credit reserve refused the call's credit; this many credits are left.
    Reserve(i64),
}

impl Semaphore {
    pub(crate) fn new(keys: &Keys, credit_keys: &[String]) -> Semaphore {
        let ck = "local CK = {KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]}";
        let constants = format!(
            "local CLAIM_MS, WAITER_MS, FRESH_MS = {}, {}, {}",
            CLAIM.as_millis(),
            WAITER_TTL.as_millis(),
            FRESH.as_millis()
        );
        let script =
            |body: &str| Script::new(&format!("{constants}\n{COMMON}\n{ck}\n{}\n{body}", super::credits::FUNCTIONS));
        let mut all: Vec<String> =
            ["sem:holders", "sem:heavy", "sem:queue", "sem:waiting", "sem:info", "sem:cap", "sem:seq"]
                .iter()
                .map(|k| keys.key(k))
                .collect();
        all.extend(credit_keys.iter().cloned());
        Semaphore {
            keys: all,
            wake: keys.key("sem:wake:"),
            acquire: script(ACQUIRE),
            release: script(RELEASE),
            renew: script(RENEW),
            lower: script(LOWER),
            status: script(STATUS),
            held: Mutex::new(HashSet::new()),
            window: Mutex::new((0, 0)),
        }
    }

    fn with_keys<'a>(&'a self, script: &'a Script) -> redis::ScriptInvocation<'a> {
        let mut inv = script.prepare_invoke();
        for k in &self.keys {
            inv.key(k);
        }
        inv
    }

    /// The wake-up list of `ticket`.
    pub(crate) fn wake_key(&self, ticket: &str) -> String {
        format!("{}{ticket}", self.wake)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn acquire(
        &self,
        con: &mut redis::Connection,
        ticket: &str,
        heavy: bool,
        holder: &str,
        (max, heavy_max): (usize, usize),
        lease: Duration,
        (reserve, daily): (Option<u64>, Option<u64>),
    ) -> redis::RedisResult<Step> {
        let opt = |v: Option<u64>| v.map_or(-1, |n| n.min(i64::MAX as u64) as i64);
        let (granted, value): (i64, i64) = self
            .with_keys(&self.acquire)
            .arg(ticket)
            .arg(if heavy { "1" } else { "0" })
            .arg(holder)
            .arg(max)
            .arg(heavy_max)
            .arg(lease.as_millis() as u64)
            .arg(WAITER_TTL.as_millis() as u64)
            .arg(&self.wake)
            .arg(QUIET.as_millis() as u64)
            .arg(opt(reserve))
            .arg(opt(daily))
            .invoke(con)?;
        Ok(match granted {
            1 => Step::Granted,
            2 => Step::Reserve(value),
            _ => Step::Waiting,
        })
    }

    pub(crate) fn release(
        &self,
        con: &mut redis::Connection,
        ticket: &str,
        (max, heavy_max): (usize, usize),
    ) -> redis::RedisResult<()> {
        let _: i64 = self
            .with_keys(&self.release)
            .arg(ticket)
            .arg(max)
            .arg(heavy_max)
            .arg(WAITER_TTL.as_millis() as u64)
            .arg(&self.wake)
            .arg(QUIET.as_millis() as u64)
            .invoke(con)?;
        Ok(())
    }

    /// Renews `leases`; returns how many were no longer held.
    pub(crate) fn renew(
        &self,
        con: &mut redis::Connection,
        leases: &[String],
        lease: Duration,
    ) -> redis::RedisResult<u64> {
        let mut inv = self.with_keys(&self.renew);
        inv.arg(lease.as_millis() as u64);
        for l in leases {
            inv.arg(l);
        }
        inv.invoke(con)
    }

    /// Counts a finished call; returns the share of 429s (thousandths) when a window calls for a lower limit.
    pub(crate) fn count(&self, rate_limited: bool) -> Option<u64> {
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        w.0 += 1;
        w.1 += usize::from(rate_limited);
        if w.0 < WINDOW {
            return None;
        }
        let (results, limited) = std::mem::take(&mut *w);
        (limited * 10 > results).then(|| (limited * 1000 / results) as u64)
    }

    pub(crate) fn lower(&self, con: &mut redis::Connection, max: usize, share_milli: u64) -> redis::RedisResult<u64> {
        self.with_keys(&self.lower).arg(max).arg(share_milli).arg(QUIET.as_millis() as u64).invoke(con)
    }

    pub(crate) fn status(&self, con: &mut redis::Connection, max: usize) -> redis::RedisResult<redis::Value> {
        self.with_keys(&self.status).arg(max).arg(QUIET.as_millis() as u64).invoke(con)
    }
}
