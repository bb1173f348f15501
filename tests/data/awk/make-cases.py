#!/usr/bin/env python3
"""Fills in `stdout` of every case in cases.json with what the host's mawk prints.

The cases (`args`, `input`, and `refused` for forms debcast must decline) are written by hand;
`stdout` comes from running them, so the unit test compares with mawk itself. Run on a host
whose /usr/bin/mawk is Debian's 1.3.4-20200120 (bookworm's awk): `python3 make-cases.py`.
"""
import json
import pathlib
import subprocess
import tempfile

here = pathlib.Path(__file__).resolve().parent
path = here / "cases.json"
cases = json.loads(path.read_text())
version = subprocess.run(["mawk", "-W", "version"], capture_output=True, text=True).stdout.split("\n")[0]
if "1.3.4 20200120" not in version:
    raise SystemExit(f"expected mawk 1.3.4 20200120, found {version!r}")
for case in cases:
    try:
        # In a scratch directory: refused cases redirect output to files (`print > "out"`).
        with tempfile.TemporaryDirectory() as scratch:
            run = subprocess.run(["mawk", *case["args"]], input=case["input"].encode(),
                                 capture_output=True, timeout=10, cwd=scratch)
    except subprocess.TimeoutExpired:
        if not case.get("refused"):
            raise SystemExit(f"mawk ran on past 10 s: {case['args']}")
        case["stdout"] = ""
        continue
    case["stdout"] = run.stdout.decode()
    if run.returncode not in (0, 1) and not case.get("refused"):
        raise SystemExit(f"mawk failed on {case['args']}: {run.stderr.decode()}")
path.write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")
print(f"{len(cases)} cases from {version}")
