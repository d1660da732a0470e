//! Header / URL / body consistency of "update related records" requests, against an independent oracle.
//!
//! The oracle re-states the documented rules (module docs of `related.rs`, `names.rs`) without calling the
//! library's validation; the builder must accept exactly the inputs the oracle calls valid, reject the others at
//! a location that really is at fault, and every accepted request must have a header, a URL and a body that agree.

mod common;

use std::collections::HashSet;

use common::{Input, ParentIn, build, config, input, is_unreserved};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use zcrm_extid::url::decode_segment;
use zcrm_extid::{BaseUrl, InvalidInput, Secret, UpdateRelated, XExternal};

// ------------------------------------------------------------------------------------------------ the oracle

/// Zoho API-name grammar `^[A-Za-z_][A-Za-z0-9_]*$`.
fn api_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

fn record_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parent_ok(p: &ParentIn) -> bool {
    match p {
        ParentIn::Id(id) => record_id(id),
        ParentIn::External { field, value } => api_name(field) && !value.is_empty(),
    }
}

fn related_field_ok(input: &Input) -> bool {
    input.related_field.as_deref().is_none_or(|f| api_name(f) && f != "id")
}

/// Either side external when the related module is the base module: an X-EXTERNAL pair for that module could not
/// say which side it means.
fn same_module_both_external(input: &Input) -> bool {
    (matches!(input.parent, ParentIn::External { .. }) || input.related_field.is_some())
        && input.module == input.effective_related_module()
}

/// The record on its own (not counting duplicates): an object, API-name keys, the key present as a non-empty
/// string; an id key is digits; an external key comes without `id`.
fn record_ok(input: &Input, record: &Value) -> bool {
    let Value::Object(map) = record else { return false };
    if !map.keys().all(|k| api_name(k)) {
        return false;
    }
    let key = input.key();
    match map.get(key) {
        Some(Value::String(s)) if !s.is_empty() => {
            if input.related_field.is_none() {
                record_id(s)
            } else {
                !map.contains_key("id")
            }
        }
        _ => false,
    }
}

/// The first record that is bad on its own or repeats an earlier record's key.
fn first_bad_record(input: &Input) -> Option<usize> {
    let mut seen = HashSet::new();
    for (i, r) in input.records.iter().enumerate() {
        if !record_ok(input, r) || !seen.insert(r[input.key()].as_str().unwrap().to_owned()) {
            return Some(i);
        }
    }
    None
}

fn count_ok(input: &Input) -> bool {
    (1..=100).contains(&input.records.len())
}

fn oracle_valid(input: &Input) -> bool {
    api_name(&input.module)
        && api_name(&input.related_list)
        && input.related_module.as_deref().is_none_or(api_name)
        && parent_ok(&input.parent)
        && related_field_ok(input)
        && !same_module_both_external(input)
        && count_ok(input)
        && first_bad_record(input).is_none()
}

/// Is the rejection's location really at fault?
fn error_is_justified(input: &Input, e: &InvalidInput) -> Result<(), String> {
    let ok = match (e.argument.as_str(), e.index) {
        ("module", None) => !api_name(&input.module),
        ("related_list", None) => !api_name(&input.related_list),
        ("related_module", None) => input.related_module.as_deref().is_some_and(|m| !api_name(m)),
        ("related_field", None) => !related_field_ok(input),
        ("parent.id", None) => matches!(&input.parent, ParentIn::Id(id) if !record_id(id)),
        ("parent.field", None) => matches!(&input.parent, ParentIn::External { field, .. } if !api_name(field)),
        ("parent.value", None) => matches!(&input.parent, ParentIn::External { value, .. } if value.is_empty()),
        ("x_external", None) => same_module_both_external(input),
        ("data", None) => !count_ok(input),
        // Records are checked in order: the reported one is the first bad one.
        ("data", Some(i)) => count_ok(input) && first_bad_record(input) == Some(i),
        _ => false,
    };
    if ok { Ok(()) } else { Err(format!("rejected at {} ({e}), which is not at fault", e.location())) }
}

// ------------------------------------------------------------------------------------------------ checks

/// Same values and the same key order, recursively.
fn same_order(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same_order(va, vb))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_order(p, q)),
        _ => a == b,
    }
}

fn check_accepted(input: &Input, req: &UpdateRelated) -> Result<(), TestCaseError> {
    let base = BaseUrl::parse(input.base).unwrap();
    let http = req.prepare(&base, input.version).with_token(Secret::new("1000.tok"));
    let related_module = input.effective_related_module();

    // X-EXTERNAL: base pair iff the parent is external, related pair iff keyed by an external field.
    let mut want_pairs = Vec::new();
    if let ParentIn::External { field, .. } = &input.parent {
        want_pairs.push(format!("{}.{field}", input.module));
    }
    if let Some(f) = &input.related_field {
        want_pairs.push(format!("{related_module}.{f}"));
    }
    let headers = http.headers();
    let header = headers.iter().find(|(n, _)| *n == "X-EXTERNAL").map(|(_, v)| v.clone());
    let mut want_headers = vec![("Authorization", "Zoho-oauthtoken 1000.tok".to_owned())];
    match &header {
        None => prop_assert!(want_pairs.is_empty(), "no X-EXTERNAL, but it should name {want_pairs:?}"),
        Some(text) => {
            let parsed = XExternal::parse(text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
            prop_assert_eq!(Some(parsed.clone()), req.x_external());
            let got: Vec<String> = parsed.pairs().iter().map(|p| p.to_string()).collect();
            prop_assert_eq!(&got, &want_pairs);
            prop_assert!(parsed.pairs().iter().all(|p| p.is_simple()));
            want_headers.push(("X-EXTERNAL", text.clone()));
        }
    }
    want_headers.push(("Content-Type", "application/json".to_owned()));
    prop_assert_eq!(&headers, &want_headers);

    // URL: exactly crm / v / module / enc(parent) / related_list after the base.
    let url = http.url();
    let rest = url.strip_prefix(base.as_str()).ok_or_else(|| TestCaseError::fail(format!("{url} vs {base}")))?;
    prop_assert!(!url.contains(['?', '#']), "{}", url);
    let segments: Vec<&str> = rest.split('/').collect();
    prop_assert_eq!(segments.len(), 6, "{}", rest);
    prop_assert_eq!(segments[0], "");
    prop_assert_eq!(segments[1], "crm");
    prop_assert_eq!(segments[2], input.version.as_str());
    prop_assert_eq!(segments[3], input.module.as_str());
    prop_assert_eq!(segments[5], input.related_list.as_str());
    let seg = segments[4];
    prop_assert!(seg != "." && seg != "..", "dot segment {}", seg);
    prop_assert!(seg.bytes().all(|b| is_unreserved(b) || b == b'%'), "{}", seg);
    prop_assert_eq!(decode_segment(seg), Some(input.parent.value().to_owned()));
    prop_assert_eq!(req.path(input.version), rest);

    // Body: {"data": records}, same records, same order, same key order.
    let body: Value = serde_json::from_slice(http.body()).unwrap();
    let want = json!({ "data": input.records.clone() });
    prop_assert!(same_order(&body, &want), "body {} != {}", http.body_str(), want);
    prop_assert_eq!(http.body_str(), serde_json::to_string(&want).unwrap());
    prop_assert_eq!(req.records().len(), input.records.len());

    // from_header with the same pieces (a curl command's view) rebuilds the same request (accepted requests never
    // have a header when the related module is the base module).
    {
        let again = UpdateRelated::from_header(
            &input.module,
            input.parent.value(),
            &input.related_list,
            input.related_module.as_deref(),
            header.as_deref(),
            input.records.clone(),
        );
        prop_assert_eq!(again.as_ref(), Ok(req));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn builder_accepts_exactly_the_valid_inputs(input in input()) {
        let valid = oracle_valid(&input);
        match build(&input) {
            Ok(req) => {
                prop_assert!(valid, "accepted an input the rules reject");
                check_accepted(&input, &req)?;
            }
            Err(e) => {
                prop_assert!(!valid, "rejected a valid input: {}", e);
                error_is_justified(&input, &e).map_err(TestCaseError::fail)?;
            }
        }
    }
}

/// The generator is not vacuous: a fair share of inputs is valid, a fair share invalid, and big ones occur.
#[test]
fn generator_covers_valid_and_invalid_inputs() {
    let mut runner = TestRunner::deterministic();
    let strategy = input();
    let (mut valid, mut invalid, mut big_valid, mut both_ext) = (0, 0, 0, 0);
    for _ in 0..1000 {
        let i = strategy.new_tree(&mut runner).unwrap().current();
        if oracle_valid(&i) {
            valid += 1;
            big_valid += usize::from(i.records.len() > 50);
            both_ext += usize::from(matches!(i.parent, ParentIn::External { .. }) && i.related_field.is_some());
        } else {
            invalid += 1;
        }
    }
    eprintln!(
        "1000 generated inputs: {valid} valid ({big_valid} with > 50 records, {both_ext} both external), \
         {invalid} invalid"
    );
    assert!(valid >= 200 && invalid >= 200, "valid {valid}, invalid {invalid}");
    assert!(big_valid >= 10 && both_ext >= 25, "big valid {big_valid}, both external {both_ext}");
}
