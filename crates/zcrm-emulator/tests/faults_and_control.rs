//! Scripted faults (`faults.rs`), from the library API and from `POST /__emulator/faults`, and the control
//! routes (`control.rs`).

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Map, Value, json};
use zcrm_emulator::{Action, Emulator, EmulatorConfig, Fault, Seed, Stats, Target};
use zcrm_extid::Method;
use zcrm_extid::transport::{HttpRequest, Transport, TransportConfig, UreqTransport};

fn relation_count(emu: &Emulator) -> usize {
    emu.relation_count()
}

fn without_stats(mut state: Value) -> Value {
    state.as_object_mut().unwrap().remove("stats");
    state
}

fn status_fault(status: u16, body: Option<&str>, content_type: Option<&str>, headers: &[(&str, &str)]) -> Fault {
    Fault::new(Action::Status {
        status,
        body: body.map(str::to_owned),
        content_type: content_type.map(str::to_owned),
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
    })
}

fn push_json(emu: &Emulator, fault: Value) {
    let r = control(emu, "POST", "faults", Some(&fault));
    assert_eq!(r.status, 200, "{}", r.text());
}

// ---------------------------------------------------------------------------------------------------------
// Status faults.

#[test]
fn status_500_is_a_zoho_internal_error_and_strikes_once() {
    let emu = start();
    emu.push_fault(Fault::status(500));
    let r = put_sample(&emu);
    let v = assert_error(&r, 500, "INTERNAL_ERROR", &[]);
    assert!(v["message"].as_str().unwrap().starts_with("Internal server error occurred."));
    assert_eq!(relation_count(&emu), 0, "a `before` fault is not processed");
    assert_alive(&emu);
    assert_eq!(emu.stats().faults_injected, 1);
    // The same from JSON.
    push_json(&emu, json!({"kind": "status", "status": 500}));
    assert_error(&put_sample(&emu), 500, "INTERNAL_ERROR", &[]);
    assert_alive(&emu);
}

#[test]
fn status_429_is_too_many_requests() {
    let emu = start();
    emu.push_fault(Fault::status(429));
    push_json(&emu, json!({"kind": "status", "status": 429}));
    for _ in 0..2 {
        assert_error(&put_sample(&emu), 429, "TOO_MANY_REQUESTS", &[]);
    }
    assert_alive(&emu);
    assert_eq!(emu.stats().rejected_concurrency, 0, "a fault is not a limit");
}

#[test]
fn gateway_statuses_answer_an_html_page() {
    let emu = start();
    emu.push_fault(Fault::status(502));
    push_json(&emu, json!({"kind": "status", "status": 504}));
    for status in [502, 504] {
        let r = put_sample(&emu);
        assert_eq!(r.status, status);
        assert_eq!(r.header("content-type"), Some("text/html"));
        assert!(r.text().starts_with("<html>") && r.text().contains(&status.to_string()), "{}", r.text());
    }
    assert_alive(&emu);
}

#[test]
fn custom_body_content_type_and_headers() {
    let emu = start();
    emu.push_fault(status_fault(200, Some("{\"data\": ["), Some("application/x-broken"), &[]));
    push_json(
        &emu,
        json!({"kind": "status", "status": 503, "body": "down", "content_type": "text/plain", "headers": [["Retry-After", "7"], ["X-Trace", "t1"]]}),
    );
    let r = put_sample(&emu);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"{\"data\": ["[..]));
    assert_eq!(r.header("content-type"), Some("application/x-broken"));
    let r = put_sample(&emu);
    assert_eq!((r.status, r.text().as_str()), (503, "down"));
    assert_eq!(
        (r.header("content-type"), r.header("retry-after"), r.header("x-trace")),
        (Some("text/plain"), Some("7"), Some("t1"))
    );
    // Default content type of a custom body.
    emu.push_fault(status_fault(429, Some("{}"), None, &[("Retry-After", "1")]));
    let r = put_sample(&emu);
    assert_eq!(
        (r.status, r.header("content-type"), r.header("retry-after")),
        (429, Some("application/json;charset=UTF-8"), Some("1"))
    );
    assert_alive(&emu);
}

#[test]
fn count_and_forever() {
    let emu = start();
    emu.push_fault(Fault::status(500).times(2));
    assert_eq!([put_sample(&emu).status, put_sample(&emu).status, put_sample(&emu).status], [500, 500, 200]);
    push_json(&emu, json!({"kind": "status", "status": 503, "count": 3}));
    assert_eq!((0..4).map(|_| put_sample(&emu).status).collect::<Vec<_>>(), [503, 503, 503, 200]);
    emu.push_fault(Fault::status(500).forever());
    assert!((0..10).all(|_| put_sample(&emu).status == 500));
    assert_eq!(control(&emu, "GET", "faults", None).json().as_array().unwrap().len(), 1);
    emu.clear_faults();
    assert_alive(&emu);
    push_json(&emu, json!({"kind": "status", "status": 502, "forever": true}));
    assert!((0..5).all(|_| put_sample(&emu).status == 502));
    assert_eq!(control(&emu, "DELETE", "faults", None).json(), json!({"cleared": true}));
    assert_alive(&emu);
    assert_eq!(emu.stats().faults_injected, 2 + 3 + 10 + 5);
}

/// `n` metadata calls on one keep-alive connection; their statuses.
fn org_statuses(emu: &Emulator, n: usize) -> Vec<u16> {
    let mut conn = Conn::open(emu);
    let auth = bearer(TOKEN);
    let req = request_bytes("GET", "/crm/v5/org", &[("Authorization", &auth)], b"");
    (0..n)
        .map(|_| {
            conn.send(&req);
            conn.response().status
        })
        .collect()
}

#[test]
fn probability_strikes_a_share_of_calls() {
    let emu = start();
    emu.push_fault(Fault::status(500).forever().with_probability(0.3));
    let n = 300;
    let hits = org_statuses(&emu, n).into_iter().filter(|s| *s == 500).count();
    // Expected 90, standard deviation about 8: very loose bounds.
    assert!((40..=150).contains(&hits), "{hits} of {n}");
    assert_eq!(emu.stats().faults_injected, hits as u64);
    // A miss does not use up the count.
    emu.clear_faults();
    push_json(&emu, json!({"kind": "status", "status": 503, "count": 5, "probability": 0.5}));
    let struck = org_statuses(&emu, 200).into_iter().filter(|s| *s == 503).count();
    assert_eq!(struck, 5, "exactly `count` strikes, however many misses");
}

#[test]
fn token_faults_hit_only_the_token_endpoint() {
    let emu = start();
    emu.push_fault(Fault::status(500).on(Target::Token));
    assert_alive(&emu);
    let r = token_request(&emu, &token_form());
    assert_error(&r, 500, "INTERNAL_ERROR", &[]);
    mint(&emu);
    push_json(&emu, json!({"kind": "status", "status": 503, "target": "token", "count": 2}));
    assert_alive(&emu);
    assert_eq!(token_request(&emu, &token_form()).status, 503);
    assert_eq!(token_request(&emu, &token_form()).status, 503);
    mint(&emu);
    // `all` hits both.
    emu.push_fault(Fault::status(500).on(Target::All).times(2));
    assert_eq!(token_request(&emu, &token_form()).status, 500);
    assert_eq!(put_sample(&emu).status, 500);
    assert_alive(&emu);
    // An API fault leaves the token endpoint alone.
    emu.push_fault(Fault::status(500));
    mint(&emu);
    assert_eq!(put_sample(&emu).status, 500);
    let stats = emu.stats();
    assert_eq!((stats.tokens_issued, stats.faults_injected), (3, 1 + 2 + 2 + 1));
}

// ---------------------------------------------------------------------------------------------------------
// Dropped connections, `phase: after`, latency.

#[test]
fn drop_closes_the_connection_without_a_byte() {
    let emu = start();
    emu.push_fault(Fault::drop_connection());
    assert!(send_raw(&emu, &sample_request()).is_empty(), "zero bytes come back");
    assert_eq!(relation_count(&emu), 0);
    // A real client sees a transport error.
    push_json(&emu, json!({"kind": "drop"}));
    let transport = UreqTransport::new(&TransportConfig::default());
    let url = format!("{}{CASE_A}", emu.base_url());
    let headers = [("Authorization", bearer(TOKEN)), ("X-EXTERNAL", BOTH.to_owned())];
    let body = sample_body().to_string();
    let request = HttpRequest { method: Method::Put, url: &url, headers: &headers, body: body.as_bytes() };
    let err = transport.send(request).expect_err("no response");
    assert!(matches!(err, zcrm_extid::Error::Transport { .. }), "{err:?}");
    // The journal records a dropped request as status 0.
    assert_eq!(emu.journal().iter().map(|e| e.status).collect::<Vec<_>>(), [0, 0]);
    let ok = transport.send(request).expect("the next call is answered");
    assert_eq!((ok.status, ok.body.as_slice()), (200, SAMPLE_RESPONSE.as_bytes()));
}

#[test]
fn drop_on_a_keep_alive_connection_closes_it_after_earlier_answers() {
    let emu = start();
    let mut conn = Conn::open(&emu);
    let auth = bearer(TOKEN);
    let body = sample_body().to_string();
    let req = request_bytes("PUT", CASE_A, &[("Authorization", &auth), ("X-EXTERNAL", BOTH)], body.as_bytes());
    conn.send(&req);
    assert_eq!(conn.response().status, 200);
    emu.push_fault(Fault::drop_connection());
    conn.send(&req);
    assert!(conn.at_eof());
}

#[test]
fn phase_after_changes_the_state_then_replaces_or_drops_the_answer() {
    let emu = start();
    emu.push_fault(Fault::status(500).after());
    assert_error(&put_sample(&emu), 500, "INTERNAL_ERROR", &[]);
    assert_eq!(emu.related("Contacts", CONTACT, "Deals").len(), 1, "the PUT was processed");
    push_json(&emu, json!({"kind": "drop", "phase": "after"}));
    let body = json!({"data": [{"External_Deal_ID": "extdeal2", "Contact_Role": "r"}]});
    let auth = bearer(TOKEN);
    let req = request_bytes(
        "PUT",
        CASE_A,
        &[("Authorization", &auth), ("X-EXTERNAL", BOTH), ("Connection", "close")],
        body.to_string().as_bytes(),
    );
    assert!(send_raw(&emu, &req).is_empty());
    assert_eq!(relation_count(&emu), 2, "the lost response's change is in the state");
    assert_eq!(emu.journal().last().unwrap().status, 0);
    // Retrying is idempotent.
    assert_eq!(put(&emu, CASE_A, Some(BOTH), &body).status, 200);
    assert_eq!(relation_count(&emu), 2);
}

#[test]
fn latency_faults_fixed_and_range() {
    let emu = start();
    emu.push_fault(Fault::latency(300));
    let t = Instant::now();
    assert_eq!(put_sample(&emu).status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300), "{:?}", t.elapsed());
    push_json(&emu, json!({"kind": "latency", "ms": 150, "max_ms": 250, "count": 2}));
    for _ in 0..2 {
        let t = Instant::now();
        assert_eq!(put_sample(&emu).status, 200);
        assert!(t.elapsed() >= Duration::from_millis(150), "{:?}", t.elapsed());
    }
    assert!(control(&emu, "GET", "faults", None).json().as_array().unwrap().is_empty());
    // A latency fault combines with a status fault on the same request.
    emu.push_fault(Fault::latency(200));
    emu.push_fault(Fault::status(503));
    let t = Instant::now();
    assert_eq!(put_sample(&emu).status, 503);
    assert!(t.elapsed() >= Duration::from_millis(200));
    assert_eq!(emu.stats().faults_injected, 5);
}

// ---------------------------------------------------------------------------------------------------------
// The fault queue over HTTP.

#[test]
fn fault_queue_over_http() {
    let emu = start();
    let r = control(
        &emu,
        "POST",
        "faults",
        Some(&json!([{"kind": "status", "status": 500}, {"kind": "drop", "target": "token"}])),
    );
    assert_eq!(r.json(), json!({"queued": 2}));
    let queue = control(&emu, "GET", "faults", None).json();
    assert_eq!(queue.as_array().unwrap().len(), 2);
    assert_eq!(queue[0]["kind"], "status");
    assert_eq!(queue[0]["status"], 500);
    assert_eq!(queue[0]["count"], 1);
    assert_eq!(queue[1]["kind"], "drop");
    assert_eq!(queue[1]["target"], "token");
    for bad in
        [json!({"kind": "explode"}), json!({"kind": "status"}), json!({"status": 500}), json!([{"kind": "drop"}, 3])]
    {
        let r = control(&emu, "POST", "faults", Some(&bad));
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.json()["error"].as_str().unwrap().contains("invalid fault"));
    }
    let r = call(&emu, "POST", "/__emulator/faults", &[], b"not json");
    assert_eq!(r.status, 400);
    assert_eq!(control(&emu, "GET", "faults", None).json().as_array().unwrap().len(), 2, "bad faults are not queued");
    assert_eq!(control(&emu, "DELETE", "faults", None).status, 200);
    assert_eq!(control(&emu, "GET", "faults", None).json(), json!([]));
}

// ---------------------------------------------------------------------------------------------------------
// Control routes.

#[test]
fn get_state_dumps_modules_relations_and_stats() {
    let emu = start();
    assert_eq!(put_sample(&emu).status, 200);
    let state = control(&emu, "GET", "state", None).json();
    assert_eq!(state["modules"]["Contacts"]["records"][0]["External_Contact_ID"], "extcontact3");
    assert_eq!(state["modules"]["Deals"]["external_fields"], json!(["External_Deal_ID"]));
    assert_eq!(state["relations"].as_array().unwrap().len(), 1);
    assert_eq!(state["stats"]["api_calls"], 1);
    assert!(
        state["related_lists"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["module"] == "Contacts" && l["api_name"] == "Deals")
    );
    assert_eq!(state, emu.state(), "the same dump from the library");
}

#[test]
fn reset_restores_the_seed_and_clears_journal_faults_and_stats() {
    let emu = start();
    let initial = without_stats(emu.state());
    assert_eq!(put_sample(&emu).status, 200);
    emu.insert_records("Deals", vec![json!({"External_Deal_ID": "extra"}).as_object().unwrap().clone()]).unwrap();
    emu.revoke_refresh_token(Emulator::default_credentials().2);
    emu.push_fault(Fault::status(500).forever());
    assert_ne!(without_stats(emu.state()), initial);
    assert_eq!(control(&emu, "POST", "reset", None).json(), json!({"reset": true}));
    assert_eq!(without_stats(emu.state()), initial);
    assert!(emu.journal().is_empty());
    assert_eq!(control(&emu, "GET", "faults", None).json(), json!([]));
    assert_eq!(emu.stats(), Stats::default());
    mint(&emu);
    assert_alive(&emu);
    // The library's reset does the same.
    emu.push_fault(Fault::status(500).forever());
    emu.reset();
    assert_eq!(without_stats(emu.state()), initial);
    assert_eq!(emu.stats(), Stats::default());
    assert_alive(&emu);
}

fn small_seed() -> Value {
    json!({
        "modules": {
            "Contacts": {"external_fields": ["Ext_C"], "records": [{"id": "5001", "Ext_C": "c-1"}]},
            "Deals": {"external_fields": ["Ext_D"], "records": [{"id": "6001", "Ext_D": "d-1"}]}
        },
        "related_lists": [{"module": "Contacts", "api_name": "Deals", "relation_fields": ["Role"]}],
        "access_tokens": [{"token": "1000.small"}]
    })
}

#[test]
fn post_seed_replaces_the_state_and_reset_returns_to_it() {
    let emu = start();
    assert_eq!(control(&emu, "POST", "seed", Some(&small_seed())).json(), json!({"loaded": true}));
    let state = emu.state();
    assert_eq!(state["modules"].as_object().unwrap().keys().collect::<Vec<_>>(), ["Contacts", "Deals"]);
    assert_error(&put_sample(&emu), 401, "INVALID_TOKEN", &[]);
    let body = json!({"data": [{"Ext_D": "d-1", "Role": "x"}]});
    let r = api_as(
        &emu,
        "1000.small",
        "PUT",
        "/crm/v5/Contacts/c-1/Deals",
        Some("Contacts.Ext_C,Deals.Ext_D"),
        body.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.item(0)["details"], json!({"Ext_D": "d-1", "id": "6001"}));
    control(&emu, "POST", "reset", None);
    assert_eq!(emu.relation_count(), 0);
    assert_eq!(
        emu.find_external("Contacts", "Ext_C", "c-1").as_deref(),
        Some("5001"),
        "reset goes back to the loaded seed"
    );
    // The library's load_seed.
    emu.load_seed(Seed::default_seed()).unwrap();
    assert_alive(&emu);
}

#[test]
fn bad_seed_is_400_and_leaves_the_state_unchanged() {
    let emu = start();
    assert_eq!(put_sample(&emu).status, 200);
    let before = without_stats(emu.state());
    let mut unknown_module = small_seed();
    unknown_module["related_lists"][0]["module"] = json!("Nope");
    let mut duplicate_external = small_seed();
    duplicate_external["modules"]["Deals"]["records"] = json!([{"Ext_D": "same"}, {"Ext_D": "same"}]);
    let mut unknown_key = small_seed();
    unknown_key["colour"] = json!("blue");
    let mut bad_relation = small_seed();
    bad_relation["relations"] =
        json!([{"module": "Contacts", "record": "5001", "related_list": "Deals", "related": "9"}]);
    let mut bad_name = small_seed();
    bad_name["modules"]["Contacts"]["external_fields"] = json!(["Ext C"]);
    for seed in [unknown_module, duplicate_external, unknown_key, bad_relation, bad_name] {
        let r = control(&emu, "POST", "seed", Some(&seed));
        assert_eq!(r.status, 400, "{seed}");
        assert!(r.json()["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    for raw in [&b"not json"[..], b""] {
        assert_eq!(call(&emu, "POST", "/__emulator/seed", &[], raw).status, 400);
    }
    assert_eq!(without_stats(emu.state()), before);
    assert_alive(&emu);
    assert!(
        emu.load_seed(
            Seed::from_json(&json!({"related_lists": [{"module": "X", "api_name": "Y"}]}).to_string()).unwrap()
        )
        .is_err()
    );
    assert_eq!(without_stats(emu.state()), before);
}

#[test]
fn post_records_adds_records_and_answers_their_ids() {
    let emu = start();
    let r = control(
        &emu,
        "POST",
        "records/Deals",
        Some(
            &json!({"data": [{"External_Deal_ID": "new-1", "Deal_Name": "N1"}, {"id": "111111000000200001", "External_Deal_ID": "new-2"}]}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let ids = r.json()["ids"].clone();
    assert_eq!(ids.as_array().unwrap().len(), 2);
    assert_eq!(ids[1], "111111000000200001");
    assert_eq!(emu.find_external("Deals", "External_Deal_ID", "new-1").as_deref(), ids[0].as_str());
    let linked = put(&emu, CASE_A, Some(BOTH), &json!({"data": [{"External_Deal_ID": "new-1"}]}));
    assert_eq!(linked.item(0)["details"]["id"], ids[0]);
    // Errors: unknown module, duplicate external value, non-object, bad id, no data.
    for (route, body) in [
        ("records/Nope", json!({"data": [{}]})),
        ("records/Deals", json!({"data": [{"External_Deal_ID": "extdeal3"}]})),
        ("records/Deals", json!({"data": ["x"]})),
        ("records/Deals", json!({"data": [{"id": "abc"}]})),
        ("records/Deals", json!({"rows": []})),
    ] {
        assert_eq!(control(&emu, "POST", route, Some(&body)).status, 400, "{route} {body}");
    }
}

#[test]
fn failed_record_batch_adds_nothing() {
    let emu = start();
    let before = without_stats(emu.state());
    let r = control(
        &emu,
        "POST",
        "records/Deals",
        Some(&json!({"data": [{"External_Deal_ID": "fresh"}, {"External_Deal_ID": "extdeal3"}]})),
    );
    assert_eq!(r.status, 400);
    assert_eq!(emu.find_external("Deals", "External_Deal_ID", "fresh"), None, "a 400 leaves no half-done batch");
    let fresh = json!({"External_Deal_ID": "fresh2"}).as_object().unwrap().clone();
    let dup = json!({"External_Deal_ID": "fresh2"}).as_object().unwrap().clone();
    assert!(emu.insert_records("Deals", vec![fresh, dup]).is_err());
    assert_eq!(emu.find_external("Deals", "External_Deal_ID", "fresh2"), None);
    assert_eq!(without_stats(emu.state()), before);
}

#[test]
fn seed_add_records_builds_a_usable_module() {
    let mut seed = Seed::default_seed();
    seed.add_records("Deals", "External_Deal_ID", "bulk-", 3);
    seed.add_records("Widgets", "External_Widget_ID", "w-", 2);
    seed.related_lists.push(serde_json::from_value(json!({"module": "Widgets", "api_name": "Deals"})).unwrap());
    let emu = start_with(EmulatorConfig { seed, ..EmulatorConfig::default() });
    assert!(emu.find_external("Deals", "External_Deal_ID", "bulk-2").is_some());
    let r = put(
        &emu,
        "/crm/v5/Widgets/w-1/Deals",
        Some("Widgets.External_Widget_ID,Deals.External_Deal_ID"),
        &json!({"data": [{"External_Deal_ID": "bulk-0"}]}),
    );
    assert_eq!(r.status, 200, "a module created by add_records is supported and editable: {}", r.text());
}

#[test]
fn journal_redacts_the_token() {
    let emu = start();
    let minted = mint(&emu);
    assert_eq!(put_sample(&emu).status, 200);
    let r = api_as(&emu, &minted, "PUT", "/crm/v5/Contacts/extcontact3/Deals?x=1", Some(BOTH), b"{}");
    assert_eq!(r.status, 400);
    let journal = control(&emu, "GET", "journal", None);
    assert_eq!(journal.status, 200);
    let entries = journal.json();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[1]["method"], "PUT");
    assert_eq!(entries[1]["path"], CASE_A);
    assert_eq!(entries[1]["status"], 200);
    assert_eq!(entries[1]["body"], sample_body().to_string());
    assert_eq!(entries[2]["query"], "x=1");
    assert_eq!(entries[2]["status"], 400);
    for e in &entries[1..] {
        let auth: Vec<&Value> = e["headers"].as_array().unwrap().iter().filter(|h| h[0] == "authorization").collect();
        assert_eq!(auth, [&json!(["authorization", "Zoho-oauthtoken ***"])]);
    }
    let text = journal.text();
    assert!(!text.contains(TOKEN) && !text.contains(&minted), "a token leaked into the journal");
    assert!(!format!("{:?}", emu.journal()).contains(&minted));
    assert_eq!(control(&emu, "DELETE", "journal", None).json(), json!({"cleared": true}));
    assert_eq!(control(&emu, "GET", "journal", None).json(), json!([]));
}

#[test]
fn journal_capacity_keeps_the_newest() {
    let emu = start_with(EmulatorConfig { journal_capacity: 2, ..EmulatorConfig::default() });
    for path in ["/crm/v5/org", "/crm/v5/users", CASE_A] {
        api(&emu, "GET", path, None, b"");
    }
    let paths: Vec<String> = emu.journal().into_iter().map(|e| e.path).collect();
    assert_eq!(paths, ["/crm/v5/users", CASE_A]);
}

#[test]
fn expire_tokens_over_http() {
    let emu = start();
    let minted = mint(&emu);
    assert_eq!(control(&emu, "POST", "expire-tokens", None).json(), json!({"expired": true}));
    for t in [TOKEN, minted.as_str()] {
        let r = api_as(&emu, t, "PUT", CASE_A, Some(BOTH), sample_body().to_string().as_bytes());
        assert_error(&r, 401, "INVALID_TOKEN", &[]);
    }
}

#[test]
fn config_get_patch_and_bad_patches() {
    let emu = start();
    let config = control(&emu, "GET", "config", None).json();
    let mut keys: Vec<&str> = config.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "api_domain",
            "concurrency",
            "credits",
            "latency_max_ms",
            "latency_ms",
            "page_token_ttl_secs",
            "sub_concurrency",
            "token_lifetime_secs",
            "token_throttle",
            "token_throttle_window_secs"
        ]
    );
    let r = control(&emu, "PATCH", "config", Some(&json!({"sub_concurrency": 3, "latency_max_ms": 5})));
    assert_eq!((r.json()["sub_concurrency"].clone(), r.json()["latency_max_ms"].clone()), (json!(3), json!(5)));
    let good = control(&emu, "GET", "config", None).json();
    for bad in [
        json!({"concurrency": 1, "colour": "blue"}),
        json!({"concurrency": "many"}),
        json!({"latency_ms": -1}),
        json!([1]),
    ] {
        let r = control(&emu, "PATCH", "config", Some(&bad));
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.json()["error"].is_string());
    }
    assert!(
        control(&emu, "PATCH", "config", Some(&json!({"colour": 1}))).json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown setting")
    );
    assert_eq!(control(&emu, "GET", "config", None).json(), good, "a bad patch changes nothing");
    assert_eq!(emu.runtime().concurrency, 20);
}

#[test]
fn unknown_control_routes_are_404() {
    let emu = start();
    for (method, route) in [("GET", "nope"), ("DELETE", "state"), ("PUT", "config"), ("GET", "reset")] {
        let r = control(&emu, method, route, None);
        assert_eq!(r.status, 404, "{method} {route}");
        assert!(r.json()["error"].as_str().unwrap().contains("no control route"));
    }
}

#[test]
fn control_and_token_requests_are_not_api_calls() {
    let emu =
        start_with(EmulatorConfig { credits: Some(2), latency: Duration::from_millis(0), ..EmulatorConfig::default() });
    for route in ["state", "journal", "faults", "config"] {
        assert_eq!(control(&emu, "GET", route, None).status, 200);
    }
    control(&emu, "POST", "expire-tokens", None);
    control(&emu, "DELETE", "journal", None);
    for _ in 0..3 {
        mint(&emu);
    }
    refused_is_not_a_call(&emu);
    let stats = emu.stats();
    assert_eq!((stats.api_calls, stats.credits_used, stats.max_in_flight), (0, 0, 0));
    assert_eq!((stats.tokens_issued, stats.token_errors), (3, 1));
    // Control requests are not journaled; token requests are.
    let journal = emu.journal();
    assert_eq!(journal.len(), 4);
    assert!(journal.iter().all(|e| e.path == "/accounts/oauth/v2/token"));
    // API calls are.
    let minted = mint(&emu);
    assert_eq!(api_as(&emu, &minted, "PUT", CASE_A, Some(BOTH), sample_body().to_string().as_bytes()).status, 200);
    assert_eq!(emu.stats().api_calls, 1);
}

fn refused_is_not_a_call(emu: &Emulator) {
    let r = token_request(emu, &token_form().replace("emulator-client-secret", "x"));
    assert_eq!(r.json()["error"], "invalid_client");
}

#[test]
fn insert_records_from_the_library() {
    let emu = start();
    let mut m = Map::new();
    m.insert("External_Contact_ID".into(), json!("lib-1"));
    let ids = emu.insert_records("Contacts", vec![m]).unwrap();
    assert_eq!(emu.find_external("Contacts", "External_Contact_ID", "lib-1"), Some(ids[0].clone()));
    let r = put(&emu, "/crm/v5/Contacts/lib-1/Deals", Some(BOTH), &sample_body());
    assert_eq!(r.status, 200);
    assert_eq!(emu.related("Deals", DEAL3, "Contacts").len(), 1);
    assert!(emu.insert_records("Nope", vec![Map::new()]).unwrap_err().contains("unknown module"));
}
