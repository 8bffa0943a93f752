"""Integration tests of `gotrace states --aggregate` (root, real kernel).

The truth is what testprogs/states prints about itself (each worker's goid
from runtime.Stack, and how many times it blocked) and what its code does:
each of the n blocks of the chan, mutex and sleep workers parks the
goroutine once with a known reason (chanWorker: chan receive; mutexWorker:
sync.Mutex.Lock, semacquire before Go 1.20; sleepWorker: sleep, for at
least the program's 2 ms pause); the syscall worker enters a blocking
nanosleep(2) of 2 ms n times.  The aggregated summary of each worker must
show at least n waits for its reason (and n wakeups, n runs), at least n
times 2 ms asleep / in syscalls, its creation by G1 at its `go` statement
(and its start function on Go >= 1.22), and its exit.  The -i interval
reports must add up to the end's totals.  For every toolchain's default
build and all variants of the newest, in launch mode; -p mode, --goid and
bad option combinations on the newest.
"""
import importlib.util
import json
import os
import subprocess
import tempfile
import time

import harness

_spec = importlib.util.spec_from_file_location(
    "states_helpers", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_states.py"))
st = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(st)

ROUNDS = 5
PAUSE_NS = 2000000  # testprogs/states: pause


def parse(path):
    gors, ivs, stats, other = {}, [], None, []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "goroutine":
                gors[r["goid"]] = r
            elif r["type"] == "interval":
                ivs.append(r)
            elif r["type"] == "stats":
                stats = r
            else:
                other.append(r)
    return gors, ivs, stats, other


def check_workers(name, path, prog_out, go):
    workers, ok, _ = st.parse_prog_output(prog_out)
    if not harness.check(name + "/program-ok", ok and len(workers) == 4, prog_out[-500:]):
        return
    gors, ivs, stats, _ = parse(path)
    harness.check(name + "/stats", stats is not None and stats.get("aggregate")
                  and stats["untracked"] == 0 and stats["no_goid"] == 0
                  and stats["read_failures"] == 0, "stats: %r" % stats)
    lines = st.go_lines()
    for kind, w in sorted(workers.items()):
        goid, n = w["goid"], w["blocks"]
        g = gors.get(goid)
        if not harness.check("%s/%s-seen" % (name, kind), g is not None,
                             "G%d not in the summary" % goid):
            continue
        count, waits = g["count"], g["waiting"]
        if kind in st.WAIT_REASONS:
            nw = sum(waits[r]["count"] for r in st.WAIT_REASONS[kind] if r in waits)
            ok1 = nw >= n and count.get("runnable", 0) >= n and count.get("running", 0) >= n
            harness.check("%s/%s-cycles" % (name, kind), ok1,
                          "G%d: %d waits for %s, counts %r; want >= %d"
                          % (goid, nw, st.WAIT_REASONS[kind], count, n))
        else:
            harness.check("%s/syscall-cycles" % name, count.get("syscall", 0) >= n,
                          "G%d counts %r; want >= %d syscalls" % (goid, count, n))
        if kind == "sleep":
            harness.check("%s/sleep-time" % name, waits.get("sleep", {}).get("ns", 0) >= n * PAUSE_NS,
                          "G%d asleep %r ns, the program slept %d x %d ns"
                          % (goid, waits.get("sleep"), n, PAUSE_NS))
        if kind == "syscall":
            harness.check("%s/syscall-time" % name, g["ns"].get("syscall", 0) >= n * PAUSE_NS,
                          "G%d in syscalls %r ns, the program's nanosleeps %d x %d ns"
                          % (goid, g["ns"].get("syscall"), n, PAUSE_NS))
        created_ok = g.get("created") and g.get("exited") and g.get("parent") == 1 \
            and g.get("created_at", "").endswith("main.go:%d" % lines[kind])
        harness.check("%s/%s-created" % (name, kind), bool(created_ok),
                      "G%d: %r; want created by G1 at main.go:%d, exited" % (goid, g, lines[kind]))
        if st.goversion_tuple(go) >= (1, 22):
            want = "main.%sWorker" % kind
            harness.check("%s/%s-start-func" % (name, kind), g.get("func") == want,
                          "func %r, want %r" % (g.get("func"), want))
    if ivs:
        tr = sum(i["transitions"] for i in ivs)
        cr = sum(i["created"] for i in ivs)
        ex = sum(i["exited"] for i in ivs)
        harness.check(name + "/intervals-add-up", stats is not None and tr == stats["transitions"]
                      and cr == stats["created"] and ex == stats["exited"],
                      "intervals: %d transitions, %d created, %d exited; stats %r"
                      % (tr, cr, ex, stats))


def builds():
    bs = st.selected_builds()
    newest = max((b["go"] for b in bs), key=st.goversion_tuple)
    return [b for b in bs if b["variant"] == "default" or b["go"] == newest]


def test_launch():
    st.require_bpf()
    with tempfile.TemporaryDirectory(prefix="gt-agg-") as tmp:
        for b in builds():
            name = "%s/%s/launch" % (b["go"], b["variant"])
            out = os.path.join(tmp, "a.jsonl")
            p = harness.run([harness.GOTRACE, "states", "--aggregate", "-i", "10ms",
                             "--format=jsonl", "-o", out, "--", b["path"], "-n", str(ROUNDS),
                             "-exit", "3"], check_rc=False, timeout=120)
            if harness.check(name + "/exit-status", p.returncode == 3 and os.path.exists(out),
                             "exit %d (want 3)\n%s" % (p.returncode, p.stderr[-1500:])):
                check_workers(name, out, p.stdout, b["go"])


def test_attach_text_csv():
    """-p with -i: the same checks; text and CSV summaries name the workers."""
    st.require_bpf()
    b = st.newest()
    with tempfile.TemporaryDirectory(prefix="gt-agg-") as tmp:
        prog, pid, _ = st.start_waiting(b, "-n", str(ROUNDS))
        out = os.path.join(tmp, "p.jsonl")
        g = subprocess.Popen([harness.GOTRACE, "states", "--aggregate", "-i", "10ms",
                              "--format=jsonl", "-o", out, "-p", str(pid)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 30
            err = []
            while time.time() < deadline:
                line = g.stderr.readline()
                err.append(line)
                if not line or line.startswith("attached "):
                    break
            # what gotrace itself holds (its fdinfo): other tracers on the
            # machine load programs of the same names
            held = harness.bpf_held(g.pid)
            prog_out, _ = prog.communicate("go\n", timeout=60)
            _, gerr = g.communicate(timeout=30)
        finally:
            for pr in (prog, g):
                if pr.poll() is None:
                    pr.kill()
                    pr.wait()
        harness.check("attach/exit-status", g.returncode == 0,
                      "exit %d\n%s" % (g.returncode, ("".join(err) + gerr)[-1500:]))
        check_workers("attach", out, prog_out, b["go"])
        harness.check_bpf_released("attach", held)

        txt, csvp = os.path.join(tmp, "s.txt"), os.path.join(tmp, "s.csv")
        p = harness.run([harness.GOTRACE, "states", "--aggregate", "-q", "-o", txt, "--csv",
                         csvp, "--", b["path"], "-n", str(ROUNDS)], check_rc=False, timeout=120)
        workers, _, _ = st.parse_prog_output(p.stdout)
        with open(txt) as f:
            text = f.read()
        with open(csvp) as f:
            csvt = f.read()
        for kind, w in sorted(workers.items()):
            harness.check("text/%s" % kind, "main.%sWorker" % kind in text, text[-1500:])
            harness.check("csv/%s" % kind, any(l.startswith("%d," % w["goid"])
                                               for l in csvt.splitlines()), csvt[-800:])
        harness.check("text/latency", "scheduler latency (runnable -> running)" in text,
                      text[-1500:])


def test_goid():
    """--goid: only that goroutine in the summary."""
    st.require_bpf()
    b = st.newest()
    with tempfile.TemporaryDirectory(prefix="gt-agg-") as tmp:
        out = os.path.join(tmp, "g.jsonl")
        p = harness.run([harness.GOTRACE, "states", "--aggregate", "--goid", "1", "-q",
                         "--format=jsonl", "-o", out, "--", b["path"], "-n", "3"],
                        check_rc=False, timeout=120)
        gors, _, stats, _ = parse(out) if os.path.exists(out) else ({}, [], None, [])
        harness.check("goid/only-1", p.returncode == 0 and list(gors) == [1]
                      and gors[1]["count"].get("running", 0) > 0,
                      "goroutines %r\n%s" % (sorted(gors), p.stderr[-800:]))


def test_bad_input():
    st.require_bpf()
    b = st.newest()
    for args, what in ((["--aggregate", "--json", "/tmp/x.json"], "--json"),
                       (["--aggregate", "--stack"], "--stack"),
                       (["--aggregate", "--state", "waiting"], "--state"),
                       (["-i", "1s"], "--interval"),
                       (["--aggregate", "-i", "soon"], "soon")):
        p = harness.run([harness.GOTRACE, "states"] + args + ["--", b["path"]],
                        check_rc=False, timeout=60)
        harness.check("bad/" + "_".join(args), p.returncode == 2 and what in p.stderr
                      and p.stderr.strip().count("\n") == 0, p.stderr[-500:])
