//! The runner every bulk CSV command shares (`link`, `upsert`, `unlink`): CSV in, numbered
//! rows, `--resume`, the report, progress, Ctrl-C, the summary and the exit status. A command brings only what
//! is its own through [`BulkCommand`]: the columns that identify a row, how a CSV row becomes the engine's row,
//! and the engine call.
//!
//! Outcomes may arrive in any order (the engine delivers them as calls complete): each carries the index of its
//! row in the rows handed to the engine, which the runner maps back to the CSV row number and the row's cells.
//! Nothing here depends on the order, and only rows read but not yet completed are held (those in the engine).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use zcrm_extid::bulk::{BulkSummary, Cancel, Progress, RowOutcome};
use zcrm_extid::{Client, Error, InvalidInput};

use crate::exit;
use crate::input::{CsvInput, CsvRow};
use crate::interrupt::Interrupt;
use crate::progress::{self, Counts, Display};
use crate::report::{Identity, Report};
use crate::resume::Resume;

/// The part of a bulk CSV command that is its own.
pub trait BulkCommand {
    /// What the engine takes for one row.
    type Row;

    /// The summary's verb, past tense: "linked".
    fn verb(&self) -> &'static str;

    /// The columns whose cells identify a row in the report's `parent` and `related` columns (and are checked
    /// by `--resume`).
    fn identity_columns(&self) -> [&str; 2];

    /// The column whose rows share calls (the parent): the partition pass sorts the CSV by it. `None`: rows are
    /// not grouped, so order does not matter.
    fn group_column(&self) -> Option<&str> {
        None
    }

    /// For commands whose rows have no parent (upsert): every row's `parent` in the report, instead of the cell
    /// of `identity_columns()[0]` (which is then not read).
    fn parent_label(&self) -> Option<&str> {
        None
    }

    /// The report's columns after the common ones (upsert: `action`); `--resume` expects the same.
    fn report_columns(&self) -> &'static [&'static str] {
        &[]
    }

    /// A row's cells in [`BulkCommand::report_columns`].
    fn report_cells<'o>(&self, outcome: &'o RowOutcome) -> Vec<&'o str> {
        let _ = outcome;
        Vec::new()
    }

    /// Checks the CSV header before any row is read (every column the command needs is there).
    fn check_header(&self, header: &[String]) -> Result<(), InvalidInput>;

    /// The engine's row for CSV record `index` (0-based data row; errors name it as `row[index]`).
    fn map_row(&self, index: usize, header: &[String], record: &csv::StringRecord) -> Result<Self::Row, InvalidInput>;

    /// Runs the engine over `rows` (`expected_rows` of them, if known); each outcome carries the index of its
    /// row in `rows`, in any order.
    fn run(
        &self,
        client: &Client,
        rows: &mut dyn Iterator<Item = Result<Self::Row, InvalidInput>>,
        expected_rows: Option<u64>,
        on_outcome: &mut dyn FnMut(RowOutcome),
        on_progress: &mut dyn FnMut(&Progress),
        cancel: &Cancel,
    ) -> Result<BulkSummary, Error>;
}

/// The files of a job.
#[derive(Debug, Clone)]
pub struct Job {
    /// The input CSV.
    pub csv: PathBuf,
    /// The report (default: `<csv>.report.csv`).
    pub report: Option<PathBuf>,
    /// A report to resume from (may be the report's own path).
    pub resume: Option<PathBuf>,
    /// Sort the rows by the command's group column first ([`crate::partition`]).
    pub partition: bool,
}

impl Job {
    /// Where the report goes.
    pub fn report_path(&self) -> PathBuf {
        self.report.clone().unwrap_or_else(|| PathBuf::from(format!("{}.report.csv", self.csv.display())))
    }
}

/// What a finished (or interrupted) job produced.
pub struct JobResult {
    /// The engine's totals.
    pub summary: BulkSummary,
    /// Failures by code.
    pub failures: BTreeMap<String, u64>,
    /// Rows skipped by `--resume`.
    pub skipped: u64,
    /// The report written.
    pub report: PathBuf,
    /// What the runner counted (where an interrupted job stopped).
    pub counts: Counts,
}

/// Why a job did not run to its end, with the exit status to give.
#[derive(Debug)]
pub struct JobError {
    /// Exit status.
    pub status: i32,
    /// What to tell the user.
    pub message: String,
}

impl JobError {
    fn invalid(message: impl Into<String>) -> JobError {
        JobError { status: exit::INVALID, message: message.into() }
    }
}

/// The command end to end: runs the job with Ctrl-C handling, prints the summary, returns the exit status.
pub fn run<C: BulkCommand>(client: &Client, command: &C, job: &Job) -> i32 {
    match execute(client, command, job, &Interrupt::install()) {
        Ok(result) => {
            print_summary(command.verb(), &result, &mut std::io::stdout());
            let status = exit_status(&result.summary);
            match crate::logs::summary_json_path() {
                Some(path) => {
                    match crate::summary::write_json(&path, &crate::summary::to_json(command.verb(), &result, status)) {
                        Ok(()) => status,
                        Err(e) => {
                            eprintln!("zcrm: writing the summary {} failed: {e}", path.display());
                            exit::REQUEST_FAILED
                        }
                    }
                }
                None => status,
            }
        }
        Err(e) => {
            eprintln!("zcrm: {}", e.message);
            e.status
        }
    }
}

/// 130 if interrupted, 3 if the circuit breaker stopped the job, 1 if a row failed, else 0.
pub fn exit_status(s: &BulkSummary) -> i32 {
    if s.stopped.is_some() {
        exit::REQUEST_FAILED
    } else if s.cancelled {
        exit::INTERRUPTED
    } else if s.failed > 0 {
        exit::SOME_FAILED
    } else {
        exit::OK
    }
}

/// The engine's row for `row`, or the `INVALID_INPUT` that replaces it.
pub fn mapped<C: BulkCommand>(command: &C, header: &[String], row: &CsvRow) -> Result<C::Row, InvalidInput> {
    row.text(header).and_then(|rec| command.map_row((row.number - 1) as usize, header, &rec))
}

/// What the callbacks share (the engine calls them one at a time, on this thread).
struct State {
    /// Rows handed to the engine and not completed: index -> (CSV row number, cells).
    pending: HashMap<usize, (u64, Identity)>,
    next: usize,
    display: Display,
    failures: BTreeMap<String, u64>,
    write_error: Option<String>,
}

/// Runs the job: checks the input (and the report to resume) before anything is sent, writes the report as
/// outcomes arrive, and syncs it at the end. Cancelled through `interrupt`.
pub fn execute<C: BulkCommand>(
    client: &Client,
    command: &C,
    job: &Job,
    interrupt: &Interrupt,
) -> Result<JobResult, JobError> {
    let input = CsvInput::open(&job.csv).map_err(JobError::invalid)?;
    let header = input.header().to_vec();
    command.check_header(&header).map_err(|e| JobError::invalid(format!("{}: {}", job.csv.display(), e.message)))?;
    let [parent, related] = command.identity_columns().map(|c| input.column(c));
    let (Some(parent), Some(related)) = (parent, related) else {
        return Err(JobError::invalid(format!("{}: the identifying columns are missing", job.csv.display())));
    };
    let label = command.parent_label().map(str::to_owned);
    let identify = move |row: &CsvRow| Identity {
        parent: label.clone().unwrap_or_else(|| row.lossy(parent)),
        related: row.lossy(related),
    };
    let extra = command.report_columns();
    let resume = job.resume.as_deref().map(|p| Resume::load(p, extra)).transpose().map_err(JobError::invalid)?;
    let total = match &resume {
        Some(r) => {
            if r.cut_tail > 0 {
                eprintln!(
                    "zcrm: {}: ignoring its last {} bytes, a line cut by an interrupted write (its row is not skipped)",
                    job.resume.as_deref().unwrap_or(job.csv.as_path()).display(),
                    r.cut_tail
                );
            }
            Some(r.verify(&input, &identify).map_err(JobError::invalid)? - r.skipped())
        }
        None if std::io::stderr().is_terminal() => Some(input.rows().map_err(JobError::invalid)?.count() as u64),
        None => None,
    };
    let report_path = job.report_path();
    if same_file(&report_path, &job.csv) {
        return Err(JobError::invalid(format!(
            "the report {} would replace the input CSV; give --report another file",
            report_path.display()
        )));
    }
    // The input is opened (and sorted, to a temporary directory) before the report replaces any file.
    let input_rows = input.rows().map_err(JobError::invalid)?;
    let input_rows = input_rows.filter(|row| !resume.as_ref().is_some_and(|r| r.is_done(row.number)));
    let (input_rows, total) = match command.group_column().filter(|_| job.partition).and_then(|c| input.column(c)) {
        Some(column) => {
            let (rows, n) = crate::partition::by_column(input_rows, column).map_err(JobError::invalid)?;
            (rows, Some(n))
        }
        None => (Box::new(input_rows) as Box<dyn Iterator<Item = CsvRow>>, total),
    };
    let report = Report::create(&report_path, extra, |c| resume.as_ref().map_or(Ok(()), |r| r.carry(c)))
        .map_err(JobError::invalid)?;
    let report_path = report.path().to_owned();
    *interrupt.report() = Some(report);

    let state = RefCell::new(State {
        pending: HashMap::new(),
        next: 0,
        display: Display::new(total),
        failures: BTreeMap::new(),
        write_error: None,
    });
    let cancel = interrupt.cancel();
    let mut rows = input_rows.map(|row| {
        let mut s = state.borrow_mut();
        let index = s.next;
        s.next += 1;
        s.display.read(row.number);
        s.pending.insert(index, (row.number, identify(&row)));
        mapped(command, &header, &row)
    });
    let summary = command.run(
        client,
        &mut rows,
        total,
        &mut |o| {
            let mut s = state.borrow_mut();
            let Some((row, identity)) = s.pending.remove(&o.row) else {
                s.write_error.get_or_insert(format!("an outcome came back for row index {} never sent", o.row));
                cancel.cancel();
                return;
            };
            let ok = o.outcome.is_success();
            if !ok {
                *s.failures.entry(o.outcome.code().to_owned()).or_insert(0) += 1;
            }
            s.display.completed(ok);
            if let Some(report) = interrupt.report().as_mut()
                && let Err(e) = report.write(row, &identity, &o, &command.report_cells(&o))
            {
                s.write_error.get_or_insert(format!("writing the report {} failed: {e}", report_path.display()));
                cancel.cancel();
            }
        },
        &mut |p| state.borrow_mut().display.engine(p),
        cancel,
    );
    drop(rows);
    let state = state.into_inner();
    let summary = summary.map_err(|e| JobError::invalid(e.to_string()))?;
    state.display.finish(summary.cancelled);
    let report = interrupt.report().take();
    let synced = report.as_ref().map_or(Ok(()), Report::sync);
    if let Some(message) = state.write_error {
        return Err(JobError { status: exit::REQUEST_FAILED, message });
    }
    synced.map_err(|e| JobError {
        status: exit::REQUEST_FAILED,
        message: format!("syncing the report {} failed: {e}", report_path.display()),
    })?;
    Ok(JobResult {
        summary,
        failures: state.failures,
        skipped: resume.as_ref().map_or(0, Resume::skipped),
        report: report_path,
        counts: state.display.counts().clone(),
    })
}

/// Whether `a` and `b` name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
}

/// Prints the job's summary.
pub fn print_summary(verb: &str, r: &JobResult, out: &mut dyn Write) {
    let s = &r.summary;
    let secs = s.elapsed.as_secs_f64();
    let _ = writeln!(
        out,
        "{verb} {} of {} rows in {:.2} s ({:.0} rows/s); {} calls, {} retries, {} rate-limited{}",
        s.succeeded,
        s.rows,
        secs,
        s.rows as f64 / secs.max(1e-9),
        s.calls,
        s.retries,
        s.rate_limited,
        if r.skipped > 0 { format!("; {} rows skipped (done before)", r.skipped) } else { String::new() }
    );
    crate::summary::print_metrics(s, out);
    if s.failed > 0 {
        let by_code: Vec<String> = r.failures.iter().map(|(c, n)| format!("{n} {c}")).collect();
        let _ = writeln!(out, "failed: {} ({})", s.failed, by_code.join(", "));
    }
    if let Some(e) = &s.stopped {
        // One message for the cause, not its hint repeated on every row.
        let _ = writeln!(
            out,
            "stopped: {e}\n  no more calls were sent after it: {} rows read but not sent are NOT_ATTEMPTED; fix the cause, then rerun with --resume",
            s.not_attempted
        );
    } else if let Some(e) = &s.budget_stop {
        let _ = writeln!(
            out,
            "stopped cleanly: {e}\n  {} rows not sent are NOT_ATTEMPTED; rerun with --resume when the credits allow",
            s.not_attempted
        );
    } else if s.cancelled {
        let _ = writeln!(
            out,
            "interrupted: {} rows read but not sent are NOT_ATTEMPTED; {}",
            s.not_attempted,
            progress::stopped(&r.counts)
        );
    }
    let _ = writeln!(out, "report: {}", r.report.display());
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
