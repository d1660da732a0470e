//! `parse_outcomes`: never panics, keeps the status on every error, and maps a well-formed `data` array of the
//! right length to exactly one outcome per record, in order (and refuses any other length).

mod common;

use common::{any_text, config, json_value};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};
use zcrm_extid::response::parse_outcomes;
use zcrm_extid::{Error, ErrorKind};

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        select(vec!["application/json", "application/json;charset=UTF-8", "text/html", ""])
            .prop_map(|s| Some(s.into())),
        any::<String>().prop_map(Some),
    ]
}

/// Bodies: random bytes, random JSON, and JSON shaped like Zoho's envelopes with random contents.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let envelope = prop_oneof![
        vec(json_value(), 0..6).prop_map(|items| serde_json::json!({ "data": items })),
        (json_value(), json_value(), json_value()).prop_map(
            |(code, message, details)| serde_json::json!({"code": code, "message": message, "details": details})
        ),
        json_value(),
    ];
    prop_oneof![
        vec(any::<u8>(), 0..256),
        envelope.prop_map(|v| serde_json::to_vec(&v).unwrap()),
        (vec(json_value(), 0..4), any::<usize>()).prop_map(|(items, cut)| {
            // Truncated JSON.
            let text = serde_json::to_vec(&serde_json::json!({ "data": items })).unwrap();
            text[..cut % (text.len() + 1)].to_vec()
        }),
        Just(Vec::new()),
        Just(b" \r\n".to_vec()),
    ]
}

#[derive(Debug, Clone)]
struct Item {
    success: bool,
    code: String,
    message: String,
    details: Option<Map<String, Value>>,
    /// Write the keys in reverse order (Zoho's order is not part of the contract).
    reversed: bool,
}

impl Item {
    fn to_json(&self) -> Value {
        let mut fields = vec![
            ("code", Value::from(self.code.as_str())),
            ("details", self.details.clone().map_or(Value::Null, Value::Object)),
            ("message", Value::from(self.message.as_str())),
            ("status", Value::from(if self.success { "success" } else { "error" })),
        ];
        if self.details.is_none() && self.success {
            fields.remove(1); // no `details` key at all
        }
        if self.reversed {
            fields.reverse();
        }
        Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

fn details() -> impl Strategy<Value = Option<Map<String, Value>>> {
    prop_oneof![
        1 => Just(None),
        4 => vec((prop_oneof![
                3 => select(vec!["id", "api_name", "json_path", "expected_data_type", "External_Deal_ID"])
                    .prop_map(str::to_owned),
                1 => any_text(8),
            ], json_value()), 0..4)
            .prop_map(|kv| Some(kv.into_iter().collect())),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    let code = prop_oneof![
        select(vec![
            "INVALID_DATA",
            "MANDATORY_NOT_FOUND",
            "DUPLICATE_DATA",
            "CANNOT_BE_UPDATED",
            "NOT_ALLOWED",
            "LIMIT_EXCEEDED",
        ])
        .prop_map(str::to_owned),
        "[A-Z][A-Z_]{0,24}",
    ];
    prop_oneof![
        // `status` decides success; the code is almost always SUCCESS, but not necessarily.
        (
            prop_oneof![4 => Just("SUCCESS".to_owned()), 1 => "[A-Z][A-Z_]{0,24}"],
            details(),
            any_text(16),
            any::<bool>()
        )
            .prop_map(|(code, details, message, reversed)| Item {
                success: true,
                code,
                message,
                details,
                reversed
            }),
        (code, details(), any_text(16), any::<bool>()).prop_map(|(code, details, message, reversed)| Item {
            success: false,
            code,
            message,
            details,
            reversed
        }),
    ]
}

/// Items: up to 8 fully arbitrary ones, then up to 97 cheap ones (a random success/failure mix and codes from a
/// pool), so that long arrays stay fast to generate in debug builds.
fn items() -> impl Strategy<Value = Vec<Item>> {
    let filler = prop_oneof![2 => Just(Vec::new()), 1 => vec((any::<bool>(), 0usize..6), 0..=97)];
    (vec(item(), 0..=8), filler).prop_map(|(mut items, filler)| {
        const CODES: [&str; 6] =
            ["INVALID_DATA", "MANDATORY_NOT_FOUND", "DUPLICATE_DATA", "NOT_ALLOWED", "SOME_NEW_CODE", "X"];
        for (success, c) in filler {
            let i = items.len();
            items.push(Item {
                success,
                code: if success { "SUCCESS".into() } else { CODES[c].into() },
                message: if success { "relation added".into() } else { format!("failure {i}") },
                details: Some(Map::from_iter([("id".to_owned(), Value::from(format!("11111100000009{i:04}")))])),
                reversed: c % 2 == 0,
            });
        }
        items
    })
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => select(vec![200u16, 207, 400]),
        1 => any::<u16>().prop_filter("204 means no content", |s| *s != 204),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn never_panics(status in any::<u16>(), ct in content_type(), body in body(), sent in 0usize..8) {
        match parse_outcomes(status, ct.as_deref(), &body, sent) {
            Ok(outcomes) => {
                prop_assert_eq!(outcomes.len(), sent);
                for (i, o) in outcomes.iter().enumerate() {
                    prop_assert_eq!(o.index, i);
                }
            }
            Err(e) => {
                prop_assert_eq!(e.status(), Some(status));
                prop_assert!(matches!(e.kind(), ErrorKind::Api | ErrorKind::UnexpectedResponse), "{:?}", e);
                if let Error::UnexpectedResponse { body_prefix, .. } = &e {
                    prop_assert!(body_prefix.len() <= 512 * 3, "{}", body_prefix.len());
                }
            }
        }
    }

    #[test]
    fn one_outcome_per_record_in_order(
        items in items(),
        status in status(),
        pretty in any::<bool>(),
        ct in content_type(),
    ) {
        let data = Value::Array(items.iter().map(Item::to_json).collect());
        let envelope = serde_json::json!({ "data": data });
        let body = if pretty { serde_json::to_vec_pretty(&envelope) } else { serde_json::to_vec(&envelope) }.unwrap();
        let outcomes = parse_outcomes(status, ct.as_deref(), &body, items.len())
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(outcomes.len(), items.len());
        for (i, (o, item)) in outcomes.iter().zip(&items).enumerate() {
            prop_assert_eq!(o.index, i);
            prop_assert_eq!(o.is_success(), item.success);
            prop_assert_eq!(o.code(), item.code.as_str());
            prop_assert_eq!(o.message(), item.message.as_str());
            prop_assert_eq!(o.details(), &item.details.clone().unwrap_or_default());
            if let Err(f) = &o.result {
                prop_assert_eq!(f.status, Some(status));
            }
        }
    }

    #[test]
    fn any_other_length_is_refused(
        items in vec(item(), 0..=6),
        status in status(),
        delta in 1usize..=5,
        more in any::<bool>(),
    ) {
        let data: Vec<Value> = items.iter().map(Item::to_json).collect();
        let body = serde_json::to_vec(&serde_json::json!({ "data": data })).unwrap();
        let n = items.len();
        let sent = if more || n == 0 { n + delta } else { n - 1 - (delta - 1) % n };
        // One error item answering a call of several records is an error about the call, with Zoho's code.
        let call_error = n == 1 && sent > 1 && data[0]["status"] == "error";
        match parse_outcomes(status, Some("application/json"), &body, sent) {
            Err(Error::UnexpectedResponse { status: s, .. }) if !call_error => prop_assert_eq!(s, status),
            Err(Error::Api { status: s, code, .. }) if call_error => {
                prop_assert_eq!(s, status);
                prop_assert_eq!(code.as_str(), data[0]["code"].as_str().unwrap_or(""));
            }
            other => prop_assert!(false, "expected a refusal (call error: {}), got {:?}", call_error, other),
        }
    }
}
