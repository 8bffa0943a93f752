"""Every output file of states and funcgraph goes through the one output-file
policy (docs/output-files.md), tried the way a hostile machine would:

- a file the user named survives a failed run (bad pid) byte for byte, for
  every output option of both commands;
- a symlink named as output is refused and its target untouched; a symlink
  an unprivileged user planted at the old predictable name NAME.tmp is not
  followed: the trace is written, the victim is not;
- a directory, /proc/self/mem and /dev/full are refused before anything is
  traced (exit 1, one line naming the path);
- a disk that fills up while tracing (a 64 KiB tmpfs in a mount namespace
  of the test's own): exit 1, a line saying "No space left on device", the
  user's old file intact and no temporary left;
- "-o -" and /dev/null are streams: written in place.
"""
import os
import shutil
import subprocess
import tempfile

import harness


def _free_pid():
    pid = 4000000
    while os.path.exists("/proc/%d" % pid):
        pid += 1
    return pid


def _gotrace(args, timeout=120, **kw):
    return subprocess.run([harness.GOTRACE] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, **kw)


def _one_line(p, *must):
    lines = p.stderr.strip().splitlines()
    return p.returncode == 1 and len(lines) == 1 and all(m in p.stderr for m in must)


# Each output option of each command, with the rest of a command line that
# fails at the target (no such pid).
OUTPUTS = [
    ("states", o, ["states", "-q", o, "%s", "-p", "%d"]) for o in ("-o", "--csv", "--raw", "--json")
] + [
    ("funcgraph", o, ["funcgraph", "-q", o, "%s", "-p", "%d", "main.*"])
    for o in ("-o", "--folded", "--json", "--pprof")
]


def _args(tmpl, path, pid):
    return [path if a == "%s" else str(pid) if a == "%d" else a for a in tmpl]


def test_users_file_survives_failure():
    harness.need_root()
    pid = _free_pid()
    with tempfile.TemporaryDirectory() as d:
        for cmd, opt, tmpl in OUTPUTS:
            path = os.path.join(d, "precious")
            with open(path, "w") as f:
                f.write("precious\n")
            p = _gotrace(_args(tmpl, path, pid))
            with open(path) as f:
                kept = f.read()
            left = sorted(os.listdir(d))
            harness.check("%s %s: file kept" % (cmd, opt),
                          p.returncode == 1 and kept == "precious\n" and left == ["precious"],
                          "exit %d, content %r, dir %s, stderr %r" % (p.returncode, kept, left,
                                                                      p.stderr[-300:]))


def test_refused_paths():
    harness.need_root()
    with tempfile.TemporaryDirectory() as d:
        victim = os.path.join(d, "victim")
        with open(victim, "w") as f:
            f.write("victim\n")
        link = os.path.join(d, "link")
        os.symlink(victim, link)
        cases = [("symlink", link, "symbolic link"), ("directory", d, "directory"),
                 ("proc-mem", "/proc/self/mem", "procfs")]
        if os.path.exists("/dev/full"):
            cases.append(("dev-full", "/dev/full", "device"))
        for cmd, opt, tmpl in OUTPUTS:
            for what, path, says in cases:
                # refused before the target: a live pid, yet nothing traced
                p = _gotrace(_args(tmpl, path, 1))
                harness.check("%s %s %s" % (cmd, opt, what),
                              _one_line(p, "cannot open '%s'" % path, says),
                              "exit %d, stderr %r" % (p.returncode, p.stderr[-400:]))
        with open(victim) as f:
            harness.check("symlink target untouched", f.read() == "victim\n")


def test_planted_tmp_symlink():
    """An unprivileged user plants NAME.tmp -> victim where root will write
    NAME: the old writers followed it (issue 16, item 2)."""
    harness.need_root()
    prog = harness.newest_build("states")
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o1777)
        victim = os.path.join(d, "victim")
        with open(victim, "w") as f:
            f.write("victim\n")
        out = os.path.join(d, "x.json")
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        subprocess.run(nobody + ["ln", "-s", victim, out + ".tmp"], check=True)
        p = _gotrace(["states", "-q", "--no-summary", "--json", out, "--", prog, "-n", "2"])
        with open(victim) as f:
            kept = f.read()
        harness.check("planted NAME.tmp not followed",
                      p.returncode == 0 and kept == "victim\n" and os.path.getsize(out) > 0
                      and os.path.islink(out + ".tmp"),
                      "exit %d, victim %r, stderr %r" % (p.returncode, kept, p.stderr[-400:]))


def test_full_disk():
    """A 64 KiB tmpfs that fills while tracing: the error, not exit 0; the
    old file intact; no temporary left (issue 16, items 3 and 4)."""
    harness.need_root()
    if not shutil.which("unshare"):
        raise harness.Skip("no unshare(1) for a private mount namespace")
    prog = harness.newest_build("states")
    fg = harness.newest_build("funcgraph")
    runs = [("states -o", ["states", "-o", "OUT", "--", prog, "-n", "200"]),
            ("states --raw", ["states", "-q", "--raw", "OUT", "--", prog, "-n", "200"]),
            ("funcgraph -o", ["funcgraph", "--format=jsonl", "-o", "OUT", "main.*", "--", fg,
                              "-n", "3"])]
    with tempfile.TemporaryDirectory() as d:
        for name, args in runs:
            script = ('set -e; mount -t tmpfs -o size=64k tmpfs "$1"; echo precious > "$1/out"; '
                      'shift; rc=0; "$@" >/dev/null 2>"$D/err" || rc=$?; echo "rc=$rc"; '
                      'cat "$D/err"; echo "content=$(cat "$M/out")"; echo "files=$(ls -A "$M")"')
            small = os.path.join(d, "small")
            os.makedirs(small, exist_ok=True)
            cmd = [harness.GOTRACE] + [os.path.join(small, "out") if a == "OUT" else a for a in args]
            p = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", small] + cmd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=300, env=dict(os.environ, D=d, M=small))
            out = p.stdout
            harness.check(name + ": ENOSPC reported, file kept",
                          "rc=1" in out and "No space left on device" in out
                          and "content=precious" in out and "files=out\n" in out + "\n",
                          out[-800:] + p.stderr[-300:])


def test_streams_in_place():
    harness.need_root()
    prog = harness.newest_build("states")
    p = _gotrace(["states", "-q", "--format=jsonl", "-o", "-", "--", prog, "-n", "2"])
    harness.check("-o -: stdout", p.returncode == 0 and '"type":"stats"' in p.stdout,
                  p.stderr[-300:])
    p = _gotrace(["states", "-q", "--json", "/dev/null", "-o", "/dev/null", "--", prog, "-n", "2"])
    harness.check("/dev/null: written in place", p.returncode == 0 and
                  os.path.exists("/dev/null") and not os.path.isfile("/dev/null"), p.stderr[-300:])
