//! The per-row report CSV, and resuming from one.
//!
//! Columns: `row` (1-based data row of the input CSV, the header not counted), `parent`, `related`, `status`
//! (`ok` or `error`), `code`, `message`, `zoho_id` (the related record's id on success), `attempts`.
//! Rows are written in input order. `--resume` reads a previous report, skips every row whose status is `ok`,
//! and copies those lines into the new report, so the new report is again complete.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use zcrm_extid::bulk::RowOutcome;

/// Report columns.
pub const HEADER: [&str; 8] = ["row", "parent", "related", "status", "code", "message", "zoho_id", "attempts"];

/// Writes the report to `<path>.partial`, renamed to `path` by [`Report::finish`].
pub struct Report {
    writer: csv::Writer<BufWriter<File>>,
    partial: PathBuf,
    path: PathBuf,
    resume: Option<Resume>,
    since_flush: usize,
}

impl Report {
    /// Creates the report file, copying `ok` lines of `resume` in order as rows are written.
    pub fn create(path: &Path, resume: Option<Resume>) -> Result<Report, String> {
        let partial = PathBuf::from(format!("{}.partial", path.display()));
        let file = File::create(&partial).map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
        let mut writer = csv::Writer::from_writer(BufWriter::new(file));
        writer.write_record(HEADER).map_err(|e| e.to_string())?;
        Ok(Report { writer, partial, path: path.to_owned(), resume, since_flush: 0 })
    }

    /// Writes the outcome of CSV row `row` (1-based).
    pub fn write(&mut self, row: u64, o: &RowOutcome) -> Result<(), String> {
        self.copy_resumed_before(row)?;
        let status = if o.outcome.is_success() { "ok" } else { "error" };
        let id = if o.outcome.is_success() { o.outcome.id().unwrap_or("") } else { "" };
        let record = [
            row.to_string(),
            o.parent.clone(),
            o.key.clone().unwrap_or_default(),
            status.to_owned(),
            o.outcome.code().to_owned(),
            o.outcome.message().to_owned(),
            id.to_owned(),
            o.attempts.to_string(),
        ];
        self.writer.write_record(&record).map_err(|e| e.to_string())?;
        self.since_flush += 1;
        if self.since_flush >= 1000 {
            self.writer.flush().map_err(|e| e.to_string())?;
            self.since_flush = 0;
        }
        Ok(())
    }

    fn copy_resumed_before(&mut self, row: u64) -> Result<(), String> {
        if let Some(r) = &mut self.resume {
            r.copy_ok_before(row, &mut self.writer)?;
        }
        Ok(())
    }

    /// Copies the remaining resumed lines, flushes, and renames the file into place.
    pub fn finish(mut self) -> Result<PathBuf, String> {
        self.copy_resumed_before(u64::MAX)?;
        self.writer.flush().map_err(|e| e.to_string())?;
        drop(self.writer);
        std::fs::rename(&self.partial, &self.path).map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        Ok(self.path)
    }
}

/// A previous report: which rows are done, and their lines to copy.
pub struct Resume {
    done: Vec<u64>,
    reader: csv::Reader<BufReader<File>>,
    pending: Option<csv::StringRecord>,
    /// Rows skipped because they succeeded before.
    pub skipped: u64,
}

impl Resume {
    /// Reads `path` once to learn which rows succeeded (one bit per row), and reopens it to copy them later.
    pub fn open(path: &Path) -> Result<Resume, String> {
        let open = || -> Result<csv::Reader<BufReader<File>>, String> {
            let f =
                File::open(path).map_err(|e| format!("cannot read the report to resume {}: {e}", path.display()))?;
            let mut r = csv::Reader::from_reader(BufReader::new(f));
            let h = r.headers().map_err(|e| e.to_string())?.clone();
            if h.iter().collect::<Vec<_>>() != HEADER {
                return Err(format!("{} is not a zcrm report (header {:?})", path.display(), h));
            }
            Ok(r)
        };
        let mut done = Vec::new();
        let mut skipped = 0;
        for rec in open()?.records() {
            let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
            if rec.get(3) == Some("ok") {
                let row: u64 =
                    rec[0].parse().map_err(|_| format!("{}: bad row number {:?}", path.display(), &rec[0]))?;
                let (word, bit) = ((row / 64) as usize, row % 64);
                if done.len() <= word {
                    done.resize(word + 1, 0);
                }
                done[word] |= 1 << bit;
                skipped += 1;
            }
        }
        Ok(Resume { done, reader: open()?, pending: None, skipped })
    }

    /// Whether row `row` succeeded before.
    pub fn is_done(&self, row: u64) -> bool {
        self.done.get((row / 64) as usize).is_some_and(|w| w & (1 << (row % 64)) != 0)
    }

    fn copy_ok_before(&mut self, row: u64, out: &mut csv::Writer<BufWriter<File>>) -> Result<(), String> {
        loop {
            let rec = match self.pending.take() {
                Some(r) => r,
                None => {
                    let mut r = csv::StringRecord::new();
                    if !self.reader.read_record(&mut r).map_err(|e| e.to_string())? {
                        return Ok(());
                    }
                    r
                }
            };
            let n: u64 = rec[0].parse().unwrap_or(0);
            if n >= row {
                self.pending = Some(rec);
                return Ok(());
            }
            if rec.get(3) == Some("ok") {
                out.write_record(&rec).map_err(|e| e.to_string())?;
            }
        }
    }
}
