//! [`Client`]: configuration, tokens, transport and retries tied together. `Clone + Send + Sync`; clones share
//! the keep-alive pool and the token cache, so one client per process is the intended use.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{Credentials, Token, TokenPolicy, TokenSource};
use crate::budget::{CallGate, Pass, TokenShare};
use crate::bulk::Cancel;
use crate::call::Call;
use crate::code::ErrorCode;
use crate::config::{ApiVersion, BaseUrl, DataCenter, Environment};
use crate::error::{Error, Result};
use crate::events::{self, EventListener, Events, RequestInfo};
use crate::proxy::ProxyConfig;
use crate::related::UpdateRelated;
use crate::request::PreparedRequest;
use crate::response::{UpdateResponse, credits_remaining};
use crate::retry::{Jitter, RetryPolicy, is_rate_limited, is_retryable, parse_retry_after};
use crate::scope::mismatch_hint;
use crate::transport::{HttpRequest, Transport, TransportConfig, UreqTransport};

/// A Zoho CRM client for the external-ID related-records API.
///
/// ```
/// use zcrm_extid::{Client, DataCenter};
/// let client = Client::builder().access_token("1000.xxx").data_center(DataCenter::Eu).build()?;
/// assert_eq!(client.base_url().as_str(), "https://www.zohoapis.eu");
/// assert!(!format!("{client:?}").contains("1000.xxx"));
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    explicit_base: Option<BaseUrl>,
    default_base: BaseUrl,
    /// The data centre and environment the user set (not the defaults): a token's `api_domain` must agree.
    explicit_dc: Option<DataCenter>,
    explicit_env: Option<Environment>,
    version: ApiVersion,
    auth: TokenSource,
    transport: Arc<dyn Transport>,
    retry: RetryPolicy,
    /// The org-wide limits shared with other processes ([`crate::budget`]), if any.
    gate: Option<Arc<dyn CallGate>>,
    #[cfg(feature = "redis")]
    budget: Option<crate::budget::SharedBudget>,
    events: Events,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url().as_str())
            .field("api_version", &self.inner.version)
            .field("credentials", &if self.inner.auth.can_refresh() { "refresh_token" } else { "access_token" })
            .field("retry", &self.inner.retry)
            .field("transport", &self.inner.transport)
            .field("events", &self.inner.events)
            .finish_non_exhaustive()
    }
}

/// A failed attempt: the error, and what the answer said about when to try again.
#[derive(Debug, Clone)]
pub struct AttemptError {
    /// What went wrong.
    pub error: Error,
    /// `Retry-After`, if the response had one; for the token endpoint's throttle, when the next token request
    /// is allowed.
    pub retry_after: Option<Duration>,
    /// `X-API-CREDITS-REMAINING`, if the response had it (`Some(0)` on a 429: the day's credits are spent).
    pub credits_remaining: Option<u64>,
}

impl From<Error> for AttemptError {
    fn from(error: Error) -> Self {
        AttemptError { error, retry_after: None, credits_remaining: None }
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Where the client's events go (its listener and the `log` facade).
    pub(crate) fn events(&self) -> &Events {
        &self.inner.events
    }

    /// The API version in every path.
    pub fn api_version(&self) -> ApiVersion {
        self.inner.version
    }

    /// The limits shared with other processes that every call enters ([`crate::budget`]), if any.
    pub fn call_gate(&self) -> Option<&Arc<dyn CallGate>> {
        self.inner.gate.as_ref()
    }

    /// The shared budget on Redis, if the client has one.
    #[cfg(feature = "redis")]
    pub fn budget(&self) -> Option<&crate::budget::SharedBudget> {
        self.inner.budget.as_ref()
    }

    /// Enters the shared limits for one attempt of `call` (a free pass without a budget).
    pub(crate) fn enter<C: Call + ?Sized>(&self, call: &C, reserve: Option<u64>, cancel: &Cancel) -> Result<Pass> {
        match &self.inner.gate {
            Some(gate) => gate.enter(call.sub_concurrency(), reserve, cancel),
            None => Ok(Pass::free()),
        }
    }

    /// The retry policy of single calls and bulk jobs.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Where API calls go when no token has reported an `api_domain` yet: the explicit base URL, else the data
    /// centre's domain for the environment.
    pub fn base_url(&self) -> &BaseUrl {
        self.inner.explicit_base.as_ref().unwrap_or(&self.inner.default_base)
    }

    /// Where a call with `token` goes:
    ///
    /// 1. an explicit base URL always wins (the token's `api_domain` is ignored);
    /// 2. otherwise the token reply's `api_domain` (already checked to be a `https://*.zohoapis.*` host; anything
    ///    else was dropped when the token was read), **unless** it disagrees with a data centre or environment
    ///    the user set explicitly: then [`Error::ApiDomainMismatch`], and nothing is sent (a production refresh
    ///    token used with `environment = sandbox` must not write to production). A domain whose label is not
    ///    `www`, `sandbox` or `developer` disagrees with any explicit environment;
    /// 3. otherwise the data centre's domain for the environment.
    fn base_for<'a>(&'a self, token: &'a Token) -> Result<&'a BaseUrl> {
        let inner = &self.inner;
        match (&inner.explicit_base, &token.api_domain) {
            (Some(b), _) => Ok(b),
            (None, Some(domain)) => {
                let (dc, env) = domain.zoho_location().unzip();
                if let Some(want) = inner.explicit_dc
                    && dc != Some(want)
                {
                    return Err(Error::api_domain_mismatch("data_center", want.as_str(), domain.as_str()));
                }
                if let Some(want) = inner.explicit_env
                    && env.flatten() != Some(want)
                {
                    return Err(Error::api_domain_mismatch("environment", want.as_str(), domain.as_str()));
                }
                Ok(domain)
            }
            (None, None) => Ok(&inner.default_base),
        }
    }

    /// The HTTP request `request` becomes, without sending it or fetching a token (the curl of
    /// [`PreparedRequest::to_curl`] shows the token as `***`).
    pub fn prepare_update_related(&self, request: &UpdateRelated) -> PreparedRequest {
        self.prepare(request)
    }

    /// The HTTP request any [`Call`] becomes, without sending it or fetching a token.
    pub fn prepare<C: Call + ?Sized>(&self, call: &C) -> PreparedRequest {
        call.prepare(self.base_url(), self.inner.version)
    }

    /// Updates (links) related records: one call, with retries per the [`RetryPolicy`] and one token
    /// refresh-and-resend on a 401. Per-record failures are [`crate::Outcome`]s in the response, not errors.
    pub fn update_related(&self, request: &UpdateRelated) -> Result<UpdateResponse> {
        self.execute(request)
    }

    /// Sends any [`Call`]: retries of transient failures per the [`RetryPolicy`] (for a non-idempotent call,
    /// only after a 429), and one token refresh-and-resend on a 401.
    pub fn execute<C: Call + ?Sized>(&self, call: &C) -> Result<C::Output> {
        self.execute_cancellable(call, &Cancel::new())
    }

    /// [`Client::execute`] that `cancel` can stop: before each attempt and during each backoff sleep (which it
    /// cuts short). An attempt already on the wire finishes (or times out) first. A stopped call is
    /// [`Error::Cancelled`], naming the last failure if there was one.
    pub fn execute_cancellable<C: Call + ?Sized>(&self, call: &C, cancel: &Cancel) -> Result<C::Output> {
        let result = self.execute_with_retries(call, cancel);
        self.inner.events.flush();
        result
    }

    fn execute_with_retries<C: Call + ?Sized>(&self, call: &C, cancel: &Cancel) -> Result<C::Output> {
        let events = &self.inner.events;
        let mut jitter = Jitter::new();
        let mut attempt = 0;
        let cancelled = |last: Option<&Error>| Error::Cancelled {
            message: match last {
                None => "the call was cancelled before it was sent".to_owned(),
                Some(e) => format!("the call was cancelled while waiting to retry after {}: {}", e.code(), e.message()),
            },
        };
        if cancel.is_cancelled() {
            return Err(cancelled(None));
        }
        loop {
            let pass = self.enter(call, None, cancel)?;
            let result = self.send_attempt(call, attempt + 1);
            pass.finish(matches!(&result, Err(f) if is_rate_limited(&f.error)));
            if let Err(failed) = &result
                && is_rate_limited(&failed.error)
            {
                events::rate_limited(events, None, failed.credits_remaining);
            }
            match result {
                Ok(output) => return Ok(output),
                Err(failed) if attempt < self.inner.retry.max_retries && may_retry(call, &failed.error) => {
                    let delay = self.inner.retry.delay(attempt, failed.retry_after, &mut jitter);
                    events::retry_scheduled(events, &failed.error, delay, attempt + 1);
                    if !cancel.sleep(delay) {
                        return Err(cancelled(Some(&failed.error)));
                    }
                    attempt += 1;
                }
                Err(failed) => return Err(failed.error),
            }
        }
    }

    /// One attempt: check the call's version rules ([`Call::check`]), fetch a token, send, interpret. If Zoho rejects the token (401 `INVALID_TOKEN` or
    /// `AUTHENTICATION_FAILURE`) and it can be refreshed, it is refreshed once and the call sent again.
    // The error is the failure path of an HTTP exchange: its size costs nothing next to the call, and boxing
    // it would allocate on every failure.
    #[allow(clippy::result_large_err)]
    pub fn send_once<C: Call + ?Sized>(&self, call: &C) -> std::result::Result<C::Output, AttemptError> {
        self.send_attempt(call, 1)
    }

    /// [`Client::send_once`] as try number `attempt` of the call (1 = first), for its events.
    #[allow(clippy::result_large_err)]
    pub(crate) fn send_attempt<C: Call + ?Sized>(
        &self,
        call: &C,
        attempt: u32,
    ) -> std::result::Result<C::Output, AttemptError> {
        call.check(self.inner.version).map_err(Error::from)?;
        let auth = &self.inner.auth;
        let transport = &*self.inner.transport;
        let mut refreshed = false;
        loop {
            let token = auth.get(transport).map_err(|error| AttemptError {
                retry_after: auth.throttled_for(),
                credits_remaining: None,
                error,
            })?;
            let prepared = call.prepare(self.base_for(&token)?, self.inner.version).with_token(token.secret.clone());
            let headers = prepared.headers();
            let events = &self.inner.events;
            let (request, started) = events::request_sent(events, attempt, || RequestInfo {
                method: prepared.method(),
                path: call.path_template(self.inner.version),
                crm_module: call.module().to_string(),
                records: call.record_count(),
            });
            let sent = transport.send(HttpRequest {
                method: prepared.method(),
                url: prepared.url(),
                headers: &headers,
                body: prepared.body(),
            });
            let duration = started.map(|t| t.elapsed());
            let response = match sent {
                Ok(response) => response,
                Err(e) => {
                    events::request_finished(events, request, attempt, duration, None, Some(&e), None);
                    return Err(e.into());
                }
            };
            let retry_after = response.header("retry-after").and_then(parse_retry_after);
            let credits_remaining = credits_remaining(&response);
            if let (Some(gate), Some(n)) = (&self.inner.gate, credits_remaining) {
                gate.observe_credits(n);
            }
            let parsed = call.parse(&response);
            let failed = parsed.as_ref().err();
            events::request_finished(
                events,
                request,
                attempt,
                duration,
                Some(response.status),
                failed,
                credits_remaining,
            );
            match parsed {
                Ok(output) => return Ok(output),
                Err(e) if token_rejected(&e) && auth.can_refresh() && !refreshed => {
                    auth.invalidate(&token.secret, &e);
                    refreshed = true;
                }
                Err(e) => return Err(AttemptError { error: with_hint(e, call), retry_after, credits_remaining }),
            }
        }
    }
}

/// Whether a failed attempt of `call` may be sent again: a transient failure, and for a call that is not
/// idempotent only a 429 (the server did nothing).
pub(crate) fn may_retry<C: Call + ?Sized>(call: &C, error: &Error) -> bool {
    is_retryable(error) && (call.idempotent() || is_rate_limited(error))
}

fn token_rejected(e: &Error) -> bool {
    matches!(e, Error::Api { status: 401, code, .. } if matches!(code,
        ErrorCode::InvalidToken | ErrorCode::InvalidOauthToken | ErrorCode::AuthenticationFailure | ErrorCode::AuthenticationFailed))
}

fn with_hint<C: Call + ?Sized>(e: Error, call: &C) -> Error {
    match e {
        Error::Api { status, code: ErrorCode::OauthScopeMismatch, message, details, hint: None } => Error::Api {
            status,
            code: ErrorCode::OauthScopeMismatch,
            message,
            details,
            hint: Some(mismatch_hint(call.module().as_str(), call.scope_op())),
        },
        other => other,
    }
}

/// Configures a [`Client`]. Only the credentials are required.
#[derive(Debug, Default)]
#[must_use]
pub struct ClientBuilder {
    credentials: Option<Credentials>,
    data_center: Option<DataCenter>,
    environment: Option<Environment>,
    version: ApiVersion,
    base_url: Option<String>,
    accounts_url: Option<String>,
    transport_config: TransportConfig,
    transport: Option<Arc<dyn Transport>>,
    retry: RetryPolicy,
    token_policy: TokenPolicy,
    gate: Option<Arc<dyn CallGate>>,
    token_share: Option<Arc<dyn TokenShare>>,
    #[cfg(feature = "redis")]
    budget: Option<crate::budget::BudgetConfig>,
    events: Events,
}

impl ClientBuilder {
    /// Authenticate with a ready access token (no refresh: a 401 is final).
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::access_token(token));
        self
    }

    /// Authenticate with the refresh-token grant (tokens are cached and refreshed ahead of expiry).
    pub fn refresh_token(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        refresh_token: impl Into<String>,
    ) -> Self {
        self.credentials = Some(Credentials::refresh_token(client_id, client_secret, refresh_token));
        self
    }

    /// Authenticate with `credentials`.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The org's data centre (default US). Once set, a token whose `api_domain` names another data centre is an
    /// [`Error::ApiDomainMismatch`] instead of being followed.
    pub fn data_center(mut self, dc: DataCenter) -> Self {
        self.data_center = Some(dc);
        self
    }

    /// Production, sandbox or developer (default production). Once set, a token whose `api_domain` names another
    /// environment is an [`Error::ApiDomainMismatch`] instead of being followed.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// The API version (default v5).
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.version = version;
        self
    }

    /// Send API calls here instead of the data centre's domain (the emulator, a proxy). `https`, or `http` on
    /// loopback. When set, an `api_domain` in a token reply is ignored.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Refresh tokens here instead of the data centre's accounts server.
    pub fn accounts_url(mut self, url: impl Into<String>) -> Self {
        self.accounts_url = Some(url.into());
        self
    }

    /// Connection-setup timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.transport_config.connect_timeout = timeout;
        self
    }

    /// Timeout for sending a request and receiving its whole response (default 60 s).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.transport_config.read_timeout = timeout;
        self
    }

    /// Idle keep-alive connections kept per host (default 32; keep it >= the bulk concurrency).
    pub fn max_idle_connections(mut self, n: usize) -> Self {
        self.transport_config.max_idle_per_host = n;
        self
    }

    /// Retries of 429 / 5xx / transport failures (default 4; 0 disables).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.retry.max_retries = n;
        self
    }

    /// The whole retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How patiently token-endpoint refusals are treated (throttle waits, remembered refusals).
    pub fn token_policy(mut self, policy: TokenPolicy) -> Self {
        self.token_policy = policy;
        self
    }

    /// Which proxy to use (default [`ProxyConfig::Env`]: `HTTPS_PROXY` / `ALL_PROXY` with `NO_PROXY`). Loopback
    /// is never proxied; https goes through a proxy as a `CONNECT` tunnel (see [`crate::proxy`]).
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.transport_config.proxy = proxy;
        self
    }

    /// **Tests only.** Sends every request for a Zoho host to `loopback_url` (an emulator), with the original host
    /// in the `Host` header, and refuses any other non-loopback host; see
    /// [`TransportConfig::route_zoho_to_for_tests`]. Never set by default, by settings, the bindings or the CLI.
    pub fn route_zoho_to_for_tests(mut self, loopback_url: &str) -> Result<Self> {
        let url = BaseUrl::parse_as(loopback_url, "route_zoho_to_for_tests")?;
        self.transport_config.route_zoho_to_for_tests = Some(url);
        Ok(self)
    }

    /// Share the org's limits with other processes through a budget on Redis ([`crate::budget::SharedBudget`]):
    /// [`ClientBuilder::build`] connects to it, so a Redis that is down (unless
    /// [`crate::budget::OnRedisError::Local`]), a wrong URL or a wrong password is an error before any call.
    #[cfg(feature = "redis")]
    pub fn budget(mut self, config: crate::budget::BudgetConfig) -> Self {
        self.budget = Some(config);
        self
    }

    /// Enter `gate` around every attempt of a call (a shared concurrency limit and credit count; see
    /// [`crate::budget`]).
    pub fn call_gate(mut self, gate: Arc<dyn CallGate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Get new access tokens through `share` (tokens shared with other processes; see [`crate::budget`]).
    pub fn token_share(mut self, share: Arc<dyn TokenShare>) -> Self {
        self.token_share = Some(share);
        self
    }

    /// Sends the client's events (requests, retries, 429s, token refreshes, bulk jobs: [`crate::events`]) to
    /// `listener` too, on the thread that caused each one. Events also go to the `log` facade whether or not a
    /// listener is set.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use zcrm_extid::{Client, Event};
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let sink = seen.clone();
    /// let client = Client::builder()
    ///     .access_token("1000.xxx")
    ///     .on_event(move |e: &Event| sink.lock().unwrap().push(e.name()))
    ///     .build()?;
    /// # Ok::<(), zcrm_extid::Error>(())
    /// ```
    pub fn on_event(mut self, listener: impl EventListener + 'static) -> Self {
        self.events = Events::new(Some(Arc::new(listener)));
        self
    }

    /// Use `transport` instead of the built-in ureq transport.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Validates the configuration and builds the client.
    pub fn build(self) -> Result<Client> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::config("credentials", "set an access token, or client id + client secret + refresh token")
        })?;
        credentials.validate()?;
        let explicit_base = self.base_url.as_deref().map(|u| BaseUrl::parse_as(u, "base_url")).transpose()?;
        let accounts = match self.accounts_url.as_deref() {
            Some(u) => BaseUrl::parse_as(u, "accounts_url")?,
            None => self.data_center.unwrap_or_default().accounts_url(),
        };
        let transport = match self.transport {
            Some(t) => t,
            None => Arc::new(UreqTransport::try_new(&self.transport_config)?),
        };
        let default_base = self.data_center.unwrap_or_default().api_domain(self.environment.unwrap_or_default());
        #[cfg_attr(not(feature = "redis"), allow(unused_mut))]
        let (mut gate, mut token_share) = (self.gate, self.token_share);
        #[cfg(feature = "redis")]
        let budget = match self.budget {
            Some(config) => {
                let client_id = match &credentials {
                    Credentials::RefreshToken { client_id, .. } => client_id.as_str(),
                    Credentials::AccessToken(_) if config.prefix.is_none() => {
                        return Err(Error::config(
                            "budget_prefix",
                            "a budget with a static access token needs a prefix naming the org",
                        ));
                    }
                    Credentials::AccessToken(_) => "",
                };
                let org = crate::budget::SharedBudget::default_org(
                    client_id,
                    &accounts,
                    explicit_base.as_ref().unwrap_or(&default_base),
                );
                let budget =
                    crate::budget::SharedBudget::connect(config, &org, &credentials, self.token_policy.clone())?;
                gate = Some(Arc::new(budget.clone()));
                token_share = Some(Arc::new(budget.clone()));
                Some(budget)
            }
            None => None,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                explicit_base,
                default_base,
                explicit_dc: self.data_center,
                explicit_env: self.environment,
                version: self.version,
                auth: TokenSource::with_policy(credentials, &accounts, self.token_policy)
                    .with_share(token_share)
                    .with_events(self.events.clone()),
                transport,
                retry: self.retry,
                gate,
                #[cfg(feature = "redis")]
                budget,
                events: self.events,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn client_is_send_sync_clone() {
        assert_send_sync_clone::<Client>();
    }

    #[test]
    fn build_errors_name_the_setting() {
        let e = Client::builder().build().unwrap_err();
        assert!(matches!(&e, Error::InvalidConfig { setting, .. } if setting == "credentials"));
        let e = Client::builder().access_token("t").base_url("http://10.1.1.1").build().unwrap_err();
        assert!(matches!(&e, Error::InvalidConfig { setting, .. } if setting == "base_url"));
        let e = Client::builder().access_token("t").accounts_url("nope").build().unwrap_err();
        assert!(matches!(&e, Error::InvalidConfig { setting, .. } if setting == "accounts_url"));
    }

    #[test]
    fn a_token_api_domain_is_followed_only_without_an_explicit_base_url() {
        use crate::secret::Secret;
        let eu = BaseUrl::parse("https://www.zohoapis.eu").unwrap();
        let token = Token { secret: Secret::new("t"), api_domain: Some(eu.clone()) };
        let dc_default = Client::builder().access_token("t").build().unwrap();
        assert_eq!(dc_default.base_for(&token).unwrap(), &eu, "Zoho says where the org lives");
        let emulator = Client::builder().access_token("t").base_url("http://127.0.0.1:9").build().unwrap();
        assert_eq!(emulator.base_for(&token).unwrap().as_str(), "http://127.0.0.1:9", "an explicit base URL wins");
        let no_domain = Token { secret: Secret::new("t"), api_domain: None };
        assert_eq!(dc_default.base_for(&no_domain).unwrap().as_str(), "https://www.zohoapis.com");
    }

    #[test]
    fn an_explicit_data_centre_or_environment_must_agree_with_the_api_domain() {
        use crate::secret::Secret;
        let token = |d: &str| Token { secret: Secret::new("t"), api_domain: Some(BaseUrl::parse(d).unwrap()) };
        let sandbox = Client::builder().access_token("t").environment(Environment::Sandbox).build().unwrap();
        let e = sandbox.base_for(&token("https://www.zohoapis.com")).unwrap_err();
        assert!(
            matches!(&e, Error::ApiDomainMismatch { setting, configured, api_domain, .. }
                if setting == "environment" && configured == "sandbox" && api_domain == "https://www.zohoapis.com"),
            "{e:?}"
        );
        assert_eq!(
            (e.kind(), e.code().as_str(), e.setting()),
            (crate::ErrorKind::InvalidConfig, "API_DOMAIN_MISMATCH", Some("environment"))
        );
        assert!(e.to_string().contains("sandbox") && e.to_string().contains("https://www.zohoapis.com"), "{e}");
        assert!(sandbox.base_for(&token("https://sandbox.zohoapis.in")).is_ok(), "the data centre was not set");
        assert!(sandbox.base_for(&token("https://crm.zohoapis.com")).is_err(), "an unknown label never matches");
        let eu = Client::builder().access_token("t").data_center(DataCenter::Eu).build().unwrap();
        let e = eu.base_for(&token("https://www.zohoapis.com")).unwrap_err();
        assert_eq!(e.details().unwrap()["configured"], "eu");
        assert_eq!(
            eu.base_for(&token("https://developer.zohoapis.eu")).unwrap().as_str(),
            "https://developer.zohoapis.eu"
        );
        let explicit = Client::builder()
            .access_token("t")
            .environment(Environment::Sandbox)
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        assert!(explicit.base_for(&token("https://www.zohoapis.com")).is_ok(), "an explicit base URL still wins");
    }

    #[test]
    fn debug_shows_the_proxy_without_credentials() {
        let c = Client::builder()
            .access_token("t")
            .proxy(ProxyConfig::parse("http://admin:hunter2@proxy.corp:3128").unwrap())
            .build()
            .unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("http://***@proxy.corp:3128 (from option)") && !d.contains("hunter2"), "{d}");
        let none = Client::builder().access_token("t").proxy(ProxyConfig::None).build().unwrap();
        assert!(format!("{none:?}").contains("proxy: \"none\""));
        let e = Client::builder().access_token("t").route_zoho_to_for_tests("https://zoho.example").unwrap().build();
        assert!(e.unwrap_err().to_string().contains("route_zoho_to_for_tests"));
    }

    #[test]
    fn environment_picks_the_domain() {
        let c = Client::builder()
            .access_token("t")
            .data_center(DataCenter::Jp)
            .environment(Environment::Sandbox)
            .build()
            .unwrap();
        assert_eq!(c.base_url().as_str(), "https://sandbox.zohoapis.jp");
    }
}
