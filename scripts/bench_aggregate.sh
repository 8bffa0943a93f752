#!/bin/bash
# The per-call cost of the in-kernel aggregating commands (docs/aggregate.md),
# sourced by scripts/bench.sh.
#
# testprogs/funcgraph -bench N -bench-func checked (a loop calling
# main.benchChecked, shaped like most Go code: stack check, frame, a call;
# the program reports its thread's CPU time, which the kernel charges the
# probe traps to), side by side in every round:
#   (a) nothing attached
#   (d) the floor of one entry probe: a bare uprobe on funcgraph's entry
#       site (the stack check's jbe: emulated), empty BPF program
#       (GOTRACE_BENCH_SITES=entry-only gotrace funcgraph --bench-floor)
#   (h) gotrace funccount main.benchChecked
#   (h2) gotrace funccount --per-goroutine main.benchChecked
#   (b) the floor of entry + RET probes (bare uprobes, empty BPF program)
#   (i) gotrace funclatency main.benchChecked
# Goals: funccount per call (h-a)/(d-a) <= 1.2 (issue 12: one emulated
# bare probe); funclatency's (i-a)/(b-a) is reported beside it.  Then the
# per-hit floor of each probe class from gotrace doctor, same run.
#
# Knobs: BENCH_AGG_CALLS (default 100000), BENCH_AGG_RUNS (default 3, the
# median is reported), BENCH_AGG_GO (go binary).

bench_aggregate() {
	local root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
	local build=${BUILD:-$root/build}
	local calls=${BENCH_AGG_CALLS:-100000} runs=${BENCH_AGG_RUNS:-3}
	local go=${BENCH_AGG_GO:-$(command -v go || echo /usr/local/go/bin/go)}
	local gotrace=$build/gotrace tmp i row

	[ -x "$gotrace" ] || { echo "bench_aggregate: $gotrace missing: run make all" >&2; return 1; }
	tmp=$(mktemp -d /tmp/bench-aggregate.XXXXXX) || return 1
	if ! (cd "$root/testprogs/funcgraph" && GOFLAGS= "$go" build -o "$tmp/funcgraph" .); then
		rm -rf "$tmp"
		return 1
	fi
	ns() { sed -n 's/^funcgraph: bench [0-9]* calls in [0-9]* ns (cpu \([0-9]*\) ns.*/\1/p' | head -1; }
	median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	local bin="$tmp/funcgraph -bench $calls -bench-func checked" pat=main.benchChecked
	local rows=(a d h h2 b i)
	for row in "${rows[@]}"; do : >"$tmp/$row"; done
	for ((i = 0; i < runs; i++)); do
		for row in "${rows[@]}"; do
			case $row in
			a) $bin ;;
			d) GOTRACE_BENCH_SITES=entry-only "$gotrace" funcgraph -q --no-summary \
				--bench-floor -o /dev/null "$pat" -- $bin ;;
			b) "$gotrace" funcgraph -q --no-summary --bench-floor -o /dev/null "$pat" -- $bin ;;
			h) "$gotrace" funccount -q -o /dev/null "$pat" -- $bin ;;
			h2) "$gotrace" funccount -q --per-goroutine -o /dev/null "$pat" -- $bin ;;
			i) "$gotrace" funclatency -q -o /dev/null "$pat" -- $bin ;;
			esac | ns >>"$tmp/$row"
		done
	done
	local m=()
	for row in "${rows[@]}"; do m+=("$(median <"$tmp/$row")"); done
	local cost
	cost=$("$gotrace" doctor --json 2>/dev/null | python3 -c '
import json, sys
for c in json.load(sys.stdin)["checks"]:
    if c["check"] == "probe-cost" and "emulated_ns" in c:
        print("%.0f %.0f" % (c["emulated_ns"], c["sstep_ns"]))')
	rm -rf "$tmp"
	for row in 0 1 2 3 4 5; do
		if [ -z "${m[$row]}" ]; then
			echo "bench_aggregate: a run failed (${m[*]})" >&2
			return 1
		fi
	done
	awk -v a="${m[0]}" -v d="${m[1]}" -v h="${m[2]}" -v h2="${m[3]}" -v b="${m[4]}" \
	    -v i="${m[5]}" -v n="$calls" -v cost="$cost" 'BEGIN {
		printf "aggregate: %d calls of main.benchChecked, CPU ns per call, median of runs\n", n
		printf "aggregate: (a)  plain                                  %10.1f\n", a / n
		printf "aggregate: (d)  bare uprobe, entry jbe only            %10.1f\n", d / n
		printf "aggregate: (h)  gotrace funccount                      %10.1f\n", h / n
		printf "aggregate: (h2) gotrace funccount --per-goroutine      %10.1f\n", h2 / n
		printf "aggregate: (b)  bare uprobes, entry jbe + RET          %10.1f\n", b / n
		printf "aggregate: (i)  gotrace funclatency                    %10.1f\n", i / n
		printf "aggregate: funccount per call (h-a)/(d-a) = %.2f (goal <= 1.2)\n", (h - a) / (d - a)
		printf "aggregate: funccount --per-goroutine (h2-a)/(d-a) = %.2f\n", (h2 - a) / (d - a)
		printf "aggregate: funclatency per call (i-a)/(b-a) = %.2f\n", (i - a) / (b - a)
		if (split(cost, k, " ") == 2)
			printf "aggregate: per-hit floor here (gotrace doctor): emulated %.0f ns, " \
			       "single-stepped %.0f ns\n", k[1], k[2]
	}'
}
