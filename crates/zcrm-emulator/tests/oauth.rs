//! The token endpoint (`oauth.rs`): `{accounts_url}/oauth/v2/token` with the refresh-token grant, read from a
//! form body, the query string or a multipart body; its errors (HTTP 200 with `error`), throttle and the
//! 15-active-tokens rule; and how minted tokens behave on the API.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig};

fn token_path(emu: &Emulator) -> String {
    format!("{}/oauth/v2/token", emu.accounts_url().trim_start_matches(emu.base_url()))
}

/// Asserts a successful token reply and returns the access token.
#[track_caller]
fn granted(emu: &Emulator, r: &Resp, lifetime: u64) -> String {
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["access_token", "api_domain", "expires_in", "scope", "token_type"], "{v}");
    assert_eq!(v["api_domain"], emu.base_url());
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], lifetime);
    assert_eq!(v["scope"], "ZohoCRM.modules.all ZohoSearch.securesearch.READ", "the default seed's scopes");
    let token = v["access_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("1000.") && token.len() > 20, "{token}");
    token
}

/// Asserts a token-endpoint error (HTTP 200, `error`, no `access_token`).
#[track_caller]
fn refused(r: &Resp, error: &str) -> Value {
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["error"], error, "{v}");
    assert!(v.get("access_token").is_none(), "{v}");
    v
}

#[track_caller]
fn assert_works(emu: &Emulator, token: &str) {
    let r = api_as(emu, token, "PUT", CASE_A, Some(BOTH), sample_body().to_string().as_bytes());
    assert_eq!((r.status, r.text().as_str()), (200, SAMPLE_RESPONSE));
}

#[track_caller]
fn assert_invalid(emu: &Emulator, token: &str) {
    let r = api_as(emu, token, "PUT", CASE_A, Some(BOTH), sample_body().to_string().as_bytes());
    assert_error(&r, 401, "INVALID_TOKEN", &[]);
}

#[test]
fn form_body_grant_answers_a_working_token() {
    let emu = start_with(EmulatorConfig { token_lifetime: Duration::from_secs(1234), ..EmulatorConfig::default() });
    assert_eq!(token_path(&emu), "/accounts/oauth/v2/token");
    let token = granted(&emu, &token_request(&emu, &token_form()), 1234);
    assert_works(&emu, &token);
    let stats = emu.stats();
    assert_eq!((stats.tokens_issued, stats.token_errors), (1, 0));
}

#[test]
fn query_string_grant_works() {
    let emu = start();
    let path = format!("{}?{}", token_path(&emu), token_form());
    let token = granted(&emu, &call(&emu, "POST", &path, &[], b""), 3600);
    assert_works(&emu, &token);
    // Without the `/accounts` prefix too, and percent-encoded parameters.
    let encoded = token_form().replace('.', "%2E");
    let token = granted(&emu, &call(&emu, "POST", &format!("/oauth/v2/token?{encoded}"), &[], b""), 3600);
    assert_works(&emu, &token);
}

#[test]
fn multipart_grant_works() {
    let emu = start();
    let (id, secret, refresh) = Emulator::default_credentials();
    let boundary = "----ZcrmBoundary7MA4YWxkTrZu0gW";
    let mut body = String::new();
    for (name, value) in
        [("grant_type", "refresh_token"), ("client_id", id), ("client_secret", secret), ("refresh_token", refresh)]
    {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let ct = format!("multipart/form-data; boundary={boundary}");
    let r = call(&emu, "POST", &token_path(&emu), &[("Content-Type", &ct)], body.as_bytes());
    assert_works(&emu, &granted(&emu, &r, 3600));
}

#[test]
fn bad_secret_or_unknown_client_is_invalid_client() {
    let emu = start();
    let (id, secret, _) = Emulator::default_credentials();
    refused(&token_request(&emu, &token_form().replace(secret, "wrong-secret")), "invalid_client");
    refused(&token_request(&emu, &token_form().replace(id, "1000.UNKNOWN")), "invalid_client");
    refused(&token_request(&emu, &token_form().replace(&format!("client_secret={secret}"), "")), "invalid_client");
    let stats = emu.stats();
    assert_eq!((stats.tokens_issued, stats.token_errors), (0, 3));
}

#[test]
fn unknown_refresh_token_is_invalid_code() {
    let emu = start();
    let (_, _, refresh) = Emulator::default_credentials();
    refused(&token_request(&emu, &token_form().replace(refresh, "1000.unknown.refresh")), "invalid_code");
    // Another client's refresh token, with the default client's credentials.
    emu.add_refresh_token("1000.OTHERCLIENT", "other-secret", "1000.other.refresh", &["ZohoCRM.modules.contacts.READ"]);
    refused(&token_request(&emu, &token_form().replace(refresh, "1000.other.refresh")), "invalid_code");
    // With its own client it works, with its own scopes.
    let form = "grant_type=refresh_token&client_id=1000.OTHERCLIENT&client_secret=other-secret&refresh_token=1000.other.refresh";
    let r = token_request(&emu, form);
    assert_eq!(r.json()["scope"], "ZohoCRM.modules.contacts.READ");
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    let put = api_as(&emu, &token, "PUT", CASE_A, Some(BOTH), sample_body().to_string().as_bytes());
    assert_error(&put, 401, "OAUTH_SCOPE_MISMATCH", &[]);
}

#[test]
fn revoked_refresh_token_is_invalid_code_and_its_access_tokens_stop_working() {
    let emu = start();
    let (first, second) = (mint(&emu), mint(&emu));
    emu.add_access_token("1000.static", &["ZohoCRM.modules.all"], None);
    assert_works(&emu, &first);
    assert!(emu.revoke_refresh_token(Emulator::default_credentials().2));
    assert!(!emu.revoke_refresh_token("1000.unknown.refresh"));
    refused(&token_request(&emu, &token_form()), "invalid_code");
    assert_invalid(&emu, &first);
    assert_invalid(&emu, &second);
    // Tokens not minted from it are untouched.
    assert_works(&emu, "1000.static");
    assert_works(&emu, TOKEN);
}

#[test]
fn other_grant_types_and_methods() {
    let emu = start();
    refused(
        &token_request(&emu, &token_form().replace("grant_type=refresh_token", "grant_type=authorization_code")),
        "unsupported_grant_type",
    );
    refused(&token_request(&emu, &token_form().replace("grant_type=refresh_token&", "")), "invalid_request");
    let r = call(&emu, "GET", &format!("{}?{}", token_path(&emu), token_form()), &[], b"");
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["error"], "invalid_request");
}

#[test]
fn throttle_answers_access_denied_after_token_throttle_tokens() {
    let emu = start_with(EmulatorConfig { token_throttle: 3, ..EmulatorConfig::default() });
    let tokens: Vec<String> = (0..3).map(|_| mint(&emu)).collect();
    let v = refused(&token_request(&emu, &token_form()), "Access Denied");
    assert_eq!(
        v,
        json!({
            "error_description": "You have made too many requests continuously. Please try again after some time.",
            "error": "Access Denied",
            "status": "failure"
        })
    );
    for t in &tokens {
        assert_works(&emu, t);
    }
    let stats = emu.stats();
    assert_eq!((stats.tokens_issued, stats.token_errors), (3, 1));
    // The throttle is a runtime setting.
    emu.update_runtime(|r| r.token_throttle = 4);
    mint(&emu);
    refused(&token_request(&emu, &token_form()), "Access Denied");
}

#[test]
fn the_16th_active_token_invalidates_the_oldest() {
    let emu = start_with(EmulatorConfig { token_throttle: 100, ..EmulatorConfig::default() });
    let tokens: Vec<String> = (0..16).map(|_| mint(&emu)).collect();
    assert_eq!(tokens.iter().collect::<HashSet<_>>().len(), 16, "tokens are distinct");
    assert_invalid(&emu, &tokens[0]);
    for t in &tokens[1..] {
        assert_works(&emu, t);
    }
    let seventeenth = mint(&emu);
    assert_invalid(&emu, &tokens[1]);
    assert_works(&emu, &tokens[2]);
    assert_works(&emu, &seventeenth);
}

#[test]
fn runtime_token_lifetime_applies_to_new_tokens() {
    let emu = start();
    emu.update_runtime(|r| r.token_lifetime_secs = 60);
    granted(&emu, &token_request(&emu, &token_form()), 60);
    let r = control(&emu, "PATCH", "config", Some(&json!({"token_lifetime_secs": 7})));
    assert_eq!(r.status, 200);
    let token = granted(&emu, &token_request(&emu, &token_form()), 7);
    assert_works(&emu, &token);
}

#[test]
fn tokens_of_two_emulators_differ_and_do_not_cross() {
    let a = start();
    let b = start();
    let from_a: HashSet<String> = (0..5).map(|_| mint(&a)).collect();
    let from_b: HashSet<String> = (0..5).map(|_| mint(&b)).collect();
    assert_eq!((from_a.len(), from_b.len()), (5, 5));
    assert!(from_a.is_disjoint(&from_b), "{from_a:?} / {from_b:?}");
    for t in &from_a {
        assert_invalid(&b, t);
        assert_works(&a, t);
    }
}

#[test]
fn the_core_client_refreshes_against_the_emulator() {
    let emu = start();
    let (id, secret, refresh) = Emulator::default_credentials();
    let client = zcrm_extid::Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .build()
        .unwrap();
    let request = zcrm_extid::UpdateRelated::builder(
        "Contacts",
        zcrm_extid::Parent::external("External_Contact_ID", "extcontact3").unwrap(),
        "Deals",
    )
    .related_by_external("External_Deal_ID")
    .record(json!({"External_Deal_ID": "extdeal3", "Contact_Role": ROLE}))
    .build()
    .unwrap();
    let response = client.update_related(&request).unwrap();
    assert_eq!(response.outcomes[0].id(), Some(DEAL3));
    assert_eq!(emu.stats().tokens_issued, 1);
    // Journal: the client's token request, then its API call with a minted (redacted) token.
    let journal = emu.journal();
    assert_eq!(
        journal.iter().map(|e| (e.method.as_str(), e.status)).collect::<Vec<_>>(),
        [("POST", 200), ("PUT", 200)]
    );
    assert_eq!(journal[1].header("authorization"), Some("Zoho-oauthtoken ***"));
}

#[test]
fn the_journal_never_holds_oauth_secrets() {
    let emu = start();
    let token = mint(&emu);
    assert_eq!(put_sample(&emu).status, 200);
    let journal = control(&emu, "GET", "journal", None).text();
    for secret in ["emulator-client-secret", "1000.emulator.refresh.token", token.as_str(), TOKEN] {
        assert!(!journal.contains(secret), "{secret} in the journal");
    }
    assert!(journal.contains("client_secret=***"));
}
