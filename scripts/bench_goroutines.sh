#!/bin/bash
# gotrace goroutines on 100,000 goroutines, side by side with the target's
# own runtime.Stack(buf, true) (docs/goroutines.md, "Speed"), sourced by
# scripts/bench.sh.  tests/bench/bench_goroutines.py does the measuring.
#
# Knobs: BENCH_GOROUTINES_N (default 100000), BENCH_GOROUTINES_ROUNDS
# (default 5), BENCH_GOROUTINES_WINDOW (seconds per window, default 3),
# BENCH_GOROUTINES_GO (go binary).

bench_goroutines() {
	local root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
	local build=${BUILD:-$root/build}
	local go=${BENCH_GOROUTINES_GO:-$(command -v go || echo /usr/local/go/bin/go)}
	local tmp rc

	if [ ! -x "$build/gotrace" ]; then
		echo "bench_goroutines: $build/gotrace missing: run make all" >&2
		return 1
	fi
	tmp=$(mktemp -d /tmp/bench-goroutines.XXXXXX) || return 1
	if ! (cd "$root/testprogs/parked" && GOFLAGS= "$go" build -o "$tmp/parked" .); then
		rm -rf "$tmp"
		return 1
	fi
	python3 "$root/tests/bench/bench_goroutines.py" "$build/gotrace" "$tmp/parked" \
		"${BENCH_GOROUTINES_N:-100000}" "${BENCH_GOROUTINES_ROUNDS:-5}" \
		"${BENCH_GOROUTINES_WINDOW:-3}"
	rc=$?
	rm -rf "$tmp"
	return $rc
}
