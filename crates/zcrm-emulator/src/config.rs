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
    /// Tokens per refresh token per 10 minutes before `Access Denied`.
    pub token_throttle: usize,
    /// Largest request body.
    pub max_body: usize,
    /// Requests kept in the journal (the oldest are dropped).
    pub journal_capacity: usize,
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
            max_body: 10 << 20,
            journal_capacity: 10_000,
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
