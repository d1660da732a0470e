//! [`PreparedRequest`]: a request built, validated and ready to send, inspectable and printable as curl.

use std::fmt;

use crate::secret::Secret;

/// The HTTP methods this client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `Authorization` header's scheme for Zoho CRM.
pub const AUTH_SCHEME: &str = "Zoho-oauthtoken";

/// A request ready for the wire: method, URL, ordered headers, body.
///
/// The access token is held as a [`Secret`]: `Debug` and [`PreparedRequest::to_curl`] print `***` in its place.
#[derive(Clone, PartialEq, Eq)]
pub struct PreparedRequest {
    method: Method,
    url: String,
    token: Option<Secret>,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl PreparedRequest {
    /// A request with no token yet; `headers` are the non-secret headers, in order.
    pub fn new(method: Method, url: String, headers: Vec<(&'static str, String)>, body: Vec<u8>) -> Self {
        PreparedRequest { method, url, token: None, headers, body }
    }

    /// The same request carrying `token` in `Authorization: Zoho-oauthtoken <token>`.
    pub fn with_token(mut self, token: Secret) -> Self {
        self.token = Some(token);
        self
    }

    /// Replaces the token (after a refresh).
    pub fn set_token(&mut self, token: Secret) {
        self.token = Some(token);
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The full URL, path segments percent-encoded.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The body bytes (compact JSON for the CRM API).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (bodies built by this crate are UTF-8 JSON or form data).
    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("<binary>")
    }

    /// The headers as sent, `Authorization` first when a token is set. **Exposes the token**: use it to put the
    /// request on the wire, never to log it (use [`Self::redacted_headers`] for that).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        self.header_list(false)
    }

    /// The headers with the token replaced by `***`.
    pub fn redacted_headers(&self) -> Vec<(&'static str, String)> {
        self.header_list(true)
    }

    fn header_list(&self, redact: bool) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(self.headers.len() + 1);
        if let Some(t) = &self.token {
            let value = if redact { "***" } else { t.expose() };
            out.push(("Authorization", format!("{AUTH_SCHEME} {value}")));
        }
        out.extend(self.headers.iter().cloned());
        out
    }

    /// The request as a shell command, token redacted (always shown as `Zoho-oauthtoken ***`, set or not).
    /// Every argument is single-quoted, so the command is safe to paste whatever the values hold.
    ///
    /// ```
    /// use zcrm_extid::{Method, PreparedRequest, Secret};
    /// let r = PreparedRequest::new(Method::Put, "https://h/x".into(), vec![("X-EXTERNAL", "Deals.F".into())], b"{}".to_vec())
    ///     .with_token(Secret::new("1000.real"));
    /// let curl = r.to_curl();
    /// assert!(curl.contains("Zoho-oauthtoken ***") && !curl.contains("1000.real"));
    /// ```
    pub fn to_curl(&self) -> String {
        let mut s = format!("curl {} \\\n  -X {}", shell_quote(&self.url), self.method);
        s.push_str(&format!(" \\\n  -H {}", shell_quote(&format!("Authorization: {AUTH_SCHEME} ***"))));
        for (name, value) in &self.headers {
            s.push_str(&format!(" \\\n  -H {}", shell_quote(&format!("{name}: {value}"))));
        }
        if !self.body.is_empty() {
            s.push_str(&format!(" \\\n  --data-binary {}", shell_quote(self.body_str())));
        }
        s
    }
}

impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.redacted_headers())
            .field("body", &self.body_str())
            .finish()
    }
}

/// `'text'` with `'` written as `'\''`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_curl_never_show_the_token() {
        let r = PreparedRequest::new(Method::Put, "https://h/a'b".into(), vec![], b"{\"x\":\"it's\"}".to_vec())
            .with_token(Secret::new("tok-123"));
        assert!(!format!("{r:?}").contains("tok-123"));
        assert!(!r.to_curl().contains("tok-123"));
        assert_eq!(r.headers()[0], ("Authorization", "Zoho-oauthtoken tok-123".to_owned()));
        assert_eq!(r.redacted_headers()[0].1, "Zoho-oauthtoken ***");
        assert!(r.to_curl().starts_with(r"curl 'https://h/a'\''b'"));
        assert!(r.to_curl().ends_with(r#"--data-binary '{"x":"it'\''s"}'"#));
    }
}
