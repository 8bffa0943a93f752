"""Runtime struct offsets, the TLS slot of g and wait reasons (gosym/offsets.c,
gosym/waitreason.c, gosym/version_tables.c), checked against independent
truths for every testprog build in the manifest:

  - DWARF offsets (what gotrace reads with libdw) equal those Go's own
    debug/dwarf reads (tests/oracle_dwarf, built with the machine's Go);
  - the built-in per-version table equals the DWARF of a real binary of that
    version: the same binary with its debug info stripped must give the
    same offsets, from "table (Go 1.N)";
  - wait reasons of a binary without symbols (from the table) equal the
    runtime.waitReasonStrings array of the unstripped build, and PIE builds
    (relocated string pointers) read the same strings as non-PIE ones;
  - tls_g equals the %fs displacement the linker wrote into the code
    (objdump), for amd64 builds, cgo and PIE ones included, and for a cgo
    program with its own C thread-locals (tests/oracle_dwarf/cgotls), with
    and without symbols;
  - 32-bit builds read DWARF, and get no table offsets without it; Go
    1.15/1.16 builds without DWARF get a clear error;
  - the go/types source oracle (tests/oracle_dwarf/source) run with the
    machine's Go (every toolchain with GOTRACE_OFFSETS_ALL_TOOLCHAINS=1)
    agrees with the table row of that version: offsets, wait reasons,
    status names (gStatusStrings) and the wrapper funcID;
  - the addresses of runtime.allglen / runtime.allgptr found in the code of
    runtime.forEachGRace (what stripped binaries need) equal the symbols,
    for a copy without symbols of every Go 1.17+ build (amd64 and arm64,
    PIE and cgo included).

Stripped copies are made with GNU objcopy (aarch64-linux-gnu-objcopy for
arm64), llvm-objcopy only for other arches.  See docs/runtime-offsets.md.
"""
import atexit
import collections
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import harness  # noqa: E402
from harness import Skip, check  # noqa: E402

SUITE = "oracle"  # compared with Go's own tools (tests/run.py)

OFFSET_KEYS = ["g_stack_lo", "g_stack_hi", "g_m", "g_sched", "g_sched_sp", "g_sched_pc",
               "g_atomicstatus", "g_goid", "g_waitreason", "g_startpc", "g_gopc",
               "g_parentgoid", "g_sched_bp", "g_sched_lr", "g_syscallsp", "g_syscallpc",
               "g_waitsince", "g_lockedm", "g_labels", "g_cleanups", "g_trackingseq",
               "m_curg", "m_g0", "m_procid", "m_id"]
TABLE_ARCHES = ("amd64", "arm64")
HOST_GO = os.environ.get("GO", "/usr/local/go/bin/go")
ORACLE_DIR = os.path.join(harness.ROOT, "tests", "oracle_dwarf")
_tmp = None
_info_cache = {}


def tmpdir():
    global _tmp
    if _tmp is None:
        _tmp = tempfile.mkdtemp(prefix="test_offsets.")
        atexit.register(shutil.rmtree, _tmp, True)
    return _tmp


def need_gotrace():
    if not os.access(harness.GOTRACE, os.X_OK):
        raise Skip("no %s: run make" % harness.GOTRACE)


def is_default(b):
    """A plain `go build`: variant "default", or a cross build, whose
    variant is named after its GOARCH."""
    return b["variant"] in ("default", b["goarch"])


def builds(variant=None, versions=(17, 99)):
    """Manifest entries of Go 1.<versions[0]> to 1.<versions[1]> (by default
    the versions the tables cover); variant "default" includes the cross
    builds."""
    out = []
    for b in harness.testprog_builds():
        if not versions[0] <= harness.go_minor(b["go"]) <= versions[1]:
            continue
        if variant == "default" and not is_default(b):
            continue
        if variant and variant != "default" and b["variant"] != variant:
            continue
        out.append(b)
    if not out:
        raise Skip("no Go 1.%d-1.%d builds in the manifest" % versions)
    return out


def info(path):
    if path not in _info_cache:
        p = harness.run([harness.GOTRACE, "info", "--json", path])
        _info_cache[path] = json.loads(p.stdout)
    return _info_cache[path]


def objcopy_for(goarch):
    """An objcopy that can rewrite ELF files of goarch.  GNU objcopy first:
    llvm-objcopy 14 --strip-all writes Go 1.17 binaries that objdump can no
    longer read."""
    gnu = {"amd64": "objcopy", "386": "objcopy", "arm64": "aarch64-linux-gnu-objcopy"}.get(goarch)
    if gnu and shutil.which(gnu):
        return gnu
    for tool in ("llvm-objcopy", "llvm-objcopy-14"):
        if shutil.which(tool):
            return tool
    raise Skip("no objcopy for %s" % goarch)


def stripped_copy(b, how):
    """A copy of build b without debug info (how='--strip-debug') or
    without any symbols (how='--strip-all')."""
    name = "%s-%s-%s-%s%s" % (b["go"], b["goarch"], b["variant"], b["prog"], how)
    out = os.path.join(tmpdir(), name)
    if not os.path.exists(out):
        harness.run([objcopy_for(b["goarch"]), how, b["path"], out])
    return out


def label(b):
    return "%s/%s/%s/%s" % (b["go"], b["goarch"], b["variant"], b["prog"])


def test_dwarf_offsets_match_debug_dwarf_oracle():
    """libdw-based offsets == Go debug/dwarf offsets, every default build."""
    need_gotrace()
    if not os.access(HOST_GO, os.X_OK):
        raise Skip("no Go toolchain at %s to build the oracle" % HOST_GO)
    oracle = os.path.join(tmpdir(), "oracle_dwarf")
    harness.run([HOST_GO, "build", "-o", oracle, "main.go"], cwd=ORACLE_DIR,
                env=dict(os.environ, GOFLAGS="-buildvcs=false", GOTOOLCHAIN="local"))
    for b in builds("default", versions=(0, 99)):
        got = info(b["path"])
        if not got.get("has_dwarf"):
            check("oracle " + label(b), False, "build has no DWARF")
            continue
        want = json.loads(harness.run([oracle, b["path"]]).stdout)
        offs = got.get("runtime_offsets") or {}
        diff = {k: (offs.get(k), want[k]) for k in OFFSET_KEYS if offs.get(k) != want[k]}
        check("oracle " + label(b), got.get("offsets_source") == "DWARF" and not diff,
              "source %r, differs (gotrace, debug/dwarf): %s" % (got.get("offsets_source"), diff))


def test_table_matches_dwarf():
    """The per-version table == the DWARF of a real binary of that version."""
    need_gotrace()
    for b in builds("default"):
        if b["goarch"] not in TABLE_ARCHES:
            continue
        dwarf = info(b["path"])
        nodebug = stripped_copy(b, "--strip-debug")
        table = info(nodebug)
        want_src = "table (Go 1.%d)" % harness.go_minor(b["go"])
        ok = (dwarf.get("offsets_source") == "DWARF" and not table.get("has_dwarf")
              and table.get("offsets_source") == want_src)
        d_off = dwarf.get("runtime_offsets") or {}
        t_off = table.get("runtime_offsets") or {}
        diff = {k: (t_off.get(k), d_off.get(k)) for k in OFFSET_KEYS + ["tls_g"]
                if t_off.get(k) != d_off.get(k)}
        check("table " + label(b), ok and not diff,
              "sources %r / %r (want DWARF / %r), differs (table, DWARF): %s" % (
                  dwarf.get("offsets_source"), table.get("offsets_source"), want_src, diff))


def test_table_offsets_for_32bit_need_dwarf():
    """32-bit builds: DWARF works, the table path refuses (-EOPNOTSUPP)."""
    need_gotrace()
    seen = False
    for b in builds("default"):
        if b["goarch"] not in ("386", "mips", "mipsle"):
            continue
        seen = True
        dwarf = info(b["path"])
        check("32-bit dwarf " + label(b),
              dwarf.get("offsets_source") == "DWARF" and
              (dwarf.get("runtime_offsets") or {}).get("g_goid", -1) > 0,
              "source %r" % dwarf.get("offsets_source"))
        table = info(stripped_copy(b, "--strip-debug"))
        check("32-bit no table " + label(b), table.get("runtime_offsets") is None,
              "got %r from %r" % (table.get("runtime_offsets"), table.get("offsets_source")))
    if not seen:
        raise Skip("no 32-bit builds in the manifest")


def test_older_versions_without_dwarf_refuse():
    """Before Go 1.17 there is no table: a stripped build gets a clear error
    for the offsets and no wait reasons, not a guess; its DWARF twin works."""
    need_gotrace()
    for b in builds("stripped", versions=(0, 16)):
        got = info(b["path"])
        check("no table %s" % label(b),
              got.get("runtime_offsets") is None and
              "no built-in runtime offsets for %s" % b["go"] in (got.get("offsets_source") or "") and
              got.get("wait_reasons") == [] and got.get("wait_reasons_source") is None,
              "offsets %r (%r), %d wait reasons (%r)" % (
                  got.get("runtime_offsets"), got.get("offsets_source"),
                  len(got.get("wait_reasons") or []), got.get("wait_reasons_source")))


def test_wait_reasons_table_matches_binary():
    """Wait reasons without symbols (table) == the binary's own array."""
    need_gotrace()
    for b in builds("default"):
        if b["goarch"] not in TABLE_ARCHES:
            continue
        own = info(b["path"])
        nosym = info(stripped_copy(b, "--strip-all"))
        want_src = "table (Go 1.%d)" % harness.go_minor(b["go"])
        ok = (own.get("wait_reasons_source") == "runtime.waitReasonStrings" and
              nosym.get("wait_reasons_source") == want_src and
              len(own.get("wait_reasons", [])) > 20 and
              own.get("wait_reasons") == nosym.get("wait_reasons"))
        detail = "sources %r / %r" % (own.get("wait_reasons_source"), nosym.get("wait_reasons_source"))
        if own.get("wait_reasons") != nosym.get("wait_reasons"):
            a, t = own.get("wait_reasons", []), nosym.get("wait_reasons", [])
            diff = [(i, x, y) for i, (x, y) in enumerate(zip(a, t)) if x != y]
            detail += "; %d vs %d strings; first differences (index, binary, table): %s" % (
                len(a), len(t), diff[:5])
        check("waitreasons " + label(b), ok, detail)


def test_wait_reasons_stripped_variant_and_pie():
    """The manifest's stripped (-s -w) and PIE builds give the same strings as
    the default build of the same toolchain and program; PIE ones read them
    through the R_*_RELATIVE relocations."""
    need_gotrace()
    default = {(b["go"], b["goarch"], b["prog"]): b for b in builds("default")}
    seen = False
    for b in builds():
        if b["variant"] not in ("stripped", "pie"):
            continue
        ref = default.get((b["go"], b["goarch"], b["prog"]))
        if not ref:
            continue
        seen = True
        got, want = info(b["path"]), info(ref["path"])
        want_src = ("runtime.waitReasonStrings" if b["variant"] == "pie"
                    else "table (Go 1.%d)" % harness.go_minor(b["go"]))
        check("waitreasons %s" % label(b),
              got.get("wait_reasons") == want.get("wait_reasons") and
              got.get("wait_reasons_source") == want_src,
              "source %r (want %r), %d strings vs %d" % (
                  got.get("wait_reasons_source"), want_src,
                  len(got.get("wait_reasons", [])), len(want.get("wait_reasons", []))))
        if b["variant"] == "pie":
            g_off, w_off = got.get("runtime_offsets"), want.get("runtime_offsets")
            check("offsets %s" % label(b), g_off == w_off and g_off is not None,
                  "pie %r, default %r" % (g_off, w_off))
    if not seen:
        raise Skip("no stripped or pie builds in the manifest")


def fs_displacements(path):
    """Count the TLS offsets the code loads g from into R14 (the register
    ABI's g register), as objdump decodes them: `mov %fs:disp,%r14`
    (non-PIE), or `mov $disp,%r14; mov %fs:(%r14),%r14` (PIE).  The
    linker's own answer to where runtime.tlsg is."""
    p = harness.run(["objdump", "-d", "--no-show-raw-insn", path], timeout=600)
    c = collections.Counter()
    prev_imm = None

    def signed(v):
        return v - (1 << 64) if v >= 1 << 63 else v
    for line in p.stdout.splitlines():
        m = re.search(r"mov\s+%fs:0x([0-9a-f]+),%r14$", line)
        if m:
            c[signed(int(m.group(1), 16))] += 1
        elif prev_imm is not None and re.search(r"mov\s+%fs:\(%r14\),%r14$", line):
            c[prev_imm] += 1
        m = re.search(r"mov\s+\$0x([0-9a-f]+),%r14$", line)
        prev_imm = signed(int(m.group(1), 16)) if m else None
    return c


def check_tls(name, path, want_source=None):
    got = info(path)
    rt = got.get("runtime_offsets") or {}
    c = fs_displacements(path)
    if not c:
        check(name, False, "no load of g from %fs in the code")
        return
    # C code linked in may load other %fs offsets into R14 (static glibc
    # does `mov %fs:0x0,%r14`): g's slot is the one nearly all loads use.
    disp, n = c.most_common(1)[0]
    ok = rt.get("tls_g") == disp and n >= 0.9 * sum(c.values())
    if want_source:
        ok = ok and got.get("tls_source") == want_source
    check(name, ok, "gotrace %r (%s), code uses %%fs:%d (%d times; all: %s)" % (
        rt.get("tls_g"), got.get("tls_source"), disp, n, dict(c)))


def test_allgs_from_code_match_symbols():
    """runtime.allglen / allgptr: the code scan of a copy without symbols
    finds what the symbol table says, every amd64/arm64 build of Go 1.17+."""
    need_gotrace()
    n = 0
    for b in builds():
        if b["goarch"] not in TABLE_ARCHES or b["variant"] in ("stripped", "pie-stripped"):
            continue
        want = info(b["path"]).get("allgs") or {}
        got = info(stripped_copy(b, "--strip-all")).get("allgs") or {}
        ok = (want.get("source") == "symbols" and got.get("source") == "code (runtime.forEachGRace)"
              and (got.get("allglen"), got.get("allgptr")) == (want.get("allglen"), want.get("allgptr")))
        check("allgs " + label(b), ok, "symbols %r, code %r" % (want, got))
        n += 1
    if not n:
        raise Skip("no amd64/arm64 builds with symbols")


def test_tls_g_matches_code():
    """tls_g == the %fs displacement the code uses (amd64, incl. cgo), also
    for copies without symbols."""
    need_gotrace()
    if not shutil.which("objdump"):
        raise Skip("no objdump")
    # objdump takes a while: per toolchain, one pure-Go default build, and
    # the cgo builds (default, pie, and a copy of the default without symbols).
    picked = {}
    for b in builds():
        if b["goarch"] != "amd64" or b["variant"] not in ("default", "pie"):
            continue
        if not b.get("cgo") and b["variant"] != "default":
            continue
        picked.setdefault((b["go"], b["variant"], b["prog"] if b.get("cgo") else ""), b)
    if not picked:
        raise Skip("no amd64 builds in the manifest")
    for b in picked.values():
        check_tls("tls_g " + label(b), b["path"])
        if b["variant"] == "default" and b.get("cgo"):
            check_tls("tls_g stripped " + label(b), stripped_copy(b, "--strip-all"))


def test_tls_g_with_c_thread_locals():
    """A cgo executable with its own C __thread variables: the g slot is not
    at -8; found from runtime.tlsg + PT_TLS, and from the code once
    stripped.  Built here with the machine's Go (tests/oracle_dwarf/cgotls)."""
    need_gotrace()
    if not os.access(HOST_GO, os.X_OK) or not shutil.which("gcc") or not shutil.which("objdump"):
        raise Skip("needs %s, gcc and objdump" % HOST_GO)
    env = dict(os.environ, GOFLAGS="-buildvcs=false", GOTOOLCHAIN="local", CGO_ENABLED="1")
    for mode in ("exe", "pie"):
        exe = os.path.join(tmpdir(), "cgotls-" + mode)
        harness.run([HOST_GO, "build", "-buildmode=" + mode, "-o", exe, "main.go"],
                    cwd=os.path.join(ORACLE_DIR, "cgotls"), env=env)
        check_tls("cgotls %s" % mode, exe, "runtime.tlsg + PT_TLS")
        disps = fs_displacements(exe)
        check("cgotls %s exercises a slot other than -8" % mode, disps and -8 not in disps,
              "code uses %s" % dict(disps))
        nosym = os.path.join(tmpdir(), "cgotls-%s-stripped" % mode)
        harness.run(["objcopy", "--strip-all", exe, nosym])
        check_tls("cgotls %s stripped" % mode, nosym, "code (g reload after ABI0 calls)")


def toolchains_to_check():
    """(goversion, go binary) pairs for the source oracle: the machine's Go;
    every toolchain scripts/toolchains.sh has on the machine when
    GOTRACE_OFFSETS_ALL_TOOLCHAINS=1 (about 15 s each)."""
    if os.environ.get("GOTRACE_OFFSETS_ALL_TOOLCHAINS") == "1":
        p = harness.run(["bash", os.path.join(harness.ROOT, "scripts", "toolchains.sh")],
                        env=dict(os.environ, GOTRACE_TOOLCHAINS="offline"))
        out = [tuple(line.split("\t")) for line in p.stdout.splitlines() if "\t" in line]
        return [(v, gobin) for v, gobin in out if harness.go_minor(v) >= 17]
    if not os.access(HOST_GO, os.X_OK):
        raise Skip("no Go toolchain at %s" % HOST_GO)
    return [(harness.run([HOST_GO, "env", "GOVERSION"]).stdout.strip(), HOST_GO)]


def test_source_oracle_matches_table():
    """The go/types computation over a toolchain's own runtime source gives
    the table row of that Go version (offsets and wait reasons), for amd64
    and arm64."""
    need_gotrace()
    stripped = [b for b in builds("stripped") if b["goarch"] in TABLE_ARCHES]
    for version, gobin in toolchains_to_check():
        cands = [b for b in stripped if harness.go_minor(b["go"]) == harness.go_minor(version)]
        if not cands:
            harness.skip("source " + version, "no stripped build of %s in the manifest" % version)
            continue
        goroot = os.path.dirname(os.path.dirname(gobin))
        env = dict(os.environ, GOENV="off", GOFLAGS="", GOTOOLCHAIN="local", GOROOT=goroot)
        exe = os.path.join(tmpdir(), "oracle_source-" + version)
        harness.run([gobin, "build", "-o", exe, "source/main.go"], cwd=ORACLE_DIR, env=env)
        # A binary of that version with neither DWARF nor symbols: all table.
        got = info(stripped_copy(cands[0], "--strip-all"))
        for arch in TABLE_ARCHES:
            src = json.loads(harness.run([exe], env=dict(env, GOARCH=arch)).stdout)
            rt = got.get("runtime_offsets") or {}
            diff = {k: (rt.get(k), src["offsets"][k]) for k in OFFSET_KEYS
                    if rt.get(k) != src["offsets"][k]}
            check("source %s/%s offsets" % (version, arch), not diff and
                  (got.get("offsets_source") or "").startswith("table"),
                  "source %r, differs (table, go/types): %s" % (got.get("offsets_source"), diff))
            facts = got.get("goroutine_facts") or {}
            check("source %s/%s status names, wrapper funcID" % (version, arch),
                  facts.get("status_names") == src["g_status_names"] and
                  facts.get("funcid_wrapper") == src["funcid_wrapper"],
                  "table %r / %r, go/types %r / %r" % (
                      facts.get("status_names"), facts.get("funcid_wrapper"),
                      src["g_status_names"], src["funcid_wrapper"]))
            check("source %s/%s wait reasons" % (version, arch),
                  got.get("wait_reasons") == src["wait_reasons"] and
                  (got.get("wait_reasons_source") or "").startswith("table"),
                  "source %r, %d vs %d strings" % (got.get("wait_reasons_source"),
                                                   len(got.get("wait_reasons", [])),
                                                   len(src["wait_reasons"])))
