//! The bulk unlink job ([`zcrm_extid::bulk::Unlink`]) against the emulator: 10,000 rows under faults leave
//! exactly the expected relations; values with `,` go alone in the path form; one outcome per row.

mod bulk_support;

use std::collections::BTreeSet;

use bulk_support::*;
use serde_json::{Map, Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig, Fault, Seed};
use zcrm_extid::bulk::{BulkOptions, BulkRow};
use zcrm_extid::{InvalidInput, Parent};

fn pair(contact: &str, deal: &str) -> Result<BulkRow, InvalidInput> {
    Ok(BulkRow {
        parent: Parent::external("External_Contact_ID", contact)?,
        record: json!({"External_Deal_ID": deal, "Contact_Role": "ignored by unlink"}),
    })
}

/// The (contact, deal) external values of every relation in the emulator.
fn relations(emu: &Emulator, contacts: usize) -> BTreeSet<(String, String)> {
    let state = emu.state();
    let deal_ext: std::collections::HashMap<String, String> = state["modules"]["Deals"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| Some((r["id"].as_str()?.to_owned(), r["External_Deal_ID"].as_str()?.to_owned())))
        .collect();
    let mut out = BTreeSet::new();
    for c in 0..contacts {
        let cx = format!("c{c}");
        let cid = emu.find_external("Contacts", "External_Contact_ID", &cx).unwrap();
        for (did, _) in emu.related("Contacts", &cid, "Deals") {
            out.insert((cx.clone(), deal_ext[&did].clone()));
        }
    }
    out
}

#[test]
fn ten_thousand_unlinks_under_faults_leave_exactly_the_expected_relations() {
    // 100 contacts x 120 deals linked (12,000 pairs), plus 30 deals whose external values hold a `,`.
    let mut seed = Seed::default_seed();
    seed.add_records("Contacts", "External_Contact_ID", "c", 100);
    seed.add_records("Deals", "External_Deal_ID", "d", 12_000);
    seed.add_records("Deals", "External_Deal_ID", "x,", 30);
    let emu = Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() }).unwrap();
    let c = client(&emu, 12);
    let mut all: Vec<(String, String)> = (0..12_000).map(|d| (format!("c{}", d % 100), format!("d{d}"))).collect();
    all.extend((0..30).map(|n| (format!("c{}", n % 3), format!("x,{n}"))));
    let linked = c.link_all(&spec(), &BulkOptions::default(), all.iter().map(|(p, d)| pair(p, d))).unwrap();
    assert_eq!(linked.summary.succeeded, all.len() as u64);

    // Unlink 10,000 of them, in a scrambled order (the comma deals among them), under faults.
    let mut order: Vec<usize> = (0..all.len()).map(|i| (i * 7919) % all.len()).collect();
    order.retain(|i| *i >= 12_000 || i % 6 != 0); // keep every 6th plain pair linked
    order.truncate(10_000);
    assert!(order.iter().filter(|i| **i >= 12_000).count() > 20, "comma values are in the job");
    emu.push_fault(Fault::status(500).with_probability(0.05).forever());
    emu.push_fault(Fault::status(429).with_probability(0.03).forever());
    emu.push_fault(Fault::drop_connection().with_probability(0.02).forever());
    emu.push_fault(Fault::drop_connection().after().with_probability(0.02).forever());
    let rows: Vec<_> = order.iter().map(|&i| pair(&all[i].0, &all[i].1)).collect();
    let options = BulkOptions { window: 2_000, ..BulkOptions::default() };
    let report = c.unlink_all(&spec(), &options, rows).unwrap();
    emu.clear_faults();

    assert_eq!(report.outcomes.len(), 10_000);
    let mut lost_answers = 0;
    for (n, o) in report.outcomes.iter().enumerate() {
        assert_eq!((o.row, o.outcome.index), (n, n));
        assert_eq!(o.key.as_deref(), Some(all[order[n]].1.as_str()));
        if !o.outcome.is_success() {
            // Only a call sent again after its answer was lost finds the relation already gone.
            assert_eq!((o.outcome.code(), o.outcome.message()), ("INVALID_DATA", "relation not found"), "row {n}");
            assert!(o.attempts > 1, "row {n}: {:?}", o);
            lost_answers += 1;
        }
    }
    assert!(report.summary.retries > 0 && report.summary.rate_limited > 0);
    assert_eq!(report.summary.succeeded + lost_answers, 10_000);
    let unlinked: BTreeSet<usize> = order.iter().copied().collect();
    let expected: BTreeSet<(String, String)> =
        (0..all.len()).filter(|i| !unlinked.contains(i)).map(|i| all[i].clone()).collect();
    assert_eq!(relations(&emu, 100), expected);
    // Grouped by parent (scrambled input, a 2,000-row window: about 20 values per call), not a call per row.
    assert!(report.summary.calls < 1_000, "{} calls", report.summary.calls);
}

#[test]
fn comma_values_go_alone_in_the_path_and_others_share_ids() {
    let mut seed = Seed::default_seed();
    seed.add_records("Contacts", "External_Contact_ID", "c", 1);
    let deals = seed.modules.get_mut("Deals").unwrap();
    for v in ["a,1", "a,2", "b", "c", "d/e f"] {
        let mut r = Map::new();
        r.insert("External_Deal_ID".into(), Value::String(v.into()));
        deals.records.push(r);
    }
    let emu = Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() }).unwrap();
    let c = client(&emu, 0);
    let values = ["a,1", "b", "a,2", "c", "d/e f"];
    c.link_all(&spec(), &BulkOptions::default(), values.iter().map(|v| pair("c0", v))).unwrap();
    emu.clear_journal();
    let report = c.unlink_all(&spec(), &BulkOptions::default(), values.iter().map(|v| pair("c0", v))).unwrap();
    assert!(report.outcomes.iter().all(|o| o.outcome.is_success()), "{:?}", report.outcomes);
    let mut deletes: Vec<(String, String)> = emu
        .journal()
        .into_iter()
        .filter(|e| e.method == "DELETE")
        .map(|e| (e.path.rsplit('/').next().unwrap().to_owned(), e.query))
        .collect();
    deletes.sort();
    assert_eq!(
        deletes,
        [
            ("Deals".to_owned(), "ids=b,c,d%2Fe%20f".to_owned()),
            ("a%2C1".to_owned(), String::new()),
            ("a%2C2".to_owned(), String::new())
        ]
    );
    assert_eq!(emu.relation_count(), 0);
}

#[test]
fn a_pair_twice_and_invalid_rows_each_get_their_outcome() {
    let emu = emulator(2, 3, EmulatorConfig::default());
    let c = client(&emu, 0);
    c.link_all(&spec(), &BulkOptions::default(), [row(0, 0, "r"), row(0, 1, "r")]).unwrap();
    let rows = vec![
        row(0, 0, "r"),
        Ok(BulkRow { parent: Parent::external("External_Contact_ID", "c0").unwrap(), record: json!({"x": 1}) }),
        row(0, 0, "r"),
        row(1, 2, "r"),
        row(0, 1, "r"),
    ];
    let report = c.unlink_all(&spec(), &BulkOptions::default(), rows).unwrap();
    let codes: Vec<&str> = report.outcomes.iter().map(|o| o.outcome.code()).collect();
    // Row 2 repeats row 0 and waits for it: the relation is then gone. Row 3's deal is not linked to c1.
    assert_eq!(codes, ["SUCCESS", "INVALID_INPUT", "INVALID_DATA", "INVALID_DATA", "SUCCESS"]);
    assert_eq!(report.outcomes[1].outcome.details()["field"], "External_Deal_ID");
    assert_eq!(report.outcomes[2].outcome.message(), "relation not found");
    assert_eq!(emu.relation_count(), 0);
}
