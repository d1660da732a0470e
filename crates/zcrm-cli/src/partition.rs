//! The partition pass of a bulk command: the CSV's rows sorted by the group column (the parent) with the
//! core's bounded-memory external sort ([`zcrm_extid::bulk::partition`]), so that a shuffled export sends
//! full calls of 100 rows. Rows keep their CSV row numbers; an unreadable row sorts with an empty key and still
//! becomes its own `INVALID_INPUT` outcome.

use serde::{Deserialize, Serialize};
use zcrm_extid::bulk::partition::{SortOptions, sort_by_key};

use crate::input::CsvRow;

/// Rows sorted in memory at once: about 10-20 MB of CSV rows, well inside the CLI's memory budget.
const RUN_ROWS: usize = 50_000;

/// A row as the sort spills it: valid UTF-8 cells as text (the common case, compact), others as bytes.
#[derive(Serialize, Deserialize)]
enum Spilled {
    Text(u64, Vec<String>),
    Bytes(u64, Vec<Vec<u8>>),
    Unreadable(u64, String),
}

impl From<CsvRow> for Spilled {
    fn from(row: CsvRow) -> Spilled {
        match row.cells {
            Err(e) => Spilled::Unreadable(row.number, e),
            Ok(cells) => match cells.iter().map(|c| std::str::from_utf8(c).map(str::to_owned)).collect() {
                Ok(text) => Spilled::Text(row.number, text),
                Err(_) => Spilled::Bytes(row.number, cells.iter().map(<[u8]>::to_vec).collect()),
            },
        }
    }
}

impl From<Spilled> for CsvRow {
    fn from(s: Spilled) -> CsvRow {
        let (number, cells) = match s {
            Spilled::Text(n, cells) => (n, Ok(csv::ByteRecord::from(cells))),
            Spilled::Bytes(n, cells) => (n, Ok(cells.into_iter().collect::<csv::ByteRecord>())),
            Spilled::Unreadable(n, e) => (n, Err(e)),
        };
        CsvRow { number, cells }
    }
}

fn key(s: &Spilled, column: usize) -> String {
    match s {
        Spilled::Text(_, cells) => cells.get(column).cloned().unwrap_or_default(),
        Spilled::Bytes(_, cells) => {
            cells.get(column).map(|c| String::from_utf8_lossy(c).into_owned()).unwrap_or_default()
        }
        Spilled::Unreadable(..) => String::new(),
    }
}

/// `rows` sorted by cell `column` (stable: a parent's rows keep their file order), and how many there are.
pub fn by_column(
    rows: impl Iterator<Item = CsvRow>,
    column: usize,
) -> Result<(Box<dyn Iterator<Item = CsvRow>>, u64), String> {
    let mut count = 0u64;
    let counted = rows.inspect(|_| count += 1).map(Spilled::from);
    let options = SortOptions { run_rows: RUN_ROWS, ..SortOptions::default() };
    let sorted = sort_by_key(counted, |s| key(s, column), &options)
        .map_err(|e| format!("sorting the rows by parent in {} failed: {e}", options.dir.display()))?;
    let rows = sorted.map(|r| match r {
        Ok(s) => CsvRow::from(s),
        // A run file that cannot be read back is a broken temporary directory: that row becomes unreadable.
        Err(e) => CsvRow { number: 0, cells: Err(format!("the sorted copy of this row could not be read: {e}")) },
    });
    Ok((Box::new(rows), count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sort_by_the_column_and_keep_their_numbers_and_bytes() {
        let rows = vec![
            CsvRow { number: 1, cells: Ok(csv::ByteRecord::from(vec!["c2", "d1"])) },
            CsvRow { number: 2, cells: Ok(vec![b"c1".to_vec(), b"\xff".to_vec()].into_iter().collect()) },
            CsvRow { number: 3, cells: Err("bad".into()) },
            CsvRow { number: 4, cells: Ok(csv::ByteRecord::from(vec!["c1", "d3"])) },
        ];
        let (sorted, n) = by_column(rows.into_iter(), 0).unwrap();
        let sorted: Vec<CsvRow> = sorted.collect();
        assert_eq!(n, 4);
        assert_eq!(sorted.iter().map(|r| r.number).collect::<Vec<_>>(), [3, 2, 4, 1]);
        assert_eq!(sorted[1].cells.as_ref().unwrap().get(1), Some(&b"\xff"[..]));
        assert!(sorted[0].cells.is_err());
    }
}
