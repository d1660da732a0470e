//! `zcrm link`: link the pairs of a CSV file at the API's limit, with progress and a per-row report.

use std::io::Write;
use std::path::PathBuf;

use zcrm_extid::bulk::{
    BulkOptions, BulkRow, BulkSummary, Cancel, Link, PlanItem, Progress, RowMapping, RowOutcome, plan,
};
use zcrm_extid::settings::{BulkSettings, ClientSettings, MappingSettings};
use zcrm_extid::{Client, Error, InvalidInput};

use crate::connect::ConnectArgs;
use crate::exit;
use crate::input::CsvInput;
use crate::runner::{self, BulkCommand, Job};

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
    runner::run(&client, &prepared, &args.job())
}

fn fail(status: i32, message: &str) -> i32 {
    eprintln!("zcrm: {}", zcrm_extid::redact::escape_text(message));
    status
}

/// The validated job: operation, options and mapping; the runner's [`BulkCommand`] for linking.
pub struct Prepared {
    link: Link,
    options: BulkOptions,
    mapping: RowMapping,
}

impl LinkArgs {
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
    let prepared = Prepared { link: Link::new(spec), options, mapping };
    let input = CsvInput::open(&args.csv)?;
    prepared.check_header(input.header()).map_err(|e| format!("{}: {}", args.csv.display(), e.message))?;
    Ok(prepared)
}

impl BulkCommand for Prepared {
    type Row = BulkRow;

    fn verb(&self) -> &'static str {
        "linked"
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
        client.run_bulk(&self.link, &options, rows.enumerate(), on_outcome, on_progress, cancel)
    }
}

fn dry_run(args: &LinkArgs, prepared: &Prepared, settings: &ClientSettings) -> i32 {
    let (base, version) = match settings.target() {
        Ok(t) => t,
        Err(e) => return fail(exit::INVALID, &e.to_string()),
    };
    let input = match CsvInput::open(&args.csv).and_then(|i| i.rows().map(|rows| (i, rows))) {
        Ok(i) => i,
        Err(e) => return fail(exit::INVALID, &e),
    };
    let header = input.0.header().to_vec();
    let input = input.1.map(|row| ((row.number - 1) as usize, runner::mapped(prepared, &header, &row)));
    let (mut calls, mut invalid) = (0u64, 0u64);
    let mut out = std::io::stdout().lock();
    for item in plan(&prepared.link, &prepared.options, input) {
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
