//! A dry run: the calls a bulk job would make, in the order it would make them, without sending anything.

use super::window::Window;
use super::{BulkOptions, BulkRow, BulkSpec};
use crate::error::InvalidInput;
use crate::related::{UpdateRelated, check_record};

/// One step of a planned job.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanItem {
    /// A call and the input rows (0-based) it carries, in record order.
    Call {
        /// Input rows of the call's records.
        rows: Vec<usize>,
        /// The request.
        request: UpdateRelated,
    },
    /// A row that fails validation (it would get an `INVALID_INPUT` outcome).
    Invalid {
        /// Input row.
        row: usize,
        /// Why.
        error: InvalidInput,
    },
}

/// The calls `rows` would become, grouped as [`crate::Client::link_many`] groups them (each call is
/// treated as finished before the next one is planned, so duplicates follow the planned calls).
///
/// ```
/// use serde_json::json;
/// use zcrm_extid::bulk::{plan, BulkOptions, BulkRow, BulkSpec, PlanItem};
/// use zcrm_extid::Parent;
/// let spec = BulkSpec::builder("Contacts", "Deals").related_by_external("External_Deal_ID").build()?;
/// let rows = (0..150).map(|i| Ok(BulkRow { parent: Parent::external("External_Contact_ID", "c1")?,
///                                         record: json!({"External_Deal_ID": format!("d{i}")}) }));
/// let calls: Vec<PlanItem> = plan(&spec, &BulkOptions::default(), rows).collect();
/// assert_eq!(calls.len(), 2); // 100 + 50 records
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
pub fn plan<'a, I>(spec: &'a BulkSpec, options: &'a BulkOptions, rows: I) -> impl Iterator<Item = PlanItem> + 'a
where
    I: IntoIterator<Item = Result<BulkRow, InvalidInput>>,
    I::IntoIter: 'a,
{
    let mut rows = rows.into_iter().enumerate();
    let mut window = Window::default();
    let mut input_done = false;
    std::iter::from_fn(move || {
        loop {
            if let Some(batch) = window.ready.pop_front() {
                window.release(&batch);
                window.retry_blocked(options.batch_size);
                let rows = batch.items.iter().map(|i| i.row).collect();
                let request = UpdateRelated::from_validated(
                    spec.module.clone(),
                    batch.parent,
                    spec.related_list.clone(),
                    spec.related_module.clone(),
                    spec.key.clone(),
                    batch.items.into_iter().map(|i| i.record).collect(),
                );
                return Some(PlanItem::Call { rows, request });
            }
            if window.buffered >= options.window.max(1) && window.flush_oldest() {
                continue;
            }
            if input_done {
                // Groups left over (rows released from hold after their twin's call) go out last.
                if window.flush_oldest() {
                    continue;
                }
                return None;
            }
            match rows.next() {
                None => input_done = true,
                Some((row, next)) => {
                    let checked = next.and_then(|r| Ok((r.parent, check_record(row, r.record, &spec.key)?)));
                    match checked {
                        Ok((parent, record)) => {
                            let key = record[spec.key.field()].as_str().expect("checked").to_owned();
                            window.place(parent, super::window::Item { row, record, key }, options.batch_size);
                        }
                        Err(error) => return Some(PlanItem::Invalid { row, error }),
                    }
                }
            }
        }
    })
}
