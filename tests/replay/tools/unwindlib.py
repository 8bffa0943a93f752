"""Helpers shared by the libdwunw tests (tests/unit/test_unwind_*.py).

- build(): compile the snapshot tools (snap, replay) and the C test
  programs (testprogs/cstacks) into build/unwind/, linking build/libdwunw.a
  and build/libgosym.a (made first if missing).
- go_stacks_builds(): testprogs/stacks binaries: the manifest's amd64
  default/pie/stripped builds, plus our own builds with the newest Go and
  Debian's Go 1.19 when the manifest lacks them.
- snap(): run a program under tools/snap, return the snapshot paths.
- replay(): unwind snapshots with tools/replay, return the parsed JSON.
"""
import glob
import json
import os
import re
import shutil
import subprocess

import harness

ROOT = harness.ROOT
OUT = os.path.join(harness.BUILD, "unwind")
TOOLS = os.path.join(ROOT, "tests", "replay", "tools")
LIBS = [os.path.join(harness.BUILD, "libdwunw.a"), os.path.join(harness.BUILD, "libgosym.a")]
CFLAGS = ["-std=gnu11", "-g", "-Wall", "-I" + os.path.join(ROOT, "unwind"),
          "-I" + os.path.join(ROOT, "gosym")]
GO_NEWEST = "/usr/local/go/bin/go"
GO_119 = "/usr/lib/go-1.19/bin/go"


def _newer(target, sources):
    if not os.path.exists(target):
        return True
    t = os.path.getmtime(target)
    return any(os.path.getmtime(s) > t for s in sources)


def build():
    """Build the libraries (through make), the tools; return {name: path}."""
    harness.run(["make", "-s", "-C", ROOT] + [os.path.relpath(l, ROOT) for l in LIBS], timeout=600)
    os.makedirs(OUT, exist_ok=True)
    out = {}
    for t in ("snap", "replay"):
        src = os.path.join(TOOLS, t + ".c")
        dst = os.path.join(OUT, t)
        hdrs = glob.glob(os.path.join(ROOT, "unwind", "*.h"))
        if _newer(dst, [src] + LIBS + hdrs):
            harness.run(["gcc", "-O2"] + CFLAGS + ["-o", dst, src] + LIBS + ["-lelf", "-ldw", "-lz"])
        out[t] = dst
    return out


def _go_build(go, variant, dst):
    src = os.path.join(ROOT, "testprogs", "stacks")
    flags = {"default": [], "pie": ["-buildmode=pie"], "stripped": ["-ldflags=-s -w"],
             "arm64": []}[variant]
    if not _newer(dst, glob.glob(os.path.join(src, "*.go")) + [go]):
        return True
    env = dict(os.environ, GOENV="off", GOFLAGS="", GOTOOLCHAIN="local", CGO_ENABLED="0",
               GOCACHE=os.path.join(harness.BUILD, "gocache", "unwind-" + os.path.basename(os.path.dirname(os.path.dirname(go)))))
    if variant == "pie":
        env.pop("CGO_ENABLED")  # internal linking of a PIE needs no cgo on amd64
    if variant == "arm64":
        env["GOARCH"] = "arm64"
    p = subprocess.run([go, "build", "-o", dst] + flags + ["."], cwd=src, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    if p.returncode != 0:
        harness.log("go build %s %s: %s" % (go, variant, p.stdout[-500:]))
    return p.returncode == 0


def _go_version(go):
    p = subprocess.run([go, "version"], stdout=subprocess.PIPE, text=True,
                       env=dict(os.environ, GOENV="off", GOFLAGS="", GOTOOLCHAIN="local"))
    return p.stdout.split()[2] if p.returncode == 0 else None


def go_stacks_builds(variants=("default", "pie", "stripped")):
    """[(label, path)] of runnable testprogs/stacks builds."""
    builds, have = [], set()
    try:
        for b in harness.testprog_builds():
            if b["prog"] == "stacks" and b["goarch"] == "amd64" and b["variant"] in variants:
                builds.append(("%s/%s" % (b["go"], b["variant"]), b["path"]))
                have.add((b["go"], b["variant"]))
    except harness.Skip:
        pass
    for go in (GO_NEWEST, GO_119):
        if not os.path.exists(go):
            continue
        ver = _go_version(go)
        for v in variants:
            if (ver, v) in have:
                continue
            dst = os.path.join(OUT, "stacks", ver, v, "stacks")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if _go_build(go, v, dst):
                builds.append(("%s/%s" % (ver, v), dst))
    return builds


def arm64_builds():
    """Cross-build testprogs/stacks for arm64 with the newest Go and 1.19 into
    build/unwind/stacks-arm64/<go>/stacks, where tests/unit/test_dwunw.c
    (synthetic arm64 snapshots) also looks."""
    out = []
    for go in (GO_NEWEST, GO_119):
        if os.path.exists(go):
            dst = os.path.join(OUT, "stacks-arm64", _go_version(go), "stacks")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if _go_build(go, "arm64", dst):
                out.append(dst)
    return out


def snap(tools, prog, symbol, outdir, args=(), stack_kb=32, max_hits=1000, trace=False):
    """Run prog under snap; returns (snapshot paths in hit order, program stdout).
    trace: one snapshot per instruction of the first call (snap -T)."""
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)
    prefix = os.path.join(outdir, "snap")
    progout = os.path.join(outdir, "stdout")
    harness.run([tools["snap"]] + (["-T"] if trace else []) + ["-s", symbol, "-k", str(stack_kb), "-n", str(max_hits),
                 "-O", progout, "-o", prefix, "--", prog] + list(args), timeout=120)
    n = 0
    while os.path.exists("%s.%d" % (prefix, n + 1)):
        n += 1
    with open(progout) as f:
        text = f.read()
    return ["%s.%d" % (prefix, i) for i in range(1, n + 1)], text


def replay(tools, snaps, methods="all"):
    if not snaps:
        return []
    p = harness.run([tools["replay"], "-m", methods] + list(snaps), timeout=120)
    return [json.loads(l) for l in p.stdout.splitlines()]


def snapshot_pc(path):
    with open(path) as f:
        for line in f:
            if line.startswith("pc "):
                return int(line.split()[1], 16)
    return None


def snapshot_reg(path, reg):
    """A register's value from a snapshot file (None if absent)."""
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[0] == "r" and int(w[1]) == reg:
                return int(w[2], 16)
            if w and w[0] == "stack":
                break
    return None


# ---- C test program and gdb ----

CSTACKS_SRC = os.path.join(harness.ROOT, "testprogs", "cstacks", "cstacks.c")
CSTACKS_VARIANTS = {
    "fp": ["-fno-omit-frame-pointer"],
    "nofp": ["-fomit-frame-pointer"],
    "debug_frame": ["-fomit-frame-pointer", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables"],
}
FRAME_RE = re.compile(r"^#(\d+)\s+(?:(0x[0-9a-f]+) in )?(\S+)")


def build_cstacks(variant):
    dst = os.path.join(OUT, "cstacks", variant, "cstacks")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if _newer(dst, [CSTACKS_SRC]):
        harness.run(["gcc", "-O2", "-g"] + CSTACKS_VARIANTS[variant] + ["-o", dst, CSTACKS_SRC])
    return dst


def gdb_backtraces(prog, hits, symbol="leaf"):
    """[[(pc or None, func)]] per hit of symbol's entry, from gdb."""
    # No separate debug info for libc: gdb would add frames from DWARF
    # call-site records (tail calls such as qsort -> qsort_r) that are not
    # on the stack.  Its unwinder then uses the same .eh_frame we do, but
    # through its own independent implementation.
    script = ["set debug-file-directory /nonexistent", "set backtrace past-main on",
              "set backtrace past-entry on", "set pagination off", "set confirm off", "set width 0",
              "set print frame-arguments none", "handle SIGUSR1 nostop noprint pass",
              "break *" + symbol, "run"]
    for _ in range(hits):
        script += ["echo ===BT\\n", "bt", "continue"]
    path = "%s.%s.gdb" % (prog, symbol)
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


def snap_noaslr(tools, prog, symbol, outdir, trace=False):
    """snap with ASLR off (setarch -R), as gdb runs programs."""
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)
    prefix = os.path.join(outdir, "snap")
    harness.run(["setarch", "x86_64", "-R", tools["snap"]] + (["-T"] if trace else []) + ["-s", symbol, "-O",
                 os.path.join(outdir, "stdout"), "-o", prefix, "--", prog], timeout=120)
    n = 0
    while os.path.exists("%s.%d" % (prefix, n + 1)):
        n += 1
    return ["%s.%d" % (prefix, i) for i in range(1, n + 1)]
