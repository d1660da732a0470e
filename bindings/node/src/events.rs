//! The core's events ([`zcrm_extid::events`]) for Node: the client's `onEvent` option, and the conventional
//! `DEBUG=zcrm-extid` (or `NODE_DEBUG=zcrm-extid`) switch writing them to stderr.
//!
//! * `onEvent(event)` is called on the JS thread with a plain object (`ZcrmEvent` in index.d.ts: `event`
//!   names it, the other keys are the core's fields in camelCase). Events are queued from the core's threads
//!   through a weak ThreadsafeFunction (non-blocking, unbounded queue; it does not keep the process alive),
//!   and a call's events are delivered before its Promise settles: the task waits for them on its libuv
//!   worker (never the JS thread), at most a second. A throwing `onEvent` is ignored.
//! * `DEBUG` follows the `debug` package: names separated by commas or spaces, `*` wildcards, `-name`
//!   excludes; the namespaces are `zcrm-extid:http`, `zcrm-extid:retry`, `zcrm-extid:auth`,
//!   `zcrm-extid:bulk`, and `zcrm-extid` alone means all of them. `NODE_DEBUG` is a comma-separated list of
//!   names (`zcrm-extid`). Read once, when the first client is made; lines go to stderr from the core's
//!   threads, never through the JS thread.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Once};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};
use serde_json::{Map, Value};
use zcrm_extid::events::TARGETS;
use zcrm_extid::{Event, EventListener};

type EventFn = ThreadsafeFunction<Value, UnknownReturnValue, Value, Status, false, true>;

/// The longest a call waits for its events to reach `onEvent`.
const FLUSH_WAIT: Duration = Duration::from_secs(1);

/// Delivers a client's events to its `onEvent`.
pub struct OnEvent {
    tsfn: EventFn,
    progress: Arc<Delivery>,
}

#[derive(Default)]
struct Delivery {
    queued: AtomicU64,
    delivered: Mutex<u64>,
    done: Condvar,
}

impl OnEvent {
    /// The sink for `callback` (on the JS thread, when the client is made).
    pub fn new(callback: &Function<Value, UnknownReturnValue>) -> Result<OnEvent> {
        let tsfn = callback.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?;
        Ok(OnEvent { tsfn, progress: Arc::default() })
    }
}

/// `snake_case` -> `camelCase` (`duration_ms` -> `durationMs`, `retries_429` -> `retries429`).
pub fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The event as the JS object `onEvent` receives.
pub fn to_js_object(event: &Event) -> Value {
    let mut o = Map::new();
    if let Value::Object(fields) = event.to_json() {
        for (k, v) in fields {
            o.insert(camel(&k), v);
        }
    }
    Value::Object(o)
}

impl EventListener for OnEvent {
    fn on_event(&self, event: &Event) {
        self.progress.queued.fetch_add(1, Ordering::SeqCst);
        let progress = self.progress.clone();
        // The callback's result (a throw included) is ignored; delivery is what is counted.
        let status = self.tsfn.call_with_return_value(
            to_js_object(event),
            ThreadsafeFunctionCallMode::NonBlocking,
            move |_, _env| {
                *progress.delivered.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                progress.done.notify_all();
                Ok(())
            },
        );
        if status != Status::Ok {
            // Not queued (the environment is going away): count it as delivered, so nothing waits for it.
            *self.progress.delivered.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        }
    }

    fn flush(&self) {
        let target = self.progress.queued.load(Ordering::SeqCst);
        let deadline = Instant::now() + FLUSH_WAIT;
        let mut delivered = self.progress.delivered.lock().unwrap_or_else(|p| p.into_inner());
        while *delivered < target && !self.tsfn.aborted() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            delivered = self.progress.done.wait_timeout(delivered, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

/// Whether `DEBUG` / `NODE_DEBUG` turn on the namespace `name` (`zcrm-extid:http`, ...).
pub fn debug_enabled(debug: Option<&str>, node_debug: Option<&str>, name: &str) -> bool {
    let node = node_debug.is_some_and(|v| {
        v.split(',').map(str::trim).any(|n| n.eq_ignore_ascii_case("zcrm-extid") || n.eq_ignore_ascii_case(name))
    });
    let mut on = false;
    for pattern in debug.unwrap_or("").split([',', ' ']).filter(|p| !p.is_empty()) {
        let (exclude, pattern) = match pattern.strip_prefix('-') {
            Some(p) => (true, p),
            None => (false, pattern),
        };
        if wildcard(pattern, name) || (pattern == "zcrm-extid" && name.starts_with("zcrm-extid:")) {
            if exclude {
                return false;
            }
            on = true;
        }
    }
    on || node
}

/// `*` matches any run of characters.
fn wildcard(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else { return false };
            (0..=tail.len()).filter(|i| tail.is_char_boundary(*i)).any(|i| wildcard(rest, &tail[i..]))
        }
    }
}

fn namespace(target: &str) -> String {
    format!("zcrm-extid:{}", target.rsplit("::").next().unwrap_or(target))
}

/// Writes the core's events to stderr for the namespaces `DEBUG` turns on.
struct DebugLog {
    on: [bool; TARGETS.len()],
}

impl log::Log for DebugLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        TARGETS.iter().position(|t| *t == metadata.target()).is_some_and(|i| self.on[i])
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut event = String::new();
        struct Name<'a>(&'a mut String);
        impl<'kvs> log::kv::VisitSource<'kvs> for Name<'_> {
            fn visit_pair(
                &mut self,
                k: log::kv::Key<'kvs>,
                v: log::kv::Value<'kvs>,
            ) -> std::result::Result<(), log::kv::Error> {
                if k.as_str() == "event" {
                    *self.0 = v.to_string();
                }
                Ok(())
            }
        }
        let _ = record.key_values().visit(&mut Name(&mut event));
        let line = format!(
            "{} {} {} {event}: {}\n",
            timestamp(SystemTime::now()),
            namespace(record.target()),
            record.level().as_str().to_ascii_lowercase(),
            record.args()
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}

/// Reads `DEBUG` / `NODE_DEBUG` once and, if they name any of the core's namespaces, logs those to stderr.
pub fn install_debug_switch() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let (debug, node) = (std::env::var("DEBUG").ok(), std::env::var("NODE_DEBUG").ok());
        let on = TARGETS.map(|t| debug_enabled(debug.as_deref(), node.as_deref(), &namespace(t)));
        if on.iter().any(|o| *o) && log::set_boxed_logger(Box::new(DebugLog { on })).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
    });
}

/// RFC 3339 UTC with milliseconds (the `debug` package's format when stderr is not a terminal).
fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (days, rem) = ((d.as_secs() / 86_400) as i64, d.as_secs() % 86_400);
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let (day, month) = (doy - (153 * mp + 2) / 5 + 1, if mp < 10 { mp + 3 } else { mp - 9 });
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{:03}Z", d.subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_follows_the_debug_package() {
        let on = |debug: &str, name: &str| debug_enabled(Some(debug), None, name);
        assert!(on("zcrm-extid", "zcrm-extid:http"));
        assert!(on("express,zcrm-extid:*", "zcrm-extid:auth"));
        assert!(on("*", "zcrm-extid:bulk"));
        assert!(on("zcrm-extid:http", "zcrm-extid:http") && !on("zcrm-extid:http", "zcrm-extid:auth"));
        assert!(!on("zcrm-extid,-zcrm-extid:http", "zcrm-extid:http"));
        assert!(on("zcrm-extid,-zcrm-extid:http", "zcrm-extid:retry"));
        assert!(!on("express", "zcrm-extid:http") && !on("", "zcrm-extid:http"));
        assert!(debug_enabled(None, Some("net,ZCRM-EXTID"), "zcrm-extid:bulk"));
        assert!(!debug_enabled(None, Some("net"), "zcrm-extid:bulk"));
    }

    #[test]
    fn keys_become_camel_case() {
        assert_eq!(camel("duration_ms"), "durationMs");
        assert_eq!(camel("retries_429"), "retries429");
        assert_eq!(camel("latency_p50_ms"), "latencyP50Ms");
        assert_eq!(camel("event"), "event");
        assert_eq!(namespace("zcrm_extid::http"), "zcrm-extid:http");
        assert_eq!(timestamp(UNIX_EPOCH + Duration::from_millis(951_782_400_123)), "2000-02-29T00:00:00.123Z");
    }
}
