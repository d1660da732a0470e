//! A plan for people: the summary ([`Plan::summary_text`]) and the diff, one line per change
//! ([`Plan::write_diff`]). Values are shown as JSON, with control and invisible characters escaped
//! ([`crate::redact::escape_text`]), so data cannot forge lines or move the terminal's cursor.
//!
//! ```text
//! Plan: Contacts.External_Contact_ID -> Deals.External_Deal_ID (Contact_Role); unlink missing: yes
//!   parents: 3 in the input, 3 read in 3 calls, 2 with changes
//!   links now: 5; desired rows: 6
//!   + 1 to link
//!   ~ 1 to update
//!   - 1 to unlink (max_unlinks 50%: 2 allowed)
//!   = 4 unchanged
//! ```
//!
//! ```text
//! + c1  d3  Contact_Role="buyer"
//! ~ c1  d1  Contact_Role: {"id":"seller"} -> "buyer"
//! - c2  d9
//! ```

use std::fmt::Write as _;
use std::io::{self, Write};

use serde_json::Value;

use super::model::{ChangeKind, Plan};
use crate::redact::escape_text;

fn n(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn show(v: &Value) -> String {
    escape_text(&v.to_string()).into_owned()
}

impl Plan {
    /// The plan's totals, a few lines of text (see the module docs).
    pub fn summary_text(&self) -> String {
        let s = &self.summary;
        let spec = &self.spec;
        let fields: Vec<&str> = spec.fields().iter().map(|f| f.as_str()).collect();
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Plan: {} -> {}{}; unlink missing: {}",
            spec.parent_text(),
            spec.related_text(),
            if fields.is_empty() { String::new() } else { format!(" ({})", fields.join(", ")) },
            if self.unlink_missing { "yes" } else { "no" }
        );
        let _ = writeln!(
            t,
            "  parents: {} in the input, {} read in {} calls, {} with changes{}",
            n(s.parents),
            n(s.parents - s.parents_failed),
            n(s.read_calls),
            n(s.parents_changed),
            if s.parents_failed > 0 {
                format!("; {} could not be read (nothing planned for them)", n(s.parents_failed))
            } else {
                String::new()
            }
        );
        let _ = writeln!(t, "  links now: {}; desired rows: {}", n(s.current_links), n(s.rows - s.invalid_rows));
        let _ = writeln!(t, "  + {} to link", n(s.links));
        let _ = writeln!(t, "  ~ {} to update", n(s.updates));
        let guard = match (self.max_unlinks, self.unlinks_allowed()) {
            (Some(m), Some(allowed)) if s.unlinks > allowed => {
                format!(" (max_unlinks {m}: {} allowed; the plan will NOT be applied)", n(allowed))
            }
            (Some(m), Some(allowed)) => format!(" (max_unlinks {m}: {} allowed)", n(allowed)),
            _ => String::new(),
        };
        let _ = writeln!(t, "  - {} to unlink{guard}", n(s.unlinks));
        let _ = writeln!(t, "  = {} unchanged", n(s.unchanged));
        if s.duplicate_rows > 0 {
            let _ = writeln!(t, "  {} duplicate rows (the later row of a pair wins)", n(s.duplicate_rows));
        }
        if s.invalid_rows > 0 {
            let _ = writeln!(t, "  {} invalid rows (not planned):", n(s.invalid_rows));
            for r in self.invalid.iter().take(5) {
                let _ = writeln!(t, "    row {}: {}: {}", r.row, escape_text(&r.location), escape_text(&r.message));
            }
            if self.invalid.len() > 5 {
                let _ = writeln!(t, "    ...");
            }
        }
        if s.withheld_unlinks > 0 {
            let _ = writeln!(
                t,
                "  {} unlinks withheld because of the invalid rows (fix or drop them, then plan again)",
                n(s.withheld_unlinks)
            );
        }
        t
    }

    /// Writes one line per change (see the module docs), and one per parent that could not be read.
    pub fn write_diff(&self, w: &mut dyn Write) -> io::Result<()> {
        for p in &self.parents {
            let parent = escape_text(p.parent.path_value());
            if let Some(e) = &p.error {
                writeln!(w, "! {parent}  could not be read: {} {}", e.code, escape_text(&e.message))?;
            }
            for c in &p.changes {
                let key = escape_text(&c.label()).into_owned();
                let detail: Vec<String> = match c.kind {
                    ChangeKind::Link => c.fields.iter().map(|(f, v)| format!("{f}={}", show(v))).collect(),
                    ChangeKind::Update => c
                        .fields
                        .iter()
                        .filter(|(f, v)| !super::diff::same_value(v, c.before.get(f.as_str())))
                        .map(|(f, v)| {
                            format!("{f}: {} -> {}", show(c.before.get(f.as_str()).unwrap_or(&Value::Null)), show(v))
                        })
                        .collect(),
                    ChangeKind::Unlink => Vec::new(),
                };
                let sep = if detail.is_empty() { "" } else { "  " };
                writeln!(w, "{} {parent}  {key}{sep}{}", c.kind.mark(), detail.join("  "))?;
            }
        }
        Ok(())
    }

    /// [`Plan::write_diff`] as a string.
    pub fn diff_text(&self) -> String {
        let mut out = Vec::new();
        self.write_diff(&mut out).expect("writing to memory");
        String::from_utf8(out).expect("escaped text is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!([super::n(0), super::n(999), super::n(1000), super::n(1234567)], ["0", "999", "1,000", "1,234,567"]);
    }
}
