//! `client.planLinks(rows, options)` -> `Promise<Plan>`, `client.loadPlan(json)`, and `Plan` (`summary`,
//! `changes()`, `summaryText()`, `diff()`, `toJson()`, `apply(options)` -> `Promise<BulkReport>`, iterable). The
//! core plans and applies ([`zcrm_extid::reconcile`]); both run through [`crate::call::promise`] like every
//! bulk job: rows from any (async) iterable ([`crate::rows`]), progress and outcomes through
//! [`crate::bulk::CallbackSink`], `signal` / `timeoutMs`, the report attached to a rejection.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::UnknownReturnValue;
use napi_derive::napi;
use serde_json::{Map, Value};
use zcrm_extid::reconcile::settings::{ApplySettings, PlanSettings};
use zcrm_extid::reconcile::{Plan as CorePlan, PlanProgress as CorePlanProgress, PlanSummary as CoreSummary, SyncSpec};
use zcrm_extid::settings::{BulkSettings, MappingSettings};
use zcrm_extid::{Client as CoreClient, InvalidInput};

use crate::bulk::{CallbackSink, JobSinks, Progress, RowOutcome, pair_rows, settle_job, string_pairs};
use crate::call::{self, Controls, Interrupt, Mode};
use crate::convert::{self, CoreResult, count, millis};
use crate::rows;

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
    #[napi(ts_type = "Edition")]
    pub edition: Option<String>,
    /// Parents read ahead of the oldest not yet compared (default 1,000).
    pub window: Option<f64>,
    /// Least time between two progress reports, ms.
    pub progress_interval_ms: Option<f64>,
    /// Called on the JS thread with planning's progress; if it throws, planning stops and the Promise rejects
    /// with that exception.
    #[napi(ts_type = "(progress: PlanProgress) => void")]
    pub on_progress: Option<Function<'a, PlanProgress, UnknownReturnValue>>,
    /// Stops planning when aborted (the Promise rejects with an `AbortError`; nothing was changed).
    #[napi(ts_type = "AbortSignalLike")]
    pub signal: Option<Object<'a>>,
    /// Stops planning like `signal` after this many milliseconds (code `TIMEOUT`).
    pub timeout_ms: Option<f64>,
}
known_keys!(PlanLinksOptions<'a> {
    parent, related, fields, unlink_missing, max_unlinks, related_list, parent_column, related_column, extra,
    concurrency, edition, window, progress_interval_ms, on_progress, signal, timeout_ms,
});

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
    #[napi(ts_type = "Edition")]
    pub edition: Option<String>,
    /// Records per call, 1 to 100.
    pub batch_size: Option<f64>,
    /// Parents re-read, then written, at a time (default 1,000).
    pub window: Option<f64>,
    /// Least time between two progress reports, ms.
    pub progress_interval_ms: Option<f64>,
    /// Called on the JS thread with the apply's progress (one row per change), before the Promise settles.
    #[napi(ts_type = "(progress: Progress) => void")]
    pub on_progress: Option<Function<'a, Progress, UnknownReturnValue>>,
    /// Called on the JS thread with each change's outcome as its call completes, before the Promise settles.
    #[napi(ts_type = "(outcome: RowOutcome) => void")]
    pub on_outcome: Option<Function<'a, RowOutcome, UnknownReturnValue>>,
    /// Keep every outcome for the report (default true).
    pub keep_outcomes: Option<bool>,
    /// Cancels when aborted: calls in flight finish, changes not sent are `NOT_ATTEMPTED`; the Promise rejects
    /// with an `AbortError` whose `report` holds every change's outcome.
    #[napi(ts_type = "AbortSignalLike")]
    pub signal: Option<Object<'a>>,
    /// Stops the apply like `signal` after this many milliseconds (code `TIMEOUT`).
    pub timeout_ms: Option<f64>,
}
known_keys!(ApplyPlanOptions<'a> {
    recheck, max_unlinks, concurrency, edition, batch_size, window, progress_interval_ms, on_progress, on_outcome,
    keep_outcomes, signal, timeout_ms,
});

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

/// `client.planLinks(rows, options)`: reads the rows on the JS thread as they are needed (any iterable), plans
/// on an addon thread.
pub fn plan_links<'e>(
    env: &'e Env,
    client: CoreClient,
    rows: Unknown<'e>,
    options: Unknown<'e>,
) -> napi::Result<Object<'e>> {
    let mut read = convert::args::<PlanLinksOptions>(options, "options");
    let (signal, timeout_ms, on_progress) = match &mut read {
        Ok(o) => (o.signal.take(), o.timeout_ms, o.on_progress.take()),
        Err(_) => (None, None, None),
    };
    let thrown: Arc<Mutex<Option<napi::Error>>> = Arc::default();
    let sinks_thrown = thrown.clone();
    call::promise(
        env,
        "planLinks",
        Mode::Job,
        Controls::Given(signal, timeout_ms),
        |control| {
            let o = read?;
            let fields = o.fields.as_ref().map(|f| string_pairs(f, "fields")).transpose()?;
            let settings = MappingSettings {
                parent: o.parent.clone(),
                related: o.related.clone(),
                related_list: o.related_list.clone(),
                parent_column: o.parent_column.clone(),
                related_column: o.related_column.clone(),
                fields,
                extra: o.extra.clone(),
            };
            let (spec, mapping): (SyncSpec, _) = SyncSpec::from_mapping(&settings)?;
            let options = PlanSettings {
                unlink_missing: o.unlink_missing,
                max_unlinks: max_unlinks(&o.max_unlinks)?,
                concurrency: count(o.concurrency, "concurrency")?.map(|n| n as usize),
                edition: o.edition.clone(),
                window: count(o.window, "window")?.map(|n| n as usize),
                progress_interval: millis(o.progress_interval_ms, "progress_interval")?,
            }
            .options()?;
            let progress = on_progress
                .as_ref()
                .map(|f| CallbackSink::<PlanProgress, 0>::new(f, &control.cancel, &sinks_thrown))
                .transpose()
                .map_err(|e| InvalidInput::new("options", e.reason).field("onProgress"))?;
            let all_names = o.extra.as_deref() == Some("error");
            let source = rows::open(env, control.id, rows, pair_rows(mapping, all_names), &control.cancel)?;
            Ok((spec, options, source.rows, progress))
        },
        move |(spec, options, rows, mut progress), control| {
            let plan = client.plan_links(
                &spec,
                &options,
                rows,
                &mut |p: &CorePlanProgress| {
                    if let Some(sink) = progress.as_ref() {
                        sink.send(PlanProgress::from(p));
                    }
                },
                &control.cancel,
            );
            if let Some(sink) = progress.as_mut() {
                sink.flush();
            }
            // Settled in `to_js`, which closes the row source whatever the outcome.
            Ok((plan, client))
        },
        move |settle, (plan, client)| {
            let env = settle.env();
            let source_error = rows::close(env, settle.id())?;
            if let Some(why) = settle.interrupted() {
                let done = match why {
                    Interrupt::Aborted | Interrupt::TimedOut => "planning stopped; nothing was changed in Zoho",
                };
                return Err(settle.interrupt_error(why, done, None::<(&str, ())>));
            }
            // What a callback or the rows threw first: a plan of part of the input must never be used.
            if let Some(e) = thrown.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return Err(e);
            }
            if let Some(value) = source_error {
                return Err(napi::Error::from(value));
            }
            let plan = plan.map_err(|e| settle.error(&e))?;
            Ok(Plan { inner: Arc::new(plan), client })
        },
    )
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
    /// would fail every call, an abort or a timeout rejects, the report attached as `error.report`.
    #[napi(ts_args_type = "options?: ApplyPlanOptions", ts_return_type = "Promise<BulkReport>")]
    pub fn apply<'e>(&self, env: &'e Env, options: Option<Unknown<'e>>) -> napi::Result<Object<'e>> {
        let mut read = options.map(|o| convert::args::<ApplyPlanOptions>(o, "options")).transpose();
        let (signal, timeout_ms, on_progress, on_outcome, keep_outcomes) = match &mut read {
            Ok(Some(o)) => (
                o.signal.take(),
                o.timeout_ms,
                o.on_progress.take(),
                o.on_outcome.take(),
                o.keep_outcomes.unwrap_or(true),
            ),
            _ => (None, None, None, None, true),
        };
        let (plan, client) = (self.inner.clone(), self.client.clone());
        let thrown: Arc<Mutex<Option<napi::Error>>> = Arc::default();
        let sinks_thrown = thrown.clone();
        call::promise(
            env,
            "Plan.apply",
            Mode::Job,
            Controls::Given(signal, timeout_ms),
            |control| {
                let settings = match read? {
                    None => ApplySettings::default(),
                    Some(o) => ApplySettings {
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
                    },
                };
                let sinks =
                    JobSinks::open(on_progress.as_ref(), on_outcome.as_ref(), keep_outcomes, control, &sinks_thrown)?;
                Ok((settings.options()?, sinks))
            },
            move |(options, mut sinks), control| {
                let summary = {
                    let (mut on_outcome, mut on_progress) = sinks.callbacks();
                    client.apply_plan(&plan, &options, &mut on_outcome, &mut on_progress, &control.cancel)
                };
                summary.map(|s| (sinks.finish(), s.bulk))
            },
            move |settle, (outcomes, summary)| settle_job(settle, outcomes, summary, &thrown, false),
        )
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
