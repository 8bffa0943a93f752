#!/bin/bash
# Sourced by scripts/bench.sh: what detaching uprobes costs, side by side in
# one run (why, and the numbers: docs/faults.md):
#
#   1. tests/bench/bench_detach.c: N perf-event uprobes closed by one
#      thread, the same closed by T threads, one uprobe_multi link over the
#      same offsets, alternating;
#   2. gotrace funcgraph itself on the funcgraph test program, the same
#      patterns with --attach single and --attach multi, alternating: its
#      "detached N probes in T ms" lines.
#
# BENCH_BASELINE_GOTRACE=PATH: also that gotrace binary (an older commit's
# build) with --attach single, in the same loop.
# BENCH_DETACH_PROBES (default 100), BENCH_DETACH_THREADS (16),
# BENCH_DETACH_ROUNDS (2).  Each perf-event uprobe takes ~35-170 ms to
# detach, so the whole family takes one to two minutes.
bench_detach() {
	local bin=$BUILD/bench/bench_detach r run prog
	if [ ! -x "$bin" ]; then
		echo "bench_detach: no $bin (make bench builds it)" >&2
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "bench_detach: needs root (BPF, uprobes); skipped"
		return 0
	fi
	"$bin" -n "${BENCH_DETACH_PROBES:-100}" -t "${BENCH_DETACH_THREADS:-16}" \
		-r "${BENCH_DETACH_ROUNDS:-2}" || return 1
	prog=$(ls -d "$BUILD"/testprogs/go1.*/default/funcgraph 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$prog" ]; then
		echo "bench_detach: no funcgraph test program (make testprogs); gotrace part skipped"
		return 0
	fi
	local runs=("$BUILD/gotrace single" "$BUILD/gotrace multi")
	[ -n "${BENCH_BASELINE_GOTRACE:-}" ] && runs+=("$BENCH_BASELINE_GOTRACE single")
	for r in $(seq "${BENCH_DETACH_ROUNDS:-2}"); do
		for run in "${runs[@]}"; do
			set -- $run
			printf '%s --attach %-6s ' "$1" "$2"
			"$1" funcgraph --attach "$2" -o /dev/null 'main.*' 'fmt.*' -- "$prog" 2>&1 \
				>/dev/null | grep -o 'detached [0-9]* probes in [0-9.]* ms' || return 1
		done
	done
}
