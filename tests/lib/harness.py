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
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
GOTRACE = os.path.join(BUILD, "gotrace")
# The CLI built with ASan/UBSan (make asan).  tests/run.py points GOTRACE at
# it to run the modules marked ASAN_RERUN a second time.
ASAN_GOTRACE = os.path.join(BUILD, "asan", "gotrace")
# The ASan build's exit status on a sanitizer report (ASAN_OPTIONS and
# UBSAN_OPTIONS below), so a report is never mistaken for the exit 1 of a
# clean error message.
SANITIZER_EXIT = 86
os.environ.setdefault("ASAN_OPTIONS", "exitcode=%d:detect_leaks=1" % SANITIZER_EXIT)
os.environ.setdefault("UBSAN_OPTIONS", "exitcode=%d:print_stacktrace=1:halt_on_error=1" % SANITIZER_EXIT)
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


def sanitizer_report(returncode, stderr):
    """The sanitizer report in a run of the ASan build, or None."""
    if returncode == SANITIZER_EXIT or "Sanitizer" in stderr or "runtime error:" in stderr:
        return stderr[-3000:] or "exit %d" % returncode
    return None


def run(cmd, check_rc=True, timeout=300, **kw):
    """Run a command, return CompletedProcess with text stdout/stderr.
    A sanitizer report from the ASan build of the CLI always raises."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, **kw)
    if cmd and cmd[0] == ASAN_GOTRACE:
        rep = sanitizer_report(p.returncode, p.stderr)
        if rep:
            raise AssertionError("%s: sanitizer report:\n%s" % (" ".join(cmd)[:300], rep))
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


def newest_build(prog):
    """The path of prog's default build for this machine by the newest Go."""
    builds = [b for b in testprog_builds()
              if b["prog"] == prog and b["variant"] == "default" and b["goarch"] == HOSTARCH]
    if not builds:
        raise AssertionError("no default build of %s" % prog)
    return sorted(builds, key=lambda b: [int(x) for x in b["go"][2:].split(".")])[-1]["path"]


def need_root(exe=GOTRACE, hint="run make"):
    """Integration tests attach BPF programs: skip without root; a missing
    tool is a failure (the build should have made it)."""
    if os.geteuid() != 0:
        raise Skip("needs root (BPF, uprobes)")
    if not os.access(exe, os.X_OK):
        raise AssertionError("no %s: %s" % (exe, hint))


def log(msg):
    print("  " + msg, file=sys.stderr, flush=True)


def ci():
    """True when the run is CI's (CI=true in the environment, as .ci/run
    and CI services set it): there, what would be a skip elsewhere (a
    stale replay corpus, a toolchain missing) is a failure."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def readline(pipe, timeout):
    """One line from a text pipe, or None after timeout seconds (the
    reading thread is left to finish when the pipe closes)."""
    import threading
    box = []
    t = threading.Thread(target=lambda: box.append(pipe.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return box[0] if box else None


# --- our BPF objects, seen loaded and then released

def bpf_held(pid):
    """(prog ids, link ids) of the BPF programs and links process pid holds
    open, from the kernel's /proc/PID/fdinfo (independent of what the
    process says, and of other tracers running on the machine)."""
    progs, links = set(), set()
    d = "/proc/%d/fdinfo" % pid
    try:
        names = os.listdir(d)
    except OSError:
        return progs, links
    for fd in names:
        try:
            with open(os.path.join(d, fd)) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k == "prog_id":
                        progs.add(int(v))
                    elif k == "link_id":
                        links.add(int(v))
        except (OSError, ValueError):
            continue
    return progs, links


def bpf_existing():
    """(prog ids, link ids) of every BPF program and link on the machine."""
    out = []
    for what in ("prog", "link"):
        p = subprocess.run(["bpftool", "-j", what, "show"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise AssertionError("bpftool %s show: %s" % (what, p.stderr[-300:]))
        out.append({o["id"] for o in json.loads(p.stdout or "[]")})
    return out[0], out[1]


def check_bpf_released(name, held, need_links=True):
    """One check: the programs (and links) a tracer held while it ran
    (bpf_held, taken then) were there, and are gone now.  The kernel frees
    them after an RCU grace period: a few seconds of polling."""
    progs, links = held
    left = (set(), set())
    for _ in range(100):
        now = bpf_existing()
        left = (progs & now[0], links & now[1])
        if not left[0] and not left[1]:
            break
        time.sleep(0.1)
    seen = bool(progs) and (bool(links) or not need_links)
    return check(name + "/no-bpf-left", seen and not left[0] and not left[1],
                 "held while tracing: programs %s links %s; left: programs %s links %s"
                 % (sorted(progs), sorted(links), sorted(left[0]), sorted(left[1])))


def wait_bpf_held(pid, timeout=60, need_links=True):
    """Poll until process pid holds BPF programs (and links): what it holds
    then, or what it held last if it never did within timeout."""
    deadline = time.time() + timeout
    held = (set(), set())
    while time.time() < deadline:
        held = bpf_held(pid)
        if held[0] and (held[1] or not need_links):
            break
        try:
            with open("/proc/%d/stat" % pid) as f:
                st = f.read()
            if st[st.rindex(")") + 2] in "ZX":
                break  # exited (not reaped yet)
        except (OSError, ValueError):
            break
        time.sleep(0.05)
    return held


def missing(name, reason):
    """What a check needs is not on this machine (a toolchain, a recorded
    binary): a failure in CI, a skip elsewhere (counted and shown)."""
    if ci():
        check(name, False, "CI=true: " + reason)
    else:
        skip(name, reason)


def claimed_toolchains():
    """The Go toolchains docs/testing.md says the tests run with
    (its `toolchains: go1.15.15 ...` line), oldest first."""
    import re
    with open(os.path.join(ROOT, "docs", "testing.md")) as f:
        m = re.search(r"^\s*toolchains:((?: go1\.\d+(?:\.\d+)?)+)\s*$", f.read(), re.M)
    if not m:
        raise AssertionError("docs/testing.md has no `toolchains: go1...` line")
    return m.group(1).split()


def check_toolchains(name, have, minimum=0):
    """One check: the toolchains in have (go1.N.M strings) are those
    docs/testing.md claims (the ones from Go 1.minimum on); a shortfall is
    a failure in CI and a skip naming it elsewhere."""
    want = {v for v in claimed_toolchains() if go_minor(v) >= minimum}
    have = {v for v in have if go_minor(v) >= minimum}
    if have == want:
        return check(name, True, " ".join(sorted(have, key=go_minor)))
    missing(name, "toolchains missing: %s; not claimed: %s (docs/testing.md)"
            % (" ".join(sorted(want - have, key=go_minor)) or "none",
               " ".join(sorted(have - want, key=go_minor)) or "none"))
    return False
