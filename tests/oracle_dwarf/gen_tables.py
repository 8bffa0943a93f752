#!/usr/bin/env python3
"""Print the data part of gosym/version_tables.c from the JSON the source
oracle (tests/oracle_dwarf/source) wrote for each toolchain.

  for each Go toolchain T and arch A:
      GOARCH=A GOROOT=T T/bin/go run tests/oracle_dwarf/source > DIR/<goversion>-<A>.json
  tests/oracle_dwarf/gen_tables.py DIR > /tmp/tables.c

The amd64 and arm64 results must agree (they do for Go 1.17-1.27: neither
struct has arch-dependent fields before the ones we read); the script stops
if they don't.  Wait reason lists equal to the previous version's share it.
"""
import glob
import json
import os
import re
import sys

FIELDS = ["g_stack_lo", "g_stack_hi", "g_m", "g_sched", "g_sched_sp", "g_sched_pc",
          "g_atomicstatus", "g_goid", "g_waitreason", "g_startpc", "g_gopc",
          "g_parentgoid", "m_curg", "m_g0", "m_procid"]


def main():
    d = sys.argv[1]
    vers = {}
    for path in glob.glob(os.path.join(d, "go1.*-amd64.json")):
        a = json.load(open(path))
        b = json.load(open(path.replace("-amd64", "-arm64")))
        if a["offsets"] != b["offsets"] or a["wait_reasons"] != b["wait_reasons"]:
            sys.exit("%s: amd64 and arm64 differ" % a["goversion"])
        minor = int(re.match(r"go1\.(\d+)", a["goversion"]).group(1))
        vers[minor] = a
    out = []
    prev_wr, prev_name = None, None
    wr_name = {}
    for minor in sorted(vers):
        w = vers[minor]["wait_reasons"]
        if w == prev_wr:
            wr_name[minor] = prev_name
            continue
        name = "wr_1_%d" % minor
        out.append("/* %s */" % vers[minor]["goversion"])
        out.append("static const char *const %s[] = {" % name)
        for s in w:
            out.append("\t%s," % json.dumps(s))
        out.append("};\n")
        wr_name[minor] = prev_name = name
        prev_wr = w
    out.append("static const struct gosym_vt vt[] = {")
    for minor in sorted(vers):
        o = vers[minor]["offsets"]
        out.append("\t{ /* checked against %s */" % vers[minor]["goversion"])
        out.append("\t\t.minor = %d, .source = \"table (Go 1.%d)\"," % (minor, minor))
        out.append("\t\t.off = {")
        for i in range(0, len(FIELDS), 4):
            out.append("\t\t\t" + " ".join(".%s = %d," % (f, o[f]) for f in FIELDS[i:i + 4]))
        out.append("\t\t},")
        out.append("\t\t.waitreasons = %s, .nwaitreasons = ARRAY_SIZE(%s)," % (wr_name[minor], wr_name[minor]))
        out.append("\t},")
    out.append("};")
    print("\n".join(out))


if __name__ == "__main__":
    main()
