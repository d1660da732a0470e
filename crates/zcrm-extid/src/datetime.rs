//! The date-time format of Zoho's `If-Modified-Since` header (spec §3.2: `2019-07-25T15:26:49+05:30`).
//!
//! Accepted: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of a second (dropped: Zoho's example has none), then
//! `Z` or an offset `±HH:MM`. Sent: `YYYY-MM-DDTHH:MM:SS±HH:MM`, with `Z` written `+00:00` as in Zoho's example.
//! A time without an offset is refused: the server could not know which zone it is in. So is a date that does
//! not exist (`2023-02-29`), an hour past 23, or an offset beyond ±14:00.

use crate::error::InvalidInput;

/// Checks `text` and returns it in the form Zoho documents; an error names `argument`.
///
/// ```
/// use zcrm_extid::datetime::normalize;
/// assert_eq!(normalize("2019-07-25T15:26:49+05:30", "x").unwrap(), "2019-07-25T15:26:49+05:30");
/// assert_eq!(normalize("2019-07-25T10:00:00.000Z", "x").unwrap(), "2019-07-25T10:00:00+00:00");
/// assert_eq!(normalize("2019-07-25 10:00", "if_modified_since").unwrap_err().argument, "if_modified_since");
/// ```
pub fn normalize(text: &str, argument: &str) -> Result<String, InvalidInput> {
    parse(text).map_err(|why| {
        InvalidInput::new(
            argument,
            format!("{text:?} is not an ISO 8601 date-time with a zone, e.g. 2019-07-25T15:26:49+05:30 ({why})"),
        )
    })
}

fn parse(text: &str) -> Result<String, &'static str> {
    if !text.is_ascii() {
        return Err("not ASCII");
    }
    let b = text.as_bytes();
    if b.len() < 20 {
        return Err("too short");
    }
    let digits = |s: &str| -> Result<u32, &'static str> {
        if s.bytes().all(|c| c.is_ascii_digit()) { s.parse().map_err(|_| "not a number") } else { Err("not a number") }
    };
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't') || b[13] != b':' || b[16] != b':' {
        return Err("expected YYYY-MM-DDTHH:MM:SS");
    }
    let (year, month, day) = (digits(&text[0..4])?, digits(&text[5..7])?, digits(&text[8..10])?);
    let (hour, minute, second) = (digits(&text[11..13])?, digits(&text[14..16])?, digits(&text[17..19])?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err("no such date");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("no such time of day");
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err("empty fraction of a second");
        }
        rest = &fraction[n..];
    }
    let zone = match rest {
        "Z" | "z" => "+00:00",
        _ => {
            let z = rest.as_bytes();
            if z.len() != 6 || !(z[0] == b'+' || z[0] == b'-') || z[3] != b':' {
                return Err("expected Z or an offset +HH:MM");
            }
            let (oh, om) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
            if om > 59 || oh * 60 + om > 14 * 60 {
                return Err("offset beyond ±14:00");
            }
            rest
        }
    };
    Ok(format!("{}T{}{zone}", &text[..10], &text[11..19]))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_and_refused_forms() {
        for (given, sent) in [
            ("2019-07-25T15:26:49+05:30", "2019-07-25T15:26:49+05:30"),
            ("2019-07-25T15:26:49-03:00", "2019-07-25T15:26:49-03:00"),
            ("2019-07-25T15:26:49Z", "2019-07-25T15:26:49+00:00"),
            ("2024-02-29T23:59:59.123456+14:00", "2024-02-29T23:59:59+14:00"),
            ("2019-07-25t15:26:49z", "2019-07-25T15:26:49+00:00"),
        ] {
            assert_eq!(normalize(given, "x").unwrap(), sent, "{given}");
        }
        for bad in [
            "",
            "2019-07-25",
            "2019-07-25T15:26:49",
            "2019-07-25 15:26:49Z",
            "2023-02-29T00:00:00Z",
            "2019-13-01T00:00:00Z",
            "2019-07-25T24:00:00Z",
            "2019-07-25T15:26:49+15:00",
            "2019-07-25T15:26:49+0530",
            "2019-07-25T15:26:49.Z",
            "2019-07-25T15:26:49+05:3x",
            "Thu, 25 Jul 2019 10:00:00 GMT",
            "２019-07-25T15:26:49Z",
        ] {
            assert!(normalize(bad, "x").is_err(), "{bad:?}");
        }
    }
}
