//! Judging OCI output the way its consumers will: the OCI image-spec JSON schemas (as Debian ships
//! them), blob digests and sizes, layer diff_ids, and the real clients (`skopeo`, `umoci`).
//!
//! Every failure is a [`CheckError`] whose text says what was run or read and what came back, so
//! a failing test explains itself. Tools are required: a missing `skopeo` fails the test unless
//! `DEBCAST_TEST_SKIP_CLIENTS=1` explicitly opts out (see [`clients_enabled`]).

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// A check that failed; `Debug` prints the message as is (newlines included), so
/// `result.unwrap()` in a test shows the command output readably.
pub struct CheckError(pub String);

impl fmt::Debug for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckError {}

pub type CheckResult<T> = Result<T, CheckError>;

fn fail<T>(message: impl Into<String>) -> CheckResult<T> {
    Err(CheckError(message.into()))
}

pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_TYPE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Where Debian's `golang-github-opencontainers-image-spec-dev` puts the schemas;
/// `DEBCAST_OCI_SCHEMA_DIR` overrides it.
pub fn schema_dir() -> PathBuf {
    std::env::var_os("DEBCAST_OCI_SCHEMA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/gocode/src/github.com/opencontainers/image-spec/schema"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    Layout,
    Index,
    Manifest,
    Config,
    Descriptor,
}

impl Schema {
    fn file(self) -> &'static str {
        match self {
            Schema::Layout => "image-layout-schema.json",
            Schema::Index => "image-index-schema.json",
            Schema::Manifest => "image-manifest-schema.json",
            Schema::Config => "config-schema.json",
            Schema::Descriptor => "content-descriptor.json",
        }
    }
}

/// Draft-04 validation with python3-jsonschema. The schemas refer to each other by URLs under
/// opencontainers.org (and nested `id`s shift the base), so every remote reference is served from
/// the local file of the same base name: nothing is fetched.
const VALIDATOR: &str = r#"
import json, os, sys, warnings
warnings.simplefilter("ignore")
import jsonschema
from jsonschema import RefResolver
schema_dir = sys.argv[1]
def load(name):
    with open(os.path.join(schema_dir, name)) as f:
        return json.load(f)
def handler(uri):
    base = uri.split('#')[0].rsplit('/', 1)[-1]
    if not base.endswith('.json'):
        raise KeyError(uri)
    return load(base)
errors = []
for pair in sys.argv[2:]:
    schema_name, path = pair.split('=', 1)
    schema = load(schema_name)
    resolver = RefResolver(base_uri='file://' + os.path.join(schema_dir, schema_name), referrer=schema,
                           handlers={'https': handler, 'http': handler})
    with open(path) as f:
        doc = json.load(f)
    v = jsonschema.Draft4Validator(schema, resolver=resolver, format_checker=jsonschema.FormatChecker())
    for e in sorted(v.iter_errors(doc), key=lambda e: list(map(str, e.path))):
        errors.append('%s (%s): %s at /%s' % (path, schema_name, e.message, '/'.join(map(str, e.path))))
if errors:
    print('\n'.join(errors))
    sys.exit(1)
"#;

/// Validates each file against its schema, in one python3 run.
pub fn validate_schemas(docs: &[(Schema, PathBuf)]) -> CheckResult<()> {
    if docs.is_empty() {
        return Ok(());
    }
    let dir = schema_dir();
    if !dir.join(Schema::Index.file()).is_file() {
        return fail(format!(
            "OCI schemas not found in {} (install golang-github-opencontainers-image-spec-dev or set DEBCAST_OCI_SCHEMA_DIR)",
            dir.display()
        ));
    }
    // Debian's interpreter is the one `.ci/run` installs python3-jsonschema for; another python3
    // earlier in PATH (pyenv, a venv) may lack it.
    let python = if Path::new("/usr/bin/python3").is_file() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut cmd = Command::new(python);
    cmd.arg("-c").arg(VALIDATOR).arg(&dir);
    for (schema, path) in docs {
        cmd.arg(format!("{}={}", schema.file(), path.display()));
    }
    run(&mut cmd).map(|_| ())
}

/// Runs a command; on failure (or if it cannot start) the error names the command and shows its
/// exit status, stdout and stderr.
pub fn run(cmd: &mut Command) -> CheckResult<Output> {
    let shown = format!("{cmd:?}");
    let shown = if shown.len() > 2000 {
        format!("{}…", &shown[..shown.floor_char_boundary(2000)])
    } else {
        shown
    };
    let out = cmd
        .output()
        .map_err(|e| CheckError(format!("cannot run {shown}: {e}")))?;
    if !out.status.success() {
        return fail(format!(
            "command failed ({}): {shown}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out)
}

/// Whether tests should run the real clients. `DEBCAST_TEST_SKIP_CLIENTS=1` is the only way to
/// say no, and it is said loudly; otherwise a missing tool makes the client helpers fail.
pub fn clients_enabled() -> bool {
    if std::env::var("DEBCAST_TEST_SKIP_CLIENTS").is_ok_and(|v| v == "1") {
        eprintln!("DEBCAST_TEST_SKIP_CLIENTS=1: not running skopeo/umoci");
        return false;
    }
    true
}

fn tool(name: &str) -> CheckResult<Command> {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()));
    if !found {
        return fail(format!(
            "`{name}` is not installed (on PATH); install it, or set DEBCAST_TEST_SKIP_CLIENTS=1 to skip client checks explicitly"
        ));
    }
    Ok(Command::new(name))
}

fn stdout_json(out: &Output, what: &str) -> CheckResult<Value> {
    serde_json::from_slice(&out.stdout).map_err(|e| {
        CheckError(format!(
            "{what}: output is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        ))
    })
}

/// `skopeo inspect [extra…] REFERENCE` (e.g. `oci:DIR:REF`, `docker-archive:FILE`), parsed.
pub fn skopeo_inspect(reference: &str, extra: &[&str]) -> CheckResult<Value> {
    let out = run(tool("skopeo")?.arg("inspect").args(extra).arg(reference))?;
    stdout_json(&out, &format!("skopeo inspect {reference}"))
}

/// `skopeo inspect --raw REFERENCE`: the manifest or index exactly as stored.
pub fn skopeo_inspect_raw(reference: &str) -> CheckResult<Value> {
    let out = run(tool("skopeo")?.args(["inspect", "--raw"]).arg(reference))?;
    stdout_json(&out, &format!("skopeo inspect --raw {reference}"))
}

/// `skopeo copy --insecure-policy [extra…] SRC DST` (the policy is about signatures, which local
/// test images never have).
pub fn skopeo_copy(src: &str, dst: &str, extra: &[&str]) -> CheckResult<()> {
    run(tool("skopeo")?
        .args(["copy", "--insecure-policy", "--quiet"])
        .args(extra)
        .arg(src)
        .arg(dst))
    .map(|_| ())
}

/// `umoci unpack --rootless --image DIR:REF BUNDLE`; returns `BUNDLE/rootfs`. Rootless mode works
/// for any user, root included, and never needs device nodes to be creatable.
pub fn umoci_unpack(layout: &Path, ref_name: &str, bundle: &Path) -> CheckResult<PathBuf> {
    run(tool("umoci")?
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:{ref_name}", layout.display()))
        .arg(bundle))?;
    Ok(bundle.join("rootfs"))
}

/// SHA-256 and length of everything `r` yields.
pub fn sha256_reader(mut r: impl Read) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), len))
}

/// What a layout holds, after [`check_layout`] verified it.
#[derive(Debug, Clone)]
pub struct LayoutReport {
    /// `index.json` as parsed.
    pub index: Value,
    /// Ref name -> the `index.json` descriptor that carries it.
    pub refs: BTreeMap<String, Value>,
    /// Every image manifest reached, in walk order.
    pub images: Vec<ImageReport>,
}

#[derive(Debug, Clone)]
pub struct ImageReport {
    /// `sha256:…` of the manifest.
    pub digest: String,
    /// The `platform` of the descriptor that led here, if any.
    pub platform: Option<Value>,
    pub manifest: Value,
    pub config: Value,
}

/// Verifies an OCI image layout: `oci-layout`, `index.json` and every JSON blob against the
/// schemas; every blob reached from `index.json` exists with its digest and size; every layer
/// decompresses to its config's diff_id; configs have as many diff_ids as manifests have layers.
pub fn check_layout(dir: &Path) -> CheckResult<LayoutReport> {
    let layout = read_json(&dir.join("oci-layout"))?;
    if layout.get("imageLayoutVersion").and_then(Value::as_str) != Some("1.0.0") {
        return fail(format!("{}/oci-layout: {layout}", dir.display()));
    }
    let index_path = dir.join("index.json");
    let index = read_json(&index_path)?;
    let mut schema_docs = vec![
        (Schema::Layout, dir.join("oci-layout")),
        (Schema::Index, index_path.clone()),
    ];
    let mut refs = BTreeMap::new();
    let mut images = Vec::new();
    let descriptors = manifests_of(&index, &index_path)?;
    for d in &descriptors {
        if let Some(name) = d
            .get("annotations")
            .and_then(|a| a.get(ANNOTATION_REF_NAME))
            .and_then(Value::as_str)
            && refs.insert(name.to_owned(), d.clone()).is_some()
        {
            return fail(format!("{}: ref `{name}` listed twice", index_path.display()));
        }
    }
    let mut seen = BTreeMap::new();
    for d in descriptors {
        walk(dir, &d, &mut schema_docs, &mut images, &mut seen, 0)?;
    }
    validate_schemas(&schema_docs)?;
    Ok(LayoutReport { index, refs, images })
}

fn manifests_of(index: &Value, path: &Path) -> CheckResult<Vec<Value>> {
    match index.get("manifests").and_then(Value::as_array) {
        Some(m) => Ok(m.clone()),
        None => fail(format!("{}: no `manifests` array", path.display())),
    }
}

fn read_json(path: &Path) -> CheckResult<Value> {
    let bytes = std::fs::read(path).map_err(|e| CheckError(format!("{}: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| CheckError(format!("{}: not JSON: {e}", path.display())))
}

fn descriptor_fields(d: &Value) -> CheckResult<(String, String, u64)> {
    let media_type = d.get("mediaType").and_then(Value::as_str);
    let digest = d.get("digest").and_then(Value::as_str);
    let size = d.get("size").and_then(Value::as_u64);
    match (media_type, digest, size) {
        (Some(m), Some(g), Some(s)) => Ok((m.to_owned(), g.to_owned(), s)),
        _ => fail(format!("descriptor lacks mediaType/digest/size: {d}")),
    }
}

/// Path of a blob, after checking it exists with the descriptor's size and digest.
pub fn verified_blob(dir: &Path, descriptor: &Value) -> CheckResult<PathBuf> {
    let (_, digest, size) = descriptor_fields(descriptor)?;
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return fail(format!("digest `{digest}` is not sha256"));
    };
    let path = dir.join("blobs").join("sha256").join(hex);
    let file = File::open(&path).map_err(|e| CheckError(format!("{}: {e}", path.display())))?;
    let (actual, len) =
        sha256_reader(BufReader::new(file)).map_err(|e| CheckError(format!("{}: {e}", path.display())))?;
    if actual != hex || len != size {
        return fail(format!(
            "{}: descriptor says sha256:{hex} ({size} bytes), blob is sha256:{actual} ({len} bytes)",
            path.display()
        ));
    }
    Ok(path)
}

/// A reader of a layer's uncompressed tar, by media type.
pub fn open_layer(path: &Path, media_type: &str) -> CheckResult<Box<dyn Read>> {
    let file = BufReader::new(File::open(path).map_err(|e| CheckError(format!("{}: {e}", path.display())))?);
    Ok(match media_type {
        "application/vnd.oci.image.layer.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.diff.tar.gzip" => Box::new(flate2::read::GzDecoder::new(file)),
        "application/vnd.oci.image.layer.v1.tar+zstd" => Box::new(
            zstd::stream::read::Decoder::new(file)
                .map_err(|e| CheckError(format!("{}: zstd: {e}", path.display())))?,
        ),
        "application/vnd.oci.image.layer.v1.tar" => Box::new(file),
        other => return fail(format!("{}: unknown layer media type {other}", path.display())),
    })
}

fn walk(
    dir: &Path,
    d: &Value,
    schema_docs: &mut Vec<(Schema, PathBuf)>,
    images: &mut Vec<ImageReport>,
    seen: &mut BTreeMap<String, ()>,
    depth: usize,
) -> CheckResult<()> {
    if depth > 8 {
        return fail("image indexes nest deeper than 8 levels");
    }
    let (media_type, digest, _) = descriptor_fields(d)?;
    let path = verified_blob(dir, d)?;
    match media_type.as_str() {
        MEDIA_TYPE_INDEX => {
            let index = read_json(&path)?;
            if index.get("mediaType").and_then(Value::as_str) != Some(MEDIA_TYPE_INDEX) {
                return fail(format!("{}: index without its mediaType", path.display()));
            }
            schema_docs.push((Schema::Index, path.clone()));
            for child in manifests_of(&index, &path)? {
                if child.get("platform").is_none() {
                    return fail(format!("{}: manifest {child} has no platform", path.display()));
                }
                walk(dir, &child, schema_docs, images, seen, depth + 1)?;
            }
        }
        MEDIA_TYPE_MANIFEST => {
            let manifest = read_json(&path)?;
            if manifest.get("mediaType").and_then(Value::as_str) != Some(MEDIA_TYPE_MANIFEST) {
                return fail(format!("{}: manifest without its mediaType", path.display()));
            }
            let config_desc = manifest.get("config").cloned().unwrap_or(Value::Null);
            let (config_type, _, _) = descriptor_fields(&config_desc)?;
            if let Some(artifact_type) = manifest.get("artifactType").and_then(Value::as_str) {
                // An OCI 1.1 artifact manifest (an SBOM beside its image): its blobs are there
                // with their digests and sizes, its subject is a manifest of this layout, and the
                // index descriptor names the same artifactType.
                if d.get("artifactType").and_then(Value::as_str) != Some(artifact_type) {
                    return fail(format!(
                        "{}: artifactType {artifact_type}, its descriptor says {}",
                        path.display(),
                        d.get("artifactType").unwrap_or(&Value::Null)
                    ));
                }
                verified_blob(dir, &config_desc)?;
                for layer in manifest
                    .get("layers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    verified_blob(dir, layer)?;
                }
                let subject = manifest.get("subject").cloned().unwrap_or(Value::Null);
                let (subject_type, _, _) = descriptor_fields(&subject)?;
                if subject_type != MEDIA_TYPE_MANIFEST {
                    return fail(format!("{}: subject {subject}", path.display()));
                }
                verified_blob(dir, &subject)?;
                schema_docs.push((Schema::Manifest, path.clone()));
                return Ok(());
            }
            if config_type != MEDIA_TYPE_CONFIG {
                return fail(format!("{}: config media type {config_type}", path.display()));
            }
            let config_path = verified_blob(dir, &config_desc)?;
            let config = read_json(&config_path)?;
            let layers = manifest
                .get("layers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let diff_ids = config
                .pointer("/rootfs/diff_ids")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if layers.len() != diff_ids.len() {
                return fail(format!(
                    "{}: {} layers but config {} has {} diff_ids",
                    path.display(),
                    layers.len(),
                    config_path.display(),
                    diff_ids.len()
                ));
            }
            // Layers shared between platforms are hashed once.
            for (layer, diff_id) in layers.iter().zip(&diff_ids) {
                let (layer_type, layer_digest, _) = descriptor_fields(layer)?;
                if seen.contains_key(&layer_digest) {
                    continue;
                }
                let layer_path = verified_blob(dir, layer)?;
                let (actual, _) = sha256_reader(open_layer(&layer_path, &layer_type)?)
                    .map_err(|e| CheckError(format!("{}: {e}", layer_path.display())))?;
                let actual = format!("sha256:{actual}");
                if Some(actual.as_str()) != diff_id.as_str() {
                    return fail(format!(
                        "{}: uncompressed digest {actual}, config says {diff_id}",
                        layer_path.display()
                    ));
                }
                seen.insert(layer_digest, ());
            }
            schema_docs.push((Schema::Manifest, path.clone()));
            schema_docs.push((Schema::Config, config_path));
            images.push(ImageReport {
                digest,
                platform: d.get("platform").cloned(),
                manifest,
                config,
            });
        }
        other => return fail(format!("{}: unexpected media type {other}", path.display())),
    }
    Ok(())
}

/// One entry of a tar stream, as a reader that applies PAX extensions sees it.
#[derive(Debug, Clone)]
pub struct TarEntry {
    /// Path with PAX `path` applied.
    pub path: String,
    /// Link target with PAX `linkpath` applied.
    pub link_name: Option<String>,
    /// The raw ustar header (its fields are what was written, before PAX overrides).
    pub header: tar::Header,
    /// The entry's PAX records, if a PAX header preceded it.
    pub pax: BTreeMap<String, String>,
    pub content: Vec<u8>,
}

/// Every entry of a tar stream, for exact header checks.
pub fn tar_entries(r: impl Read) -> CheckResult<Vec<TarEntry>> {
    let mut archive = tar::Archive::new(r);
    let mut out = Vec::new();
    for entry in archive.entries().map_err(|e| CheckError(format!("tar: {e}")))? {
        let mut entry = entry.map_err(|e| CheckError(format!("tar: {e}")))?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let link_name = entry
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned());
        let mut pax = BTreeMap::new();
        if let Some(exts) = entry
            .pax_extensions()
            .map_err(|e| CheckError(format!("tar entry {path}: PAX: {e}")))?
        {
            for ext in exts {
                let ext = ext.map_err(|e| CheckError(format!("tar entry {path}: PAX: {e}")))?;
                pax.insert(
                    String::from_utf8_lossy(ext.key_bytes()).into_owned(),
                    String::from_utf8_lossy(ext.value_bytes()).into_owned(),
                );
            }
        }
        let header = entry.header().clone();
        let mut content = Vec::new();
        entry
            .read_to_end(&mut content)
            .map_err(|e| CheckError(format!("tar entry {path}: {e}")))?;
        out.push(TarEntry {
            path,
            link_name,
            header,
            pax,
            content,
        });
    }
    Ok(out)
}

/// Verifies a docker-archive tarball: `manifest.json` names a config and layers present in the
/// archive, and each layer's digest (uncompressed) is the config's diff_id at its position.
/// Returns the parsed `manifest.json`.
pub fn check_docker_archive(path: &Path) -> CheckResult<Value> {
    let file = File::open(path).map_err(|e| CheckError(format!("{}: {e}", path.display())))?;
    let entries = tar_entries(BufReader::new(file))?;
    let files: BTreeMap<&str, &Vec<u8>> = entries
        .iter()
        .map(|e| (e.path.trim_end_matches('/'), &e.content))
        .collect();
    let get = |name: &str| {
        files
            .get(name)
            .copied()
            .ok_or_else(|| CheckError(format!("{}: no `{name}` in the archive", path.display())))
    };
    let manifest: Value = serde_json::from_slice(get("manifest.json")?)
        .map_err(|e| CheckError(format!("{}: manifest.json: {e}", path.display())))?;
    let Some([image]) = manifest.as_array().map(Vec::as_slice) else {
        return fail(format!(
            "{}: manifest.json is not one image: {manifest}",
            path.display()
        ));
    };
    let config_name = image.get("Config").and_then(Value::as_str).unwrap_or("");
    let config: Value = serde_json::from_slice(get(config_name)?)
        .map_err(|e| CheckError(format!("{}: {config_name}: {e}", path.display())))?;
    let layers = image
        .get("Layers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let diff_ids = config
        .pointer("/rootfs/diff_ids")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if layers.len() != diff_ids.len() {
        return fail(format!(
            "{}: {} layers, {} diff_ids",
            path.display(),
            layers.len(),
            diff_ids.len()
        ));
    }
    for (layer, diff_id) in layers.iter().zip(&diff_ids) {
        let name = layer.as_str().unwrap_or("");
        let (digest, _) = sha256_reader(&get(name)?[..])
            .map_err(|e| CheckError(format!("{}: {name}: {e}", path.display())))?;
        if Some(format!("sha256:{digest}").as_str()) != diff_id.as_str() {
            return fail(format!(
                "{}: layer {name} is sha256:{digest}, config says {diff_id}",
                path.display()
            ));
        }
    }
    Ok(manifest)
}
