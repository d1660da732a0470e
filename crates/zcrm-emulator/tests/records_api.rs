//! The records reads, deletes and search over raw HTTP (`records.rs`, `search.rs`), the samples of spec §2.3,
//! §2.6 and §2.7 byte for byte, routes, scopes, limits and faults on the records routes.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Fault, Seed};

/// The sample of spec 2.3 (the `…` filled by a second contact of the same shape).
const GET_SAMPLE: &str = r#"{"data":[{"First_Name":null,"Full_Name":"Contact 2","Last_Name":"Contact 2","External_Contact_ID":"externalcontact2","Account_Name":{"name":"Account 2","id":"111111000000101039"},"id":"111111000000101018","OrgExternal":"orgcontact2"},{"First_Name":null,"Full_Name":"Contact 4","Last_Name":"Contact 4","External_Contact_ID":"externalcontact4","Account_Name":{"name":"Account 2","id":"111111000000101039"},"id":"111111000000101020","OrgExternal":"orgcontact4"}],"info":{"per_page":2,"count":2,"page":1,"more_records":false}}"#;

fn sample_seed() -> Seed {
    let mut seed = Seed::default_seed();
    let sample: Value = serde_json::from_str(GET_SAMPLE).unwrap();
    let contacts = seed.modules.get_mut("Contacts").unwrap();
    contacts.external_fields.push("OrgExternal".into());
    for r in sample["data"].as_array().unwrap() {
        contacts.records.push(r.as_object().unwrap().clone());
    }
    // The delete sample's record (spec 2.6).
    let mut c3 = serde_json::Map::new();
    c3.insert("id".into(), "111111000000101047".into());
    c3.insert("External_Contact_ID".into(), "extcontact6".into());
    contacts.records.push(c3);
    seed
}

fn sample_emulator() -> Emulator {
    start_with(EmulatorConfig { seed: sample_seed(), ..EmulatorConfig::default() })
}

const X: Option<&str> = Some("Contacts.External_Contact_ID");

#[test]
fn get_sample_of_2_3_byte_for_byte() {
    let emu = sample_emulator();
    let r = api(&emu, "GET", "/crm/v7/Contacts?ids=externalcontact2,externalcontact4", X, b"");
    assert_eq!((r.status, r.text()), (200, GET_SAMPLE.to_owned()));
    let one = api(&emu, "GET", "/crm/v8/Contacts/externalcontact2", X, b"");
    let v = one.json();
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["data"], "a single record has no info");
    assert_eq!(v["data"][0], serde_json::from_str::<Value>(GET_SAMPLE).unwrap()["data"][0]);
    // By the other external field; the asked order; fields (the record's order, `id` always, absent as null).
    let r = api(
        &emu,
        "GET",
        "/crm/v8/Contacts?ids=orgcontact4,orgcontact2&fields=Last_Name,Phone",
        Some("Contacts.OrgExternal"),
        b"",
    );
    assert_eq!(
        r.json()["data"],
        json!([{"Last_Name":"Contact 4","id":"111111000000101020","Phone":null},{"Last_Name":"Contact 2","id":"111111000000101018","Phone":null}])
    );
    // No match: 204 with no body (spec 2.3's NO_CONTENT).
    for path in ["/crm/v8/Contacts/nobody", "/crm/v8/Contacts?ids=nobody,nobody2"] {
        let r = api(&emu, "GET", path, X, b"");
        assert_eq!((r.status, r.body.len()), (204, 0), "{path}");
    }
    // Without the header the value is a record id.
    assert_eq!(api(&emu, "GET", "/crm/v8/Contacts/111111000000101018", None, b"").status, 200);
    assert_eq!(api(&emu, "GET", "/crm/v8/Contacts/externalcontact2", None, b"").status, 204);
}

#[test]
fn delete_sample_of_2_6_byte_for_byte_and_relations_go_too() {
    let emu = sample_emulator();
    let r = api(&emu, "DELETE", "/crm/v7/Contacts?ids=extcontact6", X, b"");
    assert_eq!(
        r.text(),
        r#"{"data":[{"code":"SUCCESS","details":{"External_Contact_ID":"extcontact6","id":"111111000000101047"},"message":"record deleted","status":"success"}]}"#
    );
    let again = api(&emu, "DELETE", "/crm/v7/Contacts/extcontact6", X, b"");
    assert_eq!(again.status, 400);
    assert_zoho_item(&again.item(0), "INVALID_DATA", &["api_name"]);
    assert_eq!(again.item(0)["message"], "The value of the external field is invalid.");
    // A linked record: deleting it removes the relation.
    assert_eq!(put_sample(&emu).status, 200);
    assert_eq!(emu.relation_count(), 1);
    let r = api(&emu, "DELETE", "/crm/v7/Deals?ids=extdeal3,nope", Some("Deals.External_Deal_ID"), b"");
    assert_eq!(r.status, 207);
    assert_eq!(emu.relation_count(), 0);
    let by_id = api(&emu, "DELETE", "/crm/v7/Deals?ids=111111000000094040,123", None, b"");
    assert_eq!((by_id.status, by_id.item(1)["details"]["id"].as_str()), (207, Some("123")));
    let many: Vec<String> = (0..101).map(|i| format!("v{i}")).collect();
    let r = api(&emu, "DELETE", &format!("/crm/v7/Deals?ids={}", many.join(",")), None, b"");
    assert_error(&r, 400, "LIMIT_EXCEEDED", &["limit", "param_name"]);
    assert_error(&api(&emu, "DELETE", "/crm/v7/Deals", None, b""), 400, "REQUIRED_PARAM_MISSING", &["param_name"]);
}

#[test]
fn whole_module_pages_and_tokens() {
    let emu = start();
    assert_error(&api(&emu, "GET", "/crm/v5/Deals", None, b""), 400, "REQUIRED_PARAM_MISSING", &["param_name"]);
    let p1 = api(&emu, "GET", "/crm/v5/Deals?fields=Deal_Name&per_page=1", None, b"").json();
    assert_eq!(p1["data"], json!([{"id": DEAL3, "Deal_Name": "Deal 3"}]));
    assert_eq!(
        (p1["info"]["more_records"].as_bool(), p1["info"]["next_page_token"].as_str()),
        (Some(true), Some("p2"))
    );
    let p2 = api(&emu, "GET", "/crm/v5/Deals?fields=Deal_Name&per_page=1&page_token=p2", None, b"").json();
    assert_eq!((p2["data"][0]["id"].as_str(), p2["info"]["more_records"].as_bool()), (Some(DEAL2), Some(false)));
    assert_eq!(p2["info"]["next_page_token"], Value::Null);
    assert_eq!(api(&emu, "GET", "/crm/v5/Deals?fields=Deal_Name&page=3", None, b"").status, 204);
    for bad in ["page_token=x", "page=1&page_token=p2", "page=0"] {
        let r = api(&emu, "GET", &format!("/crm/v5/Deals?fields=Deal_Name&{bad}"), None, b"");
        assert_error(&r, 400, "INVALID_DATA", &["param_name"]);
    }
    assert_eq!(api(&emu, "GET", "/crm/v2/Deals", None, b"").status, 200, "v2 does not require fields");
}

#[test]
fn search_of_2_7_with_escapes_scope_and_paging() {
    let emu = start();
    emu.insert_records(
        "Contacts",
        ["a(1),b", "x:y", r"back\slash", "plain"]
            .iter()
            .map(|v| json!({"External_Contact_ID": v, "Last_Name": v}).as_object().unwrap().clone())
            .collect(),
    )
    .unwrap();
    let r = api(&emu, "GET", "/crm/v7/Contacts/search?criteria=(External_Contact_ID:in:extcontact3,plain)", X, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 2);
    assert_eq!(r.json()["info"], json!({"per_page": 200, "count": 2, "page": 1, "more_records": false}));
    // Escaped parentheses and commas (then percent-encoded), colons as they are, backslashes escaped.
    for (criteria, want) in [
        ("(External_Contact_ID:equals:a%5C%281%5C%29%5C%2Cb)", "a(1),b"),
        ("(External_Contact_ID:equals:x%3Ay)", "x:y"),
        ("(External_Contact_ID:equals:back%5C%5Cslash)", r"back\slash"),
    ] {
        let r = api(&emu, "GET", &format!("/crm/v7/Contacts/search?criteria={criteria}"), X, b"");
        assert_eq!(r.json()["data"][0]["External_Contact_ID"], want, "{criteria}");
    }
    let none = api(&emu, "GET", "/crm/v7/Contacts/search?criteria=(External_Contact_ID:equals:zzz)", X, b"");
    assert_eq!((none.status, none.body.len()), (204, 0));
    let paged =
        api(&emu, "GET", "/crm/v7/Contacts/search?criteria=(Last_Name:starts_with:)&per_page=2&page=2", None, b"");
    assert_eq!(
        (paged.json()["info"]["count"].as_u64(), paged.json()["info"]["more_records"].as_bool()),
        (Some(2), Some(true))
    );
    let bad = api(&emu, "GET", "/crm/v7/Contacts/search?criteria=(External_Contact_ID:like:a)", X, b"");
    assert_error(&bad, 400, "INVALID_QUERY", &["param_name", "reason"]);
    assert_error(&api(&emu, "GET", "/crm/v7/Contacts/search", X, b""), 400, "REQUIRED_PARAM_MISSING", &["param_name"]);
    // Search also needs ZohoSearch.securesearch.READ.
    emu.add_access_token("1000.crm-only", &["ZohoCRM.modules.all"], None);
    let r = api_as(
        &emu,
        "1000.crm-only",
        "GET",
        "/crm/v7/Contacts/search?criteria=(External_Contact_ID:equals:plain)",
        X,
        b"",
    );
    assert_error(&r, 401, "OAUTH_SCOPE_MISMATCH", &[]);
    assert_eq!(api_as(&emu, "1000.crm-only", "GET", "/crm/v7/Contacts/plain", X, b"").status, 200);
}

#[test]
fn routes_modules_scopes_and_headers() {
    let emu = start();
    for (method, path) in
        [("PATCH", "/crm/v5/Contacts"), ("POST", "/crm/v5/Contacts/x"), ("PATCH", "/crm/v5/Contacts/x")]
    {
        assert_error(&api(&emu, method, path, None, b"{}"), 400, "INVALID_REQUEST_METHOD", &[]);
    }
    assert_error(&api(&emu, "GET", "/crm/v5/Nope/x", None, b""), 400, "INVALID_MODULE", &["resource_path_index"]);
    assert_error(&api(&emu, "GET", "/crm/v5/Documents/x", None, b""), 400, "NOT_SUPPORTED", &["resource_path_index"]);
    assert_error(
        &api(&emu, "POST", "/crm/v2/Appointments__s", None, b"{}"),
        400,
        "INVALID_MODULE",
        &["resource_path_index"],
    );
    emu.add_access_token("1000.read", &["ZohoCRM.modules.contacts.READ"], None);
    emu.add_access_token("1000.create", &["ZohoCRM.modules.contacts.CREATE"], None);
    let body = json!({"data":[{"Last_Name":"x"}]}).to_string();
    assert_eq!(api_as(&emu, "1000.read", "GET", "/crm/v5/Contacts/extcontact3", X, b"").status, 200);
    assert_error(
        &api_as(&emu, "1000.read", "POST", "/crm/v5/Contacts", None, body.as_bytes()),
        401,
        "OAUTH_SCOPE_MISMATCH",
        &[],
    );
    assert_eq!(api_as(&emu, "1000.create", "POST", "/crm/v5/Contacts", None, body.as_bytes()).status, 201);
    assert_error(
        &api_as(&emu, "1000.create", "POST", "/crm/v5/Contacts/upsert", None, body.as_bytes()),
        401,
        "OAUTH_SCOPE_MISMATCH",
        &[],
    );
    // The header: pairs of the URL's module only, external fields only, lookups only on writes.
    assert_error(
        &api(&emu, "GET", "/crm/v5/Contacts/extcontact3", Some("Deals.External_Deal_ID"), b""),
        400,
        "INVALID_DATA",
        &["header"],
    );
    assert_error(
        &api(&emu, "GET", "/crm/v5/Contacts/extcontact3", Some("Contacts.Last_Name"), b""),
        400,
        "INVALID_DATA",
        &["api_name", "header"],
    );
    let lookup = Some("Contacts.Account_Name.External_Account_ID");
    assert_error(&api(&emu, "GET", "/crm/v5/Contacts/1", lookup, b""), 400, "INVALID_DATA", &["header"]);
    // `GET /{M}/upsert` is a record whose value is "upsert".
    assert_eq!(api(&emu, "GET", "/crm/v5/Contacts/upsert", X, b"").status, 204);
}

#[test]
fn writes_cost_a_credit_per_ten_records_and_use_the_sub_concurrency() {
    let emu = start_with(EmulatorConfig { credits: Some(25), ..EmulatorConfig::default() });
    let records = |n: usize, prefix: &str| json!({"data": (0..n).map(|i| json!({"External_Contact_ID": format!("{prefix}{i}")})).collect::<Vec<_>>()});
    let r = api(&emu, "POST", "/crm/v5/Contacts/upsert", None, records(100, "a").to_string().as_bytes());
    assert_eq!(r.status, 201);
    assert_eq!(emu.stats().credits_used, 10, "100 records cost 10 credits");
    api(&emu, "POST", "/crm/v5/Contacts", None, records(11, "b").to_string().as_bytes());
    api(&emu, "GET", "/crm/v5/Contacts/a1", X, b"");
    assert_eq!(emu.stats().credits_used, 13, "11 records cost 2, a read 1");
    // 12 left: a call of 100 records (10) passes, the next one (10 more) does not.
    assert_eq!(api(&emu, "PUT", "/crm/v5/Contacts", X, records(100, "a").to_string().as_bytes()).status, 200);
    let r = api(&emu, "PUT", "/crm/v5/Contacts", X, records(100, "a").to_string().as_bytes());
    assert_error(&r, 429, "TOO_MANY_REQUESTS", &[]);
    assert_eq!(r.header("x-api-credits-remaining"), Some("0"));

    let emu = start_with(EmulatorConfig {
        concurrency: 10,
        sub_concurrency: 1,
        latency: Duration::from_millis(300),
        ..EmulatorConfig::default()
    });
    let auth = bearer(TOKEN);
    let upsert = |n: usize, p: &str| {
        request_bytes(
            "POST",
            "/crm/v5/Contacts/upsert",
            &[("Authorization", &auth), ("Connection", "close")],
            records(n, p).to_string().as_bytes(),
        )
    };
    let (responses, _) = parallel(&emu, vec![upsert(11, "x"), upsert(11, "y"), upsert(10, "z")]);
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1, "{statuses:?}");
    assert_eq!(statuses[2], 201, "ten records are not heavy");
}

#[test]
fn faults_strike_the_records_routes_too() {
    let emu = start();
    emu.push_fault(Fault::status(503));
    let body = json!({"data":[{"Last_Name":"x"}]}).to_string();
    assert_eq!(api(&emu, "POST", "/crm/v5/Contacts", None, body.as_bytes()).status, 503);
    assert_eq!(emu.state()["modules"]["Contacts"]["records"].as_array().unwrap().len(), 1, "struck before the change");
    emu.push_fault(Fault::status(500).after());
    assert_eq!(api(&emu, "POST", "/crm/v5/Contacts", None, body.as_bytes()).status, 500);
    assert_eq!(
        emu.state()["modules"]["Contacts"]["records"].as_array().unwrap().len(),
        2,
        "the answer lost after the change"
    );
}
