// The JavaScript half of the addon. glue.rs evaluates this expression once per addon instance (napi_run_script)
// and calls the result with the native callbacks; the helpers it returns are kept in the instance data:
//
// * `ZcrmError`: the class of every error the addon throws or rejects with (a real subclass of Error).
// * `begin` / `finish`: the bookkeeping of one Promise-returning call: the caller's stack (captured when the
//   call starts, so a rejection shows where it was made), the `AbortSignal` listener and the `timeoutMs` timer.
// * `openSource` / `pull` / `closeSource`: a bulk job's rows read from any Iterable or AsyncIterable, a chunk
//   at a time, only when the job asks for more (backpressure).
// * `attach` / `attached`: per-object call options (an iterator's signal), kept on the object itself.
(native) => {
  'use strict'

  class ZcrmError extends Error {
    constructor(message, fields) {
      super(message)
      if (fields !== undefined && fields !== null) Object.assign(this, fields)
    }
  }
  Object.defineProperty(ZcrmError.prototype, 'name', { value: 'ZcrmError', writable: true, configurable: true })

  // --- calls -------------------------------------------------------------------------------------------------
  const calls = new Map()

  // Starts call `id`: returns true if `signal` is already aborted (the call then never starts).
  function begin(id, signal, timeoutMs) {
    const site = {}
    Error.captureStackTrace(site, begin)
    const call = { site, signal, listener: undefined, timer: undefined, reason: undefined, aborted: false }
    calls.set(id, call)
    if (signal !== undefined && signal !== null) {
      if (signal.aborted) {
        call.aborted = true
        call.reason = signal.reason
        return true
      }
      call.listener = () => {
        call.aborted = true
        call.reason = signal.reason
        native.abort(id)
      }
      signal.addEventListener('abort', call.listener, { once: true })
    }
    if (timeoutMs !== undefined && timeoutMs !== null) call.timer = setTimeout(() => native.timeout(id), timeoutMs)
    return false
  }

  // Ends call `id`: removes its listener and timer; returns what the rejection needs (site, abort reason).
  function finish(id) {
    const call = calls.get(id)
    if (call === undefined) return { site: undefined, reason: undefined, aborted: false }
    calls.delete(id)
    if (call.timer !== undefined) clearTimeout(call.timer)
    if (call.listener !== undefined) call.signal.removeEventListener('abort', call.listener)
    return call
  }

  // `error` with the stack of the call's site: the caller's frames (and its `await`s), not the addon's.
  function withSite(error, call) {
    if (call.site !== undefined && error !== null && typeof error === 'object') {
      const frames = String(call.site.stack)
      const cut = frames.indexOf('\n')
      error.stack = `${error.name}: ${error.message}${cut >= 0 ? frames.slice(cut) : ''}`
    }
    return error
  }

  // A ZcrmError named `AbortError` (what fetch, timers and streams reject with on abort), its `cause` the
  // signal's reason.
  function abortError(message, fields, call) {
    const error = new ZcrmError(message, fields)
    error.name = 'AbortError'
    if (call.reason !== undefined) error.cause = call.reason
    return withSite(error, call)
  }

  // --- bulk rows ---------------------------------------------------------------------------------------------
  const sources = new Map()

  // Opens `rows` as job `id`'s source: its size when known, -1 when unknown, -2 when `rows` is not iterable.
  function openSource(id, rows) {
    let iterator
    let isAsync = false
    if (rows !== null && rows !== undefined && typeof rows[Symbol.asyncIterator] === 'function') {
      iterator = rows[Symbol.asyncIterator]()
      isAsync = true
    } else if (rows !== null && typeof rows === 'object' && typeof rows[Symbol.iterator] === 'function') {
      iterator = rows[Symbol.iterator]()
    } else {
      return -2
    }
    sources.set(id, { iterator, isAsync, done: false, error: undefined, failed: false })
    if (Array.isArray(rows)) return rows.length
    if (rows instanceof Set || rows instanceof Map) return rows.size
    return -1
  }

  // Reads up to `max` rows of job `id` and hands them to the addon (native.deliver).
  function pull(id, max) {
    const source = sources.get(id)
    if (source === undefined) return
    const items = []
    const fail = (e) => {
      source.done = true
      source.failed = true
      source.error = e
    }
    if (!source.isAsync) {
      try {
        while (items.length < max) {
          const step = source.iterator.next()
          if (step.done) {
            source.done = true
            break
          }
          items.push(step.value)
        }
      } catch (e) {
        fail(e)
      }
      native.deliver(id, items, source.done, source.failed)
      return
    }
    ;(async () => {
      try {
        while (items.length < max) {
          const step = await source.iterator.next()
          if (step.done) {
            source.done = true
            break
          }
          items.push(step.value)
        }
      } catch (e) {
        fail(e)
      }
      native.deliver(id, items, source.done, source.failed)
    })()
  }

  // Ends job `id`'s source: an iterator not read to its end is closed (`return()`: a stream is destroyed, a
  // generator's `finally` runs). Returns `{ failed, error }`: what the iterator threw, if it threw.
  function closeSource(id) {
    const source = sources.get(id)
    if (source === undefined) return { failed: false, error: undefined }
    sources.delete(id)
    if (!source.done && typeof source.iterator.return === 'function') {
      try {
        const closing = source.iterator.return()
        if (closing !== null && typeof closing === 'object' && typeof closing.then === 'function') {
          closing.then(undefined, () => {})
        }
      } catch {
        // A source that fails to close has nothing more to give; the job's outcome stands.
      }
    }
    return source
  }

  // --- per-object options ------------------------------------------------------------------------------------
  const OPTIONS = Symbol('zcrm-extid.callOptions')

  function attach(target, options) {
    Object.defineProperty(target, OPTIONS, { value: options, enumerable: false })
    return target
  }

  function attached(target) {
    return target[OPTIONS]
  }

  function makeAsyncIterable(cls) {
    Object.defineProperty(cls.prototype, Symbol.asyncIterator, {
      value: function () {
        return this
      },
      writable: true,
      configurable: true,
    })
  }

  return {
    ZcrmError,
    begin,
    finish,
    withSite,
    abortError,
    openSource,
    pull,
    closeSource,
    attach,
    attached,
    makeAsyncIterable,
    // The `cause` of a transport error: the I/O error underneath, as a plain Error with its kind and errno.
    plainError: (message, fields) => Object.assign(new Error(message), fields),
  }
}
