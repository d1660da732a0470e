//! Bulk upsert (issue 10): contacts with an account lookup by external ID, half of them new, through the library
//! against the emulator at latency L and concurrency C (as a share of C x 100 / L, with no 429 of our own making
//! and the final state checked record by record), and the peak RSS of `zcrm upsert` on a 1,000,000-row CSV.
//!
//! The state is read with the emulator's cheap control routes (`/__emulator/stats`, a compact
//! `/__emulator/records/{Module}` table), never the full `/state` dump.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zcrm_extid::bulk::{BulkOptions, Cancel};
use zcrm_extid::records::{ExternalFields, GetRecords, UpsertSpec};
use zcrm_extid::{InvalidInput, Method};

use crate::emulator::{EmulatorProcess, sibling};
use crate::{client, measure, print_row};

/// Accounts `a0..a999` every contact refers to.
const ACCOUNTS: usize = 1_000;

/// An emulator process with the accounts and the first `existing` contacts `c0..`.
fn start(existing: usize, latency_ms: u64, concurrency: usize) -> EmulatorProcess {
    let args: Vec<String> = [
        "--latency-ms".to_owned(),
        latency_ms.to_string(),
        "--concurrency".to_owned(),
        concurrency.to_string(),
        "--journal".to_owned(),
        "0".to_owned(),
        "--generate".to_owned(),
        format!("Accounts.External_Account_ID=a:{ACCOUNTS}"),
        "--generate".to_owned(),
        format!("Contacts.External_Contact_ID=c:{existing}"),
    ]
    .into();
    EmulatorProcess::start(&sibling("zcrm-emulator"), &args)
}

fn spec() -> UpsertSpec {
    let ext = ExternalFields::parse(&["Accounts.External_Account_ID"]).expect("names");
    UpsertSpec::new("Contacts", ["External_Contact_ID"], ext).expect("spec")
}

/// Contact `i`: its name and its account by external ID.
fn record(i: usize) -> Value {
    json!({"External_Contact_ID": format!("c{i}"), "Last_Name": format!("L{i}"),
           "Account_Name": {"External_Account_ID": format!("a{}", i % ACCOUNTS)}})
}

/// Every contact `c{i}` (i < rows) holds `L{i}` and account `a{i % 1000}`, and the module holds nothing else
/// but the seed's one contact.
fn state_exact(emu: &EmulatorProcess, rows: usize) -> bool {
    let accounts: HashMap<String, String> =
        emu.control(Method::Get, "records/Accounts?fields=External_Account_ID", None)["records"]
            .as_array()
            .map(|rs| rs.iter().filter_map(|r| Some((r[0].as_str()?.to_owned(), r[1].as_str()?.to_owned()))).collect())
            .unwrap_or_default();
    let table = emu.control(Method::Get, "records/Contacts?fields=External_Contact_ID,Last_Name,Account_Name", None);
    let Some(contacts) = table["records"].as_array() else { return false };
    let mut seen = vec![false; rows];
    for r in contacts {
        let Some(i) = r[1].as_str().and_then(|k| k.strip_prefix('c')).and_then(|n| n.parse::<usize>().ok()) else {
            continue; // the seed's contact
        };
        let account = r[3]["id"].as_str().and_then(|id| accounts.get(id));
        if i >= rows
            || seen[i]
            || r[2].as_str() != Some(format!("L{i}").as_str())
            || account.map(String::as_str) != Some(format!("a{}", i % ACCOUNTS).as_str())
        {
            return false;
        }
        seen[i] = true;
    }
    contacts.len() == rows + 1 && seen.iter().all(|s| *s)
}

/// Upserts `rows` contacts (the first half existing) at latency `latency_ms` against a limit of `concurrency`.
pub fn throughput(rows: usize, latency_ms: u64, concurrency: usize) -> bool {
    let emu = start(rows / 2, latency_ms, concurrency);
    let c = client(&emu, 10);
    // Warm the token and the connection pool outside the measurement with a read that changes nothing.
    let warm = GetRecords::builder("Accounts").key("External_Account_ID").id("a0").build().expect("read");
    let _ = c.get_records(&warm);
    let input: Vec<Result<Value, InvalidInput>> = (0..rows).map(|i| Ok(record(i))).collect();
    let options = BulkOptions { concurrency, ..BulkOptions::default() };
    let (mut inserted, mut updated) = (0u64, 0u64);
    let started = Instant::now();
    let summary = c
        .upsert_many(
            &spec(),
            &options,
            input,
            &mut |o| match o.outcome.action() {
                Some(zcrm_extid::records::UpsertAction::Insert) => inserted += 1,
                Some(zcrm_extid::records::UpsertAction::Update) => updated += 1,
                None => {}
            },
            &mut |_| {},
            &Cancel::new(),
        )
        .expect("options are valid");
    let elapsed = started.elapsed();
    let rate = rows as f64 / elapsed.as_secs_f64();
    let limit = concurrency as f64 * 100.0 / (latency_ms as f64 / 1000.0);
    let ratio = rate / limit;
    let stats = emu.control(Method::Get, "stats", None);
    let own_429 = stats["stats"]["rejected_concurrency"].as_u64().unwrap_or(u64::MAX);
    let exact = state_exact(&emu, rows);
    let correct = summary.succeeded == rows as u64 && exact;
    print_row(
        &format!(
            "upsert {rows} contacts (half new, each with an account lookup by external ID), latency {latency_ms} ms, limit {concurrency}"
        ),
        format!(
            "{rate:.0} rows/s = {ratio:.3} x limit {limit:.0}; {} calls, {} retries, {own_429} 429s from our concurrency, max {} in flight, {} credits; {inserted} inserted, {updated} updated; final state {}",
            summary.calls,
            summary.retries,
            stats["stats"]["max_in_flight"],
            stats["stats"]["credits_used"],
            if exact { "exact" } else { "DIFFERS" }
        ),
        ">= 0.95 x limit, no 429 from our concurrency, state exact",
        ratio >= 0.95 && own_429 == 0 && correct,
    );
    correct
}

/// Peak RSS of `zcrm upsert` on a `rows`-row CSV of contacts with an account column (report written).
pub fn rss(rows: usize) -> bool {
    let dir = std::env::temp_dir().join(format!("zcrm-bench-rss-upsert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("contacts.csv");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&csv).expect("csv"));
        writeln!(w, "External_Contact_ID,Last_Name,Email,account").expect("write");
        for i in 0..rows {
            writeln!(w, "c{i},L{i},c{i}@example.com,a{}", i % ACCOUNTS).expect("write");
        }
    }
    let emu = start(0, 0, 20);
    let started = Instant::now();
    let mut child = Command::new(sibling("zcrm"))
        .args(["upsert", "--csv", csv.to_str().expect("utf8 path"), "--module", "Contacts"])
        .args(["--key", "External_Contact_ID", "--lookup", "Account_Name=Accounts.External_Account_ID:account"])
        .arg("--report")
        .arg(dir.join("report.csv"))
        .env("ZOHO_CLIENT_ID", "1000.EMULATORCLIENTID")
        .env("ZOHO_CLIENT_SECRET", "emulator-client-secret")
        .env("ZOHO_REFRESH_TOKEN", "1000.emulator.refresh.token")
        .env("ZOHO_BASE_URL", &emu.base_url)
        .env("ZOHO_ACCOUNTS_URL", &emu.accounts_url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("zcrm (build it: cargo build --release -p zcrm-cli)");
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = measure::peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    let stats = emu.control(Method::Get, "stats", None);
    let held = stats["records"]["Contacts"].as_u64().unwrap_or(0);
    let own_429 = stats["stats"]["rejected_concurrency"].as_u64().unwrap_or(u64::MAX);
    let complete = held == rows as u64 + 1;
    let mib = peak as f64 / 1024.0;
    print_row(
        &format!("peak RSS of `zcrm upsert`, {rows}-row CSV with a lookup column, report written"),
        format!(
            "{mib:.1} MiB ({:.1} s, {:.0} rows/s at zero latency, exit {}; {} contacts held, {own_429} 429s from our concurrency)",
            elapsed.as_secs_f64(),
            rows as f64 / elapsed.as_secs_f64(),
            status.code().unwrap_or(-1),
            held
        ),
        "<= 64 MiB",
        status.success() && complete && mib <= 64.0,
    );
    status.success() && complete
}
