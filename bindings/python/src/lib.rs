//! PyO3 binding of zcrm-extid (module `zcrm_extid._native`): converts types, releases the GIL around blocking
//! core calls, maps errors. Everything the client knows lives in the core crate.

mod bulk;
mod bulk_report;
mod client;
mod convert;
mod emulator;
mod errors;
mod reconcile;
mod related;
mod results;
mod signals;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::Client>()?;
    m.add_class::<results::UpdateResult>()?;
    m.add_class::<results::Outcome>()?;
    m.add_class::<results::PreparedRequest>()?;
    m.add_class::<bulk_report::BulkReport>()?;
    m.add_class::<bulk_report::BulkSummary>()?;
    m.add_class::<bulk_report::RowOutcome>()?;
    m.add_class::<bulk_report::Progress>()?;
    m.add_class::<emulator::Emulator>()?;
    m.add_class::<reconcile::Plan>()?;
    m.add_class::<reconcile::Change>()?;
    m.add_class::<reconcile::PlanSummary>()?;
    m.add_class::<reconcile::PlanProgress>()?;
    m.add_class::<related::RelatedResult>()?;
    m.add_class::<related::RelatedRow>()?;
    m.add_class::<related::PageInfo>()?;
    m.add_class::<related::RelatedIterator>()?;
    m.add_function(wrap_pyfunction!(client::prepare_update_related, m)?)?;
    Ok(())
}
