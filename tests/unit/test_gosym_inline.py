"""gosym's inline-tree expansion against the Go runtime's own.

testprogs/inline prints the PCs runtime.Callers returns inside call chains
that mix inlined and real calls, with the frames runtime.CallersFrames makes
of them.  For every PC, the frames `gotrace sym --json` expands must be the
next frames of that logical stack (Go 1.21+ gives each inlined frame its own
marker PC; older versions expand one PC into several frames: the prefix
comparison covers both).  Only builds that run here (host arch, non-PIE:
the PCs printed are then link-time addresses).
"""
import json
import subprocess

import harness

SUITE = "oracle"  # compared with Go's own tools (tests/run.py)
ASAN_RERUN = True  # run again against build/asan/gotrace (tests/run.py)


def test_inline_frames_match_runtime_callers():
    builds = [b for b in harness.testprog_builds()
              if b["prog"] == "inline" and b["variant"] in ("default", "stripped")
              and b["goarch"] == "amd64"]
    if not builds:
        raise AssertionError("no inline testprog builds in the manifest")
    for b in builds:
        name = "%s/%s" % (b["go"], b["variant"])
        p = subprocess.run([b["path"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        recs = [json.loads(l) for l in p.stdout.splitlines()]
        if p.returncode != 0 or len(recs) < 6:
            harness.check(name, False, "testprog failed: rc=%d out=%r" % (p.returncode, p.stdout[:200]))
            continue
        inp = "".join(r["pc"] + "\n" for r in recs)
        q = harness.run([harness.GOTRACE, "sym", "--json", b["path"]], input=inp)
        ours = [json.loads(l) for l in q.stdout.splitlines()]
        logical, starts = [], []
        for r in recs:
            starts.append(len(logical))
            logical += [(f["func"], f["file"], f["line"]) for f in r["frames"]]
        bad = []
        for i, r in enumerate(recs):
            mine = [(f["func"], f["file"], f["line"]) for f in ours[i]["frames"]]
            want = logical[starts[i]:starts[i] + len(mine)]
            if not mine or mine != want:
                bad.append("%s: ours %s, runtime %s" % (r["pc"], mine, want))
        # The chains must really contain inlined frames, or the test proves nothing.
        inlined = sum(1 for o in ours for f in o["frames"] if f["inlined"])
        harness.check(name, not bad and inlined > 0,
                      "%d/%d PCs differ, %d inlined frames: %s" % (len(bad), len(recs), inlined, bad[:3]))
