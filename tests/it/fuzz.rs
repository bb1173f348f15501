//! Fuzz targets for every parser of untrusted input, as ordinary tests (see `fuzz_support` for the
//! driver): `cargo test --test it fuzz::` runs each briefly from its committed corpus
//! (`fuzz/corpus/<target>/`); `just fuzz` runs them for longer. Acceptance for every target:
//! hostile input is an error, never a panic, a hang or unbounded memory.

use crate::fuzz_support;

use std::io::{Cursor, Write};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use debcast::archive::keyring::{Keyring, verify_detached, verify_inrelease};
use debcast::archive::packages::{IndexOrigin, parse_packages};
use debcast::archive::release::Release;
use debcast::artifact;
use debcast::assemble::system::mime;
use debcast::assemble::system::shell;
use debcast::deb::{Control, Deb, DebError};
use debcast::hash::Sha256Digest;
use debcast::lockfile::LockedArtifact;
use debcast::lockfile::Lockfile;
use debcast::manifest::Manifest;
use debcast::manifest::{Artifact, ArtifactFormat};
use debcast_testkit::archive::{self as tk, ArchiveBuilder, TestKey};
use debcast_testkit::deb::{Compression, DebBuilder, LongNames, RawEntry, RawKind, ar_archive};
use fuzz_support::{corpus_dir, fuzz};

// ---------------------------------------------------------------------------------------------
// Tokens the mutator inserts, per input language.

const DEB822: &[&[u8]] = &[
    b"\n",
    b"\n\n",
    b"\n ",
    b"\n .",
    b": ",
    b"Package: ",
    b"Version: ",
    b"Architecture: ",
    b"Installed-Size: ",
    b"SHA256:",
    b"Size: ",
    b"Filename: ",
    b"Depends: ",
    b"Date: ",
    b"Valid-Until: ",
    b"Sat, 01 Jun 2024 12:00:00 UTC",
    b"Thu, 01 Jan 1970 00:00:00 +9999",
    b" 0000000000000000000000000000000000000000000000000000000000000000 123 main/binary-amd64/Packages",
    b"\xc3\xa9",
    b"\xff\xfe",
    b"#",
];

const AR_TAR: &[&[u8]] = &[
    b"!<arch>\n",
    b"`\n",
    b"debian-binary   ",
    b"control.tar.xz  ",
    b"data.tar.gz/    ",
    b"//              ",
    b"/0              ",
    b"#1/20           ",
    b"ustar\x00",
    b"ustar  \x00",
    b"././@LongLink",
    b"../",
    b"/etc/passwd",
    b"./usr/bin/x",
    b"path=",
    b"linkpath=",
    b"30 size=99999999999999999999\n",
    b"\xfd7zXZ\x00",
    b"\x1f\x8b\x08",
    b"\x28\xb5\x2f\xfd",
    b"BZh9",
];

const ZIP: &[&[u8]] = &[
    b"PK\x03\x04",
    b"PK\x01\x02",
    b"PK\x05\x06",
    b"PK\x06\x06",
    b"PK\x06\x07",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x00\x00",
    b"../",
    b"/",
    b"bin/",
    b"\x0a\x00",
];

const SHELL: &[&[u8]] = &[
    b"$(",
    b")",
    b"`",
    b"${",
    b"}",
    b"${x:-",
    b"$((",
    b"((",
    b"{ ",
    b" }",
    b"(",
    b"\"",
    b"'",
    b"\\",
    b"if true; then ",
    b"; fi",
    b"case $1 in ",
    b" esac",
    b";;",
    b"for x in a b; do ",
    b"while false; do ",
    b"; done",
    b"f() { f; f; }; f\n",
    b"<<EOF\n",
    b"\nEOF\n",
    b"<<-'E'\n",
    b"&&",
    b"||",
    b"|",
    b";",
    b"\n",
    b"# ",
    b". /usr/share/debconf/confmodule\n",
    b"update-alternatives --install /usr/bin/x x /usr/bin/y 10\n",
    b"[ -x /usr/bin/x ] && ",
    b"command -v ",
    b"set -- a b c\n",
    b"shift 99\n",
    b"eval ",
    b"local ",
    b"$@",
    b"\"$@\"",
    b"$#",
    b"$9",
    b"return 1\n",
    b"exit 0\n",
];

const XML: &[&[u8]] = &[
    b"<mime-type type=\"a/b\">",
    b"</mime-type>",
    b"<glob pattern=\"*.x\" weight=\"80\"/>",
    b"<glob-deleteall/>",
    b"<magic priority=\"60\"><match type=\"string\" value=\"\\x7f\" offset=\"0:4\" mask=\"0xff\">",
    b"</match></magic>",
    b"<match type=\"host16\" value=\"-1\" offset=\"2\"/>",
    b"<treemagic><treematch path=\"a\" type=\"directory\">",
    b"</treematch></treemagic>",
    b"<sub-class-of type=\"text/plain\"/>",
    b"<alias type=\"x/y\"/>",
    b"<root-XML namespaceURI=\"\" localName=\"x\"/>",
    b"<comment xml:lang=\"de\">",
    b"</comment>",
    b"<x:y xmlns:x=\"urn:x\">",
    b"&amp;",
    b"\xc3\xa9",
];

const TOML: &[&[u8]] = &[
    b"[",
    b"]",
    b"[[",
    b"]]",
    b"\n",
    b" = ",
    b"\"",
    b"'''",
    b"\"\"\"",
    b"{",
    b"}",
    b",",
    b"[image]\n",
    b"[[source]]\n",
    b"[[package]]\n",
    b"[[release]]\n",
    b"[[artifact]]\n",
    b"platforms = [\"linux/amd64\", \"linux/arm64/v8\"]\n",
    b"sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
    b"sha256:",
    b"size = 18446744073709551615\n",
    b"1979-05-27T07:32:00Z",
    b"inf",
    b"\\u0000",
];

const PGP: &[&[u8]] = &[
    b"-----BEGIN PGP SIGNED MESSAGE-----\n",
    b"Hash: SHA512\n\n",
    b"-----BEGIN PGP SIGNATURE-----\n",
    b"-----END PGP SIGNATURE-----\n",
    b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n",
    b"-----END PGP PUBLIC KEY BLOCK-----\n",
    b"- ",
    b"\n\n",
    b"\r\n",
    b"=",
    b"====",
    b"AAAA",
    b"\x88\x75\x04",
    b"\xc2\xff\xff\xff\xff",
    b"\x99\x00\x33",
];

// ---------------------------------------------------------------------------------------------
// Targets.

/// Reads a whole `.deb`: ar layout, control area, then every data entry's content.
fn run_deb(bytes: &[u8]) {
    let Ok(mut deb) = Deb::from_reader(Cursor::new(bytes), "fuzz.deb") else {
        return;
    };
    let c = deb.control();
    let _ = (c.installed_size(), c.depends(), c.essential(), c.to_string());
    let mut sink = [0u8; 8192];
    let _ = deb.visit_data::<DebError>(|entry, content| {
        let _ = entry.path.len();
        // Read it all: content errors must be errors too.
        loop {
            match content.read(&mut sink) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => {
                    return Err(DebError::Io {
                        deb: "fuzz.deb".into(),
                        what: "content".into(),
                        source: e,
                    });
                }
            }
        }
    });
}

/// Tar headers carry a checksum; fix it for every block that looks like a header so that
/// mutations reach past it (the `deb` target keeps broken checksums).
fn fix_tar_checksums(tar: &mut [u8]) {
    for block in tar.chunks_mut(512) {
        if block.len() == 512 && &block[257..262] == b"ustar" {
            block[148..156].fill(b' ');
            let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
            let field = format!("{sum:06o}\0 ");
            block[148..156].copy_from_slice(field.as_bytes());
        }
    }
}

fn minimal_builder() -> DebBuilder {
    DebBuilder::new("fuzz", "1.0-1", "amd64")
        .control_compression(Compression::None)
        .data_compression(Compression::None)
}

/// The input is an uncompressed `control.tar` inside an otherwise valid `.deb`.
fn run_control_tar(bytes: &[u8]) {
    let mut tar = bytes.to_vec();
    fix_tar_checksums(&mut tar);
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    let data = DATA.get_or_init(|| {
        minimal_builder()
            .file("usr/share/doc/fuzz/x", "x\n", 0o644)
            .data_tar()
    });
    let deb = ar_archive(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar", &tar),
        ("data.tar", data),
    ]);
    run_deb(&deb);
}

/// The input is an uncompressed `data.tar` inside an otherwise valid `.deb`.
fn run_data_tar(bytes: &[u8]) {
    let mut tar = bytes.to_vec();
    fix_tar_checksums(&mut tar);
    static CONTROL: OnceLock<Vec<u8>> = OnceLock::new();
    let control = CONTROL.get_or_init(|| {
        minimal_builder()
            .control_field("Installed-Size", "100")
            .control_tar()
    });
    let deb = ar_archive(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar", control),
        ("data.tar", &tar),
    ]);
    run_deb(&deb);
}

/// The start of a message about an input (which may be a megabyte).
fn short(s: &str) -> String {
    s.chars().take(300).collect()
}

/// A `control` paragraph; what parses must write back and parse to the same.
fn run_control(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(c) = Control::parse(&text) {
        let _ = (
            c.package(),
            c.version(),
            c.architecture(),
            c.installed_size(),
            c.description(),
        );
        match Control::parse(&c.to_string()) {
            Ok(again) => assert!(
                again == c,
                "a control paragraph changed when written back and read again"
            ),
            Err(e) => panic!(
                "a parsed control paragraph does not parse back: line {}: {}",
                e.line,
                short(&e.what)
            ),
        }
    }
}

fn run_release(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(r) = Release::parse(&text) {
        let _ = r.matches_suite("stable");
    }
}

fn fuzz_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::new("debcast fuzz").expect("generating the fuzz key"))
}

fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| {
        let bytes = fuzz_key().public_binary().expect("the fuzz key's public half");
        Keyring::from_bytes(&bytes, Path::new("fuzz.gpg")).expect("the fuzz keyring")
    })
}

fn verify_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::from(tk::RELEASE_TIME) + 86_400)
}

/// A clearsigned `InRelease`: split, verify, and parse what verified.
fn run_inrelease(bytes: &[u8]) {
    if let Ok(v) = verify_inrelease(bytes, keyring(), verify_time()) {
        let _ = Release::parse(&v.text);
    }
}

/// Separates the Release text from its detached signature in one input.
const SIG_MARK: &[u8] = b"\n--debcast-fuzz-signature--\n";

/// `Release` + `Release.gpg`, one input (split at [`SIG_MARK`]).
fn run_release_gpg(bytes: &[u8]) {
    let (release, sig) = match bytes.windows(SIG_MARK.len()).position(|w| w == SIG_MARK) {
        Some(i) => (&bytes[..i], &bytes[i + SIG_MARK.len()..]),
        None => (bytes, &[][..]),
    };
    let _ = verify_detached(release, sig, keyring(), verify_time());
}

fn run_keyring(bytes: &[u8]) {
    if let Ok(k) = Keyring::from_bytes(bytes, Path::new("fuzz.gpg")) {
        let _ = k.fingerprints();
    }
}

fn run_packages(bytes: &[u8]) {
    let origin = IndexOrigin {
        archive: "debian",
        suite: "stable",
        component: "main",
        index: "main/binary-amd64/Packages",
    };
    let _ = parse_packages(bytes, origin);
}

/// A maintainer script: parsed, every command listed, and walked as `postinst configure`
/// against an image where every path exists and `. FILE` reads the script itself again.
fn run_shell(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let Ok(nodes) = shell::parse(&text) else {
        return;
    };
    let mut all = Vec::new();
    shell::all_commands(&nodes, &mut all);
    let mut calls = 0usize;
    let mut on_command = |c: shell::Call<'_>| {
        calls += 1;
        let _ = c.argv.map(|a| a.len());
    };
    let files = |p: &str| -> Option<shell::FileKind> {
        match p.len() % 3 {
            0 => Some(shell::FileKind::Dir),
            1 => Some(shell::FileKind::File {
                executable: true,
                empty: false,
            }),
            _ => None,
        }
    };
    let links = |p: &str| p.ends_with('l');
    let source = |_: &str| Some(text.clone());
    let _ = shell::Eval::new(&["configure", ""], &mut on_command)
        .with_package("fuzz", "amd64", "postinst", "amd64")
        .with_files(&files)
        .with_links(&links)
        .with_source(&source)
        .run_script(&nodes);
}

/// A MIME source of `/usr/share/mime/packages`, read as update-mime-database reads it, then the
/// whole database written from it (per-type XML, globs, magic, `mime.cache`).
fn run_mime(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let mut db = mime::source::Database::default();
    if db.load("fuzz.xml", &text).is_ok() {
        let _ = mime::files(&db, "2.2");
    }
}

fn run_manifest(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(m) = Manifest::parse(&text, Path::new("fuzz.toml")) {
        let _ = (m.usrmerge(), m.lock_inputs_hash(), m.ref_name());
        for p in &m.image.platforms {
            let _ = m.requests_for(p);
            for a in &m.artifacts {
                let _ = a.for_platform(p);
            }
        }
    }
}

/// A lockfile; what parses must write back and parse to the same.
fn run_lockfile(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(l) = Lockfile::parse(&text, Path::new("fuzz.lock")) {
        let _ = l.source_date_epoch();
        let written = l.to_toml();
        match Lockfile::parse(&written, Path::new("fuzz.lock")) {
            Ok(again) => assert!(again == l, "a lockfile changed when written back and read again"),
            Err(e) => panic!("a parsed lockfile does not parse back: {}", short(&e.to_string())),
        }
    }
}

/// Two artifacts over the same file: everything at `/opt/x`, and `include` with
/// `strip-components` under `/usr/local` (for a merged-/usr image).
fn artifacts() -> &'static (Vec<Artifact>, LockedArtifact) {
    static ARTIFACTS: OnceLock<(Vec<Artifact>, LockedArtifact)> = OnceLock::new();
    ARTIFACTS.get_or_init(|| {
        let text = r#"
[image]
name = "fuzz"
platforms = ["linux/amd64"]
[[source]]
archive = "debian"
suites = ["stable"]
components = ["main"]
keyring = "fuzz.gpg"
[packages]
include = ["base-files"]
[[artifact]]
name = "all"
url = "https://example.invalid/x.tar"
dest = "/opt/x"
[[artifact]]
name = "some"
url = "https://example.invalid/y.tar"
dest = "/usr/local"
strip-components = 1
include = ["bin", "include"]
uid = 1000
"#;
        let m = Manifest::parse(text, Path::new("fuzz.toml")).expect("the artifact target's manifest");
        let locked = LockedArtifact {
            platform: "linux/amd64".parse().expect("a platform"),
            name: "all".into(),
            url: "https://example.invalid/x.tar".into(),
            size: None,
            sha256: Sha256Digest::of(b""),
        };
        (m.artifacts, locked)
    })
}

fn run_artifact(bytes: &[u8], format: ArtifactFormat) {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(bytes).and_then(|()| file.flush()).is_err() {
        return;
    }
    let (list, locked) = artifacts();
    for (a, usrmerge) in list.iter().zip([false, true]) {
        if let Ok(u) = artifact::unpack(a, format, locked, file.path(), usrmerge) {
            for (_, span) in u.entries.values() {
                if let Ok(mut r) = u.content(*span) {
                    let _ = std::io::copy(&mut r, &mut std::io::sink());
                }
            }
        }
    }
}

/// An uncompressed artifact tar (checksums fixed, as for the data tar).
fn run_artifact_tar(bytes: &[u8]) {
    let mut tar = bytes.to_vec();
    fix_tar_checksums(&mut tar);
    run_artifact(&tar, ArtifactFormat::Tar);
}

fn run_artifact_zip(bytes: &[u8]) {
    run_artifact(bytes, ArtifactFormat::Zip);
}

#[test]
fn artifact_tar() {
    fuzz("artifact_tar", AR_TAR, run_artifact_tar);
}

#[test]
fn artifact_zip() {
    fuzz("artifact_zip", ZIP, run_artifact_zip);
}

#[test]
fn deb() {
    fuzz("deb", AR_TAR, run_deb);
}

#[test]
fn control_tar() {
    fuzz("control_tar", AR_TAR, run_control_tar);
}

#[test]
fn data_tar() {
    fuzz("data_tar", AR_TAR, run_data_tar);
}

#[test]
fn control() {
    fuzz("control", DEB822, run_control);
}

#[test]
fn release() {
    fuzz("release", DEB822, run_release);
}

#[test]
fn inrelease() {
    fuzz("inrelease", PGP, run_inrelease);
}

#[test]
fn release_gpg() {
    fuzz("release_gpg", PGP, run_release_gpg);
}

#[test]
fn keyring_bytes() {
    fuzz("keyring", PGP, run_keyring);
}

#[test]
fn packages() {
    fuzz("packages", DEB822, run_packages);
}

#[test]
fn shell_script() {
    fuzz("shell", SHELL, run_shell);
}

#[test]
fn mime_source() {
    fuzz("mime", XML, run_mime);
}

#[test]
fn manifest() {
    fuzz("manifest", TOML, run_manifest);
}

#[test]
fn lockfile() {
    fuzz("lockfile", TOML, run_lockfile);
}

// ---------------------------------------------------------------------------------------------
// The seed corpus: `cargo test --test it fuzz::write_corpus -- --ignored` writes `seed-*` files (and
// leaves every other file, such as regression inputs, alone).

fn write_seeds(target: &str, seeds: Vec<(&str, Vec<u8>)>) {
    let dir = corpus_dir(target);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in seeds {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
}

fn sample_debs() -> Vec<(&'static str, DebBuilder)> {
    let base = || {
        DebBuilder::new("hello", "2.10-3", "amd64")
            .depends("libc6 (>= 2.34)")
            .control_field("Installed-Size", "120")
            .control_field("Description", "say hello\n A classic.\n .\n Really.")
            .file("usr/bin/hello", b"\x7fELF fake binary\n", 0o755)
            .file("usr/share/doc/hello/copyright", "Copyright: nobody\n", 0o644)
            .symlink("usr/bin/hi", "hello")
            .maintainer_script(
                "postinst",
                "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n  ldconfig\nfi\n",
            )
    };
    let long = format!("usr/share/{}/{}", "d".repeat(60), "f".repeat(60));
    vec![
        ("xz.deb", base()),
        (
            "gz.deb",
            base()
                .data_compression(Compression::Gzip)
                .control_compression(Compression::Gzip),
        ),
        (
            "zst.deb",
            base()
                .data_compression(Compression::Zstd)
                .control_compression(Compression::Zstd),
        ),
        (
            "bz2.deb",
            base()
                .data_compression(Compression::Bzip2)
                .control_compression(Compression::None),
        ),
        (
            "plain.deb",
            base()
                .data_compression(Compression::None)
                .control_compression(Compression::None)
                .hardlink("usr/bin/hello2", "usr/bin/hello")
                .dir("var/lib/hello", 0o755)
                .fifo("run/hello.fifo")
                .owner("var/lib/hello", 1000, 1000, "user", "user"),
        ),
        (
            "gnu-long.deb",
            base()
                .data_compression(Compression::None)
                .control_compression(Compression::None)
                .file(&long, "long\n", 0o644)
                .symlink(&(long.clone() + "-link"), &("../".repeat(3) + "x")),
        ),
        (
            "pax-long.deb",
            base()
                .data_compression(Compression::None)
                .control_compression(Compression::None)
                .long_names(LongNames::Pax)
                .file(&long, "long\n", 0o644)
                .raw_entry(
                    RawEntry::new("./usr/share/pax", RawKind::File(b"pax\n".to_vec()))
                        .pax("mtime", "1700000000.5")
                        .pax("uid", "4294967296"),
                ),
        ),
        (
            "gnu-ar.deb",
            base()
                .gnu_ar_names(true)
                .extra_member("_gpgorigin", "sig")
                .data_compression(Compression::None)
                .control_compression(Compression::None),
        ),
    ]
}

fn sample_shell() -> Vec<(&'static str, Vec<u8>)> {
    let scripts: &[(&str, &str)] = &[
        (
            "debhelper",
            "#!/bin/sh\nset -e\n\n# Automatically added by dh_installalternatives\nif [ \"$1\" = \"configure\" ] || [ \"$1\" = \"abort-upgrade\" ] || [ \"$1\" = \"abort-deconfigure\" ] || [ \"$1\" = \"abort-remove\" ]; then\n\tupdate-alternatives --install /usr/bin/editor editor /bin/nano 40 \\\n\t\t--slave /usr/share/man/man1/editor.1.gz editor.1.gz /usr/share/man/man1/nano.1.gz\nfi\n# End automatically added section\n",
        ),
        (
            "case",
            "#!/bin/sh\nset -e\ncase \"$1\" in\n    configure)\n        if ! getent group shadow >/dev/null; then addgroup --system shadow; fi\n        chown root:shadow /etc/shadow\n        chmod 640 /etc/shadow\n    ;;\n    abort-upgrade|abort-remove|abort-deconfigure)\n    ;;\n    *)\n        echo \"postinst called with unknown argument \\`$1'\" >&2\n        exit 1\n    ;;\nesac\nexit 0\n",
        ),
        (
            "functions",
            "#!/bin/sh\nset -e\nARCH=$(dpkg --print-architecture)\nLIBDIR=/usr/lib/${ARCH:-x86_64}-linux-gnu\nsetup() {\n  local d=\"$1\"\n  for f in a b \"c d\"; do\n    [ -d \"$d\" ] || mkdir -p \"$d/$f\"\n  done\n  return 0\n}\nsetup \"$LIBDIR\"\nwhile read -r line; do echo \"$line\"; done <<EOF\none\ntwo\nEOF\nif command -v ldconfig >/dev/null 2>&1; then ldconfig; elif [ -x /sbin/ldconfig ]; then /sbin/ldconfig; else :; fi\n",
        ),
        (
            "debconf",
            "#!/bin/sh\nset -e\n. /usr/share/debconf/confmodule\ndb_get foo/bar || true\nX=`echo $RET | sed -e 's/,/ /g'`\nfor i in $X; do ln -sf /etc/$i /etc/alt/$i; done\necho $((1 + 2)) ${X#y}\ndb_stop\n",
        ),
    ];
    scripts.iter().map(|(n, s)| (*n, s.as_bytes().to_vec())).collect()
}

/// Replaces every `scheme://host/` in `text` with `https://example.invalid/`: seeds carry no
/// real host name.
fn scrub_hosts(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i);
        let scheme_start = head
            .rfind(|c: char| !c.is_ascii_alphanumeric())
            .map_or(0, |j| j + 1);
        out.push_str(&head[..scheme_start]);
        out.push_str("https://example.invalid");
        let after = &tail[3..];
        let host_end = after.find(['/', '"', '\'', ' ', '\n']).unwrap_or(after.len());
        rest = &after[host_end..];
    }
    out.push_str(rest);
    out
}

#[test]
#[ignore = "writes the committed seed corpus; run by hand after changing it"]
fn write_corpus() {
    // Whole .debs, and their tars alone.
    let debs = sample_debs();
    write_seeds("deb", debs.iter().map(|(n, b)| (*n, b.build())).collect());
    let tars = |f: fn(&DebBuilder) -> Vec<u8>| -> Vec<(&str, Vec<u8>)> {
        debs.iter()
            .filter(|(n, _)| ["plain.deb", "gnu-long.deb", "pax-long.deb"].contains(n))
            .map(|(n, b)| (n.trim_end_matches(".deb"), f(b)))
            .collect()
    };
    write_seeds("control_tar", tars(|b: &DebBuilder| b.control_tar()));
    write_seeds("data_tar", tars(|b: &DebBuilder| b.data_tar()));

    write_seeds(
        "control",
        vec![
            ("hello", debs[0].1.control_text().into_bytes()),
            (
                "full",
                b"Package: libfoo1\nSource: foo (1.2-3)\nVersion: 1:1.2-3+b1\nArchitecture: arm64\nMaintainer: A <a@example.invalid>\nInstalled-Size: 4242\nPre-Depends: libc6 (>= 2.36)\nDepends: libbar2 (>= 2) | libbaz, libqux:any\nProvides: libfoo (= 1.2)\nConflicts: libfoo0\nBreaks: old (<< 2)\nReplaces: old (<< 2)\nMulti-Arch: same\nEssential: no\nSection: libs\nPriority: optional\nHomepage: https://example.invalid/\nDescription: foo library\n Long text here.\n .\n More.\n"
                    .to_vec(),
            ),
        ],
    );

    // An archive: Release, InRelease, Release + Release.gpg, Packages.
    let key = fuzz_key();
    let dir = tempfile::tempdir().unwrap();
    let mut archive = ArchiveBuilder::new("stable");
    archive.architectures = vec!["amd64".into(), "arm64".into()];
    archive
        .simple("base-files", "12.4+deb12u5", "amd64", None)
        .simple("libc6", "2.36-9+deb12u4", "amd64", Some("libgcc-s1"))
        .simple(
            "bash",
            "5.2.15-2+b2",
            "amd64",
            Some("base-files (>= 2.1.12), debianutils (>= 5.6-0.1)"),
        )
        .simple("tzdata", "2024a-0+deb12u1", "all", None);
    archive.valid_until = Some(tk::release_date(i64::from(tk::RELEASE_TIME) + 7 * 86_400));
    let release = archive.write(dir.path(), &[key]).unwrap();
    let dists = dir.path().join("dists/stable");
    let inrelease = std::fs::read(dists.join("InRelease")).unwrap();
    let gpg = std::fs::read(dists.join("Release.gpg")).unwrap();
    write_seeds("release", vec![("synthetic", release.clone().into_bytes())]);
    write_seeds("inrelease", vec![("synthetic", inrelease)]);
    let mut detached = release.into_bytes();
    detached.extend_from_slice(SIG_MARK);
    detached.extend_from_slice(&gpg);
    write_seeds("release_gpg", vec![("synthetic", detached)]);
    write_seeds(
        "keyring",
        vec![
            ("binary", key.public_binary().unwrap()),
            ("armored", key.public_armored().unwrap().into_bytes()),
        ],
    );
    let mut packages = archive.packages_text("main", "amd64");
    packages.push_str(
        "\nPackage: libfoo1\nSource: foo (1.2-3)\nVersion: 1:1.2-3+b1\nArchitecture: amd64\nMulti-Arch: same\nPre-Depends: libc6 (>= 2.36)\nDepends: libbar2 (>= 2) | libbaz, libqux:any\nProvides: libfoo (= 1.2)\nEssential: yes\nPriority: required\nInstalled-Size: 99\nFilename: pool/main/f/foo/libfoo1_1.2-3+b1_amd64.deb\nSize: 1234\nSHA256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nDescription: foo\n continued\n",
    );
    write_seeds("packages", vec![("synthetic", packages.into_bytes())]);

    write_seeds("shell", sample_shell());

    // MIME sources: the repository's fixtures (every element kind and error).
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mime/packages");
    write_seeds(
        "mime",
        ["a-base.xml", "b-more.xml", "Override.xml"]
            .iter()
            .map(|n| (*n, std::fs::read(fixtures.join(n)).unwrap()))
            .collect(),
    );

    // Artifacts: a Go-shaped tar and a protoc-shaped zip.
    let go = DebBuilder::new("go", "1", "amd64")
        .file("go/bin/go", b"\x7fELF go\n", 0o755)
        .file("go/include/x.h", "int x;\n", 0o644)
        .symlink("go/bin/gofmt-link", "go")
        .hardlink("go/bin/go2", "go/bin/go")
        .file("go/README", "left out by include\n", 0o644);
    write_seeds("artifact_tar", vec![("go", go.data_tar())]);
    let zip_bytes = |deflate: bool| {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let method = if deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        zip.add_directory("protoc/include/", opts.unix_permissions(0o755))
            .unwrap();
        zip.start_file("protoc/bin/protoc", opts.unix_permissions(0o755))
            .unwrap();
        zip.write_all(b"#!/bin/sh\necho libprotoc 23.4\n").unwrap();
        zip.start_file("protoc/include/empty.proto", opts.unix_permissions(0o644))
            .unwrap();
        zip.write_all(b"syntax = \"proto3\";\n").unwrap();
        zip.add_symlink("protoc/bin/link", "protoc", opts).unwrap();
        zip.finish().unwrap().into_inner()
    };
    write_seeds(
        "artifact_zip",
        vec![("stored", zip_bytes(false)), ("deflated", zip_bytes(true))],
    );

    // The repository's own manifests and the smallest lock.
    let root = fuzz_support::repo_root();
    let read = |p: &str| scrub_hosts(&std::fs::read_to_string(root.join(p)).unwrap()).into_bytes();
    write_seeds(
        "manifest",
        vec![
            ("static.toml", read("manifests/static.toml")),
            ("base.toml", read("manifests/base.toml")),
            ("kube-cross.toml", read("manifests/kube-cross.toml")),
        ],
    );
    write_seeds("lockfile", vec![("static.lock", read("manifests/static.lock"))]);
}
