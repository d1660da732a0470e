//! `Emulator`: the in-process Zoho CRM emulator (crate zcrm-emulator) for tests: real HTTP on 127.0.0.1, its
//! state, faults and counters. Its methods are quick and synchronous (they only touch in-memory state). After
//! `stop()`, every method throws an `Error` with code `ERR_INVALID_STATE` naming the method.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::{Map, Value};
use zcrm_emulator::{Emulator as Server, EmulatorConfig, EmulatorSettings, Fault};
use zcrm_extid::{Error, InvalidInput};

use crate::client::Client;
use crate::convert::{self, ClientConfig, CoreResult, count, details_for_js, json_for_js};
use crate::{errors, glue};

/// How `Emulator.start` configures the emulator (everything optional).
#[derive(Default)]
#[napi(object, object_to_js = false)]
pub struct EmulatorOptions {
    /// Latency added to every CRM API call, ms.
    pub latency_ms: Option<f64>,
    /// If set, the latency is uniform in `latencyMs..=latencyMaxMs`.
    pub latency_max_ms: Option<f64>,
    /// Concurrent CRM API calls allowed; one more is answered 429.
    pub concurrency: Option<f64>,
    /// The concurrency limit of a Zoho edition: `free`, `standard`, `professional`, `enterprise`, `ultimate`.
    #[napi(ts_type = "Edition")]
    pub edition: Option<String>,
    /// API credits per day (one per call); unlimited if absent.
    pub credits: Option<f64>,
    /// Lifetime of the access tokens it mints, seconds.
    pub token_lifetime_secs: Option<f64>,
    /// Tokens per refresh token per 10 minutes before the token endpoint answers `Access Denied`.
    pub token_throttle: Option<f64>,
    /// The initial state (see the emulator's seed format); the built-in default seed if absent.
    #[napi(ts_type = "Record<string, JsonValue>")]
    pub seed: Option<Value>,
}
known_keys!(EmulatorOptions {
    latency_ms,
    latency_max_ms,
    concurrency,
    edition,
    credits,
    token_lifetime_secs,
    token_throttle,
    seed,
});

/// Counters since start (or the last `reset()`).
#[napi(object, object_from_js = false)]
pub struct EmulatorStats {
    /// CRM API calls that passed authentication and the limits.
    pub api_calls: f64,
    /// Calls answered 429 for exceeding the concurrency limit.
    pub rejected_concurrency: f64,
    /// Calls answered 429 because the credits ran out.
    pub rejected_credits: f64,
    /// Access tokens minted by the token endpoint.
    pub tokens_issued: f64,
    /// Token-endpoint requests refused.
    pub token_errors: f64,
    /// Faults that struck.
    pub faults_injected: f64,
    /// The most CRM API calls ever in flight at once.
    pub max_in_flight: f64,
    /// Credits used.
    pub credits_used: f64,
}

/// One request the emulator received (the `Authorization` value redacted to its scheme).
#[napi(object, object_from_js = false)]
pub struct JournalEntry {
    /// Method.
    pub method: String,
    /// Path as sent (percent-encoded).
    pub path: String,
    /// Query string.
    pub query: String,
    /// Headers as `[lower-case name, value]`.
    #[napi(ts_type = "Array<[string, string]>")]
    pub headers: Vec<Vec<String>>,
    /// Body text.
    pub body: String,
    /// The status answered, or 0 if the connection was dropped.
    pub status: u32,
}

/// A record linked to another, with the relation's fields.
#[napi(object, object_from_js = false)]
pub struct RelatedRecord {
    /// The related record's id.
    pub id: String,
    /// The relation fields (e.g. `Contact_Role`).
    #[napi(ts_type = "Record<string, JsonValue>")]
    pub fields: Map<String, Value>,
}

/// The client options that reach the emulator with the default seed's OAuth client (refresh-token grant).
#[napi(object, object_from_js = false)]
pub struct EmulatorClientOptions {
    /// The default seed's OAuth client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// Its refresh token.
    pub refresh_token: String,
    /// The emulator's URL.
    pub base_url: String,
    /// The emulator's accounts URL.
    pub accounts_url: String,
}

/// A running emulator of Zoho CRM on `127.0.0.1` (a free port). Stops on `stop()` or when garbage-collected.
#[napi]
pub struct Emulator {
    inner: Option<Server>,
}

fn invalid(argument: &str, message: impl Into<String>) -> Error {
    Error::from(InvalidInput::new(argument, message))
}

impl Emulator {
    /// The running server, or the `ERR_INVALID_STATE` error of a stopped emulator's `method`.
    fn running(&self, env: &Env, method: &str) -> napi::Result<&Server> {
        self.inner.as_ref().ok_or_else(|| stopped(env, method))
    }
}

fn stopped(env: &Env, method: &str) -> napi::Error {
    let message = format!(
        "Emulator.{method}(): this emulator was stopped (stop() was called); start another with Emulator.start()"
    );
    let fields = serde_json::json!({ "code": "ERR_INVALID_STATE" });
    match env.to_js_value(&fields).and_then(|f| {
        glue::call::<FnArgs<(String, Unknown)>, Unknown>(env, "plainError", FnArgs::from((message.clone(), f)))
    }) {
        Ok(error) => napi::Error::from(error),
        Err(_) => napi::Error::new(Status::GenericFailure, message),
    }
}

fn config(options: EmulatorOptions) -> CoreResult<EmulatorConfig> {
    EmulatorSettings {
        latency_ms: count(options.latency_ms, "latency_ms")?,
        latency_max_ms: count(options.latency_max_ms, "latency_max_ms")?,
        concurrency: count(options.concurrency, "concurrency")?.map(|n| n as usize),
        edition: options.edition,
        credits: count(options.credits, "credits")?,
        token_lifetime_secs: count(options.token_lifetime_secs, "token_lifetime_secs")?,
        token_throttle: count(options.token_throttle, "token_throttle")?.map(|n| n as usize),
        seed: options.seed,
        ..EmulatorSettings::default()
    }
    .config()
}

#[napi]
impl Emulator {
    /// Starts an emulator (synchronously: binding a loopback port is immediate).
    #[napi(factory, ts_args_type = "options?: EmulatorOptions")]
    pub fn start(env: Env, options: Option<Unknown>) -> napi::Result<Emulator> {
        let start = || -> CoreResult<Server> {
            let options = match options {
                Some(o) if !matches!(o.get_type(), Ok(ValueType::Undefined | ValueType::Null)) => {
                    convert::options::<EmulatorOptions>(o, "options", &[])?
                }
                _ => EmulatorOptions::default(),
            };
            Server::start(config(options)?).map_err(|e| Error::transport(e.to_string()))
        };
        start().map(|e| Emulator { inner: Some(e) }).map_err(|e| errors::to_js(&env, &e))
    }

    /// `http://127.0.0.1:{port}`: the client's `baseUrl`.
    #[napi(getter)]
    pub fn base_url(&self, env: Env) -> napi::Result<String> {
        Ok(self.running(&env, "baseUrl")?.base_url().to_owned())
    }

    /// `{baseUrl}/accounts`: the client's `accountsUrl`.
    #[napi(getter)]
    pub fn accounts_url(&self, env: Env) -> napi::Result<String> {
        Ok(self.running(&env, "accountsUrl")?.accounts_url())
    }

    /// Options for `new Client(...)` wired to this emulator with the default seed's OAuth client.
    #[napi]
    pub fn client_options(&self, env: Env) -> napi::Result<EmulatorClientOptions> {
        let emu = self.running(&env, "clientOptions")?;
        let (id, secret, refresh) = Server::default_credentials();
        Ok(EmulatorClientOptions {
            client_id: id.into(),
            client_secret: secret.into(),
            refresh_token: refresh.into(),
            base_url: emu.base_url().into(),
            accounts_url: emu.accounts_url(),
        })
    }

    /// The whole state (modules, records, related lists, relations, stats) as JSON.
    #[napi(ts_return_type = "Record<string, JsonValue>")]
    pub fn state(&self, env: Env) -> napi::Result<Value> {
        Ok(json_for_js(self.running(&env, "state")?.state()))
    }

    /// Counters.
    #[napi]
    pub fn stats(&self, env: Env) -> napi::Result<EmulatorStats> {
        let s = self.running(&env, "stats")?.stats();
        Ok(EmulatorStats {
            api_calls: s.api_calls as f64,
            rejected_concurrency: s.rejected_concurrency as f64,
            rejected_credits: s.rejected_credits as f64,
            tokens_issued: s.tokens_issued as f64,
            token_errors: s.token_errors as f64,
            faults_injected: s.faults_injected as f64,
            max_in_flight: s.max_in_flight as f64,
            credits_used: s.credits_used as f64,
        })
    }

    /// The requests received, oldest first.
    #[napi]
    pub fn journal(&self, env: Env) -> napi::Result<Vec<JournalEntry>> {
        Ok(self
            .running(&env, "journal")?
            .journal()
            .into_iter()
            .map(|e| JournalEntry {
                method: e.method,
                path: e.path,
                query: e.query,
                headers: e.headers.into_iter().map(|(n, v)| vec![n, v]).collect(),
                body: e.body,
                status: e.status.into(),
            })
            .collect())
    }

    /// Empties the journal.
    #[napi]
    pub fn clear_journal(&self, env: Env) -> napi::Result<()> {
        self.running(&env, "clearJournal")?.clear_journal();
        Ok(())
    }

    /// Queues a fault, in the emulator's fault JSON, e.g. `{ kind: 'status', status: 502, count: 3 }`,
    /// `{ kind: 'drop' }`, `{ kind: 'latency', ms: 300 }` (`target`, `count`, `forever`, `probability`, `phase`).
    #[napi(ts_args_type = "fault: Record<string, JsonValue>")]
    pub fn push_fault(&self, env: Env, fault: Value) -> napi::Result<()> {
        let emu = self.running(&env, "pushFault")?;
        let fault = serde_json::from_value::<Fault>(fault)
            .map_err(|e| errors::to_js(&env, &invalid("fault", e.to_string())))?;
        emu.push_fault(fault);
        Ok(())
    }

    /// Removes every queued fault.
    #[napi]
    pub fn clear_faults(&self, env: Env) -> napi::Result<()> {
        self.running(&env, "clearFaults")?.clear_faults();
        Ok(())
    }

    /// Expires every access token now.
    #[napi]
    pub fn expire_tokens(&self, env: Env) -> napi::Result<()> {
        self.running(&env, "expireTokens")?.expire_tokens();
        Ok(())
    }

    /// Back to the seed: state, faults, journal and counters.
    #[napi]
    pub fn reset(&self, env: Env) -> napi::Result<()> {
        self.running(&env, "reset")?.reset();
        Ok(())
    }

    /// Adds records to `module` (all or nothing); returns their ids.
    #[napi(ts_args_type = "module: string, records: Array<Record<string, JsonValue>>")]
    pub fn insert_records(
        &self,
        env: Env,
        module: String,
        records: Vec<Map<String, Value>>,
    ) -> napi::Result<Vec<String>> {
        let records = records
            .into_iter()
            .map(|r| match convert::json_from_js(Value::Object(r)) {
                Value::Object(m) => m,
                _ => Map::new(),
            })
            .collect();
        self.running(&env, "insertRecords")?
            .insert_records(&module, records)
            .map_err(|e| errors::to_js(&env, &invalid("records", e)))
    }

    /// The records of `relatedModule` linked to `module`'s record `recordId`, with the relation fields.
    #[napi]
    pub fn related(
        &self,
        env: Env,
        module: String,
        record_id: String,
        related_module: String,
    ) -> napi::Result<Vec<RelatedRecord>> {
        Ok(self
            .running(&env, "related")?
            .related(&module, &record_id, &related_module)
            .into_iter()
            .map(|(id, fields)| RelatedRecord { id, fields: details_for_js(&fields) })
            .collect())
    }

    /// The id of `module`'s record whose external field `field` holds `value`, or `null`.
    #[napi]
    pub fn find_external(
        &self,
        env: Env,
        module: String,
        field: String,
        value: String,
    ) -> napi::Result<Option<String>> {
        Ok(self.running(&env, "findExternal")?.find_external(&module, &field, &value))
    }

    /// Adds a ready access token with `scopes` (e.g. `['ZohoCRM.modules.leads.ALL']`), expiring after
    /// `expiresIn` seconds (never if absent).
    #[napi]
    pub fn add_access_token(
        &self,
        env: Env,
        token: String,
        scopes: Vec<String>,
        expires_in: Option<f64>,
    ) -> napi::Result<()> {
        let emu = self.running(&env, "addAccessToken")?;
        let expires = count(expires_in, "expires_in").map_err(|e| errors::to_js(&env, &e))?;
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        emu.add_access_token(&token, &scopes, expires.map(Duration::from_secs));
        Ok(())
    }

    /// A `Client` wired to this emulator with the default seed's OAuth client (refresh-token grant);
    /// `overrides` (settings: `apiVersion`, `maxRetries`, `readTimeoutMs`, ...) win.
    #[napi(ts_args_type = "overrides?: ClientConfig")]
    pub fn client(&self, env: Env, overrides: Option<Unknown>) -> napi::Result<Client> {
        let emu = self.running(&env, "client")?;
        let (id, secret, refresh) = Server::default_credentials();
        let build = || -> CoreResult<zcrm_extid::Client> {
            let mut settings = zcrm_extid::settings::ClientSettings {
                client_id: Some(id.into()),
                client_secret: Some(secret.into()),
                refresh_token: Some(refresh.into()),
                base_url: Some(emu.base_url().into()),
                accounts_url: Some(emu.accounts_url()),
                ..Default::default()
            };
            if let Some(o) = overrides.filter(|o| !matches!(o.get_type(), Ok(ValueType::Undefined | ValueType::Null))) {
                convert::apply_config(&mut settings, convert::options::<ClientConfig>(o, "overrides", &[])?)?;
            }
            settings.build()
        };
        build().map(|inner| Client { inner }).map_err(|e| errors::to_js(&env, &e))
    }

    /// Revokes a refresh token (refreshing then answers `invalid_code`); false if it was unknown.
    #[napi]
    pub fn revoke_refresh_token(&self, env: Env, token: String) -> napi::Result<bool> {
        Ok(self.running(&env, "revokeRefreshToken")?.revoke_refresh_token(&token))
    }

    /// Adds a refresh token with `scopes` for a (new or existing) OAuth client.
    #[napi]
    pub fn add_refresh_token(
        &self,
        env: Env,
        client_id: String,
        client_secret: String,
        token: String,
        scopes: Vec<String>,
    ) -> napi::Result<()> {
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        self.running(&env, "addRefreshToken")?.add_refresh_token(&client_id, &client_secret, &token, &scopes);
        Ok(())
    }

    /// Stops the server (idempotent); other methods then throw `ERR_INVALID_STATE`.
    #[napi]
    pub fn stop(&mut self) {
        self.inner = None;
    }
}
