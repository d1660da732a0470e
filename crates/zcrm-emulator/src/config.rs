//! [`EmulatorConfig`] and the [`Edition`] presets of Zoho's API limits (spec §5).

use std::time::Duration;

use crate::seed::Seed;

/// A Zoho CRM edition: its concurrency limit (spec §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Edition {
    /// 5 concurrent calls.
    Free,
    /// 10.
    Standard,
    /// 15.
    Professional,
    /// 20 (the default: external fields exist only in Enterprise and Ultimate).
    #[default]
    Enterprise,
    /// 25.
    Ultimate,
}

impl Edition {
    /// Concurrent API calls allowed per org and app.
    pub fn concurrency(self) -> usize {
        match self {
            Edition::Free => 5,
            Edition::Standard => 10,
            Edition::Professional => 15,
            Edition::Enterprise => 20,
            Edition::Ultimate => 25,
        }
    }

    /// Parses `free`, `standard`, `professional`, `enterprise`, `ultimate`.
    pub fn parse(name: &str) -> Option<Edition> {
        match name.to_ascii_lowercase().as_str() {
            "free" => Some(Edition::Free),
            "standard" | "starter" => Some(Edition::Standard),
            "professional" => Some(Edition::Professional),
            "enterprise" | "zoho_one" => Some(Edition::Enterprise),
            "ultimate" | "crm_plus" => Some(Edition::Ultimate),
            _ => None,
        }
    }
}

/// Sub-concurrency of "heavy" calls in every edition (spec §5.3).
pub const SUB_CONCURRENCY: usize = 10;

/// How an emulator starts.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Initial state.
    pub seed: Seed,
    /// Latency added to every CRM API call (not the token endpoint or control calls).
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
