"""The toolchain list: what docs/testing.md claims the tests run with is
what scripts/toolchains.sh fetches plus the machine's newest Go and
Debian's Go 1.19, and the testprog manifest has builds of every one of
them, so the list cannot shrink silently (a toolchain the proxy no longer
serves, a package gone).  In CI a shortfall fails; elsewhere it is a skip
that names what is missing."""
import os
import re
import subprocess

import harness


def go_version(exe):
    try:
        p = subprocess.run([exe, "version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, timeout=60, env=dict(os.environ, GOTOOLCHAIN="local", GOENV="off",
                                                           GOFLAGS=""))
    except OSError:
        return None
    m = re.search(r"go version (go1\.\d+(?:\.\d+)?) ", p.stdout)
    return m.group(1) if m else None


def fetched_by_script():
    with open(os.path.join(harness.ROOT, "scripts", "toolchains.sh")) as f:
        m = re.search(r"^FETCH_VERSIONS=\(\$\{GOTRACE_GO_VERSIONS:-([0-9. ]+)\}\)", f.read(), re.M)
    if not m:
        raise AssertionError("scripts/toolchains.sh: no FETCH_VERSIONS=(${GOTRACE_GO_VERSIONS:-...}) line")
    return ["go" + v for v in m.group(1).split()]


def test_docs_list_is_the_scripts():
    claimed = harness.claimed_toolchains()
    fetched = fetched_by_script()
    extra = [v for v in claimed if v not in fetched]
    harness.check("claimed-count", len(claimed) == 13 and len(set(claimed)) == 13,
                  "docs/testing.md lists %d: %s" % (len(claimed), claimed))
    harness.check("claimed-sorted", claimed == sorted(claimed, key=lambda v: [int(x) for x in v[2:].split(".")]),
                  " ".join(claimed))
    harness.check("script-fetches-claimed", set(fetched) <= set(claimed),
                  "fetched but not claimed: %s" % sorted(set(fetched) - set(claimed)))
    # the two not fetched: the machine's newest Go and Debian's 1.19
    harness.check("newest-and-debian", len(extra) == 2 and any(v.startswith("go1.19.") for v in extra),
                  "claimed but not fetched: %s" % extra)
    machine = [v for v in (go_version("/usr/local/go/bin/go"), go_version("/usr/lib/go-1.19/bin/go")) if v]
    if set(machine) == set(extra):
        harness.check("machine-has-them", True, " ".join(machine))
    else:
        harness.missing("machine-has-them", "this machine's newest Go and Debian's Go 1.19 are %s, "
                        "docs/testing.md says %s" % (machine, extra))


def test_manifest_has_every_toolchain():
    builds = harness.testprog_builds()
    harness.check_toolchains("manifest", {b["go"] for b in builds})
    # what the integration tests trace: every claimed toolchain from 1.17
    for prog in ("states", "funcgraph", "blockstack", "handoff"):
        harness.check_toolchains("manifest-" + prog, {b["go"] for b in builds if b["prog"] == prog
                                                      and b["goarch"] == harness.HOSTARCH}, 17)
