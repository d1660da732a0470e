//! URL paths in which every value is exactly one percent-encoded segment.
//!
//! Zoho's official SDKs concatenate external values into the path as they are, so `a/b` becomes two segments,
//! `a?b` starts a query and `a#b` a fragment (spec §11.3). Here every byte outside RFC 3986's *unreserved* set
//! (`A-Z a-z 0-9 - . _ ~`) is percent-encoded (UTF-8 first), so no value can change the route. The segments `.`
//! and `..` are written `%2E` / `%2E%2E`, so that no client library or proxy removes them as dot-segments.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Everything but RFC 3986 unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Appends `/` and `value` as one percent-encoded path segment to `out`.
///
/// ```
/// let mut url = String::from("https://www.zohoapis.com/crm/v5/Contacts");
/// zcrm_extid::url::push_segment(&mut url, "ERP/42?x#y");
/// assert_eq!(url, "https://www.zohoapis.com/crm/v5/Contacts/ERP%2F42%3Fx%23y");
/// ```
pub fn push_segment(out: &mut String, value: &str) {
    out.push('/');
    match value {
        "." => out.push_str("%2E"),
        ".." => out.push_str("%2E%2E"),
        _ => out.extend(utf8_percent_encode(value, SEGMENT)),
    }
}

/// One segment, encoded (without the leading `/`).
pub fn encode_segment(value: &str) -> String {
    let mut s = String::new();
    push_segment(&mut s, value);
    s.split_off(1)
}

/// Decodes one path segment. `None` if it does not decode to UTF-8.
///
/// ```
/// assert_eq!(zcrm_extid::url::decode_segment("ERP%2F42").as_deref(), Some("ERP/42"));
/// ```
pub fn decode_segment(segment: &str) -> Option<String> {
    percent_decode_str(segment).decode_utf8().ok().map(|c| c.into_owned())
}

/// Appends `values` to `out` as one query parameter's value: each value percent-encoded as in a path segment
/// (every byte outside RFC 3986 *unreserved*, so `,`, `&`, `=`, `+`, `#` and spaces inside a value are escapes),
/// joined by a literal `,` (Zoho's list separator, `?ids=ext1,ext2`). A `,` inside a value is `%2C` here, but a
/// server that decodes the whole parameter before splitting it cannot tell it from the separator: callers refuse
/// such values in lists (see [`crate::related_get`], [`crate::related_delete`]).
///
/// ```
/// let mut q = String::from("ids=");
/// zcrm_extid::url::push_query_list(&mut q, ["a b", "x&y=1", "ü"]);
/// assert_eq!(q, "ids=a%20b,x%26y%3D1,%C3%BC");
/// ```
pub fn push_query_list<'a>(out: &mut String, values: impl IntoIterator<Item = &'a str>) {
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.extend(utf8_percent_encode(value, SEGMENT));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_changing_characters_are_encoded() {
        for (value, encoded) in [
            ("extcontact3", "extcontact3"),
            ("a/b", "a%2Fb"),
            ("a?b", "a%3Fb"),
            ("a#b", "a%23b"),
            ("100%", "100%25"),
            ("a b", "a%20b"),
            ("ü", "%C3%BC"),
            ("http://x", "http%3A%2F%2Fx"),
            (".", "%2E"),
            ("..", "%2E%2E"),
            ("...", "..."),
            ("a+b;c=d", "a%2Bb%3Bc%3Dd"),
        ] {
            assert_eq!(encode_segment(value), encoded, "{value}");
            assert_eq!(decode_segment(encoded).as_deref(), Some(value));
        }
    }
}
