#!/usr/bin/env python3
"""Record a seed for tests/fuzz/fuzz_goroutines.c from a running Go program:
runtime.allglen and runtime.allgptr, the allgs array, every g and the used
part of every goroutine stack, read from /proc/PID/mem (root), in the
fuzz target's input layout (u64 allglen, u64 allgptr, then regions of
u64 address, u32 length, bytes).

Usage: goroutines_seed.py GOTRACE BINARY OUT
Runs BINARY (testprogs/parked, a non-PIE build), waits for its "ready"
line, records, kills it.  The offsets come from `gotrace info --json`;
this is a seed for the fuzzer, not a truth for tests.
"""
import json
import struct
import subprocess
import sys


def main():
    gotrace, binary, out = sys.argv[1:4]
    info = json.loads(subprocess.run([gotrace, "info", "--json", binary], check=True,
                                     stdout=subprocess.PIPE, text=True).stdout)
    off = info["runtime_offsets"]
    allglen_addr = int(info["allgs"]["allglen"], 16)
    allgptr_addr = int(info["allgs"]["allgptr"], 16)
    gbytes = max(v for v in off.values() if isinstance(v, int)) + 16
    p = subprocess.Popen([binary], stdout=subprocess.PIPE, text=True)
    try:
        json.loads(p.stdout.readline())
        regions = []
        with open("/proc/%d/mem" % p.pid, "rb", buffering=0) as mem:
            def read(a, n):
                mem.seek(a)
                return mem.read(n)

            allglen = struct.unpack("<Q", read(allglen_addr, 8))[0]
            allgptr = struct.unpack("<Q", read(allgptr_addr, 8))[0]
            arr = read(allgptr, 8 * allglen)
            regions.append((allgptr, arr))
            for (g,) in struct.iter_unpack("<Q", arr):
                raw = read(g, gbytes)
                regions.append((g, raw))
                sp = struct.unpack_from("<Q", raw, off["g_sched_sp"])[0] or \
                    struct.unpack_from("<Q", raw, off["g_syscallsp"])[0]
                hi = struct.unpack_from("<Q", raw, off["g_stack_hi"])[0]
                if sp and hi > sp and hi - sp <= 65536:
                    regions.append((sp, read(sp, hi - sp)))
    finally:
        p.kill()
        p.wait()
    with open(out, "wb") as f:
        f.write(struct.pack("<QQ", allglen, allgptr))
        for a, b in regions:
            f.write(struct.pack("<QI", a, len(b)))
            f.write(b)


if __name__ == "__main__":
    main()
