//! [`Client`]: configuration, tokens, transport and retries tied together. `Clone + Send + Sync`; clones share
//! the keep-alive pool and the token cache, so one client per process is the intended use.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{Credentials, Token, TokenSource};
use crate::call::Call;
use crate::code::ErrorCode;
use crate::config::{ApiVersion, BaseUrl, DataCenter, Environment};
use crate::error::{Error, Result};
use crate::related::UpdateRelated;
use crate::request::PreparedRequest;
use crate::response::UpdateResponse;
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
    version: ApiVersion,
    auth: TokenSource,
    transport: Arc<dyn Transport>,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url().as_str())
            .field("api_version", &self.inner.version)
            .field("credentials", &if self.inner.auth.can_refresh() { "refresh_token" } else { "access_token" })
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// A failed attempt: the error, and the server's `Retry-After` if it sent one.
#[derive(Debug, Clone)]
pub struct AttemptError {
    /// What went wrong.
    pub error: Error,
    /// `Retry-After`, if the response had one.
    pub retry_after: Option<Duration>,
}

impl From<Error> for AttemptError {
    fn from(error: Error) -> Self {
        AttemptError { error, retry_after: None }
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API version in every path.
    pub fn api_version(&self) -> ApiVersion {
        self.inner.version
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

    /// An explicit base URL always wins; otherwise the `api_domain` of the token reply (already checked to be a
    /// `zohoapis` host), otherwise the data centre's domain.
    fn base_for<'a>(&'a self, token: &'a Token) -> &'a BaseUrl {
        match (&self.inner.explicit_base, &token.api_domain) {
            (Some(b), _) => b,
            (None, Some(d)) => d,
            (None, None) => &self.inner.default_base,
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
        let mut jitter = Jitter::new();
        let mut attempt = 0;
        loop {
            match self.send_once(call) {
                Ok(output) => return Ok(output),
                Err(failed) if attempt < self.inner.retry.max_retries && may_retry(call, &failed.error) => {
                    std::thread::sleep(self.inner.retry.delay(attempt, failed.retry_after, &mut jitter));
                    attempt += 1;
                }
                Err(failed) => return Err(failed.error),
            }
        }
    }

    /// One attempt: check the call's version rules ([`Call::check`]), fetch a token, send, interpret. If Zoho rejects the token (401 `INVALID_TOKEN` or
    /// `AUTHENTICATION_FAILURE`) and it can be refreshed, it is refreshed once and the call sent again.
    pub fn send_once<C: Call + ?Sized>(&self, call: &C) -> std::result::Result<C::Output, AttemptError> {
        call.check(self.inner.version).map_err(Error::from)?;
        let auth = &self.inner.auth;
        let transport = &*self.inner.transport;
        let mut refreshed = false;
        loop {
            let token = auth.get(transport)?;
            let prepared = call.prepare(self.base_for(&token), self.inner.version).with_token(token.secret.clone());
            let headers = prepared.headers();
            let response = transport.send(HttpRequest {
                method: prepared.method(),
                url: prepared.url(),
                headers: &headers,
                body: prepared.body(),
            })?;
            let retry_after = response.header("retry-after").and_then(parse_retry_after);
            match call.parse(&response) {
                Ok(output) => return Ok(output),
                Err(e) if token_rejected(&e) && auth.can_refresh() && !refreshed => {
                    auth.invalidate(&token.secret);
                    refreshed = true;
                }
                Err(e) => return Err(AttemptError { error: with_hint(e, call), retry_after }),
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
    data_center: DataCenter,
    environment: Environment,
    version: ApiVersion,
    base_url: Option<String>,
    accounts_url: Option<String>,
    transport_config: TransportConfig,
    transport: Option<Arc<dyn Transport>>,
    retry: RetryPolicy,
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

    /// The org's data centre (default US).
    pub fn data_center(mut self, dc: DataCenter) -> Self {
        self.data_center = dc;
        self
    }

    /// Production, sandbox or developer (default production).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
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
            None => self.data_center.accounts_url(),
        };
        let transport = self.transport.unwrap_or_else(|| Arc::new(UreqTransport::new(&self.transport_config)));
        Ok(Client {
            inner: Arc::new(Inner {
                explicit_base,
                default_base: self.data_center.api_domain(self.environment),
                version: self.version,
                auth: TokenSource::new(credentials, &accounts),
                transport,
                retry: self.retry,
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
        assert_eq!(dc_default.base_for(&token), &eu, "Zoho says where the org lives");
        let emulator = Client::builder().access_token("t").base_url("http://127.0.0.1:9").build().unwrap();
        assert_eq!(emulator.base_for(&token).as_str(), "http://127.0.0.1:9", "an explicit base URL always wins");
        let no_domain = Token { secret: Secret::new("t"), api_domain: None };
        assert_eq!(dc_default.base_for(&no_domain).as_str(), "https://www.zohoapis.com");
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
