//! Shared helpers of the emulator's integration suites: a raw HTTP/1.1 client on `std::net::TcpStream` (so the
//! suites control every byte: no Content-Type unless asked, PATCH, malformed requests, pipelining), the seed
//! page's constants, Zoho error assertions, and a parallel-call driver.
#![allow(dead_code)] // each suite uses a different subset

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zcrm_emulator::{Emulator, EmulatorConfig};

/// The seed page's access token (in the default seed; never expires).
pub const TOKEN: &str = "1000.8cb99dxxxxxxxxxxxxx9be93.9b8xxxxxxxxxxxxxxxf";
/// Contact `extcontact3`.
pub const CONTACT: &str = "111111000000085009";
/// Deal `extdeal3`.
pub const DEAL3: &str = "111111000000094028";
/// Deal `extdeal2`.
pub const DEAL2: &str = "111111000000094040";
/// The seed page's `Contact_Role`.
pub const ROLE: &str = "111111000000026002";
/// Case A's header.
pub const BOTH: &str = "Contacts.External_Contact_ID,Deals.External_Deal_ID";
/// Case A's path (v5).
pub const CASE_A: &str = "/crm/v5/Contacts/extcontact3/Deals";
/// The seed page's exact sample response (Cases A and B).
pub const SAMPLE_RESPONSE: &str = r#"{"data":[{"code":"SUCCESS","details":{"External_Deal_ID":"extdeal3","id":"111111000000094028"},"message":"relation added","status":"success"}]}"#;

/// Socket timeouts of the raw client: generous, only there so a broken emulator fails a test instead of hanging it.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// An emulator with the default config.
pub fn start() -> Emulator {
    Emulator::start(EmulatorConfig::default()).expect("emulator starts")
}

/// An emulator with `config`.
pub fn start_with(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).expect("emulator starts")
}

/// `127.0.0.1:{port}`.
pub fn addr(emu: &Emulator) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], emu.port()))
}

/// The seed page's body for Cases A and B.
pub fn sample_body() -> Value {
    json!({"data": [{"External_Deal_ID": "extdeal3", "Contact_Role": ROLE}]})
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status.
    pub status: u16,
    /// Headers as received.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Resp {
    /// The first header named `name`, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (panics with the body text if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("status {} body is not JSON ({e}): {:?}", self.status, self.text()))
    }

    /// `data[i]` of a bulk response.
    pub fn item(&self, i: usize) -> Value {
        self.json()["data"][i].clone()
    }
}

/// Parses one response from the start of `buf`: `Some((response, bytes used))`, or `None` if incomplete.
/// The emulator always frames bodies with Content-Length (none for 1xx and 204).
pub fn parse_response(buf: &[u8]) -> Option<(Resp, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).expect("response head is UTF-8");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let mut parts = status_line.splitn(3, ' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"), "status line {status_line:?}");
    let status: u16 = parts.next().and_then(|s| s.parse().ok()).expect("numeric status");
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap_or_else(|| panic!("header line {l:?}"));
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let length = if (100..200).contains(&status) || status == 204 || status == 304 {
        0
    } else {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse::<usize>().expect("numeric Content-Length"))
            .expect("the emulator always sends Content-Length")
    };
    let start = end + 4;
    if buf.len() < start + length {
        return None;
    }
    Some((Resp { status, headers, body: buf[start..start + length].to_vec() }, start + length))
}

/// Builds a request: `Host` first, then `headers`, then `Content-Length` when there is a body (or the method
/// usually has one). No Content-Type is added.
pub fn request_bytes(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "PUT" | "POST" | "PATCH") {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// One client connection with a read buffer (for keep-alive and pipelining).
pub struct Conn {
    /// The socket.
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to the emulator.
    pub fn open(emu: &Emulator) -> Conn {
        Conn::open_addr(addr(emu))
    }

    /// Connects to `addr`.
    pub fn open_addr(addr: SocketAddr) -> Conn {
        Conn::from_stream(TcpStream::connect(addr).expect("connect"))
    }

    /// Wraps a connected stream.
    pub fn from_stream(stream: TcpStream) -> Conn {
        stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
        stream.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
        Conn { stream, buf: Vec::new() }
    }

    /// Writes raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
        self.stream.flush().expect("flush");
    }

    /// Reads more bytes into the buffer; 0 at EOF (a reset counts as EOF).
    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 16 << 10];
        match self.stream.read(&mut chunk) {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                n
            }
            Err(e) if e.kind() == ErrorKind::ConnectionReset => 0,
            Err(e) => panic!("read failed ({e}); buffered: {:?}", String::from_utf8_lossy(&self.buf)),
        }
    }

    /// Reads the next complete response (panics on EOF before one).
    pub fn response(&mut self) -> Resp {
        loop {
            if let Some((resp, used)) = parse_response(&self.buf) {
                self.buf.drain(..used);
                return resp;
            }
            if self.fill() == 0 {
                panic!("connection closed before a complete response; got {:?}", String::from_utf8_lossy(&self.buf));
            }
        }
    }

    /// Reads until EOF; returns the bytes that came (buffered ones included).
    pub fn read_to_eof(&mut self) -> Vec<u8> {
        while self.fill() > 0 {}
        std::mem::take(&mut self.buf)
    }

    /// True if the peer closed the connection with nothing more to read.
    pub fn at_eof(&mut self) -> bool {
        self.buf.is_empty() && self.fill() == 0
    }
}

/// Sends raw bytes on a fresh connection and returns everything the emulator sends back before closing.
pub fn send_raw(emu: &Emulator, bytes: &[u8]) -> Vec<u8> {
    let mut c = Conn::open(emu);
    c.send(bytes);
    c.read_to_eof()
}

/// One request on a fresh connection (`Connection: close`).
pub fn call(emu: &Emulator, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("Connection", "close"));
    let mut c = Conn::open(emu);
    c.send(&request_bytes(method, path, &all, body));
    c.response()
}

/// The `Authorization` value for `token`.
pub fn bearer(token: &str) -> String {
    format!("Zoho-oauthtoken {token}")
}

/// A CRM API request with `token` and an optional `X-EXTERNAL`.
pub fn api_as(emu: &Emulator, token: &str, method: &str, path: &str, x_external: Option<&str>, body: &[u8]) -> Resp {
    let auth = bearer(token);
    let mut headers = vec![("Authorization", auth.as_str())];
    if let Some(x) = x_external {
        headers.push(("X-EXTERNAL", x));
    }
    call(emu, method, path, &headers, body)
}

/// A CRM API request with the seed page's token.
pub fn api(emu: &Emulator, method: &str, path: &str, x_external: Option<&str>, body: &[u8]) -> Resp {
    api_as(emu, TOKEN, method, path, x_external, body)
}

/// A related-records PUT with the seed page's token and a JSON body.
pub fn put(emu: &Emulator, path: &str, x_external: Option<&str>, body: &Value) -> Resp {
    api(emu, "PUT", path, x_external, body.to_string().as_bytes())
}

/// The seed page's call (Case A on v5).
pub fn put_sample(emu: &Emulator) -> Resp {
    put(emu, CASE_A, Some(BOTH), &sample_body())
}

/// The raw request of the seed page's call, for pipelining and parallel drivers.
pub fn sample_request() -> Vec<u8> {
    let auth = bearer(TOKEN);
    request_bytes(
        "PUT",
        CASE_A,
        &[("Authorization", &auth), ("X-EXTERNAL", BOTH), ("Connection", "close")],
        sample_body().to_string().as_bytes(),
    )
}

/// A control request under `/__emulator/`.
pub fn control(emu: &Emulator, method: &str, route: &str, body: Option<&Value>) -> Resp {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let headers: &[(&str, &str)] = if body.is_empty() { &[] } else { &[("Content-Type", "application/json")] };
    call(emu, method, &format!("/__emulator/{route}"), headers, &body)
}

/// The default client's form parameters for the token endpoint.
pub fn token_form() -> String {
    let (id, secret, refresh) = Emulator::default_credentials();
    format!("grant_type=refresh_token&client_id={id}&client_secret={secret}&refresh_token={refresh}")
}

/// POSTs a form to the token endpoint.
pub fn token_request(emu: &Emulator, form: &str) -> Resp {
    let path = format!("{}/oauth/v2/token", emu.accounts_url().trim_start_matches(emu.base_url()));
    call(emu, "POST", &path, &[("Content-Type", "application/x-www-form-urlencoded")], form.as_bytes())
}

/// Mints an access token with the default credentials.
pub fn mint(emu: &Emulator) -> String {
    let r = token_request(emu, &token_form());
    assert_eq!(r.status, 200);
    let v = r.json();
    v["access_token"].as_str().unwrap_or_else(|| panic!("no access_token in {v}")).to_owned()
}

/// Asserts a request-level Zoho error: the status, the four keys, `status: "error"`, the code and exactly
/// `details_keys` in `details`. Returns the body.
#[track_caller]
pub fn assert_error(r: &Resp, status: u16, code: &str, details_keys: &[&str]) -> Value {
    let v = r.json();
    assert_eq!((r.status, v["code"].as_str()), (status, Some(code)), "body: {v}");
    assert_zoho_item(&v, code, details_keys);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("application/json")), "{:?}", r.headers);
    v
}

/// Asserts one Zoho error object (top-level or a `data` item): keys, status, code, details keys.
#[track_caller]
pub fn assert_zoho_item(v: &Value, code: &str, details_keys: &[&str]) {
    let obj = v.as_object().unwrap_or_else(|| panic!("not an object: {v}"));
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "details", "message", "status"], "{v}");
    assert_eq!(v["status"], "error", "{v}");
    assert_eq!(v["code"], code, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    let mut got: Vec<&str> = v["details"].as_object().expect("details object").keys().map(String::as_str).collect();
    got.sort_unstable();
    let mut want = details_keys.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "details keys of {v}");
}

/// Asserts that the emulator still serves the seed page's call.
#[track_caller]
pub fn assert_alive(emu: &Emulator) {
    let r = put_sample(emu);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), SAMPLE_RESPONSE);
}

/// Sends `requests` at once, each on its own connection (connected before the start, released together by a
/// barrier), and returns the responses in request order and the time from the release to the last response.
pub fn parallel(emu: &Emulator, requests: Vec<Vec<u8>>) -> (Vec<Resp>, Duration) {
    let n = requests.len();
    let barrier = Arc::new(Barrier::new(n + 1));
    let handles: Vec<_> = requests
        .into_iter()
        .map(|req| {
            let mut conn = Conn::open(emu);
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                conn.send(&req);
                conn.response()
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let responses = handles.into_iter().map(|h| h.join().expect("client thread")).collect();
    (responses, started.elapsed())
}

/// A PUT body of `n` records, all linking `extdeal3` (each one a relink of the same relation).
pub fn records_body(n: usize) -> Value {
    json!({"data": (0..n).map(|_| json!({"External_Deal_ID": "extdeal3"})).collect::<Vec<_>>()})
}

/// The raw PUT of `body` to Case A.
pub fn put_request(body: &Value) -> Vec<u8> {
    let auth = bearer(TOKEN);
    request_bytes(
        "PUT",
        CASE_A,
        &[("Authorization", &auth), ("X-EXTERNAL", BOTH), ("Connection", "close")],
        body.to_string().as_bytes(),
    )
}
