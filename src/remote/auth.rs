//! Registry credentials and challenges, as registries and their clients do it:
//!
//! - credentials from the environment (`DEBCAST_REMOTE_CACHE_USERNAME` and
//!   `DEBCAST_REMOTE_CACHE_PASSWORD`), else from the first Docker/Podman `config.json` that has
//!   an entry for the registry's host: `credHelpers[host]` or `credsStore` (run as
//!   `docker-credential-NAME get`), else `auths[host]` (`auth` = base64 `user:password`, or
//!   `username`/`password`, or `identitytoken`);
//! - a `401` challenge `Basic realm=…` is answered with those credentials; `Bearer realm=…,
//!   service=…,scope=…` with a token from the realm (asked with the credentials when there are
//!   some, anonymously otherwise).

use std::path::PathBuf;

use base64::Engine as _;

pub const USERNAME_ENV: &str = "DEBCAST_REMOTE_CACHE_USERNAME";
pub const PASSWORD_ENV: &str = "DEBCAST_REMOTE_CACHE_PASSWORD";

/// What to log in with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`), exchanged at the token realm.
    IdentityToken(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credentials::IdentityToken(_) => write!(f, "IdentityToken(***)"),
        }
    }
}

impl Credentials {
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Credentials::IdentityToken(_) => None,
        }
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let params = parse_params(rest);
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    if scheme.eq_ignore_ascii_case("basic") {
        Some(Challenge::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        })
    } else {
        None
    }
}

/// `k="v", k2=v2` (values may be quoted and contain commas inside quotes).
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next().is_none() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_owned(), value.trim().to_owned()));
    }
    out
}

/// The credentials for `host` (`registry.example` or `127.0.0.1:5000`), if any source has some.
pub fn credentials_for(host: &str) -> Option<Credentials> {
    if let (Ok(username), Ok(password)) = (std::env::var(USERNAME_ENV), std::env::var(PASSWORD_ENV)) {
        return Some(Credentials::Basic { username, password });
    }
    for path in config_paths() {
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let Ok(config) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            tracing::warn!("remote cache: {} is not JSON; ignoring it", path.display());
            continue;
        };
        if let Some(c) = from_config(&config, host) {
            tracing::debug!("remote cache: credentials for {host} from {}", path.display());
            return Some(c);
        }
    }
    None
}

/// Docker's and Podman's places, in the order their tools look.
fn config_paths() -> Vec<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let mut out = Vec::new();
    if let Some(p) = env("REGISTRY_AUTH_FILE") {
        out.push(p);
    }
    if let Some(d) = env("XDG_RUNTIME_DIR") {
        out.push(d.join("containers/auth.json"));
    }
    if let Some(d) = env("DOCKER_CONFIG") {
        out.push(d.join("config.json"));
    }
    if let Some(home) = env("HOME") {
        out.push(home.join(".docker/config.json"));
        out.push(home.join(".config/containers/auth.json"));
    }
    out
}

/// The keys under which a config may name `host`.
fn host_keys(host: &str) -> Vec<String> {
    vec![
        host.to_owned(),
        format!("https://{host}"),
        format!("http://{host}"),
        format!("https://{host}/v1/"),
        format!("https://{host}/v2/"),
    ]
}

pub(crate) fn from_config(config: &serde_json::Value, host: &str) -> Option<Credentials> {
    let keys = host_keys(host);
    let helper = keys
        .iter()
        .find_map(|k| config.get("credHelpers")?.get(k)?.as_str())
        .or_else(|| config.get("credsStore")?.as_str());
    if let Some(helper) = helper
        && let Some(c) = from_helper(helper, host)
    {
        return Some(c);
    }
    let entry = keys.iter().find_map(|k| config.get("auths")?.get(k))?;
    let s = |k: &str| entry.get(k).and_then(|v| v.as_str()).filter(|v| !v.is_empty());
    if let Some(token) = s("identitytoken") {
        return Some(Credentials::IdentityToken(token.to_owned()));
    }
    if let Some(auth) = s("auth") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (username, password) = text.split_once(':')?;
        return Some(Credentials::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        });
    }
    Some(Credentials::Basic {
        username: s("username")?.to_owned(),
        password: s("password")?.to_owned(),
    })
}

/// Runs `docker-credential-NAME get` with the host on stdin (the credential helper protocol).
fn from_helper(name: &str, host: &str) -> Option<Credentials> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    if name.is_empty() || name.contains('/') {
        return None;
    }
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| tracing::debug!("remote cache: credential helper {program}: {e}"))
        .ok()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(host.as_bytes());
    }
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        tracing::debug!("remote cache: {program} has no credentials for {host}");
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let username = v.get("Username")?.as_str()?.to_owned();
    let secret = v.get("Secret")?.as_str()?.to_owned();
    if username == "<token>" {
        return Some(Credentials::IdentityToken(secret));
    }
    Some(Credentials::Basic {
        username,
        password: secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn reads_docker_config_auths() {
        let config = serde_json::json!({
            "auths": {
                "https://127.0.0.1:5000": {"auth": base64::engine::general_purpose::STANDARD.encode("ci:s3cret")},
                "other.example": {"username": "u", "password": "p"},
                "tok.example": {"identitytoken": "refresh"}
            }
        });
        assert_eq!(
            from_config(&config, "127.0.0.1:5000"),
            Some(Credentials::Basic {
                username: "ci".into(),
                password: "s3cret".into()
            })
        );
        assert_eq!(
            from_config(&config, "other.example"),
            Some(Credentials::Basic {
                username: "u".into(),
                password: "p".into()
            })
        );
        assert_eq!(
            from_config(&config, "tok.example"),
            Some(Credentials::IdentityToken("refresh".into()))
        );
        assert_eq!(from_config(&config, "none.example"), None);
    }
}
