//! PyO3 binding of zcrm-extid (module `zcrm_extid._native`): converts types, releases the GIL around blocking
//! core calls, maps errors. Everything the client knows lives in the core crate.

mod bulk;
mod client;
mod convert;
mod emulator;
mod errors;
mod logging;
mod metrics;
mod related;
mod results;
mod signals;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install(m.py());
    m.add_class::<client::Client>()?;
    m.add_class::<results::UpdateResult>()?;
    m.add_class::<results::Outcome>()?;
    m.add_class::<results::PreparedRequest>()?;
    m.add_class::<bulk::BulkReport>()?;
    m.add_class::<bulk::BulkSummary>()?;
    m.add_class::<bulk::RowOutcome>()?;
    m.add_class::<bulk::Progress>()?;
    m.add_class::<metrics::JobMetrics>()?;
    m.add_class::<emulator::Emulator>()?;
    m.add_class::<related::RelatedResult>()?;
    m.add_class::<related::RelatedRow>()?;
    m.add_class::<related::PageInfo>()?;
    m.add_class::<related::RelatedIterator>()?;
    m.add_function(wrap_pyfunction!(client::prepare_update_related, m)?)?;
    Ok(())
}
