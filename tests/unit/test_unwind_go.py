"""libdwunw on Go stacks against the Go runtime's own runtime.Callers.

testprogs/stacks reaches main.marker through fourteen distinct call chains
(inlined call, new goroutines, recursion, interface method, a 2 KiB frame,
a sort.Sort callback through a compiler wrapper, a deferred closure, and
the wrappers of go/defer statements with arguments and of method values)
and prints, from inside the marker, its stack as runtime.CallersFrames reports
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

SUITE = "oracle"  # compared with runtime.Callers (tests/run.py)


def _elide_wrappers(frames):
    """The frames runtime.Callers shows: tools/replay marks those its rule
    leaves out (dwunw_sym_elided, docs/go-runtime.md "Wrapper frames")."""
    return [f for f in frames if not f.get("elided")]


def _ours(rec):
    return [(f["func"], f["file"], f["line"]) for f in _elide_wrappers(rec["frames"])]


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
    harness.check_toolchains("toolchains", gos, 17)
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


TRACED = ["main.a3", "main.big", "main.rec", "main.marker"]


def test_go_every_instruction():
    """Unwind at every instruction of a function, prologue to RET.

    snap -T single-steps the first call of each traced function (callees
    run at full speed) and snapshots every distinct instruction; wherever
    the function is stopped, the frames above it must be its callers as
    runtime.Callers printed them (the frames after the traced function's
    last occurrence in the marker's stack): this exercises every CFI row
    and pcsp value of the function, including the stack-check prologue,
    the frame setup and the epilogue.  Newest Go and 1.19, all variants.
    """
    import json
    tools = unwindlib.build()
    builds = [(l, p) for l, p in unwindlib.go_stacks_builds()
              if l.split("/")[0] in ("go1.19.8", "go1.26.8", "go1.27.4")]
    if not builds:
        raise AssertionError("no testprogs/stacks builds")
    for label, path in builds:
        for fn in TRACED:
            outdir = os.path.join(unwindlib.OUT, "trace", label.replace("/", "_"), fn)
            snaps, stdout = unwindlib.snap(tools, path, fn, outdir, trace=True, stack_kb=16)
            recs_truth = [json.loads(l) for l in stdout.splitlines()]
            truth = None
            for r in recs_truth:  # the first record whose stack holds fn
                names = [f["func"] for f in r["frames"]]
                if fn in names:
                    last = len(names) - 1 - names[::-1].index(fn)
                    truth = [(f["func"], f["file"], f["line"]) for f in r["frames"][last + 1:]]
                    break
            name = "%s/%s" % (label, fn)
            if truth is None or len(snaps) < 5:
                harness.check(name, False, "%d snapshots, truth %r" % (len(snaps), truth))
                continue
            bad = []
            for s, rec in zip(snaps, unwindlib.replay(tools, snaps)):
                pc0 = rec["frames"][0]["pc"]
                rest = [(f["func"], f["file"], f["line"]) for f in _elide_wrappers(rec["frames"])
                        if f["pc"] != pc0]
                if rest != truth or rec["stop"] != "topframe":
                    pcv = unwindlib.snapshot_pc(s)
                    bad.append("pc %#x: %s (%s)" % (pcv, [r[0] for r in rest], rec["stop"]))
            harness.check(name, not bad, "%d instructions; %s" % (len(snaps), "; ".join(bad[:3])))
