//! `zcrm-emulator`: serves the emulator on 127.0.0.1 and prints `{"base_url":...,"accounts_url":...}`.

use clap::Parser;
use zcrm_emulator::{Emulator, EmulatorArgs};

/// A local emulator of Zoho CRM's external-ID related-records API.
#[derive(Debug, Parser)]
#[command(name = "zcrm-emulator", version)]
struct Cli {
    #[command(flatten)]
    args: EmulatorArgs,
}

fn main() {
    let cli = Cli::parse();
    let config = cli.args.to_config().unwrap_or_else(|e| {
        eprintln!("zcrm-emulator: {e}");
        std::process::exit(2);
    });
    let emulator = Emulator::start(config).unwrap_or_else(|e| {
        eprintln!("zcrm-emulator: cannot start: {e}");
        std::process::exit(1);
    });
    println!("{}", serde_json::json!({"base_url": emulator.base_url(), "accounts_url": emulator.accounts_url()}));
    zcrm_emulator::wait_for_shutdown();
    drop(emulator);
}
