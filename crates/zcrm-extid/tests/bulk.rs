//! The bulk engine against the emulator: one outcome per row, under faults, with validation
//! errors, duplicates, cancellation, adaptive concurrency and a bounded window.

mod bulk_support;

use std::time::Duration;

use bulk_support::*;
use serde_json::{Value, json};
use zcrm_emulator::{EmulatorConfig, Fault};
use zcrm_extid::bulk::{BulkOptions, BulkRow, BulkSpec, Cancel, Progress};
use zcrm_extid::{InvalidInput, Parent};

#[test]
fn every_row_gets_one_outcome_under_faults_and_token_expiry() {
    let emu = emulator(40, 4000, EmulatorConfig::default());
    emu.push_fault(Fault::status(500).with_probability(0.05).forever());
    emu.push_fault(Fault::status(429).with_probability(0.02).forever());
    emu.push_fault(Fault::drop_connection().with_probability(0.02).forever());
    emu.push_fault(Fault::drop_connection().after().with_probability(0.02).forever());
    let pairs = scrambled_pairs(40, 100);
    let rows: Vec<_> = pairs.iter().map(|&(c, d)| row(c, d, "r")).collect();
    let c = client(&emu, 12);
    let mut expired = false;
    let mut outcomes = Vec::new();
    let summary = c
        .link_many(
            &spec(),
            &BulkOptions { window: 500, progress_interval: Duration::from_millis(1), ..BulkOptions::default() },
            rows,
            &mut |o| outcomes.push(o),
            &mut |_: &Progress| {
                if !expired && emu.stats().api_calls >= 15 {
                    emu.expire_tokens();
                    expired = true;
                }
            },
            &Cancel::new(),
        )
        .unwrap();
    assert_eq!(outcomes.len(), pairs.len());
    // Outcomes come as calls complete; each row exactly once.
    outcomes.sort_by_key(|o| o.row);
    for (i, o) in outcomes.iter().enumerate() {
        assert_eq!((o.row, o.outcome.index), (i, i));
        assert!(o.outcome.is_success(), "row {i}: {:?}", o.outcome);
        assert_eq!(o.key.as_deref(), Some(format!("d{}", pairs[i].1).as_str()));
        assert_eq!(&*o.parent, format!("c{}", pairs[i].0));
    }
    assert_eq!((summary.rows, summary.succeeded, summary.failed), (4000, 4000, 0));
    assert!(summary.retries > 0 && summary.rate_limited > 0);
    assert!(expired);
    assert_eq!(emu.stats().tokens_issued, 2, "one refresh after the expiry");
    assert_linked(&emu, &pairs);
}

#[test]
fn invalid_rows_get_their_own_outcome_and_the_job_goes_on() {
    let emu = emulator(2, 10, EmulatorConfig::default());
    let rows = vec![
        row(0, 0, "a"),
        Ok(BulkRow {
            parent: Parent::external("External_Contact_ID", "c0").unwrap(),
            record: json!({"Contact_Role": "x"}),
        }),
        Err(InvalidInput::new("csv", "row has 2 columns, expected 3").at(2)),
        Ok(BulkRow { parent: Parent::external("External_Contact_ID", "c1").unwrap(), record: json!("not an object") }),
        row(1, 1, "b"),
        row(1, 9999, "c"),
    ];
    let (outcomes, summary) = run(&client(&emu, 2), &BulkOptions::default(), rows);
    let codes: Vec<&str> = outcomes.iter().map(|o| o.outcome.code()).collect();
    assert_eq!(codes, ["SUCCESS", "INVALID_INPUT", "INVALID_INPUT", "INVALID_INPUT", "SUCCESS", "INVALID_DATA"]);
    assert!(outcomes[1].outcome.message().contains("External_Deal_ID"), "{}", outcomes[1].outcome.message());
    assert_eq!(outcomes[1].outcome.details()["field"], "External_Deal_ID");
    assert!(outcomes[2].outcome.message().contains("2 columns"));
    assert_eq!((summary.succeeded, summary.invalid, summary.failed), (2, 3, 4));
    assert_eq!(outcomes[0].attempts, 1);
    assert_eq!(outcomes[1].attempts, 0, "never sent");
}

#[test]
fn sorted_input_gives_full_batches() {
    let emu = emulator(5, 500, EmulatorConfig::default());
    let pairs: Vec<(usize, usize)> = (0..500).map(|d| (d / 100, d)).collect();
    let (_, summary) =
        run(&client(&emu, 0), &BulkOptions::default(), pairs.iter().map(|&(c, d)| row(c, d, "r")).collect());
    assert_eq!(summary.calls, 5);
    assert_linked(&emu, &pairs);
}

#[test]
fn the_window_bounds_memory_whatever_the_order() {
    let emu = emulator(300, 6000, EmulatorConfig::default());
    let pairs = scrambled_pairs(300, 20);
    let options = BulkOptions { window: 400, ..BulkOptions::default() };
    let (outcomes, summary) = run(&client(&emu, 2), &options, pairs.iter().map(|&(c, d)| row(c, d, "r")).collect());
    assert!(summary.max_buffered_rows <= 400, "{}", summary.max_buffered_rows);
    assert_eq!(summary.succeeded, 6000);
    assert!(outcomes.windows(2).all(|w| w[0].row + 1 == w[1].row));
    assert_linked(&emu, &pairs);
}

#[test]
fn a_repeated_pair_is_applied_in_input_order() {
    let emu = emulator(1, 3, EmulatorConfig::default());
    let rows = vec![row(0, 0, "first"), row(0, 1, "x"), row(0, 0, "second"), row(0, 0, "third")];
    let (outcomes, _) = run(&client(&emu, 0), &BulkOptions::default(), rows);
    assert!(outcomes.iter().all(|o| o.outcome.is_success()));
    let cid = emu.find_external("Contacts", "External_Contact_ID", "c0").unwrap();
    let did = emu.find_external("Deals", "External_Deal_ID", "d0").unwrap();
    let rel = emu.related("Contacts", &cid, "Deals");
    let fields = &rel.iter().find(|(id, _)| *id == did).unwrap().1;
    assert_eq!(fields["Contact_Role"], "third");
}

#[test]
fn cancellation_finishes_calls_in_flight_and_reports_the_rest_not_attempted() {
    let emu = emulator(50, 5000, EmulatorConfig { latency: Duration::from_millis(100), ..EmulatorConfig::default() });
    let pairs: Vec<(usize, usize)> = (0..5000).map(|d| (d / 100, d)).collect();
    let cancel = Cancel::new();
    let mut outcomes = Vec::new();
    let options = BulkOptions {
        concurrency: 2,
        window: 500,
        progress_interval: Duration::from_millis(10),
        ..BulkOptions::default()
    };
    let summary = client(&emu, 0)
        .link_many(
            &spec(),
            &options,
            pairs.iter().map(|&(c, d)| row(c, d, "r")),
            &mut |o| outcomes.push(o),
            &mut |p: &Progress| {
                if p.completed >= 200 {
                    cancel.cancel();
                }
            },
            &cancel,
        )
        .unwrap();
    assert!(summary.cancelled);
    assert_eq!(outcomes.len() as u64, summary.rows, "every row read has one outcome");
    assert!(summary.rows < 5000, "reading stopped");
    assert!(summary.not_attempted > 0);
    let linked: Vec<(usize, usize)> =
        outcomes.iter().filter(|o| o.outcome.is_success()).map(|o| pairs[o.row]).collect();
    assert_eq!(linked.len() as u64, summary.succeeded);
    assert!(outcomes.iter().all(|o| o.outcome.is_success() || o.outcome.code() == "NOT_ATTEMPTED"));
    assert_linked(&emu, &linked);
}

#[test]
fn above_the_servers_limit_the_job_backs_off_and_still_links_everything() {
    let emu = emulator(
        30,
        3000,
        EmulatorConfig { concurrency: 4, latency: Duration::from_millis(15), ..EmulatorConfig::default() },
    );
    let pairs: Vec<(usize, usize)> = (0..3000).map(|d| (d / 100, d)).collect();
    let options = BulkOptions { concurrency: 16, batch_size: 10, ..BulkOptions::default() };
    let (_, summary) = run(&client(&emu, 10), &options, pairs.iter().map(|&(c, d)| row(c, d, "r")).collect());
    assert_eq!(summary.succeeded, 3000);
    assert!(summary.rate_limited > 0);
    assert!(summary.min_concurrency < 16, "lowered to {}", summary.min_concurrency);
    assert_linked(&emu, &pairs);
}

#[test]
fn at_the_servers_limit_no_call_is_rejected() {
    let emu = emulator(
        40,
        4000,
        EmulatorConfig { concurrency: 10, latency: Duration::from_millis(10), ..EmulatorConfig::default() },
    );
    let pairs: Vec<(usize, usize)> = (0..4000).map(|d| (d / 100, d)).collect();
    let (_, summary) =
        run(&client(&emu, 0), &BulkOptions::default(), pairs.iter().map(|&(c, d)| row(c, d, "r")).collect());
    assert_eq!((summary.succeeded, summary.rate_limited), (4000, 0));
    assert_eq!(emu.stats().rejected_concurrency, 0);
    assert!(emu.stats().max_in_flight <= 10);
}

#[test]
fn a_call_level_error_becomes_every_rows_outcome() {
    let emu = emulator(2, 4, EmulatorConfig::default());
    let spec = BulkSpec::builder("Contacts", "Notes")
        .related_module("Deals")
        .related_by_external("External_Deal_ID")
        .build()
        .unwrap();
    let rows: Vec<Result<BulkRow, InvalidInput>> = vec![row(0, 0, "r"), row(1, 1, "r")];
    let report = client(&emu, 3).link_all(&spec, &BulkOptions::default(), rows).unwrap();
    for o in &report.outcomes {
        assert_eq!(o.outcome.code(), "INVALID_DATA");
        assert_eq!(o.outcome.result.as_ref().unwrap_err().status, Some(400));
        assert_eq!(o.attempts, 1, "4xx errors are not retried");
    }
    let _: &Value = &report.outcomes[0].outcome.details()["resource_path_index"];
}

#[test]
fn bad_options_are_rejected_before_anything_is_read() {
    let emu = emulator(1, 1, EmulatorConfig::default());
    let mut read = false;
    let rows = std::iter::from_fn(|| {
        read = true;
        None
    });
    let e = client(&emu, 0)
        .link_all(&spec(), &BulkOptions { batch_size: 101, ..BulkOptions::default() }, rows)
        .unwrap_err();
    assert!(e.to_string().contains("batch_size"));
    assert!(!read);
}
