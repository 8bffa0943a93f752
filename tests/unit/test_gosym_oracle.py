"""gotrace's function table and PC symbolization against independent truths.

For every testprog build in the manifest (every toolchain, variant and
architecture) and a handful of real Go binaries found on this machine:

- `gotrace funcs --json BIN` vs the oracle (tests/oracle: Go's debug/gosym
  over the binary's pclntab): the same functions, names, entries and ends.
- `gotrace sym --json BIN` on every function entry, every function's last
  byte and a few thousand random PCs inside the text (fixed seed) vs
  (a) `go tool addr2line` of the newest Go and (b) the oracle: func (the
  physical function), file and line (the innermost inlined position).
- goroutines builds that run here: `goroutines -frames` prints what
  runtime.CallersFrames reports for known call chains (the Go runtime's own
  symbolization of itself); `gotrace sym` must name the same innermost frame
  (function, file, line) for each PC, PIE included.

One check per (binary, comparison); a failure shows the first disagreements
as `PC: expected ... got ...`.  Per binary, each tool runs once over all PCs.
"""
import bisect
import json
import os
import random
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import harness

SUITE = "oracle"  # compared with Go's own tools (tests/run.py)
ASAN_RERUN = True  # run again against build/asan/gotrace (tests/run.py)
# 522 builds, each asked of Go's tools and of gotrace: ~10 min when the
# 2 cores are shared with other work, more than run.py's default deadline.
DEADLINES = {"test_testprog_builds": 1800}

ORACLE_SRC = os.path.join(harness.ROOT, "tests", "oracle")
TOOLS = os.path.join(harness.BUILD, "oracle")
NRANDOM = 2000
SEED = 20261122
MAX_SHOWN = 5
REAL_BINARY_CAP = 6


def newest_go():
    for c in ("/usr/local/go/bin/go", "go"):
        try:
            p = subprocess.run([c, "version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, timeout=60)
        except OSError:
            continue
        if p.returncode == 0:
            return c
    raise harness.Skip("no Go toolchain to build the oracle with")


def _stale(out, srcs):
    if not os.path.exists(out):
        return True
    t = os.path.getmtime(out)
    return any(os.path.getmtime(s) > t for s in srcs)


def build_tools():
    """Build the oracle and the newest Go's addr2line into build/oracle/."""
    go = newest_go()
    os.makedirs(TOOLS, exist_ok=True)
    env = dict(os.environ, GOFLAGS="-buildvcs=false", GOTOOLCHAIN="local", CGO_ENABLED="0")
    oracle = os.path.join(TOOLS, "oracle")
    srcs = [os.path.join(ORACLE_SRC, f) for f in os.listdir(ORACLE_SRC)]
    if _stale(oracle, srcs):
        harness.run([go, "build", "-o", oracle + ".tmp", "."], cwd=ORACLE_SRC, env=env)
        os.replace(oracle + ".tmp", oracle)
    addr2line = os.path.join(TOOLS, "addr2line")
    gobin = os.path.realpath(subprocess.run(["sh", "-c", "command -v " + go],
                                            stdout=subprocess.PIPE, text=True).stdout.strip())
    if _stale(addr2line, [gobin]):
        # `go tool addr2line`, built once instead of looked up per call.
        harness.run([go, "build", "-o", addr2line + ".tmp", "cmd/addr2line"], env=env)
        os.replace(addr2line + ".tmp", addr2line)
    return oracle, addr2line


def jsonl(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def real_go_binaries():
    """A few Go ELF binaries the machine has (not built by us), from a mix
    of builders: (directory, how many to take from it)."""
    dirs = [("/usr/local/go/bin", 1), ("/usr/local/bin", 2), ("/usr/lib/go-1.19/bin", 1),
            ("/usr/bin", 1)]
    tools = "/usr/local/go/pkg/tool"
    if os.path.isdir(tools):
        dirs += [(os.path.join(tools, x), 1) for x in sorted(os.listdir(tools))]
    found = []
    for d, cap in dirs:
        if not os.path.isdir(d):
            continue
        per_dir = 0
        for name in sorted(os.listdir(d)):
            if per_dir >= cap or len(found) >= REAL_BINARY_CAP:
                break
            path = os.path.join(d, name)
            if not os.path.isfile(path) or os.path.islink(path) or not os.access(path, os.X_OK):
                continue
            if is_go_elf(path):
                found.append(path)
                per_dir += 1
    return found


def is_go_elf(path):
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"\x7fELF":
                return False
    except OSError:
        return False
    p = subprocess.run(["readelf", "-SW", path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return ".gopclntab" in p.stdout or ".go.buildinfo" in p.stdout


def sample_pcs(funcs):
    """Every entry, every function's last byte, NRANDOM random PCs inside
    the text, and a few outside it."""
    entries = [int(f["entry"], 16) for f in funcs]
    ends = [int(f["end"], 16) for f in funcs]
    lo, hi = min(entries), max(ends)
    rnd = random.Random(SEED)
    pcs = set(entries)
    pcs.update(e - 1 for e in ends if e > lo)
    pcs.update(rnd.randrange(lo, hi) for _ in range(NRANDOM))
    pcs.update([lo - 1, hi, hi + 0x100])
    if lo > 0x1000:
        pcs.add(lo - 0x1000)
    return sorted(p for p in pcs if p >= 0)


def addr2line_parse(text, pcs):
    lines = text.splitlines()
    out = {}
    for i, pc in enumerate(pcs):
        fn, pos = lines[2 * i], lines[2 * i + 1]
        file, _, line = pos.rpartition(":")
        out[pc] = (None if fn == "?" else fn, file, int(line))
    return out


def norm_pos(file, line):
    """Unknown position: addr2line says '?:0' or ':-1', the oracle '' and
    -1 or 0, gotrace null.  All the same thing."""
    if file in (None, "", "?") or line in (None, -1, 0):
        return (None, None)
    return (file, line)


def compare_sym(ours, truth, pcs):
    bad = []
    for pc in pcs:
        o, t = ours.get(pc), truth.get(pc)
        if o is None:
            bad.append("0x%x: no output from gotrace" % pc)
            continue
        of, tf = o[0], t[0]
        opos, tpos = norm_pos(o[1], o[2]), norm_pos(t[1], t[2])
        if of != tf or (tf is not None and opos != tpos):
            bad.append("0x%x: expected %s %s:%s, got %s %s:%s" % (
                pc, tf, tpos[0], tpos[1], of, opos[0], opos[1]))
    return bad


def shown(bad, total):
    return "%d/%d differ%s" % (len(bad), total, (": " + "; ".join(bad[:MAX_SHOWN])) if bad else "")


GENERIC_ARGS = re.compile(r"\[[^\[\]]*(\[[^\[\]]*\][^\[\]]*)*\]")


def norm_generic(name):
    """runtime.CallersFrames prints type arguments as [...]."""
    return GENERIC_ARGS.sub("[...]", name) if name else name


def check_binary(label, path, oracle, addr2line, selfframes=False):
    """Run every comparison for one binary; returns [(name, ok, detail)]."""
    res = []
    oi = harness.run([oracle, "info", path], check_rc=False)
    if oi.returncode != 0:
        return [(label + ": oracle", False, "oracle cannot read it: " + oi.stderr.strip())]
    info = json.loads(oi.stdout)
    ofuncs = jsonl(harness.run([oracle, "funcs", path]).stdout)

    pcs = sample_pcs(ofuncs)
    inp = "".join("0x%x\n" % pc for pc in pcs)
    s = harness.run([harness.GOTRACE, "sym", "--json", path], input=inp, check_rc=False)
    ours = {}
    if s.returncode == 0:
        for r in jsonl(s.stdout):
            ours[int(r["addr"], 16)] = (r.get("func"), r.get("file"), r.get("line"))
    sym_err = None if s.returncode == 0 else "gotrace sym exited %d: %s" % (
        s.returncode, s.stderr.strip()[-300:])

    op = harness.run([oracle, "pcs", path], input=inp)
    truth = {}
    for r in jsonl(op.stdout):
        truth[int(r["addr"], 16)] = (r["func"], r["file"], r["line"])
    # funcs: names, entries, ends, and file:line of the entry PC.
    g = harness.run([harness.GOTRACE, "funcs", "--json", path], check_rc=False)
    if g.returncode != 0:
        res.append((label + ": funcs vs oracle", False,
                    "gotrace funcs exited %d: %s" % (g.returncode, g.stderr.strip()[-300:])))
    else:
        gfuncs = jsonl(g.stdout)
        bad = []
        if len(gfuncs) != len(ofuncs):
            bad.append("%d functions, oracle has %d" % (len(gfuncs), len(ofuncs)))
        for i, (o, t) in enumerate(zip(gfuncs, ofuncs)):
            if (o.get("name"), o.get("entry"), o.get("end")) != (t["name"], t["entry"], t["end"]):
                bad.append("#%d: expected %s [%s,%s), got %s [%s,%s)" % (
                    i, t["name"], t["entry"], t["end"], o.get("name"), o.get("entry"), o.get("end")))
                continue
            tr = truth.get(int(t["entry"], 16))
            want, got = norm_pos(tr[1], tr[2]), norm_pos(o.get("file"), o.get("line"))
            if want != got:
                bad.append("%s at %s: expected %s:%s, got %s:%s" % (
                    t["name"], t["entry"], want[0], want[1], got[0], got[1]))
        res.append((label + ": funcs vs oracle", not bad,
                    "%d functions; %s" % (len(ofuncs), shown(bad, len(ofuncs)))))

    if sym_err:
        res.append((label + ": sym vs oracle", False, sym_err))
    else:
        bad = compare_sym(ours, truth, pcs)
        res.append((label + ": sym vs oracle", not bad, "%d PCs; %s" % (len(pcs), shown(bad, len(pcs)))))

    # addr2line gives debug/gosym .text's address as the text start when the
    # binary has no runtime.text symbol: wrong when C code comes first.
    a2l_wrong = (info["text_start_from"] not in ("runtime.text symbol",)
                 and info["magic"] in ("0xfffffff0", "0xfffffff1")
                 and info.get("text_section") not in (None, info["text_start"]))
    if a2l_wrong:
        res.append((label + ": sym vs addr2line", None,
                    "addr2line would take .text (%s) as the text start, the binary's is %s (%s)" % (
                        info.get("text_section"), info["text_start"], info["text_start_from"])))
    else:
        a = harness.run([addr2line, path], input=inp, check_rc=False)
        if a.returncode != 0:
            res.append((label + ": sym vs addr2line", None,
                        "addr2line cannot read it: " + a.stderr.strip()[-200:]))
        elif sym_err:
            res.append((label + ": sym vs addr2line", False, sym_err))
        else:
            # debug/gosym decodes a line table at offset 0, which the runtime
            # (and the oracle) take as "no table": leave those PCs out.
            nl = [(int(f["entry"], 16), int(f["end"], 16)) for f in ofuncs if f.get("nolines")]
            starts = [e for e, _ in nl]

            def in_nolines(pc):
                i = bisect.bisect_right(starts, pc) - 1
                return i >= 0 and pc < nl[i][1]
            mine = [pc for pc in pcs if not in_nolines(pc)]
            a2l = addr2line_parse(a.stdout, pcs)
            # addr2line finds the table only through a .gopclntab-like
            # section or the runtime.pclntab symbol; a stripped cgo PIE of
            # Go 1.17 keeps it in .data.rel.ro with neither, so addr2line
            # answers nothing at all.  The oracle (magic scan) still checks
            # those builds above.
            if any(tr[0] for tr in truth.values()) and not any(
                    (a2l.get(pc) or (None,))[0] for pc in mine):
                res.append((label + ": sym vs addr2line", None,
                            "addr2line resolves none of %d PCs (it finds no pclntab here); "
                            "compared with the oracle only" % len(mine)))
                return res + ([check_selfframes(label, path, ofuncs)] if selfframes else [])
            bad = compare_sym(ours, a2l, mine)
            res.append((label + ": sym vs addr2line", not bad,
                        "%d PCs (%d in functions without line table left out); %s" % (
                            len(mine), len(pcs) - len(mine), shown(bad, len(mine)))))

    if selfframes:
        res.append(check_selfframes(label, path, ofuncs))
    return res


def check_selfframes(label, path, ofuncs):
    """`goroutines -frames` (the runtime's own CallersFrames) vs gotrace sym."""
    name = label + ": sym vs runtime.CallersFrames"
    p = subprocess.run([path, "-frames"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    recs = jsonl(p.stdout) if p.returncode == 0 else []
    if not recs:
        return (name, False, "goroutines -frames failed: rc=%d %s" % (p.returncode, p.stderr[-300:]))
    # Load bias (PIE): the run-time minus link-time entry of main.frameC,
    # whose first record is a plain physical frame.
    link = {f["name"]: int(f["entry"], 16) for f in ofuncs}
    c = next((r for r in recs if r["frames"][0]["func"] == "main.frameC"), None)
    if c is None or "main.frameC" not in link:
        return (name, False, "no main.frameC record or function")
    bias = int(c["entry"], 16) - link["main.frameC"]
    pcs = [int(r["pc"], 16) - 1 - bias for r in recs]
    s = harness.run([harness.GOTRACE, "sym", "--json", path],
                    input="".join("0x%x\n" % pc for pc in pcs), check_rc=False)
    if s.returncode != 0:
        return (name, False, "gotrace sym exited %d: %s" % (s.returncode, s.stderr[-300:]))
    ours = jsonl(s.stdout)
    bad, ninl = [], 0
    for pc, r, o in zip(pcs, recs, ours):
        # The contract's fields: inlined frames innermost first, then the
        # physical function; file:line at top level is the innermost position.
        inl = o.get("inlined") or []
        frames = [{"func": f["func"], "file": f["file"], "line": f["line"]} for f in inl]
        frames.append({"func": o.get("func"),
                       "file": None if inl else o.get("file"), "line": None if inl else o.get("line")})
        ninl += len(inl)
        inner = (inl[0]["file"], inl[0]["line"]) if inl else (o.get("file"), o.get("line"))
        if inner != (o.get("file"), o.get("line")):
            bad.append("0x%x: top-level %s:%s is not the innermost frame's %s:%s" % (
                pc, o.get("file"), o.get("line"), inner[0], inner[1]))
        # "frames" (gotrace's full chain, if present) must say the same.
        if "frames" in o:
            full = [(f["func"], f["file"], f["line"]) for f in o["frames"]]
            mine = [(f["func"], f["file"], f["line"]) for f in frames]
            if full[:len(inl)] != mine[:len(inl)] or not full or full[-1][0] != o.get("func"):
                bad.append("0x%x: frames %s disagree with inlined+func %s" % (pc, full, mine))
            else:
                frames[-1] = o["frames"][-1]
        want = [(norm_generic(f["func"]), f["file"], f["line"]) for f in r["frames"]]
        got = [(norm_generic(f["func"]), f["file"], f["line"]) for f in frames[:len(want)]]
        # The physical function too: the one whose entry the runtime gave.
        entry = int(r["entry"], 16) - bias
        phys = link.get(o.get("func"))
        if got != want or phys != entry:
            bad.append("0x%x (%s): expected %s in func@0x%x, got %s in %s" % (
                pc, r["chain"], want, entry, got, o.get("func")))
    ok = not bad and ninl > 0
    return (name, ok, "%d PCs, %d inlined frames (bias 0x%x); %s" % (
        len(recs), ninl, bias, shown(bad, len(recs))))


def run_all(targets, oracle, addr2line):
    with ThreadPoolExecutor(max_workers=2) as ex:
        futs = [(label, ex.submit(check_binary, label, path, oracle, addr2line, sf))
                for label, path, sf in targets]
        for label, f in futs:
            try:
                results = f.result()
            except Exception as e:  # one binary's trouble must not hide the rest
                results = [(label + ": error", False, "%s: %s" % (type(e).__name__, e))]
            for name, ok, detail in results:
                if ok is None:
                    harness.skip(name, detail)
                else:
                    harness.check(name, ok, detail)


def _require_cli():
    if not os.access(harness.GOTRACE, os.X_OK):
        raise AssertionError("no %s: run make" % harness.GOTRACE)


def test_testprog_builds():
    _require_cli()
    builds = harness.testprog_builds()
    if not builds:
        raise AssertionError("the testprog manifest is empty")
    if harness.GOTRACE == harness.ASAN_GOTRACE:
        # The ASan/UBSan rerun (tests/run.py): the programs that cover every
        # toolchain, variant and architecture (goroutines: every pclntab
        # format, PIE, stripped, the cross builds) and cgo (C code first in
        # the text), not all eight programs again.
        builds = [b for b in builds if b["prog"] in ("goroutines", "cgo")]
    oracle, addr2line = build_tools()
    host = harness.run(["uname", "-m"]).stdout.strip().replace("x86_64", "amd64").replace("aarch64", "arm64")
    targets = []
    for b in builds:
        label = "%s/%s/%s" % (b["go"], b["variant"], b["prog"])
        sf = b["prog"] == "goroutines" and b["goarch"] == host
        targets.append((label, b["path"], sf))
    harness.log("gosym oracle: %d testprog builds, toolchains %s" % (
        len(targets), " ".join(sorted({b["go"] for b in builds}))))
    run_all(targets, oracle, addr2line)


def test_real_go_binaries():
    _require_cli()
    oracle, addr2line = build_tools()
    bins = real_go_binaries()
    if not bins:
        raise harness.Skip("no Go binaries found in /usr/local/go, /usr/local/bin, /usr/bin")
    run_all([(path, path, False) for path in bins], oracle, addr2line)
