//! Events on the emulator: each one exactly when its cause happens (injected 429s, 500s, dropped connections,
//! timeouts, expired tokens, a wrong secret), the job's metrics, and no secret or value in any event at any
//! level (a debug log of a whole job, taken through the `log` facade, grepped for every secret and value).

mod bulk_support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bulk_support::{client, emulator, row, spec};
use serde_json::{Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Fault};
use zcrm_extid::bulk::{BulkOptions, BulkRow, Cancel};
use zcrm_extid::transport::{HttpRequest, HttpResponse, Transport, TransportConfig, UreqTransport};
use zcrm_extid::{Client, Event, InvalidInput, Parent, RetryPolicy, UpdateRelated};

type Seen = Arc<Mutex<Vec<Value>>>;

/// A client of `emu` whose events are collected as JSON.
fn listening(emu: &Emulator, retries: u32) -> (Client, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let (id, secret, refresh) = Emulator::default_credentials();
    let c = Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .retry_policy(RetryPolicy {
            max_retries: retries,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        })
        .on_event(move |e: &Event| sink.lock().unwrap().push(e.to_json()))
        .build()
        .unwrap();
    (c, seen)
}

fn names(seen: &Seen) -> Vec<String> {
    seen.lock().unwrap().iter().map(|e| e["event"].as_str().unwrap().to_owned()).collect()
}

fn of(seen: &Seen, name: &str) -> Vec<Value> {
    seen.lock().unwrap().iter().filter(|e| e["event"] == name).cloned().collect()
}

fn link_one(c: &Client) -> zcrm_extid::Result<zcrm_extid::UpdateResponse> {
    let request = UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "c1")?, "Deals")
        .related_by_external("External_Deal_ID")
        .record(json!({"External_Deal_ID": "d1", "Contact_Role": "role-secret-value"}))
        .build()?;
    c.update_related(&request)
}

#[test]
fn a_call_emits_a_token_refresh_then_sent_and_finished_naming_no_value() {
    let emu = emulator(2, 2, EmulatorConfig::default());
    let (c, seen) = listening(&emu, 2);
    link_one(&c).unwrap();
    assert_eq!(names(&seen), ["token.refreshed", "http.request.sent", "http.request.finished"]);
    let done = &of(&seen, "http.request.finished")[0];
    assert_eq!(done["method"], "PUT");
    assert_eq!(done["path"], "/crm/v5/Contacts/{External_Contact_ID}/Deals");
    assert_eq!((done["crm_module"].as_str(), done["status"].as_u64()), (Some("Contacts"), Some(200)));
    assert_eq!((done["attempt"].as_u64(), done["records"].as_u64()), (Some(1), Some(1)));
    assert!(done["duration_ms"].as_f64().unwrap() > 0.0 && done.get("job").is_none());
    assert_eq!(done["level"], "debug");
    assert_eq!(done["target"], "zcrm_extid::http");
    let token = &of(&seen, "token.refreshed")[0];
    assert_eq!((token["level"].as_str(), token["replacement"].as_bool()), (Some("info"), Some(false)));
    assert!(token["expires_in_s"].as_u64().unwrap() > 3000, "{token}");
    // A second call reuses the token.
    link_one(&c).unwrap();
    assert_eq!(of(&seen, "token.refreshed").len(), 1);
}

#[test]
fn each_retry_is_announced_with_its_cause_and_delay() {
    let emu = emulator(2, 2, EmulatorConfig::default());
    let (c, seen) = listening(&emu, 5);
    link_one(&c).unwrap(); // the token first
    seen.lock().unwrap().clear();
    emu.push_fault(Fault::status(500));
    emu.push_fault(Fault::status(429));
    emu.push_fault(Fault::drop_connection());
    link_one(&c).unwrap();
    let retries = of(&seen, "retry.scheduled");
    let causes: Vec<&str> = retries.iter().map(|r| r["cause"].as_str().unwrap()).collect();
    assert_eq!(causes, ["5xx", "429", "transport"]);
    assert_eq!(retries[0]["status"], 500);
    assert_eq!(retries[0]["error"], "INTERNAL_ERROR");
    assert_eq!(retries[2]["error"], "TRANSPORT");
    assert!(retries[2].get("status").is_none(), "a dropped connection has no status");
    assert_eq!(retries.iter().map(|r| r["retry"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(retries.iter().all(|r| r["delay_ms"].as_f64().unwrap() <= 20.0));
    assert_eq!(of(&seen, "http.rate_limited").len(), 1, "exactly one 429");
    let finished = of(&seen, "http.request.finished");
    let statuses: Vec<Value> = finished.iter().map(|f| f["status"].clone()).collect();
    assert_eq!(statuses, [json!(500), json!(429), Value::Null, json!(200)]);
    assert_eq!(finished.iter().map(|f| f["attempt"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(of(&seen, "http.request.sent").len(), 4);
}

#[test]
fn a_timeout_is_its_own_cause() {
    let emu = emulator(2, 2, EmulatorConfig::default());
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let (id, secret, refresh) = Emulator::default_credentials();
    let c = Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .read_timeout(Duration::from_millis(150))
        .retry_policy(RetryPolicy { max_retries: 1, base_delay: Duration::from_millis(1), ..RetryPolicy::default() })
        .on_event(move |e: &Event| sink.lock().unwrap().push(e.to_json()))
        .build()
        .unwrap();
    emu.push_fault(Fault::latency(1000));
    link_one(&c).unwrap();
    let retries = of(&seen, "retry.scheduled");
    assert_eq!(retries.len(), 1);
    assert_eq!((retries[0]["cause"].as_str(), retries[0]["error"].as_str()), (Some("timeout"), Some("TIMEOUT")));
}

#[test]
fn an_expired_token_is_replaced_once_and_the_call_resent() {
    let emu = emulator(2, 2, EmulatorConfig::default());
    let (c, seen) = listening(&emu, 2);
    link_one(&c).unwrap();
    seen.lock().unwrap().clear();
    emu.expire_tokens();
    link_one(&c).unwrap();
    assert_eq!(
        names(&seen),
        ["http.request.sent", "http.request.finished", "token.refreshed", "http.request.sent", "http.request.finished"]
    );
    let finished = of(&seen, "http.request.finished");
    assert_eq!((finished[0]["status"].as_u64(), finished[0]["error"].as_str()), (Some(401), Some("INVALID_TOKEN")));
    assert_eq!(of(&seen, "token.refreshed")[0]["replacement"], true);
    assert!(of(&seen, "retry.scheduled").is_empty(), "a refresh-and-resend is not a retry");
}

#[test]
fn a_wrong_secret_fails_one_refresh_and_opens_the_breaker_once() {
    let emu = emulator(10, 300, EmulatorConfig::default());
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let c = Client::builder()
        .refresh_token(Emulator::default_credentials().0, "wrong-secret-xyz", Emulator::default_credentials().2)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .on_event(move |e: &Event| sink.lock().unwrap().push(e.to_json()))
        .build()
        .unwrap();
    let rows: Vec<_> = (0..300).map(|i| row(i / 30, i, "r")).collect();
    let report = c.link_all(&spec(), &BulkOptions { batch_size: 10, ..BulkOptions::default() }, rows).unwrap();
    assert!(report.summary.stopped.is_some());
    let failed = of(&seen, "token.refresh_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(
        (failed[0]["error"].as_str(), failed[0]["level"].as_str()),
        (Some("OAUTH_INVALID_CLIENT"), Some("warn"))
    );
    let opened = of(&seen, "breaker.opened");
    assert_eq!(opened.len(), 1);
    assert_eq!(
        (opened[0]["error"].as_str(), opened[0]["level"].as_str()),
        (Some("OAUTH_INVALID_CLIENT"), Some("error"))
    );
    let finished = of(&seen, "job.finished");
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0]["stopped"], "OAUTH_INVALID_CLIENT");
    assert_eq!(finished[0]["job"], opened[0]["job"], "the breaker's event names its job");
    assert!(of(&seen, "http.request.sent").is_empty(), "nothing reached the API");
    assert_eq!(names(&seen).first().map(String::as_str), Some("job.started"));
}

#[test]
fn a_bulk_job_counts_retries_by_cause_latency_tokens_and_credits() {
    // 1,000 credits a day: Zoho (and the emulator) send X-API-CREDITS-REMAINING once half are used.
    let emu = emulator(10, 1000, EmulatorConfig { credits: Some(1000), ..EmulatorConfig::default() });
    emu.update_runtime(|rt| rt.latency_ms = 2);
    let (c, seen) = listening(&emu, 5);
    // Use up 600 credits first (nothing listens to this job's metrics but its own).
    for _ in 0..600 {
        let r = UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "c0").unwrap(), "Deals")
            .related_by_external("External_Deal_ID")
            .record(json!({"External_Deal_ID": "d0"}))
            .build()
            .unwrap();
        c.update_related(&r).unwrap();
    }
    seen.lock().unwrap().clear();
    for fault in [Fault::status(500).times(2), Fault::status(429), Fault::drop_connection()] {
        emu.push_fault(fault);
    }
    let rows: Vec<_> = (0..100).map(|i| row(i / 10, i, "r")).collect();
    let options = BulkOptions { batch_size: 10, concurrency: 1, ..BulkOptions::default() };
    let report = c.link_all(&spec(), &options, rows).unwrap();
    let (s, m) = (&report.summary, &report.summary.metrics);
    assert_eq!(s.succeeded, 100);
    assert_eq!((m.retries_5xx, m.retries_429, m.retries_transport, m.retries_timeout), (2, 1, 1, 0));
    assert_eq!(s.retries, 4);
    assert_eq!(s.calls, 14, "10 batches + 4 retries");
    assert_eq!(m.timed_calls, 14);
    // The client counts a credit for every answer but the 429 (and none for the dropped connection); the
    // emulator charged every call it received, the faulted ones too, and reports what is left.
    assert_eq!((m.credits_used, m.credits_remaining), (12, Some(1000 - 600 - 14)));
    assert_eq!(m.token_refreshes, 0, "the token of the warm-up calls was still good");
    assert!(m.latency_p50 >= Duration::from_millis(2) && m.latency_p50 <= m.latency_p95, "{m:?}");
    assert!(m.latency_p95 <= m.latency_max && m.latency_max < Duration::from_secs(5), "{m:?}");
    assert!(m.backoff_wait > Duration::ZERO && m.rows_per_sec > 0.0, "{m:?}");
    let job = of(&seen, "job.finished");
    assert_eq!(job.len(), 1);
    assert_eq!((job[0]["credits_remaining"].as_u64(), job[0]["retries_5xx"].as_u64()), (Some(386), Some(2)));
    let id = job[0]["job"].as_u64().unwrap();
    let started = of(&seen, "job.started");
    assert_eq!((started[0]["job"].as_u64(), started[0]["operation"].as_str()), (Some(id), Some("link")));
    // Every request event of the job names it, and the retries were announced in the job too.
    let sent = of(&seen, "http.request.sent");
    assert_eq!(sent.len(), 14);
    assert!(sent.iter().all(|e| e["job"].as_u64() == Some(id) && e["records"] == 10));
    assert_eq!(of(&seen, "retry.scheduled").len(), 4);
    let limited = of(&seen, "http.rate_limited");
    assert_eq!((limited.len(), limited[0]["limit"].as_u64()), (1, Some(1)));
    let credits: Vec<u64> =
        of(&seen, "http.request.finished").iter().filter_map(|e| e["credits_remaining"].as_u64()).collect();
    assert_eq!(credits.len(), 10, "every answer past half the credits reports them (not the injected faults)");
}

#[test]
fn token_refreshes_in_a_job_are_counted() {
    let emu = emulator(10, 100, EmulatorConfig::default());
    let c = client(&emu, 2);
    let rows: Vec<_> = (0..100).map(|i| row(i / 10, i, "r")).collect();
    let report = c.link_all(&spec(), &BulkOptions { batch_size: 10, ..BulkOptions::default() }, rows).unwrap();
    assert_eq!(report.summary.metrics.token_refreshes, 1, "one token for the whole job, nothing listening");
    assert_eq!(report.summary.metrics.timed_calls, 10, "metrics are kept without any listener");
}

/// Captures every `log` record of this test binary as text: message and key-values.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        struct Kv<'a>(&'a mut String);
        impl<'kvs> log::kv::VisitSource<'kvs> for Kv<'_> {
            fn visit_pair(&mut self, k: log::kv::Key<'kvs>, v: log::kv::Value<'kvs>) -> Result<(), log::kv::Error> {
                self.0.push_str(&format!(" {k}={v}"));
                Ok(())
            }
        }
        let mut line = format!("{} {} {}", record.level(), record.target(), record.args());
        record.key_values().visit(&mut Kv(&mut line)).unwrap();
        self.0.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let c: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(c).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        c
    })
}

/// A transport that remembers every access token the token endpoint handed out.
#[derive(Debug)]
struct TokenSpy {
    inner: UreqTransport,
    tokens: Arc<Mutex<Vec<String>>>,
}

impl Transport for TokenSpy {
    fn send(&self, request: HttpRequest<'_>) -> zcrm_extid::Result<HttpResponse> {
        let response = self.inner.send(request)?;
        if let Ok(v) = serde_json::from_slice::<Value>(&response.body)
            && let Some(t) = v["access_token"].as_str()
        {
            self.tokens.lock().unwrap().push(t.to_owned());
        }
        Ok(response)
    }
}

#[test]
fn a_debug_log_of_a_whole_job_holds_no_secret_token_or_value() {
    let log = capture();
    let (parents, keys): (Vec<String>, Vec<String>) =
        (0..400).map(|i| (format!("ERP-contact-{}/x?y", i / 40), format!("deal-key-{i}"))).unzip();
    let emu = Emulator::start(EmulatorConfig { token_lifetime: Duration::from_secs(2), ..Default::default() }).unwrap();
    let records = |field: &str, values: &[String]| {
        let mut values = values.to_vec();
        values.dedup();
        values.into_iter().map(|v| json!({ field: v }).as_object().unwrap().clone()).collect()
    };
    emu.insert_records("Contacts", records("External_Contact_ID", &parents)).unwrap();
    emu.insert_records("Deals", records("External_Deal_ID", &keys)).unwrap();
    emu.insert_records("Contacts", records("External_Contact_ID", &["c1".to_owned()])).unwrap();
    emu.insert_records("Deals", records("External_Deal_ID", &["d1".to_owned()])).unwrap();
    let (id, secret, refresh) = Emulator::default_credentials();
    let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
    let spy = TokenSpy { inner: UreqTransport::new(&TransportConfig::default()), tokens: tokens.clone() };
    let c = Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .transport(Arc::new(spy))
        .retry_policy(RetryPolicy { max_retries: 6, base_delay: Duration::from_millis(1), ..RetryPolicy::default() })
        .build()
        .unwrap();
    for fault in [
        Fault::status(500).with_probability(0.1).forever(),
        Fault::status(429).with_probability(0.05).forever(),
        Fault::drop_connection().with_probability(0.05).forever(),
    ] {
        emu.push_fault(fault);
    }
    let role = "relation-value-Ω-42";
    let rows = parents.iter().zip(&keys).map(|(p, k)| -> Result<BulkRow, InvalidInput> {
        Ok(BulkRow {
            parent: Parent::external("External_Contact_ID", p.clone())?,
            record: json!({"External_Deal_ID": k, "Contact_Role": role}),
        })
    });
    let options = BulkOptions { batch_size: 20, concurrency: 4, ..BulkOptions::default() };
    let mut done = 0;
    let summary = c.link_many(&spec(), &options, rows, &mut |_| done += 1, &mut |_| {}, &Cancel::new()).unwrap();
    assert_eq!((done, summary.succeeded), (400, 400));
    emu.expire_tokens();
    link_one(&c).unwrap_or_else(|e| panic!("{e}"));
    let lines = log.0.lock().unwrap().clone();
    let text: String = lines.iter().filter(|l| l.contains(" zcrm_extid::")).cloned().collect::<Vec<_>>().join("\n");
    for name in ["job.started", "job.finished", "http.request.sent", "http.request.finished", "token.refreshed"] {
        assert!(text.contains(&format!("event={name}")), "{name} missing");
    }
    assert!(text.contains("retry.scheduled"), "the faults made retries");
    let tokens = tokens.lock().unwrap().clone();
    assert!(tokens.len() >= 2, "the tokens expired and were replaced: {tokens:?}");
    let mut secrets: Vec<&str> = vec![secret, refresh, role, "role-secret-value", "d1"];
    secrets.extend(tokens.iter().map(String::as_str));
    secrets.extend(parents.iter().map(String::as_str));
    secrets.extend(keys.iter().map(String::as_str));
    // This crate's records only: the HTTP library's own debug records are its business (the bindings and the
    // CLI forward this crate's targets and nothing else).
    let ours: Vec<&String> =
        lines.iter().filter(|l| l.split(' ').nth(1).is_some_and(|t| t.starts_with("zcrm_extid::"))).collect();
    assert!(ours.len() > 40, "{}", ours.len());
    for line in ours {
        for s in &secrets {
            assert!(!line.contains(s), "{s:?} in {line}");
        }
    }
    // Percent-encoded values would be leaks too.
    assert!(!text.contains("ERP-contact") && !text.contains("deal-key") && !text.contains("%2F"), "a value leaked");
}

#[test]
fn a_call_waiting_for_the_token_throttle_says_so_and_the_wait_is_counted() {
    let emu = emulator(2, 20, EmulatorConfig::default());
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let (id, secret, refresh) = Emulator::default_credentials();
    // One token request per 3 s at most: the replacement of an expired token has to wait for the window.
    let policy =
        zcrm_extid::auth::TokenPolicy { max_requests: 1, request_window: Duration::from_secs(3), ..Default::default() };
    let c = Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .token_policy(policy)
        .on_event(move |e: &Event| sink.lock().unwrap().push(e.to_json()))
        .build()
        .unwrap();
    link_one(&c).unwrap();
    emu.expire_tokens();
    seen.lock().unwrap().clear();
    // One call: one wait (each call waiting for the throttle says so, and its wait is counted).
    let rows: Vec<_> = (0..10).map(|i| row(0, i, "r")).collect();
    let options = BulkOptions { batch_size: 10, concurrency: 1, ..BulkOptions::default() };
    let report = c.link_all(&spec(), &options, rows).unwrap();
    let (s, m) = (&report.summary, &report.summary.metrics);
    assert_eq!((s.succeeded, s.throttle_waits), (10, 1), "{s:?}");
    let waits = of(&seen, "token.throttled");
    assert_eq!(waits.len(), 1);
    let wait = waits[0]["wait_ms"].as_f64().unwrap();
    assert!(wait > 0.0 && wait <= 3000.0, "{wait}");
    assert_eq!((waits[0]["level"].as_str(), waits[0]["target"].as_str()), (Some("warn"), Some("zcrm_extid::auth")));
    assert!(m.backoff_wait >= Duration::from_secs_f64(wait / 1000.0 * 0.99), "{m:?}");
    assert_eq!(m.token_refreshes, 1, "the replacement, once the window let it through");
    let order = names(&seen);
    let throttled = order.iter().position(|n| n == "token.throttled").unwrap();
    let refreshed = order.iter().position(|n| n == "token.refreshed").unwrap();
    assert!(throttled < refreshed, "{order:?}");
}
