//! The records operations through the client against the emulator over real HTTP: round trips, per-record
//! errors, 204, retries (an insert is not retried after a lost answer, an upsert is), scope hints, paging.

use std::time::Duration;

use serde_json::{Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Fault};
use zcrm_extid::records::{
    DeleteRecords, GetRecords, InsertRecords, SearchRecords, UpdateRecords, UpsertAction, UpsertRecords,
};
use zcrm_extid::{Client, Error, ErrorCode, RetryPolicy};

const CONTACT: &str = "111111000000085009";
const ACCOUNT: &str = "111111000000101039";

fn client(emu: &Emulator) -> Client {
    let (id, secret, refresh) = Emulator::default_credentials();
    Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .retry_policy(RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

fn contacts_with_external(emu: &Emulator, value: &str) -> usize {
    let state = emu.state();
    state["modules"]["Contacts"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["External_Contact_ID"] == value)
        .count()
}

fn get_one(c: &Client, value: &str) -> Option<serde_json::Map<String, Value>> {
    let req = GetRecords::builder("Contacts").key("External_Contact_ID").id(value).build().unwrap();
    c.get_records(&req).unwrap().records.into_iter().next()
}

#[test]
fn insert_get_update_upsert_delete_round_trip() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let c = client(&emu);
    let insert = InsertRecords::builder("Contacts")
        .external_field("Accounts", "External_Account_ID")
        .record(json!({"Last_Name": "Boyle", "External_Contact_ID": "c1", "Account_Name": {"External_Account_ID": "externalaccount1"}}))
        .record(json!({"Last_Name": "Smith", "External_Contact_ID": "c2"}))
        .build()
        .unwrap();
    let r = c.insert_records(&insert).unwrap();
    assert_eq!((r.status, r.all_succeeded()), (201, true));
    let c1 = get_one(&c, "c1").unwrap();
    assert_eq!(r.outcomes[0].id(), c1["id"].as_str());
    assert_eq!(c1["Account_Name"]["id"], ACCOUNT);

    let update = UpdateRecords::builder("Contacts")
        .key("External_Contact_ID")
        .records([
            json!({"External_Contact_ID": "c1", "Phone": "1"}),
            json!({"External_Contact_ID": "c2", "Phone": "2"}),
        ])
        .build()
        .unwrap();
    let r = c.update_records(&update).unwrap();
    assert!(r.all_succeeded(), "{r:?}");
    assert_eq!(r.outcomes[1].details()["External_Contact_ID"], "c2");
    let one = UpdateRecords::builder("Contacts")
        .key("External_Contact_ID")
        .id("c2")
        .record(json!({"Last_Name": "Smythe"}))
        .build()
        .unwrap();
    assert!(c.update_records(&one).unwrap().all_succeeded());
    assert_eq!(get_one(&c, "c2").unwrap()["Last_Name"], "Smythe");

    let upsert = UpsertRecords::builder("Contacts")
        .duplicate_check_fields(["External_Contact_ID"])
        .records([
            json!({"External_Contact_ID": "c1", "Last_Name": "Boyle2"}),
            json!({"External_Contact_ID": "c3", "Last_Name": "New"}),
        ])
        .build()
        .unwrap();
    let r = c.upsert_records(&upsert).unwrap();
    let got: Vec<(Option<UpsertAction>, Option<&str>)> =
        r.outcomes.iter().map(|o| (o.action, o.duplicate_field.as_deref())).collect();
    assert_eq!(got, [(Some(UpsertAction::Update), Some("External_Contact_ID")), (Some(UpsertAction::Insert), None)]);
    assert_eq!(r.outcomes[0].id(), c1["id"].as_str(), "the upsert found c1");

    let many = GetRecords::builder("Contacts")
        .key("External_Contact_ID")
        .ids(["c3", "c1", "nobody"])
        .fields(["Last_Name"])
        .build()
        .unwrap();
    let page = c.get_records(&many).unwrap();
    let names: Vec<&str> = page.records.iter().map(|r| r["Last_Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["New", "Boyle2"]);

    let delete =
        DeleteRecords::builder("Contacts").key("External_Contact_ID").ids(["c1", "c2", "nobody"]).build().unwrap();
    let r = c.delete_records(&delete).unwrap();
    assert_eq!(r.status, 207);
    assert_eq!(r.outcomes.iter().map(|o| o.code()).collect::<Vec<_>>(), ["SUCCESS", "SUCCESS", "INVALID_DATA"]);
    assert!(get_one(&c, "c1").is_none(), "a 204 is an empty page");
    assert_eq!(contacts_with_external(&emu, "c3"), 1);
}

#[test]
fn per_record_failures_are_outcomes() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let c = client(&emu);
    let insert = InsertRecords::builder("Contacts")
        .external_field("Accounts", "External_Account_ID")
        .record(json!({"Last_Name": "a", "External_Contact_ID": "extcontact3"}))
        .record(json!({"Last_Name": "b", "Account_Name": {"External_Account_ID": "no-such"}}))
        .record(json!({"Last_Name": "c"}))
        .build()
        .unwrap();
    let r = c.insert_records(&insert).unwrap();
    assert_eq!(r.status, 207);
    assert_eq!(r.outcomes[0].code(), "DUPLICATE_DATA");
    assert_eq!(r.outcomes[0].details()["duplicate_record"]["id"], CONTACT);
    let lookup = &r.outcomes[1];
    assert_eq!((lookup.code(), lookup.details()["api_name"].as_str()), ("INVALID_DATA", Some("Account_Name")));
    assert!(r.outcomes[2].is_success());
    assert_eq!(r.failures().count(), 2);
}

#[test]
fn not_allowed_is_caught_before_sending() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let e = UpdateRecords::builder("Contacts")
        .key("External_Contact_ID")
        .id("extcontact3")
        .record(json!({"External_Contact_ID": "renamed"}))
        .build()
        .unwrap_err();
    assert_eq!(e.location(), "data[0].External_Contact_ID");
    assert!(e.message.contains("NOT_ALLOWED"), "{e}");
    assert!(emu.journal().is_empty(), "nothing was sent");
}

#[test]
fn an_insert_is_not_resent_after_a_lost_answer_but_an_upsert_is() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let c = client(&emu);
    emu.push_fault(Fault::status(500).after());
    let insert = InsertRecords::builder("Contacts")
        .record(json!({"Last_Name": "x", "External_Contact_ID": "once"}))
        .build()
        .unwrap();
    let e = c.insert_records(&insert).unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert_eq!(contacts_with_external(&emu, "once"), 1, "created once, not resent");
    // A 429 means nothing was done: an insert is retried then.
    emu.push_fault(Fault::status(429));
    let again = InsertRecords::builder("Contacts")
        .record(json!({"Last_Name": "y", "External_Contact_ID": "twice"}))
        .build()
        .unwrap();
    assert!(c.insert_records(&again).unwrap().all_succeeded());
    // An upsert is idempotent: resent after the lost answer, the second attempt updates what the first made.
    emu.push_fault(Fault::status(500).after());
    let upsert = UpsertRecords::builder("Contacts")
        .duplicate_check_fields(["External_Contact_ID"])
        .record(json!({"Last_Name": "z", "External_Contact_ID": "up"}))
        .build()
        .unwrap();
    let r = c.upsert_records(&upsert).unwrap();
    assert_eq!(r.outcomes[0].action, Some(UpsertAction::Update));
    assert_eq!(contacts_with_external(&emu, "up"), 1);
}

#[test]
fn pages_search_and_scope_hints() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let c = client(&emu);
    let rows: Vec<Value> =
        (0..25).map(|i| json!({"Last_Name": format!("L{i:02}"), "External_Contact_ID": format!("p{i:02}")})).collect();
    let upsert = UpsertRecords::builder("Contacts")
        .duplicate_check_fields(["External_Contact_ID"])
        .records(rows)
        .build()
        .unwrap();
    assert!(c.upsert_records(&upsert).unwrap().all_succeeded());
    let all = GetRecords::builder("Contacts").fields(["External_Contact_ID"]).per_page(10).build().unwrap();
    let pages: Vec<usize> = c.record_pages(&all).map(|p| p.unwrap().records.len()).collect();
    assert_eq!(pages, [10, 10, 6], "25 upserted + extcontact3");
    let search =
        SearchRecords::builder("Contacts", "External_Contact_ID").values(["p01", "p24", "zz"]).build().unwrap();
    let found = c.search_records(&search).unwrap();
    assert_eq!(found.records.len(), 2);
    let paged = SearchRecords::builder("Contacts", "External_Contact_ID")
        .values((0..25).map(|i| format!("p{i:02}")))
        .per_page(7)
        .build()
        .unwrap();
    let total: usize = c.search_pages(&paged).map(|p| p.unwrap().records.len()).sum();
    assert_eq!(total, 25);
    let none = SearchRecords::builder("Contacts", "External_Contact_ID").value("nobody").build().unwrap();
    assert!(c.search_records(&none).unwrap().records.is_empty());
    // A token without the search scope: the hint names it.
    emu.add_access_token("1000.crm-only", &["ZohoCRM.modules.all"], None);
    let crm_only = Client::builder().access_token("1000.crm-only").base_url(emu.base_url()).build().unwrap();
    let e = crm_only.search_records(&none).unwrap_err();
    assert_eq!(e.code(), ErrorCode::OauthScopeMismatch);
    assert!(e.hint().unwrap().contains("ZohoSearch.securesearch.READ"), "{e}");
    // A request-level error of a read is an error, not an empty page.
    let bad = GetRecords::builder("Nope").key("E").id("x").build().unwrap();
    assert!(matches!(c.get_records(&bad), Err(Error::Api { code: ErrorCode::InvalidModule, .. })));
}
