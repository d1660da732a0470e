//! [`Operation`]: what a bulk job does with its rows. The engine is the same for every operation (link,
//! unlink, upsert, the apply step of a reconcile): rows -> groups -> calls of at most
//! [`Operation::max_batch`] rows -> bounded concurrency -> one outcome per row. An operation says how a row is
//! checked, which rows may share a call, which may not travel together, how a call is built, and how its answer
//! maps back to the rows.
//!
//! [`Link`] is the operation of [`crate::Client::link_many`]: "update related records" calls, grouped by
//! parent. [`crate::records::Upsert`] is the records upsert of [`crate::Client::upsert_many`].

use std::sync::Arc;

use serde_json::{Map, Value};

use super::{BulkRow, BulkSpec};
use crate::call::Call;
use crate::error::InvalidInput;
use crate::related::{MAX_RECORDS, Parent, UpdateRelated, check_record};
use crate::response::{Outcome, UpdateResponse};

/// A bulk operation (see the module docs). Implementations are cheap to share between the job's threads.
pub trait Operation: Sync {
    /// What the caller gives for one row.
    type Input;
    /// A row that passed [`Operation::check`].
    type Row: Send;
    /// One call of the operation.
    type Call: Call + Send;

    /// Checks input row `index` before anything is sent; a failure becomes that row's `INVALID_INPUT`
    /// outcome and the job goes on.
    fn check(&self, index: usize, input: Self::Input) -> Result<Self::Row, InvalidInput>;

    /// Rows with equal group keys may share a call (the parent, for related records).
    fn group_key(&self, row: &Self::Row) -> String;

    /// What reports show for the row's group (the parent's path value; may be empty).
    fn group_label(&self, row: &Self::Row) -> Arc<str>;

    /// The row's key within its group (the related record's key). Two rows with the same group and key never
    /// travel in one call, nor at the same time: the later one waits until the earlier one is done, so input
    /// order decides which wins.
    fn row_key(&self, row: &Self::Row) -> String;

    /// The call carrying `rows`: 1 to [`Operation::max_batch`] rows of one group with distinct keys, in order.
    fn call(&self, rows: Vec<Self::Row>) -> Self::Call;

    /// One outcome per row of an answered call, in the call's row order.
    fn outcomes(&self, output: <Self::Call as Call>::Output) -> Vec<Outcome>;

    /// The operation's name in events and logs (`link`, `unlink`, ...). Default `bulk`.
    fn name(&self) -> &'static str {
        "bulk"
    }

    /// The most rows one call carries (default [`MAX_RECORDS`], Zoho's limit for writes).
    fn max_batch(&self) -> usize {
        MAX_RECORDS
    }

    /// Whether a row key names one record whatever the row's group (default false: keys are per group, as a
    /// related record is per parent). When true, two rows with the same key never travel at the same time even
    /// in different groups (an upsert's groups only say how its lookups are addressed; its key is the record).
    fn keys_span_groups(&self) -> bool {
        false
    }
}

/// A related record to link, checked: its parent and the record (key plus relation fields).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRow {
    /// The parent record.
    pub parent: Parent,
    /// The related record, validated against the spec's key.
    pub record: Map<String, Value>,
}

/// The link operation: "update related records" calls of up to 100 records, grouped by parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    spec: BulkSpec,
}

impl Link {
    /// Links as `spec` says.
    pub fn new(spec: BulkSpec) -> Link {
        Link { spec }
    }

    /// The spec.
    pub fn spec(&self) -> &BulkSpec {
        &self.spec
    }
}

/// `#id` or `field=value`: one string per parent (no `=` or `#` can start a field name).
pub(crate) fn parent_key(p: &Parent) -> String {
    match p {
        Parent::Id(id) => {
            let mut k = String::with_capacity(id.as_str().len() + 1);
            k.push('#');
            k.push_str(id.as_str());
            k
        }
        Parent::External { field, value } => {
            let mut k = String::with_capacity(field.as_str().len() + value.as_str().len() + 1);
            k.push_str(field.as_str());
            k.push('=');
            k.push_str(value.as_str());
            k
        }
    }
}

impl Operation for Link {
    type Input = BulkRow;
    type Row = LinkRow;
    type Call = UpdateRelated;

    fn check(&self, index: usize, input: BulkRow) -> Result<LinkRow, InvalidInput> {
        self.spec.check_parent(&input.parent).map_err(|e| e.at(index))?;
        let record = check_record(index, input.record, &self.spec.key)?;
        Ok(LinkRow { parent: input.parent, record })
    }

    fn group_key(&self, row: &LinkRow) -> String {
        parent_key(&row.parent)
    }

    fn group_label(&self, row: &LinkRow) -> Arc<str> {
        Arc::from(row.parent.path_value())
    }

    fn row_key(&self, row: &LinkRow) -> String {
        match row.record.get(self.spec.key.field()) {
            Some(Value::String(s)) => s.clone(),
            _ => unreachable!("check_record guarantees the key is a string"),
        }
    }

    fn call(&self, rows: Vec<LinkRow>) -> UpdateRelated {
        let mut rows = rows.into_iter();
        let first = rows.next().expect("a call carries at least one row");
        let mut records = Vec::with_capacity(rows.len() + 1);
        records.push(first.record);
        records.extend(rows.map(|r| r.record));
        UpdateRelated::from_validated(
            self.spec.module.clone(),
            first.parent,
            self.spec.related_list.clone(),
            self.spec.related_module.clone(),
            self.spec.key.clone(),
            records,
        )
    }

    fn outcomes(&self, output: UpdateResponse) -> Vec<Outcome> {
        output.outcomes
    }

    fn name(&self) -> &'static str {
        "link"
    }
}

impl BulkSpec {
    /// Rows whose parent this spec cannot address: an external parent when the related module is the base
    /// module (one `X-EXTERNAL` pair per module could not say which side it means).
    pub(crate) fn check_parent(&self, parent: &Parent) -> Result<(), InvalidInput> {
        if self.module == self.related_module && matches!(parent, Parent::External { .. }) {
            return Err(InvalidInput::new(
                "parent",
                format!(
                    "the base and related module are both {}: an X-EXTERNAL pair could not say which side it addresses; address the parent by record id",
                    self.module
                ),
            ));
        }
        Ok(())
    }
}
