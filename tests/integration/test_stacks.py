"""Integration tests of --stack (gotrace funcgraph, gotrace states) against
the Go runtime's own runtime.Callers.

testprogs/stacks reaches main.marker through fourteen distinct call chains
(an inlined call, new goroutines, a 30-frame recursion, an interface method,
a 2 KiB frame, a sort.Sort callback through a compiler wrapper, a deferred
closure, and the compiler wrappers of `go f(x)`, `go func(x){}(x)`,
`go obj.Method(x)`, `go` of a method value, a method value call and
`defer f(x)`) and prints, from inside the marker, its stack as
runtime.CallersFrames reports it: one JSON line per marker call, in call
order.  `gotrace funcgraph --stack --format=jsonl main.marker` must give
every call of the marker that same stack.

How the two are compared (the same rule as tests/unit/test_unwind_go.py):
  - the probe fires at marker's first instruction, runtime.Callers(1) runs
    inside it: frame 0 (marker itself) is compared by function only (ours
    carries the func's declaration line, the runtime's the line of its
    runtime.Callers call); every caller by function, file and line;
  - the whole stack, innermost first, down to runtime.goexit, inlined
    frames included, compiler wrappers elided as runtime.Callers does;
  - calls are matched to printed stacks by order (sorted by entry time: the
    chains run one after the other);
  - the walk must be complete: no "stack_stop" on any call, and the
    stack_summary line must count every stack as complete.

Per --unwind method:
  auto     every build (default, pie, stripped) of every toolchain;
  pclntab  the same stacks from the Go pcsp table alone;
  dwarf    default and PIE builds: the same stacks from .debug_frame;
           stripped builds have no CFI: one frame, stop reason "no-info";
  fp       frame pointers: at a function's entry RBP still belongs to the
           caller, so every FP unwinder skips the direct caller there:
           the stack minus frame 1 must match exactly.

The states part: testprogs/blockstack parks two goroutines (a channel
receive in main.blockChan, a contended mutex in main.blockMutex), each
printing its runtime.Callers stack first; `gotrace states --stack` must
report, for each one's running -> waiting transition, the goroutine's own
stack (unwound from g.sched, not the scheduler's) with the blocking function
and its callers as printed, and for the running -> syscall transition of its
print (the write(2) from main.report) the stack from the probe's own
registers, equal to the printed one from the blocking function down.
"""
import json
import os
import re
import subprocess
import tempfile

import harness
from harness import check



def host_builds(prog):
    """Go 1.17+ default/pie/stripped builds of testprogs/PROG for this machine."""
    bs = [b for b in harness.testprog_builds()
          if b["prog"] == prog and b["goarch"] == harness.HOSTARCH and not b.get("cgo")
          and b["variant"] in ("default", "pie", "stripped") and harness.go_minor(b["go"]) >= 17]
    if not bs:
        raise AssertionError("no testprogs/%s builds in the manifest: run "
                             "TESTPROGS_ONLY=%s scripts/build-testprogs.sh" % (prog, prog))
    return bs


def frames_of(stack):
    return [(f["func"], f["file"], f["line"]) for f in stack]


def compare(ours, truth):
    """'' if equal under the rule above, else the first difference."""
    if len(ours) != len(truth):
        return "%d frames, runtime has %d: ours %s, runtime %s" % (
            len(ours), len(truth), [o[0] for o in ours], [t[0] for t in truth])
    for i, (o, t) in enumerate(zip(ours, truth)):
        if o[0] != t[0] or (i > 0 and (o[1], o[2]) != (t[1], t[2])):
            return "frame %d: ours %s, runtime %s" % (i, o, t)
    return ""


def run_funcgraph(path, method, tmp, extra=()):
    out = os.path.join(tmp, "fg.jsonl")
    p = subprocess.run([harness.GOTRACE, "funcgraph", "-q", "--stack", "--unwind=" + method,
                        "--format=jsonl", "-o", out] + list(extra) + ["main.marker", "--", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    recs = []
    if os.path.exists(out):
        with open(out) as f:
            recs = [json.loads(line) for line in f if line.strip()]
    truth = []
    for line in p.stdout.splitlines():
        try:
            truth.append(json.loads(line))
        except ValueError:
            pass
    return p, recs, truth


def check_build(b, method, tmp):
    name = "funcgraph/%s/%s/%s" % (b["go"], b["variant"], method)
    p, recs, truth = run_funcgraph(b["path"], method, tmp)
    if p.returncode != 0:
        return check(name, False, "exit %d: %s" % (p.returncode, p.stderr[-600:]))
    calls = sorted((r for r in recs if r.get("type") == "call"), key=lambda r: r["start_ns"])
    summ = [r for r in recs if r.get("type") == "stack_summary"]
    if len(truth) < 8 or len(calls) != len(truth) or len(summ) != 1:
        return check(name, False, "%d stacks printed, %d calls traced, %d summaries; %s" % (
            len(truth), len(calls), len(summ), p.stderr[-400:]))
    bad, nframes = [], 0
    no_cfi = method == "dwarf" and b["variant"] == "stripped"
    for c, t in zip(calls, truth):
        want = frames_of(t["frames"])
        if "stack" not in c:
            bad.append("%s: no stack" % t["chain"])
            continue
        ours = frames_of(c["stack"])
        nframes += len(ours)
        if no_cfi:
            # no CFI at all: the walk must stop at the first frame and say so
            why = "" if (len(ours) == 1 and ours[0][0] == "main.marker"
                         and c.get("stack_stop") == "no-info") else \
                "expected [main.marker] and stop no-info, got %s %s" % (
                    [o[0] for o in ours], c.get("stack_stop"))
        else:
            if method == "fp":
                want = want[:1] + want[2:]
            why = compare(ours, want)
            if not why and "stack_stop" in c:
                why = "stopped with %s" % c["stack_stop"]
        if why:
            bad.append("%s: %s" % (t["chain"], why))
    s = summ[0]
    if not bad:
        if no_cfi and s["stops"] != {"no-info": len(calls)}:
            bad.append("summary %s" % s)
        elif not no_cfi and (s["complete"] != len(calls) or s["stacks"] != len(calls)
                             or s["lost"]):
            bad.append("summary %s" % s)
    return check(name, not bad, "%d calls, %d frames; %s" % (len(calls), nframes,
                                                             "; ".join(bad[:3])))


def test_funcgraph_stacks_match_runtime_callers():
    harness.need_root()
    bs = host_builds("stacks")
    gos = sorted(set(b["go"] for b in bs), key=harness.go_minor)
    harness.log("toolchains: %s" % " ".join(gos))
    harness.check_toolchains("toolchains", gos, 17)
    with tempfile.TemporaryDirectory() as tmp:
        for b in sorted(bs, key=lambda b: (harness.go_minor(b["go"]), b["variant"])):
            for method in ("auto", "pclntab", "dwarf", "fp"):
                check_build(b, method, tmp)


def test_funcgraph_stack_text_and_options():
    """Text output: the stack under the call; a copy too small for the
    30-frame recursion is reported as truncated (not as an error); bad
    option values are one clear error line and exit 2."""
    harness.need_root()
    b = [x for x in host_builds("stacks") if x["variant"] == "default"]
    b = max(b, key=lambda x: harness.go_minor(x["go"]))
    p = subprocess.run([harness.GOTRACE, "funcgraph", "--stack", "main.marker", "--", b["path"]],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    lines = p.stdout.splitlines()
    printed = len([l for l in lines if l.startswith('{"id":')])  # the program's own stacks
    idx = [i for i, l in enumerate(lines) if re.match(r"^ +[0-9.]+ +[0-9.]+ \w+ .*  main\.marker$", l)]
    ok = p.returncode == 0 and printed >= 8 and len(idx) == printed and all(
        re.match(r"^ +at main\.marker \(.*main\.go:\d+\)$", lines[i + 1]) for i in idx)
    check("text:stack-under-call", ok and any(
        "at main.a2inl (" in l and l.endswith("[inlined]") for l in lines),
        "\n".join(lines[:20]) + p.stderr[-300:])
    check("text:summary", bool(re.search(r"^stacks: %d unwound: %d complete, 0 truncated" % (
        printed, printed), p.stdout, re.M)), p.stdout[-600:])
    # A copy too small for the 30-frame recursion: that stack must be
    # reported as truncated (stop stack-read), and what was unwound must be
    # the innermost part of the runtime's own stack.
    with tempfile.TemporaryDirectory() as tmp:
        p, recs, truth = run_funcgraph(b["path"], "auto", tmp, ["--stack-size", "512"])
    calls = sorted((r for r in recs if r.get("type") == "call"), key=lambda r: r["start_ns"])
    summ = [r for r in recs if r.get("type") == "stack_summary"]
    bad = []
    if len(calls) != len(truth) or not summ:
        bad.append("%d calls, %d stacks printed, summary %s" % (len(calls), len(truth), summ))
    for c, t in zip(calls, truth):
        want = frames_of(t["frames"])
        ours = frames_of(c.get("stack", []))
        if c.get("stack_stop") is None:
            why = compare(ours, want)
        elif c["stack_stop"] != "stack-read":
            why = "stopped with %s" % c["stack_stop"]
        else:
            why = compare(ours, want[:len(ours)]) if ours else "empty"
        if why:
            bad.append("%s: %s" % (t["chain"], why))
    rec = [c for c, t in zip(calls, truth) if t["chain"] == "recursion"]
    check("truncated:stack-size", p.returncode == 0 and not bad and summ and
          summ[0]["truncated"] >= 1 and rec and rec[0].get("stack_stop") == "stack-read" and
          summ[0]["truncated"] + summ[0]["complete"] == len(calls),
          "summary %s; %s; %s" % (summ, "; ".join(bad[:3]), p.stderr[-300:]))
    for args, what in ((["--stack-size", "100"], "stack-size"), (["--stack-size", "4097"], "stack-size"),
                       (["--stack-size", "1M"], "stack-size"),
                       (["--unwind", "magic"], "unwind")):
        p = subprocess.run([harness.GOTRACE, "funcgraph", "--stack"] + args +
                           ["main.marker", "--", b["path"]], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        check("bad:%s:%s" % (what, args[1]), p.returncode == 2 and
              len(p.stderr.strip().splitlines()) == 1 and what in p.stderr, p.stderr)


BLOCKERS = {"chan": "main.blockChan", "mutex": "main.blockMutex"}


def check_states_build(b, method, tmp):
    """The running -> waiting transition of each worker must carry the
    worker's own stack: runtime.gopark innermost, then the runtime's park
    path, then the blocking function (by name: ours is at the blocking
    call, the runtime's at its runtime.Callers call), then exactly the
    callers the program printed (func, file, line), down to runtime.goexit."""
    name = "states/%s/%s/%s" % (b["go"], b["variant"], method)
    out = os.path.join(tmp, "st.jsonl")
    p = subprocess.run([harness.GOTRACE, "states", "--stack", "--unwind=" + method,
                        "--format=jsonl", "-o", out, "--", b["path"]],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    recs = [json.loads(l) for l in open(out)] if os.path.exists(out) else []
    truth = []
    for line in p.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if "kind" in r:
            truth.append(r)
    if p.returncode != 0 or len(truth) != 2:
        return check(name, False, "exit %d, %d workers printed: %s" % (
            p.returncode, len(truth), p.stderr[-500:]))
    bad, nframes = [], 0
    for t in truth:
        fn = BLOCKERS[t["kind"]]
        cand = [r for r in recs if r.get("type") == "state" and r.get("goid") == t["goid"]
                and r.get("from") == "running" and r.get("to") == "waiting"
                and any(f["func"] == fn for f in r.get("stack", []))]
        if not cand:
            got = [(r.get("to"), [f["func"] for f in r.get("stack", [])][:6], r.get("stack_stop"))
                   for r in recs if r.get("type") == "state" and r.get("goid") == t["goid"]]
            bad.append("%s: no waiting transition of G%d with %s in its stack: %s" % (
                t["kind"], t["goid"], fn, got[:4]))
            continue
        ours = frames_of(cand[0]["stack"])
        nframes += len(ours)
        k = [o[0] for o in ours].index(fn)
        want = frames_of(t["frames"])
        why = compare(ours[k:], want)
        if not why and ours[0][0] != "runtime.gopark":
            why = "innermost frame %s, not runtime.gopark" % ours[0][0]
        if not why and "stack_stop" in cand[0]:
            why = "stopped with %s" % cand[0]["stack_stop"]
        if why:
            bad.append("%s: %s" % (t["kind"], why))
        # The worker prints its stack (a write(2) to stdout, from inside
        # main.report) before it blocks: that running -> syscall transition
        # runs on the goroutine's own stack (casgstatus from reentersyscall
        # before Go 1.26, reentersyscall's own CAS after), and from the
        # blocking function down it must be exactly what runtime.Callers
        # printed, the blocking function's line included.
        sysc = [r for r in recs if r.get("type") == "state" and r.get("goid") == t["goid"]
                and r.get("from") == "running" and r.get("to") == "syscall"
                and any(f["func"] == "main.report" for f in r.get("stack", []))]
        if not sysc:
            bad.append("%s: no syscall transition of G%d from main.report" % (t["kind"], t["goid"]))
            continue
        ours = frames_of(sysc[0]["stack"])
        names = [o[0] for o in ours]
        k = names.index(fn) if fn in names else -1
        if k < 0 or ours[k:] != want or names[k - 1] != "main.report" or "stack_stop" in sysc[0]:
            bad.append("%s: syscall stack %s (stop %s), runtime %s" % (
                t["kind"], ours[max(k - 1, 0):], sysc[0].get("stack_stop"), want))
    summ = [r for r in recs if r.get("type") == "stack_summary"]
    if not bad and (len(summ) != 1 or summ[0]["lost"]):
        bad.append("summary %s" % summ)
    return check(name, not bad, "%d frames; %s" % (nframes, "; ".join(bad[:2])))


def test_states_stack_is_the_goroutines_own():
    harness.need_root()
    bs = host_builds("blockstack")
    gos = sorted(set(b["go"] for b in bs), key=harness.go_minor)
    harness.log("toolchains: %s" % " ".join(gos))
    harness.check_toolchains("states:toolchains", gos, 17)
    with tempfile.TemporaryDirectory() as tmp:
        for b in sorted(bs, key=lambda b: (harness.go_minor(b["go"]), b["variant"])):
            methods = ["auto", "pclntab", "fp"]
            if b["variant"] != "stripped":
                methods.append("dwarf")
            for method in methods:
                check_states_build(b, method, tmp)


def test_zz_stack_programs_gone():
    """After a --stack run of each subcommand, none of the programs and
    links it held while tracing (/proc/PID/fdinfo, read while the program
    waits on stdin) is left."""
    harness.need_root()
    b = [x for x in host_builds("funcgraph") if x["variant"] == "default"]
    b = max(b, key=lambda x: harness.go_minor(x["go"]))
    for cmd, args in ((["funcgraph", "--stack", "-q", "-o", "/dev/null", "main.fgLeaf"],
                       ["-wait", "-depth", "5"]),
                      (["states", "--stack", "-q", "-o", "/dev/null"], None)):
        path = b["path"]
        if args is None:
            s = [x for x in host_builds("states") if x["variant"] == "default"]
            path, args = max(s, key=lambda x: harness.go_minor(x["go"]))["path"], ["-wait-stdin", "-n", "2"]
        tracer = subprocess.Popen([harness.GOTRACE] + cmd + ["--", path] + args,
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        held = harness.wait_bpf_held(tracer.pid)
        try:
            _, err = tracer.communicate("go\n", timeout=120)
        except subprocess.TimeoutExpired:
            tracer.kill()
            _, err = tracer.communicate()
        check("no-bpf-left:%s:exit" % cmd[0], tracer.returncode == 0,
              "exit %s: %s" % (tracer.returncode, err[-500:]))
        harness.check_bpf_released("no-bpf-left:" + cmd[0], held)
