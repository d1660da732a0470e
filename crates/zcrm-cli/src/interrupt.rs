//! Ctrl-C (and SIGTERM) during a bulk job. The first stops reading and sending: calls in flight finish, rows read
//! but not sent are reported `NOT_ATTEMPTED`, and the job ends normally (exit 130). The second ends the process
//! at once, after syncing the report: every outcome received so far is already in it (each is written as it
//! arrives, see [`crate::report`]); the rows of the calls still in flight are not, and `--resume` sends them again.

use std::sync::{Arc, Mutex, MutexGuard};

use zcrm_extid::bulk::Cancel;

use crate::exit;
use crate::report::Report;

/// The job's cancel token and its report, shared with the signal handler.
#[derive(Clone, Default)]
pub struct Interrupt {
    cancel: Cancel,
    report: Arc<Mutex<Option<Report>>>,
}

impl Interrupt {
    /// Not connected to any signal (the demo, tests).
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// Connected to Ctrl-C and SIGTERM (once per process).
    pub fn install() -> Interrupt {
        let interrupt = Interrupt::new();
        let handler = interrupt.clone();
        if let Err(e) = ctrlc::set_handler(move || handler.on_signal()) {
            eprintln!("zcrm: cannot handle Ctrl-C ({e}): an interrupt ends the job without a summary");
        }
        interrupt
    }

    fn on_signal(&self) {
        if !self.cancel.is_cancelled() {
            eprintln!(
                "\nzcrm: interrupted: finishing the calls in flight (Ctrl-C again to stop at once; the report keeps \
                 every outcome so far)"
            );
            self.cancel.cancel();
            return;
        }
        // Waits for a record being written to be complete, then makes the report durable.
        let report = self.report();
        match report.as_ref() {
            Some(r) => match r.sync() {
                Ok(()) => eprintln!(
                    "\nzcrm: stopped; {} holds the {} outcomes received (calls in flight are not in it): rerun with \
                     --resume {}",
                    r.path().display(),
                    r.records(),
                    r.path().display()
                ),
                Err(e) => eprintln!("\nzcrm: stopped; syncing {} failed: {e}", r.path().display()),
            },
            None => eprintln!("\nzcrm: stopped before the job started"),
        }
        std::process::exit(exit::INTERRUPTED);
    }

    /// The job's cancel token.
    pub fn cancel(&self) -> &Cancel {
        &self.cancel
    }

    /// The report (locked while held).
    pub fn report(&self) -> MutexGuard<'_, Option<Report>> {
        // A panic while writing leaves the report usable: every record is written whole or not at all.
        self.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
