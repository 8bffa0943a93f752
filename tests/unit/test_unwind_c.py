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
import re
import subprocess
import sys

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "replay", "tools"))
import unwindlib  # noqa: E402

SRC = os.path.join(harness.ROOT, "testprogs", "cstacks", "cstacks.c")
VARIANTS = {
    "fp": ["-fno-omit-frame-pointer"],
    "nofp": ["-fomit-frame-pointer"],
    "debug_frame": ["-fomit-frame-pointer", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables"],
}
HITS = 5
FRAME_RE = re.compile(r"^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+)")


def build_cstacks(variant):
    dst = os.path.join(unwindlib.OUT, "cstacks", variant, "cstacks")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if unwindlib._newer(dst, [SRC]):
        harness.run(["gcc", "-O2", "-g"] + VARIANTS[variant] + ["-o", dst, SRC])
    return dst


def gdb_backtraces(prog, hits):
    """[[(pc or None, func)]] per hit of leaf, from gdb."""
    # No separate debug info for libc: gdb would add frames from DWARF
    # call-site records (tail calls such as qsort -> qsort_r) that are not
    # on the stack.  Its unwinder then uses the same .eh_frame we do, but
    # through its own independent implementation.
    script = ["set debug-file-directory /nonexistent", "set backtrace past-main on",
              "set backtrace past-entry on", "set pagination off", "set confirm off", "set width 0",
              "set print frame-arguments none", "handle SIGUSR1 nostop noprint pass",
              "break *leaf", "run"]
    for _ in range(hits):
        script += ["echo ===BT\\n", "bt", "continue"]
    path = prog + ".gdb"
    with open(path, "w") as f:
        f.write("\n".join(script) + "\n")
    p = subprocess.run(["gdb", "-nx", "-batch", "-x", path, prog], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    bts, cur = [], None
    for line in p.stdout.splitlines():
        if line.startswith("===BT"):
            cur = []
            bts.append(cur)
            continue
        m = FRAME_RE.match(line)
        if m and cur is not None:
            pc = int(m.group(2), 16) if m.group(2) else None
            # Frames after the first without a PC are inlined calls (our
            # program inlines glibc's bsearch): one physical frame each.
            if pc is None and cur and m.group(3) != "<signal":
                continue
            cur.append((pc, m.group(3)))
    return bts


def test_c_stacks_match_gdb():
    if not os.path.exists("/usr/bin/gdb"):
        raise harness.Skip("gdb is not installed")
    tools = unwindlib.build()
    for variant in VARIANTS:
        prog = build_cstacks(variant)
        outdir = os.path.join(unwindlib.OUT, "snaps", "cstacks_" + variant)
        # ASLR off for both, so run-time addresses agree between the runs.
        snaps = _snap_noaslr(tools, prog, outdir)
        gdb = gdb_backtraces(prog, HITS)
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


def _snap_noaslr(tools, prog, outdir):
    import shutil
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)
    prefix = os.path.join(outdir, "snap")
    harness.run(["setarch", "x86_64", "-R", tools["snap"], "-s", "leaf", "-O",
                 os.path.join(outdir, "stdout"), "-o", prefix, "--", prog], timeout=120)
    n = 0
    while os.path.exists("%s.%d" % (prefix, n + 1)):
        n += 1
    return ["%s.%d" % (prefix, i) for i in range(1, n + 1)]
