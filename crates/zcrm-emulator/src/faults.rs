//! Scripted faults: the next N requests (or a random share of them) answered with a given status and body,
//! a dropped connection, or added latency.
//!
//! A fault is JSON (the same from the library and from `POST /__emulator/faults`):
//!
//! ```json
//! {"kind": "status", "status": 500, "count": 3}
//! {"kind": "status", "status": 502, "body": "<html>Bad Gateway</html>", "content_type": "text/html"}
//! {"kind": "status", "status": 200, "body": "{\"data\": [", "content_type": "application/json"}
//! {"kind": "status", "status": 429, "probability": 0.02, "forever": true}
//! {"kind": "drop", "phase": "after"}
//! {"kind": "latency", "ms": 100, "max_ms": 300, "forever": true}
//! ```
//!
//! * `target`: `api` (default: CRM API calls), `token` (the token endpoint) or `all`.
//! * `count` (default 1) requests are affected, or every matching request while `forever` is true.
//! * `probability` (default 1): each matching request is affected with this probability (a miss does not use up
//!   the count).
//! * `phase`: `before` (default: the request is not processed) or `after` (the request changes the state, then
//!   its response is replaced or dropped: the "lost response" case that makes retries need idempotency).
//! * Without a `body`, a status fault answers a Zoho-shaped error: 429 `TOO_MANY_REQUESTS`, 5xx `INTERNAL_ERROR`,
//!   except 502/503/504, which get an HTML page as a proxy would send.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::http::{Reply, Response, zoho_error};

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// CRM API calls under `/crm/`.
    #[default]
    Api,
    /// The token endpoint.
    Token,
    /// Both.
    All,
}

/// Whether the request is processed before the fault strikes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The fault replaces processing.
    #[default]
    Before,
    /// The request is processed, then its response is replaced or dropped.
    After,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Action {
    /// Answer with this status (and body).
    Status {
        /// HTTP status.
        status: u16,
        /// Body text; a default Zoho-shaped (or HTML) body if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        /// Content type of `body` (default `application/json;charset=UTF-8`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
        /// Extra headers, e.g. `[["Retry-After", "1"]]`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<(String, String)>,
    },
    /// Close the connection without answering.
    Drop,
    /// Wait `ms` (or a uniform random time in `ms..=max_ms`) before processing.
    Latency {
        /// Milliseconds.
        ms: u64,
        /// Upper bound of a random latency.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_ms: Option<u64>,
    },
}

/// A scripted fault (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// What it does.
    #[serde(flatten)]
    pub action: Action,
    /// Which requests it applies to.
    #[serde(default)]
    pub target: Target,
    /// How many requests it affects.
    #[serde(default = "one")]
    pub count: u32,
    /// Affect every matching request until cleared.
    #[serde(default)]
    pub forever: bool,
    /// Chance that a matching request is affected.
    #[serde(default = "certain")]
    pub probability: f64,
    /// Before or after processing.
    #[serde(default)]
    pub phase: Phase,
}

fn one() -> u32 {
    1
}

fn certain() -> f64 {
    1.0
}

impl Fault {
    /// A fault answering the next request with `status` and the default body.
    pub fn status(status: u16) -> Fault {
        Fault::new(Action::Status { status, body: None, content_type: None, headers: Vec::new() })
    }

    /// A fault dropping the next connection without an answer.
    pub fn drop_connection() -> Fault {
        Fault::new(Action::Drop)
    }

    /// A fault adding `ms` of latency to the next request.
    pub fn latency(ms: u64) -> Fault {
        Fault::new(Action::Latency { ms, max_ms: None })
    }

    /// A fault with defaults (next API request, once, before processing).
    pub fn new(action: Action) -> Fault {
        Fault { action, target: Target::Api, count: 1, forever: false, probability: 1.0, phase: Phase::Before }
    }

    /// Affect `n` requests.
    pub fn times(mut self, n: u32) -> Fault {
        self.count = n;
        self
    }

    /// Affect every matching request until cleared.
    pub fn forever(mut self) -> Fault {
        self.forever = true;
        self
    }

    /// Affect each matching request with probability `p`.
    pub fn with_probability(mut self, p: f64) -> Fault {
        self.probability = p;
        self
    }

    /// Strike after the request was processed.
    pub fn after(mut self) -> Fault {
        self.phase = Phase::After;
        self
    }

    /// Apply to `target` requests.
    pub fn on(mut self, target: Target) -> Fault {
        self.target = target;
        self
    }

    fn matches(&self, target: Target) -> bool {
        self.target == Target::All || self.target == target
    }

    fn is_latency(&self) -> bool {
        matches!(self.action, Action::Latency { .. })
    }
}

/// The faults that strike one request.
#[derive(Debug, Default)]
pub struct Struck {
    /// Extra latency in ms.
    pub latency_ms: u64,
    /// A replacement answer, and when it strikes.
    pub answer: Option<(Action, Phase)>,
}

/// The queue of faults.
#[derive(Debug, Default)]
pub struct Faults {
    queue: Vec<Fault>,
    /// How many times a fault struck.
    pub injected: u64,
}

impl Faults {
    /// Adds a fault at the end of the queue.
    pub fn push(&mut self, fault: Fault) {
        self.queue.push(fault);
    }

    /// Removes every fault.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// The faults waiting.
    pub fn pending(&self) -> &[Fault] {
        &self.queue
    }

    /// Picks the faults for a request to `target`: the first matching latency fault and the first matching
    /// status/drop fault; `roll` gives uniform numbers in `[0, 1)`.
    pub fn strike(&mut self, target: Target, roll: &mut dyn FnMut() -> f64) -> Struck {
        let mut struck = Struck::default();
        let mut i = 0;
        while i < self.queue.len() {
            let f = &self.queue[i];
            let wanted = if f.is_latency() { struck.latency_ms == 0 } else { struck.answer.is_none() };
            if !wanted || !f.matches(target) || (f.probability < 1.0 && roll() >= f.probability) {
                i += 1;
                continue;
            }
            match &f.action {
                Action::Latency { ms, max_ms } => {
                    let hi = max_ms.unwrap_or(*ms).max(*ms);
                    struck.latency_ms = ms + ((hi - ms) as f64 * roll()) as u64;
                }
                other => struck.answer = Some((other.clone(), f.phase)),
            }
            self.injected += 1;
            let f = &mut self.queue[i];
            if !f.forever {
                f.count = f.count.saturating_sub(1);
                if f.count == 0 {
                    self.queue.remove(i);
                    continue;
                }
            }
            i += 1;
        }
        struck
    }
}

/// The reply a status or drop fault gives.
pub fn reply_for(action: &Action) -> Reply {
    match action {
        Action::Drop => Reply::Drop,
        Action::Latency { .. } => unreachable!("latency is not an answer"),
        Action::Status { status, body, content_type, headers } => {
            let (body, ct) = match body {
                Some(b) => (b.clone().into_bytes(), content_type.clone().unwrap_or_else(|| "application/json;charset=UTF-8".into())),
                None if matches!(status, 502..=504) => (
                    format!("<html><head><title>{status}</title></head><body><h1>{status} Bad Gateway</h1><p>zcrm-emulator fault</p></body></html>").into_bytes(),
                    "text/html".into(),
                ),
                None => {
                    let (code, message) = match status {
                        429 => ("TOO_MANY_REQUESTS", "too many requests (emulator fault)"),
                        s if *s >= 500 => ("INTERNAL_ERROR", "Internal server error occurred. (emulator fault)"),
                        _ => ("INVALID_DATA", "emulator fault"),
                    };
                    (serde_json::to_vec(&zoho_error(code, message, json!({}))).expect("json"), "application/json;charset=UTF-8".into())
                }
            };
            let mut r = Response { status: *status, headers: vec![("Content-Type".into(), ct)], body };
            r.headers.extend(headers.iter().cloned());
            Reply::Respond(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_targets() {
        let mut f = Faults::default();
        f.push(Fault::status(500).times(2));
        f.push(Fault::drop_connection().on(Target::Token));
        let mut r = || 0.5;
        assert!(f.strike(Target::Token, &mut r).answer.is_some_and(|(a, _)| a == Action::Drop));
        assert!(f.strike(Target::Api, &mut r).answer.is_some());
        assert!(f.strike(Target::Api, &mut r).answer.is_some());
        assert!(f.strike(Target::Api, &mut r).answer.is_none());
        assert_eq!(f.injected, 3);
    }

    #[test]
    fn probability_and_latency_parse_from_json() {
        let fault: Fault =
            serde_json::from_str(r#"{"kind":"status","status":429,"probability":0.25,"forever":true}"#).unwrap();
        let mut f = Faults::default();
        f.push(fault);
        f.push(serde_json::from_str(r#"{"kind":"latency","ms":10,"max_ms":20,"forever":true}"#).unwrap());
        let (mut hits, mut n) = (0, 0.0f64);
        for _ in 0..1000 {
            n = (n + 0.618_033_988_7) % 1.0;
            let mut roll = || n;
            let s = f.strike(Target::Api, &mut roll);
            assert!((10..=20).contains(&s.latency_ms));
            hits += usize::from(s.answer.is_some());
        }
        assert!((200..300).contains(&hits), "{hits}");
    }
}
