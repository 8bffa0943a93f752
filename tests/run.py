#!/usr/bin/env python3
"""Run every test: C unit test binaries (build/tests/test_*, and their
ASan/UBSan build in build/asan/tests/), Python test modules
(tests/unit/test_*.py, tests/integration/test_*.py), the Python modules that
drive the CLI again against its ASan/UBSan build (build/asan/gotrace), and,
with --fuzz, the libFuzzer targets (scripts/fuzz.sh).

Each result is one line: PASS/FAIL/SKIP, the test name, a detail.  The run
ends with a summary by suite (unit, oracle, integration, asan, fuzz: checks
run and distinct behaviours they cover, see `behaviour()`) and the line
`N passed, N failed, N skipped`, and exits non-zero when anything failed.

What counts as a failure besides a failed check:
  - a Python test that records no check (it proved nothing);
  - a test that outlives its deadline (DEADLINE seconds, or the module's
    DEADLINES[name]): its processes are killed and the run goes on;
  - a test that leaves a process it started still running;
  - an integration test that skips when `gotrace doctor` says this machine
    can trace, or, with CI=true in the environment, at all (so CI cannot go
    green by skipping what it should have run: not being root is a failure
    there).

A Python module says which suite it belongs to with SUITE = "oracle" (tests
that compare against Go's own tools); by default the directory decides.
A module with ASAN_RERUN = True runs a second time with harness.GOTRACE set
to build/asan/gotrace, counted in the asan suite.

Usage: tests/run.py [-k SUBSTRING] [--unit-only] [--fuzz]
"""
import argparse
import collections
import glob
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import harness  # noqa: E402

DEADLINE = int(os.environ.get("GOTRACE_TEST_DEADLINE", "600"))  # seconds per Python test
C_DEADLINE = 600  # seconds per C test binary
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SUITES = ("unit", "oracle", "integration", "asan", "fuzz")

counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
by_suite = {s: collections.Counter() for s in SUITES}
behaviours = {s: set() for s in SUITES}
integration_skips = []
failures = []


# --- what one check is about, for the per-suite summary

_BUILD_WORDS = r"default|pie-stripped|pie|stripped|amd64|arm64|386|mipsle|mips"
_TESTPROGS = "|".join(sorted((d for d in os.listdir(os.path.join(harness.ROOT, "testprogs"))
                              if os.path.isdir(os.path.join(harness.ROOT, "testprogs", d))),
                             key=len, reverse=True))


def behaviour(name):
    """The behaviour a check is about: its name with what only selects the
    input taken out (Go version, build variant, architecture, the test
    program after them, the replay file, goroutine ids, addresses and other
    numbers), so that one check run on 13 toolchains x 4 variants x 8
    programs counts once."""
    n = re.sub(r"^asan/", "", name)
    n = re.sub(r"go1\.\d+(\.\d+)?", "go*", n)
    n = re.sub(r"(?<![\w-])(%s)(?![\w-])" % _BUILD_WORDS, "*", n)
    n = re.sub(r"(?<=\*/)(%s)\b" % _TESTPROGS, "<prog>", n)
    n = re.sub(r"/[\w./-]*/build/[\w./-]+", "<path>", n)
    n = re.sub(r"[\w.-]+\.(snap|bin|json|jsonl)\b", "<file>", n)
    n = re.sub(r"0x[0-9a-fA-F]+", "0x*", n)
    n = re.sub(r"\d+", "N", n)
    n = re.sub(r"(\*[/ ])+", "*/", n)
    return n


def report(status, name, detail="", integration=False, suite="unit"):
    counts[status] += 1
    by_suite[suite][status] += 1
    if status != "SKIP":
        behaviours[suite].add(behaviour(name))
    line = "%s: %s" % (status, name)
    if detail:
        line += ": " + detail.strip().replace("\n", "\n    ")
    print(line, flush=True)
    if status == "FAIL":
        failures.append(name)
    if status == "SKIP" and integration:
        integration_skips.append(name)


# --- processes a test starts: tracked, so a deadline or a leak can end them

_started = []
_popen_init = subprocess.Popen.__init__


def _tracking_init(self, *args, **kwargs):
    _popen_init(self, *args, **kwargs)
    _started.append(self)


subprocess.Popen.__init__ = _tracking_init


def _descendants(pid):
    """pid and every process below it (from /proc's parent links)."""
    children = collections.defaultdict(list)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        children[ppid].append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def end_started():
    """Kill what the last test started and left running (with everything
    below it); returns their command lines."""
    left = []
    for p in _started:
        if p.poll() is None:
            left.append(" ".join(map(str, p.args if isinstance(p.args, list) else [p.args]))[:200])
            for pid in _descendants(p.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
    del _started[:]
    return left


class Deadline(BaseException):
    """Raised in a test that outlived its deadline (BaseException, so that
    `except Exception` in the test does not swallow it)."""


def _on_alarm(signum, frame):
    # Again in 10 s if the test caught it and carried on.
    signal.setitimer(signal.ITIMER_REAL, 10)
    raise Deadline()


# --- C unit tests and fuzz targets: PASS/FAIL/SKIP lines on stdout

def parse_result_lines(name, text, suite):
    seen = 0
    for line in text.splitlines():
        for st in ("PASS", "FAIL", "SKIP"):
            if line.startswith(st + ": "):
                rest = line[len(st) + 2:]
                sub, _, detail = rest.partition(": ")
                report(st, "%s/%s" % (name, sub), detail, suite=suite)
                seen += 1
    return seen


def run_c_tests(filt):
    # The plain build and the ASan/UBSan build (make asan) of every C test.
    bins = sorted(glob.glob(os.path.join(harness.BUILD, "tests", "test_*")))
    bins += sorted(glob.glob(os.path.join(harness.BUILD, "asan", "tests", "test_*")))
    for binpath in bins:
        if not os.access(binpath, os.X_OK) or (filt and filt not in binpath):
            continue
        name = os.path.basename(binpath)
        suite = "unit"
        if "/asan/" in binpath:
            name, suite = "asan/" + name, "asan"
        t0 = time.time()
        try:
            p = subprocess.run([binpath], cwd=harness.ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=C_DEADLINE)
            out, rc = p.stdout, p.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            rc = None
        seen = parse_result_lines(name, out, suite)
        if rc is None:
            report("FAIL", name, "deadline: still running after %ds (killed)\n%s"
                   % (C_DEADLINE, out[-2000:]), suite=suite)
        elif rc != 0 or seen == 0:
            report("FAIL", name, "exit %d, %d results\n%s" % (rc, seen, out[-3000:]), suite=suite)
        print("  (%s: %.1fs)" % (name, time.time() - t0), file=sys.stderr, flush=True)


def run_fuzz():
    """scripts/fuzz.sh: one PASS/FAIL line per fuzz target."""
    t0 = time.time()
    p = subprocess.run(["bash", os.path.join(harness.ROOT, "scripts", "fuzz.sh")], cwd=harness.ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = parse_result_lines("fuzz", p.stdout, "fuzz")
    if p.returncode != 0 or seen == 0:
        report("FAIL", "fuzz", "scripts/fuzz.sh exit %d, %d results\n%s"
               % (p.returncode, seen, p.stdout[-3000:]), suite="fuzz")
    print("  (fuzz: %.1fs)" % (time.time() - t0), file=sys.stderr, flush=True)


# --- Python tests

def load_module(path, modname):
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_one(fn, name, deadline, suite, integration):
    """Run one test function under its deadline; report its checks."""
    t0 = time.time()
    harness.take_results()
    verdict = None
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, deadline)
    try:
        try:
            fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except harness.Skip as e:
        verdict = ("SKIP", str(e))
    except Deadline:
        verdict = ("FAIL", "deadline: still running after %ds (its processes killed)" % deadline)
    except Exception:
        verdict = ("FAIL", traceback.format_exc()[-4000:])
    finally:
        signal.signal(signal.SIGALRM, old)
    left = end_started()
    subs = harness.take_results()
    for sub, st, detail in subs:
        report(st, "%s[%s]" % (name, sub), detail, integration, suite)
    if verdict is None and not subs:
        verdict = ("FAIL", "the test recorded no check: it proved nothing")
    if verdict is not None:
        report(verdict[0], name, verdict[1], integration, suite)
    if left:
        report("FAIL", name + "[no-process-left]", "still running after the test (killed): "
               + "; ".join(left), integration, suite)
    print("  (%s: %.1fs)" % (name, time.time() - t0), file=sys.stderr, flush=True)


def run_py_tests(kind, filt, asan=False):
    """Every test_* function of tests/<kind>/test_*.py; with asan, only the
    modules marked ASAN_RERUN, against build/asan/gotrace."""
    integration = kind == "integration"
    for path in sorted(glob.glob(os.path.join(HERE, kind, "test_*.py"))):
        base = os.path.basename(path)[:-3]
        prefix = ("asan/" if asan else "") + "%s/%s" % (kind, base)
        if asan:
            with open(path) as f:
                if not re.search(r"^ASAN_RERUN\s*=\s*True", f.read(), re.M):
                    continue
        if filt and filt not in prefix and not any(
                filt in "%s.%s" % (prefix, n) for n in _test_names(path)):
            continue
        if asan and not os.access(harness.ASAN_GOTRACE, os.X_OK):
            report("FAIL", prefix, "no %s: run make asan" % harness.ASAN_GOTRACE, suite="asan")
            continue
        try:
            mod = load_module(path, "%s_%s%s" % (kind, base, "_asan" if asan else ""))
        except Exception:
            report("FAIL", prefix, traceback.format_exc(), integration,
                   "asan" if asan else ("oracle" if "SUITE = \"oracle\"" in open(path).read() else kind))
            continue
        suite = "asan" if asan else getattr(mod, "SUITE", kind)
        deadlines = getattr(mod, "DEADLINES", {})
        for fname in sorted(n for n in dir(mod) if n.startswith("test_")):
            name = "%s.%s" % (prefix, fname)
            if filt and filt not in name:
                continue
            run_one(getattr(mod, fname), name, deadlines.get(fname, DEADLINE), suite, integration)


def _test_names(path):
    with open(path) as f:
        return re.findall(r"^def (test_\w+)", f.read(), re.M)


def run_asan_reruns(filt):
    saved = harness.GOTRACE
    harness.GOTRACE = harness.ASAN_GOTRACE
    try:
        run_py_tests("unit", filt, asan=True)
    finally:
        harness.GOTRACE = saved


def doctor_passes():
    if not os.access(harness.GOTRACE, os.X_OK):
        return False
    p = subprocess.run([harness.GOTRACE, "doctor", "-q"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return p.returncode == 0


def build_fixtures():
    """Programs the C unit tests read but do not build themselves: the C
    stack test program in its three unwind-table variants, and the arm64
    builds of testprogs/stacks test_dwunw unwinds (without them it would
    skip on a fresh checkout)."""
    sys.path.insert(0, os.path.join(HERE, "replay", "tools"))
    try:
        import unwindlib
        for variant in sorted(unwindlib.CSTACKS_VARIANTS):
            unwindlib.build_cstacks(variant)
        unwindlib.arm64_builds()
    except Exception:
        report("FAIL", "fixtures", traceback.format_exc()[-2000:])


def print_summary(seconds):
    print("# by suite (behaviours: distinct checks once toolchain, variant, arch, program, input and "
          "numbers are taken out of their names):")
    for s in SUITES:
        c = by_suite[s]
        if not sum(c.values()):
            continue
        print("#   %-12s %6d checks (%d passed, %d failed, %d skipped), %5d behaviours"
              % (s, sum(c.values()), c["PASS"], c["FAIL"], c["SKIP"], len(behaviours[s])))
    print("# %.0fs; failed: %s" % (seconds, ", ".join(failures) or "none"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", dest="filt", default="")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--fuzz", action="store_true", help="also run scripts/fuzz.sh (make check does)")
    a = ap.parse_args()
    t0 = time.time()
    build_fixtures()
    run_c_tests(a.filt)
    run_py_tests("unit", a.filt)
    run_asan_reruns(a.filt)
    if not a.unit_only:
        if IN_CI and os.geteuid() != 0:
            report("FAIL", "integration-needs-root",
                   "CI=true but not root: the integration tests cannot run (run .ci/run as root)",
                   suite="integration")
        run_py_tests("integration", a.filt)
    if a.fuzz:
        run_fuzz()
    if integration_skips and (IN_CI or doctor_passes()):
        report("FAIL", "integration-skips",
               "%s but these integration tests skipped: %s"
               % ("CI=true" if IN_CI else "`gotrace doctor` passes on this machine",
                  ", ".join(integration_skips)), suite="integration")
    print_summary(time.time() - t0)
    print("%d passed, %d failed, %d skipped" % (counts["PASS"], counts["FAIL"], counts["SKIP"]))
    sys.exit(1 if counts["FAIL"] else 0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        end_started()
        raise
