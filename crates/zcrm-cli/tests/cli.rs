//! `zcrm` end to end: the binary against an emulator over real HTTP.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use zcrm_emulator::{Emulator, EmulatorConfig, Fault, Seed};

fn emulator(contacts: usize, deals: usize) -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Contacts", "External_Contact_ID", "c", contacts);
    seed.add_records("Deals", "External_Deal_ID", "d", deals);
    Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() }).unwrap()
}

/// `zcrm` with only the emulator's credentials in its environment.
fn zcrm(emu: Option<&Emulator>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zcrm"));
    cmd.env_clear().args(args);
    if let Some(emu) = emu {
        let (id, secret, refresh) = Emulator::default_credentials();
        cmd.env("ZOHO_CLIENT_ID", id)
            .env("ZOHO_CLIENT_SECRET", secret)
            .env("ZOHO_REFRESH_TOKEN", refresh)
            .env("ZOHO_BASE_URL", emu.base_url())
            .env("ZOHO_ACCOUNTS_URL", emu.accounts_url());
    }
    cmd.output().unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("zcrm-cli-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
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

fn report(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["row", "parent", "related", "status", "code", "message", "zoho_id", "attempts"]
    );
    r.records().map(|x| x.unwrap().iter().map(str::to_owned).collect()).collect()
}

/// The report's lines by row number (the report is in completion order).
fn by_row(mut lines: Vec<Vec<String>>) -> Vec<Vec<String>> {
    lines.sort_by_key(|l| l[0].parse::<u64>().unwrap());
    lines
}

fn puts(emu: &Emulator) -> usize {
    emu.journal().iter().filter(|e| e.method == "PUT").count()
}

#[test]
fn link_writes_a_complete_report_and_exits_1_when_rows_fail() {
    let emu = emulator(3, 5);
    let dir = Dir::new("link");
    let csv = dir.file("pairs.csv", b"contact,deal,role\nc0,d0,r0\nc1,d1,r1\nc0,,r2\nc2,d404,r3\nc1,d4,\n");
    let rep = dir.path("report.csv");
    let out = zcrm(
        Some(&emu),
        &[
            "link",
            "--csv",
            csv.to_str().unwrap(),
            "--parent",
            "Contacts.External_Contact_ID",
            "--related",
            "Deals.External_Deal_ID",
            "--parent-column",
            "contact",
            "--related-column",
            "deal",
            "--field",
            "Contact_Role=role",
            "--report",
            &rep,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("linked 3 of 5 rows"), "{stdout}");
    assert!(stdout.contains("1 INVALID_DATA") && stdout.contains("1 INVALID_INPUT"), "{stdout}");
    let rows = by_row(report(Path::new(&rep)));
    let summary: Vec<(&str, &str, &str, &str)> =
        rows.iter().map(|r| (r[0].as_str(), r[2].as_str(), r[3].as_str(), r[4].as_str())).collect();
    assert_eq!(
        summary,
        [
            ("1", "d0", "ok", "SUCCESS"),
            ("2", "d1", "ok", "SUCCESS"),
            ("3", "", "error", "INVALID_INPUT"),
            ("4", "d404", "error", "INVALID_DATA"),
            ("5", "d4", "ok", "SUCCESS"),
        ]
    );
    assert!(rows[2][5].contains("\"deal\""), "the message names the column: {}", rows[2][5]);
    let d0 = emu.find_external("Deals", "External_Deal_ID", "d0").unwrap();
    assert_eq!(rows[0][6], d0, "the report carries Zoho's id");
    let c1 = emu.find_external("Contacts", "External_Contact_ID", "c1").unwrap();
    let linked = emu.related("Contacts", &c1, "Deals");
    assert_eq!(linked.len(), 2);
    assert!(linked.iter().any(|(_, f)| f.get("Contact_Role").is_none()), "an empty cell is left out");
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 2, "the CSV and the report, no temporary file");
}

#[test]
fn dry_run_prints_redacted_curl_and_sends_nothing() {
    let emu = emulator(2, 150);
    let dir = Dir::new("dry");
    let mut csv = String::from("External_Contact_ID,External_Deal_ID\n");
    for i in 0..150 {
        csv.push_str(&format!("c{},d{i}\n", i % 2));
    }
    let csv = dir.file("pairs.csv", csv.as_bytes());
    let out = zcrm(
        Some(&emu),
        &[
            "link",
            "--csv",
            csv.to_str().unwrap(),
            "--parent",
            "Contacts.External_Contact_ID",
            "--related",
            "Deals.External_Deal_ID",
            "--dry-run",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("curl '").count(), 2, "75 records for each of 2 contacts: 2 calls");
    assert!(stdout.contains("Authorization: Zoho-oauthtoken ***"));
    assert!(stdout.contains("X-EXTERNAL: Contacts.External_Contact_ID,Deals.External_Deal_ID"));
    assert!(stdout.contains(&format!("{}/crm/v5/Contacts/c0/Deals", emu.base_url())));
    assert!(!stdout.contains("emulator-client-secret") && !stdout.contains("1000.emulator.refresh.token"));
    assert!(emu.journal().is_empty(), "nothing was sent, not even a token request");
}

#[test]
fn resume_sends_only_the_rows_that_did_not_succeed() {
    let emu = emulator(2, 6);
    let dir = Dir::new("resume");
    let csv = dir.file("pairs.csv", b"External_Contact_ID,External_Deal_ID\nc0,d0\nc0,d1\nc1,late\nc1,d3\nc0,d4\n");
    let rep = dir.path("report.csv");
    let args = [
        "link",
        "--csv",
        csv.to_str().unwrap(),
        "--parent",
        "Contacts.External_Contact_ID",
        "--related",
        "Deals.External_Deal_ID",
        "--report",
        &rep,
    ];
    assert_eq!(zcrm(Some(&emu), &args).status.code(), Some(1));
    let first = report(Path::new(&rep));
    assert_eq!(first.iter().filter(|r| r[3] == "ok").count(), 4);
    // The missing deal appears; the resumed run sends only row 3, and the report is complete again.
    let mut rec = serde_json::Map::new();
    rec.insert("External_Deal_ID".into(), "late".into());
    emu.insert_records("Deals", vec![rec]).unwrap();
    emu.clear_journal();
    let mut resumed = args.to_vec();
    resumed.extend(["--resume", rep.as_str()]);
    let out = zcrm(Some(&emu), &resumed);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("4 rows skipped"));
    let sent: Vec<String> = emu.journal().into_iter().filter(|e| e.method == "PUT").map(|e| e.body).collect();
    assert_eq!(sent, [r#"{"data":[{"External_Deal_ID":"late"}]}"#]);
    // The carried lines first, as they were, then the new outcome: the report is complete again.
    let second = report(Path::new(&rep));
    let lines: Vec<(&str, &str)> = second.iter().map(|r| (r[0].as_str(), r[3].as_str())).collect();
    // Calls complete in any order: the carried lines keep the first report's order.
    let carried: Vec<(&str, &str)> =
        first.iter().filter(|r| r[3] == "ok").map(|r| (r[0].as_str(), r[3].as_str())).collect();
    assert_eq!(lines[..4], carried[..]);
    assert_eq!(lines[4], ("3", "ok"));
    let carried: Vec<&Vec<String>> = first.iter().filter(|r| r[3] == "ok").collect();
    assert_eq!(second[..4].iter().collect::<Vec<_>>(), carried, "resumed lines are copied as they were");
}

#[test]
fn a_missing_column_is_an_error_before_anything_is_sent() {
    let emu = emulator(1, 1);
    let dir = Dir::new("missing");
    let csv = dir.file("pairs.csv", b"External_Contact_ID,deal\nc0,d0\n");
    let out = zcrm(
        Some(&emu),
        &[
            "link",
            "--csv",
            csv.to_str().unwrap(),
            "--parent",
            "Contacts.External_Contact_ID",
            "--related",
            "Deals.External_Deal_ID",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("External_Deal_ID"), "{}", text(&out.stderr));
    assert!(emu.journal().is_empty());
}

#[test]
fn bad_csv_bytes_are_a_row_error_naming_row_and_column() {
    let emu = emulator(1, 2);
    let dir = Dir::new("utf8");
    let csv = dir.file("pairs.csv", b"External_Contact_ID,External_Deal_ID\nc0,d0\nc0,d\xff\xfe\nc0,d1\n");
    let rep = dir.path("r.csv");
    let out = zcrm(
        Some(&emu),
        &[
            "link",
            "--csv",
            csv.to_str().unwrap(),
            "--parent",
            "Contacts.External_Contact_ID",
            "--related",
            "Deals.External_Deal_ID",
            "--report",
            &rep,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let rows = by_row(report(Path::new(&rep)));
    assert_eq!((rows[1][0].as_str(), rows[1][4].as_str()), ("2", "INVALID_INPUT"));
    assert!(rows[1][5].contains("External_Deal_ID") && rows[1][5].contains("UTF-8"), "{}", rows[1][5]);
    assert_eq!((rows[0][3].as_str(), rows[2][3].as_str()), ("ok", "ok"));
}

#[test]
fn related_update_mirrors_the_pages_curl() {
    let emu = emulator(0, 0);
    let dir = Dir::new("update");
    let data =
        dir.file("sample.json", br#"{"data":[{"External_Deal_ID":"extdeal3","Contact_Role":"111111000000026002"}]}"#);
    let x = "Contacts.External_Contact_ID,Deals.External_Deal_ID";
    let out = zcrm(
        Some(&emu),
        &["related", "update", "Contacts", "extcontact3", "Deals", "-x", x, "--data", data.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], 200);
    assert_eq!(v["outcomes"][0]["details"]["id"], "111111000000094028");
    // A record Zoho rejects: exit 1.
    let bad = dir.file("bad.json", br#"[{"External_Deal_ID":"nope"}]"#);
    let out = zcrm(
        Some(&emu),
        &["related", "update", "Contacts", "extcontact3", "Deals", "-x", x, "--data", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    // Invalid input: exit 2, nothing sent.
    let before = puts(&emu);
    let missing = dir.file("missing.json", br#"[{"Contact_Role":"x"}]"#);
    let out = zcrm(
        Some(&emu),
        &["related", "update", "Contacts", "extcontact3", "Deals", "-x", x, "--data", missing.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("data[0].External_Deal_ID"), "{}", text(&out.stderr));
    assert_eq!(puts(&emu), before);
    // A request-level failure: exit 3.
    emu.push_fault(Fault::status(400));
    let out = zcrm(
        Some(&emu),
        &["related", "update", "Contacts", "extcontact3", "Deals", "-x", x, "--data", data.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn without_credentials_the_cli_says_what_to_set() {
    let dir = Dir::new("nocreds");
    let csv = dir.file("p.csv", b"External_Contact_ID,External_Deal_ID\nc0,d0\n");
    let out = zcrm(
        None,
        &[
            "link",
            "--csv",
            csv.to_str().unwrap(),
            "--parent",
            "Contacts.External_Contact_ID",
            "--related",
            "Deals.External_Deal_ID",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("ZOHO_ACCESS_TOKEN"));
}

#[test]
fn the_demo_links_and_verifies() {
    let out = zcrm(None, &["demo", "--rows", "1000", "--latency-ms", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("verified: 1000/1000"), "{}", text(&out.stdout));
}

#[test]
fn bad_numbers_in_flags_are_usage_errors_not_panics() {
    let dir = Dir::new("flags");
    let csv = dir.file("p.csv", b"External_Contact_ID,External_Deal_ID\nc0,d0\n");
    let link = ["link", "--csv", csv.to_str().unwrap(), "--parent", "Contacts.External_Contact_ID"];
    let link = [&link[..], &["--related", "Deals.External_Deal_ID"]].concat();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        ([&link[..], &["--timeout-secs", "-1"]].concat(), "--timeout-secs"),
        ([&link[..], &["--timeout-secs=-1"]].concat(), "--timeout-secs"),
        ([&link[..], &["--timeout-secs", "NaN"]].concat(), "--timeout-secs"),
        ([&link[..], &["--timeout-secs", "inf"]].concat(), "--timeout-secs"),
        ([&link[..], &["--timeout-secs", "1e300"]].concat(), "--timeout-secs"),
        ([&link[..], &["--timeout-secs", "0"]].concat(), "--timeout-secs"),
        ([&link[..], &["--concurrency", "0"]].concat(), "concurrency"),
        ([&link[..], &["--batch-size", "101"]].concat(), "batch_size"),
        ([&link[..], &["--max-retries=-3"]].concat(), "--max-retries"),
        (vec!["demo", "--rows", "18446744073709551615"], "--rows"),
        (vec!["demo", "--rows", "0"], "--rows"),
        (vec!["demo", "--latency-ms", "18446744073709551615"], "--latency-ms"),
        (vec!["demo", "--concurrency", "0"], "--concurrency"),
    ];
    let emu = emulator(1, 1);
    for (args, names) in cases {
        let out = zcrm(Some(&emu), &args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(names) && !err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(emu.journal().is_empty(), "nothing sent");
}

#[test]
fn a_wrong_secret_stops_the_job_with_exit_3_and_one_message() {
    let emu = emulator(20, 2_000);
    let dir = Dir::new("wrong-secret");
    let mut rows = String::from("External_Contact_ID,External_Deal_ID\n");
    for i in 0..2_000 {
        rows.push_str(&format!("c{},d{i}\n", i % 20));
    }
    let csv = dir.file("pairs.csv", rows.as_bytes());
    let rep = dir.path("report.csv");
    let (id, _, refresh) = Emulator::default_credentials();
    let out = Command::new(env!("CARGO_BIN_EXE_zcrm"))
        .env_clear()
        .env("ZOHO_CLIENT_ID", id)
        .env("ZOHO_CLIENT_SECRET", "not-the-secret")
        .env("ZOHO_REFRESH_TOKEN", refresh)
        .env("ZOHO_BASE_URL", emu.base_url())
        .env("ZOHO_ACCOUNTS_URL", emu.accounts_url())
        .args([
            "link",
            "--csv",
            csv.to_str().unwrap(),
            "--parent",
            "Contacts.External_Contact_ID",
            "--related",
            "Deals.External_Deal_ID",
            "--report",
            &rep,
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert_eq!(stdout.matches("hint:").count(), 1, "one message, not one per row: {stdout}");
    assert!(stdout.contains("stopped:") && stdout.contains("--resume"), "{stdout}");
    assert!(!format!("{stdout}{stderr}").contains("not-the-secret"), "the secret is never printed");
    let st = emu.stats();
    assert!(st.tokens_issued + st.token_errors <= 2, "{} token requests", st.tokens_issued + st.token_errors);
    assert_eq!(st.api_calls, 0);
    let lines = report(Path::new(&rep));
    assert_eq!(lines.len(), 2_000, "every row has its line");
    assert!(lines.iter().all(|l| l[4] == "OAUTH_INVALID_CLIENT" || l[4] == "NOT_ATTEMPTED"));
}
