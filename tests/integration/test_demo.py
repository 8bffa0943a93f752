"""`make demo`'s script end to end: the README's first command must produce a
Chrome trace that passes the validator and shows exactly the goroutines the
demo program says it started (testprogs/goroutines counts its own `go`
statements: started=N on its summary line), each on its own track."""
import json
import os
import re
import sys

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "lib"))
import trace_validate  # noqa: E402


def test_demo_writes_a_valid_trace():
    if os.geteuid() != 0:
        raise harness.Skip("tracing needs root")
    p = harness.run(["bash", os.path.join(harness.ROOT, "scripts", "demo.sh")], timeout=300)
    harness.check("demo-done", "demo: done" in p.stdout + p.stderr, (p.stdout + p.stderr)[-500:])
    trace = os.path.join(harness.BUILD, "demo", "trace.json")
    problems = trace_validate.validate(trace)
    harness.check("trace-valid", not problems, "demo trace invalid: %s" % problems[:5])
    with open(trace) as f:
        doc = json.load(f)
    names = [e["args"]["name"] for e in doc["traceEvents"]
             if e.get("ph") == "M" and e.get("name") == "thread_name"]
    # State tracks are named "G<goid> <start function>"; the program's own
    # goroutines start in package main (G1 starts in runtime.main).
    mine = {n.split(" ")[0] for n in names if re.match(r"G\d+ main\.", n)}
    m = re.search(r"started=(\d+)", p.stdout)
    harness.check("program-says", m is not None, "no started=N in %r" % p.stdout[-300:])
    if m:
        harness.check("one-track-per-goroutine", len(mine) == int(m.group(1)),
                      "%d goroutines starting in main. have tracks, the program started %s: %s"
                      % (len(mine), m.group(1), sorted(names)[:20]))
