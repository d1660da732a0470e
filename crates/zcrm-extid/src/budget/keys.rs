//! Redis key names. Every key of an org is `zcrm:{<org>}:...`: the braces are a cluster hash tag, so one org's
//! keys live in one slot and the Lua scripts may touch them together. No key name holds a secret: the default org
//! name is a hash of the client id, the accounts server and the API domain, and a refresh token appears only as a
//! hash (`token:<sha256 prefix>`) naming whose access token a key holds.

use sha2::{Digest, Sha256};

/// The first 24 hex digits of `SHA-256(domain || 0 || parts joined by 0)`.
pub(crate) fn digest(domain: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update(domain.as_bytes());
    for p in parts {
        h.update([0u8]);
        h.update(p.as_bytes());
    }
    h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// The keys of one org (and one refresh token, for the token cache).
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    base: String,
    token: String,
}

impl Keys {
    /// Keys under `org`, the token keys for the refresh token hashed as `token_id`.
    pub(crate) fn new(org: &str, token_id: &str) -> Keys {
        let base = format!("zcrm:{{{org}}}");
        Keys { token: format!("{base}:token:{token_id}"), base }
    }

    /// `zcrm:{org}:name`.
    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.base)
    }

    /// The access token (a string with an expiry equal to the token's remaining lifetime).
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// `token:<id>:name`: the refresh lock, the grant log, a remembered refusal.
    pub(crate) fn token_part(&self, name: &str) -> String {
        format!("{}:{name}", self.token)
    }

    /// The pattern of every key of the org (for status and tests).
    pub(crate) fn pattern(&self) -> String {
        format!("{}:*", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hold_no_input_and_are_stable() {
        let d = digest("zcrm-org", &["1000.CLIENT", "https://accounts.zoho.eu"]);
        assert_eq!(d.len(), 24);
        assert_eq!(d, digest("zcrm-org", &["1000.CLIENT", "https://accounts.zoho.eu"]));
        assert_ne!(d, digest("zcrm-org", &["1000.CLIENT", "https://accounts.zoho.com"]));
        assert_ne!(digest("a", &["bc"]), digest("a", &["b", "c"]), "parts are separated");
        let k = Keys::new(&d, &digest("zcrm-refresh", &["1000.secret.refresh"]));
        assert!(k.token().starts_with(&format!("zcrm:{{{d}}}:token:")));
        assert!(!k.token_part("lock").contains("secret"));
    }
}
