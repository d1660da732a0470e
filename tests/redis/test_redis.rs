//! A real Redis for the budget tests (included by path into the test crates that need one).
//!
//! * [`TestRedis::shared`]: the server `.ci/run` starts (`ZCRM_TEST_REDIS_URL`), else a private one.
//! * [`TestRedis::private`]: a `redis-server` of the test's own on a free loopback port, persistence off, for
//!   tests that stop it or set a password; killed when dropped.
//!
//! Without a Redis (no URL and no `redis-server` on PATH) a test is skipped with a message, except when `CI` is
//! set: then it fails, so CI can never pass without running them.
#![allow(dead_code)]

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Redis to test against.
pub struct TestRedis {
    child: Option<Child>,
    /// `redis://127.0.0.1:PORT` (or the shared server's URL).
    pub url: String,
    /// The port, for a private server.
    pub port: u16,
}

/// No Redis: fail under CI, skip otherwise.
fn unavailable(why: &str) -> Option<TestRedis> {
    if std::env::var_os("CI").is_some() {
        panic!("the budget tests need Redis and CI is set: {why} (.ci/run starts one and sets ZCRM_TEST_REDIS_URL)");
    }
    eprintln!("skipped: {why}; install redis-server or set ZCRM_TEST_REDIS_URL");
    None
}

/// A key prefix no other test uses.
pub fn unique_prefix(name: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("t-{name}-{}-{nanos}-{n}", std::process::id())
}

impl TestRedis {
    /// The CI server, or a private one.
    pub fn shared() -> Option<TestRedis> {
        match std::env::var("ZCRM_TEST_REDIS_URL") {
            Ok(url) if !url.is_empty() => Some(TestRedis { child: None, url, port: 0 }),
            _ => TestRedis::private(&[]),
        }
    }

    /// A server of this test's own, with `extra` arguments (e.g. `--requirepass x`).
    pub fn private(extra: &[&str]) -> Option<TestRedis> {
        if Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_err() {
            return unavailable("redis-server is not on PATH");
        }
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server");
            let mut redis = TestRedis { child: Some(child), url: format!("redis://127.0.0.1:{port}"), port };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(redis);
                }
                if redis.child.as_mut().unwrap().try_wait().unwrap().is_some() {
                    break; // the port was taken meanwhile: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            redis.stop();
        }
        unavailable("redis-server did not start")
    }

    /// The URL with a password.
    pub fn url_with_password(&self, password: &str) -> String {
        self.url.replacen("redis://", &format!("redis://:{password}@"), 1)
    }

    /// Kills a private server at once (as a crash would).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

impl TestRedis {
    /// Sends one command (RESP) and returns the raw reply (for checks the tests make without the client).
    pub fn command(&self, args: &[&str]) -> String {
        use std::io::{Read, Write};
        let rest = self.url.trim_start_matches("redis://");
        let addr = rest.rsplit('@').next().unwrap_or(rest).split('/').next().unwrap_or("");
        let mut s = TcpStream::connect(addr).expect("connect to redis");
        s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(req.as_bytes()).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The names of the keys matching `pattern`.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let reply = self.command(&["KEYS", pattern]);
        reply.lines().filter(|l| !l.starts_with('*') && !l.starts_with('$')).map(str::to_owned).collect()
    }
}
