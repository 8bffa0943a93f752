#!/bin/bash
# The --stack benchmarks (docs/unwind.md, "--stack"), sourced by
# scripts/bench.sh:
#
#  1. funcgraph: per-call cost on testprogs/funcgraph -bench N (a loop
#     calling a one-line noinline function N times; the program times
#     itself), side by side in each run:
#       (a) nothing attached
#       (c) gotrace funcgraph --format=jsonl             (entry + RET probe)
#       (d) gotrace funcgraph --format=jsonl --stack     (the entry event also
#           carries registers + the stack up to g.stack.hi; user space
#           unwinds, symbolizes and prints it)
#     and (d-a)/(c-a), the cost of a traced call with its stack relative to
#     one without (median of the per-run ratios), and (d-c) per call.
#  2. states: per ping-pong round on testprogs/states -pingpong N (each
#     round parks both goroutines: every park is a stack), (a) plain,
#     (c) gotrace states, (d) gotrace states --stack, same ratio.
#  3. user space: CPU time per stack to unwind and symbolize (thread CPU
#     clock around gt_stacks_unwind, from the runs' stack_summary), as
#     stacks per second on one core, and frames per stack.
#
# Knobs: BENCH_STACKS_CALLS (default 100000), BENCH_STACKS_ROUNDS (default
# 50000), BENCH_STACKS_RUNS (default 3), BENCH_STACKS_GO (go binary).

bench_stacks() {
	local root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
	local build=${BUILD:-$root/build}
	local calls=${BENCH_STACKS_CALLS:-100000} rounds=${BENCH_STACKS_ROUNDS:-50000}
	local runs=${BENCH_STACKS_RUNS:-3}
	local go=${BENCH_STACKS_GO:-$(command -v go || echo /usr/local/go/bin/go)}
	local gotrace=$build/gotrace tmp i

	if [ ! -x "$gotrace" ]; then
		echo "bench_stacks: $gotrace missing: run make all" >&2
		return 1
	fi
	tmp=$(mktemp -d /tmp/bench-stacks.XXXXXX) || return 1
	if ! (cd "$root/testprogs/funcgraph" && GOFLAGS= "$go" build -o "$tmp/funcgraph" .) ||
	   ! (cd "$root/testprogs/states" && GOFLAGS= "$go" build -o "$tmp/states" .); then
		rm -rf "$tmp"
		return 1
	fi
	fg_ns() { sed -n 's/^funcgraph: bench [0-9]* calls in \([0-9]*\) ns.*/\1/p' | head -1; }
	pp_ns() { sed -n 's/.*"event":"pingpong".*"ns":\([0-9]*\).*/\1/p; s/.*"ns":\([0-9]*\),"rounds".*/\1/p' | head -1; }
	median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	# "unwind_us_per_stack frames/stack stacks complete lost" of a jsonl file
	summ() { grep '"type":"stack_summary"' "$1" | tail -1 |
		 sed 's/.*"stacks":\([0-9]*\),"complete":\([0-9]*\),.*"lost":\([0-9]*\),.*"frames":\([0-9]*\),"unwind_us_per_stack":\([0-9.]*\).*/\5 \4 \1 \2 \3/'; }

	: >"$tmp/a"; : >"$tmp/c"; : >"$tmp/d"; : >"$tmp/sa"; : >"$tmp/sc"; : >"$tmp/sd"
	: >"$tmp/us"
	for ((i = 0; i < runs; i++)); do
		"$tmp/funcgraph" -bench "$calls" | fg_ns >>"$tmp/a"
		"$gotrace" funcgraph -q --format=jsonl -o "$tmp/c.jsonl" 'main.benchTarget' \
			-- "$tmp/funcgraph" -bench "$calls" | fg_ns >>"$tmp/c"
		"$gotrace" funcgraph -q --format=jsonl -o "$tmp/d.jsonl" --stack 'main.benchTarget' \
			-- "$tmp/funcgraph" -bench "$calls" | fg_ns >>"$tmp/d"
		summ "$tmp/d.jsonl" >>"$tmp/us"
		"$tmp/states" -pingpong "$rounds" | pp_ns >>"$tmp/sa"
		"$gotrace" states -q --format=jsonl -o "$tmp/sc.jsonl" -- \
			"$tmp/states" -pingpong "$rounds" | pp_ns >>"$tmp/sc"
		"$gotrace" states --format=jsonl -o "$tmp/sd.jsonl" --stack -- \
			"$tmp/states" -pingpong "$rounds" 2>/dev/null | pp_ns >>"$tmp/sd"
		summ "$tmp/sd.jsonl" | sed 's/^/states /' >>"$tmp/us"
	done
	local ok=1
	for f in a c d sa sc sd; do
		[ "$(wc -l <"$tmp/$f")" -eq "$runs" ] && ! grep -qv '^[0-9][0-9]*$' "$tmp/$f" || ok=0
	done
	if [ $ok = 0 ]; then
		echo "bench_stacks: a run failed" >&2
		head "$tmp"/a "$tmp"/c "$tmp"/d "$tmp"/sa "$tmp"/sc "$tmp"/sd >&2
		rm -rf "$tmp"
		return 1
	fi
	local fr sr
	fr=$(paste "$tmp/a" "$tmp/c" "$tmp/d" | awk '$2 > $1 { print ($3 - $1) / ($2 - $1) }' | median)
	sr=$(paste "$tmp/sa" "$tmp/sc" "$tmp/sd" | awk '$2 > $1 { print ($3 - $1) / ($2 - $1) }' | median)
	awk -v a="$(median <"$tmp/a")" -v c="$(median <"$tmp/c")" -v d="$(median <"$tmp/d")" \
	    -v n="$calls" -v r="$fr" -v runs="$runs" 'BEGIN {
		printf "stacks: funcgraph, %d calls of a traced function, median of %d runs\n", n, runs
		printf "stacks: (a) plain                        %10.1f ns/call\n", a / n
		printf "stacks: (c) gotrace funcgraph            %10.1f ns/call\n", c / n
		printf "stacks: (d) gotrace funcgraph --stack    %10.1f ns/call\n", d / n
		printf "stacks: (d-a)/(c-a) = %.2f (median of per-run ratios); --stack adds %.1f us per call\n", r, (d - c) / n / 1000
	}'
	awk -v a="$(median <"$tmp/sa")" -v c="$(median <"$tmp/sc")" -v d="$(median <"$tmp/sd")" \
	    -v n="$rounds" -v r="$sr" -v runs="$runs" 'BEGIN {
		printf "stacks: states, ping-pong %d rounds, median of %d runs\n", n, runs
		printf "stacks: (a) plain                        %10.1f ns/round\n", a / n
		printf "stacks: (c) gotrace states               %10.1f ns/round\n", c / n
		printf "stacks: (d) gotrace states --stack       %10.1f ns/round\n", d / n
		printf "stacks: (d-a)/(c-a) = %.2f (median of per-run ratios)\n", r
	}'
	awk '{ st = ($1 == "states"); if (st) $0 = substr($0, 8)
	       split($0, f, " ")
	       k = st ? "states" : "funcgraph"
	       us[k] += f[1]; fr[k] += f[2]; n[k] += f[3]; ok[k] += f[4]; lost[k] += f[5]; runs[k]++ }
	     END { for (k in runs) if (n[k])
		printf "stacks: user space (%s): %.2f us CPU per stack to unwind + symbolize (%.0f stacks/s on one core), %.1f frames/stack, %d/%d complete, %d lost\n",
		       k, us[k] / runs[k], 1e6 / (us[k] / runs[k]), fr[k] / n[k], ok[k], n[k], lost[k] }' "$tmp/us"
	rm -rf "$tmp"
}
