//! `zcrm budget status`: the shared budget of an org (slots in use and their holders, callers waiting, credits
//! spent and left, the shared token's expiry; never the token).

use zcrm_extid::Credentials;
use zcrm_extid::auth::TokenPolicy;
use zcrm_extid::budget::{BudgetConfig, SharedBudget};

use crate::connect::ConnectArgs;
use crate::exit;

/// `zcrm budget ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BudgetCommand {
    /// Print the slots in use and their holders, the callers waiting, the credits spent and left.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command; returns the exit status.
pub fn run(command: &BudgetCommand, connect: &ConnectArgs) -> i32 {
    let BudgetCommand::Status { json } = command;
    let budget = match open(connect) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("zcrm: {}", zcrm_extid::redact::escape_text(&e));
            return exit::INVALID;
        }
    };
    match budget.status() {
        Ok(s) if *json => {
            let holders: Vec<serde_json::Value> = s
                .holders
                .iter()
                .map(|h| {
                    serde_json::json!({"lease": h.lease, "holder": h.holder, "heavy": h.heavy,
                                       "expires_in_ms": h.expires_in.as_millis() as u64})
                })
                .collect();
            let v = serde_json::json!({
                "org": s.org, "redis": s.redis, "limit": s.limit, "configured_limit": s.configured_limit,
                "heavy_limit": s.heavy_limit, "in_use": s.holders.len(), "holders": holders, "waiting": s.waiting,
                "credits_spent": s.credits_spent, "credits_left": s.credits_left, "daily_credits": s.daily_credits,
                "observed_remaining": s.observed.map(|(n, _)| n),
                "token_expires_in_ms": s.token_expires_in.map(|t| t.as_millis() as u64),
            });
            println!("{v}");
            exit::OK
        }
        Ok(s) => {
            println!("{s}");
            exit::OK
        }
        Err(e) => {
            eprintln!("zcrm: {e}");
            exit::REQUEST_FAILED
        }
    }
}

/// The budget of the configured org: through a client when credentials are set (the default prefix is derived
/// from them), else from `--budget-prefix` alone.
fn open(connect: &ConnectArgs) -> Result<SharedBudget, String> {
    let settings = connect.settings();
    if settings.budget.is_none() {
        return Err("no budget: give --budget redis://host:port/db (or set ZCRM_BUDGET)".into());
    }
    if settings.has_credentials() {
        let client = settings.build().map_err(|e| e.to_string())?;
        return client.budget().cloned().ok_or_else(|| "the client has no budget".to_owned());
    }
    let Some(prefix) = settings.budget_prefix.clone() else {
        return Err("without credentials, --budget-prefix must name the org".into());
    };
    let mut config = BudgetConfig::new(settings.budget.clone().unwrap_or_default());
    config.prefix = Some(prefix.clone());
    if let Some(n) = settings.budget_concurrency {
        config.concurrency = n;
        config.heavy_concurrency = n.min(zcrm_extid::bulk::SUB_CONCURRENCY);
    }
    config.daily_credits = settings.daily_credits;
    SharedBudget::connect(config, &prefix, &Credentials::access_token("status"), TokenPolicy::default())
        .map_err(|e| e.to_string())
}
