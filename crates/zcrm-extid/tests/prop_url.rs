//! Any non-empty Unicode value becomes exactly one percent-encoded path segment that decodes back to itself.

mod common;

use common::{config, is_unreserved};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use zcrm_extid::url::{decode_segment, encode_segment, push_segment};
use zcrm_extid::{ApiVersion, BaseUrl, Parent, UpdateRelated};

/// The expected encoding, written from RFC 3986: unreserved bytes as they are, every other UTF-8 byte as `%XX`
/// (upper-case hex); the dot-segments `.` and `..` fully encoded so nothing can remove them.
fn oracle(value: &str) -> String {
    match value {
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        _ => value
            .bytes()
            .map(|b| if is_unreserved(b) { char::from(b).to_string() } else { format!("%{b:02X}") })
            .collect(),
    }
}

/// Only unreserved characters and `%XX` triplets (upper-case hex).
fn well_formed(segment: &str) -> bool {
    let hex = |c: u8| c.is_ascii_digit() || (b'A'..=b'F').contains(&c);
    let b = segment.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() || !hex(b[i + 1]) || !hex(b[i + 2]) {
                return false;
            }
            i += 3;
        } else if is_unreserved(b[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => vec(any::<char>(), 1..12).prop_map(|c| c.into_iter().collect()),
        3 => vec(
            select(vec![
                "/", "?", "#", "%", "%2F", "%2e", ".", "..", " ", "+", "&", "=", ";", ":", "@", "\\", "~", "-", "_",
                "a", "Z", "9", "ü", "ß", "顧", "😀", "\u{0}", "\r\n", "\t", "\u{7f}", "\u{202e}", "\u{feff}",
                "\u{10ffff}",
            ]),
            1..8,
        )
        .prop_map(|parts| parts.concat()),
        1 => select(vec![".", "..", "...", "./..", "/", "//", "%", "?", "#"]).prop_map(str::to_owned),
    ]
    .prop_filter("non-empty", |v| !v.is_empty())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn one_segment_that_decodes_back(v in value()) {
        let enc = encode_segment(&v);
        prop_assert_eq!(&enc, &oracle(&v));
        prop_assert!(!enc.is_empty());
        prop_assert!(!enc.contains(['/', '?', '#']), "{}", enc);
        prop_assert!(well_formed(&enc), "{}", enc);
        prop_assert!(enc != "." && enc != "..", "dot segment {}", enc);
        prop_assert_eq!(decode_segment(&enc), Some(v.clone()));

        let mut path = String::from("/crm/v5/Contacts");
        push_segment(&mut path, &v);
        prop_assert_eq!(path, format!("/crm/v5/Contacts/{enc}"));
    }

    /// The same holds for the parent segment of a whole request URL.
    #[test]
    fn parent_value_is_one_url_segment(v in value(), version in select(ApiVersion::ALL.to_vec())) {
        let parent = Parent::external("External_Contact_ID", v.as_str()).unwrap();
        let req = UpdateRelated::builder("Contacts", parent, "Deals")
            .record(serde_json::json!({"id": "1"}))
            .build()
            .unwrap();
        let base = BaseUrl::parse("https://www.zohoapis.com").unwrap();
        let http = req.prepare(&base, version);
        let path = http.url().strip_prefix("https://www.zohoapis.com").unwrap();
        let segments: Vec<&str> = path.split('/').collect();
        prop_assert_eq!(segments.len(), 6, "{}", path);
        prop_assert_eq!(segments[5], "Deals");
        prop_assert_eq!(decode_segment(segments[4]), Some(v));
    }
}
