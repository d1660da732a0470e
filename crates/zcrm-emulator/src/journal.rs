//! The request journal: what clients sent (Authorization redacted) and what they got.

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
                let v = if n == "authorization" { redact(v) } else { v.clone() };
                (n.clone(), v)
            })
            .collect();
        self.entries.push_back(Entry {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            headers,
            body: redact_form_secrets(&String::from_utf8_lossy(&request.body)),
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

/// Token-endpoint bodies carry `client_secret` and `refresh_token` (and grants carry `code`): their values are
/// replaced by `***`, whether the body is a form or multipart.
fn redact_form_secrets(body: &str) -> String {
    const SECRET: [&str; 4] = ["client_secret", "refresh_token", "code", "access_token"];
    let json = matches!(body.trim_start().as_bytes().first(), Some(b'{' | b'['));
    if json || !SECRET.iter().any(|k| body.contains(k)) {
        return body.to_owned();
    }
    if body.contains("Content-Disposition") {
        // multipart: a secret part's value (the lines after its blank line, up to the next boundary) becomes `***`.
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
                secret_part |= SECRET.iter().any(|k| line.contains(&format!("name=\"{k}\"")));
                if line.starts_with("--") {
                    secret_part = false;
                }
                out.push_str(line);
            }
        }
        return out;
    }
    body.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SECRET.contains(&k) => format!("{k}=***"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn redact(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} ***"),
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_form_secrets;

    #[test]
    fn token_request_secrets_are_redacted() {
        let form = "grant_type=refresh_token&client_id=id&client_secret=s3cret&refresh_token=r3fresh";
        assert_eq!(
            redact_form_secrets(form),
            "grant_type=refresh_token&client_id=id&client_secret=***&refresh_token=***"
        );
        let mp = "--b\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\ns3cret\r\n--b\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\nid\r\n--b--\r\n";
        let r = redact_form_secrets(mp);
        assert!(!r.contains("s3cret") && r.contains("***") && r.contains("\r\nid\r\n"), "{r}");
        assert_eq!(redact_form_secrets("{\"data\":[]}"), "{\"data\":[]}");
    }
}
