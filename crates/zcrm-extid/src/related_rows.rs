//! What a related-records read returns ([`RelatedResponse`]), and how an answer becomes one.
//!
//! | response | result |
//! |---|---|
//! | 304 | [`RelatedResponse::NotModified`]: nothing changed since `If-Modified-Since` (not an error) |
//! | 204, or a 2xx with an empty body | a [`RelatedPage`] with no rows and no `info` (spec §2.1: no related records, or none of the ids) |
//! | 2xx `{"data":[...], "info":{...}}` | a page: one [`RelatedRow`] per item (its `id` as a string, every other key in `fields`), and the [`PageInfo`] if sent (the single-record form has none) |
//! | a Zoho error object (top level, or the only item of `data` on a non-2xx status) | [`Error::Api`] |
//! | anything else (HTML, a row without an `id`, ...) | [`Error::UnexpectedResponse`] with the status and the first 512 bytes |
//!
//! A row's `id` is always text: Zoho sends ids as strings (they exceed 2^53); an integer id is written in
//! decimal rather than lost.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::response::{api_error, body_prefix};

/// One related record: its Zoho record id and the other keys of the item (the requested fields, the relation
/// fields such as `Contact_Role`, and whatever else Zoho sent), as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct RelatedRow {
    /// The related record's Zoho id.
    pub id: String,
    /// Every other key of the item, in the order Zoho sent them.
    pub fields: Map<String, Value>,
}

/// The `info` object of a list read (spec §2.1, §3.2). Fields Zoho did not send are `None` (v2.1 has only
/// `per_page`, `count`, `page` and `more_records`; v7 and v8 add the page tokens).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    /// Records per page.
    pub per_page: Option<u32>,
    /// Records on this page.
    pub count: Option<u32>,
    /// This page's number.
    pub page: Option<u32>,
    /// Whether more records follow.
    pub more_records: bool,
    /// The token of the next page (v7, v8), for `page_token`.
    pub next_page_token: Option<String>,
    /// The token of the previous page (v7, v8).
    pub previous_page_token: Option<String>,
    /// When `next_page_token` expires (an ISO 8601 date-time, as Zoho sends it).
    pub page_token_expiry: Option<String>,
}

/// One page of related records.
#[derive(Debug, Clone, PartialEq)]
pub struct RelatedPage {
    /// 200, or 204 for no records.
    pub status: u16,
    /// The records, in the order Zoho sent them.
    pub rows: Vec<RelatedRow>,
    /// `info`, if Zoho sent it (list reads; not the single-record form or a 204).
    pub info: Option<PageInfo>,
    /// `X-API-CREDITS-REMAINING`, sent once half the day's credits are used.
    pub credits_remaining: Option<u64>,
}

impl RelatedPage {
    /// Whether more records follow this page.
    pub fn more_records(&self) -> bool {
        self.info.as_ref().is_some_and(|i| i.more_records)
    }
}

/// The answer to a related-records read.
#[derive(Debug, Clone, PartialEq)]
pub enum RelatedResponse {
    /// The records (possibly none: a 204 is an empty page).
    Page(RelatedPage),
    /// HTTP 304: nothing changed since the request's `If-Modified-Since`.
    NotModified,
}

impl RelatedResponse {
    /// The page, unless the answer was 304.
    pub fn page(&self) -> Option<&RelatedPage> {
        match self {
            RelatedResponse::Page(p) => Some(p),
            RelatedResponse::NotModified => None,
        }
    }

    /// The page, unless the answer was 304.
    pub fn into_page(self) -> Option<RelatedPage> {
        match self {
            RelatedResponse::Page(p) => Some(p),
            RelatedResponse::NotModified => None,
        }
    }

    /// The rows (none for a 204 or a 304).
    pub fn rows(&self) -> &[RelatedRow] {
        self.page().map_or(&[], |p| &p.rows)
    }
}

/// Interprets the answer to a related-records read (see the module docs).
///
/// ```
/// use zcrm_extid::related_rows::{RelatedResponse, parse_related};
/// let body = br#"{"data":[{"Contact_Role":"111111000000026002","External_Deal_ID":"externaldeal3","id":"111111000000094028"}]}"#;
/// let answer = parse_related(200, Some("application/json"), body, None)?;
/// assert_eq!(answer.rows()[0].id, "111111000000094028");
/// assert_eq!(answer.rows()[0].fields["External_Deal_ID"], "externaldeal3");
/// assert_eq!(parse_related(304, None, b"", None)?, RelatedResponse::NotModified);
/// assert!(parse_related(204, None, b"", None)?.rows().is_empty());
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
pub fn parse_related(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    credits_remaining: Option<u64>,
) -> Result<RelatedResponse> {
    let unexpected = |reason: String| Error::UnexpectedResponse {
        status,
        reason,
        content_type: content_type.map(str::to_owned),
        body_prefix: body_prefix(body),
    };
    if status == 304 {
        return Ok(RelatedResponse::NotModified);
    }
    let success = (200..300).contains(&status);
    if success && (status == 204 || body.iter().all(u8::is_ascii_whitespace)) {
        return Ok(RelatedResponse::Page(RelatedPage { status, rows: Vec::new(), info: None, credits_remaining }));
    }
    let json: Value = serde_json::from_slice(body).map_err(|e| unexpected(format!("the body is not JSON ({e})")))?;
    let Value::Object(mut top) = json else {
        return Err(unexpected("the JSON body is not an object".into()));
    };
    let items = match top.remove("data") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(unexpected("`data` is not an array".into())),
        None => {
            return Err(api_error(status, top)
                .unwrap_or_else(|| unexpected("the JSON has neither `data` nor an error `code`".into())));
        }
    };
    if !success {
        // An error wrapped in `data` (the OAS shows this shape for some errors).
        return Err(match items.into_iter().next() {
            Some(Value::Object(item)) => {
                api_error(status, item).unwrap_or_else(|| unexpected(format!("HTTP {status} without an error code")))
            }
            _ => unexpected(format!("HTTP {status} without an error code")),
        });
    }
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(mut fields) = item else {
            return Err(unexpected(format!("data[{i}] is not an object")));
        };
        let id = match fields.shift_remove("id") {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(Value::Number(n)) if n.is_u64() => n.to_string(),
            _ => return Err(unexpected(format!("data[{i}] has no record id"))),
        };
        rows.push(RelatedRow { id, fields });
    }
    let info = match top.remove("info") {
        Some(Value::Object(info)) => Some(page_info(&info)),
        _ => None,
    };
    Ok(RelatedResponse::Page(RelatedPage { status, rows, info, credits_remaining }))
}

fn page_info(info: &Map<String, Value>) -> PageInfo {
    let number = |k: &str| info.get(k).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
    let text = |k: &str| info.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    PageInfo {
        per_page: number("per_page"),
        count: number("count"),
        page: number("page"),
        more_records: info.get("more_records").and_then(Value::as_bool).unwrap_or(false),
        next_page_token: text("next_page_token"),
        previous_page_token: text("previous_page_token"),
        page_token_expiry: text("page_token_expiry"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::ErrorCode;

    #[test]
    fn the_v7_list_sample() {
        let body = br#"{"data":[{"Contact_Role":11112748204747392,"Stage":"Closed Won",
          "Account_Name":{"name":"Chapman","id":"4876876000001036013"},
          "id":"4876876000002095001","Closing_Date":"2022-08-09"}],
         "info":{"per_page":200,"next_page_token":null,"count":1,"page":1,
                 "previous_page_token":null,"page_token_expiry":null,"more_records":false}}"#;
        let page = parse_related(200, None, body, None).unwrap().into_page().unwrap();
        assert_eq!(page.rows[0].id, "4876876000002095001");
        assert_eq!(
            page.rows[0].fields.keys().collect::<Vec<_>>(),
            ["Contact_Role", "Stage", "Account_Name", "Closing_Date"]
        );
        assert_eq!(page.rows[0].fields["Contact_Role"].as_u64(), Some(11112748204747392));
        let info = page.info.unwrap();
        assert_eq!((info.per_page, info.count, info.page, info.more_records), (Some(200), Some(1), Some(1), false));
        assert_eq!(info.next_page_token, None);
    }

    #[test]
    fn errors_and_unusable_answers() {
        let e = parse_related(
            400,
            None,
            br#"{"code":"REQUIRED_PARAM_MISSING","details":{"param_name":"fields"},"message":"m","status":"error"}"#,
            None,
        )
        .unwrap_err();
        assert_eq!((e.code(), e.status()), (ErrorCode::RequiredParamMissing, Some(400)));
        let wrapped = br#"{"data":[{"code":"INVALID_DATA","details":{},"message":"m","status":"error"}]}"#;
        assert_eq!(parse_related(400, None, wrapped, None).unwrap_err().code(), ErrorCode::InvalidData);
        for (status, body) in [
            (200, &b"<html>"[..]),
            (200, br#"{"data":[{"Stage":"x"}]}"#),
            (200, br#"{"data":[1]}"#),
            (200, br#"{"data":{}}"#),
            (200, br#"[]"#),
            (502, b"Bad gateway"),
        ] {
            let e = parse_related(status, Some("text/html"), body, None).unwrap_err();
            assert_eq!(e.code(), ErrorCode::UnexpectedResponse, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn integer_ids_become_text() {
        let page = parse_related(200, None, br#"{"data":[{"id":111111000000094028}]}"#, None).unwrap();
        assert_eq!(page.rows()[0].id, "111111000000094028");
    }
}
