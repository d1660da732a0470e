//! `--resume REPORT`: skip the rows an earlier report marks `ok`, after checking they are still the same rows.
//!
//! * **A cut tail is ignored.** A report written by [`crate::report::Report`] is a header and one line per record,
//!   each ending in a newline; whatever follows the last newline is a record cut by a crash, ignored (and said on
//!   stderr). Its row, having no `ok` line, is sent again, which is safe: the related-records PUT is idempotent.
//! * **Rows are matched by number and values.** An `ok` line skips input row `row` only if that row's parent and
//!   related cells are the ones on the line. If any `ok` line does not match the current input (the CSV was
//!   edited, sorted, or is another file), the command stops before sending anything, naming the row and both
//!   values: skipping by number alone would leave rows of the new file undone.
//! * **Reading never changes the file.** The report is read here; the new report replaces it afterwards in one
//!   rename ([`crate::report`]), carrying the `ok` lines over, so resuming with the default report path, which
//!   is the file being read, works and loses nothing, even if the resumed job is killed in turn.
//!
//! Memory: 16 bytes per `ok` line (row number and a 64-bit hash of its values); the lines themselves are copied
//! from the file, not held.

use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::input::{CsvInput, CsvRow};
use crate::report::{Carry, HEADER, Identity};

/// An earlier report, read.
#[derive(Debug)]
pub struct Resume {
    path: PathBuf,
    /// Columns after [`HEADER`] the report has (a command's own, e.g. upsert's `action`).
    extra: Vec<String>,
    /// `(row, hash of its identity)` of every `ok` line, sorted by row, one per row.
    done: Vec<(u64, u64)>,
    /// Length of the complete lines, in bytes.
    complete: u64,
    /// Bytes after the last complete line (a record cut by a crash), ignored.
    pub cut_tail: u64,
}

/// The hash an `ok` line is matched by (stable within one process, which is all it needs).
pub fn identity_hash(id: &Identity) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

impl Resume {
    /// Reads the report at `path`, ignoring a cut last line.
    ///
    /// `extra`: the command's columns after [`HEADER`]; the report's header must be exactly these.
    pub fn load(path: &Path, extra: &[&str]) -> Result<Resume, String> {
        let header: Vec<&str> = HEADER.iter().chain(extra).copied().collect();
        let cannot = |e: &dyn std::fmt::Display| format!("cannot read the report to resume {}: {e}", path.display());
        let mut file = File::open(path).map_err(|e| cannot(&e))?;
        let len = file.metadata().map_err(|e| cannot(&e))?.len();
        let complete = complete_len(&mut file, len).map_err(|e| cannot(&e))?;
        let mut done = Vec::new();
        for_each_line(path, &header, complete, |line, rec| {
            if rec.len() != header.len() {
                return Err(format!(
                    "{} line {line}: {} fields, a report line has {}",
                    path.display(),
                    rec.len(),
                    header.len()
                ));
            }
            let row = rec[0]
                .parse::<u64>()
                .ok()
                .filter(|&r| r > 0)
                .ok_or_else(|| format!("{} line {line}: bad row number {:?}", path.display(), &rec[0]))?;
            match &rec[3] {
                "ok" => done.push((row, identity_hash(&identity_of(rec)))),
                "error" => {}
                other => return Err(format!("{} line {line}: bad status {other:?} (ok or error)", path.display())),
            }
            Ok(true)
        })?;
        done.sort_unstable();
        if let Some(w) = done.windows(2).find(|w| w[0].0 == w[1].0 && w[0].1 != w[1].1) {
            return Err(format!("{} marks row {} ok twice, with different values", path.display(), w[0].0));
        }
        done.dedup();
        let extra = extra.iter().map(|c| (*c).to_owned()).collect();
        Ok(Resume { path: path.to_owned(), extra, done, complete, cut_tail: len - complete })
    }

    fn header(&self) -> Vec<&str> {
        HEADER.iter().copied().chain(self.extra.iter().map(String::as_str)).collect()
    }

    /// Rows marked `ok`.
    pub fn skipped(&self) -> u64 {
        self.done.len() as u64
    }

    /// Whether input row `row` succeeded before (its values checked by [`Resume::verify`]).
    pub fn is_done(&self, row: u64) -> bool {
        self.done.binary_search_by_key(&row, |d| d.0).is_ok()
    }

    /// Checks every `ok` line against `input` (read in full, nothing sent): the row exists and has the same parent
    /// and related cells (columns `parent` and `related` of the input). Returns the input's row count.
    ///
    /// `identify` gives a row's identity: its cells in the `parent` and `related` columns, or a fixed `parent`
    /// for a command whose rows have none.
    pub fn verify(&self, input: &CsvInput, identify: &dyn Fn(&CsvRow) -> Identity) -> Result<u64, String> {
        let mut next = self.done.iter().peekable();
        let mut rows = 0;
        for row in input.rows()? {
            rows = row.number;
            if next.peek().is_some_and(|d| d.0 == row.number) {
                let (_, hash) = next.next().expect("peeked");
                let now = identify(&row);
                if identity_hash(&now) != *hash {
                    return Err(self.mismatch(input, row.number, &now));
                }
            }
        }
        if let Some((row, _)) = next.next() {
            return Err(format!(
                "{} marks row {row} ok, but {} has {rows} rows: the input changed since that report was written; \
                 resume with the CSV the report was made from, or run without --resume",
                self.path.display(),
                input.path().display()
            ));
        }
        Ok(rows)
    }

    fn mismatch(&self, input: &CsvInput, row: u64, now: &Identity) -> String {
        let mut was = None;
        let _ = for_each_line(&self.path, &self.header(), self.complete, |line, rec| {
            if rec.get(0) == Some(row.to_string().as_str()) && rec.get(3) == Some("ok") {
                was = Some((line, identity_of(rec)));
                return Ok(false);
            }
            Ok(true)
        });
        let (line, was) = was.unwrap_or_default();
        format!(
            "row {row} of {} is not the row {} marks ok (line {line}: parent {:?}, related {:?}; the CSV now has \
             parent {:?}, related {:?}): the input changed since that report was written; resume with the CSV the \
             report was made from, or run without --resume",
            input.path().display(),
            self.path.display(),
            was.parent,
            was.related,
            now.parent,
            now.related
        )
    }

    /// Copies the `ok` lines into a new report, as they were, once per row.
    pub fn carry(&self, out: &mut Carry<'_>) -> Result<(), String> {
        let mut carried = vec![false; self.done.len()];
        for_each_line(&self.path, &self.header(), self.complete, |_, rec| {
            if rec.get(3) == Some("ok") {
                let row: u64 = rec[0].parse().unwrap_or(0);
                if let Ok(i) = self.done.binary_search_by_key(&row, |d| d.0)
                    && !std::mem::replace(&mut carried[i], true)
                {
                    out.line(rec).map_err(|e| format!("cannot write the new report: {e}"))?;
                }
            }
            Ok(true)
        })
    }
}

/// Reads the records of the first `complete` bytes of the report at `path` (header checked), passing each with
/// its line number to `f` until it returns `Ok(false)`.
fn for_each_line(
    path: &Path,
    expected: &[&str],
    complete: u64,
    mut f: impl FnMut(u64, &csv::StringRecord) -> Result<bool, String>,
) -> Result<(), String> {
    let cannot = |e: &dyn std::fmt::Display| format!("cannot read the report to resume {}: {e}", path.display());
    let file = File::open(path).map_err(|e| cannot(&e))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(BufReader::new(file.take(complete)));
    let header = reader.headers().map_err(|e| cannot(&e))?.clone();
    if header.iter().ne(expected.iter().copied()) {
        return Err(format!(
            "{} is not a zcrm report of this command (header {:?}, expected {expected:?})",
            path.display(),
            header.iter().collect::<Vec<_>>()
        ));
    }
    let mut rec = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut rec) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                if !f(line, &rec)? {
                    return Ok(());
                }
            }
            Err(e) => return Err(format!("{} line {line}: {e}", path.display())),
        }
    }
}

fn identity_of(rec: &csv::StringRecord) -> Identity {
    Identity { parent: rec[1].to_owned(), related: rec[2].to_owned() }
}

/// The length of `file` up to and including its last newline.
fn complete_len(file: &mut File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 << 10];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}
