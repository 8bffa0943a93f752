#!/bin/bash
# Build every test program (testprogs/*/ with a go.mod) with every Go
# toolchain scripts/toolchains.sh lists, in every variant:
#
#   default    go build
#   pie        -buildmode=pie
#   stripped   -ldflags='-s -w'
#   pie-stripped  both (Go 1.17+; for cgo programs before 1.26 the pclntab
#              then has no section and no symbol)
#   arm64 386 mips mipsle
#              cross builds of the default variant, CGO_ENABLED=0, for the
#              parsing tests (they can't run here)
#
# into build/testprogs/<goversion>/<variant>/<prog>, and write
# build/testprogs/manifest.json: a JSON list of
#   {"go","variant","goarch","prog","path","cgo"}
# (read by tests/lib/harness.py testprog_builds()).
#
# Incremental: a binary newer than its program's sources and its toolchain is
# not rebuilt.  Each toolchain keeps its own GOCACHE in build/gocache/<version>.
# Builds run 2 at a time (JOBS=N to change).  The last line on stderr is a
# summary: "testprogs: N builds with go1.19.8, go1.26.8, ...".
#
# Per-program conventions (testprogs/README.md): `// gotrace:min-go 1.17` in
# main.go skips older toolchains; a directory named cgo, or `// gotrace:cgo`
# in main.go, builds with CGO_ENABLED=1 (host arch only, needs a C compiler).
#
# Matrix limits.  A cold build compiles the standard library once per
# (toolchain, GOARCH, pie or not): about 11 CPU-seconds each.  All variants
# and cross arches for all 13 toolchains would take ~15 minutes on 2 cores,
# so:
#   - pie and pie-stripped from Go 1.17 on (what we trace); 1.15/1.16 get
#     default + stripped;
#   - cross builds only with one toolchain per pclntab format / ABI
#     generation: arm64 and mips (32-bit big-endian) with Go 1.15, 1.16,
#     1.17, 1.18 and 1.20 (CROSS_VERSIONS), all four arches with Go 1.26
#     and the newest toolchain (CROSS_FULL_VERSIONS);
#   - cross builds of the programs in CROSS_PROGS only (default: goroutines);
#     the other programs are for tracing, which needs the host arch.
# Measured (6 programs, 298 builds): a cold run costs ~9.5 CPU-minutes,
# ~5 minutes on 2 idle cores (9 minutes on a busy shared machine); a warm
# re-run, 2 seconds.  GOCACHE lives in build/gocache/<version>, so
# a fresh clone starts cold (TESTPROGS_GOCACHE=DIR to share one elsewhere).
#
# Environment: GOTRACE_TOOLCHAINS=quick (see scripts/toolchains.sh), JOBS,
# TESTPROGS_ONLY="goroutines cgo" to build a subset of programs,
# CROSS_VERSIONS="1.17 1.20", CROSS_FULL_VERSIONS="1.26",
# CROSS_PROGS="goroutines inline".
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build/testprogs
CACHE=${TESTPROGS_GOCACHE:-$ROOT/build/gocache}
JOBS=${JOBS:-2}
HOSTARCH=$(uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')
CROSS_ARCHES=(arm64 386 mips mipsle)
CROSS_VERSIONS=${CROSS_VERSIONS:-1.15 1.16 1.17 1.18 1.20}
CROSS_FULL_VERSIONS=${CROSS_FULL_VERSIONS:-1.26}
CROSS_PROGS=${CROSS_PROGS:-goroutines}

note() { echo "testprogs: $*" >&2; }

mkdir -p "$OUT" "$CACHE"
toolchains=$(bash "$ROOT/scripts/toolchains.sh") || { note "no Go toolchain"; exit 1; }

HAVE_CC=0
command -v "${CC:-cc}" >/dev/null 2>&1 && HAVE_CC=1

# "1.17" -> 117 for comparisons; "go1.9" -> 109.
vnum() { local v=${1#go}; local maj=${v%%.*} rest=${v#*.}; echo $((maj * 100 + ${rest%%.*})); }

progs=()
for d in "$ROOT"/testprogs/*/; do
	[ -f "$d/go.mod" ] || continue
	p=$(basename "$d")
	if [ -n "${TESTPROGS_ONLY:-}" ] && [[ " $TESTPROGS_ONLY " != *" $p "* ]]; then
		continue
	fi
	progs+=("$p")
done

# One job per line: goversion goexe prog variant goarch cgo
newest=$(cut -f1 <<<"$toolchains" | sort -V | tail -1)
newest=$(vnum "$newest")
jobs_file=$(mktemp)
trap 'rm -f "$jobs_file" "$jobs_file".*' EXIT
while IFS=$'\t' read -r gv goexe; do
	[ -n "$gv" ] || continue
	n=$(vnum "$gv")
	for p in "${progs[@]}"; do
		main=$ROOT/testprogs/$p/main.go
		min=$(sed -n 's|^//[[:space:]]*gotrace:min-go[[:space:]]*\(go\)\{0,1\}\([0-9.]*\).*|\2|p' "$main" 2>/dev/null | head -1)
		if [ -n "$min" ] && ((n < $(vnum "$min"))); then
			continue
		fi
		cgo=0
		if [ "$p" = cgo ] || grep -q '^//[[:space:]]*gotrace:cgo' "$main" 2>/dev/null; then
			cgo=1
			((HAVE_CC)) || continue
		fi
		variants=(default stripped)
		((n >= 117)) && variants+=(pie pie-stripped)
		for v in "${variants[@]}"; do
			echo "$gv $goexe $p $v $HOSTARCH $cgo"
		done
		((cgo)) && continue
		[[ " $CROSS_PROGS " == *" $p "* ]] || continue
		for a in "${CROSS_ARCHES[@]}"; do
			[ "$a" = "$HOSTARCH" ] && continue
			mm="$((n / 100)).$((n % 100))"
			if ((n == newest)) || [[ " $CROSS_FULL_VERSIONS " == *" $mm "* ]]; then
				:
			elif [[ " $CROSS_VERSIONS " == *" $mm "* ]]; then
				[ "$a" = arm64 ] || [ "$a" = mips ] || continue
			else
				continue
			fi
			echo "$gv $goexe $p $a $a 0"
		done
	done
done <<<"$toolchains" >"$jobs_file"

# Build one job; prints "built", "fresh" or "failed" plus the job on stdout.
build_one() {
	local gv=$1 goexe=$2 prog=$3 variant=$4 goarch=$5 cgo=$6
	local src=$ROOT/testprogs/$prog out=$OUT/$gv/$variant/$prog
	local n flags=() ldflags=
	if [ -x "$out" ] && [ -z "$(find "$src" "$goexe" -newer "$out" -print -quit 2>/dev/null)" ]; then
		echo "fresh $*"
		return 0
	fi
	n=$(vnum "$gv")
	((n >= 118)) && flags+=(-buildvcs=false)
	# `// gotrace:trimpath`: byte-identical builds in any checkout (the
	# replay corpus refers to them by Go build ID).
	grep -q '^//[[:space:]]*gotrace:trimpath' "$src/main.go" 2>/dev/null && flags+=(-trimpath)
	case $variant in
	pie) flags+=(-buildmode=pie) ;;
	stripped) ldflags='-s -w' ;;
	pie-stripped) flags+=(-buildmode=pie) ldflags='-s -w' ;;
	esac
	mkdir -p "$(dirname "$out")" "$CACHE/$gv"
	local log=$out.log tmp=$out.tmp.$$
	if (cd "$src" && env GOENV=off GOFLAGS= GOTOOLCHAIN=local GOPROXY=off GOWORK=off \
		GOCACHE="$CACHE/$gv" GOOS=linux GOARCH="$goarch" GO111MODULE=on \
		CGO_ENABLED="$cgo" "$goexe" build "${flags[@]}" ${ldflags:+-ldflags="$ldflags"} \
		-o "$tmp" .) >"$log" 2>&1; then
		mv -f "$tmp" "$out"
		rm -f "$log"
		echo "built $*"
	else
		rm -f "$tmp"
		echo "failed $* (see $log)"
		sed 's/^/    /' "$log" | head -20 >&2
	fi
}
export -f build_one vnum
export ROOT OUT CACHE

start=$(date +%s)
xargs -P "$JOBS" -L 1 bash -c 'build_one "$@"' _ <"$jobs_file" >"$jobs_file.res"

nbuilt=$(grep -c '^built ' "$jobs_file.res")
nfail=$(grep -c '^failed ' "$jobs_file.res")
grep '^failed ' "$jobs_file.res" | sed 's/^/testprogs: /' >&2

# The manifest lists every build whose binary exists now.  A subset run
# (TESTPROGS_ONLY) keeps the other programs' entries from the old manifest.
manifest_tmp=$(mktemp "$OUT/manifest.json.XXXXXX")  # concurrent runs: each its own
python3 - "$OUT" "$jobs_file" "${TESTPROGS_ONLY:-}" <<'EOF' >"$manifest_tmp"
import json, os, sys
out, jobs, only = sys.argv[1], sys.argv[2], sys.argv[3].split()
m = []
old = os.path.join(out, "manifest.json")
if only and os.path.exists(old):
    try:
        m = [b for b in json.load(open(old))
             if b.get("prog") not in only and os.path.isfile(b.get("path", ""))]
    except ValueError:
        m = []
for line in open(jobs):
    gv, goexe, prog, variant, goarch, cgo = line.split()
    path = os.path.join(out, gv, variant, prog)
    if os.path.isfile(path):
        m.append({"go": gv, "variant": variant, "goarch": goarch, "prog": prog,
                  "path": path, "cgo": cgo == "1"})
json.dump(m, sys.stdout, indent=1)
print()
EOF
chmod 644 "$manifest_tmp"
mv -f "$manifest_tmp" "$OUT/manifest.json"

total=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$OUT/manifest.json")
versions=$(cut -f1 <<<"$toolchains" | sort -V | paste -sd, | sed 's/,/, /g')
note "$total builds with $versions ($nbuilt rebuilt, $nfail failed, $(($(date +%s) - start))s; ${#progs[@]} programs: ${progs[*]})"
((nfail == 0))
