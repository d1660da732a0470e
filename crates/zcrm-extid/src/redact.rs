//! Text that may reach a terminal, a log line or an exception: secrets redacted, control characters escaped.
//!
//! * [`escape_text`]: every character that can end a line, move the cursor or reorder text when printed (C0/C1
//!   controls including `\n`, `\r`, ESC; U+2028/U+2029; bidi overrides and isolates; zero-width characters) is
//!   shown as an escape (`\n`, `\u{1b}`, `\u{2028}`), so a value can never forge a log line or a terminal
//!   sequence. [`crate::Error`]'s `Display` passes its whole text through it.
//! * [`redact_url`]: a URL as it may be quoted in an error: userinfo becomes `***@`, every query value and the
//!   fragment become `***`, escaped and cut to [`QUOTE_LEN`] characters.
//! * [`redact_secrets`]: the values of known secret fields ([`TOKEN_SECRET_KEYS`]) in JSON (`"k": "v"`), form or
//!   query (`k=v`), `k: v` and multipart (`name="k"` then a blank line) text, and the credentials after
//!   `Zoho-oauthtoken` / `Bearer`, become `***`. Used on every body an error echoes.
//! * [`is_visible_ascii`]: the only characters an access token may hold (`!` to `~`): nothing that can split a
//!   header or hide in a terminal.

use std::borrow::Cow;

/// Longest quoted value (URL, `error_description`, ...) in an error message, in characters.
pub const QUOTE_LEN: usize = 200;

/// Fields whose values are secrets in token-endpoint traffic (requests and echoed replies).
pub const TOKEN_SECRET_KEYS: &[&str] =
    &["client_secret", "refresh_token", "access_token", "code", "password", "id_token", "authtoken"];

/// Fields whose values are secrets in any other body (`code` is Zoho's error code there, not a grant).
pub const SECRET_KEYS: &[&str] =
    &["client_secret", "refresh_token", "access_token", "password", "id_token", "authtoken"];

/// Whether `c` must be escaped before it is printed (see the module docs).
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{2028}' | '\u{2029}'                       // line and paragraph separators
            | '\u{061c}' | '\u{200e}' | '\u{200f}'        // bidi marks
            | '\u{202a}'..='\u{202e}'                     // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}'                     // bidi isolates
            | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}') // zero-width characters
}

/// `text` with every character of [`needs_escape`] written as an escape; borrowed when nothing needs one.
///
/// ```
/// use zcrm_extid::redact::escape_text;
/// assert_eq!(escape_text("a\nzcrm: forged\u{1b}[2J\u{2028}"), r"a\nzcrm: forged\u{1b}[2J\u{2028}");
/// assert_eq!(escape_text("plain ü"), "plain ü");
/// ```
pub fn escape_text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The first `max` characters of `text`, with `…` if it was longer.
pub fn truncate_chars(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((i, _)) => Cow::Owned(format!("{}…", &text[..i])),
    }
}

/// Whether `text` is non-empty and only visible ASCII (`!` to `~`): no space, control, separator or non-ASCII
/// character.
pub fn is_visible_ascii(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic())
}

/// `url` as it may appear in a message: userinfo, query values and the fragment redacted, then escaped and cut
/// to [`QUOTE_LEN`] characters. Works on malformed input too (that is when it is quoted).
///
/// ```
/// use zcrm_extid::redact::redact_url;
/// assert_eq!(redact_url("https://user:pa55@host/p?token=abc&x#frag"), "https://***@host/p?token=***&x=***#***");
/// assert_eq!(redact_url("http://10.0.0.1:8080/crm"), "http://10.0.0.1:8080/crm");
/// ```
pub fn redact_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, _)) => (b, Some("***")),
        None => (url, None),
    };
    let (before_query, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let (scheme, rest) = match before_query.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, before_query),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rfind('@') {
        Some(i) => format!("***@{}", &authority[i + 1..]),
        None => authority.to_owned(),
    };
    let mut out = String::with_capacity(url.len());
    if let Some(s) = scheme {
        out.push_str(s);
        out.push_str("://");
    }
    out.push_str(&authority);
    out.push_str(path);
    if let Some(q) = query {
        out.push('?');
        let pairs: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) => format!("{k}=***"),
                None if pair.is_empty() => String::new(),
                None => format!("{pair}=***"),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    escape_text(&truncate_chars(&out, QUOTE_LEN)).into_owned()
}

/// `text` with the values of `keys` (case-insensitive, whole names) and the credentials of `Authorization`-style
/// values replaced by `***` (see the module docs).
///
/// ```
/// use zcrm_extid::redact::{redact_secrets, TOKEN_SECRET_KEYS};
/// let echo = r#"{"error":"invalid_client","echo":{"client_secret": "s3cret"}} refresh_token=r3f&x=1"#;
/// assert_eq!(
///     redact_secrets(echo, TOKEN_SECRET_KEYS),
///     r#"{"error":"invalid_client","echo":{"client_secret": "***"}} refresh_token=***&x=1"#
/// );
/// assert_eq!(redact_secrets("Authorization: Zoho-oauthtoken 1000.abc", &[]), "Authorization: Zoho-oauthtoken ***");
/// ```
pub fn redact_secrets(text: &str, keys: &[&str]) -> String {
    let lower = text.to_ascii_lowercase();
    // (start, end) byte ranges of values to replace.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for key in keys {
        let mut from = 0;
        while let Some(i) = lower[from..].find(key) {
            let start = from + i;
            let end = start + key.len();
            from = end;
            let word_before = lower[..start].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            let word_after = lower[end..].chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            if word_before || word_after {
                continue;
            }
            if let Some(span) = value_after_key(text, end) {
                spans.push(span);
            }
        }
    }
    for scheme in ["zoho-oauthtoken", "bearer"] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(scheme) {
            let end = from + i + scheme.len();
            from = end;
            let rest = &text[end..];
            let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            if skipped == 0 {
                continue;
            }
            let start = end + skipped;
            let len = text[start..]
                .find(|c: char| c.is_whitespace() || "\"'&,;<>)}]".contains(c))
                .unwrap_or(text.len() - start);
            if len > 0 {
                spans.push((start, start + len));
            }
        }
    }
    if spans.is_empty() {
        return text.to_owned();
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in spans {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str("***");
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The byte range of the value following a key that ends at `end`: `"k": "v"`, `k=v`, `k: v`, or a multipart
/// `name="k"` header followed by a blank line and the value.
fn value_after_key(text: &str, end: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = end;
    let quoted_key = bytes.get(i) == Some(&b'"');
    if quoted_key {
        i += 1;
    }
    // Multipart: `name="client_secret"` ... CRLF CRLF value CRLF.
    if quoted_key && let Some(blank) = text[i..].find("\r\n\r\n").or_else(|| text[i..].find("\n\n")) {
        let head = &text[i..i + blank];
        if !head.contains(['=', ':']) || head.to_ascii_lowercase().contains("content-") {
            let start = i + blank + if text[i + blank..].starts_with("\r\n\r\n") { 4 } else { 2 };
            let len = text[start..].find(['\r', '\n']).unwrap_or(text.len() - start);
            return (len > 0).then_some((start, start + len));
        }
    }
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if !matches!(bytes.get(i), Some(b'=' | b':')) {
        return None;
    }
    i += 1;
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if bytes.get(i) == Some(&b'"') {
        let start = i + 1;
        let mut j = start;
        while j < bytes.len() && bytes[j] != b'"' {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        return Some((start, j.min(bytes.len())));
    }
    let start = i;
    let len =
        text[start..].find(|c: char| c.is_whitespace() || "&,;\"'<>)}]".contains(c)).unwrap_or(text.len() - start);
    (len > 0).then_some((start, start + len))
}

/// `text` with every occurrence of each non-empty value in `secrets` replaced by `***` (for echoes of values the
/// client itself sent, in whatever shape the echo has).
pub fn redact_values(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        if out.contains(*s) {
            out = out.replace(*s, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_can_forge_a_line() {
        for (raw, shown) in [
            ("a\r\nb", r"a\r\nb"),
            ("\u{1b}[31mred", r"\u{1b}[31mred"),
            ("x\u{85}y\u{2029}z", r"x\u{85}y\u{2029}z"),
            ("\u{202e}evil\u{2066}", r"\u{202e}evil\u{2066}"),
            ("zero\u{200b}width\u{feff}", r"zero\u{200b}width\u{feff}"),
            ("tab\there\0", r"tab\there\u{0}"),
        ] {
            assert_eq!(escape_text(raw), shown);
            assert!(!escape_text(raw).chars().any(needs_escape));
        }
        assert!(matches!(escape_text("Contacts.External_Contact_ID"), Cow::Borrowed(_)));
    }

    #[test]
    fn urls_lose_userinfo_query_values_and_fragment() {
        assert_eq!(redact_url("https://u:p@h:1/x?a=1&b&=c#f"), "https://***@h:1/x?a=***&b=***&=***#***");
        assert_eq!(redact_url("u:p@h/x"), "***@h/x");
        assert_eq!(redact_url("https://h/x?"), "https://h/x?");
        assert_eq!(redact_url("https://h/\n?x=1"), r"https://h/\n?x=***");
        let long = format!("https://h/{}", "a".repeat(500));
        assert_eq!(redact_url(&long).chars().count(), QUOTE_LEN + 1);
    }

    #[test]
    fn secret_fields_in_every_shape() {
        let cases = [
            (r#"{"client_secret":"s","ok":"v"}"#, r#"{"client_secret":"***","ok":"v"}"#),
            (r#"{"refresh_token" : "a\"b"}"#, r#"{"refresh_token" : "***"}"#),
            (
                "grant_type=refresh_token&refresh_token=r&client_secret=s",
                "grant_type=refresh_token&refresh_token=***&client_secret=***",
            ),
            ("CLIENT_SECRET: s more", "CLIENT_SECRET: *** more"),
            ("name=\"code\"\r\n\r\n1000.grant\r\n--b", "name=\"code\"\r\n\r\n***\r\n--b"),
            ("my_client_secret_x=keep", "my_client_secret_x=keep"),
            ("Bearer abc.def, next", "Bearer ***, next"),
        ];
        for (raw, want) in cases {
            assert_eq!(redact_secrets(raw, TOKEN_SECRET_KEYS), want, "{raw}");
        }
        assert_eq!(redact_secrets(r#"{"code":"INVALID_DATA"}"#, SECRET_KEYS), r#"{"code":"INVALID_DATA"}"#);
        assert_eq!(redact_values("echo s3cret and s3cret", &["s3cret", ""]), "echo *** and ***");
    }

    #[test]
    fn visible_ascii_only() {
        assert!(is_visible_ascii("1000.abc~!"));
        for bad in ["", "a b", "a\u{2028}b", "ü", "a\tb", "a\u{7f}"] {
            assert!(!is_visible_ascii(bad), "{bad:?}");
        }
    }
}
