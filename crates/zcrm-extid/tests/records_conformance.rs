//! Runs the language-neutral records cases (`tests/conformance/records_*.json`, format in
//! `tests/conformance/README.md`) against the core, through [`RecordsArgs`] as the bindings' `prepare_records`
//! does. Every case runs; all mismatches are reported together; a missing or empty file fails.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value};
use zcrm_extid::records::outcome::parse_records;
use zcrm_extid::records::pages::parse_page;
use zcrm_extid::records::spec::{Ids, RecordsArgs};
use zcrm_extid::transport::HttpResponse;
use zcrm_extid::{ApiVersion, Client, Error, Secret};

fn load<T: for<'de> Deserialize<'de>>(file: &str) -> Vec<T> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let cases: Vec<T> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is malformed: {e}", path.display()));
    assert!(!cases.is_empty(), "{} has no cases", path.display());
    cases
}

fn run_all<C>(file: &str, cases: &[C], name: impl Fn(&C) -> &str, check: impl Fn(&C) -> Result<(), String>) {
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for case in cases {
        assert!(names.insert(name(case).to_owned()), "{file}: duplicate case name {:?}", name(case));
        if let Err(why) = check(case) {
            failures.push(format!("  - {}: {why}", name(case)));
        }
    }
    eprintln!("{file}: {} cases run, {} failed", cases.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{file}: {} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn ensure<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want { Ok(()) } else { Err(format!("{what}: got {got:?}, expected {want:?}")) }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestCase {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    input: Input,
    expected: Option<Expected>,
    expected_error: Option<ExpectedError>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum IdsIn {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    base_url: String,
    api_version: String,
    access_token: String,
    operation: String,
    module: String,
    records: Option<Vec<Value>>,
    key: Option<String>,
    id: Option<String>,
    ids: Option<IdsIn>,
    values: Option<Vec<String>>,
    fields: Option<Vec<String>>,
    page: Option<u32>,
    per_page: Option<u32>,
    page_token: Option<String>,
    external_fields: Option<Vec<String>>,
    duplicate_check_fields: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedError {
    code: String,
    location: String,
}

fn check_request(case: &RequestCase) -> Result<(), String> {
    let i = &case.input;
    let built = (|| -> Result<_, Error> {
        let version: ApiVersion = i.api_version.parse()?;
        let client = Client::builder()
            .access_token(i.access_token.as_str())
            .base_url(i.base_url.as_str())
            .api_version(version)
            .build()?;
        let call = RecordsArgs {
            operation: i.operation.clone(),
            module: i.module.clone(),
            records: i.records.clone(),
            key: i.key.clone(),
            id: i.id.clone(),
            ids: i.ids.as_ref().map(|v| match v {
                IdsIn::One(s) => Ids::One(s.clone()),
                IdsIn::Many(v) => Ids::Many(v.clone()),
            }),
            values: i.values.clone(),
            fields: i.fields.clone(),
            page: i.page,
            per_page: i.per_page,
            page_token: i.page_token.clone(),
            external_fields: i.external_fields.clone(),
            duplicate_check_fields: i.duplicate_check_fields.clone(),
        }
        .build()?;
        Ok(call.prepare(client.base_url(), client.api_version()).with_token(Secret::new(i.access_token.as_str())))
    })();
    match (&case.expected, &case.expected_error, built) {
        (Some(want), None, Ok(p)) => {
            ensure("method", p.method().as_str(), want.method.as_str())?;
            ensure("url", p.url(), want.url.as_str())?;
            let headers: Vec<(String, String)> = p.headers().into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
            ensure("headers", &headers, &want.headers)?;
            ensure("body", p.body_str(), want.body.as_str())?;
            if p.to_curl().contains(&i.access_token) {
                return Err("to_curl() shows the token".into());
            }
            Ok(())
        }
        (None, Some(want), Err(e)) => {
            let location = match &e {
                Error::InvalidInput(ii) => ii.location(),
                Error::InvalidConfig { setting, .. } => setting.clone(),
                other => return Err(format!("unexpected error {other}")),
            };
            ensure("code", e.code().as_str(), want.code.as_str())?;
            ensure(&format!("location ({e})"), location.as_str(), want.location.as_str())
        }
        (Some(_), None, Err(e)) => Err(format!("expected a request, got {e}")),
        (None, Some(want), Ok(p)) => Err(format!("expected {} at {}, built {}", want.code, want.location, p.url())),
        _ => Err("a case needs exactly one of `expected` and `expected_error`".into()),
    }
}

#[test]
fn records_request_cases() {
    let cases: Vec<RequestCase> = load("records_requests.json");
    for op in ["get", "insert", "update", "upsert", "delete", "search"] {
        assert!(cases.iter().any(|c| c.input.operation == op && c.expected.is_some()), "no valid {op} case");
        assert!(cases.iter().any(|c| c.input.operation == op && c.expected_error.is_some()), "no invalid {op} case");
    }
    run_all("records_requests.json", &cases, |c| &c.name, check_request);
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseCase {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    kind: String,
    status: u16,
    content_type: Option<String>,
    body: String,
    records_sent: Option<usize>,
    expected: ExpectedResponse,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedResponse {
    outcomes: Option<Vec<ExpectedOutcome>>,
    records: Option<Vec<Map<String, Value>>>,
    more_records: Option<bool>,
    error: Option<ExpectedResponseError>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedOutcome {
    index: usize,
    ok: bool,
    code: String,
    message: Option<String>,
    details: Option<Map<String, Value>>,
    id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    action: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    duplicate_field: Option<Option<String>>,
}

/// A key that may be present with `null`: `Some(None)`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedResponseError {
    kind: String,
    code: String,
    status: u16,
    message: Option<String>,
    details: Option<Map<String, Value>>,
    body_prefix: Option<String>,
}

fn check_error(e: &Error, want: &ExpectedResponseError) -> Result<(), String> {
    ensure("kind", format!("{:?}", e.kind()).as_str(), want.kind.as_str())?;
    ensure("code", e.code().as_str(), want.code.as_str())?;
    ensure("status", e.status(), Some(want.status))?;
    if let Some(m) = &want.message {
        ensure("message", e.message().as_str(), m.as_str())?;
    }
    if let Some(d) = &want.details {
        ensure("details", e.details(), Some(d))?;
    }
    if let (Some(p), Error::UnexpectedResponse { body_prefix, .. }) = (&want.body_prefix, e) {
        ensure("body_prefix", body_prefix, p)?;
    }
    Ok(())
}

fn check_response(case: &ResponseCase) -> Result<(), String> {
    let mut headers = Vec::new();
    if let Some(ct) = &case.content_type {
        headers.push(("content-type".to_owned(), ct.clone()));
    }
    let response = HttpResponse { status: case.status, headers, body: case.body.as_bytes().to_vec() };
    let want = &case.expected;
    match case.kind.as_str() {
        "write" => {
            let sent = case.records_sent.ok_or("a write case needs records_sent")?;
            match (parse_records(&response, sent), &want.outcomes, &want.error) {
                (Ok(r), Some(outcomes), None) => {
                    ensure("status", r.status, case.status)?;
                    ensure("number of outcomes", r.outcomes.len(), outcomes.len())?;
                    for (i, (o, w)) in r.outcomes.iter().zip(outcomes).enumerate() {
                        ensure(&format!("[{i}] index"), (o.index(), w.index), (i, i))?;
                        ensure(&format!("[{i}] ok, code"), (o.is_success(), o.code()), (w.ok, w.code.as_str()))?;
                        if let Some(m) = &w.message {
                            ensure(&format!("[{i}] message"), o.message(), m.as_str())?;
                        }
                        if let Some(d) = &w.details {
                            ensure(&format!("[{i}] details"), o.details(), d)?;
                        }
                        if let Some(id) = &w.id {
                            ensure(&format!("[{i}] id"), o.id(), Some(id.as_str()))?;
                        }
                        if let Some(a) = &w.action {
                            ensure(&format!("[{i}] action"), o.action.map(|a| a.as_str()), a.as_deref())?;
                        }
                        if let Some(f) = &w.duplicate_field {
                            ensure(&format!("[{i}] duplicate_field"), o.duplicate_field.as_deref(), f.as_deref())?;
                        }
                    }
                    Ok(())
                }
                (Err(e), None, Some(w)) => check_error(&e, w),
                (got, _, _) => Err(format!("unexpected result {got:?}")),
            }
        }
        "read" => match (parse_page(&response), &want.records, &want.error) {
            (Ok(page), Some(records), None) => {
                ensure("records", &page.records, records)?;
                ensure("more_records", page.more_records(), want.more_records.unwrap_or(false))
            }
            (Err(e), None, Some(w)) => check_error(&e, w),
            (got, _, _) => Err(format!("unexpected result {got:?}")),
        },
        other => Err(format!("unknown kind {other:?}")),
    }
}

#[test]
fn records_response_cases() {
    let cases: Vec<ResponseCase> = load("records_responses.json");
    run_all("records_responses.json", &cases, |c| &c.name, check_response);
}
