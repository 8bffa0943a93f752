"""libdwunw on C stacks against gdb's backtrace.

testprogs/cstacks reaches leaf() through five chains: plain calls, a qsort
callback, a bsearch callback, a signal handler (through the kernel's signal
frame and glibc's __restore_rt) and a variable-size (alloca) frame.  It is
built three ways: with frame pointers, with -fomit-frame-pointer, and with
-fomit-frame-pointer and no .eh_frame for its own code (only .debug_frame).

For each build, tools/snap stops the program at every entry of leaf and
snapshots it; gdb, independently, breaks at `*leaf` in the same program
(both with ASLR off, so code addresses agree) and prints `bt`.  Every
frame's PC must equal gdb's, signal frame included, for the default
method order.  Frame-pointer-only walks are reported (how many frames
survive) but not asserted: libc is built without frame pointers.
"""
import os
import sys

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "replay", "tools"))
import unwindlib  # noqa: E402

SUITE = "oracle"  # compared with gdb (tests/run.py)


def test_c_stacks_match_gdb():
    if not os.path.exists("/usr/bin/gdb"):
        raise harness.Skip("gdb is not installed")
    tools = unwindlib.build()
    HITS = 5
    for variant in unwindlib.CSTACKS_VARIANTS:
        prog = unwindlib.build_cstacks(variant)
        outdir = os.path.join(unwindlib.OUT, "snaps", "cstacks_" + variant)
        # ASLR off for both, so run-time addresses agree between the runs.
        snaps = unwindlib.snap_noaslr(tools, prog, "leaf", outdir)
        gdb = unwindlib.gdb_backtraces(prog, HITS)
        if len(snaps) != HITS or len(gdb) != HITS:
            harness.check(variant, False, "%d snapshots, %d gdb backtraces, expected %d" % (
                len(snaps), len(gdb), HITS))
            continue
        for methods in ("all", "fp"):
            recs = unwindlib.replay(tools, snaps, methods)
            bad, frames = [], 0
            for k, (rec, bt) in enumerate(zip(recs, gdb)):
                ours = [(int(f["pc"], 16), f["func"], f["signal"]) for f in rec["frames"]]
                frames += len(bt)
                ok = len(ours) == len(bt) and bt[0][1] == "leaf" and ours[0][1] == "leaf"
                for i in range(1, min(len(ours), len(bt))):
                    if bt[i][1] == "<signal":
                        good = ours[i][2]
                    else:
                        good = bt[i][0] == ours[i][0]
                    if not good:
                        ok = False
                        break
                if not ok:
                    bad.append("hit %d: ours %s (%s), gdb %s" % (
                        k + 1, ["%x:%s" % (o[0], o[1]) for o in ours], rec["stop"],
                        ["%s:%s" % ("%x" % b[0] if b[0] else "-", b[1]) for b in bt]))
            name = "%s/%s" % (variant, methods)
            if methods == "all":
                harness.check(name, not bad, "%d stacks, %d frames; %s" % (len(recs), frames,
                                                                          "; ".join(bad[:2])))
            else:
                harness.log("%s: %d of %d stacks equal gdb's with frame pointers only" % (
                    name, len(recs) - len(bad), len(recs)))


C_TRACED = ["chain_b", "via_alloca", "on_signal", "cmp_ints", "via_qsort"]


def test_c_every_instruction():
    """Unwind at every instruction of a function against gdb's callers.

    snap -T single-steps the first call of each function (callees run at
    full speed) and snapshots every instruction; gdb, stopped at the same
    function's entry, gives the callers' PCs.  Wherever the function is
    stopped, our frames after the first must be exactly those (prologue,
    alloca's frame-register CFA, epilogue, the signal frame above
    on_signal, libc's qsort frames above cmp_ints).
    """
    if not os.path.exists("/usr/bin/gdb"):
        raise harness.Skip("gdb is not installed")
    tools = unwindlib.build()
    for variant in unwindlib.CSTACKS_VARIANTS:
        prog = unwindlib.build_cstacks(variant)
        for fn in C_TRACED:
            name = "%s/%s" % (variant, fn)
            outdir = os.path.join(unwindlib.OUT, "trace", "cstacks_" + variant, fn)
            snaps = unwindlib.snap_noaslr(tools, prog, fn, outdir, trace=True)
            gdb = unwindlib.gdb_backtraces(prog, 1, fn)
            if len(snaps) < 3 or not gdb or len(gdb[0]) < 3:
                harness.check(name, False, "%d snapshots, gdb %r" % (len(snaps), gdb))
                continue
            want = ["<signal>" if pc is None else "%#x" % pc for pc, _ in gdb[0][1:]]
            bad = []
            for s, rec in zip(snaps, unwindlib.replay(tools, snaps)):
                ours = ["<signal>" if f["signal"] else f["pc"] for f in rec["frames"][1:]]
                if ours != want:
                    bad.append("pc %#x: %s (%s)" % (unwindlib.snapshot_pc(s), ours, rec["stop"]))
            harness.check(name, not bad, "%d instructions, %d callers; %s; gdb %s" % (
                len(snaps), len(want), "; ".join(bad[:2]), want if bad else ""))
