"""`.ci/run` without root fails at once, loudly (exit 1, one message
saying why), instead of going green with every integration test skipped;
and tests/run.py itself, with CI=true and no root, fails the run."""
import os
import subprocess

import harness

# Not root, but able to read the checkout wherever it is: a clone made
# under `mktemp -d` sits in a 0700 directory that nobody could not enter
# (CAP_DAC_READ_SEARCH reads and searches, never writes, and leaves the
# uid, which is what .ci/run and tests/run.py look at, unprivileged).
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
          "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]


def as_nobody(cmd, **kw):
    if os.geteuid() == 0:
        cmd = NOBODY + cmd
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=60, **kw)


def test_ci_run_needs_root():
    p = as_nobody(["bash", os.path.join(harness.ROOT, ".ci", "run")], cwd="/")
    err = p.stderr.strip().splitlines()
    harness.check("ci-run-fails", p.returncode == 1 and len(err) == 1 and "root" in err[0]
                  and p.stdout == "", "exit %d, stdout %r, stderr %r" % (p.returncode, p.stdout[-300:],
                                                                         p.stderr[-500:]))


def test_run_py_in_ci_without_root():
    """tests/run.py -k with a filter matching no unit test, CI=true, as
    nobody: the integration-needs-root failure alone fails the run."""
    env = dict(os.environ, CI="true")
    p = as_nobody(["python3", os.path.join(harness.ROOT, "tests", "run.py"), "-k", "no-such-test-xyz"],
                  env=env, cwd="/")
    harness.check("run-py-fails", p.returncode == 1 and "FAIL: integration-needs-root" in p.stdout,
                  "exit %d, stdout %r" % (p.returncode, p.stdout[-500:]))
