//! The cheap control routes a big job is checked with: `GET /__emulator/stats` (counters and record counts, no
//! dump) and `GET /__emulator/records/{Module}?fields=..` (a compact table of one module), and the library's
//! `records` / `record`.

mod common;

use common::*;
use serde_json::json;

#[test]
fn stats_counts_records_and_calls_without_dumping_them() {
    let emu = start();
    let before = control(&emu, "GET", "stats", None).json();
    assert_eq!(before["records"]["Contacts"], 1);
    assert_eq!(before["records"]["Deals"], 2);
    assert_eq!(before["relations"], 0);
    assert_eq!(before["stats"]["api_calls"], 0);
    let r = put(&emu, CASE_A, Some(BOTH), &json!({"data": [{"External_Deal_ID": "extdeal3"}]}));
    assert_eq!(r.status, 200, "{}", r.text());
    let added = control(&emu, "POST", "records/Contacts", Some(&json!({"data": [{"External_Contact_ID": "n1"}]})));
    assert_eq!(added.status, 200, "{}", added.text());
    let after = control(&emu, "GET", "stats", None).json();
    assert_eq!((after["records"]["Contacts"].clone(), after["relations"].clone()), (json!(2), json!(1)));
    assert_eq!(after["stats"], serde_json::to_value(emu.stats()).unwrap());
    assert_eq!(after["stats"]["api_calls"], 1);
}

#[test]
fn records_table_lists_a_module_compactly_in_id_order() {
    let emu = start();
    let r = control(&emu, "GET", "records/Deals?fields=External_Deal_ID,Nope", None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["records"],
        json!([[DEAL3, "extdeal3", null], [DEAL2, "extdeal2", null]]),
        "rows of [id, fields...], a missing field null"
    );
    let ids = control(&emu, "GET", "records/Deals", None).json();
    assert_eq!(ids["records"], json!([[DEAL3], [DEAL2]]));
    assert_eq!(control(&emu, "GET", "records/Nope", None).status, 404);
    // The library's view of the same records.
    let records = emu.records("Deals");
    assert_eq!(records.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), [DEAL3, DEAL2]);
    assert_eq!(emu.record("Deals", DEAL2).unwrap()["External_Deal_ID"], "extdeal2");
    assert!(emu.record("Deals", "1").is_none() && emu.records("Nope").is_empty());
}
