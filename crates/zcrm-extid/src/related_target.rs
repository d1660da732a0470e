//! What the read and unlink requests ([`crate::GetRelated`], [`crate::DeleteRelated`]) share: the relation they
//! address (module, parent, related list, related module), how related records are named in the URL (record ids
//! or the related module's external values, [`RelatedKey`]), the checks of those values, and the `X-EXTERNAL`
//! pairs that follow from them.
//!
//! A related value is a record id (ASCII digits) when the related records are keyed by id, or any non-empty
//! text when they are keyed by an external field. The same rule covers the trailing path segment of the single
//! forms and every value of an `ids` list (spec §11.16: this client reads `ids` values like the trailing segment,
//! as external values exactly when `X-EXTERNAL` names the related module, as Zoho documents for the records
//! APIs' `ids`, §2.3, §2.6).

use crate::error::InvalidInput;
use crate::external::{ExternalPair, XExternal};
use crate::names::{FieldName, ModuleName, RecordId, RelatedList};
use crate::related::{Parent, RelatedKey};

/// The relation a read or unlink request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Relation {
    pub module: ModuleName,
    pub parent: Parent,
    pub related_list: RelatedList,
    pub related_module: ModuleName,
    pub key: RelatedKey,
}

impl Relation {
    /// Validates the names; `related_field` `None` keys related records by id. The caller then checks the sides
    /// ([`Relation::check_sides`]) for what its request names.
    pub fn new(
        module: String,
        parent: Parent,
        related_list: String,
        related_module: Option<String>,
        related_field: Option<String>,
    ) -> Result<Relation, InvalidInput> {
        let module = ModuleName::new(module)?;
        let related_list = RelatedList::new(related_list)?;
        let related_module = match related_module {
            Some(m) => ModuleName::parse_as(m, "related_module")?,
            None => ModuleName::new(related_list.as_str()).expect("a related list name is a module name"),
        };
        let key = match related_field {
            None => RelatedKey::Id,
            Some(f) if f == "id" => {
                return Err(InvalidInput::new(
                    "related_field",
                    "`id` is not an external field; leave related_field unset to name related records by id",
                ));
            }
            Some(f) => RelatedKey::External(FieldName::parse_as(f, "related_field")?),
        };
        Ok(Relation { module, parent, related_list, related_module, key })
    }

    /// One `X-EXTERNAL` pair per module: when both sides are the same module a pair could not say which side it
    /// addresses, so such relations use record ids (as [`crate::UpdateRelated`] does). `names_related` is whether
    /// the request names related records at all (a list read does not).
    pub fn check_sides(&self, names_related: bool) -> Result<(), InvalidInput> {
        let external_key = names_related && matches!(self.key, RelatedKey::External(_));
        if self.module == self.related_module && (matches!(self.parent, Parent::External { .. }) || external_key) {
            return Err(InvalidInput::new(
                "x_external",
                format!(
                    "the base and related module are both {}: an X-EXTERNAL pair for it could not say which side it addresses; use record ids on both sides",
                    self.module
                ),
            ));
        }
        Ok(())
    }

    /// The `X-EXTERNAL` pairs: the base pair when the parent is external, the related pair when related values
    /// are sent and keyed by an external field. `related_first` orders them as the operation's documented sample
    /// does (order has no meaning to Zoho, spec §1.2, §11.5).
    pub fn x_external(&self, names_related: bool, related_first: bool) -> Option<XExternal> {
        let base = match &self.parent {
            Parent::External { field, .. } => Some(ExternalPair::simple(self.module.clone(), field.clone())),
            Parent::Id(_) => None,
        };
        let related = match (&self.key, names_related) {
            (RelatedKey::External(field), true) => {
                Some(ExternalPair::simple(self.related_module.clone(), field.clone()))
            }
            _ => None,
        };
        let pairs: Vec<ExternalPair> =
            if related_first { [related, base] } else { [base, related] }.into_iter().flatten().collect();
        (!pairs.is_empty()).then(|| XExternal::new(pairs).expect("distinct modules, checked when built"))
    }
}

/// Checks one related value against `key` and returns it; an error is located at `argument[index]` (or at
/// `argument` when `index` is `None`).
pub(crate) fn check_value(
    key: &RelatedKey,
    argument: &str,
    index: Option<usize>,
    value: String,
) -> Result<String, InvalidInput> {
    let err = |message: String| {
        let e = InvalidInput::new(argument, message);
        match index {
            Some(i) => e.at(i),
            None => e,
        }
    };
    if value.is_empty() {
        return Err(err("must not be empty".into()));
    }
    if matches!(key, RelatedKey::Id) && RecordId::new(value.as_str()).is_err() {
        return Err(err(format!(
            "{value:?} is not a Zoho record id (digits only); to name related records by an external value, set related_field (X-EXTERNAL: <RelatedModule>.<field>)"
        )));
    }
    Ok(value)
}

/// Checks a list of related values for an `ids` parameter: each as [`check_value`], no `,` inside a value (it
/// would read as two values), no value twice. Errors are located at `ids[i]`.
pub(crate) fn check_ids(key: &RelatedKey, values: Vec<String>, max: usize) -> Result<Vec<String>, InvalidInput> {
    if values.is_empty() {
        return Err(InvalidInput::new("ids", "needs at least one value"));
    }
    if values.len() > max {
        return Err(InvalidInput::new(
            "ids",
            format!("has {} values; Zoho accepts at most {max} per call (spec §5.5)", values.len()),
        ));
    }
    let mut seen = std::collections::HashMap::with_capacity(values.len());
    let mut out = Vec::with_capacity(values.len());
    for (i, value) in values.into_iter().enumerate() {
        let value = check_value(key, "ids", Some(i), value)?;
        if !fits_ids_list(&value) {
            return Err(InvalidInput::new(
                "ids",
                format!(
                    "{value:?} contains ',', which separates the values of `ids`, so Zoho would read two values; send it on its own (one value goes in the URL path, where any character is allowed)"
                ),
            )
            .at(i));
        }
        if let Some(first) = seen.insert(value.clone(), i) {
            return Err(InvalidInput::new("ids", format!("duplicates ids[{first}]")).at(i));
        }
        out.push(value);
    }
    Ok(out)
}

/// Whether `value` can travel in an `ids` list (it has no `,`).
pub(crate) fn fits_ids_list(value: &str) -> bool {
    !value.contains(',')
}
