//! Access tokens shared by every process that uses the same refresh token.
//!
//! * **Where.** The token is a Redis string `zcrm:{org}:token:<hash of the refresh token>` holding the token, its
//!   API domain and its lifetime, with an expiry equal to the time it has left: Redis drops it when Zoho would.
//!   Nothing else keeps it (no file, no log: the value is never printed, the key names no secret).
//! * **One refresh per expiry.** A process whose token nears its end (refresh-ahead, see [`crate::auth`]) first
//!   reads the shared one: if another process already put a fresher token there, it takes that. Otherwise it takes
//!   the refresh lock (`SET NX PX`, [`LOCK_TTL`]), reads again (someone may have finished meanwhile), asks the token
//!   endpoint, stores the token and frees the lock. Processes that find the lock taken poll the key every
//!   [`POLL`] and take the new token as soon as it is there. All processes refresh at about the same moment (they
//!   read the same expiry), and one of them asks Zoho.
//! * **One replacement after a 401.** A token the API refused is passed as `stale`: if the shared token is still
//!   that one, the process replaces it (under the lock); if another process already replaced it, it takes the new
//!   one. So a refused token is replaced once, not once per process.
//! * **Zoho's per-refresh-token limit, shared.** Every token request of every process is logged (`grants`, a
//!   sorted set of Redis times): once [`crate::auth::TokenPolicy::max_requests`] were made within its window, a
//!   process is answered with the throttle error instead of asking (as a single client does by itself).
//!   A refusal by the token endpoint is kept for all processes (`refused`, for the policy's throttle wait or refusal
//!   memory), so N processes with a wrong secret ask once, not N times.

use std::thread::sleep;
use std::time::{Duration, Instant};

use redis::{Commands, Script};
use serde_json::{Value, json};

use super::SharedToken;
use super::keys::Keys;
use super::store::Store;
use crate::auth::{Token, TokenPolicy};
use crate::code::ErrorCode;
use crate::config::BaseUrl;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The refresh lock's lifetime (a token request that takes longer lets another process try).
pub(crate) const LOCK_TTL: Duration = Duration::from_secs(30);
/// How often a process waiting for another's refresh looks for the new token.
pub(crate) const POLL: Duration = Duration::from_millis(20);

/// GET and PTTL in one step. Returns {value or false, pttl}.
const READ: &str = r#"return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}"#;

/// Frees the lock only if this process holds it. KEYS: lock; ARGV: owner.
const UNLOCK: &str = r#"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"#;

/// Logs a token request unless `max` were made within `window_ms`. KEYS: grants; ARGV: max, window ms, member.
/// Returns {1, 0} when logged, {0, ms until the oldest leaves the window} when the budget is spent.
const GRANT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= max then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. now)
redis.call('PEXPIRE', KEYS[1], window)
return {1, 0}
"#;

#[derive(Debug)]
pub(crate) struct TokenCache {
    token_key: String,
    lock_key: String,
    grants_key: String,
    refused_key: String,
    policy: TokenPolicy,
    read: Script,
    unlock: Script,
    grant: Script,
}

/// What was found under the token key.
struct Found {
    token: SharedToken,
}

/// How early a token of `lifetime` is refreshed (as [`crate::auth`] does): `min(5 min, lifetime / 5)`.
fn margin(lifetime: Duration) -> Duration {
    (lifetime / 5).min(Duration::from_secs(300))
}

impl TokenCache {
    pub(crate) fn new(keys: &Keys, policy: TokenPolicy) -> TokenCache {
        TokenCache {
            token_key: keys.token().to_owned(),
            lock_key: keys.token_part("lock"),
            grants_key: keys.token_part("grants"),
            refused_key: keys.token_part("refused"),
            read: Script::new(READ),
            unlock: Script::new(UNLOCK),
            grant: Script::new(GRANT),
            policy,
        }
    }

    fn read(&self, store: &Store) -> Result<Option<Found>> {
        let (value, pttl): (Option<String>, i64) = store.run(|c| self.read.key(&self.token_key).invoke(c))?;
        let Some(value) = value else { return Ok(None) };
        if pttl <= 0 {
            return Ok(None);
        }
        let Ok(v) = serde_json::from_str::<Value>(&value) else { return Ok(None) };
        let Some(secret) = v.get("t").and_then(Value::as_str).filter(|t| crate::redact::is_visible_ascii(t)) else {
            return Ok(None);
        };
        let api_domain = v
            .get("d")
            .and_then(Value::as_str)
            .and_then(|d| BaseUrl::parse_as(d, "api_domain").ok())
            .filter(BaseUrl::is_zohoapis);
        let lifetime = Duration::from_millis(v.get("l").and_then(Value::as_u64).unwrap_or(pttl as u64));
        Ok(Some(Found {
            token: SharedToken {
                token: Token { secret: Secret::new(secret), api_domain },
                remaining: Duration::from_millis(pttl as u64),
                lifetime,
            },
        }))
    }

    /// A stored token this process may take: not `stale`, and not yet due for its refresh.
    fn usable(found: Option<Found>, stale: Option<&Secret>) -> Option<SharedToken> {
        let t = found?.token;
        let fresh = t.remaining > margin(t.lifetime);
        (fresh && stale != Some(&t.token.secret)).then_some(t)
    }

    fn store_token(&self, store: &Store, t: &SharedToken) -> Result<()> {
        let value = json!({
            "t": t.token.secret.expose(),
            "d": t.token.api_domain.as_ref().map(BaseUrl::as_str),
            "l": t.lifetime.as_millis() as u64,
        })
        .to_string();
        let ms = t.remaining.as_millis().max(1) as u64;
        store.run(|c| c.pset_ex::<_, _, ()>(&self.token_key, value, ms))
    }

    fn refusal(&self, store: &Store) -> Result<Option<Error>> {
        let text: Option<String> = store.run(|c| c.get(&self.refused_key))?;
        let Some(v) = text.and_then(|t| serde_json::from_str::<Value>(&t).ok()) else { return Ok(None) };
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(Some(Error::Auth {
            status: v.get("status").and_then(Value::as_u64).unwrap_or(0) as u16,
            code: ErrorCode::parse(&s("code").unwrap_or_default()),
            error: s("error").unwrap_or_default(),
            description: s("description"),
            hint: s("hint"),
        }))
    }

    fn remember_refusal(&self, store: &Store, e: &Error) -> Result<()> {
        let Error::Auth { status, code, error, description, hint } = e else { return Ok(()) };
        let wait =
            if *code == ErrorCode::OauthThrottled { self.policy.throttle_wait } else { self.policy.refusal_memory };
        let value =
            json!({"status": status, "code": code.as_str(), "error": error, "description": description, "hint": hint});
        let ms = wait.as_millis().max(1) as u64;
        store.run(|c| c.pset_ex::<_, _, ()>(&self.refused_key, value.to_string(), ms))
    }

    /// Logs one token request in the shared budget, or the throttle error when it is spent.
    fn log_request(&self, store: &Store, owner: &str) -> Result<()> {
        let (ok, wait_ms): (i64, i64) = store.run(|c| {
            self.grant
                .key(&self.grants_key)
                .arg(self.policy.max_requests.max(1))
                .arg(self.policy.request_window.as_millis() as u64)
                .arg(owner)
                .invoke(c)
        })?;
        if ok == 1 {
            return Ok(());
        }
        Err(Error::Auth {
            status: 0,
            code: ErrorCode::OauthThrottled,
            error: "shared token budget".to_owned(),
            description: Some(format!(
                "the processes sharing this refresh token made {} token requests in the last {} s; the next is allowed in {} s",
                self.policy.max_requests,
                self.policy.request_window.as_secs(),
                (wait_ms.max(0) as u64).div_ceil(1000)
            )),
            hint: Some("Zoho allows about 10 access tokens per refresh token per 10 minutes".to_owned()),
        })
    }

    /// See [`super::TokenShare::token`].
    pub(crate) fn token(
        &self,
        store: &Store,
        owner: &str,
        stale: Option<&Secret>,
        mint: &mut dyn FnMut() -> Result<SharedToken>,
    ) -> Result<SharedToken> {
        let deadline = Instant::now() + LOCK_TTL + Duration::from_secs(5);
        loop {
            if let Some(t) = Self::usable(self.read(store)?, stale) {
                return Ok(t);
            }
            if let Some(e) = self.refusal(store)? {
                return Err(e);
            }
            let locked: bool = store.run(|c| {
                redis::cmd("SET")
                    .arg(&self.lock_key)
                    .arg(owner)
                    .arg("NX")
                    .arg("PX")
                    .arg(LOCK_TTL.as_millis() as u64)
                    .query::<Option<String>>(c)
                    .map(|r| r.is_some())
            })?;
            if locked {
                let result = self.refresh_locked(store, owner, stale, mint);
                let _ = store.run(|c| self.unlock.key(&self.lock_key).arg(owner).invoke::<i64>(c));
                return result;
            }
            if Instant::now() > deadline {
                return Err(Error::Budget {
                    code: ErrorCode::BudgetUnavailable,
                    message: format!(
                        "waited {} s for another process to refresh the shared access token",
                        (LOCK_TTL + Duration::from_secs(5)).as_secs()
                    ),
                });
            }
            sleep(POLL);
        }
    }

    fn refresh_locked(
        &self,
        store: &Store,
        owner: &str,
        stale: Option<&Secret>,
        mint: &mut dyn FnMut() -> Result<SharedToken>,
    ) -> Result<SharedToken> {
        // Another process may have stored a token between our read and the lock.
        if let Some(t) = Self::usable(self.read(store)?, stale) {
            return Ok(t);
        }
        if let Err(e) = self.log_request(store, owner) {
            self.remember_refusal(store, &e)?;
            return Err(e);
        }
        match mint() {
            Ok(t) => {
                self.store_token(store, &t)?;
                Ok(t)
            }
            Err(e) => {
                self.remember_refusal(store, &e)?;
                Err(e)
            }
        }
    }
}
