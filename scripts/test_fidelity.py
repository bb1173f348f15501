"""Tests of scripts/fidelity.py's comparison rules: which differences count as gaps, and which of
them the build's report explains as left out on purpose. Run: python3 -m unittest
scripts/test_fidelity.py (the workspace's `cargo test` runs it through tests/it/fidelity_rules.rs).
Needs no network, root or mmdebstrap: the trees are made here."""

import importlib.util
import pathlib
import tempfile
import unittest

SCRIPT = pathlib.Path(__file__).resolve().parent / "fidelity.py"
spec = importlib.util.spec_from_file_location("fidelity", SCRIPT)
fidelity = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fidelity)

LEFT_OUT = "skipped: non-deterministic by nature: "


def nd(package, what):
    return {"kind": "non-deterministic", "package": package, "script": "postinst", "what": LEFT_OUT + what}


def unsupported(package, what):
    return {"kind": "unsupported", "package": package, "script": "postinst", "what": what}


def tree(root, files, lists=None, scripts=None):
    """Files (path -> text) under root, with dpkg's file lists and maintainer scripts."""
    for path, text in files.items():
        p = root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True, exist_ok=True)
    for pkg, paths in (lists or {}).items():
        (info / f"{pkg}.list").write_text("".join(p + "\n" for p in paths))
    for name, text in (scripts or {}).items():
        (info / name).write_text(text)


class LeftOutByName(unittest.TestCase):
    def test_a_path_is_named_whole(self):
        key = "ssh-keygen -q -f /etc/ssh/ssh_host_ed25519_key -N '' -t ed25519; left out: /etc/ssh/ssh_host_ed25519_key.pub"
        self.assertTrue(fidelity.left_out_by_name("/etc/ssh/ssh_host_ed25519_key", [key]))
        self.assertTrue(fidelity.left_out_by_name("/etc/ssh/ssh_host_ed25519_key.pub", [key]))
        # Neither the start of a longer path nor the end of one.
        self.assertFalse(fidelity.left_out_by_name("/etc/ssh/ssh_host_ed25519", [key]))
        self.assertFalse(fidelity.left_out_by_name("/lib/systemd/system/x.service",
                                                   ["cp /usr/lib/systemd/system/x.service"]))

    def test_ucfs_copy_is_named_by_its_file(self):
        entry = "ucf --debconf-ok /tmp/x /etc/dbconfig-common/tt-rss.conf (made at first start: …)"
        self.assertTrue(fidelity.left_out_by_name("/var/lib/ucf/cache/:etc:dbconfig-common:tt-rss.conf", [entry]))
        self.assertFalse(fidelity.left_out_by_name("/var/lib/ucf/cache/:etc:tt-rss:database.php", [entry]))

    def test_a_directory_only_from_the_responsible_packages_entries(self):
        munin = ("munin-node-configure --shell > /tmp/x (made at first start: munin-node-configure --shell | sh "
                 "(the plugins …, linked in /etc/munin/plugins, and their state under /var/lib/munin-node/plugin-state))")
        self.assertTrue(fidelity.left_out_by_name("/etc/munin/plugins/if_eth0", [munin], [munin]))
        self.assertTrue(fidelity.left_out_by_name("/var/lib/munin-node/plugin-state/root", [munin], [munin]))
        # Another package's entry names no directory for this one.
        self.assertFalse(fidelity.left_out_by_name("/etc/munin/plugins/if_eth0", [munin], []))
        # A directory with a final slash; not a sibling whose name starts the same.
        self.assertTrue(fidelity.left_out_by_name("/etc/a/b/c", ["x /etc/a/b/ y"], ["x /etc/a/b/ y"]))
        self.assertFalse(fidelity.left_out_by_name("/etc/a/bc/d", ["x /etc/a/b y"], ["x /etc/a/b y"]))
        # Not two levels up: `/etc/munin` would cover a whole configuration tree.
        self.assertFalse(fidelity.left_out_by_name("/etc/munin/munin-node.conf", ["in /etc/munin"], ["in /etc/munin"]))


class Compare(unittest.TestCase):
    def test_a_package_with_an_effect_left_out_keeps_its_other_differences(self):
        with tempfile.TemporaryDirectory() as d:
            ours, ref = pathlib.Path(d, "ours"), pathlib.Path(d, "ref")
            shipped = {"/etc/srv/srv.conf": "port 1\n"}
            tree(ours, {**shipped, "/etc/srv/extra": "a\n"}, {"srv": list(shipped)},
                 {"srv.postinst": "#!/bin/sh\nssh-keygen -A\necho b > /etc/srv/extra\n"})
            tree(ref, {"/etc/srv/srv.conf": "port 2\n", "/etc/srv/extra": "b\n",
                       "/etc/ssh/ssh_host_rsa_key": "k\n", "/etc/ssh/ssh_host_rsa_key.pub": "p\n"},
                 {"srv": list(shipped)},
                 {"srv.postinst": "#!/bin/sh\nssh-keygen -A\necho b > /etc/srv/extra\n"})
            report = [nd("srv", "ssh-keygen -A (made at first start: ssh-keygen -A)"),
                      unsupported("srv", "echo b > /etc/srv/extra (its output is not known)")]
            _, _, gaps = fidelity.compare(ours, ref, report)
            by_path = {g["path"]: g for g in gaps}
            # The host keys: named by the command left out (their generator is ssh-keygen).
            for key in ("/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_rsa_key.pub"):
                self.assertTrue(by_path[key]["non_deterministic"], by_path[key])
            # The package's other differences: reported or not, never non-deterministic.
            self.assertTrue(by_path["/etc/srv/extra"]["reported"])
            self.assertFalse(by_path["/etc/srv/extra"]["non_deterministic"])
            self.assertFalse(by_path["/etc/srv/srv.conf"]["non_deterministic"])

    def test_equal_trees_have_no_gap(self):
        with tempfile.TemporaryDirectory() as d:
            ours, ref = pathlib.Path(d, "ours"), pathlib.Path(d, "ref")
            for root in (ours, ref):
                tree(root, {"/etc/a": "x\n"}, {"a": ["/etc/a"]})
            _, _, gaps = fidelity.compare(ours, ref, [])
            self.assertEqual(gaps, [])


if __name__ == "__main__":
    unittest.main()
