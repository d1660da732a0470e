//! Command-line options of the emulator, shared by `zcrm-emulator` and `zcrm emulator`.

use crate::config::{Edition, EmulatorConfig, EmulatorSettings};
use crate::seed::Seed;

/// Options of the emulator binary.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed JSON file (default: the built-in seed with the API page's example).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<std::path::PathBuf>,
    /// Latency added to every CRM API call, in ms.
    #[arg(long, value_name = "L", default_value_t = 0)]
    pub latency_ms: u64,
    /// Upper bound for a random latency in `latency-ms..=latency-max-ms`.
    #[arg(long, value_name = "MS")]
    pub latency_max_ms: Option<u64>,
    /// Concurrency limit (default: the edition's).
    #[arg(long, value_name = "C")]
    pub concurrency: Option<usize>,
    /// Edition preset for the concurrency limit: free 5, standard 10, professional 15, enterprise 20, ultimate 25.
    #[arg(long, default_value = "enterprise", value_parser = parse_edition)]
    pub edition: Edition,
    /// Daily API credits (one per call); unlimited if absent.
    #[arg(long, value_name = "N")]
    pub credits: Option<u64>,
    /// Lifetime of minted access tokens, seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_lifetime: u64,
    /// Access tokens per refresh token per throttle window before "Access Denied".
    #[arg(long, default_value_t = 10)]
    pub token_throttle: usize,
    /// The token throttle's window, seconds (Zoho's is 10 minutes; shorter to wait a throttle out in tests).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub token_throttle_window: u64,
    /// Add generated records: Module.Field=PREFIX:COUNT adds COUNT records whose Field is PREFIX0, PREFIX1, ...
    /// (repeatable), e.g. --generate Deals.External_Deal_ID=d:1000000.
    #[arg(long, value_name = "MODULE.FIELD=PREFIX:COUNT")]
    pub generate: Vec<String>,
    /// Requests kept in the journal (0 turns it off; large jobs need not keep their bodies).
    #[arg(long, default_value_t = 10_000)]
    pub journal: usize,
}

fn parse_edition(s: &str) -> Result<Edition, String> {
    s.parse::<Edition>().map_err(|e| e.to_string())
}

impl EmulatorArgs {
    /// The configuration these options describe.
    pub fn to_config(&self) -> Result<EmulatorConfig, String> {
        let seed = match &self.seed {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let seed = Seed::from_json(&text)?;
                // A seed that parses but is inconsistent is a bad argument too (exit 2), not a failure to start.
                crate::state::Org::from_seed(&seed).map_err(|e| format!("invalid seed {}: {e}", path.display()))?;
                seed
            }
            None => Seed::default_seed(),
        };
        let mut seed = seed;
        for g in &self.generate {
            let bad = || format!("--generate {g:?}: expected Module.Field=PREFIX:COUNT");
            let (target, spec) = g.split_once('=').ok_or_else(bad)?;
            let (module, field) = target.split_once('.').ok_or_else(bad)?;
            let (prefix, count) = spec.rsplit_once(':').ok_or_else(bad)?;
            let count: usize = count.parse().map_err(|_| bad())?;
            seed.add_records(module, field, prefix, count);
        }
        let mut config = EmulatorSettings {
            port: Some(self.port),
            latency_ms: Some(self.latency_ms),
            latency_max_ms: self.latency_max_ms,
            concurrency: Some(self.concurrency.unwrap_or(self.edition.concurrency())),
            credits: self.credits,
            token_lifetime_secs: Some(self.token_lifetime),
            token_throttle: Some(self.token_throttle),
            token_throttle_window_secs: Some(self.token_throttle_window),
            journal: Some(self.journal),
            ..EmulatorSettings::default()
        }
        .config()
        .map_err(|e| e.to_string())?;
        config.seed = seed;
        Ok(config)
    }
}
