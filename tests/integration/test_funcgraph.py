"""Integration tests of `gotrace funcgraph` on testprogs/funcgraph.

The test program counts, per goroutine, its own calls of every traced
function ('main.*fg*') and its deepest nesting, and prints them (fgcount /
fgnest lines).  That is the truth: the tracer's jsonl must have exactly the
same calls per (goroutine, function), the same maximum depth + 1, and no
call still open once the program has finished.  The program's own output
(goroutine ids and pid aside) and exit status must be the same as when it
runs untraced.

Builds: every toolchain / variant (default, pie, stripped) of the program in
build/testprogs/manifest.json (scripts/build-testprogs.sh); without a
manifest entry the test builds the newest Go and Debian's Go 1.19 itself.

Environment: GOTRACE_SOAK_SECONDS (default 20) for test_soak.
"""
import collections
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import harness
from harness import check

# Tolerance between the program's clock_gettime(CLOCK_MONOTONIC) and the
# BPF side's bpf_ktime_get_ns(): the same clock read two ways (overhead is
# already inside the program's windows).
CLOCK_SLACK_NS = 20000
DEADLINES = {"test_launch": 1500}

PROG = "funcgraph"
PATTERN = "main.*fg*"
SRC = os.path.join(harness.ROOT, "testprogs", PROG)
OWN_BUILDS = os.path.join(harness.BUILD, "testprogs-funcgraph")


def own_builds():
    """Build newest Go and Go 1.19 x default/pie/stripped ourselves."""
    out = []
    gos = [("/usr/local/go/bin/go", None), ("/usr/lib/go-1.19/bin/go", None)]
    for goexe, _ in gos:
        if not os.access(goexe, os.X_OK):
            continue
        env = dict(os.environ, GOENV="off", GOFLAGS="", GOTOOLCHAIN="local", GOWORK="off",
                   CGO_ENABLED="0", GOPROXY="off")
        gv = subprocess.run([goexe, "env", "GOVERSION"], env=env, stdout=subprocess.PIPE,
                            text=True).stdout.strip()
        for variant, flags in (("default", []), ("pie", ["-buildmode=pie"]),
                               ("stripped", ["-ldflags=-s -w"])):
            path = os.path.join(OWN_BUILDS, gv, variant, PROG)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            p = subprocess.run([goexe, "build", "-buildvcs=false"] + flags + ["-o", path, "."],
                               cwd=SRC, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if p.returncode == 0:
                out.append({"go": gv, "variant": variant, "goarch": harness.HOSTARCH, "prog": PROG,
                            "path": path})
            else:
                harness.log("cannot build %s %s: %s" % (gv, variant, p.stdout[-500:]))
    return out


def builds():
    try:
        m = [b for b in harness.testprog_builds()
             if b["prog"] == PROG and b["goarch"] == harness.HOSTARCH and not b.get("cgo")
             and b["variant"] in ("default", "pie", "stripped") and harness.go_minor(b["go"]) >= 17]
    except harness.Skip:
        m = []
    if not m:
        m = own_builds()
    if not m:
        raise AssertionError("no build of testprogs/%s" % PROG)
    return m


def newest(bs, variant="default"):
    c = [b for b in bs if b["variant"] == variant]
    return max(c, key=lambda b: harness.go_minor(b["go"]))


def norm_func(name):
    # Generic instantiations: the runtime reports "F[...]", the pclntab
    # "F[go.shape.int]"; several shapes of one function count together.
    return re.sub(r"\[.*\]", "[...]", name)


def truth(stdout):
    counts, nest, goexit = collections.Counter(), {}, set()
    for line in stdout.splitlines():
        f = line.split()
        if f and f[0] == "fgcount":
            counts[(int(f[1]), f[2])] += int(f[3])
        elif f and f[0] == "fgnest":
            nest[int(f[1])] = int(f[2])
        elif f and f[0] == "fggoexit":
            goexit.add(int(f[1]))
    return counts, nest, goexit


def marked(stdout, what):
    """Goroutines the program labelled (fgbusy, fgheld lines)."""
    return {int(l.split()[1]) for l in stdout.splitlines() if l.startswith(what + " ")}


def calls_of(path):
    with open(path) as fh:
        return [o for o in map(json.loads, fh) if o.get("type") == "call"]


def traced(path, busy=(), only=None):
    """Counts per (goroutine, function), depth + 1 per goroutine and ends
    of the calls in a jsonl file; for a goroutine in busy only the calls
    from its main.fgMark call on; with only, only those goroutines."""
    calls = calls_of(path)
    mark = {c["goid"]: c["start_ns"] for c in calls if c["func"] == "main.fgMark"}
    counts, nest, ends = collections.Counter(), collections.defaultdict(int), collections.Counter()
    for o in calls:
        g = o["goid"]
        if (only is not None and g not in only) or (g in busy and o["start_ns"] < mark.get(g, 1 << 62)):
            continue
        counts[(g, norm_func(o["func"]))] += 1
        nest[g] = max(nest[g], o["depth"] + 1)
        ends[o["end"]] += 1
    return counts, nest, ends


def compare(name, stdout, jsonl, only_reported=False):
    """Sub-checks: exact counts, exact nesting, nothing open.  Goroutines
    the program labelled fgbusy count from their fgMark call on; with
    only_reported, goroutines the program did not report are left out."""
    want, wnest, goexit = truth(stdout)
    only = set(wnest) if only_reported else None
    got, gnest, ends = traced(jsonl, marked(stdout, "fgbusy"), only)
    diffs = ["%s g%d: program says %d calls, trace has %d" % (k[1], k[0], want[k], got[k])
             for k in sorted(set(want) | set(got)) if want[k] != got[k]]
    check(name + ":counts", bool(want) and not diffs,
          "%d (goroutine, function) pairs; %s" % (len(want), "; ".join(diffs[:8])))
    nd = ["g%d: program %d, trace %d" % (g, wnest[g], gnest.get(g, 0))
          for g in sorted(wnest) if wnest[g] != gnest.get(g, 0)]
    check(name + ":max-depth", bool(wnest) and not nd, "; ".join(nd[:8]))
    check(name + ":none-open", ends["open"] == 0 and ends["ret"] > 0,
          "ends: %s" % dict(ends))
    check(name + ":unwound", ends["unwound"] > 0 and bool(goexit),
          "panics and Goexit must show as unwound calls: %s" % dict(ends))
    return not diffs and not nd


def check_times(name, stdout, jsonl, chrome=None):
    """main.fgSleep's calls against the program's clock (fgtime lines):
    each lasts at least what the program measured inside it and at most
    what its caller measured around it; placed on the monotonic clock (the
    Chrome trace's time_origin_ns, the origin of the jsonl's start_ns
    too), each starts in [OUT0, IN0] and ends in [IN1, OUT1]."""
    want = collections.defaultdict(list)
    for line in stdout.splitlines():
        f = line.split()
        if f and f[0] == "fgtime":
            want[int(f[1])].append([int(x) for x in f[2:6]])
    origin, slices = None, collections.defaultdict(list)
    if chrome:
        try:
            with open(chrome) as fh:
                doc = json.load(fh)
            origin = int(doc["otherData"]["time_origin_ns"])
            for e in doc["traceEvents"]:
                if e.get("ph") == "X" and e.get("name") == "main.fgSleep":
                    slices[e["args"]["goid"]].append((int(round(float(e["ts"]) * 1000)),
                                                      int(round(float(e["dur"]) * 1000))))
        except (OSError, ValueError, KeyError) as e:
            check(name + ":times-chrome", False, "cannot read %s: %s" % (chrome, e))
            chrome = None
    calls = collections.defaultdict(list)
    for c in calls_of(jsonl):
        if c["func"] == "main.fgSleep":
            calls[c["goid"]].append((c["start_ns"], c["dur_ns"]))
    bad, badc, n, margin = [], [], 0, 1 << 62
    for g, ws in sorted(want.items()):
        got = sorted(calls.get(g, []))
        if len(got) != len(ws):
            bad.append("g%d: %d fgSleep calls traced, the program timed %d" % (g, len(got), len(ws)))
            continue
        for (start, dur), (in0, in1, out0, out1) in zip(got, ws):
            n += 1
            if not in1 - in0 - CLOCK_SLACK_NS <= dur <= out1 - out0 + CLOCK_SLACK_NS:
                bad.append("g%d: %d ns, the program measured %d inside, %d around"
                           % (g, dur, in1 - in0, out1 - out0))
            if origin is not None:
                s, e = origin + start, origin + start + dur
                margin = min(margin, s - out0, in0 - s, e - in1, out1 - e)
                if not (out0 - CLOCK_SLACK_NS <= s <= in0 + CLOCK_SLACK_NS
                        and in1 - CLOCK_SLACK_NS <= e <= out1 + CLOCK_SLACK_NS):
                    bad.append("g%d: jsonl call at [%d, %d], the program's [%d..%d, %d..%d]"
                               % (g, s, e, out0, in0, in1, out1))
        if origin is not None:
            sl = sorted(slices.get(g, []))
            for (ts, dur), (in0, in1, out0, out1) in zip(sl, ws):
                s, e = origin + ts, origin + ts + dur
                if not (out0 - CLOCK_SLACK_NS <= s <= in0 + CLOCK_SLACK_NS
                        and in1 - CLOCK_SLACK_NS <= e <= out1 + CLOCK_SLACK_NS):
                    badc.append("g%d: slice [%d, %d], the program's [%d..%d, %d..%d]"
                                % (g, s, e, out0, in0, in1, out1))
            if len(sl) != len(ws):
                badc.append("g%d: %d fgSleep slices, the program timed %d" % (g, len(sl), len(ws)))
    check(name + ":times", n > 0 and not bad, "%d timed calls; %s (smallest margin %s ns)"
          % (n, "; ".join(bad[:3]) or "ok", margin if origin is not None else "-"))
    if chrome:
        check(name + ":times-chrome", n > 0 and not badc, "; ".join(badc[:3]))


def program_view(stdout):
    """The program's output with goroutine ids, its pid and its times taken out."""
    out = []
    for line in stdout.splitlines():
        f = line.split()
        if f and f[0] in ("fgcount", "fgnest", "fggoexit"):
            out.append(" ".join([f[0]] + f[2:]))
        elif f and f[0] == "fgtime":
            out.append("fgtime")  # times differ from run to run
        elif line.startswith("funcgraph: pid "):
            out.append("funcgraph: pid")
        else:
            out.append(line)
    return sorted(out)


def stat(stderr, what):
    m = re.search(r"(\d+) %s" % what, stderr)
    return int(m.group(1)) if m else -1


_untraced = {}


def run_untraced(path):
    if path not in _untraced:
        p = subprocess.run([path, "-exit", "3"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=120)
        _untraced[path] = p
    return _untraced[path]


# The Go assembler's stack-bound check and frame setup, as objdump prints a
# function's first instruction: where probes/sites.h moves the entry probe
# to an emulated instruction (docs/probes.md), or where it already is one.
EMULATED_ENTRY = re.compile(r"\t(cmp +0x1[08]\(%r14\),%(rsp|r12)|lea +-0x[0-9a-f]+\(%rsp\),%r12|"
                            r"mov +%rsp,%r12|push +%rbp)$")


def entries_expected_emulated(path):
    """How many functions matching PATTERN start (by objdump, an independent
    decoder) with a stack check or push %rbp: their entry probes must be
    emulated.  None where the binary has no symbols."""
    nm = subprocess.run(["nm", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                        text=True).stdout
    addrs = {}
    for line in nm.splitlines():
        f = line.split(None, 2)
        if len(f) == 3 and f[1] in "tT" and fnmatch.fnmatchcase(f[2], PATTERN):
            addrs[int(f[0], 16)] = f[2]
    if not addrs:
        return None
    od = subprocess.run(["objdump", "-d", "--no-show-raw-insn",
                         "--start-address=0x%x" % min(addrs),
                         "--stop-address=0x%x" % (max(addrs) + 64), path],
                        stdout=subprocess.PIPE, text=True).stdout
    n = 0
    for a in addrs:
        m = re.search(r"^ *%x:(\t[^\n]*)" % a, od, re.M)
        if m and EMULATED_ENTRY.search(m.group(1).rstrip()):
            n += 1
    return n


def test_launch():
    """Launch mode on every build: exact counts and depth, output and status unchanged."""
    harness.need_root()
    tmp = tempfile.mkdtemp(prefix="gotrace-fg-")
    dups = 0
    try:
        for b in builds():
            name = "%s/%s" % (b["go"], b["variant"])
            out = os.path.join(tmp, name.replace("/", "_") + ".jsonl")
            chrome = out + ".json"
            dump = out + ".events"
            p = subprocess.run([harness.GOTRACE, "funcgraph", "--format=jsonl", "-o", out,
                                "--json", chrome, PATTERN, "--", b["path"], "-exit", "3"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=300, env=dict(os.environ, GOTRACE_FG_DUMP=dump))
            if not check(name + ":runs", p.returncode == 3 and os.path.exists(out),
                         "exit %d (want the program's 3)\n%s" % (p.returncode, p.stderr[-1500:])):
                continue
            ref = run_untraced(b["path"])
            check(name + ":output-unchanged",
                  program_view(p.stdout) == program_view(ref.stdout) and ref.returncode == 3,
                  "traced and untraced stdout differ (goids aside)")
            check(name + ":stderr-passes", "funcgraph: stderr passes through" in p.stderr,
                  p.stderr[-500:])
            ok = compare(name, p.stdout, out)
            check_times(name, p.stdout, out, chrome)
            if not ok:
                keep = os.path.join(harness.BUILD, "funcgraph-fail-" + name.replace("/", "_"))
                shutil.copy(out, keep + ".jsonl")
                if os.path.exists(dump):
                    shutil.copy(dump, keep + ".events")
                with open(keep + ".stdout", "w") as fh:
                    fh.write(p.stdout)
                harness.log("kept %s.{jsonl,stdout,events}" % keep)
            check(name + ":no-drops", "events dropped" not in p.stderr and
                  "could not read" not in p.stderr, p.stderr[-800:])
            dups += max(stat(p.stderr, "duplicate entries dropped"), 0)
            # the attach line counts probes by class; every function that
            # starts with a stack check (or push %rbp) has an emulated entry
            m = re.search(r"attached (\d+) probes \((\d+) emulated, (\d+) single-stepped\)",
                          p.stderr)
            want = entries_expected_emulated(b["path"])
            check(name + ":probe-classes", m is not None and
                  int(m.group(2)) + int(m.group(3)) == int(m.group(1)) and
                  (want is None or int(m.group(2)) >= want > 0),
                  "attach line %r, objdump: %s entries to emulate" % (m and m.group(0), want))
        # The program grows its stacks in fgGrow's prologue: the entry probe
        # fires twice; make sure the suite exercised that path.
        check("morestack-duplicates-seen", dups > 0, "no duplicate entry was dropped in any run")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_attach_mode_single():
    """One perf-event uprobe per probe (the fallback) gives the same result."""
    harness.need_root()
    b = newest(builds())
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "single.jsonl")
        p = subprocess.run([harness.GOTRACE, "funcgraph", "--attach=single", "--format=jsonl",
                            "-o", out, PATTERN, "--", b["path"]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        if check("single:runs", p.returncode == 0, p.stderr[-1500:]):
            check("single:mode", "perf-event uprobes" in p.stderr, p.stderr[-500:])
            compare("single", p.stdout, out)


def run_pid(b, tmp, extra=(), prog_args=(), pattern=PATTERN):
    """funcgraph -p PID on b started with -wait (and prog_args): attach,
    read the BPF objects gotrace holds, let the program go.  Returns
    (gotrace exit, program exit, program stdout, gotrace stderr, jsonl, held)."""
    out = os.path.join(tmp, "pid.jsonl")
    prog = subprocess.Popen([b["path"], "-wait"] + list(prog_args), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    while True:
        line = harness.readline(prog.stdout, 60)
        if not line:
            break
        lines.append(line)
        if line.startswith("funcgraph: ready"):
            break
    errpath = os.path.join(tmp, "err")
    with open(errpath, "w+") as errlog:
        tracer = subprocess.Popen([harness.GOTRACE, "funcgraph", "--format=jsonl", "-o", out,
                                   "-p", str(prog.pid)] + list(extra) + [pattern],
                                  stdout=subprocess.DEVNULL, stderr=errlog, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            errlog.seek(0)
            if "tracing pid" in errlog.read() or tracer.poll() is not None:
                break
            time.sleep(0.05)
        held = harness.bpf_held(tracer.pid)
        prog.stdin.write("go\n")
        prog.stdin.flush()
        try:
            rest, _ = prog.communicate(timeout=120)
            rc = tracer.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rest, rc = "", None
        lines.append(rest)
        errlog.seek(0)
        err = errlog.read()
    return rc, prog.returncode, "".join(lines), err, out, held


def test_pid_mode():
    """-p PID: attach to a waiting program, then let it run."""
    harness.need_root()
    for b in [newest(builds())] + [x for x in builds()
                                   if x["variant"] == "default" and harness.go_minor(x["go"]) == 19][:1]:
        name = "pid/%s" % b["go"]
        with tempfile.TemporaryDirectory() as tmp:
            rc, prc, stdout, err, out, held = run_pid(b, tmp)
            if check(name + ":runs", rc == 0 and prc == 0 and os.path.exists(out),
                     "gotrace exit %s, program exit %s\n%s" % (rc, prc, err[-1500:])):
                compare(name, stdout, out)
                check_times(name, stdout, out)
            harness.check_bpf_released(name, held)


def test_pid_busy():
    """-p PID on a program that is busy while gotrace attaches (-busy): two
    goroutines looping through the traced workload, one blocked inside two
    traced calls.  After the attach, exact: the new goroutines' calls, the
    busy goroutines' calls from their fgMark call on, the blocked
    goroutine's calls after its release (at depth 0: the calls around them
    were entered before the attach).  Before: the two calls entered before
    the attach end as unmatched returns, the busy goroutines' calls before
    the mark are whole (returned or unwound, durations within the trace),
    and none is left open."""
    harness.need_root()
    for b in [newest(builds())] + [x for x in builds()
                                   if x["variant"] == "default" and harness.go_minor(x["go"]) == 19][:1]:
        name = "pid-busy/%s" % b["go"]
        with tempfile.TemporaryDirectory() as tmp:
            rc, prc, stdout, err, out, held = run_pid(b, tmp, prog_args=["-busy", "-depth", "100"])
            if not check(name + ":runs", rc == 0 and prc == 0 and os.path.exists(out),
                         "gotrace exit %s, program exit %s\n%s" % (rc, prc, err[-1500:])):
                continue
            harness.check_bpf_released(name, held)
            busy, heldg = marked(stdout, "fgbusy"), marked(stdout, "fgheld")
            check(name + ":program-busy", len(busy) == 2 and len(heldg) == 1, stdout[-500:])
            compare(name, stdout, out)
            check_times(name, stdout, out)
            check(name + ":unmatched-returns", stat(err, "unmatched returns") >= 2,
                  "the held goroutine returned from 2 calls entered before the attach: %s" % err[-400:])
            calls = calls_of(out)
            mark = {c["goid"]: c["start_ns"] for c in calls if c["func"] == "main.fgMark"}
            end = max(c["start_ns"] + c["dur_ns"] for c in calls) if calls else 0
            pre = [c for c in calls if c["goid"] in busy and c["start_ns"] < mark.get(c["goid"], 0)]
            bad = [c for c in pre if c["end"] not in ("ret", "unwound") or c["dur_ns"] < 0
                   or c["start_ns"] + c["dur_ns"] > end]
            check(name + ":before-mark-whole", bool(pre) and not bad,
                  "%d calls before the mark; bad: %s" % (len(pre), bad[:3]))
            unw = collections.Counter(c["func"] for c in pre if c["end"] == "unwound")
            harness.log("%s: before the mark %d calls, unwound %s" % (name, len(pre), dict(unw)))


def test_pid_single_stack():
    """--attach=single (one perf-event uprobe per probe) with -p and
    --stack together: exact calls, and each call's stack starts at the
    function itself and goes down to runtime.goexit through main.workload."""
    harness.need_root()
    pattern = "main.fgClosures*"
    for b in [newest(builds())] + [x for x in builds()
                                   if x["variant"] == "default" and harness.go_minor(x["go"]) == 19][:1]:
        name = "pid-single-stack/%s" % b["go"]
        with tempfile.TemporaryDirectory() as tmp:
            rc, prc, stdout, err, out, held = run_pid(b, tmp, extra=["--attach=single", "--stack"],
                                                      pattern=pattern)
            if not check(name + ":runs", rc == 0 and prc == 0 and os.path.exists(out)
                         and "perf-event uprobes" in err,
                         "gotrace exit %s, program exit %s\n%s" % (rc, prc, err[-1500:])):
                continue
            harness.check_bpf_released(name, held, need_links=False)
            want, _, _ = truth(stdout)
            want = collections.Counter({k: v for k, v in want.items()
                                        if fnmatch.fnmatchcase(k[1], pattern)})
            calls = calls_of(out)
            got = collections.Counter((c["goid"], norm_func(c["func"])) for c in calls)
            check(name + ":counts", bool(want) and got == want,
                  "program %d calls, trace %d" % (sum(want.values()), sum(got.values())))
            bad = [(c["func"], [f["func"] for f in c.get("stack", [])][:6], c.get("stack_stop"))
                   for c in calls
                   if not c.get("stack") or c["stack"][0]["func"] != c["func"]
                   or c["stack"][-1]["func"] != "runtime.goexit"
                   or "main.workload" not in [f["func"] for f in c["stack"]] or "stack_stop" in c]
            check(name + ":stacks", bool(calls) and not bad, "%d calls; bad: %s" % (len(calls), bad[:2]))


def test_text_and_folded():
    """Default output: per-goroutine indented graph, unwound marks, summary; folded stacks."""
    harness.need_root()
    b = newest(builds())
    with tempfile.TemporaryDirectory() as tmp:
        out, folded = os.path.join(tmp, "graph.txt"), os.path.join(tmp, "fg.folded")
        p = subprocess.run([harness.GOTRACE, "funcgraph", "-q", "-o", out, "--folded", folded,
                            PATTERN, "--", b["path"]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        if not check("text:runs", p.returncode == 0 and os.path.exists(out), p.stderr[-1500:]):
            return
        want, _, _ = truth(p.stdout)
        text = open(out).read()
        gor = set(int(g) for g in re.findall(r"^goroutine (\d+):$", text, re.M))
        check("text:goroutines", gor == set(g for g, _ in want),
              "blocks for %s, program reports %s" % (sorted(gor), sorted(set(g for g, _ in want))))
        # indentation: fgLeaf called from fgRec at depth d is indented 2*d more
        # (the function column starts at 44: three 12-wide columns)
        ind = [len(m.group(1)) - 44 for m in re.finditer(r"^(.*)main\.fgLeaf$", text, re.M)]
        check("text:indented", ind and max(ind) >= 2 * 1000,
              "fgLeaf at the bottom of a 1000-deep fgRec chain should be indented 2000+: %s"
              % sorted(set(ind))[-5:])
        check("text:unwound-marked", re.search(r"main\.fgPanicky  \[unwound\]$", text, re.M)
              is not None, "no [unwound] fgPanicky")
        # summary: calls per function equal the program's totals
        tot = collections.Counter()
        for (g, fn), n in want.items():
            tot[fn] += n
        summ = {}
        for line in text.splitlines():
            f = line.split()
            if len(f) >= 12 and f[0].isdigit() and f[-1].startswith("main."):
                summ[norm_func(f[-1])] = summ.get(norm_func(f[-1]), 0) + int(f[0])
        check("text:summary", summ == dict(tot), "summary %s\nprogram %s" % (summ, dict(tot)))
        # folded: self time per stack; every stack starts with the goroutine
        rows = [l.rsplit(" ", 1) for l in open(folded).read().splitlines()]
        okrows = all(r[0].startswith("G") and r[1].isdigit() for r in rows)
        leaf = [r for r in rows if r[0].endswith(";main.fgRec;main.fgLeaf")]
        check("folded", rows and okrows and leaf, "%d rows, %d fgRec;fgLeaf" % (len(rows), len(leaf)))


def test_chrome_json():
    """--json: a Chrome trace whose call slices are exactly the program's calls."""
    harness.need_root()
    b = newest(builds())
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.json")
        p = subprocess.run([harness.GOTRACE, "funcgraph", "-q", "--no-summary", "-o", "/dev/null",
                            "--json", path, PATTERN, "--", b["path"]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        if not check("json:runs", p.returncode == 0 and os.path.exists(path), p.stderr[-1000:]):
            return
        want, _, _ = truth(p.stdout)
        doc = json.load(open(path))
        got = collections.Counter()
        for e in doc["traceEvents"]:
            if e.get("ph") == "X" and e.get("cat") == "call":
                fn = norm_func(e["name"].replace(" [unwound]", ""))
                got[(e["args"]["goid"], fn)] += 1
        check("json:calls", got == want, "%d slices, %d calls in the program" % (
            sum(got.values()), sum(want.values())))
        check("json:closed", doc.get("displayTimeUnit") == "ns", "document not closed")
        try:
            import trace_validate
        except ImportError:
            trace_validate = None
        if trace_validate:
            problems = trace_validate.validate(path)
            check("json:valid", not problems, "; ".join(problems[:5]))


def test_goroutines_prog():
    """'main.*' on testprogs/goroutines: every call closed, unwound calls exactly
    the frames its panics and Goexits skip (3 each: panicker1-3 under a
    recovering catcher; exiter1, exiter2 and the goroutine's closure)."""
    harness.need_root()
    try:
        bs = [b for b in harness.testprog_builds()
              if b["prog"] == "goroutines" and b["goarch"] == harness.HOSTARCH and b["variant"] == "default"
              and not b.get("cgo") and harness.go_minor(b["go"]) >= 17]
    except harness.Skip as e:
        raise harness.Skip(str(e))
    if not bs:
        raise harness.Skip("no build of testprogs/goroutines")
    bs.sort(key=lambda b: harness.go_minor(b["go"]))
    for b in [bs[0], bs[-1]]:
        name = "goroutines/%s" % b["go"]
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "g.jsonl")
            p = subprocess.run([harness.GOTRACE, "funcgraph", "-q", "--format=jsonl", "-o", out,
                                "main.*", "--", b["path"]],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=300)
            m = re.search(r"recovered=(\d+) goexits=(\d+)", p.stdout)
            if not check(name + ":runs", p.returncode == 0 and m is not None and
                         os.path.exists(out), p.stderr[-1000:]):
                continue
            _, _, ends = traced(out)
            want = 3 * int(m.group(1)) + 3 * int(m.group(2))
            check(name + ":ends", ends["open"] == 0 and ends["unwound"] == want,
                  "ends %s, want %d unwound" % (dict(ends), want))


def test_filters():
    """--goid, --depth and --min-duration filter the jsonl: only what was
    asked for, and all of it that the program knows of."""
    harness.need_root()
    b = newest(builds())
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "f.jsonl")
        p = subprocess.run([harness.GOTRACE, "funcgraph", "-q", "--format=jsonl", "--goid", "1",
                            "--depth", "3", "--no-summary", "-o", out, PATTERN, "--", b["path"]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        if check("filters:runs", p.returncode == 0, p.stderr[-1000:]):
            objs = calls_of(out)
            # G1 (main) calls fgSleep twice at depth 0 (program's fgtime lines)
            n1 = len([l for l in p.stdout.splitlines() if l.startswith("fgtime 1 ")])
            sleeps = [o for o in objs if o["func"] == "main.fgSleep"]
            check("filters:goid-depth", objs and all(o["goid"] == 1 and o["depth"] < 3 for o in objs)
                  and len(sleeps) == n1 == 2,
                  "%d objects, %d fgSleep (the program timed %d)" % (len(objs), len(sleeps), n1))
        p = subprocess.run([harness.GOTRACE, "funcgraph", "-q", "--format=jsonl",
                            "--min-duration", "1ms", "--no-summary", "-o", out, PATTERN, "--",
                            b["path"]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        if check("filters:min-duration-runs", p.returncode == 0, p.stderr[-1000:]):
            objs = calls_of(out)
            # every fgSleep call sleeps 5 ms: all of them pass
            n = len([l for l in p.stdout.splitlines() if l.startswith("fgtime ")])
            sleeps = [o for o in objs if o["func"] == "main.fgSleep"]
            check("filters:min-duration", all(o["dur_ns"] >= 1000000 for o in objs)
                  and len(sleeps) == n > 0,
                  "%d objects, %d fgSleep (the program timed %d)" % (len(objs), len(sleeps), n))


def test_launch_signals():
    """Launch mode: SIGINT / SIGTERM to gotrace reach the program and
    tracing goes on until it exits.  A program that handles them (-sigwork)
    runs one more counted round after the signal: those calls are in the
    trace, exactly, and gotrace exits with its status (7); one that does
    not dies of the signal: gotrace exits 128 + the signal."""
    harness.need_root()
    b = newest(builds())
    for sig, handled in ((signal.SIGINT, True), (signal.SIGTERM, True), (signal.SIGTERM, False)):
        name = "launch-signal/%s/%s" % (sig.name, "handled" if handled else "default")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "s.jsonl")
            args = ["-loop", "-depth", "60"] + (["-sigwork"] if handled else [])
            tracer = subprocess.Popen([harness.GOTRACE, "funcgraph", "--format=jsonl", "-o", out,
                                       PATTERN, "--", b["path"]] + args,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            held = harness.wait_bpf_held(tracer.pid)
            time.sleep(0.5)  # the program is looping by then
            tracer.send_signal(sig)
            try:
                pout, perr = tracer.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                tracer.kill()
                pout, perr = tracer.communicate()
            want = 7 if handled else 128 + sig
            check(name + ":exit-status", tracer.returncode == want,
                  "exit %s, want %d\n%s" % (tracer.returncode, want, perr[-800:]))
            harness.check_bpf_released(name, held)
            if handled:
                check(name + ":program-saw-it", ("funcgraph: signal %s" % {
                    signal.SIGINT: "interrupt", signal.SIGTERM: "terminated"}[sig]) in pout,
                      pout[-300:])
                if os.path.exists(out):
                    compare(name, pout, out, only_reported=True)
                    check_times(name, pout, out)
                else:
                    check(name + ":trace", False, "no %s" % out)


def test_launch_duration():
    """Launch mode with -d: tracing stops after D (the probes are released
    while the program runs on), the program runs to its end untraced,
    gotrace exits with its status, and no traced call began after D."""
    harness.need_root()
    b = newest(builds())
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "d.jsonl")
        t0 = time.monotonic()
        tracer = subprocess.Popen([harness.GOTRACE, "funcgraph", "--format=jsonl", "-o", out,
                                   "-d", "300ms", PATTERN, "--", b["path"], "-loop", "-for", "2500ms",
                                   "-depth", "60", "-exit", "4"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        held = harness.wait_bpf_held(tracer.pid)
        time.sleep(max(0, 1.3 - (time.monotonic() - t0)))
        check("launch-duration:program-runs-on", tracer.poll() is None,
              "gotrace (and the program) ended within 1.3 s; the program loops 2.5 s")
        harness.check_bpf_released("launch-duration:untraced-tail", held)
        try:
            pout, perr = tracer.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            tracer.kill()
            pout, perr = tracer.communicate()
        check("launch-duration:exit-status", tracer.returncode == 4 and "funcgraph: done" in pout,
              "exit %s (want the program's 4)\n%s" % (tracer.returncode, perr[-800:]))
        # Detaching takes a grace period or so after D: allow 200 ms for it
        # (the program traced on to 2.5 s would leave calls to ~2.5 s).
        calls = calls_of(out) if os.path.exists(out) else []
        late = [c for c in calls if c["start_ns"] > 500000000]
        check("launch-duration:stopped", bool(calls) and not late,
              "%d calls, %d began after 300 ms + 200 ms: %s" % (len(calls), len(late), late[:2]))


def test_bad_input():
    """Bad input: one clear error line, non-zero exit, no crash."""
    harness.need_root()
    b = newest(builds())

    def run(args):
        return subprocess.run([harness.GOTRACE, "funcgraph"] + args, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=120)

    p = run(["main.fgRecc", "--", b["path"]])
    check("bad:no-match", p.returncode == 1 and "matches no function" in p.stderr
          and "main.fgRec" in p.stderr, p.stderr[-800:])
    p = run(["main.*", "--", "/bin/true"])
    check("bad:not-go", p.returncode == 1 and "gotrace: funcgraph:" in p.stderr
          and "/bin/true" in p.stderr, p.stderr[-800:])
    with tempfile.TemporaryDirectory() as tmp:
        ne = os.path.join(tmp, "prog")
        shutil.copy(b["path"], ne)
        os.chmod(ne, 0o644)
        p = run([PATTERN, "--", ne])
        check("bad:not-executable", p.returncode == 1 and "not executable" in p.stderr,
              p.stderr[-800:])
        p = run([PATTERN, "--", os.path.join(tmp, "missing")])
        check("bad:missing", p.returncode == 1 and p.stderr.count("\n") <= 2, p.stderr[-800:])
    p = run(["-p", "999999999", PATTERN])
    check("bad:pid", p.returncode != 0 and "gotrace:" in p.stderr, p.stderr[-800:])
    p = run(["--max-probes", "5", PATTERN, "--", b["path"]])
    check("bad:max-probes", p.returncode == 1 and "--yes" in p.stderr and "probes" in p.stderr,
          p.stderr[-800:])
    try:
        old = [x for x in harness.testprog_builds()
               if x["variant"] == "default" and x["goarch"] == harness.HOSTARCH
               and 0 < harness.go_minor(x["go"]) < 17 and not x.get("cgo")]
    except harness.Skip:
        old = []
    if old:
        p = run(["main.*", "--", old[0]["path"]])
        check("bad:old-go", p.returncode == 1 and "needs Go >= 1.17" in p.stderr,
              p.stderr[-800:])
    else:
        harness.missing("bad:old-go", "no build older than Go 1.17 in the manifest")
    p = run(["--bogus"])
    check("bad:usage", p.returncode == 2, p.stderr[-300:])


def test_zz_no_bpf_left():
    """The programs and links one gotrace holds while it traces (from
    /proc/PID/fdinfo: they must be there) are gone once it exits, after
    Ctrl-C in -p mode and after the target's exit in launch mode."""
    harness.need_root()
    b = newest(builds())
    for how in ("sigint", "launch"):
        prog = None
        with tempfile.TemporaryDirectory() as tmp:
            if how == "sigint":
                prog = subprocess.Popen([b["path"], "-loop", "-depth", "20"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                cmd = ["-p", str(prog.pid), PATTERN]
            else:
                cmd = [PATTERN, "--", b["path"], "-wait"]
            tracer = subprocess.Popen([harness.GOTRACE, "funcgraph", "--format=jsonl",
                                       "-o", os.path.join(tmp, "o.jsonl")] + cmd,
                                      stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True)
            try:
                held = harness.wait_bpf_held(tracer.pid)
                if how == "sigint":
                    tracer.send_signal(signal.SIGINT)
                else:
                    tracer.stdin.write("go\n")
                    tracer.stdin.flush()
                _, err = tracer.communicate(timeout=120)
            finally:
                for pr in (tracer, prog):
                    if pr and pr.poll() is None:
                        pr.kill()
                        pr.wait()
            check("no-bpf-left:%s:exit" % how, tracer.returncode == 0,
                  "exit %s\n%s" % (tracer.returncode, err[-800:]))
            harness.check_bpf_released("no-bpf-left:" + how, held)


def test_soak():
    """A busy program traced for GOTRACE_SOAK_SECONDS: it keeps running."""
    harness.need_root()
    secs = int(os.environ.get("GOTRACE_SOAK_SECONDS", "20"))
    b = newest(builds())
    prog = subprocess.Popen([b["path"], "-loop", "-depth", "200"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        prog.stdout.readline()
        p = subprocess.run([harness.GOTRACE, "funcgraph", "--format=jsonl", "--no-summary",
                            "-o", "/dev/null", "-d", "%ds" % secs, "-p", str(prog.pid), PATTERN],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           timeout=secs + 120)
        time.sleep(1)
        alive = prog.poll() is None
        check("soak:tracer", p.returncode == 0 and stat(p.stderr, "events") > 0,
              p.stderr[-1000:])
        check("soak:target-alive", alive, "the program exited with %s" % prog.returncode)
        rounds = 0
        # the program prints a line every 50 rounds: it made progress
        prog.send_signal(signal.SIGKILL)
        rest = prog.communicate(timeout=30)[0]
        rounds = len(re.findall(r"round \d+", rest))
        check("soak:progress", rounds > 0, "no 'round' line from the program")
    finally:
        if prog.poll() is None:
            prog.kill()
            prog.wait()
