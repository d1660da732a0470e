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
            body: String::from_utf8_lossy(&request.body).into_owned(),
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

fn redact(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} ***"),
        None => "***".to_owned(),
    }
}
