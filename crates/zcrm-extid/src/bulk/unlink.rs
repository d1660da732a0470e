//! [`Unlink`]: the bulk "delete (delink) related records" operation ([`crate::DeleteRelated`], spec §2.2, §3.3),
//! and [`Client::unlink_many`] / [`Client::unlink_all`], which mirror [`Client::link_many`] /
//! [`Client::link_all`].
//!
//! It takes the same rows as a link job ([`BulkRow`]: a parent and a record carrying the related key), so the
//! export that linked pairs can unlink them. The record is checked exactly as for linking (the key must be
//! there, valid for the spec); its relation fields mean nothing to a delete and are not sent.
//!
//! Rows are grouped by parent into `DELETE .../{RelatedList}?ids=v1,v2,...` calls of up to 100 values, one outcome
//! per value in call order (200 / 207 / 400, as for the PUT). Choices (tested in `tests/unlink.rs`):
//! * **A value containing `,`** cannot share an `ids` list (Zoho splits the list on `,`, and percent-encoding
//!   does not help: the server decodes before it splits, spec §11.3). Such a value gets a group of its own
//!   (its group key is its parent's plus the value), so its call carries it alone and goes in the path form
//!   (`DELETE .../Deals/a%2Cb`), where any character is allowed. Other values of the same parent still share
//!   calls; each comma value costs one call.
//! * **The same pair twice** in a job: the later row waits until the earlier one's call is done (the engine's
//!   rule for equal keys). The second delete then finds no relation: Zoho answers `INVALID_DATA` "relation not
//!   found" for it, which is its outcome. Unlinking is idempotent in effect, not in answer.
//! * **Retries** after a lost answer send the delete again; a value already unlinked by the lost call then comes
//!   back `INVALID_DATA` "relation not found". Only a *retried* call can do that, and the relation is gone either
//!   way, so the outcome is what Zoho said; the report's `attempts` (more than 1) tells such rows apart.

use std::sync::Arc;

use serde_json::Value;

use super::operation::{Operation, parent_key};
use super::{BulkOptions, BulkReport, BulkRow, BulkSpec, BulkSummary, Cancel, Progress, RowOutcome};
use crate::client::Client;
use crate::error::{Error, InvalidInput};
use crate::related::{Parent, check_record};
use crate::related_delete::{DeleteRelated, check_related_value, fits_ids_list};
use crate::response::{Outcome, UpdateResponse};

/// A related record to unlink, checked: its parent and its related value (external value or record id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlinkRow {
    /// The parent record.
    pub parent: Parent,
    /// The related record's value, as the spec keys related records.
    pub value: String,
}

/// The unlink operation: "delete related records" calls of up to 100 values, grouped by parent (see the module
/// docs).
///
/// ```
/// use serde_json::json;
/// use zcrm_extid::bulk::{BulkSpec, Operation, Unlink};
/// use zcrm_extid::{ApiVersion, BaseUrl, Call, Parent};
/// let spec = BulkSpec::builder("Contacts", "Deals").related_by_external("External_Deal_ID").build()?;
/// let unlink = Unlink::new(spec);
/// let parent = || Parent::external("External_Contact_ID", "c1");
/// let row = |deal: &str| unlink.check(0, zcrm_extid::bulk::BulkRow { parent: parent()?, record: json!({"External_Deal_ID": deal}) });
/// let (a, b, odd) = (row("d1")?, row("d2")?, row("d,3")?);
/// assert_eq!(unlink.group_key(&a), unlink.group_key(&b));
/// assert_ne!(unlink.group_key(&a), unlink.group_key(&odd)); // a value with `,` travels alone
/// let zoho = BaseUrl::parse("https://www.zohoapis.com")?;
/// assert!(unlink.call(vec![a, b]).prepare(&zoho, ApiVersion::V8).url().ends_with("/c1/Deals?ids=d1,d2"));
/// assert!(unlink.call(vec![odd]).prepare(&zoho, ApiVersion::V8).url().ends_with("/c1/Deals/d%2C3"));
/// # Ok::<(), zcrm_extid::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlink {
    spec: BulkSpec,
}

impl Unlink {
    /// Unlinks as `spec` says.
    pub fn new(spec: BulkSpec) -> Unlink {
        Unlink { spec }
    }

    /// The spec.
    pub fn spec(&self) -> &BulkSpec {
        &self.spec
    }

    /// Checks a parent and a related value (not from a [`BulkRow`]): for callers that already hold the value,
    /// such as the apply step of a reconcile. Errors name row `index`.
    pub fn check_value(&self, index: usize, parent: Parent, value: String) -> Result<UnlinkRow, InvalidInput> {
        self.spec.check_parent(&parent).map_err(|e| e.at(index))?;
        let value = check_related_value(&self.spec.key, index, value)?;
        Ok(UnlinkRow { parent, value })
    }
}

impl Operation for Unlink {
    type Input = BulkRow;
    type Row = UnlinkRow;
    type Call = DeleteRelated;

    fn check(&self, index: usize, input: BulkRow) -> Result<UnlinkRow, InvalidInput> {
        self.spec.check_parent(&input.parent).map_err(|e| e.at(index))?;
        let mut record = check_record(index, input.record, &self.spec.key)?;
        let value = match record.remove(self.spec.key.field()) {
            Some(Value::String(s)) => s,
            _ => unreachable!("check_record guarantees the key is a string"),
        };
        let value = check_related_value(&self.spec.key, index, value)?;
        Ok(UnlinkRow { parent: input.parent, value })
    }

    /// The parent; a value that cannot share an `ids` list gets a group of its own: `,` (which no parent key
    /// starts with), the parent key's length, `:`, the parent key, the value.
    fn group_key(&self, row: &UnlinkRow) -> String {
        let parent = parent_key(&row.parent);
        if fits_ids_list(&row.value) { parent } else { format!(",{}:{parent}{}", parent.len(), row.value) }
    }

    fn group_label(&self, row: &UnlinkRow) -> Arc<str> {
        Arc::from(row.parent.path_value())
    }

    fn row_key(&self, row: &UnlinkRow) -> String {
        row.value.clone()
    }

    fn call(&self, rows: Vec<UnlinkRow>) -> DeleteRelated {
        let mut rows = rows.into_iter();
        let first = rows.next().expect("a call carries at least one row");
        let mut values = Vec::with_capacity(rows.len() + 1);
        values.push(first.value);
        values.extend(rows.map(|r| r.value));
        DeleteRelated::from_validated(
            self.spec.module.clone(),
            first.parent,
            self.spec.related_list.clone(),
            self.spec.related_module.clone(),
            self.spec.key.clone(),
            values,
        )
    }

    fn outcomes(&self, output: UpdateResponse) -> Vec<Outcome> {
        output.outcomes
    }
}

impl Client {
    /// Unlinks related records: [`Client::run_bulk`] of [`Unlink`] over `rows` (the same rows as a link job),
    /// numbered 0, 1, 2, ... in input order.
    pub fn unlink_many<I>(
        &self,
        spec: &BulkSpec,
        options: &BulkOptions,
        rows: I,
        on_outcome: &mut dyn FnMut(RowOutcome),
        on_progress: &mut dyn FnMut(&Progress),
        cancel: &Cancel,
    ) -> Result<BulkSummary, Error>
    where
        I: IntoIterator<Item = Result<BulkRow, InvalidInput>>,
    {
        let op = Unlink::new(spec.clone());
        self.run_bulk(&op, options, rows.into_iter().enumerate(), on_outcome, on_progress, cancel)
    }

    /// [`Client::unlink_many`] collecting every outcome, sorted by row.
    pub fn unlink_all<I>(&self, spec: &BulkSpec, options: &BulkOptions, rows: I) -> Result<BulkReport, Error>
    where
        I: IntoIterator<Item = Result<BulkRow, InvalidInput>>,
    {
        let mut outcomes = Vec::new();
        let summary = self.unlink_many(spec, options, rows, &mut |o| outcomes.push(o), &mut |_| {}, &Cancel::new())?;
        outcomes.sort_unstable_by_key(|o| o.row);
        Ok(BulkReport { outcomes, summary })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::{ApiVersion, BaseUrl};

    fn unlink(external: bool) -> Unlink {
        let b = BulkSpec::builder("Contacts", "Deals");
        Unlink::new(if external { b.related_by_external("External_Deal_ID") } else { b }.build().unwrap())
    }

    fn row(parent: &str, record: serde_json::Value) -> BulkRow {
        BulkRow { parent: Parent::external("External_Contact_ID", parent).unwrap(), record }
    }

    #[test]
    fn rows_are_checked_as_for_linking_and_fields_are_not_sent() {
        let op = unlink(true);
        let r = op.check(3, row("c1", json!({"External_Deal_ID": "d1", "Contact_Role": "r"}))).unwrap();
        assert_eq!(r.value, "d1");
        let e = op.check(3, row("c1", json!({"Contact_Role": "r"}))).unwrap_err();
        assert_eq!(e.location(), "data[3].External_Deal_ID");
        let by_id = unlink(false);
        assert_eq!(by_id.check(4, row("c1", json!({"id": "12x"}))).unwrap_err().location(), "data[4].id");
        let call = op.call(vec![r]);
        let http = call.prepare(&BaseUrl::parse("https://www.zohoapis.com").unwrap(), ApiVersion::V8);
        assert!(http.url().ends_with("/Contacts/c1/Deals/d1") && http.body().is_empty());
    }

    #[test]
    fn comma_values_get_groups_of_their_own_that_cannot_collide() {
        let op = unlink(true);
        let key =
            |p: &str, v: &str| op.group_key(&op.check_value(0, Parent::external("F", p).unwrap(), v.into()).unwrap());
        assert_eq!(key("c1", "a"), key("c1", "b"));
        assert_ne!(key("c1", "a,b"), key("c1", "c,d"));
        assert_ne!(key("c1", "a,b"), key("c1", "a"));
        // The parent's length keeps (parent "x", value "1,2") apart from (parent "x1", value ",2"); a plain
        // group key (the parent's) never starts with `,`.
        assert_ne!(key("x", "1,2"), key("x1", ",2"));
        assert!(!key(",x", "y").starts_with(','));
    }
}
