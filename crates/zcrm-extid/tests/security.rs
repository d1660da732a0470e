//! Security guarantees over real sockets (loopback only): proxies (a tiny proxy in the test sees nothing of
//! loopback traffic, and https through it is a CONNECT tunnel carrying TLS), `api_domain` followed only to Zoho
//! and never against an explicit environment (end to end, through the test-only Zoho route to the emulator),
//! secrets absent from errors and from the emulator's journal, and no forged log line.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Fault};
use zcrm_extid::proxy::ProxyConfig;
use zcrm_extid::transport::{HttpRequest, Transport, TransportConfig, UreqTransport};
use zcrm_extid::{Client, ClientBuilder, DataCenter, Environment, Error, Method, Parent, UpdateRelated};

/// What one connection to the tiny proxy sent: its request head, and the first bytes after a CONNECT.
#[derive(Debug, Clone)]
struct Seen {
    head: String,
    tunnelled: Vec<u8>,
}

/// A tiny proxy on 127.0.0.1: records every connection; answers CONNECT with 200, reads the first bytes sent
/// through the tunnel, then closes (nothing ever goes further).
struct TinyProxy {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn tiny_proxy(userinfo: &str) -> TinyProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{userinfo}{}", listener.local_addr().unwrap());
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 && matches!(s.read(&mut byte), Ok(1)) {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let mut tunnelled = vec![0u8; 5];
            if head.starts_with("CONNECT ") {
                s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
                let n = s.read(&mut tunnelled).unwrap_or(0);
                tunnelled.truncate(n);
            } else {
                tunnelled.clear();
                let _ = s.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
            log.lock().unwrap().push(Seen { head, tunnelled });
        }
    });
    TinyProxy { url, seen }
}

fn sample() -> UpdateRelated {
    UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "extcontact3").unwrap(), "Deals")
        .related_by_external("External_Deal_ID")
        .record(json!({"External_Deal_ID": "extdeal3", "Contact_Role": "111111000000026002"}))
        .build()
        .unwrap()
}

fn refresh_grant() -> ClientBuilder {
    let (id, secret, refresh) = Emulator::default_credentials();
    Client::builder().refresh_token(id, secret, refresh).max_retries(0)
}

#[test]
fn loopback_never_goes_through_a_proxy_and_https_through_one_is_a_connect_tunnel() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let proxy = tiny_proxy("u:proxy-pw@");
    // Loopback API and token endpoint, explicit proxy: everything goes direct.
    let client = refresh_grant()
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .proxy(ProxyConfig::parse(&proxy.url).unwrap())
        .build()
        .unwrap();
    assert!(client.update_related(&sample()).unwrap().all_succeeded());
    thread::sleep(Duration::from_millis(100));
    assert!(proxy.seen.lock().unwrap().is_empty(), "loopback reached the proxy: {:?}", proxy.seen.lock().unwrap());

    // https off loopback through the same proxy: one CONNECT, then TLS; the token never in clear text.
    let remote = Client::builder()
        .access_token("1000.secret.access.token")
        .base_url("https://crm.example.invalid")
        .proxy(ProxyConfig::parse(&proxy.url).unwrap())
        .max_retries(0)
        .build()
        .unwrap();
    let e = remote.update_related(&sample()).unwrap_err();
    assert!(!format!("{e} {e:?} {remote:?}").contains("proxy-pw"), "{e} {remote:?}");
    let seen = proxy.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let head = &seen[0].head;
    assert!(head.starts_with("CONNECT crm.example.invalid:443 HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("Proxy-Authorization: Basic dTpwcm94eS1wdw=="), "credentials go to the proxy: {head}");
    assert!(!head.contains("1000.secret.access.token") && !head.contains("Zoho-oauthtoken"), "{head}");
    assert_eq!(seen[0].tunnelled.first(), Some(&0x16), "a TLS handshake follows the CONNECT: {:?}", seen[0].tunnelled);
}

/// A client whose every Zoho host is routed to `emu` (test-only), with the emulator's OAuth client.
fn routed(emu: &Emulator) -> ClientBuilder {
    refresh_grant().route_zoho_to_for_tests(emu.base_url()).unwrap()
}

/// The `Host` of each CRM API call and token request in the journal.
fn hosts(emu: &Emulator, prefix: &str) -> Vec<String> {
    emu.journal()
        .iter()
        .filter(|e| e.path.starts_with(prefix))
        .map(|e| e.header("host").unwrap_or("").to_owned())
        .collect()
}

fn set_api_domain(emu: &Emulator, domain: &str) {
    emu.update_runtime(|r| r.api_domain = Some(domain.to_owned()));
}

#[test]
fn the_api_domain_is_followed_only_to_zoho_and_never_against_an_explicit_environment() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();

    // No data centre or environment set: the token's Zoho domain is followed.
    set_api_domain(&emu, "https://www.zohoapis.eu");
    assert!(routed(&emu).build().unwrap().update_related(&sample()).unwrap().all_succeeded());
    assert_eq!(hosts(&emu, "/oauth/"), ["accounts.zoho.com"], "the default data centre's accounts server");
    assert_eq!(hosts(&emu, "/crm/"), ["www.zohoapis.eu"], "the org lives in the EU: the token says so");

    // A domain that is not https://*.zohoapis.* is never followed: the data centre's domain is used instead.
    for not_zoho in ["https://www.zohoapis.eu.evil.example", "http://www.zohoapis.eu", emu.base_url()] {
        emu.clear_journal();
        set_api_domain(&emu, not_zoho);
        routed(&emu).build().unwrap().update_related(&sample()).unwrap();
        assert_eq!(hosts(&emu, "/crm/"), ["www.zohoapis.com"], "{not_zoho} was followed");
    }

    // An explicit environment or data centre that disagrees: a typed error with both values, nothing sent.
    set_api_domain(&emu, "https://www.zohoapis.com");
    emu.clear_journal();
    let e = routed(&emu).environment(Environment::Sandbox).build().unwrap().update_related(&sample()).unwrap_err();
    match &e {
        Error::ApiDomainMismatch { setting, configured, api_domain, .. } => {
            assert_eq!(
                (setting.as_str(), configured.as_str(), api_domain.as_str()),
                ("environment", "sandbox", "https://www.zohoapis.com")
            );
        }
        other => panic!("expected ApiDomainMismatch, got {other:?}"),
    }
    assert_eq!(e.code().as_str(), "API_DOMAIN_MISMATCH");
    assert_eq!(hosts(&emu, "/oauth/"), ["accounts.zoho.com"]);
    assert!(hosts(&emu, "/crm/").is_empty(), "nothing reached the API");
    emu.clear_journal();
    let e = routed(&emu).data_center(DataCenter::Eu).build().unwrap().update_related(&sample()).unwrap_err();
    assert_eq!((e.setting(), e.details().unwrap()["configured"].as_str()), (Some("data_center"), Some("eu")));
    assert_eq!(hosts(&emu, "/oauth/"), ["accounts.zoho.eu"]);
    assert!(hosts(&emu, "/crm/").is_empty());

    // Agreeing settings follow it; an explicit base URL always wins.
    set_api_domain(&emu, "https://sandbox.zohoapis.eu");
    emu.clear_journal();
    let eu_sandbox = routed(&emu).data_center(DataCenter::Eu).environment(Environment::Sandbox).build().unwrap();
    assert!(eu_sandbox.update_related(&sample()).is_ok());
    assert_eq!(hosts(&emu, "/crm/"), ["sandbox.zohoapis.eu"]);
    emu.clear_journal();
    let explicit =
        refresh_grant().base_url(emu.base_url()).accounts_url(emu.accounts_url()).environment(Environment::Production);
    assert!(explicit.build().unwrap().update_related(&sample()).is_ok());
    assert_eq!(hosts(&emu, "/crm/"), [format!("127.0.0.1:{}", emu.port())]);

    // The test route never lets a request leave the machine.
    let stray = routed(&emu).base_url("https://crm.example.com").build().unwrap();
    let e = stray.update_related(&sample()).unwrap_err();
    assert_eq!(e.setting(), Some("route_zoho_to_for_tests"), "{e}");
}

#[test]
fn secrets_never_reach_errors_or_the_journal() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let (id, secret, refresh) = Emulator::default_credentials();
    // A reflecting token endpoint (a misbehaving proxy): JSON, then HTML, echoing what the client sent.
    let echo_json = json!({
        "error": "invalid_client",
        "error_description": format!("you sent client_secret={secret}&refresh_token={refresh}"),
        "request": {"client_secret": secret, "refresh_token": refresh}
    });
    let echo_html = format!("<html>bad gateway; body was client_secret={secret}&refresh_token={refresh}</html>");
    for (body, ct, status) in [(echo_json.to_string(), "application/json", 200), (echo_html, "text/html", 502)] {
        let mut f = Fault::status(status);
        f.target = zcrm_emulator::Target::Token;
        f.action =
            zcrm_emulator::Action::Status { status, body: Some(body), content_type: Some(ct.into()), headers: vec![] };
        emu.push_fault(f);
        let client = refresh_grant().base_url(emu.base_url()).accounts_url(emu.accounts_url()).build().unwrap();
        let e = client.update_related(&sample()).unwrap_err();
        let shown = format!("{e} | {e:?} | {} | {:?}", e.message(), e.hint());
        assert!(!shown.contains(secret) && !shown.contains(refresh), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }

    // Token requests with secrets in the query string and in a JSON body: the journal served over HTTP has none.
    let t = UreqTransport::new(&TransportConfig::default());
    let token_url = format!("{}/oauth/v2/token", emu.accounts_url());
    let query =
        format!("{token_url}?grant_type=refresh_token&client_id={id}&client_secret={secret}&refresh_token={refresh}");
    let r = t.send(HttpRequest { method: Method::Post, url: &query, headers: &[], body: b"" }).unwrap();
    let minted: Value = serde_json::from_slice(&r.body).unwrap();
    let minted = minted["access_token"].as_str().expect("the grant worked").to_owned();
    let json_body =
        json!({"grant_type": "refresh_token", "client_secret": secret, "refresh_token": refresh}).to_string();
    let headers = [("Content-Type", "application/json".to_owned())];
    t.send(HttpRequest { method: Method::Post, url: &token_url, headers: &headers, body: json_body.as_bytes() })
        .unwrap();
    let journal_url = format!("{}/__emulator/journal", emu.base_url());
    let journal = t.send(HttpRequest { method: Method::Get, url: &journal_url, headers: &[], body: b"" }).unwrap();
    let text = String::from_utf8_lossy(&journal.body).into_owned();
    let entries: Value = serde_json::from_str(&text).unwrap();
    assert!(entries.as_array().unwrap().len() >= 4, "{text}");
    assert!(!text.contains(secret) && !text.contains(refresh) && !text.contains(&minted), "{text}");
    assert!(text.contains("client_secret=***") && text.contains(&format!("client_id={id}")), "{text}");
}

#[test]
fn no_value_can_forge_a_log_line() {
    let forged = "X\nzcrm: all records linked\u{1b}[2K\u{2028}";
    let e = UpdateRelated::builder("Contacts", Parent::id("111111000000085009").unwrap(), "Deals")
        .related_by_external(forged)
        .record(json!({"id": "1"}))
        .build()
        .map(|_| ())
        .map_err(Error::from)
        .unwrap_err();
    let shown = e.to_string();
    assert_eq!(shown.lines().count(), 1, "{shown}");
    assert!(!shown.contains('\u{1b}') && !shown.contains('\u{2028}') && shown.contains(r"\nzcrm:"), "{shown}");

    // A token with a line separator from the token endpoint is refused, and not printed raw.
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let mut f = Fault::status(200);
    f.target = zcrm_emulator::Target::Token;
    let body = json!({"access_token": "1000.ok\u{2028}X-Forged: 1", "expires_in": 3600}).to_string();
    f.action = zcrm_emulator::Action::Status { status: 200, body: Some(body), content_type: None, headers: vec![] };
    emu.push_fault(f);
    let client = refresh_grant().base_url(emu.base_url()).accounts_url(emu.accounts_url()).build().unwrap();
    let e = client.update_related(&sample()).unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains("visible ASCII") && !shown.contains('\u{2028}') && !shown.contains("X-Forged"), "{shown}");
    assert!(emu.journal().iter().all(|e| !e.path.starts_with("/crm/")), "nothing was sent with that token");
}
