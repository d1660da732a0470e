//! `zcrm upsert`: insert or update the records of a CSV file by their external ID, 100 per call, concurrent,
//! with progress and a per-row report (action `insert`/`update`, Zoho id), `--resume` and `--dry-run`.
//!
//! ```text
//! zcrm upsert --csv contacts.csv --module Contacts --key External_Contact_ID \
//!     --lookup Account_Name=Accounts.External_Account_ID:account --column-map Last_Name=surname --skip note
//! ```
//!
//! **Columns** ([`zcrm_extid::records::mapping`]): every column is a field under its own name, except lookup
//! columns (`--lookup FIELD=Module.External_Field[:column]` reads the column into `FIELD: {External_Field: ..}`),
//! renamed ones (`--column-map API_NAME=column`) and skipped ones (`--skip column`). An empty cell is left out
//! of the record (it changes nothing); values are sent as text. The header is checked before anything is sent:
//! every other column must be a field API name.
//!
//! **The report** has the runner's columns (see [`crate::report`]) plus `action` (`insert` or `update`). Upsert
//! rows have no parent: `parent` is the module, `related` the row's key cell (its external ID), `zoho_id` the
//! record's Zoho id. `--resume` skips the rows marked `ok` whose key cell is unchanged.
//!
//! Rows are not grouped by a column (calls are grouped by how their lookups are addressed), so the CSV is read
//! in file order, without a partition pass. The same external ID twice in one file: the later row wins.

use std::path::PathBuf;

use zcrm_extid::bulk::{BulkOptions, BulkSummary, Cancel, Progress, RowOutcome};
use zcrm_extid::records::cells::Cell;
use zcrm_extid::records::mapping::{RecordMapping, UpsertSettings};
use zcrm_extid::records::{Upsert, UpsertAction, UpsertSpec};
use zcrm_extid::settings::BulkSettings;
use zcrm_extid::{Client, Error, InvalidInput};

use crate::connect::ConnectArgs;
use crate::exit;
use crate::input::CsvInput;
use crate::runner::{self, BulkCommand, Job};

/// `zcrm upsert --csv contacts.csv --module Contacts --key External_Contact_ID`
#[derive(Debug, Clone, clap::Args)]
pub struct UpsertArgs {
    /// The input CSV (with a header row).
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// The module, e.g. Contacts.
    #[arg(long)]
    pub module: String,
    /// The module's external field identifying each record (its column: the field's name, or --column-map).
    #[arg(long, value_name = "FIELD")]
    pub key: String,
    /// A lookup by external ID from a column: FIELD=Module.External_Field[:column] (repeatable), e.g.
    /// Account_Name=Accounts.External_Account_ID:account (the column defaults to FIELD).
    #[arg(long = "lookup", value_name = "FIELD=MODULE.FIELD[:COLUMN]")]
    pub lookups: Vec<String>,
    /// Send a column under another field name: API_NAME=column (repeatable).
    #[arg(long = "column-map", value_name = "API_NAME=COLUMN")]
    pub column_map: Vec<String>,
    /// A column never sent (repeatable).
    #[arg(long = "skip", value_name = "COLUMN")]
    pub skip: Vec<String>,
    /// Fields Zoho checks for an existing record, in order, comma-separated (default: the key; the key is
    /// checked last if not named).
    #[arg(long, value_delimiter = ',', value_name = "FIELD,...")]
    pub duplicate_check_fields: Option<Vec<String>>,
    /// Where to write the per-row report (default: <csv>.report.csv).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Skip the rows a previous report marks ok, after checking they are the same rows of the CSV.
    #[arg(long, value_name = "REPORT")]
    pub resume: Option<PathBuf>,
    /// Print the calls as curl commands (token redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Most calls in flight (default 10; calls of more than 10 records never exceed Zoho's sub-concurrency of 10).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// The org's edition, for the concurrency limit: free, standard, professional, enterprise, ultimate.
    #[arg(long)]
    pub edition: Option<String>,
    /// Records per call (1-100).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Rows buffered for grouping by lookup shape.
    #[arg(long)]
    pub window: Option<usize>,
}

impl UpsertArgs {
    /// The job's files.
    pub fn job(&self) -> Job {
        Job { csv: self.csv.clone(), report: self.report.clone(), resume: self.resume.clone(), partition: false }
    }
}

/// The validated job; the runner's [`BulkCommand`] for upserting.
pub struct Prepared {
    spec: UpsertSpec,
    op: Upsert,
    mapping: RecordMapping,
    options: BulkOptions,
}

fn pairs(flags: &[String], flag: &str, form: &str) -> Result<Vec<(String, String)>, String> {
    flags
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .ok_or_else(|| format!("{flag} {f:?}: expected {form}"))
        })
        .collect()
}

/// Checks everything that can be checked before a row is sent: names, options, the CSV header.
pub fn prepare(args: &UpsertArgs) -> Result<Prepared, String> {
    let lookups = pairs(&args.lookups, "--lookup", "FIELD=Module.External_Field[:column]")?;
    let (spec, mapping) = UpsertSettings {
        module: args.module.clone(),
        key: args.key.clone(),
        duplicate_check_fields: args.duplicate_check_fields.clone(),
        external_fields: None,
        lookups,
        columns: pairs(&args.column_map, "--column-map", "API_NAME=column")?,
        skip: args.skip.clone(),
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
    let op = Upsert::new(spec.clone());
    let options = op.options(&options);
    let prepared = Prepared { spec, op, mapping, options };
    let input = CsvInput::open(&args.csv)?;
    prepared.check_header(input.header()).map_err(|e| format!("{}: {}", args.csv.display(), e.message))?;
    Ok(prepared)
}

/// Runs the command; returns the exit status.
pub fn run(args: &UpsertArgs, connect: &ConnectArgs) -> i32 {
    let prepared = match prepare(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("zcrm: {}", zcrm_extid::redact::escape_text(&e));
            return exit::INVALID;
        }
    };
    if args.dry_run {
        return crate::dry_run::run(&args.csv, &prepared, &prepared.op, &prepared.options, &connect.settings());
    }
    match connect.client() {
        Ok(client) => runner::run(&client, &prepared, &args.job()),
        Err(e) => {
            eprintln!("zcrm: {}", zcrm_extid::redact::escape_text(&e));
            exit::INVALID
        }
    }
}

impl BulkCommand for Prepared {
    type Row = serde_json::Value;

    fn verb(&self) -> &'static str {
        "upserted"
    }

    /// The key column identifies a row (the report's `related`); `parent` is the module ([`Self::parent_label`]).
    fn identity_columns(&self) -> [&str; 2] {
        [self.mapping.key_column(), self.mapping.key_column()]
    }

    fn parent_label(&self) -> Option<&str> {
        Some(self.spec.module().as_str())
    }

    fn report_columns(&self) -> &'static [&'static str] {
        &["action"]
    }

    fn report_cells<'o>(&self, outcome: &'o RowOutcome) -> Vec<&'o str> {
        vec![outcome.outcome.action().map_or("", UpsertAction::as_str)]
    }

    fn check_header(&self, header: &[String]) -> Result<(), InvalidInput> {
        self.mapping.check_columns(header)
    }

    fn map_row(
        &self,
        index: usize,
        header: &[String],
        record: &csv::StringRecord,
    ) -> Result<serde_json::Value, InvalidInput> {
        // An empty cell is no value: left out, so it changes nothing.
        let cells = header.iter().zip(record.iter()).map(|(column, cell)| {
            let cell = if cell.is_empty() { Cell::Missing } else { Cell::Json(cell.into()) };
            (column.clone(), cell)
        });
        self.mapping.record(index, cells)
    }

    fn run(
        &self,
        client: &Client,
        rows: &mut dyn Iterator<Item = Result<serde_json::Value, InvalidInput>>,
        expected_rows: Option<u64>,
        on_outcome: &mut dyn FnMut(RowOutcome),
        on_progress: &mut dyn FnMut(&Progress),
        cancel: &Cancel,
    ) -> Result<BulkSummary, Error> {
        let options = BulkOptions { expected_rows, ..self.options.clone() };
        client.upsert_many(&self.spec, &options, rows, on_outcome, on_progress, cancel)
    }
}
