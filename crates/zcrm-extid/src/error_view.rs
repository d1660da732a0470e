//! [`ErrorView`]: every field of an [`Error`], borrowed, for the bindings' error mappers.
//!
//! A binding turns an [`Error`] into an exception (Python) or a `ZcrmError` (Node) by destructuring the view
//! with no `..` and matching [`ErrorFields`] with no wildcard arm. The view is built from the error the same
//! way (below), so a field added to an [`Error`] variant fails to compile here until the view carries it, and
//! then in each binding until it is mapped: nothing a user could read is dropped silently.

use crate::code::{ErrorCategory, ErrorCode};
use crate::error::{Details, Error, ErrorKind};

/// Every field of an [`Error`] (see the module docs). Built by [`Error::view`].
///
/// ```
/// use zcrm_extid::error_view::{ErrorFields, ErrorView};
/// use zcrm_extid::{Error, InvalidInput};
/// let e = Error::from(InvalidInput::new("data", "is missing").at(3).field("External_Deal_ID"));
/// let ErrorView { code, category, retryable, status, text, message, details, fields } = e.view();
/// assert_eq!((code.as_str(), category.as_str(), retryable, status), ("INVALID_INPUT", "invalid_input", false, None));
/// assert_eq!(text, "invalid data[3].External_Deal_ID: is missing");
/// assert!(details.is_none() && !message.is_empty());
/// match fields {
///     ErrorFields::InvalidInput { argument, index, field, location, reason } => {
///         assert_eq!((argument, index, field, reason), ("data", Some(3), Some("External_Deal_ID"), "is missing"));
///         assert_eq!(location, "data[3].External_Deal_ID");
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone)]
pub struct ErrorView<'a> {
    /// [`Error::code`].
    pub code: ErrorCode,
    /// [`Error::category`].
    pub category: ErrorCategory,
    /// [`Error::retryable`].
    pub retryable: bool,
    /// [`Error::status`].
    pub status: Option<u16>,
    /// The full description (`Display`): what a binding shows as the error's message.
    pub text: String,
    /// [`Error::message`]: the message without the code.
    pub message: String,
    /// [`Error::details`].
    pub details: Option<&'a Details>,
    /// The fields of the error's variant.
    pub fields: ErrorFields<'a>,
}

/// The fields of each [`Error`] variant, borrowed (one variant per [`Error`] variant).
#[derive(Debug, Clone)]
pub enum ErrorFields<'a> {
    /// [`Error::InvalidInput`].
    InvalidInput {
        /// The argument at fault.
        argument: &'a str,
        /// The record's index.
        index: Option<usize>,
        /// The field at fault.
        field: Option<&'a str>,
        /// `argument[index].field`.
        location: String,
        /// What is wrong (without the location).
        reason: &'a str,
    },
    /// [`Error::InvalidConfig`].
    InvalidConfig {
        /// The setting at fault.
        setting: &'a str,
    },
    /// [`Error::ApiDomainMismatch`].
    ApiDomainMismatch {
        /// `data_center` or `environment`.
        setting: &'a str,
        /// The configured value.
        configured: &'a str,
        /// The token reply's `api_domain`.
        api_domain: &'a str,
    },
    /// [`Error::Api`].
    Api {
        /// Zoho's message.
        api_message: &'a str,
        /// What the client knows that Zoho did not say.
        hint: Option<&'a str>,
    },
    /// [`Error::Auth`].
    Auth {
        /// The token endpoint's `error`.
        error: &'a str,
        /// Its `error_description`.
        description: Option<&'a str>,
        /// The likely cause and remedy.
        hint: Option<&'a str>,
    },
    /// [`Error::Transport`].
    Transport {
        /// The I/O error underneath, if any.
        source: Option<&'a std::io::Error>,
    },
    /// [`Error::Timeout`].
    Timeout {
        /// The I/O error underneath, if any.
        source: Option<&'a std::io::Error>,
    },
    /// [`Error::UnexpectedResponse`].
    UnexpectedResponse {
        /// Why the answer could not be used.
        reason: &'a str,
        /// Its `Content-Type`.
        content_type: Option<&'a str>,
        /// The first 512 bytes of the body.
        body_prefix: &'a str,
    },
    /// [`Error::Cancelled`].
    Cancelled,
    /// [`Error::Internal`].
    Internal,
    /// [`Error::Budget`]: the shared budget failed or a job reached its credit reserve; the code says which.
    Budget {
        /// `BUDGET_UNAVAILABLE`, `BUDGET_AUTH` or `CREDIT_RESERVE`.
        code: &'a ErrorCode,
    },
}

impl ErrorFields<'_> {
    /// The kind of the variant.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ErrorFields::InvalidInput { .. } => ErrorKind::InvalidInput,
            ErrorFields::InvalidConfig { .. } | ErrorFields::ApiDomainMismatch { .. } => ErrorKind::InvalidConfig,
            ErrorFields::Api { .. } => ErrorKind::Api,
            ErrorFields::Auth { .. } => ErrorKind::Auth,
            ErrorFields::Transport { .. } => ErrorKind::Transport,
            ErrorFields::Timeout { .. } => ErrorKind::Timeout,
            ErrorFields::UnexpectedResponse { .. } => ErrorKind::UnexpectedResponse,
            ErrorFields::Cancelled => ErrorKind::Cancelled,
            ErrorFields::Internal => ErrorKind::Internal,
            ErrorFields::Budget { code: ErrorCode::BudgetAuth } => ErrorKind::InvalidConfig,
            ErrorFields::Budget { code: ErrorCode::CreditReserve } => ErrorKind::Cancelled,
            ErrorFields::Budget { .. } => ErrorKind::Transport,
        }
    }
}

impl Error {
    /// Every field of the error, borrowed: what the bindings map (see [`crate::error_view`]).
    pub fn view(&self) -> ErrorView<'_> {
        // Every variant is destructured in full (no `..`): a new field must be placed in the view.
        let fields = match self {
            Error::InvalidInput(e) => {
                let crate::error::InvalidInput { argument, index, field, message } = e;
                ErrorFields::InvalidInput {
                    argument,
                    index: *index,
                    field: field.as_deref(),
                    location: e.location(),
                    reason: message,
                }
            }
            Error::InvalidConfig { setting, message: _ } => ErrorFields::InvalidConfig { setting },
            Error::ApiDomainMismatch { setting, configured, api_domain, details: _ } => {
                ErrorFields::ApiDomainMismatch { setting, configured, api_domain }
            }
            Error::Api { status: _, code: _, message, details: _, hint } => {
                ErrorFields::Api { api_message: message, hint: hint.as_deref() }
            }
            Error::Auth { status: _, code: _, error, description, hint } => {
                ErrorFields::Auth { error, description: description.as_deref(), hint: hint.as_deref() }
            }
            Error::Transport { message: _, source } => ErrorFields::Transport { source: source.as_deref() },
            Error::Timeout { message: _, source } => ErrorFields::Timeout { source: source.as_deref() },
            Error::UnexpectedResponse { status: _, reason, content_type, body_prefix } => {
                ErrorFields::UnexpectedResponse { reason, content_type: content_type.as_deref(), body_prefix }
            }
            Error::Cancelled { message: _ } => ErrorFields::Cancelled,
            Error::Internal { message: _ } => ErrorFields::Internal,
            Error::Budget { code, message: _ } => ErrorFields::Budget { code },
        };
        ErrorView {
            code: self.code(),
            category: self.category(),
            retryable: self.retryable(),
            status: self.status(),
            text: self.to_string(),
            message: self.message(),
            details: self.details(),
            fields,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_of_every_code_has_its_kind_code_and_category() {
        for code in crate::ErrorCode::ALL {
            let e = Error::from_code(code.clone(), None, "m");
            let view = e.view();
            assert_eq!(view.fields.kind(), e.kind(), "{code}");
            if *code != ErrorCode::NotAttempted {
                assert_eq!(&view.code, code);
                assert_eq!(Some(view.category), code.category(), "{code}");
                assert_eq!(view.retryable, code.retryable() || matches!(view.status, Some(429 | 500..=599)));
            }
        }
    }

    #[test]
    fn transport_and_timeout_keep_their_source() {
        use std::error::Error as _;
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = Error::transport_from("connect failed", refused);
        let source = e.source().and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(source.map(|s| s.kind()), Some(std::io::ErrorKind::ConnectionRefused));
        match e.view().fields {
            ErrorFields::Transport { source: Some(io) } => assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused),
            other => panic!("{other:?}"),
        }
        match Error::timeout("read timeout elapsed").view().fields {
            ErrorFields::Timeout { source: Some(io) } => assert_eq!(io.kind(), std::io::ErrorKind::TimedOut),
            other => panic!("{other:?}"),
        }
    }
}
