//! The one conversion of the core's [`Error`] into the exceptions of `zcrm_extid.exceptions` (pure Python
//! classes, so they pickle and subclass like any other). It matches [`ErrorKind`] with no wildcard arm: a new
//! kind in the core fails to compile here instead of degrading to a generic exception.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};
use zcrm_extid::{Error, ErrorKind, InvalidInput};

use crate::convert::json_map_to_py;

static EXCEPTIONS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn exceptions(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    EXCEPTIONS.get_or_try_init(py, || Ok(py.import("zcrm_extid.exceptions")?.unbind())).map(|m| m.bind(py))
}

/// The Python exception for `err`.
pub fn to_py_err(py: Python<'_>, err: Error) -> PyErr {
    build(py, &err).unwrap_or_else(|failed| failed)
}

/// The Python exception for a validation failure.
pub fn invalid_input(py: Python<'_>, err: InvalidInput) -> PyErr {
    to_py_err(py, Error::InvalidInput(err))
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let module = exceptions(py)?;
    let kw = PyDict::new(py);
    kw.set_item("code", err.code().as_str())?;
    kw.set_item("status", err.status())?;
    if let Some(details) = err.details() {
        kw.set_item("details", json_map_to_py(py, details)?)?;
    }
    // `kind()` is the core's exhaustive classification; each arm reads its variant's fields (the `if let`s
    // always match, since `kind()` is derived from the variant).
    let class = match err.kind() {
        ErrorKind::InvalidInput => {
            if let Some(e) = err.invalid_input() {
                kw.set_item("message", &e.message)?;
                kw.set_item("argument", &e.argument)?;
                kw.set_item("index", e.index)?;
                kw.set_item("field", &e.field)?;
                kw.set_item("location", e.location())?;
            }
            module.getattr("InvalidInputError")?
        }
        ErrorKind::InvalidConfig => {
            kw.set_item("setting", err.setting())?;
            kw.set_item("message", err.message())?;
            module.getattr("InvalidConfigError")?
        }
        ErrorKind::Api => {
            if let Error::Api { message, hint, .. } = err {
                kw.set_item("message", message)?;
                kw.set_item("hint", hint)?;
            }
            module.getattr("ApiError")?.call_method1("class_for", (err.code().as_str(), err.status()))?
        }
        ErrorKind::Auth => {
            if let Error::Auth { error, description, hint, .. } = err {
                kw.set_item("error", error)?;
                kw.set_item("description", description)?;
                kw.set_item("hint", hint)?;
            }
            module.getattr("AuthError")?
        }
        ErrorKind::Transport => {
            // `Transport`, or the shared budget's Redis failing (`BUDGET_UNAVAILABLE`).
            kw.set_item("message", err.message())?;
            module.getattr("TransportError")?
        }
        ErrorKind::Timeout => {
            if let Error::Timeout { message } = err {
                kw.set_item("message", message)?;
            }
            module.getattr("TimeoutError")?
        }
        ErrorKind::UnexpectedResponse => {
            if let Error::UnexpectedResponse { reason, content_type, body_prefix, .. } = err {
                kw.set_item("message", reason)?;
                kw.set_item("reason", reason)?;
                kw.set_item("content_type", content_type)?;
                kw.set_item("body_prefix", body_prefix)?;
            }
            module.getattr("UnexpectedResponseError")?
        }
        ErrorKind::Cancelled => {
            // `Cancelled`, or a job stopped at its credit reserve (`CREDIT_RESERVE`).
            kw.set_item("message", err.message())?;
            module.getattr("CancelledError")?
        }
        ErrorKind::Internal => {
            if let Error::Internal { message } = err {
                kw.set_item("message", message)?;
            }
            module.getattr("ClientPanicError")?
        }
    };
    let instance = class.call((err.to_string(),), Some(&kw))?;
    Ok(PyErr::from_value(instance))
}
