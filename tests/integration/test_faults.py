"""Fault injection: gotrace states and funcgraph interrupted, killed, starved
of disk, cut off from their reader, and left by their target, in every phase.
After each case the contract a user sees (docs/faults.md):

- gotrace exits (0 when a trace was written, else 1 with one line saying
  why), never hangs, never dies of SIGPIPE;
- every BPF program it loaded is gone (the program ids are read from
  /proc/GOTRACE/fdinfo while it runs, so concurrent tracers on this machine
  are not counted) and no uprobe_events entry of libbpf's names its pid;
- the file named by -o is either the user's old file byte for byte or the
  complete new output, and no temporary is left next to it;
- the target is alive and its own workload then completes and prints its
  "ok" line (a probe left in its code would kill it with SIGTRAP).

Phases are reached deterministically with GOTRACE_FAULT_SIGNAL=PHASE[:SIG]
(tracing/signals.h): gotrace raises SIG there, or stops itself (STOP) so the
test can act from outside (look at its BPF programs, kill the target) and
let it go on.  Random kills use a seeded RNG; the seed is printed.
"""
import json
import os
import random
import re
import signal
import subprocess
import tempfile
import time

import harness

PHASES = ["target", "symbols", "load", "attach", "trace", "write"]
BEFORE_TRACE = {"target", "symbols", "load", "attach"}


class Target:
    """The states test program waiting on stdin: attached to, then asked
    to run its workload (which must complete) once gotrace is gone."""

    def __init__(self):
        self.p = subprocess.Popen([harness.newest_build("states"), "-wait-stdin", "-n", "3"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if '"ready"' not in line:
            raise AssertionError("states test program did not start: %r" % line)
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def finish(self):
        """Run the workload; (ok, detail)."""
        if not self.alive():
            return False, "target died: exit %s" % self.p.returncode
        try:
            out, err = self.p.communicate("go\n", timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return False, "target hung after gotrace"
        ok = self.p.returncode == 0 and '"event":"ok"' in out.replace(" ", "")
        return ok, "exit %d, stdout %r, stderr %r" % (self.p.returncode, out[-200:], err[-200:])

    def kill(self):
        if self.alive():
            self.p.kill()
        self.p.wait()


def _prog_exists(pid_):
    return subprocess.run(["bpftool", "prog", "show", "id", str(pid_)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def _left_behind(ids, gotrace_pid, wait=10.0):
    """Programs of ours still loaded (after up to `wait` s: freeing is
    deferred by RCU), and uprobe_events entries naming our pid."""
    deadline = time.time() + wait
    left = set(ids)
    while left and time.time() < deadline:
        left = {i for i in left if _prog_exists(i)}
        if left:
            time.sleep(0.2)
    events = []
    for tr in ("/sys/kernel/tracing/uprobe_events", "/sys/kernel/debug/tracing/uprobe_events"):
        try:
            with open(tr) as f:
                events = [l for l in f if "_%d_" % gotrace_pid in l]
            break
        except OSError:
            continue
    return sorted(left), events


def _stopped(pid, timeout=60):
    """Wait until pid is stopped (state T) or gone; True when stopped."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        if state in ("T", "t"):
            return True
        if state in ("Z", "X"):
            return False
        time.sleep(0.01)
    return False


def _cmdline(cmd, out, pid, extra=()):
    if cmd == "states":
        return [harness.GOTRACE, "states", "-p", str(pid), "-d", "1s", "-o", out] + list(extra)
    return [harness.GOTRACE, "funcgraph", "-p", str(pid), "-d", "1s", "-o", out] + list(extra) + \
        ["main.*"]


def _complete(cmd, text):
    """The -o output of a trace that ended normally: text whose summary
    (states: the goroutine table; funcgraph: the per-function table) is
    there and whole."""
    if cmd == "states":
        return "GOID" in text and text.endswith("\n")
    return "CALLS" in text and "FUNCTION" in text and text.endswith("\n")


def _dir_clean(d, name):
    return sorted(os.listdir(d)) == [name]


def _case(label, cmd, env_fault=None, extra=(), at_stop=None, expect_trace=None,
          loaded=False):
    """One run of cmd on a fresh target with a precious -o file.
    env_fault: GOTRACE_FAULT_SIGNAL; at_stop(gotrace_popen, target) runs
    while gotrace is stopped there (then it gets SIGCONT).  expect_trace:
    True (complete output, exit 0), False (old file, exit 1, one line), None
    (either, as a random signal may land before or after tracing began).
    loaded: gotrace stops where its BPF programs are loaded, so the check
    that they are gone afterwards must have seen some."""
    t = Target()
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.txt")
        with open(out, "w") as f:
            f.write("precious\n")
        env = dict(os.environ)
        if env_fault:
            env["GOTRACE_FAULT_SIGNAL"] = env_fault
        g = subprocess.Popen(_cmdline(cmd, out, t.pid, extra), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
        ids = set()
        if at_stop:
            if _stopped(g.pid):
                ids |= harness.bpf_held(g.pid)[0]
                at_stop(g, t)
                os.kill(g.pid, signal.SIGCONT)
            else:
                harness.check(label + ": reached the phase", False, "gotrace never stopped")
        try:
            _, err = g.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            g.kill()
            g.communicate()
            t.kill()
            harness.check(label + ": exits", False, "gotrace hung")
            return
        with open(out) as f:
            text = f.read()
        clean = _dir_clean(d, "out.txt")
    left, events = _left_behind(ids, g.pid)
    tok, tdetail = t.finish()
    lines = err.strip().splitlines()
    if expect_trace is True:
        outcome = g.returncode == 0 and _complete(cmd, text)
    elif expect_trace is False:
        outcome = g.returncode == 1 and text == "precious\n" and \
            len([l for l in lines if l.startswith("gotrace:")]) == 1
    else:
        outcome = (g.returncode == 0 and _complete(cmd, text)) or \
            (g.returncode == 1 and text == "precious\n")
    harness.check(label, outcome and clean and not left and not events and tok and
                  (ids or not loaded),
                  "exit %d, out %r..., dir clean %s, programs seen %s left %s, uprobe_events %s, "
                  "target: %s, stderr %r" % (g.returncode, text[:40], clean, sorted(ids), left,
                                             events, tdetail, err[-400:]))


def test_signal_in_every_phase():
    """SIGINT raised at each phase, for states and funcgraph: before tracing
    nothing is attached and the old file stays; from tracing on the trace
    is written whole."""
    harness.need_root()
    for cmd in ("states", "funcgraph"):
        for ph in PHASES:
            _case("%s: SIGINT at %s" % (cmd, ph), cmd, env_fault=ph,
                  expect_trace=ph not in BEFORE_TRACE)


def test_term_hup_single_attach():
    """SIGTERM and SIGHUP act as SIGINT: during a one-uprobe-per-probe
    attach (--attach single) and while reading symbols."""
    harness.need_root()
    _case("funcgraph --attach single: SIGTERM during attach", "funcgraph", env_fault="attach:TERM",
          extra=["--attach", "single"], expect_trace=False)
    _case("states --attach single: SIGHUP during attach", "states", env_fault="attach:HUP",
          extra=["--attach", "single"], expect_trace=False)
    _case("states: SIGHUP after the symbols", "states", env_fault="symbols:HUP",
          expect_trace=False)


def test_signal_from_outside():
    """gotrace stopped at a phase gets SIGTERM from another process (as a
    service manager sends it), with its BPF programs loaded: they are gone
    after it exits."""
    harness.need_root()
    for cmd, ph in (("states", "load"), ("funcgraph", "attach"), ("states", "trace")):
        _case("%s: SIGTERM from outside at %s" % (cmd, ph), cmd, env_fault=ph + ":STOP",
              at_stop=lambda g, t: os.kill(g.pid, signal.SIGTERM),
              expect_trace=ph not in BEFORE_TRACE, loaded=True)


def test_target_exits_during_attach():
    """The target dies while gotrace attaches (killed while gotrace is
    stopped after its first single uprobe, and with uprobe_multi before the
    link): one line saying the pid exited, exit 1, nothing left."""
    harness.need_root()
    for cmd, fault, extra in (("funcgraph", "attach:STOP", ["--attach", "single"]),
                              ("states", "load:STOP", [])):
        t = Target()
        env = dict(os.environ, GOTRACE_FAULT_SIGNAL=fault)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "out.txt")
            with open(out, "w") as f:
                f.write("precious\n")
            g = subprocess.Popen(_cmdline(cmd, out, t.pid, extra), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env=env)
            ids = set()
            if _stopped(g.pid):
                ids = harness.bpf_held(g.pid)[0]
                t.kill()
                os.kill(g.pid, signal.SIGCONT)
            try:
                _, err = g.communicate(timeout=600)
            except subprocess.TimeoutExpired:
                g.kill()
                g.communicate()
                err = "hung"
            with open(out) as f:
                kept = f.read() == "precious\n"
            clean = _dir_clean(d, "out.txt")
        left, events = _left_behind(ids, g.pid)
        t.kill()
        lines = err.strip().splitlines()
        harness.check("%s %s: target gone during attach" % (cmd, " ".join(extra)),
                      g.returncode == 1 and lines and "exited" in lines[-1] and
                      "uprobe_multi" not in err and kept and clean and ids and not left and
                      not events,
                      "exit %s, programs seen %s left %s, stderr %r" % (g.returncode, sorted(ids),
                                                                        left, err[-400:]))


def _random_kills(sig, n, seed):
    rnd = random.Random(seed)
    for i in range(n):
        cmd = rnd.choice(["states", "funcgraph"])
        delay = rnd.uniform(0.0, 1.6)
        t = Target()
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "out.txt")
            with open(out, "w") as f:
                f.write("precious\n")
            g = subprocess.Popen(_cmdline(cmd, out, t.pid), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            ids, t0 = set(), time.time()
            while time.time() - t0 < delay and g.poll() is None:
                ids |= harness.bpf_held(g.pid)[0]
                time.sleep(0.02)
            if g.poll() is None:
                os.kill(g.pid, sig)
            try:
                _, err = g.communicate(timeout=600)
            except subprocess.TimeoutExpired:
                g.kill()
                g.communicate()
                err = "hung"
            with open(out) as f:
                text = f.read()
            clean = _dir_clean(d, "out.txt")
        left, events = _left_behind(ids, g.pid)
        tok, tdetail = t.finish()
        if sig == signal.SIGKILL:
            # killed before the commit: the old file; killed after it (the
            # rename is done, gotrace is releasing its objects) or not
            # killed at all: the whole new trace, whatever the exit status
            ok_out = text == "precious\n" or _complete(cmd, text)
        else:
            ok_out = (g.returncode == 0 and _complete(cmd, text)) or \
                (g.returncode == 1 and text == "precious\n")
        harness.check("%s: %s after %.2fs (seed %d, run %d)" % (cmd, signal.Signals(sig).name,
                                                                delay, seed, i),
                      ok_out and clean and not left and not events and tok,
                      "exit %s, out %r..., dir clean %s, programs left %s (seen %s), target: %s, "
                      "stderr %r" % (g.returncode, text[:40], clean, left, sorted(ids), tdetail,
                                     err[-300:]))


def test_random_kills():
    """SIGKILL and SIGINT at random moments of a run (seeded; the seed is in
    each result's name): a SIGKILL leaves the old file and no temporary, a
    SIGINT the old file or a complete trace; never a program of ours or a
    probe in the target."""
    harness.need_root()
    seed = int(os.environ.get("GOTRACE_FAULT_SEED", time.time()))
    harness.log("fault seed %d (GOTRACE_FAULT_SEED=%d repeats it)" % (seed, seed))
    _random_kills(signal.SIGKILL, 4, seed)
    _random_kills(signal.SIGINT, 4, seed + 1)


def test_stdout_write_errors():
    """stdout that cannot be written: /dev/full (ENOSPC), a pipe whose
    reader went away (EPIPE), a terminal whose other side closed (EIO): one
    line naming stdout and the error, exit 1, programs released, the target
    unharmed."""
    harness.need_root()
    for cmd in ("states", "funcgraph"):
        for how in ("full", "pipe", "tty"):
            t = Target()
            argv = [harness.GOTRACE, cmd, "-p", str(t.pid), "-d", "20s"] + \
                (["main.*"] if cmd == "funcgraph" else [])
            master = None
            if how == "full":
                with open("/dev/full", "w") as full:
                    g = subprocess.Popen(argv, stdout=full, stderr=subprocess.PIPE, text=True)
            elif how == "tty":
                master, slave = os.openpty()
                g = subprocess.Popen(argv, stdout=slave, stderr=subprocess.PIPE, text=True)
                os.close(slave)
            else:
                g = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
            ids, t0 = set(), time.time()
            # wait for tracing, then make the target produce output
            while g.poll() is None and time.time() - t0 < 60:
                ids |= harness.bpf_held(g.pid)[0]
                if ids and time.time() - t0 > 1.5:
                    break
                time.sleep(0.05)
            if how == "pipe":
                g.stdout.close()
            if master is not None:
                os.close(master)
            t.p.stdin.write("go\n")
            t.p.stdin.flush()
            try:
                err = g.stderr.read()
                g.wait(timeout=120)
            except subprocess.TimeoutExpired:
                g.kill()
                g.wait()
                err = "hung"
            left, events = _left_behind(ids, g.pid)
            try:
                out, terr = t.p.communicate(timeout=60)
                tok = t.p.returncode == 0 and '"event":"ok"' in out.replace(" ", "")
            except subprocess.TimeoutExpired:
                t.kill()
                tok = False
            want = {"full": "No space left on device", "pipe": "Broken pipe",
                    "tty": "Input/output error"}[how]
            errs = [l for l in err.splitlines() if l.startswith("gotrace:")]
            harness.check("%s: stdout %s" % (cmd, how),
                          g.returncode == 1 and len(errs) == 1 and "stdout" in errs[0] and
                          want in errs[0] and ids and not left and not events and tok,
                          "exit %s, programs seen %s left %s, target ok %s, stderr %r"
                          % (g.returncode, sorted(ids), left, tok, err[-400:]))


def test_drop_counts_agree():
    """A 4 KiB ring buffer under a ping-pong drops events: stderr, the text
    output's last line, the jsonl stats record and the Chrome trace's
    otherData give the same count (a text run and a jsonl run of each
    command)."""
    harness.need_root()
    for cmd in ("states", "funcgraph"):
        # states: a channel ping-pong; funcgraph: its test program's calls
        pat = ["main.*"] if cmd == "funcgraph" else []
        prog = [harness.newest_build("states"), "-pingpong", "100000"] if cmd == "states" else \
            [harness.newest_build("funcgraph")]
        with tempfile.TemporaryDirectory() as d:
            tj = os.path.join(d, "t.json")
            p = harness.run([harness.GOTRACE, cmd, "--buffer-size", "4K", "--json", tj] + pat +
                            ["--"] + prog, check_rc=False)
            m = re.search(r"warning: (\d+) events dropped", p.stderr)
            other = json.load(open(tj))["otherData"] if os.path.exists(tj) else {}
            tail = re.search(r"^(\d+) events dropped \(ring buffer full\)", p.stdout, re.M)
            harness.check("%s text: drops agree" % cmd,
                          p.returncode == 0 and m and tail and int(m.group(1)) > 0 and
                          m.group(1) == tail.group(1) == other.get("dropped_events") ==
                          other.get("lost_events"),
                          "exit %d, stderr %s, text %s, otherData %s" % (
                              p.returncode, m and m.group(0), tail and tail.group(0), other))
            p = harness.run([harness.GOTRACE, cmd, "--buffer-size", "4K", "--format", "jsonl",
                             "--json", tj] + pat + ["--"] + prog,
                            check_rc=False)
            m = re.search(r"warning: (\d+) events dropped", p.stderr)
            stats = [json.loads(l) for l in p.stdout.splitlines() if l.startswith('{"type":"stats"')]
            other = json.load(open(tj))["otherData"] if os.path.exists(tj) else {}
            harness.check("%s jsonl: drops agree" % cmd,
                          p.returncode == 0 and m and len(stats) == 1 and
                          str(stats[0]["drops"]) == m.group(1) == other.get("dropped_events"),
                          "exit %d, stderr %s, stats %s, otherData %s" % (
                              p.returncode, m and m.group(0), stats, other))


def test_corrupt_pclntab():
    """A .gopclntab whose header is overwritten: the message says the table
    is corrupt, not that the section is missing."""
    with tempfile.TemporaryDirectory() as d:
        b = os.path.join(d, "corrupt")
        with open(harness.newest_build("states"), "rb") as f:
            data = bytearray(f.read())
        out = subprocess.run(["readelf", "-S", "-W", harness.newest_build("states")],
                             stdout=subprocess.PIPE, text=True).stdout
        off = None
        for l in out.splitlines():
            if " .gopclntab " in l:
                off = int(l.split("]", 1)[1].split()[3], 16)
        if off is None:
            raise AssertionError("no .gopclntab in the states test program")
        data[off:off + 4] = b"\0\0\0\0"
        with open(b, "wb") as f:
            f.write(data)
        os.chmod(b, 0o755)
        p = harness.run([harness.GOTRACE, "info", b], check_rc=False)
        harness.check("info: corrupt .gopclntab", p.returncode == 1 and
                      "corrupt Go symbol table" in p.stderr and "no .gopclntab" not in p.stderr,
                      p.stderr)
