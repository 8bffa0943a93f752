#!/usr/bin/env python3
"""The longest C functions under some directories, longest first.

Usage: scripts/longest_functions.py [-n N] [--over LINES] DIR_OR_FILE...

Counts a function from the first line of its signature to its closing
brace, the way this tree is formatted (kernel style: a function's opening
and closing braces stand alone in column 0).  Prints `lines file:line name`.
With --over, prints only the functions longer than LINES and exits 1 when
there is any (for a check in CI or by hand).
"""
import argparse
import os
import re
import sys

NAME = re.compile(r"([A-Za-z_]\w*)\s*\(")


def functions(path):
    with open(path, errors="replace") as f:
        lines = f.read().split("\n")
    out = []
    i = 0
    while i < len(lines):
        if lines[i] == "{":
            # the signature: its first line starts in column 0, the
            # lines continuing its argument list are indented
            j = i - 1
            while j > 0 and lines[j][:1] in (" ", "\t"):
                j -= 1
            sig = " ".join(l.strip() for l in lines[j:i])
            m = None
            for m in NAME.finditer(sig):
                break
            name = m.group(1) if m else "?"
            if name in ("if", "for", "while", "switch", "sizeof", "return"):
                i += 1
                continue
            k = i + 1
            while k < len(lines) and lines[k] != "}":
                k += 1
            if not sig or "=" in sig.split("(")[0]:
                i = k + 1
                continue
            out.append((k - j + 1, path, j + 1, name))
            i = k + 1
            continue
        i += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--over", type=int)
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    files = []
    for p in a.paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                files += [os.path.join(root, n) for n in names if n.endswith(".c")]
        else:
            files.append(p)
    found = []
    for f in sorted(files):
        found += functions(f)
    found.sort(key=lambda x: -x[0])
    if a.over is not None:
        found = [x for x in found if x[0] > a.over]
    else:
        found = found[:a.n]
    for n, path, line, name in found:
        print("%5d  %s:%d  %s" % (n, path, line, name))
    return 1 if (a.over is not None and found) else 0


if __name__ == "__main__":
    sys.exit(main())
