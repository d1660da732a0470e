//! `X-EXTERNAL`: build -> text -> parse round trips, whitespace tolerance, duplicate addresses, and no panics on
//! garbage.

mod common;

use common::config;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use zcrm_extid::{ExternalPair, FieldName, ModuleName, XExternal};

/// API names from a small pool (so addresses collide) or random.
fn api_name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => select(vec!["Contacts", "Deals", "Account_Name", "What_Id", "External_ID", "id", "_x"])
            .prop_map(str::to_owned),
        1 => "[A-Za-z_][A-Za-z0-9_]{0,12}",
    ]
}

fn pair() -> impl Strategy<Value = ExternalPair> {
    let m = || api_name().prop_map(|s| ModuleName::new(s).unwrap());
    let f = || api_name().prop_map(|s| FieldName::new(s).unwrap());
    prop_oneof![
        // Module.Field
        3 => (m(), f()).prop_map(|(module, field)| ExternalPair::simple(module, field)),
        // Module.Lookup[.Lookup...].Field
        2 => (m(), vec(f(), 1..4), f())
            .prop_map(|(module, lookups, field)| ExternalPair { module, lookups, target: None, field }),
        // Module[.Lookup...].Lookup->Target.Field
        2 => (m(), vec(f(), 1..3), m(), f())
            .prop_map(|(module, lookups, target, field)| ExternalPair { module, lookups, target: Some(target), field }),
    ]
}

fn address(p: &ExternalPair) -> (String, Vec<String>, Option<String>) {
    (
        p.module.to_string(),
        p.lookups.iter().map(ToString::to_string).collect(),
        p.target.as_ref().map(ToString::to_string),
    )
}

/// Pairs with distinct addresses (module + lookup path + target), first occurrence kept.
fn distinct_pairs() -> impl Strategy<Value = Vec<ExternalPair>> {
    vec(pair(), 1..6).prop_map(|pairs| {
        let mut seen = std::collections::HashSet::new();
        pairs.into_iter().filter(|p| seen.insert(address(p))).collect()
    })
}

/// Header-like garbage: the header's own characters, in any order, plus control characters.
fn garbage() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        vec(any::<char>(), 0..20).prop_map(|c| c.into_iter().collect()),
        vec(select(vec!["Contacts", "F", ".", ",", "->", "-", ">", " ", "\t", "\r\n", "\0", "é", "1", "_"]), 0..12)
            .prop_map(|p| p.concat()),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn build_then_parse_is_identity(pairs in distinct_pairs()) {
        let header = XExternal::new(pairs.clone()).unwrap();
        prop_assert_eq!(header.pairs(), &pairs[..]);
        let text = header.to_string();
        prop_assert!(!text.contains([' ', '\t', '\r', '\n']), "{}", text);
        prop_assert_eq!(XExternal::parse(&text).unwrap(), header.clone());
        prop_assert_eq!(text.parse::<XExternal>().unwrap(), header);
        // Each pair prints as the documented grammar.
        for p in &pairs {
            let mut want = p.module.to_string();
            for l in &p.lookups {
                want.push('.');
                want.push_str(l.as_str());
            }
            match &p.target {
                Some(t) => want.push_str(&format!("->{t}.{}", p.field)),
                None => want.push_str(&format!(".{}", p.field)),
            }
            prop_assert_eq!(p.to_string(), want);
        }
    }

    #[test]
    fn whitespace_around_pairs_is_ignored(
        pairs in distinct_pairs(),
        pads in vec(("[ \t]{0,3}", "[ \t]{0,3}"), 6),
    ) {
        let header = XExternal::new(pairs.clone()).unwrap();
        let text = pairs
            .iter()
            .zip(&pads)
            .map(|(p, (before, after))| format!("{before}{p}{after}"))
            .collect::<Vec<_>>()
            .join(",");
        prop_assert_eq!(XExternal::parse(&text).unwrap(), header);
    }

    /// `new` accepts a pair list exactly when no two pairs share an address.
    #[test]
    fn duplicate_addresses_are_rejected(pairs in vec(pair(), 1..6)) {
        let mut seen = std::collections::HashSet::new();
        let distinct = pairs.iter().all(|p| seen.insert(address(p)));
        let built = XExternal::new(pairs.clone());
        prop_assert_eq!(built.is_ok(), distinct);
        let text = pairs.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
        prop_assert_eq!(XExternal::parse(&text).is_ok(), distinct);
    }

    #[test]
    fn garbage_never_panics(text in garbage()) {
        if let Ok(header) = XExternal::parse(&text) {
            // Whatever parses prints canonically and parses back the same.
            let canonical = header.to_string();
            prop_assert_eq!(XExternal::parse(&canonical).unwrap(), header);
            prop_assert!(!text.contains(['\r', '\n', '\0']), "{:?} parsed", text);
        }
    }
}
