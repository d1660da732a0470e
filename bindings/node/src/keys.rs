//! Option objects are checked for keys they do not know: a misspelled option (`parentColum`) is an
//! `INVALID_INPUT` naming it (and the key it probably meant), never silently ignored.
//!
//! Each `#[napi(object)]` struct read from JS lists its fields with [`known_keys!`], which also destructures the
//! struct with every listed field and no `..`: a field added to the struct and not to the list (or listed and
//! not a field) fails to compile. The JS names are the fields' camelCase, as napi names them.

use napi::bindgen_prelude::*;
use zcrm_extid::InvalidInput;

/// The fields of a JS options object, in snake_case (see [`known_keys!`]).
pub trait Keys {
    /// Field names, snake_case.
    const FIELDS: &'static [&'static str];
}

/// `impl Keys` for a struct, checked against its fields at compile time:
/// `known_keys!(LinkManyOptions<'a> { parent, related, ... })`.
macro_rules! known_keys {
    ($name:ident $(<$lt:lifetime>)? { $($field:ident),* $(,)? }) => {
        impl $(<$lt>)? crate::keys::Keys for $name $(<$lt>)? {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }
        const _: () = {
            // Fails to compile unless the list is exactly the struct's fields.
            #[allow(dead_code)]
            fn every_field_is_listed $(<$lt>)? (value: $name $(<$lt>)?) {
                let $name { $($field: _),* } = value;
            }
        };
    };
}

/// `related_list` -> `relatedList`.
pub fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Edit distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb)).min(row[j] + 1).min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The first key of `object` that is not one of `fields` (camelCased), as an `INVALID_INPUT` naming it.
pub fn check(object: &Object, fields: &[&[&str]], argument: &str) -> std::result::Result<(), InvalidInput> {
    let known: Vec<String> = fields.iter().flat_map(|f| f.iter()).map(|f| camel(f)).collect();
    let keys = Object::keys(object).map_err(|e| InvalidInput::new(argument, e.reason))?;
    for key in keys {
        if known.contains(&key) {
            continue;
        }
        let near = known.iter().map(|k| (distance(&key.to_ascii_lowercase(), &k.to_ascii_lowercase()), k)).min();
        let hint = match near {
            Some((d, k)) if d <= 2 || k.eq_ignore_ascii_case(&key) => {
                format!(" (did you mean {k:?}?)")
            }
            _ => format!(" (known: {})", known.join(", ")),
        };
        return Err(InvalidInput::new(argument, format!("has no option {key:?}{hint}")).field(key));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_distances() {
        assert_eq!(camel("parent_column"), "parentColumn");
        assert_eq!(camel("signal"), "signal");
        assert_eq!(distance("parentColum", "parentColumn"), 1);
        assert_eq!(distance("", "abc"), 3);
    }
}
