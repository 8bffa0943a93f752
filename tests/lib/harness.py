"""Minimal test harness shared by the Python tests (no pytest needed).

A test module defines functions named test_*; tests/run.py calls each one.
A function passes when it returns, fails when it raises, and is skipped when
it raises Skip(reason).  A function that checks many cases (every toolchain,
every build variant) calls check(name, ok, detail) once per case: each call
is one counted result, and the function itself is then not counted.

Paths: ROOT is the checkout, BUILD its build/ directory, GOTRACE the CLI.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
GOTRACE = os.path.join(BUILD, "gotrace")
TESTPROGS = os.path.join(BUILD, "testprogs")


# GOARCH of this machine, as testprogs/manifest.json names it.
HOSTARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def go_minor(goversion):
    """12 for "go1.12.3", 0 when it is not a go1.N version."""
    import re
    m = re.match(r"go1\.(\d+)", goversion)
    return int(m.group(1)) if m else 0


class Skip(Exception):
    """Raise to skip a test; the message says why."""


_results = []  # (name, status, detail) appended by check()


def check(name, ok, detail=""):
    """Record one sub-result.  Returns ok so callers can branch on it."""
    _results.append((name, "PASS" if ok else "FAIL", detail))
    return ok


def skip(name, reason):
    _results.append((name, "SKIP", reason))


def take_results():
    global _results
    r, _results = _results, []
    return r


def run(cmd, check_rc=True, timeout=300, **kw):
    """Run a command, return CompletedProcess with text stdout/stderr."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, **kw)
    if check_rc and p.returncode != 0:
        raise AssertionError("%s exited %d\nstderr: %s" % (
            " ".join(cmd), p.returncode, p.stderr[-2000:]))
    return p


def testprog_builds():
    """The testprog build manifest written by scripts/build-testprogs.sh:
    a list of {"go": "go1.26.8", "variant": "default|pie|stripped|...",
    "goarch": "amd64", "prog": name, "path": abs path}."""
    m = os.path.join(TESTPROGS, "manifest.json")
    if not os.path.exists(m):
        raise Skip("no %s: run scripts/build-testprogs.sh" % m)
    with open(m) as f:
        return json.load(f)


def need_root(exe=GOTRACE, hint="run make"):
    """Integration tests attach BPF programs: skip without root; a missing
    tool is a failure (the build should have made it)."""
    if os.geteuid() != 0:
        raise Skip("needs root (BPF, uprobes)")
    if not os.access(exe, os.X_OK):
        raise AssertionError("no %s: %s" % (exe, hint))


def log(msg):
    print("  " + msg, file=sys.stderr, flush=True)
