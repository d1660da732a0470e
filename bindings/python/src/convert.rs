//! Python <-> JSON (`serde_json::Value`) and Python arguments -> the core's plain-data types.
//!
//! Conversions only: what a value *means* (is this a valid id, field, record?) is decided by the core.

use std::time::Duration;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde_json::{Map, Number, Value};
use zcrm_extid::settings::ParentRef;
use zcrm_extid::{Error, InvalidInput};

use crate::errors::invalid_input;

/// Nesting deeper than this is refused (as serde_json's parser does), so a self-referencing list cannot
/// overflow the stack.
const MAX_DEPTH: usize = 128;

/// A Python value as JSON: `None`, `bool`, `int` (64-bit), `float`, `str`, mappings with `str` keys, lists
/// and tuples; objects with `__index__` (NumPy integers) as integers. A NaN float is JSON `null` (data frames
/// use NaN for a missing cell; JSON has no NaN). `Err` is a message for an [`InvalidInput`].
pub fn to_json(obj: &Bound<'_, PyAny>) -> Result<Value, String> {
    to_json_at(obj, 0)
}

fn to_json_at(obj: &Bound<'_, PyAny>, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("is nested more than {MAX_DEPTH} levels deep"));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return int_to_json(obj);
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        if v.is_nan() {
            return Ok(Value::Null);
        }
        return Number::from_f64(v).map(Value::Number).ok_or_else(|| format!("{v} is not a finite number"));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return s.to_cow().map(|s| Value::String(s.into_owned())).map_err(|e| format!("is not valid text ({e})"));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        return pairs_to_json(d.items().iter(), depth);
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l.iter().map(|x| to_json_at(&x, depth + 1)).collect::<Result<_, _>>().map(Value::Array);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t.iter().map(|x| to_json_at(&x, depth + 1)).collect::<Result<_, _>>().map(Value::Array);
    }
    if let Ok(m) = obj.cast::<PyMapping>() {
        let items = m.items().map_err(|e| e.to_string())?;
        return pairs_to_json(items.iter(), depth);
    }
    if obj.hasattr("__index__").unwrap_or(false)
        && let Ok(i) = obj.call_method0("__index__")
    {
        return int_to_json(&i);
    }
    Err(format!("a value of type {} cannot be sent as JSON", type_name(obj)))
}

fn int_to_json(obj: &Bound<'_, PyAny>) -> Result<Value, String> {
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(Value::from(i));
    }
    if let Ok(u) = obj.extract::<u64>() {
        return Ok(Value::from(u));
    }
    Err(format!("the integer {obj} does not fit in 64 bits (pass record ids as str)"))
}

fn pairs_to_json<'py>(items: impl Iterator<Item = Bound<'py, PyAny>>, depth: usize) -> Result<Value, String> {
    let mut map = Map::new();
    for item in items {
        let (k, v): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract().map_err(|e: PyErr| e.to_string())?;
        let key = k.cast::<PyString>().map_err(|_| format!("has a key of type {}; keys must be str", type_name(&k)))?;
        let key = key.to_cow().map_err(|e| e.to_string())?.into_owned();
        let value = to_json_at(&v, depth + 1).map_err(|why| format!("[{key:?}] {why}"))?;
        map.insert(key, value);
    }
    Ok(Value::Object(map))
}

/// The type's name, for messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".to_owned())
}

/// JSON as Python: `dict`, `list`, `str`, `int`, `float`, `bool`, `None`.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u), _) => u.into_pyobject(py)?.into_any(),
            (None, None, Some(f)) => PyFloat::new(py, f).into_any(),
            (None, None, None) => PyString::new(py, &n.to_string()).into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => json_map_to_py(py, map)?.into_any(),
    })
}

/// A JSON object as a `dict`.
pub fn json_map_to_py<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in map {
        dict.set_item(k, to_py(py, v)?)?;
    }
    Ok(dict)
}

/// The records of an update: any iterable of mappings. A record that is not a mapping is passed on as JSON
/// for the core to reject with its own message; a value that has no JSON form is an [`InvalidInput`] naming
/// `data[index].field`.
pub fn records(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
    let iter = obj.try_iter().map_err(|_| {
        invalid_input(
            py,
            InvalidInput::new("data", format!("must be an iterable of records (dicts), not {}", type_name(obj))),
        )
    })?;
    let mut out = Vec::new();
    for (index, item) in iter.enumerate() {
        let item = item?;
        out.push(record(&item, index).map_err(|e| invalid_input(py, e))?);
    }
    Ok(out)
}

fn record(item: &Bound<'_, PyAny>, index: usize) -> Result<Value, InvalidInput> {
    let pairs = if let Ok(d) = item.cast::<PyDict>() {
        d.items()
    } else if let Ok(m) = item.cast::<PyMapping>() {
        m.items().map_err(|e| InvalidInput::new("data", e.to_string()).at(index))?
    } else {
        return to_json(item).map_err(|why| InvalidInput::new("data", why).at(index));
    };
    let mut map = Map::new();
    for pair in pairs.iter() {
        let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
            pair.extract().map_err(|e: PyErr| InvalidInput::new("data", e.to_string()).at(index))?;
        let Ok(key) = k.cast::<PyString>().map(|s| s.to_string()) else {
            return Err(
                InvalidInput::new("data", format!("field names must be str, not {} ({k})", type_name(&k))).at(index)
            );
        };
        let value = to_json(&v).map_err(|why| InvalidInput::new("data", why).at(index).field(key.clone()))?;
        map.insert(key, value);
    }
    Ok(Value::Object(map))
}

/// A `parent` argument: a record id (`str`, or `int` as data frames hold ids), or an object with `field` and
/// `value` (`zcrm_extid.External`).
pub fn parent(obj: &Bound<'_, PyAny>) -> PyResult<ParentRef> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(ParentRef::Id(s.to_string()));
    }
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
        return Ok(ParentRef::Id(obj.str()?.to_string()));
    }
    if let (Some(field), Some(value)) = (obj.getattr_opt("field")?, obj.getattr_opt("value")?) {
        return Ok(ParentRef::External { field: field.extract()?, value: external_value(&value)? });
    }
    Err(PyTypeError::new_err(format!(
        "parent must be a record id (str) or External(field, value), not {}",
        type_name(obj)
    )))
}

fn external_value(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
        return Ok(obj.str()?.to_string());
    }
    obj.extract()
}

/// Relation fields of a bulk job: `{api_name: column}`, or a name or sequence of names (each both API name and
/// column) and `(api_name, column)` pairs.
pub fn fields(obj: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    if let Ok(name) = obj.cast::<PyString>() {
        let name = name.to_string();
        return Ok(vec![(name.clone(), name)]);
    }
    if let Ok(m) = obj.cast::<PyMapping>() {
        return m.items()?.iter().map(|pair| pair.extract::<(String, String)>()).collect();
    }
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        let item = item?;
        if let Ok(name) = item.extract::<String>() {
            out.push((name.clone(), name));
        } else {
            out.push(item.extract::<(String, String)>()?);
        }
    }
    Ok(out)
}

/// Seconds (a float) as a [`Duration`]; negative, NaN or huge values are an invalid `setting`.
pub fn seconds(value: Option<f64>, setting: &str) -> Result<Option<Duration>, Error> {
    value
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| Error::InvalidConfig {
                setting: setting.to_owned(),
                message: format!("{s} is not a usable number of seconds"),
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn seconds_are_durations_or_a_named_config_error() {
        assert_eq!(seconds(Some(0.25), "read_timeout").unwrap(), Some(std::time::Duration::from_millis(250)));
        assert_eq!(seconds(None, "read_timeout").unwrap(), None);
        let e = seconds(Some(-1.0), "read_timeout").unwrap_err();
        assert!(matches!(e, zcrm_extid::Error::InvalidConfig { ref setting, .. } if setting == "read_timeout"));
    }
}
