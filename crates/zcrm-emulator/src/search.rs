//! `GET /{M}/search?criteria=...` (spec §2.7): the criteria syntax, read by its own parser.
//!
//! ```text
//! criteria  = group
//! group     = "(" ( condition | group *( ("and" | "or") group ) ) ")"
//! condition = Field ":" operator ":" value *( "," value )     ; several values for `in` only
//! ```
//!
//! Operators: `equals`, `not_equal`, `starts_with`, `in`. In a value, `\` escapes the next character (Zoho:
//! "escape parentheses and commas"; Kaizen #82), so `\(`, `\)`, `\,` and `\\` are literal; a `:` is literal
//! (the field and the operator end at the first two). One group joins its parts with one kind of operator
//! (`and` or `or`, case-insensitive); mixing them needs nested parentheses *.
//!
//! Matching (choices marked *): a field's value compares as text (numbers and booleans by their JSON text,
//! lookups by their `id`), case-sensitively *; a record without the field matches nothing but `not_equal`.
//! Results are in id order, paged by `page`/`per_page` (max 200) with `info {per_page, count, page,
//! more_records}`; none -> 204. `fields` projects as for reads. No `criteria` -> 400 `REQUIRED_PARAM_MISSING`;
//! a criteria that does not parse -> 400 `INVALID_QUERY` with `details.reason` *.

use serde_json::{Map, Value, json};

use crate::api::error;
use crate::http::{Request, Response};
use crate::records::{paging, project, wanted_fields};
use crate::state::Org;
use crate::wire::is_api_name;

/// A parsed criteria.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criteria {
    /// `(Field:op:values)`.
    Condition {
        /// The field.
        field: String,
        /// The operator.
        op: String,
        /// The values, unescaped.
        values: Vec<String>,
    },
    /// Every part holds.
    And(Vec<Criteria>),
    /// Some part holds.
    Or(Vec<Criteria>),
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl Parser<'_> {
    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.chars.next() {
            Some(x) if x == c => Ok(()),
            Some(x) => Err(format!("expected {c:?}, found {x:?}")),
            None => Err(format!("expected {c:?} at the end")),
        }
    }

    fn group(&mut self) -> Result<Criteria, String> {
        self.expect('(')?;
        if self.chars.peek() != Some(&'(') {
            let c = self.condition()?;
            self.expect(')')?;
            return Ok(c);
        }
        let mut parts = vec![self.group()?];
        let mut joiner: Option<String> = None;
        while self.chars.peek() != Some(&')') {
            let word: String = std::iter::from_fn(|| self.chars.next_if(|c| c.is_ascii_alphabetic())).collect();
            let word = word.to_ascii_lowercase();
            if word != "and" && word != "or" {
                return Err(format!("expected `and` or `or` between groups, found {word:?}"));
            }
            if joiner.as_ref().is_some_and(|j| *j != word) {
                return Err("`and` and `or` in one group need parentheses".into());
            }
            joiner = Some(word);
            parts.push(self.group()?);
        }
        self.expect(')')?;
        Ok(match joiner.as_deref() {
            Some("or") => Criteria::Or(parts),
            _ => Criteria::And(parts),
        })
    }

    fn condition(&mut self) -> Result<Criteria, String> {
        let field: String = std::iter::from_fn(|| self.chars.next_if(|c| *c != ':' && *c != ')')).collect();
        if !is_api_name(&field) {
            return Err(format!("{field:?} is not a field API name"));
        }
        self.expect(':')?;
        let op: String = std::iter::from_fn(|| self.chars.next_if(|c| *c != ':' && *c != ')')).collect();
        if !matches!(op.as_str(), "equals" | "not_equal" | "starts_with" | "in") {
            return Err(format!("unknown operator {op:?}"));
        }
        self.expect(':')?;
        let mut values = vec![String::new()];
        loop {
            match self.chars.peek().copied() {
                None => return Err("the condition is not closed".into()),
                Some(')') => break,
                Some('\\') => {
                    self.chars.next();
                    let c = self.chars.next().ok_or("a `\\` at the end")?;
                    values.last_mut().expect("one").push(c);
                }
                Some(',') => {
                    self.chars.next();
                    values.push(String::new());
                }
                Some(c) => {
                    self.chars.next();
                    values.last_mut().expect("one").push(c);
                }
            }
        }
        if values.len() > 1 && op != "in" {
            return Err(format!("{op} takes one value (escape a comma in it as \\,)"));
        }
        Ok(Criteria::Condition { field, op, values })
    }
}

/// Parses a criteria (see the module docs).
pub fn parse_criteria(text: &str) -> Result<Criteria, String> {
    let mut p = Parser { chars: text.chars().peekable() };
    let c = p.group()?;
    match p.chars.next() {
        None => Ok(c),
        Some(x) => Err(format!("unexpected {x:?} after the criteria")),
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

impl Criteria {
    /// Whether `record` matches.
    pub fn matches(&self, record: &Map<String, Value>) -> bool {
        match self {
            Criteria::And(parts) => parts.iter().all(|p| p.matches(record)),
            Criteria::Or(parts) => parts.iter().any(|p| p.matches(record)),
            Criteria::Condition { field, op, values } => {
                let Some(have) = record.get(field).and_then(text_of) else { return op == "not_equal" };
                match op.as_str() {
                    "equals" | "in" => values.contains(&have),
                    "not_equal" => !values.contains(&have),
                    _ => values.iter().any(|v| have.starts_with(v.as_str())),
                }
            }
        }
    }
}

/// Handles the search (scope and header were checked by [`crate::records`]).
pub fn search(org: &Org, module: &str, request: &Request) -> Response {
    let Some(text) = request.query_param("criteria") else {
        return error(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({"param_name": "criteria"}),
        );
    };
    let criteria = match parse_criteria(&text) {
        Ok(c) => c,
        Err(reason) => {
            return error(
                400,
                "INVALID_QUERY",
                "invalid query formed",
                json!({"param_name": "criteria", "reason": reason}),
            );
        }
    };
    let (fields, (page, per_page)) = match (wanted_fields(request), paging(request, false)) {
        (Ok(f), Ok(p)) => (f, p),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let m = org.module(module).expect("checked");
    let found: Vec<&Map<String, Value>> = m.records().map(|(_, r)| r).filter(|r| criteria.matches(r)).collect();
    let rows: Vec<Value> =
        found.iter().skip((page - 1) * per_page).take(per_page).map(|r| project(r, fields.as_deref())).collect();
    if rows.is_empty() {
        return Response { status: 204, headers: vec![], body: vec![] };
    }
    let info =
        json!({"per_page": per_page, "count": rows.len(), "page": page, "more_records": page * per_page < found.len()});
    Response::json(200, &json!({"data": rows, "info": info}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(field: &str, op: &str, values: &[&str]) -> Criteria {
        Criteria::Condition {
            field: field.into(),
            op: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn the_documented_forms_and_escapes() {
        assert_eq!(
            parse_criteria("(External_Contact_ID:in:a,b)").unwrap(),
            cond("External_Contact_ID", "in", &["a", "b"])
        );
        assert_eq!(parse_criteria(r"(E:equals:Patricia\(Boyle\))").unwrap(), cond("E", "equals", &["Patricia(Boyle)"]));
        assert_eq!(
            parse_criteria("(Modified_Time:equals:2023-04-19T05:58:06+05:30)").unwrap(),
            cond("Modified_Time", "equals", &["2023-04-19T05:58:06+05:30"])
        );
        assert_eq!(parse_criteria(r"(E:in:a\,b,c\\)").unwrap(), cond("E", "in", &["a,b", r"c\"]));
        assert_eq!(
            parse_criteria("((A:equals:1)and(B:equals:2)AND(C:starts_with:x))").unwrap(),
            Criteria::And(vec![
                cond("A", "equals", &["1"]),
                cond("B", "equals", &["2"]),
                cond("C", "starts_with", &["x"])
            ])
        );
        for bad in [
            "",
            "(E:equals:a",
            "E:equals:a",
            "(E:like:a)",
            "(E:equals:a,b)",
            "((A:equals:1)and(B:equals:2)or(C:equals:3))",
            "(E:equals:a)x",
            "(E E:equals:a)",
        ] {
            assert!(parse_criteria(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn matching() {
        let r = json!({"E": "a,b", "N": 5, "L": {"id": "9", "name": "x"}}).as_object().unwrap().clone();
        assert!(parse_criteria(r"(E:equals:a\,b)").unwrap().matches(&r));
        assert!(parse_criteria("(N:equals:5)").unwrap().matches(&r));
        assert!(parse_criteria("(L:equals:9)").unwrap().matches(&r));
        assert!(parse_criteria("((E:equals:zz)or(N:in:4,5))").unwrap().matches(&r));
        assert!(parse_criteria("(Missing:not_equal:1)").unwrap().matches(&r));
        assert!(!parse_criteria("(Missing:equals:1)").unwrap().matches(&r));
    }
}
