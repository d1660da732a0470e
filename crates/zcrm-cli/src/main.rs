//! `zcrm`: one-off calls (related records, records by external ID) and bulk CSV jobs against Zoho CRM's
//! external-ID APIs, the emulator, and a demo of the whole job.

mod budget;
mod connect;
mod demo;
mod dry_run;
mod exit;
mod input;
mod interrupt;
mod link;
mod logs;
mod nightly;
mod pairs;
mod partition;
mod progress;
mod records;
mod related;
mod related_read;
mod report;
mod resume;
mod runner;
mod summary;
mod sync;
mod unlink;
mod upsert;

use clap::{Parser, Subcommand};

/// Link records in Zoho CRM by your own external IDs, at the API's limit.
///
/// Credentials come from the environment: ZOHO_ACCESS_TOKEN, or ZOHO_CLIENT_ID + ZOHO_CLIENT_SECRET +
/// ZOHO_REFRESH_TOKEN; ZOHO_DC selects the data centre (us, eu, in, au, jp, cn, ca, sa).
#[derive(Debug, Parser)]
#[command(name = "zcrm", version, after_help = exit::HELP)]
struct Cli {
    #[command(flatten)]
    connect: connect::ConnectArgs,
    #[command(flatten)]
    logs: logs::LogArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One call of the related-records API.
    Related {
        #[command(subcommand)]
        command: RelatedCommand,
    },
    /// One call of the records API by external ID: get, delete, search (JSON lines out).
    Records {
        #[command(subcommand)]
        command: records::RecordsCommand,
    },
    /// Link the pairs of a CSV file (grouped by parent, 100 per call, concurrent, retried) with a per-row report.
    Link(link::LinkArgs),
    /// The budget shared by the processes working on one org (see --budget).
    Budget {
        #[command(subcommand)]
        command: budget::BudgetCommand,
    },
    /// Insert or update the records of a CSV file by their external ID (100 per call, concurrent, retried), with
    /// a per-row report (insert/update, Zoho id).
    Upsert(upsert::UpsertArgs),
    /// Unlink the pairs of a CSV file (grouped by parent, 100 per DELETE, concurrent, retried) with a per-row report.
    Unlink(unlink::UnlinkArgs),
    /// Make Zoho's links equal a CSV of desired pairs: print the plan (links, updates, unlinks), then apply it
    /// with --apply, or save it (--plan-out) and apply it later with --apply-plan.
    Sync(sync::SyncArgs),
    /// Run the local emulator of the Zoho API (prints {"base_url":...,"accounts_url":...}; stops when stdin closes).
    Emulator(zcrm_emulator::EmulatorArgs),
    /// The nightly job on the built-in emulator: upsert accounts, contacts and deals by external ID, link 10,000
    /// contact-deal pairs with roles, and verify the result.
    Demo(demo::DemoArgs),
}

#[derive(Debug, Subcommand)]
enum RelatedCommand {
    /// Update (link) related records: PUT /crm/{v}/{Module}/{record}/{RelatedList}.
    Update(related::UpdateArgs),
    /// Read related records as JSON lines: GET /crm/{v}/{Module}/{record}/{RelatedList}[/{related}].
    Get(related_read::GetArgs),
    /// Delete (unlink) related records: DELETE /crm/{v}/{Module}/{record}/{RelatedList}/{related} or ?ids=.
    Delete(related_read::DeleteArgs),
}

fn main() {
    let cli = Cli::parse();
    logs::init(&cli.logs);
    let code = match &cli.command {
        Command::Related { command: RelatedCommand::Update(args) } => related::run(args, &cli.connect),
        Command::Related { command: RelatedCommand::Get(args) } => related_read::get(args, &cli.connect),
        Command::Related { command: RelatedCommand::Delete(args) } => related_read::delete(args, &cli.connect),
        Command::Records { command } => records::run(command, &cli.connect),
        Command::Link(args) => link::run(args, &cli.connect),
        Command::Budget { command } => budget::run(command, &cli.connect),
        Command::Upsert(args) => upsert::run(args, &cli.connect),
        Command::Unlink(args) => unlink::run(args, &cli.connect),
        Command::Sync(args) => sync::run(args, &cli.connect),
        Command::Emulator(args) => run_emulator(args),
        Command::Demo(args) => demo::run(args),
    };
    std::process::exit(code);
}

fn run_emulator(args: &zcrm_emulator::EmulatorArgs) -> i32 {
    let config = match args.to_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("zcrm emulator: {e}");
            return exit::INVALID;
        }
    };
    match zcrm_emulator::Emulator::start(config) {
        Ok(emu) => {
            println!("{}", serde_json::json!({"base_url": emu.base_url(), "accounts_url": emu.accounts_url()}));
            zcrm_emulator::wait_for_shutdown();
            exit::OK
        }
        Err(e) => {
            eprintln!("zcrm emulator: cannot start: {e}");
            exit::REQUEST_FAILED
        }
    }
}
