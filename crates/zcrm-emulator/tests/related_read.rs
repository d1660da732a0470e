//! GET and DELETE on related records over raw HTTP: the documented samples of spec §2.1 and §2.2 byte for byte,
//! and the rules of `related_read.rs`, `related_delete.rs` and `page_token.rs`.

mod common;

use common::*;
use serde_json::{Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Seed};

fn samples() -> Emulator {
    start_with(EmulatorConfig { seed: Seed::related_samples(), ..EmulatorConfig::default() })
}

const LIST_SAMPLE: &str = r#"{"data":[{"Contact_Role":11112748204747392,"Stage":"Closed Won","Account_Name":{"name":"Chapman","id":"4876876000001036013"},"id":"4876876000002095001","Closing_Date":"2022-08-09"}],"info":{"per_page":200,"next_page_token":null,"count":1,"page":1,"previous_page_token":null,"page_token_expiry":null,"more_records":false}}"#;
const SINGLE_SAMPLE: &str =
    r#"{"data":[{"Contact_Role":"111111000000026002","External_Deal_ID":"externaldeal3","id":"111111000000094028"}]}"#;
const DELETE_SAMPLE: &str = r#"{"data":[{"code":"SUCCESS","details":{"id":"111111000000094040"},"message":"relation removed","status":"success"}]}"#;

fn get(emu: &Emulator, path: &str, x: Option<&str>) -> Resp {
    api(emu, "GET", path, x, b"")
}

#[test]
fn the_documented_list_sample() {
    let emu = samples();
    let r = get(
        &emu,
        "/crm/v7/Contacts/583472934/Deals?fields=Closing_Date,Stage,Account_Name",
        Some("Contacts.External_Contact_ID"),
    );
    assert_eq!(r.status, 200);
    // Same JSON as the page (key order within an object is not significant in JSON).
    assert_eq!(r.json(), serde_json::from_str::<Value>(LIST_SAMPLE).unwrap());
    // v8: Contact_Role is a lookup object; v5 has no page tokens in `info`.
    let v8 = get(&emu, "/crm/v8/Contacts/583472934/Deals?fields=Stage", Some("Contacts.External_Contact_ID")).json();
    assert_eq!(v8["data"][0]["Contact_Role"], json!({"id": 11112748204747392u64}));
    let v5 = get(&emu, "/crm/v5/Contacts/583472934/Deals?fields=Stage", Some("Contacts.External_Contact_ID")).json();
    let mut keys: Vec<&str> = v5["info"].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["count", "more_records", "page", "per_page"]);
}

#[test]
fn the_documented_single_record_sample_needs_no_fields() {
    let emu = samples();
    let r = get(
        &emu,
        "/crm/v7/Contacts/extcontact3/Deals/externaldeal3",
        Some("Deals.External_Deal_ID,Contacts.External_Contact_ID"),
    );
    assert_eq!((r.status, r.text()), (200, SINGLE_SAMPLE.to_owned()));
    // v8: an unset Contact_Role is {"id": null}.
    let r = get(
        &emu,
        "/crm/v8/Contacts/extcontact3/Deals/extdeal3",
        Some("Deals.External_Deal_ID,Contacts.External_Contact_ID"),
    );
    assert_eq!(r.json()["data"][0]["Contact_Role"], json!({"id": null}));
}

#[test]
fn the_documented_delete_sample_with_only_the_base_pair() {
    let emu = samples();
    let r =
        api(&emu, "DELETE", "/crm/v8/Contacts/extcontact3/Deals/extdeal3", Some("Contacts.External_Contact_ID"), b"");
    assert_eq!((r.status, r.text()), (200, DELETE_SAMPLE.to_owned()));
    assert_eq!(emu.related("Contacts", CONTACT, "Deals").len(), 1);
    // Both pairs (what the client sends) mean the same.
    let both = api(&emu, "DELETE", "/crm/v8/Contacts/extcontact3/Deals/externaldeal3", Some(BOTH), b"");
    assert_eq!(both.json()["data"][0]["details"], json!({"id": DEAL3}));
    assert!(emu.related("Contacts", CONTACT, "Deals").is_empty());
}

#[test]
fn invalid_data_names_the_external_field() {
    let emu = samples();
    let base = api(&emu, "DELETE", "/crm/v8/Contacts/nobody/Deals/extdeal3", Some(BOTH), b"");
    assert_eq!(
        assert_error(&base, 400, "INVALID_DATA", &["api_name", "resource_path_index"])["details"]["api_name"],
        "External_Contact_ID"
    );
    for header in [BOTH, "Contacts.External_Contact_ID"] {
        let r = api(&emu, "DELETE", "/crm/v8/Contacts/extcontact3/Deals/nodeal", Some(header), b"");
        assert_eq!(r.status, 400);
        assert_zoho_item(&r.item(0), "INVALID_DATA", &["api_name"]);
        assert_eq!(r.item(0)["details"]["api_name"], "External_Deal_ID", "{header}");
    }
}

#[test]
fn delete_ids_mixed_and_limit() {
    let emu = samples();
    let r =
        api(&emu, "DELETE", "/crm/v8/Contacts/extcontact3/Deals?ids=extdeal3,nodeal,externaldeal3", Some(BOTH), b"");
    assert_eq!(r.status, 207);
    let codes: Vec<Value> = (0..3).map(|i| r.item(i)["code"].clone()).collect();
    assert_eq!(codes, [json!("SUCCESS"), json!("INVALID_DATA"), json!("SUCCESS")]);
    assert_eq!(r.item(2)["details"], json!({"id": DEAL3}));
    let again = api(&emu, "DELETE", &format!("/crm/v8/Contacts/{CONTACT}/Deals?ids={DEAL3}"), None, b"");
    assert_eq!((again.status, again.item(0)["message"].clone()), (400, json!("relation not found")));
    let ids: Vec<String> = (0..101).map(|i| format!("d{i}")).collect();
    let r = api(&emu, "DELETE", &format!("/crm/v8/Contacts/extcontact3/Deals?ids={}", ids.join(",")), Some(BOTH), b"");
    assert_error(&r, 400, "LIMIT_EXCEEDED", &["limit", "param_name"]);
    assert_error(
        &api(&emu, "DELETE", "/crm/v8/Contacts/extcontact3/Deals", Some(BOTH), b""),
        400,
        "REQUIRED_PARAM_MISSING",
        &["param_name"],
    );
}

#[test]
fn fields_ids_204_and_304() {
    let emu = samples();
    let missing = get(&emu, "/crm/v5/Contacts/extcontact3/Deals", Some("Contacts.External_Contact_ID"));
    assert_error(&missing, 400, "REQUIRED_PARAM_MISSING", &["param_name"]);
    assert_eq!(get(&emu, "/crm/v2.1/Contacts/extcontact3/Deals", Some("Contacts.External_Contact_ID")).status, 200);
    // ids: related external values with the related pair, record ids without.
    let by_ext =
        get(&emu, "/crm/v8/Contacts/extcontact3/Deals?fields=Deal_Name&ids=extdeal3,unknown", Some(BOTH)).json();
    assert_eq!(by_ext["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_ext["data"][0]["id"], DEAL2);
    let by_id = get(&emu, &format!("/crm/v8/Contacts/{CONTACT}/Deals?fields=Deal_Name&ids={DEAL3}"), None).json();
    assert_eq!(by_id["data"][0]["Deal_Name"], "Deal 3");
    let none = get(&emu, "/crm/v8/Contacts/extcontact3/Deals?fields=Deal_Name&ids=unknown", Some(BOTH));
    assert_eq!((none.status, none.text()), (204, String::new()));
    let unlinked = get(&emu, "/crm/v8/Contacts/extcontact3/Deals/nodeal", Some(BOTH));
    assert_eq!(unlinked.status, 204);
    // If-Modified-Since: the seed's relations date from 2022-08-09T04:30:00Z.
    let since = |t: &str| {
        let auth = bearer(TOKEN);
        call(
            &emu,
            "GET",
            "/crm/v8/Contacts/extcontact3/Deals?fields=Deal_Name",
            &[("Authorization", &auth), ("X-EXTERNAL", "Contacts.External_Contact_ID"), ("If-Modified-Since", t)],
            b"",
        )
    };
    let r = since("2022-08-09T10:00:00+05:30");
    assert_eq!((r.status, r.text()), (304, String::new()));
    assert_eq!(since("2022-08-09T09:59:59+05:30").json()["data"].as_array().unwrap().len(), 2);
    assert_error(&since("yesterday"), 400, "INVALID_DATA", &["header"]);
    // A relink makes the relation modified.
    put(&emu, "/crm/v8/Contacts/extcontact3/Deals", Some(BOTH), &json!({"data": [{"External_Deal_ID": "extdeal3"}]}));
    let after = since("2022-08-09T10:00:00+05:30").json();
    assert_eq!(after["data"].as_array().unwrap().iter().map(|r| r["id"].clone()).collect::<Vec<_>>(), [json!(DEAL2)]);
}

/// An emulator whose contact `extcontact3` has `n` deals `d0`..: ids are sequential, so the read order (id
/// descending) is `d{n-1}` first.
fn many(n: usize) -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Deals", "External_Deal_ID", "d", n);
    let emu = start_with(EmulatorConfig { seed, ..EmulatorConfig::default() });
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let data: Vec<Value> = chunk.iter().map(|i| json!({"External_Deal_ID": format!("d{i}")})).collect();
        assert_eq!(put(&emu, CASE_A, Some(BOTH), &json!({"data": data})).status, 200);
    }
    emu
}

fn deal_names(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .map_or(vec![], |a| a.iter().map(|r| r["External_Deal_ID"].as_str().unwrap().to_owned()).collect())
}

#[test]
fn page_tokens_walk_every_record_once_and_expire() {
    let emu = many(450);
    let x = Some("Contacts.External_Contact_ID");
    let mut seen = Vec::new();
    let mut path = "/crm/v8/Contacts/extcontact3/Deals?fields=External_Deal_ID&per_page=200".to_owned();
    let mut pages = Vec::new();
    loop {
        let v = get(&emu, &path, x).json();
        seen.extend(deal_names(&v));
        pages.push((v["info"]["page"].clone(), v["info"]["count"].clone()));
        if !v["info"]["more_records"].as_bool().unwrap() {
            assert_eq!(
                (v["info"]["next_page_token"].clone(), v["info"]["page_token_expiry"].clone()),
                (Value::Null, Value::Null)
            );
            break;
        }
        assert!(v["info"]["page_token_expiry"].as_str().unwrap().ends_with("+00:00"));
        let token = v["info"]["next_page_token"].as_str().unwrap().to_owned();
        path = format!("/crm/v8/Contacts/extcontact3/Deals?fields=External_Deal_ID&per_page=200&page_token={token}");
    }
    let want: Vec<String> = (0..450).rev().map(|i| format!("d{i}")).collect();
    assert_eq!(seen, want);
    assert_eq!(pages, [(json!(1), json!(200)), (json!(2), json!(200)), (json!(3), json!(50))]);
    // Stable for the data: unlinking records already read does not shift the next page.
    let first = get(&emu, "/crm/v8/Contacts/extcontact3/Deals?fields=External_Deal_ID&per_page=10", x).json();
    let token = first["info"]["next_page_token"].as_str().unwrap().to_owned();
    api(&emu, "DELETE", "/crm/v8/Contacts/extcontact3/Deals?ids=d449,d448,d447", Some(BOTH), b"");
    let next = get(
        &emu,
        &format!("/crm/v8/Contacts/extcontact3/Deals?fields=External_Deal_ID&per_page=10&page_token={token}"),
        x,
    )
    .json();
    assert_eq!(deal_names(&next)[0], "d439");
    // Refused: a token with page, on v5, edited, or expired.
    for (path, what) in [
        (format!("/crm/v8/Contacts/extcontact3/Deals?fields=Stage&page=2&page_token={token}"), "with page"),
        (format!("/crm/v5/Contacts/extcontact3/Deals?fields=Stage&page_token={token}"), "v5"),
        (format!("/crm/v8/Contacts/extcontact3/Deals?fields=Stage&page_token=0{}", &token[1..]), "edited"),
    ] {
        assert_error(&get(&emu, &path, x), 400, "INVALID_DATA", &["param_name"]);
        let _ = what;
    }
    emu.update_runtime(|rt| rt.page_token_ttl_secs = 0);
    let fresh = get(&emu, "/crm/v8/Contacts/extcontact3/Deals?fields=Stage&per_page=10", x).json();
    let expired = fresh["info"]["next_page_token"].as_str().unwrap();
    let r = get(&emu, &format!("/crm/v8/Contacts/extcontact3/Deals?fields=Stage&per_page=10&page_token={expired}"), x);
    assert!(assert_error(&r, 400, "INVALID_DATA", &["param_name"])["message"].as_str().unwrap().contains("expired"));
}

#[test]
fn pages_stop_at_2000_records() {
    let emu = many(2001);
    let x = Some("Contacts.External_Contact_ID");
    let last = get(&emu, "/crm/v5/Contacts/extcontact3/Deals?fields=Stage&page=10&per_page=200", x).json();
    assert_eq!((last["info"]["more_records"].clone(), last["data"].as_array().unwrap().len()), (json!(true), 200));
    let past = get(&emu, "/crm/v5/Contacts/extcontact3/Deals?fields=Stage&page=11&per_page=200", x);
    assert_error(&past, 400, "LIMIT_EXCEEDED", &["limit", "param_name"]);
}
