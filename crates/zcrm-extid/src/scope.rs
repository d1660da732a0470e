//! OAuth scopes the related-records update needs (spec §1.1): `ZohoCRM.modules.all`, or
//! `ZohoCRM.modules.{module}.{ALL|WRITE|UPDATE}`. The emulator checks tokens with the same functions.

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

/// The hint the client adds to an `OAUTH_SCOPE_MISMATCH` error.
pub(crate) fn mismatch_hint(module: &str) -> String {
    let [all, m_all, m_write, m_update] = update_related_scopes(module);
    format!(
        "the access token needs one of {m_update}, {m_write}, {m_all} or {all}; generate a new grant with that scope"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants() {
        assert!(grants_update_related(&["ZohoCRM.modules.ALL"], "Deals"));
        assert!(grants_update_related(&["ZohoCRM.users.READ", "ZohoCRM.modules.deals.UPDATE"], "Deals"));
        assert!(!grants_update_related(&["ZohoCRM.modules.deals.READ"], "Deals"));
        assert!(!grants_update_related(&["ZohoCRM.modules.contacts.ALL"], "Deals"));
        assert!(!grants_update_related::<&str>(&[], "Deals"));
    }
}
