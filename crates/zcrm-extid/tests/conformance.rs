//! Runs the language-neutral conformance cases in `tests/conformance/*.json` (workspace root) against the core.
//!
//! The format is documented in `tests/conformance/README.md`; the Python and Node suites read the same files.
//! Every case is run, all mismatches are reported together, and an empty (or missing) file is a failure.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value};
use zcrm_extid::related_rows::parse_related;
use zcrm_extid::response::parse_outcomes;
use zcrm_extid::{
    ApiVersion, BaseUrl, Client, DeleteRelated, Error, GetRelated, Parent, PreparedRequest, RelatedResponse, Secret,
    UpdateRelated,
};

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
    /// `update_related` (absent), `get_related` or `delete_related`.
    operation: Option<String>,
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
    // get_related
    related: Option<String>,
    ids: Option<Vec<String>>,
    fields: Option<Vec<String>>,
    page: Option<u32>,
    per_page: Option<u32>,
    page_token: Option<String>,
    if_modified_since: Option<String>,
    // delete_related
    values: Option<Vec<String>>,
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

type Built = Result<(PreparedRequest, PreparedRequest), Error>;

/// A read or unlink case through the public API: the client's prepare (version rules included) and the
/// request's own `prepare`, both with the token.
fn build_read_or_unlink(input: &RequestInput, operation: &str) -> Result<Built, String> {
    let parent = input.parent()?;
    if input.records.is_some() || input.records_repeat.is_some() {
        return Err(format!("{operation} takes no records"));
    }
    Ok((|| -> Result<_, Error> {
        let version: ApiVersion = input.api_version.parse()?;
        let client = Client::builder()
            .access_token(input.access_token.as_str())
            .base_url(input.base_url.as_str())
            .api_version(version)
            .build()?;
        let base = BaseUrl::parse(&input.base_url)?;
        let token = Secret::new(input.access_token.as_str());
        if operation == "get_related" {
            let mut b = GetRelated::builder(input.module.as_str(), parent?, input.related_list.as_str())
                .fields(input.fields.clone().unwrap_or_default().iter().flat_map(|f| f.split(',')).map(str::to_owned));
            if let Some(m) = &input.related_module {
                b = b.related_module(m.as_str());
            }
            if let Some(f) = &input.related_field {
                b = b.related_by_external(f.as_str());
            }
            if let Some(v) = &input.related {
                b = b.related(v.as_str());
            }
            if let Some(ids) = &input.ids {
                b = b.ids(ids.clone());
            }
            if let Some(n) = input.page {
                b = b.page(n);
            }
            if let Some(n) = input.per_page {
                b = b.per_page(n);
            }
            if let Some(t) = &input.page_token {
                b = b.page_token(t.as_str());
            }
            if let Some(t) = &input.if_modified_since {
                b = b.if_modified_since(t.as_str());
            }
            let request = b.build()?;
            let via_client = client.prepare_get_related(&request)?.with_token(token.clone());
            Ok((via_client, request.prepare(&base, version).with_token(token)))
        } else {
            let mut b = DeleteRelated::builder(input.module.as_str(), parent?, input.related_list.as_str())
                .values(input.values.clone().unwrap_or_default());
            if let Some(m) = &input.related_module {
                b = b.related_module(m.as_str());
            }
            if let Some(f) = &input.related_field {
                b = b.related_by_external(f.as_str());
            }
            let request = b.build()?;
            let via_client = client.prepare_delete_related(&request).with_token(token.clone());
            Ok((via_client, request.prepare(&base, version).with_token(token)))
        }
    })())
}

/// Builds the case through the public API, the way an application would. `Ok(Err(..))` is a build error.
fn build(input: &RequestInput) -> Result<Built, String> {
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
    let built = match case.operation.as_deref() {
        None | Some("update_related") => build(&case.input)?,
        Some(op @ ("get_related" | "delete_related")) => build_read_or_unlink(&case.input, op)?,
        Some(other) => return Err(format!("unknown operation {other:?}")),
    };
    match (&case.expected, &case.expected_error, built) {
        (Some(want), None, Ok((prepared, via_request))) => {
            ensure_eq!("method", prepared.method().as_str(), want.method.as_str());
            ensure_eq!("url", prepared.url(), want.url.as_str());
            let headers: Vec<(String, String)> =
                prepared.headers().into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
            ensure_eq!("headers", headers, want.headers);
            ensure_eq!("body", prepared.body_str(), want.body.as_str());
            ensure_eq!("Client::prepare_* vs the request's prepare", prepared, via_request);
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
    /// `update_related` (absent), `get_related` or `delete_related`.
    operation: Option<String>,
    status: u16,
    content_type: Option<String>,
    body: String,
    /// Required for update and delete, absent for reads.
    records_sent: Option<usize>,
    expected: ExpectedResponse,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedResponse {
    outcomes: Option<Vec<ExpectedOutcome>>,
    error: Option<ExpectedResponseError>,
    // get_related
    rows: Option<Vec<ExpectedRow>>,
    #[serde(default, deserialize_with = "present")]
    info: Option<Option<Map<String, Value>>>,
    not_modified: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedRow {
    id: String,
    fields: Map<String, Value>,
}

/// `Some(None)` for an explicit `null`, `None` when the key is absent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Map<String, Value>>>, D::Error> {
    Option::<Map<String, Value>>::deserialize(d).map(Some)
}

/// A page's `info` as the file writes it: every key, `null` for what Zoho did not send.
fn info_json(info: &zcrm_extid::PageInfo) -> Map<String, Value> {
    let serde_json::Value::Object(m) = serde_json::json!({
        "per_page": info.per_page, "count": info.count, "page": info.page, "more_records": info.more_records,
        "next_page_token": info.next_page_token, "previous_page_token": info.previous_page_token,
        "page_token_expiry": info.page_token_expiry,
    }) else {
        unreachable!()
    };
    m
}

fn check_read(case: &ResponseCase) -> Result<(), String> {
    let want = &case.expected;
    if want.outcomes.is_some() || case.records_sent.is_some() {
        return Err("a get_related case has no records_sent and no outcomes".into());
    }
    let got = parse_related(case.status, case.content_type.as_deref(), case.body.as_bytes(), None);
    match (&want.rows, &want.error, got) {
        (Some(rows), None, Ok(answer)) => {
            let Some(not_modified) = want.not_modified else { return Err("`not_modified` is required".into()) };
            let Some(info) = &want.info else { return Err("`info` is required (null for none)".into()) };
            ensure_eq!("not_modified", answer == RelatedResponse::NotModified, not_modified);
            let got_rows: Vec<(String, Map<String, Value>)> =
                answer.rows().iter().map(|r| (r.id.clone(), r.fields.clone())).collect();
            let want_rows: Vec<(String, Map<String, Value>)> =
                rows.iter().map(|r| (r.id.clone(), r.fields.clone())).collect();
            ensure_eq!("rows", got_rows, want_rows);
            ensure_eq!("info", answer.page().and_then(|p| p.info.as_ref()).map(info_json), info.clone());
            Ok(())
        }
        (Some(_), None, Err(e)) => Err(format!("expected rows, got error {e}")),
        (None, Some(_), Ok(answer)) => Err(format!("expected an error, got {answer:?}")),
        (None, Some(_), Err(e)) => check_error(&want.error, e),
        _ => Err("`expected` needs exactly one of `rows` and `error`".into()),
    }
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
    match case.operation.as_deref() {
        None | Some("update_related" | "delete_related") => {}
        Some("get_related") => return check_read(case),
        Some(other) => return Err(format!("unknown operation {other:?}")),
    }
    if case.expected.rows.is_some() || case.expected.info.is_some() || case.expected.not_modified.is_some() {
        return Err("rows, info and not_modified are for get_related cases".into());
    }
    let Some(records_sent) = case.records_sent else { return Err("records_sent is required".into()) };
    let got = parse_outcomes(case.status, case.content_type.as_deref(), case.body.as_bytes(), records_sent);
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
        (None, Some(_), Err(e)) => check_error(&case.expected.error, e),
        (None, Some(want), Ok(outcomes)) => {
            Err(format!("expected error {} {}, got {} outcomes", want.kind, want.code, outcomes.len()))
        }
        _ => Err("`expected` needs exactly one of `outcomes` and `error`".into()),
    }
}

fn check_error(want: &Option<ExpectedResponseError>, e: Error) -> Result<(), String> {
    let want = want.as_ref().expect("checked by the caller");
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

#[test]
fn response_conformance_cases() {
    let cases: Vec<ResponseCase> = load("responses.json");
    check_unique_names("responses.json", cases.iter().map(|c| c.name.as_str()));
    run_all("responses.json", &cases, |c| &c.name, check_response);
}
