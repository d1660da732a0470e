//! The data of a reconcile: what it keeps in line ([`SyncSpec`]), and the plan ([`Plan`]: every change, per
//! parent, with what was read and the totals).

use serde_json::{Map, Value};

use super::guard::MaxUnlinks;
use crate::bulk::{BulkSpec, RowMapping};
use crate::error::InvalidInput;
use crate::names::FieldName;
use crate::related::{Parent, RelatedKey};
use crate::settings::MappingSettings;

/// What a reconcile keeps in line: one relation (base module, related list, related module), how parents and
/// related records are named, and the relation fields it manages.
///
/// ```
/// use zcrm_extid::reconcile::SyncSpec;
/// let spec = SyncSpec::parse("Contacts.External_Contact_ID", "Deals.External_Deal_ID", None, &["Contact_Role"])?;
/// assert_eq!((spec.parent_text(), spec.related_text()), ("Contacts.External_Contact_ID".into(), "Deals.External_Deal_ID".into()));
/// assert_eq!(SyncSpec::parse("Contacts.id", "Deals.id", None, &["id"]).unwrap_err().argument, "fields");
/// # Ok::<(), zcrm_extid::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSpec {
    pub(crate) bulk: BulkSpec,
    pub(crate) parent_field: Option<FieldName>,
    pub(crate) fields: Vec<FieldName>,
}

impl SyncSpec {
    /// From parts: the relation (`bulk`), the parents' external field (`None`: record ids) and the managed
    /// relation fields (distinct; neither `id` nor the related key).
    pub fn new(
        bulk: BulkSpec,
        parent_field: Option<FieldName>,
        fields: Vec<FieldName>,
    ) -> Result<SyncSpec, InvalidInput> {
        for (i, f) in fields.iter().enumerate() {
            if f.as_str() == "id" || f.as_str() == bulk.key().field() {
                return Err(InvalidInput::new("fields", format!("{f} is the related key, not a relation field")).at(i));
            }
            if fields[..i].contains(f) {
                return Err(InvalidInput::new("fields", format!("{f} is named twice")).at(i));
            }
        }
        Ok(SyncSpec { bulk, parent_field, fields })
    }

    /// `parent` and `related` as `Module.Field` (`id` for record ids), the related list (default: the related
    /// module's name), and the managed relation fields.
    pub fn parse(
        parent: &str,
        related: &str,
        related_list: Option<&str>,
        fields: &[&str],
    ) -> Result<SyncSpec, InvalidInput> {
        let (bulk, mapping) = RowMapping::parse(parent, related, related_list)?;
        let mapping = mapping.with_fields(fields.iter().map(|f| ((*f).to_owned(), (*f).to_owned())).collect())?;
        SyncSpec::of(bulk, &mapping)
    }

    fn of(bulk: BulkSpec, mapping: &RowMapping) -> Result<SyncSpec, InvalidInput> {
        SyncSpec::new(bulk, mapping.parent_field().cloned(), mapping.field_names().cloned().collect())
    }

    /// The spec and the row mapping of mapping settings (columns for tabular rows: CSV, dicts, JS objects); the
    /// managed relation fields are the mapping's fields.
    pub fn from_mapping(settings: &MappingSettings) -> Result<(SyncSpec, RowMapping), InvalidInput> {
        let (bulk, mapping) = settings.build()?;
        Ok((SyncSpec::of(bulk, &mapping)?, mapping))
    }

    /// The relation.
    pub fn bulk(&self) -> &BulkSpec {
        &self.bulk
    }

    /// The parents' external field (`None`: parents by record id).
    pub fn parent_field(&self) -> Option<&FieldName> {
        self.parent_field.as_ref()
    }

    /// The managed relation fields.
    pub fn fields(&self) -> &[FieldName] {
        &self.fields
    }

    /// `Module.Field` of the parents.
    pub fn parent_text(&self) -> String {
        format!("{}.{}", self.bulk.module(), self.parent_field.as_ref().map_or("id", FieldName::as_str))
    }

    /// `Module.Field` of the related records.
    pub fn related_text(&self) -> String {
        format!("{}.{}", self.bulk.related_module(), self.bulk.key().field())
    }

    /// The parent named `value` the way this spec names parents.
    pub fn parent(&self, value: impl Into<String>) -> Result<Parent, InvalidInput> {
        match &self.parent_field {
            Some(f) => Parent::external(f.as_str(), value),
            None => Parent::id(value),
        }
    }

    /// Whether `parent` is named the way this spec names parents.
    pub(crate) fn names(&self, parent: &Parent) -> bool {
        match (parent, &self.parent_field) {
            (Parent::Id(_), None) => true,
            (Parent::External { field, .. }, Some(f)) => field == f,
            _ => false,
        }
    }

    /// The fields a read of the current links asks for: the managed relation fields, then the related external
    /// field (so each linked record maps back to its key); `id` alone when there is neither (from v5 on a list
    /// read must name a field).
    pub(crate) fn read_fields(&self) -> Vec<String> {
        let mut f: Vec<String> = self.fields.iter().map(ToString::to_string).collect();
        if let RelatedKey::External(k) = self.bulk.key() {
            f.push(k.to_string());
        }
        if f.is_empty() {
            f.push("id".into());
        }
        f
    }
}

/// What a change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// Link a related record that is not linked (PUT).
    Link,
    /// Rewrite the relation fields of a linked record whose fields differ (PUT).
    Update,
    /// Unlink a linked record that is not in the desired set (DELETE; only with `unlink_missing`).
    Unlink,
}

impl ChangeKind {
    /// `link`, `update`, `unlink` (the plan JSON's `op`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Link => "link",
            ChangeKind::Update => "update",
            ChangeKind::Unlink => "unlink",
        }
    }

    /// `+`, `~`, `-` (the diff's marks).
    pub fn mark(self) -> char {
        match self {
            ChangeKind::Link => '+',
            ChangeKind::Update => '~',
            ChangeKind::Unlink => '-',
        }
    }
}

/// One change of a plan, for the parent it sits under ([`ParentPlan`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// What it does.
    pub kind: ChangeKind,
    /// The related record's key: its external value (or record id, when related records are keyed by id).
    /// `None` only for an unlink of a linked record that has no external value (it is unlinked by `id`).
    pub related: Option<String>,
    /// The linked record's Zoho id (update, unlink), as read.
    pub id: Option<String>,
    /// The relation fields to write (link, update): the desired row's.
    pub fields: Map<String, Value>,
    /// Their values as read (update), or the linked record's managed fields (unlink).
    pub before: Map<String, Value>,
    /// The input row it comes from (link, update).
    pub row: Option<usize>,
}

impl Change {
    /// The key reports show: the related key, or `#id` for a record without one.
    pub fn label(&self) -> String {
        match (&self.related, &self.id) {
            (Some(k), _) => k.clone(),
            (None, Some(id)) => format!("#{id}"),
            (None, None) => String::new(),
        }
    }
}

/// Why a parent's links could not be read (nothing is planned for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFailure {
    /// The error code (`INVALID_DATA`, `TRANSPORT`, ...).
    pub code: String,
    /// The message.
    pub message: String,
    /// The HTTP status, when a response was received.
    pub status: Option<u16>,
}

/// The plan of one parent: what was read, and every change.
#[derive(Debug, Clone, PartialEq)]
pub struct ParentPlan {
    /// The parent.
    pub parent: Parent,
    /// Related records linked when the plan was made.
    pub links_read: u64,
    /// A digest of what was read (each linked record's id, key and managed fields): apply re-reads the parent
    /// and refuses it when the digest differs ([`super::apply`]).
    pub digest: String,
    /// The changes: links and updates in input order, then unlinks.
    pub changes: Vec<Change>,
    /// Desired pairs already linked with the desired fields.
    pub unchanged: u64,
    /// Set when the parent's links could not be read; then there are no changes.
    pub error: Option<ReadFailure>,
}

/// A row of the input that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRow {
    /// The input row (0-based).
    pub row: usize,
    /// Where (`row[3].External_Deal_ID`, `data[3].External_Deal_ID`).
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl InvalidRow {
    pub(crate) fn new(row: usize, e: &InvalidInput) -> InvalidRow {
        InvalidRow { row, location: e.location(), message: e.message.clone() }
    }
}

/// The totals of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanSummary {
    /// Input rows read.
    pub rows: u64,
    /// ... of which could not be used (see [`Plan::invalid`]).
    pub invalid_rows: u64,
    /// ... of which repeated an earlier row's pair (the later row wins).
    pub duplicate_rows: u64,
    /// Distinct parents in the input (with at least one usable row).
    pub parents: u64,
    /// ... of which could not be read (nothing planned for them).
    pub parents_failed: u64,
    /// ... of which have changes.
    pub parents_changed: u64,
    /// Read calls made (pages; retries not counted).
    pub read_calls: u64,
    /// Related records linked to the input's parents when they were read.
    pub current_links: u64,
    /// Links planned.
    pub links: u64,
    /// Updates planned.
    pub updates: u64,
    /// Unlinks planned.
    pub unlinks: u64,
    /// Desired pairs already as desired.
    pub unchanged: u64,
    /// Unlinks not planned because some input rows were invalid (an invalid row may have named one of those
    /// pairs; fix or drop the rows and plan again).
    pub withheld_unlinks: u64,
}

impl PlanSummary {
    /// Changes planned.
    pub fn changes(&self) -> u64 {
        self.links + self.updates + self.unlinks
    }
}

/// A reconcile plan: every change (per parent, with what was read), the invalid rows, the totals, and the
/// options it was made with. Plain data: print it ([`Plan::summary_text`], [`Plan::write_diff`]), save it
/// ([`Plan::to_json`]), load it ([`Plan::from_json`]) and apply it ([`crate::Client::apply_plan`]). Parents
/// without changes are counted, not kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub(crate) spec: SyncSpec,
    pub(crate) unlink_missing: bool,
    pub(crate) max_unlinks: Option<MaxUnlinks>,
    pub(crate) summary: PlanSummary,
    pub(crate) invalid: Vec<InvalidRow>,
    pub(crate) parents: Vec<ParentPlan>,
}

impl Plan {
    /// What the plan keeps in line.
    pub fn spec(&self) -> &SyncSpec {
        &self.spec
    }

    /// Whether linked records absent from the input were planned for unlinking.
    pub fn unlink_missing(&self) -> bool {
        self.unlink_missing
    }

    /// The unlink guard the plan was made with.
    pub fn max_unlinks(&self) -> Option<MaxUnlinks> {
        self.max_unlinks
    }

    /// The totals.
    pub fn summary(&self) -> &PlanSummary {
        &self.summary
    }

    /// The input rows that could not be used.
    pub fn invalid(&self) -> &[InvalidRow] {
        &self.invalid
    }

    /// The parents with changes or a read failure, in the order planned.
    pub fn parents(&self) -> &[ParentPlan] {
        &self.parents
    }

    /// Every change with its parent, in the order planned (the apply report's `row` is the position here).
    pub fn changes(&self) -> impl Iterator<Item = (&Parent, &Change)> {
        self.parents.iter().flat_map(|p| p.changes.iter().map(move |c| (&p.parent, c)))
    }

    /// True when the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.summary.changes() == 0
    }

    /// How many unlinks the guard allows ([`MaxUnlinks::allowed`] of the links read), if there is one.
    pub fn unlinks_allowed(&self) -> Option<u64> {
        self.max_unlinks.map(|m| m.allowed(self.summary.current_links))
    }
}
