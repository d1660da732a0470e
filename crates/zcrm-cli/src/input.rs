//! The input CSV of a bulk command: its header, and its data rows numbered from 1 (the header not counted), as
//! the report and the error messages number them.
//!
//! Rows are read as bytes and checked for UTF-8 one by one, so a row with bad bytes becomes an `INVALID_INPUT`
//! outcome naming its row and column instead of stopping the job; its cells still identify it in the report
//! (lossily decoded). Rows may have more or fewer cells than the header (a missing cell reads as absent).

use std::fs::File;
use std::path::{Path, PathBuf};

use zcrm_extid::InvalidInput;

/// An input CSV whose header has been read.
#[derive(Debug, Clone)]
pub struct CsvInput {
    path: PathBuf,
    header: Vec<String>,
}

/// One data row as read.
pub struct CsvRow {
    /// 1-based row number (the header not counted).
    pub number: u64,
    /// The row's cells, or why it could not be read.
    pub cells: Result<csv::ByteRecord, String>,
}

impl CsvInput {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> Result<CsvInput, String> {
        let mut reader = reader(path)?;
        let header =
            reader.headers().map_err(|e| format!("{}: {e}", path.display()))?.iter().map(str::to_owned).collect();
        Ok(CsvInput { path: path.to_owned(), header })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The data rows, from the first, read afresh from the file.
    pub fn rows(&self) -> Result<impl Iterator<Item = CsvRow> + use<>, String> {
        let records = reader(&self.path)?.into_byte_records();
        Ok(records.enumerate().map(|(i, r)| CsvRow { number: i as u64 + 1, cells: r.map_err(|e| e.to_string()) }))
    }
}

impl CsvRow {
    /// Cell `column` as text (bad UTF-8 replaced), empty when the row has no such cell or could not be read.
    pub fn lossy(&self, column: usize) -> String {
        match &self.cells {
            Ok(r) => r.get(column).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The row as text, or an `INVALID_INPUT` naming the row (0-based, as `row[i]`) and the column at fault.
    pub fn text(&self, header: &[String]) -> Result<csv::StringRecord, InvalidInput> {
        let i = (self.number - 1) as usize;
        match &self.cells {
            Ok(bytes) => csv::StringRecord::from_byte_record(bytes.clone()).map_err(|e| {
                let field = e.utf8_error().field();
                let column = header.get(field).cloned().unwrap_or_else(|| format!("#{}", field + 1));
                InvalidInput::new("row", format!("column {column:?} is not valid UTF-8")).at(i).field(column)
            }),
            Err(e) => Err(InvalidInput::new("row", format!("unreadable CSV record: {e}")).at(i)),
        }
    }
}

fn reader(path: &Path) -> Result<csv::Reader<File>, String> {
    let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(csv::ReaderBuilder::new().flexible(true).from_reader(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_from_one_and_bad_bytes_name_the_column() {
        let dir = std::env::temp_dir().join(format!("zcrm-input-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("in.csv");
        std::fs::write(&path, b"a,b\n1,x\n2,\xff\n3\n").unwrap();
        let input = CsvInput::open(&path).unwrap();
        assert_eq!(input.column("b"), Some(1));
        let rows: Vec<CsvRow> = input.rows().unwrap().collect();
        assert_eq!(rows.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(rows[0].text(input.header()).unwrap().get(1), Some("x"));
        let e = rows[1].text(input.header()).unwrap_err();
        assert_eq!(e.location(), "row[1].b");
        assert_eq!(rows[1].lossy(1), "\u{fffd}");
        assert_eq!(rows[2].lossy(1), "", "a short row reads as an empty cell");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
