"""Integration tests of `gotrace states` (root, real kernel, real Go
processes).

The truth is what testprogs/states prints about itself: each worker's goid
(from runtime.Stack) and how many times it blocked, and why.  Every check
compares gotrace's JSON Lines stream against that, for every toolchain's
build (default build everywhere; pie and stripped for the newest toolchain
and the oldest ones), in launch mode (-- BIN) and attach mode (-p PID).
Also: exit status propagation, SIGINT/SIGTERM, -d, the target running on
after detach, no BPF program or link left behind, and bad input.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import harness

# bpf/states.bpf.c programs (bpftool shows names cut to 15 characters)
PROG_PREFIXES = ("on_transition", "on_syscall_fast")
ROUNDS = 5
SRC = os.path.join(harness.ROOT, "testprogs", "states", "main.go")


def require_bpf():
    if os.geteuid() != 0:
        raise harness.Skip("needs root")
    if not os.access(harness.GOTRACE, os.X_OK):
        raise harness.Skip("no %s: run make" % harness.GOTRACE)
    p = subprocess.run([harness.GOTRACE, "doctor"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        fails = [l for l in p.stdout.splitlines() if "FAIL" in l]
        raise harness.Skip("this machine can't trace: " + "; ".join(fails)[:300])


def our_bpf_objects():
    """ids of our BPF programs, and of links that use them."""
    progs = json.loads(subprocess.run(["bpftool", "-j", "prog", "show"],
                                      stdout=subprocess.PIPE, text=True).stdout or "[]")
    ours = {p["id"] for p in progs if p.get("name", "").startswith(PROG_PREFIXES)}
    links = json.loads(subprocess.run(["bpftool", "-j", "link", "show"],
                                      stdout=subprocess.PIPE, text=True).stdout or "[]")
    lids = {l["id"] for l in links if l.get("prog_id") in ours}
    return ours, lids


def check_no_leftovers(name, before):
    # Program teardown after the last fd closes is asynchronous (RCU).
    for _ in range(50):
        now = our_bpf_objects()
        if not (now[0] - before[0]) and not (now[1] - before[1]):
            return harness.check(name + "/no-bpf-left", True)
        time.sleep(0.1)
    return harness.check(name + "/no-bpf-left", False,
                         "programs %s links %s remain" % (sorted(now[0] - before[0]),
                                                          sorted(now[1] - before[1])))


def states_builds():
    out = []
    for b in harness.testprog_builds():
        if b["prog"] == "states" and b.get("goarch") == "amd64" and \
           b["variant"] in ("default", "pie", "stripped", "pie-stripped"):
            out.append(b)
    if not out:
        raise harness.Skip("no testprogs/states builds in the manifest")
    return out


def goversion_tuple(v):
    m = re.match(r"go(\d+)\.(\d+)", v)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def selected_builds():
    """default builds of every toolchain; all variants of the newest, 1.19
    and the oldest.  Stripped builds before Go 1.17 are left out: gosym's
    per-version offset tables start at 1.17 (test_bad_input checks the
    error)."""
    bs = [b for b in states_builds()
          if not (b["variant"] == "stripped" and goversion_tuple(b["go"]) < (1, 17))]
    versions = sorted({b["go"] for b in bs}, key=goversion_tuple)
    full = {versions[-1], versions[0]} | {v for v in versions if v.startswith("go1.19")}
    return [b for b in bs if b["variant"] == "default" or b["go"] in full]


def go_lines():
    """Line numbers of the `go worker(...)` statements: where each worker
    was created, as the runtime records it (g.gopc)."""
    lines = {}
    with open(SRC) as f:
        for i, l in enumerate(f, 1):
            m = re.match(r"\s*go (\w+)Worker\(", l)
            if m:
                lines[m.group(1)] = i
    return lines


def parse_prog_output(text):
    workers, ok, ready = {}, False, None
    for l in text.splitlines():
        try:
            r = json.loads(l)
        except ValueError:
            continue
        if r.get("event") == "worker":
            workers[r["kind"]] = r
        elif r.get("event") == "ok":
            ok = True
        elif r.get("event") == "ready":
            ready = r
    return workers, ok, ready


def parse_trace(path):
    states, gors, stats = [], {}, None
    with open(path) as f:
        for l in f:
            r = json.loads(l)
            if r["type"] == "state":
                states.append(r)
            elif r["type"] == "goroutine":
                gors[r["goid"]] = r
            elif r["type"] == "stats":
                stats = r
    return states, gors, stats


WAIT_REASONS = {
    "chan": ("chan receive",),
    "mutex": ("sync.Mutex.Lock", "semacquire"),  # semacquire before Go 1.20
    "sleep": ("sleep",),
}


def check_workers(name, trace_path, prog_out, go=""):
    """The trace shows every worker with its blocks; returns ok."""
    workers, ok, _ = parse_prog_output(prog_out)
    if not harness.check(name + "/program-ok", ok and len(workers) == 4,
                         "program output: %r" % prog_out[-500:]):
        return False
    states, gors, stats = parse_trace(trace_path)
    harness.check(name + "/no-drops", stats is not None and stats["drops"] == 0,
                  "stats: %r" % stats)
    lines = go_lines()
    good = True
    for kind, w in sorted(workers.items()):
        goid, n = w["goid"], w["blocks"]
        mine = [s for s in states if s["goid"] == goid]
        detail = "G%d (%s): %d transitions" % (goid, kind, len(mine))
        if kind in WAIT_REASONS:
            waits = [s for s in mine if s["to"] == "waiting" and s.get("reason") in WAIT_REASONS[kind]]
            wake = [s for s in mine if s["from"] == "waiting" and s["to"] == "runnable"]
            run = [s for s in mine if s["from"] == "runnable" and s["to"] == "running"]
            reasons = sorted({s.get("reason") for s in mine if s["to"] == "waiting"})
            ok1 = len(waits) >= n and len(wake) >= n and len(run) >= n
            good &= harness.check("%s/%s-cycles" % (name, kind), ok1,
                                  "%s; %d waits for %s (reasons seen %s), %d wakeups, %d runs; want >= %d"
                                  % (detail, len(waits), WAIT_REASONS[kind], reasons, len(wake), len(run), n))
        else:
            enter = [s for s in mine if s["from"] == "running" and s["to"] == "syscall"]
            leave = [s for s in mine if s["from"] == "syscall" and s["to"] in ("running", "runnable")]
            good &= harness.check("%s/syscall-cycles" % name, len(enter) >= n and len(leave) >= n,
                                  "%s; %d entries %d exits, want >= %d" % (detail, len(enter), len(leave), n))
        g = gors.get(goid)
        created_ok = g is not None and g.get("created") and g.get("exited") and g.get("parent") == 1 \
            and g.get("created_at", "").endswith("main.go:%d" % lines[kind])
        good &= harness.check("%s/%s-created" % (name, kind), bool(created_ok),
                              "summary of G%d: %r; want created by G1 at main.go:%d"
                              % (goid, g, lines[kind]))
        # Go 1.22+ starts `go f(x)` through a wrapper; gotrace names f.
        if goversion_tuple(go) >= (1, 22):
            want = "main.%sWorker" % kind
            good &= harness.check("%s/%s-start-func" % (name, kind), g is not None and g.get("func") == want,
                                  "func %r, want %r" % (g and g.get("func"), want))
    return good


def test_attach_modes():
    """Both ways of attaching: one uprobe_multi link per program, and one
    perf-event uprobe per function (the fallback for kernels before 6.6)."""
    require_bpf()
    tmp = tempfile.mkdtemp(prefix="gt-states-")
    try:
        for b in [newest()] + [x for x in states_builds()
                               if x["variant"] == "default" and x["go"].startswith("go1.19")]:
            for mode in ("multi", "single"):
                name = "%s/%s/attach-%s" % (b["go"], b["variant"], mode)
                before = our_bpf_objects()
                p, out = run_launch(b, tmp, ["--attach", mode])
                harness.check(name + "/exit-status", p.returncode == 3 and
                              ("with uprobe_multi" if mode == "multi" else "with perf-event uprobes") in p.stderr,
                              "exit %d\nstderr: %s" % (p.returncode, p.stderr[-1500:]))
                if os.path.exists(out):
                    check_workers(name, out, p.stdout, b["go"])
                check_no_leftovers(name, before)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_launch(b, tmp, extra=()):
    out = os.path.join(tmp, "launch.jsonl")
    p = harness.run([harness.GOTRACE, "states", "--format=jsonl", "-o", out] + list(extra)
                    + ["--", b["path"], "-n", str(ROUNDS), "-exit", "3"],
                    check_rc=False, timeout=120)
    return p, out


def test_launch():
    require_bpf()
    tmp = tempfile.mkdtemp(prefix="gt-states-")
    try:
        for b in selected_builds():
            name = "%s/%s/launch" % (b["go"], b["variant"])
            before = our_bpf_objects()
            p, out = run_launch(b, tmp)
            harness.check(name + "/exit-status", p.returncode == 3,
                          "exit %d (want the target's 3)\nstderr: %s" % (p.returncode, p.stderr[-1500:]))
            if os.path.exists(out):
                check_workers(name, out, p.stdout, b["go"])
            else:
                harness.check(name + "/trace", False, "no output; stderr: %s" % p.stderr[-1500:])
            check_no_leftovers(name, before)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def start_waiting(b, *args):
    prog = subprocess.Popen([b["path"], "-wait-stdin"] + list(args), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready = json.loads(prog.stdout.readline())
    return prog, ready["pid"]


def start_gotrace(args):
    """Start gotrace and wait until it says its probes are attached."""
    g = subprocess.Popen([harness.GOTRACE, "states"] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    err = []
    deadline = time.time() + 30
    while time.time() < deadline:
        l = g.stderr.readline()
        if not l:
            break
        err.append(l)
        if l.startswith("attached "):
            return g, err
    return g, err


def test_attach():
    require_bpf()
    tmp = tempfile.mkdtemp(prefix="gt-states-")
    try:
        for b in selected_builds():
            name = "%s/%s/attach" % (b["go"], b["variant"])
            before = our_bpf_objects()
            prog, pid = start_waiting(b, "-n", str(ROUNDS))
            out = os.path.join(tmp, "attach.jsonl")
            g, err = start_gotrace(["--format=jsonl", "-o", out, "-p", str(pid)])
            try:
                prog_out, _ = prog.communicate("go\n", timeout=60)
                gout, gerr = g.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                prog.kill()
                g.kill()
                harness.check(name + "/finished", False, "timed out")
                continue
            harness.check(name + "/exit-status", g.returncode == 0 and prog.returncode == 0,
                          "gotrace exit %d, program exit %d\nstderr: %s"
                          % (g.returncode, prog.returncode, ("".join(err) + gerr)[-1500:]))
            check_workers(name, out, prog_out, b["go"])
            check_no_leftovers(name, before)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def newest(variant="default"):
    bs = [b for b in states_builds() if b["variant"] == variant]
    return max(bs, key=lambda b: goversion_tuple(b["go"]))


def test_stop_and_detach():
    """SIGINT, SIGTERM and -d mid-workload: gotrace exits 0, leaves nothing
    behind, and the target finishes normally."""
    require_bpf()
    tmp = tempfile.mkdtemp(prefix="gt-states-")
    try:
        for b in [newest()] + [x for x in states_builds()
                               if x["variant"] == "default" and x["go"].startswith("go1.19")]:
            for how in ("SIGINT", "SIGTERM", "duration"):
                name = "%s/%s" % (b["go"], how)
                before = our_bpf_objects()
                # ~2 ms per block: 2000 blocks keep it busy >= 4 s, well
                # past the detach
                prog, pid = start_waiting(b, "-n", "2000")
                out = os.path.join(tmp, "stop.jsonl")
                args = ["-q", "--format=jsonl", "-o", out, "-p", str(pid)]
                if how == "duration":
                    args[:0] = ["-d", "2500ms"]
                g = subprocess.Popen([harness.GOTRACE, "states"] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
                time.sleep(1.0)  # attached by then (-q: no progress line to wait for)
                prog.stdin.write("go\n")
                prog.stdin.flush()
                time.sleep(0.5)
                if how != "duration":
                    g.send_signal(getattr(signal, how))
                try:
                    gout, gerr = g.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    g.kill()
                    gout, gerr = g.communicate()
                still_running = prog.poll() is None
                prog_out, _ = prog.communicate(timeout=60)
                _, ok, _ = parse_prog_output(prog_out)
                states, _, stats = parse_trace(out) if os.path.exists(out) else ([], {}, None)
                harness.check(name + "/gotrace-exit", g.returncode == 0 and stats is not None,
                              "exit %d, stats %r, stderr %s" % (g.returncode, stats, gerr[-1000:]))
                harness.check(name + "/traced-something", stats is not None and stats["transitions"] > 0,
                              "stats %r" % stats)
                harness.check(name + "/target-survives", still_running and ok and prog.returncode == 0,
                              "running at detach: %s, program exit %d, ok line: %s"
                              % (still_running, prog.returncode, ok))
                check_no_leftovers(name, before)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_launch_signals():
    """Launch mode: SIGINT or SIGTERM to gotrace is passed on to the
    program; gotrace exits with the program's status (128 + the signal: Go
    programs without a handler die of it)."""
    require_bpf()
    b = newest()
    for sig in (signal.SIGINT, signal.SIGTERM):
        name = "launch-%s" % sig.name
        before = our_bpf_objects()
        g, err = start_gotrace(["--format=jsonl", "-o", "/dev/null", "--", b["path"], "-loop"])
        time.sleep(0.5)
        g.send_signal(sig)
        try:
            g.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            g.kill()
            g.communicate()
        harness.check(name + "/exit-status", g.returncode == 128 + sig,
                      "exit %s, want %d" % (g.returncode, 128 + sig))
        check_no_leftovers(name, before)


def text_stream_line_ok(line):
    return re.match(r"^\s*\d+\.\d{6} G\d+\s+tid \d+\s+\w+ -> \w+", line) is not None


def test_text_and_csv():
    """The human forms: text stream lines, the summary table, --csv."""
    require_bpf()
    b = newest()
    tmp = tempfile.mkdtemp(prefix="gt-states-")
    try:
        csv = os.path.join(tmp, "s.csv")
        out = os.path.join(tmp, "s.txt")
        p = harness.run([harness.GOTRACE, "states", "-o", out, "--csv", csv, "--sort", "waiting",
                         "--", b["path"], "-n", "3"], check_rc=False, timeout=120)
        workers, ok, _ = parse_prog_output(p.stdout)
        text = open(out).read() if os.path.exists(out) else ""
        lines = text.splitlines()
        stream = [l for l in lines if text_stream_line_ok(l)]
        harness.check("text/stream", p.returncode == 0 and len(stream) > 20,
                      "exit %d, %d stream lines; stderr %s" % (p.returncode, len(stream), p.stderr[-800:]))
        chan = workers.get("chan", {}).get("goid")
        harness.check("text/wait-reason", any(re.search(r"G%s\s.*running -> waiting \(chan receive\)" % chan, l)
                                              for l in lines), "no chan receive line for G%s" % chan)
        harness.check("text/summary-header", any(l.startswith("GOID") and "RUNNING" in l for l in lines))
        rows = open(csv).read().splitlines() if os.path.exists(csv) else []
        harness.check("csv/header", bool(rows) and rows[0].startswith("goid,start_func,"), repr(rows[:1]))
        goids = {r.split(",")[0] for r in rows[1:]}
        harness.check("csv/workers", all(str(w["goid"]) in goids for w in workers.values()),
                      "workers %s, csv goids %s" % ([w["goid"] for w in workers.values()], sorted(goids)))
        # --goid and --state filters on the stream
        p = harness.run([harness.GOTRACE, "states", "--format=jsonl", "--no-summary", "--goid", "1",
                         "--state", "waiting", "--", b["path"], "-n", "2"], check_rc=False, timeout=120)
        recs = [json.loads(l) for l in p.stdout.splitlines() if l.startswith('{"type"')]
        st = [r for r in recs if r["type"] == "state"]
        harness.check("filters/goid-state", st and all(r["goid"] == 1 and r["to"] == "waiting" for r in st),
                      "%d records, first %r" % (len(st), st[:2]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def one_error_line(name, p, must):
    errs = [l for l in p.stderr.splitlines() if l.startswith("gotrace: ") and "warning" not in l]
    harness.check(name, p.returncode == 1 and len(errs) == 1 and must in errs[0]
                  and "Traceback" not in p.stderr and "Segmentation" not in p.stderr,
                  "exit %d, stderr %r (want one line with %r)" % (p.returncode, p.stderr[-600:], must))


def free_pid():
    pid = 4000000
    while os.path.exists("/proc/%d" % pid):
        pid += 1
    return pid


def test_bad_input():
    require_bpf()
    one_error_line("bad/no-such-pid",
                   harness.run([harness.GOTRACE, "states", "-p", str(free_pid())], check_rc=False),
                   "no process")
    sl = subprocess.Popen(["sleep", "100"])
    try:
        one_error_line("bad/not-go",
                       harness.run([harness.GOTRACE, "states", "-p", str(sl.pid)], check_rc=False),
                       "not a Go program")
        one_error_line("bad/not-go-launch",
                       harness.run([harness.GOTRACE, "states", "--", "/bin/true"], check_rc=False),
                       "not a Go program")
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        one_error_line("bad/no-permission",
                       harness.run(nobody + [harness.GOTRACE, "states", "-p", str(sl.pid)], check_rc=False),
                       "permission denied")
    finally:
        sl.kill()
        sl.wait()
    tmp = tempfile.mkdtemp(prefix="gt-states-")
    try:
        outs = [os.path.join(tmp, n) for n in ("o.jsonl", "s.csv", "t.json")]
        p = harness.run([harness.GOTRACE, "states", "-o", outs[0], "--csv", outs[1], "--json", outs[2],
                         "-p", str(free_pid())], check_rc=False)
        left = os.listdir(tmp)
        harness.check("bad/no-output-left", p.returncode == 1 and not left,
                      "exit %d, files left: %s" % (p.returncode, left))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    one_error_line("bad/output-path",
                   harness.run([harness.GOTRACE, "states", "-o", "/nonexistent/dir/out", "-p", "1"],
                               check_rc=False), "cannot open")
    one_error_line("bad/no-program",
                   harness.run([harness.GOTRACE, "states", "--", "/nonexistent/prog"], check_rc=False),
                   "cannot run")
    # Stripped and older than the offset tables: no runtime.g offsets.
    old = [b for b in states_builds()
           if b["variant"] == "stripped" and goversion_tuple(b["go"]) < (1, 17)]
    if old:
        one_error_line("bad/no-offsets",
                       harness.run([harness.GOTRACE, "states", "--", old[0]["path"]], check_rc=False),
                       "no runtime.g offsets")
    # A Go binary whose function table has no runtime.casgstatus: rename it
    # in place (same length) in a stripped build, which has no .symtab.
    b = newest("stripped")
    tmp = tempfile.mkdtemp(prefix="gt-states-")
    try:
        data = open(b["path"], "rb").read()
        n = data.count(b"runtime.casgstatus\x00")
        patched = os.path.join(tmp, "nocasg")
        with open(patched, "wb") as f:
            f.write(data.replace(b"runtime.casgstatus\x00", b"runtime.casgstatuz\x00"))
        os.chmod(patched, 0o755)
        if n:
            one_error_line("bad/no-casgstatus",
                           harness.run([harness.GOTRACE, "states", "--", patched], check_rc=False),
                           "runtime.casgstatus")
        else:
            harness.check("bad/no-casgstatus", False, "name not found in %s" % b["path"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_chrome_trace():
    """--json: a valid Chrome trace (tests/lib/trace_validate.py) with one
    state track per worker, named after its goid, and its blocks as
    "waiting: <reason>" slices."""
    require_bpf()
    import sys
    sys.path.insert(0, os.path.join(harness.ROOT, "tests", "lib"))
    import trace_validate
    tmp = tempfile.mkdtemp(prefix="gt-states-")
    try:
        for b in [newest()] + [x for x in states_builds()
                               if x["variant"] == "default" and x["go"].startswith("go1.19")]:
            name = "%s/chrome" % b["go"]
            path = os.path.join(tmp, "t.json")
            p = harness.run([harness.GOTRACE, "states", "-q", "--no-summary", "--json", path,
                             "--", b["path"], "-n", str(ROUNDS)], check_rc=False, timeout=120)
            workers, ok, _ = parse_prog_output(p.stdout)
            if not harness.check(name + "/written", p.returncode == 0 and os.path.exists(path),
                                 "exit %d: %s" % (p.returncode, p.stderr[-800:])):
                continue
            problems = trace_validate.validate(path)
            harness.check(name + "/valid", not problems, "; ".join(problems[:5]))
            doc = json.load(open(path))
            tracks = {}
            for e in doc["traceEvents"]:
                if e["ph"] == "M" and e["name"] == "thread_name":
                    tracks[e["tid"]] = e["args"]["name"]
            for kind, w in sorted(workers.items()):
                tids = [t for t, n in tracks.items() if n.split(" ")[0] == "G%d" % w["goid"]]
                slices = [e for e in doc["traceEvents"] if e["ph"] == "X" and e["tid"] in tids]
                if kind in WAIT_REASONS:
                    want = ["waiting: " + r for r in WAIT_REASONS[kind]]
                    n = len([s for s in slices if s["name"] in want])
                else:
                    n = len([s for s in slices if s["name"] == "syscall"])
                harness.check("%s/%s-track" % (name, kind), len(tids) == 1 and n >= w["blocks"],
                              "G%d: tracks %s, %d matching slices, want >= %d"
                              % (w["goid"], [tracks[t] for t in tids], n, w["blocks"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def nm_address(binary, sym):
    """Address of sym as `go tool nm` prints it (independent of gosym)."""
    go = shutil.which("go") or "/usr/local/go/bin/go"
    p = subprocess.run([go, "tool", "nm", binary], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    for l in p.stdout.splitlines():
        f = l.split()
        if len(f) >= 3 and f[2] == sym:
            return int(f[0], 16)
    return None


def test_doctor():
    """gotrace doctor: passes as root here, fails as nobody with the
    privilege checks named, reports the target's casgstatus at the address
    `go tool nm` gives, and fails on a non-Go target."""
    if os.geteuid() != 0 or not os.access(harness.GOTRACE, os.X_OK):
        raise harness.Skip("needs root and %s" % harness.GOTRACE)
    p = harness.run([harness.GOTRACE, "doctor", "--json"], check_rc=False)
    doc = json.loads(p.stdout)
    names = {c["check"]: c for c in doc["checks"]}
    if not doc["ok"]:
        raise harness.Skip("this machine can't trace: %s" %
                           [c for c in doc["checks"] if not c["ok"]])
    harness.check("doctor/root-ok", p.returncode == 0 and all(
        k in names for k in ("kernel", "btf", "privileges", "bpf", "ringbuf", "uprobe-pmu")),
        p.stdout[-1000:])
    # the probe-cost self-test: both sites hit, and the single-stepped one
    # (a second trap per hit) costs more than the emulated one
    pc = names.get("probe-cost", {})
    harness.check("doctor/probe-cost", pc.get("ok") is True and "emulated_ns" in pc and
                  min(pc.get("hits", [0, 0])) > 0 and
                  0 < pc["emulated_ns"] < pc["sstep_ns"], repr(pc))
    q = harness.run([harness.GOTRACE, "doctor", "-q"], check_rc=False)
    harness.check("doctor/quiet", q.returncode == 0 and q.stdout == "" and q.stderr == "",
                  repr((q.returncode, q.stdout, q.stderr)))
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    p = harness.run(nobody + [harness.GOTRACE, "doctor", "--json"], check_rc=False)
    try:
        d = json.loads(p.stdout)
        failed = {c["check"] for c in d["checks"] if not c["ok"]}
    except ValueError:
        d, failed = None, set()
    harness.check("doctor/nobody", p.returncode == 1 and d is not None and not d["ok"]
                  and {"privileges", "bpf"} <= failed, "exit %d, failed %s" % (p.returncode, failed))
    # without privileges the self-test is skipped, not one more failure
    pc = {c["check"]: c for c in d["checks"]}.get("probe-cost", {}) if d else {}
    harness.check("doctor/nobody/probe-cost", pc.get("ok") is True and
                  pc.get("detail", "").startswith("not measured"), repr(pc))
    for b in [newest(), newest("pie")]:
        prog, pid = start_waiting(b, "-n", "1")
        try:
            p = harness.run([harness.GOTRACE, "doctor", "--json", "-p", str(pid)], check_rc=False)
        finally:
            prog.communicate("go\n", timeout=60)
        d = json.loads(p.stdout)
        c = {x["check"]: x for x in d["checks"]}
        want = nm_address(b["path"], "runtime.casgstatus")
        got = re.search(r"at 0x([0-9a-f]+)", c.get("casgstatus", {}).get("detail", ""))
        harness.check("doctor/%s/casgstatus" % b["variant"],
                      p.returncode == 0 and got is not None and want == int(got.group(1), 16),
                      "exit %d, doctor says %r, go tool nm says %s" % (
                          p.returncode, c.get("casgstatus"), want and hex(want)))
        harness.check("doctor/%s/go-version" % b["variant"],
                      b["go"] in c.get("go-binary", {}).get("detail", ""), repr(c.get("go-binary")))
    p = harness.run([harness.GOTRACE, "doctor", "/bin/true"], check_rc=False)
    harness.check("doctor/not-go", p.returncode == 1 and "FAIL  go-binary" in p.stdout, p.stdout[-600:])


def test_launch_duration():
    """Launch mode with -d: tracing stops, the program runs on untraced to
    its end, gotrace exits with its status."""
    require_bpf()
    b = newest()
    before = our_bpf_objects()
    tmp = tempfile.mkdtemp(prefix="gt-states-")
    try:
        out = os.path.join(tmp, "d.jsonl")
        t0 = time.time()
        p = harness.run([harness.GOTRACE, "states", "-q", "--format=jsonl", "-o", out, "-d", "300ms",
                         "--", b["path"], "-n", "500", "-exit", "5"], check_rc=False, timeout=120)
        took = time.time() - t0
        _, ok, _ = parse_prog_output(p.stdout)
        _, _, stats = parse_trace(out)
        harness.check("launch-duration/exit-status", p.returncode == 5 and ok,
                      "exit %d, ok line %s, stderr %s" % (p.returncode, ok, p.stderr[-600:]))
        harness.check("launch-duration/stopped-early",
                      stats is not None and stats["duration_ns"] < 0.9e9 and took > 1.0,
                      "trace lasted %s ns, program %.1fs" % (stats and stats["duration_ns"], took))
        check_no_leftovers("launch-duration", before)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pingpong_stats(buffer_size, rounds):
    """gotrace states -q over the newest build's ping-pong with the given
    --buffer-size: the finished process and its JSON Lines stats record
    (None if it wrote none)."""
    require_bpf()
    p = harness.run([harness.GOTRACE, "states", "-q", "--format=jsonl", "--no-summary",
                     "--buffer-size", buffer_size, "--", newest()["path"], "-pingpong",
                     str(rounds)], check_rc=False, timeout=120)
    stats = None
    for l in p.stdout.splitlines():
        if l.startswith('{"type":"stats"'):
            stats = json.loads(l)
    return p, stats


def test_drops_reported():
    """A ring buffer too small for the event rate: lost events are counted
    and reported (stats record and a warning), never silent; events seen
    plus events dropped cover every transition of the ping-pong (each
    round parks and wakes both goroutines: at least 4 transitions)."""
    rounds = 50000
    p, stats = pingpong_stats("4K", rounds)
    ok = p.returncode == 0 and stats is not None and stats["drops"] > 0 \
        and stats["events"] + stats["drops"] >= 4 * rounds and "dropped" in p.stderr
    harness.check("drops/reported", ok, "exit %d, stats %r, stderr %r"
                  % (p.returncode, stats, p.stderr[-300:]))


def test_early_wakeup():
    """The reader sleeps 50 ms between drains; the BPF side wakes it when
    a quarter of the buffer is unread.  A 1 MiB buffer holds ~26,000
    events, ~20 ms of the ping-pong (which makes ~1.5M a second under the
    probe): without the wakeup it would overflow every sleep.  With it,
    every transition arrives (each round: at least 4)."""
    rounds = 100000
    p, stats = pingpong_stats("1M", rounds)
    ok = p.returncode == 0 and stats is not None and stats["drops"] == 0 \
        and stats["events"] >= 4 * rounds
    harness.check("early-wakeup/no-drops", ok, "exit %d, stats %r, stderr %r"
                  % (p.returncode, stats, p.stderr[-300:]))
