//! OAuth scopes (spec §1.1, §2, §3): a call on a module needs `ZohoCRM.modules.all`, or
//! `ZohoCRM.modules.{module}.{op}` with an operation type that covers it: `ALL`, `WRITE` and `UPDATE` for
//! updates (the related-records update), `ALL` and `READ` for reads, `ALL`, `WRITE` and `DELETE` for deletes,
//! `ALL`, `WRITE` and `CREATE` for inserts. The client uses them for the hint of an `OAUTH_SCOPE_MISMATCH`.

/// The kind of access a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeOp {
    /// Reading records or related records (`READ`).
    Read,
    /// Creating records (`CREATE`).
    Create,
    /// Updating records or related records (`UPDATE`).
    Update,
    /// Deleting records or relations (`DELETE`).
    Delete,
    /// Upserting records: creates or updates, so `WRITE` (or `ALL`).
    Write,
    /// Searching records: `READ` (or `ALL`) on the module, and also `ZohoSearch.securesearch.READ` (spec §2.7).
    Search,
}

impl ScopeOp {
    /// The operation types that grant this access, broadest first (`ALL` first).
    pub fn operation_types(self) -> &'static [&'static str] {
        match self {
            ScopeOp::Read | ScopeOp::Search => &["ALL", "READ"],
            ScopeOp::Create => &["ALL", "WRITE", "CREATE"],
            ScopeOp::Update => &["ALL", "WRITE", "UPDATE"],
            ScopeOp::Delete => &["ALL", "WRITE", "DELETE"],
            ScopeOp::Write => &["ALL", "WRITE"],
        }
    }
}

/// The scopes, any one of which grants `op` on `module`, broadest first.
///
/// ```
/// use zcrm_extid::scope::{ScopeOp, scopes_for};
/// assert_eq!(scopes_for("Deals", ScopeOp::Read), ["ZohoCRM.modules.all", "ZohoCRM.modules.deals.ALL", "ZohoCRM.modules.deals.READ"]);
/// ```
pub fn scopes_for(module: &str, op: ScopeOp) -> Vec<String> {
    let m = module_scope_name(module);
    std::iter::once("ZohoCRM.modules.all".to_owned())
        .chain(op.operation_types().iter().map(|t| format!("ZohoCRM.modules.{m}.{t}")))
        .collect()
}

/// The scope name of a module: lower case, without the `__s` suffix of system modules and without `_`
/// (`Price_Books` -> `pricebooks`, `Appointments__s` -> `appointments`), as the docs list them.
///
/// ```
/// assert_eq!(zcrm_extid::scope::module_scope_name("Price_Books"), "pricebooks");
/// assert_eq!(zcrm_extid::scope::module_scope_name("Appointments__s"), "appointments");
/// ```
pub fn module_scope_name(module: &str) -> String {
    let m = module.strip_suffix("__s").unwrap_or(module);
    m.chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect()
}

/// The scopes, any one of which lets a token update `module`'s related records, broadest first.
///
/// ```
/// assert_eq!(zcrm_extid::scope::update_related_scopes("Contacts"), [
///     "ZohoCRM.modules.all", "ZohoCRM.modules.contacts.ALL",
///     "ZohoCRM.modules.contacts.WRITE", "ZohoCRM.modules.contacts.UPDATE",
/// ]);
/// ```
pub fn update_related_scopes(module: &str) -> [String; 4] {
    let m = module_scope_name(module);
    [
        "ZohoCRM.modules.all".to_owned(),
        format!("ZohoCRM.modules.{m}.ALL"),
        format!("ZohoCRM.modules.{m}.WRITE"),
        format!("ZohoCRM.modules.{m}.UPDATE"),
    ]
}

/// Whether a token holding `granted` scopes may update `module`'s related records. Scope names compare
/// case-insensitively (Zoho's own pages write both `ZohoCRM.modules.ALL` and `ZohoCRM.modules.all`).
pub fn grants_update_related<S: AsRef<str>>(granted: &[S], module: &str) -> bool {
    let needed = update_related_scopes(module);
    granted.iter().any(|g| needed.iter().any(|n| n.eq_ignore_ascii_case(g.as_ref().trim())))
}

/// The hint the client adds to an `OAUTH_SCOPE_MISMATCH` error: the scopes the call needs, narrowest first.
pub(crate) fn mismatch_hint(module: &str, op: ScopeOp) -> String {
    let mut scopes = scopes_for(module, op);
    scopes.reverse();
    let last = scopes.pop().expect("at least ZohoCRM.modules.all");
    let search = if op == ScopeOp::Search { ", and ZohoSearch.securesearch.READ" } else { "" };
    format!(
        "the access token needs one of {} or {last}{search}; generate a new grant with that scope",
        scopes.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_lists_the_scopes_of_the_operation() {
        assert_eq!(
            mismatch_hint("Contacts", ScopeOp::Update),
            "the access token needs one of ZohoCRM.modules.contacts.UPDATE, ZohoCRM.modules.contacts.WRITE, ZohoCRM.modules.contacts.ALL or ZohoCRM.modules.all; generate a new grant with that scope"
        );
        assert!(
            mismatch_hint("Deals", ScopeOp::Search).contains("ZohoCRM.modules.all, and ZohoSearch.securesearch.READ;")
        );
        assert!(
            mismatch_hint("Deals", ScopeOp::Read)
                .starts_with("the access token needs one of ZohoCRM.modules.deals.READ,")
        );
    }

    #[test]
    fn grants() {
        assert!(grants_update_related(&["ZohoCRM.modules.ALL"], "Deals"));
        assert!(grants_update_related(&["ZohoCRM.users.READ", "ZohoCRM.modules.deals.UPDATE"], "Deals"));
        assert!(!grants_update_related(&["ZohoCRM.modules.deals.READ"], "Deals"));
        assert!(!grants_update_related(&["ZohoCRM.modules.contacts.ALL"], "Deals"));
        assert!(!grants_update_related::<&str>(&[], "Deals"));
    }
}
