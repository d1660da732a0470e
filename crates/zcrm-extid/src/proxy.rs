//! Proxies: which requests go through one, and which never do.
//!
//! * **Loopback never goes through a proxy**, whatever is configured: a request to `127.0.0.0/8`, `::1` or
//!   `localhost` (the emulator, a local gateway) may be plain `http`, and a proxy would see its token, client
//!   secret and refresh token in clear text.
//! * Every other request is `https` ([`crate::BaseUrl`] refuses `http` off loopback), and through a proxy it is a
//!   `CONNECT` tunnel: TLS runs end to end between the client and Zoho, the proxy sees the host and port only.
//! * **A proxy is used only where it is configured** ([`ProxyConfig`]):
//!   - [`ProxyConfig::Env`], the default, as curl and most HTTP clients do: `https_proxy` / `HTTPS_PROXY`, else
//!     `all_proxy` / `ALL_PROXY` (lower case first, empty = unset), read when the client is built, with
//!     `no_proxy` / `NO_PROXY` honoured. `http_proxy` / `HTTP_PROXY` is not read: it is for `http://` targets,
//!     and this client sends `http` only to loopback.
//!   - [`ProxyConfig::Url`]: this proxy for every host but loopback (`NO_PROXY` is not read).
//!   - [`ProxyConfig::None`]: never a proxy.
//! * A proxy URL is `http://` or `https://` (the `CONNECT` kinds), with an optional `user:password@` (sent to the
//!   proxy only, as `Proxy-Authorization: Basic`); a URL without a scheme is `http://`. SOCKS proxies are refused
//!   with an error rather than ignored: this build cannot tunnel through them, and going direct instead would
//!   bypass a proxy the user relies on.
//! * `NO_PROXY`: entries separated by `,` (spaces ignored); `*` matches every host; otherwise an entry matches
//!   the host itself and its subdomains (`example.com`, `.example.com` and `*.example.com` alike),
//!   case-insensitively. Ports and CIDR ranges are not interpreted (such entries match no host name).
//! * The proxy shows in `Debug` (of the transport and the client) as `http://***@proxy:3128 (from HTTPS_PROXY)`:
//!   never its credentials.

use std::fmt;

use crate::config::{host_of, is_loopback};
use crate::error::{Error, Result};
use crate::redact::redact_url;
use crate::secret::Secret;

/// Where the proxy setting comes from (see the module docs). Default: [`ProxyConfig::Env`].
///
/// ```
/// use zcrm_extid::proxy::ProxyConfig;
/// assert_eq!(ProxyConfig::parse("none")?, ProxyConfig::None);
/// assert_eq!(ProxyConfig::parse("env")?, ProxyConfig::Env);
/// let explicit = ProxyConfig::parse("http://user:pa55@proxy.corp:3128")?;
/// assert_eq!(format!("{explicit:?}"), "Url(http://***@proxy.corp:3128)");
/// assert!(ProxyConfig::parse("socks5://proxy:1080").is_err());
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProxyConfig {
    /// Never use a proxy.
    None,
    /// `https_proxy`/`HTTPS_PROXY`, else `all_proxy`/`ALL_PROXY`, with `no_proxy`/`NO_PROXY` (default).
    #[default]
    Env,
    /// This proxy, for every host but loopback.
    Url(ProxyUrl),
}

impl ProxyConfig {
    /// `none` (or `off`, `direct`), `env` (or `system`), or a proxy URL; errors name the setting `proxy`.
    pub fn parse(text: &str) -> Result<ProxyConfig> {
        match text.trim().to_ascii_lowercase().as_str() {
            "none" | "off" | "direct" => Ok(ProxyConfig::None),
            "env" | "system" => Ok(ProxyConfig::Env),
            _ => ProxyUrl::parse_as(text, "proxy").map(ProxyConfig::Url),
        }
    }

    /// The proxy to use, reading the process environment for [`ProxyConfig::Env`].
    pub fn resolve(&self) -> Result<Option<ResolvedProxy>> {
        self.resolve_with(|k| std::env::var(k).ok())
    }

    /// Like [`Self::resolve`], reading variables through `get` (empty values count as unset). An unusable proxy
    /// variable is an error naming the variable.
    ///
    /// ```
    /// use zcrm_extid::proxy::ProxyConfig;
    /// let env = |k: &str| match k {
    ///     "HTTPS_PROXY" => Some("proxy.corp:3128".to_owned()),
    ///     "NO_PROXY" => Some(".internal, zohoapis.eu".to_owned()),
    ///     _ => None,
    /// };
    /// let p = ProxyConfig::Env.resolve_with(env)?.unwrap();
    /// assert_eq!(p.to_string(), "http://proxy.corp:3128 (from HTTPS_PROXY; 2 NO_PROXY entries)");
    /// assert!(p.applies_to("www.zohoapis.com"));
    /// assert!(!p.applies_to("www.zohoapis.eu"));   // NO_PROXY
    /// assert!(!p.applies_to("127.0.0.1"));          // loopback, always direct
    /// # Ok::<(), zcrm_extid::Error>(())
    /// ```
    pub fn resolve_with(&self, get: impl Fn(&str) -> Option<String>) -> Result<Option<ResolvedProxy>> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        match self {
            ProxyConfig::None => Ok(None),
            ProxyConfig::Url(url) => {
                Ok(Some(ResolvedProxy { url: url.clone(), source: "option".into(), no_proxy: NoProxy::default() }))
            }
            ProxyConfig::Env => {
                let found = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
                    .into_iter()
                    .find_map(|name| get(name).map(|v| (name, v)));
                let Some((name, value)) = found else { return Ok(None) };
                let url = ProxyUrl::parse_as(&value, name)?;
                let no_proxy =
                    get("no_proxy").or_else(|| get("NO_PROXY")).map(|v| NoProxy::parse(&v)).unwrap_or_default();
                Ok(Some(ResolvedProxy { url, source: name.into(), no_proxy }))
            }
        }
    }
}

/// A validated `CONNECT` proxy URL. `Debug` and `Display` show `***@` in place of credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    https: bool,
    /// The host as it goes into a URI (`[::1]` for IPv6).
    host: String,
    port: u16,
    username: Option<Secret>,
    password: Option<Secret>,
}

impl ProxyUrl {
    /// Validates `text` (see the module docs); errors name `setting` and quote the URL redacted.
    pub fn parse_as(text: &str, setting: &str) -> Result<ProxyUrl> {
        let bad = |why: &str| Error::config(setting, format!("{:?} {why}", redact_url(text)));
        let text = text.trim();
        let (scheme, rest) = match text.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => ("http".to_owned(), text),
        };
        let https = match scheme.as_str() {
            "http" => false,
            "https" => true,
            s if s.starts_with("socks") => {
                return Err(bad("is a SOCKS proxy, which is not supported: use an http(s) CONNECT proxy, or set the \
                                proxy to \"none\""));
            }
            _ => return Err(bad("must be an http:// or https:// proxy")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must be scheme://[user:password@]host[:port], without a path or query"));
        }
        let (userinfo, authority) = match rest.rsplit_once('@') {
            Some((u, a)) => (Some(u), a),
            None => (None, rest),
        };
        let host = host_of(authority).ok_or_else(|| bad("has no valid host"))?;
        let port = match authority.strip_prefix(&format!("[{host}]")).unwrap_or(&authority[host.len()..]) {
            "" => {
                if https {
                    443
                } else {
                    80
                }
            }
            p => p.strip_prefix(':').and_then(|p| p.parse().ok()).ok_or_else(|| bad("has an invalid port"))?,
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|v| Secret::new(v.into_owned()))
                .map_err(|_| bad("has credentials that are not valid percent-encoded UTF-8"))
        };
        let (username, password) = match userinfo.map(|u| u.split_once(':').unwrap_or((u, ""))) {
            Some((u, p)) => (Some(decode(u)?), if p.is_empty() { None } else { Some(decode(p)?) }),
            None => (None, None),
        };
        let host = if host.contains(':') { format!("[{host}]") } else { host.to_owned() };
        Ok(ProxyUrl { https, host, port, username, password })
    }

    /// Whether the proxy itself is reached over TLS.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The proxy host (`[...]` around an IPv6 address).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The user name for `Proxy-Authorization`, if any. **Exposes a credential**: for the wire only.
    pub fn username(&self) -> Option<&str> {
        self.username.as_ref().map(Secret::expose)
    }

    /// The password for `Proxy-Authorization`, if any. **Exposes a credential**: for the wire only.
    pub fn password(&self) -> Option<&str> {
        self.password.as_ref().map(Secret::expose)
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        let creds = if self.username.is_some() || self.password.is_some() { "***@" } else { "" };
        write!(f, "{scheme}://{creds}{}:{}", self.host, self.port)
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `NO_PROXY` entries (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NoProxy(Vec<String>);

impl NoProxy {
    /// Parses a `NO_PROXY` value.
    pub fn parse(value: &str) -> NoProxy {
        NoProxy(
            value
                .split([',', ' '])
                .map(|e| e.trim().trim_start_matches("*.").trim_start_matches('.').to_ascii_lowercase())
                .map(|e| e.trim_start_matches('[').trim_end_matches(']').to_owned())
                .filter(|e| !e.is_empty())
                .collect(),
        )
    }

    /// Whether `host` is exempt from the proxy.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
        self.0.iter().any(|e| {
            e == "*"
                || host == *e
                || (host.len() > e.len() && host.ends_with(e.as_str()) && host[..host.len() - e.len()].ends_with('.'))
        })
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The proxy a transport uses, where it came from, and the hosts exempt from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedProxy {
    /// The proxy.
    pub url: ProxyUrl,
    /// `option`, or the environment variable it came from (`HTTPS_PROXY`, ...).
    pub source: String,
    /// Hosts that bypass it (from `NO_PROXY`).
    pub no_proxy: NoProxy,
}

impl ResolvedProxy {
    /// Whether a request to `host` goes through the proxy: never for loopback or a `NO_PROXY` host.
    pub fn applies_to(&self, host: &str) -> bool {
        !is_loopback(host.trim_start_matches('[').trim_end_matches(']')) && !self.no_proxy.matches(host)
    }
}

impl fmt::Display for ResolvedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {}", self.url, self.source)?;
        if !self.no_proxy.is_empty() {
            write!(f, "; {} NO_PROXY entries", self.no_proxy.len())?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        let p = ProxyUrl::parse_as("HTTP://us%40r:p%3Ass@[::1]:8080/", "proxy").unwrap();
        assert_eq!((p.host(), p.port(), p.username(), p.password()), ("[::1]", 8080, Some("us@r"), Some("p:ss")));
        assert_eq!(p.to_string(), "http://***@[::1]:8080");
        let q = ProxyUrl::parse_as("https://proxy.corp", "proxy").unwrap();
        assert_eq!((q.is_https(), q.port(), q.username()), (true, 443, None));
        assert_eq!(ProxyUrl::parse_as("proxy.corp:3128", "proxy").unwrap().to_string(), "http://proxy.corp:3128");
        for bad in ["ftp://p", "socks5h://p:1", "http://p/x", "http://p?q=1", "http://", "http://p:99999", "http://a b"]
        {
            assert!(ProxyUrl::parse_as(bad, "proxy").is_err(), "{bad}");
        }
        let e = ProxyUrl::parse_as("socks5://admin:hunter2@p:1080", "ALL_PROXY").unwrap_err();
        assert!(e.to_string().contains("ALL_PROXY") && !e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn env_precedence_and_no_proxy() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
        };
        let r = ProxyConfig::Env.resolve_with(env(&[("ALL_PROXY", "http://all:1"), ("HTTPS_PROXY", "http://s:2")]));
        assert_eq!(r.unwrap().unwrap().url.host(), "s");
        let r = ProxyConfig::Env.resolve_with(env(&[("HTTP_PROXY", "http://h:1"), ("https_proxy", "")]));
        assert_eq!(r.unwrap(), None, "HTTP_PROXY is for http targets, which only go to loopback");
        let r = ProxyConfig::Env.resolve_with(env(&[("ALL_PROXY", "socks5://s:1")]));
        assert!(matches!(r, Err(Error::InvalidConfig { ref setting, .. }) if setting == "ALL_PROXY"));
        assert_eq!(ProxyConfig::None.resolve_with(env(&[("HTTPS_PROXY", "http://s:2")])).unwrap(), None);
        let np = NoProxy::parse("*.corp.example, .zohoapis.eu,localhost , [::1],10.0.0.0/8");
        assert!(np.matches("a.corp.example") && np.matches("corp.example") && np.matches("WWW.ZOHOAPIS.EU"));
        assert!(!np.matches("evilcorp.example") && !np.matches("www.zohoapis.com") && !np.matches("10.1.2.3"));
        assert!(NoProxy::parse("*").matches("anything"));
    }

    #[test]
    fn loopback_is_never_proxied() {
        let r = ProxyConfig::parse("http://p:1").unwrap().resolve().unwrap().unwrap();
        for host in ["127.0.0.1", "127.5.6.7", "localhost", "LOCALHOST", "::1", "[::1]"] {
            assert!(!r.applies_to(host), "{host}");
        }
        assert!(r.applies_to("www.zohoapis.com") && r.applies_to("127.0.0.1.nip.io"));
    }
}
