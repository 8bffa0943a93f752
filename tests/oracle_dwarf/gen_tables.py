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
          "g_parentgoid", "g_sched_bp", "g_sched_lr", "g_syscallsp", "g_syscallpc",
          "g_waitsince", "g_lockedm", "g_labels", "g_cleanups", "g_trackingseq",
          "m_curg", "m_g0", "m_procid", "m_id"]


def lists(vers, key, prefix, out):
    """Emit one C string array per distinct list (a version whose list
    equals the previous version's shares it); returns minor -> name."""
    prev, prev_name, names = None, None, {}
    for minor in sorted(vers):
        w = vers[minor][key]
        if w == prev:
            names[minor] = prev_name
            continue
        name = "%s_1_%d" % (prefix, minor)
        out.append("/* %s */" % vers[minor]["goversion"])
        out.append("static const char *const %s[] = {" % name)
        for s in w:
            out.append("\t%s," % json.dumps(s))
        out.append("};\n")
        names[minor] = prev_name = name
        prev = w
    return names


def main():
    d = sys.argv[1]
    vers = {}
    for path in glob.glob(os.path.join(d, "go1.*-amd64.json")):
        a = json.load(open(path))
        b = json.load(open(path.replace("-amd64", "-arm64")))
        if (a["offsets"] != b["offsets"] or a["wait_reasons"] != b["wait_reasons"] or
                a["g_status_names"] != b["g_status_names"] or
                a["funcid_wrapper"] != b["funcid_wrapper"]):
            sys.exit("%s: amd64 and arm64 differ" % a["goversion"])
        minor = int(re.match(r"go1\.(\d+)", a["goversion"]).group(1))
        vers[minor] = a
    out = []
    wr_name = lists(vers, "wait_reasons", "wr", out)
    gs_name = lists(vers, "g_status_names", "gs", out)
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
        out.append("\t\t.gstatus = %s, .ngstatus = ARRAY_SIZE(%s)," % (gs_name[minor], gs_name[minor]))
        out.append("\t\t.funcid_wrapper = %d," % vers[minor]["funcid_wrapper"])
        out.append("\t},")
    out.append("};")
    print("\n".join(out))


if __name__ == "__main__":
    main()
