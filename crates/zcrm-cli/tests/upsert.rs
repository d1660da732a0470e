//! `zcrm upsert` end to end: the binary against an emulator over real HTTP: a report with the action and Zoho id
//! of every row, a lookup column, `--resume`, `--dry-run`, header checks.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Map, Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Seed};

fn emulator() -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Accounts", "External_Account_ID", "a", 3);
    seed.add_records("Contacts", "External_Contact_ID", "c", 1);
    Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() }).unwrap()
}

fn zcrm(emu: &Emulator, args: &[&str]) -> Output {
    let (id, secret, refresh) = Emulator::default_credentials();
    Command::new(env!("CARGO_BIN_EXE_zcrm"))
        .env_clear()
        .args(args)
        .env("ZOHO_CLIENT_ID", id)
        .env("ZOHO_CLIENT_SECRET", secret)
        .env("ZOHO_REFRESH_TOKEN", refresh)
        .env("ZOHO_BASE_URL", emu.base_url())
        .env("ZOHO_ACCOUNTS_URL", emu.accounts_url())
        .output()
        .unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("zcrm-upsert-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn file(&self, name: &str, content: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p.display().to_string()
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The report's lines sorted by row (it is written in completion order), header checked.
fn report(path: &str) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(Path::new(path)).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["row", "parent", "related", "status", "code", "message", "zoho_id", "attempts", "action"]
    );
    let mut lines: Vec<Vec<String>> = r.records().map(|x| x.unwrap().iter().map(str::to_owned).collect()).collect();
    lines.sort_by_key(|l| l[0].parse::<u64>().unwrap());
    lines
}

fn contact(emu: &Emulator, key: &str) -> Option<Map<String, Value>> {
    emu.find_external("Contacts", "External_Contact_ID", key).and_then(|id| emu.record("Contacts", &id))
}

fn upserts(emu: &Emulator) -> Vec<usize> {
    emu.journal()
        .iter()
        .filter(|e| e.path.ends_with("/Contacts/upsert"))
        .map(|e| serde_json::from_str::<Value>(&e.body).unwrap()["data"].as_array().unwrap().len())
        .collect()
}

const CSV: &str = "External_Contact_ID,surname,account,note\n\
                   c0,Existing,a0,kept for humans\n\
                   c1,New,a1,\n\
                   c2,Orphan,a404,\n\
                   c3,NoAccount,,\n\
                   c1,Newer,,\n";

fn args<'a>(csv: &'a str, rep: &'a str) -> Vec<&'a str> {
    vec![
        "upsert",
        "--csv",
        csv,
        "--module",
        "Contacts",
        "--key",
        "External_Contact_ID",
        "--lookup",
        "Account_Name=Accounts.External_Account_ID:account",
        "--column-map",
        "Last_Name=surname",
        "--skip",
        "note",
        "--report",
        rep,
    ]
}

#[test]
fn upsert_reports_action_and_id_per_row_then_resumes_the_failed_ones() {
    let emu = emulator();
    let dir = Dir::new("resume");
    let (csv, rep) = (dir.file("contacts.csv", CSV), dir.path("report.csv"));
    let out = zcrm(&emu, &args(&csv, &rep));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("upserted 4 of 5 rows") && stdout.contains("1 INVALID_DATA"), "{stdout}");
    let lines = report(&rep);
    let cells: Vec<(&str, &str, &str, &str, &str)> =
        lines.iter().map(|l| (l[1].as_str(), l[2].as_str(), l[3].as_str(), l[4].as_str(), l[8].as_str())).collect();
    assert_eq!(
        cells,
        [
            ("Contacts", "c0", "ok", "SUCCESS", "update"),
            ("Contacts", "c1", "ok", "SUCCESS", "insert"),
            ("Contacts", "c2", "error", "INVALID_DATA", ""),
            ("Contacts", "c3", "ok", "SUCCESS", "insert"),
            ("Contacts", "c1", "ok", "SUCCESS", "update"),
        ],
        "parent is the module, related the key cell"
    );
    let c1 = contact(&emu, "c1").unwrap();
    assert_eq!(lines[1][6], emu.find_external("Contacts", "External_Contact_ID", "c1").unwrap(), "zoho_id");
    assert_eq!(c1["Last_Name"], "Newer", "the later row wins");
    let a1 = emu.find_external("Accounts", "External_Account_ID", "a1").unwrap();
    assert_eq!(c1["Account_Name"]["id"], json!(a1), "an empty lookup cell leaves the lookup as it was");
    assert!(!contact(&emu, "c0").unwrap().contains_key("note"), "skipped column");
    assert!(!contact(&emu, "c3").unwrap().contains_key("Account_Name"), "empty cell: left out");
    assert!(contact(&emu, "c2").is_none());
    let sent_first = upserts(&emu).iter().sum::<usize>();

    // The missing account now exists: --resume sends only the row that failed.
    emu.insert_records("Accounts", vec![json!({"External_Account_ID": "a404"}).as_object().unwrap().clone()]).unwrap();
    let mut resume = args(&csv, &rep);
    resume.extend(["--resume", &rep]);
    let out = zcrm(&emu, &resume);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("4 rows skipped"), "{}", text(&out.stdout));
    assert_eq!(upserts(&emu).iter().sum::<usize>() - sent_first, 1, "only row 3 was sent again");
    let lines = report(&rep);
    assert_eq!(lines.len(), 5);
    assert!(lines.iter().all(|l| l[3] == "ok"), "{lines:?}");
    assert_eq!((lines[2][2].as_str(), lines[2][8].as_str()), ("c2", "insert"));
    assert_eq!(contact(&emu, "c2").unwrap()["Last_Name"], "Orphan");

    // An edited key cell is caught before anything is sent.
    std::fs::write(&csv, CSV.replace("c3,NoAccount", "c9,NoAccount")).unwrap();
    let before = emu.journal().len();
    let out = zcrm(&emu, &resume);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("row 4"), "{}", text(&out.stderr));
    assert_eq!(emu.journal().len(), before, "nothing sent");
}

#[test]
fn dry_run_prints_one_call_per_lookup_shape_and_sends_nothing() {
    let emu = emulator();
    let dir = Dir::new("dry");
    let (csv, rep) = (dir.file("contacts.csv", CSV), dir.path("report.csv"));
    let mut a = args(&csv, &rep);
    a.push("--dry-run");
    let out = zcrm(&emu, &a);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // Rows 1-3 use the lookup pair; row 4 has none; row 5 repeats c1 and follows row 2's call.
    assert!(stdout.contains("# call 1: CSV rows 1,2,3"), "{stdout}");
    assert!(stdout.contains("X-EXTERNAL: Contacts.Account_Name.External_Account_ID"), "{stdout}");
    assert!(stdout.contains("/crm/v8/Contacts/upsert") || stdout.contains("/Contacts/upsert"), "{stdout}");
    assert_eq!(stdout.matches("# call ").count(), 2, "{stdout}");
    assert!(stdout.contains("\"duplicate_check_fields\":[\"External_Contact_ID\"]"), "{stdout}");
    assert!(emu.journal().is_empty(), "nothing sent");
    assert!(!Path::new(&rep).exists());
}

#[test]
fn a_column_that_is_no_field_name_stops_before_anything_is_sent() {
    let emu = emulator();
    let dir = Dir::new("header");
    let csv = dir.file("contacts.csv", "External_Contact_ID,first name\nc1,x\n");
    let rep = dir.path("report.csv");
    let base = ["upsert", "--csv", &csv, "--module", "Contacts", "--key", "External_Contact_ID", "--report", &rep];
    let out = zcrm(&emu, &base);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("\"first name\""), "{}", text(&out.stderr));
    // Mapped, it goes.
    let mut mapped = base.to_vec();
    mapped.extend(["--column-map", "First_Name=first name"]);
    let out = zcrm(&emu, &mapped);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(contact(&emu, "c1").unwrap()["First_Name"], "x");
    // No key column.
    let out = zcrm(&emu, &["upsert", "--csv", &csv, "--module", "Contacts", "--key", "External_ID", "--report", &rep]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("External_ID"), "{}", text(&out.stderr));
    assert_eq!(upserts(&emu), [1]);
}
