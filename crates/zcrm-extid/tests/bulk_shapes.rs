//! The bulk engine on the shapes users have (issue 13), each defect as a regression test on the emulator:
//! shuffled input, the partition pass, wrong or revoked credentials, a refused token, missing scope, an
//! unknown module, spent credits, a throttling token endpoint, short token lifetimes, a panicking operation,
//! cancellation during backoff, honest progress.

mod bulk_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bulk_support::*;
use serde_json::json;
use zcrm_emulator::faults::Action;
use zcrm_emulator::{Emulator, EmulatorConfig, Fault};
use zcrm_extid::auth::TokenPolicy;
use zcrm_extid::bulk::partition::{SortOptions, sort_by_key};
use zcrm_extid::bulk::{
    BulkOptions, BulkRow, BulkSpec, BulkSummary, Cancel, Link, LinkRow, Operation, Progress, RowOutcome,
};
use zcrm_extid::{Client, ErrorCode, InvalidInput, Parent, RetryPolicy, UpdateRelated};

/// `contacts` parents with `per` deals each, shuffled (deterministically) so parents interleave everywhere.
fn shuffled(contacts: usize, per: usize) -> Vec<(usize, usize)> {
    let n = contacts * per;
    let mut pairs: Vec<(usize, usize)> = (0..n).map(|d| (d % contacts, d)).collect();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for i in (1..n).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        pairs.swap(i, (x % (i as u64 + 1)) as usize);
    }
    pairs
}

fn job(client: &Client, options: &BulkOptions, pairs: &[(usize, usize)]) -> (Vec<RowOutcome>, BulkSummary) {
    run(client, options, pairs.iter().map(|&(c, d)| row(c, d, "r")).collect())
}

fn calls_per_sec(s: &BulkSummary) -> f64 {
    s.calls as f64 / s.elapsed.as_secs_f64()
}

#[test]
fn shuffled_input_keeps_every_slot_busy() {
    // 200 parents x 20 deals, interleaved far beyond the 1,000-row window: groups of ~5 rows go as they are,
    // and the job must still keep all 8 slots busy (the old coordinator sent one group per 50 ms: 1-2 in flight).
    let config = EmulatorConfig { latency: Duration::from_millis(30), concurrency: 8, ..EmulatorConfig::default() };
    let pairs = shuffled(200, 20);
    let options = BulkOptions { concurrency: 8, window: 1_000, ..BulkOptions::default() };
    let emu = emulator(200, 4_000, config.clone());
    let (outcomes, shuffled_run) = job(&client(&emu, 4), &options, &pairs);
    assert!(outcomes.iter().all(|o| o.outcome.is_success()));
    assert_linked(&emu, &pairs);
    let shuffled_in_flight = emu.stats().max_in_flight;

    let mut sorted = pairs.clone();
    sorted.sort();
    let emu = emulator(200, 4_000, config);
    let (_, sorted_run) = job(&client(&emu, 4), &options, &sorted);
    let ratio = calls_per_sec(&shuffled_run) / calls_per_sec(&sorted_run);
    assert!(shuffled_in_flight >= 6, "at most {shuffled_in_flight} calls in flight on shuffled input");
    assert!(
        ratio >= 0.6,
        "shuffled input ran {:.0} calls/s, sorted {:.0} calls/s (ratio {ratio:.2})",
        calls_per_sec(&shuffled_run),
        calls_per_sec(&sorted_run)
    );
    assert!(shuffled_run.calls > sorted_run.calls, "smaller groups, more calls");
}

#[test]
fn the_partition_pass_turns_a_shuffled_file_into_full_calls() {
    let emu = emulator(30, 3_000, EmulatorConfig::default());
    let pairs = shuffled(30, 100);
    // Spill to disk in runs of 500 rows, as a file too big for memory would.
    let sorted = sort_by_key(
        pairs.iter().enumerate().map(|(i, &(c, d))| (i, c, d)),
        |r| format!("c{}", r.1),
        &SortOptions { run_rows: 500, ..SortOptions::default() },
    )
    .unwrap();
    let rows = sorted.map(|r| {
        let (i, c, d) = r.unwrap();
        (i, row(c, d, "r"))
    });
    let mut outcomes = Vec::new();
    let summary = client(&emu, 0)
        .run_bulk(
            &Link::new(spec()),
            &BulkOptions { window: 200, ..BulkOptions::default() },
            rows,
            &mut |o| outcomes.push(o),
            &mut |_| {},
            &Cancel::new(),
        )
        .unwrap();
    assert_eq!(summary.calls, 30, "one full call per parent");
    outcomes.sort_by_key(|o| o.row);
    assert!(outcomes.iter().enumerate().all(|(i, o)| o.row == i && o.outcome.is_success()), "rows keep their numbers");
    assert_linked(&emu, &pairs);
}

/// A job of `rows` rows with `client`; the emulator's token requests (grants + refusals) after it.
fn breaker_job(emu: &Emulator, client: &Client, rows: usize) -> (Vec<RowOutcome>, BulkSummary, u64) {
    let pairs: Vec<(usize, usize)> = (0..rows).map(|d| (d / 10, d)).collect();
    let (outcomes, summary) = job(client, &BulkOptions { batch_size: 10, ..BulkOptions::default() }, &pairs);
    let st = emu.stats();
    (outcomes, summary, st.tokens_issued + st.token_errors)
}

fn assert_stopped(outcomes: &[RowOutcome], summary: &BulkSummary, code: &str) {
    let stopped = summary.stopped.as_ref().expect("the breaker stopped the job");
    assert_eq!(stopped.code().as_str(), code);
    assert_eq!(outcomes.len() as u64, summary.rows, "every row read has its outcome");
    assert!(summary.not_attempted > 0, "the rest was not sent: {summary:?}");
    for o in outcomes.iter().filter(|o| !o.outcome.is_success()) {
        let c = o.outcome.code();
        assert!(c == code || c == "NOT_ATTEMPTED", "row {}: {c}", o.row);
        if c == "NOT_ATTEMPTED" {
            assert_eq!(o.outcome.details()["cause"], code, "the cause is named");
        }
    }
}

fn builder(emu: &Emulator) -> zcrm_extid::ClientBuilder {
    Client::builder()
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .retry_policy(RetryPolicy { base_delay: Duration::from_millis(2), ..RetryPolicy::default() })
}

#[test]
fn a_wrong_secret_stops_the_job_after_one_token_request() {
    let emu = emulator(200, 2_000, EmulatorConfig::default());
    let (id, _, refresh) = Emulator::default_credentials();
    let c = builder(&emu).refresh_token(id, "wrong-secret", refresh).build().unwrap();
    let (outcomes, summary, token_requests) = breaker_job(&emu, &c, 2_000);
    assert_stopped(&outcomes, &summary, "OAUTH_INVALID_CLIENT");
    assert!(token_requests <= 2, "{token_requests} token requests");
    assert_eq!(emu.stats().api_calls, 0);
}

#[test]
fn a_revoked_refresh_token_stops_the_job() {
    let emu = emulator(200, 2_000, EmulatorConfig::default());
    let (id, secret, refresh) = Emulator::default_credentials();
    assert!(emu.revoke_refresh_token(refresh));
    let c = builder(&emu).refresh_token(id, secret, refresh).build().unwrap();
    let (outcomes, summary, token_requests) = breaker_job(&emu, &c, 2_000);
    assert_stopped(&outcomes, &summary, "OAUTH_INVALID_CODE");
    assert!(token_requests <= 2, "{token_requests} token requests");
}

#[test]
fn a_token_refused_after_its_refresh_stops_the_job_without_minting_more() {
    let emu = emulator(200, 2_000, EmulatorConfig::default());
    let body = r#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#;
    emu.push_fault(
        Fault::new(Action::Status { status: 401, body: Some(body.into()), content_type: None, headers: vec![] })
            .forever(),
    );
    let (id, secret, refresh) = Emulator::default_credentials();
    let c = builder(&emu).refresh_token(id, secret, refresh).build().unwrap();
    let (outcomes, summary, token_requests) = breaker_job(&emu, &c, 2_000);
    assert_stopped(&outcomes, &summary, "INVALID_TOKEN");
    assert!(token_requests <= 3, "{token_requests} tokens for a token that is always refused");
}

#[test]
fn a_missing_scope_an_unknown_module_and_spent_credits_stop_the_job() {
    // Scope.
    let emu = emulator(200, 2_000, EmulatorConfig::default());
    emu.add_refresh_token("1000.SCOPED", "scoped-secret", "1000.scoped.refresh", &["ZohoCRM.modules.deals.READ"]);
    let c = builder(&emu).refresh_token("1000.SCOPED", "scoped-secret", "1000.scoped.refresh").build().unwrap();
    let (outcomes, summary, _) = breaker_job(&emu, &c, 2_000);
    assert_stopped(&outcomes, &summary, "OAUTH_SCOPE_MISMATCH");
    assert!(emu.stats().api_calls <= 20, "{} calls", emu.stats().api_calls);

    // Module.
    let emu = emulator(20, 200, EmulatorConfig::default());
    let rows: Vec<_> = (0..200).map(|d| row(d / 10, d, "r")).collect();
    let bad = BulkSpec::builder("Contactz", "Deals").related_by_external("External_Deal_ID").build().unwrap();
    let report = client(&emu, 2).link_all(&bad, &BulkOptions { batch_size: 10, ..BulkOptions::default() }, rows);
    let report = report.unwrap();
    assert_stopped(&report.outcomes, &report.summary, "INVALID_MODULE");

    // Credits: 5 calls, then 429 with X-API-CREDITS-REMAINING: 0.
    let emu = emulator(200, 2_000, EmulatorConfig { credits: Some(5), ..EmulatorConfig::default() });
    let (outcomes, summary, _) = breaker_job(&emu, &client(&emu, 4), 2_000);
    assert_stopped(&outcomes, &summary, "TOO_MANY_REQUESTS");
    assert!(summary.succeeded <= 50);
    assert!(emu.stats().rejected_credits <= 20, "{} calls after the credits ran out", emu.stats().rejected_credits);
}

#[test]
fn a_throttling_token_endpoint_is_waited_out_with_few_token_requests() {
    // Tokens live 1 s; the endpoint allows 2 per 3 s. The job needs new tokens faster than that: it must wait
    // for the throttle, not fail rows, and not hammer the endpoint.
    let emu = emulator(
        40,
        4_000,
        EmulatorConfig {
            latency: Duration::from_millis(40),
            token_lifetime: Duration::from_secs(1),
            token_throttle: 2,
            token_throttle_window: Duration::from_secs(3),
            ..EmulatorConfig::default()
        },
    );
    let (id, secret, refresh) = Emulator::default_credentials();
    let c = builder(&emu)
        .refresh_token(id, secret, refresh)
        .token_policy(TokenPolicy {
            throttle_wait: Duration::from_millis(500),
            throttle_wait_max: Duration::from_secs(2),
            ..TokenPolicy::default()
        })
        .build()
        .unwrap();
    let pairs: Vec<(usize, usize)> = (0..4_000).map(|d| (d / 100, d)).collect();
    let options = BulkOptions { concurrency: 2, batch_size: 25, ..BulkOptions::default() };
    let started = Instant::now();
    let (outcomes, summary) = job(&c, &options, &pairs);
    let elapsed = started.elapsed().as_secs_f64();
    assert!(outcomes.iter().all(|o| o.outcome.is_success()), "{:?}", outcomes.iter().find(|o| !o.outcome.is_success()));
    assert!(summary.throttle_waits > 0, "the throttle was hit and waited out");
    let st = emu.stats();
    assert!(st.token_errors > 0);
    // At most one refusal per wait (>= 0.5 s) plus the grants the window allows (2 per 3 s).
    let allowed = (elapsed / 0.5).ceil() as u64 + 2 * (elapsed / 3.0).ceil() as u64 + 2;
    assert!(
        st.tokens_issued + st.token_errors <= allowed,
        "{} token requests in {elapsed:.1} s",
        st.tokens_issued + st.token_errors
    );
    assert_linked(&emu, &pairs);
}

#[test]
fn a_token_of_two_seconds_serves_many_calls() {
    let emu = emulator(
        1,
        1,
        EmulatorConfig {
            latency: Duration::from_millis(20),
            token_lifetime: Duration::from_secs(2),
            ..EmulatorConfig::default()
        },
    );
    let c = client(&emu, 0);
    let request = UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "c0").unwrap(), "Deals")
        .related_by_external("External_Deal_ID")
        .record(json!({"External_Deal_ID": "d0"}))
        .build()
        .unwrap();
    let started = Instant::now();
    let mut calls = 0;
    while started.elapsed() < Duration::from_secs(3) {
        c.update_related(&request).unwrap();
        calls += 1;
    }
    let tokens = emu.stats().tokens_issued;
    assert!(tokens <= 4 && calls > 20 * tokens, "{tokens} tokens for {calls} calls");
}

/// Link, except that calls for parent `c13` panic while being built.
struct Fragile(Link);

impl Operation for Fragile {
    type Input = BulkRow;
    type Row = LinkRow;
    type Call = UpdateRelated;
    fn check(&self, index: usize, input: BulkRow) -> Result<LinkRow, InvalidInput> {
        self.0.check(index, input)
    }
    fn group_key(&self, row: &LinkRow) -> String {
        self.0.group_key(row)
    }
    fn group_label(&self, row: &LinkRow) -> Arc<str> {
        self.0.group_label(row)
    }
    fn row_key(&self, row: &LinkRow) -> String {
        self.0.row_key(row)
    }
    fn call(&self, rows: Vec<LinkRow>) -> UpdateRelated {
        assert!(rows[0].parent != Parent::external("External_Contact_ID", "c13").unwrap(), "boom");
        self.0.call(rows)
    }
    fn outcomes(&self, output: zcrm_extid::UpdateResponse) -> Vec<zcrm_extid::Outcome> {
        self.0.outcomes(output)
    }
}

#[test]
fn a_panic_in_a_worker_fails_its_batch_and_the_job_finishes() {
    let emu = emulator(20, 2_000, EmulatorConfig::default());
    let pairs: Vec<(usize, usize)> = (0..2_000).map(|d| (d / 100, d)).collect();
    let rows = pairs.iter().map(|&(c, d)| row(c, d, "r")).enumerate();
    let mut outcomes = Vec::new();
    let summary = client(&emu, 0)
        .run_bulk(
            &Fragile(Link::new(spec())),
            &BulkOptions { concurrency: 4, ..BulkOptions::default() },
            rows,
            &mut |o| outcomes.push(o),
            &mut |_| {},
            &Cancel::new(),
        )
        .unwrap();
    assert_eq!(outcomes.len(), 2_000);
    let panicked: Vec<_> = outcomes.iter().filter(|o| o.outcome.code() == "CLIENT_PANIC").collect();
    assert_eq!(panicked.len(), 100);
    assert!(panicked.iter().all(|o| &*o.parent == "c13" && o.outcome.message().contains("boom")));
    assert_eq!(summary.succeeded, 1_900);
}

#[test]
fn cancel_wakes_calls_sleeping_in_backoff() {
    let emu = emulator(1, 10, EmulatorConfig::default());
    emu.push_fault(Fault::status(500).forever());
    let (id, secret, refresh) = Emulator::default_credentials();
    let c = builder(&emu)
        .refresh_token(id, secret, refresh)
        .retry_policy(RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_secs(20),
            max_delay: Duration::from_secs(20),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    let fired = Arc::new(AtomicBool::new(false));
    let f2 = fired.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        f2.store(true, Ordering::SeqCst);
        c2.cancel();
    });
    let started = Instant::now();
    let mut outcomes = Vec::new();
    // The jittered first delay may be short: make it certain that some sleep is long by retrying a few times.
    let summary = c
        .link_many(
            &spec(),
            &BulkOptions::default(),
            (0..10).map(|d| row(0, d, "r")),
            &mut |o| outcomes.push(o),
            &mut |_| {},
            &cancel,
        )
        .unwrap();
    assert!(fired.load(Ordering::SeqCst));
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(summary.cancelled);
    assert_eq!(outcomes.len(), 10);
    assert!(outcomes.iter().all(|o| o.outcome.code() == "INTERNAL_ERROR"), "the last answer is kept");

    // A single call: the same.
    let request = UpdateRelated::builder("Contacts", Parent::external("External_Contact_ID", "c0").unwrap(), "Deals")
        .related_by_external("External_Deal_ID")
        .record(json!({"External_Deal_ID": "d0"}))
        .build()
        .unwrap();
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        c2.cancel();
    });
    let started = Instant::now();
    let e = c.execute_cancellable(&request, &cancel).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Cancelled);
    assert!(e.message().contains("INTERNAL_ERROR"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn progress_counts_rows_as_calls_complete_on_shuffled_input() {
    let emu = emulator(
        100,
        5_000,
        EmulatorConfig { latency: Duration::from_millis(20), concurrency: 4, ..EmulatorConfig::default() },
    );
    let pairs = shuffled(100, 50);
    let options = BulkOptions {
        concurrency: 4,
        window: 1_000,
        progress_interval: Duration::from_millis(20),
        expected_rows: Some(5_000),
        ..BulkOptions::default()
    };
    let mut snapshots: Vec<Progress> = Vec::new();
    let summary = client(&emu, 2)
        .link_many(
            &spec(),
            &options,
            pairs.iter().map(|&(c, d)| row(c, d, "r")),
            &mut |_| {},
            &mut |p| snapshots.push(p.clone()),
            &Cancel::new(),
        )
        .unwrap();
    assert_eq!(summary.succeeded, 5_000);
    let batch = options.batch_size as u64;
    for w in snapshots.windows(2) {
        assert!(w[1].completed >= w[0].completed, "completed never goes back");
    }
    for p in &snapshots {
        assert!(p.in_flight <= 4 * batch, "{} rows on the wire", p.in_flight);
        assert!(p.completed <= p.rows_sent + summary.invalid, "completed {} > sent {}", p.completed, p.rows_sent);
        assert_eq!(p.completed, p.succeeded + p.failed);
    }
    // Midway, what is linked is shown (the old bar counted rows released in input order: 23 of 20,000 at 7 s).
    let mid = snapshots.iter().find(|p| p.rows_sent >= 2_500).expect("a snapshot past half");
    assert!(mid.completed * 2 >= mid.rows_sent, "sent {} but completed {}", mid.rows_sent, mid.completed);
    assert!(snapshots.iter().any(|p| p.eta.is_some()));
    let last = snapshots.last().unwrap();
    assert_eq!((last.completed, last.in_flight), (5_000, 0));
}

#[test]
fn a_same_module_relation_is_a_typed_error_not_a_panic() {
    let e = BulkSpec::builder("Contacts", "Contacts").related_by_external("External_Contact_ID").build().unwrap_err();
    assert_eq!(e.argument, "related_field");
    // Keyed by id, an external parent is that row's INVALID_INPUT; the dry run plans the same without a panic.
    let spec = BulkSpec::builder("Contacts", "Contacts").build().unwrap();
    let rows = vec![Ok(BulkRow {
        parent: Parent::external("External_Contact_ID", "c1").unwrap(),
        record: json!({"id": "1"}),
    })];
    let planned: Vec<_> =
        zcrm_extid::bulk::plan(&Link::new(spec), &BulkOptions::default(), rows.into_iter().enumerate()).collect();
    assert!(matches!(&planned[..], [zcrm_extid::bulk::PlanItem::Invalid { row: 0, .. }]));
}
