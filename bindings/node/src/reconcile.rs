//! `client.planLinks(rows, options)` -> `Promise<Plan>`, `client.loadPlan(json)`, and `Plan` (`summary`,
//! `changes()`, `summaryText()`, `diff()`, `toJson()`, `apply(options)` -> `Promise<BulkReport>`, iterable). The
//! core plans and applies ([`zcrm_extid::reconcile`]); rows and options are read on the JS thread, the work runs
//! on libuv workers, progress comes back through a ThreadsafeFunction, an `AbortSignal` cancels.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::UnknownReturnValue;
use napi_derive::napi;
use serde_json::{Map, Value};
use zcrm_extid::bulk::{BulkRow, Cancel, RowOutcome as CoreRowOutcome};
use zcrm_extid::reconcile::settings::{ApplySettings, PlanSettings};
use zcrm_extid::reconcile::{
    ApplySummary, Plan as CorePlan, PlanOptions, PlanProgress as CorePlanProgress, PlanSummary as CoreSummary, SyncSpec,
};
use zcrm_extid::settings::BulkSettings;
use zcrm_extid::{Client as CoreClient, Error, InvalidInput};

use crate::bulk::{AbortHook, BulkReport, ProgressSink, mapping_settings, read_rows, report};
use crate::convert::{self, CoreResult, count, millis};
use crate::errors;

/// How `planLinks` reads rows and plans.
#[napi(object, object_to_js = false)]
pub struct PlanLinksOptions<'a> {
    /// The base module and how rows name the parent: `Module.Field` (`Contacts.id`: by record id).
    pub parent: String,
    /// The related module and how rows key the related record: `Module.Field`.
    pub related: String,
    /// Managed relation fields: API name -> row property. An empty or missing value leaves the field as it is
    /// for that pair.
    #[napi(ts_type = "Record<string, string>")]
    pub fields: Option<Map<String, Value>>,
    /// Unlink records linked to a parent of the rows but absent from them (default false; parents absent from
    /// the rows are never touched).
    pub unlink_missing: Option<bool>,
    /// Refuse to apply a plan with more unlinks: a count, or a string `'N'` or `'P%'` of the links read.
    #[napi(ts_type = "number | string")]
    pub max_unlinks: Option<Either<f64, String>>,
    /// The related list (default: the related module's name).
    pub related_list: Option<String>,
    /// The row property holding the parent (default: the parent's field name).
    pub parent_column: Option<String>,
    /// The row property holding the related key (default: the related field name).
    pub related_column: Option<String>,
    /// Other properties of a row: `'ignore'` (default) or `'error'`.
    #[napi(ts_type = "'ignore' | 'error'")]
    pub extra: Option<String>,
    /// Reads on the wire at once (default 10, the bulk jobs' limit).
    pub concurrency: Option<f64>,
    /// Zoho edition whose concurrency limit applies when `concurrency` is not given.
    pub edition: Option<String>,
    /// Parents read ahead of the oldest not yet compared (default 1,000).
    pub window: Option<f64>,
    /// Least time between two progress reports, ms.
    pub progress_interval_ms: Option<f64>,
    /// Called on the JS thread with planning's progress; if it throws, planning stops and the Promise rejects
    /// with that exception.
    #[napi(ts_type = "(progress: PlanProgress) => void")]
    pub on_progress: Option<Function<'a, PlanProgress, UnknownReturnValue>>,
    /// Stops planning when aborted (the Promise rejects with a `CANCELLED` error; nothing was changed).
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// How `plan.apply` runs.
#[napi(object, object_to_js = false)]
pub struct ApplyPlanOptions<'a> {
    /// Read each changed parent again first and refuse it if its links changed since planning (default true).
    pub recheck: Option<bool>,
    /// A guard replacing the plan's own: a count, or `'N'` / `'P%'`.
    #[napi(ts_type = "number | string")]
    pub max_unlinks: Option<Either<f64, String>>,
    /// Most calls on the wire at once (reads and writes).
    pub concurrency: Option<f64>,
    /// Zoho edition whose concurrency limit applies when `concurrency` is not given.
    pub edition: Option<String>,
    /// Records per call, 1 to 100.
    pub batch_size: Option<f64>,
    /// Parents re-read, then written, at a time (default 1,000).
    pub window: Option<f64>,
    /// Least time between two progress reports, ms.
    pub progress_interval_ms: Option<f64>,
    /// Called on the JS thread with the apply's progress (one row per change), before the Promise settles.
    #[napi(ts_type = "(progress: Progress) => void")]
    pub on_progress: Option<Function<'a, crate::bulk::Progress, UnknownReturnValue>>,
    /// Cancels when aborted: calls in flight finish, changes not sent are `NOT_ATTEMPTED`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Progress of planning.
#[napi(object, object_from_js = false)]
pub struct PlanProgress {
    /// Input rows read.
    pub rows_read: f64,
    /// Usable rows whose parent was compared.
    pub rows_planned: f64,
    /// Usable rows in the input.
    pub rows_total: Option<f64>,
    /// Parents compared.
    pub parents: f64,
    /// Read calls so far.
    pub read_calls: f64,
    /// Changes planned so far.
    pub changes: f64,
    /// Time since the start, ms.
    pub elapsed_ms: f64,
}

impl From<&CorePlanProgress> for PlanProgress {
    fn from(p: &CorePlanProgress) -> Self {
        PlanProgress {
            rows_read: p.rows_read as f64,
            rows_planned: p.rows_planned as f64,
            rows_total: p.rows_total.map(|n| n as f64),
            parents: p.parents as f64,
            read_calls: p.read_calls as f64,
            changes: p.changes as f64,
            elapsed_ms: p.elapsed.as_secs_f64() * 1000.0,
        }
    }
}

/// One change of a plan.
#[napi(object, object_from_js = false)]
pub struct Change {
    /// `'link'`, `'update'` or `'unlink'`.
    #[napi(ts_type = "'link' | 'update' | 'unlink'")]
    pub op: String,
    /// The parent's external value (or record id).
    pub parent: String,
    /// The related record's key; absent for an unlink of a record without an external value (by `id`).
    pub related: Option<String>,
    /// The linked record's Zoho id (update, unlink).
    pub id: Option<String>,
    /// The relation fields to write (link, update).
    #[napi(ts_type = "Record<string, JsonValue>")]
    pub fields: Map<String, Value>,
    /// Their values as read (update), or the linked record's managed fields (unlink).
    #[napi(ts_type = "Record<string, JsonValue>")]
    pub before: Map<String, Value>,
    /// The input row (link, update).
    pub row: Option<u32>,
}

/// The totals of a plan.
#[napi(object, object_from_js = false)]
pub struct PlanSummary {
    /// Input rows read.
    pub rows: f64,
    /// ... of which could not be used.
    pub invalid_rows: f64,
    /// ... of which repeated an earlier row's pair (the later row wins).
    pub duplicate_rows: f64,
    /// Distinct parents in the input.
    pub parents: f64,
    /// ... of which could not be read (nothing planned for them).
    pub parents_failed: f64,
    /// ... of which have changes.
    pub parents_changed: f64,
    /// Read calls made.
    pub read_calls: f64,
    /// Links of the input's parents when read.
    pub current_links: f64,
    /// Links planned.
    pub links: f64,
    /// Updates planned.
    pub updates: f64,
    /// Unlinks planned.
    pub unlinks: f64,
    /// Desired pairs already as desired.
    pub unchanged: f64,
    /// Unlinks not planned because of invalid rows.
    pub withheld_unlinks: f64,
    /// Changes planned.
    pub changes: f64,
}

impl From<&CoreSummary> for PlanSummary {
    fn from(s: &CoreSummary) -> Self {
        PlanSummary {
            rows: s.rows as f64,
            invalid_rows: s.invalid_rows as f64,
            duplicate_rows: s.duplicate_rows as f64,
            parents: s.parents as f64,
            parents_failed: s.parents_failed as f64,
            parents_changed: s.parents_changed as f64,
            read_calls: s.read_calls as f64,
            current_links: s.current_links as f64,
            links: s.links as f64,
            updates: s.updates as f64,
            unlinks: s.unlinks as f64,
            unchanged: s.unchanged as f64,
            withheld_unlinks: s.withheld_unlinks as f64,
            changes: s.changes() as f64,
        }
    }
}

/// An input row that could not be used.
#[napi(object, object_from_js = false)]
pub struct InvalidRow {
    /// The row (0-based).
    pub row: u32,
    /// Where: `row[3].deal`.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

/// `max_unlinks` as the core reads it.
fn max_unlinks(v: &Option<Either<f64, String>>) -> CoreResult<Option<String>> {
    Ok(match v {
        None => None,
        Some(Either::B(s)) => Some(s.clone()),
        Some(Either::A(n)) => Some(count(Some(*n), "max_unlinks")?.map(|n| n.to_string()).unwrap_or_default()),
    })
}

/// A plan to make, read on the JS thread.
pub struct PlanJob {
    spec: SyncSpec,
    options: PlanOptions,
    rows: Vec<std::result::Result<BulkRow, InvalidInput>>,
}

/// The rows and options of `planLinks` as the core's.
pub fn plan_job(rows: Unknown, o: &PlanLinksOptions) -> CoreResult<PlanJob> {
    let settings = mapping_settings(
        &o.parent,
        &o.related,
        &o.related_list,
        &o.parent_column,
        &o.related_column,
        &o.fields,
        &o.extra,
    )?;
    let (spec, mapping) = SyncSpec::from_mapping(&settings)?;
    let options = PlanSettings {
        unlink_missing: o.unlink_missing,
        max_unlinks: max_unlinks(&o.max_unlinks)?,
        concurrency: count(o.concurrency, "concurrency")?.map(|n| n as usize),
        edition: o.edition.clone(),
        window: count(o.window, "window")?.map(|n| n as usize),
        progress_interval: millis(o.progress_interval_ms, "progress_interval")?,
    }
    .options()?;
    Ok(PlanJob { spec, options, rows: read_rows(rows, &mapping)? })
}

/// `client.planLinks(rows, options)`.
pub struct PlanTask {
    pub client: CoreClient,
    pub job: CoreResult<PlanJob>,
    pub cancel: Cancel,
    pub progress: Option<ProgressSink<PlanProgress>>,
    pub abort: Option<AbortHook>,
}

impl Task for PlanTask {
    type Output = CoreResult<CorePlan>;
    type JsValue = Plan;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let job = match &mut self.job {
            Ok(job) => job,
            Err(e) => return Ok(Err(e.clone())),
        };
        let rows = std::mem::take(&mut job.rows);
        let progress = &self.progress;
        let plan = self.client.plan_links(
            &job.spec,
            &job.options,
            rows,
            &mut |p| {
                if let Some(sink) = progress.as_ref() {
                    sink.send(PlanProgress::from(p));
                }
            },
            &self.cancel,
        );
        if let Some(sink) = self.progress.as_mut() {
            sink.flush();
        }
        Ok(plan)
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Plan> {
        if let Some(thrown) = self.progress.as_ref().and_then(ProgressSink::thrown) {
            return Err(thrown);
        }
        let plan = output.map_err(|e| errors::to_js(&env, &e))?;
        Ok(Plan { inner: Arc::new(plan), client: self.client.clone() })
    }

    fn finally(self, env: Env) -> napi::Result<()> {
        match self.abort {
            Some(hook) => hook.remove(&env),
            None => Ok(()),
        }
    }
}

/// A reconcile plan: every change (`changes()`, or iterate it), the totals (`summary`), a printable summary
/// and diff, JSON (`toJson()`), and `apply(options)`. Made by `client.planLinks`, or `client.loadPlan`.
#[napi]
pub struct Plan {
    inner: Arc<CorePlan>,
    client: CoreClient,
}

impl Plan {
    pub fn loaded(plan: CorePlan, client: CoreClient) -> Plan {
        Plan { inner: Arc::new(plan), client }
    }
}

#[napi]
impl Plan {
    /// The totals.
    #[napi(getter)]
    pub fn summary(&self) -> PlanSummary {
        PlanSummary::from(self.inner.summary())
    }

    /// True when the plan changes nothing.
    #[napi(getter)]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Whether linked records absent from the input are unlinked.
    #[napi(getter)]
    pub fn unlink_missing(&self) -> bool {
        self.inner.unlink_missing()
    }

    /// The guard (`'500'`, `'5%'`), if any.
    #[napi(getter)]
    pub fn max_unlinks(&self) -> Option<String> {
        self.inner.max_unlinks().map(|m| m.to_string())
    }

    /// The input rows that could not be used.
    #[napi(getter)]
    pub fn invalid(&self) -> Vec<InvalidRow> {
        self.inner
            .invalid()
            .iter()
            .map(|r| InvalidRow { row: r.row as u32, location: r.location.clone(), message: r.message.clone() })
            .collect()
    }

    /// Every change, in the order planned (the apply report's `row` is the position here).
    #[napi]
    pub fn changes(&self) -> Vec<Change> {
        self.inner
            .changes()
            .map(|(p, c)| Change {
                op: c.kind.as_str().to_owned(),
                parent: p.path_value().to_owned(),
                related: c.related.clone(),
                id: c.id.clone(),
                fields: c.fields.clone(),
                before: c.before.clone(),
                row: c.row.map(|r| r as u32),
            })
            .collect()
    }

    /// The totals as text (a few lines).
    #[napi]
    pub fn summary_text(&self) -> String {
        self.inner.summary_text()
    }

    /// One line per change: `+ parent  related  Field="value"`, `~ ... Field: old -> new`, `- parent  related`.
    #[napi]
    pub fn diff(&self) -> String {
        self.inner.diff_text()
    }

    /// The plan as JSON text (with a version), to review and apply later with `client.loadPlan`.
    #[napi]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// Applies the plan. Rejects with `INVALID_INPUT` (argument `max_unlinks`) before anything is sent if it
    /// unlinks more than allowed. With `recheck` (default) each changed parent is read again first and refused
    /// if its links changed since planning (its changes get `CHANGED_SINCE_PLANNING`, nothing is sent for it).
    /// Resolves to one outcome per change (`row` = its position in `changes()`) and the totals; an error that
    /// would fail every call rejects, the report attached as `error.report`.
    #[napi(ts_args_type = "options?: ApplyPlanOptions", ts_return_type = "Promise<BulkReport>")]
    pub fn apply(&self, env: Env, options: Option<Unknown>) -> AsyncTask<ApplyTask> {
        let cancel = Cancel::new();
        let mut progress = None;
        let mut abort = None;
        let mut read = || -> CoreResult<zcrm_extid::reconcile::ApplyOptions> {
            let Some(options) = options else { return ApplySettings::default().options() };
            let o = convert::args::<ApplyPlanOptions>(options, "options")?;
            let settings = ApplySettings {
                recheck: o.recheck,
                max_unlinks: max_unlinks(&o.max_unlinks)?,
                window: count(o.window, "window")?.map(|n| n as usize),
                bulk: BulkSettings {
                    concurrency: count(o.concurrency, "concurrency")?.map(|n| n as usize),
                    edition: o.edition.clone(),
                    batch_size: count(o.batch_size, "batch_size")?.map(|n| n as usize),
                    progress_interval: millis(o.progress_interval_ms, "progress_interval")?,
                    ..BulkSettings::default()
                },
            };
            let wiring = |e: napi::Error, what: &str| Error::from(InvalidInput::new("options", e.reason).field(what));
            if let Some(f) = &o.on_progress {
                progress = Some(ProgressSink::new(f, &cancel).map_err(|e| wiring(e, "onProgress"))?);
            }
            if let Some(signal) = &o.signal {
                abort = AbortHook::new(&env, signal, &cancel).map_err(|e| wiring(e, "signal"))?;
            }
            settings.options()
        };
        let options = read();
        AsyncTask::new(ApplyTask {
            plan: self.inner.clone(),
            client: self.client.clone(),
            options,
            cancel,
            progress,
            abort,
        })
    }
}

/// `plan.apply(options)`.
pub struct ApplyTask {
    plan: Arc<CorePlan>,
    client: CoreClient,
    options: CoreResult<zcrm_extid::reconcile::ApplyOptions>,
    cancel: Cancel,
    progress: Option<ProgressSink>,
    abort: Option<AbortHook>,
}

impl Task for ApplyTask {
    type Output = CoreResult<(Vec<CoreRowOutcome>, ApplySummary)>;
    type JsValue = BulkReport;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let options = match &self.options {
            Ok(o) => o,
            Err(e) => return Ok(Err(e.clone())),
        };
        let mut outcomes = Vec::new();
        let progress = &self.progress;
        let summary = self.client.apply_plan(
            &self.plan,
            options,
            &mut |o| outcomes.push(o),
            &mut |p| {
                if let Some(sink) = progress.as_ref() {
                    sink.send(crate::bulk::Progress::from(p));
                }
            },
            &self.cancel,
        );
        if let Some(sink) = self.progress.as_mut() {
            sink.flush();
        }
        Ok(summary.map(|s| (outcomes, s)))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<BulkReport> {
        if let Some(thrown) = self.progress.as_ref().and_then(ProgressSink::thrown) {
            return Err(thrown);
        }
        let (outcomes, summary) = output.map_err(|e| errors::to_js(&env, &e))?;
        let bulk = summary.bulk;
        match bulk.stopped.clone() {
            None => Ok(report(outcomes, bulk)),
            Some(stopped) => Err(errors::to_js_with(&env, &stopped, "report", report(outcomes, bulk))),
        }
    }

    fn finally(self, env: Env) -> napi::Result<()> {
        match self.abort {
            Some(hook) => hook.remove(&env),
            None => Ok(()),
        }
    }
}

/// Makes `Plan` iterable over its changes (`[Symbol.iterator]`); called once when the addon loads.
pub fn install(env: &Env, exports: &Object) -> Result<()> {
    let patch: Function<FnArgs<(Unknown,)>, Unknown> = env.run_script(
        "(cls) => { Object.defineProperty(cls.prototype, Symbol.iterator, { value: function () { return this.changes()[Symbol.iterator]() }, writable: true, configurable: true }) }",
    )?;
    let class: Unknown = exports.get_named_property("Plan")?;
    patch.call(FnArgs::from((class,)))?;
    Ok(())
}
