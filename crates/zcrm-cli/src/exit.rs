//! Exit statuses.

/// Every record succeeded.
pub const OK: i32 = 0;
/// The call or job ran, and at least one record failed (see the outcomes / report).
pub const SOME_FAILED: i32 = 1;
/// Bad arguments, configuration or input: nothing was sent.
pub const INVALID: i32 = 2;
/// The request failed as a whole (API error, authentication, network) after retries, or a bulk job's report
/// could not be written.
pub const REQUEST_FAILED: i32 = 3;
/// Interrupted (Ctrl-C / SIGTERM): calls in flight finished, the report is complete for every row read. A second
/// Ctrl-C stops at once; the report then holds every outcome received (`--resume` sends the rest).
pub const INTERRUPTED: i32 = 130;

/// The help text's table.
pub const HELP: &str = "Exit status: 0 all records succeeded; 1 some records failed; 2 invalid arguments or \
input (nothing sent); 3 the request failed as a whole (API error, authentication, network) or the report could not \
be written; 130 interrupted.";
