//! Validated names and values: a value of these types is known good, so nothing built from it can be malformed.
//!
//! | type | rule |
//! |---|---|
//! | [`ModuleName`], [`FieldName`], [`RelatedList`] | Zoho API-name grammar `^[A-Za-z_][A-Za-z0-9_]*$` |
//! | [`RecordId`] | one or more ASCII digits (Zoho ids exceed 2^53: always strings, never numbers) |
//! | [`ExternalValue`] | any non-empty Unicode string of at most [`MAX_EXTERNAL_VALUE_CHARS`] characters (it is percent-encoded into the URL, see [`crate::url`]) |
//!
//! Lengths (spec §11.15: Zoho documents no maximum for external values): an external field is a custom
//! single-line field (§2.8), and Zoho's single-line fields hold at most 255 characters, so a longer value can
//! only be refused by the server (or, at 70,000 characters, by its front end as a URI too long). The client
//! refuses it first, as `INVALID_INPUT` naming the value. Other text in a record is capped at
//! [`MAX_TEXT_CHARS`] (Zoho's largest text field, multi-line "large").
//! Names are compared case-sensitively (`Contacts` is not `contacts`): Zoho documents API names in one
//! spelling and never promises case folding, so the client sends exactly what it is given.

use std::fmt;
use std::str::FromStr;

use crate::error::InvalidInput;

/// The longest external value accepted (characters): a single-line field's maximum. See the module docs.
pub const MAX_EXTERNAL_VALUE_CHARS: usize = 255;

/// The longest text value accepted in a record (characters). See the module docs.
pub const MAX_TEXT_CHARS: usize = 32_000;

pub(crate) fn is_api_name(s: &str) -> bool {
    // ASCII only, so bytes are characters.
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn check_api_name(value: &str, argument: &str) -> Result<(), InvalidInput> {
    if value.is_empty() {
        return Err(InvalidInput::new(argument, "must not be empty"));
    }
    if !is_api_name(value) {
        return Err(InvalidInput::new(
            argument,
            format!("{value:?} is not a Zoho API name (letters, digits and `_`, not starting with a digit)"),
        ));
    }
    Ok(())
}

macro_rules! validated_string {
    ($(#[$doc:meta])* $name:ident, $argument:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Validates `value`; a bad one is an [`InvalidInput`] error naming the argument `", $argument, "`.")]
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
                let value = value.into();
                let check: fn(&str, &str) -> Result<(), InvalidInput> = $check;
                check(&value, $argument)?;
                Ok($name(value))
            }

            /// Like [`Self::new`], but an error names `argument` (e.g. `"related_module"`) instead of the default.
            pub fn parse_as(value: impl Into<String>, argument: &str) -> Result<Self, InvalidInput> {
                Self::new(value).map_err(|e| e.with_argument(argument))
            }

            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidInput;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidInput;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

validated_string!(
    /// A module's API name, e.g. `Contacts`, `Price_Books`, `Appointments__s`.
    ///
    /// ```
    /// use zcrm_extid::ModuleName;
    /// assert!(ModuleName::new("Contacts").is_ok());
    /// let err = ModuleName::new("Contacts/../Leads").unwrap_err();
    /// assert_eq!(err.argument, "module");
    /// ```
    ModuleName,
    "module",
    check_api_name
);

validated_string!(
    /// A field's API name, e.g. `External_Contact_ID`, `Contact_Role`, `id`.
    FieldName,
    "field",
    check_api_name
);

validated_string!(
    /// A related list's API name, e.g. `Deals` on Contacts.
    RelatedList,
    "related_list",
    check_api_name
);

validated_string!(
    /// A Zoho record id: ASCII digits only, e.g. `111111000000085009`.
    ///
    /// ```
    /// use zcrm_extid::RecordId;
    /// assert!(RecordId::new("111111000000085009").is_ok());
    /// assert!(RecordId::new("extcontact3").is_err());
    /// ```
    RecordId,
    "record_id",
    |value, argument| {
        if value.is_empty() {
            Err(InvalidInput::new(argument, "must not be empty"))
        } else if !value.bytes().all(|b| b.is_ascii_digit()) {
            Err(InvalidInput::new(
                argument,
                format!("{value:?} is not a Zoho record id (digits only)"),
            ))
        } else {
            Ok(())
        }
    }
);

validated_string!(
    /// The value of an external field, e.g. `extcontact3`. Any non-empty Unicode text: `/`, `?`, `#`, `%`,
    /// spaces and emoji are all fine, because [`crate::url`] puts it in the path as one percent-encoded segment.
    ///
    /// ```
    /// use zcrm_extid::ExternalValue;
    /// assert!(ExternalValue::new("ERP/2024#17 ü").is_ok());
    /// assert!(ExternalValue::new("").is_err());
    /// ```
    ExternalValue,
    "external_value",
    |value, argument| {
        if value.is_empty() {
            Err(InvalidInput::new(argument, "must not be empty"))
        } else if value.chars().nth(MAX_EXTERNAL_VALUE_CHARS).is_some() {
            Err(InvalidInput::new(
                argument,
                format!(
                    "has {} characters; an external field holds at most {MAX_EXTERNAL_VALUE_CHARS}",
                    value.chars().count()
                ),
            ))
        } else {
            Ok(())
        }
    }
);

impl FieldName {
    /// The `id` field, which keys related records when no external field is used.
    pub fn id() -> FieldName {
        FieldName("id".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_values_longer_than_a_single_line_field_are_refused_by_name() {
        assert!(ExternalValue::new("é".repeat(MAX_EXTERNAL_VALUE_CHARS)).is_ok(), "characters, not bytes");
        let e = ExternalValue::parse_as("x".repeat(10_000), "parent.value").unwrap_err();
        assert_eq!(e.argument, "parent.value");
        assert!(e.message.contains("10000 characters") && e.message.contains("255"), "{}", e.message);
        // What a 70,000-character value used to become: a front end's "URI too long" instead of a typed error.
        assert!(crate::Parent::external("External_Contact_ID", "y".repeat(70_000)).is_err());
    }

    #[test]
    fn api_name_grammar() {
        for ok in ["Contacts", "_x", "Appointments__s", "a1", "A"] {
            assert!(ModuleName::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1a", "Con tacts", "a-b", "a.b", "a/b", "Contacts\n", "Kontakté"] {
            assert!(ModuleName::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn errors_name_the_argument() {
        assert_eq!(RelatedList::new("x y").unwrap_err().argument, "related_list");
        assert_eq!(FieldName::parse_as("", "parent.field").unwrap_err().argument, "parent.field");
        let e = RecordId::new("12a").unwrap_err();
        assert_eq!(e.to_string(), "invalid record_id: \"12a\" is not a Zoho record id (digits only)");
    }
}
