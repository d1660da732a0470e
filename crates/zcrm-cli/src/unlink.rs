//! `zcrm unlink`: unlink the pairs of a CSV file (the same CSV a link job takes) at the API's limit: grouped by
//! parent into `DELETE ...?ids=` calls of up to 100, with the options, report, resume, partition pass and dry run
//! of `zcrm link` ([`crate::pairs`]). A related value containing `,` is sent alone, in the URL path.

use zcrm_extid::bulk::Unlink;

use crate::connect::ConnectArgs;
use crate::pairs::{self, PairArgs, PairJob};

/// `zcrm unlink --csv pairs.csv --parent Contacts.External_Contact_ID --related Deals.External_Deal_ID`
#[derive(Debug, Clone, clap::Args)]
pub struct UnlinkArgs {
    #[command(flatten)]
    pub pairs: PairArgs,
}

/// Runs the command; returns the exit status.
pub fn run(args: &UnlinkArgs, connect: &ConnectArgs) -> i32 {
    pairs::run(&args.pairs, connect, prepare(args))
}

/// The validated unlink job (other columns of the CSV, such as relation fields, are not read).
pub fn prepare(args: &UnlinkArgs) -> Result<PairJob<Unlink>, String> {
    pairs::prepare(&args.pairs, Vec::new(), "unlinked", Unlink::new)
}
