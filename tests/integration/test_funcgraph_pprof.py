"""`gotrace funcgraph --pprof FILE` read back by `go tool pprof`.

One run per toolchain (the newest Go and Go 1.19 builds of testprogs/funcgraph)
writes both --format=jsonl and --pprof.  The newest `go tool pprof` must read
the profile without error, and:

  - its totals (-top, both sample types) equal what the jsonl call records
    imply: the number of call records and the sum of their self_ns;
  - its per-function flat values equal the jsonl per-function sums;
  - every sample carries a goroutine label, and the calls per (goroutine,
    leaf function) in -raw equal the counts the program prints about itself
    (fgcount lines), the independent truth test_funcgraph.py also uses;
  - locations name the Go source file of each function.

Plus bad paths: a directory that doesn't exist or a path that is a
directory gives one error line, exit 1, no file, and the program never runs.
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

import harness
from harness import check

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_funcgraph as fg  # noqa: E402  (builds, truth, norm_func)

GO = "/usr/local/go/bin/go"


def need_go():
    if not os.access(GO, os.X_OK):
        raise harness.Skip("no %s (go tool pprof)" % GO)


def pprof(*args):
    env = dict(os.environ, PPROF_TMPDIR=tempfile.gettempdir(), PPROF_BINARY_PATH="/nonexistent")
    return subprocess.run([GO, "tool", "pprof"] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=300, env=env)


def jsonl_truth(path):
    """calls and self time per function and in total, from the call records"""
    calls, ns = collections.Counter(), collections.Counter()
    with open(path) as fh:
        for line in fh:
            o = json.loads(line)
            if o.get("type") != "call":
                continue
            calls[o["func"]] += 1
            ns[o["func"]] += o["self_ns"]
    return calls, ns


def parse_top(text):
    """-top output: (total, {function: flat}) with flat as an int"""
    m = re.search(r"of (\d+)(?:ns)? total", text)
    total = int(m.group(1)) if m else None
    flat = {}
    in_rows = False
    for line in text.splitlines():
        if re.match(r"\s+flat\s+flat%", line):
            in_rows = True
            continue
        if not in_rows:
            continue
        f = line.split()
        if len(f) < 6:
            continue
        flat[" ".join(f[5:])] = int(f[0].rstrip("ns") or 0)
    return total, flat


def parse_raw(text):
    """-raw output: [(values, leaf location id, labels)], {location id: (func, file, line)}"""
    samples, locs = [], {}
    section = None
    for line in text.splitlines():
        if line in ("Samples:", "Locations", "Mappings"):
            section = line
            continue
        if section == "Samples:":
            m = re.match(r"\s+(\d+)\s+(\d+): ([\d ]+)$", line)
            if m:
                ids = m.group(3).split()
                samples.append(([int(m.group(1)), int(m.group(2))], int(ids[0]), {}))
                continue
            m = re.match(r"\s+(\w+):\[(.*)\]$", line)
            if m and samples:
                samples[-1][2][m.group(1)] = m.group(2)
        elif section == "Locations":
            # "  2: 0x4ae120 M=1 main.fgRec /path/main.go:127:0 s=127"
            m = re.match(r"\s+(\d+): 0x[0-9a-f]+ (?:M=\d+ )?(\S+) (\S+?):(\d+)(?::\d+)?(?: |$)",
                         line)
            if m:
                locs[int(m.group(1))] = (m.group(2), m.group(3), int(m.group(4)))
    return samples, locs


def bad_lines(locs):
    """Locations whose line is not the function's declaration in the source"""
    bad = []
    for fn, src, line in locs.values():
        if not os.path.exists(src):
            bad.append("%s: no file %s" % (fn, src))
            continue
        with open(src) as fh:
            lines = fh.read().splitlines()
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        short = re.sub(r"\[.*?\]", "", fn).split(".")[-1]
        # closures (F.func1) are declared by a bare "func("
        if "func" not in text or (not re.match(r"func\d+$", short) and short not in text):
            bad.append("%s at %s:%d: %r" % (fn, src, line, text))
    return bad


def pick_builds():
    bs = [b for b in fg.builds() if b["variant"] == "default"]
    out = [fg.newest(bs)]
    old = [b for b in bs if harness.go_minor(b["go"]) == 19]
    if old and old[0]["go"] != out[0]["go"]:
        out.append(old[0])
    return out


def test_pprof_matches_jsonl_and_program():
    """go tool pprof reads --pprof; totals, flat values and goroutine labels are exact."""
    harness.need_root()
    need_go()
    for b in pick_builds():
        tag = "pprof:%s" % b["go"]
        with tempfile.TemporaryDirectory() as tmp:
            jl, prof = os.path.join(tmp, "calls.jsonl"), os.path.join(tmp, "fg.pb.gz")
            p = subprocess.run([harness.GOTRACE, "funcgraph", "-q", "--no-summary",
                                "--format=jsonl", "-o", jl, "--pprof", prof, fg.PATTERN,
                                "--", b["path"]],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=300)
            if not check(tag + ":runs", p.returncode == 0 and os.path.exists(prof),
                         "rc %d: %s" % (p.returncode, p.stderr[-1500:])):
                continue
            check(tag + ":no-tmp-left", sorted(os.listdir(tmp)) == ["calls.jsonl", "fg.pb.gz"],
                  str(os.listdir(tmp)))
            wcalls, wns = jsonl_truth(jl)

            # totals and flat values, both sample types
            tops = {}
            for idx, extra in (("calls", []), ("time", ["-unit=ns"])):
                r = pprof("-top", "-nodecount=1000", "-nodefraction=0", "-edgefraction=0",
                          "-sample_index=" + idx, *extra, prof)
                if not check(tag + ":parses:" + idx, r.returncode == 0 and "of " in r.stdout,
                             r.stderr[-1000:]):
                    tops = None
                    break
                tops[idx] = parse_top(r.stdout)
            if tops is None:
                continue
            want = {"calls": (sum(wcalls.values()), dict(wcalls)),
                    "time": (sum(wns.values()), {k: v for k, v in wns.items() if v})}
            for idx in ("calls", "time"):
                total, flat = tops[idx]
                check("%s:total:%s" % (tag, idx), total == want[idx][0],
                      "pprof total %s, jsonl implies %d" % (total, want[idx][0]))
                flat = {k: v for k, v in flat.items() if v}
                check("%s:flat:%s" % (tag, idx), flat == want[idx][1],
                      "pprof %s\njsonl %s" % (sorted(flat.items()), sorted(want[idx][1].items())))

            # samples: goroutine label on each; calls per (goroutine, leaf)
            r = pprof("-raw", prof)
            if not check(tag + ":raw", r.returncode == 0, r.stderr[-1000:]):
                continue
            samples, locs = parse_raw(r.stdout)
            unlabeled = [s for s in samples if not s[2].get("goroutine", "").isdigit()]
            check(tag + ":goroutine-label", samples and not unlabeled,
                  "%d samples, %d without a numeric goroutine label" % (len(samples),
                                                                       len(unlabeled)))
            got = collections.Counter()
            for vals, leaf, labels in samples:
                fn = locs.get(leaf, ("?", "", 0))[0]
                got[(int(labels.get("goroutine", -1)), fg.norm_func(fn))] += vals[0]
            prog, _, _ = fg.truth(p.stdout)
            got = collections.Counter({k: v for k, v in got.items() if k[1].startswith("main.")})
            diffs = ["g%d %s: program %d, pprof %d" % (k[0], k[1], prog[k], got[k])
                     for k in sorted(set(prog) | set(got)) if prog[k] != got[k]]
            check(tag + ":calls-per-goroutine", prog and not diffs, "; ".join(diffs[:8]))
            srcs = {src for _, src, _ in locs.values()}
            check(tag + ":files", locs and all(src.endswith(".go") for src in srcs)
                  and any(src.endswith("testprogs/funcgraph/main.go") for src in srcs),
                  str(sorted(srcs)))
            check(tag + ":lines", not bad_lines(locs), "; ".join(bad_lines(locs)[:5]))


def test_pprof_bad_path():
    """An unwritable --pprof path: one error line, exit 1, nothing written, no program run."""
    harness.need_root()
    b = fg.newest([b for b in fg.builds() if b["variant"] == "default"])
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(os.path.join(tmp, "adir"))
        for name, path in (("missing-dir", os.path.join(tmp, "nodir", "x.pb.gz")),
                           ("is-dir", os.path.join(tmp, "adir"))):
            p = subprocess.run([harness.GOTRACE, "funcgraph", "-q", "--pprof", path, fg.PATTERN,
                                "--", b["path"]],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=120)
            lines = p.stderr.strip().splitlines()
            check("pprof-bad:%s:exit" % name, p.returncode == 1, "rc %d" % p.returncode)
            check("pprof-bad:%s:one-line" % name, len(lines) == 1
                  and lines[0].startswith("gotrace: ") and path in lines[0], repr(p.stderr))
            check("pprof-bad:%s:not-run" % name, "fgcount" not in p.stdout, p.stdout[-300:])
            check("pprof-bad:%s:nothing-left" % name,
                  sorted(os.listdir(tmp)) == ["adir"] and not os.listdir(os.path.join(tmp, "adir")),
                  str(os.listdir(tmp)))
