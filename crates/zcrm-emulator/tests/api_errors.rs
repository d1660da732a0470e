//! The CRM API's documented answers (the tables of `api.rs` and `related_put.rs`): every request-level error
//! with its exact status, code and details keys; the per-record results and the 200/207/400 aggregation; and the
//! state changes of the seed page's three cases and of the plain-id form.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Map, Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Seed};

fn relations(emu: &Emulator) -> Vec<Value> {
    emu.state()["relations"].as_array().expect("relations array").clone()
}

fn role(r: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Contact_Role".into(), Value::String(r.into()));
    m
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().expect("object").clone()
}

// ---------------------------------------------------------------------------------------------------------
// Authentication and scopes.

#[test]
fn missing_authorization_is_authentication_failure() {
    let emu = start();
    let r = call(&emu, "PUT", CASE_A, &[("X-EXTERNAL", BOTH)], sample_body().to_string().as_bytes());
    assert_error(&r, 401, "AUTHENTICATION_FAILURE", &[]);
    assert_eq!(emu.relation_count(), 0);
}

#[test]
fn wrong_scheme_or_empty_token_is_authentication_failure() {
    let emu = start();
    let body = sample_body().to_string();
    let bearer_scheme = format!("Bearer {TOKEN}");
    for value in [bearer_scheme.as_str(), TOKEN, "Zoho-oauthtoken", "Zoho-oauthtoken    "] {
        let r = call(&emu, "PUT", CASE_A, &[("Authorization", value), ("X-EXTERNAL", BOTH)], body.as_bytes());
        assert_error(&r, 401, "AUTHENTICATION_FAILURE", &[]);
    }
    // The scheme is matched case-insensitively, like the header name.
    let lower = format!("zoho-oauthtoken {TOKEN}");
    let r = call(&emu, "PUT", CASE_A, &[("authorization", &lower), ("x-external", BOTH)], body.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn unknown_token_is_invalid_token() {
    let emu = start();
    let r = api_as(&emu, "1000.not.a.token", "PUT", CASE_A, Some(BOTH), sample_body().to_string().as_bytes());
    let v = assert_error(&r, 401, "INVALID_TOKEN", &[]);
    assert_eq!(v["message"], "invalid oauth token");
}

#[test]
fn expired_tokens_are_invalid_token() {
    let emu = start();
    let minted = mint(&emu);
    emu.add_access_token("1000.short.lived", &["ZohoCRM.modules.all"], Some(Duration::ZERO));
    let body = sample_body().to_string();
    let r = api_as(&emu, "1000.short.lived", "PUT", CASE_A, Some(BOTH), body.as_bytes());
    assert_error(&r, 401, "INVALID_TOKEN", &[]);
    assert_eq!(api_as(&emu, &minted, "PUT", CASE_A, Some(BOTH), body.as_bytes()).status, 200);
    emu.expire_tokens();
    for token in [TOKEN, minted.as_str()] {
        assert_error(&api_as(&emu, token, "PUT", CASE_A, Some(BOTH), body.as_bytes()), 401, "INVALID_TOKEN", &[]);
    }
    // A new token works again.
    assert_eq!(api_as(&emu, &mint(&emu), "PUT", CASE_A, Some(BOTH), body.as_bytes()).status, 200);
}

#[test]
fn scope_of_another_module_is_oauth_scope_mismatch() {
    let emu = start();
    let body = sample_body().to_string();
    for (token, scopes) in [
        ("1000.leads.all", &["ZohoCRM.modules.leads.ALL"][..]),
        ("1000.contacts.read", &["ZohoCRM.modules.contacts.READ"][..]),
        ("1000.contacts.delete", &["ZohoCRM.modules.contacts.DELETE"][..]),
        ("1000.no.scopes", &[][..]),
    ] {
        emu.add_access_token(token, scopes, None);
        let r = api_as(&emu, token, "PUT", CASE_A, Some(BOTH), body.as_bytes());
        assert_error(&r, 401, "OAUTH_SCOPE_MISMATCH", &[]);
    }
    assert_eq!(emu.relation_count(), 0);
}

#[test]
fn module_scopes_that_allow_the_put_succeed() {
    let emu = start();
    let body = sample_body().to_string();
    for (token, scopes) in [
        ("1000.contacts.update", &["ZohoCRM.modules.contacts.UPDATE"][..]),
        ("1000.contacts.write", &["ZohoCRM.modules.contacts.WRITE"][..]),
        ("1000.contacts.all", &["ZohoCRM.modules.contacts.ALL"][..]),
        ("1000.mixed", &["ZohoCRM.modules.leads.ALL", "ZohoCRM.modules.contacts.UPDATE"][..]),
        ("1000.all", &["ZohoCRM.modules.all"][..]),
    ] {
        emu.add_access_token(token, scopes, None);
        let r = api_as(&emu, token, "PUT", CASE_A, Some(BOTH), body.as_bytes());
        assert_eq!(r.status, 200, "{token}: {}", r.text());
    }
}

#[test]
fn module_the_profile_may_not_edit_is_no_permission() {
    let mut seed = Seed::default_seed();
    seed.modules.get_mut("Contacts").expect("Contacts").editable = false;
    let emu = start_with(EmulatorConfig { seed, ..EmulatorConfig::default() });
    let v = assert_error(&put_sample(&emu), 403, "NO_PERMISSION", &["permissions"]);
    assert_eq!(v["details"]["permissions"], json!(["Crm_Implied_Edit_Contacts"]));
    assert_eq!(emu.relation_count(), 0);
    // Reading is still allowed.
    let r = api(&emu, "GET", "/crm/v5/Contacts/extcontact3/Deals?fields=Deal_Name", Some(BOTH), b"");
    assert_eq!(r.status, 204);
}

// ---------------------------------------------------------------------------------------------------------
// Modules, URL patterns, methods.

#[test]
fn unknown_module_is_invalid_module() {
    let emu = start();
    for path in ["/crm/v5/Contactz/extcontact3/Deals", "/crm/v5/contacts/extcontact3/Deals"] {
        let v =
            assert_error(&put(&emu, path, Some(BOTH), &sample_body()), 400, "INVALID_MODULE", &["resource_path_index"]);
        assert_eq!(v["details"]["resource_path_index"], 0);
    }
}

#[test]
fn appointments_do_not_exist_before_v3() {
    let emu = start();
    emu.insert_records(
        "Appointments__s",
        vec![obj(json!({"id": "111111000000300001", "External_Appointment_ID": "a1"}))],
    )
    .unwrap();
    emu.insert_records("Services__s", vec![obj(json!({"id": "111111000000300002", "External_Service_ID": "s1"}))])
        .unwrap();
    let header = "Appointments__s.External_Appointment_ID,Services__s.External_Service_ID";
    let body = json!({"data": [{"External_Service_ID": "s1"}]});
    for v in ["v2", "v2.1"] {
        let r = put(&emu, &format!("/crm/{v}/Appointments__s/a1/Services__s"), Some(header), &body);
        let e = assert_error(&r, 400, "INVALID_MODULE", &["resource_path_index"]);
        assert_eq!(e["details"]["resource_path_index"], 0);
    }
    for v in ["v3", "v5", "v8"] {
        let r = put(&emu, &format!("/crm/{v}/Appointments__s/a1/Services__s"), Some(header), &body);
        assert_eq!(r.status, 200, "{v}: {}", r.text());
    }
    assert_eq!(emu.related("Services__s", "111111000000300002", "Appointments__s").len(), 1);
}

#[test]
fn documents_are_not_supported() {
    let emu = start();
    // The PUT page names this INVALID_MODULE ("The given module is not supported in API"); GET names it NOT_SUPPORTED.
    let r = put(&emu, "/crm/v5/Documents/111111000000000001/Deals", None, &json!({"data": [{"id": DEAL3}]}));
    let v = assert_error(&r, 400, "INVALID_MODULE", &["resource_path_index"]);
    assert_eq!(v["details"]["resource_path_index"], 0);
    assert_eq!(v["message"], "The given module is not supported in API");
    let r = api(&emu, "GET", "/crm/v5/Documents/111111000000000001/Deals?fields=Deal_Name", None, b"");
    assert_error(&r, 400, "NOT_SUPPORTED", &["resource_path_index"]);
}

#[test]
fn malformed_urls_are_invalid_url_pattern() {
    let emu = start();
    for path in [
        "/crm/v5/Contacts/extcontact3/Deals/extdeal3/extra",
        "/crm/v5/Contacts/extcontact3/Deals/a/b/c",
        // `/crm/v5/Contacts` and `/crm/v5/Contacts/extcontact3` are the records routes (tests/records_*.rs).
        "/crm/v5",
        "/crm/v5/",
        "/crm/v9/Contacts/extcontact3/Deals",
        "/crm/V5/Contacts/extcontact3/Deals",
        "/crm/v5/Contacts/%FF/Deals",
        "/crm/v5/Contacts/ext%C3%28/Deals",
        "/crm/v5/Contacts//Deals",
        "/crm/v5/Contacts/extcontact3/Deals/",
        "/crm//v5/Contacts/extcontact3/Deals",
        "/v5/Contacts/extcontact3/Deals",
        "/",
    ] {
        let r = put(&emu, path, Some(BOTH), &sample_body());
        let v = assert_error(&r, 404, "INVALID_URL_PATTERN", &[]);
        assert_eq!(v["message"], "Please check if the URL trying to access is a correct one", "{path}");
    }
    assert_eq!(emu.relation_count(), 0);
}

#[test]
fn version_and_encoding_are_checked_before_authentication_and_the_route_shape_after() {
    let emu = start();
    let body = sample_body().to_string();
    // Unknown version, undecodable segment, empty segment: 404 even without a token.
    for path in ["/crm/v9/Contacts/extcontact3/Deals", "/crm/v5/Contacts/%FF/Deals", "/crm/v5/Contacts//Deals"] {
        assert_error(&call(&emu, "PUT", path, &[], body.as_bytes()), 404, "INVALID_URL_PATTERN", &[]);
    }
    // A route of the wrong shape: authentication first.
    let extra = "/crm/v5/Contacts/extcontact3/Deals/extdeal3/extra";
    assert_error(&call(&emu, "PUT", extra, &[], body.as_bytes()), 401, "AUTHENTICATION_FAILURE", &[]);
}

#[test]
fn post_and_patch_on_the_related_route_are_invalid_request_method() {
    let emu = start();
    let body = sample_body().to_string();
    for method in ["POST", "PATCH", "OPTIONS"] {
        let r = api(&emu, method, CASE_A, Some(BOTH), body.as_bytes());
        let v = assert_error(&r, 400, "INVALID_REQUEST_METHOD", &[]);
        assert_eq!(v["message"], "The http request method type is not a valid one");
    }
    assert_eq!(emu.relation_count(), 0);
}

// ---------------------------------------------------------------------------------------------------------
// Related list, X-EXTERNAL, parent record.

#[test]
fn unknown_related_list_is_invalid_data_at_index_2() {
    let emu = start();
    for path in ["/crm/v5/Contacts/extcontact3/Dealz", "/crm/v5/Contacts/extcontact3/deals"] {
        let v =
            assert_error(&put(&emu, path, Some(BOTH), &sample_body()), 400, "INVALID_DATA", &["resource_path_index"]);
        assert_eq!(v["details"]["resource_path_index"], 2);
        assert_eq!(v["message"], "The relation name given seems to be invalid");
    }
}

#[test]
fn unknown_base_external_value_is_invalid_data_with_api_name() {
    let emu = start();
    for value in ["extcontact4", "EXTCONTACT3", "111111000000085009"] {
        let r = put(&emu, &format!("/crm/v5/Contacts/{value}/Deals"), Some(BOTH), &sample_body());
        let v = assert_error(&r, 400, "INVALID_DATA", &["api_name", "resource_path_index"]);
        assert_eq!(v["details"], json!({"api_name": "External_Contact_ID", "resource_path_index": 1}), "{value}");
        assert_eq!(v["message"], "You have specified an invalid external ID for the base module");
    }
}

#[test]
fn non_digit_id_without_a_base_pair_is_invalid_data() {
    let emu = start();
    for header in [None, Some("Deals.External_Deal_ID")] {
        let r = put(&emu, CASE_A, header, &json!({"data": [{"id": DEAL3, "External_Deal_ID": "extdeal3"}]}));
        let v = assert_error(&r, 400, "INVALID_DATA", &["resource_path_index"]);
        assert_eq!(v["details"]["resource_path_index"], 1);
        assert_eq!(v["message"], "the id given seems to be invalid");
    }
}

#[test]
fn unknown_record_id_is_404_invalid_data() {
    let emu = start();
    let r = put(&emu, "/crm/v5/Contacts/111111000000099999/Deals", None, &json!({"data": [{"id": DEAL3}]}));
    let v = assert_error(&r, 404, "INVALID_DATA", &["resource_path_index"]);
    assert_eq!(v["details"]["resource_path_index"], 1);
    assert_eq!(v["message"], "The record does not exist");
    // A Deal's id is not a Contact's.
    let r = put(&emu, &format!("/crm/v5/Contacts/{DEAL3}/Deals"), None, &json!({"data": [{"id": DEAL3}]}));
    assert_error(&r, 404, "INVALID_DATA", &["resource_path_index"]);
}

#[test]
fn malformed_foreign_and_lookup_headers_are_invalid_data_on_the_header() {
    let emu = start();
    for header in [
        "Contacts",
        "Contacts.",
        ".External_Contact_ID",
        "Contacts.External_Contact_ID,",
        "Contacts.External_Contact_ID,,Deals.External_Deal_ID",
        "Contacts.External Contact ID",
        "Contacts.External_Contact_ID;Deals.External_Deal_ID",
        "Contacts.External_Contact_ID,Contacts.External_Contact_ID",
        // Foreign modules.
        "Leads.External_Lead_ID",
        "Contacts.External_Contact_ID,Accounts.External_Account_ID",
        // Lookup paths.
        "Contacts.Account_Name.External_Account_ID",
        "Deals.What_Id->Accounts.External_Account_ID",
    ] {
        let r = put(&emu, CASE_A, Some(header), &sample_body());
        let v = assert_error(&r, 400, "INVALID_DATA", &["header"]);
        assert_eq!(v["details"]["header"], "X-EXTERNAL", "{header}");
    }
    assert_eq!(emu.relation_count(), 0);
}

#[test]
fn header_field_that_is_not_external_is_invalid_data_with_api_name() {
    let emu = start();
    for (header, field) in [
        ("Contacts.Last_Name,Deals.External_Deal_ID", "Last_Name"),
        ("Contacts.External_Contact_ID,Deals.Deal_Name", "Deal_Name"),
        ("Contacts.External_Deal_ID", "External_Deal_ID"),
        ("Contacts.external_contact_id", "external_contact_id"),
    ] {
        let r = put(&emu, CASE_A, Some(header), &sample_body());
        let v = assert_error(&r, 400, "INVALID_DATA", &["api_name", "header"]);
        assert_eq!(v["details"], json!({"api_name": field, "header": "X-EXTERNAL"}), "{header}");
    }
}

#[test]
fn empty_x_external_means_no_header() {
    let emu = start();
    let r = put(&emu, &format!("/crm/v5/Contacts/{CONTACT}/Deals"), Some("  "), &json!({"data": [{"id": DEAL3}]}));
    assert_eq!(r.status, 200, "{}", r.text());
}

// ---------------------------------------------------------------------------------------------------------
// Body errors.

#[test]
fn empty_or_non_json_body_is_unable_to_parse() {
    let emu = start();
    for body in [&b""[..], b"   \r\n", b"data=1", b"{\"data\": [", b"\xff\xfe", b"<html></html>"] {
        let r = api(&emu, "PUT", CASE_A, Some(BOTH), body);
        let v = assert_error(&r, 400, "UNABLE_TO_PARSE_DATA_TYPE", &[]);
        assert_eq!(v["message"], "either the request body or parameters is in wrong format");
    }
}

#[test]
fn body_without_data_is_mandatory_not_found() {
    let emu = start();
    for body in [json!({}), json!({"Data": []}), json!([{"External_Deal_ID": "extdeal3"}]), json!("data")] {
        let r = put(&emu, CASE_A, Some(BOTH), &body);
        let v = assert_error(&r, 400, "MANDATORY_NOT_FOUND", &["api_name", "json_path"]);
        assert_eq!(v["details"], json!({"api_name": "data", "json_path": "$.data"}), "{body}");
    }
}

#[test]
fn data_that_is_not_an_array_is_invalid_data() {
    let emu = start();
    for data in [json!({"External_Deal_ID": "extdeal3"}), json!("x"), json!(1), json!(null)] {
        let r = put(&emu, CASE_A, Some(BOTH), &json!({"data": data}));
        let v = assert_error(&r, 400, "INVALID_DATA", &["api_name", "json_path", "expected_data_type"]);
        assert_eq!(v["details"]["expected_data_type"], "jsonarray");
        assert_eq!(v["details"]["api_name"], "data");
    }
}

#[test]
fn empty_data_array_is_invalid_data() {
    let emu = start();
    let v = assert_error(
        &put(&emu, CASE_A, Some(BOTH), &json!({"data": []})),
        400,
        "INVALID_DATA",
        &["api_name", "json_path"],
    );
    assert_eq!(v["details"], json!({"api_name": "data", "json_path": "$.data"}));
}

#[test]
fn more_than_100_records_is_limit_exceeded_and_100_is_fine() {
    let emu = start();
    let v =
        assert_error(&put(&emu, CASE_A, Some(BOTH), &records_body(101)), 400, "LIMIT_EXCEEDED", &["limit", "api_name"]);
    assert_eq!(v["details"], json!({"limit": "100", "api_name": "data"}));
    assert_eq!(emu.relation_count(), 0);
    let r = put(&emu, CASE_A, Some(BOTH), &records_body(100));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 100);
    assert_eq!(emu.relation_count(), 1);
}

#[test]
fn the_put_needs_no_content_type() {
    let emu = start();
    let auth = bearer(TOKEN);
    let body = sample_body().to_string();
    let raw = request_bytes(
        "PUT",
        CASE_A,
        &[("Authorization", &auth), ("X-EXTERNAL", BOTH), ("Connection", "close")],
        body.as_bytes(),
    );
    assert!(!String::from_utf8_lossy(&raw).to_ascii_lowercase().contains("content-type"));
    let (r, _) = parse_response(&send_raw(&emu, &raw)).expect("a response");
    assert_eq!((r.status, r.text().as_str()), (200, SAMPLE_RESPONSE));
    // Any Content-Type is accepted too.
    for ct in ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-8"] {
        let r = call(
            &emu,
            "PUT",
            CASE_A,
            &[("Authorization", &auth), ("X-EXTERNAL", BOTH), ("Content-Type", ct)],
            body.as_bytes(),
        );
        assert_eq!(r.status, 200, "{ct}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Per-record results.

#[test]
fn missing_related_external_field_is_mandatory_not_found_per_record() {
    let emu = start();
    let body = json!({"data": [
        {"External_Deal_ID": "extdeal3", "Contact_Role": ROLE},
        {"Contact_Role": ROLE},
        {"id": DEAL2, "Contact_Role": ROLE},
        {"External_Deal_ID": null},
    ]});
    let r = put(&emu, CASE_A, Some(BOTH), &body);
    assert_eq!(r.status, 207);
    for i in 1..=3 {
        let item = r.item(i);
        assert_zoho_item(&item, "MANDATORY_NOT_FOUND", &["api_name", "json_path"]);
        assert_eq!(
            item["details"],
            json!({"api_name": "External_Deal_ID", "json_path": format!("$.data[{i}].External_Deal_ID")})
        );
        assert_eq!(item["message"], "required field not found");
    }
    // `id` does not stand in for the missing external field: only extdeal3 got linked.
    assert_eq!(emu.related("Contacts", CONTACT, "Deals"), vec![(DEAL3.to_owned(), role(ROLE))]);
}

#[test]
fn unknown_related_external_value_is_invalid_data_per_record() {
    let emu = start();
    let r = put(
        &emu,
        CASE_A,
        Some(BOTH),
        &json!({"data": [{"External_Deal_ID": "extdeal9"}, {"External_Deal_ID": "EXTDEAL3"}]}),
    );
    assert_eq!(r.status, 400);
    for i in 0..2 {
        let item = r.item(i);
        assert_zoho_item(&item, "INVALID_DATA", &["api_name", "json_path"]);
        assert_eq!(item["details"]["json_path"], format!("$.data[{i}].External_Deal_ID"));
        assert_eq!(item["message"], "the related id given seems to be invalid");
    }
    assert_eq!(emu.relation_count(), 0);
}

#[test]
fn related_external_value_of_the_wrong_type_is_invalid_data() {
    let emu = start();
    let r = put(&emu, CASE_A, Some(BOTH), &json!({"data": [{"External_Deal_ID": 3}, {"External_Deal_ID": ""}]}));
    assert_eq!(r.status, 400);
    for i in 0..2 {
        let item = r.item(i);
        assert_zoho_item(&item, "INVALID_DATA", &["api_name", "json_path", "expected_data_type"]);
        assert_eq!(item["details"]["expected_data_type"], "text");
    }
}

#[test]
fn ids_without_a_related_pair_missing_unknown_or_malformed() {
    let emu = start();
    let path = format!("/crm/v5/Contacts/{CONTACT}/Deals");
    let body = json!({"data": [
        {"Contact_Role": ROLE},
        {"id": "111111000000099999"},
        {"id": "abc"},
        {"id": CONTACT},
        {"id": -5},
        {"id": DEAL3.parse::<u64>().unwrap()},
    ]});
    let r = put(&emu, &path, None, &body);
    assert_eq!(r.status, 207);
    assert_zoho_item(&r.item(0), "MANDATORY_NOT_FOUND", &["api_name", "json_path"]);
    assert_eq!(r.item(0)["details"], json!({"api_name": "id", "json_path": "$.data[0].id"}));
    for i in 1..=3 {
        assert_zoho_item(&r.item(i), "INVALID_DATA", &["api_name", "json_path"]);
        assert_eq!(r.item(i)["details"], json!({"api_name": "id", "json_path": format!("$.data[{i}].id")}));
    }
    assert_zoho_item(&r.item(4), "INVALID_DATA", &["api_name", "json_path", "expected_data_type"]);
    assert_eq!(r.item(4)["details"]["expected_data_type"], "bigint");
    // A numeric id is accepted.
    assert_eq!(r.item(5)["details"], json!({"id": DEAL3}));
    assert_eq!(emu.relation_count(), 1);
}

#[test]
fn non_object_record_is_invalid_data_at_its_index() {
    let emu = start();
    let r =
        put(&emu, CASE_A, Some(BOTH), &json!({"data": [{"External_Deal_ID": "extdeal3"}, "extdeal2", 7, null, []]}));
    assert_eq!(r.status, 207);
    for i in 1..=4 {
        let item = r.item(i);
        assert_zoho_item(&item, "INVALID_DATA", &["json_path", "expected_data_type"]);
        assert_eq!(item["details"], json!({"json_path": format!("$.data[{i}]"), "expected_data_type": "jsonobject"}));
    }
}

#[test]
fn unknown_relation_field_is_invalid_data_and_links_nothing() {
    let emu = start();
    let body = json!({"data": [
        {"External_Deal_ID": "extdeal3", "Contact_Role": ROLE, "Bogus": 1},
        {"External_Deal_ID": "extdeal2", "Deal_Name": "renamed"},
    ]});
    let r = put(&emu, CASE_A, Some(BOTH), &body);
    assert_eq!(r.status, 400);
    assert_zoho_item(&r.item(0), "INVALID_DATA", &["api_name", "json_path"]);
    assert_eq!(r.item(0)["details"], json!({"api_name": "Bogus", "json_path": "$.data[0].Bogus"}));
    assert_eq!(r.item(1)["details"], json!({"api_name": "Deal_Name", "json_path": "$.data[1].Deal_Name"}));
    assert_eq!(emu.relation_count(), 0);
}

#[test]
fn id_next_to_the_related_external_field_is_ignored() {
    let emu = start();
    let r = put(&emu, CASE_A, Some(BOTH), &json!({"data": [{"External_Deal_ID": "extdeal3", "id": DEAL2}]}));
    assert_eq!(r.status, 200);
    assert_eq!(r.item(0)["details"], json!({"External_Deal_ID": "extdeal3", "id": DEAL3}));
    assert_eq!(emu.related("Contacts", CONTACT, "Deals"), vec![(DEAL3.to_owned(), Map::new())]);
}

#[test]
fn mixed_results_are_207_in_input_order() {
    let emu = start();
    let body = json!({"data": [
        {"External_Deal_ID": "nope"},
        {"External_Deal_ID": "extdeal3", "Contact_Role": "r3"},
        {"Contact_Role": "x"},
        {"External_Deal_ID": "extdeal2", "Contact_Role": "r2"},
        "junk",
    ]});
    let r = put(&emu, CASE_A, Some(BOTH), &body);
    assert_eq!(r.status, 207);
    let v = r.json();
    let outcome: Vec<(&str, &str)> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["status"].as_str().unwrap(), i["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcome,
        [
            ("error", "INVALID_DATA"),
            ("success", "SUCCESS"),
            ("error", "MANDATORY_NOT_FOUND"),
            ("success", "SUCCESS"),
            ("error", "INVALID_DATA"),
        ]
    );
    assert_eq!(v["data"][1]["details"], json!({"External_Deal_ID": "extdeal3", "id": DEAL3}));
    assert_eq!(v["data"][3]["details"], json!({"External_Deal_ID": "extdeal2", "id": DEAL2}));
    let mut linked = emu.related("Contacts", CONTACT, "Deals");
    linked.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(linked, vec![(DEAL3.to_owned(), role("r3")), (DEAL2.to_owned(), role("r2"))]);
}

#[test]
fn status_is_200_when_all_succeed_and_400_with_data_when_all_fail() {
    let emu = start();
    let ok = put(
        &emu,
        CASE_A,
        Some(BOTH),
        &json!({"data": [{"External_Deal_ID": "extdeal3"}, {"External_Deal_ID": "extdeal2"}]}),
    );
    assert_eq!(ok.status, 200);
    assert!(
        ok.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "success" && i["message"] == "relation added")
    );
    let bad = put(&emu, CASE_A, Some(BOTH), &json!({"data": [{"External_Deal_ID": "x"}, {"Contact_Role": "y"}]}));
    assert_eq!(bad.status, 400);
    let v = bad.json();
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["data"]);
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_eq!(emu.relation_count(), 2);
}

// ---------------------------------------------------------------------------------------------------------
// The seed page's cases and the state they leave.

#[test]
fn case_a_returns_the_sample_and_links_with_the_role() {
    let emu = start();
    for version in ["v2", "v2.1", "v5", "v8"] {
        let r = put(&emu, &format!("/crm/{version}/Contacts/extcontact3/Deals"), Some(BOTH), &sample_body());
        assert_eq!((r.status, r.text().as_str()), (200, SAMPLE_RESPONSE), "{version}");
    }
    assert_eq!(emu.related("Contacts", CONTACT, "Deals"), vec![(DEAL3.to_owned(), role(ROLE))]);
    assert_eq!(emu.relation_count(), 1);
    assert_eq!(
        relations(&emu),
        vec![
            json!({"a": {"module": "Contacts", "id": CONTACT}, "b": {"module": "Deals", "id": DEAL3}, "fields": {"Contact_Role": ROLE}})
        ]
    );
}

#[test]
fn case_b_record_id_and_related_external_returns_the_same() {
    let emu = start();
    let body = json!({"data": [{"Contact_Role": ROLE, "External_Deal_ID": "extdeal3"}]});
    let r = put(&emu, &format!("/crm/v7/Contacts/{CONTACT}/Deals"), Some("Deals.External_Deal_ID"), &body);
    assert_eq!((r.status, r.text().as_str()), (200, SAMPLE_RESPONSE));
    assert_eq!(emu.related("Contacts", CONTACT, "Deals"), vec![(DEAL3.to_owned(), role(ROLE))]);
}

#[test]
fn case_c_base_external_and_related_id_answers_the_id_only() {
    let emu = start();
    let body = json!({"data": [{"id": DEAL2, "Contact_Role": ROLE}]});
    let r = put(&emu, CASE_A, Some("Contacts.External_Contact_ID"), &body);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"data": [{"code": "SUCCESS", "details": {"id": DEAL2}, "message": "relation added", "status": "success"}]})
    );
    assert_eq!(emu.related("Contacts", CONTACT, "Deals"), vec![(DEAL2.to_owned(), role(ROLE))]);
}

#[test]
fn plain_ids_without_header_link_like_the_generic_api() {
    let emu = start();
    let body = json!({"data": [{"id": DEAL3, "Contact_Role": ROLE}, {"id": DEAL2}]});
    let r = put(&emu, &format!("/crm/v5/Contacts/{CONTACT}/Deals"), None, &body);
    assert_eq!(r.status, 200);
    assert_eq!(r.item(0)["details"], json!({"id": DEAL3}));
    assert_eq!(r.item(1)["details"], json!({"id": DEAL2}));
    let mut linked = emu.related("Contacts", CONTACT, "Deals");
    linked.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(linked, vec![(DEAL3.to_owned(), role(ROLE)), (DEAL2.to_owned(), Map::new())]);
    assert_eq!(relations(&emu).len(), 2);
}

#[test]
fn single_record_form_takes_the_key_from_the_path() {
    let emu = start();
    let r = put(
        &emu,
        "/crm/v5/Contacts/extcontact3/Deals/extdeal3",
        Some(BOTH),
        &json!({"data": [{"Contact_Role": ROLE}]}),
    );
    assert_eq!((r.status, r.text().as_str()), (200, SAMPLE_RESPONSE));
    let r = put(&emu, &format!("/crm/v5/Contacts/{CONTACT}/Deals/{DEAL2}"), None, &json!({}));
    assert_eq!(r.status, 200);
    assert_eq!(r.item(0)["details"], json!({"id": DEAL2}));
    assert_eq!(emu.relation_count(), 2);
}

#[test]
fn relinking_updates_the_relation_fields_and_keeps_one_relation() {
    let emu = start();
    assert_eq!(put_sample(&emu).status, 200);
    let before = emu.state();
    assert_eq!(put_sample(&emu).text(), SAMPLE_RESPONSE);
    assert_eq!(emu.state()["relations"], before["relations"], "the same PUT again changes nothing");
    let r = put(&emu, CASE_A, Some(BOTH), &json!({"data": [{"External_Deal_ID": "extdeal3", "Contact_Role": "r2"}]}));
    assert_eq!(r.status, 200);
    assert_eq!(emu.related("Contacts", CONTACT, "Deals"), vec![(DEAL3.to_owned(), role("r2"))]);
    // Relinking from the other side is the same relation.
    let r = put(
        &emu,
        "/crm/v5/Deals/extdeal3/Contacts",
        Some("Deals.External_Deal_ID,Contacts.External_Contact_ID"),
        &json!({"data": [{"External_Contact_ID": "extcontact3", "Contact_Role": "r3"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.item(0)["details"], json!({"External_Contact_ID": "extcontact3", "id": CONTACT}));
    assert_eq!(emu.relation_count(), 1);
    assert_eq!(emu.related("Contacts", CONTACT, "Deals"), vec![(DEAL3.to_owned(), role("r3"))]);
    // Relinking without relation fields keeps them (an update, not a replacement).
    assert_eq!(put(&emu, CASE_A, Some(BOTH), &json!({"data": [{"External_Deal_ID": "extdeal3"}]})).status, 200);
    assert_eq!(emu.related("Contacts", CONTACT, "Deals"), vec![(DEAL3.to_owned(), role("r3"))]);
    assert_eq!(emu.relation_count(), 1);
}

#[test]
fn relations_are_visible_from_both_sides() {
    let emu = start();
    assert_eq!(put_sample(&emu).status, 200);
    assert_eq!(emu.related("Deals", DEAL3, "Contacts"), vec![(CONTACT.to_owned(), role(ROLE))]);
    assert!(emu.related("Deals", DEAL2, "Contacts").is_empty());
    // Over the API, from the Deal's side.
    let r = api(
        &emu,
        "GET",
        "/crm/v5/Deals/extdeal3/Contacts?fields=Last_Name,External_Contact_ID",
        Some("Deals.External_Deal_ID"),
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let row = &r.json()["data"][0];
    assert_eq!(row["id"], CONTACT);
    assert_eq!(row["Last_Name"], "Contact 3");
    assert_eq!(row["External_Contact_ID"], "extcontact3");
    assert_eq!(row["Contact_Role"], ROLE);
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 1);
}

#[test]
fn percent_encoded_external_values_address_the_right_record() {
    let emu = start();
    let odd = "ERP/42 ?#%&+ é€😀";
    let ids = emu
        .insert_records(
            "Contacts",
            vec![
                obj(json!({"External_Contact_ID": odd})),
                obj(json!({"External_Contact_ID": "ERP"})),
                obj(json!({"External_Contact_ID": "42 ?#%&+ é€😀"})),
                obj(json!({"External_Contact_ID": "ERP%2F42 ?#%&+ é€😀"})),
            ],
        )
        .unwrap();
    let deal = emu.insert_records("Deals", vec![obj(json!({"External_Deal_ID": "d/é 1?"}))]).unwrap().remove(0);
    let encoded = zcrm_extid::url::encode_segment(odd);
    assert!(!encoded.contains('/') && !encoded.contains('?') && !encoded.contains('#') && !encoded.contains(' '));
    let body = json!({"data": [{"External_Deal_ID": "d/é 1?", "Contact_Role": "r"}]});
    let r = put(&emu, &format!("/crm/v5/Contacts/{encoded}/Deals"), Some(BOTH), &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.item(0)["details"], json!({"External_Deal_ID": "d/é 1?", "id": deal}));
    assert_eq!(emu.related("Contacts", &ids[0], "Deals"), vec![(deal.clone(), role("r"))]);
    for other in &ids[1..] {
        assert!(emu.related("Contacts", other, "Deals").is_empty());
    }
    // Single-record form: the related value in the last segment is decoded the same way.
    let r = put(
        &emu,
        &format!(
            "/crm/v5/Contacts/{}/Deals/{}",
            zcrm_extid::url::encode_segment("ERP"),
            zcrm_extid::url::encode_segment("d/é 1?")
        ),
        Some(BOTH),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(emu.related("Contacts", &ids[1], "Deals"), vec![(deal, Map::new())]);
    // Unencoded, the `/` splits the path.
    assert_error(
        &put(&emu, "/crm/v5/Contacts/ERP/42/Deals", Some(BOTH), &body),
        400,
        "INVALID_DATA",
        &["resource_path_index"],
    );
}

#[test]
fn x_external_pair_order_and_spaces_do_not_matter() {
    let emu = start();
    for header in [
        "Deals.External_Deal_ID,Contacts.External_Contact_ID",
        "Contacts.External_Contact_ID, Deals.External_Deal_ID",
        "Deals.External_Deal_ID , Contacts.External_Contact_ID",
        " Contacts.External_Contact_ID,\tDeals.External_Deal_ID ",
    ] {
        let r = put(&emu, CASE_A, Some(header), &sample_body());
        assert_eq!((r.status, r.text().as_str()), (200, SAMPLE_RESPONSE), "{header:?}");
    }
    assert_eq!(emu.relation_count(), 1);
}
