//! `zcrm`: one-off calls and bulk CSV jobs against Zoho CRM's external-ID related-records API, the emulator,
//! and a demo of the whole job.

mod connect;
mod demo;
mod exit;
mod input;
mod interrupt;
mod link;
mod logs;
mod partition;
mod progress;
mod related;
mod related_read;
mod report;
mod resume;
mod runner;
mod summary;

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
    /// Link the pairs of a CSV file (grouped by parent, 100 per call, concurrent, retried) with a per-row report.
    Link(link::LinkArgs),
    /// Run the local emulator of the Zoho API (prints {"base_url":...,"accounts_url":...}; stops when stdin closes).
    Emulator(zcrm_emulator::EmulatorArgs),
    /// Link 10,000 contact-deal pairs on the built-in emulator and verify the result.
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
        Command::Link(args) => link::run(args, &cli.connect),
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
