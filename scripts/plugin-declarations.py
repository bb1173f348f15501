#!/usr/bin/env python3
"""Prints the declarations records (src/assemble/system/plugins/declarations.txt) of the
gdk-pixbuf loaders, GTK input-method modules, GIO modules and Graphviz plugins installed in ROOT, a tree dpkg configured (mmdebstrap's
output): what gdk-pixbuf-query-loaders, gtk-query-immodules, gio-querymodules and
libgvc6-config-update wrote there, per module file,
owning package and upstream version. Used to add the modules of a new release:

    mmdebstrap --variant=essential --include=libgdk-pixbuf-2.0-0,glib-networking,… SUITE ROOT
    python3 scripts/plugin-declarations.py ROOT >> src/assemble/system/plugins/declarations.txt
"""
import glob
import os
import subprocess
import sys


def stanza(lines):
    """A record's lines: `|`, then a space and the line unless it is empty."""
    return ["| " + l if l else "|" for l in lines]


def declares_query(module):
    """Whether a GIO module exports a query function (`g_io_module_query`, `g_io_NAME_query`):
    one with none has no line in the cache by design."""
    symbols = subprocess.run(["nm", "-D", "--defined-only", module],
                             capture_output=True, text=True, check=True).stdout
    return any(s.split()[-1].startswith("g_io_") and s.split()[-1].endswith("_query")
               for s in symbols.splitlines() if s.split())


def upstream(version):
    version = version.split(":", 1)[-1]
    return version.rsplit("-", 1)[0] if "-" in version else version


def main(root):
    owner = {}
    for listing in glob.glob(f"{root}/var/lib/dpkg/info/*.list"):
        package = os.path.basename(listing)[: -len(".list")].split(":")[0]
        with open(listing, encoding="utf-8") as f:
            for line in f:
                owner[line.strip()] = package
    versions = {}
    query = subprocess.run(
        ["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f", "${Package} ${Version}\n"],
        capture_output=True, text=True, check=True,
    )
    for line in query.stdout.splitlines():
        package, version = line.split()
        versions[package] = upstream(version)
    out = []
    for cache in sorted(glob.glob(f"{root}/usr/lib/*/gdk-pixbuf-2.0/*/loaders.cache")):
        with open(cache, encoding="utf-8") as f:
            text = f.read()
        tool = os.path.join(os.path.dirname(os.path.dirname(cache)), "gdk-pixbuf-query-loaders")
        tool_package = owner[tool[len(root):]]
        created = [l for l in text.splitlines() if l.startswith("# Created by ")][0]
        out.append(f"pixbuf-tool {tool_package} {versions[tool_package]} {created.rsplit('gdk-pixbuf-', 1)[1]}")
        for block in text.split("\n\n"):
            lines = [l for l in block.split("\n") if l and not l.startswith("#")]
            if not lines:
                continue
            path = lines[0].strip('"')
            package = owner[path]
            out.append(f"loader {package} {versions[package]} {os.path.basename(path)}")
            out.extend(stanza(lines[1:]))
    for cache in sorted(glob.glob(f"{root}/usr/lib/*/gtk-[23].0/*/immodules.cache")):
        with open(cache, encoding="utf-8") as f:
            text = f.read()
        created = [l for l in text.splitlines() if l.startswith("# Created by ")][0]
        tool = created[len("# Created by "):].rsplit(" from ", 1)[0]
        tool_package = owner[tool]
        gtk = created.rsplit("gtk+-", 1)[1]
        libdir = os.path.dirname(os.path.dirname(os.path.dirname(cache)))[len(root):]
        modules_path = [l for l in text.splitlines() if l.startswith("# ModulesPath = ")][0]
        modules_path = modules_path[len("# ModulesPath = "):].replace(libdir, "@LIBDIR@")
        # A path naming the GNU triplet (GTK 2's) holds for the architecture it was recorded on.
        arch = "any"
        if "-linux-gnu" in modules_path:
            with open(f"{root}/var/lib/dpkg/arch", encoding="utf-8") as f:
                arch = f.readline().strip()
        cache_path = cache[len(root):].replace(libdir, "@LIBDIR@")
        out.append(f"gtkim-tool {tool_package} {versions[tool_package]} {arch} {gtk} {cache_path} {modules_path}")
        for block in text.split("\n\n"):
            lines = [l for l in block.split("\n") if l and not l.startswith("#")]
            if not lines:
                continue
            path = lines[0].strip().strip('"')
            package = owner[path]
            out.append(f"gtkim {package} {versions[package]} {os.path.basename(path)}")
            out.extend(stanza(lines[1:]))
    for config in sorted(glob.glob(f"{root}/usr/lib/*/graphviz/config6*")):
        with open(config, encoding="utf-8") as f:
            lines = f.read().split("\n")
        assert lines[-1] == "", config
        lines = lines[:-1]
        first = next(i for i, l in enumerate(lines) if l.startswith("libgvplugin_"))
        tool = glob.glob(f"{root}/usr/sbin/libgvc*-config-update")[0][len(root):]
        tool_package = owner[tool]
        plugin_version = tool.rsplit("libgvc", 1)[1].split("-", 1)[0]
        out.append(f"gvconfig-tool {tool_package} {versions[tool_package]} {os.path.basename(config)} {plugin_version}")
        out.extend(stanza(lines[:first]))
        moddir = os.path.dirname(config)[len(root):]
        block = []
        for line in lines[first:] + [""]:
            if block and not line.startswith(("\t", "#", "}")):
                file, name, _ = block[0].split(" ")
                package = owner[f"{moddir}/{file}"]
                out.append(f"gvplugin {package} {versions[package]} {file} {name}")
                out.extend(stanza(block[1:]))
                block = []
            if line:
                block.append(line)
    # The directories Debian's postinsts run gio-querymodules on; a module there that is not
    # in the cache declares no extension point.
    for moddir in sorted(glob.glob(f"{root}/usr/lib/*/gio/modules")
                         + glob.glob(f"{root}/usr/lib/*/gtk-4.0/4.0.0/immodules")
                         + glob.glob(f"{root}/usr/lib/*/gtk-4.0/4.0.0/printbackends")):
        points = {}
        cache = os.path.join(moddir, "giomodule.cache")
        if os.path.exists(cache):
            with open(cache, encoding="utf-8") as f:
                for line in f:
                    module, listed = line.rstrip("\n").split(": ", 1)
                    points[module] = listed
        for module in sorted(os.listdir(moddir)):
            if not (module.startswith("lib") and module.endswith(".so")):
                continue
            package = owner[f"{moddir[len(root):]}/{module}"]
            if module not in points and declares_query(os.path.join(moddir, module)):
                sys.exit(f"{moddir}/{module} has a query function but no line in the cache: "
                         "it did not load while recording")
            out.append(f"gio {package} {versions[package]} {module} {points.get(module, '-')}")
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
