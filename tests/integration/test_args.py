"""Integration tests of `gotrace funcgraph --args` on testprogs/args.

The test program prints, on every call of every main.*arg* function, its
own arguments at entry and its results just before returning, encoded by
reflection (testprogs/args/truth.go): that is the truth.  For every build
(every Go toolchain >= 1.17, default and PIE), the tracer's jsonl must
have the same calls per goroutine and function, and each value must equal
what the program printed, within the read limits, with a status that says
exactly why it is not complete: "truncated" (a limit), "unreadable" (a
float argument in an X register, which BPF programs can't read; the
pointer the program passes to an unmapped page), "nil".  Stripped builds:
--args=raw's registers must hold the program's integer arguments.  Plus
--filter (integers, string prefixes), --args=SPEC selections, the text
output and the Chrome trace's args.
"""
import collections
import json
import os
import re
import struct
import subprocess
import tempfile

import harness
from harness import check

PROG = "args"
PATTERN = "main.*arg[A-Z]*"
LIMITS = {"string": 64, "elems": 8, "depth": 4, "size": 4096}


def builds(variants=("default", "pie")):
    m = [b for b in harness.testprog_builds()
         if b["prog"] == PROG and b["goarch"] == harness.HOSTARCH and b["variant"] in variants
         and harness.go_minor(b["go"]) >= 17]
    if not m:
        raise AssertionError("no build of testprogs/%s (scripts/build-testprogs.sh)" % PROG)
    return m


def norm_func(name):
    return re.sub(r"\[.*\]", "[...]", name)


def trace(path, extra, pattern=PATTERN, timeout=300):
    """Run the program under gotrace; (process, jsonl objects)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.jsonl")
        cmd = [harness.GOTRACE, "funcgraph", "-q", "--no-summary", "--format=jsonl", "-o", out]
        cmd += extra + [pattern, "--", path]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
        objs = []
        if os.path.exists(out):
            with open(out) as fh:
                objs = [json.loads(line) for line in fh if line.strip()]
        return p, [o for o in objs if o.get("type") == "call"]


def truth(stdout):
    """(goid, func) -> {"in": [vals...], "out": [vals...]} in program order."""
    t = collections.defaultdict(lambda: {"in": [], "out": []})
    for line in stdout.splitlines():
        if line.startswith("argtruth "):
            o = json.loads(line[len("argtruth "):])
            t[(o["goid"], norm_func(o["func"]))][o["ev"]].append(o["vals"])
    return t


def calls_by_key(calls):
    by = collections.defaultdict(list)
    for c in sorted(calls, key=lambda c: c["start_ns"]):
        by[(c["goid"], norm_func(c["func"]))].append(c)
    return by


# --- values -----------------------------------------------------------------

def json_bytes(b):
    """What gotrace writes for bytes b in a JSON string: valid UTF-8 as is,
    every byte of an invalid sequence as U+FFFD (docs/formats.md)."""
    out, i = [], 0
    while i < len(b):
        c = b[i]
        n = 1 if c < 0x80 else 2 if c & 0xe0 == 0xc0 else 3 if c & 0xf0 == 0xe0 else \
            4 if c & 0xf8 == 0xf0 else 0
        if n and i + n <= len(b) and all(x & 0xc0 == 0x80 for x in b[i + 1:i + n]):
            out.append(b[i:i + n].decode("utf-8", "replace"))
            i += n
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def fl(x):
    return float.fromhex(x["f"])


class Cmp:
    """Compares one traced value with the program's; collects why not."""

    def __init__(self):
        self.errs = []
        self.seen = set()   # "truncated", "unreadable", "fpreg"

    def err(self, path, msg):
        self.errs.append("%s: %s" % (path, msg))

    def val(self, path, tv, tt, tname):
        if isinstance(tv, dict) and tv.get("status") in ("truncated", "unreadable") \
                and set(tv) - {"status", "len", "addr", "register", "itab"} == set():
            self.status_only(path, tv, tt)
            return
        if tt is None:
            if tv is not None:
                self.err(path, "program says nil, trace %r" % (tv,))
            return
        if isinstance(tt, bool):
            if tv is not tt:
                self.err(path, "program %r, trace %r" % (tt, tv))
        elif isinstance(tt, int):
            got = int(tv) if isinstance(tv, str) else tv
            if got != tt or (isinstance(tv, str) and abs(tt) <= 2**53):
                self.err(path, "program %r, trace %r" % (tt, tv))
        elif "f" in tt:
            self.float(path, tv, fl(tt), tname)
        elif "re" in tt:
            half = "float32" if tname == "complex64" else "float64"
            if not isinstance(tv, dict):
                self.err(path, "complex: trace %r" % (tv,))
                return
            self.float(path + ".re", tv.get("re"), fl(tt["re"]), half)
            self.float(path + ".im", tv.get("im"), fl(tt["im"]), half)
        elif "hex" in tt:
            self.string(path, tv, tt)
        elif "time" in tt:
            if tv != tt["time"]:
                self.err(path, "program %s, trace %r" % (tt["time"], tv))
        elif "dur" in tt:
            if tv != tt["dur"]:
                self.err(path, "program %d ns, trace %r" % (tt["dur"], tv))
        elif "fields" in tt:
            self.struct(path, tv, tt)
        elif "type" in tt:
            self.iface(path, tv, tt)
        elif "cap" in tt and "elems" in tt:
            self.slice(path, tv, tt, tname)
        elif "elems" in tt:
            self.elems(path, tv, tt["elems"], None, elem_type(tname))
        elif "func" in tt:
            if not isinstance(tv, dict) or tv.get("func") != tt["func"]:
                self.err(path, "program func %s, trace %r" % (tt["func"], tv))
        elif "cap" in tt or "len" in tt:  # chan, map
            if not isinstance(tv, dict) or any(tv.get(k) != tt[k] for k in tt):
                self.err(path, "program %r, trace %r" % (tt, tv))
        elif "addr" in tt and "elem" not in tt and tname == "unsafe.Pointer":
            if tv != tt["addr"]:
                self.err(path, "program %s, trace %r" % (tt["addr"], tv))
        elif "addr" in tt:
            self.ptr(path, tv, tt, tname)
        else:
            self.err(path, "unexpected truth %r" % (tt,))

    def status_only(self, path, tv, tt):
        st = tv["status"]
        self.seen.add(st)
        if "register" in tv:
            self.seen.add("fpreg")
            # BPF sees no floating-point registers: only floats may be there
            if not (isinstance(tt, dict) and ("f" in tt or "re" in tt)):
                self.err(path, "unreadable in %s but not a float: %r" % (tv["register"], tt))
        elif st == "unreadable":
            # only the deliberately bad pointer's pointee (no "elem" in the truth)
            if not (isinstance(tt, dict) and "elem" not in tt and "addr" not in tt) and tt is not None:
                self.err(path, "unreadable, program has %r" % (tt,))
        elif "len" in tv and isinstance(tt, dict) and "len" in tt and tv["len"] != tt["len"]:
            self.err(path, "truncated with len %s, program len %s" % (tv["len"], tt["len"]))

    def float(self, path, tv, want, tname):
        if isinstance(tv, dict) and tv.get("status") == "unreadable":
            self.seen.update(("unreadable", "fpreg"))
            return
        if isinstance(tv, str):
            got = {"NaN": float("nan"), "+Inf": float("inf"), "-Inf": float("-inf")}.get(tv)
        else:
            got = tv
        if got is None:
            self.err(path, "float: trace %r" % (tv,))
            return
        if tname in ("float32", "go.shape.float32"):
            got = struct.unpack("f", struct.pack("f", got))[0]
        if not (got == want or (got != got and want != want)):
            self.err(path, "program %r, trace %r" % (want, tv))

    def string(self, path, tv, tt):
        full = bytes.fromhex(tt["hex"])
        if not isinstance(tv, str):
            self.err(path, "string: trace %r" % (tv,))
            return
        want = json_bytes(full[:LIMITS["string"]])
        if tv != want:
            self.err(path, "program %r, trace %r" % (want, tv))
        if tt["len"] > LIMITS["string"]:
            self.seen.add("truncated")

    def elems(self, path, tv, want, total, et):
        if not isinstance(tv, list):
            self.err(path, "elements: trace %r" % (tv,))
            return
        n = len(tv)
        if n < len(want) or (total or len(want)) > n:
            self.seen.add("truncated")
        if n > len(want):
            self.err(path, "%d elements traced, program has %d" % (n, len(want)))
        for i, (a, b) in enumerate(zip(tv, want)):
            self.val("%s[%d]" % (path, i), a, b, et)

    def slice(self, path, tv, tt, tname):
        if not isinstance(tv, dict) or tv.get("len") != tt["len"] or tv.get("cap") != tt["cap"]:
            self.err(path, "program len %d cap %d, trace %r" % (tt["len"], tt["cap"], tv))
            return
        et = elem_type(tname)
        limit = LIMITS["string"] if et == "uint8" else LIMITS["elems"]
        got = tv.get("elems")
        if isinstance(got, list) and len(got) != min(tt["len"], limit):
            self.err(path, "%d elements traced, want %d" % (len(got), min(tt["len"], limit)))
        self.elems(path, got, tt["elems"][:limit], tt["len"], et)

    def ptr(self, path, tv, tt, tname):
        if not isinstance(tv, dict) or tv.get("addr") != tt["addr"]:
            self.err(path, "program %s, trace %r" % (tt["addr"], tv))
            return
        if "elem" in tv:
            if "elem" not in tt:
                te = tv["elem"]
                if not (isinstance(te, dict) and te.get("status") == "unreadable"):
                    self.err(path, "traced a pointee the program could not show: %r" % (te,))
                else:
                    self.seen.add("unreadable")
                return
            self.val(path + ".*", tv["elem"], tt["elem"], tname[1:] if tname.startswith("*") else "")

    def struct(self, path, tv, tt):
        if not isinstance(tv, dict):
            self.err(path, "struct: trace %r" % (tv,))
            return
        if list(tv) != [f[0] for f in tt["fields"]]:
            self.err(path, "fields %s, program %s" % (list(tv), [f[0] for f in tt["fields"]]))
            return
        for name, v in tt["fields"]:
            self.val(path + "." + name, tv[name], v, "")

    def iface(self, path, tv, tt):
        if not isinstance(tv, dict) or tv.get("type") != tt["type"]:
            self.err(path, "program type %s, trace %r" % (tt["type"], tv))
            return
        self.val(path + "(" + tt["type"] + ")", tv.get("value"), tt["value"], tt["type"])
        if "error" in tt:
            want = json_bytes(bytes.fromhex(tt["error"]["hex"])[:LIMITS["string"]])
            if tv.get("error") != want:
                self.err(path, "error message %r, trace %r" % (want, tv.get("error")))


def elem_type(tname):
    for pre in ("[]", "*"):
        if tname.startswith(pre):
            return tname[len(pre):]
    m = re.match(r"\[\d+\](.*)", tname)
    return m.group(1) if m else ""


def compare_vals(where, traced, want, results, c):
    """traced: the jsonl "args"/"ret" array; want: the program's vals."""
    if traced is None:
        c.err(where, "values lost")
        return
    byname = {v["name"]: v for v in traced}
    for i, w in enumerate(want):
        if results and w["name"].startswith("~r"):
            tv = traced[i] if i < len(traced) else None   # unnamed: by position
        else:
            tv = byname.get(w["name"])
        if tv is None:
            c.err(where, "no value %s" % w["name"])
            continue
        sub = Cmp()
        sub.val("%s.%s" % (where, w["name"]), tv["value"], w["v"], tv["type"])
        c.errs += sub.errs
        c.seen |= sub.seen
        want_st = "nil" if w["v"] is None else \
            "unreadable" if "unreadable" in sub.seen or "fpreg" in sub.seen else \
            "truncated" if "truncated" in sub.seen else "ok"
        if tv["status"] != want_st and not sub.errs:
            c.err(where, "%s: status %s, want %s" % (w["name"], tv["status"], want_st))


def compare(name, stdout, calls, go_minor):
    """Every call's values against the program's own."""
    want = truth(stdout)
    got = calls_by_key(calls)
    c = Cmp()
    counts = []
    nvals = 0
    for key in sorted(set(want) | set(got)):
        tw, tc = want[key], got.get(key, [])
        if len(tw["in"]) != len(tc):
            counts.append("%s g%d: program %d calls, trace %d" % (key[1], key[0], len(tw["in"]), len(tc)))
            continue
        for k, call in enumerate(tc):
            where = "%s#%d" % (key[1], k)
            if "args_unsupported" in call:
                # DWARF leaves blank parameters out before Go 1.22: the
                # tracer must refuse, not shift
                if not (key[1] == "main.argBlank" and go_minor < 22):
                    c.err(where, "unsupported: " + call["args_unsupported"])
                continue
            compare_vals(where + " args", call.get("args"), tw["in"][k], False, c)
            if "ret_unsupported" in call:
                # Go 1.17's DWARF has no unnamed results: said, not guessed
                if go_minor != 17 or any(not v["name"].startswith("~r") for v in tw["out"][k]):
                    c.err(where, "ret unsupported: " + call["ret_unsupported"])
            elif k < len(tw["out"]):
                compare_vals(where + " ret", call.get("ret"), tw["out"][k], True, c)
            nvals += len(tw["in"][k]) + (len(tw["out"][k]) if k < len(tw["out"]) else 0)
    check(name + ":calls", bool(want) and not counts, "; ".join(counts[:6]))
    check(name + ":values", nvals > 100 and not c.errs,
          "%d values; %d differences: %s" % (nvals, len(c.errs), "; ".join(c.errs[:6])))
    # the program passes floats in X registers and strings beyond the
    # limit: both must show up, marked
    check(name + ":statuses", {"fpreg", "truncated", "unreadable"} <= c.seen,
          "seen %s" % sorted(c.seen))


def test_values():
    """Every value of every call equals the program's, on every build."""
    harness.need_root()
    for b in builds():
        name = "%s/%s" % (b["go"], b["variant"])
        p, calls = trace(b["path"], ["--args", "--string-size", str(LIMITS["string"]),
                                     "--elems", str(LIMITS["elems"]),
                                     "--args-depth", str(LIMITS["depth"]),
                                     "--args-size", str(LIMITS["size"])])
        if not check(name + ":runs", p.returncode == 0 and calls,
                     "exit %d\n%s" % (p.returncode, p.stderr[-1500:])):
            continue
        compare(name, p.stdout, calls, harness.go_minor(b["go"]))
        check(name + ":no-loss", "lost" not in p.stderr, p.stderr[-500:])


def test_raw_stripped():
    """--args=raw on stripped builds: the registers hold the integer arguments."""
    harness.need_root()
    for b in builds(("stripped", "pie-stripped")):
        name = "raw/%s/%s" % (b["go"], b["variant"])
        p, calls = trace(b["path"], ["--args=raw"], pattern="main.argInts")
        if not check(name + ":runs", p.returncode == 0 and calls, p.stderr[-1500:]):
            continue
        want = truth(p.stdout)
        errs = []
        n = 0
        for (goid, fn), tw in want.items():
            if fn != "main.argInts":
                continue
            tc = calls_by_key(calls).get((goid, fn), [])
            if len(tc) != len(tw["in"]):
                errs.append("g%d: %d calls, program %d" % (goid, len(tc), len(tw["in"])))
                continue
            for call, vin, vout in zip(tc, tw["in"], tw["out"]):
                regs = [int(r["value"]) for r in call["args"]]
                # a..i are int8 ... uint64: the first nine integer registers
                sizes = [1, 2, 4, 8, 8, 1, 2, 4, 8]
                for reg, v, size in zip(regs, vin, sizes):
                    mask = (1 << (8 * size)) - 1
                    n += 1
                    if reg & mask != v["v"] & mask:
                        errs.append("%s: register 0x%x, program %d" % (v["name"], reg, v["v"]))
                ret = int(call["ret"][0]["value"])
                if ret != vout[0]["v"] & (2**64 - 1):
                    errs.append("~r0: RAX 0x%x, program %d" % (ret, vout[0]["v"]))
        check(name + ":registers", n >= 18 and not errs, "%d compared; %s" % (n, "; ".join(errs[:6])))


def newest():
    return max(builds(("default",)), key=lambda b: harness.go_minor(b["go"]))


def test_no_dwarf_needs_raw():
    """--args on a stripped binary: one clear line, pointing at --args=raw."""
    harness.need_root()
    b = [x for x in builds(("stripped",))][-1]
    p = subprocess.run([harness.GOTRACE, "funcgraph", "-q", "--args", "main.argInts", "--", b["path"]],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    check("no-dwarf", p.returncode != 0 and "--args=raw" in p.stderr and
          p.stderr.count("\n") <= 2, p.stderr[-500:])


def test_filter():
    """--filter in BPF: integer and string-prefix conditions keep exactly the matching calls."""
    harness.need_root()
    b = newest()
    cases = [
        ("main.argInts", "e == 5", lambda v: v["e"] == 5),
        ("main.argStrings", 's ^= "hello"', lambda v: bytes.fromhex(v["s"]["hex"]).startswith(b"hello")),
        ("main.argStructs", "s.A < 0", lambda v: v["s"]["fields"][0][1] < 0),
    ]
    for fn, expr, pred in cases:
        name = "filter/%s" % expr
        p, calls = trace(b["path"], ["--filter", expr], pattern=fn)
        if not check(name + ":runs", p.returncode == 0, p.stderr[-1000:]):
            continue
        want = collections.Counter()
        for (goid, f), tw in truth(p.stdout).items():
            if f == fn:
                for vals in tw["in"]:
                    if pred({v["name"]: v["v"] for v in vals}):
                        want[goid] += 1
        got = collections.Counter(c["goid"] for c in calls if c["end"] == "ret")
        check(name + ":calls", sum(want.values()) > 0 and want == got,
              "program %s, trace %s" % (dict(want), dict(got)))


def test_select():
    """--args=GLOB(names): only those values, fields through a struct."""
    harness.need_root()
    b = newest()
    p, calls = trace(b["path"], ["--args=main.argStructs(o.TTL, o.Name, $ret)"],
                     pattern="main.argStructs")
    if not check("select:runs", p.returncode == 0 and calls, p.stderr[-1000:]):
        return
    errs = []
    want = truth(p.stdout)
    for (goid, fn), tc in calls_by_key(calls).items():
        for call, vin in zip(tc, want[(goid, fn)]["in"]):
            names = [v["name"] for v in call["args"]]
            o = dict((f[0], f[1]) for f in {v["name"]: v["v"] for v in vin}["o"]["fields"])
            vals = {v["name"]: v["value"] for v in call["args"]}
            if names != ["o.TTL", "o.Name"] or vals["o.TTL"] != o["TTL"]["dur"] or \
                    vals["o.Name"] != json_bytes(bytes.fromhex(o["Name"]["hex"])):
                errs.append("%r vs %r" % (call["args"], o))
            if [v["name"] for v in call["ret"]] != ["~r0", "~r1"]:
                errs.append("ret %r" % call["ret"])
    check("select:values", calls and not errs, "; ".join(errs[:4]))
    # the same selection written in the pattern, next to a function with
    # --args' everything
    p, calls = trace(b["path"], ["--args", "main.argBools"],
                     pattern="main.argStructs(o.TTL, o.Name, $ret)")
    by = collections.defaultdict(set)
    for c in calls:
        by[c["func"]].add(tuple(v["name"] for v in c.get("args") or []))
    check("select:in-pattern", p.returncode == 0 and
          by["main.argStructs"] == {("o.TTL", "o.Name")} and by["main.argBools"] == {("a", "b")},
          "%r\n%s" % (dict(by), p.stderr[-500:]))
    p = subprocess.run([harness.GOTRACE, "funcgraph", "--args=main.argStructs(nosuch)",
                        "main.argStructs", "--", b["path"]],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    check("select:unknown-name", p.returncode != 0 and "nosuch" in p.stderr, p.stderr[-300:])


def text_val(v):
    """name=value as the text output writes the program's value: integers in
    decimal (uintptr k in hex), bools, durations as Go's String(), times
    as RFC 3339 in UTC."""
    x = v["v"]
    if isinstance(x, bool):
        s = "true" if x else "false"
    elif isinstance(x, int):
        s = "0x%x" % x if v["name"] == "k" else str(x)
    elif "dur" in x:
        s = x["str"]
    elif "time" in x:
        s = x["time"]
    else:
        raise AssertionError("text_val: %r" % (x,))
    return "%s=%s" % (v["name"], s)


def test_text_and_chrome():
    """The text form prints the values as Go would; the Chrome trace carries the jsonl's."""
    harness.need_root()
    b = newest()
    with tempfile.TemporaryDirectory() as tmp:
        js = os.path.join(tmp, "t.json")
        p = subprocess.run([harness.GOTRACE, "funcgraph", "-q", "--no-summary", "--args",
                            "--json", js, "--goid", "1", "main.argBools", "main.argInts",
                            "main.argTime", "--", b["path"]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        if not check("text:runs", p.returncode == 0, p.stderr[-1000:]):
            return
        # the lines as the program's own values say they must read
        want = []
        for (goid, fn), tw in truth(p.stdout).items():
            if goid != 1 or fn not in ("main.argBools", "main.argInts", "main.argTime"):
                continue
            for vin, vout in zip(tw["in"], tw["out"]):
                want.append("%s(%s) -> (%s)" % (fn, ", ".join(text_val(v) for v in vin),
                                                ", ".join(text_val(v) for v in vout)))
        missing = [w for w in want if w not in p.stdout]
        check("text:count", len(want) == 6, "%d lines" % len(want))
        check("text:lines", not missing, "missing %s" % missing)
        with open(js) as fh:
            ev = [e for e in json.load(fh)["traceEvents"] if e.get("ph") == "X" and
                  e["name"] == "main.argBools"]
        ok = ev and all(e["args"]["args"][0]["name"] == "a" and e["args"]["ret"][0]["name"] == "r"
                        for e in ev)
        check("chrome:args", bool(ok), json.dumps(ev[:1])[:500])
