//! One request, made and read on its own thread: HTTP(S) through `ureq`, or a `file://` URL; what
//! it reports; and how its failures are classified.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use url::Url;

use crate::debian::date::parse_release_date;
use crate::fetch::{AttemptError, Expected};

/// What a request reports from its thread.
pub(super) enum SourceEvent {
    /// Headers received (or the file opened): the body starts `start` bytes into the file and
    /// carries `length` bytes when announced.
    Opened {
        start: u64,
        length: Option<u64>,
    },
    Data(Vec<u8>),
    End,
    Failed(AttemptError),
}

/// An opened response body (or file), positioned at `start` bytes into the file.
pub(super) struct Opened {
    pub(super) reader: Box<dyn Read + Send>,
    pub(super) start: u64,
    /// Bytes this body will carry, when announced.
    pub(super) length: Option<u64>,
}

/// One request, made and read on its own thread.
pub(super) struct Request {
    pub(super) agent: ureq::Agent,
    pub(super) url: Url,
    pub(super) from: u64,
    pub(super) timeout: Duration,
    pub(super) expected: Option<Expected>,
}

impl Request {
    /// Opens the body and streams it to `tx` until it ends, fails, the receiver is gone or
    /// `cancel` is set. The stall and attempt timeouts are the HTTP client's, so every read ends.
    pub(super) fn run(self, id: u64, tx: &SyncSender<(u64, SourceEvent)>, cancel: &AtomicBool) {
        let send = |e: SourceEvent| tx.send((id, e)).is_ok();
        let opened = if self.url.scheme() == "file" {
            open_file(&self.url, self.from)
        } else {
            open_http(&self.agent, &self.url, self.timeout, self.from, self.expected)
        };
        let mut opened = match opened {
            Ok(o) => o,
            Err(e) => {
                send(SourceEvent::Failed(e));
                return;
            }
        };
        if !send(SourceEvent::Opened {
            start: opened.start,
            length: opened.length,
        }) {
            return;
        }
        loop {
            if cancel.load(Ordering::Relaxed) {
                return;
            }
            let mut buf = vec![0u8; 64 * 1024];
            let event = match opened.reader.read(&mut buf) {
                Ok(0) => SourceEvent::End,
                Ok(n) => {
                    buf.truncate(n);
                    SourceEvent::Data(buf)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => SourceEvent::Failed(classify_body_io(e)),
            };
            let last = !matches!(event, SourceEvent::Data(_));
            if !send(event) || last {
                return;
            }
        }
    }
}

pub(super) fn open_http(
    agent: &ureq::Agent,
    url: &Url,
    timeout: Duration,
    from: u64,
    expected: Option<Expected>,
) -> Result<Opened, AttemptError> {
    let mut req = agent.get(url.as_str());
    if from > 0 {
        req = req.header("Range", format!("bytes={from}-"));
    }
    let resp = req
        .config()
        .timeout_per_call(Some(timeout))
        .build()
        .call()
        .map_err(classify_ureq)?;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let length = resp.body().content_length();
    let start = match status {
        200 => 0,
        206 => {
            let range = header("content-range").unwrap_or_default();
            let (start, total) = parse_content_range(&range)
                .ok_or_else(|| AttemptError::BadRange(format!("Content-Range `{range}`")))?;
            if start > from {
                return Err(AttemptError::BadRange(format!(
                    "asked for bytes from {from}, got from {start}"
                )));
            }
            if let (Some(e), Some(total)) = (expected, total)
                && total != e.size
            {
                return Err(AttemptError::WrongSize {
                    expected: e.size,
                    announced: total,
                });
            }
            start
        }
        416 => return Err(AttemptError::BadRange("HTTP 416".into())),
        404 | 410 => return Err(AttemptError::NotFound(status)),
        _ => {
            let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
            return Err(AttemptError::Status {
                code: status,
                retry_after,
            });
        }
    };
    Ok(Opened {
        reader: Box::new(resp.into_body().into_reader()),
        start,
        length,
    })
}

pub(super) fn open_file(url: &Url, from: u64) -> Result<Opened, AttemptError> {
    let path = url
        .to_file_path()
        .map_err(|()| AttemptError::Unusable(format!("`{url}` is not a local path")))?;
    let mut file = std::fs::File::open(&path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            AttemptError::NotFoundFile(format!("{}: not found", path.display()))
        } else {
            AttemptError::File(format!("{}: {e}", path.display()))
        }
    })?;
    let len = file
        .metadata()
        .map_err(|e| AttemptError::File(format!("{}: {e}", path.display())))?
        .len();
    let start = from.min(len);
    file.seek(SeekFrom::Start(start))
        .map_err(|e| AttemptError::File(format!("{}: {e}", path.display())))?;
    Ok(Opened {
        reader: Box::new(file),
        start,
        length: Some(len - start),
    })
}

/// `bytes START-END/TOTAL` (TOTAL may be `*`).
pub(super) fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    if end < start {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start, total))
}

/// `Retry-After`: delay-seconds or an HTTP-date.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_release_date(v)?;
    let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()?;
    Some(Duration::from_secs(u64::try_from(at - now).unwrap_or(0)))
}

pub(super) fn classify_io(e: &io::Error) -> AttemptError {
    use io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable | NotConnected => {
            AttemptError::Connect(e.to_string())
        }
        TimedOut | WouldBlock => AttemptError::Timeout(e.to_string()),
        _ => AttemptError::Interrupted(e.to_string()),
    }
}

pub(super) fn classify_ureq(e: ureq::Error) -> AttemptError {
    use ureq::Error as U;
    match e {
        U::Io(io) => classify_io(&io),
        // Not even connected: the mirror (or the way to it) is down, as with a refused connection.
        U::Timeout(t @ (ureq::Timeout::Connect | ureq::Timeout::Resolve)) => {
            AttemptError::Connect(timeout_text(t))
        }
        U::Timeout(t) => AttemptError::Timeout(timeout_text(t)),
        U::HostNotFound | U::ConnectionFailed => AttemptError::Connect(e.to_string()),
        U::Tls(_) | U::Pem(_) | U::Rustls(_) | U::TlsRequired => AttemptError::Tls(e.to_string()),
        U::StatusCode(code) => AttemptError::Status {
            code,
            retry_after: None,
        },
        U::Protocol(_) | U::LargeResponseHeader(..) | U::BodyStalled => AttemptError::Protocol(e.to_string()),
        // Bad URLs, proxies, redirect loops: this mirror's configuration will not improve by waiting.
        other => AttemptError::Unusable(other.to_string()),
    }
}

pub(super) fn timeout_text(t: ureq::Timeout) -> String {
    match t {
        ureq::Timeout::PerRead => "stalled: no data within the stall timeout".into(),
        ureq::Timeout::PerCall => {
            "the attempt ran out of time (attempt timeout, or what was left of the deadline)".into()
        }
        ureq::Timeout::Connect | ureq::Timeout::Resolve => {
            format!("{other} took longer than the connect timeout", other = t)
        }
        other => format!("{other}"),
    }
}

/// Errors while reading a body: ureq wraps its own errors (timeouts) in `io::Error`.
pub(super) fn classify_body_io(e: io::Error) -> AttemptError {
    let inner_is_ureq = e.get_ref().is_some_and(|r| r.is::<ureq::Error>());
    if inner_is_ureq
        && let Some(inner) = e.into_inner()
        && let Ok(u) = inner.downcast::<ureq::Error>()
    {
        return match classify_ureq(*u) {
            // Anything going wrong mid-body is worth another (resumed) try.
            AttemptError::Unusable(s) | AttemptError::Tls(s) => AttemptError::Interrupted(s),
            other => other,
        };
    }
    AttemptError::Interrupted("body read failed".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::ErrorClass;

    #[test]
    fn parses_content_range_and_retry_after() {
        assert_eq!(parse_content_range("bytes 5-9/10"), Some((5, Some(10))));
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("bytes 9-5/10"), None);
        assert_eq!(parse_content_range("items 1-2/3"), None);
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn classification() {
        let s = |code| AttemptError::Status {
            code,
            retry_after: None,
        };
        assert_eq!(s(503).class(), ErrorClass::Transient);
        assert_eq!(s(429).class(), ErrorClass::Transient);
        assert_eq!(s(408).class(), ErrorClass::Transient);
        assert_eq!(s(403).class(), ErrorClass::Mirror);
        assert_eq!(AttemptError::NotFound(404).class(), ErrorClass::Mirror);
        assert_eq!(
            classify_io(&io::Error::from(io::ErrorKind::ConnectionRefused)).class(),
            ErrorClass::Transient
        );
        assert_eq!(
            classify_io(&io::Error::from(io::ErrorKind::ConnectionReset)).class(),
            ErrorClass::Transient
        );
    }
}
