//! shared-mime-info's database: debcast's `mime` emulation against the host's own
//! `update-mime-database` (the oracle), on the host's MIME sources, on the repository's fixtures
//! and on generated documents that exercise every element, error and ordering rule. Needs the
//! `shared-mime-info` package of a Debian release whose version debcast reproduces (bookworm's
//! 2.2); ignored by default, run by `just e2e`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use debcast::assemble::system::mime::{files, source};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

/// The host tool's upstream version (`update-mime-database -v`: `… (shared-mime-info) 2.2`).
fn host_version() -> String {
    let out = Command::new("update-mime-database")
        .arg("-v")
        .output()
        .unwrap_or_else(|e| panic!("update-mime-database: {e} (install shared-mime-info)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("update-mime-database -v printed {text:?}"))
}

fn read_tree(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_tree(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("below root")
                .to_string_lossy()
                .into_owned();
            out.insert(
                rel,
                std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
            );
        }
    }
}

/// Runs the host's update-mime-database and debcast on the same sources (name → text) and
/// returns a description of every file that differs (empty: identical trees).
fn compare(sources: &BTreeMap<String, String>) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let packages = dir.path().join("packages");
    std::fs::create_dir(&packages).expect("mkdir");
    for (name, text) in sources {
        std::fs::write(packages.join(name), text).expect("write source");
    }
    let status = Command::new("update-mime-database")
        .arg(dir.path())
        .env("PKGSYSTEM_ENABLE_FSYNC", "0")
        .output()
        .expect("update-mime-database runs");
    assert!(
        status.status.success(),
        "update-mime-database failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let mut want = BTreeMap::new();
    read_tree(dir.path(), dir.path(), &mut want);
    want.retain(|k, _| !k.starts_with("packages/"));

    let mut db = source::Database::default();
    let names: Vec<String> = sources.keys().cloned().collect();
    for name in source::source_order(&names) {
        if let Err(e) = db.load(&name, &sources[&name]) {
            return vec![format!("debcast refused {name}: {e:?}")];
        }
    }
    let got: BTreeMap<String, Vec<u8>> = files(&db, &host_version())
        .into_iter()
        .filter_map(|(p, _, c)| c.map(|c| (p, c)))
        .collect();
    let mut problems = Vec::new();
    for (path, bytes) in &want {
        match got.get(path) {
            None => problems.push(format!("{path}: only update-mime-database wrote it")),
            Some(g) if g != bytes => {
                let at = bytes
                    .iter()
                    .zip(g)
                    .position(|(a, b)| a != b)
                    .unwrap_or(bytes.len().min(g.len()));
                problems.push(format!(
                    "{path}: differs from byte {at} (lengths {} and {})",
                    bytes.len(),
                    g.len()
                ));
            }
            Some(_) => {}
        }
    }
    problems.extend(
        got.keys()
            .filter(|p| !want.contains_key(*p))
            .map(|p| format!("{p}: only debcast wrote it")),
    );
    problems
}

fn sources_in(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        out.insert(
            name,
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        );
    }
    out
}

#[test]
#[ignore = "needs the host's update-mime-database (shared-mime-info); just e2e"]
fn the_hosts_sources_and_the_fixtures_build_the_same_database() {
    let mut sources = sources_in(Path::new("/usr/share/mime/packages"));
    assert!(
        !sources.is_empty(),
        "the host has no MIME sources (install shared-mime-info)"
    );
    sources.extend(sources_in(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mime/packages"),
    ));
    let problems = compare(&sources);
    assert!(
        problems.is_empty(),
        "{} files differ:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A generated MIME source: random types, fields, values and errors (some the tool rejects).
struct Generator {
    rng: StdRng,
    types: Vec<String>,
}

impl Generator {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.choose(&mut self.rng).copied().unwrap_or("")
    }

    fn word(&mut self) -> String {
        let n = self.rng.random_range(1..8);
        (0..n)
            .map(|_| self.pick(&["a", "b", "c", "X", "Z", "0", "9", "-", ".", "+", "_"]))
            .collect()
    }

    fn pattern(&mut self) -> String {
        let base: String = (0..self.rng.random_range(1..6))
            .map(|_| self.pick(&["a", "b", "X", "é", "日", "-", "_", "."]))
            .collect();
        match self.rng.random_range(0..7) {
            0..=2 => format!("*.{base}"),
            3 => base,
            4 => format!("*{base}[0-9]"),
            5 => format!("{base}*"),
            _ => self
                .pick(&["README", "*.ZIP", "Makefile", "*.tar.gz", "*~", "core", "*.Z"])
                .to_owned(),
        }
    }

    fn matches(&mut self, depth: usize) -> String {
        let (ty, value) = match self.rng.random_range(0..9) {
            0..=3 => (
                "string",
                self.pick(&[
                    r"PK\003\004",
                    r"\x7fELF",
                    "abc",
                    "%PDF-",
                    r"\n\t\\",
                    r"\777",
                    r"x\x",
                ]),
            ),
            4 => ("byte", self.pick(&["0x7f", "17", "0777", "300", "-1"])),
            5 => ("big16", self.pick(&["0x1234", "65535", "65536", "12abc"])),
            6 => ("little32", self.pick(&["305419896", "0xffffffff", "-1"])),
            7 => ("host16", self.pick(&["0xfffe", "  5", "0x"])),
            _ => ("host32", self.pick(&["0xcafef00d", "0"])),
        };
        let offset = self.pick(&["0", "4", "0:64", "10:5", "-3", "7:", "2:8"]);
        let mut attrs = format!("type=\"{ty}\" value=\"{value}\" offset=\"{offset}\"");
        if self.rng.random_bool(0.2) {
            let mask = self.pick(&["0xff00", "0xffffff", "0xffffffffffff", "0xzz", "ff"]);
            attrs.push_str(&format!(" mask=\"{mask}\""));
        }
        let kids: String = if depth < 3 {
            (0..self.rng.random_range(0..3))
                .map(|_| self.matches(depth + 1))
                .collect()
        } else {
            String::new()
        };
        if kids.is_empty() {
            format!("<match {attrs}/>")
        } else {
            format!("<match {attrs}>{kids}</match>")
        }
    }

    fn field(&mut self) -> String {
        let lang = if self.rng.random_bool(0.5) {
            format!(" xml:lang=\"{}\"", self.pick(&["de", "fr", "pt_BR", "zh_CN"]))
        } else {
            String::new()
        };
        let other = self.types.choose(&mut self.rng).cloned().unwrap_or_default();
        match self.rng.random_range(0..20) {
            0..=4 => {
                let mut a = format!("pattern=\"{}\"", self.pattern());
                if self.rng.random_bool(0.3) {
                    a.push_str(&format!(" weight=\"{}\"", self.pick(&["10", "80", "100", "101", "-1", "60"])));
                }
                if self.rng.random_bool(0.2) {
                    a.push_str(" case-sensitive=\"true\"");
                }
                format!("<glob {a}/>")
            }
            5 | 6 => {
                let text = self.pick(&["Zip archive", "a &lt;b&gt; &amp; c", "Ünïcödé 日本", "tab\there", " lead"]);
                format!("<comment{lang}>{text}</comment>")
            }
            7 => format!("<acronym>{}</acronym><expanded-acronym{lang}>x &amp; y</expanded-acronym>", self.word()),
            8 => format!("<sub-class-of type=\"{other}\"/>"),
            9 => format!("<alias type=\"application/x-{}\"/>", self.word()),
            10 => format!("<generic-icon name=\"{}\"/>", self.word()),
            11 => format!("<icon name=\"{}\"/>", self.word()),
            12 | 13 => {
                let prio = self.pick(&["50", "80", "20", "101"]);
                let m: String = (0..self.rng.random_range(0..3)).map(|_| self.matches(0)).collect();
                format!("<magic priority=\"{prio}\">{m}</magic>")
            }
            14 => format!(
                "<treemagic priority=\"{}\"><treematch path=\"{}\" type=\"{}\" non-empty=\"true\"><treematch path=\"x\" executable=\"true\" mimetype=\"{other}\"/></treematch></treemagic>",
                self.pick(&["50", "80"]),
                self.word(),
                self.pick(&["file", "directory", "link"])
            ),
            15 => format!(
                "<root-XML namespaceURI=\"{}\" localName=\"{}\"/>",
                self.pick(&["http://example.org/ns", ""]),
                self.pick(&["svg", "doc", ""])
            ),
            16 => "<glob-deleteall/>".to_owned(),
            17 => "<magic-deleteall/>".to_owned(),
            18 => "<x:extra xmlns:x=\"http://example.org/x\" x:attr=\"1\">\n  <x:child a=\"&#10;v&#9;\"><y:deep xmlns:y=\"http://example.org/y\"/></x:child>\n</x:extra>".to_owned(),
            _ => "<other xmlns=\"http://example.org/o\"><inner>text</inner><!-- c --></other>".to_owned(),
        }
    }

    fn document(&mut self) -> String {
        let mut body = String::new();
        for _ in 0..self.rng.random_range(1..15) {
            let ty = self.types.choose(&mut self.rng).cloned().unwrap_or_default();
            let fields: String = (0..self.rng.random_range(0..8))
                .map(|_| format!("\n    {}", self.field()))
                .collect();
            body.push_str(&format!("  <mime-type type=\"{ty}\">{fields}\n  </mime-type>\n"));
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mime-info xmlns=\"http://www.freedesktop.org/standards/shared-mime-info\">\n{body}</mime-info>\n"
        )
    }
}

#[test]
#[ignore = "needs the host's update-mime-database (shared-mime-info); just e2e"]
fn generated_sources_build_the_same_database() {
    let mut failures = Vec::new();
    for seed in 0..60u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let media = [
            "application",
            "text",
            "image",
            "Foo",
            "x-content",
            "audio",
            "weird",
        ];
        let types = (0..rng.random_range(1..30))
            .map(|i| {
                format!(
                    "{}/x-{i}{}",
                    media[i % media.len()],
                    if i % 5 == 0 { "Up" } else { "" }
                )
            })
            .collect();
        let mut generator = Generator { rng, types };
        let mut sources = BTreeMap::new();
        for i in 0..generator.rng.random_range(1..4) {
            let name = if i == 2 {
                "Override.xml".to_owned()
            } else {
                format!("source-{i}.xml")
            };
            sources.insert(name, generator.document());
        }
        let problems = compare(&sources);
        if !problems.is_empty() {
            failures.push(format!("seed {seed}:\n  {}", problems.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
