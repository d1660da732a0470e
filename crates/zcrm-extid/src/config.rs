//! Where requests go: [`DataCenter`] x [`Environment`] -> API domain and accounts URL, [`ApiVersion`], and
//! [`BaseUrl`] overrides for the emulator and proxies.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::redact::redact_url;

/// One of Zoho's data centres (spec §6). An org lives in exactly one; its tokens work only there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DataCenter {
    /// United States: `zohoapis.com`, `accounts.zoho.com`.
    #[default]
    Us,
    /// Europe: `zohoapis.eu`.
    Eu,
    /// India: `zohoapis.in`.
    In,
    /// Australia: `zohoapis.com.au`.
    Au,
    /// Japan: `zohoapis.jp`.
    Jp,
    /// China: `zohoapis.com.cn`.
    Cn,
    /// Canada: `zohoapis.ca`, accounts at `accounts.zohocloud.ca`.
    Ca,
    /// Saudi Arabia: `zohoapis.sa`.
    Sa,
}

impl DataCenter {
    /// All data centres.
    pub const ALL: [DataCenter; 8] = [
        DataCenter::Us,
        DataCenter::Eu,
        DataCenter::In,
        DataCenter::Au,
        DataCenter::Jp,
        DataCenter::Cn,
        DataCenter::Ca,
        DataCenter::Sa,
    ];

    /// The top-level domain of the data centre's hosts: `com`, `eu`, `com.au`, ...
    pub fn domain_suffix(self) -> &'static str {
        match self {
            DataCenter::Us => "com",
            DataCenter::Eu => "eu",
            DataCenter::In => "in",
            DataCenter::Au => "com.au",
            DataCenter::Jp => "jp",
            DataCenter::Cn => "com.cn",
            DataCenter::Ca => "ca",
            DataCenter::Sa => "sa",
        }
    }

    /// The accounts server, e.g. `https://accounts.zoho.eu` (Canada: `https://accounts.zohocloud.ca`).
    pub fn accounts_url(self) -> BaseUrl {
        let url = match self {
            DataCenter::Ca => "https://accounts.zohocloud.ca".to_owned(),
            dc => format!("https://accounts.zoho.{}", dc.domain_suffix()),
        };
        BaseUrl(url)
    }

    /// The CRM API domain of `environment`, e.g. `https://sandbox.zohoapis.eu`.
    ///
    /// ```
    /// use zcrm_extid::{DataCenter, Environment};
    /// assert_eq!(DataCenter::Us.api_domain(Environment::Production).as_str(), "https://www.zohoapis.com");
    /// assert_eq!(DataCenter::Au.api_domain(Environment::Sandbox).as_str(), "https://sandbox.zohoapis.com.au");
    /// assert_eq!(DataCenter::Ca.accounts_url().as_str(), "https://accounts.zohocloud.ca");
    /// ```
    pub fn api_domain(self, environment: Environment) -> BaseUrl {
        BaseUrl(format!("https://{}.zohoapis.{}", environment.host_label(), self.domain_suffix()))
    }

    /// The short name: `us`, `eu`, `in`, `au`, `jp`, `cn`, `ca`, `sa`.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCenter::Us => "us",
            DataCenter::Eu => "eu",
            DataCenter::In => "in",
            DataCenter::Au => "au",
            DataCenter::Jp => "jp",
            DataCenter::Cn => "cn",
            DataCenter::Ca => "ca",
            DataCenter::Sa => "sa",
        }
    }
}

impl FromStr for DataCenter {
    type Err = Error;
    /// Case-insensitive short name (`eu`, `EU`); `com` is accepted for the US.
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        if lower == "com" {
            return Ok(DataCenter::Us);
        }
        DataCenter::ALL.into_iter().find(|dc| dc.as_str() == lower).ok_or_else(|| {
            Error::config(
                "data_center",
                format!("unknown data centre {s:?}; expected one of us, eu, in, au, jp, cn, ca, sa"),
            )
        })
    }
}

impl fmt::Display for DataCenter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Production, sandbox or developer org (spec §6). A refresh token belongs to one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Environment {
    /// `www.zohoapis.*`.
    #[default]
    Production,
    /// `sandbox.zohoapis.*`.
    Sandbox,
    /// `developer.zohoapis.*`.
    Developer,
}

impl Environment {
    /// Every environment.
    pub const ALL: [Environment; 3] = [Environment::Production, Environment::Sandbox, Environment::Developer];

    fn host_label(self) -> &'static str {
        match self {
            Environment::Production => "www",
            Environment::Sandbox => "sandbox",
            Environment::Developer => "developer",
        }
    }

    /// `production`, `sandbox` or `developer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
            Environment::Developer => "developer",
        }
    }
}

impl FromStr for Environment {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "production" | "prod" => Ok(Environment::Production),
            "sandbox" => Ok(Environment::Sandbox),
            "developer" | "dev" => Ok(Environment::Developer),
            _ => Err(Error::config(
                "environment",
                format!("unknown environment {s:?}; expected production, sandbox or developer"),
            )),
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The REST API version in the path, `/crm/{version}/`. Default: v5, the version of the seed page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum ApiVersion {
    /// `v2`.
    V2,
    /// `v2.1`.
    V2_1,
    /// `v3`.
    V3,
    /// `v4`.
    V4,
    /// `v5` (default).
    #[default]
    V5,
    /// `v6`.
    V6,
    /// `v7`.
    V7,
    /// `v8`.
    V8,
}

impl ApiVersion {
    /// Every version, oldest first.
    pub const ALL: [ApiVersion; 8] = [
        ApiVersion::V2,
        ApiVersion::V2_1,
        ApiVersion::V3,
        ApiVersion::V4,
        ApiVersion::V5,
        ApiVersion::V6,
        ApiVersion::V7,
        ApiVersion::V8,
    ];

    /// The path segment: `v2.1`, `v5`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2 => "v2",
            ApiVersion::V2_1 => "v2.1",
            ApiVersion::V3 => "v3",
            ApiVersion::V4 => "v4",
            ApiVersion::V5 => "v5",
            ApiVersion::V6 => "v6",
            ApiVersion::V7 => "v7",
            ApiVersion::V8 => "v8",
        }
    }
}

impl FromStr for ApiVersion {
    type Err = Error;
    /// `v5`, `5`, `v2.1`, `2.1`.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        let t = t.strip_prefix('v').or_else(|| t.strip_prefix('V')).unwrap_or(t);
        ApiVersion::ALL.into_iter().find(|v| &v.as_str()[1..] == t).ok_or_else(|| {
            Error::config("api_version", format!("unknown API version {s:?}; expected v2, v2.1, v3 ... v8"))
        })
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated origin (plus optional path prefix) such as `https://www.zohoapis.eu` or `http://127.0.0.1:8123`.
///
/// Rules: scheme `https`, or `http` only for a loopback host (`127.0.0.0/8`, `::1`, `localhost`), so a token can
/// never travel in clear text off the machine; no query, fragment or credentials; a trailing `/` is dropped.
///
/// ```
/// use zcrm_extid::BaseUrl;
/// assert!(BaseUrl::parse("http://127.0.0.1:8080/").is_ok());
/// assert!(BaseUrl::parse("https://proxy.example.com/zoho").is_ok());
/// assert!(BaseUrl::parse("http://proxy.example.com").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Validates `url` (see the type's docs).
    pub fn parse(url: &str) -> Result<BaseUrl> {
        Self::parse_as(url, "base_url")
    }

    /// Like [`Self::parse`], naming `setting` in an error.
    pub fn parse_as(url: &str, setting: &str) -> Result<BaseUrl> {
        // The URL is quoted redacted: it may hold credentials or a token in its userinfo or query.
        let bad = |why: &str| Error::config(setting, format!("{:?} {why}", redact_url(url)));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("is not an absolute URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        if rest.contains(['?', '#', '@']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must not contain a query, fragment, credentials or whitespace"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let host = host_of(authority).ok_or_else(|| bad("has no valid host"))?;
        match scheme.as_str() {
            "https" => {}
            "http" if is_loopback(host) => {}
            "http" => return Err(bad("uses http off loopback; use https (tokens must not travel in clear text)")),
            _ => return Err(bad("must use https (or http on loopback)")),
        }
        Ok(BaseUrl(format!("{scheme}://{authority}{path}")))
    }

    /// The URL text, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host (without port).
    pub fn host(&self) -> &str {
        let rest = self.0.split_once("://").map_or("", |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or("");
        host_of(authority).unwrap_or("")
    }

    /// Whether this is a Zoho CRM API domain (`https://{label}.zohoapis.{dc}`), the only kind of `api_domain` from
    /// a token reply the client will follow.
    pub fn is_zohoapis(&self) -> bool {
        let host = self.host().to_ascii_lowercase();
        self.0.starts_with("https://")
            && DataCenter::ALL.iter().any(|dc| {
                host.strip_suffix(&format!(".zohoapis.{}", dc.domain_suffix())).is_some_and(|label| {
                    !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
            })
    }
}

impl BaseUrl {
    /// The data centre and environment of a Zoho API domain: `https://sandbox.zohoapis.eu` is
    /// `(Eu, Some(Sandbox))`; a label other than `www`, `sandbox` or `developer` gives `None` for the
    /// environment. `None` if this is not a Zoho API domain ([`Self::is_zohoapis`]).
    ///
    /// ```
    /// use zcrm_extid::{BaseUrl, DataCenter, Environment};
    /// let d = BaseUrl::parse("https://sandbox.zohoapis.com.au")?;
    /// assert_eq!(d.zoho_location(), Some((DataCenter::Au, Some(Environment::Sandbox))));
    /// assert_eq!(BaseUrl::parse("http://127.0.0.1:1")?.zoho_location(), None);
    /// # Ok::<(), zcrm_extid::Error>(())
    /// ```
    pub fn zoho_location(&self) -> Option<(DataCenter, Option<Environment>)> {
        if !self.is_zohoapis() {
            return None;
        }
        let host = self.host().to_ascii_lowercase();
        // The longest suffix first: `com.au` before `com`... is not needed (the label has no dot), but be exact.
        DataCenter::ALL.into_iter().find_map(|dc| {
            let label = host.strip_suffix(&format!(".zohoapis.{}", dc.domain_suffix()))?;
            if label.contains('.') {
                return None;
            }
            let env = [Environment::Production, Environment::Sandbox, Environment::Developer]
                .into_iter()
                .find(|e| e.host_label() == label);
            Some((dc, env))
        })
    }
}

/// Whether `host` is one of Zoho's: a CRM API domain (`{label}.zohoapis.{dc}`) or an accounts server
/// (`accounts.zoho.{dc}`, `accounts.zohocloud.ca`).
pub(crate) fn is_zoho_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "accounts.zohocloud.ca"
        || DataCenter::ALL.iter().any(|dc| {
            let suffix = dc.domain_suffix();
            host == format!("accounts.zoho.{suffix}")
                || host.strip_suffix(&format!(".zohoapis.{suffix}")).is_some_and(|label| {
                    !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        })
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for BaseUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        BaseUrl::parse(s)
    }
}

/// The host of `host[:port]` or `[v6]:port`, if well-formed.
pub(crate) fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        (&rest[..end], rest[end + 1..].strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if let Some(p) = port {
        p.parse::<u16>().ok()?;
    }
    let ok = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b));
    ok.then_some(host)
}

/// `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dc_and_environment() {
        let expect = [
            (DataCenter::Us, "https://accounts.zoho.com", "https://www.zohoapis.com"),
            (DataCenter::Eu, "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
            (DataCenter::In, "https://accounts.zoho.in", "https://www.zohoapis.in"),
            (DataCenter::Au, "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
            (DataCenter::Jp, "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
            (DataCenter::Cn, "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
            (DataCenter::Ca, "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
            (DataCenter::Sa, "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
        ];
        for (dc, accounts, api) in expect {
            assert_eq!(dc.accounts_url().as_str(), accounts);
            assert_eq!(dc.api_domain(Environment::Production).as_str(), api);
            assert_eq!(dc.api_domain(Environment::Developer).as_str(), api.replace("www.", "developer."));
            assert_eq!(dc.as_str().parse::<DataCenter>().unwrap(), dc);
            assert!(dc.api_domain(Environment::Sandbox).is_zohoapis());
            assert!(!dc.accounts_url().is_zohoapis());
        }
    }

    #[test]
    fn versions_parse_and_print() {
        assert_eq!(ApiVersion::default(), ApiVersion::V5);
        assert_eq!("v2.1".parse::<ApiVersion>().unwrap(), ApiVersion::V2_1);
        assert_eq!("8".parse::<ApiVersion>().unwrap(), ApiVersion::V8);
        assert!("v9".parse::<ApiVersion>().is_err());
        assert!("v2.".parse::<ApiVersion>().is_err());
    }

    #[test]
    fn base_url_rules() {
        for ok in
            ["https://www.zohoapis.com", "http://127.0.0.1:1", "http://[::1]:80/", "http://localhost", "https://h/p/"]
        {
            assert!(BaseUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "www.zohoapis.com",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "https://h?x=1",
            "https://u:p@h",
            "https://h:99999",
            "https://",
            "http://127.0.0.1.evil.com",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
        // A rejected URL is quoted without its credentials or query values.
        for (bad, secret) in [("https://admin:hunter2@h", "hunter2"), ("https://h/x?token=1000.abc", "1000.abc")] {
            let e = BaseUrl::parse(bad).unwrap_err().to_string();
            assert!(!e.contains(secret) && e.contains("***"), "{e}");
        }
        assert_eq!(BaseUrl::parse("HTTP://127.0.0.1:5/x/").unwrap().as_str(), "http://127.0.0.1:5/x");
    }

    #[test]
    fn only_zohoapis_hosts_count_as_api_domains() {
        assert!(BaseUrl::parse("https://www.zohoapis.com").unwrap().is_zohoapis());
        assert!(BaseUrl::parse("https://www.zohoapis.com.au").unwrap().is_zohoapis());
        for no in [
            "https://api.zoho.eu",
            "https://zohoapis.com",
            "https://www.zohoapis.com.evil.io",
            "http://127.0.0.1:9",
            "https://evil.com/.zohoapis.com",
        ] {
            assert!(!BaseUrl::parse(no).unwrap().is_zohoapis(), "{no}");
            assert_eq!(BaseUrl::parse(no).unwrap().zoho_location(), None, "{no}");
        }
        for dc in DataCenter::ALL {
            for env in [Environment::Production, Environment::Sandbox, Environment::Developer] {
                assert_eq!(dc.api_domain(env).zoho_location(), Some((dc, Some(env))));
            }
            assert!(is_zoho_host(dc.accounts_url().host()) && is_zoho_host(dc.api_domain(Environment::Sandbox).host()));
        }
        assert_eq!(BaseUrl::parse("https://crm.zohoapis.eu").unwrap().zoho_location(), Some((DataCenter::Eu, None)));
        for no in ["accounts.zoho.com.evil.io", "zohoapis.com", "evil.com", "accounts.zoho.org", "127.0.0.1"] {
            assert!(!is_zoho_host(no), "{no}");
        }
    }
}
