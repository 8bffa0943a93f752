"""`make demo`'s script end to end: the README's first command must produce a
Chrome trace that passes the validator and shows the demo program's
goroutines (it reports how many it starts: -n 16 workers)."""
import json
import os
import sys

import harness

sys.path.insert(0, os.path.join(harness.ROOT, "tests", "lib"))
import trace_validate  # noqa: E402


def test_demo_writes_a_valid_trace():
    if os.geteuid() != 0:
        raise harness.Skip("tracing needs root")
    p = harness.run(["bash", os.path.join(harness.ROOT, "scripts", "demo.sh")], timeout=300)
    trace = os.path.join(harness.BUILD, "demo", "trace.json")
    problems = trace_validate.validate(trace)
    assert not problems, "demo trace invalid: %s" % problems[:5]
    with open(trace) as f:
        doc = json.load(f)
    names = [e["args"]["name"] for e in doc["traceEvents"]
             if e.get("ph") == "M" and e.get("name") == "thread_name"]
    workers = [n for n in names if " main." in n]
    assert len(workers) >= 16, "expected the 16 workers' tracks, got %s" % names[:20]
    assert "demo: done" in p.stdout + p.stderr
