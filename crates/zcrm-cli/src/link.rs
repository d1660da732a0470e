//! `zcrm link`: link the pairs of a CSV file at the API's limit, with progress and a per-row report (the job
//! itself is [`crate::pairs`], shared with `zcrm unlink`).

use zcrm_extid::bulk::Link;

use crate::connect::ConnectArgs;
use crate::pairs::{self, PairArgs, PairJob};

/// `zcrm link --csv pairs.csv --parent Contacts.External_Contact_ID --related Deals.External_Deal_ID --report r.csv`
#[derive(Debug, Clone, clap::Args)]
pub struct LinkArgs {
    #[command(flatten)]
    pub pairs: PairArgs,
    /// A relation field from a column: API_NAME=column (repeatable), e.g. Contact_Role=role.
    #[arg(long = "field", value_name = "API_NAME=COLUMN")]
    pub fields: Vec<String>,
}

/// Runs the command; returns the exit status.
pub fn run(args: &LinkArgs, connect: &ConnectArgs) -> i32 {
    pairs::run(&args.pairs, connect, prepare(args))
}

/// The validated link job.
pub fn prepare(args: &LinkArgs) -> Result<PairJob<Link>, String> {
    let fields = pairs::parse_fields(&args.fields)?;
    pairs::prepare(&args.pairs, fields, "linked", Link::new)
}
