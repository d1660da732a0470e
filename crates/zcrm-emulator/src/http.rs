//! HTTP/1.1 messages for the emulator's server ([`crate::serve`]): requests with keep-alive, `Content-Length`
//! and chunked bodies, `Expect: 100-continue`, hard limits on every input, and responses; plus one ability
//! general-purpose servers do not offer: answering a request by dropping the connection (a fault the emulator
//! must be able to inject).
//!
//! Limits: request line 8 KiB, 100 headers of 8 KiB each, body [`Limits::max_body`] (10 MiB by default; larger
//! bodies get a Zoho-shaped 413; up to 64 MiB of such a body is read and discarded first, so the client, which
//! is usually still sending, sees the 413 rather than a reset). Time and connection limits: [`Limits`].

use std::io::{self, BufRead, Read, Write};
use std::time::Duration;

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method, as sent (`PUT`).
    pub method: String,
    /// The path, still percent-encoded (`/crm/v5/Contacts/a%2Fb/Deals`).
    pub path: String,
    /// The query string without `?` (may be empty).
    pub query: String,
    /// Headers, names lower-cased, values decoded as lossy UTF-8.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Query parameter `name`, percent-decoded (`+` is a space).
    pub fn query_param(&self, name: &str) -> Option<String> {
        parse_form(self.query.as_bytes()).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// A response to write.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status.
    pub status: u16,
    /// Extra headers (Content-Length is added).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json;charset=UTF-8".into())],
            body: serde_json::to_vec(value).expect("JSON serializes"),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// What a handler does with a request.
#[derive(Debug)]
pub enum Reply {
    /// Write this response.
    Respond(Response),
    /// Close the connection without a response.
    Drop,
}

/// Handles requests; called concurrently from connection threads.
pub trait Handler: Send + Sync + 'static {
    /// Answers `request`.
    fn handle(&self, request: Request) -> Reply;
}

/// Input limits and connection handling (see [`crate::serve`]).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body accepted.
    pub max_body: usize,
    /// Most connections open at once. At the cap, the connection idle (or stuck reading a request) the longest
    /// is closed to make room; if every connection is busy in a handler, the new one is answered 503 and closed.
    pub max_connections: usize,
    /// The whole request (request line, headers, body) must arrive within this time of its first byte, however
    /// it trickles in; otherwise it is answered 408 and the connection closed. Also the write timeout.
    pub request_timeout: Duration,
    /// A keep-alive connection (or a new one) with no request for this long is closed.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 10 << 20,
            max_connections: 1024,
            request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

pub(crate) const MAX_LINE: usize = 8 << 10;
const MAX_HEADERS: usize = 100;

pub use crate::serve::Server;

pub(crate) enum ReadError {
    /// Clean end of stream before a request started.
    Closed,
    /// I/O error or timeout: just close.
    Io,
    /// Malformed request: answer 400 and close.
    Bad(&'static str),
    /// Body over the limit: answer 413 (after reading away up to `drain` body bytes) and close.
    TooLarge { limit: usize, drain: usize },
}

/// `{"code","details","message","status":"error"}`.
pub fn zoho_error(code: &str, message: &str, details: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"code": code, "details": details, "message": message, "status": "error"})
}

fn read_line(reader: &mut impl BufRead, first: bool) -> Result<Vec<u8>, ReadError> {
    let mut line = Vec::new();
    let n = reader.by_ref().take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line).map_err(|_| ReadError::Io)?;
    if n == 0 {
        return Err(if first { ReadError::Closed } else { ReadError::Io });
    }
    if line.len() > MAX_LINE {
        return Err(ReadError::Bad("request line or header too long"));
    }
    if line.last() != Some(&b'\n') {
        return Err(ReadError::Io);
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(line)
}

pub(crate) fn read_request(
    reader: &mut impl BufRead,
    writer: &mut impl Write,
    max_body: usize,
) -> Result<(Request, bool), ReadError> {
    let mut line = read_line(reader, true)?;
    // Tolerate stray empty lines between pipelined requests (RFC 9112 §2.2).
    while line.is_empty() {
        line = read_line(reader, true)?;
    }
    let line = String::from_utf8(line).map_err(|_| ReadError::Bad("request line is not UTF-8"))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad("malformed request line"));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) || !target.starts_with('/') {
        return Err(ReadError::Bad("malformed request line"));
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(ReadError::Bad("unsupported HTTP version")),
    };
    let mut headers = Vec::new();
    loop {
        let h = read_line(reader, false)?;
        if h.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ReadError::Bad("too many headers"));
        }
        let colon = h.iter().position(|&b| b == b':').ok_or(ReadError::Bad("malformed header"))?;
        let name = String::from_utf8_lossy(&h[..colon]).trim().to_ascii_lowercase();
        if name.is_empty() || name.contains(' ') {
            return Err(ReadError::Bad("malformed header"));
        }
        let value = String::from_utf8_lossy(&h[colon + 1..]).trim().to_owned();
        headers.push((name, value));
    }
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.to_ascii_lowercase());
    let connection = get("connection").unwrap_or_default();
    let keep_alive = if http10 { connection.contains("keep-alive") } else { !connection.contains("close") };
    let chunked = get("transfer-encoding").is_some_and(|t| t.contains("chunked"));
    let length = match get("content-length") {
        Some(v) if !chunked => Some(v.trim().parse::<usize>().map_err(|_| ReadError::Bad("invalid Content-Length"))?),
        _ => None,
    };
    if let Some(n) = length.filter(|n| *n > max_body) {
        // A client that asked `Expect: 100-continue` sends nothing more; others are probably sending the body.
        let drain = if get("expect").is_some_and(|e| e == "100-continue") { 0 } else { n };
        return Err(ReadError::TooLarge { limit: max_body, drain });
    }
    if get("expect").is_some_and(|e| e == "100-continue") {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").and_then(|_| writer.flush()).map_err(|_| ReadError::Io)?;
    }
    let body = if chunked {
        read_chunked(reader, max_body)?
    } else {
        let n = length.unwrap_or(0);
        let mut body = vec![0; n];
        reader.read_exact(&mut body).map_err(|_| ReadError::Io)?;
        body
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target.to_owned(), String::new()),
    };
    let path = path.split('#').next().unwrap_or("").to_owned();
    Ok((Request { method: method.to_owned(), path, query, headers, body }, keep_alive))
}

fn read_chunked(reader: &mut impl BufRead, max_body: usize) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, false)?;
        let text = std::str::from_utf8(&line).map_err(|_| ReadError::Bad("malformed chunk size"))?;
        let size_text = text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| ReadError::Bad("malformed chunk size"))?;
        if size == 0 {
            // Trailers until an empty line.
            while !read_line(reader, false)?.is_empty() {}
            return Ok(body);
        }
        if body.len().saturating_add(size) > max_body {
            return Err(ReadError::TooLarge { limit: max_body, drain: 0 });
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).map_err(|_| ReadError::Io)?;
        if !read_line(reader, false)?.is_empty() {
            return Err(ReadError::Bad("malformed chunk"));
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        207 => "Multi-Status",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Request Entity Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

pub(crate) fn write_response(writer: &mut impl Write, response: &Response, keep_alive: bool) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", response.status, reason(response.status));
    for (n, v) in &response.headers {
        // Never let a header value break the framing.
        let v: String = v.chars().filter(|c| !matches!(c, '\r' | '\n' | '\0')).collect();
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    let no_body = response.status == 204 || response.status == 304 || (100..200).contains(&response.status);
    if !no_body {
        head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes())?;
    if !no_body {
        writer.write_all(&response.body)?;
    }
    writer.flush()
}

/// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space); invalid UTF-8 is decoded lossily.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| percent_decode(&s.replace('+', " "));
            (dec(k), dec(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}
