//! What `zcrm link` and `zcrm unlink` share: the options of a job over a CSV of parent/related pairs, the
//! validated job ([`PairJob`], the runner's [`BulkCommand`] for any operation on pairs), and the dry run.
//! Each command brings only its operation (and `link` its relation fields).

use std::io::Write;
use std::path::PathBuf;

use zcrm_extid::bulk::{
    BulkOptions, BulkRow, BulkSpec, BulkSummary, Cancel, Operation, PlanItem, Progress, RowMapping, RowOutcome, plan,
};
use zcrm_extid::settings::{BulkSettings, ClientSettings, MappingSettings};
use zcrm_extid::{Call, Client, Error, InvalidInput};

use crate::connect::ConnectArgs;
use crate::exit;
use crate::input::CsvInput;
use crate::runner::{self, BulkCommand, Job};

/// The options of a job over a CSV of pairs: the input, the mapping, the report, resume, tuning.
#[derive(Debug, Clone, clap::Args)]
pub struct PairArgs {
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
    /// Where to write the per-row report (default: <csv>.report.csv): one line per row, written as its outcome
    /// arrives, so a crash leaves a report to resume from.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Skip the rows a previous report marks ok, after checking they are the same rows of the CSV (their lines are
    /// carried into the new report, which may be the same file).
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
    /// Read the CSV in file order instead of sorting it by parent first. Sorting (on disk, bounded memory) makes
    /// every call carry up to 100 rows whatever the file's order; without it, a parent's rows share calls only
    /// if they are within `--window` rows of each other.
    #[arg(long)]
    pub no_partition: bool,
    /// Credits to leave to the org's other integrations (needs --budget): a number (500) or a share of the day's
    /// allowance (10%, with --daily-credits). The job stops before it would eat into them; the rows it did not
    /// send are NOT_ATTEMPTED (cause CREDIT_RESERVE) and the exit status is 1.
    #[arg(long, value_name = "N|P%")]
    pub reserve: Option<String>,
}

impl PairArgs {
    /// The job's files.
    pub fn job(&self) -> Job {
        Job {
            csv: self.csv.clone(),
            report: self.report.clone(),
            resume: self.resume.clone(),
            partition: !self.no_partition,
        }
    }
}

/// `API_NAME=column` flags as pairs.
pub fn parse_fields(fields: &[String]) -> Result<Vec<(String, String)>, String> {
    fields
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(a, c)| (a.to_owned(), c.to_owned()))
                .ok_or_else(|| format!("--field {f:?}: expected API_NAME=column"))
        })
        .collect()
}

/// A validated job over pairs: the operation, options and mapping; the runner's [`BulkCommand`].
pub struct PairJob<O> {
    op: O,
    options: BulkOptions,
    mapping: RowMapping,
    verb: &'static str,
}

/// Checks everything that can be checked before a row is sent: options, mapping (with the relation `fields`
/// read from named columns), the CSV header. `make` builds the operation from the job's spec.
pub fn prepare<O>(
    args: &PairArgs,
    fields: Vec<(String, String)>,
    verb: &'static str,
    make: impl FnOnce(BulkSpec) -> O,
) -> Result<PairJob<O>, String>
where
    O: Operation<Input = BulkRow>,
{
    let (spec, mapping) = MappingSettings {
        parent: args.parent.clone(),
        related: args.related.clone(),
        related_list: args.related_list.clone(),
        parent_column: args.parent_column.clone(),
        related_column: args.related_column.clone(),
        // With no --field, the CSV's other columns are not sent: a CSV often carries columns for humans.
        fields: Some(fields),
        extra: None,
    }
    .build()
    .map_err(|e| e.to_string())?;
    let options = BulkSettings {
        concurrency: args.concurrency,
        edition: args.edition.clone(),
        batch_size: args.batch_size,
        window: args.window,
        reserve: args.reserve.clone(),
        ..BulkSettings::default()
    }
    .options()
    .map_err(|e| e.to_string())?;
    let job = PairJob { op: make(spec), options, mapping, verb };
    let input = CsvInput::open(&args.csv)?;
    job.check_header(input.header()).map_err(|e| format!("{}: {}", args.csv.display(), e.message))?;
    Ok(job)
}

/// Runs a prepared job (or its dry run); returns the exit status.
pub fn run<O>(args: &PairArgs, connect: &ConnectArgs, job: Result<PairJob<O>, String>) -> i32
where
    O: Operation<Input = BulkRow>,
{
    let job = match job {
        Ok(j) => j,
        Err(e) => return fail(exit::INVALID, &e),
    };
    if args.dry_run {
        return dry_run(args, &job, &connect.settings());
    }
    let client = match connect.client() {
        Ok(c) => c,
        Err(e) => return fail(exit::INVALID, &e),
    };
    runner::run(&client, &job, &args.job())
}

fn fail(status: i32, message: &str) -> i32 {
    eprintln!("zcrm: {}", zcrm_extid::redact::escape_text(message));
    status
}

impl<O> BulkCommand for PairJob<O>
where
    O: Operation<Input = BulkRow>,
{
    type Row = BulkRow;

    fn verb(&self) -> &'static str {
        self.verb
    }

    fn identity_columns(&self) -> [&str; 2] {
        let columns = self.mapping.required_columns();
        [columns[0], columns[1]]
    }

    fn group_column(&self) -> Option<&str> {
        Some(self.identity_columns()[0])
    }

    fn check_header(&self, header: &[String]) -> Result<(), InvalidInput> {
        self.mapping.check_columns(header)
    }

    fn map_row(&self, index: usize, header: &[String], record: &csv::StringRecord) -> Result<BulkRow, InvalidInput> {
        let get = |col: &str| {
            let i = header.iter().position(|h| h == col)?;
            record.get(i).map(|v| serde_json::Value::String(v.to_owned()))
        };
        self.mapping.map_row(index, &get, &mut header.iter().map(String::as_str))
    }

    fn run(
        &self,
        client: &Client,
        rows: &mut dyn Iterator<Item = Result<BulkRow, InvalidInput>>,
        expected_rows: Option<u64>,
        on_outcome: &mut dyn FnMut(RowOutcome),
        on_progress: &mut dyn FnMut(&Progress),
        cancel: &Cancel,
    ) -> Result<BulkSummary, Error> {
        let options = BulkOptions { expected_rows, ..self.options.clone() };
        client.run_bulk(&self.op, &options, rows.enumerate(), on_outcome, on_progress, cancel)
    }
}

/// The calls as curl commands, grouped as the job would group the CSV's rows; nothing is sent.
fn dry_run<O>(args: &PairArgs, job: &PairJob<O>, settings: &ClientSettings) -> i32
where
    O: Operation<Input = BulkRow>,
{
    let (base, version) = match settings.target() {
        Ok(t) => t,
        Err(e) => return fail(exit::INVALID, &e.to_string()),
    };
    let input = match CsvInput::open(&args.csv).and_then(|i| i.rows().map(|rows| (i, rows))) {
        Ok(i) => i,
        Err(e) => return fail(exit::INVALID, &e),
    };
    let header = input.0.header().to_vec();
    let input = input.1.map(|row| ((row.number - 1) as usize, runner::mapped(job, &header, &row)));
    let (mut calls, mut invalid) = (0u64, 0u64);
    let mut out = std::io::stdout().lock();
    for item in plan(&job.op, &job.options, input) {
        match item {
            PlanItem::Call { rows, request } => {
                calls += 1;
                let numbers: Vec<String> = rows.iter().map(|r| (r + 1).to_string()).collect();
                let _ = writeln!(out, "# call {calls}: CSV rows {}", numbers.join(","));
                let _ = writeln!(out, "{}\n", Call::prepare(&request, &base, version).to_curl());
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
