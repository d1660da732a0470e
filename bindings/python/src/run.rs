//! [`run`]: how every blocking core call runs. The GIL is released while the core works; the call's
//! [`Cancel`] token is cancelled by Ctrl-C (a pending signal, polled between attempts and every 100 ms of a
//! backoff sleep) and by the thread's [`CancelScope`], which is how `zcrm_extid.aio` cancels a call when its
//! asyncio task is cancelled: the awaitable runs the method on a worker thread inside a scope and cancels the
//! scope from the event loop. A cancelled call stops before its next attempt (an attempt on the wire
//! finishes); a cancelled bulk job stops sending and lets its calls in flight finish.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use zcrm_extid::Error;
use zcrm_extid::bulk::Cancel;

use crate::errors::to_py_err;

thread_local! {
    /// The scopes entered on this thread, innermost last.
    static SCOPES: RefCell<Vec<Cancel>> = const { RefCell::new(Vec::new()) };
}

/// A cancellation scope for the calls made on this thread inside `with scope:`; `scope.cancel()` (from any
/// thread) cancels them. `zcrm_extid.aio` uses one per awaitable.
#[pyclass(module = "zcrm_extid._native", frozen)]
pub struct CancelScope {
    cancel: Cancel,
}

#[pymethods]
impl CancelScope {
    #[new]
    fn new() -> Self {
        CancelScope { cancel: Cancel::new() }
    }

    /// Cancels the calls of the scope (and those made in it later).
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        let cancel = slf.get().cancel.clone();
        SCOPES.with(|s| s.borrow_mut().push(cancel));
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, PyTuple>) -> bool {
        SCOPES.with(|s| s.borrow_mut().pop());
        false
    }
}

/// A token for work started on this thread: a child of the innermost [`CancelScope`] (so cancelling the scope
/// cancels it), or a fresh token outside any scope.
pub fn token() -> Cancel {
    SCOPES.with(|s| s.borrow().last().map(Cancel::child)).unwrap_or_default()
}

/// The exception a signal handler raised, if one did.
#[derive(Clone, Default)]
pub struct Interrupt(Arc<Mutex<Option<PyErr>>>);

impl Interrupt {
    /// Takes the exception (once).
    pub fn take(&self) -> Option<PyErr> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// A token of the thread's scope that a pending signal also cancels, and where the signal's exception goes.
pub fn ctrl_c_token() -> (Cancel, Interrupt) {
    let interrupt = Interrupt::default();
    let slot = interrupt.clone();
    let parent = SCOPES.with(|s| s.borrow().last().cloned()).unwrap_or_default();
    let cancel = parent.child_with_poll(move || {
        Python::attach(|py| match py.check_signals() {
            Ok(()) => false,
            Err(e) => {
                slot.0.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                true
            }
        })
    });
    (cancel, interrupt)
}

/// Runs `work` with the GIL released and a token that Ctrl-C and the thread's [`CancelScope`] cancel; a
/// signal's exception (KeyboardInterrupt) is raised when the core returns, otherwise its error is mapped.
pub fn run<T: Send>(py: Python<'_>, work: impl FnOnce(&Cancel) -> Result<T, Error> + Send) -> PyResult<T> {
    let (cancel, interrupt) = ctrl_c_token();
    let output = crate::logging::detach(py, || work(&cancel));
    if let Some(signal) = interrupt.take() {
        return Err(signal);
    }
    output.map_err(|e| to_py_err(py, e))
}
