//! `Emulator`: the Rust `zcrm-emulator` started in-process (a real HTTP server on 127.0.0.1, no subprocess),
//! steered and inspected from Python. `zcrm_extid.testing` re-exports it with a pytest fixture.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use serde_json::{Map, Value};
use zcrm_emulator::{Emulator as CoreEmulator, EmulatorSettings, Fault};

use crate::client::Client;
use crate::convert;
use crate::errors::to_py_err;
use crate::results::py_repr;

/// A local, stateful Zoho CRM (API, OAuth token endpoint, faults) on `127.0.0.1` with a free port.
///
/// Starts seeded with the example of Zoho's "Update Related Records Using External ID" page (or `seed`, the
/// emulator's seed JSON as a dict). Options left as `None` take the emulator's defaults (no latency, the
/// Enterprise edition's concurrency, unlimited credits, one-hour tokens). A context manager: `with
/// Emulator() as emu:` stops it on exit (so does `stop()`, or dropping the last reference).
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct Emulator {
    inner: Mutex<Option<Arc<CoreEmulator>>>,
}

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn json_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    convert::to_json(obj).map_err(|why| value_error(format!("{what}: {why}")))
}

fn to_py_any(py: Python<'_>, json: serde_json::Result<Value>) -> PyResult<Py<PyAny>> {
    let json = json.map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(convert::to_py(py, &json)?.unbind())
}

impl Emulator {
    fn get(&self) -> PyResult<Arc<CoreEmulator>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone().ok_or_else(|| {
            PyRuntimeError::new_err("this emulator was stopped (stop() was called); start another with Emulator()")
        })
    }
}

#[pymethods]
impl Emulator {
    #[new]
    #[pyo3(signature = (
        *, latency_ms=None, latency_max_ms=None, concurrency=None, edition=None, credits=None,
        token_lifetime=None, token_throttle=None, seed=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        latency_ms: Option<u64>,
        latency_max_ms: Option<u64>,
        concurrency: Option<usize>,
        edition: Option<String>,
        credits: Option<u64>,
        token_lifetime: Option<u64>,
        token_throttle: Option<usize>,
        seed: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let config = EmulatorSettings {
            latency_ms,
            latency_max_ms,
            concurrency,
            edition,
            credits,
            token_lifetime_secs: token_lifetime,
            token_throttle,
            seed: seed.map(|s| json_arg(s, "seed")).transpose()?,
            ..EmulatorSettings::default()
        }
        .config()
        .map_err(|e| to_py_err(py, e))?;
        let emulator = py.detach(|| CoreEmulator::start(config)).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(Emulator { inner: Mutex::new(Some(Arc::new(emulator))) })
    }

    /// The CRM API base URL, e.g. `http://127.0.0.1:41234`.
    #[getter]
    fn base_url(&self) -> PyResult<String> {
        Ok(self.get()?.base_url().to_owned())
    }

    /// The accounts (OAuth) URL.
    #[getter]
    fn accounts_url(&self) -> PyResult<String> {
        Ok(self.get()?.accounts_url())
    }

    /// A `Client` wired to this emulator with the default seed's OAuth client (refresh-token grant). Keyword
    /// arguments override `Client` settings; with `access_token`, the refresh-token grant is left out.
    #[pyo3(signature = (**overrides))]
    fn client(&self, py: Python<'_>, overrides: Option<&Bound<'_, PyDict>>) -> PyResult<Py<Client>> {
        let emu = self.get()?;
        let kwargs = PyDict::new(py);
        let with_token = match overrides {
            Some(o) => o.get_item("access_token")?.is_some_and(|t| !t.is_none()),
            None => false,
        };
        if !with_token {
            let (id, secret, refresh) = CoreEmulator::default_credentials();
            kwargs.set_item("client_id", id)?;
            kwargs.set_item("client_secret", secret)?;
            kwargs.set_item("refresh_token", refresh)?;
        }
        kwargs.set_item("base_url", emu.base_url())?;
        kwargs.set_item("accounts_url", emu.accounts_url())?;
        if let Some(o) = overrides {
            kwargs.update(o.as_mapping())?;
        }
        py.get_type::<Client>().call((), Some(&kwargs))?.cast_into::<Client>().map(Bound::unbind).map_err(Into::into)
    }

    /// The settings `client()` uses, as a dict of `Client` keyword arguments (the default seed's OAuth client,
    /// the emulator's URLs): `Client(**emu.client_options())`.
    fn client_options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let emu = self.get()?;
        let (id, secret, refresh) = CoreEmulator::default_credentials();
        let kwargs = PyDict::new(py);
        kwargs.set_item("client_id", id)?;
        kwargs.set_item("client_secret", secret)?;
        kwargs.set_item("refresh_token", refresh)?;
        kwargs.set_item("base_url", emu.base_url())?;
        kwargs.set_item("accounts_url", emu.accounts_url())?;
        Ok(kwargs)
    }

    /// The whole state (modules, records, related lists, relations, stats) as a dict.
    fn state(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let emu = self.get()?;
        let state = py.detach(|| emu.state());
        Ok(convert::to_py(py, &state)?.unbind())
    }

    /// Counters since start or the last `reset()`, as a dict.
    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let emu = self.get()?;
        let stats = py.detach(|| emu.stats());
        to_py_any(py, serde_json::to_value(stats))
    }

    /// The requests received, oldest first, as dicts (`method`, `path`, `query`, `headers` as `[name, value]`
    /// lists with lower-case names, `body`, `status`); `Authorization` values are redacted.
    fn journal(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let emu = self.get()?;
        let journal = py.detach(|| emu.journal());
        to_py_any(py, serde_json::to_value(journal))
    }

    /// Empties the journal.
    fn clear_journal(&self, py: Python<'_>) -> PyResult<()> {
        let emu = self.get()?;
        py.detach(|| emu.clear_journal());
        Ok(())
    }

    /// Queues a fault, given as the emulator's fault JSON (a dict) or as keywords, e.g.
    /// `push_fault(kind="status", status=500, count=2)`, `push_fault(kind="drop", phase="after")`,
    /// `push_fault(kind="latency", ms=100, forever=True)`, `push_fault(kind="status", status=502,
    /// body="<html>", content_type="text/html", headers=[("Retry-After", "1")], target="token")`.
    #[pyo3(signature = (
        fault=None, *, kind=None, status=None, body=None, content_type=None, headers=None, count=None,
        forever=None, probability=None, phase=None, target=None, ms=None, max_ms=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn push_fault(
        &self,
        py: Python<'_>,
        fault: Option<&Bound<'_, PyAny>>,
        kind: Option<&Bound<'_, PyAny>>,
        status: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
        content_type: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        count: Option<&Bound<'_, PyAny>>,
        forever: Option<&Bound<'_, PyAny>>,
        probability: Option<&Bound<'_, PyAny>>,
        phase: Option<&Bound<'_, PyAny>>,
        target: Option<&Bound<'_, PyAny>>,
        ms: Option<&Bound<'_, PyAny>>,
        max_ms: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let keywords = [
            ("kind", kind),
            ("status", status),
            ("body", body),
            ("content_type", content_type),
            ("headers", headers),
            ("count", count),
            ("forever", forever),
            ("probability", probability),
            ("phase", phase),
            ("target", target),
            ("ms", ms),
            ("max_ms", max_ms),
        ];
        let mut json = match fault {
            Some(f) => match json_arg(f, "fault")? {
                Value::Object(m) => m,
                other => return Err(value_error(format!("fault must be a dict, not {other}"))),
            },
            None => Map::new(),
        };
        for (name, value) in keywords {
            if let Some(v) = value.filter(|v| !v.is_none()) {
                json.insert(name.to_owned(), json_arg(v, name)?);
            }
        }
        let fault: Fault = serde_json::from_value(Value::Object(json)).map_err(value_error)?;
        let emu = self.get()?;
        py.detach(|| emu.push_fault(fault));
        Ok(())
    }

    /// Removes every queued fault.
    fn clear_faults(&self, py: Python<'_>) -> PyResult<()> {
        let emu = self.get()?;
        py.detach(|| emu.clear_faults());
        Ok(())
    }

    /// Expires every access token now.
    fn expire_tokens(&self, py: Python<'_>) -> PyResult<()> {
        let emu = self.get()?;
        py.detach(|| emu.expire_tokens());
        Ok(())
    }

    /// Revokes a refresh token (refreshing then answers `invalid_code`); False if it was unknown.
    fn revoke_refresh_token(&self, py: Python<'_>, token: String) -> PyResult<bool> {
        let emu = self.get()?;
        Ok(py.detach(|| emu.revoke_refresh_token(&token)))
    }

    /// Back to the seed; faults, journal and counters are cleared.
    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        let emu = self.get()?;
        py.detach(|| emu.reset());
        Ok(())
    }

    /// Adds records (mappings of field -> value) to `module`; returns their ids. All or nothing.
    fn insert_records(&self, py: Python<'_>, module: String, records: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        let mut maps = Vec::new();
        for (i, record) in records.try_iter()?.enumerate() {
            match json_arg(&record?, &format!("records[{i}]"))? {
                Value::Object(m) => maps.push(m),
                other => return Err(value_error(format!("records[{i}] must be a dict, not {other}"))),
            }
        }
        let emu = self.get()?;
        py.detach(|| emu.insert_records(&module, maps)).map_err(value_error)
    }

    /// The records of `related_module` linked to `module`'s record `record_id`, as `(id, relation fields)`.
    fn related<'py>(
        &self,
        py: Python<'py>,
        module: String,
        record_id: String,
        related_module: String,
    ) -> PyResult<Bound<'py, PyList>> {
        let emu = self.get()?;
        let related = py.detach(|| emu.related(&module, &record_id, &related_module));
        let list = PyList::empty(py);
        for (id, fields) in &related {
            list.append(PyTuple::new(
                py,
                [id.into_pyobject(py)?.into_any(), convert::json_map_to_py(py, fields)?.into_any()],
            )?)?;
        }
        Ok(list)
    }

    /// The id of `module`'s record whose external field `field` holds `value`.
    fn find_external(&self, py: Python<'_>, module: String, field: String, value: String) -> PyResult<Option<String>> {
        let emu = self.get()?;
        Ok(py.detach(|| emu.find_external(&module, &field, &value)))
    }

    /// Adds a ready access token with `scopes`, expiring after `expires_in` seconds (never if None).
    #[pyo3(signature = (token, scopes, expires_in=None))]
    fn add_access_token(
        &self,
        py: Python<'_>,
        token: String,
        scopes: Vec<String>,
        expires_in: Option<f64>,
    ) -> PyResult<()> {
        let expires_in = expires_in
            .map(|s| Duration::try_from_secs_f64(s).map_err(|_| value_error(format!("expires_in: {s} seconds"))))
            .transpose()?;
        let emu = self.get()?;
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        py.detach(|| emu.add_access_token(&token, &scopes, expires_in));
        Ok(())
    }

    /// Adds a refresh token with `scopes` for a (new or existing) OAuth client.
    fn add_refresh_token(
        &self,
        py: Python<'_>,
        client_id: String,
        client_secret: String,
        token: String,
        scopes: Vec<String>,
    ) -> PyResult<()> {
        let emu = self.get()?;
        let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
        py.detach(|| emu.add_refresh_token(&client_id, &client_secret, &token, &scopes));
        Ok(())
    }

    /// Stops the server (idempotent).
    fn stop(&self, py: Python<'_>) {
        let taken = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        py.detach(|| drop(taken));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> bool {
        self.stop(py);
        false
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let running = self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match running {
            Some(emu) => Ok(format!("Emulator(base_url={})", py_repr(py, emu.base_url())?)),
            None => Ok("Emulator(stopped)".to_owned()),
        }
    }
}
