"""Integration tests of `gotrace top` (root, real kernel, real Go processes,
a real terminal through tmux).

The truth is testprogs/topmix: it starts a goroutine mix it was told on
its command line (N blocked on a channel receive, M spinning on the CPU,
K in nanosleep(2) system calls, S in time.Sleep loops) and says so once
everything runs.  The snapshots of --batch and the screen tmux captures
must show those counts, the states the goroutines are in, and their wait
reasons; the keys must change the screen as docs/top.md says; and the
terminal must be as it was before after q, Ctrl-C, SIGTERM and the
target's exit.
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

MIX = {"chan": 6, "spin": 2, "sys": 3, "sleep": 4}
BIG = {"chan": 23, "spin": 2, "sys": 3, "sleep": 5}


def _builds():
    out = [b for b in harness.testprog_builds()
           if b["prog"] == "topmix" and b["variant"] == "default" and
           b.get("goarch") == harness.HOSTARCH]
    if not out:
        raise harness.Skip("no topmix builds: run scripts/build-testprogs.sh")
    out.sort(key=lambda b: harness.go_minor(b["go"]))
    return out


class Mix:
    """topmix running with mix; .ready is what it says about itself."""

    def __init__(self, path, mix, extra=()):
        args = [path] + ["-%s=%d" % kv for kv in mix.items()] + list(extra)
        if "-exit-after" not in " ".join(extra):
            args.append("-loop")
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True)
        self.ready = json.loads(self.p.stdout.readline())
        self.pid = self.p.pid

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def _by_start(snap):
    return {r["start"]: r for r in snap["rows"]}


def _check_groups(name, snap, mix):
    """The groups by start function of one snapshot against the mix."""
    iv = snap["interval_ns"]
    g = _by_start(snap)
    ch, sp, sy, sl = (g.get("main." + f) for f in ("chanBlocked", "spinner", "inSyscall",
                                                    "sleeper"))
    harness.check(name + ": goroutines = the mix + main", snap["goroutines"] ==
                  sum(mix.values()) + 1, "%d, mix %s" % (snap["goroutines"], mix))
    harness.check(name + ": chanBlocked: all waiting on chan receive the whole interval",
                  ch is not None and ch["count"] == mix["chan"] and
                  ch["in_state"][3] == mix["chan"] and ch["top_wait"] == "chan receive" and
                  ch["waiting_ns"] >= 0.97 * mix["chan"] * iv, str(ch))
    harness.check(name + ": spinner: on a CPU or waiting for one, never waiting",
                  sp is not None and sp["count"] == mix["spin"] and
                  sp["running_ns"] + sp["runnable_ns"] >= 0.95 * mix["spin"] * iv and
                  sp["waiting_ns"] == 0 and sp["top_wait"] is None, str(sp))
    harness.check(name + ": inSyscall: in system calls most of the time",
                  sy is not None and sy["count"] == mix["sys"] and
                  sy["syscall_ns"] >= 0.5 * mix["sys"] * iv and sy["waiting_ns"] == 0, str(sy))
    # 20 ms sleeps: ~50 wake-ups a second each, 2+ transitions per wake-up
    harness.check(name + ": sleeper: sleeping, with its wake-ups",
                  sl is not None and sl["count"] == mix["sleep"] and
                  sl["top_wait"] == "sleep" and sl["waiting_ns"] >= 0.5 * mix["sleep"] * iv and
                  sl["transitions"] >= mix["sleep"] * 25 * iv / 1e9, str(sl))


def test_batch_matches_mix():
    """--batch --format jsonl, grouped and not, on the oldest and newest
    toolchains' builds; both sources (the in-kernel aggregation, the
    default, and the ring buffer)."""
    harness.need_root()
    builds = _builds()
    for b in {b["go"]: b for b in (builds[0], builds[-1])}.values():
        m = Mix(b["path"], BIG)
        try:
            for src in ("aggregate", "ring"):
                p = harness.run([harness.GOTRACE, "top", "-p", str(m.pid), "--batch", "3", "-i",
                                 "700ms", "--format", "jsonl", "--group", "start",
                                 "--source", src], timeout=60)
                snaps = [json.loads(l) for l in p.stdout.splitlines()]
                name = "%s %s" % (b["go"], src)
                harness.check(name + ": 3 snapshots", len(snaps) == 3, p.stdout[-500:])
                for k, s in enumerate(snaps[1:], 1):
                    _check_groups("%s snapshot %d" % (name, k), s, BIG)
            p = harness.run([harness.GOTRACE, "top", "-p", str(m.pid), "--batch", "1", "-i",
                             "500ms", "--format", "jsonl", "--sort", "goid"], timeout=60)
            rows = json.loads(p.stdout)["rows"]
            chan = [r for r in rows if r["start"] == "main.chanBlocked"]
            harness.check(b["go"] + ": one row per goroutine, sorted by goid",
                          len(chan) == BIG["chan"] and
                          all(r["state"] == "waiting" and r["top_wait"] == "chan receive"
                              for r in chan) and
                          [r["goid"] for r in rows] == sorted(r["goid"] for r in rows),
                          str(chan[:2]))
            p = harness.run([harness.GOTRACE, "top", "-p", str(m.pid), "--batch", "1", "-i",
                             "300ms", "--filter", "SLEEPER"], timeout=60)
            lines = [l for l in p.stdout.splitlines() if re.match(r"\s+\d+ ", l)]
            harness.check(b["go"] + ": text, --filter (case-insensitive)",
                          len(lines) == BIG["sleep"] and
                          all(l.endswith("main.sleeper") for l in lines), p.stdout[-800:])
        finally:
            m.close()


def test_churn_counts():
    """Short-lived goroutines: created and exited per interval near the
    rate topmix starts them at, none of them left listed (both sources)."""
    harness.need_root()
    b = _builds()[-1]
    for src in ("aggregate", "ring"):
        _check_churn(b, src)


def _check_churn(b, src):
    m = Mix(b["path"], {"chan": 1, "spin": 0, "sys": 0, "sleep": 0}, ["-churn=100", "-loop"])
    try:
        p = harness.run([harness.GOTRACE, "top", "-p", str(m.pid), "--batch", "4", "-i", "1s",
                         "--format", "jsonl", "--source", src], timeout=60)
        snaps = [json.loads(l) for l in p.stdout.splitlines()][1:]
        created = sum(s["created"] for s in snaps)
        exited = sum(s["exited"] for s in snaps)
        secs = sum(s["interval_ns"] for s in snaps) / 1e9
        # time.Sleep(10ms) between creations: at most 100/s (the bound
        # that holds), much less on a busy machine (sleeps overshoot)
        harness.check("churn %s: created, at most the rate" % src, 20 * secs <= created <= 101 * secs,
                      "%d in %.1fs" % (created, secs))
        harness.check("churn %s: as many exited" % src, abs(created - exited) <= 2,
                      "created %d exited %d" % (created, exited))
        left = max(sum(1 for r in s["rows"] if r["start"] == "main.shortLived") for s in snaps)
        harness.check("churn %s: exited goroutines leave the table" % src, left <= 2, str(left))
    finally:
        m.close()


# ---- the terminal ----

class Tmux:
    """A shell in a detached tmux session of w x h characters."""

    def __init__(self, w=100, h=30):
        self.name = "gotrace-top-test-%d" % os.getpid()
        self.dir = tempfile.mkdtemp(prefix="gotrace-top-")
        subprocess.run(["tmux", "kill-session", "-t", self.name], stderr=subprocess.DEVNULL)
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(w), "-y", str(h),
                        "env", "TERM=xterm-256color", "PS1=$ ", "bash", "--norc", "--noprofile"],
                       check=True)

    def keys(self, *k):
        subprocess.run(["tmux", "send-keys", "-t", self.name] + list(k), check=True)
        time.sleep(0.4)

    def screen(self):
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name],
                              stdout=subprocess.PIPE, text=True, check=True).stdout

    def alternate(self):
        return subprocess.run(["tmux", "display", "-p", "-t", self.name, "#{alternate_on}"],
                              stdout=subprocess.PIPE, text=True).stdout.strip()

    def wait_for(self, pattern, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            s = self.screen()
            if re.search(pattern, s, re.M):
                return s
            time.sleep(0.2)
        return None

    def start_top(self, pid, args=""):
        """gotrace top in the shell, the terminal's settings saved around it."""
        self.keys("clear; stty -g > %s/before; %s top -p %d %s; echo EXIT=$?; "
                  "stty -g > %s/after" % (self.dir, harness.GOTRACE, pid, args, self.dir),
                  "Enter")

    def restored(self, name):
        """After top ended: its status, the normal screen, the same tty settings."""
        s = self.wait_for(r"^EXIT=\d+", 20)
        rc = re.search(r"^EXIT=(\d+)", s or "", re.M)
        harness.check(name + ": top exited 0", rc and rc.group(1) == "0", (s or "")[-600:])
        harness.check(name + ": normal screen back", self.alternate() == "0", self.alternate())
        # The shell writes "after" once top has returned; on a loaded machine
        # that can be well after EXIT= is on the screen, so wait for the whole
        # line (stty -g ends it with a newline) rather than a fixed time.
        after, deadline = "", time.time() + 20
        while time.time() < deadline:
            try:
                after = open(self.dir + "/after").read()
            except OSError:
                after = ""
            if after.endswith("\n"):
                break
            time.sleep(0.1)
        try:
            same = open(self.dir + "/before").read() == after or "after: %r" % after
        except OSError as e:
            same = str(e)
        harness.check(name + ": terminal settings restored", same is True, str(same))

    def top_pid(self):
        shell = subprocess.run(["tmux", "display", "-p", "-t", self.name, "#{pane_pid}"],
                               stdout=subprocess.PIPE, text=True).stdout.strip()
        out = subprocess.run(["pgrep", "-P", shell, "-x", "gotrace"], stdout=subprocess.PIPE,
                             text=True).stdout.split()
        return int(out[0]) if out else None

    def close(self):
        subprocess.run(["tmux", "kill-session", "-t", self.name], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def _need_tmux():
    harness.need_root()
    if not shutil.which("tmux"):
        raise AssertionError("no tmux: make deps installs it")


def _rows(screen, start):
    return [l for l in screen.splitlines() if l.rstrip().endswith(start)]


_DUR = re.compile(r"^(<)?(\d+(?:\.\d+)?)(us|ms|s)?$")


def _ns(cell):
    m = _DUR.match(cell)
    if not m:
        return None
    v = float(m.group(2)) * {"us": 1e3, "ms": 1e6, "s": 1e9, None: 1}[m.group(3)]
    return 0 if m.group(1) else v


def test_screen_and_keys():
    """The screen shows the mix; g, s, /, Enter and q do what docs/top.md
    says; the terminal is restored after q."""
    _need_tmux()
    b = _builds()[-1]
    m, t = Mix(b["path"], MIX), Tmux()
    try:
        t.start_top(m.pid)
        s = t.wait_for(r"^Transitions: \d+/s")
        n = sum(MIX.values()) + 1
        hdr = re.search(r"Goroutines: (\d+), (\d+) running, (\d+) runnable, (\d+) syscall, "
                        r"(\d+) waiting", s or "")
        harness.check("screen: header counts", hdr and int(hdr.group(1)) == n and
                      MIX["chan"] + 1 <= int(hdr.group(5)) <= MIX["chan"] + 1 + MIX["sleep"] and
                      int(hdr.group(4)) <= MIX["sys"], (s or "")[:400])
        ch = _rows(s or "", "main.chanBlocked")
        harness.check("screen: a row per blocked goroutine, chan receive",
                      len(ch) == MIX["chan"] and all(" waiting " in l and "chan receive" in l
                                                     for l in ch), s)
        sl = _rows(s or "", "main.sleeper")
        harness.check("screen: sleepers wait in sleep", len(sl) == MIX["sleep"] and
                      all(" sleep " in l for l in sl), s)
        t.keys("g")
        s = t.wait_for(r"^View: groups by start function")
        g = {l.split()[-1]: l.split() for l in (s or "").splitlines()
             if re.match(r"\s+\d+ .* main\.\w+$", l)}
        harness.check("g: groups by start function with their counts",
                      all(int(g.get("main." + f, ["0"])[0]) == MIX[k] for f, k in
                          (("chanBlocked", "chan"), ("spinner", "spin"), ("inSyscall", "sys"),
                           ("sleeper", "sleep"))) and
                      "chan receive" in " ".join(g.get("main.chanBlocked", [])), s)
        t.keys("s")
        s = t.wait_for(r"Sort: RNBL")
        rows = [l.split() for l in (s or "").splitlines() if re.match(r"\s+\d+ .* \S+$", l)]
        rnbl = [_ns(r[2]) for r in rows]
        harness.check("s: sorted by RNBL, largest first", s and "RNBLv" in s and rnbl and
                      None not in rnbl and rnbl == sorted(rnbl, reverse=True), s)
        t.keys("/", "c", "h", "a", "n", "B", "Enter")
        s = t.wait_for(r"Filter: chanB$")
        rows = [l for l in (s or "").splitlines() if re.match(r"\s+\d+ ", l)]
        harness.check("/: only the rows that match", len(rows) == 1 and
                      rows[0].endswith("main.chanBlocked"), s)
        t.keys("Enter")
        s = t.wait_for(r"^main\.chanBlocked\(")
        harness.check("Enter: detail pane with history and the current stack",
                      s and "group main.chanBlocked: %d goroutines" % MIX["chan"] in s and
                      "History" in s and re.search(r"^goroutine \d+ \[chan receive", s, re.M),
                      s)
        subprocess.run(["tmux", "resize-window", "-t", t.name, "-x", "80", "-y", "24"],
                       check=True)
        time.sleep(0.8)
        lines = t.screen().rstrip("\n").split("\n")
        harness.check("resize to 80x24: drawn again to fit", len(lines) == 24 and
                      max(len(l) for l in lines) <= 80 and lines[-1].startswith("q quit") and
                      lines[1].startswith("Goroutines: %d," % n) and "Filter: chanB" in lines[3],
                      "\n".join(lines))
        t.keys("q")
        t.restored("q")
    finally:
        t.close()
        m.close()


def test_terminal_restored():
    """Ctrl-C, SIGTERM and the target's exit each end top with the terminal
    as it was, and its probes gone."""
    _need_tmux()
    b = _builds()[-1]
    for how in ("ctrl-c", "sigterm", "target exit"):
        extra = ["-exit-after=3s"] if how == "target exit" else []
        m, t = Mix(b["path"], MIX, extra), Tmux()
        try:
            t.start_top(m.pid)
            if not t.wait_for(r"^Transitions: \d+/s"):
                harness.check(how + ": top started", False, t.screen())
                continue
            if how == "ctrl-c":
                t.keys("C-c")
            elif how == "sigterm":
                pid = t.top_pid()
                harness.check(how + ": found gotrace", pid is not None)
                if pid:
                    os.kill(pid, signal.SIGTERM)
            t.restored(how)
            if how == "target exit":
                harness.check(how + ": says so", "pid %d exited" % m.pid in t.screen(),
                              t.screen())
        finally:
            t.close()
            m.close()


def test_errors():
    """Bad input: one line, non-zero status, no terminal taken."""
    harness.need_root()
    b = _builds()[-1]
    m = Mix(b["path"], MIX)
    try:
        cases = [
            (["-p", str(m.pid)], 2, "not a terminal"),
            ([], 2, "-p PID"),
            (["-p", str(m.pid), "--batch", "0"], 2, "--batch"),
            (["-p", str(m.pid), "-i", "1ms", "--batch", "1"], 2, "--interval"),
            (["-p", str(m.pid), "--sort", "bogus", "--batch", "1"], 2, "--sort"),
            (["-p", str(m.pid), "-o", "/tmp/x"], 2, "--batch"),
            (["-p", str(m.pid), "--source", "bpf", "--batch", "1"], 2, "--source"),
            (["-p", "999999999", "--batch", "1"], 1, "999999999"),
        ]
        p = harness.run([harness.GOTRACE, "top", "--help"])
        harness.check("--help lists the keys", "Keys:" in p.stdout and
                      all(re.search(r"^  %s\s" % re.escape(k), p.stdout, re.M) for k in
                          ("Up/Down, j/k", "s / S", "g", "/", "p", "Enter", "?", "q")), p.stdout)
        for args, rc, word in cases:
            p = harness.run([harness.GOTRACE, "top"] + args, check_rc=False, timeout=30,
                            stdin=subprocess.DEVNULL)
            first = p.stderr.strip().splitlines()[:1]
            harness.check("error: %s" % " ".join(args[2:] or args or ["(none)"]),
                          p.returncode == rc and first and word in first[0] and
                          "\x1b" not in p.stdout,
                          "rc %d, stderr %r" % (p.returncode, p.stderr[-300:]))
    finally:
        m.close()
