//! `Client`: the core's [`zcrm_extid::Client`] behind Python keyword arguments, with the GIL released around
//! every call that does I/O; and `prepare_update_related`, the offline form.

use pyo3::prelude::*;
use zcrm_extid::settings::{ClientSettings, UpdateRelatedSpec};
use zcrm_extid::{Secret, UpdateRelated};

use crate::bulk::{self, BulkReport, LinkArgs};
use crate::convert;
use crate::errors::{invalid_input, to_py_err};
use crate::related::{self, GetArgs, RelatedIterator, RelatedResult};
use crate::results::{PreparedRequest, UpdateResult, py_repr};

/// A Zoho CRM client (thread-safe; share one per process: clones of the core client share the keep-alive
/// pool and the token cache).
///
/// Give `access_token`, or `client_id` + `client_secret` + `refresh_token` (tokens are then fetched, cached and
/// refreshed by the core). Settings left as `None` take the core's defaults: the US data centre, production,
/// API v5, 10 s connect and 60 s read timeouts, 4 retries of transient failures. Timeouts are in seconds.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct Client {
    pub(crate) inner: zcrm_extid::Client,
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
        read_timeout=None, max_retries=None, proxy=None,
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
            }
            .build()
        };
        build().map(|inner| Client { inner }).map_err(|e| to_py_err(py, e))
    }

    /// A client from `ZOHO_ACCESS_TOKEN` (or `ZOHO_CLIENT_ID` + `ZOHO_CLIENT_SECRET` + `ZOHO_REFRESH_TOKEN`),
    /// `ZOHO_DC`, `ZOHO_ENVIRONMENT`, `ZOHO_API_VERSION`, `ZOHO_BASE_URL`, `ZOHO_ACCOUNTS_URL`, `ZOHO_PROXY`.
    #[staticmethod]
    fn from_env(py: Python<'_>) -> PyResult<Self> {
        ClientSettings::from_env().build().map(|inner| Client { inner }).map_err(|e| to_py_err(py, e))
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
        let (cancel, interrupt) = crate::signals::ctrl_c_cancel();
        let response = crate::logging::detach(py, || client.execute_cancellable(&request, &cancel));
        if let Some(signal) = interrupt.take() {
            return Err(signal);
        }
        UpdateResult::new(py, response.map_err(|e| to_py_err(py, e))?)
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
        let response = crate::logging::detach(py, || client.get_related(&request));
        RelatedResult::new(py, response.map_err(|e| to_py_err(py, e))?)
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
        let response = crate::logging::detach(py, || client.delete_related(&request));
        UpdateResult::new(py, response.map_err(|e| to_py_err(py, e))?)
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
    /// `on_progress(progress)` is called at most every `progress_interval` seconds and once at the end. If it
    /// raises, or the iterator raises, or Ctrl-C arrives, the job is cancelled: calls in flight finish, rows
    /// read but not sent become `NOT_ATTEMPTED`, and the exception is raised with the partial `BulkReport` as
    /// its `bulk_report` attribute. An error that would fail every call (wrong client secret, revoked refresh
    /// token, missing scope, unknown module, spent credits) stops the job at once and is raised the same way.
    /// The GIL is released while the job runs.
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
        extra=None, concurrency=None, edition=None, batch_size=None, window=None, on_progress=None,
        progress_interval=None,
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
        on_progress: Option<Py<PyAny>>,
        progress_interval: Option<f64>,
    ) -> PyResult<BulkReport> {
        let args = LinkArgs {
            related_list,
            parent_column,
            related_column,
            fields: fields.map(convert::fields).transpose()?,
            extra,
            concurrency,
            edition,
            batch_size,
            window,
            progress_interval,
        };
        bulk::link_many(py, self, rows, parent, related, args, on_progress)
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
    let prepared = match &settings.access_token {
        // The client's own checks apply to the token; it is attached to the request as the client would.
        Some(token) => settings
            .build()
            .map(|client| client.prepare_update_related(&request).with_token(Secret::new(token.clone()))),
        None => settings.target().map(|(base, version)| request.prepare(&base, version)),
    };
    prepared.map(PreparedRequest::new).map_err(|e| to_py_err(py, e))
}
