//! [`ApplyChanges`]: the mixed bulk [`Operation`] of an apply (see [`super::apply`]). Links and updates are
//! [`Link`] rows and PUT calls, unlinks [`Unlink`] rows and DELETE calls (by related key, or by record id for a
//! linked record without an external value); a row's group is its kind plus its parent's group under that
//! operation, so no call mixes kinds or parents.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::model::{Change, ChangeKind};
use crate::bulk::{BulkRow, BulkSpec, Link, LinkRow, Operation, Unlink, UnlinkRow};
use crate::call::Call;
use crate::code::ErrorCode;
use crate::config::{ApiVersion, BaseUrl};
use crate::error::{InvalidInput, Result as CoreResult};
use crate::names::ModuleName;
use crate::related::{Parent, UpdateRelated};
use crate::related_delete::DeleteRelated;
use crate::request::PreparedRequest;
use crate::response::{Outcome, Success, UpdateResponse};
use crate::scope::ScopeOp;
use crate::transport::HttpResponse;

/// A change to send: its parent and itself.
#[derive(Debug, Clone)]
pub struct ApplyInput {
    /// The parent.
    pub parent: Parent,
    /// The change.
    pub change: Change,
}

/// A checked change.
#[derive(Debug)]
pub enum ApplyRow {
    /// A link or update (PUT).
    Put(LinkRow),
    /// An unlink by related key (DELETE).
    Delete(UnlinkRow),
    /// An unlink by record id, of a record without an external value (DELETE).
    DeleteById(UnlinkRow),
}

/// A call of [`ApplyChanges`]: the PUT of links and updates, or the DELETE of unlinks.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyCall {
    /// Links and updates of one parent.
    Put(UpdateRelated),
    /// Unlinks of one parent.
    Delete(DeleteRelated),
}

impl Call for ApplyCall {
    /// Whether the call was a DELETE, and its answer.
    type Output = (bool, UpdateResponse);

    fn prepare(&self, base: &BaseUrl, version: ApiVersion) -> PreparedRequest {
        match self {
            ApplyCall::Put(c) => Call::prepare(c, base, version),
            ApplyCall::Delete(c) => Call::prepare(c, base, version),
        }
    }

    fn module(&self) -> &ModuleName {
        match self {
            ApplyCall::Put(c) => Call::module(c),
            ApplyCall::Delete(c) => Call::module(c),
        }
    }

    fn scope_op(&self) -> ScopeOp {
        match self {
            ApplyCall::Put(c) => c.scope_op(),
            ApplyCall::Delete(c) => c.scope_op(),
        }
    }

    fn parse(&self, response: &HttpResponse) -> CoreResult<(bool, UpdateResponse)> {
        match self {
            ApplyCall::Put(c) => c.parse(response).map(|r| (false, r)),
            ApplyCall::Delete(c) => c.parse(response).map(|r| (true, r)),
        }
    }
}

/// The mixed operation of an apply (see the module docs).
#[derive(Debug, Clone)]
pub struct ApplyChanges {
    put: Link,
    delete: Unlink,
    delete_by_id: Unlink,
}

impl ApplyChanges {
    /// The operation for `spec`'s relation.
    pub fn new(spec: &BulkSpec) -> ApplyChanges {
        let by_id = BulkSpec::builder(spec.module().as_str(), spec.related_list().as_str())
            .related_module(spec.related_module().as_str())
            .build()
            .expect("the names of a valid spec, keyed by id");
        ApplyChanges {
            put: Link::new(spec.clone()),
            delete: Unlink::new(spec.clone()),
            delete_by_id: Unlink::new(by_id),
        }
    }
}

impl Operation for ApplyChanges {
    type Input = ApplyInput;
    type Row = ApplyRow;
    type Call = ApplyCall;

    fn check(&self, index: usize, input: ApplyInput) -> Result<ApplyRow, InvalidInput> {
        let ApplyInput { parent, change } = input;
        match (change.kind, change.related) {
            (ChangeKind::Link | ChangeKind::Update, Some(key)) => {
                let mut record = Map::with_capacity(change.fields.len() + 1);
                record.insert(self.put.spec().key().field().to_owned(), Value::String(key));
                record.extend(change.fields);
                self.put.check(index, BulkRow { parent, record: Value::Object(record) }).map(ApplyRow::Put)
            }
            (ChangeKind::Link | ChangeKind::Update, None) => {
                Err(InvalidInput::new("related", "a link or update needs the related key").at(index))
            }
            (ChangeKind::Unlink, Some(key)) => self.delete.check_value(index, parent, key).map(ApplyRow::Delete),
            (ChangeKind::Unlink, None) => match change.id {
                Some(id) => self.delete_by_id.check_value(index, parent, id).map(ApplyRow::DeleteById),
                None => Err(InvalidInput::new("related", "an unlink needs the related key or the record id").at(index)),
            },
        }
    }

    fn group_key(&self, row: &ApplyRow) -> String {
        match row {
            ApplyRow::Put(r) => format!("P{}", self.put.group_key(r)),
            ApplyRow::Delete(r) => format!("D{}", self.delete.group_key(r)),
            ApplyRow::DeleteById(r) => format!("I{}", self.delete_by_id.group_key(r)),
        }
    }

    fn group_label(&self, row: &ApplyRow) -> Arc<str> {
        let parent = match row {
            ApplyRow::Put(r) => &r.parent,
            ApplyRow::Delete(r) | ApplyRow::DeleteById(r) => &r.parent,
        };
        Arc::from(parent.path_value())
    }

    fn row_key(&self, row: &ApplyRow) -> String {
        match row {
            ApplyRow::Put(r) => self.put.row_key(r),
            ApplyRow::Delete(r) => r.value.clone(),
            ApplyRow::DeleteById(r) => format!("#{}", r.value),
        }
    }

    fn call(&self, rows: Vec<ApplyRow>) -> ApplyCall {
        let mut puts = Vec::new();
        let mut deletes = Vec::new();
        let mut by_id = false;
        for row in rows {
            match row {
                ApplyRow::Put(r) => puts.push(r),
                ApplyRow::Delete(r) => deletes.push(r),
                ApplyRow::DeleteById(r) => {
                    by_id = true;
                    deletes.push(r);
                }
            }
        }
        if !puts.is_empty() {
            return ApplyCall::Put(self.put.call(puts));
        }
        let op = if by_id { &self.delete_by_id } else { &self.delete };
        ApplyCall::Delete(op.call(deletes))
    }

    fn outcomes(&self, (delete, response): (bool, UpdateResponse)) -> Vec<Outcome> {
        if !delete {
            return response.outcomes;
        }
        response.outcomes.into_iter().map(already_unlinked).collect()
    }
}

/// `INVALID_DATA` "relation not found" for an unlink: the pair is not linked, as the plan wants.
fn already_unlinked(o: Outcome) -> Outcome {
    match &o.result {
        Err(f) if f.code == ErrorCode::InvalidData && f.message == "relation not found" => {
            let mut details = f.details.clone();
            details.insert("already_unlinked".into(), Value::Bool(true));
            Outcome {
                index: o.index,
                result: Ok(Success::new("SUCCESS", "already unlinked (Zoho: relation not found)", details)),
            }
        }
        _ => o,
    }
}
