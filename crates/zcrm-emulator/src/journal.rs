//! The request journal: what clients sent, with secrets masked, and what they got. It is served at
//! `/__emulator/journal`, so it must never hold a secret:
//!
//! * `Authorization` and `Proxy-Authorization` keep only their scheme (`Zoho-oauthtoken ***`); `Cookie` is `***`.
//! * Token-endpoint requests (`.../oauth/...`): every parameter value except `grant_type`, `client_id`, `scope`
//!   and `redirect_uri` becomes `***`, in the query string, a form or multipart body, or a JSON body (at any
//!   depth).
//! * Every other request: the values of secret-named parameters (`client_secret`, `refresh_token`,
//!   `access_token`, `password`, `token`, `authtoken`, `id_token`) become `***` in the query string, a form body or
//!   a JSON body (at any depth); anything else is kept as sent.

use std::collections::VecDeque;

use serde::Serialize;

use crate::http::Request;

/// One journaled request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Method.
    pub method: String,
    /// Path, as sent (percent-encoded).
    pub path: String,
    /// Query string.
    pub query: String,
    /// Headers; `authorization` values keep only the scheme (`Zoho-oauthtoken ***`).
    pub headers: Vec<(String, String)>,
    /// Body as lossy UTF-8.
    pub body: String,
    /// The status answered, or 0 if the connection was dropped.
    pub status: u16,
}

impl Entry {
    /// The first header named `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A bounded journal.
#[derive(Debug, Default)]
pub struct Journal {
    entries: VecDeque<Entry>,
    capacity: usize,
}

impl Journal {
    /// A journal keeping the last `capacity` requests.
    pub fn new(capacity: usize) -> Journal {
        Journal { entries: VecDeque::new(), capacity }
    }

    /// Records `request` answered with `status`.
    pub fn record(&mut self, request: &Request, status: u16) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        let headers = request
            .headers
            .iter()
            .map(|(n, v)| {
                let v = match n.as_str() {
                    "authorization" | "proxy-authorization" => redact(v),
                    "cookie" => "***".to_owned(),
                    _ => v.clone(),
                };
                (n.clone(), v)
            })
            .collect();
        let token_request = request.path.contains("/oauth/");
        let secret = |k: &str| {
            let k = k.to_ascii_lowercase();
            if token_request { !TOKEN_SAFE.contains(&k.as_str()) } else { SECRET.contains(&k.as_str()) }
        };
        self.entries.push_back(Entry {
            method: request.method.clone(),
            path: request.path.clone(),
            query: redact_pairs(&request.query, &secret),
            headers,
            body: redact_body(&String::from_utf8_lossy(&request.body), &secret),
            status,
        });
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> Vec<Entry> {
        self.entries.iter().cloned().collect()
    }

    /// Forgets every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Secret-named parameters of any request.
const SECRET: [&str; 7] =
    ["client_secret", "refresh_token", "access_token", "password", "token", "authtoken", "id_token"];
/// The only token-endpoint parameters whose values are kept.
const TOKEN_SAFE: [&str; 4] = ["grant_type", "client_id", "scope", "redirect_uri"];

/// `k=v&...` with the value of every key `secret` names replaced by `***` (keys compared percent-decoded).
fn redact_pairs(text: &str, secret: &impl Fn(&str) -> bool) -> String {
    if text.is_empty() {
        return String::new();
    }
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if secret(&decode(k)) => format!("{k}=***"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn decode(key: &str) -> String {
    percent_encoding::percent_decode_str(&key.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// A body with the values `secret` names replaced by `***`, whether it is JSON, multipart or a form.
fn redact_body(body: &str, secret: &impl Fn(&str) -> bool) -> String {
    if matches!(body.trim_start().as_bytes().first(), Some(b'{' | b'[')) {
        return match serde_json::from_str::<serde_json::Value>(body) {
            Ok(mut v) => {
                if redact_json(&mut v, secret) {
                    v.to_string()
                } else {
                    body.to_owned()
                }
            }
            // Broken JSON cannot be masked field by field: the whole body goes if it may hold a secret.
            // (On the token endpoint every unknown key is secret: `secret("_")` tells which rules apply.)
            Err(_) if secret("_") || SECRET.iter().any(|k| body.to_ascii_lowercase().contains(k)) => {
                "*** (unparsable JSON body withheld)".to_owned()
            }
            Err(_) => body.to_owned(),
        };
    }
    if body.contains("Content-Disposition") {
        return redact_multipart(body, secret);
    }
    if body.contains('=') { redact_pairs(body, secret) } else { body.to_owned() }
}

/// Replaces the values of secret keys at any depth; true if anything changed.
fn redact_json(value: &mut serde_json::Value, secret: &impl Fn(&str) -> bool) -> bool {
    match value {
        serde_json::Value::Object(map) => {
            let mut changed = false;
            for (k, v) in map.iter_mut() {
                if secret(k) && !v.is_object() && !v.is_array() && !v.is_null() {
                    *v = serde_json::Value::String("***".into());
                    changed = true;
                } else {
                    changed |= redact_json(v, secret);
                }
            }
            changed
        }
        serde_json::Value::Array(items) => items.iter_mut().fold(false, |c, v| redact_json(v, secret) | c),
        _ => false,
    }
}

/// multipart: a secret part's value (the lines after its blank line, up to the next boundary) becomes `***`.
fn redact_multipart(body: &str, secret: &impl Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(body.len());
    let (mut secret_part, mut in_value, mut written) = (false, false, false);
    for line in body.split_inclusive('\n') {
        if in_value {
            if line.starts_with("--") {
                in_value = false;
                out.push_str(line);
            } else if !written {
                out.push_str("***\r\n");
                written = true;
            }
        } else if secret_part && line.trim_end().is_empty() {
            (in_value, written, secret_part) = (true, false, false);
            out.push_str(line);
        } else {
            if line.to_ascii_lowercase().starts_with("content-disposition")
                && let Some(name) = line.split(';').find_map(|p| p.trim().strip_prefix("name="))
            {
                secret_part = secret(name.trim().trim_matches('"'));
            }
            if line.starts_with("--") {
                secret_part = false;
            }
            out.push_str(line);
        }
    }
    out
}

fn redact(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} ***"),
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_secret(k: &str) -> bool {
        !TOKEN_SAFE.contains(&k)
    }

    #[test]
    fn token_request_secrets_are_redacted() {
        let form = "grant_type=refresh_token&client_id=id&client_secret=s3cret&refresh_token=r3fresh&code=c0de";
        assert_eq!(
            redact_body(form, &token_secret),
            "grant_type=refresh_token&client_id=id&client_secret=***&refresh_token=***&code=***"
        );
        let mp = "--b\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\ns3cret\r\n--b\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\nid\r\n--b--\r\n";
        let r = redact_body(mp, &token_secret);
        assert!(!r.contains("s3cret") && r.contains("***") && r.contains("\r\nid\r\n"), "{r}");
        let json = r#"{"grant_type":"refresh_token","client_secret":"s3cret","nested":{"refresh_token":"r3fresh"}}"#;
        let r = redact_body(json, &token_secret);
        assert!(!r.contains("s3cret") && !r.contains("r3fresh") && r.contains("refresh_token\":\"***"), "{r}");
        assert!(!redact_body(r#"{"client_secret":"s3cret""#, &token_secret).contains("s3cret"));
        assert!(!redact_body(r#"{"grant_type":"x","other":"s3cret""#, &token_secret).contains("s3cret"));
        assert_eq!(
            redact_pairs("client_secret=s&client%5Fid=i&refresh%5Ftoken=r", &token_secret),
            "client_secret=***&client%5Fid=i&refresh%5Ftoken=***"
        );
    }

    #[test]
    fn other_requests_keep_all_but_secret_named_values() {
        let secret = |k: &str| SECRET.contains(&k.to_ascii_lowercase().as_str());
        assert_eq!(redact_pairs("page=2&access_token=t0k", &secret), "page=2&access_token=***");
        let body = r#"{"data":[{"External_Deal_ID":"d1","code":"c"}]}"#;
        assert_eq!(redact_body(body, &secret), body, "a record's fields are kept verbatim");
        let leaky = r#"{"data":[{"password":"pw"}]}"#;
        assert_eq!(redact_body(leaky, &secret), r#"{"data":[{"password":"***"}]}"#);
        assert!(!redact_body(r#"{"data":[{"password":"pw"}"#, &secret).contains("pw\""));
        assert_eq!(redact_body(r#"{"data":["#, &secret), r#"{"data":["#);
    }
}
