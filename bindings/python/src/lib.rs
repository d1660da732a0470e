//! PyO3 binding of zcrm-extid: converts types, releases the GIL around blocking core calls, maps errors.

use pyo3::prelude::*;

#[pymodule]
fn _native(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
