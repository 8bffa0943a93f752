#!/bin/bash
# The libdwunw benchmark (docs/unwind.md), sourced by scripts/bench.sh:
#
#  1. per-stack unwind latency on the replayed real snapshots of
#     tests/replay/corpus (Go: default, PIE, stripped; C: -fomit-frame-pointer
#     and .debug_frame-only, through qsort, a signal frame...; up to 30
#     frames), warm tables: p50/p95/p99, ns per frame, and CPU time per stack
#     (CLOCK_THREAD_CPUTIME_ID, robust to a loaded machine), with and
#     without the PC cache;
#  2. libdw's own unwinder (dwfl_attach_state over the same snapshots, one
#     Dwfl reused) in the same run: latency, and agreement frame by frame;
#  3. table build rate: module load of /usr/local/bin/docker (.debug_frame,
#     ~300k rows), libc (.eh_frame) and build/gotrace.
#
# Goals (issue 5): p95 <= 2 us, p99 <= 5 us per stack.
# Knobs: BENCH_UNWIND_ITERS (default 2000 walks per snapshot per method).

bench_unwind() {
	local root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
	local build=${BUILD:-$root/build}
	local bin=$build/bench/bench_dwunw

	if [ ! -x "$bin" ]; then
		echo "bench_unwind: $bin missing: run make $bin" >&2
		return 1
	fi
	(cd "$root" && "$bin" -n "${BENCH_UNWIND_ITERS:-2000}") || return 1
	echo "bench_unwind: results and how to read them: docs/unwind.md"
}
