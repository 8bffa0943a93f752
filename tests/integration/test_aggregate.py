"""Integration tests of the in-kernel aggregating commands, `gotrace
funccount` and `gotrace funclatency`, on testprogs/latency.

The test program times its own calls of every traced function twice with
the monotonic clock: inside the function ("inner", first statement to last)
and around the call in its caller ("outer"), and counts the calls a panic
or runtime.Goexit ends without a return ("unwound").  It prints, per
function, the calls, the unwound ones, the sums, the maximum and p50 / p90 /
p99 of both.  That is the truth:

  funccount    the calls counted per function are exactly the program's
               returned + unwound calls (calls whose stack grows, latGrow,
               count once), in every output form and summed over -i
               intervals; per goroutine, the calls fall on the goroutines
               the program's structure puts them on.
  funclatency  exactly the program's returned and unwound calls; the sum
               and the maximum between the inner and the outer sums and
               maxima (the probes sit between the two clocks); each
               percentile, an upper bound within the bucket width (1/16),
               between the program's inner percentile and its outer
               percentile + 1/16; calls deeper than the per-goroutine limit
               are counted as evicted, never timed wrongly.

Builds: every toolchain >= 1.17 and variant (default, pie, stripped) of the
program in build/testprogs/manifest.json (scripts/build-testprogs.sh).
"""
import collections
import csv
import json
import os
import shutil
import subprocess
import tempfile
import time

import harness
from harness import check

PROG = "latency"
PATTERN = "main.lat*"
WORKERS = 4  # latSleep's goroutines (testprogs/latency/main.go)


def builds(variants=("default", "pie", "stripped")):
    m = [b for b in harness.testprog_builds()
         if b["prog"] == PROG and b["goarch"] == harness.HOSTARCH
         and b["variant"] in variants and harness.go_minor(b["go"]) >= 17]
    if not m:
        raise AssertionError("no build of testprogs/%s: run scripts/build-testprogs.sh" % PROG)
    return m


def newest(bs, variant="default"):
    c = [b for b in bs if b["variant"] == variant]
    return max(c, key=lambda b: harness.go_minor(b["go"]))


def truth(stdout):
    """The program's own report: {func: {...}}."""
    out = {}
    for line in stdout.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            out[o["func"]] = o
    if not out or "latency: done" not in stdout:
        raise AssertionError("the program did not report: %s" % stdout[-1000:])
    return out


def gotrace(cmd, args, timeout=300, **kw):
    return harness.run([harness.GOTRACE, cmd] + args, check_rc=False, timeout=timeout, **kw)


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def count_diffs(want, got):
    """Functions whose calls differ: the program counts returned and
    unwound calls apart, funccount counts entries."""
    diffs = []
    for fn, t in sorted(want.items()):
        if got.get(fn, 0) != t["calls"] + t["unwound"]:
            diffs.append("%s: program %d + %d unwound, counted %d" %
                         (fn, t["calls"], t["unwound"], got.get(fn, 0)))
    return diffs


def test_funccount_counts():
    """Per function, every build: totals in jsonl == the program's calls."""
    harness.need_root()
    with tempfile.TemporaryDirectory() as tmp:
        for b in builds():
            name = "%s/%s" % (b["go"], b["variant"])
            out = os.path.join(tmp, "c.jsonl")
            p = gotrace("funccount", ["-q", "--format=jsonl", "-o", out, PATTERN, "--",
                                      b["path"], "-n", "12"])
            if not check(name + ":runs", p.returncode == 0, p.stderr[-1500:]):
                continue
            rows = jsonl(out)
            got = {r["func"]: r["calls"] for r in rows if r["type"] == "total"}
            diffs = count_diffs(truth(p.stdout), got)
            check(name + ":counts", not diffs, "; ".join(diffs))
            stats = [r for r in rows if r["type"] == "stats"]
            check(name + ":stats", len(stats) == 1 and stats[0]["read_failures"] == 0
                  and stats[0]["morestack_map_full"] == 0, str(stats))


def test_funccount_text_csv_per_goroutine():
    """Text and CSV totals == the program's calls; per goroutine, latSleep's
    calls on its WORKERS goroutines (n each), latDeep, latGrow, latCatch
    and latPanicky on one goroutine, latExit on another."""
    harness.need_root()
    b = newest(builds())
    n = 8
    with tempfile.TemporaryDirectory() as tmp:
        txt, cpath = os.path.join(tmp, "c.txt"), os.path.join(tmp, "c.csv")
        p = gotrace("funccount", ["-q", "-o", txt, "--csv", cpath, PATTERN, "--", b["path"],
                                  "-n", str(n)])
        if check("text:runs", p.returncode == 0, p.stderr[-1500:]):
            want = truth(p.stdout)
            got = {}
            with open(txt) as f:
                for line in f:
                    fld = line.split()
                    if len(fld) == 2 and fld[0].isdigit():
                        got[fld[1]] = int(fld[0])
            diffs = count_diffs(want, got)
            check("text:counts", not diffs, "; ".join(diffs))
            with open(cpath) as f:
                rows = list(csv.DictReader(f))
            got = {r["func"]: int(r["calls"]) for r in rows if r["type"] == "total"}
            diffs = count_diffs(want, got)
            check("csv:counts", not diffs, "; ".join(diffs))

        out = os.path.join(tmp, "g.jsonl")
        p = gotrace("funccount", ["-q", "--per-goroutine", "--format=jsonl", "-o", out, PATTERN,
                                  "--", b["path"], "-n", str(n)])
        if not check("per-goroutine:runs", p.returncode == 0, p.stderr[-1500:]):
            return
        want = truth(p.stdout)
        by = collections.defaultdict(dict)  # func -> {goid: calls}
        for r in jsonl(out):
            if r["type"] == "total":
                by[r["func"]][r["goid"]] = r["calls"]
        sleep = by["main.latSleep"]
        check("per-goroutine:workers", len(sleep) == WORKERS
              and all(v == n for v in sleep.values()), str(sleep))
        check("per-goroutine:spin", set(by["main.latSpin"]) == set(sleep)
              and all(v == (n + 3) // 4 for v in by["main.latSpin"].values()),
              str(by["main.latSpin"]))
        one = [by[f] for f in ("main.latDeep", "main.latGrow", "main.latCatch", "main.latPanicky")]
        gs = set().union(*one)
        check("per-goroutine:one", len(gs) == 1 and not gs & set(sleep), str(one))
        ex = by["main.latExit"]
        check("per-goroutine:exit", len(ex) == 1 and not set(ex) & (gs | set(sleep)), str(ex))
        sums = {f: sum(v.values()) for f, v in by.items()}
        diffs = count_diffs(want, sums)
        check("per-goroutine:sums", not diffs, "; ".join(diffs))


def attach_and_run(cmd, args, prog_args, tmp):
    """-p mode: the program waits, gotrace attaches, the program runs, then
    gotrace is stopped with SIGINT.  (rc, stderr, program stdout)."""
    prog = subprocess.Popen(prog_args + ["-wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    tracer = None
    try:
        lines = []
        for line in prog.stdout:
            lines.append(line)
            if line.startswith("latency: ready"):
                break
        errlog = open(os.path.join(tmp, "err"), "w+")
        tracer = subprocess.Popen([harness.GOTRACE, cmd, "-p", str(prog.pid)] + args,
                                  stdout=subprocess.DEVNULL, stderr=errlog, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            errlog.seek(0)
            if "tracing pid" in errlog.read() or tracer.poll() is not None:
                break
            time.sleep(0.05)
        prog.stdin.write("go\n")
        prog.stdin.flush()
        rest, _ = prog.communicate(timeout=120)
        lines.append(rest)
        # the program has exited: gotrace ends by itself
        rc = tracer.wait(timeout=60)
        errlog.seek(0)
        return rc, errlog.read(), "".join(lines)
    finally:
        for pr in (prog, tracer):
            if pr and pr.poll() is None:
                pr.kill()
                pr.wait()


def test_funccount_pid_intervals():
    """-p with -i: the interval rows add up to the program's calls."""
    harness.need_root()
    b = newest(builds())
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "i.jsonl")
        rc, err, stdout = attach_and_run(
            "funccount", ["-i", "20ms", "--format=jsonl", "-o", out, PATTERN],
            [b["path"], "-n", "60"], tmp)
        if not check("pid:runs", rc == 0 and "tracing pid" in err, err[-1500:]):
            return
        rows = jsonl(out)
        sums, ticks = collections.Counter(), set()
        for r in rows:
            if r["type"] == "interval":
                sums[r["func"]] += r["calls"]
                ticks.add(r["t_ns"])
        diffs = count_diffs(truth(stdout), sums)
        check("pid:interval-sums", len(ticks) >= 3 and not diffs,
              "%d intervals; %s" % (len(ticks), "; ".join(diffs)))
        tot = {r["func"]: r["calls"] for r in rows if r["type"] == "total"}
        check("pid:totals", tot == dict(sums), "%s vs %s" % (tot, dict(sums)))


def latency_diffs(want, rows, slack=1.0 / 16):
    """What funclatency got wrong, function by function (see the module
    docstring for the rules)."""
    diffs = []
    for fn, t in sorted(want.items()):
        r = rows.get(fn)
        if r is None:
            diffs.append("%s: not reported" % fn)
            continue
        if (r["calls"], r["unwound"]) != (t["calls"], t["unwound"]):
            diffs.append("%s: %d calls %d unwound, program %d %d" %
                         (fn, r["calls"], r["unwound"], t["calls"], t["unwound"]))
            continue
        if not t["calls"]:
            continue
        if not t["inner_sum_ns"] <= r["sum_ns"] <= t["outer_sum_ns"]:
            diffs.append("%s: sum %d outside [%d, %d]" %
                         (fn, r["sum_ns"], t["inner_sum_ns"], t["outer_sum_ns"]))
        if not t["inner_max_ns"] <= r["max_ns"] <= t["outer_max_ns"]:
            diffs.append("%s: max %d outside [%d, %d]" %
                         (fn, r["max_ns"], t["inner_max_ns"], t["outer_max_ns"]))
        for pc in (50, 90, 99):
            lo, hi = t["inner_p%d_ns" % pc], t["outer_p%d_ns" % pc] * (1 + slack) + 1
            v = r["p%d_ns" % pc]
            if not lo <= v <= hi:
                diffs.append("%s: p%d %d outside [%d, %d]" % (fn, pc, v, lo, hi))
    return diffs


def test_funclatency_truth():
    """Every build: calls, unwound, sums, maxima and percentiles against the
    program's own clocks."""
    harness.need_root()
    with tempfile.TemporaryDirectory() as tmp:
        for b in builds():
            name = "%s/%s" % (b["go"], b["variant"])
            out = os.path.join(tmp, "l.jsonl")
            p = gotrace("funclatency", ["-q", "--format=jsonl", "-o", out, PATTERN, "--",
                                        b["path"], "-n", "12", "-deep", "40"])
            if not check(name + ":runs", p.returncode == 0, p.stderr[-1500:]):
                continue
            rows = jsonl(out)
            got = {r["func"]: r for r in rows if r["type"] == "total"}
            diffs = latency_diffs(truth(p.stdout), got)
            check(name + ":latency", not diffs, "; ".join(diffs))
            st = [r for r in rows if r["type"] == "stats"]
            check(name + ":stats", len(st) == 1 and st[0]["unmatched_returns"] == 0
                  and st[0]["evicted"] == 0 and st[0]["read_failures"] == 0, str(st))


def test_funclatency_deep_and_pid():
    """A recursion deeper than the per-goroutine limit (64): the innermost
    calls are timed, the others counted as evicted, all accounted for;
    -p mode with -i: interval calls add up to the totals."""
    harness.need_root()
    b = newest(builds())
    deep = 100
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "d.jsonl")
        p = gotrace("funclatency", ["--format=jsonl", "-o", out, "main.latDeep", "--",
                                    b["path"], "-n", "2", "-deep", str(deep)])
        if check("deep:runs", p.returncode == 0, p.stderr[-1500:]):
            r = [x for x in jsonl(out) if x["type"] == "total"]
            check("deep:accounted", len(r) == 1 and r[0]["calls"] == 64
                  and r[0]["calls"] + r[0]["evicted"] == deep, str(r))
            check("deep:warned", "not timed" in p.stderr, p.stderr[-800:])
        out = os.path.join(tmp, "i.jsonl")
        rc, err, stdout = attach_and_run(
            "funclatency", ["-i", "40ms", "--format=jsonl", "-o", out, "main.latS*"],
            [b["path"], "-n", "30"], tmp)
        if not check("pid:runs", rc == 0 and "tracing pid" in err, err[-1500:]):
            return
        rows = jsonl(out)
        want = {f: t for f, t in truth(stdout).items() if f.startswith("main.latS")}
        sums = collections.Counter()
        for r in rows:
            if r["type"] == "interval":
                sums[r["func"]] += r["calls"]
        tot = {r["func"]: r for r in rows if r["type"] == "total"}
        diffs = latency_diffs(want, tot)
        check("pid:latency", not diffs, "; ".join(diffs))
        check("pid:interval-sums", all(sums[f] == want[f]["calls"] for f in want),
              "%s" % dict(sums))


def test_bad_input():
    """One line naming what is wrong, exit 1 (2 for usage)."""
    harness.need_root()
    b = newest(builds())
    for cmd in ("funccount", "funclatency"):
        p = gotrace(cmd, ["main.noSuchFunction*", "--", b["path"]])
        check(cmd + ":no-match", p.returncode == 1 and
              "pattern 'main.noSuchFunction*' matches no function" in p.stderr, p.stderr[-800:])
        p = gotrace(cmd, [PATTERN, "--", "/nonexistent/prog"])
        check(cmd + ":missing", p.returncode == 1 and "/nonexistent/prog" in p.stderr,
              p.stderr[-800:])
        p = gotrace(cmd, ["-i", "soon", PATTERN, "--", b["path"]])
        check(cmd + ":interval", p.returncode == 2 and "soon" in p.stderr, p.stderr[-800:])
        p = gotrace(cmd, ["-p", "999999999", PATTERN])
        check(cmd + ":pid", p.returncode != 0 and "gotrace:" in p.stderr, p.stderr[-800:])
        p = gotrace(cmd, [PATTERN])
        check(cmd + ":no-target", p.returncode == 2, p.stderr[-800:])
        p = gotrace(cmd, ["--help"])
        check(cmd + ":help", p.returncode == 0 and "Examples:" in p.stdout, p.stderr[-300:])


def bpf_ids(prefixes):
    """ids of our BPF programs (by name prefix) and of their links."""
    progs, links = set(), set()
    p = subprocess.run(["bpftool", "-j", "prog", "show"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    for o in json.loads(p.stdout or "[]"):
        if o.get("name", "").startswith(prefixes):
            progs.add(o["id"])
    p = subprocess.run(["bpftool", "-j", "link", "show"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    for o in json.loads(p.stdout or "[]"):
        if o.get("prog_id") in progs:
            links.add(o["id"])
    return progs, links


def test_zz_no_bpf_left():
    """After Ctrl-C in -p mode, the programs and links a run created are
    gone (ids taken while it runs: other tracers don't matter)."""
    harness.need_root()
    if not shutil.which("bpftool"):
        raise harness.Skip("no bpftool")
    b = newest(builds())
    for cmd, prefix in (("funccount", "fc_"), ("funclatency", "fl_")):
        before = bpf_ids(prefix)
        prog = subprocess.Popen([b["path"], "-loop", "-n", "4"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        with tempfile.TemporaryFile("w+") as err:
            tracer = subprocess.Popen([harness.GOTRACE, cmd, "-p", str(prog.pid), "-o",
                                       "/dev/null", PATTERN], stdout=subprocess.DEVNULL,
                                      stderr=err, text=True)
            try:
                deadline = time.time() + 60
                while time.time() < deadline and tracer.poll() is None:
                    err.seek(0)
                    if "tracing pid" in err.read():
                        break
                    time.sleep(0.05)
                during = bpf_ids(prefix)
                mine = (during[0] - before[0], during[1] - before[1])
                tracer.send_signal(2)
                rc = tracer.wait(timeout=60)
                for _ in range(50):  # program teardown is asynchronous (RCU)
                    after = bpf_ids(prefix)
                    if not mine[0] & after[0] and not mine[1] & after[1]:
                        break
                    time.sleep(0.1)
                err.seek(0)
                check(cmd + ":sigint", rc == 0 and mine[0] and mine[1]
                      and not mine[0] & after[0] and not mine[1] & after[1],
                      "exit %s; ours %s, left %s\n%s" % (rc, mine, after, err.read()[-800:]))
            finally:
                for pr in (prog, tracer):
                    if pr.poll() is None:
                        pr.kill()
                        pr.wait()


def test_funccount_old_go():
    """Per function, funccount needs no register ABI: on the oldest Go
    build of testprogs/states (each worker function runs once) the counts
    are exact; --per-goroutine and funclatency say they need Go >= 1.17."""
    harness.need_root()
    old = [b for b in harness.testprog_builds()
           if b["prog"] == "states" and b["goarch"] == harness.HOSTARCH
           and b["variant"] == "default" and 0 < harness.go_minor(b["go"]) < 17]
    if not old:
        raise harness.Skip("no testprogs/states build before Go 1.17")
    b = min(old, key=lambda x: harness.go_minor(x["go"]))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "o.jsonl")
        p = gotrace("funccount", ["-q", "--format=jsonl", "-o", out, "main.*Worker", "--",
                                  b["path"], "-n", "3"])
        workers = [json.loads(line)["kind"] for line in p.stdout.splitlines()
                   if line.startswith("{") and '"worker"' in line]
        got = {r["func"]: r["calls"] for r in jsonl(out) if r["type"] == "total"} \
            if os.path.exists(out) else {}
        want = {"main.%sWorker" % k: 1 for k in workers}
        check("old-go:counts", p.returncode == 0 and len(workers) == 4 and got == want,
              "%s: %r, want %r\n%s" % (b["go"], got, want, p.stderr[-800:]))
        for cmd, args in (("funccount", ["--per-goroutine"]), ("funclatency", [])):
            p = gotrace(cmd, args + ["main.*", "--", b["path"]])
            check("old-go:%s%s" % (cmd, "".join(args)),
                  p.returncode == 1 and "need" in p.stderr and "Go >= 1.17" in p.stderr,
                  p.stderr[-500:])
