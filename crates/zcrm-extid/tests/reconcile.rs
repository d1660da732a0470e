//! Reconcile against the emulator: plan on an empty org, idempotence, updates, unlinks only when asked and only
//! for input parents, the max_unlinks guard, a change between plan and apply, faults during apply, JSON.

mod reconcile_support;

use std::collections::BTreeMap;

use reconcile_support::plan as make_plan;
use reconcile_support::*;
use serde_json::json;
use zcrm_emulator::Fault;
use zcrm_extid::bulk::{BulkOptions, BulkRow, Cancel};
use zcrm_extid::reconcile::{ApplyOptions, ChangeKind, MaxUnlinks, Plan, PlanOptions};
use zcrm_extid::{ErrorCode, Parent};

fn kinds(plan: &Plan) -> Vec<(String, String, ChangeKind)> {
    plan.changes().map(|(p, c)| (p.path_value().to_owned(), c.label(), c.kind)).collect()
}

fn map(entries: &[(usize, Option<&str>)]) -> BTreeMap<usize, Option<String>> {
    entries.iter().map(|(d, r)| (*d, r.map(str::to_owned))).collect()
}

#[test]
fn an_empty_org_plans_every_pair_as_a_link_and_applying_it_leaves_nothing_to_do() {
    let emu = emulator(3, 10, &[]);
    let c = client(&emu, "v8", 0);
    let desired = || vec![want(0, 0, Some("r1")), want(0, 1, None), want(1, 2, Some("r2")), want(2, 3, Some("r1"))];
    let plan = make_plan(&c, &options(true), desired());
    let s = plan.summary();
    assert_eq!((s.links, s.updates, s.unlinks, s.unchanged, s.current_links), (4, 0, 0, 0, 0));
    assert_eq!((s.parents, s.read_calls, s.rows), (3, 3, 4));
    assert!(writes(&emu).is_empty(), "planning changes nothing");
    assert!(kinds(&plan).iter().all(|k| k.2 == ChangeKind::Link));
    let report = c.apply_plan_all(&plan, &ApplyOptions::default()).unwrap();
    assert_eq!((report.summary.bulk.rows, report.summary.bulk.succeeded), (4, 4));
    assert_eq!(report.summary.read_calls, 3, "each changed parent read again before its writes");
    assert_eq!(report.outcomes.iter().map(|o| o.row).collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert_eq!(links(&emu, 3)[&0], map(&[(0, Some("r1")), (1, None)]));
    // Applied: planning again finds nothing to do.
    let again = make_plan(&c, &options(true), desired());
    assert!(again.is_empty(), "{}", again.diff_text());
    assert_eq!(again.summary().unchanged, 4);
}

#[test]
fn a_role_change_is_an_update_only_in_either_shape_of_the_role() {
    for version in ["v5", "v8"] {
        let emu = emulator(1, 3, &[(0, 0, Some("r1")), (0, 1, Some("r1")), (0, 2, None)]);
        let c = client(&emu, version, 0);
        let desired = vec![want(0, 0, Some("r1")), want(0, 1, Some("r2")), want(0, 2, Some("r2"))];
        let plan = make_plan(&c, &options(true), desired);
        assert_eq!(
            kinds(&plan),
            [("c0".into(), "d1".into(), ChangeKind::Update), ("c0".into(), "d2".into(), ChangeKind::Update)],
            "{version}"
        );
        let diff = plan.diff_text();
        let before = if version == "v8" { r#"{"id":"r1"}"# } else { r#""r1""# };
        assert!(diff.contains(&format!("~ c0  d1  Contact_Role: {before} -> \"r2\"")), "{version}: {diff}");
        c.apply_plan_all(&plan, &ApplyOptions::default()).unwrap();
        let w = writes(&emu);
        assert_eq!(w.len(), 1, "one PUT carries both updates");
        assert_eq!(w[0].method, "PUT");
        assert_eq!(links(&emu, 1)[&0], map(&[(0, Some("r1")), (1, Some("r2")), (2, Some("r2"))]));
    }
}

#[test]
fn unlink_missing_off_never_deletes_and_on_deletes_exactly_the_extra_pairs_of_input_parents() {
    let start = [(0, 0, Some("r")), (0, 1, Some("r")), (0, 2, None), (1, 3, Some("r")), (2, 4, Some("r"))];
    let desired = || vec![want(0, 0, Some("r")), want(1, 5, Some("r"))]; // contact 2 is not in the input
    let emu = emulator(3, 6, &start);
    let c = client(&emu, "v5", 0);
    let off = make_plan(&c, &options(false), desired());
    assert_eq!(kinds(&off), [("c1".into(), "d5".into(), ChangeKind::Link)]);
    c.apply_plan_all(&off, &ApplyOptions::default()).unwrap();
    assert!(writes(&emu).iter().all(|e| e.method != "DELETE"));
    assert_eq!(emu.relation_count(), 6);

    let on = make_plan(&c, &options(true), desired());
    assert_eq!(
        kinds(&on),
        [
            ("c0".into(), "d1".into(), ChangeKind::Unlink),
            ("c0".into(), "d2".into(), ChangeKind::Unlink),
            ("c1".into(), "d3".into(), ChangeKind::Unlink)
        ]
    );
    assert_eq!(on.summary().current_links, 5, "the input's parents only");
    emu.clear_journal();
    let report = c.apply_plan_all(&on, &ApplyOptions::default()).unwrap();
    assert_eq!(report.summary.bulk.succeeded, 3);
    let deletes: Vec<String> = writes(&emu).iter().map(|e| format!("{}?{}", e.path, e.query)).collect();
    assert_eq!(deletes.len(), 2, "one DELETE per parent: {deletes:?}");
    assert!(deletes.iter().any(|d| d.ends_with("/c0/Deals?ids=d1,d2")), "{deletes:?}");
    let now = links(&emu, 3);
    assert_eq!(now[&0], map(&[(0, Some("r"))]));
    assert_eq!(now[&1], map(&[(5, Some("r"))]));
    assert_eq!(now[&2], map(&[(4, Some("r"))]), "a parent absent from the input is untouched");
}

#[test]
fn a_linked_record_without_an_external_value_is_unlinked_by_id() {
    let emu = emulator(1, 2, &[(0, 0, None), (0, 1, None)]);
    // Deal 1 loses its external value (made in Zoho's UI, say): the input cannot name it.
    let mut extra = serde_json::Map::new();
    extra.insert("id".into(), json!("300000000099999999"));
    emu.insert_records("Deals", vec![extra]).unwrap();
    let c = client(&emu, "v8", 0);
    let mut seed = seed(1, 2, &[(0, 0, None)]);
    seed.relations.push(zcrm_emulator::seed::SeedRelation {
        module: "Contacts".into(),
        record: contact_id(0),
        related_list: "Deals".into(),
        related: "300000000099999999".into(),
        fields: Default::default(),
        modified_time: None,
    });
    seed.modules
        .get_mut("Deals")
        .unwrap()
        .records
        .push(json!({"id": "300000000099999999", "Deal_Name": "no external id"}).as_object().unwrap().clone());
    emu.load_seed(seed).unwrap();
    let plan = make_plan(&c, &options(true), vec![want(0, 0, None)]);
    assert_eq!(kinds(&plan), [("c0".into(), "#300000000099999999".into(), ChangeKind::Unlink)]);
    let report = c.apply_plan_all(&plan, &ApplyOptions::default()).unwrap();
    assert!(report.outcomes[0].outcome.is_success(), "{:?}", report.outcomes[0]);
    let w = writes(&emu);
    assert!(w[0].path.ends_with("/c0/Deals/300000000099999999"), "{:?}", w[0].path);
    assert_eq!(w[0].header("x-external"), Some("Contacts.External_Contact_ID"), "no related pair for an id");
    assert_eq!(links(&emu, 1)[&0], map(&[(0, None)]));
}

#[test]
fn the_max_unlinks_guard_refuses_the_whole_plan_before_anything_is_sent() {
    let start: Vec<Link> = (0..10).map(|d| (0, d, None)).collect();
    let emu = emulator(1, 11, &start);
    let c = client(&emu, "v5", 0);
    let desired = vec![want(0, 0, None), want(0, 10, None)]; // 9 unlinks, 1 link
    let guarded = PlanOptions { max_unlinks: Some("50%".parse().unwrap()), ..options(true) };
    let plan = make_plan(&c, &guarded, desired);
    assert_eq!((plan.summary().unlinks, plan.unlinks_allowed()), (9, Some(5)));
    assert!(plan.summary_text().contains("will NOT be applied"), "{}", plan.summary_text());
    emu.clear_journal();
    let e = c.apply_plan_all(&plan, &ApplyOptions::default()).unwrap_err();
    assert_eq!(e.invalid_input().map(|i| i.argument.as_str()), Some("max_unlinks"), "{e}");
    assert!(e.to_string().contains("unlinks 9") && e.to_string().contains("allows 5"), "{e}");
    assert!(emu.journal().is_empty(), "not even a read");
    // A count works the same way; raising the guard at apply time lets it through.
    let e = c
        .apply_plan_all(&plan, &ApplyOptions { max_unlinks: Some(MaxUnlinks::Count(8)), ..ApplyOptions::default() })
        .unwrap_err();
    assert_eq!(e.invalid_input().unwrap().argument, "max_unlinks");
    let ok =
        c.apply_plan_all(&plan, &ApplyOptions { max_unlinks: Some(MaxUnlinks::Count(9)), ..ApplyOptions::default() });
    assert_eq!(ok.unwrap().summary.bulk.succeeded, 10);
    assert_eq!(links(&emu, 1)[&0], map(&[(0, None), (10, None)]));
}

#[test]
fn a_parent_changed_between_plan_and_apply_is_refused_and_the_others_applied() {
    let emu = emulator(3, 10, &[(0, 0, Some("r")), (1, 1, Some("r")), (2, 2, Some("r"))]);
    let c = client(&emu, "v8", 0);
    let desired = vec![want(0, 5, Some("r")), want(1, 6, Some("r")), want(2, 7, Some("r")), want(2, 2, Some("x"))];
    let plan = make_plan(&c, &options(true), desired);
    assert_eq!(plan.summary().changes(), 6); // per contact: a link, and an unlink or an update
    // Someone changes contact 1's links (a new deal) and contact 2's role after the plan was made.
    c.link_all(
        &zcrm_extid::bulk::BulkSpec::builder("Contacts", "Deals")
            .related_by_external("External_Deal_ID")
            .build()
            .unwrap(),
        &BulkOptions::default(),
        [
            Ok(BulkRow {
                parent: Parent::external("External_Contact_ID", "c1").unwrap(),
                record: json!({"External_Deal_ID": "d9"}),
            }),
            Ok(BulkRow {
                parent: Parent::external("External_Contact_ID", "c2").unwrap(),
                record: json!({"External_Deal_ID": "d2", "Contact_Role": "y"}),
            }),
        ],
    )
    .unwrap();
    let before = links(&emu, 3);
    emu.clear_journal();
    let report = c.apply_plan_all(&plan, &ApplyOptions::default()).unwrap();
    assert_eq!((report.summary.refused_parents, report.summary.refused_changes), (2, 4));
    for o in &report.outcomes {
        if &*o.parent == "c0" {
            assert!(o.outcome.is_success(), "{o:?}");
        } else {
            assert_eq!(o.outcome.code(), ErrorCode::ChangedSincePlanning.as_str(), "{o:?}");
            assert_eq!(o.attempts, 0);
            assert_eq!(o.outcome.details()["parent"], json!(&*o.parent));
        }
    }
    let w = writes(&emu);
    assert!(w.iter().all(|e| e.path.contains("/c0/")), "nothing sent for refused parents: {w:?}");
    let after = links(&emu, 3);
    assert_eq!((&after[&1], &after[&2]), (&before[&1], &before[&2]));
    assert_eq!(after[&0], map(&[(5, Some("r"))]));
    assert_eq!((report.summary.bulk.rows, report.summary.bulk.failed), (6, 4));
    // Without the recheck the stale plan would have been applied.
    let unchecked = ApplyOptions { recheck: false, ..ApplyOptions::default() };
    let report = c.apply_plan_all(&plan, &unchecked).unwrap();
    assert_eq!(report.summary.refused_parents, 0);
}

#[test]
fn faults_during_apply_still_end_in_the_desired_state() {
    // 40 contacts x 30 deals linked; the desired set moves a third of them, changes roles, unlinks others.
    let start: Vec<Link> = (0..1200).map(|d| (d % 40, d, Some("r1"))).collect();
    let emu = emulator(40, 1600, &start);
    let c = client(&emu, "v8", 12);
    let mut desired = Vec::new();
    let mut expected: BTreeMap<usize, BTreeMap<usize, Option<String>>> = BTreeMap::new();
    for d in 0..1600usize {
        let contact = d % 40;
        let (keep, role) = match d % 6 {
            0 => (false, "r1"),                  // unlinked
            1 => (true, "r2"),                   // role change
            _ => (d < 1200 || d % 2 == 0, "r1"), // unchanged, or a new link
        };
        if keep {
            desired.push(want(contact, d, Some(role)));
            expected.entry(contact).or_default().insert(d, Some(role.to_owned()));
        }
    }
    let plan = make_plan(&c, &options(true), desired.clone());
    let s = plan.summary().clone();
    assert!(s.links > 100 && s.updates > 100 && s.unlinks > 100, "{s:?}");
    emu.push_fault(Fault::status(500).with_probability(0.05).forever());
    emu.push_fault(Fault::status(429).with_probability(0.03).forever());
    emu.push_fault(Fault::drop_connection().with_probability(0.02).forever());
    emu.push_fault(Fault::drop_connection().after().with_probability(0.02).forever());
    let mut seen = 0;
    let summary = c
        .apply_plan(
            &plan,
            &ApplyOptions { window: 7, ..ApplyOptions::default() },
            &mut |o| {
                seen += 1;
                assert!(o.outcome.is_success(), "{o:?}");
            },
            &mut |_| {},
            &Cancel::new(),
        )
        .unwrap();
    emu.clear_faults();
    assert_eq!(seen as u64, s.changes());
    assert!(summary.bulk.retries > 0, "the faults were met: {:?}", summary.bulk);
    assert_eq!(links(&emu, 40), expected);
    assert!(make_plan(&c, &options(true), desired).is_empty());
}

#[test]
fn a_plan_survives_json_and_is_applied_as_reviewed() {
    let emu = emulator(2, 6, &[(0, 0, Some("r1")), (0, 1, None), (1, 2, Some("r1"))]);
    let c = client(&emu, "v8", 0);
    let desired = vec![want(0, 0, Some("r2")), want(0, 3, Some("r\"1\n")), want(1, 4, None)];
    let guarded = PlanOptions { max_unlinks: Some("2".parse().unwrap()), ..options(true) };
    let plan = make_plan(&c, &guarded, desired);
    let text = plan.to_json();
    let loaded = Plan::from_json(&text).unwrap();
    assert_eq!(loaded, plan);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!((v["format"].as_str(), v["version"].as_u64()), (Some("zcrm-extid.plan"), Some(1)));
    assert_eq!(v["options"]["max_unlinks"], "2");
    // A reviewer drops the unlink of d2 from the file: it is applied without it.
    let mut edited = v.clone();
    let parents = edited["parents"].as_array_mut().unwrap();
    let c1 = parents.iter_mut().find(|p| p["parent"] == "c1").unwrap();
    c1["changes"].as_array_mut().unwrap().retain(|ch| ch["op"] != "unlink");
    let reviewed = Plan::from_json(&edited.to_string()).unwrap();
    assert_eq!((reviewed.summary().unlinks, plan.summary().unlinks), (1, 2));
    assert!(!reviewed.diff_text().contains("c1  d2"), "{}", reviewed.diff_text());
    assert!(reviewed.diff_text().contains(r#"Contact_Role="r\"1\n""#), "escaped: {}", reviewed.diff_text());
    c.apply_plan_all(&reviewed, &ApplyOptions::default()).unwrap();
    let now = links(&emu, 2);
    assert_eq!(now[&0], map(&[(0, Some("r2")), (3, Some("r\"1\n"))]));
    assert_eq!(now[&1], map(&[(2, Some("r1")), (4, None)]), "the dropped unlink was not sent");
    // Unknown versions and formats are refused, not guessed at.
    let mut v2 = v.clone();
    v2["version"] = json!(2);
    assert_eq!(Plan::from_json(&v2.to_string()).unwrap_err().argument, "plan.version");
    let mut bad = v;
    bad["parents"][0]["changes"][0]["op"] = json!("relink");
    assert!(Plan::from_json(&bad.to_string()).unwrap_err().argument.starts_with("plan.parents[0].changes"));
}

#[test]
fn invalid_rows_are_listed_and_withhold_unlinks() {
    let emu = emulator(2, 4, &[(0, 0, None), (0, 1, None), (1, 2, None)]);
    let c = client(&emu, "v5", 0);
    let rows = vec![
        want(0, 0, None),
        Ok(BulkRow { parent: Parent::external("External_Contact_ID", "c1").unwrap(), record: json!({"Other": 1}) }),
        Ok(BulkRow { parent: Parent::id("1").unwrap(), record: json!({"External_Deal_ID": "d3"}) }),
    ];
    let plan = make_plan(&c, &options(true), rows);
    let s = plan.summary();
    assert_eq!((s.invalid_rows, s.unlinks, s.withheld_unlinks), (2, 0, 1));
    let invalid: Vec<(usize, &str)> = plan.invalid().iter().map(|r| (r.row, r.location.as_str())).collect();
    assert_eq!(invalid, [(1, "data[1].External_Deal_ID"), (2, "parent[2]")]);
    assert!(plan.summary_text().contains("1 unlinks withheld"), "{}", plan.summary_text());
}

#[test]
fn planning_stops_at_an_error_that_would_fail_every_read() {
    let emu = emulator(2, 2, &[]);
    let c = zcrm_extid::Client::builder().access_token("1000.not.a.token").base_url(emu.base_url()).build().unwrap();
    let e = c
        .plan_links(&spec(), &options(false), vec![want(0, 0, None), want(1, 1, None)], &mut |_| {}, &Cancel::new())
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidToken, "{e}");
    // An unknown parent is a failed read for that parent only.
    let c = client(&emu, "v8", 0);
    let plan = make_plan(&c, &options(true), vec![want(0, 0, None), want(7, 1, None)]);
    assert_eq!((plan.summary().parents_failed, plan.summary().links), (1, 1));
    assert!(plan.diff_text().contains("! c7  could not be read"), "{}", plan.diff_text());
}
