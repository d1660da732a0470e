//! Helpers shared by the bulk engine's test files.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use zcrm_emulator::{Emulator, EmulatorConfig, Seed};
use zcrm_extid::bulk::{BulkOptions, BulkRow, BulkSpec, BulkSummary, RowOutcome};
use zcrm_extid::{Client, InvalidInput, Parent, RetryPolicy};

/// An emulator with `contacts` contacts `c{n}` and `deals` deals `d{n}`.
pub fn emulator(contacts: usize, deals: usize, config: EmulatorConfig) -> Emulator {
    let mut seed = Seed::default_seed();
    seed.add_records("Contacts", "External_Contact_ID", "c", contacts);
    seed.add_records("Deals", "External_Deal_ID", "d", deals);
    Emulator::start(EmulatorConfig { seed, ..config }).unwrap()
}

pub fn client(emu: &Emulator, retries: u32) -> Client {
    let (id, secret, refresh) = Emulator::default_credentials();
    Client::builder()
        .refresh_token(id, secret, refresh)
        .base_url(emu.base_url())
        .accounts_url(emu.accounts_url())
        .retry_policy(RetryPolicy {
            max_retries: retries,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

pub fn spec() -> BulkSpec {
    BulkSpec::builder("Contacts", "Deals").related_by_external("External_Deal_ID").build().unwrap()
}

pub fn row(contact: usize, deal: usize, role: &str) -> Result<BulkRow, InvalidInput> {
    Ok(BulkRow {
        parent: Parent::external("External_Contact_ID", format!("c{contact}"))?,
        record: json!({"External_Deal_ID": format!("d{deal}"), "Contact_Role": role}),
    })
}

/// Pairs (contact, deal) in a scrambled but deterministic order.
pub fn scrambled_pairs(contacts: usize, per_contact: usize) -> Vec<(usize, usize)> {
    let n = contacts * per_contact;
    (0..n).map(|i| (i * 7919) % n).map(|k| (k % contacts, k)).collect()
}

pub fn run(
    client: &Client,
    options: &BulkOptions,
    rows: Vec<Result<BulkRow, InvalidInput>>,
) -> (Vec<RowOutcome>, BulkSummary) {
    let report = client.link_all(&spec(), options, rows).unwrap();
    (report.outcomes, report.summary)
}

pub fn assert_linked(emu: &Emulator, pairs: &[(usize, usize)]) {
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    for (c, d) in pairs {
        let cid = emu.find_external("Contacts", "External_Contact_ID", &format!("c{c}")).unwrap();
        expected
            .entry(cid)
            .or_default()
            .push(emu.find_external("Deals", "External_Deal_ID", &format!("d{d}")).unwrap());
    }
    let mut total = 0;
    for (cid, mut deals) in expected {
        let mut got: Vec<String> = emu.related("Contacts", &cid, "Deals").into_iter().map(|(id, _)| id).collect();
        deals.sort();
        got.sort();
        assert_eq!(got, deals, "contact {cid}");
        total += got.len();
    }
    assert_eq!(emu.relation_count(), total, "nothing extra");
}
