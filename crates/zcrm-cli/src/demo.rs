//! `zcrm demo`: the whole nightly job end to end on the built-in emulator, through simulated latency and faults:
//! upsert an export's accounts, contacts (each with its account, a lookup by external ID) and deals by their
//! external IDs ([`crate::nightly`]), link contacts to deals with their roles from a CSV of pairs, print each
//! step's summary, and check the emulator's final state against the CSVs: every record with its fields and
//! account, every pair linked with its role, nothing missing, nothing extra.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::exit;
use crate::interrupt::Interrupt;
use crate::link::{self, LinkArgs};
use crate::nightly::{self, Export};
use crate::pairs::PairArgs;
use crate::runner::{self, BulkCommand};
use zcrm_emulator::{Emulator, EmulatorConfig, Fault, Seed};
use zcrm_extid::Client;

/// The most rows the demo links (its CSV and the emulator's records are built in memory).
const MAX_ROWS: i64 = 10_000_000;

/// Options of the demo. Numeric options are range-checked by the parser (a usage error, exit 2), so that no
/// value reaches an allocation or a clock computation that would panic.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Contact-deal pairs to link (one deal per row, so as many deals to upsert; a contact per 100 rows, so calls
    /// carry 100 records; an account per 10 contacts).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=MAX_ROWS))]
    pub rows: u32,
    /// Simulated latency of each API call, ms.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub latency_ms: u64,
    /// Calls in flight (the emulator allows 20, and 10 for calls of more than 10 records, like Zoho).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub concurrency: u16,
    /// Do not inject the simulated faults (2% HTTP 500, 1% HTTP 429, 1% responses lost after the change).
    #[arg(long)]
    pub no_faults: bool,
    /// Folder for the CSV and the report (default: a new folder under the system temp dir).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

fn csv_text(rows: usize, contacts: usize) -> String {
    let mut s = String::with_capacity(rows * 48);
    s.push_str("contact,deal,role\n");
    // A scrambled order: rows of one contact are spread over the file, as in a real export.
    for i in 0..rows {
        let k = (i * 7919) % rows;
        s.push_str(&format!("c{},d{k},role-{}\n", k % contacts, k % 5));
    }
    s
}

/// Runs the demo; returns the exit status.
pub fn run(args: &DemoArgs) -> i32 {
    match demo(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("zcrm demo: {e}");
            exit::REQUEST_FAILED
        }
    }
}

fn demo(args: &DemoArgs) -> Result<i32, String> {
    let rows = args.rows as usize;
    let contacts = rows.div_ceil(100);
    let export = Export { accounts: contacts.div_ceil(10), contacts, deals: rows };
    // The org starts with the sample records only: the job upserts the export's records first.
    let seed = Seed::default_seed();
    let seeded: HashMap<&str, usize> = ["Accounts", "Contacts", "Deals"]
        .into_iter()
        .map(|m| (m, seed.modules.get(m).map_or(0, |s| s.records.len())))
        .collect();
    let emu = Emulator::start(EmulatorConfig {
        seed,
        latency: Duration::from_millis(args.latency_ms),
        ..EmulatorConfig::default()
    })
    .map_err(|e| format!("cannot start the emulator: {e}"))?;
    if !args.no_faults {
        emu.push_fault(Fault::status(500).with_probability(0.02).forever());
        emu.push_fault(Fault::status(429).with_probability(0.01).forever());
        emu.push_fault(Fault::drop_connection().after().with_probability(0.01).forever());
    }
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("zcrm-demo-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let csv = dir.join("contact-deals.csv");
    std::fs::write(&csv, csv_text(rows, contacts)).map_err(|e| format!("cannot write {}: {e}", csv.display()))?;
    println!(
        "emulator: {} (latency {} ms{})",
        emu.base_url(),
        args.latency_ms,
        if args.no_faults { "" } else { ", 2% 500s, 1% 429s, 1% lost responses" }
    );
    println!(
        "input:    {} ({} accounts, {contacts} contacts, {rows} deals; {rows} contact-deal pairs)",
        dir.display(),
        export.accounts
    );

    let (id, secret, refresh) = Emulator::default_credentials();
    let client = Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .max_retries(8)
        .build()
        .map_err(|e| e.to_string())?;
    let upsert_failed = nightly::upsert_export(&client, &dir, &export, args.concurrency)?;
    print!("{:<9} ", "links:");
    let pair_args = PairArgs {
        csv: csv.clone(),
        parent: "Contacts.External_Contact_ID".into(),
        related: "Deals.External_Deal_ID".into(),
        related_list: None,
        parent_column: Some("contact".into()),
        related_column: Some("deal".into()),
        report: Some(dir.join("report.csv")),
        resume: None,
        dry_run: false,
        concurrency: Some(args.concurrency.into()),
        edition: None,
        batch_size: None,
        window: None,
        no_partition: false,
        reserve: None,
    };
    let link_args = LinkArgs { pairs: pair_args, fields: vec!["Contact_Role=role".into()] };
    let prepared = link::prepare(&link_args)?;
    let result =
        runner::execute(&client, &prepared, &link_args.pairs.job(), &Interrupt::new()).map_err(|e| e.message)?;
    runner::print_summary(prepared.verb(), &result, &mut std::io::stdout());

    // Check the emulator's state against the CSV: every pair linked with its role, nothing else.
    let mut matched = 0usize;
    let mut reader = csv::Reader::from_path(&csv).map_err(|e| e.to_string())?;
    for rec in reader.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let cid = emu.find_external("Contacts", "External_Contact_ID", &rec[0]).ok_or("contact missing")?;
        let did = emu.find_external("Deals", "External_Deal_ID", &rec[1]).ok_or("deal missing")?;
        let linked = emu.related("Contacts", &cid, "Deals");
        if linked.iter().any(|(id, f)| *id == did && f.get("Contact_Role").and_then(|v| v.as_str()) == Some(&rec[2])) {
            matched += 1;
        }
    }
    let relations = emu.relation_count();
    let stats = emu.stats();
    println!(
        "emulator: {} API calls, {} faults injected, {} token(s) issued, at most {} calls in flight",
        stats.api_calls, stats.faults_injected, stats.tokens_issued, stats.max_in_flight
    );
    let records_ok = nightly::verify(&emu, &export, &seeded);
    let ok = matched == rows && relations == rows;
    println!(
        "verified: {matched}/{rows} CSV pairs are linked with their role; {relations} relations in the emulator{}",
        if ok { " (nothing missing, nothing extra)" } else { " — MISMATCH" }
    );
    let all_ok = ok && records_ok && upsert_failed == 0 && result.summary.failed == 0;
    Ok(if all_ok { exit::OK } else { exit::SOME_FAILED })
}
