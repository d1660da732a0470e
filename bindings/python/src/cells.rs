//! Python values -> the core's [`Cell`]s (`zcrm_extid::records::cells`), and records built from them by the
//! core's one policy: missing cells (NaN, NaT, `pandas.NA`) are left out, date-times become Zoho's ISO text
//! (a naive one is a per-record error), `None` is kept as `null` in single calls ([`Nulls::Keep`]) or left out
//! for data-frame rows ([`Nulls::Omit`], the bulk path). This module only reads Python types; what they become
//! is the core's.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyFloat, PyMapping, PyString, PyType};
use serde_json::{Map, Value};
use zcrm_extid::InvalidInput;
use zcrm_extid::records::cells::{Cell, DateTime, Nulls, record_from_cells};

use crate::convert::{to_json, type_name};

static DATETIME: PyOnceLock<(Py<PyType>, Py<PyType>)> = PyOnceLock::new();

/// `(datetime.datetime, datetime.date)`.
fn datetime_types(py: Python<'_>) -> PyResult<&(Py<PyType>, Py<PyType>)> {
    DATETIME.get_or_try_init(py, || {
        let m = py.import("datetime")?;
        Ok((m.getattr("datetime")?.cast_into::<PyType>()?.unbind(), m.getattr("date")?.cast_into::<PyType>()?.unbind()))
    })
}

/// An integer attribute (`year`, `month`, ...), as the core's part type; out of range is a `ValueError`.
fn part<T: TryFrom<i64>>(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<T> {
    let n: i64 = obj.getattr(name)?.extract::<i64>()?;
    T::try_from(n).map_err(|_| pyo3::exceptions::PyValueError::new_err(format!("{name} {n} is out of range")))
}

/// One Python value as a cell.
pub fn cell(obj: &Bound<'_, PyAny>) -> PyResult<Cell> {
    let py = obj.py();
    if obj.is_none() {
        return Ok(Cell::Json(Value::Null));
    }
    if let Ok(f) = obj.cast::<PyFloat>()
        && f.value().is_nan()
    {
        return Ok(Cell::Missing);
    }
    // pandas.NA (no equality to anything) and pandas.NaT (a datetime that is not equal to itself).
    if type_name(obj) == "NAType" {
        return Ok(Cell::Missing);
    }
    let (datetime, date) = datetime_types(py)?;
    if obj.is_instance(datetime.bind(py))? {
        if obj.ne(obj)? {
            return Ok(Cell::Missing);
        }
        let offset = obj.call_method0("utcoffset")?;
        let offset_minutes = if offset.is_none() {
            None
        } else {
            let secs: f64 = offset.call_method0("total_seconds")?.extract()?;
            Some((secs / 60.0).round() as i32)
        };
        return Ok(Cell::DateTime(DateTime::new(
            part(obj, "year")?,
            part(obj, "month")?,
            part(obj, "day")?,
            part(obj, "hour")?,
            part(obj, "minute")?,
            part(obj, "second")?,
            offset_minutes,
        )));
    }
    if obj.is_instance(date.bind(py))? {
        return Ok(Cell::Date { year: part(obj, "year")?, month: part(obj, "month")?, day: part(obj, "day")? });
    }
    Ok(match to_json(obj) {
        Ok(v) => Cell::Json(v),
        Err(_) => Cell::Unsupported(type_name(obj)),
    })
}

/// Record `index` from a mapping (`dict`, a pandas row's `dict`, any `Mapping` with `str` keys); a value that is
/// not a mapping is passed on as JSON for the core to refuse with its own message.
pub fn record(item: &Bound<'_, PyAny>, index: usize, nulls: Nulls) -> Result<Value, InvalidInput> {
    if item.cast::<PyMapping>().is_err() {
        return to_json(item).map_err(|why| InvalidInput::new("data", why).at(index));
    }
    record_from_cells(index, row_cells(item, index)?, nulls).map(|m: Map<String, Value>| Value::Object(m))
}

/// The cells of row `index`, a mapping of column name to value (errors name `data[index]` and the column).
pub fn row_cells(item: &Bound<'_, PyAny>, index: usize) -> Result<Vec<(String, Cell)>, InvalidInput> {
    let err = |why: String| InvalidInput::new("data", why).at(index);
    let pairs = if let Ok(d) = item.cast::<PyDict>() {
        d.items()
    } else if let Ok(m) = item.cast::<PyMapping>() {
        m.items().map_err(|e| err(e.to_string()))?
    } else {
        return Err(err(format!("must be a mapping of column name to value (a dict), not {}", type_name(item))));
    };
    let mut cells = Vec::with_capacity(pairs.len());
    for pair in pairs.iter() {
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair.extract().map_err(|e: PyErr| err(e.to_string()))?;
        let Ok(key) = k.cast::<PyString>().map(|s| s.to_string()) else {
            return Err(err(format!("field names must be str, not {} ({k})", type_name(&k))));
        };
        let c = cell(&v).map_err(|e| err(e.to_string()).field(key.clone()))?;
        cells.push((key, c));
    }
    Ok(cells)
}
