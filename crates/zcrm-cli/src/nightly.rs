//! The first half of `zcrm demo`'s nightly job: upsert the accounts, contacts (each with its account, a lookup by
//! external ID) and deals (with their account) of an ERP export by their external IDs, through `zcrm upsert`'s
//! own code (CSV, mapping, runner, report); and the check of the records the emulator then holds.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;
use zcrm_emulator::Emulator;
use zcrm_extid::Client;

use crate::interrupt::Interrupt;
use crate::runner::{self, BulkCommand};
use crate::upsert::{self, UpsertArgs};

/// The export's shape: `accounts` accounts, `contacts` contacts (contact `c{i}` of account `a{i % accounts}`),
/// `deals` deals (deal `d{k}` of account `a{k % accounts}`).
#[derive(Debug, Clone, Copy)]
pub struct Export {
    /// Accounts `a0..`.
    pub accounts: usize,
    /// Contacts `c0..`.
    pub contacts: usize,
    /// Deals `d0..`.
    pub deals: usize,
}

impl Export {
    fn account_of(&self, n: usize) -> String {
        format!("a{}", n % self.accounts)
    }
}

/// One module's step: its CSV, its key and the lookup its rows carry.
struct Step {
    module: &'static str,
    key: &'static str,
    file: &'static str,
    lookup: Option<&'static str>,
    csv: String,
}

fn steps(e: &Export) -> [Step; 3] {
    let mut accounts = String::from("External_Account_ID,Account_Name,Industry\n");
    for i in 0..e.accounts {
        accounts.push_str(&format!("a{i},Account {i},{}\n", ["Retail", "Energy", "Logistics"][i % 3]));
    }
    let mut contacts = String::from("External_Contact_ID,Last_Name,Email,account\n");
    for i in 0..e.contacts {
        contacts.push_str(&format!("c{i},Contact {i},c{i}@example.com,{}\n", e.account_of(i)));
    }
    let mut deals = String::from("External_Deal_ID,Deal_Name,Stage,account\n");
    for k in 0..e.deals {
        deals.push_str(&format!(
            "d{k},Deal {k},{},{}\n",
            ["Qualification", "Proposal", "Closed Won"][k % 3],
            e.account_of(k)
        ));
    }
    let lookup = Some("Account_Name=Accounts.External_Account_ID:account");
    [
        Step { module: "Accounts", key: "External_Account_ID", file: "accounts.csv", lookup: None, csv: accounts },
        Step { module: "Contacts", key: "External_Contact_ID", file: "contacts.csv", lookup, csv: contacts },
        Step { module: "Deals", key: "External_Deal_ID", file: "deals.csv", lookup, csv: deals },
    ]
}

/// Writes the export's CSVs into `dir` and upserts them in order (accounts first: the contacts and deals refer
/// to them), printing each step's summary. Returns the rows that failed.
pub fn upsert_export(client: &Client, dir: &Path, export: &Export, concurrency: u16) -> Result<u64, String> {
    let mut failed = 0;
    for step in steps(export) {
        let csv = dir.join(step.file);
        std::fs::write(&csv, &step.csv).map_err(|e| format!("cannot write {}: {e}", csv.display()))?;
        let args = UpsertArgs {
            csv: csv.clone(),
            module: step.module.into(),
            key: step.key.into(),
            lookups: step.lookup.map(str::to_owned).into_iter().collect(),
            column_map: Vec::new(),
            skip: Vec::new(),
            duplicate_check_fields: None,
            report: Some(dir.join(format!("{}.report.csv", step.module.to_lowercase()))),
            resume: None,
            dry_run: false,
            concurrency: Some(concurrency.into()),
            edition: None,
            batch_size: None,
            window: None,
        };
        let prepared = upsert::prepare(&args)?;
        let result = runner::execute(client, &prepared, &args.job(), &Interrupt::new()).map_err(|e| e.message)?;
        print!("{:<9} ", format!("{}:", step.module.to_lowercase()));
        runner::print_summary(prepared.verb(), &result, &mut std::io::stdout());
        failed += result.summary.failed;
    }
    Ok(failed)
}

/// Checks that the emulator holds every record of the export with its fields and its account (and nothing
/// else besides the `seeded` records it started with); prints one line, returns whether all matched.
pub fn verify(emu: &Emulator, export: &Export, seeded: &HashMap<&str, usize>) -> bool {
    let table = |module: &str, key: &str| -> HashMap<String, (String, Value)> {
        emu.records(module)
            .into_iter()
            .filter_map(|(id, mut r)| {
                let k = r.remove(key)?.as_str()?.to_owned();
                Some((k, (id, Value::Object(r))))
            })
            .collect()
    };
    let accounts = table("Accounts", "External_Account_ID");
    let account_id = |n: usize| accounts.get(&export.account_of(n)).map(|(id, _)| id.clone());
    let mut matched = 0;
    for i in 0..export.accounts {
        matched += usize::from(
            accounts.get(&format!("a{i}")).is_some_and(|(_, r)| r["Account_Name"] == format!("Account {i}")),
        );
    }
    let contacts = table("Contacts", "External_Contact_ID");
    for i in 0..export.contacts {
        matched += usize::from(contacts.get(&format!("c{i}")).is_some_and(|(_, r)| {
            r["Last_Name"] == format!("Contact {i}") && r["Account_Name"]["id"].as_str() == account_id(i).as_deref()
        }));
    }
    let deals = table("Deals", "External_Deal_ID");
    for k in 0..export.deals {
        matched += usize::from(deals.get(&format!("d{k}")).is_some_and(|(_, r)| {
            r["Deal_Name"] == format!("Deal {k}") && r["Account_Name"]["id"].as_str() == account_id(k).as_deref()
        }));
    }
    let expected = export.accounts + export.contacts + export.deals;
    let held = ["Accounts", "Contacts", "Deals"].iter().map(|m| emu.records(m).len() - seeded[m]).sum::<usize>();
    let ok = matched == expected && held == expected;
    println!(
        "verified: {matched}/{expected} records upserted with their fields and account lookups; {held} new records in \
         the emulator{}",
        if ok { " (nothing missing, nothing extra)" } else { " — MISMATCH" }
    );
    ok
}
