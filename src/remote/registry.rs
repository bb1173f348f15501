//! A small client of the OCI distribution API (blobs: HEAD, GET, monolithic POST+PUT upload;
//! manifests: HEAD, GET, PUT by tag) over a blocking `ureq` agent, with the transport's timeouts,
//! retries and backoff, and the registries' authentication (see [`super::auth`]).

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use ureq::http::{self, Response};

use super::auth::{self, Challenge, Credentials};
use crate::fetch::transport::TransportConfig;
use crate::hash::Sha256Digest;

pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{method} {url}: {source}")]
    Transport {
        method: String,
        url: String,
        source: Box<ureq::Error>,
    },
    #[error("{method} {url}: HTTP {status}{}", if .body.is_empty() { String::new() } else { format!(": {}", .body) })]
    Status {
        method: String,
        url: String,
        status: u16,
        body: String,
    },
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("{0}")]
    Other(String),
}

impl RegistryError {
    /// Whether another attempt may succeed (a connection failure, a timeout, 408, 429, 5xx).
    pub fn transient(&self) -> bool {
        match self {
            RegistryError::Transport { .. } | RegistryError::Io { .. } => true,
            RegistryError::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            RegistryError::Other(_) => false,
        }
    }
}

/// What a request sends.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// One repository of one registry.
pub struct Registry {
    agent: ureq::Agent,
    /// `http://127.0.0.1:5000` (scheme and authority).
    origin: String,
    /// `team/debcast-cache`.
    repository: String,
    host: String,
    credentials: Option<Credentials>,
    /// The `Authorization` value that last worked (or was issued).
    authorization: Mutex<Option<String>>,
    retries: u32,
    backoff_base: Duration,
    backoff_max: Duration,
}

impl Registry {
    /// `url`: `http[s]://HOST[:PORT]/REPOSITORY`.
    pub fn new(url: &str, config: &TransportConfig) -> Result<Self, RegistryError> {
        let parsed = url::Url::parse(url).map_err(|e| RegistryError::Other(format!("{url}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(RegistryError::Other(format!(
                "{url}: a remote cache URL is http:// or https://, then the registry and the repository"
            )));
        }
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => return Err(RegistryError::Other(format!("{url}: no host"))),
        };
        let repository = parsed.path().trim_matches('/').to_owned();
        if repository.is_empty() {
            return Err(RegistryError::Other(format!(
                "{url}: no repository (e.g. {}://{host}/team/debcast-cache)",
                parsed.scheme()
            )));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_resolve(Some(config.connect_timeout))
            .timeout_per_read(Some(config.stall_timeout))
            .timeout_recv_response(Some(config.stall_timeout))
            .timeout_global(Some(config.attempt_timeout))
            .user_agent(config.user_agent.as_str())
            .build()
            .new_agent();
        Ok(Registry {
            agent,
            origin: format!("{}://{host}", parsed.scheme()),
            credentials: auth::credentials_for(&host),
            host,
            repository,
            authorization: Mutex::new(None),
            retries: config.retries,
            backoff_base: config.backoff_base,
            backoff_max: config.backoff_max,
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/v2/{}/{tail}", self.origin, self.repository)
    }

    fn once(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &Body<'_>,
        authorization: Option<&str>,
    ) -> Result<Response<ureq::Body>, RegistryError> {
        let mut builder = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        if let Some(a) = authorization {
            builder = builder.header("Authorization", a);
        }
        let transport = |source: ureq::Error| RegistryError::Transport {
            method: method.to_owned(),
            url: url.to_owned(),
            source: Box::new(source),
        };
        let bad = |e: http::Error| RegistryError::Other(format!("{method} {url}: {e}"));
        match body {
            // A POST without a body still says `Content-Length: 0` (not chunked framing).
            Body::Empty if !matches!(method, "GET" | "HEAD") => {
                let req = builder.body(&[][..]).map_err(bad)?;
                self.agent.run(req).map_err(transport)
            }
            Body::Empty => {
                let req = builder.body(()).map_err(bad)?;
                self.agent.run(req).map_err(transport)
            }
            Body::Bytes(b) => {
                let req = builder.body(*b).map_err(bad)?;
                self.agent.run(req).map_err(transport)
            }
            Body::File(path) => {
                let file = File::open(path).map_err(|source| RegistryError::Io {
                    what: path.display().to_string(),
                    source,
                })?;
                let req = builder.body(file).map_err(bad)?;
                self.agent.run(req).map_err(transport)
            }
        }
    }

    /// One request, authenticated as the registry asks, retried while it fails transiently.
    /// Returns the response whatever its status (but 5xx/429/408 after the retries are errors).
    pub fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &Body<'_>,
    ) -> Result<Response<ureq::Body>, RegistryError> {
        let mut attempt = 0;
        let mut challenged = false;
        loop {
            let authorization = self.authorization.lock().ok().and_then(|a| a.clone());
            let result = self.once(method, url, headers, body, authorization.as_deref());
            let error = match result {
                Ok(resp) if resp.status() == 401 && !challenged => {
                    challenged = true;
                    let challenge = resp
                        .headers()
                        .get("WWW-Authenticate")
                        .and_then(|v| v.to_str().ok())
                        .and_then(auth::parse_challenge);
                    let header = match challenge {
                        Some(Challenge::Basic) => {
                            self.credentials.as_ref().and_then(Credentials::basic_header)
                        }
                        Some(Challenge::Bearer {
                            realm,
                            service,
                            scope,
                        }) => Some(self.token(&realm, service.as_deref(), scope.as_deref())?),
                        None => None,
                    };
                    let Some(header) = header else {
                        return Err(RegistryError::Status {
                            method: method.to_owned(),
                            url: url.to_owned(),
                            status: 401,
                            body: "unauthorized, and no credentials for it (see the README: remote cache)"
                                .into(),
                        });
                    };
                    if let Ok(mut a) = self.authorization.lock() {
                        *a = Some(header);
                    }
                    continue;
                }
                Ok(resp) if matches!(resp.status().as_u16(), 408 | 429 | 500..=599) => {
                    status_error(method, url, resp)
                }
                Ok(resp) => return Ok(resp),
                Err(e) => e,
            };
            if !error.transient() || attempt >= self.retries {
                return Err(error);
            }
            attempt += 1;
            let factor = 1u32 << (attempt - 1).min(16);
            let pause = self.backoff_base.saturating_mul(factor).min(self.backoff_max);
            tracing::debug!("remote cache: {error}; retrying in {pause:?}");
            std::thread::sleep(pause);
        }
    }

    /// A bearer token from `realm` for `scope` (with the credentials if there are some).
    fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
    ) -> Result<String, RegistryError> {
        let mut url =
            url::Url::parse(realm).map_err(|e| RegistryError::Other(format!("token realm {realm}: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = service {
                q.append_pair("service", s);
            }
            if let Some(s) = scope {
                q.append_pair("scope", s);
            }
        }
        let url = url.to_string();
        let basic = self.credentials.as_ref().and_then(Credentials::basic_header);
        let mut resp = match &self.credentials {
            Some(Credentials::IdentityToken(refresh)) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token");
                form.append_pair("refresh_token", refresh);
                form.append_pair("service", service.unwrap_or_default());
                form.append_pair("scope", scope.unwrap_or_default());
                form.append_pair("client_id", "debcast");
                let body = form.finish();
                self.once(
                    "POST",
                    realm,
                    &[("Content-Type", "application/x-www-form-urlencoded")],
                    &Body::Bytes(body.as_bytes()),
                    None,
                )?
            }
            _ => self.once("GET", &url, &[], &Body::Empty, basic.as_deref())?,
        };
        if !resp.status().is_success() {
            return Err(status_error("GET", &url, resp));
        }
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| RegistryError::Other(format!("token from {url}: {e}")))?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| RegistryError::Other(format!("token from {url}: not JSON: {e}")))?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .ok_or_else(|| RegistryError::Other(format!("token from {url}: no `token` in the answer")))?;
        Ok(format!("Bearer {token}"))
    }

    /// Whether the repository has the blob.
    pub fn has_blob(&self, digest: &Sha256Digest) -> Result<bool, RegistryError> {
        let url = self.url(&format!("blobs/{}", digest.oci()));
        let resp = self.request("HEAD", &url, &[], &Body::Empty)?;
        match resp.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(status_error("HEAD", &url, resp)),
        }
    }

    /// The blob's body (not yet verified: the caller hashes what it reads), `None` if absent.
    pub fn get_blob(&self, digest: &Sha256Digest) -> Result<Option<impl Read + use<>>, RegistryError> {
        let url = self.url(&format!("blobs/{}", digest.oci()));
        let resp = self.request("GET", &url, &[], &Body::Empty)?;
        match resp.status().as_u16() {
            200..=299 => Ok(Some(resp.into_body().into_reader())),
            404 => Ok(None),
            _ => Err(status_error("GET", &url, resp)),
        }
    }

    /// A small blob in memory, verified against `digest`; `None` if absent.
    pub fn get_small_blob(
        &self,
        digest: &Sha256Digest,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let Some(reader) = self.get_blob(digest)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        reader
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| RegistryError::Io {
                what: format!("blob {}", digest.oci()),
                source,
            })?;
        let actual = Sha256Digest::of(&bytes);
        if actual != *digest {
            return Err(RegistryError::Other(format!(
                "blob {} is corrupt: its bytes hash to {}",
                digest.oci(),
                actual.oci()
            )));
        }
        Ok(Some(bytes))
    }

    /// Uploads a blob in one request (POST for a session, then PUT with the digest).
    pub fn put_blob(&self, digest: &Sha256Digest, body: &Body<'_>) -> Result<(), RegistryError> {
        let url = self.url("blobs/uploads/");
        let resp = self.request("POST", &url, &[], &Body::Empty)?;
        if resp.status() != 202 {
            return Err(status_error("POST", &url, resp));
        }
        let location = resp
            .headers()
            .get("Location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| RegistryError::Other(format!("POST {url}: no Location")))?;
        let mut upload = if location.starts_with('/') {
            format!("{}{location}", self.origin)
        } else {
            location.to_owned()
        };
        upload.push(if upload.contains('?') { '&' } else { '?' });
        upload.push_str(&format!("digest={}", digest.oci()));
        let resp = self.request(
            "PUT",
            &upload,
            &[("Content-Type", "application/octet-stream")],
            body,
        )?;
        if !resp.status().is_success() {
            return Err(status_error("PUT", &upload, resp));
        }
        Ok(())
    }

    /// Whether the tag exists.
    pub fn has_manifest(&self, tag: &str) -> Result<bool, RegistryError> {
        let url = self.url(&format!("manifests/{tag}"));
        let resp = self.request("HEAD", &url, &[("Accept", MEDIA_TYPE_MANIFEST)], &Body::Empty)?;
        match resp.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(status_error("HEAD", &url, resp)),
        }
    }

    /// The manifest a tag names, `None` if there is none.
    pub fn get_manifest(&self, tag: &str) -> Result<Option<Vec<u8>>, RegistryError> {
        let url = self.url(&format!("manifests/{tag}"));
        let mut resp = self.request("GET", &url, &[("Accept", MEDIA_TYPE_MANIFEST)], &Body::Empty)?;
        match resp.status().as_u16() {
            200..=299 => {
                let bytes = resp
                    .body_mut()
                    .with_config()
                    .limit(4 << 20)
                    .read_to_vec()
                    .map_err(|e| RegistryError::Other(format!("GET {url}: {e}")))?;
                Ok(Some(bytes))
            }
            404 => Ok(None),
            _ => Err(status_error("GET", &url, resp)),
        }
    }

    pub fn put_manifest(&self, tag: &str, bytes: &[u8]) -> Result<(), RegistryError> {
        let url = self.url(&format!("manifests/{tag}"));
        let resp = self.request(
            "PUT",
            &url,
            &[("Content-Type", MEDIA_TYPE_MANIFEST)],
            &Body::Bytes(bytes),
        )?;
        if !resp.status().is_success() {
            return Err(status_error("PUT", &url, resp));
        }
        Ok(())
    }
}

fn status_error(method: &str, url: &str, mut resp: Response<ureq::Body>) -> RegistryError {
    let body = resp
        .body_mut()
        .with_config()
        .limit(4096)
        .read_to_string()
        .unwrap_or_default();
    RegistryError::Status {
        method: method.to_owned(),
        url: url.to_owned(),
        status: resp.status().as_u16(),
        body: crate::text::sanitize(body.trim()).chars().take(200).collect(),
    }
}
