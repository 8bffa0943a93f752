#!/bin/bash
# The `gotrace funcgraph` benchmarks (docs/funcgraph.md), sourced by
# scripts/bench.sh:
#
#  1. attach and detach time of 100, 1,000 and 10,000 probes (function
#     entries and RET sites of a binary with ~7,000 functions, installed in a
#     live process) with one uprobe_multi link, and with one perf-event
#     uprobe per probe in the same run (build/bench/bench_funcgraph).  The
#     per-probe fallback is run up to BENCH_FG_SINGLE_MAX probes (default 100;
#     ~0.1 s each to detach here: each waits for an RCU grace period).
#  2. per-call overhead on testprogs/funcgraph -bench N (a loop calling a
#     one-line noinline function N times; the program times itself):
#       (a) nothing attached
#       (b) the floor: two bare uprobes, at the entry and at the RET
#           (gotrace funcgraph --bench-floor: same sites, same attach
#           mechanism, an empty BPF program)
#       (c) gotrace funcgraph (BPF + ring buffer + pairing + output)
#     and the ratio (c-a)/(b-a) (goal <= 1.2).
#
# Knobs: BENCH_FG_CALLS (default 100000), BENCH_FG_RUNS (default 3, the
# median is reported), BENCH_FG_SINGLE_MAX, BENCH_FG_GO (go binary).

bench_funcgraph() {
	local root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
	local build=${BUILD:-$root/build}
	local calls=${BENCH_FG_CALLS:-100000} runs=${BENCH_FG_RUNS:-3}
	local single_max=${BENCH_FG_SINGLE_MAX:-100}
	local go=${BENCH_FG_GO:-$(command -v go || echo /usr/local/go/bin/go)}
	local gotrace=$build/gotrace attach=$build/bench/bench_funcgraph tmp pid i a b c

	for f in "$gotrace" "$attach"; do
		if [ ! -x "$f" ]; then
			echo "bench_funcgraph: $f missing: run make all build/bench/$(basename "$f")" >&2
			return 1
		fi
	done
	tmp=$(mktemp -d /tmp/bench-funcgraph.XXXXXX) || return 1
	if ! (cd "$root/testprogs/funcgraph" && GOFLAGS= "$go" build -o "$tmp/funcgraph" .) ||
	   ! (cd "$root/tests/bench/bench_funcgraph_big" && GOFLAGS= "$go" build -o "$tmp/big" .); then
		rm -rf "$tmp"
		return 1
	fi

	# 1. attach/detach: the big binary waits on stdin while probes come and go
	mkfifo "$tmp/hold"
	"$tmp/big" <"$tmp/hold" >"$tmp/big.out" &
	pid=$!
	exec {hold}>"$tmp/hold"
	sleep 0.3
	"$attach" "$tmp/big" "$pid" 100,1000,10000 "$single_max" | sed 's/^/funcgraph: /'
	exec {hold}>&-
	wait "$pid" 2>/dev/null

	# 2. per-call overhead
	ns() { sed -n 's/^funcgraph: bench [0-9]* calls in \([0-9]*\) ns.*/\1/p' | head -1; }
	median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	: >"$tmp/a"; : >"$tmp/b"; : >"$tmp/c"
	for ((i = 0; i < runs; i++)); do
		"$tmp/funcgraph" -bench "$calls" | ns >>"$tmp/a"
		"$gotrace" funcgraph -q --no-summary --bench-floor -o /dev/null 'main.benchTarget' \
			-- "$tmp/funcgraph" -bench "$calls" | ns >>"$tmp/b"
		"$gotrace" funcgraph -q --no-summary -o /dev/null 'main.benchTarget' \
			-- "$tmp/funcgraph" -bench "$calls" | ns >>"$tmp/c"
	done
	a=$(median <"$tmp/a"); b=$(median <"$tmp/b"); c=$(median <"$tmp/c")
	rm -rf "$tmp"
	if [ -z "$a" ] || [ -z "$b" ] || [ -z "$c" ]; then
		echo "bench_funcgraph: a run failed (a=$a b=$b c=$c)" >&2
		return 1
	fi
	awk -v a="$a" -v b="$b" -v c="$c" -v n="$calls" 'BEGIN {
		printf "funcgraph: %d calls of a traced function, median of runs\n", n
		printf "funcgraph: (a) plain                 %10.1f ns/call\n", a / n
		printf "funcgraph: (b) two bare uprobes      %10.1f ns/call\n", b / n
		printf "funcgraph: (c) gotrace funcgraph     %10.1f ns/call\n", c / n
		printf "funcgraph: (c-a)/(b-a) = %.2f (goal <= 1.2)\n", (c - a) / (b - a)
	}'
}
