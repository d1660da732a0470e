//! `zcrm records get|delete|search` end to end: the binary against an emulator over real HTTP, JSON lines out.

use std::process::{Command, Output};

use serde_json::Value;
use zcrm_emulator::{Emulator, EmulatorConfig, Seed};

fn emulator() -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Contacts", "External_Contact_ID", "c", 5);
    Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() }).unwrap()
}

fn zcrm(emu: &Emulator, args: &[&str]) -> Output {
    let (id, secret, refresh) = Emulator::default_credentials();
    Command::new(env!("CARGO_BIN_EXE_zcrm"))
        .env_clear()
        .env("ZOHO_CLIENT_ID", id)
        .env("ZOHO_CLIENT_SECRET", secret)
        .env("ZOHO_REFRESH_TOKEN", refresh)
        .env("ZOHO_BASE_URL", emu.base_url())
        .env("ZOHO_ACCOUNTS_URL", emu.accounts_url())
        .args(args)
        .output()
        .unwrap()
}

/// Every stdout line as JSON (fails on a line that is not).
fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

fn api_calls(emu: &Emulator) -> usize {
    emu.journal().iter().filter(|e| e.path.starts_with("/crm/")).count()
}

#[test]
fn get_one_several_and_every_page() {
    let emu = emulator();
    let one = zcrm(&emu, &["records", "get", "Contacts", "extcontact3", "--key", "External_Contact_ID"]);
    assert_eq!(one.status.code(), Some(0));
    assert_eq!(lines(&one)[0]["id"], "111111000000085009");
    let several = zcrm(
        &emu,
        &[
            "records",
            "get",
            "Contacts",
            "c3",
            "nobody",
            "c1",
            "--key",
            "External_Contact_ID",
            "--fields",
            "External_Contact_ID",
        ],
    );
    let got: Vec<String> =
        lines(&several).iter().map(|r| r["External_Contact_ID"].as_str().unwrap().to_owned()).collect();
    assert_eq!(got, ["c3", "c1"]);
    let all = zcrm(&emu, &["records", "get", "Contacts", "--fields", "External_Contact_ID", "--per-page", "2"]);
    assert_eq!((all.status.code(), lines(&all).len()), (Some(0), 6), "every page: 5 generated + extcontact3");
    let gets = emu.journal().iter().filter(|e| e.method == "GET" && e.path == "/crm/v5/Contacts").count();
    assert_eq!(gets, 3 + 1, "three pages, and the ids= call");
    let none = zcrm(&emu, &["records", "get", "Contacts", "nobody", "--key", "External_Contact_ID"]);
    assert_eq!((none.status.code(), none.stdout.len()), (Some(0), 0), "no match: no lines");
}

#[test]
fn search_and_delete() {
    let emu = emulator();
    let found = zcrm(&emu, &["records", "search", "Contacts", "c0", "c4", "zz", "--key", "External_Contact_ID"]);
    assert_eq!(found.status.code(), Some(0), "{}", String::from_utf8_lossy(&found.stderr));
    assert_eq!(lines(&found).len(), 2);
    let del = zcrm(&emu, &["records", "delete", "Contacts", "c0", "nope", "--key", "External_Contact_ID"]);
    assert_eq!(del.status.code(), Some(1), "one of two failed");
    let out = lines(&del);
    assert_eq!((out[0]["value"].as_str(), out[0]["ok"].as_bool()), (Some("c0"), Some(true)));
    assert_eq!((out[1]["value"].as_str(), out[1]["code"].as_str()), (Some("nope"), Some("INVALID_DATA")));
    assert_eq!(emu.find_external("Contacts", "External_Contact_ID", "c0"), None);
}

#[test]
fn invalid_arguments_send_nothing_and_failures_print_an_error_line() {
    let emu = emulator();
    for args in [
        &["records", "get", "Contacts"][..],
        &["records", "delete", "Contacts", "a", "b,c", "--key", "External_Contact_ID"],
        &["records", "get", "Contacts", "notanid"],
    ] {
        let o = zcrm(&emu, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).starts_with("zcrm: invalid "),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert_eq!(api_calls(&emu), 0);
    let dry = zcrm(&emu, &["records", "delete", "Contacts", "a/b", "--key", "External_Contact_ID", "--dry-run"]);
    assert!(
        String::from_utf8_lossy(&dry.stdout).starts_with(&format!("curl '{}/crm/v5/Contacts/a%2Fb'", emu.base_url()))
    );
    assert_eq!(api_calls(&emu), 0);
    let failed = zcrm(&emu, &["records", "get", "Nope", "x", "--key", "E"]);
    assert_eq!(failed.status.code(), Some(3));
    assert_eq!(lines(&failed)[0]["error"]["code"], "INVALID_MODULE");
}
