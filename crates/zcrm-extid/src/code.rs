//! [`ErrorCode`]: every documented Zoho error code, the client's own codes, and the unknown ones kept as text;
//! [`ErrorCategory`]: what kind of failure a code is, for programs that react to failures by kind.
//!
//! **One table.** Every known code is one row of [`error_code_table!`]: its variant, its text, its category and
//! whether sending the same call again may succeed. The core's [`ErrorCode`] is generated from that table, and so
//! is the Node package's `ErrorCode` type (the binding invokes the table with its own generator), so a code added
//! here reaches every language without a second list. Categories of codes Zoho documents (spec §1.3, §3.4, §4.2):
//! the status Zoho answers with decides where the docs are silent (`FEATURE_NOT_SUPPORTED` answers 403:
//! permission; `NO_CONTENT` is "nothing there": not found). An unknown code's category follows the HTTP status
//! ([`ErrorCategory::for_status`]).

use std::fmt;

/// The table of every known error code, handed to a generator macro: `error_code_table!(my_generator)` expands
/// to `my_generator! { $( /// doc ... Variant = "TEXT", Category, retryable; )* }`. The core generates
/// [`ErrorCode`] from it; the Node binding generates its `ErrorCode` TypeScript type the same way. Each row is
/// `Variant = "TEXT", Category, retryable;` where `Category` names an [`ErrorCategory`] variant and `retryable`
/// says whether sending the same call again (after a wait) may succeed.
#[macro_export]
macro_rules! error_code_table {
    ($generator:ident) => {
        $generator! {
            // --- Zoho: Update Related Records Using External ID (spec §1.3) ---
            /// 400: an unknown external value or record id (base or related), or otherwise invalid data.
            InvalidData = "INVALID_DATA", InvalidInput, false;
            /// 400: a required field is missing, e.g. the related external field named in X-EXTERNAL is not in an item.
            MandatoryNotFound = "MANDATORY_NOT_FOUND", InvalidInput, false;
            /// 400: the HTTP method is not valid for this URL.
            InvalidRequestMethod = "INVALID_REQUEST_METHOD", InvalidInput, false;
            /// 400: the user lacks the privilege for the operation.
            AuthorizationFailed = "AUTHORIZATION_FAILED", Permission, false;
            /// 401: the access token lacks the scope this call needs.
            OauthScopeMismatch = "OAUTH_SCOPE_MISMATCH", Permission, false;
            // --- Zoho: related records, generic (spec §3.4) ---
            /// 400: the module name is invalid, hidden or not supported.
            InvalidModule = "INVALID_MODULE", NotFound, false;
            /// 400: the module is not supported in the API.
            NotSupported = "NOT_SUPPORTED", NotFound, false;
            /// 404: the URL does not match any route.
            InvalidUrlPattern = "INVALID_URL_PATTERN", NotFound, false;
            /// 403: the user's profile lacks the permission.
            NoPermission = "NO_PERMISSION", Permission, false;
            /// 500: an unexpected server error.
            InternalError = "INTERNAL_ERROR", Server, true;
            /// 400: a mandatory parameter is missing.
            RequiredParamMissing = "REQUIRED_PARAM_MISSING", InvalidInput, false;
            /// 400: the body or a parameter has the wrong format (e.g. malformed JSON).
            UnableToParseDataType = "UNABLE_TO_PARSE_DATA_TYPE", InvalidInput, false;
            /// 400: more items than a call allows (100 related records).
            LimitExceeded = "LIMIT_EXCEEDED", InvalidInput, false;
            // --- Zoho: common (spec §4.2) ---
            /// 401: the access token is invalid or expired.
            InvalidToken = "INVALID_TOKEN", Auth, false;
            /// 401: the access token as Zoho's v8 token docs name it.
            InvalidOauthToken = "INVALID_OAUTHTOKEN", Auth, false;
            /// 401: no (or an unusable) Authorization header.
            AuthenticationFailure = "AUTHENTICATION_FAILURE", Auth, false;
            /// 401: the spelling Kaizen #25 uses for [`ErrorCode::AuthenticationFailure`].
            AuthenticationFailed = "AUTHENTICATION_FAILED", Auth, false;
            /// 403: the feature is not available to the org.
            FeatureNotSupported = "FEATURE_NOT_SUPPORTED", Permission, false;
            /// 400: an external (or unique) field already holds this value.
            DuplicateData = "DUPLICATE_DATA", Conflict, false;
            /// 400: a value does not match the field's pattern.
            PatternNotMatched = "PATTERN_NOT_MATCHED", InvalidInput, false;
            /// 400: the edition's license limit is reached.
            LicenseLimitExceeded = "LICENSE_LIMIT_EXCEEDED", Permission, false;
            /// 400: the request did not go to a `www.zohoapis.{dc}` host.
            InvalidHost = "INVALID_HOST", Config, false;
            /// The API is not available in the called version.
            ApiNotSupported = "API_NOT_SUPPORTED", NotFound, false;
            /// 429: the daily credits or the concurrency limit are exhausted.
            TooManyRequests = "TOO_MANY_REQUESTS", RateLimited, true;
            /// 204: no content.
            NoContent = "NO_CONTENT", NotFound, false;
            /// 400: the record (or relation) cannot be updated.
            CannotBeUpdated = "CANNOT_BE_UPDATED", Conflict, false;
            /// 400: the operation is not allowed (e.g. changing the external field used to address the record).
            NotAllowed = "NOT_ALLOWED", Conflict, false;
            /// 412: the record changed since `If-Unmodified-Since`.
            AlreadyModified = "ALREADY_MODIFIED", Conflict, false;
            // --- the client's own codes (never sent by Zoho) ---
            /// Client: an argument or record failed validation; nothing was sent.
            InvalidInput = "INVALID_INPUT", InvalidInput, false;
            /// Client: the client configuration is unusable (e.g. an `http://` base URL that is not loopback).
            InvalidConfig = "INVALID_CONFIG", Config, false;
            /// Client: an explicit data centre or environment disagrees with the token's `api_domain`; nothing was sent.
            ApiDomainMismatch = "API_DOMAIN_MISMATCH", Config, false;
            /// Client: the connection failed or dropped before a response arrived.
            Transport = "TRANSPORT", Network, true;
            /// Client: connecting or waiting for the response took longer than the configured timeout.
            Timeout = "TIMEOUT", Network, true;
            /// Client: the server answered something that is not a Zoho response (e.g. an HTML 502 from a proxy).
            UnexpectedResponse = "UNEXPECTED_RESPONSE", Server, false;
            /// Client: the token endpoint rejected the refresh token (`invalid_code`).
            OauthInvalidCode = "OAUTH_INVALID_CODE", Auth, false;
            /// Client: the token endpoint rejected the client id or secret (`invalid_client`).
            OauthInvalidClient = "OAUTH_INVALID_CLIENT", Auth, false;
            /// Client: the token endpoint throttled token creation (`Access Denied`); the client waits for it itself.
            OauthThrottled = "OAUTH_THROTTLED", RateLimited, false;
            /// Client: any other token-endpoint failure.
            OauthError = "OAUTH_ERROR", Auth, false;
            /// Client: a bulk job stopped (cancelled, or by its circuit breaker) before this record was sent.
            NotAttempted = "NOT_ATTEMPTED", Cancelled, false;
            /// Client: the call was cancelled before it finished.
            Cancelled = "CANCELLED", Cancelled, false;
            /// Client: a bug in the client (a caught panic) ended this call.
            ClientPanic = "CLIENT_PANIC", Client, false;
            /// Client: a bulk job stopped before it would eat into the org's credit reserve (its `reserve` option,
            /// see [`crate::budget`]); the rows it did not send are `NOT_ATTEMPTED` with this cause.
            CreditReserve = "CREDIT_RESERVE", RateLimited, false;
            /// Client: the shared budget's Redis is unreachable, timed out or failed (see [`crate::budget`]).
            BudgetUnavailable = "BUDGET_UNAVAILABLE", Network, false;
            /// Client: Redis refused the shared budget's credentials (wrong or missing password).
            BudgetAuth = "BUDGET_AUTH", Config, false;
            /// Client: applying a reconcile plan, the parent's links had changed since the plan was made; nothing
            /// was sent for that parent.
            ChangedSincePlanning = "CHANGED_SINCE_PLANNING", Conflict, false;
        }
    };
}

macro_rules! define_codes {
    ($( $(#[doc = $doc:tt])* $variant:ident = $text:tt, $category:ident, $retryable:tt; )*) => {
        /// A machine-readable error code: Zoho's (`MANDATORY_NOT_FOUND`), or the client's own (`INVALID_INPUT`,
        /// `TRANSPORT`, ...; see [`ErrorCode::is_client_side`]). Unknown codes are kept in [`ErrorCode::Other`],
        /// never lost. [`ErrorCode::as_str`] is the stable text the Python and Node packages expose.
        ///
        /// Not `#[non_exhaustive]` on purpose: the bindings match it with no wildcard arm, so a code added to the
        /// table cannot silently fall to a generic exception.
        ///
        /// ```
        /// use zcrm_extid::{ErrorCategory, ErrorCode};
        /// assert_eq!(ErrorCode::parse("MANDATORY_NOT_FOUND"), ErrorCode::MandatoryNotFound);
        /// assert_eq!(ErrorCode::parse("SOMETHING_NEW").as_str(), "SOMETHING_NEW");
        /// assert_eq!(ErrorCode::DuplicateData.category(), Some(ErrorCategory::Conflict));
        /// assert!(ErrorCode::TooManyRequests.retryable() && !ErrorCode::InvalidData.retryable());
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant, )*
            /// A code this version of the client does not know, kept verbatim.
            Other(String),
        }

        impl ErrorCode {
            /// The code as Zoho (or the client) spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( ErrorCode::$variant => $text, )*
                    ErrorCode::Other(s) => s,
                }
            }

            /// The code for `text`; unknown text becomes [`ErrorCode::Other`].
            pub fn parse(text: &str) -> ErrorCode {
                match text {
                    $( $text => ErrorCode::$variant, )*
                    other => ErrorCode::Other(other.to_owned()),
                }
            }

            /// What kind of failure the code is; `None` for an unknown code (an [`crate::Error`]'s category
            /// then follows its HTTP status: [`crate::Error::category`]).
            pub fn category(&self) -> Option<ErrorCategory> {
                match self {
                    $( ErrorCode::$variant => Some(ErrorCategory::$category), )*
                    ErrorCode::Other(_) => None,
                }
            }

            /// Whether sending the same call again, after a wait, may succeed (`TOO_MANY_REQUESTS`,
            /// `INTERNAL_ERROR`, `TRANSPORT`, `TIMEOUT`). False for an unknown code; an [`crate::Error`] with a
            /// 429 or 5xx status is retryable whatever its code ([`crate::Error::retryable`]).
            pub fn retryable(&self) -> bool {
                match self {
                    $( ErrorCode::$variant => $retryable, )*
                    ErrorCode::Other(_) => false,
                }
            }

            /// Every known code (not `Other`), for tables and tests.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];
        }
    };
}

crate::error_code_table!(define_codes);

/// What kind of failure an error (or a record's failure) is, whatever produced it: what a program usually
/// branches on (retry later? fix the data? fix the credentials?). Every [`ErrorCode`] has one (the table in
/// [`error_code_table!`]); [`crate::Error::category`] gives an unknown code the category of its HTTP status.
///
/// Not `#[non_exhaustive]`: the bindings match it with no wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCategory {
    /// The request or its data is wrong (a missing or invalid field, too many records): fix it; nothing was
    /// done, or, for a record's failure, not for that record.
    InvalidInput,
    /// The client's settings are wrong (base URL, data centre, environment, host).
    Config,
    /// The credentials are not accepted (invalid, expired or revoked token; wrong client id or secret).
    Auth,
    /// The credentials are valid but not allowed to do this (scope, profile permission, edition, feature).
    Permission,
    /// The module, route, API or version does not exist (or answered no content).
    NotFound,
    /// The data conflicts with what Zoho holds (a duplicate unique value, a record changed meanwhile, a record
    /// that cannot be updated).
    Conflict,
    /// A rate, concurrency, credit or token-endpoint limit was hit: wait and retry.
    RateLimited,
    /// Zoho (or something in front of it) failed: a 5xx, or an answer that is not Zoho's.
    Server,
    /// The network failed: the connection could not be made, dropped, or timed out.
    Network,
    /// The call or job was cancelled (or stopped before this record was sent).
    Cancelled,
    /// A bug in this client (a caught panic). Please report it.
    Client,
}

impl ErrorCategory {
    /// Every category, in declaration order.
    pub const ALL: [ErrorCategory; 11] = [
        ErrorCategory::InvalidInput,
        ErrorCategory::Config,
        ErrorCategory::Auth,
        ErrorCategory::Permission,
        ErrorCategory::NotFound,
        ErrorCategory::Conflict,
        ErrorCategory::RateLimited,
        ErrorCategory::Server,
        ErrorCategory::Network,
        ErrorCategory::Cancelled,
        ErrorCategory::Client,
    ];

    /// The stable text the Python and Node packages expose: `invalid_input`, `config`, `auth`, `permission`,
    /// `not_found`, `conflict`, `rate_limited`, `server`, `network`, `cancelled`, `client`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::InvalidInput => "invalid_input",
            ErrorCategory::Config => "config",
            ErrorCategory::Auth => "auth",
            ErrorCategory::Permission => "permission",
            ErrorCategory::NotFound => "not_found",
            ErrorCategory::Conflict => "conflict",
            ErrorCategory::RateLimited => "rate_limited",
            ErrorCategory::Server => "server",
            ErrorCategory::Network => "network",
            ErrorCategory::Cancelled => "cancelled",
            ErrorCategory::Client => "client",
        }
    }

    /// The category of an answer with an unknown code, by its HTTP status: 401 auth, 403 permission, 404 not
    /// found, 409 and 412 conflict, 429 rate limited, any other 4xx invalid input, anything else (5xx, no
    /// status, a 2xx or 3xx that carries an error) server.
    ///
    /// ```
    /// use zcrm_extid::ErrorCategory;
    /// assert_eq!(ErrorCategory::for_status(Some(429)), ErrorCategory::RateLimited);
    /// assert_eq!(ErrorCategory::for_status(Some(418)), ErrorCategory::InvalidInput);
    /// assert_eq!(ErrorCategory::for_status(Some(503)), ErrorCategory::Server);
    /// ```
    pub fn for_status(status: Option<u16>) -> ErrorCategory {
        match status {
            Some(401) => ErrorCategory::Auth,
            Some(403) => ErrorCategory::Permission,
            Some(404) => ErrorCategory::NotFound,
            Some(409 | 412) => ErrorCategory::Conflict,
            Some(429) => ErrorCategory::RateLimited,
            Some(400..=499) => ErrorCategory::InvalidInput,
            _ => ErrorCategory::Server,
        }
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ErrorCode {
    /// True for the client's own codes, which Zoho never sends.
    pub fn is_client_side(&self) -> bool {
        matches!(
            self,
            ErrorCode::InvalidInput
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
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for ErrorCode {
    fn from(s: &str) -> Self {
        ErrorCode::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_round_trips() {
        for code in ErrorCode::ALL {
            assert_eq!(&ErrorCode::parse(code.as_str()), code);
        }
        assert_eq!(ErrorCode::parse("X"), ErrorCode::Other("X".into()));
    }

    #[test]
    fn every_known_code_has_a_category_and_the_retryable_ones_are_transient() {
        let retryable: Vec<&str> = ErrorCode::ALL.iter().filter(|c| c.retryable()).map(ErrorCode::as_str).collect();
        assert_eq!(retryable, ["INTERNAL_ERROR", "TOO_MANY_REQUESTS", "TRANSPORT", "TIMEOUT"]);
        for code in ErrorCode::ALL {
            let category = code.category().expect("a known code has a category");
            assert!(ErrorCategory::ALL.contains(&category));
        }
        assert_eq!(ErrorCode::Other("NEW".into()).category(), None);
        let named = |c: ErrorCode| c.category().unwrap();
        assert_eq!(named(ErrorCode::DuplicateData), ErrorCategory::Conflict);
        assert_eq!(named(ErrorCode::AlreadyModified), ErrorCategory::Conflict);
        assert_eq!(named(ErrorCode::PatternNotMatched), ErrorCategory::InvalidInput);
        assert_eq!(named(ErrorCode::OauthScopeMismatch), ErrorCategory::Permission);
        assert_eq!(named(ErrorCode::ClientPanic), ErrorCategory::Client);
    }

    #[test]
    fn every_category_is_used_and_spelled_once() {
        for category in ErrorCategory::ALL {
            assert!(
                ErrorCode::ALL.iter().any(|c| c.category() == Some(category)),
                "{category} has no code: remove it or give it one"
            );
            assert_eq!(ErrorCategory::ALL.iter().filter(|c| c.as_str() == category.as_str()).count(), 1);
        }
    }
}
