//! Property: the `X-EXTERNAL` header of an insert names exactly the lookup paths its body uses, in every nesting
//! (plain lookups, objects in objects, subform and line-item arrays, multi-module lookups), and the body is
//! sent unchanged. Records are generated together with the pairs they use (the oracle is built with the input,
//! not by walking it again): a lookup object contributes its pair at its path, arrays add no path segment.
//! When the same path is addressed two ways (two fields, or a field here and an `id` there), the build must
//! fail instead, naming a record.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};
use zcrm_extid::records::InsertRecords;
use zcrm_extid::{ApiVersion, BaseUrl};

/// Declared external fields and their modules.
const EXTERNAL: [(&str, &str); 4] = [
    ("Accounts", "External_Account_ID"),
    ("Deals", "External_Deal_ID"),
    ("Products", "External_Product_ID"),
    ("Contacts", "External_Contact_ID"),
];

/// Keys of containers and lookups (including the default multi-module lookups).
const KEYS: [&str; 8] = ["Account_Name", "Sub", "Items", "What_Id", "participant", "Deal_Lookup", "Info", "book"];

#[derive(Debug, Clone, Default)]
struct Gen {
    value: Value,
    /// (path relative to this node, field) of each lookup by external field.
    pairs: Vec<(Vec<String>, String)>,
    /// Paths of lookups by `id`.
    by_id: Vec<Vec<String>>,
    /// A lookup holding two external fields (the build must fail).
    invalid: bool,
}

fn prefix(key: &str, g: Gen) -> Gen {
    let pre = |mut p: Vec<String>| {
        p.insert(0, key.to_owned());
        p
    };
    Gen {
        value: g.value,
        pairs: g.pairs.into_iter().map(|(p, f)| (pre(p), f)).collect(),
        by_id: g.by_id.into_iter().map(pre).collect(),
        invalid: g.invalid,
    }
}

fn leaf() -> impl Strategy<Value = Gen> {
    prop_oneof![
        "[a-z ]{0,6}".prop_map(|s| Gen { value: json!(s), ..Gen::default() }),
        any::<i32>().prop_map(|n| Gen { value: json!(n), ..Gen::default() }),
        Just(Gen { value: Value::Null, ..Gen::default() }),
        vec("[a-z]{1,3}", 0..3).prop_map(|v| Gen { value: json!(v), ..Gen::default() }),
    ]
}

fn lookup() -> impl Strategy<Value = Gen> {
    let field = select(EXTERNAL.to_vec()).prop_map(|(_, f)| f);
    prop_oneof![
        6 => (field.clone(), "[a-z0-9/ ?]{1,8}", any::<bool>()).prop_map(|(f, v, named)| {
            let mut o = Map::new();
            o.insert(f.to_owned(), json!(v));
            if named {
                o.insert("name".into(), json!("shown"));
            }
            Gen { value: Value::Object(o), pairs: vec![(vec![], f.to_owned())], ..Gen::default() }
        }),
        3 => "[0-9]{1,18}".prop_map(|id| Gen { value: json!({"id": id, "name": "n"}), by_id: vec![vec![]], ..Gen::default() }),
        1 => (field.clone(), field).prop_filter("two fields", |(a, b)| a != b).prop_map(|(a, b)| Gen {
            value: json!({a: "x", b: "y"}),
            invalid: true,
            ..Gen::default()
        }),
    ]
}

fn container(child: impl Strategy<Value = Gen>) -> impl Strategy<Value = Gen> {
    vec((select(KEYS.to_vec()), child), 1..4).prop_map(|entries| {
        let mut out = Gen { value: Value::Object(Map::new()), ..Gen::default() };
        let mut seen = BTreeSet::new();
        for (key, g) in entries {
            if !seen.insert(key) {
                continue;
            }
            let g = prefix(key, g);
            out.value.as_object_mut().unwrap().insert(key.to_owned(), g.value);
            out.pairs.extend(g.pairs);
            out.by_id.extend(g.by_id);
            out.invalid |= g.invalid;
        }
        out
    })
}

fn node() -> BoxedStrategy<Gen> {
    let base = prop_oneof![3 => leaf(), 2 => lookup()];
    base.prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            2 => container(inner.clone()),
            1 => vec(prop_oneof![container(inner.clone()), lookup()], 1..3).prop_map(|items| {
                let mut out = Gen { value: Value::Array(Vec::new()), ..Gen::default() };
                for g in items {
                    out.value.as_array_mut().unwrap().push(g.value);
                    out.pairs.extend(g.pairs);
                    out.by_id.extend(g.by_id);
                    out.invalid |= g.invalid;
                }
                out
            }),
            1 => lookup(),
        ]
    })
    .boxed()
}

fn record() -> impl Strategy<Value = Gen> {
    // A record is a container whose own keys are fields (its values may be anything).
    container(node()).prop_map(|mut g| {
        g.value.as_object_mut().unwrap().insert("Last_Name".into(), json!("x"));
        g
    })
}

/// The target module written after `->`, for the multi-module lookups (`What_Id`, `participant`).
fn target(path: &[String], field: &str) -> Option<&'static str> {
    let last = path.last().unwrap().as_str();
    (last == "What_Id" || last == "participant").then(|| EXTERNAL.iter().find(|(_, f)| *f == field).unwrap().0)
}

fn pair_text(path: &[String], field: &str) -> String {
    let arrow = target(path, field).map(|m| format!("->{m}")).unwrap_or_default();
    format!("Contacts.{}{arrow}.{field}", path.join("."))
}

proptest! {
    #![proptest_config(common::config())]

    #[test]
    fn header_names_exactly_the_lookup_paths_of_the_body(records in vec(record(), 1..4)) {
        let mut builder = InsertRecords::builder("Contacts");
        for (m, f) in EXTERNAL {
            builder = builder.external_field(m, f);
        }
        let values: Vec<Value> = records.iter().map(|g| g.value.clone()).collect();
        let result = builder.records(values.clone()).build();

        // An address is the path, and for a multi-module lookup also the target module.
        let mut fields_by_address: BTreeMap<(Vec<String>, Option<&str>), BTreeSet<String>> = BTreeMap::new();
        for g in &records {
            for (p, f) in &g.pairs {
                fields_by_address.entry((p.clone(), target(p, f))).or_default().insert(f.clone());
            }
        }
        let by_id: BTreeSet<Vec<String>> = records.iter().flat_map(|g| g.by_id.iter().cloned()).collect();
        let two_ways = fields_by_address.iter().any(|((p, _), fs)| fs.len() > 1 || by_id.contains(p));
        let invalid = records.iter().any(|g| g.invalid);

        match result {
            Ok(insert) => {
                prop_assert!(!two_ways && !invalid, "built although a path is addressed two ways: {values:?}");
                let want: BTreeSet<String> =
                    fields_by_address.iter().map(|((p, _), fs)| pair_text(p, fs.iter().next().unwrap())).collect();
                let http = insert.prepare(&BaseUrl::parse("https://www.zohoapis.com").unwrap(), ApiVersion::V8);
                let header = http.headers().into_iter().find(|(n, _)| *n == "X-EXTERNAL").map(|(_, v)| v);
                let got: Vec<String> = header.map(|h| h.split(',').map(str::to_owned).collect()).unwrap_or_default();
                let got_set: BTreeSet<String> = got.iter().cloned().collect();
                prop_assert_eq!(got.len(), got_set.len(), "a pair twice in {:?}", got);
                prop_assert_eq!(got_set, want);
                let body: Value = serde_json::from_str(http.body_str()).unwrap();
                prop_assert_eq!(body, json!({"data": values}), "the body is sent as given");
            }
            Err(e) => {
                prop_assert!(two_ways || invalid, "refused a valid body: {e} for {values:?}");
                prop_assert!(e.index.is_some() && e.argument == "data", "{e}");
            }
        }
    }
}
