//! Connection options shared by the commands, and the client they build (credentials from the environment).

use std::time::Duration;

use zcrm_extid::Client;
use zcrm_extid::settings::ClientSettings;

/// Where to connect. Credentials come only from the environment (`ZOHO_ACCESS_TOKEN`, or `ZOHO_CLIENT_ID` +
/// `ZOHO_CLIENT_SECRET` + `ZOHO_REFRESH_TOKEN`), so they never land in shell history or `ps` output.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// Data centre: us, eu, in, au, jp, cn, ca, sa [env: ZOHO_DC].
    #[arg(long, global = true)]
    pub dc: Option<String>,
    /// production, sandbox or developer [env: ZOHO_ENVIRONMENT].
    #[arg(long, global = true)]
    pub environment: Option<String>,
    /// API version, v2 ... v8 (default v5) [env: ZOHO_API_VERSION].
    #[arg(long, global = true)]
    pub api_version: Option<String>,
    /// Base URL override, e.g. an emulator's http://127.0.0.1:PORT [env: ZOHO_BASE_URL].
    #[arg(long, global = true)]
    pub base_url: Option<String>,
    /// Accounts URL override [env: ZOHO_ACCOUNTS_URL].
    #[arg(long, global = true)]
    pub accounts_url: Option<String>,
    /// Proxy: none, env (default: HTTPS_PROXY / ALL_PROXY with NO_PROXY) or http://[user:password@]host:port;
    /// loopback never goes through a proxy [env: ZOHO_PROXY].
    #[arg(long, global = true)]
    pub proxy: Option<String>,
    /// Retries of 429 / 5xx / dropped connections / timeouts.
    #[arg(long, global = true)]
    pub max_retries: Option<u32>,
    /// Seconds to wait for a response (a positive number, e.g. 30 or 2.5).
    #[arg(long, global = true, value_name = "SECONDS", allow_negative_numbers = true, value_parser = parse_timeout)]
    pub timeout_secs: Option<Duration>,
    /// Share the org's limits with every process using the same Redis: one access token, the concurrency limit
    /// and the credit count; redis://[:password@]host:port/db or rediss:// (TLS); the password may also come from
    /// ZCRM_BUDGET_PASSWORD [env: ZCRM_BUDGET].
    #[arg(long, global = true, value_name = "URL")]
    pub budget: Option<String>,
    /// The budget's key prefix naming the org (default: a hash of the client id and the data centre)
    /// [env: ZCRM_BUDGET_PREFIX].
    #[arg(long, global = true, value_name = "NAME")]
    pub budget_prefix: Option<String>,
    /// What to do when the budget's Redis fails: fail (stop; the default) or local (go on with this process's own
    /// limits).
    #[arg(long, global = true, value_name = "fail|local")]
    pub on_redis_error: Option<String>,
    /// The org's concurrency limit the budget enforces (default 10; Zoho: 5 to 25 by edition).
    #[arg(long, global = true, value_name = "N")]
    pub budget_concurrency: Option<usize>,
    /// Seconds a call's lease lasts unless renewed: a killed process frees its slots within it (default 10).
    #[arg(long, global = true, value_name = "SECONDS", value_parser = parse_timeout)]
    pub budget_lease_ttl: Option<Duration>,
    /// The org's daily credit allowance, if known (for --reserve in percent).
    #[arg(long, global = true, value_name = "N")]
    pub daily_credits: Option<u64>,
}

/// The longest `--timeout-secs`: a day. Longer is no timeout in practice, and a deadline computed as now plus
/// a huge duration overflows the clock.
pub const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// `--timeout-secs`: a positive number of seconds up to [`MAX_TIMEOUT_SECS`]. Anything else (negative, zero, NaN,
/// inf, 1e300) is a usage error naming the flag (exit 2), never a panic.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let secs: f64 = text.trim().parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= MAX_TIMEOUT_SECS) {
        return Err(format!("{text:?}: must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECS}"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{text:?}: {e}"))
}

impl ConnectArgs {
    /// Settings from the environment, overridden by the flags.
    pub fn settings(&self) -> ClientSettings {
        let mut s = ClientSettings::from_env();
        let pick = |flag: &Option<String>, env: Option<String>| flag.clone().or(env);
        s.data_center = pick(&self.dc, s.data_center);
        s.environment = pick(&self.environment, s.environment);
        s.api_version = pick(&self.api_version, s.api_version);
        s.base_url = pick(&self.base_url, s.base_url);
        s.accounts_url = pick(&self.accounts_url, s.accounts_url);
        s.proxy = pick(&self.proxy, s.proxy);
        s.max_retries = self.max_retries.or(s.max_retries);
        s.read_timeout = self.timeout_secs.or(s.read_timeout);
        s.budget = pick(&self.budget, s.budget);
        s.budget_prefix = pick(&self.budget_prefix, s.budget_prefix);
        s.on_redis_error = self.on_redis_error.clone().or(s.on_redis_error);
        s.budget_concurrency = self.budget_concurrency.or(s.budget_concurrency);
        s.budget_lease_ttl = self.budget_lease_ttl.or(s.budget_lease_ttl);
        s.daily_credits = self.daily_credits.or(s.daily_credits);
        s
    }

    /// The client, or a message saying what is missing.
    pub fn client(&self) -> Result<Client, String> {
        let s = self.settings();
        if !s.has_credentials() {
            return Err("no credentials: set ZOHO_ACCESS_TOKEN, or ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and \
                        ZOHO_REFRESH_TOKEN (and ZOHO_DC for a data centre other than us); `zcrm demo` runs \
                        against the built-in emulator without any"
                .into());
        }
        s.build().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_or_say_why() {
        assert_eq!(parse_timeout("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_timeout("86400"), Ok(Duration::from_secs(86_400)));
        for bad in ["-1", "0", "-0", "nan", "NaN", "inf", "-inf", "1e300", "1e19", "86401", "ten", ""] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
