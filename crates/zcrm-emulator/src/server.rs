//! [`Emulator`]: the running server, its shared state, and the library API to inspect and steer it.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};
use zcrm_extid::retry::Jitter;

use crate::config::EmulatorConfig;
use crate::faults::{Fault, Faults, Phase, Target, reply_for};
use crate::http::{Handler, Limits, Reply, Request, Response, Server, zoho_error};
use crate::journal::{Entry, Journal};
use crate::oauth::Tokens;
use crate::seed::Seed;
use crate::state::Org;
use crate::{api, control};

/// Settings that can change while running.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Runtime {
    /// Added latency of CRM API calls, ms.
    pub latency_ms: u64,
    /// Upper bound of random latency, ms.
    pub latency_max_ms: Option<u64>,
    /// Concurrency limit.
    pub concurrency: usize,
    /// Sub-concurrency of calls with more than 10 records.
    pub sub_concurrency: usize,
    /// Credits per day; `None` = unlimited.
    pub credits: Option<u64>,
    /// Lifetime of new access tokens, seconds.
    pub token_lifetime_secs: u64,
    /// Tokens per refresh token per throttle window.
    pub token_throttle: usize,
    /// The throttle window, seconds (Zoho's is 10 minutes).
    #[serde(default = "default_throttle_window")]
    pub token_throttle_window_secs: u64,
    /// The `api_domain` of token replies; `None`: the emulator's own base URL. Set it to a Zoho-shaped domain
    /// (`https://www.zohoapis.eu`) to test a client's handling of it end to end: a client follows only
    /// `https://*.zohoapis.*` domains, and reaches the emulator under one only through a test-only route (the Rust
    /// client's `route_zoho_to_for_tests`).
    #[serde(default)]
    pub api_domain: Option<String>,
    /// Lifetime of the page tokens of related-record reads (v7, v8), seconds (default 24 hours).
    #[serde(default = "default_page_token_ttl")]
    pub page_token_ttl_secs: u64,
}

fn default_throttle_window() -> u64 {
    600
}

/// The default lifetime of page tokens: 24 hours.
pub const PAGE_TOKEN_TTL_SECS: u64 = 24 * 3600;

fn default_page_token_ttl() -> u64 {
    PAGE_TOKEN_TTL_SECS
}

/// Counters since start (or the last [`Emulator::reset`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// CRM API calls that passed authentication and the limits (each costs a credit).
    pub api_calls: u64,
    /// Calls answered 429 because the concurrency (or sub-concurrency) limit was exceeded.
    pub rejected_concurrency: u64,
    /// Calls answered 429 because the credits ran out.
    pub rejected_credits: u64,
    /// Access tokens minted by the token endpoint.
    pub tokens_issued: u64,
    /// Token-endpoint requests refused (any `error`).
    pub token_errors: u64,
    /// Faults that struck.
    pub faults_injected: u64,
    /// The most CRM API calls ever in flight at once.
    pub max_in_flight: u64,
    /// Credits used.
    pub credits_used: u64,
    /// Records received in the `data` of calls that passed the limits (a record sent twice counts twice).
    pub records_received: u64,
    /// Token requests refused with the throttle (`Access Denied`).
    pub tokens_throttled: u64,
    /// CRM API calls answered 401 because their access token was unknown, expired or invalidated.
    pub rejected_token: u64,
}

pub(crate) struct Shared {
    pub(crate) base_url: String,
    pub(crate) runtime: Mutex<Runtime>,
    pub(crate) seed: Mutex<Seed>,
    pub(crate) org: Mutex<Org>,
    pub(crate) tokens: Mutex<Tokens>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) journal: Mutex<Journal>,
    in_flight: AtomicUsize,
    heavy_in_flight: AtomicUsize,
    pub(crate) stats: Mutex<Stats>,
    jitter: Mutex<Jitter>,
    pub(crate) requests: AtomicU64,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn roll(&self) -> f64 {
        lock(&self.jitter).next_unit()
    }

    fn strike(&self, target: Target) -> crate::faults::Struck {
        let mut roll = || self.roll();
        let mut faults = lock(&self.faults);
        let before = faults.injected;
        let s = faults.strike(target, &mut roll);
        lock(&self.stats).faults_injected += faults.injected - before;
        s
    }

    /// Replaces the org and tokens with `seed`'s.
    pub(crate) fn load(&self, seed: Seed) -> Result<(), String> {
        let org = Org::from_seed(&seed)?;
        *lock(&self.org) = org;
        *lock(&self.tokens) = Tokens::from_seed(&seed);
        *lock(&self.seed) = seed;
        Ok(())
    }

    fn token_endpoint(&self, request: &Request) -> Reply {
        let struck = self.strike(Target::Token);
        if struck.latency_ms > 0 {
            std::thread::sleep(Duration::from_millis(struck.latency_ms));
        }
        if let Some((action, Phase::Before)) = &struck.answer {
            return reply_for(action);
        }
        if request.method != "POST" {
            return Reply::Respond(Response::json(
                405,
                &json!({"error": "invalid_request", "error_description": "use POST"}),
            ));
        }
        let (lifetime, throttle, api_domain) = {
            let rt = lock(&self.runtime);
            (
                Duration::from_secs(rt.token_lifetime_secs),
                (rt.token_throttle, Duration::from_secs(rt.token_throttle_window_secs)),
                rt.api_domain.clone(),
            )
        };
        let api_domain = api_domain.as_deref().unwrap_or(&self.base_url);
        let result = lock(&self.tokens).grant(request, lifetime, throttle, api_domain);
        {
            let mut st = lock(&self.stats);
            match &result {
                Ok(_) => st.tokens_issued += 1,
                Err(e) => {
                    st.token_errors += 1;
                    st.tokens_throttled += u64::from(e["error"] == "Access Denied");
                }
            }
        }
        if let Some((action, Phase::After)) = &struck.answer {
            return reply_for(action);
        }
        let body = result.unwrap_or_else(|e| e);
        Reply::Respond(Response::json(200, &body))
    }

    /// The limits, faults and latency around one CRM API call.
    fn api_call(&self, request: &Request) -> Reply {
        let started = std::time::Instant::now();
        let prepared = match api::authenticate(self, request) {
            Ok(p) => p,
            Err(response) => {
                if response.status == 401 {
                    lock(&self.stats).rejected_token += 1;
                }
                return Reply::Respond(response);
            }
        };
        let rt = lock(&self.runtime).clone();
        // Concurrency: take a slot only if one is free, so refused calls never occupy one.
        let heavy = prepared.records > 10;
        let take = |counter: &AtomicUsize, limit: usize| {
            counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < limit).then_some(n + 1)).map(|n| n + 1)
        };
        let refuse = |message: String| {
            lock(&self.stats).rejected_concurrency += 1;
            Reply::Respond(Response::json(429, &zoho_error("TOO_MANY_REQUESTS", &message, json!({}))))
        };
        let Ok(now) = take(&self.in_flight, rt.concurrency) else {
            return refuse(format!("concurrency limit of {} exceeded", rt.concurrency));
        };
        let _slot = Slot(&self.in_flight);
        let _heavy_slot = if heavy {
            if take(&self.heavy_in_flight, rt.sub_concurrency).is_err() {
                return refuse(format!(
                    "sub-concurrency limit of {} for calls with more than 10 records exceeded",
                    rt.sub_concurrency
                ));
            }
            Some(Slot(&self.heavy_in_flight))
        } else {
            None
        };
        // Inserts, updates and upserts of records cost 1 credit per 10 records; every other call 1 (spec §5.2).
        let cost = crate::records::credit_cost(&request.method, &prepared.segments, prepared.records);
        let credits_used = {
            let mut st = lock(&self.stats);
            st.max_in_flight = st.max_in_flight.max(now as u64);
            if rt.credits.is_some_and(|c| st.credits_used + cost > c) {
                st.rejected_credits += 1;
                drop(st);
                return Reply::Respond(
                    Response::json(
                        429,
                        &zoho_error(
                            "TOO_MANY_REQUESTS",
                            "the API credits for the 24 hour period are exhausted",
                            json!({}),
                        ),
                    )
                    .with_header("X-API-CREDITS-REMAINING", "0"),
                );
            }
            st.api_calls += 1;
            st.records_received += prepared.records as u64;
            st.credits_used += cost;
            st.credits_used
        };
        let struck = self.strike(Target::Api);
        let mut latency = rt.latency_ms;
        if let Some(max) = rt.latency_max_ms.filter(|m| *m > rt.latency_ms) {
            latency += ((max - rt.latency_ms) as f64 * self.roll()) as u64;
        }
        latency += struck.latency_ms;
        // The latency is the call's whole time in the server: processing counts toward it, and the rest is
        // waited out before the answer (so `--latency-ms 50` answers in 50 ms, however long the work took).
        let answer_at = started + Duration::from_millis(latency);
        let wait = || {
            let now = std::time::Instant::now();
            if answer_at > now {
                std::thread::sleep(answer_at - now);
            }
        };
        if let Some((action, Phase::Before)) = &struck.answer {
            wait();
            return reply_for(action);
        }
        let mut response = api::route(self, request, prepared);
        wait();
        if let Some((action, Phase::After)) = &struck.answer {
            return reply_for(action);
        }
        if let Some(total) = rt.credits
            && credits_used * 2 >= total
        {
            response = response.with_header("X-API-CREDITS-REMAINING", total.saturating_sub(credits_used).to_string());
        }
        Reply::Respond(response)
    }
}

/// Decrements an in-flight counter when the handler is done (before the response is written, so a client that
/// sends its next call right after reading a response is never counted twice).
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Handler for Shared {
    fn handle(&self, request: Request) -> Reply {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if request.path.starts_with("/__emulator/") || request.path == "/__emulator" {
            return Reply::Respond(control::handle(self, &request));
        }
        let reply = if request.path == "/accounts/oauth/v2/token" || request.path == "/oauth/v2/token" {
            self.token_endpoint(&request)
        } else if request.path.starts_with("/crm/") {
            self.api_call(&request)
        } else {
            Reply::Respond(Response::json(
                404,
                &zoho_error(
                    "INVALID_URL_PATTERN",
                    "Please check if the URL trying to access is a correct one",
                    json!({}),
                ),
            ))
        };
        let status = match &reply {
            Reply::Respond(r) => r.status,
            Reply::Drop => 0,
        };
        lock(&self.journal).record(&request, status);
        reply
    }
}

/// A running emulator on `127.0.0.1`. Stops when dropped.
///
/// ```
/// use zcrm_emulator::{Emulator, EmulatorConfig};
/// let emu = Emulator::start(EmulatorConfig::default())?;
/// assert!(emu.base_url().starts_with("http://127.0.0.1:"));
/// assert_eq!(emu.accounts_url(), format!("{}/accounts", emu.base_url()));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Emulator {
    shared: Arc<Shared>,
    server: Server,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("base_url", &self.shared.base_url).finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts an emulator with `config` on `127.0.0.1:{config.port}` (only loopback is ever bound).
    pub fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
        let org = Org::from_seed(&config.seed).map_err(invalid)?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
        // Bind first to learn the port (the base URL goes into token replies); the same listener then serves, so
        // another process cannot take the port in between.
        let listener = std::net::TcpListener::bind(addr)?;
        let bound = listener.local_addr()?;
        let shared = Arc::new(Shared {
            base_url: format!("http://{bound}"),
            runtime: Mutex::new(Runtime {
                latency_ms: config.latency.as_millis() as u64,
                latency_max_ms: config.latency_max.map(|d| d.as_millis() as u64),
                concurrency: config.concurrency,
                sub_concurrency: config.sub_concurrency,
                credits: config.credits,
                token_lifetime_secs: config.token_lifetime.as_secs(),
                token_throttle: config.token_throttle,
                token_throttle_window_secs: config.token_throttle_window.as_secs(),
                api_domain: None,
                page_token_ttl_secs: PAGE_TOKEN_TTL_SECS,
            }),
            tokens: Mutex::new(Tokens::from_seed(&config.seed)),
            org: Mutex::new(org),
            seed: Mutex::new(config.seed),
            faults: Mutex::default(),
            journal: Mutex::new(Journal::new(config.journal_capacity)),
            in_flight: AtomicUsize::new(0),
            heavy_in_flight: AtomicUsize::new(0),
            stats: Mutex::default(),
            jitter: Mutex::new(Jitter::new()),
            requests: AtomicU64::new(0),
        });
        let limits = Limits {
            max_body: config.max_body,
            max_connections: config.max_connections,
            request_timeout: config.request_timeout,
            idle_timeout: config.idle_timeout,
        };
        let server = Server::from_listener(listener, shared.clone(), limits)?;
        Ok(Emulator { shared, server })
    }

    /// `http://127.0.0.1:{port}`: the client's base URL.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// `{base_url}/accounts`: the client's accounts URL (token endpoint `{accounts}/oauth/v2/token`).
    pub fn accounts_url(&self) -> String {
        format!("{}/accounts", self.shared.base_url)
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.server.open_connections()
    }

    /// The connection cap in force (the configured one, or half the process's fd limit if that is smaller).
    pub fn max_connections(&self) -> usize {
        self.server.max_connections()
    }

    /// Connections closed to make room for new ones, and connections refused with a 503, since start.
    pub fn connection_evictions(&self) -> (u64, u64) {
        self.server.evictions()
    }

    /// The default seed's OAuth client: `(client_id, client_secret, refresh_token)`.
    pub fn default_credentials() -> (&'static str, &'static str, &'static str) {
        ("1000.EMULATORCLIENTID", "emulator-client-secret", "1000.emulator.refresh.token")
    }

    /// The whole state as JSON (modules, records, related lists, relations), plus `stats` and `token_grants`:
    /// what `GET /__emulator/state` answers.
    pub fn state(&self) -> Value {
        let mut dump = lock(&self.shared.org).dump();
        dump["stats"] = serde_json::to_value(self.stats()).expect("json");
        dump["token_grants"] = serde_json::to_value(lock(&self.shared.tokens).grants()).expect("json");
        dump
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// What the token endpoint did for `refresh_token` (grants, throttle refusals, evictions, grant times).
    pub fn token_grants(&self, refresh_token: &str) -> Option<crate::oauth::GrantCounts> {
        lock(&self.shared.tokens).grants_of(refresh_token)
    }

    /// Access tokens active for `refresh_token` (at most 15: the 16th minted invalidates the oldest).
    pub fn active_tokens(&self, refresh_token: &str) -> usize {
        lock(&self.shared.tokens).active_of(refresh_token)
    }

    /// Back to the seed the emulator started with (or last loaded); faults, journal and counters are cleared.
    pub fn reset(&self) {
        let seed = lock(&self.shared.seed).clone();
        self.shared.load(seed).expect("a seed that loaded once loads again");
        lock(&self.shared.faults).clear();
        lock(&self.shared.journal).clear();
        *lock(&self.shared.stats) = Stats::default();
    }

    /// Replaces the state with `seed`.
    pub fn load_seed(&self, seed: Seed) -> Result<(), String> {
        self.shared.load(seed)
    }

    /// Adds records to `module`; returns their ids. All or nothing: on an error no record is added.
    pub fn insert_records(&self, module: &str, records: Vec<Map<String, Value>>) -> Result<Vec<String>, String> {
        let mut org = lock(&self.shared.org);
        let mut staged = org.clone();
        let ids = records.into_iter().map(|r| staged.insert_record(module, r)).collect::<Result<Vec<_>, _>>()?;
        *org = staged;
        Ok(ids)
    }

    /// The id of `module`'s record whose external field `field` is `value`.
    pub fn find_external(&self, module: &str, field: &str, value: &str) -> Option<String> {
        lock(&self.shared.org).find_external(module, field, value).map(str::to_owned)
    }

    /// The records of `related_module` linked to `module`'s record `id`, with the relation fields.
    pub fn related(&self, module: &str, id: &str, related_module: &str) -> Vec<(String, Map<String, Value>)> {
        lock(&self.shared.org).related_of(module, id, related_module)
    }

    /// How many relations exist.
    pub fn relation_count(&self) -> usize {
        lock(&self.shared.org).relation_count()
    }

    /// `module`'s records (id and fields, audit fields included), in id order; empty for an unknown module.
    pub fn records(&self, module: &str) -> Vec<(String, Map<String, Value>)> {
        let org = lock(&self.shared.org);
        org.module(module).map(|m| m.records().map(|(id, r)| (id.clone(), r.clone())).collect()).unwrap_or_default()
    }

    /// `module`'s record `id`, with its fields.
    pub fn record(&self, module: &str, id: &str) -> Option<Map<String, Value>> {
        lock(&self.shared.org).record(module, id).cloned()
    }

    /// The journal, oldest first (Authorization values redacted).
    pub fn journal(&self) -> Vec<Entry> {
        lock(&self.shared.journal).entries()
    }

    /// Empties the journal.
    pub fn clear_journal(&self) {
        lock(&self.shared.journal).clear();
    }

    /// Queues a fault.
    pub fn push_fault(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Removes every queued fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Expires every access token now.
    pub fn expire_tokens(&self) {
        lock(&self.shared.tokens).expire_all();
    }

    /// Revokes a refresh token (its access tokens stop working; refreshing answers `invalid_code`).
    pub fn revoke_refresh_token(&self, token: &str) -> bool {
        lock(&self.shared.tokens).revoke(token)
    }

    /// Adds a refresh token with `scopes` for a (new or existing) OAuth client.
    pub fn add_refresh_token(&self, client_id: &str, client_secret: &str, token: &str, scopes: &[&str]) {
        lock(&self.shared.tokens).add_refresh_token(
            client_id,
            client_secret,
            token,
            scopes.iter().map(|s| s.to_string()).collect(),
        );
    }

    /// Adds a ready access token with `scopes`, expiring after `expires_in` (never if `None`).
    pub fn add_access_token(&self, token: &str, scopes: &[&str], expires_in: Option<Duration>) {
        lock(&self.shared.tokens).add_access_token(token, scopes.iter().map(|s| s.to_string()).collect(), expires_in);
    }

    /// The current runtime settings.
    pub fn runtime(&self) -> Runtime {
        lock(&self.shared.runtime).clone()
    }

    /// Changes runtime settings (latency, limits, credits, token lifetime).
    pub fn update_runtime(&self, f: impl FnOnce(&mut Runtime)) {
        f(&mut lock(&self.shared.runtime));
    }

    /// Sets the latency of CRM API calls (uniform in `min..=max` if `max` is given).
    pub fn set_latency(&self, min: Duration, max: Option<Duration>) {
        self.update_runtime(|r| {
            r.latency_ms = min.as_millis() as u64;
            r.latency_max_ms = max.map(|d| d.as_millis() as u64);
        });
    }
}
