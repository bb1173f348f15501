//! `linux-update-symlinks {install|upgrade|remove} VERSION IMAGE-PATH` (linux-base's, run by
//! every Debian kernel package's postinst and postrm): the links to the default kernel image and
//! initramfs (`/vmlinuz`, `/vmlinuz.old`, `/initrd.img`, `/initrd.img.old`), kept on the newest
//! kernel just installed and the one before it. linux-base 4.x's rules, computed from the image:
//! `/etc/kernel-img.conf`, the images under `/boot` and the links already there. The image's
//! script and its DebianLinux module are checked to be the version reproduced.

use std::cmp::Ordering;

use super::shell::{FileKind, Value};
use super::{Changes, Overlay, TreeView, file_kind, glob_paths};
use crate::entry::EntryKind;

const SCRIPT: &str = "usr/bin/linux-update-symlinks";
const MODULE: &str = "usr/share/perl5/DebianLinux.pm";
const CONF: &str = "etc/kernel-img.conf";

/// The lines of the image's script and module that decide what is linked where.
const RULES: &[(&str, &str)] = &[
    (
        SCRIPT,
        "my @sorted_images = sort({version_cmp($a->[0], $b->[0])} image_list());",
    ),
    (
        SCRIPT,
        "promote_default(\\@sorted_images, \"${default_dir}${image_stem}.old\");",
    ),
    (SCRIPT, "if ($change eq 'install') {"),
    (SCRIPT, "@{$sorted_images[@sorted_images >= 2 ? -2 : -1]};"),
    (SCRIPT, "$ENV{INITRD} eq 'No'"),
    (MODULE, "return $version =~ /(?:\\d+|-?[^-\\d]*)/g;"),
    (
        MODULE,
        "my $left_pre = defined($left) && $left =~ /^-(?:rc|trunk)$/;",
    ),
    (MODULE, "for (glob(\"/boot/vmlinu[xz]-*\")) {"),
    (MODULE, "$conf->{image_dest} = '/boot';"),
];

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Install,
    Upgrade,
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub change: Change,
    pub version: String,
    pub image_path: String,
}

/// The script's one form: three arguments, the first the change.
pub fn parse(args: &[String]) -> Result<Call, String> {
    let [change, version, image_path] = args else {
        return Err("linux-update-symlinks takes CHANGE VERSION IMAGE-PATH".into());
    };
    let change = match change.as_str() {
        "install" => Change::Install,
        "upgrade" => Change::Upgrade,
        "remove" => Change::Remove,
        other => return Err(format!("linux-update-symlinks: unknown change `{other}`")),
    };
    if version.is_empty() || version.contains('/') || !image_path.starts_with('/') {
        return Err(
            "linux-update-symlinks: the version or image path is not one a kernel package gives".into(),
        );
    }
    Ok(Call {
        change,
        version: version.clone(),
        image_path: image_path.clone(),
    })
}

/// DebianLinux's `version_split`: digit runs, and the other text broken before each hyphen;
/// Perl's `//g` adds an empty match at the end.
fn version_split(version: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let b = version.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        } else {
            if b[i] == b'-' {
                i += 1;
            }
            while i < b.len() && b[i] != b'-' && !b[i].is_ascii_digit() {
                i += 1;
            }
        }
        parts.push(&version[start..i]);
    }
    parts.push("");
    parts
}

/// Two digit runs as numbers (of any length).
fn numeric_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// DebianLinux's `version_cmp`: `-rc`/`-trunk` before anything, the end before anything else,
/// digits as numbers, the rest as bytes.
pub fn version_cmp(left: &str, right: &str) -> Ordering {
    let (l, r) = (version_split(left), version_split(right));
    for i in 0.. {
        let (a, b) = (l.get(i).copied(), r.get(i).copied());
        let pre = |s: Option<&str>| matches!(s, Some("-rc" | "-trunk"));
        let (a_pre, b_pre) = (pre(a), pre(b));
        if a_pre || b_pre {
            if !b_pre {
                return Ordering::Less;
            }
            if !a_pre {
                return Ordering::Greater;
            }
        }
        let (a, b) = match (a, b) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(a), Some(b)) => (a, b),
        };
        let digits = |s: &str| s.as_bytes().first().is_some_and(u8::is_ascii_digit);
        let o = if digits(a) && digits(b) {
            numeric_cmp(a, b)
        } else {
            a.cmp(b)
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// `/etc/kernel-img.conf`'s `do_symlinks` and where the links go (`image_dest`, `/boot` with
/// `link_in_boot`), as `read_kernelimg_conf` reads them: the last valid line of each wins.
fn read_conf(text: &str) -> (bool, String) {
    let (mut do_symlinks, mut link_in_boot, mut image_dest) = (true, false, "/".to_owned());
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            continue;
        }
        let value = value.trim_start();
        let boolean = match value.trim_end().to_ascii_lowercase().as_str() {
            "no" | "false" | "0" => Some(false),
            "yes" | "true" | "1" => Some(true),
            _ => None,
        };
        match (name.as_str(), boolean) {
            ("do_symlinks", Some(b)) => do_symlinks = b,
            ("link_in_boot", Some(b)) => link_in_boot = b,
            ("image_dest", _) => image_dest = value.split_whitespace().next().unwrap_or("").to_owned(),
            _ => {}
        }
    }
    if link_in_boot {
        image_dest = "/boot".to_owned();
    }
    (do_symlinks, format!("{}/", image_dest.trim_end_matches('/')))
}

/// File::Spec's `canonpath` of an absolute path: no empty or `.` components, no `..` right
/// after the root (`/../boot` is `/boot`); another `..` stays.
fn canon(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .skip_while(|p| *p == "..")
        .collect();
    format!("/{}", parts.join("/"))
}

/// File::Spec's `abs2rel(path, base)`: textual, `..` for each of base's components not shared.
fn abs2rel(path: &str, base: &str) -> String {
    let (path, base) = (canon(path), canon(base));
    let p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let b: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out: Vec<&str> = vec![".."; b.len() - common];
    out.extend(&p[common..]);
    if out.is_empty() {
        ".".to_owned()
    } else {
        out.join("/")
    }
}

fn dir_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..=i])
}

fn link_target(tree: &dyn TreeView, path: &str) -> Option<String> {
    match tree.entry(&super::tree_path(path)).map(|e| &e.kind) {
        Some(EntryKind::Symlink { target }) => Some(target.clone()),
        _ => None,
    }
}

/// The kernel image's name stem on the machine `arch` is: `vmlinux` where the historical name
/// is uncompressed (DebianLinux's `image_stem` on MIPS, PA-RISC and PowerPC).
fn image_stem(arch: &str) -> &'static str {
    if ["mips", "hppa", "powerpc", "ppc"]
        .iter()
        .any(|p| arch.starts_with(p))
    {
        "vmlinux"
    } else {
        "vmlinuz"
    }
}

type Image = (String, String, Option<String>);

/// Runs the image's `linux-update-symlinks` for a kernel package of architecture `arch`, with
/// the script's environment (`INITRD=No`: no initramfs link).
pub fn apply(
    overlay: &mut Overlay<'_>,
    call: &Call,
    arch: &str,
    env: &[(String, Value)],
) -> Result<(), String> {
    for (file, line) in RULES {
        let text = super::read_file(overlay, file)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("/{file} is not in the image"))?;
        if !String::from_utf8_lossy(&text).contains(line) {
            return Err(format!("/{file} is not the version reproduced (linux-base 4's)"));
        }
    }
    if arch == "all" {
        return Err("the machine's architecture is not known to a package for all architectures".into());
    }
    let conf = match super::read_file(overlay, CONF).map_err(|e| e.to_string())? {
        Some(bytes) => read_conf(&String::from_utf8_lossy(&bytes)),
        None => read_conf(""),
    };
    let (do_symlinks, default_dir) = conf;
    if !do_symlinks {
        return Ok(());
    }
    let initrd_env = match env.iter().rev().find(|(n, _)| n == "INITRD") {
        Some((_, Value::Known(v))) => Some(v.clone()),
        Some((_, Value::Unknown(why))) => return Err(format!("INITRD is not known ({why})")),
        None => None,
    };
    let stem = image_stem(arch);
    let regular = |p: &str| matches!(file_kind(overlay, p), Some(FileKind::File { .. }));
    let mut images: Vec<String> = glob_paths(overlay, "/boot/vmlinu*-*")
        .into_iter()
        .filter(|p| {
            let name = &p["/boot/".len()..];
            (name.starts_with("vmlinuz-") || name.starts_with("vmlinux-")) && !p.ends_with(".sig")
        })
        .collect();
    images.sort();
    let mut sorted: Vec<Image> = images
        .into_iter()
        .map(|p| {
            let version = p["/boot/vmlinu?-".len()..].to_owned();
            let initrd = format!("/boot/initrd.img-{version}");
            let initrd = regular(&initrd).then_some(initrd);
            (version, p, initrd)
        })
        .collect();
    sorted.sort_by(|a, b| version_cmp(&a.0, &b.0));
    let initrd = (initrd_env.as_deref() != Some("No")).then(|| format!("/boot/initrd.img-{}", call.version));
    let this: Image = (call.version.clone(), call.image_path.clone(), initrd);
    // This version in its place for an upgrade, out of the list otherwise.
    for i in 0..=sorted.len() {
        let diff = match sorted.get(i) {
            Some(s) => version_cmp(&call.version, &s.0),
            None => Ordering::Less,
        };
        if diff == Ordering::Equal {
            if call.change == Change::Upgrade {
                sorted[i] = this.clone();
            } else {
                sorted.remove(i);
            }
            break;
        } else if diff == Ordering::Less {
            if call.change == Change::Upgrade {
                sorted.insert(i, this.clone());
            }
            break;
        }
    }
    // Links already there (not broken) come first: the old one, then the default.
    for link in [format!("{default_dir}{stem}.old"), format!("{default_dir}{stem}")] {
        if let Some(target) = link_target(overlay, &link) {
            let abs = if target.starts_with('/') {
                canon(&target)
            } else {
                canon(&format!("{}{target}", dir_of(&link)))
            };
            if let Some(i) = sorted.iter().position(|s| s.1 == abs) {
                let promoted = sorted.remove(i);
                sorted.push(promoted);
            }
        }
    }
    if call.change == Change::Install {
        sorted.push(this);
    }
    let mut c = Changes::default();
    let mut set = |source: Option<&str>, dest: String| -> Result<(), String> {
        let tree = super::tree_path(&dest);
        let there = overlay.entry(&tree).map(|e| &e.kind);
        match source {
            // Made under a temporary name and renamed over whatever is there (the rename fails
            // over a directory, and the script dies).
            Some(_) if matches!(there, Some(EntryKind::Directory)) => {
                return Err(format!("{dest} is a directory"));
            }
            Some(source) => {
                let rel = abs2rel(source, dir_of(&dest));
                if !matches!(there, Some(EntryKind::Symlink { target }) if *target == rel) {
                    c.symlink(&tree, &rel);
                }
            }
            // Perl's `unlink` of a directory fails quietly.
            None if there.is_some_and(|k| !matches!(k, EntryKind::Directory)) => c.removed.push(tree),
            None => {}
        }
        Ok(())
    };
    let pair = match sorted.len() {
        0 => None,
        n => Some((&sorted[n.saturating_sub(2)], &sorted[n - 1])),
    };
    match pair {
        None => {
            for name in [
                format!("{stem}.old"),
                "initrd.img.old".into(),
                stem.into(),
                "initrd.img".into(),
            ] {
                set(None, format!("{default_dir}{name}"))?;
            }
        }
        Some((old, cur)) => {
            set(Some(&old.1), format!("{default_dir}{stem}.old"))?;
            set(old.2.as_deref(), format!("{default_dir}initrd.img.old"))?;
            set(Some(&cur.1), format!("{default_dir}{stem}"))?;
            set(cur.2.as_deref(), format!("{default_dir}initrd.img"))?;
        }
    }
    overlay.apply(c);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;

    /// The lines [`RULES`] looks for, as linux-base 4.12's script and module have them.
    fn tree() -> MemTree {
        let mut t = MemTree::new();
        let script: String = RULES
            .iter()
            .filter(|(f, _)| *f == SCRIPT)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let module: String = RULES
            .iter()
            .filter(|(f, _)| *f == MODULE)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        t.file(SCRIPT, script.as_bytes())
            .mode(SCRIPT, 0o755)
            .file(MODULE, module.as_bytes())
            .dir("boot");
        t
    }

    fn call(change: &str, version: &str) -> Call {
        parse(&[change.into(), version.into(), format!("/boot/vmlinuz-{version}")]).unwrap()
    }

    fn links(o: &Overlay<'_>) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = ["vmlinuz", "vmlinuz.old", "initrd.img", "initrd.img.old"]
            .iter()
            .flat_map(|n| [n.to_string(), format!("boot/{n}")])
            .filter_map(|p| link_target(o, &format!("/{p}")).map(|t| (p, t)))
            .collect();
        out.sort();
        out
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    /// DebianLinux's order, as its `version_cmp` sorts these (checked with the module itself).
    #[test]
    fn versions_sort_as_debian_linux_sorts_them() {
        let mut v = vec![
            "6.1.0-57-cloud-amd64",
            "6.1.0-9-amd64",
            "6.1.0-rc7-amd64",
            "6.1.0-57-amd64",
            "6.1",
            "6.1.0",
            "6.10.0-1-amd64",
            "6.1.0-trunk-amd64",
            "4.19.0-27-amd64",
            "6.1.0-57-cloud-amd64-unsigned",
        ];
        v.sort_by(|a, b| version_cmp(a, b));
        assert_eq!(
            v,
            [
                "4.19.0-27-amd64",
                "6.1",
                "6.1.0-rc7-amd64",
                "6.1.0-trunk-amd64",
                "6.1.0",
                "6.1.0-9-amd64",
                "6.1.0-57-amd64",
                "6.1.0-57-cloud-amd64",
                "6.1.0-57-cloud-amd64-unsigned",
                "6.10.0-1-amd64",
            ]
        );
        assert_eq!(
            version_cmp("6.1.0-rc7-amd64", "6.1.0-trunk-amd64"),
            Ordering::Less
        );
        assert_eq!(version_cmp("6.1.0-007", "6.1.0-7"), Ordering::Equal);
    }

    /// A kernel's first install links both names to it (the initramfs made later by its hooks);
    /// a second kernel becomes the default and the first the old one.
    #[test]
    fn installs_link_the_newest_kernel_and_keep_the_one_before() {
        let mut t = tree();
        t.file("boot/vmlinuz-6.1.0-9-amd64", b"kernel");
        let mut o = Overlay::new(&t);
        apply(&mut o, &call("install", "6.1.0-9-amd64"), "amd64", &[]).unwrap();
        let first = pairs(&[
            ("initrd.img", "boot/initrd.img-6.1.0-9-amd64"),
            ("initrd.img.old", "boot/initrd.img-6.1.0-9-amd64"),
            ("vmlinuz", "boot/vmlinuz-6.1.0-9-amd64"),
            ("vmlinuz.old", "boot/vmlinuz-6.1.0-9-amd64"),
        ]);
        assert_eq!(links(&o), first);

        let (files, removed) = o.into_changes();
        let mut t2 = t;
        t2.apply(&Changes { files, removed });
        // Its initramfs is there now; an older kernel is installed after it.
        t2.file("boot/initrd.img-6.1.0-9-amd64", b"initramfs");
        t2.file("boot/vmlinuz-4.19.0-27-amd64", b"old kernel");
        let mut o = Overlay::new(&t2);
        apply(&mut o, &call("install", "4.19.0-27-amd64"), "amd64", &[]).unwrap();
        assert_eq!(
            links(&o),
            pairs(&[
                ("initrd.img", "boot/initrd.img-4.19.0-27-amd64"),
                ("initrd.img.old", "boot/initrd.img-6.1.0-9-amd64"),
                ("vmlinuz", "boot/vmlinuz-4.19.0-27-amd64"),
                ("vmlinuz.old", "boot/vmlinuz-6.1.0-9-amd64"),
            ])
        );

        // An upgrade of the default (with the links of its install) keeps it the default; the
        // other kernel is the old one, and without its initramfs the old initramfs link goes.
        let mut o = Overlay::new(&t2);
        apply(&mut o, &call("upgrade", "6.1.0-9-amd64"), "amd64", &[]).unwrap();
        assert_eq!(
            links(&o),
            pairs(&[
                ("initrd.img", "boot/initrd.img-6.1.0-9-amd64"),
                ("vmlinuz", "boot/vmlinuz-6.1.0-9-amd64"),
                ("vmlinuz.old", "boot/vmlinuz-4.19.0-27-amd64"),
            ])
        );
    }

    /// `INITRD=No` in the script's environment: no initramfs links (and one there goes);
    /// `link_in_boot` puts the links in /boot; `do_symlinks = no` makes none; PowerPC's name is
    /// `vmlinux`.
    #[test]
    fn configuration_environment_and_machine_decide_the_links() {
        let mut t = tree();
        t.file("boot/vmlinuz-6.1.0-9-amd64", b"kernel");
        t.symlink("initrd.img", "boot/initrd.img-5.10.0-1-amd64");
        let mut o = Overlay::new(&t);
        let no = [("INITRD".to_owned(), Value::Known("No".into()))];
        apply(&mut o, &call("install", "6.1.0-9-amd64"), "amd64", &no).unwrap();
        assert_eq!(
            links(&o),
            pairs(&[
                ("vmlinuz", "boot/vmlinuz-6.1.0-9-amd64"),
                ("vmlinuz.old", "boot/vmlinuz-6.1.0-9-amd64")
            ])
        );

        let mut t = tree();
        t.file("boot/vmlinuz-6.1.0-9-amd64", b"kernel");
        t.file(CONF, b"# comment\ndo_symlinks = yes\nlink_in_boot = Yes  \n");
        let mut o = Overlay::new(&t);
        apply(&mut o, &call("install", "6.1.0-9-amd64"), "amd64", &[]).unwrap();
        assert_eq!(
            links(&o),
            pairs(&[
                ("boot/initrd.img", "initrd.img-6.1.0-9-amd64"),
                ("boot/initrd.img.old", "initrd.img-6.1.0-9-amd64"),
                ("boot/vmlinuz", "vmlinuz-6.1.0-9-amd64"),
                ("boot/vmlinuz.old", "vmlinuz-6.1.0-9-amd64"),
            ])
        );

        let mut t = tree();
        t.file(CONF, b"do_symlinks = no\n");
        let mut o = Overlay::new(&t);
        apply(&mut o, &call("install", "6.1.0-9-amd64"), "amd64", &[]).unwrap();
        assert!(links(&o).is_empty());

        let mut t = tree();
        t.file("boot/vmlinux-6.1.0-9-powerpc64le", b"kernel");
        let mut o = Overlay::new(&t);
        let c = parse(&[
            "install".into(),
            "6.1.0-9-powerpc64le".into(),
            "/boot/vmlinux-6.1.0-9-powerpc64le".into(),
        ])
        .unwrap();
        apply(&mut o, &c, "ppc64el", &[]).unwrap();
        assert_eq!(
            link_target(&o, "/vmlinux").as_deref(),
            Some("boot/vmlinux-6.1.0-9-powerpc64le")
        );
    }

    /// `remove` of the last kernel removes the four links (a directory in a link's place stays,
    /// as Perl's `unlink` leaves it); a link already there with `..` after the root is promoted
    /// as File::Spec reads it; an exported `INITRD=No` reaches the call (see the files walk).
    #[test]
    fn removal_promotion_and_odd_links() {
        let mut t = tree();
        t.file("boot/vmlinuz-6.1.0-9-amd64", b"kernel")
            .file("boot/vmlinuz-6.1.0-10-amd64", b"kernel")
            .symlink("vmlinuz", "../boot/vmlinuz-6.1.0-9-amd64");
        let mut o = Overlay::new(&t);
        apply(&mut o, &call("upgrade", "6.1.0-10-amd64"), "amd64", &[]).unwrap();
        // The default stays 6.1.0-9 (its link promoted, then rewritten as the script names it),
        // though 6.1.0-10 sorts after it; the upgraded one's initramfs is linked before it is
        // made, the default's missing one is not (as the Perl script did, run on such a tree).
        assert_eq!(
            links(&o),
            pairs(&[
                ("initrd.img.old", "boot/initrd.img-6.1.0-10-amd64"),
                ("vmlinuz", "boot/vmlinuz-6.1.0-9-amd64"),
                ("vmlinuz.old", "boot/vmlinuz-6.1.0-10-amd64"),
            ])
        );

        let mut t = tree();
        t.symlink("vmlinuz", "boot/vmlinuz-6.1.0-9-amd64")
            .symlink("vmlinuz.old", "boot/vmlinuz-6.1.0-9-amd64")
            .symlink("initrd.img.old", "boot/initrd.img-6.1.0-9-amd64")
            .dir("initrd.img");
        let mut o = Overlay::new(&t);
        apply(&mut o, &call("remove", "6.1.0-9-amd64"), "amd64", &[]).unwrap();
        assert!(links(&o).is_empty(), "{:?}", links(&o));
        assert!(matches!(
            o.entry("initrd.img").map(|e| &e.kind),
            Some(EntryKind::Directory)
        ));
    }

    /// A kernel package's postinst as the files walk runs it: the links are made from the
    /// package's architecture; `INITRD=No` exported earlier in the script reaches the call.
    #[test]
    fn a_kernel_postinst_makes_the_links() {
        let mut t = tree();
        t.file("boot/vmlinuz-6.1.0-9-amd64", b"kernel")
            .dir("var/lib/dpkg");
        let script = "#!/bin/sh\nset -e\nversion=6.1.0-9-amd64\nimage_path=/boot/vmlinuz-$version\n\
                      linux-update-symlinks install $version $image_path\n";
        let (changes, report) = super::super::files::compute(
            &t,
            &[super::super::testutil::with_postinst("linux-image", script)],
        )
        .unwrap();
        assert!(report.is_empty(), "{report:?}");
        let target = |path: &str| super::super::testutil::symlink_target(&changes, path);
        assert_eq!(target("vmlinuz").as_deref(), Some("boot/vmlinuz-6.1.0-9-amd64"));
        assert_eq!(
            target("initrd.img").as_deref(),
            Some("boot/initrd.img-6.1.0-9-amd64")
        );

        let exported = script.replace("set -e\n", "set -e\nexport INITRD=No\n");
        let (changes, report) = super::super::files::compute(
            &t,
            &[super::super::testutil::with_postinst("linux-image", &exported)],
        )
        .unwrap();
        assert!(report.is_empty(), "{report:?}");
        assert!(changes.files.iter().any(|(e, _)| e.path == "vmlinuz"));
        assert!(
            !changes
                .files
                .iter()
                .any(|(e, _)| e.path.starts_with("initrd.img")),
            "{changes:?}"
        );
    }

    /// What is not linux-base 4's script, an unknown change or an unknown environment is refused.
    #[test]
    fn what_is_not_reproduced_is_refused() {
        let mut t = tree();
        t.file(SCRIPT, b"#!/usr/bin/perl\n# another version\n");
        let mut o = Overlay::new(&t);
        let err = apply(&mut o, &call("install", "6.1.0-9-amd64"), "amd64", &[]).unwrap_err();
        assert!(err.contains("not the version reproduced"), "{err}");
        assert!(parse(&["purge".into(), "6.1".into(), "/boot/vmlinuz-6.1".into()]).is_err());
        assert!(parse(&["install".into(), "6.1".into()]).is_err());
        let t = tree();
        let mut o = Overlay::new(&t);
        let unknown = [("INITRD".to_owned(), Value::Unknown("$X".into()))];
        let err = apply(&mut o, &call("install", "6.1.0-9-amd64"), "amd64", &unknown).unwrap_err();
        assert!(err.contains("INITRD is not known"), "{err}");
    }
}
