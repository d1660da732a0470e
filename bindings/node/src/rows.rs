//! A bulk job's rows from any JS `Iterable` or `AsyncIterable` (an Array, a Set, a generator, an async
//! generator, a `Readable` in object mode, a csv-parse parser), read a chunk at a time and only when the job
//! asks for more: the engine pulls a row when its grouping window has room, [`JsRows`] asks the JS thread for
//! the next chunk only when it has handed out the last one, and the glue (`glue.js`: `pull`) reads that many
//! rows from the iterator. So the rows in memory are at most the job's window, one chunk, and the rows in
//! flight, however long the input; a stream is paused (not read) while the job is busy.
//!
//! Each row is converted on the JS thread when its chunk is delivered ([`deliver`]), by the operation's own
//! converter (linkMany's reads the mapped columns of the row object), into the core's row or an
//! `INVALID_INPUT` for that row. If the iterator throws, the job stops as if cancelled and the Promise rejects
//! with what it threw (the report attached); when the job ends before the iterator does (abort, timeout, a
//! breaker stop), the iterator is closed (`return()`: a stream is destroyed, a generator's `finally` runs).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue};
use zcrm_extid::InvalidInput;
use zcrm_extid::bulk::Cancel;

use crate::convert::CoreResult;
use crate::glue;

/// Rows asked for at a time.
const CHUNK: u32 = 256;

/// Converts one JS row (`index` in the input) into the operation's row, on the JS thread.
pub type Convert<R> = Arc<dyn Fn(&Env, Unknown, usize) -> std::result::Result<R, InvalidInput> + Send + Sync>;

struct Chunk<R> {
    rows: Vec<std::result::Result<R, InvalidInput>>,
    done: bool,
    failed: bool,
}

/// The JS-thread end of a job's source: converts delivered rows and passes them to the job.
trait Sink: Send {
    fn deliver(&mut self, env: &Env, items: &Array, done: bool, failed: bool) -> Result<()>;
}

struct TypedSink<R> {
    convert: Convert<R>,
    next_index: usize,
    tx: SyncSender<Chunk<R>>,
}

impl<R: Send + 'static> Sink for TypedSink<R> {
    fn deliver(&mut self, env: &Env, items: &Array, done: bool, failed: bool) -> Result<()> {
        let mut rows = Vec::with_capacity(items.len() as usize);
        for i in 0..items.len() {
            let item = items.get::<Unknown>(i)?.ok_or_else(|| Error::from_reason("a row went missing"))?;
            rows.push((self.convert)(env, item, self.next_index));
            self.next_index += 1;
        }
        // The job asks for one chunk at a time, so there is always room; a job that ended drops it.
        let _ = self.tx.try_send(Chunk { rows, done, failed });
        Ok(())
    }
}

fn sinks() -> &'static Mutex<HashMap<i64, Box<dyn Sink>>> {
    static SINKS: OnceLock<Mutex<HashMap<i64, Box<dyn Sink>>>> = OnceLock::new();
    SINKS.get_or_init(Mutex::default)
}

/// Called by the glue (`native.deliver`) on the JS thread with the rows it read for job `id`.
pub fn deliver(env: &Env, id: i64, items: Array, done: bool, failed: bool) -> Result<()> {
    // Taken out while converting: a row's getters may run any JS, even another job's start.
    let Some(mut sink) = sinks().lock().unwrap_or_else(|p| p.into_inner()).remove(&id) else { return Ok(()) };
    let result = sink.deliver(env, &items, done, failed);
    sinks().lock().unwrap_or_else(|p| p.into_inner()).insert(id, sink);
    result
}

type Pull = ThreadsafeFunction<FnArgs<(i64, u32)>, UnknownReturnValue, FnArgs<(i64, u32)>, Status, false>;

/// The job-thread end of a source: an iterator of rows that asks the JS thread for each chunk.
pub struct JsRows<R> {
    id: i64,
    pull: Pull,
    rx: Receiver<Chunk<R>>,
    buffered: VecDeque<std::result::Result<R, InvalidInput>>,
    finished: bool,
    cancel: Cancel,
    failed: Arc<AtomicBool>,
}

/// A job's source, opened on the JS thread: `rows` (any Iterable or AsyncIterable) for job `id`.
pub struct Source<R> {
    /// The iterator the job reads (move it into the job's work).
    pub rows: JsRows<R>,
    /// How many rows the input holds, when it says (an Array's length, a Set's size).
    pub expected: Option<u64>,
    /// Set when the iterator threw (the job then stopped).
    pub failed: Arc<AtomicBool>,
}

/// Opens `rows` as job `id`'s source; `cancel` is the job's token (an iterator that throws cancels it).
pub fn open<R: Send + 'static>(
    env: &Env,
    id: i64,
    rows: Unknown,
    convert: Convert<R>,
    cancel: &Cancel,
) -> CoreResult<Source<R>> {
    let not_rows = || {
        InvalidInput::new(
            "rows",
            "must be an Iterable or AsyncIterable of row objects (an Array, a generator, a stream in object mode)",
        )
    };
    let size = glue::call::<FnArgs<(i64, Unknown)>, f64>(env, "openSource", FnArgs::from((id, rows)))
        .map_err(|e| InvalidInput::new("rows", e.reason))?;
    if size == -2.0 {
        return Err(not_rows().into());
    }
    let pull_fn: Function<FnArgs<(i64, u32)>, UnknownReturnValue> = glue::helpers(env)
        .and_then(|h| h.get_named_property("pull"))
        .map_err(|e| InvalidInput::new("rows", e.reason))?;
    let pull = pull_fn
        .build_threadsafe_function::<FnArgs<(i64, u32)>>()
        .callee_handled::<false>()
        .build()
        .map_err(|e| InvalidInput::new("rows", e.reason))?;
    let (tx, rx) = mpsc::sync_channel(1);
    sinks().lock().unwrap_or_else(|p| p.into_inner()).insert(id, Box::new(TypedSink { convert, next_index: 0, tx }));
    let failed = Arc::new(AtomicBool::new(false));
    Ok(Source {
        rows: JsRows {
            id,
            pull,
            rx,
            buffered: VecDeque::new(),
            finished: false,
            cancel: cancel.clone(),
            failed: failed.clone(),
        },
        expected: (size >= 0.0).then_some(size as u64),
        failed,
    })
}

/// Ends job `id`'s source on the JS thread: closes an iterator that was not read to its end, and returns
/// what it threw, if it threw.
pub fn close<'e>(env: &'e Env, id: i64) -> Result<Option<Unknown<'e>>> {
    sinks().lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    let source: Object = glue::call(env, "closeSource", FnArgs::from((id,)))?;
    if source.get::<bool>("failed")?.unwrap_or(false) {
        return Ok(Some(source.get_named_property::<Unknown>("error")?));
    }
    Ok(None)
}

impl<R> Iterator for JsRows<R> {
    type Item = std::result::Result<R, InvalidInput>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.buffered.pop_front() {
                return Some(row);
            }
            if self.finished || self.cancel.is_cancelled() {
                return None;
            }
            if self.pull.call(FnArgs::from((self.id, CHUNK)), ThreadsafeFunctionCallMode::NonBlocking) != Status::Ok {
                self.finished = true;
                return None;
            }
            let chunk = loop {
                match self.rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(chunk) => break chunk,
                    // A slow source does not hold a cancelled job: it ends the input here.
                    Err(RecvTimeoutError::Timeout) if !self.cancel.is_cancelled() => {}
                    Err(_) => {
                        self.finished = true;
                        return None;
                    }
                }
            };
            self.buffered.extend(chunk.rows);
            if chunk.done {
                self.finished = true;
            }
            if chunk.failed {
                self.failed.store(true, Ordering::SeqCst);
                self.cancel.cancel();
            }
        }
    }
}

impl<R> Drop for JsRows<R> {
    fn drop(&mut self) {
        sinks().lock().unwrap_or_else(|p| p.into_inner()).remove(&self.id);
    }
}
