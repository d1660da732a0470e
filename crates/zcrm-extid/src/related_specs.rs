//! The read and unlink calls as plain data ([`GetRelatedSpec`], [`DeleteRelatedSpec`]), filled field by field
//! from Python keyword arguments, a JS options object or CLI flags; every parse and check is the builders'.

use crate::error::InvalidInput;
use crate::external::XExternal;
use crate::names::{ModuleName, RelatedList};
use crate::related_delete::DeleteRelated;
use crate::related_get::GetRelated;
use crate::settings::ParentRef;

/// A "get related records" call as plain data.
///
/// ```
/// use zcrm_extid::related_specs::GetRelatedSpec;
/// use zcrm_extid::settings::ParentRef;
/// let spec = GetRelatedSpec {
///     module: "Contacts".into(),
///     parent: ParentRef::External { field: "External_Contact_ID".into(), value: "extcontact3".into() },
///     related_list: "Deals".into(),
///     fields: vec!["Deal_Name,Stage".into()],
///     ..GetRelatedSpec::default()
/// };
/// assert_eq!(spec.build()?.fields().len(), 2);
/// # Ok::<(), zcrm_extid::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRelatedSpec {
    /// Base module.
    pub module: String,
    /// Parent record.
    pub parent: ParentRef,
    /// Related list.
    pub related_list: String,
    /// Related module, if not the related list's name.
    pub related_module: Option<String>,
    /// The related module's external field naming related records (in `related` / `ids`); `None`: record ids.
    pub related_field: Option<String>,
    /// One related record (the single form).
    pub related: Option<String>,
    /// Only these related records.
    pub ids: Option<Vec<String>>,
    /// Fields to return; an entry may hold several names separated by `,` (`"Deal_Name,Stage"`).
    pub fields: Vec<String>,
    /// `page`.
    pub page: Option<u32>,
    /// `per_page`.
    pub per_page: Option<u32>,
    /// `page_token` (v7+).
    pub page_token: Option<String>,
    /// `If-Modified-Since` (ISO 8601 with a zone).
    pub if_modified_since: Option<String>,
}

impl Default for GetRelatedSpec {
    fn default() -> Self {
        GetRelatedSpec {
            module: String::new(),
            parent: ParentRef::Id(String::new()),
            related_list: String::new(),
            related_module: None,
            related_field: None,
            related: None,
            ids: None,
            fields: Vec::new(),
            page: None,
            per_page: None,
            page_token: None,
            if_modified_since: None,
        }
    }
}

impl GetRelatedSpec {
    /// The validated request (version rules aside: the client checks those when it sends).
    pub fn build(self) -> Result<GetRelated, InvalidInput> {
        let fields: Vec<String> = self
            .fields
            .iter()
            .flat_map(|f| f.split(','))
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect();
        let mut b = GetRelated::builder(self.module, self.parent.to_parent()?, self.related_list).fields(fields);
        if let Some(m) = self.related_module {
            b = b.related_module(m);
        }
        if let Some(f) = self.related_field {
            b = b.related_by_external(f);
        }
        if let Some(v) = self.related {
            b = b.related(v);
        }
        if let Some(ids) = self.ids {
            b = b.ids(ids);
        }
        if let Some(n) = self.page {
            b = b.page(n);
        }
        if let Some(n) = self.per_page {
            b = b.per_page(n);
        }
        if let Some(t) = self.page_token {
            b = b.page_token(t);
        }
        if let Some(t) = self.if_modified_since {
            b = b.if_modified_since(t);
        }
        b.build()
    }
}

/// A "delete related records" call as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRelatedSpec {
    /// Base module.
    pub module: String,
    /// Parent record.
    pub parent: ParentRef,
    /// Related list.
    pub related_list: String,
    /// Related module, if not the related list's name.
    pub related_module: Option<String>,
    /// The related module's external field naming the values; `None`: record ids.
    pub related_field: Option<String>,
    /// The related records to unlink (1 to 100).
    pub values: Vec<String>,
}

impl DeleteRelatedSpec {
    /// The validated request.
    pub fn build(self) -> Result<DeleteRelated, InvalidInput> {
        let mut b =
            DeleteRelated::builder(self.module, self.parent.to_parent()?, self.related_list).values(self.values);
        if let Some(m) = self.related_module {
            b = b.related_module(m);
        }
        if let Some(f) = self.related_field {
            b = b.related_by_external(f);
        }
        b.build()
    }
}

/// What an `X-EXTERNAL` text says about a read or unlink, as a curl command gives it: the base module's external
/// field (the path value is then an external value, else a record id) and the related module's (related values
/// are then external values, else record ids). Every pair must be a simple `Module.Field` for one of the two
/// modules (as [`crate::UpdateRelated::from_header`] requires).
///
/// ```
/// use zcrm_extid::related_specs::header_fields;
/// let (base, related) = header_fields("Contacts", "Deals", None, Some("Deals.External_Deal_ID,Contacts.External_Contact_ID"))?;
/// assert_eq!((base.as_deref(), related.as_deref()), (Some("External_Contact_ID"), Some("External_Deal_ID")));
/// assert!(header_fields("Contacts", "Deals", None, Some("Leads.X")).is_err());
/// # Ok::<(), zcrm_extid::InvalidInput>(())
/// ```
pub fn header_fields(
    module: &str,
    related_list: &str,
    related_module: Option<&str>,
    x_external: Option<&str>,
) -> Result<(Option<String>, Option<String>), InvalidInput> {
    let module = ModuleName::new(module)?;
    let related = match related_module {
        Some(m) => ModuleName::parse_as(m, "related_module")?,
        None => {
            ModuleName::new(RelatedList::new(related_list)?.as_str()).expect("a related list name is a module name")
        }
    };
    let (mut base, mut rel) = (None, None);
    let Some(text) = x_external else { return Ok((None, None)) };
    for pair in XExternal::parse(text)?.pairs() {
        if !pair.is_simple() {
            return Err(InvalidInput::new(
                "x_external",
                format!("{pair} is a lookup path; related records take Module.Field pairs only"),
            ));
        }
        if pair.module == module && pair.module == related {
            return Err(InvalidInput::new(
                "x_external",
                format!("the base and related module are both {module}: a pair could not say which side it addresses"),
            ));
        } else if pair.module == module {
            base = Some(pair.field.to_string());
        } else if pair.module == related {
            rel = Some(pair.field.to_string());
        } else {
            return Err(InvalidInput::new(
                "x_external",
                format!(
                    "{pair} names {}, which is neither the base module {module} nor the related module {related}",
                    pair.module
                ),
            ));
        }
    }
    Ok((base, rel))
}
