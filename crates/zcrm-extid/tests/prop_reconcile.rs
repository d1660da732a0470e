//! Property, on the emulator: for random current links and random desired rows (duplicates, empty role cells,
//! parents absent from the input, with or without `unlink_missing`), applying the plan leaves every input
//! parent's links as desired and every other parent's untouched, and planning again finds nothing to do.
//!
//! One emulator serves every case (its state is reloaded from a seed per case; a static token needs no token
//! requests). Cases: `PROPTEST_CASES`, at most 128 (each case makes real HTTP calls).

mod reconcile_support;

use std::collections::BTreeMap;

use proptest::prelude::*;
use reconcile_support::*;
use zcrm_emulator::{Emulator, EmulatorConfig};
use zcrm_extid::reconcile::ApplyOptions;

const CONTACTS: usize = 4;
const DEALS: usize = 7;
const ROLES: [&str; 2] = ["r1", "r2"];

fn role() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![Just(None), Just(Some(ROLES[0])), Just(Some(ROLES[1]))]
}

/// Links: at most one per (contact, deal).
fn current() -> impl Strategy<Value = Vec<Link>> {
    proptest::collection::btree_map((0..CONTACTS, 0..DEALS), role(), 0..16)
        .prop_map(|m| m.into_iter().map(|((c, d), r)| (c, d, r)).collect())
}

/// Desired rows in any order, repeats allowed (the later row wins).
fn desired() -> impl Strategy<Value = Vec<Link>> {
    proptest::collection::vec((0..CONTACTS, 0..DEALS, role()), 0..18)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48).min(128)
}

fn expected(start: &[Link], rows: &[Link], unlink_missing: bool) -> BTreeMap<usize, BTreeMap<usize, Option<String>>> {
    let mut state: BTreeMap<usize, BTreeMap<usize, Option<String>>> =
        (0..CONTACTS).map(|c| (c, BTreeMap::new())).collect();
    for (c, d, r) in start {
        state.get_mut(c).unwrap().insert(*d, r.map(str::to_owned));
    }
    // The desired set per input parent: the last row of each pair wins.
    let mut wanted: BTreeMap<usize, BTreeMap<usize, Option<&str>>> = BTreeMap::new();
    for (c, d, r) in rows {
        wanted.entry(*c).or_default().insert(*d, *r);
    }
    for (c, pairs) in wanted {
        let links = state.get_mut(&c).unwrap();
        if unlink_missing {
            links.retain(|d, _| pairs.contains_key(d));
        }
        for (d, r) in pairs {
            match r {
                Some(r) => {
                    links.insert(d, Some(r.to_owned()));
                }
                // An empty cell leaves the role as it is (or none, for a new link).
                None => {
                    links.entry(d).or_insert(None);
                }
            }
        }
    }
    state
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn apply_of_the_plan_gives_the_desired_links(
        start in current(),
        rows in desired(),
        unlink_missing in any::<bool>(),
        v8 in any::<bool>(),
    ) {
        thread_local! {
            static EMU: Emulator = Emulator::start(EmulatorConfig::default()).unwrap();
        }
        EMU.with(|emu| {
            emu.load_seed(seed(CONTACTS, DEALS, &start)).unwrap();
            let c = client(emu, if v8 { "v8" } else { "v5" }, 0);
            let input = || rows.iter().map(|(c, d, r)| want(*c, *d, *r)).collect::<Vec<_>>();
            let plan = plan(&c, &options(unlink_missing), input());
            let report = c.apply_plan_all(&plan, &ApplyOptions::default()).unwrap();
            prop_assert_eq!(report.summary.bulk.succeeded, plan.summary().changes());
            prop_assert_eq!(links(emu, CONTACTS), expected(&start, &rows, unlink_missing));
            let again = reconcile_support::plan(&c, &options(unlink_missing), input());
            prop_assert!(again.is_empty(), "{}", again.diff_text());
            Ok(())
        })?;
    }
}
