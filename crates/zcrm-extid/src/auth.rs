//! Access tokens: a static token, or the refresh-token grant with an in-memory cache, refresh ahead of expiry,
//! single-flight across threads, and invalidation after a 401.
//!
//! * **Cache and refresh ahead.** A token is reused until `min(5 min, lifetime / 10)` before it expires; then one
//!   caller refreshes it while the others keep using the still-valid token.
//! * **Single flight.** When no usable token exists, exactly one thread calls the token endpoint; the others
//!   wait for its result (token *or* error), so N threads cause one refresh, and one failure is reported to all
//!   N instead of N failed refreshes (which would also hit Zoho's token throttle, spec §5.4).
//! * **Invalidate.** After a 401 `INVALID_TOKEN` the client calls [`TokenSource::invalidate`] with the token it
//!   used; only if that token is still the cached one is it dropped, so many threads hitting the same 401 cause
//!   one refresh.
//! * **Token replies.** `expires_in` is seconds; a legacy reply with `expires_in_sec` has `expires_in` in
//!   milliseconds, so `expires_in_sec` wins (spec §7). A lifetime above [`MAX_LIFETIME`] is taken as that
//!   maximum (Zoho's tokens live an hour; a larger number is a proxy's or a bug's). Errors
//!   (`{"error":"invalid_code"}`, with any status) become [`Error::Auth`] with a hint.
//! * **Any lifetime.** A token is refreshed `min(5 min, lifetime / 5)` before it expires and not handed out in
//!   its last `min(5 s, lifetime / 10)`, so even a token of a few seconds serves many calls (one refresh per
//!   lifetime, not one per call).
//! * **Refusals are remembered.** Zoho allows about 10 tokens per refresh token in 10 minutes and answers more
//!   with `Access Denied` (spec §5.4, §7); hammering it locks the user out. After a throttle answer no token
//!   request is made for [`TokenPolicy::throttle_wait`] (doubling while it lasts, up to
//!   [`TokenPolicy::throttle_wait_max`]); callers get the throttle error at once, with the time left
//!   ([`TokenSource::throttled_for`]), unless the current token is still good. A refusal that cannot pass by
//!   waiting (`invalid_client`, `invalid_code`, ...) is answered from memory for [`TokenPolicy::refusal_memory`]
//!   instead of asking again for every call. And the client itself never makes more than
//!   [`TokenPolicy::max_requests`] token requests per [`TokenPolicy::request_window`] (10 per 10 minutes, as
//!   Zoho allows): a caller beyond that waits as for a throttle, so a process cannot lock its user out.
//! * **Shared with other processes.** With a [`TokenShare`] ([`crate::budget`]), a new token is first looked for
//!   where the other processes using the same refresh token put theirs, and at most one of them asks the token
//!   endpoint; the request budget above is then the share's, counted across all of them.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::budget::{SharedToken, TokenShare};
use crate::code::ErrorCode;
use crate::config::BaseUrl;
use crate::error::{Error, Result};
use crate::events::{self, Events};
use crate::redact::{QUOTE_LEN, TOKEN_SECRET_KEYS, is_visible_ascii, redact_secrets, redact_values, truncate_chars};
use crate::request::Method;
use crate::response::body_prefix;
use crate::secret::Secret;
use crate::transport::{HttpRequest, Transport};

/// How the client authenticates.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A ready access token; it cannot be refreshed, so a 401 is final.
    AccessToken(Secret),
    /// The refresh-token grant of a self client or server app.
    RefreshToken {
        /// The client id (not secret, but not printed in errors either).
        client_id: String,
        /// The client secret.
        client_secret: Secret,
        /// The long-lived refresh token.
        refresh_token: Secret,
    },
}

impl Credentials {
    /// A static access token.
    pub fn access_token(token: impl Into<String>) -> Credentials {
        Credentials::AccessToken(Secret::new(token))
    }

    /// The refresh-token grant.
    pub fn refresh_token(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        refresh_token: impl Into<String>,
    ) -> Credentials {
        Credentials::RefreshToken {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
            refresh_token: Secret::new(refresh_token),
        }
    }

    /// Checks that each value is visible ASCII (`!` to `~`: no space, control character, Unicode line separator
    /// or other non-ASCII character), so it can travel in a header or form and never forge a line when echoed;
    /// errors name the field, never the value.
    pub(crate) fn validate(&self) -> Result<()> {
        let check = |setting: &str, v: &str| {
            if is_visible_ascii(v) {
                Ok(())
            } else {
                Err(Error::config(
                    setting,
                    "must be non-empty visible ASCII: no spaces, control characters, line separators or non-ASCII characters",
                ))
            }
        };
        match self {
            Credentials::AccessToken(t) => check("access_token", t.expose()),
            Credentials::RefreshToken { client_id, client_secret, refresh_token } => {
                check("client_id", client_id)?;
                check("client_secret", client_secret.expose())?;
                check("refresh_token", refresh_token.expose())
            }
        }
    }

    /// The secret values (for masking their echoes).
    fn secret_values(&self) -> Vec<&str> {
        match self {
            Credentials::AccessToken(t) => vec![t.expose()],
            Credentials::RefreshToken { client_secret, refresh_token, .. } => {
                vec![client_secret.expose(), refresh_token.expose()]
            }
        }
    }
}

/// A token to send, and the API domain its grant reported (if it is a Zoho API domain).
#[derive(Debug, Clone)]
pub struct Token {
    /// The access token.
    pub secret: Secret,
    /// `api_domain` from the token reply, kept only if it is a `https://*.zohoapis.*` host.
    pub api_domain: Option<BaseUrl>,
}

#[derive(Debug, Clone)]
struct Cached {
    token: Token,
    expires_at: Instant,
    refresh_at: Instant,
    /// Not handed out after `expires_at - safety`: a request needs time to arrive.
    safety: Duration,
    /// Minted to replace a token the API refused.
    replacement: bool,
    /// The whole lifetime it was minted with.
    lifetime: Duration,
}

impl Cached {
    /// A token with `remaining` time left of `lifetime`: refreshed `min(5 min, lifetime / 5)` before its end, not
    /// handed out in its last `min(5 s, lifetime / 10)`.
    fn new(token: Token, now: Instant, remaining: Duration, lifetime: Duration) -> Cached {
        let margin = (lifetime / 5).min(Duration::from_secs(300));
        let safety = (lifetime / 10).min(Duration::from_secs(5));
        let expires_at = now + remaining;
        Cached {
            token,
            expires_at,
            refresh_at: expires_at.checked_sub(margin).unwrap_or(now),
            safety,
            replacement: false,
            lifetime,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    current: Option<Cached>,
    refreshing: bool,
    generation: u64,
    last_error: Option<(u64, Error)>,
    /// After a failed refresh-ahead, do not try again before this instant while the old token still works.
    quiet_until: Option<Instant>,
    /// A refusal answered from memory until the instant: the throttle (passes by waiting), or one that does not.
    refused: Option<(Instant, Error)>,
    /// The current throttle wait (doubles while the endpoint keeps throttling).
    throttle_wait: Option<Duration>,
    /// The next token replaces one the API refused.
    replacing: bool,
    /// The token the API refused last (a share must not hand it out again).
    rejected: Option<Secret>,
    /// When recent token requests were made (within [`TokenPolicy::request_window`]).
    requests: std::collections::VecDeque<Instant>,
}

/// The longest token lifetime believed (24 h); Zoho's access tokens live 1 h.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// How patiently the client treats the token endpoint's refusals (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    /// No token request for this long after an `Access Denied` throttle answer. Default 60 s.
    pub throttle_wait: Duration,
    /// The wait doubles while the endpoint keeps throttling, up to this. Default 10 min (Zoho's window).
    pub throttle_wait_max: Duration,
    /// A refusal that waiting cannot fix (`invalid_client`, `invalid_code`) is repeated from memory this long.
    /// Default 30 s.
    pub refusal_memory: Duration,
    /// At most this many token requests per [`TokenPolicy::request_window`] (default 10, Zoho's limit per
    /// refresh token); more wait, as if throttled.
    pub max_requests: usize,
    /// The window of [`TokenPolicy::max_requests`] (default 10 minutes).
    pub request_window: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        TokenPolicy {
            throttle_wait: Duration::from_secs(60),
            throttle_wait_max: Duration::from_secs(600),
            refusal_memory: Duration::from_secs(30),
            max_requests: 10,
            request_window: Duration::from_secs(600),
        }
    }
}

/// Hands out access tokens (see the module docs).
#[derive(Debug)]
pub struct TokenSource {
    credentials: Credentials,
    token_url: String,
    policy: TokenPolicy,
    state: Mutex<State>,
    wake: Condvar,
    share: Option<Arc<dyn TokenShare>>,
    events: Events,
}

impl TokenSource {
    /// A source for `credentials`, refreshing at `{accounts}/oauth/v2/token`.
    pub fn new(credentials: Credentials, accounts: &BaseUrl) -> TokenSource {
        Self::with_policy(credentials, accounts, TokenPolicy::default())
    }

    /// [`TokenSource::new`] with a [`TokenPolicy`].
    pub fn with_policy(credentials: Credentials, accounts: &BaseUrl, policy: TokenPolicy) -> TokenSource {
        TokenSource {
            credentials,
            token_url: format!("{}/oauth/v2/token", accounts.as_str()),
            policy,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            share: None,
            events: Events::default(),
        }
    }

    /// The same source, getting new tokens through `share` (tokens shared with other processes).
    pub fn with_share(mut self, share: Option<Arc<dyn TokenShare>>) -> TokenSource {
        self.share = share;
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    /// Emits `token.refreshed` / `token.refresh_failed` to `events` (never any token text).
    pub(crate) fn with_events(mut self, events: Events) -> TokenSource {
        self.events = events;
        self
    }

    /// While the token endpoint's throttle is being waited out: how long until the next token request.
    pub fn throttled_for(&self) -> Option<Duration> {
        let st = self.lock();
        match &st.refused {
            Some((until, e)) if e.code() == ErrorCode::OauthThrottled => {
                Some(until.saturating_duration_since(Instant::now()))
            }
            _ => None,
        }
    }

    /// Whether a rejected token can be replaced (refresh-token grant) or not (static token).
    pub fn can_refresh(&self) -> bool {
        matches!(self.credentials, Credentials::RefreshToken { .. })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A token to use now: cached, or refreshed by this thread, or by another thread this one waited for.
    pub fn get(&self, transport: &dyn Transport) -> Result<Token> {
        if let Credentials::AccessToken(t) = &self.credentials {
            return Ok(Token { secret: t.clone(), api_domain: None });
        }
        let mut st = self.lock();
        loop {
            let now = Instant::now();
            let usable = st.current.as_ref().filter(|c| now + c.safety < c.expires_at).map(|c| c.token.clone());
            let refused = st.refused.as_ref().filter(|(until, _)| now < *until).map(|(_, e)| e.clone());
            if let Some(token) = &usable {
                let fresh = st.current.as_ref().is_some_and(|c| now < c.refresh_at);
                let quiet = st.quiet_until.is_some_and(|q| now < q);
                if fresh || st.refreshing || quiet || refused.is_some() {
                    return Ok(token.clone());
                }
            } else if let Some(e) = refused {
                return Err(e);
            } else if st.refreshing {
                let generation = st.generation;
                while st.refreshing && st.generation == generation {
                    st = self.wake.wait(st).unwrap_or_else(|p| p.into_inner());
                }
                if let Some((g, e)) = &st.last_error
                    && *g == st.generation
                    && st.generation != generation
                {
                    return Err(e.clone());
                }
                continue;
            }
            // Zoho allows about 10 tokens per refresh token in 10 minutes: never ask more often than the policy
            // says, whatever asks (short lifetimes, tokens refused by the API). A share counts for all processes.
            let window = self.policy.request_window;
            while st.requests.front().is_some_and(|t| now.duration_since(*t) >= window) {
                st.requests.pop_front();
            }
            if self.share.is_none() && st.requests.len() >= self.policy.max_requests.max(1) {
                let until = st.requests.front().map_or(now, |t| *t + window);
                let e = Error::Auth {
                    status: 0,
                    code: ErrorCode::OauthThrottled,
                    error: "client token budget".to_owned(),
                    description: Some(format!(
                        "{} token requests in the last {} s; the next is allowed in {} s",
                        st.requests.len(),
                        window.as_secs(),
                        until.saturating_duration_since(now).as_secs()
                    )),
                    hint: Some(format!(
                        "the client asks for at most {} access tokens per {} s, as Zoho allows; reuse one client per process",
                        self.policy.max_requests,
                        window.as_secs()
                    )),
                };
                st.refused = Some((until, e.clone()));
                match usable {
                    Some(token) => return Ok(token),
                    None => return Err(e),
                }
            }
            st.requests.push_back(now);
            // This thread refreshes.
            st.refreshing = true;
            let stale = usable.as_ref().map(|t| t.secret.clone()).or_else(|| st.rejected.clone());
            drop(st);
            let guard = RefreshGuard { source: self, done: false };
            let fetch_started = Instant::now();
            let result = match &self.share {
                None => self.fetch(transport),
                Some(share) => share
                    .token(stale.as_ref(), &mut || self.fetch(transport).map(|c| c.shared(Instant::now())))
                    .map(|t| Cached::new(t.token, Instant::now(), t.remaining, t.lifetime)),
            };
            let took = fetch_started.elapsed();
            match &result {
                Ok(c) => events::token_refreshed(
                    &self.events,
                    took,
                    c.expires_at.saturating_duration_since(Instant::now()),
                    self.lock().replacing,
                ),
                Err(e) => events::token_refresh_failed(&self.events, e, took),
            }
            let mut st2 = guard.finish();
            st2.generation += 1;
            let g = st2.generation;
            self.wake.notify_all();
            return match result {
                Ok(mut cached) => {
                    cached.replacement = std::mem::take(&mut st2.replacing);
                    let token = cached.token.clone();
                    st2.current = Some(cached);
                    st2.rejected = None;
                    st2.last_error = None;
                    st2.quiet_until = None;
                    st2.refused = None;
                    st2.throttle_wait = None;
                    Ok(token)
                }
                Err(e) => {
                    st2.last_error = Some((g, e.clone()));
                    self.remember_refusal(&mut st2, &e);
                    match usable {
                        // Refresh-ahead failed but the old token still works: use it, retry the refresh later.
                        Some(token) => {
                            st2.quiet_until = Some(Instant::now() + Duration::from_secs(10));
                            Ok(token)
                        }
                        None => Err(e),
                    }
                }
            };
        }
    }

    fn remember_refusal(&self, st: &mut State, e: &Error) {
        let Error::Auth { code, .. } = e else { return };
        let now = Instant::now();
        let wait = if *code == ErrorCode::OauthThrottled {
            let wait = match st.throttle_wait {
                None => self.policy.throttle_wait,
                Some(w) => w.saturating_mul(2).min(self.policy.throttle_wait_max),
            };
            st.throttle_wait = Some(wait);
            wait
        } else {
            self.policy.refusal_memory
        };
        st.refused = now.checked_add(wait).map(|until| (until, e.clone()));
    }

    /// Drops `used` from the cache if it is still the cached token (after Zoho rejected it).
    ///
    /// A token minted to replace a refused one and refused as well means the refusal is not about the token
    /// (the client is blocked, the org is gone): `refusal` is then answered from memory for
    /// [`TokenPolicy::refusal_memory`], so a burst of calls does not mint a token each.
    pub fn invalidate(&self, used: &Secret, refusal: &Error) {
        let mut st = self.lock();
        let Some(current) = st.current.as_ref().filter(|c| &c.token.secret == used) else { return };
        let persistent = current.replacement;
        st.rejected = Some(used.clone());
        st.current = None;
        st.quiet_until = None;
        if persistent {
            st.refused = Instant::now().checked_add(self.policy.refusal_memory).map(|until| (until, refusal.clone()));
        } else {
            st.replacing = true;
        }
    }

    fn fetch(&self, transport: &dyn Transport) -> Result<Cached> {
        let Credentials::RefreshToken { client_id, client_secret, refresh_token } = &self.credentials else {
            unreachable!("only the refresh grant fetches")
        };
        let body = form_encode(&[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("client_secret", client_secret.expose()),
            ("refresh_token", refresh_token.expose()),
        ]);
        let headers = [("Content-Type", "application/x-www-form-urlencoded".to_owned())];
        let started = Instant::now();
        let response = transport.send(HttpRequest {
            method: Method::Post,
            url: &self.token_url,
            headers: &headers,
            body: body.as_bytes(),
        })?;
        parse_token_reply(response.status, &response.body, started, &self.credentials.secret_values())
    }
}

impl Cached {
    /// The token as another process would use it (`now`: when it is handed over).
    fn shared(&self, now: Instant) -> SharedToken {
        SharedToken {
            token: self.token.clone(),
            remaining: self.expires_at.saturating_duration_since(now),
            lifetime: self.lifetime,
        }
    }
}

/// Clears `refreshing` even if the fetch panics, so waiters never hang.
struct RefreshGuard<'a> {
    source: &'a TokenSource,
    done: bool,
}

impl<'a> RefreshGuard<'a> {
    fn finish(mut self) -> MutexGuard<'a, State> {
        self.done = true;
        let mut st = self.source.lock();
        st.refreshing = false;
        st
    }
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.source.lock().refreshing = false;
            self.source.wake.notify_all();
        }
    }
}

/// Reads a token reply. Whatever of it goes into an error is masked first: secret fields, any echo of the
/// values in `secrets` (the client secret and refresh token this client sent), and the reply's own access token.
fn parse_token_reply(status: u16, body: &[u8], started: Instant, secrets: &[&str]) -> Result<Cached> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let reply_token =
        json.as_ref().and_then(|j| j.get("access_token")).and_then(Value::as_str).unwrap_or("").to_owned();
    let mut masked: Vec<&str> = secrets.to_vec();
    masked.push(&reply_token);
    let clean = |text: &str| -> String {
        let text = redact_values(&redact_secrets(text, TOKEN_SECRET_KEYS), &masked);
        truncate_chars(&text, QUOTE_LEN).into_owned()
    };
    let unexpected = |reason: &str| Error::UnexpectedResponse {
        status,
        reason: format!("token endpoint: {reason}"),
        content_type: None,
        body_prefix: redact_values(&redact_secrets(&body_prefix(body), TOKEN_SECRET_KEYS), &masked),
    };
    let json = json.as_ref().ok_or_else(|| unexpected("the body is not JSON"))?;
    let obj = json.as_object().ok_or_else(|| unexpected("the body is not a JSON object"))?;
    if let Some(token) = obj.get("access_token").and_then(Value::as_str) {
        // The token goes into a header and may be echoed: refuse anything that could break or smuggle one, forge
        // a line or hide in a terminal.
        if !is_visible_ascii(token) {
            return Err(unexpected(
                "the access_token is empty or not visible ASCII (spaces, control characters, line separators or \
                 non-ASCII characters)",
            ));
        }
        let seconds =
            match (obj.get("expires_in_sec").and_then(Value::as_u64), obj.get("expires_in").and_then(Value::as_u64)) {
                (Some(s), _) => s,
                (None, Some(s)) => s,
                (None, None) => 3600,
            };
        let lifetime = Duration::from_secs(seconds).min(MAX_LIFETIME);
        let api_domain = obj
            .get("api_domain")
            .and_then(Value::as_str)
            .and_then(|d| BaseUrl::parse_as(d, "api_domain").ok())
            .filter(BaseUrl::is_zohoapis);
        return Ok(Cached::new(Token { secret: Secret::new(token), api_domain }, started, lifetime, lifetime));
    }
    let error = obj.get("error").and_then(Value::as_str).ok_or_else(|| unexpected("neither access_token nor error"))?;
    let description = obj.get("error_description").and_then(Value::as_str).map(clean);
    let (code, hint) = match error {
        "invalid_code" => (
            ErrorCode::OauthInvalidCode,
            "the refresh token is wrong or revoked, or belongs to another data centre or environment; generate a new grant",
        ),
        "invalid_client" => (
            ErrorCode::OauthInvalidClient,
            "wrong client id or secret, or the wrong data centre: an org in the EU must use accounts.zoho.eu (set the data centre)",
        ),
        e if e.eq_ignore_ascii_case("access denied") => (
            ErrorCode::OauthThrottled,
            "Zoho limits access tokens per refresh token (about 10 per 10 minutes); reuse one client (it caches tokens) and retry later",
        ),
        _ => (ErrorCode::OauthError, "see Zoho's OAuth documentation for this error"),
    };
    Err(Error::Auth { status, code, error: clean(error), description, hint: Some(hint.to_owned()) })
}

/// `application/x-www-form-urlencoded`.
pub(crate) fn form_encode(pairs: &[(&str, &str)]) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    const FORM: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'*');
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, FORM), utf8_percent_encode(v, FORM)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_reply_forms() {
        let now = Instant::now();
        let t = parse_token_reply(
            200,
            br#"{"access_token":"a","expires_in":3600,"api_domain":"https://www.zohoapis.eu","token_type":"Bearer"}"#,
            now,
            &[],
        )
        .unwrap();
        assert_eq!(t.expires_at - now, Duration::from_secs(3600));
        assert_eq!(t.expires_at - t.refresh_at, Duration::from_secs(300));
        // A huge lifetime is capped, never an overflow.
        let huge =
            parse_token_reply(200, br#"{"access_token":"a","expires_in":18446744073709551615}"#, now, &[]).unwrap();
        assert_eq!(huge.expires_at - now, MAX_LIFETIME);
        // A short one is refreshed a fifth before its end and handed out until its last tenth.
        let short = parse_token_reply(200, br#"{"access_token":"a","expires_in":2}"#, now, &[]).unwrap();
        assert_eq!(
            (short.expires_at - short.refresh_at, short.safety),
            (Duration::from_millis(400), Duration::from_millis(200))
        );
        assert_eq!(t.token.api_domain.unwrap().as_str(), "https://www.zohoapis.eu");
        // Legacy: expires_in in milliseconds next to expires_in_sec.
        let legacy =
            parse_token_reply(200, br#"{"access_token":"a","expires_in":3600000,"expires_in_sec":3600}"#, now, &[])
                .unwrap();
        assert_eq!(legacy.expires_at - now, Duration::from_secs(3600));
        // A local api_domain is never followed.
        let local = parse_token_reply(
            200,
            br#"{"access_token":"a","expires_in":60,"api_domain":"http://127.0.0.1:9"}"#,
            now,
            &[],
        )
        .unwrap();
        assert!(local.token.api_domain.is_none());
        assert_eq!(local.expires_at - local.refresh_at, Duration::from_secs(12));
    }

    #[test]
    fn unusable_tokens_are_refused() {
        let now = Instant::now();
        for body in
            [&br#"{"access_token":""}"#[..], br#"{"access_token":"a\r\nX-Evil: 1"}"#, br#"{"access_token":"a b"}"#]
        {
            let e = parse_token_reply(200, body, now, &[]).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::UnexpectedResponse, "{body:?}");
            assert!(!e.to_string().contains("X-Evil"));
        }
    }

    #[test]
    fn tokens_must_be_visible_ascii() {
        let now = Instant::now();
        for token in ["a\u{2028}b", "a\u{2029}", "tok\u{85}", "t\u{1b}[2J", "t\u{200b}", "tök", "a\tb"] {
            let body = serde_json::json!({"access_token": token}).to_string();
            let e = parse_token_reply(200, body.as_bytes(), now, &[]).unwrap_err();
            assert!(e.to_string().contains("visible ASCII"), "{e}");
            assert!(!e.to_string().contains(token), "{e}");
            assert!(Credentials::access_token(token).validate().is_err(), "{token:?}");
        }
        assert!(Credentials::refresh_token("id", "sec\u{2028}", "r").validate().is_err());
        assert!(parse_token_reply(200, br#"{"access_token":"1000.a~b!c"}"#, now, &[]).is_ok());
    }

    #[test]
    fn echoed_token_errors_never_hold_the_secrets() {
        let now = Instant::now();
        let reflected = br#"{"error":"invalid_client client_secret=sec-ret","error_description":"got refresh_token=1000.rt&client_secret=sec-ret; raw sec-ret 1000.rt","echo":{"client_secret":"sec-ret"}}"#;
        let e = parse_token_reply(200, reflected, now, &["sec-ret", "1000.rt"]).unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(!text.contains("sec-ret") && !text.contains("1000.rt"), "{text}");
        let html = format!("<html>you sent client_secret=sec-ret&refresh_token=1000.rt {}</html>", "x".repeat(2000));
        let e = parse_token_reply(502, html.as_bytes(), now, &["sec-ret", "1000.rt"]).unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(!text.contains("sec-ret") && !text.contains("1000.rt") && text.contains("***"), "{text}");
        let long = format!(r#"{{"error":"x","error_description":"{}"}}"#, "d".repeat(5000));
        let e = parse_token_reply(400, long.as_bytes(), now, &[]).unwrap_err();
        assert!(e.to_string().len() < 600, "echoed text is cut: {}", e.to_string().len());
    }

    #[test]
    fn token_errors_become_auth_errors_with_hints() {
        let now = Instant::now();
        for (body, code) in [
            (&br#"{"error":"invalid_code"}"#[..], ErrorCode::OauthInvalidCode),
            (br#"{"error":"invalid_client"}"#, ErrorCode::OauthInvalidClient),
            (br#"{"error_description":"You have made too many requests continuously. Please try again after some time.","error":"Access Denied","status":"failure"}"#, ErrorCode::OauthThrottled),
            (br#"{"error":"weird"}"#, ErrorCode::OauthError),
        ] {
            let e = parse_token_reply(200, body, now, &[]).unwrap_err();
            assert_eq!(e.code(), code);
            assert!(e.to_string().contains("hint:"));
        }
        assert_eq!(parse_token_reply(200, b"{}", now, &[]).unwrap_err().kind(), crate::ErrorKind::UnexpectedResponse);
        assert!(
            parse_token_reply(200, br#"{"error":"invalid_client"}"#, now, &[])
                .unwrap_err()
                .to_string()
                .contains("data centre")
        );
    }

    /// A token endpoint that hands out tokens of `lifetime` seconds and counts the requests.
    #[derive(Debug)]
    struct Endpoint {
        lifetime: u64,
        requests: std::sync::atomic::AtomicUsize,
    }

    impl Transport for Endpoint {
        fn send(&self, _: HttpRequest<'_>) -> Result<crate::transport::HttpResponse> {
            let n = self.requests.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(crate::transport::HttpResponse {
                status: 200,
                headers: vec![],
                body: format!(r#"{{"access_token":"t{n}","expires_in":{}}}"#, self.lifetime).into_bytes(),
            })
        }
    }

    #[test]
    fn the_client_never_asks_for_more_tokens_than_its_budget() {
        let endpoint = Endpoint { lifetime: 0, requests: 0.into() };
        let policy = TokenPolicy { max_requests: 3, ..TokenPolicy::default() };
        let source = TokenSource::with_policy(
            Credentials::refresh_token("id", "secret", "refresh"),
            &BaseUrl::parse("https://accounts.zoho.com").unwrap(),
            policy,
        );
        // Tokens of 0 s are never usable: every get() would ask again without the budget.
        let results: Vec<_> = (0..20).map(|_| source.get(&endpoint)).collect();
        assert_eq!(endpoint.requests.load(std::sync::atomic::Ordering::SeqCst), 3);
        let refused = results.last().unwrap().as_ref().unwrap_err();
        assert_eq!(refused.code(), ErrorCode::OauthThrottled);
        assert!(source.throttled_for().is_some_and(|d| d > Duration::from_secs(500)));
    }

    #[test]
    fn credentials_never_print_secrets() {
        let c = Credentials::refresh_token("1000.CLIENT", "sec-ret", "1000.refresh");
        let s = format!("{c:?}");
        assert!(!s.contains("sec-ret") && !s.contains("1000.refresh"), "{s}");
        assert!(Credentials::access_token("a\nb").validate().unwrap_err().to_string().contains("access_token"));
        assert!(!Credentials::access_token("a\nb").validate().unwrap_err().to_string().contains("a\nb"));
    }

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode(&[("a", "1 2&3=4"), ("b", "ü")]), "a=1%202%263%3D4&b=%C3%BC");
    }
}
