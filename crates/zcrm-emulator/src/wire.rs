//! The emulator's own readers of what a client sends: `X-EXTERNAL` pairs, path segments, scope names. They are
//! written from the spec (§1.2, §2.4, §7, §11.3), **not** taken from the client crate, so that a bug in the
//! client's parser or encoder cannot hide behind an identical bug here (the differential tests in
//! `tests/wire_differential.rs` compare the two on generated input).
//!
//! Choices where Zoho is silent (spec §11.2, §11.3, §11.5), each tested:
//! * Pairs are separated by `,`; spaces and tabs around a pair are ignored (the docs' samples put a space after
//!   the comma). An empty pair, a name that is not an API name (`[A-Za-z_][A-Za-z0-9_]*`), or two pairs for the
//!   same address (module + lookup path) is a malformed header.
//! * A path segment is percent-decoded as **one** value: `a%2Fb` is the value `a/b`, never two segments (the
//!   front end routes on the raw path, then decodes each segment). A `%` not followed by two hex digits is kept
//!   literally. An escape that decodes to invalid UTF-8 is not a valid value.
//! * Dot segments: a raw `.` or `..` segment is refused (a front end that normalises paths would route it
//!   somewhere else; answering `INVALID_URL_PATTERN` is the safe reading). The encoded forms `%2E` and `%2E%2E`
//!   are plain values `.` and `..` (that is how a client sends such an external value).

/// One `X-EXTERNAL` pair: `Module.path....Field` or `Module.lookup...->Target.Field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// The module the pair belongs to.
    pub module: String,
    /// Lookup (and subform) fields between the module and the external field.
    pub path: Vec<String>,
    /// The target module of a multi-module lookup (`->Accounts`).
    pub target: Option<String>,
    /// The external field.
    pub field: String,
}

impl Pair {
    /// `Module.Field`: no lookup path.
    pub fn is_simple(&self) -> bool {
        self.path.is_empty() && self.target.is_none()
    }
}

impl std::fmt::Display for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.module)?;
        for p in &self.path {
            write!(f, ".{p}")?;
        }
        if let Some(t) = &self.target {
            write!(f, "->{t}")?;
        }
        write!(f, ".{}", self.field)
    }
}

/// Whether `s` is a Zoho API name: an ASCII letter or `_`, then ASCII letters, digits or `_`.
pub fn is_api_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0] == b'_' || b[0].is_ascii_alphabetic())
        && b.iter().all(|c| *c == b'_' || c.is_ascii_alphanumeric())
}

fn parse_pair(raw: &str) -> Result<Pair, String> {
    let text = raw.trim_matches(|c| c == ' ' || c == '\t');
    if text.is_empty() {
        return Err("empty pair".to_owned());
    }
    let arrow = text.find("->");
    let (head, tail) = match arrow {
        Some(i) => (&text[..i], Some(&text[i + 2..])),
        None => (text, None),
    };
    let mut names: Vec<String> = Vec::new();
    for n in head.split('.') {
        if !is_api_name(n) {
            return Err(format!("{n:?} in {text:?} is not an API name"));
        }
        names.push(n.to_owned());
    }
    let module = names.remove(0);
    match tail {
        None => {
            let Some(field) = names.pop() else { return Err(format!("{text:?} names no field")) };
            Ok(Pair { module, path: names, target: None, field })
        }
        Some(tail) => {
            if names.is_empty() {
                return Err(format!("{text:?}: `->` must follow a lookup field"));
            }
            let mut parts = tail.split('.');
            let (Some(target), Some(field), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(format!("{text:?}: `->` must be followed by Module.Field"));
            };
            if !is_api_name(target) || !is_api_name(field) {
                return Err(format!("{text:?}: `->` must be followed by Module.Field"));
            }
            Ok(Pair { module, path: names, target: Some(target.to_owned()), field: field.to_owned() })
        }
    }
}

/// Parses an `X-EXTERNAL` value into its pairs, in order.
pub fn parse_x_external(text: &str) -> Result<Vec<Pair>, String> {
    let mut pairs: Vec<Pair> = Vec::new();
    for raw in text.split(',') {
        let p = parse_pair(raw)?;
        if let Some(q) = pairs.iter().find(|q| q.module == p.module && q.path == p.path && q.target == p.target) {
            return Err(format!("{p} and {q} address the same records"));
        }
        pairs.push(p);
    }
    Ok(pairs)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one raw path segment into one value (see the module docs); `None` if it is not a value.
pub fn decode_segment(raw: &str) -> Option<String> {
    if raw == "." || raw == ".." {
        return None;
    }
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads an `If-Modified-Since` value as Unix seconds. Zoho documents ISO 8601 with an offset
/// (`2019-07-25T15:26:49+05:30`, spec §3.2); accepted here: `YYYY-MM-DDTHH:MM:SS`, an optional fraction (ignored),
/// then `Z` or `±HH:MM`. Anything else (no zone, an impossible date, an HTTP-date) is `None`.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let t = text.trim();
    if !t.is_ascii() || t.len() < 20 {
        return None;
    }
    let num = |a: usize, b: usize| -> Option<i64> {
        let s = &t[a..b];
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok()).flatten()
    };
    let b = t.as_bytes();
    if (b[4], b[7], b[10].to_ascii_uppercase(), b[13], b[16]) != (b'-', b'-', b'T', b':', b':') {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[(month - 1) as usize] {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &t[19..];
    if let Some(f) = rest.strip_prefix('.') {
        let n = f.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &f[n..];
    }
    let offset = if rest.eq_ignore_ascii_case("Z") {
        0
    } else {
        let r = rest.as_bytes();
        if r.len() != 6 || r[3] != b':' {
            return None;
        }
        let sign = match r[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (oh, om) = (rest[1..3].parse::<i64>().ok()?, rest[4..6].parse::<i64>().ok()?);
        if !rest[1..3].bytes().chain(rest[4..6].bytes()).all(|c| c.is_ascii_digit())
            || om > 59
            || oh * 60 + om > 14 * 60
        {
            return None;
        }
        sign * (oh * 3600 + om * 60)
    };
    let days = crate::clock::days_from_civil(year, month as u32, day as u32);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// The scope name of a module as Zoho's scope lists write it: lower case, without the `__s` suffix of system
/// modules and without underscores (`Price_Books` -> `pricebooks`).
pub fn scope_name(module: &str) -> String {
    let base = module.strip_suffix("__s").unwrap_or(module);
    base.replace('_', "").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_pairs() {
        let p = parse_x_external("Contacts.External_Contact_ID, Deals.External_Deal_ID").unwrap();
        assert_eq!(
            (p[0].to_string(), p[1].to_string()),
            ("Contacts.External_Contact_ID".into(), "Deals.External_Deal_ID".into())
        );
        let l = &parse_x_external("Contacts.Account_Name.External_Account_ID").unwrap()[0];
        assert_eq!((l.path.as_slice(), l.field.as_str()), (&["Account_Name".to_owned()][..], "External_Account_ID"));
        let m = &parse_x_external("Events.What_Id->Accounts.External_Account_ID").unwrap()[0];
        assert_eq!(m.target.as_deref(), Some("Accounts"));
        for bad in ["", "A", "A.", "A..B", "A.B,", "A.B,A.C", "A->B.C", "A.W->B", "A.W->B.C.D", "A.B\r\nX"] {
            assert!(parse_x_external(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn segments_are_one_value_and_dot_segments_are_refused() {
        assert_eq!(decode_segment("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(decode_segment("100%").as_deref(), Some("100%"));
        assert_eq!(decode_segment("%zz").as_deref(), Some("%zz"));
        assert_eq!(decode_segment("%C3%BC").as_deref(), Some("ü"));
        assert_eq!(decode_segment("%2E%2E").as_deref(), Some(".."));
        assert_eq!(decode_segment(".."), None);
        assert_eq!(decode_segment("."), None);
        assert_eq!(decode_segment("%FF"), None);
    }

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("2019-07-25T15:26:49+05:30"), Some(1_564_048_609));
        assert_eq!(parse_datetime("2019-07-25T09:56:49Z"), Some(1_564_048_609));
        assert_eq!(parse_datetime("2019-07-25T09:56:49.999-00:00"), Some(1_564_048_609));
        for bad in [
            "",
            "2019-07-25",
            "2019-07-25T09:56:49",
            "2019-02-29T00:00:00Z",
            "2019-07-25T09:56:49+15:00",
            "Thu, 25 Jul 2019 10:00:00 GMT",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn scope_names() {
        assert_eq!(scope_name("Price_Books"), "pricebooks");
        assert_eq!(scope_name("Appointments__s"), "appointments");
    }
}
