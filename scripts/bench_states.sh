#!/bin/bash
# The `gotrace states` benchmarks (docs/states.md), sourced by scripts/bench.sh:
#
#  1. cost per goroutine transition on a ping-pong testprog
#     (testprogs/states -pingpong N: two goroutines hand a token back and
#     forth over unbuffered channels), in ns per casgstatus call:
#       (a) nothing attached
#       (b) the floor: a bare counting uprobe on runtime.casgstatus
#           (bpf/bench_count.bpf.c via build/bench/bench_states_count)
#       (c) gotrace states in its default mode: the live text stream (to a
#           file with -o, so the testprog's own stdout stays apart) and the
#           summary at exit: BPF + ring buffer + decode + model + formatting
#       (q) gotrace states -q: the same without the live stream
#       (g) gotrace states --aggregate -q: the same accounting in BPF maps,
#           no event per transition (docs/states.md, "Aggregated mode")
#       (G) gotrace states --aggregate --group -q: plus each goroutine's
#           histograms in BPF (what the groups' distributions need)
#     and the ratio (c-a)/(b-a): gotrace's cost relative to the uprobe
#     trap itself (goal <= 1.2).  Transitions per run come from (b)'s count.
#  2. user-space throughput: events recorded from the states testprog with
#     `gotrace states --raw` replayed through decode + summary + JSON Lines
#     (and + the text stream, -text) (build/bench/bench_states_replay), in
#     events/s (goal >= 2M on one core).
#
# Knobs: BENCH_STATES_ROUNDS (default 200000), BENCH_STATES_RUNS (default 3,
# the median is reported), BENCH_STATES_GO (go binary for the testprog),
# BENCH_ATTACH=multi|single (default multi): how both (b) and (c) attach
# (uprobe_multi link, or one perf-event uprobe; same mechanism for both).
# BENCH_BASELINE_GOTRACE=PATH: another gotrace binary (e.g. an older
# commit's build) run as (c0), (q0) and (g0) in the same loop, alternating
# with (c), (q) and (g), so the two are compared side by side.

bench_states() {
	local root=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
	local build=${BUILD:-$root/build}
	local rounds=${BENCH_STATES_ROUNDS:-200000} runs=${BENCH_STATES_RUNS:-3}
	local go=${BENCH_STATES_GO:-$(command -v go || echo /usr/local/go/bin/go)}
	local tmp prog gotrace=$build/gotrace count=$build/bench/bench_states_count
	local replay=$build/bench/bench_states_replay

	for f in "$gotrace" "$count" "$replay"; do
		if [ ! -x "$f" ]; then
			echo "bench_states: $f missing: run make all build/bench/$(basename "$f")" >&2
			return 1
		fi
	done
	tmp=$(mktemp -d /tmp/bench-states.XXXXXX) || return 1
	prog=$tmp/states
	if ! (cd "$root/testprogs/states" && "$go" build -o "$prog" .); then
		rm -rf "$tmp"
		return 1
	fi
	# ns of one run: the testprog measures its own ping-pong loop.
	pp_ns() { sed -n 's/.*"event":"pingpong".*"ns":\([0-9]*\).*/\1/p; s/.*"ns":\([0-9]*\),"rounds".*/\1/p' | head -1; }
	median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

	local i a b c q hits base=${BENCH_BASELINE_GOTRACE:-}
	: >"$tmp/a"; : >"$tmp/b"; : >"$tmp/c"; : >"$tmp/q"; : >"$tmp/hits"; : >"$tmp/c0"; : >"$tmp/q0"; : >"$tmp/g"; : >"$tmp/G"; : >"$tmp/g0"
	for ((i = 0; i < runs; i++)); do
		"$prog" -pingpong "$rounds" | pp_ns >>"$tmp/a"
		"$count" "$prog" -pingpong "$rounds" 2>"$tmp/count.err" | pp_ns >>"$tmp/b"
		sed -n 's/{"hits":\([0-9]*\)}/\1/p' "$tmp/count.err" >>"$tmp/hits"
		"$gotrace" states -o "$tmp/stream.txt" --attach "${BENCH_ATTACH:-multi}" -- \
			"$prog" -pingpong "$rounds" 2>>"$tmp/c.err" | pp_ns >>"$tmp/c"
		"$gotrace" states -q -o "$tmp/summary.txt" --attach "${BENCH_ATTACH:-multi}" -- \
			"$prog" -pingpong "$rounds" | pp_ns >>"$tmp/q"
		"$gotrace" states --aggregate -q -o "$tmp/agg.txt" --attach "${BENCH_ATTACH:-multi}" -- \
			"$prog" -pingpong "$rounds" | pp_ns >>"$tmp/g"
		"$gotrace" states --aggregate --group -q -o "$tmp/aggg.txt" --attach "${BENCH_ATTACH:-multi}" -- \
			"$prog" -pingpong "$rounds" | pp_ns >>"$tmp/G"
		if [ -n "$base" ]; then
			"$base" states -o "$tmp/stream0.txt" --attach "${BENCH_ATTACH:-multi}" -- \
				"$prog" -pingpong "$rounds" 2>>"$tmp/c0.err" | pp_ns >>"$tmp/c0"
			"$base" states -q -o "$tmp/summary0.txt" --attach "${BENCH_ATTACH:-multi}" -- \
				"$prog" -pingpong "$rounds" | pp_ns >>"$tmp/q0"
			"$base" states --aggregate -q -o "$tmp/agg0.txt" --attach "${BENCH_ATTACH:-multi}" -- \
				"$prog" -pingpong "$rounds" | pp_ns >>"$tmp/g0"
		fi
	done
	if ! grep -q ' -> ' "$tmp/stream.txt" 2>/dev/null; then
		echo "bench_states: gotrace states wrote no stream" >&2
		rm -rf "$tmp"
		return 1
	fi
	a=$(median <"$tmp/a"); b=$(median <"$tmp/b"); c=$(median <"$tmp/c"); q=$(median <"$tmp/q")
	hits=$(median <"$tmp/hits")
	if [ -z "$a" ] || [ -z "$b" ] || [ -z "$c" ] || [ -z "$q" ] || [ -z "$hits" ] ||
		[ "$hits" -eq 0 ]; then
		echo "bench_states: a run failed (a=$a b=$b c=$c q=$q hits=$hits)" >&2
		rm -rf "$tmp"
		return 1
	fi
	# Per-run ratios from runs taken back to back cancel slow drifts in
	# machine load; their median is the headline number.
	local ratio ratioq
	ratio=$(paste "$tmp/a" "$tmp/b" "$tmp/c" | awk '$2 > $1 { print ($3 - $1) / ($2 - $1) }' | median)
	ratioq=$(paste "$tmp/a" "$tmp/b" "$tmp/q" | awk '$2 > $1 { print ($3 - $1) / ($2 - $1) }' | median)
	# The spread of the per-run ratios (lowest, quartiles, highest): on a
	# noisy machine the medians of two invocations differ by ~0.05.
	spread() { paste "$tmp/a" "$tmp/b" "$tmp/$1" | awk '$2 > $1 { print ($3 - $1) / ($2 - $1) }' | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.2f [%.2f %.2f] %.2f", v[1], v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)], v[NR] }'; }
	awk -v a="$a" -v b="$b" -v c="$c" -v d="$q" -v h="$hits" -v r="$rounds" -v q="$ratio" -v qq="$ratioq" -v n="$runs" -v m="${BENCH_ATTACH:-multi}" 'BEGIN {
		printf "states: ping-pong %d rounds, %d casgstatus calls (%.1f per round), median of %d runs, attach %s\n", r, h, h / r, n, m
		printf "states: (a) plain          %8.1f ns/transition\n", a / h
		printf "states: (b) counting probe %8.1f ns/transition\n", b / h
		printf "states: (c) gotrace states %8.1f ns/transition (default: live text stream to a file + summary)\n", c / h
		printf "states: (q) ... -q         %8.1f ns/transition (no live stream, summary)\n", d / h
		printf "states: (c-a)/(b-a) = %.2f from the medians, %.2f median of per-run ratios (goal <= 1.2)\n", (c - a) / (b - a), q
		printf "states: (q-a)/(b-a) = %.2f from the medians, %.2f median of per-run ratios\n", (d - a) / (b - a), qq
	}'
	echo "states: per-run (c-a)/(b-a): min [quartiles] max $(spread c); with -q: $(spread q)"
	local g
	g=$(median <"$tmp/g")
	[ -n "$g" ] && awk -v a="$a" -v b="$b" -v g="$g" -v d="$q" -v h="$hits" 'BEGIN {
		printf "states: (g) --aggregate -q %8.1f ns/transition, (g-a)/(b-a) = %.2f, (g-a)/(q-a) = %.2f\n", g / h, (g - a) / (b - a), (g - a) / (d - a)
	}'
	echo "states: per-run (g-a)/(b-a): min [quartiles] max $(spread g)"
	local G
	G=$(median <"$tmp/G")
	[ -n "$G" ] && awk -v a="$a" -v b="$b" -v g="$G" -v d="$q" -v h="$hits" 'BEGIN {
		printf "states: (G) --aggregate --group -q %8.1f ns/transition, (G-a)/(b-a) = %.2f, (G-a)/(q-a) = %.2f\n", g / h, (g - a) / (b - a), (g - a) / (d - a)
	}'
	if [ -n "$base" ]; then
		local c0 q0
		c0=$(median <"$tmp/c0"); q0=$(median <"$tmp/q0")
		awk -v a="$a" -v b="$b" -v c="$c0" -v d="$q0" -v h="$hits" -v p="$base" 'BEGIN {
			printf "states: baseline %s, in the same runs:\n", p
			printf "states: (c0) baseline states %8.1f ns/transition, (c0-a)/(b-a) = %.2f\n", c / h, (c - a) / (b - a)
			printf "states: (q0) baseline -q     %8.1f ns/transition, (q0-a)/(b-a) = %.2f\n", d / h, (d - a) / (b - a)
		}'
		echo "states: per-run (c0-a)/(b-a): min [quartiles] max $(spread c0); with -q: $(spread q0)"
		local g0
		g0=$(median <"$tmp/g0")
		[ -n "$g0" ] && awk -v a="$a" -v b="$b" -v g="$g0" -v d="$q0" -v h="$hits" 'BEGIN {
			printf "states: (g0) baseline --aggregate -q %8.1f ns/transition, (g0-a)/(b-a) = %.2f, (g0-a)/(q0-a) = %.2f\n", g / h, (g - a) / (b - a), (g - a) / (d - a)
		}'
	fi

	# User-space replay of recorded events.
	"$prog" -n 200 -loop >/dev/null &
	local pid=$!
	sleep 0.3
	"$gotrace" states -q --no-summary -d 2s --raw "$tmp/events.raw" -p "$pid" >/dev/null
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "states: recorded $(($(stat -c %s "$tmp/events.raw") / 80)) events for replay"
	"$replay" -n 5000000 "$tmp/events.raw" | sed 's/^/states: replay /'
	"$replay" -n 5000000 -text "$tmp/events.raw" | sed 's/^/states: replay /'
	"$replay" -n 5000000 | sed 's/^/states: replay /'
	rm -rf "$tmp"
}
