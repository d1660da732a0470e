//! Property: for any input order, batch size, window, concurrency and fault schedule, every row gets exactly
//! one outcome, no call carries two rows of one key or rows of two parents, and the rows held at once stay
//! within the documented bound (`window + 2 x concurrency x batch_size`).
//!
//! The server is an in-process fake [`Transport`] (a bulk job per case against the emulator would be too slow
//! for hundreds of cases); the emulator-backed tests in `bulk.rs` and `bulk_shapes.rs` cover real HTTP.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};
use zcrm_extid::bulk::{BulkOptions, BulkRow, BulkSpec, Cancel};
use zcrm_extid::transport::{HttpRequest, HttpResponse, Transport};
use zcrm_extid::{Client, Error, Parent, RetryPolicy};

/// Answers token requests, and related-records PUTs with one success per record, except where the schedule
/// says 500, 429 or a dropped connection. Records every call it answered.
#[derive(Debug)]
struct Fake {
    schedule: Vec<u8>,
    next: AtomicU64,
    calls: Mutex<Vec<(String, Vec<String>)>>,
}

impl Transport for Fake {
    fn send(&self, request: HttpRequest<'_>) -> zcrm_extid::Result<HttpResponse> {
        let json = |status: u16, body: Value| {
            Ok(HttpResponse {
                status,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.to_string().into_bytes(),
            })
        };
        if request.url.ends_with("/oauth/v2/token") {
            return json(200, json!({"access_token": "1000.fake", "expires_in": 3600}));
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed) as usize;
        match self.schedule.get(n % self.schedule.len().max(1)).copied().unwrap_or(0) {
            1 => return json(500, json!({"code": "INTERNAL_ERROR", "message": "x", "details": {}, "status": "error"})),
            2 => {
                return json(
                    429,
                    json!({"code": "TOO_MANY_REQUESTS", "message": "x", "details": {}, "status": "error"}),
                );
            }
            3 => return Err(Error::transport("dropped")),
            _ => {}
        }
        let body: Value = serde_json::from_slice(request.body).unwrap();
        let keys: Vec<String> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["External_Deal_ID"].as_str().unwrap().to_owned())
            .collect();
        let parent = request.url.rsplit('/').nth(1).unwrap().to_owned();
        let data: Vec<Value> = keys
            .iter()
            .map(|k| json!({"code": "SUCCESS", "details": {"External_Deal_ID": k, "id": "1"}, "message": "relation added", "status": "success"}))
            .collect();
        self.calls.lock().unwrap().push((parent, keys));
        json(200, json!({"data": data}))
    }
}

#[derive(Debug, Clone)]
struct Case {
    rows: Vec<(u8, u16)>,
    batch_size: usize,
    window: usize,
    concurrency: usize,
    schedule: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((0u8..12, 0u16..60), 1..400),
        1usize..=100,
        0usize..300,
        1usize..=8,
        prop::collection::vec(prop_oneof![6 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)], 1..20),
    )
        .prop_map(|(rows, batch_size, extra_window, concurrency, schedule)| Case {
            rows,
            batch_size,
            window: batch_size + extra_window,
            concurrency,
            schedule,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_row_one_outcome_and_memory_bounded(case in case()) {
        let fake = Arc::new(Fake { schedule: case.schedule.clone(), next: AtomicU64::new(0), calls: Mutex::default() });
        let client = Client::builder()
            .refresh_token("1000.ID", "secret", "1000.refresh")
            .base_url("http://127.0.0.1:9")
            .accounts_url("http://127.0.0.1:9")
            .transport(fake.clone())
            .retry_policy(RetryPolicy {
                max_retries: 3,
                base_delay: Duration::from_micros(100),
                max_delay: Duration::from_millis(1),
                ..RetryPolicy::default()
            })
            .build()
            .unwrap();
        let spec = BulkSpec::builder("Contacts", "Deals").related_by_external("External_Deal_ID").build().unwrap();
        let options = BulkOptions {
            batch_size: case.batch_size,
            window: case.window,
            concurrency: case.concurrency,
            retry_budget_reserve: 10_000,
            ..BulkOptions::default()
        };
        let rows = case.rows.iter().map(|&(c, d)| {
            Ok(BulkRow { parent: Parent::external("External_Contact_ID", format!("c{c}"))?, record: json!({"External_Deal_ID": format!("d{d}")}) })
        });
        let mut seen = vec![0u32; case.rows.len()];
        let summary = client
            .link_many(&spec, &options, rows, &mut |o| seen[o.row] += 1, &mut |_| {}, &Cancel::new())
            .unwrap();
        prop_assert!(seen.iter().all(|n| *n == 1), "outcomes per row: {:?}", seen);
        prop_assert_eq!(summary.rows as usize, case.rows.len());
        let bound = case.window + 2 * case.concurrency * case.batch_size;
        prop_assert!(summary.peak_held_rows <= bound, "held {} > {}", summary.peak_held_rows, bound);
        prop_assert!(summary.max_buffered_rows <= case.window);
        for (parent, keys) in fake.calls.lock().unwrap().iter() {
            prop_assert!(keys.len() <= case.batch_size);
            let distinct: HashSet<&String> = keys.iter().collect();
            prop_assert_eq!(distinct.len(), keys.len(), "one key twice in a call to {}", parent);
        }
    }
}
