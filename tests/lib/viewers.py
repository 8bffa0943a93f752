"""Real trace viewers for the tests: the Catapult viewer that ships with Go's
source and speedscope, both driven in headless Chromium by playwright-core.

setup() installs what is missing (idempotent; the npm part is cached under
build/viewers) and returns a Viewers object, or raises harness.Skip with the
reason when this machine cannot have them:

  - Debian's `chromium` (apt-get, needs root);
  - trace_viewer_full.html + webcomponents.min.js from a Go source tree:
    $(go env GOROOT)/src/internal/trace/traceviewer/static (Go >= 1.22) or
    src/cmd/trace/static (older, e.g. Debian's golang-1.19-src, which is
    installed when no tree has it);
  - playwright-core and speedscope from npm (pinned in
    tests/viewers/package.json), installed into build/viewers/node_modules.

Viewers.load(mode, trace_path, screenshot) serves the trace, the viewer and
our harness pages from a throwaway HTTP server on 127.0.0.1, runs
tests/viewers/drive.js and returns its JSON report; Viewers.page(url, ...)
drives any other web viewer (`go tool pprof -http`).

As a command, it serves one trace to your own browser, offline:

  python3 tests/lib/viewers.py catapult|speedscope TRACE [PORT]

prints the URL and serves until Ctrl-C (installs what is missing, as the
tests do; a browser is not needed on this machine).  catapult_checks()
compares what Catapult built with what the JSON file says; png_ok() tells
a real screenshot from an empty one.
"""
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse

import harness
import trace_validate

VIEWERS_SRC = os.path.join(harness.ROOT, "tests", "viewers")
NPM_DIR = os.path.join(harness.BUILD, "viewers")
SCREENSHOTS = os.path.join(harness.BUILD, "screenshots")
CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
CATAPULT_SUBDIRS = ["src/internal/trace/traceviewer/static", "src/cmd/trace/static"]
GO_CANDIDATES = ["go", "/usr/local/go/bin/go", "/usr/lib/go-1.19/bin/go"]


def _apt_install(pkgs):
    if os.geteuid() != 0:
        raise harness.Skip("need %s installed (apt-get needs root)" % " ".join(pkgs))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends"] + pkgs
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        # The package lists may be missing or stale on a fresh machine.
        subprocess.run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise harness.Skip("apt-get install %s failed: %s" % (" ".join(pkgs), p.stdout[-500:]))


def find_chromium():
    for c in CHROMIUM_CANDIDATES:
        if os.access(c, os.X_OK):
            return c
    return None


def ensure_chromium():
    c = find_chromium()
    if c is None:
        harness.log("viewers: installing chromium")
        _apt_install(["chromium"])
        c = find_chromium()
    if c is None:
        raise harness.Skip("no chromium after installing it")
    return c


def _goroots():
    roots = []
    for go in GO_CANDIDATES:
        exe = shutil.which(go)
        if not exe:
            continue
        env = dict(os.environ, GOENV="off", GOFLAGS="", GOTOOLCHAIN="local")
        try:
            p = subprocess.run([exe, "env", "GOROOT"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=env, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        root = p.stdout.strip()
        if p.returncode == 0 and root and root not in roots:
            roots.append(root)
    for root in ("/usr/lib/go-1.19", "/usr/share/go-1.19"):
        if root not in roots:
            roots.append(root)
    return roots


def find_catapult():
    """The directory holding trace_viewer_full.html and webcomponents.min.js."""
    for root in _goroots():
        for sub in CATAPULT_SUBDIRS:
            d = os.path.join(root, sub)
            if (os.path.isfile(os.path.join(d, "trace_viewer_full.html")) and
                    os.path.isfile(os.path.join(d, "webcomponents.min.js"))):
                return d
    return None


def ensure_catapult():
    d = find_catapult()
    if d is None:
        harness.log("viewers: installing golang-1.19-src for the Catapult trace viewer")
        _apt_install(["golang-1.19-src"])
        d = find_catapult()
    if d is None:
        raise harness.Skip("no trace_viewer_full.html in any Go source tree")
    return d


def ensure_npm():
    """build/viewers/node_modules with the pinned playwright-core and
    speedscope; reinstalled when tests/viewers/package.json changes."""
    src = os.path.join(VIEWERS_SRC, "package.json")
    dst = os.path.join(NPM_DIR, "package.json")
    stamp = os.path.join(NPM_DIR, "node_modules", ".gotrace-installed")
    with open(src) as f:
        want = f.read()
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == want:
                return NPM_DIR
    npm = shutil.which("npm")
    if not npm:
        _apt_install(["nodejs", "npm"])
        npm = shutil.which("npm")
    if not npm or not shutil.which("node"):
        raise harness.Skip("no node/npm")
    # The pinned playwright-core (1.49) needs Node >= 18: Debian bookworm's
    # nodejs is enough.
    ver = subprocess.run(["node", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    try:
        major = int(ver.lstrip("v").split(".")[0])
    except ValueError:
        major = 0
    if major < 18:
        raise harness.Skip("node %s is too old for playwright-core (needs >= 18)" % ver)
    os.makedirs(NPM_DIR, exist_ok=True)
    with open(dst, "w") as f:
        f.write(want)
    harness.log("viewers: npm install playwright-core speedscope into %s" % NPM_DIR)
    p = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error",
                        "--no-package-lock"], cwd=NPM_DIR, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=600)
    if p.returncode != 0:
        raise harness.Skip("npm install failed: %s" % p.stdout[-800:])
    with open(stamp, "w") as f:
        f.write(want)
    return NPM_DIR


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves /static/ (Catapult), /speedscope/, /harness/ (tests/viewers)
    and /data/ (the traces under test) from their own directories."""
    routes = {}

    def translate_path(self, path):
        path = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        for prefix, d in self.routes.items():
            if path.startswith(prefix):
                rel = os.path.normpath(path[len(prefix):]).lstrip("/")
                if rel.startswith(".."):
                    break
                return os.path.join(d, rel)
        return "/nonexistent"

    def guess_type(self, path):
        if path.endswith(".json"):
            return "application/json; charset=utf-8"
        if path.endswith(".wasm"):
            return "application/wasm"
        if path.endswith(".gz"):
            return "application/octet-stream"
        return super().guess_type(path)

    def log_message(self, *args):
        pass


class Viewers:
    def __init__(self, chromium, catapult_dir, npm_dir):
        """npm_dir None: Catapult only (the serve command)."""
        self.chromium = chromium
        self.catapult_dir = catapult_dir
        self.npm_dir = npm_dir
        self.speedscope_dir = os.path.join(npm_dir or "/nonexistent", "node_modules", "speedscope",
                                           "dist", "release")
        if npm_dir and not os.path.isfile(os.path.join(self.speedscope_dir, "index.html")):
            raise harness.Skip("speedscope package has no dist/release/index.html")

    def _drive(self, cmd, timeout):
        env = dict(os.environ, NODE_PATH=os.path.join(self.npm_dir, "node_modules"))
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env, timeout=timeout + 60)
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            raise AssertionError("drive.js printed no report (exit %d): %s %s" %
                                 (p.returncode, p.stdout[-1000:], p.stderr[-2000:]))
        return json.loads(lines[-1])

    def page(self, url, wait_text, screenshot=None, timeout=90):
        """Open url (a server the caller runs) and wait until its text has
        wait_text; drive.js's report, result {ok, text}."""
        if screenshot:
            os.makedirs(os.path.dirname(screenshot), exist_ok=True)
        return self._drive(["node", os.path.join(VIEWERS_SRC, "drive.js"), "--chromium",
                            self.chromium, "--mode", "page", "--url", url, "--screenshot",
                            screenshot or "", "--timeout", str(timeout), "--wait-text",
                            wait_text], timeout)

    def serve(self, mode, trace_path, host="127.0.0.1", port=0, flows=False, zoom=None):
        """An HTTP server (not yet serving) for trace_path in viewer mode
        ('catapult' or 'speedscope') and the URL that opens it (flows:
        Catapult draws the arrows without a click; zoom: (min, max) in ms,
        Catapult shows only that range)."""
        data_dir = os.path.dirname(os.path.abspath(trace_path))
        name = os.path.basename(trace_path)
        routes = {"/static/": self.catapult_dir, "/speedscope/": self.speedscope_dir,
                  "/harness/": VIEWERS_SRC, "/data/": data_dir}
        handler = type("Handler", (_Handler,), {"routes": routes})
        srv = http.server.ThreadingHTTPServer((host, port), handler)
        base = "http://%s:%d" % (host, srv.server_address[1])
        data_url = "/data/" + urllib.parse.quote(name)
        if mode == "catapult":
            url = base + "/harness/catapult.html?trace=" + urllib.parse.quote(data_url)
            if flows:
                url += "&flows=1"
            if zoom:
                url += "&zoom=%.6f,%.6f" % zoom
        else:
            # no &title=: the toolbar then shows each profile's (thread's) name
            url = base + "/speedscope/index.html#profileURL=" + urllib.parse.quote(
                base + data_url, safe="")
        return srv, url

    def load(self, mode, trace_path, screenshot=None, timeout=90, select=None, flows=False,
             zoom=None):
        """Open trace_path in a viewer (mode 'catapult' or 'speedscope');
        returns drive.js's report (see tests/viewers/drive.js).  select:
        speedscope shows the first profile whose name contains it."""
        srv, url = self.serve(mode, trace_path, flows=flows, zoom=zoom)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        if screenshot:
            os.makedirs(os.path.dirname(screenshot), exist_ok=True)
        cmd = ["node", os.path.join(VIEWERS_SRC, "drive.js"), "--chromium", self.chromium,
               "--mode", mode, "--url", url, "--screenshot", screenshot or "",
               "--timeout", str(timeout)]
        if select:
            cmd += ["--select", select]
        try:
            return self._drive(cmd, timeout)
        finally:
            srv.shutdown()
            srv.server_close()


@functools.lru_cache(maxsize=1)
def setup():
    """Install what is missing and return a Viewers (raises harness.Skip)."""
    chromium = ensure_chromium()
    catapult = ensure_catapult()
    npm_dir = ensure_npm()
    return Viewers(chromium, catapult, npm_dir)


# The screenshots' content (tests/viewers/pngstat.js): the share of pixels
# below the viewers' own toolbars (Catapult's yellow banner, speedscope's
# blue tab: the top 80 px) in colour, i.e. slices, frames or flame boxes
# drawn; the UI around them is grey.  Measured: 1.7% for the sparsest real
# screenshot (Catapult, funcgraph's few call tracks), 2.9% to 44% for
# speedscope's, 0% for Catapult with an empty trace.  The PNG's size is no
# measure: a sparse speedscope profile compresses to ~20 KB, an empty
# Catapult to 43 KB.
SHOT_TOP = 80
SHOT_MIN_COLOURED = 0.005


def png_ok(path):
    """A real screenshot: a whole PNG of the viewport size in which the
    viewer drew something (SHOT_MIN_COLOURED)."""
    p = subprocess.run(["node", os.path.join(VIEWERS_SRC, "pngstat.js"), path, str(SHOT_TOP)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    try:
        st = json.loads(p.stdout)
    except ValueError:
        return False, "%s: pngstat.js said %r %r" % (path, p.stdout[-300:], p.stderr[-300:])
    if "error" in st:
        return False, "%s: %s" % (path, st["error"])
    share = st["coloured"] / st["pixels"] if st["pixels"] else 0
    ok = (st["width"], st["height"]) == (1600, 1000) and share >= SHOT_MIN_COLOURED
    return ok, "%s: %dx%d, %.1f%% of it below the toolbars in colour (at least %.1f%%)" % (
        path, st["width"], st["height"], 100 * share, 100 * SHOT_MIN_COLOURED)


def catapult_checks(prefix, rep, doc):
    """Compare what Catapult built (drive.js's report) with what the JSON
    file says: threads and their slice counts, flow endpoints, time range;
    no import warnings, no page errors."""
    res = rep.get("result") or {}
    ok = harness.check(prefix + "loaded", rep.get("ok") and res.get("ok"),
                       "error: %s; page errors: %s" % (rep.get("error") or res.get("error"),
                                                       rep.get("pageErrors")))
    if not ok:
        return
    harness.check(prefix + "no_import_warnings", res["warnings"] == [], json.dumps(res["warnings"])[:2000])
    harness.check(prefix + "no_page_errors", rep["pageErrors"] == [], "\n".join(rep["pageErrors"])[:2000])

    evs = doc["traceEvents"]
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in evs
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    counts = {}
    for e in evs:
        if e.get("ph") in ("X", "i"):
            counts[(e["pid"], e["tid"])] = counts.get((e["pid"], e["tid"]), 0) + 1
    want = sorted((pid, tid, names.get((pid, tid)), n) for (pid, tid), n in counts.items())
    got = sorted((t["pid"], t["tid"], t["name"], t["slices"]) for t in res["threads"])
    harness.check(prefix + "threads_and_slices", got == want, "viewer %s\nfile   %s" % (got, want))

    want_flows = sorted((n, a[0], a[1], b[0], b[1]) for n, a, b in trace_validate.bind_flows(doc))
    got_flows = sorted((f["name"], f["fromTid"], f["fromSlice"], f["toTid"], f["toSlice"])
                       for f in res["flows"])
    nr_s = sum(1 for e in evs if e.get("ph") == "s")
    harness.check(prefix + "flows", got_flows == want_flows and len(got_flows) == nr_s,
                  "viewer %s\nfile   %s" % (got_flows[:20], want_flows[:20]))

    end_us = max(float(e["ts"]) + float(e.get("dur", 0)) for e in evs if e["ph"] in ("X", "i"))
    bounds = res.get("bounds") or [0, 0]
    harness.check(prefix + "time_range", abs(bounds[1] * 1000 - end_us) < 0.01,
                  "viewer ends at %s ms, file at %s us" % (bounds[1], end_us))


def main(argv):
    if len(argv) not in (3, 4) or argv[1] not in ("catapult", "speedscope"):
        print("usage: %s catapult|speedscope TRACE [PORT]" % argv[0], file=sys.stderr)
        return 2
    if not os.path.isfile(argv[2]):
        print("viewers: no such file: %s" % argv[2], file=sys.stderr)
        return 1
    try:
        # Catapult needs only a Go source tree; speedscope the npm package
        v = Viewers(None, ensure_catapult(), ensure_npm() if argv[1] == "speedscope" else None)
    except harness.Skip as e:
        print("viewers: %s" % e, file=sys.stderr)
        return 1
    srv, url = v.serve(argv[1], argv[2], port=int(argv[3]) if len(argv) == 4 else 0, flows=True)
    print(url, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
