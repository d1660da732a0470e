//! The records writes over raw HTTP (`records_write.rs`, `record_lookups.rs`): the samples of spec §2.4, §2.5
//! and §2.7, lookups by external value in every nesting, `DUPLICATE_DATA`, `INVALID_DATA` of a lookup,
//! `NOT_ALLOWED`, and the upsert's duplicate check.

mod common;

use common::*;
use serde_json::{Map, Value, json};
use zcrm_emulator::Emulator;

fn post(emu: &Emulator, path: &str, x: Option<&str>, body: &Value) -> Resp {
    api(emu, "POST", path, x, body.to_string().as_bytes())
}

fn put_body(emu: &Emulator, path: &str, x: Option<&str>, body: &Value) -> Resp {
    api(emu, "PUT", path, x, body.to_string().as_bytes())
}

fn record(emu: &Emulator, module: &str, id: &str) -> Map<String, Value> {
    let state = emu.state();
    let records = state["modules"][module]["records"].as_array().unwrap();
    records.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {module} {id}")).as_object().unwrap().clone()
}

fn is_zoho_time(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 25 && s.as_bytes()[10] == b'T' && s.ends_with("+00:00")
}

fn add(emu: &Emulator, module: &str, r: Value) -> String {
    emu.insert_records(module, vec![r.as_object().unwrap().clone()]).unwrap().remove(0)
}

#[test]
fn insert_sample_of_2_4_resolves_the_account_by_its_external_id() {
    let emu = start();
    let body =
        json!({"data":[{"Last_Name":"ext contact 1","Account_Name":{"External_Account_ID":"externalaccount1"}}]});
    let r = post(&emu, "/crm/v7/Contacts", Some("Contacts.Account_Name.External_Account_ID"), &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let item = r.item(0);
    let keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["code", "details", "message", "status"]);
    assert_eq!((item["code"].as_str(), item["message"].as_str()), (Some("SUCCESS"), Some("record added")));
    let details: Vec<&str> = item["details"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(details, ["Modified_Time", "Modified_By", "Created_Time", "id", "Created_By"], "the sample's shape");
    assert!(is_zoho_time(&item["details"]["Created_Time"]), "{item}");
    assert_eq!(item["details"]["Created_By"], json!({"name": "Emulator User", "id": "111111000000000011"}));
    let id = item["details"]["id"].as_str().unwrap();
    let stored = record(&emu, "Contacts", id);
    assert_eq!(stored["Account_Name"], json!({"name": "Account 1", "id": "111111000000101039"}));
    assert_eq!(stored["Last_Name"], "ext contact 1");
}

#[test]
fn an_unknown_lookup_value_is_invalid_data_naming_the_lookup_and_the_rest_goes_on() {
    let emu = start();
    let body = json!({"data":[
        {"Last_Name":"a","Account_Name":{"External_Account_ID":"no-such-account"}},
        {"Last_Name":"b","Account_Name":{"External_Account_ID":"externalaccount1"}},
    ]});
    let r = post(&emu, "/crm/v5/Contacts", Some("Contacts.Account_Name.External_Account_ID"), &body);
    assert_eq!(r.status, 207);
    assert_zoho_item(&r.item(0), "INVALID_DATA", &["api_name", "json_path"]);
    assert_eq!(r.item(0)["details"]["api_name"], "Account_Name");
    assert_eq!(r.item(0)["details"]["json_path"], "$.data[0].Account_Name.External_Account_ID");
    assert_eq!(r.item(1)["code"], "SUCCESS");
    // Without the header, the lookup is read by its id: an external reference alone is invalid.
    let r = post(
        &emu,
        "/crm/v5/Contacts",
        None,
        &json!({"data":[{"Account_Name":{"External_Account_ID":"externalaccount1"}}]}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        (r.item(0)["code"].as_str(), r.item(0)["details"]["api_name"].as_str()),
        (Some("INVALID_DATA"), Some("Account_Name"))
    );
    // With the header, the external value wins over an id beside it (spec 2.4).
    let r = post(
        &emu,
        "/crm/v5/Contacts",
        Some("Contacts.Account_Name.External_Account_ID"),
        &json!({"data":[{"Account_Name":{"External_Account_ID":"externalaccount1","id":"999"}}]}),
    );
    let id = r.item(0)["details"]["id"].as_str().unwrap().to_owned();
    assert_eq!(record(&emu, "Contacts", &id)["Account_Name"]["id"], "111111000000101039");
}

#[test]
fn external_values_are_org_unique_duplicate_data() {
    let emu = start();
    let body = json!({"data":[
        {"Last_Name":"x","External_Contact_ID":"extcontact3"},
        {"Last_Name":"y","External_Contact_ID":"new1"},
        {"Last_Name":"z","External_Contact_ID":"new1"},
    ]});
    let r = post(&emu, "/crm/v5/Contacts", None, &body);
    assert_eq!(r.status, 207);
    assert_zoho_item(&r.item(0), "DUPLICATE_DATA", &["api_name", "json_path", "duplicate_record", "more_records"]);
    assert_eq!(r.item(0)["details"]["duplicate_record"]["id"], CONTACT);
    assert_eq!(r.item(1)["code"], "SUCCESS");
    assert_eq!(
        r.item(2)["details"]["duplicate_record"]["id"],
        r.item(1)["details"]["id"],
        "a later record sees the earlier"
    );
    // An update onto another record's value is the same clash.
    let r = put_body(
        &emu,
        "/crm/v5/Contacts/new1",
        Some("Contacts.External_Contact_ID"),
        &json!({"data":[{"External_Contact_ID":"new1","Email":"e"}]}),
    );
    assert_eq!(r.status, 200, "the same value is no change: {}", r.text());
    let r = put_body(&emu, "/crm/v5/Contacts", None, &json!({"data":[{"id": CONTACT, "External_Contact_ID":"new1"}]}));
    assert_zoho_item(&r.item(0), "DUPLICATE_DATA", &["api_name", "json_path", "duplicate_record", "more_records"]);
    assert_eq!(emu.find_external("Contacts", "External_Contact_ID", "extcontact3").as_deref(), Some(CONTACT));
}

#[test]
fn multi_module_subform_and_line_item_lookups() {
    let emu = start();
    let product = add(&emu, "Products", json!({"Product_Name": "Widget", "External_Product_ID": "p1"}));
    let body = json!({"data":[{
        "Event_Title": "Kick-off",
        "What_Id": {"External_Account_ID": "externalaccount1"}, "$se_module": "Accounts",
        "Participants": [{"participant": {"External_Contact_ID": "extcontact3"}, "type": "contact"}],
    }]});
    let x =
        "Events.What_Id->Accounts.External_Account_ID,Events.Participants.participant->Contacts.External_Contact_ID";
    let r = post(&emu, "/crm/v8/Events", Some(x), &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let event = record(&emu, "Events", r.item(0)["details"]["id"].as_str().unwrap());
    assert_eq!(event["What_Id"]["id"], "111111000000101039");
    assert_eq!(event["Participants"][0]["participant"]["id"], CONTACT);
    assert_eq!(event["$se_module"], "Accounts");
    // A multi-module lookup must name its module.
    let r = post(&emu, "/crm/v8/Events", Some("Events.What_Id.External_Account_ID"), &body);
    assert_error(&r, 400, "INVALID_DATA", &["header"]);
    let quote =
        json!({"data":[{"Subject":"Q","Quoted_Items":[{"Product_Name":{"External_Product_ID":"p1"},"Quantity":2}]}]});
    let r = post(&emu, "/crm/v8/Quotes", Some("Quotes.Quoted_Items.Product_Name.External_Product_ID"), &quote);
    assert_eq!(r.status, 201, "{}", r.text());
    let stored = record(&emu, "Quotes", r.item(0)["details"]["id"].as_str().unwrap());
    assert_eq!(stored["Quoted_Items"][0]["Product_Name"], json!({"name": "Widget", "id": product}));
}

#[test]
fn update_samples_of_2_5_and_not_allowed() {
    let emu = start();
    add(&emu, "Contacts", json!({"Last_Name": "C1", "External_Contact_ID": "extcontact1"}));
    add(&emu, "Accounts", json!({"Account_Name": "A1", "External_Account_ID": "extaccount1"}));
    let r = put_body(
        &emu,
        "/crm/v6/Contacts/extcontact1",
        Some("Contacts.External_Contact_ID"),
        &json!({"data":[{"Last_Name":"Test Contact 1"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.item(0)["message"], "record updated");
    let d = r.item(0)["details"].as_object().unwrap().clone();
    assert_eq!(d.keys().next_back().map(String::as_str), Some("External_Contact_ID"), "the external value next to id");
    assert_eq!(d["External_Contact_ID"], "extcontact1");
    let id = d["id"].as_str().unwrap().to_owned();
    assert_eq!(record(&emu, "Contacts", &id)["Last_Name"], "Test Contact 1");
    assert!(is_zoho_time(&record(&emu, "Contacts", &id)["Modified_Time"]));
    // Many records keyed by the external field, with the sample's header (a space after the comma).
    let r = put_body(
        &emu,
        "/crm/v7/Contacts",
        Some("Contacts.External_Contact_ID, Contacts.Account_Name.External_Account_ID"),
        &json!({"data":[{"External_Contact_ID":"extcontact1","Account_Name":{"External_Account_ID":"extaccount1"}}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(record(&emu, "Contacts", &id)["Account_Name"]["name"], "A1");
    // Changing the field that addresses the record: NOT_ALLOWED, nothing changes.
    let r = put_body(
        &emu,
        "/crm/v6/Contacts/extcontact1",
        Some("Contacts.External_Contact_ID"),
        &json!({"data":[{"External_Contact_ID":"other","Last_Name":"changed"}]}),
    );
    assert_eq!(r.status, 400);
    assert_zoho_item(&r.item(0), "NOT_ALLOWED", &["api_name", "json_path"]);
    assert_eq!(record(&emu, "Contacts", &id)["Last_Name"], "Test Contact 1");
    // Addressed by the record id, the same change is allowed.
    let r = put_body(&emu, &format!("/crm/v6/Contacts/{id}"), None, &json!({"data":[{"External_Contact_ID":"other"}]}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(emu.find_external("Contacts", "External_Contact_ID", "other"), Some(id));
}

#[test]
fn update_errors_per_record() {
    let emu = start();
    let r = put_body(
        &emu,
        "/crm/v5/Contacts",
        Some("Contacts.External_Contact_ID"),
        &json!({"data":[{"Last_Name":"no key"},{"External_Contact_ID":"nope"},{"External_Contact_ID":7},{"External_Contact_ID":"extcontact3","Bad Key":1}]}),
    );
    assert_eq!(r.status, 400);
    assert_zoho_item(&r.item(0), "MANDATORY_NOT_FOUND", &["api_name", "json_path"]);
    assert_zoho_item(&r.item(1), "INVALID_DATA", &["api_name", "json_path"]);
    assert_eq!(r.item(1)["message"], "The value of the external field is invalid.");
    assert_zoho_item(&r.item(2), "INVALID_DATA", &["api_name", "json_path", "expected_data_type"]);
    assert_eq!(r.item(3)["details"]["api_name"], "Bad Key");
    // A URL naming an unknown record, and one naming a record but carrying two.
    let r = put_body(&emu, "/crm/v5/Contacts/nope", Some("Contacts.External_Contact_ID"), &json!({"data":[{}]}));
    assert_eq!((r.status, r.item(0)["code"].as_str()), (400, Some("INVALID_DATA")));
    let two = json!({"data":[{},{}]});
    assert_error(
        &put_body(&emu, "/crm/v5/Contacts/extcontact3", Some("Contacts.External_Contact_ID"), &two),
        400,
        "INVALID_DATA",
        &["api_name", "json_path"],
    );
}

#[test]
fn upsert_checks_duplicates_and_reports_action_and_field() {
    let emu = start();
    let body = json!({"data":[
        {"External_Contact_ID":"extcontact3","Last_Name":"Updated"},
        {"External_Contact_ID":"u1","Last_Name":"New"},
        {"External_Contact_ID":"u1","Last_Name":"New again"},
    ], "duplicate_check_fields": ["External_Contact_ID"]});
    let r = post(&emu, "/crm/v7/Contacts/upsert", None, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let first = r.item(0);
    let keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["code", "duplicate_field", "action", "details", "message", "status"]);
    assert_eq!(
        (r.item(0)["action"].as_str(), r.item(0)["duplicate_field"].as_str()),
        (Some("update"), Some("External_Contact_ID"))
    );
    assert_eq!(r.item(0)["details"]["id"], CONTACT);
    assert_eq!((r.item(1)["action"].as_str(), &r.item(1)["duplicate_field"]), (Some("insert"), &Value::Null));
    assert_eq!(r.item(1)["message"], "record added");
    assert_eq!(r.item(2)["action"], "update", "the later record of the same key updates the earlier");
    assert_eq!(r.item(2)["details"]["id"], r.item(1)["details"]["id"]);
    assert_eq!(record(&emu, "Contacts", CONTACT)["Last_Name"], "Updated");
    // The default order: the system duplicate-check field (Email) before the external field.
    add(&emu, "Contacts", json!({"Last_Name": "M", "Email": "m@x.io", "External_Contact_ID": "m1"}));
    let r =
        post(&emu, "/crm/v7/Contacts/upsert", None, &json!({"data":[{"Email":"m@x.io","External_Contact_ID":"m2"}]}));
    assert_eq!((r.status, r.item(0)["duplicate_field"].as_str()), (200, Some("Email")));
    assert_eq!(emu.find_external("Contacts", "External_Contact_ID", "m1"), None, "the match took the new value");
    // All inserted: 201; a lookup by external value works as for inserts.
    let r = post(
        &emu,
        "/crm/v7/Contacts/upsert",
        Some("Contacts.Account_Name.External_Account_ID"),
        &json!({"data":[{"External_Contact_ID":"u9","Account_Name":{"External_Account_ID":"externalaccount1"}}]}),
    );
    assert_eq!((r.status, r.item(0)["action"].as_str()), (201, Some("insert")));
    let bad = json!({"data":[{"Last_Name":"x"}], "duplicate_check_fields": "Email"});
    assert_error(
        &post(&emu, "/crm/v7/Contacts/upsert", None, &bad),
        400,
        "INVALID_DATA",
        &["api_name", "expected_data_type"],
    );
}

#[test]
fn write_bodies_are_checked_as_for_the_related_put() {
    let emu = start();
    let r = api(&emu, "POST", "/crm/v5/Contacts", None, b"not json");
    assert_error(&r, 400, "UNABLE_TO_PARSE_DATA_TYPE", &[]);
    assert_error(
        &post(&emu, "/crm/v5/Contacts", None, &json!({"x": 1})),
        400,
        "MANDATORY_NOT_FOUND",
        &["api_name", "json_path"],
    );
    let many = json!({"data": (0..101).map(|i| json!({"Last_Name": i.to_string()})).collect::<Vec<_>>()});
    assert_error(&post(&emu, "/crm/v5/Contacts/upsert", None, &many), 400, "LIMIT_EXCEEDED", &["limit", "api_name"]);
    assert_eq!(emu.state()["modules"]["Contacts"]["records"].as_array().unwrap().len(), 1, "nothing was written");
}
