//! `zcrm link`: link the pairs of a CSV file at the API's limit, with progress and a per-row report.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use zcrm_extid::bulk::{BulkOptions, BulkRow, BulkSpec, BulkSummary, Cancel, PlanItem, Progress, RowMapping, plan};
use zcrm_extid::settings::{BulkSettings, ClientSettings, MappingSettings};
use zcrm_extid::{Client, InvalidInput};

use crate::connect::ConnectArgs;
use crate::exit;
use crate::progress::Display;
use crate::report::{Report, Resume};

/// `zcrm link --csv pairs.csv --parent Contacts.External_Contact_ID --related Deals.External_Deal_ID --report r.csv`
#[derive(Debug, Clone, clap::Args)]
pub struct LinkArgs {
    /// The input CSV (with a header row).
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// The parent as Module.Field: the base module and the field addressing the parent (`id` for record ids).
    #[arg(long, value_name = "MODULE.FIELD")]
    pub parent: String,
    /// The related records as Module.Field: the related module and the field keying them (`id` for record ids).
    #[arg(long, value_name = "MODULE.FIELD")]
    pub related: String,
    /// The related list's API name (default: the related module's name).
    #[arg(long)]
    pub related_list: Option<String>,
    /// CSV column holding the parent (default: the parent's field name).
    #[arg(long)]
    pub parent_column: Option<String>,
    /// CSV column holding the related key (default: the related field name).
    #[arg(long)]
    pub related_column: Option<String>,
    /// A relation field from a column: API_NAME=column (repeatable), e.g. Contact_Role=role.
    #[arg(long = "field", value_name = "API_NAME=COLUMN")]
    pub fields: Vec<String>,
    /// Where to write the per-row report (default: <csv>.report.csv).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Skip the rows a previous report marks ok (and copy them into the new report).
    #[arg(long, value_name = "REPORT")]
    pub resume: Option<PathBuf>,
    /// Print the calls as curl commands (token redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Most calls in flight (default 10: Zoho's sub-concurrency for calls of more than 10 records).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// The org's edition, for the concurrency limit: free, standard, professional, enterprise, ultimate.
    #[arg(long)]
    pub edition: Option<String>,
    /// Records per call (1-100).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Rows buffered for grouping by parent.
    #[arg(long)]
    pub window: Option<usize>,
}

/// What a finished job produced.
pub struct LinkResult {
    /// Totals.
    pub summary: BulkSummary,
    /// Failures by code.
    pub failures: BTreeMap<String, u64>,
    /// Rows skipped by `--resume`.
    pub skipped: u64,
    /// The report written.
    pub report: PathBuf,
}

/// Runs the command; returns the exit status.
pub fn run(args: &LinkArgs, connect: &ConnectArgs) -> i32 {
    let prepared = match prepare(args) {
        Ok(p) => p,
        Err(e) => return fail(exit::INVALID, &e),
    };
    if args.dry_run {
        return dry_run(args, &prepared, &connect.settings());
    }
    let client = match connect.client() {
        Ok(c) => c,
        Err(e) => return fail(exit::INVALID, &e),
    };
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    // A second Ctrl-C during the wind-down ends the process at once.
    let _ = ctrlc::set_handler(move || {
        if c2.is_cancelled() {
            std::process::exit(exit::INTERRUPTED);
        }
        eprintln!("\nzcrm: interrupted: finishing the calls in flight (Ctrl-C again to abort)");
        c2.cancel();
    });
    match execute(&client, args, &prepared, &cancel) {
        Ok(result) => {
            print_summary(&result, &mut std::io::stdout());
            if result.summary.cancelled {
                exit::INTERRUPTED
            } else if result.summary.failed > 0 {
                exit::SOME_FAILED
            } else {
                exit::OK
            }
        }
        Err(e) => fail(exit::INVALID, &e),
    }
}

fn fail(status: i32, message: &str) -> i32 {
    eprintln!("zcrm: {}", zcrm_extid::redact::escape_text(message));
    status
}

/// The validated job: spec, options, mapping, and the CSV's header.
pub struct Prepared {
    spec: BulkSpec,
    options: BulkOptions,
    mapping: RowMapping,
    header: Vec<String>,
}

/// Checks everything that can be checked before a row is sent: options, mapping, the CSV header.
pub fn prepare(args: &LinkArgs) -> Result<Prepared, String> {
    let fields = args
        .fields
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(a, c)| (a.to_owned(), c.to_owned()))
                .ok_or_else(|| format!("--field {f:?}: expected API_NAME=column"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let (spec, mapping) = MappingSettings {
        parent: args.parent.clone(),
        related: args.related.clone(),
        related_list: args.related_list.clone(),
        parent_column: args.parent_column.clone(),
        related_column: args.related_column.clone(),
        // With no --field, the CSV's other columns are not sent: a CSV often carries columns for humans.
        fields: Some(fields),
    }
    .build()
    .map_err(|e| e.to_string())?;
    let options = BulkSettings {
        concurrency: args.concurrency,
        edition: args.edition.clone(),
        batch_size: args.batch_size,
        window: args.window,
        ..BulkSettings::default()
    }
    .options()
    .map_err(|e| e.to_string())?;
    let mut reader = open_csv(&args.csv)?;
    let header: Vec<String> =
        reader.headers().map_err(|e| format!("{}: {e}", args.csv.display()))?.iter().map(str::to_owned).collect();
    mapping.check_columns(&header).map_err(|e| format!("{}: {}", args.csv.display(), e.message))?;
    Ok(Prepared { spec, options, mapping, header })
}

fn open_csv(path: &Path) -> Result<csv::Reader<File>, String> {
    let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(csv::ReaderBuilder::new().flexible(true).from_reader(f))
}

/// Rows of the CSV as bulk rows, with their 1-based row numbers; rows in `skip` are left out.
fn rows<'a>(
    path: &Path,
    prepared: &'a Prepared,
    skip: Option<&'a Resume>,
    numbers: &'a RefCell<VecDeque<u64>>,
) -> Result<impl Iterator<Item = Result<BulkRow, InvalidInput>> + 'a, String> {
    let reader = open_csv(path)?;
    let mut records = reader.into_records().enumerate();
    Ok(std::iter::from_fn(move || {
        loop {
            let (i, rec) = records.next()?;
            let row = i as u64 + 1;
            if skip.is_some_and(|r| r.is_done(row)) {
                continue;
            }
            numbers.borrow_mut().push_back(row);
            return Some(match rec {
                Ok(rec) => {
                    let get = |col: &str| -> Option<Value> {
                        let idx = prepared.header.iter().position(|h| h == col)?;
                        rec.get(idx).map(|v| Value::String(v.to_owned()))
                    };
                    let mut cols = prepared.header.iter().map(String::as_str);
                    prepared.mapping.map_row(i, &get, &mut cols)
                }
                Err(e) => Err(csv_error(i, &e, &prepared.header)),
            });
        }
    }))
}

fn csv_error(i: usize, e: &csv::Error, header: &[String]) -> InvalidInput {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            let column = header.get(err.field()).cloned().unwrap_or_else(|| format!("#{}", err.field() + 1));
            InvalidInput::new("row", format!("column {column:?} is not valid UTF-8")).at(i).field(column)
        }
        _ => InvalidInput::new("row", format!("unreadable CSV record: {e}")).at(i),
    }
}

/// Runs the job with progress and the report.
pub fn execute(client: &Client, args: &LinkArgs, prepared: &Prepared, cancel: &Cancel) -> Result<LinkResult, String> {
    let resume = args.resume.as_deref().map(Resume::open).transpose()?;
    let skipped = resume.as_ref().map_or(0, |r| r.skipped);
    let report_path =
        args.report.clone().unwrap_or_else(|| PathBuf::from(format!("{}.report.csv", args.csv.display())));
    // The report copies resumed lines while it writes; the row filter needs its own reading of the old report.
    let filter = args.resume.as_deref().map(Resume::open).transpose()?;
    let mut report = Report::create(&report_path, resume)?;
    let total = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        open_csv(&args.csv)?.into_records().count().checked_sub(skipped as usize).map(|n| n as u64)
    } else {
        None
    };
    let mut display = Display::new(total);
    let numbers = RefCell::new(VecDeque::new());
    let input = rows(&args.csv, prepared, filter.as_ref(), &numbers)?;
    let mut failures = BTreeMap::new();
    let mut write_error = None;
    let mut last = Progress::default();
    let summary = client
        .link_many(
            &prepared.spec,
            &prepared.options,
            input,
            &mut |o| {
                let row = numbers.borrow_mut().pop_front().expect("one number per row read");
                if !o.outcome.is_success() {
                    *failures.entry(o.outcome.code().to_owned()).or_insert(0) += 1;
                }
                if let Err(e) = report.write(row, &o) {
                    write_error.get_or_insert(e);
                    cancel.cancel();
                }
            },
            &mut |p| {
                display.update(p);
                last = p.clone();
            },
            cancel,
        )
        .map_err(|e| e.to_string())?;
    display.finish(&last);
    if let Some(e) = write_error {
        return Err(format!("writing the report failed: {e}"));
    }
    let report = report.finish()?;
    Ok(LinkResult { summary, failures, skipped, report })
}

/// Prints the job's summary.
pub fn print_summary(r: &LinkResult, out: &mut dyn Write) {
    let s = &r.summary;
    let secs = s.elapsed.as_secs_f64();
    let _ = writeln!(
        out,
        "linked {} of {} rows in {:.2} s ({:.0} rows/s); {} calls, {} retries, {} rate-limited{}",
        s.succeeded,
        s.rows,
        secs,
        s.rows as f64 / secs.max(1e-9),
        s.calls,
        s.retries,
        s.rate_limited,
        if r.skipped > 0 { format!("; {} rows skipped (done before)", r.skipped) } else { String::new() }
    );
    if s.failed > 0 {
        let by_code: Vec<String> = r.failures.iter().map(|(c, n)| format!("{n} {c}")).collect();
        let _ = writeln!(out, "failed: {} ({})", s.failed, by_code.join(", "));
    }
    if s.cancelled {
        let _ = writeln!(
            out,
            "interrupted: {} rows read but not sent are NOT_ATTEMPTED; rerun with --resume",
            s.not_attempted
        );
    }
    let _ = writeln!(out, "report: {}", r.report.display());
}

fn dry_run(args: &LinkArgs, prepared: &Prepared, settings: &ClientSettings) -> i32 {
    let (base, version) = match settings.target() {
        Ok(t) => t,
        Err(e) => return fail(exit::INVALID, &e.to_string()),
    };
    let numbers = RefCell::new(VecDeque::new());
    let input = match rows(&args.csv, prepared, None, &numbers) {
        Ok(i) => i,
        Err(e) => return fail(exit::INVALID, &e),
    };
    let (mut calls, mut invalid) = (0u64, 0u64);
    let mut out = std::io::stdout().lock();
    for item in plan(&prepared.spec, &prepared.options, input) {
        match item {
            PlanItem::Call { rows, request } => {
                calls += 1;
                let numbers: Vec<String> = rows.iter().map(|r| (r + 1).to_string()).collect();
                let _ = writeln!(out, "# call {calls}: CSV rows {}", numbers.join(","));
                let _ = writeln!(out, "{}\n", request.prepare(&base, version).to_curl());
            }
            PlanItem::Invalid { row, error } => {
                invalid += 1;
                eprintln!("zcrm: row {}: {}", row + 1, zcrm_extid::redact::escape_text(&error.message));
            }
        }
    }
    eprintln!("zcrm: dry run: {calls} calls; {invalid} invalid rows; nothing was sent");
    if invalid > 0 { exit::SOME_FAILED } else { exit::OK }
}
