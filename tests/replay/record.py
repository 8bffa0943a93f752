#!/usr/bin/env python3
"""Record the replay corpus: tests/replay/corpus/*.snap.

Each snapshot is a real stop of a real process (tools/snap: ptrace, int3 at
a function's entry), with the expected frames taken from an independent
truth at recording time:
  - C (testprogs/cstacks, -fomit-frame-pointer and .debug_frame-only
    builds): gdb's backtrace PCs ("expect 0x..."), signal frame included;
    the small binaries are copied into corpus/bin/ so the corpus replays
    anywhere libc has the recorded build ID;
  - Go (testprogs/stacks: Go 1.19 stripped, Go 1.26 PIE and default):
    what the program printed from runtime.Callers ("expect main.a3"),
    referencing the reproducible builds under build/testprogs/ by path and
    Go build ID.
`note file MAPS_PATH LOCAL BUILD_ID` tells the replayer where the file
named in the maps text is now (corpus:... relative to corpus/, root:...
relative to the checkout, or absolute) and which build it must be;
tests/unit/test_dwunw_replay.c skips a snapshot whose files changed.

Stacks are trimmed to what the walk reads (up to the outermost frame's
SP + 256 bytes) to keep the corpus small.

Usage: tests/replay/record.py   (needs gdb, gcc, and `make testprogs` output)
"""
import glob
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "tools"), os.path.join(HERE, "..", "lib")]
import harness  # noqa: E402
import unwindlib  # noqa: E402

CORPUS = os.path.join(HERE, "corpus")
GO_BUILDS = [("go1.19.8", "stripped"), ("go1.26.8", "pie"), ("go1.26.8", "default")]


def build_id(tools, path):
    return harness.run([tools["replay"], "--build-id", path]).stdout.strip()


def rewrite(snap_path, out_path, files, expects, stop, trim_to, notes=()):
    """Copy a snapshot adding notes/expects and trimming the stack."""
    with open(snap_path) as f:
        lines = f.read().splitlines()
    out, i = [], 0
    while i < len(lines):
        l = lines[i]
        if l.startswith("stack "):
            _, base, n = l.split()
            base, n = int(base, 16), int(n)
            keep = min(n, max(64, trim_to - base))
            hexdata = "".join(lines[i + 1:i + 1 + (n + 63) // 64])[:2 * keep]
            out.append("stack 0x%x %d" % (base, keep))
            out += [hexdata[k:k + 128] for k in range(0, len(hexdata), 128)]
            i += 1 + (n + 63) // 64
            continue
        if l == "end":
            out += ["expect " + e for e in expects]
            i += 1
            continue
        out.append(l)
        if l.startswith("pc "):
            for orig, local, bid in files:
                out.append("note file %s %s %s" % (orig, local, bid))
            out.append("note stop " + stop)
            out += ["note " + n for n in notes]
        i += 1
    out.append("end")
    with open(out_path, "w") as f:
        f.write("\n".join(out) + "\n")


def maps_paths(snap_path):
    paths = set()
    with open(snap_path) as f:
        for l in f:
            w = l.split()
            if len(w) >= 6 and "x" in w[1] and w[5].startswith("/"):
                paths.add(w[5])
            if l.startswith("stack "):
                break
    return paths


def record_c(tools):
    libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"
    os.makedirs(os.path.join(CORPUS, "bin"), exist_ok=True)
    n = 0
    for variant in ("nofp", "debug_frame"):
        prog = unwindlib.build_cstacks(variant)
        local = "cstacks_" + variant
        shutil.copy(prog, os.path.join(CORPUS, "bin", local))
        snaps = unwindlib.snap_noaslr(tools, prog, "leaf", os.path.join(unwindlib.OUT, "rec", local))
        gdb = unwindlib.gdb_backtraces(prog, len(snaps))
        recs = unwindlib.replay(tools, snaps)
        for k, (s, bt, rec) in enumerate(zip(snaps, gdb, recs)):
            files = []
            for p in maps_paths(s):
                if os.path.realpath(p) == os.path.realpath(prog):
                    files.append((p, "corpus:bin/" + local, build_id(tools, prog)))
                elif os.path.realpath(p) == os.path.realpath(libc) or p == libc:
                    files.append((p, libc, build_id(tools, libc)))
            expects = ["leaf"] + ["<signal handler called>" if pc is None else "0x%x" % pc
                                  for pc, _ in bt[1:]]
            top = max(int(f["sp"], 16) for f in rec["frames"]) + 256
            rewrite(s, os.path.join(CORPUS, "c_%s_%d.snap" % (variant, k + 1)), files, expects,
                    "end", top, ["truth gdb bt (recorded by tests/replay/record.py)"])
            n += 1
    return n


def record_go(tools):
    n = 0
    builds = {(b["go"], b["variant"]): b["path"] for b in harness.testprog_builds()
              if b["prog"] == "stacks" and b["goarch"] == "amd64"}
    for go, variant in GO_BUILDS:
        path = builds.get((go, variant))
        if not path:
            print("record: no %s/%s build of testprogs/stacks" % (go, variant), file=sys.stderr)
            continue
        label = "%s_%s" % (go, variant)
        snaps, stdout = unwindlib.snap(tools, path, "main.marker", os.path.join(unwindlib.OUT, "rec", label))
        truth = {}
        for l in stdout.splitlines():
            r = json.loads(l)
            truth[r["id"]] = [f["func"] for f in r["frames"]]
        recs = unwindlib.replay(tools, snaps)
        done = set()
        rel = os.path.relpath(path, harness.ROOT)
        for s, rec in zip(snaps, recs):
            rid = unwindlib.snapshot_reg(s, 0)
            if rid in done or rid not in truth:
                continue
            done.add(rid)
            files = [(p, "root:" + rel, build_id(tools, path)) for p in maps_paths(s)]
            top = max(int(f["sp"], 16) for f in rec["frames"]) + 256
            rewrite(s, os.path.join(CORPUS, "go_%s_%d.snap" % (label, rid)), files, truth[rid],
                    "topframe", top, ["truth runtime.Callers (recorded by tests/replay/record.py)"])
            n += 1
    return n


def main():
    tools = unwindlib.build()
    if os.path.isdir(CORPUS):
        for f in glob.glob(os.path.join(CORPUS, "*.snap")):
            os.remove(f)
    os.makedirs(CORPUS, exist_ok=True)
    nc = record_c(tools)
    ng = record_go(tools)
    print("record: %d C and %d Go snapshots in %s" % (nc, ng, CORPUS), file=sys.stderr)


if __name__ == "__main__":
    main()
