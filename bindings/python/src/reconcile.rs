//! `Client.plan_links` and `Client.load_plan` -> `Plan` (iterable `Change`s, `summary`, `summary_text()`,
//! `diff()`, `to_json()`, `apply(...)`). The core plans and applies ([`zcrm_extid::reconcile`]); this file only
//! converts, releases the GIL, and maps errors. Rows are read from any Python iterable as for `link_many`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList};
use zcrm_extid::reconcile::settings::{ApplySettings, PlanSettings};
use zcrm_extid::reconcile::{
    Change as CoreChange, Plan as CorePlan, PlanProgress as CorePlanProgress, PlanSummary as CoreSummary, SyncSpec,
};
use zcrm_extid::settings::BulkSettings;

use crate::bulk::{BulkReport, LinkArgs, Progress, PyRows, Stop, finish, link_rows, report_progress};
use crate::client::Client;
use crate::convert::{self, json_map_to_py};
use crate::errors::{invalid_input, to_py_err};
use crate::results::{py_repr, seq_index};

/// `max_unlinks` as the core reads it: an int is a count, a str is `N` or `P%`.
pub(crate) fn max_unlinks_text(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    let Some(v) = value else { return Ok(None) };
    if let Ok(n) = v.extract::<u64>() {
        return Ok(Some(n.to_string()));
    }
    v.extract::<String>().map(Some).map_err(|_| {
        invalid_input(
            v.py(),
            zcrm_extid::InvalidInput::new(
                "max_unlinks",
                format!("must be an int or a str such as \"5%\", not {}", convert::type_name(v)),
            ),
        )
    })
}

/// Plans a reconcile; see `Client.plan_links`.
#[allow(clippy::too_many_arguments)]
pub fn plan_links(
    py: Python<'_>,
    client: &Client,
    rows: &Bound<'_, PyAny>,
    args: LinkArgs,
    settings: PlanSettings,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<Plan> {
    let all_names = args.extra.as_deref() == Some("error");
    let mapping_settings = zcrm_extid::settings::MappingSettings {
        parent: args.parent,
        related: args.related,
        related_list: args.related_list,
        parent_column: args.parent_column,
        related_column: args.related_column,
        fields: args.fields,
        extra: args.extra,
    };
    let (spec, mapping) = SyncSpec::from_mapping(&mapping_settings).map_err(|e| invalid_input(py, e))?;
    let options = settings.options().map_err(|e| to_py_err(py, e))?;
    let sized = rows.len().is_ok();
    let iter = rows.try_iter().map_err(|_| {
        invalid_input(
            py,
            zcrm_extid::InvalidInput::new("rows", format!("must be iterable, not {}", convert::type_name(rows))),
        )
    })?;
    let stop = Stop::new();
    let core = &client.inner;
    let mut rows = PyRows::new(iter.unbind(), link_rows(mapping, all_names), stop.clone(), sized);
    let planned = crate::logging::detach(py, || {
        let mut progress = report_progress(&stop, &on_progress, |p: &CorePlanProgress| PlanProgress(p.clone()));
        core.plan_links(&spec, &options, &mut rows, &mut progress, &stop.cancel)
    });
    // An exception of the iterator or the callback first: a plan of part of the input must never be used.
    if let Some(err) = stop.take() {
        return Err(err);
    }
    let plan = planned.map_err(|e| to_py_err(py, e))?;
    Ok(Plan::new(plan, client.inner.clone()))
}

/// A reconcile plan: every change (iterate it), the totals (`summary`), a printable summary and diff, JSON
/// (`to_json()`), and `apply(...)`. Made by `Client.plan_links`, or loaded by `Client.load_plan`.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct Plan {
    inner: CorePlan,
    client: zcrm_extid::Client,
}

impl Plan {
    pub(crate) fn new(inner: CorePlan, client: zcrm_extid::Client) -> Plan {
        Plan { inner, client }
    }

    fn change_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let changes = self
            .inner
            .changes()
            .map(|(p, c)| Py::new(py, Change { parent: p.path_value().to_owned(), inner: c.clone() }))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, changes)
    }
}

#[pymethods]
impl Plan {
    /// The totals.
    #[getter]
    fn summary(&self) -> PlanSummary {
        PlanSummary(self.inner.summary().clone())
    }
    /// Every change, in the order planned (the apply report's `row` is the position here).
    #[getter]
    fn changes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.change_list(py)
    }
    /// The input rows that could not be used: `(row, location, message)`.
    #[getter]
    fn invalid(&self) -> Vec<(usize, String, String)> {
        self.inner.invalid().iter().map(|r| (r.row, r.location.clone(), r.message.clone())).collect()
    }
    /// Whether linked records absent from the input are unlinked.
    #[getter]
    fn unlink_missing(&self) -> bool {
        self.inner.unlink_missing()
    }
    /// The guard (`"500"`, `"5%"`), if any.
    #[getter]
    fn max_unlinks(&self) -> Option<String> {
        self.inner.max_unlinks().map(|m| m.to_string())
    }
    /// True when the plan changes nothing.
    #[getter]
    fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
    /// The totals as text (a few lines).
    fn summary_text(&self) -> String {
        self.inner.summary_text()
    }
    /// One line per change: `+ parent  related  Field="value"`, `~ ... Field: old -> new`, `- parent  related`.
    fn diff(&self) -> String {
        self.inner.diff_text()
    }
    /// The plan as JSON (with a version), to review and apply later (`Client.load_plan`).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// Applies the plan: refused as a whole (`InvalidInputError`, argument `max_unlinks`) if it unlinks more
    /// than allowed; then, with `recheck` (default), each changed parent is read again and refused if its links
    /// changed since planning (each of its changes gets `CHANGED_SINCE_PLANNING`, nothing sent for it); the
    /// rest go through the bulk engine (PUT for links and updates, DELETE for unlinks). Returns a `BulkReport`
    /// with one outcome per change (`row` = its position in `plan.changes`). Progress, cancellation (an
    /// exception of the callback, Ctrl-C) and the circuit breaker behave as for `link_many`.
    #[pyo3(signature = (
        *, on_progress=None, recheck=None, max_unlinks=None, concurrency=None, edition=None, batch_size=None,
        window=None, progress_interval=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        py: Python<'_>,
        on_progress: Option<Py<PyAny>>,
        recheck: Option<bool>,
        max_unlinks: Option<&Bound<'_, PyAny>>,
        concurrency: Option<usize>,
        edition: Option<String>,
        batch_size: Option<usize>,
        window: Option<usize>,
        progress_interval: Option<f64>,
    ) -> PyResult<BulkReport> {
        let settings = ApplySettings {
            recheck,
            max_unlinks: max_unlinks_text(max_unlinks)?,
            window,
            bulk: BulkSettings {
                concurrency,
                edition,
                batch_size,
                progress_interval: convert::seconds(progress_interval, "progress_interval")
                    .map_err(|e| to_py_err(py, e))?,
                ..BulkSettings::default()
            },
        };
        let options = settings.options().map_err(|e| to_py_err(py, e))?;
        let stop = Stop::new();
        let (plan, client) = (&self.inner, &self.client);
        let (summary, outcomes) = crate::logging::detach(py, || {
            let mut outcomes = Vec::new();
            let mut progress = report_progress(&stop, &on_progress, Progress::from_core);
            let summary = client.apply_plan(plan, &options, &mut |o| outcomes.push(o), &mut progress, &stop.cancel);
            (summary.map(|s| s.bulk), outcomes)
        });
        finish(py, summary, outcomes, &stop)
    }
    fn __len__(&self) -> usize {
        self.inner.summary().changes() as usize
    }
    fn __getitem__(&self, index: isize) -> PyResult<Change> {
        let i = seq_index(index, self.inner.summary().changes() as usize)?;
        let (p, c) = self.inner.changes().nth(i).expect("counted");
        Ok(Change { parent: p.path_value().to_owned(), inner: c.clone() })
    }
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.change_list(py)?.try_iter()
    }
    fn __str__(&self) -> String {
        self.inner.summary_text()
    }
    fn __repr__(&self) -> String {
        let s = self.inner.summary();
        format!("Plan(links={}, updates={}, unlinks={}, unchanged={})", s.links, s.updates, s.unlinks, s.unchanged)
    }
}

/// One change of a plan.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct Change {
    parent: String,
    inner: CoreChange,
}

#[pymethods]
impl Change {
    /// `"link"`, `"update"` or `"unlink"`.
    #[getter]
    fn op(&self) -> &'static str {
        self.inner.kind.as_str()
    }
    /// The parent's external value (or record id).
    #[getter]
    fn parent(&self) -> &str {
        &self.parent
    }
    /// The related record's key; `None` for an unlink of a record without an external value (by `id`).
    #[getter]
    fn related(&self) -> Option<&str> {
        self.inner.related.as_deref()
    }
    /// The linked record's Zoho id (update, unlink).
    #[getter]
    fn id(&self) -> Option<&str> {
        self.inner.id.as_deref()
    }
    /// The relation fields to write (link, update); a new dict on each access.
    #[getter]
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        json_map_to_py(py, &self.inner.fields)
    }
    /// Their values as read (update), or the linked record's managed fields (unlink).
    #[getter]
    fn before<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        json_map_to_py(py, &self.inner.before)
    }
    /// The input row (link, update).
    #[getter]
    fn row(&self) -> Option<usize> {
        self.inner.row
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Change(op={}, parent={}, related={})",
            py_repr(py, self.inner.kind.as_str())?,
            py_repr(py, &self.parent)?,
            py_repr(py, &self.inner.label())?
        ))
    }
}

/// The totals of a plan.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct PlanSummary(CoreSummary);

#[pymethods]
impl PlanSummary {
    /// Input rows read.
    #[getter]
    fn rows(&self) -> u64 {
        self.0.rows
    }
    /// ... of which could not be used.
    #[getter]
    fn invalid_rows(&self) -> u64 {
        self.0.invalid_rows
    }
    /// ... of which repeated an earlier row's pair (the later row wins).
    #[getter]
    fn duplicate_rows(&self) -> u64 {
        self.0.duplicate_rows
    }
    /// Distinct parents in the input.
    #[getter]
    fn parents(&self) -> u64 {
        self.0.parents
    }
    /// ... of which could not be read (nothing planned for them).
    #[getter]
    fn parents_failed(&self) -> u64 {
        self.0.parents_failed
    }
    /// ... of which have changes.
    #[getter]
    fn parents_changed(&self) -> u64 {
        self.0.parents_changed
    }
    /// Read calls made.
    #[getter]
    fn read_calls(&self) -> u64 {
        self.0.read_calls
    }
    /// Links of the input's parents when read.
    #[getter]
    fn current_links(&self) -> u64 {
        self.0.current_links
    }
    /// Links planned.
    #[getter]
    fn links(&self) -> u64 {
        self.0.links
    }
    /// Updates planned.
    #[getter]
    fn updates(&self) -> u64 {
        self.0.updates
    }
    /// Unlinks planned.
    #[getter]
    fn unlinks(&self) -> u64 {
        self.0.unlinks
    }
    /// Desired pairs already as desired.
    #[getter]
    fn unchanged(&self) -> u64 {
        self.0.unchanged
    }
    /// Unlinks not planned because of invalid rows.
    #[getter]
    fn withheld_unlinks(&self) -> u64 {
        self.0.withheld_unlinks
    }
    /// Changes planned.
    #[getter]
    fn changes(&self) -> u64 {
        self.0.changes()
    }
    fn __repr__(&self) -> String {
        let s = &self.0;
        format!(
            "PlanSummary(parents={}, current_links={}, links={}, updates={}, unlinks={}, unchanged={}, invalid_rows={})",
            s.parents, s.current_links, s.links, s.updates, s.unlinks, s.unchanged, s.invalid_rows
        )
    }
}

/// Progress of planning, passed to `plan_links`'s `on_progress`.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct PlanProgress(CorePlanProgress);

#[pymethods]
impl PlanProgress {
    /// Input rows read.
    #[getter]
    fn rows_read(&self) -> u64 {
        self.0.rows_read
    }
    /// Usable rows whose parent was diffed.
    #[getter]
    fn rows_planned(&self) -> u64 {
        self.0.rows_planned
    }
    /// Usable rows in the input.
    #[getter]
    fn rows_total(&self) -> Option<u64> {
        self.0.rows_total
    }
    /// Parents diffed.
    #[getter]
    fn parents(&self) -> u64 {
        self.0.parents
    }
    /// Read calls so far.
    #[getter]
    fn read_calls(&self) -> u64 {
        self.0.read_calls
    }
    /// Changes planned so far.
    #[getter]
    fn changes(&self) -> u64 {
        self.0.changes
    }
    /// Seconds since the start.
    #[getter]
    fn elapsed(&self) -> f64 {
        self.0.elapsed.as_secs_f64()
    }
    fn __repr__(&self) -> String {
        let p = &self.0;
        format!(
            "PlanProgress(rows_planned={}, parents={}, read_calls={}, changes={})",
            p.rows_planned, p.parents, p.read_calls, p.changes
        )
    }
}

/// A plan from its JSON, bound to `client` for `apply`.
pub fn load_plan(py: Python<'_>, client: &Client, text: &str) -> PyResult<Plan> {
    let plan = CorePlan::from_json(text).map_err(|e| invalid_input(py, e))?;
    Ok(Plan::new(plan, client.inner.clone()))
}
