"""The CLI's front door: help, version, usage errors, bad input, and
`gotrace info` on every testprog build checked against how it was built.

Bad input must give exactly one line on stderr that names the input, and
exit 1 (2 for usage errors); never a crash, never a hang.
"""
import json
import os
import shutil
import tempfile

import harness

ASAN_RERUN = True  # run again against build/asan/gotrace (tests/run.py)

# (magic, first minor version) per pclntab generation, newest first.
PCLN_MAGICS = [("0xfffffff1", 20), ("0xfffffff0", 18), ("0xfffffffa", 16), ("0xfffffffb", 2)]
PTR_SIZE = {"amd64": 8, "arm64": 8, "386": 4, "arm": 4, "mips": 4, "mipsle": 4,
            "mips64": 8, "mips64le": 8, "ppc64le": 8, "riscv64": 8, "s390x": 8}
BIG_ENDIAN = {"mips", "mips64", "ppc64", "s390x"}


def _require_cli():
    if not os.access(harness.GOTRACE, os.X_OK):
        raise AssertionError("no %s: run make" % harness.GOTRACE)


def gotrace(*args, stdin=None):
    return harness.run([harness.GOTRACE] + list(args), check_rc=False, timeout=60,
                       input=stdin if stdin is not None else "")


def err_lines(p):
    return [l for l in p.stderr.splitlines() if l.strip()]


def one_clear_error(name, p, want_rc, subject=None):
    """p failed with want_rc and exactly one stderr line naming subject."""
    lines = err_lines(p)
    ok = p.returncode == want_rc and len(lines) == 1 and (subject is None or subject in lines[0])
    return harness.check(name, ok, "rc=%d (want %d), stderr %r" % (p.returncode, want_rc, p.stderr[-500:]))


def a_go_binary():
    builds = [b for b in harness.testprog_builds()
              if b["prog"] == "goroutines" and b["variant"] == "default" and b["goarch"] == "amd64"]
    if not builds:
        raise AssertionError("no goroutines default amd64 build in the manifest")
    return sorted(builds, key=lambda b: [int(x) for x in b["go"][2:].split(".")])[-1]["path"]


def test_help_and_version():
    _require_cli()
    p = gotrace("--help")
    harness.check("--help", p.returncode == 0 and "usage: gotrace" in p.stdout and "sym" in p.stdout,
                  "rc=%d out=%r" % (p.returncode, p.stdout[:200]))
    for cmd in ("sym", "funcs", "info"):
        p = gotrace("help", cmd)
        harness.check("help " + cmd, p.returncode == 0 and ("gotrace " + cmd) in p.stdout,
                      "rc=%d out=%r err=%r" % (p.returncode, p.stdout[:200], p.stderr[:200]))
        q = gotrace(cmd, "--help")
        harness.check(cmd + " --help", q.returncode == 0 and q.stdout == p.stdout,
                      "rc=%d, same text as 'help %s': %s" % (q.returncode, cmd, q.stdout == p.stdout))
    p = gotrace("--version")
    parts = p.stdout.split()
    harness.check("--version", p.returncode == 0 and len(parts) >= 2 and parts[0] == "gotrace"
                  and parts[1][:1].isdigit(), "rc=%d out=%r" % (p.returncode, p.stdout))


def test_usage_errors():
    _require_cli()
    binp = a_go_binary()
    cases = [
        ("no command", [], None),
        ("unknown command", ["frobnicate"], "frobnicate"),
        ("help unknown", ["help", "frobnicate"], "frobnicate"),
        ("info without BIN", ["info"], None),
        ("sym without BIN", ["sym"], None),
        ("funcs without BIN", ["funcs"], None),
        ("info bad option", ["info", "--no-such-option", binp], None),
        ("sym bad option", ["sym", "--no-such-option", binp], None),
        # funcgraph --args / --filter: rejected while parsing, before any
        # program runs
        ("filter no operand", ["funcgraph", "--filter", "key ==", "main.f", "--", binp], "key =="),
        ("filter prefix of int", ["funcgraph", "--filter", "n ^= 5", "main.f", "--", binp], "^="),
        ("filter long string", ["funcgraph", "--filter", 's == "%s"' % ("x" * 40), "main.f", "--",
                                binp], "32 bytes"),
        ("string-size 0", ["funcgraph", "--string-size", "0", "main.f", "--", binp], "string-size"),
        ("args-size too small", ["funcgraph", "--args-size", "16", "main.f", "--", binp],
         "args-size"),
        ("args raw and spec", ["funcgraph", "--args=raw", "--args=main.f(x)", "main.f", "--",
                               binp], "--args"),
    ]
    for name, args, subject in cases:
        p = gotrace(*args)
        # Usage text may follow the error line; the exit code is what counts,
        # and the output must not be empty.
        harness.check(name, p.returncode == 2 and p.stderr.strip() != ""
                      and (subject is None or subject in p.stderr),
                      "rc=%d (want 2), stderr %r" % (p.returncode, p.stderr[-300:]))
    p = gotrace("sym", binp, "0xzz")
    one_clear_error("sym non-hex address", p, 1, "0xzz")
    p = gotrace("sym", binp, stdin="0x401000\nnot-an-address\n")
    harness.check("sym bad stdin line", p.returncode == 1 and len(err_lines(p)) == 1
                  and "not-an-address" in p.stderr and len(p.stdout.splitlines()) == 1,
                  "rc=%d stdout %r stderr %r" % (p.returncode, p.stdout[:200], p.stderr[:300]))


def test_bad_inputs():
    _require_cli()
    tmp = tempfile.mkdtemp(prefix="gotrace-cli-")
    try:
        text = os.path.join(tmp, "notes.txt")
        with open(text, "w") as f:
            f.write("this is not an ELF file\n" * 20)
        empty = os.path.join(tmp, "empty")
        open(empty, "w").close()
        inputs = [("non-ELF", text), ("empty file", empty), ("missing file", os.path.join(tmp, "nope")),
                  ("directory", tmp)]
        nongo = shutil.which("ls") or "/bin/ls"
        if os.path.exists(nongo):
            inputs.append(("non-Go ELF", os.path.realpath(nongo)))
        for what, path in inputs:
            for cmd in (["info"], ["info", "--json"], ["funcs"], ["sym", "--json"]):
                args = cmd + [path] + (["0x401000"] if cmd[0] == "sym" else [])
                p = gotrace(*args)
                one_clear_error("%s: %s" % (what, " ".join(cmd)), p, 1, path)
    finally:
        shutil.rmtree(tmp)


def test_truncated_binaries():
    """Truncated copies of a Go binary: a clean error that says the file is
    truncated (or, when what the command needs survived, a clean success),
    never a crash or a hang."""
    _require_cli()
    src = a_go_binary()
    size = os.path.getsize(src)
    cuts = [("1", 1), ("4", 4), ("52", 52), ("64", 64), ("100", 100), ("1000", 1000),
            ("4096", 4096), ("1/8", size // 8), ("1/3", size // 3), ("1/2", size // 2),
            ("-64K", size - 65536), ("-4K", size - 4096), ("-1", size - 1)]
    tmp = tempfile.mkdtemp(prefix="gotrace-trunc-")
    try:
        with open(src, "rb") as f:
            data = f.read()
        for label, n in cuts:
            path = os.path.join(tmp, "goroutines.%d" % n)
            with open(path, "wb") as f:
                f.write(data[:n])
            errors = []
            for cmd in (["info", "--json"], ["funcs", "--json"], ["sym", "--json"]):
                args = cmd + [path] + (["0x401000"] if cmd[0] == "sym" else [])
                p = gotrace(*args)
                name = "truncated to %s (%d bytes): %s" % (label, n, cmd[0])
                if p.returncode == 0 and n > 4096:
                    harness.check(name, p.stdout.strip() != "",
                                  "rc=0, %d bytes of output" % len(p.stdout))
                else:
                    one_clear_error(name, p, 1, path)
                    errors.append(p.stderr.strip())
            # Past the ELF header the file is recognisably a cut-off ELF file:
            # "not a Go binary" would send the user looking in the wrong place.
            if n >= 64 and errors:
                harness.check("truncated to %s (%d bytes): error says truncated" % (label, n),
                              all("truncated" in e for e in errors), errors[0])
    finally:
        shutil.rmtree(tmp)


def expected_magic(goversion):
    minor = int(goversion[2:].split(".")[1])
    for magic, first in PCLN_MAGICS:
        if minor >= first:
            return magic
    return None


def test_info_matches_build():
    """`gotrace info --json` on every build says what the build script did."""
    _require_cli()
    builds = harness.testprog_builds()
    if not builds:
        raise AssertionError("the testprog manifest is empty")
    for b in builds:
        name = "%s/%s/%s" % (b["go"], b["variant"], b["prog"])
        p = gotrace("info", "--json", b["path"])
        if p.returncode != 0:
            harness.check(name, False, "rc=%d: %s" % (p.returncode, p.stderr[-300:]))
            continue
        try:
            info = json.loads(p.stdout)
        except ValueError as e:
            harness.check(name, False, "not JSON: %s: %r" % (e, p.stdout[:200]))
            continue
        want = {
            "goversion": b["go"],
            "arch": b["goarch"],
            "ptr_size": PTR_SIZE.get(b["goarch"]),
            "big_endian": b["goarch"] in BIG_ENDIAN,
            "pie": b["variant"] in ("pie", "pie-stripped"),
            "stripped": b["variant"] in ("stripped", "pie-stripped"),
            "cgo": bool(b.get("cgo")),
            "pcln_magic": expected_magic(b["go"]),
        }
        if b["variant"] in ("stripped", "pie-stripped"):
            want["has_dwarf"] = False
        elif b["variant"] == "default":
            want["has_dwarf"] = True
        bad = ["%s: want %r, got %r" % (k, v, info.get(k)) for k, v in want.items() if info.get(k) != v]
        for k in ("nfuncs", "pcln_format", "offsets_source"):
            if not info.get(k) or info.get(k) == "unknown":
                bad.append("%s missing or empty: %r" % (k, info.get(k)))
        # Runtime offsets come from DWARF or the per-version tables, which
        # cover the versions we trace (1.17+); a stripped older binary has none.
        minor = int(b["go"][2:].split(".")[1])
        if (minor >= 17 or info.get("has_dwarf")) and not info.get("runtime_offsets"):
            bad.append("runtime_offsets missing: %r" % info.get("offsets_source"))
        harness.check(name, not bad, "; ".join(bad))


def test_text_and_json_forms_agree():
    """The human output of sym and funcs says what their JSON says."""
    _require_cli()
    path = a_go_binary()
    pj = gotrace("funcs", "--json", path, "main.*")
    pt = gotrace("funcs", path, "main.*")
    js = [json.loads(l) for l in pj.stdout.splitlines() if l.strip()]
    txt = [l.split() for l in pt.stdout.splitlines() if l.strip()]
    want = [(f["entry"], str(f["size"]), f["name"], "%s:%d" % (f["file"], f["line"])) for f in js]
    got = [tuple(t[:4]) for t in txt]
    harness.check("funcs text vs json", pj.returncode == 0 and pt.returncode == 0 and len(js) > 10
                  and want == got, "%d json, %d text; first json %s, first text %s" % (
                      len(js), len(txt), want[:1], got[:1]))
    # Glob semantics: every name matches, and nothing outside main. is listed.
    harness.check("funcs glob main.*", all(f["name"].startswith("main.") for f in js),
                  "names: %s" % [f["name"] for f in js if not f["name"].startswith("main.")][:5])
    addrs = ["0x%x" % (int(f["entry"], 16) + 1) for f in js[:20]]
    sj = gotrace("sym", "--json", path, *addrs)
    st = gotrace("sym", path, *addrs)
    recs = [json.loads(l) for l in sj.stdout.splitlines() if l.strip()]
    first = {}
    for l in st.stdout.splitlines():
        if l and not l.startswith(" "):
            first[l.split()[0]] = l.split()
    bad = []
    for r in recs:
        t = first.get(r["addr"])
        want = "%s:%s" % (r["file"], r["line"])
        if not t or not t[1].startswith(r["func"] + "+0x") or t[2] != want:
            bad.append("%s: json %s %s, text %s" % (r["addr"], r["func"], want, t))
    harness.check("sym text vs json", sj.returncode == 0 and st.returncode == 0
                  and len(recs) == len(addrs) and not bad, "; ".join(bad[:3]))
