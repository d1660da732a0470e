//! A dry run: the calls a bulk job would make, in the order it would make them, without sending anything.

use super::BulkOptions;
use super::operation::Operation;
use super::window::{Item, Window};
use crate::error::InvalidInput;

/// One step of a planned job.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanItem<C> {
    /// A call and the input rows it carries, in record order.
    Call {
        /// Input rows of the call's records.
        rows: Vec<usize>,
        /// The request.
        request: C,
    },
    /// A row that fails validation (it would get an `INVALID_INPUT` outcome).
    Invalid {
        /// Input row.
        row: usize,
        /// Why.
        error: InvalidInput,
    },
}

/// The calls `rows` would become, grouped as [`crate::Client::run_bulk`] groups them while its slots are
/// busy: full groups, groups a window old, and the rest when the input ends. Each call is treated as finished
/// before the next is planned, so held-back duplicates follow their twin's call.
///
/// ```
/// use serde_json::json;
/// use zcrm_extid::bulk::{plan, BulkOptions, BulkRow, BulkSpec, Link, PlanItem};
/// use zcrm_extid::Parent;
/// let spec = BulkSpec::builder("Contacts", "Deals").related_by_external("External_Deal_ID").build()?;
/// let rows = (0..150).map(|i| Ok(BulkRow { parent: Parent::external("External_Contact_ID", "c1")?,
///                                         record: json!({"External_Deal_ID": format!("d{i}")}) }));
/// let link = Link::new(spec);
/// let calls: Vec<_> = plan(&link, &BulkOptions::default(), rows.enumerate()).collect();
/// assert_eq!(calls.len(), 2); // 100 + 50 records
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
pub fn plan<'a, O, I>(op: &'a O, options: &'a BulkOptions, rows: I) -> impl Iterator<Item = PlanItem<O::Call>> + 'a
where
    O: Operation,
    I: IntoIterator<Item = (usize, Result<O::Input, InvalidInput>)>,
    I::IntoIter: 'a,
{
    let batch_size = options.batch_size.min(op.max_batch()).max(1);
    let window_rows = options.window.max(batch_size);
    let mut rows = rows.into_iter();
    let mut window: Window<O::Row> = Window::new(op.keys_span_groups());
    let mut next_seq = 0u64;
    let mut input_done = false;
    std::iter::from_fn(move || {
        loop {
            if let Some(mut batch) = window.take_ready() {
                window.release(&batch.group, batch.items.iter().map(|i| i.key.as_str()));
                window.retry_blocked(batch_size);
                let rows = batch.items.iter().map(|i| i.row).collect();
                let data = batch.items.iter_mut().filter_map(|i| i.data.take()).collect();
                return Some(PlanItem::Call { rows, request: op.call(data) });
            }
            window.flush_stale(next_seq, window_rows);
            if window.ready_rows > 0 {
                continue;
            }
            if input_done || window.buffered >= window_rows {
                if window.flush_oldest() {
                    continue;
                }
                if input_done {
                    return None;
                }
            }
            match rows.next() {
                None => input_done = true,
                Some((row, next)) => {
                    let seq = next_seq;
                    next_seq += 1;
                    match next.and_then(|input| op.check(row, input)) {
                        Ok(data) => {
                            let group = op.group_key(&data);
                            let key = op.row_key(&data);
                            let item = Item { row, seq, data: Some(data), key };
                            window.place(group, |d| op.group_label(d), item, batch_size);
                        }
                        Err(error) => return Some(PlanItem::Invalid { row, error }),
                    }
                }
            }
        }
    })
}
