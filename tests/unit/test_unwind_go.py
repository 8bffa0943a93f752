"""libdwunw on Go stacks against the Go runtime's own runtime.Callers.

testprogs/stacks reaches main.marker through eight distinct call chains
(inlined call, new goroutines, recursion, interface method, a 2 KiB frame,
a sort.Sort callback through a compiler wrapper, a deferred closure) and
prints, from inside the marker, its stack as runtime.CallersFrames reports
it.  tests/replay/tools/snap runs the program under ptrace and snapshots
registers, 32 KiB of stack and /proc/PID/maps at every entry of
main.marker; tools/replay unwinds each snapshot with libdwunw and
symbolizes it with gosym.  The marker's argument (RAX under the register
ABI) says which printed stack a hit belongs to; a hit can repeat when the
goroutine's stack grows (morestack re-enters the prologue) and each
repetition must match too.

Expected: the same functions, files and lines as runtime.Callers, innermost
first down to runtime.goexit, wrappers elided as the runtime does; frame 0
is compared by function only (we stop at the entry, the runtime reports
the line of its runtime.Callers call).  Per build:
  - auto: CFI (.debug_frame) for default and PIE builds; stripped builds
    have no CFI, so the Go pcsp table must carry every frame;
  - pclntab only: the same stacks from pcsp alone;
  - fp only: frame pointers from the entry of marker (RBP is still the
    caller's): the walk skips marker's caller, as any FP unwinder does at
    a function entry, and must match the rest exactly.
"""
import os
import sys

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "replay", "tools"))
import unwindlib  # noqa: E402


def _ours(rec):
    return [(f["func"], f["file"], f["line"]) for f in rec["frames"] if not f.get("wrapper")]


def _compare(ours, truth, skip_line0=True):
    """'' if equal, else a description of the first difference."""
    if len(ours) != len(truth):
        return "%d frames, runtime has %d: ours %s, runtime %s" % (
            len(ours), len(truth), [o[0] for o in ours], [t[0] for t in truth])
    for i, (o, t) in enumerate(zip(ours, truth)):
        if o[0] != t[0] or (i > 0 or not skip_line0) and (o[1], o[2]) != (t[1], t[2]):
            return "frame %d: ours %s, runtime %s" % (i, o, t)
    return ""


def test_go_stacks_match_runtime_callers():
    tools = unwindlib.build()
    unwindlib.arm64_builds()  # for test_dwunw's synthetic arm64 snapshots
    builds = unwindlib.go_stacks_builds()
    if not builds:
        raise AssertionError("no testprogs/stacks builds (no Go toolchain?)")
    gos = set(label.split("/")[0] for label, _ in builds)
    harness.check("toolchains", len(gos) >= 2, "builds with %s" % sorted(gos))
    for label, path in builds:
        outdir = os.path.join(unwindlib.OUT, "snaps", label.replace("/", "_"))
        snaps, stdout = unwindlib.snap(tools, path, "main.marker", outdir)
        import json
        truth = {}
        for line in stdout.splitlines():
            r = json.loads(line)
            truth[r["id"]] = [(f["func"], f["file"], f["line"]) for f in r["frames"]]
        if len(truth) < 8 or len(snaps) < len(truth):
            harness.check(label, False, "%d stacks printed, %d hits" % (len(truth), len(snaps)))
            continue
        ids = [unwindlib.snapshot_reg(s, 0) for s in snaps]  # RAX: marker's id
        stripped = "stripped" in label
        for methods in ("all", "pclntab", "fp"):
            recs = unwindlib.replay(tools, snaps, methods)
            bad, nframes = [], 0
            for s, rid, rec in zip(snaps, ids, recs):
                want = truth.get(rid)
                if want is None:
                    bad.append("%s: marker id %r never printed" % (os.path.basename(s), rid))
                    continue
                ours = _ours(rec)
                nframes += len(ours)
                if methods == "fp":
                    # At marker's entry RBP still points into the caller's
                    # frame: FP walks skip the direct caller.
                    want = want[:1] + want[2:]
                why = _compare(ours, want)
                if not why and rec["stop"] != "topframe":
                    why = "stopped with %s" % rec["stop"]
                if not why and methods == "all":
                    used = set(f["method"] for f in rec["frames"] if f["method"])
                    expect = {"pclntab"} if stripped else {"cfi"}
                    if used != expect:
                        why = "methods used %s, expected %s" % (sorted(used), sorted(expect))
                if why:
                    bad.append("%s (id %s): %s" % (os.path.basename(s), rid, why))
            harness.check("%s/%s" % (label, methods), not bad,
                          "%d snapshots, %d frames; %s" % (len(snaps), nframes, "; ".join(bad[:3])))
