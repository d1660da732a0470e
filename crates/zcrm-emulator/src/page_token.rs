//! Page tokens of related-record reads (v7, v8; spec §3.2): opaque to clients, tied to one parent and related
//! list, expiring, and stable for the data.
//!
//! A token is a cursor: "the records after related record X" in the read's order, not "page N". So records
//! linked or unlinked while a client pages never make another record appear twice or go missing. It carries
//! its expiry (Unix seconds, [`crate::server::Runtime::page_token_ttl_secs`] after it was issued; 24 hours by
//! default *) and a checksum, and is written as hex, so it is one URL-safe word. Choices marked * are the
//! emulator's where Zoho is silent: an expired, altered or foreign token is 400 `INVALID_DATA` with
//! `param_name: page_token` *.

const SEP: char = '\u{1f}';
const SALT: u64 = 0x5a6f_686f_434d_5245;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Base module.
    pub module: String,
    /// Parent record id.
    pub parent: String,
    /// Related list.
    pub list: String,
    /// The last related record id of the page that issued the token.
    pub after: String,
    /// Unix seconds at which it stops working.
    pub expires: i64,
}

fn checksum(payload: &str) -> u64 {
    // FNV-1a, salted: enough to tell a token the emulator issued from an edited one.
    payload.bytes().fold(0xcbf2_9ce4_8422_2325 ^ SALT, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Token {
    /// The token's text.
    pub fn encode(&self) -> String {
        let payload = [self.module.as_str(), &self.parent, &self.list, &self.after, &self.expires.to_string()]
            .join(&SEP.to_string());
        let mut out: String = payload.bytes().map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!("{:016x}", checksum(&payload)));
        out
    }

    /// Reads a token's text; `None` if it is not one the emulator issued.
    pub fn decode(text: &str) -> Option<Token> {
        if text.len() < 16 || !text.is_ascii() || !text.len().is_multiple_of(2) {
            return None;
        }
        let (hex, sum) = text.split_at(text.len() - 16);
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let payload = String::from_utf8(bytes).ok()?;
        if u64::from_str_radix(sum, 16).ok()? != checksum(&payload) {
            return None;
        }
        let parts: Vec<&str> = payload.split(SEP).collect();
        let [module, parent, list, after, expires] = parts.as_slice() else { return None };
        Some(Token {
            module: (*module).to_owned(),
            parent: (*parent).to_owned(),
            list: (*list).to_owned(),
            after: (*after).to_owned(),
            expires: expires.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_edits() {
        let t = Token {
            module: "Contacts".into(),
            parent: "1".into(),
            list: "Deals".into(),
            after: "42".into(),
            expires: 1_700_000_000,
        };
        let text = t.encode();
        assert!(text.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(Token::decode(&text), Some(t));
        let mut edited = text.into_bytes();
        edited[3] = if edited[3] == b'0' { b'1' } else { b'0' };
        assert_eq!(Token::decode(&String::from_utf8(edited).unwrap()), None);
        assert_eq!(Token::decode("zz"), None);
    }
}
