#!/usr/bin/env python3
"""Run every test: C unit test binaries (build/tests/test_*) and Python test
modules (tests/unit/test_*.py, tests/integration/test_*.py).

Each result is one line: PASS/FAIL/SKIP, the test name, a detail.  The run
ends with the line `N passed, N failed, N skipped` and exits non-zero when
anything failed.  Integration tests need root and a BPF-capable kernel; when
`gotrace doctor` says this machine has both, an integration test that skips
is a failure (so CI cannot go green by skipping what it should have run).

Usage: tests/run.py [-k SUBSTRING] [--unit-only]
"""
import argparse
import glob
import importlib.util
import os
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import harness  # noqa: E402

counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
integration_skips = []
failures = []


def report(status, name, detail="", integration=False):
    counts[status] += 1
    line = "%s: %s" % (status, name)
    if detail:
        line += ": " + detail.strip().replace("\n", "\n    ")
    print(line, flush=True)
    if status == "FAIL":
        failures.append(name)
    if status == "SKIP" and integration:
        integration_skips.append(name)


def run_c_tests(filt):
    # The plain build and the ASan/UBSan build (make asan) of every C test.
    bins = sorted(glob.glob(os.path.join(harness.BUILD, "tests", "test_*")))
    bins += sorted(glob.glob(os.path.join(harness.BUILD, "asan", "tests", "test_*")))
    for binpath in bins:
        if not os.access(binpath, os.X_OK) or (filt and filt not in binpath):
            continue
        name = os.path.basename(binpath)
        if "/asan/" in binpath:
            name = "asan/" + name
        t0 = time.time()
        p = subprocess.run([binpath], cwd=harness.ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600)
        seen = 0
        for line in p.stdout.splitlines():
            for st in ("PASS", "FAIL", "SKIP"):
                if line.startswith(st + ": "):
                    rest = line[len(st) + 2:]
                    sub, _, detail = rest.partition(": ")
                    report(st, "%s/%s" % (name, sub), detail)
                    seen += 1
        if p.returncode != 0 or seen == 0:
            report("FAIL", name, "exit %d, %d results\n%s" % (p.returncode, seen, p.stdout[-3000:]))
        print("  (%s: %.1fs)" % (name, time.time() - t0), file=sys.stderr, flush=True)


def run_py_tests(kind, filt):
    integration = kind == "integration"
    for path in sorted(glob.glob(os.path.join(HERE, kind, "test_*.py"))):
        modname = "%s_%s" % (kind, os.path.basename(path)[:-3])
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception:
            report("FAIL", modname, traceback.format_exc())
            continue
        for fname in sorted(n for n in dir(mod) if n.startswith("test_")):
            fn = getattr(mod, fname)
            name = "%s/%s.%s" % (kind, os.path.basename(path)[:-3], fname)
            if filt and filt not in name:
                continue
            t0 = time.time()
            harness.take_results()
            try:
                fn()
                subs = harness.take_results()
                if subs:
                    for sub, st, detail in subs:
                        report(st, "%s[%s]" % (name, sub), detail, integration)
                else:
                    report("PASS", name)
            except harness.Skip as e:
                for sub, st, detail in harness.take_results():
                    report(st, "%s[%s]" % (name, sub), detail, integration)
                report("SKIP", name, str(e), integration)
            except Exception:
                for sub, st, detail in harness.take_results():
                    report(st, "%s[%s]" % (name, sub), detail, integration)
                report("FAIL", name, traceback.format_exc()[-4000:])
            print("  (%s: %.1fs)" % (name, time.time() - t0), file=sys.stderr, flush=True)


def doctor_passes():
    if not os.access(harness.GOTRACE, os.X_OK):
        return False
    p = subprocess.run([harness.GOTRACE, "doctor", "-q"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return p.returncode == 0


def build_fixtures():
    """Programs the C unit tests read but do not build themselves: the C
    stack test program in its three unwind-table variants."""
    sys.path.insert(0, os.path.join(HERE, "replay", "tools"))
    try:
        import unwindlib
        for variant in sorted(unwindlib.CSTACKS_VARIANTS):
            unwindlib.build_cstacks(variant)
    except Exception:
        report("FAIL", "fixtures", traceback.format_exc()[-2000:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", dest="filt", default="")
    ap.add_argument("--unit-only", action="store_true")
    a = ap.parse_args()
    t0 = time.time()
    build_fixtures()
    run_c_tests(a.filt)
    run_py_tests("unit", a.filt)
    if not a.unit_only:
        run_py_tests("integration", a.filt)
    if integration_skips and doctor_passes():
        report("FAIL", "integration-skips",
               "`gotrace doctor` passes on this machine but these integration "
               "tests skipped: " + ", ".join(integration_skips))
    print("# %.0fs; failed: %s" % (time.time() - t0, ", ".join(failures) or "none"),
          file=sys.stderr)
    print("%d passed, %d failed, %d skipped" % (counts["PASS"], counts["FAIL"], counts["SKIP"]))
    sys.exit(1 if counts["FAIL"] else 0)


if __name__ == "__main__":
    main()
