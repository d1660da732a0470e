//! Reads that return records: one [`RecordsPage`] per call, and [`Pages`], an iterator that follows
//! `info.more_records` from page to page.
//!
//! | answer | page |
//! |---|---|
//! | 200 `{"data":[{...}], "info":{...}}` | the records, `info` (absent for a single-record GET, spec §2.1) |
//! | 204, or a 2xx with an empty body | no records (Zoho's `NO_CONTENT`: "no matching record", spec §2.3) |
//! | a top-level error object, or a `data` array of error items | [`crate::Error::Api`] |
//! | anything else (an HTML 502, JSON of another shape) | [`crate::Error::UnexpectedResponse`] |
//!
//! **Paging.** The next page is `page + 1`, or the `next_page_token` when the server gave one (Zoho requires it
//! beyond 2,000 records, spec §3.2); the iterator stops when `more_records` is false, after an error (which it
//! yields), or when a page is empty. The same [`Paged`] trait serves every paged read (records, search; the
//! related-records GET can implement it too).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::call::Call;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::response::{api_error, body_prefix, credits_remaining};
use crate::transport::HttpResponse;

/// `info` of a paged answer. Fields Zoho left out are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PageInfo {
    /// Records per page.
    pub per_page: Option<u32>,
    /// Records on this page.
    pub count: Option<u32>,
    /// This page's number.
    pub page: Option<u32>,
    /// Whether another page follows.
    pub more_records: bool,
    /// The token of the next page, when the server pages by token.
    pub next_page_token: Option<String>,
}

/// One page of records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordsPage {
    /// The records as Zoho returned them (`id` always a string), in the server's order.
    pub records: Vec<Map<String, Value>>,
    /// `info`, when the answer had one.
    pub info: Option<PageInfo>,
    /// `X-API-CREDITS-REMAINING`, sent once half the day's credits are used.
    pub credits_remaining: Option<u64>,
}

impl RecordsPage {
    /// Whether another page follows.
    pub fn more_records(&self) -> bool {
        self.info.as_ref().is_some_and(|i| i.more_records)
    }
}

#[derive(Deserialize)]
struct Envelope {
    data: Vec<Value>,
    #[serde(default)]
    info: Option<PageInfo>,
}

/// Reads the answer to a records read (see the module docs).
pub fn parse_page(response: &HttpResponse) -> Result<RecordsPage> {
    let status = response.status;
    let body = &response.body;
    let credits = credits_remaining(response);
    if status == 204 || ((200..300).contains(&status) && body.iter().all(u8::is_ascii_whitespace)) {
        return Ok(RecordsPage { records: Vec::new(), info: None, credits_remaining: credits });
    }
    let unexpected = |reason: String| Error::UnexpectedResponse {
        status,
        reason,
        content_type: response.header("content-type").map(str::to_owned),
        body_prefix: body_prefix(body),
    };
    let json: Value = serde_json::from_slice(body).map_err(|e| unexpected(format!("the body is not JSON ({e})")))?;
    let Value::Object(top) = json else {
        return Err(unexpected("the JSON body is not an object".into()));
    };
    if !top.contains_key("data") {
        return Err(
            api_error(status, top).unwrap_or_else(|| unexpected("the JSON has neither `data` nor `code`".into()))
        );
    }
    let code = top.get("code").cloned();
    let envelope: Envelope = serde_json::from_value(Value::Object(top))
        .map_err(|e| unexpected(format!("`data`/`info` have an unexpected shape ({e})")))?;
    let mut records = Vec::with_capacity(envelope.data.len());
    for item in envelope.data {
        match item {
            Value::Object(m) if m.get("status").and_then(Value::as_str) == Some("error") && m.contains_key("code") => {
                return Err(api_error(status, m).expect("has a code"));
            }
            Value::Object(m) => records.push(m),
            other => return Err(unexpected(format!("a record is not an object: {other}"))),
        }
    }
    if !(200..300).contains(&status) {
        return Err(unexpected(format!("HTTP {status} with records (code {code:?})")));
    }
    Ok(RecordsPage { records, info: envelope.info, credits_remaining: credits })
}

/// A read that comes in pages: given the `info` of the page it fetched, the call for the next one.
pub trait Paged: Call<Output = RecordsPage> + Clone {
    /// The call for the page after the one described by `info`, or `None` when it was the last.
    fn next_page(&self, info: &PageInfo) -> Option<Self>;
}

/// The next page's `(page, page_token)` after `current_page`: the token when the server gave one, else the
/// page number + 1; `None` when no more records follow.
pub(crate) fn next_cursor(current_page: Option<u32>, info: &PageInfo) -> Option<(Option<u32>, Option<String>)> {
    if !info.more_records {
        return None;
    }
    match &info.next_page_token {
        Some(t) if !t.is_empty() => Some((None, Some(t.clone()))),
        _ => Some((Some(info.page.or(current_page).unwrap_or(1) + 1), None)),
    }
}

/// Pages of a [`Paged`] read, fetched one by one as the iterator advances (each with the client's retries).
///
/// ```
/// use serde_json::json;
/// use zcrm_emulator::{Emulator, EmulatorConfig};
/// use zcrm_extid::records::GetRecords;
/// use zcrm_extid::Client;
/// let emu = Emulator::start(EmulatorConfig::default())?;
/// let (id, secret, refresh) = Emulator::default_credentials();
/// let client = Client::builder().refresh_token(id, secret, refresh)
///     .base_url(emu.base_url()).accounts_url(emu.accounts_url()).build()?;
/// let all = GetRecords::builder("Deals").fields(["Deal_Name"]).per_page(1).build()?;
/// let names: Vec<String> = client.record_pages(&all)
///     .map(|page| page.map(|p| p.records))
///     .collect::<Result<Vec<_>, _>>()?
///     .into_iter().flatten()
///     .map(|r| r["Deal_Name"].as_str().unwrap().to_owned())
///     .collect();
/// assert_eq!(names.len(), 2, "two deals in the default seed, one page each");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Pages<C> {
    client: Client,
    next: Option<C>,
}

impl<C: Paged> Pages<C> {
    /// The pages of `first` and its successors.
    pub fn new(client: Client, first: C) -> Pages<C> {
        Pages { client, next: Some(first) }
    }
}

impl<C: Paged> Iterator for Pages<C> {
    type Item = Result<RecordsPage>;

    fn next(&mut self) -> Option<Self::Item> {
        let call = self.next.take()?;
        let page = self.client.execute(&call);
        if let Ok(p) = &page
            && !p.records.is_empty()
        {
            self.next = p.info.as_ref().and_then(|i| call.next_page(i));
        }
        Some(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse { status, headers: vec![], body: body.as_bytes().to_vec() }
    }

    #[test]
    fn pages_errors_and_204() {
        let p = parse_page(&resp(
            200,
            r#"{"data":[{"id":"1"}],"info":{"per_page":1,"count":1,"page":1,"more_records":true}}"#,
        ))
        .unwrap();
        assert_eq!((p.records.len(), p.more_records()), (1, true));
        assert_eq!(parse_page(&resp(204, "")).unwrap(), RecordsPage::default());
        let e = parse_page(&resp(
            400,
            r#"{"code":"REQUIRED_PARAM_MISSING","details":{"param_name":"fields"},"message":"m","status":"error"}"#,
        ))
        .unwrap_err();
        assert_eq!(e.code().as_str(), "REQUIRED_PARAM_MISSING");
        let e =
            parse_page(&resp(400, r#"{"data":[{"code":"INVALID_DATA","details":{},"message":"m","status":"error"}]}"#))
                .unwrap_err();
        assert_eq!(e.code().as_str(), "INVALID_DATA");
        assert!(matches!(parse_page(&resp(502, "<html>")), Err(Error::UnexpectedResponse { .. })));
        assert!(matches!(parse_page(&resp(200, r#"{"data":[1]}"#)), Err(Error::UnexpectedResponse { .. })));
    }

    #[test]
    fn cursor_prefers_the_token() {
        let info = |more, page, token: Option<&str>| PageInfo {
            more_records: more,
            page,
            next_page_token: token.map(str::to_owned),
            ..PageInfo::default()
        };
        assert_eq!(next_cursor(Some(1), &info(false, Some(1), None)), None);
        assert_eq!(next_cursor(Some(1), &info(true, Some(1), None)), Some((Some(2), None)));
        assert_eq!(next_cursor(None, &info(true, None, None)), Some((Some(2), None)));
        assert_eq!(next_cursor(Some(3), &info(true, Some(3), Some("t"))), Some((None, Some("t".into()))));
    }
}
