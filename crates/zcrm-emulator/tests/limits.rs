//! Limits (`server.rs`): concurrency and sub-concurrency (429 `TOO_MANY_REQUESTS`), daily credits and
//! `X-API-CREDITS-REMAINING`, latency that does not serialise calls, and runtime changes of all of them.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use zcrm_emulator::{Emulator, EmulatorConfig};

fn with(concurrency: usize, latency_ms: u64) -> Emulator {
    start_with(EmulatorConfig { concurrency, latency: Duration::from_millis(latency_ms), ..EmulatorConfig::default() })
}

fn statuses(responses: &[Resp]) -> (usize, usize) {
    let rejected = responses.iter().filter(|r| r.status == 429).count();
    let ok = responses.iter().filter(|r| r.status == 200).count();
    (ok, rejected)
}

#[track_caller]
fn assert_429(r: &Resp, mentions: &str) {
    let v = assert_error(r, 429, "TOO_MANY_REQUESTS", &[]);
    assert!(v["message"].as_str().unwrap().contains(mentions), "{v}");
}

#[test]
fn calls_over_the_concurrency_limit_get_429() {
    let emu = with(3, 300);
    let (responses, _) = parallel(&emu, (0..5).map(|_| sample_request()).collect());
    assert_eq!(statuses(&responses), (3, 2), "{responses:?}");
    for r in responses.iter().filter(|r| r.status == 429) {
        assert_429(r, "concurrency limit of 3");
    }
    for r in responses.iter().filter(|r| r.status == 200) {
        assert_eq!(r.text(), SAMPLE_RESPONSE);
    }
    let stats = emu.stats();
    assert_eq!(stats.rejected_concurrency, 2);
    assert_eq!(stats.api_calls, 3);
    assert_eq!(stats.max_in_flight, 3);
    assert_eq!(stats.credits_used, 3, "rejected calls cost no credit");
}

#[test]
fn sequential_calls_never_get_429() {
    let emu = with(1, 0);
    for _ in 0..30 {
        assert_eq!(put_sample(&emu).status, 200);
    }
    // The same on one keep-alive connection.
    let mut conn = Conn::open(&emu);
    let auth = bearer(TOKEN);
    let body = sample_body().to_string();
    for _ in 0..30 {
        conn.send(&request_bytes("PUT", CASE_A, &[("Authorization", &auth), ("X-EXTERNAL", BOTH)], body.as_bytes()));
        assert_eq!(conn.response().status, 200);
    }
    let stats = emu.stats();
    assert_eq!((stats.api_calls, stats.rejected_concurrency, stats.max_in_flight), (60, 0, 1));
}

#[test]
fn sub_concurrency_applies_to_calls_with_more_than_10_records_only() {
    let emu = start_with(EmulatorConfig {
        concurrency: 10,
        sub_concurrency: 1,
        latency: Duration::from_millis(300),
        ..EmulatorConfig::default()
    });
    // Two heavy calls at once: one is over the sub-concurrency.
    let (responses, _) = parallel(&emu, vec![put_request(&records_body(11)), put_request(&records_body(11))]);
    assert_eq!(statuses(&responses), (1, 1), "{responses:?}");
    assert_429(responses.iter().find(|r| r.status == 429).unwrap(), "more than 10 records");
    assert_eq!(emu.stats().rejected_concurrency, 1);
    // Ten records is not heavy; nor is a light call next to a heavy one.
    let (responses, _) = parallel(
        &emu,
        vec![put_request(&records_body(10)), put_request(&records_body(10)), put_request(&records_body(11))],
    );
    assert_eq!(statuses(&responses), (3, 0), "{responses:?}");
    assert_eq!(emu.stats().rejected_concurrency, 1);
}

#[test]
fn credits_header_from_half_used_then_429() {
    let emu = start_with(EmulatorConfig { credits: Some(4), ..EmulatorConfig::default() });
    let first = put_sample(&emu);
    assert_eq!(first.status, 200);
    assert_eq!(first.header("X-API-CREDITS-REMAINING"), None, "less than half used");
    // Calls that fail authentication, token and control requests cost nothing.
    assert_eq!(api_as(&emu, "1000.bogus", "PUT", CASE_A, Some(BOTH), b"{}").status, 401);
    mint(&emu);
    assert_eq!(control(&emu, "GET", "state", None).status, 200);
    for remaining in ["2", "1", "0"] {
        let r = put_sample(&emu);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("X-API-CREDITS-REMAINING"), Some(remaining));
    }
    let over = put_sample(&emu);
    assert_429(&over, "credits");
    assert_eq!(over.header("X-API-CREDITS-REMAINING"), Some("0"), "the refusal says why");
    // An error answer costs a credit too (it passed authentication and the limits), so it shows the header.
    let stats = emu.stats();
    assert_eq!((stats.api_calls, stats.credits_used, stats.rejected_credits), (4, 4, 1));
    // More credits at runtime: the header counts from the new total.
    emu.update_runtime(|r| r.credits = Some(10));
    let r = put(&emu, CASE_A, Some(BOTH), &json!({"data": []}));
    assert_eq!((r.status, r.header("X-API-CREDITS-REMAINING")), (400, Some("5")));
    emu.update_runtime(|r| r.credits = None);
    assert_eq!(put_sample(&emu).header("X-API-CREDITS-REMAINING"), None);
}

#[test]
fn latency_does_not_serialise_parallel_calls() {
    let emu = with(10, 200);
    let (responses, elapsed) = parallel(&emu, (0..10).map(|_| sample_request()).collect());
    assert_eq!(statuses(&responses), (10, 0));
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1000), "10 x 200 ms took {elapsed:?}: calls were serialised");
    assert_eq!(emu.stats().max_in_flight, 10);
}

#[test]
fn set_latency_with_a_range() {
    let emu = start();
    emu.set_latency(Duration::from_millis(100), Some(Duration::from_millis(250)));
    let rt = emu.runtime();
    assert_eq!((rt.latency_ms, rt.latency_max_ms), (100, Some(250)));
    for _ in 0..4 {
        let t = Instant::now();
        assert_eq!(put_sample(&emu).status, 200);
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(100), "{took:?}");
        assert!(took < Duration::from_millis(250 + 1500), "{took:?}");
    }
    // Control and token requests get no latency.
    emu.set_latency(Duration::from_secs(3), None);
    let t = Instant::now();
    mint(&emu);
    assert_eq!(control(&emu, "GET", "config", None).status, 200);
    assert!(t.elapsed() < Duration::from_millis(1500), "{:?}", t.elapsed());
    emu.set_latency(Duration::ZERO, None);
    assert_eq!((emu.runtime().latency_ms, emu.runtime().latency_max_ms), (0, None));
}

#[test]
fn runtime_concurrency_change_with_update_runtime() {
    let emu = with(20, 300);
    emu.update_runtime(|r| r.concurrency = 1);
    assert_eq!(emu.runtime().concurrency, 1);
    let (responses, _) = parallel(&emu, vec![sample_request(), sample_request()]);
    assert_eq!(statuses(&responses), (1, 1));
    emu.update_runtime(|r| r.concurrency = 2);
    let (responses, _) = parallel(&emu, vec![sample_request(), sample_request()]);
    assert_eq!(statuses(&responses), (2, 0));
    assert_eq!(emu.stats().rejected_concurrency, 1);
}

#[test]
fn runtime_config_change_over_http() {
    let emu = start();
    let before = control(&emu, "GET", "config", None).json();
    assert_eq!(before["concurrency"], 20);
    assert_eq!(before["latency_ms"], 0);
    let r = control(&emu, "PATCH", "config", Some(&json!({"concurrency": 1, "latency_ms": 300, "credits": 100})));
    assert_eq!(r.status, 200);
    let after = r.json();
    assert_eq!(
        (after["concurrency"].clone(), after["latency_ms"].clone(), after["credits"].clone()),
        (json!(1), json!(300), json!(100))
    );
    assert_eq!(after["token_throttle"], before["token_throttle"], "other settings kept");
    assert_eq!(control(&emu, "GET", "config", None).json(), after);
    assert_eq!((emu.runtime().concurrency, emu.runtime().latency_ms), (1, 300));
    let (responses, _) = parallel(&emu, vec![sample_request(), sample_request()]);
    assert_eq!(statuses(&responses), (1, 1));
    // Back to unlimited credits with null.
    let r = control(&emu, "PATCH", "config", Some(&json!({"credits": null, "latency_ms": 0})));
    assert_eq!(r.json()["credits"], json!(null));
    assert_eq!(emu.runtime().credits, None);
}
