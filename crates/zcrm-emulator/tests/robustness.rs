//! The HTTP layer (`http.rs`) under malformed, oversized, slow, idle, pipelined and half-closed clients, on raw
//! sockets; loopback-only binding; and shutdown on drop.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;

use common::*;
use serde_json::json;
use zcrm_emulator::{Emulator, EmulatorConfig};

fn small_body_limit() -> Emulator {
    start_with(EmulatorConfig { max_body: 1024, ..EmulatorConfig::default() })
}

/// Sends `bytes`, expects one 400 `INVALID_REQUEST` with `why` and then the connection closed.
#[track_caller]
fn assert_bad_request(emu: &Emulator, bytes: &[u8], why: &str) {
    let mut conn = Conn::open(emu);
    conn.send(bytes);
    let r = conn.response();
    let v = assert_error(&r, 400, "INVALID_REQUEST", &[]);
    assert_eq!(v["message"], why);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(conn.at_eof(), "the connection is closed after a malformed request");
}

fn auth_line() -> String {
    format!("Authorization: {}\r\n", bearer(TOKEN))
}

#[test]
fn request_line_that_is_not_utf8() {
    let emu = start();
    assert_bad_request(
        &emu,
        b"PUT /crm/v5/Contacts/\xff\xfe/Deals HTTP/1.1\r\nHost: x\r\n\r\n",
        "request line is not UTF-8",
    );
    assert_alive(&emu);
}

#[test]
fn malformed_request_lines() {
    let emu = start();
    for line in [
        "PUT /crm/v5/Contacts/extcontact3/Deals\r\n",
        "PUT  /crm/v5/Contacts/extcontact3/Deals HTTP/1.1\r\n",
        "put /crm/v5/Contacts/extcontact3/Deals HTTP/1.1\r\n",
        "PUT crm/v5 HTTP/1.1\r\n",
        "PUT /a b HTTP/1.1\r\n",
    ] {
        assert_bad_request(&emu, format!("{line}Host: x\r\n\r\n").as_bytes(), "malformed request line");
    }
    assert_alive(&emu);
}

#[test]
fn header_line_without_colon() {
    let emu = start();
    assert_bad_request(&emu, b"GET /crm/v5/org HTTP/1.1\r\nHost: x\r\nX-No-Colon\r\n\r\n", "malformed header");
    assert_bad_request(&emu, b"GET /crm/v5/org HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n", "malformed header");
    assert_bad_request(&emu, b"GET /crm/v5/org HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", "malformed header");
    assert_alive(&emu);
}

#[test]
fn header_or_request_line_over_8_kib() {
    let emu = start();
    let long = "a".repeat(9 * 1024);
    assert_bad_request(
        &emu,
        format!("GET /crm/v5/org HTTP/1.1\r\nX-Long: {long}\r\n\r\n").as_bytes(),
        "request line or header too long",
    );
    assert_bad_request(
        &emu,
        format!("GET /crm/v5/org?{long} HTTP/1.1\r\n\r\n").as_bytes(),
        "request line or header too long",
    );
    // Just under the limit is fine.
    let fits = "a".repeat(8 * 1024 - 64);
    let r = call(&emu, "GET", "/crm/v5/org", &[("Authorization", &bearer(TOKEN)), ("X-Long", &fits)], b"");
    assert_eq!(r.status, 200);
    assert_alive(&emu);
}

#[test]
fn more_than_100_headers() {
    let emu = start();
    let mut head = format!("GET /crm/v5/org HTTP/1.1\r\n{}", auth_line());
    for i in 0..99 {
        head.push_str(&format!("X-H{i}: {i}\r\n"));
    }
    // 100 headers are accepted.
    let mut conn = Conn::open(&emu);
    conn.send(format!("{head}Connection: close\r\n\r\n").as_bytes());
    assert_eq!(conn.response().status, 400, "100 headers, the last Connection: close makes 101");
    let mut conn = Conn::open(&emu);
    conn.send(format!("{head}\r\n").as_bytes());
    assert_eq!(conn.response().status, 200, "exactly 100 headers");
    head.push_str("X-One-Too-Many: 1\r\n");
    assert_bad_request(&emu, format!("{head}\r\n").as_bytes(), "too many headers");
    assert_alive(&emu);
}

#[test]
fn unsupported_http_versions() {
    let emu = start();
    for version in ["HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "http/1.1", "HTTP/1"] {
        assert_bad_request(
            &emu,
            format!("GET /crm/v5/org {version}\r\nHost: x\r\n\r\n").as_bytes(),
            "unsupported HTTP version",
        );
    }
    assert_alive(&emu);
}

#[test]
fn invalid_content_length() {
    let emu = start();
    for value in ["abc", "-1", "1 2", "0x10"] {
        let bytes = format!("PUT {CASE_A} HTTP/1.1\r\nContent-Length: {value}\r\n\r\n");
        assert_bad_request(&emu, bytes.as_bytes(), "invalid Content-Length");
    }
    assert_alive(&emu);
}

#[track_caller]
fn assert_too_large(r: &Resp) {
    let v = assert_error(r, 413, "LIMIT_EXCEEDED", &["limit", "unit"]);
    assert_eq!(v["details"], json!({"limit": 1024, "unit": "bytes"}));
    assert_eq!(r.header("connection"), Some("close"));
}

#[test]
fn content_length_over_the_limit_is_413_before_the_body_is_read() {
    let emu = small_body_limit();
    let mut conn = Conn::open(&emu);
    // Only the head is sent: the answer must come without the body.
    conn.send(format!("PUT {CASE_A} HTTP/1.1\r\n{}Content-Length: 1025\r\n\r\n", auth_line()).as_bytes());
    assert_too_large(&conn.response());
    assert!(conn.at_eof());
    // With Expect: 100-continue, no 100 comes first.
    let mut conn = Conn::open(&emu);
    conn.send(
        format!("PUT {CASE_A} HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 999999999999\r\n\r\n").as_bytes(),
    );
    assert_too_large(&conn.response());
    // Exactly the limit is accepted.
    let mut body = sample_body().to_string();
    body.push_str(&" ".repeat(1024 - body.len()));
    let r = call(&emu, "PUT", CASE_A, &[("Authorization", &bearer(TOKEN)), ("X-EXTERNAL", BOTH)], body.as_bytes());
    assert_eq!(r.status, 200);
    assert!(emu.journal().iter().all(|e| e.status != 413), "413s never reach the handler");
    assert_alive(&emu);
}

#[test]
fn chunked_body_over_the_limit_is_413() {
    let emu = small_body_limit();
    // One chunk too large: refused on its size line.
    let mut conn = Conn::open(&emu);
    conn.send(format!("PUT {CASE_A} HTTP/1.1\r\n{}Transfer-Encoding: chunked\r\n\r\n801\r\n", auth_line()).as_bytes());
    assert_too_large(&conn.response());
    assert!(conn.at_eof());
    // Two chunks that add up to more than the limit: refused on the second size line.
    let mut conn = Conn::open(&emu);
    let chunk = "x".repeat(600);
    conn.send(
        format!("PUT {CASE_A} HTTP/1.1\r\n{}Transfer-Encoding: chunked\r\n\r\n258\r\n{chunk}\r\n258\r\n", auth_line())
            .as_bytes(),
    );
    assert_too_large(&conn.response());
    assert_alive(&emu);
}

#[test]
fn a_real_client_sending_a_too_large_body_gets_the_413() {
    use zcrm_extid::Method;
    use zcrm_extid::transport::{HttpRequest, Transport, TransportConfig, UreqTransport};
    let emu = small_body_limit();
    let transport = UreqTransport::new(&TransportConfig::default());
    let url = format!("{}{CASE_A}", emu.base_url());
    let headers = [("Authorization", bearer(TOKEN)), ("X-EXTERNAL", BOTH.to_owned())];
    let body = vec![b' '; 64 * 1024];
    let r = transport
        .send(HttpRequest { method: Method::Put, url: &url, headers: &headers, body: &body })
        .expect("the client gets the 413, not a reset");
    assert_eq!(r.status, 413);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["code"], "LIMIT_EXCEEDED");
}

#[test]
fn malformed_chunks() {
    let emu = start();
    for chunks in ["zz\r\nabc\r\n0\r\n\r\n", "3\r\nabcdef\r\n0\r\n\r\n"] {
        let bytes = format!("PUT {CASE_A} HTTP/1.1\r\n{}Transfer-Encoding: chunked\r\n\r\n{chunks}", auth_line());
        let mut conn = Conn::open(&emu);
        conn.send(bytes.as_bytes());
        let r = conn.response();
        assert_error(&r, 400, "INVALID_REQUEST", &[]);
    }
    assert_alive(&emu);
}

#[test]
fn truncated_body_then_close_gets_no_answer() {
    let emu = start();
    let mut conn = Conn::open(&emu);
    conn.send(
        format!("PUT {CASE_A} HTTP/1.1\r\n{}X-EXTERNAL: {BOTH}\r\nContent-Length: 100\r\n\r\n{{\"data\":", auth_line())
            .as_bytes(),
    );
    conn.stream.shutdown(Shutdown::Write).unwrap();
    assert!(conn.read_to_eof().is_empty(), "no answer to half a request");
    // Truncated in the head, and in a chunked body.
    for partial in [
        format!("PUT {CASE_A} HTTP/1.1\r\nHost: x\r\n"),
        format!("PUT {CASE_A} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc"),
    ] {
        let mut conn = Conn::open(&emu);
        conn.send(partial.as_bytes());
        conn.stream.shutdown(Shutdown::Write).unwrap();
        assert!(conn.read_to_eof().is_empty());
    }
    assert!(emu.journal().is_empty(), "nothing was handled");
    assert_eq!(emu.relation_count(), 0);
    assert_alive(&emu);
}

#[test]
fn client_that_connects_and_sends_nothing() {
    let emu = start();
    for _ in 0..20 {
        drop(TcpStream::connect(addr(&emu)).unwrap());
    }
    let mut silent = Conn::open(&emu);
    silent.stream.shutdown(Shutdown::Write).unwrap();
    assert!(silent.at_eof(), "a clean close gets a clean close");
    assert_alive(&emu);
    assert!(emu.journal().iter().all(|e| e.status == 200));
}

#[test]
fn idle_connections_do_not_block_calls() {
    let emu = start();
    // In batches below the listen backlog (128): a burst of 500 connects would overflow it and wait for SYN
    // retransmits. The emulator accepts in order, so once a probe on a new connection is answered, every earlier
    // connection has been accepted.
    let mut idle = Vec::new();
    for _ in 0..5 {
        idle.extend((0..100).map(|_| TcpStream::connect(addr(&emu)).expect("connect")));
        assert_eq!(call(&emu, "GET", "/__emulator/config", &[], b"").status, 200);
    }
    // Some idle connections half-way through a request.
    for s in idle.iter().take(50) {
        (&*s).write_all(b"PUT /crm/v5/Contacts/x/Deals HTTP/1.1\r\nContent-Length: 10\r\n\r\n{").unwrap();
    }
    assert_alive(&emu);
    let (responses, _) = parallel(&emu, (0..5).map(|_| sample_request()).collect());
    assert!(responses.iter().all(|r| r.status == 200));
    // The idle connections were held open all along: the half-sent requests can still be finished.
    for stream in idle.drain(..3) {
        let mut conn = Conn::from_stream(stream);
        conn.send(b"123456789");
        assert_error(&conn.response(), 401, "AUTHENTICATION_FAILURE", &[]);
    }
    drop(idle);
    assert_alive(&emu);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let emu = start();
    let auth = bearer(TOKEN);
    let h = |x: &'static str| [("Authorization", auth.clone()), ("X-EXTERNAL", x.to_owned())];
    let mut bytes = Vec::new();
    let body = sample_body().to_string();
    let hs = h(BOTH);
    let hs: Vec<(&str, &str)> = hs.iter().map(|(n, v)| (*n, v.as_str())).collect();
    bytes.extend(request_bytes("PUT", CASE_A, &hs, body.as_bytes()));
    bytes.extend(request_bytes("PUT", CASE_A, &hs, b"{}"));
    bytes.extend(b"\r\n"); // a stray empty line between requests is tolerated
    bytes.extend(request_bytes("GET", "/crm/v5/Contacts/extcontact3/Deals?fields=Deal_Name", &hs, b""));
    bytes.extend(request_bytes(
        "GET",
        "/crm/v5/Deals/extdeal2/Contacts?fields=Last_Name",
        &[("Authorization", &auth), ("X-EXTERNAL", "Deals.External_Deal_ID")],
        b"",
    ));
    bytes.extend(request_bytes("GET", "/__emulator/config", &[("Connection", "close")], b""));
    let mut conn = Conn::open(&emu);
    conn.send(&bytes);
    let first = conn.response();
    assert_eq!((first.status, first.text().as_str()), (200, SAMPLE_RESPONSE));
    assert_error(&conn.response(), 400, "MANDATORY_NOT_FOUND", &["api_name", "json_path"]);
    let listed = conn.response();
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["data"][0]["Deal_Name"], "Deal 3");
    assert_eq!(conn.response().status, 204);
    assert_eq!(conn.response().json()["concurrency"], 20);
    assert!(conn.at_eof(), "closed after the request that asked for it");
}

#[test]
fn chunked_request_body() {
    let emu = start();
    let body = sample_body().to_string();
    let (a, b) = body.split_at(10);
    let bytes = format!(
        "PUT {CASE_A} HTTP/1.1\r\n{}X-EXTERNAL: {BOTH}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x};ext=1\r\n{a}\r\n{:X}\r\n{b}\r\n0\r\nX-Trailer: t\r\n\r\n",
        auth_line(),
        a.len(),
        b.len()
    );
    let (r, _) = parse_response(&send_raw(&emu, bytes.as_bytes())).expect("a response");
    assert_eq!((r.status, r.text().as_str()), (200, SAMPLE_RESPONSE));
    assert_eq!(emu.journal()[0].body, body);
}

#[test]
fn expect_100_continue() {
    let emu = start();
    let body = sample_body().to_string();
    let mut conn = Conn::open(&emu);
    conn.send(
        format!(
            "PUT {CASE_A} HTTP/1.1\r\n{}X-EXTERNAL: {BOTH}\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            auth_line(),
            body.len()
        )
        .as_bytes(),
    );
    let interim = conn.response();
    assert_eq!(interim.status, 100);
    assert!(interim.body.is_empty());
    conn.send(body.as_bytes());
    let r = conn.response();
    assert_eq!((r.status, r.text().as_str()), (200, SAMPLE_RESPONSE));
    // The connection stays usable.
    conn.send(&request_bytes("GET", "/__emulator/config", &[], b""));
    assert_eq!(conn.response().status, 200);
}

#[test]
fn http_1_0_closes_after_the_response_unless_keep_alive() {
    let emu = start();
    let mut conn = Conn::open(&emu);
    conn.send(b"GET /__emulator/config HTTP/1.0\r\n\r\n");
    let r = conn.response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), Some("close"));
    assert!(conn.at_eof());
    let mut conn = Conn::open(&emu);
    for _ in 0..2 {
        conn.send(b"GET /__emulator/config HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let r = conn.response();
        assert_eq!((r.status, r.header("connection")), (200, None));
    }
    assert_alive(&emu);
}

#[test]
fn connection_close_is_honoured_and_keep_alive_is_the_default() {
    let emu = start();
    let mut conn = Conn::open(&emu);
    for _ in 0..3 {
        conn.send(b"GET /__emulator/config HTTP/1.1\r\nHost: x\r\n\r\n");
        let r = conn.response();
        assert_eq!((r.status, r.header("connection")), (200, None));
    }
    conn.send(b"GET /__emulator/config HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n");
    let r = conn.response();
    assert_eq!((r.status, r.header("connection")), (200, Some("close")));
    assert!(conn.at_eof());
}

#[test]
fn the_gauntlet_then_a_normal_call() {
    let emu = small_body_limit();
    let long = "h".repeat(9000);
    let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
    let abuses: Vec<Vec<u8>> = vec![
        b"GET /\xff HTTP/1.1\r\n\r\n".to_vec(),
        b"GET / HTTP/1.1\r\nNoColon\r\n\r\n".to_vec(),
        format!("GET / HTTP/1.1\r\nX: {long}\r\n\r\n").into_bytes(),
        format!("GET / HTTP/1.1\r\n{many}\r\n").into_bytes(),
        b"GET / HTTP/3\r\n\r\n".to_vec(),
        b"PUT / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n".to_vec(),
        b"PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFF\r\n".to_vec(),
        b"\x00\x01\x02\r\n\r\n".to_vec(),
        b"\r\n\r\n\r\n".to_vec(),
    ];
    let answers: Vec<u16> = abuses
        .iter()
        .map(|bytes| {
            let mut conn = Conn::open(&emu);
            conn.send(bytes);
            if bytes.starts_with(b"\r\n") {
                conn.stream.shutdown(Shutdown::Write).unwrap();
                assert!(conn.at_eof());
                return 0;
            }
            conn.response().status
        })
        .collect();
    assert_eq!(answers, [400, 400, 400, 400, 400, 413, 413, 400, 0]);
    let mut truncated = Conn::open(&emu);
    truncated.send(b"PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    truncated.stream.shutdown(Shutdown::Write).unwrap();
    assert!(truncated.read_to_eof().is_empty());
    assert_alive(&emu);
}

#[test]
fn binds_loopback_only() {
    let emu = start();
    assert!(emu.base_url().starts_with("http://127.0.0.1:"), "{}", emu.base_url());
    assert_eq!(emu.base_url(), format!("http://127.0.0.1:{}", emu.port()));
    assert_eq!(emu.accounts_url(), format!("{}/accounts", emu.base_url()));
    // Had the emulator bound 0.0.0.0, this port would be taken on every local address.
    let other = TcpListener::bind(("127.0.0.2", emu.port()));
    assert!(other.is_ok(), "the emulator's port is taken on 127.0.0.2 too: {other:?}");
    assert!(TcpStream::connect(("127.0.0.1", emu.port())).is_ok());
}

#[test]
fn dropping_the_emulator_closes_connections_and_frees_the_port() {
    let emu = start();
    let port = emu.port();
    // A keep-alive connection, its thread blocked reading the next request.
    let mut conn = Conn::open(&emu);
    conn.send(b"GET /__emulator/config HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(conn.response().status, 200);
    // And a client blocked reading, with nothing sent.
    let mut idle = TcpStream::connect(addr(&emu)).unwrap();
    idle.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 16];
        idle.read(&mut buf).map_err(|e| e.kind())
    });
    drop(emu);
    assert!(conn.at_eof(), "an open keep-alive connection gets EOF");
    assert_eq!(reader.join().unwrap(), Ok(0), "a blocked reader gets EOF, not a timeout");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "nothing listens any more");
    let listener = TcpListener::bind(("127.0.0.1", port));
    assert!(listener.is_ok(), "the port is free: {listener:?}");
}

#[test]
fn a_client_sending_a_large_body_whole_reads_the_413() {
    use zcrm_extid::Method;
    use zcrm_extid::transport::{HttpRequest, Transport, TransportConfig, UreqTransport};
    let emu = small_body_limit();
    let url = format!("{}{CASE_A}", emu.base_url());
    let headers = [("Authorization", bearer(TOKEN)), ("X-EXTERNAL", BOTH.to_owned())];
    let body = vec![b' '; 4 << 20];
    let r = UreqTransport::new(&TransportConfig::default())
        .send(HttpRequest { method: Method::Put, url: &url, headers: &headers, body: &body })
        .expect("the 413 arrives instead of a reset");
    assert_eq!(r.status, 413);
    assert_alive(&emu);
}
