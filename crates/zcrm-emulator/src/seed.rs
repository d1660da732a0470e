//! [`Seed`]: the emulator's initial state as JSON (see `seeds/default.json` for a complete example).
//!
//! ```json
//! {
//!   "modules": { "Contacts": { "external_fields": ["External_Contact_ID"],
//!                              "records": [ {"id": "111111000000085009", "External_Contact_ID": "extcontact3"} ] } },
//!   "related_lists": [ {"module": "Contacts", "api_name": "Deals", "related_module": "Deals",
//!                       "relation_fields": ["Contact_Role"]} ],
//!   "relations": [ {"module": "Contacts", "record": "111111000000085009", "related_list": "Deals",
//!                   "related": "111111000000094028", "fields": {"Contact_Role": "111111000000026002"}} ],
//!   "oauth_clients": [ {"client_id": "...", "client_secret": "...",
//!                       "refresh_tokens": [ {"token": "...", "scopes": ["ZohoCRM.modules.all"]} ]} ],
//!   "access_tokens": [ {"token": "...", "scopes": ["ZohoCRM.modules.all"], "expires_in": 3600} ]
//! }
//! ```
//!
//! Records without an `id` get a generated one. `related_module` defaults to the related list's name, `scopes`
//! to `["ZohoCRM.modules.all"]`. An access token without `expires_in` never expires (for curl sessions).
//!
//! For the records API a module may also give `"lookups": {"Account_Name": ["Accounts"], "What_Id": ["Accounts",
//! "Deals"]}` (its lookup fields and the modules they refer to) and `"duplicate_check_fields": ["Email"]` (what an
//! upsert checks before the external fields). Both are optional, so older seeds load unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The initial state of an emulator.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Modules by API name.
    #[serde(default)]
    pub modules: BTreeMap<String, SeedModule>,
    /// Related lists that accept PUT.
    #[serde(default)]
    pub related_lists: Vec<SeedRelatedList>,
    /// Existing relations.
    #[serde(default)]
    pub relations: Vec<SeedRelation>,
    /// OAuth clients and their refresh tokens.
    #[serde(default)]
    pub oauth_clients: Vec<SeedClient>,
    /// Ready access tokens.
    #[serde(default)]
    pub access_tokens: Vec<SeedAccessToken>,
}

/// A module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedModule {
    /// Its org-based external fields (values unique per field).
    #[serde(default)]
    pub external_fields: Vec<String>,
    /// Its records (field name -> value; `id` optional).
    #[serde(default)]
    pub records: Vec<Map<String, Value>>,
    /// `false` for modules the API does not support (answer `NOT_SUPPORTED`).
    #[serde(default = "yes")]
    pub api_supported: bool,
    /// `false` when the user's profile may not edit it (answer `NO_PERMISSION`).
    #[serde(default = "yes")]
    pub editable: bool,
    /// The first API version with this module (`v3` for Appointments and Services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_version: Option<String>,
    /// Lookup fields of its records: the path (`Account_Name`, or `Participants.participant` inside a subform)
    /// -> the module(s) it refers to (several for a multi-module lookup such as `What_Id`). The records API
    /// resolves lookups written as external references through them (see `record_lookups.rs`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lookups: BTreeMap<String, Vec<String>>,
    /// System-defined duplicate-check fields (e.g. `Email`), checked by an upsert before the unique fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicate_check_fields: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Like a module missing from JSON: supported and editable (as the serde defaults), no fields, no records.
impl Default for SeedModule {
    fn default() -> Self {
        SeedModule {
            external_fields: Vec::new(),
            records: Vec::new(),
            api_supported: true,
            editable: true,
            since_version: None,
            lookups: BTreeMap::new(),
            duplicate_check_fields: Vec::new(),
        }
    }
}

/// A related list of `module`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRelatedList {
    /// The base module.
    pub module: String,
    /// The related list's API name.
    pub api_name: String,
    /// The related module (default: `api_name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_module: Option<String>,
    /// Fields of the relation itself (e.g. `Contact_Role`).
    #[serde(default)]
    pub relation_fields: Vec<String>,
}

/// An existing relation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRelation {
    /// Base module.
    pub module: String,
    /// Base record id.
    pub record: String,
    /// Related list.
    pub related_list: String,
    /// Related record id.
    pub related: String,
    /// Relation fields.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// When the relation was last modified, ISO 8601 with a zone (for `If-Modified-Since`); the load time if
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_time: Option<String>,
}

/// An OAuth client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedClient {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Its refresh tokens.
    #[serde(default)]
    pub refresh_tokens: Vec<SeedRefreshToken>,
}

/// A refresh token and the scopes of the tokens it mints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRefreshToken {
    /// The token.
    pub token: String,
    /// Its scopes.
    #[serde(default = "all_scopes")]
    pub scopes: Vec<String>,
}

/// A ready access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAccessToken {
    /// The token.
    pub token: String,
    /// Its scopes.
    #[serde(default = "all_scopes")]
    pub scopes: Vec<String>,
    /// Seconds until it expires; never, if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
}

fn all_scopes() -> Vec<String> {
    vec!["ZohoCRM.modules.all".to_owned()]
}

/// The built-in default seed (`seeds/default.json`).
pub const DEFAULT_SEED_JSON: &str = include_str!("../seeds/default.json");

/// The records of the documented read and unlink samples (`seeds/related-samples.json`, spec §2.1, §2.2).
pub const RELATED_SAMPLES_SEED_JSON: &str = include_str!("../seeds/related-samples.json");

impl Seed {
    /// The state behind the documented samples of the read and unlink pages (spec §2.1, §2.2): contact
    /// `583472934` with the v7 list sample's deal, and `extcontact3` with deals `externaldeal3` (single-record
    /// sample) and `extdeal3` (`111111000000094040`, the delete sample's answer); the default OAuth client and the
    /// page's access token.
    pub fn related_samples() -> Seed {
        serde_json::from_str(RELATED_SAMPLES_SEED_JSON).expect("the samples seed is valid")
    }

    /// The built-in default: the seed page's example, the supported modules and related lists, one OAuth client
    /// (`1000.EMULATORCLIENTID` / `emulator-client-secret` / refresh token `1000.emulator.refresh.token`) and
    /// the page's access token.
    pub fn default_seed() -> Seed {
        serde_json::from_str(DEFAULT_SEED_JSON).expect("the built-in seed is valid")
    }

    /// Parses seed JSON.
    pub fn from_json(text: &str) -> Result<Seed, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid seed: {e}"))
    }

    /// Adds `count` records to `module` whose external field `field` is `{prefix}{n}` for n in `0..count`.
    pub fn add_records(&mut self, module: &str, field: &str, prefix: &str, count: usize) {
        let m = self.modules.entry(module.to_owned()).or_default();
        if !m.external_fields.iter().any(|f| f == field) {
            m.external_fields.push(field.to_owned());
        }
        m.records.reserve(count);
        for n in 0..count {
            let mut r = Map::new();
            r.insert(field.to_owned(), Value::String(format!("{prefix}{n}")));
            m.records.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_seed_has_the_page_example() {
        let s = Seed::default_seed();
        assert_eq!(s.modules["Contacts"].records[0]["External_Contact_ID"], "extcontact3");
        assert_eq!(s.modules["Deals"].records.len(), 2);
        assert!(s.access_tokens.iter().any(|t| t.token == "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf"));
    }
}
