//! The per-row report of a bulk command, written so that a crash at any moment leaves a report to resume from.
//!
//! **Columns**: `row` (1-based data row of the input CSV, the header not counted), `parent`, `related` (the
//! input's cells in the parent and related-key columns, as read, so `--resume` can check that the row is still
//! the same), `status` (`ok` or `error`), `code`, `message`, `zoho_id` (the related record's id on success),
//! `attempts` (calls made for the row's batch; 0 = never sent). A command may add columns after these (`zcrm
//! upsert`: `action`, `insert` or `update`), which `--resume` then expects in the report it resumes.
//!
//! **Order**: completion order. A line is written when its row's outcome arrives, whatever the input order;
//! `row` says which input row it is. A resumed job's report starts with the lines carried over from the report it
//! resumed, then the new outcomes.
//!
//! **Crash safety** (the choice where nothing forces one; tested in `tests/crash.rs`):
//! * The file at the report's path is always a valid report. It is created as a temporary file in the same
//!   folder (header plus any carried lines), synced, and renamed over the path, so an existing report (even the
//!   one being resumed) is replaced in one step, never truncated while it is read.
//! * From then on every record is appended with one `write` as soon as its outcome arrives: nothing waits in a
//!   buffer of ours, so after `kill -9` the file holds every outcome the process had received. [`Report::sync`]
//!   (at the end, and on the second Ctrl-C) makes them durable. Only a crash of the machine or a full disk can
//!   leave a cut last line, which `--resume` ignores.
//! * A record is always exactly one line: line breaks inside a message are written as spaces. So "ends with a
//!   newline" means "complete", and a reader can tell a cut tail from a record.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use zcrm_extid::bulk::RowOutcome;

/// Report columns.
pub const HEADER: [&str; 8] = ["row", "parent", "related", "status", "code", "message", "zoho_id", "attempts"];

/// The cells that identify a row of the input in the report: its `parent` and `related` columns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The parent cell.
    pub parent: String,
    /// The related-key cell.
    pub related: String,
}

/// A report being written.
pub struct Report {
    file: File,
    path: PathBuf,
    line: Vec<u8>,
    records: u64,
    /// Columns after [`HEADER`].
    extra: usize,
}

/// Where the lines carried into a new report go (see [`Report::create`]).
pub struct Carry<'a> {
    out: BufWriter<&'a File>,
    line: &'a mut Vec<u8>,
    /// Lines carried.
    pub records: u64,
}

impl Carry<'_> {
    /// Adds one line of an earlier report as it was (line breaks in cells made spaces).
    pub fn line(&mut self, record: &csv::StringRecord) -> io::Result<()> {
        self.out.write_all(serialize(self.line, record.iter()))?;
        self.records += 1;
        Ok(())
    }
}

impl Report {
    /// Creates the report at `path`: writes the header and whatever `carry` adds to a temporary file beside it,
    /// syncs it, and renames it over `path`. Nothing at `path` changes until the new report is complete.
    ///
    /// `extra`: the command's columns after [`HEADER`] (see the module docs).
    pub fn create(
        path: &Path,
        extra: &[&str],
        carry: impl FnOnce(&mut Carry<'_>) -> Result<(), String>,
    ) -> Result<Report, String> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = path.file_name().ok_or_else(|| format!("{}: the report must be a file", path.display()))?;
        let temp = dir.join(format!(".{}.zcrm-{}.tmp", name.to_string_lossy(), std::process::id()));
        let cannot = |e: &dyn std::fmt::Display| format!("cannot write the report {}: {e}", path.display());
        let file = OpenOptions::new().write(true).create(true).truncate(true).open(&temp).map_err(|e| cannot(&e))?;
        let mut line = Vec::with_capacity(256);
        let built = (|| -> Result<u64, String> {
            let mut c = Carry { out: BufWriter::new(&file), line: &mut line, records: 0 };
            let header = serialize(c.line, HEADER.iter().chain(extra).copied());
            c.out.write_all(header).map_err(|e| cannot(&e))?;
            carry(&mut c)?;
            c.out.flush().map_err(|e| cannot(&e))?;
            let records = c.records;
            drop(c);
            file.sync_all().map_err(|e| cannot(&e))?;
            std::fs::rename(&temp, path).map_err(|e| cannot(&e))?;
            Ok(records)
        })();
        match built {
            Ok(records) => {
                // The rename is durable once the folder is synced; not every file system can sync a folder.
                if let Ok(d) = File::open(&dir) {
                    let _ = d.sync_all();
                }
                Ok(Report { file, path: path.to_owned(), line, records, extra: extra.len() })
            }
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                Err(e)
            }
        }
    }

    /// Appends the outcome of input row `row` (1-based) identified by `identity`, with one `write`.
    /// `extra`: the row's cells in the report's extra columns (missing ones are written empty).
    pub fn write(&mut self, row: u64, identity: &Identity, o: &RowOutcome, extra: &[&str]) -> io::Result<()> {
        let ok = o.outcome.is_success();
        let (row, attempts) = (row.to_string(), o.attempts.to_string());
        let cells = [
            row.as_str(),
            identity.parent.as_str(),
            identity.related.as_str(),
            if ok { "ok" } else { "error" },
            o.outcome.code(),
            o.outcome.message(),
            if ok { o.outcome.id().unwrap_or("") } else { "" },
            attempts.as_str(),
        ];
        let extra = (0..self.extra).map(|i| extra.get(i).copied().unwrap_or(""));
        (&self.file).write_all(serialize(&mut self.line, cells.into_iter().chain(extra)))?;
        self.records += 1;
        Ok(())
    }

    /// Makes everything written durable (`fsync`).
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_all()
    }

    /// The report's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records in the report (carried and written), the header not counted.
    pub fn records(&self) -> u64 {
        self.records
    }
}

/// Serializes one record as one line into `line` and returns it: cells quoted where CSV needs it (`,` or `"`),
/// CR and LF inside cells written as spaces, a newline at the end.
fn serialize<'w, 'c>(line: &'w mut Vec<u8>, cells: impl IntoIterator<Item = &'c str>) -> &'w [u8] {
    line.clear();
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        let quote = cell.contains([',', '"']);
        if quote {
            line.push(b'"');
        }
        for &b in cell.as_bytes() {
            match b {
                b'\n' | b'\r' => line.push(b' '),
                b'"' => line.extend_from_slice(b"\"\""),
                _ => line.push(b),
            }
        }
        if quote {
            line.push(b'"');
        }
    }
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_record_is_one_line_that_csv_reads_back() {
        let mut line = Vec::new();
        let cells = ["7", "a,b", "say \"hi\"", "ok", "CODE", "two\r\nlines", "", "1"];
        let bytes = serialize(&mut line, cells).to_vec();
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 1);
        assert!(bytes.ends_with(b"\n"));
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(bytes.as_slice());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(rec.iter().collect::<Vec<_>>(), ["7", "a,b", "say \"hi\"", "ok", "CODE", "two  lines", "", "1"]);
    }
}
