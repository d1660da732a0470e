//! Runs the language-neutral conformance cases in `tests/conformance/*.json` (workspace root) against the core.
//!
//! The format is documented in `tests/conformance/README.md`; the Python and Node suites read the same files.
//! Every case is run, all mismatches are reported together, and an empty (or missing) file is a failure.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value};
use zcrm_extid::response::parse_outcomes;
use zcrm_extid::{ApiVersion, BaseUrl, Client, Error, Parent, PreparedRequest, Secret, UpdateRelated};

fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance")
}

fn load<T: for<'de> Deserialize<'de>>(file: &str) -> Vec<T> {
    let path = conformance_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let cases: Vec<T> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is malformed: {e}", path.display()));
    assert!(!cases.is_empty(), "{} has no cases", path.display());
    cases
}

fn check_unique_names<'a>(file: &str, names: impl Iterator<Item = &'a str>) {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        assert!(!name.is_empty(), "{file}: a case has an empty name");
        assert!(seen.insert(name), "{file}: duplicate case name {name:?}");
    }
}

/// Runs `check` on every case and panics with every failure (not just the first).
fn run_all<C>(file: &str, cases: &[C], name: impl Fn(&C) -> &str, check: impl Fn(&C) -> Result<(), String>) {
    let mut failures = Vec::new();
    for case in cases {
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

macro_rules! ensure_eq {
    ($what:expr, $got:expr, $want:expr) => {
        match (&$got, &$want) {
            (got, want) => {
                if got != want {
                    return Err(format!("{}: got {:?}, expected {:?}", $what, got, want));
                }
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------------------------
// requests.json

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestCase {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    input: RequestInput,
    expected: Option<ExpectedRequest>,
    expected_error: Option<ExpectedError>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestInput {
    base_url: String,
    api_version: String,
    access_token: String,
    module: String,
    parent: ParentInput,
    related_list: String,
    related_module: Option<String>,
    related_field: Option<String>,
    records: Option<Vec<Value>>,
    records_repeat: Option<RecordsRepeat>,
}

/// `{"id": "..."}` or `{"field": "...", "value": "..."}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParentInput {
    id: Option<String>,
    field: Option<String>,
    value: Option<String>,
}

/// `count` copies of `template`, copy `i` with the string `template[key]` replaced by `template[key] + i`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordsRepeat {
    template: Map<String, Value>,
    count: usize,
    key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedRequest {
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

impl RequestInput {
    fn records(&self) -> Result<Vec<Value>, String> {
        match (&self.records, &self.records_repeat) {
            (Some(r), None) => Ok(r.clone()),
            (None, Some(rep)) => {
                let prefix = rep
                    .template
                    .get(&rep.key)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("records_repeat: template[{:?}] must be a string", rep.key))?;
                Ok((0..rep.count)
                    .map(|i| {
                        let mut record = rep.template.clone();
                        record.insert(rep.key.clone(), Value::String(format!("{prefix}{i}")));
                        Value::Object(record)
                    })
                    .collect())
            }
            _ => Err("exactly one of `records` and `records_repeat` is required".into()),
        }
    }

    fn parent(&self) -> Result<Result<Parent, Error>, String> {
        let p = &self.parent;
        match (&p.id, &p.field, &p.value) {
            (Some(id), None, None) => Ok(Parent::id(id.as_str()).map_err(Error::from)),
            (None, Some(f), Some(v)) => Ok(Parent::external(f.as_str(), v.as_str()).map_err(Error::from)),
            _ => Err("parent must be {\"id\"} or {\"field\", \"value\"}".into()),
        }
    }
}

/// `(code, location)` of a build error: the [`InvalidInput`] location, or the setting of an `InvalidConfig`.
fn code_and_location(e: &Error) -> (String, String) {
    let location = match e {
        Error::InvalidInput(i) => i.location(),
        Error::InvalidConfig { setting, .. } => setting.clone(),
        _ => String::new(),
    };
    (e.code().as_str().to_owned(), location)
}

/// Builds the case through the public API, the way an application would. `Ok(Err(..))` is a build error.
fn build(input: &RequestInput) -> Result<Result<(PreparedRequest, PreparedRequest), Error>, String> {
    let records = input.records()?;
    let parent = input.parent()?;
    Ok((|| -> Result<_, Error> {
        let version: ApiVersion = input.api_version.parse()?;
        let client = Client::builder()
            .access_token(input.access_token.as_str())
            .base_url(input.base_url.as_str())
            .api_version(version)
            .build()?;
        let mut builder = UpdateRelated::builder(input.module.as_str(), parent?, input.related_list.as_str());
        if let Some(m) = &input.related_module {
            builder = builder.related_module(m.as_str());
        }
        if let Some(f) = &input.related_field {
            builder = builder.related_by_external(f.as_str());
        }
        let request = builder.records(records).build()?;
        let token = Secret::new(input.access_token.as_str());
        let via_client = client.prepare_update_related(&request).with_token(token.clone());
        let via_request = request.prepare(&BaseUrl::parse(&input.base_url)?, version).with_token(token);
        Ok((via_client, via_request))
    })())
}

fn check_request(case: &RequestCase) -> Result<(), String> {
    let built = build(&case.input)?;
    match (&case.expected, &case.expected_error, built) {
        (Some(want), None, Ok((prepared, via_request))) => {
            ensure_eq!("method", prepared.method().as_str(), want.method.as_str());
            ensure_eq!("url", prepared.url(), want.url.as_str());
            let headers: Vec<(String, String)> =
                prepared.headers().into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
            ensure_eq!("headers", headers, want.headers);
            ensure_eq!("body", prepared.body_str(), want.body.as_str());
            ensure_eq!("Client::prepare_update_related vs UpdateRelated::prepare", prepared, via_request);
            if prepared.to_curl().contains(&case.input.access_token) {
                return Err("to_curl() shows the access token".into());
            }
            Ok(())
        }
        (Some(_), None, Err(e)) => Err(format!("expected a request, got error {:?}: {e}", code_and_location(&e))),
        (None, Some(want), Err(e)) => {
            let (code, location) = code_and_location(&e);
            ensure_eq!("error code", code, want.code);
            ensure_eq!(format!("error location ({e})"), location, want.location);
            Ok(())
        }
        (None, Some(want), Ok((prepared, _))) => {
            Err(format!("expected error {} at {}, but built {prepared:?}", want.code, want.location))
        }
        _ => Err("a case needs exactly one of `expected` and `expected_error`".into()),
    }
}

#[test]
fn request_conformance_cases() {
    let cases: Vec<RequestCase> = load("requests.json");
    check_unique_names("requests.json", cases.iter().map(|c| c.name.as_str()));
    assert!(cases.iter().any(|c| c.expected.is_some()), "requests.json has no valid-request cases");
    assert!(cases.iter().any(|c| c.expected_error.is_some()), "requests.json has no invalid-input cases");
    run_all("requests.json", &cases, |c| &c.name, check_request);
}

// ---------------------------------------------------------------------------------------------------------------
// responses.json

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseCase {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    status: u16,
    content_type: Option<String>,
    body: String,
    records_sent: usize,
    expected: ExpectedResponse,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedResponse {
    outcomes: Option<Vec<ExpectedOutcome>>,
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

fn check_response(case: &ResponseCase) -> Result<(), String> {
    let got = parse_outcomes(case.status, case.content_type.as_deref(), case.body.as_bytes(), case.records_sent);
    match (&case.expected.outcomes, &case.expected.error, got) {
        (Some(want), None, Ok(outcomes)) => {
            ensure_eq!("number of outcomes", outcomes.len(), want.len());
            for (i, (o, w)) in outcomes.iter().zip(want).enumerate() {
                ensure_eq!(format!("outcomes[{i}].index (file)"), w.index, i);
                ensure_eq!(format!("outcomes[{i}].index"), o.index, w.index);
                ensure_eq!(format!("outcomes[{i}].ok"), o.is_success(), w.ok);
                ensure_eq!(format!("outcomes[{i}].code"), o.code(), w.code.as_str());
                if let Some(m) = &w.message {
                    ensure_eq!(format!("outcomes[{i}].message"), o.message(), m.as_str());
                }
                if let Some(d) = &w.details {
                    ensure_eq!(format!("outcomes[{i}].details"), o.details(), d);
                }
            }
            Ok(())
        }
        (Some(_), None, Err(e)) => Err(format!("expected outcomes, got error {e}")),
        (None, Some(want), Err(e)) => {
            ensure_eq!("error kind", format!("{:?}", e.kind()), want.kind);
            ensure_eq!("error code", e.code().as_str(), want.code.as_str());
            ensure_eq!("error status", e.status(), Some(want.status));
            if let Some(m) = &want.message {
                match &e {
                    Error::Api { message, .. } => ensure_eq!("error message", message, m),
                    other => return Err(format!("`message` is only checked on Api errors, got {other:?}")),
                }
            }
            if let Some(d) = &want.details {
                ensure_eq!("error details", e.details(), Some(d));
            }
            if let Some(p) = &want.body_prefix {
                match &e {
                    Error::UnexpectedResponse { body_prefix, .. } => ensure_eq!("body_prefix", body_prefix, p),
                    other => return Err(format!("`body_prefix` is only checked on UnexpectedResponse, got {other:?}")),
                }
            }
            Ok(())
        }
        (None, Some(want), Ok(outcomes)) => {
            Err(format!("expected error {} {}, got {} outcomes", want.kind, want.code, outcomes.len()))
        }
        _ => Err("`expected` needs exactly one of `outcomes` and `error`".into()),
    }
}

#[test]
fn response_conformance_cases() {
    let cases: Vec<ResponseCase> = load("responses.json");
    check_unique_names("responses.json", cases.iter().map(|c| c.name.as_str()));
    run_all("responses.json", &cases, |c| &c.name, check_response);
}
