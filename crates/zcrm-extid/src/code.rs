//! [`ErrorCode`]: every documented Zoho error code, the client's own codes, and the unknown ones kept as text.

use std::fmt;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )*) => {
        /// A machine-readable error code: Zoho's (`MANDATORY_NOT_FOUND`), or the client's own (`INVALID_INPUT`,
        /// `TRANSPORT`, ...; see [`ErrorCode::is_client_side`]). Unknown codes are kept in [`ErrorCode::Other`],
        /// never lost. [`ErrorCode::as_str`] is the stable text the Python and Node packages expose.
        ///
        /// ```
        /// use zcrm_extid::ErrorCode;
        /// assert_eq!(ErrorCode::parse("MANDATORY_NOT_FOUND"), ErrorCode::MandatoryNotFound);
        /// assert_eq!(ErrorCode::parse("SOMETHING_NEW").as_str(), "SOMETHING_NEW");
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
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

            /// Every known code (not `Other`), for tables and tests.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];
        }
    };
}

codes! {
    // --- Zoho: Update Related Records Using External ID (spec §1.3) ---
    /// 400: an unknown external value or record id (base or related), or otherwise invalid data.
    InvalidData = "INVALID_DATA",
    /// 400: a required field is missing, e.g. the related external field named in X-EXTERNAL is not in an item.
    MandatoryNotFound = "MANDATORY_NOT_FOUND",
    /// 400: the HTTP method is not valid for this URL.
    InvalidRequestMethod = "INVALID_REQUEST_METHOD",
    /// 400: the user lacks the privilege for the operation.
    AuthorizationFailed = "AUTHORIZATION_FAILED",
    /// 401: the access token lacks the scope this call needs.
    OauthScopeMismatch = "OAUTH_SCOPE_MISMATCH",
    // --- Zoho: related records, generic (spec §3.4) ---
    /// 400: the module name is invalid, hidden or not supported.
    InvalidModule = "INVALID_MODULE",
    /// 400: the module is not supported in the API.
    NotSupported = "NOT_SUPPORTED",
    /// 404: the URL does not match any route.
    InvalidUrlPattern = "INVALID_URL_PATTERN",
    /// 403: the user's profile lacks the permission.
    NoPermission = "NO_PERMISSION",
    /// 500: an unexpected server error.
    InternalError = "INTERNAL_ERROR",
    /// 400: a mandatory parameter is missing.
    RequiredParamMissing = "REQUIRED_PARAM_MISSING",
    /// 400: the body or a parameter has the wrong format (e.g. malformed JSON).
    UnableToParseDataType = "UNABLE_TO_PARSE_DATA_TYPE",
    /// 400: more items than a call allows (100 related records).
    LimitExceeded = "LIMIT_EXCEEDED",
    // --- Zoho: common (spec §4.2) ---
    /// 401: the access token is invalid or expired.
    InvalidToken = "INVALID_TOKEN",
    /// 401: the access token as Zoho's v8 token docs name it.
    InvalidOauthToken = "INVALID_OAUTHTOKEN",
    /// 401: no (or an unusable) Authorization header.
    AuthenticationFailure = "AUTHENTICATION_FAILURE",
    /// 401: the spelling Kaizen #25 uses for [`ErrorCode::AuthenticationFailure`].
    AuthenticationFailed = "AUTHENTICATION_FAILED",
    /// 403: the feature is not available to the org.
    FeatureNotSupported = "FEATURE_NOT_SUPPORTED",
    /// 400: an external (or unique) field already holds this value.
    DuplicateData = "DUPLICATE_DATA",
    /// 400: a value does not match the field's pattern.
    PatternNotMatched = "PATTERN_NOT_MATCHED",
    /// 400: the edition's license limit is reached.
    LicenseLimitExceeded = "LICENSE_LIMIT_EXCEEDED",
    /// 400: the request did not go to a `www.zohoapis.{dc}` host.
    InvalidHost = "INVALID_HOST",
    /// The API is not available in the called version.
    ApiNotSupported = "API_NOT_SUPPORTED",
    /// 429: the daily credits or the concurrency limit are exhausted.
    TooManyRequests = "TOO_MANY_REQUESTS",
    /// 204: no content.
    NoContent = "NO_CONTENT",
    /// 400: the record (or relation) cannot be updated.
    CannotBeUpdated = "CANNOT_BE_UPDATED",
    /// 400: the operation is not allowed (e.g. changing the external field used to address the record).
    NotAllowed = "NOT_ALLOWED",
    /// 412: the record changed since `If-Unmodified-Since`.
    AlreadyModified = "ALREADY_MODIFIED",
    // --- the client's own codes (never sent by Zoho) ---
    /// Client: an argument or record failed validation; nothing was sent.
    InvalidInput = "INVALID_INPUT",
    /// Client: the client configuration is unusable (e.g. an `http://` base URL that is not loopback).
    InvalidConfig = "INVALID_CONFIG",
    /// Client: an explicit data centre or environment disagrees with the token's `api_domain`; nothing was sent.
    ApiDomainMismatch = "API_DOMAIN_MISMATCH",
    /// Client: the connection failed or dropped before a response arrived.
    Transport = "TRANSPORT",
    /// Client: connecting or waiting for the response took longer than the configured timeout.
    Timeout = "TIMEOUT",
    /// Client: the server answered something that is not a Zoho response (e.g. an HTML 502 from a proxy).
    UnexpectedResponse = "UNEXPECTED_RESPONSE",
    /// Client: the token endpoint rejected the refresh token (`invalid_code`).
    OauthInvalidCode = "OAUTH_INVALID_CODE",
    /// Client: the token endpoint rejected the client id or secret (`invalid_client`).
    OauthInvalidClient = "OAUTH_INVALID_CLIENT",
    /// Client: the token endpoint throttled token creation (`Access Denied`).
    OauthThrottled = "OAUTH_THROTTLED",
    /// Client: any other token-endpoint failure.
    OauthError = "OAUTH_ERROR",
    /// Client: a bulk job stopped (cancelled, or by its circuit breaker) before this record was sent.
    NotAttempted = "NOT_ATTEMPTED",
    /// Client: the call was cancelled before it finished.
    Cancelled = "CANCELLED",
    /// Client: a bug in the client (a caught panic) ended this call.
    ClientPanic = "CLIENT_PANIC",
    /// Client: applying a reconcile plan, the parent's links had changed since the plan was made; nothing was
    /// sent for that parent.
    ChangedSincePlanning = "CHANGED_SINCE_PLANNING",
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
}
