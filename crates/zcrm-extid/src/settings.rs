//! Plain-data descriptions of a client, a request and a bulk job, filled field by field from Python keyword
//! arguments, a JS options object, CLI flags or the environment. Every default, parse and check happens here,
//! once, so the bindings only move values across.

use std::time::Duration;

use serde_json::Value;

use crate::auth::Credentials;
use crate::bulk::{BulkOptions, BulkSpec, RowMapping, SUB_CONCURRENCY};
use crate::call::Call;
use crate::client::Client;
use crate::config::{ApiVersion, BaseUrl, DataCenter, Environment};
use crate::error::{Error, InvalidInput, Result};
use crate::proxy::ProxyConfig;
use crate::redact::redact_url;
use crate::related::{Parent, UpdateRelated};
use crate::request::PreparedRequest;
use crate::secret::Secret;

/// Everything a client can be configured with, as optional plain values.
///
/// ```
/// use zcrm_extid::settings::ClientSettings;
/// let client = ClientSettings {
///     access_token: Some("1000.x".into()),
///     data_center: Some("eu".into()),
///     api_version: Some("v8".into()),
///     ..Default::default()
/// }.build()?;
/// assert_eq!(client.base_url().as_str(), "https://www.zohoapis.eu");
/// let e = ClientSettings { client_id: Some("id".into()), ..Default::default() }.build().unwrap_err();
/// assert!(e.to_string().contains("client_secret"));
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ClientSettings {
    /// A ready access token (excludes the three refresh-grant settings).
    pub access_token: Option<String>,
    /// OAuth client id (with `client_secret` and `refresh_token`).
    pub client_id: Option<String>,
    /// OAuth client secret.
    pub client_secret: Option<String>,
    /// OAuth refresh token.
    pub refresh_token: Option<String>,
    /// `us`, `eu`, `in`, `au`, `jp`, `cn`, `ca`, `sa` (default `us`).
    pub data_center: Option<String>,
    /// `production`, `sandbox`, `developer` (default `production`).
    pub environment: Option<String>,
    /// `v2` ... `v8` (default `v5`).
    pub api_version: Option<String>,
    /// Base URL override (emulator, proxy).
    pub base_url: Option<String>,
    /// Accounts URL override.
    pub accounts_url: Option<String>,
    /// Connect timeout.
    pub connect_timeout: Option<Duration>,
    /// Response timeout.
    pub read_timeout: Option<Duration>,
    /// Retries of transient failures.
    pub max_retries: Option<u32>,
    /// `none`, `env` (default: `HTTPS_PROXY` / `ALL_PROXY` with `NO_PROXY`) or a proxy URL
    /// (`http://user:password@proxy:3128`); loopback is never proxied (see [`crate::proxy`]).
    pub proxy: Option<String>,
    /// A shared budget on Redis, `redis://[:password@]host:port/db` or `rediss://...` (see [`crate::budget`]):
    /// one token cache, concurrency limit and credit count for every process working on the org.
    pub budget: Option<String>,
    /// The budget's key prefix naming the org (default: a hash of the client id and the data centre).
    pub budget_prefix: Option<String>,
    /// `fail` (default) or `local`: what the budget does when Redis fails (see
    /// [`crate::budget::OnRedisError`]).
    pub on_redis_error: Option<String>,
    /// The org's concurrency limit the budget enforces (default 10).
    pub budget_concurrency: Option<usize>,
    /// The budget's lease time (default 10 s): a killed process frees its slots within it.
    pub budget_lease_ttl: Option<Duration>,
    /// The org's daily credit allowance, if known (for a reserve in percent, and credits left before Zoho reports
    /// them).
    pub daily_credits: Option<u64>,
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |o: &Option<String>| if o.is_some() { "***" } else { "-" };
        f.debug_struct("ClientSettings")
            .field("access_token", &set(&self.access_token))
            .field("client_id", &self.client_id)
            .field("client_secret", &set(&self.client_secret))
            .field("refresh_token", &set(&self.refresh_token))
            .field("data_center", &self.data_center)
            .field("environment", &self.environment)
            .field("api_version", &self.api_version)
            .field("base_url", &self.base_url.as_deref().map(redact_url))
            .field("accounts_url", &self.accounts_url.as_deref().map(redact_url))
            .field("proxy", &self.proxy.as_deref().map(redact_url))
            .field("budget", &self.budget.as_deref().map(redact_url))
            .field("budget_prefix", &self.budget_prefix)
            .finish_non_exhaustive()
    }
}

impl ClientSettings {
    /// Settings from `ZOHO_ACCESS_TOKEN`, or `ZOHO_CLIENT_ID` + `ZOHO_CLIENT_SECRET` + `ZOHO_REFRESH_TOKEN`, and
    /// `ZOHO_DC`, `ZOHO_ENVIRONMENT`, `ZOHO_API_VERSION`, `ZOHO_BASE_URL`, `ZOHO_ACCOUNTS_URL`, `ZOHO_PROXY`;
    /// `ZCRM_BUDGET` (a Redis URL) and `ZCRM_BUDGET_PREFIX` for a shared budget.
    pub fn from_env() -> ClientSettings {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Like [`Self::from_env`], reading variables through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> ClientSettings {
        ClientSettings {
            access_token: get("ZOHO_ACCESS_TOKEN"),
            client_id: get("ZOHO_CLIENT_ID"),
            client_secret: get("ZOHO_CLIENT_SECRET"),
            refresh_token: get("ZOHO_REFRESH_TOKEN"),
            data_center: get("ZOHO_DC"),
            environment: get("ZOHO_ENVIRONMENT"),
            api_version: get("ZOHO_API_VERSION"),
            base_url: get("ZOHO_BASE_URL"),
            accounts_url: get("ZOHO_ACCOUNTS_URL"),
            proxy: get("ZOHO_PROXY"),
            budget: get("ZCRM_BUDGET"),
            budget_prefix: get("ZCRM_BUDGET_PREFIX"),
            ..ClientSettings::default()
        }
    }

    /// Whether any credential is set.
    pub fn has_credentials(&self) -> bool {
        self.access_token.is_some()
            || self.client_id.is_some()
            || self.client_secret.is_some()
            || self.refresh_token.is_some()
    }

    /// The credentials these settings describe.
    pub fn credentials(&self) -> Result<Credentials> {
        let refresh = [
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("refresh_token", &self.refresh_token),
        ];
        let any_refresh = refresh.iter().any(|(_, v)| v.is_some());
        match (&self.access_token, any_refresh) {
            (Some(_), true) => Err(Error::config(
                "credentials",
                "give either access_token, or client_id + client_secret + refresh_token, not both",
            )),
            (Some(t), false) => Ok(Credentials::access_token(t.clone())),
            (None, true) => {
                let missing: Vec<&str> = refresh.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| *k).collect();
                if !missing.is_empty() {
                    return Err(Error::config(
                        "credentials",
                        format!("the refresh-token grant also needs {}", missing.join(" and ")),
                    ));
                }
                let v = |o: &Option<String>| o.clone().expect("checked");
                Ok(Credentials::refresh_token(v(&self.client_id), v(&self.client_secret), v(&self.refresh_token)))
            }
            (None, false) => {
                Err(Error::config("credentials", "set access_token, or client_id + client_secret + refresh_token"))
            }
        }
    }

    /// Where calls would go and with which version, without credentials (for dry runs): the base URL if set,
    /// else the data centre's domain for the environment.
    pub fn target(&self) -> Result<(BaseUrl, ApiVersion)> {
        let version = self.api_version.as_deref().map(str::parse).transpose()?.unwrap_or_default();
        let base = match &self.base_url {
            Some(u) => BaseUrl::parse(u)?,
            None => {
                let dc: DataCenter = self.data_center.as_deref().map(str::parse).transpose()?.unwrap_or_default();
                let env: Environment = self.environment.as_deref().map(str::parse).transpose()?.unwrap_or_default();
                dc.api_domain(env)
            }
        };
        Ok((base, version))
    }

    /// The HTTP request `call` becomes for these settings, offline (no client, no token fetch, no I/O), as the
    /// bindings' `prepare_update_related` functions show it: the call's version rules are checked; with
    /// `access_token` set, the token is validated as the client would and attached (shown redacted); the request
    /// goes to the base URL if set, else to the data centre's domain for the environment.
    ///
    /// ```
    /// use zcrm_extid::settings::ClientSettings;
    /// use zcrm_extid::{Parent, UpdateRelated};
    /// let call = UpdateRelated::builder("Contacts", Parent::id("1")?, "Deals").record(serde_json::json!({"id": "2"})).build()?;
    /// let eu = ClientSettings { data_center: Some("eu".into()), access_token: Some("1000.t".into()), ..Default::default() };
    /// let request = eu.prepare(&call)?;
    /// assert_eq!(request.url(), "https://www.zohoapis.eu/crm/v5/Contacts/1/Deals");
    /// assert!(request.to_curl().contains("Zoho-oauthtoken ***") && !request.to_curl().contains("1000.t"));
    /// let bad = ClientSettings { access_token: Some("bad token".into()), ..Default::default() };
    /// assert_eq!(bad.prepare(&call).unwrap_err().setting(), Some("access_token"));
    /// # Ok::<(), zcrm_extid::Error>(())
    /// ```
    pub fn prepare<C: Call + ?Sized>(&self, call: &C) -> Result<PreparedRequest> {
        if let Some(token) = &self.access_token {
            Credentials::access_token(token.clone()).validate()?;
        }
        let (base, version) = self.target()?;
        call.check(version)?;
        let request = call.prepare(&base, version);
        Ok(match &self.access_token {
            Some(token) => request.with_token(Secret::new(token.clone())),
            None => request,
        })
    }

    /// Builds the client.
    pub fn build(&self) -> Result<Client> {
        self.builder()?.build()
    }

    /// The client's builder with these settings, for what plain data cannot carry (an event listener).
    pub fn builder(&self) -> Result<crate::ClientBuilder> {
        let mut b = Client::builder().credentials(self.credentials()?);
        if let Some(dc) = &self.data_center {
            b = b.data_center(dc.parse::<DataCenter>()?);
        }
        if let Some(env) = &self.environment {
            b = b.environment(env.parse::<Environment>()?);
        }
        if let Some(v) = &self.api_version {
            b = b.api_version(v.parse::<ApiVersion>()?);
        }
        if let Some(u) = &self.base_url {
            b = b.base_url(u.clone());
        }
        if let Some(u) = &self.accounts_url {
            b = b.accounts_url(u.clone());
        }
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        if let Some(t) = self.read_timeout {
            b = b.read_timeout(t);
        }
        if let Some(n) = self.max_retries {
            b = b.max_retries(n);
        }
        if let Some(p) = &self.proxy {
            b = b.proxy(ProxyConfig::parse(p)?);
        }
        if let Some(url) = &self.budget {
            b = self.with_budget(b, url)?;
        }
        Ok(b)
    }

    #[cfg(feature = "redis")]
    fn with_budget(&self, b: crate::client::ClientBuilder, url: &str) -> Result<crate::client::ClientBuilder> {
        let mut c = crate::budget::BudgetConfig::new(url);
        c.prefix = self.budget_prefix.clone();
        if let Some(mode) = &self.on_redis_error {
            c.on_redis_error = mode.parse()?;
        }
        if let Some(n) = self.budget_concurrency {
            c.concurrency = n;
            c.heavy_concurrency = n.min(SUB_CONCURRENCY);
        }
        if let Some(t) = self.budget_lease_ttl {
            c.lease_ttl = t;
        }
        c.daily_credits = self.daily_credits;
        Ok(b.budget(c))
    }

    #[cfg(not(feature = "redis"))]
    fn with_budget(&self, _: crate::client::ClientBuilder, _: &str) -> Result<crate::client::ClientBuilder> {
        Err(Error::config("budget", "this build of zcrm-extid has no Redis support (cargo feature `redis`)"))
    }
}

/// The values each enumerated setting accepts (in their canonical spelling): `data_center`, `environment`,
/// `api_version`, `edition`. The bindings' `Literal` / union types list the same values; their tests compare.
///
/// ```
/// let choices = zcrm_extid::settings::choices();
/// assert_eq!(choices[0], ("data_center", vec!["us", "eu", "in", "au", "jp", "cn", "ca", "sa"]));
/// ```
pub fn choices() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("data_center", DataCenter::ALL.iter().map(|d| d.as_str()).collect()),
        ("environment", Environment::ALL.iter().map(|e| e.as_str()).collect()),
        ("api_version", ApiVersion::ALL.iter().map(|v| v.as_str()).collect()),
        ("edition", Edition::ALL.iter().map(|e| e.as_str()).collect()),
    ]
}

/// A parent reference as plain data: a record id, or an external field and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParentRef {
    /// A record id (digits).
    Id(String),
    /// The base module's external field and its value.
    External {
        /// Field.
        field: String,
        /// Value.
        value: String,
    },
}

impl ParentRef {
    /// The validated [`Parent`].
    pub fn to_parent(&self) -> Result<Parent, InvalidInput> {
        match self {
            ParentRef::Id(id) => Parent::id(id.clone()),
            ParentRef::External { field, value } => Parent::external(field.clone(), value.clone()),
        }
    }
}

/// An "update related records" call as plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRelatedSpec {
    /// Base module.
    pub module: String,
    /// Parent record.
    pub parent: ParentRef,
    /// Related list.
    pub related_list: String,
    /// Related module, if not the related list's name.
    pub related_module: Option<String>,
    /// The related module's external field keying the records; `None` = keyed by `id`.
    pub related_field: Option<String>,
    /// The records.
    pub records: Vec<Value>,
}

impl UpdateRelatedSpec {
    /// The validated request.
    pub fn build(self) -> Result<UpdateRelated, InvalidInput> {
        let mut b =
            UpdateRelated::builder(self.module, self.parent.to_parent()?, self.related_list).records(self.records);
        if let Some(m) = self.related_module {
            b = b.related_module(m);
        }
        if let Some(f) = self.related_field {
            b = b.related_by_external(f);
        }
        b.build()
    }
}

/// How rows map onto a bulk job, as plain data (see [`RowMapping`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappingSettings {
    /// `Module.Field` of the parent, e.g. `Contacts.External_Contact_ID` (`Contacts.id` for record ids).
    pub parent: String,
    /// `Module.Field` of the related records, e.g. `Deals.External_Deal_ID` (`Deals.id` for record ids).
    pub related: String,
    /// The related list, if not the related module's name.
    pub related_list: Option<String>,
    /// Column of the parent (default: the parent's field name).
    pub parent_column: Option<String>,
    /// Column of the related key (default: the related field name).
    pub related_column: Option<String>,
    /// Relation fields as `(API name, column)`; `None`: none (other columns are ignored, see `extra`).
    pub fields: Option<Vec<(String, String)>>,
    /// `"ignore"` (default) or `"error"`: what to do with columns that are not mapped.
    pub extra: Option<String>,
}

impl MappingSettings {
    /// The job's spec and the validated mapping.
    pub fn build(&self) -> Result<(BulkSpec, RowMapping), InvalidInput> {
        let (spec, mut mapping) = RowMapping::parse(&self.parent, &self.related, self.related_list.as_deref())?;
        if let Some(c) = &self.parent_column {
            mapping = mapping.with_parent_column(c.clone());
        }
        if let Some(c) = &self.related_column {
            mapping = mapping.with_related_column(c.clone());
        }
        if let Some(f) = &self.fields {
            mapping = mapping.with_fields(f.clone())?;
        }
        if let Some(e) = &self.extra {
            mapping = mapping.with_extra(e.parse()?);
        }
        mapping.validate()?;
        Ok((spec, mapping))
    }
}

/// A bulk job's tuning as plain data; every unset value takes [`BulkOptions::default`]'s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkSettings {
    /// Most calls on the wire (default: 10, or with `edition` the edition's limit, capped at the sub-concurrency
    /// of 10 when calls carry more than 10 records).
    pub concurrency: Option<usize>,
    /// Edition name (`free` ... `ultimate`) whose concurrency limit applies when `concurrency` is not given.
    pub edition: Option<String>,
    /// Records per call (default 100).
    pub batch_size: Option<usize>,
    /// Rows buffered for grouping (default 10,000).
    pub window: Option<usize>,
    /// Adaptive concurrency (default true).
    pub adaptive: Option<bool>,
    /// Least time between progress reports.
    pub progress_interval: Option<Duration>,
    /// Credits to leave to the org's other integrations: a number (`500`) or a share of the day's allowance
    /// (`10%`); needs a shared budget (see [`BulkOptions::reserve`]).
    pub reserve: Option<String>,
}

impl BulkSettings {
    /// The options, checked.
    pub fn options(&self) -> Result<BulkOptions> {
        let defaults = BulkOptions::default();
        let batch_size = self.batch_size.unwrap_or(defaults.batch_size);
        let concurrency = match (self.concurrency, &self.edition) {
            (Some(c), _) => c,
            (None, Some(e)) => {
                let limit = e.parse::<Edition>()?.concurrency();
                if batch_size > 10 { limit.min(SUB_CONCURRENCY) } else { limit }
            }
            (None, None) => defaults.concurrency,
        };
        let options = BulkOptions {
            concurrency,
            batch_size,
            window: self.window.unwrap_or(defaults.window.max(batch_size)),
            adaptive: self.adaptive.unwrap_or(defaults.adaptive),
            progress_interval: self.progress_interval.unwrap_or(defaults.progress_interval),
            reserve: self.reserve.as_deref().map(str::parse).transpose()?,
            ..defaults
        };
        options.validate()?;
        Ok(options)
    }
}

/// A Zoho CRM edition and its concurrency limit (spec §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Edition {
    /// 5 concurrent calls.
    Free,
    /// 10.
    Standard,
    /// 15.
    Professional,
    /// 20 (external fields exist only in Enterprise and Ultimate).
    #[default]
    Enterprise,
    /// 25.
    Ultimate,
}

impl Edition {
    /// Every edition, smallest first.
    pub const ALL: [Edition; 5] =
        [Edition::Free, Edition::Standard, Edition::Professional, Edition::Enterprise, Edition::Ultimate];

    /// `free`, `standard`, `professional`, `enterprise` or `ultimate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Edition::Free => "free",
            Edition::Standard => "standard",
            Edition::Professional => "professional",
            Edition::Enterprise => "enterprise",
            Edition::Ultimate => "ultimate",
        }
    }

    /// Concurrent API calls allowed per org and app.
    pub fn concurrency(self) -> usize {
        match self {
            Edition::Free => 5,
            Edition::Standard => 10,
            Edition::Professional => 15,
            Edition::Enterprise => 20,
            Edition::Ultimate => 25,
        }
    }
}

impl std::str::FromStr for Edition {
    type Err = Error;
    fn from_str(s: &str) -> Result<Edition> {
        match s.trim().to_ascii_lowercase().as_str() {
            "free" => Ok(Edition::Free),
            "standard" | "starter" => Ok(Edition::Standard),
            "professional" => Ok(Edition::Professional),
            "enterprise" | "zoho_one" => Ok(Edition::Enterprise),
            "ultimate" | "crm_plus" => Ok(Edition::Ultimate),
            _ => Err(Error::config(
                "edition",
                format!("unknown edition {s:?}; expected free, standard, professional, enterprise or ultimate"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_rules() {
        let s = |a: Option<&str>, id: Option<&str>, sec: Option<&str>, rt: Option<&str>| ClientSettings {
            access_token: a.map(Into::into),
            client_id: id.map(Into::into),
            client_secret: sec.map(Into::into),
            refresh_token: rt.map(Into::into),
            ..Default::default()
        };
        assert!(s(Some("t"), None, None, None).credentials().is_ok());
        assert!(s(None, Some("i"), Some("s"), Some("r")).credentials().is_ok());
        assert!(s(Some("t"), Some("i"), None, None).credentials().unwrap_err().to_string().contains("not both"));
        assert!(s(None, Some("i"), None, Some("r")).credentials().unwrap_err().to_string().contains("client_secret"));
        assert!(s(None, None, None, None).credentials().is_err());
        assert!(!format!("{:?}", s(Some("tok-secret"), None, None, None)).contains("tok-secret"));
        let urls = ClientSettings {
            base_url: Some("https://u:base-pw@h?token=q-secret".into()),
            proxy: Some("http://u:proxy-pw@p:1".into()),
            ..Default::default()
        };
        let d = format!("{urls:?}");
        assert!(!d.contains("base-pw") && !d.contains("q-secret") && !d.contains("proxy-pw"), "{d}");
    }

    #[test]
    fn proxy_setting() {
        let with =
            |p: &str| ClientSettings { access_token: Some("t".into()), proxy: Some(p.into()), ..Default::default() };
        assert!(with("none").build().is_ok() && with("http://p:3128").build().is_ok());
        let e = with("socks5://u:pw@p:1").build().unwrap_err();
        assert_eq!(e.setting(), Some("proxy"));
        assert!(!e.to_string().contains("pw@"), "{e}");
        let env = ClientSettings::from_lookup(|k| (k == "ZOHO_PROXY").then(|| "none".to_owned()));
        assert_eq!(env.proxy.as_deref(), Some("none"));
    }

    #[test]
    fn target_without_credentials() {
        let s = ClientSettings { data_center: Some("au".into()), api_version: Some("v8".into()), ..Default::default() };
        let (base, v) = s.target().unwrap();
        assert_eq!((base.as_str(), v), ("https://www.zohoapis.com.au", ApiVersion::V8));
    }

    #[test]
    fn env_and_parse_errors() {
        let env = |k: &str| match k {
            "ZOHO_ACCESS_TOKEN" => Some("t".to_owned()),
            "ZOHO_DC" => Some("mars".to_owned()),
            _ => None,
        };
        let e = ClientSettings::from_lookup(env).build().unwrap_err();
        assert!(matches!(e, Error::InvalidConfig { ref setting, .. } if setting == "data_center"), "{e}");
    }

    #[test]
    fn edition_sets_concurrency_capped_by_sub_concurrency() {
        let b = |edition: &str, batch: usize| {
            BulkSettings { edition: Some(edition.into()), batch_size: Some(batch), ..Default::default() }
                .options()
                .unwrap()
                .concurrency
        };
        assert_eq!((b("free", 100), b("ultimate", 100), b("ultimate", 10)), (5, 10, 25));
        let bad = BulkSettings { batch_size: Some(101), ..Default::default() }.options().unwrap_err();
        assert!(bad.to_string().contains("batch_size"));
    }

    #[test]
    fn mapping_settings_apply_columns_before_checking() {
        let m = MappingSettings { parent: "Contacts.id".into(), related: "Deals.id".into(), ..Default::default() };
        assert_eq!(m.build().unwrap_err().argument, "parent_column");
        let named = MappingSettings { parent_column: Some("contact".into()), ..m };
        let (spec, _) = named.build().unwrap();
        assert_eq!(spec.key(), &crate::RelatedKey::Id);
    }
}
