//! PyO3 binding of zcrm-extid (module `zcrm_extid._native`): converts types, releases the GIL around blocking
//! core calls, maps errors. Everything the client knows lives in the core crate.
//!
//! # How to add a method
//!
//! * **A call**: a `#[pymethods]` method on `Client` that reads its arguments into the core's typed request
//!   (errors via [`errors::invalid_input`]) and sends it through [`run::run`]:
//!   `run(py, |cancel| client.execute_cancellable(&request, cancel))` (see `Client::update_related`). `run`
//!   releases the GIL, lets Ctrl-C and `zcrm_extid.aio` cancel the call (the thread's `CancelScope`), and maps
//!   the core's error. Then add its awaitable form to `python/zcrm_extid/aio.py` (three lines: `return await
//!   _call(self._client.method, ...)`).
//! * **A bulk job**: a `bulk::Job` with the operation's row mapping and its core call (see `bulk::link_job`);
//!   `link_many`'s report, `on_outcome`, `keep_outcomes`, `on_progress`, the iterator form
//!   (`OutcomeStream`), Ctrl-C and `bulk_report` on exceptions then come with it. `aio.py` wraps both forms with
//!   `_call` and `_stream`.
//! * **Errors**: return the core's `Error`; [`errors::to_py_err`] maps it with no wildcard arm (a new code,
//!   category or field fails to compile there until mapped). Never raise a zcrm exception by hand.
//! * Then: the stub (`python/zcrm_extid/_native.pyi`: types with `Literal`s, a docstring; `mypy.stubtest`
//!   checks it), and the names in `tests/conformance/api.json` (both suites check it).
//!
//! # Modules
//!
//! `client` (`Client`, `prepare_update_related`, `parse_outcomes`, pickling), `related` (reads, unlinks,
//! `RelatedIterator`, `parse_related`), `bulk` (`link_many`, `iter_link_many`, `OutcomeStream`, reports),
//! `run` (the GIL-released, cancellable run of a call; `CancelScope`), `errors` (the one error mapping,
//! `error_codes`), `results`, `convert`, `emulator`.

mod bulk;
mod cells;
mod client;
mod convert;
mod emulator;
mod errors;
mod logging;
mod metrics;
mod reconcile;
mod records;
mod records_results;
mod related;
mod results;
mod run;
mod upsert;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The crate's version is the Cargo workspace's, as is the Python distribution's.
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    logging::install(m.py());
    m.add_class::<client::Client>()?;
    m.add_class::<results::UpdateResult>()?;
    m.add_class::<results::Outcome>()?;
    m.add_class::<results::PreparedRequest>()?;
    m.add_class::<bulk::BulkReport>()?;
    m.add_class::<bulk::BulkSummary>()?;
    m.add_class::<bulk::RowOutcome>()?;
    m.add_class::<bulk::Progress>()?;
    m.add_class::<records_results::RecordOutcome>()?;
    m.add_class::<records_results::RecordsResult>()?;
    m.add_class::<records_results::RecordsPage>()?;
    m.add_class::<records_results::RecordIterator>()?;
    m.add_class::<bulk::OutcomeStream>()?;
    m.add_class::<reconcile::Plan>()?;
    m.add_class::<reconcile::Change>()?;
    m.add_class::<reconcile::PlanSummary>()?;
    m.add_class::<reconcile::PlanProgress>()?;
    m.add_class::<metrics::JobMetrics>()?;
    m.add_class::<emulator::Emulator>()?;
    m.add_class::<related::RelatedResult>()?;
    m.add_class::<related::RelatedRow>()?;
    m.add_class::<related::PageInfo>()?;
    m.add_class::<related::RelatedIterator>()?;
    m.add_class::<run::CancelScope>()?;
    m.add_function(wrap_pyfunction!(client::prepare_update_related, m)?)?;
    m.add_function(wrap_pyfunction!(client::parse_outcomes, m)?)?;
    m.add_function(wrap_pyfunction!(client::client_from_env, m)?)?;
    m.add_function(wrap_pyfunction!(related::parse_related, m)?)?;
    m.add_function(wrap_pyfunction!(errors::error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(errors::error_from_code, m)?)?;
    m.add_function(wrap_pyfunction!(errors::settings_choices, m)?)?;
    Ok(())
}
