//! [`Error`], its exhaustive [`ErrorKind`], and [`InvalidInput`] (what was wrong, and where). The bindings read
//! an error through [`Error::view`] ([`crate::error_view`]), which names every field.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::code::{ErrorCategory, ErrorCode};
use crate::redact::{escape_text, needs_escape};

/// Zoho's `details` object of an error or a result, kept as JSON.
pub type Details = Map<String, Value>;

/// A client-side validation failure: what is wrong and where. Nothing was sent.
///
/// The location is `argument`, then `[index]` for one record of `data`, then `.field`:
/// `data[3].External_Deal_ID`, `module`, `parent.value`.
///
/// ```
/// use zcrm_extid::InvalidInput;
/// let e = InvalidInput::new("data", "is missing").at(3).field("External_Deal_ID");
/// assert_eq!(e.location(), "data[3].External_Deal_ID");
/// assert_eq!(e.to_string(), "invalid data[3].External_Deal_ID: is missing");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    /// The argument at fault: `module`, `related_list`, `parent.value`, `x_external`, `data`, ...
    pub argument: String,
    /// For a record of `data`: its 0-based index in the input.
    pub index: Option<usize>,
    /// For a record of `data`: the field at fault.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl InvalidInput {
    /// An error about `argument`.
    pub fn new(argument: impl Into<String>, message: impl Into<String>) -> Self {
        InvalidInput { argument: argument.into(), index: None, field: None, message: message.into() }
    }

    /// The same error about record `index`.
    pub fn at(mut self, index: usize) -> Self {
        self.index = Some(index);
        self
    }

    /// The same error about `field` (of the record, if [`Self::at`] was given).
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The same error, naming `argument` instead.
    pub fn with_argument(mut self, argument: impl Into<String>) -> Self {
        self.argument = argument.into();
        self
    }

    /// `argument[index].field`, as much of it as is known. A field name that is empty, or holds a character that
    /// could forge a line or hide in a terminal (see [`crate::redact::escape_text`]), is shown quoted and
    /// escaped: `data[0]."a\\nb"`, `data[0].""`.
    pub fn location(&self) -> String {
        let mut s = escape_text(&self.argument).into_owned();
        if let Some(i) = self.index {
            s.push_str(&format!("[{i}]"));
        }
        match self.field.as_deref() {
            Some(f) if f.is_empty() || f.chars().any(needs_escape) || f.contains('"') => {
                s.push('.');
                s.push_str(&format!("\"{}\"", escape_text(&f.replace('"', "\\\""))));
            }
            Some(f) => {
                s.push('.');
                s.push_str(f);
            }
            None => {}
        }
        s
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.location(), escape_text(&self.message))
    }
}

impl std::error::Error for InvalidInput {}

/// Everything that can go wrong. Per-record failures inside a 207/400 `data` array are *not* errors: they are
/// [`crate::Outcome`]s. An `Error` means the call as a whole produced no per-record results.
///
/// Secrets never appear here: tokens are not part of any variant, messages are built without them, URLs are
/// quoted redacted and echoed bodies with their secret fields masked ([`crate::redact`]). `Display` escapes every
/// character that could end a line or drive a terminal, so no value inside an error can forge a log line.
///
/// ```
/// use zcrm_extid::InvalidInput;
/// let e = zcrm_extid::Error::from(InvalidInput::new("data", "is missing").at(0).field("X\nzcrm: forged"));
/// assert_eq!(e.to_string(), r#"invalid data[0]."X\nzcrm: forged": is missing"#);
/// assert_eq!(e.to_string().lines().count(), 1);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// An argument or record failed validation; nothing was sent.
    InvalidInput(InvalidInput),

    /// The client configuration is unusable; nothing was sent.
    InvalidConfig {
        /// The setting at fault, e.g. `base_url`.
        setting: String,
        /// What is wrong with it.
        message: String,
    },

    /// An explicitly configured data centre or environment disagrees with the `api_domain` the token endpoint
    /// reported (e.g. `environment = sandbox` with a production refresh token): the client refuses to send the
    /// call anywhere. Its [`Error::kind`] is [`ErrorKind::InvalidConfig`], its code `API_DOMAIN_MISMATCH`.
    ApiDomainMismatch {
        /// `data_center` or `environment`.
        setting: String,
        /// The configured value, e.g. `sandbox`.
        configured: String,
        /// The token reply's `api_domain`, e.g. `https://www.zohoapis.com`.
        api_domain: String,
        /// The same values as JSON, `{"setting", "configured", "api_domain"}` (what the Python and Node errors
        /// show as `details`).
        details: Box<Details>,
    },

    /// Zoho answered with a request-level error object (`{"code","details","message","status":"error"}`).
    Api {
        /// The HTTP status.
        status: u16,
        /// Zoho's code.
        code: ErrorCode,
        /// Zoho's message.
        message: String,
        /// Zoho's `details` (`api_name`, `json_path`, `resource_path_index`, `permissions`, ...). Boxed to keep
        /// `Result<_, Error>` small.
        details: Box<Details>,
        /// What the client knows that Zoho did not say, e.g. the scopes an `OAUTH_SCOPE_MISMATCH` call needs.
        hint: Option<String>,
    },

    /// The OAuth token endpoint refused to issue an access token.
    Auth {
        /// The HTTP status of the token endpoint's answer.
        status: u16,
        /// `OAUTH_INVALID_CODE`, `OAUTH_INVALID_CLIENT`, `OAUTH_THROTTLED` or `OAUTH_ERROR`.
        code: ErrorCode,
        /// The endpoint's `error` text, e.g. `invalid_client` (secret fields masked, cut to 200 characters).
        error: String,
        /// The endpoint's `error_description`, if any (secret fields masked, cut to 200 characters).
        description: Option<String>,
        /// The likely cause and remedy.
        hint: Option<String>,
    },

    /// The connection failed or dropped before a complete response arrived.
    Transport {
        /// What failed.
        message: String,
        /// The I/O error underneath, when there was one (its [`std::io::ErrorKind`] says refused, reset, ...);
        /// [`std::error::Error::source`] returns it.
        source: Option<Arc<std::io::Error>>,
    },

    /// Connecting or waiting for the response exceeded the configured timeout.
    Timeout {
        /// Which wait timed out.
        message: String,
        /// The I/O error underneath (kind [`std::io::ErrorKind::TimedOut`]); [`std::error::Error::source`]
        /// returns it.
        source: Option<Arc<std::io::Error>>,
    },

    /// The call was cancelled (a [`crate::bulk::Cancel`] token, Ctrl-C in the Python package, an `AbortSignal` in
    /// the Node package) before it could finish.
    Cancelled {
        /// What was cancelled, and what had finished.
        message: String,
    },

    /// A bug in this client: a panic while building or sending a call, caught so that the job (and the
    /// process hosting it) goes on. Please report it.
    Internal {
        /// The panic's message.
        message: String,
    },

    /// The shared budget ([`crate::budget`]) failed: Redis unreachable or failing (`BUDGET_UNAVAILABLE`, kind
    /// [`ErrorKind::Transport`]), Redis refused the password (`BUDGET_AUTH`, kind [`ErrorKind::InvalidConfig`],
    /// setting `budget`), or a bulk job reached its credit reserve (`CREDIT_RESERVE`, kind
    /// [`ErrorKind::Cancelled`]: the job stopped itself).
    Budget {
        /// `BUDGET_UNAVAILABLE`, `BUDGET_AUTH` or `CREDIT_RESERVE`.
        code: ErrorCode,
        /// What happened (the Redis URL quoted without its password).
        message: String,
    },

    /// The server's answer is not a Zoho response this client can interpret (an HTML 502 from a proxy, a `data`
    /// array of the wrong length, ...). The status and the first 512 bytes of the body are kept.
    UnexpectedResponse {
        /// The HTTP status.
        status: u16,
        /// Why the response could not be used.
        reason: String,
        /// The response's `Content-Type`, if any.
        content_type: Option<String>,
        /// The first 512 bytes of the body (lossy UTF-8), with the values of secret fields masked.
        body_prefix: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw = match self {
            Error::InvalidInput(e) => return fmt::Display::fmt(e, f),
            Error::InvalidConfig { setting, message } => format!("invalid configuration of {setting}: {message}"),
            Error::ApiDomainMismatch { setting, .. } => {
                format!("invalid configuration of {setting}: {}", self.message())
            }
            Error::Api { status, code, message, details, hint } => {
                format!("{code} (HTTP {status}): {message}{}{}", fmt_details(details), fmt_hint(hint))
            }
            Error::Auth { code, error, description, hint, .. } => format!(
                "{code}: token endpoint answered {error:?}{}{}",
                description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default(),
                fmt_hint(hint)
            ),
            Error::Transport { message, .. } => format!("transport error: {message}"),
            Error::Timeout { message, .. } => format!("timed out: {message}"),
            Error::Cancelled { message } => format!("cancelled: {message}"),
            Error::Internal { message } => format!("internal client error: {message}"),
            Error::Budget { code, message } => format!("{code}: {message}"),
            Error::UnexpectedResponse { status, reason, body_prefix, .. } => format!(
                "unexpected response (HTTP {status}): {reason}{}",
                if body_prefix.is_empty() { String::new() } else { format!("; body starts {body_prefix:?}") }
            ),
        };
        f.write_str(&escape_text(&raw))
    }
}

impl From<InvalidInput> for Error {
    fn from(e: InvalidInput) -> Self {
        Error::InvalidInput(e)
    }
}

impl std::error::Error for Error {
    /// The validation failure of [`Error::InvalidInput`]; the I/O error of [`Error::Transport`] and
    /// [`Error::Timeout`] (downcast it to [`std::io::Error`]).
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidInput(e) => Some(e),
            Error::Transport { source: Some(s), .. } | Error::Timeout { source: Some(s), .. } => Some(s.as_ref()),
            _ => None,
        }
    }
}

fn fmt_hint(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!(" (hint: {h})")).unwrap_or_default()
}

fn fmt_details(details: &Details) -> String {
    if details.is_empty() { String::new() } else { format!(" {}", serde_json::to_string(details).unwrap_or_default()) }
}

/// The category of an [`Error`], without data. Exhaustive on purpose: the Python and Node bindings match on it
/// with no wildcard arm, so a new category cannot silently degrade to a generic exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// [`Error::InvalidInput`].
    InvalidInput,
    /// [`Error::InvalidConfig`].
    InvalidConfig,
    /// [`Error::Api`].
    Api,
    /// [`Error::Auth`].
    Auth,
    /// [`Error::Transport`].
    Transport,
    /// [`Error::Timeout`].
    Timeout,
    /// [`Error::UnexpectedResponse`].
    UnexpectedResponse,
    /// [`Error::Cancelled`].
    Cancelled,
    /// [`Error::Internal`].
    Internal,
}

impl Error {
    /// The category, for exhaustive matching in bindings.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::InvalidConfig { .. } | Error::ApiDomainMismatch { .. } => ErrorKind::InvalidConfig,
            Error::Api { .. } => ErrorKind::Api,
            Error::Auth { .. } => ErrorKind::Auth,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::UnexpectedResponse { .. } => ErrorKind::UnexpectedResponse,
            Error::Cancelled { .. } => ErrorKind::Cancelled,
            Error::Internal { .. } => ErrorKind::Internal,
            Error::Budget { code: ErrorCode::BudgetAuth, .. } => ErrorKind::InvalidConfig,
            Error::Budget { code: ErrorCode::CreditReserve, .. } => ErrorKind::Cancelled,
            Error::Budget { .. } => ErrorKind::Transport,
        }
    }

    /// The stable code: Zoho's for [`Error::Api`], the client's own otherwise.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::InvalidConfig { .. } => ErrorCode::InvalidConfig,
            Error::ApiDomainMismatch { .. } => ErrorCode::ApiDomainMismatch,
            Error::Api { code, .. } | Error::Auth { code, .. } | Error::Budget { code, .. } => code.clone(),
            Error::Transport { .. } => ErrorCode::Transport,
            Error::Timeout { .. } => ErrorCode::Timeout,
            Error::UnexpectedResponse { .. } => ErrorCode::UnexpectedResponse,
            Error::Cancelled { .. } => ErrorCode::Cancelled,
            Error::Internal { .. } => ErrorCode::ClientPanic,
        }
    }

    /// What kind of failure this is: the code's category ([`ErrorCode::category`]), or for a code this client
    /// does not know, the category of the HTTP status ([`ErrorCategory::for_status`]).
    ///
    /// ```
    /// use zcrm_extid::{Error, ErrorCategory, ErrorCode};
    /// let dup = Error::from_code(ErrorCode::DuplicateData, Some(400), "duplicate data");
    /// assert_eq!(dup.category(), ErrorCategory::Conflict);
    /// let new = Error::from_code(ErrorCode::parse("BRAND_NEW"), Some(429), "slow down");
    /// assert_eq!((new.category(), new.retryable()), (ErrorCategory::RateLimited, true));
    /// ```
    pub fn category(&self) -> ErrorCategory {
        self.code().category().unwrap_or_else(|| ErrorCategory::for_status(self.status()))
    }

    /// Whether sending the same call again, after a wait, may succeed: a retryable code
    /// ([`ErrorCode::retryable`]: rate limits, server errors, network failures), or any answer with a 429 or 5xx
    /// status. The client's own retries follow exactly this ([`crate::retry::is_retryable`]).
    pub fn retryable(&self) -> bool {
        self.code().retryable() || matches!(self.status(), Some(429 | 500..=599))
    }

    /// The HTTP status, when a response was received.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Auth { status, .. } | Error::UnexpectedResponse { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// Zoho's `details`, for [`Error::Api`]; the configured and reported values, for [`Error::ApiDomainMismatch`].
    pub fn details(&self) -> Option<&Details> {
        match self {
            Error::Api { details, .. } | Error::ApiDomainMismatch { details, .. } => Some(details),
            _ => None,
        }
    }

    /// The message without the code: Zoho's message, the token endpoint's description, or what went wrong
    /// (escaped like `Display`).
    pub fn message(&self) -> String {
        let raw = match self {
            Error::InvalidInput(e) => e.to_string(),
            Error::InvalidConfig { message, .. }
            | Error::Transport { message, .. }
            | Error::Timeout { message, .. }
            | Error::Cancelled { message }
            | Error::Internal { message }
            | Error::Budget { message, .. } => message.clone(),
            Error::Api { message, .. } => message.clone(),
            Error::ApiDomainMismatch { setting, configured, api_domain, .. } => format!(
                "{setting} is set to {configured}, but the token endpoint reported api_domain {api_domain}: the \
                 credentials belong to another {setting}, so nothing was sent (use credentials of the {configured} \
                 org, or change {setting})"
            ),
            Error::Auth { error, description, .. } => description.clone().unwrap_or_else(|| error.clone()),
            Error::UnexpectedResponse { reason, .. } => reason.clone(),
        };
        escape_text(&raw).into_owned()
    }

    /// What the client adds to Zoho's answer: the likely cause and remedy, if known.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Api { hint, .. } | Error::Auth { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    /// The setting at fault, for [`ErrorKind::InvalidConfig`] errors (`base_url`, `environment`, ...).
    pub fn setting(&self) -> Option<&str> {
        match self {
            Error::InvalidConfig { setting, .. } | Error::ApiDomainMismatch { setting, .. } => Some(setting),
            Error::Budget { code: ErrorCode::BudgetAuth, .. } => Some("budget"),
            _ => None,
        }
    }

    /// The validation failure, for [`Error::InvalidInput`].
    pub fn invalid_input(&self) -> Option<&InvalidInput> {
        match self {
            Error::InvalidInput(e) => Some(e),
            _ => None,
        }
    }

    /// [`Error::Transport`] without an underlying I/O error.
    pub fn transport(message: impl Into<String>) -> Error {
        Error::Transport { message: message.into(), source: None }
    }

    /// [`Error::Transport`] caused by `source`.
    pub fn transport_from(message: impl Into<String>, source: std::io::Error) -> Error {
        Error::Transport { message: message.into(), source: Some(Arc::new(source)) }
    }

    /// [`Error::Timeout`]: `message` says which wait timed out; the source is an I/O error of kind `TimedOut`.
    pub fn timeout(message: impl Into<String>) -> Error {
        let message = message.into();
        let source = std::io::Error::new(std::io::ErrorKind::TimedOut, message.clone());
        Error::Timeout { message, source: Some(Arc::new(source)) }
    }

    /// The error this client raises for `code`: the variant that carries it (a client code: `INVALID_INPUT`,
    /// `TRANSPORT`, `OAUTH_INVALID_CLIENT`, ...), or [`Error::Api`] for Zoho's codes and unknown ones (status
    /// 400 if none is given), with `message` as its message (for `API_DOMAIN_MISMATCH`, as the reported
    /// `api_domain`). Its [`Error::code`] is `code`, except `NOT_ATTEMPTED`, which only a record's outcome
    /// carries: it becomes a `CANCELLED` error. For rebuilding an error from a report's code, and for the
    /// bindings' tests of every code.
    ///
    /// ```
    /// use zcrm_extid::{Error, ErrorCode, ErrorKind};
    /// assert_eq!(Error::from_code(ErrorCode::Transport, None, "reset").kind(), ErrorKind::Transport);
    /// let e = Error::from_code(ErrorCode::MandatoryNotFound, None, "missing");
    /// assert_eq!((e.kind(), e.status(), e.code()), (ErrorKind::Api, Some(400), ErrorCode::MandatoryNotFound));
    /// ```
    pub fn from_code(code: ErrorCode, status: Option<u16>, message: impl Into<String>) -> Error {
        let message = message.into();
        let auth = |code| Error::Auth {
            status: status.unwrap_or(400),
            code,
            error: message.clone(),
            description: None,
            hint: None,
        };
        match code {
            ErrorCode::InvalidInput => Error::InvalidInput(InvalidInput::new("input", message)),
            ErrorCode::InvalidConfig => Error::config("settings", message),
            ErrorCode::ApiDomainMismatch => Error::api_domain_mismatch("api_domain", "(not known)", &message),
            ErrorCode::Transport => Error::transport(message),
            ErrorCode::Timeout => Error::timeout(message),
            ErrorCode::UnexpectedResponse => Error::UnexpectedResponse {
                status: status.unwrap_or(502),
                reason: message,
                content_type: None,
                body_prefix: String::new(),
            },
            ErrorCode::OauthInvalidCode
            | ErrorCode::OauthInvalidClient
            | ErrorCode::OauthThrottled
            | ErrorCode::OauthError => auth(code),
            ErrorCode::NotAttempted | ErrorCode::Cancelled => Error::Cancelled { message },
            ErrorCode::ClientPanic => Error::Internal { message },
            ErrorCode::CreditReserve | ErrorCode::BudgetUnavailable | ErrorCode::BudgetAuth => {
                Error::Budget { code, message }
            }
            ErrorCode::InvalidData
            | ErrorCode::MandatoryNotFound
            | ErrorCode::InvalidRequestMethod
            | ErrorCode::AuthorizationFailed
            | ErrorCode::OauthScopeMismatch
            | ErrorCode::InvalidModule
            | ErrorCode::NotSupported
            | ErrorCode::InvalidUrlPattern
            | ErrorCode::NoPermission
            | ErrorCode::InternalError
            | ErrorCode::RequiredParamMissing
            | ErrorCode::UnableToParseDataType
            | ErrorCode::LimitExceeded
            | ErrorCode::InvalidToken
            | ErrorCode::InvalidOauthToken
            | ErrorCode::AuthenticationFailure
            | ErrorCode::AuthenticationFailed
            | ErrorCode::FeatureNotSupported
            | ErrorCode::DuplicateData
            | ErrorCode::PatternNotMatched
            | ErrorCode::LicenseLimitExceeded
            | ErrorCode::InvalidHost
            | ErrorCode::ApiNotSupported
            | ErrorCode::TooManyRequests
            | ErrorCode::NoContent
            | ErrorCode::CannotBeUpdated
            | ErrorCode::NotAllowed
            | ErrorCode::AlreadyModified
            // A row's outcome when a plan's parent changed since planning: carried like Zoho's conflicts.
            | ErrorCode::ChangedSincePlanning
            | ErrorCode::Other(_) => {
                Error::Api { status: status.unwrap_or(400), code, message, details: Box::default(), hint: None }
            }
        }
    }

    pub(crate) fn config(setting: &str, message: impl Into<String>) -> Error {
        Error::InvalidConfig { setting: setting.to_owned(), message: message.into() }
    }

    /// [`Error::ApiDomainMismatch`] with its `details`.
    pub(crate) fn api_domain_mismatch(setting: &str, configured: &str, api_domain: &str) -> Error {
        let mut details = Details::new();
        details.insert("setting".into(), setting.into());
        details.insert("configured".into(), configured.into());
        details.insert("api_domain".into(), api_domain.into());
        Error::ApiDomainMismatch {
            setting: setting.to_owned(),
            configured: configured.to_owned(),
            api_domain: api_domain.to_owned(),
            details: Box::new(details),
        }
    }
}

/// `Result<T, zcrm_extid::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_display_has_code_status_details_and_hint() {
        let mut details = Details::new();
        details.insert("api_name".into(), "External_Deal_ID".into());
        let e = Error::Api {
            status: 401,
            code: ErrorCode::OauthScopeMismatch,
            message: "invalid oauth scope".into(),
            details: Box::new(details),
            hint: Some("needs ZohoCRM.modules.all".into()),
        };
        assert_eq!(
            e.to_string(),
            "OAUTH_SCOPE_MISMATCH (HTTP 401): invalid oauth scope {\"api_name\":\"External_Deal_ID\"} (hint: needs ZohoCRM.modules.all)"
        );
        assert_eq!(e.kind(), ErrorKind::Api);
        assert_eq!(e.status(), Some(401));
    }

    #[test]
    fn error_stays_small() {
        // Every `Result<_, Error>` carries this size; keep the hot path cheap.
        assert!(std::mem::size_of::<Error>() <= 112, "{}", std::mem::size_of::<Error>());
    }
}
