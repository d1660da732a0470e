//! The core's events ([`zcrm_extid::events`]) in Python's standard `logging`: loggers `zcrm_extid.http`,
//! `zcrm_extid.retry`, `zcrm_extid.auth`, `zcrm_extid.bulk` (children of `zcrm_extid`), with the event's fields
//! as attributes of the `LogRecord` (`record.event`, `record.status`, `record.duration_ms`, ...). No handler is
//! installed: `logging.basicConfig(level=logging.DEBUG)`, an Airflow task's logger or pytest's `caplog` decide.
//!
//! **Never blocks a job, never deadlocks.** Events are emitted on the core's worker threads, which run with the
//! GIL released. Calling Python from them (as a synchronous `log` bridge does) would make every worker wait for
//! the GIL, and for whatever the handlers do (a slow file, a network handler); and a worker waiting for the GIL
//! while another thread holds it and waits for that worker would deadlock. So a worker only checks a level
//! (atomics) and appends the record to a bounded queue, without the GIL. The records reach `logging`
//! in order, from a forwarder thread that attaches to the interpreter on its own, and, when a call returns,
//! from the calling thread before it hands back the result (so the records of a call are in the logs when
//! the call returns). A queue that fills up (handlers slower than 10,000 records behind) drops records and
//! says how many in a warning.
//!
//! **Levels** are read from `logging` (each logger's effective level, `logging.disable`, `logger.disabled`)
//! when the module loads and at the start of every client call, so a configuration changed between calls
//! applies to the next one. Only the core's own targets are forwarded (the HTTP library's debug records
//! could show a URL with its values).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Condvar, Mutex, Once, TryLockError};
use std::time::{Duration, Instant};

use log::{Level, LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};
use zcrm_extid::events::TARGETS;

/// Records waiting for Python at most.
const CAPACITY: usize = 10_000;
/// The longest a returning call waits for the forwarder to finish what it is writing.
const FLUSH_WAIT: Duration = Duration::from_secs(2);

enum Field {
    Int(u64),
    Float(f64),
    Bool(bool),
    Text(String),
}

struct Pending {
    target: usize,
    level: Level,
    message: String,
    fields: Vec<(String, Field)>,
}

#[derive(Default)]
struct Queue {
    records: VecDeque<Pending>,
    dropped: u64,
}

struct Bridge {
    /// Per target: the most verbose level enabled (0 = none, 1 = error ... 5 = trace).
    levels: [AtomicU8; TARGETS.len()],
    queue: Mutex<Queue>,
    ready: Condvar,
    /// Held while records go to Python: one writer at a time keeps them in order. Only ever `try_lock`ed by
    /// a thread attached to Python, so a handler that releases the GIL cannot deadlock two writers.
    writing: Mutex<()>,
    forwarder: Once,
}

static BRIDGE: Bridge = Bridge {
    levels: [const { AtomicU8::new(0) }; TARGETS.len()],
    queue: Mutex::new(Queue { records: VecDeque::new(), dropped: 0 }),
    ready: Condvar::new(),
    writing: Mutex::new(()),
    forwarder: Once::new(),
};

static LOGGERS: PyOnceLock<Vec<Py<PyAny>>> = PyOnceLock::new();

fn target_index(target: &str) -> Option<usize> {
    TARGETS.iter().position(|t| *t == target)
}

fn python_name(target: &str) -> String {
    target.replace("::", ".")
}

fn python_level(level: Level) -> u32 {
    match level {
        Level::Error => 40,
        Level::Warn => 30,
        Level::Info => 20,
        Level::Debug => 10,
        Level::Trace => 5,
    }
}

impl Log for Bridge {
    fn enabled(&self, metadata: &Metadata) -> bool {
        target_index(metadata.target())
            .is_some_and(|i| metadata.level() as u8 <= self.levels[i].load(Ordering::Relaxed))
    }

    fn log(&self, record: &Record) {
        let Some(target) = target_index(record.target()) else { return };
        if record.level() as u8 > self.levels[target].load(Ordering::Relaxed) {
            return;
        }
        struct Collect(Vec<(String, Field)>);
        impl<'kvs> log::kv::VisitSource<'kvs> for Collect {
            fn visit_pair(&mut self, k: log::kv::Key<'kvs>, v: log::kv::Value<'kvs>) -> Result<(), log::kv::Error> {
                let field = if let Some(n) = v.to_u64() {
                    Field::Int(n)
                } else if let Some(b) = v.to_bool() {
                    Field::Bool(b)
                } else if let Some(x) = v.to_f64() {
                    Field::Float(x)
                } else {
                    Field::Text(v.to_string())
                };
                self.0.push((k.to_string(), field));
                Ok(())
            }
        }
        let mut fields = Collect(Vec::new());
        let _ = record.key_values().visit(&mut fields);
        let pending = Pending { target, level: record.level(), message: record.args().to_string(), fields: fields.0 };
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.records.len() >= CAPACITY {
            q.dropped += 1;
            return;
        }
        q.records.push_back(pending);
        drop(q);
        self.ready.notify_one();
        self.forwarder.call_once(|| {
            let _ = std::thread::Builder::new().name("zcrm_extid-logging".into()).spawn(forward);
        });
    }

    fn flush(&self) {}
}

/// The forwarder thread: writes queued records to Python whenever there are some.
fn forward() {
    loop {
        {
            let mut q = BRIDGE.queue.lock().unwrap_or_else(|p| p.into_inner());
            while q.records.is_empty() && q.dropped == 0 {
                q = BRIDGE.ready.wait(q).unwrap_or_else(|p| p.into_inner());
            }
        }
        match Python::try_attach(write_queued) {
            // The interpreter is shutting down: nothing can be logged any more.
            None => return,
            Some(true) => {}
            // Another thread is writing (and will write what is queued): look again shortly.
            Some(false) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// Writes every queued record to Python; false if another thread is writing.
fn write_queued(py: Python<'_>) -> bool {
    let _writing = match BRIDGE.writing.try_lock() {
        Ok(g) => g,
        Err(TryLockError::Poisoned(p)) => p.into_inner(),
        Err(TryLockError::WouldBlock) => return false,
    };
    let loggers = loggers(py);
    loop {
        let (batch, dropped) = {
            let mut q = BRIDGE.queue.lock().unwrap_or_else(|p| p.into_inner());
            (std::mem::take(&mut q.records), std::mem::take(&mut q.dropped))
        };
        if batch.is_empty() && dropped == 0 {
            return true;
        }
        for record in batch {
            // A failing handler is `logging`'s business (it reports through `handleError`); an exception
            // raised here must not escape into the caller's code.
            if let Err(e) = write(py, &loggers[record.target], record) {
                drop(e);
            }
        }
        if dropped > 0 {
            let message = format!("{dropped} log records of zcrm_extid were dropped: the handlers fell behind");
            let record = Pending { target: TARGETS.len() - 1, level: Level::Warn, message, fields: Vec::new() };
            let _ = write(py, &loggers[record.target], record);
        }
    }
}

fn loggers(py: Python<'_>) -> Vec<Py<PyAny>> {
    LOGGERS
        .get_or_init(py, || {
            let get = || -> PyResult<Vec<Py<PyAny>>> {
                let logging = py.import("logging")?;
                TARGETS.iter().map(|t| Ok(logging.call_method1("getLogger", (python_name(t),))?.unbind())).collect()
            };
            get().unwrap_or_default()
        })
        .iter()
        .map(|l| l.clone_ref(py))
        .collect()
}

fn write(py: Python<'_>, logger: &Py<PyAny>, record: Pending) -> PyResult<()> {
    let logger = logger.bind(py);
    let level = python_level(record.level);
    if !logger.call_method1("isEnabledFor", (level,))?.is_truthy()? {
        return Ok(());
    }
    let extra = PyDict::new(py);
    for (k, v) in record.fields {
        match v {
            Field::Int(n) => extra.set_item(k, n)?,
            Field::Float(x) => extra.set_item(k, x)?,
            Field::Bool(b) => extra.set_item(k, b)?,
            Field::Text(s) => extra.set_item(k, s)?,
        }
    }
    let name = python_name(TARGETS[record.target]);
    let r = logger.call_method1(
        "makeRecord",
        (name, level, "zcrm_extid", 0, record.message, PyTuple::empty(py), py.None(), py.None(), extra),
    )?;
    logger.call_method1("handle", (r,))?;
    Ok(())
}

/// Reads the levels of the core's loggers from `logging` (with the GIL).
pub fn sync_levels(py: Python<'_>) {
    let loggers = loggers(py);
    let read = || -> PyResult<()> {
        let disable: u32 = py.import("logging")?.getattr("root")?.getattr("manager")?.getattr("disable")?.extract()?;
        let mut most = LevelFilter::Off;
        for (i, logger) in loggers.iter().enumerate() {
            let logger = logger.bind(py);
            let effective: u32 = logger.call_method0("getEffectiveLevel")?.extract()?;
            let disabled: bool = logger.getattr("disabled")?.extract().unwrap_or(false);
            let level = [Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error]
                .into_iter()
                .find(|l| !disabled && python_level(*l) >= effective && python_level(*l) > disable);
            BRIDGE.levels[i].store(level.map_or(0, |l| l as u8), Ordering::Relaxed);
            most = most.max(level.map_or(LevelFilter::Off, |l| l.to_level_filter()));
        }
        log::set_max_level(most);
        Ok(())
    };
    let _ = read();
}

/// Installs the bridge as the process's `log` logger (once, when the module loads).
pub fn install(py: Python<'_>) {
    if log::set_logger(&BRIDGE).is_ok() {
        sync_levels(py);
    }
}

/// Runs `f` with the GIL released, as `py.detach` does, with the levels read before and the call's records
/// written to `logging` after (see the module docs).
pub fn detach<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> T {
    sync_levels(py);
    let out = py.detach(f);
    flush(py);
    out
}

/// Writes what is queued before returning to Python: here if no other thread is writing, else after waiting
/// (without the GIL) for the forwarder, at most [`FLUSH_WAIT`].
pub fn flush(py: Python<'_>) {
    let deadline = Instant::now() + FLUSH_WAIT;
    while !write_queued(py) && Instant::now() < deadline {
        py.detach(|| std::thread::sleep(Duration::from_millis(1)));
    }
}
