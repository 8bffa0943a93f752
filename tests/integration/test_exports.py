"""--json with --speedscope on states and funcgraph: both files written, the
Chrome trace valid, the speedscope file in speedscope's schema with one
profile per goroutine track of the Chrome trace; --speedscope alone is a
usage error."""
import json
import os
import sys
import tempfile

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "lib"))
import trace_validate  # noqa: E402

SCHEMA = "https://www.speedscope.app/file-format-schema.json"


def _newest(prog):
    builds = [b for b in harness.testprog_builds()
              if b["prog"] == prog and b["variant"] == "default" and b["goarch"] == "amd64"]
    if not builds:
        raise AssertionError("no default build of %s" % prog)
    return max(builds, key=lambda b: [int(x) for x in b["go"][2:].split(".")])["path"]


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
