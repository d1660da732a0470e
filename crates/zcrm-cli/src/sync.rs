//! `zcrm sync`: make Zoho's links of one relation equal a CSV of desired pairs, showing the plan before anything
//! changes ([`zcrm_extid::reconcile`]).
//!
//! ```text
//! zcrm sync --csv desired.csv --parent Contacts.External_Contact_ID --related Deals.External_Deal_ID \
//!           --field Contact_Role=role [--unlink-missing] [--max-unlinks 5%] [--plan-out plan.json] [--apply]
//! zcrm sync --apply-plan plan.json
//! ```
//!
//! Without `--apply` it reads Zoho's current links of every parent in the CSV, prints the plan's summary and
//! diff (stdout), optionally saves it (`--plan-out`), and changes nothing. With `--apply` it then applies the
//! plan it just printed; `--apply-plan` applies a saved plan exactly as it was reviewed. Applying writes a
//! report (one line per change, as `zcrm link`'s; `row` is the change's number in the plan) and prints a
//! summary.
//!
//! Re-reading before apply (choice): `--apply-plan` re-reads every changed parent and refuses it if its links
//! changed since the plan was made (`--no-recheck` skips that). `--apply` right after planning does not re-read
//! by default, since nothing could review the plan in between and the reads are seconds old (`--recheck` to
//! re-read anyway): so a plan-and-apply costs the reads plus the minimal writes.
//!
//! Exit status: 0 done (or planned) with every change applied; 1 some change failed, a parent was refused, a
//! parent could not be read or a row was invalid; 2 bad arguments or input, or the plan unlinks more than
//! `--max-unlinks` allows (nothing sent); 3 an error stopped the job; 130 interrupted.

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};

use zcrm_extid::reconcile::settings::{ApplySettings, PlanSettings};
use zcrm_extid::reconcile::{ApplySummary, Plan, PlanProgress, SyncSpec};
use zcrm_extid::settings::{BulkSettings, MappingSettings};
use zcrm_extid::{Client, Error};

use crate::connect::ConnectArgs;
use crate::exit;
use crate::input::CsvInput;
use crate::interrupt::Interrupt;
use crate::pairs::parse_fields;
use crate::progress::Display;
use crate::report::{Identity, Report};

/// `zcrm sync`.
#[derive(Debug, Clone, clap::Args)]
pub struct SyncArgs {
    /// The desired pairs (CSV with a header row).
    #[arg(long, value_name = "FILE", required_unless_present = "apply_plan", conflicts_with = "apply_plan")]
    pub csv: Option<PathBuf>,
    /// The parent as Module.Field (`id` for record ids).
    #[arg(long, value_name = "MODULE.FIELD", required_unless_present = "apply_plan")]
    pub parent: Option<String>,
    /// The related records as Module.Field (`id` for record ids).
    #[arg(long, value_name = "MODULE.FIELD", required_unless_present = "apply_plan")]
    pub related: Option<String>,
    /// The related list's API name (default: the related module's name).
    #[arg(long)]
    pub related_list: Option<String>,
    /// CSV column holding the parent (default: the parent's field name).
    #[arg(long)]
    pub parent_column: Option<String>,
    /// CSV column holding the related key (default: the related field name).
    #[arg(long)]
    pub related_column: Option<String>,
    /// A managed relation field from a column: API_NAME=column (repeatable), e.g. Contact_Role=role. An empty
    /// cell leaves the field as it is for that pair.
    #[arg(long = "field", value_name = "API_NAME=COLUMN")]
    pub fields: Vec<String>,
    /// Also unlink records linked to a parent of the CSV but absent from it (parents absent from the CSV are
    /// never touched).
    #[arg(long)]
    pub unlink_missing: bool,
    /// Refuse to apply a plan that unlinks more than N pairs, or P% of the links read (e.g. 500 or 5%).
    #[arg(long, value_name = "N|P%")]
    pub max_unlinks: Option<String>,
    /// Save the plan as JSON (to review, then `--apply-plan`).
    #[arg(long, value_name = "FILE")]
    pub plan_out: Option<PathBuf>,
    /// Apply the plan after printing it.
    #[arg(long)]
    pub apply: bool,
    /// Apply a saved plan, as it was reviewed.
    #[arg(long, value_name = "PLAN")]
    pub apply_plan: Option<PathBuf>,
    /// Re-read each changed parent before applying its changes, and refuse it if it changed since planning
    /// (the default with --apply-plan).
    #[arg(long, conflicts_with = "no_recheck")]
    pub recheck: bool,
    /// Do not re-read (the default with --apply).
    #[arg(long)]
    pub no_recheck: bool,
    /// Where to write the per-change report (default: <csv or plan>.sync-report.csv).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print only the plan's summary, not one line per change.
    #[arg(long)]
    pub no_diff: bool,
    /// Most calls in flight, reads and writes alike (default 10).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// The org's edition, for the concurrency limit: free, standard, professional, enterprise, ultimate.
    #[arg(long)]
    pub edition: Option<String>,
    /// Records per call (1-100).
    #[arg(long)]
    pub batch_size: Option<usize>,
}

fn fail(status: i32, message: &str) -> i32 {
    eprintln!("zcrm: {}", zcrm_extid::redact::escape_text(message));
    status
}

/// Runs the command; returns the exit status.
pub fn run(args: &SyncArgs, connect: &ConnectArgs) -> i32 {
    let interrupt = Interrupt::install();
    let (plan, source) = match &args.apply_plan {
        Some(path) => match load(path) {
            Ok(plan) => (plan, path.clone()),
            Err(e) => return fail(exit::INVALID, &e),
        },
        None => {
            let client = match connect.client() {
                Ok(c) => c,
                Err(e) => return fail(exit::INVALID, &e),
            };
            match make_plan(args, &client, &interrupt) {
                Ok(plan) => (plan, args.csv.clone().unwrap_or_default()),
                Err((status, e)) => return fail(status, &e),
            }
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(plan.summary_text().as_bytes());
    if !args.no_diff && !plan.is_empty() {
        let _ = writeln!(out);
        let _ = plan.write_diff(&mut out);
    }
    let _ = out.flush();
    drop(out);
    if let Some(path) = &args.plan_out {
        if let Err(e) = save(&plan, path) {
            return fail(exit::REQUEST_FAILED, &e);
        }
        eprintln!("zcrm: plan saved to {} (apply it with: zcrm sync --apply-plan {})", path.display(), path.display());
    }
    let planned_ok = plan.summary().invalid_rows == 0 && plan.summary().parents_failed == 0;
    if !args.apply && args.apply_plan.is_none() {
        return if planned_ok { exit::OK } else { exit::SOME_FAILED };
    }
    let client = match connect.client() {
        Ok(c) => c,
        Err(e) => return fail(exit::INVALID, &e),
    };
    let recheck = if args.apply_plan.is_some() { !args.no_recheck } else { args.recheck };
    let report = args.report.clone().unwrap_or_else(|| PathBuf::from(format!("{}.sync-report.csv", source.display())));
    match apply(args, &client, &plan, recheck, &report, &interrupt) {
        Ok(summary) => {
            print_applied(&summary, &report);
            let s = &summary.bulk;
            if s.stopped.is_some() {
                exit::REQUEST_FAILED
            } else if s.cancelled {
                exit::INTERRUPTED
            } else if s.failed > 0 || !planned_ok {
                exit::SOME_FAILED
            } else {
                exit::OK
            }
        }
        Err((status, e)) => fail(status, &e),
    }
}

fn load(path: &Path) -> Result<Plan, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Plan::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the plan beside `path` and renames it into place: the file is a whole plan or the old one.
fn save(plan: &Plan, path: &Path) -> Result<(), String> {
    let name = path.file_name().ok_or_else(|| format!("{}: not a file name", path.display()))?;
    let temp = path.with_file_name(format!(".{}.zcrm-{}.tmp", name.to_string_lossy(), std::process::id()));
    let written = (|| {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&temp)?);
        plan.write_json(&mut f)?;
        f.write_all(b"\n")?;
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot write the plan {}: {e}", path.display())
    })
}

fn make_plan(args: &SyncArgs, client: &Client, interrupt: &Interrupt) -> Result<Plan, (i32, String)> {
    let invalid = |e: String| (exit::INVALID, e);
    let csv = args.csv.as_deref().ok_or_else(|| invalid("--csv is required".into()))?;
    let settings = MappingSettings {
        parent: args.parent.clone().unwrap_or_default(),
        related: args.related.clone().unwrap_or_default(),
        related_list: args.related_list.clone(),
        parent_column: args.parent_column.clone(),
        related_column: args.related_column.clone(),
        fields: Some(parse_fields(&args.fields).map_err(invalid)?),
        extra: None,
    };
    let (spec, mapping) = SyncSpec::from_mapping(&settings).map_err(|e| invalid(e.to_string()))?;
    let options = PlanSettings {
        unlink_missing: Some(args.unlink_missing),
        max_unlinks: args.max_unlinks.clone(),
        concurrency: args.concurrency,
        edition: args.edition.clone(),
        ..PlanSettings::default()
    }
    .options()
    .map_err(|e| invalid(e.to_string()))?;
    let input = CsvInput::open(csv).map_err(invalid)?;
    let header = input.header().to_vec();
    mapping.check_columns(&header).map_err(|e| invalid(format!("{}: {}", csv.display(), e.message)))?;
    let rows = input.rows().map_err(invalid)?.map(|row| {
        let index = (row.number - 1) as usize;
        row.text(&header).and_then(|rec| {
            let get = |col: &str| {
                let i = header.iter().position(|h| h == col)?;
                rec.get(i).map(|v| serde_json::Value::String(v.to_owned()))
            };
            mapping.map_row(index, &get, &mut header.iter().map(String::as_str))
        })
    });
    let mut last = std::time::Instant::now();
    let mut progress = |p: &PlanProgress| {
        if last.elapsed().as_secs() >= 2 {
            last = std::time::Instant::now();
            eprintln!(
                "zcrm: planning: {} of {} rows, {} parents read in {} calls, {} changes so far",
                p.rows_planned,
                p.rows_total.unwrap_or(p.rows_read),
                p.parents,
                p.read_calls,
                p.changes
            );
        }
    };
    let plan = client.plan_links(&spec, &options, rows, &mut progress, interrupt.cancel());
    plan.map_err(|e| match e {
        Error::Cancelled { .. } => (exit::INTERRUPTED, "interrupted while planning; nothing was changed".into()),
        Error::InvalidInput(_) | Error::InvalidConfig { .. } => (exit::INVALID, e.to_string()),
        other => (exit::REQUEST_FAILED, format!("planning failed; nothing was changed: {other}")),
    })
}

fn apply(
    args: &SyncArgs,
    client: &Client,
    plan: &Plan,
    recheck: bool,
    report_path: &Path,
    interrupt: &Interrupt,
) -> Result<ApplySummary, (i32, String)> {
    let options = ApplySettings {
        recheck: Some(recheck),
        max_unlinks: args.max_unlinks.clone().filter(|_| args.apply_plan.is_some()),
        window: None,
        bulk: BulkSettings {
            concurrency: args.concurrency,
            edition: args.edition.clone(),
            batch_size: args.batch_size,
            ..BulkSettings::default()
        },
    }
    .options()
    .map_err(|e| (exit::INVALID, e.to_string()))?;
    // The guard first: a refused plan writes no report.
    let s = plan.summary();
    zcrm_extid::reconcile::check_max_unlinks(options.max_unlinks.or(plan.max_unlinks()), s.unlinks, s.current_links)
        .map_err(|e| (exit::INVALID, format!("not applied: {}", e.message)))?;
    if plan.is_empty() {
        eprintln!("zcrm: nothing to apply");
    }
    let report = Report::create(report_path, &[], |_| Ok(())).map_err(|e| (exit::REQUEST_FAILED, e))?;
    *interrupt.report() = Some(report);
    let display = RefCell::new(Display::new(Some(s.changes())));
    let mut write_error: Option<String> = None;
    let summary = client.apply_plan(
        plan,
        &options,
        &mut |o| {
            let mut d = display.borrow_mut();
            d.read(o.row as u64 + 1);
            d.completed(o.outcome.is_success());
            drop(d);
            let identity = Identity { parent: o.parent.to_string(), related: o.key.clone().unwrap_or_default() };
            if let Some(r) = interrupt.report().as_mut()
                && let Err(e) = r.write(o.row as u64 + 1, &identity, &o, &[])
            {
                write_error.get_or_insert(format!("writing the report {} failed: {e}", report_path.display()));
                interrupt.cancel().cancel();
            }
        },
        &mut |p| display.borrow_mut().engine(p),
        interrupt.cancel(),
    );
    let summary = summary.map_err(|e| (exit::INVALID, e.to_string()))?;
    display.borrow().finish(false);
    let report = interrupt.report().take();
    if let Some(e) = write_error {
        return Err((exit::REQUEST_FAILED, e));
    }
    if let Some(r) = report {
        r.sync().map_err(|e| (exit::REQUEST_FAILED, format!("syncing the report failed: {e}")))?;
    }
    Ok(summary)
}

fn print_applied(s: &ApplySummary, report: &Path) {
    let b = &s.bulk;
    println!(
        "\napplied {} of {} changes in {:.2} s; {} write calls, {} reads to recheck, {} retries, {} rate-limited",
        b.succeeded,
        b.rows,
        b.elapsed.as_secs_f64(),
        b.calls,
        s.read_calls,
        b.retries,
        b.rate_limited
    );
    if s.refused_parents > 0 {
        println!(
            "refused: {} parents changed since planning ({} changes not sent): plan again",
            s.refused_parents, s.refused_changes
        );
    }
    if b.failed > s.refused_changes {
        println!("failed: {} changes (see the report)", b.failed - s.refused_changes);
    }
    if let Some(e) = &b.stopped {
        println!("stopped: {e}\n  no more calls were sent after it; fix the cause and sync again");
    } else if b.cancelled {
        println!("interrupted: {} changes were not sent; sync again to plan what is left", b.not_attempted);
    }
    println!("report: {}", report.display());
}
