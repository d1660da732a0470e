//! `zcrm related get` and `zcrm related delete` end to end against an emulator over HTTP.

use std::process::{Command, Output};

use serde_json::{Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Fault, Seed};

fn zcrm(emu: &Emulator, version: &str, args: &[&str]) -> Output {
    let (id, secret, refresh) = Emulator::default_credentials();
    Command::new(env!("CARGO_BIN_EXE_zcrm"))
        .env_clear()
        .env("ZOHO_CLIENT_ID", id)
        .env("ZOHO_CLIENT_SECRET", secret)
        .env("ZOHO_REFRESH_TOKEN", refresh)
        .env("ZOHO_BASE_URL", emu.base_url())
        .env("ZOHO_ACCOUNTS_URL", emu.accounts_url())
        .env("ZOHO_API_VERSION", version)
        .args(args)
        .output()
        .unwrap()
}

fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Contact extcontact3 with `n` linked deals `d0`.. (read order: `d{n-1}` first).
fn linked(n: usize) -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Deals", "External_Deal_ID", "d", n);
    for i in 0..n {
        seed.relations.push(
            serde_json::from_value(json!({
                "module": "Contacts", "record": "111111000000085009", "related_list": "Deals",
                "related": format!("{}", 111_111_000_000_100_001u64 + i as u64)
            }))
            .unwrap(),
        );
    }
    Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() }).unwrap()
}

const BASE: &str = "Contacts.External_Contact_ID";

#[test]
fn get_prints_json_lines_and_all_pages() {
    let emu = linked(450);
    let one = zcrm(
        &emu,
        "v8",
        &[
            "related",
            "get",
            "Contacts",
            "extcontact3",
            "Deals",
            "-x",
            BASE,
            "--fields",
            "External_Deal_ID",
            "--per-page",
            "200",
        ],
    );
    assert_eq!(one.status.code(), Some(0), "{}", err(&one));
    let rows = lines(&one);
    assert_eq!(rows.len(), 200);
    assert_eq!(rows[0]["External_Deal_ID"], "d449");
    assert!(rows[0]["id"].is_string());
    assert!(err(&one).contains("\"more_records\":true"), "{}", err(&one));
    let all = zcrm(
        &emu,
        "v8",
        &["related", "get", "Contacts", "extcontact3", "Deals", "-x", BASE, "--fields", "External_Deal_ID", "--all"],
    );
    assert_eq!(all.status.code(), Some(0), "{}", err(&all));
    let names: Vec<String> = lines(&all).iter().map(|r| r["External_Deal_ID"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, (0..450).rev().map(|i| format!("d{i}")).collect::<Vec<_>>());
    let tokens = emu.journal().iter().filter(|e| e.query.contains("page_token=")).count();
    assert_eq!(tokens, 2);
}

#[test]
fn get_single_ids_304_and_errors() {
    let emu = Emulator::start(EmulatorConfig { seed: Seed::related_samples(), ..EmulatorConfig::default() }).unwrap();
    let single = zcrm(
        &emu,
        "v7",
        &[
            "related",
            "get",
            "Contacts",
            "extcontact3",
            "Deals",
            "externaldeal3",
            "-x",
            "Deals.External_Deal_ID,Contacts.External_Contact_ID",
        ],
    );
    assert_eq!(
        lines(&single),
        [
            json!({"id": "111111000000094028", "Contact_Role": "111111000000026002", "External_Deal_ID": "externaldeal3"})
        ]
    );
    let ids = zcrm(
        &emu,
        "v8",
        &[
            "related",
            "get",
            "Contacts",
            "extcontact3",
            "Deals",
            "-x",
            "Contacts.External_Contact_ID,Deals.External_Deal_ID",
            "--fields",
            "Deal_Name",
            "--ids",
            "extdeal3,nope",
        ],
    );
    assert_eq!(lines(&ids).len(), 1);
    let not_modified = zcrm(
        &emu,
        "v8",
        &[
            "related",
            "get",
            "Contacts",
            "extcontact3",
            "Deals",
            "-x",
            BASE,
            "--fields",
            "Deal_Name",
            "--if-modified-since",
            "2023-01-01T00:00:00Z",
        ],
    );
    assert_eq!((not_modified.status.code(), lines(&not_modified).len()), (Some(0), 0));
    assert!(err(&not_modified).contains("not modified"));
    // fields missing on v5: exit 2, nothing sent.
    emu.clear_journal();
    let missing = zcrm(&emu, "v5", &["related", "get", "Contacts", "extcontact3", "Deals", "-x", BASE]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stdout).contains("fields"),
        "{}",
        String::from_utf8_lossy(&missing.stdout)
    );
    assert!(emu.journal().iter().all(|e| !e.path.starts_with("/crm/")));
    // A request-level failure: exit 3.
    emu.push_fault(Fault::status(500).forever());
    let failed = zcrm(
        &emu,
        "v8",
        &[
            "--max-retries",
            "0",
            "related",
            "get",
            "Contacts",
            "extcontact3",
            "Deals",
            "-x",
            BASE,
            "--fields",
            "Deal_Name",
        ],
    );
    assert_eq!(failed.status.code(), Some(3));
}

#[test]
fn delete_single_ids_and_dry_run() {
    let emu = Emulator::start(EmulatorConfig { seed: Seed::related_samples(), ..EmulatorConfig::default() }).unwrap();
    let both = "Contacts.External_Contact_ID,Deals.External_Deal_ID";
    let dry = zcrm(
        &emu,
        "v8",
        &["related", "delete", "Contacts", "extcontact3", "Deals", "extdeal3", "-x", both, "--dry-run"],
    );
    let curl = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(curl.contains("/crm/v8/Contacts/extcontact3/Deals/extdeal3") && curl.contains("-X DELETE"), "{curl}");
    assert!(emu.journal().is_empty());
    let one = zcrm(&emu, "v8", &["related", "delete", "Contacts", "extcontact3", "Deals", "extdeal3", "-x", both]);
    assert_eq!(one.status.code(), Some(0), "{}", err(&one));
    let v: Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(v["outcomes"][0]["details"]["id"], "111111000000094040");
    let mixed = zcrm(
        &emu,
        "v8",
        &["related", "delete", "Contacts", "extcontact3", "Deals", "-x", both, "--ids", "externaldeal3,nope"],
    );
    assert_eq!(mixed.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&mixed.stdout).unwrap();
    assert_eq!((v["status"].clone(), v["outcomes"][1]["code"].clone()), (json!(207), json!("INVALID_DATA")));
    assert!(emu.related("Contacts", "111111000000085009", "Deals").is_empty());
    // An external value without the related pair: refused before sending, saying what to add.
    let bad = zcrm(&emu, "v8", &["related", "delete", "Contacts", "extcontact3", "Deals", "extdeal3", "-x", BASE]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(err(&bad).contains("X-EXTERNAL"), "{}", err(&bad));
}
