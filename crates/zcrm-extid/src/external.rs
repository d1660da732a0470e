//! The `X-EXTERNAL` header: built from typed references, parsed from text (the emulator uses this same parser).
//!
//! Grammar (spec §1.2, §2.4): a comma-separated list of pairs; optional spaces or tabs around each pair.
//!
//! ```text
//! header  = pair *( "," pair )
//! pair    = Module "." *( Field "." ) [ Field "->" Module "." ] Field
//! ```
//!
//! | pair | meaning |
//! |---|---|
//! | `Contacts.External_Contact_ID` | simple: Contacts records are addressed by that field |
//! | `Contacts.Account_Name.External_Account_ID` | lookup: the lookup's target is addressed by its external field |
//! | `Events.What_Id->Accounts.External_Account_ID` | multi-module lookup, target module named |
//!
//! Rules this crate enforces (Zoho leaves them undocumented, spec §11.5): no empty pair (`a,,b`, trailing comma);
//! no two pairs for the same *address* (module + lookup path), since the server could honour only one; pair
//! order is irrelevant for meaning but is kept, so `parse(build(x)) == x`.

use std::fmt;
use std::str::FromStr;

use crate::error::InvalidInput;
use crate::names::{FieldName, ModuleName};

/// One `Module.Field` (or lookup-path) pair of the header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalPair {
    /// The module the pair applies to (`Contacts` in `Contacts.External_Contact_ID`).
    pub module: ModuleName,
    /// Lookup fields between the module and the external field (`Account_Name` in
    /// `Contacts.Account_Name.External_Account_ID`); empty for a simple pair.
    pub lookups: Vec<FieldName>,
    /// For a multi-module lookup (`What_Id->Accounts...`), the target module.
    pub target: Option<ModuleName>,
    /// The external field itself.
    pub field: FieldName,
}

impl ExternalPair {
    /// A simple pair `module.field`.
    pub fn simple(module: ModuleName, field: FieldName) -> Self {
        ExternalPair { module, lookups: Vec::new(), target: None, field }
    }

    /// True for `Module.Field` (no lookup path).
    pub fn is_simple(&self) -> bool {
        self.lookups.is_empty() && self.target.is_none()
    }

    fn same_address(&self, other: &ExternalPair) -> bool {
        self.module == other.module && self.lookups == other.lookups && self.target == other.target
    }

    fn parse(text: &str) -> Result<ExternalPair, String> {
        if text.is_empty() {
            return Err("empty pair".into());
        }
        let (head, target_part) = match text.split_once("->") {
            Some((h, t)) => (h, Some(t)),
            None => (text, None),
        };
        let name = |s: &str| -> Result<(), String> {
            if FieldName::new(s).is_ok() { Ok(()) } else { Err(format!("{s:?} is not an API name")) }
        };
        let mut parts: Vec<&str> = head.split('.').collect();
        for p in &parts {
            name(p)?;
        }
        let module = ModuleName::new(parts.remove(0)).map_err(|e| e.message)?;
        match target_part {
            None => {
                let field = parts.pop().ok_or_else(|| format!("{text:?} has no field (expected Module.Field)"))?;
                Ok(ExternalPair {
                    module,
                    lookups: parts.into_iter().map(|p| FieldName::new(p).expect("checked")).collect(),
                    target: None,
                    field: FieldName::new(field).expect("checked"),
                })
            }
            Some(tail) => {
                if parts.is_empty() {
                    return Err(format!("{text:?}: `->` must follow a lookup field"));
                }
                let (target, field) =
                    tail.split_once('.').ok_or_else(|| format!("{text:?}: `->` must be followed by Module.Field"))?;
                name(target)?;
                name(field)?;
                Ok(ExternalPair {
                    module,
                    lookups: parts.into_iter().map(|p| FieldName::new(p).expect("checked")).collect(),
                    target: Some(ModuleName::new(target).expect("checked")),
                    field: FieldName::new(field).expect("checked"),
                })
            }
        }
    }
}

impl fmt::Display for ExternalPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.module)?;
        for l in &self.lookups {
            write!(f, ".{l}")?;
        }
        match &self.target {
            Some(t) => write!(f, "->{t}.{}", self.field),
            None => write!(f, ".{}", self.field),
        }
    }
}

/// A validated `X-EXTERNAL` header value: one or more pairs, no two for the same address.
///
/// ```
/// use zcrm_extid::XExternal;
/// let h: XExternal = "Contacts.External_Contact_ID, Deals.External_Deal_ID".parse().unwrap();
/// assert_eq!(h.to_string(), "Contacts.External_Contact_ID,Deals.External_Deal_ID");
/// assert_eq!(h.field_for("Deals").unwrap().as_str(), "External_Deal_ID");
/// assert!("Contacts.A,,Deals.B".parse::<XExternal>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct XExternal {
    pairs: Vec<ExternalPair>,
}

impl XExternal {
    /// The header from `pairs` (at least one; no two for the same address).
    pub fn new(pairs: Vec<ExternalPair>) -> Result<XExternal, InvalidInput> {
        if pairs.is_empty() {
            return Err(InvalidInput::new("x_external", "needs at least one Module.Field pair"));
        }
        for (i, p) in pairs.iter().enumerate() {
            if p.target.is_some() && p.lookups.is_empty() {
                return Err(InvalidInput::new(
                    "x_external",
                    format!("pair {p}: `->Module` must follow a lookup field"),
                ));
            }
            if let Some(q) = pairs[..i].iter().find(|q| q.same_address(p)) {
                let why = if q == p { "is given twice" } else { "conflicts with" };
                return Err(InvalidInput::new(
                    "x_external",
                    format!("pair {p} {why} {q}: one external field per module (or lookup path)"),
                ));
            }
        }
        Ok(XExternal { pairs })
    }

    /// Parses header text (see the module docs for the grammar).
    pub fn parse(text: &str) -> Result<XExternal, InvalidInput> {
        let mut pairs = Vec::new();
        for (i, raw) in text.split(',').enumerate() {
            let pair = ExternalPair::parse(raw.trim_matches([' ', '\t']))
                .map_err(|why| InvalidInput::new("x_external", format!("pair {} of {text:?}: {why}", i + 1)))?;
            pairs.push(pair);
        }
        XExternal::new(pairs)
    }

    /// The pairs, in header order.
    pub fn pairs(&self) -> &[ExternalPair] {
        &self.pairs
    }

    /// The external field of the simple pair for `module`, if the header names that module.
    pub fn field_for(&self, module: &str) -> Option<&FieldName> {
        self.pairs.iter().find(|p| p.is_simple() && p.module.as_str() == module).map(|p| &p.field)
    }
}

impl fmt::Display for XExternal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.pairs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl FromStr for XExternal {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        XExternal::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_forms_parse_and_print_back() {
        for text in [
            "Contacts.External_Contact_ID,Deals.External_Deal_ID",
            "Deals.External_Deal_ID",
            "Contacts.Account_Name.External_Account_ID",
            "Quotes.Product_Details.product.External_Product_ID",
            "Contacts.Subform_External.Deal_Lookup.External_Deal_ID",
            "Events.What_Id->Accounts.External_Account_ID",
            "Events.Participants.participant->Contacts.External_Contact_ID",
        ] {
            assert_eq!(XExternal::parse(text).unwrap().to_string(), text);
        }
        let h = XExternal::parse("Events.What_Id->Accounts.External_Account_ID").unwrap();
        let p = &h.pairs()[0];
        assert_eq!(
            (p.module.as_str(), p.lookups.len(), p.target.as_ref().unwrap().as_str()),
            ("Events", 1, "Accounts")
        );
        assert!(h.field_for("Events").is_none(), "a lookup pair does not address Events records");
    }

    #[test]
    fn whitespace_around_pairs_is_allowed() {
        let h = XExternal::parse("Contacts.External_Contact_ID, \tContacts.Account_Name.External_Account_ID ").unwrap();
        assert_eq!(h.pairs().len(), 2);
    }

    #[test]
    fn malformed_headers_are_rejected() {
        for bad in [
            "",
            " ",
            ",",
            "Contacts",
            "Contacts.",
            ".Field",
            "Contacts..F",
            "Contacts.F,",
            "A.B,,C.D",
            "Contacts.External Contact",
            "Contacts.F;Deals.G",
            "Events->Accounts.F",
            "Events.W->Accounts",
            "Events.W->Accounts.F->X.Y",
            "Contacts.F\r\nX: y",
            "Contacts.A,Contacts.A",
            "Contacts.A,Contacts.B",
        ] {
            let e = XExternal::parse(bad).unwrap_err();
            assert_eq!(e.argument, "x_external", "{bad:?}");
        }
        // Different addresses in one module are fine.
        assert!(XExternal::parse("Contacts.A,Contacts.Account_Name.B").is_ok());
    }
}
