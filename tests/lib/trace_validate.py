#!/usr/bin/env python3
"""Structural validator for the Chrome Trace Event JSON gotrace writes.

validate(path) returns a list of problems (strings); an empty list means the
file keeps every rule of docs/formats.md that can be checked from the file
alone:

  - the file is complete JSON (plain or gzip), an object with traceEvents
    (a list), displayTimeUnit "ns" and an otherData object;
  - every event has the fields its phase needs (only M, X, i, s, f: never
    B/E), pid and tid are non-zero uint32, ts/dur are non-negative numbers
    written with exactly 3 decimals (integer nanoseconds);
  - per (pid, tid), X and i events appear sorted by (ts asc, dur desc) and
    slices nest strictly (a slice that starts inside another ends inside it);
  - flows: every s has exactly one f with the same (cat, name, id), the f is
    not earlier than the s, f has bp "e", and each end lies strictly inside a
    slice of its thread and on no edge of a nested slice or instant (so every
    viewer binds it to that slice);
  - every thread used has a thread_name, every process a process_name.

bind_flows(doc) tells, for each flow, which slice each end binds to (the
deepest slice holding the time), for comparing with a viewer's model.

Usage: trace_validate.py FILE...   (exit 1 if any file has problems)
"""
import bisect
import decimal
import gzip
import json
import re
import sys

MAX_PROBLEMS = 50
U32 = (1 << 32) - 1
PHASES = {"M", "X", "i", "s", "f"}
METADATA = {"process_name", "thread_name", "thread_sort_index", "process_sort_index",
            "process_labels"}
# "ts":123.456 / "dur":0.001 as the writer prints them (integer ns).
NUM_RE = re.compile(rb'"(ts|dur)":(-?[0-9.eE+-]+)')
NS_RE = re.compile(rb"^[0-9]+\.[0-9]{3}$")


def read_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def _reject_constant(name):
    raise ValueError("non-standard JSON constant %s" % name)


def load(path):
    """The parsed document (numbers as Decimal) and its raw bytes."""
    raw = read_bytes(path)
    doc = json.loads(raw.decode("utf-8"), parse_float=decimal.Decimal,
                     parse_constant=_reject_constant)
    return doc, raw


def _ns(v):
    """Microseconds (Decimal or int) -> integer ns, or None if not exact."""
    if isinstance(v, bool) or not isinstance(v, (int, float, decimal.Decimal)):
        return None
    ns = decimal.Decimal(repr(v) if isinstance(v, float) else v) * 1000
    if ns != ns.to_integral_value():
        return None
    return int(ns)


def _is_id(v):
    return isinstance(v, int) and not isinstance(v, bool) and 0 < v <= U32


class _Problems(list):
    def add(self, msg):
        if len(self) < MAX_PROBLEMS:
            self.append(msg)
        elif len(self) == MAX_PROBLEMS:
            self.append("... more problems not shown")


def _check_event(p, i, e):
    """Field checks of one event; returns (pid, tid, ts_ns, dur_ns) or None."""
    where = "event %d" % i
    if not isinstance(e, dict):
        p.add("%s: not an object" % where)
        return None
    ph = e.get("ph")
    if ph not in PHASES:
        p.add("%s: phase %r not allowed (only %s)" % (where, ph, ", ".join(sorted(PHASES))))
        return None
    where += " (%s %r)" % (ph, e.get("name"))
    pid, tid = e.get("pid"), e.get("tid")
    if not _is_id(pid):
        p.add("%s: pid %r is not a non-zero uint32" % (where, pid))
    if not _is_id(tid):
        p.add("%s: tid %r is not a non-zero uint32" % (where, tid))
    name = e.get("name")
    if not isinstance(name, str) or not name:
        p.add("%s: no name" % where)
    if "args" in e and not isinstance(e["args"], dict):
        p.add("%s: args is not an object" % where)
    if ph == "M":
        args = e.get("args")
        if name not in METADATA:
            p.add("%s: unknown metadata event" % where)
        elif name.endswith("_name") and not (isinstance(args, dict) and isinstance(args.get("name"), str)):
            p.add("%s: needs args.name" % where)
        elif name.endswith("_sort_index") and not (isinstance(args, dict) and
                                                   isinstance(args.get("sort_index"), int)):
            p.add("%s: needs an integer args.sort_index" % where)
        return None
    ts = _ns(e.get("ts"))
    if ts is None or ts < 0:
        p.add("%s: ts %r is not a non-negative number of whole ns" % (where, e.get("ts")))
        return None
    if not isinstance(e.get("cat"), str):
        p.add("%s: no cat" % where)
    dur = 0
    if ph == "X":
        dur = _ns(e.get("dur"))
        if dur is None or dur < 0:
            p.add("%s: dur %r is not a non-negative number of whole ns" % (where, e.get("dur")))
            return None
    elif ph == "i":
        if e.get("s", "t") != "t":
            p.add("%s: instant scope %r is not thread ('t')" % (where, e.get("s")))
    elif ph in ("s", "f"):
        if not _is_id(e.get("id")) and not isinstance(e.get("id"), str):
            p.add("%s: flow without id" % where)
        if ph == "f" and e.get("bp") != "e":
            p.add("%s: flow end without bp 'e'" % where)
    if not _is_id(pid) or not _is_id(tid):
        return None
    return pid, tid, ts, dur


class _Track:
    """The X slices of one thread, sorted by (ts, -dur), with each one's
    parent (the enclosing slice) for deepest-slice look-ups."""

    def __init__(self, slices):
        self.slices = sorted(slices, key=lambda s: (s[0], -s[1]))
        self.starts = [s[0] for s in self.slices]
        self.parent = []
        stack = []
        for k, (ts, dur, _name) in enumerate(self.slices):
            while stack and (self.slices[stack[-1]][0] + self.slices[stack[-1]][1] < ts or
                             (self.slices[stack[-1]][0] + self.slices[stack[-1]][1] == ts and dur > 0)):
                stack.pop()
            self.parent.append(stack[-1] if stack else -1)
            stack.append(k)

    def deepest(self, t, strict):
        """Index of the deepest slice whose interval holds t (open interval
        if strict, else closed), or None."""
        k = bisect.bisect_right(self.starts, t) - 1
        while k >= 0:
            ts, dur, _name = self.slices[k]
            if (ts < t < ts + dur) if strict else (ts <= t <= ts + dur):
                return k
            k = self.parent[k]
        return None

    def name(self, k):
        return self.slices[k][2] if k is not None else None

    def at(self, k):
        return self.slices[k] if k is not None else None


def bind_flows(doc):
    """[(name, (tid_from, slice_name), (tid_to, slice_name))] for each flow
    pair, binding each end to the deepest X slice whose closed interval holds
    its time (what Catapult and Perfetto do); None for an end that binds to
    nothing."""
    slices, starts, out = {}, {}, []
    for e in doc.get("traceEvents", []):
        # viewers keep thread instants as zero-length slices: they bind too
        if isinstance(e, dict) and e.get("ph") in ("X", "i"):
            slices.setdefault((e["pid"], e["tid"]), []).append(
                (_ns(e["ts"]), _ns(e.get("dur", 0)), e["name"]))
    tracks = {k: _Track(v) for k, v in slices.items()}
    empty = _Track([])

    def bind(e):
        tr = tracks.get((e["pid"], e["tid"]), empty)
        return (e["tid"], tr.name(tr.deepest(_ns(e["ts"]), strict=False)))

    for e in doc.get("traceEvents", []):
        if not isinstance(e, dict) or e.get("ph") not in ("s", "f"):
            continue
        key = (e.get("cat"), e.get("name"), e.get("id"))
        if e["ph"] == "s":
            starts[key] = bind(e)
        elif key in starts:
            out.append((e.get("name"), starts.pop(key), bind(e)))
    return out


def validate_doc(doc, raw=None):
    p = _Problems()
    if not isinstance(doc, dict):
        return ["top level is not an object (want the Object format)"]
    evs = doc.get("traceEvents")
    if not isinstance(evs, list):
        return ["no traceEvents list"]
    if doc.get("displayTimeUnit") != "ns":
        p.add("displayTimeUnit is %r, want 'ns'" % doc.get("displayTimeUnit"))
    if not isinstance(doc.get("otherData"), dict):
        p.add("no otherData object")
    if raw is not None:
        bad = [m for m in NUM_RE.finditer(raw) if not NS_RE.match(m.group(2))]
        if bad:
            p.add("%d ts/dur values are not written as <us>.<3 digits> (first: %s %s)" %
                  (len(bad), bad[0].group(1).decode(), bad[0].group(2).decode()))

    named_threads, named_procs = set(), set()
    used_threads = set()
    tracks = {}     # (pid, tid) -> [(ts, dur, name, index)] in file order
    flows = {}      # (cat, name, id) -> [s event, f event]
    for i, e in enumerate(evs):
        r = _check_event(p, i, e)
        if isinstance(e, dict) and e.get("ph") == "M":
            if e.get("name") == "thread_name":
                named_threads.add((e.get("pid"), e.get("tid")))
            elif e.get("name") == "process_name":
                named_procs.add(e.get("pid"))
        if r is None:
            continue
        pid, tid, ts, dur = r
        used_threads.add((pid, tid))
        if e["ph"] in ("X", "i"):
            tracks.setdefault((pid, tid), []).append((ts, dur, e.get("name"), i, e["ph"]))
        else:
            key = (e.get("cat"), e.get("name"), e.get("id"))
            pair = flows.setdefault(key, [None, None])
            slot = 0 if e["ph"] == "s" else 1
            if pair[slot] is not None:
                p.add("event %d: flow %r id %r has a second %s" % (i, e.get("name"), e.get("id"), e["ph"]))
            elif slot == 1 and pair[0] is None:
                p.add("event %d: flow %r id %r ends before it starts in the file" %
                      (i, e.get("name"), e.get("id")))
            pair[slot] = (pid, tid, ts, i)

    for (pid, tid) in sorted(used_threads):
        if (pid, tid) not in named_threads:
            p.add("pid %d tid %d has events but no thread_name" % (pid, tid))
        if pid not in named_procs:
            p.add("pid %d has events but no process_name" % pid)
            named_procs.add(pid)

    # Order and strict nesting per track.
    sorted_slices = {}
    for (pid, tid), evl in tracks.items():
        prev = None
        stack = []
        for ts, dur, name, i, ph in evl:
            if prev is not None and (ts, -dur) < prev:
                p.add("event %d (%r) on tid %d: out of order (want ts asc, dur desc)" % (i, name, tid))
            prev = (ts, -dur)
            # A slice [a,b] holds a zero-length event at b; one that starts
            # at b and lasts is its sibling.
            while stack and (stack[-1][1] < ts or (stack[-1][1] == ts and dur > 0)):
                stack.pop()
            if stack and ts + dur > stack[-1][1]:
                p.add("event %d (%r) on tid %d: [%d, %d] ns overlaps %r ending at %d ns" %
                      (i, name, tid, ts, ts + dur, stack[-1][2], stack[-1][1]))
            if ph == "X":
                stack.append((ts, ts + dur, name))
        sorted_slices[(pid, tid)] = (_Track([(ts, dur, name) for ts, dur, name, _i, ph in evl if ph == "X"]),
                                     _Track([(ts, dur, name) for ts, dur, name, _i, ph in evl]))

    for (cat, name, fid), (s, f) in flows.items():
        if s is None or f is None:
            p.add("flow %r id %r: %s without %s" % (name, fid, "f" if s is None else "s",
                                                    "s" if s is None else "f"))
            continue
        if f[2] < s[2]:
            p.add("flow %r id %r goes back in time (%d ns -> %d ns)" % (name, fid, s[2], f[2]))
        for end, what in ((s, "start"), (f, "end")):
            # It must bind unambiguously: the slice strictly holding the
            # time is also the deepest event (instants too) holding it.
            tx, tall = sorted_slices.get((end[0], end[1]), (_Track([]), _Track([])))
            inside = tx.at(tx.deepest(end[2], strict=True))
            if inside is None:
                p.add("flow %r id %r: %s at %d ns on tid %d is strictly inside no slice" %
                      (name, fid, what, end[2], end[1]))
            elif tall.at(tall.deepest(end[2], strict=False)) != inside:
                p.add("flow %r id %r: %s at %d ns on tid %d is ambiguous (on a slice's edge "
                      "or an instant)" % (name, fid, what, end[2], end[1]))
    return list(p)


def validate(path):
    """Problems found in the trace file at path (plain or gzipped JSON)."""
    try:
        doc, raw = load(path)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        return ["cannot read %s: %s" % (path, e)]
    except (UnicodeDecodeError, ValueError) as e:
        return ["%s is not complete JSON: %s" % (path, e)]
    return validate_doc(doc, raw)


def main(argv):
    bad = 0
    for path in argv[1:]:
        probs = validate(path)
        for pr in probs:
            print("%s: %s" % (path, pr))
        if probs:
            bad += 1
        else:
            print("%s: ok" % path)
    return 1 if bad or len(argv) < 2 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
