//! Helpers of the reconcile tests: an org with contacts `c{n}`, deals `d{n}` and chosen relations, desired rows,
//! and the org's links as data.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value, json};
use zcrm_emulator::seed::SeedRelation;
use zcrm_emulator::{Emulator, EmulatorConfig, Seed};
use zcrm_extid::bulk::{BulkRow, Cancel};
use zcrm_extid::reconcile::{PlanOptions, SyncSpec};
use zcrm_extid::{Client, InvalidInput, Parent, RetryPolicy};

/// The seed page's access token (seeded without expiry): no token requests, whatever the number of cases.
pub const TOKEN: &str = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf";

pub fn contact_id(n: usize) -> String {
    format!("2000000000{n:08}")
}

pub fn deal_id(n: usize) -> String {
    format!("3000000000{n:08}")
}

/// A link of the org: contact n, deal m, role (None: no role).
pub type Link = (usize, usize, Option<&'static str>);

/// A seed with `contacts` contacts and `deals` deals (explicit ids) and `links`.
pub fn seed(contacts: usize, deals: usize, links: &[Link]) -> Seed {
    let mut seed = Seed::default_seed();
    let record = |id: String, field: &str, value: String| {
        let mut r = Map::new();
        r.insert("id".into(), Value::String(id));
        r.insert(field.into(), Value::String(value));
        r
    };
    let c = seed.modules.get_mut("Contacts").unwrap();
    c.records.extend((0..contacts).map(|n| record(contact_id(n), "External_Contact_ID", format!("c{n}"))));
    let d = seed.modules.get_mut("Deals").unwrap();
    d.records.extend((0..deals).map(|n| record(deal_id(n), "External_Deal_ID", format!("d{n}"))));
    seed.relations = links
        .iter()
        .map(|(c, d, role)| SeedRelation {
            module: "Contacts".into(),
            record: contact_id(*c),
            related_list: "Deals".into(),
            related: deal_id(*d),
            fields: role.map(|r| json!({"Contact_Role": r}).as_object().unwrap().clone()).unwrap_or_default(),
            modified_time: None,
        })
        .collect();
    seed
}

pub fn emulator(contacts: usize, deals: usize, links: &[Link]) -> Emulator {
    Emulator::start(EmulatorConfig { seed: seed(contacts, deals, links), ..EmulatorConfig::default() }).unwrap()
}

/// A client with the static token, fast retries.
pub fn client(emu: &Emulator, version: &str, retries: u32) -> Client {
    Client::builder()
        .access_token(TOKEN)
        .base_url(emu.base_url())
        .api_version(version.parse().unwrap())
        .retry_policy(RetryPolicy {
            max_retries: retries,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

pub fn spec() -> SyncSpec {
    SyncSpec::parse("Contacts.External_Contact_ID", "Deals.External_Deal_ID", None, &["Contact_Role"]).unwrap()
}

/// A desired row: contact n, deal m, role (None: an empty cell).
pub fn want(c: usize, d: usize, role: Option<&str>) -> Result<BulkRow, InvalidInput> {
    let mut record = json!({"External_Deal_ID": format!("d{d}")});
    if let Some(r) = role {
        record["Contact_Role"] = json!(r);
    }
    Ok(BulkRow { parent: Parent::external("External_Contact_ID", format!("c{c}"))?, record })
}

pub fn options(unlink_missing: bool) -> PlanOptions {
    PlanOptions { unlink_missing, ..PlanOptions::default() }
}

/// Plans `rows` (no progress, not cancelled).
pub fn plan(
    client: &Client,
    options: &PlanOptions,
    rows: Vec<Result<BulkRow, InvalidInput>>,
) -> zcrm_extid::reconcile::Plan {
    client.plan_links(&spec(), options, rows, &mut |_| {}, &Cancel::new()).unwrap()
}

/// The org's links: contact n -> deal m -> role (as stored; `None` for no role).
pub fn links(emu: &Emulator, contacts: usize) -> BTreeMap<usize, BTreeMap<usize, Option<String>>> {
    (0..contacts)
        .map(|c| {
            let deals = emu
                .related("Contacts", &contact_id(c), "Deals")
                .into_iter()
                .map(|(id, fields)| {
                    let n: usize = id.strip_prefix("3000000000").unwrap().parse().unwrap();
                    let role = fields.get("Contact_Role").and_then(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_owned),
                        _ => None,
                    });
                    (n, role)
                })
                .collect();
            (c, deals)
        })
        .collect()
}

/// The writes the emulator received (PUT and DELETE).
pub fn writes(emu: &Emulator) -> Vec<zcrm_emulator::Entry> {
    emu.journal().into_iter().filter(|e| e.method == "PUT" || e.method == "DELETE").collect()
}
