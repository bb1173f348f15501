#!/usr/bin/env python3
"""Fidelity: debcast's image against what apt and dpkg install, for many package sets.

For each set of scripts/fidelity-sets.txt: mmdebstrap installs it (the Essential set plus the
set's packages, with every maintainer script run by dpkg), debcast builds the exact same
`name=version` list (taken from the dpkg database mmdebstrap left), and the two trees are compared
path by path (type, mode, owner, link target, content, extended attributes). Printed per set: how many paths differ,
split into what a container legitimately differs in (runtime-provided files, apt/dpkg run traces,
debconf's cache, init-system enablement, registries whose lines differ only by the order apt
configured packages in) and the rest, by area and by the package or maintainer script
responsible. Needs root (mmdebstrap's root mode, owners), the network (the host's apt
sources), mmdebstrap and umoci.

Usage: scripts/fidelity.py [--work DIR] [--debcast BIN]... [--store DIR] [--json FILE] [--keep-reference] [SET...]
"""

import argparse
import collections
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Differences a container image has from an installed system by design. Each entry: the kind,
# then globs (`*` crosses `/`). Everything else counts as a fidelity gap.
EXPECTED = [
    ("runtime-provided", ["/dev/*", "/proc*", "/sys*", "/etc/hostname", "/etc/resolv.conf",
                          "/etc/hosts", "/etc/fstab", "/etc/mtab", "/run/*", "/tmp/*"]),
    # mmdebstrap runs apt for its install; where apt is not in the set, its directories stay.
    ("apt/dpkg run traces", ["/etc/apt", "/etc/apt/sources.list", "/etc/apt/sources.list.d*",
                             "/etc/apt/preferences.d", "/etc/apt/apt.conf.d",
                             "/etc/apt/apt.conf.d/99mmdebstrap*", "/etc/apt/trusted.gpg.d/*",
                             "/var/cache/apt*", "/var/lib/apt*", "/var/log/apt*", "/var/log/dpkg.log",
                             "/var/log/alternatives.log",
                             "/var/lib/dpkg/*-old", "/var/lib/dpkg/lock*", "/var/lib/dpkg/arch",
                             "/var/lib/dpkg/available", "/var/lib/dpkg/cmethopt",
                             "/var/lib/dpkg/triggers/Lock", "/var/lib/dpkg/triggers/Unincorp",
                             "/var/cache/ldconfig/aux-cache", "/etc/machine-id",
                             "/var/lib/dbus/machine-id"]),
    ("debconf cache", ["/var/cache/debconf/*"]),
    ("init-system enablement", ["/etc/systemd/system/*", "/etc/systemd/user/*", "/var/lib/systemd/deb-systemd-*",
                                "/etc/rc?.d/*", "/etc/init.d/.depend*"]),
]

# Registries whose lines dpkg and ucf append in the order apt configures packages. debcast
# follows apt's and dpkg's order (src/assemble/configure_order.rs) but not every detail of it
# (the order apt configures Pre-Depends targets in): the same lines in another order are a
# difference of install order, not of content, and counted as such (never when a line differs).
ORDER_ONLY = ["/var/lib/dpkg/triggers/File", "/var/lib/ucf/hashfile", "/var/lib/ucf/registry"]
# ucf's rotating backups of those (`.0` the newest): the registry as it was some calls before the
# end, which depends on that order too. Counted as install order only when every line of each
# side's backup is in that side's final registry and the final registries hold the same lines.
ORDER_HISTORY = [("/var/lib/ucf/hashfile.*", "/var/lib/ucf/hashfile"),
                 ("/var/lib/ucf/registry.*", "/var/lib/ucf/registry")]

# Outputs of well-known triggers and tools, for paths no package owns and no script names.
GENERATORS = [
    ("/etc/ld.so.cache", "libc-bin (ldconfig trigger)"),
    ("*/__pycache__*", "python3 (py3compile)"),
    # Before /etc/ssl/certs/*: the first pattern that matches names the generator.
    ("/etc/ssl/private/ssl-cert-snakeoil.key", "ssl-cert (make-ssl-cert)"),
    ("/etc/ssl/certs/ssl-cert-snakeoil.pem", "ssl-cert (make-ssl-cert)"),
    ("/var/lib/mysql/*", "mariadb-server (mysql_install_db)"),
    # The configuration and directory databases slapd's postinst loads with slapadd.
    ("/etc/ldap/slapd.d*", "slapd (slapadd)"),
    ("/var/lib/ldap/*", "slapd (slapadd)"),
    ("/etc/ssl/certs/java/cacerts", "ca-certificates-java (keystore)"),
    # Mono's certificate stores, which update-ca-certificates' mono-keystore hook fills.
    ("/etc/mono/certstore/*", "ca-certificates-mono (cert-sync)"),
    # TOMOYO's initial policy and its tools' configuration.
    ("/etc/tomoyo/*", "tomoyo-tools (init_policy)"),
    # ispell's compiled hashes and the default dictionary's links.
    ("/usr/lib/ispell/default.*", "dictionaries-common (update-default-ispell)"),
    ("/usr/lib/ispell/*.hash", "ispell (ispell-autobuildhash)"),
    # What `mono --aot` compiles ahead of time (libmono-corlib4.5-cil's mscorlib.dll.so).
    ("/usr/lib/mono/aot-cache/*", "libmono-corlib4.5-cil (mono)"),
    ("/etc/ssl/certs/*", "ca-certificates (update-ca-certificates)"),
    ("/etc/alternatives/*", "update-alternatives"),
    ("/var/lib/dpkg/alternatives/*", "update-alternatives"),
    ("/etc/pam.d/common-*", "libpam-runtime (pam-auth-update)"),
    ("/var/lib/pam/*", "libpam-runtime (pam-auth-update)"),
    ("/usr/lib/locale/*", "locales (locale-gen)"),
    ("/usr/lib/udev/hwdb.bin", "udev (systemd-hwdb)"),
    ("/etc/udev/hwdb.bin", "udev (systemd-hwdb)"),
    ("/etc/mailcap", "mailcap (update-mime)"),
    ("/etc/passwd*", "accounts"), ("/etc/group*", "accounts"), ("/etc/shadow*", "accounts"),
    ("/etc/gshadow*", "accounts"), ("/etc/subuid*", "accounts"), ("/etc/subgid*", "accounts"),
    ("/var/lib/dpkg/status*", "dpkg database"), ("/var/lib/dpkg/info/*", "dpkg database"),
    ("/var/lib/dpkg/triggers/*", "dpkg triggers"),
    ("/usr/share/mime/*", "shared-mime-info (update-mime-database)"),
    ("/var/cache/fontconfig/*", "fontconfig (fc-cache)"),
    ("*/gdk-pixbuf-2.0/*/loaders.cache", "libgdk-pixbuf-2.0-0 (gdk-pixbuf-query-loaders)"),
    ("/etc/ssh/ssh_host_*", "openssh-server (ssh-keygen)"),
    # OpenSSL's random seed file, which `openssl req` saves when the configuration names one
    # (RANDFILE): made by whichever openssl call ran (ircd-hybrid's certificate).
    ("/root/.rnd", "openssl (openssl)"),
    # etckeeper's repository of /etc and its metadata (`etckeeper init`, `commit`).
    ("/etc/.git*", "etckeeper (etckeeper)"), ("/etc/.etckeeper", "etckeeper (etckeeper)"),
    ("/var/lib/systemd/catalog*", "systemd (journalctl --update-catalog)"),
    ("/usr/share/info/dir*", "install-info (update-info-dir)"),
    ("/var/cache/man/*", "man-db (mandb)"),
    # The Perl SAX parsers' registry and the fragments it is made of.
    ("/etc/perl/XML/SAX/ParserDetails.ini", "libxml-sax-perl (update-perl-sax-parsers)"),
    ("/var/lib/libxml-sax-perl/ParserDetails.d/*", "libxml-sax-perl (update-perl-sax-parsers)"),
    ("/var/cache/postgresql*", "postgresql-common (pg_updatedicts)"),
    # X font directories' indexes (update-fonts-dir, update-fonts-alias, update-fonts-scale).
    ("*/fonts/X11/*/fonts.dir", "xfonts-utils (mkfontdir)"),
    ("*/fonts/X11/*/encodings.dir", "xfonts-utils (mkfontdir)"),
    ("*/fonts/X11/*/fonts.scale", "xfonts-utils (mkfontscale)"),
    ("*/fonts/X11/*/fonts.alias", "xfonts-utils (update-fonts-alias)"),
    # Graphviz's plugin configuration, written by `dot -c` (libgvc6-config-update).
    ("/usr/lib/*/graphviz/config*", "libgvc6 (libgvc6-config-update)"),
    ("/usr/share/postgresql/*/tsearch_data/*", "postgresql-common (pg_updatedicts)"),
    # TeX's generated trees: formats (fmtutil), font maps (updmap), the programs' paper
    # configuration (tl-paper).
    ("/var/lib/texmf/web2c/*/*", "tex-common (fmtutil)"),
    ("/var/lib/texmf/fonts/map", "tex-common (updmap)"),
    ("/var/lib/texmf/fonts/map/*", "tex-common (updmap)"),
    ("/var/lib/texmf/dvips/config", "texlive-base (tl-paper)"),
    ("/var/lib/texmf/dvips/config/*", "texlive-base (tl-paper)"),
    ("/var/lib/texmf/dvipdfmx/*", "texlive-base (tl-paper)"),
    ("/var/lib/texmf/xdvi/*", "texlive-base (tl-paper)"),
    # emacsen-common's emacs-install: each flavour's byte-compiled site-lisp and its links.
    ("/usr/share/emacs/site-lisp/*", "emacsen-common (emacs-install)"),
    ("/usr/share/emacs/*/site-lisp/*", "emacsen-common (emacs-install)"),
    # dictionaries-common's Perl tools: the default word list and ispell dictionary links.
    ("/etc/dictionaries-common/*", "dictionaries-common (update-default-wordlist)"),
    # A kernel package's postinst: depmod's indexes of its modules, the links to the default
    # kernel (linux-base's linux-update-symlinks), and the initramfs the hooks it runs from
    # /etc/kernel/postinst.d make (initramfs-tools').
    ("/usr/lib/modules/*/modules.*", "kmod (depmod)"),
    ("/vmlinuz*", "linux-base (linux-update-symlinks)"),
    ("/initrd.img*", "linux-base (linux-update-symlinks)"),
    ("/boot/initrd.img-*", "initramfs-tools (/etc/kernel/postinst.d)"),
]


MERGED_USR_HOOK = "/usr/share/mmdebstrap/hooks/merged-usr"


def glob_re(pattern):
    return re.compile("^" + ".*".join(re.escape(p).replace(r"\?", ".") for p in pattern.split("*")) + "$")


EXPECTED_RE = [(kind, [glob_re(g) for g in globs]) for kind, globs in EXPECTED]
GENERATORS_RE = [(glob_re(g), who) for g, who in GENERATORS]
ORDER_HISTORY_RE = [(glob_re(g), final) for g, final in ORDER_HISTORY]


def run(cmd, **kw):
    """Runs cmd; a failure stops the script with the command and its output (never ignored)."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"fidelity: `{' '.join(map(str, cmd))}` failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return p.stdout


def host_mirrors():
    """The host's apt mirrors for `debian` and `debian-security` (deb822 .sources and sources.list)."""
    uris = []
    for f in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in f.read_text().splitlines():
            if line.startswith("URIs:"):
                uris += line.split()[1:]
    lst = Path("/etc/apt/sources.list")
    if lst.exists():
        for line in lst.read_text().splitlines():
            parts = line.split()
            if parts[:1] == ["deb"]:
                uris += [p for p in parts[1:] if "://" in p][:1]
    main = next((u for u in uris if u.rstrip("/").endswith("/debian")), None)
    security = next((u for u in uris if u.rstrip("/").endswith("/debian-security")), None)
    if not main or not security:
        sys.exit("fidelity: the host's apt sources name no .../debian and .../debian-security mirror")
    return main.rstrip("/"), security.rstrip("/")


def read_sets(names):
    sets = collections.OrderedDict()
    for line in (REPO / "scripts/fidelity-sets.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, suite, rest = (x.strip() for x in line.split(":", 2))
        if suite == "manifest":
            m = tomllib.loads((REPO / rest).read_text())
            pk = m.get("packages", {})
            include = list(pk.get("include", []))
            include += pk.get("platform", {}).get("linux/amd64", {}).get("include", [])
            suite = m["source"][0]["suites"][0]
            variant = "required" if pk.get("required") else "essential"
            sets[name] = (suite, variant, include)
        else:
            sets[name] = (suite, "essential", rest.split())
    # `NAME=PKG,PKG…` on the command line: a bookworm set of one's own (a set the list does not
    # hold, to check the work on packages it was not tuned on).
    adhoc = [n for n in names if "=" in n]
    names = [n.split("=", 1)[0] for n in names]
    for n in adhoc:
        name, pkgs = n.split("=", 1)
        sets[name] = ("bookworm", "essential", [p for p in pkgs.split(",") if p])
    if names:
        unknown = [n for n in names if n not in sets]
        if unknown:
            sys.exit(f"fidelity: unknown set(s) {unknown}; known: {list(sets)}")
        sets = collections.OrderedDict((n, sets[n]) for n in names)
    return sets


def walk(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                kind, detail = "d", ""
            elif stat.S_ISLNK(st.st_mode):
                kind, detail = "l", os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    detail = f"{st.st_size} bytes, sha256 {hashlib.sha256(f.read()).hexdigest()}"
                kind = "f"
            else:
                kind, detail = "c", f"{st.st_rdev:x}"
            rel = "/" + os.path.relpath(p, root)
            xattrs = "" if kind == "l" else " ".join(
                f"{n}=0x{os.getxattr(p, n, follow_symlinks=False).hex()}"
                for n in sorted(os.listxattr(p, follow_symlinks=False)))
            if xattrs:
                detail = f"{detail}; xattrs {xattrs}"
            out[rel] = (kind, oct(st.st_mode & 0o7777), st.st_uid, st.st_gid, detail)
    return out


def owners(reference):
    """path -> package, from the reference's dpkg file lists (merged-/usr aliases included)."""
    own = {}
    info = reference / "var/lib/dpkg/info"
    for lst in info.glob("*.list"):
        pkg = lst.name[:-5].split(":")[0]
        for path in lst.read_text(errors="replace").splitlines():
            own.setdefault(path, pkg)
            for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
                if path.startswith(top + "/"):
                    own.setdefault("/usr" + path, pkg)
    return own


HELPER_RE = re.compile(r"(?:^|[\s;&|(`])(?:\.\s+)?(/usr/(?:share|lib|sbin|bin)/[\w.+/-]+)")


def scripts(reference):
    """(package.script, text) of every maintainer script the reference ran, and of the helper
    scripts they run or source by absolute path (redmine's `/usr/share/redmine/bin/redmine-instances`,
    dbconfig-common's `. /usr/share/dbconfig-common/dpkg/postinst`), two levels deep, under the
    maintainer script's name: what a helper writes is the script's doing."""
    out = []
    info = reference / "var/lib/dpkg/info"
    for f in sorted(info.iterdir()):
        m = re.match(r"^([^:]+)(?::[^.]+)?\.(preinst|postinst|config|triggers)$", f.name)
        if m:
            who, text = f"{m.group(1)}.{m.group(2)}", f.read_text(errors="replace")
            out.append((who, text))
            seen, todo = set(), [(text, 0)]
            while todo:
                body, depth = todo.pop()
                for helper in HELPER_RE.findall(body):
                    target = reference / helper.lstrip("/")
                    if helper in seen or depth >= 2 or not target.is_file() or target.stat().st_size > 1 << 20:
                        continue
                    seen.add(helper)
                    data = target.read_bytes()
                    first = data.split(b"\n", 1)[0]
                    # Shell only (a script, or a file sourced without a `#!` line), not debconf's
                    # library every script sources.
                    shell = not first.startswith(b"#!") or re.search(rb"\b(?:ba|da)?sh\b", first)
                    if b"\0" in data[:4096] or not shell or helper.startswith("/usr/share/debconf/"):
                        continue
                    helper_text = data.decode(errors="replace")
                    out.append((who, helper_text))
                    todo.append((helper_text, depth + 1))
    return out


# A path a script writes through variables (`/etc/redmine/$instance/database.yml`) or a glob
# (`/usr/lib/python3/*-packages/twisted/plugins/dropin.cache`): its first two components
# literal, each `$name`/`${name}`/`*` standing for text within one component.
VARIABLE_PATH_RE = re.compile(r"/[\w.+-]+/[\w.+-]+(?:/|[\w.+-]|\$\{?\w+\}?|\*)*")
VARIABLE_RE = re.compile(r"\$\{?\w+\}?|\*")


_VARIABLE_PATHS = {}


def variable_paths(texts):
    """(regex, who) for the paths with variables the scripts name (computed once per list)."""
    if id(texts) in _VARIABLE_PATHS:
        return _VARIABLE_PATHS[id(texts)][1]
    out = []
    _VARIABLE_PATHS[id(texts)] = (texts, out)
    for who, text in texts:
        for p in set(VARIABLE_PATH_RE.findall(text)):
            if not VARIABLE_RE.search(p):
                continue
            parts = VARIABLE_RE.split(p)
            out.append((re.compile("^" + "[^/]+".join(re.escape(x) for x in parts) + "(?:/|$)"), who))
    return out


def responsible(path, own, texts, entry=None, root=None):
    if path in own:
        return f"{own[path]} (packaged file)"
    # The cluster pg_createcluster makes from postgresql-VERSION's postinst.
    m = re.match(r"^/(?:var/lib|etc|var/log)/postgresql/(\d+)(?:/|$)", path)
    if m:
        return f"postgresql-{m.group(1)} (pg_createcluster)"
    # pg_createcluster runs pg_updateaptconfig, which lists the clusters' versions in this file:
    # attributed to the server package whose cluster the reference's file names.
    if path == "/etc/apt/apt.conf.d/02autoremove-postgresql" and root is not None:
        text = (root / path.lstrip("/")).read_text(errors="replace") if (root / path.lstrip("/")).is_file() else ""
        versions = re.findall(r'"\^postgresql\.\*-(\d+)"', text)
        if versions:
            return f"postgresql-{versions[0]} (pg_createcluster)"
    # The hash link to the snake-oil certificate (named after its subject, the host name).
    if entry and entry[0] == "l" and entry[4] == "ssl-cert-snakeoil.pem":
        return "ssl-cert (make-ssl-cert)"
    # ucf's cached copy of a configuration file: whoever made the file.
    m = re.match(r"^/var/lib/ucf/cache/(:.*)$", path)
    if m:
        return responsible(m.group(1).replace(":", "/"), own, texts)
    # An alternative's files: the script that registers the group.
    m = re.match(r"^/(?:etc/alternatives|var/lib/dpkg/alternatives)/([^/]+)$", path)
    if m:
        name = re.compile(r"(?<![\w.-])" + re.escape(m.group(1)) + r"(?![\w.-])")
        for who, text in texts:
            if "update-alternatives" in text and name.search(text):
                return who
    for rx, who in GENERATORS_RE:
        if rx.match(path):
            return who
    # A maintainer script that names the path, else its directory.
    for probe in (path, os.path.dirname(path)):
        if len(probe) > 5:
            for who, text in texts:
                if probe in text:
                    return who
    # A path it names through variables, the path or one above it (`/var/lib/redmine/$instance`);
    # of several, the one with the most literal text (a helper's `/usr/lib/$triplet` names less
    # than twisted's `/usr/lib/python3/*-packages/twisted/plugins/dropin.cache`).
    named = [(len(rx.pattern), who) for rx, who in variable_paths(texts) if rx.match(path)]
    if named:
        return max(named, key=lambda n: n[0])[1]
    # Below a package's own state directory, one it ships or the one named after it
    # (/var/lib/munin-node, where munin-node-configure, run by munin-node's postinst, makes
    # plugin-state/USER): that package's script.
    has_script = lambda pkg: any(who.startswith(pkg + ".") for who, _ in texts)
    parent = os.path.dirname(path)
    while parent.count("/") >= 2:
        if parent.count("/") >= 3 and parent in own and has_script(own[parent]):
            return f"{own[parent]}.postinst"
        m = re.match(r"^/(?:var/lib|var/cache|var/log|etc)/([^/]+)$", parent)
        if m and has_script(m.group(1)):
            return f"{m.group(1)}.postinst"
        parent = os.path.dirname(parent)
    return "unattributed"


UCF_STATE_RE = re.compile(r"^/var/lib/ucf/(?:(?:hashfile|registry)(?:\.\d+)?|cache)$")


def left_out_by_name(path, nd_whats, own_nd_whats=()):
    """Whether an entry the build left out as non-deterministic names the path (dbconfig-common's
    `ucf … /etc/dbconfig-common/PACKAGE.conf`, run from the package's own postinst; ssh-keygen's
    `; left out: KEY.pub`), or names the file whose copy ucf keeps in its cache
    (`/var/lib/ucf/cache/:etc:dbconfig-common:…`); or whether an entry of the package responsible
    for the path (`own_nd_whats`) names a directory it is in, three levels deep or more, as a whole
    (munin-node's `linked in /etc/munin/plugins`)."""
    names = [path]
    if path.startswith("/var/lib/ucf/cache/:"):
        names.append(path[len("/var/lib/ucf/cache/"):].replace(":", "/"))
    # A whole path: not the end of a longer one (`/usr/lib/x` inside `/usr/usr/lib/x`), nor the
    # start of one (`/etc/a` of `/etc/a.key`, `/etc/a/b`).
    whole = lambda n: r"(?<![\w./-])" + re.escape(n) + r"(?![\w./-])"
    if any(re.search(whole(n), w) for n in names for w in nd_whats):
        return True
    parent = os.path.dirname(path)
    while parent.count("/") >= 3:
        # The directory itself, written with or without a final `/`.
        rx = r"(?<![\w./-])" + re.escape(parent) + r"/?(?![\w./-])"
        if any(re.search(rx, w) for w in own_nd_whats):
            return True
        parent = os.path.dirname(parent)
    return False


def ucf_explained(path, ours, reference, ucf_entries, explained_paths):
    """Whether a difference in ucf's state comes only from ucf calls the build reported: each
    destination the differing lines name is one a reported call names, or a file whose own
    difference the build reported (ucf's record of it is part of the same effect: redmine's
    instance configuration, made through commands the build lists as not run)."""
    if path == "/var/lib/ucf/cache":
        return bool(ucf_entries)
    x, y = set(lines(ours, path) or []), set(lines(reference, path) or [])
    dests = [l.split()[-1].decode(errors="replace") for l in x ^ y if l.split()]
    # A rotated backup (`registry.3`) is the state some calls before the end: a destination both
    # final files record differs in it only by the order of the calls.
    final = re.sub(r"\.\d+$", "", path)
    both = set()
    if final != path:
        name = lambda root: {l.split()[-1].decode(errors="replace") for l in lines(root, final) or [] if l.split()}
        both = name(ours) & name(reference)
    return all(any(d in e for e in ucf_entries) or d in explained_paths or d in both for d in dests)


# Line databases that tools edit by key, and the tools: an account file's lines are keyed by the
# account's name, dpkg's statoverride's by the path (the last field).
LINE_DATABASES = [
    (re.compile(r"^/etc/(?:passwd|group|shadow|gshadow|subuid|subgid)-?$"), lambda l: l.split(b":")[0],
     re.compile(r"(?<![\w.-])(?:adduser|addgroup|useradd|groupadd|usermod|groupmod|gpasswd|chfn|chsh|chage|"
                r"chpasswd|deluser|delgroup|userdel|groupdel|systemd-sysusers)(?![\w.-])"), "accounts"),
    (re.compile(r"^/var/lib/dpkg/statoverride-?$"), lambda l: l.split()[-1] if l.split() else b"",
     re.compile(r"(?<![\w.-])dpkg-statoverride(?![\w.-])"), "dpkg-statoverride"),
]


def line_database_explained(path, ours, reference, report_whats):
    """For an account file or dpkg's statoverride: the tool whose reported calls explain the
    difference, or None. Each differing line's key (the account, the overridden path) must be named
    by a reported call of the file's tools, unless a reported call's arguments were not known (or it
    was not run), which may have made any of them."""
    for rx, key, tools, what in LINE_DATABASES:
        if not rx.match(path):
            continue
        entries = [e for e in report_whats if tools.search(e)]
        if not entries:
            return None
        unknown = any("not known" in e or "not run" in e for e in entries)
        x, y = set(lines(ours, path) or []), set(lines(reference, path) or [])
        keys = {key(l).decode(errors="replace") for l in x ^ y}
        named = lambda k: any(re.search(r"(?<![\w.-])" + re.escape(k) + r"(?![\w.-])", e) for e in entries)
        if keys and (unknown or all(named(k) for k in keys)):
            return what
        return None
    return None


def compare(ours, reference, report):
    a, b = walk(ours), walk(reference)
    own, texts = owners(reference), scripts(reference)
    entry_kind = lambda e: e.get("kind") or ("service-management" if e["what"].startswith("skipped") else "unsupported")
    reported = {e["package"] for e in report if entry_kind(e) == "unsupported"}
    # A path a generator makes (`xfonts-utils (mkfontdir)`) is explained by an entry naming that
    # command, whichever package's script ran it (xfonts-base's postinst runs mkfontdir).
    def named(command, wanted):
        return any(re.search(r"(?<![\w.-])" + re.escape(command) + r"(?![\w.-])", e["what"])
                   for e in report if entry_kind(e) == wanted)
    ucf_entries = [e["what"] for e in report if entry_kind(e) == "unsupported" and re.search(r"(?<![\w.-])ucf ", e["what"])]
    nd_whats = [e["what"] for e in report if entry_kind(e) == "non-deterministic"]
    nd_whats_of = collections.defaultdict(list)
    for e in report:
        if entry_kind(e) == "non-deterministic":
            nd_whats_of[e["package"]].append(e["what"])
    # ucf calls left out as non-deterministic (a configuration holding a generated password).
    ucf_nd_entries = [e["what"] for e in report
                      if entry_kind(e) == "non-deterministic" and re.search(r"(?<![\w.-])ucf ", e["what"])]
    unsupported_whats = [e["what"] for e in report if entry_kind(e) == "unsupported"]
    expected = collections.Counter()
    gaps = []
    # The paths whose difference the build reported so far (ucf's state, under /var, comes after
    # the configuration files it records, under /etc).
    reported_paths = set()
    # Of them, those left out as non-deterministic.
    nd_paths = set()
    for path in sorted(set(a) | set(b)):
        x, y = a.get(path), b.get(path)
        if x == y:
            continue
        kind = next((k for k, rxs in EXPECTED_RE if any(r.match(path) for r in rxs)), None)
        if kind is None and same_lines_other_order(path, x, y, ours, reference):
            kind = "install order"
        if kind:
            expected[kind] += 1
            continue
        what = "only debcast" if y is None else "only dpkg" if x is None else "differs"
        who = responsible(path, own, texts, y or x, reference)
        # `php8.2-cli.postinst` → php8.2-cli (package names may hold dots).
        pkg = re.sub(r"\.(preinst|postinst|config|triggers)$", "", who.split(" ")[0])
        m = re.match(r"^\S+ \((\S+)[^)]*\)$", who)
        command = m.group(1) if m and m.group(1) != "packaged" else None
        # Only what a left-out entry names: its command (`openssh-server (ssh-keygen)`: the host
        # keys the ssh-keygen calls left out make), the path, or (an entry of the package
        # responsible) a directory it is in. A package having some effect left out does not make
        # its other differences non-deterministic.
        non_deterministic = (bool(command and named(command, "non-deterministic"))
                             or left_out_by_name(path, nd_whats, nd_whats_of.get(pkg, ())))
        # Left out as non-deterministic is reported too (as such).
        is_reported = (non_deterministic or pkg in reported
                       or bool(command and named(command, "unsupported")))
        # ucf's state (hashfile, registry, their backups, the cache directory) after a ucf call
        # the build reported: explained when every destination the differing lines name is one a
        # reported ucf call names (privoxy's `ucf … /etc/privoxy/config.ucftmp …`).
        if not is_reported and UCF_STATE_RE.match(path):
            if ucf_nd_entries and ucf_explained(path, ours, reference, ucf_nd_entries, nd_paths):
                is_reported = non_deterministic = True
                who = "ucf (state of a call left out as non-deterministic)"
            else:
                is_reported = ucf_explained(path, ours, reference, ucf_entries + ucf_nd_entries,
                                            reported_paths)
                if is_reported:
                    who = "ucf (state of a reported call)"
        # An account file or the statoverride database whose differing lines are those of reported
        # calls (apt-cacher-ng's `adduser … --home "$CDIR"`, where CDIR comes from its own tool).
        if not is_reported:
            tool = line_database_explained(path, ours, reference, unsupported_whats)
            if tool:
                is_reported, who = True, f"{tool} (lines of a reported call)"
        if is_reported:
            reported_paths.add(path)
        if non_deterministic:
            nd_paths.add(path)
        gaps.append({"path": path, "what": what, "responsible": who,
                     "reported": is_reported,
                     "non_deterministic": non_deterministic,
                     "debcast": x, "dpkg": y})
    # A directory only dpkg's tree has, made to hold files whose differences are all reported
    # (ucf's cache directory, made by a ucf call inside apt-listchanges' Python): its difference
    # is part of theirs. Deepest first, so a parent sees its children settled.
    by_path = {g["path"]: g for g in gaps}
    for g in sorted(gaps, key=lambda g: -g["path"].count("/")):
        if g["reported"] or g["what"] != "only dpkg" or not g["dpkg"] or g["dpkg"][0] != "d":
            continue
        inside = [p for p in b if p.startswith(g["path"] + "/")]
        if inside and all(p in by_path and by_path[p]["reported"] for p in inside):
            g["reported"] = True
            g["non_deterministic"] = all(by_path[p]["non_deterministic"] for p in inside)
            g["responsible"] += " (the directory of reported files)"
    return len(set(a) | set(b)), expected, gaps


def lines(root, path):
    try:
        return (Path(str(root) + path)).read_bytes().splitlines()
    except OSError:
        return None


def same_lines_other_order(path, x, y, ours, reference):
    """Whether two files differ only by the order of install (see ORDER_ONLY)."""
    if x is None or y is None or x[0] != "f" or x[:4] != y[:4]:
        return False
    if path in ORDER_ONLY:
        a, b = lines(ours, path), lines(reference, path)
        return a is not None and b is not None and sorted(a) == sorted(b)
    for rx, final in ORDER_HISTORY_RE:
        if rx.match(path):
            fa, fb = lines(ours, final), lines(reference, final)
            a, b = lines(ours, path), lines(reference, path)
            if None in (fa, fb, a, b) or sorted(fa) != sorted(fb):
                return False
            return set(a) <= set(fa) and set(b) <= set(fb)
    return False


def area(path):
    parts = path.split("/")
    return "/".join(parts[:3]) if parts[1] in ("usr", "var", "etc") else "/" + parts[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=str(REPO / "target/fidelity"))
    ap.add_argument("--debcast", action="append",
                    help="the debcast binary (default target/release/debcast); given more than once, "
                         "each builds every set against the same mmdebstrap tree (before/after)")
    ap.add_argument("--store", default=str(REPO / "vendor"))
    ap.add_argument("--json", help="write every gap of every set to this file")
    ap.add_argument("--show", type=int, default=0, help="print the first N gaps of each set")
    ap.add_argument("--source-date-epoch", type=int,
                    help="give mmdebstrap (its maintainer scripts: the shadow tools' change day) and "
                         "debcast this SOURCE_DATE_EPOCH, so dates the tools stamp compare equal "
                         "(default: the time the set's reference is made, kept with a kept reference)")
    ap.add_argument("--keep-reference", action="store_true",
                    help="keep each set's mmdebstrap tarball in the work directory and reuse it when "
                         "the set, its sources and SOURCE_DATE_EPOCH are unchanged (measure a change "
                         "against the same reference without rerunning mmdebstrap)")
    ap.add_argument("sets", nargs="*", help="names from scripts/fidelity-sets.txt, or NAME=PKG,PKG… (bookworm)")
    args = ap.parse_args()
    binaries = args.debcast or [str(REPO / "target/release/debcast")]
    if os.geteuid() != 0:
        sys.exit("fidelity: needs root (mmdebstrap's root mode, file owners)")
    for tool in ("mmdebstrap", "umoci", "dpkg-query"):
        if not shutil.which(tool):
            sys.exit(f"fidelity: `{tool}` is not installed")
    if not Path(MERGED_USR_HOOK).is_dir():
        sys.exit(f"fidelity: mmdebstrap's {MERGED_USR_HOOK} hook is missing")
    main_uri, security_uri = host_mirrors()
    work = Path(args.work)
    results = {}
    for name, (suite, variant, include) in read_sets(args.sets).items():
        d = work / name
        security_suite = f"{suite}-security"
        sources = [f"deb {main_uri} {suite} main", f"deb {main_uri} {suite}-updates main",
                   f"deb {security_uri} {security_suite} main"]
        env = dict(os.environ)
        # What the kept reference was made from: reused only when all of it is the same.
        stamp = json.dumps([suite, variant, include, sources, args.source_date_epoch])
        kept = args.keep_reference and (d / "reference.tar").is_file() \
            and (d / "reference.stamp").is_file() and (d / "reference.stamp").read_text() == stamp
        # Both sides get the same SOURCE_DATE_EPOCH: the shadow tools stamp /etc/shadow's change
        # day with it, else with the day they run, while debcast's default is the lock's newest
        # Release date; a reference made on another day than the archive's would differ in every
        # account's line for that reason alone. Without --source-date-epoch it is the time the
        # reference is made, kept beside a kept reference so a reuse stamps the same day.
        sde_file = d / "reference.source-date-epoch"
        if args.source_date_epoch is not None:
            sde = args.source_date_epoch
        elif kept and sde_file.is_file():
            sde = int(sde_file.read_text())
        elif kept:
            # Kept before this file was: mmdebstrap ran with its own clock when it wrote the tarball.
            sde = int((d / "reference.tar").stat().st_mtime)
        else:
            sde = int(time.time())
        env["SOURCE_DATE_EPOCH"] = str(sde)
        if kept:
            for old in ("reference", "image", "bundle"):
                shutil.rmtree(d / old, ignore_errors=True)
        else:
            shutil.rmtree(d, ignore_errors=True)
        (d / "reference").mkdir(parents=True)
        # The merged-/usr layout made up front (debootstrap's method, as Debian's images are
        # built), like debcast's image: without the hook, mmdebstrap configures the Essential set
        # on a split /usr and usrmerge converts it afterwards, which leaves artefacts of that
        # conversion (the order of /etc/shells: update-shells run before and after it) and pulls
        # usrmerge and perl into every set.
        if kept:
            print(f"{name}: reusing the mmdebstrap tree kept in {d / 'reference.tar'}")
        else:
            # Before bookworm Debian's images keep /usr split (debcast's default for those
            # suites too: see the manifest's `usrmerge`), so the reference gets no hook.
            merged = [] if suite in ("buster", "bullseye") else [f"--hook-dir={MERGED_USR_HOOK}"]
            run(["mmdebstrap", "--quiet", f"--variant={variant}", "--architectures=amd64"] + merged
                + ([f"--include={','.join(include)}"] if include else [])
                + [suite, str(d / "reference.tar")] + sources, env=env)
        # With extended attributes (setcap's `security.capability`), which mmdebstrap's tarball keeps.
        run(["tar", "-C", str(d / "reference"), "--xattrs", "--xattrs-include=*", "-xf", str(d / "reference.tar")])
        if args.keep_reference:
            (d / "reference.stamp").write_text(stamp)
            sde_file.write_text(f"{sde}\n")
        else:
            (d / "reference.tar").unlink()
        # Before bookworm the merged-/usr hook installs a dummy usr-is-merged of its own making
        # (not in the archive, so not debcast's to install): the reference loses it again.
        dummies = [line.split()[0] for line in run(
            ["dpkg-query", f"--admindir={d / 'reference/var/lib/dpkg'}", "-W",
             "-f", "${Package} ${source:Package}\n"]).splitlines()
            if line.split()[1:2] and line.split()[1].startswith("mmdebstrap-dummy-")]
        if dummies:
            run(["dpkg", f"--root={d / 'reference'}", "--force-depends", "--force-script-chrootless",
                 "--purge"] + dummies)
        installed = run(["dpkg-query", f"--admindir={d / 'reference/var/lib/dpkg'}", "-W",
                         "-f", "${Package}=${Version}\n"]).split()
        if not installed:
            sys.exit(f"fidelity: {name}: mmdebstrap installed nothing")
        keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        manifest = (
            f'[image]\nname = "{name}"\nplatforms = ["linux/amd64"]\n\n'
            f'[[source]]\narchive = "debian"\nsuites = ["{suite}", "{suite}-updates"]\n'
            f'keyring = "{keyring}"\n\n'
            f'[[source]]\narchive = "debian-security"\nsuites = ["{security_suite}"]\n'
            f'keyring = "{keyring}"\n\n'
            f"[packages]\ninclude = {json.dumps(installed)}\n")
        (d / "image.toml").write_text(manifest)
        mirrors = ["--mirror", f"debian={main_uri}/", "--mirror", f"debian-security={security_uri}/"]
        common = ["--cache-dir", args.store, "-q"] + mirrors
        for debcast in binaries:
            label = name if len(binaries) == 1 else f"{name} [{debcast}]"
            for old in ("image", "bundle", "report.json", "image.lock"):
                shutil.rmtree(d / old, ignore_errors=True) if (d / old).is_dir() else (d / old).unlink(missing_ok=True)
            run([debcast, "lock", str(d / "image.toml")] + common)
            run([debcast, "build", str(d / "image.toml"), "--output", str(d / "image"),
                 "--report", str(d / "report.json")] + common, env=env)
            run(["umoci", "unpack", "--image", f"{d / 'image'}:{name}-linux-amd64", str(d / "bundle")])
            report = json.loads((d / "report.json").read_text())["platforms"]["linux/amd64"]
            total, expected, gaps = compare(d / "bundle/rootfs", d / "reference", report)
            results[label] = {"packages": len(installed), "paths": total,
                              "expected": dict(expected), "gaps": gaps}
            by_area = collections.Counter(area(g["path"]) for g in gaps)
            by_who = collections.Counter(g["responsible"] for g in gaps)
            print(f"{label}: {len(installed)} packages, {total} paths, {len(gaps)} differ "
                  f"({sum(g['reported'] for g in gaps)} of them reported by the build, "
                  f"{sum(g['non_deterministic'] for g in gaps)} left out as non-deterministic by nature); "
                  f"expected differences: {sum(expected.values())} "
                  f"({', '.join(f'{k} {v}' for k, v in sorted(expected.items())) or 'none'})")
            if gaps:
                print("  by area:        " + ", ".join(f"{k} {v}" for k, v in by_area.most_common()))
                print("  by responsible: " + ", ".join(f"{k} {v}" for k, v in by_who.most_common()))
            for g in gaps[: args.show]:
                print(f"    {g['path']}: {g['what']} [{g['responsible']}] debcast={g['debcast']} dpkg={g['dpkg']}")
            sys.stdout.flush()
            shutil.rmtree(d / "bundle", ignore_errors=True)
        shutil.rmtree(d / "reference", ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print("\n| set | packages | paths | differing (gaps) | of them reported | expected (container) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['packages']} | {r['paths']} | {len(r['gaps'])} | "
              f"{sum(g['reported'] for g in r['gaps'])} | {sum(r['expected'].values())} |")


if __name__ == "__main__":
    main()
