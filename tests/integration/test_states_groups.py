"""Integration tests of `gotrace states --group` in attach mode (issue 17).

The truth is what testprogs/groups prints about itself: how many goroutines
of each kind it started before the tracer attached and after, the length
of each of its sleeps by its own clock (CLOCK_MONOTONIC, the clock of the
probes), and for 200 handoffs when it made a goroutine runnable and when
that goroutine ran; the lines of its `go F()` statements are read from its
source; the pprof labels are those it set.  Every check compares gotrace's
groups (JSON Lines, CSV, text) against those numbers, for the default
build of every toolchain from Go 1.17 (the program's minimum), the pie
build of the newest, and the label and creation-site groupings on the
newest, 1.19, 1.23 (labels in a map) and 1.24 (labels in a list).  The
same checks hold for `states --aggregate --group` (the groups from the
in-kernel aggregation) on the newest and on 1.23 (creations whose goid
is written late), and for launch mode (`states --group -- PROG`, both
sources), where every goroutine is created under the tracer.  Two of the
program's goroutines set their labels while traced and never exit: their
label group is only right if gotrace reads the labels at the end.
"""
import csv
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import harness

SRC = os.path.join(harness.ROOT, "testprogs", "groups", "main.go")

# The program's goroutines that block for the whole trace, and why.
# Names as the runtime's waitReasonStrings have them (semacquire before 1.20).
WHOLE_TRACE = {
    "main.parkForever": ("chan receive",),
    "main.lockWaiter": ("sync.Mutex.Lock", "semacquire"),
    "main.labeledA": ("chan receive",),
    "main.labeledB": ("chan receive",),
}
LABELS = {"a": 3, "b": 1, "c": 2, "d": 2}   # tenant=V: goroutines, as main.go sets them


def vt(v):
    m = re.match(r"go(\d+)\.(\d+)", v)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def builds():
    bs = [b for b in harness.testprog_builds()
          if b["prog"] == "groups" and b.get("goarch") == harness.HOSTARCH]
    if not bs:
        raise harness.Skip("no testprogs/groups builds in the manifest")
    return bs


def go_lines():
    """main.F -> the line of its `go F()` statement (g.gopc's line)."""
    lines = {}
    with open(SRC) as f:
        for i, l in enumerate(f, 1):
            m = re.match(r"\s*go (\w+)\(\)\s*$", l)
            if m:
                lines["main." + m.group(1)] = i
    return lines


def require():
    harness.need_root()
    p = subprocess.run([harness.GOTRACE, "doctor", "-q"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    if p.returncode != 0:
        raise harness.Skip("this machine can't trace (gotrace doctor)")


class Run:
    """One traced run: the program's own lines and gotrace's outputs."""

    def __init__(self, b, args, tmp, launch=False):
        self.prog_lines, self.err, self.rc = [], "", None
        self.out = os.path.join(tmp, "out")
        self.csv = os.path.join(tmp, "out.csv")
        for f in (self.out, self.csv):
            if os.path.exists(f):
                os.unlink(f)
        if launch:
            self._launch(b, args)
            return
        prog = subprocess.Popen([b["path"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            self._trace(prog, args)
        finally:
            if prog.poll() is None:
                prog.kill()
            prog.wait()

    def _launch(self, b, args):
        """gotrace states ARGS -- PROG: the program's lines on gotrace's
        stdout (gotrace's own output goes to -o), its stdin gotrace's."""
        g = subprocess.Popen([harness.GOTRACE, "states", "-q", "-o", self.out] + args +
                             ["--", b["path"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            self._read_prog(g, "ready")
            g.stdin.write("go\n")
            g.stdin.flush()
            self._read_prog(g, "done")
            g.stdin.close()     # end of input: the program exits, then gotrace
            g.stdin = None      # (communicate() would flush it)
            _, e = g.communicate(timeout=60)
        finally:
            if g.poll() is None:
                g.kill()
                g.wait()
            if g.stdin:
                g.stdin.close()     # the program, if left, reads end of input and exits
        self.err, self.rc = e, g.returncode

    def _read_prog(self, prog, until):
        while True:
            l = prog.stdout.readline()
            if not l:
                raise AssertionError("program ended before %r" % until)
            r = json.loads(l)
            self.prog_lines.append(r)
            if r["event"] == until:
                return r

    def _trace(self, prog, args):
        ready = self._read_prog(prog, "ready")
        g = subprocess.Popen([harness.GOTRACE, "states", "-p", str(ready["pid"]), "-o", self.out]
                             + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        err, deadline = [], time.time() + 30
        while time.time() < deadline:   # the snapshot read: then phase 2
            l = g.stderr.readline()
            err.append(l)
            if not l or "there at attach" in l or "cannot read the goroutines" in l:
                break
        try:
            prog.stdin.write("go\n")
            prog.stdin.flush()
            self._read_prog(prog, "done")
        finally:
            g.send_signal(signal.SIGINT)
            try:
                _, e = g.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                g.kill()
                _, e = g.communicate()
            prog.stdin.close()
        self.err, self.rc = "".join(err) + e, g.returncode

    def kinds(self):
        return {r["func"]: r for r in self.prog_lines if r["event"] == "kind"}

    def ev(self, name):
        return [r for r in self.prog_lines if r["event"] == name]

    def objs(self):
        with open(self.out) as f:
            return [json.loads(l) for l in f if l.startswith("{")]


def pctl(vals, p):
    """Nearest rank, as gotrace and go tool trace count it."""
    vals = sorted(vals)
    return vals[max(0, min(len(vals), math.ceil(p * len(vals))) - 1)]


def check_dist(name, got, truth, slack_ns, ps=(0.5, 0.9, 0.99)):
    """gotrace's p50/p90/p99 (upper bounds within 6.25%, of intervals that
    lie inside the program's) against the program's own values, allowing a
    rank of 2% either way (gotrace also counts the goroutine's first run)."""
    for p in ps:
        g = got["p%d_ns" % round(p * 100)]
        lo = pctl(truth, max(0.0, p - 0.02)) - slack_ns
        hi = pctl(truth, min(1.0, p + 0.02)) * 1.07 + 1000
        harness.check("%s/p%d" % (name, round(p * 100)), lo <= g <= hi,
                      "gotrace %d ns, program %d ns (allowed %d..%d)"
                      % (g, pctl(truth, p), lo, hi))


def check_counts(name, groups, kinds, launch=False):
    """Goroutines, alive at start, created per start function as the
    program made them (in launch mode all are created under the tracer)."""
    for f, k in sorted(kinds.items()):
        g = groups.get(f)
        if not harness.check("%s/%s/present" % (name, f), g is not None,
                             "no group %s in %s" % (f, sorted(x for x in groups if x))):
            continue
        before = k["phase"] == "before" and not launch
        want = (k["count"], k["count"] if before else 0, 0 if before else k["count"])
        have = (g["goroutines"], g["at_start"], g["created"])
        harness.check("%s/%s/counts" % (name, f), have == want,
                      "goroutines, at start, created: gotrace %s, program %s" % (have, want))
    exits = {"main.exiter": 6, "main.lateWorker": 9, "main.handoffSleeper": 1,
             "main.handoffWaker": 1}
    for f, n in exits.items():
        harness.check("%s/%s/exited" % (name, f), groups.get(f, {}).get("exited") == n,
                      "gotrace %s, program %d" % (groups.get(f, {}).get("exited"), n))


def check_whole_trace(name, groups, stats):
    """Blocked from before the attach to the end: no transition, waiting
    the whole trace, with the reason the runtime gives."""
    for f, reasons in WHOLE_TRACE.items():
        g = groups.get(f)
        if g is None:
            continue
        dur = stats.get("duration_ns", stats.get("dur_ns"))   # states, --aggregate
        want = g["goroutines"] * dur
        harness.check("%s/%s/whole-trace" % (name, f),
                      g["transitions"] == 0 and abs(g["ns"]["waiting"] - want) <= g["goroutines"] * 1e6
                      and [w["reason"] for w in g["waiting"]] in ([r] for r in reasons),
                      "transitions %d, waiting %d ns (trace %d ns), waits %s"
                      % (g["transitions"], g["ns"]["waiting"], dur, g["waiting"]))


def check_sleeps(name, groups, lat, r):
    """Each sleeper sleeps 20 x 5 ms and times each sleep itself: from
    before time.Sleep to after it ran again, which holds gotrace's wait
    (running -> waiting -> runnable) and the wait for a CPU after it."""
    measured = [ns for e in r.ev("sleeps") if e["who"] == "sleeper" for ns in e["measured_ns"]]
    every = [ns for e in r.ev("sleeps") for ns in e["measured_ns"]]  # and main's
    g = groups.get("main.sleeper")
    if not harness.check(name + "/sleeps/present", g is not None and len(measured) == 80,
                         "group %s, %d sleeps measured" % (g is not None, len(measured))):
        return
    sl = [w for w in g["waiting"] if w["reason"] == "sleep"]
    ns = sl[0]["ns"] if sl else 0
    total = sum(measured)
    harness.check(name + "/sleeps/count", bool(sl) and sl[0]["count"] == 80,
                  "gotrace %s, program 80" % (sl[0]["count"] if sl else None))
    harness.check(name + "/sleeps/total",
                  ns <= total and total - ns - g["ns"]["runnable"] <= 80 * 200000,
                  "gotrace sleep %d ns + runnable %d ns, program %d ns"
                  % (ns, g["ns"]["runnable"], total))
    d = [w for w in lat["waits"] if w["reason"] == "sleep"]
    if harness.check(name + "/sleeps/dist-present",
                     # the scavenger sleeps too (rarely while traced)
                     bool(d) and len(every) <= d[0]["dist"]["count"] <= len(every) + 2,
                     "sleep waits: %s, the program slept %d times"
                     % (d[0]["dist"] if d else None, len(every))):
        # a scavenger's sleep (seconds long) would be the p99 of 81
        extra = d[0]["dist"]["count"] > len(every)
        check_dist(name + "/sleeps/dist", d[0]["dist"], every, 300000,
                   (0.5, 0.9) if extra else (0.5, 0.9, 0.99))


def check_handoffs(name, groups, r):
    ho = r.ev("handoff")
    truth = [e["ran_ns"] - e["ready_ns"] for e in ho]
    g = groups.get("main.handoffSleeper")
    if not harness.check(name + "/sched/present",
                         g is not None and len(truth) == 200 and g["sched_latency"]["count"] >= 200,
                         "group %s, %d handoffs measured" % (g and g["sched_latency"], len(truth))):
        return
    d = g["sched_latency"]
    check_dist(name + "/sched", d, truth, 50000)
    # The program's clock reads are outside gotrace's interval: a thread
    # descheduled between them and the transition lengthens the program's
    # number only.  The sleeper's first and last runs are gotrace's alone.
    lo, hi = pctl(truth, 0.98) - 50000, max(truth) + 2000000
    harness.check(name + "/sched/max", lo <= d["max_ns"] <= hi,
                  "gotrace %d ns, program %d ns (allowed %d..%d)"
                  % (d["max_ns"], max(truth), lo, hi))


def check_waitsince(name, lat, r):
    """The goroutines parked before the attach: ongoing chan-receive waits
    that began before tracing; g.waitsince is the first GC's time
    (between started_ns and gc1_ns) and tracing began between ready_ns and
    go_ns, so how long before is bounded by the program's own clock."""
    ready, go = r.ev("ready")[0], r.ev("go")[0]
    lo, hi = ready["ready_ns"] - ready["gc1_ns"], go["go_ns"] - ready["started_ns"]
    d = [w for w in lat["waits"] if w["reason"] == "chan receive"]
    parked = [w for w in (d[0]["worst"] if d else []) if w.get("func") == "main.parkForever"]
    harness.check(name + "/waitsince",
                  parked and all(w["ongoing"] and lo <= w.get("before_ns", 0) <= hi for w in parked),
                  "parkForever waits %s, before_ns allowed %d..%d" % (parked, lo, hi))


def check_csv(name, path, kinds):
    with open(path) as f:
        rows = {row["key"]: row for row in csv.DictReader(f)}
    bad = [(fn, rows.get(fn, {}).get("goroutines"), k["count"]) for fn, k in kinds.items()
           if rows.get(fn, {}).get("goroutines") != str(k["count"])]
    harness.check(name + "/csv", not bad, "key, CSV goroutines, program count: %s" % bad)


def check_by_start(name, b, tmp, extra):
    """--group by start function (extra: more options) against the program."""
    r = Run(b, extra + ["--group", "--format", "jsonl", "--csv", os.path.join(tmp, "out.csv")],
            tmp)
    if not harness.check(name + "/exit", r.rc == 0, r.err[-1500:]):
        return
    objs = r.objs()
    groups = {o["key"]: o for o in objs if o["type"] == "group"}
    lat = [o for o in objs if o["type"] == "latency"]
    stats = [o for o in objs if o["type"] == "stats"]
    if not harness.check(name + "/objects", lat and stats, "latency %d, stats %d"
                         % (len(lat), len(stats))):
        return
    kinds = r.kinds()
    check_counts(name, groups, kinds)
    check_whole_trace(name, groups, stats[0])
    check_sleeps(name, groups, lat[0], r)
    check_handoffs(name, groups, r)
    check_waitsince(name, lat[0], r)
    check_csv(name, os.path.join(tmp, "out.csv"), kinds)


def test_groups_by_start():
    require()
    tmp = tempfile.mkdtemp(prefix="gt-groups-")
    try:
        bs = [b for b in builds() if b["variant"] == "default"]
        newest = max(bs, key=lambda b: vt(b["go"]))["go"]
        bs += [b for b in builds() if b["variant"] == "pie" and b["go"] == newest]
        for b in sorted(bs, key=lambda b: vt(b["go"])):
            check_by_start("%s/%s" % (b["go"], b["variant"]), b, tmp, [])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def aggregate_builds():
    """The newest default build, and 1.23's (late goids: held creations)."""
    bs = [b for b in builds() if b["variant"] == "default"]
    newest = max(bs, key=lambda b: vt(b["go"]))
    return [newest] + [b for b in bs if vt(b["go"]) == (1, 23)]


def test_groups_aggregate():
    """states --aggregate --group: the groups from the in-kernel
    aggregation hold the same numbers as the program's own: counts (the
    goroutines blocked the whole trace too, from the attach snapshot),
    the whole-trace waits, sleeps, the handoffs' scheduler latency, the
    CSV; and the label and creation-site groupings."""
    require()
    tmp = tempfile.mkdtemp(prefix="gt-groups-")
    lines = go_lines()
    try:
        for b in aggregate_builds():
            name = "aggregate/" + b["go"]
            check_by_start(name, b, tmp, ["--aggregate"])
            check_blocked_goroutines(name, b, tmp, ["--aggregate"])
            check_labels(name, b, tmp, ["--aggregate"])
            check_creation(name, b, tmp, lines, ["--aggregate"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_blocked_goroutines(name, b, tmp, extra):
    """Per goroutine (no --group): every goroutine the program parked
    before the attach for the whole trace is there, named, waiting with
    the runtime's reason, from the attach snapshot (it has no event)."""
    r = Run(b, extra + ["--format", "jsonl"], tmp)
    if not harness.check(name + "/blocked/exit", r.rc == 0, r.err[-1500:]):
        return
    gs = [o for o in r.objs() if o["type"] == "goroutine"]
    kinds = r.kinds()
    for f, reasons in sorted(WHOLE_TRACE.items()):
        mine = [g for g in gs if g.get("func") == f]
        ok = [g for g in mine if g["at_start"] and g["transitions"] == 0 and
              g.get("state_at_start") == "waiting" and g.get("reason_at_start") in reasons and
              list(g.get("waiting", {})) == [g.get("reason_at_start")]]
        harness.check("%s/blocked/%s" % (name, f), len(ok) == len(mine) == kinds[f]["count"],
                      "%d goroutines named %s, %d as the program left them, program %d: %s"
                      % (len(mine), f, len(ok), kinds[f]["count"], mine[:2]))


def test_groups_launch():
    """gotrace states --group -- PROG (both sources): every goroutine of
    every kind is created under the tracer, counted per start function as
    the program says it made them, and the exits."""
    require()
    tmp = tempfile.mkdtemp(prefix="gt-groups-")
    try:
        b = max((b for b in builds() if b["variant"] == "default"), key=lambda b: vt(b["go"]))
        for extra in ([], ["--aggregate"]):
            name = "launch" + "".join("/" + a.strip("-") for a in extra)
            r = Run(b, extra + ["--group", "--format", "jsonl", "--top", "0"], tmp, launch=True)
            if not harness.check(name + "/exit", r.rc == 0 and r.ev("done"), r.err[-1500:]):
                continue
            groups = {o["key"]: o for o in r.objs() if o["type"] == "group"}
            check_counts(name, groups, r.kinds(), launch=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def picked_builds():
    bs = [b for b in builds() if b["variant"] == "default"]
    newest = max(bs, key=lambda b: vt(b["go"]))["go"]
    want = {newest} | {b["go"] for b in bs if vt(b["go"]) in ((1, 19), (1, 23), (1, 24))}
    return [b for b in bs if b["go"] in want]


def check_labels(name, b, tmp, extra):
    r = Run(b, extra + ["--group-by", "label:tenant", "--format", "jsonl", "--top", "0"], tmp)
    if harness.check(name + "/label/exit", r.rc == 0, r.err[-1500:]):
        groups = {o["key"]: o["goroutines"] for o in r.objs() if o["type"] == "group"}
        total = sum(groups.values())
        want = dict(LABELS)
        want[None] = total - sum(LABELS.values())   # no tenant label
        harness.check(name + "/label/groups", groups == want,
                      "gotrace %s, program %s" % (groups, want))


def check_creation(name, b, tmp, lines, extra):
    r = Run(b, extra + ["--group-by", "creation", "--format", "jsonl", "--top", "0"], tmp)
    if not harness.check(name + "/creation/exit", r.rc == 0, r.err[-1500:]):
        return
    groups = {o["key"]: o for o in r.objs() if o["type"] == "group"}
    for f, k in sorted(r.kinds().items()):
        key = [x for x in groups if x and x.endswith("/main.go:%d" % lines[f])]
        n = groups[key[0]]["goroutines"] if len(key) == 1 else None
        harness.check("%s/creation/%s" % (name, f), n == k["count"],
                      "group main.go:%d: %s goroutines, program %d (groups %s)"
                      % (lines[f], n, k["count"], sorted(x for x in groups if x)))


def test_groups_by_label_and_creation():
    require()
    tmp = tempfile.mkdtemp(prefix="gt-groups-")
    lines = go_lines()
    try:
        for b in picked_builds():
            check_labels(b["go"], b, tmp, [])
            check_creation(b["go"], b, tmp, lines, [])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_groups_text():
    """The text form: the same counts, the latency view, --top."""
    require()
    tmp = tempfile.mkdtemp(prefix="gt-groups-")
    try:
        b = max((b for b in builds() if b["variant"] == "default"), key=lambda b: vt(b["go"]))
        trace = os.path.join(tmp, "t.json")
        r = Run(b, ["--group", "--top", "5", "--sort", "count", "--json", trace], tmp)
        with open(r.out) as f:
            text = f.read()
        harness.check("text/exit", r.rc == 0, r.err[-1500:])
        heads = re.findall(r"^(\S+): (\d+) goroutines? \((\d+) at start, (\d+) created",
                           text, re.M)
        counts = [int(h[1]) for h in heads]
        harness.check("text/top-5-by-count", len(heads) == 5 and counts == sorted(counts, reverse=True)
                      and heads[0][0] == "main.lateWorker" and counts[0] == 9,
                      "group lines %s" % heads)
        harness.check("text/more-line", re.search(r"^\(5 of \d+ groups; --top 0 for all\)$", text, re.M)
                      is not None, text[-500:])
        harness.check("text/latency", "SCHEDULER LATENCY (runnable -> running):" in text and
                      "TIME BLOCKED PER WAIT REASON" in text, text[-2000:])
        # The Chrome trace: a named track for every goroutine of every kind,
        # also those there before the attach that never changed state.
        with open(trace) as f:
            ev = json.load(f)
        ev = ev["traceEvents"] if isinstance(ev, dict) else ev
        tracks = {e["tid"]: e["args"]["name"] for e in ev
                  if e.get("ph") == "M" and e.get("name") == "thread_name"}
        busy = {e["tid"] for e in ev if e.get("ph") == "X"}
        for f, k in sorted(r.kinds().items()):
            n = sum(1 for t, name in tracks.items() if name.endswith(" " + f) and t in busy)
            harness.check("text/trace-tracks/" + f, n == k["count"],
                          "%d tracks with slices named %s, program started %d"
                          % (n, f, k["count"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_groups_bad_options():
    harness.need_root()
    cases = [
        (["--group-by", "tenant"], "--group-by"),
        (["--group-by", "label:"], "--group-by"),
        (["--group", "--sort", "goid"], "goid"),
        (["--sort", "count"], "--group"),
    ]
    for args, word in cases:
        p = harness.run([harness.GOTRACE, "states"] + args + ["-p", "1"], check_rc=False)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        harness.check("bad/%s" % " ".join(args), p.returncode == 2 and lines and
                      word in lines[0] and not p.stdout,
                      "exit %d, stderr %r" % (p.returncode, p.stderr[-500:]))


def test_groups_in_default_summary():
    """Past 100 goroutines the text summary ends with the largest groups:
    testprogs/parked -n 300 parks 300 goroutines with `go chanRecv(never)`
    before the attach (Go 1.22+ names the gowrap wrapper's target)."""
    require()
    bs = [b for b in harness.testprog_builds() if b["prog"] == "parked" and
          b["variant"] == "default" and b.get("goarch") == harness.HOSTARCH]
    if not bs:
        raise harness.Skip("no testprogs/parked builds in the manifest")
    b = max(bs, key=lambda b: vt(b["go"]))
    tmp = tempfile.mkdtemp(prefix="gt-groups-")
    prog = subprocess.Popen([b["path"], "-out", os.path.join(tmp, "dump"), "-n", "300"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(prog.stdout.readline())
        p = harness.run([harness.GOTRACE, "states", "-q", "-d", "1s", "--top", "3",
                         "-p", str(ready["pid"])], check_rc=False, timeout=60)
        m = re.search(r"^GROUPS by start function: \d+ groups of (\d+) goroutines, sorted by count\n"
                      r"\n(\S+): (\d+) goroutines \((\d+) at start, 0 created", p.stdout, re.M)
        harness.check("default-summary/groups", p.returncode == 0 and m is not None and
                      m.group(2) == "main.chanRecv" and m.group(3) == m.group(4) == "300",
                      "exit %d, stdout %s" % (p.returncode, p.stdout[-1500:]))
        harness.check("default-summary/table-cut", "(3 of " in p.stdout, p.stdout[:800])
    finally:
        prog.kill()
        prog.wait()
        shutil.rmtree(tmp, ignore_errors=True)
