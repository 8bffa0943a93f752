"""`make ARCH=arm64` cross-builds the libraries (the issue's minimum), and
the objects really are AArch64 code."""
import os
import subprocess

import harness


def test_arm64_libraries_cross_build():
    if subprocess.run(["which", "aarch64-linux-gnu-gcc"], stdout=subprocess.DEVNULL).returncode:
        raise AssertionError("aarch64-linux-gnu-gcc missing: scripts/deps.sh should install gcc-aarch64-linux-gnu")
    harness.run(["make", "-s", "-C", harness.ROOT, "ARCH=arm64", "libs"], timeout=600)
    lib = os.path.join(harness.BUILD, "arm64", "libgosym.a")
    out = harness.run(["readelf", "-h", lib]).stdout
    machines = {l.split(":", 1)[1].strip() for l in out.splitlines() if "Machine:" in l}
    harness.check("arm64-libgosym", machines == {"AArch64"},
                  "machines in %s: %s (want only AArch64)" % (lib, machines))
