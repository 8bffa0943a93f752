"""Exports of states and funcgraph, traced from real Go programs.

- --json with --speedscope: both files written, the Chrome trace valid, the
  speedscope file in speedscope's schema with one profile per goroutine
  track of the Chrome trace; --speedscope alone is a usage error.
- states --json unblock flows, against testprogs/handoff: goroutine A wakes
  goroutine B over a channel a known number of times and both print their
  goids; every "unblock" arrow into B must come from A, and there must be
  exactly as many as the times A found B parked (its sends and its close).
- --json-gz, --min-duration and --goid: a gzipped, valid trace whose slices
  are all at least that long and whose goroutines are only those asked for.
- real traces in real viewers (headless Chromium, tests/lib/viewers.py):
  states and funcgraph traces of the test programs in Catapult (the same
  checks as the sample trace's) and speedscope, the folded stacks in
  speedscope, the pprof profile in `go tool pprof -http`'s flame graph.
  Screenshots go to build/screenshots/*-real.png; scripts/screenshots.sh
  copies them into docs/images/.
"""
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "lib"))
import trace_validate  # noqa: E402
import viewers  # noqa: E402

SCHEMA = "https://www.speedscope.app/file-format-schema.json"


def _vkey(b):
    return [int(x) for x in b["go"][2:].split(".")]


def _defaults(prog):
    builds = [b for b in harness.testprog_builds()
              if b["prog"] == prog and b["variant"] == "default" and b["goarch"] == "amd64"]
    if not builds:
        raise AssertionError("no default build of %s" % prog)
    return sorted(builds, key=_vkey)


def _newest(prog):
    return _defaults(prog)[-1]["path"]


def _check(cmd, name):
    if os.geteuid() != 0:
        raise harness.Skip("tracing needs root")
    with tempfile.TemporaryDirectory() as d:
        js, ss = os.path.join(d, "t.json"), os.path.join(d, "t.speedscope.json")
        harness.run([harness.GOTRACE] + cmd[:1] + ["-q", "--json", js, "--speedscope", ss] + cmd[1:],
                    timeout=120)
        problems = trace_validate.validate(js)
        harness.check(name + ": chrome trace valid", not problems, str(problems[:3]))
        with open(js) as f:
            tracks = {e["tid"] for e in json.load(f)["traceEvents"] if e.get("ph") == "X"}
        with open(ss) as f:
            doc = json.load(f)
        harness.check(name + ": speedscope schema", doc.get("$schema") == SCHEMA, str(doc.get("$schema")))
        harness.check(name + ": one profile per track", len(doc.get("profiles", [])) == len(tracks),
                      "%d profiles, %d tracks" % (len(doc.get("profiles", [])), len(tracks)))


def test_states_speedscope():
    _check(["states", "--", _newest("states")], "states")


def test_funcgraph_speedscope():
    _check(["funcgraph", "main.fg*", "--", _newest("funcgraph")], "funcgraph")


def test_speedscope_needs_json():
    for cmd in (["states", "--speedscope", "/tmp/x", "-p", "1"],
                ["funcgraph", "--speedscope", "/tmp/x", "main.*", "/bin/true"]):
        p = harness.run([harness.GOTRACE] + cmd, check_rc=False)
        harness.check(cmd[0], p.returncode == 2 and "needs --json" in p.stderr,
                      "rc=%d stderr=%r" % (p.returncode, p.stderr))


def _goid_of_tracks(doc):
    """tid -> goid, from the goid every X event carries in its args."""
    return {e["tid"]: e["args"]["goid"] for e in doc["traceEvents"] if e.get("ph") == "X"}


def _unblock_case(build):
    name = "unblock flows " + build["go"]
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "t.json")
        p = harness.run([harness.GOTRACE, "states", "-q", "--no-summary", "--json", js,
                         "--", build["path"], "-n", "20"], timeout=120)
        truth = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        truth = [t for t in truth if t.get("event") == "handoff"]
        if not harness.check(name + ": program ran", len(truth) == 1, p.stdout[-500:]):
            return
        t = truth[0]
        harness.check(name + ": A saw B parked every round", t["parked"] == t["rounds"], str(t))
        problems = trace_validate.validate(js)
        harness.check(name + ": trace valid (flows paired)", not problems, str(problems[:3]))
        with open(js) as f:
            doc = json.load(f)
    goid = _goid_of_tracks(doc)
    into_b = [(goid.get(a[0]), a[1], b[1]) for n, a, b in trace_validate.bind_flows(doc)
              if n == "unblock" and goid.get(b[0]) == t["sleeper"]]
    from_a = [f for f in into_b if f[0] == t["waker"]]
    harness.check(name + ": A->B arrows", "wakes" in t and len(from_a) == t["wakes"],
                  "%d A->B of %d into B; the program woke B %s times" % (len(from_a), len(into_b),
                                                                       t.get("wakes")))
    harness.check(name + ": every arrow into B from A", len(from_a) == len(into_b),
                  str([f for f in into_b if f[0] != t["waker"]][:5]))
    harness.check(name + ": running -> runnable slices",
                  all(f[1] == "running" and f[2] == "runnable" for f in from_a), str(from_a[:5]))


def test_states_unblock_flows():
    """Oldest traceable Go, the last before the creation goid moved (1.23),
    and the newest."""
    if os.geteuid() != 0:
        raise harness.Skip("tracing needs root")
    builds = _defaults("handoff")
    picks = {builds[0]["go"]: builds[0], builds[-1]["go"]: builds[-1]}
    for b in builds:
        if b["go"].startswith("go1.23."):
            picks[b["go"]] = b
    for b in sorted(picks.values(), key=_vkey):
        _unblock_case(b)


def _filtered_case(cmd, name, min_us):
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "t.trace")     # no .gz suffix: --json-gz must gzip anyway
        harness.run([harness.GOTRACE] + cmd[:1] + ["-q", "--json-gz", js, "--goid", "1",
                                                   "--min-duration", "%dus" % min_us] + cmd[1:],
                    timeout=120)
        with open(js, "rb") as f:
            magic = f.read(2)
        harness.check(name + ": gzipped", magic == b"\x1f\x8b", repr(magic))
        problems = trace_validate.validate(js)
        harness.check(name + ": valid", not problems, str(problems[:3]))
        with gzip.open(js) as f:
            doc = json.load(f)
    xs = [e for e in doc["traceEvents"] if e.get("ph") == "X"]
    harness.check(name + ": has slices", len(xs) > 0, "no X events")
    short = [e for e in xs if round(float(e["dur"]) * 1000) < min_us * 1000]
    harness.check(name + ": none shorter than %dus" % min_us, not short, str(short[:2]))
    goids = {e["args"]["goid"] for e in xs}
    harness.check(name + ": only goroutine 1", goids == {1}, str(sorted(goids)[:10]))


def test_json_gz_min_duration_goid():
    if os.geteuid() != 0:
        raise harness.Skip("tracing needs root")
    _filtered_case(["states", "--", _newest("states")], "states", 50)
    _filtered_case(["funcgraph", "main.*", "--", _newest("funcgraph")], "funcgraph", 20)


def test_json_gz_usage():
    for cmd in (["states", "--json", "/tmp/x", "--json-gz", "/tmp/y", "-p", "1"],
                ["funcgraph", "--json-gz", "/tmp/x", "--json", "/tmp/y", "main.*", "/bin/true"],
                ["states", "--min-duration", "1ms", "-p", "1"],
                ["states", "--json", "/tmp/x", "--min-duration", "soon", "-p", "1"]):
        p = harness.run([harness.GOTRACE] + cmd, check_rc=False)
        harness.check(" ".join(cmd[:3]), p.returncode == 2 and p.stderr.count("\n") == 1,
                      "rc=%d stderr=%r" % (p.returncode, p.stderr))


def _shot(name):
    path = os.path.join(viewers.SCREENSHOTS, name)
    if os.path.exists(path):
        os.unlink(path)
    return path


def _speedscope_ok(prefix, rep, select):
    res = rep.get("result") or {}
    warns = [c["text"] for c in rep.get("console", [])
             if c["type"] in ("warning", "error") and "GL Driver Message" not in c["text"]]
    harness.check(prefix + "loaded", rep.get("ok") and res.get("ok") and not rep.get("dialogs") and
                  not rep.get("pageErrors"), "error %s, dialogs %s, page errors %s, text %s" %
                  (rep.get("error"), rep.get("dialogs"), rep.get("pageErrors"), res.get("text")))
    harness.check(prefix + "no_console_warnings", warns == [], "\n".join(warns)[:2000])
    harness.check(prefix + "shows " + select, select in (res.get("shown") or ""),
                  "shown %r of %s" % (res.get("shown"), res.get("profiles")))
    return res


def _track_names(doc):
    return {e["args"]["name"] for e in doc["traceEvents"]
            if e.get("ph") == "M" and e.get("name") == "thread_name"}


def _states_real(v, d):
    js, ss = os.path.join(d, "states.json"), os.path.join(d, "states.speedscope.json")
    harness.run([harness.GOTRACE, "states", "-q", "--no-summary", "--json", js, "--speedscope", ss,
                 "--", _newest("states")], timeout=120)
    with open(js) as f:
        doc = json.load(f)
    shot = _shot("catapult-states-real.png")
    viewers.catapult_checks("states catapult: ", v.load("catapult", js, shot), doc)
    harness.check("states catapult: screenshot", *viewers.png_ok(shot))
    shot = _shot("speedscope-states-real.png")
    res = _speedscope_ok("states speedscope: ", v.load("speedscope", ss, shot, select=" main."), " main.")
    harness.check("states speedscope: one profile per track",
                  set(res.get("profiles", [])) <= _track_names(doc) and
                  len(res.get("profiles", [])) == len({e["tid"] for e in doc["traceEvents"]
                                                       if e.get("ph") == "X"}),
                  "viewer %s" % res.get("profiles"))
    harness.check("states speedscope: screenshot", *viewers.png_ok(shot))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _go():
    for c in viewers.GO_CANDIDATES:
        path = shutil.which(c)
        if path:
            return path
    raise harness.Skip("no go command for go tool pprof")


def _pprof_web(v, pb, func, total_ns):
    """go tool pprof -http, the flame graph page: it must show func and a
    total of total_ns (as pprof rounds it: "33.82ms (100%)")."""
    port = _free_port()
    base = "http://127.0.0.1:%d" % port
    proc = subprocess.Popen([_go(), "tool", "pprof", "-http=127.0.0.1:%d" % port, "-no_browser", pb],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/ui/", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        shot = _shot("pprof-flamegraph-real.png")
        rep = v.page(base + "/ui/flamegraph", "main.fgRec", shot)
        res = rep.get("result") or {}
        harness.check("pprof web: loaded", rep.get("ok") and res.get("ok"),
                      "error %s, page errors %s" % (rep.get("error"), rep.get("pageErrors")))
        text = res.get("text") or ""
        harness.check("pprof web: shows " + func, func in text, text[:300])
        m = re.search(r"([0-9.]+)(ns|us|\u00b5s|ms|s) \(100%\)", text)
        scale = {"ns": 1, "us": 1e3, "\u00b5s": 1e3, "ms": 1e6, "s": 1e9}
        shown = float(m.group(1)) * scale[m.group(2)] if m else -1
        harness.check("pprof web: total is the folded total", abs(shown - total_ns) <= total_ns * 0.005,
                      "pprof shows %s, folded total %d ns" % (m and m.group(0), total_ns))
        harness.check("pprof web: screenshot", *viewers.png_ok(shot))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _inferno(v, folded):
    """inferno-flamegraph (cargo install inferno), when installed: its SVG's
    root frame must hold the folded file's total."""
    exe = shutil.which("inferno-flamegraph") or shutil.which(
        os.path.expanduser("~/.cargo/bin/inferno-flamegraph"))
    if not exe:
        # Optional extra viewer, not a Debian package: without it there is
        # nothing to check (speedscope already loads the folded file), and
        # this is not a kernel limit, so it must not count as a skip.
        harness.log("inferno-flamegraph not installed (cargo install inferno): folded "
                    "stacks checked in speedscope only")
        return
    svg = folded + ".svg"
    with open(folded) as f, open(svg, "w") as out:
        total = sum(int(ln.rsplit(" ", 1)[1]) for ln in f)
        f.seek(0)
        # --inverted: roots on top, where the screenshot sees them
        p = subprocess.run([exe, "--inverted", "--countname", "ns", "--title", "gotrace funcgraph --folded"],
                           stdin=f, stdout=out, stderr=subprocess.PIPE, text=True, timeout=120)
    harness.check("inferno: exit 0", p.returncode == 0, p.stderr[-500:])
    with open(svg) as f:
        text = f.read()
    want = "<title>all ({:,} ns, 100%)</title>".format(total)
    harness.check("inferno: root holds the folded total", want in text, "want %s" % want)
    shot = _shot("inferno-folded-real.png")
    rep = v.page("file://" + svg, "main.fgRec", shot)
    harness.check("inferno: svg shown", rep.get("ok"), str(rep.get("error")))
    harness.check("inferno: screenshot", *viewers.png_ok(shot))


def _funcgraph_real(v, d):
    js, ss = os.path.join(d, "fg.json"), os.path.join(d, "fg.speedscope.json")
    folded, pb = os.path.join(d, "fg.folded"), os.path.join(d, "fg.pb.gz")
    harness.run([harness.GOTRACE, "funcgraph", "-q", "--no-summary", "--json", js, "--speedscope", ss,
                 "--folded", folded, "--pprof", pb, "-x", "main.fgGrow", "main.*fg*", "--",
                 _newest("funcgraph"),
                 "-n", "4", "-depth", "12"], timeout=120)
    with open(js) as f:
        doc = json.load(f)
    shot = _shot("catapult-funcgraph-real.png")
    viewers.catapult_checks("funcgraph catapult: ", v.load("catapult", js, shot), doc)
    harness.check("funcgraph catapult: screenshot", *viewers.png_ok(shot))

    # leave the busiest calls track on screen
    per_tid = {}
    for e in doc["traceEvents"]:
        if e.get("ph") == "X":
            per_tid[e["tid"]] = per_tid.get(e["tid"], 0) + 1
    busiest = {e["tid"]: e["args"]["name"] for e in doc["traceEvents"]
               if e.get("ph") == "M" and e.get("name") == "thread_name"}[max(per_tid, key=per_tid.get)]
    shot = _shot("speedscope-funcgraph-real.png")
    _speedscope_ok("funcgraph speedscope: ", v.load("speedscope", ss, shot, select=busiest), busiest)
    harness.check("funcgraph speedscope: screenshot", *viewers.png_ok(shot))

    # speedscope reads folded stacks ("a;b;c N") as one profile named after the file
    shot = _shot("speedscope-folded-real.png")
    _speedscope_ok("folded speedscope: ", v.load("speedscope", folded, shot), "fg.folded")
    harness.check("folded speedscope: screenshot", *viewers.png_ok(shot))

    _inferno(v, folded)

    # the function with the most inclusive time must be labelled in full
    # (narrow boxes get shortened labels), and the total must be the
    # folded file's (both weigh calls by self time)
    incl, total = {}, 0
    with open(folded) as f:
        for ln in f:
            stack, n = ln.rsplit(" ", 1)
            total += int(n)
            for fr in set(stack.split(";")):
                incl[fr] = incl.get(fr, 0) + int(n)
    top = max((fr for fr in incl if fr.startswith("main.")), key=lambda fr: incl[fr])
    _pprof_web(v, pb, top, total)


def _flows_real(v, d):
    """The handoff program's unblock arrows in Catapult, zoomed on one."""
    js = os.path.join(d, "handoff.json")
    harness.run([harness.GOTRACE, "states", "-q", "--no-summary", "--json", js, "--",
                 _defaults("handoff")[-1]["path"], "-n", "20"], timeout=120)
    with open(js) as f:
        doc = json.load(f)
    s = [e for e in doc["traceEvents"] if e.get("ph") == "s" and e["name"] == "unblock"]
    # B alone is woken 21 times (20 sends and the close); other goroutines
    # (main waiting for the result) add a few: at least B's, at most 30.
    if not harness.check("flows catapult: unblock arrows in the file", 21 <= len(s) <= 30, "%d" % len(s)):
        return
    t = float(s[len(s) // 2]["ts"]) / 1000      # ms, Catapult's world unit
    shot = _shot("catapult-flows-real.png")
    viewers.catapult_checks("flows catapult: ", v.load("catapult", js, shot, flows=True,
                                                       zoom=(t - 0.15, t + 0.35)), doc)
    harness.check("flows catapult: screenshot", *viewers.png_ok(shot))


def test_real_traces_in_viewers():
    if os.geteuid() != 0:
        raise harness.Skip("tracing needs root")
    v = viewers.setup()
    with tempfile.TemporaryDirectory() as d:
        _states_real(v, d)
        _flows_real(v, d)
        _funcgraph_real(v, d)
