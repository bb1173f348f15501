//! A small HTTP/1.1 file server on 127.0.0.1 that injects faults, for testing downloads on bad
//! networks without a network.
//!
//! - Serves `GET` (and `HEAD`) from a directory or an in-memory map; one thread per connection,
//!   one request per connection (`Connection: close`), so counters count requests exactly.
//! - A seeded [`FaultPlan`] decides, per request, whether to answer it badly and how. The choice
//!   depends only on the seed, the path and how many times that path was asked for before, so a
//!   plan is reproducible however concurrent clients interleave.
//! - Honours `Range: bytes=N-` (206) unless told to ignore it.
//! - Dropping the [`Server`] stops it: the accept loop and every connection thread are joined, and
//!   stalls end early when it stops, so no test leaks a thread or a port.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// One way to answer a request badly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Accept the connection, read the request, then send nothing until the client gives up.
    StallBeforeHeaders,
    /// Send the headers (full `Content-Length`), then nothing more until the client gives up.
    StallAfterHeaders,
    /// Send the headers and a third of the body, then close the connection abruptly.
    ResetMidBody,
    /// Send the headers and a third of the body, then nothing more until the client gives up.
    StallMidBody,
    /// Announce the full `Content-Length`, send half the body, then close cleanly.
    Truncate,
    /// Send the whole body with one byte changed.
    Corrupt,
    /// Answer with this status and a short text body (404, 410, 500, 503, …).
    Status(u16),
    /// Answer with this status (429 or 503) and `Retry-After: seconds`.
    RetryAfter { status: u16, seconds: u64 },
    /// Send the body `chunk` bytes at a time with `delay` between chunks.
    Trickle { chunk: usize, delay: Duration },
}

/// Which requests get which faults.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    /// Seeds the per-request choice.
    pub seed: u64,
    /// Probability (0.0–1.0) that a request gets one of `kinds`.
    pub rate: f64,
    /// The faults chosen from (uniformly) when a request is faulted at random.
    pub kinds: Vec<Fault>,
    /// Applied in order to the first requests of every path, before the random plan applies.
    pub first: Vec<Fault>,
    /// Applied to every request (a mirror that is broken for good).
    pub always: Option<Fault>,
}

impl Fault {
    /// Every transient fault a client must survive, the one list the tests and the fetch
    /// benchmark draw from: stalls before and after the headers, a reset, truncation,
    /// corruption, 500/503/408, 429 with `Retry-After`, and a slow trickle.
    pub fn transient() -> Vec<Fault> {
        vec![
            Fault::StallBeforeHeaders,
            Fault::StallAfterHeaders,
            Fault::ResetMidBody,
            Fault::Truncate,
            Fault::Corrupt,
            Fault::Status(500),
            Fault::Status(503),
            Fault::Status(408),
            Fault::RetryAfter {
                status: 429,
                seconds: 1,
            },
            Fault::Trickle {
                chunk: 16 * 1024,
                delay: Duration::from_millis(2),
            },
        ]
    }
}

impl FaultPlan {
    /// No faults.
    pub fn none() -> Self {
        FaultPlan::default()
    }

    /// Faults `rate` of the requests at random, choosing among `kinds`.
    pub fn random(seed: u64, rate: f64, kinds: Vec<Fault>) -> Self {
        FaultPlan {
            seed,
            rate,
            kinds,
            ..FaultPlan::default()
        }
    }

    /// The first request of every path gets `fault`; later ones are served well.
    pub fn first(fault: Fault) -> Self {
        FaultPlan {
            first: vec![fault],
            ..FaultPlan::default()
        }
    }

    /// Every request gets `fault`.
    pub fn always(fault: Fault) -> Self {
        FaultPlan {
            always: Some(fault),
            ..FaultPlan::default()
        }
    }

    fn choose(&self, path: &str, nth: u64) -> Option<Fault> {
        if let Some(f) = &self.always {
            return Some(f.clone());
        }
        if let Some(f) = usize::try_from(nth).ok().and_then(|i| self.first.get(i)) {
            return Some(f.clone());
        }
        if self.kinds.is_empty() || self.rate <= 0.0 {
            return None;
        }
        let mut h = self.seed ^ 0x9e37_79b9_7f4a_7c15;
        for b in path.bytes() {
            h = splitmix(h ^ u64::from(b));
        }
        let r = splitmix(h ^ nth.wrapping_mul(0xa076_1d64_78bd_642f));
        // 53 random bits as a fraction in [0, 1).
        let unit = (r >> 11) as f64 / (1u64 << 53) as f64;
        if unit >= self.rate {
            return None;
        }
        let pick = splitmix(r) % self.kinds.len() as u64;
        usize::try_from(pick)
            .ok()
            .and_then(|i| self.kinds.get(i))
            .cloned()
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What the server has seen and done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Connections accepted (a client that never connects leaves this at zero).
    pub connections: u64,
    /// Requests whose request line was read.
    pub requests: u64,
    /// Requests answered with a fault.
    pub faults: u64,
    /// Requests that carried a `Range` header.
    pub range_requests: u64,
    /// `206 Partial Content` answers.
    pub partial_responses: u64,
    /// Body bytes written.
    pub body_bytes: u64,
}

#[derive(Default)]
struct AtomicCounters {
    connections: AtomicU64,
    requests: AtomicU64,
    faults: AtomicU64,
    range_requests: AtomicU64,
    partial_responses: AtomicU64,
    body_bytes: AtomicU64,
}

enum Files {
    Dir(PathBuf),
    Map(BTreeMap<String, Vec<u8>>),
}

struct Shared {
    files: Files,
    plan: Mutex<FaultPlan>,
    honour_range: AtomicBool,
    per_path: Mutex<HashMap<String, u64>>,
    counters: AtomicCounters,
    stop: AtomicBool,
    /// The longest any stall lasts even if the client never hangs up.
    max_stall: Duration,
    /// Bytes per second for all bodies together (a link's speed), if limited.
    bandwidth: Option<u64>,
    /// When the shared link is free again.
    link_free_at: Mutex<Instant>,
}

/// Builds a [`Server`].
pub struct ServerBuilder {
    files: Files,
    plan: FaultPlan,
    honour_range: bool,
    max_stall: Duration,
    bandwidth: Option<u64>,
}

impl ServerBuilder {
    /// Limits all bodies together to `bytes_per_second`, as a mirror behind a link of that speed
    /// (default: as fast as loopback goes).
    pub fn bandwidth(mut self, bytes_per_second: u64) -> Self {
        self.bandwidth = Some(bytes_per_second.max(1));
        self
    }

    pub fn faults(mut self, plan: FaultPlan) -> Self {
        self.plan = plan;
        self
    }

    /// Whether `Range` requests get 206 answers (default) or are ignored (200, whole body).
    pub fn honour_range(mut self, yes: bool) -> Self {
        self.honour_range = yes;
        self
    }

    /// How long a stall lasts at most when the client does not give up first (default 10 s).
    pub fn max_stall(mut self, d: Duration) -> Self {
        self.max_stall = d;
        self
    }

    pub fn start(self) -> io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        // Non-blocking accept lets the loop notice `stop` without a wake-up connection.
        listener.set_nonblocking(true)?;
        let shared = Arc::new(Shared {
            files: self.files,
            plan: Mutex::new(self.plan),
            honour_range: AtomicBool::new(self.honour_range),
            per_path: Mutex::new(HashMap::new()),
            counters: AtomicCounters::default(),
            stop: AtomicBool::new(false),
            max_stall: self.max_stall,
            bandwidth: self.bandwidth,
            link_free_at: Mutex::new(Instant::now()),
        });
        let accept_shared = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name(format!("testkit-server-{}", addr.port()))
            .spawn(move || accept_loop(&listener, &accept_shared))?;
        Ok(Server {
            addr,
            shared,
            thread: Some(thread),
        })
    }
}

/// A running server; stops (and joins its threads) when dropped.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves the files under `dir` (URL path = path relative to `dir`).
    pub fn dir(dir: &Path) -> ServerBuilder {
        ServerBuilder::with(Files::Dir(dir.to_owned()))
    }

    /// Serves an in-memory map of path (without leading `/`) to bytes.
    pub fn map(files: BTreeMap<String, Vec<u8>>) -> ServerBuilder {
        ServerBuilder::with(Files::Map(files))
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn counters(&self) -> Counters {
        let c = &self.shared.counters;
        Counters {
            connections: c.connections.load(Ordering::SeqCst),
            requests: c.requests.load(Ordering::SeqCst),
            faults: c.faults.load(Ordering::SeqCst),
            range_requests: c.range_requests.load(Ordering::SeqCst),
            partial_responses: c.partial_responses.load(Ordering::SeqCst),
            body_bytes: c.body_bytes.load(Ordering::SeqCst),
        }
    }

    /// Replaces the fault plan (requests already being answered keep theirs).
    pub fn set_faults(&self, plan: FaultPlan) {
        if let Ok(mut p) = self.shared.plan.lock() {
            *p = plan;
        }
    }

    pub fn set_honour_range(&self, yes: bool) {
        self.shared.honour_range.store(yes, Ordering::SeqCst);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl ServerBuilder {
    fn with(files: Files) -> Self {
        ServerBuilder {
            files,
            plan: FaultPlan::none(),
            honour_range: true,
            max_stall: Duration::from_secs(10),
            bandwidth: None,
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                shared.counters.connections.fetch_add(1, Ordering::SeqCst);
                let s = Arc::clone(shared);
                if let Ok(h) = thread::Builder::new().name("testkit-conn".into()).spawn(move || {
                    let _ = serve(stream, &s);
                }) {
                    workers.push(h);
                }
                // Reap finished workers so a long test does not pile up handles.
                let (done, running): (Vec<_>, Vec<_>) = workers.into_iter().partition(|h| h.is_finished());
                for h in done {
                    let _ = h.join();
                }
                workers = running;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(5)),
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
    for h in workers {
        let _ = h.join();
    }
}

/// Sleeps up to `d`, in small steps, returning early when the server stops.
fn nap(shared: &Shared, d: Duration) {
    let end = Instant::now() + d;
    while !shared.stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= end {
            return;
        }
        thread::sleep((end - now).min(Duration::from_millis(10)));
    }
}

/// Stalls until the client hangs up, the server stops, or `max_stall` passes.
fn stall(stream: &TcpStream, shared: &Shared) {
    let end = Instant::now() + shared.max_stall;
    let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
    let mut probe = [0u8; 64];
    let mut reader = stream;
    while !shared.stop.load(Ordering::SeqCst) && Instant::now() < end {
        match reader.read(&mut probe) {
            // The client closed its side: it gave up.
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

struct Request {
    method: String,
    path: String,
    range_from: Option<u64>,
}

fn read_request(stream: &TcpStream) -> io::Result<Option<Request>> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut range_from = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':')
            && name.trim().eq_ignore_ascii_case("range")
        {
            // Only the open-ended `bytes=N-` form, which is what resuming clients send.
            range_from = value
                .trim()
                .strip_prefix("bytes=")
                .and_then(|v| v.strip_suffix('-'))
                .and_then(|n| n.parse().ok());
            if range_from.is_none() {
                range_from = Some(u64::MAX);
            }
        }
    }
    let path = target.split('?').next().unwrap_or_default();
    let path = percent_decode(path.trim_start_matches('/'));
    Ok(Some(Request {
        method,
        path,
        range_from,
    }))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// A file to serve and its length. Files on disk are read as they are sent, as a real server
/// does: reading a whole large file before the headers would make the time to first byte grow
/// with the file, which no mirror's does.
fn lookup(files: &Files, path: &str) -> Option<(Box<dyn ReadSeek>, u64)> {
    match files {
        Files::Map(m) => m.get(path).map(|b| {
            (
                Box::new(io::Cursor::new(b.clone())) as Box<dyn ReadSeek>,
                b.len() as u64,
            )
        }),
        Files::Dir(root) => {
            let rel = Path::new(path);
            // Serve only plain relative paths below the root.
            if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
                return None;
            }
            let file = std::fs::File::open(root.join(rel)).ok()?;
            let meta = file.metadata().ok().filter(|m| m.is_file())?;
            Some((Box::new(file), meta.len()))
        }
    }
}

fn status_text(code: u16) -> &'static str {
    match code {
        200 => "OK",
        206 => "Partial Content",
        404 => "Not Found",
        408 => "Request Timeout",
        410 => "Gone",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn simple(stream: &mut TcpStream, code: u16, extra: &str) -> io::Result<()> {
    let body = format!("{code} {}\n", status_text(code));
    write!(
        stream,
        "HTTP/1.1 {code} {}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        status_text(code),
        body.len()
    )?;
    stream.flush()
}

fn serve(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let Some(req) = read_request(&stream)? else {
        return Ok(());
    };
    let c = &shared.counters;
    c.requests.fetch_add(1, Ordering::SeqCst);
    if req.range_from.is_some() {
        c.range_requests.fetch_add(1, Ordering::SeqCst);
    }
    let nth = {
        let mut m = shared.per_path.lock().map_err(|_| io::Error::other("poisoned"))?;
        let n = m.entry(req.path.clone()).or_insert(0);
        *n += 1;
        *n - 1
    };
    let fault = shared
        .plan
        .lock()
        .map_err(|_| io::Error::other("poisoned"))?
        .choose(&req.path, nth);
    if fault.is_some() {
        c.faults.fetch_add(1, Ordering::SeqCst);
    }

    match &fault {
        Some(Fault::StallBeforeHeaders) => {
            stall(&stream, shared);
            return Ok(());
        }
        Some(Fault::Status(code)) => return simple(&mut stream, *code, ""),
        Some(Fault::RetryAfter { status, seconds }) => {
            return simple(&mut stream, *status, &format!("Retry-After: {seconds}\r\n"));
        }
        _ => {}
    }
    if req.method != "GET" && req.method != "HEAD" {
        return simple(&mut stream, 405, "");
    }
    let Some((mut content, total)) = lookup(&shared.files, &req.path) else {
        return simple(&mut stream, 404, "");
    };

    let honour = shared.honour_range.load(Ordering::SeqCst);
    let (status, start) = match req.range_from {
        Some(from) if honour && from < total => (206, from),
        Some(from) if honour && from != 0 => {
            return simple(&mut stream, 416, &format!("Content-Range: bytes */{total}\r\n"));
        }
        _ => (200, 0),
    };
    content.seek(SeekFrom::Start(start))?;
    let body_len = total - start;
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {body_len}\r\nAccept-Ranges: {}\r\nConnection: close\r\n",
        status_text(status),
        if honour { "bytes" } else { "none" }
    );
    if status == 206 {
        c.partial_responses.fetch_add(1, Ordering::SeqCst);
        head.push_str(&format!("Content-Range: bytes {start}-{}/{total}\r\n", total - 1));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.flush()?;
    if req.method == "HEAD" {
        return Ok(());
    }

    let send = |stream: &mut TcpStream, bytes: &[u8]| -> io::Result<()> {
        // Counted before it is written: once the client has the bytes, a test may read the
        // counters at once, before this thread would get to count them.
        c.body_bytes.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        let Some(rate) = shared.bandwidth else {
            return stream.write_all(bytes);
        };
        // Every connection's pieces take turns on one link of `rate` bytes per second.
        for piece in bytes.chunks(64 << 10) {
            let (start, end) = {
                let mut free = shared
                    .link_free_at
                    .lock()
                    .map_err(|_| io::Error::other("link lock poisoned"))?;
                let start = (*free).max(Instant::now());
                *free = start + Duration::from_secs_f64(piece.len() as f64 / rate as f64);
                (start, *free)
            };
            std::thread::sleep(start.saturating_duration_since(Instant::now()));
            stream.write_all(piece)?;
            // The piece has crossed the link when its time slot ends.
            std::thread::sleep(end.saturating_duration_since(Instant::now()));
        }
        Ok(())
    };
    // Sends the next `n` bytes of the body, `piece` bytes at a time with `pause` after each
    // piece, with the byte at body offset `flip` (if among them) damaged.
    let mut sent: u64 = 0;
    let mut pump = |stream: &mut TcpStream,
                    n: u64,
                    piece: usize,
                    pause: Option<Duration>,
                    flip: Option<u64>|
     -> io::Result<()> {
        let mut buf = vec![0u8; piece.max(1)];
        let end = sent + n;
        while sent < end {
            if pause.is_some() && shared.stop.load(Ordering::SeqCst) {
                break;
            }
            let k = usize::try_from(end - sent).unwrap_or(usize::MAX).min(buf.len());
            content.read_exact(&mut buf[..k])?;
            if let Some(at) = flip
                && (sent..sent + k as u64).contains(&at)
            {
                buf[usize::try_from(at - sent).unwrap_or(0)] ^= 0x55;
            }
            send(stream, &buf[..k])?;
            sent += k as u64;
            if let Some(d) = pause {
                stream.flush()?;
                nap(shared, d);
            }
        }
        Ok(())
    };
    const PIECE: usize = 64 << 10;
    match fault {
        Some(Fault::StallAfterHeaders) => stall(&stream, shared),
        Some(Fault::StallMidBody) => {
            pump(&mut stream, body_len / 3, PIECE, None, None)?;
            stream.flush()?;
            stall(&stream, shared);
        }
        Some(Fault::ResetMidBody) => {
            pump(&mut stream, body_len / 3, PIECE, None, None)?;
            // std cannot set SO_LINGER 0 for a real RST; an abrupt close mid-body is what the
            // client sees either way: fewer bytes than Content-Length.
            let _ = stream.shutdown(Shutdown::Both);
        }
        Some(Fault::Truncate) => {
            pump(&mut stream, body_len / 2, PIECE, None, None)?;
            stream.flush()?;
            let _ = stream.shutdown(Shutdown::Write);
        }
        Some(Fault::Corrupt) => {
            let flip = (body_len > 0).then(|| splitmix(nth ^ total) % body_len);
            pump(&mut stream, body_len, PIECE, None, flip)?;
        }
        Some(Fault::Trickle { chunk, delay }) => pump(&mut stream, body_len, chunk, Some(delay), None)?,
        _ => pump(&mut stream, body_len, PIECE, None, None)?,
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str, path: &str, range: Option<u64>) -> io::Result<Vec<u8>> {
        let addr = url.trim_start_matches("http://").trim_end_matches('/');
        let mut s = TcpStream::connect(addr)?;
        let range = range
            .map(|r| format!("Range: bytes={r}-\r\n"))
            .unwrap_or_default();
        write!(s, "GET /{path} HTTP/1.1\r\nHost: x\r\n{range}\r\n")?;
        let mut out = Vec::new();
        s.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn bandwidth_is_shared_by_all_connections() {
        let files = BTreeMap::from([("f".to_owned(), vec![7u8; 100_000])]);
        let server = Server::map(files).bandwidth(1_000_000).start().unwrap();
        let started = Instant::now();
        let url = server.url();
        let a = std::thread::spawn({
            let url = url.clone();
            move || get(&url, "f", None).unwrap()
        });
        let b = get(&url, "f", None).unwrap();
        let a = a.join().unwrap();
        // 200 kB at 1 MB/s take 0.2 s, however many connections carry them.
        assert!(
            started.elapsed() >= Duration::from_millis(180),
            "{:?}",
            started.elapsed()
        );
        assert!(a.ends_with(&[7u8; 100_000]) && b.ends_with(&[7u8; 100_000]));
    }

    #[test]
    fn serves_ranges_and_faults_deterministically() {
        let files = BTreeMap::from([("a/b".to_owned(), b"0123456789".to_vec())]);
        let server = Server::map(files)
            .faults(FaultPlan::first(Fault::Status(503)))
            .start()
            .unwrap();
        let r = get(&server.url(), "a/b", None).unwrap();
        assert!(r.starts_with(b"HTTP/1.1 503"));
        let r = get(&server.url(), "a/b", Some(4)).unwrap();
        assert!(r.starts_with(b"HTTP/1.1 206"));
        assert!(r.ends_with(b"\r\n\r\n456789"));
        server.set_faults(FaultPlan::none());
        let r = get(&server.url(), "missing", None).unwrap();
        assert!(r.starts_with(b"HTTP/1.1 404"));
        let c = server.counters();
        assert_eq!(
            (c.requests, c.faults, c.range_requests, c.partial_responses),
            (3, 1, 1, 1)
        );

        let plan = FaultPlan::random(7, 0.5, vec![Fault::Corrupt, Fault::Truncate]);
        let a: Vec<_> = (0..50).map(|n| plan.choose("p", n)).collect();
        let b: Vec<_> = (0..50).map(|n| plan.choose("p", n)).collect();
        assert_eq!(a, b);
        let faulted = a.iter().filter(|f| f.is_some()).count();
        assert!((10..40).contains(&faulted), "{faulted}");
    }

    #[test]
    fn a_stall_ends_when_the_server_is_dropped() {
        let files = BTreeMap::from([("f".to_owned(), b"x".to_vec())]);
        let server = Server::map(files)
            .faults(FaultPlan::always(Fault::StallAfterHeaders))
            .start()
            .unwrap();
        let url = server.url();
        let client = thread::spawn(move || get(&url, "f", None));
        thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        drop(server);
        assert!(started.elapsed() < Duration::from_secs(2));
        let _ = client.join();
    }
}
