"""Integration tests of examples/bpf_memleak on testprogs/leaky (root, real kernel).

The truth is the program's own count: leaky tallies every block it never
frees, per call chain and allocator, and prints

    leak chain=main,leak_list,make_node via=malloc bytes=4800 count=100

bpf_memleak's final report (printed when the program exits) must have, for
each chain, call sites whose DWARF stacks hold the chain's functions in
order (the allocator's direct caller at frame #1), from that allocator, with
exactly those bytes and that many allocations in all; nothing allocated by
the churn loop (which frees everything) may be outstanding; every DWARF
stack must be complete (100%, on a -fomit-frame-pointer build).  The
frame-pointer rates are logged, not asserted.  After bpf_memleak exits, none
of its BPF programs (alloc_enter, alloc_return, free_enter, seen while it
ran) and no link to them may be left.

Frame #1's source line must be the line of leaky.c marked `site:FUNC` for
the chain's last function.

Runs: launch mode (`-- leaky`) with uprobe_multi links and with
--perf-uprobes, attach mode (`-p PID`, with -i), a build with frame
pointers, a static build and a clang build; plus the error paths.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import harness
from harness import check

ML_DIR = os.path.join(harness.BUILD, "examples", "bpf_memleak")
MEMLEAK = os.path.join(ML_DIR, "bpf_memleak")
LEAKY_SRC = os.path.join(harness.ROOT, "testprogs", "leaky", "leaky.c")
PROG_NAMES = {"alloc_enter", "alloc_return", "free_enter"}
VIA_KIND = {"aligned_alloc": "memalign"}  # glibc: aligned_alloc is memalign

SITE_RE = re.compile(r"^(\d+) bytes in (\d+) allocations from (\S+), (\d+) allocated in all$")
DWARF_RE = re.compile(r"^  dwarf: (\d+) frames, stop (\S+) \|")
FRAME_RE = re.compile(r"^    #(\d+)\s+0x[0-9a-f]+ (\S+)(?: \(([^:()]+):(\d+)\))?")
METHOD_RE = re.compile(r"^  (dwarf|fp)\s+(\d+) \(\s*([\d.]+)%\)\s+(\d+) \(\s*([\d.]+)%\)"
                       r"\s+(\d+) \(\s*([\d.]+)%\)")
STACKS_RE = re.compile(r"^Stacks: (\d+) allocation snapshots")
EVENTS_RE = re.compile(r"^Events: .* lost (\d+), untraced \(stash full\) (\d+)")


def build_leaky(variant):
    """leaky, -O2 -g, without (nofp) or with (fp) frame pointers; static:
    the allocator in the executable; clang: DWARF 5, no .debug_aranges."""
    cc, flags = {"nofp": ("gcc", ["-fomit-frame-pointer"]),
                 "fp": ("gcc", ["-fno-omit-frame-pointer"]),
                 "static": ("gcc", ["-fomit-frame-pointer", "-static"]),
                 "clang": ("clang", ["-fomit-frame-pointer"])}[variant]
    dst = os.path.join(ML_DIR, "leaky-test-" + variant)
    if not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(LEAKY_SRC):
        harness.run([cc, "-O2", "-g", "-pthread"] + flags + ["-o", dst + ".tmp", LEAKY_SRC])
        os.rename(dst + ".tmp", dst)
    return dst


def parse_truth(out):
    truth = []
    for line in out.splitlines():
        m = re.match(r"^leak chain=(\S+) via=(\S+) bytes=(\d+) count=(\d+)$", line)
        if m:
            truth.append((m.group(1).split(","), VIA_KIND.get(m.group(2), m.group(2)),
                          int(m.group(3)), int(m.group(4))))
    return truth


def parse_report(out):
    """The last report: its sites, per-method stats and event counters."""
    start = out.rfind("bpf_memleak report (")
    if start < 0:
        raise AssertionError("no report in output:\n" + out[-3000:])
    rep = {"sites": [], "methods": {}, "snapshots": None, "lost": None, "untraced": None,
           "header": out[start:out.find("\n", start)]}
    site = None
    for line in out[start:].splitlines():
        m = SITE_RE.match(line)
        if m:
            site = {"bytes": int(m.group(1)), "count": int(m.group(2)), "kind": m.group(3),
                    "frames": [], "lines": [], "stop": None}
            rep["sites"].append(site)
            continue
        m = DWARF_RE.match(line)
        if m and site:
            site["stop"] = m.group(2)
            continue
        m = FRAME_RE.match(line)
        if m and site:
            site["frames"].append(re.sub(r"\+0x[0-9a-f]+$", "", m.group(2)))
            site["lines"].append((m.group(3), int(m.group(4))) if m.group(3) else None)
            continue
        m = STACKS_RE.match(line)
        if m:
            rep["snapshots"] = int(m.group(1))
            continue
        m = METHOD_RE.match(line)
        if m:
            rep["methods"][m.group(1)] = {"complete": int(m.group(2)), "complete_pct": float(m.group(3)),
                                          "main": int(m.group(4)), "main_pct": float(m.group(5)),
                                          "agree_pct": float(m.group(7))}
            continue
        m = EVENTS_RE.match(line)
        if m:
            rep["lost"], rep["untraced"] = int(m.group(1)), int(m.group(2))
    return rep


def chain_matches(chain, frames):
    """frames[1] is the chain's last function and the chain appears, in
    order (outermost last in frames), among frames[1:]."""
    if len(frames) < 2 or frames[1] != chain[-1]:
        return False
    want = list(reversed(chain))
    i = 0
    for f in frames[1:]:
        if i < len(want) and f == want[i]:
            i += 1
    return i == len(want)


def site_lines():
    """{function: line} of the `site:FUNC` markers in leaky.c: where each
    leaking allocator call is, from the source itself."""
    out = {}
    with open(LEAKY_SRC) as f:
        for no, line in enumerate(f, 1):
            m = re.search(r"/\* site:(\w+) \*/", line)
            if m:
                out[m.group(1)] = no
    return out


def compare(tag, truth, rep):
    marks = site_lines()
    # one chain per leaking call site, each marked site:FUNC in leaky.c
    check("%s:truth" % tag, len(truth) == len(marks) and len(marks) >= 7,
          "leaky printed %d chains, leaky.c marks %d sites" % (len(truth), len(marks)))
    check("%s:no-loss" % tag, rep["lost"] == 0 and rep["untraced"] == 0,
          "lost %s, untraced %s" % (rep["lost"], rep["untraced"]))
    for chain, via, nbytes, count in truth:
        sites = [s for s in rep["sites"] if s["kind"] == via and chain_matches(chain, s["frames"])]
        got_b = sum(s["bytes"] for s in sites)
        got_c = sum(s["count"] for s in sites)
        name = "%s:%s" % (tag, ">".join(chain))
        check(name, (got_b, got_c) == (nbytes, count),
              "%s via %s: program says %d bytes in %d, bpf_memleak %d bytes in %d (%d sites)"
              % (",".join(chain), via, nbytes, count, got_b, got_c, len(sites)))
        check(name + ":complete", sites and all(s["stop"] == "end" for s in sites),
              "stops %s" % [s["stop"] for s in sites])
        want = ("leaky.c", marks.get(chain[-1]))
        got = [s["lines"][1] for s in sites]
        check(name + ":line", sites and all(g == want for g in got),
              "frame #1 at %s, the source has the call at %s" % (got, want))
    churn = [s for s in rep["sites"] if "churn" in s["frames"]]
    check("%s:churn-freed" % tag, not churn, "outstanding from churn: %s" % churn)
    d = rep["methods"].get("dwarf")
    check("%s:dwarf-100%%" % tag, d is not None and rep["snapshots"] and d["complete"] == rep["snapshots"],
          "dwarf %s of %s snapshots" % (d, rep["snapshots"]))
    fp = rep["methods"].get("fp")
    check("%s:fp-reported" % tag, fp is not None, "fp %s" % fp)
    harness.log("%s: %s snapshots; dwarf complete %s%% reached main %s%%; fp complete %s%% "
                "reached main %s%% same as dwarf %s%%" % (
                    tag, rep["snapshots"], d and d["complete_pct"], d and d["main_pct"],
                    fp and fp["complete_pct"], fp and fp["main_pct"], fp and fp["agree_pct"]))


def our_bpf():
    """(prog ids, link ids) of programs with our names, from bpftool."""
    progs = json.loads(harness.run(["bpftool", "-j", "prog", "show"]).stdout or "[]")
    ids = {p["id"] for p in progs if p.get("name") in PROG_NAMES}
    links = json.loads(harness.run(["bpftool", "-j", "link", "show"]).stdout or "[]")
    return ids, {l["id"] for l in links if l.get("prog_id") in ids}


def check_gone(tag, seen_progs):
    """The kernel frees a program after its last link and fd are closed,
    through RCU callbacks: give it a few seconds."""
    deadline = time.time() + 5
    while True:
        progs = json.loads(harness.run(["bpftool", "-j", "prog", "show"]).stdout or "[]")
        left = {p["id"] for p in progs} & seen_progs
        links = json.loads(harness.run(["bpftool", "-j", "link", "show"]).stdout or "[]")
        left_links = [l["id"] for l in links if l.get("prog_id") in seen_progs]
        if (not left and not left_links) or time.time() > deadline:
            break
        time.sleep(0.1)
    check("%s:bpf-gone" % tag, seen_progs and not left and not left_links,
          "programs seen %s, left %s, links left %s" % (sorted(seen_progs), sorted(left), left_links))


def run_launch(tag, prog, extra):
    """-- prog -w: bpf_memleak starts leaky, which shares its stdout and
    waits for SIGUSR1, so we can list our BPF programs while they are
    attached, then let it run."""
    before, _ = our_bpf()
    p = subprocess.Popen([MEMLEAK, "--top", "0"] + extra + ["--", prog, "-w"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()
        m = re.match(r"pid (\d+) waiting", first)
        check("%s:started" % tag, bool(m), first + p.stderr.read() if not m else first)
        if not m:
            return
        ids, links = our_bpf()
        seen = ids - before
        check("%s:bpf-present" % tag, len(seen) == 3 and links, "programs %s links %s" % (seen, links))
        os.kill(int(m.group(1)), signal.SIGUSR1)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check("%s:exit" % tag, p.returncode == 0, "rc %d, stderr %s" % (p.returncode, err[-1000:]))
    check("%s:child-status" % tag, "exited with status 0" in err, err[-500:])
    compare(tag, parse_truth(out), parse_report(out))
    check_gone(tag, seen)


def test_launch():
    harness.need_root(MEMLEAK, "run make (or make examples)")
    run_launch("launch", build_leaky("nofp"), [])


def test_launch_perf_uprobes():
    harness.need_root(MEMLEAK, "run make (or make examples)")
    run_launch("perf-uprobes", build_leaky("nofp"), ["--perf-uprobes"])


def test_launch_with_frame_pointers():
    """Same program with frame pointers: DWARF must still be exact; the FP
    rates go to the log (a walk from malloc's first instruction misses the
    direct caller: rbp is still the caller's there)."""
    harness.need_root(MEMLEAK, "run make (or make examples)")
    run_launch("fp-build", build_leaky("fp"), [])


def test_launch_clang_build():
    harness.need_root(MEMLEAK, "run make (or make examples)")
    if not shutil.which("clang"):
        raise harness.Skip("no clang")
    run_launch("clang-build", build_leaky("clang"), [])


def test_launch_static_build():
    """A static executable: the allocator is found in the program itself."""
    harness.need_root(MEMLEAK, "run make (or make examples)")
    try:
        prog = build_leaky("static")
    except AssertionError as e:
        raise harness.Skip("no static glibc (libc6-dev's libc.a): %s" % str(e)[:200])
    run_launch("static-build", prog, [])


def test_attach_pid():
    harness.need_root(MEMLEAK, "run make (or make examples)")
    leaky = subprocess.Popen([build_leaky("nofp"), "-w"], stdout=subprocess.PIPE, text=True)
    ml = None
    try:
        first = leaky.stdout.readline()
        m = re.match(r"pid (\d+) waiting", first)
        check("pid:leaky-started", bool(m), first)
        if not m:
            return
        before, _ = our_bpf()
        ml = subprocess.Popen([MEMLEAK, "-p", m.group(1), "--top", "0", "-i", "0.2"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = ml.stderr.readline()
        check("pid:attached", "probed in" in line, line)
        ids, links = our_bpf()
        seen = ids - before
        check("pid:bpf-present", len(seen) == 3 and links, "programs %s links %s" % (seen, links))
        time.sleep(0.3)  # at least one interval report before the program runs
        leaky.send_signal(signal.SIGUSR1)
        truth = parse_truth(leaky.stdout.read())
        leaky.wait(timeout=30)
        out, err = ml.communicate(timeout=60)
        check("pid:exit", ml.returncode == 0, "rc %d, stderr %s" % (ml.returncode, err[-1000:]))
        check("pid:interval", "report (interval)" in out and "report (target exited)" in out,
              out[:500])
        compare("pid", truth, parse_report(out))
        check_gone("pid", seen)
    finally:
        for p in (leaky, ml):
            if p and p.poll() is None:
                p.kill()
                p.wait()


def test_errors():
    """Bad input: one clear line on stderr, non-zero exit, no crash."""
    harness.need_root(MEMLEAK, "run make (or make examples)")
    cases = [
        (["-p", "999999999"], "no process"),
        (["-p", "abc"], "not a process id"),
        (["--", "/nonexistent/prog"], "No such file"),
        (["-p", "1", "--", "true"], "not both"),
        (["--stack-size", "10", "--", "true"], "--stack-size"),
        ([], "nothing to trace"),
    ]
    for args, want in cases:
        p = subprocess.run([MEMLEAK] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=30)
        first = p.stderr.splitlines()[0] if p.stderr else ""
        check("errors:%s" % " ".join(args or ["(none)"]),
              p.returncode not in (0, -11, -6) and want in first and first.startswith("bpf_memleak: "),
              "rc %d stderr %r" % (p.returncode, p.stderr[:300]))
    h = subprocess.run([MEMLEAK, "--help"], stdout=subprocess.PIPE, text=True)
    check("errors:help", h.returncode == 0 and "Examples:" in h.stdout, h.stdout[:200])
