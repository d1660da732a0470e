//! The partition pass: sorts a job's rows by their group key (the parent) with bounded memory, so that
//! unsorted input — an ERP export is rarely sorted by contact — still gives full calls of 100 rows.
//!
//! An external merge sort: rows are read in runs of at most [`SortOptions::run_rows`]; each run is sorted in
//! memory (by key, then by read order, so the sort is stable and duplicates keep their input order) and, unless
//! it is the only one, written to a temporary file as JSON lines; the runs are then merged, one row of each in
//! memory at a time. Input that fits in one run is never written to disk. The temporary directory is removed
//! when the sorted iterator is dropped.
//!
//! ```
//! use zcrm_extid::bulk::partition::{SortOptions, sort_by_key};
//! let rows = vec![(0, "c2"), (1, "c1"), (2, "c2"), (3, "c1"), (4, "c3")];
//! let options = SortOptions { run_rows: 2, ..SortOptions::default() }; // forces three runs on disk
//! let sorted: Vec<(u32, String)> = sort_by_key(
//!     rows.into_iter().map(|(i, p)| (i, p.to_owned())), |r| r.1.clone(), &options)?
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(sorted.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 3, 0, 2, 4]);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// How the partition pass may use memory and disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortOptions {
    /// Rows sorted in memory at once (default 100,000: about 20-40 MB for CSV rows of a few columns).
    pub run_rows: usize,
    /// Where the temporary run files go (default: the system's temporary directory).
    pub dir: PathBuf,
}

impl Default for SortOptions {
    fn default() -> Self {
        SortOptions { run_rows: 100_000, dir: std::env::temp_dir() }
    }
}

/// A run's row on disk: key, read order, row.
#[derive(serde::Serialize, serde::Deserialize)]
struct Spilled<T> {
    k: String,
    s: u64,
    r: T,
}

/// Removes the run files when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(base: &std::path::Path) -> io::Result<TempDir> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir =
        base.join(format!("zcrm-partition-{}-{nanos}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)));
    fs::create_dir(&dir)?;
    Ok(TempDir(dir))
}

fn invalid(e: serde_json::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// Sorts `rows` by `key` (stable), with at most `options.run_rows` rows in memory. See the module docs.
pub fn sort_by_key<T, I, F>(rows: I, key: F, options: &SortOptions) -> io::Result<Sorted<T>>
where
    T: Serialize + DeserializeOwned,
    I: IntoIterator<Item = T>,
    F: Fn(&T) -> String,
{
    let run_rows = options.run_rows.max(1);
    let mut rows = rows.into_iter();
    let mut seq = 0u64;
    let mut dir: Option<TempDir> = None;
    let mut files = Vec::new();
    loop {
        let mut run: Vec<(String, u64, T)> = Vec::with_capacity(run_rows.min(1 << 16));
        for row in rows.by_ref().take(run_rows) {
            run.push((key(&row), seq, row));
            seq += 1;
        }
        let last = run.len() < run_rows;
        run.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        if last && files.is_empty() {
            return Ok(Sorted { inner: Inner::Memory(run.into_iter()), _dir: None });
        }
        if !run.is_empty() {
            let d = match &dir {
                Some(d) => d,
                None => dir.insert(temp_dir(&options.dir)?),
            };
            let path = d.0.join(format!("run-{}.jsonl", files.len()));
            let mut w = BufWriter::new(File::create(&path)?);
            for (k, s, r) in run {
                serde_json::to_writer(&mut w, &Spilled { k, s, r }).map_err(invalid)?;
                w.write_all(b"\n")?;
            }
            w.flush()?;
            files.push(path);
        }
        if last {
            break;
        }
    }
    let mut readers = Vec::with_capacity(files.len());
    let mut heap = BinaryHeap::with_capacity(files.len());
    for (i, path) in files.iter().enumerate() {
        let mut r = BufReader::new(File::open(path)?);
        if let Some(s) = read_one::<T>(&mut r)? {
            heap.push(Reverse(Head { key: s.k, seq: s.s, run: i, row: HeadRow(s.r) }));
        }
        readers.push(r);
    }
    Ok(Sorted { inner: Inner::Merge { readers, heap }, _dir: dir })
}

fn read_one<T: DeserializeOwned>(r: &mut BufReader<File>) -> io::Result<Option<Spilled<T>>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    serde_json::from_str(&line).map(Some).map_err(invalid)
}

/// The row type is not compared: only key and read order are.
struct HeadRow<T>(T);

struct Head<T> {
    key: String,
    seq: u64,
    run: usize,
    row: HeadRow<T>,
}

impl<T> PartialEq for Head<T> {
    fn eq(&self, other: &Self) -> bool {
        (&self.key, self.seq) == (&other.key, other.seq)
    }
}
impl<T> Eq for Head<T> {}
impl<T> PartialOrd for Head<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Head<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.key, self.seq).cmp(&(&other.key, other.seq))
    }
}

enum Inner<T> {
    Memory(std::vec::IntoIter<(String, u64, T)>),
    Merge { readers: Vec<BufReader<File>>, heap: BinaryHeap<Reverse<Head<T>>> },
}

/// The sorted rows; an `Err` if a run file could not be read back.
pub struct Sorted<T> {
    inner: Inner<T>,
    _dir: Option<TempDir>,
}

impl<T: DeserializeOwned> Iterator for Sorted<T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        match &mut self.inner {
            Inner::Memory(rows) => rows.next().map(|(_, _, r)| Ok(r)),
            Inner::Merge { readers, heap } => {
                let Reverse(head) = heap.pop()?;
                match read_one::<T>(&mut readers[head.run]) {
                    Ok(Some(s)) => heap.push(Reverse(Head { key: s.k, seq: s.s, run: head.run, row: HeadRow(s.r) })),
                    Ok(None) => {}
                    Err(e) => return Some(Err(e)),
                }
                Some(Ok(head.row.0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_across_runs_and_cleans_up() {
        let dir = std::env::temp_dir().join(format!("zcrm-partition-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let rows: Vec<(u32, String)> = (0..1000u32).map(|i| (i, format!("p{}", (i * 7919) % 37))).collect();
        let options = SortOptions { run_rows: 64, dir: dir.clone() };
        let sorted = sort_by_key(rows.clone(), |r| r.1.clone(), &options).unwrap();
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "one temporary directory while sorting");
        let sorted: Vec<(u32, String)> = sorted.collect::<Result<_, _>>().unwrap();
        let mut expected = rows;
        expected.sort_by(|a, b| a.1.cmp(&b.1)); // std's sort is stable
        assert_eq!(sorted, expected);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "removed when dropped");
        fs::remove_dir(&dir).unwrap();
    }
}
