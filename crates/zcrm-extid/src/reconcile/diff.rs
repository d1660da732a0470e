//! The diff of one parent: its desired rows against the related records Zoho has linked to it.
//!
//! * A desired pair not linked is a **link**; linked with a managed relation field that differs, an **update**;
//!   linked as desired, **unchanged**. A linked record absent from the desired rows is an **unlink** only with
//!   `unlink_missing` (and none is planned, only counted, while the input has invalid rows: one of them may have
//!   named it). A parent absent from the input is never read, so never touched.
//! * **Duplicates**: when the input names a pair twice, the later row wins (as in a link job); the earlier ones
//!   count as duplicate rows.
//! * **Which fields are compared**: only the managed fields a desired row carries. An empty cell (no value)
//!   leaves the field unmanaged for that pair, as a link job leaves it out of the call; the plan never empties a
//!   field. An update writes every managed field the desired row carries.
//! * **Equal values** ([`same_value`], choices where Zoho's shapes differ by version): equal JSON; a lookup read
//!   as `{"id": ...}` (v8's `Contact_Role`, spec §2.1) equals its id given as text, or an object with the same
//!   `id`; text equals a number or a boolean whose JSON text it is (`"5"` and `5`: a CSV holds text). Anything
//!   else differs, including a field Zoho returns as `null` or not at all.
//! * **Linked records without an external value** (created in Zoho's UI, or before the field was filled) cannot
//!   be named by the input: with `unlink_missing` they are unlinked by record id.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::model::{Change, ChangeKind, SyncSpec};
use crate::related::RelatedKey;
use crate::related_rows::RelatedRow;

/// A desired pair of one parent.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Desired {
    /// Input row.
    pub row: usize,
    /// The related key.
    pub key: String,
    /// Managed relation fields with a value.
    pub fields: Map<String, Value>,
}

/// What to do with linked records absent from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Leave them.
    Keep,
    /// Unlink them.
    Unlink,
    /// Count them, plan nothing (the input has invalid rows).
    Withhold,
}

/// The diff of one parent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParentDiff {
    /// Links and updates in input order, then unlinks (by key, then records without one by id).
    pub changes: Vec<Change>,
    /// Desired pairs already as desired.
    pub unchanged: u64,
    /// Desired rows replaced by a later row of the same pair.
    pub duplicates: u64,
    /// Unlinks counted but not planned ([`Missing::Withhold`]).
    pub withheld: u64,
}

/// The related key of a linked record: its external value (text, or a number's text) or, when related records
/// are keyed by id, its id. `None` when it has no external value.
pub fn key_of(spec: &SyncSpec, row: &RelatedRow) -> Option<String> {
    match spec.bulk().key() {
        RelatedKey::Id => Some(row.id.clone()),
        RelatedKey::External(f) => match row.fields.get(f.as_str()) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        },
    }
}

/// The text a scalar stands for, for comparisons across types.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether a desired value equals the value read (see the module docs).
///
/// ```
/// use serde_json::json;
/// use zcrm_extid::reconcile::same_value;
/// assert!(same_value(&json!("111111000000026002"), Some(&json!({"id": "111111000000026002", "name": "Buyer"}))));
/// assert!(same_value(&json!({"id": "1"}), Some(&json!("1"))));
/// assert!(same_value(&json!("5"), Some(&json!(5))));
/// assert!(!same_value(&json!("a"), Some(&json!({"id": null}))));
/// assert!(!same_value(&json!("a"), None));
/// ```
pub fn same_value(desired: &Value, current: Option<&Value>) -> bool {
    let Some(current) = current else { return false };
    if desired == current {
        return true;
    }
    let id = |v: &Value| v.as_object().and_then(|o| o.get("id")).and_then(scalar_text);
    let text = |v: &Value| id(v).or_else(|| scalar_text(v));
    match (text(desired), text(current)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The managed fields of a linked record.
fn managed(spec: &SyncSpec, row: &RelatedRow) -> Map<String, Value> {
    spec.fields().iter().map(|f| (f.to_string(), row.fields.get(f.as_str()).cloned().unwrap_or(Value::Null))).collect()
}

/// The diff of a parent's `desired` rows (any order) against its linked records `current`.
pub fn diff(spec: &SyncSpec, desired: Vec<Desired>, current: &[RelatedRow], missing: Missing) -> ParentDiff {
    let mut out = ParentDiff::default();
    // The later row of a pair wins.
    let mut wanted: HashMap<String, Desired> = HashMap::with_capacity(desired.len());
    for d in desired {
        match wanted.get(&d.key) {
            Some(prev) if prev.row > d.row => out.duplicates += 1,
            Some(_) => {
                out.duplicates += 1;
                wanted.insert(d.key.clone(), d);
            }
            None => {
                wanted.insert(d.key.clone(), d);
            }
        }
    }
    let mut linked: HashMap<String, &RelatedRow> = HashMap::with_capacity(current.len());
    let mut unkeyed = Vec::new();
    for row in current {
        match key_of(spec, row) {
            Some(k) => {
                linked.insert(k, row);
            }
            None => unkeyed.push(row),
        }
    }
    let mut wanted: Vec<Desired> = wanted.into_values().collect();
    wanted.sort_unstable_by_key(|d| d.row);
    for d in &wanted {
        match linked.get(&d.key) {
            None => out.changes.push(Change {
                kind: ChangeKind::Link,
                related: Some(d.key.clone()),
                id: None,
                fields: d.fields.clone(),
                before: Map::new(),
                row: Some(d.row),
            }),
            Some(row) => {
                let differ: Vec<&String> = d
                    .fields
                    .iter()
                    .filter(|(f, v)| !same_value(v, row.fields.get(f.as_str())))
                    .map(|(f, _)| f)
                    .collect();
                if differ.is_empty() {
                    out.unchanged += 1;
                } else {
                    let before = d
                        .fields
                        .keys()
                        .map(|f| (f.clone(), row.fields.get(f.as_str()).cloned().unwrap_or(Value::Null)))
                        .collect();
                    out.changes.push(Change {
                        kind: ChangeKind::Update,
                        related: Some(d.key.clone()),
                        id: Some(row.id.clone()),
                        fields: d.fields.clone(),
                        before,
                        row: Some(d.row),
                    });
                }
            }
        }
    }
    if missing == Missing::Keep {
        return out;
    }
    let keys: std::collections::HashSet<&str> = wanted.iter().map(|d| d.key.as_str()).collect();
    let mut extra: Vec<(&String, &&RelatedRow)> = linked.iter().filter(|(k, _)| !keys.contains(k.as_str())).collect();
    extra.sort_unstable_by(|a, b| a.0.cmp(b.0));
    unkeyed.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let unlinks =
        extra.into_iter().map(|(k, row)| (Some(k.clone()), *row)).chain(unkeyed.into_iter().map(|row| (None, row)));
    for (related, row) in unlinks {
        if missing == Missing::Withhold {
            out.withheld += 1;
            continue;
        }
        out.changes.push(Change {
            kind: ChangeKind::Unlink,
            related,
            id: Some(row.id.clone()),
            fields: Map::new(),
            before: managed(spec, row),
            row: None,
        });
    }
    out
}

/// A digest of what was read for a parent: FNV-1a (128 bits) over every linked record's id, key and managed
/// fields (objects with sorted keys), in id order, as 32 hex digits. Equal reads give equal digests whatever
/// the order of records or of keys Zoho sends; any change of a link, its key or a managed field changes it.
pub fn digest(spec: &SyncSpec, current: &[RelatedRow]) -> String {
    let mut rows: Vec<&RelatedRow> = current.iter().collect();
    rows.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    let mut h = Fnv128::new();
    for row in rows {
        h.text(&row.id);
        h.text(key_of(spec, row).as_deref().unwrap_or(""));
        for f in spec.fields() {
            h.value(row.fields.get(f.as_str()).unwrap_or(&Value::Null));
        }
        h.byte(0x1e);
    }
    format!("{:032x}", h.0)
}

struct Fnv128(u128);

impl Fnv128 {
    const PRIME: u128 = 0x0000000001000000000000000000013B;

    fn new() -> Fnv128 {
        Fnv128(0x6c62272e07bb014262b821756295c58d)
    }

    fn byte(&mut self, b: u8) {
        self.0 ^= u128::from(b);
        self.0 = self.0.wrapping_mul(Self::PRIME);
    }

    /// Length-prefixed, so that no two sequences of texts hash the same bytes.
    fn text(&mut self, s: &str) {
        for b in (s.len() as u64).to_le_bytes() {
            self.byte(b);
        }
        for b in s.bytes() {
            self.byte(b);
        }
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Object(o) => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort_unstable();
                self.byte(b'{');
                for k in keys {
                    self.text(k);
                    self.value(&o[k]);
                }
                self.byte(b'}');
            }
            Value::Array(a) => {
                self.byte(b'[');
                a.iter().for_each(|x| self.value(x));
                self.byte(b']');
            }
            other => {
                self.byte(b's');
                self.text(&other.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec() -> SyncSpec {
        SyncSpec::parse("Contacts.External_Contact_ID", "Deals.External_Deal_ID", None, &["Contact_Role"]).unwrap()
    }

    fn linked(id: &str, key: Option<&str>, role: Value) -> RelatedRow {
        let mut fields = Map::new();
        fields.insert("Contact_Role".into(), role);
        fields.insert("External_Deal_ID".into(), key.map_or(Value::Null, |k| json!(k)));
        RelatedRow { id: id.into(), fields }
    }

    fn want(row: usize, key: &str, role: Option<&str>) -> Desired {
        let mut fields = Map::new();
        if let Some(r) = role {
            fields.insert("Contact_Role".into(), json!(r));
        }
        Desired { row, key: key.into(), fields }
    }

    fn kinds(d: &ParentDiff) -> Vec<(char, String)> {
        d.changes.iter().map(|c| (c.kind.mark(), c.label())).collect()
    }

    #[test]
    fn link_update_unchanged_unlink() {
        let current = [
            linked("1", Some("a"), json!({"id": "r1"})),
            linked("2", Some("b"), json!({"id": "r1"})),
            linked("3", Some("c"), json!(null)),
            linked("4", None, json!(null)),
        ];
        let desired =
            vec![want(0, "a", Some("r1")), want(1, "b", Some("r2")), want(2, "d", None), want(3, "b", Some("r3"))];
        let keep = diff(&spec(), desired.clone(), &current, Missing::Keep);
        assert_eq!(kinds(&keep), [('+', "d".into()), ('~', "b".into())]);
        assert_eq!((keep.unchanged, keep.duplicates), (1, 1));
        let update = &keep.changes[1];
        assert_eq!((update.row, update.id.as_deref()), (Some(3), Some("2")), "the later row wins");
        assert_eq!(update.before["Contact_Role"], json!({"id": "r1"}));
        let all = diff(&spec(), desired.clone(), &current, Missing::Unlink);
        assert_eq!(&kinds(&all)[2..], [('-', "c".into()), ('-', "#4".into())]);
        assert_eq!(all.changes[3].related, None);
        let held = diff(&spec(), desired, &current, Missing::Withhold);
        assert_eq!((held.changes.len(), held.withheld), (2, 2));
    }

    #[test]
    fn an_empty_cell_leaves_the_field_unmanaged() {
        let current = [linked("1", Some("a"), json!({"id": "r1"}))];
        let d = diff(&spec(), vec![want(0, "a", None)], &current, Missing::Unlink);
        assert_eq!((d.changes.len(), d.unchanged), (0, 1));
    }

    #[test]
    fn the_digest_ignores_order_and_sees_every_change() {
        let s = spec();
        let a = [linked("1", Some("a"), json!({"id": "r", "name": "x"})), linked("2", Some("b"), json!(null))];
        let mut b = a.clone();
        b.reverse();
        b[1].fields = b[1].fields.iter().rev().map(|(k, v)| (k.clone(), v.clone())).collect();
        if let Value::Object(o) = b[1].fields.get_mut("Contact_Role").unwrap() {
            *o = o.iter().rev().map(|(k, v)| (k.clone(), v.clone())).collect();
        }
        assert_eq!(digest(&s, &a), digest(&s, &b));
        let mut c = a.clone();
        c[1].fields.insert("Contact_Role".into(), json!({"id": "r"}));
        assert_ne!(digest(&s, &a), digest(&s, &c));
        assert_ne!(digest(&s, &a), digest(&s, &a[..1]));
        assert_ne!(digest(&s, &[]), digest(&s, &[linked("", None, Value::Null)]));
        assert_eq!(digest(&s, &[]).len(), 32);
    }
}
