//! The one conversion of the core's [`Error`] into the exceptions of `zcrm_extid.exceptions` (pure Python
//! classes, so they pickle and subclass like any other). It reads the core's [`ErrorView`] with no `..` and
//! matches with no wildcard arm, so a new field, variant, code or category in the core fails to compile here
//! until it is mapped: nothing falls silently to a generic class.
//!
//! The class: by the kind of failure ([`ErrorFields`]: `InvalidInputError`, `AuthError`, `TransportError`, ...);
//! for Zoho's error objects ([`ErrorFields::Api`]) by the code where a class of its own exists
//! (`MandatoryNotFoundError`, `ScopeMismatchError`, ...), else by the code's category (`ConflictError` for
//! `DUPLICATE_DATA` and `ALREADY_MODIFIED`, `BadRequestError` for `PATTERN_NOT_MATCHED`, ...; an unknown code by
//! its HTTP status). Every exception has `code`, `category`, `retryable`, `status`, `details`, `message`; a
//! transport failure or timeout has its I/O error as `__cause__` (an `OSError` such as `ConnectionRefusedError`).

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};
use zcrm_extid::error_view::{ErrorFields, ErrorView};
use zcrm_extid::{Error, ErrorCategory, ErrorCode, InvalidInput};

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

/// The `ApiError` subclass for Zoho's `code`: a class of its own, or the class of the code's category.
fn api_class(code: &ErrorCode, category: ErrorCategory) -> &'static str {
    match code {
        ErrorCode::InvalidData => "InvalidDataError",
        ErrorCode::MandatoryNotFound => "MandatoryNotFoundError",
        ErrorCode::LimitExceeded => "LimitExceededError",
        ErrorCode::InvalidToken | ErrorCode::InvalidOauthToken => "InvalidTokenError",
        ErrorCode::AuthenticationFailure | ErrorCode::AuthenticationFailed => "AuthenticationFailureError",
        ErrorCode::OauthScopeMismatch => "ScopeMismatchError",
        ErrorCode::NoPermission | ErrorCode::AuthorizationFailed => "NoPermissionError",
        ErrorCode::InvalidModule | ErrorCode::NotSupported => "InvalidModuleError",
        ErrorCode::InvalidUrlPattern => "InvalidUrlPatternError",
        ErrorCode::TooManyRequests => "RateLimitedError",
        ErrorCode::InternalError => "InternalError",
        ErrorCode::InvalidRequestMethod
        | ErrorCode::RequiredParamMissing
        | ErrorCode::UnableToParseDataType
        | ErrorCode::FeatureNotSupported
        | ErrorCode::DuplicateData
        | ErrorCode::PatternNotMatched
        | ErrorCode::LicenseLimitExceeded
        | ErrorCode::InvalidHost
        | ErrorCode::ApiNotSupported
        | ErrorCode::NoContent
        | ErrorCode::CannotBeUpdated
        | ErrorCode::NotAllowed
        | ErrorCode::AlreadyModified
        | ErrorCode::InvalidInput
        | ErrorCode::InvalidConfig
        | ErrorCode::ApiDomainMismatch
        | ErrorCode::Transport
        | ErrorCode::Timeout
        | ErrorCode::UnexpectedResponse
        | ErrorCode::OauthInvalidCode
        | ErrorCode::OauthInvalidClient
        | ErrorCode::OauthThrottled
        | ErrorCode::OauthError
        | ErrorCode::NotAttempted
        | ErrorCode::Cancelled
        | ErrorCode::ClientPanic
        | ErrorCode::CreditReserve
        | ErrorCode::BudgetUnavailable
        | ErrorCode::BudgetAuth
        | ErrorCode::ChangedSincePlanning
        | ErrorCode::Other(_) => category_class(category),
    }
}

/// The `ApiError` subclass of a category.
fn category_class(category: ErrorCategory) -> &'static str {
    match category {
        ErrorCategory::InvalidInput | ErrorCategory::Config => "BadRequestError",
        ErrorCategory::Auth => "UnauthorizedError",
        ErrorCategory::Permission => "ForbiddenError",
        ErrorCategory::NotFound => "NotFoundError",
        ErrorCategory::Conflict => "ConflictError",
        ErrorCategory::RateLimited => "RateLimitedError",
        ErrorCategory::Server => "InternalError",
        // Zoho's answers never carry these categories (they are the client's own failures).
        ErrorCategory::Network | ErrorCategory::Cancelled | ErrorCategory::Client => "ApiError",
    }
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let module = exceptions(py)?;
    let ErrorView { code, category, retryable, status, text, message, details, fields } = err.view();
    let kw = PyDict::new(py);
    kw.set_item("code", code.as_str())?;
    kw.set_item("status", status)?;
    kw.set_item("category", category.as_str())?;
    kw.set_item("retryable", retryable)?;
    kw.set_item("message", &message)?;
    if let Some(details) = details {
        kw.set_item("details", json_map_to_py(py, details)?)?;
    }
    let mut cause = None;
    let class = match fields {
        ErrorFields::InvalidInput { argument, index, field, location, reason } => {
            kw.set_item("message", reason)?;
            kw.set_item("argument", argument)?;
            kw.set_item("index", index)?;
            kw.set_item("field", field)?;
            kw.set_item("location", location)?;
            "InvalidInputError"
        }
        ErrorFields::InvalidConfig { setting } => {
            kw.set_item("setting", setting)?;
            "InvalidConfigError"
        }
        // `configured` and `api_domain` are in `details` too.
        ErrorFields::ApiDomainMismatch { setting, configured: _, api_domain: _ } => {
            kw.set_item("setting", setting)?;
            "InvalidConfigError"
        }
        ErrorFields::Api { api_message, hint } => {
            kw.set_item("message", api_message)?;
            kw.set_item("hint", hint)?;
            api_class(&code, category)
        }
        ErrorFields::Auth { error, description, hint } => {
            kw.set_item("error", error)?;
            kw.set_item("description", description)?;
            kw.set_item("hint", hint)?;
            "AuthError"
        }
        ErrorFields::Transport { source } => {
            cause = source;
            "TransportError"
        }
        ErrorFields::Timeout { source } => {
            cause = source;
            "TimeoutError"
        }
        ErrorFields::UnexpectedResponse { reason, content_type, body_prefix } => {
            kw.set_item("reason", reason)?;
            kw.set_item("content_type", content_type)?;
            kw.set_item("body_prefix", body_prefix)?;
            "UnexpectedResponseError"
        }
        ErrorFields::Cancelled => "CancelledError",
        ErrorFields::Internal => "ClientPanicError",
        // The shared budget: Redis refused the password (a setting), Redis failed (like the network), or a job
        // stopped at its credit reserve (like a cancellation: nothing failed, the job chose to stop).
        ErrorFields::Budget { code: ErrorCode::BudgetAuth } => {
            kw.set_item("setting", "budget")?;
            "InvalidConfigError"
        }
        ErrorFields::Budget { code: ErrorCode::CreditReserve } => "CancelledError",
        ErrorFields::Budget { .. } => "TransportError",
    };
    let instance = module.getattr(class)?.call((text,), Some(&kw))?;
    if let Some(io) = cause {
        // The I/O error underneath as the matching OSError (ConnectionRefusedError, ConnectionResetError, ...).
        let os_error = PyErr::from(std::io::Error::new(io.kind(), io.to_string()));
        instance.setattr("__cause__", os_error.value(py))?;
    }
    Ok(PyErr::from_value(instance))
}

/// Every code the client knows, as `(code, category, retryable)` (the core's table).
#[pyfunction]
pub fn error_codes() -> Vec<(&'static str, &'static str, bool)> {
    ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str(), c.category().map(ErrorCategory::as_str).unwrap_or(""), c.retryable()))
        .collect()
}

/// The exception the client raises for an answer (or a failure) with `code` and `status`, without sending
/// anything: for tests of the mapping and for rebuilding an error from a report's code.
#[pyfunction]
#[pyo3(signature = (code, status=None, message="rebuilt from its code"))]
pub fn error_from_code(py: Python<'_>, code: &str, status: Option<u16>, message: &str) -> PyErr {
    to_py_err(py, Error::from_code(ErrorCode::parse(code), status, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_an_api_class_and_every_code_one_by_code_or_category() {
        for code in ErrorCode::ALL {
            let category = code.category().unwrap();
            assert!(api_class(code, category).ends_with("Error"), "{code}");
        }
        assert_eq!(api_class(&ErrorCode::DuplicateData, ErrorCategory::Conflict), "ConflictError");
        assert_eq!(api_class(&ErrorCode::Other("X".into()), ErrorCategory::NotFound), "NotFoundError");
    }
}

/// The values each enumerated setting accepts (`data_center`, `environment`, `api_version`, `edition`), as the
/// core spells them: what the `Literal` types of `zcrm_extid.types` list.
#[pyfunction]
pub fn settings_choices() -> Vec<(&'static str, Vec<&'static str>)> {
    zcrm_extid::settings::choices()
}
