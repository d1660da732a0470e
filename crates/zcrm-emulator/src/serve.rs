//! The emulator's server: a thread per connection on `std::net`, hardened so that bad clients cannot wedge it.
//!
//! * **Whole-request deadline** ([`Limits::request_timeout`], 10 s by default): from the first byte of a request
//!   to its last, however slowly it trickles in (a timeout per read would let a slowloris client keep a
//!   connection forever by sending a byte now and then). A request not complete in time is answered 408 and the
//!   connection closed.
//! * **Idle keep-alive timeout** ([`Limits::idle_timeout`], 30 s): a connection with no request for that long
//!   (or a new one that sends nothing) is closed.
//! * **Connection cap** ([`Limits::max_connections`], 1024, lowered to half the process's file-descriptor limit
//!   if that is smaller): at the cap, the connection that has been idle, or stuck reading a request, the longest
//!   is closed to make room for the new one, so a flood of idle or slow connections cannot shut others out; only
//!   if every connection is busy in a handler is the new one answered 503 and closed. When `accept` fails for
//!   lack of file descriptors, the oldest idle connection is closed the same way.
//! * **One file descriptor per connection** (reader, writer and the registry share one socket), and
//!   [`raise_fd_limit`] lifts the process's soft `RLIMIT_NOFILE` to its hard limit (at most 65,536) when the
//!   emulator starts, where the system allows it.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crate::http::{Handler, Limits, ReadError, Reply, Response, read_request, write_response, zoho_error};

/// An oversized body up to this size is read and discarded before the 413 is written.
const DRAIN_CAP: usize = 64 << 20;

const IDLE: u8 = 0;
const READING: u8 = 1;
const BUSY: u8 = 2;
const CLOSING: u8 = 3;

/// What a connection is doing, and since when (ms after the server started): what eviction looks at.
struct ConnState {
    state: AtomicU8,
    since_ms: AtomicU64,
}

impl ConnState {
    /// Moves to `state` unless the connection was evicted; false if it was.
    fn enter(&self, state: u8, epoch: Instant) -> bool {
        let ok =
            self.state.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| (s != CLOSING).then_some(state)).is_ok();
        self.since_ms.store(epoch.elapsed().as_millis() as u64, Ordering::SeqCst);
        ok
    }
}

struct Conn {
    stream: Arc<TcpStream>,
    state: Arc<ConnState>,
}

/// The open connections.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Conn>>,
    /// Connections evicted to make room (for tests and stats).
    evicted: AtomicU64,
    /// Connections answered 503 because every other one was busy.
    refused: AtomicU64,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Conn>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connections that are not being closed.
    fn open(&self) -> usize {
        self.lock().values().filter(|c| c.state.state.load(Ordering::SeqCst) != CLOSING).count()
    }

    /// Closes the connection idle or reading for the longest time; false if every connection is busy.
    fn evict_one(&self) -> bool {
        let conns = self.lock();
        let victim = conns
            .values()
            .filter(|c| matches!(c.state.state.load(Ordering::SeqCst), IDLE | READING))
            .min_by_key(|c| c.state.since_ms.load(Ordering::SeqCst));
        let Some(victim) = victim else { return false };
        let was = victim.state.state.swap(CLOSING, Ordering::SeqCst);
        if was == BUSY {
            // It started a request in between: leave it be.
            victim.state.state.store(BUSY, Ordering::SeqCst);
            return false;
        }
        let _ = victim.stream.shutdown(Shutdown::Both);
        self.evicted.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// A running server; stops (and closes every connection) when dropped.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    registry: Arc<Registry>,
    max_connections: usize,
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
        let fd_limit = raise_fd_limit();
        let max_connections = match fd_limit {
            Some(n) => limits.max_connections.min((n / 2) as usize).max(1),
            None => limits.max_connections.max(1),
        };
        let limits = Limits { max_connections, ..limits };
        let stop = Arc::new(AtomicBool::new(false));
        let registry = Arc::new(Registry::default());
        let (stop2, registry2) = (stop.clone(), registry.clone());
        let accept_thread = thread::Builder::new()
            .name("zcrm-emulator-accept".into())
            .spawn(move || accept_loop(listener, handler, limits, stop2, registry2))?;
        Ok(Server { addr, stop, registry, max_connections, accept_thread: Some(accept_thread) })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections open now (not counting those being closed).
    pub fn open_connections(&self) -> usize {
        self.registry.open()
    }

    /// The connection cap in force ([`Limits::max_connections`], lowered to half the fd limit if smaller).
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// Connections closed to make room for new ones, and connections refused with a 503, since start.
    pub fn evictions(&self) -> (u64, u64) {
        (self.registry.evicted.load(Ordering::Relaxed), self.registry.refused.load(Ordering::Relaxed))
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
        for (_, c) in self.registry.lock().drain() {
            let _ = c.stream.shutdown(Shutdown::Both);
        }
    }
}

/// Raises the soft `RLIMIT_NOFILE` of this process to its hard limit (at most 65,536), where allowed; returns the
/// soft limit in force afterwards (`None` where it cannot be read). Never lowers it. Done once per process.
pub fn raise_fd_limit() -> Option<u64> {
    static LIMIT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| {
        #[cfg(unix)]
        {
            rlimit::increase_nofile_limit(65_536).ok()
        }
        #[cfg(not(unix))]
        {
            None
        }
    })
}

fn accept_loop(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    limits: Limits,
    stop: Arc<AtomicBool>,
    registry: Arc<Registry>,
) {
    let epoch = Instant::now();
    let next_id = AtomicU64::new(0);
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            // EMFILE and friends: free a descriptor by closing the oldest idle connection, and back off a little.
            registry.evict_one();
            thread::sleep(Duration::from_millis(5));
            continue;
        };
        if open.load(Ordering::SeqCst) >= limits.max_connections && !registry.evict_one() {
            registry.refused.fetch_add(1, Ordering::Relaxed);
            refuse(&stream);
            continue;
        }
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let stream = Arc::new(stream);
        let state = Arc::new(ConnState { state: AtomicU8::new(IDLE), since_ms: AtomicU64::new(0) });
        state.enter(IDLE, epoch);
        registry.lock().insert(id, Conn { stream: stream.clone(), state: state.clone() });
        open.fetch_add(1, Ordering::SeqCst);
        let (handler, open2, registry2) = (handler.clone(), open.clone(), registry.clone());
        let spawned = thread::Builder::new().name("zcrm-emulator-conn".into()).stack_size(512 << 10).spawn(move || {
            serve_connection(&stream, &state, &*handler, limits, epoch);
            let _ = stream.shutdown(Shutdown::Both);
            registry2.lock().remove(&id);
            open2.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            open.fetch_sub(1, Ordering::SeqCst);
            if let Some(c) = registry.lock().remove(&id) {
                refuse(&c.stream);
            }
        }
    }
}

/// Answers 503 and closes (every connection is busy, or no thread could be started).
fn refuse(stream: &TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
    let body = zoho_error("INTERNAL_ERROR", "the emulator has too many open connections", serde_json::json!({}));
    let mut writer = io::BufWriter::new(stream);
    let _ = write_response(&mut writer, &Response::json(503, &body).with_header("Retry-After", "1"), false);
    drop(writer);
    let _ = stream.shutdown(Shutdown::Both);
}

/// A socket reader that fails with `TimedOut` once `until` has passed, however the bytes trickle in.
struct Deadline<'a> {
    stream: &'a TcpStream,
    until: Instant,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        let mut s = self.stream;
        s.read(buf)
    }
}

fn serve_connection(stream: &TcpStream, state: &ConnState, handler: &dyn Handler, limits: Limits, epoch: Instant) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(limits.request_timeout));
    let mut writer = io::BufWriter::with_capacity(16 << 10, stream);
    let mut reader = BufReader::with_capacity(16 << 10, Deadline { stream, until: Instant::now() });
    loop {
        if !state.enter(IDLE, epoch) {
            break;
        }
        reader.get_mut().until = Instant::now() + limits.idle_timeout;
        match reader.fill_buf() {
            Ok([]) | Err(_) => break,
            Ok(_) => {}
        }
        if !state.enter(READING, epoch) {
            break;
        }
        let deadline = Instant::now() + limits.request_timeout;
        reader.get_mut().until = deadline;
        match read_request(&mut reader, &mut writer, limits.max_body) {
            Ok((request, keep_alive)) => {
                if !state.enter(BUSY, epoch) {
                    break;
                }
                match handler.handle(request) {
                    Reply::Respond(response) => {
                        if write_response(&mut writer, &response, keep_alive).is_err() || !keep_alive {
                            break;
                        }
                    }
                    Reply::Drop => break,
                }
            }
            Err(ReadError::Closed) => break,
            Err(ReadError::Io) => {
                if Instant::now() >= deadline {
                    let body = zoho_error(
                        "REQUEST_TIMEOUT",
                        "the request did not arrive in time",
                        serde_json::json!({"limit_ms": limits.request_timeout.as_millis() as u64}),
                    );
                    let _ = write_response(&mut writer, &Response::json(408, &body), false);
                }
                break;
            }
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
    let _ = writer.flush();
}

/// Reads and discards up to `n` (at most [`DRAIN_CAP`]) bytes for at most two seconds, so that a client still
/// sending an oversized body gets to read the 413 instead of a connection reset.
fn drain_briefly(reader: &mut BufReader<Deadline<'_>>, n: usize) {
    if n == 0 || n > DRAIN_CAP {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut left = n;
    let mut chunk = [0u8; 16 << 10];
    while left > 0 && Instant::now() < deadline {
        // A short wait per read: a client that stopped sending ends the drain at once.
        reader.get_mut().until = (Instant::now() + Duration::from_millis(200)).min(deadline);
        match reader.read(&mut chunk[..left.min(16 << 10)]) {
            Ok(0) | Err(_) => break,
            Ok(k) => left -= k,
        }
    }
}
