//! The org's credits across processes: a shared count of the credits spent in a rolling 24 hours (spec §5.1: Zoho
//! checks the credits of the last 24 hours at every call), corrected from `X-API-CREDITS-REMAINING`, and a per-job
//! reserve.
//!
//! * **Count.** Each call is charged one credit when it gets its slot (related-records calls are not in Zoho's
//!   table of costs, spec §5.2: one credit each, the default), into per-minute buckets (`credits:min`, 1,440 of
//!   them) with a running total, so the 24-hour sum costs nothing to read. A call answered 429 was charged too:
//!   the count errs on the side of fewer credits left.
//! * **Correction.** Zoho sends `X-API-CREDITS-REMAINING` once half the day's credits are used (spec §5.4), for
//!   the whole org (other integrations included). Each one is kept with the number of calls charged when it was
//!   seen, less the calls then in flight (which Zoho may not have counted yet): the credits left are that value
//!   less the calls charged since. Without one, the left credits are `daily_credits - spent` when the allowance
//!   is configured, and unknown otherwise.
//! * **Reserve.** A job with a reserve is refused a slot when its call would leave fewer credits than the
//!   reserve (checked and charged in one script, so processes cannot overshoot together); the job then stops
//!   scheduling calls. While the credits left are unknown (less than half the day's credits used, and no
//!   allowance configured), any reserve under half the allowance is still far off, so the job goes on.

use redis::Script;

use super::keys::Keys;

/// The ledger's Lua, shared with the semaphore's scripts (which charge a call when they grant its slot): `now`
/// must be defined, and `CK` must hold the keys: 1 minute buckets, 2 total, 3 oldest bucket, 4 calls charged,
/// 5 observation.
pub(crate) const FUNCTIONS: &str = r#"
local minute = math.floor(now / 60000)
local function prune()
  local oldest = tonumber(redis.call('GET', CK[3]) or minute)
  if minute - oldest >= 2 * 1440 then
    redis.call('DEL', CK[1]); redis.call('SET', CK[2], 0); oldest = minute
  end
  while oldest <= minute - 1440 do
    local n = tonumber(redis.call('HGET', CK[1], oldest) or 0)
    if n > 0 then redis.call('DECRBY', CK[2], n); redis.call('HDEL', CK[1], oldest) end
    oldest = oldest + 1
  end
  redis.call('SET', CK[3], oldest)
end
local function left(daily)
  local spent = tonumber(redis.call('GET', CK[2]) or 0)
  local obs = redis.call('HMGET', CK[5], 'remaining', 'calls')
  if obs[1] then
    return tonumber(obs[1]) - (tonumber(redis.call('GET', CK[4]) or 0) - tonumber(obs[2])), spent
  end
  if daily >= 0 then return daily - spent, spent end
  return nil, spent
end
-- Charges `cost` unless fewer than `reserve` (-1: none) credits would be left: returns true, or false and left.
local function charge(reserve, daily, cost)
  prune()
  local l = left(daily)
  if reserve >= 0 and l ~= nil and l - cost < reserve then return false, l end
  redis.call('INCRBY', CK[4], cost)
  redis.call('HINCRBY', CK[1], minute, cost)
  redis.call('INCRBY', CK[2], cost)
  return true, l
end
"#;

/// The ledger's own scripts: KEYS 1-5 as `CK`, 6 the semaphore's holders.
const COMMON: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local CK = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]}
"#;

/// ARGV: remaining. Keeps an observation for a day.
const OBSERVE: &str = r#"
local calls = tonumber(redis.call('GET', KEYS[4]) or 0) - redis.call('ZCARD', KEYS[6])
redis.call('HSET', KEYS[5], 'remaining', ARGV[1], 'calls', calls, 'at', now)
redis.call('PEXPIRE', KEYS[5], 86400000)
return 1
"#;

/// ARGV: daily allowance (-1: unknown). Returns {spent, left or -1 (unknown), observed remaining or -1, its age ms}.
const READ: &str = r#"
prune()
local l, spent = left(tonumber(ARGV[1]))
local obs = redis.call('HMGET', KEYS[5], 'remaining', 'at')
return {spent, l or -1, tonumber(obs[1] or -1), obs[2] and (now - tonumber(obs[2])) or -1}
"#;

/// The ledger's scripts and keys.
pub(crate) struct Credits {
    keys: [String; 6],
    observe: Script,
    read: Script,
}

impl std::fmt::Debug for Credits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credits").finish_non_exhaustive()
    }
}

/// What the ledger reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ledger {
    pub spent: u64,
    pub left: Option<i64>,
    pub observed: Option<(u64, u64)>,
}

impl Credits {
    pub(crate) fn new(keys: &Keys) -> Credits {
        let script = |body: &str| Script::new(&format!("{COMMON}\n{FUNCTIONS}\n{body}"));
        Credits {
            keys: [
                "credits:min",
                "credits:total",
                "credits:oldest",
                "credits:calls",
                "credits:observed",
                "sem:holders",
            ]
            .map(|k| keys.key(k)),
            observe: script(OBSERVE),
            read: script(READ),
        }
    }

    fn with_keys<'a>(&'a self, script: &'a Script) -> redis::ScriptInvocation<'a> {
        let mut inv = script.prepare_invoke();
        for k in &self.keys {
            inv.key(k);
        }
        inv
    }

    /// The ledger's keys (minute buckets, total, oldest bucket, calls charged, observation), for the semaphore.
    pub(crate) fn keys(&self) -> &[String] {
        &self.keys[..5]
    }

    pub(crate) fn observe(&self, con: &mut redis::Connection, remaining: u64) -> redis::RedisResult<()> {
        let _: i64 = self.with_keys(&self.observe).arg(remaining).invoke(con)?;
        Ok(())
    }

    pub(crate) fn read(&self, con: &mut redis::Connection, daily: Option<u64>) -> redis::RedisResult<Ledger> {
        let (spent, left, observed, age): (i64, i64, i64, i64) =
            self.with_keys(&self.read).arg(daily.map_or(-1, |n| n as i64)).invoke(con)?;
        Ok(Ledger {
            spent: spent.max(0) as u64,
            left: (left != -1 || observed >= 0 || daily.is_some()).then_some(left),
            observed: (observed >= 0).then(|| (observed as u64, age.max(0) as u64)),
        })
    }
}
