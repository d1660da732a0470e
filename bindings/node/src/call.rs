//! [`promise`]: the one way a method returns a Promise. Every async method (`updateRelated`, `getRelated`,
//! `deleteRelated`, `linkMany`, a `RelatedIterator`'s `next()`, and the ones added later) is this helper with
//! two closures: `work`, the blocking core call, run on an addon thread ([`crate::pool`], never libuv's pool),
//! and `to_js`, the conversion of its result, run on the JS thread. The helper gives every method the same
//! behaviour:
//!
//! * **Caller's stack.** The stack is captured when the method is called; a rejection carries it (the frames
//!   of the code that called, and its `await`s), not the addon's empty one.
//! * **`options.signal`** (any `AbortSignal`). Already aborted: the Promise rejects at once and nothing
//!   starts. Aborted later: a call ([`Mode::Call`]) rejects at once and makes no further attempt (an attempt
//!   on the wire finishes in the background: ureq cannot interrupt it); a bulk job ([`Mode::Job`]) stops
//!   sending, lets the calls in flight finish, and then rejects with the report. Either way the error is a
//!   `ZcrmError` named `AbortError` (code `CANCELLED`), its `cause` the signal's reason and its message saying
//!   what had finished.
//! * **`options.timeoutMs`**: the same as an abort at that time, rejecting with code `TIMEOUT`.
//! * **Unknown option keys** are an `INVALID_INPUT` naming the key; invalid arguments reject (never throw).
//! * **Panics** in `work` or `to_js` become a `ZcrmError` with code `CLIENT_PANIC`; the process goes on.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use zcrm_extid::bulk::Cancel;
use zcrm_extid::{Error as CoreError, InvalidInput};

use crate::convert::CoreResult;
use crate::{errors, glue, pool};

/// Per-call controls, the last argument of every Promise-returning method.
#[napi(object, object_to_js = false)]
pub struct CallOptions<'a> {
    /// Aborts the call (or job): the Promise rejects with an `AbortError` (a `ZcrmError`, code `CANCELLED`).
    #[napi(ts_type = "AbortSignalLike")]
    pub signal: Option<Object<'a>>,
    /// Rejects with code `TIMEOUT` if the call (or job) has not finished after this many milliseconds,
    /// retries and backoff included; nothing more is sent after that.
    pub timeout_ms: Option<f64>,
}
known_keys!(CallOptions<'a> { signal, timeout_ms });

/// How an abort or a timeout ends the Promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One call: the Promise rejects at once; the call stops before its next attempt.
    Call,
    /// A bulk job: it stops sending, the calls in flight finish, and then the Promise rejects with the report.
    Job,
}

/// Why a call was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// Its `AbortSignal` fired.
    Aborted,
    /// Its `timeoutMs` passed.
    TimedOut,
}

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;

/// What the work of a call sees: its id (a bulk job's row source is registered under it) and its token.
pub struct Control {
    /// The call's id.
    pub id: i64,
    /// Cancelled by the signal, the timeout, or the job itself.
    pub cancel: Cancel,
}

type Settler = Box<dyn FnOnce(Interrupt) + Send>;

struct Pending {
    cancel: Cancel,
    mode: Mode,
    interrupt: Arc<Mutex<Option<Interrupt>>>,
    /// For [`Mode::Call`]: rejects the Promise at once.
    settle_now: Option<Settler>,
}

fn pending() -> &'static Mutex<HashMap<i64, Pending>> {
    static PENDING: OnceLock<Mutex<HashMap<i64, Pending>>> = OnceLock::new();
    PENDING.get_or_init(Mutex::default)
}

fn next_id() -> i64 {
    static NEXT: AtomicI64 = AtomicI64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Called (on the JS thread) by the glue when call `id`'s signal aborts or its timer fires.
pub fn interrupt(id: i64, why: Interrupt) {
    let mut map = pending().lock().unwrap_or_else(|p| p.into_inner());
    let Some(entry) = map.get_mut(&id) else { return };
    entry.interrupt.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(why);
    entry.cancel.cancel();
    if entry.mode == Mode::Call
        && let Some(entry) = map.remove(&id)
    {
        drop(map);
        if let Some(settle) = entry.settle_now {
            settle(why);
        }
    }
}

/// The context `to_js` settles in, on the JS thread: it builds errors that carry the caller's stack.
pub struct Settle<'e> {
    env: &'e Env,
    id: i64,
    call: Object<'e>,
    what: &'static str,
    interrupt: Option<Interrupt>,
    timeout_ms: Option<f64>,
}

impl<'e> Settle<'e> {
    /// The call's id (a bulk job's source is registered under it).
    pub fn id(&self) -> i64 {
        self.id
    }

    fn new(
        env: &'e Env,
        id: i64,
        what: &'static str,
        interrupt: Option<Interrupt>,
        timeout_ms: Option<f64>,
    ) -> napi::Result<Self> {
        let call = glue::call::<FnArgs<(i64,)>, Object>(env, "finish", FnArgs::from((id,)))?;
        Ok(Settle { env, id, call, what, interrupt, timeout_ms })
    }

    /// The env.
    pub fn env(&self) -> &'e Env {
        self.env
    }

    /// Why the call was stopped from outside, if it was.
    pub fn interrupted(&self) -> Option<Interrupt> {
        self.interrupt
    }

    /// `error` as a `ZcrmError` with the caller's stack.
    pub fn error(&self, error: &CoreError) -> napi::Error {
        self.error_with(error, None::<(&str, ())>)
    }

    /// [`Self::error`] with one more property (a bulk job's `report`).
    pub fn error_with<V: ToNapiValue>(&self, error: &CoreError, extra: Option<(&str, V)>) -> napi::Error {
        let built = errors::instance(self.env, error).and_then(|mut object| {
            if let Some((name, value)) = extra {
                object.set_named_property(name, value)?;
            }
            glue::call::<FnArgs<(Object, Object)>, Unknown>(self.env, "withSite", FnArgs::from((object, self.call)))
        });
        match built {
            Ok(value) => napi::Error::from(value),
            Err(_) => napi::Error::new(Status::GenericFailure, error.to_string()),
        }
    }

    /// The rejection for an interrupted call: an `AbortError` (code `CANCELLED`, `cause` the signal's reason)
    /// or a `TIMEOUT`, saying `what_finished`, with one more property (a job's `report`).
    pub fn interrupt_error<V: ToNapiValue>(
        &self,
        why: Interrupt,
        what_finished: &str,
        extra: Option<(&str, V)>,
    ) -> napi::Error {
        match why {
            Interrupt::TimedOut => {
                let limit = self.timeout_ms.map(|ms| format!(" ({ms} ms)")).unwrap_or_default();
                let e = CoreError::timeout(format!(
                    "{} did not finish within timeoutMs{limit}: {what_finished}",
                    self.what
                ));
                self.error_with(&e, extra)
            }
            Interrupt::Aborted => {
                let e = CoreError::Cancelled { message: format!("{} was aborted {what_finished}", self.what) };
                let built = errors::fields(self.env, &e).and_then(|(text, fields)| {
                    let error = glue::call::<FnArgs<(String, Unknown, Object)>, Object>(
                        self.env,
                        "abortError",
                        FnArgs::from((text, fields, self.call)),
                    )?;
                    let mut error = error;
                    if let Some((name, value)) = extra {
                        error.set_named_property(name, value)?;
                    }
                    Ok(error.to_unknown())
                });
                match built {
                    Ok(value) => napi::Error::from(value),
                    Err(_) => napi::Error::new(Status::GenericFailure, e.to_string()),
                }
            }
        }
    }
}

type Resolver<J> = Box<dyn FnOnce(Env) -> napi::Result<J>>;

fn caught<T>(f: impl FnOnce() -> T) -> std::result::Result<T, CoreError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        CoreError::Internal { message }
    })
}

/// The `CallOptions` argument: `undefined` / `null`, or an object with only `signal` (an `AbortSignal`) and
/// `timeoutMs`.
pub fn read_options(options: Option<Unknown<'_>>) -> CoreResult<(Option<Object<'_>>, Option<f64>)> {
    let Some(options) = options else { return Ok((None, None)) };
    if matches!(options.get_type(), Ok(ValueType::Undefined | ValueType::Null)) {
        return Ok((None, None));
    }
    let o = crate::convert::args::<CallOptions>(options, "options")?;
    checked(o.signal, o.timeout_ms)
}

/// A `signal` and a `timeoutMs`, checked.
fn checked(signal: Option<Object<'_>>, timeout_ms: Option<f64>) -> CoreResult<(Option<Object<'_>>, Option<f64>)> {
    if let Some(s) = &signal {
        check_signal(s)?;
    }
    Ok((signal, check_timeout(timeout_ms)?))
}

/// A `timeoutMs`: a finite number of milliseconds, 0 or more.
pub fn check_timeout(timeout_ms: Option<f64>) -> CoreResult<Option<f64>> {
    match timeout_ms {
        Some(ms) if !(ms.is_finite() && ms >= 0.0) => {
            Err(InvalidInput::new("options", "must be a number of milliseconds, 0 or more").field("timeoutMs").into())
        }
        other => Ok(other),
    }
}

/// A `signal`: an object with `aborted` and `addEventListener` (an `AbortSignal`).
fn check_signal(signal: &Object) -> CoreResult<()> {
    let usable = signal.get::<bool>("aborted").ok().flatten().is_some()
        && matches!(
            signal.get_named_property::<Unknown>("addEventListener").map(|f| f.get_type()),
            Ok(Ok(ValueType::Function))
        );
    if usable {
        Ok(())
    } else {
        Err(InvalidInput::new("options", "must be an AbortSignal (with `aborted` and `addEventListener`)")
            .field("signal")
            .into())
    }
}

/// Runs `work` on an addon thread and returns the Promise of `to_js` of its result (see the module docs).
/// `prepare` runs first, on the JS thread: it reads the arguments into `work`'s input (an error rejects the
/// Promise and nothing starts).
/// `what` names the method in messages; `controls` are the method's `CallOptions` argument, or (a bulk job's
/// options object holds them) the `signal` and `timeoutMs` read already.
pub fn promise<'e, W, T, J, P, F, G>(
    env: &'e Env,
    what: &'static str,
    mode: Mode,
    controls: Controls<'e>,
    prepare: P,
    work: F,
    to_js: G,
) -> napi::Result<Object<'e>>
where
    W: Send + 'static,
    T: Send + 'static,
    J: ToNapiValue + 'static,
    P: FnOnce(&Control) -> CoreResult<W>,
    F: FnOnce(W, &Control) -> CoreResult<T> + Send + 'static,
    G: FnOnce(&Settle, T) -> napi::Result<J> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred::<J, Resolver<J>>()?;
    let id = next_id();
    let cancel = Cancel::new();
    let reject = |e: CoreError, timeout_ms| {
        deferred.clone().resolve(Box::new(move |env| Err(Settle::new(&env, id, what, None, timeout_ms)?.error(&e))));
    };
    let controls = match controls {
        Controls::Options(options) => read_options(options),
        Controls::Given(signal, timeout_ms) => checked(signal, timeout_ms),
    };
    let (signal, timeout_ms) = match controls {
        Ok(c) => c,
        Err(e) => {
            // Rejected before anything starts; `begin` still records the caller's stack for the error.
            glue::call::<FnArgs<(i64, Null, Null)>, bool>(env, "begin", FnArgs::from((id, Null, Null)))?;
            reject(e, None);
            return Ok(promise);
        }
    };
    let aborted = glue::call::<FnArgs<(i64, Option<Object>, Option<f64>)>, bool>(
        env,
        "begin",
        FnArgs::from((id, signal, timeout_ms)),
    )?;
    if aborted {
        deferred.resolve(Box::new(move |env| {
            let settle = Settle::new(&env, id, what, Some(Interrupt::Aborted), timeout_ms)?;
            Err(settle.interrupt_error(Interrupt::Aborted, "before it started: nothing was sent", None::<(&str, ())>))
        }));
        return Ok(promise);
    }
    let input = match prepare(&Control { id, cancel: cancel.clone() }) {
        Ok(input) => input,
        Err(e) => {
            reject(e, timeout_ms);
            return Ok(promise);
        }
    };
    let interrupt = Arc::new(Mutex::new(None));
    let stage = Arc::new(AtomicU8::new(QUEUED));
    let settle_now: Option<Settler> = match mode {
        Mode::Job => None,
        Mode::Call => {
            let (deferred, stage) = (deferred.clone(), stage.clone());
            Some(Box::new(move |why| {
                deferred.resolve(Box::new(move |env| {
                    let settle = Settle::new(&env, id, what, Some(why), timeout_ms)?;
                    let finished = match stage.load(Ordering::SeqCst) {
                        QUEUED => "before it started: nothing was sent",
                        _ => "while it was running: a request may have reached Zoho; no further attempt is made",
                    };
                    Err(settle.interrupt_error(why, finished, None::<(&str, ())>))
                }))
            }))
        }
    };
    pending()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, Pending { cancel: cancel.clone(), mode, interrupt: interrupt.clone(), settle_now });
    pool::spawn(move || {
        stage.store(RUNNING, Ordering::SeqCst);
        let control = Control { id, cancel };
        let output = caught(|| work(input, &control)).and_then(|r| r);
        // Whoever takes the entry settles the Promise: an interrupted call was settled already.
        let entry = pending().lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        if entry.is_none() {
            return;
        }
        let why = *interrupt.lock().unwrap_or_else(|p| p.into_inner());
        deferred.resolve(Box::new(move |env| {
            let settle = Settle::new(&env, id, what, why, timeout_ms)?;
            match output {
                Ok(value) => match caught(|| to_js(&settle, value)) {
                    Ok(converted) => converted,
                    Err(panic) => Err(settle.error(&panic)),
                },
                Err(e) => Err(settle.error(&e)),
            }
        }));
    });
    Ok(promise)
}

/// Where a call's `signal` and `timeoutMs` come from.
pub enum Controls<'a> {
    /// The method's `CallOptions` argument (absent, `undefined`, or an object).
    Options(Option<Unknown<'a>>),
    /// Already read (a bulk job's options object holds them; a `RelatedIterator` keeps its own).
    Given(Option<Object<'a>>, Option<f64>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_client_panic_error() {
        let e = caught(|| -> u8 { panic!("boom {}", 7) }).unwrap_err();
        assert_eq!((e.code().as_str(), e.message()), ("CLIENT_PANIC", "boom 7".to_owned()));
        assert_eq!(caught(|| 5).unwrap(), 5);
    }

    #[test]
    fn timeouts_must_be_usable_numbers() {
        assert!(check_timeout(Some(0.0)).is_ok() && check_timeout(None).is_ok());
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let e = check_timeout(Some(bad)).unwrap_err();
            assert_eq!(e.invalid_input().and_then(|i| i.field.as_deref()), Some("timeoutMs"));
        }
    }
}
