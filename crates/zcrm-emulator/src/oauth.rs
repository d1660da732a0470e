//! OAuth: the token endpoint (`POST {accounts}/oauth/v2/token`, refresh-token grant) and access-token checks.
//!
//! Choices where Zoho's docs are silent (spec §7, §10):
//! * Token-endpoint errors are answered with HTTP **200** and `{"error": "..."}` (a league/oauth2 log shows 200
//!   for `invalid_code`; Zoho's SDK detects failure only by the missing `access_token`).
//! * An unknown client id or a wrong secret is `invalid_client`; an unknown or revoked refresh token of a known
//!   client is `invalid_code`; another `grant_type` is `unsupported_grant_type`.
//! * Parameters are read from the query string (as the docs show), a form-urlencoded body (as the SDKs send)
//!   or a multipart/form-data body.
//! * Throttle: more than `token_throttle` tokens per refresh token within the throttle window (10 minutes by
//!   default, as Zoho's) -> `Access Denied`.
//! * At most 15 access tokens are active per refresh token; minting the 16th invalidates the oldest (v8 docs).
//! * Every refresh token counts its grants, throttle refusals and evictions ([`Tokens::grants`]), with the times
//!   of its grants, so a test can tell how many processes asked and when.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http::{Request, parse_form};
use crate::seed::Seed;

/// Most active access tokens per refresh token.
pub const MAX_ACTIVE_TOKENS: usize = 15;

#[derive(Debug, Clone)]
struct RefreshState {
    client_id: String,
    client_secret: String,
    scopes: Vec<String>,
    revoked: bool,
    issued: VecDeque<Instant>,
    active: VecDeque<String>,
    counts: GrantCounts,
}

/// What the token endpoint did for one refresh token (since start or the last reset).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GrantCounts {
    /// The refresh token's last 4 characters (never the whole secret).
    pub refresh_token_tail: String,
    /// Access tokens minted.
    pub grants: u64,
    /// Requests refused with the throttle (`Access Denied`).
    pub throttled: u64,
    /// Access tokens invalidated because a 16th was minted.
    pub evicted: u64,
    /// When each grant was made, in ms since the emulator's token state was created (the first 1,000).
    pub grant_ms: Vec<u64>,
}

/// Grant times kept per refresh token.
const GRANT_LOG: usize = 1000;

fn tail(token: &str) -> String {
    let n = token.chars().count();
    token.chars().skip(n.saturating_sub(4)).collect()
}

#[derive(Debug, Clone)]
struct AccessState {
    scopes: Vec<String>,
    expires_at: Option<Instant>,
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Unknown, revoked or invalidated.
    Unknown,
    /// Past its expiry.
    Expired,
}

/// Refresh tokens, access tokens and their limits.
#[derive(Debug, Clone)]
pub struct Tokens {
    refresh: HashMap<String, RefreshState>,
    known_clients: HashMap<String, String>,
    access: HashMap<String, AccessState>,
    counter: u64,
    /// Per-instance salt: two emulators never mint the same token.
    salt: u64,
    /// Tokens issued by the token endpoint since start.
    pub issued_total: u64,
    /// When this state was created (the origin of [`GrantCounts::grant_ms`]).
    started: Instant,
}

impl Tokens {
    /// The tokens of `seed`.
    pub fn from_seed(seed: &Seed) -> Tokens {
        let mut t = Tokens {
            refresh: HashMap::new(),
            known_clients: HashMap::new(),
            access: HashMap::new(),
            counter: 0,
            salt: zcrm_extid::retry::Jitter::new().next_unit().to_bits(),
            issued_total: 0,
            started: Instant::now(),
        };
        for c in &seed.oauth_clients {
            t.known_clients.insert(c.client_id.clone(), c.client_secret.clone());
            for r in &c.refresh_tokens {
                t.refresh.insert(
                    r.token.clone(),
                    RefreshState {
                        client_id: c.client_id.clone(),
                        client_secret: c.client_secret.clone(),
                        scopes: r.scopes.clone(),
                        revoked: false,
                        issued: VecDeque::new(),
                        active: VecDeque::new(),
                        counts: GrantCounts { refresh_token_tail: tail(&r.token), ..GrantCounts::default() },
                    },
                );
            }
        }
        let now = Instant::now();
        for a in &seed.access_tokens {
            t.access.insert(
                a.token.clone(),
                AccessState {
                    scopes: a.scopes.clone(),
                    expires_at: a.expires_in.map(|s| now + Duration::from_secs(s)),
                },
            );
        }
        t
    }

    /// The scopes of `token`, if it is valid now.
    pub fn check(&self, token: &str) -> Result<&[String], TokenProblem> {
        let a = self.access.get(token).ok_or(TokenProblem::Unknown)?;
        match a.expires_at {
            Some(e) if Instant::now() >= e => Err(TokenProblem::Expired),
            _ => Ok(&a.scopes),
        }
    }

    /// Expires every access token now (static ones included).
    pub fn expire_all(&mut self) {
        let now = Instant::now();
        for a in self.access.values_mut() {
            a.expires_at = Some(now);
        }
    }

    /// Revokes a refresh token and the access tokens it minted.
    pub fn revoke(&mut self, refresh_token: &str) -> bool {
        let Some(r) = self.refresh.get_mut(refresh_token) else { return false };
        r.revoked = true;
        for t in r.active.drain(..) {
            self.access.remove(&t);
        }
        true
    }

    /// Adds a refresh token for an existing or new client.
    pub fn add_refresh_token(&mut self, client_id: &str, client_secret: &str, token: &str, scopes: Vec<String>) {
        self.known_clients.insert(client_id.to_owned(), client_secret.to_owned());
        self.refresh.insert(
            token.to_owned(),
            RefreshState {
                client_id: client_id.to_owned(),
                client_secret: client_secret.to_owned(),
                scopes,
                revoked: false,
                issued: VecDeque::new(),
                active: VecDeque::new(),
                counts: GrantCounts { refresh_token_tail: tail(token), ..GrantCounts::default() },
            },
        );
    }

    /// The counts of `refresh_token`, if it is known.
    pub fn grants_of(&self, refresh_token: &str) -> Option<GrantCounts> {
        self.refresh.get(refresh_token).map(|r| r.counts.clone())
    }

    /// The counts of every refresh token that was asked for a token, in no particular order.
    pub fn grants(&self) -> Vec<GrantCounts> {
        self.refresh.values().filter(|r| r.counts.grants + r.counts.throttled > 0).map(|r| r.counts.clone()).collect()
    }

    /// Access tokens active (minted, not evicted or revoked) for `refresh_token`.
    pub fn active_of(&self, refresh_token: &str) -> usize {
        self.refresh.get(refresh_token).map_or(0, |r| r.active.len())
    }

    /// Adds a ready access token.
    pub fn add_access_token(&mut self, token: &str, scopes: Vec<String>, expires_in: Option<Duration>) {
        self.access
            .insert(token.to_owned(), AccessState { scopes, expires_at: expires_in.map(|d| Instant::now() + d) });
    }

    /// Answers the token endpoint: `Ok(reply)` with an access token, or `Err(error reply)`.
    pub fn grant(
        &mut self,
        request: &Request,
        expires_in: Duration,
        (throttle, window): (usize, Duration),
        api_domain: &str,
    ) -> Result<Value, Value> {
        let params = token_params(request);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or("");
        let error = |e: &str| json!({"error": e});
        if get("grant_type") != "refresh_token" {
            return Err(error(if get("grant_type").is_empty() { "invalid_request" } else { "unsupported_grant_type" }));
        }
        match self.known_clients.get(get("client_id")) {
            Some(secret) if secret == get("client_secret") => {}
            _ => return Err(error("invalid_client")),
        }
        let now = Instant::now();
        let r = match self.refresh.get_mut(get("refresh_token")) {
            Some(r) if !r.revoked && r.client_id == get("client_id") && r.client_secret == get("client_secret") => r,
            _ => return Err(error("invalid_code")),
        };
        while r.issued.front().is_some_and(|t| now.duration_since(*t) > window) {
            r.issued.pop_front();
        }
        if r.issued.len() >= throttle {
            r.counts.throttled += 1;
            return Err(json!({
                "error_description": "You have made too many requests continuously. Please try again after some time.",
                "error": "Access Denied",
                "status": "failure"
            }));
        }
        r.issued.push_back(now);
        r.counts.grants += 1;
        if r.counts.grant_ms.len() < GRANT_LOG {
            r.counts.grant_ms.push(now.duration_since(self.started).as_millis() as u64);
        }
        self.counter += 1;
        self.issued_total += 1;
        let c = self.counter ^ self.salt;
        let token = format!("1000.{:016x}{:016x}.{:016x}", mix(c), mix(c ^ 1), mix(c ^ 2));
        r.active.push_back(token.clone());
        let scopes = r.scopes.clone();
        let evicted = if r.active.len() > MAX_ACTIVE_TOKENS { r.active.pop_front() } else { None };
        r.counts.evicted += u64::from(evicted.is_some());
        if let Some(old) = evicted {
            self.access.remove(&old);
        }
        self.access.insert(token.clone(), AccessState { scopes: scopes.clone(), expires_at: Some(now + expires_in) });
        Ok(json!({
            "access_token": token,
            "scope": scopes.join(" "),
            "api_domain": api_domain,
            "token_type": "Bearer",
            "expires_in": expires_in.as_secs()
        }))
    }
}

fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Parameters from the query string, then a form or multipart body.
fn token_params(request: &Request) -> Vec<(String, String)> {
    let mut params = parse_form(request.query.as_bytes());
    let ct = request.header("content-type").unwrap_or("").to_ascii_lowercase();
    if ct.starts_with("multipart/form-data") {
        if let Some(boundary) = ct.split("boundary=").nth(1) {
            // The boundary's case matters: take it from the original header.
            let original = request.header("content-type").unwrap_or("");
            let start = original.to_ascii_lowercase().find("boundary=").map_or(0, |i| i + 9);
            let b = original[start..start + boundary.len()].trim_matches('"').to_owned();
            params.extend(parse_multipart(&request.body, &b));
        }
    } else {
        params.extend(parse_form(&request.body));
    }
    params
}

fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let delim = format!("--{boundary}");
    text.split(delim.as_str())
        .filter_map(|part| {
            let part = part.strip_prefix("\r\n").unwrap_or(part);
            let (head, value) = part.split_once("\r\n\r\n")?;
            let name = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))?
                .split(';')
                .find_map(|p| p.trim().strip_prefix("name="))?
                .trim_matches('"')
                .to_owned();
            Some((name, value.strip_suffix("\r\n").unwrap_or(value).to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str, ct: &str) -> Request {
        Request {
            method: "POST".into(),
            path: "/accounts/oauth/v2/token".into(),
            query: String::new(),
            headers: vec![("content-type".into(), ct.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    const FORM: &str = "grant_type=refresh_token&client_id=1000.EMULATORCLIENTID&client_secret=emulator-client-secret&refresh_token=1000.emulator.refresh.token";

    #[test]
    fn grant_and_check() {
        let mut t = Tokens::from_seed(&Seed::default_seed());
        let reply = t
            .grant(
                &req(FORM, "application/x-www-form-urlencoded"),
                Duration::from_secs(60),
                (10, Duration::from_secs(600)),
                "http://x",
            )
            .unwrap();
        let token = reply["access_token"].as_str().unwrap();
        assert_eq!(
            t.check(token).unwrap(),
            ["ZohoCRM.modules.all", "ZohoSearch.securesearch.READ"],
            "the default seed's scopes"
        );
        t.expire_all();
        assert_eq!(t.check(token), Err(TokenProblem::Expired));
        assert_eq!(t.check("nope"), Err(TokenProblem::Unknown));
    }

    #[test]
    fn multipart_and_errors() {
        let mut t = Tokens::from_seed(&Seed::default_seed());
        let mp = "--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nrefresh_token\r\n--XyZ\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n1000.EMULATORCLIENTID\r\n--XyZ\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\nemulator-client-secret\r\n--XyZ\r\nContent-Disposition: form-data; name=\"refresh_token\"\r\n\r\n1000.emulator.refresh.token\r\n--XyZ--\r\n";
        assert!(
            t.grant(
                &req(mp, "multipart/form-data; boundary=XyZ"),
                Duration::from_secs(60),
                (10, Duration::from_secs(600)),
                "h"
            )
            .is_ok()
        );
        let bad_secret = FORM.replace("emulator-client-secret", "x");
        assert_eq!(
            t.grant(&req(&bad_secret, ""), Duration::from_secs(1), (10, Duration::from_secs(600)), "h").unwrap_err()["error"],
            "invalid_client"
        );
        let bad_refresh = FORM.replace("1000.emulator.refresh.token", "x");
        assert_eq!(
            t.grant(&req(&bad_refresh, ""), Duration::from_secs(1), (10, Duration::from_secs(600)), "h").unwrap_err()["error"],
            "invalid_code"
        );
        for _ in 0..9 {
            t.grant(&req(FORM, ""), Duration::from_secs(1), (10, Duration::from_secs(600)), "h").unwrap();
        }
        assert_eq!(
            t.grant(&req(FORM, ""), Duration::from_secs(1), (10, Duration::from_secs(600)), "h").unwrap_err()["error"],
            "Access Denied"
        );
        let counts = t.grants_of("1000.emulator.refresh.token").unwrap();
        assert_eq!((counts.grants, counts.throttled), (10, 1));
        assert_eq!(t.grants().len(), 1, "only the refresh token that was asked");
    }

    #[test]
    fn sixteenth_token_invalidates_the_oldest() {
        let mut t = Tokens::from_seed(&Seed::default_seed());
        let first = t.grant(&req(FORM, ""), Duration::from_secs(60), (100, Duration::from_secs(600)), "h").unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        for _ in 0..MAX_ACTIVE_TOKENS {
            t.grant(&req(FORM, ""), Duration::from_secs(60), (100, Duration::from_secs(600)), "h").unwrap();
        }
        assert_eq!(t.check(&first), Err(TokenProblem::Unknown));
        let counts = t.grants_of("1000.emulator.refresh.token").unwrap();
        assert_eq!((counts.grants, counts.evicted, counts.grant_ms.len()), (16, 1, 16));
        assert_eq!(counts.refresh_token_tail, "oken");
        assert_eq!(t.active_of("1000.emulator.refresh.token"), MAX_ACTIVE_TOKENS);
    }
}
