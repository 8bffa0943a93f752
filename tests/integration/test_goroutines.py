"""gotrace goroutines -p PID against the runtime's own goroutine dump.

testprogs/parked parks goroutines in every common way (channels, select,
mutexes, WaitGroup, Cond, sleep, IO wait, a blocking system call, locked to
a thread, closures, method values, go f(args), inlined calls, generics,
labels, deep recursion, a goroutine started by another one), has a GC see
them all waiting, and on SIGUSR1 writes runtime.Stack(buf, true) and its
goroutine profile (debug=1 text) while they are all parked: the truth.
Then gotrace reads the same process from outside, and for every build in
the manifest (Go 1.17-1.27 x default / PIE / stripped / PIE-stripped):

- the dump: the same goroutines, and for each one the same text block as
  the runtime's (header with the status words, frames with arguments,
  file:line and offsets, elision, "created by ... in goroutine N"), except
  the dumping goroutine itself (running in the truth);
- --json: goid, status words, frames (func, file, line) and created_by
  equal the truth's, parsed from its text; wait_ns brackets the GC the
  program made (the runtime's waitsince is that collection's start);
- --group: the goroutine profile's debug=1 text, group for group (counts,
  PCs, labels, frame lines), the dumping goroutine's group aside;
- --pprof: `go tool pprof -traces` reads the profile, one sample per
  goroutine of the dump;
- Go 1.26+: with GODEBUG=tracebacklabels=1 the header carries the labels
  as the runtime prints them;
- --watch (parked -leak): the leaking group reported as growing with its
  creation site and counts within the program's own totals; goroutines
  blocked longer than --blocked-over reported once each, not a goroutine
  that sleeps briefly again and again at the same place;
- a moving target (parked -churn: goroutines changing state and stack size
  all the time): no garbage frame in any stack over 30 dumps, checked
  against the program's source (function order and call lines), and the
  changed goroutines were read again.
The same text comparison for testprogs/parkedcgo (cgo builds: goroutines
blocked in C, one blocked in a Go callback called from C).  Also: a clear
error and exit status 1 for a dead pid, a non-Go process and a kernel
thread.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import harness

HOST_GO = os.environ.get("GO", "/usr/local/go/bin/go")


def _builds(prog="parked"):
    out = [b for b in harness.testprog_builds()
           if b["prog"] == prog and b["goarch"] == harness.HOSTARCH]
    if not out:
        raise harness.Skip("no %s builds: run scripts/build-testprogs.sh" % prog)
    return sorted(out, key=lambda b: ([int(x) for x in b["go"][2:].split(".")], b["variant"]))


def _label(b):
    return "%s/%s" % (b["go"], b["variant"])


class Parked:
    """A running testprogs/parked whose truth files were written."""

    def __init__(self, path, env=None):
        self.dir = tempfile.mkdtemp(prefix="gotrace-goroutines.")
        self.out = os.path.join(self.dir, "truth.txt")
        self.p = subprocess.Popen([path, "-out", self.out], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  env=dict(os.environ, **(env or {})))
        line = self.p.stdout.readline()
        if not line:
            raise AssertionError("parked exited: %s" % self.p.stderr.read()[-500:])
        self.ready = json.loads(line)
        self.pid = self.ready["pid"]

    def dump(self):
        self.p.send_signal(signal.SIGUSR1)
        ev = json.loads(self.p.stdout.readline())
        assert ev["event"] == "dumped", ev
        with open(self.out) as f:
            self.truth = f.read()
        self.group = None
        if os.path.exists(self.out + ".group"):
            with open(self.out + ".group") as f:
                self.group = f.read()

    def close(self):
        self.p.kill()
        self.p.wait()
        shutil.rmtree(self.dir, True)


def _blocks(text):
    """goid -> the goroutine's block of the dump text."""
    out = {}
    for b in text.strip("\n").split("\n\n"):
        m = re.match(r"goroutine (\d+) ", b)
        if m:
            out[int(m.group(1))] = b.strip("\n")
    return out


def _parse_block(b):
    """(status words, [(func, file, line)], created_by (func, file, line, goid) or None)."""
    lines = b.split("\n")
    status = re.match(r"goroutine \d+ \[([^\]]*)\]", lines[0]).group(1)
    status = re.sub(r", \d+ minutes", "", status).replace(", locked to thread", "")
    frames, created = [], None
    i = 1
    while i + 1 < len(lines):
        head, pos = lines[i], lines[i + 1]
        if head.startswith("..."):
            i += 1
            continue
        m = re.match(r"\t(.*):(\d+)(?: \+0x[0-9a-f]+)?$", pos)
        if not m:
            i += 1
            continue
        if head.startswith("created by "):
            c = re.match(r"created by (\S+)(?: in goroutine (\d+))?$", head)
            created = (c.group(1), m.group(1), int(m.group(2)),
                       int(c.group(2)) if c.group(2) else None)
        else:
            # the argument list: the last parentheses, which hold no others
            frames.append((re.sub(r"\([^()]*\)$", "", head), m.group(1), int(m.group(2))))
        i += 2
    return status, frames, created


def _first_diff(a, b):
    al, bl = a.split("\n"), b.split("\n")
    for k in range(max(len(al), len(bl))):
        x = al[k] if k < len(al) else "<none>"
        y = bl[k] if k < len(bl) else "<none>"
        if x != y:
            return "line %d: truth %r, gotrace %r" % (k + 1, x, y)
    return ""


def _gotrace(args, **kw):
    return harness.run([harness.GOTRACE, "goroutines", "-q"] + args, **kw)


def _check_dump(name, pk, ours, kinds=True):
    truth, mine = _blocks(pk.truth), _blocks(ours)
    dumper = pk.ready["dumper"]
    tset, mset = set(truth) - {dumper}, set(mine) - {dumper}
    harness.check(name + ": same goroutines", tset == mset,
                  "only in truth %s, only in gotrace %s" % (sorted(tset - mset), sorted(mset - tset)))
    bad = [g for g in sorted(tset & mset) if truth[g] != mine[g]]
    harness.check(name + ": same text, %d goroutines" % len(tset & mset), not bad,
                  "goroutines %s differ; goroutine %d: %s" % (
                      bad, bad[0], _first_diff(truth[bad[0]], mine[bad[0]])) if bad else "")
    if not kinds:
        return
    # The kinds the program parks must all be there.
    words = {_parse_block(truth[g])[0] for g in tset}
    harness.check(name + ": parking kinds present", len(words) >= 9 and "syscall" in words and
                  "IO wait" in words and "sleep" in words, str(sorted(words)))


def _check_json(name, pk, js, t0, t1):
    truth = _blocks(pk.truth)
    dumper = pk.ready["dumper"]
    objs = {o["goid"]: o for o in map(json.loads, js.splitlines())}
    bad, waits = [], []
    for g, b in truth.items():
        if g == dumper or g not in objs:
            continue
        o = objs[g]
        status, frames, created = _parse_block(b)
        words = o["wait_reason"] or o["status"]
        got = [(f["func"], f["file"], f["line"]) for f in o.get("stack", [])]
        # the text elides the middle of deep stacks; the JSON keeps them all
        if "frames elided" in b or "additional frames elided" in b:
            got = got[:50] + got[-50:] if len(got) > 100 and "frames elided..." in b else got[:len(frames)]
        cb = o.get("created_by")
        cb = (cb["func"], cb["file"], cb["line"], cb["goid"]) if cb else None
        if (words, got, cb) != (status, frames, created):
            bad.append((g, (words, status), got[:2], frames[:2], cb, created))
        if o["wait_ns"] is not None:
            waits.append(o["wait_ns"])
    harness.check(name + ": --json matches the dump", not bad, str(bad[:2]))
    # waitsince = start of the GC the program made: within [gc_start, gc_end],
    # so wait_ns, read between t0 and t1, lies in [t0 - gc_end, t1 - gc_start].
    lo, hi = t0 - pk.ready["gc_end"], t1 - pk.ready["gc_start"]
    out = [w for w in waits if not lo <= w <= hi]
    harness.check(name + ": wait_ns from the GC's start", len(waits) >= 10 and not out,
                  "%d waits, outside [%d, %d]: %s" % (len(waits), lo, hi, out[:3]))


def _groups(text):
    """The debug=1 text as {'@ pcs' line + labels + frame lines: count}."""
    out = {}
    for rec in text.split("\n\n"):
        lines = [l for l in rec.strip("\n").split("\n") if not l.startswith("goroutine profile:")]
        if not lines:
            continue
        m = re.match(r"(\d+) (@.*)$", lines[0])
        if not m:
            continue
        out["\n".join([m.group(2)] + lines[1:])] = int(m.group(1))
    return out


def _check_group(name, pk, ours):
    truth, mine = _groups(pk.group), _groups(ours)
    # The dumping goroutine's stack differs (writing the profile / parked).
    truth = {k: v for k, v in truth.items() if "main.main+" not in k}
    mine = {k: v for k, v in mine.items() if "main.main+" not in k}
    diff = [(k.split("\n")[2:4], truth.get(k), mine.get(k)) for k in set(truth) | set(mine)
            if truth.get(k) != mine.get(k)]
    harness.check(name + ": --group matches the profile, %d groups" % len(truth), not diff,
                  str(diff[:3]))
    total = re.match(r"goroutine profile: total (\d+)", ours)
    want = re.match(r"goroutine profile: total (\d+)", pk.group)
    harness.check(name + ": --group total", total and want and total.group(1) == want.group(1),
                  "%s vs %s" % (total and total.group(0), want and want.group(0)))


def _check_pprof(name, pk, nlisted):
    if not os.access(HOST_GO, os.X_OK):
        harness.skip(name + ": --pprof", "no Go toolchain to run go tool pprof")
        return
    path = os.path.join(pk.dir, "g.pb.gz")
    _gotrace(["-p", str(pk.pid), "--pprof", path])
    p = harness.run([HOST_GO, "tool", "pprof", "-traces", path], check_rc=False,
                    env=dict(os.environ, GOTOOLCHAIN="local", HOME=pk.dir))
    samples = p.stdout.count("-----------+-------")
    harness.check(name + ": --pprof read by go tool pprof", p.returncode == 0 and
                  samples >= nlisted - 1 and "main.chanRecv" in p.stdout and
                  "goroutine" in p.stdout,
                  "rc %d, %d samples for %d goroutines: %s" % (
                      p.returncode, samples, nlisted, (p.stderr or p.stdout)[-300:]))


def test_matches_runtime_dump():
    """Every build: dump, --json, --group and (newest Go) --pprof vs the truth."""
    harness.need_root(hint="run make")
    builds = _builds()
    newest = builds[-1]["go"]
    for b in builds:
        name = _label(b)
        pk = Parked(b["path"])
        try:
            pk.dump()
            ours = _gotrace(["-p", str(pk.pid)]).stdout
            _check_dump(name, pk, ours)
            t0 = time.monotonic_ns()
            js = _gotrace(["-p", str(pk.pid), "--json"]).stdout
            t1 = time.monotonic_ns()
            _check_json(name, pk, js, t0, t1)
            _check_group(name, pk, _gotrace(["-p", str(pk.pid), "--group"]).stdout)
            if b["go"] == newest and b["variant"] in ("default", "pie-stripped"):
                _check_pprof(name, pk, len(_blocks(ours)))
        finally:
            pk.close()


def test_cgo_matches_runtime_dump():
    """testprogs/parkedcgo (goroutines blocked in C, one in a Go callback
    from C): the dump equals the runtime's, every cgo build."""
    harness.need_root(hint="run make")
    for b in _builds("parkedcgo"):
        pk = Parked(b["path"])
        try:
            pk.dump()
            ours = _gotrace(["-p", str(pk.pid)]).stdout
            _check_dump("cgo " + _label(b), pk, ours, kinds=False)
            in_c = [t for t in _blocks(pk.truth).values() if "_Cfunc_c_" in t]
            harness.check("cgo %s: goroutines in C and in a callback" % _label(b), len(in_c) >= 3,
                          "%d" % len(in_c))
        finally:
            pk.close()


def _source_lines(patterns):
    """Line numbers in testprogs/parked/main.go of the lines holding each text."""
    with open(os.path.join(harness.ROOT, "testprogs", "parked", "main.go")) as f:
        lines = f.read().split("\n")
    return {p: [i + 1 for i, l in enumerate(lines) if p in l] for p in patterns}


def test_moving_target():
    """parked -churn 8: 16 goroutines passing a value around through
    recursion of changing depth (stacks grow and shrink) and yielding, so
    they change state under the reader all the time.  30 dumps each of the
    newest default and PIE-stripped builds: every churn goroutine's stack
    is either unavailable (running) or exactly runtime.Gosched?, then
    main.churnRecurse at its send, yield or recursive call lines, then
    main.churnLoop at its call line, created by main.startChurn (the
    innermost frame anywhere in its function's lines: preemption stops a
    goroutine at any instruction): any other frame, order or line is a
    garbage frame.  The reader must have re-read
    goroutines that changed (re-reads counted on stderr)."""
    harness.need_root(hint="run make")
    src = _source_lines(["out <- v", "runtime.Gosched()", "return churnRecurse(n-1",
                         "churnRecurse(v%40", "go churnLoop(", "func churnRecurse(",
                         "func churnLoop(", "for v := range in"])
    recurse_ok = set(src["out <- v"] + src["runtime.Gosched()"] + src["return churnRecurse(n-1"])
    # the lines of the two functions, declaration to closing brace
    with open(os.path.join(harness.ROOT, "testprogs", "parked", "main.go")) as f:
        text = f.read().split("\n")
    body_lines = set()
    for start in src["func churnRecurse("] + src["func churnLoop("]:
        end = start
        while text[end - 1] != "}":
            end += 1
        body_lines |= set(range(start, end + 1))
    builds = [b for b in _builds() if b["variant"] in ("default", "pie-stripped")]
    newest = builds[-1]["go"]
    for b in [b for b in builds if b["go"] == newest]:
        name = "churn " + _label(b)
        p = subprocess.Popen([b["path"], "-churn", "8"], stdout=subprocess.PIPE, text=True)
        try:
            json.loads(p.stdout.readline())
            time.sleep(0.2)  # main has started the pairs
            bad, seen, rereads, running, skipped = [], 0, 0, 0, 0
            for _ in range(30):
                r = harness.run([harness.GOTRACE, "goroutines", "-p", str(p.pid)])
                m = re.search(r"\((\d+) re-reads\)", r.stderr)
                rereads += int(m.group(1)) if m else 0
                m = re.search(r"(\d+) skipped as inconsistent", r.stderr)
                skipped += int(m.group(1)) if m else 0
                for g, blk in _blocks(r.stdout).items():
                    if "\ncreated by main.startChurn" not in blk:
                        continue
                    seen += 1
                    if "stack unavailable" in blk:
                        running += 1
                        continue
                    _, frames, created = _parse_block(blk)
                    names = [f[0] for f in frames]
                    k = 1 if names and names[0] == "runtime.Gosched" else 0
                    # The innermost frame may be anywhere in its function: a
                    # goroutine preempted asynchronously (or at the stack
                    # check) stops at any instruction.
                    inner = body_lines
                    ok = (len(names) >= k + 1 and names[-1] == "main.churnLoop" and
                          (frames[-1][2] in src["churnRecurse(v%40"] or
                           (len(names) == k + 1 and frames[-1][2] in body_lines)) and
                          all(n == "main.churnRecurse" for n in names[k:-1]) and
                          all(f[2] in recurse_ok or (i == k and f[2] in inner)
                              for i, f in enumerate(frames[:-1]) if i >= k) and
                          created and created[0] == "main.startChurn" and
                          created[2] in src["go churnLoop("])
                    if not ok:
                        bad.append((g, frames[:3], frames[-2:], created))
            # goroutines still changing after the re-reads are skipped, not shown
            harness.check(name + ": no garbage frame in %d churn stacks (%d running, %d skipped)" % (
                              seen, running, skipped),
                          seen >= 30 * 16 // 2 and not bad, "%d bad: %s" % (len(bad), bad[:2]))
            harness.check(name + ": changed goroutines read again", rereads > 0,
                          "%d re-reads in 30 dumps" % rereads)
        finally:
            p.kill()
            p.wait()


def test_watch_leak():
    """parked -leak 100ms leaks a goroutine (blocked in main.leakOne, started
    by main.leaker) every 100 ms and prints its running total.  --watch
    300ms --count 8 --json --blocked-over 1s must report that group as
    growing, with its counts within the program's own totals, and report
    the goroutines parked for ever (main.sleeper's hour-long sleep among
    them) as blocked, but not main.leaker's own goroutine, which sleeps
    100 ms at a time (same place, yet it runs in between)."""
    harness.need_root(hint="run make")
    b = [b for b in _builds() if b["variant"] == "default"][-1]
    p = subprocess.Popen([b["path"], "-leak", "100ms"], stdout=subprocess.PIPE, text=True)
    totals = []

    def reader():
        for line in p.stdout:
            ev = json.loads(line)
            if ev.get("event") == "leaked":
                totals.append(ev["total"])

    try:
        json.loads(p.stdout.readline())
        import threading
        threading.Thread(target=reader, daemon=True).start()
        r = _gotrace(["-p", str(p.pid), "--watch", "300ms", "--count", "8", "--json",
                      "--blocked-over", "1s"], timeout=120)
        evs = [json.loads(l) for l in r.stdout.splitlines()]
        snaps = [e for e in evs if e["type"] == "snapshot"]
        grow = [e for e in evs if e["type"] == "growing" and "main.leakOne" in e["where"]]
        harness.check("watch: 8 snapshots", len(snaps) == 8, str(len(snaps)))
        ok = bool(grow) and all("main.leaker" in e["created_by"] for e in grow)
        last = grow[-1]["counts"] if grow else []
        ok = ok and all(x < y for x, y in zip(last, last[1:])) and totals and \
            last[-1] <= totals[-1] and last[-1] >= 3
        harness.check("watch: leak reported with its creation site", ok,
                      "growing %s, program totals %s" % (grow[-1:] if grow else None, totals[-1:]))
        blocked = [e for e in evs if e["type"] == "blocked"]
        where = [e["where"] for e in blocked]
        harness.check("watch: blocked goroutines reported, all over 1s",
                      any("main.sleeper" in w or "time.Sleep" in w for w in where) and
                      all(e["blocked_ns"] > 1e9 for e in blocked) and
                      any("main.chanRecv" in w for w in where),
                      "%d blocked: %s" % (len(blocked), where[:5]))
        leaker = [e for e in blocked if "main.leaker" not in e["created_by"] and
                  "time.Sleep" in e["where"] and e["created_by"].startswith("main.main")]
        harness.check("watch: the leaker's short sleeps are not one long block", not leaker,
                      str(leaker[:2]))
        once = len({e["goid"] for e in blocked}) == len(blocked)
        harness.check("watch: each blocked goroutine reported once", once, str(len(blocked)))
    finally:
        p.kill()
        p.wait()


def test_labels_in_header():
    """Go 1.26+ with GODEBUG=tracebacklabels=1: the labels in the header."""
    harness.need_root(hint="run make")
    builds = [b for b in _builds() if harness.go_minor(b["go"]) >= 26 and
              b["variant"] in ("default", "pie-stripped")]
    if not builds:
        raise harness.Skip("no Go 1.26+ parked build")
    for b in builds:
        pk = Parked(b["path"], env={"GODEBUG": "tracebacklabels=1"})
        try:
            pk.dump()
            ours = _gotrace(["-p", str(pk.pid)]).stdout
            truth = _blocks(pk.truth)
            lab = [g for g, t in truth.items() if "r-17" in t.split("\n")[0]]
            harness.check(_label(b) + ": truth has labels in a header", len(lab) == 1,
                          str([t.split("\n")[0] for t in truth.values()][:3]))
            mine = _blocks(ours)
            harness.check(_label(b) + ": labelled header", lab and
                          mine.get(lab[0], "").split("\n")[0] == truth[lab[0]].split("\n")[0],
                          "%r vs %r" % (lab and mine.get(lab[0], "").split("\n")[0],
                                        lab and truth[lab[0]].split("\n")[0]))
        finally:
            pk.close()


def test_errors():
    """Dead pid, non-Go process, kernel thread, another user's process: one
    line, exit 1 (2 for a bad pid)."""
    harness.need_root(hint="run make")
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        dead = subprocess.Popen(["true"])
        dead.wait()
        cases = [("dead pid", str(dead.pid), "no process"),
                 ("not Go", str(sleeper.pid), "not a Go program"),
                 ("kernel thread", "2", "kernel thread"),
                 ("bad pid", "abc", "invalid pid")]
        for what, pid, want in cases:
            p = harness.run([harness.GOTRACE, "goroutines", "-p", pid], check_rc=False)
            lines = p.stderr.strip().split("\n")
            harness.check("error: " + what, p.returncode in (1, 2) and len(lines) == 1 and
                          want in lines[0] and not p.stdout,
                          "rc %d, stderr %r" % (p.returncode, p.stderr))
        # A Go release we don't read (1.16: no table of its dump rules).
        old = [b for b in harness.testprog_builds() if b["prog"] == "goroutines" and
               b["variant"] == "default" and b["goarch"] == harness.HOSTARCH and
               0 < harness.go_minor(b["go"]) < 17]
        if old:
            g = subprocess.Popen([old[0]["path"], "-loop"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            try:
                time.sleep(0.3)
                p = harness.run([harness.GOTRACE, "goroutines", "-p", str(g.pid)], check_rc=False)
                lines = p.stderr.strip().split("\n")
                harness.check("error: Go %s" % old[0]["go"], p.returncode == 1 and
                              len(lines) == 1 and "Go 1.17 - 1.27" in lines[0] and
                              old[0]["go"] in lines[0], "rc %d, stderr %r" % (p.returncode, p.stderr))
            finally:
                g.kill()
                g.wait()
        # Another user's process: needs ptrace permission.
        if shutil.which("setpriv"):
            pk = Parked(_builds()[-1]["path"])
            try:
                p = harness.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                 harness.GOTRACE, "goroutines", "-p", str(pk.pid)],
                                check_rc=False)
                lines = p.stderr.strip().split("\n")
                harness.check("error: no permission", p.returncode == 1 and len(lines) == 1 and
                              "ptrace permission" in lines[0] and not p.stdout,
                              "rc %d, stderr %r" % (p.returncode, p.stderr))
            finally:
                pk.close()
        else:
            harness.skip("error: no permission", "no setpriv to run gotrace as another user")
    finally:
        sleeper.kill()
        sleeper.wait()
