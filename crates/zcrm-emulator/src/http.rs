//! A small HTTP/1.1 server on `std::net`: thread per connection, keep-alive, `Content-Length` and chunked
//! bodies, `Expect: 100-continue`, hard limits on every input, and one ability general-purpose servers do not
//! offer: answering a request by dropping the connection (a fault the emulator must be able to inject).
//!
//! Limits: request line 8 KiB, 100 headers of 8 KiB each, body [`Limits::max_body`] (10 MiB by default; larger
//! bodies get a Zoho-shaped 413; up to 64 MiB of such a body is read and discarded first, so the client, which
//! is usually still sending, sees the 413 rather than a reset), [`Limits::max_connections`] open connections (more are
//! closed on accept), and a read timeout on every socket read, so idle, slow or truncated clients cannot wedge it.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
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

/// Input limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body accepted.
    pub max_body: usize,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Timeout of each socket read (idle keep-alive connections are closed after it).
    pub read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_body: 10 << 20, max_connections: 4096, read_timeout: Duration::from_secs(30) }
    }
}

const MAX_LINE: usize = 8 << 10;
const MAX_HEADERS: usize = 100;
/// An oversized body up to this size is read and discarded before the 413 is written.
const DRAIN_CAP: usize = 64 << 20;

/// A running server; stops (and closes every connection) when dropped.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<HashMap<u64, TcpStream>>>,
    accept_thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    /// Binds `addr` and serves `handler` on a background thread.
    pub fn start(addr: SocketAddr, handler: Arc<dyn Handler>, limits: Limits) -> io::Result<Server> {
        Server::from_listener(TcpListener::bind(addr)?, handler, limits)
    }

    /// Serves `handler` on an already bound `listener` (so a caller can learn the port before serving, without
    /// releasing it in between).
    pub fn from_listener(listener: TcpListener, handler: Arc<dyn Handler>, limits: Limits) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<HashMap<u64, TcpStream>>> = Arc::default();
        let (stop2, conns2) = (stop.clone(), conns.clone());
        let accept_thread = thread::Builder::new()
            .name("zcrm-emulator-accept".into())
            .spawn(move || accept_loop(listener, handler, limits, stop2, conns2))?;
        Ok(Server { addr, stop, conns, accept_thread: Some(accept_thread) })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
        for (_, s) in self.conns.lock().unwrap_or_else(|p| p.into_inner()).drain() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    limits: Limits,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<HashMap<u64, TcpStream>>>,
) {
    let open = Arc::new(AtomicUsize::new(0));
    let next_id = AtomicU64::new(0);
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // EMFILE and friends: back off a little instead of spinning.
            thread::sleep(Duration::from_millis(5));
            continue;
        };
        if open.load(Ordering::SeqCst) >= limits.max_connections {
            let _ = stream.shutdown(Shutdown::Both);
            continue;
        }
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(clone) = stream.try_clone() {
            conns.lock().unwrap_or_else(|p| p.into_inner()).insert(id, clone);
        }
        open.fetch_add(1, Ordering::SeqCst);
        let (handler, open2, conns2) = (handler.clone(), open.clone(), conns.clone());
        let spawned = thread::Builder::new().name("zcrm-emulator-conn".into()).stack_size(512 << 10).spawn(move || {
            serve_connection(stream, &*handler, limits);
            conns2.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            open2.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            open.fetch_sub(1, Ordering::SeqCst);
            conns.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        }
    }
}

enum ReadError {
    /// Clean end of stream before a request started.
    Closed,
    /// I/O error or timeout: just close.
    Io,
    /// Malformed request: answer 400 and close.
    Bad(&'static str),
    /// Body over the limit: answer 413 (after reading away up to `drain` body bytes) and close.
    TooLarge { limit: usize, drain: usize },
}

fn serve_connection(stream: TcpStream, handler: &dyn Handler, limits: Limits) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(limits.read_timeout));
    let _ = stream.set_write_timeout(Some(limits.read_timeout));
    let Ok(write_half) = stream.try_clone() else { return };
    let mut writer = io::BufWriter::with_capacity(16 << 10, write_half);
    let mut reader = BufReader::with_capacity(16 << 10, stream);
    loop {
        match read_request(&mut reader, &mut writer, limits.max_body) {
            Ok((request, keep_alive)) => match handler.handle(request) {
                Reply::Respond(response) => {
                    if write_response(&mut writer, &response, keep_alive).is_err() || !keep_alive {
                        break;
                    }
                }
                Reply::Drop => break,
            },
            Err(ReadError::Closed | ReadError::Io) => break,
            Err(ReadError::Bad(why)) => {
                let body = zoho_error("INVALID_REQUEST", why, serde_json::json!({}));
                let _ = write_response(&mut writer, &Response::json(400, &body), false);
                break;
            }
            Err(ReadError::TooLarge { limit, drain }) => {
                drain_briefly(&mut reader, drain);
                let body = zoho_error(
                    "LIMIT_EXCEEDED",
                    "the request body is too large",
                    serde_json::json!({"limit": limit, "unit": "bytes"}),
                );
                let _ = write_response(&mut writer, &Response::json(413, &body), false);
                break;
            }
        }
    }
    let _ = reader.get_ref().shutdown(Shutdown::Both);
}

/// Reads and discards up to `n` (at most [`DRAIN_CAP`]) bytes for at most two seconds, so that a client still
/// sending an oversized body gets to read the 413 instead of a connection reset.
fn drain_briefly(reader: &mut BufReader<TcpStream>, n: usize) {
    if n == 0 || n > DRAIN_CAP {
        return;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let _ = reader.get_ref().set_read_timeout(Some(Duration::from_millis(200)));
    let mut left = n;
    let mut chunk = [0u8; 16 << 10];
    while left > 0 && std::time::Instant::now() < deadline {
        match reader.read(&mut chunk[..left.min(16 << 10)]) {
            Ok(0) => break,
            Ok(k) => left -= k,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => break,
            Err(_) => break,
        }
    }
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

fn read_request(
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
        413 => "Request Entity Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_response(writer: &mut impl Write, response: &Response, keep_alive: bool) -> io::Result<()> {
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
