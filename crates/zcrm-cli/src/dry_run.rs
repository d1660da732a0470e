//! `--dry-run` of a bulk CSV command: the calls the job would make, as curl commands (token redacted), in the
//! order the engine would make them ([`zcrm_extid::bulk::plan`]), and every invalid row on stderr. Nothing is
//! sent. Exit status: 0, or 1 if a row is invalid.

use std::io::Write;
use std::path::Path;

use zcrm_extid::bulk::{BulkOptions, Operation, PlanItem, plan};
use zcrm_extid::settings::ClientSettings;

use crate::exit;
use crate::input::CsvInput;
use crate::runner::{self, BulkCommand};

/// Plans `op` over the rows of `csv` read by `command` and prints the calls; returns the exit status.
pub fn run<C, O>(csv: &Path, command: &C, op: &O, options: &BulkOptions, settings: &ClientSettings) -> i32
where
    C: BulkCommand<Row = O::Input>,
    O: Operation,
{
    let fail = |message: &str| {
        eprintln!("zcrm: {}", zcrm_extid::redact::escape_text(message));
        exit::INVALID
    };
    let (base, version) = match settings.target() {
        Ok(t) => t,
        Err(e) => return fail(&e.to_string()),
    };
    let (input, rows) = match CsvInput::open(csv).and_then(|i| i.rows().map(|rows| (i, rows))) {
        Ok(i) => i,
        Err(e) => return fail(&e),
    };
    let header = input.header().to_vec();
    let rows = rows.map(|row| ((row.number - 1) as usize, runner::mapped(command, &header, &row)));
    let (mut calls, mut invalid) = (0u64, 0u64);
    let mut out = std::io::stdout().lock();
    for item in plan(op, options, rows) {
        match item {
            PlanItem::Call { rows, request } => {
                calls += 1;
                let numbers: Vec<String> = rows.iter().map(|r| (r + 1).to_string()).collect();
                let _ = writeln!(out, "# call {calls}: CSV rows {}", numbers.join(","));
                let _ = writeln!(out, "{}\n", zcrm_extid::Call::prepare(&request, &base, version).to_curl());
            }
            PlanItem::Invalid { row, error } => {
                invalid += 1;
                let at = error.field.as_deref().map(|f| format!(" ({f})")).unwrap_or_default();
                eprintln!("zcrm: row {}{at}: {}", row + 1, zcrm_extid::redact::escape_text(&error.message));
            }
        }
    }
    eprintln!("zcrm: dry run: {calls} calls; {invalid} invalid rows; nothing was sent");
    if invalid > 0 { exit::SOME_FAILED } else { exit::OK }
}
