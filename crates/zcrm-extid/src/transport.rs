//! HTTP: the [`Transport`] seam and its [`UreqTransport`] implementation. The only module that uses `ureq`.
//!
//! The transport moves bytes and reports the raw status, headers and body; it never interprets a status as an
//! error (`http_status_as_error(false)`), because Zoho's error bodies carry the code and details. One
//! [`ureq::Agent`] holds the keep-alive pool, shared by every clone of a [`crate::Client`].
//!
//! Proxies ([`crate::proxy`]): ureq's own detection of proxy variables is off. A second agent, built only when a
//! proxy is configured, carries the requests the proxy applies to (never loopback, never a `NO_PROXY` host), as
//! a `CONNECT` tunnel; every other request goes direct.
//!
//! [`TransportConfig::route_zoho_to_for_tests`] is a test-only redirection of Zoho's hosts to a local emulator
//! (see there); it is off unless set.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::config::{BaseUrl, host_of, is_loopback, is_zoho_host};
use crate::error::{Error, Result};
use crate::proxy::{ProxyConfig, ResolvedProxy};
use crate::redact::redact_url;
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
    /// Which proxy, if any (default: [`ProxyConfig::Env`]; loopback is never proxied, see [`crate::proxy`]).
    pub proxy: ProxyConfig,
    /// **Tests only; `None` by default.** Sends every request for a Zoho host (`*.zohoapis.*`, `accounts.zoho.*`,
    /// `accounts.zohocloud.ca`) to this loopback URL instead, with the original host in the `Host` header, and
    /// refuses every other non-loopback host, so a test can exercise the client's choice of Zoho host (the
    /// `api_domain` of a token reply, the data centre's defaults) against the emulator without anything leaving
    /// the machine. Only a loopback URL is accepted.
    pub route_zoho_to_for_tests: Option<BaseUrl>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            max_idle_per_host: 32,
            max_body_bytes: 16 << 20,
            proxy: ProxyConfig::Env,
            route_zoho_to_for_tests: None,
        }
    }
}

/// The blocking HTTP/1.1 transport on [`ureq`] with rustls, a keep-alive pool, and per-request timeouts.
pub struct UreqTransport {
    direct: ureq::Agent,
    proxied: Option<(ureq::Agent, ResolvedProxy)>,
    /// A proxy configuration that could not be used: every request fails with it (nothing is sent).
    unusable: Option<Error>,
    route: Option<BaseUrl>,
    max_body_bytes: u64,
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = match (&self.proxied, &self.unusable) {
            (Some((_, p)), _) => p.to_string(),
            (None, Some(_)) => "unusable (see the error)".to_owned(),
            (None, None) => "none".to_owned(),
        };
        let mut d = f.debug_struct("UreqTransport");
        d.field("proxy", &proxy);
        if let Some(r) = &self.route {
            d.field("route_zoho_to_for_tests", &r.as_str());
        }
        d.finish_non_exhaustive()
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
    /// A transport with `config`. A proxy setting that cannot be used (an invalid `HTTPS_PROXY`, a SOCKS proxy)
    /// or a test route that is not loopback makes every request fail with that error, before anything is sent;
    /// [`Self::try_new`] reports it at once.
    pub fn new(config: &TransportConfig) -> Self {
        match Self::try_new(config) {
            Ok(t) => t,
            Err(e) => UreqTransport {
                direct: agent(config, None),
                proxied: None,
                unusable: Some(e),
                route: None,
                max_body_bytes: config.max_body_bytes,
            },
        }
    }

    /// A transport with `config`, or the error that makes its proxy or test route unusable.
    pub fn try_new(config: &TransportConfig) -> Result<Self> {
        let proxy = config.proxy.resolve()?;
        if let Some(r) = &config.route_zoho_to_for_tests
            && !is_loopback(r.host())
        {
            return Err(Error::config(
                "route_zoho_to_for_tests",
                format!("{:?} is not a loopback URL", redact_url(r.as_str())),
            ));
        }
        let proxied = match proxy {
            Some(p) => {
                let mut b = ureq::Proxy::builder(if p.url.is_https() {
                    ureq::ProxyProtocol::Https
                } else {
                    ureq::ProxyProtocol::Http
                })
                .host(p.url.host())
                .port(p.url.port());
                if let Some(u) = p.url.username() {
                    b = b.username(u);
                }
                if let Some(pw) = p.url.password() {
                    b = b.password(pw);
                }
                let built =
                    b.build().map_err(|_| Error::config(&p.source, format!("{} is not a usable proxy", p.url)))?;
                Some((agent(config, Some(built)), p))
            }
            None => None,
        };
        Ok(UreqTransport {
            direct: agent(config, None),
            proxied,
            unusable: None,
            route: config.route_zoho_to_for_tests.clone(),
            max_body_bytes: config.max_body_bytes,
        })
    }

    /// The proxy requests to non-loopback hosts go through, if any.
    pub fn proxy(&self) -> Option<&ResolvedProxy> {
        self.proxied.as_ref().map(|(_, p)| p)
    }
}

/// An agent with `config`'s timeouts and pool, and exactly `proxy` (ureq's own reading of proxy variables is
/// replaced by [`crate::proxy`]).
fn agent(config: &TransportConfig, proxy: Option<ureq::Proxy>) -> ureq::Agent {
    let agent_config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(proxy)
        .timeout_connect(Some(config.connect_timeout))
        .timeout_per_call(Some(config.read_timeout))
        .max_idle_connections(config.max_idle_per_host.max(1) * 4)
        .max_idle_connections_per_host(config.max_idle_per_host.max(1))
        .max_idle_age(Duration::from_secs(50))
        .user_agent(concat!("zcrm-extid/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::with_parts(agent_config, DefaultConnector::default(), CachingResolver::default())
}

/// The scheme and host of an absolute URL (host without port or brackets).
fn scheme_and_host(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some((scheme, host_of(authority)?))
}

impl Transport for UreqTransport {
    fn send(&self, request: HttpRequest<'_>) -> Result<HttpResponse> {
        if let Some(e) = &self.unusable {
            return Err(e.clone());
        }
        let (scheme, host) = scheme_and_host(request.url)
            .ok_or_else(|| Error::transport(format!("not an absolute URL: {:?}", redact_url(request.url))))?;
        let mut url = std::borrow::Cow::Borrowed(request.url);
        let mut host_header = None;
        if let Some(route) = &self.route
            && !is_loopback(host)
        {
            if !(scheme.eq_ignore_ascii_case("https") && is_zoho_host(host)) {
                return Err(Error::config(
                    "route_zoho_to_for_tests",
                    format!(
                        "refused {:?}: with the test route set, only Zoho hosts and loopback are reachable",
                        redact_url(request.url)
                    ),
                ));
            }
            let rest = &request.url[scheme.len() + 3..];
            let path = rest.find(['/', '?']).map_or("", |i| &rest[i..]);
            host_header = Some(rest[..rest.len() - path.len()].to_owned());
            url = std::borrow::Cow::Owned(format!("{}{path}", route.as_str()));
        }
        let agent = match &self.proxied {
            Some((proxied, p)) if host_header.is_none() && p.applies_to(host) => proxied,
            _ => &self.direct,
        };
        let mut builder = ureq::http::Request::builder().method(request.method.as_str()).uri(url.as_ref());
        if let Some(h) = &host_header {
            builder = builder.header("Host", h.as_str());
        }
        for (name, value) in request.headers {
            builder = builder.header(*name, value.as_str());
        }
        // The error of `body()` can only come from a header or URL; its text never holds the value.
        let http_request = builder
            .body(request.body)
            .map_err(|e| Error::config("request", format!("not a valid HTTP request: {e}")))?;
        let mut response = agent.run(http_request).map_err(map_error)?;
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

/// ureq's error as the core's: the I/O error underneath is kept as the source (its kind says refused, reset,
/// ...); any other ureq error (TLS, DNS, protocol) is kept as an [`std::io::Error`] wrapping it, so that no
/// ureq type appears in the public API while its chain of causes is still there to read.
fn map_error(e: ureq::Error) -> Error {
    match e {
        ureq::Error::Timeout(which) => Error::timeout(format!("{which} timeout elapsed")),
        ureq::Error::BodyExceedsLimit(n) => Error::transport(format!("response body exceeds {n} bytes")),
        ureq::Error::Io(io) => Error::transport_from(io.to_string(), io),
        other => Error::transport_from(other.to_string(), std::io::Error::other(other)),
    }
}
