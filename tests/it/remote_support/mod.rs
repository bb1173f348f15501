//! A `docker-registry` on 127.0.0.1 started and stopped by the test, and a small HTTP proxy in
//! front of it that can answer 500s or demand basic or bearer-token authentication.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A URL nothing listens on.
pub fn dead_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// `docker-registry serve CONFIG`, storing under a temporary directory; killed on drop.
pub struct DockerRegistry {
    child: Child,
    pub port: u16,
    pub root: PathBuf,
    _dir: tempfile::TempDir,
}

impl DockerRegistry {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("storage");
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                root.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("docker-registry (Debian package docker-registry) must be installed");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        DockerRegistry {
            child,
            port,
            root,
            _dir: dir,
        }
    }

    pub fn url(&self, repository: &str) -> String {
        format!("http://127.0.0.1:{}/{repository}", self.port)
    }

    /// Where the registry keeps a blob's bytes.
    pub fn blob_path(&self, hex: &str) -> PathBuf {
        self.root
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The tags of a repository (from its storage).
    pub fn tags(&self, repository: &str) -> Vec<String> {
        let dir = self
            .root
            .join("docker/registry/v2/repositories")
            .join(repository)
            .join("_manifests/tags");
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

impl Drop for DockerRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forward everything.
    Pass,
    /// Answer every request with 500.
    Fail500,
    /// Require `Authorization: Basic` with these credentials.
    Basic { user: String, password: String },
    /// Require a bearer token, issued at `/token` for these basic credentials.
    Bearer { user: String, password: String },
}

/// An HTTP/1.1 proxy on 127.0.0.1 in front of a registry (one request per connection).
pub struct Proxy {
    pub port: u16,
    pub mode: Arc<Mutex<ProxyMode>>,
    pub requests: Arc<AtomicU64>,
    /// Requests refused for want of (right) credentials.
    pub unauthorized: Arc<AtomicU64>,
    pub tokens_issued: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

const TOKEN: &str = "test-token-7f3a";

impl Proxy {
    pub fn start(upstream_port: u16, mode: ProxyMode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            mode: Arc::new(Mutex::new(mode)),
            requests: Arc::default(),
            unauthorized: Arc::default(),
            tokens_issued: Arc::default(),
            stop: Arc::default(),
        };
        let (mode, requests, unauthorized, tokens, stop) = (
            proxy.mode.clone(),
            proxy.requests.clone(),
            proxy.unauthorized.clone(),
            proxy.tokens_issued.clone(),
            proxy.stop.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (mode, requests, unauthorized, tokens) = (
                    mode.clone(),
                    requests.clone(),
                    unauthorized.clone(),
                    tokens.clone(),
                );
                std::thread::spawn(move || {
                    let _ = serve(
                        conn,
                        upstream_port,
                        port,
                        &mode,
                        &requests,
                        &unauthorized,
                        &tokens,
                    );
                });
            }
        });
        proxy
    }

    pub fn url(&self, repository: &str) -> String {
        format!("http://127.0.0.1:{}/{repository}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn respond(
    conn: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(body)?;
    conn.flush()
}

fn serve(
    mut conn: TcpStream,
    upstream: u16,
    own_port: u16,
    mode: &Mutex<ProxyMode>,
    requests: &AtomicU64,
    unauthorized: &AtomicU64,
    tokens: &AtomicU64,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let length: usize = header("Content-Length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    requests.fetch_add(1, Ordering::Relaxed);
    let mode = mode.lock().unwrap().clone();
    let basic = |user: &str, password: &str| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    match &mode {
        ProxyMode::Pass => {}
        ProxyMode::Fail500 => return respond(&mut conn, "500 Internal Server Error", &[], b"broken"),
        ProxyMode::Basic { user, password } => {
            if header("Authorization") != Some(basic(user, password)) {
                unauthorized.fetch_add(1, Ordering::Relaxed);
                return respond(
                    &mut conn,
                    "401 Unauthorized",
                    &[("WWW-Authenticate", "Basic realm=\"test\"".into())],
                    b"",
                );
            }
        }
        ProxyMode::Bearer { user, password } => {
            if path.starts_with("/token") {
                if header("Authorization") != Some(basic(user, password)) {
                    unauthorized.fetch_add(1, Ordering::Relaxed);
                    return respond(&mut conn, "401 Unauthorized", &[], b"");
                }
                tokens.fetch_add(1, Ordering::Relaxed);
                return respond(
                    &mut conn,
                    "200 OK",
                    &[("Content-Type", "application/json".into())],
                    format!("{{\"token\":\"{TOKEN}\"}}").as_bytes(),
                );
            }
            if header("Authorization") != Some(format!("Bearer {TOKEN}")) {
                unauthorized.fetch_add(1, Ordering::Relaxed);
                return respond(
                    &mut conn,
                    "401 Unauthorized",
                    &[(
                        "WWW-Authenticate",
                        format!(
                            "Bearer realm=\"http://127.0.0.1:{own_port}/token\",service=\"test-registry\",scope=\"repository:team/cache:pull,push\""
                        ),
                    )],
                    b"",
                );
            }
        }
    }
    // Forward, one request per connection.
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    let mut head = request_line.clone();
    for (k, v) in &headers {
        if k.eq_ignore_ascii_case("Authorization") || k.eq_ignore_ascii_case("Connection") {
            continue;
        }
        let v = if k.eq_ignore_ascii_case("Host") {
            format!("127.0.0.1:{upstream}")
        } else {
            v.clone()
        };
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    up.write_all(head.as_bytes())?;
    up.write_all(&body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    // Locations the registry gives point at itself: point them at the proxy.
    let response = rewrite_location(&response, upstream, own_port);
    conn.write_all(&response)?;
    conn.flush()?;
    let _ = conn.shutdown(Shutdown::Both);
    Ok(())
}

fn rewrite_location(response: &[u8], upstream: u16, own: u16) -> Vec<u8> {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response.to_vec();
    };
    let head = String::from_utf8_lossy(&response[..end])
        .replace(&format!("127.0.0.1:{upstream}"), &format!("127.0.0.1:{own}"));
    let mut out = head.into_bytes();
    out.extend_from_slice(&response[end..]);
    out
}

/// Reads a build report.
pub fn report(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
