//! [`EmulatorConfig`]; the [`Edition`] presets of Zoho's API limits (spec §5) are the client crate's.

use std::time::Duration;

use crate::seed::Seed;

pub use zcrm_extid::bulk::SUB_CONCURRENCY;
pub use zcrm_extid::settings::Edition;

/// How an emulator starts.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Initial state.
    pub seed: Seed,
    /// The time every CRM API call takes in the server, processing included (not the token endpoint or control
    /// calls): the answer is written when it has elapsed since the request was read.
    pub latency: Duration,
    /// If set, latency is uniform in `latency..=latency_max`.
    pub latency_max: Option<Duration>,
    /// Concurrent CRM API calls allowed; one more is answered 429.
    pub concurrency: usize,
    /// Concurrent calls allowed for related-record PUTs with more than 10 records (Zoho's "complex APIs"
    /// sub-concurrency, applied here to writes of more than 10 records as Zoho does for record writes).
    pub sub_concurrency: usize,
    /// API credits per day (one per CRM API call); `None` = unlimited.
    pub credits: Option<u64>,
    /// Lifetime of minted access tokens.
    pub token_lifetime: Duration,
    /// Tokens per refresh token per [`EmulatorConfig::token_throttle_window`] before `Access Denied`.
    pub token_throttle: usize,
    /// The token throttle's window (Zoho: 10 minutes); shorter in tests that wait a throttle out.
    pub token_throttle_window: Duration,
    /// Largest request body.
    pub max_body: usize,
    /// Requests kept in the journal (the oldest are dropped).
    pub journal_capacity: usize,
    /// Most connections open at once (see [`crate::serve`]: the longest-idle one is closed to make room).
    pub max_connections: usize,
    /// Time for a whole request to arrive once it started (408 after it).
    pub request_timeout: Duration,
    /// Time a connection may stay open without a request.
    pub idle_timeout: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            seed: Seed::default_seed(),
            latency: Duration::ZERO,
            latency_max: None,
            concurrency: Edition::default().concurrency(),
            sub_concurrency: SUB_CONCURRENCY,
            credits: None,
            token_lifetime: Duration::from_secs(3600),
            token_throttle: 10,
            token_throttle_window: Duration::from_secs(600),
            max_body: 10 << 20,
            journal_capacity: 10_000,
            max_connections: crate::http::Limits::default().max_connections,
            request_timeout: crate::http::Limits::default().request_timeout,
            idle_timeout: crate::http::Limits::default().idle_timeout,
        }
    }
}

impl EmulatorConfig {
    /// The concurrency limit of `edition`.
    pub fn edition(mut self, edition: Edition) -> Self {
        self.concurrency = edition.concurrency();
        self
    }
}

/// An emulator's options as plain values (from the CLI, Python keyword arguments or a JS object); every unset
/// value keeps [`EmulatorConfig::default`]'s. The one place those options become a configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EmulatorSettings {
    /// Port on 127.0.0.1 (0 or unset: any free port).
    pub port: Option<u16>,
    /// Time of every CRM API call in the server, ms.
    pub latency_ms: Option<u64>,
    /// Upper bound of a random latency, ms.
    pub latency_max_ms: Option<u64>,
    /// Concurrency limit (wins over `edition`).
    pub concurrency: Option<usize>,
    /// Edition whose concurrency limit applies: `free` ... `ultimate`.
    pub edition: Option<String>,
    /// Credits per day; unlimited if unset.
    pub credits: Option<u64>,
    /// Lifetime of minted access tokens, seconds.
    pub token_lifetime_secs: Option<u64>,
    /// Tokens per refresh token per throttle window.
    pub token_throttle: Option<usize>,
    /// The throttle window, seconds (default 600).
    pub token_throttle_window_secs: Option<u64>,
    /// Requests kept in the journal.
    pub journal: Option<usize>,
    /// The initial state as seed JSON (the built-in seed if unset).
    pub seed: Option<serde_json::Value>,
}

impl EmulatorSettings {
    /// The configuration; a bad edition or seed is an `InvalidConfig` error naming it.
    pub fn config(&self) -> Result<EmulatorConfig, zcrm_extid::Error> {
        let mut c = EmulatorConfig::default();
        if let Some(name) = &self.edition {
            c = c.edition(name.parse::<Edition>()?);
        }
        if let Some(n) = self.concurrency {
            c.concurrency = n;
        }
        if let Some(seed) = &self.seed {
            c.seed = serde_json::from_value::<Seed>(seed.clone())
                .map_err(|e| zcrm_extid::Error::InvalidConfig { setting: "seed".into(), message: e.to_string() })?;
        }
        c.port = self.port.unwrap_or(c.port);
        c.latency = self.latency_ms.map_or(c.latency, Duration::from_millis);
        c.latency_max = self.latency_max_ms.map(Duration::from_millis).or(c.latency_max);
        c.credits = self.credits.or(c.credits);
        c.token_lifetime = self.token_lifetime_secs.map_or(c.token_lifetime, Duration::from_secs);
        c.token_throttle = self.token_throttle.unwrap_or(c.token_throttle);
        c.token_throttle_window = self.token_throttle_window_secs.map_or(c.token_throttle_window, Duration::from_secs);
        c.journal_capacity = self.journal.unwrap_or(c.journal_capacity);
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_apply_over_defaults() {
        let c = EmulatorSettings { edition: Some("free".into()), latency_ms: Some(5), ..Default::default() }
            .config()
            .unwrap();
        assert_eq!((c.concurrency, c.latency, c.token_throttle), (5, Duration::from_millis(5), 10));
        let both = EmulatorSettings { edition: Some("free".into()), concurrency: Some(7), ..Default::default() };
        assert_eq!(both.config().unwrap().concurrency, 7);
        let bad = EmulatorSettings { seed: Some(serde_json::json!({"modules": 5})), ..Default::default() };
        assert!(bad.config().unwrap_err().to_string().contains("seed"));
    }
}
