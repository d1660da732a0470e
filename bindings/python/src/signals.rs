//! Ctrl-C while the core works with the GIL released: a [`Cancel`] whose poll attaches to Python and runs
//! its signal handlers; the first exception they raise (KeyboardInterrupt, or whatever a handler raises) cancels
//! the call and is kept to be raised when the core returns.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use zcrm_extid::bulk::Cancel;

/// The exception a signal handler raised, if one did.
#[derive(Clone, Default)]
pub struct Interrupt(Arc<Mutex<Option<PyErr>>>);

impl Interrupt {
    /// Takes the exception (once).
    pub fn take(&self) -> Option<PyErr> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// A token cancelled by a pending signal, and where its exception goes.
pub fn ctrl_c_cancel() -> (Cancel, Interrupt) {
    let interrupt = Interrupt::default();
    let slot = interrupt.clone();
    let cancel = Cancel::with_poll(move || {
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
