#!/bin/bash
# Install the Debian packages the build, the demo and the tests need, when
# they are missing.  Idempotent and quiet when everything is there.
# Needs root (or sudo) only when something must be installed.
set -euo pipefail

PKGS=(
	make gcc clang llvm pkg-config
	libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev libjansson-dev libcapstone-dev libncurses-dev
	libclang-rt-14-dev    # libFuzzer, ASan, UBSan runtimes for clang 14
	golang-1.19-go        # the oldest Go toolchain we test with (Debian's)
	python3 gdb file binutils procps tmux   # tmux: gotrace top's terminal tests
	chromium golang-1.19-src   # real-viewer tests: headless Chromium + Catapult from Go's source
)
# Node.js for speedscope/playwright-core in the viewer tests; machines that
# already have a Node with npm (e.g. NodeSource's) keep theirs.
command -v npm >/dev/null || PKGS+=(nodejs npm)
# Cross toolchain for `make ARCH=arm64` (the libraries always cross-build).
PKGS+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
	echo "deps: installing ${missing[*]}" >&2
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	# apt-get update once per machine (or when the lists are older than a day).
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
		$SUDO apt-get update -qq >&2
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# A recent Go toolchain: the machine's own (`go` on PATH or /usr/local/go),
# else Debian's 1.19 serves as both.
if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
	echo "deps: no recent Go on PATH; tests will use Debian's go 1.19 only" >&2
fi
exit 0
