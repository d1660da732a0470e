//! Responses -> one [`Outcome`] per input record, in input order, or an [`Error`].
//!
//! | response | result |
//! |---|---|
//! | any status with `{"data":[...]}` of the request's length (200 all ok, 207 mixed, 400 all failed) | `Ok(outcomes)`, `data[i]` -> record `i` |
//! | `{"data":[...]}` of another length | [`Error::UnexpectedResponse`]: never a silent misalignment |
//! | a top-level `{"code","message","details","status":"error"}` | [`Error::Api`] |
//! | 204 with no body | [`Error::Api`] with [`ErrorCode::NoContent`]: the server said nothing about any record |
//! | a body that is not JSON (an HTML 502 from a proxy), or JSON of another shape | [`Error::UnexpectedResponse`] with the status and the first 512 bytes |
//!
//! Zoho documents the order of `data` as the input order (its `json_path` values `$.data[i]` say so); the
//! client relies on it and checks the length.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::code::ErrorCode;
use crate::error::{Details, Error, Result};

/// How many bytes of an unusable body an error keeps.
pub const BODY_PREFIX_LEN: usize = 512;

/// The result for one input record.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The record's 0-based index in the input.
    pub index: usize,
    /// Success or failure, with Zoho's code, message and details.
    pub result: std::result::Result<Success, Failure>,
}

/// A record Zoho accepted: its code (`SUCCESS`), message (`relation added`) and details
/// (`{"External_Deal_ID":"extdeal3","id":"111111000000094028"}`).
///
/// The details are kept as the JSON text Zoho sent and parsed on first access ([`Success::details`]); the
/// record id is read without building the map ([`Success::id`]). A bulk job of a million rows that only
/// reports ids never builds a million maps. The usual code and messages are shared, not copied.
///
/// ```
/// use zcrm_extid::response::Success;
/// let s = Success::new("SUCCESS", "relation added", serde_json::json!({"id": "42"}).as_object().unwrap().clone());
/// assert_eq!((s.code(), s.message(), s.id()), ("SUCCESS", "relation added", Some("42")));
/// assert_eq!(s.details()["id"], "42");
/// ```
#[derive(Clone)]
pub struct Success {
    code: Cow<'static, str>,
    message: Cow<'static, str>,
    details: LazyDetails,
    /// Upserts: what was done, and the field that matched (spec §2.7).
    upsert: Option<(UpsertAction, Option<Box<str>>)>,
}

/// What an upsert did with a record (spec §2.7): Zoho's `action` of a record's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpsertAction {
    /// No record matched the duplicate check: one was created (`"action":"insert"`).
    Insert,
    /// A record matched (see `duplicate_field`) and was updated (`"action":"update"`).
    Update,
}

impl UpsertAction {
    /// `insert` or `update`.
    pub fn as_str(self) -> &'static str {
        match self {
            UpsertAction::Insert => "insert",
            UpsertAction::Update => "update",
        }
    }

    /// The action for Zoho's text; `None` for anything else.
    pub fn parse(text: &str) -> Option<UpsertAction> {
        match text {
            "insert" => Some(UpsertAction::Insert),
            "update" => Some(UpsertAction::Update),
            _ => None,
        }
    }
}

/// Codes and messages Zoho sends for most records, shared instead of copied.
const COMMON: [&str; 9] = [
    "SUCCESS",
    "relation added",
    "relation removed",
    "record added",
    "record updated",
    "record deleted",
    "relation updated",
    "record inserted",
    "",
];

fn shared_text(text: Cow<'_, str>) -> Cow<'static, str> {
    match COMMON.iter().find(|c| **c == text) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(text.into_owned()),
    }
}

#[derive(Clone, Default)]
struct LazyDetails {
    raw: Option<Box<RawValue>>,
    parsed: OnceLock<Details>,
    id: OnceLock<Option<Box<str>>>,
}

impl LazyDetails {
    fn parsed(details: Details) -> LazyDetails {
        let d = LazyDetails::default();
        let _ = d.parsed.set(details);
        d
    }

    fn get(&self) -> &Details {
        self.parsed.get_or_init(|| match &self.raw {
            None => Details::new(),
            Some(raw) => details_of(serde_json::from_str(raw.get()).ok()),
        })
    }

    fn id(&self) -> Option<&str> {
        if let Some(d) = self.parsed.get() {
            return d.get("id").and_then(Value::as_str);
        }
        #[derive(serde::Deserialize)]
        struct IdOnly<'a> {
            #[serde(borrow, default)]
            id: Option<Cow<'a, str>>,
        }
        self.id
            .get_or_init(|| {
                let raw = self.raw.as_ref()?;
                match serde_json::from_str::<IdOnly<'_>>(raw.get()) {
                    Ok(v) => v.id.map(|id| id.into_owned().into_boxed_str()),
                    // Not an object with a string id: read it the long way.
                    Err(_) => self.get().get("id").and_then(Value::as_str).map(Into::into),
                }
            })
            .as_deref()
    }
}

impl Success {
    /// A success with parsed details.
    pub fn new(code: impl Into<String>, message: impl Into<String>, details: Details) -> Success {
        Success {
            code: shared_text(Cow::Owned(code.into())),
            message: shared_text(Cow::Owned(message.into())),
            details: LazyDetails::parsed(details),
            upsert: None,
        }
    }

    /// This success as an upsert's: `action`, and the field whose value matched an existing record
    /// (`duplicate_field`, `None` for an insert).
    ///
    /// ```
    /// use zcrm_extid::response::{Success, UpsertAction};
    /// let s = Success::new("SUCCESS", "record updated", Default::default())
    ///     .with_upsert(UpsertAction::Update, Some("External_Contact_ID".into()));
    /// assert_eq!((s.action(), s.duplicate_field()), (Some(UpsertAction::Update), Some("External_Contact_ID")));
    /// ```
    pub fn with_upsert(mut self, action: UpsertAction, duplicate_field: Option<String>) -> Success {
        self.set_upsert(action, duplicate_field);
        self
    }

    pub(crate) fn set_upsert(&mut self, action: UpsertAction, duplicate_field: Option<String>) {
        self.upsert = Some((action, duplicate_field.map(String::into_boxed_str)));
    }

    /// Upserts: whether the record was inserted or updated; `None` for any other operation.
    pub fn action(&self) -> Option<UpsertAction> {
        self.upsert.as_ref().map(|(a, _)| *a)
    }

    /// Upserts: the field whose value matched an existing record (`None` for an insert and other operations).
    pub fn duplicate_field(&self) -> Option<&str> {
        self.upsert.as_ref().and_then(|(_, f)| f.as_deref())
    }

    /// Zoho's code, `SUCCESS`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Zoho's message, e.g. `relation added`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Zoho's details (parsed on first access).
    pub fn details(&self) -> &Details {
        self.details.get()
    }

    /// `details.id`, the record's Zoho id, if it is a string.
    pub fn id(&self) -> Option<&str> {
        self.details.id()
    }
}

impl fmt::Debug for Success {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Success")
            .field("code", &self.code)
            .field("message", &self.message)
            .field("details", self.details())
            .field("upsert", &self.upsert)
            .finish()
    }
}

impl PartialEq for Success {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
            && self.message == other.message
            && self.upsert == other.upsert
            && self.details() == other.details()
    }
}

/// A record that failed: rejected by Zoho (`INVALID_DATA`, ...) or, in bulk jobs, ended by the client
/// (`INVALID_INPUT`, `TRANSPORT`, `NOT_ATTEMPTED`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The code.
    pub code: ErrorCode,
    /// The message.
    pub message: String,
    /// Zoho's details (`api_name`, `json_path`, ...), or the client's.
    pub details: Details,
    /// The HTTP status of the response that carried this failure, if there was one.
    pub status: Option<u16>,
}

impl Outcome {
    /// True when the record succeeded.
    pub fn is_success(&self) -> bool {
        self.result.is_ok()
    }

    /// `SUCCESS` or the failure's code.
    pub fn code(&self) -> &str {
        match &self.result {
            Ok(s) => s.code(),
            Err(f) => f.code.as_str(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        match &self.result {
            Ok(s) => s.message(),
            Err(f) => &f.message,
        }
    }

    /// The details.
    pub fn details(&self) -> &Details {
        match &self.result {
            Ok(s) => s.details(),
            Err(f) => &f.details,
        }
    }

    /// The Zoho record id in `details.id`, if any (for a success: the related record's id).
    pub fn id(&self) -> Option<&str> {
        match &self.result {
            Ok(s) => s.id(),
            Err(f) => f.details.get("id").and_then(Value::as_str),
        }
    }

    /// Upserts: whether the record was inserted or updated (`None` for a failure and other operations).
    pub fn action(&self) -> Option<UpsertAction> {
        self.result.as_ref().ok().and_then(Success::action)
    }

    /// An outcome for record `index` that failed with `error` (a call-level error, in bulk jobs).
    pub fn from_error(index: usize, error: &Error) -> Outcome {
        let details = error.details().cloned().unwrap_or_default();
        let message = match error {
            Error::Api { message, .. } => message.clone(),
            other => other.to_string(),
        };
        Outcome { index, result: Err(Failure { code: error.code(), message, details, status: error.status() }) }
    }
}

/// The outcome of a whole call: the HTTP status, one outcome per record, and the credit header if sent.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateResponse {
    /// 200 (all succeeded), 207 (mixed) or 400 (all failed).
    pub status: u16,
    /// One per input record, in input order (`outcomes[i].index == i`).
    pub outcomes: Vec<Outcome>,
    /// `X-API-CREDITS-REMAINING`, sent once half the day's credits are used.
    pub credits_remaining: Option<u64>,
}

impl UpdateResponse {
    /// True when every record succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.outcomes.iter().all(Outcome::is_success)
    }

    /// The records that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| !o.is_success())
    }
}

/// `X-API-CREDITS-REMAINING`, which Zoho sends once half the day's credits are used (spec §5.4).
pub fn credits_remaining(response: &crate::transport::HttpResponse) -> Option<u64> {
    response.header("x-api-credits-remaining").and_then(|v| v.trim().parse().ok())
}

/// Interprets a response to a call that sent `expected` records (see the module docs).
///
/// ```
/// use zcrm_extid::response::parse_outcomes;
/// let body = br#"{"data":[{"code":"SUCCESS","details":{"id":"1"},"message":"relation added","status":"success"},
///                         {"code":"INVALID_DATA","details":{"api_name":"External_Deal_ID"},"message":"invalid data","status":"error"}]}"#;
/// let outcomes = parse_outcomes(207, Some("application/json"), body, 2)?;
/// assert!(outcomes[0].is_success());
/// assert_eq!(outcomes[1].code(), "INVALID_DATA");
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
pub fn parse_outcomes(status: u16, content_type: Option<&str>, body: &[u8], expected: usize) -> Result<Vec<Outcome>> {
    let unexpected = |reason: String| Error::UnexpectedResponse {
        status,
        reason,
        content_type: content_type.map(str::to_owned),
        body_prefix: body_prefix(body),
    };
    if status == 204 || (body.iter().all(u8::is_ascii_whitespace) && (200..300).contains(&status)) {
        return Err(Error::Api {
            status,
            code: ErrorCode::NoContent,
            message: "no content: the server returned no per-record results".into(),
            details: Box::default(),
            hint: None,
        });
    }
    // Fast path: the usual well-formed `data` array, parsed straight into typed items (no intermediate
    // `Value` tree). Anything else takes the general path below, which handles every shape.
    // The body is checked as UTF-8 once (a fast scan for ASCII), so the parser does not check every string.
    if let Ok(text) = std::str::from_utf8(body)
        && let Ok(envelope) = serde_json::from_str::<TypedEnvelope>(text)
        && envelope.data.len() == expected
    {
        return Ok(envelope
            .data
            .into_iter()
            .enumerate()
            .map(|(index, item)| item.into_outcome(index, status))
            .collect());
    }
    let json: Value = serde_json::from_slice(body).map_err(|e| unexpected(format!("the body is not JSON ({e})")))?;
    let Value::Object(mut top) = json else {
        return Err(unexpected("the JSON body is not an object".into()));
    };
    match top.remove("data") {
        Some(Value::Array(mut items)) => {
            // One error item for a call of several records is an error about the call (the OAS shows, e.g.,
            // INVALID_MODULE wrapped in `data`): report it as such rather than lose Zoho's code.
            if items.len() == 1
                && expected > 1
                && let Some(Value::Object(only)) = items.first()
                && only.get("status").and_then(Value::as_str) == Some("error")
                && let Some(Value::Object(only)) = items.pop()
                && let Some(e) = api_error(status, only)
            {
                return Err(e);
            }
            if items.len() != expected {
                return Err(unexpected(format!(
                    "`data` has {} results for {expected} records sent; refusing to guess which is which",
                    items.len()
                )));
            }
            Ok(items.into_iter().enumerate().map(|(index, item)| outcome(index, item, status)).collect())
        }
        Some(_) => Err(unexpected("`data` is not an array".into())),
        None => match api_error(status, top) {
            Some(e) => Err(e),
            None => Err(unexpected("the JSON has neither `data` nor an error `code`".into())),
        },
    }
}

#[derive(serde::Deserialize)]
struct TypedEnvelope<'a> {
    #[serde(borrow)]
    data: Vec<TypedItem<'a>>,
}

/// Strings borrowed from the body where they have no escapes (`status` is only compared, `code` is mapped).
#[derive(serde::Deserialize)]
struct TypedItem<'a> {
    #[serde(borrow)]
    code: Cow<'a, str>,
    #[serde(default, borrow)]
    message: Cow<'a, str>,
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(default)]
    details: Option<Box<RawValue>>,
}

impl TypedItem<'_> {
    fn into_outcome(self, index: usize, http_status: u16) -> Outcome {
        let result = if self.status.eq_ignore_ascii_case("success") {
            let raw = self.details.filter(|d| d.get() != "null");
            Ok(Success {
                code: shared_text(self.code),
                message: shared_text(self.message),
                details: LazyDetails { raw, ..LazyDetails::default() },
                upsert: None,
            })
        } else {
            let code = if self.code.is_empty() { ErrorCode::UnexpectedResponse } else { ErrorCode::parse(&self.code) };
            let details = details_of(self.details.and_then(|raw| serde_json::from_str(raw.get()).ok()));
            Err(Failure { code, message: self.message.into_owned(), details, status: Some(http_status) })
        };
        Outcome { index, result }
    }
}

/// A top-level Zoho error object as an [`Error::Api`], if `top` is one.
pub fn api_error(status: u16, mut top: Map<String, Value>) -> Option<Error> {
    let code = match top.remove("code") {
        Some(Value::String(c)) => c,
        _ => return None,
    };
    let message = match top.remove("message") {
        Some(Value::String(m)) => m,
        Some(other) => other.to_string(),
        None => String::new(),
    };
    Some(Error::Api {
        status,
        code: ErrorCode::parse(&code),
        message,
        details: Box::new(details_of(top.remove("details"))),
        hint: None,
    })
}

fn outcome(index: usize, item: Value, status: u16) -> Outcome {
    let Value::Object(mut item) = item else {
        return Outcome {
            index,
            result: Err(Failure {
                code: ErrorCode::UnexpectedResponse,
                message: format!("result is not an object: {}", truncate(&item.to_string())),
                details: Details::new(),
                status: Some(status),
            }),
        };
    };
    let code = match item.remove("code") {
        Some(Value::String(c)) => c,
        _ => String::new(),
    };
    let message = match item.remove("message") {
        Some(Value::String(m)) => m,
        _ => String::new(),
    };
    let details = details_of(item.remove("details"));
    let success = match item.get("status").and_then(Value::as_str) {
        Some(s) => s.eq_ignore_ascii_case("success"),
        None => code == "SUCCESS",
    };
    let result = if success {
        Ok(Success::new(code, message, details))
    } else {
        let code = if code.is_empty() { ErrorCode::UnexpectedResponse } else { ErrorCode::parse(&code) };
        Err(Failure { code, message, details, status: Some(status) })
    };
    Outcome { index, result }
}

fn details_of(v: Option<Value>) -> Details {
    match v {
        Some(Value::Object(m)) => m,
        None | Some(Value::Null) => Details::new(),
        Some(other) => {
            let mut m = Details::new();
            m.insert("value".into(), other);
            m
        }
    }
}

/// The first [`BODY_PREFIX_LEN`] bytes, as lossy UTF-8, with the values of secret fields and `Authorization`
/// credentials masked ([`crate::redact::redact_secrets`]).
pub fn body_prefix(body: &[u8]) -> String {
    // A reflecting proxy may echo the request: mask secret fields and the `Authorization` credentials.
    crate::redact::redact_secrets(
        &String::from_utf8_lossy(&body[..body.len().min(BODY_PREFIX_LEN)]),
        crate::redact::SECRET_KEYS,
    )
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_502_keeps_status_and_prefix() {
        let html = format!("<html><body>{}</body></html>", "x".repeat(2000));
        let e = parse_outcomes(502, Some("text/html"), html.as_bytes(), 1).unwrap_err();
        match e {
            Error::UnexpectedResponse { status, body_prefix, content_type, .. } => {
                assert_eq!(status, 502);
                assert_eq!(body_prefix.len(), 512);
                assert!(body_prefix.starts_with("<html>"));
                assert_eq!(content_type.as_deref(), Some("text/html"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_error_item_for_several_records_is_a_call_error() {
        let body = br#"{"data":[{"code":"INVALID_MODULE","details":{"resource_path_index":0},"message":"the module name given seems to be invalid","status":"error"}]}"#;
        let e = parse_outcomes(400, None, body, 3).unwrap_err();
        assert_eq!((e.code(), e.status()), (ErrorCode::InvalidModule, Some(400)));
        // With one record sent, it is that record's outcome.
        assert_eq!(parse_outcomes(400, None, body, 1).unwrap()[0].code(), "INVALID_MODULE");
    }

    #[test]
    fn length_mismatch_is_an_error() {
        let body = br#"{"data":[{"code":"SUCCESS","status":"success","message":"","details":{}}]}"#;
        assert!(matches!(parse_outcomes(200, None, body, 2), Err(Error::UnexpectedResponse { .. })));
    }

    #[test]
    fn top_level_error_and_204() {
        let body = br#"{"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"}"#;
        let e = parse_outcomes(401, None, body, 1).unwrap_err();
        assert_eq!((e.code(), e.status()), (ErrorCode::InvalidToken, Some(401)));
        assert_eq!(parse_outcomes(204, None, b"", 1).unwrap_err().code(), ErrorCode::NoContent);
    }

    #[test]
    fn non_object_items_become_failures_not_panics() {
        let outcomes = parse_outcomes(207, None, br#"{"data":[1,{"status":"error"}]}"#, 2).unwrap();
        assert_eq!(outcomes[0].code(), "UNEXPECTED_RESPONSE");
        assert_eq!(outcomes[1].code(), "UNEXPECTED_RESPONSE");
    }
}
