//! Bulk upsert against the emulator: 20,000 rows under injected faults end with exactly the expected records;
//! a key repeated in a job ends with its later row, whatever the rows' lookup shapes; mixed lookup shapes
//! never share a call; the sub-concurrency of 10 is never exceeded (no 429 of our own making).

mod bulk_support;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bulk_support::client;
use serde_json::{Map, Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Fault, Seed};
use zcrm_extid::bulk::{BulkOptions, BulkReport};
use zcrm_extid::records::{ExternalFields, UpsertAction, UpsertSpec};
use zcrm_extid::{Client, InvalidInput};

/// An emulator with accounts `a0..a{accounts}` and contacts `c0..c{contacts}` (external ids only).
fn emulator(accounts: usize, contacts: usize, latency: Duration) -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Accounts", "External_Account_ID", "a", accounts);
    seed.add_records("Contacts", "External_Contact_ID", "c", contacts);
    Emulator::start(EmulatorConfig { seed, latency, ..EmulatorConfig::default() }).unwrap()
}

fn spec() -> UpsertSpec {
    UpsertSpec::new(
        "Contacts",
        ["External_Contact_ID"],
        ExternalFields::parse(&["Accounts.External_Account_ID", "Contacts.External_Contact_ID"]).unwrap(),
    )
    .unwrap()
}

fn upsert(c: &Client, options: &BulkOptions, rows: &[Value]) -> BulkReport {
    let rows: Vec<Result<Value, InvalidInput>> = rows.iter().cloned().map(Ok).collect();
    c.upsert_all(&spec(), options, rows).unwrap()
}

/// What the emulator holds: external id -> (Last_Name, the account's external id), for every contact.
fn contacts(emu: &Emulator) -> BTreeMap<String, (Option<String>, Option<String>)> {
    let accounts: HashMap<String, String> = emu
        .records("Accounts")
        .into_iter()
        .filter_map(|(id, r)| Some((id, r.get("External_Account_ID")?.as_str()?.to_owned())))
        .collect();
    emu.records("Contacts")
        .into_iter()
        .map(|(_, r)| {
            let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
            let account = r
                .get("Account_Name")
                .and_then(|a| a.get("id"))
                .and_then(Value::as_str)
                .map(|id| accounts.get(id).cloned().unwrap_or_else(|| format!("unknown account {id}")));
            (text(r.get("External_Contact_ID")).unwrap_or_default(), (text(r.get("Last_Name")), account))
        })
        .collect()
}

/// The state `rows` leave when applied one after another in input order onto `before` (an update keeps the
/// fields a row does not carry).
fn apply(
    mut before: BTreeMap<String, (Option<String>, Option<String>)>,
    rows: &[Value],
    account_of_id: &HashMap<String, String>,
) -> BTreeMap<String, (Option<String>, Option<String>)> {
    for r in rows {
        let key = r["External_Contact_ID"].as_str().unwrap().to_owned();
        let entry = before.entry(key).or_default();
        if let Some(name) = r.get("Last_Name").and_then(Value::as_str) {
            entry.0 = Some(name.to_owned());
        }
        match r.get("Account_Name") {
            Some(Value::Object(a)) if a.contains_key("External_Account_ID") => {
                entry.1 = Some(a["External_Account_ID"].as_str().unwrap().to_owned());
            }
            Some(Value::Object(a)) => entry.1 = Some(account_of_id[a["id"].as_str().unwrap()].clone()),
            _ => {}
        }
    }
    before
}

#[test]
fn twenty_thousand_rows_under_faults_end_with_exactly_the_expected_records() {
    let emu = emulator(200, 2_000, Duration::from_millis(2));
    let account_ids: HashMap<String, String> = (0..200)
        .map(|a| {
            let ext = format!("a{a}");
            (emu.find_external("Accounts", "External_Account_ID", &ext).unwrap(), ext)
        })
        .collect();
    let id_of_account: HashMap<&str, &str> = account_ids.iter().map(|(id, ext)| (ext.as_str(), id.as_str())).collect();
    // Three lookup shapes (by external ID, by record id, none) and, every tenth row, a key repeated three rows
    // later with another shape: the later row must win.
    let rows: Vec<Value> = (0..20_000usize)
        .map(|i| {
            if i % 10 == 9 {
                let k = i - 3;
                return json!({"External_Contact_ID": format!("c{k}"), "Last_Name": format!("L{k}-again")});
            }
            let account = format!("a{}", i % 200);
            let mut r = json!({"External_Contact_ID": format!("c{i}"), "Last_Name": format!("L{i}")});
            if i % 4 == 0 {
                r["Account_Name"] = json!({"id": id_of_account[account.as_str()]});
            } else if i % 4 != 3 {
                r["Account_Name"] = json!({"External_Account_ID": account});
            }
            r
        })
        .collect();
    let before = contacts(&emu);
    let expected = apply(before.clone(), &rows, &account_ids);
    emu.push_fault(Fault::status(500).with_probability(0.05).forever());
    emu.push_fault(Fault::status(429).with_probability(0.02).forever());
    emu.push_fault(Fault::drop_connection().with_probability(0.02).forever());
    emu.push_fault(Fault::drop_connection().after().with_probability(0.02).forever());

    // Asking for 25 calls at once: calls of 100 records stay within the sub-concurrency of 10.
    let options = BulkOptions { concurrency: 25, window: 2_000, ..BulkOptions::default() };
    let report = upsert(&client(&emu, 12), &options, &rows);
    emu.clear_faults();

    assert_eq!(report.outcomes.len(), rows.len());
    for (i, o) in report.outcomes.iter().enumerate() {
        assert_eq!((o.row, o.outcome.index), (i, i));
        assert!(o.outcome.is_success(), "row {i}: {:?}", o.outcome);
        assert_eq!(o.key.as_deref(), rows[i]["External_Contact_ID"].as_str());
        assert_eq!(&*o.parent, "Contacts");
        let existed = before.contains_key(o.key.as_deref().unwrap()) || i % 10 == 9;
        let action = o.outcome.action().unwrap();
        // A record that existed is updated; a new one inserted, unless an answer was lost and the retry found
        // the record the first attempt made.
        assert!(
            action == UpsertAction::Update && (existed || o.attempts > 1) || action == UpsertAction::Insert && !existed,
            "row {i}: {action:?} (attempts {})",
            o.attempts
        );
        assert!(o.outcome.id().is_some_and(|id| id.len() >= 18), "row {i}: a Zoho id");
    }
    let s = &report.summary;
    assert_eq!((s.rows, s.succeeded, s.failed), (20_000, 20_000, 0));
    assert!(s.retries > 0, "faults were retried");
    let stats = emu.stats();
    assert_eq!(stats.rejected_concurrency, 0, "no 429 of our own making");
    assert!(stats.max_in_flight <= 10, "at most 10 calls of 100 records at once, got {}", stats.max_in_flight);
    assert_eq!(contacts(&emu), expected, "the emulator holds exactly the rows applied in input order");
}

#[test]
fn a_repeated_key_ends_with_its_later_row_whatever_its_lookup_shape() {
    // Each key twice: first without a lookup, then with one (another group). Were both calls sent at once, the
    // first call to arrive (dropped by the fault, then retried) would land last and its values would win.
    let emu = emulator(5, 0, Duration::from_millis(50));
    let mut rows: Vec<Value> =
        (0..50).map(|k| json!({"External_Contact_ID": format!("c{k}"), "Last_Name": "first"})).collect();
    rows.extend((0..50).map(|k| {
        json!({"External_Contact_ID": format!("c{k}"), "Last_Name": "second",
               "Account_Name": {"External_Account_ID": format!("a{}", k % 5)}})
    }));
    emu.push_fault(Fault::drop_connection());
    let report = upsert(&client(&emu, 4), &BulkOptions::default(), &rows);
    assert_eq!(report.summary.succeeded, 100);
    let got = contacts(&emu);
    for k in 0..50 {
        let (name, account) = &got[&format!("c{k}")];
        assert_eq!((name.as_deref(), account.clone()), (Some("second"), Some(format!("a{}", k % 5))), "c{k}");
    }
    // The first rows were inserted, the later ones updated them.
    let actions: Vec<Option<UpsertAction>> = report.outcomes.iter().map(|o| o.outcome.action()).collect();
    assert!(actions[..50].iter().all(|a| *a == Some(UpsertAction::Insert)), "{actions:?}");
    assert!(actions[50..].iter().all(|a| *a == Some(UpsertAction::Update)), "{actions:?}");
}

#[test]
fn mixed_lookup_shapes_travel_in_separate_calls_and_bad_rows_name_their_field() {
    let emu = emulator(3, 0, Duration::ZERO);
    let account = emu.find_external("Accounts", "External_Account_ID", "a1").unwrap();
    let rows = vec![
        json!({"External_Contact_ID": "x0", "Last_Name": "ext", "Account_Name": {"External_Account_ID": "a0"}}),
        json!({"External_Contact_ID": "x1", "Last_Name": "id", "Account_Name": {"id": account}}),
        json!({"External_Contact_ID": "x2", "Last_Name": "none"}),
        json!({"Last_Name": "no key"}),
        json!({"External_Contact_ID": "x4", "Account_Name": {"External_Account_ID": "a0", "id": account}}),
        json!({"External_Contact_ID": "x5", "Account_Name": {"External_Account_ID": "no-such-account"}}),
    ];
    emu.clear_journal();
    let report = upsert(&client(&emu, 2), &BulkOptions::default(), &rows);
    let codes: Vec<&str> = report.outcomes.iter().map(|o| o.outcome.code()).collect();
    assert_eq!(codes, ["SUCCESS", "SUCCESS", "SUCCESS", "INVALID_INPUT", "INVALID_INPUT", "INVALID_DATA"]);
    let details = |i: usize| report.outcomes[i].outcome.details().clone();
    assert_eq!(details(3)["argument"], "data");
    assert_eq!(details(4)["field"], "Account_Name.id");
    // Two calls: one with the lookup pair (rows 0 and 5), one without (rows 1 and 2: a lookup by id needs none).
    let calls: Vec<(Option<String>, usize)> = emu
        .journal()
        .into_iter()
        .filter(|e| e.path.ends_with("/Contacts/upsert"))
        .map(|e| {
            let header = e.headers.iter().find(|(n, _)| n == "x-external").map(|(_, v)| v.clone());
            let body: Map<String, Value> = serde_json::from_str(&e.body).unwrap();
            (header, body["data"].as_array().unwrap().len())
        })
        .collect();
    let mut calls = calls;
    calls.sort();
    assert_eq!(calls, [(None, 2), (Some("Contacts.Account_Name.External_Account_ID".to_owned()), 2)]);
    let got = contacts(&emu);
    assert_eq!(got["x0"], (Some("ext".to_owned()), Some("a0".to_owned())));
    assert_eq!(got["x1"], (Some("id".to_owned()), Some("a1".to_owned())));
    assert!(!got.contains_key("x5"), "an unknown account fails the record, not the call");
}
