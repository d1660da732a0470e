//! The client against the emulator over real HTTP: the seed page's cases, errors, tokens, retries, timeouts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Fault, Target};
use zcrm_extid::{Client, Error, ErrorCode, ErrorKind, Parent, RetryPolicy, UpdateRelated};

const CONTACT: &str = "111111000000085009";
const DEAL3: &str = "111111000000094028";
const DEAL2: &str = "111111000000094040";
const ROLE: &str = "111111000000026002";

fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).unwrap()
}

/// Fast retries so tests do not wait.
fn quick_retries(n: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries: n,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    }
}

fn client(emu: &Emulator) -> Client {
    let (id, secret, refresh) = Emulator::default_credentials();
    Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .retry_policy(quick_retries(3))
        .build()
        .unwrap()
}

fn case_a(records: Vec<Value>) -> UpdateRelated {
    UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "extcontact3").unwrap(), "Deals")
        .related_by_external("External_Deal_ID")
        .records(records)
        .build()
        .unwrap()
}

fn api_puts(emu: &Emulator) -> usize {
    emu.journal().iter().filter(|e| e.method == "PUT").count()
}

#[test]
fn case_a_both_external_links_and_answers_like_the_page() {
    let emu = emulator();
    let r = client(&emu)
        .update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3", "Contact_Role": ROLE})]))
        .unwrap();
    assert_eq!(r.status, 200);
    let o = &r.outcomes[0];
    assert!(o.is_success());
    assert_eq!((o.code(), o.message(), o.id()), ("SUCCESS", "relation added", Some(DEAL3)));
    assert_eq!(o.details()["External_Deal_ID"], "extdeal3");
    let linked = emu.related("Contacts", CONTACT, "Deals");
    assert_eq!(linked.len(), 1);
    assert_eq!((linked[0].0.as_str(), &linked[0].1["Contact_Role"]), (DEAL3, &json!(ROLE)));
}

#[test]
fn case_b_parent_id_related_external() {
    let emu = emulator();
    let req = UpdateRelated::builder("Contacts", Parent::id(CONTACT).unwrap(), "Deals")
        .related_by_external("External_Deal_ID")
        .record(json!({"Contact_Role": ROLE, "External_Deal_ID": "extdeal2"}))
        .build()
        .unwrap();
    let r = client(&emu).update_related(&req).unwrap();
    assert_eq!(r.outcomes[0].id(), Some(DEAL2));
    assert_eq!(emu.related("Deals", DEAL2, "Contacts")[0].0, CONTACT);
    let sent = &emu.journal()[1];
    assert_eq!(sent.path, format!("/crm/v5/Contacts/{CONTACT}/Deals"));
    assert_eq!(sent.header("x-external"), Some("Deals.External_Deal_ID"));
}

#[test]
fn case_c_parent_external_related_id_and_plain_ids() {
    let emu = emulator();
    let c = client(&emu);
    let case_c =
        UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "extcontact3").unwrap(), "Deals")
            .record(json!({"id": DEAL3}))
            .build()
            .unwrap();
    assert_eq!(c.update_related(&case_c).unwrap().outcomes[0].id(), Some(DEAL3));
    let plain = UpdateRelated::builder("Contacts", Parent::id(CONTACT).unwrap(), "Deals")
        .record(json!({"id": DEAL2, "Contact_Role": ROLE}))
        .build()
        .unwrap();
    assert!(c.update_related(&plain).unwrap().all_succeeded());
    assert_eq!(emu.related("Contacts", CONTACT, "Deals").len(), 2);
    let puts: Vec<_> = emu.journal().into_iter().filter(|e| e.method == "PUT").collect();
    assert_eq!(puts[0].header("x-external"), Some("Contacts.External_Contact_ID"));
    assert_eq!(puts[1].header("x-external"), None);
}

#[test]
fn partial_success_is_outcomes_in_input_order() {
    let emu = emulator();
    let r = client(&emu)
        .update_related(&case_a(vec![
            json!({"External_Deal_ID": "nope"}),
            json!({"External_Deal_ID": "extdeal3"}),
            json!({"External_Deal_ID": "extdeal2", "Unknown_Field": 1}),
        ]))
        .unwrap();
    assert_eq!(r.status, 207);
    let codes: Vec<&str> = r.outcomes.iter().map(|o| o.code()).collect();
    assert_eq!(codes, ["INVALID_DATA", "SUCCESS", "INVALID_DATA"]);
    assert_eq!(r.outcomes.iter().map(|o| o.index).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(r.outcomes[0].details()["json_path"], "$.data[0].External_Deal_ID");
    assert_eq!(r.failures().count(), 2);
    // All failed: 400 with a data array is still outcomes, not an error.
    let r = client(&emu).update_related(&case_a(vec![json!({"External_Deal_ID": "x"})])).unwrap();
    assert_eq!(r.status, 400);
    assert!(!r.all_succeeded());
}

#[test]
fn odd_external_values_address_exactly_their_record() {
    let emu = emulator();
    let value = "ERP/7?x=1#frag 100% ü http://evil";
    let mut rec = serde_json::Map::new();
    rec.insert("External_Contact_ID".into(), value.into());
    let id = emu.insert_records("Contacts", vec![rec]).unwrap().remove(0);
    let req = UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", value).unwrap(), "Deals")
        .record(json!({"id": DEAL3}))
        .build()
        .unwrap();
    assert!(client(&emu).update_related(&req).unwrap().all_succeeded());
    assert_eq!(emu.related("Contacts", &id, "Deals").len(), 1);
    assert!(emu.related("Contacts", CONTACT, "Deals").is_empty());
}

#[test]
fn request_level_errors_are_typed() {
    let emu = emulator();
    let c = client(&emu);
    let unknown_parent =
        UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "ghost").unwrap(), "Deals")
            .record(json!({"id": DEAL3}))
            .build()
            .unwrap();
    match c.update_related(&unknown_parent).unwrap_err() {
        Error::Api { status: 400, code: ErrorCode::InvalidData, details, .. } => {
            assert_eq!(details["resource_path_index"], 1);
            assert_eq!(details["api_name"], "External_Contact_ID");
        }
        other => panic!("{other:?}"),
    }
    let bad_module =
        UpdateRelated::builder("Nope", Parent::id("1").unwrap(), "Deals").record(json!({"id": "1"})).build().unwrap();
    let e = c.update_related(&bad_module).unwrap_err();
    assert_eq!((e.code(), e.status(), e.kind()), (ErrorCode::InvalidModule, Some(400), ErrorKind::Api));
    let bad_list = UpdateRelated::builder("Contacts", Parent::id(CONTACT).unwrap(), "Notes")
        .record(json!({"id": "1"}))
        .build()
        .unwrap();
    assert_eq!(c.update_related(&bad_list).unwrap_err().details().unwrap()["resource_path_index"], 2);
    // 4xx request errors are final: one attempt each.
    assert_eq!(api_puts(&emu), 3);
}

#[test]
fn scope_mismatch_names_the_scopes_the_call_needs() {
    let emu = emulator();
    emu.add_access_token("1000.leads.only", &["ZohoCRM.modules.leads.ALL"], None);
    let c = Client::builder().access_token("1000.leads.only").base_url(emu.base_url()).build().unwrap();
    let e = c.update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).unwrap_err();
    assert_eq!((e.code(), e.status()), (ErrorCode::OauthScopeMismatch, Some(401)));
    let text = e.to_string();
    for scope in [
        "ZohoCRM.modules.contacts.UPDATE",
        "ZohoCRM.modules.contacts.WRITE",
        "ZohoCRM.modules.contacts.ALL",
        "ZohoCRM.modules.all",
    ] {
        assert!(text.contains(scope), "{text}");
    }
    emu.add_access_token("1000.contacts.update", &["ZohoCRM.modules.contacts.UPDATE"], None);
    let ok = Client::builder().access_token("1000.contacts.update").base_url(emu.base_url()).build().unwrap();
    assert!(ok.update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).is_ok());
}

#[test]
fn many_threads_cause_one_token_refresh() {
    let emu =
        Emulator::start(EmulatorConfig { latency: Duration::from_millis(20), ..EmulatorConfig::default() }).unwrap();
    let c = client(&emu);
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                c.update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).unwrap()
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap().all_succeeded());
    }
    assert_eq!(emu.stats().tokens_issued, 1);
}

#[test]
fn a_rejected_token_is_refreshed_once_and_the_call_resent() {
    let emu = emulator();
    let c = client(&emu);
    let req = case_a(vec![json!({"External_Deal_ID": "extdeal3"})]);
    c.update_related(&req).unwrap();
    emu.expire_tokens();
    // Several threads hit the same 401; still exactly one more token.
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (c, req) = (c.clone(), req.clone());
            std::thread::spawn(move || c.update_related(&req).unwrap())
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap().all_succeeded());
    }
    assert_eq!(emu.stats().tokens_issued, 2);
}

#[test]
fn short_lived_tokens_are_refreshed_ahead_of_expiry() {
    let emu = Emulator::start(EmulatorConfig { token_lifetime: Duration::from_secs(7), ..EmulatorConfig::default() })
        .unwrap();
    let c = client(&emu);
    let req = case_a(vec![json!({"External_Deal_ID": "extdeal3"})]);
    c.update_related(&req).unwrap();
    // A 7 s token is refreshed a fifth of its life (1.4 s) before it expires, and not handed out in its last
    // tenth: after 6 s the next call refreshes first instead of getting a 401.
    std::thread::sleep(Duration::from_millis(6000));
    c.update_related(&req).unwrap();
    assert_eq!(emu.stats().tokens_issued, 2);
    assert!(emu.journal().iter().all(|e| e.status != 401), "no call was rejected");
}

#[test]
fn a_static_token_that_expired_is_a_final_invalid_token_error() {
    let emu = emulator();
    emu.add_access_token("1000.static", &["ZohoCRM.modules.all"], None);
    let c = Client::builder().access_token("1000.static").base_url(emu.base_url()).build().unwrap();
    emu.expire_tokens();
    let e = c.update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).unwrap_err();
    assert_eq!((e.code(), e.status()), (ErrorCode::InvalidToken, Some(401)));
    assert_eq!(api_puts(&emu), 1);
}

#[test]
fn token_endpoint_errors_are_auth_errors_with_hints() {
    let emu = emulator();
    let c = Client::builder()
        .refresh_token("1000.EMULATORCLIENTID", "wrong-secret", "1000.emulator.refresh.token")
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .build()
        .unwrap();
    let e = c.update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(e.code(), ErrorCode::OauthInvalidClient);
    assert!(e.to_string().contains("data centre"), "{e}");
    assert!(!e.to_string().contains("wrong-secret"));
    assert_eq!(api_puts(&emu), 0, "nothing is sent without a token");

    let (id, secret, refresh) = Emulator::default_credentials();
    emu.revoke_refresh_token(refresh);
    let c = Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .build()
        .unwrap();
    assert_eq!(
        c.update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).unwrap_err().code(),
        ErrorCode::OauthInvalidCode
    );
}

#[test]
fn throttled_token_endpoint_is_reported_once_for_all_waiting_threads() {
    let emu = Emulator::start(EmulatorConfig { token_throttle: 0, ..EmulatorConfig::default() }).unwrap();
    // A slow token endpoint makes every thread arrive while the first refresh is in flight.
    emu.push_fault(Fault::latency(300).on(Target::Token));
    let c = client(&emu);
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                c.update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).unwrap_err()
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().code(), ErrorCode::OauthThrottled);
    }
    let token_calls = emu.journal().iter().filter(|e| e.path.ends_with("/oauth/v2/token")).count();
    assert_eq!(token_calls, 1, "waiting threads share the refresh's result");
}

#[test]
fn transient_failures_are_retried_until_success() {
    let emu = emulator();
    let c = client(&emu);
    emu.push_fault(Fault::status(500));
    emu.push_fault(Fault::status(429));
    emu.push_fault(Fault::drop_connection());
    let r = c.update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).unwrap();
    assert!(r.all_succeeded());
    assert_eq!(api_puts(&emu), 4);
}

#[test]
fn an_html_502_from_a_proxy_keeps_status_and_body_when_retries_run_out() {
    let emu = emulator();
    let (id, secret, refresh) = Emulator::default_credentials();
    let c = Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .retry_policy(quick_retries(2))
        .build()
        .unwrap();
    emu.push_fault(Fault::status(502).forever());
    match c.update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).unwrap_err() {
        Error::UnexpectedResponse { status: 502, body_prefix, content_type, .. } => {
            assert!(body_prefix.starts_with("<html>"));
            assert_eq!(content_type.as_deref(), Some("text/html"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(api_puts(&emu), 3, "first attempt + 2 retries");
}

#[test]
fn lost_responses_are_safe_to_retry_because_put_is_idempotent() {
    let emu = emulator();
    emu.push_fault(Fault::drop_connection().after());
    let r = client(&emu)
        .update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3", "Contact_Role": ROLE})]))
        .unwrap();
    assert!(r.all_succeeded());
    assert_eq!(emu.relation_count(), 1);
}

#[test]
fn retry_after_is_honoured() {
    let emu = emulator();
    emu.push_fault(Fault::new(zcrm_emulator::Action::Status {
        status: 429,
        body: None,
        content_type: None,
        headers: vec![("Retry-After".into(), "1".into())],
    }));
    let started = Instant::now();
    client(&emu).update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[test]
fn a_slow_server_is_a_timeout_error() {
    let emu =
        Emulator::start(EmulatorConfig { latency: Duration::from_millis(600), ..EmulatorConfig::default() }).unwrap();
    let (id, secret, refresh) = Emulator::default_credentials();
    let c = Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .read_timeout(Duration::from_millis(150))
        .max_retries(0)
        .build()
        .unwrap();
    let e = c.update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
}

#[test]
fn a_failing_token_endpoint_is_retried_like_the_api() {
    let emu = emulator();
    emu.push_fault(Fault::status(503).on(Target::Token));
    assert!(client(&emu).update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).is_ok());
    assert_eq!(emu.stats().tokens_issued, 1);
}

#[test]
fn a_refused_connection_is_a_transport_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let c = Client::builder()
        .access_token("t")
        .base_url(format!("http://127.0.0.1:{port}"))
        .max_retries(0)
        .build()
        .unwrap();
    let e = c.update_related(&case_a(vec![json!({"External_Deal_ID": "extdeal3"})])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport);
}

#[test]
fn secrets_never_reach_debug_errors_journal_or_curl() {
    let emu = emulator();
    let c = Client::builder()
        .refresh_token("1000.EMULATORCLIENTID", "emulator-client-secret", "1000.emulator.refresh.token")
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .build()
        .unwrap();
    let req = case_a(vec![json!({"External_Deal_ID": "extdeal3"})]);
    c.update_related(&req).unwrap();
    emu.push_fault(Fault::status(400).forever());
    let e = c.update_related(&req).unwrap_err();
    let journal = serde_json::to_string(&emu.journal()).unwrap();
    let token_reply_token = "1000."; // minted tokens start with this; none may appear in the API journal headers
    for text in [format!("{c:?}"), format!("{e:?}"), e.to_string(), c.prepare_update_related(&req).to_curl()] {
        assert!(!text.contains("emulator-client-secret") && !text.contains("1000.emulator.refresh.token"), "{text}");
    }
    for entry in emu.journal().iter().filter(|e| e.method == "PUT") {
        assert_eq!(entry.header("authorization"), Some("Zoho-oauthtoken ***"));
        assert!(!entry.headers.iter().any(|(_, v)| v.contains(token_reply_token)));
    }
    assert!(journal.contains("Zoho-oauthtoken ***"));
}

#[test]
fn repeated_calls_reuse_the_cached_token() {
    let emu = emulator();
    let c = Arc::new(client(&emu));
    let req = case_a(vec![json!({"External_Deal_ID": "extdeal3"})]);
    for _ in 0..20 {
        c.update_related(&req).unwrap();
    }
    assert_eq!(api_puts(&emu), 20);
    assert_eq!(emu.stats().tokens_issued, 1);
}
