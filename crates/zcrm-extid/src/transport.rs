//! HTTP: the [`Transport`] seam and its [`UreqTransport`] implementation. The only module that uses `ureq`.
//!
//! The transport moves bytes and reports the raw status, headers and body; it never interprets a status as an
//! error (`http_status_as_error(false)`), because Zoho's error bodies carry the code and details. One
//! [`ureq::Agent`] holds the keep-alive pool, shared by every clone of a [`crate::Client`].

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::error::{Error, Result};
use crate::request::Method;

/// A request as the transport sends it.
#[derive(Clone, Copy)]
pub struct HttpRequest<'a> {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: &'a str,
    /// Headers in order (values may include the token: never log them).
    pub headers: &'a [(&'static str, String)],
    /// Body.
    pub body: &'a [u8],
}

/// A response: status, the headers this client reads, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends one HTTP request. Implemented by [`UreqTransport`]; tests and embedders can supply their own.
///
/// Errors are [`Error::Transport`] (no complete response) or [`Error::Timeout`]; any response, whatever its
/// status, is `Ok`.
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and reads the whole response.
    fn send(&self, request: HttpRequest<'_>) -> Result<HttpResponse>;
}

/// Timeouts and pool settings of [`UreqTransport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    /// Connection setup (DNS, TCP, TLS). Default 10 s.
    pub connect_timeout: Duration,
    /// Sending the request and receiving the whole response. Default 60 s.
    pub read_timeout: Duration,
    /// Idle keep-alive connections kept per host; at least the bulk concurrency. Default 32.
    pub max_idle_per_host: usize,
    /// Largest response body accepted. Default 16 MiB.
    pub max_body_bytes: u64,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            max_idle_per_host: 32,
            max_body_bytes: 16 << 20,
        }
    }
}

/// The blocking HTTP/1.1 transport on [`ureq`] with rustls, a keep-alive pool, and per-request timeouts.
pub struct UreqTransport {
    agent: ureq::Agent,
    max_body_bytes: u64,
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqTransport").finish_non_exhaustive()
    }
}

/// How long a resolved host is reused.
const DNS_TTL: Duration = Duration::from_secs(60);

/// ureq resolves the host on every request, and with a timeout configured it does so on a new thread each time:
/// a thread and a DNS round trip per API call. This resolver keeps each answer for [`DNS_TTL`].
#[derive(Debug, Default)]
struct CachingResolver {
    inner: DefaultResolver,
    cache: Mutex<HashMap<String, (ResolvedSocketAddrs, Instant)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        let key = format!("{}://{}", uri.scheme_str().unwrap_or(""), uri.authority().map_or("", |a| a.as_str()));
        let now = Instant::now();
        if let Some((addrs, at)) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
            && now.duration_since(*at) < DNS_TTL
        {
            return Ok(addrs.clone());
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (addrs.clone(), now));
        Ok(addrs)
    }
}

impl UreqTransport {
    /// A transport with `config`.
    pub fn new(config: &TransportConfig) -> Self {
        let agent_config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_per_call(Some(config.read_timeout))
            .max_idle_connections(config.max_idle_per_host.max(1) * 4)
            .max_idle_connections_per_host(config.max_idle_per_host.max(1))
            .max_idle_age(Duration::from_secs(50))
            .user_agent(concat!("zcrm-extid/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::with_parts(agent_config, DefaultConnector::default(), CachingResolver::default());
        UreqTransport { agent, max_body_bytes: config.max_body_bytes }
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: HttpRequest<'_>) -> Result<HttpResponse> {
        let mut builder = ureq::http::Request::builder().method(request.method.as_str()).uri(request.url);
        for (name, value) in request.headers {
            builder = builder.header(*name, value.as_str());
        }
        // The error of `body()` can only come from a header or URL; its text never holds the value.
        let http_request = builder
            .body(request.body)
            .map_err(|e| Error::config("request", format!("not a valid HTTP request: {e}")))?;
        let mut response = self.agent.run(http_request).map_err(map_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter(|(n, _)| matches!(n.as_str(), "content-type" | "retry-after" | "x-api-credits-remaining"))
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let mut body =
            Vec::with_capacity(response.body().content_length().map_or(0, |n| n.min(self.max_body_bytes)) as usize);
        response
            .body_mut()
            .with_config()
            .limit(self.max_body_bytes)
            .reader()
            .read_to_end(&mut body)
            .map_err(|e| map_error(ureq::Error::from(e)))?;
        Ok(HttpResponse { status, headers, body })
    }
}

fn map_error(e: ureq::Error) -> Error {
    match e {
        ureq::Error::Timeout(which) => Error::Timeout { message: format!("{which} timeout elapsed") },
        ureq::Error::BodyExceedsLimit(n) => Error::Transport { message: format!("response body exceeds {n} bytes") },
        other => Error::Transport { message: other.to_string() },
    }
}
