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
#  2. per-call cost on testprogs/funcgraph -bench N -bench-func checked (a
#     loop calling main.benchChecked, a function shaped like most Go code:
#     stack check, frame, a call; the program reports its thread's CPU time,
#     which the kernel charges the probe traps to), side by side:
#       (a) nothing attached
#       (b) the floor: bare uprobes at funcgraph's own sites (the entry's
#           jbe: emulated; the RET: single-stepped), empty BPF program
#           (gotrace funcgraph --bench-floor: same attach mechanism)
#       (c) gotrace funcgraph (BPF + ring buffer + pairing + output)
#       (d) the floor of the entry probe alone (GOTRACE_BENCH_SITES=entry-only)
#       (e) gotrace funcgraph with entry probes only
#       (f) the floor with the entry probe at the first instruction (the
#           placement before docs/probes.md: single-stepped)
#       (g) gotrace funcgraph with that placement
#     Goals (docs/probes.md): (c-a)/(b-a) <= 1.2 per call, (e-a)/(d-a) <= 1.2
#     per entry probe; (g-a)/(c-a) is what the new placement saves.
#  3. the per-hit floor of each probe class on this machine, in the same
#     run (gotrace doctor's self-test).
#
# Knobs: BENCH_FG_CALLS (default 100000), BENCH_FG_RUNS (default 3, the
# median is reported), BENCH_FG_SINGLE_MAX, BENCH_FG_GO (go binary),
# BENCH_BASELINE_GOTRACE=PATH: another gotrace binary (e.g. an older
# commit's build) run as (c0) in every round next to (c), side by side.

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

	# 2. per-call cost, the rows interleaved in every round
	ns() { sed -n 's/^funcgraph: bench [0-9]* calls in [0-9]* ns (cpu \([0-9]*\) ns.*/\1/p' | head -1; }
	median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	local row bin="$tmp/funcgraph -bench $calls -bench-func checked" pat=main.benchChecked
	local base=${BENCH_BASELINE_GOTRACE:-} c0=
	for row in a b c d e f g c0; do : >"$tmp/$row"; done
	for ((i = 0; i < runs; i++)); do
		$bin | ns >>"$tmp/a"
		for row in b c d e f g; do
			local sites= floor=
			case $row in d | e) sites=entry-only ;; f | g) sites=start ;; esac
			case $row in b | d | f) floor=--bench-floor ;; esac
			GOTRACE_BENCH_SITES=$sites "$gotrace" funcgraph -q --no-summary $floor \
				-o /dev/null "$pat" -- $bin | ns >>"$tmp/$row"
		done
		[ -z "$base" ] || "$base" funcgraph -q --no-summary -o /dev/null "$pat" -- $bin |
			ns >>"$tmp/c0"
	done
	[ -z "$base" ] || c0=$(median <"$tmp/c0")
	local m=()
	for row in a b c d e f g; do m+=("$(median <"$tmp/$row")"); done
	# 3. the per-hit floor of each class, same run
	local cost
	cost=$("$gotrace" doctor --json 2>/dev/null | python3 -c '
import json, sys
for c in json.load(sys.stdin)["checks"]:
    if c["check"] == "probe-cost" and "emulated_ns" in c:
        print("%.0f %.0f" % (c["emulated_ns"], c["sstep_ns"]))')
	rm -rf "$tmp"
	for row in 0 1 2 3 4 5 6; do
		if [ -z "${m[$row]}" ]; then
			echo "bench_funcgraph: a run failed (${m[*]})" >&2
			return 1
		fi
	done
	awk -v a="${m[0]}" -v b="${m[1]}" -v c="${m[2]}" -v d="${m[3]}" -v e="${m[4]}" \
	    -v f="${m[5]}" -v g="${m[6]}" -v n="$calls" -v cost="$cost" 'BEGIN {
		printf "funcgraph: %d calls of main.benchChecked, CPU ns per call, median of runs\n", n
		printf "funcgraph: (a) plain                                   %10.1f\n", a / n
		printf "funcgraph: (b) bare uprobes, entry jbe + RET           %10.1f\n", b / n
		printf "funcgraph: (c) gotrace funcgraph                       %10.1f\n", c / n
		printf "funcgraph: (d) bare uprobe, entry jbe only             %10.1f\n", d / n
		printf "funcgraph: (e) gotrace funcgraph, entry probes only    %10.1f\n", e / n
		printf "funcgraph: (f) bare uprobes, entry at +0 (cmp) + RET   %10.1f\n", f / n
		printf "funcgraph: (g) gotrace funcgraph, entry at +0          %10.1f\n", g / n
		printf "funcgraph: per call  (c-a)/(b-a) = %.2f (goal <= 1.2)\n", (c - a) / (b - a)
		printf "funcgraph: per entry (e-a)/(d-a) = %.2f (goal <= 1.2)\n", (e - a) / (d - a)
		printf "funcgraph: entry at +0 vs at the jbe: (g-a)/(c-a) = %.2f\n", (g - a) / (c - a)
		if (split(cost, k, " ") == 2)
			printf "funcgraph: per-hit floor here (gotrace doctor): emulated %.0f ns, " \
			       "single-stepped %.0f ns\n", k[1], k[2]
	}'
	[ -z "$c0" ] || awk -v a="${m[0]}" -v b="${m[1]}" -v c="$c0" -v n="$calls" -v p="$base" 'BEGIN {
		printf "funcgraph: (c0) baseline %s, same rounds: %10.1f, (c0-a)/(b-a) = %.2f\n", p, c / n, (c - a) / (b - a)
	}'

}
