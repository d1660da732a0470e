//! The circuit breaker: errors that would fail every remaining call of a job stop it after their first
//! occurrence, instead of turning every row into the same failure (and, for OAuth errors, hammering Zoho's token
//! endpoint, which locks the user out: spec §5.4, §7).
//!
//! | error | why it holds for every call |
//! |---|---|
//! | token endpoint: `invalid_client`, `invalid_code`, any other refusal but the throttle | the credentials are wrong or revoked |
//! | 401 from the API after the one refresh the client makes (`INVALID_TOKEN`, `AUTHENTICATION_FAILURE`, `OAUTH_SCOPE_MISMATCH`) | the new token is refused too, or lacks the scope |
//! | `NO_PERMISSION`, `AUTHORIZATION_FAILED`, `FEATURE_NOT_SUPPORTED`, `LICENSE_LIMIT_EXCEEDED` | the user or org may not do this |
//! | `INVALID_MODULE`, `NOT_SUPPORTED`, `API_NOT_SUPPORTED`, `INVALID_URL_PATTERN`, `INVALID_REQUEST_METHOD`, `INVALID_HOST` | the job's module, version or route is wrong |
//! | `INVALID_DATA` with `resource_path_index` 0 or 2 | the module or related list is wrong (index 1, the parent, concerns one group only) |
//! | 429 with `X-API-CREDITS-REMAINING: 0` | the day's credits are spent |
//! | the client's configuration (`INVALID_CONFIG`) | nothing will change it mid-job |
//! | the shared budget's Redis failing (`BUDGET_UNAVAILABLE`, `BUDGET_AUTH`) | calls would run unguarded by the org-wide limits |
//!
//! The token throttle (`Access Denied`) is not among them: it passes, so the job waits (see
//! [`crate::auth`]). Per-record errors inside a `data` array never trip it.

use serde_json::Value;

use crate::code::ErrorCode;
use crate::error::Error;

/// Whether `error`, ending one call of a job, would end every other call the same way.
pub fn stops_the_job(error: &Error, credits_remaining: Option<u64>) -> bool {
    match error {
        Error::Auth { code, .. } => *code != ErrorCode::OauthThrottled,
        // Redis of the shared budget failing (or refusing us): going on would run unguarded (see `crate::budget`).
        Error::InvalidConfig { .. } | Error::ApiDomainMismatch { .. } | Error::Budget { .. } => true,
        Error::Api { status, code, details, .. } => {
            if *status == 429 || *code == ErrorCode::TooManyRequests {
                return credits_remaining == Some(0);
            }
            if *status == 401 {
                return true;
            }
            match code {
                ErrorCode::NoPermission
                | ErrorCode::AuthorizationFailed
                | ErrorCode::FeatureNotSupported
                | ErrorCode::LicenseLimitExceeded
                | ErrorCode::InvalidModule
                | ErrorCode::NotSupported
                | ErrorCode::ApiNotSupported
                | ErrorCode::InvalidUrlPattern
                | ErrorCode::InvalidRequestMethod
                | ErrorCode::InvalidHost
                | ErrorCode::OauthScopeMismatch
                | ErrorCode::InvalidToken
                | ErrorCode::InvalidOauthToken
                | ErrorCode::AuthenticationFailure
                | ErrorCode::AuthenticationFailed => true,
                ErrorCode::InvalidData => {
                    matches!(details.get("resource_path_index").and_then(Value::as_u64), Some(0 | 2))
                }
                _ => false,
            }
        }
        Error::InvalidInput(_)
        | Error::Transport { .. }
        | Error::Timeout { .. }
        | Error::UnexpectedResponse { .. }
        | Error::Cancelled { .. }
        | Error::Internal { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn api(status: u16, code: &str, details: Value) -> Error {
        Error::Api {
            status,
            code: ErrorCode::parse(code),
            message: String::new(),
            details: Box::new(details.as_object().cloned().unwrap_or_default()),
            hint: None,
        }
    }

    fn auth(code: ErrorCode) -> Error {
        Error::Auth { status: 200, code, error: String::new(), description: None, hint: None }
    }

    #[test]
    fn what_stops_a_job_and_what_does_not() {
        assert!(stops_the_job(&auth(ErrorCode::OauthInvalidClient), None));
        assert!(stops_the_job(&auth(ErrorCode::OauthInvalidCode), None));
        assert!(!stops_the_job(&auth(ErrorCode::OauthThrottled), None), "the throttle passes");
        assert!(stops_the_job(&api(401, "INVALID_TOKEN", json!({})), None));
        assert!(stops_the_job(&api(403, "NO_PERMISSION", json!({})), None));
        assert!(stops_the_job(&api(400, "INVALID_MODULE", json!({"resource_path_index": 0})), None));
        assert!(stops_the_job(&api(400, "INVALID_DATA", json!({"resource_path_index": 2})), None));
        assert!(!stops_the_job(&api(400, "INVALID_DATA", json!({"resource_path_index": 1})), None), "one parent");
        assert!(!stops_the_job(&api(429, "TOO_MANY_REQUESTS", json!({})), None), "concurrency: retried");
        assert!(stops_the_job(&api(429, "TOO_MANY_REQUESTS", json!({})), Some(0)), "credits spent");
        assert!(!stops_the_job(&api(500, "INTERNAL_ERROR", json!({})), None));
        assert!(!stops_the_job(&Error::transport(""), None));
    }
}
