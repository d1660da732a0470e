//! `Client`: the core's [`zcrm_extid::Client`] behind Python keyword arguments, every call that does I/O run by
//! [`crate::run::run`] (GIL released, cancellable by Ctrl-C and by `zcrm_extid.aio`); the offline
//! `prepare_update_related` and the pure `parse_outcomes`.
//!
//! **Pickling** (the choice, documented on `Client`): a client made by `Client.from_env(...)` pickles as that
//! call (its non-secret overrides); unpickling calls it again, so the receiving process reads the credentials
//! from its own environment and no secret is ever in the pickle. Any other client holds secrets only it knows:
//! pickling it raises `TypeError` saying how to hand a client to another process.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use zcrm_extid::reconcile::settings::PlanSettings;
use zcrm_extid::settings::{ClientSettings, UpdateRelatedSpec};
use zcrm_extid::{Error, InvalidInput, UpdateRelated};

use crate::bulk::{self, BulkReport, LinkArgs, OutcomeStream};
use crate::convert;
use crate::errors::{invalid_input, to_py_err};
use crate::reconcile::{self, Plan};
use crate::records::{self, Args};
use crate::records_results::{RecordIterator, RecordsPage, RecordsResult};
use crate::related::{self, GetArgs, RelatedIterator, RelatedResult};
use crate::results::{Outcome, PreparedRequest, UpdateResult, py_repr};
use crate::run::run;
use crate::upsert::{self, UpsertArgs};

/// A Zoho CRM client (thread-safe; share one per process: clones of the core client share the keep-alive
/// pool and the token cache).
///
/// Give `access_token`, or `client_id` + `client_secret` + `refresh_token` (tokens are then fetched, cached and
/// refreshed by the core). Settings left as `None` take the core's defaults: the US data centre, production,
/// API v5, 10 s connect and 60 s read timeouts, 4 retries of transient failures. Timeouts are in seconds.
///
/// `budget="redis://host:6379/0"` shares the org's limits with every other process using the same budget: one
/// access token per refresh token, the concurrency limit (`budget_concurrency`, default 10) and the credit count
/// (`daily_credits` if known). Redis must be reachable when the client is built, unless `on_redis_error="local"`.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct Client {
    pub(crate) inner: zcrm_extid::Client,
    /// For a client made by `from_env`: its overrides (never a secret), to pickle it by.
    from_env: Option<Overrides>,
}

/// The non-secret settings `from_env` takes, as given.
#[derive(Clone, Default)]
struct Overrides {
    data_center: Option<String>,
    environment: Option<String>,
    api_version: Option<String>,
    base_url: Option<String>,
    accounts_url: Option<String>,
    connect_timeout: Option<f64>,
    read_timeout: Option<f64>,
    max_retries: Option<u32>,
    proxy: Option<String>,
}

impl Overrides {
    /// The environment's settings with these over them.
    fn apply(&self, mut settings: ClientSettings) -> Result<ClientSettings, Error> {
        let keep = |new: &Option<String>, old: &mut Option<String>| {
            if new.is_some() {
                old.clone_from(new);
            }
        };
        keep(&self.data_center, &mut settings.data_center);
        keep(&self.environment, &mut settings.environment);
        keep(&self.api_version, &mut settings.api_version);
        keep(&self.base_url, &mut settings.base_url);
        keep(&self.accounts_url, &mut settings.accounts_url);
        keep(&self.proxy, &mut settings.proxy);
        if let Some(t) = convert::seconds(self.connect_timeout, "connect_timeout")? {
            settings.connect_timeout = Some(t);
        }
        if let Some(t) = convert::seconds(self.read_timeout, "read_timeout")? {
            settings.read_timeout = Some(t);
        }
        if self.max_retries.is_some() {
            settings.max_retries = self.max_retries;
        }
        Ok(settings)
    }

    /// As keyword arguments of `from_env` (the pickle of a client).
    fn to_kwargs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let kw = PyDict::new(py);
        let put = |k: &str, v: Option<Bound<'py, PyAny>>| -> PyResult<()> {
            if let Some(v) = v {
                kw.set_item(k, v)?;
            }
            Ok(())
        };
        let text = |v: &Option<String>| v.as_ref().map(|s| pyo3::types::PyString::new(py, s).into_any());
        put("data_center", text(&self.data_center))?;
        put("environment", text(&self.environment))?;
        put("api_version", text(&self.api_version))?;
        put("base_url", text(&self.base_url))?;
        put("accounts_url", text(&self.accounts_url))?;
        put("proxy", text(&self.proxy))?;
        put("connect_timeout", self.connect_timeout.map(|t| pyo3::types::PyFloat::new(py, t).into_any()))?;
        put("read_timeout", self.read_timeout.map(|t| pyo3::types::PyFloat::new(py, t).into_any()))?;
        put("max_retries", self.max_retries.map(|n| n.into_pyobject(py)).transpose()?.map(|n| n.into_any()))?;
        Ok(kw)
    }
}

/// `Client.from_env(**overrides)`, the function a pickled client is restored by.
#[pyfunction]
#[pyo3(name = "_client_from_env", signature = (overrides))]
pub fn client_from_env(py: Python<'_>, overrides: &Bound<'_, PyDict>) -> PyResult<Py<Client>> {
    let client = py.get_type::<Client>().getattr("from_env")?.call((), Some(overrides))?;
    Ok(client.cast_into::<Client>()?.unbind())
}

/// Python arguments of an "update related records" call -> the core's validated request.
pub(crate) fn update_request(
    py: Python<'_>,
    module: String,
    parent: &Bound<'_, PyAny>,
    related_list: String,
    records: &Bound<'_, PyAny>,
    related_field: Option<String>,
    related_module: Option<String>,
) -> PyResult<UpdateRelated> {
    let spec = UpdateRelatedSpec {
        module,
        parent: convert::parent(parent)?,
        related_list,
        related_module,
        related_field,
        records: convert::records(py, records)?,
    };
    spec.build().map_err(|e| invalid_input(py, e))
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (
        access_token=None, *, client_id=None, client_secret=None, refresh_token=None, data_center=None,
        environment=None, api_version=None, base_url=None, accounts_url=None, connect_timeout=None,
        read_timeout=None, max_retries=None, proxy=None, budget=None, budget_prefix=None, on_redis_error=None,
        budget_concurrency=None, daily_credits=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        access_token: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
        refresh_token: Option<String>,
        data_center: Option<String>,
        environment: Option<String>,
        api_version: Option<String>,
        base_url: Option<String>,
        accounts_url: Option<String>,
        connect_timeout: Option<f64>,
        read_timeout: Option<f64>,
        max_retries: Option<u32>,
        proxy: Option<String>,
        budget: Option<String>,
        budget_prefix: Option<String>,
        on_redis_error: Option<String>,
        budget_concurrency: Option<usize>,
        daily_credits: Option<u64>,
    ) -> PyResult<Self> {
        let build = || {
            ClientSettings {
                access_token,
                client_id,
                client_secret,
                refresh_token,
                data_center,
                environment,
                api_version,
                base_url,
                accounts_url,
                connect_timeout: convert::seconds(connect_timeout, "connect_timeout")?,
                read_timeout: convert::seconds(read_timeout, "read_timeout")?,
                max_retries,
                proxy,
                budget,
                budget_prefix,
                on_redis_error,
                budget_concurrency,
                budget_lease_ttl: None,
                daily_credits,
            }
            .build()
        };
        // Connecting to the budget's Redis is I/O: without the GIL.
        py.detach(build).map(|inner| Client { inner, from_env: None }).map_err(|e| to_py_err(py, e))
    }

    /// A client from `ZOHO_ACCESS_TOKEN` (or `ZOHO_CLIENT_ID` + `ZOHO_CLIENT_SECRET` + `ZOHO_REFRESH_TOKEN`),
    /// `ZOHO_DC`, `ZOHO_ENVIRONMENT`, `ZOHO_API_VERSION`, `ZOHO_BASE_URL`, `ZOHO_ACCOUNTS_URL`, `ZOHO_PROXY`;
    /// the keyword arguments (settings, never credentials) win over the environment. Such a client pickles
    /// (see `Client`): the receiving process reads the credentials from its own environment.
    #[staticmethod]
    #[pyo3(signature = (
        *, data_center=None, environment=None, api_version=None, base_url=None, accounts_url=None,
        connect_timeout=None, read_timeout=None, max_retries=None, proxy=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn from_env(
        py: Python<'_>,
        data_center: Option<String>,
        environment: Option<String>,
        api_version: Option<String>,
        base_url: Option<String>,
        accounts_url: Option<String>,
        connect_timeout: Option<f64>,
        read_timeout: Option<f64>,
        max_retries: Option<u32>,
        proxy: Option<String>,
    ) -> PyResult<Self> {
        let overrides = Overrides {
            data_center,
            environment,
            api_version,
            base_url,
            accounts_url,
            connect_timeout,
            read_timeout,
            max_retries,
            proxy,
        };
        overrides
            .apply(ClientSettings::from_env())
            .and_then(|s| s.build())
            .map(|inner| Client { inner, from_env: Some(overrides) })
            .map_err(|e| to_py_err(py, e))
    }

    /// Pickling: a `from_env` client pickles as `from_env(**overrides)`; any other raises `TypeError`.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let Some(overrides) = &self.from_env else {
            return Err(PyTypeError::new_err(
                "a Client made with explicit credentials cannot be pickled: it would carry its secrets. Make it \
                 with Client.from_env(...) (it then pickles as that call, and each process reads the credentials \
                 from its own environment), or create one client per process (e.g. in a multiprocessing Pool's \
                 initializer)",
            ));
        };
        if overrides.proxy.as_deref().is_some_and(|p| p.contains('@')) {
            return Err(PyTypeError::new_err(
                "a Client whose proxy URL holds credentials cannot be pickled: set ZOHO_PROXY in each process's \
                 environment instead",
            ));
        }
        let restore = py.import("zcrm_extid._native")?.getattr("_client_from_env")?;
        PyTuple::new(py, [restore, PyTuple::new(py, [overrides.to_kwargs(py)?])?.into_any()])
    }

    /// Where API calls go (until a token reply names another Zoho API domain).
    #[getter]
    fn base_url(&self) -> &str {
        self.inner.base_url().as_str()
    }

    /// The API version in every path, e.g. `v5`.
    #[getter]
    fn api_version(&self) -> &'static str {
        self.inner.api_version().as_str()
    }

    /// Links (updates) related records in one call: `PUT /crm/{v}/{module}/{parent}/{related_list}`.
    ///
    /// `parent` is a record id (`str`) or `External(field, value)`; `records` is any iterable of mappings
    /// (so `df.to_dict("records")` works), at most 100; `related_field` names the related module's external
    /// field keying the records (default: they carry `id`). Everything is validated before anything is sent
    /// (`InvalidInputError`). Per-record failures (HTTP 207, or 400 with a `data` array) are outcomes, not
    /// exceptions. Retries, token refresh and errors are the core's; the GIL is released while it runs.
    #[pyo3(signature = (module, parent, related_list, records, *, related_field=None, related_module=None))]
    #[allow(clippy::too_many_arguments)]
    fn update_related(
        &self,
        py: Python<'_>,
        module: String,
        parent: &Bound<'_, PyAny>,
        related_list: String,
        records: &Bound<'_, PyAny>,
        related_field: Option<String>,
        related_module: Option<String>,
    ) -> PyResult<UpdateResult> {
        let request = update_request(py, module, parent, related_list, records, related_field, related_module)?;
        let client = &self.inner;
        // Ctrl-C is looked for before each attempt and every 100 ms of a backoff sleep: the call stops within
        // about 0.1 s of the attempt on the wire, and the KeyboardInterrupt is raised.
        UpdateResult::new(py, run(py, |cancel| client.execute_cancellable(&request, cancel))?)
    }

    /// The HTTP request `update_related` would send, without sending it or fetching a token.
    #[pyo3(signature = (module, parent, related_list, records, *, related_field=None, related_module=None))]
    #[allow(clippy::too_many_arguments)]
    fn prepare_update_related(
        &self,
        py: Python<'_>,
        module: String,
        parent: &Bound<'_, PyAny>,
        related_list: String,
        records: &Bound<'_, PyAny>,
        related_field: Option<String>,
        related_module: Option<String>,
    ) -> PyResult<PreparedRequest> {
        let request = update_request(py, module, parent, related_list, records, related_field, related_module)?;
        Ok(PreparedRequest::new(self.inner.prepare_update_related(&request)))
    }

    /// Reads related records in one call: the list `GET /crm/{v}/{module}/{parent}/{related_list}` (one page),
    /// or one related record with `related=value` (`.../{related_list}/{value}`).
    ///
    /// `fields` (a `str` with commas or a sequence of names) is required for the list from v5 on; `ids` reads
    /// only those related records; related values (`related`, `ids`) are record ids, or the related module's
    /// external values when `related_field` names its external field. `page` / `per_page` (1..200) /
    /// `page_token` (v7+) page the list; `if_modified_since` (ISO 8601 `str` with a zone, or an aware
    /// `datetime`) makes a 304 a result with `not_modified`. Checked before anything is sent; GIL released.
    #[pyo3(signature = (
        module, parent, related_list, *, fields=None, related=None, ids=None, related_field=None,
        related_module=None, page=None, per_page=None, page_token=None, if_modified_since=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn get_related(
        &self,
        py: Python<'_>,
        module: String,
        parent: &Bound<'_, PyAny>,
        related_list: String,
        fields: Option<&Bound<'_, PyAny>>,
        related: Option<&Bound<'_, PyAny>>,
        ids: Option<&Bound<'_, PyAny>>,
        related_field: Option<String>,
        related_module: Option<String>,
        page: Option<u32>,
        per_page: Option<u32>,
        page_token: Option<String>,
        if_modified_since: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<RelatedResult> {
        let args = GetArgs {
            module,
            parent,
            related_list,
            fields,
            related,
            ids,
            related_field,
            related_module,
            page,
            per_page,
            page_token,
            if_modified_since,
        };
        let request = related::get_request(py, args)?;
        let client = &self.inner;
        RelatedResult::new(py, run(py, |cancel| client.execute_cancellable(&request, cancel))?)
    }

    /// Every related record, page after page (page tokens on v7/v8, page numbers before), one page in memory:
    /// an iterator of `RelatedRow`. Same arguments as `get_related` (without `related`); checked here, before
    /// anything is sent. An error while paging is raised by the iterator.
    #[pyo3(signature = (
        module, parent, related_list, *, fields=None, ids=None, related_field=None, related_module=None,
        page=None, per_page=None, page_token=None, if_modified_since=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn iter_related(
        &self,
        py: Python<'_>,
        module: String,
        parent: &Bound<'_, PyAny>,
        related_list: String,
        fields: Option<&Bound<'_, PyAny>>,
        ids: Option<&Bound<'_, PyAny>>,
        related_field: Option<String>,
        related_module: Option<String>,
        page: Option<u32>,
        per_page: Option<u32>,
        page_token: Option<String>,
        if_modified_since: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<RelatedIterator> {
        let args = GetArgs {
            module,
            parent,
            related_list,
            fields,
            related: None,
            ids,
            related_field,
            related_module,
            page,
            per_page,
            page_token,
            if_modified_since,
        };
        let request = related::get_request(py, args)?;
        let rows = self.inner.iter_related(request).map_err(|e| to_py_err(py, e))?;
        Ok(RelatedIterator::new(rows))
    }

    /// The HTTP request `get_related` would send (after the version rules), without sending it.
    #[pyo3(signature = (
        module, parent, related_list, *, fields=None, related=None, ids=None, related_field=None,
        related_module=None, page=None, per_page=None, page_token=None, if_modified_since=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn prepare_get_related(
        &self,
        py: Python<'_>,
        module: String,
        parent: &Bound<'_, PyAny>,
        related_list: String,
        fields: Option<&Bound<'_, PyAny>>,
        related: Option<&Bound<'_, PyAny>>,
        ids: Option<&Bound<'_, PyAny>>,
        related_field: Option<String>,
        related_module: Option<String>,
        page: Option<u32>,
        per_page: Option<u32>,
        page_token: Option<String>,
        if_modified_since: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PreparedRequest> {
        let args = GetArgs {
            module,
            parent,
            related_list,
            fields,
            related,
            ids,
            related_field,
            related_module,
            page,
            per_page,
            page_token,
            if_modified_since,
        };
        let request = related::get_request(py, args)?;
        self.inner.prepare_get_related(&request).map(PreparedRequest::new).map_err(|e| to_py_err(py, e))
    }

    /// Unlinks related records in one call: one value goes in the path (`DELETE .../{related_list}/{value}`),
    /// several (up to 100) in `ids`. `values` is a `str` or an iterable of them: record ids, or the related
    /// module's external values when `related_field` names its external field (the header then names both
    /// modules). One outcome per value, in input order; a 207 is a result, not an exception.
    #[pyo3(signature = (module, parent, related_list, values, *, related_field=None, related_module=None))]
    #[allow(clippy::too_many_arguments)]
    fn delete_related(
        &self,
        py: Python<'_>,
        module: String,
        parent: &Bound<'_, PyAny>,
        related_list: String,
        values: &Bound<'_, PyAny>,
        related_field: Option<String>,
        related_module: Option<String>,
    ) -> PyResult<UpdateResult> {
        let request = related::delete_request(py, module, parent, related_list, values, related_field, related_module)?;
        let client = &self.inner;
        UpdateResult::new(py, run(py, |cancel| client.execute_cancellable(&request, cancel))?)
    }

    /// The HTTP request `delete_related` would send, without sending it.
    #[pyo3(signature = (module, parent, related_list, values, *, related_field=None, related_module=None))]
    #[allow(clippy::too_many_arguments)]
    fn prepare_delete_related(
        &self,
        py: Python<'_>,
        module: String,
        parent: &Bound<'_, PyAny>,
        related_list: String,
        values: &Bound<'_, PyAny>,
        related_field: Option<String>,
        related_module: Option<String>,
    ) -> PyResult<PreparedRequest> {
        let request = related::delete_request(py, module, parent, related_list, values, related_field, related_module)?;
        Ok(PreparedRequest::new(self.inner.prepare_delete_related(&request)))
    }

    /// Links many rows (each a parent and one related record) at the API's limit: rows are grouped by parent
    /// into calls of up to `batch_size` records, sent with bounded, adaptive concurrency and retries, and every
    /// row gets exactly one outcome (the report lists them by row).
    ///
    /// `rows` is any iterable of mappings (a generator, `csv.DictReader`, `df.to_dict("records")`), read lazily.
    /// `parent` and `related` are `Module.Field` (`Contacts.External_Contact_ID`, `Deals.External_Deal_ID`;
    /// the field `id` means a Zoho record id); columns default to the field names (`parent_column`,
    /// `related_column` override them); relation fields are those named in `fields` (`{api_name: column}`, or
    /// names); other columns are ignored, or with `extra="error"` make the row `INVALID_INPUT` naming the column.
    /// An invalid row becomes an `INVALID_INPUT` outcome; the job goes on.
    ///
    /// `adaptive=False` keeps the concurrency fixed (default: it drops when Zoho answers 429).
    /// `on_outcome(row_outcome)` is called with each row's outcome as its call completes (completion order);
    /// with `keep_outcomes=False` the report keeps none (memory stays within the window, whatever the input's
    /// length). `on_progress(progress)` is called at most every `progress_interval` seconds and once at the
    /// end. If a callback raises, or the iterator raises, or Ctrl-C arrives, the job is cancelled: calls in
    /// flight finish, rows read but not sent become `NOT_ATTEMPTED`, and the exception is raised with the
    /// partial `BulkReport` as its `bulk_report` attribute. An error that would fail every call (wrong client
    /// secret, revoked refresh token, missing scope, unknown module, spent credits) stops the job at once and is
    /// raised the same way. The GIL is released while the job runs. `iter_link_many` is the iterator form.
    ///
    /// A tqdm bar (tqdm is not a dependency):
    ///
    /// ```python
    /// bar = tqdm(unit="row")
    /// def on_progress(p):
    ///     bar.total = p.expected_rows or p.rows_read
    ///     bar.update(p.completed - bar.n)
    ///     bar.set_postfix_str(f"{p.failed} failed, {p.in_flight} in flight")
    /// report = client.link_many(csv.DictReader(f), parent="Contacts.External_Contact_ID",
    ///                           related="Deals.External_Deal_ID", on_progress=on_progress)
    /// ```
    #[pyo3(signature = (
        rows, *, parent, related, related_list=None, parent_column=None, related_column=None, fields=None,
        extra=None, concurrency=None, edition=None, batch_size=None, window=None, adaptive=None, on_progress=None,
        progress_interval=None, on_outcome=None, keep_outcomes=true, reserve=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn link_many(
        &self,
        py: Python<'_>,
        rows: &Bound<'_, PyAny>,
        parent: &str,
        related: &str,
        related_list: Option<String>,
        parent_column: Option<String>,
        related_column: Option<String>,
        fields: Option<&Bound<'_, PyAny>>,
        extra: Option<String>,
        concurrency: Option<usize>,
        edition: Option<String>,
        batch_size: Option<usize>,
        window: Option<usize>,
        adaptive: Option<bool>,
        on_progress: Option<Py<PyAny>>,
        progress_interval: Option<f64>,
        on_outcome: Option<Py<PyAny>>,
        keep_outcomes: bool,
        reserve: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<BulkReport> {
        let args = LinkArgs {
            parent: parent.to_owned(),
            related: related.to_owned(),
            related_list,
            parent_column,
            related_column,
            fields: fields.map(convert::fields).transpose()?,
            extra,
            concurrency,
            edition,
            batch_size,
            window,
            adaptive,
            progress_interval,
            reserve: reserve.map(|r| r.str().map(|s| s.to_string())).transpose()?,
        };
        bulk::link_many(py, self, rows, args, on_progress, on_outcome, keep_outcomes)
    }

    /// Unlinks many rows (each a parent and one related record; the same rows as `link_many`) at the API's
    /// limit: rows are grouped by parent into `DELETE ...?ids=` calls of up to `batch_size` values (a value
    /// containing `,` goes alone, in the URL path), with bounded, adaptive concurrency and retries, and every row
    /// gets exactly one outcome (the report lists them by row). Takes the arguments of `link_many`: `fields`
    /// only declares columns as mapped (for `extra="error"`); relation fields are not sent. A pair that is not
    /// linked is a failed outcome (Zoho's `INVALID_DATA` "relation not found"), not an exception.
    ///
    /// Progress, `on_outcome` / `keep_outcomes`, `reserve`, cancellation (an exception of the iterator or a
    /// callback, Ctrl-C), the circuit breaker and the report behave as for `link_many`.
    #[pyo3(signature = (
        rows, *, parent, related, related_list=None, parent_column=None, related_column=None, fields=None,
        extra=None, concurrency=None, edition=None, batch_size=None, window=None, adaptive=None, on_progress=None,
        progress_interval=None, on_outcome=None, keep_outcomes=true, reserve=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn unlink_many(
        &self,
        py: Python<'_>,
        rows: &Bound<'_, PyAny>,
        parent: &str,
        related: &str,
        related_list: Option<String>,
        parent_column: Option<String>,
        related_column: Option<String>,
        fields: Option<&Bound<'_, PyAny>>,
        extra: Option<String>,
        concurrency: Option<usize>,
        edition: Option<String>,
        batch_size: Option<usize>,
        window: Option<usize>,
        adaptive: Option<bool>,
        on_progress: Option<Py<PyAny>>,
        progress_interval: Option<f64>,
        on_outcome: Option<Py<PyAny>>,
        keep_outcomes: bool,
        reserve: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<BulkReport> {
        let args = LinkArgs {
            parent: parent.to_owned(),
            related: related.to_owned(),
            related_list,
            parent_column,
            related_column,
            fields: fields.map(convert::fields).transpose()?,
            extra,
            concurrency,
            edition,
            batch_size,
            window,
            adaptive,
            progress_interval,
            reserve: reserve.map(|r| r.str().map(|s| s.to_string())).transpose()?,
        };
        bulk::unlink_many(py, self, rows, args, on_progress, on_outcome, keep_outcomes)
    }

    /// `link_many` as an iterator of `RowOutcome`s, each as its call completes (completion order): write
    /// results as they come, in memory bounded by the window whatever the input's length. The job runs on its
    /// own thread while you iterate (it waits when you fall behind). At the end, an error that stopped the job
    /// (the circuit breaker, or what the rows' iterator or `on_progress` raised) is raised, with `bulk_report`
    /// holding the totals (its outcomes were yielded already); `summary` then holds them too. `close()` (or
    /// leaving a `with` block, or Ctrl-C while waiting) stops the job: calls in flight finish, nothing more is
    /// sent.
    #[pyo3(signature = (
        rows, *, parent, related, related_list=None, parent_column=None, related_column=None, fields=None,
        extra=None, concurrency=None, edition=None, batch_size=None, window=None, adaptive=None, on_progress=None,
        progress_interval=None, reserve=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn iter_link_many(
        &self,
        py: Python<'_>,
        rows: &Bound<'_, PyAny>,
        parent: &str,
        related: &str,
        related_list: Option<String>,
        parent_column: Option<String>,
        related_column: Option<String>,
        fields: Option<&Bound<'_, PyAny>>,
        extra: Option<String>,
        concurrency: Option<usize>,
        edition: Option<String>,
        batch_size: Option<usize>,
        window: Option<usize>,
        adaptive: Option<bool>,
        on_progress: Option<Py<PyAny>>,
        progress_interval: Option<f64>,
        reserve: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<OutcomeStream> {
        let args = LinkArgs {
            parent: parent.to_owned(),
            related: related.to_owned(),
            related_list,
            parent_column,
            related_column,
            fields: fields.map(convert::fields).transpose()?,
            extra,
            concurrency,
            edition,
            batch_size,
            window,
            adaptive,
            progress_interval,
            reserve: reserve.map(|r| r.str().map(|s| s.to_string())).transpose()?,
        };
        bulk::iter_link_many(py, self, rows, args, on_progress)
    }

    /// Inserts or updates many records of `module` by their external ID, at the API's limit: 100 per call,
    /// concurrent (at most 10 calls of more than 10 records at once: Zoho's sub-concurrency), retried, and every
    /// row gets exactly one outcome (the report lists them by row) with `action` (`"insert"`/`"update"`) and
    /// the record's Zoho `id`.
    ///
    /// `rows` is any iterable of mappings, read lazily: `df.to_dict("records")`, `csv.DictReader`, a generator.
    /// Each row is a record: its keys are field API names (`columns={"Last_Name": "surname"}` renames a
    /// column, `skip=["note"]` leaves one out). `key` is the module's external field identifying each record
    /// (`External_Contact_ID`); it is the duplicate check unless `duplicate_check_fields` says otherwise (the key
    /// is then checked last). `lookups={"Account_Name": "Accounts.External_Account_ID:account"}` fills the
    /// lookup `Account_Name` by the account's external ID from column `account` (default: the field's name);
    /// rows may also hold lookup objects themselves (`{"External_Account_ID": "a1"}`, with `external_fields`).
    /// NaN, NaT, `pandas.NA` and `None` cells are left out (they change nothing); date-times become Zoho's ISO
    /// text (a naive one is that row's `INVALID_INPUT`). The same key twice: the later row wins.
    ///
    /// Progress, `on_outcome` / `keep_outcomes`, `adaptive`, `reserve`, cancellation (an exception of the
    /// iterator or a callback, Ctrl-C), the circuit breaker and the report work as for `link_many`. The GIL is released while the job runs.
    ///
    /// ```python
    /// report = client.upsert_many(df.to_dict("records"), module="Contacts", key="External_Contact_ID",
    ///                             lookups={"Account_Name": "Accounts.External_Account_ID:account_id"})
    /// inserted = sum(o.action == "insert" for o in report)
    /// ```
    #[pyo3(signature = (
        rows, *, module, key, lookups=None, columns=None, skip=None, duplicate_check_fields=None,
        external_fields=None, concurrency=None, edition=None, batch_size=None, window=None, adaptive=None,
        on_progress=None, progress_interval=None, on_outcome=None, keep_outcomes=true, reserve=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn upsert_many(
        &self,
        py: Python<'_>,
        rows: &Bound<'_, PyAny>,
        module: String,
        key: String,
        lookups: Option<&Bound<'_, PyAny>>,
        columns: Option<&Bound<'_, PyAny>>,
        skip: Option<&Bound<'_, PyAny>>,
        duplicate_check_fields: Option<&Bound<'_, PyAny>>,
        external_fields: Option<&Bound<'_, PyAny>>,
        concurrency: Option<usize>,
        edition: Option<String>,
        batch_size: Option<usize>,
        window: Option<usize>,
        adaptive: Option<bool>,
        on_progress: Option<Py<PyAny>>,
        progress_interval: Option<f64>,
        on_outcome: Option<Py<PyAny>>,
        keep_outcomes: bool,
        reserve: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<BulkReport> {
        let args = UpsertArgs {
            module,
            key,
            lookups,
            columns,
            skip,
            duplicate_check_fields,
            external_fields,
            concurrency,
            edition,
            batch_size,
            window,
            adaptive,
            progress_interval,
            reserve: reserve.map(|r| r.str().map(|s| s.to_string())).transpose()?,
        };
        upsert::upsert_many(py, self, rows, args, on_progress, on_outcome, keep_outcomes)
    }

    /// Reads records (one page): `ids` a str (one record, `GET {module}/{value}`), a list (`?ids=`), or
    /// `None` (the whole module, page by page: `fields` required). `key` is the module's external field the
    /// values belong to (default: record ids). No match is an empty page.
    #[pyo3(signature = (module, ids=None, *, key=None, fields=None, page=None, per_page=None, page_token=None))]
    #[allow(clippy::too_many_arguments)]
    fn get_records(
        &self,
        py: Python<'_>,
        module: String,
        ids: Option<&Bound<'_, PyAny>>,
        key: Option<String>,
        fields: Option<&Bound<'_, PyAny>>,
        page: Option<u32>,
        per_page: Option<u32>,
        page_token: Option<String>,
    ) -> PyResult<RecordsPage> {
        let call = Args { ids, key, fields, page, per_page, page_token, ..Args::default() }.build(py, "get", module)?;
        records::read(py, &self.inner, call)
    }

    /// The records of a read across every page, one dict at a time (pages fetched as the iterator advances,
    /// the GIL released while they are).
    #[pyo3(signature = (module, ids=None, *, key=None, fields=None, per_page=None))]
    fn iter_records(
        &self,
        py: Python<'_>,
        module: String,
        ids: Option<&Bound<'_, PyAny>>,
        key: Option<String>,
        fields: Option<&Bound<'_, PyAny>>,
        per_page: Option<u32>,
    ) -> PyResult<RecordIterator> {
        let call = Args { ids, key, fields, per_page, ..Args::default() }.build(py, "get", module)?;
        records::iter(&self.inner, call)
    }

    /// Inserts records (`POST {module}`). Lookups may be written as external references,
    /// `{"Account_Name": {"External_Account_ID": "a1"}}`, when `external_fields` declares them
    /// (`["Accounts.External_Account_ID"]`): the `X-EXTERNAL` header is derived from the records. Not retried
    /// after a lost answer (an insert is not idempotent); per-record failures are outcomes.
    #[pyo3(signature = (module, records, *, external_fields=None))]
    fn insert_records(
        &self,
        py: Python<'_>,
        module: String,
        records: &Bound<'_, PyAny>,
        external_fields: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<RecordsResult> {
        let call = Args { records: Some(records), external_fields, ..Args::default() }.build(py, "insert", module)?;
        records::write(py, &self.inner, call)
    }

    /// Updates records: with `id`, the one record it addresses (`PUT {module}/{id}`); else each record by its
    /// `key` field (or its `id`) in `PUT {module}`. A record changing the field that addresses it is refused
    /// before sending (Zoho's NOT_ALLOWED).
    #[pyo3(signature = (module, records, *, key=None, id=None, external_fields=None))]
    fn update_records(
        &self,
        py: Python<'_>,
        module: String,
        records: &Bound<'_, PyAny>,
        key: Option<String>,
        id: Option<&Bound<'_, PyAny>>,
        external_fields: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<RecordsResult> {
        let args = Args { records: Some(records), key, id, external_fields, ..Args::default() };
        records::write(py, &self.inner, args.build(py, "update", module)?)
    }

    /// Inserts or updates records (`POST {module}/upsert`), matched by `duplicate_check_fields` (in order; by
    /// default Zoho's duplicate-check fields and the external fields). Each outcome has `action` (`insert` or
    /// `update`) and `duplicate_field`.
    #[pyo3(signature = (module, records, *, duplicate_check_fields=None, external_fields=None))]
    fn upsert_records(
        &self,
        py: Python<'_>,
        module: String,
        records: &Bound<'_, PyAny>,
        duplicate_check_fields: Option<&Bound<'_, PyAny>>,
        external_fields: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<RecordsResult> {
        let args = Args { records: Some(records), duplicate_check_fields, external_fields, ..Args::default() };
        records::write(py, &self.inner, args.build(py, "upsert", module)?)
    }

    /// Deletes records: `ids` a str (one record) or a list (`?ids=`, at most 100), values of `key` (default:
    /// record ids).
    #[pyo3(signature = (module, ids, *, key=None))]
    fn delete_records(
        &self,
        py: Python<'_>,
        module: String,
        ids: &Bound<'_, PyAny>,
        key: Option<String>,
    ) -> PyResult<RecordsResult> {
        let call = Args { ids: Some(ids), key, ..Args::default() }.build(py, "delete", module)?;
        records::write(py, &self.inner, call)
    }

    /// Searches records by the external field `key` (`values` a str: `equals`; a list: `in`), values escaped
    /// as Zoho requires. One page; no match is an empty page. Needs the `ZohoSearch.securesearch.READ` scope.
    #[pyo3(signature = (module, values, *, key, fields=None, page=None, per_page=None))]
    #[allow(clippy::too_many_arguments)]
    fn search_records(
        &self,
        py: Python<'_>,
        module: String,
        values: &Bound<'_, PyAny>,
        key: String,
        fields: Option<&Bound<'_, PyAny>>,
        page: Option<u32>,
        per_page: Option<u32>,
    ) -> PyResult<RecordsPage> {
        let args = Args { values: Some(values), key: Some(key), fields, page, per_page, ..Args::default() };
        records::read(py, &self.inner, args.build(py, "search", module)?)
    }

    /// The HTTP request a records call would send (`operation`: `get`, `insert`, `update`, `upsert`,
    /// `delete`, `search`; the other arguments as for that call), without sending it or fetching a token.
    #[pyo3(signature = (
        operation, module, *, records=None, key=None, id=None, ids=None, values=None, fields=None, page=None,
        per_page=None, page_token=None, external_fields=None, duplicate_check_fields=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn prepare_records(
        &self,
        py: Python<'_>,
        operation: &str,
        module: String,
        records: Option<&Bound<'_, PyAny>>,
        key: Option<String>,
        id: Option<&Bound<'_, PyAny>>,
        ids: Option<&Bound<'_, PyAny>>,
        values: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyAny>>,
        page: Option<u32>,
        per_page: Option<u32>,
        page_token: Option<String>,
        external_fields: Option<&Bound<'_, PyAny>>,
        duplicate_check_fields: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PreparedRequest> {
        let args = Args {
            records,
            key,
            id,
            ids,
            values,
            fields,
            page,
            per_page,
            page_token,
            external_fields,
            duplicate_check_fields,
        };
        Ok(records::prepare(&self.inner, &args.build(py, operation, module)?))
    }

    /// Plans a reconcile: makes Zoho's links of one relation equal the desired `rows` (an iterable of mappings,
    /// as for `link_many`: `parent` and `related` are `Module.Field`, relation fields those named in `fields`).
    /// For each parent in the rows, its linked records are read (every page; reads run concurrently within the
    /// concurrency limit) and compared: `link` (missing), `update` (a field differs), `unlink` (linked but not in
    /// the rows; only with `unlink_missing=True`, never for a parent absent from the rows), unchanged. Nothing
    /// is changed in Zoho. `max_unlinks` (an int, or a str such as `"5%"` of the links read) is recorded in the
    /// plan and checked by `apply`. An invalid row is listed in `plan.invalid` (and, with `unlink_missing`,
    /// withholds every unlink: it may have named one of those pairs).
    ///
    /// `on_progress(progress)` gets a `PlanProgress`; an exception of it or of the iterator, or Ctrl-C, stops
    /// planning and is raised (no plan of part of the input is returned). The GIL is released while planning.
    #[pyo3(signature = (
        rows, *, parent, related, fields=None, unlink_missing=None, max_unlinks=None, related_list=None,
        parent_column=None, related_column=None, extra=None, concurrency=None, edition=None, window=None,
        on_progress=None, progress_interval=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn plan_links(
        &self,
        py: Python<'_>,
        rows: &Bound<'_, PyAny>,
        parent: &str,
        related: &str,
        fields: Option<&Bound<'_, PyAny>>,
        unlink_missing: Option<bool>,
        max_unlinks: Option<&Bound<'_, PyAny>>,
        related_list: Option<String>,
        parent_column: Option<String>,
        related_column: Option<String>,
        extra: Option<String>,
        concurrency: Option<usize>,
        edition: Option<String>,
        window: Option<usize>,
        on_progress: Option<Py<PyAny>>,
        progress_interval: Option<f64>,
    ) -> PyResult<Plan> {
        let args = LinkArgs {
            parent: parent.to_owned(),
            related: related.to_owned(),
            related_list,
            parent_column,
            related_column,
            fields: fields.map(convert::fields).transpose()?,
            extra,
            concurrency,
            edition: edition.clone(),
            batch_size: None,
            window: None,
            adaptive: None,
            progress_interval,
            reserve: None,
        };
        let settings = PlanSettings {
            unlink_missing,
            max_unlinks: reconcile::max_unlinks_text(max_unlinks)?,
            concurrency,
            edition,
            window,
            progress_interval: convert::seconds(progress_interval, "progress_interval")
                .map_err(|e| to_py_err(py, e))?,
        };
        reconcile::plan_links(py, self, rows, args, settings, on_progress)
    }

    /// A plan saved with `Plan.to_json()`, to apply as it was reviewed (`InvalidInputError` for a file that is
    /// not a plan of this version).
    fn load_plan(&self, py: Python<'_>, text: &str) -> PyResult<Plan> {
        reconcile::load_plan(py, self, text)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Client(base_url={}, api_version={})",
            py_repr(py, self.inner.base_url().as_str())?,
            py_repr(py, self.inner.api_version().as_str())?
        ))
    }
}

/// The HTTP request of an "update related records" call, built offline (no client, no I/O). With
/// `access_token` the `Authorization` header is included (shown redacted). Settings left as `None` take the
/// core's defaults.
#[pyfunction]
#[pyo3(signature = (
    module, parent, related_list, records, *, related_field=None, related_module=None, data_center=None,
    environment=None, api_version=None, base_url=None, access_token=None,
))]
#[allow(clippy::too_many_arguments)]
pub fn prepare_update_related(
    py: Python<'_>,
    module: String,
    parent: &Bound<'_, PyAny>,
    related_list: String,
    records: &Bound<'_, PyAny>,
    related_field: Option<String>,
    related_module: Option<String>,
    data_center: Option<String>,
    environment: Option<String>,
    api_version: Option<String>,
    base_url: Option<String>,
    access_token: Option<String>,
) -> PyResult<PreparedRequest> {
    let settings =
        ClientSettings { data_center, environment, api_version, base_url, access_token, ..ClientSettings::default() };
    let request = update_request(py, module, parent, related_list, records, related_field, related_module)?;
    settings.prepare(&request).map(PreparedRequest::new).map_err(|e| to_py_err(py, e))
}

/// A response body given as `str` or bytes.
pub(crate) fn body_bytes(body: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(text) = body.extract::<String>() {
        return Ok(text.into_bytes());
    }
    body.extract::<Vec<u8>>().map_err(|_| {
        invalid_input(
            body.py(),
            InvalidInput::new("body", format!("must be str or bytes, not {}", convert::type_name(body))),
        )
    })
}

/// Interprets the answer to a call that sent `records_sent` records (pure; for a request sent by other
/// means): one `Outcome` per record in input order, or the exception the client would raise (Zoho's error
/// object, `NO_CONTENT`, or `UNEXPECTED_RESPONSE` for a body that is not a usable Zoho answer).
#[pyfunction]
#[pyo3(signature = (status, content_type, body, records_sent))]
pub fn parse_outcomes(
    py: Python<'_>,
    status: u16,
    content_type: Option<&str>,
    body: &Bound<'_, PyAny>,
    records_sent: usize,
) -> PyResult<Vec<Outcome>> {
    let body = body_bytes(body)?;
    zcrm_extid::response::parse_outcomes(status, content_type, &body, records_sent)
        .map(|outcomes| outcomes.into_iter().map(Outcome::new).collect())
        .map_err(|e| to_py_err(py, e))
}
