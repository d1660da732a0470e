//! Logs on stderr: the core's events ([`zcrm_extid::events`]) at the level `-q` / `-v` / `-vv` choose, as text
//! or as one JSON object per line (`--log-format json`, for log shippers). Progress and results are unchanged:
//! results go to stdout, progress to stderr as before, and a log line is written with the progress bar
//! hidden, so the two never interleave on one line.
//!
//! Only the core's own targets (`zcrm_extid::*`) are written: the HTTP library's debug records could show a
//! request's URL, with its values.
//!
//! | flags | level | shows |
//! |---|---|---|
//! | `-q` | error | the circuit breaker |
//! | (none) | warn | + token refresh failures and throttle waits |
//! | `-v` | info | + retries, 429s, token refreshes, job start and summary |
//! | `-vv` | debug | + every request (method, path template, status, duration) |

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use indicatif::ProgressBar;
use log::{Level, LevelFilter, Log, Metadata, Record};
use serde_json::{Map, Value};

/// Logging and summary flags, shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// More log lines on stderr: -v retries, 429s, token refreshes and the job summary; -vv every request.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr (progress and results are unchanged).
    #[arg(short = 'q', long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log lines as text, or as one JSON object per line.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Bulk commands: also write the job's summary and metrics to FILE as JSON.
    #[arg(long, value_name = "FILE", global = true)]
    pub summary_json: Option<PathBuf>,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `2026-01-02T03:04:05.678Z WARN  zcrm_extid::auth token refresh failed: ... {error=... status=...}`.
    Text,
    /// `{"ts":"...","level":"warn","target":"zcrm_extid::auth","event":"token.refresh_failed",...}`.
    Json,
}

impl LogArgs {
    /// The level the flags choose.
    pub fn level(&self) -> LevelFilter {
        match (self.quiet, self.verbose) {
            (true, _) => LevelFilter::Error,
            (false, 0) => LevelFilter::Warn,
            (false, 1) => LevelFilter::Info,
            (false, 2) => LevelFilter::Debug,
            (false, _) => LevelFilter::Trace,
        }
    }
}

static SUMMARY_JSON: OnceLock<Option<PathBuf>> = OnceLock::new();
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Installs the stderr logger (once) and remembers `--summary-json`.
pub fn init(args: &LogArgs) {
    let _ = SUMMARY_JSON.set(args.summary_json.clone());
    if log::set_boxed_logger(Box::new(Stderr { format: args.log_format })).is_ok() {
        log::set_max_level(args.level());
    }
}

/// Where `--summary-json` asked the summary to go.
pub fn summary_json_path() -> Option<PathBuf> {
    SUMMARY_JSON.get().cloned().flatten()
}

/// The progress bar on screen (log lines hide it while they are written), or none.
pub fn set_bar(bar: Option<ProgressBar>) {
    *BAR.lock().unwrap_or_else(|p| p.into_inner()) = bar;
}

struct Stderr {
    format: LogFormat,
}

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.target().starts_with("zcrm_extid") && metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = match self.format {
            LogFormat::Text => text_line(record),
            LogFormat::Json => json_line(record),
        };
        let write = || {
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        };
        let bar = BAR.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match bar {
            Some(bar) if !bar.is_finished() => bar.suspend(write),
            _ => write(),
        }
    }

    fn flush(&self) {}
}

/// The record's key-values as JSON (numbers stay numbers).
fn fields(record: &Record) -> Map<String, Value> {
    struct Collect(Map<String, Value>);
    impl<'kvs> log::kv::VisitSource<'kvs> for Collect {
        fn visit_pair(&mut self, k: log::kv::Key<'kvs>, v: log::kv::Value<'kvs>) -> Result<(), log::kv::Error> {
            let value = if let Some(n) = v.to_u64() {
                n.into()
            } else if let Some(b) = v.to_bool() {
                b.into()
            } else if let Some(x) = v.to_f64() {
                serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
            } else {
                v.to_string().into()
            };
            self.0.insert(k.to_string(), value);
            Ok(())
        }
    }
    let mut c = Collect(Map::new());
    let _ = record.key_values().visit(&mut c);
    c.0
}

fn text_line(record: &Record) -> String {
    let mut line =
        format!("{} {:<5} {} {}", timestamp(SystemTime::now()), record.level(), record.target(), record.args());
    let kv: Vec<String> = fields(record)
        .into_iter()
        .filter(|(k, _)| k != "event")
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect();
    if !kv.is_empty() {
        line.push_str(&format!(" {{{}}}", kv.join(" ")));
    }
    line.push('\n');
    line
}

fn json_line(record: &Record) -> String {
    let mut o = Map::new();
    o.insert("ts".into(), timestamp(SystemTime::now()).into());
    o.insert("level".into(), level_name(record.level()).into());
    o.insert("target".into(), record.target().into());
    o.insert("message".into(), record.args().to_string().into());
    o.extend(fields(record));
    let mut line = Value::Object(o).to_string();
    line.push('\n');
    line
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace",
    }
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-01-02T03:04:05.678Z`.
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(UNIX_EPOCH + Duration::from_millis(951_782_400_123)), "2000-02-29T00:00:00.123Z");
        assert_eq!(timestamp(UNIX_EPOCH + Duration::from_secs(1_798_761_599)), "2026-12-31T23:59:59.000Z");
    }

    #[test]
    fn flags_pick_the_level() {
        let args = |verbose, quiet| LogArgs { verbose, quiet, log_format: LogFormat::Text, summary_json: None };
        assert_eq!(args(0, true).level(), LevelFilter::Error);
        assert_eq!(args(0, false).level(), LevelFilter::Warn);
        assert_eq!(args(1, false).level(), LevelFilter::Info);
        assert_eq!(args(2, false).level(), LevelFilter::Debug);
        assert_eq!(args(5, false).level(), LevelFilter::Trace);
    }

    #[test]
    fn lines_carry_the_fields() {
        let kvs: [(&str, log::kv::Value); 3] = [
            ("event", log::kv::Value::from("retry.scheduled")),
            ("status", log::kv::Value::from(500u64)),
            ("delay_ms", log::kv::Value::from(12.5f64)),
        ];
        let record = Record::builder()
            .level(Level::Info)
            .target("zcrm_extid::retry")
            .args(format_args!("retry 1 in 12 ms"))
            .key_values(&kvs)
            .build();
        let json: Value = serde_json::from_str(&json_line(&record)).unwrap();
        assert_eq!(
            (&json["event"], &json["status"], &json["delay_ms"], &json["level"]),
            (&Value::from("retry.scheduled"), &Value::from(500), &Value::from(12.5), &Value::from("info"))
        );
        let text = text_line(&record);
        assert!(text.ends_with(" INFO  zcrm_extid::retry retry 1 in 12 ms {status=500 delay_ms=12.5}\n"), "{text}");
    }
}
