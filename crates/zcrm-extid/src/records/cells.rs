//! Rows of data frames and CSV files -> record fields. A binding reads each cell into a [`Cell`] (it alone
//! knows its language's types); [`record_from_cells`] applies the one policy:
//!
//! | cell | field |
//! |---|---|
//! | missing: NaN, NaT, `pandas.NA` ([`Cell::Missing`]) | left out of the record (a missing cell is no value, and `null` would clear the field in an update) |
//! | `None` / `null` ([`Cell::Json`] null) | `null` with [`Nulls::Keep`] (single calls: "clear this field"); left out with [`Nulls::Omit`] (bulk rows) |
//! | a date-time with a UTC offset | Zoho's `yyyy-MM-ddTHH:mm:ss±HH:mm` ([`DateTime::to_zoho`]; sub-seconds dropped, as Zoho's format has none) |
//! | a date-time without one (naive) | an [`InvalidInput`] for that row and field: Zoho needs the offset, and guessing one would shift the time |
//! | a date | `yyyy-MM-dd` |
//! | a value with no JSON form ([`Cell::Unsupported`]) | an [`InvalidInput`] naming its type |
//!
//! ```
//! use serde_json::json;
//! use zcrm_extid::records::cells::{Cell, DateTime, Nulls, record_from_cells};
//! let row = vec![
//!     ("External_Contact_ID".to_owned(), Cell::Json(json!("c1"))),
//!     ("Phone".to_owned(), Cell::Missing),
//!     ("Last_Seen".to_owned(), Cell::DateTime(DateTime::new(2024, 5, 1, 10, 30, 0, Some(120)))),
//!     ("Since".to_owned(), Cell::Date { year: 2020, month: 1, day: 31 }),
//! ];
//! let record = record_from_cells(3, row, Nulls::Omit)?;
//! assert_eq!(serde_json::Value::Object(record),
//!     json!({"External_Contact_ID": "c1", "Last_Seen": "2024-05-01T10:30:00+02:00", "Since": "2020-01-31"}));
//! let naive = vec![("Last_Seen".to_owned(), Cell::DateTime(DateTime::new(2024, 5, 1, 10, 30, 0, None)))];
//! assert_eq!(record_from_cells(3, naive, Nulls::Omit).unwrap_err().location(), "data[3].Last_Seen");
//! # Ok::<(), zcrm_extid::InvalidInput>(())
//! ```

use serde_json::{Map, Value};

use crate::error::InvalidInput;

/// A date and time of day, with its UTC offset in minutes when it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Year.
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31.
    pub day: u8,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
    /// Second, 0 to 59 (a leap second 60 is kept).
    pub second: u8,
    /// Minutes east of UTC (`+05:30` is 330); `None` for a naive date-time.
    pub offset_minutes: Option<i32>,
}

impl DateTime {
    /// A date-time from its parts.
    pub fn new(year: i32, month: u8, day: u8, hour: u8, minute: u8, second: u8, offset_minutes: Option<i32>) -> Self {
        DateTime { year, month, day, hour, minute, second, offset_minutes }
    }

    /// The UTC date-time of `ms` milliseconds since the Unix epoch (a JavaScript `Date`); `None` for a
    /// non-finite or out-of-range value (an invalid `Date`, which is then a missing cell).
    ///
    /// ```
    /// use zcrm_extid::records::cells::DateTime;
    /// assert_eq!(DateTime::from_unix_millis(1_714_559_853_999.0).unwrap().to_zoho().unwrap(), "2024-05-01T10:37:33+00:00");
    /// assert!(DateTime::from_unix_millis(f64::NAN).is_none());
    /// ```
    pub fn from_unix_millis(ms: f64) -> Option<DateTime> {
        if !ms.is_finite() || ms.abs() > 8.64e15 {
            return None;
        }
        let secs = (ms / 1000.0).floor() as i64;
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = i32::try_from(yoe + era * 400 + i64::from(month <= 2)).ok()?;
        let (hour, minute, second) = ((rem / 3600) as u8, (rem % 3600 / 60) as u8, (rem % 60) as u8);
        Some(DateTime { year, month, day, hour, minute, second, offset_minutes: Some(0) })
    }

    /// `yyyy-MM-ddTHH:mm:ss±HH:mm`, or why it cannot be written.
    pub fn to_zoho(&self) -> Result<String, String> {
        let offset = self.offset_minutes.ok_or_else(|| {
            "is a date-time without a time zone; Zoho needs the UTC offset and guessing one would shift the time \
             (pandas: Series.dt.tz_localize(...); Python: datetime.replace(tzinfo=...))"
                .to_owned()
        })?;
        let date = format_date(self.year, self.month, self.day)?;
        if self.hour > 23 || self.minute > 59 || self.second > 60 || offset.abs() >= 24 * 60 {
            return Err(format!("is not a valid time of day ({:?})", self));
        }
        let sign = if offset < 0 { '-' } else { '+' };
        let (oh, om) = (offset.abs() / 60, offset.abs() % 60);
        Ok(format!("{date}T{:02}:{:02}:{:02}{sign}{oh:02}:{om:02}", self.hour, self.minute, self.second))
    }
}

fn format_date(year: i32, month: u8, day: u8) -> Result<String, String> {
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(format!("is not a valid date ({year}-{month}-{day})"));
    }
    Ok(format!("{year:04}-{month:02}-{day:02}"))
}

/// One cell of a row, as a binding reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A JSON value (`None` is `Value::Null`).
    Json(Value),
    /// A missing cell (NaN, NaT, `pandas.NA`): left out.
    Missing,
    /// A date-time.
    DateTime(DateTime),
    /// A date.
    Date {
        /// Year.
        year: i32,
        /// Month, 1 to 12.
        month: u8,
        /// Day, 1 to 31.
        day: u8,
    },
    /// A value with no JSON form: the name of its type.
    Unsupported(String),
}

/// What a `null` cell becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nulls {
    /// `null` is sent (in an update it clears the field).
    #[default]
    Keep,
    /// `null` is left out, like a missing cell (bulk rows: an empty cell changes nothing).
    Omit,
}

/// One cell as a field value: `Ok(None)` when it is left out, or the message for an [`InvalidInput`].
pub fn cell_value(cell: Cell, nulls: Nulls) -> Result<Option<Value>, String> {
    match cell {
        Cell::Missing => Ok(None),
        Cell::Json(Value::Null) if nulls == Nulls::Omit => Ok(None),
        Cell::Json(v) => Ok(Some(v)),
        Cell::DateTime(dt) => dt.to_zoho().map(|s| Some(Value::String(s))),
        Cell::Date { year, month, day } => format_date(year, month, day).map(|s| Some(Value::String(s))),
        Cell::Unsupported(type_name) => Err(format!("a value of type {type_name} cannot be sent as JSON")),
    }
}

/// Row `index` as a record (see the module docs); an error names `data[index].field`.
pub fn record_from_cells(
    index: usize,
    cells: impl IntoIterator<Item = (String, Cell)>,
    nulls: Nulls,
) -> Result<Map<String, Value>, InvalidInput> {
    let mut record = Map::new();
    for (field, cell) in cells {
        match cell_value(cell, nulls) {
            Ok(Some(v)) => {
                record.insert(field, v);
            }
            Ok(None) => {}
            Err(why) => return Err(InvalidInput::new("data", why).at(index).field(field)),
        }
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn offsets_and_nulls() {
        let dt = |off| DateTime::new(2024, 12, 31, 23, 59, 59, off);
        assert_eq!(dt(Some(0)).to_zoho().unwrap(), "2024-12-31T23:59:59+00:00");
        assert_eq!(dt(Some(-330)).to_zoho().unwrap(), "2024-12-31T23:59:59-05:30");
        assert!(dt(None).to_zoho().unwrap_err().contains("time zone"));
        assert!(DateTime::new(2024, 13, 1, 0, 0, 0, Some(0)).to_zoho().is_err());
        let epoch = |ms| DateTime::from_unix_millis(ms).unwrap().to_zoho().unwrap();
        assert_eq!(epoch(0.0), "1970-01-01T00:00:00+00:00");
        assert_eq!(epoch(-1.0), "1969-12-31T23:59:59+00:00");
        assert_eq!(epoch(951_782_400_000.0), "2000-02-29T00:00:00+00:00");
        assert_eq!(cell_value(Cell::Json(Value::Null), Nulls::Keep).unwrap(), Some(Value::Null));
        assert_eq!(cell_value(Cell::Json(Value::Null), Nulls::Omit).unwrap(), None);
        let e = record_from_cells(7, [("X".to_owned(), Cell::Unsupported("Decimal".into()))], Nulls::Keep).unwrap_err();
        assert_eq!((e.location(), e.message.contains("Decimal")), ("data[7].X".to_owned(), true));
        let r = record_from_cells(0, [("A".to_owned(), Cell::Json(json!(1)))], Nulls::Keep).unwrap();
        assert_eq!(Value::Object(r), json!({"A": 1}));
    }
}
