//! A plan as JSON, so that it can be reviewed, kept, and applied later exactly as reviewed.
//!
//! ```json
//! {
//!   "format": "zcrm-extid.plan", "version": 1,
//!   "relation": {"parent": "Contacts.External_Contact_ID", "related": "Deals.External_Deal_ID",
//!                "related_list": "Deals", "fields": ["Contact_Role"]},
//!   "options": {"unlink_missing": true, "max_unlinks": "5%"},
//!   "summary": {"rows": 3, "parents": 1, "current_links": 2, "links": 1, "updates": 1, "unlinks": 1, ...},
//!   "invalid": [],
//!   "parents": [
//!     {"parent": "c1", "links_read": 2, "digest": "9f0c...", "unchanged": 0, "changes": [
//!       {"op": "link", "related": "d3", "fields": {"Contact_Role": "buyer"}, "row": 2},
//!       {"op": "update", "related": "d1", "id": "111", "fields": {"Contact_Role": "buyer"},
//!        "before": {"Contact_Role": {"id": "seller"}}, "row": 0},
//!       {"op": "unlink", "related": "d2", "id": "112", "before": {"Contact_Role": null}}]}
//!   ]
//! }
//! ```
//!
//! Choices: `version` is 1; another version, or another `format`, is refused (`INVALID_INPUT` at
//! `plan.version` / `plan.format`), never guessed at. Loading checks the names and every parent value as the
//! planner did; each change is checked again when applied (a bad one becomes that change's `INVALID_INPUT`
//! outcome). A reviewer may delete changes from the file: the counts of links, updates and unlinks are
//! recomputed from the changes that are there (the `summary` written is informational for those), so the
//! `max_unlinks` guard applies to what will be sent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::guard::MaxUnlinks;
use super::model::{Change, ChangeKind, InvalidRow, ParentPlan, Plan, PlanSummary, ReadFailure, SyncSpec};
use crate::error::InvalidInput;

/// The `format` of a plan file.
pub const FORMAT: &str = "zcrm-extid.plan";
/// The `version` this client writes and reads.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    format: String,
    version: u32,
    relation: RelationFile,
    options: OptionsFile,
    summary: SummaryFile,
    #[serde(default)]
    invalid: Vec<InvalidFile>,
    parents: Vec<ParentFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RelationFile {
    parent: String,
    related: String,
    related_list: String,
    fields: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionsFile {
    unlink_missing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_unlinks: Option<String>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct SummaryFile {
    rows: u64,
    invalid_rows: u64,
    duplicate_rows: u64,
    parents: u64,
    parents_failed: u64,
    parents_changed: u64,
    read_calls: u64,
    current_links: u64,
    links: u64,
    updates: u64,
    unlinks: u64,
    unchanged: u64,
    withheld_unlinks: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidFile {
    row: usize,
    location: String,
    message: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParentFile {
    parent: String,
    links_read: u64,
    digest: String,
    #[serde(default)]
    unchanged: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<ErrorFile>,
    #[serde(default)]
    changes: Vec<ChangeFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorFile {
    code: String,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeFile {
    op: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    related: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    fields: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    before: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    row: Option<usize>,
}

impl Plan {
    /// The plan as JSON (pretty-printed, one key per line: reviewable and diffable).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.file()).expect("a plan is plain JSON")
    }

    /// Writes the plan as JSON to `w`.
    pub fn write_json(&self, w: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(w, &self.file()).map_err(std::io::Error::other)
    }

    fn file(&self) -> PlanFile {
        let s = &self.summary;
        let b = self.spec.bulk();
        PlanFile {
            format: FORMAT.into(),
            version: VERSION,
            relation: RelationFile {
                parent: self.spec.parent_text(),
                related: self.spec.related_text(),
                related_list: b.related_list().to_string(),
                fields: self.spec.fields().iter().map(ToString::to_string).collect(),
            },
            options: OptionsFile {
                unlink_missing: self.unlink_missing,
                max_unlinks: self.max_unlinks.map(|m| m.to_string()),
            },
            summary: SummaryFile {
                rows: s.rows,
                invalid_rows: s.invalid_rows,
                duplicate_rows: s.duplicate_rows,
                parents: s.parents,
                parents_failed: s.parents_failed,
                parents_changed: s.parents_changed,
                read_calls: s.read_calls,
                current_links: s.current_links,
                links: s.links,
                updates: s.updates,
                unlinks: s.unlinks,
                unchanged: s.unchanged,
                withheld_unlinks: s.withheld_unlinks,
            },
            invalid: self
                .invalid
                .iter()
                .map(|r| InvalidFile { row: r.row, location: r.location.clone(), message: r.message.clone() })
                .collect(),
            parents: self
                .parents
                .iter()
                .map(|p| ParentFile {
                    parent: p.parent.path_value().to_owned(),
                    links_read: p.links_read,
                    digest: p.digest.clone(),
                    unchanged: p.unchanged,
                    error: p.error.as_ref().map(|e| ErrorFile {
                        code: e.code.clone(),
                        message: e.message.clone(),
                        status: e.status,
                    }),
                    changes: p
                        .changes
                        .iter()
                        .map(|c| ChangeFile {
                            op: c.kind.as_str().into(),
                            related: c.related.clone(),
                            id: c.id.clone(),
                            fields: c.fields.clone(),
                            before: c.before.clone(),
                            row: c.row,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// A plan from its JSON ([`Plan::to_json`]); see the module docs for what is checked.
    ///
    /// ```
    /// use zcrm_extid::reconcile::Plan;
    /// let e = Plan::from_json(r#"{"format": "zcrm-extid.plan", "version": 9}"#).unwrap_err();
    /// assert_eq!(e.argument, "plan.version");
    /// ```
    pub fn from_json(text: &str) -> Result<Plan, InvalidInput> {
        let head: Value =
            serde_json::from_str(text).map_err(|e| InvalidInput::new("plan", format!("not JSON: {e}")))?;
        match head.get("format").and_then(Value::as_str) {
            Some(FORMAT) => {}
            other => {
                return Err(InvalidInput::new(
                    "plan.format",
                    format!("is {other:?}; a plan written by zcrm-extid has \"{FORMAT}\""),
                ));
            }
        }
        match head.get("version").and_then(Value::as_u64) {
            Some(v) if v == u64::from(VERSION) => {}
            other => {
                return Err(InvalidInput::new(
                    "plan.version",
                    format!("is {other:?}; this client reads plans of version {VERSION} (plan again with it)"),
                ));
            }
        }
        let file: PlanFile =
            serde_json::from_value(head).map_err(|e| InvalidInput::new("plan", format!("not a plan: {e}")))?;
        let r = &file.relation;
        let fields: Vec<&str> = r.fields.iter().map(String::as_str).collect();
        let spec = SyncSpec::parse(&r.parent, &r.related, Some(&r.related_list), &fields)?;
        let max_unlinks = file.options.max_unlinks.as_deref().map(str::parse::<MaxUnlinks>).transpose()?;
        let s = &file.summary;
        let mut summary = PlanSummary {
            rows: s.rows,
            invalid_rows: s.invalid_rows,
            duplicate_rows: s.duplicate_rows,
            parents: s.parents,
            parents_failed: s.parents_failed,
            parents_changed: 0,
            read_calls: s.read_calls,
            current_links: s.current_links,
            links: 0,
            updates: 0,
            unlinks: 0,
            unchanged: s.unchanged,
            withheld_unlinks: s.withheld_unlinks,
        };
        let mut parents = Vec::with_capacity(file.parents.len());
        for (i, p) in file.parents.into_iter().enumerate() {
            let at = |e: InvalidInput| InvalidInput::new("plan.parents", e.message).at(i);
            let parent = spec.parent(p.parent).map_err(at)?;
            let mut changes = Vec::with_capacity(p.changes.len());
            for (j, c) in p.changes.into_iter().enumerate() {
                let bad = |m: String| InvalidInput::new(format!("plan.parents[{i}].changes"), m).at(j);
                let kind = match c.op.as_str() {
                    "link" => ChangeKind::Link,
                    "update" => ChangeKind::Update,
                    "unlink" => ChangeKind::Unlink,
                    other => return Err(bad(format!("op {other:?}: expected link, update or unlink"))),
                };
                if let Some(f) = c.fields.keys().find(|f| !spec.fields().iter().any(|m| m.as_str() == f.as_str())) {
                    return Err(bad(format!("{f} is not one of the plan's fields")));
                }
                match kind {
                    ChangeKind::Link => summary.links += 1,
                    ChangeKind::Update => summary.updates += 1,
                    ChangeKind::Unlink => summary.unlinks += 1,
                }
                changes.push(Change {
                    kind,
                    related: c.related,
                    id: c.id,
                    fields: c.fields,
                    before: c.before,
                    row: c.row,
                });
            }
            summary.parents_changed += u64::from(!changes.is_empty());
            let error = p.error.map(|e| ReadFailure { code: e.code, message: e.message, status: e.status });
            parents.push(ParentPlan {
                parent,
                links_read: p.links_read,
                digest: p.digest,
                changes,
                unchanged: p.unchanged,
                error,
            });
        }
        let invalid = file
            .invalid
            .into_iter()
            .map(|r| InvalidRow { row: r.row, location: r.location, message: r.message })
            .collect();
        Ok(Plan { spec, unlink_missing: file.options.unlink_missing, max_unlinks, summary, invalid, parents })
    }
}
